"""Address text columns built straight into Arrow string buffers (no Python str per packet)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba import njit

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_COLON = ord(":")


def string_array(texts: list[str]) -> pa.Array:
    """A small string array built from buffers: pa.array() would import pandas (~0.5 s of start-up)."""
    encoded = [t.encode() for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return pa.StringArray.from_buffers(len(encoded), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded)))


def validity_buffer(valid: np.ndarray) -> pa.Buffer | None:
    if valid.all():
        return None
    return pa.py_buffer(np.packbits(valid, bitorder="little"))


@njit(cache=True, nogil=True)
def _mac_text_kernel(buf: np.ndarray, addr: np.ndarray) -> tuple:  # type: ignore[type-arg]
    """addr: int64 [rows, k] byte offsets (-1 = null). One pass over the rows for all k columns."""
    n, k = addr.shape
    data = np.empty((k, n * 17), dtype=np.uint8)
    offs = np.empty((k, n + 1), dtype=np.int32)
    o = np.zeros(k, dtype=np.int64)
    for p in range(n):
        for c in range(k):
            offs[c, p] = o[c]
            a = addr[p, c]
            if a < 0:
                continue
            q = o[c]
            for j in range(6):
                if j:
                    data[c, q] = _COLON
                    q += 1
                byte = buf[a + j]
                data[c, q] = _HEX[byte >> 4]
                data[c, q + 1] = _HEX[byte & 15]
                q += 2
            o[c] = q
    for c in range(k):
        offs[c, n] = o[c]
    return data, offs


def _string_columns(data: np.ndarray, offs: np.ndarray, valid: np.ndarray) -> list[pa.Array]:
    n = valid.shape[0]
    out = []
    for c in range(valid.shape[1]):
        ok = valid[:, c]
        nulls = n - int(np.count_nonzero(ok))
        if nulls == n:
            out.append(pa.nulls(n, type=pa.string()))
            continue
        bitmap = None if nulls == 0 else pa.py_buffer(np.packbits(ok, bitorder="little"))
        body = data[c, : offs[c, n]]
        out.append(pa.StringArray.from_buffers(n, pa.py_buffer(offs[c]), pa.py_buffer(body), bitmap, nulls))
    return out


def mac_text(buf: np.ndarray, addr: np.ndarray) -> list[pa.Array]:
    """aa:bb:cc:dd:ee:ff text columns for an int64 [rows, k] matrix of address offsets (-1 = null)."""
    valid = addr >= 0
    if not valid.any():
        return [pa.nulls(addr.shape[0], type=pa.string()) for _ in range(addr.shape[1])]
    data, offs = _mac_text_kernel(buf, np.ascontiguousarray(addr, dtype=np.int64))
    return _string_columns(data, offs, valid)


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
def _ip_text_kernel(buf: np.ndarray, addr: np.ndarray, is_v6: np.ndarray) -> tuple:  # type: ignore[type-arg]
    """addr: int64 [rows, k] offsets of addresses (-1 = null); one pass for all k columns."""
    n, k = addr.shape
    data = np.empty((k, n * 39 + 1), dtype=np.uint8)
    offs = np.empty((k, n + 1), dtype=np.int32)
    o = np.zeros(k, dtype=np.int64)
    for p in range(n):
        for c in range(k):
            offs[c, p] = o[c]
            a = addr[p, c]
            if a < 0:
                continue
            if is_v6[p]:
                o[c] = _write_ipv6(buf, a, data[c], o[c])
            else:
                o[c] = _write_ipv4(buf, a, data[c], o[c])
    for c in range(k):
        offs[c, n] = o[c]
    return data, offs


def ip_text(buf: np.ndarray, addr: np.ndarray, is_v6: np.ndarray) -> list[pa.Array]:
    """IPv4 dotted / IPv6 RFC 5952 text columns for an int64 [rows, k] matrix of address offsets (-1 = null)."""
    valid = addr >= 0
    if not valid.any():
        return [pa.nulls(addr.shape[0], type=pa.string()) for _ in range(addr.shape[1])]
    data, offs = _ip_text_kernel(buf, np.ascontiguousarray(addr, dtype=np.int64), is_v6)
    return _string_columns(data, offs, valid)
