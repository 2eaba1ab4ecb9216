"""Common result shape of the staggered estimators: an event study plus an overall ATT."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats


@dataclass
class EventStudyResult:
    """Event-time estimates (``rel_time, coef, se, ci_low, ci_high``) and the overall post-treatment ATT.

    ``vcov`` is the covariance of the event-time coefficients in ``table`` order, the reference row
    (fixed at zero) left out (when the estimator provides it; HonestDiD needs it). ``reference`` is the
    normalised event time (None if none).
    """

    estimator: str
    table: pd.DataFrame
    att: float
    se: float
    ci_low: float
    ci_high: float
    vcov: np.ndarray | None = None
    reference: int | None = -1
    se_method: str = ""
    notes: list[str] = field(default_factory=list)
    #: other named variances of the same estimates: name -> {"se": overall ATT SE, "table": rel_time, se}
    alternative_se: dict = field(default_factory=dict)

    def event_rows(self) -> list[dict]:
        """results.json ``event_study`` rows."""
        return [{"estimator": self.estimator, "rel_time": int(r.rel_time), "coef": float(r.coef),
                 "se": None if not np.isfinite(r.se) else float(r.se),
                 "ci_low": None if not np.isfinite(r.ci_low) else float(r.ci_low),
                 "ci_high": None if not np.isfinite(r.ci_high) else float(r.ci_high)}
                for r in self.table.itertuples()]

    def aggregate_row(self, type: str = "simple") -> dict:
        """results.json ``aggregates`` row for the overall ATT."""
        return {"estimator": self.estimator, "type": type, "att": self.att, "se": self.se,
                "ci_low": self.ci_low, "ci_high": self.ci_high}


def normal_ci(coef, se, alpha: float = 0.05):
    z = stats.norm.ppf(1 - alpha / 2)
    return np.asarray(coef) - z * np.asarray(se), np.asarray(coef) + z * np.asarray(se)
