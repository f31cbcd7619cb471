"""The feature jobs' quality gate (netqos.jobs.feature_gate) on real Spark data.

A site's suites (settings.quality.expectations_dir) are tightened so that one capture's flows fail: build_flows
must withdraw exactly that file (packets, ledger, feature rows to quarantine with the reason) and write the other
file's features as if the bad one had never been ingested. A qos_windows suite every window fails must stop the
job with nothing written and the windows kept in quarantine_qos_windows.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from netqos.jobs import build_flows, parse_pcaps, qos_windows
from netqos.quality import ValidationFailed
from netqos.quality.run_record import recorded
from netqos.quality.suites import EXPECTATIONS_DIR
from netqos.settings import QualitySettings

pytestmark = [pytest.mark.spark, pytest.mark.integration]

PINGS = "zeek-5-pings.pcap"  # ICMP only: flows without ports
TCP = "zeek-get-to-ssh-server.pcap"  # TCP flows with ports


def tightened_suites(folder: Path) -> Path:
    """The shipped suites, with flows allowing only src_port 0 (the TCP capture's flows break it) and qos_windows
    allowing no packets (every window breaks it)."""
    shutil.copytree(EXPECTATIONS_DIR, folder, dirs_exist_ok=True)
    for table, column in (("flows", "src_port"), ("qos_windows", "packets")):
        path = folder / f"{table}.json"
        suite = json.loads(path.read_text())
        suite["expectations"].append(
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": column, "min_value": 0, "max_value": 0},
                "meta": {},
            }
        )
        path.write_text(json.dumps(suite))
    return folder


def test_a_file_whose_flows_fail_is_withdrawn_and_the_rest_is_featurized(spark, settings, pcaps, tmp_path):
    settings = settings.model_copy(
        update={"quality": QualitySettings(expectations_dir=tightened_suites(tmp_path / "suites"))}
    )
    db = settings.lake.database
    parse_pcaps.run(spark, [str(pcaps / PINGS), str(pcaps / TCP)], settings, run_id="gate-run-1")
    ledger = {r.path.rsplit("/", 1)[1]: r for r in spark.table(f"{db}.ingest_ledger").collect()}
    good, bad = ledger[PINGS].sha256, ledger[TCP].sha256

    report = build_flows.run(spark, settings, run_id="gate-run-1")

    assert [f.sha256 for f in report.plan.new_files] == [good]  # the second pass planned without the bad file
    ledger = {r.path.rsplit("/", 1)[1]: r for r in spark.table(f"{db}.ingest_ledger").collect()}
    assert ledger[TCP].status == "quarantined" and "src_port" in ledger[TCP].error
    assert ledger[PINGS].status == "ingested"
    for table, column in (("packets", "file_sha256"), ("tcp_analysis", "file_sha256"), ("flows", "first_file_sha256")):
        files = {r[0] for r in spark.table(f"{db}.{table}").select(column).distinct().collect()}
        assert files == {good}, table
    quarantined = spark.table(f"{db}.quarantine_packets").where(F.col("file_sha256") == bad)
    assert quarantined.count() == 9 and quarantined.where(F.col("quarantine_run_id") == "gate-run-1").count() == 9
    flows_q = spark.table(f"{db}.quarantine_flows").collect()
    assert flows_q and {r.first_file_sha256 for r in flows_q} == {bad}
    assert "src_port" in flows_q[0].quarantine_reason

    outcomes = {o.table: o for o in recorded("gate-run-1", settings)}
    assert outcomes["packets"].success and outcomes["tcp_analysis"].success
    assert not outcomes["flows"].success and outcomes["flows"].bad_files == {bad}  # the failure stays on record

    # Nothing pending any more: a rerun plans nothing and changes nothing.
    before = spark.table(f"{db}.flows").count()
    assert not build_flows.run(spark, settings, run_id="run-2").plan.new_files
    assert spark.table(f"{db}.flows").count() == before

    # qos_windows: every window fails the tightened suite, so nothing is written and the files stay pending.
    with pytest.raises(ValidationFailed, match="packets"):
        qos_windows.run(spark, settings, run_id="gate-run-1")
    assert spark.table(f"{db}.qos_windows").count() == 0
    assert spark.table(f"{db}.quarantine_qos_windows").count() > 0
    pending = spark.table(f"{db}.feature_ledger").where(F.col("windows_at").isNull()).count()
    assert pending == 1
