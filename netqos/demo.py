"""The demo: ingest the sample captures into Delta, read them back with Spark SQL, print summaries.

python -m netqos.demo     # Settings(): captures from settings.sample_dir, tables in settings.lake
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from netqos.decode.linktypes import IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, LINKTYPE_NAMES
from netqos.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from netqos.jobs.parse_pcaps import IngestReport

# The protocols the demo names; any other IP protocol is 'other', a row without an IP layer 'non-ip'.
DEMO_PROTOCOLS = {IPPROTO_TCP: "tcp", IPPROTO_UDP: "udp", IPPROTO_ICMP: "icmp", IPPROTO_ICMPV6: "icmpv6"}


@dataclass(frozen=True)
class DemoSummary:
    report: IngestReport
    per_file: list[tuple[str, str, str | None, int | None]]  # (file name, status, format, packets)
    per_link_type: list[tuple[int, str, int]]  # (link_type, name, packets)
    per_protocol: list[tuple[str, int]]  # (protocol, packets)
    top_flows: list[tuple[object, ...]]  # TOP_FLOWS_COLUMNS, by bytes
    qos_by_service: list[tuple[object, ...]]  # QOS_COLUMNS, per service class over the 60 s windows
    seconds: float


TOP_FLOWS_COLUMNS = ("initiator", "responder", "proto", "packets", "bytes", "seconds", "retrans", "rtt_p95_ms")
_TOP_FLOWS_SQL = (
    "concat(src_addr, coalesce(concat(':', src_port), '')) AS initiator, "
    "concat(dst_addr, coalesce(concat(':', dst_port), '')) AS responder, "
    "CASE WHEN protocol IS NULL THEN 'l2' WHEN protocol = 6 THEN 'tcp' WHEN protocol = 17 THEN 'udp' "
    "WHEN protocol IN (1, 58) THEN 'icmp' ELSE CAST(protocol AS STRING) END AS proto, "
    "packets, bytes, round(duration_s, 2) AS seconds, tcp_retransmissions AS retrans, "
    "round(tcp_rtt_p95_s * 1000, 2) AS rtt_p95_ms"
)
QOS_COLUMNS = ("class", "windows", "packets", "retrans_rate", "rtt_p95_max_ms", "jitter_p95_max_ms", "resets")


def protocol_sql() -> str:
    whens = " ".join(f"WHEN {num} THEN '{name}'" for num, name in DEMO_PROTOCOLS.items())
    return f"CASE WHEN ip_version IS NULL THEN 'non-ip' ELSE CASE ip_proto {whens} ELSE 'other' END END"


def run_demo(settings: Settings, spark: SparkSession | None = None) -> int:
    """Ingest settings.sample_dir and print what landed. Exit code 1 if a sample failed or conflicted.

    Builds (and stops) its own session unless given one.
    """
    from netqos.spark.session import build_spark

    started = time.monotonic()
    session = spark or build_spark(settings, app_name="netqos-demo")
    try:
        summary = ingest_samples(session, settings, started=started)
        print_summary(summary)
        print_models(models_demo(session, settings))
        print(report_demo(session, settings))
    finally:
        if spark is None:
            session.stop()
    return 1 if summary.report.count("failed") or summary.report.count("conflict") else 0


@dataclass(frozen=True)
class ModelsDemo:
    note: str  # what happened, for people
    top: list[tuple[object, ...]]  # TOP_ANOMALY_COLUMNS


TOP_ANOMALY_COLUMNS = ("sensor", "window_start", "score", "threshold", "top features (robust z)")
MIN_TRAIN_WINDOWS = 20  # fewer windows than this make no baseline worth registering


def models_demo(spark: SparkSession, settings: Settings) -> ModelsDemo:
    """Train on the warehouse's windows (no labels: unsupervised), register the challenger, make it champion when
    there is none yet (the first model has nothing to beat; after that promotion is a person's call), score."""
    from netqos.jobs import score_windows
    from netqos.ml import registry
    from netqos.ml.train import lake_dataset, lake_windows, train

    window_s = settings.models.window_s
    windows, version = lake_windows(spark, settings, window_s)
    n = windows[windows["dimension"] == "all"].shape[0]
    if n < MIN_TRAIN_WINDOWS:
        return ModelsDemo(f"models: {n} windows of {window_s} s are too few to train on (need {MIN_TRAIN_WINDOWS})", [])
    from netqos.lake.tables import ANOMALIES, QOS_WINDOWS

    result = train(settings, lake_dataset(windows, window_s, QOS_WINDOWS.qualified(settings), version))
    client = registry.configure(settings)
    notes = [f"models: trained {', '.join(s.model.name for s in result.scored)} on {result.train_windows} windows"]
    if result.registered:
        notes.append(f"registered {result.registered.name} v{result.registered.version} as challenger")
    if registry.by_alias(client, settings.models.registered_name, registry.CHAMPION) is None:
        promoted = registry.promote(client, settings)
        notes.append(f"no champion yet: {promoted.reason}")
    report = score_windows.run(spark, settings)
    notes.append(f"scored {report.scored} new windows ({report.flagged} anomalies) into {settings.lake.database}."
                 f"anomalies; MLflow store {registry.tracking_uri(settings)}")  # fmt: skip
    top = spark.sql(
        f"SELECT sensor_id, window_start, round(score, 2), round(threshold, 2), "
        f"concat_ws(', ', transform(top_features, t -> concat(t.feature, ' ', round(t.z, 1)))) "
        f"FROM {ANOMALIES.qualified(settings)} WHERE is_anomaly ORDER BY score DESC LIMIT 5"
    ).collect()
    return ModelsDemo("; ".join(notes), [tuple(r) for r in top])


def report_demo(spark: SparkSession, settings: Settings) -> str:
    """The nightly report of the busiest sample day (the samples are short captures of many different days)."""
    from netqos.jobs import nightly_report
    from netqos.report.collect import busiest_day

    day = busiest_day(spark, settings)
    if day is None:
        return "report: no windows to report"
    data, published = nightly_report.run(spark, settings, day)
    return f"{nightly_report.describe(data, published)}\nopen it in a browser: {published.html.as_uri()}"


def ingest_samples(spark: SparkSession, settings: Settings, *, started: float | None = None) -> DemoSummary:
    """Run the ingest, flows and windows jobs on settings.sample_dir, then read summaries back with Spark SQL."""
    from netqos.jobs import build_flows, qos_windows
    from netqos.jobs.parse_pcaps import run
    from netqos.spark.datasource import expand_capture_paths

    started = time.monotonic() if started is None else started
    samples = expand_capture_paths([str(settings.sample_dir)])
    report = run(spark, samples, settings)
    build_flows.run(spark, settings)
    qos_windows.run(spark, settings)
    db = settings.lake.database
    spark.createDataFrame([(p,) for p in samples], "path string").createOrReplaceTempView("demo_files")
    ledger = f"SELECT l.* FROM {db}.ingest_ledger l JOIN demo_files USING (path)"
    ingested = f"SELECT sha256 FROM ({ledger}) WHERE status = 'ingested'"
    packets = f"SELECT * FROM {db}.packets WHERE file_sha256 IN ({ingested})"
    per_file = spark.sql(f"SELECT path, status, format, packets FROM ({ledger}) ORDER BY packets DESC, path")
    per_link = spark.sql(f"SELECT link_type, count(*) AS n FROM ({packets}) GROUP BY 1 ORDER BY n DESC, 1")
    per_proto = spark.sql(
        f"SELECT {protocol_sql()} AS protocol, count(*) AS n FROM ({packets}) GROUP BY 1 ORDER BY n DESC, 1"
    )
    flows = spark.sql(
        f"SELECT {_TOP_FLOWS_SQL} FROM {db}.flows WHERE first_file_sha256 IN ({ingested}) "
        "ORDER BY bytes DESC, flow_id LIMIT 10"
    )
    qos = spark.sql(
        f"SELECT class, count(*) AS windows, sum(packets) AS packets, "
        f"round(sum(tcp_retransmissions) / nullif(sum(tcp_segments), 0), 4) AS retrans_rate, "
        f"round(max(rtt_p95_s) * 1000, 2) AS rtt_p95_max_ms, round(max(jitter_p95_s) * 1000, 2) AS jitter_p95_max_ms, "
        f"sum(tcp_resets) AS resets FROM {db}.qos_windows "
        f"WHERE window_s = 60 AND dimension = 'service' AND sensor_id = '{settings.sensor_id}' "
        "GROUP BY class ORDER BY packets DESC, class"
    )
    return DemoSummary(
        report=report,
        per_file=[(Path(r.path).name, r.status, r.format, r.packets) for r in per_file.collect()],
        per_link_type=[(r.link_type, LINKTYPE_NAMES.get(r.link_type, "?"), r.n) for r in per_link.collect()],
        per_protocol=[(r.protocol, r.n) for r in per_proto.collect()],
        top_flows=[tuple(r) for r in flows.collect()],
        qos_by_service=[tuple(r) for r in qos.collect()],
        seconds=time.monotonic() - started,
    )


def print_models(demo: ModelsDemo) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if demo.top:
        t = Table(title="top anomalies (netqos.anomalies, champion model)")
        for h in TOP_ANOMALY_COLUMNS:
            t.add_column(h)
        for row in demo.top:
            t.add_row(*(str(v) for v in row))
        console.print(t)
    console.print(demo.note)


def print_summary(summary: DemoSummary) -> None:
    from rich.console import Console
    from rich.table import Table

    def table(title: str, headers: tuple[str, ...], rows: list[tuple[object, ...]]) -> Table:
        t = Table(title=title)
        for h in headers:
            numeric = h in ("packets", "bytes", "seconds", "retrans", "windows", "resets") or h.endswith(
                ("_ms", "_rate")
            )
            t.add_column(h, justify="right" if numeric else "left")
        for row in rows:
            t.add_row(*("" if v is None else str(v) for v in row))
        return t

    console = Console()
    console.print(table("packets per file", ("file", "status", "format", "packets"), list(summary.per_file)))
    console.print(table("packets per link type", ("link_type", "name", "packets"), list(summary.per_link_type)))
    console.print(table("packets per protocol", ("protocol", "packets"), list(summary.per_protocol)))
    console.print(table("top flows by bytes (netqos.flows)", TOP_FLOWS_COLUMNS, summary.top_flows))
    console.print(
        table("QoS per service class, 60 s windows (netqos.qos_windows)", QOS_COLUMNS, summary.qos_by_service)
    )
    r = summary.report
    console.print(
        f"this run: ingested {r.count('ingested')}, failed {r.count('failed')}, conflict {r.count('conflict')}, "
        f"already in the ledger {len(r.skipped)}; {summary.seconds:.1f}s including Spark start-up"
    )


if __name__ == "__main__":
    raise SystemExit(run_demo(Settings()))
