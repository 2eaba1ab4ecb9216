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
