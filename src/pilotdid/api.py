"""The public Python API: ``import pilotdid as pdid``.

Every function takes a pandas DataFrame (one row per unit and period) and returns a result object
with the protocol of :class:`pilotdid.results.Result`: ``.summary()`` (text), ``.tidy()`` (a DataFrame
with term/estimate/se/t/p/ci_low/ci_high/kind), ``.plot()`` (a matplotlib Figure, never saved),
``._repr_html_()`` (notebooks), ``.to_dict()`` (the results.json record) and ``.conventions``.

These are thin wrappers over the numerical core (``pilotdid.measures``, ``pilotdid.design``,
``pilotdid.estimation``, ``pilotdid.inference``); the study runner and the command line use the same
core, so a number from here equals the number ``pilotdid run`` writes for the same panel and options.
Heavy modules are imported inside each function, so ``import pilotdid`` stays light.

Staggered timing is given as a ``first_treat`` column: the period a unit is first treated, 0 or empty for
never-treated units.

Arguments shared by the functions below (a function's own docstring says where it differs):

- ``data``: the panel, one row per unit and period (never modified).
- ``outcome``: the outcome column. ``unit``: the unit-id column. ``time``: the period column (whole numbers).
- ``first_treat``: the column with the period a unit is first treated (0 or empty = never treated).
- ``treatment``: a 0/1 treatment column.
- ``controls``: control columns of a TWFE regression (linear, beside the treatment). ``covariates``: the
  covariates of a heterogeneity-robust estimator, used as its reference implementation uses them.
- ``fixed_effects``: fixed-effect columns, the unit first (default: ``[unit, time]``).
- ``cluster``: the column of cluster-robust (CRV1) standard errors. ``None`` means heteroskedasticity-robust
  (HC1) errors for :func:`twfe`, :func:`placebo`, :func:`psm`, :func:`mediation` and :func:`subgroups` (as
  Stata without ``vce(cluster)``), and clustering by ``unit`` for :func:`event_study` and the staggered
  estimators.
- ``vcov``: the standard-error preset (``"lsdv"``, ``"areg"``, ``"xtreg_fe"``, ``"reghdfe"``, ``"fixest"``;
  see :func:`twfe`).
- ``weights``: a column of analytic weights (Stata ``aw``) -- except in :func:`wild_bootstrap`, where it
  names the bootstrap weight distribution.
- ``alpha``: one minus the confidence level of the intervals (0.05: 95%).
- ``seed``: the seed of every random draw (results depend on it, never on ``jobs``); 12345 by default, the
  study file's default ``[study] seed``, so a number from here equals ``pilotdid run``'s.
- ``draws``: the number of random draws (permutations, bootstrap replications).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.twfe.covariance import DEFAULT_VCOV
from pilotdid.results.protocol import Result, tidy_frame

if TYPE_CHECKING:  # pragma: no cover - for type checkers and help() only
    from pilotdid.design.psm import MatchResult
    from pilotdid.estimation.matching import MatchingResult
    from pilotdid.estimation.staggered.bacon import BaconResult
    from pilotdid.estimation.staggered.cs import CSResult
    from pilotdid.estimation.event_study_result import EventStudyResult
    from pilotdid.estimation.twfe.results import TwfeResult
    from pilotdid.inference.honest import HonestResult
    from pilotdid.inference.placebo import PlaceboResult
    from pilotdid.inference.wild_bootstrap import WildBootstrapResult
    from pilotdid.measures.index import IndexResult

__all__ = [
    "att_gt", "bacon", "critic_index", "did_multiplegt_dyn", "entropy_index", "equal_index", "etable", "etwfe",
    "event_study", "honest", "imputation", "matching", "mediation", "parse_formula", "pca_index", "placebo",
    "pretrend_power", "psm", "run_study",
    "sdid", "specification_curve", "stacked", "subgroups", "sun_abraham", "table", "topsis_index", "twfe",
    "wild_bootstrap",
]

VcovPreset = Literal["lsdv", "areg", "xtreg_fe", "reghdfe", "fixest"]
_NAME = r"[A-Za-z_][A-Za-z0-9_.]*"


# ------------------------------------------------------------------------------------------------- TWFE

def parse_formula(formula: str) -> tuple[str, list[str], list[str]]:
    """``"y ~ did + x1 | city + year"`` -> (``"y"``, ``["did", "x1"]``, ``["city", "year"]``).

    Plain column names only (no transformations): the left side is the outcome, the right side before ``|``
    the regressors (treatment first), after ``|`` the fixed effects (the unit first).

    ``formula``: the formula string; a transformation (``log(x)``) or a missing ``~`` is refused.
    """
    if formula.count("~") != 1:
        raise PilotdidInputError(f"formula {formula!r} needs exactly one '~'", where="formula",
                                 fix='e.g. "y ~ did + x1 + x2 | city + year"')
    lhs, rhs = (part.strip() for part in formula.split("~"))
    regs, _, fes = rhs.partition("|")
    regressors = [t.strip() for t in regs.split("+") if t.strip()]
    fixed_effects = [t.strip() for t in fes.split("+") if t.strip()]
    for name in [lhs, *regressors, *fixed_effects]:
        if not re.fullmatch(_NAME, name):
            raise PilotdidInputError(f"{name!r} in formula {formula!r} is not a plain column name", where="formula",
                                     fix="create the transformed column in the DataFrame first, then name it")
    if not regressors:
        raise PilotdidInputError(f"formula {formula!r} has no regressor", where="formula", fix='e.g. "y ~ did | city + year"')
    return lhs, regressors, fixed_effects


def twfe(
    data: pd.DataFrame,
    formula: str,
    *,
    vcov: VcovPreset = DEFAULT_VCOV,
    cluster: str | None = None,
    weights: str | None = None,
) -> TwfeResult:
    """Two-way (or more-way) fixed-effects OLS with a named standard-error preset.

    Parameters
    ----------
    data:
        The panel (not modified). Rows with a missing model value are left out and counted in ``notes``.
    formula:
        ``"y ~ did + x1 + x2 | city + year"``: outcome, regressors (the treatment first), then the fixed
        effects (the unit first: it is the one ``areg``/``xtreg`` absorb).
    vcov:
        The standard-error convention: ``"lsdv"`` (default, as every ``vcov`` here and the study file's
        ``[model] vcov``: ``reg … i.city i.year``, every fixed-effect dummy counted), ``"areg"``, ``"xtreg_fe"``,
        ``"reghdfe"`` (singletons dropped and counted) or ``"fixest"``. Coefficients are the same under every
        preset; SEs, t degrees of freedom and the reported constant differ (see README). Before 2026-12 the
        default was ``"reghdfe"``.
    cluster:
        Column to cluster by (CRV1); ``None`` gives heteroskedasticity-robust (HC1) errors.
    weights:
        Optional column of analytic weights.

    Returns
    -------
    TwfeResult
        ``.summary()``, ``.tidy()``, ``.term("did")``, ``.conventions`` (preset, Stata command, small-sample
        factor, t df, R² kinds), ``.to_dict()`` (results.json ``estimates`` rows).

    Examples
    --------
    >>> import pandas as pd
    >>> panel = pd.read_excel("examples/lowcarbon/sample.xlsx")  # run from the repository root
    >>> fit = pdid.twfe(panel, "ln_carbon_intensity ~ did + ln_pgdp | city_name + year", vcov="reghdfe",
    ...                 cluster="city_name")
    >>> round(fit.term("did")["coef"], 6), fit.nobs
    (0.000375, 3623)
    >>> list(fit.tidy()["term"])
    ['did', 'ln_pgdp', '_cons']
    """
    from pilotdid.estimation.twfe import fit_twfe

    outcome, regressors, fixed_effects = parse_formula(formula)
    return fit_twfe(data, outcome, regressors, fixed_effects, cluster, vcov=vcov, weights=weights)


def event_study(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    first_treat: str,
    controls: Sequence[str] = (),
    fixed_effects: Sequence[str] | None = None,
    cluster: str | None = None,
    window: tuple[int, int] = (-4, 4),
    base: int = -1,
    vcov: VcovPreset = DEFAULT_VCOV,
    weights: str | None = None,
) -> EventStudyResult:
    """TWFE event study (dynamic DID) with relative time binned at both ends of ``window``.

    The ``base`` period is omitted and drawn at zero; never-treated units have every dummy at zero.
    Standard errors follow the ``vcov`` preset (clustered by ``cluster``, default the unit), exactly as the
    ``[analyses.event_study]`` of a study file does; ``weights``: a column of analytic weights (Stata ``aw``,
    as ``[model] weights``). The result carries the joint pre-trend test in ``.pretrend``; ``.plot()`` draws
    the coefficients.

    ``controls``, ``fixed_effects``: as :func:`twfe`'s regressors and fixed effects; ``window`` = (lo, hi): the
    event times estimated, lo meaning lo or earlier and hi meaning hi or later; ``base``: the omitted period.
    """
    from pilotdid.estimation.event_study import fit_event_study

    return fit_event_study(data, outcome=outcome, unit=unit, time=time, first_treat=first_treat,
                           controls=list(controls), fixed_effects=fixed_effects, cluster=cluster,
                           window=tuple(window), base=base, vcov=vcov, weights=weights)


def placebo(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    first_treat: str,
    treatment: str | None = None,
    controls: Sequence[str] = (),
    fixed_effects: Sequence[str] | None = None,
    cluster: str | None = None,
    vcov: VcovPreset = DEFAULT_VCOV,
    kind: Literal["permute_cohorts", "random_years"] = "permute_cohorts",
    draws: int = 1000,
    seed: int = 12345,
    jobs: int = 1,
    weights: str | None = None,
) -> PlaceboResult:
    """Staggered placebo test: ``draws`` re-assignments of adoption years, each re-estimated in full.

    ``kind="permute_cohorts"`` shuffles the observed adoption years across units (cohort sizes kept);
    ``"random_years"`` draws treated units and years. The SEs of every draw use the small-sample factor of
    the ``vcov`` preset of the actual fit, so placebo t statistics are on the baseline's scale. Draws are
    seeded per chunk (``pilotdid.rng``): the result depends only on ``seed``, never on ``jobs``.
    ``treatment`` is the actual 0/1 column (default ``1[time >= first_treat]``). ``weights``: analytic weights
    (weighted within transformation; each draw equals a weighted refit).

    ``cluster``: ``None`` gives HC1 errors as :func:`twfe` (the study runner clusters by ``[model] cluster``,
    the unit by default): the placebo p-value of the coefficient does not depend on it, its t-based p does.
    """
    import numpy as np

    from pilotdid.estimation.twfe import fit_twfe
    from pilotdid.estimation.twfe.covariance import get_preset
    from pilotdid.inference.placebo import PlaceboDesign

    fixed_effects = list(fixed_effects) if fixed_effects is not None else [unit, time]
    frame = data.copy()
    # never treated: 0 or empty (as every estimator reads it); an empty cell must not make the row "missing"
    g = pd.to_numeric(frame[first_treat], errors="coerce")
    text = g.isna() & frame[first_treat].notna()
    if text.any():
        raise PilotdidInputError(f"first-treatment column {first_treat!r} has a non-numeric value "
                                 f"{frame[first_treat][text].iloc[0]!r} at row {int(text.to_numpy().argmax()) + 1}",
                                 where="placebo", fix="give the first treated period as a number, or 0 / empty for never")
    g = g.fillna(0)
    frame[first_treat] = g
    if treatment is None:
        frame["_placebo_actual"] = ((g > 0) & (pd.to_numeric(frame[time]) >= g)).astype(float)
        treatment = "_placebo_actual"
    clus = cluster
    if clus is None:  # heteroskedasticity-robust = one cluster per row
        frame["_row_cluster"] = np.arange(len(frame))
        clus = "_row_cluster"
    actual = fit_twfe(frame, outcome, [treatment, *controls], fixed_effects, cluster, vcov=vcov, weights=weights)
    design = PlaceboDesign.prepare(frame, outcome=outcome, unit=unit, time=time, first_treat=first_treat,
                                   treatment=treatment, controls=list(controls), fixed_effects=fixed_effects,
                                   cluster=clus, drop_singletons=get_preset(vcov).drop_singletons, weights=weights)
    return design.run(kind=kind, draws=draws, seed=seed, ssc_factor=actual.small_sample_factor, jobs=jobs)


# ------------------------------------------------------------------------------------------------- staggered

def att_gt(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    first_treat: str,
    covariates: Sequence[str] | None = None,
    control_group: Literal["never_treated", "not_yet_treated"] = "never_treated",
    est_method: Literal["dr", "ipw", "reg"] = "dr",
    base_period: Literal["varying", "universal"] = "varying",
    anticipation: int = 0,
    cluster: str | None = None,
    alpha: float = 0.05,
    ps_fallback: Literal["error", "none", "reg"] = "error",
    covariate_period: Literal["earlier", "base"] = "earlier",
    bootstrap_draws: int = 0,
    seed: int = 12345,
    weights: str | None = None,
) -> CSResult:
    """Callaway & Sant'Anna (2021) group-time ATT(g,t), as R ``did::att_gt`` (balanced panel).

    Returns a result with ``.aggregate("simple"|"dynamic"|"group"|"calendar", bootstrap_draws=..., seed=...)``
    (R ``aggte``). ``bootstrap_draws`` > 0 runs the multiplier bootstrap on the cells (uniform bands);
    ``cluster`` only when coarser than the unit. Cells whose propensity score fails the separation test are
    refused (``ps_fallback="error"``), left NA as R did (``"none"``) or estimated by outcome regression
    (``"reg"``), listed in ``notes`` and ``fallback_cells``. Time-varying covariates are taken at the earlier
    of a cell's two periods (``covariate_period="earlier"``, R did 2.5 and csdid) or at the base period g-1
    (``"base"``); clustered bootstraps sum the influence function within clusters (R did >= 2.5).
    ``weights`` names a time-invariant sampling-weight column (R did's ``weightsname``).

    ``control_group``: never-treated units (``"never_treated"``, R did's default) or also the not-yet-treated
    (``"not_yet_treated"``). ``est_method``: doubly robust (``"dr"``), inverse probability weighting (``"ipw"``)
    or outcome regression (``"reg"``), as R did. ``base_period``: ``"varying"`` (R did's default: a pre-period
    cell compares consecutive periods) or ``"universal"`` (every cell against g-1-anticipation; the study
    file's default, and what HonestDiD needs). ``anticipation``: periods before ``first_treat`` already affected.
    ``alpha``: of the pointwise (analytic) or uniform (bootstrap) intervals.
    """
    from pilotdid.estimation.staggered import cs

    res = cs.att_gt(data, outcome=outcome, unit=unit, time=time, first_treat=first_treat,
                    covariates=list(covariates or []), control_group=control_group, est_method=est_method,
                    base_period=base_period, anticipation=anticipation, cluster=cluster, alpha=alpha,
                    ps_fallback=ps_fallback, covariate_period=covariate_period, weights=weights)
    if bootstrap_draws:
        res = cs.bootstrap(res, draws=bootstrap_draws, seed=seed)
    return res


def _outcome_arg(outcome: str | Sequence[str]) -> str | list[str]:
    """An estimator's ``outcome``: one column as it is, several as a list (one result each, fitted on one design)."""
    return outcome if isinstance(outcome, str) else list(outcome)


def sun_abraham(data: pd.DataFrame, *, outcome: str | Sequence[str], unit: str, time: str, first_treat: str,
                covariates: Sequence[str] | None = None, cluster: str | None = None, alpha: float = 0.05,
                weights: str | None = None) -> EventStudyResult | list[EventStudyResult]:
    """Sun & Abraham (2021) interaction-weighted event study and the cohort-share weighted ATT (pyfixest);
    ``weights``: analytic weights (WLS and weighted cohort shares). ``outcome``: a column, or a list of columns
    (one result each, fitted on one design; equal to one call per outcome to 1e-10).

    Controls: the never-treated units (without them, the last-treated cohort, its treated periods dropped);
    relative time -1 omitted for every cohort. ``covariates`` enter the regression linearly; ``cluster``
    ``None``: by unit.
    """
    from pilotdid.estimation.staggered.sa import sun_abraham as _sa

    return _sa(data, outcome=_outcome_arg(outcome),
               unit=unit, time=time, first_treat=first_treat,
               covariates=list(covariates or []), cluster=cluster, alpha=alpha, weights=weights)


def imputation(data: pd.DataFrame, *, outcome: str | Sequence[str], unit: str, time: str, first_treat: str,
               covariates: Sequence[str] | None = None, cluster: str | None = None, alpha: float = 0.05,
               weights: str | None = None) -> EventStudyResult | list[EventStudyResult]:
    """Borusyak, Jaravel & Spiess (2024) imputation estimator: event study and overall ATT.

    ``weights``: analytic weights (weighted stage 1, weighted means, weighted variances). ``outcome``: a column, or
    a list of columns (one result each, from one stage-1 factorisation; equal to one call per outcome to 1e-10).

    Stage 1 fits unit and period effects (and ``covariates``) on untreated rows only; ``cluster`` ``None``:
    by unit; pre-period estimates are the not-yet-treated rows' residuals by event time (no period normalised).
    """
    from pilotdid.estimation.staggered.bjs import imputation as _bjs

    return _bjs(data, outcome=_outcome_arg(outcome),
                unit=unit, time=time, first_treat=first_treat,
                covariates=list(covariates or []), cluster=cluster, alpha=alpha, weights=weights)


def bacon(data: pd.DataFrame, *, outcome: str, unit: str, time: str, first_treat: str) -> BaconResult:
    """Goodman-Bacon (2021) decomposition of the TWFE DID coefficient (balanced panel, no controls).

    Arguments as the staggered estimators'; no covariates, no weights (no peer defines a weighted decomposition).
    """
    from pilotdid.estimation.staggered.bacon import bacon_decomposition

    return bacon_decomposition(data, outcome=outcome, unit=unit, time=time, first_treat=first_treat)


def _as_event_study(result: Any) -> Any:
    """An event-study result as :func:`honest` and :func:`pretrend_power` read it: an :func:`att_gt` result becomes
    its dynamic aggregation (overall ATT: the simple one), any other result is used as it is."""
    from pilotdid.estimation.staggered import cs

    if not isinstance(result, cs.CSResult):
        return result
    return cs.dynamic_event_study(result, {t: cs.aggregate(result, t) for t in ("simple", "dynamic")})


def honest(
    event_study_result: Any,
    *,
    method: Literal["RM", "SD"] = "RM",
    grid: Sequence[float] | None = None,
    target: Literal["first", "average"] = "first",
    window: tuple[int, int] = (-4, 4),
    seed: int = 12345,
) -> HonestResult:
    """HonestDiD (Rambachan & Roth 2023) sensitivity of an event-study effect to parallel-trends violations.

    ``event_study_result``: a staggered event study with a covariance matrix — the result of
    :func:`sun_abraham`, or an :func:`att_gt` result (its dynamic aggregation is used; fit it with
    ``base_period="universal"``, as HonestDiD's authors recommend). ``method="RM"``: relative magnitudes
    (C-LF hybrid sets over Mbar, default grid 0..2); ``"SD"``: smoothness (FLCI over M). ``target``: the
    adoption-year effect or the average post-period effect. Pre-periods used: window start .. -2.
    Weights act through the event study: pass one fitted with ``weights=`` and its coefficients and covariance
    are used as they are (HonestDiD itself takes only a coefficient vector and its covariance).

    ``seed``: of the simulated least-favourable critical value of the relative-magnitudes method (``"RM"``;
    the bounds depend on it only through simulation noise).
    """
    from pilotdid.estimation.staggered import cs
    from pilotdid.inference import honest as hd

    es = event_study_result
    varying = isinstance(es, cs.CSResult) and es.base_period == "varying"
    es = _as_event_study(es)
    restriction = {"RM": hd.RELATIVE_MAGNITUDES, "SD": hd.SMOOTHNESS}.get(str(method).upper())
    if restriction is None:
        raise PilotdidInputError(f"method = {method!r}", where="honest", fix='use "RM" or "SD"')
    result = hd.event_study_sensitivity(es, tuple(window), restriction=restriction, target=target, grid=grid, seed=seed)
    if varying:  # said, not refused: the bounds are computed, but on pre-period coefficients of another kind
        result.notes.append("the CS result was fitted with base_period='varying': its pre-period coefficients are "
                            "period-to-period changes, not deviations from a common reference period as HonestDiD "
                            "assumes; refit att_gt with base_period='universal' (HonestDiD's authors' advice)")
    return result


@dataclass
class PretrendPowerResult(Result):
    """Roth's (2022) power of the pre-trend test of an event study (``.analysis``: the full
    :class:`pilotdid.inference.pretrends.PretrendsPower`)."""

    analysis: Any
    window: tuple[int, int]
    title = "Pre-trend test power (Roth 2022)"

    def tidy(self) -> pd.DataFrame:
        t = self.analysis.result.table
        return tidy_frame(pd.DataFrame({
            "term": [f"rel_{int(v)}" for v in t["t"]], "estimate": t["betahat"], "se": t["se"].where(t["t"] != -1),
            "kind": "event_time", "rel_time": t["t"], "hypothesised_trend": t["delta"],
            "mean_after_pretest": t["mean_after_pretest"]}))

    def to_dict(self) -> dict[str, Any]:
        from pilotdid.results.schema import clean_json

        a, res = self.analysis, self.analysis.result
        return {"pretrends": clean_json({
            "window": list(self.window), "slope_for_power": {f"{p:g}": v for p, v in a.slopes.items()},
            "power": res.power, "bayes_factor": res.bayes_factor, "likelihood_ratio": res.likelihood_ratio,
            "mean_after_pretest_post": a.mean_after_pretest_post, "bias_post": a.bias_post.tolist(),
            "observed_post_mean": a.observed_post_mean, "table": res.table.to_dict("records")})}

    @property
    def conventions(self) -> dict[str, Any]:
        from pilotdid.inference.pretrends import THRESHOLD

        a = self.analysis
        return {"pre_test": f"rejects when some pre-period |t| > {THRESHOLD} (R pretrends)",
                "violation": "linear, slope x (t + 1), reference period -1",
                "slope_for_power": {f"{p:g}": v for p, v in a.slopes.items()}, "target_power": a.power,
                "pre_periods": a.num_pre, "post_periods": a.num_post}

    @property
    def result_notes(self) -> list[str]:
        a, res = self.analysis, self.analysis.result
        return [f"against the trend of slope {a.slopes[a.power]:.4g} (detected with probability {a.power:g}): "
                f"Bayes factor P(pass | trend)/P(pass | no trend) = {res.bayes_factor:.3f}, likelihood ratio of the "
                f"observed pre-period estimates = {res.likelihood_ratio:.3g}; the post-period estimates that pass the "
                f"pre-test average {a.mean_after_pretest_post:.4g} under that trend alone (observed: "
                f"{a.observed_post_mean:.4g})"]

    def plot(self, ax=None, **kwargs):
        from pilotdid.report.figures.pretrends import pretrends_figure

        a = self.analysis
        return pretrends_figure(a.result.table, slope=a.slopes[a.power], power=a.power)


def pretrend_power(event_study_result: Any, *, power: float = 0.8, window: tuple[int, int] = (-4, 4)
                   ) -> PretrendPowerResult:
    """Power of the pre-trend test (Roth 2022, as R ``pretrends``) against linear violations of parallel trends.

    ``event_study_result``: as :func:`honest` (a :func:`sun_abraham` or :func:`event_study` result, or an
    :func:`att_gt` result, whose dynamic aggregation is used). ``power``: the target power; the result holds
    the slope of the linear trend the pre-test detects with that probability (and with 0.5 and 0.8), the power,
    Bayes factor and likelihood ratio against it, and the post-period estimates expected after passing the
    pre-test (their bias). ``window``: event times used (pre-periods from ``window[0]`` to -2); a binned
    event study's end bins are read as their first period, so prefer an unbinned one (SA, CS) or a window
    inside the bins.
    """
    from pilotdid.inference import pretrends as pt

    if not 0.06 < power < 1:
        raise PilotdidInputError(f"power = {power!r}", where="pretrend_power",
                                 fix="a probability above the test's size, e.g. 0.8")
    if window[0] > -2:
        raise PilotdidInputError(f"window = {list(window)} has no pre-period coefficient to test (-1 is the reference)",
                                 where="pretrend_power", fix="start the window at -2 or earlier, e.g. (-4, 4)")
    es = _as_event_study(event_study_result)
    return PretrendPowerResult(analysis=pt.event_study_power(es, tuple(window), power), window=tuple(window))


def etwfe(data: pd.DataFrame, *, outcome: str | Sequence[str], unit: str, time: str, first_treat: str,
          covariates: Sequence[str] | None = None, control_group: Literal["notyet", "never"] = "notyet",
          cluster: str | None = None, weights: str | None = None) -> Any:
    """Wooldridge's extended TWFE as R ``etwfe`` fits it: one coefficient per treated cohort-year, the ``emfx``
    aggregations (simple, group, calendar, event) in ``.aggregates``, the event study via ``.event_study()``.

    ``control_group``: not-yet-treated (``"notyet"``, R etwfe's default) or never-treated (``"never"``) units.
    ``covariates`` are demeaned within cohort and interacted with the treated cells, as R etwfe does (designed
    for time-invariant covariates). ``cluster`` ``None``: by unit. ``outcome``: a column, or a list of columns (a
    list of results, fitted on one design; equal to one call per outcome to 1e-10).
    """
    from pilotdid.estimation.staggered.etwfe import etwfe as _etwfe

    return _etwfe(data, outcome=_outcome_arg(outcome),
                  unit=unit, time=time, first_treat=first_treat,
                  covariates=list(covariates or []), control_group=control_group, cluster=cluster, weights=weights)


def stacked(data: pd.DataFrame, *, outcome: str | Sequence[str], unit: str, time: str, first_treat: str,
            window: tuple[int, int] = (-3, 2), covariates: Sequence[str] | None = None, cluster: str | None = None,
            weights: str | None = None, fixed_effects: str = "sub_experiment") -> Any:
    """Stacked DID with Wing-Freedman-Hollingsworth weights: one clean sub-experiment per cohort (event window
    ``window``), the weighted event study (``.event_study``) and the static TWFE-form effect. ``fixed_effects``:
    unit and event time, each x sub-experiment (``"sub_experiment"``), or treated group and event time (``"wfh"``,
    the authors' tutorial regression; same coefficients on a balanced panel, different SEs).

    ``covariates``: linear controls in the stacked regression; ``cluster`` ``None``: by unit. ``outcome``: a column,
    or a list of columns (a list of results, from one stack and one design; equal to one call per outcome to 1e-10).
    """
    from pilotdid.estimation.staggered.stacked import stacked_did

    return stacked_did(data, outcome=_outcome_arg(outcome),
                       unit=unit, time=time, first_treat=first_treat,
                       window=tuple(window),
                       covariates=list(covariates or []), cluster=cluster, weights=weights,
                       fixed_effects=fixed_effects)


def sdid(data: pd.DataFrame, *, outcome: str, unit: str, time: str, first_treat: str,
         cohorts: Sequence[int] | None = None, replications: int = 200, seed: int = 12345,
         se_method: str = "placebo", replicate_cohort_weights: str = "resampled") -> Any:
    """Synthetic DID (Arkhangelsky et al. 2021, as R ``synthdid``) cohort by cohort against never-treated units,
    averaged by treated unit-periods, with the ``"placebo"`` (needs more never-treated than treated units),
    ``"bootstrap"`` (``replications`` draws) or ``"jackknife"`` SE; bootstrap and jackknife replicates re-weight
    the cohorts by their own sizes (``"resampled"``, Stata sdid) or keep the sample's weights (``"fixed"``):
    ``replicate_cohort_weights`` picks the headline ``se``, both are computed from the same replicates
    (``se_by_cohort_weights``; ``tidy()`` has an average row for each, ``to_dict()`` the keys
    ``se_cohort_weights_resampled`` and ``se_cohort_weights_fixed``). They coincide with one cohort; the placebo SE
    has one convention (``se_by_cohort_weights`` empty). Bootstrap draws, as Stata sdid: a draw without a
    never-treated or without a treated unit is redrawn, a draw missing a cohort kept with that cohort's weight 0
    (``"resampled"``; a cohort's own SE from the draws containing it) or, for ``"fixed"``, whose average needs
    every cohort, replaced by the seeded stream's next complete draw (``bootstrap_draws_missing_a_cohort``).

    ``se_method``: ``"placebo"``, ``"bootstrap"`` or ``"jackknife"`` (synthdid's ``vcov`` methods);
    ``replicate_cohort_weights``: ``"resampled"`` or ``"fixed"`` (above); ``seed``: of the placebo and bootstrap
    draws. No covariates, clustering or analytic weights: SDID chooses its own unit and time weights.
    """
    from pilotdid.estimation.staggered.sdid import staggered_sdid

    return staggered_sdid(data, outcome=outcome, unit=unit, time=time, first_treat=first_treat,
                          cohorts=list(cohorts) if cohorts is not None else None, replications=replications, seed=seed,
                          se_method=se_method, replicate_cohort_weights=replicate_cohort_weights)


def did_multiplegt_dyn(data: pd.DataFrame, *, outcome: str, unit: str, time: str, treatment: str, effects: int = 5,
                       placebo: int = 3, cluster: str | None = None, weights: str | None = None) -> Any:
    """de Chaisemartin & D'Haultfoeuille's ``did_multiplegt_dyn`` for a binary treatment column: ``effects``
    effects and ``placebo`` placebos against not-yet-switched units, the average total effect, the joint placebo test.
    ``weights``: a column of non-negative cell weights (the authors' ``weight`` option).

    ``cluster`` ``None``: by unit (the authors' default, by group).
    """
    from pilotdid.estimation.staggered.dcdh import did_multiplegt_dyn as _dyn

    return _dyn(data, outcome=outcome, unit=unit, time=time, treatment=treatment, effects=effects, placebo=placebo,
                cluster=cluster, weight=weights)


# ------------------------------------------------------------------------------------------------- inference

def wild_bootstrap(
    data: pd.DataFrame,
    *,
    outcome: str,
    term: str,
    cluster: str,
    controls: Sequence[str] = (),
    fixed_effects: Sequence[str] = (),
    reps: int = 9999,
    weights: Literal["rademacher", "webb", "mammen"] = "rademacher",
    seed: int = 12345,
    alpha: float = 0.05,
    vcov: VcovPreset = DEFAULT_VCOV,
) -> WildBootstrapResult:
    """Wild cluster restricted (WCR) bootstrap p-value and test-inversion CI for ``term`` (few clusters).

    ``term``: the coefficient tested; ``cluster``: the clustering (required); ``controls``/``fixed_effects`` as
    :func:`twfe`. ``reps``: bootstrap draws (with Rademacher weights and 2^G < ``reps`` every sign vector is
    enumerated, as boottest does). ``weights`` here is the weight distribution: ``"rademacher"``, ``"webb"``
    (six-point, for fewer than about 12 clusters) or ``"mammen"``. ``alpha``: of the test-inversion CI.
    ``vcov``: the preset whose small-sample factor the reported analytic ``t_stat`` carries, so it equals
    :func:`twfe`'s t with the same ``vcov`` (the bootstrap p-value and CI do not depend on it; before 2026-12
    this function took no ``vcov`` and its t carried the ``"fixest"`` factor).
    """
    from pilotdid.inference.wild_bootstrap import wild_cluster_bootstrap

    return wild_cluster_bootstrap(data, outcome=outcome, term=term, controls=list(controls),
                                  fixed_effects=list(fixed_effects), cluster=cluster, reps=reps, weights=weights,
                                  seed=seed, alpha=alpha, vcov=vcov)


# ------------------------------------------------------------------------------------------------- design

@dataclass
class PsmResult(Result):
    """Propensity-score matching (``.match``: scores, support, weights, balance) and, when an outcome was
    given, the DID on the matched rows with the matching weights (``.fit``)."""

    match: MatchResult
    fit: TwfeResult | None = None
    title = "PSM-DID"

    @property
    def notes(self) -> list[str]:
        return list(self.match.notes) + (list(self.fit.notes) if self.fit is not None else [])

    def tidy(self) -> pd.DataFrame:
        rows = [] if self.fit is None else [self.fit.tidy()]
        bal = self.match.balance
        if len(bal):
            bal = bal.copy()
            first = bal.columns[0]
            bal = bal.rename(columns={first: "term"})
            rows.append(tidy_frame(bal, kind="balance"))
        return pd.concat(rows, ignore_index=True) if rows else tidy_frame([])

    def to_dict(self) -> dict[str, Any]:
        from pilotdid.results.schema import clean_json

        out: dict[str, Any] = {"psm": clean_json(self.match.summary())}
        if self.fit is not None:
            out.update(self.fit.to_dict(table="psm", column=self.match.method))
        return out

    @property
    def conventions(self) -> dict[str, Any]:
        out = {"method": self.match.method, "pooling": self.match.pooling, **self.match.settings}
        if self.fit is not None:  # the DID's own conventions: matching weights, SE preset, clustering
            out.update({"did_weighting": "matched rows weighted by the matching weights (psmatch2 _weight)",
                        "did_vcov": self.fit.vcov, "did_cluster": self.fit.cluster})
        return out


def psm(
    data: pd.DataFrame,
    *,
    treat: str,
    covariates: Sequence[str],
    method: Literal["nearest", "radius", "kernel"] = "nearest",
    k: int = 3,
    caliper: float | None = None,
    bandwidth: float = 0.06,
    pooling: Literal["pooled", "by_period"] = "pooled",
    time: str | None = None,
    seed: int = 12345,
    formula: str | None = None,
    vcov: VcovPreset = DEFAULT_VCOV,
    cluster: str | None = None,
) -> PsmResult:
    """Propensity-score matching (logit score, psmatch2 conventions) and optionally the DID on the matched rows.

    ``treat`` is the unit's treatment-group dummy the score predicts; ``method`` nearest (1:k with
    replacement), radius (caliper 0.01 by default) or kernel (Epanechnikov, ``bandwidth``). With ``formula``
    (``"y ~ did + x1 | city + year"``) the DID is fitted on the matched rows with the matching weights.

    ``covariates``: the logit's regressors. ``pooling``: one logit over all rows (``"pooled"``) or one per
    period (``"by_period"``, needs ``time``). ``seed``: the order in which treated rows are matched without
    replacement (unused here: this function matches with replacement). ``vcov``/``cluster``: of the DID on the
    matched rows.
    """
    from pilotdid.design.psm import psm_match

    match = psm_match(data, treat=treat, covariates=list(covariates), method=method, k=k, caliper=caliper,
                      bandwidth=bandwidth, pooling=pooling, time=time, seed=seed)
    fit = None
    if formula is not None:
        sample = data.loc[match.matched].copy()
        sample["_psm_weight"] = match.weight[match.matched]
        fit = twfe(sample, formula, vcov=vcov, cluster=cluster, weights="_psm_weight")
    return PsmResult(match=match, fit=fit)


def matching(
    data: pd.DataFrame,
    *,
    outcome: str,
    treat: str,
    covariates: Sequence[str] = (),
    method: Literal["nearest", "radius", "kernel"] = "nearest",
    k: int = 1,
    replacement: bool = True,
    ties: bool = True,
    caliper: float | None = None,
    bandwidth: float = 0.06,
    exact: Sequence[str] = (),
    score: str | None = None,
    common_support: bool = False,
    variance: Literal["robust", "homoskedastic", "estimated_score"] = "robust",
    variance_neighbors: int = 2,
    distance_tolerance: float = 1e-5,
    seed: int = 12345,
    estimand: Literal["att", "ate"] = "att",
) -> MatchingResult:
    """Propensity-score matching on a cross-section: the ATT (or ``estimand="ate"``) with Abadie-Imbens SEs and balance.

    One row per unit; ``treat`` is 0/1. The score is a logit of ``treat`` on ``covariates`` (or the column
    ``score``); ``method`` nearest 1:k (with replacement and ties by default, as R ``Matching::Match``), radius
    (``caliper``, 0.01 by default) or kernel (Epanechnikov, ``bandwidth``); ``exact`` columns are matched exactly.
    SEs: Abadie-Imbens (2006), robust (``variance_neighbors`` same-group neighbours) and homoskedastic, which
    treat the score as known (R Matching, psmatch2), and ``se_estimated_score``, the robust one with the
    Abadie-Imbens (2016) adjustment for the estimated logit (Stata teffects psmatch's default; nearest neighbour
    with replacement on the whole sample); ``variance`` picks the one behind t, p and the CI.

    ``common_support``: drop treated units whose score lies outside the controls' range (psmatch2 ``common``).
    ``distance_tolerance``: score distances closer than this are ties (R ``Match``'s ``distance.tolerance``).
    ``seed``: the order in which treated units are matched when ``replacement=False``.
    """
    from pilotdid.estimation.matching import matching_att

    return matching_att(data, outcome=outcome, treat=treat, covariates=list(covariates), method=method, k=k,
                        replacement=replacement, ties=ties, caliper=caliper, bandwidth=bandwidth, exact=list(exact),
                        score=score, common_support=common_support, variance=variance,
                        variance_neighbors=variance_neighbors, distance_tolerance=distance_tolerance, seed=seed,
                        estimand=estimand)


# ------------------------------------------------------------------------------------------------- measures

def _index(method: str, data: pd.DataFrame, system: Any, pooling: str, unit: str | None, time: str | None,
           **kwargs: Any) -> IndexResult:
    from pilotdid.measures import build_index

    return build_index(data, system, method, pooling, unit=unit, time=time, **kwargs)


def entropy_index(data: pd.DataFrame, system: Any, *, pooling: Literal["pooled", "by_year"] = "pooled",
                  unit: str | None = None, time: str | None = None, **kwargs: Any) -> IndexResult:
    """Entropy-weighted composite index (min-max standardised, direction-aware; see README "Entropy index").

    ``system``: an indicator-system TOML path, a builtin name (``"cbec_resilience"``) or an IndicatorSystem.
    ``.index`` holds the index aligned with ``data``'s rows, ``.weights`` the weights table, ``.tidy()`` the
    weights. Keywords ``shift``, ``drop_constant``, ``fill_mask``, ``missing`` as
    :func:`pilotdid.measures.build_index`.

    ``pooling``: standardise over all unit-periods (``"pooled"``) or within each period (``"by_year"``);
    ``unit``/``time``: override the system's unit and period column names.
    """
    return _index("entropy", data, system, pooling, unit, time, **kwargs)


def critic_index(data: pd.DataFrame, system: Any, *, pooling: Literal["pooled", "by_year"] = "pooled",
                 unit: str | None = None, time: str | None = None, **kwargs: Any) -> IndexResult:
    """CRITIC-weighted composite index (contrast x conflict); arguments as :func:`entropy_index`."""
    return _index("critic", data, system, pooling, unit, time, **kwargs)


def topsis_index(data: pd.DataFrame, system: Any, *, pooling: Literal["pooled", "by_year"] = "pooled",
                 unit: str | None = None, time: str | None = None, **kwargs: Any) -> IndexResult:
    """Entropy-TOPSIS index (closeness to the ideal point); arguments as :func:`entropy_index`."""
    return _index("topsis", data, system, pooling, unit, time, **kwargs)


def equal_index(data: pd.DataFrame, system: Any, *, pooling: Literal["pooled", "by_year"] = "pooled",
                unit: str | None = None, time: str | None = None, **kwargs: Any) -> IndexResult:
    """Equal-weighted index (w = 1/m); arguments as :func:`entropy_index`."""
    return _index("equal", data, system, pooling, unit, time, **kwargs)


def pca_index(data: pd.DataFrame, system: Any, *, unit: str | None = None, time: str | None = None,
              **kwargs: Any) -> IndexResult:
    """PCA index (components with eigenvalue > 1, variance-weighted; KMO and Bartlett in ``extra``); arguments as
    :func:`entropy_index` (pooled over all unit-periods only)."""
    return _index("pca", data, system, "pooled", unit, time, **kwargs)


# ------------------------------------------------------------------------------------------------- mechanisms

@dataclass
class MediationResult(Result):
    """The classical three-step mediation model: total effect, a, b, direct effect, a·b with Sobel and bootstrap."""

    three_step: Any
    title = "Three-step mediation"

    def tidy(self) -> pd.DataFrame:
        r = self.three_step
        rows = [{**{k: v for k, v in d.items() if k != "coef"}, "estimate": d["coef"], "term": name, "kind": "step"}
                for name, d in (("total (c)", r.total), ("a", r.a), ("b", r.b), ("direct (c')", r.direct))]
        rows.append({"term": "indirect (a*b)", "estimate": r.indirect, "se": r.sobel_se, "t": r.sobel_z,
                     "p": r.sobel_p, "ci_low": r.boot_ci[0], "ci_high": r.boot_ci[1], "kind": "indirect"})
        return tidy_frame(rows)

    def to_dict(self) -> dict[str, Any]:
        from pilotdid.results.schema import clean_json

        return {"mediation": clean_json(self.three_step.to_dict())}

    @property
    def conventions(self) -> dict[str, Any]:
        d = self.three_step.to_dict()
        return {"label": d["label"], "se": self.three_step.se_convention, "boot_rule": d["boot_rule"],
                "sobel_rule": d["sobel_rule"], "seed": d["seed"]}


def mediation(
    data: pd.DataFrame,
    *,
    outcome: str,
    mediator: str,
    treatment: str,
    unit: str,
    controls: Sequence[str] = (),
    fixed_effects: Sequence[str] = (),
    cluster: str | None = None,
    vcov: VcovPreset = DEFAULT_VCOV,
    draws: int = 499,
    seed: int = 12345,
) -> MediationResult:
    """The classical three-step mediation model (Baron-Kenny steps, Sobel test, unit bootstrap of a·b).

    A descriptive decomposition: it identifies a causal mechanism only under sequential ignorability.

    ``mediator``: the channel's column; ``treatment``: the 0/1 treatment; ``controls``, ``fixed_effects``,
    ``cluster``, ``vcov``: of the three regressions (as :func:`twfe`); ``draws``: unit bootstrap draws of a·b
    (0 = none); ``seed``: of the bootstrap.
    """
    from pilotdid.estimation.mediation import three_step

    res = three_step(data, outcome=outcome, mediator=mediator, treatment=treatment, controls=list(controls),
                     fixed_effects=list(fixed_effects) or [unit], unit=unit, cluster=cluster, vcov=vcov,
                     draws=draws, seed=seed)
    return MediationResult(three_step=res)


def _strata_words(strata: str | None) -> str:
    return "within adoption cohorts" if strata else "across all units"


@dataclass
class SubgroupResult(Result):
    """Separate subgroup fits, the fully interacted difference test and the permutation test of the difference."""

    split: Any
    treatment: str = "did"
    title = "Subgroup heterogeneity"

    @property
    def notes(self) -> list[str]:
        return list(self.split.notes)

    def tidy(self) -> pd.DataFrame:
        s = self.split
        rows = [{**{k: v for k, v in f.term(self.treatment).items() if k != "coef"},
                 "estimate": f.term(self.treatment)["coef"], "term": label, "kind": "subgroup"}
                for label, f in s.fits.items()]
        inter = {k: v for k, v in s.interacted.items() if k in ("se", "t", "p", "ci_low", "ci_high")}
        rows.append({"term": "difference (interacted)", "estimate": s.interacted.get("coef"), **inter,
                     "kind": "difference"})
        if s.permutation is not None:
            rows.append({"term": f"difference (permutation, {_strata_words(s.permutation.strata)})",
                         "estimate": s.difference, "p": s.permutation.p_diff, "kind": "permutation"})
        for test in (s.other_permutations or {}).values():
            rows.append({"term": f"difference (permutation, {_strata_words(test.strata)})", "estimate": s.difference,
                         "p": test.p_diff, "kind": "permutation"})
        return tidy_frame(rows)

    @property
    def conventions(self) -> dict[str, Any]:
        """The split, the SE convention of the subgroup fits and how the difference is tested."""
        s = self.split
        fit = next(iter(s.fits.values()), None)
        out: dict[str, Any] = {"split": s.split.column, "vcov": getattr(fit, "vcov", None),
                               "se": getattr(fit, "convention", None),
                               "difference_test": "treatment x group interaction in one fully interacted regression"}
        if s.permutation is not None:
            perm = s.permutation
            out["permutation"] = f"group labels permuted {_strata_words(perm.strata)}, {perm.draws} draws, seed {perm.seed}"
        return out

    def to_dict(self) -> dict[str, Any]:
        from pilotdid.results.schema import clean_json

        s = self.split
        return {"heterogeneity": clean_json({
            "split": s.split.name, "difference": s.difference, "interacted": s.interacted,
            "separate_difference": s.separate_difference, "units": s.units,
            "permutation": s.permutation.to_dict() if s.permutation is not None else None})}


def subgroups(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    unit: str,
    time: str,
    split: Mapping[str, Any],
    controls: Sequence[str] = (),
    fixed_effects: Sequence[str] | None = None,
    cluster: str | None = None,
    vcov: VcovPreset = DEFAULT_VCOV,
    first_treat: str | None = None,
    draws: int = 999,
    seed: int = 12345,
    strata: Literal["cohort", "none"] = "cohort",
) -> SubgroupResult:
    """Heterogeneity by a unit-level split: separate fits, interacted difference test, permutation test.

    ``split`` as one ``splits`` entry of a study file, e.g. ``{"column": "large_city", "labels": ["large",
    "small"]}`` (or ``values``/``threshold``/``at``). ``cluster``: as :func:`twfe` (``None`` = HC1).
    ``strata``: the permutation test permutes the group labels within adoption cohorts (``"cohort"``, the
    default of ``[analyses.heterogeneity]``: the valid test when the groups' treatment shares differ) or across
    all units (``"none"``); the other is computed too and shown beside it. Cohorts are ``first_treat`` (the
    period a unit is first treated, 0 = never), or when it is not given the first period with ``treatment`` = 1.
    ``draws`` = 0 skips the permutation test.

    ``controls``, ``fixed_effects``, ``vcov``: of the subgroup and interacted regressions (as :func:`twfe`);
    ``draws``, ``seed``: of the permutation tests.
    """
    from pilotdid.estimation.heterogeneity import GroupSplit, estimate_split

    if strata not in ("cohort", "none"):
        raise PilotdidInputError(f"unknown strata {strata!r}", where="subgroups", fix='use strata = "cohort" or "none"')
    gs = GroupSplit.from_options(dict(split), where="split")
    frame = data
    cohort = first_treat
    if cohort is None:  # the adoption period of each unit, from its 0/1 treatment column
        frame = data.copy()
        treated_at = frame[time].where(pd.to_numeric(frame[treatment], errors="coerce") > 0)
        frame["_cohort"] = frame[unit].map(treated_at.groupby(frame[unit]).min()).fillna(0)
        cohort = "_cohort"
    primary, other = (cohort, None) if strata == "cohort" else (None, cohort)
    res = estimate_split(frame, split=gs, outcome=outcome, treatment=treatment, controls=list(controls),
                         fixed_effects=list(fixed_effects) if fixed_effects is not None else [unit, time],
                         unit=unit, time=time, cluster=cluster, vcov=vcov, first_treat=first_treat, draws=draws,
                         seed=seed, strata=primary, also_strata=(other,))
    return SubgroupResult(split=res, treatment=treatment)


# ------------------------------------------------------------------------------------------------- studies

@dataclass
class StudyResult(Result):
    """A finished study run: every analysis's results, tables and figures (``.run`` is the runner's record).

    ``.to_dict()`` is the results.json document; ``.tables`` / ``.figures`` map names to Table objects and
    matplotlib Figures; ``.write(out_dir)`` writes the output folder as ``pilotdid run`` does.
    """

    run: Any
    _document: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def title(self) -> str:
        return f"pilotdid study {self.to_dict().get('study')}"

    @property
    def tables(self) -> dict[str, Any]:
        return {k: v for out in self.run.outputs.values() for k, v in out.tables.items()}

    @property
    def figures(self) -> dict[str, Any]:
        return {k: v for out in self.run.outputs.values() for k, v in out.figures.items()}

    def to_dict(self) -> dict[str, Any]:
        if self._document is None:
            from pilotdid.report.output import results_document

            self._document = results_document(self.run)
        return self._document

    def tidy(self) -> pd.DataFrame:
        from pilotdid.estimation.twfe.results import CONSTANT_TERM

        rows = [{"term": r.get("term"), "estimate": r.get("coef"), "se": r.get("se"), "t": r.get("t"), "p": r.get("p"),
                 "ci_low": r.get("ci_low"), "ci_high": r.get("ci_high"),
                 "kind": "constant" if r.get("term") == CONSTANT_TERM else "estimate", "table": r.get("table"),
                 "column": r.get("column")} for r in self.to_dict().get("estimates", [])]
        return tidy_frame(rows)

    def write(self, out_dir: str | Path) -> Path:
        """Write the output folder (results.json, tables, figures, report) atomically; returns its path."""
        from pilotdid.report.output import write_output

        return write_output(self.run, Path(out_dir))


def _toml_value(value: Any) -> str:
    import json
    import math

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise PilotdidInputError(f"{value!r} cannot be written to a study file", where="study dict", fix="use a finite number")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise PilotdidInputError(f"value {value!r} ({type(value).__name__}) cannot go into a study file", where="study dict",
                             fix="use strings, numbers, booleans, lists and tables")


def study_toml(study: Mapping[str, Any]) -> str:
    """The TOML text of a study given as a dict (tables as ``[section]``/``[analyses.name]``, values inline)."""
    import json

    lines: list[str] = []

    def emit(table: Mapping[str, Any], prefix: str) -> None:
        scalars = {k: v for k, v in table.items() if not isinstance(v, Mapping)}
        tables = {k: v for k, v in table.items() if isinstance(v, Mapping)}
        if prefix and (scalars or not tables):
            lines.append(f"[{prefix}]")
        for k, v in scalars.items():
            lines.append(f"{json.dumps(str(k))} = {_toml_value(v)}")
        for k, v in tables.items():
            emit(v, f"{prefix}.{k}" if prefix else str(k))

    emit(study, "")
    return "\n".join(lines) + "\n"


def _spec(study: str | Path | Mapping[str, Any], base_dir: str | Path | None = None):
    from pilotdid.study.spec import load_study, parse_study

    if isinstance(study, Mapping):
        path = Path(base_dir or ".").resolve() / "study.toml"
        return parse_study(study_toml(study), path=path)
    return load_study(Path(study))


def run_study(
    study: str | Path | Mapping[str, Any],
    *,
    draws: int | None = None,
    seed: int | None = None,
    lang: str | None = None,
    jobs: int = 1,
    base_dir: str | Path | None = None,
) -> StudyResult:
    """Run a study: a study-file path, or the same content as a dict (paths relative to ``base_dir``).

    ``draws``/``seed``/``lang``/``jobs`` override the file as ``pilotdid run --draws/--seed/--lang/--jobs`` do.
    Nothing is written until ``.write(out_dir)``.
    """
    from pilotdid.study.runner import Overrides
    from pilotdid.study.runner import run_study as _run

    spec = _spec(study, base_dir)
    return StudyResult(run=_run(spec, Overrides(draws=draws, seed=seed, lang=lang, jobs=jobs)))


def specification_curve(study: str | Path | Mapping[str, Any], *, base_dir: str | Path | None = None,
                        jobs: int = 1, **options: Any) -> StudyResult:
    """The multiverse of a study: every combination of the choices in ``options`` (as ``[analyses.multiverse]``).

    Runs only the multiverse analysis of ``study`` (a path or dict); the specification table is
    ``result.tables["specification_curve_summary"]`` (and the other ``specification_curve_*`` tables), the curve in
    ``result.figures``.

    ``base_dir``: where relative paths of a dict study point; ``jobs``: local worker processes.
    """
    import tomllib

    from pilotdid.study.spec import load_study

    if isinstance(study, Mapping):
        raw = dict(study)
    else:
        path = Path(study)
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        base_dir = base_dir or path.parent
        load_study(path)  # validate the file as it is first
    raw["analyses"] = {"multiverse": {**dict(raw.get("analyses", {}).get("multiverse", {})), **options}}
    return run_study(raw, jobs=jobs, base_dir=base_dir)


# ------------------------------------------------------------------------------------------------- tables

def etable(results: Sequence[TwfeResult], *, labels: Mapping[str, Any] | None = None, stat: str = "t",
           title: str = "Regression results", name: str = "etable", digits: int = 3, **kwargs: Any):
    """A paper-style regression table, one column per TWFE result (as fixest's ``etable``).

    Returns a :class:`pilotdid.report.table.Table`; render it with :func:`table`. ``stat`` is the statistic
    under each coefficient (``"t"`` or ``"se"``); other keywords as
    :func:`pilotdid.report.regression_table.regression_table`.

    ``results``: the TWFE results, one per column; ``labels``: term -> display label; ``title``: the table's
    title; ``name``: its file stem; ``digits``: decimals.
    """
    from pilotdid.report.regression_table import regression_table

    return regression_table(list(results), name=name, title=title, labels=labels, stat=stat, digits=digits, **kwargs)


def table(results: Any, format: Literal["md", "tex", "html", "csv", "docx", "xlsx"] = "md",
          path: str | Path | None = None, **kwargs: Any) -> str | Path:
    """Render results as a table: a Table, a TWFE result or a list of them (-> :func:`etable`), or any result
    (-> its ``tidy()``).

    ``md``/``tex``/``html``/``csv`` return the text (and write it to ``path`` when given); ``docx``/``xlsx``
    need ``path`` and return it.

    ``format``: ``md``, ``tex``, ``html``, ``csv``, ``docx`` or ``xlsx``; other keywords go to :func:`etable`.
    """
    from pilotdid.estimation.twfe.results import TwfeResult as _Twfe
    from pilotdid.report import export
    from pilotdid.report.table import Table

    if isinstance(results, Table):
        tab = results
    elif isinstance(results, _Twfe) or (isinstance(results, (list, tuple)) and results
                                        and all(isinstance(r, _Twfe) for r in results)):
        tab = etable([results] if isinstance(results, _Twfe) else list(results), **kwargs)
    elif isinstance(results, Result):
        tab = Table(name=kwargs.get("name", "result"), title=kwargs.get("title", results.title),
                    body=results.tidy(), float_digits=kwargs.get("digits", 4))
    else:
        raise PilotdidInputError(f"cannot make a table of {type(results).__name__}", where="table",
                                 fix="pass a result object, a list of TWFE results or a Table")
    renderers = {"md": export.to_markdown, "tex": export.to_latex, "html": export.to_html, "csv": export.to_csv}
    if format in renderers:
        text = renderers[format](tab)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text
    if format in ("docx", "xlsx"):
        if path is None:
            raise PilotdidInputError(f"format {format!r} needs a path", where="table", fix=f'pass path="table.{format}"')
        (export.write_docx if format == "docx" else export.write_xlsx)(tab, Path(path))
        return Path(path)
    raise PilotdidInputError(f"unknown table format {format!r}", where="table",
                             fix="use md, tex, html, csv, docx or xlsx")


# ------------------------------------------------------------------------------------------------- reference

#: Order of docs/api.md.
REFERENCE_ORDER = (
    ("Regression", ("twfe", "parse_formula", "event_study", "placebo")),
    ("Staggered adoption", ("att_gt", "sun_abraham", "imputation", "bacon", "etwfe", "stacked", "sdid",
                            "did_multiplegt_dyn", "honest", "pretrend_power")),
    ("Inference and design", ("wild_bootstrap", "psm", "matching", "mediation", "subgroups")),
    ("Composite indices", ("entropy_index", "critic_index", "topsis_index", "equal_index", "pca_index")),
    ("Studies", ("run_study", "specification_curve")),
    ("Tables", ("etable", "table")),
)


def _signature_text(sig) -> str:
    """``(data: pd.DataFrame, *, vcov: VcovPreset = "reghdfe")``: annotations as written, defaults as Python."""
    import inspect

    parts, star_done = [], False
    for p in sig.parameters.values():
        if p.kind == p.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        if p.kind == p.VAR_POSITIONAL:
            star_done = True
        prefix = "**" if p.kind == p.VAR_KEYWORD else "*" if p.kind == p.VAR_POSITIONAL else ""
        text = prefix + p.name
        if p.annotation is not inspect.Parameter.empty:
            text += f": {p.annotation}"
        if p.default is not inspect.Parameter.empty:
            default = f'"{p.default}"' if isinstance(p.default, str) else repr(p.default)
            text += f" = {default}"
        parts.append(text)
    ret = f" -> {sig.return_annotation}" if sig.return_annotation is not inspect.Signature.empty else ""
    return "(" + ", ".join(parts) + ")" + ret


def api_reference() -> str:
    """docs/api.md: every public function's signature and docstring, and the result protocol."""
    import inspect

    from pilotdid.results import protocol

    lines = [
        "# Python API reference",
        "",
        "<!-- Generated by `python -m pilotdid.api > docs/api.md` from the docstrings in src/pilotdid/api.py;",
        "     tests/test_api.py fails when this file and the code differ. Do not edit by hand. -->",
        "",
        "```python",
        "import pilotdid as pdid",
        "```",
        "",
        inspect.cleandoc(__doc__ or ""),
        "",
        "## The result protocol",
        "",
        inspect.cleandoc(protocol.__doc__ or ""),
        "",
    ]
    listed = [name for _, names in REFERENCE_ORDER for name in names]
    missing = sorted(set(__all__) - set(listed))
    if missing:
        raise RuntimeError(f"public names missing from REFERENCE_ORDER: {missing}")
    for title, names in REFERENCE_ORDER:
        lines += [f"## {title}", ""]
        for name in names:
            fn = globals()[name]
            sig = _signature_text(inspect.signature(fn))
            lines += [f"### `pdid.{name}`", "", "```python", f"pdid.{name}{sig}", "```", "",
                      inspect.cleandoc(fn.__doc__ or ""), ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover - the generator
    import sys

    sys.stdout.write(api_reference())
