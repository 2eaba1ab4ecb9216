"""The registry's only door to the city ids: :mod:`pilotdid.data.cities` (owned by the data layer).

Kept in one place so that the registry never grows its own name matching.
"""

from __future__ import annotations

import re

import pandas as pd

CITY_ID_PATTERN = re.compile(r"^CNUR-\d{6}$")


def get_resolver():
    """The shared :class:`pilotdid.data.cities.CityResolver`."""
    from pilotdid.data.cities import get_resolver as _get

    return _get()


def city_table() -> pd.DataFrame:
    """The shared city table (city_id, city_name, city_name_en, province, city_code, validity)."""
    from pilotdid.data.cities import load_city_table

    return load_city_table()


def looks_like_city_ids(values: pd.Series) -> bool:
    """True when every non-missing value is a ``CNUR-000000`` id."""
    text = values.dropna().astype(str)
    return len(text) > 0 and bool(text.map(lambda v: bool(CITY_ID_PATTERN.match(v))).all())
