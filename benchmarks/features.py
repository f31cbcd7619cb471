#!/usr/bin/env python
"""Features benchmark: netqos TCP analysis + flows + QoS windows vs NFStream and tshark, on one generated capture.

    .venv/bin/python benchmarks/features.py                  # 1M packets (the decode benchmark's capture)
    .venv/bin/python benchmarks/features.py --quick          # 200k packets
    .venv/bin/python benchmarks/features.py --skip tshark,nfstream --json out.json
    .venv/bin/python benchmarks/features.py --memory         # + peak RSS with 1,000,000 concurrent flows

Every measurement runs in its own process (benchmarks/_features_peers.py for the in-process ones) so peak RSS
and CPU seconds are its own. See the "Features benchmark" section of benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_capture  # noqa: E402
from decode import (  # noqa: E402
    CACHE,
    GNU_TIME,
    PY,
    ROOT,
    Result,
    ensure_capture,
    load,
    machine_info,
    netqos_cmd,
    run_timed,
    warm_page_cache,
    warm_then_time,
)

WORKER = str(HERE / "_features_peers.py")
TARGET_PER_CORE = 750_000  # packets per CPU-second, analysis + flows + windows (decode excluded)
TARGET_VS_NFSTREAM = 5.0  # per CPU-second
TARGET_VS_TSHARK = 35.0  # per CPU-second
TARGET_LINE = "target: 750k pkt/s per core for analysis+flows+windows (5x NFStream, 35x tshark)"
TSHARK_FIELDS = [
    "frame.number", "tcp.analysis.retransmission", "tcp.analysis.out_of_order", "tcp.analysis.duplicate_ack",
    "tcp.analysis.zero_window", "tcp.analysis.lost_segment", "tcp.analysis.ack_rtt",
]  # fmt: skip
SKIPPABLE = ("netqos", "process", "nfstream", "tshark", "profile")
NFSTREAM_TIMEOUT_S = 300.0


def run_worker(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    out = subprocess.run([PY, WORKER, *args], capture_output=True, text=True, check=False,
                         env={**os.environ, **(env or {})})  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"_features_peers.py {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    for line in out.stderr.splitlines():
        if "not importable" in line:
            print(f"  worker: {line}", file=sys.stderr)
    d: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return d


def run_timed_limit(cmd: list[str], limit_s: float) -> tuple[float, float, float, int, str, bool]:
    """run_timed() with a time limit: (wall, CPU s, peak RSS MB, exit code, stdout, timed out).

    CPU and peak RSS come from GNU time, so they cover the whole process tree (NFStream's meter processes):
    wait4() folds reaped children's CPU in, and their largest peak RSS.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tm, tempfile.TemporaryFile("w+") as out:
        full = [GNU_TIME, "-f", "%U %S %M", "-o", tm.name, *cmd] if GNU_TIME else cmd
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdout=out, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                             start_new_session=True)  # fmt: skip
        try:
            p.wait(timeout=limit_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)  # the session we started (GNU time + the worker + its meters)
            p.wait()
            timed_out = True
        wall = time.perf_counter() - t0
        cpu = rss = float("nan")
        fields = (tm.read().strip().splitlines() or [""])[-1].split()
        if len(fields) == 3:
            cpu, rss = float(fields[0]) + float(fields[1]), int(fields[2]) / 1024.0
        out.seek(0)
        return wall, cpu, rss, p.returncode, out.read(), timed_out


# ------------------------------------------------------------------------------------------------ measurements


def bench_netqos(path: Path, packets: int, size: int, repeat: int) -> tuple[list[Result], dict[str, Any]]:
    d = run_worker(["netqos", str(path), "--repeat", str(repeat)])
    runs = d["runs"] or [d["warmup"]]
    w = d["warmup"]
    api = d["api"]
    what = "featurize: analysis+flows+windows" if api == "featurize" else "analyze+build_flows (NO windows)"
    common = {"loadavg_start": d["loadavg_start"], "loadavg_end": d["loadavg_end"], "maxrss_mb": d["maxrss_mb"]}
    rows = []
    for key, label, wall_k, cpu_k in (
        ("netqos-features", f"netqos {what} (in-process)", "features_wall_s", "features_cpu_s"),
        ("netqos-decode", "netqos decode_file (in-process)", "decode_wall_s", "decode_cpu_s"),
        ("netqos-total", "netqos decode + features (in-process)", None, None),
    ):

        def wall(r: dict[str, Any], wk: str | None = wall_k) -> float:
            return float(r[wk] if wk else r["decode_wall_s"] + r["features_wall_s"])

        def cpu(r: dict[str, Any], ck: str | None = cpu_k) -> float:
            return float(r[ck] if ck else r["decode_cpu_s"] + r["features_cpu_s"])

        best = min(runs, key=cpu)  # CPU seconds: the machine is shared, wall includes waiting for a core
        extra = {"runs_cpu_s": [cpu(r) for r in runs], "warmup_wall_s": wall(w), "warmup_cpu_s": cpu(w),
                 "flows": best["flows"], "windows": best["windows"], "api": api}  # fmt: skip
        note = f"best of {len(runs)} by CPU s after 1 warm-up; peak RSS = the worker's (decoded table + features)"
        rows.append(_result(key, label, best["packets"], wall(best), cpu(best), common, size,
                            [wall(r) for r in runs], note, extra))  # fmt: skip
    if rows[0].packets != packets:
        rows[0].note += f"; WARNING: {rows[0].packets} rows, expected {packets}"
    return rows, d


def _result(key: str, label: str, packets: int, wall: float, cpu: float, common: dict[str, Any], size: int,
            runs_wall: list[float], note: str, extra: dict[str, Any]) -> Result:  # fmt: skip
    return Result(key, label, packets, wall, cpu, common["maxrss_mb"], size, runs_wall_s=runs_wall,
                  loadavg_start=list(common["loadavg_start"]), loadavg_end=list(common["loadavg_end"]), note=note,
                  extra=extra)  # fmt: skip


def bench_flows_cli(path: Path, packets: int, size: int, repeat: int, say: Any) -> Result:
    out_dir = Path(tempfile.mkdtemp(prefix="netqos-featbench-", dir=CACHE))
    out = out_dir / "flows.parquet"
    cmd = [*netqos_cmd(), "flows", str(path), "-o", str(out)]
    try:
        la0 = load()
        w, runs = warm_then_time(cmd, repeat, say, "netqos flows (process)")
        import pyarrow.parquet as pq

        flows = pq.read_metadata(out).num_rows
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    runs = runs or [w]
    best = min(runs, key=lambda r: r[1])
    return Result(
        "netqos-flows-cli", "netqos flows FILE -o OUT.parquet (process)", packets, best[0], best[1],
        max(r[2] for r in runs), size, runs_wall_s=[r[0] for r in runs], loadavg_start=la0, loadavg_end=load(),
        note=f"whole CLI process: start-up, decode, analysis, flows, Parquet write; best of {len(runs)} by CPU s "
        "after 1 warm-up", extra={"flows": flows, "warmup_wall_s": w[0], "warmup_cpu_s": w[1], "cmd": " ".join(cmd)},
    )  # fmt: skip


def bench_nfstream(path: Path, packets: int, size: int, meters: int) -> Result:
    la0 = load()
    wall, cpu, rss, rc, stdout, timed_out = run_timed_limit(
        [PY, WORKER, "nfstream", str(path), "--meters", str(meters)], 1800.0
    )
    if rc != 0 or timed_out:
        raise RuntimeError(f"nfstream worker exited {rc} (timed out: {timed_out})")
    d = json.loads(stdout.strip().splitlines()[-1])
    kw = d["kwargs"]
    cpu_in = d["cpu_self_s"] + d["cpu_children_s"]
    note = (
        f"NFStream {d['version']} NFStreamer({', '.join(f'{k}={v}' for k, v in kw.items())}); iterate all flows; "
        f"timing = the iteration only (main + meter process CPU); peak RSS = largest process of the tree (GNU time); "
        f"splt_analysis=0 (SPLT off), n_dissections=0 (nDPI dissection off); n_meters={meters} -> per-core "
        f"figure; whole process incl. start-up: {wall:.2f} s wall, {cpu:.2f} s CPU; 1 run"
    )
    if d["flow_packets"] != packets:
        note += f"; NFStream counted {d['flow_packets']:,} packets in its flows"
    return Result(
        "nfstream", f"NFStream, statistical_analysis, n_meters={meters}", packets, d["wall_s"], cpu_in, rss, size,
        runs_wall_s=[d["wall_s"]], loadavg_start=la0, loadavg_end=load(), note=note,
        extra={"flows": d["flows"], "flow_packets": d["flow_packets"], "process_wall_s": wall, "process_cpu_s": cpu,
               "cpu_main_s": d["cpu_self_s"], "cpu_meters_s": d["cpu_children_s"], "kwargs": kw},
    )  # fmt: skip


def bench_tshark(path: Path, packets: int, size: int, limit: int | None) -> Result:
    cmd = ["tshark", "-n", "-r", str(path)]
    n = packets
    if limit is not None and limit < packets:
        cmd += ["-c", str(limit)]
        n = limit
    cmd += ["-T", "fields"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    la0 = load()
    wall, cpu, rss, rc, err = run_timed(cmd)
    if rc != 0:
        raise RuntimeError(f"tshark exited {rc}: {err}")
    label = "tshark -T fields, TCP analysis" + (f" (first {n:,})" if n < packets else "")
    note = (f"{' '.join(cmd[:1] + cmd[1:3])} ... {len(TSHARK_FIELDS)} tcp.analysis fields to /dev/null, default "
            "prefs (TCP sequence analysis on); whole process incl. start-up; 1 run")  # fmt: skip
    if n < packets:
        note += f"; SUBSET: first {n:,} of {packets:,} packets (-c)"
    return Result("tshark", label, n, wall, cpu, rss, int(size * n / packets), subset=n < packets,
                  runs_wall_s=[wall], loadavg_start=la0, loadavg_end=load(), note=note,
                  extra={"cmd": " ".join(cmd)})  # fmt: skip


def concurrent_path(flows: int, seed: int) -> Path:
    return CACHE / f"concurrent-{flows}-s{seed}-v1.pcap"


def bench_memory(flows: int, seed: int, tiny: Path, meters: int, say: Any) -> dict[str, Any]:
    path = concurrent_path(flows, seed)
    gen: dict[str, Any] | None = None
    if not path.exists():
        say(f"generating {path.relative_to(ROOT)} ({flows:,} concurrent flows) ...")
        t0 = time.perf_counter()
        gen = run_worker(["concurrent-capture", "--flows", str(flows), "--seed", str(seed), "-o", str(path)])
        gen["seconds"] = time.perf_counter() - t0
        say(f"  {gen['packets']:,} packets, {gen['bytes'] / 1e6:,.0f} MB in {gen['seconds']:.1f} s")
    warm_page_cache(path)
    res: dict[str, Any] = {"capture": str(path.relative_to(ROOT)), "flows_generated": flows, "generated": gen,
                           "file_mb": round(path.stat().st_size / 1e6, 1)}  # fmt: skip
    say("memory: netqos featurize on the concurrent-flows capture (own process) ...")
    res["netqos"] = run_worker(["memory", str(path)], env={"FEATBENCH_TINY": str(tiny)})
    out_dir = Path(tempfile.mkdtemp(prefix="netqos-featbench-", dir=CACHE))
    try:
        cmd = [*netqos_cmd(), "flows", str(path), "-o", str(out_dir / "flows.parquet")]
        say("memory: netqos flows CLI on the concurrent-flows capture ...")
        wall, cpu, rss, rc, _ = run_timed(cmd)
        res["netqos_flows_cli"] = {"wall_s": wall, "cpu_s": cpu, "maxrss_mb": rss, "rc": rc}
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    say(f"memory: NFStream n_meters={meters} baseline on a tiny capture ...")
    base = run_timed_limit([PY, WORKER, "nfstream", str(tiny), "--meters", str(meters)], 120)
    say(f"memory: NFStream n_meters={meters} on the concurrent-flows capture (limit {NFSTREAM_TIMEOUT_S:.0f} s) ...")
    r = run_timed_limit([PY, WORKER, "nfstream", str(path), "--meters", str(meters)], NFSTREAM_TIMEOUT_S)
    nf: dict[str, Any] = {"baseline_maxrss_mb": base[2], "wall_s": r[0], "cpu_s": r[1], "maxrss_mb": r[2],
                          "rc": r[3], "timed_out": r[5]}  # fmt: skip
    if r[3] == 0 and not r[5]:
        d = json.loads(r[4].strip().splitlines()[-1])
        nf.update(flows=d["flows"], flow_packets=d["flow_packets"])
    res["nfstream"] = nf
    res["loadavg"] = load()
    return res


def bench_profile(path: Path) -> dict[str, Any]:
    return run_worker(["profile", str(path), "--repeat", "3"])


# ------------------------------------------------------------------------------------------------ report


def _k(x: float | None) -> str:
    return "—" if x is None or x != x else f"{x / 1e3:,.0f}"


def _verdict(ok: bool) -> str:
    return "[green]MET[/green]" if ok else "[red]NOT MET[/red]"


def render(results: list[Result], info: dict[str, Any], memory: dict[str, Any] | None,
           profile: dict[str, Any] | None) -> list[str]:  # fmt: skip
    """Print the tables; return the target verdict lines (plain text)."""
    from rich.console import Console
    from rich.table import Table

    con = Console(width=None if sys.stdout.isatty() else 200)
    by = {r.key: r for r in results}
    feat, tot = by.get("netqos-features"), by.get("netqos-total")
    cap = info["capture"]
    t = Table(
        title=f"Features benchmark — {cap['packets']:,} packets, {cap['mb']:,.0f} MB {cap['format']} "
        f"({cap['path']}) — {info['machine']['cores']} cores, load {info['loadavg_start']} -> {info['loadavg_end']}",
        title_justify="left",
    )
    for col in ("tool", "packets", "wall s", "CPU s", "k pkt/s", "k pkt/s per CPU-s", "peak RSS MB",
                "features ÷ this", "dec+feat ÷ this", "load 1m"):  # fmt: skip
        t.add_column(col, justify="left" if col == "tool" else "right")
    for r in results:
        rf = f"{feat.pps_cpu / r.pps_cpu:,.1f}" if feat and feat.pps_cpu and r.pps_cpu and r is not feat else "—"
        rt = f"{tot.pps_cpu / r.pps_cpu:,.1f}" if tot and tot.pps_cpu and r.pps_cpu and r is not tot else "—"
        t.add_row(r.label, f"{r.packets:,}", f"{r.wall_s:,.2f}", "—" if r.cpu_s is None else f"{r.cpu_s:,.2f}",
                  _k(r.pps), _k(r.pps_cpu), "—" if r.maxrss_mb is None else f"{r.maxrss_mb:,.0f}", rf, rt,
                  f"{r.loadavg_start[0]:.1f}" if r.loadavg_start else "—")  # fmt: skip
    if results:
        con.print(t)
    con.print(
        "[dim]k pkt/s = packets ÷ wall s; per CPU-s = packets ÷ CPU seconds of that process (all threads and, "
        "for NFStream, its meter process) = a per-core rate. ÷ columns: netqos features (resp. decode + features) "
        "packets per CPU-s ÷ that row's.[/dim]"
    )
    for r in results:
        con.print(f"[dim]- {r.label}: {r.note}; runs wall s = {[round(x, 2) for x in r.runs_wall_s]}[/dim]")
    if feat:
        e = feat.extra
        con.print(f"[dim]- netqos API used: {e['api']}; {e['flows']:,} flows, windows rows: {e['windows']}; "
                  f"warm-up (JIT/cache load) features pass {e['warmup_wall_s']:.2f} s wall[/dim]")  # fmt: skip
    cli = by.get("netqos-flows-cli")
    if cli:
        con.print(f"[dim]- netqos flows CLI wrote {cli.extra['flows']:,} flows[/dim]")

    lines: list[str] = []
    if feat and feat.pps_cpu:
        windows = feat.extra["api"] == "featurize"
        lines.append(f"{TARGET_LINE}")
        scope = "analysis+flows+windows" if windows else "analysis+flows (NO windows: featurize not available)"
        lines.append(f"  netqos {scope}: {feat.pps_cpu / 1e3:,.0f}k pkt/s per CPU-s ({feat.pps / 1e3:,.0f}k wall) "
                     f"vs 750k -> {_verdict(feat.pps_cpu >= TARGET_PER_CORE)}")  # fmt: skip
        for key, goal in (("nfstream", TARGET_VS_NFSTREAM), ("tshark", TARGET_VS_TSHARK)):
            peer = by.get(key)
            if peer and peer.pps_cpu:
                x = feat.pps_cpu / peer.pps_cpu
                xt = tot.pps_cpu / peer.pps_cpu if tot and tot.pps_cpu else float("nan")
                lines.append(f"  vs {peer.label}: {x:.1f}x per CPU-s (decode+features: {xt:.1f}x) vs {goal:.0f}x -> "
                             f"{_verdict(x >= goal)}")  # fmt: skip
    for line in lines:
        con.print(line)
    if max(info["loadavg_start"][0], info["loadavg_end"][0]) > (info["machine"]["cores"] or 1) * 0.75:
        con.print(f"[yellow]note: load average {info['loadavg_start']} -> {info['loadavg_end']} on "
                  f"{info['machine']['cores']} cores: other work was running; wall numbers are noisy, CPU-second "
                  "numbers less so.[/yellow]")  # fmt: skip
    if profile:
        render_profile(con, profile)
    if memory:
        render_memory(con, memory)
    return lines


CATEGORIES = (
    "decode",
    "analysis (TCP: column prep, address codes, hash grouping, kernel)",
    "flow grouping/split (keys, address codes, hash, sort, split, ids)",
    "flow stats (kernel + per-row arrays for it)",
    "windows (10 s / 60 s QoS aggregation)",
    "per-packet features (packet_features, service classes)",
    "Arrow assembly (analysis _build, flows _assemble, windows _to_table, joins)",
    "featurize glue (own code, plugins)",
)


def stage_category(path: str) -> str:
    """Map a timer call path to one of CATEGORIES (the stages the target is discussed in)."""
    parts = path.split(" > ")
    last = parts[-1]
    if parts[0] == "decode_file":
        return CATEGORIES[0]
    if "Arrow assembly" in last or last.endswith(("._to_table", "._joined")):
        return CATEGORIES[6]
    if any("features.windows." in x for x in parts):
        return CATEGORIES[4]
    if any(x.startswith("analysis:") or x.endswith("._analysis") for x in parts):
        return CATEGORIES[1]
    if "flow_stats" in last or last.startswith("flow stats"):
        return CATEGORIES[3]
    if any("packet_features" in x or "features.classes" in x for x in parts):
        return CATEGORIES[5]
    if last.startswith(("flow keys", "address codes", "group_conversations", "np.", "split_flows", "flow ids")):
        return CATEGORIES[2]
    if last.startswith("flows:"):
        return CATEGORIES[2]
    return CATEGORIES[7]


def render_profile(con: Any, p: dict[str, Any]) -> None:
    from rich.table import Table

    n = p["packets"]
    total = p["decode_cpu_s"] + p["features_cpu_s"]
    excl = {path: (s, calls) for path, s, calls in p["stages"]}
    other = total - sum(s for s, _ in excl.values())

    best = f"best of {p.get('repeat', 3)} warm passes by features CPU s"
    title = (f"netqos CPU s by stage ({p['api']}, {n:,} packets; {best}): decode {p['decode_cpu_s']:.3f} s + "
             f"features {p['features_cpu_s']:.3f} s")  # fmt: skip
    summary = Table(title=title, title_justify="left")
    for col in ("stage", "CPU s", "% of features", "% of decode+features", "ns/packet"):
        summary.add_column(col, justify="left" if col == "stage" else "right")
    cat: dict[str, float] = dict.fromkeys(CATEGORIES, 0.0)
    for path, (s, _) in excl.items():
        cat[stage_category(path)] += s
    cat["untimed (pc.* calls, Table concat, ...)"] = other
    for name, s in cat.items():
        pf = "—" if name == CATEGORIES[0] else f"{100 * s / p['features_cpu_s']:.1f}"
        summary.add_row(name, f"{s:.3f}", pf, f"{100 * s / total:.1f}", f"{1e9 * s / n:.0f}")
    con.print(summary)

    # The call tree: exclusive and inclusive CPU per call path, children under their caller in call order.
    children: dict[str, list[str]] = {}
    roots: list[str] = []
    for path in excl:
        parts = path.split(" > ")
        for depth in range(1, len(parts) + 1):
            node = " > ".join(parts[:depth])
            parent = " > ".join(parts[: depth - 1])
            siblings = children.setdefault(parent, []) if depth > 1 else roots
            if node not in siblings:
                siblings.append(node)

    def inclusive(node: str) -> float:
        return float(excl.get(node, (0.0, 0))[0]) + sum(inclusive(c) for c in children.get(node, []))

    t = Table(title="netqos call tree (timers around each call; exclusive = minus timed callees)",
              title_justify="left")  # fmt: skip
    for col in ("call", "calls", "excl CPU s", "incl CPU s", "excl ns/packet"):
        t.add_column(col, justify="left" if col == "call" else "right")

    def walk(node: str, depth: int) -> None:
        s, calls = excl.get(node, (0.0, 0))
        label = "  " * depth + node.split(" > ")[-1].removeprefix("features: ")
        t.add_row(label, str(calls), f"{s:.3f}", f"{inclusive(node):.3f}", f"{1e9 * s / n:.0f}")
        for c in children.get(node, []):
            walk(c, depth + 1)

    for r in roots:
        walk(r, 0)
    con.print(t)


def render_memory(con: Any, m: dict[str, Any]) -> None:
    from rich.table import Table

    q = m["netqos"]
    flows = q["flows"]
    t = Table(title=f"Memory with {m['flows_generated']:,} concurrent flows ({q['packets']:,} packets, "
              f"{m['file_mb']:,.0f} MB, {m['capture']})", title_justify="left")  # fmt: skip
    for col in ("what", "MB", "bytes per flow", "note"):
        t.add_column(col, justify="left" if col in ("what", "note") else "right")
    rows = [
        ("netqos: RSS after imports + JIT warm-up (baseline)", q["rss_after_import_mb"], None, ""),
        ("netqos: decoded packets table held (RSS after decode - baseline)",
         q["rss_after_decode_mb"] - q["rss_after_import_mb"], None,
         f"Arrow table {q['packets_nbytes'] / 2**20:,.0f} MiB ({q['packets_nbytes'] / q['packets']:,.0f} B/packet), "
         f"buffers {q.get('packets_buffers_bytes', 0) / 2**20:,.0f} MiB"),
        ("netqos: featurize peak above RSS after decode", q["features_peak_mb"] - q["rss_after_decode_mb"],
         flows, f"{flows:,} flows out; {q['features_cpu_s']:.1f} CPU s"),
        ("netqos: featurize peak above baseline (decoded table + working set)",
         q["features_peak_mb"] - q["rss_after_import_mb"], flows, ""),
        ("netqos: process peak RSS", q["maxrss_mb"], None, f"api {q['api']}; Arrow pool "
         f"({q['arrow_backend']}) peak {q['arrow_pool_peak_mb']:,.0f} MB"),
    ]  # fmt: skip
    for part, nb in (q.get("nbytes") or {}).items():
        per = flows if part != "windows" else None  # a few dozen window rows: per flow means nothing
        rows.append((f"netqos: featurize output table '{part}' (Arrow nbytes)", nb / 2**20, per, ""))
    cli = m.get("netqos_flows_cli")
    if cli:
        rows.append(("netqos flows CLI: process peak RSS", cli["maxrss_mb"], None,
                     f"{cli['wall_s']:.1f} s wall, {cli['cpu_s']:.1f} s CPU, exit {cli['rc']}"))  # fmt: skip
    nf = m.get("nfstream")
    if nf:
        if nf.get("timed_out"):
            rows.append(("NFStream", float("nan"), None, f"skipped: did not finish in {NFSTREAM_TIMEOUT_S:.0f} s"))
        elif nf["rc"] != 0:
            rows.append(("NFStream", float("nan"), None, f"failed (exit {nf['rc']})"))
        else:
            extra_mb = nf["maxrss_mb"] - nf["baseline_maxrss_mb"]
            note = (f"{nf.get('flows', 0):,} flows; peak {nf['maxrss_mb']:,.0f} MB, baseline "
                    f"{nf['baseline_maxrss_mb']:,.0f} MB; {nf['wall_s']:.0f} s wall")  # fmt: skip
            rows.append(("NFStream: peak RSS above its tiny-capture baseline", extra_mb, nf.get("flows"), note))
    for what, mb, per, note in rows:
        bpf = f"{mb * 2**20 / per:,.0f}" if per and mb == mb else "—"
        t.add_row(what, "—" if mb != mb else f"{mb:,.0f}", bpf, note)
    con.print(t)


# ------------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)  # fmt: skip
    ap.add_argument("--packets", type=int, default=None, help="capture size (default 1,000,000; --quick 200,000)")
    ap.add_argument("--format", choices=["pcap", "pcapng"], default="pcap")
    ap.add_argument("--quick", action="store_true", help="200k packets")
    ap.add_argument("--skip", default="", help=f"comma list of {','.join(SKIPPABLE)}")
    ap.add_argument("--repeat", type=int, default=3, help="timed netqos runs after 1 warm-up (best is reported)")
    ap.add_argument("--tshark-packets", type=int, default=None, help="tshark reads only the first N (-c N)")
    ap.add_argument("--nfstream-meters", type=int, default=1, help="NFStream n_meters (default 1: per-core)")
    ap.add_argument("--memory", action="store_true", help="peak RSS with --memory-flows concurrent flows")
    ap.add_argument("--memory-flows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None, help="JSON path (default .cache/bench/features-<ts>.json)")
    a = ap.parse_args(argv)

    packets = a.packets or (200_000 if a.quick else 1_000_000)
    skip = {s.strip() for s in a.skip.split(",") if s.strip()}
    bad = skip - set(SKIPPABLE)
    if bad:
        ap.error(f"--skip: unknown {sorted(bad)}; choose from {SKIPPABLE}")
    if not shutil.which("tshark"):
        skip.add("tshark")
    tshark_n = a.tshark_packets
    if tshark_n is None and a.quick:
        tshark_n = 50_000

    def say(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {msg}", file=sys.stderr, flush=True)

    CACHE.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now().astimezone()
    la_start = load()
    path, gen_s = ensure_capture(packets, a.format, a.seed, say)
    size = path.stat().st_size
    warm_page_cache(path)
    info: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "argv": sys.argv[1:] if argv is None else argv,
        "machine": machine_info(),
        "capture": {
            "path": str(path.relative_to(ROOT)),
            "packets": packets,
            "bytes": size,
            "mb": size / 1e6,
            "format": a.format,
            "generator": f"benchmarks/gen_capture.py v{gen_capture.GEN_VERSION}",
            "generated_s": gen_s,
        },
        "loadavg_start": la_start,
    }
    try:
        import nfstream  # type: ignore[import-untyped]

        info["machine"]["versions"]["nfstream"] = nfstream.__version__
    except ImportError:
        info["machine"]["versions"]["nfstream"] = "missing"
        skip.add("nfstream")
    say(f"capture {path.name}: {packets:,} packets, {size / 1e6:,.0f} MB; cores {os.cpu_count()}, load {la_start}")

    results: list[Result] = []
    if "netqos" not in skip:
        say(f"netqos decode + features in-process: warm-up pass + best of {a.repeat} ...")
        rows, _ = bench_netqos(path, packets, size, a.repeat)
        results += rows
        say(f"  features {rows[0].cpu_s:.2f} CPU s ({rows[0].extra['api']}), decode {rows[1].cpu_s:.2f} CPU s")
    if "process" not in skip:
        results.append(bench_flows_cli(path, packets, size, a.repeat, say))
    if "nfstream" not in skip:
        say(f"NFStream (n_meters={a.nfstream_meters}), 1 run ...")
        results.append(bench_nfstream(path, packets, size, a.nfstream_meters))
        say(f"  {results[-1].wall_s:.1f} s, {results[-1].cpu_s:.1f} CPU s")
    if "tshark" not in skip:
        say(f"tshark with TCP analysis on {min(tshark_n or packets, packets):,} packets, 1 run ...")
        results.append(bench_tshark(path, packets, size, tshark_n))
        say(f"  {results[-1].wall_s:.1f} s, {results[-1].cpu_s:.1f} CPU s")
    profile = None
    if "profile" not in skip:
        say("netqos stage profile (timers; warm-up + best of 3) ...")
        profile = bench_profile(path)
    memory = None
    if a.memory:
        tiny, _ = ensure_capture(2000, "pcap", a.seed, say)
        memory = bench_memory(a.memory_flows, a.seed, tiny, a.nfstream_meters, say)
    info["loadavg_end"] = load()

    verdicts = render(results, info, memory, profile)
    by = {r.key: r for r in results}
    ratios: dict[str, float] = {}
    for base in ("netqos-features", "netqos-total"):
        mine = by[base].pps_cpu if base in by else None
        for r in results:
            if mine and r.key != base and r.pps_cpu:
                ratios[f"{base}/{r.key} (per CPU-s)"] = mine / r.pps_cpu
    doc = {
        **info,
        "results": [{**asdict(r), "pps": r.pps, "pps_per_cpu_s": r.pps_cpu} for r in results],
        "ratios": ratios,
        "targets": {
            "features_pps_per_core": TARGET_PER_CORE,
            "vs_nfstream": TARGET_VS_NFSTREAM,
            "vs_tshark": TARGET_VS_TSHARK,
            "verdicts": verdicts,
        },
        "profile": profile,
        "memory": memory,
    }
    out = a.json or CACHE / f"features-{started.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2, default=str))
    print(f"JSON: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
