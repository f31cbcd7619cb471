"""A small lake with real rows for the SQL tests: two shared captures ingested by the real jobs into the session's
warehouse (its own database), plus `anomalies` rows for the busiest windows.

The anomalies come from a stand-in detector (score = the window's packets over the sensor's busiest window)
written through the table's own insert-only MERGE: the doc's joins need flagged windows, and training an MLflow
model here would cost minutes (the model pipeline has its own tests in tests/integration/ml).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from netqos.settings import Settings

CAPTURES = ("tcpreplay-test.pcap", "zeek-smtp.pcap")  # several hosts and flows, TCP with retransmissions + RTT
DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class SqlLake:
    settings: Settings
    flows_location: str  # the Delta folder of the flows table (other metastores register it by location)
    flows: int
    flows_bytes: int


def write_stand_in_anomalies(spark, settings: Settings) -> None:
    from netqos.lake.tables import ANOMALIES, merge_by_keys

    db = settings.lake.database
    rows = spark.sql(f"""
        WITH w AS (
          SELECT sensor_id, window_s, window_start, window_start_ns, window_date, packets,
                 packets / max(packets) OVER (PARTITION BY sensor_id, window_s) AS score
          FROM {db}.qos_windows WHERE dimension = 'all' AND window_s = 10)
        SELECT sensor_id, window_s, window_start, window_start_ns,
               'stand-in' AS model_name, '1' AS model_version, 'no-run' AS model_run_id,
               'robust_kpi' AS detector, CAST(score AS DOUBLE) AS score, 0.5D AS threshold,
               score >= 0.5 AS is_anomaly,
               CASE WHEN score >= 0.5 THEN array(named_struct('feature', 'pps', 'z', CAST(score * 10 AS DOUBLE)))
               END AS top_features,
               current_timestamp() AS scored_at, 'tests' AS scoring_run_id, window_date
        FROM w""")
    merge_by_keys(spark, ANOMALIES, settings, rows, update=False)


def relaxed_quality(settings: Settings, folder: Path) -> Settings:
    """The same suites without expectations (quality.expectations_dir, "a copy to relax checks for a site"): the
    jobs still run their gates, but the ~20 s of GX metrics per suite would be most of this lake's cost, and the
    gates have their own tests (tests/integration/spark/test_quality.py)."""
    import json

    for suite in settings.quality.expectations_dir.glob("*.json"):
        data = json.loads(suite.read_text())
        data["expectations"] = []
        (folder / suite.name).write_text(json.dumps(data))
    quality = settings.quality.model_copy(update={"expectations_dir": folder})
    return settings.model_copy(update={"quality": quality})


def backdate_commits(location: str, days: int = 1) -> None:
    """Move a Delta table's commits `days` back in time (the commit timestamp of a table without in-commit
    timestamps is its log file's mtime), so `TIMESTAMP AS OF current_date()` has a version to return."""
    log = Path(location.removeprefix("file:")) / "_delta_log"
    then = time.time() - days * 86_400
    for f in log.glob("*.json"):
        os.utime(f, (then, then))


@pytest.fixture(scope="session")
def sql_lake(spark, settings_factory, pcaps, tmp_path_factory) -> SqlLake:
    """The captures ingested "yesterday" (every commit so far backdated a day), the windows scored today: time
    travel has two days to tell apart."""
    import shutil

    from netqos.jobs import ingest
    from netqos.lake.tables import ANOMALIES, ensure_tables
    from netqos.sql.query import list_tables

    settings = relaxed_quality(settings_factory("sql_lake"), tmp_path_factory.mktemp("sql-expectations"))
    db = settings.lake.database
    folder = tmp_path_factory.mktemp("sql-captures")
    for name in CAPTURES:
        shutil.copyfile(pcaps / name, folder / name)
    ingest.run(spark, [str(folder)], settings, run_id="sql-tests")
    ensure_tables(spark, settings, (ANOMALIES,))  # created yesterday, written today
    for name in list_tables(spark, db):
        backdate_commits(spark.sql(f"DESCRIBE DETAIL {db}.{name}").first()["location"])
    write_stand_in_anomalies(spark, settings)  # today's commit on anomalies
    # and one on flows (any write would do; a property change costs nothing): TIMESTAMP AS OF midnight must fall
    # between a table's first and last commit, as it does on a lake whose jobs run every few minutes
    spark.sql(f"ALTER TABLE {db}.flows SET TBLPROPERTIES ('netqos.tests.touched' = 'today')")
    location = spark.sql(f"DESCRIBE DETAIL {db}.flows").first()["location"]
    count, total = spark.sql(f"SELECT count(*), sum(bytes) FROM {db}.flows").first()
    return SqlLake(settings, location, int(count), int(total))
