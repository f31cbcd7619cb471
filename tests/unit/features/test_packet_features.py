"""Per-packet features of featurize(): flow membership and direction against the flows table, service and DSCP
classes against hand-written rules, running UDP jitter against an RFC 3550 reference."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from packet_rows import S, pkt, table

from netqos.features import PACKET_FEATURES_SCHEMA, FeatureConfig, featurize
from netqos.features.config import DEFAULT_SERVICE_PORTS
from netqos.flows import FLOW_SCHEMA

SYN, ACK = 0x02, 0x10


# ------------------------------------------------------------------------------------------- references


def ref_dscp_name(v: int | None) -> str | None:
    if v is None:
        return None
    named = {0: "be", 1: "le", 44: "voice-admit", 46: "ef"}
    named |= {8 * c: f"cs{c}" for c in range(1, 8)}
    named |= {8 * a + 2 * d: f"af{a}{d}" for a in range(1, 5) for d in range(1, 4)}
    return named.get(v, f"dscp{v}")


def ref_service(flow: dict[str, Any], ports: dict[str, tuple[int, ...]]) -> str:
    if flow["flow_kind"] == "l2":
        return "l2"
    if flow["protocol"] in (1, 58):
        return "icmp"
    if flow["protocol"] not in (6, 17, 132):
        return "other"
    for port in (flow["dst_port"], flow["src_port"]):  # the responder's port first
        for name, listed in ports.items():  # first class listing the port wins
            if port is not None and port in listed:
                return name
    return "other"


def ref_running_jitter(ts: list[int]) -> list[float | None]:
    """RFC 3550 estimate (s) after each packet of one flow direction; nominal spacing = median inter-arrival."""
    out: list[float | None] = [None] * len(ts)
    iats = [b - a for a, b in itertools.pairwise(ts)]
    if len(iats) < 2:
        return out
    nominal = float(np.median(iats))
    j = 0.0
    for k, d in enumerate(iats):
        j += (abs(d - nominal) - j) / 16.0
        if k >= 1:
            out[k + 1] = j / 1e9
    return out


# ------------------------------------------------------------------------------------------- real captures

REAL = [
    "zeek-ssh.pcap",
    "tcpreplay-test.pcap",
    "ndpi-FAX-Call-t38-CA-TDM-SIP-FB-1.pcap",
    "aircrack-radiotap-test1.pcap",
    "zeek-communityid-icmp6.pcap",
    "zeek-vlan-collisions.pcap",
    "dpkt-dns_icmp.pcap",
]


@pytest.mark.parametrize("name", REAL)
def test_flow_membership_matches_flows_table(name: str, featurized: Callable[[str], tuple]) -> None:
    packets, feats = featurized(name)
    pf, flows = feats.packets, feats.flows
    assert pf.num_rows == packets.num_rows
    assert pf.schema.equals(PACKET_FEATURES_SCHEMA)
    assert flows.schema.equals(FLOW_SCHEMA)
    assert pf.column("frame_no").equals(packets.column("frame_no"))
    by_id = {f["flow_id"]: f for f in flows.to_pylist()}
    assert len(by_id) == flows.num_rows > 0

    fid = pf.column("flow_id").to_pylist()
    fdir = pf.column("flow_dir").to_pylist()
    first = pf.column("flow_first").to_pylist()
    ts = packets.column("ts_ns").to_pylist()
    assert Counter(f for f in fid if f is not None) == {i: f["packets"] for i, f in by_id.items()}
    assert Counter(f for f, d in zip(fid, fdir, strict=True) if f is not None and d == 0) == {
        i: f["src2dst_packets"] for i, f in by_id.items() if f["src2dst_packets"]
    }
    for i, (f, d, fi) in enumerate(zip(fid, fdir, first, strict=True)):
        assert (f is None) == (d is None) == (fi is None), i
    firsts = [(f, ts[i]) for i, f in enumerate(fid) if first[i]]
    assert sorted(f for f, _ in firsts) == sorted(by_id), "flow_first must mark exactly one row per flow"
    for f, t in firsts:
        assert t == by_id[f]["first_ts_ns"]
        assert t == min(ts[i] for i in range(len(fid)) if fid[i] == f)

    # direction: the initiator's address (and port) sends the flow_dir = 0 packets
    cols = {c: packets.column(c).to_pylist() for c in ("ip_src", "ip_dst", "src_port", "dst_port")}
    checked = 0
    for i, f in enumerate(fid):
        flow = by_id.get(f) if f is not None else None
        if flow is None or flow["flow_kind"] != "ip" or flow["src_addr"] == flow["dst_addr"]:
            continue
        src, dst, sp, dp = cols["ip_src"][i], cols["ip_dst"][i], cols["src_port"][i], cols["dst_port"][i]
        if fdir[i] == 1:
            src, dst, sp, dp = dst, src, dp, sp
        assert (src, dst) == (flow["src_addr"], flow["dst_addr"]), i
        if flow["src_port"] is not None:
            assert (sp, dp) == (flow["src_port"], flow["dst_port"]), i
        checked += 1
    assert checked > 0 or name == "aircrack-radiotap-test1.pcap"


@pytest.mark.parametrize("name", REAL)
def test_classes_and_jitter_on_real_captures(name: str, featurized: Callable[[str], tuple]) -> None:
    packets, feats = featurized(name)
    pf = feats.packets
    by_id = {f["flow_id"]: f for f in feats.flows.to_pylist()}
    fid = pf.column("flow_id").to_pylist()
    svc = pf.column("service_class").to_pylist()
    for f, s in zip(fid, svc, strict=True):
        assert s == (None if f is None else ref_service(by_id[f], dict(DEFAULT_SERVICE_PORTS)))
    assert pf.column("dscp_class").to_pylist() == [ref_dscp_name(v) for v in packets.column("ip_dscp").to_pylist()]

    # the running jitter's last value per flow direction is the flow's jitter
    jit = pf.column("udp_jitter_s").to_pylist()
    fdir = pf.column("flow_dir").to_pylist()
    ts = packets.column("ts_ns").to_pylist()
    last: dict[tuple[int, int], tuple[int, int, float | None]] = {}
    for i, (f, d, j) in enumerate(zip(fid, fdir, jit, strict=True)):
        if f is None:
            assert j is None
            continue
        if by_id[f]["protocol"] != 17:
            assert j is None, (i, by_id[f]["protocol"])
        key = (f, d)
        if key not in last or (ts[i], i) > last[key][:2]:
            last[key] = (ts[i], i, j)
    with_jitter = 0
    for f, flow in by_id.items():
        for d, col in ((0, "src2dst_jitter_s"), (1, "dst2src_jitter_s")):
            got = last.get((f, d), (0, 0, None))[2]
            want = flow[col]
            assert (got is None) == (want is None), (f, d, got, want)
            if want is not None:
                assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
                with_jitter += 1
    if name.startswith("ndpi-FAX"):
        assert with_jitter >= 4


# ------------------------------------------------------------------------------------------- crafted rows


def test_service_class_rules() -> None:
    rows = [
        pkt(0.0, "10.0.0.1", "10.0.0.2", 53, 80),  # responder port decides: web, not dns
        pkt(0.1, "10.0.0.3", "10.0.0.4", 443, 50000),  # responder port unknown: initiator's port
        # SYN/ACK first from the server: its port 5432 is the responder's (the client's 53 must not win)
        pkt(0.2, "10.0.0.6", "10.0.0.5", 5432, 53, proto=6, tcp_flags=SYN | ACK),
        pkt(0.3, "10.0.0.5", "10.0.0.6", 53, 5432, proto=6, tcp_flags=ACK),
        pkt(0.4, "10.0.0.7", "10.0.0.8", 5000, 6000),  # unknown ports: other
        pkt(0.5, "10.0.0.9", "10.0.0.10", None, None, proto=1, icmp_type=8, icmp_id=7),
        pkt(0.6, "2001:db8::1", "2001:db8::2", None, None, proto=58, icmp_type=128, icmp_id=7),
        pkt(0.7, "10.0.0.11", "10.0.0.12", 1000, 80, proto=50),  # not a ported protocol: other
        pkt(0.8, "10.0.0.13", "10.0.0.14", 40000, 22, proto=132),  # SCTP has ports
        pkt(0.9, "10.0.0.15", "10.0.0.16", 40000, 9000),
        pkt(1.0, "10.0.0.17", "10.0.0.18", 40000, 9001),
        {
            "ts_ns": S,
            "wire_len": 120,
            "wlan_addr1": "00:00:00:00:00:01",
            "wlan_addr2": "00:00:00:00:00:02",
            "link_type": 127,
        },
        {"ts_ns": S, "wire_len": 60},  # no addresses: in no flow
    ]
    ports = {"web": (80, 443), "dns": (53,), "database": (5432,), "remote": (22,), "alpha": (9000,),
             "beta": (9000, 9001)}  # fmt: skip
    feats = featurize(table(rows), FeatureConfig(service_ports=ports))
    assert feats.packets.column("service_class").to_pylist() == [
        "web", "web", "database", "database", "other", "icmp", "icmp", "other", "remote", "alpha", "beta", "l2", None,
    ]  # fmt: skip
    flows = {f["src_addr"]: f for f in feats.flows.to_pylist()}
    assert flows["10.0.0.5"]["dst_port"] == 5432  # the flows table agrees on who the responder is
    svc = {(r["dimension"], r["class"]) for r in feats.windows.to_pylist()}
    assert {("service", c) for c in ("web", "database", "other", "icmp", "remote", "alpha", "beta", "l2")} <= svc
    assert ("service", "dns") not in svc


def test_dscp_names() -> None:
    values = [0, 46, 34, 8, 1, 44, 10, 14, 38, 56, 63, 2, None]
    rows = [pkt(0.01 * i, sp=1000 + i, ip_dscp=v) for i, v in enumerate(values)]
    got = featurize(table(rows)).packets.column("dscp_class").to_pylist()
    assert got == [
        "be",
        "ef",
        "af41",
        "cs1",
        "le",
        "voice-admit",
        "af11",
        "af13",
        "af43",
        "cs7",
        "dscp63",
        "dscp2",
        None,
    ]


def test_udp_running_jitter_matches_rfc3550_reference() -> None:
    rng = np.random.default_rng(21)
    fwd = np.cumsum(rng.integers(15_000_000, 25_000_000, 60))  # ~20 ms with noise
    back = 3_000_000 + np.cumsum(rng.integers(10_000_000, 50_000_000, 25))
    late = int(fwd[-1]) + 200 * S + np.cumsum(rng.integers(5_000_000, 9_000_000, 6))  # after the idle timeout
    rows = [pkt(t / S) for t in fwd] + [pkt(t / S, "10.0.0.2", "10.0.0.1", 53, 1000) for t in back]
    rows += [pkt(t / S) for t in late]
    rows += [pkt(5.0, sp=2000), pkt(5.1, sp=2000)]  # two packets: no jitter
    rows += [pkt(6.0 + 0.02 * i, sp=3000, dp=80, proto=6, tcp_flags=ACK) for i in range(10)]  # TCP: no jitter
    order = np.random.default_rng(22).permutation(len(rows))  # input row order does not matter
    rows = [rows[i] for i in order]
    feats = featurize(table(rows))
    jit = feats.packets.column("udp_jitter_s").to_pylist()
    expected: list[float | None] = [None] * len(rows)
    groups: dict[tuple, list[int]] = {}
    for i, r in enumerate(rows):
        key = (r["ip_src"], r["src_port"], r["ip_proto"], r["ts_ns"] > fwd[-1] + 100 * S)
        groups.setdefault(key, []).append(i)
    for key, idx in groups.items():
        if key[2] != 17:
            continue
        idx.sort(key=lambda i: rows[i]["ts_ns"])
        for i, v in zip(idx, ref_running_jitter([rows[i]["ts_ns"] for i in idx]), strict=True):
            expected[i] = v
    assert sum(v is not None for v in expected) == 58 + 23 + 4
    for i, (g, e) in enumerate(zip(jit, expected, strict=True)):
        assert (g is None) == (e is None), i
        if e is not None:
            assert g == pytest.approx(e, rel=1e-9), i
    (main,) = [f for f in feats.flows.to_pylist() if f["packets"] == len(fwd) + len(back)]
    fwd_j, back_j = ref_running_jitter([int(t) for t in fwd])[-1], ref_running_jitter([int(t) for t in back])[-1]
    if main["src_addr"] == "10.0.0.2":  # the reply stream's first packet came first: it is the initiator
        fwd_j, back_j = back_j, fwd_j
    assert main["src2dst_jitter_s"] == pytest.approx(fwd_j, rel=1e-9)
    assert main["dst2src_jitter_s"] == pytest.approx(back_j, rel=1e-9)
