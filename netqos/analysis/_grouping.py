"""Numba kernel shared by the TCP analysis and the flow builder: bidirectional conversation grouping.

Rows with the same unordered pair of (address code, port) endpoints and the same two extra key words get the
same group id, numbered by first appearance. Open addressing in a table that doubles when half full, so its
size follows the number of groups, not of rows.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _hash4(a: int, b: int, c: int, d: int) -> int:
    h = a * -7046029254386353131 + b
    h = (h ^ (h >> 29)) * -4658895280553007687 + c
    h = (h ^ (h >> 32)) * -7046029254386353131 + d
    h = (h ^ (h >> 29)) * -4658895280553007687
    return h ^ (h >> 31)


@njit(cache=True, nogil=True)
def group_conversations(
    valid: np.ndarray,
    src_addr: np.ndarray,
    dst_addr: np.ndarray,
    src_port: np.ndarray,
    dst_port: np.ndarray,
    extra_hi: np.ndarray,
    extra_lo: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Group ids of the valid rows (numbered by first appearance, -1 elsewhere) and each row's direction.

    The key is the unordered pair of (address code, port) endpoints plus `extra_hi` and `extra_lo` (any int64
    values that must match too, e.g. VLAN, file, protocol; pass zeros to ignore them). Ports must fit in 16 bits.
    Direction 0 = the row's source is the smaller endpoint.
    """
    n = valid.shape[0]
    gid = np.full(n, -1, np.int64)
    dirn = np.zeros(n, np.int64)
    size = 1024
    key1 = np.empty(size, np.int64)
    key2 = np.empty(size, np.int64)
    key3 = np.empty(size, np.int64)
    key4 = np.empty(size, np.int64)
    slot_gid = np.full(size, -1, np.int64)
    groups = 0
    for i in range(n):
        if not valid[i]:
            continue
        sa = src_addr[i]
        da = dst_addr[i]
        sp = src_port[i]
        dp = dst_port[i]
        if sa < da or (sa == da and sp <= dp):
            a = (sa << 16) | sp
            b = (da << 16) | dp
        else:
            a = (da << 16) | dp
            b = (sa << 16) | sp
            dirn[i] = 1
        c = extra_hi[i]
        d = extra_lo[i]
        if 2 * (groups + 1) > size:
            old1, old2, old3, old4, old_gid = key1, key2, key3, key4, slot_gid
            size *= 2
            key1 = np.empty(size, np.int64)
            key2 = np.empty(size, np.int64)
            key3 = np.empty(size, np.int64)
            key4 = np.empty(size, np.int64)
            slot_gid = np.full(size, -1, np.int64)
            for j in range(old_gid.shape[0]):
                if old_gid[j] >= 0:
                    q = _hash4(old1[j], old2[j], old3[j], old4[j]) & (size - 1)
                    while slot_gid[q] >= 0:
                        q = (q + 1) & (size - 1)
                    key1[q] = old1[j]
                    key2[q] = old2[j]
                    key3[q] = old3[j]
                    key4[q] = old4[j]
                    slot_gid[q] = old_gid[j]
        mask = size - 1
        q = _hash4(a, b, c, d) & mask
        while True:
            g = slot_gid[q]
            if g < 0:
                key1[q] = a
                key2[q] = b
                key3[q] = c
                key4[q] = d
                slot_gid[q] = groups
                gid[i] = groups
                groups += 1
                break
            if key1[q] == a and key2[q] == b and key3[q] == c and key4[q] == d:
                gid[i] = g
                break
            q = (q + 1) & mask
    return gid, dirn, groups
