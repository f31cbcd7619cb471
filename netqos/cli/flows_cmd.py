"""`netqos flows FILE... -o OUT.parquet`: decode captures, run the TCP analysis and write bidirectional flows."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "flows",
        help="bidirectional flows (packets, bytes, timing, TCP flags/retransmissions/RTT, UDP jitter) to Parquet",
    )
    p.add_argument("files", nargs="+", type=Path, help="capture files (flows do not span files)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .parquet file")
    p.add_argument("--idle-timeout", type=float, default=120.0, help="seconds of silence that end a flow (120)")
    p.add_argument("--active-timeout", type=float, default=1800.0, help="seconds after which a flow is cut (1800)")
    p.add_argument("--no-tcp-close", action="store_true", help="do not end TCP flows at RST / both FINs")
    p.add_argument("--ignore-vlan", action="store_true", help="VLAN ids are not part of the flow key")
    p.add_argument("--sensor", default="local", help="sensor_id of the flows (default: local)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:

    from netqos.analysis.tcp import analyze
    from netqos.decode.export import decode_each, parquet_output, with_source_column
    from netqos.decode.schema import SOURCE_FILE_FIELD
    from netqos.flows import FLOW_SCHEMA, FlowConfig, build_flows

    try:
        cfg = FlowConfig(
            idle_timeout=args.idle_timeout,
            active_timeout=args.active_timeout,
            tcp_close=not args.no_tcp_close,
            vlan_aware=not args.ignore_vlan,
            sensor_id=args.sensor,
        )
    except (TypeError, ValueError) as exc:
        print(f"netqos flows: {exc}", file=sys.stderr)
        return 2
    schema = FLOW_SCHEMA.append(SOURCE_FILE_FIELD)
    failures: list[str] = []
    flows = packets = files_ok = 0
    with parquet_output(args.output, schema) as writer:
        for decoded in decode_each(args.files):
            path, table = decoded.path, decoded.table
            if table is None:
                failures.append(f"{path}: {decoded.error}")
                continue
            if decoded.error:
                failures.append(f"{path}: {decoded.error} (rows before it were used)")
            else:
                files_ok += 1
            if not table.num_rows:
                continue
            result = build_flows(table, analyze(table, vlan_aware=cfg.vlan_aware, bytes_in_flight=False), cfg)
            writer.write_table(with_source_column(result, path))
            flows += result.num_rows
            packets += table.num_rows
            print(f"{path}: {table.num_rows} packets -> {result.num_rows} flows", file=sys.stderr)
    for failure in failures:
        print(f"netqos flows: {failure}", file=sys.stderr)
    print(f"{flows} flows from {packets} packets, {files_ok}/{len(args.files)} files -> {args.output}", file=sys.stderr)
    return 1 if failures else 0
