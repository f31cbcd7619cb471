"""Land closed capture files in the landing bucket, exactly once, verified before the local copy may go.

Key: <prefix>sensor=<id>/date=YYYY-MM-DD/hour=HH/<sensor>_<YYYYmmddTHHMMSSZ>_<seq>.<ext> (time of the first
packet, else of the close). Per file:
  1. HEAD the key: the same sha256 already there -> nothing to do (a re-upload is idempotent); different
     content -> UploadConflict (the local file is kept, loudly).
  2. upload with a SHA256 checksum the store verifies (multipart above the threshold; s3transfer aborts a failed
     multipart upload, and sweep_incomplete_uploads() clears any an agent crash left behind).
  3. HEAD again: size and the sha256 metadata must match, else UploadFailed.
Transient errors are retried with exponential backoff and jitter; the caller deletes the spooled file only
after upload() returns.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from netqos.capture.model import CaptureFileMeta, SpoolEntry

log = logging.getLogger("netqos.capture")

MULTIPART_THRESHOLD = 64 << 20
MULTIPART_CHUNK = 16 << 20


class UploadConflict(RuntimeError):
    """The key already holds different content."""


class UploadFailed(RuntimeError):
    """The object could not be landed and verified after every retry."""


@dataclass(frozen=True)
class UploadResult:
    key: str
    status: str  # "uploaded" | "already_present"
    attempts: int
    seconds: float


def object_key(meta: CaptureFileMeta, prefix: str = "") -> str:
    ns = meta.first_ts_ns if meta.first_ts_ns is not None else meta.closed_ns
    if ns is None:
        raise ValueError(f"file seq {meta.seq} of {meta.sensor_id} has neither packets nor a close time")
    t = datetime.fromtimestamp(ns / 1e9, UTC)
    return (
        f"{prefix}sensor={meta.sensor_id}/date={t:%Y-%m-%d}/hour={t:%H}/"
        f"{meta.sensor_id}_{t:%Y%m%dT%H%M%SZ}_{meta.seq:06d}.{meta.extension}"
    )


def object_metadata(meta: CaptureFileMeta) -> dict[str, str]:
    """S3 user metadata (x-amz-meta-*): facts about the capture; never credentials or local paths."""
    return {
        "sha256": meta.sha256,
        "sensor": meta.sensor_id,
        "seq": str(meta.seq),
        "packets": str(meta.packets),
        "first-ts-ns": "" if meta.first_ts_ns is None else str(meta.first_ts_ns),
        "last-ts-ns": "" if meta.last_ts_ns is None else str(meta.last_ts_ns),
        "link-types": ",".join(str(x) for x in meta.link_types),
        "capture-host": meta.capture_host,
        "agent-version": meta.agent_version,
        "backend": meta.backend,
        "ps-recv": str(meta.drops.received),
        "ps-drop": str(meta.drops.dropped),
        "ps-ifdrop": str(meta.drops.if_dropped),
        "recovered": "true" if meta.recovered else "false",
    }


def _transient(exc: Exception) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return status >= 500 or code in ("SlowDown", "RequestTimeout", "ServiceUnavailable", "InternalError")
    return isinstance(exc, BotoCoreError | OSError)


class Landing:
    """Uploads to `bucket` with a boto3 client (netqos.storage.s3.s3_client)."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        *,
        retries: int = 8,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix
        self.retries, self.backoff_s, self.max_backoff_s, self.sleep = retries, backoff_s, max_backoff_s, sleep

    def head(self, key: str) -> Mapping[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            head: Mapping[str, Any] = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return None
            raise
        return head

    def _matches(self, head: Mapping[str, Any], meta: CaptureFileMeta) -> bool:
        return head.get("Metadata", {}).get("sha256") == meta.sha256 and head.get("ContentLength") == meta.size

    def _put(self, entry: SpoolEntry, key: str) -> None:
        from boto3.s3.transfer import TransferConfig

        meta = entry.meta
        if meta.size < MULTIPART_THRESHOLD:
            # One request; the store recomputes the SHA256 we send and rejects a corrupted body.
            digest = base64.b64encode(bytes.fromhex(meta.sha256)).decode()
            with open(entry.path, "rb") as body:
                self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=body, Metadata=object_metadata(meta),
                    ChecksumAlgorithm="SHA256", ChecksumSHA256=digest,
                    ContentType="application/vnd.tcpdump.pcap",
                )  # fmt: skip
            return
        config = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_CHUNK)
        self.client.upload_file(
            str(entry.path), self.bucket, key, Config=config,
            ExtraArgs={"Metadata": object_metadata(meta), "ChecksumAlgorithm": "SHA256",
                       "ContentType": "application/vnd.tcpdump.pcap"},
        )  # fmt: skip

    def upload(self, entry: SpoolEntry, key: str | None = None) -> UploadResult:
        """Land `entry` (idempotent); raises UploadConflict or UploadFailed. Safe to delete the file after."""
        key = key or object_key(entry.meta, self.prefix)
        started = time.monotonic()
        last: Exception | None = None
        for attempt in range(1, self.retries + 2):
            try:
                existing = self.head(key)
                if existing is not None:
                    if self._matches(existing, entry.meta):
                        status = "already_present" if attempt == 1 else "uploaded"
                        return UploadResult(key, status, attempt, time.monotonic() - started)
                    raise UploadConflict(
                        f"s3://{self.bucket}/{key} holds other content (sha256 "
                        f"{existing.get('Metadata', {}).get('sha256')}, {existing.get('ContentLength')} bytes) than "
                        f"{entry.path.name} (sha256 {entry.meta.sha256}); keeping the local file"
                    )
                self._put(entry, key)
                landed = self.head(key)
                if landed is None or not self._matches(landed, entry.meta):
                    raise UploadFailed(f"s3://{self.bucket}/{key}: verification after upload failed")
                return UploadResult(key, "uploaded", attempt, time.monotonic() - started)
            except UploadConflict:
                raise
            except Exception as exc:  # classified below; anything else is re-raised
                if not (_transient(exc) or isinstance(exc, UploadFailed)):
                    raise
                last = exc
                delay = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1)) * (0.5 + random.random())
                log.warning("upload of %s failed (attempt %d): %s; retrying in %.1fs", key, attempt, exc, delay)
                self.sleep(delay)
        raise UploadFailed(f"s3://{self.bucket}/{key}: gave up after {self.retries + 1} attempts: {last}")

    def sweep_incomplete_uploads(self, older_than: timedelta = timedelta(hours=1)) -> int:
        """Abort multipart uploads under our prefix started before `older_than` ago (a crashed agent's leftovers)."""
        cutoff = datetime.now(UTC) - older_than
        aborted = 0
        paginator = self.client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for up in page.get("Uploads", []):
                if up["Initiated"] < cutoff:
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=up["Key"], UploadId=up["UploadId"])
                    aborted += 1
        return aborted

    def ensure_bucket(self) -> None:
        """Create the bucket if missing, with a rule that aborts incomplete multipart uploads after a day."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)
        try:
            self.client.put_bucket_lifecycle_configuration(
                Bucket=self.bucket,
                LifecycleConfiguration={
                    "Rules": [
                        {
                            "ID": "netqos-abort-incomplete-multipart",
                            "Status": "Enabled",
                            "Filter": {"Prefix": self.prefix},
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                        }
                    ]
                },
            )
        except ClientError as exc:  # a sensor's put-only role may not manage the bucket: the sweep still runs
            log.info("could not set the multipart lifecycle rule on %s: %s", self.bucket, exc)


def land_existing(landing: Landing, entry: SpoolEntry, max_seq: int = 1000) -> UploadResult:
    """`netqos upload` of a file the agent did not spool: no sequence number of its own, so try seq 0, 1, ... of
    its first-packet second: the same content there = already landed; a free key = land it there."""
    for seq in range(max_seq):
        meta = dataclasses.replace(entry.meta, seq=seq)
        try:
            return landing.upload(SpoolEntry(entry.path, meta), object_key(meta, landing.prefix))
        except UploadConflict:
            continue
    raise UploadFailed(f"{entry.path}: {max_seq} files of {entry.meta.sensor_id} start in the same second")
