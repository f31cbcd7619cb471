"""Decode several captures into one Parquet file, streaming (memory bounded by one batch)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from netqos.decode.readers import CaptureFormatError, open_capture
from netqos.decode.schema import PACKET_SCHEMA, SOURCE_FILE_FIELD
from netqos.decode.text import string_array
from netqos.progress import byte_progress

OUTPUT_SCHEMA = PACKET_SCHEMA.append(SOURCE_FILE_FIELD)


@dataclass
class DecodeReport:
    packets: int = 0
    files_ok: int = 0
    failures: list[str] = field(default_factory=list)  # "<file>: <reason>", incl. partially read files


def source_column(rows: int, source: str | Path) -> pa.Array:
    """`source` repeated `rows` times, built from buffers (pa.array() would import pandas)."""
    indices = pa.Array.from_buffers(pa.int32(), rows, [None, pa.py_buffer(np.zeros(rows, np.int32))])
    return pa.DictionaryArray.from_arrays(indices, string_array([str(source)])).cast(pa.string())


def with_source(batch: pa.RecordBatch, source: str) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([*batch.columns, source_column(batch.num_rows, source)], schema=OUTPUT_SCHEMA)


_DONE = object()


def _decode_files(files: Sequence[Path], out: queue.Queue[object], report: DecodeReport) -> None:
    """Producer: decode every file into `out` (bounded), then _DONE. Failures go to the report, not up."""
    try:
        for path in files:
            try:
                with open_capture(path) as reader:
                    for batch in reader.batches():
                        out.put(with_source(batch, str(path)))
                    if reader.summary.error:
                        report.failures.append(f"{path}: {reader.summary.error} (rows before it were kept)")
                    else:
                        report.files_ok += 1
            except (CaptureFormatError, OSError) as exc:
                report.failures.append(f"{path}: {exc}")
            out.put(path)  # file boundary, for the progress bar
    except BaseException as exc:
        out.put(exc)
    finally:
        out.put(_DONE)


def decode_to_parquet(files: Sequence[Path], output: Path, *, progress: bool = False) -> DecodeReport:
    """Decode in a worker thread while this thread writes Parquet: the Numba kernels and Arrow's writer both
    release the GIL, so on two cores the two halves overlap. The queue bounds memory to a few batches."""
    report = DecodeReport()
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".partial")
    batches: queue.Queue[object] = queue.Queue(maxsize=2)
    worker = threading.Thread(target=_decode_files, args=(files, batches, report), daemon=True)
    worker.start()
    with (
        pq.ParquetWriter(tmp, OUTPUT_SCHEMA, compression="zstd") as writer,
        byte_progress(files, enabled=progress) as advance,
    ):
        while (item := batches.get()) is not _DONE:
            if isinstance(item, pa.RecordBatch):
                writer.write_batch(item)
                report.packets += item.num_rows
            elif isinstance(item, Path):
                advance(item)
            elif isinstance(item, BaseException):
                raise item
    worker.join()
    tmp.replace(output)  # readers never see a half-written file
    return report


@dataclass
class DecodedFile:
    """One capture decoded whole: `table` is None when the file could not be read at all."""

    path: Path
    table: pa.Table | None
    error: str | None  # unreadable, or reading stopped early (the rows before it are in `table`)


def decode_each(files: Sequence[Path], columns: Sequence[str] | None = None) -> Iterator[DecodedFile]:
    """Decode files one at a time (memory: one file's selected columns), for per-file analyses."""
    for path in files:
        try:
            with open_capture(path) as reader:
                batches = [b.select(list(columns)) if columns else b for b in reader.batches()]
                error = reader.summary.error
        except (CaptureFormatError, OSError) as exc:
            yield DecodedFile(path, None, str(exc))
            continue
        schema = PACKET_SCHEMA if columns is None else pa.schema([PACKET_SCHEMA.field(c) for c in columns])
        yield DecodedFile(path, pa.Table.from_batches(batches, schema=schema), error)


@contextmanager
def parquet_output(output: Path, schema: pa.Schema) -> Iterator[pq.ParquetWriter]:
    """A Parquet writer to `<output>.partial`, renamed to `output` only once complete."""
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".partial")
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        yield writer
    tmp.replace(output)


def with_source_column(table: pa.Table, source: Path) -> pa.Table:
    """`table` plus the `source_file` column (every row: `source`)."""
    return table.append_column(SOURCE_FILE_FIELD, source_column(table.num_rows, source))
