"""infra/observability: the Grafana dashboards parse, every PromQL expression names only metrics the code exports
(with labels those metrics have), each datasource is the provisioned one, and Prometheus scrapes what the
deployment docs promise."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prom_samples import samples
from prometheus_client import generate_latest

from netqos.capture.health import Health
from netqos.observability.capture_metrics import capture_registry
from netqos.observability.metrics import QOS_KPI_METRICS, JobMetrics, KpiRow
from netqos.settings import PROJECT_ROOT

INFRA = PROJECT_ROOT / "infra" / "observability"
DASHBOARDS = sorted((INFRA / "grafana" / "dashboards").glob("*.json"))
METRIC = re.compile(r"\bnetqos_[a-z0-9_]+")
# label names in `by (...)` / `without (...)` and in selectors `{name=~"..."}`
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*\"")


def exported() -> dict[str, set[str]]:
    """Sample name -> label names, from fully populated registries (the names a scrape really shows)."""
    jobs = JobMetrics("ingest")
    jobs.rows("packets", 1)
    jobs.files({"ingested": 1})
    jobs.validation("packets", 1, 1)
    jobs.qos_kpis([KpiRow("s", "all", "all", 1.0, dict.fromkeys(QOS_KPI_METRICS, 1.0))])
    jobs.finish(duration_s=1, ended_at=2, success=True, last_success=None)
    agent = capture_registry(Health("s", "h", "0", "dumpcap", started_at=0.0), 1)
    out: dict[str, set[str]] = {}
    for registry in (jobs.registry, agent):
        for (name, labels), _ in samples(generate_latest(registry).decode()).items():
            out.setdefault(name, set()).update(dict(labels))
    return out


def expressions(doc: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in doc["panels"] for t in p.get("targets", [])]
    for var in doc["templating"]["list"]:
        if var["type"] == "query":
            query = var["query"]
            exprs.append(query["query"] if isinstance(query, dict) else query)
    return exprs


def test_there_are_the_two_dashboards() -> None:
    assert [p.name for p in DASHBOARDS] == ["netqos-pipeline.json", "netqos-qos.json"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_promql_names_only_exported_metrics_and_labels(path: Path) -> None:
    doc = json.loads(path.read_text())
    assert doc["schemaVersion"] >= 39 and doc["uid"] == path.stem
    known = exported()
    for expr in expressions(doc):
        names = set(METRIC.findall(expr))
        assert names, f"{path.name}: {expr!r} reads no netqos metric"
        unknown = names - set(known)
        assert not unknown, f"{path.name}: {expr!r} reads metrics nothing exports: {sorted(unknown)}"
        labels = set().union(*(known[n] for n in names))
        used = {x.strip() for group in GROUPING.findall(expr) for x in group.split(",") if x.strip()}
        used |= set(MATCHER.findall(expr))
        assert used <= labels, f"{path.name}: {expr!r} uses labels {sorted(used - labels)} its metrics lack"


def test_dashboards_cover_the_pipeline_and_the_kpis() -> None:
    read = {n for p in DASHBOARDS for e in expressions(json.loads(p.read_text())) for n in METRIC.findall(e)}
    for wanted in (
        "netqos_capture_files_landed_total", "netqos_capture_upload_lag_seconds", "netqos_capture_kernel_dropped_total",
        "netqos_capture_spool_bytes", "netqos_job_rows_written", "netqos_job_files_quarantined",
        "netqos_job_validation_failures", "netqos_job_duration_seconds", "netqos_job_last_success_timestamp_seconds",
        *(m for m in QOS_KPI_METRICS.values() if m != "netqos_qos_window_packets"),
    ):  # fmt: skip
        assert wanted in read


def provisioned_uids() -> set[str]:
    folder = INFRA / "grafana" / "provisioning" / "datasources"
    return {ds["uid"] for f in folder.glob("*.yaml") for ds in yaml.safe_load(f.read_text())["datasources"]}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_datasource_is_the_provisioned_one(path: Path) -> None:
    doc = json.loads(path.read_text())
    [var] = [v for v in doc["templating"]["list"] if v["type"] == "datasource"]
    assert var["name"] == "DS_PROMETHEUS" and var["current"]["value"] in provisioned_uids()
    refs = [p["datasource"] for p in doc["panels"] if "datasource" in p]
    refs += [t["datasource"] for p in doc["panels"] for t in p.get("targets", [])]
    refs += [v["datasource"] for v in doc["templating"]["list"] if v["type"] == "query"]
    assert refs and all(r == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"} for r in refs)
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))


def test_dashboard_provider_and_prometheus_scrapes() -> None:
    [provider] = yaml.safe_load((INFRA / "grafana/provisioning/dashboards/netqos.yaml").read_text())["providers"]
    assert provider["type"] == "file"
    compose = PROJECT_ROOT / "docker" / "compose.yaml"
    if compose.is_file():  # where the deployment mounts the dashboards folder is where the provider looks
        volumes = yaml.safe_load(compose.read_text())["services"]["grafana"]["volumes"]
        mounts = {v.split(":")[0]: v.split(":")[1] for v in volumes}
        assert mounts["../infra/observability/grafana/dashboards"] == provider["options"]["path"]
    config = yaml.safe_load((INFRA / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert jobs["netqos-pushgateway"]["honor_labels"] is True  # the pushed job/sensor labels survive
    assert "netqos-capture-agent" in jobs
    interval = yaml.safe_load((INFRA / "grafana/provisioning/datasources/prometheus.yaml").read_text())
    assert interval["datasources"][0]["jsonData"]["timeInterval"] == config["global"]["scrape_interval"]
