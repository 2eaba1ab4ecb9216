"""The public API (``import pilotdid as pdid``) and the result protocol every result follows.

Every panel here is SYNTHETIC (``simulate_staggered_panel``). The API is a thin layer: each wrapper must
give exactly the number of the core function it wraps, and each result must honour the protocol.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import pilotdid as pdid
from pilotdid.estimation.staggered.simulate import simulate_staggered_panel
from pilotdid.results import TIDY_COLUMNS, Result

KW = dict(outcome="y", unit="unit", time="year", first_treat="first_treat")


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    df, _ = simulate_staggered_panel(n_units=60, n_covariates=2, seed=3)
    df["large"] = (df["unit"] % 2 == 0).astype(int)
    rng = np.random.default_rng(11)  # time-varying controls (the simulator's covariates are unit-constant)
    df["z1"] = rng.normal(size=len(df))
    df["z2"] = 0.3 * df["did"] + rng.normal(size=len(df))
    return df


def check_protocol(result: Result) -> pd.DataFrame:
    """Every protocol method works and has the promised shape."""
    from matplotlib.figure import Figure

    assert isinstance(result, Result)
    tidy = result.tidy()
    assert list(tidy.columns[: len(TIDY_COLUMNS)]) == list(TIDY_COLUMNS)
    assert len(tidy) and tidy["kind"].notna().all()
    assert isinstance(result.summary(), str) and result.summary()
    html = result._repr_html_()
    assert html.startswith("<div") and "<table" in html
    record = result.to_dict()
    assert isinstance(record, dict) and record
    json.dumps(record, allow_nan=False)  # results.json-safe: no NaN, no numpy scalars
    assert isinstance(result.conventions, dict)
    fig = result.plot()
    assert isinstance(fig, Figure)
    return tidy


def test_import_is_light_and_lazy():
    code = "import sys, pilotdid; print(any(m.startswith(('pandas', 'pyfixest', 'matplotlib')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_every_public_name_is_documented():
    for name in pdid.__all__:
        obj = getattr(pdid, name)
        if callable(obj):
            assert obj.__doc__ and len(obj.__doc__.strip()) > 40, name


def test_formula_parsing():
    assert pdid.parse_formula("y ~ did + x1 | city + year") == ("y", ["did", "x1"], ["city", "year"])
    assert pdid.parse_formula("y~did") == ("y", ["did"], [])
    with pytest.raises(pdid.PilotdidInputError):
        pdid.parse_formula("y ~ log(x) | c")
    with pytest.raises(pdid.PilotdidInputError):
        pdid.parse_formula("y + did")


def test_twfe_equals_core_and_follows_protocol(panel):
    from pilotdid.estimation.twfe import fit_twfe

    fit = pdid.twfe(panel, "y ~ did + z1 + z2 | unit + year", vcov="reghdfe", cluster="unit")
    core = fit_twfe(panel, "y", ["did", "z1", "z2"], ["unit", "year"], "unit", vcov="reghdfe")
    assert fit.term("did") == core.term("did")
    tidy = check_protocol(fit)
    row = tidy.set_index("term").loc["did"]
    assert row["estimate"] == core.term("did")["coef"] and row["kind"] == "coefficient"
    assert fit.conventions["vcov"] == "reghdfe"
    # the command in the user's own names (the summary said 'reghdfe y x, absorb(city year) vce(cluster city)')
    assert fit.conventions["command"] == "reghdfe y did z1 z2, absorb(unit year) vce(cluster unit)"
    assert "(reghdfe y did z1 z2, absorb(unit year) vce(cluster unit))" in fit.summary()
    assert fit.to_dict()["estimates"][0]["term"] == "did"


def test_coefficient_plot_leaves_out_the_constant_and_summaries_cut_nothing(panel):
    # the intercept (~ the outcome's level) on the same axis squashed every effect to one point at 0
    fit = pdid.twfe(panel, "y ~ did + z1 | unit + year", vcov="lsdv", cluster="unit")
    assert "_cons" in set(fit.tidy()["term"])
    labels = [t.get_text() for t in fit.plot().axes[0].get_yticklabels()]
    assert labels == ["did", "z1"]
    header = next(line for line in fit.summary().splitlines() if line.startswith("term"))
    assert header.rstrip().endswith("[95% conf.   interval]"), header  # both CI columns under one bracket, as Stata
    # rows without an estimate (PSM's balance rows) have no place on the axis either
    treated_group = panel.assign(treat=(panel["first_treat"] > 0).astype(int))
    psm = pdid.psm(treated_group, treat="treat", covariates=["x1"], formula="y ~ did | unit + year", cluster="unit")
    assert [t.get_text() for t in psm.plot().axes[0].get_yticklabels()] == ["did"]
    assert psm.conventions["did_vcov"] == "lsdv" and psm.conventions["did_cluster"] == "unit"
    # Bacon's comparison types are printed whole, with the weights that give the TWFE coefficient
    summary = pdid.bacon(panel, **KW).summary()
    header = next(line for line in summary.splitlines() if line.startswith("term"))
    assert "treated vs never treated  " in summary and "weight" in header.split()


def test_event_study_and_placebo(panel):
    es = pdid.event_study(panel, **KW, controls=["z1"], cluster="unit")
    tidy = check_protocol(es)
    assert (tidy.loc[tidy["rel_time"] == -1, "estimate"] == 0).all()
    pl = pdid.placebo(panel, **KW, controls=["z1"], cluster="unit", draws=50, seed=7)
    check_protocol(pl)
    assert pl.actual_coef == pytest.approx(pdid.twfe(panel, "y ~ did + z1 | unit + year", vcov="lsdv",
                                                     cluster="unit").term("did")["coef"], rel=1e-8)
    again = pdid.placebo(panel, **KW, controls=["z1"], cluster="unit", draws=50, seed=7)
    assert np.array_equal(pl.coefs, again.coefs)


def test_event_time_plots_tick_whole_periods_and_name_the_estimator(panel):
    # a short event window got matplotlib's default ticks (-1.0, -0.5, 0.0, ...) and titles such as "sa event study"
    for result, name in ((pdid.sun_abraham(panel, **KW), "Sun-Abraham event study"),
                         (pdid.stacked(panel, **KW, window=(-2, 1)).event_study, "Stacked DID event study")):
        assert result.title == name
        fig = result.plot()
        fig.canvas.draw()
        ticks = fig.axes[0].get_xticks()
        assert np.allclose(ticks, np.round(ticks)), ticks


def test_placebo_reads_an_empty_first_treat_as_never_treated(panel):
    # NaN first_treat (the documented "empty = never treated") made the placebo engine drop every never-treated row
    # as missing: the actual coefficient moved (mpdta: -0.0365 -> -0.0102)
    empty = panel.assign(first_treat=panel["first_treat"].astype(float).replace(0, np.nan))
    kw = dict(controls=["z1"], cluster="unit", draws=30, seed=7)
    zero, nan = pdid.placebo(panel, **KW, **kw), pdid.placebo(empty, **KW, **kw)
    assert nan.actual_coef == zero.actual_coef and np.array_equal(nan.coefs, zero.coefs)
    with pytest.raises(pdid.PilotdidInputError, match="non-numeric value 'never'"):
        pdid.placebo(panel.assign(first_treat=panel["first_treat"].astype(object).replace(0, "never")), **KW, **kw)


def test_staggered_estimators(panel):
    from pilotdid.estimation.staggered import cs

    res = pdid.att_gt(panel, **KW, base_period="universal")
    check_protocol(res)
    core = cs.aggregate(cs.att_gt(panel, **KW, base_period="universal"), "simple")
    for kind in ("simple", "dynamic", "group", "calendar"):
        agg = res.aggregate(kind)
        check_protocol(agg)
    assert res.aggregate("simple").att == core.att
    for fn in (pdid.sun_abraham, pdid.imputation):
        check_protocol(fn(panel, **KW))
    # BJS normalises no period: its conventions say so (they printed "reference_period: None")
    assert pdid.imputation(panel, **KW).conventions["reference_period"].startswith("none: every event time")
    assert pdid.sun_abraham(panel, **KW).conventions["reference_period"] == -1
    for fn in (pdid.etwfe, pdid.stacked):
        check_protocol(fn(panel, **KW))
    check_protocol(pdid.sdid(panel, **KW, replications=20))
    check_protocol(pdid.did_multiplegt_dyn(panel, outcome="y", unit="unit", time="year", treatment="did", effects=3,
                                           placebo=2))
    b = pdid.bacon(panel, **KW)
    tidy = check_protocol(b)
    assert (tidy.loc[tidy["kind"] == "bacon_type", "estimate"] * tidy.loc[tidy["kind"] == "bacon_type", "weight"]
            ).sum() == pytest.approx(b.twfe)


def test_honest_from_cs_and_sa(panel):
    res = pdid.att_gt(panel, **KW, base_period="universal")
    h = pdid.honest(res, method="RM", grid=[0, 0.5, 1], window=(-3, 3))
    tidy = check_protocol(h)
    assert list(tidy["kind"]) == ["original", "robust", "robust", "robust"]
    h_sd = pdid.honest(pdid.sun_abraham(panel, **KW), method="SD", window=(-3, 3))
    check_protocol(h_sd)
    # a CS result with the varying base period (att_gt's default) is bounded, but the summary says why not to
    varying = pdid.honest(pdid.att_gt(panel, **KW), method="RM", grid=[0, 0.5], window=(-3, 3))
    assert any("base_period='varying'" in n for n in varying.result_notes) and not h.result_notes
    # an inverted window said "base -1 is outside the bins"
    with pytest.raises(pdid.PilotdidInputError, match=r"window = \[2, -2\]: the first event time is after the last"):
        pdid.event_study(panel, **KW, window=(2, -2))
    # the breakdown value says what it is (the summary printed "breakdown: None")
    for result in (h, h_sd):
        said = result.conventions["breakdown"]
        assert said.startswith("none: even the smallest") if result.breakdown is None else \
            said.startswith(f"{result.breakdown:g}: the largest")


def test_pretrend_power_from_cs_and_sa(panel):
    # the pre-trend power analysis had no Python function: only [analyses.pretrends] of a study reached it
    from pilotdid.estimation.staggered import cs
    from pilotdid.inference.pretrends import event_study_power

    res = pdid.att_gt(panel, **KW, base_period="universal")
    for source in (res, pdid.sun_abraham(panel, **KW)):
        out = pdid.pretrend_power(source, window=(-3, 3), power=0.8)
        check_protocol(out)
        es = source
        if isinstance(source, cs.CSResult):
            es = cs.dynamic_event_study(source, {t: cs.aggregate(source, t) for t in ("simple", "dynamic")})
        core = event_study_power(es, (-3, 3), 0.8)
        assert out.analysis.slopes == core.slopes and out.to_dict()["pretrends"]["power"] == core.result.power
        assert out.conventions["violation"].startswith("linear")
    with pytest.raises(pdid.PilotdidInputError, match="no pre-period"):
        pdid.pretrend_power(res, window=(-1, 3))


def test_wild_bootstrap_psm_index_mediation_subgroups(panel):
    wb = pdid.wild_bootstrap(panel, outcome="y", term="did", controls=["z1"], fixed_effects=["unit", "year"],
                             cluster="unit", reps=199, seed=1)
    check_protocol(wb)
    treated_group = panel.assign(treat=(panel["first_treat"] > 0).astype(int))
    m = pdid.psm(treated_group, treat="treat", covariates=["x1", "x2"], formula="y ~ did + z1 | unit + year",
                 cluster="unit")
    check_protocol(m)
    med = pdid.mediation(panel, outcome="y", mediator="z2", treatment="did", unit="unit", controls=["z1"],
                         fixed_effects=["unit", "year"], cluster="unit", draws=99, seed=2)
    check_protocol(med)
    assert "clustered by unit" in med.conventions["se"]  # the three regressions' SE convention is named
    sg = pdid.subgroups(panel, outcome="y", treatment="did", unit="unit", time="year",
                        split={"column": "large", "labels": ["large", "small"]}, cluster="unit", draws=49)
    check_protocol(sg)


def test_index_functions():
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"city": np.repeat(np.arange(20), 3), "year": np.tile([2018, 2019, 2020], 20),
                         "a": rng.normal(size=60), "b": rng.normal(size=60), "c": rng.normal(size=60)})
    from pilotdid.measures.system import Indicator, IndicatorSystem

    system = IndicatorSystem(name="t", unit="city", time="year", indicators=[
        Indicator(name=n, dimension="d", sign="+") for n in ("a", "b", "c")])
    for fn in (pdid.entropy_index, pdid.critic_index, pdid.topsis_index, pdid.equal_index):
        res = fn(data, system)
        tidy = check_protocol(res)
        assert tidy["estimate"].sum() == pytest.approx(1.0)


def test_tables(panel, tmp_path):
    fits = [pdid.twfe(panel, f, cluster="unit") for f in ("y ~ did | unit + year", "y ~ did + z1 | unit + year")]
    md = pdid.table(fits, format="md")
    assert "did" in md
    assert "\\begin{tabular" in pdid.table(fits, format="tex")
    path = pdid.table(fits, format="docx", path=tmp_path / "t.docx")
    assert path.stat().st_size > 1000
    assert "estimate" in pdid.table(pdid.bacon(panel, **KW), format="csv")
    with pytest.raises(pdid.PilotdidInputError):
        pdid.table(fits, format="docx")


def test_study_toml_roundtrip():
    import tomllib

    from pilotdid.api import study_toml

    study = {"study": {"name": "x"}, "data": {"panel": "p.csv", "unit": "u", "time": "t"},
             "analyses": {"baseline": {"stepwise": True}, "heterogeneity": {"splits": [{"column": "a", "labels": ["p", "q"]}]}}}
    assert tomllib.loads(study_toml(study)) == study


def test_committed_api_reference_is_the_generated_one():
    from pathlib import Path

    from pilotdid.api import api_reference

    committed = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text(encoding="utf-8")
    assert committed == api_reference(), "docs/api.md is out of date: run `python -m pilotdid.api > docs/api.md`"


def test_run_study_from_a_dict_and_the_specification_curve(panel, tmp_path):
    data = panel[["unit", "year", "y", "first_treat", "z1", "z2"]]
    data.to_csv(tmp_path / "panel.csv", index=False)
    study = {"study": {"name": "api_dict", "seed": 7},
             "data": {"panel": "panel.csv", "unit": "unit", "time": "year"},
             "treatment": {"first_treat": "first_treat"},
             "model": {"outcome": "y", "controls": ["z1", "z2"], "fixed_effects": ["unit", "year"], "cluster": "unit",
                       "vcov": "reghdfe"},
             "analyses": {"baseline": {}}}
    res = pdid.run_study(study, base_dir=tmp_path)
    tidy = check_protocol(res)
    # the intercept is a constant row (kept off the coefficient plot) and the title names the study
    assert set(tidy.loc[tidy["term"] == "_cons", "kind"]) == {"constant"} and res.title.endswith("api_dict")
    assert "_cons" not in [t.get_text() for t in res.plot().axes[0].get_yticklabels()]
    did = tidy[(tidy["table"] == "baseline") & (tidy["term"] == "did")].iloc[-1]
    direct = pdid.twfe(data.assign(did=((data.first_treat > 0) & (data.year >= data.first_treat)).astype(float)),
                       "y ~ did + z1 + z2 | unit + year", vcov="reghdfe", cluster="unit").term("did")
    assert did["estimate"] == pytest.approx(direct["coef"], rel=1e-10)
    out = res.write(tmp_path / "out")
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["study"] == "api_dict"
    curve = pdid.specification_curve(study, base_dir=tmp_path, vcov=["reghdfe", "lsdv"], placebo_draws=9)
    assert "specification_curve_summary" in curve.tables
    with pytest.raises(pdid.PilotdidInputError):
        pdid.run_study({**study, "analyses": {"baseline": {"stepwize": True}}}, base_dir=tmp_path)


def test_one_event_study_result(panel):
    """The binned TWFE event study and the staggered estimators return the same class; each to_dict carries the
    sections its estimator has (pretrend for the binned one, the overall ATT for the staggered ones)."""
    from pilotdid.estimation.event_study_result import EventStudyResult

    binned = pdid.event_study(panel, **KW, controls=["z1"], cluster="unit")
    sa = pdid.sun_abraham(panel, **KW)
    assert type(binned) is type(sa) is EventStudyResult
    assert set(binned.to_dict()) == {"event_study", "pretrend"} and set(sa.to_dict()) == {"event_study", "aggregates"}
    base_row = next(r for r in binned.to_dict()["event_study"] if r["is_base"])
    assert base_row["coef"] == 0 and base_row["se"] is None and base_row["rel_time"] == binned.reference == -1
    assert binned.coefs is binned.table and binned.rows() == binned.event_rows()


def test_subgroups_permute_within_cohorts_as_the_study_does(panel):
    # first_treat was accepted and silently ignored: the permutation ran across all units, while
    # [analyses.heterogeneity] permutes within adoption cohorts by default (README "Subgroup permutation tests")
    from pilotdid.estimation.heterogeneity import GroupSplit, estimate_split

    kw = dict(outcome="y", treatment="did", unit="unit", time="year", cluster="unit", draws=49, seed=2,
              split={"column": "large", "labels": ["large", "small"]})
    given = pdid.subgroups(panel, **kw, first_treat="first_treat")
    derived = pdid.subgroups(panel, **kw)  # cohorts from the first period with did = 1
    core = estimate_split(panel, split=GroupSplit.from_options(dict(kw["split"]), where="split"), outcome="y",
                          treatment="did", controls=[], fixed_effects=["unit", "year"], unit="unit", time="year",
                          cluster="unit", draws=49, seed=2, strata="first_treat", also_strata=(None,))
    for res in (given, derived):
        tidy = res.tidy().set_index("term")
        assert tidy.loc["difference (permutation, within adoption cohorts)", "p"] == core.permutation.p_diff
        assert tidy.loc["difference (permutation, across all units)", "p"] == core.other_permutations["all"].p_diff
        assert "within adoption cohorts" in res.conventions["permutation"]
    across = pdid.subgroups(panel, **kw, first_treat="first_treat", strata="none").tidy().set_index("term")
    assert across.loc["difference (permutation, across all units)", "p"] == core.other_permutations["all"].p_diff


#: Arguments documented once, in the module docstring's list of shared arguments.
SHARED_ARGUMENTS = {"data", "outcome", "unit", "time", "first_treat", "treatment", "controls", "covariates",
                    "fixed_effects", "cluster", "vcov", "weights", "alpha", "seed", "draws"}


def test_every_argument_of_every_public_function_is_documented():
    import inspect
    import re

    import pilotdid.api

    module_doc = inspect.getdoc(pilotdid.api)
    for name in SHARED_ARGUMENTS:
        assert f"``{name}``" in module_doc, name

    def documented(func, arg) -> bool:
        doc = inspect.getdoc(func) or ""
        if arg in SHARED_ARGUMENTS or re.search(rf"``{arg}``|\b{arg}\b", doc):
            return True
        if arg == "kwargs" and "keywords" in doc.lower():
            return True
        other = re.search(r"arguments as\s+:func:`(\w+)`", doc)
        return bool(other) and documented(getattr(pdid, other.group(1)), arg)

    missing = {name: [a for a in inspect.signature(getattr(pdid, name)).parameters
                      if not documented(getattr(pdid, name), a)]
               for name in pdid.__all__ if inspect.isfunction(getattr(pdid, name))}
    assert not {k: v for k, v in missing.items() if v}


def test_every_default_seed_is_the_study_files():
    # pdid.honest and pdid.sdid drew with seed 0 while the study (and every other function) uses [study] seed 12345,
    # so the quickstart's HonestDiD bounds no longer equalled `pilotdid run`'s once the honest analysis took the
    # study seed
    import inspect

    from pilotdid.study.options import section_keys

    study_seed = section_keys()["study"]["seed"][1]
    defaults = {name: inspect.signature(getattr(pdid, name)).parameters["seed"].default for name in pdid.__all__
                if inspect.isfunction(getattr(pdid, name)) and "seed" in inspect.signature(getattr(pdid, name)).parameters
                and name != "run_study"}  # run_study's seed overrides the study file's (None: the file's)
    assert len(defaults) >= 9 and set(defaults.values()) == {study_seed}, defaults
