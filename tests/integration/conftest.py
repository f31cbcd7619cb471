"""One SparkSession (Delta + the `pcap` source) for every integration test that asks for one (Spark jobs, DAG
runs), on a temporary warehouse; session-scoped and lazy, so tests without Spark never start it.

Each test gets its own database in that warehouse (static Spark confs fix the warehouse for the whole session).
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from netqos.settings import LakeSettings, Settings, SparkSettings

REPO_ROOT = Path(__file__).resolve().parents[2]
PCAPS = REPO_ROOT.parent / "shared" / "pcaps"


@pytest.fixture(scope="session")
def pcaps() -> Path:
    return PCAPS


@pytest.fixture(scope="session")
def manifest() -> dict[str, int]:
    """capinfos packet count per capture file, from the shared MANIFEST.tsv (the oracle, not our decoder)."""
    with open(PCAPS / "MANIFEST.tsv", newline="") as f:
        return {row["file"]: int(row["packets"]) for row in csv.DictReader(f, delimiter="\t")}


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    lake_root = tmp_path_factory.mktemp("lake")
    return Settings(
        home=lake_root / "home",  # MLflow's local store and spools stay in the test's folder
        lake=LakeSettings(warehouse_dir=lake_root / "warehouse", database="netqos_test"),
        spark=SparkSettings(master="local[2]", shuffle_partitions=2, log_level="ERROR"),
    )


@pytest.fixture(scope="session")
def lake_minio(tmp_path_factory: pytest.TempPathFactory):
    """The MinIO the Spark session's workers can read (s3:// captures). Its endpoint and credentials must be in
    the environment before the JVM starts: Python workers inherit the JVM's environment, as in a deployment."""
    import os
    import sys

    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from s3server import MinioServer

    with MinioServer(tmp_path_factory.mktemp("lake-minio")) as server:
        env = {
            "NETQOS_S3__ENDPOINT_URL": server.endpoint_url,
            "NETQOS_S3__ACCESS_KEY_ID": server.access_key,
            "NETQOS_S3__SECRET_ACCESS_KEY": server.secret_key,
        }
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        yield server
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def spark(base_settings: Settings, lake_minio):
    from netqos.spark.session import build_spark

    session = build_spark(base_settings, app_name="netqos-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def settings_factory(base_settings: Settings):
    """settings_factory(name) -> the session's warehouse with a database of that name's own."""

    def make(name: str) -> Settings:
        db = "t_" + re.sub(r"\W+", "_", name).strip("_").lower()[:60]
        lake = base_settings.lake.model_copy(update={"database": db})
        return base_settings.model_copy(update={"lake": lake, "sensor_id": "test-sensor"})

    return make


@pytest.fixture
def settings(settings_factory, request: pytest.FixtureRequest) -> Settings:
    return settings_factory(request.node.name)


@pytest.fixture
def capture_dir(tmp_path: Path):
    """Copy shared captures into a private folder (tests change and break files there)."""

    def copy(*names: str) -> Path:
        for name in names:
            shutil.copyfile(PCAPS / name, tmp_path / name)
        return tmp_path

    return copy
