"""Wild cluster restricted bootstrap: `wildboottest` reference, brute force, sanity and reproducibility."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.within import FixedEffectPartialler
from pilotdid.inference.wild_bootstrap import _WCR, wild_cluster_bootstrap

FIX = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIX))
from make_wild_reference import make_panel  # noqa: E402  (SYNTHETIC panel)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return make_panel()


@pytest.mark.parametrize("controls", [["z"], []])
def test_matches_wildboottest_full_enumeration(panel, controls):
    """2^12 sign vectors enumerated by both; wildboottest counts the two draws that reproduce the sample
    (|t*| = |t| up to rounding) when rounding pushes them above |t|; we never count ties."""
    ref = pd.read_csv(FIX / "wild_reference.csv")
    fml = "y ~ did + z | unit + year" if controls else "y ~ did | unit + year"
    row = ref[ref.formula == fml].iloc[0]
    res = wild_cluster_bootstrap(panel, outcome="y", term="did", controls=controls, fixed_effects=["unit", "year"],
                                 cluster="region", reps=9999, ci=False)
    assert res.full_enumeration and res.reps == 4096
    assert res.coef == pytest.approx(row.coef, abs=1e-10)
    assert abs(res.p_value - row.p_value) <= 2 / 4096 + 1e-12


@pytest.mark.parametrize(("fixed_effects", "dropped"), [(["year"], 0), (["unit", "year"], 0), (["unit", "year"], 17)])
def test_equals_brute_force_dummy_regressions(panel, fixed_effects, dropped):
    """Year FE not nested in clusters (units are), balanced or not: our cluster-level algebra equals refitting
    the dummy regression per draw. (Unbalanced: the demeaned year dummies' cross-product is singular up to
    rounding; a pseudo-inverse without a cut-off once put the bootstrap t's off by 1e-4.)"""
    if dropped:  # an unbalanced panel (seed 4: one where the cut-off matters)
        panel = panel.drop(index=np.random.default_rng(4).choice(len(panel), dropped, replace=False)).reset_index(drop=True)
    res = wild_cluster_bootstrap(panel, outcome="y", term="did", controls=["z"], fixed_effects=fixed_effects,
                                 cluster="region", reps=9999, ci=False)
    D = pd.get_dummies(panel.year, drop_first=True, dtype=float).to_numpy()
    if "unit" in fixed_effects:
        D = np.column_stack([D, pd.get_dummies(panel.unit, drop_first=True, dtype=float).to_numpy()])
    X = np.column_stack([panel.did, panel.z, np.ones(len(panel)), D])
    y = panel.y.to_numpy()
    g = panel.region.to_numpy()
    inv = np.linalg.inv(X.T @ X)

    def t(ys):
        b = inv @ X.T @ ys
        e = ys - X @ b
        sc = np.bincount(g, weights=(X @ inv[0]) * e)
        return b[0] / np.sqrt(sc @ sc)

    t0 = t(y)
    Xo = X[:, 1:]
    fit = Xo @ np.linalg.lstsq(Xo, y, rcond=None)[0]
    u = y - fit
    v = np.array(list(itertools.product([1.0, -1.0], repeat=12))).T
    tb = np.array([t(fit + u * v[g, b]) for b in range(v.shape[1])])
    p = np.mean(np.abs(tb) > abs(t0) * (1 + 1e-9))
    assert res.p_value == pytest.approx(p, abs=1e-12)
    # every draw's t*, not only the count: the p-value alone would hide a small error in each t*
    fe_groups = [panel[f].to_numpy() for f in fixed_effects]
    within = FixedEffectPartialler.from_labels(fe_groups).demean(np.column_stack([y, panel.did, panel.z]))
    _, ours = _WCR(within[:, 0], within[:, 1:], 0, g, v, fe_groups).boot_t(0.0)
    np.testing.assert_allclose(ours, tb, rtol=1e-8, atol=1e-10)


def test_reproducible_and_in_range(panel):
    kw = dict(outcome="y", term="did", controls=["z"], fixed_effects=["unit", "year"], cluster="unit", reps=999)
    a = wild_cluster_bootstrap(panel, weights="webb", seed=5, **kw)
    b = wild_cluster_bootstrap(panel, weights="webb", seed=5, **kw)
    c = wild_cluster_bootstrap(panel, weights="webb", seed=6, **kw)
    assert a == b
    assert 0.0 <= a.p_value <= 1.0 and 0.0 <= c.p_value <= 1.0
    assert a.ci_low < a.coef < a.ci_high
    # the CI inverts the test: p at the CI bounds is about alpha
    assert not a.full_enumeration


def test_null_true_gives_large_p():
    from pilotdid.estimation.staggered.simulate import simulate_staggered_panel
    df, _ = simulate_staggered_panel(n_units=60, effect_scale=0.0, seed=9, n_covariates=0)
    res = wild_cluster_bootstrap(df, outcome="y", term="did", fixed_effects=["unit", "year"], cluster="unit",
                                 reps=999, ci=False)
    assert res.p_value > 0.01


def test_bad_inputs(panel):
    with pytest.raises(PilotdidInputError, match="weights"):
        wild_cluster_bootstrap(panel, outcome="y", term="did", cluster="unit", weights="mammen")
    with pytest.raises(PilotdidInputError, match="not in the panel"):
        wild_cluster_bootstrap(panel, outcome="y", term="nope", cluster="unit")


@pytest.mark.parametrize("vcov", ["fixest", "lsdv"])
def test_t_stat_carries_the_analytic_small_sample_factor(panel, vcov):
    """t_stat is the analytic CRV1 t of the same preset (was the t without q: 2.777 vs 2.762 on CBEC)."""
    from pilotdid.estimation.twfe import fit_twfe
    res = wild_cluster_bootstrap(panel, outcome="y", term="did", controls=["z"], fixed_effects=["unit", "year"],
                                 cluster="region", reps=999, ci=False, vcov=vcov)
    fit = fit_twfe(panel, "y", ["did", "z"], ["unit", "year"], "region", vcov=vcov)
    assert res.t_stat == pytest.approx(float(fit.term("did")["t"]), rel=1e-9)
    assert res.small_sample_factor == pytest.approx(fit.small_sample_factor, rel=1e-12)
    # lsdv counts every dummy in K, as wildboottest does: its stored t
    if vcov == "lsdv":
        ref = pd.read_csv(FIX / "wild_reference.csv")
        assert res.t_stat == pytest.approx(ref[ref.formula == "y ~ did + z | unit + year"].t_stat.iloc[0], rel=1e-8)


def test_row_order_does_not_change_the_draws(panel):
    """Bootstrap weights are tied to sorted cluster labels, so the same data in another row order give the same
    p and CI (the sums in the partialling-out may differ in the last bits only)."""
    kwargs = dict(outcome="y", term="did", controls=["z"], fixed_effects=["unit", "year"], cluster="region",
                  reps=499, seed=7)
    shuffled = panel.sample(frac=1.0, random_state=3).reset_index(drop=True)
    reversed_labels = panel.sort_values(["region", "unit", "year"], ascending=False).reset_index(drop=True)
    base = wild_cluster_bootstrap(panel, **kwargs)
    for other in (shuffled, reversed_labels):
        res = wild_cluster_bootstrap(other, **kwargs)
        assert res.p_value == base.p_value
        assert res.ci_low == pytest.approx(base.ci_low, rel=1e-9)
        assert res.ci_high == pytest.approx(base.ci_high, rel=1e-9)
