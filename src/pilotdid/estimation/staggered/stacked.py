"""Stacked difference-in-differences (Cengiz, Dube, Lindner & Zipperer 2019) with the corrective weights of
Wing, Freedman & Hollingsworth (2024, NBER WP 32054).

For every adoption cohort a whose event window [a + lo, a + hi] lies inside the panel (the "trimmed" set of
sub-experiments), a sub-experiment holds the cohort's units and the clean controls -- units never treated or
first treated after a + hi -- over the window's periods. The sub-experiments are stacked, and one weighted
regression is run:

- event study: ``y ~ sum_{e != -1} treated * 1{event time = e}``;
- TWFE form: ``y ~ treated * 1{event time >= 0}``;

with the fixed effects of ``fixed_effects``:

- ``"sub_experiment"`` (default): unit x sub-experiment and event time x sub-experiment (Cengiz et al.'s layout;
  every sub-experiment keeps its own unit levels and its own calendar shocks);
- ``"wfh"``: treated group and event time, the regression of WFH's R/Stata tutorial (hollina/stacked-did-weights,
  ``feols(y ~ i(event_time, treat, ref = -1) | treat + event_time)`` / ``reghdfe ... absorb(treat event_time)``).

On a balanced panel without covariates both give the same coefficients (the weighted cell-mean identity below);
their standard errors differ, because the residuals differ.

Weights (WFH eq. 5-6): treated rows 1; control rows of sub-experiment a get Q_a = (N^D_a / N^D) / (N^C_a / N^C),
N^D_a and N^C_a the treated and control units of sub-experiment a, N^D and N^C their totals over the trimmed
set. With them the event-study coefficient at e is the trimmed aggregate ATT, sum_a (N^D_a / N^D) x
[(treated mean change from -1 to e) - (control mean change)] on a balanced panel -- the identity the tests
check -- instead of an average with the implicit variance weights of the unweighted stack. Standard errors:
CRV1 (fixest's and reghdfe's small-sample correction: G/(G-1) x (n-1)/(n-K), K without fixed effects nested in
the clusters) clustered by unit (a control unit appears in several sub-experiments, WFH's convention) unless a
cluster is given. The confidence intervals are normal; WFH's tutorial reports t(G-1) (``clusters`` is kept for it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.staggered.panel import fit_outcome_groups, long_sample, outcome_list, pyfixest_quiet
from pilotdid.estimation.event_study_result import EventStudyResult
from pilotdid.i18n import msg
from pilotdid.results.protocol import Result, fill_normal_tests, tidy_frame

FIXED_EFFECTS = ("sub_experiment", "wfh")


@dataclass
class StackedResult(Result):
    event_study: EventStudyResult
    static_att: float
    static_se: float
    sub_experiments: pd.DataFrame  # cohort, treated_units, control_units, control_weight
    window: tuple[int, int]
    notes: list[str] = field(default_factory=list)
    fixed_effects: str = "sub_experiment"
    clusters: int = 0  # G, the number of clusters of the stacked regression

    title = "Stacked DID (Wing-Freedman-Hollingsworth weights)"

    def tidy(self) -> pd.DataFrame:
        """The event-study rows, then the static (TWFE-form) effect (``kind`` = static)."""
        es = self.event_study.tidy()
        es = es[es["kind"] == "event_time"]
        static = fill_normal_tests(tidy_frame([{"term": "static", "estimate": self.static_att, "se": self.static_se,
                                                "ci_low": self.static_att - 1.959963984540054 * self.static_se,
                                                "ci_high": self.static_att + 1.959963984540054 * self.static_se,
                                                "kind": "static"}]))
        return pd.concat([es, static], ignore_index=True)

    def to_dict(self) -> dict:
        """``{"event_study": [...], "stacked": {...}}``."""
        from pilotdid.results.schema import clean_json

        return {"event_study": self.event_study.to_dict()["event_study"],
                "stacked": clean_json({"window": list(self.window), "static_att": self.static_att,
                                       "static_se": self.static_se,
                                       "sub_experiments": self.sub_experiments.to_dict("records")})}

    @property
    def conventions(self) -> dict:
        return {"window": list(self.window), "weights": "Wing-Freedman-Hollingsworth", "fixed_effects": self.fixed_effects,
                "clusters": self.clusters, "se_method": self.event_study.se_method}

    def plot(self, ax=None, **kwargs):
        return self.event_study.plot(ax=ax, **kwargs)


def build_stack(df: pd.DataFrame, *, unit: str, time: str, first_treat: str, window: tuple[int, int]):
    """The stacked data (rows of each sub-experiment) with ``_sub``, ``_event``, ``_treated`` and ``_weight``."""
    lo, hi = window
    g = df[first_treat].fillna(0).to_numpy(float)
    t = df[time].to_numpy(float)
    t_min, t_max = t.min(), t.max()
    cohorts = np.unique(g[g > 0])
    kept = [a for a in cohorts if a + lo >= t_min and a + hi <= t_max]
    left_out = [a for a in cohorts if a not in kept]
    pieces, info = [], []
    for a in kept:
        in_window = (t >= a + lo) & (t <= a + hi)
        treated = g == a
        clean = (g == 0) | (g > a + hi)
        rows = in_window & (treated | clean)
        piece = df.loc[rows].copy()
        piece["_sub"] = int(a)
        piece["_event"] = (t[rows] - a).astype(int)
        piece["_treated"] = treated[rows].astype(float)
        pieces.append(piece)
        info.append({"cohort": int(a), "treated_units": int(piece.loc[piece["_treated"] == 1, unit].nunique()),
                     "control_units": int(piece.loc[piece["_treated"] == 0, unit].nunique())})
    if not pieces:
        raise PilotdidInputError(f"no cohort has the whole event window {list(window)} inside the panel",
                                 where="staggered.stacked", fix="use a narrower stacked_window")
    info = pd.DataFrame(info)
    info = info[info.control_units > 0]
    if info.empty:
        raise PilotdidInputError("no sub-experiment has a clean control unit", where="staggered.stacked",
                                 fix="a narrower window or a panel with never-treated units")
    stack = pd.concat([p for p in pieces if int(p["_sub"].iloc[0]) in set(info.cohort)], ignore_index=True)
    n_d, n_c = info.treated_units.sum(), info.control_units.sum()
    info["control_weight"] = (info.treated_units / n_d) / (info.control_units / n_c)
    q = stack["_sub"].map(info.set_index("cohort")["control_weight"])
    stack["_weight"] = np.where(stack["_treated"] == 1, 1.0, q)
    return stack, info, [int(a) for a in left_out]


def stacked_did(panel: pd.DataFrame, *, outcome: str | list[str], unit: str, time: str, first_treat: str,
                window: tuple[int, int] = (-3, 2), covariates: list[str] | None = None,
                cluster: str | None = None, alpha: float = 0.05, weights: str | None = None,
                fixed_effects: str = "sub_experiment") -> StackedResult | list[StackedResult]:
    """Stacked DID with WFH weights: event study (reference -1) and the TWFE-form post effect.

    ``outcome``: a column, or a list of columns: then one result per column (a list), all from one stack and one
    design (see :func:`pilotdid.estimation.fixest.refit_outcomes`)."""
    from pilotdid.estimation import fixest as _fx
    from pilotdid.estimation.fixest import formula_names, pf

    lo, hi = window
    if not (lo < -1 and hi >= 0):
        raise PilotdidInputError(f"stacked window {list(window)}", where="staggered.stacked",
                                 fix="a window [lo, hi] with lo <= -2 and hi >= 0, e.g. [-3, 2]")
    if fixed_effects not in FIXED_EFFECTS:
        raise PilotdidInputError(f"stacked fixed_effects = {fixed_effects!r}", where="staggered.stacked",
                                 fix=f"one of {list(FIXED_EFFECTS)}")
    covariates = list(covariates or [])
    outcome_given, outcomes = outcome, outcome_list(outcome)
    options = dict(unit=unit, time=time, first_treat=first_treat, window=window, covariates=covariates,
                   cluster=cluster, alpha=alpha, weights=weights, fixed_effects=fixed_effects)
    if not isinstance(outcome, str):
        grouped = fit_outcome_groups(stacked_did, panel, outcomes, **options)
        if grouped is not None:
            return grouped
    outcome = outcomes[0]
    df, notes = long_sample(panel, outcome=outcomes, unit=unit, time=time, first_treat=first_treat,
                            covariates=covariates, cluster=cluster, where="staggered.stacked", weights=weights)
    stack, info, left_out = build_stack(df, unit=unit, time=time, first_treat=first_treat, window=window)
    if weights:  # analytic weights multiply the WFH weights (which stay based on unit counts)
        stack["_weight"] = stack["_weight"] * stack[weights].to_numpy(float)
        notes.append(msg("template.note.stacked_weights", "en", w=weights))
    if left_out:
        notes.append(f"Stacked DID: cohort(s) {', '.join(map(str, left_out))} left out (event window "
                     f"[{lo}, {hi}] not inside the panel).")
    stack["_unit_sub"] = stack[unit].astype(str) + "|" + stack["_sub"].astype(str)
    stack["_event_sub"] = stack["_event"].astype(str) + "|" + stack["_sub"].astype(str)
    stack["_post"] = stack["_treated"] * (stack["_event"] >= 0)
    cl = cluster or unit
    stack, n = formula_names(stack, [*outcomes, cl, *covariates])  # e.g. a column called "class"
    cov = "".join(f" + {n[c]}" for c in covariates)
    fe = "_unit_sub + _event_sub" if fixed_effects == "sub_experiment" else "_treated + _event"
    es_formula = f"{n[outcome]} ~ i(_event, _treated, ref=-1){cov} | {fe}"
    static_formula = f"{n[outcome]} ~ _post{cov} | {fe}"
    # pyfixest's own estimation on model matrices built here (feols_arrays: the same bits as pf.feols, without
    # its formula parsing, which is most of the time on a small stack); pf.feols where feols_arrays declines
    fe_columns = fe.split(" + ")
    columns = {c: stack[c].to_numpy() for c in dict.fromkeys([n[outcome], *fe_columns, n[cl], "_weight"])}
    covariate_x = [stack[n[c]].to_numpy(float) for c in covariates]
    events = np.sort(stack["_event"].unique())
    events = events[events != -1]
    event_x = [((stack["_event"].to_numpy() == k) * stack["_treated"].to_numpy(float)).astype(float) for k in events]
    event_names = [f"_event::{k}:_treated" for k in events]
    cov_names = [n[c] for c in covariates]

    def fit(formula, x_columns, x_names):
        """[(coefficients, covariance)] of each outcome (the first by pyfixest, the others from its design), names;
        None where an outcome needs its own fit."""
        x = np.column_stack(x_columns).astype(np.float64)
        with pyfixest_quiet():
            result = _fx.feols_arrays(formula, columns, x=x, x_names=x_names, vcov={"CRV1": n[cl]},
                                      weights="_weight")
            more = None if len(outcomes) == 1 else result and _fx.refit_outcomes(
                result, stack[[n[o] for o in outcomes[1:]]].to_numpy(float))
            if result is None:
                result = pf.feols(formula, data=stack, weights="_weight", vcov={"CRV1": n[cl]})
        if len(outcomes) > 1 and more is None:
            return None, None
        # the estimates and SEs pyfixest's tidy() reports: _beta_hat and sqrt(diag(_vcov))
        return [(_fx.coefficients(result), _fx.vcov_matrix(result))] + (more or []), _fx.coef_names(result)

    es_fits, es_names = fit(es_formula, event_x + covariate_x, event_names + cov_names)
    static_fits, static_names = fit(static_formula, [stack["_post"].to_numpy(float)] + covariate_x,
                                    ["_post"] + cov_names)
    if es_fits is None or static_fits is None:  # a fit feols_arrays declined: each outcome on its own
        return [stacked_did(panel, outcome=o, **options) for o in outcomes]
    rows = [k for k, name in enumerate(es_names) if name.startswith("_event::")]
    rel = np.array([int(float(es_names[k].split("::")[1].split(":")[0])) for k in rows])
    order = np.argsort(rel)
    rows = [rows[i] for i in order]
    z = stats.norm.ppf(1 - alpha / 2)
    post_in_v = rel[order] >= 0
    a = post_in_v / post_in_v.sum()
    at_post = static_names.index("_post")
    fe_text = ("unit x sub-experiment and event time x sub-experiment FE" if fixed_effects == "sub_experiment"
               else "treated-group and event-time FE (WFH's regression)")
    se_method = f"CRV1 clustered by {cl} (pyfixest), WFH weights; {fe_text}"
    # one treated cluster: the CRV1 variance of a treated-minus-control contrast rests on that cluster's residuals
    # alone and is not defined in any useful sense (MacKinnon & Webb 2018), so no SE is reported rather than a
    # spuriously small one (CBEC's 2015 cohort is Hangzhou alone)
    treated_clusters = int(stack.loc[stack["_treated"] == 1, n[cl]].nunique())
    if treated_clusters < 2:
        notes.append(f"Stacked DID: the treated units of the stack lie in {treated_clusters} cluster of {cl}; a "
                     "clustered SE needs at least 2, so none is reported.")
    results = []
    for (es_coef, es_vcov), (static_coef, static_vcov) in zip(es_fits, static_fits):
        if treated_clusters < 2:
            es_vcov, static_vcov = np.full_like(es_vcov, np.nan), np.full_like(static_vcov, np.nan)
        coef = es_coef[rows]
        se = np.sqrt(np.diagonal(es_vcov))[rows]
        # Fortran order, as a DataFrame's .loc[...].to_numpy() returned it: the BLAS product below rounds by layout
        V = np.asfortranarray(es_vcov[np.ix_(rows, rows)])
        own_notes = notes if len(outcomes) == 1 else list(notes)
        table = pd.DataFrame({"rel_time": rel[order], "coef": coef, "se": se, "ci_low": coef - z * se,
                              "ci_high": coef + z * se})
        ref = pd.DataFrame({"rel_time": [-1], "coef": [0.0], "se": [np.nan], "ci_low": [np.nan], "ci_high": [np.nan]})
        table = pd.concat([table, ref]).sort_values("rel_time").reset_index(drop=True)
        # overall: the trimmed aggregate ATT averaged over the window's post periods (equal weights per event time)
        post = (table.rel_time >= 0).to_numpy()
        att = float(table.loc[post, "coef"].mean())
        att_se = float(np.sqrt(a @ V @ a))
        es_res = EventStudyResult(estimator="stacked", table=table, att=att, se=att_se, ci_low=att - z * att_se,
                                  ci_high=att + z * att_se, vcov=V, reference=-1, se_method=se_method,
                                  notes=own_notes)
        results.append(StackedResult(event_study=es_res, static_att=float(static_coef[at_post]),
                                     static_se=float(np.sqrt(np.diagonal(static_vcov))[at_post]),
                                     sub_experiments=info, window=(lo, hi), notes=own_notes,
                                     fixed_effects=fixed_effects, clusters=int(stack[n[cl]].nunique())))
    return results[0] if isinstance(outcome_given, str) else results
