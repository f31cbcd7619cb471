"""Tiny test-only pcap / pcapng writer for crafting edge cases.

Everything returns `bytes`; nothing validates on purpose, so tests can build broken files
(wrong block lengths, truncated records, odd magics...). Byte order is `"<"` (little) or `">"` (big).

Classic pcap::

    pcap_file([Record(b"...", ts_sec=1, ts_frac=2)], linktype=1, nanos=True, endian=">")

pcapng::

    shb() + idb(1, tsresol=9) + epb(b"...", ts=ts_units(1_500_000_000_123_456_789, 9)) + spb(b"...")
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

PCAP_MAGIC_USEC = 0xA1B2C3D4
PCAP_MAGIC_NSEC = 0xA1B23C4D

# ---------------------------------------------------------------------------------------------- classic pcap


@dataclass(frozen=True)
class Record:
    data: bytes
    ts_sec: int = 0
    ts_frac: int = 0  # microseconds or nanoseconds, depending on the file magic
    orig_len: int | None = None  # defaults to len(data)
    incl_len: int | None = None  # defaults to len(data); set it to lie about the captured length


def pcap_header(
    *,
    linktype: int = 1,
    nanos: bool = False,
    endian: str = "<",
    snaplen: int = 262144,
    version: tuple[int, int] = (2, 4),
    magic: int | None = None,
) -> bytes:
    """The 24-byte global header. `linktype` is written verbatim (FCS bits included if you set them)."""
    if magic is None:
        magic = PCAP_MAGIC_NSEC if nanos else PCAP_MAGIC_USEC
    return struct.pack(endian + "IHHiIII", magic, version[0], version[1], 0, 0, snaplen, linktype)


def pcap_record(rec: Record, *, endian: str = "<") -> bytes:
    incl = len(rec.data) if rec.incl_len is None else rec.incl_len
    orig = len(rec.data) if rec.orig_len is None else rec.orig_len
    return struct.pack(endian + "IIII", rec.ts_sec & 0xFFFFFFFF, rec.ts_frac & 0xFFFFFFFF, incl, orig) + rec.data


def pcap_file(
    records: Iterable[Record | bytes],
    *,
    linktype: int = 1,
    nanos: bool = False,
    endian: str = "<",
    snaplen: int = 262144,
    version: tuple[int, int] = (2, 4),
    magic: int | None = None,
) -> bytes:
    """A whole classic pcap file. Bare `bytes` records get timestamp (i, 0) for the i-th record."""
    out = [pcap_header(linktype=linktype, nanos=nanos, endian=endian, snaplen=snaplen, version=version, magic=magic)]
    for i, rec in enumerate(records):
        if isinstance(rec, bytes | bytearray):
            rec = Record(bytes(rec), ts_sec=i)
        out.append(pcap_record(rec, endian=endian))
    return b"".join(out)


# ---------------------------------------------------------------------------------------------- pcapng

BT_SHB = 0x0A0D0D0A
BT_IDB = 0x00000001
BT_OPB = 0x00000002  # obsolete Packet Block
BT_SPB = 0x00000003
BT_NRB = 0x00000004
BT_ISB = 0x00000005
BT_EPB = 0x00000006
BT_DSB = 0x0000000A
BT_CUSTOM_COPY = 0x00000BAD
BT_CUSTOM_NOCOPY = 0x40000BAD
BYTE_ORDER_MAGIC = 0x1A2B3C4D

OPT_ENDOFOPT = 0
OPT_COMMENT = 1
IF_NAME = 2
IF_TSRESOL = 9
IF_TSOFFSET = 14
EPB_FLAGS = 2


def _pad4(b: bytes) -> bytes:
    return b + b"\x00" * (-len(b) % 4)


def option(code: int, value: bytes, *, endian: str = "<") -> bytes:
    return struct.pack(endian + "HH", code, len(value)) + _pad4(value)


def options(opts: Sequence[tuple[int, bytes]], *, endian: str = "<") -> bytes:
    """Encoded option list plus opt_endofopt (empty bytes when there are no options)."""
    if not opts:
        return b""
    return b"".join(option(c, v, endian=endian) for c, v in opts) + struct.pack(endian + "HH", OPT_ENDOFOPT, 0)


def block(
    btype: int,
    body: bytes,
    *,
    endian: str = "<",
    total_len: int | None = None,
    trailer_len: int | None = None,
    pad: bool = True,
) -> bytes:
    """A generic block: type, total length, body (padded to 4 unless pad=False), trailing length.

    `total_len` / `trailer_len` override the two length fields (to craft broken blocks).
    """
    if pad:
        body = _pad4(body)
    length = 12 + len(body)
    tl = length if total_len is None else total_len
    tr = tl if trailer_len is None else trailer_len
    return struct.pack(endian + "II", btype, tl) + body + struct.pack(endian + "I", tr)


def shb(
    *,
    endian: str = "<",
    major: int = 1,
    minor: int = 0,
    section_len: int = -1,
    opts: Sequence[tuple[int, bytes]] = (),
    total_len: int | None = None,
) -> bytes:
    body = struct.pack(endian + "IHHq", BYTE_ORDER_MAGIC, major, minor, section_len) + options(opts, endian=endian)
    return block(BT_SHB, body, endian=endian, total_len=total_len)


def tsresol_byte(exponent: int, *, power_of_two: bool = False) -> int:
    """if_tsresol value: 10^-exponent, or 2^-exponent when the high bit is set."""
    return (0x80 | exponent) if power_of_two else exponent


def idb(
    linktype: int,
    *,
    snaplen: int = 0,
    tsresol: int | None = None,
    tsoffset: int | None = None,
    name: str | None = None,
    endian: str = "<",
    extra_opts: Sequence[tuple[int, bytes]] = (),
) -> bytes:
    """Interface Description Block. `tsresol` is the raw if_tsresol byte (see tsresol_byte)."""
    opts: list[tuple[int, bytes]] = []
    if name is not None:
        opts.append((IF_NAME, name.encode()))
    if tsresol is not None:
        opts.append((IF_TSRESOL, bytes([tsresol])))
    if tsoffset is not None:
        opts.append((IF_TSOFFSET, struct.pack(endian + "q", tsoffset)))
    opts.extend(extra_opts)
    body = struct.pack(endian + "HHI", linktype, 0, snaplen) + options(opts, endian=endian)
    return block(BT_IDB, body, endian=endian)


def ts_units(ts_ns: int, tsresol: int | None = None) -> int:
    """Convert nanoseconds since the epoch to the interface's timestamp units (floor)."""
    if tsresol is None:
        tsresol = 6
    exp = tsresol & 0x7F
    per_second = (2**exp) if tsresol & 0x80 else (10**exp)
    return int(Fraction(ts_ns) * per_second // 10**9)


def units_to_ns(units: int, tsresol: int | None = None) -> int:
    """Inverse of ts_units, floored to whole nanoseconds."""
    if tsresol is None:
        tsresol = 6
    exp = tsresol & 0x7F
    per_second = (2**exp) if tsresol & 0x80 else (10**exp)
    return int(Fraction(units) * 10**9 // per_second)


def epb(
    data: bytes,
    *,
    iface: int = 0,
    ts: int = 0,
    orig_len: int | None = None,
    cap_len: int | None = None,
    endian: str = "<",
    opts: Sequence[tuple[int, bytes]] = (),
    total_len: int | None = None,
) -> bytes:
    """Enhanced Packet Block; `ts` is in the interface's units (see ts_units)."""
    cl = len(data) if cap_len is None else cap_len
    ol = len(data) if orig_len is None else orig_len
    hdr = struct.pack(endian + "IIIII", iface, (ts >> 32) & 0xFFFFFFFF, ts & 0xFFFFFFFF, cl, ol)
    return block(BT_EPB, hdr + _pad4(data) + options(opts, endian=endian), endian=endian, total_len=total_len)


def spb(data: bytes, *, orig_len: int | None = None, endian: str = "<") -> bytes:
    """Simple Packet Block: original length + data; captured length derives from the block length."""
    ol = len(data) if orig_len is None else orig_len
    return block(BT_SPB, struct.pack(endian + "I", ol) + _pad4(data), endian=endian)


def opb(
    data: bytes,
    *,
    iface: int = 0,
    drops: int = 0,
    ts: int = 0,
    orig_len: int | None = None,
    endian: str = "<",
) -> bytes:
    """Obsolete Packet Block (type 2): 16-bit interface id + 16-bit drops count."""
    ol = len(data) if orig_len is None else orig_len
    hdr = struct.pack(endian + "HHIIII", iface, drops, (ts >> 32) & 0xFFFFFFFF, ts & 0xFFFFFFFF, len(data), ol)
    return block(BT_OPB, hdr + _pad4(data), endian=endian)


def custom_block(payload: bytes, *, pen: int = 32473, copyable: bool = True, endian: str = "<") -> bytes:
    """Custom Block (0x00000BAD, or 0x40000BAD when not copyable); PEN 32473 is the documentation PEN."""
    btype = BT_CUSTOM_COPY if copyable else BT_CUSTOM_NOCOPY
    return block(btype, struct.pack(endian + "I", pen) + payload, endian=endian)


def unknown_block(btype: int = 0x0000_7FFF, body: bytes = b"\x01\x02\x03\x04", *, endian: str = "<") -> bytes:
    return block(btype, body, endian=endian)


def nrb_ipv4(addr: bytes, name: str, *, endian: str = "<") -> bytes:
    """Name Resolution Block with one IPv4 record."""
    rec_val = addr + name.encode() + b"\x00"
    rec = struct.pack(endian + "HH", 1, len(rec_val)) + _pad4(rec_val)
    return block(BT_NRB, rec + struct.pack(endian + "HH", 0, 0), endian=endian)


def isb(iface: int = 0, *, ts: int = 0, endian: str = "<") -> bytes:
    """Interface Statistics Block without options."""
    return block(BT_ISB, struct.pack(endian + "III", iface, (ts >> 32) & 0xFFFFFFFF, ts & 0xFFFFFFFF), endian=endian)


def pcapng_file(*blocks: bytes) -> bytes:
    return b"".join(blocks)
