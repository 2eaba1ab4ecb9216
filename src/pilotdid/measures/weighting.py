"""The numerical core of composite indices: standardisation and objective weights on a plain numpy matrix.

Rows are observations (city-years), columns are indicators. Nothing here knows about panels, files or
indicator systems; :mod:`pilotdid.measures.index` wraps these functions for a panel.

Conventions (named because the literature rarely states them):

* **Standardisation** is direction-aware min–max: ``z = (x − min) / (max − min)`` for a benefit ("+") indicator,
  ``z = (max − x) / (max − min)`` for a cost ("−") indicator, so every z lies in [0, 1] and higher is better.
  Consequently everything built on z is *exactly invariant* to any positive affine map of an indicator
  (``x → a·x + b`` with ``a > 0``), and negating an indicator while flipping its declared sign leaves z unchanged;
  negating it *without* flipping the sign maps z to ``1 − z``.
* **Entropy shift**: the entropy weight needs ``p·ln p`` at ``p = 0`` (the worst observation of every indicator
  has z = 0). Following the common practice, ``shift`` (default 0.0001) is added to every z before the shares
  ``p_ij = (z_ij + shift) / Σ_i (z_ij + shift)`` are formed. With ``shift = 0`` the limit ``0·ln 0 = 0`` is used.
  The shift enters only the weights; the index is ``Σ_j w_j z_ij`` on the unshifted z (adding the shift to z in
  the index would add exactly ``shift`` to every value, since the weights sum to one).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import xlogy

DEFAULT_SHIFT = 1e-4


def minmax_standardise(values: np.ndarray, signs: Sequence[str]) -> np.ndarray:
    """Direction-aware min–max standardisation of each column to [0, 1] (higher = better).

    Columns with zero range give NaN (callers check ranges first and report the indicator by name).
    """
    x = np.asarray(values, dtype=float)
    lo = x.min(axis=0)
    hi = x.max(axis=0)
    span = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        benefit = (x - lo) / span
        cost = (hi - x) / span
    negative = np.array([s == "-" for s in signs], dtype=bool)
    return np.where(negative, cost, benefit)


def entropy_weights(z: np.ndarray, shift: float = DEFAULT_SHIFT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entropy, redundancy (1 − entropy) and weights of standardised scores ``z`` (n × m, n ≥ 2).

    ``e_j = −(1/ln n) Σ_i p_ij ln p_ij`` with ``p_ij = (z_ij + shift) / Σ_i (z_ij + shift)``;
    ``d_j = 1 − e_j``; ``w_j = d_j / Σ_j d_j``.
    """
    z = np.asarray(z, dtype=float)
    n = z.shape[0]
    if n < 2:
        raise ValueError("the entropy method needs at least two observations")
    shifted = z + shift
    shares = shifted / shifted.sum(axis=0)
    entropy = -xlogy(shares, shares).sum(axis=0) / np.log(n)
    redundancy = 1.0 - entropy
    total = redundancy.sum()
    if not total > 0:
        raise ValueError("every indicator has maximal entropy (no variation to weight)")
    return entropy, redundancy, redundancy / total


def critic_weights(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CRITIC weights (Diakoulaki, Mavrotas & Papayannakis 1995) of standardised scores.

    Information ``C_j = σ_j Σ_k (1 − r_jk)`` with σ the standard deviation of z_j and r the Pearson correlation
    between the z columns; ``w_j = C_j / Σ C``. Returns (σ, conflict Σ_k (1 − r_jk), weights). The degrees of
    freedom of σ cancel in the weights (ddof = 1 is used). A single indicator gets weight 1.
    """
    z = np.asarray(z, dtype=float)
    m = z.shape[1]
    sd = z.std(axis=0, ddof=1)
    if m == 1:
        return sd, np.zeros(1), np.ones(1)
    corr = np.corrcoef(z, rowvar=False)
    conflict = (1.0 - corr).sum(axis=0)
    information = sd * conflict
    total = information.sum()
    if not total > 0:
        # Perfectly correlated indicators carry no conflicting information: CRITIC is undefined; weigh equally.
        return sd, conflict, np.full(m, 1.0 / m)
    return sd, conflict, information / total


def topsis_closeness(z: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Relative closeness to the ideal solution, ``D⁻ / (D⁺ + D⁻)``, on the weighted standardised matrix.

    ``v_ij = w_j z_ij``; the ideal (anti-ideal) point is the column maximum (minimum) of v, directions having
    been handled by the standardisation; distances are Euclidean. Closeness is in [0, 1], higher = better.
    """
    v = np.asarray(z, dtype=float) * np.asarray(weights, dtype=float)
    best = v.max(axis=0)
    worst = v.min(axis=0)
    to_best = np.sqrt(((v - best) ** 2).sum(axis=1))
    to_worst = np.sqrt(((v - worst) ** 2).sum(axis=1))
    total = to_best + to_worst
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, to_worst / total, 0.5)
