"""Loaders for the tables shipped inside the package (built by `pilotdid data build`)."""

from __future__ import annotations

import pandas as pd

from pilotdid.data.cities import _read_shipped

SHIPPED_FILES = {
    "panel": "city_panel.csv", "fill_mask": "fill_mask.csv", "provenance": "provenance.csv",
    "coverage": "coverage.csv", "unmatched": "unmatched.csv", "fuzzy_matches": "fuzzy_matches.csv",
    "corrections": "corrections.csv", "cities": "cities.csv", "city_aliases": "city_aliases.csv",
    "census": "census.csv",
}


def load_city_panel() -> pd.DataFrame:
    """The shipped city-year panel (2011-2021): ids, names, province, code, year, one column per variable."""
    return _read_shipped(SHIPPED_FILES["panel"], dtype={"city_code": "Int64"})


def load_fill_mask() -> pd.DataFrame:
    """city_id, year and one boolean column per variable: True where the value was interpolated."""
    return _read_shipped(SHIPPED_FILES["fill_mask"])


def load_provenance() -> pd.DataFrame:
    """variable, unit, source_file, source_column, transformation."""
    return _read_shipped(SHIPPED_FILES["provenance"])


def load_coverage() -> pd.DataFrame:
    """variable, year, cities, real, filled, missing."""
    return _read_shipped(SHIPPED_FILES["coverage"])


def load_unmatched() -> pd.DataFrame:
    """Source names that map to no city id in the panel years, with the reason."""
    return _read_shipped(SHIPPED_FILES["unmatched"])


def load_census() -> pd.DataFrame:
    """2010 and 2020 census by city_id (persons; shares in %), incl. the WKT boundary ``coord`` (leiii/census, MIT)."""
    return _read_shipped(SHIPPED_FILES["census"], dtype={"coord": str})
