"""Hand computations (dense numpy) that the TWFE presets are tested against. Written from the
Stata manuals' formulas, independently of pilotdid.estimation."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def dummies(series: pd.Series) -> np.ndarray:
    """Dummies for every level but the first in sorted order (Stata's i. base level)."""
    return pd.get_dummies(series, drop_first=True).to_numpy(dtype=float)


def crv1(X: np.ndarray, e: np.ndarray, groups: np.ndarray, factor: float) -> np.ndarray:
    bread = np.linalg.pinv(X.T @ X)  # pinv: also valid for a rank-deficient (disconnected) design
    meat = np.zeros((X.shape[1], X.shape[1]))
    for g in np.unique(groups):
        s = X[groups == g].T @ e[groups == g]
        meat += np.outer(s, s)
    return factor * bread @ meat @ bread


def lsdv(df, y, xs, fes, cluster):
    """reg y xs i.fe1 i.fe2, vce(cluster): returns dict with beta (cons first), V, K, G, e."""
    X = np.column_stack([np.ones(len(df)), df[xs].to_numpy(float)] + [dummies(df[f]) for f in fes])
    yv = df[y].to_numpy(float)
    beta = np.linalg.lstsq(X, yv, rcond=None)[0]
    e = yv - X @ beta
    N, K = X.shape
    G = df[cluster].nunique()
    q = (N - 1) / (N - K) * G / (G - 1)
    V = crv1(X, e, df[cluster].to_numpy(), q)
    return {"beta": beta, "V": V, "K": K, "G": G, "N": N, "e": e, "q": q, "X": X}


def demean_dense(M: np.ndarray, df: pd.DataFrame, fes: list[str]) -> np.ndarray:
    """Residual of M on all the dummies of fes (exact projection)."""
    D = np.column_stack([np.ones(len(df))] + [dummies(df[f]) for f in fes])
    coef = np.linalg.lstsq(D, M, rcond=None)[0]
    return M - D @ coef


def mean_constant(df, y, xs, absorbed, explicit, cluster, K):
    """areg/xtreg/reghdfe constant: regress ȳ-added-back transformed y on [1, M x + x̄] (x with
    explicit FE dummies), clustered sandwich with q(K)."""
    Xe = np.column_stack([df[xs].to_numpy(float)] + [dummies(df[f]) for f in explicit])
    yv = df[y].to_numpy(float)
    Xt = demean_dense(Xe, df, absorbed) + Xe.mean(axis=0)
    yt = demean_dense(yv[:, None], df, absorbed)[:, 0] + yv.mean()
    Z = np.column_stack([np.ones(len(df)), Xt])
    b = np.linalg.lstsq(Z, yt, rcond=None)[0]
    e = yt - Z @ b
    N, G = len(df), df[cluster].nunique()
    q = (N - 1) / (N - K) * G / (G - 1)
    V = crv1(Z, e, df[cluster].to_numpy(), q)
    return b[0], float(np.sqrt(V[0, 0])), b[1 : 1 + len(xs)], np.sqrt(np.diag(V))[1 : 1 + len(xs)]


def t_p(coef, se, df):
    t = coef / se
    return t, 2 * stats.t.sf(abs(t), df)
