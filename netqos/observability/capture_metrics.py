"""The capture agent's metrics, read from its Health object at each scrape or textfile write (no second set of
counters to keep in step): files and bytes landed, landing lag, kernel drops, spool use, upload failures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from netqos.capture.health import Health

LABELS = ("sensor", "host")

# Health field -> (metric name, help). Counters are exposed with the _total suffix.
COUNTERS = {
    "packets_captured": ("netqos_capture_packets", "Packets in files the agent finalized"),
    "files_finalized": ("netqos_capture_files_finalized", "Capture files closed and spooled"),
    "files_uploaded": ("netqos_capture_files_landed", "Capture files landed in the bucket"),
    "bytes_uploaded": ("netqos_capture_bytes_landed", "Bytes of capture files landed in the bucket"),
    "kernel_received": ("netqos_capture_kernel_received", "Packets the kernel handed to the capture (ps_recv)"),
    "kernel_dropped": ("netqos_capture_kernel_dropped", "Packets dropped for lack of buffer (ps_drop)"),
    "kernel_if_dropped": ("netqos_capture_kernel_if_dropped", "Packets dropped by the interface (ps_ifdrop)"),
    "evicted_files": ("netqos_capture_spool_evicted_files", "Files evicted by the spool quota (data lost)"),
    "evicted_bytes": ("netqos_capture_spool_evicted_bytes", "Bytes evicted by the spool quota (data lost)"),
    "upload_failures": ("netqos_capture_upload_failures", "Failed upload attempts (the file is retried)"),
}
GAUGES = {
    "files_pending": ("netqos_capture_files_pending", "Spooled files waiting for upload"),
    "bytes_pending": ("netqos_capture_spool_bytes", "Bytes of spooled files waiting for upload"),
    "upload_lag_s": ("netqos_capture_upload_lag_seconds", "Age of the oldest file waiting for upload"),
    "landed_lag_s": (
        "netqos_capture_landed_lag_seconds", "Last landed file: landing time minus its last packet's time",
    ),
    "updated_at": ("netqos_capture_heartbeat_timestamp_seconds", "When the agent last refreshed these numbers"),
}  # fmt: skip


class HealthCollector(Collector):
    def __init__(self, health: Health, spool_quota_bytes: int) -> None:
        self.health = health
        self.quota = spool_quota_bytes

    def collect(self) -> Iterator[Metric]:
        h = self.health
        values = (h.sensor_id, h.capture_host)
        for field, (name, doc) in COUNTERS.items():
            counter = CounterMetricFamily(name, doc, labels=LABELS)
            counter.add_metric(values, getattr(h, field))
            yield counter
        for field, (name, doc) in GAUGES.items():
            gauge = GaugeMetricFamily(name, doc, labels=LABELS)
            gauge.add_metric(values, getattr(h, field))
            yield gauge
        quota = GaugeMetricFamily("netqos_capture_spool_quota_bytes", "The spool's size limit", labels=LABELS)
        quota.add_metric(values, self.quota)
        yield quota


def capture_registry(health: Health, spool_quota_bytes: int) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(HealthCollector(health, spool_quota_bytes))
    return registry
