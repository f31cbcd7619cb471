"""The oracle run: the capture list, one tshark run per file, one decode per file, the comparison of
everything, and the agreement report (.cache/oracle-report.md / .json, plus a table for the terminal).

conftest.py only wires this into pytest (fixture + terminal summary).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import allowlist  # noqa: E402
import oracle_compare as compare  # noqa: E402
import tshark  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
REPORT_MD = REPO_ROOT / ".cache" / "oracle-report.md"
REPORT_JSON = REPO_ROOT / ".cache" / "oracle-report.json"


def pcap_dir() -> Path | None:
    """NETQOS_PCAP_DIR, else shared/pcaps beside the repo (CI layout), else /work/shared/pcaps."""
    env = os.environ.get("NETQOS_PCAP_DIR")
    if env and Path(env).is_dir():
        return Path(env)  # any folder of captures; MANIFEST.tsv is optional there
    candidates = [REPO_ROOT.parent / "shared" / "pcaps", Path("/work/shared/pcaps")]
    for c in candidates:
        if (c / "MANIFEST.tsv").exists():
            return c
    return None


PCAP_DIR = pcap_dir()
PCAP_FILES: list[Path] = tshark.pcap_files(PCAP_DIR) if PCAP_DIR else []
HAVE_TSHARK = Path(tshark.TSHARK).exists()


def decode_rows(path: Path) -> tuple[list[dict[str, Any]], Any]:
    """netqos rows (as dicts) + the reader summary."""
    from netqos.decode import open_capture

    rows: list[dict[str, Any]] = []
    with open_capture(path) as reader:
        for batch in reader.batches():
            rows.extend(batch.to_pylist())
        summary = reader.summary
    return rows, summary


@dataclass
class FileRun:
    path: Path
    tshark: tshark.TsharkResult
    rows: list[dict[str, Any]]
    summary: Any
    comparison: compare.FileComparison
    decode_error: str | None = None
    decode_seconds: float = 0.0
    tshark_seconds: float = 0.0
    unallowed: list[compare.Disagreement] = field(default_factory=list)


@dataclass
class OracleRun:
    files: dict[str, FileRun]
    totals: dict[str, compare.FieldStats]
    tshark_seconds: float
    decode_seconds: float

    def all_disagreements(self) -> list[compare.Disagreement]:
        return [d for fr in self.files.values() for d in fr.comparison.disagreements]


def run_one(path: Path) -> FileRun:
    t0 = time.perf_counter()
    ts = tshark.run_tshark(path)
    t1 = time.perf_counter()
    err = None
    try:
        rows, summary = decode_rows(path)
    except Exception as exc:  # the test for this file reports it
        rows, summary, err = [], None, f"{type(exc).__name__}: {exc}"
    t2 = time.perf_counter()
    cmp = compare.compare_rows(path.name, ts, rows)
    unallowed = [d for d in cmp.disagreements if allowlist.find(d.file, d.frame, d.field) is None]
    return FileRun(path, ts, rows, summary, cmp, err, t2 - t1, t1 - t0, unallowed)


_RUN: OracleRun | None = None


def current_run() -> OracleRun | None:
    return _RUN


def get_oracle_run() -> OracleRun:
    global _RUN
    if _RUN is None:
        files: dict[str, FileRun] = {}
        tsec = dsec = 0.0
        for p in PCAP_FILES:
            fr = run_one(p)
            files[p.name] = fr
            tsec += fr.tshark_seconds
            dsec += fr.decode_seconds
        totals = {lbl: compare.FieldStats() for lbl in compare.FIELD_LABELS}
        for fr in files.values():
            for lbl, st in fr.comparison.stats.items():
                totals[lbl].add(st)
        _RUN = OracleRun(files, totals, tsec, dsec)
        write_report(_RUN)
    return _RUN


# ---------------------------------------------------------------------------------------------- report


def agreement_table(run: OracleRun) -> list[str]:
    lines = [
        f"{'field':32} {'both':>7} {'agree':>7} {'disagree':>8} {'agree%':>9} {'tshark-only':>11} {'netqos-only':>11}",
    ]
    for f in compare.ORACLE_FIELDS:
        st = run.totals[f.label]
        pct = f"{100 * st.agreement:.3f}" if st.both else "-"
        extra = "" if f.required else "  (extra)"
        lines.append(
            f"{f.label:32} {st.both:7d} {st.agree:7d} {st.disagree:8d} {pct:>9} {st.tshark_only:11d} "
            f"{st.netqos_only:11d}{extra}"
        )
    return lines


def _tshark_only_summary(run: OracleRun) -> list[dict[str, Any]]:
    """Group 'tshark has it, netqos null' by (file, field, netqos decode_status)."""
    groups: dict[tuple[str, str, str | None], int] = {}
    for name, fr in run.files.items():
        for _frame, lbl, _tv, status in fr.comparison.tshark_only:
            key = (name, lbl, status)
            groups[key] = groups.get(key, 0) + 1
    return [{"file": f, "field": lbl, "netqos_status": s, "frames": n} for (f, lbl, s), n in sorted(groups.items())]


def write_report(run: OracleRun) -> None:
    REPORT_MD.parent.mkdir(parents=True, exist_ok=True)
    dis = run.all_disagreements()
    md = [
        "# netqos decode vs tshark oracle",
        "",
        f"tshark: {tshark.tshark_version()}  ",
        f"captures: {len(run.files)} from {PCAP_DIR}  ",
        f"tshark time {run.tshark_seconds:.1f}s, netqos decode time {run.decode_seconds:.1f}s",
        "",
        "Rules: first occurrence (outermost header) of every tshark field; L4 fields only when TCP/UDP/ICMP",
        "directly follows the first IP header in frame.protocols; tshark run with IP/IPv6 reassembly off;",
        "pcapng custom/unknown blocks that tshark lists as frames are dropped before numbering.",
        "The bar (agreement >= 99.9 %) applies to frames where both tools decode the field.",
        "",
        "## Agreement per field",
        "",
        "```",
        *agreement_table(run),
        "```",
        "",
        "## Frame counts",
        "",
        "| file | tshark frames | netqos rows | netqos summary.error | decode error |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for name, fr in run.files.items():
        serr = getattr(fr.summary, "error", None) if fr.summary is not None else None
        md.append(
            f"| {name} | {fr.comparison.tshark_frames} | {fr.comparison.netqos_frames} | {serr or ''} | "
            f"{fr.decode_error or ''} |"
        )
    md += ["", f"## Disagreements ({len(dis)})", ""]
    md += [
        "| file | frame | field | tshark | netqos | netqos status | allowlisted |",
        "| --- | ---: | --- | --- | --- | --- | --- |",
    ]
    for d in dis[:2000]:
        a = allowlist.find(d.file, d.frame, d.field)
        md.append(
            f"| {d.file} | {d.frame} | {d.field} | {d.tshark} | {d.netqos} | {d.decode_status} | "
            f"{'yes: ' + a.reason[:60] if a else 'NO'} |"
        )
    md += ["", "## Not decoded by netqos (tshark has a value, netqos null)", ""]
    md += ["| file | field | netqos decode_status | frames |", "| --- | --- | --- | ---: |"]
    for g in _tshark_only_summary(run):
        md.append(f"| {g['file']} | {g['field']} | {g['netqos_status']} | {g['frames']} |")
    REPORT_MD.write_text("\n".join(md) + "\n")
    REPORT_JSON.write_text(
        json.dumps(
            {
                "tshark": tshark.tshark_version(),
                "fields": {
                    f.label: {
                        "both": run.totals[f.label].both,
                        "agree": run.totals[f.label].agree,
                        "agreement": run.totals[f.label].agreement,
                        "tshark_only": run.totals[f.label].tshark_only,
                        "netqos_only": run.totals[f.label].netqos_only,
                        "required": f.required,
                    }
                    for f in compare.ORACLE_FIELDS
                },
                "files": {
                    n: {
                        "tshark_frames": fr.comparison.tshark_frames,
                        "netqos_rows": fr.comparison.netqos_frames,
                        "decode_error": fr.decode_error,
                    }
                    for n, fr in run.files.items()
                },
                "disagreements": [d.as_dict() for d in dis],
                "tshark_only": _tshark_only_summary(run),
            },
            indent=1,
        )
    )
