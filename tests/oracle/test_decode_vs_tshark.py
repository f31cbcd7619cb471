"""netqos decode vs tshark, field by field, on every capture in shared/pcaps (`pytest -m oracle`).

The comparison rules live in tshark.py (how tshark's fields are read) and compare.py (what counts as
agree / disagree / not decoded). Known differences are in allowlist.py, each with a reason.
"""

from __future__ import annotations

import allowlist
import oracle_compare as compare
import pytest
from oracle_run import PCAP_FILES, OracleRun

pytestmark = [pytest.mark.oracle, pytest.mark.timeout(900)]

AGREEMENT_BAR = 0.999


def _fmt(ds: list[compare.Disagreement], limit: int = 40) -> str:
    lines = [f"  frame {d.frame} {d.field}: tshark={d.tshark!r} netqos={d.netqos!r} [{d.decode_status}]" for d in ds]
    more = f"\n  ... {len(ds) - limit} more" if len(ds) > limit else ""
    return "\n".join(lines[:limit]) + more


@pytest.mark.parametrize("name", [p.name for p in PCAP_FILES])
def test_capture_matches_tshark(oracle: OracleRun, name: str) -> None:
    fr = oracle.files[name]
    cmp = fr.comparison
    assert fr.decode_error is None, f"netqos failed to decode {name}: {fr.decode_error}"
    assert cmp.frame_no_ok, "frame_no must be 1..n in order"
    assert fr.summary.packets == len(fr.rows), "summary.packets must count the rows yielded"

    rows_ok = cmp.tshark_frames == cmp.netqos_frames or allowlist.find(name, 0, "<rows>") is not None
    assert rows_ok, (
        f"{name}: tshark shows {cmp.tshark_frames} packets, netqos yielded {cmp.netqos_frames} rows; "
        f"extra netqos rows: {[(r['frame_no'], r['decode_status']) for r in cmp.extra_netqos_rows][:5]}"
    )
    # tshark stops with a read error ("cut short in the middle of a packet", "damaged or corrupt") exactly when
    # netqos reports one in summary.error.
    tshark_err = fr.tshark.returncode != 0
    assert (fr.summary.error is not None) == tshark_err, (
        f"summary.error={fr.summary.error!r} but tshark rc={fr.tshark.returncode} stderr={fr.tshark.stderr!r}"
    )
    assert not fr.unallowed, f"{name}: {len(fr.unallowed)} disagreements not in the allowlist:\n{_fmt(fr.unallowed)}"


def test_agreement_bar(oracle: OracleRun) -> None:
    """Per field, >= 99.9 % agreement over the frames where both tshark and netqos decode it."""
    low = {
        lbl: f"{st.agree}/{st.both} = {100 * st.agreement:.3f}%"
        for lbl, st in oracle.totals.items()
        if st.both and st.agreement < AGREEMENT_BAR
    }
    assert not low, f"fields below {100 * AGREEMENT_BAR}% agreement: {low}"


def test_required_fields_are_exercised(oracle: OracleRun) -> None:
    """Every field of the brief is compared on at least one real frame (else the oracle proves nothing)."""
    missing = [f.label for f in compare.ORACLE_FIELDS if f.required and oracle.totals[f.label].both == 0]
    assert not missing, f"never compared on a real capture: {missing}"


def test_allowlist_entries_are_used(oracle: OracleRun) -> None:
    """Every allowlist entry still matches a real difference (stale entries must be deleted)."""
    dis = oracle.all_disagreements()
    unused = []
    for a in allowlist.ALLOWLIST:
        if a.field == "<rows>":
            fr = oracle.files.get(a.file)
            used = fr is not None and fr.comparison.tshark_frames != fr.comparison.netqos_frames
        else:
            used = any(a.matches(d.file, d.frame, d.field) for d in dis)
        if not used:
            unused.append(a)
    assert not unused, f"stale allowlist entries: {unused}"
    assert all(a.reason.strip() for a in allowlist.ALLOWLIST)


def test_oracle_detects_mutation(oracle: OracleRun) -> None:
    """The oracle can fail: corrupt decoded values and check every corruption is reported."""
    name = "dpkt-dns_icmp.pcap"
    fr = oracle.files[name]
    mutated = []
    n_ports = 0
    for r in fr.rows:
        m = dict(r)
        if m["dst_port"] is not None:
            m["dst_port"] += 1
            n_ports += 1
        mutated.append(m)
    assert n_ports > 0
    cmp = compare.compare_rows(name, fr.tshark, mutated)
    bad = [d for d in cmp.disagreements if d.field == "tcp/udp.dstport"]
    assert len(bad) == n_ports
    assert all(allowlist.find(d.file, d.frame, d.field) is None for d in bad)
    assert cmp.stats["tcp/udp.dstport"].agreement == 0.0

    # A shifted timestamp, a wrong address and a dropped value are caught too.
    rows = [dict(r) for r in fr.rows]
    rows[0]["ts_ns"] += 1
    rows[1]["ip_src"] = "10.9.9.9"
    rows[2]["ip_ttl"] = None
    cmp = compare.compare_rows(name, fr.tshark, rows)
    got = {(d.frame, d.field) for d in cmp.disagreements}
    assert (1, "frame.time_epoch") in got
    assert (2, "ip.src") in got
    assert (3, "ip.ttl") in {(f, lbl) for f, lbl, _tv, _st in cmp.tshark_only}


def test_oracle_detects_row_shift(oracle: OracleRun) -> None:
    """Dropping one row (misaligned frames) produces a flood of disagreements, not a silent pass."""
    name = "zeek-5-pings.pcap"
    fr = oracle.files[name]
    rows = [dict(r) for r in fr.rows[1:]]
    for i, r in enumerate(rows, start=1):
        r["frame_no"] = i
    cmp = compare.compare_rows(name, fr.tshark, rows)
    assert not cmp.frame_no_ok or cmp.netqos_frames != cmp.tshark_frames
    assert any(d.field == "frame.time_epoch" for d in cmp.disagreements)
