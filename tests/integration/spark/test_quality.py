"""The quality gate on real Spark data: two ingested captures, one corrupted in a DataFrame; the outcome blames
exactly that file, quarantine receives only its rows (idempotently), and the Data Docs site is written."""

from __future__ import annotations

import json

import pytest
from pyspark.sql import functions as F
from shared_pcaps import SHARED_PCAPS

from netqos.jobs.parse_pcaps import run
from netqos.quality import build_data_docs, quarantine, quarantine_table, raise_for_failure, validate
from netqos.quality.ledger_checks import ROWS_MATCH, TS_BOUNDS

pytestmark = [pytest.mark.spark, pytest.mark.integration]

CAPTURES = ["zeek-5-pings.pcap", "dpkt-dns_icmp.pcap"]


@pytest.fixture(scope="module")
def settings(settings_factory):
    return settings_factory("test_quality")


@pytest.fixture(scope="module")
def ingested(spark, settings):
    """Ingest once for the module: the parse job dominates this file's runtime."""
    run(spark, [str(SHARED_PCAPS / name) for name in CAPTURES], settings)
    db = settings.lake.database
    packets = spark.table(f"{db}.packets")
    ledger = spark.table(f"{db}.ingest_ledger")
    shas = {r.path.rsplit("/", 1)[1]: r.sha256 for r in ledger.collect()}
    return packets, ledger, shas


def test_corrupt_file_is_named_quarantined_and_documented(spark, settings, ingested):
    packets, ledger, shas = ingested
    bad, good = shas["zeek-5-pings.pcap"], shas["dpkt-dns_icmp.pcap"]

    clean = validate(spark, packets, "packets", run_id="run-clean", ledger_df=ledger)
    assert clean.success, [f.describe() for f in clean.failures]  # Spark types, ranges and ledger all agree
    assert set(clean.files_checked) == {bad, good}

    corrupted = packets.withColumn("src_port", F.when(F.col("file_sha256") == bad, 70000).otherwise(F.col("src_port")))
    outcome = validate(spark, corrupted, "packets", run_id="run-1", ledger_df=ledger)
    assert not outcome.success
    assert outcome.bad_files == {bad} and outcome.clean_files == {good}
    (failure,) = outcome.failures
    assert (failure.expectation_type, failure.kwargs["column"]) == ("expect_column_values_to_be_between", "src_port")
    assert failure.unexpected_count == 10  # every frame of zeek-5-pings
    with pytest.raises(Exception, match="src_port"):
        raise_for_failure(outcome)

    table = quarantine_table("packets", settings)
    for _ in range(2):  # a rerun of the same run replaces its rows
        assert quarantine(spark, corrupted, "packets", outcome, settings) == (bad,)
        rows = spark.table(table).collect()
        assert len(rows) == 10
        assert {r.file_sha256 for r in rows} == {bad}
        assert {r.quarantine_run_id for r in rows} == {"run-1"}
        assert {r.src_port for r in rows} == {70000}
    reason = json.loads(rows[0].quarantine_reason)
    assert reason[0]["kwargs"]["column"] == "src_port"

    index = build_data_docs([clean, outcome], settings)
    assert index.is_file() and index.name == "index.html"
    pages = list((index.parent / "validations").rglob("*.html"))
    assert len(pages) == 2
    assert "src_port" in "".join(p.read_text() for p in pages)


def test_ledger_reconciliation_blames_the_file_that_lost_rows(spark, settings, ingested):
    packets, ledger, shas = ingested
    bad = shas["dpkt-dns_icmp.pcap"]
    # One frame of the file lost, and its timestamps an hour late: both disagree with its ledger row.
    broken = packets.where((F.col("file_sha256") != bad) | (F.col("frame_no") > 1)).withColumn(
        "ts_ns", F.when(F.col("file_sha256") == bad, F.col("ts_ns") + 3_600 * 10**9).otherwise(F.col("ts_ns"))
    )
    outcome = validate(spark, broken, "packets", run_id="run-ledger", ledger_df=ledger)
    assert sorted((f.expectation_type, f.files) for f in outcome.failures) == [
        (ROWS_MATCH, (bad,)),
        (TS_BOUNDS, (bad,)),
    ]
    assert all(f.source == "ledger" for f in outcome.failures)
    assert outcome.bad_files == {bad} and outcome.clean_files == {shas["zeek-5-pings.pcap"]}
