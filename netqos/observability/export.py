"""Where a registry's metrics go: a textfile (atomic), a Pushgateway, or an HTTP /metrics endpoint."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest, pushadd_to_gateway, start_http_server
from prometheus_client.parser import text_string_to_metric_families

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from netqos.settings import Settings

log = logging.getLogger("netqos.observability")


def textfile_path(settings: Settings, job: str) -> Path:
    folder = settings.observability.metrics_dir or settings.home / "metrics"
    return folder / f"{job}.prom"


def write_textfile(registry: CollectorRegistry, path: Path) -> None:
    """Replace `path` atomically, so a scraper (node_exporter's textfile collector) never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(generate_latest(registry))
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from a node_exporter running as another user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_sample(path: Path, name: str, labels: dict[str, str]) -> float | None:
    """One sample's value in a textfile written earlier (None: no file, unreadable, or no such sample)."""
    try:
        text = path.read_text()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return float(sample.value)
    except (OSError, ValueError):
        return None
    return None


def push(registry: CollectorRegistry, settings: Settings, job: str) -> None:
    """POST (pushadd): replaces only the metric names pushed now, so a failed run that has no
    last-success sample keeps the one the last successful run pushed."""
    cfg = settings.observability
    assert cfg.pushgateway_url is not None
    pushadd_to_gateway(
        cfg.pushgateway_url,
        job=f"netqos_{job}",
        registry=registry,
        grouping_key={"sensor": settings.sensor_id},
        timeout=cfg.push_timeout_s,
    )


def export_job(registry: CollectorRegistry, settings: Settings, job: str) -> list[str]:
    """Textfile and/or Pushgateway as configured; returns where the metrics went. Never raises: a monitoring
    outage must not fail the job whose data already landed."""
    cfg, done = settings.observability, []
    if cfg.textfile:
        path = textfile_path(settings, job)
        try:
            write_textfile(registry, path)
            done.append(str(path))
        except OSError as exc:
            log.warning("job metrics not written to %s: %s", path, exc)
    if cfg.pushgateway_url:
        try:
            push(registry, settings, job)
            done.append(cfg.pushgateway_url)
        except Exception as exc:  # URLError, HTTP 5xx, timeouts: all only cost this run's metrics
            log.warning("job metrics not pushed to %s: %s", cfg.pushgateway_url, exc)
    return done


def serve(registry: CollectorRegistry, settings: Settings) -> WSGIServer | None:
    """Start the /metrics endpoint when observability.agent_port is set (a daemon thread); None when off."""
    cfg = settings.observability
    if cfg.agent_port is None:
        return None
    server, _ = start_http_server(cfg.agent_port, addr=cfg.agent_addr, registry=registry)
    log.info("metrics on http://%s:%d/metrics", cfg.agent_addr, cfg.agent_port)
    return server
