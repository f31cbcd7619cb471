"""CeleryExecutor for the local stack (`netqos airflow up --executor celery --celery-workers N`): a Redis broker on
127.0.0.1 (Debian's redis-server, password in a 0600 config file), results in the Airflow PostgreSQL database, and
N `airflow celery worker` processes, each taking one task at a time — the same topology as workers on N machines.

Standard library only (like local_airflow): nothing here imports Airflow or Celery.
"""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from netqos.orchestration.local_procs import (
    Secrets,
    how_it_ended,
    how_it_ended_by_file,
    log_tail,
    running_pid,
    spawn,
    write_private,
)

CELERY_EXECUTOR = "CeleryExecutor"
LOCAL_EXECUTOR = "LocalExecutor"
REDIS_MARKER = "redis-server"
WORKER_MARKER = "celery"

Say = Callable[[str], None]


class LocalCeleryError(RuntimeError):
    pass


def worker_names(count: int) -> list[str]:
    return [f"celery-worker-{i}" for i in range(1, count + 1)]


def celery_env(redis_port: int, secrets: Secrets, db_url: str) -> dict[str, str]:
    """Airflow settings of the CeleryExecutor; the URLs hold passwords, so they travel only in the environment."""
    return {
        "AIRFLOW__CORE__EXECUTOR": CELERY_EXECUTOR,
        "AIRFLOW__CELERY__BROKER_URL": f"redis://:{secrets.redis_password}@127.0.0.1:{redis_port}/0",
        # Celery's SQLAlchemy result backend wants a synchronous driver URL prefixed with db+.
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + db_url,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
        # A task whose worker dies goes back to the queue for another worker, instead of waiting for a timeout.
        "AIRFLOW__CELERY__TASK_ACKS_LATE": "True",
    }


def _redis_conf(state_dir: Path, port: int, secrets: Secrets) -> Path:
    conf = state_dir / "secrets" / "redis.conf"  # beside the other secrets (0700 folder)
    (state_dir / "redis").mkdir(parents=True, exist_ok=True)
    # A queue, not a database: no snapshots; the password stays off the command line (config file, 0600).
    write_private(
        conf,
        "\n".join([
            "bind 127.0.0.1", f"port {port}", "protected-mode yes", "save \"\"", "appendonly no",
            f"dir {state_dir / 'redis'}", f"requirepass {secrets.redis_password}", "",
        ]),
    )  # fmt: skip
    return conf


def redis_running(pid_file: Path) -> int | None:
    return running_pid(pid_file, REDIS_MARKER)


def start_redis(state_dir: Path, port: int, secrets: Secrets, *, log: Path, pid_file: Path, say: Say) -> None:
    if redis_running(pid_file) is not None:
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise LocalCeleryError("redis-server not found: `make tools` installs it (apt redis-server)")
    say(f"starting Redis (Celery broker) on 127.0.0.1:{port}")
    conf = _redis_conf(state_dir, port, secrets)
    pid = spawn([binary, str(conf)], env={"PATH": "/usr/bin:/bin"}, log_path=log, pid_file=pid_file, cwd=state_dir)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if redis_running(pid_file) is None:
            raise LocalCeleryError(f"redis-server {how_it_ended(pid)}; {log}:\n{log_tail(log)}")
        if _answers_ping(port):
            return
        time.sleep(0.2)
    raise LocalCeleryError(f"redis-server not ready on port {port} after 30 s; see {log}")


def _answers_ping(port: int) -> bool:
    """A PING before AUTH: any RESP reply (+PONG or -NOAUTH) means the server is accepting commands."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64)[:1] in (b"+", b"-")
    except OSError:
        return False


def start_workers(
    count: int,
    *,
    airflow_bin: str,
    env: Mapping[str, str],
    logs: Path,
    run: Path,
    cwd: Path,
    say: Say,
) -> None:
    for name in worker_names(count):
        pid_file = run / f"{name}.pid"
        if running_pid(pid_file, WORKER_MARKER) is not None:
            continue
        say(f"starting airflow {name}")
        # Own Celery node names (two workers on one host); no log server: the api-server reads the local task logs.
        spawn([airflow_bin, "celery", "worker", "--concurrency", "1", "--celery-hostname", f"{name}@%h",
               "--skip-serve-logs", "--without-gossip", "--without-mingle"],
              env=env, log_path=logs / f"{name}.log", pid_file=pid_file, cwd=cwd)  # fmt: skip


def check_workers(count: int, *, logs: Path, run: Path) -> None:
    for name in worker_names(count):
        pid_file = run / f"{name}.pid"
        if running_pid(pid_file, WORKER_MARKER) is None:
            log = logs / f"{name}.log"
            raise LocalCeleryError(f"airflow {name} {how_it_ended_by_file(pid_file)}; see {log}:\n{log_tail(log)}")
