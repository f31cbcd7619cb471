"""`netqos flows FILE... -o OUT.parquet` end to end on crafted captures."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

_ANALYSIS = str(Path(__file__).resolve().parents[1] / "analysis")
if _ANALYSIS not in sys.path:
    sys.path.insert(0, _ANALYSIS)

import tcp_scenarios as sc  # noqa: E402

from netqos.cli.main import main  # noqa: E402
from netqos.flows import FLOW_SCHEMA  # noqa: E402

pytestmark = [pytest.mark.unit, pytest.mark.timeout(300)]


def test_flows_cli_writes_flows_with_source_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = tmp_path / "fast.pcap"
    b = tmp_path / "vlans.pcap"
    a.write_bytes(sc.BY_NAME["fast_retransmission"].pcap())
    b.write_bytes(sc.BY_NAME["vlans"].pcap())
    out = tmp_path / "out" / "flows.parquet"
    assert main(["flows", str(a), str(b), "-o", str(out), "--sensor", "edge-1"]) == 0
    table = pq.read_table(out)
    assert table.column_names == [*FLOW_SCHEMA.names, "source_file"]
    rows = table.to_pylist()
    assert {r["source_file"] for r in rows} == {str(a), str(b)}
    assert all(r["sensor_id"] == "edge-1" for r in rows)
    fast = [r for r in rows if r["source_file"] == str(a)]
    assert sum(r["packets"] for r in fast) == 14 and sum(r["tcp_retransmissions"] for r in fast) >= 1
    vlans = [r for r in rows if r["source_file"] == str(b)]
    assert len({r["vlan_id"] for r in vlans}) == len(vlans) > 1  # one flow per VLAN
    assert "from 24 packets, 2/2 files" in capsys.readouterr().err


def test_flows_cli_rejects_bad_timeouts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flows", str(tmp_path / "x.pcap"), "-o", str(tmp_path / "o.parquet"), "--idle-timeout", "0"]) == 2
    assert "idle_timeout must be a positive number of seconds" in capsys.readouterr().err


def test_flows_cli_stitches_rotated_files_and_writes_windows(tmp_path: Path) -> None:
    """One conversation cut into two files: two flows per file by default, one flow with --stitch."""
    import struct

    whole = sc.BY_NAME["fast_retransmission"].pcap()
    header, records, pos = whole[:24], [], 24
    while pos < len(whole):
        incl = struct.unpack("<I", whole[pos + 8 : pos + 12])[0]
        records.append(whole[pos : pos + 16 + incl])
        pos += 16 + incl
    first, second = tmp_path / "r0.pcap", tmp_path / "r1.pcap"
    first.write_bytes(header + b"".join(records[:7]))
    second.write_bytes(header + b"".join(records[7:]))
    split, joined, windows = tmp_path / "split.parquet", tmp_path / "joined.parquet", tmp_path / "w.parquet"
    assert main(["flows", str(first), str(second), "-o", str(split)]) == 0
    argv = ["flows", str(first), str(second), "-o", str(joined), "--stitch", "--windows", str(windows)]
    assert main([*argv, "--plugin", "small_packets"]) == 0
    assert pq.read_table(split).num_rows == 2
    flows = pq.read_table(joined).to_pylist()
    assert len(flows) == 1 and flows[0]["packets"] == len(records) and flows[0]["source_file"] == str(first)
    assert 0 <= flows[0]["small_packets"] <= len(records)
    w = pq.read_table(windows).to_pylist()
    assert sum(r["packets"] for r in w if r["dimension"] == "all" and r["window_s"] == 10) == len(records)
    assert "small_packet_share" in w[0]


def test_flows_cli_rejects_unknown_plugin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flows", str(tmp_path / "x.pcap"), "-o", str(tmp_path / "o.parquet"), "--plugin", "nope"]) == 2
    assert "unknown feature plugin 'nope'" in capsys.readouterr().err
