"""pilotdid: staggered difference-in-differences for city-level pilot policies.

Data flows one way: raw files -> panel (``pilotdid.data``) -> measures (``pilotdid.measures``)
-> design (``pilotdid.registry``, ``pilotdid.design``) -> estimates (``pilotdid.estimation``,
``pilotdid.inference``) -> report (``pilotdid.report``). Only ``pilotdid.cli`` and
``pilotdid.report`` print or write files.
"""

from pilotdid.errors import PilotdidInputError

__version__ = "0.1.0"
__all__ = ["PilotdidInputError", "__version__"]
