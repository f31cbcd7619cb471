"""plan_ingest: what the ingest job decides per file, from the ledger alone (no Spark)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from netqos.jobs.capture_files import CaptureFile
from netqos.jobs.ingest_plan import new_entry, plan_ingest

pytestmark = pytest.mark.unit

NOW = datetime(2024, 5, 1, tzinfo=UTC)
A = CaptureFile("/c/a.pcap", 100, NOW, "a" * 64, "pcap", None)
B = CaptureFile("/c/b.pcap", 200, NOW, "b" * 64, "pcapng", None)


def ingested(f: CaptureFile, packets: int = 7):
    return replace(new_entry(f, "ingested", sensor_id="s", now=NOW), packets=packets, link_types=[1])


def plan(files, ledger=()):
    return plan_ingest(files, list(ledger), sensor_id="s1", now=NOW)


def test_new_files_are_read():
    p = plan([A, B])
    assert p.to_ingest == [A, B] and p.entries == [] and p.skipped == []
    assert p.to_read == {A.sha256: A.path, B.sha256: B.path}


def test_same_path_and_content_is_skipped():
    p = plan([A], [ingested(A)])
    assert p.skipped == [A] and p.to_ingest == [] and p.entries == []


def test_changed_content_is_a_conflict_naming_both_hashes():
    changed = replace(A, sha256="c" * 64)
    p = plan([changed], [ingested(A)])
    assert p.to_ingest == []
    [entry] = p.entries
    assert entry.status == "conflict" and entry.sha256 == "c" * 64 and entry.path == A.path
    assert "a" * 64 in entry.error and "c" * 64 in entry.error


def test_conflict_already_recorded_is_skipped():
    changed = replace(A, sha256="c" * 64)
    recorded = new_entry(changed, "conflict", sensor_id="s", now=NOW, error="x")
    p = plan([changed], [ingested(A), recorded])
    assert p.skipped == [changed] and p.entries == []


def test_unreadable_is_failed_and_retried_next_run():
    broken = replace(A, format=None, error="not a pcap or pcapng file (text)")
    first = plan([broken])
    [entry] = first.entries
    assert (entry.status, entry.error, entry.sensor_id) == ("failed", "not a pcap or pcapng file (text)", "s1")
    again = plan([broken], first.entries)
    assert [e.status for e in again.entries] == ["failed"] and again.skipped == []


def test_failed_before_then_new_content_is_read():
    old = new_entry(replace(A, sha256="0" * 64), "failed", sensor_id="s", now=NOW, error="x")
    assert plan([A], [old]).to_ingest == [A]


def test_conflict_wins_over_failure():
    broken = replace(A, sha256="c" * 64, format=None, error="cut short")
    [entry] = plan([broken], [ingested(A)]).entries
    assert entry.status == "conflict"


def test_content_ingested_from_another_path_is_copied_not_read():
    copy = replace(A, path="/c/copy.pcap")
    p = plan([copy], [ingested(A, packets=42)])
    assert p.to_ingest == []
    [entry] = p.entries
    assert (entry.path, entry.status, entry.packets, entry.link_types) == ("/c/copy.pcap", "ingested", 42, [1])


def test_equal_content_in_one_run_is_read_once():
    copy = replace(A, path="/c/copy.pcap")
    p = plan([A, copy])
    assert p.to_ingest == [A, copy]
    assert p.to_read == {A.sha256: A.path}
