"""Spool: finalize / pending / remove, seq persistence, crash recovery, quota eviction (counted and logged)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

from netqos.capture.filemeta import describe
from netqos.capture.model import CaptureFileMeta, DropCounters
from netqos.capture.spool import Spool

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from pcapgen import epb, idb, shb, ts_units

T0 = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z
PKT = bytes(12) + b"\x08\x00" + bytes([0x45]) + bytes(39)


def _capture(path: Path, n: int = 3, t0: int = T0) -> Path:
    data = shb() + idb(1, tsresol=9) + b"".join(epb(PKT, ts=ts_units(t0 + i, 9)) for i in range(n))
    path.write_bytes(data)
    return path


def _finalize(spool: Spool, name: str, t0: int = T0, n: int = 3) -> tuple[Path, CaptureFileMeta]:
    path = _capture(spool.incoming / name, n, t0)
    meta = describe(path, sensor_id="site/a_1", seq=spool.next_seq("site/a_1"), backend="t", drops=DropCounters())
    return spool.finalize(path, meta).path, meta


def test_finalize_names_moves_and_writes_sidecar(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1 << 20)
    final, meta = _finalize(spool, "x.pcapng")
    assert final.parent == spool.ready
    assert final.name == "site-a-1_20231114T221320Z_000001.pcapng"  # '/', '_' replaced
    assert not list(spool.incoming.iterdir())
    sidecar = final.with_name(final.name + ".json")
    assert CaptureFileMeta.from_json(sidecar.read_text()) == meta
    assert [e.path for e in spool.pending()] == [final]
    assert not [p for p in spool.ready.iterdir() if p.name.endswith(".tmp")]


def test_finalize_without_packets_uses_close_time(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1 << 20)
    path = spool.incoming / "e.pcap"
    path.write_bytes(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
    meta = describe(path, sensor_id="s", seq=spool.next_seq("s"), backend="t", drops=DropCounters())
    from dataclasses import replace

    entry = spool.finalize(path, replace(meta, closed_ns=T0 + 3 * 10**9))
    assert entry.path.name == "s_20231114T221323Z_000001.pcap"


def test_pending_is_oldest_first_and_remove_deletes_both(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1 << 20)
    # closing order (seq) wins over the stamp: an empty file is stamped with its (later) close time
    early, _ = _finalize(spool, "1.pcapng", T0 + 60 * 10**9)
    late, _ = _finalize(spool, "2.pcapng", T0)
    entries = spool.pending()
    assert [e.path for e in entries] == [early, late]
    spool.remove(entries[0])
    assert not early.exists() and not early.with_name(early.name + ".json").exists()
    assert [e.path for e in spool.pending()] == [late]
    spool.remove(entries[0])  # twice is harmless (an uploader retry)


def test_seq_persists_and_survives_a_lost_state(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1 << 20)
    assert [spool.next_seq("a"), spool.next_seq("a"), spool.next_seq("b")] == [1, 2, 1]
    assert Spool(tmp_path, 1 << 20).next_seq("a") == 3
    _finalize(Spool(tmp_path, 1 << 20), "x.pcapng")  # site-a_1 seq 1
    (tmp_path / "state.json").write_text("{not json")
    again = Spool(tmp_path, 1 << 20)  # rebuilt from the names in ready/: never reuses a seq
    assert again.next_seq("site/a_1") == 2


def test_file_drops_delta_and_restart(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1 << 20)
    assert spool.file_drops("s", DropCounters(10, 1, 0)) == DropCounters(10, 1, 0)
    assert Spool(tmp_path, 1 << 20).file_drops("s", DropCounters(25, 3, 0)) == DropCounters(15, 2, 0)
    assert spool.file_drops("s", DropCounters(4, 0, 0)) == DropCounters(4, 0, 0)  # the backend restarted
    spool.reset_drops("s")
    assert spool.file_drops("s", DropCounters(9, 0, 0)) == DropCounters(9, 0, 0)


def test_recover_after_a_crash(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1 << 20)
    kept, _ = _finalize(spool, "keep.pcapng")
    orphan_file, _ = _finalize(spool, "orphan.pcapng", T0 + 10**9)
    orphan_file.with_name(orphan_file.name + ".json").unlink()  # crashed between rename and sidecar
    lone = spool.ready / "site-a-1_20231114T221400Z_000099.pcapng.json"
    lone.write_text("{}")  # crashed while removing: sidecar without its file
    (spool.ready / ".x.json.tmp").write_text("half")
    cut = _capture(spool.incoming / "live-1-123_00007_20231114221320.pcapng", 5, T0 + 5 * 10**9)
    cut.write_bytes(cut.read_bytes()[:-20])  # the backend was killed mid-write
    (spool.incoming / "empty.pcapng").write_bytes(b"")
    (spool.incoming / ".netqos-tcpdump-closed.sh").write_text("#!/bin/sh\n")

    spool = Spool(tmp_path, 1 << 20)  # the next agent
    recovered = spool.recover("site/a_1", "dumpcap")
    by_name = {e.path.name: e for e in recovered}
    assert set(by_name) == {orphan_file.name, "site-a-1_20231114T221325Z_000003.pcapng"}
    assert by_name[orphan_file.name].meta.seq == 2 and by_name[orphan_file.name].meta.recovered
    cut_meta = by_name["site-a-1_20231114T221325Z_000003.pcapng"].meta
    assert cut_meta.recovered and cut_meta.packets == 4 and cut_meta.decode_error
    assert cut_meta.closed_ns is not None and cut_meta.backend == "dumpcap"
    assert not lone.exists() and not (spool.ready / ".x.json.tmp").exists()
    assert [p.name for p in spool.incoming.iterdir()] == [".netqos-tcpdump-closed.sh"]
    cut_name = "site-a-1_20231114T221325Z_000003.pcapng"
    assert [e.path.name for e in spool.pending()] == [kept.name, orphan_file.name, cut_name]
    assert spool.recover("site/a_1", "dumpcap") == []  # idempotent


def test_quota_evicts_oldest_counts_and_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spool = Spool(tmp_path, 1 << 20)
    paths = [_finalize(spool, f"{i}.pcapng", T0 + i * 10**9, n=40)[0] for i in range(4)]
    used = spool.used_bytes()
    spool.quota_bytes = used - 1  # one file over: the oldest goes
    (spool.incoming / "writing.pcapng").write_bytes(b"x" * 5000)  # counts against the quota, never evicted
    with caplog.at_level(logging.ERROR, logger="netqos.capture"):
        evicted = spool.enforce_quota()
    assert [e.path for e in evicted] == paths[:2]  # the incoming file pushed it over by one more
    assert len([r for r in caplog.records if r.levelno == logging.ERROR and "evicted" in r.getMessage()]) == 2
    assert all(r.name == "netqos.capture" for r in caplog.records)
    stats = spool.stats()
    assert (stats.pending_files, stats.evicted_files) == (2, 2)
    assert stats.evicted_bytes == sum(e.meta.size for e in evicted)
    assert stats.pending_bytes == sum(p.stat().st_size for p in paths[2:])
    state = json.loads((tmp_path / "state.json").read_text())
    assert (state["evicted_files"], state["evicted_bytes"]) == (2, stats.evicted_bytes)
    assert Spool(tmp_path, 1 << 30).stats().evicted_files == 2  # persisted
    assert Spool(tmp_path, 1 << 30).enforce_quota() == []


def test_quota_with_nothing_to_evict_logs_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spool = Spool(tmp_path, 10)
    (spool.incoming / "big.pcapng").write_bytes(b"x" * 100)
    with caplog.at_level(logging.ERROR, logger="netqos.capture"):
        assert spool.enforce_quota() == []
    assert "nothing left to evict" in caplog.text
