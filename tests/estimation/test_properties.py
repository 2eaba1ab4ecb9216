"""Numerical invariants of the TWFE fit under every preset (hypothesis; SYNTHETIC panels)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pilotdid.estimation.twfe import VCOV_PRESETS, fit_twfe

from .conftest import synthetic_panel

XS = ["did", "x1", "x2"]


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.01, 100.0), preset=st.sampled_from(list(VCOV_PRESETS)))
def test_scale_equivariance_and_row_order(seed, scale, preset):
    df = synthetic_panel(n_units=10, n_years=5, seed=seed, drop=3)
    base = fit_twfe(df, "y", XS, ["unit", "year"], "unit", vcov=preset)
    scaled = fit_twfe(df.assign(y=df["y"] * scale), "y", XS, ["unit", "year"], "unit", vcov=preset)
    np.testing.assert_allclose(scaled.coefs["coef"], base.coefs["coef"] * scale, rtol=1e-7, atol=1e-9 * scale)
    np.testing.assert_allclose(scaled.coefs["se"], base.coefs["se"] * scale, rtol=1e-7)
    np.testing.assert_allclose(scaled.coefs["t"], base.coefs["t"], rtol=1e-6, atol=1e-8)
    shuffled = fit_twfe(df.sample(frac=1.0, random_state=seed), "y", XS, ["unit", "year"], "unit", vcov=preset)
    np.testing.assert_allclose(shuffled.coefs["se"], base.coefs["se"], rtol=1e-7)
    if base.constant is not None:
        assert np.isclose(shuffled.constant["coef"], base.constant["coef"], rtol=1e-8)
        assert np.isclose(scaled.constant["se"], base.constant["se"] * scale, rtol=1e-7)
    assert 0 <= base.r2_within <= base.r2 <= 1
