"""`netqos flows FILE... -o OUT.parquet`: decode captures and write bidirectional flows (and QoS windows).

The same netqos.features.featurize() the Spark jobs run: TCP analysis, flows, windows, plugins.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "flows",
        help="bidirectional flows (packets, bytes, timing, TCP flags/retransmissions/RTT, UDP jitter) to Parquet",
    )
    p.add_argument("files", nargs="+", type=Path, help="capture files")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .parquet file")
    p.add_argument("--windows", type=Path, help="also write the QoS windows (10 s and 60 s) to this .parquet file")
    p.add_argument(
        "--stitch",
        action="store_true",
        help="the files are one sensor's rotated captures, in capture order: flows continue across them "
        "(all files are held in memory); default: each file on its own",
    )
    p.add_argument("--idle-timeout", type=float, default=120.0, help="seconds of silence that end a flow (120)")
    p.add_argument("--active-timeout", type=float, default=1800.0, help="seconds after which a flow is cut (1800)")
    p.add_argument("--no-tcp-close", action="store_true", help="do not end TCP flows at RST / both FINs")
    p.add_argument("--ignore-vlan", action="store_true", help="VLAN ids are not part of the flow key")
    p.add_argument("--sensor", default="local", help="sensor_id of the flows (default: local)")
    p.add_argument("--plugin", action="append", default=[], help="feature plugin to run (entry-point name)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import pyarrow as pa

    from netqos.decode.export import decode_each, parquet_output, with_source_column
    from netqos.decode.schema import SOURCE_FILE_FIELD
    from netqos.features import WINDOW_SCHEMA, FeatureConfig, featurize
    from netqos.features.plugins import load_plugins
    from netqos.flows import FLOW_SCHEMA, FlowConfig

    try:
        flow_cfg = FlowConfig(
            idle_timeout=args.idle_timeout,
            active_timeout=args.active_timeout,
            tcp_close=not args.no_tcp_close,
            vlan_aware=not args.ignore_vlan,
            sensor_id=args.sensor,
            per_file=not args.stitch,
        )
        cfg = FeatureConfig(flow=flow_cfg, plugins=tuple(args.plugin), bytes_in_flight=False)
        plugins = load_plugins(cfg.plugins, cfg)
    except (TypeError, ValueError) as exc:
        print(f"netqos flows: {exc}", file=sys.stderr)
        return 2

    def extended(base: pa.Schema, kind: str, with_source: bool) -> pa.Schema:
        for plugin in plugins:
            for name, dtype, doc in getattr(plugin, f"{kind}_columns"):
                base = base.append(pa.field(name, dtype, metadata={"doc": doc}))
        return base.append(SOURCE_FILE_FIELD) if with_source else base

    failures: list[str] = []
    stitched: list[pa.Table] = []
    flows = packets = files_ok = 0
    with ExitStack() as stack:
        # Stitched flows carry the file of their first packet; stitched windows span files (no source_file).
        writer = stack.enter_context(parquet_output(args.output, extended(FLOW_SCHEMA, "flow", True)))
        windows_writer = None
        if args.windows:
            schema = extended(WINDOW_SCHEMA, "window", not args.stitch)
            windows_writer = stack.enter_context(parquet_output(args.windows, schema))

        def emit(table: pa.Table, source: Path | None, label: str) -> None:
            nonlocal flows, packets
            feats = featurize(table, cfg)
            writer.write_table(feats.flows if source is None else with_source_column(feats.flows, source))
            if windows_writer is not None:
                windows_writer.write_table(
                    feats.windows if source is None else with_source_column(feats.windows, source)
                )
            flows += feats.flows.num_rows
            packets += table.num_rows
            print(f"{label}: {table.num_rows} packets -> {feats.flows.num_rows} flows", file=sys.stderr)

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
            if args.stitch:
                stitched.append(with_source_column(table, path))
            else:
                emit(table, path, str(path))
        if stitched:
            emit(pa.concat_tables(stitched), None, f"{len(stitched)} files stitched")
    for failure in failures:
        print(f"netqos flows: {failure}", file=sys.stderr)
    print(f"{flows} flows from {packets} packets, {files_ok}/{len(args.files)} files -> {args.output}", file=sys.stderr)
    return 1 if failures else 0
