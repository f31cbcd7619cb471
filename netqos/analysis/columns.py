"""Arrow -> NumPy helpers shared by the TCP analysis and the flow builder (nulls replaced, strings coded)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def column(table: pa.Table, name: str) -> pa.ChunkedArray | None:
    """The column, or None when the table does not have it."""
    if name in table.column_names:
        return table.column(name)
    return None


def ints(col: pa.ChunkedArray | None, n: int, fill: int) -> np.ndarray:
    """int64 NumPy copy of a column with nulls (or a missing column) replaced by `fill`."""
    if col is None:
        return np.full(n, fill, np.int64)
    return np.asarray(pc.fill_null(col, fill).to_numpy(), dtype=np.int64)


def valid(col: pa.ChunkedArray | None, n: int) -> np.ndarray:
    """Boolean mask of the non-null rows (all False for a missing column)."""
    if col is None:
        return np.zeros(n, np.bool_)
    return np.asarray(pc.is_valid(col).to_numpy(), dtype=np.bool_)


def codes(*cols: pa.ChunkedArray) -> list[np.ndarray]:
    """Integer codes for string columns sharing one dictionary (null -> -1)."""
    return codes_with_dictionary(*cols)[0]


def codes_with_dictionary(*cols: pa.ChunkedArray) -> tuple[list[np.ndarray], pa.Array]:
    """As `codes`, plus the shared dictionary (code i is dictionary[i])."""
    chunks = [c for col in cols for c in col.chunks]
    if not chunks:
        return [np.zeros(0, np.int64) for _ in cols], pa.array([], pa.string())
    combined = pa.chunked_array(chunks, type=pa.string()).combine_chunks().dictionary_encode()
    idx = np.asarray(pc.fill_null(combined.indices, -1).to_numpy(), dtype=np.int64)
    out = []
    start = 0
    for col in cols:
        out.append(idx[start : start + len(col)])
        start += len(col)
    return out, combined.dictionary
