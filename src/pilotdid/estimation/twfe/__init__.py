"""Two-way fixed-effects DID through pyfixest, with standard-error presets named for Stata commands.

Rooms (linearmodels-style): :mod:`.data` validates input, :mod:`.model` estimates,
:mod:`.covariance` holds one class per SE preset, :mod:`.results` the result objects.
"""

from pilotdid.estimation.twfe.covariance import VCOV_PRESETS, FixedEffectDesign, VcovPreset, get_preset
from pilotdid.estimation.twfe.model import fit_twfe, vcov_presets_table
from pilotdid.estimation.twfe.results import CONSTANT_TERM, R2_DEFINITIONS, TwfeResult

__all__ = [
    "CONSTANT_TERM", "R2_DEFINITIONS", "VCOV_PRESETS", "FixedEffectDesign", "TwfeResult", "VcovPreset",
    "fit_twfe", "get_preset", "vcov_presets_table",
]
