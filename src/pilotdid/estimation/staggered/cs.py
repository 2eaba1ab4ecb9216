"""Callaway & Sant'Anna (2021) group-time average treatment effects, written on numpy.

ATT(g, t) is a set of 2x2 comparisons: units first treated in period g against a control group,
outcome change between period t and a base period. Conventions, all as R ``did`` (2.x) does them:

- control group ``never_treated`` (cohort 0) or ``not_yet_treated`` (never treated, or first
  treated after max(t, base) + anticipation, excluding cohort g itself);
- base period ``varying`` (pre-periods compare t with t-1; post-periods compare with g-1-anticipation)
  or ``universal`` (always g-1-anticipation; the base cell is reported as ATT = 0);
- estimation by outcome regression (``reg``, Heckman-Ichimura-Todd), standardised inverse probability
  weighting (``ipw``, Abadie 2005, Hajek weights) or the doubly robust estimator of Sant'Anna & Zhao
  (2020, panel, ``drdid_panel``: logit propensity score + linear outcome model of the control
  group's change, propensity scores of controls trimmed at 0.995);
- covariates enter with an intercept and are taken at the earlier of the comparison's two periods
  (R ``did`` 2.5 ``earlier_idx <- min(t + tfac, pret)`` and csdid; ``covariate_period = "earlier"``): the
  base period for every cell except universal-base pre-period cells (t < g-1), which condition on the
  covariates at t. ``covariate_period = "base"`` conditions every cell of a cohort on its base period
  g-1 (one conditioning set across the cohort's whole event study; pilotdid's convention before issue 17); the two
  agree for time-invariant covariates and for ``base_period = "varying"``;
- influence functions are rescaled to the full sample of n units (R: ``n / n_subsample``); analytic
  SE = sqrt(sum of squared influence / n^2), summed within clusters first when a cluster coarser than
  the unit is given (no small-sample correction);
- multiplier bootstrap: unit (or cluster) level weights, Rademacher (R ``did``'s choice) or Mammen,
  applied to cluster *sums* of the influence function (R ``did`` >= 2.5.0); SE from the interquartile
  range of the bootstrap draws, uniform bands from the sup-t statistic.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from pilotdid.i18n import msg
from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.staggered.panel import WidePanel, fit_outcome_groups, outcome_list, to_wide
from pilotdid.results.protocol import Result, event_time_plot, fill_normal_tests, tidy_frame
from pilotdid.results.schema import AGGREGATE_KEYS, normalise_row

ControlGroup = Literal["never_treated", "not_yet_treated"]
EstMethod = Literal["dr", "ipw", "reg"]
BasePeriod = Literal["varying", "universal"]
CONTROL_GROUPS = ("never_treated", "not_yet_treated")
EST_METHODS = ("dr", "ipw", "reg")
BASE_PERIODS = ("varying", "universal")
COVARIATE_PERIODS = ("earlier", "base")
#: What a cell whose propensity score fails the separation test gets (est_method "dr"/"ipw"):
#: "error" refuses naming the cell; "none" leaves it NA as R did and csdid do (aggregates then lack it and say
#: so); "reg" estimates it by outcome regression, the half of the doubly robust estimator that exists.
PS_FALLBACKS = ("error", "none", "reg")
BOOT_WEIGHTS = ("rademacher", "mammen")
_PS_TRIM = 0.995


@dataclass
class CSResult(Result):
    """Group-time ATTs with their influence functions (one column per (g, t) cell)."""

    att_gt: pd.DataFrame  # group, time, base, event_time, att, se, ci_low, ci_high, n_treated, n_control
    influence: np.ndarray  # (n_units, n_cells), rescaled to the full sample
    cohort: np.ndarray  # (n_units,)
    cluster: np.ndarray | None
    times: np.ndarray
    control_group: str
    est_method: str
    base_period: str
    anticipation: int
    covariates: list[str]
    alpha: float = 0.05
    notes: list[str] = field(default_factory=list)
    bootstrap: dict | None = None  # draws, weights, seed, crit (uniform) when a bootstrap was run
    covariate_period: str = "earlier"
    ps_fallback: str = "error"
    fallback_cells: list[str] = field(default_factory=list)  # "g:t" cells whose propensity score failed PS_TEST
    fallback_reasons: dict[str, int] = field(default_factory=dict)  # failed part of PS_TEST -> number of cells
    unit_weights: np.ndarray | None = None  # (n_units,) sampling weights (R did's weightsname), None = equal
    weights_name: str | None = None

    title = "Callaway-Sant'Anna ATT(g,t)"

    @property
    def n_units(self) -> int:
        return self.influence.shape[0]

    def aggregate(self, type: Literal["simple", "group", "calendar", "dynamic"] = "dynamic", **kwargs) -> CSAggregate:
        """Aggregate ATT(g,t) as R ``did::aggte`` (see :func:`aggregate` for the keywords)."""
        return aggregate(self, type, **kwargs)

    def tidy(self) -> pd.DataFrame:
        """One row per (g, t) cell, ``term`` = ``g<group>_t<time>``, ``kind`` = att_gt."""
        tab = self.att_gt.rename(columns={"att": "estimate"}).copy()
        tab.insert(0, "term", [f"g{int(g)}_t{int(t)}" for g, t in zip(tab["group"], tab["time"])])
        return fill_normal_tests(tidy_frame(tab, kind="att_gt"))

    def to_dict(self) -> dict:
        """``{"att_gt": [...]}`` (aggregations: ``result.aggregate(type).to_dict()``)."""
        return {"att_gt": [normalise_row(r, ()) for r in self.att_gt.to_dict("records")]}

    @property
    def conventions(self) -> dict:
        return {"control_group": self.control_group, "est_method": self.est_method, "base_period": self.base_period,
                "anticipation": self.anticipation, "covariates": list(self.covariates),
                "covariate_period": self.covariate_period, "ps_fallback": self.ps_fallback,
                "ps_fallback_cells": len(self.fallback_cells),
                "weights": self.weights_name or "none (equal unit weights)",
                "se": "multiplier bootstrap" if self.bootstrap else "analytic influence function"}


@dataclass
class CSAggregate(Result):
    """One aggregation of ATT(g,t): the overall number and its components (by group / period / event time)."""

    type: str
    att: float
    se: float
    ci_low: float
    ci_high: float
    detail: pd.DataFrame  # label column (group / time / event_time), att, se, ci_low, ci_high (uniform if bootstrapped)
    influence: np.ndarray  # (n_units, 1 + n_detail): overall first
    crit: float  # critical value used for the detail bands
    se_method: str
    notes: list[str] = field(default_factory=list)  # thin event times, NA cells left out
    lacking_cells: list[str] = field(default_factory=list)  # "g:t" NA cells (ps_fallback = "none") left out

    @property
    def title(self) -> str:  # type: ignore[override]
        return f"Callaway-Sant'Anna aggregation: {self.type}"

    def tidy(self) -> pd.DataFrame:
        """The overall ATT (``kind`` = aggregate), then the detail rows (``kind`` = the aggregation type)."""
        label = [c for c in self.detail.columns if c not in ("att", "se", "ci_low", "ci_high", "n_units", "n_cohorts")]
        rows = [{"term": "ATT", "estimate": self.att, "se": self.se, "ci_low": self.ci_low, "ci_high": self.ci_high,
                 "kind": "aggregate"}]
        for r in self.detail.to_dict("records"):
            key = r[label[0]] if label else ""
            rows.append({"term": f"{label[0] if label else self.type}_{key}", "estimate": r["att"], "se": r["se"],
                         "ci_low": r["ci_low"], "ci_high": r["ci_high"], "kind": self.type,
                         **({"rel_time": key} if self.type == "dynamic" else {})})
        return fill_normal_tests(tidy_frame(rows))

    def to_dict(self) -> dict:
        """``{"aggregates": [...]}``: the results.json row of this aggregation."""
        return {"aggregates": [normalise_row({"estimator": "cs", "type": self.type, "att": self.att, "se": self.se,
                                              "ci_low": self.ci_low, "ci_high": self.ci_high,
                                              "se_method": self.se_method}, AGGREGATE_KEYS)]}

    @property
    def conventions(self) -> dict:
        return {"aggregation": self.type, "se_method": self.se_method, "detail_critical_value": self.crit}

    def plot(self, ax=None, **kwargs):
        """Dynamic aggregations as an event-study figure; others as a coefficient plot."""
        if self.type == "dynamic":
            tidy = self.tidy()
            return event_time_plot(tidy[tidy["kind"] == "dynamic"], self.title, ax=ax)
        return super().plot(ax=ax, **kwargs)


# --------------------------------------------------------------------------------------------- 2x2 pieces

class PropensityScoreError(Exception):
    """The logit propensity score has no finite maximum (separation) or a singular information matrix.

    ``test`` names the part of :data:`PS_TEST` that failed (the message adds the cell's statistic)."""

    def __init__(self, message: str, test: str):
        super().__init__(message)
        self.test = test


#: Overlap and separation tests of the propensity-score logit. R ``did`` 2.5's overlap guard
#: (``overlap_check_fail``: the cell's preliminary logit gives max fitted score >= 0.999) comes first; the
#: others catch what makes the MLE not exist (under (quasi-)complete separation some coefficients run off to
#: infinity and fitted probabilities to exactly 0 or 1) or the fit numerically unusable.
PS_MAX_SCORE = 0.999  # R did's overlap threshold on the largest fitted propensity score
PS_MAX_INDEX = 35.0  # |x'b| > 35: a fitted probability within 1e-15 of 0 or 1 (1 / (1 + e^35) = 6.3e-16)
PS_MAX_COND = 1e12  # condition number of the scale-free information matrix: no overlap left to identify b
PS_MAX_ITER = 50
PS_TEST = (f"propensity-score overlap test (as R did 2.5: every fitted score of the cell's logit < {PS_MAX_SCORE:g}) "
           f"and separation checks (Newton-Raphson converges within {PS_MAX_ITER} iterations, every |x'b| <= "
           f"{PS_MAX_INDEX:g}, scaled information matrix condition number <= {PS_MAX_COND:.0e})")


def _logit(X: np.ndarray, d: np.ndarray, tol: float = 1e-10, max_iter: int = PS_MAX_ITER,
           iw: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Logit MLE by Newton-Raphson; returns (fitted probabilities, inverse Hessian scaled by n).

    ``iw``: observation weights (R ``glm(..., family = binomial, weights = i.weights)``, as DRDID).

    Raises :class:`PropensityScoreError`, naming the failed part of :data:`PS_TEST`, under
    (quasi-)separation, where the MLE does not exist.
    """
    n, k = X.shape
    iw = np.ones(n) if iw is None else iw
    beta = np.zeros(k)
    converged = False
    with np.errstate(over="ignore"):
        for _ in range(max_iter):
            p = 1.0 / (1.0 + np.exp(-(X @ beta)))
            w = iw * p * (1 - p)
            hess = (X * w[:, None]).T @ X
            try:
                step = np.linalg.solve(hess, X.T @ (iw * (d - p)))
            except np.linalg.LinAlgError as err:
                raise PropensityScoreError("the logit information matrix is singular", "singular information") from err
            beta += step
            if not np.all(np.isfinite(beta)):
                raise PropensityScoreError("the logit coefficients diverge to infinity", "diverging coefficients")
            if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
                converged = True
                break
        p = 1.0 / (1.0 + np.exp(-(X @ beta)))
    w = iw * p * (1 - p)
    info = (X * w[:, None]).T @ X / n
    scale = np.sqrt(np.maximum(np.diag(info), 1e-300))
    # separation shows as a diverging linear index (fitted probabilities at 0 or 1); the information
    # matrix is judged after scaling, so covariates in large units do not look singular
    max_index = float(np.max(np.abs(X @ beta)))
    if float(p.max()) >= PS_MAX_SCORE:
        raise PropensityScoreError(f"largest fitted propensity score {p.max():.6f} >= {PS_MAX_SCORE:g}: some treated "
                                   "units have no comparable controls (R did's overlap condition)",
                                   f"score >= {PS_MAX_SCORE:g}")
    if max_index > PS_MAX_INDEX:
        raise PropensityScoreError(f"max |x'b| = {max_index:.0f} > {PS_MAX_INDEX:g}: fitted propensity scores are "
                                   "0 or 1 to machine precision (the treated and control covariates separate)",
                                   f"|x'b| > {PS_MAX_INDEX:g}")
    if not converged:
        raise PropensityScoreError(f"Newton-Raphson did not converge in {max_iter} iterations (coefficients drift, "
                                   "as under quasi-separation)", "no convergence")
    cond = float(np.linalg.cond(info / np.outer(scale, scale)))
    if cond > PS_MAX_COND:
        raise PropensityScoreError(f"scaled information matrix condition number {cond:.1e} > {PS_MAX_COND:.0e} "
                                   "(no overlap left to identify the coefficients)", f"condition number > {PS_MAX_COND:.0e}")
    hess_inv_n = np.linalg.inv(info)
    return p, hess_inv_n


class CollinearCovariatesError(Exception):
    """The outcome regression's covariates are collinear among a cell's control units: its coefficients have no
    unique value (R DRDID stops with "Outcome regression model coefficients have NA components")."""


#: Collinearity tolerance of the outcome regression: smallest / largest singular value of the control rows'
#: design with unit-length columns (R's lm QR tolerance is 1e-7 too).
OR_RANK_TOL = 1e-7


def _check_outcome_regression_rank(X: np.ndarray, rows: np.ndarray) -> None:
    design = X[rows]
    norms = np.linalg.norm(design, axis=0)
    if (norms == 0).any():
        raise CollinearCovariatesError
    sv = np.linalg.svd(design / norms, compute_uv=False)
    if sv[-1] <= OR_RANK_TOL * sv[0]:
        raise CollinearCovariatesError


def _twobytwo(dy: np.ndarray, d: np.ndarray, X: np.ndarray, method: str,
              iw: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """One panel 2x2 with covariates: (ATT, influence function on the subsample), as DRDID's panel estimators.

    ``iw``: sampling weights, normalised to mean 1 on the subsample as DRDID does; they enter the outcome
    regression (WLS), the propensity-score logit and the treated/control means."""
    return _TwoByTwo(d, X, method, iw).estimate(dy)


class _TwoByTwo:
    """A 2x2's design: everything of :func:`_twobytwo` but the outcome change (the outcome regression's normal
    equations, the propensity score and its influence), so that several outcomes share one logit."""

    def __init__(self, d: np.ndarray, X: np.ndarray, method: str, iw: np.ndarray | None = None):
        n = len(d)
        self.n, self.d, self.X, self.method = n, d, X, method
        self.iw = iw = np.ones(n) if iw is None else iw / iw.mean()
        self.c = c = 1.0 - d
        if method in ("dr", "reg"):
            self.wc = wc = iw * c
            _check_outcome_regression_rank(X, wc > 0)
            self.xtx = xtx = (X * wc[:, None]).T @ X
            self.xpx_inv = np.linalg.inv(xtx / n)
        if method in ("dr", "ipw"):
            ps, hess_inv_n = _logit(X, d, iw=iw)
            self.ps = ps = np.minimum(ps, 1 - 1e-16)
            self.lin_ps = ((iw * (d - ps))[:, None] * X) @ hess_inv_n

    def estimate(self, dy: np.ndarray) -> tuple[float, np.ndarray]:
        """(ATT, influence function on the subsample) for the outcome change ``dy``."""
        X, method, iw, c, d = self.X, self.method, self.iw, self.c, self.d
        n = self.n
        if method in ("dr", "reg"):
            wc = self.wc
            beta = np.linalg.lstsq(self.xtx, (X * wc[:, None]).T @ dy, rcond=None)[0]
            out_delta = X @ beta
            lin_ols = (wc * (dy - out_delta))[:, None] * X @ self.xpx_inv
        if method in ("dr", "ipw"):
            ps, lin_ps = self.ps, self.lin_ps
        if method == "reg":
            w_t = iw * d
            att_t = w_t * dy
            att_c = w_t * out_delta
            eta_t = att_t.mean() / w_t.mean()
            eta_c = att_c.mean() / w_t.mean()
            inf_t = (att_t - w_t * eta_t) / w_t.mean()
            m1 = (w_t[:, None] * X).mean(axis=0)
            inf_c = (att_c - w_t * eta_c + lin_ols @ m1) / w_t.mean()
            return eta_t - eta_c, inf_t - inf_c
        if method == "ipw":
            w_t = iw * d
            w_c = iw * ps * c / (1 - ps)
            att_t = w_t * dy
            att_c = w_c * dy
            eta_t = att_t.mean() / w_t.mean()
            eta_c = att_c.mean() / w_c.mean()
            inf_t = (att_t - w_t * eta_t) / w_t.mean()
            m2 = ((w_c * (dy - eta_c))[:, None] * X).mean(axis=0)
            inf_c = (att_c - w_c * eta_c + lin_ps @ m2) / w_c.mean()
            return eta_t - eta_c, inf_t - inf_c
        # doubly robust (Sant'Anna & Zhao 2020, traditional panel version with trimming)
        trim = np.ones(n)
        trim[c == 1] = (ps[c == 1] < _PS_TRIM).astype(float)
        w_t = trim * iw * d
        w_c = trim * iw * ps * c / (1 - ps)
        resid = dy - out_delta
        att_t = w_t * resid
        att_c = w_c * resid
        eta_t = att_t.mean() / w_t.mean()
        eta_c = att_c.mean() / w_c.mean()
        m1 = (w_t[:, None] * X).mean(axis=0)
        inf_t = (att_t - w_t * eta_t - lin_ols @ m1) / w_t.mean()
        m2 = ((w_c * (resid - eta_c))[:, None] * X).mean(axis=0)
        m3 = (w_c[:, None] * X).mean(axis=0)
        inf_c = (att_c - w_c * eta_c + lin_ps @ m2 - lin_ols @ m3) / w_c.mean()
        return eta_t - eta_c, inf_t - inf_c


# ----------------------------------------------------------------------------------------------- cells

def _cells(wide: WidePanel, base_period: str, anticipation: int) -> list[tuple[float, int, int]]:
    """(group, t index, base index) for every estimable cell, in R ``did``'s order (group, then time)."""
    times = wide.times
    groups = np.sort(np.unique(wide.cohort[wide.cohort > 0]))
    cells = []
    for g in groups:
        pre_idx = np.flatnonzero(times + anticipation < g)
        if len(pre_idx) == 0:
            continue
        universal_base = int(pre_idx[-1])
        t_range = range(len(times)) if base_period == "universal" else range(1, len(times))
        for j in t_range:
            if base_period == "universal":
                base = universal_base
            else:
                base = universal_base if times[j] >= g - anticipation else j - 1
            cells.append((float(g), j, base))
    return cells


def att_gt(
    panel: pd.DataFrame,
    *,
    outcome: str | list[str],
    unit: str,
    time: str,
    first_treat: str,
    covariates: list[str] | None = None,
    control_group: ControlGroup = "never_treated",
    est_method: EstMethod = "dr",
    base_period: BasePeriod = "varying",
    anticipation: int = 0,
    cluster: str | None = None,
    alpha: float = 0.05,
    ps_fallback: Literal["error", "none", "reg"] = "error",
    covariate_period: Literal["earlier", "base"] = "earlier",
    weights: str | None = None,
) -> CSResult | list[CSResult]:
    """Callaway-Sant'Anna ATT(g,t) on a balanced panel (analytic SEs; see :func:`bootstrap` for bands).

    ``outcome``: a column, or a list of columns: then one result per column (a list), the cells' propensity scores
    and outcome-regression designs shared (only the outcome changes are per column).

    ``first_treat`` holds the first treated period (0 = never treated). Without covariates all three
    estimation methods reduce to the difference of mean changes and are computed for every cell at
    once; with covariates each cell is one logit/OLS 2x2. When a cell's propensity score cannot be
    estimated (it fails :data:`PS_TEST`; typically a cohort of a handful of units), ``ps_fallback``
    decides: ``"error"`` (default) refuses with the cell named, ``"none"`` leaves the cell NA (R ``did``,
    csdid), ``"reg"`` estimates it by outcome regression; either way the cells are listed in
    ``fallback_cells`` and ``notes``.

    ``weights`` names a column of time-invariant sampling weights (R ``did``'s ``weightsname``): they enter
    the propensity score, the outcome regression, the treated and control means of every cell and the
    cohort shares of the aggregations.
    """
    where = "staggered.cs"
    if control_group not in CONTROL_GROUPS:
        raise PilotdidInputError(f"control_group {control_group!r} unknown", where=where, fix=f"use one of {CONTROL_GROUPS}")
    if est_method not in EST_METHODS:
        raise PilotdidInputError(f"est_method {est_method!r} unknown", where=where, fix=f"use one of {EST_METHODS}")
    if base_period not in BASE_PERIODS:
        raise PilotdidInputError(f"base_period {base_period!r} unknown", where=where, fix=f"use one of {BASE_PERIODS}")
    if covariate_period not in COVARIATE_PERIODS:
        raise PilotdidInputError(f"covariate_period {covariate_period!r} unknown", where=where,
                                 fix=f"use one of {COVARIATE_PERIODS}")
    if ps_fallback not in PS_FALLBACKS:
        raise PilotdidInputError(f"ps_fallback {ps_fallback!r} unknown", where=where, fix=f"use one of {PS_FALLBACKS}")
    covariates = list(covariates or [])
    outcome_given, outcomes = outcome, outcome_list(outcome)
    if not isinstance(outcome, str):
        grouped = fit_outcome_groups(
            att_gt, panel, outcomes, covariates, unit=unit, time=time, first_treat=first_treat,
            control_group=control_group, est_method=est_method, base_period=base_period, anticipation=anticipation,
            cluster=cluster, alpha=alpha, ps_fallback=ps_fallback, covariate_period=covariate_period, weights=weights)
        if grouped is not None:
            return grouped
    outcome = outcomes[0]
    extra = covariates + ([weights] if weights and weights not in covariates else [])
    wide = to_wide(panel, outcome=outcome, unit=unit, time=time, first_treat=first_treat,
                   covariates=extra + [o for o in outcomes[1:] if o not in extra], cluster=cluster, where=where)
    cohort, times, y = wide.cohort, wide.times, wide.outcome
    ys = [y] + [wide.covariates[o] for o in outcomes[1:]]
    n = len(cohort)
    unit_w = None if weights is None else _unit_weights(wide.covariates[weights], wide.units, weights, where)
    w_all = np.ones(n) if unit_w is None else unit_w
    cells = _cells(wide, base_period, anticipation)
    if not cells:
        raise PilotdidInputError("no treated cohort has a pre-treatment period", where=where,
                                 fix="check the first-treatment column (0 = never treated)")
    groups = np.array([c[0] for c in cells])
    t_idx = np.array([c[1] for c in cells])
    b_idx = np.array([c[2] for c in cells])
    treated = cohort[:, None] == groups[None, :]
    if control_group == "never_treated":
        control = np.repeat((cohort == 0)[:, None], len(cells), axis=1)
    else:
        horizon = times[np.maximum(t_idx, b_idx)] + anticipation
        control = (cohort[:, None] == 0) | ((cohort[:, None] > horizon[None, :]) & ~treated)
    n_t = treated.sum(axis=0)
    n_c = control.sum(axis=0)
    ok = (n_t > 0) & (n_c > 0)
    is_base = t_idx == b_idx
    if not (ok & ~is_base).any():
        raise PilotdidInputError(
            f"no ATT(g,t) cell has both treated units and {control_group.replace('_', '-')} control units",
            where=where, fix='include never-treated units, or use control_group = "not_yet_treated"')
    dys = [values[:, t_idx] - values[:, b_idx] for values in ys]
    fallback_cells: list[str] = []  # "g:t" labels of cells whose propensity score failed PS_TEST
    fallback_reasons: dict[str, int] = {}  # failed part of PS_TEST -> number of cells
    x_idx = np.minimum(t_idx, b_idx) if covariate_period == "earlier" else b_idx
    atts = [np.full(len(cells), np.nan) for _ in ys]
    infs = [np.zeros((n, len(cells))) for _ in ys]
    notes = list(wide.notes)
    if not covariates:
        wt = treated * w_all[:, None]  # the cells' weights are the design's: shared by every outcome
        wc = control * w_all[:, None]
        sum_t, sum_c = wt.sum(axis=0), wc.sum(axis=0)
        for j, dy in enumerate(dys):
            with np.errstate(invalid="ignore", divide="ignore"):
                mean_t = (dy * wt).sum(axis=0) / sum_t
                mean_c = (dy * wc).sum(axis=0) / sum_c
                atts[j] = mean_t - mean_c
                inf = (wt * (dy - mean_t) * (n / sum_t) - wc * (dy - mean_c) * (n / sum_c))
            infs[j] = np.where(ok[None, :], inf, 0.0)
    else:
        for k in np.flatnonzero(ok & ~is_base):
            sub = treated[:, k] | control[:, k]
            X = np.column_stack([np.ones(sub.sum())] + [wide.covariates[c][sub, x_idx[k]] for c in covariates])
            try:
                try:
                    design = _TwoByTwo(treated[sub, k].astype(float), X, est_method, iw=w_all[sub])
                except PropensityScoreError as err:
                    cell = f"g={groups[k]:g}, t={times[t_idx[k]]}"
                    if ps_fallback == "error":
                        raise PilotdidInputError(
                            f"propensity score for ATT({cell}) cannot be estimated ({err}; {int(n_t[k])} treated units, "
                            f"{len(covariates)} covariates)", where=where,
                            fix='use est_method = "reg", fewer covariates, or ps_fallback = "reg" or "none"') from None
                    fallback_cells.append(f"{groups[k]:g}:{times[t_idx[k]]}")
                    fallback_reasons[err.test] = fallback_reasons.get(err.test, 0) + 1
                    if ps_fallback == "none":
                        continue
                    design = _TwoByTwo(treated[sub, k].astype(float), X, "reg", iw=w_all[sub])
            except CollinearCovariatesError:
                raise PilotdidInputError(
                    f"covariates {', '.join(covariates)} are collinear among the {int(n_c[k])} control units of "
                    f"ATT(g={groups[k]:g}, t={times[t_idx[k]]}) (period {times[x_idx[k]]} values): the outcome "
                    "regression has no unique solution", where=where,
                    fix="drop a covariate that is a combination of the others (or constant among the controls)") from None
            scale = n / sub.sum()
            for j, dy in enumerate(dys):  # one propensity score and one outcome-regression design for every outcome
                a, f = design.estimate(dy[sub, k])
                atts[j][k] = a
                infs[j][sub, k] = f * scale
    if (~ok).any():
        notes.append(f"{int((~ok).sum())} ATT(g,t) cell(s) have no {control_group.replace('_', '-')} control units "
                     "and are not estimated.")
    keep = ok
    z = stats.norm.ppf(1 - alpha / 2)
    results = []
    for att, inf in zip(atts, infs):
        att[is_base] = 0.0
        inf[:, is_base] = 0.0
        se = _analytic_se(inf, wide.cluster)
        se[is_base | np.isnan(att)] = np.nan
        table = pd.DataFrame({
            "group": groups, "time": times[t_idx], "base": times[b_idx], "event_time": times[t_idx] - groups,
            "att": att, "se": se, "ci_low": att - z * se, "ci_high": att + z * se,
            "n_treated": n_t, "n_control": n_c,
        })[keep].reset_index(drop=True)
        for col in ("group", "time", "base", "event_time"):
            if np.all(np.mod(table[col], 1) == 0):
                table[col] = table[col].astype(int)
        out = CSResult(att_gt=table, influence=inf[:, keep], cohort=cohort, cluster=wide.cluster, times=times,
                       control_group=control_group, est_method=est_method, base_period=base_period,
                       anticipation=anticipation, covariates=covariates, alpha=alpha,
                       notes=notes if len(ys) == 1 else list(notes), covariate_period=covariate_period,
                       ps_fallback=ps_fallback, fallback_cells=list(fallback_cells),
                       fallback_reasons=dict(fallback_reasons), unit_weights=unit_w, weights_name=weights)
        if fallback_cells:
            out.notes.append(fallback_note(out))
        results.append(out)
    return results[0] if isinstance(outcome_given, str) else results


def _unit_weights(values: np.ndarray, units: np.ndarray, name: str, where: str) -> np.ndarray:
    """One sampling weight per unit (R ``did`` requires them constant within a unit), checked non-negative."""
    varying = np.flatnonzero(np.ptp(values, axis=1) > 1e-12 * np.maximum(1.0, np.abs(values).max(axis=1)))
    if len(varying):
        raise PilotdidInputError(f"weights column {name!r} varies over time within unit {units[varying[0]]!r} "
                                 f"({len(varying)} unit(s))", where=where,
                                 fix="Callaway-Sant'Anna takes one sampling weight per unit (as R did): use a "
                                     "time-invariant weight, e.g. the first year's")
    w = values[:, 0].astype(float)
    bad = np.flatnonzero((w < 0) | ~np.isfinite(w))
    if len(bad) or w.sum() <= 0:
        raise PilotdidInputError(f"weights column {name!r} has a negative value or sums to 0"
                                 + (f" (unit {units[bad[0]]!r})" if len(bad) else ""),
                                 where=where, fix="use non-negative weights with a positive sum")
    return w


def fallback_note(result: CSResult) -> str:
    """One sentence: which cells failed the propensity-score separation test, why, and what they got."""
    cells = result.fallback_cells
    per_cohort = pd.Series([c.split(":")[0] for c in cells]).value_counts(sort=False)
    hit = ", ".join(f"g={g}: {m}" for g, m in per_cohort.items())
    fate = ('left NA (ps_fallback = "none", as R did and csdid; aggregates average the remaining cells)'
            if result.ps_fallback == "none" else
            f'estimated by outcome regression instead of {result.est_method} (ps_fallback = "reg")')
    why = ", ".join(f"{test} in {m}" for test, m in result.fallback_reasons.items())
    return (f"{len(cells)} ATT(g,t) cell(s) ({hit}) {fate} because their propensity score fails the {PS_TEST} "
            f"(failed: {why}).")


def without_cells(result: CSResult, cells: list[str]) -> CSResult:
    """A copy of ``result`` with the ``"g:t"`` cells set to NA (ATT, SE, CI; zero influence), as
    ``ps_fallback = "none"`` leaves them: the aggregates then lack them, as R did's ``na.rm = TRUE``."""
    tab = result.att_gt.copy()
    label = tab["group"].map(lambda v: f"{v:g}") + ":" + tab["time"].map(lambda v: f"{v:g}")
    drop = label.isin(list(cells)).to_numpy()
    tab.loc[drop, ["att", "se", "ci_low", "ci_high"]] = np.nan
    influence = result.influence.copy()
    influence[:, drop] = 0.0
    out = replace(result, att_gt=tab, influence=influence, ps_fallback="none", fallback_cells=list(cells),
                  notes=[n for n in result.notes if not (result.fallback_cells and n == fallback_note(result))])
    out.notes.append(fallback_note(out))
    return out


def _cluster_sums(inf: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    if cluster is None:
        return inf
    out = np.zeros((int(cluster.max()) + 1, inf.shape[1]))
    np.add.at(out, cluster, inf)
    return out


def _analytic_se(inf: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    n = inf.shape[0]
    summed = _cluster_sums(inf, cluster)
    return np.sqrt((summed ** 2).sum(axis=0)) / n


# ----------------------------------------------------------------------------------------- bootstrap

#: Upper bound on the multiplier block held in memory at once (draws x clusters x 8 bytes): a full
#: 999 x 100,000 matrix would take 763 MB.
BLOCK_BYTES = 32 * 2**20
#: Draws are multiplied into the influence function DRAW_CHUNK at a time, always aligned at multiples of
#: DRAW_CHUNK: BLAS rounding depends on the matrix shape, so a fixed shape keeps every number independent
#: of the block size.
DRAW_CHUNK = 32


def multiplier_draws(n: int, draws: int, seed: int, weights: str = "rademacher", *, start: int = 0) -> np.ndarray:
    """(draws, n) mean-zero, unit-variance multipliers for draws start .. start+draws-1: Rademacher (+-1)
    or Mammen's two-point weights.

    Draws come in fixed chunks of :data:`DRAW_CHUNK`: chunk c (draws c*DRAW_CHUNK ..) is generated whole from its
    own stream ``default_rng([seed, c])``, so any split of the draws into blocks gives the same numbers (and a
    block never needs the whole draws x n matrix in memory).
    """
    if weights not in BOOT_WEIGHTS:
        raise PilotdidInputError(f"bootstrap weights {weights!r} unknown", where="staggered.bootstrap",
                                 fix=f"use one of {BOOT_WEIGHTS}")
    out = np.empty((draws, n))
    stop = start + draws
    row_bytes = (n + 7) // 8
    s5 = np.sqrt(5.0)
    for c in range(start // DRAW_CHUNK, (stop - 1) // DRAW_CHUNK + 1 if draws else 0):
        rng = np.random.default_rng([seed, c])
        if weights == "rademacher":
            # one random bit per weight (8x fewer random numbers than drawing floats)
            raw = np.frombuffer(rng.bytes(DRAW_CHUNK * row_bytes), dtype=np.uint8).reshape(DRAW_CHUNK, row_bytes)
            chunk = np.unpackbits(raw, axis=1)[:, :n] * 2.0 - 1.0
        else:
            chunk = np.where(rng.random((DRAW_CHUNK, n)) < (s5 + 1) / (2 * s5), -(s5 - 1) / 2, (s5 + 1) / 2)
        lo, hi = max(start, c * DRAW_CHUNK), min(stop, (c + 1) * DRAW_CHUNK)
        out[lo - start: hi - start] = chunk[lo - c * DRAW_CHUNK: hi - c * DRAW_CHUNK]
    return out


def multiplier_bootstrap(
    inf: np.ndarray, *, cluster: np.ndarray | None = None, draws: int = 999, seed: int = 12345,
    weights: str = "rademacher", alpha: float = 0.05, block_bytes: int = BLOCK_BYTES,
) -> tuple[np.ndarray, float]:
    """Bootstrap SEs and the uniform (sup-t) critical value for columns of an influence-function matrix.

    As R ``did::mboot`` since 2.5.0 (and csdid 0.4): with clusters, the influence function is *summed*
    within each cluster (Callaway & Sant'Anna 2021, Remark 10; R did before 2.5 averaged it, which
    overstates or understates the SE when cluster sizes differ); one multiplier per cluster (per unit
    without clusters). Draw = sqrt(G) * mean_c(v_c * S_c); SE = IQR/(z_.75 - z_.25) * sqrt(G) / n,
    which for G = n units is IQR/(...)/sqrt(n); crit = (1 - alpha) quantile of max_j |draw_j / sigma_j|.
    The multipliers are generated in blocks of at most ``block_bytes``; the result does not depend on it.
    """
    n = inf.shape[0]
    psi = _cluster_sums(inf, cluster)
    g = psi.shape[0]
    block = max(1, block_bytes // (8 * g * DRAW_CHUNK)) * DRAW_CHUNK
    bres = np.empty((draws, psi.shape[1]))
    for start in range(0, draws, block):
        stop = min(draws, start + block)
        v = multiplier_draws(g, stop - start, seed, weights, start=start)
        for i in range(0, stop - start, DRAW_CHUNK):
            bres[start + i: start + i + DRAW_CHUNK] = v[i: i + DRAW_CHUNK] @ psi
    bres /= np.sqrt(g)
    q75, q25 = np.quantile(bres, [0.75, 0.25], axis=0, method="inverted_cdf")
    b_sigma = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    usable = b_sigma > np.sqrt(np.finfo(float).eps) * 10
    se = np.where(usable, b_sigma * np.sqrt(g) / n, np.nan)
    if usable.any():
        t_max = np.max(np.abs(bres[:, usable] / b_sigma[usable]), axis=1)
        crit = float(np.quantile(t_max, 1 - alpha, method="inverted_cdf"))
    else:
        crit = float("nan")
    return se, crit


def bootstrap(result: CSResult, *, draws: int = 999, seed: int = 12345, weights: str = "rademacher") -> CSResult:
    """Replace the ATT(g,t) SEs by multiplier-bootstrap SEs and the CIs by uniform (simultaneous) bands."""
    se, crit = multiplier_bootstrap(result.influence, cluster=result.cluster, draws=draws, seed=seed,
                                    weights=weights, alpha=result.alpha)
    table = result.att_gt.copy()
    table["se"] = se
    table["ci_low"] = table["att"] - crit * se
    table["ci_high"] = table["att"] + crit * se
    out = CSResult(**{**result.__dict__, "att_gt": table})
    out.bootstrap = {"draws": draws, "seed": seed, "weights": weights, "crit": crit}
    return out


# ---------------------------------------------------------------------------------------- aggregation

def _cohort_shares(cohort: np.ndarray, groups: np.ndarray, unit_weights: np.ndarray | None) -> np.ndarray:
    """P(G = g) per entry of ``groups``: the (sampling-weighted, as R did's ``pg``) cohort share."""
    w = np.ones(len(cohort)) if unit_weights is None else unit_weights
    return np.array([np.mean(w * (cohort == g)) for g in groups])


def _weight_influence(cohort: np.ndarray, cell_groups: np.ndarray, keepers: np.ndarray,
                      unit_weights: np.ndarray | None = None) -> np.ndarray:
    """Influence of estimating the cohort-share weights (R ``did``'s ``wif``), (n_units, len(keepers))."""
    pg = _cohort_shares(cohort, cell_groups[keepers], unit_weights)
    w = np.ones(len(cohort)) if unit_weights is None else unit_weights
    ind = w[:, None] * (cohort[:, None] == cell_groups[keepers][None, :]) - pg[None, :]
    s = pg.sum()
    return ind / s - ind.sum(axis=1, keepdims=True) * (pg / s ** 2)[None, :]


def _weighted(result: CSResult, keepers: np.ndarray) -> tuple[float, np.ndarray]:
    tab = result.att_gt
    groups = tab["group"].to_numpy(dtype=float)
    att = tab["att"].to_numpy()
    pg = _cohort_shares(result.cohort, groups[keepers], result.unit_weights)
    w = pg / pg.sum()
    est = float(att[keepers] @ w)
    inf = (result.influence[:, keepers] @ w
           + _weight_influence(result.cohort, groups, keepers, result.unit_weights) @ att[keepers])
    return est, inf


#: An event time resting on fewer treated units than this is flagged (``aggregate(..., min_units_e=...)``).
MIN_UNITS_E = 5


def aggregate(
    result: CSResult,
    type: Literal["simple", "group", "calendar", "dynamic"] = "dynamic",
    *,
    min_e: float = -np.inf,
    max_e: float = np.inf,
    balance_e: int | None = None,
    bootstrap_draws: int = 0,
    seed: int = 12345,
    weights: str = "rademacher",
    min_units_e: int = MIN_UNITS_E,
) -> CSAggregate:
    """Aggregate ATT(g,t) as R ``did::aggte``: cohort-size weights, weight-estimation influence included.

    simple: post-treatment cells weighted by cohort size; group: mean of post cells per cohort, then
    cohort-size weighted; calendar: per period, cohort-size weighted over treated cohorts, then the
    mean over periods; dynamic: per event time e, cohort-size weighted, overall = mean over e >= 0.
    ``balance_e`` keeps only cohorts observed for e = 0..balance_e (R's ``balance_e``). ``bootstrap_draws``
    > 0 gives multiplier-bootstrap SEs and uniform bands for the detail rows; 0 gives analytic SEs and
    pointwise CIs. Every detail row carries ``n_units`` (treated units behind it) and ``n_cohorts``; a
    dynamic aggregation notes the event times resting on fewer than ``min_units_e`` units. NA cells (a
    propensity score that failed, ``ps_fallback = "none"``) are left out, as R's ``na.rm = TRUE``, and
    listed in ``lacking_cells`` and the notes.
    """
    tab = result.att_gt
    g = tab["group"].to_numpy(dtype=float)
    t = tab["time"].to_numpy(dtype=float)
    e = t - g
    att = tab["att"].to_numpy()
    valid = np.isfinite(att)
    cohort_size = {gg: int(np.sum(result.cohort == gg)) for gg in np.unique(g)}
    labels: list = []
    detail_att: list[float] = []
    detail_inf: list[np.ndarray] = []
    detail_units: list[int] = []
    detail_cohorts: list[int] = []
    notes: list[str] = []

    def add(label, k: np.ndarray, est: float, inf_col: np.ndarray) -> None:
        cohorts = np.unique(g[k])
        labels.append(label)
        detail_att.append(est)
        detail_inf.append(inf_col)
        detail_units.append(sum(cohort_size[c] for c in cohorts))
        detail_cohorts.append(len(cohorts))

    if type in ("simple", "group"):
        candidate = (g <= t) & (e <= max_e)
    elif type == "calendar":
        candidate = g <= t
    elif type == "dynamic":
        include = np.ones(len(tab), dtype=bool)
        eseq = np.unique(e)
        if balance_e is not None:
            include = (result.times.max() - g) >= balance_e
            eseq = np.unique(e[include])
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - result.times.max() + result.times.min())]
        eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
        candidate = include & np.isin(e, eseq)
    else:
        raise PilotdidInputError(f"aggregation type {type!r} unknown", where="staggered.cs.aggregate",
                                 fix="use simple, group, calendar or dynamic")
    lacking = [f"{gg:g}:{tt:g}" for gg, tt in zip(g[candidate & ~valid], t[candidate & ~valid])]
    use = candidate & valid
    if not use.any():
        raise PilotdidInputError(f"every ATT(g,t) cell the {type} aggregation needs is NA", where="staggered.cs.aggregate",
                                 fix='use ps_fallback = "reg", est_method = "reg" or fewer covariates')
    if type == "simple":
        keepers = np.flatnonzero(use)
        overall, overall_inf = _weighted(result, keepers)
    elif type == "group":
        glist = np.unique(g[use])  # a cohort with every post-period cell NA drops out (R: na.rm)
        for gg in glist:
            k = np.flatnonzero(use & (g == gg))
            add(gg, k, float(att[k].mean()), result.influence[:, k].mean(axis=1))
        pgg = _cohort_shares(result.cohort, glist, result.unit_weights)
        w = pgg / pgg.sum()
        overall = float(np.array(detail_att) @ w)
        overall_inf = (np.column_stack(detail_inf) @ w
                       + _weight_influence(result.cohort, glist, np.arange(len(glist)), result.unit_weights)
                       @ np.array(detail_att))
    elif type == "calendar":
        for tt in np.unique(t[use & (t >= g.min())]):
            k = np.flatnonzero(use & (t == tt))
            add(tt, k, *_weighted(result, k))
        overall = float(np.mean(detail_att))
        overall_inf = np.column_stack(detail_inf).mean(axis=1)
    else:
        for ee in eseq:
            k = np.flatnonzero(use & (e == ee))
            if len(k):
                add(ee, k, *_weighted(result, k))
        post = np.array(labels) >= 0
        if not post.any():
            raise PilotdidInputError("no post-treatment event times left to aggregate", where="staggered.cs.aggregate",
                                     fix="widen min_e/max_e")
        overall = float(np.array(detail_att)[post].mean())
        overall_inf = np.column_stack(detail_inf)[:, post].mean(axis=1)
        thin = [(lab, u) for lab, u in zip(labels, detail_units) if u < min_units_e]
        if thin:
            thin_post = [lab for lab, _ in thin if lab >= 0]
            notes.append(
                "Event time(s) " + ", ".join(f"e = {lab:g} ({u} treated unit{'s' if u != 1 else ''})" for lab, u in thin)
                + f" rest on fewer than {min_units_e} treated units"
                + (f"; the overall dynamic ATT, the mean over e = 0..{max(lab for lab in labels):g}, gives "
                   f"{'it' if len(thin_post) == 1 else 'them'} the same weight as the others" if thin_post else "")
                + ". balance_e (cohorts observed at every e up to it) or max_e restricts the average.")
    if lacking:
        per_cohort = pd.Series([c.split(":")[0] for c in lacking]).value_counts(sort=False)
        notes.append(f"The {type} aggregation lacks {len(lacking)} NA ATT(g,t) cell(s) ("
                     + ", ".join(f"g={c}: {m}" for c, m in per_cohort.items())
                     + "), left out as R did's na.rm = TRUE: it averages over the remaining cells only.")
    inf = np.column_stack([overall_inf] + detail_inf)
    z = float(stats.norm.ppf(1 - result.alpha / 2))
    if bootstrap_draws > 0:
        se_all, crit = multiplier_bootstrap(inf, cluster=result.cluster, draws=bootstrap_draws, seed=seed,
                                            weights=weights, alpha=result.alpha)
        if len(labels):
            _, crit = multiplier_bootstrap(inf[:, 1:], cluster=result.cluster, draws=bootstrap_draws, seed=seed,
                                           weights=weights, alpha=result.alpha)
        se_method = (f"multiplier bootstrap ({weights}, {bootstrap_draws} draws, uniform bands"
                     + (", one multiplier per cluster on cluster sums)" if result.cluster is not None else ")"))
    else:
        se_all = _analytic_se(inf, result.cluster)
        crit = z
        se_method = "analytic (influence function" + (", summed within clusters)" if result.cluster is not None else ")")
    # Cells fixed at zero by construction (the universal base period) have no sampling variance.
    se_all = np.where(se_all > 0, se_all, np.nan)
    label_name = {"group": "group", "calendar": "time", "dynamic": "event_time"}.get(type, "label")
    detail = pd.DataFrame({label_name: labels, "att": detail_att, "se": se_all[1:]})
    if len(detail):
        if np.all(np.mod(detail[label_name].astype(float), 1) == 0):
            detail[label_name] = detail[label_name].astype(float).astype(int)
    detail["ci_low"] = detail["att"] - crit * detail["se"]
    detail["ci_high"] = detail["att"] + crit * detail["se"]
    detail["n_units"] = np.array(detail_units, dtype=int)
    detail["n_cohorts"] = np.array(detail_cohorts, dtype=int)
    se0 = float(se_all[0])
    return CSAggregate(type=type, att=overall, se=se0, ci_low=overall - z * se0, ci_high=overall + z * se0,
                       detail=detail, influence=inf, crit=crit, se_method=se_method, notes=notes,
                       lacking_cells=lacking)


def callaway_santanna(panel: pd.DataFrame, **kwargs) -> CSResult:
    """Alias of :func:`att_gt` (the name users search for)."""
    return att_gt(panel, **kwargs)


def dynamic_event_study(result: CSResult, aggregates: dict[str, CSAggregate]):
    """The dynamic aggregation as an event-study result, with the covariance HonestDiD needs.

    ``aggregates`` holds at least the ``dynamic`` and ``simple`` aggregations of ``result``. The covariance
    of the event-time estimates is the influence-function one (summed within clusters when a cluster
    coarser than the unit is given), ``inf'inf / n^2``; the reference row of a universal base period (fixed
    at zero) is left out of it. The overall ATT is the ``simple`` aggregation.
    """
    from pilotdid.estimation.event_study_result import EventStudyResult

    dyn, simple = aggregates["dynamic"], aggregates["simple"]
    det = dyn.detail.rename(columns={"event_time": "rel_time", "att": "coef"})
    n = result.n_units
    inf = dyn.influence[:, 1:]
    if result.cluster is not None:
        summed = np.zeros((int(result.cluster.max()) + 1, inf.shape[1]))
        np.add.at(summed, result.cluster, inf)
        inf = summed
    reference = -1 - result.anticipation if result.base_period == "universal" else None
    keep = (det["rel_time"] != reference).to_numpy()
    vcov = (inf.T @ inf / n ** 2)[np.ix_(keep, keep)]  # the reference row (fixed at 0) has no variance
    return EventStudyResult(estimator="cs", table=det[["rel_time", "coef", "se", "ci_low", "ci_high", "n_units"]],
                            att=simple.att, se=simple.se, ci_low=simple.ci_low, ci_high=simple.ci_high, vcov=vcov,
                            reference=reference, se_method=dyn.se_method, notes=[*result.notes, *dyn.notes])


def event_study(data: pd.DataFrame, *, outcome: str, unit: str, time: str, first_treat: str,
                cluster: str | None, covariates: list[str], control_group: str, est_method: str, base_period: str,
                anticipation: int, draws: int, weights: str, seed: int, ps_fallback: str = "none",
                covariate_period: str = "earlier", balance_e: int | None = None, min_units_e: int = MIN_UNITS_E,
                other_fallback: bool = False, sample_weights: str | None = None):
    """CS ATT(g,t), its dynamic aggregation as an event-study result, and the other aggregations:
    ``(result, aggregates, event_study)`` with aggregates ``simple``, ``group``, ``calendar``, ``dynamic``.

    ``cluster``: a column coarser than the unit, or None for unit-level influence. ``sample_weights``: a column of
    sampling weights (``att_gt``'s ``weights``, R did's ``weightsname``). With ``draws`` the
    multiplier bootstrap (``weights``, ``seed``) gives every aggregate's SE. With ``other_fallback`` the simple
    and dynamic aggregations under the other ``ps_fallback`` choice are returned too (``aggregates["other"]``):
    both come from one estimation ("none" = "reg" with the failed cells NA).
    """
    by_reg = att_gt(data, outcome=outcome, unit=unit, time=time, first_treat=first_treat,
                    covariates=covariates, control_group=control_group, est_method=est_method,
                    base_period=base_period, anticipation=anticipation, cluster=cluster, ps_fallback="reg",
                    covariate_period=covariate_period, weights=sample_weights)
    variants = {"reg": by_reg, "none": without_cells(by_reg, by_reg.fallback_cells) if by_reg.fallback_cells
                else replace(by_reg, ps_fallback="none")}

    def aggregations(res, types):
        return {t: aggregate(res, t, bootstrap_draws=draws, seed=seed, weights=weights, min_units_e=min_units_e,
                             **({"balance_e": balance_e} if t == "dynamic" else {})) for t in types}

    res = variants[ps_fallback]
    if draws:
        res = bootstrap(res, draws=draws, seed=seed, weights=weights)
    aggs = aggregations(res, ("simple", "group", "calendar", "dynamic"))
    if other_fallback and by_reg.fallback_cells:
        other = "reg" if ps_fallback == "none" else "none"
        try:
            aggs["other"] = {"ps_fallback": other, **aggregations(variants[other], ("simple", "dynamic"))}
        except PilotdidInputError as err:  # every cell the other choice needs is NA
            aggs["other"] = {"ps_fallback": other, "why": str(err)}
    return res, aggs, dynamic_event_study(res, aggs)


def fallback_report(result: CSResult, aggregates: dict) -> dict | None:
    """The cells whose propensity score failed and the simple/dynamic ATT under both ``ps_fallback`` choices
    (results.json ``cs_ps_fallback``); None when no cell failed. ``aggregates`` as :func:`event_study` returns."""
    if not result.fallback_cells:
        return None
    other = aggregates.get("other", {})
    out: dict = {"ps_fallback": result.ps_fallback, "n_cells": len(result.fallback_cells),
                 "cells": list(result.fallback_cells), "failed": dict(result.fallback_reasons), "test": PS_TEST,
                 result.ps_fallback: {t: {"att": aggregates[t].att, "se": aggregates[t].se}
                                      for t in ("simple", "dynamic")}}
    if "simple" in other:
        out[other["ps_fallback"]] = {t: {"att": other[t].att, "se": other[t].se} for t in ("simple", "dynamic")}
    return out


def fallback_summary(result: CSResult, aggregates: dict, *, covariates: list[str], est_method: str) -> str:
    """The propensity-score convention in words for a CS table note: the choice, the default, the cells that
    failed the separation test and the simple/dynamic ATT under the other choice."""
    if not covariates or est_method == "reg":
        return msg("template.note.cs_ps_none", "en", f=result.ps_fallback)
    estimated = int((result.att_gt.time != result.att_gt.base).sum())
    if not result.fallback_cells:
        return msg("template.note.cs_ps_all_pass", "en", n=estimated, f=result.ps_fallback)
    text = fallback_note(result).replace(f"{len(result.fallback_cells)} ATT(g,t) cell(s)",
                                         f"{len(result.fallback_cells)} of {estimated} ATT(g,t) cells", 1)
    text += ' The default is "none".'
    other = aggregates.get("other", {})
    if "simple" in other:
        what = ('outcome regression for those cells' if other["ps_fallback"] == "reg"
                else 'those cells NA, as R did and csdid')
        text += (f' With ps_fallback = "{other["ps_fallback"]}" ({what}) the simple ATT is {other["simple"].att:.4f} '
                 f'(SE {other["simple"].se:.4f}) instead of {aggregates["simple"].att:.4f} and the dynamic overall '
                 f'ATT {other["dynamic"].att:.4f} instead of {aggregates["dynamic"].att:.4f}.')
    return text
