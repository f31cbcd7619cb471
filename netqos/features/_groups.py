"""Vectorised per-group reductions over rows tagged with a dense group index (NumPy, no Python loop per row)."""

from __future__ import annotations

import numpy as np


def group_sum(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    return np.bincount(group, weights=values, minlength=n_groups)[:n_groups]


def group_count(group: np.ndarray, mask: np.ndarray, n_groups: int) -> np.ndarray:
    return np.bincount(group[mask], minlength=n_groups)[:n_groups].astype(np.int64)


def group_min(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Minimum per group over non-NaN values; NaN for groups without one."""
    out = np.full(n_groups, np.inf)
    ok = ~np.isnan(values)
    np.minimum.at(out, group[ok], values[ok])
    out[np.bincount(group[ok], minlength=n_groups)[:n_groups] == 0] = np.nan
    return out


def group_percentiles(group: np.ndarray, values: np.ndarray, n_groups: int, qs: tuple[float, ...]) -> np.ndarray:
    """Exact percentiles (linear interpolation, NumPy's default) per group over non-NaN values.

    Returns (len(qs), n_groups), NaN for groups without values. One lexsort for all groups and quantiles.
    """
    ok = ~np.isnan(values)
    g, v = group[ok], values[ok]
    order = np.lexsort((v, g))
    return sorted_group_percentiles(g[order], v[order], n_groups, qs)


def sorted_group_percentiles(g: np.ndarray, v: np.ndarray, n_groups: int, qs: tuple[float, ...]) -> np.ndarray:
    """group_percentiles() of values already sorted by (group, value)."""
    out = np.full((len(qs), n_groups), np.nan)
    if g.shape[0] == 0:
        return out
    counts = np.bincount(g, minlength=n_groups)[:n_groups]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    has = counts > 0
    for i, q in enumerate(qs):
        # Position within the group first: the fraction must not lose bits to a large row offset.
        k = (counts[has] - 1) * (q / 100.0)
        whole = np.floor(k)
        lo = starts[has] + whole.astype(np.int64)
        hi = np.minimum(lo + 1, starts[has] + counts[has] - 1)
        out[i, has] = v[lo] + (v[hi] - v[lo]) * (k - whole)
    return out


def distinct_count(group: np.ndarray, item: np.ndarray, mask: np.ndarray, n_groups: int) -> np.ndarray:
    """Number of distinct `item` values per group over masked rows."""
    g, it = group[mask], item[mask]
    if g.shape[0] == 0:
        return np.zeros(n_groups, np.int64)
    order = np.lexsort((it, g))
    g, it = g[order], it[order]
    new = np.ones(g.shape[0], np.bool_)
    new[1:] = (g[1:] != g[:-1]) | (it[1:] != it[:-1])
    return np.bincount(g[new], minlength=n_groups)[:n_groups].astype(np.int64)
