"""Capture objects in S3: list them, learn their sha256, and read them through a local temporary copy.

The decoder reads files; an object is downloaded (streamed, multipart for big ones) into a temporary file next
to the worker and deleted after decoding, so memory stays bounded by the decoder's chunk size.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from netqos.capture.health import HEALTH_DIR
from netqos.storage.s3 import split_uri

# Names that are captures (the `pcap` data source expands directories with the same list).
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")


@dataclass(frozen=True)
class ObjectInfo:
    uri: str
    size: int
    mtime: datetime


def list_captures(client: Any, uri: str) -> list[ObjectInfo]:
    """Capture objects at `uri`: the object itself, or every capture under it as a prefix (health files skipped)."""
    bucket, key = split_uri(uri)
    found: list[ObjectInfo] = []
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=key):
        for obj in page.get("Contents", []):
            k = obj["Key"]
            exact = k == key
            under = key == "" or key.endswith("/") or k.startswith(key.rstrip("/") + "/")
            if (exact or under) and (exact or k.lower().endswith(CAPTURE_SUFFIXES)) and HEALTH_DIR not in k:
                found.append(ObjectInfo(f"s3://{bucket}/{k}", int(obj["Size"]), obj["LastModified"]))
    if not found:
        raise FileNotFoundError(f"no capture objects at {uri}")
    return sorted(found, key=lambda o: o.uri)


def object_sha256(client: Any, uri: str) -> str:
    """The sha256 the uploader verified (metadata `sha256`), else computed by streaming the object once."""
    bucket, key = split_uri(uri)
    head = client.head_object(Bucket=bucket, Key=key)
    known = head.get("Metadata", {}).get("sha256")
    if known:
        return str(known)
    digest = hashlib.sha256()
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    for chunk in iter(lambda: body.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def read_head(client: Any, uri: str, nbytes: int) -> bytes:
    bucket, key = split_uri(uri)
    data: bytes = client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{nbytes - 1}")["Body"].read()
    return data


@contextmanager
def local_copy(client: Any, uri: str, tmp_dir: str | None = None) -> Iterator[str]:
    """A temporary local file with the object's bytes, removed on exit."""
    bucket, key = split_uri(uri)
    suffix = os.path.splitext(key)[1]
    fd, path = tempfile.mkstemp(prefix="netqos-", suffix=suffix, dir=tmp_dir)
    os.close(fd)
    try:
        client.download_file(bucket, key, path)
        yield path
    finally:
        os.unlink(path)
