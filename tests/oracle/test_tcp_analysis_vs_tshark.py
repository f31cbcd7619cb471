"""netqos.analysis.tcp vs tshark 4.0 `tcp.analysis.*`, frame by frame (`pytest -m oracle`).

Two oracles:
  * every capture in shared/pcaps that has TCP: tshark runs once per file, single pass, default preferences;
    netqos decodes the file and runs analyze(vlan_aware=False) (Wireshark 4.0 ignores VLAN ids);
  * the crafted conversations of tests/unit/analysis/tcp_scenarios.py (fast retransmission, keep-alive, zero
    window probe, window full... that the real captures lack), written as pcaps and given to tshark too.

Per analysis flag, agreement = frames both tools flag / frames either tool flags; it must be >= 98 %, and every
disagreement must be in ALLOWLIST (file, flag, frames, reason) — which must itself stay minimal (stale
entries fail). ACK RTT and initial RTT must be within 5 % or 0.1 ms of tshark wherever tshark shows them on a
frame netqos analyses. A mutation test shows the comparison fails on a broken analysis.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

_TESTS = Path(__file__).resolve().parents[1]
for _p in (str(_TESTS / "oracle"), str(_TESTS / "unit" / "analysis")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import tcp_scenarios as sc  # noqa: E402
import tshark  # noqa: E402
from oracle_run import PCAP_FILES  # noqa: E402

from netqos.analysis import analyze  # noqa: E402

pytestmark = [pytest.mark.oracle, pytest.mark.timeout(1800)]

HAVE_TSHARK = Path(tshark.TSHARK).exists()
AGREEMENT_BAR = 0.98
RTT_REL, RTT_ABS = 0.05, 1e-4

FLAG_FIELDS: dict[str, str] = dict(sc.FLAGS)  # label -> tshark field; column = "tcp_" + label
# Values compared exactly on frames both tools analyse: label -> (tshark field, netqos column).
EXACT_FIELDS: dict[str, tuple[str, str]] = {
    "duplicate_ack_num": ("tcp.analysis.duplicate_ack_num", "tcp_dup_ack_num"),
    "acks_frame": ("tcp.analysis.acks_frame", "tcp_acks_frame"),
    "bytes_in_flight": ("tcp.analysis.bytes_in_flight", "tcp_bytes_in_flight"),
    "window_size": ("tcp.window_size", "tcp_window_size"),
}
RTT_FIELDS: dict[str, tuple[str, str]] = {
    "ack_rtt": ("tcp.analysis.ack_rtt", "tcp_ack_rtt"),
    "initial_rtt": ("tcp.analysis.initial_rtt", "tcp_initial_rtt"),
}
TSHARK_FIELDS = [
    "frame.number",
    "frame.encap_type",
    "tcp.stream",
    *FLAG_FIELDS.values(),
    *(f for f, _ in EXACT_FIELDS.values()),
    *(f for f, _ in RTT_FIELDS.values()),
]


@dataclass(frozen=True)
class Allowed:
    file: str
    label: str  # a FLAG_FIELDS / EXACT_FIELDS / RTT_FIELDS label
    frames: frozenset[int]
    reason: str

    def matches(self, file: str, label: str, frame: int) -> bool:
        return file == self.file and label == self.label and frame in self.frames


ALLOWLIST: list[Allowed] = [
    Allowed(
        "tcpdump-timestamp_invalid_nano.pcap",
        "ack_rtt",
        frozenset({3}),
        "frame 3's nanosecond field is 0x80000000 (>= 10^9, invalid): wiretap reads it as a negative signed "
        "fraction, netqos as the unsigned value the format defines (see tests/oracle/allowlist.py), so the "
        "timestamps differ by 2.147483648 s and so do the RTTs.",
    ),
    Allowed(
        "tcpdump-timestamp_invalid_nano.pcap",
        "initial_rtt",
        frozenset({3}),
        "same invalid timestamp as above (the handshake ACK is frame 3).",
    ),
]


# ---------------------------------------------------------------------------------------------- running


def run_tshark(path: str | Path) -> list[dict[str, str]]:
    """One single-pass tshark run with default preferences; one dict per packet (non-packet blocks dropped)."""
    cmd = [tshark.TSHARK, "-r", str(path), "-n", "-T", "fields", "-E", "header=y", "-E", "separator=/t"]
    cmd += ["-E", "occurrence=f", "-E", "quote=n"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", check=False, timeout=600)
    lines = proc.stdout.split("\n")
    assert lines[0].split("\t") == TSHARK_FIELDS, proc.stderr[:500]
    frames = []
    for line in lines[1:]:
        if not line:
            continue
        values = dict(zip(TSHARK_FIELDS, line.split("\t"), strict=False))
        if not values.get("frame.encap_type"):  # pcapng custom/unknown blocks shown as frames
            continue
        values["frame.number"] = str(len(frames) + 1)
        frames.append(values)
    return frames


@functools.cache
def tshark_rows(path: str) -> tuple[dict[str, str], ...]:
    return tuple(run_tshark(path))


@functools.cache
def netqos_table(path: str) -> pa.Table:
    from netqos.decode import decode_file

    return analyze(decode_file(path), vlan_aware=False)


# ---------------------------------------------------------------------------------------------- comparing


@dataclass(frozen=True)
class Disagreement:
    file: str
    label: str
    frame: int
    tshark: Any
    netqos: Any


@dataclass
class FileResult:
    name: str
    flag_frames: dict[str, tuple[set[int], set[int]]]  # label -> (tshark frames, netqos frames)
    disagreements: list[Disagreement] = field(default_factory=list)
    compared: dict[str, int] = field(default_factory=dict)  # value label -> samples compared
    tcp_frames_both: int = 0
    tcp_frames_tshark_only: int = 0  # TCP netqos does not analyse (tunnels, IP fragments)
    stream_conflicts: list[str] = field(default_factory=list)

    def unallowed(self, allowlist: list[Allowed]) -> list[Disagreement]:
        return [d for d in self.disagreements if not any(a.matches(d.file, d.label, d.frame) for a in allowlist)]


def _num(v: str) -> float | None:
    return float(v) if v else None


def compare(name: str, ts: tuple[dict[str, str], ...], nq: pa.Table) -> FileResult:
    rows = {r["frame_no"]: r for r in nq.to_pylist()}
    res = FileResult(name, {label: (set(), set()) for label in FLAG_FIELDS})
    for label in FLAG_FIELDS:
        res.flag_frames[label][1].update(f for f, r in rows.items() if r[f"tcp_{label}"])
    stream_map: dict[int, str] = {}
    stream_back: dict[str, int] = {}
    for t in ts:
        frame = int(t["frame.number"])
        r = rows.get(frame)
        for label, fname in FLAG_FIELDS.items():
            if t[fname]:
                res.flag_frames[label][0].add(frame)
        ts_tcp = t["tcp.stream"] != ""
        nq_tcp = r is not None and r["tcp_stream"] is not None
        if ts_tcp and not nq_tcp:
            res.tcp_frames_tshark_only += 1
        if not (ts_tcp and nq_tcp):
            continue
        assert r is not None
        res.tcp_frames_both += 1
        s_nq, s_ts = r["tcp_stream"], t["tcp.stream"]
        if stream_map.setdefault(s_nq, s_ts) != s_ts or stream_back.setdefault(s_ts, s_nq) != s_nq:
            res.stream_conflicts.append(f"frame {frame}: netqos stream {s_nq}, tshark stream {s_ts}")
        for label, (fname, col) in EXACT_FIELDS.items():
            want = _num(t[fname])
            got = r[col]
            if want is not None or got is not None:
                res.compared[label] = res.compared.get(label, 0) + 1
                if want != got:
                    res.disagreements.append(Disagreement(name, label, frame, t[fname], got))
        for label, (fname, col) in RTT_FIELDS.items():
            want = _num(t[fname])
            got = r[col]
            if want is None:
                # tshark shows initial_rtt only on frames with an analysis tree; netqos on every frame once known
                if label == "ack_rtt" and got is not None:
                    res.disagreements.append(Disagreement(name, label, frame, None, got))
                continue
            res.compared[label] = res.compared.get(label, 0) + 1
            if got is None or abs(got - want) > max(RTT_ABS, RTT_REL * abs(want)):
                res.disagreements.append(Disagreement(name, label, frame, want, got))
    for label, (tset, nset) in res.flag_frames.items():
        for frame in sorted(tset ^ nset):
            res.disagreements.append(Disagreement(name, label, frame, frame in tset, frame in nset))
    return res


@dataclass
class FlagStats:
    tshark: int = 0
    netqos: int = 0
    both: int = 0

    @property
    def either(self) -> int:
        return self.tshark + self.netqos - self.both

    @property
    def agreement(self) -> float:
        return self.both / self.either if self.either else 1.0


def flag_totals(results: list[FileResult]) -> dict[str, FlagStats]:
    totals = {label: FlagStats() for label in FLAG_FIELDS}
    for res in results:
        for label, (tset, nset) in res.flag_frames.items():
            st = totals[label]
            st.tshark += len(tset)
            st.netqos += len(nset)
            st.both += len(tset & nset)
    return totals


def agreement_table(results: list[FileResult]) -> list[str]:
    totals = flag_totals(results)
    lines = [f"{'flag':26s} {'tshark':>7s} {'netqos':>7s} {'both':>6s} {'agreement':>9s}"]
    for label, st in totals.items():
        pct = f"{100 * st.agreement:.2f}%" if st.either else "n/a"
        lines.append(f"{label:26s} {st.tshark:7d} {st.netqos:7d} {st.both:6d} {pct:>9s}")
    compared: dict[str, int] = {}
    bad: dict[str, int] = {}
    for res in results:
        for label, n in res.compared.items():
            compared[label] = compared.get(label, 0) + n
        for d in res.disagreements:
            bad[d.label] = bad.get(d.label, 0) + 1
    for label in [*EXACT_FIELDS, *RTT_FIELDS]:
        n = compared.get(label, 0)
        lines.append(f"{label:26s} {n:7d} samples compared, {bad.get(label, 0)} differ")
    frames = sum(r.tcp_frames_both for r in results)
    tunnelled = sum(r.tcp_frames_tshark_only for r in results)
    lines.append(f"TCP frames analysed by both: {frames}; TCP only tshark analyses (tunnels/fragments): {tunnelled}")
    return lines


# ---------------------------------------------------------------------------------------------- fixtures


def _has_tcp(path: Path) -> bool:
    return any(t["tcp.stream"] for t in tshark_rows(str(path)))


@pytest.fixture(scope="module")
def captures() -> list[Path]:
    if not HAVE_TSHARK:
        pytest.skip("tshark not installed")
    if not PCAP_FILES:
        pytest.skip("no captures found (set NETQOS_PCAP_DIR)")
    return [p for p in PCAP_FILES if _has_tcp(p)]


@pytest.fixture(scope="module")
def results(captures: list[Path]) -> list[FileResult]:
    return [compare(p.name, tshark_rows(str(p)), netqos_table(str(p))) for p in captures]


def _fmt(ds: list[Disagreement], limit: int = 30) -> str:
    lines = [f"  {d.file} frame {d.frame} {d.label}: tshark={d.tshark!r} netqos={d.netqos!r}" for d in ds[:limit]]
    return "\n".join(lines) + (f"\n  ... {len(ds) - limit} more" if len(ds) > limit else "")


# ---------------------------------------------------------------------------------------------- tests: captures


def test_captures_with_tcp_are_found(captures: list[Path]) -> None:
    names = {p.name for p in captures}
    assert {"zeek-206_example_b.pcap", "zeek-m57-long-49583-80.pcap", "zeek-ssh.pcap"} <= names


def test_every_disagreement_is_allowlisted(results: list[FileResult]) -> None:
    unallowed = [d for res in results for d in res.unallowed(ALLOWLIST)]
    assert not unallowed, f"{len(unallowed)} disagreements not in ALLOWLIST:\n{_fmt(unallowed)}"


def test_print_agreement_table(results: list[FileResult], capsys: pytest.CaptureFixture[str]) -> None:
    """Not a check: shows the per-flag table on the terminal (also with -q, without -s)."""
    with capsys.disabled():
        print(f"\n\nnetqos TCP analysis vs tshark ({len(results)} captures with TCP):")
        for line in agreement_table(results):
            print("  " + line)


def test_flag_agreement_bar(results: list[FileResult]) -> None:
    totals = flag_totals(results)
    low = {lbl: f"{st.both}/{st.either}" for lbl, st in totals.items() if st.agreement < AGREEMENT_BAR}
    assert not low, f"flags below {100 * AGREEMENT_BAR}% agreement: {low}\n" + "\n".join(agreement_table(results))
    # the real captures exercise the main flags (else this oracle proves little)
    for label in ("retransmission", "spurious_retransmission", "out_of_order", "lost_segment", "dup_ack",
                  "zero_window", "window_update", "ack_lost_segment"):  # fmt: skip
        assert totals[label].tshark > 0, label


def test_rtt_samples_agree(results: list[FileResult]) -> None:
    compared = {label: sum(r.compared.get(label, 0) for r in results) for label in RTT_FIELDS}
    assert compared["ack_rtt"] > 1000 and compared["initial_rtt"] > 1000, compared
    bad = [d for r in results for d in r.unallowed(ALLOWLIST) if d.label in RTT_FIELDS]
    assert not bad, _fmt(bad)


def test_stream_ids_partition_like_tshark(results: list[FileResult]) -> None:
    conflicts = {r.name: r.stream_conflicts[:3] for r in results if r.stream_conflicts}
    assert not conflicts


def test_allowlist_entries_are_used(results: list[FileResult]) -> None:
    dis = [d for r in results for d in r.disagreements]
    stale = [a for a in ALLOWLIST if not any(a.matches(d.file, d.label, d.frame) for d in dis)]
    assert not stale, f"stale allowlist entries: {stale}"
    assert all(a.reason.strip() for a in ALLOWLIST)


def test_oracle_detects_broken_analysis(captures: list[Path]) -> None:
    """Flip flags / skew RTTs of a correct result: the comparison must report it."""
    path = next(p for p in captures if p.name == "zeek-206_example_b.pcap")
    ts = tshark_rows(str(path))
    good = netqos_table(str(path))
    assert not compare(path.name, ts, good).unallowed(ALLOWLIST)

    for col in ("tcp_retransmission", "tcp_dup_ack", "tcp_zero_window", "tcp_out_of_order"):
        broken = good.set_column(good.schema.get_field_index(col), col, pc.invert(good.column(col)))
        res = compare(path.name, ts, broken)
        label = col.removeprefix("tcp_")
        assert flag_totals([res])[label].agreement < AGREEMENT_BAR
        assert any(d.label == label for d in res.unallowed(ALLOWLIST))

    # a flag moved to the next frame: same count, different frames
    col = "tcp_retransmission"
    shifted = pa.concat_arrays([pa.array([False]), good.column(col).combine_chunks()[:-1]])
    res = compare(path.name, ts, good.set_column(good.schema.get_field_index(col), col, shifted))
    assert flag_totals([res])["retransmission"].agreement < AGREEMENT_BAR

    skewed = pc.multiply(good.column("tcp_ack_rtt"), 1.10)
    res = compare(path.name, ts, good.set_column(good.schema.get_field_index("tcp_ack_rtt"), "tcp_ack_rtt", skewed))
    assert any(d.label == "ack_rtt" for d in res.unallowed(ALLOWLIST))


def test_vlan_aware_default_splits_vlan_collisions(captures: list[Path]) -> None:
    """zeek-vlan-collisions: one connection replayed on 3 VLANs. tshark 4.0 merges them (18 retransmissions);
    the default vlan_aware=True sees three clean conversations."""
    from netqos.decode import decode_file

    path = next(p for p in captures if p.name == "zeek-vlan-collisions.pcap")
    merged = netqos_table(str(path))
    assert sum(merged.column("tcp_retransmission").to_pylist()) == 18
    aware = analyze(decode_file(path))
    assert pc.count_distinct(aware.column("tcp_stream")).as_py() == 3
    assert not any(aware.column("tcp_retransmission").to_pylist())
    assert not any(aware.column("tcp_dup_ack").to_pylist())


# ---------------------------------------------------------------------------------------------- tests: crafted


@pytest.mark.parametrize("name", [s.name for s in sc.SCENARIOS])
def test_crafted_scenario_matches_tshark(name: str, tmp_path: Path) -> None:
    if not HAVE_TSHARK:
        pytest.skip("tshark not installed")
    scenario = sc.BY_NAME[name]
    path = tmp_path / f"{name}.pcap"
    path.write_bytes(scenario.pcap())
    ts = tuple(run_tshark(path))
    assert len(ts) == len(scenario.segs)
    res = compare(name, ts, analyze(scenario.table(), vlan_aware=False))
    assert not res.disagreements, _fmt(res.disagreements)
    assert not res.stream_conflicts
    if name != "vlans":  # the hand-written expectations are VLAN-aware; tshark is not
        tshark_flags = [{lbl for lbl, fname in FLAG_FIELDS.items() if t[fname]} for t in ts]
        assert tshark_flags == [set(s.expected) for s in scenario.segs]
