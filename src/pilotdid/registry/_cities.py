"""The registry's only door to the city ids: :mod:`pilotdid.data.cities` (owned by the data layer).

Kept in one place so that the registry never grows its own name matching.
"""

from __future__ import annotations

import re

import pandas as pd

CITY_ID_PATTERN = re.compile(r"^CNUR-\d{6}$", re.ASCII)  # ASCII digits: a full-width id goes through city_id_key


def get_resolver():
    """The shared :class:`pilotdid.data.cities.CityResolver`."""
    from pilotdid.data.cities import get_resolver as _get

    return _get()


def city_table() -> pd.DataFrame:
    """The shared city table (city_id, city_name, city_name_en, province, city_code, validity)."""
    from pilotdid.data.cities import load_city_table

    return load_city_table()


def city_id_key(value) -> str | None:
    """The ``CNUR-000000`` id a cell spells, full-width forms read as half-width (``ＣＮＵＲ-０００００１``), else None.

    For matching only: the panel keeps the id as written (two spellings in one panel are refused when it is read).
    """
    if not isinstance(value, str):
        return None
    from pilotdid.data.names import nfkc_key

    key = nfkc_key(value)
    return key if CITY_ID_PATTERN.match(key) else None


def looks_like_city_ids(values: pd.Series) -> bool:
    """True when every non-missing value is a ``CNUR-000000`` id (full-width forms included)."""
    text = values.dropna().astype(str)
    return len(text) > 0 and bool(text.map(lambda v: city_id_key(v) is not None).all())


def is_width_variant(value) -> bool:
    """True when a cell is written with full-width (or other NFKC-compatibility) characters, e.g. ``Ｈａｎｇｚｈｏｕ``."""
    from pilotdid.data.names import nfkc_key

    return isinstance(value, str) and nfkc_key(value) != value.strip()
