"""netqos.analysis.tcp.analyze() on crafted TCP conversations (tcp_scenarios.py), one behaviour per test.

The expected flags are Wireshark's: tests/oracle/test_tcp_analysis_vs_tshark.py runs tshark on the same
scenarios and checks it agrees with analyze().
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import tcp_scenarios as sc  # noqa: E402
from tcp_scenarios import Scenario, Seg  # noqa: E402

from netqos.analysis import ANALYSIS_SCHEMA, analyze  # noqa: E402
from netqos.decode.schema import PACKET_SCHEMA  # noqa: E402

pytestmark = [pytest.mark.unit, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[3]


def rows(scenario: Scenario, **kwargs: Any) -> list[dict[str, Any]]:
    return analyze(scenario.table(), **kwargs).to_pylist()


def flags_of(row: dict[str, Any]) -> set[str]:
    return {name for name in sc.FLAGS if row[f"tcp_{name}"]}


@pytest.mark.parametrize("name", [s.name for s in sc.SCENARIOS])
def test_flags_per_frame(name: str) -> None:
    scenario = sc.BY_NAME[name]
    got = [flags_of(r) for r in rows(scenario)]
    want = [set(s.expected) for s in scenario.segs]
    assert got == want


def test_output_schema_and_keys() -> None:
    table = analyze(sc.BY_NAME["clean"].table())
    assert table.schema.equals(ANALYSIS_SCHEMA)
    assert table.column("frame_no").to_pylist() == list(range(1, 11))


def test_clean_conversation_rtt_and_bytes_in_flight() -> None:
    out = rows(sc.BY_NAME["clean"])
    assert [r["tcp_stream"] for r in out] == [0] * 10
    assert [r["tcp_acks_frame"] for r in out] == [None, 1, 2, None, 4, None, 6, None, 8, 9]
    for r in out:
        if r["tcp_acks_frame"] is not None:
            assert r["tcp_ack_rtt"] == pytest.approx(0.010)
        else:
            assert r["tcp_ack_rtt"] is None
    # initial RTT (SYN -> first pure ACK = 20 ms) from the handshake's last frame on
    assert [r["tcp_initial_rtt"] for r in out[:2]] == [None, None]
    assert all(r["tcp_initial_rtt"] == pytest.approx(0.020) for r in out[2:])
    assert [r["tcp_bytes_in_flight"] for r in out] == [None, None, None, 100, None, 200, None, None, None, None]
    assert all(r["tcp_dup_ack_num"] is None for r in out)


def test_dup_ack_numbering_and_reset() -> None:
    out = rows(sc.BY_NAME["fast_retransmission"])
    assert [r["tcp_dup_ack_num"] for r in out[8:11]] == [1, 2, 3]
    assert [r["tcp_dup_ack_frame"] for r in out[8:11]] == [8, 8, 8]  # the original ACK is frame 8
    assert out[11]["tcp_fast_retransmission"] and out[11]["tcp_retransmission"]
    assert not out[11]["tcp_out_of_order"]
    # the ACK after the retransmission acknowledges up to frame 7's segment; counting restarts after it
    assert out[12]["tcp_acks_frame"] == 7
    assert out[13]["tcp_dup_ack_num"] == 1 and out[13]["tcp_dup_ack_frame"] == 13


def test_retransmission_is_acked_as_original() -> None:
    out = rows(sc.BY_NAME["retransmission"])
    # Wireshark matches the ACK to the oldest unacked segment with that end: the original, 310 ms earlier
    assert out[5]["tcp_acks_frame"] == 4
    assert out[5]["tcp_ack_rtt"] == pytest.approx(0.310)


def test_out_of_order_threshold_is_the_initial_rtt() -> None:
    base = sc.BY_NAME["out_of_order"]
    late = Scenario("late", [*base.segs[:5], Seg(121, 0, "PA", 101, 1, 100, expect=sc._x("retransmission"))])
    assert flags_of(rows(late)[5]) == {"retransmission"}  # 60 ms after the highest segment > 50 ms RTT


def test_out_of_order_default_threshold_without_handshake() -> None:
    def tail(t_ms: float) -> Scenario:
        return Scenario(
            "no-handshake",
            [Seg(0, 0, "PA", 1, 1, 100), Seg(1, 0, "PA", 201, 1, 100), Seg(t_ms, 0, "PA", 101, 1, 100)],
        )

    assert flags_of(rows(tail(2))[2]) == {"out_of_order"}  # 1 ms < 3 ms default threshold
    assert flags_of(rows(tail(10))[2]) == {"retransmission"}
    assert flags_of(rows(tail(2))[1]) == {"lost_segment"}
    assert all(r["tcp_initial_rtt"] is None for r in rows(tail(2)))


def test_window_scaling_and_window_size() -> None:
    out = rows(sc.BY_NAME["window_full"])
    assert [r["tcp_window_size"] for r in out] == [64240, 65535, 1024, 65535 << 7, 1024, 65535 << 7]


def test_window_full_needs_known_scaling() -> None:
    """Without the handshake the scale is unknown: Wireshark never reports window full, and shows raw windows."""
    out = rows(sc.BY_NAME["window_full_unknown_scale"])
    assert not any(r["tcp_window_full"] for r in out)
    assert [r["tcp_window_size"] for r in out] == [8, 65535, 8, 65535]
    unscaled = rows(sc.BY_NAME["window_full_without_scaling"])
    assert unscaled[3]["tcp_window_full"] and unscaled[2]["tcp_window_size"] == 1000


def test_bytes_in_flight_subtracts_the_peers_sack_blocks() -> None:
    out = rows(sc.BY_NAME["sack_bytes_in_flight"])
    assert [r["tcp_bytes_in_flight"] for r in out[3:7]] == [100, 200, 300, 400]
    assert out[8]["tcp_bytes_in_flight"] == 400 - 200  # 101..501 unacked, 201..401 SACKed
    assert out[10]["tcp_bytes_in_flight"] == 400 - 300  # SACK now 201..501
    assert out[11]["tcp_acks_frame"] == 9


def test_port_reuse_starts_a_new_stream() -> None:
    out = rows(sc.BY_NAME["port_reuse"])
    assert [r["tcp_stream"] for r in out] == [0] * 6 + [1] * 4
    assert out[6]["tcp_reused_ports"]
    assert out[8]["tcp_initial_rtt"] == pytest.approx(0.020)


def test_syn_retransmission_keeps_stream_and_uses_latest_syn_for_initial_rtt() -> None:
    out = rows(sc.BY_NAME["syn_retransmission"])
    assert [r["tcp_stream"] for r in out] == [0, 0, 0, 0]
    assert out[2]["tcp_acks_frame"] == 1 and out[2]["tcp_ack_rtt"] == pytest.approx(1.010)
    assert out[3]["tcp_initial_rtt"] == pytest.approx(0.020)


def test_sequence_numbers_wrap() -> None:
    scenario = sc.BY_NAME["sequence_wrap"]
    seqs = [scenario.abs_seq(s) for s in scenario.segs]
    assert seqs[4] > seqs[5]  # the second data segment really crosses 2**32
    out = rows(scenario)
    assert out[8]["tcp_acks_frame"] == 6
    assert out[6]["tcp_acks_frame"] == 4


def test_vlan_aware_and_wireshark_compatible() -> None:
    scenario = sc.BY_NAME["vlans"]
    aware = rows(scenario)
    assert [r["tcp_stream"] for r in aware] == [0, 1] * 5
    assert not any(flags_of(r) for r in aware)
    merged = rows(scenario, vlan_aware=False)
    assert {r["tcp_stream"] for r in merged} == {0}
    assert [sorted(flags_of(r)) for r in merged] == [
        [], ["retransmission"], [], ["retransmission"], [], ["dup_ack"], [], ["retransmission"], [], ["dup_ack"],
    ]  # fmt: skip


def test_non_tcp_rows_are_null_or_false() -> None:
    table = sc.BY_NAME["clean"].table()
    udp = {name: [None] for name in table.column_names}
    udp.update(frame_no=[11], ts_ns=[sc.T0_NS], ip_version=[4], ip_src=["10.0.0.1"], ip_dst=["10.0.0.9"],
               ip_proto=[17], src_port=[53], dst_port=[5353], l4_payload_len=[40])  # fmt: skip
    table = pa.concat_tables([table, pa.Table.from_pydict(udp, schema=table.schema)])
    row = analyze(table).to_pylist()[-1]
    assert row["frame_no"] == 11
    for name, value in row.items():
        if name == "frame_no":
            continue
        assert value in (None, False), name


def test_ip_fragments_are_not_analysed() -> None:
    table = sc.BY_NAME["retransmission"].table()
    mf = pa.array([False, False, False, True, False, False])
    table = table.append_column(PACKET_SCHEMA.field("ip_flags_mf"), mf)
    out = analyze(table).to_pylist()
    assert out[3]["tcp_stream"] is None and out[3]["tcp_bytes_in_flight"] is None
    assert not out[4]["tcp_retransmission"]  # its "original" was a fragment, so this is new data


def test_rows_out_of_frame_order_give_the_same_answer() -> None:
    table = sc.BY_NAME["fast_retransmission"].table()
    expected = analyze(table).to_pylist()
    order = list(reversed(range(table.num_rows)))
    shuffled = analyze(table.take(order)).to_pylist()
    assert shuffled == [expected[i] for i in order]


def test_several_files_in_one_table_stay_apart() -> None:
    one = sc.BY_NAME["clean"].table()
    two = pa.concat_tables([one, one])
    files = pa.array(["a.pcap"] * one.num_rows + ["b.pcap"] * one.num_rows)
    out = analyze(two.append_column("source_file", files))
    assert out.column_names[-1] == "source_file"
    result = out.to_pylist()
    assert not any(flags_of(r) for r in result)  # the same frames in file b are not retransmissions of file a
    assert [r["tcp_stream"] for r in result] == [0] * 10 + [1] * 10
    # without the file column the copy is one conversation full of retransmissions
    assert any(r["tcp_retransmission"] for r in analyze(two).to_pylist())


def test_bytes_in_flight_can_be_skipped() -> None:
    out = analyze(sc.BY_NAME["clean"].table(), bytes_in_flight=False)
    assert out.column("tcp_bytes_in_flight").null_count == out.num_rows


def test_missing_columns_are_reported() -> None:
    with pytest.raises(ValueError, match="tcp_seq"):
        analyze(sc.BY_NAME["clean"].table().drop_columns(["tcp_seq"]))


def test_empty_table() -> None:
    empty = sc.BY_NAME["clean"].table().slice(0, 0)
    out = analyze(empty)
    assert out.num_rows == 0 and out.schema.equals(ANALYSIS_SCHEMA)


def test_sample_capture_matches_tshark_counts() -> None:
    """samples/zeek-206_example_b.pcap: the counts tshark 4.0 reports (shared/pcaps/tshark-summary.tsv)."""
    from netqos.decode import decode_file

    out = analyze(decode_file(REPO / "samples" / "zeek-206_example_b.pcap"))
    counts = {c: sum(out.column(c).to_pylist()) for c in
              ("tcp_retransmission", "tcp_out_of_order", "tcp_dup_ack", "tcp_zero_window")}  # fmt: skip
    assert counts == {"tcp_retransmission": 56, "tcp_out_of_order": 52, "tcp_dup_ack": 64, "tcp_zero_window": 57}
