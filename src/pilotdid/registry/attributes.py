"""City attributes for subgroup analyses, one row per city id, each saying what it rests on.

Columns of :func:`city_attributes`:

``city_id, city_name, province``
    from the shared city table (:mod:`pilotdid.data.cities`).
``region`` (east / central / west / northeast), ``region_cn``, ``region_basis``
    the National Bureau of Statistics four-region split by province (国家统计局《东西中部和东北地区划分方法》,
    2011-06-13; ``lists/nbs_regions.csv``).
``resource_based``, ``resource_category`` (growing / mature / declining / regenerating), ``resource_category_cn``, ``resource_basis``
    the 126 prefecture-level units of the national resource-based-city plan (国发〔2013〕45号), with the
    verification status of each row (109+ rest on one transcription of the plan's table).
``central_city``, ``is_municipality``, ``is_provincial_capital``, ``is_sub_provincial``, ``is_jihua_danlie``, ``central_basis``
    the paper's central cities: municipalities, provincial capitals and sub-provincial cities (36 units).
``urban_pop_2010``, ``urban_pop_2020``
    census urban population (城镇人口, persons) of the WHOLE prefecture (its districts and its counties),
    from the 2010 and 2020 censuses (leiii/census, MIT).
``size_year``, ``size_class``, ``size_class_cn``, ``large_city``, ``size_basis``
    the 2014 city-size standard (国发〔2014〕51号; lower bounds inclusive) applied to ``urban_pop_<size_year>``.

The size split is a PROXY. The 2014 standard and the paper's split ("urban-district population above
1 million") are defined on 城区常住人口, the resident population of the urban districts only; the census
file gives the urban population of the whole prefecture, which also counts the towns of its counties
and county-level cities. The proxy is therefore larger than the defined concept, so more cities are
"large" by it than by the paper's definition. ``size_year`` defaults to 2010, the census before the
study window (a pre-treatment characteristic).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.registry._cities import city_table, get_resolver
from pilotdid.registry._files import read_list_csv

SIZE_YEARS = (2010, 2020)
LARGE_CITY_THRESHOLD = 1_000_000  # persons; the 2014 standard's lower bound of 大城市 (inclusive)
URBAN_POP_CONCEPT = (
    "census 城镇人口 (urban population) of the whole prefecture, a proxy for 城区常住人口 "
    "(urban-district resident population) used by the 2014 standard and the paper"
)


def _census() -> pd.DataFrame:
    """city_id + census columns (the data layer's shipped census table)."""
    from pilotdid.data import load_census

    return load_census()


def _resolve_list(names: pd.Series, list_name: str) -> tuple[pd.Series, list[str]]:
    """city id per list row (None when unresolved) and the unresolved names."""
    resolver = get_resolver()
    ids, missing = [], []
    for name in names:
        match = resolver.resolve(name)
        if match is None or match.method == "fuzzy":
            ids.append(None)
            missing.append(f"{name} ({list_name})")
        else:
            ids.append(match.city_id)
    return pd.Series(ids, index=names.index, dtype=object), missing


def size_classes(population: pd.Series) -> pd.DataFrame:
    """2014 size class of each population (persons): ``size_class`` (English + type), ``size_class_cn``.

    Bounds from ``lists/city_size_thresholds_2014.csv`` (10k persons; lower inclusive, upper exclusive).
    Missing population gives missing classes.
    """
    thresholds = read_list_csv("city_size_thresholds_2014.csv")
    pop_10k = pd.to_numeric(population, errors="coerce").to_numpy(dtype=float) / 1e4
    conditions, labels_en, labels_cn = [], [], []
    for row in thresholds.itertuples():
        lower = float(row.lower_bound_10k_persons_inclusive) if isinstance(row.lower_bound_10k_persons_inclusive, str) else -np.inf
        upper = float(row.upper_bound_10k_persons_exclusive) if isinstance(row.upper_bound_10k_persons_exclusive, str) else np.inf
        conditions.append((pop_10k >= lower) & (pop_10k < upper))
        subtype = row.subtype if isinstance(row.subtype, str) else ""
        type_en = subtype.split("(")[-1].rstrip(")").strip() if subtype else ""
        labels_en.append(f"{row.category_en} ({type_en})" if type_en else row.category_en)
        labels_cn.append(subtype.split(" ")[0] if subtype else row.category_cn)
    en = np.select(conditions, labels_en, default="")
    cn = np.select(conditions, labels_cn, default="")
    missing = np.isnan(pop_10k)
    out = pd.DataFrame({"size_class": en, "size_class_cn": cn}, index=population.index)
    out.loc[missing, ["size_class", "size_class_cn"]] = None
    return out


def city_attributes(
    size_year: int = 2010, population: pd.Series | None = None, population_concept: str | None = None
) -> pd.DataFrame:
    """One row per city id: province, region, resource-based, central city, urban population, size class.

    Each attribute has a ``*_basis`` column naming the document and verification status it rests on;
    ``attrs["notes"]`` lists list entries that resolve to no city id and cities without census data.
    See the module docstring for the size proxy (census urban population of the whole prefecture,
    not urban-district population).

    ``population`` (persons, indexed by city_id) replaces the census proxy for the size classes, e.g.
    the yearbook's 市辖区年末总人口 (registered population of the urban districts), which is closer to
    the paper's concept; ``population_concept`` must then say what it is (it goes into ``size_basis``).
    """
    if size_year not in SIZE_YEARS:
        raise PilotdidInputError(
            f"size_year must be one of {SIZE_YEARS}, got {size_year!r}", where="size_year",
            fix="the census file has urban population for 2010 and 2020",
        )
    cities = city_table()[["city_id", "city_name", "province", "valid_from", "valid_to"]].copy()
    notes: list[str] = []

    regions = read_list_csv("nbs_regions.csv").set_index("province")
    out = cities.copy()
    out["region"] = out["province"].map(regions["region"])
    out["region_cn"] = out["province"].map(regions["region_cn"])
    out["region_basis"] = np.where(
        out["region"].notna(),
        "国家统计局 four-region split (2011-06-13), by province; verified_2plus",
        "province not in the NBS split",
    )
    if out["region"].isna().any():
        notes.append(f"{int(out['region'].isna().sum())} cities have a province outside the NBS split.")

    # resource-based cities (国发〔2013〕45号)
    resource = read_list_csv("resource_based_cities_prefecture.csv")
    resource["city_id"], missing = _resolve_list(resource["city_name"], "resource-based list")
    notes.extend(f"resource-based list entry {m} resolves to no city id" for m in missing)
    resource = resource.dropna(subset=["city_id"]).drop_duplicates("city_id").set_index("city_id")
    out["resource_based"] = out["city_id"].isin(resource.index)
    out["resource_category"] = out["city_id"].map(resource["category_en"])
    out["resource_category_cn"] = out["city_id"].map(resource["category_cn"])
    out["resource_basis"] = np.where(
        out["resource_based"],
        "国发〔2013〕45号 resource-based list; " + out["city_id"].map(resource["verification_status"]).fillna(""),
        "not in the 国发〔2013〕45号 prefecture-level list",
    )

    # central cities
    central = read_list_csv("central_cities.csv")
    central["city_id"], missing = _resolve_list(central["city_name"], "central-city list")
    notes.extend(f"central-city list entry {m} resolves to no city id" for m in missing)
    central = central.dropna(subset=["city_id"]).set_index("city_id")
    flags = ["is_municipality", "is_provincial_capital", "is_sub_provincial", "is_jihua_danlie"]
    for flag in flags:
        out[flag] = out["city_id"].map(central[flag].astype(int).astype(bool)).fillna(False).astype(bool)
    out["central_city"] = out[["is_municipality", "is_provincial_capital", "is_sub_provincial"]].any(axis=1)
    out["central_basis"] = np.where(
        out["central_city"],
        "central_cities.csv (municipality / provincial capital / sub-provincial); "
        + out["city_id"].map(central["verification_status"]).fillna(""),
        "not a municipality, provincial capital or sub-provincial city",
    )

    # census urban population and the 2014 size classes
    census = _census()
    needed = {"city_id", "popu_urban_2010", "popu_urban_2020"}
    if not needed <= set(census.columns):
        raise PilotdidInputError(
            f"the census table lacks {sorted(needed - set(census.columns))}", where="pilotdid.data.load_census()",
            fix="rebuild the shipped data (`pilotdid data build`)",
        )
    census = census.dropna(subset=["city_id"]).drop_duplicates("city_id").set_index("city_id")
    for year in SIZE_YEARS:
        out[f"urban_pop_{year}"] = out["city_id"].map(pd.to_numeric(census[f"popu_urban_{year}"], errors="coerce"))
    if population is not None:
        if not population_concept:
            raise PilotdidInputError(
                "a custom population needs population_concept", where="city_attributes",
                fix="say what the numbers are, e.g. population_concept='2014 yearbook 市辖区年末总人口 (persons)'",
            )
        population = out["city_id"].map(pd.to_numeric(population, errors="coerce"))
        concept = population_concept
    else:
        population = out[f"urban_pop_{size_year}"]
        concept = f"{size_year} {URBAN_POP_CONCEPT}"
    classes = size_classes(population)
    out["size_year"] = size_year if population_concept is None else None
    out["size_class"] = classes["size_class"]
    out["size_class_cn"] = classes["size_class_cn"]
    out["large_city"] = (population >= LARGE_CITY_THRESHOLD).astype("boolean").mask(population.isna())
    out["size_basis"] = np.where(
        population.notna(),
        f"国发〔2014〕51号 thresholds on {concept}",
        f"no population for this id ({concept})",
    )
    no_population = out.loc[population.isna(), "city_name"].tolist()
    if no_population:
        notes.append(
            f"{len(no_population)} city ids have no population for the size classes ({concept}): "
            + "、".join(no_population) + "."
        )
    if population_concept is None:
        notes.append(
            f"Size classes use the {concept}; it counts the towns of the prefecture's counties too, so it is larger "
            "than the defined concept and classes more cities as large than the paper's split "
            "(urban-district population > 1 million)."
        )
    else:
        notes.append(f"Size classes use a population given by the caller: {concept}.")
    out = out.sort_values("city_id", ignore_index=True)
    out.attrs["notes"] = notes
    return out
