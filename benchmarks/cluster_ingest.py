"""Ingest throughput per executor core: the ingest job (parse → flows → QoS windows, with its quality gates) by
spark-submit on local[1], and on a Spark standalone cluster of 1 and of 2 one-core workers, on the same capture
split into files; tshark (with TCP analysis) on the same files, one core, as the peer. The sizing numbers of
docs/deploy.md come from here.

    .venv/bin/python benchmarks/cluster_ingest.py [--packets 400000] [--files 8] [--json PATH]

Each configuration gets a fresh warehouse. "pkt/s per core" = packets / (stage seconds * executor cores): what one
executor core sustains, fixed costs included (JVM start, GX gates, Delta commits), so it rises with batch size.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import gen_capture  # noqa: E402

from netqos.jars import spark_jars  # noqa: E402
from netqos.orchestration import spark_cluster  # noqa: E402
from netqos.settings import Settings  # noqa: E402

STAGES = re.compile(r"ingest timings: (.*)")
STAGE = re.compile(r"([a-z_][a-z_ -]*?) (\d+(?:\.\d+)?)s\b")
PACKETS_PER_FLOW = 40


@dataclass
class Result:
    config: str
    cores: int
    wall_s: float
    stages: dict[str, float]
    packets: int

    @property
    def work_s(self) -> float:
        return sum(v for k, v in self.stages.items() if k in ("parse", "build_flows", "qos_windows"))

    @property
    def per_core(self) -> float:
        return self.packets / (self.work_s * self.cores) if self.work_s else 0.0


def split_capture(path: Path, files: int, packets: int, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    per_file = -(-packets // files)
    subprocess.run(["editcap", "-c", str(per_file), str(path), str(out / "part.pcap")], check=True)
    return sorted(out.glob("part*.pcap"))


def run_ingest(master: str, captures: Path, warehouse: Path) -> tuple[float, dict[str, float]]:
    settings = Settings()
    class_path = os.pathsep.join(str(p) for p in spark_jars(settings.spark.jars_dir))  # read in place, as the DAGs do
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETQOS_LAKE__")}
    env.update(NETQOS_LAKE__WAREHOUSE_DIR=str(warehouse), PYSPARK_PYTHON=sys.executable, SPARK_LOCAL_IP="127.0.0.1")
    cmd = [str(Path(sys.executable).with_name("spark-submit")), "--master", master, "--driver-class-path", class_path,
           "--conf", f"spark.executor.extraClassPath={class_path}",
           "--conf", "spark.ui.enabled=false", "--conf", "spark.sql.session.timeZone=UTC",
           "--executor-memory", "1g", str(REPO / "jobs" / "spark" / "ingest.py"), str(captures),
           "--sensor", "bench", "--run-id", "bench"]  # fmt: skip
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=warehouse.parent)
    wall = time.monotonic() - started
    if proc.returncode:
        raise RuntimeError(f"ingest on {master} failed:\n{proc.stderr[-4000:]}")
    found = STAGES.findall(proc.stdout + proc.stderr)
    stages = {name.strip(): float(s) for name, s in STAGE.findall(found[-1])} if found else {}
    return wall, stages


def run_tshark(files: list[Path]) -> float:
    started = time.monotonic()
    for f in files:
        subprocess.run(["tshark", "-r", str(f), "-T", "fields", "-e", "frame.number", "-e", "tcp.analysis.flags",
                        "-e", "tcp.analysis.ack_rtt"], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packets", type=int, default=400_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    console = Console()
    root = Path(tempfile.mkdtemp(prefix="netqos-cluster-bench-"))
    try:
        capture = root / "mixed.pcap"
        gen_capture.generate(capture, args.packets, flows=args.packets // PACKETS_PER_FLOW)
        files = split_capture(capture, args.files, args.packets, root / "captures")
        console.print(f"{args.packets:,} packets in {len(files)} files ({capture.stat().st_size / 1e6:.0f} MB)")
        results: list[Result] = []
        configs = [("local[1]", "local[1]", 1, 0), ("cluster, 1 worker", "", 1, 1), ("cluster, 2 workers", "", 2, 2)]
        for label, master, cores, workers in configs:
            cluster_dir = root / f"cluster-{workers}"
            if workers:
                cfg = spark_cluster.SparkClusterConfig(state_dir=cluster_dir, master_port=17177,
                                                       master_ui_port=18181, workers=workers,
                                                       worker_memory="1536m")  # fmt: skip
                master = spark_cluster.up(cfg, say=lambda m: None)
            try:
                warehouse = root / f"lake-{label.replace(' ', '').replace(',', '_')}" / "warehouse"
                warehouse.mkdir(parents=True)
                with console.status(f"ingest on {label}"):
                    wall, stages = run_ingest(master, root / "captures", warehouse)
            finally:
                if workers:
                    spark_cluster.down(cluster_dir, say=lambda m: None)
            results.append(Result(label, cores, wall, stages, args.packets))
            console.print(f"{label}: {wall:.0f} s wall; stages {stages}")
        with console.status("tshark"):
            tshark_s = run_tshark(files)
        tshark_rate = args.packets / tshark_s

        table = Table(title=f"ingest job, {args.packets:,} packets, {len(files)} files")
        for col in ("where", "executor cores", "wall s", "parse s", "flows s", "windows s", "pkt/s", "pkt/s per core",
                    "x tshark per core"):  # fmt: skip
            table.add_column(col, justify="right" if col != "where" else "left")
        for r in results:
            table.add_row(r.config, str(r.cores), f"{r.wall_s:.0f}", f"{r.stages.get('parse', 0):.1f}",
                          f"{r.stages.get('build_flows', 0):.1f}", f"{r.stages.get('qos_windows', 0):.1f}",
                          f"{r.packets / r.work_s:,.0f}" if r.work_s else "—", f"{r.per_core:,.0f}",
                          f"{r.per_core / tshark_rate:.2f}")  # fmt: skip
        table.add_row("tshark -T fields (TCP analysis)", "1", f"{tshark_s:.0f}", "", "", "", f"{tshark_rate:,.0f}",
                      f"{tshark_rate:,.0f}", "1.00")  # fmt: skip
        console.print(table)
        load = os.getloadavg()[0]
        console.print(f"load average (1 min) at the end: {load:.1f} on {os.cpu_count()} cores")
        out = args.json or REPO / ".cache" / "bench" / f"cluster-ingest-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        rows = [asdict(r) | {"per_core": r.per_core} for r in results]
        summary = {"packets": args.packets, "files": len(files), "tshark_s": tshark_s, "load": load, "results": rows}
        out.write_text(json.dumps(summary, indent=2))
        console.print(f"JSON: {out}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
