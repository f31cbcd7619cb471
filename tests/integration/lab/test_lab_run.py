"""`netqos lab run` for real: three namespaces, the traffic mix, scheduled impairments, the capture agent.

The oracle is the capture, decoded here, not the lab's own bookkeeping: during a `loss` span the relayed RTP-like
stream must thin out, during an `outage` it must (nearly) stop, and outside the spans it runs at its 50 pps.
Also: only the lab's own 10.203.0.0/16 addresses on the wire, labels inside the run and non-overlapping, no
namespace left behind — also after SIGTERM, and a leftover namespace of a killed run is removed at start.
Needs root and `ip netns`.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from netqos.decode.readers import decode_file
from netqos.lab.netns import netns_available
from netqos.lab.scenarios import KINDS
from netqos.lab.topology import list_netns
from netqos.lab.traffic import RTP_PORT

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(180)]

TCP, UDP = 6, 17
EDGE_NS = 300_000_000  # trimmed off each span edge: the switch happens between two packets


@pytest.fixture(autouse=True)
def _needs_netns() -> None:
    if not netns_available():
        pytest.skip("needs root and network namespaces (ip netns)")


def lab(out: Path, prefix: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "netqos", "lab", "run", "--out", str(out), "--prefix", prefix, "--no-progress",
            *extra]  # fmt: skip


def leftovers(prefix: str) -> list[str]:
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    return [ns for ns in list_netns() if ns.startswith(f"{prefix}-")] + [
        line.split(":")[1].strip() for line in links.splitlines() if line.split(":")[1].strip().startswith(prefix)
    ]


def packets(out: Path) -> pa.Table:
    run = json.loads((out / "run.json").read_text())
    files = [out / f for f in run["files"]["captures"]]
    assert files and all(f.is_file() for f in files)
    return pa.concat_tables([decode_file(f) for f in files])


def rate(ts: list[int], lo: int, hi: int) -> float:
    """Packets per second in [lo, hi)."""
    return sum(lo <= t < hi for t in ts) / ((hi - lo) / 1e9)


def check_run(out: Path) -> dict[str, float]:
    run = json.loads((out / "run.json").read_text())
    labels = json.loads((out / "labels.json").read_text())
    addr = run["topology"]["addresses"]
    table = packets(out)

    # captured traffic: TCP and UDP, own addresses only
    protos = table.column("ip_proto").to_pylist()
    assert protos.count(TCP) > 1000 and protos.count(UDP) > 1000, (protos.count(TCP), protos.count(UDP))
    assert set(table.column("eth_type").to_pylist()) <= {0x0800, 0x0806}  # IPv4 and ARP (for lab addresses) only
    ip = table.filter(pc.equal(table.column("eth_type"), 0x0800))
    for col in ("ip_src", "ip_dst"):
        assert all(a.startswith("10.203.") for a in ip.column(col).to_pylist()), col  # a null would fail too
    # wire-sized segments, not GSO super-packets
    assert pc.max(table.column("wire_len")).as_py() <= 1514

    # labels: the expected kinds, inside the run, in order, not overlapping
    spans = labels["impairments"]
    assert {s["kind"] for s in spans} == set(KINDS)
    assert labels["run_start_ns"] == run["start_ns"] and labels["run_end_ns"] == run["end_ns"]
    edges = [labels["run_start_ns"]]
    for s in spans:
        assert edges[-1] <= s["start_ns"] < s["end_ns"] <= labels["run_end_ns"], s
        assert s["start"].endswith("Z") and s["hosts"] and s["flows"] and "params" in s
        edges.append(s["end_ns"])

    # the oracle: the relayed RTP-like stream as captured on the router's server side
    rtp = table.filter(
        pc.and_(
            pc.and_(
                pc.equal(table.column("ip_proto"), UDP), pc.equal(table.column("ip_src"), addr["router_server_side"])
            ),
            pc.and_(pc.equal(table.column("ip_dst"), addr["server"]), pc.equal(table.column("dst_port"), RTP_PORT)),
        )
    )
    ts = sorted(rtp.column("ts_ns").to_pylist())
    # normal: 1 s clear of every span, after the warm-up and before the end
    lo, hi = run["start_ns"] + 2_000_000_000, run["end_ns"] - 1_000_000_000
    normal_ts = [
        t for t in ts if lo <= t < hi and all(not (s["start_ns"] - 1e9 <= t < s["end_ns"] + 1e9) for s in spans)
    ]
    normal_s = (hi - lo) / 1e9 - sum(min(hi, s["end_ns"] + 1e9) - max(lo, s["start_ns"] - 1e9) for s in spans) / 1e9
    normal = len(normal_ts) / normal_s
    assert 40 <= normal <= 55, normal  # 50 pps when nothing is impaired
    found = {"normal_pps": normal}
    for s in spans:
        if s["kind"] in ("loss", "outage"):
            found[f"{s['kind']}_pps"] = rate(ts, s["start_ns"] + EDGE_NS, s["end_ns"] - EDGE_NS)
    p = next(s["params"]["drop_probability"] for s in spans if s["kind"] == "loss")
    assert found["loss_pps"] < normal * (1 - p / 2), (found, p)  # expected ~ normal * (1 - p)
    assert found["outage_pps"] < normal * 0.1, found

    # jitter: the relayed stream's inter-arrival times spread out (normal: ~1 ms standard deviation)
    def iat_std_ms(stamps: list[int]) -> float:
        # gaps between the normal stretches are not inter-arrival times
        return statistics.pstdev([b - a for a, b in itertools.pairwise(stamps) if b - a < 500_000_000]) / 1e6

    jitter = next(s for s in spans if s["kind"] == "jitter")
    found["normal_iat_std_ms"] = iat_std_ms(normal_ts)
    found["jitter_iat_std_ms"] = iat_std_ms([t for t in ts if jitter["start_ns"] + EDGE_NS <= t < jitter["end_ns"]])
    assert found["jitter_iat_std_ms"] > 2 * found["normal_iat_std_ms"] + 2, found

    # congestion: the bulk downloads' retransmissions (a data segment seen twice) crowd into the tbf span
    bulk = table.filter(
        pc.and_(pc.equal(table.column("ip_src"), addr["server"]), pc.equal(table.column("src_port"), 5001))
    )
    seen: set[tuple[int, int]] = set()
    retrans: list[int] = []
    for row in bulk.select(["ts_ns", "dst_port", "tcp_seq", "ip_len"]).to_pylist():
        key = (row["dst_port"], row["tcp_seq"])
        if row["ip_len"] > 52 and key in seen:
            retrans.append(row["ts_ns"])
        seen.add(key)
    cong = next(s for s in spans if s["kind"] == "congestion")
    window = (cong["start_ns"], cong["end_ns"] + 1_000_000_000)  # the tail drops are repaired just after it
    inside = sum(window[0] <= t < window[1] for t in retrans)
    window_s, run_s = (window[1] - window[0]) / 1e9, (run["end_ns"] - run["start_ns"]) / 1e9
    found["retrans_per_s_congestion"] = inside / window_s
    found["retrans_per_s_elsewhere"] = (len(retrans) - inside) / (run_s - window_s)
    assert found["retrans_per_s_congestion"] > 5 * found["retrans_per_s_elsewhere"] + 1, found

    # TCP to the client also stops during the outage
    outage = next(s for s in spans if s["kind"] == "outage")
    client_ts = table.filter(pc.equal(table.column("ip_dst"), addr["client"])).column("ts_ns").to_pylist()
    found["to_client_outage_pps"] = rate(client_ts, outage["start_ns"] + EDGE_NS, outage["end_ns"] - EDGE_NS)
    assert found["to_client_outage_pps"] < 2, found
    return found


def test_mixed_run_captures_labels_and_impairments(tmp_path: Path) -> None:
    prefix = f"nqli{os.getpid() % 10000}"
    subprocess.run(["ip", "netns", "add", f"{prefix}-r"], check=True)  # a killed run's leftover: removed at start
    out = tmp_path / "lab"
    started = time.monotonic()
    proc = subprocess.run(lab(out, prefix, "--scenario", "mixed", "--duration", "40", "--seed", "1"),
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert elapsed < 70, elapsed
    assert leftovers(prefix) == []
    found = check_run(out)
    print(f"lab run {elapsed:.1f} s; {found}")


def test_sigterm_cleans_up(tmp_path: Path) -> None:
    prefix = f"nqlt{os.getpid() % 10000}"
    out = tmp_path / "lab"
    proc = subprocess.Popen(lab(out, prefix, "--scenario", "outage", "--duration", "60", "--seed", "4"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 30
    while not (out / "logs" / "client.log").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(10)  # seed 4: inside the first outage (5.4-17.8 s), so the cleanup must end an active span
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-3000:]
    assert leftovers(prefix) == []
    run = json.loads((out / "run.json").read_text())
    assert run["outcome"] == "interrupted"
    labels = json.loads((out / "labels.json").read_text())["impairments"]
    assert [s["kind"] for s in labels] == ["outage"] and labels[0]["interrupted"], labels
    assert labels[0]["start_ns"] < labels[0]["end_ns"] <= run["end_ns"]
    assert packets(out).num_rows > 100  # the capture up to the signal is kept
