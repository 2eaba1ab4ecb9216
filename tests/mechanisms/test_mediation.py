"""Mediator regressions and the optional three-step model (SYNTHETIC panels)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.mediation import MediatorSpec, build_mediator, mediator_regressions, three_step

from .conftest import feols, grouped_panel

MODEL = dict(treatment="did", controls=["x1", "x2"], fixed_effects=["unit", "year"], unit="unit", time="year",
             cluster="unit")


@pytest.fixture
def med_panel():
    df = grouped_panel(100, 8, seed=21)
    rng = np.random.default_rng(5)
    df["m"] = 0.8 * df["did"] + rng.normal(0, 1, len(df))
    df["y"] = df["y"] + 0.5 * df["m"]
    df["short"] = np.where(df["year"] <= 2016, rng.normal(0, 1, len(df)) + 0.3 * df["did"], np.nan)
    df["count"] = rng.poisson(2.0, len(df)).astype(float)
    df.attrs["synthetic"] = True
    return df


def test_mediator_regression_matches_pyfixest_and_reports_coverage(med_panel):
    specs = [MediatorSpec(name="M", column="m"), MediatorSpec(name="S", column="short")]
    out = mediator_regressions(med_panel, specs, **MODEL, vcov="lsdv")
    ref = feols("m ~ did + x1 + x2 | unit + year", med_panel, vcov={"CRV1": "unit"})
    assert out[0].fit.term("did")["coef"] == pytest.approx(ref.coef()["did"], abs=1e-10)
    assert out[0].nobs == len(med_panel) and out[0].years == (2012, 2019)
    assert out[1].years == (2012, 2016)
    assert out[1].nobs == int(med_panel["short"].notna().sum())
    assert out[1].rows_without_mediator == int(med_panel["short"].isna().sum())
    assert any("exists for year 2012-2016" in n for n in out[1].notes)


def test_log_transform_counts_rows_without_a_log(med_panel):
    built = build_mediator(med_panel, MediatorSpec(name="C", column="count", transform="log"), "unit", "year")
    zeros = int((med_panel["count"] <= 0).sum())
    assert zeros > 0
    assert built.values.isna().sum() == zeros
    assert f"{zeros} row(s)" in built.notes[0]
    built1p = build_mediator(med_panel, MediatorSpec(name="C", column="count", transform="log1p"), "unit", "year")
    assert np.allclose(built1p.values, np.log1p(med_panel["count"]))


def test_pca_mediator_is_the_measures_index(med_panel):
    from pilotdid.measures.pca import pca_index
    from pilotdid.measures.system import system_from_dict

    panel = med_panel.copy()
    panel.loc[panel.index[:5], "x3"] = np.nan
    built = build_mediator(panel, MediatorSpec(name="P", pca=["m", "x3"]), "unit", "year")
    assert built.values.isna().sum() == 5
    assert "5 of" in built.notes[0]
    system = system_from_dict({"unit": "unit", "time": "year", "indicator": [
        {"name": "m", "dimension": "m", "sign": "+"}, {"name": "x3", "dimension": "x3", "sign": "+"}]})
    ref = pca_index(panel.dropna(subset=["x3"]), system, unit="unit", time="year").index
    assert np.allclose(built.values.dropna().to_numpy(), ref.to_numpy())


def test_three_step_numbers(med_panel):
    res = three_step(med_panel, outcome="y", mediator="m", treatment="did", controls=["x1", "x2"],
                     fixed_effects=["unit", "year"], unit="unit", cluster="unit", draws=99, seed=3)
    a_ref = feols("m ~ did + x1 + x2 | unit + year", med_panel, vcov={"CRV1": "unit"}).coef()["did"]
    b_ref = feols("y ~ did + m + x1 + x2 | unit + year", med_panel, vcov={"CRV1": "unit"}).coef()["m"]
    assert res.a["coef"] == pytest.approx(a_ref, abs=1e-10)
    assert res.b["coef"] == pytest.approx(b_ref, abs=1e-10)
    assert res.indirect == pytest.approx(a_ref * b_ref, abs=1e-10)
    # the identity total = direct + indirect holds exactly for OLS on a common sample
    assert res.total["coef"] == pytest.approx(res.direct["coef"] + res.indirect, abs=1e-10)
    assert res.sobel_se == pytest.approx(np.hypot(res.a["coef"] * res.b["se"], res.b["coef"] * res.a["se"]))
    assert res.sobel_p == pytest.approx(2 * stats.norm.sf(abs(res.indirect / res.sobel_se)))
    assert res.boot_ci[0] < res.indirect < res.boot_ci[1]
    again = three_step(med_panel, outcome="y", mediator="m", treatment="did", controls=["x1", "x2"],
                       fixed_effects=["unit", "year"], unit="unit", cluster="unit", draws=99, seed=3)
    assert again.boot_ci == res.boot_ci


def test_three_step_no_mediation_ci_covers_zero(med_panel):
    rng = np.random.default_rng(9)
    panel = med_panel.assign(noise=rng.normal(0, 1, len(med_panel)))
    res = three_step(panel, outcome="y", mediator="noise", treatment="did", controls=["x1"],
                     fixed_effects=["unit", "year"], unit="unit", cluster="unit", draws=99, seed=1)
    assert res.boot_ci[0] < 0 < res.boot_ci[1]


@pytest.mark.parametrize("raw,needle", [
    ({"name": "A"}, "exactly one of"),
    ({"name": "A", "column": "m", "pca": ["a", "b"]}, "exactly one of"),
    ({"name": "A", "pca": ["a"]}, "at least two"),
    ({"name": "A", "column": "m", "transform": "sqrt"}, "transform"),
    ({"name": "A", "column": "m", "weight": 1}, "unknown key"),
])
def test_bad_mediator_options(raw, needle):
    with pytest.raises(PilotdidInputError) as exc:
        MediatorSpec.from_options(raw, "[analyses.mechanism] mediators[0]")
    assert needle in str(exc.value) and "\n" not in str(exc.value)


def test_unknown_mediator_column(med_panel):
    with pytest.raises(PilotdidInputError) as exc:
        mediator_regressions(med_panel, [MediatorSpec(name="Z", column="nope")], **MODEL)
    assert "nope" in str(exc.value) and "\n" not in str(exc.value)
    with pytest.raises(PilotdidInputError) as exc:
        mediator_regressions(med_panel, [MediatorSpec(name="Z", pca=["m", "nope"])], **MODEL)
    assert "nope" in str(exc.value)
