"""parse_pcaps end to end on a temporary warehouse: landing, idempotency, conflicts, failures, partitions.

Expected packet counts come from capinfos (MANIFEST.tsv); expected dates from the first record header, read
here with struct, not from our decoder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import struct

import pytest
from pyspark.sql import functions as F

from netqos.jobs.parse_pcaps import run

pytestmark = [pytest.mark.spark, pytest.mark.integration]

GOOD = ["zeek-5-pings.pcap", "zeek-pcapng-multi-interface.pcapng", "zeek-linux_dlt_sll2.pcap", "tcpdump-empty.pcapng"]


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def count(spark, settings, table: str, where: str = "true") -> int:
    return spark.sql(f"SELECT count(*) FROM {settings.lake.database}.{table} WHERE {where}").first()[0]


def ledger(spark, settings) -> dict[str, dict]:
    rows = spark.sql(f"SELECT * FROM {settings.lake.database}.ingest_ledger").collect()
    return {f"{r.path.rsplit('/', 1)[1]}|{r.status}": r.asDict() for r in rows}


def first_record_date(path) -> dt.date:
    """UTC date of the first record of a little-endian microsecond pcap, straight from its bytes."""
    (magic,) = struct.unpack("<I", path.read_bytes()[:4])
    assert magic == 0xA1B2C3D4
    (ts_sec,) = struct.unpack("<I", path.read_bytes()[24:28])
    return dt.datetime.fromtimestamp(ts_sec, dt.UTC).date()


def make_batch(folder, pcaps):
    """Four good captures, a zero-byte file and a text file named .pcap."""
    for name in GOOD:
        shutil.copyfile(pcaps / name, folder / name)
    (folder / "zero.pcap").write_bytes(b"")
    (folder / "readme.pcap").write_text("not a capture, just text\n" * 10)
    return folder


@pytest.fixture
def batch(tmp_path, pcaps):
    return make_batch(tmp_path, pcaps)


@pytest.fixture(scope="module")
def landed(spark, settings_factory, tmp_path_factory, pcaps):
    """One ingest of the batch, shared by the read-only tests below."""
    settings = settings_factory("landed")
    folder = make_batch(tmp_path_factory.mktemp("landed"), pcaps)
    return settings, folder, run(spark, [str(folder)], settings)


def test_lands_good_files_and_records_failures(spark, manifest, landed):
    settings, batch, report = landed
    expected_rows = sum(manifest[n] for n in GOOD)
    assert expected_rows == 10 + 6 + 6 + 0
    assert count(spark, settings, "packets") == expected_rows
    assert (report.count("ingested"), report.count("failed"), report.count("conflict")) == (4, 2, 0)

    rows = ledger(spark, settings)
    assert sorted(rows) == sorted([f"{n}|ingested" for n in GOOD] + ["zero.pcap|failed", "readme.pcap|failed"])
    for name in GOOD:
        row = rows[f"{name}|ingested"]
        assert row["packets"] == manifest[name]
        assert row["sha256"] == sha256(batch / name)
        assert row["size"] == (batch / name).stat().st_size
        assert row["error"] is None and row["sensor_id"] == "test-sensor"
        assert count(spark, settings, "packets", f"file_sha256 = '{row['sha256']}'") == manifest[name]
    assert rows["zeek-pcapng-multi-interface.pcapng|ingested"]["format"] == "pcapng"
    assert rows["zeek-5-pings.pcap|ingested"]["format"] == "pcap"
    assert rows["zeek-5-pings.pcap|ingested"]["link_types"] == [1]
    assert rows["zeek-linux_dlt_sll2.pcap|ingested"]["link_types"] == [276]
    assert rows["tcpdump-empty.pcapng|ingested"]["first_ts"] is None
    for bad in ("zero.pcap", "readme.pcap"):
        row = rows[f"{bad}|failed"]
        assert row["format"] is None and row["packets"] is None
        assert row["error"]  # the decoder's CaptureFormatError message
    assert "0 bytes" in rows["zero.pcap|failed"]["error"]
    assert "not a pcap or pcapng file" in rows["readme.pcap|failed"]["error"]

    pings = rows["zeek-5-pings.pcap|ingested"]
    assert pings["first_ts"] < pings["last_ts"]
    # to_date in SQL (session time zone UTC): collect() would turn timestamps into local-time datetimes.
    ledger_table = f"{settings.lake.database}.ingest_ledger"
    path = batch / "zeek-5-pings.pcap"
    first_day = spark.sql(f"SELECT to_date(first_ts) FROM {ledger_table} WHERE path = '{path}'").first()[0]
    assert first_day == first_record_date(batch / "zeek-5-pings.pcap")


def test_partitioned_by_capture_date_and_sensor(spark, landed):
    settings, batch, _ = landed
    table = f"{settings.lake.database}.packets"
    detail = spark.sql(f"DESCRIBE DETAIL {table}").first()
    assert detail.partitionColumns == ["capture_date", "sensor_id"]
    assert detail.format == "delta"
    pings = spark.table(table).where(F.col("source_file").endswith("zeek-5-pings.pcap"))
    dates = {r.capture_date for r in pings.select("capture_date").distinct().collect()}
    assert dates == {first_record_date(batch / "zeek-5-pings.pcap")}
    bad_days = spark.table(table).where(F.col("capture_date") != F.to_date(F.col("ts"))).count()
    assert bad_days == 0  # session time zone is UTC, so to_date(ts) is the UTC date
    assert {r.sensor_id for r in spark.table(table).select("sensor_id").distinct().collect()} == {"test-sensor"}
    dirs = {p.name for p in (settings.lake.warehouse_dir / f"{settings.lake.database}.db" / "packets").iterdir()}
    assert f"capture_date={dates.pop()}" in dirs


def test_tables_are_queryable_by_name(spark, landed):
    settings, _, _ = landed
    db = settings.lake.database
    assert spark.catalog.tableExists(f"{db}.packets") and spark.catalog.tableExists(f"{db}.ingest_ledger")
    n = spark.sql(f"SELECT count(*) FROM {db}.packets p JOIN {db}.ingest_ledger l ON p.file_sha256 = l.sha256").first()[
        0
    ]
    assert n == 22


def test_rerun_adds_no_rows(spark, settings, batch):
    run(spark, [str(batch)], settings)
    packets, ledger_rows = count(spark, settings, "packets"), count(spark, settings, "ingest_ledger")
    version = spark.sql(f"DESCRIBE HISTORY {settings.lake.database}.packets").first().version

    again = run(spark, [str(batch)], settings)

    assert len(again.skipped) == 4  # the good files; the two broken ones are retried and fail again
    assert (again.count("ingested"), again.count("failed")) == (0, 2)
    assert count(spark, settings, "packets") == packets == 22
    assert count(spark, settings, "ingest_ledger") == ledger_rows == 6
    assert spark.sql(f"DESCRIBE HISTORY {settings.lake.database}.packets").first().version == version


def test_crash_between_packets_and_ledger_does_not_duplicate(spark, settings, batch):
    run(spark, [str(batch)], settings)
    # As if the job died after writing packets but before the ledger MERGE.
    spark.sql(f"DELETE FROM {settings.lake.database}.ingest_ledger")

    report = run(spark, [str(batch)], settings)

    assert report.count("ingested") == 4
    assert count(spark, settings, "packets") == 22
    dupes = spark.sql(
        f"SELECT file_sha256, frame_no FROM {settings.lake.database}.packets GROUP BY 1, 2 HAVING count(*) > 1"
    ).count()
    assert dupes == 0


def test_changed_content_is_a_conflict(spark, settings, pcaps, batch):
    run(spark, [str(batch)], settings)
    target = batch / "zeek-5-pings.pcap"
    old_sha = sha256(target)
    shutil.copyfile(pcaps / "zeek-wlanmon.pcap", target)  # same path, other bytes
    new_sha = sha256(target)

    report = run(spark, [str(batch)], settings)

    assert report.count("conflict") == 1
    rows = ledger(spark, settings)
    conflict = rows["zeek-5-pings.pcap|conflict"]
    assert conflict["sha256"] == new_sha
    assert old_sha in conflict["error"] and new_sha in conflict["error"]
    assert rows["zeek-5-pings.pcap|ingested"]["sha256"] == old_sha  # the original row is untouched
    assert count(spark, settings, "packets", f"file_sha256 = '{new_sha}'") == 0
    assert count(spark, settings, "packets") == 22

    # Rerunning with the file still changed records nothing new.
    again = run(spark, [str(batch)], settings)
    assert again.count("conflict") == 0
    assert count(spark, settings, "ingest_ledger", "status = 'conflict'") == 1


def test_same_content_under_two_paths_is_read_once(spark, settings, manifest, capture_dir):
    folder = capture_dir("zeek-5-pings.pcap")
    shutil.copyfile(folder / "zeek-5-pings.pcap", folder / "copy-of-pings.pcap")

    report = run(spark, [str(folder)], settings)

    assert report.count("ingested") == 2
    assert count(spark, settings, "packets") == manifest["zeek-5-pings.pcap"] == 10
    assert {e.packets for e in report.entries} == {10}

    shutil.copyfile(folder / "zeek-5-pings.pcap", folder / "third-copy.pcap")
    later = run(spark, [str(folder)], settings)
    assert [(e.path.rsplit("/", 1)[1], e.status, e.packets) for e in later.entries] == [
        ("third-copy.pcap", "ingested", 10)
    ]
    assert count(spark, settings, "packets") == 10


def test_run_bounds_limit_a_run_and_the_rest_waits(spark, settings, batch):
    """max_files takes the oldest new files; landed_before leaves newer ones out; the next run takes the rest."""
    import os
    from datetime import UTC, datetime

    from netqos.jobs.parse_pcaps import RunBounds

    for i, name in enumerate(GOOD):
        os.utime(batch / name, (1_700_000_000 + i * 60, 1_700_000_000 + i * 60))
    cutoff = datetime.fromtimestamp(1_700_000_000 + 2 * 60 + 1, UTC)  # GOOD[0..2] landed before it
    first = run(spark, [str(batch / n) for n in GOOD], settings, RunBounds(landed_before=cutoff, max_files=2))
    assert sorted(e.path.rsplit("/", 1)[1] for e in first.entries) == sorted(GOOD[:2])
    second = run(spark, [str(batch / n) for n in GOOD], settings, RunBounds(landed_before=cutoff))
    assert [e.path.rsplit("/", 1)[1] for e in second.entries] == [GOOD[2]]
    third = run(spark, [str(batch / n) for n in GOOD], settings)
    assert [e.path.rsplit("/", 1)[1] for e in third.entries] == [GOOD[3]]


def test_a_corrupt_file_is_quarantined_while_the_clean_one_lands(spark, settings, tmp_path, pcaps):
    """Records claiming more captured than wire bytes (cap_len > wire_len) fail the packets suite: that file's rows
    go to quarantine_packets with the failed expectation, its ledger row says 'quarantined', and the clean file in
    the same run is ingested and featurized; a rerun changes nothing."""
    import json as _json

    from pcapgen import Record, pcap_file

    from netqos.jobs import build_flows

    shutil.copyfile(pcaps / "zeek-5-pings.pcap", tmp_path / "clean.pcap")
    frame = bytes(range(60))
    (tmp_path / "corrupt.pcap").write_bytes(
        pcap_file([Record(frame, ts_sec=1_700_000_000 + i, orig_len=40) for i in range(3)])
    )
    report = run(spark, [str(tmp_path)], settings, run_id="run-1")
    status = {e.path.rsplit("/", 1)[1]: e for e in report.entries}
    assert status["clean.pcap"].status == "ingested" and status["clean.pcap"].packets == 10
    assert status["corrupt.pcap"].status == "quarantined"
    reason = _json.loads(status["corrupt.pcap"].error)
    assert any("cap_len" in _json.dumps(f) for f in reason)
    corrupt_sha = sha256(tmp_path / "corrupt.pcap")
    assert count(spark, settings, "packets") == 10
    assert count(spark, settings, "quarantine_packets", f"file_sha256 = '{corrupt_sha}'") == 3
    again = run(spark, [str(tmp_path)], settings, run_id="run-2")
    assert again.entries == [] and len(again.skipped) == 2
    build_flows.run(spark, settings)
    featurized = spark.sql(f"SELECT file_sha256 FROM {settings.lake.database}.feature_ledger").collect()
    assert [r.file_sha256 for r in featurized] == [sha256(tmp_path / "clean.pcap")]
