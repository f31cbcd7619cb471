"""`netqos cluster up|down|status`: a Spark standalone cluster (master + workers via spark-class) on 127.0.0.1, for
jobs submitted with `--master spark://127.0.0.1:7077` (docs/deploy.md). Executors inherit the workers' environment:
export NETQOS_S3__* before `up` when the jobs read s3:// captures."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("cluster", help="run a local Spark standalone cluster (master + workers)")
    actions = p.add_subparsers(dest="cluster_action", required=True)
    up = actions.add_parser("up", help="start the master and the workers (idempotent); prints the master URL")
    _state_arg(up)
    up.add_argument("--workers", type=int, default=2, help="workers (default 2)")
    up.add_argument("--cores", type=int, default=1, help="cores per worker (default 1)")
    up.add_argument("--memory", default="2g", help="memory per worker for executors (default 2g)")
    up.add_argument("--port", type=int, default=7077, help="master port (default 7077)")
    up.add_argument("--ui-port", type=int, default=8081, help="master web UI port (default 8081)")
    up.set_defaults(run=run_up)
    down = actions.add_parser("down", help="stop the workers and the master")
    _state_arg(down)
    down.set_defaults(run=run_down)
    st = actions.add_parser("status", help="what is running")
    _state_arg(st)
    st.set_defaults(run=run_status)


def _state_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--state-dir", type=Path, help="state folder (default <NETQOS_HOME or ~/.cache/netqos>/spark-cluster)"
    )


def _state(args: argparse.Namespace) -> Path:
    from netqos.orchestration.spark_cluster import default_state_dir

    return Path(args.state_dir).resolve() if args.state_dir else default_state_dir()


def run_up(args: argparse.Namespace) -> int:
    from netqos.orchestration.spark_cluster import SparkClusterConfig, SparkClusterError, up

    config = SparkClusterConfig(state_dir=_state(args), master_port=args.port, master_ui_port=args.ui_port,
                                workers=args.workers, worker_cores=args.cores, worker_memory=args.memory)  # fmt: skip
    try:
        master = up(config)
    except (SparkClusterError, OSError) as exc:
        print(f"netqos cluster up failed: {exc}")
        return 1
    print(f"Spark master: {master}  (UI {config.master_ui})")
    print(f"  submit:  spark-submit --master {master} ...   or   netqos airflow up --spark-master {master}")
    print("  stop:    netqos cluster down" + (f" --state-dir {config.state_dir}" if args.state_dir else ""))
    return 0


def run_down(args: argparse.Namespace) -> int:
    from netqos.orchestration.spark_cluster import down

    stopped = down(_state(args))
    print("stopped: " + ", ".join(stopped) if stopped else "nothing was running")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from netqos.orchestration.spark_cluster import status

    rows = status(_state(args))
    for name, pid, detail in rows:
        print(f"{name:10} {'running' if pid else 'stopped':8} {pid or '':>8}  {detail}")
    return 0 if all(pid for _, pid, _ in rows) else 3
