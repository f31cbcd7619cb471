"""Address text columns built straight into Arrow string buffers (no Python str per packet)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba import njit

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_COLON = ord(":")


def validity_buffer(valid: np.ndarray) -> pa.Buffer | None:
    if valid.all():
        return None
    return pa.py_buffer(np.packbits(valid, bitorder="little"))


@njit(cache=True, nogil=True)
def _mac_text_kernel(buf: np.ndarray, offsets: np.ndarray, valid: np.ndarray) -> tuple:  # type: ignore[type-arg]
    n = offsets.shape[0]
    data = np.empty(n * 17, dtype=np.uint8)
    offs = np.empty(n + 1, dtype=np.int32)
    o = 0
    for p in range(n):
        offs[p] = o
        if not valid[p]:
            continue
        a = offsets[p]
        for k in range(6):
            if k:
                data[o] = _COLON
                o += 1
            byte = buf[a + k]
            data[o] = _HEX[byte >> 4]
            data[o + 1] = _HEX[byte & 15]
            o += 2
    offs[n] = o
    return data[:o], offs


def mac_text(buf: np.ndarray, offsets: np.ndarray, valid: np.ndarray) -> pa.Array:
    """aa:bb:cc:dd:ee:ff for every row whose `offsets` is valid; null elsewhere."""
    n = offsets.shape[0]
    if not valid.any():
        return pa.nulls(n, type=pa.string())
    data, offs = _mac_text_kernel(buf, offsets.astype(np.int64), valid)
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offs), pa.py_buffer(data), validity_buffer(valid), int(n - valid.sum())
    )


# Decimal text of every octet value: digits right-aligned in 3 bytes, plus the digit count.
_DEC_DIGITS = np.array([[ord(c) for c in f"{v:>3}"] for v in range(256)], dtype=np.uint8)
_DEC_LEN = np.array([len(str(v)) for v in range(256)], dtype=np.int64)


@njit(cache=True, nogil=True, inline="always")
def _write_dec(out: np.ndarray, o: int, v: int) -> int:
    k = _DEC_LEN[v]
    for j in range(3 - k, 3):
        out[o] = _DEC_DIGITS[v, j]
        o += 1
    return o


@njit(cache=True, nogil=True)
def _write_ipv4(buf: np.ndarray, a: int, out: np.ndarray, o: int) -> int:
    for k in range(4):
        if k:
            out[o] = 46  # '.'
            o += 1
        o = _write_dec(out, o, np.int64(buf[a + k]))
    return o


@njit(cache=True, nogil=True)
def _write_ipv6(buf: np.ndarray, a: int, out: np.ndarray, o: int) -> int:
    words = np.empty(8, dtype=np.int64)
    for k in range(8):
        words[k] = (np.int64(buf[a + 2 * k]) << 8) | buf[a + 2 * k + 1]
    # RFC 5952: the longest run (first on ties) of >= 2 zero groups becomes "::".
    best, best_len, cur, cur_len = -1, 0, -1, 0
    for k in range(8):
        if words[k] == 0:
            if cur < 0:
                cur, cur_len = k, 1
            else:
                cur_len += 1
            if cur_len > best_len:
                best, best_len = cur, cur_len
        else:
            cur = -1
    if best_len < 2:
        best = -1
    # IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) forms, as inet_ntop and Wireshark print.
    embedded = best == 0 and (best_len == 6 or (best_len == 5 and words[5] == 0xFFFF))
    k = 0
    while k < 8:
        if k == best:
            out[o] = _COLON
            o += 1
            if k == 0:
                out[o] = _COLON
                o += 1
            k += best_len
            if embedded:
                if best_len == 5:
                    o = _write_hex_group(out, o, words[5])
                    out[o] = _COLON
                    o += 1
                return _write_ipv4(buf, a + 12, out, o)
            continue
        o = _write_hex_group(out, o, words[k])
        if k < 7:
            out[o] = _COLON
            o += 1
        k += 1
    return o


@njit(cache=True, nogil=True, inline="always")
def _write_hex_group(out: np.ndarray, o: int, v: int) -> int:
    started = False
    for shift in (12, 8, 4, 0):
        d = (v >> shift) & 15
        if d or started or shift == 0:
            out[o] = _HEX[d]
            o += 1
            started = True
    return o


@njit(cache=True, nogil=True)
def _ip_text_kernel(buf: np.ndarray, addr_off: np.ndarray, is_v6: np.ndarray, valid: np.ndarray) -> tuple:  # type: ignore[type-arg]
    n = addr_off.shape[0]
    data = np.empty(n * 39 + 1, dtype=np.uint8)
    offs = np.empty(n + 1, dtype=np.int32)
    o = 0
    for p in range(n):
        offs[p] = o
        if not valid[p]:
            continue
        if is_v6[p]:
            o = _write_ipv6(buf, addr_off[p], data, o)
        else:
            o = _write_ipv4(buf, addr_off[p], data, o)
    offs[n] = o
    return data[:o], offs


def ip_text(buf: np.ndarray, addr_off: np.ndarray, is_v6: np.ndarray, valid: np.ndarray) -> pa.Array:
    n = addr_off.shape[0]
    if not valid.any():
        return pa.nulls(n, type=pa.string())
    data, offs = _ip_text_kernel(buf, addr_off.astype(np.int64), is_v6, valid)
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offs), pa.py_buffer(data), validity_buffer(valid), int(n - valid.sum())
    )
