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
