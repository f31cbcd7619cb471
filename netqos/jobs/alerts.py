"""Evaluate the alert rules and model anomalies, notify, and record every alert in the Delta table `alerts`.

    extract    qos_windows the rules look at and `anomalies` rows, from lookback_s before --since (episode context)
               to --until; the `alerts` rows of that range (what was already decided) and the count sent in the
               last hour (rate limit)
    transform  netqos.alerts.engine.evaluate on pandas: episodes, notification points, dedup, rate limit
    notify     each point to send goes to every configured notifier; a failure is recorded, never raised
    load       MERGE on alert_id (new rows inserted, retried failed rows updated)

Alert ids come from data time (rule, series, episode start, kind, seq), so a rerun over the same data finds every
point already recorded: it sends nothing and adds no row. docs/alerts.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from netqos.jobs.job_args import (
    add_run_id_arg,
    add_warehouse_arg,
    default_run_id,
    in_session,
    settings_from_args,
    utc_time,
)
from netqos.lake.tables import ALERTS, ANOMALIES, QOS_WINDOWS, ensure_tables, merge_by_keys
from netqos.observability.job_run import job_metrics
from netqos.settings import Settings

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped]

    from netqos.alerts.notifiers import Notifier

NS = 1_000_000_000
EXISTING_COLUMNS = [
    "alert_id", "source", "rule", "sensor_id", "window_s", "dimension", "class", "kind", "status", "attempts",
    "notifiers", "episode_start_ns", "last_window_ns", "created_at",
]  # fmt: skip


@dataclass
class Inputs:
    windows: pd.DataFrame
    anomalies: pd.DataFrame
    existing: pd.DataFrame
    sent_last_hour: int


@dataclass
class AlertReport:
    windows: int = 0
    anomalies: int = 0
    rows: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    summary: str | None = None  # the rate-limit summary, when one was sent
    messages: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # per step


def _ns(t: datetime | None) -> int | None:
    return None if t is None else int(t.timestamp()) * NS + t.microsecond * 1000


def extract(
    spark: SparkSession, settings: Settings, since: datetime | None, until: datetime | None, now: datetime
) -> Inputs:
    cfg = settings.alerts
    lo = None if since is None else since - timedelta(seconds=cfg.lookback_s)
    lo_ns, hi_ns = _ns(lo), _ns(until)

    def bounded(df: Any) -> Any:
        if lo is not None and lo_ns is not None:
            df = df.where((F.col("window_date") >= F.lit(lo.date())) & (F.col("window_start_ns") >= F.lit(lo_ns)))
        if hi_ns is not None:
            df = df.where(F.col("window_start_ns") < F.lit(hi_ns))
        return df

    import pandas as pd

    kpis = sorted({r.kpi for r in cfg.rules} | {"packets"})
    windows = pd.DataFrame()
    if cfg.rules:
        wanted = F.lit(False)
        for r in cfg.rules:
            term = (F.col("window_s") == r.window_s) & (F.col("dimension") == r.dimension)
            wanted |= term if r.class_ == "*" else term & (F.col("class") == r.class_)
        table = spark.table(QOS_WINDOWS.qualified(settings))
        windows = (
            bounded(table)
            .where(wanted)
            .select("sensor_id", "window_s", "window_start_ns", "dimension", "class", *kpis)
            .toPandas()
        )
    anomalies = pd.DataFrame()
    if cfg.anomalies:
        anomalies = (
            bounded(spark.table(ANOMALIES.qualified(settings)))
            .select(
                "sensor_id",
                "window_s",
                "window_start_ns",
                "model_name",
                "model_version",
                "score",
                "threshold",
                "is_anomaly",
                "top_features",
                "scored_at",
            )
            .toPandas()
        )
    # One read of `alerts` (small: a row per notification point): the rows of this range, and those sent lately.
    hour_ago = now - timedelta(hours=1)
    recent = F.lit(True)  # without --since every row may matter
    if lo_ns is not None:
        recent = (F.col("notified_at") >= F.lit(hour_ago)) | (
            F.col("last_window_ns") >= F.lit(lo_ns - cfg.lookback_s * NS)
        )
    known: pd.DataFrame = (
        spark.table(ALERTS.qualified(settings)).where(recent).select(*EXISTING_COLUMNS, "notified_at").toPandas()
    )
    notified = pd.to_datetime(known["notified_at"]).dt.tz_localize("UTC")  # the session time zone is UTC
    sent = int(((known["status"] == "sent") & (notified >= pd.Timestamp(hour_ago))).sum())
    return Inputs(windows, anomalies, known.drop(columns=["notified_at"]), sent)


def transform(inputs: Inputs, settings: Settings) -> pd.DataFrame:
    from netqos.alerts.engine import evaluate

    return evaluate(
        inputs.windows, inputs.anomalies, inputs.existing, settings.alerts, sent_last_hour=inputs.sent_last_hour
    )


def _features(value: Any) -> list[dict[str, Any]] | None:
    if value is None or (isinstance(value, float) and value != value):  # None / NaN
        return None
    return [{"feature": str(f["feature"]), "z": float(f["z"])} for f in value]


def _utc(value: Any) -> datetime:
    """A timestamp read back with toPandas (naive, in the session time zone: UTC) as an aware datetime."""
    import pandas as pd

    t = pd.Timestamp(value)
    return (t.tz_localize("UTC") if t.tzinfo is None else t).to_pydatetime()  # type: ignore[no-any-return]


def notify(
    decisions: pd.DataFrame, existing: pd.DataFrame, settings: Settings, notifiers: list[Notifier], now: datetime,
    *, dry_run: bool = False,
) -> tuple[list[dict[str, Any]], AlertReport]:  # fmt: skip
    """Deliver the rows marked `send`; returns the rows to write (every decision) with their final status."""
    from netqos.alerts.messages import alert_text, subject, summary_text
    from netqos.alerts.notifiers import deliver

    before = existing.set_index("alert_id") if not existing.empty else None
    rows: list[dict[str, Any]] = []
    report = AlertReport()
    for rec in decisions.to_dict("records"):
        rec["top_features"] = _features(rec.get("top_features"))
        rec["message"] = alert_text(rec)
        prior = before.loc[rec["alert_id"]] if before is not None and rec["retry"] else None
        done = [str(n) for n in prior["notifiers"]] if prior is not None and prior["notifiers"] is not None else []
        attempts = int(prior["attempts"]) if prior is not None and prior["attempts"] is not None else 0
        rec.update(notifiers=done, error=None, attempts=attempts, notified_at=None)
        rec["created_at"] = _utc(prior["created_at"]) if prior is not None else now
        if dry_run:
            rec["status"] = "dry_run" if rec["send"] else rec["status"]
        elif rec["send"]:
            report.messages.append(rec["message"])
            if not notifiers:  # nothing configured (a laptop, the demo): the job's output is the notification
                rec["status"] = "logged"
            else:
                delivered, errors = deliver(notifiers, subject(rec), rec["message"], done)
                rec.update(notifiers=delivered, attempts=attempts + 1, error="; ".join(errors) or None)
                rec["status"] = "failed" if errors else "sent"
                rec["notified_at"] = None if errors else now
        rows.append(rec)
    limited = [r for r in rows if r["status"] == "rate_limited"]
    if limited and not dry_run and notifiers:
        report.summary = summary_text(limited, settings.alerts.max_per_hour)
        deliver(notifiers, "[netqos] alerts suppressed by the rate limit", report.summary)
    for r in rows:
        report.by_status[r["status"]] = report.by_status.get(r["status"], 0) + 1
    report.rows = len(rows)
    return rows, report


def load(spark: SparkSession, settings: Settings, rows: list[dict[str, Any]], run_id: str) -> None:
    from netqos.alerts.messages import NS as _NS

    def ts(ns: int) -> datetime:
        return datetime.fromtimestamp(ns // _NS, UTC).replace(microsecond=(ns % _NS) // 1000)

    out = []
    for r in rows:
        full = {
            **r,
            "seq": int(r["seq"]),
            "window_s": int(r["window_s"]),
            "windows": int(r["windows"]),
            "episode_start_ns": int(r["episode_start_ns"]),
            "window_start_ns": int(r["window_start_ns"]),
            "last_window_ns": int(r["last_window_ns"]),
            "episode_start": ts(int(r["episode_start_ns"])),
            "window_start": ts(int(r["window_start_ns"])),
            "alert_date": ts(int(r["window_start_ns"])).date(),
            "model_version": None if r["model_version"] is None else str(r["model_version"]),
            "run_id": run_id,
        }
        out.append(tuple(full.get(c) for c in ALERTS.column_names))
    merge_by_keys(spark, ALERTS, settings, spark.createDataFrame(out, ALERTS.schema), update=True)


def run(
    spark: SparkSession,
    settings: Settings,
    run_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    dry_run: bool = False,
    notifiers: list[Notifier] | None = None,
) -> AlertReport:
    from netqos.alerts.notifiers import configured

    clock = [time.monotonic()]

    def lap() -> float:
        clock.append(time.monotonic())
        return clock[-1] - clock[-2]

    ensure_tables(spark, settings, (QOS_WINDOWS, ANOMALIES, ALERTS))
    now = datetime.now(UTC)
    inputs = extract(spark, settings, since, until, now)
    seconds = {"extract": lap()}
    decisions = transform(inputs, settings)
    seconds["decide"] = lap()
    chosen = configured(settings.alerts) if notifiers is None else notifiers
    rows, report = notify(decisions, inputs.existing, settings, chosen, now, dry_run=dry_run)
    seconds["notify"] = lap()
    report.windows, report.anomalies = len(inputs.windows), len(inputs.anomalies)
    if rows and not dry_run:
        load(spark, settings, rows, run_id or default_run_id())
    seconds["load"] = lap()
    report.seconds = seconds
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alerts", description="Evaluate alert rules and anomalies, notify.")
    add_warehouse_arg(parser)
    add_run_id_arg(parser)
    parser.add_argument("--since", type=utc_time, help="evaluate windows from this time on (ISO; minus lookback_s)")
    parser.add_argument("--until", type=utc_time, help="... up to this time (exclusive; default: everything)")
    parser.add_argument("--dry-run", action="store_true", help="decide and print, send nothing, write nothing")
    args = parser.parse_args(argv)
    settings = settings_from_args(args, Settings())
    run_id = args.run_id or default_run_id()
    with job_metrics("alerts", settings, run_id) as metrics:
        report, timings = in_session(
            settings,
            "netqos-alerts",
            lambda s: run(s, settings, run_id, args.since, args.until, dry_run=args.dry_run),
        )
        metrics.rows("alerts", 0 if args.dry_run else report.rows)
        if report.by_status.get("failed"):
            metrics.fail()  # a notification could not be delivered: the task fails and so does the metric
    for m in report.messages:
        print(f"  {m}")
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(report.by_status.items())) or "nothing new"
    print(
        f"alerts: {report.windows} windows and {report.anomalies} anomaly rows evaluated; {report.rows} alert rows "
        f"({statuses}){' [dry run: nothing sent or written]' if args.dry_run else ''} ({sum(timings.values()):.1f}s)"
    )
    return 1 if report.by_status.get("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
