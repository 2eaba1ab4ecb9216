"""refit_outcomes (one feols_arrays design, many outcome columns) equals a pf.feols fit of each outcome: coefficients
and CRV1 covariance to 1e-10, unweighted and weighted, on unbalanced panels, with a collinear column pyfixest drops
and with clusters coarser than the units. SYNTHETIC panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilotdid.estimation import fixest as fx
from pilotdid.estimation.fixest import feols_arrays, pf, quiet, refit_outcomes


def _panel(seed: int, n_units: int = 60, n_years: int = 9, keep: float = 0.85) -> pd.DataFrame:
    """SYNTHETIC unbalanced panel with three outcomes of different scales."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_years)
    year = np.tile(np.arange(2010, 2010 + n_years), n_units)
    first = rng.choice([0, 2013, 2015, 2016], size=n_units)[unit]
    did = ((first > 0) & (year >= first)).astype(float)
    x1, x2 = rng.normal(size=(2, unit.size))
    base = rng.normal(size=n_units)[unit] + 0.1 * (year - 2010)
    frame = pd.DataFrame({
        "y0": base + 0.5 * did + 0.3 * x1 + rng.normal(size=unit.size),
        "y1": 100 * (base - 0.2 * did + rng.normal(size=unit.size)),
        "y2": rng.exponential(size=unit.size) * 1e-3,
        "did": did, "x1": x1, "x2": x2, "x_dup": 2 * x1, "unit": unit, "year": year,
        "w": rng.uniform(0.5, 2.0, unit.size), "prov": unit // 6})
    return frame[rng.random(len(frame)) < keep].reset_index(drop=True)


@pytest.mark.parametrize("weights", [None, "w"])
@pytest.mark.parametrize("cluster", ["unit", "prov"])
@pytest.mark.parametrize("seed", [0, 1])
def test_each_column_equals_its_own_fit(weights, cluster, seed) -> None:
    frame = _panel(seed)
    names = ["did", "x1", "x2", "x_dup"]  # x_dup is collinear: pyfixest drops it in every fit
    columns = {c: frame[c].to_numpy() for c in ("y0", "unit", "year", "w", "prov")}
    x = frame[names].to_numpy(dtype=float)
    kw = dict(vcov={"CRV1": cluster}, weights=weights)
    import warnings

    with quiet(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"[\s\S]*variables dropped due to multicollinearity")
        fit = feols_arrays("y0 ~ did + x1 + x2 + x_dup | unit + year", columns, x=x, x_names=names, **kw)
        refits = refit_outcomes(fit, frame[["y0", "y1", "y2"]].to_numpy())
        assert len(refits) == 3
        for j, outcome in enumerate(("y0", "y1", "y2")):
            ref = pf.feols(f"{outcome} ~ did + x1 + x2 + x_dup | unit + year", frame, fixef_rm="none", **kw)
            beta, vcov = refits[j]
            assert fx.coef_names(ref) == fx.coef_names(fit) == ["did", "x1", "x2"]
            scale = np.abs(fx.coefficients(ref)).max()
            np.testing.assert_allclose(beta, fx.coefficients(ref), rtol=1e-10, atol=1e-10 * scale)
            np.testing.assert_allclose(vcov, fx.vcov_matrix(ref), rtol=1e-10, atol=1e-10 * np.abs(fx.vcov_matrix(ref)).max())
    # the first column is the fit's own outcome: its refit repeats the fit
    np.testing.assert_allclose(refits[0][0], fx.coefficients(fit), rtol=1e-12)


def test_declines_what_it_does_not_handle() -> None:
    frame = _panel(2)
    columns = {c: frame[c].to_numpy() for c in ("y0", "unit", "year")}
    x = frame[["did", "x1"]].to_numpy(dtype=float)
    with quiet():
        hetero = feols_arrays("y0 ~ did + x1 | unit + year", columns, x=x, x_names=["did", "x1"], vcov="hetero")
        crv = feols_arrays("y0 ~ did + x1 | unit + year", columns, x=x, x_names=["did", "x1"], vcov={"CRV1": "unit"})
    assert refit_outcomes(hetero, frame[["y1"]].to_numpy()) is None  # not clustered
    assert refit_outcomes(crv, frame[["y1"]].to_numpy()[:-1]) is None  # other rows
    y = frame[["y1"]].to_numpy().copy()
    y[3] = np.nan
    assert refit_outcomes(crv, y) is None  # a missing value: the caller fits (and drops rows) itself
    assert refit_outcomes(crv, np.empty((len(frame), 0))) == []
