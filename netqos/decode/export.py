"""Decode several captures into one Parquet file, streaming (memory bounded by one batch)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from netqos.decode.readers import CaptureFormatError, open_capture
from netqos.decode.schema import PACKET_SCHEMA, SOURCE_FILE_COLUMN
from netqos.progress import byte_progress

OUTPUT_SCHEMA = PACKET_SCHEMA.append(pa.field(SOURCE_FILE_COLUMN, pa.string(), metadata={"doc": "capture file"}))


@dataclass
class DecodeReport:
    packets: int = 0
    files_ok: int = 0
    failures: list[str] = field(default_factory=list)  # "<file>: <reason>", incl. partially read files


def with_source(batch: pa.RecordBatch, source: str) -> pa.RecordBatch:
    names = pa.DictionaryArray.from_arrays(np.zeros(batch.num_rows, np.int32), pa.array([source]))
    return pa.RecordBatch.from_arrays([*batch.columns, names.cast(pa.string())], schema=OUTPUT_SCHEMA)


def decode_to_parquet(files: Sequence[Path], output: Path, *, progress: bool = False) -> DecodeReport:
    report = DecodeReport()
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".partial")
    with pq.ParquetWriter(tmp, OUTPUT_SCHEMA, compression="zstd") as writer, byte_progress(
        files, enabled=progress
    ) as advance:
        for path in files:
            try:
                with open_capture(path) as reader:
                    for batch in reader.batches():
                        writer.write_batch(with_source(batch, str(path)))
                        report.packets += batch.num_rows
                    if reader.summary.error:
                        report.failures.append(f"{path}: {reader.summary.error} (rows before it were kept)")
                    else:
                        report.files_ok += 1
            except (CaptureFormatError, OSError) as exc:
                report.failures.append(f"{path}: {exc}")
            advance(path)
    tmp.replace(output)  # readers never see a half-written file
    return report
