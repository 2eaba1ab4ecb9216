"""Wild cluster restricted (WCR) bootstrap for one coefficient of a fixed-effects regression.

The answer when clusters (or treated clusters) are few: Cameron, Gelbach & Miller (2008); the
algebra follows Roodman, MacKinnon, Nielsen & Webb (2019, "fast & wild"):

- fixed effects are partialled out first (Frisch-Waugh; alternating projections), then the model is
  fitted with and without the restriction beta_k = r (WCR: the null is imposed);
- bootstrap outcomes y* = X beta_r + u_r * v_g with one weight per cluster: Rademacher (+-1; when
  2^G < reps all 2^G sign vectors are enumerated, as ``boottest``/``wildboottest`` do) or Webb's
  six-point weights (+-sqrt(1/2), +-1, +-sqrt(3/2));
- every draw's coefficient and CRV1 standard error are computed from cluster-level sums, all draws at
  once (no refits, no rows x clusters matrix; see ``_WCR``); the CRV1 small-sample factor cancels in the
  bootstrap t-ratio;
- p-value (two-sided, symmetric) = share of draws with |t*| > |t| (strict, as ``wildboottest``); the CI
  inverts the test over r by bisection with the same draws, each step O(draws): per draw the bootstrap
  coefficient is linear and its squared standard error quadratic in r;
- the reported ``t_stat`` is the analytic CRV1 t, with the small-sample factor q of the SE preset named by
  ``vcov`` (default ``DEFAULT_VCOV``, lsdv; the study passes its ``[model] vcov``), so it equals the regression table's t;
- analytic weights (``analytic_weights``, Stata ``aw``, as ``boottest`` after a weighted regression): the
  weighted within transformation, then every row times sqrt(w) -- WLS is OLS on the transformed rows, so the
  algebra above applies unchanged (the scores are the weighted scores); rows of weight zero are left out.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.twfe.covariance import DEFAULT_VCOV
from pilotdid.estimation.within import FixedEffectPartialler, small_sample_factor
from pilotdid.results.protocol import Result, tidy_frame

WEIGHTS = ("rademacher", "webb")


@dataclass
class WildBootstrapResult(Result):
    term: str
    coef: float
    t_stat: float  # analytic CRV1 t with ``small_sample_factor`` (the bootstrap p does not depend on it)
    p_value: float
    ci_low: float
    ci_high: float
    reps: int
    weights: str
    n_clusters: int
    full_enumeration: bool
    seed: int
    small_sample_factor: float = 1.0

    title = "Wild cluster bootstrap (WCR)"

    def tidy(self) -> pd.DataFrame:
        """The tested term: coefficient, bootstrap t and p, test-inversion CI (``kind`` = wild_bootstrap)."""
        return tidy_frame([{"term": self.term, "estimate": self.coef, "t": self.t_stat, "p": self.p_value,
                            "ci_low": self.ci_low, "ci_high": self.ci_high, "kind": "wild_bootstrap"}])

    def to_dict(self) -> dict:
        """``{"wild_bootstrap": {...}}`` as results.json carries it."""
        from dataclasses import asdict

        from pilotdid.results.schema import clean_json

        return {"wild_bootstrap": clean_json(asdict(self))}

    @property
    def conventions(self) -> dict:
        return {"bootstrap": "wild cluster restricted (WCR), null imposed", "weights": self.weights,
                "reps": self.reps, "full_enumeration": self.full_enumeration, "seed": self.seed,
                "n_clusters": self.n_clusters}


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
    """Cluster-level sufficient statistics for WCR t-statistics at any null value r, all draws at once.

    With fixed effects partialled out, a bootstrap residual is M_D(u_r * v) (M_D = the within
    transformation), which differs from u_r * v unless every fixed-effect group sits inside one
    cluster. Split the fixed effects into those nested in the clusters (A) and the others (B, e.g.
    years when clustering by city): u_r is already A-demeaned, so M_A(u_r * v) = u_r * v, and by
    Frisch-Waugh M_D = M_A - B~ (B~'B~)^+ B~' with B~ = M_A B (rows x levels of B, few). The cluster
    scores of every draw are then c * v - E (B~'B~)^+ R' v - h dbeta, with E, R cluster-by-level sums:
    no rows x clusters matrix, cost linear in rows plus clusters x draws x levels of B.

    u_r is affine in r, so each draw's bootstrap coefficient is linear and its squared CRV1 standard
    error quadratic in r: five numbers per draw (computed once, in blocks of draws) give t*(r) at any
    r in O(draws), which is what the CI's test inversion evaluates.
    """

    #: clusters x draws elements processed together (bounds the working arrays at ~128 MB each)
    BLOCK_ELEMENTS = 1 << 24
    #: at most this many draws per block, so that even small problems split into tasks for parallel backends
    BLOCK_DRAWS = 1000

    def __init__(self, y: np.ndarray, X: np.ndarray, k: int, cluster: np.ndarray, v: np.ndarray,
                 fe_groups: list[np.ndarray] | None = None, *, jobs: int = 1, scheduler: str | None = None,
                 row_weights: np.ndarray | None = None):
        # y, X: already within-transformed (weighted, and times sqrt(w), when ``row_weights`` are given)
        self.y, self.X, self.k = y, X, k
        self.row_weights = row_weights
        self.codes = pd.factorize(cluster, sort=True)[0]  # sorted labels: draws do not depend on row order
        self.G = int(self.codes.max()) + 1
        self.XtX_inv = np.linalg.inv(X.T @ X)
        self.a = self.XtX_inv[k]
        XA = X @ self.a  # (N,)
        self.XA = XA
        self.h = self._cluster_sums(XA[:, None] * X)  # rows: a' X_g' X_g
        self.others = [j for j in range(X.shape[1]) if j != k]
        Xo = X[:, self.others]
        if Xo.shape[1]:
            proj = Xo @ np.linalg.lstsq(Xo, np.column_stack([y, X[:, k]]), rcond=None)[0]
        else:
            proj = np.zeros((len(y), 2))
        # restricted residual u_r = u_a - r * u_b
        u_a = y - proj[:, 0]
        u_b = X[:, k] - proj[:, 1]
        crossed = self._crossed_dummies(fe_groups or [])
        pieces = []
        for u in (u_a, u_b):
            piece = {"c": self._cluster_sums(XA * u), "cross": self._cluster_sums(X * u[:, None])}
            if crossed is not None:
                piece["R"] = self._cluster_sums(crossed * u[:, None])
            pieces.append(piece)
        if crossed is not None:
            E = self._cluster_sums(XA[:, None] * crossed)
        # every block of draws is independent: the blocks run on the chosen backend (serial, local processes or
        # Dask) and are concatenated in order, so the result is the same bytes on every backend
        # B~'B~ is singular by construction (each crossed FE's demeaned dummies sum to zero): a pseudo-inverse
        # with a relative cut-off, so that rounding noise in its null space is not inverted
        EK = E @ np.linalg.pinv(crossed.T @ crossed, rtol=1e-10, hermitian=True) if crossed is not None else None
        step = max(1, min(self.BLOCK_ELEMENTS // self.G, self.BLOCK_DRAWS))  # never depends on the backend
        bounds = list(range(0, v.shape[1], step)) + [v.shape[1]]
        shared = (pieces, self.h, self.XtX_inv, EK, k)
        from pilotdid.parallel import map_tasks, shard_ranges

        blocks = list(zip(bounds[:-1], bounds[1:]))
        shards = shard_ranges(len(blocks), jobs if scheduler is None else max(jobs, 2))
        tasks = [(shared, [v[:, a:b] for a, b in blocks[i:j]]) for i, j in shards]
        parts = map_tasks(_draw_statistics, tasks, jobs=jobs, scheduler=scheduler)
        self.db_a, self.db_b, self.se2_aa, self.se2_ab, self.se2_bb = (np.concatenate(col) for col in zip(*parts))

    def _cluster_sums(self, values: np.ndarray) -> np.ndarray:
        if values.ndim == 1:
            return np.bincount(self.codes, weights=values, minlength=self.G)
        return np.column_stack([np.bincount(self.codes, weights=col, minlength=self.G) for col in values.T])

    def _crossed_dummies(self, fe_groups) -> np.ndarray | None:
        """B~ = M_A B: dummies of the fixed effects not nested in the clusters, demeaned by the nested ones."""
        nested, crossed = [], []
        for grp in fe_groups:
            (nested if self._nested(grp) else crossed).append(grp)
        if not crossed:
            return None
        dummies = np.column_stack([pd.get_dummies(pd.factorize(grp)[0], dtype=float).to_numpy() for grp in crossed])
        if self.row_weights is None:
            return FixedEffectPartialler.from_labels(nested).demean(dummies) if nested else dummies
        # weighted: sqrt(w) M_A^w B, the crossed dummies in the space of the transformed rows
        if nested:
            dummies = FixedEffectPartialler.from_labels(nested, weights=self.row_weights).demean(dummies)
        return dummies * np.sqrt(self.row_weights)[:, None]

    def _nested(self, grp) -> bool:
        """Every group of this fixed effect lies within one cluster (then M(u*v) = u*v for it)."""
        codes = pd.factorize(grp)[0]
        return pd.DataFrame({"f": codes, "c": self.codes}).groupby("f")["c"].nunique().max() <= 1

    def t_stat(self) -> tuple[float, float]:
        beta = self.XtX_inv @ (self.X.T @ self.y)
        u = self.y - self.X @ beta
        score = self._cluster_sums(self.XA * u)
        se = np.sqrt(score @ score)
        return float(beta[self.k]), float(beta[self.k] / se)

    def boot_t(self, r: float) -> tuple[float, np.ndarray]:
        """Original t for H0: beta_k = r (without the small-sample constant) and the bootstrap t*'s."""
        X, k = self.X, self.k
        beta = self.XtX_inv @ (X.T @ self.y)
        u = self.y - X @ beta
        s0 = self._cluster_sums(self.XA * u)
        t0 = (beta[k] - r) / np.sqrt(s0 @ s0)
        dbeta_k = self.db_a - r * self.db_b
        se2 = self.se2_aa - 2 * r * self.se2_ab + r * r * self.se2_bb
        t_b = dbeta_k / np.sqrt(np.maximum(se2, 0.0))
        return float(t0), t_b


def _draw_statistics(task) -> tuple[np.ndarray, ...]:
    """Per draw: the treatment coefficient's change per unit of u_a and of u_b, and the three products of the
    cluster scores that make its squared CRV1 SE a quadratic in r. One task = a list of blocks of draws."""
    (pieces, h, XtX_inv, EK, k), blocks = task
    out = [[] for _ in range(5)]
    for block in blocks:
        scores = []
        for piece, db in zip(pieces, out[:2]):
            dbeta = XtX_inv @ (piece["cross"].T @ block)  # (K, b): beta* - beta_r per unit of r
            s = piece["c"][:, None] * block - h @ dbeta
            if EK is not None:
                s -= EK @ (piece["R"].T @ block)
            db.append(dbeta[k])
            scores.append(s)
        out[2].append(np.einsum("gb,gb->b", scores[0], scores[0]))
        out[3].append(np.einsum("gb,gb->b", scores[0], scores[1]))
        out[4].append(np.einsum("gb,gb->b", scores[1], scores[1]))
    return tuple(np.concatenate(col) for col in out)


def _p_value(t0: float, tb: np.ndarray) -> float:
    """Share of draws with |t*| > |t| (strict). Draws equal to |t| up to rounding (the all-ones draw
    reproduces the sample exactly) are ties and do not count, so the result does not depend on
    floating-point noise."""
    return float(np.mean(np.abs(tb) > abs(t0) * (1 + 1e-9)))


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
    vcov: str = DEFAULT_VCOV,
    jobs: int = 1,
    scheduler: str | None = None,
    analytic_weights: str | None = None,
) -> WildBootstrapResult:
    """WCR bootstrap p-value and test-inversion CI for ``term`` in y ~ term + controls | fixed effects.

    ``jobs``/``scheduler`` spread the blocks of draws over local processes or a Dask cluster
    (:func:`pilotdid.parallel.map_tasks`); the result is the same bytes on every backend. ``analytic_weights``:
    a column of regression weights (Stata ``aw``; the bootstrap of the weighted regression).
    """
    where = "wild_bootstrap"
    controls = list(controls or [])
    fixed_effects = list(fixed_effects or [])
    cols = [outcome, term, *controls, *fixed_effects, cluster] + ([analytic_weights] if analytic_weights else [])
    missing = [c for c in dict.fromkeys(cols) if c not in panel.columns]
    if missing:
        raise PilotdidInputError(f"column(s) {missing} not in the panel", where=where, fix="check [model] in the study file")
    if weights not in WEIGHTS:
        raise PilotdidInputError(f"weights {weights!r} unknown", where=f"{where}.weights", fix=f"use one of {WEIGHTS}")
    if reps < 99:
        raise PilotdidInputError(f"reps = {reps} is too few", where=f"{where}.reps", fix="use at least 999")
    df = panel[list(dict.fromkeys(cols))].dropna()
    row_weights = None
    if analytic_weights:
        df = df[df[analytic_weights].to_numpy(dtype=float) > 0]
        row_weights = df[analytic_weights].to_numpy(dtype=float)
    y = df[outcome].to_numpy(dtype=float)
    X = df[[term, *controls]].to_numpy(dtype=float)
    fe_groups = [df[f].to_numpy() for f in fixed_effects]
    if fixed_effects:
        Z = FixedEffectPartialler.from_labels(fe_groups, weights=row_weights).demean(np.column_stack([y, X]))
        y, X = Z[:, 0], Z[:, 1:]
    else:
        X = np.column_stack([X, np.ones(len(y))])
    if row_weights is not None:  # WLS = OLS on the rows times sqrt(w)
        root = np.sqrt(row_weights)
        y, X = y * root, X * root[:, None]
    clus = df[cluster].to_numpy()
    n_clusters = int(pd.Series(clus).nunique())
    rng = np.random.default_rng(seed)
    v, full = _draw_weights(n_clusters, reps, weights, rng)
    wcr = _WCR(y, X, 0, clus, v, fe_groups, jobs=jobs, scheduler=scheduler, row_weights=row_weights)
    coef, _ = wcr.t_stat()
    t0, tb = wcr.boot_t(0.0)
    p = _p_value(t0, tb)
    lo = hi = float("nan")
    if ci:
        beta_se = abs(coef / t0) if t0 != 0 else 1.0

        def pval(r):
            return _p_value(*wcr.boot_t(r))

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
    factor = _small_sample_factor(df, outcome, term, controls, fixed_effects, cluster, vcov, analytic_weights)
    return WildBootstrapResult(term=term, coef=coef, t_stat=float(t0 / np.sqrt(factor)), p_value=p, ci_low=lo, ci_high=hi,
                               reps=int(v.shape[1]), weights=weights, n_clusters=n_clusters, full_enumeration=full,
                               seed=seed, small_sample_factor=factor)


def _small_sample_factor(df, outcome, term, controls, fixed_effects, cluster, vcov, analytic_weights=None) -> float:
    """q = (N-1)/(N-K)·G/(G-1) of the SE preset ``vcov`` (K as that preset counts it), as in the analytic t."""
    if not fixed_effects:
        # K = intercept + term + controls
        return small_sample_factor(len(df), 2 + len(controls), int(pd.Series(df[cluster]).nunique()))
    from pilotdid.estimation.twfe import fit_twfe

    return fit_twfe(df, outcome, [term, *controls], fixed_effects, cluster, vcov=vcov,
                    weights=analytic_weights).small_sample_factor
