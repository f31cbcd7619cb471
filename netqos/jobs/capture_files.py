"""What the ingest job learns about a capture file in the driver before any Spark work: size, mtime, sha256, format.

The sha256 is computed here, streaming, because it decides whether the file is read at all (already ingested,
changed content) and every row of the file is keyed by it. Hashing costs one sequential read of the file; the
files are hashed in a thread pool (hashlib releases the GIL), which keeps a disk or page cache busy.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

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


def inspect_files(paths: Sequence[str], max_workers: int | None = None) -> list[CaptureFile]:
    """inspect_file for each path, in parallel, in the order given."""
    workers = max_workers or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(inspect_file, paths))
