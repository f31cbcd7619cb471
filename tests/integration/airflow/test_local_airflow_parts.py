"""The parts of `netqos airflow up` that need no server: secrets file, connections, environment, CLI wiring."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from netqos.cli.main import build_parser
from netqos.orchestration.local_airflow import LocalAirflowConfig, airflow_env, status
from netqos.orchestration.local_postgres import scram_verifier
from netqos.orchestration.local_procs import load_or_create_secrets


def test_secrets_are_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "secrets.json"
    first = load_or_create_secrets(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secrets(path) == first
    assert len(first.jwt_secret) >= 64
    assert len(set(first.values())) == len(first.values())


@pytest.mark.parametrize(
    ("master", "host", "port"),
    [("local[*]", "local[*]", None), ("spark://spark-master:7077", "spark://spark-master", 7077)],
)
def test_spark_default_connection(tmp_path: Path, master: str, host: str, port: int | None) -> None:
    secrets = load_or_create_secrets(tmp_path / "s.json")
    config = LocalAirflowConfig(state_dir=tmp_path, spark_master=master, api_port=18080, minio_port=19000)
    env = airflow_env(config, secrets, "postgresql+psycopg2://airflow:pw@127.0.0.1:1/airflow")
    spark = json.loads(env["AIRFLOW_CONN_SPARK_DEFAULT"])
    assert (spark["conn_type"], spark["host"], spark.get("port")) == ("spark", host, port)
    s3 = json.loads(env["AIRFLOW_CONN_NETQOS_S3"])
    assert s3["password"] == secrets.minio_secret_key
    assert s3["extra"]["endpoint_url"] == "http://127.0.0.1:19000"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["NETQOS_LAKE__WAREHOUSE_DIR"] == str(tmp_path / "lake" / "warehouse")
    assert "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE" not in env  # schedules on by default


def test_no_schedules_turns_off_the_schedulers_runs_only(tmp_path: Path) -> None:
    args = build_parser().parse_args(["airflow", "up", "--state-dir", str(tmp_path), "--no-schedules"])
    assert args.schedules is False
    config = LocalAirflowConfig(state_dir=tmp_path, schedules=False)
    env = airflow_env(config, load_or_create_secrets(tmp_path / "s.json"), "postgresql+psycopg2://a:b@127.0.0.1:1/a")
    assert env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] == "False"


def test_scram_verifier_shape() -> None:
    v = scram_verifier("secret")
    assert v.startswith("SCRAM-SHA-256$4096:") and "secret" not in v


def test_cli_and_status_of_an_empty_state_dir(tmp_path: Path) -> None:
    args = build_parser().parse_args(["airflow", "up", "--state-dir", str(tmp_path), "--port", "18081"])
    assert args.port == 18081 and args.spark_master == "local[*]"
    assert all(row.pid is None for row in status(tmp_path / "nothing"))
