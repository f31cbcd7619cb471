"""Agent health: a heartbeat object per sensor in the landing bucket, and a Prometheus text file beside the spool.

Heartbeat key: <prefix>_health/sensor=<id>.json. `netqos status` reads all of them.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HEALTH_DIR = "_health/"


@dataclass
class Health:
    sensor_id: str
    capture_host: str
    agent_version: str
    backend: str
    started_at: float
    updated_at: float = 0.0
    packets_captured: int = 0  # packets in files the agent finalized
    files_finalized: int = 0
    files_uploaded: int = 0
    files_pending: int = 0
    bytes_pending: int = 0
    upload_lag_s: float = 0.0  # age of the oldest file still waiting for upload
    kernel_received: int = 0
    kernel_dropped: int = 0  # ps_drop, cumulative since the capture started
    kernel_if_dropped: int = 0  # ps_ifdrop
    evicted_files: int = 0  # spool quota evictions (data lost, counted)
    evicted_bytes: int = 0
    upload_failures: int = 0
    last_error: str | None = None
    last_error_at: float | None = None

    def error(self, message: str) -> None:
        self.last_error, self.last_error_at = message, time.time()

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def prometheus(self) -> str:
        labels = f'sensor="{self.sensor_id}",host="{self.capture_host}"'
        metrics = {
            "netqos_capture_packets_total": self.packets_captured,
            "netqos_capture_files_finalized_total": self.files_finalized,
            "netqos_capture_files_uploaded_total": self.files_uploaded,
            "netqos_capture_files_pending": self.files_pending,
            "netqos_capture_bytes_pending": self.bytes_pending,
            "netqos_capture_upload_lag_seconds": self.upload_lag_s,
            "netqos_capture_kernel_dropped_total": self.kernel_dropped,
            "netqos_capture_kernel_if_dropped_total": self.kernel_if_dropped,
            "netqos_capture_spool_evicted_files_total": self.evicted_files,
            "netqos_capture_upload_failures_total": self.upload_failures,
            "netqos_capture_heartbeat_timestamp_seconds": self.updated_at,
        }
        return "".join(f"{name}{{{labels}}} {value}\n" for name, value in metrics.items())


def health_key(prefix: str, sensor_id: str) -> str:
    return f"{prefix}{HEALTH_DIR}sensor={sensor_id}.json"


def write_textfile(path: Path, text: str) -> None:
    """Atomic replace, so a scraper never reads half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def publish(client: Any, bucket: str, prefix: str, health: Health) -> None:
    client.put_object(
        Bucket=bucket, Key=health_key(prefix, health.sensor_id), Body=health.to_json().encode(),
        ContentType="application/json",
    )  # fmt: skip


def read_all(client: Any, bucket: str, prefix: str = "") -> list[dict[str, Any]]:
    """Every sensor's last heartbeat in the bucket."""
    out = []
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix + HEALTH_DIR):
        for obj in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            out.append(json.loads(body))
    return sorted(out, key=lambda h: h["sensor_id"])
