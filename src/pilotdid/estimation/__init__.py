"""Estimators. ``pilotdid.estimation.twfe``: two-way fixed-effects OLS with named SE presets.

The names below load on first use, so importing a light submodule (e.g. the SE presets, to validate a
study file) does not import pyfixest.
"""

from typing import Any

__all__ = ["DEFAULT_VCOV", "VCOV_PRESETS", "TwfeResult", "fit_twfe", "get_preset", "vcov_presets_table"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from pilotdid.estimation import twfe

        return getattr(twfe, name)
    raise AttributeError(f"module 'pilotdid.estimation' has no attribute {name!r}")
