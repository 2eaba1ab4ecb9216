"""HonestDiD sensitivity analysis (Rambachan & Roth 2023) on numpy/scipy — no PyTorch, no CVXR.

Input: event-study coefficients ``betahat`` ordered (pre periods oldest first, then post periods),
their covariance ``sigma``, the numbers of pre and post coefficients, and the reference period being
the one just before treatment (normalised to zero, left out of ``betahat``), exactly as R
``HonestDiD``. The target is ``theta = l' tau_post`` (default: the first post period).

Implemented (the R package's defaults for each restriction):

- ``smoothness`` Delta^SD(M): |(d_{t+1}-d_t) - (d_t-d_{t-1})| <= M for all t, d_0 = 0. Confidence set:
  the fixed-length confidence interval (FLCI, Armstrong & Kolesar; R ``method="FLCI"``). An affine
  estimator v'betahat with v_post = l has worst-case bias M * ||K'w||_1 (K = pseudo-inverse of the
  second-difference operator, linear trends must be extrapolated exactly: w't = 0) and sd sqrt(w'Σw);
  the half-length sd * cv_alpha(bias/sd), cv = quantile of |N(b,1)|, is minimised over v (SLSQP from
  several starts, the bias written as an LP epigraph).
- ``relative_magnitudes`` Delta^RM(Mbar): every post-period first difference of d is at most Mbar
  times the largest pre-period first difference (including d_0 - d_{-1}). Confidence set: the
  conditional-least-favourable hybrid test of Andrews, Roth & Pakes (R ``method="C-LF"``,
  kappa = alpha/10), inverted over a grid of theta and unioned over the 2*T_pre polyhedra that make up
  Delta^RM. The LP dual of ARP's statistic is solved exactly by enumerating the vertices of its
  feasible set once per polyhedron (the set does not depend on theta), which makes the test, its
  conditioning bounds and the least-favourable critical value closed-form and vectorised over the grid.
  The least-favourable critical value uses ``lf_draws`` normal simulations (seeded).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from pilotdid.errors import PilotdidInputError
from pilotdid.results.protocol import Result, new_axes, tidy_frame

SMOOTHNESS = "smoothness"
RELATIVE_MAGNITUDES = "relative_magnitudes"
METHOD_NAMES = {SMOOTHNESS: "FLCI (Delta^SD)", RELATIVE_MAGNITUDES: "C-LF hybrid (Delta^RM)"}


@dataclass
class HonestResult(Result):
    """Robust confidence sets over a grid of M (or Mbar), the original CI and the breakdown value."""

    restriction: str  # "smoothness" | "relative_magnitudes"
    method: str
    table: pd.DataFrame  # M, lb, ub, method, restriction
    original: tuple[float, float, float]  # estimate, lb, ub
    breakdown: float | None  # largest M on the grid whose set excludes 0 (None if even M=grid[0] includes 0)
    l_vec: np.ndarray
    notes: list[str] = field(default_factory=list)
    num_pre: int = 0  # pre-period coefficients used (event_study_sensitivity fills these in)
    num_post: int = 0

    title = "HonestDiD sensitivity"

    def tidy(self) -> pd.DataFrame:
        """The original CI (``kind`` = original), then one robust set per M (``kind`` = robust; estimate is the
        point estimate, the set is [ci_low, ci_high])."""
        est, lo, hi = self.original
        rows = [{"term": "original", "estimate": est, "ci_low": lo, "ci_high": hi, "kind": "original", "M": None}]
        rows += [{"term": f"M={m:g}", "estimate": est, "ci_low": lb, "ci_high": ub, "kind": "robust", "M": m}
                 for m, lb, ub in zip(self.table["M"], self.table["lb"], self.table["ub"])]
        return tidy_frame(rows)

    def to_dict(self) -> dict:
        """``{"honest": {...}}`` as results.json carries it."""
        est, lo, hi = self.original
        return {"honest": {"restriction": self.restriction, "method": self.method, "estimate": est,
                           "original_ci": [lo, hi], "breakdown": self.breakdown,
                           "grid": self.table[["M", "lb", "ub"]].to_dict("records")}}

    @property
    def conventions(self) -> dict:
        grid_name = "Mbar" if self.restriction == RELATIVE_MAGNITUDES else "M"
        breakdown = (f"{self.breakdown:g}: the largest {grid_name} of the grid whose robust set excludes 0"
                     if self.breakdown is not None else
                     f"none: even the smallest {grid_name} of the grid gives a robust set that includes 0")
        return {"restriction": self.restriction, "method": self.method, "l_vec": [float(v) for v in self.l_vec],
                "breakdown": breakdown}

    def plot(self, ax=None, **kwargs):
        """Robust confidence sets by M, the original CI at the left (a matplotlib Figure, never saved)."""
        fig, ax = new_axes(ax)
        tidy = self.tidy()
        x = np.arange(len(tidy))
        ax.vlines(x, tidy["ci_low"], tidy["ci_high"], color="#1f4e79", linewidth=2)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_xticks(x, list(tidy["term"]), rotation=45)
        ax.set_ylabel("confidence set")
        ax.set_title(f"{self.title} ({self.method})")
        return fig


def _check(betahat, sigma, num_pre: int, num_post: int, l_vec):
    betahat = np.asarray(betahat, dtype=float).ravel()
    sigma = np.asarray(sigma, dtype=float)
    where = "honest"
    if num_pre < 1 or num_post < 1:
        raise PilotdidInputError("HonestDiD needs at least one pre and one post coefficient", where=where,
                                 fix="widen the event-study window")
    if len(betahat) != num_pre + num_post or sigma.shape != (len(betahat),) * 2:
        raise PilotdidInputError(f"betahat has {len(betahat)} entries and sigma {sigma.shape}; expected "
                                 f"{num_pre}+{num_post}", where=where, fix="pass matching event-study estimates")
    l_vec = np.eye(num_post)[0] if l_vec is None else np.asarray(l_vec, dtype=float).ravel()
    if len(l_vec) != num_post:
        raise PilotdidInputError(f"l_vec has {len(l_vec)} entries, expected {num_post}", where=where,
                                 fix="one weight per post period")
    return betahat, sigma, l_vec


def original_ci(betahat, sigma, num_pre: int, num_post: int, l_vec=None, alpha: float = 0.05) -> tuple[float, float, float]:
    """Conventional CI for l' beta_post (R ``constructOriginalCS``)."""
    betahat, sigma, l_vec = _check(betahat, sigma, num_pre, num_post, l_vec)
    est = float(l_vec @ betahat[num_pre:])
    sd = float(np.sqrt(l_vec @ sigma[num_pre:, num_pre:] @ l_vec))
    z = stats.norm.ppf(1 - alpha / 2)
    return est, est - z * sd, est + z * sd


# ------------------------------------------------------------------------------------------ smoothness

def _folded_normal_cv(bias_over_sd: np.ndarray | float, alpha: float) -> np.ndarray:
    """1 - alpha quantile of |N(b, 1)|."""
    b = np.asarray(bias_over_sd, dtype=float)
    return np.sqrt(stats.ncx2.ppf(1 - alpha, df=1, nc=np.maximum(b, 1e-12) ** 2))


def _sd_bias_operator(num_pre: int, num_post: int) -> tuple[np.ndarray, np.ndarray]:
    """K (levels from second differences, d_0 = 0) and the trend vector t, over the T non-reference periods."""
    times = np.r_[np.arange(-num_pre, 0), np.arange(1, num_post + 1)]
    full = np.arange(-num_pre, num_post + 1)  # includes the reference 0
    n_full = len(full)
    d2 = np.zeros((n_full - 2, n_full))
    for i in range(n_full - 2):
        d2[i, i:i + 3] = [1.0, -2.0, 1.0]
    d2 = d2[:, full != 0]  # d_0 = 0 removes its column
    return np.linalg.pinv(d2), times.astype(float)


def flci(betahat, sigma, num_pre: int, num_post: int, M: float, l_vec=None, alpha: float = 0.05) -> tuple[float, float]:
    """Fixed-length confidence interval for l' tau_post under Delta^SD(M)."""
    betahat, sigma, l_vec = _check(betahat, sigma, num_pre, num_post, l_vec)
    K, t = _sd_bias_operator(num_pre, num_post)
    n_pre = num_pre
    n_eps = K.shape[1]

    def w_of(v):
        return np.r_[v, l_vec]

    # Unbiasedness under linear trends: v't_pre + l't_post = 0.
    a_eq = t[:n_pre]
    b_eq = -(l_vec @ t[n_pre:])

    def sd(v):
        w = w_of(v)
        return float(np.sqrt(max(w @ sigma @ w, 1e-300)))

    def half_length(z):
        v, u = z[:n_pre], z[n_pre:]
        s = sd(v)
        return float(s * _folded_normal_cv(M * u.sum() / s, alpha))

    Kt = K.T  # (n_eps, T)
    cons = [
        {"type": "eq", "fun": lambda z: np.array([a_eq @ z[:n_pre] - b_eq]), "jac": lambda z: np.r_[a_eq, np.zeros(n_eps)][None, :]},
        {"type": "ineq", "fun": lambda z: z[n_pre:] - Kt @ w_of(z[:n_pre]),
         "jac": lambda z: np.hstack([-Kt[:, :n_pre], np.eye(n_eps)])},
        {"type": "ineq", "fun": lambda z: z[n_pre:] + Kt @ w_of(z[:n_pre]),
         "jac": lambda z: np.hstack([Kt[:, :n_pre], np.eye(n_eps)])},
    ]
    # Starting points: minimum variance, minimum bias (both satisfying the trend constraint), and a mix.
    starts = []
    sig_pp = sigma[:n_pre, :n_pre]
    sig_pq = sigma[:n_pre, n_pre:]
    # min variance s.t. a_eq'v = b_eq: v = -S_pp^-1 S_pq l + lambda S_pp^-1 a_eq
    inv = np.linalg.pinv(sig_pp)
    v0 = -inv @ sig_pq @ l_vec
    lam = (b_eq - a_eq @ v0) / (a_eq @ inv @ a_eq)
    starts.append(v0 + lam * inv @ a_eq)
    # min bias via LP: min sum u s.t. u >= +-K'w, a_eq'v = b_eq
    c = np.r_[np.zeros(n_pre), np.ones(n_eps)]
    A_ub = np.vstack([np.hstack([Kt[:, :n_pre], -np.eye(n_eps)]), np.hstack([-Kt[:, :n_pre], -np.eye(n_eps)])])
    b_ub = np.r_[-Kt[:, n_pre:] @ l_vec, Kt[:, n_pre:] @ l_vec]
    lp = optimize.linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=np.r_[a_eq, np.zeros(n_eps)][None, :], b_eq=[b_eq],
                          bounds=[(None, None)] * n_pre + [(0, None)] * n_eps, method="highs")
    if lp.status == 0:
        starts.append(lp.x[:n_pre])
        starts.append(0.5 * (starts[0] + starts[1]))
    best = None
    for v_start in starts:
        u_start = np.abs(Kt @ w_of(v_start)) + 1e-9
        z0 = np.r_[v_start, u_start]
        res = optimize.minimize(half_length, z0, method="SLSQP", constraints=cons,
                                options={"maxiter": 500, "ftol": 1e-12})
        val = half_length(res.x) if np.all(np.isfinite(res.x)) else np.inf
        if best is None or val < best[0]:
            best = (val, res.x)
    chi, z = best
    v = z[:n_pre]
    center = float(w_of(v) @ betahat)
    return center - chi, center + chi


# ------------------------------------------------------------------------------- relative magnitudes

def _rm_pieces(num_pre: int, num_post: int, mbar: float, post_moments_only: bool = True) -> list[np.ndarray]:
    """A matrices (A d <= 0) of the polyhedra whose union is Delta^RM(Mbar), over the T non-ref periods.

    Piece (s, sign) bounds every post first difference by Mbar * sign * (pre difference s). With
    ``post_moments_only`` (R's default ``postPeriodMomentsOnly = TRUE``) the constraints saying that s is
    the largest pre difference are left out: they involve pre periods only, and the union over s is the
    same set either way.
    """
    full = np.arange(-num_pre, num_post + 1)
    keep = full != 0
    n_full = len(full)

    def diff_row(t):  # d_t - d_{t-1} as a row over the full sequence, t indexes the later period
        r = np.zeros(n_full)
        i = int(np.flatnonzero(full == t)[0])
        r[i], r[i - 1] = 1.0, -1.0
        return r

    pre_diffs = [diff_row(t) for t in range(-num_pre + 1, 1)]
    post_diffs = [diff_row(t) for t in range(1, num_post + 1)]
    pieces = []
    for s_row in pre_diffs:
        for sign in (1.0, -1.0):
            ref = sign * s_row
            rows = []
            for r in post_diffs:
                rows += [r - mbar * ref, -r - mbar * ref]
            if not post_moments_only:
                for r in pre_diffs:
                    rows += [r - ref, -r - ref]
            A = np.array(rows)[:, keep]
            A = A[np.abs(A).sum(axis=1) > 1e-12]
            A = np.unique(np.round(A, 12), axis=0)
            pieces.append(A)
    return pieces


def _dual_vertices(X: np.ndarray, sig: np.ndarray) -> np.ndarray:
    """Vertices of {g >= 0, X'g = 0, sig'g = 1} (rows).

    They are the extreme rays of the cone {g >= 0, X'g = 0}, scaled to sig'g = 1. The rays come from the
    double-description method (Motzkin et al. 1953; Fukuda & Prodon 1996): start from the nonnegative
    orthant's rays e_i and cut by one hyperplane x_j'g = 0 at a time, keeping the rays on it and
    combining each adjacent pair on opposite sides (adjacency by the combinatorial test: no other ray's
    support inside the pair's union). Its cost follows the number of rays (here a few per post period),
    not the number of bases, which grows exponentially with the post periods.
    """
    k = X.shape[0]
    C = np.vstack([X.T, sig[None, :]])
    m = C.shape[0]
    if m > k or np.linalg.matrix_rank(C) < m:
        return np.zeros((0, k))  # no basis of the equality system is regular: no vertex
    rays = np.eye(k)
    for h in X.T:
        vals = rays @ h
        tol = 1e-12 * max(float(np.abs(h).max()), 1e-300)
        pos, neg = np.flatnonzero(vals > tol), np.flatnonzero(vals < -tol)
        kept = rays[np.abs(vals) <= tol]
        if len(pos) and len(neg):
            support = np.abs(rays) > 1e-14
            p_idx, n_idx = np.repeat(pos, len(neg)), np.tile(neg, len(pos))
            union = support[p_idx] | support[n_idx]
            # rays whose support lies inside each pair's union (the pair itself counts twice)
            inside = (support.astype(np.int64) @ (~union).astype(np.int64).T == 0).sum(axis=0)
            adjacent = inside == 2
            p_idx, n_idx = p_idx[adjacent], n_idx[adjacent]
            combined = vals[p_idx, None] * rays[n_idx] - vals[n_idx, None] * rays[p_idx]
            kept = np.vstack([kept, combined])
        if not len(kept):
            return np.zeros((0, k))
        rays = kept / np.abs(kept).max(axis=1, keepdims=True)
    verts = np.maximum(rays, 0.0) / (rays @ sig)[:, None]
    return np.unique(np.round(verts, 12), axis=0)


def _truncnorm_cdf(x, lo, hi, sd):
    """CDF of N(0, sd^2) truncated to [lo, hi] at x (vectorised, stable in the tails)."""
    a, b, z = lo / sd, hi / sd, x / sd
    lcdf_a = stats.norm.logcdf(a)
    lcdf_b = stats.norm.logcdf(b)
    lcdf_z = stats.norm.logcdf(np.clip(z, a, b))
    # P(a<Z<=z)/P(a<Z<=b), using the upper tail when in the right half for precision
    upper = a > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        num_low = np.exp(lcdf_z) - np.exp(lcdf_a)
        den_low = np.exp(lcdf_b) - np.exp(lcdf_a)
        sf_a, sf_b, sf_z = stats.norm.sf(a), stats.norm.sf(b), stats.norm.sf(np.clip(z, a, b))
        num_up = sf_a - sf_z
        den_up = sf_a - sf_b
        out = np.where(upper, num_up / den_up, num_low / den_low)
    return np.where(np.isfinite(out), np.clip(out, 0, 1), 1.0)


def _rm_accept(theta: np.ndarray, betahat, sigma, num_pre, num_post, l_vec, A, alpha, kappa, lf_cv_cache, rng_seed, lf_draws):
    """C-LF hybrid test of H0: l'tau = theta for one polyhedron {A d <= 0}; boolean accept per theta."""
    A_post = A[:, num_pre:]
    # tau_post = l * theta / l'l + B eta, B spans the null space of l'
    B = np.linalg.svd(l_vec[None, :])[2][1:].T if num_post > 1 else np.zeros((num_post, 0))
    shift = A_post @ l_vec / (l_vec @ l_vec)
    Y0 = A @ betahat
    X = A_post @ B
    SigY = A @ sigma @ A.T
    sig = np.sqrt(np.maximum(np.diag(SigY), 0))
    # rows without sampling variance carry no information about theta here (d-free); they are left out
    pos = sig > 1e-12
    A, Y0, X, SigY, sig, shift = A[pos], Y0[pos], X[pos], SigY[np.ix_(pos, pos)], sig[pos], shift[pos]
    key = A.tobytes()
    verts = _dual_vertices(X, sig)
    if len(verts) == 0:
        return np.ones_like(theta, dtype=bool)
    # Least-favourable critical value: 1 - kappa quantile of max_v gamma_v' xi, xi ~ N(0, SigY).
    if key not in lf_cv_cache:
        rng = np.random.default_rng(rng_seed)
        L = np.linalg.cholesky(SigY + 1e-14 * np.eye(len(SigY)))
        xi = rng.standard_normal((lf_draws, len(SigY))) @ L.T
        lf_cv_cache[key] = float(np.quantile((xi @ verts.T).max(axis=1), 1 - kappa))
    lf_cv = lf_cv_cache[key]
    Y = Y0[None, :] - theta[:, None] * shift[None, :]  # (n_theta, k)
    vals = Y @ verts.T  # (n_theta, n_vert)
    star = np.argmax(vals, axis=1)
    eta = vals[np.arange(len(theta)), star]
    g = verts[star]  # (n_theta, k)
    sg2 = np.einsum("ij,jk,ik->i", g, SigY, g)
    # A vertex with no sampling variance (opposite moments of an equality, e.g. Mbar = 0) makes the
    # statistic deterministic: reject exactly when it is positive.
    degenerate = sg2 <= 1e-14 * np.trace(SigY)
    sg2 = np.where(degenerate, 1.0, sg2)
    sg = np.sqrt(sg2)
    c = (g @ SigY) / sg2[:, None]
    s = Y - c * eta[:, None]
    gc = c @ verts.T  # (n_theta, n_vert): gamma_v' c
    gs = s @ verts.T
    denom = 1.0 - gc
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = gs / denom
    lo_mask = denom > 1e-10
    up_mask = denom < -1e-10
    v_lo = np.where(lo_mask, ratio, -np.inf).max(axis=1)
    v_up = np.where(up_mask, ratio, np.inf).min(axis=1)
    reject_lf = eta > lf_cv
    v_up_h = np.minimum(v_up, lf_cv)
    alpha2 = (alpha - kappa) / (1 - kappa)
    cdf = _truncnorm_cdf(eta, v_lo, v_up_h, sg)
    reject_cond = np.where(degenerate, eta > 1e-10 * np.sqrt(np.trace(SigY)), cdf > 1 - alpha2)
    return ~(reject_lf | reject_cond)


def rm_confidence_set(betahat, sigma, num_pre: int, num_post: int, mbar: float, l_vec=None, alpha: float = 0.05,
                      grid_points: int = 1000, lf_draws: int = 5000, seed: int = 0,
                      post_moments_only: bool = True) -> tuple[float, float]:
    """Robust confidence set (convex hull of the accepted grid) for l' tau_post under Delta^RM(Mbar)."""
    betahat, sigma, l_vec = _check(betahat, sigma, num_pre, num_post, l_vec)
    kappa = alpha / 10
    est, lo0, hi0 = original_ci(betahat, sigma, num_pre, num_post, l_vec, alpha)
    sd = (hi0 - lo0) / (2 * stats.norm.ppf(1 - alpha / 2))
    pre = np.r_[betahat[:num_pre], 0.0]
    pre_sd = np.sqrt(np.diag(sigma)[:num_pre].max())
    max_diff = np.abs(np.diff(pre)).max() + 3 * pre_sd
    half = 20 * sd + (mbar * max_diff) * np.abs(l_vec) @ np.arange(1, num_post + 1)
    pieces = _rm_pieces(num_pre, num_post, mbar, post_moments_only)
    cache: dict = {}
    for _attempt in range(4):
        grid = np.linspace(est - half, est + half, grid_points)
        accept = np.zeros(grid_points, dtype=bool)
        for A in pieces:
            accept |= _rm_accept(grid, betahat, sigma, num_pre, num_post, l_vec, A, alpha, kappa, cache, seed, lf_draws)
        if not accept.any():
            return float("nan"), float("nan")
        if accept[0] or accept[-1]:
            half *= 3
            continue
        break
    return float(grid[accept].min()), float(grid[accept].max())


# ------------------------------------------------------------------------------------------- driver

def sensitivity(
    betahat,
    sigma,
    num_pre: int,
    num_post: int,
    *,
    restriction: str = RELATIVE_MAGNITUDES,
    grid=None,
    l_vec=None,
    alpha: float = 0.05,
    grid_points: int = 1000,
    lf_draws: int = 5000,
    seed: int = 0,
) -> HonestResult:
    """Robust confidence sets over a grid of M (smoothness) or Mbar (relative magnitudes)."""
    betahat, sigma, l_vec = _check(betahat, sigma, num_pre, num_post, l_vec)
    if restriction not in METHOD_NAMES:
        raise PilotdidInputError(f"restriction {restriction!r} unknown", where="honest.method",
                                 fix="use 'relative_magnitudes' (RM) or 'smoothness' (SD)")
    if grid is None:
        if restriction == RELATIVE_MAGNITUDES:
            grid = np.arange(0.0, 2.01, 0.5)
        else:
            sd1 = float(np.sqrt(sigma[num_pre, num_pre]))
            grid = np.linspace(0, sd1, 6)
    grid = np.asarray(grid, dtype=float)
    rows = []
    for m in grid:
        if restriction == SMOOTHNESS:
            lb, ub = flci(betahat, sigma, num_pre, num_post, m, l_vec, alpha)
        else:
            lb, ub = rm_confidence_set(betahat, sigma, num_pre, num_post, m, l_vec, alpha, grid_points, lf_draws, seed)
        rows.append({"M": float(m), "lb": lb, "ub": ub, "method": METHOD_NAMES[restriction], "restriction": restriction})
    table = pd.DataFrame(rows)
    excludes = (table["lb"] > 0) | (table["ub"] < 0)
    if not excludes.iloc[0]:
        breakdown = None
    else:
        first_bad = np.flatnonzero(~excludes.to_numpy())
        breakdown = float(grid[first_bad[0] - 1]) if len(first_bad) else float(grid[-1])
    return HonestResult(restriction=restriction, method=METHOD_NAMES[restriction], table=table,
                        original=original_ci(betahat, sigma, num_pre, num_post, l_vec, alpha), breakdown=breakdown,
                        l_vec=l_vec)


def breakdown_value(betahat, sigma, num_pre: int, num_post: int, *, restriction: str = RELATIVE_MAGNITUDES,
                    l_vec=None, alpha: float = 0.05, upper: float = 10.0, tol: float = 0.01, **kw) -> float | None:
    """Largest M (or Mbar) at which the robust set still excludes zero, by bisection (None if not even at 0)."""
    def excludes(m):
        if restriction == SMOOTHNESS:
            lb, ub = flci(betahat, sigma, num_pre, num_post, m, l_vec, alpha)
        else:
            lb, ub = rm_confidence_set(betahat, sigma, num_pre, num_post, m, l_vec, alpha, **kw)
        return np.isfinite(lb) and (lb > 0 or ub < 0)
    if not excludes(0.0):
        return None
    if excludes(upper):
        return upper
    lo, hi = 0.0, upper
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if excludes(mid):
            lo = mid
        else:
            hi = mid
    return lo


def event_study_inputs(es, window: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, int, int]:
    """betahat, sigma, n_pre, n_post from a staggered event-study result with reference -1 (window applied).

    ``es`` has ``table`` (rel_time, coef, ...) and ``vcov`` in the order of the table rows excluding the
    reference row, as :class:`~pilotdid.estimation.event_study_result.EventStudyResult` carries them.
    """
    tab = es.table.reset_index(drop=True)
    est_rows = tab[tab["rel_time"] != -1]
    order_all = np.arange(len(tab))
    pos = {i: k for k, i in enumerate(order_all[tab["rel_time"].to_numpy() != -1])}
    pre = est_rows[(est_rows.rel_time >= window[0]) & (est_rows.rel_time <= -2)]
    post = est_rows[(est_rows.rel_time >= 0) & (est_rows.rel_time <= window[1])]
    if pre.empty or post.empty:
        raise PilotdidInputError("the event study has no pre-period (<= -2) or no post-period coefficient in the window",
                                 where="[analyses.honest] window", fix="widen the window")
    expected_pre = list(range(int(pre.rel_time.min()), -1))
    expected_post = list(range(0, int(post.rel_time.max()) + 1))
    if pre.rel_time.tolist() != expected_pre or post.rel_time.tolist() != expected_post:
        raise PilotdidInputError("event times in the window are not contiguous", where="[analyses.honest] window",
                                 fix="choose a window where every event time is estimated")
    if getattr(es, "vcov", None) is None:
        raise PilotdidInputError("the event study carries no covariance matrix", where="honest",
                                 fix="use an estimator that reports one (cs, twfe, sa)")
    sel = [pos[i] for i in list(pre.index) + list(post.index)]
    beta = np.r_[pre.coef.to_numpy(), post.coef.to_numpy()]
    sigma = np.asarray(es.vcov)[np.ix_(sel, sel)]
    return beta, sigma, len(pre), len(post)


TARGETS = ("first", "average")


def event_study_sensitivity(es, window: tuple[int, int], *, restriction: str = RELATIVE_MAGNITUDES,
                            target: str = "first", grid=None, seed: int = 0) -> HonestResult:
    """HonestDiD on an event-study result (see :func:`event_study_inputs`): the robust sets over ``grid``,
    with ``breakdown`` the exact breakdown value under relative magnitudes (bisection, not the grid's).

    ``target``: ``"first"`` (the adoption-year effect) or ``"average"`` (the average post-period effect).
    """
    beta, sigma, n_pre, n_post = event_study_inputs(es, window)
    l_vec = np.eye(n_post)[0] if target == "first" else np.full(n_post, 1.0 / n_post)
    res = sensitivity(beta, sigma, n_pre, n_post, restriction=restriction,
                      grid=list(grid) if grid is not None else None, l_vec=l_vec, seed=seed)
    if restriction == RELATIVE_MAGNITUDES:
        res.breakdown = breakdown_value(beta, sigma, n_pre, n_post, restriction=restriction, l_vec=l_vec,
                                        upper=float(max(res.table.M.max() * 2, 1e-6)), seed=seed)
    res.num_pre, res.num_post = n_pre, n_post
    return res
