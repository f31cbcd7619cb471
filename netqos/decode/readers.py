"""Streaming capture reader: classic pcap and pcapng, in bounded chunks, into Arrow record batches.

Memory is bounded by `chunk_bytes` (+ one maximum-size block) whatever the file size. I/O stays here;
framing.py, walk.py and columns.py only see byte arrays, so tests can feed them BytesIO.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Literal

import numpy as np
import pyarrow as pa

from netqos.decode import framing as fr
from netqos.decode.columns import FramedRecords, build_batch
from netqos.decode.linktypes import LINKTYPE_MASK, l2_codes
from netqos.decode.schema import DecodeStatus
from netqos.decode.walk import walk

PCAP_MAGIC_USEC = 0xA1B2C3D4
PCAP_MAGIC_NSEC = 0xA1B23C4D
PCAPNG_BYTE_ORDER_MAGIC = 0x1A2B3C4D
PCAPNG_OPT_IF_TSRESOL = 9
PCAPNG_OPT_IF_TSOFFSET = 14
MAX_CONTROL_BLOCK = 16 << 20  # SHB/IDB/custom blocks larger than this are treated as corruption

CaptureFormat = Literal["pcap", "pcapng"]


class CaptureFormatError(ValueError):
    """The file cannot be read as a capture at all (zero bytes, wrong magic, text...)."""


@dataclass
class CaptureSummary:
    packets: int = 0
    first_ts_ns: int | None = None
    last_ts_ns: int | None = None
    link_types: list[int] = field(default_factory=list)
    bytes_read: int = 0
    error: str | None = None  # set when reading stopped early; the rows before it were yielded


@dataclass
class _Interface:
    link_type: int
    snaplen: int
    ts_pow2: bool = False
    ts_exp: int = 6  # pcapng default resolution is microseconds
    ts_offset_s: int = 0


def sniff_format(head: bytes) -> tuple[CaptureFormat, str, int]:
    """(format, byte order '<'/'>', fractional-second multiplier to ns) or CaptureFormatError."""
    if len(head) < 4:
        raise CaptureFormatError(f"not a capture file: only {len(head)} bytes")
    for order in ("<", ">"):
        (magic,) = struct.unpack(order + "I", head[:4])
        if magic == PCAP_MAGIC_USEC:
            return "pcap", order, 1000
        if magic == PCAP_MAGIC_NSEC:
            return "pcap", order, 1
    if head[:4] == b"\x0a\x0d\x0d\x0a":
        if len(head) < 12:
            raise CaptureFormatError("pcapng section header block is cut short")
        for order in ("<", ">"):
            if struct.unpack(order + "I", head[8:12])[0] == PCAPNG_BYTE_ORDER_MAGIC:
                return "pcapng", order, 1
        raise CaptureFormatError("pcapng section header block has an invalid byte-order magic")
    looks_text = all(32 <= b < 127 or b in (9, 10, 13) for b in head[:64])
    kind = "a text file" if looks_text else f"magic 0x{head[:4].hex()}"
    raise CaptureFormatError(f"not a pcap or pcapng file ({kind})")


class CaptureReader:
    """Iterate a capture as Arrow batches. Use `open_capture`; read `summary` after iterating."""

    def __init__(
        self,
        source: str | Path | BinaryIO,
        *,
        chunk_bytes: int = 8 << 20,
        max_record_bytes: int = 256 * 1024,
        max_batch_rows: int = 1 << 18,
    ) -> None:
        self._owns = isinstance(source, str | Path)
        self._f: BinaryIO = open(source, "rb") if isinstance(source, str | Path) else source  # noqa: SIM115
        self.name = str(source) if isinstance(source, str | Path) else getattr(source, "name", "<stream>")
        self.max_record = max_record_bytes
        self.max_batch_rows = max_batch_rows
        capacity = max(chunk_bytes, max_record_bytes + 1024)
        self._buf = np.empty(capacity, dtype=np.uint8)
        self._filled = 0
        self._pos = 0
        self._eof = False
        self._file_offset = 0  # file offset of _buf[0]
        self.summary = CaptureSummary()
        self._link_types: set[int] = set()
        try:
            head = self._peek(24)
            self.format, order, self._frac_to_ns = sniff_format(head)
            self._big = order == ">"
            self._interfaces: list[_Interface] = []
            if self.format == "pcap":
                if len(head) < 24:
                    raise CaptureFormatError(f"pcap file header is cut short ({len(head)} of 24 bytes)")
                major, minor, _, _, snaplen, link_raw = struct.unpack(order + "HHiIII", head[4:24])
                # As libpcap/wiretap: 2.0-2.2 and DG/UX's 543.0 wrote (orig_len, incl_len); 2.3 may be either.
                swapped = (major == 2 and minor < 3) or major == 543
                self._lengths_swapped = (
                    fr.SWAPPED if swapped else fr.MAYBE_SWAPPED if (major, minor) == (2, 3) else fr.NOT_SWAPPED
                )
                self._pcap_link_type = link_raw & LINKTYPE_MASK
                self._pcap_snaplen = snaplen
                self._pos = 24
        except BaseException:
            self.close()
            raise

    # -- buffer management -------------------------------------------------------------------------------
    def _peek(self, size: int) -> bytes:
        while self._filled - self._pos < size and not self._eof:
            self._refill()
        return self._buf[self._pos : min(self._filled, self._pos + size)].tobytes()

    def _refill(self, need: int = 0) -> None:
        """Keep the unread tail, read more after it. Grows the buffer for a single block larger than it."""
        tail = self._filled - self._pos
        if need > self._buf.shape[0]:
            grown = np.empty(need, dtype=np.uint8)
            grown[:tail] = self._buf[self._pos : self._filled]
            self._buf = grown
        elif self._pos:
            self._buf[:tail] = self._buf[self._pos : self._filled]
        self._file_offset += self._pos
        self._pos = 0
        self._filled = tail
        view = memoryview(self._buf)[tail:]  # type: ignore[arg-type]
        if not len(view):
            return  # buffer full of one unfinished block: callers grow it with `need`
        got = self._f.readinto(view) if hasattr(self._f, "readinto") else self._read_into(view)
        if not got:
            self._eof = True
        else:
            self._filled += got

    def _read_into(self, view: memoryview) -> int:
        data = self._f.read(len(view))
        view[: len(data)] = data
        return len(data)

    # -- iteration ---------------------------------------------------------------------------------------
    def batches(self) -> Iterator[pa.RecordBatch]:
        frame_no = 1
        frame = self._frame_pcap if self.format == "pcap" else self._frame_pcapng
        try:
            while True:
                records, done = frame(frame_no)
                if records is not None and records.offset.shape[0]:
                    batch = self._decode(records)
                    frame_no += batch.num_rows
                    yield batch
                if done:
                    break
        finally:
            self.summary.link_types = sorted(self._link_types)
            self.summary.bytes_read = self._file_offset + self._pos

    def _decode(self, records: FramedRecords) -> pa.RecordBatch:
        wm = walk(records.buf, records.offset, records.cap_len, l2_codes(records.link_type))
        batch = build_batch(records, wm)
        n = records.offset.shape[0]
        s = self.summary
        s.packets += n
        known = records.ts_ns[records.ts_ns != fr.TS_NULL]
        if known.size:
            lo, hi = int(known.min()), int(known.max())
            s.first_ts_ns = lo if s.first_ts_ns is None else min(s.first_ts_ns, lo)
            s.last_ts_ns = hi if s.last_ts_ns is None else max(s.last_ts_ns, hi)
        self._link_types.update(int(v) for v in np.unique(records.link_type))
        return batch

    def _out_arrays(self) -> tuple[np.ndarray, ...]:
        avail = self._filled - self._pos
        n = max(1, min(self.max_batch_rows, avail // 16 + 1))
        return (
            np.empty(n, np.int64),
            np.empty(n, np.int64),
            np.empty(n, np.int64),
            np.empty(n, np.int64),
            np.zeros(n, np.int32),
        )

    def _records(self, frame_no: int, n: int, arrays: tuple[np.ndarray, ...], link_type: np.ndarray) -> FramedRecords:
        off, cap, wire, ts, iface = (a[:n] for a in arrays)
        return FramedRecords(self._buf, off, cap, wire, ts, iface, link_type, frame_no)

    def _frame_pcap(self, frame_no: int) -> tuple[FramedRecords | None, bool]:
        if self._filled - self._pos < 16 + self.max_record and not self._eof:
            self._refill()
        arrays = self._out_arrays()
        n, pos, stop = fr.frame_pcap(
            self._buf,
            self._pos,
            self._filled,
            self._big,
            self._frac_to_ns,
            self._lengths_swapped,
            self.max_record,
            *arrays[:4],
        )
        records = self._records(frame_no, n, arrays, np.full(n, self._pcap_link_type, np.int32))
        self._pos = pos
        if stop == fr.STOP_OVERSIZED:
            caplen = struct.unpack((">" if self._big else "<") + "I", self._buf[pos + 8 : pos + 12].tobytes())[0]
            self._fail(f"frame {frame_no + n}: caplen {caplen} exceeds the {self.max_record}-byte maximum")
            return records, True
        if stop == fr.STOP_NEED_DATA and self._eof:
            return self._pcap_tail(records, frame_no + n)
        return records, False

    def _pcap_tail(self, records: FramedRecords, frame_no: int) -> tuple[FramedRecords | None, bool]:
        """EOF inside a record: keep the bytes present as a row marked truncated:record."""
        left = self._filled - self._pos
        if left == 0:
            return records, True
        if left < 16:
            self._fail(f"file ends inside the header of frame {frame_no} ({left} of 16 bytes)")
            return records, True
        order = ">" if self._big else "<"
        sec, frac, caplen, wire = struct.unpack(order + "IIII", self._buf[self._pos : self._pos + 16].tobytes())
        if self._lengths_swapped == fr.SWAPPED or (self._lengths_swapped == fr.MAYBE_SWAPPED and caplen > wire):
            caplen, wire = wire, caplen
        present = left - 16
        self._fail(f"file ends inside frame {frame_no} ({present} of {caplen} bytes captured)")
        tail = self._single(self._pos + 16, present, wire, sec * 1_000_000_000 + frac * self._frac_to_ns, 0)
        tail.link_type[:] = self._pcap_link_type
        self._pos = self._filled
        return _concat(records, tail), True

    def _single(self, off: int, cap: int, wire: int, ts: int, iface: int) -> FramedRecords:
        return FramedRecords(
            self._buf,
            np.array([off], np.int64),
            np.array([cap], np.int64),
            np.array([wire], np.int64),
            np.array([ts], np.int64),
            np.array([iface], np.int32),
            np.zeros(1, np.int32),
            0,
            forced_status=np.array([DecodeStatus.TRUNCATED_RECORD], np.int8),
        )

    def _fail(self, message: str) -> None:
        if self.summary.error is None:
            self.summary.error = message

    # -- pcapng ------------------------------------------------------------------------------------------
    def _frame_pcapng(self, frame_no: int) -> tuple[FramedRecords | None, bool]:
        if self._filled - self._pos < 64 + self.max_record and not self._eof:
            self._refill()
        if_arrays = self._interface_arrays()
        arrays = self._out_arrays()
        n, pos, stop = fr.frame_pcapng(
            self._buf, self._pos, self._filled, self._big, *if_arrays, self.max_record, *arrays
        )
        link = if_arrays[0][arrays[4][:n]] if n else np.zeros(0, np.int32)
        records = self._records(frame_no, n, arrays, link.astype(np.int32))
        self._pos = pos
        here = f"block at byte {self._file_offset + pos} (after frame {frame_no + n - 1})"
        if stop == fr.STOP_CONTROL_BLOCK:
            return records, not self._control_block(here)
        if stop == fr.STOP_BAD_BLOCK_LENGTH:
            self._fail(f"pcapng {here}: invalid block length")
            return records, True
        if stop == fr.STOP_BAD_INTERFACE:
            self._fail(f"pcapng {here}: packet names an interface without an interface description block")
            return records, True
        if stop in (fr.STOP_OVERSIZED, fr.STOP_BAD_RECORD):
            self._fail(f"pcapng {here}: packet length exceeds the block or the {self.max_record}-byte maximum")
            return records, True
        if stop == fr.STOP_NEED_DATA and self._eof:
            return self._pcapng_tail(records, frame_no + n, here)
        if stop == fr.STOP_NEED_DATA and n == 0:
            head = self._peek(8)
            if head[:4] == b"\x0a\x0d\x0d\x0a":
                # An SHB cut by the chunk edge: its length is in the *new* section's byte order.
                return records, not self._control_block(here)
            # A non-packet block larger than the buffer: grow once to hold it, within reason.
            blen = struct.unpack(">I" if self._big else "<I", head[4:8])[0]
            if blen > MAX_CONTROL_BLOCK:
                self._fail(f"pcapng {here}: block length {blen} is implausibly large")
                return records, True
            self._refill(need=blen)
        return records, False

    def _pcapng_tail(self, records: FramedRecords, frame_no: int, here: str) -> tuple[FramedRecords | None, bool]:
        """EOF inside a block: an enhanced packet block whose header is complete keeps its bytes as a row."""
        left = self._filled - self._pos
        if left == 0:
            return records, True
        self._fail(f"file ends inside pcapng {here} ({left} bytes left)")
        order = ">" if self._big else "<"
        if left < 28 or struct.unpack(order + "I", self._buf[self._pos : self._pos + 4].tobytes())[0] != fr.BLOCK_EPB:
            return records, True
        iface, hi, lo, caplen, wire = struct.unpack(
            order + "IIIII", self._buf[self._pos + 8 : self._pos + 28].tobytes()
        )
        if iface >= len(self._interfaces):
            return records, True
        info = self._interfaces[iface]
        units = (hi << 32) | lo
        if info.ts_pow2:
            ts = (units >> info.ts_exp) * 1_000_000_000 + (((units & ((1 << info.ts_exp) - 1)) * 10**9) >> info.ts_exp)
        else:
            ts = units * 10 ** (9 - info.ts_exp) if info.ts_exp <= 9 else units // 10 ** (info.ts_exp - 9)
        present = min(caplen, left - 28)
        tail = self._single(self._pos + 28, present, wire, ts + info.ts_offset_s * 10**9, iface)
        tail.link_type[:] = info.link_type
        if present == caplen and tail.forced_status is not None:
            tail.forced_status[:] = 0  # the packet itself is whole; only the block's options/trailer are missing
        self._pos = self._filled
        return _concat(records, tail), True

    def _interface_arrays(self) -> tuple[np.ndarray, ...]:
        ifs = self._interfaces
        return (
            np.array([i.link_type for i in ifs], np.int32),
            np.array([i.snaplen for i in ifs], np.int64),
            np.array([i.ts_pow2 for i in ifs], np.bool_),
            np.array([i.ts_exp for i in ifs], np.int64),
            np.array([i.ts_offset_s for i in ifs], np.int64),
        )

    def _control_block(self, where: str) -> bool:
        """Parse the SHB/IDB at _pos. Returns False when reading must stop."""
        head = self._peek(12)
        if len(head) < 12:
            if head:
                self._fail(f"file ends inside pcapng {where}")
            return False
        btype = struct.unpack(">I" if self._big else "<I", head[:4])[0]
        if btype == fr.BLOCK_SHB:
            # A new section may switch byte order; its SHB says which.
            order = "<" if struct.unpack("<I", head[8:12])[0] == PCAPNG_BYTE_ORDER_MAGIC else ">"
            if struct.unpack(order + "I", head[8:12])[0] != PCAPNG_BYTE_ORDER_MAGIC:
                self._fail(f"pcapng {where}: section header with invalid byte-order magic")
                return False
            self._big = order == ">"
        order = ">" if self._big else "<"
        blen = struct.unpack(order + "I", head[4:8])[0]
        if blen < 12 or blen % 4 or blen > MAX_CONTROL_BLOCK:
            self._fail(f"pcapng {where}: invalid block length {blen}")
            return False
        if self._filled - self._pos < blen:
            self._refill(need=blen)
            if self._filled - self._pos < blen:
                self._fail(f"file ends inside pcapng {where}")
                return False
        block = self._buf[self._pos : self._pos + blen].tobytes()
        if struct.unpack(order + "I", block[-4:])[0] != blen:
            self._fail(f"pcapng {where}: block trailer length does not match")
            return False
        if btype == fr.BLOCK_SHB:
            self._interfaces = []  # interface ids are per section
        else:
            self._interfaces.append(self._parse_idb(block, order))
        self._pos += blen
        return True

    def _parse_idb(self, block: bytes, order: str) -> _Interface:
        if len(block) < 20:
            return _Interface(link_type=-1, snaplen=0)
        link_type, _reserved, snaplen = struct.unpack(order + "HHI", block[8:16])
        iface = _Interface(link_type=link_type, snaplen=snaplen)
        i, end = 16, len(block) - 4
        while i + 4 <= end:
            code, length = struct.unpack(order + "HH", block[i : i + 4])
            if code == 0:
                break
            value = block[i + 4 : i + 4 + length]
            if code == PCAPNG_OPT_IF_TSRESOL and length >= 1:
                iface.ts_pow2 = bool(value[0] & 0x80)
                iface.ts_exp = value[0] & 0x7F
            elif code == PCAPNG_OPT_IF_TSOFFSET and length >= 8:
                iface.ts_offset_s = struct.unpack(order + "q", value[:8])[0]
            i += 4 + length + (-length % 4)
        if (iface.ts_pow2 and iface.ts_exp > 63) or (not iface.ts_pow2 and iface.ts_exp > 19):
            iface.ts_exp = 6
            iface.ts_pow2 = False
        return iface

    # -- context management ------------------------------------------------------------------------------
    def close(self) -> None:
        if self._owns:
            self._f.close()

    def __enter__(self) -> CaptureReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _concat(a: FramedRecords, b: FramedRecords) -> FramedRecords:
    n = a.offset.shape[0]
    forced = np.concatenate([np.zeros(n, np.int8), b.forced_status if b.forced_status is not None else [0]])
    return FramedRecords(
        a.buf,
        np.concatenate([a.offset, b.offset]),
        np.concatenate([a.cap_len, b.cap_len]),
        np.concatenate([a.wire_len, b.wire_len]),
        np.concatenate([a.ts_ns, b.ts_ns]),
        np.concatenate([a.interface_id, b.interface_id]),
        np.concatenate([a.link_type, b.link_type]),
        a.first_frame_no,
        forced_status=forced.astype(np.int8),
    )


def open_capture(
    source: str | Path | BinaryIO,
    *,
    chunk_bytes: int = 8 << 20,
    max_record_bytes: int = 256 * 1024,
) -> CaptureReader:
    """Open a pcap/pcapng file or binary stream. Raises CaptureFormatError when it is not a capture."""
    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(source)
    return CaptureReader(source, chunk_bytes=chunk_bytes, max_record_bytes=max_record_bytes)


def decode_file(source: str | Path | BinaryIO, **kwargs: int) -> pa.Table:
    """Decode a whole capture into one Arrow table (convenience for small files and tests)."""
    from netqos.decode.schema import PACKET_SCHEMA

    with open_capture(source, **kwargs) as reader:
        return pa.Table.from_batches(list(reader.batches()), schema=PACKET_SCHEMA)
