"""FeatureConfig: how packets become per-packet features, flows and QoS windows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from netqos.flows.config import FlowConfig

# Service classes by well-known port (the flow's responder port, else its initiator port). Order = precedence.
DEFAULT_SERVICE_PORTS: Mapping[str, tuple[int, ...]] = {
    "dns": (53, 853, 5353, 5355),
    "web": (80, 443, 8000, 8008, 8080, 8443),
    "voip": (3478, 5004, 5005, 5060, 5061),
    "mail": (25, 110, 143, 465, 587, 993, 995),
    "remote": (22, 23, 3389, 5900),
    "file": (20, 21, 69, 139, 445, 873, 2049),
    "network": (67, 68, 123, 161, 162, 514, 546, 547, 1812, 1813),
    "database": (1433, 1521, 3306, 5432, 6379, 9042, 27017),
}

# Windows must tile an hour so that hour-sized batches (the Spark job's unit) hold whole windows.
_HOUR = 3600


@dataclass(frozen=True)
class FeatureConfig:
    """flow: flow cutting (FlowConfig). window_seconds: QoS window lengths, each dividing 3600.
    service_ports: service class name -> ports. plugins: names of `netqos.features` entry points to run."""

    flow: FlowConfig = field(default_factory=FlowConfig)
    window_seconds: tuple[int, ...] = (10, 60)
    service_ports: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: dict(DEFAULT_SERVICE_PORTS))
    plugins: tuple[str, ...] = ()
    bytes_in_flight: bool = True  # tcp_bytes_in_flight is the one analysis column whose cost grows with the window

    def __post_init__(self) -> None:
        if not self.window_seconds:
            raise ValueError("window_seconds must list at least one window length, e.g. (10, 60)")
        for w in self.window_seconds:
            if isinstance(w, bool) or not isinstance(w, int) or w <= 0 or _HOUR % w:
                raise ValueError(
                    f"window length {w!r} must be a whole number of seconds that divides 3600 (10, 60, 300)"
                )
        reserved = {"all", "other", "icmp", "l2"}
        for name, ports in self.service_ports.items():
            if name in reserved:
                raise ValueError(f"service class name {name!r} is reserved ({sorted(reserved)})")
            bad = [p for p in ports if not 0 <= p <= 65535]
            if bad:
                raise ValueError(f"service class {name!r}: ports {bad} are outside 0..65535")
