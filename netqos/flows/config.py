"""FlowConfig: the knobs of build_flows(), validated on construction with actionable messages."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class FlowConfig:
    """How packets are cut into flows.

    idle_timeout: seconds without a packet after which the flow ends (the next packet starts a new flow).
    active_timeout: seconds after the first packet after which the flow ends, even if busy.
    tcp_close: end TCP flows at RST, or once both sides sent FIN; a later SYN (without ACK) starts a new flow.
    vlan_aware: the VLAN ids are part of the flow key.
    sensor_id: sensor name for rows without a `sensor_id` column.
    """

    idle_timeout: float = 120.0
    active_timeout: float = 1800.0
    tcp_close: bool = True
    vlan_aware: bool = True
    sensor_id: str = "local"
    per_file: bool = True

    def __post_init__(self) -> None:
        for name in ("idle_timeout", "active_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__} {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if self.active_timeout < self.idle_timeout:
            raise ValueError(
                f"active_timeout ({self.active_timeout} s) must be >= idle_timeout ({self.idle_timeout} s); "
                "raise active_timeout or lower idle_timeout"
            )
        if not isinstance(self.sensor_id, str) or not self.sensor_id:
            raise ValueError("sensor_id must be a non-empty string, e.g. FlowConfig(sensor_id='edge-1')")

    @property
    def idle_ns(self) -> int:
        return round(self.idle_timeout * 1e9)

    @property
    def active_ns(self) -> int:
        return round(self.active_timeout * 1e9)
