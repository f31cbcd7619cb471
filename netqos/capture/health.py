"""Agent health: a heartbeat object per sensor in the landing bucket; the agent's metrics are read from it
(netqos.observability.capture_metrics: <spool>/metrics.prom and the optional /metrics endpoint).

Heartbeat key: <prefix>_health/sensor=<id>.json. `netqos status` reads all of them.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
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
    bytes_uploaded: int = 0
    files_pending: int = 0
    bytes_pending: int = 0
    upload_lag_s: float = 0.0  # age of the oldest file still waiting for upload
    landed_lag_s: float = 0.0  # the last landed file: landing time - its last packet (or close) time
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


def health_key(prefix: str, sensor_id: str) -> str:
    return f"{prefix}{HEALTH_DIR}sensor={sensor_id}.json"


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
