"""`spark.read.format("pcap")`: a Spark 4 Python data source over the netqos decoder, one partition per file.

    spark.read.format("pcap").load("/captures/*.pcap")            # a file, a directory or a glob
    spark.read.format("pcap").option("paths", "a.pcap,b.pcapng").load()

Options:
  path / paths               files, directories or globs; `paths` is a comma list or a JSON array
  mode                       PERMISSIVE (default): a file the decoder cannot open yields no rows and a warning;
                             FAILFAST: it fails the query
  chunkBytes, maxRecordBytes override `Settings().decode`
Rows are the decoder's Arrow batches as they are, plus `source_file` (the absolute path).
"""

from __future__ import annotations

import glob
import json
import logging
import os
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import pyarrow as pa
from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition
from pyspark.sql.types import StructType

from netqos.settings import DecodeSettings, S3Settings, Settings
from netqos.spark.schema import PCAP_SOURCE_SCHEMA, pcap_source_struct

# A directory expands to its capture files only (not a README beside them); globs and files are taken as named.
from netqos.storage.objects import CAPTURE_SUFFIXES

log = logging.getLogger(__name__)

Mode = Literal["PERMISSIVE", "FAILFAST"]


def expand_capture_paths(specs: Iterable[str], s3: Any = None) -> list[str]:
    """Files, directories (non-recursive, capture suffixes only), globs and s3:// objects or prefixes -> sorted
    unique absolute paths / URIs. `s3`: a boto3 client (default: one from Settings().s3, made on first need).

    Raises FileNotFoundError for a path that does not exist or a glob that matches no file.
    """
    from netqos.storage.s3 import is_s3_uri

    found: set[str] = set()
    for spec in (s.strip() for s in specs):
        if not spec:
            continue
        if is_s3_uri(spec):
            from netqos.storage.objects import list_captures
            from netqos.storage.s3 import s3_client

            s3 = s3 or s3_client(Settings().s3)
            found.update(o.uri.replace("s3a://", "s3://", 1) for o in list_captures(s3, spec))
            continue
        # An existing path wins over glob syntax: "trace[1].pcap" is a file name, not a character class.
        if os.path.isfile(spec):
            matches = [spec]
        elif os.path.isdir(spec):
            matches = [e.path for e in os.scandir(spec) if e.is_file() and e.name.lower().endswith(CAPTURE_SUFFIXES)]
        else:
            matches = [m for m in glob.glob(spec) if os.path.isfile(m)]
        if not matches:
            raise FileNotFoundError(f"no capture file at {spec!r}")
        found.update(os.path.abspath(m) for m in matches)
    return sorted(found)


def parse_mode(value: str | None) -> Mode:
    mode = (value or "PERMISSIVE").upper()
    if mode == "PERMISSIVE":
        return "PERMISSIVE"
    if mode == "FAILFAST":
        return "FAILFAST"
    raise ValueError(f"pcap option mode must be PERMISSIVE or FAILFAST, not {value!r}")


def read_capture(
    path: str, *, decode: DecodeSettings, mode: Mode, s3: S3Settings | None = None
) -> Iterator[pa.RecordBatch]:
    """Decoded batches of one file (or s3:// object) with `source_file` appended; see the module doc for `mode`."""
    from netqos.storage.s3 import is_s3_uri

    if is_s3_uri(path):
        from netqos.storage.objects import local_copy
        from netqos.storage.s3 import s3_client

        with local_copy(s3_client(s3 or Settings().s3), path) as local:
            yield from _decoded(local, path, decode=decode, mode=mode)
    else:
        yield from _decoded(path, path, decode=decode, mode=mode)


def _decoded(local: str, path: str, *, decode: DecodeSettings, mode: Mode) -> Iterator[pa.RecordBatch]:
    from netqos.decode import CaptureFormatError, open_capture

    try:
        with open_capture(local, chunk_bytes=decode.chunk_bytes, max_record_bytes=decode.max_record_bytes) as reader:
            for batch in reader.batches():
                source = pa.array([path] * batch.num_rows, pa.string())
                yield pa.RecordBatch.from_arrays([*batch.columns, source], schema=PCAP_SOURCE_SCHEMA)
            if reader.summary.error:
                log.warning("%s: decoding stopped early: %s", path, reader.summary.error)
    except (CaptureFormatError, OSError) as exc:
        if mode == "FAILFAST":
            raise
        log.warning("%s: skipped, not a readable capture: %s", path, exc)


class PcapPartition(InputPartition):
    """One capture file (`value` is its absolute path); pickled to the Python worker that reads it."""

    value: str


class PcapReader(DataSourceReader):
    def __init__(self, paths: list[str], *, decode: DecodeSettings, mode: Mode, s3: S3Settings | None = None) -> None:
        self.paths = paths
        self.decode = decode
        self.mode = mode
        # The driver's S3 settings travel to the workers inside this (pickled) reader, not as options: options
        # are printed in query plans, and the secret must not be.
        self.s3 = s3

    def partitions(self) -> list[InputPartition]:
        return [PcapPartition(p) for p in self.paths]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        # With no files Spark still runs one task with InputPartition(None): it yields nothing.
        if isinstance(partition, PcapPartition):
            yield from read_capture(partition.value, decode=self.decode, mode=self.mode, s3=self.s3)


class PcapDataSource(DataSource):
    @classmethod
    def name(cls) -> str:
        return "pcap"

    def schema(self) -> StructType:
        return pcap_source_struct()

    def reader(self, schema: StructType) -> PcapReader:
        specs = [self.options.get("path") or "", *self._listed_paths()]
        if not any(s.strip() for s in specs):
            raise ValueError('pcap source needs a path: .load(path) or .option("paths", "a.pcap,b.pcap")')
        from netqos.storage.s3 import is_s3_uri

        paths = expand_capture_paths(specs)
        s3 = Settings().s3 if any(is_s3_uri(p) for p in paths) else None
        return PcapReader(paths, decode=self._decode_settings(), mode=parse_mode(self.options.get("mode")), s3=s3)

    def _listed_paths(self) -> list[str]:
        # A JSON array is accepted too, for paths that contain commas (the ingest job always sends one).
        value = (self.options.get("paths") or "").strip()
        return [str(p) for p in json.loads(value)] if value.startswith("[") else value.split(",")

    def _decode_settings(self) -> DecodeSettings:
        overrides = {
            field: int(self.options[option])
            for option, field in (("chunkBytes", "chunk_bytes"), ("maxRecordBytes", "max_record_bytes"))
            if self.options.get(option)
        }
        # Validate through the model so a bad option fails at planning with pydantic's message.
        return DecodeSettings.model_validate({**Settings().decode.model_dump(), **overrides})
