"""Which packets an inspection is about, found in the lake with Spark.

extract    the target's rows of `packets` left-joined with `tcp_analysis` on (file_sha256, frame_no), pruned
           by sensor, date partitions and ts_ns: a flow (its span from `flows`), an anomaly's window (its
           length from the `anomalies` row), or a time range with optional sensor / host / port filters
transform  optionally only the top N flows by bytes or TCP retransmissions, ordered by time
load       at most max_packets rows to the driver (the total is counted, so truncation is reported), and
           the `ingest_ledger` paths of their captures
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from netqos.lake.tables import ANOMALIES, FLOWS, INGEST_LEDGER, PACKETS, TCP_ANALYSIS
from netqos.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

NS = 1_000_000_000
NS_PER_DAY = 86_400 * NS
Rank = Literal["bytes", "retransmissions"]
PACKET_COLUMNS = (
    "file_sha256", "frame_no", "ts_ns", "sensor_id", "ip_src", "ip_dst", "src_port", "dst_port", "ip_proto",
    "eth_src", "eth_dst", "wire_len",
)  # fmt: skip


class TargetNotFound(LookupError):
    """The flow or anomaly asked for is not in the lake."""


@dataclass(frozen=True)
class FlowTarget:
    flow_id: int

    def label(self) -> str:
        return f"flow-{self.flow_id}"


@dataclass(frozen=True)
class AnomalyTarget:
    sensor_id: str
    window_start_ns: int
    window_s: int | None = None  # None: the anomalies row's (else settings.models.window_s)

    def label(self) -> str:
        return f"anomaly-{self.sensor_id}-{self.window_start_ns // NS}"


@dataclass(frozen=True)
class RangeTarget:
    start_ns: int
    end_ns: int  # exclusive
    sensor_id: str | None = None
    hosts: tuple[str, ...] = ()  # packets from or to any of these IP (or MAC) addresses
    ports: tuple[int, ...] = ()  # packets from or to any of these TCP/UDP ports

    def label(self) -> str:
        return f"range-{self.start_ns // NS}-{self.end_ns // NS}"


Target = FlowTarget | AnomalyTarget | RangeTarget


@dataclass(frozen=True)
class SelectConfig:
    max_packets: int = 2000
    top_flows: int | None = None
    rank: Rank = "bytes"


@dataclass(frozen=True)
class PacketRef:
    file_sha256: str
    frame_no: int
    ts_ns: int
    sensor_id: str
    flow_id: int | None
    src: str | None  # "addr:port" / addr / MAC
    dst: str | None
    ip_proto: int | None
    wire_len: int
    retransmission: bool


@dataclass
class Selection:
    target: Target
    start_ns: int  # the span that was searched
    end_ns: int
    packets: list[PacketRef]
    total: int  # matching packets before --max-packets
    ledger: dict[str, list[str]] = field(default_factory=dict)  # file_sha256 -> ingested paths
    note: str = ""  # what the target resolved to (flow span, anomaly score...)

    @property
    def truncated(self) -> bool:
        return self.total > len(self.packets)


def _date_lit(ns: int) -> Column:
    from pyspark.sql import functions as F

    return F.date_from_unix_date(F.lit(int(ns // NS_PER_DAY)))


def _span(start_ns: int, end_ns: int, sensor: str | None, date_column: str) -> Column:
    """ts_ns in [start, end) of a sensor, with the date partition bounds Delta prunes on."""
    from pyspark.sql import functions as F

    cond = (F.col("ts_ns") >= F.lit(start_ns)) & (F.col("ts_ns") < F.lit(end_ns))
    cond &= (F.col(date_column) >= _date_lit(start_ns)) & (F.col(date_column) <= _date_lit(end_ns))
    if sensor is not None:
        cond &= F.col("sensor_id") == F.lit(sensor)
    return cond


def packets_in(spark: SparkSession, settings: Settings, start_ns: int, end_ns: int, sensor: str | None) -> DataFrame:
    """packets ⟕ tcp_analysis (flow_id, tcp_retransmission) of a sensor (or all) in [start_ns, end_ns)."""
    from pyspark.sql import functions as F

    packets = spark.table(PACKETS.qualified(settings)).where(_span(start_ns, end_ns, sensor, "capture_date"))
    analysis = (
        spark.table(TCP_ANALYSIS.qualified(settings))
        .where(_span(start_ns, end_ns, sensor, "capture_date"))
        .select("file_sha256", "frame_no", "flow_id", F.col("tcp_retransmission").alias("retransmission"))
    )
    return packets.select(*PACKET_COLUMNS).join(analysis, ["file_sha256", "frame_no"], "left")


def resolve_flow(spark: SparkSession, settings: Settings, target: FlowTarget) -> tuple[DataFrame, int, int, str]:
    from pyspark.sql import functions as F

    row = (
        spark.table(FLOWS.qualified(settings))
        .where(F.col("flow_id") == F.lit(target.flow_id))
        .select("sensor_id", "first_ts_ns", "last_ts_ns", "packets", "src_addr", "dst_addr", "src_port", "dst_port")
        .first()
    )
    if row is None:
        raise TargetNotFound(f"flow {target.flow_id} is not in {FLOWS.qualified(settings)}")
    start, end = int(row.first_ts_ns), int(row.last_ts_ns) + 1
    df = packets_in(spark, settings, start, end, row.sensor_id).where(F.col("flow_id") == F.lit(target.flow_id))
    ports = (f":{row.src_port}", f":{row.dst_port}") if row.src_port is not None else ("", "")
    note = (
        f"flow {target.flow_id} of sensor {row.sensor_id}: {row.src_addr}{ports[0]} -> {row.dst_addr}{ports[1]}, "
        f"{row.packets} packets in `flows`"
    )
    return df, start, end, note


def resolve_anomaly(spark: SparkSession, settings: Settings, target: AnomalyTarget) -> tuple[DataFrame, int, int, str]:
    from pyspark.sql import functions as F

    rows = (
        spark.table(ANOMALIES.qualified(settings))
        .where((F.col("sensor_id") == target.sensor_id) & (F.col("window_start_ns") == F.lit(target.window_start_ns)))
        .select("window_s", "model_name", "model_version", "score", "threshold", "is_anomaly")
        .orderBy(F.col("is_anomaly").desc(), F.col("score").desc())
        .collect()
    )
    if target.window_s is not None:
        window_s = target.window_s
        rows = [r for r in rows if r.window_s == window_s]
    elif rows:
        window_s = int(rows[0].window_s)
    else:
        raise TargetNotFound(
            f"no row in {ANOMALIES.qualified(settings)} for sensor {target.sensor_id!r} at window_start_ns "
            f"{target.window_start_ns}; pass --window-s to inspect that window anyway"
        )
    start = target.window_start_ns
    end = start + window_s * NS
    note = f"window of {window_s} s of sensor {target.sensor_id}"
    if rows:
        r = rows[0]
        flag = "anomaly" if r.is_anomaly else "not flagged"
        note += f": {r.model_name} v{r.model_version} scored {r.score:.3g} (threshold {r.threshold:.3g}, {flag})"
    return packets_in(spark, settings, start, end, target.sensor_id), start, end, note


def resolve_range(spark: SparkSession, settings: Settings, target: RangeTarget) -> tuple[DataFrame, int, int, str]:
    from functools import reduce

    from pyspark.sql import functions as F

    if target.end_ns <= target.start_ns:
        raise ValueError("the time range is empty: --to must be after --from")
    df = packets_in(spark, settings, target.start_ns, target.end_ns, target.sensor_id)
    if target.hosts:
        hosts = list(target.hosts)
        cols = ("ip_src", "ip_dst", "eth_src", "eth_dst")
        df = df.where(reduce(lambda a, b: a | b, [F.col(c).isin(hosts) for c in cols]))
    if target.ports:
        ports = list(target.ports)
        df = df.where(F.col("src_port").isin(ports) | F.col("dst_port").isin(ports))
    return (
        df,
        target.start_ns,
        target.end_ns,
        "time range" + (f" of sensor {target.sensor_id}" if target.sensor_id else ""),
    )


def extract(spark: SparkSession, settings: Settings, target: Target) -> tuple[DataFrame, int, int, str]:
    if isinstance(target, FlowTarget):
        return resolve_flow(spark, settings, target)
    if isinstance(target, AnomalyTarget):
        return resolve_anomaly(spark, settings, target)
    return resolve_range(spark, settings, target)


def transform(df: DataFrame, cfg: SelectConfig) -> DataFrame:
    """Keep the cfg.top_flows flows with the most bytes / retransmissions (ties: lower flow_id), time-ordered."""
    from pyspark.sql import functions as F

    if cfg.top_flows:
        measure = (
            F.sum("wire_len")
            if cfg.rank == "bytes"
            else F.sum(F.coalesce(F.col("retransmission").cast("long"), F.lit(0)))
        )
        top = (
            df.where(F.col("flow_id").isNotNull())
            .groupBy("flow_id")
            .agg(measure.alias("measure"))
            .orderBy(F.col("measure").desc(), F.col("flow_id"))
            .limit(cfg.top_flows)
            .select("flow_id")
        )
        df = df.join(top, "flow_id", "left_semi")
    return df.orderBy("ts_ns", "file_sha256", "frame_no")


def _endpoint(addr: str | None, port: int | None) -> str | None:
    if addr is None:
        return None
    if port is None:
        return addr
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def load(
    spark: SparkSession, settings: Settings, df: DataFrame, cfg: SelectConfig
) -> tuple[list[PacketRef], int, dict[str, list[str]]]:
    from pyspark.sql import functions as F

    df = df.persist()
    try:
        total = df.count()
        rows = df.limit(cfg.max_packets).collect()
    finally:
        df.unpersist()
    packets = [
        PacketRef(
            file_sha256=r.file_sha256,
            frame_no=int(r.frame_no),
            ts_ns=int(r.ts_ns),
            sensor_id=r.sensor_id,
            flow_id=None if r.flow_id is None else int(r.flow_id),
            src=_endpoint(r.ip_src, r.src_port) or r.eth_src,
            dst=_endpoint(r.ip_dst, r.dst_port) or r.eth_dst,
            ip_proto=None if r.ip_proto is None else int(r.ip_proto),
            wire_len=int(r.wire_len or 0),
            retransmission=bool(r.retransmission),
        )
        for r in rows
    ]
    shas = sorted({p.file_sha256 for p in packets})
    ledger: dict[str, list[str]] = {s: [] for s in shas}
    if shas:
        for r in (
            spark.table(INGEST_LEDGER.qualified(settings))
            .where(F.col("sha256").isin(shas) & (F.col("status") == "ingested"))
            .orderBy("ingested_at", "path")
            .select("sha256", "path")
            .collect()
        ):
            ledger[r.sha256].append(r.path)
    return packets, total, ledger


def select(spark: SparkSession, settings: Settings, target: Target, cfg: SelectConfig) -> Selection:
    df, start, end, note = extract(spark, settings, target)
    packets, total, ledger = load(spark, settings, transform(df, cfg), cfg)
    return Selection(target, start, end, packets, total, ledger, note)
