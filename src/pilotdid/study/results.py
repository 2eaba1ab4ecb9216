"""Moved: the results.json schema lives in :mod:`pilotdid.results.schema` (below every estimator).

Kept as a re-export so existing imports keep working; new code imports from ``pilotdid.results``.
"""

from pilotdid.results.schema import (  # noqa: F401
    AGGREGATE_KEYS,
    ESTIMATE_KEYS,
    EVENT_STUDY_KEYS,
    PLACEBO_KEYS,
    clean_json,
    clean_value,
    normalise_row,
)
