"""The shipped policy lists: batch sizes, statuses on every row, variants, user CSV validation."""

from __future__ import annotations

import pandas as pd
import pytest

from pilotdid.errors import PilotdidInputError
from pilotdid.registry import (
    STATUS_FAMILIES,
    compare_lowcarbon_sample_list,
    list_policies,
    load_policy,
    load_policy_csv,
    parse_batches,
)
from pilotdid.registry._files import read_list_csv, sources_text
from pilotdid.registry.policies import parse_date_text, policy_names


def test_cbec_batch_sizes_match_the_official_counts():
    policy = load_policy("cbec")
    sizes = policy.entries.groupby("batch").size()
    assert sizes.to_dict() == {1: 1, 2: 12, 3: 22, 4: 24, 5: 46, 6: 27, 7: 33}
    # cumulative counts published by the Ministry of Commerce
    assert sizes.cumsum().tolist()[1:] == [13, 35, 59, 105, 132, 165]
    assert len(policy.select("1-5")) == 105
    table = policy.batch_table()
    assert table["complete"].all()
    assert table.set_index("batch").loc[4, "approval_date"] == "2019-12-15"


def test_cbec_dates_parse_to_year_and_month():
    e = load_policy("cbec").entries
    by_batch = e.groupby("batch")[["approval_year", "approval_month"]].first()
    assert by_batch.loc[4].tolist() == [2019, 12]
    assert by_batch.loc[5].tolist() == [2020, 4]  # "2020-04 (day unverified ...)"
    assert by_batch.loc[6].tolist() == [2022, 1]
    assert e.loc[e["batch"] == 5, "approval_day"].isna().all()


@pytest.mark.parametrize("name", policy_names())
def test_every_row_keeps_its_status_and_sources(name):
    entries = load_policy(name).entries
    assert entries["verification_status"].notna().all()
    assert entries["status_family"].isin(STATUS_FAMILIES).all()
    verified = entries["status_family"] != "unverified"
    assert entries.loc[verified, "sources"].notna().all()


def test_shipped_lists_are_the_shared_registry_files():
    cbec = read_list_csv("cbec_pilot_zones.csv")
    assert len(cbec) == 165 and {"verification_status", "sources"} <= set(cbec.columns)
    assert "verification_status" in sources_text()
    assert (cbec["verification_status"] == "unverified").sum() == 6


def test_cbec_county_level_zones_and_their_parents():
    e = load_policy("cbec").entries
    counties = e.loc[e["unit_kind"] == "county"].set_index("entity_name")["prefectures"].to_dict()
    assert counties == {
        "义乌市": "金华市", "珲春市": "延边朝鲜族自治州", "绥芬河市": "牡丹江市", "雄安新区": "保定市",
        "满洲里市": "呼伦贝尔市", "阿拉山口市": "博尔塔拉蒙古自治州", "延吉市": "延边朝鲜族自治州", "同江市": "佳木斯市",
    }


def test_broadband_2015_is_marked_incomplete():
    policy = load_policy("broadband")
    table = policy.batch_table().set_index("batch")
    assert table.loc[2015, "n_entries"] == 10 and not table.loc[2015, "complete"]
    assert table.loc[2014, "complete"] and table.loc[2016, "complete"]
    assert any("2015 batch is INCOMPLETE" in c for c in policy.caveats)
    kinds = policy.entries.set_index("entity_name")["unit_kind"]
    assert kinds["长株潭城市群"] == "cluster" and kinds["昆山市"] == "county" and kinds["阿拉尔市"] == "no_prefecture"


def test_lowcarbon_variants():
    official = load_policy("lowcarbon")
    assert official.name == "lowcarbon:official"
    assert official.entries.groupby("batch").size().to_dict() == {1: 13, 2: 29, 3: 45}
    assert (official.entries["unit_kind"] == "province").sum() == 6
    expanded = load_policy("lowcarbon", variant="province_expanded")
    assert len(expanded.entries) == 134
    assert expanded.entries.set_index("entity_name").loc["东莞市", "approval_year"] == 2010  # via 广东省
    sample = load_policy("lowcarbon:sample_list")
    assert len(sample.entries) == 92
    assert sample.entries.loc[sample.entries["batch"] == 2, "approval_year"].eq(2013).all()


def test_sample_list_differences_reproduce_sources_md():
    comparison = compare_lowcarbon_sample_list()
    counts = comparison["status"].value_counts()
    assert counts["agree"] == 66
    assert counts["batch2_coded_2013"] == 19
    assert counts["missing"] == 42
    assert counts.get("false_positive", 0) == 0  # "no false positives"
    assert counts["batch2_year_but_province_earlier"] + counts["named_year_but_province_earlier"] == 7
    # city by city against the shipped comparison table
    shipped = read_list_csv("lowcarbon_sample_list_comparison.csv")
    label = {
        "agree (year = earliest incl. provincial rule)": "agree",
        "MISSING from sample list file": "missing",
        "same batch (batch 2); sample list uses 2013 (first full year) vs notice year 2012": "batch2_coded_2013",
        "sample list uses batch-2 year 2013 (city named in batch 2), but its 2010 pilot province already covered it":
            "batch2_year_but_province_earlier",
        "year matches the city-named batch, but an earlier provincial pilot covers it": "named_year_but_province_earlier",
    }
    expected = shipped.assign(status=shipped["status"].map(label)).set_index("city_name")["status"]
    ours = comparison.set_index("city_name")["status"]
    assert expected.notna().all()
    assert ours.sort_index().to_dict() == expected.sort_index().to_dict()


def test_list_policies_has_every_policy():
    df = list_policies()
    assert set(df["name"]) == set(policy_names())
    row = df.set_index("name").loc["cbec"]
    assert row["n_entries"] == 165 and row["n_unverified"] == 6


@pytest.mark.parametrize(
    ("spec", "expected"),
    [(None, [1, 2, 3]), ("1-2", [1, 2]), ("1,3", [1, 3]), (2, [2]), ([1, "3"], [1, 3]), ("1-1", [1])],
)
def test_parse_batches(spec, expected):
    assert parse_batches(spec, [1, 2, 3]) == expected


@pytest.mark.parametrize("spec", ["4", "3-1", "a", "1-5", [True]])
def test_parse_batches_rejects(spec):
    with pytest.raises(PilotdidInputError):
        parse_batches(spec, [1, 2, 3])


def test_parse_date_text():
    assert parse_date_text("2019-12-15") == (2019, 12, 15)
    assert parse_date_text("2020-04 (day unverified; unconfirmed 2020-04-27)") == (2020, 4, None)
    assert parse_date_text("2012-11/12 (unconfirmed)") == (2012, 11, None)
    assert parse_date_text("2016") == (2016, None, None)
    assert parse_date_text("April 2020") == (None, None, None)


def test_unknown_policy_is_a_clear_error():
    with pytest.raises(PilotdidInputError, match="unknown policy"):
        load_policy("nope")
    with pytest.raises(PilotdidInputError):
        load_policy("lowcarbon", variant="nope")


# -- user CSVs -----------------------------------------------------------------------------------

GOOD = """batch,city_name,approval_year,approval_date,verification_status,sources,counts_as_prefecture_treatment,prefecture_crosswalk
1,杭州市,2015,2015-03-07,verified_2plus,doc A | doc B,yes,杭州市
2,义乌市,2018,2018-07-24,verified_1,doc C,no (county-level),金华市
2,宁波市,2018,2018-07,unverified,,yes,宁波市
"""


def _write(tmp_path, text, name="my_policy.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_user_csv_loads(tmp_path):
    policy = load_policy_csv(_write(tmp_path, GOOD))
    assert policy.name == "my_policy"
    e = policy.entries.set_index("entity_name")
    assert e.loc["义乌市", "unit_kind"] == "county" and e.loc["义乌市", "prefectures"] == "金华市"
    assert e.loc["宁波市", "approval_month"] == 7
    assert any("unverified" in c for c in policy.caveats)
    assert load_policy(str(_write(tmp_path, GOOD, "other.csv"))).name == "other"


@pytest.mark.parametrize(
    ("old", "new", "column", "line"),
    [
        ("2,义乌市,2018,", "x,义乌市,2018,", "batch", 3),
        ("1,杭州市,2015,", "1,杭州市,20x5,", "approval_year", 2),
        ("verified_1,doc C", "checked,doc C", "verification_status", 3),
        ("2018-07-24", "2017-07-24", "approval_date", 3),
        ("2018-07,", "July,", "approval_date", 4),
        ("verified_1,doc C,", "verified_1,,", "sources", 3),
        ("no (county-level)", "maybe", "counts_as_prefecture_treatment", 3),
        ("2,宁波市,", "2,,", "city_name", 4),
    ],
)
def test_user_csv_bad_cells_name_file_line_and_column(tmp_path, old, new, column, line):
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(PilotdidInputError) as err:
        load_policy_csv(path)
    message = str(err.value)
    assert "my_policy.csv" in message and f"line {line}" in message and f"column {column}" in message


def test_user_csv_missing_columns_and_duplicates(tmp_path):
    with pytest.raises(PilotdidInputError, match="lacks column"):
        load_policy_csv(_write(tmp_path, "batch,city_name\n1,杭州市\n"))
    dup = GOOD + "1,杭州市,2015,2015-03-07,verified_2plus,doc A,yes,杭州市\n"
    with pytest.raises(PilotdidInputError, match="listed twice"):
        load_policy_csv(_write(tmp_path, dup))
    with pytest.raises(PilotdidInputError, match="does not exist"):
        load_policy_csv(tmp_path / "absent.csv")


def test_returned_entries_are_copies():
    first = load_policy("cbec")
    first.entries.loc[0, "entity_name"] = "changed"
    assert load_policy("cbec").entries.loc[0, "entity_name"] == "杭州市"
    assert isinstance(first.entries, pd.DataFrame)
