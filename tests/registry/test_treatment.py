"""Assigning registry treatment to a panel. Panels here are SYNTHETIC (all city ids x years, no outcomes)."""

from __future__ import annotations

import pandas as pd
import pytest

from pilotdid.data.cities import load_city_table
from pilotdid.errors import PilotdidInputError
from pilotdid.registry import assign_treatment, load_policy_csv, policy_dummy


@pytest.fixture(scope="module")
def cities():
    table = load_city_table()
    return table.loc[table["valid_to"] >= 2021].reset_index(drop=True)


def synthetic_panel(cities, first=2012, last=2021, unit="city_id"):
    """Synthetic balanced panel of every current city id (or name) over the years; no data columns."""
    values = cities[unit].tolist()
    return pd.DataFrame([(v, y) for v in values for y in range(first, last + 1)], columns=["unit", "year"])


def _id(cities, name):
    return cities.set_index("city_name").loc[name, "city_id"]


def test_cbec_batches_1_to_5_on_all_cities(cities):
    panel = synthetic_panel(cities)
    a = assign_treatment(panel, "unit", "year", "cbec", batches="1-5")
    assert (a.first_treat > 0).sum() == 105
    assert a.first_treat[a.first_treat > 0].value_counts().sort_index().to_dict() == {
        2015: 1, 2016: 12, 2018: 22, 2019: 24, 2020: 46
    }
    tb = a.treated_by_batch.set_index("batch")
    assert tb["n_registry"].tolist() == [1, 12, 22, 24, 46]
    assert tb["n_in_panel"].tolist() == [1, 12, 22, 24, 46]
    assert a.not_found.empty and a.dropped_units == []
    assert a.verification.set_index("status")["n_entries"].to_dict() == {
        "verified_2plus": 48, "verified_1+structural": 18, "verified_1": 39, "unverified": 0
    }
    assert any("County rule 'parent' (default)" in n for n in a.notes)
    assert any("义乌市 (batch 3, 2018) -> 金华市: parent treated" in n for n in a.notes)
    # batches 6-7 cities are coded 0 and reported: not never-treated for ever
    later = a.treated_after_window
    assert len(later) == 58 and not later["in_window"].any()
    assert any("not never treated for ever" in n for n in a.notes)
    jinhua = _id(cities, "金华市")
    assert a.first_treat[jinhua] == 2018 and jinhua in a.parent_only_units and a.first_batch[jinhua] == 3
    out = a.apply(panel)
    assert out.loc[(out["unit"] == jinhua) & (out["year"] == 2017), "did"].item() == 0
    assert out.loc[(out["unit"] == jinhua) & (out["year"] == 2018), "did"].item() == 1


def _full_width(text: str) -> str:
    """ASCII letters and digits as a full-width IME types them ('CNUR-000087' -> 'ＣＮＵＲ-０００００８７')."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


@pytest.mark.parametrize("column", ["city_id", "city_name_en"])
def test_full_width_ids_and_names_match_the_registry_kept_as_written_and_counted(cities, column):
    # before: a full-width city id looked like an id but was 'not a known city id' (every unit unmatched)
    panel = synthetic_panel(cities, unit=column)
    options = {"batches": "1-5", "allow_unmatched": True}  # a few English names are ambiguous (two Fuzhou)
    plain = assign_treatment(panel, "unit", "year", "cbec", **options)
    expected = plain.first_treat
    matched = [v for v in panel["unit"].unique() if v not in set(plain.unmatched["unit"])]
    written = {v: _full_width(v) for v in matched[:5]}  # five units typed with a full-width IME
    a = assign_treatment(panel.replace({"unit": written}), "unit", "year", "cbec", **options)
    assert set(written.values()) <= set(a.first_treat.index)  # the panel's ids, as written
    pd.testing.assert_series_equal(a.first_treat.rename(index={w: v for v, w in written.items()}).sort_index(),
                                   expected.sort_index())
    assert any(n.startswith("5 panel unit(s) written with full-width characters matched the registry") for n in a.notes)
    assert len(a.unmatched) == len(plain.unmatched) and not any("full-width" in n for n in plain.notes)


def test_names_and_ids_give_the_same_treatment(cities):
    by_id = assign_treatment(synthetic_panel(cities), "unit", "year", "cbec", batches="1-5").first_treat
    by_name = assign_treatment(synthetic_panel(cities, unit="city_name"), "unit", "year", "cbec", batches="1-5").first_treat
    mapped = by_name.rename(index=cities.set_index("city_name")["city_id"].to_dict())
    pd.testing.assert_series_equal(by_id.sort_index(), mapped.sort_index(), check_names=False, check_index_type=False)


def test_county_rules_on_yiwu_and_jinhua(cities):
    panel = synthetic_panel(cities)
    jinhua = _id(cities, "金华市")
    baoding = _id(cities, "保定市")
    drop = assign_treatment(panel, "unit", "year", "cbec", batches="1-5", county_rule="drop")
    assert set(drop.dropped_units) == {jinhua, baoding, _id(cities, "延边朝鲜族自治州"), _id(cities, "牡丹江市"),
                                       _id(cities, "呼伦贝尔市")}
    assert jinhua not in drop.first_treat.index
    assert (drop.first_treat > 0).sum() == 100
    assert jinhua not in drop.apply(panel)["unit"].tolist()
    ignore = assign_treatment(panel, "unit", "year", "cbec", batches="1-5", county_rule="ignore")
    assert ignore.first_treat[jinhua] == 0 and ignore.first_treat[baoding] == 0
    assert (ignore.first_treat > 0).sum() == 100
    assert (ignore.not_found["reason"].str.contains("ignored")).sum() == 5
    # 金华 is designated itself in batch 6 (2022): reported as treated later
    row = ignore.treated_after_window.set_index("unit").loc[jinhua]
    assert row["batch"] == 6 and row["treat_year"] == 2022
    with pytest.raises(PilotdidInputError, match="county rule"):
        assign_treatment(panel, "unit", "year", "cbec", county_rule="nope")


def test_year_end_rule_moves_batch_4(cities):
    panel = synthetic_panel(cities)
    a = assign_treatment(panel, "unit", "year", "cbec", batches="1-5", rule="next_year_if_after")
    assert a.first_treat[_id(cities, "石家庄市")] == 2020  # batch 4, signed 2019-12-15
    assert a.first_treat[_id(cities, "北京市")] == 2018  # batch 3, 2018-07-24: July is not after July
    assert any("next_year_if_after" in n for n in a.notes)
    lagged = assign_treatment(panel, "unit", "year", "cbec", batches="1-5", rule="lag", lag=1)
    assert lagged.first_treat[_id(cities, "杭州市")] == 2016


def test_window_edges_and_unselected_batches_inside_the_window(cities):
    short = synthetic_panel(cities, 2012, 2019)
    a = assign_treatment(short, "unit", "year", "cbec", batches="1-5")
    # batch 5 (2020) falls after the last panel year: coded 0 and listed
    assert (a.first_treat > 0).sum() == 59
    after = a.treated_after_window
    assert (after["batch"] == 5).sum() == 46
    assert after.loc[after["batch"] == 5, "reason"].str.contains("after the last panel year").all()
    late = synthetic_panel(cities, 2016, 2021)
    b = assign_treatment(late, "unit", "year", "cbec", batches="1-3")
    inside = b.treated_after_window.loc[b.treated_after_window["in_window"]]
    assert set(inside["batch"]) == {4, 5} and len(inside) == 70
    assert any("INSIDE the panel years" in n for n in b.notes)
    # treated in or before the first panel year: always treated in the window
    assert b.treated_by_batch.set_index("batch").loc[1, "n_always_treated"] == 1
    assert any("always treated" in n for n in b.notes)


def test_unverified_entries_are_refused_by_default(cities):
    panel = synthetic_panel(cities, 2012, 2023)
    with pytest.raises(PilotdidInputError, match="unverified"):
        assign_treatment(panel, "unit", "year", "cbec", batches=[7])
    a = assign_treatment(panel, "unit", "year", "cbec", batches=[7], allow_unverified=True)
    assert a.verification.set_index("status").loc["unverified", "n_entries"] == 6
    assert any("allow_unverified = true" in n for n in a.notes)
    # unverified entries of unselected batches do not block
    assign_treatment(panel, "unit", "year", "cbec", batches="1-6")


def test_unmatched_registry_entry_is_an_error_unless_allowed(cities, tmp_path):
    path = tmp_path / "synthetic_policy.csv"
    path.write_text(
        "batch,city_name,approval_year,verification_status,sources\n"
        "1,杭州市,2015,verified_1,synthetic source\n"
        "1,不存在市,2015,verified_1,synthetic source\n",
        encoding="utf-8",
    )
    panel = synthetic_panel(cities)
    policy = load_policy_csv(path)
    with pytest.raises(PilotdidInputError, match="resolve to no city id") as err:
        assign_treatment(panel, "unit", "year", policy)
    assert "synthetic_policy.csv, line 3" in str(err.value)
    a = assign_treatment(panel, "unit", "year", policy, allow_unmatched=True)
    assert (a.first_treat > 0).sum() == 1
    assert a.not_found["reason"].str.startswith("name unmatched").sum() == 1


def test_panel_units_that_do_not_resolve(cities):
    panel = synthetic_panel(cities.head(5), unit="city_name")
    extra = pd.DataFrame({"unit": ["城市合计"] * 3, "year": [2012, 2013, 2014]})
    panel = pd.concat([panel, extra], ignore_index=True)
    with pytest.raises(PilotdidInputError, match="panel unit"):
        assign_treatment(panel, "unit", "year", "cbec", batches="1-5")
    a = assign_treatment(panel, "unit", "year", "cbec", batches="1-5", allow_unmatched=True)
    assert a.first_treat["城市合计"] == 0
    assert a.unmatched["unit"].tolist() == ["城市合计"]
    # entries whose city is absent from this small panel are listed, not errors
    assert len(a.not_found) == 105 - int((a.first_treat > 0).sum())


def test_duplicate_units_and_bad_years(cities):
    beijing = pd.DataFrame({"unit": ["北京市", "北京", "天津市"], "year": [2015, 2015, 2015]})
    with pytest.raises(PilotdidInputError, match="same city"):
        assign_treatment(beijing, "unit", "year", "cbec", batches="1-5")
    bad_year = pd.DataFrame({"unit": ["北京市"], "year": ["2015a"]})
    with pytest.raises(PilotdidInputError, match="whole years"):
        assign_treatment(bad_year, "unit", "year", "cbec", batches="1-5")


def test_other_policies_resolve_and_assign(cities):
    panel = synthetic_panel(cities, 2008, 2021)
    hsr = assign_treatment(panel, "unit", "year", "hsr")
    assert (hsr.first_treat > 0).sum() == 127 and hsr.not_found.empty
    expanded = assign_treatment(panel, "unit", "year", "lowcarbon:province_expanded")
    assert (expanded.first_treat > 0).sum() == 134
    official = assign_treatment(panel, "unit", "year", "lowcarbon", allow_unverified=True)
    reasons = official.not_found["reason"]
    assert reasons.str.contains("province pilot").sum() == 6
    assert reasons.str.contains("no prefecture-level parent").sum() == 3


def test_policy_dummy_for_broadband_carries_the_caveat(cities):
    panel = synthetic_panel(cities)
    dummy = policy_dummy(panel, "unit", "year", "broadband")
    assert len(dummy) == len(panel) and set(dummy.unique()) <= {0.0, 1.0}
    hangzhou = _id(cities, "杭州市")
    assert dummy[(panel["unit"] == hangzhou) & (panel["year"] == 2015)].item() == 0
    assert dummy[(panel["unit"] == hangzhou) & (panel["year"] == 2016)].item() == 1
    assert any("2015 batch is INCOMPLETE" in n for n in dummy.attrs["notes"])
    chongqing = _id(cities, "重庆市")  # via its districts 九龙坡区 and 北碚区 (county rule parent)
    assert dummy[(panel["unit"] == chongqing) & (panel["year"] == 2016)].item() == 1
    with pytest.raises(PilotdidInputError, match="drop"):
        policy_dummy(panel, "unit", "year", "broadband", county_rule="drop")


def test_mixed_ids_and_names(cities):
    panel = pd.DataFrame({"unit": [_id(cities, "杭州市"), "宁波", "温州市"] * 2, "year": [2015] * 3 + [2016] * 3})
    a = assign_treatment(panel, "unit", "year", "cbec", batches="1-2")
    assert a.first_treat.to_dict() == {_id(cities, "杭州市"): 2015, "宁波": 2016, "温州市": 0}


def test_the_study_runner_contract(cities):
    """pilotdid.study.treatment turns [treatment] registry = ... into the runner's columns via assign_treatment."""
    from pilotdid.study.context import FIRST_TREAT, TREAT
    from pilotdid.study.treatment import setup_treatment

    panel = synthetic_panel(cities)
    setup = setup_treatment(panel, {"registry": "cbec", "batches": [1, 2, 3, 4, 5], "county_rule": "drop"},
                            "unit", "year", "synthetic.toml")
    assert setup.panel["unit"].nunique() == len(cities) - 5
    assert setup.panel.groupby("unit")[FIRST_TREAT].first().gt(0).sum() == 100
    assert set(setup.tables) == {"treated_by_batch", "not_found", "treated_after_window", "verification"}
    assert setup.panel[TREAT].isin([0.0, 1.0]).all()
