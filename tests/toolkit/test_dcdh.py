"""de Chaisemartin-D'Haultfoeuille: twowayfeweights and did_multiplegt_dyn against published / authors' values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pilotdid.estimation.staggered import dcdh

FIX = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def wagepan():
    return pd.read_csv(FIX / "wagepan.csv")


def test_twowayfeweights_reproduces_the_published_wagepan_output(wagepan):
    # Stata `twowayfeweights lwage nr year union, type(feTR) summary_measures` on wagepan, as printed in the
    # README of the authors' Python port (twowayfeweights 0.1.0, "It reproduces the Stata results"):
    # beta 0.1066; 820 positive weights summing to 1.0105, 147 negative summing to -0.0105; 1016 treated cells;
    # sigma_fe 0.0969; sigma for the opposite sign in all cells 3.1759.
    r = dcdh.twfe_weights(wagepan, outcome="lwage", unit="nr", time="year", treatment="union")
    assert round(r.beta, 4) == 0.1066
    assert (r.n_positive, r.n_negative, r.treated_cells) == (820, 147, 1016)
    assert round(r.sum_positive, 4) == 1.0105 and round(r.sum_negative, 4) == -0.0105
    assert round(r.sigma_fe, 4) == 0.0969
    assert round(r.sigma_fe_sign, 4) == 3.1759
    # more digits: the authors' Python port's values (Stata parity to 1e-6)
    assert r.beta == pytest.approx(0.10662746555843476, rel=1e-10)
    assert r.sigma_fe == pytest.approx(0.09686909502991942, rel=1e-9)
    assert r.sigma_fe_sign == pytest.approx(3.1758588975817292, rel=1e-9)
    assert r.weights["weight"].sum() == pytest.approx(1.0, abs=1e-12)


def test_twfe_weights_sum_to_the_twfe_coefficient_identity(wagepan):
    # Theorem 1 as an identity: with cell effects Delta_gt, beta = sum w_gt Delta_gt when Y = FE + D * Delta.
    rng = np.random.default_rng(1)
    df = wagepan.copy()
    units = df["nr"].unique()
    effect = rng.normal(1.0, 0.5, len(df))
    a = pd.Series(rng.normal(size=len(units)), index=units)
    df["y"] = a.loc[df["nr"]].to_numpy() + 0.1 * (df["year"] - 1980) + df["union"] * effect
    r = dcdh.twfe_weights(df, outcome="y", unit="nr", time="year", treatment="union")
    cell = df.set_index(["nr", "year"])
    delta = pd.Series(effect, index=cell.index).loc[list(zip(r.weights["nr"], r.weights["year"]))].to_numpy()
    assert r.beta == pytest.approx(float(r.weights["weight"].to_numpy() @ delta), rel=1e-9)


@pytest.fixture(scope="module")
def reference():
    return pd.read_csv(FIX / "dcdh_reference.csv")


def _check(res, ref, normalised=False):
    if not normalised:
        ate = ref[ref.kind == "average_effect"].iloc[0]
        assert res.average_effect == pytest.approx(ate["coef"], rel=1e-8)
        assert res.average_effect_se == pytest.approx(ate["se"], rel=1e-8)
    for kind in ("effect", "placebo"):
        mine = res.table[res.table.kind == kind].set_index("l")
        theirs = ref[ref.kind == kind].set_index("l")
        assert list(mine.index) == list(theirs.index)
        coef = mine["coef_norm" if normalised else "coef"]
        se = mine["se_norm" if normalised else "se"]
        np.testing.assert_allclose(coef, theirs["coef"], rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(se, theirs["se"], rtol=1e-8)
        np.testing.assert_array_equal(mine["n_switchers"], theirs["n_switchers"].astype(int))
    assert res.p_joint_placebo == pytest.approx(float(ref.loc[ref.kind == "p_joint_placebo", "coef"].iloc[0]), rel=1e-7)


def test_did_multiplegt_dyn_non_absorbing_matches_the_authors_port(wagepan, reference):
    # union switches on and off: switchers in and out, each with their own controls
    res = dcdh.did_multiplegt_dyn(wagepan, outcome="lwage", unit="nr", time="year", treatment="union",
                                  effects=5, placebo=2)
    _check(res, reference[reference.case == "wagepan"])
    _check(res, reference[reference.case == "wagepan_norm"], normalised=True)


def test_did_multiplegt_dyn_clustered_staggered_matches_the_authors_port(reference):
    panel = pd.read_csv(Path(__file__).parents[1] / "staggered" / "fixtures" / "cs_panel.csv")
    panel["cl"] = panel["unit"] // 4
    res = dcdh.did_multiplegt_dyn(panel, outcome="y", unit="unit", time="year", treatment="did", effects=4,
                                  placebo=3, cluster="cl")
    _check(res, reference[reference.case == "cs_panel_cluster"])
    # absorbing binary treatment: normalised effect l is effect l / l
    eff = res.table[res.table.kind == "effect"]
    np.testing.assert_allclose(eff.coef_norm, eff.coef / eff.l)
    rows = res.event_rows()
    assert [r["rel_time"] for r in rows] == [-4, -3, -2, -1, 0, 1, 2, 3]


def test_did_multiplegt_dyn_refuses_a_non_binary_treatment(wagepan):
    from pilotdid.errors import PilotdidInputError

    df = wagepan.assign(dose=wagepan["union"] * 2.0)
    with pytest.raises(PilotdidInputError, match="not binary"):
        dcdh.did_multiplegt_dyn(df, outcome="lwage", unit="nr", time="year", treatment="dose")


def test_weighted_did_multiplegt_dyn_matches_the_authors_port(wagepan, reference):
    # the port's weight option (cell weights N_gt): cell-varying weights on wagepan (switchers in and out) ...
    df = wagepan.assign(w=0.5 + ((7 * wagepan["nr"] + wagepan["year"]) % 5) / 4)
    res = dcdh.did_multiplegt_dyn(df, outcome="lwage", unit="nr", time="year", treatment="union", effects=5,
                                  placebo=2, weight="w")
    _check(res, reference[reference.case == "wagepan_weighted"])
    _check(res, reference[reference.case == "wagepan_weighted_norm"], normalised=True)
    # zero-weight cells stay in the panel (their treatment dates the switch) and add nothing, as in the port
    zero = np.random.default_rng(3).choice(len(df), 150, replace=False)
    res = dcdh.did_multiplegt_dyn(df.assign(w=df["w"].where(~df.index.isin(zero), 0.0)), outcome="lwage", unit="nr",
                                  time="year", treatment="union", effects=5, placebo=2, weight="w")
    _check(res, reference[reference.case == "wagepan_weighted_zero"])
    # ... and unit weights on the clustered staggered panel
    panel = pd.read_csv(Path(__file__).parents[1] / "staggered" / "fixtures" / "cs_panel.csv")
    panel["cl"] = panel["unit"] // 4
    panel["w"] = 0.5 + (panel["unit"] % 7) / 4
    res = dcdh.did_multiplegt_dyn(panel, outcome="y", unit="unit", time="year", treatment="did", effects=4,
                                  placebo=3, cluster="cl", weight="w")
    _check(res, reference[reference.case == "cs_panel_cluster_weighted"])


def test_did_multiplegt_dyn_weights_are_analytic(wagepan):
    # constant weights reproduce the unweighted estimator; scaling every weight changes nothing
    plain = dcdh.did_multiplegt_dyn(wagepan, outcome="lwage", unit="nr", time="year", treatment="union", effects=3,
                                    placebo=2)
    df = wagepan.assign(one=2.5, w=0.5 + ((7 * wagepan["nr"] + wagepan["year"]) % 5) / 4)
    df["w10"] = 10 * df["w"]
    const = dcdh.did_multiplegt_dyn(df, outcome="lwage", unit="nr", time="year", treatment="union", effects=3,
                                    placebo=2, weight="one")
    cols = ["coef", "se", "coef_norm", "se_norm"]
    np.testing.assert_allclose(const.table[cols], plain.table[cols], rtol=1e-10, atol=1e-14)
    w1, w10 = (dcdh.did_multiplegt_dyn(df, outcome="lwage", unit="nr", time="year", treatment="union", effects=3,
                                       placebo=2, weight=w) for w in ("w", "w10"))
    np.testing.assert_allclose(w10.table[cols], w1.table[cols], rtol=1e-10, atol=1e-14)
    assert w1.average_effect_se == pytest.approx(w10.average_effect_se, rel=1e-10)
    assert not np.allclose(w1.table["coef"], plain.table["coef"])


def test_did_multiplegt_dyn_refuses_negative_weights_and_duplicate_cells(wagepan):
    from pilotdid.errors import PilotdidInputError

    df = wagepan.assign(w=1.0)
    df.loc[5, "w"] = -1.0
    with pytest.raises(PilotdidInputError, match="not a non-negative number at row 6"):
        dcdh.did_multiplegt_dyn(df, outcome="lwage", unit="nr", time="year", treatment="union", weight="w")
    with pytest.raises(PilotdidInputError, match="one row per unit and period"):
        dcdh.did_multiplegt_dyn(pd.concat([wagepan, wagepan.head(1)]), outcome="lwage", unit="nr", time="year",
                                treatment="union")
