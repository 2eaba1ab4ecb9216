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
  and Stata's ``vce(robust, nn(J + 1))`` -- Stata counts the unit itself, so its default nn(2) is J = 1); ``"homoskedastic"``
  uses one sigma^2 = sum_pairs w (Y_i - Y_j - ATT)^2 / (2 N1) (R ``Match``'s default ``Var.calc = 0``). Both are
  always computed and reported; they treat the score as **known** (R Matching, psmatch2).
- **Estimated score** (Abadie & Imbens 2016, Econometrica 84(2); Stata ``teffects psmatch``'s default SE;
  ``variance = "estimated_score"``): the robust variance corrected for the logit's sampling error, with
  f_i = p_i (1 - p_i), z_i = (1, x_i) and V_g = (sum_i f_i z_i z_i')^-1 the logit's covariance:
  ATE: V - c' V_g c, c = (1/N) sum_i f_i [cov1_i / p_i + cov0_i / (1 - p_i)];
  ATT: V - c_t' V_g c_t + d' V_g d, c_t = (1/N1) sum_i f_i [z_i (y1_i - y0_i - ATT) + cov1_i + p_i/(1-p_i) cov0_i],
  d = (1/N1) sum_i f_i z_i [(2 D_i - 1)(Y_i - Ybar^x_i) - ATT]. Here, with h = J + 1 (Stata's nn(h)), cov_w,i is the
  sample covariance of (z, Y) over i's h nearest units of group w on the score (itself included when it is in
  w), y_w,i the mean outcome of its h nearest units of group w other than itself, and Ybar^x_i the mean outcome of
  its k nearest units of the other group by Euclidean distance on the covariates (d estimates dATT/dtheta by
  matching on the covariates, AI 2016 p. 799). Ties are kept everywhere. Reproduces Stata 18's printed
  ``teffects psmatch (bweight) (mbsmoke mmarried mage fage medu prenatal1)`` ATE and ATET SEs on cattaneo2
  (tests/matching). Defined here for nearest-neighbour matching with replacement on the whole sample with the
  logit estimated here: with a given ``score``, exact strata, a caliper or common support it is not computed.
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

from pilotdid.design.psm import MATCH_METHODS, balance, match_pool
from pilotdid.errors import PilotdidInputError
from pilotdid.i18n import msg
from pilotdid.results import Result, tidy_frame

VARIANCES = ("robust", "homoskedastic", "estimated_score")
ESTIMANDS = ("att", "ate")
SE_CONVENTION = {
    "robust": "Abadie-Imbens (2006) heteroskedasticity-robust, sigma^2 from {J} same-group neighbours "
              "(R Match Var.calc = {J}: sample variance of the unit and its J neighbours); score treated as known "
              "(R Matching, psmatch2)",
    "homoskedastic": "Abadie-Imbens (2006) homoskedastic (R Match default Var.calc = 0); score treated as known "
                     "(R Matching, psmatch2)",
    "estimated_score": "Abadie-Imbens (2016): the robust Abadie-Imbens (2006) variance adjusted for the estimated "
                       "logit score, neighbours h = {H} (Stata teffects psmatch vce(robust, nn({H})); Stata's "
                       "default is nn(2), variance_neighbors = 1)",
}
#: rows per block in the neighbour searches of the estimated-score adjustment (memory: block x group size)
_BLOCK = 512


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
    #: the same notes as catalogue messages, ``(key, fields)`` under ``[matching.estimation]``, so that a study
    #: writes them in its report language (:meth:`notes_in`); ``notes`` is their English text
    note_messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: "att" (default) or "ate"; ``att`` holds the estimate of either
    estimand: str = "att"
    #: units the estimate averages over (matched treated for the ATT, every matched unit for the ATE)
    n_target: int = 0
    #: Abadie-Imbens (2016) SE for the estimated logit score (None where it is not defined: see the notes)
    se_estimated_score: float | None = None
    #: its terms: the known-score variance, c'V c, d'V d (ATT), h
    estimated_score_terms: dict[str, Any] | None = None

    @property
    def title(self) -> str:
        return f"Propensity-score matching ({self.estimand.upper()})"

    def notes_in(self, lang: str) -> list[str]:
        """The notes in ``lang`` (``notes`` itself in English)."""
        return [note_text(key, fields, lang) for key, fields in self.note_messages]

    def _ses(self) -> dict[str, float | None]:
        return {"robust": self.se_robust, "homoskedastic": self.se_homoskedastic,
                "estimated_score": self.se_estimated_score}

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
        others = "; ".join(f"{v:.6g} ({name})" if v is not None else f"not computed ({name})"
                           for name, v in self._ses().items() if name != self.variance)
        return {"estimand": self.estimand.upper(), "method": self.method,
                **{k: v for k, v in self.settings.items() if v is not None},
                "standard error": SE_CONVENTION[self.variance].format(J=j, H=j + 1),
                "other standard errors": others,
                "balance": "pstest: % bias with unmatched variances, V_T/V_C with matching weights"}

    def tidy(self) -> pd.DataFrame:
        lo, hi = self.ci
        return tidy_frame([{"term": self.estimand.upper(), "estimate": self.att, "se": self.se, "t": self.t, "p": self.p,
                            "ci_low": lo, "ci_high": hi, "kind": self.estimand, "method": self.method,
                            "se_robust": self.se_robust, "se_homoskedastic": self.se_homoskedastic,
                            "se_estimated_score": self.se_estimated_score,
                            "n_treated_matched": self.n_treated_matched, "n_controls_used": self.n_controls_used}])

    def estimate_row(self, table: str = "matching", column: str | None = None, sample: str = "matched") -> dict:
        lo, hi = self.ci
        return {"table": table, "column": column or self.method, "term": self.estimand.upper(), "coef": self.att, "se": self.se,
                "t": self.t, "p": self.p, "ci_low": lo, "ci_high": hi,
                "nobs": self.n_treated_matched + self.n_controls_used, "n_clusters": None,
                "vcov": "AI2016_estimated_score" if self.variance == "estimated_score" else f"AI2006_{self.variance}",
                "sample": sample, "outcome": self.outcome,
                "se_robust": self.se_robust, "se_homoskedastic": self.se_homoskedastic,
                "se_estimated_score": self.se_estimated_score,
                "n_treated_matched": self.n_treated_matched, "n_controls_used": self.n_controls_used}

    def summary_dict(self) -> dict[str, Any]:
        return {"estimand": self.estimand, "method": self.method, **self.settings, "variance": self.variance,
                "estimate": self.att, "att": self.att if self.estimand == "att" else None, "se": self.se,
                "se_robust": self.se_robust, "se_homoskedastic": self.se_homoskedastic,
                "se_estimated_score": self.se_estimated_score, "estimated_score_terms": self.estimated_score_terms,
                "n_treated": self.n_treated, "n_treated_matched": self.n_treated_matched,
                "n_controls": self.n_controls, "n_controls_used": self.n_controls_used, "dropped": self.n_dropped,
                "balance": self.balance.to_dict("records"), "notes": list(self.notes)}

    def to_dict(self) -> dict[str, Any]:
        from pilotdid.results.schema import ESTIMATE_KEYS, normalise_row

        return {"estimates": [normalise_row(self.estimate_row(), ESTIMATE_KEYS)],
                "matching": {self.method: self.summary_dict()}}


def note_text(key: str, fields: dict[str, Any], lang: str = "en") -> str:
    """A ``[matching.estimation]`` message in ``lang``: a field that is itself ``(key, fields)`` is written in
    ``lang`` first, a list of such fields is joined into one clause."""
    def fill(value: Any) -> Any:
        if isinstance(value, tuple):
            return note_text(*value, lang)
        if isinstance(value, list):
            return msg("matching.estimation.reason_separator", lang).join(fill(v) for v in value)
        return value

    return msg(f"matching.estimation.{key}", lang, **{name: fill(v) for name, v in fields.items()})


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


def _logit_score(covariates: np.ndarray, treated: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logit of the treatment on the covariates plus a constant (statsmodels MLE): the fitted score, the design
    z = (1, x) and the coefficients' covariance (sum_i p_i (1 - p_i) z_i z_i')^-1."""
    import statsmodels.api as sm

    design = sm.add_constant(covariates, has_constant="add")
    fit = sm.Logit(treated.astype(float), design).fit(disp=0, maxiter=200)
    # row by row, not one matrix-vector product: rows with the same covariates get bit-identical scores, so their
    # exact ties (which Stata's and R's matching keep) do not depend on where a row sits in memory
    score = 1.0 / (1.0 + np.exp(-(design * np.asarray(fit.params)).sum(axis=1)))
    density = score * (1.0 - score)
    return score, design, np.linalg.inv(design.T @ (design * density[:, None]))


def _nearest_sets(distance: np.ndarray, k: int, tie_slack: float) -> np.ndarray:
    """Each row's k nearest columns, every column tied with the k-th included (squared distances within
    ``tie_slack``, as the matching itself)."""
    k = min(k, distance.shape[1])
    kth = np.partition(distance, k - 1, axis=1)[:, k - 1]
    return distance**2 <= kth[:, None] ** 2 + tie_slack


def _set_moments(mask: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``mask``: the mean outcome over its set and the sample covariance (ddof 1) of (z, y) over it."""
    m = mask.astype(float)
    count = m.sum(axis=1)
    mean = (m @ y) / count
    centred = (y[None, :] - mean[:, None]) * m
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (centred @ z) / np.where(count > 1, count - 1.0, np.nan)[:, None]
    return mean, cov


def _estimated_score_terms(y: np.ndarray, treated: np.ndarray, score: np.ndarray, design: np.ndarray,
                           score_vcov: np.ndarray, k: int, h: int, estimate: float, estimand: str,
                           tie_slack: float) -> tuple[float, float]:
    """Abadie-Imbens (2016) adjustment terms (c'V c, d'V d) for the ATE or the ATT (module docstring)."""
    n, q = design.shape
    raw = design[:, 1:]
    mean_same, mean_other = np.full(n, np.nan), np.full(n, np.nan)
    cov_same, cov_other = np.full((n, q), np.nan), np.full((n, q), np.nan)
    mean_x_other = np.full(n, np.nan)
    for group in (True, False):
        own, other = np.flatnonzero(treated == group), np.flatnonzero(treated != group)
        for start in range(0, own.size, _BLOCK):
            rows = own[start:start + _BLOCK]
            near_same = np.abs(score[rows][:, None] - score[own][None, :])
            _, cov_same[rows] = _set_moments(_nearest_sets(near_same, h, tie_slack), y[own], design[own])
            if own.size > 1:  # the h nearest others (a group of one has none: its terms stay NaN)
                near_same[np.arange(rows.size), np.arange(start, start + rows.size)] = np.inf  # the unit itself
                mean_same[rows], _ = _set_moments(_nearest_sets(near_same, min(h, own.size - 1), tie_slack),
                                                  y[own], design[own])
            near_other = np.abs(score[rows][:, None] - score[other][None, :])
            mean_other[rows], cov_other[rows] = _set_moments(_nearest_sets(near_other, h, tie_slack), y[other],
                                                             design[other])
            if estimand == "att":
                sq = np.zeros((rows.size, other.size))
                for col in range(raw.shape[1]):
                    sq += (raw[rows, col][:, None] - raw[other, col][None, :]) ** 2
                mean_x_other[rows], _ = _set_moments(_nearest_sets(np.sqrt(sq), k, 0.0), y[other], design[other])
    f = score * (1.0 - score)
    t = treated[:, None]
    cov1, cov0 = np.where(t, cov_same, cov_other), np.where(t, cov_other, cov_same)
    if estimand == "ate":
        c = (f[:, None] * (cov1 / score[:, None] + cov0 / (1.0 - score)[:, None])).sum(axis=0) / n
        return float(c @ score_vcov @ c), 0.0
    n1 = int(treated.sum())
    y1, y0 = np.where(treated, mean_same, mean_other), np.where(treated, mean_other, mean_same)
    # f p / (1 - p) = p^2 keeps the control term finite as p -> 1
    c = ((design * (f * (y1 - y0 - estimate))[:, None]) + f[:, None] * cov1 + (score**2)[:, None] * cov0).sum(axis=0) / n1
    sign = np.where(treated, 1.0, -1.0)
    d = (design * (f * (sign * (y - mean_x_other) - estimate))[:, None]).sum(axis=0) / n1
    return float(c @ score_vcov @ c), float(d @ score_vcov @ d)


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
        raise PilotdidInputError(f"column(s) {missing} not in the data", where="matching",
                                 fix="check the outcome, treatment, covariate and exact names")
    notes: list[tuple[str, dict[str, Any]]] = []  # (catalogue key, fields): see note_text
    complete = data[list(dict.fromkeys(cols))].notna().all(axis=1)
    frame = data.loc[complete]
    if not complete.all():
        notes.append(("rows_missing", {"n": int((~complete).sum())}))
    _check_binary(frame, treat)
    is_t_all = pd.to_numeric(frame[treat]).to_numpy(float) > 0
    if is_t_all.all() or not is_t_all.any():
        raise PilotdidInputError(f"matching: {treat!r} has only {'treated' if is_t_all.any() else 'control'} rows",
                                 where=f"column {treat}", fix="matching needs treated and control rows")
    for col in [outcome, *covariates] + ([score] if score else []):
        if not pd.api.types.is_numeric_dtype(frame[col]):
            raise PilotdidInputError(f"matching: column {col!r} is not numeric", where=f"column {col}",
                                     fix="convert it to numbers (or use it in exact= for strata)")
    if score:
        pscore, design, score_vcov = frame[score].to_numpy(float), None, None
    else:
        pscore, design, score_vcov = _logit_score(frame[list(covariates)].to_numpy(float), is_t_all)
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
        raise PilotdidInputError("no treated row found a control", where="matching",
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
        notes.append(("alone_in_group", {"n": int(np.isnan(sigma_r).sum())}))
    var_r = dvar + float(np.nansum(sigma_r * coefficient[needs_sigma])) / n1**2
    se_r, se_h = float(np.sqrt(var_r)), float(np.sqrt(var_h))
    # Abadie-Imbens (2016): defined for nearest-neighbour matching with replacement of the whole sample on the score
    # estimated here
    # (the method first: radius matching has a caliper of its own, and "not defined with a caliper" misled there)
    why_not = ("given_score" if score else
               method if method != "nearest" else
               "no_replacement_or_ties" if not (replacement and ties) else
               "exact" if exact else "caliper" if caliper is not None else
               "common_support" if common_support else "")
    se_e, e_terms = None, None
    if why_not:
        if variance == "estimated_score":
            raise PilotdidInputError(f"variance = \"estimated_score\" (Abadie-Imbens 2016) is not defined with "
                                     f"{note_text(f'why_not.{why_not}', {})}",
                                     where="matching variance",
                                     fix="use nearest-neighbour matching with replacement and ties on the whole "
                                         "sample, or variance = \"robust\"")
        notes.append(("estimated_score_not_computed", {"why": (f"why_not.{why_not}", {})}))
    else:
        h = variance_neighbors + 1
        cvc, dvd = _estimated_score_terms(y, is_t_all, pscore, design, score_vcov, k, h, att, estimand, tie_slack)
        var_e = var_r - cvc + dvd
        e_terms = {"variance_known_score": var_r, "c_V_c": cvc, "d_V_d": dvd if estimand == "att" else None, "h": h}
        if np.isfinite(var_e) and var_e > 0:
            se_e = float(np.sqrt(var_e))
        elif variance == "estimated_score":
            raise PilotdidInputError(f"the Abadie-Imbens (2016) variance is not positive ({var_e:.6g}) in this sample",
                                     where="matching variance", fix="use variance = \"robust\"")
        else:
            notes.append(("estimated_score_not_positive", {"variance": var_e}))
    used_c = np.flatnonzero(~is_t_all & (k_count > 0))
    n_treated = int(is_t_all.sum())
    off = int((is_t_all & ~matched_t).sum())
    off_c = int((~is_t_all & ~target).sum()) if estimand == "ate" else 0
    dropped = {"missing": int((~complete).sum()), "treated_unmatched": off, "treated_no_control_in_stratum": no_controls,
               "controls_unmatched": off_c if estimand == "ate" else None}
    if off or off_c:
        why: list[tuple[str, dict[str, Any]]] = []
        if caliper is not None and method == "nearest":
            why.append(("why_unmatched.caliper_of", {"caliper": caliper}))
        if method in ("radius", "kernel"):
            why.append((f"why_unmatched.{'caliper' if method == 'radius' else 'bandwidth'}", {}))
        if common_support:
            why.append(("why_unmatched.off_support", {}))
        if no_controls:
            why.append(("why_unmatched.no_controls", {"n": no_controls}))
        notes.append(("unmatched_and_controls" if off_c else "unmatched",
                      {"off": off, "n": n_treated, "off_c": off_c, "estimand": estimand.upper(),
                       "why": why or [("why_unmatched.no_match", {})]}))
    bal = balance(frame, list(covariates), is_t_all, support & is_t_all | ~is_t_all, weight)
    settings = {"k": k if method == "nearest" else None, "replacement": replacement if method == "nearest" else None,
                "ties": (ties and replacement) if method == "nearest" else None, "caliper": caliper,
                "bandwidth": bandwidth if method == "kernel" else None, "exact": list(exact) or None,
                "common_support": common_support, "score": score or "logit", "variance_neighbors": variance_neighbors,
                "distance_tolerance": distance_tolerance if (method == "nearest" and ties and replacement) else None,
                "seed": seed if (method == "nearest" and not replacement) else None}
    rows = pd.DataFrame({"pscore": pscore, "treated": is_t_all, "weight": weight, "stratum": strata},
                        index=frame.index)
    chosen_se = {"robust": se_r, "homoskedastic": se_h, "estimated_score": se_e}[variance]
    return MatchingResult(att=att, se=chosen_se, se_robust=se_r, se_homoskedastic=se_h,
                          variance=variance, method=method, settings=settings, n_treated=n_treated,
                          n_treated_matched=int(matched_t.sum()), n_controls=int((~is_t_all).sum()), n_controls_used=int(used_c.size),
                          n_dropped=dropped, balance=bal, data=rows, outcome=outcome, alpha=alpha,
                          notes=[note_text(key, fields) for key, fields in notes], note_messages=notes,
                          estimand=estimand, n_target=n1, se_estimated_score=se_e, estimated_score_terms=e_terms)
