"""The Spark Thrift Server (HiveServer2 protocol: JDBC/ODBC for BI tools and beeline) on the netqos catalog.

`bin/spark-submit --class org.apache.spark.sql.hive.thriftserver.HiveThriftServer2` (the pip package has no
sbin/start-thriftserver.sh), bound to 127.0.0.1:`settings.lake.thrift_port`, with its pid file and log in
`<settings.home>/thrift/`. With the embedded Derby metastore the server holds the catalog alone; with PostgreSQL
(`lake.metastore_url`) jobs and `netqos sql` keep working beside it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from netqos.settings import Settings
from netqos.sql.launch import launcher_env, spark_home

MAIN_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
HOST = "127.0.0.1"


class ThriftError(RuntimeError):
    pass


@dataclass(frozen=True)
class ThriftState:
    pid: int
    port: int
    log: Path
    started_at: float

    def jdbc_url(self, database: str) -> str:
        return f"jdbc:hive2://{HOST}:{self.port}/{database}"


def state_dir(settings: Settings) -> Path:
    return settings.home / "thrift"


def pid_file(settings: Settings) -> Path:
    return state_dir(settings) / "thrift.pid"


def log_file(settings: Settings) -> Path:
    return state_dir(settings) / "thrift.log"


def submit_argv(settings: Settings, port: int) -> list[str]:
    return [
        str(spark_home() / "bin" / "spark-submit"),
        "--class",
        MAIN_CLASS,
        "--name",
        "netqos-thrift",
        "spark-internal",
        "--hiveconf",
        f"hive.server2.thrift.bind.host={HOST}",
        "--hiveconf",
        f"hive.server2.thrift.port={port}",
        "--hiveconf",
        "hive.server2.transport.mode=binary",
    ]


def read_state(settings: Settings) -> ThriftState | None:
    try:
        raw = json.loads(pid_file(settings).read_text())
        return ThriftState(int(raw["pid"]), int(raw["port"]), Path(raw["log"]), float(raw["started_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _is_our_server(pid: int) -> bool:
    """The pid is alive and still the Thrift server (not a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return MAIN_CLASS.encode() in cmdline


def _port_open(port: int, timeout: float = 1.0) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=timeout):
        return True
    return False


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def status(settings: Settings) -> tuple[ThriftState | None, str]:
    """(state, one-line description); state is None when no server of ours runs (a stale pid file is removed)."""
    state = read_state(settings)
    if state is None:
        return None, "not running"
    if not _is_our_server(state.pid):
        pid_file(settings).unlink(missing_ok=True)
        return None, f"not running (removed the stale pid file of pid {state.pid})"
    if not _port_open(state.port):
        return state, f"starting (pid {state.pid}, port {state.port} not open yet; log {state.log})"
    url = state.jdbc_url(settings.lake.database)
    return state, f"running: pid {state.pid}, {url} (log {state.log})"


def start(settings: Settings, *, port: int | None = None, timeout: float = 300.0) -> ThriftState:
    """Start the server and wait until it accepts connections; a running one is returned as it is."""
    state, _ = status(settings)
    if state is not None:
        return state
    port = port or settings.lake.thrift_port
    if not _free(port):
        raise ThriftError(f"port {HOST}:{port} is in use: pick another with --port or NETQOS_LAKE__THRIFT_PORT")
    folder = state_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    log = log_file(settings)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            submit_argv(settings, port),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,  # stray files (spark-warehouse/, derby.log) never land in the caller's cwd
            env=launcher_env(settings),
            start_new_session=True,  # its own process group: `stop` ends the JVM and nothing else
        )
    state = ThriftState(proc.pid, port, log, time.time())
    pid_file(settings).write_text(
        json.dumps({"pid": state.pid, "port": port, "log": str(log), "started_at": state.started_at})
    )
    deadline = time.monotonic() + timeout
    while not _port_open(port):
        if proc.poll() is not None:
            pid_file(settings).unlink(missing_ok=True)
            raise ThriftError(f"the Thrift server exited ({proc.returncode}) before listening:\n{_tail(log)}")
        if time.monotonic() > deadline:
            stop(settings)
            raise ThriftError(
                f"the Thrift server did not listen on {HOST}:{port} within {timeout:.0f} s:\n{_tail(log)}"
            )
        time.sleep(0.5)
    return state


def stop(settings: Settings, *, timeout: float = 60.0) -> bool:
    """SIGTERM the server's process group, SIGKILL after `timeout`; False when none was running."""
    state = read_state(settings)
    if state is None:
        return False
    if not _is_our_server(state.pid):
        pid_file(settings).unlink(missing_ok=True)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _is_our_server(state.pid) and time.monotonic() < deadline:
        _reap(state.pid)
        time.sleep(0.3)
    if _is_our_server(state.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(state.pid, signal.SIGKILL)
        _reap(state.pid)
    pid_file(settings).unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    """Collect the exit status when this process started the server (else it would stay a zombie)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"
