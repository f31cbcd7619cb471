"""Stable flow ids: a 64-bit hash of sensor, canonical key and first timestamp, independent of row order."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netqos.flows._kernel import fnv1a_strings

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def text_hashes(values: pa.Array) -> np.ndarray:
    """uint64 hash of each dictionary string (FNV-1a over the UTF-8 bytes): one per distinct value, not per row."""
    arr = pc.fill_null(values.cast(pa.large_string()), "")
    if len(arr) == 0:
        return np.zeros(0, np.uint64)
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(data_buf, np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    hashes: np.ndarray = fnv1a_strings(offsets, data)
    return hashes


def _mix(h: np.ndarray, x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser of h ^ x (vectorised, wrapping uint64 arithmetic)."""
    z = (h ^ x.astype(np.uint64)) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def flow_ids(
    sensor_h: np.ndarray,
    a_h: np.ndarray,
    a_port: np.ndarray,
    b_h: np.ndarray,
    b_port: np.ndarray,
    key_word: np.ndarray,
    first_ts: np.ndarray,
) -> np.ndarray:
    """int64 ids from per-flow hashes; the two endpoints are combined order-independently."""
    with np.errstate(over="ignore"):
        ea = _mix(a_h, a_port)
        eb = _mix(b_h, b_port)
        lo = np.minimum(ea, eb)
        hi = np.maximum(ea, eb)
        h = _mix(sensor_h, lo)
        h = _mix(h, hi)
        h = _mix(h, key_word)
        h = _mix(h, first_ts)
    return h.view(np.int64)
