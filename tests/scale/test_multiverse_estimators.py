"""Specification curve over estimators (SYNTHETIC panel): each robust estimator's row equals the estimator called
directly on the same data variant; per-estimator shares; the same rows serially and with --jobs 2."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilotdid.design.winsorize import winsorize
from pilotdid.estimation.staggered import cs
from pilotdid.estimation.staggered.bjs import imputation
from pilotdid.estimation.staggered.etwfe import etwfe
from pilotdid.estimation.staggered.sa import sun_abraham
from pilotdid.estimation.staggered.stacked import stacked_did
from pilotdid.study.analyses import multiverse
from pilotdid.study.context import FIRST_TREAT

ESTIMATORS = ["twfe", "sa", "bjs", "etwfe", "stacked", "cs"]
GRID = {"estimator": ESTIMATORS, "sample": ["full", "drop_2020"], "winsorize": [0, 5], "vcov": ["reghdfe", "lsdv"],
        "placebo_draws": 19}


def _direct(name: str, frame: pd.DataFrame) -> tuple[float, float]:
    kw = dict(outcome="y", unit="unit", time="year", first_treat=FIRST_TREAT, covariates=["x1", "x2"])
    if name == "sa":
        r = sun_abraham(frame, **kw, cluster="unit")
        return r.att, r.se
    if name == "bjs":
        r = imputation(frame, **kw)
        return r.att, r.se
    if name == "etwfe":
        s = etwfe(frame, **kw, control_group="never").aggregates["simple"]
        return float(s["att"].iloc[0]), float(s["se"].iloc[0])
    if name == "stacked":
        r = stacked_did(frame, **kw, window=(-3, 2))
        return r.static_att, r.static_se
    a = cs.att_gt(frame, **kw, control_group="never_treated", est_method="dr", ps_fallback="reg").aggregate("simple")
    return a.att, a.se


def test_robust_rows_equal_the_estimators_and_shares_per_estimator(context):
    out = multiverse.run(context, dict(GRID))
    res = out.results["multiverse"]
    table = pd.DataFrame(res["specifications"])
    twfe = table[table.estimator == "twfe"]
    robust = table[table.estimator != "twfe"]
    assert len(twfe) == 2 * 2 * 2 and len(robust) == 5 * 2 * 2  # robust estimators: one row (own SE) per variant
    assert set(robust.vcov) == {"own"} and robust.placebo_p.isna().all() and twfe.placebo_p.notna().all()
    for _, row in robust.iterrows():
        frame = context.panel
        if row["sample"] == "drop_2020":
            frame = frame.loc[frame["year"] != 2020]
        if row["winsorize"]:
            frame, _ = winsorize(frame, ["y", "x1", "x2"], 0.05, 0.95)
        coef, se = _direct(row["estimator"], frame)
        assert row["coef"] == pytest.approx(coef, rel=1e-10, abs=1e-12)
        assert row["se"] == pytest.approx(se, rel=1e-10)
    by_est = res["summary"]["by_estimator"]
    assert set(by_est) == set(ESTIMATORS)
    for name, s in by_est.items():
        sub = table[table.estimator == name]
        assert s["n_specs"] == len(sub)
        assert s["share_positive_significant"] == pytest.approx(((sub.coef > 0) & (sub.p < 0.05)).mean())
    # the synthetic effect is homogeneous (1.0): every estimator finds it
    assert all(s["median_coef"] == pytest.approx(1.0, abs=0.3) for s in by_est.values())
    one = out.tables["specification_curve_one_at_a_time"].body
    assert len(one[one.iloc[:, 0] == "Estimator"]) == len(ESTIMATORS)


def test_estimator_grid_is_identical_with_two_processes(context):
    from dataclasses import replace

    grid = {"estimator": ["twfe", "bjs", "cs"], "sample": ["full", "drop_2020"], "placebo_draws": 9}
    serial = multiverse.run(context, dict(grid)).results["multiverse"]["specifications"]
    two = multiverse.run(replace(context, jobs=2), dict(grid)).results["multiverse"]["specifications"]
    assert serial == two


def test_unknown_estimator_is_refused(context):
    from pilotdid.errors import PilotdidInputError

    with pytest.raises(PilotdidInputError, match="unknown multiverse estimator 'sdid'"):
        multiverse.run(context, {"estimator": ["twfe", "sdid"]})


def test_default_grid_is_twfe_only(context):
    table = pd.DataFrame(multiverse.run(context, {"placebo_draws": 0}).results["multiverse"]["specifications"])
    assert set(table.estimator) == {"twfe"} and np.all(table.vcov == "reghdfe")


def test_robust_estimator_note_in_the_report_language(context):
    # before, this note was English in zh reports
    from dataclasses import replace

    grid = {"estimator": ["twfe", "bjs"], "placebo_draws": 0}
    en = " ".join(multiverse.run(context, dict(grid)).tables["specification_curve_by_choice"].notes)
    assert ("Robust estimators (bjs) use their own clustered asymptotic SEs (SE preset 'own'), a normal p-value and no "
            "placebo p; see the options for their conventions (never-treated controls for cs/etwfe, window [-3, 2] "
            "for stacked).") in en
    zh = " ".join(multiverse.run(replace(context, lang="zh"), dict(grid)).tables["specification_curve_by_choice"].notes)
    assert "稳健估计量（bjs）使用各自的聚类渐近标准误" in zh and "Robust estimators" not in zh
