"""The two-way fixed-effects benchmarks the robust estimators are compared with (pyfixest).

- static: ``y ~ D (+ covariates) | unit + time``;
- event study: ``y ~ i(rel, ref=-1) (+ covariates) | unit + time`` with never-treated units coded to the
  reference category, every relative time its own dummy (no binning).
CRV1 standard errors clustered by unit unless a cluster is given (pyfixest's fixest-style correction);
confidence intervals from t with G − 1 degrees of freedom (G clusters), as the baseline table and Stata's
clustered regressions use, not the normal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from pilotdid.estimation.staggered.panel import long_sample, pyfixest_quiet
from pilotdid.estimation.event_study_result import EventStudyResult

_REL = "_twfe_rel"
_D = "_twfe_d"


def twfe_event_study(
    panel: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    first_treat: str,
    covariates: list[str] | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
    weights: str | None = None,
) -> EventStudyResult:
    """TWFE dynamic specification (reference -1) and the static TWFE coefficient as its overall ATT
    (``weights``: analytic weights, WLS as pyfixest ``weights=``)."""
    from pilotdid.estimation import fixest as _fx
    from pilotdid.estimation.fixest import formula_names, pf

    covariates = list(covariates or [])
    df, notes = long_sample(panel, outcome=outcome, unit=unit, time=time, first_treat=first_treat,
                            covariates=covariates, cluster=cluster, where="staggered.twfe", weights=weights)
    g = df[first_treat].fillna(0).to_numpy(dtype=float)
    t = df[time].to_numpy(dtype=float)
    df[_REL] = np.where(g > 0, t - g, -1).astype(int)
    df[_D] = ((g > 0) & (t >= g)).astype(float)
    cl = cluster or unit
    df, n = formula_names(df, [outcome, unit, time, cl, *covariates] + ([weights] if weights else []))
    wkw = {"weights": n[weights]} if weights else {}
    cov = "".join(f" + {n[c]}" for c in covariates)
    with pyfixest_quiet():
        es = pf.feols(f"{n[outcome]} ~ i({_REL}, ref=-1){cov} | {n[unit]} + {n[time]}", data=df, vcov={"CRV1": n[cl]},
                      **wkw)
    tidy = es.tidy()
    rows = [n for n in tidy.index if n.startswith(f"{_REL}::")]
    rel = np.array([int(float(n.split("::")[1])) for n in rows])
    order = np.argsort(rel)
    rows = [rows[i] for i in order]
    # critical value from t(G-1), as the baseline TWFE table and Stata/fixest clustered inference (not the normal)
    n_clusters = int(df[n[cl]].nunique())
    t_df = n_clusters - 1
    z = stats.t.ppf(1 - alpha / 2, t_df)
    coef = tidy.loc[rows, "Estimate"].to_numpy()
    se = tidy.loc[rows, "Std. Error"].to_numpy()
    V = _fx.vcov_frame(es).loc[rows, rows].to_numpy()
    table = pd.DataFrame({"rel_time": rel[order], "coef": coef, "se": se, "ci_low": coef - z * se, "ci_high": coef + z * se})
    ref = pd.DataFrame({"rel_time": [-1], "coef": [0.0], "se": [np.nan], "ci_low": [np.nan], "ci_high": [np.nan]})
    table = pd.concat([table, ref]).sort_values("rel_time").reset_index(drop=True)
    with pyfixest_quiet():
        static = pf.feols(f"{n[outcome]} ~ {_D}{cov} | {n[unit]} + {n[time]}", data=df, vcov={"CRV1": n[cl]},
                          **wkw).tidy().loc[_D]
    att, att_se = float(static["Estimate"]), float(static["Std. Error"])
    return EventStudyResult(estimator="twfe", table=table, att=att, se=att_se, ci_low=att - z * att_se,
                            ci_high=att + z * att_se, vcov=V, reference=-1,
                            se_method=f"CRV1 clustered by {cl} (pyfixest); {100 * (1 - alpha):g}% CIs from t(G−1) = t({t_df})",
                            notes=notes)
