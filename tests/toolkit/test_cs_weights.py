"""Weighted Callaway-Sant'Anna (sampling weights as R did's ``weightsname``) against the peer package csdid 0.4.3.

Reference: fixtures/cs_weighted_reference.csv, written once by fixtures/make_cs_weighted_reference.py from the
SYNTHETIC panel tests/staggered/fixtures/cs_panel.csv with the unit weight 0.5 + (unit mod 7) / 4.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.staggered import cs

HERE = Path(__file__).parent
CONFIGS = {
    "never_varying_nocov": ("never_treated", "dr", None),
    "notyet_varying_nocov": ("not_yet_treated", "dr", None),
    "never_varying_dr": ("never_treated", "dr", ["x1", "x2"]),
    "never_varying_ipw": ("never_treated", "ipw", ["x1", "x2"]),
    "never_varying_reg": ("never_treated", "reg", ["x1", "x2"]),
    "notyet_varying_dr": ("not_yet_treated", "dr", ["x1", "x2"]),
}


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    df = pd.read_csv(HERE.parent / "staggered" / "fixtures" / "cs_panel.csv")
    return df.assign(w=0.5 + (df["unit"] % 7) / 4)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(HERE / "fixtures" / "cs_weighted_reference.csv")


def _fit(panel, name, weights="w"):
    cg, method, covs = CONFIGS[name]
    return cs.att_gt(panel, outcome="y", unit="unit", time="year", first_treat="first_treat", covariates=covs,
                     control_group=cg, est_method=method, weights=weights)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_weighted_att_gt_and_aggregations_match_csdid(panel, reference, name):
    res = _fit(panel, name)
    ref = reference[reference.config == name]
    gt = ref[ref.kind == "att_gt"].set_index("label")
    ours = res.att_gt.assign(label=lambda d: d.group.astype(str) + ":" + d.time.astype(str)).set_index("label")
    assert sorted(ours.index) == sorted(gt.index)
    np.testing.assert_allclose(ours.loc[gt.index, ["att", "se"]], gt[["att", "se"]], atol=1e-9, rtol=0)
    for typ in ("simple", "group", "calendar", "dynamic"):
        agg = res.aggregate(typ)
        rows = ref[ref.kind == typ].set_index("label")
        assert agg.att == pytest.approx(rows.loc["overall", "att"], abs=1e-9)
        assert agg.se == pytest.approx(rows.loc["overall", "se"], abs=1e-9)
        if typ != "simple":
            detail = agg.detail.set_index(agg.detail.iloc[:, 0].astype(int).astype(str))
            np.testing.assert_allclose(detail.loc[rows.index[1:], ["att", "se"]], rows.loc[rows.index[1:], ["att", "se"]],
                                       atol=1e-9, rtol=0)


def test_weights_matter_and_equal_weights_do_not(panel):
    plain = _fit(panel, "never_varying_dr", weights=None)
    same = _fit(panel.assign(w=3.0), "never_varying_dr")
    weighted = _fit(panel, "never_varying_dr")
    np.testing.assert_allclose(same.att_gt[["att", "se"]], plain.att_gt[["att", "se"]], rtol=1e-10, atol=1e-12)
    assert same.aggregate("simple").att == pytest.approx(plain.aggregate("simple").att, rel=1e-10)
    assert abs(weighted.aggregate("simple").att - plain.aggregate("simple").att) > 1e-4


def test_time_varying_or_negative_weights_are_refused(panel):
    with pytest.raises(PilotdidInputError, match="varies over time within unit"):
        _fit(panel.assign(w=panel["w"] + 0.01 * (panel["year"] - 2012)), "never_varying_nocov")
    with pytest.raises(PilotdidInputError, match="negative"):
        _fit(panel.assign(w=np.where(panel["unit"] == panel["unit"].iloc[0], -1.0, panel["w"])), "never_varying_nocov")
