"""Mechanism (mediator) regressions, and — on request — the classical three-step mediation test.

Default, as the paper does following Jiang Ting (2022): regress each mediator on the treatment,
the controls and the fixed effects, with the study's standard-error preset
(``mediator ~ treatment + controls | FE``). A positive, significant coefficient says the policy
moves the channel; it does not by itself apportion the effect on the outcome.

Optional, and labelled as such: the *classical three-step (Baron–Kenny) model* with a Sobel test
and a bootstrap confidence interval of the indirect effect, on the common sample of outcome and
mediator:

1. ``Y ~ D + X | FE``  → total effect c;
2. ``M ~ D + X | FE``  → a;
3. ``Y ~ D + M + X | FE`` → direct effect c′ and b.

Indirect effect ``a·b``; Sobel (first-order delta) standard error ``sqrt(a² se_b² + b² se_a²)``
with a normal p-value; the bootstrap resamples *units* with replacement (cluster bootstrap, a
resampled unit keeps its whole time series and gets its own fixed effect), re-estimates a and b by
Frisch–Waugh–Lovell, and reports the percentile interval of ``a·b``. Draw ``r`` is taken from
``PCG64(SeedSequence(seed, spawn_key=(c,)))`` in chunks ``c`` of
:data:`pilotdid.rng.RNG_CHUNK` draws, so results do not depend on anything but the seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from pilotdid.errors import PilotdidInputError, check_table_entry
from pilotdid.estimation.heterogeneity import FitSummary, summarise
from pilotdid.estimation.twfe.covariance import DEFAULT_VCOV
from pilotdid.estimation.twfe.results import TwfeFit
from pilotdid.estimation.within import FixedEffectPartialler
from pilotdid.parallel import one_blas_thread
from pilotdid.rng import RNG_CHUNK, chunk_rng

TRANSFORMS = ("none", "log", "log1p")
THREE_STEP_LABEL = "classical three-step (Baron–Kenny) with Sobel test and bootstrap CI of the indirect effect"


# --------------------------------------------------------------------------------------------
# Mediator definitions
# --------------------------------------------------------------------------------------------


@dataclass
class MediatorSpec:
    """One mediator: a panel column, or a principal-component index over listed columns
    (``pca``) or over a built-in indicator system (``pca_system``), optionally log-transformed."""

    name: str
    column: str | None = None
    pca: list[str] | None = None
    pca_system: str | None = None
    label: str | None = None
    transform: str = "none"
    note: str | None = None

    @classmethod
    def from_options(cls, raw: Any, where: str) -> MediatorSpec:
        """Parse one ``mediators`` entry of ``[analyses.mechanism]``."""
        check_table_entry(raw, {"name", "column", "pca", "pca_system", "label", "transform", "note"}, where,
                          what="a mediator", example='{name = "Dig", column = "dig_index"}')
        sources = [k for k in ("column", "pca", "pca_system") if raw.get(k) is not None]
        if len(sources) != 1:
            raise PilotdidInputError("a mediator needs exactly one of column, pca, pca_system", where=where,
                                     fix='e.g. column = "it_employment_share" or pca = ["a", "b"]')
        pca = raw.get("pca")
        if pca is not None and not (isinstance(pca, list) and len(pca) >= 2 and all(isinstance(c, str) for c in pca)):
            raise PilotdidInputError(f"pca must list at least two column names, got {pca!r}", where=where,
                                     fix='e.g. pca = ["digital_finance_index", "it_employment_share"]')
        transform = raw.get("transform", "none")
        if transform not in TRANSFORMS:
            raise PilotdidInputError(f"unknown transform {transform!r}", where=where, fix=f"use one of {', '.join(TRANSFORMS)}")
        name = raw.get("name") or raw.get("column")
        if not isinstance(name, str) or not name:
            raise PilotdidInputError("a mediator built by PCA needs a name", where=where, fix='add name = "Dig"')
        return cls(name=name, column=raw.get("column"), pca=list(pca) if pca else None, pca_system=raw.get("pca_system"),
                   label=raw.get("label"), transform=transform, note=raw.get("note"))

    @property
    def source_text(self) -> str:
        if self.column:
            base = self.column
        elif self.pca:
            base = f"PCA index of {', '.join(self.pca)}"
        else:
            base = f"PCA index of indicator system '{self.pca_system}'"
        return {"none": base, "log": f"ln({base})", "log1p": f"ln(1 + {base})"}[self.transform]


@dataclass
class BuiltMediator:
    values: pd.Series  # aligned with the panel's index; NaN where unavailable
    notes: list[str]
    details: dict[str, Any] = field(default_factory=dict)


def build_mediator(panel: pd.DataFrame, spec: MediatorSpec, unit: str, time: str, where: str = "mediator") -> BuiltMediator:
    """The mediator series for the panel (NaN where it cannot be built; every such row counted in notes)."""
    notes: list[str] = []
    details: dict[str, Any] = {}
    if spec.column:
        if spec.column not in panel.columns:
            raise PilotdidInputError(f"mediator '{spec.name}': column '{spec.column}' is not in the panel", where=where,
                                     fix=f"use one of: {', '.join(map(str, list(panel.columns)[:25]))}")
        if not pd.api.types.is_numeric_dtype(panel[spec.column]):
            raise PilotdidInputError(f"mediator '{spec.name}': column '{spec.column}' is not numeric", where=where,
                                     fix="convert it to numbers")
        values = panel[spec.column].astype(float)
    else:
        values, pca_notes, details = _pca_mediator(panel, spec, unit, time, where)
        notes += pca_notes
    if spec.transform in ("log", "log1p"):
        shifted = values + (1.0 if spec.transform == "log1p" else 0.0)
        bad = shifted.notna() & (shifted <= 0)
        if bad.any():
            notes.append(f"mediator '{spec.name}': {int(bad.sum())} row(s) with a non-positive value have no "
                         f"{'ln(1+x)' if spec.transform == 'log1p' else 'ln'} and are left out")
        values = np.log(shifted.where(~bad))
    if values.notna().sum() == 0:
        raise PilotdidInputError(f"mediator '{spec.name}' has no non-missing value", where=where, fix="check its column(s)")
    return BuiltMediator(values=values.rename(spec.name), notes=notes, details=details)


def _pca_mediator(panel: pd.DataFrame, spec: MediatorSpec, unit: str, time: str, where: str):
    from pilotdid.measures.pca import pca_index
    from pilotdid.measures.system import system_from_dict

    if spec.pca:
        missing = [c for c in spec.pca if c not in panel.columns]
        if missing:
            raise PilotdidInputError(f"mediator '{spec.name}': PCA column(s) {missing} not in the panel", where=where,
                                     fix="list existing numeric columns in pca = [...]")
        system = system_from_dict(
            {"unit": unit, "time": time, "name": spec.name,
             "indicator": [{"name": c, "dimension": c, "sign": "+"} for c in spec.pca]},
            where=f"{where} pca", stem=spec.name)
        columns = list(spec.pca)
    else:
        from pilotdid.measures._panel import resolve_system

        system = resolve_system(spec.pca_system)
        columns = [ind.column for ind in system.used]
        missing = [c for c in columns if c not in panel.columns]
        if missing:
            raise PilotdidInputError(f"mediator '{spec.name}': indicator column(s) {missing} of system "
                                     f"'{spec.pca_system}' not in the panel", where=where, fix="add them or use pca = [...]")
    complete = panel[columns].notna().all(axis=1)
    notes = []
    if not complete.all():
        notes.append(f"mediator '{spec.name}': {int((~complete).sum())} of {len(panel)} rows lack one of "
                     f"{', '.join(columns)} and have no index value")
    result = pca_index(panel.loc[complete], system, unit=unit, time=time)
    values = pd.Series(np.nan, index=panel.index, dtype=float)
    values.loc[result.index.index] = result.index.to_numpy(float)
    notes += [f"mediator '{spec.name}': {n}" for n in result.notes]
    details = {"pca_indicators": list(result.indicators), "pca_retained": int(result.retained),
               "pca_kmo": float(result.kmo), "pca_bartlett_p": float(result.bartlett_p),
               "pca_coefficients": {k: float(v) for k, v in result.coefficients.items()}}
    return values, notes, details


# --------------------------------------------------------------------------------------------
# Mediator regressions
# --------------------------------------------------------------------------------------------


@dataclass
class MediatorResult:
    spec: MediatorSpec
    fit: FitSummary
    nobs: int
    units: int
    years: tuple[int, int]
    rows_without_mediator: int
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def mediator_regressions(
    data: pd.DataFrame, mediators: Sequence[MediatorSpec], *, treatment: str, controls: Sequence[str],
    fixed_effects: Sequence[str], unit: str, time: str, cluster: str | None, vcov: str = DEFAULT_VCOV,
    where: str = "[analyses.mechanism]", fit: TwfeFit | None = None, weights: str | None = None,
) -> list[MediatorResult]:
    """``mediator ~ treatment + controls | FE`` for each mediator, each on the rows where it exists (``weights``:
    analytic regression weights, as the baseline's)."""
    if fit is None:
        from pilotdid.estimation.twfe import fit_twfe as fit
    if not mediators:
        raise PilotdidInputError("no mediators given", where=where, fix='add mediators = [{name = "Dig", column = "..."}]')
    names = [m.name for m in mediators]
    if len(set(names)) != len(names):
        raise PilotdidInputError(f"mediator names repeat: {names}", where=where, fix="give each mediator a unique name")
    out = []
    for k, spec in enumerate(mediators):
        built = build_mediator(data, spec, unit, time, where=f"{where} mediators[{k}]")
        col = f"_mediator__{spec.name}"
        frame = data.assign(**{col: built.values})
        has = frame[col].notna()
        if not has.any():
            raise PilotdidInputError(f"mediator '{spec.name}' is missing everywhere", where=where, fix="check its source")
        sub = frame.loc[has]
        if sub[treatment].nunique() < 2:
            raise PilotdidInputError(f"mediator '{spec.name}': the treatment does not vary where the mediator exists "
                                     f"({time} {int(sub[time].min())}-{int(sub[time].max())})", where=where,
                                     fix="use a mediator covering treated and untreated periods")
        res = summarise(fit(sub, col, [treatment, *controls], list(fixed_effects), cluster, vcov=vcov,
                            **({"weights": weights} if weights else {})))
        notes = list(built.notes)
        if (~has).any():
            notes.append(f"mediator '{spec.name}': {int((~has).sum())} of {len(frame)} rows have no value "
                         f"(it exists for {time} {int(sub[time].min())}-{int(sub[time].max())})")
        if res.nobs < int(has.sum()):
            notes.append(f"mediator '{spec.name}': a further {int(has.sum()) - res.nobs} row(s) left out of its "
                         "regression (missing control or fixed-effect singleton)")
        if spec.note:
            notes.append(f"mediator '{spec.name}': {spec.note}")
        out.append(MediatorResult(spec=spec, fit=res, nobs=res.nobs, units=int(sub[unit].nunique()),
                                  years=(int(sub[time].min()), int(sub[time].max())),
                                  rows_without_mediator=int((~has).sum()), notes=notes, details=built.details))
    return out


# --------------------------------------------------------------------------------------------
# Classical three-step model
# --------------------------------------------------------------------------------------------


@dataclass
class ThreeStepResult:
    """The three regressions, the Sobel test and the bootstrap interval of a·b."""

    mediator: str
    total: dict[str, float]  # c (step 1)
    a: dict[str, float]  # step 2: treatment -> mediator
    b: dict[str, float]  # step 3: mediator -> outcome given treatment
    direct: dict[str, float]  # c' (step 3)
    indirect: float
    sobel_se: float
    sobel_z: float
    sobel_p: float
    boot_ci: tuple[float, float]
    boot_draws: int
    boot_failed: int
    seed: int
    nobs: int
    proportion_mediated: float | None
    label: str = THREE_STEP_LABEL
    se_convention: str = ""  # the SE preset and clustering of the three regressions, in words

    def to_dict(self) -> dict[str, Any]:
        return {
            "mediator": self.mediator, "label": self.label, "total_effect": self.total["coef"],
            "a": self.a["coef"], "a_se": self.a["se"], "b": self.b["coef"], "b_se": self.b["se"],
            "direct_effect": self.direct["coef"], "indirect_effect": self.indirect, "sobel_se": self.sobel_se,
            "sobel_z": self.sobel_z, "sobel_p": self.sobel_p, "boot_ci_low": self.boot_ci[0],
            "boot_ci_high": self.boot_ci[1], "boot_draws": self.boot_draws, "boot_failed": self.boot_failed,
            "seed": self.seed, "nobs": self.nobs, "proportion_mediated": self.proportion_mediated,
            "boot_rule": "unit (cluster) bootstrap with replacement, percentile 95% interval of a*b",
            "sobel_rule": "Sobel first-order SE sqrt(a^2 se_b^2 + b^2 se_a^2), normal p-value",
        }


def _fwl_ab(z: np.ndarray, fe_codes: list[np.ndarray]) -> tuple[float, float]:
    """a and b from demeaned columns z = [y, m, d, x...] (FWL on the given fixed effects)."""
    w = FixedEffectPartialler(fe_codes, tol=1e-13).demean(z)
    y, m, d, x = w[:, 0], w[:, 1], w[:, 2], w[:, 3:]
    a = np.linalg.lstsq(np.column_stack([d, x]), m, rcond=None)[0][0]
    b = np.linalg.lstsq(np.column_stack([m, d, x]), y, rcond=None)[0][0]
    return float(a), float(b)


def three_step(
    data: pd.DataFrame, *, outcome: str, mediator: str, treatment: str, controls: Sequence[str],
    fixed_effects: Sequence[str], unit: str, cluster: str | None, vcov: str = DEFAULT_VCOV, draws: int = 499,
    seed: int = 12345, level: float = 0.95, fit: TwfeFit | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> ThreeStepResult:
    """The classical three-step mediation model on the common sample of ``outcome`` and ``mediator``.

    The bootstrap re-demeans every draw with the resampled units as new fixed-effect levels; the
    other fixed effects keep their levels.
    """
    if fit is None:
        from pilotdid.estimation.twfe import fit_twfe as fit
    cols = list(dict.fromkeys([outcome, mediator, treatment, *controls, *fixed_effects, unit]
                              + ([cluster] if cluster else [])))
    frame = data[cols].dropna()
    if frame.empty:
        raise PilotdidInputError(f"three-step: no row has both '{outcome}' and '{mediator}'", where="[analyses.mechanism]",
                                 fix="check the mediator's coverage")
    step1 = summarise(fit(frame, outcome, [treatment, *controls], list(fixed_effects), cluster, vcov=vcov))
    step2 = summarise(fit(frame, mediator, [treatment, *controls], list(fixed_effects), cluster, vcov=vcov))
    step3 = summarise(fit(frame, outcome, [treatment, mediator, *controls], list(fixed_effects), cluster, vcov=vcov))
    a, b = step2.term(treatment), step3.term(mediator)
    indirect = a["coef"] * b["coef"]
    sobel_se = float(np.sqrt(a["coef"] ** 2 * b["se"] ** 2 + b["coef"] ** 2 * a["se"] ** 2))
    sobel_z = indirect / sobel_se if sobel_se > 0 else np.nan
    sobel_p = float(2 * stats.norm.sf(abs(sobel_z)))

    unit_codes, unit_labels = pd.factorize(frame[unit], sort=True)
    n_units = len(unit_labels)
    rows_of = [np.flatnonzero(unit_codes == u) for u in range(n_units)]
    other_fe = [pd.factorize(frame[f], sort=True)[0] for f in fixed_effects if f != unit]
    unit_in_fe = unit in fixed_effects
    z = frame[[outcome, mediator, treatment, *controls]].to_numpy(float)
    estimates = np.full(draws, np.nan)
    # many tiny solves: BLAS threads only add overhead
    with one_blas_thread():
        for chunk in range((draws + RNG_CHUNK - 1) // RNG_CHUNK):
            rng = chunk_rng(seed, chunk)
            picks = rng.integers(0, n_units, size=(RNG_CHUNK, n_units))
            for j in range(RNG_CHUNK):
                r = chunk * RNG_CHUNK + j
                if r >= draws:
                    break
                idx = np.concatenate([rows_of[u] for u in picks[j]])
                new_unit = np.repeat(np.arange(n_units), [rows_of[u].size for u in picks[j]])
                codes = ([new_unit] if unit_in_fe else []) + [np.unique(c[idx], return_inverse=True)[1] for c in other_fe]
                try:
                    ab = _fwl_ab(z[idx], codes)
                except (np.linalg.LinAlgError, RuntimeError):
                    continue
                estimates[r] = ab[0] * ab[1]
            if progress is not None:
                progress("three-step bootstrap", min(draws, (chunk + 1) * RNG_CHUNK), draws)
    ok = estimates[np.isfinite(estimates)]
    alpha = 1 - level
    ci = (float(np.quantile(ok, alpha / 2)), float(np.quantile(ok, 1 - alpha / 2))) if ok.size else (np.nan, np.nan)
    total = step1.term(treatment)
    share = indirect / total["coef"] if total["coef"] != 0 else None
    return ThreeStepResult(
        mediator=mediator, total=total, a=a, b=b, direct=step3.term(treatment), indirect=float(indirect),
        sobel_se=sobel_se, sobel_z=float(sobel_z), sobel_p=sobel_p, boot_ci=ci, boot_draws=draws,
        boot_failed=int(draws - ok.size), seed=seed, nobs=step3.nobs, proportion_mediated=share,
        se_convention=step3.convention,
    )
