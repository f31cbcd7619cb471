"""`netqos analyze FILE... -o OUT.parquet` end to end on crafted captures."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import tcp_scenarios as sc  # noqa: E402

from netqos.analysis import ANALYSIS_SCHEMA  # noqa: E402
from netqos.cli.main import main  # noqa: E402

pytestmark = [pytest.mark.unit, pytest.mark.timeout(300)]


def test_analyze_writes_one_row_per_frame_with_source_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = tmp_path / "fast.pcap"
    b = tmp_path / "vlans.pcap"
    a.write_bytes(sc.BY_NAME["fast_retransmission"].pcap())
    b.write_bytes(sc.BY_NAME["vlans"].pcap())
    out = tmp_path / "out" / "analysis.parquet"
    assert main(["analyze", str(a), str(b), "-o", str(out)]) == 0
    table = pq.read_table(out)
    assert table.column_names == [*ANALYSIS_SCHEMA.names, "source_file"]
    rows = table.to_pylist()
    assert [r["source_file"] for r in rows] == [str(a)] * 14 + [str(b)] * 10
    assert [r["frame_no"] for r in rows] == list(range(1, 15)) + list(range(1, 11))
    assert [r["frame_no"] for r in rows if r["tcp_fast_retransmission"]] == [12]
    assert not any(r["tcp_retransmission"] for r in rows[14:])  # VLAN-aware by default
    err = capsys.readouterr().err
    assert "24 packets (24 TCP) from 2/2 files" in err


def test_analyze_ignore_vlan_and_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "vlans.pcap"
    good.write_bytes(sc.BY_NAME["vlans"].pcap())
    bad = tmp_path / "not-a-capture.pcap"
    bad.write_text("hello")
    out = tmp_path / "analysis.parquet"
    assert main(["analyze", str(good), str(bad), "--ignore-vlan", "-o", str(out)]) == 1
    rows = pq.read_table(out).to_pylist()
    assert [r["frame_no"] for r in rows if r["tcp_retransmission"]] == [2, 4, 8]  # as tshark 4.0
    assert "not-a-capture.pcap" in capsys.readouterr().err
