"""Two-way fixed-effects DID through pyfixest, with standard-error presets named for Stata commands.

Rooms (linearmodels-style): :mod:`.data` validates input, :mod:`.model` estimates,
:mod:`.covariance` holds one class per SE preset, :mod:`.results` the result objects. The estimating
functions load pyfixest on first use only, so the presets and result types are cheap to import.
"""

from typing import Any

from pilotdid.estimation.twfe.covariance import DEFAULT_VCOV, VCOV_PRESETS, FixedEffectDesign, VcovPreset, get_preset
from pilotdid.estimation.twfe.results import CONSTANT_TERM, R2_DEFINITIONS, TwfeFit, TwfeResult

__all__ = [
    "CONSTANT_TERM", "DEFAULT_VCOV", "R2_DEFINITIONS", "VCOV_PRESETS", "FixedEffectDesign", "TwfeFit", "TwfeResult", "VcovPreset",
    "fit_twfe", "get_preset", "vcov_presets_table",
]


def __getattr__(name: str) -> Any:
    if name in ("fit_twfe", "vcov_presets_table"):
        from pilotdid.estimation.twfe import model

        return getattr(model, name)
    raise AttributeError(f"module 'pilotdid.estimation.twfe' has no attribute {name!r}")
