"""Imputation estimator of Borusyak, Jaravel & Spiess (2024), on our own exact numerics.

Stage 1 fits unit and period fixed effects (and covariates) by least squares on untreated
observations only (never treated and not yet treated); each treated observation's untreated outcome
is imputed from them, and the estimates are means of Y - imputed Y(0) over treated observations,
equally weighted: overall and by event time. Pre-period rows are mean stage-1 residuals of
not-yet-treated observations by relative time (a pre-trend diagnostic, no period is normalised to
zero). This is the estimate of pyfixest's ``did2s`` (Gardner's two-stage form) and R ``didimputation``.

Numerics (why not dummies): the two-way fixed-effect normal equations are solved exactly by
eliminating the many-level factor (units) and solving the few-level one's (periods) small dense
Schur complement, so memory and time are linear in rows; covariates enter by Frisch-Waugh-Lovell.
No rows x units matrix is ever built (pyfixest's did2s variance builds one: 93 GiB at 1M rows).

Two variances, both clustered (default: by unit), both without a small-sample factor:

- **Gardner (2021) two-stage GMM** (reported as ``se``; what pyfixest ``did2s`` and R ``did2s``
  compute): the second-stage score corrected for the estimated first stage.
- **BJS (2024) conservative** (``alternative_se[BJS_CONSERVATIVE]``, post-treatment horizons and the overall ATT): the
  estimator's implied weights times residuals, treated residuals recentred on the mean effect of
  their cohort x event-time cell (R ``didimputation``'s default grouping; the Stata default
  ``avgeffectsby`` is the same cells), all observations included.

Treated observations whose unit or period has no untreated observation cannot be imputed: they are
left out and counted in the notes.

Weights (``weights``, analytic, Stata aw / R ``didimputation``'s ``wname``): stage 1 is weighted least squares
on the untreated rows, each estimate a weighted mean of Y - imputed Y(0) over its treated rows, and both
variances use the weighted scores (Gardner: WLS second stage, X2'W X1 (X10'W X10)^-1 first-stage term; BJS:
implied weights v = w / sum w on treated rows, tau-bar the weighted cell mean).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse, stats

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.staggered.panel import fit_outcome_groups, long_sample, outcome_list
from pilotdid.estimation.event_study_result import EventStudyResult

#: eigenvalues of the Schur complement below this share of the largest are its null space (one per
#: connected component of the unit-period graph, where the fixed effects are not separately identified)
_NULL_TOLERANCE = 1e-10
#: name of the BJS (2024) conservative variance in ``EventStudyResult.alternative_se``
BJS_CONSERVATIVE = "BJS (2024) conservative, tau-bar by cohort x event time"


class UntreatedFixedEffects:
    """Least squares on untreated rows of ``y = a[unit] + b[time] + X beta``, solved exactly.

    Built once per sample; every solve (the outcome, each covariate, each variance weight) reuses it.
    ``unit`` and ``time`` are integer codes over all rows; ``untreated`` marks the estimation rows.
    """

    def __init__(self, unit: np.ndarray, time: np.ndarray, untreated: np.ndarray, covariates: np.ndarray,
                 weights: np.ndarray | None = None):
        self.untreated = untreated
        #: row weights of weighted least squares (all rows; ones = OLS)
        self.w = np.ones(len(unit)) if weights is None else weights
        self.n_units = int(unit.max()) + 1 if len(unit) else 0
        self.n_times = int(time.max()) + 1 if len(time) else 0
        # eliminate the factor with more levels, solve the other's small Schur complement
        self.swap = self.n_times > self.n_units
        self.big, self.small = (time, unit) if self.swap else (unit, time)
        self.n_big, self.n_small = (self.n_times, self.n_units) if self.swap else (self.n_units, self.n_times)
        big0, small0, w0 = self.big[untreated], self.small[untreated], self.w[untreated]
        self.count_big = np.bincount(big0, w0, minlength=self.n_big).astype(float)
        self.count_small = np.bincount(small0, w0, minlength=self.n_small).astype(float)
        counts = sparse.csr_matrix((w0, (big0, small0)), shape=(self.n_big, self.n_small))
        inv_big = np.divide(1.0, self.count_big, out=np.zeros(self.n_big), where=self.count_big > 0)
        self.counts = counts
        self.inv_big = inv_big
        schur = np.diag(self.count_small) - (counts.T @ sparse.diags(inv_big) @ counts).toarray()
        values, vectors = np.linalg.eigh(schur)
        keep = values > _NULL_TOLERANCE * max(values.max(initial=0.0), 1.0)
        self.schur_pinv = (vectors[:, keep] / values[keep]) @ vectors[:, keep].T
        self.x = covariates
        self.x0 = covariates[untreated]
        if covariates.shape[1]:
            fe_x = self.fe_fit(*self.sums(self.x0))
            self.x0_within = self.x0 - self.fitted(fe_x, rows=untreated)
            self.xtx_pinv = np.linalg.pinv(self.x0_within.T @ (w0[:, None] * self.x0_within))
        #: rows (all) whose unit and period both have an untreated observation: the imputable ones
        self.identified = (self._count_unit()[unit] > 0) & (self._count_time()[time] > 0)

    def _count_unit(self):
        return self.count_small if self.swap else self.count_big

    def _count_time(self):
        return self.count_big if self.swap else self.count_small

    def sums(self, values: np.ndarray, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per-level weighted sums of ``values`` (n_rows[, k]) over ``rows`` (default: the untreated rows)."""
        rows = self.untreated if rows is None else rows
        big, small = self.big[rows], self.small[rows]
        values = values.reshape(len(big), -1) * self.w[rows][:, None]
        sb = np.column_stack([np.bincount(big, v, minlength=self.n_big) for v in values.T])
        ss = np.column_stack([np.bincount(small, v, minlength=self.n_small) for v in values.T])
        return sb, ss

    def fe_fit(self, sum_big: np.ndarray, sum_small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Solve the fixed-effect normal equations D0'D0 (a, b) = (sum_big, sum_small) (minimum-norm in b)."""
        rhs = sum_small - self.counts.T @ (sum_big * self.inv_big[:, None])
        b = self.schur_pinv @ rhs
        a = (sum_big - self.counts @ b) * self.inv_big[:, None]
        return a, b

    def fitted(self, fe: tuple[np.ndarray, np.ndarray], rows: np.ndarray | None = None) -> np.ndarray:
        a, b = fe
        if rows is None:
            return a[self.big] + b[self.small]
        return a[self.big[rows]] + b[self.small[rows]]

    def solve(self, sum_big, sum_small, sum_x) -> np.ndarray:
        """Fitted values on untreated rows of the solution of the full normal equations [D0 X0]'[D0 X0] z = r."""
        fe = self.fe_fit(sum_big, sum_small)
        if not self.x.shape[1]:
            return self.fitted(fe, rows=self.untreated)
        m = self.fitted(fe, rows=self.untreated)
        beta = self.xtx_pinv @ (sum_x - self.x0.T @ (self.w[self.untreated][:, None] * m))
        xb = self.x0 @ beta
        fe_xb = self.fe_fit(*self.sums(xb))
        return m - self.fitted(fe_xb, rows=self.untreated) + xb

    def fit_outcome(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stage 1 on the outcome: (fitted values on all rows, coefficients of the covariates)."""
        y0 = y[self.untreated]
        beta = np.zeros((self.x.shape[1], 1))
        if self.x.shape[1]:
            y0_within = y0[:, None] - self.fitted(self.fe_fit(*self.sums(y0)), rows=self.untreated)
            beta = self.xtx_pinv @ (self.x0_within.T @ (self.w[self.untreated][:, None] * y0_within))
        fe = self.fe_fit(*self.sums(y0 - (self.x0 @ beta)[:, 0]))
        return self.fitted(fe)[:, 0] + (self.x @ beta)[:, 0], beta[:, 0]


def imputation(
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
    """BJS imputation event study (all relative times) and overall ATT, Gardner and BJS variances.

    ``weights``: a column of analytic weights (see the module docstring). ``outcome``: a column, or a list of
    columns: then one result per column (a list), all from one stage-1 factorisation and one set of first-stage
    variance terms (only the stage-1 solve and the residuals are per outcome)."""
    covariates = list(covariates or [])
    outcome_given, outcomes = outcome, outcome_list(outcome)
    if not isinstance(outcome, str):
        grouped = fit_outcome_groups(imputation, panel, outcomes, unit=unit, time=time, first_treat=first_treat,
                                     covariates=covariates, cluster=cluster, alpha=alpha, weights=weights)
        if grouped is not None:
            return grouped
    outcome = outcomes[0]
    df, notes = long_sample(panel, outcome=outcomes, unit=unit, time=time, first_treat=first_treat,
                            covariates=covariates, cluster=cluster, where="staggered.bjs", weights=weights)
    g = pd.to_numeric(df[first_treat], errors="coerce").fillna(0).to_numpy(dtype=float)
    t_values = df[time].to_numpy(dtype=float)
    ys = df[outcomes].to_numpy(dtype=float)
    x = np.column_stack([df[c].to_numpy(dtype=float) for c in covariates]) if covariates else np.empty((len(df), 0))
    unit_codes = pd.factorize(df[unit], sort=True)[0]
    time_codes = pd.factorize(df[time], sort=True)[0]
    cl = cluster or unit
    cluster_codes = pd.factorize(df[cl], sort=True)[0]
    treated = (g > 0) & (t_values >= g)
    w = df[weights].to_numpy(dtype=float) if weights else np.ones(len(df))
    if weights and not (np.all(np.isfinite(w)) and np.all(w >= 0)):
        bad = int(np.flatnonzero(~(np.isfinite(w) & (w >= 0)))[0])
        raise PilotdidInputError(f"weights column {weights!r} is missing or negative at data row {df.index[bad] + 1}",
                                 where="staggered.bjs", fix="use non-negative weights in every row")

    fe = UntreatedFixedEffects(unit_codes, time_codes, ~treated, x, w)
    lost = treated & ~fe.identified
    if lost.any():
        notes.append(f"{int(lost.sum())} treated observation(s) left out of the imputation estimator: their unit or "
                     "period has no untreated observation to impute from.")
        keep = ~lost
        ys, x, g, t_values, treated, w = ys[keep], x[keep], g[keep], t_values[keep], treated[keep], w[keep]
        unit_codes, time_codes, cluster_codes = unit_codes[keep], time_codes[keep], cluster_codes[keep]
        fe = UntreatedFixedEffects(unit_codes, time_codes, ~treated, x, w)
    untreated = ~treated
    n_clusters = int(cluster_codes.max()) + 1

    ever = g > 0
    rel = np.where(ever, t_values - g, np.nan)
    rel_times = np.unique(rel[ever])
    zc = stats.norm.ppf(1 - alpha / 2)

    def first_stage_weights(column: np.ndarray) -> np.ndarray:
        """v = X10 (X10'W X10)^-1 X1'W column on the untreated rows (Gardner's GMM term; no outcome in it)."""
        sum_big, sum_small = fe.sums(column, rows=np.ones(len(column), dtype=bool))
        sum_x = x.T @ (w * column) if x.shape[1] else None
        return fe.solve(sum_big, sum_small, None if sum_x is None else sum_x[:, None])[:, 0]

    cell = np.unique(np.column_stack([g, np.where(ever, rel, -np.inf)]), axis=0, return_inverse=True)[1].ravel()
    # the second-stage columns (one per relative time, then the treatment dummy) and their first-stage weights:
    # the design's, shared by every outcome
    event_rows = [rel == e for e in rel_times]
    event_v = [first_stage_weights(rows.astype(float)) for rows in event_rows]
    treated_v = first_stage_weights(treated.astype(float))
    se_method = (f"Gardner (2021) two-stage GMM, clustered by {cl} (as pyfixest did2s)"
                 + (f", weighted by {weights}" if weights else ""))
    results = []
    for y in ys.T:
        fitted, _ = fe.fit_outcome(y)
        resid = y - fitted  # stage-1 residual on untreated rows, Y - imputed Y(0) on treated rows

        def correction(v: np.ndarray, resid=resid) -> np.ndarray:
            """Per-cluster first-stage term sum_j w_j v_j u1_j (Gardner's GMM term)."""
            return np.bincount(cluster_codes[untreated], v * w[untreated] * resid[untreated], minlength=n_clusters)

        def cell_means(rows: np.ndarray, resid=resid) -> np.ndarray:
            """(Weighted) mean Y - Y0_hat of each treated row's cohort x event-time cell (BJS's tau-bar)."""
            sums = np.bincount(cell[rows], w[rows] * resid[rows], minlength=cell.max() + 1)
            counts = np.bincount(cell[rows], w[rows], minlength=cell.max() + 1)
            return sums[cell[rows]] / counts[cell[rows]]

        # event study: one column per relative time; X2'W X2 is diagonal (weighted counts)
        coef = np.empty(len(rel_times))
        scores = np.empty((n_clusters, len(rel_times)))
        bjs_se = np.full(len(rel_times), np.nan)
        for k, e in enumerate(rel_times):
            rows = event_rows[k]
            n_k = w[rows].sum()
            coef[k] = float(w[rows] @ resid[rows]) / n_k
            first_stage = correction(event_v[k])
            second = np.bincount(cluster_codes[rows], w[rows] * (resid[rows] - coef[k]), minlength=n_clusters)
            scores[:, k] = (second - first_stage) / n_k
            if e >= 0:
                recentred = np.bincount(cluster_codes[rows], w[rows] * (resid[rows] - cell_means(rows)),
                                        minlength=n_clusters)
                bjs_se[k] = np.sqrt(np.sum(((recentred - first_stage) / n_k) ** 2))
        vcov = scores.T @ scores
        se = np.sqrt(np.diag(vcov))
        table = pd.DataFrame({"rel_time": rel_times.astype(int), "coef": coef, "se": se,
                              "ci_low": coef - zc * se, "ci_high": coef + zc * se, "bjs_se": bjs_se})

        # overall ATT: the treatment dummy as the one second-stage column
        n_treated = w[treated].sum()
        att = float(w[treated] @ resid[treated]) / n_treated
        first_stage = correction(treated_v)
        second = np.bincount(cluster_codes[treated], w[treated] * (resid[treated] - att), minlength=n_clusters)
        att_se = float(np.sqrt(np.sum(((second - first_stage) / n_treated) ** 2)))
        recentred = np.bincount(cluster_codes[treated], w[treated] * (resid[treated] - cell_means(treated)),
                                minlength=n_clusters)
        att_bjs_se = float(np.sqrt(np.sum(((recentred - first_stage) / n_treated) ** 2)))
        result = EventStudyResult(estimator="bjs", table=table.drop(columns="bjs_se"), att=att, se=att_se,
                                  ci_low=att - zc * att_se, ci_high=att + zc * att_se, vcov=vcov, reference=None,
                                  se_method=se_method, notes=notes if len(outcomes) == 1 else list(notes))
        result.alternative_se[BJS_CONSERVATIVE] = {
            "se": att_bjs_se, "table": table[["rel_time", "bjs_se"]].rename(columns={"bjs_se": "se"})}
        results.append(result)
    return results[0] if isinstance(outcome_given, str) else results
