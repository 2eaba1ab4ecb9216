"""Common result shape of the staggered estimators: an event study plus an overall ATT."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from pilotdid.results.protocol import Result, event_time_plot, fill_normal_tests, tidy_frame
from pilotdid.results.schema import AGGREGATE_KEYS, EVENT_STUDY_KEYS, normalise_row


@dataclass
class EventStudyResult(Result):
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

    @property
    def title(self) -> str:  # type: ignore[override]
        return f"{self.estimator} event study"

    def tidy(self) -> pd.DataFrame:
        """Event-time rows (``kind`` = event_time), then the overall ATT (``kind`` = aggregate)."""
        frame = self.table.rename(columns={"coef": "estimate"}).copy()
        frame.insert(0, "term", [f"rel_{int(k)}" for k in frame["rel_time"]])
        frame["kind"] = "event_time"
        att = {"term": "ATT", "estimate": self.att, "se": self.se, "ci_low": self.ci_low, "ci_high": self.ci_high,
               "kind": "aggregate"}
        return fill_normal_tests(tidy_frame(pd.concat([frame, pd.DataFrame([att])], ignore_index=True)))

    def to_dict(self) -> dict:
        """``{"event_study": [...], "aggregates": [...]}`` as results.json carries them."""
        return {"event_study": [normalise_row(r, EVENT_STUDY_KEYS) for r in self.event_rows()],
                "aggregates": [normalise_row({**self.aggregate_row("simple"), "se_method": self.se_method},
                                             AGGREGATE_KEYS)]}

    @property
    def conventions(self) -> dict:
        return {"estimator": self.estimator, "reference_period": self.reference, "se_method": self.se_method}

    def plot(self, ax=None, **kwargs):
        """Event-time estimates with 95% CIs (a matplotlib Figure, never saved)."""
        tidy = self.tidy()
        return event_time_plot(tidy[tidy["kind"] == "event_time"], self.title, ax=ax,
                               reference=self.reference if self.reference is not None else -1)

    def event_rows(self) -> list[dict]:
        """results.json ``event_study`` rows."""
        return [{"estimator": self.estimator, "rel_time": int(r.rel_time), "coef": float(r.coef),
                 "se": None if not np.isfinite(r.se) else float(r.se),
                 "ci_low": None if not np.isfinite(r.ci_low) else float(r.ci_low),
                 "ci_high": None if not np.isfinite(r.ci_high) else float(r.ci_high),
                 **({"n_units": int(r.n_units)} if "n_units" in self.table.columns else {})}
                for r in self.table.itertuples()]

    def aggregate_row(self, type: str = "simple") -> dict:
        """results.json ``aggregates`` row for the overall ATT."""
        return {"estimator": self.estimator, "type": type, "att": self.att, "se": self.se,
                "ci_low": self.ci_low, "ci_high": self.ci_high}


def normal_ci(coef, se, alpha: float = 0.05):
    z = stats.norm.ppf(1 - alpha / 2)
    return np.asarray(coef) - z * np.asarray(se), np.asarray(coef) + z * np.asarray(se)
