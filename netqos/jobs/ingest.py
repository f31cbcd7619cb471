"""The ingest DAG's Spark work in one session: parse_pcaps → build_flows → qos_windows.

Each stage is its own job (and runs alone too); chaining them in one spark-submit pays the JVM, Python worker and
Delta log start-up once instead of three times, which is most of a small batch's latency. Each stage keeps its
own quality gate and idempotence, so a retry of this task resumes where the ledgers say it stopped.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pyspark.sql import SparkSession

from netqos.jobs import build_flows, parse_pcaps, qos_windows
from netqos.jobs.job_args import default_run_id, in_session, settings_from_args
from netqos.observability.job_run import job_metrics
from netqos.observability.metrics import JobMetrics
from netqos.settings import Settings

T = TypeVar("T")
INGEST_SUITES = ("packets", "tcp_analysis", "flows", "qos_windows")  # every stage's quality gate


@dataclass
class IngestRun:
    parse: parse_pcaps.IngestReport | None = None
    flows: build_flows.FlowReport | None = None
    windows: qos_windows.WindowReport | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def run(
    spark: SparkSession,
    paths: Sequence[str],
    settings: Settings,
    bounds: parse_pcaps.RunBounds | None = None,
    run_id: str | None = None,
) -> IngestRun:
    run_id = run_id or default_run_id()
    bounds = bounds or parse_pcaps.RunBounds()
    out = IngestRun()

    def stage(name: str, body: Callable[[], T]) -> T:
        started = time.monotonic()
        try:
            return body()
        finally:
            out.seconds[name] = time.monotonic() - started

    out.parse = stage("parse", lambda: parse_pcaps.run(spark, paths, settings, bounds, run_id))
    out.flows = stage("build_flows", lambda: build_flows.run(spark, settings, run_id))
    out.windows = stage("qos_windows", lambda: qos_windows.run(spark, settings, run_id))
    return out


def print_report(result: IngestRun, timings: dict[str, float]) -> None:
    from rich.console import Console

    if result.parse is not None:
        parse_pcaps.print_report(result.parse, {})
    console = Console()
    if result.flows is not None:
        build_flows.print_report(result.flows, {})
    if result.windows is not None:
        console.print(f"qos_windows: {len(result.windows.plan.files)} files settled, {result.windows.windows} rows")
    stages: dict[str, Any] = {**timings, **result.seconds}
    # One plain line (rich would wrap it): benchmarks/ingest_latency.py reads it from the task log.
    print("ingest timings: " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in stages.items()), flush=True)


def observed(m: JobMetrics, spark: SparkSession, settings: Settings, result: IngestRun) -> IngestRun:
    """Each stage's job metrics, under the one job name `ingest` (the stages' own durations are in the log)."""
    if result.parse is not None:
        parse_pcaps.observe(m, result.parse)
    if result.flows is not None:
        m.rows("tcp_analysis", result.flows.packets)
        m.rows("flows", result.flows.flows)
    if result.windows is not None:
        qos_windows.observed(m, spark, settings, result.windows)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_pcaps.parse_args(argv)
    settings = settings_from_args(args, Settings())
    bounds = parse_pcaps.RunBounds(args.landed_before, args.max_files)
    run_id = args.run_id or default_run_id()
    with job_metrics("ingest", settings, run_id, suites=INGEST_SUITES) as m:
        result, timings = in_session(
            settings,
            "netqos-ingest",
            lambda spark: observed(m, spark, settings, run(spark, args.paths, settings, bounds, run_id)),
        )
    print_report(result, timings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
