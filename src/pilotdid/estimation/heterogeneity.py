"""Subgroup (heterogeneity) estimates and the tests of their difference that papers usually skip.

A *split* divides the units into two groups by a unit-level characteristic (city size, centrality,
resource dependence, or any panel column / registry attribute). For each split we estimate

1. **separate regressions**, one per group: ``outcome ~ treatment + controls | fixed effects`` on
   the group's rows, with the study's standard-error preset;
2. **the fully interacted model** on the pooled rows of both groups: the treatment, every control
   and every fixed effect interacted with the group (so the year effects are group-specific; the
   unit effects are nested in the group anyway). Parametrised as
   ``treatment + treatment×1[first group] + controls + controls×1[first group] | FE×group``, the
   coefficient on ``treatment×1[first group]`` *is* the difference first − second, identical to
   the difference of the separate regressions (the two models have the same normal equations
   block by block). Its standard error comes from one cluster-robust sandwich over both groups,
   so a cluster that spans both groups (e.g. a province) is handled, and its p-value uses the
   preset's degrees of freedom.
3. **a Fisher permutation test**: the group labels are permuted across *units* (the group sizes
   fixed, optionally within strata such as adoption cohorts), both subgroup regressions are
   re-estimated for every draw and the actual difference is compared with the permutation
   distribution. Two statistics are reported: the raw difference (exact under the sharp null that
   the label is irrelevant) and the studentised difference ``(b1 − b2) / sqrt(se1² + se2²)``,
   which is also asymptotically valid for the weaker null ``b1 = b2`` when the two groups differ in
   size or variance (Chung & Romano 2013). p-values use the plus-one rule of
   :mod:`pilotdid.inference.placebo`.

The permutation engine reuses :class:`pilotdid.inference.placebo.FixedEffectPartialler` and the
placebo seeding convention: draws come in chunks of :data:`~pilotdid.rng.RNG_CHUNK`,
chunk ``c`` drawn from ``PCG64(SeedSequence(seed, spawn_key=(c,)))``. Its standard errors are
CRV1 with the pyfixest-default small-sample factor of each draw's subgroup fit; the studentised
statistic only needs to be comparable across draws.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError, check_table_entry
from pilotdid.estimation.twfe.covariance import DEFAULT_VCOV
from pilotdid.estimation.twfe.results import TwfeFit, TwfeResult
from pilotdid.estimation.within import FixedEffectPartialler, crv1_small_sample_factor
from pilotdid.parallel import one_blas_thread
from pilotdid.rng import RNG_CHUNK, TIE_RTOL, chunk_rng

PERMUTATION_P_RULE = (
    "permutation p = (1 + #{|d_r| >= |d|}) / (draws + 1), d = first-group minus second-group DID coefficient "
    "(plus-one rule); group labels permuted with group sizes fixed, within adoption cohorts (stratified: each "
    "group keeps its treated/never-treated composition) or across all units (unstratified)"
)
#: Which permutation p is the valid comparison when the groups' treatment shares differ.
STRATA_VALIDITY = (
    "A permutation test is valid when the group labels are exchangeable under the null. When the groups' shares "
    "of treated units differ, permuting labels across all units also reshuffles which group holds the treated "
    "units, so its null distribution mixes composition with chance and its p-value does not test 'same effect "
    "in both groups'; permuting within adoption cohorts keeps every group's treated/never-treated composition, "
    "which makes it the valid comparison (the default)."
)
INTERACTED_RULE = (
    "fully interacted model: treatment, controls and every fixed effect interacted with the group "
    "(group-specific period effects); the coefficient on treatment x first group equals the difference of the "
    "separate subgroup regressions"
)

#: Below this many treated units in a group, the table notes warn that its clustered SE is unreliable.
FEW_TREATED = 5


# --------------------------------------------------------------------------------------------
# Fitting (the project's TWFE wrapper, so every subgroup uses the study's SE preset)
# --------------------------------------------------------------------------------------------


@dataclass
class FitSummary:
    """The parts of a TWFE fit this module reports: a view of :class:`pilotdid.estimation.twfe.TwfeResult`
    (:func:`summarise`)."""

    coefs: pd.DataFrame  # term, coef, se, t, p, ci_low, ci_high
    nobs: int
    n_clusters: int | None
    r2: float | None
    r2_within: float | None
    adj_r2: float | None
    notes: list[str] = field(default_factory=list)
    convention: str | None = None
    vcov: str | None = None
    #: the full :class:`~pilotdid.estimation.twfe.TwfeResult` (for paper-style tables)
    result: Any = None

    def term(self, name: str) -> dict[str, float]:
        rows = self.coefs.loc[self.coefs["term"] == name]
        if rows.empty:
            raise KeyError(name)
        return {k: float(v) for k, v in rows.iloc[0].drop("term").items()}


def summarise(result: TwfeResult) -> FitSummary:
    """The parts of a :func:`~pilotdid.estimation.twfe.fit_twfe` result this module reports."""
    return FitSummary(
        coefs=result.coefs[["term", "coef", "se", "t", "p", "ci_low", "ci_high"]].copy(), nobs=int(result.nobs),
        n_clusters=None if result.n_clusters is None else int(result.n_clusters), r2=float(result.r2),
        r2_within=float(result.r2_within), adj_r2=float(result.adj_r2), notes=list(result.notes),
        convention=result.convention, vcov=result.vcov, result=result,
    )


# --------------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------------


@dataclass
class GroupSplit:
    """How to divide units into two groups.

    ``column`` is a panel column (or a merged attribute). The first label names the group where
    the column is true (bool / 0-1), equals ``values[0]`` (when ``values`` is given), or is
    ``>= threshold`` (when ``threshold`` is given). The column must be constant within a unit
    unless ``at`` = "first" / "last" picks the unit's value in its first / last period.
    """

    name: str
    column: str
    labels: tuple[str, str]
    titles: tuple[str, str] | None = None
    values: tuple[Any, Any] | None = None
    threshold: float | None = None
    at: str | None = None

    @classmethod
    def from_options(cls, raw: dict[str, Any], where: str) -> GroupSplit:
        """Parse one ``splits`` entry of ``[analyses.heterogeneity]``."""
        check_table_entry(raw, {"name", "column", "labels", "titles", "values", "threshold", "at"}, where,
                          what="a split", example='{name = "size", column = "large_city", labels = ["large", "small_medium"]}')
        column = raw.get("column")
        if not isinstance(column, str) or not column:
            raise PilotdidInputError("a split needs column = \"...\"", where=where, fix="name the panel column or attribute")
        labels = raw.get("labels", [f"{column}_1", f"{column}_0"])
        if not (isinstance(labels, (list, tuple)) and len(labels) == 2 and all(isinstance(x, str) and x for x in labels)
                and labels[0] != labels[1]):
            raise PilotdidInputError(f"labels must be two different names, got {labels!r}", where=where,
                                     fix='e.g. labels = ["large", "small_medium"]')
        titles = raw.get("titles")
        if titles is not None and not (isinstance(titles, (list, tuple)) and len(titles) == 2):
            raise PilotdidInputError(f"titles must be two strings, got {titles!r}", where=where, fix='e.g. titles = ["Large", "Small"]')
        values = raw.get("values")
        if values is not None and not (isinstance(values, (list, tuple)) and len(values) == 2 and values[0] != values[1]):
            raise PilotdidInputError(f"values must be two different values, got {values!r}", where=where,
                                     fix="values = [value of the first group, value of the second group]")
        threshold = raw.get("threshold")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))):
            raise PilotdidInputError(f"threshold must be a number, got {threshold!r}", where=where, fix="e.g. threshold = 100")
        if values is not None and threshold is not None:
            raise PilotdidInputError("give values or threshold, not both", where=where, fix="remove one of them")
        at = raw.get("at")
        if at not in (None, "first", "last"):
            raise PilotdidInputError(f"at must be \"first\" or \"last\", got {at!r}", where=where,
                                     fix="omit it for a time-invariant column")
        return cls(name=str(raw.get("name", column)), column=column, labels=(labels[0], labels[1]),
                   titles=(str(titles[0]), str(titles[1])) if titles else None,
                   values=tuple(values) if values is not None else None,
                   threshold=float(threshold) if threshold is not None else None, at=at)

    @property
    def display_titles(self) -> tuple[str, str]:
        return self.titles or self.labels


def unit_groups(data: pd.DataFrame, unit: str, time: str, split: GroupSplit, where: str = "split") -> tuple[pd.Series, list[str]]:
    """Per-unit membership of the first group (bool Series indexed by unit; units without a value are absent)
    and notes on every unit left out."""
    if split.column not in data.columns:
        raise PilotdidInputError(f"split '{split.name}': column '{split.column}' is neither in the panel nor an attribute",
                                 where=where, fix=f"use one of: {', '.join(map(str, list(data.columns)[:25]))}")
    col = data[split.column]
    if split.at is not None:
        ordered = data.sort_values([unit, time])
        per_unit = ordered.groupby(unit, sort=True)[split.column].agg("first" if split.at == "first" else "last")
    else:
        varying = data.groupby(unit, sort=True)[split.column].nunique(dropna=True)
        if (varying > 1).any():
            bad = varying.index[int(np.flatnonzero((varying > 1).to_numpy())[0])]
            raise PilotdidInputError(
                f"split '{split.name}': column '{split.column}' changes over time within unit {bad!r} "
                f"({int((varying > 1).sum())} units)", where=where,
                fix='set at = "first" (or "last") to use each unit\'s value in its first (last) period',
            )
        per_unit = data.groupby(unit, sort=True)[split.column].first()
    notes: list[str] = []
    missing = per_unit.isna()
    if missing.any():
        notes.append(f"split '{split.name}': {int(missing.sum())} unit(s) without a value of '{split.column}' "
                     "left out of both groups")
        per_unit = per_unit.loc[~missing]
    if split.threshold is not None:
        if not pd.api.types.is_numeric_dtype(col):
            raise PilotdidInputError(f"split '{split.name}': threshold needs a numeric column, '{split.column}' is {col.dtype}",
                                     where=where, fix="drop threshold or use a numeric column")
        first = per_unit.astype(float) >= split.threshold
    elif split.values is not None:
        v1, v2 = split.values
        first = per_unit == v1
        second = per_unit == v2
        other = ~(first | second)
        if other.any():
            notes.append(f"split '{split.name}': {int(other.sum())} unit(s) with '{split.column}' neither {v1!r} nor {v2!r} "
                         "left out of both groups")
            first = first.loc[~other]
    else:
        distinct = pd.unique(per_unit)
        truthy = set(map(_as_flag, distinct))
        if not truthy <= {True, False}:
            raise PilotdidInputError(
                f"split '{split.name}': column '{split.column}' is not a 0/1 or true/false flag "
                f"(values include {list(distinct)[:4]!r})", where=where,
                fix="add values = [first, second] or threshold = number to the split",
            )
        first = per_unit.map(_as_flag).astype(bool)
    return first.astype(bool), notes


def _as_flag(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
        return value.strip().lower() in ("true", "yes")
    return value


# --------------------------------------------------------------------------------------------
# Permutation engine
# --------------------------------------------------------------------------------------------


def permuted_labels(labels: np.ndarray, draws: int, seed: int, strata: np.ndarray | None = None) -> np.ndarray:
    """``draws`` permutations of a unit-level 0/1 label vector (draws x n_units), group sizes kept
    (within each stratum when ``strata`` is given). Deterministic in (seed, draw index)."""
    labels = np.asarray(labels, dtype=bool)
    n = labels.shape[0]
    out = np.empty((draws, n), dtype=bool)
    strata_codes = None if strata is None else pd.factorize(np.asarray(strata), sort=True)[0]
    for chunk in range((draws + RNG_CHUNK - 1) // RNG_CHUNK):
        rng = chunk_rng(seed, chunk)
        block = np.broadcast_to(labels, (RNG_CHUNK, n))
        if strata_codes is None:
            block = rng.permuted(block, axis=1)
        else:
            block = block.copy()
            for s in np.unique(strata_codes):
                idx = np.flatnonzero(strata_codes == s)
                block[:, idx] = rng.permuted(block[:, idx], axis=1)
        lo = chunk * RNG_CHUNK
        hi = min(draws, lo + RNG_CHUNK)
        out[lo:hi] = block[: hi - lo]
    return out


@dataclass
class _GroupDesign:
    """The pooled estimation rows of one split, as arrays (prepared once for all draws)."""

    y: np.ndarray
    d: np.ndarray
    x: np.ndarray
    unit_codes: np.ndarray
    fe_codes: list[np.ndarray]
    cluster_codes: np.ndarray | None
    nobs: int
    #: per FE: nested in the cluster variable on the pooled rows (then also within any subgroup)
    fe_nested: list[bool] = field(default_factory=list)
    #: fast path (first FE nested in the unit, other FEs with few levels): [y, d, x] and the dummies of
    #: the other FEs, both within-transformed by the first FE once; since a group holds whole units,
    #: that transform is the same on any group, and per draw only the dummies are projected out
    within_first: np.ndarray | None = None
    other_dummies: np.ndarray | None = None
    #: analytic regression weights (positive, per row): weighted within transforms, then every row times sqrt(w),
    #: so that the OLS algebra of :func:`_subgroup_fit` is WLS with weighted cluster scores
    weights: np.ndarray | None = None

    def prepare_fast_path(self, max_levels: int = 400) -> None:
        if not self.fe_codes or not _nested(self.fe_codes[0], self.unit_codes):
            return
        others = self.fe_codes[1:]
        if sum(int(c.max()) + 1 for c in others) > max_levels:
            return
        first = FixedEffectPartialler([self.fe_codes[0]], weights=self.weights)
        root = 1.0 if self.weights is None else np.sqrt(self.weights)[:, None]
        self.within_first = first.demean(np.column_stack([self.y, self.d, self.x])) * root
        if others:
            dummies = np.column_stack([(c[:, None] == np.arange(int(c.max()) + 1)[None, :]) for c in others])
            self.other_dummies = first.demean(dummies.astype(float)) * root


def _within(design: _GroupDesign, rows: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """[y, d, x] on ``rows`` with every fixed effect partialled out, and the FE level counts."""
    codes = [c[rows] for c in design.fe_codes]
    levels = [int(np.count_nonzero(np.bincount(c))) for c in codes]
    if design.within_first is None:
        w = None if design.weights is None else design.weights[rows]
        partialler = FixedEffectPartialler([_dense(c) for c in codes], tol=1e-13, weights=w)
        z = partialler.demean(np.column_stack([design.y[rows], design.d[rows], design.x[rows]]))
        return (z if w is None else z * np.sqrt(w)[:, None]), levels
    z = design.within_first[rows]
    if design.other_dummies is not None:
        u, sv, _ = np.linalg.svd(design.other_dummies[rows], full_matrices=False)
        u = u[:, sv > 1e-10 * max(1.0, sv[0])]
        z = z - u @ (u.T @ z)
    return z, levels


def _subgroup_fit(design: _GroupDesign, rows: np.ndarray) -> tuple[float, float]:
    """DID coefficient and CRV1 SE (pyfixest-default small-sample factor) on the given rows."""
    z, fe_levels = _within(design, rows)
    y, d, x = z[:, 0], z[:, 1], z[:, 2:]
    if x.shape[1]:
        q, r = np.linalg.qr(x)
        keep = np.abs(np.diag(r)) > 1e-10 * max(1.0, np.abs(np.diag(r)).max())
        q = q[:, keep]
        y = y - q @ (q.T @ y)
        d = d - q @ (q.T @ d)
        n_slopes = 1 + int(keep.sum())
    else:
        n_slopes = 1
    dd = float(d @ d)
    if dd <= 1e-12 * max(1, d.shape[0]):
        return np.nan, np.nan
    b = float(d @ y) / dd
    if design.cluster_codes is None:
        return b, np.nan
    resid = y - d * b
    clus = _dense(design.cluster_codes[rows])
    n_clusters = int(clus.max()) + 1
    if n_clusters < 2:
        return b, np.nan
    scores = np.bincount(clus, weights=d * resid, minlength=n_clusters)
    factor = crv1_small_sample_factor(int(rows.sum()), n_slopes, fe_levels, design.fe_nested, n_clusters)
    se = float(np.sqrt(factor * float(scores @ scores)) / dd)
    return b, se


def _dense(codes: np.ndarray) -> np.ndarray:
    """Consecutive integer codes 0..k-1 (levels absent from a subsample removed)."""
    return np.unique(codes, return_inverse=True)[1].astype(np.int64)


def _nested(fe_codes: np.ndarray, cluster_codes: np.ndarray) -> bool:
    """True when every level of the fixed effect lies inside one cluster."""
    pairs = np.unique(np.column_stack([fe_codes, cluster_codes]), axis=0)
    return bool(np.unique(pairs[:, 0]).size == pairs.shape[0])


def _row_mask(design: _GroupDesign, unit_in_first: np.ndarray) -> np.ndarray:
    return unit_in_first[design.unit_codes]


@dataclass
class PermutationDifference:
    """Fisher permutation test of a subgroup difference."""

    draws: int
    seed: int
    actual_diff: float
    actual_t: float
    diffs: np.ndarray
    ts: np.ndarray
    n_failed: int
    strata: str | None

    def _p(self, values: np.ndarray, actual: float) -> float:
        ok = values[np.isfinite(values)]
        count = int((np.abs(ok) >= abs(actual) - TIE_RTOL * max(1.0, abs(actual))).sum())
        return (1 + count) / (ok.size + 1)

    @property
    def p_diff(self) -> float:
        return self._p(self.diffs, self.actual_diff)

    @property
    def p_t(self) -> float:
        return self._p(self.ts, self.actual_t)

    def to_dict(self) -> dict[str, Any]:
        ok = self.diffs[np.isfinite(self.diffs)]
        return {
            "draws": self.draws, "seed": self.seed, "strata": self.strata, "actual_diff": self.actual_diff,
            "actual_t": self.actual_t, "p_permutation": self.p_diff, "p_permutation_t": self.p_t,
            "draws_used": int(ok.size), "draws_failed": self.n_failed,
            "perm_mean": float(ok.mean()) if ok.size else None, "perm_sd": float(ok.std(ddof=1)) if ok.size > 1 else None,
            "p_rule": PERMUTATION_P_RULE,
        }


def permutation_difference_test(
    data: pd.DataFrame, *, outcome: str, treatment: str, controls: Sequence[str], fixed_effects: Sequence[str],
    unit: str, group: str, cluster: str | None = None, draws: int = 999, seed: int = 12345,
    strata: str | None = None, progress: Callable[[str, int, int], None] | None = None, fast: bool = True,
    weights: str | None = None,
) -> PermutationDifference:
    """Permutation test of b(first group) − b(second group); ``group`` is a 0/1 unit-level column of ``data``
    (1 = first group), ``strata`` an optional unit-level column to permute within (e.g. adoption cohort).
    ``fast`` uses the exact shortcut of :meth:`_GroupDesign.prepare_fast_path` when it applies
    (``fast=False`` forces alternating projections per draw; the results agree to rounding).

    Rows with a missing value in a model column are dropped beforehand (the caller counts them). ``weights``: a
    column of analytic regression weights (every draw's two fits are then WLS; rows of weight zero are left out).
    """
    if draws < 1:
        raise PilotdidInputError(f"draws must be >= 1, got {draws}", where="[analyses.heterogeneity] draws", fix="e.g. draws = 999")
    cols = list(dict.fromkeys([outcome, treatment, *controls, *fixed_effects, unit, group]
                              + ([cluster] if cluster else []) + ([strata] if strata else [])
                              + ([weights] if weights else [])))
    frame = data[cols].dropna()
    if weights:
        frame = frame[frame[weights].to_numpy(float) > 0]
    unit_codes, unit_labels = pd.factorize(frame[unit], sort=True)
    per_unit = pd.Series(frame[group].to_numpy(float)).groupby(unit_codes).first().to_numpy() > 0.5
    design = _GroupDesign(
        y=frame[outcome].to_numpy(float), d=frame[treatment].to_numpy(float),
        x=frame[list(controls)].to_numpy(float) if controls else np.empty((len(frame), 0)),
        unit_codes=unit_codes,
        fe_codes=[pd.factorize(frame[f], sort=True)[0] for f in fixed_effects],
        cluster_codes=pd.factorize(frame[cluster], sort=True)[0] if cluster else None, nobs=len(frame),
        weights=frame[weights].to_numpy(float) if weights else None,
    )
    if design.cluster_codes is not None:
        design.fe_nested = [_nested(c, design.cluster_codes) for c in design.fe_codes]
    if fast:
        design.prepare_fast_path()
    strata_units = None
    if strata:
        strata_units = pd.Series(frame[strata].to_numpy()).groupby(unit_codes).first().to_numpy()

    def statistic(first_units: np.ndarray) -> tuple[float, float]:
        rows = _row_mask(design, first_units)
        b1, s1 = _subgroup_fit(design, rows)
        b2, s2 = _subgroup_fit(design, ~rows)
        return b1 - b2, (b1 - b2) / np.hypot(s1, s2)

    labels = permuted_labels(per_unit, draws, seed, strata_units)
    diffs = np.empty(draws)
    ts = np.empty(draws)
    # thousands of tiny LAPACK calls: BLAS threads only add overhead (10x slower on a busy machine)
    with one_blas_thread():
        actual_diff, actual_t = statistic(per_unit)
        for r in range(draws):
            diffs[r], ts[r] = statistic(labels[r])
            if progress is not None and (r + 1) % 100 == 0:
                progress("heterogeneity permutation", r + 1, draws)
    failed = int((~np.isfinite(diffs)).sum())
    return PermutationDifference(draws=draws, seed=seed, actual_diff=float(actual_diff), actual_t=float(actual_t),
                                 diffs=diffs, ts=ts, n_failed=failed, strata=strata)


# --------------------------------------------------------------------------------------------
# One split: separate fits, interacted model, permutation test
# --------------------------------------------------------------------------------------------


@dataclass
class SplitResult:
    """Everything estimated for one split."""

    split: GroupSplit
    fits: dict[str, FitSummary]  # by group label
    units: dict[str, int]
    treated_units: dict[str, int]
    never_treated_units: dict[str, int]
    years: dict[str, tuple[int, int]]
    difference: float
    interacted: dict[str, float]  # coef, se, t, p, ci_low, ci_high of the difference, nobs, n_clusters
    separate_difference: float
    permutation: PermutationDifference | None
    notes: list[str] = field(default_factory=list)
    #: further permutation tests of the same difference under other strata ("all units" = unstratified)
    other_permutations: dict[str, PermutationDifference] = field(default_factory=dict)

    @property
    def treated_share(self) -> dict[str, float]:
        """Share of each group's units ever treated in the panel."""
        return {lab: self.treated_units[lab] / self.units[lab] for lab in self.units}


def _check_subsample(frame: pd.DataFrame, treatment: str, unit: str, label: str, split: GroupSplit, where: str) -> None:
    if frame.empty:
        raise PilotdidInputError(f"split '{split.name}' leaves group '{label}' empty", where=where,
                                 fix="check the split column, its values/threshold, and missing values")
    d = frame[treatment].to_numpy(float)
    if (d > 0).all():
        raise PilotdidInputError(f"split '{split.name}': every row of group '{label}' is treated, so the DID is not identified",
                                 where=where, fix="choose a split that leaves untreated units or periods in each group")
    if (d <= 0).all():
        raise PilotdidInputError(f"split '{split.name}': no row of group '{label}' is treated", where=where,
                                 fix="choose a split with treated units in each group")


def _identified(frame: pd.DataFrame, treatment: str, fixed_effects: Sequence[str]) -> bool:
    codes = [pd.factorize(frame[f])[0] for f in fixed_effects]
    d = frame[treatment].to_numpy(float)
    resid = FixedEffectPartialler(codes, tol=1e-13).demean(d) if codes else d - d.mean()
    return float(resid @ resid) > 1e-10 * len(d)


def estimate_split(
    data: pd.DataFrame, split: GroupSplit, *, outcome: str, treatment: str, controls: Sequence[str],
    fixed_effects: Sequence[str], unit: str, time: str, cluster: str | None, vcov: str = DEFAULT_VCOV,
    first_treat: str | None = None, draws: int = 999, seed: int = 12345, strata: str | None = None,
    where: str = "[analyses.heterogeneity]", fit: TwfeFit | None = None,
    progress: Callable[[str, int, int], None] | None = None, also_strata: Sequence[str | None] = (),
    weights: str | None = None,
) -> SplitResult:
    """Separate subgroup fits, the fully interacted difference test and (``draws`` > 0) the permutation test
    within ``strata`` (None = across all units); ``also_strata`` adds the same test under other strata
    (``other_permutations``, keyed by the strata column or ``"all"``). ``weights``: analytic regression weights
    for every fit and every permutation draw."""
    wkw = {"weights": weights} if weights else {}
    if fit is None:
        from pilotdid.estimation.twfe import fit_twfe as fit
    first_units, notes = unit_groups(data, unit, time, split, where)
    model_cols = list(dict.fromkeys([outcome, treatment, *controls, *fixed_effects] + ([cluster] if cluster else [])
                                    + ([weights] if weights else [])))
    missing_cols = [c for c in model_cols if c not in data.columns]
    if missing_cols:
        raise PilotdidInputError(f"column(s) {missing_cols} not in the panel", where=where, fix="check [model]")
    frame = data.loc[data[unit].isin(first_units.index)].copy()
    frame["_group_first"] = frame[unit].map(first_units).astype(float)
    complete = frame[model_cols].notna().all(axis=1)
    if not complete.all():
        notes.append(f"split '{split.name}': {int((~complete).sum())} row(s) with a missing model value left out")
        frame = frame.loc[complete]
    labels = split.labels
    parts = {labels[0]: frame.loc[frame["_group_first"] > 0.5], labels[1]: frame.loc[frame["_group_first"] <= 0.5]}
    fits: dict[str, FitSummary] = {}
    units, treated, never, years = {}, {}, {}, {}
    for label, part in parts.items():
        _check_subsample(part, treatment, unit, label, split, where)
        if not _identified(part, treatment, fixed_effects):
            raise PilotdidInputError(
                f"split '{split.name}': in group '{label}' the treatment is collinear with the fixed effects "
                "(e.g. every unit adopts in the same period)", where=where, fix="choose another split")
        fits[label] = summarise(fit(part, outcome, [treatment, *controls], list(fixed_effects), cluster, vcov=vcov,
                                    **wkw))
        units[label] = int(part[unit].nunique())
        ever = part.groupby(unit)[treatment].max() > 0
        treated[label] = int(ever.sum())
        never[label] = int((~ever).sum())
        years[label] = (int(part[time].min()), int(part[time].max()))
        if treated[label] < FEW_TREATED:
            notes.append(f"split '{split.name}': group '{label}' has only {treated[label]} treated unit(s); its DID "
                         "rests on them, and cluster-robust standard errors are unreliable with so few treated "
                         "clusters (MacKinnon & Webb 2017) -- read the permutation p-value instead")
        if never[label] == 0:
            notes.append(f"split '{split.name}': group '{label}' has no never-treated unit; its DID is identified only "
                         "from differences in adoption timing")

    # fully interacted model: difference = coefficient on treatment x first group
    inter = frame.copy()
    g = inter["_group_first"].to_numpy(float)
    diff_term = "_did_x_first"
    inter[diff_term] = inter[treatment].to_numpy(float) * g
    inter_controls = []
    for c in controls:
        name = f"_x_first__{c}"
        inter[name] = inter[c].to_numpy(float) * g
        inter_controls.append(name)
    # group-specific versions of the fixed effects that are not nested in the group (e.g. the year):
    # the FE itself plus group x level dummies as regressors (one base level dropped per FE), so the
    # fixed-effect part stays the study's own and every SE preset counts parameters correctly
    nested_in_group = [bool((inter.groupby(f)["_group_first"].nunique() <= 1).all()) for f in fixed_effects]
    inter_dummies = []
    for f, nested in zip(fixed_effects, nested_in_group):
        if nested:
            continue
        both = inter.groupby(f)["_group_first"].nunique()
        shared = sorted(both.index[both.to_numpy() > 1], key=str)
        for level in shared[1:]:
            name = f"_gfe__{f}__{level}"
            inter[name] = ((inter[f] == level).to_numpy() * g).astype(float)
            inter_dummies.append(name)
    if not any(nested_in_group):
        inter["_group_main"] = g
        inter_dummies.append("_group_main")
    ifit = summarise(fit(inter, outcome, [treatment, diff_term, *controls, *inter_controls, *inter_dummies],
                         list(fixed_effects), cluster, vcov=vcov, **wkw))
    row = ifit.term(diff_term)
    interacted = {**row, "nobs": ifit.nobs, "n_clusters": ifit.n_clusters}
    separate = fits[labels[0]].term(treatment)["coef"] - fits[labels[1]].term(treatment)["coef"]

    perm = None
    if draws > 0:
        perm = permutation_difference_test(
            frame, outcome=outcome, treatment=treatment, controls=controls, fixed_effects=fixed_effects, unit=unit,
            group="_group_first", cluster=cluster, draws=draws, seed=seed, strata=strata, progress=progress,
            weights=weights,
        )
        others = {}
        for other in also_strata:
            if other == strata:
                continue
            others[other or "all"] = permutation_difference_test(
                frame, outcome=outcome, treatment=treatment, controls=controls, fixed_effects=fixed_effects,
                unit=unit, group="_group_first", cluster=cluster, draws=draws, seed=seed, strata=other,
                progress=progress, weights=weights)
        for test in (perm, *others.values()):
            if test.n_failed:
                notes.append(f"split '{split.name}': {test.n_failed} of {draws} permutation draws "
                             f"({'within ' + test.strata if test.strata else 'across all units'}) left a group "
                             "without identifying variation and were not counted")
    return SplitResult(split=split, fits=fits, units=units, treated_units=treated, never_treated_units=never,
                       years=years, difference=float(interacted["coef"]), interacted=interacted,
                       separate_difference=float(separate), permutation=perm, notes=notes,
                       other_permutations=others if draws > 0 else {})
