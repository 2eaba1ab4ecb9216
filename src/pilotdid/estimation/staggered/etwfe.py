"""Extended two-way fixed effects (Wooldridge 2021), as R ``etwfe`` (McDermott) fits and aggregates it.

One pooled OLS regression (pyfixest) with a dummy for every treated cohort x period cell, so each cell's
effect is its own coefficient and no treated observation serves as a control:

    y ~ sum_c D_c + sum_c D_c * (x - xbar_cohort) + x + cohort * x + period * x  |  cohort + period

- ``control_group = "notyet"`` (etwfe's default): cells t >= g only, so not-yet-treated and never-treated
  observations are the controls (equivalent to the imputation estimator); ``"never"``: every cell but
  t = g - 1 (the reference), so only never-treated units are controls and pre-period cells are placebos.
- Covariates enter as etwfe's ``fe = "feo"`` default: their level, their interactions with the cohort and the
  period dummies, and (demeaned within cohort) interacted with every treatment cell.
- Fixed effects: cohort and period (etwfe's default, ``unit_fe = False``), or unit and period.
- ``weights``: analytic weights -- weighted least squares, covariates demeaned with weighted cohort means, and
  the aggregates weighted averages over the treated observations.
- Aggregates (etwfe's ``emfx``): the cell effects averaged over the treated observations of each aggregate
  (``simple``: all treated observations with t >= g; ``group``: by cohort; ``calendar``: by period; ``event``:
  by t - g), each observation's effect evaluated at its own covariates. The aggregates are linear in the
  coefficients, so their delta-method SEs are exact: sqrt(a' V a) with V the cluster-robust (CRV1, fixest's
  small-sample correction) covariance, clustered by unit unless a cluster is given; normal 95% CIs, as emfx.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.staggered.panel import fit_outcome_groups, long_sample, outcome_list, pyfixest_quiet
from pilotdid.estimation.event_study_result import EventStudyResult
from pilotdid.results.protocol import Result, fill_normal_tests, tidy_frame

CONTROL_GROUPS = ("notyet", "never")
AGGREGATIONS = ("simple", "group", "calendar", "event")


@dataclass
class EtwfeResult(Result):
    """Cell effects, the four emfx aggregations and the event study."""

    cells: pd.DataFrame  # cohort, time, coef, se
    aggregates: dict[str, pd.DataFrame]  # type -> (key, att, se, ci_low, ci_high)
    control_group: str
    se_method: str
    n_obs: int
    notes: list[str] = field(default_factory=list)

    title = "Extended TWFE (Wooldridge)"

    def tidy(self) -> pd.DataFrame:
        """Every aggregation's rows (``kind`` = simple/group/calendar/event), then the cohort-year cells (``kind`` = cell)."""
        rows = [{"term": f"{kind}_{r['key']}" if "key" in r else kind, "estimate": r["att"], "se": r["se"],
                 "ci_low": r.get("ci_low"), "ci_high": r.get("ci_high"), "kind": kind}
                for kind, frame in self.aggregates.items() for r in frame.to_dict("records")]
        rows += [{"term": f"g{int(r['cohort'])}_t{int(r['time'])}", "estimate": r["coef"], "se": r["se"], "kind": "cell"}
                 for r in self.cells.to_dict("records")]
        return fill_normal_tests(tidy_frame(rows))

    def to_dict(self) -> dict:
        """``{"event_study": [...], "aggregates": [...], "etwfe": {...}}`` as the staggered analysis writes them."""
        from pilotdid.results.schema import clean_json

        out = self.event_study().to_dict()
        out["etwfe"] = clean_json({"control_group": self.control_group, "cells": self.cells.to_dict("records"),
                                   **{k: v.to_dict("records") for k, v in self.aggregates.items()}})
        return out

    @property
    def conventions(self) -> dict:
        return {"control_group": self.control_group, "se_method": self.se_method, "n_obs": self.n_obs}

    def plot(self, ax=None, **kwargs):
        """The event-time aggregation (a matplotlib Figure, never saved)."""
        return self.event_study().plot(ax=ax, **kwargs)

    def event_study(self) -> EventStudyResult:
        ev = self.aggregates["event"]
        simple = self.aggregates["simple"].iloc[0]
        table = ev.rename(columns={"key": "rel_time", "att": "coef"})[["rel_time", "coef", "se", "ci_low", "ci_high"]]
        if -1 not in set(table.rel_time):
            ref = pd.DataFrame({"rel_time": [-1], "coef": [0.0], "se": [np.nan], "ci_low": [np.nan],
                                "ci_high": [np.nan]})
            table = pd.concat([table, ref])
        table = table.sort_values("rel_time").reset_index(drop=True)
        table["rel_time"] = table["rel_time"].astype(int)
        return EventStudyResult(estimator="etwfe", table=table, att=float(simple.att), se=float(simple.se),
                                ci_low=float(simple.ci_low), ci_high=float(simple.ci_high), vcov=None,
                                reference=-1, se_method=self.se_method, notes=self.notes)


def etwfe(panel: pd.DataFrame, *, outcome: str | list[str], unit: str, time: str, first_treat: str,
          covariates: list[str] | None = None, control_group: str = "notyet", unit_fe: bool = False,
          cluster: str | None = None, alpha: float = 0.05,
          weights: str | None = None) -> EtwfeResult | list[EtwfeResult]:
    """Wooldridge's ETWFE and etwfe's ``emfx`` aggregations (see the module docstring).

    ``outcome``: a column, or a list of columns: then one result per column (a list), all from one design (see
    :func:`pilotdid.estimation.fixest.refit_outcomes`)."""
    from pilotdid.estimation import fixest as _fx
    from pilotdid.estimation.fixest import pf

    if control_group not in CONTROL_GROUPS:
        raise PilotdidInputError(f"control_group = {control_group!r}", where="etwfe",
                                 fix=f"use one of {list(CONTROL_GROUPS)}")
    covariates = list(covariates or [])
    outcome_given, outcomes = outcome, outcome_list(outcome)
    options = dict(unit=unit, time=time, first_treat=first_treat, covariates=covariates, control_group=control_group,
                   unit_fe=unit_fe, cluster=cluster, alpha=alpha, weights=weights)
    if not isinstance(outcome, str):
        grouped = fit_outcome_groups(etwfe, panel, outcomes, **options)
        if grouped is not None:
            return grouped
    outcome = outcomes[0]
    df, notes = long_sample(panel, outcome=outcomes, unit=unit, time=time, first_treat=first_treat,
                            covariates=covariates, cluster=cluster, where="staggered.etwfe", weights=weights)
    g = df[first_treat].fillna(0).to_numpy(float)
    t = df[time].to_numpy(float)
    times = np.unique(t)
    # the comparison cohort: never treated (0 or later than the panel), else the last cohort (not-yet only)
    never = (g == 0) | (g > times.max())
    if never.any():
        g = np.where(never, 0.0, g)
    elif control_group == "notyet":
        last = g.max()
        keep = t < last
        notes.append(f"no never-treated units: the last cohort ({int(last)}) is the control group; periods from "
                     f"{int(last)} on are left out ({int((~keep).sum())} rows).")
        df, g, t = df[keep], g[keep], t[keep]
        g = np.where(g == last, 0.0, g)
    else:
        raise PilotdidInputError("control_group = 'never' needs never-treated units", where="etwfe",
                                 fix="use control_group = 'notyet'")
    always = (g > 0) & (g <= times.min())
    if always.any():
        notes.append(f"{pd.unique(df.loc[always, unit]).size} unit(s) treated from the first period left out (no "
                     "untreated period).")
        df, g, t = df[~always], g[~always], t[~always]
    df = df.copy()
    treated_row = (g > 0) & ((t >= g) if control_group == "notyet" else (t != g - 1))
    cell_key = pd.MultiIndex.from_arrays([g[treated_row], t[treated_row]])
    cells = pd.DataFrame({"cohort": g[treated_row], "time": t[treated_row]}).drop_duplicates()
    cells = cells.sort_values(["cohort", "time"]).reset_index(drop=True)
    cell_id = np.full(len(df), -1)
    lookup = pd.Series(np.arange(len(cells)), index=pd.MultiIndex.from_frame(cells))
    cell_id[treated_row] = lookup.loc[cell_key].to_numpy()

    X = df[covariates].to_numpy(float) if covariates else np.empty((len(df), 0))
    obs_w = df[weights].to_numpy(float) if weights else np.ones(len(df))
    cohort_codes = pd.factorize(g, sort=True)[0]
    counts = np.bincount(cohort_codes, weights=obs_w)
    X_dm = X - np.column_stack([np.bincount(cohort_codes, weights=obs_w * X[:, j]) / counts
                                for j in range(X.shape[1])])[cohort_codes] if X.shape[1] else X
    # A cohort whose untreated rows cannot identify its own intercept and covariate slopes (e.g. one early city
    # with three pre-periods and four covariates) would get an arbitrary counterfactual from whichever columns
    # the solver drops; such a cohort shares the common slopes instead (named in the notes).
    thin = []
    if X.shape[1]:
        for gv in np.unique(g[g > 0]):
            base = (g == gv) & ~treated_row
            if np.linalg.matrix_rank(np.column_stack([np.ones(base.sum()), X[base]])) < 1 + X.shape[1]:
                thin.append(gv)
    if thin:
        notes.append("ETWFE: cohort(s) " + ", ".join(str(int(v)) for v in thin) + " have too few untreated "
                     "observations to identify cohort-specific covariate slopes; they use the common slopes.")
    columns: dict[str, np.ndarray] = {}
    n_cells = len(cells)
    for c in range(n_cells):
        columns[f"_etw_d{c}"] = (cell_id == c).astype(float)
    for j in range(X.shape[1]):
        for c in range(n_cells):
            columns[f"_etw_d{c}_x{j}"] = (cell_id == c) * X_dm[:, j]
        columns[f"_etw_x{j}"] = X[:, j]
        for gv in np.unique(g[g > 0]):
            if gv not in thin:
                columns[f"_etw_g{int(gv)}_x{j}"] = (g == gv) * X[:, j]
        for tv in times[1:]:
            columns[f"_etw_t{int(tv)}_x{j}"] = (t == tv) * X[:, j]
    design = pd.DataFrame(columns, index=df.index)
    design["_etw_y"] = df[outcome].to_numpy(float)
    design["_etw_cohort"] = g
    design["_etw_time"] = t
    design["_etw_unit"] = df[unit].to_numpy()
    cl = cluster or unit
    design["_etw_cluster"] = df[cl].to_numpy()
    design["_etw_w"] = obs_w
    fe = "_etw_unit" if unit_fe else "_etw_cohort"
    rhs = " + ".join(c for c in columns)
    import warnings

    with pyfixest_quiet(), warnings.catch_warnings():
        # cell x covariate interactions of one-observation cells duplicate the cell dummy; pyfixest drops them
        # (the cell's effect is the same either way) and says so -- counted in the notes below instead
        warnings.filterwarnings("ignore", message=r"[\s\S]*variables dropped due to multicollinearity")
        # pyfixest's own estimation on the model matrix built here (feols_arrays: the same bits as pf.feols, without
        # its formula parsing, which was most of an ETWFE fit's time); pf.feols where feols_arrays declines
        formula = f"_etw_y ~ {rhs} | {fe} + _etw_time"
        weight_kw = {"weights": "_etw_w"} if weights else {}
        x = np.column_stack([columns[c] for c in columns]).astype(np.float64) if columns else np.empty((len(design), 0))
        fit = _fx.feols_arrays(formula, {c: design[c].to_numpy() for c in ("_etw_y", fe, "_etw_time", "_etw_cluster",
                                                                          "_etw_w")},
                               x=x, x_names=list(columns), vcov={"CRV1": "_etw_cluster"}, drop_singletons=True,
                               **weight_kw)
        more = None if len(outcomes) == 1 or fit is None else _fx.refit_outcomes(
            fit, df[outcomes[1:]].to_numpy(float))
        if fit is None:
            fit = pf.feols(formula, data=design, vcov={"CRV1": "_etw_cluster"}, **weight_kw)
    if len(outcomes) > 1 and more is None:  # a fit feols_arrays declined: each outcome on its own
        return [etwfe(panel, outcome=o, **options) for o in outcomes]
    fits = [(_fx.coefficients(fit), _fx.vcov_matrix(fit))] + (more or [])
    names = _fx.coef_names(fit)
    position = {name: k for k, name in enumerate(names)}
    dropped = [c for c in columns if c not in position]
    if any(c.startswith("_etw_d") and "_x" not in c for c in dropped):
        raise PilotdidInputError("a treatment cell is collinear with the fixed effects", where="etwfe",
                                 fix="check for cohorts without untreated comparison periods")
    if dropped:
        notes.append(f"ETWFE: {len(dropped)} cell x covariate interaction(s) of cells with a single observation "
                     "duplicate the cell dummy and are dropped (the cell's effect is unchanged).")
    if any(not (c.startswith("_etw_d") and "_x" in c) for c in dropped):  # pragma: no cover - guarded by ``thin``
        raise PilotdidInputError("ETWFE covariate slopes are not identified", where="etwfe",
                                 fix="use fewer covariates or covariates = \"none\"")

    z = stats.norm.ppf(1 - alpha / 2)

    def combination(rows: np.ndarray) -> np.ndarray:
        """The coefficient weights of the average effect over treated observations ``rows`` (boolean)."""
        a = np.zeros(len(names))
        w = obs_w[rows]  # analytic weights (ones without them): a weighted average over the treated observations
        n = w.sum()
        ids = cell_id[rows]
        for c in np.unique(ids):
            in_cell = ids == c
            a[position[f"_etw_d{c}"]] += w[in_cell].sum() / n
            for j in range(X.shape[1]):
                name = f"_etw_d{c}_x{j}"
                if name in position:
                    a[position[name]] += (w[in_cell] * X_dm[rows][in_cell, j]).sum() / n
        return a

    post = treated_row & (t >= g)
    rel = t - g
    # the aggregates' weights depend on the design only: built once, applied to each outcome's estimates
    combinations = {}
    for kind, key, rows_of in (
        ("simple", np.array([0]), lambda k: post),
        ("group", np.unique(g[post]), lambda k: post & (g == k)),
        ("calendar", np.unique(t[post]), lambda k: post & (t == k)),
        ("event", np.unique(rel[treated_row]), lambda k: treated_row & (rel == k)),
    ):
        combinations[kind] = [(int(k), combination(rows_of(k))) for k in key]
    cell_positions = [position[f"_etw_d{c}"] for c in range(n_cells)]
    se_method = (f"delta method on CRV1 (fixest small-sample correction) clustered by {cl}; "
                 f"{'unit' if unit_fe else 'cohort'} and period fixed effects")
    results = []
    for beta, covariance in fits:
        # Fortran order, as the covariance DataFrame's values are: the BLAS products round by layout
        V = np.asfortranarray(covariance)
        aggregates = {}
        for kind, weights_of in combinations.items():
            out = []
            for k, a in weights_of:
                att, se = float(np.dot(a, beta)), float(np.sqrt(np.dot(np.dot(a, V), a)))
                out.append({"key": k, "att": att, "se": se, "ci_low": att - z * se, "ci_high": att + z * se})
            aggregates[kind] = pd.DataFrame(out)
        cells_out = cells.assign(coef=beta[cell_positions], se=np.sqrt(np.diag(covariance)[cell_positions]))
        results.append(EtwfeResult(cells=cells_out, aggregates=aggregates, control_group=control_group,
                                   se_method=se_method, n_obs=_fx.nobs(fit),
                                   notes=notes if len(outcomes) == 1 else list(notes)))
    return results[0] if isinstance(outcome_given, str) else results
