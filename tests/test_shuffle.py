"""generated/_shuffle: fit's row orders are uniform permutations, reproducible from the seed alone."""
import itertools

import numpy as np
from numba import njit

from derive.kernels import _shuffle


def test_every_epoch_is_a_permutation_and_the_seed_decides_it():
    orders = _shuffle.orders(5, 1000, 3)
    assert orders.shape == (3, 1000) and orders.dtype == np.int64
    assert all(np.array_equal(np.sort(order), np.arange(1000)) for order in orders)
    assert not np.array_equal(orders[0], orders[1]), "two epochs drew the same order"
    np.testing.assert_array_equal(_shuffle.orders(5, 1000, 3), orders)
    assert not np.array_equal(_shuffle.orders(6, 1000, 3), orders)


def test_splitmix64_matches_its_reference_outputs():
    # the first outputs of SplitMix64 seeded with 1234567 (Vigna's splitmix64.c)
    expected = [6457827717110365317, 3203168211198807973, 9817491932198370423]
    state = _shuffle.seeded(1234567)
    assert [int(_draw(state)) for _ in expected] == expected


@njit
def _draw(state):
    return _shuffle._next(state)


def _chi_square(counts):
    expected = counts.sum() / counts.size
    return float(((counts - expected) ** 2 / expected).sum())


def test_the_24_orders_of_four_rows_are_equally_likely():
    draws = 240_000
    orders = _shuffle.orders(0, 4, draws)
    index = {p: i for i, p in enumerate(itertools.permutations(range(4)))}
    counts = np.bincount([index[tuple(o)] for o in orders], minlength=24)
    # 23 degrees of freedom: P(χ² > 60) < 1e-4
    assert _chi_square(counts) < 60, counts


@njit
def _bounded(bound, draws, wide, seed):
    state = _shuffle.seeded(seed)
    out = np.empty(draws, dtype=np.int64)
    for i in range(draws):
        out[i] = _shuffle._below_wide(np.uint64(bound), state) if wide else _shuffle._below(np.uint64(bound), state)
    return out


def test_bounded_draws_are_uniform_on_both_paths():
    for wide in (False, True):
        values = _bounded(7, 70_000, wide, 3)
        assert values.min() == 0 and values.max() == 6
        assert _chi_square(np.bincount(values, minlength=7)) < 30  # 6 degrees of freedom: P < 1e-4
    big = _bounded(2**40 + 3, 10_000, True, 4)
    assert big.min() >= 0 and big.max() < 2**40 + 3
    assert abs(np.mean(big) / 2**39 - 1) < 0.03  # the mean's standard error is 0.6 %
