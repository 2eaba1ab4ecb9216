"""The bottom of the house: the result protocol every estimator's result follows, and the results.json schema.

Nothing here imports another pilotdid module, so every layer (measures, design, estimation, inference,
study, report) can build on it.
"""

from pilotdid.results.protocol import TIDY_COLUMNS, Result, tidy_frame
from pilotdid.results.schema import (
    AGGREGATE_KEYS,
    ESTIMATE_KEYS,
    EVENT_STUDY_KEYS,
    PLACEBO_KEYS,
    clean_json,
    clean_value,
    normalise_row,
)

__all__ = [
    "AGGREGATE_KEYS", "ESTIMATE_KEYS", "EVENT_STUDY_KEYS", "PLACEBO_KEYS", "TIDY_COLUMNS", "Result",
    "clean_json", "clean_value", "normalise_row", "tidy_frame",
]
