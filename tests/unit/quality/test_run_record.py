"""Per-run quality records: JSON round trip, one folder per run, and a failing record is never replaced by a
passing one of the same run (a retry must not hide that the run quarantined data)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from netqos.quality.outcome import FailedExpectation, ValidationOutcome
from netqos.quality.run_record import expire, record, recorded, run_dir
from netqos.settings import LakeSettings, Settings

pytestmark = pytest.mark.unit

RUN = "scheduled__2026-11-27T16:00:00+00:00"


def outcome(table: str, success: bool, run_id: str = RUN) -> ValidationOutcome:
    failures = () if success else (
        FailedExpectation("expect_column_values_to_be_between", {"column": "src_port"}, None, 3, [70000], ("abc",)),
    )  # fmt: skip
    return ValidationOutcome(table, run_id, success, failures, ("abc", "def"), {"results": []}, "file_sha256")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(lake=LakeSettings(warehouse_dir=tmp_path / "warehouse"))


def test_round_trip_in_pipeline_order(settings: Settings) -> None:
    for table, ok in (("qos_windows", True), ("packets", False), ("flows", True)):
        record(outcome(table, ok), settings)
    back = recorded(RUN, settings)
    assert [o.table for o in back] == ["packets", "flows", "qos_windows"]
    assert back[0] == outcome("packets", False)
    assert back[0].bad_files == {"abc"} and back[0].failures[0].files == ("abc",)
    assert ":" not in run_dir(RUN, settings).name and "+" not in run_dir(RUN, settings).name


def test_a_retry_never_hides_a_failure(settings: Settings) -> None:
    record(outcome("flows", False), settings)
    record(outcome("flows", True), settings)
    assert not recorded(RUN, settings)[0].success
    record(outcome("tcp_analysis", True), settings)
    record(outcome("tcp_analysis", False), settings)  # a later failure does replace a pass
    assert not {o.table: o for o in recorded(RUN, settings)}["tcp_analysis"].success


def test_runs_are_separate_and_unknown_runs_are_empty(settings: Settings) -> None:
    record(outcome("packets", False, run_id="run-a"), settings)
    assert recorded("run-b", settings) == []
    assert len(recorded("run-a", settings)) == 1


def test_expire_removes_runs_older_than_the_cutoff(settings: Settings) -> None:
    record(outcome("packets", False, run_id="old"), settings)
    record(outcome("packets", True, run_id="new"), settings)
    now = datetime.now(UTC)
    stamp = (now - timedelta(days=40)).timestamp()
    for path in run_dir("old", settings).glob("*.json"):
        os.utime(path, (stamp, stamp))
    assert expire(settings, now - timedelta(days=30)) == ["old"]
    assert recorded("old", settings) == [] and len(recorded("new", settings)) == 1
    assert expire(settings, now - timedelta(days=30)) == []  # idempotent
