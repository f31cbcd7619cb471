"""Spark's own launchers (`bin/spark-sql`, `bin/spark-submit`, `bin/beeline` from the pyspark wheel) configured by
the project: a private SPARK_CONF_DIR under settings.home holds a spark-defaults.conf with exactly
`netqos.spark.session.spark_conf(settings)` (Delta extensions, jars, warehouse, metastore, UTC).

The file is readable by its owner only; it holds no password (the metastore password reaches Hive from the
environment, see `netqos.spark.session.metastore_env`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from netqos.jars import spark_home
from netqos.orchestration.local_procs import write_private
from netqos.settings import Settings
from netqos.spark.session import metastore_env, spark_conf


def conf_dir(settings: Settings) -> Path:
    return settings.home / "spark-conf"


def spark_defaults(settings: Settings) -> str:
    """spark-defaults.conf text (java.util.Properties syntax: `key value`, backslashes and newlines escaped)."""
    lines = ["# Written by netqos (netqos.sql.launch) from netqos.spark.session.spark_conf(settings); do not edit."]
    for key, value in sorted(spark_conf(settings).items()):
        escaped = value.replace("\\", "\\\\").replace("\n", "\\n")
        lines.append(f"{key} {escaped}")
    return "\n".join(lines) + "\n"


def write_conf_dir(settings: Settings) -> Path:
    """(Re)write the private SPARK_CONF_DIR and return it."""
    folder = conf_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    target = folder / "spark-defaults.conf"
    tmp = target.with_suffix(".tmp")
    write_private(tmp, spark_defaults(settings))
    tmp.replace(target)
    return folder


def launcher_env(settings: Settings) -> dict[str, str]:
    """The environment for a Spark launcher: this SPARK_HOME and conf dir, loopback, the metastore password."""
    env = dict(os.environ)
    env.update(
        {
            "SPARK_HOME": str(spark_home()),
            "SPARK_CONF_DIR": str(write_conf_dir(settings)),
            "PYSPARK_PYTHON": sys.executable,
        }
    )
    if settings.spark.master.startswith("local"):
        env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    env.update(metastore_env(settings))
    return env


def spark_sql_argv(settings: Settings, extra: list[str]) -> list[str]:
    """`bin/spark-sql` in the netqos database (when the catalog has it) plus the user's own arguments."""
    argv = [str(spark_home() / "bin" / "spark-sql")]
    if "--database" not in extra:
        argv += ["--database", settings.lake.database]
    return argv + extra


def exec_spark_sql(settings: Settings, extra: list[str]) -> None:
    """Replace this process with the project's spark-sql shell (never returns)."""
    argv = spark_sql_argv(settings, extra)
    os.execve(argv[0], argv, launcher_env(settings))
