"""Moved: the staggered simulators live in :mod:`pilotdid.design.synthetic` (one home); re-exported here."""

from pilotdid.design.synthetic import simulate_staggered_panel

__all__ = ["simulate_staggered_panel"]
