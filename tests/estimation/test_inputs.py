"""Bad inputs raise PilotdidInputError with one line; missing rows and singletons are counted. SYNTHETIC data."""

from __future__ import annotations

import numpy as np
import pytest

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.twfe import fit_twfe
from pilotdid.estimation.twfe.data import count_singletons
from pilotdid.study.results import ESTIMATE_KEYS

XS = ["did", "x1", "x2"]
FES = ["unit", "year"]


def one_line(exc_info) -> str:
    text = str(exc_info.value)
    assert "\n" not in text
    return text


def test_missing_column(panel):
    with pytest.raises(PilotdidInputError) as e:
        fit_twfe(panel, "y", ["did", "nope"], FES, "unit")
    assert "nope" in one_line(e)


def test_non_numeric(panel):
    df = panel.assign(x1=panel["x1"].astype(str))
    with pytest.raises(PilotdidInputError) as e:
        fit_twfe(df, "y", XS, FES, "unit")
    assert "x1" in one_line(e) and "numeric" in one_line(e)


def test_all_nan(panel):
    with pytest.raises(PilotdidInputError) as e:
        fit_twfe(panel.assign(x2=np.nan), "y", XS, FES, "unit")
    assert "entirely missing" in one_line(e)


def test_no_variation_in_treatment(panel):
    with pytest.raises(PilotdidInputError) as e:
        fit_twfe(panel.assign(did=0.0), "y", XS, FES, "unit")
    assert "did" in one_line(e) and "single value" in one_line(e)


def test_collinear_with_fixed_effects(panel):
    df = panel.assign(treat=panel.groupby("unit")["did"].transform("max"))
    with pytest.raises(PilotdidInputError) as e:
        fit_twfe(df, "y", ["did", "treat"], FES, "unit")
    assert "collinear" in one_line(e) and "treat" in one_line(e)


def test_collinear_regressors(panel):
    with pytest.raises(PilotdidInputError) as e:
        fit_twfe(panel.assign(x3=2 * panel["x1"] - panel["x2"]), "y", ["did", "x1", "x2", "x3"], FES, "unit")
    assert "collinear" in one_line(e)


def test_infinite_values(panel):
    df = panel.copy()
    df.loc[3, "x1"] = np.inf
    with pytest.raises(PilotdidInputError, match="infinite"):
        fit_twfe(df, "y", XS, FES, "unit")


def test_missing_rows_counted_not_silent(panel):
    df = panel.copy()
    df.loc[[0, 5, 9], "x2"] = np.nan
    res = fit_twfe(df, "y", XS, FES, "unit")
    assert res.rows_missing == 3 and res.nobs == len(df) - 3
    assert any("3 of" in n and "x2 3" in n for n in res.notes)


def test_singletons_counted_iteratively():
    import pandas as pd

    df = pd.DataFrame({"a": [1, 1, 2, 3, 3], "b": [1, 2, 2, 3, 4]})
    # a=2 is a singleton; dropping it leaves b=2 once, which then is a singleton ... and so on
    n, mask = count_singletons(df, ["a", "b"])
    assert n == 5 and mask.all()
    n, _ = count_singletons(pd.DataFrame({"a": [1, 1, 2, 2], "b": [1, 2, 1, 2]}), ["a", "b"])
    assert n == 0


def test_estimate_rows_schema(panel):
    res = fit_twfe(panel, "y", XS, FES, "unit", vcov="lsdv")
    rows = res.estimate_rows("baseline", "1", sample="full", treatment_term="x1")
    assert [r["term"] for r in rows] == ["x1", "did", "x2", "_cons"]
    for r in rows:
        assert tuple(r) == ESTIMATE_KEYS
        assert r["table"] == "baseline" and r["column"] == "1" and r["vcov"] == "lsdv" and r["outcome"] == "y"
        assert isinstance(r["nobs"], int) and r["ci_low"] < r["coef"] < r["ci_high"]
    fixest_rows = fit_twfe(panel, "y", XS, FES, "unit", vcov="fixest").estimate_rows("vcov_presets", "fixest")
    assert "_cons" not in [r["term"] for r in fixest_rows]
    with pytest.raises(KeyError):
        res.estimate_rows("baseline", "1", treatment_term="nope")


def test_summary_names_conventions(panel):
    text = fit_twfe(panel, "y", XS, FES, "unit", vcov="reghdfe").summary()
    assert "reghdfe" in text and "K = " in text and "df" in text and "within R²" in text


def test_caller_frame_not_modified(panel):
    before = panel.copy()
    fit_twfe(panel, "y", XS, FES, "unit")
    assert panel.equals(before)
