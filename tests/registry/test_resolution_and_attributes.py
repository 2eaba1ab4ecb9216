"""Every registry name maps to a city id (or is a documented non-prefecture entry); city attributes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilotdid.data.cities import get_resolver, load_city_table
from pilotdid.errors import PilotdidInputError
from pilotdid.registry import load_policy
from pilotdid.registry.attributes import LARGE_CITY_THRESHOLD, city_attributes, size_classes
from pilotdid.registry.policies import policy_names

# Entries that no prefecture panel can contain, as documented in lists/SOURCES.md and the list notes.
DOCUMENTED_NON_PREFECTURE = {
    "broadband": {"阿拉尔市"},
    "lowcarbon:official": {"广东省", "辽宁省", "湖北省", "陕西省", "云南省", "海南省", "济源市", "琼中黎族苗族自治县", "第一师阿拉尔市"},
}


@pytest.mark.parametrize("name", policy_names())
def test_every_entry_resolves_or_is_documented(name):
    resolver = get_resolver()
    names = load_city_table().set_index("city_id")["city_name"]
    entries = load_policy(name).entries
    non_prefecture = set(entries.loc[entries["unit_kind"].isin(["province", "no_prefecture"]), "entity_name"])
    assert non_prefecture == DOCUMENTED_NON_PREFECTURE.get(name, set())
    for row in entries.loc[~entries["unit_kind"].isin(["province", "no_prefecture"])].itertuples():
        targets = [t for t in row.prefectures.split(";") if t]
        assert targets, row.entity_name
        for target in targets:
            match = resolver.resolve(target)
            assert match is not None, f"{name}: {row.entity_name} -> {target}"
            assert match.method != "fuzzy", f"{name}: {target} matched only fuzzily"
            if "\u4e00" <= target[0] <= "\u9fff":  # a Chinese name resolves to the city of that name
                assert names[match.city_id].startswith(target[:2]), (target, names[match.city_id])


def test_hsr_pinyin_names_map_to_the_right_cities():
    resolver = get_resolver()
    names = load_city_table().set_index("city_id")["city_name"]
    e = load_policy("hsr").entries.set_index("entity_name")
    got = {k: names[resolver.resolve(e.loc[k, "prefectures"]).city_id] for k in
           ("Suzhou_Jiangsu", "Taizhou_Zhejiang", "Yichun_Jiangxi", "Fuzhou_Fujian", "Anqin", "Tianjing", "Xi'an")
           if k in e.index}
    assert got == {"Suzhou_Jiangsu": "苏州市", "Taizhou_Zhejiang": "台州市", "Yichun_Jiangxi": "宜春市",
                   "Fuzhou_Fujian": "福州市", "Tianjing": "天津市", "Xi'an": "西安市"}


@pytest.fixture(scope="module")
def attributes():
    return city_attributes()


def test_attributes_are_one_row_per_city_id(attributes):
    cities = load_city_table()
    assert attributes["city_id"].is_unique and set(attributes["city_id"]) == set(cities["city_id"])
    for column in ("region_basis", "resource_basis", "central_basis", "size_basis"):
        assert attributes[column].astype(str).str.len().gt(0).all(), column


def test_regions_follow_the_nbs_split(attributes):
    by_name = attributes.set_index("city_name")
    assert by_name.loc["北京市", "region"] == "east" and by_name.loc["太原市", "region"] == "central"
    assert by_name.loc["呼和浩特市", "region"] == "west" and by_name.loc["沈阳市", "region"] == "northeast"
    provinces = attributes.groupby("region")["province"].nunique().to_dict()
    assert provinces == {"east": 10, "central": 6, "west": 12, "northeast": 3}


def test_resource_based_cities(attributes):
    assert attributes["resource_based"].sum() == 126
    assert attributes["resource_category"].value_counts().to_dict() == {
        "mature": 66, "declining": 24, "growing": 20, "regenerating": 16
    }
    laiwu = attributes.set_index("city_name").loc["莱芜市"]
    assert laiwu["resource_based"] and laiwu["valid_to"] == 2018  # merged into 济南 in 2019


def test_central_cities(attributes):
    central = attributes.loc[attributes["central_city"]]
    assert len(central) == 36
    assert central[["is_municipality", "is_provincial_capital", "is_sub_provincial", "is_jihua_danlie"]].sum().tolist() == [4, 27, 15, 5]
    assert attributes.set_index("city_name").loc["宁波市", "is_jihua_danlie"]


def test_size_classes_at_the_2014_bounds():
    pops = pd.Series([10_000_000, 9_999_999, 5_000_000, 3_000_000, 1_000_000, 999_999, 500_000, 200_000, 199_999, np.nan])
    got = size_classes(pops)["size_class"].tolist()
    assert got[:-1] == [
        "super-large city", "megacity", "megacity", "large city (type I)", "large city (type II)",
        "medium-sized city", "medium-sized city", "small city (type I)", "small city (type II)",
    ]
    assert pd.isna(got[-1])


def test_large_city_flag_and_proxy_note(attributes):
    pop = attributes["urban_pop_2010"]
    has = pop.notna()
    assert (attributes.loc[has, "large_city"] == (pop[has] >= LARGE_CITY_THRESHOLD)).all()
    assert attributes.loc[~has, "large_city"].isna().all()
    assert any("proxy" in n for n in attributes.attrs["notes"])
    assert attributes["size_basis"].str.startswith("国发〔2014〕51号 thresholds on 2010 census 城镇人口").sum() == int(has.sum())
    later = city_attributes(size_year=2020)
    assert (later["size_year"] == 2020).all()
    with pytest.raises(PilotdidInputError, match="size_year"):
        city_attributes(size_year=2015)


def test_a_caller_population_replaces_the_census_proxy():
    ids = load_city_table()["city_id"]
    synthetic = pd.Series(np.where(np.arange(len(ids)) % 2 == 0, 1_500_000.0, 400_000.0), index=ids.to_numpy())
    attrs = city_attributes(population=synthetic, population_concept="synthetic district population (test)")
    assert attrs["large_city"].sum() == int((synthetic >= LARGE_CITY_THRESHOLD).sum())
    assert attrs["size_basis"].str.contains("synthetic district population").all()
    with pytest.raises(PilotdidInputError, match="population_concept"):
        city_attributes(population=synthetic)
