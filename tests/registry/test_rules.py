"""Treatment-year rules on edge dates (approval month vs the cut-off month, lags)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pilotdid.errors import PilotdidInputError
from pilotdid.registry import load_policy, treatment_years
from pilotdid.registry.rules import describe_rule


def _entries(dates):
    """Synthetic registry rows (one per approval (year, month)), labelled as such."""
    return pd.DataFrame(
        {
            "entity_name": [f"synthetic_{i}" for i in range(len(dates))],
            "batch": range(1, len(dates) + 1),
            "approval_year": [y for y, _ in dates],
            "approval_month": pd.array([m for _, m in dates], dtype="Int64"),
        }
    )


EDGE = _entries([(2018, 7), (2018, 8), (2019, 12), (2020, 1), (2022, 11)])


def test_approval_year_ignores_the_month():
    assert treatment_years(EDGE, "approval_year").tolist() == [2018, 2018, 2019, 2020, 2022]


def test_next_year_if_after_default_cutoff_july():
    # July stays (the cut-off month itself), August on moves to the next year
    assert treatment_years(EDGE, "next_year_if_after", cutoff_month=7).tolist() == [2018, 2019, 2020, 2020, 2023]


@pytest.mark.parametrize(
    ("cutoff", "expected"),
    [(12, [2018, 2018, 2019, 2020, 2022]), (11, [2018, 2018, 2020, 2020, 2022]), (1, [2019, 2019, 2020, 2020, 2023])],
)
def test_next_year_if_after_other_cutoffs(cutoff, expected):
    assert treatment_years(EDGE, "next_year_if_after", cutoff_month=cutoff).tolist() == expected


def test_lag_rule_and_lag_on_top_of_a_rule():
    assert treatment_years(EDGE, "lag", lag=1).tolist() == [2019, 2019, 2020, 2021, 2023]
    assert treatment_years(EDGE, "next_year_if_after", lag=1).tolist() == [2019, 2020, 2021, 2021, 2024]
    assert "plus a lag of 1" in describe_rule("next_year_if_after", 7, 1)


def test_cbec_batch4_december_signature_moves_to_2020():
    e = load_policy("cbec").entries
    years = treatment_years(e, "next_year_if_after")
    by_batch = years.groupby(e["batch"]).unique().map(lambda a: sorted(a.tolist()))
    assert by_batch[3] == [2018]  # 2018-07-24: the cut-off month itself
    assert by_batch[4] == [2020]  # 2019-12-15
    assert by_batch[5] == [2020]  # 2020-04
    assert by_batch[7] == [2023]  # 2022-11-14


@pytest.mark.parametrize(
    ("rule", "cutoff", "lag", "match"),
    [("nope", 7, 0, "unknown treatment-year rule"), ("lag", 7, 0, "needs lag >= 1"),
     ("approval_year", 13, 0, "cutoff_month"), ("approval_year", 7, -1, "lag must"), ("approval_year", 7, 1.5, "lag must")],
)
def test_bad_rule_parameters(rule, cutoff, lag, match):
    with pytest.raises(PilotdidInputError, match=match):
        treatment_years(EDGE, rule, cutoff_month=cutoff, lag=lag)


def test_missing_month_is_refused_by_next_year_if_after():
    entries = _entries([(2018, 7), (2019, None)])
    entries["source_file"] = "synthetic.csv"
    entries["source_line"] = [2, 3]
    with pytest.raises(PilotdidInputError, match="needs the approval month") as err:
        treatment_years(entries, "next_year_if_after")
    assert "synthetic.csv, line 3" in str(err.value)
    assert treatment_years(entries, "approval_year").tolist() == [2018, 2019]
    with pytest.raises(PilotdidInputError, match="needs the approval month"):
        treatment_years(load_policy("hsr").entries, "next_year_if_after")


@given(
    year=st.integers(1990, 2030), month=st.integers(1, 12), cutoff=st.integers(1, 12), lag=st.integers(0, 3)
)
def test_rule_shift_is_zero_or_one_year_plus_lag(year, month, cutoff, lag):
    entries = _entries([(year, month)])
    got = int(treatment_years(entries, "next_year_if_after", cutoff_month=cutoff, lag=lag).iloc[0])
    assert got == year + lag + (1 if month > cutoff else 0)
    assert int(treatment_years(entries, "approval_year", lag=lag).iloc[0]) == year + lag
