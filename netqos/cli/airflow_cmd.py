"""`netqos airflow up|down|status`: a real local Airflow 3 (PostgreSQL, MinIO, api-server, scheduler,
dag-processor, triggerer; optionally Celery workers and a Spark standalone cluster) on 127.0.0.1 with its state in
one folder; docs/airflow.md, docs/deploy.md."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("airflow", help="run a local Airflow (PostgreSQL + MinIO + all components) for the DAGs")
    actions = p.add_subparsers(dest="airflow_action", required=True)

    up = actions.add_parser("up", help="start everything (idempotent) and print the UI URL and admin login")
    _state_arg(up)
    up.add_argument("--port", type=int, default=8080, help="api-server / UI port (default 8080)")
    up.add_argument("--postgres-port", type=int, default=54329, help="PostgreSQL port (default 54329)")
    up.add_argument("--minio-port", type=int, default=9000, help="MinIO port (default 9000)")
    up.add_argument("--mlflow-port", type=int, default=5000, help="MLflow tracking server / UI port (default 5000)")
    up.add_argument("--spark-master", default="local[*]",
                    help="master of the spark_default connection: local[*] (default) or spark://host:7077")  # fmt: skip
    up.add_argument(
        "--executor",
        choices=("local", "celery"),
        default="local",
        help="LocalExecutor (default) or CeleryExecutor with a Redis broker and --celery-workers workers",
    )
    up.add_argument("--celery-workers", type=int, default=2, help="Celery workers, one task each (default 2)")
    up.add_argument("--redis-port", type=int, default=6379, help="Redis (Celery broker) port (default 6379)")
    up.add_argument(
        "--spark-workers",
        type=int,
        default=0,
        help="start a Spark standalone cluster of N workers (1 core each) and run the DAGs' jobs on it",
    )
    up.add_argument("--spark-worker-memory", default="2g", help="memory each Spark worker offers (default 2g)")
    up.add_argument("--warehouse-dir", type=Path, help="Delta warehouse of the DAGs (default <state>/lake/warehouse)")
    up.add_argument("--no-schedules", dest="schedules", action="store_false",
                    help="no scheduled runs (only runs triggered from the UI, the REST API or the CLI)")  # fmt: skip
    up.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for readiness (default 300)")
    up.set_defaults(run=run_up)

    down = actions.add_parser("down", help="stop everything `up` started")
    _state_arg(down)
    down.add_argument("--purge-db", action="store_true", help="also delete the PostgreSQL cluster")
    down.set_defaults(run=run_down)

    st = actions.add_parser("status", help="what is running")
    _state_arg(st)
    st.set_defaults(run=run_status)


def _state_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state-dir", type=Path,
                   help="state folder (default <NETQOS_HOME or ~/.cache/netqos>/airflow)")  # fmt: skip


def _state(args: argparse.Namespace) -> Path:
    from netqos.orchestration.local_airflow import default_state_dir

    return Path(args.state_dir).resolve() if args.state_dir else default_state_dir()


def run_up(args: argparse.Namespace) -> int:
    from rich.console import Console

    from netqos.orchestration.local_airflow import LocalAirflowConfig, LocalAirflowError, up
    from netqos.orchestration.local_celery import LocalCeleryError
    from netqos.orchestration.local_postgres import PostgresError
    from netqos.orchestration.spark_cluster import SparkClusterError

    console = Console(stderr=True, log_path=False)
    config = LocalAirflowConfig(
        state_dir=_state(args), api_port=args.port, postgres_port=args.postgres_port, minio_port=args.minio_port,
        mlflow_port=args.mlflow_port, spark_master=args.spark_master, executor=args.executor,
        celery_workers=args.celery_workers, redis_port=args.redis_port, spark_workers=args.spark_workers,
        spark_worker_memory=args.spark_worker_memory,
        warehouse_dir=args.warehouse_dir.resolve() if args.warehouse_dir else None,
        startup_timeout=args.timeout, schedules=args.schedules,
    )  # fmt: skip
    try:
        with console.status("starting local Airflow") as spinner:

            def say(message: str) -> None:
                console.log(message)
                spinner.update(message)

            result = up(config, say=say)
    except (LocalAirflowError, LocalCeleryError, SparkClusterError, PostgresError, OSError,
            subprocess.CalledProcessError) as exc:  # fmt: skip
        console.print(f"[red]netqos airflow up failed:[/red] {exc}")
        console.print(f"logs: {config.state_dir / 'logs'}; stop what started with `netqos airflow down`")
        return 1
    verb = "already running" if result.already_running else f"ready in {result.seconds:.0f} s"
    print(f"Airflow {verb}: {result.url}")
    print(f"  user:     {result.user}")
    print(f"  password: {result.password}   (local dev login; also in {result.passwords_file})")
    print(f"  MLflow:   {result.mlflow_url}  (tracking server and model registry UI)")
    print(f"  state:    {result.state_dir}  (logs in {result.state_dir / 'logs'})")
    print("  stop:     netqos airflow down" + (f" --state-dir {result.state_dir}" if args.state_dir else ""))
    return 0


def run_down(args: argparse.Namespace) -> int:
    from netqos.orchestration.local_airflow import down

    stopped = down(_state(args), purge_db=args.purge_db)
    print("stopped: " + ", ".join(stopped) if stopped else "nothing was running")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from netqos.orchestration.local_airflow import status

    state_dir = _state(args)
    table = Table(title=f"local Airflow in {state_dir}")
    for column in ("component", "state", "pid", "where"):
        table.add_column(column)
    rows = status(state_dir)
    for row in rows:
        state = "[green]running[/green]" if row.pid else "[red]stopped[/red]"
        table.add_row(row.name, state, str(row.pid or ""), row.detail)
    (Console() if sys.stdout.isatty() else Console(width=200)).print(table)
    return 0 if all(r.pid for r in rows) else 3
