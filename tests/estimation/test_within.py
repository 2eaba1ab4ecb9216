"""estimation/within.py: the one singleton routine gives reghdfe's set whatever the removal order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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


# --- the one small-sample factor -------------------------------------------------------------------------------


def test_small_sample_factor_float_order_is_pinned():
    """(N-1)/(N-K)·G/(G-1) left to right: the order every results.json SE was made with (bit-for-bit)."""
    from pilotdid.estimation.within import small_sample_factor

    rng = np.random.default_rng(3)
    for _ in range(500):
        n, k, g = int(rng.integers(50, 60_000)), int(rng.integers(1, 40)), int(rng.integers(2, 3_000))
        assert small_sample_factor(n, k, g) == (n - 1) / (n - k) * g / (g - 1)
        assert small_sample_factor(n, k, None) == n / (n - k)  # HC1
        assert small_sample_factor(n, k, g, k_adj=False) == g / (g - 1)
        assert small_sample_factor(n, k, g, G_adj=False) == (n - 1) / (n - k)


def test_presets_and_pyfixest_k_counting_share_the_factor():
    from pilotdid.estimation.twfe.covariance import get_preset
    from pilotdid.estimation.within import crv1_small_sample_factor, small_sample_factor

    for name in ("lsdv", "areg", "xtreg_fe", "reghdfe", "fixest"):
        assert get_preset(name).small_sample_factor(4_380, 312, 29) == small_sample_factor(4_380, 312, 29)
    # nonnested: unit levels nested in the unit cluster count as one; year levels count (minus the extra FE's one)
    assert crv1_small_sample_factor(600, 2, [50, 12], [True, False], 50) == small_sample_factor(600, 2 + 1 + 11, 50)
    assert crv1_small_sample_factor(600, 2, [50, 12], [True, False], 50, k_fixef="full") == small_sample_factor(
        600, 2 + 61, 50)


def test_crv1_factor_equals_pyfixest_ssc():
    """Peer check: pyfixest's own small-sample factor (fit._ssc) for its three k_fixef rules."""
    from pilotdid.estimation.fixest import feols, fit_statistics, pf
    from pilotdid.estimation.within import crv1_small_sample_factor

    rng = np.random.default_rng(11)
    frame = pd.DataFrame({"unit": np.repeat(np.arange(40), 9), "year": np.tile(np.arange(9), 40)})
    frame["x"] = rng.normal(size=len(frame))
    frame["z"] = rng.normal(size=len(frame))
    frame["y"] = frame.x + rng.normal(size=len(frame))
    for k_fixef in ("none", "full", "nonnested"):
        fit = feols("y ~ x + z | unit + year", frame, vcov={"CRV1": "unit"}, ssc=pf.ssc(k_fixef=k_fixef))
        ours = crv1_small_sample_factor(len(frame), 2, [40, 9], [True, False], 40, k_fixef=k_fixef)
        assert ours == pytest.approx(fit_statistics(fit)["ssc"], rel=1e-14), k_fixef
