"""The within transformation and the CRV1 small-sample factor, on numpy (no pyfixest).

One home for what the fast re-estimation loops share (placebo draws, subgroup permutations,
mediation bootstraps): removing fixed effects from many columns at once, dropping fixed-effect
singletons as pyfixest does, and the CRV1 small-sample factor as pyfixest's ``ssc`` defines it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp


def indicator_matrix(codes: np.ndarray, n_levels: int) -> sp.csr_matrix:
    """Sparse (levels x N) indicator: row g has ones at the observations of level g."""
    n = codes.shape[0]
    return sp.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(n_levels, n))


class FixedEffectPartialler:
    """Removes fixed effects from columns of a matrix (the 'within' transformation).

    Exact closed form for a complete two-way layout (every level pair observed exactly once: a
    balanced panel). Two fixed effects in any other layout (an unbalanced panel): exact too, by
    eliminating the factor with more levels and solving the other's small dense Schur complement
    (one pass over the rows, however unbalanced) when the smaller factor has at most
    ``MAX_DENSE_LEVELS`` levels (years, quarters, provinces; a k x k dense matrix). Otherwise, and for
    three or more factors: alternating projections (method of Gaure 2013, as in pyfixest/fixest),
    iterated until the largest change is below ``tol``.

    ``weights`` (positive, one per row): the weighted within transformation x - D (D'WD)^- D'W x of weighted
    least squares; the complete-layout shortcuts do not hold then, so the exact Schur complement (two
    factors) or weighted alternating projections are used.
    """

    MAX_DENSE_LEVELS = 2_000  # 2,000^2 doubles = 32 MB and one eigh of that size (~1 s): still cheaper than iterating

    def __init__(self, codes: Sequence[np.ndarray], *, tol: float = 1e-14, max_iter: int = 100_000,
                 weights: np.ndarray | None = None):
        self.codes = [np.asarray(c, dtype=np.int64) for c in codes]
        self.n = self.codes[0].shape[0] if self.codes else 0
        self.n_levels = [int(c.max()) + 1 if c.size else 0 for c in self.codes]
        self.indicators = [indicator_matrix(c, k) for c, k in zip(self.codes, self.n_levels)]
        self.weights = None if weights is None else np.asarray(weights, dtype=float)
        if self.weights is not None:  # weighted sums: the indicator rows carry the weights
            self.indicators = [(ind @ sp.diags(self.weights)).tocsr() for ind in self.indicators]
            self.counts = [np.bincount(c, self.weights, minlength=k) for c, k in zip(self.codes, self.n_levels)]
        else:
            self.counts = [np.bincount(c, minlength=k).astype(float) for c, k in zip(self.codes, self.n_levels)]
        self.tol = tol
        self.max_iter = max_iter
        self.balanced_two_way = (
            len(self.codes) == 2
            and self.n_levels[0] * self.n_levels[1] == self.n
            and np.unique(self.codes[0] * self.n_levels[1] + self.codes[1]).size == self.n
        )
        # rows ordered unit-major, period-minor in a complete layout: demean by reshaping (no gathers)
        self.grid = self.balanced_two_way and bool(
            np.array_equal(self.codes[0], np.repeat(np.arange(self.n_levels[0]), self.n_levels[1]))
            and np.array_equal(self.codes[1], np.tile(np.arange(self.n_levels[1]), self.n_levels[0]))
        )
        self.iterations = 0
        self._schur: tuple | None = None

    @classmethod
    def from_labels(cls, groups: Sequence[np.ndarray], **options) -> FixedEffectPartialler:
        """The partialler of fixed effects given as label arrays (any hashable values), coded in order of appearance."""
        import pandas as pd

        return cls([pd.factorize(np.asarray(g))[0] for g in groups], **options)

    def _two_way_exact(self, x: np.ndarray) -> np.ndarray:
        """x minus its least-squares fit on both factors' dummies, for any two-way layout (in place)."""
        if self._schur is None:
            big, small = (0, 1) if self.n_levels[0] >= self.n_levels[1] else (1, 0)
            small_rows = indicator_matrix(self.codes[small], self.n_levels[small])  # unweighted: W enters once
            pairs = (self.indicators[big] @ small_rows.T).tocsr()  # level-pair (weighted) counts
            inv_big = 1.0 / self.counts[big]
            schur = np.diag(self.counts[small]) - (pairs.T @ sp.diags(inv_big) @ pairs).toarray()
            values, vectors = np.linalg.eigh(schur)
            # null space: one direction per connected component of the level graph (effects not separable)
            keep = values > 1e-10 * max(float(values.max(initial=0.0)), 1.0)
            self._schur = (big, small, pairs, inv_big, (vectors[:, keep] / values[keep]) @ vectors[:, keep].T)
        big, small, pairs, inv_big, schur_pinv = self._schur
        sum_big = np.asarray(self.indicators[big] @ x)
        sum_small = np.asarray(self.indicators[small] @ x)
        effect_small = schur_pinv @ (sum_small - pairs.T @ (sum_big * inv_big[:, None]))
        effect_big = (sum_big - pairs @ effect_small) * inv_big[:, None]
        x -= effect_big[self.codes[big]]
        x -= effect_small[self.codes[small]]
        return x

    def _means(self, j: int, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.indicators[j] @ x) / self.counts[j][:, None]

    def demean(self, x: np.ndarray, *, copy: bool = True) -> np.ndarray:
        """Within-transformed ``x`` (N x B): a copy, or ``x`` itself (float, C-ordered) when ``copy=False``."""
        x = np.array(x, dtype=float, copy=True) if copy else np.ascontiguousarray(x, dtype=float)
        if x.ndim == 1:
            return self.demean(x[:, None])[:, 0]
        if not self.codes:
            return x
        if len(self.codes) == 1:
            return x - self._means(0, x)[self.codes[0]]
        if self.grid and self.weights is None:
            cube = x.reshape(self.n_levels[0], self.n_levels[1], -1)
            cube -= cube.mean(axis=1, keepdims=True)
            cube -= cube.mean(axis=0, keepdims=True)
            return x
        if self.balanced_two_way and self.weights is None:
            # one sweep each way is exact in a complete layout: x - unit mean - time mean + grand mean
            x -= self._means(0, x)[self.codes[0]]
            x -= self._means(1, x)[self.codes[1]]
            return x
        if len(self.codes) == 2 and min(self.n_levels) <= self.MAX_DENSE_LEVELS:
            return self._two_way_exact(x)
        for it in range(self.max_iter):
            change = 0.0
            for j in range(len(self.codes)):
                m = self._means(j, x)
                x -= m[self.codes[j]]
                change = max(change, float(np.abs(m).max()) if m.size else 0.0)
            if change < self.tol:
                self.iterations = it + 1
                return x
        raise RuntimeError(f"fixed-effect demeaning did not converge in {self.max_iter} iterations (tol {self.tol})")


def drop_singletons(codes: list[np.ndarray]) -> np.ndarray:
    """Boolean mask of observations kept after iteratively removing fixed-effect singletons
    (levels observed once), as pyfixest's default ``fixef_rm='singleton'`` does."""
    keep = np.ones(codes[0].shape[0], dtype=bool) if codes else np.ones(0, dtype=bool)
    while True:
        removed = False
        for c in codes:
            counts = np.bincount(c[keep], minlength=int(c.max()) + 1 if c.size else 0)
            single = keep & (counts[c] == 1)
            if single.any():
                keep &= ~single
                removed = True
        if not removed:
            return keep


def small_sample_factor(nobs: int, k: int, n_clusters: int | None, *, k_adj: bool = True,
                        G_adj: bool = True) -> float:
    """The one small-sample factor c of a sandwich variance V = c · (X'X)^-1 meat (X'X)^-1.

    Clustered (CRV1): c = (N-1)/(N-K) · G/(G-1), evaluated left to right as written (the float order every
    results.json number was made with); ``k_adj=False`` drops the first factor, ``G_adj=False`` the second.
    Without clustering (``n_clusters`` None): HC1's N/(N-K) (1 with ``k_adj=False``). K is counted by the
    caller (an SE preset's rule, or :func:`crv1_small_sample_factor`'s pyfixest ``k_fixef`` rule).
    """
    if n_clusters is None:
        return nobs / (nobs - k) if k_adj else 1.0
    factor = (nobs - 1) / (nobs - k) if k_adj else 1.0
    return factor * n_clusters / (n_clusters - 1) if G_adj else factor


def crv1_small_sample_factor(
    nobs: int, n_coef: int, fe_levels: Sequence[int], fe_nested_in_cluster: Sequence[bool], n_clusters: int,
    *, k_adj: bool = True, k_fixef: str = "nonnested", G_adj: bool = True,
) -> float:
    """The CRV1 small-sample factor (:func:`small_sample_factor`) with K counted as pyfixest's ``ssc`` does.

    Mirrors pyfixest's ``ssc(k_adj, k_fixef, G_adj)`` for one-way clustering:
    c = (N-1)/(N-K) · G/(G-1), with K = regressors + fixed-effect levels counted as ``k_fixef``
    says ("none": none; "full": all levels minus one per extra FE; "nonnested": as "full" but the
    levels of an FE nested in the cluster are not counted, one per such FE is).
    """
    n_fe = len(fe_levels)
    k_fe = int(sum(fe_levels))
    k_fe_adj = k_fe - (n_fe - 1) if n_fe > 1 else k_fe
    if k_fixef == "none" or n_fe == 0:
        df_k = n_coef
    elif k_fixef == "full":
        df_k = n_coef + k_fe_adj
    elif k_fixef == "nonnested":
        nested_levels = int(sum(lv for lv, nested in zip(fe_levels, fe_nested_in_cluster) if nested))
        n_nested = int(sum(bool(n) for n in fe_nested_in_cluster))
        df_k = n_coef + k_fe_adj - nested_levels + n_nested if n_nested else n_coef + k_fe_adj
    else:
        raise ValueError(f"k_fixef must be 'none', 'full' or 'nonnested', not {k_fixef!r}")
    return small_sample_factor(nobs, df_k, n_clusters, k_adj=k_adj, G_adj=G_adj)
