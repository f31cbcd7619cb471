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
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from netqos.analysis.tcp import ANALYSIS_SCHEMA, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, analyze
    from netqos.decode import CaptureFormatError, open_capture
    from netqos.decode.schema import SOURCE_FILE_COLUMN

    schema = ANALYSIS_SCHEMA.append(pa.field(SOURCE_FILE_COLUMN, pa.string(), metadata={"doc": "capture file"}))
    needed = [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS]
    failures: list[str] = []
    packets = tcp_packets = files_ok = 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".partial")
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for path in args.files:
            try:
                with open_capture(path) as reader:
                    batches = [batch.select(needed) for batch in reader.batches()]
                    error = reader.summary.error
            except (CaptureFormatError, OSError) as exc:
                failures.append(f"{path}: {exc}")
                continue
            if error:
                failures.append(f"{path}: {error} (rows before it were analysed)")
            else:
                files_ok += 1
            if not batches:
                continue
            result = analyze(
                pa.Table.from_batches(batches),
                vlan_aware=not args.ignore_vlan,
                bytes_in_flight=not args.no_bytes_in_flight,
            )
            source = pa.array([str(path)] * result.num_rows, pa.string())
            writer.write_table(result.append_column(schema.field(SOURCE_FILE_COLUMN), source))
            packets += result.num_rows
            tcp_n = result.num_rows - result.column("tcp_stream").null_count
            tcp_packets += tcp_n
            counts = {
                name: int(pc.sum(result.column(f"tcp_{name}")).as_py() or 0)
                for name in ("retransmission", "out_of_order", "dup_ack", "lost_segment", "zero_window")
            }
            flagged = ", ".join(f"{k} {v}" for k, v in counts.items())
            print(f"{path}: {result.num_rows} packets, {tcp_n} TCP, {flagged}", file=sys.stderr)
    tmp.replace(args.output)
    for failure in failures:
        print(f"netqos analyze: {failure}", file=sys.stderr)
    print(
        f"{packets} packets ({tcp_packets} TCP) from {files_ok}/{len(args.files)} files -> {args.output}",
        file=sys.stderr,
    )
    return 1 if failures else 0
