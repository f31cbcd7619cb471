"""Describe a closed capture file (hash, size, packets, time span, link types) and read its drop counters.

Packets are counted by netqos.decode, batch by batch (no per-packet Python). A file cut by a killed writer is
still described: the decoder stops at the damage, its message goes to `decode_error`, and the partial last
record it keeps as a `truncated:record` row is not counted (only whole packets are).
"""

from __future__ import annotations

import hashlib
import os
import socket
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

import netqos
from netqos.capture.model import CaptureFileMeta, DropCounters
from netqos.decode.readers import CaptureFormatError, open_capture, sniff_format
from netqos.decode.schema import STATUS_TEXT, DecodeStatus

PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_ISB = 5
PCAPNG_EPB, PCAPNG_SPB, PCAPNG_OPB = 6, 3, 2
ISB_IFRECV = 4
ISB_IFDROP = 5
ISB_OSDROP = 7
UNKNOWN_COUNTER = 0xFFFF_FFFF_FFFF_FFFF  # dumpcap writes all-ones when pcap_stats() failed
MAX_TAIL_BLOCKS = 4096  # ISBs sit at the end; give up after this many non-packet blocks walking backwards
_CUT_RECORD = STATUS_TEXT[DecodeStatus.TRUNCATED_RECORD]


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _guess_format(path: Path) -> str:
    return "pcapng" if path.suffix == ".pcapng" else "pcap"


def describe(
    path: Path,
    *,
    sensor_id: str,
    seq: int,
    backend: str,
    drops: DropCounters,
    recovered: bool = False,
) -> CaptureFileMeta:
    """Metadata of one closed capture file. Never raises for bad content: a non-capture gets packets=0 + error."""
    path = Path(path)
    size = path.stat().st_size
    digest = sha256_file(path)
    fmt = _guess_format(path)
    packets, first, last, error = 0, None, None, None
    links: list[int] = []
    try:
        with open_capture(path) as reader:
            fmt = reader.format
            packets, first, last, links = _count(reader.batches())
            error = reader.summary.error
    except CaptureFormatError as e:
        error = str(e)
    return CaptureFileMeta(
        sensor_id=sensor_id,
        seq=seq,
        sha256=digest,
        size=size,
        format=fmt,
        packets=packets,
        first_ts_ns=first,
        last_ts_ns=last,
        link_types=links,
        capture_host=socket.gethostname(),
        agent_version=netqos.__version__,
        backend=backend,
        drops=drops,
        recovered=recovered,
        decode_error=error,
    )


def _count(batches: Iterable[pa.RecordBatch]) -> tuple[int, int | None, int | None, list[int]]:
    """Whole packets, first/last ts_ns and distinct link types over the decoder's batches.

    The reader only ever emits a `truncated:record` row for the file's cut tail (the last row), so each batch
    is held back one step to drop that row from the last one.
    """
    packets, first, last = 0, None, None
    links: set[int] = set()

    def add(batch: pa.RecordBatch) -> None:
        nonlocal packets, first, last
        if batch.num_rows == 0:
            return
        packets += batch.num_rows
        ts = batch.column("ts_ns")
        mm = pc.min_max(ts)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        if lo is not None:
            first = lo if first is None else min(first, lo)
            last = hi if last is None else max(last, hi)
        links.update(v for v in pc.unique(batch.column("link_type")).to_pylist() if v is not None)

    held: pa.RecordBatch | None = None
    for batch in batches:
        if held is not None:
            add(held)
        held = batch
    if held is not None:
        if held.num_rows and held.column("decode_status")[held.num_rows - 1].as_py() == _CUT_RECORD:
            held = held.slice(0, held.num_rows - 1)
        add(held)
    return packets, first, last, sorted(links)


# -- Interface Statistics Blocks ---------------------------------------------------------------------------


def isb_drops(path: Path) -> DropCounters | None:
    """Cumulative counters from the Interface Statistics Blocks at the end of a pcapng file, summed over
    interfaces (the last ISB of each); None for classic pcap, a cut tail, or a file without ISBs.

    Mapping. The pcapng spec defines isb_ifdrop (5) as "dropped by the interface" and isb_osdrop (7) as
    "dropped by the OS", which would be ps_ifdrop / ps_drop. dumpcap does not follow that: it writes only
    isb_ifrecv = packets it received and isb_ifdrop = ps_drop + its own drops (+ flushed), never ps_ifdrop nor
    isb_osdrop. So: with isb_osdrop present (a spec-following writer), dropped = osdrop and if_dropped = ifdrop;
    without it (dumpcap), dropped = ifdrop and if_dropped stays 0. received = isb_ifrecv.

    The blocks are walked backwards from EOF using each block's trailing length, so the cost does not grow
    with the file (ISBs are written when the file is closed, after the last packet).
    """
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            try:
                fmt, order, _ = sniff_format(head)
            except CaptureFormatError:
                return None
            if fmt != "pcapng":
                return None
            return _tail_isbs(f, order, os.fstat(f.fileno()).st_size)
    except OSError:
        return None


def _tail_isbs(f: BinaryIO, order: str, end: int) -> DropCounters | None:
    per_iface: dict[int, tuple[int | None, int | None, int | None]] = {}
    pos = end
    for _ in range(MAX_TAIL_BLOCKS):
        if pos < 24:
            break
        f.seek(pos - 4)
        (blen,) = struct.unpack(order + "I", f.read(4))
        start = pos - blen
        if blen < 12 or blen % 4 or start < 0:
            return None  # not a block boundary: the tail is cut
        f.seek(start)
        block = f.read(blen)
        btype, lead = struct.unpack(order + "II", block[:8])
        if lead != blen:
            return None
        if btype in (PCAPNG_SHB, PCAPNG_EPB, PCAPNG_SPB, PCAPNG_OPB):  # reached the packets: no more closing stats
            break
        if btype == PCAPNG_ISB and len(block) >= 24:
            iface = struct.unpack(order + "I", block[8:12])[0]
            if iface not in per_iface:  # walking backwards: the first seen is the interface's latest
                per_iface[iface] = _isb_options(block, order)
        pos = start
    if not per_iface:
        return None
    recv = drop = ifdrop = 0
    for ifrecv, ifdrop_v, osdrop in per_iface.values():
        recv += ifrecv or 0
        if osdrop is not None:
            drop += osdrop
            ifdrop += ifdrop_v or 0
        else:
            drop += ifdrop_v or 0
    return DropCounters(received=recv, dropped=drop, if_dropped=ifdrop)


def _isb_options(block: bytes, order: str) -> tuple[int | None, int | None, int | None]:
    found: dict[int, int | None] = {}
    i, end = 20, len(block) - 4
    while i + 4 <= end:
        code, length = struct.unpack(order + "HH", block[i : i + 4])
        if code == 0:
            break
        if code in (ISB_IFRECV, ISB_IFDROP, ISB_OSDROP) and length == 8:
            (value,) = struct.unpack(order + "Q", block[i + 4 : i + 12])
            found[code] = None if value == UNKNOWN_COUNTER else value
        i += 4 + length + (-length % 4)
    return found.get(ISB_IFRECV), found.get(ISB_IFDROP), found.get(ISB_OSDROP)
