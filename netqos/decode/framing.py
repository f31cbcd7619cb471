"""Record framing: find where each packet record starts in a chunk of a pcap or pcapng file.

Framing is inherently sequential (each record's length gives the next record's offset), so it runs as one
compiled loop over the whole chunk instead of a Python object per packet. The kernels stop and return a
reason code whenever Python must act: end of chunk, a pcapng control block (SHB/IDB), or corruption.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Why a framing kernel returned.
STOP_NEED_DATA = 0  # the next record is incomplete in this chunk (read more, or EOF)
STOP_CONTROL_BLOCK = 1  # pcapng SHB or IDB at `pos`: Python parses it and resumes
STOP_OUT_FULL = 2  # the output arrays are full
STOP_BAD_BLOCK_LENGTH = 3  # pcapng block length < 12, not a multiple of 4, or trailer mismatch
STOP_BAD_INTERFACE = 4  # EPB/OPB names an interface with no IDB
STOP_OVERSIZED = 5  # a record claims more than max_record bytes
STOP_BAD_RECORD = 6  # a record's caplen does not fit inside its own block

# pcap record-header length order, from the file header's version (as Wireshark's libpcap reader does).
NOT_SWAPPED = 0
SWAPPED = 1
MAYBE_SWAPPED = 2

TS_NULL = np.iinfo(np.int64).min  # timestamp unknown (pcapng simple packet block)

BLOCK_SHB = 0x0A0D0D0A
BLOCK_IDB = 0x00000001
BLOCK_OPB = 0x00000002
BLOCK_SPB = 0x00000003
BLOCK_EPB = 0x00000006


@njit(cache=True, nogil=True, inline="always")
def _u32(buf: np.ndarray, i: int, big: bool) -> int:
    if big:
        return (np.uint32(buf[i]) << 24) | (np.uint32(buf[i + 1]) << 16) | (np.uint32(buf[i + 2]) << 8) | buf[i + 3]
    return (np.uint32(buf[i + 3]) << 24) | (np.uint32(buf[i + 2]) << 16) | (np.uint32(buf[i + 1]) << 8) | buf[i]


@njit(cache=True, nogil=True, inline="always")
def _u16(buf: np.ndarray, i: int, big: bool) -> int:
    if big:
        return (np.uint32(buf[i]) << 8) | buf[i + 1]
    return (np.uint32(buf[i + 1]) << 8) | buf[i]


@njit(cache=True, nogil=True)
def frame_pcap(
    buf: np.ndarray,
    pos: int,
    end: int,
    big: bool,
    frac_to_ns: int,
    lengths_swapped: int,
    max_record: int,
    out_off: np.ndarray,
    out_cap: np.ndarray,
    out_wire: np.ndarray,
    out_ts: np.ndarray,
) -> tuple[int, int, int]:
    """Frame classic pcap records in buf[pos:end]. Returns (records, next_pos, stop_code).

    lengths_swapped: pcap < 2.3 stored (orig_len, incl_len) in that order; 2.3 may have either order.
    """
    n = 0
    limit = out_off.shape[0]
    while True:
        if n >= limit:
            return n, pos, STOP_OUT_FULL
        if pos + 16 > end:
            return n, pos, STOP_NEED_DATA
        sec = np.int64(_u32(buf, pos, big))
        frac = np.int64(_u32(buf, pos + 4, big))
        caplen = np.int64(_u32(buf, pos + 8, big))
        wire = np.int64(_u32(buf, pos + 12, big))
        if lengths_swapped == SWAPPED or (lengths_swapped == MAYBE_SWAPPED and caplen > wire):
            caplen, wire = wire, caplen
        if caplen > max_record:
            return n, pos, STOP_OVERSIZED
        if pos + 16 + caplen > end:
            return n, pos, STOP_NEED_DATA
        out_off[n] = pos + 16
        out_cap[n] = caplen
        out_wire[n] = wire
        out_ts[n] = sec * 1_000_000_000 + frac * frac_to_ns
        n += 1
        pos += 16 + caplen


@njit(cache=True, nogil=True, inline="always")
def _ts_to_ns(units: np.uint64, pow2: bool, exp: int, offset_s: int) -> int:
    if pow2:
        whole = np.int64(units >> np.uint64(exp))
        frac = units & ((np.uint64(1) << np.uint64(exp)) - np.uint64(1))
        ns = whole * 1_000_000_000 + np.int64((frac * np.uint64(1_000_000_000)) >> np.uint64(exp))
    elif exp <= 9:
        ns = np.int64(units) * np.int64(10 ** (9 - exp))
    else:
        ns = np.int64(units // np.uint64(10 ** (exp - 9)))
    return ns + offset_s * 1_000_000_000


@njit(cache=True, nogil=True)
def frame_pcapng(
    buf: np.ndarray,
    pos: int,
    end: int,
    big: bool,
    if_linktype: np.ndarray,
    if_snaplen: np.ndarray,
    if_pow2: np.ndarray,
    if_exp: np.ndarray,
    if_offset_s: np.ndarray,
    max_record: int,
    out_off: np.ndarray,
    out_cap: np.ndarray,
    out_wire: np.ndarray,
    out_ts: np.ndarray,
    out_if: np.ndarray,
) -> tuple[int, int, int]:
    """Frame pcapng packet blocks (EPB/SPB/OPB) in buf[pos:end], skipping other blocks by their length.

    Returns (records, next_pos, stop_code); on STOP_CONTROL_BLOCK / errors `next_pos` is that block's start.
    """
    n = 0
    limit = out_off.shape[0]
    n_if = if_linktype.shape[0]
    while True:
        if n >= limit:
            return n, pos, STOP_OUT_FULL
        if pos + 12 > end:
            return n, pos, STOP_NEED_DATA
        btype = _u32(buf, pos, big)
        if btype == BLOCK_SHB or btype == BLOCK_IDB:
            return n, pos, STOP_CONTROL_BLOCK
        blen = np.int64(_u32(buf, pos + 4, big))
        if blen < 12 or blen % 4 != 0:
            return n, pos, STOP_BAD_BLOCK_LENGTH
        if blen > max_record + 64 and (btype == BLOCK_EPB or btype == BLOCK_SPB or btype == BLOCK_OPB):
            return n, pos, STOP_OVERSIZED
        if pos + blen > end:
            return n, pos, STOP_NEED_DATA
        if np.int64(_u32(buf, pos + blen - 4, big)) != blen:
            return n, pos, STOP_BAD_BLOCK_LENGTH
        body = pos + 8
        body_len = blen - 12
        if btype == BLOCK_EPB or btype == BLOCK_OPB:
            if body_len < 20:
                return n, pos, STOP_BAD_RECORD
            # The obsolete packet block has a 16-bit interface id (then a drop count); the layout is otherwise the same.
            iface = np.int64(_u32(buf, body, big)) if btype == BLOCK_EPB else np.int64(_u16(buf, body, big))
            hi = _u32(buf, body + 4, big)
            lo = _u32(buf, body + 8, big)
            caplen = np.int64(_u32(buf, body + 12, big))
            wire = np.int64(_u32(buf, body + 16, big))
            data = body + 20
            if iface >= n_if:
                return n, pos, STOP_BAD_INTERFACE
            if caplen > max_record:
                return n, pos, STOP_OVERSIZED
            if caplen > body_len - 20:
                return n, pos, STOP_BAD_RECORD
            units = (np.uint64(hi) << np.uint64(32)) | np.uint64(lo)
            out_ts[n] = _ts_to_ns(units, if_pow2[iface], if_exp[iface], if_offset_s[iface])
            out_off[n] = data
            out_cap[n] = caplen
            out_wire[n] = wire
            out_if[n] = iface
            n += 1
        elif btype == BLOCK_SPB:
            if n_if == 0 or body_len < 4:
                return n, pos, STOP_BAD_INTERFACE
            wire = np.int64(_u32(buf, body, big))
            caplen = wire
            snap = np.int64(if_snaplen[0])
            if snap > 0 and caplen > snap:
                caplen = snap
            if caplen > body_len - 4:
                caplen = body_len - 4
            out_ts[n] = TS_NULL
            out_off[n] = body + 4
            out_cap[n] = caplen
            out_wire[n] = wire
            out_if[n] = 0
            n += 1
        pos += blen
