"""What the ingest job learns about a capture file in the driver before any Spark work: size, mtime, sha256, format.

The sha256 is computed here, streaming, because it decides whether the file is read at all (already ingested,
changed content) and every row of the file is keyed by it. Hashing costs one sequential read of the file; the
files are hashed in a thread pool (hashlib releases the GIL), which keeps a disk or page cache busy.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# A format probe only needs the file header; the decoder's minimum chunk is enough.
_PROBE_CHUNK_BYTES = 1 << 16


@dataclass(frozen=True)
class CaptureFile:
    path: str
    size: int
    mtime: datetime
    sha256: str
    format: str | None  # "pcap" | "pcapng"; None when the decoder cannot open the file
    error: str | None  # the decoder's CaptureFormatError message when it cannot


def sha256_file(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def probe_format(path: str) -> tuple[str | None, str | None]:
    """(format, None) when the decoder can open the file, else (None, reason)."""
    from netqos.decode import CaptureFormatError, open_capture

    try:
        with open_capture(path, chunk_bytes=_PROBE_CHUNK_BYTES) as reader:
            return reader.format, None
    except CaptureFormatError as exc:
        return None, str(exc)


def inspect_object(uri: str, s3: Any) -> CaptureFile:
    """inspect_file for an s3:// object: size and time from the listing, sha256 from the uploader's verified
    metadata (else streamed), format from the first bytes."""
    from netqos.decode import CaptureFormatError, open_capture
    from netqos.storage.objects import object_sha256, read_head
    from netqos.storage.s3 import split_uri

    bucket, key = split_uri(uri)
    head = s3.head_object(Bucket=bucket, Key=key)
    fmt: str | None = None
    error: str | None = None
    try:
        with open_capture(io.BytesIO(read_head(s3, uri, _PROBE_CHUNK_BYTES)), chunk_bytes=_PROBE_CHUNK_BYTES) as r:
            fmt = r.format
    except CaptureFormatError as exc:
        error = str(exc)
    return CaptureFile(
        path=uri,
        size=int(head["ContentLength"]),
        mtime=head["LastModified"].astimezone(UTC),
        sha256=object_sha256(s3, uri),
        format=fmt,
        error=error,
    )


def inspect_file(path: str) -> CaptureFile:
    st = os.stat(path)
    fmt, error = probe_format(path)
    return CaptureFile(
        path=path,
        size=st.st_size,
        mtime=datetime.fromtimestamp(st.st_mtime, UTC),
        sha256=sha256_file(path),
        format=fmt,
        error=error,
    )


def inspect_files(paths: Sequence[str], max_workers: int | None = None, s3: Any = None) -> list[CaptureFile]:
    """inspect_file (inspect_object for s3:// URIs) for each path, in parallel, in the order given."""
    from netqos.storage.s3 import is_s3_uri

    if s3 is None and any(is_s3_uri(p) for p in paths):
        from netqos.settings import Settings
        from netqos.storage.s3 import s3_client

        s3 = s3_client(Settings().s3)

    def inspect(path: str) -> CaptureFile:
        return inspect_object(path, s3) if is_s3_uri(path) else inspect_file(path)

    workers = max_workers or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(inspect, paths))
