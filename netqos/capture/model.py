"""Types shared by the capture backends, the spool and the uploader."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class DropCounters:
    """Cumulative kernel counters since the capture started (libpcap's pcap_stats)."""

    received: int = 0  # ps_recv
    dropped: int = 0  # ps_drop: no room in the kernel buffer
    if_dropped: int = 0  # ps_ifdrop: dropped by the interface / driver

    def since(self, earlier: DropCounters) -> DropCounters:
        return DropCounters(
            self.received - earlier.received, self.dropped - earlier.dropped, self.if_dropped - earlier.if_dropped
        )


@dataclass(frozen=True)
class CaptureFileMeta:
    """What the agent knows about one closed capture file; travels as S3 object metadata and a spool sidecar."""

    sensor_id: str
    seq: int  # per-sensor sequence number, increasing across agent restarts
    sha256: str
    size: int
    format: str  # "pcap" | "pcapng"
    packets: int
    first_ts_ns: int | None  # None for a file without packets
    last_ts_ns: int | None
    link_types: list[int]
    capture_host: str
    agent_version: str
    backend: str
    drops: DropCounters = field(default_factory=DropCounters)  # for this file's span (delta of cumulative)
    recovered: bool = False  # finalized after a crash: the tail may be cut (the decoder stops cleanly there)
    decode_error: str | None = None  # the decoder's message when the file ends early
    closed_ns: int | None = None  # when the agent saw the file closed (names and dates a file without packets)

    @property
    def extension(self) -> str:
        return "pcapng" if self.format == "pcapng" else "pcap"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CaptureFileMeta:
        data: dict[str, Any] = json.loads(text)
        data["drops"] = DropCounters(**data.get("drops", {}))
        return cls(**data)


@dataclass(frozen=True)
class SpoolEntry:
    """A finalized file in spool/ready/ and its metadata sidecar (<file>.json)."""

    path: Path
    meta: CaptureFileMeta

    @property
    def sidecar(self) -> Path:
        return self.path.with_name(self.path.name + ".json")
