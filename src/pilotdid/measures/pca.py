"""Principal-component composite index (the paper's Table 2 digital-economy index), with KMO and Bartlett's test.

Conventions, named:

* Indicators are z-scored with the sample standard deviation (ddof = 1) over the pooled city-years; cost ("−")
  indicators are negated first, so every standardised indicator points the "more is better" way.
* Components are the eigenvectors of the correlation matrix R (computed with scikit-learn's full-SVD PCA on the
  z-scores, whose ddof = 1 covariance is R). Component scores are ``F_k = Z v_k`` (unscaled; variance λ_k), as
  Stata's ``predict`` after ``pca`` gives. Loadings are ``v_k √λ_k`` (the correlation of indicator and component).
* Sign: each eigenvector is oriented so that its elements sum to a non-negative number; since
  ``corr(F_k, Σ_j z_j) ∝ λ_k · Σ_j v_jk``, the component then rises with the indicators on balance — higher means
  more (digital).
* The index keeps the components with eigenvalue > 1 (Kaiser's rule; at least the first) and weights them by
  their share of the retained explained variance, ``Σ_k (λ_k / Σ_retained λ) F_k``; the first component alone is
  also returned.
* KMO is Kaiser & Rice's (1974) form, ``Σ r² / (Σ r² + Σ q²)`` over off-diagonal elements, q the anti-image
  (partial) correlations; Bartlett's (1951) sphericity statistic is ``−(n − 1 − (2p + 5)/6) ln|R|`` with
  ``p(p − 1)/2`` degrees of freedom (the SPSS/psych form).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from pilotdid.errors import PilotdidInputError
from pilotdid.measures._panel import prepare, resolve_system
from pilotdid.measures.system import IndicatorSystem


def kmo(corr: np.ndarray) -> tuple[float, np.ndarray]:
    """Kaiser–Meyer–Olkin measure of sampling adequacy: (overall, per-variable MSA) of a correlation matrix."""
    r = np.asarray(corr, dtype=float)
    inverse = np.linalg.inv(r)
    scale = 1.0 / np.sqrt(np.diag(inverse))
    partial = -inverse * np.outer(scale, scale)
    off = ~np.eye(r.shape[0], dtype=bool)
    r2 = np.where(off, r**2, 0.0)
    q2 = np.where(off, partial**2, 0.0)
    overall = r2.sum() / (r2.sum() + q2.sum())
    per_variable = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    return float(overall), per_variable


def bartlett_sphericity(corr: np.ndarray, n: int) -> tuple[float, int, float]:
    """Bartlett's test that a correlation matrix is the identity: (chi-square, df, p-value)."""
    r = np.asarray(corr, dtype=float)
    p = r.shape[0]
    sign, logdet = np.linalg.slogdet(r)
    if sign <= 0:
        raise ValueError("the correlation matrix is not positive definite")
    chi2 = -(n - 1 - (2 * p + 5) / 6.0) * logdet
    df = p * (p - 1) // 2
    return float(chi2), int(df), float(stats.chi2.sf(chi2, df))


def principal_components(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and sign-fixed eigenvectors (columns) of the covariance of ``z``.

    For z-scores with ddof = 1 that covariance is the correlation matrix. Each eigenvector is oriented so its
    elements sum to ≥ 0 (ties broken by the largest-magnitude element being positive).
    """
    from sklearn.decomposition import PCA  # scikit-learn loads in ~0.6 s: only when a PCA index is asked for

    fit = PCA(svd_solver="full").fit(np.asarray(z, dtype=float))
    eigenvalues = fit.explained_variance_.copy()
    vectors = fit.components_.T.copy()
    for k in range(vectors.shape[1]):
        total = vectors[:, k].sum()
        if abs(total) < 1e-12:
            total = vectors[np.argmax(np.abs(vectors[:, k])), k]
        if total < 0:
            vectors[:, k] *= -1.0
    return eigenvalues, vectors


@dataclass
class PCAIndexResult:
    """A principal-component index and everything a reviewer asks to see."""

    index: pd.Series  # retained components weighted by explained variance
    first_component: pd.Series
    component_scores: pd.DataFrame  # PC1..PCp, aligned to the input rows
    eigenvalues: pd.DataFrame  # component, eigenvalue, explained_share, cumulative_share, retained, weight_in_index
    loadings: pd.DataFrame  # indicator x component: v_k * sqrt(lambda_k)
    eigenvectors: pd.DataFrame  # indicator x component: score coefficients v_k
    coefficients: pd.Series  # coefficient of each standardised indicator in the index
    kmo: float
    kmo_per_indicator: pd.Series
    bartlett_chi2: float
    bartlett_df: int
    bartlett_p: float
    n: int
    retained: int
    standardised: pd.DataFrame  # the z-scores (direction-aligned)
    means: pd.Series
    sds: pd.Series
    indicators: list[str]
    notes: list[str] = field(default_factory=list)
    unit: str = "city"
    time: str = "year"
    dropped: dict[str, str] = field(default_factory=dict)  # indicator -> why it was left out


def pca_index(
    panel: pd.DataFrame,
    system: IndicatorSystem | str | Path,
    *,
    unit: str | None = None,
    time: str | None = None,
    drop_constant: bool = False,
    min_eigenvalue: float = 1.0,
    fill_mask: pd.DataFrame | None = None,
    missing: str = "error",
) -> PCAIndexResult:
    """Build a principal-component index from the system's available indicators over all city-years (pooled)."""
    system = resolve_system(system)
    prepared = prepare(panel, system, unit=unit, time=time, by_time=False, drop_constant=drop_constant,
                       fill_mask=fill_mask, missing=missing)
    values = prepared.values
    names = list(values.columns)
    n, p = values.shape
    if p < 2:
        raise PilotdidInputError(
            f"a principal-component index needs at least two available indicators; only {names} is available",
            where=system.path or "indicator system", fix="add indicators or use the single indicator directly",
        )
    if n <= p:
        raise PilotdidInputError(f"{n} observations for {p} indicators", where="panel", fix="PCA needs more rows than indicators")
    signs = np.array([-1.0 if ind.sign == "-" else 1.0 for ind in prepared.indicators])
    x = values.to_numpy() * signs
    means = x.mean(axis=0)
    sds = x.std(axis=0, ddof=1)
    z = (x - means) / sds
    corr = np.corrcoef(z, rowvar=False)
    if np.linalg.matrix_rank(corr) < p:
        raise PilotdidInputError("the indicators are perfectly collinear (singular correlation matrix)", where="panel",
                                 fix="drop an indicator that is an exact linear combination of others")
    eigenvalues, vectors = principal_components(z)
    overall_kmo, msa = kmo(corr)
    chi2, df, p_value = bartlett_sphericity(corr, n)

    retained = max(1, int((eigenvalues > min_eigenvalue).sum()))
    labels = [f"PC{k + 1}" for k in range(p)]
    scores = z @ vectors
    share_in_index = np.zeros(p)
    share_in_index[:retained] = eigenvalues[:retained] / eigenvalues[:retained].sum()
    combined = scores @ share_in_index
    coefficients = vectors @ share_in_index

    index = pd.Series(combined, index=values.index, name="index").reindex(panel.index)
    first = pd.Series(scores[:, 0], index=values.index, name="PC1").reindex(panel.index)
    explained = eigenvalues / eigenvalues.sum()
    table = pd.DataFrame({
        "component": labels, "eigenvalue": eigenvalues, "explained_share": explained,
        "cumulative_share": np.cumsum(explained), "retained": np.arange(p) < retained,
        "weight_in_index": share_in_index,
    })
    notes = list(prepared.notes)
    notes.append(
        f"PCA on {p} indicators ({', '.join(names)}), n = {n} pooled {prepared.unit}-{prepared.time} rows, "
        "z-scores with ddof = 1 (cost indicators negated), correlation-matrix eigenvectors oriented to sum >= 0."
    )
    notes.append(
        f"Kept {retained} component(s) with eigenvalue > {min_eigenvalue:g} (at least one), weighted by their "
        f"share of retained explained variance; they explain {explained[:retained].sum():.1%} of the variance."
    )
    notes.append(f"KMO = {overall_kmo:.3f}; Bartlett's sphericity chi2({df}) = {chi2:.2f}, p = {p_value:.3g}.")
    if p == 2:
        notes.append("With two indicators KMO is 0.5 by construction (the partial correlation equals the correlation); it carries no information.")
    return PCAIndexResult(
        index=index, first_component=first,
        component_scores=pd.DataFrame(scores, index=values.index, columns=labels).reindex(panel.index),
        eigenvalues=table,
        loadings=pd.DataFrame(vectors * np.sqrt(eigenvalues), index=names, columns=labels),
        eigenvectors=pd.DataFrame(vectors, index=names, columns=labels),
        coefficients=pd.Series(coefficients, index=names, name="coefficient"),
        kmo=overall_kmo, kmo_per_indicator=pd.Series(msa, index=names, name="msa"),
        bartlett_chi2=chi2, bartlett_df=df, bartlett_p=p_value, n=n, retained=retained,
        standardised=pd.DataFrame(z, index=values.index, columns=names).reindex(panel.index),
        means=pd.Series(means * signs, index=names), sds=pd.Series(sds, index=names),
        indicators=names, notes=notes, unit=prepared.unit, time=prepared.time, dropped=dict(prepared.dropped),
    )
