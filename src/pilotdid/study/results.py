"""Moved: the results.json schema lives in :mod:`pilotdid.results.schema` (below every estimator).

Kept as a re-export so existing imports keep working; new code imports from ``pilotdid.results``.
"""

from pilotdid.results.schema import *  # noqa: F403
from pilotdid.results.schema import __all__  # noqa: F401
