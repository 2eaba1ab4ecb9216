"""Real city data: harmonised city ids, raw-file readers, and the shipped city-year panel.

Public entry points: :func:`load_city_table`, :class:`CityResolver` / :func:`get_resolver`,
:func:`load_city_panel`, :func:`load_fill_mask`, :func:`load_provenance`, :func:`load_coverage`,
:func:`load_census`, and ``pilotdid.data.build.build_panel`` to rebuild everything from ``data/raw``.
"""

from __future__ import annotations

from pilotdid.data.cities import CityMatch, CityResolver, get_resolver, load_city_table

__all__ = [
    "CityMatch", "CityResolver", "get_resolver", "load_city_table",
    "load_city_panel", "load_fill_mask", "load_provenance", "load_coverage", "load_census", "load_unmatched",
]


def __getattr__(name: str):
    # The panel loaders live in shipped.py; imported lazily so that resolving names stays cheap.
    if name in {"load_city_panel", "load_fill_mask", "load_provenance", "load_coverage", "load_census",
                "load_unmatched"}:
        from pilotdid.data import shipped_tables

        return getattr(shipped_tables, name)
    raise AttributeError(name)
