"""netqos.features._groups: vectorised per-group reductions against per-group NumPy / Python references."""

from __future__ import annotations

import numpy as np
import pytest

from netqos.features import _groups as G

QS = (0.0, 1.0, 25.0, 50.0, 95.0, 99.0, 100.0)


def _random_groups(seed: int, n: int, n_groups: int, nan_share: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # Only the even groups get rows (odd ones and the tail stay empty); values include ties and NaNs.
    group = rng.integers(0, n_groups // 2, n) * 2
    values = np.round(rng.exponential(0.05, n), 3)
    values[rng.random(n) < nan_share] = np.nan
    return group, values


@pytest.mark.parametrize(("seed", "n", "n_groups", "nan_share"), [(1, 2000, 40, 0.2), (2, 37, 50, 0.5), (3, 500, 8, 0)])
def test_group_percentiles_match_numpy_per_group(seed: int, n: int, n_groups: int, nan_share: float) -> None:
    group, values = _random_groups(seed, n, n_groups, nan_share)
    got = G.group_percentiles(group, values, n_groups, QS)
    assert got.shape == (len(QS), n_groups)
    for gi in range(n_groups):
        vals = values[(group == gi) & ~np.isnan(values)]
        if vals.size == 0:
            assert np.isnan(got[:, gi]).all(), gi
        else:
            np.testing.assert_allclose(got[:, gi], np.percentile(vals, QS), rtol=1e-12, atol=0)


def test_group_percentiles_unsorted_input_single_values_and_all_nan() -> None:
    group = np.array([2, 0, 2, 2, 0, 1, 2])
    values = np.array([4.0, 10.0, 1.0, 3.0, np.nan, 7.0, 2.0])
    got = G.group_percentiles(group, values, 4, (50.0, 95.0))
    np.testing.assert_allclose(got[:, 0], [10.0, 10.0])  # one value (the NaN is ignored)
    np.testing.assert_allclose(got[:, 1], [7.0, 7.0])
    np.testing.assert_allclose(got[:, 2], [2.5, 3.85])  # sorted 1 2 3 4: linear interpolation
    assert np.isnan(got[:, 3]).all()
    empty = G.group_percentiles(np.array([0, 1]), np.array([np.nan, np.nan]), 3, (50.0,))
    assert empty.shape == (1, 3) and np.isnan(empty).all()
    assert G.group_percentiles(np.zeros(0, np.int64), np.zeros(0), 2, (50.0,)).shape == (1, 2)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_distinct_count_matches_python_sets(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, n_groups = 3000, 30
    group = rng.integers(0, n_groups - 3, n)  # the last groups have no rows
    item = rng.integers(-20, 20, n) * 1_000_000_007  # large and negative ids hash/sort like any int64
    mask = rng.random(n) < 0.7
    expected = [
        len({int(i) for g, i, m in zip(group, item, mask, strict=True) if m and g == gi}) for gi in range(n_groups)
    ]
    got = G.distinct_count(group, item, mask, n_groups)
    assert got.dtype == np.int64
    assert got.tolist() == expected
    assert G.distinct_count(group, item, np.zeros(n, np.bool_), n_groups).tolist() == [0] * n_groups


def test_group_min_ignores_nan_and_leaves_empty_groups_nan() -> None:
    rng = np.random.default_rng(7)
    n, n_groups = 1000, 12
    group = rng.integers(0, n_groups - 2, n)
    values = rng.normal(-60.0, 15.0, n)
    values[rng.random(n) < 0.3] = np.nan
    values[group == 3] = np.nan  # a group with rows but no value
    got = G.group_min(group, values, n_groups)
    for gi in range(n_groups):
        vals = values[(group == gi) & ~np.isnan(values)]
        if vals.size:
            assert got[gi] == vals.min()
        else:
            assert np.isnan(got[gi]), gi


def test_group_sum_and_count() -> None:
    group = np.array([0, 2, 2, 0, 2])
    assert G.group_sum(group, np.array([1.5, 2.0, 3.0, 4.0, 5.0]), 4).tolist() == [5.5, 0.0, 10.0, 0.0]
    assert G.group_count(group, np.array([True, True, False, True, True]), 4).tolist() == [2, 0, 2, 0]
