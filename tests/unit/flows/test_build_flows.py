"""build_flows on crafted packet tables: keys, timeouts, TCP close, ids, direction stats, jitter, 802.11."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from packet_rows import S, pkt, table
from shared_pcaps import SHARED_PCAPS

from netqos.flows import FLOW_SCHEMA, FlowConfig, build_flows

pytestmark = pytest.mark.unit

SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10
ROOT = Path(__file__).resolve().parents[3]
PCAPS = SHARED_PCAPS


def tcp(t: float, flags: int, fwd: bool = True, length: int = 60) -> dict[str, Any]:
    src, dst, sp, dp = ("10.0.0.1", "10.0.0.2", 40000, 80) if fwd else ("10.0.0.2", "10.0.0.1", 80, 40000)
    return pkt(t, src, dst, sp, dp, proto=6, length=length, tcp_flags=flags)


def flows(rows: list[dict[str, Any]], **cfg: Any) -> list[dict[str, Any]]:
    out = build_flows(table(rows), None, FlowConfig(**cfg))
    assert out.schema.equals(FLOW_SCHEMA, check_metadata=False)
    result: list[dict[str, Any]] = out.to_pylist()
    return result


def test_idle_timeout_splits() -> None:
    f = flows([pkt(0), pkt(1, "10.0.0.2", "10.0.0.1", 53, 1000), pkt(121.5), pkt(122)])
    assert [(x["packets"], x["end_reason"]) for x in f] == [(2, "idle"), (2, "eof")]
    f = flows([pkt(0), pkt(4), pkt(9.5)], idle_timeout=5)
    assert [x["packets"] for x in f] == [2, 1]
    assert [x["packets"] for x in flows([pkt(0), pkt(5)], idle_timeout=5)] == [1, 1]  # a gap of exactly idle cuts


def test_active_timeout_splits_busy_flow() -> None:
    f = flows([pkt(60.0 * i) for i in range(40)])  # one packet a minute for 39 minutes
    assert [(x["packets"], x["end_reason"]) for x in f] == [(30, "active"), (10, "eof")]
    assert f[0]["duration_s"] == pytest.approx(29 * 60)


def test_fin_and_rst_end_tcp_flows_and_new_syn_starts_one() -> None:
    rows = [
        tcp(0.0, SYN), tcp(0.01, SYN | ACK, False), tcp(0.02, ACK), tcp(0.03, PSH | ACK, length=500),
        tcp(0.04, FIN | ACK), tcp(0.05, FIN | ACK, False), tcp(0.06, ACK),  # final ACK stays in the flow
        tcp(1.0, SYN), tcp(1.01, SYN | ACK, False), tcp(1.02, RST), tcp(1.03, RST),  # trailing RST stays
        tcp(2.0, SYN),
    ]  # fmt: skip
    f = flows(rows)
    assert [(x["packets"], x["end_reason"]) for x in f] == [(7, "fin"), (4, "rst"), (1, "eof")]
    assert [x["syn_packets"] for x in f] == [2, 2, 1]
    assert (f[0]["fin_packets"], f[0]["src2dst_fin_packets"], f[0]["dst2src_fin_packets"]) == (2, 1, 1)
    assert (f[0]["psh_packets"], f[0]["ack_packets"], f[1]["rst_packets"]) == (1, 6, 2)
    assert len({x["flow_id"] for x in f}) == 3
    assert [x["packets"] for x in flows(rows, tcp_close=False)] == [12]


def test_one_fin_does_not_end_flow() -> None:
    f = flows([tcp(0, SYN), tcp(0.1, FIN | ACK), tcp(0.2, SYN)])  # half-closed: a SYN does not cut
    assert [x["packets"] for x in f] == [3]


def test_icmp_keyed_on_echo_identifier() -> None:
    def echo(t: float, ty: int, ident: int, fwd: bool = True) -> dict[str, Any]:
        a, b = ("10.0.0.1", "10.0.0.9") if fwd else ("10.0.0.9", "10.0.0.1")
        return pkt(t, a, b, None, None, proto=1, length=84, icmp_type=ty, icmp_code=0, icmp_id=ident)

    rows = [echo(0, 8, 1), echo(0.1, 0, 1, False), echo(0.2, 8, 2), echo(0.3, 0, 2, False), echo(0.4, 8, 1)]
    f = flows(rows)
    assert sorted((x["icmp_id"], x["packets"], x["src2dst_packets"]) for x in f) == [(1, 3, 2), (2, 2, 1)]
    assert all(x["src_port"] is None and x["icmp_type"] == 8 and x["protocol"] == 1 for x in f)
    # non-echo ICMP (destination unreachable) is keyed on its type
    f = flows([pkt(0, proto=1, sp=None, dp=None, icmp_type=3), pkt(1, proto=1, sp=None, dp=None, icmp_type=11)])
    assert len(f) == 2 and f[0]["icmp_id"] is None


def test_ipv6_and_other_protocols() -> None:
    a, b = "2001:db8::1", "2001:db8::2"
    f = flows([pkt(0, a, b, 5000, 443), pkt(0.5, b, a, 443, 5000), pkt(1, a, b, None, None, proto=50)])
    by_proto = {x["protocol"]: x for x in f}
    assert by_proto[17]["packets"] == 2 and by_proto[17]["ip_version"] == 6
    assert by_proto[50]["src_port"] is None and by_proto[50]["packets"] == 1


def test_vlan_separates_flows_unless_ignored() -> None:
    rows = [pkt(0, vlan_id=10), pkt(0.1, vlan_id=20), pkt(0.2, vlan_id=10, vlan_inner_id=5), pkt(0.3)]
    assert len(flows(rows)) == 4
    f = flows(rows, vlan_aware=False)
    assert len(f) == 1 and f[0]["vlan_id"] is None


def test_sensor_and_source_file_are_key_parts() -> None:
    t = table([pkt(0), pkt(1)])
    t = t.append_column("sensor_id", pa.array(["a", "b"])).append_column("source_file", pa.array(["x", "x"]))
    out = build_flows(t, None, FlowConfig())
    assert sorted(out.column("sensor_id").to_pylist()) == ["a", "b"]
    assert out.column("source_file").to_pylist() == ["x", "x"]


def test_flow_ids_stable_across_reruns_and_row_order() -> None:
    rows = [pkt(0), pkt(0.1, "10.0.0.2", "10.0.0.1", 53, 1000), pkt(0.2, sp=1001), tcp(0.3, SYN), pkt(300)]
    a = flows(rows)
    b = flows(rows[::-1])
    assert [x["flow_id"] for x in a] == [x["flow_id"] for x in b]
    assert len({x["flow_id"] for x in a}) == 4  # the last packet is after the idle timeout: a new flow
    assert flows(rows, sensor_id="edge-2")[0]["flow_id"] != a[0]["flow_id"]


def test_direction_statistics() -> None:
    # the SYN was not captured: the SYN/ACK sender is the responder
    rows = [tcp(0.0, SYN | ACK, False, 60), tcp(0.1, ACK, True, 52), tcp(0.3, PSH | ACK, True, 552),
            tcp(0.35, ACK, False, 52), tcp(0.65, PSH | ACK, True, 1052)]  # fmt: skip
    (f,) = flows(rows)
    assert (f["src_addr"], f["src_port"], f["dst_port"]) == ("10.0.0.1", 40000, 80)
    assert (f["packets"], f["src2dst_packets"], f["dst2src_packets"]) == (5, 3, 2)
    assert (f["bytes"], f["src2dst_bytes"], f["dst2src_bytes"]) == (1768, 1656, 112)
    fwd = np.array([52, 552, 1052.0])
    assert f["src2dst_ps_mean"] == pytest.approx(fwd.mean())
    assert f["src2dst_ps_stddev"] == pytest.approx(fwd.std(ddof=1))
    assert (f["ps_min"], f["ps_max"]) == (52, 1052)
    assert f["src2dst_piat_mean_s"] == pytest.approx(0.275)
    assert f["src2dst_piat_stddev_s"] == pytest.approx(np.std([0.2, 0.35], ddof=1))
    assert (f["piat_min_s"], f["piat_max_s"]) == (pytest.approx(0.05), pytest.approx(0.3))
    assert f["dst2src_first_ts_ns"] == 0 and f["src2dst_first_ts_ns"] == S // 10
    assert f["duration_s"] == pytest.approx(0.65) and f["dst2src_duration_s"] == pytest.approx(0.35)
    assert f["dst2src_piat_min_s"] == pytest.approx(0.35) and f["dst2src_piat_stddev_s"] is None


def test_rfc3550_jitter_on_constant_rate_stream() -> None:
    # 20 ms stream, every other packet 1 ms late: IATs 19/21 ms, median 20 ms (an even count of each), so
    # |D| = 1 ms for every pair -> J_n = 1 ms * (1 - (15/16)^n) after n differences
    n = 201
    rows = [pkt(0.020 * i + (0.001 if i % 2 else 0.0)) for i in range(n)]
    (f,) = flows(rows)
    expected = 0.001 * (1 - (15 / 16) ** (n - 1))
    assert f["src2dst_jitter_s"] == pytest.approx(expected, rel=1e-6)
    assert f["dst2src_jitter_s"] is None
    (g,) = flows([pkt(0.020 * i) for i in range(50)])
    assert g["src2dst_jitter_s"] == pytest.approx(0.0, abs=1e-12)
    assert flows([tcp(0, SYN), tcp(0.1, ACK), tcp(0.2, ACK)])[0]["src2dst_jitter_s"] is None


def test_non_ip_80211_flow_retry_and_signal() -> None:
    def frame(t: float, retry: bool, sig: int | None, fwd: bool = True) -> dict[str, Any]:
        a1, a2 = ("00:00:00:00:00:01", "00:00:00:00:00:02") if fwd else ("00:00:00:00:00:02", "00:00:00:00:00:01")
        return {"ts_ns": int(t * S), "wire_len": 120, "wlan_addr1": a1, "wlan_addr2": a2, "wlan_retry": retry,
                "rt_dbm_antsignal": sig, "link_type": 127}  # fmt: skip

    (f,) = flows([frame(0, False, -40), frame(0.1, True, -60, False), frame(0.2, False, None), frame(0.3, True, -50)])
    assert f["flow_kind"] == "l2" and f["protocol"] is None and f["bytes"] == 480
    assert (f["wlan_frames"], f["wlan_retry_rate"]) == (4, 0.5)
    assert (f["wlan_signal_mean_dbm"], f["wlan_signal_min_dbm"]) == (-50.0, -60.0)
    assert f["src_addr"] == "00:00:00:00:00:02"


def test_rows_without_addresses_or_time_are_skipped() -> None:
    rows = [pkt(0), {"ts_ns": 5, "wire_len": 60}, pkt(1) | {"ts_ns": None}]
    assert [x["packets"] for x in flows(rows)] == [1]
    empty = build_flows(table([]), None, FlowConfig())
    assert empty.num_rows == 0 and empty.schema.equals(FLOW_SCHEMA, check_metadata=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"idle_timeout": 0}, "idle_timeout must be a positive number of seconds"),
        ({"active_timeout": -5}, "active_timeout must be a positive number of seconds"),
        ({"idle_timeout": float("nan")}, "idle_timeout must be a positive number of seconds"),
        ({"idle_timeout": 100, "active_timeout": 50}, "active_timeout .* must be >= idle_timeout"),
        ({"sensor_id": ""}, "sensor_id must be a non-empty string"),
    ],
)
def test_config_validation(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FlowConfig(**kwargs)
    with pytest.raises(TypeError, match="idle_timeout must be a number"):
        FlowConfig(idle_timeout="120")  # type: ignore[arg-type]


def test_analysis_must_line_up() -> None:
    from netqos.analysis.tcp import analyze

    t = table([tcp(0, SYN), tcp(0.1, SYN | ACK, False), tcp(0.2, ACK)])
    with pytest.raises(ValueError, match="do not line up"):
        build_flows(t, analyze(t).slice(1), FlowConfig())
    with pytest.raises(ValueError, match="lacks"):
        build_flows(t, analyze(t).drop_columns(["tcp_ack_rtt"]), FlowConfig())


@pytest.mark.skipif(not (PCAPS / "zeek-206_example_b.pcap").exists(), reason="shared captures not present")
def test_tcp_counters_and_rtt_sum_the_analysis() -> None:
    from netqos.analysis.tcp import analyze
    from netqos.decode import decode_file

    packets = decode_file(PCAPS / "zeek-206_example_b.pcap")
    analysis = analyze(packets)
    out = build_flows(packets, analysis, FlowConfig())
    pairs = [("tcp_retransmissions", "tcp_retransmission"), ("tcp_dup_acks", "tcp_dup_ack"),
             ("tcp_out_of_order", "tcp_out_of_order"), ("tcp_zero_window", "tcp_zero_window")]  # fmt: skip
    for counter, column in pairs:
        assert pc.sum(out.column(counter)).as_py() == pc.sum(analysis.column(column)).as_py()
        both = pc.add(out.column(f"src2dst_{counter}"), out.column(f"dst2src_{counter}"))
        assert both.equals(out.column(counter))
    assert pc.sum(out.column("tcp_retransmissions")).as_py() > 0
    rtts = analysis.column("tcp_ack_rtt").drop_null().to_numpy()
    assert pc.sum(out.column("tcp_rtt_samples")).as_py() == len(rtts)
    assert pc.min(out.column("tcp_rtt_min_s")).as_py() == pytest.approx(rtts.min())
    assert pc.max(out.column("tcp_rtt_max_s")).as_py() == pytest.approx(rtts.max())
    packets = decode_file(PCAPS / "zeek-m57-long-49583-80.pcap")  # one TCP connection: all RTTs are its own
    analysis = analyze(packets)
    rtts = analysis.column("tcp_ack_rtt").drop_null().to_numpy()
    with_rtt = build_flows(packets, analysis, FlowConfig()).to_pylist()
    assert len(with_rtt) == 1 and with_rtt[0]["tcp_rtt_samples"] == len(rtts) > 20
    assert with_rtt[0]["tcp_rtt_p95_s"] == pytest.approx(np.percentile(rtts, 95))
    assert with_rtt[0]["tcp_rtt_mean_s"] == pytest.approx(rtts.mean())


def test_docs_describe_every_column() -> None:
    text = (ROOT / "docs" / "flows.md").read_text()
    missing = [name for name in FLOW_SCHEMA.names if f"`{name}`" not in text]
    assert not missing, f"docs/flows.md lacks {missing}"
