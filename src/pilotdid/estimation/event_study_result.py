"""The one event-study result: event-time estimates, and the overall ATT or the joint pre-trend test.

Every event study of the package returns it: the binned TWFE event study (:func:`pilotdid.estimation.event_study.
fit_event_study`, with ``pretrend``, ``window``, ``bins`` and the regression counts) and the staggered estimators
(CS dynamic aggregation, Sun-Abraham, imputation, stacked, ETWFE, unbinned TWFE, with the overall ATT and, where
the estimator gives it, the covariance HonestDiD needs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pilotdid.results.protocol import Result, event_time_plot, fill_normal_tests, tidy_frame
from pilotdid.results.schema import AGGREGATE_KEYS, EVENT_STUDY_KEYS, normalise_row

#: columns of ``table`` carried into the results.json rows (after the schema keys), in this order, when present
_ROW_EXTRAS = {"t": float, "p": float, "is_base": bool, "binned": bool, "n_treated_obs": int, "bin_low": int,
               "bin_high": int, "n_units": int}


#: How a summary or figure title names each estimator key.
ESTIMATOR_NAMES = {"twfe": "TWFE", "sa": "Sun-Abraham", "bjs": "Imputation (Borusyak-Jaravel-Spiess)",
                   "etwfe": "Extended TWFE (Wooldridge)", "stacked": "Stacked DID", "cs": "Callaway-Sant'Anna",
                   "dcdh": "did_multiplegt_dyn"}


@dataclass
class EventStudyResult(Result):
    """Event-time estimates ``table`` (``rel_time, coef, se, ci_low, ci_high`` and, where they apply, ``t, p,
    is_base, binned, n_treated_obs, bin_low, bin_high, n_units``).

    ``att`` .. ``ci_high``: the overall post-treatment ATT (None for the binned TWFE event study, which reports the
    joint pre-trend test ``pretrend`` instead). ``vcov`` is the covariance of the event-time coefficients in
    ``table`` order, the reference row (fixed at zero) left out (when the estimator provides it; HonestDiD needs
    it). ``reference`` is the normalised event time (None if none); a row with ``is_base`` is drawn at zero.
    """

    estimator: str
    table: pd.DataFrame
    att: float | None = None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    vcov: np.ndarray | None = None
    reference: int | None = -1
    se_method: str = ""
    notes: list[str] = field(default_factory=list)
    #: other named variances of the same estimates: name -> {"se": overall ATT SE, "table": rel_time, se}
    alternative_se: dict = field(default_factory=dict)
    # the binned TWFE event study's regression: window, counts, t degrees of freedom, joint pre-trend test, bins
    window: tuple[int, int] | None = None
    nobs: int | None = None
    n_clusters: int | None = None
    df_t: int | None = None
    pretrend: dict[str, Any] | None = None
    bins: list[list[int]] | None = None  # [[first, last], ...] covering the window (one period each unless binned)
    reference_bin: list[int] | None = None

    @property
    def coefs(self) -> pd.DataFrame:
        """``table`` under the binned TWFE event study's earlier name."""
        return self.table

    @property
    def base(self) -> int | None:
        """``reference`` under the binned TWFE event study's earlier name."""
        return self.reference

    @property
    def title(self) -> str:  # type: ignore[override]
        if self.bins is not None:
            return "TWFE event study (binned)"
        return f"{ESTIMATOR_NAMES.get(self.estimator, self.estimator)} event study"

    def tidy(self) -> pd.DataFrame:
        """Event-time rows (``kind`` = event_time; a base row has estimate 0 and no SE), then the overall ATT
        (``kind`` = aggregate) when there is one."""
        frame = self.table.rename(columns={"coef": "estimate"}).copy()
        frame.insert(0, "term", [f"rel_{int(k)}" for k in frame["rel_time"]])
        if self.att is None:
            return tidy_frame(frame, kind="event_time")
        frame["kind"] = "event_time"
        att = {"term": "ATT", "estimate": self.att, "se": self.se, "ci_low": self.ci_low, "ci_high": self.ci_high,
               "kind": "aggregate"}
        return fill_normal_tests(tidy_frame(pd.concat([frame, pd.DataFrame([att])], ignore_index=True)))

    def to_dict(self, estimator: str | None = None) -> dict:
        """``{"event_study": [...]}`` with ``"aggregates"`` (the overall ATT) or ``"pretrend"`` as results.json
        carries them."""
        out: dict[str, Any] = {"event_study": [normalise_row(r, EVENT_STUDY_KEYS) for r in self.event_rows(estimator)]}
        if self.att is not None:
            out["aggregates"] = [normalise_row({**self.aggregate_row("simple"), "se_method": self.se_method},
                                               AGGREGATE_KEYS)]
        if self.pretrend is not None:
            out["pretrend"] = self.pretrend
        return out

    @property
    def conventions(self) -> dict:
        if self.bins is None:
            reference = (self.reference if self.reference is not None else
                         "none: every event time is estimated, no period is normalised to 0")
            return {"estimator": self.estimator, "reference_period": reference, "se_method": self.se_method}
        return {"estimator": self.estimator, "base_period": self.reference, "window": list(self.window or ()),
                "binning": "both ends binned (lo means lo or earlier, hi means hi or later)",
                "bins": self.bins, "reference_bin": self.reference_bin,
                "ci": f"t({self.df_t}), cluster-robust", "n_clusters": self.n_clusters}

    def plot(self, ax=None, **kwargs):
        """Event-time estimates with 95% CIs (a matplotlib Figure, never saved)."""
        tidy = self.tidy()
        return event_time_plot(tidy[tidy["kind"] == "event_time"], self.title, ax=ax,
                               reference=self.reference if self.reference is not None else -1)

    def event_rows(self, estimator: str | None = None) -> list[dict]:
        """results.json ``event_study`` rows: a base row (coef 0) and non-finite values carry null SE, CI, t, p."""
        name = estimator or self.estimator
        extras = [c for c in _ROW_EXTRAS if c in self.table.columns]
        out = []
        for r in self.table.itertuples(index=False):
            base = bool(getattr(r, "is_base", False))

            def num(v):
                return None if base or not np.isfinite(v) else float(v)

            row = {"estimator": name, "rel_time": int(r.rel_time), "coef": float(r.coef), "se": num(r.se),
                   "ci_low": num(r.ci_low), "ci_high": num(r.ci_high)}
            for c in extras:
                v = getattr(r, c)
                row[c] = num(v) if _ROW_EXTRAS[c] is float else _ROW_EXTRAS[c](v)
            out.append(row)
        return out

    rows = event_rows  # the binned TWFE event study's earlier name

    def aggregate_row(self, type: str = "simple") -> dict:
        """results.json ``aggregates`` row for the overall ATT."""
        return {"estimator": self.estimator, "type": type, "att": self.att, "se": self.se,
                "ci_low": self.ci_low, "ci_high": self.ci_high}
