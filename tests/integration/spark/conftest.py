"""One SparkSession (Delta + the `pcap` source) for every Spark test, on a temporary warehouse.

Each test gets its own database in that warehouse (static Spark confs fix the warehouse for the whole session).
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from netqos.settings import LakeSettings, Settings, SparkSettings

REPO_ROOT = Path(__file__).resolve().parents[3]
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
        lake=LakeSettings(warehouse_dir=lake_root / "warehouse", database="netqos_test"),
        spark=SparkSettings(master="local[2]", shuffle_partitions=2, log_level="ERROR"),
    )


@pytest.fixture(scope="session")
def spark(base_settings: Settings):
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
