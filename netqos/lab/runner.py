"""One lab run: topology up, capture on, traffic on, impairments on schedule, then everything down again.

    result = run_lab(LabConfig("mixed", 40.0, 1, Path("out")), on_progress=print_status)

Writes <out>/captures/ready/*.pcapng (the capture agent's spool), <out>/labels.json, <out>/run.json and
<out>/logs/<role>.log. Cleanup (impairments, traffic processes, capture, namespaces) runs on normal exit, on
exceptions, on Ctrl-C and on SIGTERM (turned into KeyboardInterrupt while the run is going; ignored while the
cleanup itself runs, so a second Ctrl-C cannot leave namespaces behind).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from netqos.lab.capture import LabCapture
from netqos.lab.impair import Impairer, affected
from netqos.lab.scenarios import get_scenario
from netqos.lab.schedule import Span, make_schedule
from netqos.lab.topology import Topology

log = logging.getLogger("netqos.lab")
REGISTRY = Path("/run/netqos-lab")  # <prefix>.pid per live run: lets a later run clean up after a killed one
LABELS_VERSION = 1


class LabError(RuntimeError):
    pass


@dataclass
class LabConfig:
    scenario: str
    duration_s: float
    seed: int
    out_dir: Path
    prefix: str = field(default_factory=lambda: f"nql{os.getpid() % 100000}")
    rotate_seconds: int = 30
    backend: str = "dumpcap"
    slot_s: float | None = None  # impairment slot length (schedule.make_schedule); None = the scenario's cycle


@dataclass
class LabResult:
    captures: list[Path]
    labels: list[dict[str, Any]]
    run: dict[str, Any]


def stamp(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def sweep_stale_runs() -> list[str]:
    """Tear down the namespaces of runs whose process is gone (SIGKILL, power loss); returns their prefixes."""
    swept = []
    for pid_file in REGISTRY.glob("*.pid") if REGISTRY.is_dir() else []:
        with contextlib.suppress(OSError, ValueError):
            if not Path(f"/proc/{int(pid_file.read_text())}").exists():
                Topology(pid_file.stem).close()
                pid_file.unlink()
                swept.append(pid_file.stem)
    return swept


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C inside the block (so `finally` cleanups run); only in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _uninterruptible() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _Traffic:
    """The three traffic processes; each prints "ready" once bound, and its stderr goes to logs/<role>.log."""

    def __init__(self, topo: Topology, log_dir: Path) -> None:
        self.topo, self.log_dir = topo, log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, role: str, args: list[str]) -> None:
        argv = [sys.executable, "-m", "netqos.lab.traffic", *args]
        with open(self.log_dir / f"{name}.log", "wb") as err:
            proc = self.topo.popen(role, argv, stdout=subprocess.PIPE, stderr=err)
        self.procs[name] = proc
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 15.0)
        if not ready or proc.stdout.readline().strip() != b"ready":
            raise LabError(f"traffic {name} did not start: {self.tail(name)}")

    def check(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise LabError(f"traffic {name} exited with {proc.returncode}: {self.tail(name)}")

    def tail(self, name: str) -> str:
        with contextlib.suppress(OSError):
            return (self.log_dir / f"{name}.log").read_text(errors="replace")[-1500:]
        return ""

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(5.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def run_lab(cfg: LabConfig, on_progress: Callable[[float, str], None] | None = None) -> LabResult:
    scenario = get_scenario(cfg.scenario)
    spans = make_schedule(scenario, cfg.duration_s, cfg.seed, cfg.slot_s)
    out = cfg.out_dir
    for sub in ("logs", ".control"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    REGISTRY.mkdir(parents=True, exist_ok=True)
    for prefix in sweep_stale_runs():
        log.warning("removed namespaces left by a killed lab run (prefix %s)", prefix)
    registry_file = REGISTRY / f"{cfg.prefix}.pid"
    registry_file.write_text(str(os.getpid()))

    topo = Topology(cfg.prefix)
    labels: list[dict[str, Any]] = []
    captures: list[Path] = []
    started_ns = time.time_ns()
    ended_ns = 0
    outcome = "failed"
    capture: LabCapture | None = None
    traffic: _Traffic | None = None
    impairer: Impairer | None = None
    active: list[Span] = []
    pending: dict[int, dict[str, Any]] = {}  # labels of the active spans, completed when they end
    try:
        with _interruptible():
            topo.__enter__()
            a = topo.addr
            capture = LabCapture(topo.ns["router"], topo.dev_router_s, out / "captures", f"lab-{cfg.scenario}",
                                 rotate_seconds=cfg.rotate_seconds, backend=cfg.backend)  # fmt: skip
            capture.start()
            impairer = Impairer(topo, out / ".control")
            t = scenario.traffic
            common = ["--seed", str(cfg.seed), "--duration", str(cfg.duration_s + 30)]  # the runner stops them
            traffic = _Traffic(topo, out / "logs")
            traffic.start("server", "server", ["server", *common, "--control", str(impairer.server_control)])
            traffic.start("relay", "router", ["relay", *common, "--control", str(impairer.relay_control),
                                              "--listen", a.router_client_side, "--source", a.router_server_side,
                                              "--server", a.server])  # fmt: skip
            traffic.start("client", "client", [
                "client", *common, "--server", a.server, "--relay", a.router_client_side,
                "--bulk-min-mb", str(t.bulk_mb[0]), "--bulk-max-mb", str(t.bulk_mb[1]),
                "--bulk-every", str(t.bulk_every_s), "--rr-think", str(t.rr_think_s),
                "--rr-min", str(t.rr_requests[0]), "--rr-max", str(t.rr_requests[1]),
                "--dns-every", str(t.dns_every_s), "--rtp-pps", str(t.rtp_pps), "--rtp-payload", str(t.rtp_payload),
            ])  # fmt: skip
            started_ns = time.time_ns()
            t0 = time.monotonic()
            events = sorted([(s.start_s, 1, s) for s in spans] + [(s.end_s, 0, s) for s in spans],
                            key=lambda e: (e[0], e[1]))  # fmt: skip
            while True:
                now = time.monotonic() - t0
                while events and events[0][0] <= now:
                    _, is_start, span = events.pop(0)
                    at_ns = time.time_ns()
                    if is_start:
                        impairer.apply(span)
                        active.append(span)
                        pending[id(span)] = _label(span, topo, at_ns, started_ns)
                    else:
                        impairer.revert(span)
                        active.remove(span)
                        labels.append(_end_label(pending.pop(id(span)), at_ns, started_ns))
                if now >= cfg.duration_s:
                    break
                traffic.check()
                if on_progress is not None:
                    on_progress(now, ", ".join(s.kind for s in active) or "normal")
                time.sleep(min(0.2, max(0.0, (events[0][0] if events else cfg.duration_s) - now)) or 0.01)
            ended_ns = time.time_ns()
            outcome = "completed"
    except KeyboardInterrupt:
        outcome = "interrupted"
        raise
    finally:
        with _uninterruptible():
            for span in active:  # a run cut short: links back up before the capture closes its last file
                with contextlib.suppress(Exception):
                    if impairer is not None:
                        impairer.revert(span)
                label = pending.pop(id(span), None)  # None: interrupted between apply and bookkeeping
                if label is not None:  # the span really ended here; its label says so
                    labels.append(_end_label(label, time.time_ns(), started_ns, interrupted=True))
            ended_ns = ended_ns or time.time_ns()  # after the reverts: every label ends inside the run
            if traffic is not None:
                traffic.stop()
            if capture is not None:
                try:
                    captures = capture.stop()
                except Exception as exc:
                    log.error("%s", exc)
                    captures = capture.files()
            topo.close()
            registry_file.unlink(missing_ok=True)
            shutil.rmtree(out / ".control", ignore_errors=True)
            run = _run_record(cfg, topo, spans, started_ns, ended_ns, captures, outcome)
            _write_json(out / "labels.json", {"version": LABELS_VERSION, "scenario": cfg.scenario, "seed": cfg.seed,
                                              "run_start": stamp(started_ns), "run_start_ns": started_ns,
                                              "run_end": stamp(ended_ns), "run_end_ns": ended_ns,
                                              "impairments": labels})  # fmt: skip
            _write_json(out / "run.json", run)
    return LabResult(captures, labels, run)


def _label(span: Span, topo: Topology, at_ns: int, run_start_ns: int) -> dict[str, Any]:
    return {
        "kind": span.kind,
        "start": stamp(at_ns), "start_ns": at_ns, "start_offset_s": round((at_ns - run_start_ns) / 1e9, 3),
        "end": None, "end_ns": None, "end_offset_s": None,
        **affected(span, topo),
        "params": span.params,
        "planned": {"start_s": span.start_s, "end_s": span.end_s},
    }  # fmt: skip


def _end_label(label: dict[str, Any], at_ns: int, run_start_ns: int, *, interrupted: bool = False) -> dict[str, Any]:
    label.update(end=stamp(at_ns), end_ns=at_ns, end_offset_s=round((at_ns - run_start_ns) / 1e9, 3))
    if interrupted:
        label["interrupted"] = True
    return label


def _run_record(cfg: LabConfig, topo: Topology, spans: list[Span], start_ns: int, end_ns: int,
                captures: list[Path], outcome: str) -> dict[str, Any]:  # fmt: skip
    return {
        "scenario": cfg.scenario, "seed": cfg.seed, "duration_s": cfg.duration_s, "slot_s": cfg.slot_s,
        "outcome": outcome,
        "start": stamp(start_ns), "start_ns": start_ns, "end": stamp(end_ns), "end_ns": end_ns,
        "topology": topo.describe(),
        "capture": {"netns": topo.ns["router"], "interface": topo.dev_router_s, "backend": cfg.backend,
                    "rotate_seconds": cfg.rotate_seconds, "filter": "net 10.203.0.0/16"},
        "schedule": [{"kind": s.kind, "start_s": s.start_s, "end_s": s.end_s, "params": s.params} for s in spans],
        "files": {"captures": [str(p.relative_to(cfg.out_dir)) if p.is_relative_to(cfg.out_dir) else str(p)
                               for p in captures],
                  "labels": "labels.json", "logs": "logs/"},
        "argv": sys.argv,
    }  # fmt: skip


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)
