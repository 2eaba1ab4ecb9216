"""Goodman-Bacon (2021) decomposition of the two-way fixed-effects DID coefficient.

On a balanced panel with absorbing treatment and no controls, the TWFE coefficient on the treatment
dummy is a weighted average of every 2x2 DID between timing groups:

- ``treated vs never treated``: cohort k against never-treated units, all periods;
- ``earlier vs later treated``: cohort k (treated earlier) against cohort l, periods before l is treated;
- ``later vs earlier treated``: cohort l against the already-treated cohort k, periods after k is treated
  (the "forbidden" comparison: k's treatment-effect dynamics enter as a control trend);
- ``later vs always treated``: cohort l against units treated from the first period (also forbidden).

Weights are Goodman-Bacon's Theorem 1 (eqs. 10a-10c): products of group sizes and the variance of
treatment within each 2x2, divided by the variance of the two-way-demeaned treatment. They sum to one
and the weighted sum equals the TWFE coefficient exactly. Unbalanced panels are refused (the
decomposition does not hold there), as R ``bacondecomp`` and Stata ``bacondecomp`` do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.staggered.panel import to_wide
from pilotdid.results.protocol import Result, new_axes, tidy_frame

TREATED_VS_NEVER = "treated vs never treated"
EARLIER_VS_LATER = "earlier vs later treated"
LATER_VS_EARLIER = "later vs earlier treated"
LATER_VS_ALWAYS = "later vs always treated"
FORBIDDEN = (LATER_VS_EARLIER, LATER_VS_ALWAYS)


@dataclass
class BaconResult(Result):
    """Every 2x2 with its weight and estimate; ``twfe`` is the coefficient they reproduce."""

    comparisons: pd.DataFrame  # type, treated, control, estimate, weight
    twfe: float
    by_type: pd.DataFrame  # type, weight, estimate (weight-averaged within type)

    title = "Goodman-Bacon decomposition"

    def tidy(self) -> pd.DataFrame:
        """One row per comparison type (``kind`` = bacon_type, with its weight), then the TWFE it sums to."""
        rows = [{"term": r["type"], "estimate": r["estimate"], "weight": r["weight"], "kind": "bacon_type"}
                for r in self.by_type.to_dict("records")]
        rows.append({"term": "TWFE", "estimate": self.twfe, "weight": 1.0, "kind": "twfe"})
        return tidy_frame(rows)

    def to_dict(self) -> dict:
        """``{"bacon": {...}}`` as results.json carries it."""
        return {"bacon": {"twfe": self.twfe, "forbidden_weight": self.forbidden_weight,
                          "by_type": self.by_type.to_dict("records"),
                          "comparisons": self.comparisons.to_dict("records")}}

    @property
    def conventions(self) -> dict:
        return {"sample": "balanced panel, no controls", "forbidden": list(FORBIDDEN),
                "forbidden_weight": self.forbidden_weight}

    def plot(self, ax=None, **kwargs):
        """Every 2x2 estimate against its weight, by comparison type."""
        fig, ax = new_axes(ax)
        for kind, part in self.comparisons.groupby("type", sort=True):
            ax.scatter(part["weight"], part["estimate"], label=str(kind), s=18)
        ax.axhline(self.twfe, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xlabel("weight")
        ax.set_ylabel("2x2 estimate")
        ax.set_title(self.title)
        ax.legend(fontsize=7)
        return fig

    @property
    def forbidden_weight(self) -> float:
        """Total weight on comparisons that use already-treated units as controls."""
        c = self.comparisons
        return float(c.loc[c["type"].isin(FORBIDDEN), "weight"].sum())


def _twfe_balanced(y: np.ndarray, d: np.ndarray) -> float:
    """TWFE coefficient on a balanced panel by two-way demeaning (Frisch-Waugh)."""
    def demean(m: np.ndarray) -> np.ndarray:
        return m - m.mean(axis=1, keepdims=True) - m.mean(axis=0, keepdims=True) + m.mean()
    dt = demean(d)
    return float((dt * demean(y)).sum() / (dt ** 2).sum())


def bacon_decomposition(panel: pd.DataFrame, *, outcome: str, unit: str, time: str, first_treat: str) -> BaconResult:
    """Decompose the TWFE DID coefficient (balanced panel, no controls) into all 2x2 comparisons."""
    where = "staggered.bacon"
    wide = to_wide(panel, outcome=outcome, unit=unit, time=time, first_treat=first_treat, where=where,
                   drop_always_treated=False)
    y, times, cohort = wide.outcome, wide.times, wide.cohort.copy()
    n_units, n_t = y.shape
    always = (cohort > 0) & (cohort <= times[0])
    cohort[always] = times[0]
    d = ((cohort[:, None] > 0) & (times[None, :] >= cohort[:, None])).astype(float)
    dt = d - d.mean(axis=1, keepdims=True) - d.mean(axis=0, keepdims=True) + d.mean()
    var_d = (dt ** 2).mean()
    if var_d <= 0:
        raise PilotdidInputError("treatment does not vary after removing unit and period means", where=where,
                                 fix="the panel needs units treated at different times or never treated")
    twfe = _twfe_balanced(y, d)
    groups = np.unique(cohort[cohort > 0])
    share = {g: np.mean(cohort == g) for g in groups}
    dbar = {g: np.mean(times >= g) for g in groups}  # share of periods treated
    n_never = np.mean(cohort == 0)
    ymean = {g: y[cohort == g].mean(axis=0) for g in groups}
    if n_never > 0:
        ymean[0] = y[cohort == 0].mean(axis=0)

    def did(tr: float, co: float, pre: np.ndarray, post: np.ndarray) -> float:
        return float((ymean[tr][post].mean() - ymean[tr][pre].mean()) - (ymean[co][post].mean() - ymean[co][pre].mean()))

    rows = []
    for k in groups:
        if n_never > 0 and dbar[k] < 1:
            nk = share[k] / (share[k] + n_never)
            w = (share[k] + n_never) ** 2 * nk * (1 - nk) * dbar[k] * (1 - dbar[k]) / var_d
            rows.append((TREATED_VS_NEVER, k, 0, did(k, 0, times < k, times >= k), w))
    for i, k in enumerate(groups):
        for l in groups[i + 1:]:
            nkl = share[k] / (share[k] + share[l])
            dk, dl = dbar[k], dbar[l]
            if dk < 1:  # k has a pre-period: earlier k against not-yet-treated l
                w = ((share[k] + share[l]) * (1 - dl)) ** 2 * nkl * (1 - nkl) * ((dk - dl) / (1 - dl)) * ((1 - dk) / (1 - dl)) / var_d
                window = times < l
                rows.append((EARLIER_VS_LATER, k, l, did(k, l, window & (times < k), window & (times >= k)), w))
            w = ((share[k] + share[l]) * dk) ** 2 * nkl * (1 - nkl) * (dl / dk) * ((dk - dl) / dk) / var_d
            window = times >= k
            kind = LATER_VS_ALWAYS if k == times[0] else LATER_VS_EARLIER
            rows.append((kind, l, k, did(l, k, window & (times < l), window & (times >= l)), w))
    comp = pd.DataFrame(rows, columns=["type", "treated", "control", "estimate", "weight"])
    for col in ("treated", "control"):
        if np.all(np.mod(comp[col], 1) == 0):
            comp[col] = comp[col].astype(int)
    by_type = (comp.assign(wx=comp.weight * comp.estimate).groupby("type", sort=False)
               .agg(weight=("weight", "sum"), wx=("wx", "sum")).reset_index())
    by_type["estimate"] = by_type["wx"] / by_type["weight"]
    by_type = by_type.drop(columns="wx")
    return BaconResult(comparisons=comp, twfe=twfe, by_type=by_type)
