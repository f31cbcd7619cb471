"""`netqos lab run`: the traffic lab (namespaces, traffic mix, scheduled impairments, capture, labels.json)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    from netqos.lab.scenarios import SCENARIOS

    p = sub.add_parser("lab", help="labelled traffic lab in network namespaces (docs/lab.md)")
    lab_sub = p.add_subparsers(dest="lab_command", required=True)
    r = lab_sub.add_parser("run", help="run one scenario: capture on the router, impairments on a seeded schedule")
    r.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    r.add_argument("--duration", type=float, required=True, help="seconds of traffic")
    r.add_argument("--seed", type=int, default=0, help="schedule times, magnitudes and traffic timings")
    r.add_argument("--out", type=Path, required=True, help="output directory (captures/, labels.json, run.json)")
    r.add_argument("--slot-seconds", type=float, dest="slot_s", metavar="S",
                   help="one impairment per slot of about S seconds (span 50-85%% of it, normal traffic between); "
                   "default: one scenario cycle per 60 s, short spans")  # fmt: skip
    r.add_argument("--prefix", help="namespace/device prefix, max 10 letters/digits (default nql<pid>)")
    r.add_argument("--rotate-seconds", type=int, default=30, help="new capture file every N seconds")
    r.add_argument("--backend", choices=["dumpcap", "tcpdump"], default="dumpcap", help="capture backend")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.set_defaults(run=run)
    ls = lab_sub.add_parser("scenarios", help="list the scenarios")
    ls.set_defaults(run=list_scenarios)


def list_scenarios(args: argparse.Namespace) -> int:
    from netqos.lab.scenarios import SCENARIOS

    for s in SCENARIOS.values():
        print(f"{s.name:<11} {', '.join(s.kinds) or '-':<60} {s.description}")
    return 0


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from netqos.capture.backends import CaptureError
    from netqos.lab.runner import LabConfig, LabError, run_lab

    if os.geteuid() != 0:
        print("netqos lab run: needs root (network namespaces, tc, capture)", file=sys.stderr)
        return 2
    cfg = LabConfig(args.scenario, args.duration, args.seed, args.out, rotate_seconds=args.rotate_seconds,
                    backend=args.backend, slot_s=args.slot_s)  # fmt: skip
    if args.prefix:
        cfg.prefix = args.prefix
    try:
        if args.no_progress or not sys.stderr.isatty():
            result = run_lab(cfg)
        else:
            result = _with_progress(cfg)
    except (LabError, CaptureError, ValueError) as exc:  # actionable messages, no traceback
        print(f"netqos lab run: {exc}", file=sys.stderr)
        return 1
    kinds = ", ".join(label["kind"] for label in result.labels) or "none"
    print(f"{len(result.captures)} capture files, impairments: {kinds}; labels in {args.out / 'labels.json'}")
    return 0


def _with_progress(cfg: Any) -> Any:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from netqos.lab.runner import run_lab

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[status]}"), transient=True) as bar:  # fmt: skip
        task = bar.add_task(f"lab {cfg.scenario} seed {cfg.seed}", total=cfg.duration_s, status="starting")
        return run_lab(cfg, on_progress=lambda t, status: bar.update(task, completed=t, status=status))
