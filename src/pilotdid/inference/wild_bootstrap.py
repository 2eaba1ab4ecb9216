"""Wild cluster restricted (WCR) bootstrap for one coefficient of a fixed-effects regression.

The answer when clusters (or treated clusters) are few: Cameron, Gelbach & Miller (2008); the
algebra follows Roodman, MacKinnon, Nielsen & Webb (2019, "fast & wild"):

- fixed effects are partialled out first (Frisch-Waugh; alternating projections), then the model is
  fitted with and without the restriction beta_k = r (WCR: the null is imposed);
- bootstrap outcomes y* = X beta_r + u_r * v_g with one weight per cluster: Rademacher (+-1; when
  2^G < reps all 2^G sign vectors are enumerated, as ``boottest``/``wildboottest`` do) or Webb's
  six-point weights (+-sqrt(1/2), +-1, +-sqrt(3/2));
- every draw's coefficient and CRV1 standard error are computed from cluster-level sums, all draws at
  once (no refits); the CRV1 small-sample factor cancels in the bootstrap t-ratio;
- p-value (two-sided, symmetric) = share of draws with |t*| > |t| (strict, as ``wildboottest``); the CI
  inverts the test over r by bisection with the same draws.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError

WEIGHTS = ("rademacher", "webb")


@dataclass
class WildBootstrapResult:
    term: str
    coef: float
    t_stat: float
    p_value: float
    ci_low: float
    ci_high: float
    reps: int
    weights: str
    n_clusters: int
    full_enumeration: bool
    seed: int


def demean(matrix: np.ndarray, groups: list[np.ndarray], tol: float = 1e-12, max_iter: int = 10_000) -> np.ndarray:
    """Partial out several fixed effects by alternating projections (exact in one pass for one FE)."""
    out = np.array(matrix, dtype=float, copy=True)
    if out.ndim == 1:
        out = out[:, None]
    codes = [pd.factorize(g)[0] for g in groups]
    counts = [np.bincount(c) for c in codes]
    for _ in range(max_iter):
        before = out.copy()
        for c, n in zip(codes, counts):
            sums = np.zeros((len(n), out.shape[1]))
            np.add.at(sums, c, out)
            out -= (sums / n[:, None])[c]
        if np.max(np.abs(out - before)) < tol:
            break
    return out


def _draw_weights(n_clusters: int, reps: int, weights: str, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    if weights == "rademacher":
        if 2 ** n_clusters < reps:
            grid = np.array(list(itertools.product([1.0, -1.0], repeat=n_clusters)))
            return grid.T, True
        return rng.choice([-1.0, 1.0], size=(n_clusters, reps)), False
    if weights == "webb":
        vals = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
        return rng.choice(vals, size=(n_clusters, reps)), False
    raise PilotdidInputError(f"weights {weights!r} unknown", where="wild_bootstrap.weights", fix=f"use one of {WEIGHTS}")


class _WCR:
    """Precomputed cluster-level pieces for fast WCR t-statistics at any null value r."""

    def __init__(self, y: np.ndarray, X: np.ndarray, k: int, cluster: np.ndarray, v: np.ndarray):
        self.y, self.X, self.k = y, X, k
        self.codes = pd.factorize(cluster)[0]
        self.G = int(self.codes.max()) + 1
        self.v = v
        self.XtX_inv = np.linalg.inv(X.T @ X)
        self.a = self.XtX_inv[k]
        # Cluster sums of X'X rows for coefficient k: h_g = a' X_g' X_g (G x K)
        XA = X @ self.a  # (N,)
        self.h = np.zeros((self.G, X.shape[1]))
        np.add.at(self.h, self.codes, XA[:, None] * X)
        self.XA = XA
        self.others = [j for j in range(X.shape[1]) if j != k]

    def _cluster_sum(self, vec: np.ndarray) -> np.ndarray:
        return np.bincount(self.codes, weights=vec, minlength=self.G)

    def t_stat(self) -> tuple[float, float]:
        beta = self.XtX_inv @ (self.X.T @ self.y)
        u = self.y - self.X @ beta
        score = self._cluster_sum(self.XA * u)
        se = np.sqrt(score @ score)
        return float(beta[self.k]), float(beta[self.k] / se)

    def boot_t(self, r: float) -> tuple[float, np.ndarray]:
        """Original t for H0: beta_k = r (without the small-sample constant) and the bootstrap t*'s."""
        X, k = self.X, self.k
        beta = self.XtX_inv @ (X.T @ self.y)
        u = self.y - X @ beta
        s0 = self._cluster_sum(self.XA * u)
        t0 = (beta[k] - r) / np.sqrt(s0 @ s0)
        # restricted fit
        y_r = self.y - r * X[:, k]
        Xo = X[:, self.others]
        if Xo.shape[1]:
            b_o = np.linalg.lstsq(Xo, y_r, rcond=None)[0]
            fit_r = Xo @ b_o + r * X[:, k]
        else:
            fit_r = r * X[:, k]
        u_r = self.y - fit_r
        # beta*_b - beta_r = (X'X)^-1 sum_g X_g' u_r,g v_gb ; only its k-th entry and the scores are needed
        S = np.zeros((self.G, X.shape[1]))
        np.add.at(S, self.codes, X * u_r[:, None])  # (G, K): X_g' u_r,g
        dbeta = self.XtX_inv @ (S.T @ self.v)  # (K, B)
        # cluster scores of draw b: a' X_g' u*_g = a'S_g v_gb - h_g' dbeta_b  (X_g' (fit_r - X beta_r) = 0)
        s_g = S @ self.a  # (G,)
        scores = s_g[:, None] * self.v - self.h @ dbeta  # (G, B)
        se_b = np.sqrt((scores ** 2).sum(axis=0))
        t_b = dbeta[k] / se_b
        return float(t0), t_b


def wild_cluster_bootstrap(
    panel: pd.DataFrame,
    *,
    outcome: str,
    term: str,
    controls: list[str] | None = None,
    fixed_effects: list[str] | None = None,
    cluster: str,
    reps: int = 9999,
    weights: str = "rademacher",
    seed: int = 12345,
    alpha: float = 0.05,
    ci: bool = True,
) -> WildBootstrapResult:
    """WCR bootstrap p-value and test-inversion CI for ``term`` in y ~ term + controls | fixed effects."""
    where = "wild_bootstrap"
    controls = list(controls or [])
    fixed_effects = list(fixed_effects or [])
    cols = [outcome, term, *controls, *fixed_effects, cluster]
    missing = [c for c in dict.fromkeys(cols) if c not in panel.columns]
    if missing:
        raise PilotdidInputError(f"column(s) {missing} not in the panel", where=where, fix="check [model] in the study file")
    if weights not in WEIGHTS:
        raise PilotdidInputError(f"weights {weights!r} unknown", where=f"{where}.weights", fix=f"use one of {WEIGHTS}")
    if reps < 99:
        raise PilotdidInputError(f"reps = {reps} is too few", where=f"{where}.reps", fix="use at least 999")
    df = panel[list(dict.fromkeys(cols))].dropna()
    y = df[outcome].to_numpy(dtype=float)
    X = df[[term, *controls]].to_numpy(dtype=float)
    if fixed_effects:
        Z = demean(np.column_stack([y, X]), [df[f].to_numpy() for f in fixed_effects])
        y, X = Z[:, 0], Z[:, 1:]
    else:
        X = np.column_stack([X, np.ones(len(y))])
    clus = df[cluster].to_numpy()
    n_clusters = int(pd.Series(clus).nunique())
    rng = np.random.default_rng(seed)
    v, full = _draw_weights(n_clusters, reps, weights, rng)
    wcr = _WCR(y, X, 0, clus, v)
    coef, _ = wcr.t_stat()
    t0, tb = wcr.boot_t(0.0)
    p = float(np.mean(np.abs(t0) < np.abs(tb)))
    lo = hi = float("nan")
    if ci:
        beta_se = abs(coef / t0) if t0 != 0 else 1.0

        def pval(r):
            t_r, tb_r = wcr.boot_t(r)
            return float(np.mean(np.abs(t_r) < np.abs(tb_r)))

        def bisect(inside, outside):
            for _ in range(60):
                mid = 0.5 * (inside + outside)
                if pval(mid) > alpha:
                    inside = mid
                else:
                    outside = mid
                if abs(outside - inside) < 1e-6 * beta_se:
                    break
            return 0.5 * (inside + outside)

        bounds = []
        for direction in (-1, 1):
            step = 2 * beta_se
            out = coef + direction * step
            tries = 0
            while pval(out) > alpha and tries < 20:
                step *= 2
                out = coef + direction * step
                tries += 1
            bounds.append(bisect(coef, out))
        lo, hi = bounds
    return WildBootstrapResult(term=term, coef=coef, t_stat=float(t0), p_value=p, ci_low=lo, ci_high=hi,
                               reps=int(v.shape[1]), weights=weights, n_clusters=n_clusters, full_enumeration=full,
                               seed=seed)
