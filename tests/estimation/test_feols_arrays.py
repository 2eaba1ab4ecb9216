"""feols_arrays (pyfixest's Feols on given arrays, without its formula machinery) gives pf.feols's numbers bit for
bit: coefficients, covariance, residuals, fit statistics and small-sample factors, for clustered and robust
covariances, weighted or not, with the dummy columns that ``i(cell, ref=0)`` encodes, and on an unbalanced panel.
It declines (returns None) where pf.feols would do something else: a missing value, a non-positive weight, a
singleton to drop. SYNTHETIC panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyfixest.estimation import MapDemeaner

from pilotdid.estimation.fixest import feols_arrays, pf, quiet

ATTRIBUTES = ("_beta_hat", "_vcov", "_N", "_ssc", "_df_k", "_df_t", "_r2", "_r2_within", "_adj_r2", "_rmse",
              "_coefnames", "_collin_vars", "_G", "_se", "_tstat", "_pvalue", "_k_fe")


def _panel(seed: int = 0, n_units: int = 40, n_years: int = 8, keep: float = 0.9) -> pd.DataFrame:
    """SYNTHETIC unbalanced staggered panel."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), n_years)
    year = np.tile(np.arange(2010, 2010 + n_years), n_units)
    first = rng.choice([0, 2013, 2015], size=n_units)[unit]
    did = ((first > 0) & (year >= first)).astype(float)
    x1 = rng.normal(size=unit.size)
    y = rng.normal(size=n_units)[unit] + 0.1 * (year - 2010) + 0.5 * did + 0.3 * x1 + rng.normal(size=unit.size)
    frame = pd.DataFrame({"y": y, "did": did, "x1": x1, "unit": unit, "year": year, "first": first,
                          "w": rng.uniform(0.5, 2.0, unit.size), "prov": unit // 5})
    return frame[rng.random(len(frame)) < keep].reset_index(drop=True)


def _assert_same(ours, ref) -> None:
    for name in ATTRIBUTES:
        a, b = getattr(ours, name), getattr(ref, name)
        if isinstance(b, pd.Series):
            pd.testing.assert_series_equal(a, b, check_exact=True)
        else:
            assert np.array_equal(np.asarray(a), np.asarray(b)), name
    assert np.array_equal(ours.resid(), ref.resid())


@pytest.mark.parametrize("weights", [None, "w"])
@pytest.mark.parametrize("vcov", [{"CRV1": "unit"}, {"CRV1": "prov"}, "hetero", "iid"])
def test_same_bits_as_pf_feols(weights, vcov) -> None:
    frame = _panel()
    columns = {c: frame[c].to_numpy() for c in ("y", "did", "x1", "unit", "year", "w", "prov")}
    kwargs = dict(vcov=vcov, ssc=pf.ssc(k_adj=True, G_adj=True), weights=weights,
                  demeaner=MapDemeaner(fixef_tol=1e-10))
    fml = "y ~ did + x1 | unit + year"
    with quiet():
        ref = pf.feols(fml, frame, fixef_rm="none", **kwargs)
    x = frame[["did", "x1"]].to_numpy(dtype=float)
    _assert_same(feols_arrays(fml, columns, x=x, x_names=["did", "x1"], **kwargs), ref)


def test_same_bits_with_interaction_dummies_and_singleton_rule() -> None:
    # the Sun-Abraham regression: i(cell, ref=0) dummies, pyfixest's defaults (singletons dropped, its tolerance)
    frame = _panel(seed=3, keep=1.0)
    rel = frame["year"] - frame["first"]
    cell = np.where((frame["first"] > 0) & (rel != -1), frame["first"] * 100 + rel + 50, 0)
    frame["cell"] = pd.factorize(cell, sort=True)[0]  # 0 = reference (never treated or relative time -1)
    levels = np.sort(frame["cell"].unique())[1:]
    columns = {c: frame[c].to_numpy() for c in ("y", "x1", "unit", "year", "cell")}
    x = np.column_stack([(frame["cell"].to_numpy() == level).astype(float) for level in levels]
                        + [frame["x1"].to_numpy()])
    names = [f"cell::{level}" for level in levels]
    with quiet():
        ref = pf.feols("y ~ i(cell, ref=0) + x1 | unit + year", frame, vcov={"CRV1": "unit"})
    ours = feols_arrays("y ~ i(cell, ref=0) + x1 | unit + year", columns, x=x, x_names=[*names, "x1"],
                        vcov={"CRV1": "unit"}, drop_singletons=True)
    _assert_same(ours, ref)


def test_declines_where_pf_feols_would_differ() -> None:
    frame = _panel(keep=1.0)
    base = {c: frame[c].to_numpy() for c in ("y", "unit", "year")}
    x = frame[["did"]].to_numpy(dtype=float)
    fml = "y ~ did | unit + year"
    assert feols_arrays(fml, base, x=x, x_names=["did"], vcov="hetero") is not None
    with_nan = dict(base, y=np.where(np.arange(len(frame)) == 3, np.nan, base["y"]))
    assert feols_arrays(fml, with_nan, x=x, x_names=["did"], vcov="hetero") is None
    zero_weight = dict(base, w=np.where(np.arange(len(frame)) == 3, 0.0, 1.0))
    assert feols_arrays(fml, zero_weight, x=x, x_names=["did"], vcov="hetero", weights="w") is None
    singleton = {k: np.append(v, v[-1] if k != "unit" else 999) for k, v in base.items()}
    assert feols_arrays(fml, singleton, x=np.vstack([x, x[-1:]]), x_names=["did"], vcov="hetero",
                        drop_singletons=True) is None
    assert feols_arrays("y ~ did | unit^year", base, x=x, x_names=["did"], vcov="hetero") is None
