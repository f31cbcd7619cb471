"""Metastore confs (embedded Derby vs PostgreSQL), the project's spark-defaults.conf and launchers, the Thrift
server's argv and state, checked without starting a JVM."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from netqos.jars import JarsMissingError, spark_home
from netqos.settings import LakeSettings, Settings, SparkSettings
from netqos.spark.session import METASTORE_PASSWORD_ENV, metastore_env, spark_conf
from netqos.sql import launch, thrift

pytestmark = pytest.mark.unit

PG_URL = "jdbc:postgresql://127.0.0.1:5433/netqos_metastore"
PASSWORD = "pw-Sx81-never-printed"
JDO = "spark.hadoop.javax.jdo.option."


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("NETQOS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def make_settings(tmp_path: Path, *, postgres: bool, driver: bool = True) -> Settings:
    jars = tmp_path / "jars"
    jars.mkdir(exist_ok=True)
    names = ["delta-spark_4.2_2.13-4.4.0.jar"] + (["postgresql-42.7.14.jar"] if driver else [])
    for name in names:
        (jars / name).write_bytes(b"")
    lake = LakeSettings(warehouse_dir=tmp_path / "lake" / "warehouse")
    if postgres:
        lake = LakeSettings(
            warehouse_dir=tmp_path / "lake" / "warehouse",
            metastore_url=PG_URL,
            metastore_user="netqos",
            metastore_password=PASSWORD,
            thrift_port=10123,
        )
    return Settings(home=tmp_path / "home", lake=lake, spark=SparkSettings(jars_dir=jars, master="local[1]"))


def test_derby_by_default(tmp_path):
    conf = spark_conf(make_settings(tmp_path, postgres=False))
    assert conf[JDO + "ConnectionURL"] == f"jdbc:derby:;databaseName={tmp_path / 'lake' / 'metastore_db'};create=true"
    assert not any(k.startswith("spark.hadoop.datanucleus") for k in conf)
    assert JDO + "ConnectionDriverName" not in conf and JDO + "ConnectionPassword" not in conf


def test_postgres_metastore_conf_holds_no_password(tmp_path):
    settings = make_settings(tmp_path, postgres=True)
    conf = spark_conf(settings)
    assert conf[JDO + "ConnectionURL"] == PG_URL
    assert conf[JDO + "ConnectionDriverName"] == "org.postgresql.Driver"
    assert conf[JDO + "ConnectionUserName"] == "netqos"
    # Hadoop's Configuration expands ${env.X} when Hive reads the key: the password itself is nowhere in the conf
    assert conf[JDO + "ConnectionPassword"] == "${env." + METASTORE_PASSWORD_ENV + "}"
    assert not any(PASSWORD in v for v in conf.values())
    assert metastore_env(settings) == {METASTORE_PASSWORD_ENV: PASSWORD}
    assert conf["spark.hadoop.datanucleus.schema.autoCreateTables"] == "true"
    assert conf["spark.hadoop.datanucleus.schema.autoCreateConstraints"] == "false"  # see metastore_conf: deadlock
    assert conf["spark.hadoop.hive.metastore.schema.verification"] == "false"
    assert str(settings.spark.jars_dir / "postgresql-42.7.14.jar") in conf["spark.driver.extraClassPath"]
    assert PASSWORD not in repr(settings)


def test_postgres_without_the_driver_says_make_jars(tmp_path):
    with pytest.raises(JarsMissingError, match="make jars"):
        spark_conf(make_settings(tmp_path, postgres=True, driver=False))


def test_password_and_url_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NETQOS_LAKE__METASTORE_URL", PG_URL)
    monkeypatch.setenv("NETQOS_LAKE__METASTORE_PASSWORD", PASSWORD)
    lake = Settings().lake
    assert lake.metastore_url == PG_URL and lake.metastore_password is not None
    assert lake.metastore_password.get_secret_value() == PASSWORD


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("jdbc:mysql://h/db", "PostgreSQL JDBC URL"),
        ("postgresql://h/db", "PostgreSQL JDBC URL"),
        ("jdbc:postgresql://h/db?user=a&password=b", "NETQOS_LAKE__METASTORE_PASSWORD"),
    ],
)
def test_bad_metastore_url_is_refused(url, message):
    with pytest.raises(ValidationError, match=message):
        LakeSettings(metastore_url=url)


def parse_properties(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ")
            out[key] = value.replace("\\n", "\n").replace("\\\\", "\\")
    return out


def test_spark_defaults_is_spark_conf_and_private(tmp_path):
    settings = make_settings(tmp_path, postgres=True)
    folder = launch.write_conf_dir(settings)
    path = folder / "spark-defaults.conf"
    assert folder == tmp_path / "home" / "spark-conf"
    assert parse_properties(path.read_text()) == spark_conf(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert PASSWORD not in path.read_text()


def test_shell_and_thrift_launchers(tmp_path):
    settings = make_settings(tmp_path, postgres=True)
    home = spark_home()
    assert launch.spark_sql_argv(settings, ["-e", "SELECT 1"]) == [
        str(home / "bin" / "spark-sql"), "--database", "netqos", "-e", "SELECT 1"
    ]  # fmt: skip
    assert launch.spark_sql_argv(settings, ["--database", "x"])[1:] == ["--database", "x"]
    env = launch.launcher_env(settings)
    assert env["SPARK_CONF_DIR"] == str(tmp_path / "home" / "spark-conf")
    assert env["SPARK_HOME"] == str(home) and env[METASTORE_PASSWORD_ENV] == PASSWORD
    for tool in ("spark-sql", "spark-submit", "beeline"):
        assert os.access(home / "bin" / tool, os.X_OK), tool
    assert (home / "jars").glob("spark-hive-thriftserver_*.jar")

    argv = thrift.submit_argv(settings, 10123)
    assert argv[0] == str(home / "bin" / "spark-submit")
    assert argv[argv.index("--class") + 1] == "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
    assert "hive.server2.thrift.bind.host=127.0.0.1" in argv and "hive.server2.thrift.port=10123" in argv


def test_thrift_status_without_a_server(tmp_path):
    settings = make_settings(tmp_path, postgres=True)
    assert thrift.status(settings) == (None, "not running")
    assert thrift.stop(settings) is False
    # a pid file naming a live process that is not the server (this pytest) is stale: removed, nothing killed
    thrift.state_dir(settings).mkdir(parents=True)
    record = f"{os.getpid()}\n"
    thrift.pid_file(settings).write_text(record)
    state, line = thrift.status(settings)
    assert state is None and "stale" in line and not thrift.pid_file(settings).exists()
    thrift.pid_file(settings).write_text(record)
    assert thrift.stop(settings) is False and not thrift.pid_file(settings).exists()


def test_import_starts_nothing():
    code = "import sys, netqos.sql.query, netqos.sql.thrift, netqos.cli.sql_cmd; assert 'pyspark' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
