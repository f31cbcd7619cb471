"""`netqos analyze FILE... -o OUT.parquet`: decode captures and write per-packet TCP analysis (no Spark)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "analyze",
        help="per-packet TCP analysis (retransmissions, dup ACKs, zero window, RTT... like Wireshark) to Parquet",
    )
    p.add_argument("files", nargs="+", type=Path, help="capture files (each is analysed on its own)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .parquet file")
    p.add_argument(
        "--ignore-vlan",
        action="store_true",
        help="one conversation per 5-tuple whatever the VLAN tags (what Wireshark 4.0 does)",
    )
    p.add_argument("--no-bytes-in-flight", action="store_true", help="skip tcp_bytes_in_flight (all null)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import pyarrow.compute as pc

    from netqos.analysis.tcp import ANALYSIS_SCHEMA, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, analyze
    from netqos.decode.export import decode_each, parquet_output, with_source_column
    from netqos.decode.schema import SOURCE_FILE_FIELD

    schema = ANALYSIS_SCHEMA.append(SOURCE_FILE_FIELD)
    failures: list[str] = []
    packets = tcp_packets = files_ok = 0
    with parquet_output(args.output, schema) as writer:
        for decoded in decode_each(args.files, [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS]):
            path = decoded.path
            if decoded.table is None:
                failures.append(f"{path}: {decoded.error}")
                continue
            if decoded.error:
                failures.append(f"{path}: {decoded.error} (rows before it were analysed)")
            else:
                files_ok += 1
            if not decoded.table.num_rows:
                continue
            result = analyze(
                decoded.table,
                vlan_aware=not args.ignore_vlan,
                bytes_in_flight=not args.no_bytes_in_flight,
            )
            writer.write_table(with_source_column(result, path))
            packets += result.num_rows
            tcp_n = result.num_rows - result.column("tcp_stream").null_count
            tcp_packets += tcp_n
            counts = {
                name: int(pc.sum(result.column(f"tcp_{name}")).as_py() or 0)
                for name in ("retransmission", "out_of_order", "dup_ack", "lost_segment", "zero_window")
            }
            flagged = ", ".join(f"{k} {v}" for k, v in counts.items())
            print(f"{path}: {result.num_rows} packets, {tcp_n} TCP, {flagged}", file=sys.stderr)
    for failure in failures:
        print(f"netqos analyze: {failure}", file=sys.stderr)
    print(
        f"{packets} packets ({tcp_packets} TCP) from {files_ok}/{len(args.files)} files -> {args.output}",
        file=sys.stderr,
    )
    return 1 if failures else 0
