"""build_index / compare_indices on SYNTHETIC panels: alignment, pooling, edge cases, notes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilotdid.errors import PilotdidInputError
from pilotdid.measures import build_index, compare_indices, load_indicator_system
from pilotdid.measures.weighting import entropy_weights, minmax_standardise


def test_entropy_index_matches_core_and_is_aligned(panel, system_path):
    shuffled = panel.sample(frac=1.0, random_state=3)  # row order and index labels must be kept
    result = build_index(shuffled, system_path)
    assert result.index.index.equals(shuffled.index)
    x = shuffled[["a", "b", "c"]].to_numpy()
    z = minmax_standardise(x, ["+", "-", "+"])
    e, d, w = entropy_weights(z, 1e-4)
    used = result.weights.set_index("indicator")
    np.testing.assert_allclose(used["weight"].to_numpy(), w, rtol=1e-13)
    np.testing.assert_allclose(used["entropy"].to_numpy(), e, rtol=1e-13)
    np.testing.assert_allclose(result.index.to_numpy(), z @ w, rtol=1e-13)
    # sub-indices are the dimensions' parts of the index
    assert list(result.subindices.columns) == ["first", "second"]
    np.testing.assert_allclose(result.subindices.sum(axis=1).to_numpy(), result.index.to_numpy(), rtol=1e-13)
    assert used["published_weight_renormalised"].sum() == pytest.approx(1.0)
    assert any("shift = 0.0001" in n for n in result.notes)


def test_by_year_weights_each_cross_section(panel, system_path):
    result = build_index(panel, system_path, pooling="by_year")
    assert list(result.weights_by_time.columns) == sorted(panel["year"].unique())
    for year, rows in panel.groupby("year"):
        z = minmax_standardise(rows[["a", "b", "c"]].to_numpy(), ["+", "-", "+"])
        w = entropy_weights(z)[2]
        np.testing.assert_allclose(result.weights_by_time[year].to_numpy(), w, rtol=1e-12)
        np.testing.assert_allclose(result.index.loc[rows.index].to_numpy(), z @ w, rtol=1e-12)
        assert result.scores.loc[rows.index].max().max() == pytest.approx(1.0)
    np.testing.assert_allclose(result.weights["weight"].to_numpy(), result.weights_by_time.mean(axis=1).to_numpy())


@pytest.mark.parametrize("method", ["entropy", "critic", "topsis", "equal"])
def test_methods_give_unit_sum_weights_and_bounded_index(panel, system_path, method):
    result = build_index(panel, system_path, method=method)
    assert result.weights["weight"].sum() == pytest.approx(1.0)
    assert result.index.between(0, 1).all()
    assert result.index.notna().all()


def test_equal_weights(panel, system_path):
    result = build_index(panel, system_path, method="equal")
    np.testing.assert_allclose(result.index, result.scores.mean(axis=1))


def test_unavailable_indicators_skipped_and_noted(make_panel):
    system = load_indicator_system("cbec_resilience")
    frame = make_panel(columns=[ind.column for ind in system.used])
    result = build_index(frame, system)
    unused = result.weights[result.weights["weight"].isna()]
    assert set(unused["indicator"]) == {ind.name for ind in system.unavailable}
    assert unused["note"].str.startswith("unavailable").all()
    assert unused.set_index("indicator").loc["retail_sales", "note"] == "unavailable in the data"
    assert any("5 of 17 indicators are unavailable" in n and "0.7376" in n for n in result.notes)
    assert any(n.startswith("proxy:") for n in result.notes)


def test_negative_values_are_fine(panel, system_path):
    shifted = panel.assign(a=panel["a"] - 100.0, b=-panel["b"])
    result = build_index(shifted, system_path)
    assert result.index.notna().all()


def test_zero_range_error_and_opt_in_drop(panel, system_path):
    constant = panel.assign(c=3.0)
    with pytest.raises(PilotdidInputError, match="indicator 'c' has zero range"):
        build_index(constant, system_path)
    result = build_index(constant, system_path, drop_constant=True)
    assert result.weights.set_index("indicator").loc["c", "status"] == "dropped"
    assert np.isnan(result.weights.set_index("indicator").loc["c", "weight"])
    assert any(n.startswith("WARNING: dropped for zero range") for n in result.notes)
    assert result.weights["weight"].sum() == pytest.approx(1.0)


def test_zero_range_within_one_year_only_matters_by_year(panel, system_path):
    frame = panel.copy()
    frame.loc[frame["year"] == 2015, "a"] = 1.0
    build_index(frame, system_path)  # fine pooled
    with pytest.raises(PilotdidInputError, match="zero range in year 2015"):
        build_index(frame, system_path, pooling="by_year")


def test_missing_cells_name_city_and_year(panel, system_path):
    frame = panel.copy()
    frame.loc[[3, 10], "b"] = np.nan
    with pytest.raises(PilotdidInputError) as info:
        build_index(frame, system_path)
    message = str(info.value)
    assert "indicator 'b'" in message and "2 missing cells" in message
    assert f"({frame.loc[3, 'city']}, {frame.loc[3, 'year']})" in message


@pytest.mark.parametrize(
    "change, kwargs, expected",
    [
        (lambda f: f.drop(columns="c"), {}, "needs panel column 'c'"),
        (lambda f: f.assign(a=f["a"].astype(str).where(f.index != 4, "n/a")), {}, "non-numeric cell 'n/a'"),
        (lambda f: f.assign(a=f["a"].where(f.index != 5, np.inf)), {}, "infinite"),
        (lambda f: pd.concat([f, f.iloc[[0]]], ignore_index=True), {}, "share a (city, year) key"),
        (lambda f: pd.concat([f, f.iloc[[0]].assign(year=1999)]), {}, "duplicate labels"),
        (lambda f: f.rename(columns={"city": "town"}), {}, "unit column 'city'"),
        (lambda f: f, {"method": "magic"}, "unknown index method"),
        (lambda f: f, {"pooling": "weekly"}, "unknown pooling"),
        (lambda f: f, {"shift": -1.0}, "shift"),
        (lambda f: f, {"method": "pca", "pooling": "by_year"}, "pooled city-years only"),
    ],
)
def test_bad_input_is_one_clear_error(panel, system_path, change, kwargs, expected):
    with pytest.raises(PilotdidInputError) as info:
        build_index(change(panel), system_path, **kwargs)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_unit_time_override(panel, system_path):
    renamed = panel.rename(columns={"city": "code", "year": "t"})
    a = build_index(renamed, system_path, unit="code", time="t", pooling="by_year")
    b = build_index(panel, system_path, pooling="by_year")
    np.testing.assert_allclose(a.index.to_numpy(), b.index.to_numpy())


def test_compare_indices(panel, system_path):
    table = compare_indices(panel, system_path, methods=["entropy", "critic", "equal"])
    assert len(table) == 3
    assert set(table.columns) >= {"method_a", "method_b", "pearson", "spearman", "kendall", "spearman_within_time_mean"}
    assert table[["pearson", "spearman", "kendall"]].abs().le(1).all().all()
    same = compare_indices(panel, system_path, methods=["entropy", "entropy"])
    assert same.loc[0, ["pearson", "spearman", "kendall"]].tolist() == pytest.approx([1.0, 1.0, 1.0])


def test_frame_has_keys(panel, system_path):
    result = build_index(panel, system_path)
    frame = result.frame(panel)
    assert list(frame.columns) == ["city", "year", "index", "first", "second"]


def test_fill_mask_counts_filled_cells(panel, system_path):
    mask = panel[["city", "year"]].assign(a=False, b=False, c=False, other=True)
    mask.loc[[1, 2], "a"] = True
    mask.loc[7, "c"] = True
    result = build_index(panel, system_path, fill_mask=mask)
    assert any("3 cells of the indicators used were filled upstream" in n and "a 2" in n and "c 1" in n for n in result.notes)
    aligned = mask.drop(columns=["city", "year"])  # the index-aligned form
    again = build_index(panel, system_path, fill_mask=aligned)
    assert [n for n in again.notes if n.startswith("fill mask")] == [n for n in result.notes if n.startswith("fill mask")]


def test_missing_drop_rows_counts_and_leaves_nan(panel, system_path):
    frame = panel.copy()
    frame.loc[[3, 10], "b"] = np.nan
    frame.loc[10, "c"] = np.nan
    result = build_index(frame, system_path, missing="drop_rows")
    assert result.index.index.equals(frame.index)
    assert result.index.isna().sum() == 2 and np.isnan(result.index.loc[3])
    complete = frame.dropna()
    np.testing.assert_allclose(result.index.dropna().to_numpy(), build_index(complete, system_path).index.to_numpy())
    note = next(n for n in result.notes if "get no index value" in n)
    assert "2 of 72" in note and "b 2" in note and "c 1" in note
    table = compare_indices(frame, system_path, methods=["entropy", "equal"], missing="drop_rows")
    assert table.loc[0, "n"] == 70


def test_missing_drop_indicators(panel, system_path):
    frame = panel.copy()
    frame.loc[[3, 10], "b"] = np.nan
    result = build_index(frame, system_path, missing="drop_indicators")
    row = result.weights.set_index("indicator").loc["b"]
    assert row["status"] == "dropped" and row["note"] == "dropped: 2 missing cells" and np.isnan(row["weight"])
    assert result.weights["weight"].sum() == pytest.approx(1.0)
    assert any("dropped for missing cells" in n for n in result.notes)
    with pytest.raises(PilotdidInputError, match="unknown missing-value rule"):
        build_index(frame, system_path, missing="ignore")


def test_indicator_coverage(make_panel):
    frame = make_panel(columns=["gdp_per_capita", "tertiary_share"])
    frame.loc[frame["year"] == 2015, "tertiary_share"] = np.nan
    from pilotdid.measures import indicator_coverage

    coverage = indicator_coverage(frame, "cbec_resilience")
    assert coverage.shape == (17, 6)
    assert coverage.loc["gdp_per_capita"].tolist() == [12] * 6
    assert coverage.loc["tertiary_share", 2015] == 0 and coverage.loc["tertiary_share", 2016] == 12
    assert coverage.loc["patents_granted"].sum() == 0


def test_exclude_marks_indicators_unavailable_with_reason(make_panel):
    system = load_indicator_system("cbec_resilience").exclude(["unemployment_rate"], reason="coverage ends in 2016")
    frame = make_panel(columns=[ind.column for ind in system.used])
    result = build_index(frame, system)
    row = result.weights.set_index("indicator").loc["unemployment_rate"]
    assert np.isnan(row["weight"]) and row["note"] == "excluded: coverage ends in 2016"
    assert row["status"] == "excluded"
    assert any("1 of 17 indicators are excluded on purpose" in n and "coverage ends in 2016" in n for n in result.notes)
    assert load_indicator_system("cbec_resilience").get("unemployment_rate").used  # the original is untouched
    with pytest.raises(PilotdidInputError, match="unknown indicator 'nope'"):
        system.exclude(["nope"], reason="x")
