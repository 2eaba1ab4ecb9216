"""Propensity-score matching for PSM-DID on a panel, with psmatch2's conventions named.

Steps (each choice is a parameter and is reported):

1. **Score**: a logit (statsmodels, MLE, constant included) of the treatment indicator on the
   covariates. ``pooling="pooled"`` fits one logit on all unit-periods; ``pooling="by_period"``
   fits one per period and matches only within the period (both are used in this literature).
   The treatment indicator is the row's own 0/1 treatment (DID) by default, so treated
   unit-periods are matched to untreated unit-periods; pass ``treat=`` an ever-treated column for
   the unit-level variant.
2. **Common support** (psmatch2 ``common``): treated rows whose score lies outside
   [min, max] of the control scores (within the pool) are off support and are not matched.
3. **Matching** on the score:

   * ``nearest``: each treated row takes its ``k`` nearest control rows (default 3; psmatch2
     ``neighbor(3)``); with replacement by default; without replacement, treated rows are
     processed in a seeded random order (psmatch2 processes them in the data's sort order, which
     users randomise). With a ``caliper``, only neighbours within it count; a treated row with
     none is set off support. Ties are broken by row order.
   * ``radius``: every control within ``caliper`` (default 0.01) of the treated row, equally
     weighted.
   * ``kernel``: all controls, weighted by the Epanechnikov kernel K(u) = 0.75(1 − u²) on
     u = Δscore / bandwidth (default 0.06, psmatch2's default); a treated row with no control
     inside the bandwidth is off support.

4. **Weights** (psmatch2 ``_weight``): treated rows on support get 1; a control gets the sum,
   over the treated rows it serves, of its share of that treated row's match (1/k for nearest
   neighbour, 1/n_i for radius, the normalised kernel weight for kernel). Unmatched rows get 0.
5. **N as the paper counts it**: the rows with a positive weight (treated on support plus every
   control used at least once, each row counted once however often it was matched) — the sample
   of ``reg ... if _weight != .`` after psmatch2.

Balance (like ``pstest``): means of treated and controls before matching (all rows) and after
(treated on support vs controls weighted by ``_weight``); standardised % bias =
100·(mean_T − mean_C) / sqrt((var_T + var_C)/2) with the variances of the *unmatched* sample in
both rows (Rosenbaum & Rubin 1985, as pstest); % reduction in |bias|; t-tests: before, the
two-sample equal-variance t-test; after, the t-test of the treated dummy in a regression of the
covariate on it with the matching weights (pstest's weighted regression).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from pilotdid.errors import PilotdidInputError

MATCH_METHODS = ("nearest", "radius", "kernel")
POOLING = ("pooled", "by_period")


def logit_pscore(data: pd.DataFrame, treat: str, covariates: Sequence[str]) -> pd.Series:
    """Fitted probability of ``treat`` from a logit on ``covariates`` plus a constant (statsmodels)."""
    import statsmodels.api as sm

    y = data[treat].to_numpy(float)
    if y.min() == y.max():
        raise PilotdidInputError(f"propensity score: {treat!r} has only one value in this sample",
                                 where="psm", fix="matching needs treated and control rows")
    x = sm.add_constant(data[list(covariates)].to_numpy(float), has_constant="add")
    model = sm.Logit(y, x)
    fit = model.fit(disp=0, maxiter=200)
    return pd.Series(fit.predict(x), index=data.index, name="pscore")


@dataclass
class MatchResult:
    """Scores, support and weights per row (aligned with the input's index), plus balance."""

    pscore: pd.Series
    treated: pd.Series  # bool
    support: pd.Series  # bool: treated on support, or any control
    weight: pd.Series  # psmatch2 _weight (0 = not used)
    method: str
    pooling: str
    settings: dict
    balance: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def matched(self) -> pd.Series:
        """Rows in the matched sample (weight > 0)."""
        return self.weight > 0

    @property
    def n_matched(self) -> int:
        """N as the paper counts it (see the module docstring)."""
        return int(self.matched.sum())

    def summary(self) -> dict:
        t = self.treated
        return {
            "method": self.method, "pooling": self.pooling, **self.settings,
            "treated_rows": int(t.sum()), "treated_on_support": int((t & self.support).sum()),
            "treated_off_support": int((t & ~self.support).sum()),
            "controls_used": int((~t & (self.weight > 0)).sum()), "controls_total": int((~t).sum()),
            "n_matched": self.n_matched,
        }


@dataclass
class PoolMatch:
    """One pool's matching: psmatch2 weights and support per row, and the matched pairs.

    ``pairs_treated[m]`` is matched to ``pairs_control[m]`` with share ``pairs_share[m]`` (positions in the
    pool; each treated row's shares sum to 1) -- what the Abadie-Imbens variance needs beside the weights.
    """

    weight: np.ndarray
    support: np.ndarray
    pairs_treated: np.ndarray
    pairs_control: np.ndarray
    pairs_share: np.ndarray


def _pairs(rows: np.ndarray, cols: np.ndarray, shares: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keep = shares > 0
    return rows[keep], cols[keep], shares[keep]


def match_pool(p: np.ndarray, is_t: np.ndarray, method: str, k: int, replacement: bool, caliper: float | None,
               bandwidth: float, common_support: bool, rng: np.random.Generator, ties: bool = False,
               tie_slack: float = 0.0) -> PoolMatch:
    """Match the treated rows of one pool (all rows, one period or one exact stratum) on the score ``p``.

    ``ties`` (nearest neighbour with replacement only): every control as close as the k-th nearest is
    used, each treated row's share split equally among them (R Matching ``ties = TRUE``, Stata teffects);
    without it ties are broken by row order (psmatch2 on data in its sort order). With ties, a control
    ties with the k-th nearest when its squared distance exceeds the k-th's by at most ``tie_slack`` (R Matching
    ``distance.tolerance`` times the score's variance).
    """
    n = p.size
    weight = np.zeros(n)
    support = np.ones(n, dtype=bool)
    t_idx = np.flatnonzero(is_t)
    c_idx = np.flatnonzero(~is_t)
    no_pairs = (np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0))
    if c_idx.size == 0 or t_idx.size == 0:
        support[t_idx] = False
        return PoolMatch(weight, support, *no_pairs)
    pc = p[c_idx]
    if common_support:
        off = (p[t_idx] < pc.min()) | (p[t_idx] > pc.max())
        support[t_idx[off]] = False
    if method == "nearest" and replacement and ties:
        on = t_idx[support[t_idx]]
        dist = np.abs(pc[None, :] - p[on][:, None])
        kth = np.partition(dist, min(k, pc.size) - 1, axis=1)[:, min(k, pc.size) - 1]
        chosen = dist**2 <= kth[:, None] ** 2 + tie_slack
        if caliper is not None:
            chosen &= dist <= caliper
        n_ok = chosen.sum(axis=1)
        support[on[n_ok == 0]] = False
        has = n_ok > 0
        weight[on[has]] = 1.0
        shares = np.where(chosen[has], 1.0 / np.maximum(n_ok[has], 1)[:, None], 0.0)
        weight[c_idx] += shares.sum(axis=0)
        rows, cols = np.nonzero(shares)
        return PoolMatch(weight, support, on[has][rows], c_idx[cols], shares[rows, cols])
    if method == "nearest" and replacement:
        on = t_idx[support[t_idx]]
        dist = np.abs(pc[None, :] - p[on][:, None])
        nearest = np.argsort(dist, axis=1, kind="stable")[:, :k]
        ok = np.ones(nearest.shape, dtype=bool)
        if caliper is not None:
            ok = np.take_along_axis(dist, nearest, axis=1) <= caliper
        n_ok = ok.sum(axis=1)
        support[on[n_ok == 0]] = False
        has = n_ok > 0
        weight[on[has]] = 1.0
        shares = np.where(ok[has], 1.0 / np.maximum(n_ok[has], 1)[:, None], 0.0)
        np.add.at(weight, c_idx[nearest[has]].ravel(), shares.ravel())
        rows = np.repeat(on[has], nearest.shape[1])
        return PoolMatch(weight, support, *_pairs(rows, c_idx[nearest[has]].ravel(), shares.ravel()))
    if method == "nearest":
        available = np.ones(c_idx.size, dtype=bool)
        order = rng.permutation(t_idx)
        pair_rows, pair_cols, pair_shares = [], [], []
        for i in order:
            if not support[i]:
                continue
            cand = np.flatnonzero(available)
            dist = np.abs(pc[cand] - p[i])
            nearest = cand[np.argsort(dist, kind="stable")[:k]]
            if caliper is not None:
                nearest = nearest[np.abs(pc[nearest] - p[i]) <= caliper]
            if nearest.size == 0:
                support[i] = False
                continue
            weight[i] = 1.0
            weight[c_idx[nearest]] += 1.0 / nearest.size
            pair_rows += [i] * nearest.size
            pair_cols += list(c_idx[nearest])
            pair_shares += [1.0 / nearest.size] * nearest.size
            if not replacement:
                available[nearest] = False
        return PoolMatch(weight, support, np.asarray(pair_rows, dtype=int), np.asarray(pair_cols, dtype=int),
                         np.asarray(pair_shares, dtype=float))
    on = t_idx[support[t_idx]]
    diff = pc[None, :] - p[on][:, None]  # treated x controls
    if method == "radius":
        kern = (np.abs(diff) <= caliper).astype(float)
    else:
        u = diff / bandwidth
        kern = np.where(np.abs(u) < 1, 0.75 * (1 - u**2), 0.0)
    totals = kern.sum(axis=1)
    has = totals > 0
    support[on[~has]] = False
    shares = kern[has] / totals[has][:, None]
    weight[on[has]] = 1.0
    weight[c_idx] += shares.sum(axis=0)
    rows, cols = np.nonzero(shares)
    return PoolMatch(weight, support, on[has][rows], c_idx[cols], shares[rows, cols])


def _match_pool(p: np.ndarray, is_t: np.ndarray, method: str, k: int, replacement: bool, caliper: float | None,
                bandwidth: float, common_support: bool, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Weights and support for one pool (all rows, or one period): psmatch2's ties broken by row order."""
    match = match_pool(p, is_t, method, k, replacement, caliper, bandwidth, common_support, rng)
    return match.weight, match.support


def _weighted_var(x: np.ndarray, w: np.ndarray) -> float:
    """Variance with analytic weights as Stata's ``summarize [aw=w]`` (weights rescaled to sum to n; n - 1 df)."""
    n = x.size
    if n < 2:
        return np.nan
    mean = np.average(x, weights=w)
    return float(np.sum(w * (x - mean) ** 2) / w.sum() * n / (n - 1))


def balance(data: pd.DataFrame, covariates: Sequence[str], treated: np.ndarray, support: np.ndarray,
            weight: np.ndarray) -> pd.DataFrame:
    """Balance before/after matching (pstest's % bias and t-tests; variance ratios V_T/V_C as pstest).

    After matching the controls' variance uses the matching weights as analytic weights (pstest).
    """
    rows = []
    for cov in covariates:
        x = data[cov].to_numpy(float)
        xt, xc = x[treated], x[~treated]
        var_t, var_c = xt.var(ddof=1), xc.var(ddof=1)
        scale = np.sqrt((var_t + var_c) / 2)
        mt_u, mc_u = xt.mean(), xc.mean()
        bias_u = 100 * (mt_u - mc_u) / scale if scale > 0 else np.nan
        t_u, p_u = stats.ttest_ind(xt, xc, equal_var=True)
        used_t = treated & support & (weight > 0)
        used_c = ~treated & (weight > 0)
        mt_m = x[used_t].mean() if used_t.any() else np.nan
        mc_m = np.average(x[used_c], weights=weight[used_c]) if used_c.any() else np.nan
        bias_m = 100 * (mt_m - mc_m) / scale if scale > 0 else np.nan
        t_m, p_m = _weighted_t(x, treated, weight)
        rows.append({
            "variable": cov, "mean_treated_unmatched": mt_u, "mean_control_unmatched": mc_u,
            "bias_pct_unmatched": bias_u, "t_unmatched": float(t_u), "p_unmatched": float(p_u),
            "mean_treated_matched": mt_m, "mean_control_matched": mc_m, "bias_pct_matched": bias_m,
            "bias_reduction_pct": (100 * (1 - abs(bias_m) / abs(bias_u))
                                   if np.isfinite(bias_u) and bias_u != 0 else np.nan),
            "t_matched": t_m, "p_matched": p_m,
            "var_ratio_unmatched": var_t / var_c if var_c > 0 else np.nan,
            "var_ratio_matched": (x[used_t].var(ddof=1) / _weighted_var(x[used_c], weight[used_c])
                                  if used_t.sum() > 1 and used_c.sum() > 1
                                  and _weighted_var(x[used_c], weight[used_c]) > 0 else np.nan),
        })
    return pd.DataFrame(rows)


_balance = balance


def _weighted_t(x: np.ndarray, treated: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """t-test of the treated dummy in WLS of x on a constant and treated, weights = matching weights."""
    use = weight > 0
    if use.sum() < 3 or treated[use].all() or not treated[use].any():
        return np.nan, np.nan
    import statsmodels.api as sm

    design = sm.add_constant(treated[use].astype(float), has_constant="add")
    fit = sm.WLS(x[use], design, weights=weight[use]).fit()
    return float(fit.tvalues[1]), float(fit.pvalues[1])


def psm_match(
    data: pd.DataFrame, *, treat: str, covariates: Sequence[str], method: str = "nearest", k: int = 3,
    replacement: bool = True, caliper: float | None = None, bandwidth: float = 0.06, pooling: str = "pooled",
    time: str | None = None, common_support: bool = True, seed: int = 12345,
) -> MatchResult:
    """Propensity-score matching as described in the module docstring."""
    if method not in MATCH_METHODS:
        raise PilotdidInputError(f"unknown matching method {method!r}", where="psm",
                                 fix=f"use one of {', '.join(MATCH_METHODS)}")
    if pooling not in POOLING:
        raise PilotdidInputError(f"unknown pooling {pooling!r}", where="psm", fix=f"use one of {', '.join(POOLING)}")
    if pooling == "by_period" and time is None:
        raise PilotdidInputError("by-period matching needs the time column", where="psm", fix="pass time=")
    if method == "radius" and caliper is None:
        caliper = 0.01
    if k < 1:
        raise PilotdidInputError(f"k must be >= 1, got {k}", where="psm", fix="e.g. k = 3")
    cols = [treat, *covariates] + ([time] if time else [])
    missing_cols = [c for c in cols if c not in data.columns]
    if missing_cols:
        raise PilotdidInputError(f"psm: column(s) {missing_cols} not in the panel", where="psm",
                                 fix="check the treatment and control names")
    notes = []
    complete = data[cols].notna().all(axis=1)
    if not complete.all():
        notes.append(f"psm: {int((~complete).sum())} rows with missing treatment/covariates cannot be matched "
                     "(weight 0)")
    frame = data.loc[complete]
    rng = np.random.default_rng(seed)
    pscore = pd.Series(np.nan, index=data.index)
    weight = pd.Series(0.0, index=data.index)
    support = pd.Series(False, index=data.index)
    pools = [frame] if pooling == "pooled" else [g for _, g in frame.groupby(time, sort=True)]
    skipped = []
    for pool in pools:
        is_t = pool[treat].to_numpy(float) > 0
        if is_t.all() or not is_t.any():
            skipped.append((pool[time].iloc[0] if time else "all", len(pool)))
            continue
        p = logit_pscore(pool, treat, covariates)
        w, s = _match_pool(p.to_numpy(), is_t, method, k, replacement, caliper, bandwidth, common_support, rng)
        pscore.loc[pool.index] = p.to_numpy()
        weight.loc[pool.index] = w
        support.loc[pool.index] = s
    if skipped:
        notes.append(f"psm: {len(skipped)} period(s) with only treated or only control rows cannot be matched "
                     f"({', '.join(str(s[0]) for s in skipped)}; {sum(s[1] for s in skipped)} rows get weight 0)")
    treated = (pd.to_numeric(data[treat], errors="coerce").fillna(0) > 0) & complete
    support = support & complete
    balance = _balance(frame, covariates, treated.loc[frame.index].to_numpy(), support.loc[frame.index].to_numpy(),
                       weight.loc[frame.index].to_numpy())
    settings = {"k": k if method == "nearest" else None, "replacement": replacement if method == "nearest" else None,
                "caliper": caliper, "bandwidth": bandwidth if method == "kernel" else None,
                "common_support": common_support, "kernel": "epanechnikov" if method == "kernel" else None,
                "seed": seed if (method == "nearest" and not replacement) else None}
    return MatchResult(pscore=pscore, treated=treated, support=support, weight=weight, method=method,
                       pooling=pooling, settings=settings, balance=balance, notes=notes)
