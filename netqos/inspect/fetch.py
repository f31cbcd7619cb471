"""Fetch the raw captures behind lake rows from the landing zone and prove they are the ones that were ingested.

`ingest_ledger` maps a content hash to every path it was seen under (a local path or an s3:// URI). Local files
are read in place; S3 objects are downloaded once into `<settings.home>/inspect/captures/<sha256><suffix>`.
Either way the sha256 of the bytes must equal the ledger's, so a missing, replaced or damaged file is an error
that names it, never a silently wrong cut.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from netqos.capture.filemeta import sha256_file
from netqos.settings import Settings
from netqos.storage.s3 import is_s3_uri, split_uri

HASH_CHUNK = 1 << 20


class CaptureUnavailable(RuntimeError):
    """No landing-zone copy of a capture has the content the lake was built from."""


def cache_dir(settings: Settings) -> Path:
    return settings.home / "inspect" / "captures"


def _suffix(uri: str) -> str:
    suffix = PurePosixPath(split_uri(uri)[1]).suffix
    return suffix if suffix in (".pcap", ".pcapng", ".cap") else ".pcap"


def _local(path: str, sha256: str) -> tuple[Path | None, str]:
    file = Path(path)
    if not file.is_file():
        return None, "missing"
    actual = sha256_file(file)
    if actual != sha256:
        return None, f"changed since ingest (sha256 now {actual})"
    return file, ""


def _from_s3(uri: str, sha256: str, settings: Settings, client: Any) -> tuple[Path | None, str]:
    target = cache_dir(settings) / f"{sha256}{_suffix(uri)}"
    if target.is_file() and sha256_file(target) == sha256:
        return target, ""
    target.parent.mkdir(parents=True, exist_ok=True)
    bucket, key = split_uri(uri)
    part = target.with_name(f"{target.name}.{os.getpid()}.part")
    try:
        digest = hashlib.sha256()
        with open(part, "wb") as f:
            body = client.get_object(Bucket=bucket, Key=key)["Body"]
            for chunk in body.iter_chunks(HASH_CHUNK):
                digest.update(chunk)
                f.write(chunk)
        if digest.hexdigest() != sha256:
            return None, f"changed since ingest (sha256 now {digest.hexdigest()})"
        part.replace(target)  # atomic: a concurrent inspect sees the whole verified file or none
        return target, ""
    except Exception as exc:  # botocore ClientError (NoSuchKey, AccessDenied), connection errors
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        return None, "missing" if code in ("NoSuchKey", "404", "NoSuchBucket") else f"{type(exc).__name__}: {exc}"
    finally:
        part.unlink(missing_ok=True)


def fetch_capture(sha256: str, paths: Sequence[str], settings: Settings, s3_client: Callable[[], Any]) -> Path:
    """A local file whose content is `sha256`: the first of `paths` (local ones first) that still holds it.
    `s3_client()` is called only when an s3:// path is tried."""
    if not paths:
        raise CaptureUnavailable(f"capture {sha256}: no ingested path in ingest_ledger")
    reasons = []
    for path in sorted(paths, key=is_s3_uri):
        found, reason = _from_s3(path, sha256, settings, s3_client()) if is_s3_uri(path) else _local(path, sha256)
        if found is not None:
            return found
        reasons.append(f"{path}: {reason}")
    raise CaptureUnavailable(f"capture {sha256} cannot be fetched: " + "; ".join(reasons))
