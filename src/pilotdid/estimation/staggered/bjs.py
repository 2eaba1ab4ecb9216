"""Imputation estimator of Borusyak, Jaravel & Spiess (2024), via pyfixest's two-stage ``did2s``.

Stage 1 fits unit and period fixed effects (and covariates) on untreated observations only (never
treated and not yet treated); stage 2 regresses the residualised outcome on relative-time dummies
(event study) or on the treatment dummy (overall ATT). The point estimates are BJS's imputation
estimates (means of Y - imputed Y(0) over treated observations, equally weighted); the standard errors
are Gardner's (2021) two-stage GMM errors clustered by unit as pyfixest computes them, not BJS's own
conservative variance estimator. Pre-period coefficients are mean stage-1 residuals of not-yet-treated
observations by relative time (a pre-trend diagnostic, no period is normalised to zero).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from pilotdid.estimation.staggered.panel import long_sample, pyfixest_quiet
from pilotdid.estimation.staggered.results import EventStudyResult

_REL = "_bjs_rel"
_D = "_bjs_d"
_NEVER = -1000


def imputation(
    panel: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    first_treat: str,
    covariates: list[str] | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
) -> EventStudyResult:
    """BJS imputation event study (all relative times) and overall ATT."""
    import pyfixest as pf

    covariates = list(covariates or [])
    df, notes = long_sample(panel, outcome=outcome, unit=unit, time=time, first_treat=first_treat,
                            covariates=covariates, cluster=cluster, where="staggered.bjs")
    g = df[first_treat].fillna(0).to_numpy(dtype=float)
    t = df[time].to_numpy(dtype=float)
    df[_D] = ((g > 0) & (t >= g)).astype(float)
    df[_REL] = np.where(g > 0, t - g, _NEVER).astype(float)
    first = "~ 0" if not covariates else "~ " + " + ".join(covariates)
    first += f" | {unit} + {time}"
    cl = cluster or unit
    with pyfixest_quiet():
        es = pf.did2s(df, yname=outcome, first_stage=first, second_stage=f"~ i({_REL}, ref={float(_NEVER)})",
                      treatment=_D, cluster=cl)
    tidy = es.tidy()
    rel = np.array([float(n.split("::")[1]) for n in tidy.index])
    order = np.argsort(rel)
    V = np.asarray(es._vcov)[np.ix_(order, order)]
    zc = stats.norm.ppf(1 - alpha / 2)
    coef = tidy["Estimate"].to_numpy()[order]
    se = tidy["Std. Error"].to_numpy()[order]
    table = pd.DataFrame({"rel_time": rel[order].astype(int), "coef": coef, "se": se,
                          "ci_low": coef - zc * se, "ci_high": coef + zc * se})
    with pyfixest_quiet():
        overall = pf.did2s(df, yname=outcome, first_stage=first, second_stage=f"~ {_D}", treatment=_D, cluster=cl).tidy()
    att = float(overall.loc[_D, "Estimate"])
    att_se = float(overall.loc[_D, "Std. Error"])
    return EventStudyResult(estimator="bjs", table=table, att=att, se=att_se, ci_low=att - zc * att_se,
                            ci_high=att + zc * att_se, vcov=V, reference=None,
                            se_method=f"Gardner (2021) two-stage GMM, clustered by {cl} (pyfixest did2s)", notes=notes)
