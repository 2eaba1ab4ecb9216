"""Sun & Abraham (2021) interaction-weighted (IW) event study.

One pyfixest regression of the outcome on unit and period fixed effects and a full set of
cohort x relative-time dummies (relative time -1 omitted for every cohort), then the cohort-specific
effects CATT(g, l) are averaged at each relative time l with weights equal to the cohorts' sample
shares among units observed at l. The control cohort is the never-treated units; without
never-treated units it is the last-treated cohort, whose treated periods are dropped (as SA propose).
Standard errors: pyfixest CRV1 (fixest's small-sample correction) clustered by unit unless a cluster
is given; the IW weights are treated as fixed in the delta method (as fixest ``sunab``'s aggregation).
On a balanced panel without covariates the IW estimates equal Callaway-Sant'Anna's dynamic
aggregation with never-treated controls and a universal base period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.staggered.panel import fit_outcome_groups, long_sample, outcome_list, pyfixest_quiet
from pilotdid.estimation.event_study_result import EventStudyResult
from pilotdid.estimation.staggered.results import normal_ci

_CELL = "_sa_cell"


def sun_abraham(
    panel: pd.DataFrame,
    *,
    outcome: str | list[str],
    unit: str,
    time: str,
    first_treat: str,
    covariates: list[str] | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
    weights: str | None = None,
) -> EventStudyResult | list[EventStudyResult]:
    """Sun-Abraham IW event study and the cohort-share weighted post-treatment ATT.

    ``weights``: analytic weights -- weighted least squares, and the cohort shares summed over the weights.
    ``outcome``: a column, or a list of columns: then one result per column (a list), all from one design (the
    cells, the shares and the model matrix are the outcome's; see :func:`pilotdid.estimation.fixest.refit_outcomes`)."""
    from pilotdid.estimation import fixest as _fx
    from pilotdid.estimation.fixest import pf

    covariates = list(covariates or [])
    outcome_given, outcomes = outcome, outcome_list(outcome)
    options = dict(unit=unit, time=time, first_treat=first_treat, covariates=covariates, cluster=cluster, alpha=alpha,
                   weights=weights)
    if not isinstance(outcome, str):
        grouped = fit_outcome_groups(sun_abraham, panel, outcomes, **options)
        if grouped is not None:
            return grouped
    outcome = outcomes[0]
    df, notes = long_sample(panel, outcome=outcomes, unit=unit, time=time, first_treat=first_treat,
                            covariates=covariates, cluster=cluster, where="staggered.sa", weights=weights)
    g = df[first_treat].fillna(0).to_numpy(dtype=float)
    t = df[time].to_numpy(dtype=float)
    t_min = t.min()
    always = (g > 0) & (g <= t_min)
    if always.any():
        notes.append(f"{df.loc[always, unit].nunique()} always-treated unit(s) dropped (no pre-period).")
    keep = ~always
    if not (g[keep] == 0).any():
        last = g[keep].max()
        keep &= ~(t >= last)
        notes.append(f"no never-treated units: the last cohort ({int(last)}) is the control group; periods from "
                     f"{int(last)} on are dropped.")
        control_cohort = last
    else:
        control_cohort = 0.0
    df, g, t = df[keep].copy(), g[keep], t[keep]
    rel = t - g
    treated_cohort = (g > 0) & (g != control_cohort)
    cells = pd.DataFrame({"g": g, "l": rel}, index=df.index)[treated_cohort & (rel != -1)]
    if cells.empty:
        raise PilotdidInputError("no treated cohort left to estimate", where="staggered.sa", fix="check the first-treatment column")
    uniq = cells.drop_duplicates().sort_values(["l", "g"]).reset_index(drop=True)
    uniq["id"] = np.arange(1, len(uniq) + 1)
    code = pd.Series(0, index=df.index)
    lookup = {(r.g, r.l): r.id for r in uniq.itertuples()}
    code.loc[cells.index] = [lookup[(a, b)] for a, b in zip(cells["g"], cells["l"])]
    df[_CELL] = code.to_numpy()
    # formula names must be plain identifiers: a column called "class", "state.name" or "经济 韧性" is renamed here
    safe = {outcome: "_sa_y", **{o: f"_sa_y{k}" for k, o in enumerate(outcomes[1:], 1)}, unit: "_sa_unit",
            time: "_sa_time", **{c: f"_sa_x{k}" for k, c in enumerate(covariates)}}
    if cluster and cluster not in safe:
        safe[cluster] = "_sa_cluster"
    if weights and weights not in safe:
        safe[weights] = "_sa_w"
    df = df.rename(columns=safe)
    rhs = f"i({_CELL}, ref=0)" + "".join(f" + {safe[c]}" for c in covariates)
    fml = f"_sa_y ~ {rhs} | _sa_unit + _sa_time"
    vcov = {"CRV1": safe[cluster or unit]}
    weight_kw = {"weights": safe[weights]} if weights else {}
    # the model matrix i(cell, ref=0) encodes -- one dummy per cell id, in id order -- handed to pyfixest's own
    # estimation (_fx.feols_arrays: the same bits as pf.feols without its formula machinery); pf.feols where
    # that path declines (e.g. a singleton to drop)
    cell_ids = uniq["id"].to_numpy()
    x = np.zeros((len(df), len(cell_ids) + len(covariates)))
    rows = np.flatnonzero(df[_CELL].to_numpy() > 0)
    x[rows, df[_CELL].to_numpy()[rows] - 1] = 1.0  # ids are 1..K in column order
    for k, c in enumerate(covariates):
        x[:, len(cell_ids) + k] = df[safe[c]].to_numpy(dtype=float)
    x_names = [f"{_CELL}::{cell_id}" for cell_id in cell_ids] + [safe[c] for c in covariates]
    columns = {name: df[name].to_numpy() for name in dict.fromkeys(safe.values())}
    with pyfixest_quiet():
        fit = _fx.feols_arrays(fml, columns, x=x, x_names=x_names, vcov=vcov, drop_singletons=True, **weight_kw)
        fit_arrays = fit is not None
        if fit is None:
            fit = pf.feols(fml, data=df, vcov=vcov, **weight_kw)
    fits = [(_fx.coefficients(fit), _fx.vcov_matrix(fit))]
    if len(outcomes) > 1:
        more = _fx.refit_outcomes(fit, df[[safe[o] for o in outcomes[1:]]].to_numpy(float)) if fit_arrays else None
        if more is None:  # a fit feols_arrays declined (e.g. a singleton dropped): each outcome on its own
            return [sun_abraham(panel, outcome=o, **options) for o in outcomes]
        fits += more
    coef_names = _fx.coef_names(fit)
    names = {f"{_CELL}::{i}": i for i in uniq["id"]}
    pos = [k for k, n in enumerate(coef_names) if n in names]  # the cell coefficients, in the model's order
    ids = np.array([names[coef_names[k]] for k in pos])
    info = uniq.set_index("id").loc[ids]
    # cohort shares at each relative time: counts of observations, or sums of their analytic weights
    share_w = df.loc[cells.index, safe[weights]] if weights else pd.Series(1.0, index=cells.index)
    counts = share_w.groupby([cells["g"], cells["l"]]).sum().rename("n").reset_index()
    info = info.reset_index().merge(counts, on=["g", "l"], how="left")
    rel_times = np.sort(info["l"].unique())
    R = np.zeros((len(rel_times), len(pos)))
    l_values, n_values = info["l"].to_numpy(), info["n"].to_numpy()
    for j, l in enumerate(rel_times):
        m = l_values == l
        # the shares' denominator summed by pandas, as Series.sum sums (the same bits as before, without .loc)
        R[j, m] = n_values[m] / pd.Series(n_values[m]).sum()
    post = (info["l"] >= 0).to_numpy()
    w_post = np.where(post, info["n"], 0.0)
    w_post = w_post / w_post.sum()
    se_method = (f"CRV1 (pyfixest/fixest small-sample correction), clustered by {cluster or unit}; IW weights treated "
                 "as fixed")
    results = []
    for coefficients, covariance in fits:
        b = coefficients[pos]
        # Fortran order, as a DataFrame's .loc[...].to_numpy() returned it: the BLAS products below round by layout
        V = np.asfortranarray(covariance[np.ix_(pos, pos)])
        est = R @ b
        V_es = R @ V @ R.T
        se = np.sqrt(np.diag(V_es))
        att = float(w_post @ b)
        att_se = float(np.sqrt(w_post @ V @ w_post))
        lo, hi = normal_ci(est, se, alpha)
        table = pd.DataFrame({"rel_time": rel_times.astype(int), "coef": est, "se": se, "ci_low": lo, "ci_high": hi})
        ref_row = pd.DataFrame({"rel_time": [-1], "coef": [0.0], "se": [np.nan], "ci_low": [np.nan],
                                "ci_high": [np.nan]})
        table = pd.concat([table, ref_row]).sort_values("rel_time").reset_index(drop=True)
        a_lo, a_hi = normal_ci(att, att_se, alpha)
        results.append(EventStudyResult(estimator="sa", table=table, att=att, se=att_se, ci_low=float(a_lo),
                                        ci_high=float(a_hi), vcov=V_es, reference=-1, se_method=se_method,
                                        notes=list(notes)))
    return results[0] if isinstance(outcome_given, str) else results
