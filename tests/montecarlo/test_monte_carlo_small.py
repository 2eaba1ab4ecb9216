"""The CI version of the Monte Carlo validation (validation/monte_carlo.py): few replications, generous tolerances.

Synthetic data only. The full run (``python validation/monte_carlo.py``, results in validation/results/) checks the
targets precisely; this one guards against regressions: a robust estimator that stops recovering the truth, TWFE's
bias under dynamic effects disappearing (a sign that the DGP lost its heterogeneity), a placebo test that over-rejects.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

MC_PATH = Path(__file__).resolve().parents[2] / "validation" / "monte_carlo.py"


@pytest.fixture(scope="module")
def mc():
    spec = importlib.util.spec_from_file_location("pilotdid_validation_monte_carlo", MC_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def small_run(mc):
    reps = mc.run_monte_carlo(8, placebo_reps=0, placebo_draws=39, seed=11, dgps=("homogeneous", "dynamic"))
    return reps, mc.summarise(reps)


def test_dgp_truth_and_seeding(mc) -> None:
    panel, truth = mc.simulate(mc.DGPS["homogeneous"], np.random.default_rng(0))
    assert truth == pytest.approx(0.3)
    assert len(panel) == mc.N_UNITS * len(mc.YEARS)
    assert panel.groupby("first_treat")["unit"].nunique().to_dict() == {0: 60, 2014: 30, 2016: 30, 2018: 30}
    _, dyn = mc.simulate(mc.DGPS["dynamic"], np.random.default_rng(0))
    # mean over treated cells of 0.1 * w_g * (e + 1): cohort 2014 has 7 post years, 2016 five, 2018 three
    cells = {2014: (2.0, 7), 2016: (1.0, 5), 2018: (0.5, 3)}
    expected = sum(0.1 * w * sum(range(1, n + 1)) for w, n in cells.values()) / sum(n for _, n in cells.values())
    assert dyn == pytest.approx(expected)
    again, _ = mc.simulate(mc.DGPS["dynamic"], np.random.default_rng(0))
    pd.testing.assert_frame_equal(mc.simulate(mc.DGPS["dynamic"], np.random.default_rng(0))[0], again)


def test_robust_estimators_recover_the_truth(small_run) -> None:
    _, summary = small_run
    robust = summary[summary["estimator"].isin(["cs", "sa", "bjs"])]
    assert len(robust) == 6
    assert (robust["bias"].abs() < 0.06).all(), robust
    assert (robust["coverage_95"] >= 0.6).all(), robust


def test_new_estimators_recover_their_targets(small_run) -> None:
    _, summary = small_run
    new = summary[summary["estimator"].isin(["dcdh", "etwfe", "stacked", "sdid", "sdid_fixed"])]
    assert len(new) == 10
    assert (new["bias"].abs() < 0.06).all(), new
    assert (new["coverage_95"] >= 0.6).all(), new
    # the two SDID rows are one estimate with two jackknife conventions for the cohort weights
    reps, _ = small_run
    sd = reps[reps["estimator"].isin(["sdid", "sdid_fixed"])].pivot(index=["dgp", "rep"], columns="estimator")
    np.testing.assert_allclose(sd[("att", "sdid")], sd[("att", "sdid_fixed")])
    assert (sd[("se", "sdid")] > 0).all() and (sd[("se", "sdid_fixed")] > 0).all()


def test_coverage_check_reruns_the_cheap_estimators_on_their_own_stream(mc):
    check = mc.run_coverage_check(2, dgps=("null",), seed=11)
    assert sorted(check["estimator"].unique()) == sorted(mc.CHECK_ESTIMATORS)
    assert len(check) == 2 * len(mc.CHECK_ESTIMATORS)
    main = mc.run_monte_carlo(2, placebo_reps=0, placebo_draws=19, seed=11, dgps=("null",))
    stacked_main = main.loc[main["estimator"] == "stacked", "att"].to_numpy()
    stacked_check = check.loc[check["estimator"] == "stacked", "att"].to_numpy()
    assert not np.allclose(stacked_main, stacked_check)  # other panels than the main replications
    text = mc.render_check(mc.summarise(check))
    assert any("Coverage check" in line for line in text)
    assert any("Monte Carlo SE" in line and "issue 20" in line for line in text)


def test_twfe_is_biased_under_dynamic_effects_only(small_run) -> None:
    _, summary = small_run
    twfe = summary[summary["estimator"] == "twfe"].set_index("dgp")
    assert twfe.loc["dynamic", "bias"] < -0.1  # truth ~0.49, TWFE ~0.27
    assert abs(twfe.loc["homogeneous", "bias"]) < 0.06


def test_placebo_size_and_power(mc, small_run) -> None:
    null = mc.run_monte_carlo(0, placebo_reps=40, placebo_draws=39, seed=12, dgps=("null",))
    assert len(null) == 40
    assert (null["p"] < 0.05).mean() <= 0.2  # Binomial(40, 0.05) exceeds 8 with probability < 0.001
    _, summary = small_run
    power = summary[summary["estimator"].str.startswith("placebo")].set_index("dgp")["placebo_reject_5pct"]
    assert (power >= 0.8).all(), power


def test_summary_arithmetic_on_a_hand_made_frame(mc) -> None:
    reps = pd.DataFrame({
        "dgp": ["null"] * 4, "rep": range(4), "estimator": ["cs"] * 4, "truth": [0.0] * 4,
        "att": [0.1, -0.1, 0.3, 0.1], "se": [0.1] * 4, "ci_low": [-0.1, -0.3, 0.1, -0.1], "ci_high": [0.3, 0.1, 0.5, 0.3],
    })
    row = mc.summarise(reps).iloc[0]
    assert row["bias"] == pytest.approx(0.1)
    assert row["rmse"] == pytest.approx(np.sqrt((0.01 + 0.01 + 0.09 + 0.01) / 4))
    assert row["coverage_95"] == pytest.approx(0.75)


def test_markdown_and_targets_render(mc, small_run) -> None:
    _, summary = small_run
    text = mc.render_markdown(summary, reps=8, placebo_reps=0, placebo_draws=39, seed=11, seconds=1.0)
    assert "| dynamic | twfe |" in text and "SYNTHETIC" in text
    assert any(line.startswith("PASS TWFE bias") for line in mc.check_targets(summary))


def test_constant_effect_moves_estimates_not_errors(mc) -> None:
    """Adding a constant effect shifts every estimate by exactly that constant and leaves its SE unchanged, so the
    null, homogeneous and small designs measure one coverage probability (validation pools them)."""
    errors = {}
    for name in mc.CONSTANT_EFFECT_DGPS:
        panel, truth = mc.simulate(mc.DGPS[name], np.random.default_rng(5), 60)  # same draws, different effect
        errors[name] = {est: (att - mc.estimand(panel, est, truth), se)
                        for est, (att, se, _lo, _hi) in mc.estimate(panel).items()}
    assert sorted(errors["null"]) == sorted(mc.ESTIMATORS)
    for name in ("homogeneous", "small"):
        for est, (err, se) in errors[name].items():
            base_err, base_se = errors["null"][est]
            assert err == pytest.approx(base_err, abs=1e-12), (name, est)
            assert se == pytest.approx(base_se, rel=1e-12), (name, est)
    # and a time-varying effect is not a constant: the dynamic design changes the errors
    panel, truth = mc.simulate(mc.DGPS["dynamic"], np.random.default_rng(5), 60)
    dynamic = mc.estimate(panel, ("twfe",))["twfe"][0] - truth
    assert abs(dynamic - errors["null"]["twfe"][0]) > 0.01


def test_pooled_coverage_pools_constant_designs_and_main_with_check(mc) -> None:
    def rows(dgp, covered, n, start=0):
        return pd.DataFrame({"dgp": dgp, "rep": range(start, start + n), "estimator": "stacked", "truth": 0.0,
                             "att": 0.0, "se": 1.0, "ci_low": [-1.0 if c else 0.5 for c in covered],
                             "ci_high": 1.0})
    main = pd.concat([rows("null", [True] * 9 + [False], 10), rows("small", [True] * 10, 10),
                      rows("dynamic", [True] * 8 + [False] * 2, 10)], ignore_index=True)
    check = rows("homogeneous", [True] * 19 + [False], 20)
    pooled = mc.pooled_coverage(main, check).set_index("design")
    assert pooled.loc["constant", "reps"] == 40 and pooled.loc["constant", "coverage_95"] == pytest.approx(38 / 40)
    assert pooled.loc["dynamic", "reps"] == 10 and pooled.loc["dynamic", "coverage_95"] == pytest.approx(0.8)
    text = "\n".join(mc.render_pooled(pooled.reset_index()))
    assert "| constant | stacked | 40 |" in text and "| PASS |" in text and "| FAIL |" in text


def test_report_re_renders_from_the_stored_replications(mc, tmp_path, capsys) -> None:
    args = ["--reps", "2", "--placebo-reps", "1", "--placebo-draws", "19", "--check-reps", "1", "--out", str(tmp_path)]
    assert mc.main(args) == 0
    first = (tmp_path / "monte_carlo.md").read_text(encoding="utf-8")
    assert mc.main(["--placebo-draws", "19", "--from-csv", "--out", str(tmp_path)]) == 0
    again = (tmp_path / "monte_carlo.md").read_text(encoding="utf-8")
    capsys.readouterr()
    strip = [line for line in first.splitlines() if not line.startswith("Generated by")]
    assert strip == [line for line in again.splitlines() if not line.startswith("Generated by")]
    assert "| null | stacked |" in again  # the DGP named "null" survives the CSV round trip


def test_cohort_size_experiment_draws_sizes_and_scores_both_truths(mc) -> None:
    sizes = [mc.simulate(mc.DGPS["dynamic"], np.random.default_rng(s), random_sizes=True)[0]
             .groupby("first_treat")["unit"].nunique().to_dict() for s in range(3)]
    assert len({tuple(sorted(d.items())) for d in sizes}) == 3  # cohort sizes vary across draws
    # with the design's fixed sizes the population ATT is the dynamic design's (fixed) truth
    assert mc.population_att(mc.DGPS["dynamic"]) == pytest.approx(mc.simulate(mc.DGPS["dynamic"],
                                                                               np.random.default_rng(0))[1])
    rows = mc.run_size_experiment(2, seed=3, n_units=90)
    assert sorted(rows["estimator"].unique()) == ["sdid", "sdid_fixed"] and len(rows) == 4
    both = rows.pivot(index="rep", columns="estimator")
    np.testing.assert_array_equal(both[("att", "sdid")], both[("att", "sdid_fixed")])  # one fit, two SEs
    assert (rows["population_truth"] == mc.population_att(mc.DGPS["dynamic"])).all()
    assert not np.allclose(rows["truth"], rows["population_truth"])  # the sample ATT moves with the sizes
    cov = mc.size_coverage(rows)
    assert {"coverage_sample", "coverage_population"} <= set(cov.columns)
    text = mc.render_sizes(cov)
    assert any("Cohort sizes drawn at random" in line for line in text)
    assert any("sdid covers the population ATT" in line for line in text)
    assert any("sdid_fixed covers the sample ATT" in line for line in text)
