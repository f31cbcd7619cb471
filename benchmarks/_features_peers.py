"""Worker for benchmarks/features.py: runs ONE measurement in its own process and prints one JSON line.

    python benchmarks/_features_peers.py netqos FILE [--repeat 3]   # decode + featurize, warm-up + best of N
    python benchmarks/_features_peers.py profile FILE               # CPU s by stage (timers), best of 3
    python benchmarks/_features_peers.py memory FILE                # RSS before/after decode, peak of featurize
    python benchmarks/_features_peers.py nfstream FILE [--meters 1] # NFStreamer iteration (statistical features)
    python benchmarks/_features_peers.py concurrent-capture --flows N -o FILE   # write the --memory capture

netqos "features" = `netqos.features.featurize(packets, FeatureConfig())` when that module is importable, else
`netqos.analysis.tcp.analyze()` + `netqos.flows.build_flows()` (the same work minus the QoS windows); the JSON
says which (`api`). Timings exclude interpreter start-up and imports. CPU seconds are time.process_time() (all
threads of the process), so packets / CPU-second is a per-core rate.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

# ------------------------------------------------------------------------------------------------ helpers


def _status_kb(*keys: str) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                k = line.split(":", 1)[0]
                if k in keys:
                    out[k] = int(line.split()[1])
    except OSError:
        pass
    return out


def rss_mb() -> float:
    return _status_kb("VmRSS").get("VmRSS", 0) / 1024.0


def hwm_mb() -> float:
    """Peak RSS of this process's own address space (VmHWM; ru_maxrss would carry the parent's pre-exec peak)."""
    kb = _status_kb("VmHWM").get("VmHWM")
    return kb / 1024.0 if kb else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def reset_hwm() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _emit(d: dict[str, Any]) -> None:
    d["maxrss_mb"] = round(hwm_mb(), 1)
    d["loadavg_end"] = os.getloadavg()
    print(json.dumps(d, default=str), flush=True)


# ------------------------------------------------------------------------------------------------ netqos


def load_api() -> tuple[str, Callable[[Any], dict[str, Any]]]:
    """('featurize' | 'analyze+build_flows', fn(packets) -> {'packets': rows, 'flows': rows, 'windows': rows})."""
    # Functions are looked up on their module at call time, so the profile's timers (installed later) see them.
    try:
        import netqos.features as feat_mod
        from netqos.features import FeatureConfig, featurize  # noqa: F401  (import check)

        cfg = FeatureConfig()

        def run_featurize(packets: Any) -> dict[str, Any]:
            f = feat_mod.featurize(packets, cfg)
            out = {"flows": f.flows.num_rows, "packet_rows": f.packets.num_rows}
            win = getattr(f, "windows", None)
            out["windows"] = win.num_rows if win is not None else None
            out["nbytes"] = {"packets": f.packets.nbytes, "flows": f.flows.nbytes,
                             "windows": win.nbytes if win is not None else 0}  # fmt: skip
            return out

        return "featurize", run_featurize
    except ImportError as exc:
        print(f"netqos.features not importable ({exc}); using analyze() + build_flows()", file=sys.stderr)
    import netqos.analysis.tcp as tcp_mod
    import netqos.flows.build as flows_mod
    from netqos.flows import FlowConfig

    fcfg = FlowConfig()

    def run_fallback(packets: Any) -> dict[str, Any]:
        an = tcp_mod.analyze(packets, vlan_aware=fcfg.vlan_aware, bytes_in_flight=False)
        fl = flows_mod.build_flows(packets, an, fcfg)
        return {"flows": fl.num_rows, "packet_rows": an.num_rows, "windows": None,
                "nbytes": {"packets": an.nbytes, "flows": fl.nbytes, "windows": 0}}  # fmt: skip

    return "analyze+build_flows", run_fallback


def decode(path: str) -> Any:
    from netqos.decode import decode_file

    return decode_file(path)


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - t0, time.process_time() - c0


def one_pass(path: str, features: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    packets, dw, dc = _timed(decode, path)
    info, fw, fc = _timed(features, packets)
    return {"packets": packets.num_rows, "decode_wall_s": dw, "decode_cpu_s": dc, "features_wall_s": fw,
            "features_cpu_s": fc, **info}  # fmt: skip


def run_netqos(path: str, repeat: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    api, features = load_api()
    import netqos.decode  # noqa: F401

    import_s = time.perf_counter() - t0
    warm = one_pass(path, features)  # JIT compile / Numba cache load happens here
    runs = [one_pass(path, features) for _ in range(repeat)]
    assert all(r["packets"] == warm["packets"] and r["flows"] == warm["flows"] for r in runs), "counts changed"
    return {"tool": "netqos", "api": api, "import_s": import_s, "warmup": warm, "runs": runs}


# ------------------------------------------------------------------------------------------------ stage profile

# (label, "module:attr"); every reference to the same object in any netqos.* module is wrapped too, so names
# imported with `from x import f` are caught. Missing names are skipped. Numba dispatchers are wrapped only when
# listed here (a jitted caller resolves its callees at compile time, and these are only called from Python).
STAGES = [
    ("decode_file", "netqos.decode.readers:decode_file"),
    ("analysis: analyze() own code (column prep, sack, ordering)", "netqos.analysis.tcp:analyze"),
    ("address codes (dictionary encode ip_src/ip_dst)", "netqos.analysis.columns:codes"),
    ("address codes + dictionary", "netqos.analysis.columns:codes_with_dictionary"),
    ("group_conversations (hash table)", "netqos.analysis._grouping:group_conversations"),
    ("TCP analysis kernel", "netqos.analysis._tcp_kernel:analyze_kernel"),
    ("analysis Arrow assembly (_build)", "netqos.analysis.tcp:_build"),
    ("flows: build_flows() own code (columns, masks, gathers)", "netqos.flows.build:build_flows"),
    ("flows: assign_flows() own code (flags, masks, sort order)", "netqos.flows.build:assign_flows"),
    ("flow stats: flows_table() own code (per-row arrays, gathers)", "netqos.flows.build:flows_table"),
    ("flow keys (row_keys)", "netqos.flows.keys:row_keys"),
    ("split_flows kernel (timeouts, FIN/RST)", "netqos.flows._kernel:split_flows"),
    ("flow_stats kernel", "netqos.flows._kernel:flow_stats"),
    ("flow ids (_flow_ids)", "netqos.flows.build:_flow_ids"),
    ("flows Arrow assembly (_assemble)", "netqos.flows.build:_assemble"),
    ("np.lexsort", "numpy:lexsort"),
    ("np.argsort", "numpy:argsort"),
    ("np.unique", "numpy:unique"),
    ("np.bincount", "numpy:bincount"),
]


class StageTimers:
    """Exclusive CPU time per call path: a wrapped function's time minus the time of wrapped callees."""

    def __init__(self) -> None:
        self.acc: dict[str, list[float]] = {}  # path -> [exclusive CPU s, calls]
        self.order: list[str] = []
        self._local = threading.local()

    def reset(self) -> None:
        for cell in self.acc.values():
            cell[0], cell[1] = 0.0, 0

    def wrap(self, label: str, fn: Any) -> Any:
        timers = self

        def timed(*args: Any, **kw: Any) -> Any:
            stack = timers._local.__dict__.setdefault("stack", [])
            path = " > ".join([*(f[0] for f in stack), label])
            frame: list[Any] = [label, 0.0]  # label, CPU s spent in wrapped callees
            stack.append(frame)
            c = time.process_time()
            try:
                return fn(*args, **kw)
            finally:
                spent = time.process_time() - c
                stack.pop()
                if stack:
                    stack[-1][1] += spent
                cell = timers.acc.get(path)
                if cell is None:
                    cell = timers.acc[path] = [0.0, 0]
                    timers.order.append(path)
                cell[0] += spent - float(frame[1])
                cell[1] += 1

        timed.__wrapped__ = fn  # type: ignore[attr-defined]
        return timed

    def install(self, stages: list[tuple[str, str]]) -> list[str]:
        import importlib

        targets: list[tuple[str, Any]] = []
        for label, spec in stages:
            mod_name, attr = spec.split(":")
            try:
                mod = importlib.import_module(mod_name)
            except ImportError:
                continue
            fn = getattr(mod, attr, None)
            if fn is not None:
                targets.append((label, fn))
        # Every plain Python function defined in netqos.features.* (names unknown in advance).
        for name, mod in list(sys.modules.items()):
            if name.startswith("netqos.features") and mod is not None:
                for attr, fn in vars(mod).items():
                    if isinstance(fn, types.FunctionType) and fn.__module__ == name and not attr.startswith("__"):
                        targets.append((f"features: {name.removeprefix('netqos.')}.{attr}", fn))
        installed = []
        seen: set[int] = set()
        for label, fn in targets:
            if id(fn) in seen:
                continue
            seen.add(id(fn))
            wrapper = self.wrap(label, fn)
            for mname, mod in list(sys.modules.items()):
                if mod is None or not (mname.startswith("netqos") or mname == "numpy"):
                    continue
                for attr, val in list(vars(mod).items()):
                    if val is fn:
                        setattr(mod, attr, wrapper)
            installed.append(label)
        return installed


def run_profile(path: str, repeat: int) -> dict[str, Any]:
    api, features = load_api()
    import netqos.decode  # noqa: F401

    timers = StageTimers()
    installed = timers.install(STAGES)
    one_pass(path, features)  # warm
    best: dict[str, Any] | None = None
    for _ in range(repeat):
        timers.reset()
        r = one_pass(path, features)
        if best is None or r["features_cpu_s"] < best["features_cpu_s"]:
            best = {**r, "stages": [(p, timers.acc[p][0], int(timers.acc[p][1])) for p in timers.order]}
    assert best is not None
    return {"tool": "profile", "api": api, "installed": installed, "repeat": repeat, **best}


# ------------------------------------------------------------------------------------------------ memory


def run_memory(path: str) -> dict[str, Any]:
    """RSS after imports, after decode (packets held), and the peak while featurize runs (VmHWM reset first)."""
    api, features = load_api()
    import netqos.decode  # noqa: F401

    # Load the Numba cache / compile on a tiny input first so that JIT memory is in the baseline.
    tiny = os.environ.get("FEATBENCH_TINY")
    if tiny:
        features(decode(tiny))
    import pyarrow as pa

    rss_import = rss_mb()
    packets, dw, dc = _timed(decode, path)
    rss_decoded = rss_mb()
    arrow_decoded = pa.total_allocated_bytes()
    hwm_decode = hwm_mb()
    can_reset = reset_hwm()
    info, fw, fc = _timed(features, packets)
    peak = hwm_mb()
    arrow_after = pa.total_allocated_bytes()
    return {"arrow_pool_after_decode_mb": arrow_decoded / 2**20, "arrow_pool_after_features_mb": arrow_after / 2**20,
            "arrow_backend": pa.default_memory_pool().backend_name,
            "arrow_pool_peak_mb": pa.default_memory_pool().max_memory() / 2**20,
            "tool": "memory", "api": api, "packets": packets.num_rows, "packets_nbytes": packets.nbytes,
            "packets_buffers_bytes": packets.get_total_buffer_size(),
            "rss_after_import_mb": rss_import, "rss_after_decode_mb": rss_decoded, "hwm_during_decode_mb": hwm_decode,
            "hwm_reset": can_reset, "features_peak_mb": peak, "rss_after_features_mb": rss_mb(),
            "decode_wall_s": dw, "decode_cpu_s": dc, "features_wall_s": fw, "features_cpu_s": fc,
            **info}  # fmt: skip


# ------------------------------------------------------------------------------------------------ NFStream


NFSTREAM_KW: dict[str, Any] = {
    "decode_tunnels": False,
    "idle_timeout": 120,
    "active_timeout": 1800,
    "accounting_mode": 1,  # IP bytes, as netqos counts them
    "statistical_analysis": True,
    "splt_analysis": 0,
    "n_dissections": 0,
}


def run_nfstream(path: str, meters: int) -> dict[str, Any]:
    import nfstream  # type: ignore[import-untyped]

    kw = {**NFSTREAM_KW, "n_meters": meters}
    streamer = nfstream.NFStreamer(source=path, **kw)
    t0, c0 = time.perf_counter(), time.process_time()
    ch0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    flows = pkts = 0
    for flow in streamer:
        flows += 1
        pkts += flow.bidirectional_packets
    wall, cpu_self = time.perf_counter() - t0, time.process_time() - c0
    ch1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_children = (ch1.ru_utime + ch1.ru_stime) - (ch0.ru_utime + ch0.ru_stime)
    return {"tool": "nfstream", "version": nfstream.__version__, "flows": flows, "flow_packets": pkts,
            "wall_s": wall, "cpu_self_s": cpu_self, "cpu_children_s": cpu_children,
            "children_maxrss_mb": ch1.ru_maxrss / 1024.0,
            "kwargs": {k: v for k, v in kw.items()}}  # fmt: skip


# ------------------------------------------------------------------------------------------------ capture


CONC_VERSION = 1


def write_concurrent_capture(flows: int, out: Path, seed: int = 1) -> dict[str, Any]:
    """A pcap where `flows` distinct IPv4 5-tuples (half TCP SYN/SYN-ACK/ACK, half UDP) are all open at once.

    Round r holds packet r of every flow that has one (2 or 3 packets per flow), flows shuffled within a round,
    so the first packet of every flow comes before the second packet of any flow. Timestamps increase evenly
    over 90 s (< the 120 s idle timeout), so no flow ends before the capture does. Every frame is 54 bytes
    (UDP carries 12 payload bytes); the IPv4 header checksum is correct, L4 checksums are 0 (none checked).
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    n_pk = rng.integers(2, 4, flows)  # 2 or 3 packets per flow
    is_tcp = rng.random(flows) < 0.5
    rounds = [rng.permutation(flows)]
    rounds.append(rng.permutation(flows))
    rounds.append(rng.permutation(np.flatnonzero(n_pk == 3)))
    fl = np.concatenate(rounds)
    rank = np.concatenate([np.full(len(r), i, np.int64) for i, r in enumerate(rounds)])
    n = fl.shape[0]
    rec = np.dtype(
        [("ts_sec", "<u4"), ("ts_usec", "<u4"), ("caplen", "<u4"), ("wirelen", "<u4"),
         ("eth_dst", "u1", 6), ("eth_src", "u1", 6), ("eth_type", ">u2"),
         ("ip_vhl", "u1"), ("ip_tos", "u1"), ("ip_len", ">u2"), ("ip_id", ">u2"), ("ip_frag", ">u2"),
         ("ip_ttl", "u1"), ("ip_proto", "u1"), ("ip_csum", ">u2"), ("ip_src", ">u4"), ("ip_dst", ">u4"),
         ("sport", ">u2"), ("dport", ">u2"), ("seq", ">u4"), ("ack", ">u4"), ("off", "u1"), ("flags", "u1"),
         ("win", ">u2"), ("csum", ">u2"), ("urg", ">u2")]
    )  # fmt: skip
    assert rec.itemsize == 70
    a = np.zeros(n, rec)
    usec = (np.arange(n, dtype=np.int64) * 90_000_000) // n
    a["ts_sec"] = 1_700_000_000 + usec // 1_000_000
    a["ts_usec"] = usec % 1_000_000
    a["caplen"] = a["wirelen"] = 54
    fwd = rank != 1  # packets 0 and 2: client -> server
    client = (0x0A000000 + (fl >> 4)).astype(np.uint32)  # 10.0.0.0/8, 16 flows per client address
    server = (0xC6120000 + (fl % 4093)).astype(np.uint32)  # 198.18.0.0/15 (benchmarking range)
    cport = (20000 + (fl & 15) * 2000 + (fl >> 4) % 2000).astype(np.uint16)
    tcp = is_tcp[fl]
    sport_srv = np.where(tcp, 443, 40000).astype(np.uint16)
    cmac = np.zeros((n, 6), np.uint8)
    cmac[:, 0] = 0x02
    cmac[:, 2:] = client.view(np.uint8).reshape(n, 4)[:, ::-1]
    gw = np.array([0x02, 0, 0, 0, 0, 1], np.uint8)
    a["eth_src"] = np.where(fwd[:, None], cmac, gw)
    a["eth_dst"] = np.where(fwd[:, None], gw, cmac)
    a["eth_type"] = 0x0800
    a["ip_vhl"] = 0x45
    a["ip_len"] = 40
    a["ip_id"] = (fl * 3 + rank) & 0xFFFF
    a["ip_frag"] = 0x4000
    a["ip_ttl"] = np.where(fwd, 64, 57)
    a["ip_proto"] = np.where(tcp, 6, 17)
    a["ip_src"] = np.where(fwd, client, server)
    a["ip_dst"] = np.where(fwd, server, client)
    a["sport"] = np.where(fwd, cport, sport_srv)
    a["dport"] = np.where(fwd, sport_srv, cport)
    # TCP: SYN (seq=isn), SYN-ACK (seq=isn_s, ack=isn+1), ACK (seq=isn+1, ack=isn_s+1).
    isn_c = (fl * 2654435761) & 0xFFFFFFFF
    isn_s = (fl * 40503 + 12345) & 0xFFFFFFFF
    seq = np.select([rank == 0, rank == 1], [isn_c, isn_s], (isn_c + 1) & 0xFFFFFFFF)
    ack = np.select([rank == 0, rank == 1], [0, (isn_c + 1) & 0xFFFFFFFF], (isn_s + 1) & 0xFFFFFFFF)
    # UDP occupies the same 20 bytes: length 20 and checksum 0 are the high/low halves of "seq"; 12 zero bytes.
    a["seq"] = np.where(tcp, seq, 20 << 16)
    a["ack"] = np.where(tcp, ack, 0)
    a["off"] = np.where(tcp, 0x50, 0)
    a["flags"] = np.where(tcp, np.select([rank == 0, rank == 1], [0x02, 0x12], 0x10), 0)
    a["win"] = np.where(tcp, 64240, 0)
    # IPv4 header checksum over the 10 big-endian 16-bit words of bytes 18..38 of each record.
    hdr = a.view(np.uint8).reshape(n, 70)[:, 30:50]
    words = hdr.reshape(n, 10, 2).astype(np.uint32)
    s = ((words[:, :, 0] << 8) | words[:, :, 1]).sum(axis=1)
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    a["ip_csum"] = (~s) & 0xFFFF
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    import struct

    with open(tmp, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        fh.write(a.tobytes())
    tmp.replace(out)
    return {"tool": "concurrent-capture", "flows": flows, "packets": n, "tcp_flows": int(is_tcp.sum()),
            "bytes": out.stat().st_size}  # fmt: skip


# ------------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("tool", choices=["netqos", "profile", "memory", "nfstream", "concurrent-capture"])
    ap.add_argument("file", nargs="?")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--meters", type=int, default=1)
    ap.add_argument("--flows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--output", type=Path)
    a = ap.parse_args(argv)
    la0 = os.getloadavg()
    if a.tool == "concurrent-capture":
        d = write_concurrent_capture(a.flows, a.output, a.seed)
    elif a.tool == "netqos":
        d = run_netqos(a.file, a.repeat)
    elif a.tool == "profile":
        d = run_profile(a.file, a.repeat)
    elif a.tool == "memory":
        d = run_memory(a.file)
    else:
        d = run_nfstream(a.file, a.meters)
    d["loadavg_start"] = la0
    _emit(d)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
