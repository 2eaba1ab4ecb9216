"""The two-way fixed-effects benchmarks the robust estimators are compared with.

- static: ``y ~ D (+ covariates) | unit + time``;
- event study: ``y ~ Σ_k D_k (+ covariates) | unit + time`` with reference -1 and never-treated units at zero,
  every relative time its own dummy (no binning): the binned event study's fitter
  (:func:`pilotdid.estimation.event_study.fit_event_study`) with a window spanning every relative time observed.
Both through the one TWFE fitter (``fit_twfe``) with the ``fixest`` SE preset (pyfixest/R fixest defaults): CRV1
standard errors clustered by unit unless a cluster is given; confidence intervals from t with G − 1 degrees of
freedom (G clusters), as the baseline table and Stata's clustered regressions use, not the normal.
"""

from __future__ import annotations

from scipy import stats

from pilotdid.estimation.event_study import fit_event_study
from pilotdid.estimation.event_study_result import EventStudyResult
from pilotdid.estimation.staggered.panel import long_sample

_D = "_twfe_d"


def twfe_event_study(
    panel,
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
    (``weights``: analytic weights, WLS)."""
    from pilotdid.estimation.twfe import fit_twfe

    covariates = list(covariates or [])
    df, notes = long_sample(panel, outcome=outcome, unit=unit, time=time, first_treat=first_treat,
                            covariates=covariates, cluster=cluster, where="staggered.twfe", weights=weights)
    g = df[first_treat].fillna(0).to_numpy(dtype=float)
    t = df[time].to_numpy(dtype=float)
    # units treated from the first period on have no pre-period: in the fully dynamic specification their event-time
    # dummies add up to their unit effect (not identified), so they leave this sample as R did and sunab drop them
    always = (g > 0) & (g <= t.min())
    if always.any():
        notes = [*notes, f"TWFE event study: {df.loc[always, unit].nunique()} unit(s) treated from the first period "
                         f"{int(t.min())} on (no pre-period) left out"]
        df = df.loc[~always].copy()
        g, t = g[~always], t[~always]
    rel = (t - g)[g > 0]
    window = (int(min(rel.min(), -1)), int(max(rel.max(), 0))) if rel.size else (-1, 0)
    cl = cluster or unit
    level = 1 - alpha
    dynamic = fit_event_study(df, outcome=outcome, unit=unit, time=time, first_treat=first_treat, controls=covariates,
                              fixed_effects=[unit, time], cluster=cl, window=window, base=-1, vcov="fixest",
                              level=level, weights=weights)
    table = dynamic.table[["rel_time", "coef", "se", "ci_low", "ci_high"]].reset_index(drop=True)
    df[_D] = ((g > 0) & (t >= g)).astype(float)
    static = fit_twfe(df, outcome, [_D, *covariates], [unit, time], cl, vcov="fixest", weights=weights).term(_D)
    z = stats.t.ppf(1 - alpha / 2, dynamic.df_t)  # as the event-time rows: t(G-1), not the normal
    att, att_se = float(static["coef"]), float(static["se"])
    return EventStudyResult(estimator="twfe", table=table, att=att, se=att_se, ci_low=att - z * att_se,
                            ci_high=att + z * att_se, vcov=dynamic.vcov, reference=-1,
                            se_method=f"CRV1 clustered by {cl} (pyfixest); {100 * level:g}% CIs from t(G−1) = "
                                      f"t({dynamic.df_t})",
                            notes=notes)
