"""estimation/within.py: the one singleton routine gives reghdfe's set whatever the removal order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pilotdid.estimation.twfe.data import count_singletons
from pilotdid.estimation.within import drop_singletons


def simultaneous(codes: list[np.ndarray]) -> np.ndarray:
    """reghdfe's order: every FE's singletons found on the same pass, then removed together."""
    keep = np.ones(codes[0].size, dtype=bool)
    while True:
        drop = np.zeros(codes[0].size, dtype=bool)
        for c in codes:
            counts = np.bincount(c[keep], minlength=c.max() + 1)
            drop |= keep & (counts[c] == 1)
        if not drop.any():
            return keep
        keep &= ~drop


def test_any_removal_order_reaches_the_same_rows():
    for seed in range(200):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(1, 60))
        codes = [rng.integers(0, int(rng.integers(1, 25)), n) for _ in range(int(rng.integers(1, 4)))]
        assert np.array_equal(drop_singletons(codes), simultaneous(codes)), seed
        assert np.array_equal(drop_singletons(codes[::-1]), simultaneous(codes)), seed


def test_count_singletons_uses_it():
    frame = pd.DataFrame({"unit": [1, 1, 2, 3, 3, 4], "year": [1, 2, 1, 1, 2, 2]})
    n, mask = count_singletons(frame, ["unit", "year"])
    # unit 2 and unit 4 are singletons; then every year still has two rows
    assert n == 2 and list(mask) == [False, False, True, False, False, True]
    assert count_singletons(frame, [])[0] == 0


def _dummy_residuals(codes: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """x minus its least-squares fit on every factor's dummies (dense numpy lstsq: the reference)."""
    dummies = np.column_stack([np.eye(int(c.max()) + 1)[c] for c in codes])
    return x - dummies @ np.linalg.lstsq(dummies, x, rcond=None)[0]


def test_two_way_demeaning_is_exact_on_unbalanced_and_disconnected_layouts():
    from pilotdid.estimation.within import FixedEffectPartialler

    for seed in range(30):
        rng = np.random.default_rng(seed)
        units, periods = int(rng.integers(3, 40)), int(rng.integers(2, 12))
        unit = np.repeat(np.arange(units), periods)
        period = np.tile(np.arange(periods), units)
        keep = rng.random(unit.size) > rng.uniform(0.05, 0.5)
        if seed % 3 == 0:  # two disconnected blocks: units < half only in early periods, the rest only late
            keep &= (unit < units // 2) == (period < periods // 2)
        unit, period = pd.factorize(unit[keep], sort=True)[0], pd.factorize(period[keep], sort=True)[0]
        if unit.size < 3:
            continue
        x = rng.normal(size=(unit.size, 3))
        partialler = FixedEffectPartialler([unit, period])
        assert not partialler.balanced_two_way or keep.all()
        np.testing.assert_allclose(partialler.demean(x), _dummy_residuals([unit, period], x), atol=1e-11)
        # the factor order does not matter
        np.testing.assert_allclose(FixedEffectPartialler([period, unit]).demean(x), partialler.demean(x), atol=1e-11)
