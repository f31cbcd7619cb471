"""A real Spark standalone cluster on this machine: one master and N workers started with `spark-class` from the
pyspark install (`netqos cluster up|down|status`; `netqos airflow up --spark-workers N` starts one for the DAGs).

The workers are the cluster's nodes: executors inherit their environment, so the node-level settings the jobs'
Python code needs on executors (PYSPARK_PYTHON, NETQOS_S3__* — on AWS an instance role plays that part) are given
to the workers here, never put into Spark conf (which the UI and event logs show).

State dir (default <NETQOS_HOME or ~/.cache/netqos>/spark-cluster): cluster.json (ports), logs/, run/*.pid,
work/<worker>/ (executor stdout/stderr and the files Spark ships to executors).
Standard library only: `netqos cluster status` must not import pyspark's JVM side.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from netqos.jars import spark_home
from netqos.orchestration.local_procs import (
    how_it_ended_by_file,
    log_tail,
    netqos_home,
    port_free,
    running_pid,
    spawn,
    stop_group,
)

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
HOST = "127.0.0.1"

Say = Callable[[str], None]


class SparkClusterError(RuntimeError):
    pass


def default_state_dir() -> Path:
    return netqos_home() / "spark-cluster"


@dataclass(frozen=True)
class SparkClusterConfig:
    state_dir: Path = field(default_factory=default_state_dir)
    master_port: int = 7077
    master_ui_port: int = 8081
    workers: int = 2
    worker_cores: int = 1
    worker_memory: str = "2g"  # what the worker offers to executors (spark.executor.memory must fit in it)
    startup_timeout: float = 120.0

    @property
    def master_url(self) -> str:
        return f"spark://{HOST}:{self.master_port}"

    @property
    def master_ui(self) -> str:
        return f"http://{HOST}:{self.master_ui_port}"

    def to_json(self) -> str:
        return json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}, indent=2) + "\n"

    @classmethod
    def load(cls, state_dir: Path) -> SparkClusterConfig:
        try:
            d: dict[str, Any] = json.loads((state_dir / "cluster.json").read_text())
        except (OSError, ValueError):
            return cls(state_dir=state_dir)
        d["state_dir"] = state_dir
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def _names(config: SparkClusterConfig) -> list[str]:
    return ["master", *(f"worker-{i}" for i in range(1, config.workers + 1))]


def _pid_file(config: SparkClusterConfig, name: str) -> Path:
    return config.state_dir / "run" / f"{name}.pid"


def _log(config: SparkClusterConfig, name: str) -> Path:
    return config.state_dir / "logs" / f"{name}.log"


def _running(config: SparkClusterConfig, name: str) -> int | None:
    return running_pid(_pid_file(config, name), MASTER_CLASS if name == "master" else WORKER_CLASS)


def node_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of the master and the workers (and so of every executor)."""
    env = dict(os.environ)
    env.update(
        SPARK_HOME=str(spark_home()),
        PYSPARK_PYTHON=sys.executable,  # executors run the project's interpreter, with netqos importable
        SPARK_LOCAL_IP=HOST,
        SPARK_NO_DAEMONIZE="1",  # spark-class runs in the foreground anyway; this keeps it so
        # Finished applications' work dirs (executor logs, shipped files) are deleted after an hour.
        SPARK_WORKER_OPTS="-Dspark.worker.cleanup.enabled=true -Dspark.worker.cleanup.interval=600"
        " -Dspark.worker.cleanup.appDataTtl=3600",
    )
    env.update(extra or {})
    return env


def master_state(config: SparkClusterConfig, timeout: float = 5.0) -> dict[str, Any]:
    """The master's JSON status page: workers (state ALIVE/DEAD), cores, active and completed applications."""
    with urllib.request.urlopen(f"{config.master_ui}/json/", timeout=timeout) as r:
        state: dict[str, Any] = json.loads(r.read())
    return state


def up(config: SparkClusterConfig | None = None, *, env: Mapping[str, str] | None = None, say: Say = print) -> str:
    """Start the master and the workers that are not running; wait until every worker is ALIVE at the master.
    `env`: node-level environment for executors (e.g. NETQOS_S3__*). Returns the master URL."""
    config = config or SparkClusterConfig()
    for d in ("logs", "run", "work"):
        (config.state_dir / d).mkdir(parents=True, exist_ok=True)
    spark_class = str(spark_home() / "bin" / "spark-class")
    full_env = node_env(env)
    if _running(config, "master") is None:
        for port in (config.master_port, config.master_ui_port):
            if not port_free(port, HOST):
                raise SparkClusterError(f"port {port} is taken: choose other master ports")
        (config.state_dir / "cluster.json").write_text(config.to_json())
        say(f"starting the Spark master on {config.master_url} (UI {config.master_ui})")
        spawn([spark_class, MASTER_CLASS, "--host", HOST, "--port", str(config.master_port),
               "--webui-port", str(config.master_ui_port)],
              env=full_env, log_path=_log(config, "master"), pid_file=_pid_file(config, "master"),
              cwd=config.state_dir)  # fmt: skip
    for name in _names(config)[1:]:
        if _running(config, name) is None:
            work = config.state_dir / "work" / name
            work.mkdir(parents=True, exist_ok=True)
            say(f"starting Spark {name} ({config.worker_cores} core, {config.worker_memory})")
            # --webui-port 0: an ephemeral port, so workers never collide with each other or other stacks.
            spawn([spark_class, WORKER_CLASS, config.master_url, "--host", HOST, "--cores", str(config.worker_cores),
                   "--memory", config.worker_memory, "--work-dir", str(work), "--webui-port", "0"],
                  env=full_env, log_path=_log(config, name), pid_file=_pid_file(config, name),
                  cwd=config.state_dir)  # fmt: skip
    _wait_workers(config)
    return config.master_url


def _wait_workers(config: SparkClusterConfig) -> None:
    deadline = time.monotonic() + config.startup_timeout
    alive = 0
    while time.monotonic() < deadline:
        for name in _names(config):
            if _running(config, name) is None:
                ended = how_it_ended_by_file(_pid_file(config, name))
                raise SparkClusterError(f"Spark {name} {ended}; {_log(config, name)}:\n{log_tail(_log(config, name))}")
        try:
            workers = master_state(config).get("workers", [])
            alive = sum(1 for w in workers if w.get("state") == "ALIVE")
            if alive >= config.workers:
                return
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(1)
    raise SparkClusterError(
        f"{alive} of {config.workers} Spark workers registered after {config.startup_timeout:.0f} s;"
        f" logs in {config.state_dir / 'logs'}"
    )


def down(state_dir: Path | None = None, say: Say = print) -> list[str]:
    """Stop the workers, then the master; returns what was stopped."""
    config = SparkClusterConfig.load(state_dir or default_state_dir())
    stopped = []
    for name in reversed(_names(config)):
        pid = _running(config, name)
        if pid is not None:
            say(f"stopping Spark {name} (pid {pid})")
            stop_group(pid)
            stopped.append(name)
        _pid_file(config, name).unlink(missing_ok=True)
    return stopped


def status(state_dir: Path | None = None) -> list[tuple[str, int | None, str]]:
    """(component, pid or None, detail) for the master and each worker."""
    config = SparkClusterConfig.load(state_dir or default_state_dir())
    rows: list[tuple[str, int | None, str]] = []
    for name in _names(config):
        detail = config.master_url if name == "master" else str(_log(config, name))
        rows.append((name, _running(config, name), detail))
    return rows
