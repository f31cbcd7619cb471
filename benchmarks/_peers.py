"""Worker for benchmarks/decode.py: runs ONE measurement in its own process and prints one JSON line.

Each measurement runs in a fresh interpreter so its peak RSS, CPU time and imports are its own:

    python benchmarks/_peers.py netqos FILE [--repeat 3]   # open_capture(FILE).batches(), warm-up + best of N
    python benchmarks/_peers.py dpkt FILE [--limit N]      # dpkt.pcap.Reader + field extraction to Python rows
    python benchmarks/_peers.py scapy FILE [--limit N]     # scapy PcapReader + field extraction (slow: use a subset)
    python benchmarks/_peers.py profile FILE               # netqos per-stage timing + cProfile top functions
    python benchmarks/_peers.py startup SMALL_FILE         # import times + first-call (Numba cache) cost

Timings inside a worker exclude interpreter start-up and imports ("in-process"). CPU seconds are
time.process_time() (all threads of the process), so packets / CPU-second is a per-core rate.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import struct
import sys
import time
from typing import Any

# The fields every tool extracts: the columns the lead's issue compares (tshark gets the same list as -e).
TSHARK_FIELDS = [
    "frame.time_epoch", "frame.len", "frame.cap_len", "eth.src", "eth.dst", "eth.type", "vlan.id",
    "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "ip.proto", "ipv6.nxt", "ip.ttl", "ipv6.hlim", "ip.len",
    "ip.id", "ip.dsfield.dscp", "ip.flags.df", "ip.flags.mf", "ip.frag_offset", "ipv6.flow",
    "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "tcp.flags", "tcp.seq_raw", "tcp.ack_raw",
    "tcp.window_size_value", "tcp.hdr_len", "tcp.len", "tcp.options.mss_val", "tcp.options.wscale.shift",
    "tcp.options.timestamp.tsval", "tcp.options.timestamp.tsecr", "udp.length",
    "icmp.type", "icmp.code", "icmp.ident", "icmp.seq", "icmpv6.type", "icmpv6.code",
]  # fmt: skip


def _maxrss_mb() -> float:
    """Peak RSS of this process's own address space (VmHWM). ru_maxrss is not used: on Linux it keeps the
    high-water mark of the parent that forked us (exec records the pre-exec mm's peak)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _emit(d: dict[str, Any]) -> None:
    d["maxrss_mb"] = round(_maxrss_mb(), 1)
    d["loadavg_end"] = os.getloadavg()
    print(json.dumps(d), flush=True)


# ------------------------------------------------------------------------------------------------ netqos


CHUNK_BYTES: int | None = None  # --chunk-bytes: open_capture(chunk_bytes=...) for experiments; None = default


def _netqos_pass(path: str) -> tuple[int, int, float, float]:
    from netqos.decode import open_capture

    kw = {} if CHUNK_BYTES is None else {"chunk_bytes": CHUNK_BYTES}
    t0, c0 = time.perf_counter(), time.process_time()
    rows = batches = 0
    with open_capture(path, **kw) as r:
        for b in r.batches():
            rows += b.num_rows
            batches += 1
    return rows, batches, time.perf_counter() - t0, time.process_time() - c0


def run_netqos(path: str, repeat: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    import netqos.decode  # noqa: F401

    import_s = time.perf_counter() - t0
    rows, batches, warm_wall, warm_cpu = _netqos_pass(path)  # JIT compile / numba cache load happens here
    runs = [_netqos_pass(path) for _ in range(repeat)]
    assert all(r[0] == rows for r in runs), "row count changed between runs"
    best = min(runs, key=lambda r: r[2]) if runs else (rows, batches, warm_wall, warm_cpu)
    return {
        "tool": "netqos-inproc",
        "packets": rows,
        "batches": batches,
        "import_s": import_s,
        "warmup_wall_s": warm_wall,
        "warmup_cpu_s": warm_cpu,
        "runs_wall_s": [r[2] for r in runs],
        "runs_cpu_s": [r[3] for r in runs],
        "wall_s": best[2],
        "cpu_s": best[3],
        "min_cpu_s": min(r[3] for r in runs) if runs else warm_cpu,
    }


# ------------------------------------------------------------------------------------------------ dpkt


def run_dpkt(path: str, limit: int | None) -> dict[str, Any]:
    from socket import AF_INET, AF_INET6, inet_ntop

    import dpkt

    Ethernet, IP, IP6 = dpkt.ethernet.Ethernet, dpkt.ip.IP, dpkt.ip6.IP6
    TCP, UDP, ICMP, ICMP6 = dpkt.tcp.TCP, dpkt.udp.UDP, dpkt.icmp.ICMP, dpkt.icmp6.ICMP6
    parse_opts = dpkt.tcp.parse_opts
    unpack_h, unpack_ii = struct.Struct(">H").unpack, struct.Struct(">II").unpack
    rows: list[tuple[Any, ...]] = []
    errors = 0
    t0, c0 = time.perf_counter(), time.process_time()
    with open(path, "rb") as fh:
        head = fh.read(4)
        fh.seek(0)
        reader = dpkt.pcapng.Reader(fh) if head == b"\x0a\x0d\x0d\x0a" else dpkt.pcap.Reader(fh)
        for n, (ts, buf) in enumerate(reader):
            if limit is not None and n >= limit:
                break
            esrc = edst = etype = vlan = ipver = src = dst = proto = ttl = iplen = ipid = None
            df = mf = foff = flow = sport = dport = flags = seq = ack = win = thl = mss = ws = tsv = tse = None
            ulen = itype = icode = iid = iseq = None
            try:
                eth = Ethernet(buf)
                esrc, edst, etype = eth.src.hex(":"), eth.dst.hex(":"), eth.type
                tags = getattr(eth, "vlan_tags", None)
                if tags:
                    vlan = tags[0].id
                ip = eth.data
                l4 = None
                if isinstance(ip, IP):
                    ipver, src, dst = 4, inet_ntop(AF_INET, ip.src), inet_ntop(AF_INET, ip.dst)
                    proto, ttl, iplen, ipid = ip.p, ip.ttl, ip.len, ip.id
                    df, mf, foff = ip.df, ip.mf, ip.offset
                    l4 = ip.data
                elif isinstance(ip, IP6):
                    ipver, src, dst = 6, inet_ntop(AF_INET6, ip.src), inet_ntop(AF_INET6, ip.dst)
                    proto, ttl, iplen, flow = ip.p, ip.hlim, ip.plen + 40, ip.flow
                    l4 = ip.data
                if isinstance(l4, TCP):
                    sport, dport, flags, seq, ack, win = l4.sport, l4.dport, l4.flags, l4.seq, l4.ack, l4.win
                    thl = l4.off * 4
                    if l4.opts:
                        for kind, data in parse_opts(l4.opts):
                            if kind == 2 and len(data) == 2:
                                mss = unpack_h(data)[0]
                            elif kind == 3 and len(data) == 1:
                                ws = data[0]
                            elif kind == 8 and len(data) == 8:
                                tsv, tse = unpack_ii(data)
                elif isinstance(l4, UDP):
                    sport, dport, ulen = l4.sport, l4.dport, l4.ulen
                elif isinstance(l4, (ICMP, ICMP6)):
                    itype, icode = l4.type, l4.code
                    echo = l4.data
                    if hasattr(echo, "seq"):
                        iid, iseq = echo.id, echo.seq
            except (dpkt.dpkt.UnpackError, ValueError, struct.error, IndexError):
                errors += 1
            rows.append((ts, len(buf), esrc, edst, etype, vlan, ipver, src, dst, proto, ttl, iplen, ipid, df, mf,
                         foff, flow, sport, dport, flags, seq, ack, win, thl, mss, ws, tsv, tse, ulen, itype,
                         icode, iid, iseq))  # fmt: skip
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"tool": "dpkt", "packets": len(rows), "wall_s": wall, "cpu_s": cpu, "errors": errors,
            "subset": limit is not None}  # fmt: skip


# ------------------------------------------------------------------------------------------------ scapy


def run_scapy(path: str, limit: int | None) -> dict[str, Any]:
    from scapy.layers.inet import ICMP, IP, TCP, UDP
    from scapy.layers.inet6 import IPv6, _ICMPv6
    from scapy.layers.l2 import Dot1Q, Ether
    from scapy.utils import PcapReader

    rows: list[tuple[Any, ...]] = []
    t0, c0 = time.perf_counter(), time.process_time()
    with PcapReader(path) as reader:  # PcapReader picks pcap or pcapng from the magic
        for n, p in enumerate(reader):
            if limit is not None and n >= limit:
                break
            esrc = edst = etype = vlan = ipver = src = dst = proto = ttl = sport = dport = None
            flags = seq = ack = win = mss = ws = tsv = tse = ulen = itype = icode = None
            if Ether in p:
                e = p[Ether]
                esrc, edst, etype = e.src, e.dst, e.type
            if Dot1Q in p:
                vlan = p[Dot1Q].vlan
            if IP in p:
                ip = p[IP]
                ipver, src, dst, proto, ttl = 4, ip.src, ip.dst, ip.proto, ip.ttl
            elif IPv6 in p:
                ip6 = p[IPv6]
                ipver, src, dst, proto, ttl = 6, ip6.src, ip6.dst, ip6.nh, ip6.hlim
            if TCP in p:
                t = p[TCP]
                sport, dport, flags, seq, ack, win = t.sport, t.dport, int(t.flags), t.seq, t.ack, t.window
                for name, val in t.options:
                    if name == "MSS":
                        mss = val
                    elif name == "WScale":
                        ws = val
                    elif name == "Timestamp":
                        tsv, tse = val
            elif UDP in p:
                u = p[UDP]
                sport, dport, ulen = u.sport, u.dport, u.len
            elif ICMP in p:
                itype, icode = p[ICMP].type, p[ICMP].code
            elif _ICMPv6 in p:
                itype, icode = p[_ICMPv6].type, p[_ICMPv6].code
            rows.append((float(p.time), len(p), esrc, edst, etype, vlan, ipver, src, dst, proto, ttl, sport, dport,
                         flags, seq, ack, win, mss, ws, tsv, tse, ulen, itype, icode))  # fmt: skip
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"tool": "scapy", "packets": len(rows), "wall_s": wall, "cpu_s": cpu, "subset": limit is not None}


# ------------------------------------------------------------------------------------------------ profile


# (label, "module:attribute"); indented labels are parts of the stage above. Missing names are skipped, so the
# profile keeps working while the decoder's internals move.
STAGES = [
    ("read: file -> chunk buffer", "netqos.decode.readers:CaptureReader._refill"),
    ("framing: record headers", "netqos.decode.framing:frame_pcap"),
    ("framing: pcapng blocks", "netqos.decode.framing:frame_pcapng"),
    ("walk: header kernel", "netqos.decode.readers:walk"),
    ("build_batch: Arrow assembly", "netqos.decode.readers:build_batch"),
    ("  field gather program", "netqos.decode.columns:run_program"),
    ("  MAC text", "netqos.decode.columns:mac_text"),
    ("  IP text", "netqos.decode.columns:ip_text"),
    ("  ICMP echo id/seq", "netqos.decode.columns:_icmp_echo"),
    ("  derived columns", "netqos.decode.columns:_derived"),
    ("  SACK list column", "netqos.decode.columns:_sack_blocks"),
    ("  IPv6 ext-header text", "netqos.decode.columns:_ext_header_text"),
    ("  numpy -> Arrow int columns", "netqos.decode.columns:_int_array"),
]
# Timed only in the `netqos decode` (Parquet) pass of the profile.
EXPORT_STAGES = [
    ("export: add source_file column", "netqos.decode.export:with_source"),
    ("export: ParquetWriter.write_batch (zstd)", "pyarrow.parquet:ParquetWriter.write_batch"),
    ("export: ParquetWriter.close", "pyarrow.parquet:ParquetWriter.close"),
]


_ALL_TIMERS: dict[str, list[float]] = {}


def _install_timers(stages: list[tuple[str, str]] = STAGES) -> dict[str, list[float]]:
    import importlib

    acc: dict[str, list[float]] = {}
    for label, spec in stages:
        mod_name, attr = spec.split(":")
        try:
            owner: Any = importlib.import_module(mod_name)
        except ImportError:
            continue
        *path, name = attr.split(".")
        for part in path:
            owner = getattr(owner, part, None)
        fn = getattr(owner, name, None) if owner is not None else None
        if fn is None:
            continue
        cell = acc.setdefault(label, [0.0, 0.0, 0])  # wall s, CPU s of the calling thread, calls

        def timed(*args: Any, __fn: Any = fn, __cell: list[float] = cell, **kw: Any) -> Any:
            t, c = time.perf_counter(), time.thread_time()
            try:
                return __fn(*args, **kw)
            finally:
                __cell[0] += time.perf_counter() - t
                __cell[1] += time.thread_time() - c
                __cell[2] += 1

        setattr(owner, name, timed)
    _ALL_TIMERS.update(acc)
    return acc


def run_stages(path: str) -> tuple[list[tuple[str, float]], float]:
    """Best-of-3 (by CPU s) warm passes with timers around each stage; [(label, CPU seconds)], pass CPU s.

    CPU seconds (process_time) rather than wall: on a shared machine wall time includes waiting for a core.
    """
    acc = _install_timers()
    _netqos_pass(path)  # warm
    best: tuple[float, dict[str, float]] | None = None
    for _ in range(3):
        for cell in acc.values():
            cell[0], cell[1], cell[2] = 0.0, 0.0, 0
        _, _, _, cpu = _netqos_pass(path)
        if best is None or cpu < best[0]:
            best = (cpu, {k: v[1] for k, v in acc.items()})
    assert best is not None
    wall, times = best
    out: list[tuple[str, float]] = []
    top_sum = 0.0
    sub_sum = 0.0
    for label, _ in STAGES:
        if label not in times:
            continue
        if label.startswith("  "):
            sub_sum += times[label]
        else:
            top_sum += times[label]
        out.append((label, times[label]))
    if "build_batch: Arrow assembly" in times and sub_sum:
        out.append(
            ("  rest of build_batch (pa.array, RecordBatch, nulls...)", times["build_batch: Arrow assembly"] - sub_sum)
        )
    out.append(("other (reader loop, summary, generator)", wall - top_sum))
    return out, wall


def run_export_stages(path: str) -> dict[str, Any]:
    """Best of 3 (by process CPU) in-process decode_to_parquet() -- what `netqos decode` does minus start-up.

    Timers measure the CPU of the thread that calls them (time.thread_time), so a decoder running in a worker
    thread and the Parquet writer in the main thread are attributed separately. Must run after run_stages()
    (whose timers on the decode stages stay installed).
    """
    import tempfile
    from pathlib import Path

    from netqos.decode.export import decode_to_parquet

    acc = _install_timers(EXPORT_STAGES)
    decode_labels = [label for label, _ in STAGES if not label.startswith("  ")]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.parquet"
        decode_to_parquet([Path(path)], out)
        best: dict[str, Any] | None = None
        for _ in range(3):
            for cell in _ALL_TIMERS.values():
                cell[0], cell[1], cell[2] = 0.0, 0.0, 0
            c, t = time.process_time(), time.perf_counter()
            decode_to_parquet([Path(path)], out)
            cpu, wall = time.process_time() - c, time.perf_counter() - t
            if best is None or cpu < best["cpu_s"]:
                times = {k: v[1] for k, v in _ALL_TIMERS.items()}
                best = {"cpu_s": cpu, "wall_s": wall, "times": times}
    assert best is not None
    times = best["times"]
    stages = [(label, times[label]) for label, _ in EXPORT_STAGES if label in acc]
    stages.append(("decode stages (read+framing+walk+build_batch)", sum(times.get(k, 0.0) for k in decode_labels)))
    stages.append(("other (queue, threads, progress...)", best["cpu_s"] - sum(s for _, s in stages)))
    return {"stages": stages, "cpu_s": best["cpu_s"], "wall_s": best["wall_s"]}


def run_profile(path: str, top: int) -> dict[str, Any]:
    """Stage timers (own process) + cProfile of one warm pass: top functions by own (tottime) time."""
    import cProfile
    import pstats

    stages, stages_total = run_stages(path)
    export = run_export_stages(path)
    _netqos_pass(path)  # warm (JIT / numba cache, page cache)
    prof = cProfile.Profile()
    prof.enable()
    rows, batches, wall, cpu = _netqos_pass(path)
    prof.disable()
    st = pstats.Stats(prof)
    items = []
    for (fname, line, func), (_cc, nc, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        short = fname.split("/netqos/")[-1] if "/netqos/" in fname else fname.rsplit("/", 1)[-1]
        items.append({"func": f"{short}:{line}({func})", "calls": nc, "tottime": tt, "cumtime": ct})
    by_tot = sorted(items, key=lambda d: -d["tottime"])[:top]
    by_cum = sorted((i for i in items if "netqos" in i["func"] or "decode" in i["func"]), key=lambda d: -d["cumtime"])
    return {"tool": "profile", "packets": rows, "batches": batches, "wall_s": wall, "cpu_s": cpu,
            "stages": stages, "stages_total_s": stages_total,
            "export_stages": export["stages"], "export_total_s": export["cpu_s"], "export_wall_s": export["wall_s"],
            "top_tottime": by_tot, "top_cumtime_netqos": by_cum[:top]}  # fmt: skip


def run_startup(path: str) -> dict[str, Any]:
    """Fixed costs of a fresh process in CPU seconds: import time per layer, then the first decode of a tiny
    capture (Numba initialises LLVM and loads its on-disk cache, or compiles, on first call)."""
    steps: list[tuple[str, float]] = []
    t = time.process_time()
    for mod in ("numpy", "pyarrow", "pyarrow.parquet", "numba", "netqos.decode", "netqos.decode.export"):
        __import__(mod)
        now = time.process_time()
        steps.append((f"import {mod}", now - t))
        t = now
    pandas_loaded = "pandas" in sys.modules
    from netqos.decode import open_capture

    with open_capture(path) as r:
        rows = sum(b.num_rows for b in r.batches())
    now = time.process_time()
    steps.append((f"first decode of {rows:,} packets (LLVM init, Numba cache load, lazy imports)", now - t))
    t = now
    with open_capture(path) as r:
        rows = sum(b.num_rows for b in r.batches())
    steps.append((f"second decode of {rows:,} packets (warm)", time.process_time() - t))
    pandas_loaded = "at import" if pandas_loaded else ("during first decode" if "pandas" in sys.modules else "no")
    return {"tool": "startup", "steps": steps, "pandas_imported": pandas_loaded,
            "total_s": sum(s for _, s in steps[:-1])}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("tool", choices=["netqos", "dpkt", "scapy", "profile", "startup"])
    ap.add_argument("file")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--chunk-bytes", type=int, default=None, help="netqos/profile: open_capture chunk size")
    a = ap.parse_args(argv)
    global CHUNK_BYTES
    CHUNK_BYTES = a.chunk_bytes
    la0 = os.getloadavg()
    if a.tool == "netqos":
        d = run_netqos(a.file, a.repeat)
    elif a.tool == "dpkt":
        d = run_dpkt(a.file, a.limit)
    elif a.tool == "scapy":
        d = run_scapy(a.file, a.limit)
    elif a.tool == "startup":
        d = run_startup(a.file)
    else:
        d = run_profile(a.file, a.top)
    d["loadavg_start"] = la0
    _emit(d)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
