"""Estimators. ``pilotdid.estimation.twfe``: two-way fixed-effects OLS with named SE presets."""

from pilotdid.estimation.twfe import VCOV_PRESETS, TwfeResult, fit_twfe, get_preset, vcov_presets_table

__all__ = ["VCOV_PRESETS", "TwfeResult", "fit_twfe", "get_preset", "vcov_presets_table"]
