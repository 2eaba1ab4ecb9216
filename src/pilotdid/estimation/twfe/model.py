"""Two-way (or more-way) fixed-effects regression: pyfixest estimates, the preset names the conventions.

pyfixest's ``feols`` does the regression and the CRV1 sandwich; this module chooses its knobs from
the standard-error preset, checks that the K the preset documents is the K applied, and adds what
pyfixest does not report: the intercept under the preset's convention (with its clustered SE), the
R² kinds, and one-line errors for bad input.

The intercept is a linear combination ``L'β`` of the coefficients of the equivalent least-squares
dummy-variable (LSDV) regression (intercept, slopes, one dummy per non-base level of every fixed
effect): ``L = e_cons`` for the base-levels intercept of ``reg … i.city i.year``; ``L = e_cons +
Σ share_l · e_l`` over the levels of the *absorbed* fixed effects for the mean-based constant
``ȳ − x̄'b`` of ``areg``/``xtreg, fe``/``reghdfe`` (the weighted residuals sum to zero, so
``ȳ = cons + x̄'b + Σ share_l δ_l``). Because the constant is a linear function ``a'y`` of the
outcome, its clustered variance is ``q · Σ_g (a_g'e_g)²`` with ``a = W X (X'WX)⁻¹ L`` — one sparse
solve, no dense dummy matrix. For reghdfe's constant (every fixed effect absorbed, unweighted) ``a`` has a
closed form in the demeaned regressors pyfixest already holds, and no dummy matrix is built at all.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from pyfixest.estimation import MapDemeaner
from scipy import stats

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation import fixest as _fx
from pilotdid.estimation.fixest import pf
from pilotdid.estimation.twfe.covariance import (
    DEFAULT_VCOV,
    CONSTANT_BASE_LEVELS,
    CONSTANT_MEAN,
    VCOV_PRESETS,
    FixedEffectDesign,
    VcovPreset,
    get_preset,
)
from pilotdid.estimation.fixest import PANDAS_INPLACE_MESSAGE
from pilotdid.estimation.twfe.data import TwfeData, is_nested, validate
from pilotdid.estimation.twfe.results import TwfeResult

#: pyfixest's pandas-deprecation warnings carry no information about the user's data: the one silencer's message
#: (estimation/fixest.py) is left out of the warnings passed on to the report
_PANDAS_INPLACE_MESSAGE = PANDAS_INPLACE_MESSAGE


#: Convergence tolerance of pyfixest's alternating-projections demeaning. pyfixest's default (1e-6)
#: leaves coefficients accurate to only ~1e-7 on unbalanced panels and lets them differ from the
#: exact dummy-variable solution in the 7th digit; 1e-10 makes them agree to ~1e-12 at little cost.
FIXEF_TOL = 1e-10


def _run_feols(fml: str, columns: dict, x: np.ndarray, x_names: list[str], vcov, ssc: dict, weights: str | None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message=_PANDAS_INPLACE_MESSAGE)
        kwargs = dict(vcov=vcov, ssc=ssc, weights=weights, demeaner=MapDemeaner(fixef_tol=FIXEF_TOL))
        try:
            # pyfixest's own estimation on the arrays, without its formula machinery (the same bits); pf.feols
            # where that path declines
            fit = _fx.feols_arrays(fml, columns, x=x, x_names=x_names, **kwargs)
            if fit is None:
                frame = pd.DataFrame(columns).assign(**dict(zip(x_names, x.T)))
                fit = pf.feols(fml, frame, fixef_rm="none", **kwargs)
        except ValueError as exc:
            if "All variables are collinear" not in str(exc):
                raise
            # e.g. a single period: the time effect absorbs the treatment and every control
            raise PilotdidInputError(
                "every regressor is collinear with the fixed effects (no variation left to estimate from)",
                where="[model]", fix="check the sample: it needs several periods and units with different treatment paths",
            ) from None
    other = [w for w in caught if not re.search(_PANDAS_INPLACE_MESSAGE, str(w.message))]
    return fit, other


def _design(prepared: TwfeData, fe_codes: list[np.ndarray], cluster_codes: np.ndarray | None,
            redundant: int) -> FixedEffectDesign:
    """Levels of each fixed effect, whether each is nested in the clusters, and the redundant components, from
    the factorized columns (codes 0..levels-1 of the estimation sample)."""
    levels = tuple(int(codes.max()) + 1 if codes.size else 0 for codes in fe_codes)
    if prepared.cluster:
        nested = tuple(fe == prepared.cluster or _codes_nested(codes, cluster_codes)
                       for fe, codes in zip(prepared.fixed_effects, fe_codes))
    else:
        nested = tuple(False for _ in prepared.fixed_effects)
    return FixedEffectDesign(n_slopes=len(prepared.regressors), levels=levels, nested=nested, redundant=redundant)


def _codes_nested(inner: np.ndarray, outer: np.ndarray) -> bool:
    """True when every level of ``inner`` lies within a single level of ``outer`` (as ``data.is_nested``)."""
    owner = np.full(int(inner.max()) + 1, -1, dtype=np.int64)
    owner[inner] = outer
    return bool((owner[inner] == outer).all())


def _lsdv_matrix(frame: pd.DataFrame, regressors: list[str], fixed_effects: list[str]):
    """Sparse LSDV design [1, slopes, dummies of non-base levels]; returns (X, blocks).

    ``blocks`` maps each fixed effect to (first column, level codes, level labels) so that shares
    can be attached to its dummy columns. Base level = first in sorted order (Stata's ``i.``).
    """
    n = len(frame)
    parts = [sp.csc_matrix(np.ones((n, 1))), sp.csc_matrix(frame[regressors].to_numpy(dtype=float))]
    col = 1 + len(regressors)
    blocks = {}
    rows = np.arange(n)
    for fe in fixed_effects:
        codes, labels = pd.factorize(frame[fe], sort=True)
        n_levels = len(labels)
        keep = codes > 0
        dummies = sp.csc_matrix(
            (np.ones(int(keep.sum())), (rows[keep], codes[keep] - 1)), shape=(n, max(n_levels - 1, 0))
        )
        parts.append(dummies)
        blocks[fe] = (col, codes, labels)
        col += n_levels - 1
    return sp.hstack(parts, format="csc"), blocks


def _extra_components(frame: pd.DataFrame, fixed_effects: list[str]) -> int:
    """Σ over the other FEs of (connected components of the bipartite graph first FE–that FE) − 1.

    Zero when every pair is connected; then the dummy design has exactly one redundancy per extra
    FE and a base-level intercept exists. (With three or more FEs further redundancies are possible
    and are not detected here.)"""
    if len(fixed_effects) < 2:
        return 0
    return _extra_components_of_codes([pd.factorize(frame[fe])[0] for fe in fixed_effects])


def _extra_components_of_codes(fe_codes: list[np.ndarray]) -> int:
    """:func:`_extra_components` from the factorized fixed effects (any coding 0..levels-1)."""
    from scipy.sparse.csgraph import connected_components

    if len(fe_codes) < 2:
        return 0
    first = fe_codes[0]
    n_first = int(first.max()) + 1
    extra = 0
    for other in fe_codes[1:]:
        n = n_first + int(other.max()) + 1
        graph = sp.coo_matrix((np.ones(len(first)), (first, n_first + other)), shape=(n, n))
        extra += connected_components(graph, directed=False)[0] - 1
    return extra


def _constant(
    prepared: TwfeData,
    preset: VcovPreset,
    residuals: np.ndarray,
    weights: np.ndarray,
    clusters: np.ndarray,
    factor: float,
    demeaned: tuple[np.ndarray, np.ndarray] | None = None,
    redundant: int | None = None,
) -> dict[str, float] | None:
    """The preset's intercept and its clustered SE (None for presets that report none).

    ``demeaned`` = (regressors with every fixed effect partialled out, slopes), when available: then the
    mean-based constant with all fixed effects absorbed (reghdfe) is computed in closed form.
    """
    if preset.constant is None:
        return None
    frame = prepared.frame
    if redundant is None:
        redundant = _extra_components(frame, prepared.fixed_effects)
    if redundant:
        return {"unidentified": True}
    n_abs = len(prepared.fixed_effects) if preset.n_absorbed is None else preset.n_absorbed
    if preset.constant == CONSTANT_MEAN and n_abs == len(prepared.fixed_effects) and demeaned is not None:
        return _mean_constant(prepared, residuals, weights, clusters, factor, *demeaned)
    X, blocks = _lsdv_matrix(frame, prepared.regressors, prepared.fixed_effects)
    W = sp.diags(weights)
    XtWX = (X.T @ W @ X).tocsc()
    L = np.zeros(X.shape[1])
    L[0] = 1.0
    if preset.constant == CONSTANT_MEAN:
        n_abs = len(prepared.fixed_effects) if preset.n_absorbed is None else preset.n_absorbed
        total = weights.sum()
        for fe in prepared.fixed_effects[:n_abs]:
            start, codes, labels = blocks[fe]
            shares = np.bincount(codes, weights=weights, minlength=len(labels)) / total
            L[start : start + len(labels) - 1] = shares[1:]
    elif preset.constant != CONSTANT_BASE_LEVELS:  # pragma: no cover - preset definitions are fixed
        raise ValueError(f"unknown constant convention {preset.constant!r}")
    rhs = np.column_stack([L, X.T @ (weights * frame[prepared.outcome].to_numpy(dtype=float))])
    with warnings.catch_warnings():
        warnings.simplefilter("error", spla.MatrixRankWarning)
        try:
            solved = spla.splu(XtWX).solve(rhs)
        except (spla.MatrixRankWarning, RuntimeError):
            solved = None
    if solved is None or not np.isfinite(solved).all():
        # pyfixest found no collinearity among the slopes, so the dummies themselves are
        # redundant: the fixed effects form disconnected groups and no single intercept exists
        return {"unidentified": True}
    z, beta = solved[:, 0], solved[:, 1]
    a = weights * (X @ z)
    coef = float(L @ beta)
    scores = np.bincount(clusters, weights=a * residuals)
    var = factor * float(scores @ scores)
    se = float(np.sqrt(var))
    return {"coef": coef, "se": se, "_lsdv_beta": beta}


def _mean_constant(prepared: TwfeData, residuals, weights, clusters, factor, x_within, slopes) -> dict[str, float]:
    """reghdfe's constant ȳ − x̄'b and its clustered SE in closed form (every fixed effect absorbed).

    As a linear function of y it is a'y with a = w/Σw − W X̃ (X̃'WX̃)⁻¹ x̄ (X̃ = the regressors after the
    fixed effects): the same functional as L'β of the dummy-variable regression (the weighted residuals
    sum to zero), so the same SE, without the sparse dummy solve.
    """
    frame = prepared.frame
    x = frame[prepared.regressors].to_numpy(dtype=float)
    y = frame[prepared.outcome].to_numpy(dtype=float)
    total = weights.sum()
    x_bar = weights @ x / total
    coef = float(weights @ y / total - x_bar @ slopes)
    wx = weights[:, None] * x_within
    a = weights / total - wx @ np.linalg.solve(x_within.T @ wx, x_bar)
    scores = np.bincount(clusters, weights=a * residuals)
    return {"coef": coef, "se": float(np.sqrt(factor * float(scores @ scores))), "_lsdv_beta": None}


def fit_twfe(
    data: pd.DataFrame,
    outcome: str,
    regressors: list[str],
    fixed_effects: list[str],
    cluster: str | None,
    vcov: str | VcovPreset = DEFAULT_VCOV,
    weights: str | None = None,
) -> TwfeResult:
    """Fit ``outcome ~ regressors | fixed_effects`` by OLS (pyfixest) with a named SE preset.

    Parameters
    ----------
    data:
        The panel (not modified). Rows with a missing model value are left out and counted.
    regressors:
        The treatment first, then controls; the first must vary.
    fixed_effects:
        Column names, the unit first (the FE ``areg``/``xtreg`` absorb), then e.g. the year.
    cluster:
        Column to cluster by (CRV1); ``None`` gives heteroskedasticity-robust (HC1) errors.
    vcov:
        A key of :data:`VCOV_PRESETS`: ``lsdv``, ``areg``, ``xtreg_fe``, ``reghdfe``, ``fixest``.
    weights:
        Optional column of analytic weights (pyfixest ``aweights``).
    """
    preset = get_preset(vcov)
    fixed_effects = list(fixed_effects)
    if not fixed_effects:
        raise PilotdidInputError("no fixed effects given", where="[model] fixed_effects", fix='name them, e.g. ["city", "year"]')
    prepared = validate(
        data, outcome, regressors, fixed_effects, cluster, weights, drop_singletons=preset.drop_singletons
    )
    frame = prepared.frame
    if preset.name == "xtreg_fe" and cluster and not is_nested(frame, fixed_effects[0], cluster):
        raise PilotdidInputError(
            f"xtreg_fe needs the panel variable {fixed_effects[0]!r} nested within the clusters {cluster!r}",
            where="[model] cluster", fix="cluster by the panel variable or a coarser one, or use preset reghdfe",
        )

    # pyfixest formulas need plain names: work on a renamed copy, map back afterwards
    names = {outcome: "y__"}
    names.update({r: f"x{i}__" for i, r in enumerate(prepared.regressors)})
    work = {"y__": frame[outcome].to_numpy(dtype=float)}
    x = frame[prepared.regressors].to_numpy(dtype=float)
    fe_codes = [pd.factorize(frame[fe], sort=True)[0] for fe in fixed_effects]
    fe_names = []
    for j, codes in enumerate(fe_codes):
        work[f"f{j}__"] = codes
        fe_names.append(f"f{j}__")
    clusters = None
    if cluster:
        clusters = pd.factorize(frame[cluster], sort=True)[0]
        work["cl__"] = clusters
    if weights:
        work["w__"] = frame[weights].to_numpy(dtype=float)
    x_names = [names[r] for r in prepared.regressors]
    fml = "y__ ~ " + " + ".join(x_names) + " | " + " + ".join(fe_names)
    fit, caught = _run_feols(
        fml, work, x, x_names, {"CRV1": "cl__"} if cluster else "hetero", preset.ssc(), "w__" if weights else None
    )
    collinear = _fx.collinear_names(fit)
    if collinear:
        back = {v: k for k, v in names.items()}
        dropped = [back.get(v, v) for v in collinear]
        raise PilotdidInputError(
            f"perfectly collinear with the fixed effects or other regressors: {', '.join(dropped)}",
            where="[model]", fix="drop these columns (e.g. a unit-level treat dummy is absorbed by the unit FE)",
        )

    redundant = _extra_components_of_codes(fe_codes)
    design = _design(prepared, fe_codes, clusters, redundant)
    n_obs = _fx.nobs(fit)
    pf_stats = _fx.fit_statistics(fit)
    n_clusters = int(clusters.max()) + 1 if cluster else None  # sorted factorize codes: 0..G-1
    k_counted = preset.count_k(design)
    factor = preset.small_sample_factor(n_obs, k_counted, n_clusters)
    pf_factor = pf_stats["ssc"]
    vcov_matrix = _fx.vcov_matrix(fit)
    notes = list(prepared.notes)
    # any other warning pyfixest raised is passed on to the report, never swallowed
    notes += [f"pyfixest: {' '.join(str(w.message).split())}" for w in caught]
    if not np.isclose(factor, pf_factor, rtol=1e-12, atol=0):
        vcov_matrix = vcov_matrix * (factor / pf_factor)
        notes.append(
            f"K = {k_counted} under preset {preset.name} differs from pyfixest's count (df_k = {pf_stats['df_k']}); "
            f"variance rescaled by {factor / pf_factor:.6f}"
        )
    t_df = preset.t_df(n_obs, k_counted, n_clusters)

    coef = _fx.coefficients(fit)
    se = np.sqrt(np.diag(vcov_matrix))
    tval = coef / se
    pval = 2 * stats.t.sf(np.abs(tval), t_df)
    crit = stats.t.ppf(0.975, t_df)
    back = {v: k for k, v in names.items()}
    terms = [back[c] for c in _fx.coef_names(fit)]
    coefs = pd.DataFrame(
        {"term": terms, "coef": coef, "se": se, "t": tval, "p": pval, "ci_low": coef - crit * se, "ci_high": coef + crit * se}
    )

    y = work["y__"]
    w = work["w__"] if weights else np.ones(n_obs)
    residuals = np.asarray(fit.resid(), dtype=float)
    demeaned = None
    if not weights and preset.constant == CONSTANT_MEAN and len(fixed_effects) <= 2:
        # exact within transformation (not pyfixest's iterative one, tol 1e-10): the constant and its SE are
        # then the dummy-variable solution's to rounding
        from pilotdid.estimation.within import FixedEffectPartialler

        partialler = FixedEffectPartialler(fe_codes)
        within = partialler.demean(np.column_stack([x, y]))
        x_within = within[:, :-1]
        demeaned = (x_within, np.linalg.lstsq(x_within, within[:, -1], rcond=None)[0])
    constant = _constant(
        prepared, preset, residuals, w, clusters if cluster else np.arange(n_obs), factor, demeaned, redundant
    )
    if constant is not None and constant.get("unidentified"):
        constant = None
        notes.append(
            "no constant reported: the fixed effects form disconnected groups, so the dummy-variable "
            "intercept is not identified (slopes and SEs are unaffected)"
        )
    if constant is not None:
        lsdv_beta = constant.pop("_lsdv_beta")
        lsdv_slopes = coef if lsdv_beta is None else lsdv_beta[1 : 1 + len(terms)]
        if not np.allclose(lsdv_slopes, coef, rtol=1e-6, atol=1e-8 * (1 + np.abs(coef).max())):
            raise RuntimeError("internal: the dummy-variable solve disagrees with pyfixest's slopes")
        tc = constant["coef"] / constant["se"] if constant["se"] > 0 else np.nan
        constant.update(
            t=tc, p=float(2 * stats.t.sf(abs(tc), t_df)),
            ci_low=float(constant["coef"] - crit * constant["se"]), ci_high=float(constant["coef"] + crit * constant["se"]),
        )

    k_all = len(terms) + design.fe_dof
    r2 = pf_stats["r2"]
    r2_within = pf_stats["r2_within"]
    adj_r2 = 1 - (1 - r2) * (n_obs - 1) / (n_obs - k_all)
    adj_r2_within = 1 - (1 - r2_within) * (n_obs - design.fe_dof) / (n_obs - k_all)
    return TwfeResult(
        coefs=coefs,
        constant=constant,
        outcome=outcome,
        nobs=n_obs,
        n_clusters=n_clusters,
        cluster=cluster,
        r2=r2,
        r2_within=r2_within,
        adj_r2=adj_r2,
        adj_r2_within=adj_r2_within,
        df_resid=n_obs - k_all,
        t_df=int(t_df),
        k_counted=int(k_counted),
        small_sample_factor=float(factor),
        vcov=preset.name,
        vcov_description=preset.description,
        stata_command=preset.stata_command,
        fixed_effects=list(fixed_effects),
        fe_levels=dict(zip(fixed_effects, design.levels)),
        weights=weights,
        rows_missing=prepared.rows_missing,
        singleton_rows=prepared.singleton_rows,
        singletons_dropped=prepared.singletons_dropped,
        vcov_matrix=pd.DataFrame(vcov_matrix, index=terms, columns=terms),
        notes=notes,
        mean_outcome=float(np.average(y, weights=w)),
    )


def vcov_presets_table(
    data: pd.DataFrame,
    outcome: str,
    regressors: list[str],
    fixed_effects: list[str],
    cluster: str | None,
    treatment_term: str | None = None,
    presets: list[str] | None = None,
    weights: str | None = None,
) -> tuple[pd.DataFrame, dict[str, TwfeResult]]:
    """The treatment coefficient under every SE preset, side by side.

    Returns (rows, fits): one row per preset with preset, Stata command, N, K counted, small-sample
    factor q, t df, coefficient, SE, t and p of ``treatment_term`` (default: first regressor), the
    constant and its SE; and the fitted results by preset name.
    """
    treatment_term = treatment_term or regressors[0]
    rows, fits = [], {}
    for name in presets or list(VCOV_PRESETS):
        res = fit_twfe(data, outcome, regressors, fixed_effects, cluster, vcov=name, weights=weights)
        fits[name] = res
        row = res.term(treatment_term)
        cons = res.constant or {}
        rows.append(
            {
                "preset": name,
                "stata_command": res.stata_command,
                "nobs": res.nobs,
                "k_counted": res.k_counted,
                "small_sample_factor": res.small_sample_factor,
                "t_df": res.t_df,
                "coef": row["coef"],
                "se": row["se"],
                "t": row["t"],
                "p": row["p"],
                "constant": cons.get("coef"),
                "constant_se": cons.get("se"),
            }
        )
    return pd.DataFrame(rows), fits
