"""Two-way fixed-effects event study (dynamic DID) for staggered adoption.

Coding (named, because papers rarely say it):

* relative time ``rel = time - first_treat`` for units that are ever treated in the panel;
* the window ``[lo, hi]`` (default −4..+4) is **binned at both ends**: ``rel <= lo`` is pooled
  into the ``lo`` dummy ("−4 or earlier") and ``rel >= hi`` into the ``hi`` dummy ("+4 or
  later"), so every treated observation belongs to exactly one relative period;
* the ``base`` period (default −1, the year before adoption) is omitted: coefficients are
  differences from it and it is drawn at zero;
* never-treated units have every dummy at zero (they are pure controls).
* **multi-period bins** (``bins = [[-8, -5], [-4, -3], [-2, -2], [-1, -1], [0, 1], ...]`` or ``bin_width = 2``):
  one dummy per bin instead of per period; the bins must cover the window without gaps or overlaps, the first
  bin also holds everything before it and the last everything after it (endpoint binning), and the reference is
  the bin that holds ``base`` (or the bin given as ``base = [a, b]``). With ``bin_width = w`` the reference is
  ``base`` alone, post bins run [0, w-1], [w, 2w-1], ... and pre bins [base-w, base-1], ... back to the window's
  start (the outermost bins may be shorter). A bin's row carries ``rel_time`` = its first period and
  ``bin_low``/``bin_high``.

The regression is ``outcome ~ Σ_k D_k + controls | fixed_effects`` with CRV1 standard errors
clustered as in the baseline, fitted by the project's one TWFE fitter (``fit_twfe``, the study's SE preset).
95% CIs use the t distribution with G − 1
degrees of freedom (G clusters), as pyfixest and Stata do for clustered SEs.

Joint pre-trend test: H0 all lead coefficients (rel <= −2, base excluded) are zero, with the
clustered covariance V of those coefficients: ``chi2 = b'V⁻¹b`` on q degrees of freedom and
``F = chi2 / q`` compared with F(q, G − 1) (the form Stata's ``test`` reports after clustered
regressions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.event_study_result import EventStudyResult
from pilotdid.estimation.twfe.covariance import DEFAULT_VCOV
from pilotdid.estimation.twfe.results import TwfeFit


def dummy_name(k: int) -> str:
    """Column name of the relative-period dummy ``k`` (``_es_m4``, ``_es_p0`` ...)."""
    return f"_es_{'m' if k < 0 else 'p'}{abs(k)}"


def bin_name(a: int, b: int) -> str:
    """Column name of the bin [a, b] (one period: the period's name, as before bins existed)."""
    return dummy_name(a) if a == b else f"{dummy_name(a)}_to_{dummy_name(b)[4:]}"


def make_bins(window: tuple[int, int], base: int | Sequence[int] = -1, bins: Sequence[Sequence[int]] | None = None,
              bin_width: int | None = None) -> tuple[list[tuple[int, int]], tuple[int, int]]:
    """The bins [(a, b), ...] covering the window in order, and the reference bin (see the module docstring)."""
    where = "[analyses.event_study] bins"
    if bins is not None and bin_width is not None:
        raise PilotdidInputError("bins and bin_width both given", where=where, fix="give one of them")
    lo, hi = int(window[0]), int(window[1])
    if bins is None and lo > hi:
        raise PilotdidInputError(f"window = {[lo, hi]}: the first event time is after the last", where="window",
                                 fix="give [lo, hi] with lo <= hi, e.g. window = [-4, 4]")
    if bins is None:
        ref = int(base) if not isinstance(base, (list, tuple)) else None
        if bin_width is None or bin_width == 1:
            out = [(k, k) for k in range(lo, hi + 1)]
        else:
            if not isinstance(bin_width, int) or isinstance(bin_width, bool) or bin_width < 1:
                raise PilotdidInputError(f"bin_width = {bin_width!r}", where="[analyses.event_study] bin_width",
                                         fix="a positive integer, e.g. bin_width = 2")
            if ref is None:
                raise PilotdidInputError("bin_width needs base to be one period", where="[analyses.event_study] base",
                                         fix="e.g. base = -1, or list the bins with bins = [...]")
            post = [(a, min(a + bin_width - 1, hi)) for a in range(0, hi + 1, bin_width)]
            pre = [(max(b - bin_width + 1, lo), b) for b in range(ref - 1, lo - 1, -bin_width)][::-1]
            between = [(ref + 1, -1)] if ref < -1 else []  # periods between the reference and adoption
            out = pre + [(ref, ref)] + between + post
    else:
        try:
            out = [(int(a), int(b)) for a, b in bins]
        except (TypeError, ValueError):
            raise PilotdidInputError(f"bins = {bins!r}", where=where,
                                     fix="a list of [first, last] pairs, e.g. [[-4, -3], [-2, -2], [-1, -1], [0, 1]]") from None
        if any(isinstance(v, bool) or not isinstance(v, int) for pair in bins for v in pair):
            raise PilotdidInputError(f"bins = {bins!r}", where=where, fix="integer periods only")
        out = sorted(out)
        if any(a > b for a, b in out) or any(out[i][1] + 1 != out[i + 1][0] for i in range(len(out) - 1)):
            raise PilotdidInputError(f"bins {[list(b) for b in out]} overlap or leave a gap", where=where,
                                     fix="contiguous bins, each [first, last] with first <= last")
        lo, hi = out[0][0], out[-1][1]
    if isinstance(base, (list, tuple)):
        ref_bin = tuple(int(v) for v in base)
        if ref_bin not in out:
            raise PilotdidInputError(f"base = {list(base)} is not one of the bins", where="[analyses.event_study] base",
                                     fix="name a bin exactly, or one period (the bin holding it is the reference)")
    else:
        holding = [b for b in out if b[0] <= int(base) <= b[1]]
        if not holding:
            raise PilotdidInputError(f"base {base} is outside the bins", where="[analyses.event_study] base",
                                     fix="a period inside the window, e.g. base = -1")
        ref_bin = holding[0]
    if not (lo < 0 <= hi) or ref_bin[1] >= 0:
        raise PilotdidInputError(f"event-study window [{lo}, {hi}] with reference {list(ref_bin)} is not usable",
                                 where="[analyses.event_study] window/base",
                                 fix="use a window [lo, hi] with lo < 0 <= hi and a reference before 0, e.g. "
                                     "window = [-4, 4], base = -1")
    return out, ref_bin


def relative_time(data: pd.DataFrame, time: str, first_treat: str) -> pd.Series:
    """``time - first_treat`` for ever-treated units, NaN for never-treated (first_treat 0/NaN)."""
    g = pd.to_numeric(data[first_treat], errors="coerce")
    t = pd.to_numeric(data[time], errors="coerce")
    rel = (t - g).where(g > 0)
    return rel.astype(float)


def event_time_dummies(
    data: pd.DataFrame, time: str, first_treat: str, window: tuple[int, int] = (-4, 4), base: int | Sequence[int] = -1,
    bins: Sequence[Sequence[int]] | None = None, bin_width: int | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """The binned relative-time dummies (reference bin omitted) and each row's bin start.

    Returns (dummies with one column per bin except the reference, the first period of each row's bin with NaN
    for never-treated units).
    """
    edges, ref_bin = make_bins(window, base, bins, bin_width)
    lo, hi = edges[0][0], edges[-1][1]
    rel = relative_time(data, time, first_treat).clip(lower=lo, upper=hi)
    starts = np.array([a for a, _ in edges], dtype=float)
    idx = np.searchsorted(starts, rel.to_numpy(), side="right") - 1
    start = pd.Series(np.where(rel.notna(), starts[np.clip(idx, 0, len(starts) - 1)], np.nan), index=data.index)
    dummies = pd.DataFrame({bin_name(a, b): (start == a).astype(float) for a, b in edges if (a, b) != ref_bin},
                           index=data.index)
    return dummies, start


def fit_event_study(
    data: pd.DataFrame, *, outcome: str, unit: str, time: str, first_treat: str, controls: Sequence[str] = (),
    fixed_effects: Sequence[str] | None = None, cluster: str | None = None, window: tuple[int, int] = (-4, 4),
    base: int | Sequence[int] = -1, vcov: str = DEFAULT_VCOV, fit: TwfeFit | None = None,
    level: float = 0.95, bins: Sequence[Sequence[int]] | None = None, bin_width: int | None = None,
    weights: str | None = None,
) -> EventStudyResult:
    """Estimate the binned TWFE event study (see the module docstring for the coding).

    The regression is fitted by ``fit`` (default :func:`~pilotdid.estimation.twfe.fit_twfe`, or anything of its
    shape: ``fit(data, outcome, regressors, fixed_effects, cluster, vcov=, weights=) -> TwfeResult``) with the SE
    preset ``vcov`` and analytic ``weights``.
    """
    fixed_effects = list(fixed_effects) if fixed_effects is not None else [unit, time]
    cluster = cluster or unit
    if fit is None:
        from pilotdid.estimation.twfe import fit_twfe as fit
    edges, ref_bin = make_bins(window, base, bins, bin_width)
    dummies, start = event_time_dummies(data, time, first_treat, window, base, bins, bin_width)
    cols = [c for c in dict.fromkeys([outcome, unit, time, *controls, *fixed_effects, cluster]
                                     + ([weights] if weights else [])) if c in data.columns]
    frame = pd.concat([data[cols], dummies], axis=1)
    notes = []
    # a period is empty when no row the regression keeps has it: rows with a missing model value (listwise) or a
    # zero weight leave the fit, and their dummies would reach it as an all-zero regressor
    kept = frame[[outcome, *controls]].notna().all(axis=1)
    if weights:
        kept &= pd.to_numeric(frame[weights], errors="coerce").fillna(0) > 0
    empty = [c for c in dummies.columns if dummies.loc[kept, c].sum() == 0]
    if empty:  # named as the tables name periods (+4, -3 to -2), never by the internal dummy column
        period = {bin_name(a, b): (f"{a:+d}" if a == b else f"{a:+d} to {b:+d}").replace("+0", "0") for a, b in edges}
        notes.append(f"event study: no treated observation in relative period(s) {', '.join(period[c] for c in empty)}; "
                     "dropped")
    regressors = [c for c in dummies.columns if c not in empty]
    if not regressors:
        raise PilotdidInputError("event study: no treated unit has observations in the window",
                                 where="[analyses.event_study]", fix="check the treatment and the window")
    res = fit(frame, outcome, [*regressors, *controls], list(fixed_effects), cluster, vcov=vcov, weights=weights)
    coef = res.coefs.set_index("term")["coef"]
    covariance = res.vcov_matrix
    nobs, n_clusters, df_t = int(res.nobs), int(res.n_clusters or res.nobs), int(res.t_df)
    crit = stats.t.ppf(0.5 + level / 2, df_t)
    lo, hi = edges[0][0], edges[-1][1]
    counts = start.value_counts()
    rows = []
    for a, b in edges:
        name = bin_name(a, b)
        n_obs = int(counts.get(float(a), 0))
        row = {"rel_time": a, "bin_low": a, "bin_high": b, "n_treated_obs": n_obs,
               "binned": (a, b) in (edges[0], edges[-1]) or a != b}
        if (a, b) == ref_bin:
            rows.append({**row, "coef": 0.0, "se": np.nan, "t": np.nan, "p": np.nan, "ci_low": np.nan,
                         "ci_high": np.nan, "is_base": True, "binned": a != b})
            continue
        if name not in coef.index:
            continue
        est = float(coef[name])
        se = float(np.sqrt(covariance.loc[name, name]))
        t = est / se if se > 0 else np.nan
        rows.append({**row, "coef": est, "se": se, "t": t, "p": float(2 * stats.t.sf(abs(t), df_t)),
                     "ci_low": est - crit * se, "ci_high": est + crit * se, "is_base": False})
    leads = [bin_name(a, b) for a, b in edges if b < 0 and (a, b) != ref_bin and bin_name(a, b) in coef.index]
    pretrend = wald_test(coef, covariance, leads, df_t)
    if all(a == b for a, b in edges):
        coding = (f"relative time binned at both ends ({lo} means {lo} or earlier, +{hi} means +{hi} or later); "
                  f"base period {ref_bin[0]} omitted and drawn at 0")
    else:
        coding = ("relative time in bins " + ", ".join(f"[{a}, {b}]" for a, b in edges)
                  + f" (endpoint binning: the first bin also holds periods before {lo}, the last those after {hi}); "
                  f"reference bin [{ref_bin[0]}, {ref_bin[1]}] omitted and drawn at 0; a bin is drawn at its first period")
    notes.append(
        f"event study: {coding}; never-treated units have all dummies 0; "
        f"{int(level * 100)}% CIs from t({df_t}) with cluster-robust SEs by {cluster}"
    )
    out = pd.DataFrame(rows)
    estimated = [bin_name(a, b) for a, b in edges if (a, b) != ref_bin and bin_name(a, b) in coef.index]
    return EventStudyResult(estimator="twfe", table=out, window=(lo, hi), reference=ref_bin[0], nobs=nobs,
                            n_clusters=n_clusters, df_t=df_t, pretrend=pretrend, notes=notes,
                            bins=[list(e) for e in edges], reference_bin=list(ref_bin),
                            vcov=covariance.loc[estimated, estimated].to_numpy())


def wald_test(coef: pd.Series, vcov: pd.DataFrame, terms: Sequence[str], df_denominator: int) -> dict[str, Any]:
    """Joint test that ``terms`` are all zero: chi2 = b'V⁻¹b (q df) and F = chi2/q vs F(q, df_denominator)."""
    terms = list(terms)
    q = len(terms)
    if q == 0:
        return {"terms": [], "q": 0, "chi2": None, "p_chi2": None, "F": None, "p_F": None, "df_denominator": None}
    b = coef[terms].to_numpy(float)
    v = vcov.loc[terms, terms].to_numpy(float)
    chi2 = float(b @ np.linalg.pinv(v) @ b)
    f = chi2 / q
    return {"terms": terms, "q": q, "chi2": chi2, "p_chi2": float(stats.chi2.sf(chi2, q)), "F": f,
            "p_F": float(stats.f.sf(f, q, df_denominator)), "df_denominator": int(df_denominator),
            "hypothesis": "all lead coefficients (relative periods before the base excluded) equal zero"}
