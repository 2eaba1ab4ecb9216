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
        if row["estimator"] == "stacked":  # the treated units inside the fitting sub-experiments, not all treated
            stack = stacked_did(frame, outcome="y", unit="unit", time="year", first_treat=FIRST_TREAT,
                                covariates=["x1", "x2"], window=(-3, 2))
            assert row["treated_units"] == int(stack.sub_experiments["treated_units"].sum())
            assert row["treated_units"] < frame.loc[frame[FIRST_TREAT] > 0, "unit"].nunique()
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
    assert ("Robust estimators (imputation (BJS)) use their own clustered asymptotic SEs (SE preset 'estimator's own'), "
            "a normal p-value and no placebo p; see the options for their conventions (never-treated controls for "
            "Callaway-Sant'Anna/extended TWFE, window [-3, 2] for stacked DID).") in en
    zh = " ".join(multiverse.run(replace(context, lang="zh"), dict(grid)).tables["specification_curve_by_choice"].notes)
    # the estimators by their names in the report's language (was their option codes: bjs, own, cs/etwfe, stacked)
    assert "稳健估计量（插补估计（BJS））使用各自的聚类渐近标准误（标准误约定“估计量自带标准误”）" in zh
    assert "Robust estimators" not in zh and "bjs" not in zh


def test_a_stacked_window_that_fits_no_cohort_is_named_in_the_report_language(context):
    # the synthetic cohorts are 2015/2017/2019; on 2012-2016 the 2015 window [-3, 2] ends after 2016 and the later
    # cohorts are untreated in the window: stacked DID has no sub-experiment (the CBEC 9-indicator index without the
    # capitals is such a case)
    from dataclasses import replace

    short = replace(context, panel=context.panel.loc[context.panel["year"] <= 2016].reset_index(drop=True))
    grid = {"estimator": ["twfe", "stacked"], "placebo_draws": 0}
    for lang, text in (("en", "Estimator stacked DID: 1 specification(s) could not be estimated and are left out (no "
                              "adoption cohort has its whole event window [-3, 2] inside the data variant's periods)."),
                       ("zh", "估计量 堆叠 DID：1 个设定无法估计，已略去（没有一个采纳批次的完整事件窗口 [-3, 2] "
                              "落在该数据变体的样本期内）。")):
        out = multiverse.run(replace(short, lang=lang), dict(grid))
        assert text in out.tables["specification_curve_by_choice"].notes
        assert out.results["multiverse"]["summary"]["n_specs"] == 1


def test_variants_differing_only_in_the_outcome_are_fitted_on_one_design(context):
    # index methods/poolings change only the outcome column: a robust estimator fits those variants together
    # (its multi-outcome path); each row equals the variant fitted on its own (run_task) to 1e-10
    grid = multiverse.parse_grid(context, {"estimator": ESTIMATORS, "sample": ["full", "drop_2020"],
                                           "winsorize": [0, 5]})
    tasks, _ = multiverse.build_tasks(context, {"placebo_draws": 0}, grid)
    variants = []
    for task in tasks:
        for k, method in enumerate(["entropy", "critic", "equal"]):
            frame = task["frame"].copy()
            frame["_y"] = (1 + k) * frame["_y"] + k * frame["x1"] ** 2  # another index of the same rows
            variants.append({**task, "choice": {**task["choice"], "index_method": method}, "frame": frame})
    batches = multiverse.batch_tasks(variants)
    assert [task for batch in batches for task in batch] == variants  # task order kept
    sizes = {batch[0]["choice"]["estimator"]: len(batch) for batch in batches}
    assert sizes == {"twfe": 1, "cs": 3, "sa": 3, "bjs": 3, "etwfe": 3, "stacked": 3}
    for batch in batches:
        for task, raw in zip(batch, multiverse.run_batch(batch)):
            alone = multiverse.run_task(task)
            if "robust" not in alone:
                assert raw == alone
                continue
            r, ref = raw["robust"], alone["robust"]
            assert {k: r[k] for k in ("nobs", "treated_units", "winsorised_values", "error")} == \
                {k: ref[k] for k in ("nobs", "treated_units", "winsorised_values", "error")}
            assert r["coef"] == pytest.approx(ref["coef"], rel=1e-10, abs=1e-12)
            assert r["se"] == pytest.approx(ref["se"], rel=1e-10)
    # a variant whose controls differ (another design) is not put with the others
    first, second = [v for v in variants if v["choice"]["estimator"] == "sa"][:2]
    other = {**first, "frame": first["frame"].assign(x1=first["frame"]["x1"] + 1)}
    assert [len(b) for b in multiverse.batch_tasks([first, other, second])] == [2, 1]


def test_max_specs_counts_the_rows_of_the_curve(context):
    # a robust estimator's variant is one row (its own SE), not one per SE preset: 2 x (2 + 1) = 6 rows
    grid = {"estimator": ["twfe", "bjs"], "vcov": ["lsdv", "reghdfe"], "winsorize": [0, 1], "placebo_draws": 0}
    out = multiverse.run(context, {**grid, "max_specs": 6})
    assert out.results["multiverse"]["summary"]["n_specs"] == 6
    from pilotdid.errors import PilotdidInputError

    with pytest.raises(PilotdidInputError, match="6 specifications, more than max_specs = 5"):
        multiverse.run(context, {**grid, "max_specs": 5})


def test_pyfixest_estimators_with_two_processes_after_a_fit_here(context):
    # after a pyfixest fit in this process a forked worker that fits would hang: the sa/etwfe/stacked units then run
    # here, the others in the workers; the rows are those of the serial run
    from dataclasses import replace

    from pilotdid.estimation.fixest import fork_safe_for_fits

    grid = {"estimator": ["twfe", "sa", "bjs", "etwfe", "stacked"], "sample": ["full", "drop_2020"], "placebo_draws": 9}
    serial = multiverse.run(context, dict(grid)).results["multiverse"]["specifications"]
    assert not fork_safe_for_fits()  # the serial run fitted sa/etwfe/stacked through pyfixest here
    two = multiverse.run(replace(context, jobs=2), dict(grid)).results["multiverse"]["specifications"]
    assert serial == two
