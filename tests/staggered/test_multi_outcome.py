"""Several outcomes on one design (the multi-outcome path of SA, BJS imputation, ETWFE and stacked DID): each
outcome's result equals the estimator fitted on that outcome alone -- overall ATT, its SE and the event-study rows to
1e-10 -- on a CBEC-shaped balanced panel (226 cities x 9 years, cohorts 2015-2020, four controls) and on unbalanced
panels, weighted or not; outcomes missing on different rows are fitted in groups of shared rows. SYNTHETIC panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilotdid.design.synthetic import synthetic_staggered_panel
from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.staggered.bjs import BJS_CONSERVATIVE, imputation
from pilotdid.estimation.staggered.etwfe import etwfe
from pilotdid.estimation.staggered.sa import sun_abraham
from pilotdid.estimation.staggered.stacked import stacked_did

OUTCOMES = ["y", "y_log", "y_index", "y_wins"]
KW = dict(unit="unit", time="year", first_treat="first_treat")


def _panel(kind: str) -> pd.DataFrame:
    """SYNTHETIC: the study's outcome and three transformations of it on other scales (as index variants are)."""
    if kind == "cbec_like":
        panel = synthetic_staggered_panel(226, 9, cohorts=(2015, 2016, 2018, 2019, 2020), treated_share=0.4,
                                          n_controls=4, effect=0.02, seed=11)
    else:
        panel = synthetic_staggered_panel(150, 10, n_controls=4, effect=0.3, seed=5, drop_share=0.12)
    rng = np.random.default_rng(3)
    panel["y_log"] = np.log1p(np.exp(panel["y"]))
    panel["y_index"] = 0.3 * panel["y"] + 0.1 * panel["x1"] ** 2 + rng.normal(0, 0.2, len(panel))
    panel["y_wins"] = panel["y"].clip(*panel["y"].quantile([0.05, 0.95]))
    panel["w"] = rng.uniform(0.5, 2.0, len(panel))
    return panel


def _fit(name: str, panel: pd.DataFrame, outcome, **kw):
    if name == "sa":
        return sun_abraham(panel, outcome=outcome, **KW, **kw)
    if name == "bjs":
        return imputation(panel, outcome=outcome, **KW, **kw)
    if name == "etwfe":
        return etwfe(panel, outcome=outcome, **KW, control_group="never", **kw)
    return stacked_did(panel, outcome=outcome, **KW, window=(-3, 2), **kw)


def _numbers(name: str, result) -> dict[str, np.ndarray]:
    if name == "etwfe":
        return {"cells": result.cells[["coef", "se"]].to_numpy(),
                **{k: v[["att", "se"]].to_numpy() for k, v in result.aggregates.items()}}
    if name == "stacked":
        return {"static": np.array([result.static_att, result.static_se]), **_numbers("es", result.event_study)}
    out = {"att": np.array([result.att, result.se]), "table": result.table[["coef", "se"]].to_numpy()}
    if name == "bjs":
        out["bjs_se"] = np.array([result.alternative_se[BJS_CONSERVATIVE]["se"]])
    return out


def _assert_close(batched: dict, alone: dict) -> None:
    assert batched.keys() == alone.keys()
    for key, ref in alone.items():
        scale = max(np.nanmax(np.abs(ref)), 1e-300)
        np.testing.assert_allclose(batched[key], ref, rtol=1e-10, atol=1e-10 * scale, err_msg=key)


@pytest.mark.parametrize("weights", [None, "w"])
@pytest.mark.parametrize("kind", ["cbec_like", "unbalanced"])
@pytest.mark.parametrize("name", ["sa", "bjs", "etwfe", "stacked"])
def test_each_outcome_equals_its_own_fit(name, kind, weights, monkeypatch) -> None:
    from pilotdid.estimation import fixest

    panel = _panel(kind)
    kw = dict(covariates=["x1", "x2", "x3", "x4"], weights=weights)
    refits = []
    original = fixest.refit_outcomes
    monkeypatch.setattr(fixest, "refit_outcomes", lambda *a: refits.append(original(*a)) or refits[-1])
    batched = _fit(name, panel, OUTCOMES, **kw)
    # the batched path ran (no silent fallback to one fit per outcome): pyfixest-based estimators refit the design
    assert refits if name != "bjs" else not refits
    assert all(r is not None and len(r) == len(OUTCOMES) - 1 for r in refits)
    assert isinstance(batched, list) and len(batched) == len(OUTCOMES)
    for outcome, result in zip(OUTCOMES, batched):
        _assert_close(_numbers(name, result), _numbers(name, _fit(name, panel, outcome, **kw)))


@pytest.mark.parametrize("name", ["sa", "bjs", "etwfe", "stacked"])
def test_first_outcome_is_the_single_fit_bit_for_bit(name) -> None:
    # the list's first outcome is fitted exactly as a single outcome is (the others reuse its design)
    panel = _panel("unbalanced")
    kw = dict(covariates=["x1", "x2"])
    first = _numbers(name, _fit(name, panel, OUTCOMES, **kw)[0])
    alone = _numbers(name, _fit(name, panel, "y", **kw))
    assert all(np.array_equal(first[k], alone[k], equal_nan=True) for k in alone)


@pytest.mark.parametrize("name", ["sa", "bjs", "etwfe", "stacked"])
def test_outcomes_missing_on_different_rows_are_fitted_on_their_own_rows(name) -> None:
    panel = _panel("cbec_like")
    panel.loc[panel.index[::7], "y_log"] = np.nan  # y_log has fewer rows than the others
    batched = _fit(name, panel, OUTCOMES, covariates=["x1"])
    for outcome, result in zip(OUTCOMES, batched):
        _assert_close(_numbers(name, result), _numbers(name, _fit(name, panel, outcome, covariates=["x1"])))


def test_an_outcome_listed_twice_or_missing_is_refused() -> None:
    with pytest.raises(PilotdidInputError, match="distinct"):
        sun_abraham(_panel("cbec_like"), outcome=["y", "y"], **KW)
    for name in ("sa", "bjs", "etwfe", "stacked"):
        with pytest.raises(PilotdidInputError, match="not in the panel"):
            _fit(name, _panel("cbec_like"), ["y", "no_such_column"])


def test_the_public_api_takes_a_list_of_outcomes() -> None:
    import pilotdid as pdid

    panel = _panel("unbalanced")
    for fit, overall in ((pdid.sun_abraham, lambda r: (r.att, r.se)), (pdid.imputation, lambda r: (r.att, r.se)),
                         (pdid.etwfe, lambda r: tuple(r.aggregates["simple"][["att", "se"]].iloc[0])),
                         (pdid.stacked, lambda r: (r.static_att, r.static_se))):
        both = fit(panel, outcome=("y", "y_index"), **KW, covariates=["x1"])
        alone = [overall(fit(panel, outcome=o, **KW, covariates=["x1"])) for o in ("y", "y_index")]
        np.testing.assert_allclose([overall(r) for r in both], alone, rtol=1e-10)


@pytest.mark.parametrize("weights", [None, "w_unit"])
@pytest.mark.parametrize("est_method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("covariates", [[], ["x1", "x2"]])
def test_callaway_santanna_each_outcome_equals_its_own_fit(est_method, covariates, weights) -> None:
    # CS needs a balanced panel: the CBEC-shaped one; time-invariant unit weights (R did's weightsname)
    from pilotdid.estimation.staggered import cs

    panel = _panel("cbec_like")
    panel["w_unit"] = panel.groupby("unit")["w"].transform("first")
    kw = dict(**KW, covariates=covariates, est_method=est_method, weights=weights, ps_fallback="reg")
    batched = cs.att_gt(panel, outcome=OUTCOMES, **kw)
    assert len(batched) == len(OUTCOMES)
    for outcome, result in zip(OUTCOMES, batched):
        alone = cs.att_gt(panel, outcome=outcome, **kw)
        assert result.fallback_cells == alone.fallback_cells
        for agg in ("simple", "dynamic"):
            a, b = result.aggregate(agg), alone.aggregate(agg)
            np.testing.assert_allclose([a.att, a.se], [b.att, b.se], rtol=1e-10, atol=1e-14)
        _assert_close({"cells": result.att_gt[["att", "se"]].to_numpy()},
                      {"cells": alone.att_gt[["att", "se"]].to_numpy()})
    first = cs.att_gt(panel, outcome=OUTCOMES, **kw)[0]  # the list's first outcome is the single fit, bit for bit
    assert first.att_gt.equals(cs.att_gt(panel, outcome="y", **kw).att_gt)
