"""The Spark Thrift Server (HiveServer2 protocol: JDBC/ODBC for BI tools and beeline) on the netqos catalog.

`bin/spark-submit --class org.apache.spark.sql.hive.thriftserver.HiveThriftServer2` (the pip package has no
sbin/start-thriftserver.sh), bound to 127.0.0.1:`settings.lake.thrift_port`, with its pid file and log in
`<settings.home>/thrift/`. With the embedded Derby metastore the server holds the catalog alone; with PostgreSQL
(`lake.metastore_url`) jobs and `netqos sql` keep working beside it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from netqos.jars import spark_home
from netqos.orchestration.local_procs import log_tail, pid_alive, port_free, read_pid, running_pid, spawn, stop_group
from netqos.settings import Settings
from netqos.sql.launch import launcher_env

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


def port_file(settings: Settings) -> Path:
    return state_dir(settings) / "thrift.json"


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
    """The running server of ours (pid alive and still the Thrift server, not a recycled pid), else None."""
    pid = running_pid(pid_file(settings), MAIN_CLASS)
    if pid is None:
        return None
    try:
        raw = json.loads(port_file(settings).read_text())
        return ThriftState(pid, int(raw["port"]), log_file(settings), float(raw["started_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _forget(settings: Settings) -> None:
    pid_file(settings).unlink(missing_ok=True)
    port_file(settings).unlink(missing_ok=True)


def _port_open(port: int, timeout: float = 1.0) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=timeout):
        return True
    return False


def status(settings: Settings) -> tuple[ThriftState | None, str]:
    """(state, one-line description); state is None when no server of ours runs (a stale pid file is removed)."""
    state = read_state(settings)
    if state is None:
        recorded = read_pid(pid_file(settings))
        if recorded is None:
            return None, "not running"
        _forget(settings)
        return None, f"not running (removed the stale pid file of pid {recorded})"
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
    if not port_free(port, HOST):
        raise ThriftError(f"port {HOST}:{port} is in use: pick another with --port or NETQOS_LAKE__THRIFT_PORT")
    folder = state_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    log = log_file(settings)
    # its own process group (`stop` ends the JVM and nothing else); cwd: stray spark-warehouse/ or derby.log never
    # land in the caller's directory
    pid = spawn(submit_argv(settings, port), env=launcher_env(settings), log_path=log, pid_file=pid_file(settings),
                cwd=folder)  # fmt: skip
    state = ThriftState(pid, port, log, time.time())
    port_file(settings).write_text(json.dumps({"port": port, "started_at": state.started_at}))
    deadline = time.monotonic() + timeout
    while not _port_open(port):
        if not pid_alive(pid):
            _forget(settings)
            raise ThriftError(f"the Thrift server exited before listening:\n{log_tail(log, 40)}")
        if time.monotonic() > deadline:
            stop(settings)
            raise ThriftError(
                f"the Thrift server did not listen on {HOST}:{port} within {timeout:.0f} s:\n{log_tail(log, 40)}"
            )
        time.sleep(0.5)
    return state


def stop(settings: Settings, *, timeout: float = 60.0) -> bool:
    """SIGTERM the server's process group, SIGKILL after `timeout`; False when none was running."""
    pid = running_pid(pid_file(settings), MAIN_CLASS)
    if pid is not None:
        stop_group(pid, timeout)
    _forget(settings)
    return pid is not None
