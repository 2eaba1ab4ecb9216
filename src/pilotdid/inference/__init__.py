"""Inference beyond the regression's own standard errors.

* :mod:`pilotdid.inference.placebo` — staggered placebo (permutation) tests, vectorised by
  Frisch–Waugh–Lovell, and the in-time placebo.

Other modules of this package are imported on their own (``pilotdid.inference.<module>``).
"""

from pilotdid.inference.placebo import (
    PLACEBO_KINDS,
    PlaceboDesign,
    PlaceboResult,
    in_time_placebo,
    staggered_placebo,
)

__all__ = ["PLACEBO_KINDS", "PlaceboDesign", "PlaceboResult", "in_time_placebo", "staggered_placebo"]
