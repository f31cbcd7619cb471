"""The SQL access paths across processes on a PostgreSQL-backed metastore: `netqos sql --thrift start` (Spark's
Thrift server), `netqos sql` in another process and another cwd registering the lake's flows table in the shared
catalog while the server runs, beeline (a real JDBC client) reading it through the server, then `--thrift stop`.

These JVMs use their own warehouse: the session `spark` fixture holds its embedded Derby metastore open.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.spark, pytest.mark.integration]

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from s3server import free_port  # noqa: E402

TIMEOUT = 300  # one JVM start on a busy 2-core machine


@pytest.fixture
def pg_metastore(tmp_path_factory):
    from netqos.orchestration.local_postgres import LocalPostgres, scram_verifier

    pg = LocalPostgres(tmp_path_factory.mktemp("pgms"), free_port(), say=lambda _: None)
    pg.start()
    password = secrets.token_urlsafe(18)
    pg.psql(f"CREATE ROLE netqos_ms WITH LOGIN PASSWORD '{scram_verifier(password)}';")
    pg.psql("CREATE DATABASE netqos_metastore OWNER netqos_ms ENCODING 'UTF8';")
    try:
        yield f"jdbc:postgresql://127.0.0.1:{pg.port}/netqos_metastore", "netqos_ms", password
    finally:
        pg.stop()
        pg.remove()


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    detail = f"stdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
    assert r.returncode == 0, f"{cmd[:4]} exited {r.returncode}\n{detail}"
    return r


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_thrift_server_netqos_sql_and_beeline_share_a_postgres_catalog(sql_lake, pg_metastore, tmp_path):
    from netqos.jars import spark_home

    url, user, password = pg_metastore
    port = free_port()
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETQOS_")}
    env |= {
        "NETQOS_HOME": str(home),
        "NETQOS_LAKE__WAREHOUSE_DIR": str(tmp_path / "warehouse"),
        "NETQOS_LAKE__METASTORE_URL": url,
        "NETQOS_LAKE__METASTORE_USER": user,
        "NETQOS_LAKE__METASTORE_PASSWORD": password,
        "NETQOS_LAKE__THRIFT_PORT": str(port),
        "NETQOS_SPARK__MASTER": "local[1]",
        "NETQOS_SPARK__SHUFFLE_PARTITIONS": "1",
        "NETQOS_SPARK__JARS_DIR": str(sql_lake.settings.spark.jars_dir),
    }
    elsewhere = tmp_path / "elsewhere"  # not the repo: the settings, not the cwd, locate everything
    elsewhere.mkdir()
    netqos = [sys.executable, "-m", "netqos", "sql"]

    started = run([*netqos, "--thrift", "start"], env, elsewhere)
    try:
        assert f"jdbc:hive2://127.0.0.1:{port}/netqos" in started.stdout and port_open(port)
        conf = (home / "spark-conf" / "spark-defaults.conf").read_text()
        assert url in conf and password not in conf
        assert password not in (home / "thrift" / "thrift.log").read_text()

        # Another Spark process opens the same catalog while the server runs (impossible with embedded Derby).
        register = (
            "CREATE DATABASE IF NOT EXISTS netqos; "
            f"CREATE TABLE netqos.flows USING DELTA LOCATION '{sql_lake.flows_location}'; "
            "SELECT count(*) AS flows, sum(bytes) AS bytes FROM netqos.flows"
        )
        answer = run([*netqos, "--format", "json", register], env, elsewhere)
        assert json.loads(answer.stdout) == [{"flows": sql_lake.flows, "bytes": sql_lake.flows_bytes}]

        beeline = [str(spark_home() / "bin" / "beeline"), "-u", f"jdbc:hive2://127.0.0.1:{port}/netqos", "-n",
                   "netqos", "--silent=true", "--outputformat=csv2", "-e",
                   "SELECT count(*) AS flows, sum(bytes) AS bytes FROM flows"]  # fmt: skip
        out = run(beeline, env, elsewhere).stdout.strip().splitlines()
        assert out[-2].endswith("flows,bytes") and out[-1] == f"{sql_lake.flows},{sql_lake.flows_bytes}"

        status = run([*netqos, "--thrift", "status"], env, elsewhere)
        assert status.stdout.startswith("running") and str(port) in status.stdout
    finally:
        stopped = subprocess.run([*netqos, "--thrift", "stop"], env=env, cwd=elsewhere, capture_output=True,
                                 text=True, timeout=120, check=False)  # fmt: skip
    assert stopped.stdout.strip() == "stopped"
    assert not port_open(port) and not (home / "thrift" / "thrift.pid").exists()
    after = subprocess.run([*netqos, "--thrift", "status"], env=env, cwd=elsewhere, capture_output=True, text=True,
                           timeout=60, check=False)  # fmt: skip
    assert after.returncode == 3 and after.stdout.strip() == "not running"
