"""Latency of the ingest DAG: a ~100 MB capture lands in MinIO; how long until its windows are scored?

Runs the real thing on this machine: a real MinIO (the cached binary, as the tests use), a fresh Airflow
metadata DB, and `netqos_ingest` through dag.test() (netqos.orchestration.dag_test), every Spark task through
spark-submit on local[*]. Prints the time from landing to the end of `score` and where it goes, per task, with
the Spark task split into its stages. Target (issue 5): under 5 minutes.

    .venv/bin/python benchmarks/ingest_latency.py [--megabytes 100] [--keep DIR]

`score` is the score_windows Spark job. The run uses a scratch MLflow store without a champion, so `score` pays
Spark start-up and the alias lookup but scores nothing (a 100 MB capture is only ~10 windows of 10 s; scoring
them is a small part of the job, see tests/integration/ml).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO / "tests"))

import gen_capture  # noqa: E402
from s3server import MinioServer  # noqa: E402

from netqos.orchestration import dag_test  # noqa: E402

BUCKET = "netqos-landing"
TARGET_S = 300.0
PACKETS_PER_FLOW = 40  # flow size shapes packet sizes: the sample and the capture share it
STAGES = re.compile(r"ingest timings: (.*)")
STAGE = re.compile(r"([a-z_][a-z_ -]*?) (\d+(?:\.\d+)?)s\b")


def make_capture(path: Path, megabytes: float) -> int:
    """gen_capture's mixed traffic, sized by a small sample's bytes per packet; returns the packet count."""
    sample, sample_packets = path.with_suffix(".sample.pcap"), 40_000
    gen_capture.generate(sample, sample_packets, flows=sample_packets // PACKETS_PER_FLOW)
    per_packet = (sample.stat().st_size - 24) / sample_packets
    sample.unlink()
    packets = int(megabytes * 1e6 / per_packet)
    gen_capture.generate(path, packets, flows=packets // PACKETS_PER_FLOW)
    return packets


def stage_seconds(log: str) -> dict[str, float]:
    """The ingest job's own timings line: 'ingest timings: spark start-up 9.1s, job ..., parse 20.3s, ...'."""
    found = STAGES.findall(log)
    if not found:
        return {}
    # Airflow wraps the job's line in its own log fields; keep the "<stage> <seconds>s" pairs.
    return {name.strip(" ,"): float(value) for name, value in STAGE.findall(found[-1])}


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=100.0)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args(argv)
    console = Console()
    root = args.keep or Path(tempfile.mkdtemp(prefix="netqos-latency-"))
    root.mkdir(parents=True, exist_ok=True)

    capture = root / "capture.pcap"
    with console.status(f"generating a {args.megabytes:.0f} MB capture"):
        packets = make_capture(capture, args.megabytes)
    size_mb = capture.stat().st_size / 1e6
    with MinioServer(root / "minio") as server, console.status("landing, then running netqos_ingest") as status:
        server.make_bucket(BUCKET)
        env = dag_test.test_env(
            root, s3_endpoint=server.endpoint_url, s3_access_key=server.access_key, s3_secret_key=server.secret_key
        )
        dag_test.migrate(env)
        logical_date = (datetime.now(UTC) + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        status.update("landing the capture in MinIO")
        landed = time.monotonic()
        server.client().upload_file(str(capture), BUCKET, f"sensor=bench/{capture.name}")
        upload_s = time.monotonic() - landed
        status.update("netqos_ingest via dag.test()")
        result: dict[str, Any] = dag_test.run_subprocess(env, REPO / "dags" / "netqos_ingest.py", logical_date)
        total_s = time.monotonic() - landed
    stages = stage_seconds(result.pop("log"))

    table = Table(title=f"netqos_ingest on {packets:,} packets ({size_mb:.0f} MB), landing → scored")
    for column in ("step", "state", "seconds"):
        table.add_column(column, justify="left" if column in ("step", "state") else "right")
    table.add_row("upload to MinIO", "done", f"{upload_s:.1f}")
    accounted = upload_s
    for task, t in result["tasks"].items():
        seconds = t["seconds"] or 0.0
        accounted += seconds
        table.add_row(task, t["state"], f"{seconds:.1f}")
        if task == "ingest":  # the stages inside the one Spark session, from the job's log
            for stage in ("spark start-up", "parse", "build_flows", "qos_windows"):
                if stage in stages:
                    table.add_row(f"  └ {stage}", "", f"{stages[stage]:.1f}")
    table.add_row("Airflow overhead (dag.test start, scheduling)", "", f"{total_s - accounted:.1f}")
    table.add_row("[b]total[/b]", result["state"], f"[b]{total_s:.1f}[/b]")
    console.print(table)
    verdict = "meets" if total_s < TARGET_S and result["state"] == "success" else "MISSES"
    console.print(f"{verdict} the {TARGET_S:.0f} s target; {packets / total_s:,.0f} packets/s end to end")
    out = REPO / ".cache" / "bench" / f"ingest-latency-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"packets": packets, "megabytes": size_mb, "upload_s": upload_s,
                               "total_s": total_s, "stages": stages, "result": result}, indent=2))  # fmt: skip
    console.print(f"JSON: {out}")
    return 0 if verdict == "meets" else 1


if __name__ == "__main__":
    sys.exit(main())
