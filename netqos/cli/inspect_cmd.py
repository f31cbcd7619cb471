"""`netqos inspect flow|anomaly|range`: from an anomaly, a flow or a time range to the packets behind it.

    netqos inspect flow -4211687722337411794
    netqos inspect anomaly --sensor edge-1 --window-start 2026-11-27T10:00:10Z --top-flows 3
    netqos inspect range --from 2026-11-27T10:00 --to 2026-11-27T10:05 --sensor edge-1 --host 10.0.0.5 --port 443

Finds the packets in the lake (Spark), fetches their captures from the landing zone (sha256-verified), cuts a
pcap of exactly those frames, prints tshark's dissection and a table of flows labelled by Wireshark's dissectors.
docs/inspect.md has worked examples.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from netqos.inspect.drilldown import Drilldown
    from netqos.inspect.lake import Selection, Target
    from netqos.settings import Settings

NS = 1_000_000_000


def instant_ns(text: str) -> int:
    """argparse type: an ISO time (UTC unless it has an offset), epoch seconds (`1084443430.5`) or epoch ns
    (an integer of 16+ digits, as the *_ns columns print) -> ns since the epoch."""
    text = text.strip()
    if re.fullmatch(r"\d{16,}", text):
        return int(text)
    if re.fullmatch(r"\d+(\.\d+)?", text):
        whole, _, frac = text.partition(".")
        return int(whole) * NS + int((frac + "0" * 9)[:9])
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a time: {text!r} (ISO 8601, epoch seconds or epoch ns)") from exc
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS + delta.microseconds * 1000


def register(sub: Any) -> None:
    p = sub.add_parser("inspect", help="from an anomaly, a flow or a time range to the packets behind it")
    kinds = p.add_subparsers(dest="inspect_target", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", type=Path, help="output pcap (a directory: default name inside; default: ./)")
    common.add_argument("--max-packets", type=int, default=2000, help="cut at most this many packets (default 2000)")
    common.add_argument("--top-flows", type=int, help="only the N flows with the most bytes / retransmissions")
    common.add_argument("--rank", choices=("bytes", "retransmissions"), default="bytes", help="for --top-flows")
    common.add_argument(
        "--verbose", dest="tree", action="store_true", help="print the full dissection tree (tshark -V)"
    )
    common.add_argument("--no-dissect", action="store_true", help="no per-packet output, only the flow table")
    common.add_argument("--warehouse", type=Path, help="warehouse dir (default: settings.lake.warehouse_dir)")

    f = kinds.add_parser("flow", parents=[common], help="the packets of one flow (flows.flow_id)")
    f.add_argument("flow_id", type=int)
    a = kinds.add_parser("anomaly", parents=[common], help="the packets of a sensor in an anomalies window")
    a.add_argument("--sensor", dest="target_sensor", required=True, help="anomalies.sensor_id")
    a.add_argument(
        "--window-start", type=instant_ns, required=True, help="anomalies.window_start (ISO) or window_start_ns"
    )
    a.add_argument("--window-s", type=int, help="window length (default: the anomalies row's)")
    r = kinds.add_parser("range", parents=[common], help="the packets in a time range")
    r.add_argument("--from", dest="start", type=instant_ns, required=True, help="start (inclusive)")
    r.add_argument("--to", dest="end", type=instant_ns, required=True, help="end (exclusive)")
    r.add_argument("--sensor", dest="target_sensor", help="only this sensor")
    r.add_argument("--host", action="append", default=[], help="packets from or to this address (repeatable)")
    r.add_argument("--port", type=int, action="append", default=[], help="from or to this TCP/UDP port (repeatable)")
    p.set_defaults(run=run)


def target_of(args: argparse.Namespace) -> Target:
    from netqos.inspect.lake import AnomalyTarget, FlowTarget, RangeTarget

    if args.inspect_target == "flow":
        return FlowTarget(args.flow_id)
    if args.inspect_target == "anomaly":
        return AnomalyTarget(args.target_sensor, args.window_start, args.window_s)
    return RangeTarget(args.start, args.end, args.target_sensor, tuple(args.host), tuple(args.port))


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _time(ns: int) -> str:
    return datetime.fromtimestamp(ns // NS, UTC).strftime("%Y-%m-%d %H:%M:%S") + f".{ns % NS:09d}"[:7] + "Z"


def print_summary(console: Console, drill: Drilldown) -> None:
    from rich.table import Table

    table = Table(title=f"{_n(len(drill.flows), 'flow')}, {_n(drill.frames, 'packet')}", title_justify="left")
    for name, justify in (("flow", "right"), ("sensor", "left"), ("endpoints", "left"), ("proto", "left"),
                          ("packets", "right"), ("bytes", "right"), ("retrans", "right"), ("app protocol", "left"),
                          ("tshark stream", "left")):  # fmt: skip
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for f in drill.flows:
        table.add_row(
            str(f.flow_id) if f.flow_id is not None else "-",
            f.sensor_id,
            f"{f.src} ⇄ {f.dst}",
            f.transport,
            str(f.packets),
            str(f.bytes),
            str(f.retransmissions),
            f.app_protocol,
            ", ".join(f.streams),
        )
    console.print(table)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from netqos.inspect.lake import SelectConfig, TargetNotFound, select
    from netqos.jobs.job_args import in_session, settings_from_args
    from netqos.settings import get_settings

    if args.max_packets < 1 or (args.top_flows is not None and args.top_flows < 1):
        print("inspect: --max-packets and --top-flows must be at least 1", file=sys.stderr)
        return 2
    settings = settings_from_args(args, get_settings())
    cfg = SelectConfig(max_packets=args.max_packets, top_flows=args.top_flows, rank=args.rank)
    target = target_of(args)
    try:
        selection, _ = in_session(settings, "netqos-inspect", lambda spark: select(spark, settings, target, cfg))
    except (TargetNotFound, ValueError) as exc:
        print(f"inspect: {exc}", file=sys.stderr)
        return 2
    return show(selection, settings, args, Console(width=160))


def show(selection: Selection, settings: Settings, args: argparse.Namespace, console: Console) -> int:
    """Everything after the lake: fetch, cut, the flow table, tshark's dissection (to sys.stdout), the pcap path."""
    from netqos.inspect.cut import CutError
    from netqos.inspect.dissect import TsharkError, print_dissection
    from netqos.inspect.drilldown import drill
    from netqos.inspect.fetch import CaptureUnavailable

    console.print(f"{selection.note}; searched {_time(selection.start_ns)} .. {_time(selection.end_ns)}")
    if not selection.packets:
        console.print("no packets in the lake match: nothing to cut")
        return 1
    if selection.truncated:
        console.print(
            f"[yellow]truncated: the first {len(selection.packets)} of {selection.total} packets (--max-packets "
            f"{args.max_packets}); narrow with --top-flows/--host/--port or raise --max-packets[/yellow]"
        )
    try:
        result = drill(selection, settings, args.out)
        print_summary(console, result)
        if not args.no_dissect:
            console.file.flush()
            print_dissection(result.pcap, console.file, verbose=args.tree)
    except CaptureUnavailable as exc:
        print(f"inspect: {exc}", file=sys.stderr)
        return 3
    except (CutError, TsharkError) as exc:
        print(f"inspect: {exc}", file=sys.stderr)
        return 4
    console.print(f"wrote {result.pcap} ({_n(result.frames, 'packet')} from {_n(len(result.captures), 'capture')})")
    return 0
