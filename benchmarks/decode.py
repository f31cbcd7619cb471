#!/usr/bin/env python
"""Decode benchmark: netqos vs tshark / dpkt / scapy on one generated, realistic, mixed capture.

    .venv/bin/python benchmarks/decode.py                 # 1M packets (generated once into .cache/bench/)
    .venv/bin/python benchmarks/decode.py --quick         # 200k packets, scapy on 10k
    .venv/bin/python benchmarks/decode.py --skip tshark,scapy --json out.json
    .venv/bin/python benchmarks/decode.py --big           # + peak RSS on a 5M-packet capture (memory stays flat)
    .venv/bin/python benchmarks/decode.py --profile       # + where netqos spends its time (stages + cProfile)

Every measurement runs in its own process (benchmarks/_peers.py for the in-process ones) so peak RSS and CPU
seconds are its own. See benchmarks/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = ROOT / ".cache" / "bench"
sys.path.insert(0, str(HERE))

import gen_capture  # noqa: E402
from _peers import TSHARK_FIELDS  # noqa: E402

PY = sys.executable
PEERS = str(HERE / "_peers.py")
TARGET_INPROC_PER_CORE = 2_000_000  # packets/s, full schema to Arrow, one core
TARGET_VS_TSHARK = 20.0  # whole `netqos decode` process vs tshark -T fields


@dataclass
class Result:
    key: str
    label: str
    packets: int
    wall_s: float
    cpu_s: float | None = None
    maxrss_mb: float | None = None
    bytes: int | None = None  # bytes of the capture this measurement covered (approx. for subsets)
    subset: bool = False
    runs_wall_s: list[float] = field(default_factory=list)
    loadavg_start: list[float] = field(default_factory=list)
    loadavg_end: list[float] = field(default_factory=list)
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pps(self) -> float:
        return self.packets / self.wall_s if self.wall_s > 0 else float("nan")

    @property
    def pps_cpu(self) -> float | None:
        return self.packets / self.cpu_s if self.cpu_s else None

    @property
    def mbps(self) -> float | None:
        return self.bytes / 1e6 / self.wall_s if self.bytes and self.wall_s > 0 else None


# ------------------------------------------------------------------------------------------------ helpers


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def run_timed(cmd: list[str], stdout: Any = subprocess.DEVNULL) -> tuple[float, float, float, int, str]:
    """(wall s, CPU s, peak RSS MB, exit code, stderr tail) of one child process.

    Peak RSS comes from GNU time (it forks the command itself): a child forked straight from this Python
    process would report max(our RSS, its own) because Linux keeps the pre-exec high-water mark in ru_maxrss.
    """
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r", suffix=".time") as tm:
        full = [GNU_TIME, "-f", "%U %S %M", "-o", tm.name, *cmd] if GNU_TIME else cmd
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdout=stdout, stderr=err, stdin=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read()[-2000:].decode(errors="replace")
        cpu, rss = ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0
        if GNU_TIME:
            fields = (tm.read().strip().splitlines() or [""])[-1].split()
            if len(fields) == 3:
                cpu, rss = float(fields[0]) + float(fields[1]), int(fields[2]) / 1024.0
    return wall, cpu, rss, p.returncode, tail


def _proc_status_kb(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, val = line.split(":", 1)
                    out[key] = int(val.split()[0])
    except (OSError, ValueError):
        pass
    return out


def run_sampled(cmd: list[str], interval: float = 0.1) -> tuple[float, float, float, int, list[tuple[float, float]]]:
    """(wall s, CPU s, peak RSS MB, exit code, [(t s, RSS MB)...]): RSS sampled from /proc while it runs.

    Peak is the child's own VmHWM (last sample before exit), so it is not inflated by this parent.
    """
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    samples: list[tuple[float, float]] = []
    hwm = 0
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        st = _proc_status_kb(p.pid)
        if "VmRSS" in st:
            samples.append((time.perf_counter() - t0, st["VmRSS"] / 1024.0))
            hwm = max(hwm, st.get("VmHWM", 0))
        time.sleep(interval)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_utime + ru.ru_stime, hwm / 1024.0, p.returncode, samples


def run_worker(args: list[str]) -> dict[str, Any]:
    out = subprocess.run([PY, PEERS, *args], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"_peers.py {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def netqos_cmd() -> list[str]:
    exe = Path(PY).parent / "netqos"
    return [str(exe)] if exe.exists() else [PY, "-m", "netqos"]


def capture_path(packets: int, fmt: str, seed: int) -> Path:
    return CACHE / f"mixed-{packets}-s{seed}-v{gen_capture.GEN_VERSION}.{fmt}"


def ensure_capture(packets: int, fmt: str, seed: int, say: Any) -> tuple[Path, float | None]:
    path = capture_path(packets, fmt, seed)
    if path.exists():
        return path, None
    say(f"generating {path.relative_to(ROOT)} ({packets:,} packets, {fmt}) ...")
    # In a child process: keeps this (parent) process small, so it does not distort the children's numbers.
    t0 = time.perf_counter()
    cmd = [PY, str(HERE / "gen_capture.py"), "--packets", str(packets), "--format", fmt, "--seed", str(seed),
           "-o", str(path)]  # fmt: skip
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    secs = time.perf_counter() - t0
    say(f"  generated in {secs:.1f} s ({packets / secs:,.0f} packets/s, {path.stat().st_size / 1e6:,.0f} MB)")
    return path, secs


def warm_page_cache(path: Path) -> None:
    with open(path, "rb") as fh:
        while fh.read(16 << 20):
            pass


def tool_version(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.splitlines()[0].strip()
    except (OSError, IndexError):
        return "?"


def machine_info() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str] = {"python": platform.python_version()}
    for mod in ("numpy", "pyarrow", "numba", "dpkt", "scapy"):
        try:
            m = __import__(mod)
            versions[mod] = getattr(m, "__version__", None) or getattr(m, "VERSION", "?")
        except ImportError:
            versions[mod] = "missing"
    versions["tshark"] = tool_version(["tshark", "--version"])
    try:
        mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem_gib = 0.0
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_gib": round(mem_gib, 1), "platform": platform.platform(),
            "versions": versions}  # fmt: skip


# ------------------------------------------------------------------------------------------------ measurements


Timed = tuple[float, float, float, int, str]  # wall s, CPU s, peak RSS MB, exit code, output (run_timed)


def warm_then_time(cmd: list[str], repeat: int, say: Any, label: str) -> tuple[Timed, list[Timed]]:
    """One untimed warm-up run (fills the numba on-disk cache), then `repeat` timed runs; a failure raises."""
    say(f"{label}: warm-up run (fills the numba on-disk cache; not timed) ...")
    runs = []
    for i in range(repeat + 1):
        r = run_timed(cmd)
        if r[3] != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {r[3]}:\n{r[4]}")
        runs.append(r)
        if i:
            say(f"  run {i}/{repeat}: {r[0]:.2f} s wall, {r[1]:.2f} s CPU, peak RSS {r[2]:.0f} MB")
    return runs[0], runs[1:]


def bench_netqos_process(path: Path, packets: int, size: int, repeat: int, say: Any) -> Result:
    out_dir = Path(tempfile.mkdtemp(prefix="netqos-bench-", dir=CACHE))
    out = out_dir / "out.parquet"
    cmd = [*netqos_cmd(), "decode", str(path), "-o", str(out), "--no-progress"]
    try:
        la0 = load()
        w, runs = warm_then_time(cmd, repeat, say, "netqos decode (process)")
        import pyarrow.parquet as pq

        rows = pq.read_metadata(out).num_rows
        out_mb = out.stat().st_size / 1e6
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    best = min(runs, key=lambda r: r[0])
    note = f"whole CLI process incl. start-up, Parquet (zstd) write; best of {repeat} after 1 warm-up"
    if rows != packets:
        note += f"; WARNING: parquet has {rows} rows, expected {packets}"
    return Result(
        "netqos-process", "netqos decode -> Parquet (process)", packets, best[0], best[1],
        max(r[2] for r in runs), size, runs_wall_s=[r[0] for r in runs], loadavg_start=la0, loadavg_end=load(),
        note=note, extra={"warmup_wall_s": w[0], "warmup_cpu_s": w[1], "parquet_mb": round(out_mb, 1),
                          "parquet_rows": rows, "cmd": " ".join(cmd[1:])},
    )  # fmt: skip


def bench_startup(tiny: Path, tiny_packets: int, repeat: int) -> Result:
    """`netqos decode` on a tiny capture: the fixed cost of a process (imports, Numba cache load, Parquet)."""
    out_dir = Path(tempfile.mkdtemp(prefix="netqos-bench-", dir=CACHE))
    cmd = [*netqos_cmd(), "decode", str(tiny), "-o", str(out_dir / "out.parquet"), "--no-progress"]
    try:
        la0 = load()
        runs = [run_timed(cmd) for _ in range(repeat)]
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    best = min(runs, key=lambda r: r[0])
    # Two fresh workers, keep the cheaper: a Numba cache invalidated by a source edit makes one pay a compile.
    d = min((run_worker(["startup", str(tiny)]) for _ in range(2)), key=lambda x: x["total_s"])
    return Result(
        "netqos-startup", f"netqos decode, {tiny_packets:,}-packet capture (start-up cost)", tiny_packets, best[0],
        best[1], best[2], tiny.stat().st_size, runs_wall_s=[r[0] for r in runs], loadavg_start=la0,
        loadavg_end=load(), note=f"fixed cost of a CLI process; best of {repeat}",
        extra={"steps": d["steps"], "pandas_imported": d["pandas_imported"]},
    )  # fmt: skip


def bench_netqos_inproc(path: Path, packets: int, size: int, repeat: int) -> Result:
    d = run_worker(["netqos", str(path), "--repeat", str(repeat)])
    note = f"open_capture().batches(), full schema to Arrow; best of {repeat} after 1 warm-up"
    if d["packets"] != packets:
        note += f"; WARNING: {d['packets']} rows, expected {packets}"
    return Result(
        "netqos-inproc", "netqos open_capture().batches() (in-process)", d["packets"], d["wall_s"], d["cpu_s"],
        d["maxrss_mb"], size, runs_wall_s=d["runs_wall_s"], loadavg_start=d["loadavg_start"],
        loadavg_end=d["loadavg_end"], note=note,
        extra={k: d[k] for k in ("batches", "import_s", "warmup_wall_s", "warmup_cpu_s", "runs_cpu_s", "min_cpu_s")},
    )  # fmt: skip


def bench_tshark(path: Path, packets: int, size: int, analysis: bool) -> Result:
    cmd = ["tshark", "-n", "-r", str(path), "-T", "fields"]
    if not analysis:
        cmd += ["-o", "tcp.analyze_sequence_numbers:FALSE", "-o", "tcp.relative_sequence_numbers:FALSE"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    la0 = load()
    wall, cpu, rss, rc, err = run_timed(cmd)
    if rc != 0:
        raise RuntimeError(f"tshark exited {rc}: {err}")
    key = "tshark" if analysis else "tshark-noanalysis"
    label = "tshark -T fields" + ("" if analysis else " (no TCP analysis)")
    note = f"{len(TSHARK_FIELDS)} fields to /dev/null, -n; " + (
        "default prefs (TCP sequence analysis on, dissects TLS/DNS/...)" if analysis
        else "-o tcp.analyze_sequence_numbers:FALSE -o tcp.relative_sequence_numbers:FALSE"
    )  # fmt: skip
    return Result(key, label, packets, wall, cpu, rss, size, runs_wall_s=[wall], loadavg_start=la0,
                  loadavg_end=load(), note=note + "; 1 run")  # fmt: skip


def bench_python_peer(tool: str, path: Path, packets: int, size: int, limit: int | None) -> Result:
    args = [tool, str(path)]
    if limit is not None and limit < packets:
        args += ["--limit", str(limit)]
    d = run_worker(args)
    n = d["packets"]
    subset = n < packets
    label = {"dpkt": "dpkt loop (Python rows)", "scapy": "scapy PcapReader loop"}[tool]
    note = "in-process Python loop extracting the same fields (MACs/IPs as text); 1 run"
    if subset:
        label += f" (first {n:,})"
        note += f"; SUBSET: first {n:,} of {packets:,} packets"
    if d.get("errors"):
        note += f"; {d['errors']} parse errors"
    return Result(tool, label, n, d["wall_s"], d["cpu_s"], d["maxrss_mb"], int(size * n / packets), subset=subset,
                  runs_wall_s=[d["wall_s"]], loadavg_start=d["loadavg_start"], loadavg_end=d["loadavg_end"],
                  note=note)  # fmt: skip


def bench_memory(base: Path, base_packets: int, big: Path, big_packets: int, say: Any) -> list[dict[str, Any]]:
    """Peak RSS of `netqos decode` and of an in-process pass, on the base and on the big capture."""
    rows = []
    for path, n in ((base, base_packets), (big, big_packets)):
        out_dir = Path(tempfile.mkdtemp(prefix="netqos-bench-", dir=CACHE))
        try:
            out = out_dir / "out.parquet"
            cmd = [*netqos_cmd(), "decode", str(path), "-o", str(out), "--no-progress"]
            say(f"memory: netqos decode on {n:,} packets (RSS sampled every 0.1 s) ...")
            wall, cpu, rss, rc, samples = run_sampled(cmd)
            if rc != 0:
                raise RuntimeError(f"{' '.join(cmd)} exited {rc}")
            import pyarrow.parquet as pq

            out_rows = pq.read_metadata(out).num_rows
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)
        say(f"memory: open_capture().batches() on {n:,} packets ...")
        d = run_worker(["netqos", str(path), "--repeat", "0"])
        # RSS when 25/50/75/100% of the run had elapsed: flat = bounded; a ramp = something accumulates.
        quart = [max((r for t, r in samples if t <= wall * q), default=0.0) for q in (0.25, 0.5, 0.75, 1.0)]
        rows.append({"packets": n, "file_mb": round(path.stat().st_size / 1e6, 1), "process_wall_s": wall,
                     "process_cpu_s": cpu, "process_maxrss_mb": round(rss, 1), "parquet_rows": out_rows,
                     "process_rss_quartiles_mb": [round(x) for x in quart],
                     "process_rss_samples": [(round(t, 2), round(r, 1)) for t, r in samples],
                     "inproc_maxrss_mb": d["maxrss_mb"], "inproc_wall_s": d["warmup_wall_s"],
                     "inproc_cpu_s": d["warmup_cpu_s"], "inproc_rows": d["packets"], "loadavg": load()})  # fmt: skip
    return rows


def bench_profile(path: Path) -> dict[str, Any]:
    return run_worker(["profile", str(path)])


# ------------------------------------------------------------------------------------------------ report


def fmt_rate(x: float | None, unit: float = 1e3, digits: int = 0) -> str:
    return "—" if x is None else f"{x / unit:,.{digits}f}"


def render(results: list[Result], info: dict[str, Any], memory: list[dict[str, Any]] | None,
           profile: dict[str, Any] | None) -> None:  # fmt: skip
    from rich.console import Console
    from rich.table import Table

    con = Console(width=None if sys.stdout.isatty() else 160)
    by = {r.key: r for r in results}
    proc, inproc = by.get("netqos-process"), by.get("netqos-inproc")
    cap = info["capture"]
    t = Table(
        title=f"Decode benchmark — {cap['packets']:,} packets, {cap['mb']:,.0f} MB {cap['format']} "
        f"({cap['path']}) — {info['machine']['cores']} cores, load {info['loadavg_start']} -> {info['loadavg_end']}",
        title_justify="left",
    )
    for col, j in (("tool", "left"), ("packets", "right"), ("wall s", "right"), ("CPU s", "right"),
                   ("k pkt/s", "right"), ("k pkt/s/core", "right"), ("MB/s", "right"), ("peak RSS MB", "right"),
                   ("netqos proc x", "right"), ("netqos in-proc x", "right"), ("load 1m", "right")):  # fmt: skip
        t.add_column(col, justify=j)  # type: ignore[arg-type]
    for r in results:
        ratio_p = f"{proc.pps / r.pps:,.1f}" if proc and r.key not in ("netqos-process", "netqos-startup") else "—"
        ratio_i = f"{inproc.pps / r.pps:,.1f}" if inproc and r.key not in ("netqos-inproc", "netqos-startup") else "—"
        if r.key == "netqos-inproc" and proc:
            ratio_p = f"{proc.pps / r.pps:,.2f}"
        if r.key == "netqos-process" and inproc:
            ratio_i = f"{inproc.pps / r.pps:,.2f}"
        t.add_row(
            r.label, f"{r.packets:,}", f"{r.wall_s:,.2f}", "—" if r.cpu_s is None else f"{r.cpu_s:,.2f}",
            fmt_rate(r.pps), fmt_rate(r.pps_cpu), "—" if r.mbps is None else f"{r.mbps:,.1f}",
            "—" if r.maxrss_mb is None else f"{r.maxrss_mb:,.0f}", ratio_p, ratio_i, f"{r.loadavg_start[0]:.1f}",
        )  # fmt: skip
    if results:
        con.print(t)
    con.print("[dim]x columns: netqos packets/s (wall) ÷ that tool's packets/s (wall). k pkt/s/core = packets ÷ CPU "
              "seconds of the process (all threads). MB/s = capture bytes ÷ wall s.[/dim]")  # fmt: skip
    for r in results:
        con.print(f"[dim]- {r.label}: {r.note}; runs wall s = {[round(x, 2) for x in r.runs_wall_s]}[/dim]")
    if proc:
        e = proc.extra
        con.print(f"[dim]- netqos decode warm-up run (numba cache fill, not timed): {e['warmup_wall_s']:.2f} s wall; "
                  f"Parquet output {e['parquet_mb']} MB, {e['parquet_rows']:,} rows[/dim]")  # fmt: skip
    st = by.get("netqos-startup")
    if st:
        steps = ", ".join(f"{name} {sec:.2f}" for name, sec in st.extra["steps"])
        con.print(f"[dim]- start-up breakdown, CPU s (fresh process): {steps}; pandas imported: "
                  f"{st.extra['pandas_imported']}[/dim]")  # fmt: skip
        if proc and proc.cpu_s and st.cpu_s and proc.cpu_s > st.cpu_s:
            marg = (proc.packets - st.packets) / (proc.cpu_s - st.cpu_s)
            con.print(
                f"- netqos decode process minus start-up, per CPU-s: {marg / 1e6:.2f} M pkt/s (({proc.packets:,} - "
                f"{st.packets:,}) packets / ({proc.cpu_s:.2f} - {st.cpu_s:.2f}) CPU s; start-up is "
                f"{100 * st.cpu_s / proc.cpu_s:.0f}% of the process CPU)"
            )
    if inproc:
        e = inproc.extra
        cpu_runs = [round(x, 3) for x in e["runs_cpu_s"]]
        con.print(
            f"[dim]- netqos in-process: import {e['import_s']:.2f} s, first pass (JIT/cache load) "
            f"{e['warmup_wall_s']:.2f} s, {e['batches']} batches, CPU s per run {cpu_runs}[/dim]"
        )

    # targets
    checks = []
    if inproc and inproc.pps_cpu:
        best_core = inproc.packets / inproc.extra["min_cpu_s"]
        ok = best_core >= TARGET_INPROC_PER_CORE
        verdict = "[green]MET[/green]" if ok else "[red]NOT MET[/red]"
        checks.append(
            f"in-process per core: {best_core / 1e6:.2f} M pkt/s (best CPU-time run) vs target "
            f"{TARGET_INPROC_PER_CORE / 1e6:.1f} M -> {verdict}"
        )
    for key in ("tshark", "tshark-noanalysis"):
        if proc and key in by:
            x = proc.pps / by[key].pps
            ok = x >= TARGET_VS_TSHARK
            checks.append(f"netqos decode process vs {by[key].label}: {x:.1f}x vs target {TARGET_VS_TSHARK:.0f}x -> "
                          f"{'[green]MET[/green]' if ok else '[red]NOT MET[/red]'}")  # fmt: skip
    for c in checks:
        con.print("target: " + c)
    if max(info["loadavg_start"][0], info["loadavg_end"][0]) > (info["machine"]["cores"] or 1) * 0.75:
        con.print(f"[yellow]note: load average {info['loadavg_start']} -> {info['loadavg_end']} on "
                  f"{info['machine']['cores']} cores: other work was running; wall numbers are noisy, CPU-second "
                  "numbers less so.[/yellow]")  # fmt: skip

    if memory:
        m = Table(title="Peak RSS vs capture size (bounded memory)", title_justify="left")
        for col in ("packets", "file MB", "decode process peak RSS MB", "its RSS at 25/50/75/100% of run",
                    "decode wall s", "decode CPU s", "in-process peak RSS MB", "in-process wall s",
                    "in-process CPU s", "rows ok"):  # fmt: skip
            m.add_column(col, justify="right")
        for row in memory:
            ok = row["parquet_rows"] == row["packets"] == row["inproc_rows"]
            quart = "/".join(str(x) for x in row["process_rss_quartiles_mb"])
            m.add_row(f"{row['packets']:,}", f"{row['file_mb']:,.0f}", f"{row['process_maxrss_mb']:,.0f}", quart,
                      f"{row['process_wall_s']:.1f}", f"{row['process_cpu_s']:.1f}", f"{row['inproc_maxrss_mb']:,.0f}",
                      f"{row['inproc_wall_s']:.1f}", f"{row['inproc_cpu_s']:.1f}", "yes" if ok else "NO")  # fmt: skip
        con.print(m)
    if profile:
        render_profile(con, profile)


def render_profile(con: Any, p: dict[str, Any]) -> None:
    from rich.table import Table

    con.print(f"netqos profile: {p['packets']:,} packets, {p['batches']} batches; cProfile pass "
              f"{p['wall_s']:.2f} s wall, {p['cpu_s']:.2f} s CPU")  # fmt: skip
    if p.get("stages"):
        st = Table(title="netqos open_capture().batches(): CPU time by stage (timers around each call; best of 3)",
                   title_justify="left")  # fmt: skip
        for col in ("stage", "CPU s", "% of pass", "ns/packet"):
            st.add_column(col, justify="right" if col != "stage" else "left")
        total = p["stages_total_s"]
        for name, s in p["stages"]:
            st.add_row(name, f"{s:.3f}", f"{100 * s / total:.1f}", f"{1e9 * s / p['packets']:.0f}")
        con.print(st)
    if p.get("export_stages"):
        ex = Table(
            title=f"in-process decode_to_parquet() (= netqos decode minus start-up): CPU s per thread-stage, best "
            f"of 3; {p['export_total_s']:.2f} CPU s in {p.get('export_wall_s', 0):.2f} s wall",
            title_justify="left",
        )
        for col in ("stage", "CPU s", "% of pass", "ns/packet"):
            ex.add_column(col, justify="right" if col != "stage" else "left")
        total = p["export_total_s"]
        for name, s in p["export_stages"]:
            ex.add_row(name, f"{s:.3f}", f"{100 * s / total:.1f}", f"{1e9 * s / p['packets']:.0f}")
        ex.add_row("total (process CPU)", f"{total:.3f}", "100.0", f"{1e9 * total / p['packets']:.0f}")
        con.print(ex)
    t = Table(title="cProfile: top functions by own time", title_justify="left")
    for col in ("function", "calls", "tottime s", "cumtime s"):
        t.add_column(col, justify="left" if col == "function" else "right")
    for r in p["top_tottime"][:20]:
        t.add_row(r["func"], str(r["calls"]), f"{r['tottime']:.3f}", f"{r['cumtime']:.3f}")
    con.print(t)


# ------------------------------------------------------------------------------------------------ main


SKIPPABLE = ("process", "inproc", "tshark", "tshark-default", "tshark-noanalysis", "dpkt", "scapy")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)  # fmt: skip
    ap.add_argument("--packets", type=int, default=None, help="capture size (default 1,000,000; --quick 200,000)")
    ap.add_argument("--format", choices=["pcap", "pcapng"], default="pcap")
    ap.add_argument("--quick", action="store_true", help="200k packets, scapy on 10k packets")
    ap.add_argument("--skip", default="", help=f"comma list of {','.join(SKIPPABLE)}")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of netqos (best is reported)")
    ap.add_argument("--scapy-packets", type=int, default=None, help="scapy subset (default 50,000; --quick 10,000)")
    ap.add_argument("--dpkt-packets", type=int, default=None, help="dpkt subset (default: all packets)")
    ap.add_argument("--big", action="store_true", help="also show peak RSS on a --big-packets capture")
    ap.add_argument("--big-packets", type=int, default=5_000_000)
    ap.add_argument("--profile", action="store_true", help="also profile netqos (stages + cProfile)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None, help="JSON path (default .cache/bench/decode-<ts>.json)")
    a = ap.parse_args(argv)

    packets = a.packets or (200_000 if a.quick else 1_000_000)
    scapy_n = a.scapy_packets or (10_000 if a.quick else 50_000)
    skip = {s.strip() for s in a.skip.split(",") if s.strip()}
    bad = skip - set(SKIPPABLE)
    if bad:
        ap.error(f"--skip: unknown {sorted(bad)}; choose from {SKIPPABLE}")
    if "tshark" in skip:
        skip |= {"tshark-default", "tshark-noanalysis"}
    if not shutil.which("tshark"):
        skip |= {"tshark-default", "tshark-noanalysis"}

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
    say(f"capture {path.name}: {packets:,} packets, {size / 1e6:,.0f} MB; cores {os.cpu_count()}, load {la_start}")

    results: list[Result] = []
    if "process" not in skip:
        results.append(bench_netqos_process(path, packets, size, a.repeat, say))
        tiny_n = 2000
        tiny, _ = ensure_capture(tiny_n, a.format, a.seed, say)
        say("netqos decode on a 2,000-packet capture (start-up cost), best of 3 ...")
        results.append(bench_startup(tiny, tiny_n, 3))
    if "inproc" not in skip:
        say(f"netqos in-process: warm-up pass + best of {a.repeat} ...")
        results.append(bench_netqos_inproc(path, packets, size, a.repeat))
    if "tshark-default" not in skip:
        say("tshark -T fields (default prefs), 1 run ...")
        results.append(bench_tshark(path, packets, size, analysis=True))
    if "tshark-noanalysis" not in skip:
        say("tshark -T fields (no TCP analysis), 1 run ...")
        results.append(bench_tshark(path, packets, size, analysis=False))
    if "dpkt" not in skip:
        say("dpkt loop, 1 run ...")
        results.append(bench_python_peer("dpkt", path, packets, size, a.dpkt_packets))
    if "scapy" not in skip:
        say(f"scapy loop on the first {min(scapy_n, packets):,} packets, 1 run ...")
        results.append(bench_python_peer("scapy", path, packets, size, scapy_n))

    memory = None
    if a.big:
        big_path, _ = ensure_capture(a.big_packets, a.format, a.seed, say)
        warm_page_cache(big_path)
        memory = bench_memory(path, packets, big_path, a.big_packets, say)
    profile = None
    if a.profile:
        say("profiling netqos (stage timers + cProfile) ...")
        profile = bench_profile(path)
    info["loadavg_end"] = load()

    render(results, info, memory, profile)
    by = {r.key: r for r in results}
    ratios: dict[str, float] = {}
    for base in ("netqos-process", "netqos-inproc"):
        if base in by:
            for r in results:
                if r.key not in (base, "netqos-startup"):
                    ratios[f"{base}/{r.key}"] = by[base].pps / r.pps
                    if by[base].pps_cpu and r.pps_cpu:
                        ratios[f"{base}/{r.key} (per CPU-s)"] = by[base].pps_cpu / r.pps_cpu
    doc = {
        **info,
        "results": [{**asdict(r), "pps": r.pps, "pps_per_cpu_s": r.pps_cpu, "mb_per_s": r.mbps} for r in results],
        "ratios": ratios,
        "targets": {"inproc_pps_per_core": TARGET_INPROC_PER_CORE, "process_vs_tshark": TARGET_VS_TSHARK},
        "memory": memory,
        "profile": profile,
    }
    out = a.json or CACHE / f"decode-{started.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2, default=str))
    print(f"JSON: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
