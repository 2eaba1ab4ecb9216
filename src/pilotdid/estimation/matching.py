"""Propensity-score matching as its own analysis: the ATT on a cross-section with Abadie-Imbens standard errors.

The score and the matching are :mod:`pilotdid.design.psm`'s (one logit, ``match_pool``); this module adds the
outcome: the ATT, its Abadie-Imbens (2006) standard error and the balance table.

Conventions (each a parameter, each reported):

- **Score**: logit of the 0/1 treatment on the covariates plus a constant (statsmodels MLE), or a given score
  column (``score=``). Matching is on the probability scale, as R ``Matching::Match(X = glm$fitted)``.
- **Exact strata** (``exact=``): treated rows are matched only to controls with the same values of these
  columns (R ``Match(exact = ...)``, Stata ``teffects ... ematch()``); the score is still one logit.
- **Nearest 1:k** with replacement and ties (default; R ``Match(M = k, ties = TRUE)``): every control as close
  as the k-th nearest is used, the treated row's weight split equally; as R, controls whose squared score
  distance divided by the score's variance exceeds the k-th nearest's by less than ``distance_tolerance``
  (1e-5, R's ``distance.tolerance``) tie with it (0 = exact ties only, as teffects). Without replacement: psm's seeded
  random order, no ties. ``caliper`` in score units (psmatch2/teffects; R's caliper is in SDs of the score):
  a treated row without a control inside it is dropped and counted (R ``Match``; teffects stops instead).
  **Radius**: every control within the caliper, equal shares; **kernel**: Epanechnikov weights.
- **ATT** = mean over matched treated rows of Y_i - sum_j w_ij Y_j. ``estimand="ate"``: the controls are matched
  to treated rows the same way and the ATE averages every matched unit's treated-minus-control gap (R
  ``Match(estimand = "ATE")``).
- **Standard error** (Abadie & Imbens 2006, Theorem 7 for the ATT, as R ``Match``'s "AI SE"):
  V = [ sum_treated (Y_i - Yhat_i(0) - ATT)^2 + sum_controls (K_j^2 - K'_j) sigma^2_j ] / N1^2 with
  K_j = sum_i w_ij (times a control is used, weighted) and K'_j = sum_i w_ij^2; for the ATE every matched unit
  is in both sums: sum_j ((1 + K_j)^2 - 1 - K'_j) sigma^2_j over N^2 (R ``Match``'s ``All = 1`` variance). ``variance = "robust"``
  (default) estimates sigma^2_j by matching each control to its ``variance_neighbors`` J (2) nearest controls
  in the same stratum: sigma^2_j = the sample variance of Y_j and their outcomes (R ``Var.calc = J``; for
  J = 1 this is AI 2006 eq. 14, J/(J+1) (Y_j - mean of the J)^2, which Stata's ``vce(robust, nn(J))`` uses
  for every J -- the two differ for J > 1); ``"homoskedastic"`` uses one sigma^2 = sum_pairs w (Y_i - Y_j - ATT)^2 /
  (2 N1) (R ``Match``'s default ``Var.calc = 0``). Both are always computed and reported.
  The score is treated as **known**: the Abadie-Imbens (2016) adjustment for an estimated propensity score,
  which Stata ``teffects psmatch`` applies, is **not** applied (for the ATT it may raise or lower the SE).
  With caliper drops N1 is the matched treated count (R Matching's ``AIse`` divides by all treated and counts a
  dropped treated unit as an effect of 0 -- tests/matching rebuilds R's number from ours).
  Radius and kernel use the same formula with their shares (conditional on the score; AI 2006 is proved for
  fixed k).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from pilotdid.design.psm import MATCH_METHODS, balance, logit_pscore, match_pool
from pilotdid.errors import PilotdidInputError
from pilotdid.results import Result, tidy_frame

VARIANCES = ("robust", "homoskedastic")
ESTIMANDS = ("att", "ate")
SE_CONVENTION = {
    "robust": "Abadie-Imbens (2006) heteroskedasticity-robust, sigma^2 from {J} same-group neighbours "
              "(R Match Var.calc = {J}: sample variance of the unit and its J neighbours); score treated as known (no AI 2016 adjustment)",
    "homoskedastic": "Abadie-Imbens (2006) homoskedastic (R Match default Var.calc = 0); score treated as known "
                     "(no AI 2016 adjustment)",
}


@dataclass
class MatchingResult(Result):
    """ATT by propensity-score matching with Abadie-Imbens standard errors and the balance table."""

    att: float
    se: float
    se_robust: float
    se_homoskedastic: float
    variance: str
    method: str
    settings: dict[str, Any]
    n_treated: int
    n_treated_matched: int
    n_controls: int
    n_controls_used: int
    n_dropped: dict[str, int]
    balance: pd.DataFrame
    data: pd.DataFrame  # per row: pscore, treated, matched weight (psmatch2 _weight), stratum
    outcome: str
    alpha: float = 0.05
    notes: list[str] = field(default_factory=list)
    #: "att" (default) or "ate"; ``att`` holds the estimate of either
    estimand: str = "att"
    #: units the estimate averages over (matched treated for the ATT, every matched unit for the ATE)
    n_target: int = 0

    @property
    def title(self) -> str:
        return f"Propensity-score matching ({self.estimand.upper()})"

    @property
    def t(self) -> float:
        return self.att / self.se if self.se > 0 else np.nan

    @property
    def p(self) -> float:
        return float(2 * stats.norm.sf(abs(self.t))) if np.isfinite(self.t) else np.nan

    @property
    def ci(self) -> tuple[float, float]:
        z = stats.norm.ppf(1 - self.alpha / 2)
        return self.att - z * self.se, self.att + z * self.se

    @property
    def conventions(self) -> dict[str, Any]:
        j = self.settings.get("variance_neighbors")
        return {"estimand": self.estimand.upper(), "method": self.method,
                **{k: v for k, v in self.settings.items() if v is not None},
                "standard error": SE_CONVENTION[self.variance].format(J=j),
                "other standard error": f"{self.se_homoskedastic if self.variance == 'robust' else self.se_robust:.6g} "
                                        f"({'homoskedastic' if self.variance == 'robust' else 'robust'})",
                "balance": "pstest: % bias with unmatched variances, V_T/V_C with matching weights"}

    def tidy(self) -> pd.DataFrame:
        lo, hi = self.ci
        return tidy_frame([{"term": self.estimand.upper(), "estimate": self.att, "se": self.se, "t": self.t, "p": self.p,
                            "ci_low": lo, "ci_high": hi, "kind": self.estimand, "method": self.method,
                            "se_robust": self.se_robust, "se_homoskedastic": self.se_homoskedastic,
                            "n_treated_matched": self.n_treated_matched, "n_controls_used": self.n_controls_used}])

    def estimate_row(self, table: str = "matching", column: str | None = None, sample: str = "matched") -> dict:
        lo, hi = self.ci
        return {"table": table, "column": column or self.method, "term": self.estimand.upper(), "coef": self.att, "se": self.se,
                "t": self.t, "p": self.p, "ci_low": lo, "ci_high": hi,
                "nobs": self.n_treated_matched + self.n_controls_used, "n_clusters": None,
                "vcov": f"AI2006_{self.variance}", "sample": sample, "outcome": self.outcome,
                "se_robust": self.se_robust, "se_homoskedastic": self.se_homoskedastic,
                "n_treated_matched": self.n_treated_matched, "n_controls_used": self.n_controls_used}

    def summary_dict(self) -> dict[str, Any]:
        return {"estimand": self.estimand, "method": self.method, **self.settings, "variance": self.variance,
                "estimate": self.att, "att": self.att if self.estimand == "att" else None, "se": self.se,
                "se_robust": self.se_robust, "se_homoskedastic": self.se_homoskedastic,
                "n_treated": self.n_treated, "n_treated_matched": self.n_treated_matched,
                "n_controls": self.n_controls, "n_controls_used": self.n_controls_used, "dropped": self.n_dropped,
                "balance": self.balance.to_dict("records"), "notes": list(self.notes)}

    def to_dict(self) -> dict[str, Any]:
        from pilotdid.results.schema import ESTIMATE_KEYS, normalise_row

        return {"estimates": [normalise_row(self.estimate_row(), ESTIMATE_KEYS)],
                "matching": {self.method: self.summary_dict()}}


def _check_binary(frame: pd.DataFrame, treat: str) -> None:
    values = pd.to_numeric(frame[treat], errors="coerce")
    bad = ~values.isin([0, 1])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise PilotdidInputError(f"matching: treatment column {treat!r} must be 0/1, row {row + 1} has "
                                 f"{frame[treat].iloc[row]!r}", where=f"column {treat}",
                                 fix="code the treatment as 0 (control) / 1 (treated)")


def _sigma2_robust(y: np.ndarray, score: np.ndarray, groups: np.ndarray, rows: np.ndarray, j: int,
                   tie_slack: float) -> np.ndarray:
    """sigma^2 of each row in ``rows``: the sample variance of its outcome and those of its J nearest other rows
    of the same group, ties at the J-th included (R ``Match(Var.calc = J)``; = AI 2006 eq. 14 when J = 1)."""
    out = np.full(rows.size, np.nan)
    for pos, i in enumerate(rows):
        peers = np.flatnonzero(groups == groups[i])
        peers = peers[peers != i]
        if peers.size == 0:
            continue
        dist = np.abs(score[peers] - score[i])
        jj = min(j, peers.size)
        kth = np.partition(dist, jj - 1)[jj - 1]
        near = peers[dist**2 <= kth**2 + tie_slack]
        out[pos] = np.var(np.r_[y[i], y[near]], ddof=1)
    return out


def matching_att(
    data: pd.DataFrame, *, outcome: str, treat: str, covariates: Sequence[str] = (), method: str = "nearest",
    k: int = 1, replacement: bool = True, ties: bool = True, caliper: float | None = None, bandwidth: float = 0.06,
    exact: Sequence[str] = (), score: str | None = None, common_support: bool = False, variance: str = "robust",
    variance_neighbors: int = 2, distance_tolerance: float = 1e-5, seed: int = 12345, alpha: float = 0.05,
    estimand: str = "att",
) -> MatchingResult:
    """ATT by propensity-score matching (see the module docstring for every convention)."""
    if method not in MATCH_METHODS:
        raise PilotdidInputError(f"unknown matching method {method!r}", where="matching",
                                 fix=f"use one of {', '.join(MATCH_METHODS)}")
    if estimand not in ESTIMANDS:
        raise PilotdidInputError(f"unknown estimand {estimand!r}", where="matching", fix="use att or ate")
    if variance not in VARIANCES:
        raise PilotdidInputError(f"unknown variance {variance!r}", where="matching",
                                 fix=f"use one of {', '.join(VARIANCES)}")
    if k < 1 or variance_neighbors < 1:
        raise PilotdidInputError(f"k = {k}, variance_neighbors = {variance_neighbors}: both must be >= 1",
                                 where="matching", fix="e.g. k = 1, variance_neighbors = 2")
    if caliper is not None and caliper <= 0 or bandwidth <= 0:
        raise PilotdidInputError(f"caliper = {caliper}, bandwidth = {bandwidth}: must be positive", where="matching",
                                 fix="a caliper/bandwidth in propensity-score units, e.g. 0.01 / 0.06")
    if method == "radius" and caliper is None:
        caliper = 0.01
    if not covariates and score is None:
        raise PilotdidInputError("matching needs covariates for the propensity score (or a score column)",
                                 where="matching", fix="pass covariates=[...] or score='column'")
    cols = [outcome, treat, *covariates, *exact] + ([score] if score else [])
    missing = [c for c in dict.fromkeys(cols) if c not in data.columns]
    if missing:
        raise PilotdidInputError(f"matching: column(s) {missing} not in the data", where="matching",
                                 fix="check the outcome, treatment, covariate and exact names")
    notes = []
    complete = data[list(dict.fromkeys(cols))].notna().all(axis=1)
    frame = data.loc[complete]
    if not complete.all():
        notes.append(f"{int((~complete).sum())} rows with a missing outcome/treatment/covariate left out")
    _check_binary(frame, treat)
    is_t_all = pd.to_numeric(frame[treat]).to_numpy(float) > 0
    if is_t_all.all() or not is_t_all.any():
        raise PilotdidInputError(f"matching: {treat!r} has only {'treated' if is_t_all.any() else 'control'} rows",
                                 where=f"column {treat}", fix="matching needs treated and control rows")
    for col in [outcome, *covariates] + ([score] if score else []):
        if not pd.api.types.is_numeric_dtype(frame[col]):
            raise PilotdidInputError(f"matching: column {col!r} is not numeric", where=f"column {col}",
                                     fix="convert it to numbers (or use it in exact= for strata)")
    pscore = (frame[score].to_numpy(float) if score else
              logit_pscore(frame.assign(**{treat: is_t_all.astype(float)}), treat, covariates).to_numpy())
    y = frame[outcome].to_numpy(float)
    strata = (frame[list(exact)].astype(str).agg("\x1f".join, axis=1).to_numpy() if exact
              else np.zeros(len(frame), dtype=object))
    rng = np.random.default_rng(seed)
    n = len(frame)
    # R Matching: squared score distances standardised by the score's (population) variance that differ by
    # less than the tolerance are ties
    tie_slack = float(distance_tolerance * np.var(pscore))
    weight = np.zeros(n)
    support = np.zeros(n, dtype=bool)
    pt, pc, pw = [], [], []
    no_controls = 0
    target = np.zeros(n, dtype=bool)  # units whose effect is averaged (matched treated; matched everyone for ATE)
    for stratum in pd.unique(strata):
        idx = np.flatnonzero(strata == stratum)
        is_t = is_t_all[idx]
        if not (~is_t).any():
            no_controls += int(is_t.sum())
        # ATE: the controls are matched to treated units too (the pool with the roles swapped)
        for sources_treated in ((True, False) if estimand == "ate" else (True,)):
            roles = is_t if sources_treated else ~is_t
            match = match_pool(pscore[idx], roles, method, k, replacement, caliper, bandwidth, common_support, rng,
                               ties=ties and method == "nearest" and replacement, tie_slack=tie_slack)
            if sources_treated:
                weight[idx] = match.weight
                support[idx] = match.support
            target[idx[match.pairs_treated]] = True
            pt.append(idx[match.pairs_treated])
            pc.append(idx[match.pairs_control])
            pw.append(match.pairs_share)
    # pair m: unit pairs_from[m] borrows the outcome of pairs_to[m] (opposite group) with share shares[m]
    pairs_from, pairs_to, shares = np.concatenate(pt), np.concatenate(pc), np.concatenate(pw)
    matched_t = is_t_all & target
    n1 = int(target.sum())
    if not matched_t.any():
        raise PilotdidInputError("matching: no treated row found a control", where="matching",
                                 fix="widen the caliper/bandwidth, drop exact strata or turn common_support off")
    imputed = np.zeros(n)
    np.add.at(imputed, pairs_from, shares * y[pairs_to])
    sign = np.where(is_t_all, 1.0, -1.0)
    effect = sign * (y - imputed)  # R Matching's YCAUS
    att = float(np.mean(effect[target]))
    k_count = np.zeros(n)
    kk_count = np.zeros(n)
    np.add.at(k_count, pairs_to, shares)
    np.add.at(kk_count, pairs_to, shares**2)
    in_target = target.astype(float)
    # AI (2006): each unit's epsilon enters its own effect (in_target) and the effects of those it serves (K)
    coefficient = (in_target + k_count) ** 2 - in_target - kk_count
    needs_sigma = np.flatnonzero(coefficient != 0)
    dvar = float(np.sum((effect[target] - att) ** 2)) / n1**2
    pair_gap = sign[pairs_from] * (y[pairs_from] - y[pairs_to])  # treated minus control outcome of the pair
    sigma_h = float(np.sum(shares * (pair_gap - att) ** 2) / (2 * shares.sum()))
    var_h = dvar + float(np.sum(sigma_h * coefficient[needs_sigma])) / n1**2
    group = np.where(is_t_all, "t", "c").astype(object) + "\x1e" + strata.astype(str)
    sigma_r = _sigma2_robust(y, pscore, group, needs_sigma, variance_neighbors, tie_slack)
    if np.isnan(sigma_r).any():
        notes.append(f"{int(np.isnan(sigma_r).sum())} matched unit(s) alone in their group and stratum: no neighbour "
                     "for the robust conditional variance (their term left out)")
    var_r = dvar + float(np.nansum(sigma_r * coefficient[needs_sigma])) / n1**2
    se_r, se_h = float(np.sqrt(var_r)), float(np.sqrt(var_h))
    used_c = np.flatnonzero(~is_t_all & (k_count > 0))
    n_treated = int(is_t_all.sum())
    off = int((is_t_all & ~matched_t).sum())
    off_c = int((~is_t_all & ~target).sum()) if estimand == "ate" else 0
    dropped = {"missing": int((~complete).sum()), "treated_unmatched": off, "treated_no_control_in_stratum": no_controls,
               "controls_unmatched": off_c if estimand == "ate" else None}
    if off or off_c:
        why = []
        if caliper is not None and method == "nearest":
            why.append(f"no match within the caliper {caliper:g}")
        if method in ("radius", "kernel"):
            why.append(f"no match within the {'caliper' if method == 'radius' else 'bandwidth'}")
        if common_support:
            why.append("off common support")
        if no_controls:
            why.append(f"{no_controls} treated in exact strata without controls")
        what = f"{off} of {n_treated} treated rows" + (f" and {off_c} control rows" if off_c else "")
        notes.append(f"{what} unmatched and left out of the {estimand.upper()} ({'; '.join(why) or 'no match'})")
    bal = balance(frame, list(covariates), is_t_all, support & is_t_all | ~is_t_all, weight)
    settings = {"k": k if method == "nearest" else None, "replacement": replacement if method == "nearest" else None,
                "ties": (ties and replacement) if method == "nearest" else None, "caliper": caliper,
                "bandwidth": bandwidth if method == "kernel" else None, "exact": list(exact) or None,
                "common_support": common_support, "score": score or "logit", "variance_neighbors": variance_neighbors,
                "distance_tolerance": distance_tolerance if (method == "nearest" and ties and replacement) else None,
                "seed": seed if (method == "nearest" and not replacement) else None}
    rows = pd.DataFrame({"pscore": pscore, "treated": is_t_all, "weight": weight, "stratum": strata},
                        index=frame.index)
    return MatchingResult(att=att, se=se_r if variance == "robust" else se_h, se_robust=se_r, se_homoskedastic=se_h,
                          variance=variance, method=method, settings=settings, n_treated=n_treated,
                          n_treated_matched=int(matched_t.sum()), n_controls=int((~is_t_all).sum()), n_controls_used=int(used_c.size),
                          n_dropped=dropped, balance=bal, data=rows, outcome=outcome, alpha=alpha, notes=notes,
                          estimand=estimand, n_target=n1)
