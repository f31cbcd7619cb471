"""Read one UTC day of the lake into ReportData with Spark SQL (every aggregation runs in Spark; only the small
results reach pandas). Tables partitioned by date are filtered on their partition column, so a day costs a day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd  # type: ignore[import-untyped]

from netqos.lake.tables import ANOMALIES, FLOWS, INGEST_LEDGER, PACKETS, QOS_WINDOWS, TCP_ANALYSIS
from netqos.report.kpis import kpi_table
from netqos.report.model import ModelInfo, ReportData, coverage
from netqos.settings import Settings
from netqos.sql.query import list_tables

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# IP protocol numbers the report names; others show as "ip proto N", frames without IP as "non-ip".
PROTOCOL_NAMES = {
    1: "icmp",
    2: "igmp",
    6: "tcp",
    17: "udp",
    47: "gre",
    50: "esp",
    58: "icmpv6",
    89: "ospf",
    132: "sctp",
}
FLOWS_PER_ANOMALY = 3
ALERTS_TABLE = "alerts"


def _quote(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


class _Day:
    """SQL fragments for one day and sensor filter."""

    def __init__(self, settings: Settings, day: date, sensors: tuple[str, ...]) -> None:
        self.db = settings.lake.database
        self.day = day
        self.sensors = sensors

    def lit(self, d: date) -> str:
        return f"DATE'{d.isoformat()}'"

    def where(self, date_col: str, first: date | None = None, sensor_col: str = "sensor_id") -> str:
        span = (
            f"{date_col} = {self.lit(self.day)}"
            if first is None
            else f"{date_col} BETWEEN {self.lit(first)} AND {self.lit(self.day)}"
        )
        return span + (f" AND {sensor_col} IN ({_quote(self.sensors)})" if self.sensors else "")

    def period_view(self, spark: SparkSession, baseline_days: int) -> None:
        """`report_periods(d, period)`: the day, the previous day, and the baseline days before the day."""
        rows = [(self.day, "day"), (self.day - timedelta(days=1), "previous_day")]
        rows += [(self.day - timedelta(days=k), "baseline") for k in range(1, baseline_days + 1)]
        spark.createDataFrame(rows, "d date, period string").createOrReplaceTempView("report_periods")


def protocol_sql() -> str:
    whens = " ".join(f"WHEN {num} THEN '{name}'" for num, name in PROTOCOL_NAMES.items())
    return (
        "CASE WHEN ip_version IS NULL THEN 'non-ip' "
        f"ELSE CASE ip_proto {whens} ELSE concat('ip proto ', ip_proto) END END"
    )


def flow_protocol_sql(column: str = "protocol") -> str:
    whens = " ".join(f"WHEN {num} THEN '{name}'" for num, name in PROTOCOL_NAMES.items())
    return f"CASE WHEN {column} IS NULL THEN 'l2' ELSE CASE {column} {whens} ELSE CAST({column} AS STRING) END END"


def endpoint_sql(addr: str, port: str) -> str:
    # IPv6 addresses take brackets before a port, as in a URL: [2001:db8::1]:443.
    host = f"CASE WHEN {addr} LIKE '%:%' AND {port} IS NOT NULL THEN concat('[', {addr}, ']') ELSE {addr} END"
    return f"concat({host}, coalesce(concat(':', {port}), ''))"


def collect(spark: SparkSession, settings: Settings, day: date, sensors: tuple[str, ...] = (),
            now: datetime | None = None) -> ReportData:  # fmt: skip
    """Everything the report shows for `day` (UTC), for every sensor or only `sensors`."""
    now = now or datetime.now(UTC)
    q = _Day(settings, day, sensors)
    present = set(list_tables(spark, q.db))
    notes: list[str] = []
    missing = [t.name for t in (QOS_WINDOWS, FLOWS, PACKETS, TCP_ANALYSIS, ANOMALIES, INGEST_LEDGER)
               if t.name not in present]  # fmt: skip
    if missing:
        notes.append(f"tables not in {q.db} yet (shown empty): {', '.join(missing)}")

    def sql(table: str, query: str) -> pd.DataFrame:
        return spark.sql(query).toPandas() if table in present else pd.DataFrame()

    window_s = 60 if 60 in settings.features.window_seconds else max(settings.features.window_seconds)
    volume = sql(
        QOS_WINDOWS.name,
        f"SELECT sensor_id, window_start, packets, bytes, bps, pps FROM {q.db}.qos_windows "
        f"WHERE {q.where('window_date')} AND window_s = {window_s} AND dimension = 'all' "
        "ORDER BY sensor_id, window_start",
    )
    day_ended = now >= datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
    cov = coverage(volume["window_start"] if not volume.empty else pd.Series(dtype="datetime64[ns, UTC]"), day_ended)
    tables: dict[str, pd.DataFrame] = {"volume": volume}
    flows_n = sql(
        FLOWS.name, f"SELECT sensor_id, count(*) AS flows FROM {q.db}.flows WHERE {q.where('flow_date')} GROUP BY 1"
    )
    tables["sensors"] = _sensor_totals(volume, flows_n, window_s)
    tables["protocols"] = sql(
        PACKETS.name,
        f"SELECT {protocol_sql()} AS protocol, count(*) AS packets, sum(wire_len) AS bytes FROM {q.db}.packets "
        f"WHERE {q.where('capture_date')} GROUP BY 1 ORDER BY bytes DESC, protocol",
    )
    tables["services"] = sql(
        QOS_WINDOWS.name,
        f"SELECT class AS service, sum(packets) AS packets, sum(bytes) AS bytes FROM {q.db}.qos_windows "
        f"WHERE {q.where('window_date')} AND window_s = {window_s} AND dimension = 'service' "
        "GROUP BY 1 ORDER BY bytes DESC, service",
    )
    n = settings.report.top_n
    day_flows = f"SELECT * FROM {q.db}.flows WHERE {q.where('flow_date')} AND flow_kind = 'ip'"
    tables["top_talkers"] = sql(
        FLOWS.name,
        f"WITH ends AS (SELECT src_addr AS address, src2dst_bytes AS sent, dst2src_bytes AS received, flow_id, "
        f"dst_addr AS peer FROM ({day_flows}) UNION ALL SELECT dst_addr, dst2src_bytes, src2dst_bytes, flow_id, "
        f"src_addr FROM ({day_flows})) "
        "SELECT address, sum(sent) AS bytes_sent, sum(received) AS bytes_received, "
        "sum(sent) + sum(received) AS bytes_total, count(DISTINCT flow_id) AS flows, count(DISTINCT peer) AS peers "
        f"FROM ends GROUP BY address ORDER BY bytes_total DESC, address LIMIT {n}",
    )
    tables["top_flows"] = sql(
        FLOWS.name,
        f"SELECT flow_id, sensor_id, timestamp_micros(first_ts_ns DIV 1000) AS first_seen, "
        f"{endpoint_sql('src_addr', 'src_port')} AS initiator, {endpoint_sql('dst_addr', 'dst_port')} AS responder, "
        f"{flow_protocol_sql()} AS protocol, packets, bytes, round(duration_s, 3) AS duration_s, "
        "tcp_retransmissions AS retransmissions, round(tcp_rtt_p95_s * 1000, 3) AS rtt_p95_ms "
        f"FROM {q.db}.flows WHERE {q.where('flow_date')} ORDER BY bytes DESC, flow_id LIMIT {n}",
    )
    tables["kpis"] = _kpis(spark, settings, q, present, window_s, notes)
    timeline = sql(
        ANOMALIES.name,
        "SELECT sensor_id, window_start, window_s, score, threshold, is_anomaly, model_name, model_version, detector "
        f"FROM {q.db}.anomalies WHERE {q.where('window_date')} ORDER BY sensor_id, window_start, model_version",
    )
    tables["anomaly_timeline"] = timeline
    tables["top_anomalies"] = _top_anomalies(spark, q, present, n) if not timeline.empty else pd.DataFrame()
    tables["quality"] = sql(
        INGEST_LEDGER.name,
        "SELECT sensor_id, path, status, packets, first_ts, last_ts, ingested_at, substr(error, 1, 500) AS error "
        f"FROM {q.db}.ingest_ledger WHERE ((first_ts < {q.lit(day + timedelta(days=1))} AND last_ts >= "
        f"{q.lit(day)}) OR (first_ts IS NULL AND to_date(ingested_at) = {q.lit(day)}))"
        + (f" AND sensor_id IN ({_quote(sensors)})" if sensors else "")
        + " ORDER BY status <> 'ingested' DESC, sensor_id, path",
    )
    tables["alerts"] = _alerts(spark, q, present)
    if ALERTS_TABLE not in present:
        notes.append("no alerts table yet: alerting has not run on this lake")
    if timeline.empty:
        notes.append("no model scored this day's windows (no champion, or scoring has not run)")
    sensor_names = tuple(sorted(set(volume["sensor_id"]))) if not volume.empty else sensors
    return ReportData(
        day=day,
        sensors=sensor_names,
        sensor_filter=sensors,
        generated_at=now,
        coverage=cov,
        models=_models(timeline),
        data_docs=_data_docs(settings),
        baseline_days=settings.report.baseline_days,
        tables=tables,
        notes=notes,
    )


def _sensor_totals(volume: pd.DataFrame, flows: pd.DataFrame, window_s: int) -> pd.DataFrame:
    if volume.empty:
        return pd.DataFrame(columns=["sensor_id", "packets", "bytes", "flows", "peak_bps", "mean_bps", "minutes"])
    g = volume.groupby("sensor_id")
    out = pd.DataFrame(
        {
            "packets": g["packets"].sum(),
            "bytes": g["bytes"].sum(),
            "peak_bps": g["bps"].max(),
            # over the minutes with traffic: a sensor that captured 1 h is not averaged over 24 h
            "mean_bps": g["bytes"].sum() * 8 / (g.size() * window_s),
            "minutes": g.size() * window_s // 60,
            "first_window": g["window_start"].min(),
            "last_window": g["window_start"].max(),
        }
    ).reset_index()
    counts = flows.set_index("sensor_id")["flows"] if not flows.empty else pd.Series(dtype="int64")
    out.insert(3, "flows", out["sensor_id"].map(counts).fillna(0).astype("int64"))
    return out


def _kpis(spark: SparkSession, settings: Settings, q: _Day, present: set[str], window_s: int,
          notes: list[str]) -> pd.DataFrame:  # fmt: skip
    """Per sensor and class ('all' and each service class): each KPI of the day, the previous day, the baseline."""
    if QOS_WINDOWS.name not in present:
        return kpi_table(pd.DataFrame())
    days = settings.report.baseline_days
    q.period_view(spark, days)
    first = q.day - timedelta(days=days)
    counts: pd.DataFrame = spark.sql(
        "SELECT sensor_id, coalesce(class, 'all') AS class, period, sum(packets) AS packets, "
        "sum(tcp_segments) AS tcp_segments, sum(tcp_retransmissions) AS tcp_retransmissions, "
        "sum(tcp_lost_segments) AS tcp_lost_segments, sum(wlan_frames) AS wlan_frames, "
        "sum(wlan_retry_rate * wlan_frames) AS wlan_retries, "
        "sum(wlan_signal_mean_dbm * wlan_frames) / sum(CASE WHEN wlan_signal_mean_dbm IS NOT NULL "
        "THEN wlan_frames END) AS wlan_signal_dbm, min(wlan_signal_min_dbm) AS wlan_signal_min_dbm "
        f"FROM {q.db}.qos_windows w JOIN report_periods p ON w.window_date = p.d "
        f"WHERE {q.where('window_date', first)} AND window_s = {window_s} AND dimension IN ('all', 'service') "
        "GROUP BY sensor_id, class, period"
    ).toPandas()
    if TCP_ANALYSIS.name in present:
        # Percentiles over every sample of the period (not a percentile of window percentiles); approximate with
        # a 1e-4 rank error so memory stays bounded on a busy day.
        percentiles: pd.DataFrame = spark.sql(
            "SELECT sensor_id, CASE WHEN grouping(service_class) = 1 THEN 'all' ELSE service_class END AS class, "
            "period, percentile_approx(tcp_ack_rtt, array(0.5, 0.95), 10000) AS rtt, "
            "percentile_approx(udp_jitter_s, 0.95, 10000) AS jitter_p95_s "
            f"FROM {q.db}.tcp_analysis t JOIN report_periods p ON t.capture_date = p.d "
            f"WHERE {q.where('capture_date', first)} "
            "GROUP BY GROUPING SETS ((sensor_id, period, service_class), (sensor_id, period))"
        ).toPandas()
        percentiles["rtt_p50_s"] = percentiles["rtt"].map(lambda v: None if v is None else v[0])
        percentiles["rtt_p95_s"] = percentiles["rtt"].map(lambda v: None if v is None else v[1])
        counts = counts.merge(percentiles.drop(columns="rtt"), on=["sensor_id", "class", "period"], how="left")
    table = kpi_table(counts)
    if not table.empty and table["baseline"].isna().all():
        notes.append(f"no baseline: no traffic in the {days} days before this day")
    return table


def _top_anomalies(spark: SparkSession, q: _Day, present: set[str], n: int) -> pd.DataFrame:
    """The strongest flagged windows (score relative to the model's threshold), each with the flows that were
    active in it (largest first)."""
    top = spark.sql(
        "SELECT sensor_id, window_start, window_start_ns, window_s, score, threshold, "
        "CASE WHEN threshold > 0 THEN score / threshold ELSE score END AS severity, model_version, "
        "concat_ws(', ', transform(top_features, f -> concat(f.feature, ' (z ', format_number(f.z, 1), ')'))) "
        f"AS drivers FROM {q.db}.anomalies WHERE {q.where('window_date')} AND is_anomaly "
        f"ORDER BY severity DESC, sensor_id, window_start LIMIT {n}"
    )
    top.createOrReplaceTempView("report_top_anomalies")
    if FLOWS.name not in present:
        return top.drop("window_start_ns").toPandas()
    flows = spark.sql(
        "WITH overlap AS (SELECT a.sensor_id, a.window_start_ns, a.model_version, "
        f"named_struct('initiator', {endpoint_sql('f.src_addr', 'f.src_port')}, "
        f"'responder', {endpoint_sql('f.dst_addr', 'f.dst_port')}, 'protocol', {flow_protocol_sql('f.protocol')}, "
        "'bytes', f.bytes, 'retransmissions', f.tcp_retransmissions, 'flow_id', f.flow_id) AS flow, "
        "row_number() OVER (PARTITION BY a.sensor_id, a.window_start_ns, a.model_version "
        "ORDER BY f.bytes DESC, f.flow_id) AS rank "
        f"FROM report_top_anomalies a JOIN {q.db}.flows f ON f.sensor_id = a.sensor_id "
        f"AND f.flow_date BETWEEN {q.lit(q.day - timedelta(days=1))} AND {q.lit(q.day)} "
        "AND f.first_ts_ns < a.window_start_ns + a.window_s * 1000000000L AND f.last_ts_ns >= a.window_start_ns) "
        "SELECT sensor_id, window_start_ns, model_version, array_sort(collect_list(struct(rank, flow))) AS flows "
        f"FROM overlap WHERE rank <= {FLOWS_PER_ANOMALY} GROUP BY 1, 2, 3"
    )
    joined = top.join(flows, ["sensor_id", "window_start_ns", "model_version"], "left")
    out: pd.DataFrame = joined.orderBy("severity", ascending=False).drop("window_start_ns").toPandas()
    out["flows"] = out["flows"].map(_describe_flows)
    return out


def _describe_flows(ranked: Any) -> str | None:
    """'a:1 > b:80 tcp 1.2 MB, 56 retrans (flow 123); ...' for the flows of one anomalous window."""
    from netqos.report.render import fmt_bytes

    if ranked is None or len(ranked) == 0:
        return None
    parts = []
    for item in ranked:
        f = item["flow"]
        retrans = f", {f['retransmissions']} retrans" if f["retransmissions"] else ""
        parts.append(f"{f['initiator']} > {f['responder']} {f['protocol']} {fmt_bytes(f['bytes'])}{retrans} "
                     f"(flow {f['flow_id']})")  # fmt: skip
    return "; ".join(parts)


def _alerts(spark: SparkSession, q: _Day, present: set[str]) -> pd.DataFrame:
    """The day's alert rows (table `alerts`, docs/alerts.md): what fired, how bad, and whether it was sent."""
    if ALERTS_TABLE not in present:
        return pd.DataFrame()
    return spark.sql(
        "SELECT window_start, severity, rule, kind, sensor_id, class AS traffic_class, kpi, round(value, 6) AS value, "
        f"threshold, status, message FROM {q.db}.{ALERTS_TABLE} WHERE {q.where('alert_date')} "
        "ORDER BY window_start, rule, sensor_id"
    ).toPandas()


def _models(timeline: pd.DataFrame) -> list[ModelInfo]:
    if timeline.empty:
        return []
    g = timeline.groupby(["model_name", "model_version", "detector"])
    return [
        ModelInfo(str(name), str(version), str(detector), len(rows), int(rows["is_anomaly"].sum()))
        for (name, version, detector), rows in g
    ]


def _data_docs(settings: Settings) -> str | None:
    from netqos.quality.data_docs import data_docs_dir

    index = data_docs_dir(settings) / "index.html"
    return index.resolve().as_uri() if index.is_file() else None


def latest_day(spark: SparkSession, settings: Settings, sensors: tuple[str, ...] = ()) -> date | None:
    """The latest UTC day with windows (for `netqos report --latest`)."""
    db = settings.lake.database
    if not spark.catalog.tableExists(f"{db}.{QOS_WINDOWS.name}"):
        return None
    where = f"WHERE sensor_id IN ({_quote(sensors)})" if sensors else ""
    value = spark.sql(f"SELECT max(window_date) FROM {db}.qos_windows {where}").first()
    return None if value is None else value[0]


def busiest_day(spark: SparkSession, settings: Settings) -> date | None:
    """The UTC day with the most packets (the demo reports it: the samples are single captures of many days)."""
    db = settings.lake.database
    if not spark.catalog.tableExists(f"{db}.{QOS_WINDOWS.name}"):
        return None
    row = spark.sql(
        f"SELECT window_date FROM {db}.qos_windows WHERE dimension = 'all' AND window_s = "
        f"(SELECT min(window_s) FROM {db}.qos_windows) GROUP BY 1 ORDER BY sum(packets) DESC, 1 DESC LIMIT 1"
    ).first()
    return None if row is None else row[0]
