"""Fast placebo inference for staggered DID: re-assign adoption years, re-estimate, compare.

Why not pyfixest's ``ritest``: it relabels every *row* i.i.d. from the treatment's unique values,
which destroys the staggered structure (units adopt once, cohorts have sizes). Here a draw is a new
*unit-level* adoption year vector, and the 0/1 treatment is rebuilt as ``1[time >= draw_year]``.

Two kinds of draw (both keep the number of treated units):

``permute_cohorts``
    Shuffle which units get which adoption year (never-treated included, as "year 0"). Every
    cohort keeps its size; the actual assignment is one of the possible draws, which makes the
    permutation p-value exact under the sharp null of no effect for any unit.
``random_years``
    Pick as many units as are actually treated, at random, and give each an adoption year drawn
    uniformly from the panel's periods *after the first one* (so every placebo unit has at least
    one untreated period); cohort sizes vary from draw to draw. Common in applied papers.

Speed (Frisch–Waugh–Lovell): the outcome and the controls are partialled out of the fixed
effects once; each block of draws is built as one N×B matrix of placebo treatment columns,
demeaned (exactly, for a balanced two-way panel; by alternating projections otherwise), residualised
on the demeaned controls with one matrix product, and every coefficient and its cluster-robust
(CRV1) standard error follows from column sums. The result equals a pyfixest refit of each draw.
For a balanced unit x period grid clustered by unit (the usual city/county/firm panel) no N x B
array is built at all: each draw's coefficient and SE follow from per-unit suffix sums of the
residualised outcome and control basis (:meth:`PlaceboDesign.estimate_draws`), several times faster.

Weights (analytic, Stata aw): weighted FWL — the outcome, controls and each draw's treatment column get the
weighted within transformation and are multiplied by sqrt(w), after which every formula above is ordinary
least squares (CRV1 scores sum w d~ e per cluster, as weighted pyfixest). The grid shortcut is unweighted
only; weighted draws go through :meth:`PlaceboDesign.estimate`.

Seeding: draws come in fixed chunks of :data:`RNG_CHUNK`; chunk ``c`` uses
``numpy.random.Generator(PCG64(SeedSequence(seed, spawn_key=(c,))))``. The memory block size is
therefore irrelevant to the result: the same seed gives the same draws for any ``block_size``.

p-values (named in the result):

* ``p_two_sided`` — plus-one rule, (1 + #{|b_r| >= |b|}) / (R + 1): a valid randomisation p-value
  that counts the actual assignment as one of the draws (Phipson & Smyth 2010).
* ``p_two_sided_share`` — the uncorrected share #{|b_r| >= |b|} / R that many papers print.
* ``p_greater`` / ``p_less`` — one-sided plus-one p-values for b_r >= b and b_r <= b;
  ``p_one_sided`` is the one in the direction of the actual estimate's sign (chosen after seeing
  the estimate — say so when quoting it).
* the same on the t statistics (``*_t``): the studentised randomisation test.

Comparisons use a relative tolerance of 1e-12 so that a draw that reproduces the actual
assignment counts as "at least as extreme" despite rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.twfe.covariance import DEFAULT_VCOV
from pilotdid.estimation.twfe.results import TwfeFit
from pilotdid.estimation.within import (  # noqa: F401 - re-exported: their home moved below inference
    FixedEffectPartialler,
    crv1_small_sample_factor,
    drop_singletons as _drop_singletons,
    indicator_matrix as _indicator,
)
from pilotdid.results.protocol import Result, new_axes, tidy_frame
from pilotdid.results.schema import PLACEBO_KEYS, normalise_row
from pilotdid.rng import RNG_CHUNK, TIE_RTOL, chunk_rng as _chunk_rng  # noqa: F401 - re-exported

PLACEBO_KINDS = ("permute_cohorts", "random_years")
P_VALUE_RULE = (
    "two-sided p = (1 + #{|placebo| >= |actual|}) / (draws + 1) (plus-one rule); "
    "the uncorrected share #{|placebo| >= |actual|} / draws is p_two_sided_share"
)


# --------------------------------------------------------------------------------------------
# Draws
# --------------------------------------------------------------------------------------------


def draw_adoption_years(
    unit_first_treat: np.ndarray, kind: str, start: int, stop: int, seed: int, candidate_years: np.ndarray,
    cache: dict[int, np.ndarray] | None = None,
) -> np.ndarray:
    """Placebo adoption years for draws ``start .. stop-1``: array (stop-start, n_units), 0 = never.

    Deterministic in (seed, draw index) whatever ``start``/``stop`` are (see module docstring).
    ``cache`` (chunk -> draws) avoids regenerating a chunk when memory blocks are smaller than it.
    """
    g = np.asarray(unit_first_treat, dtype=float)
    n_units = g.shape[0]
    treated_count = int((g > 0).sum())
    out = np.empty((stop - start, n_units), dtype=float)
    first_chunk, last_chunk = start // RNG_CHUNK, (stop - 1) // RNG_CHUNK
    for chunk in range(first_chunk, last_chunk + 1):
        lo = max(start, chunk * RNG_CHUNK)
        hi = min(stop, (chunk + 1) * RNG_CHUNK)
        if cache is not None and chunk in cache:
            out[lo - start: hi - start] = cache[chunk][lo - chunk * RNG_CHUNK: hi - chunk * RNG_CHUNK]
            continue
        rng = _chunk_rng(seed, chunk)
        if kind == "permute_cohorts":
            block = rng.permuted(np.broadcast_to(g, (RNG_CHUNK, n_units)), axis=1)
        elif kind == "random_years":
            chosen = np.argsort(rng.random((RNG_CHUNK, n_units)), axis=1)[:, :treated_count]
            years = rng.choice(candidate_years, size=(RNG_CHUNK, treated_count))
            block = np.zeros((RNG_CHUNK, n_units))
            np.put_along_axis(block, chosen, years, axis=1)
        else:
            raise PilotdidInputError(f"unknown placebo kind {kind!r}", where="[analyses.placebo] kind",
                                     fix=f"use one of {', '.join(PLACEBO_KINDS)}")
        if cache is not None:
            cache.clear()  # keep only the latest chunk: blocks walk forward
            cache[chunk] = block
        out[lo - start: hi - start] = block[lo - chunk * RNG_CHUNK: hi - chunk * RNG_CHUNK]
    return out


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


def _plus_one(count: np.ndarray | int, draws: int) -> float:
    return float((1 + count) / (draws + 1))


@dataclass
class PlaceboResult(Result):
    """All placebo draws plus the actual estimate; p-values as named in the module docstring."""

    kind: str
    draws: int
    seed: int
    actual_coef: float
    actual_se: float
    coefs: np.ndarray
    ses: np.ndarray
    nobs: int
    n_clusters: int
    ssc_factor: float
    block_size: int
    notes: list[str] = field(default_factory=list)
    adoption_years: np.ndarray | None = None  # (draws, n_units) when kept

    title = "Staggered placebo test"

    def tidy(self) -> pd.DataFrame:
        """The actual estimate (``kind`` = actual, p = plus-one permutation p), the placebo mean (``kind`` =
        placebo_mean, se = SD of the placebo coefficients)."""
        pv = self.p_values
        return tidy_frame([
            {"term": "actual", "estimate": self.actual_coef, "se": self.actual_se, "t": self.actual_t,
             "p": pv["p_two_sided"], "kind": "actual", "p_t": pv["p_two_sided_t"]},
            {"term": "placebo_mean", "estimate": self.mean, "se": self.sd, "ci_low": float(np.quantile(self.coefs, 0.025)),
             "ci_high": float(np.quantile(self.coefs, 0.975)), "kind": "placebo_mean"},
        ])

    def to_dict(self) -> dict[str, Any]:
        """``{"placebo": {...}}`` as results.json carries it."""
        return {"placebo": normalise_row(self.to_results(), PLACEBO_KEYS)}

    @property
    def conventions(self) -> dict[str, Any]:
        return {"kind": self.kind, "draws": self.draws, "seed": self.seed, "ssc_factor": self.ssc_factor,
                "p_value_rule": P_VALUE_RULE, "rng": f"PCG64, SeedSequence(seed, spawn_key=(chunk,)), {RNG_CHUNK} per chunk"}

    def plot(self, ax=None, **kwargs):
        """Histogram of the placebo coefficients with the actual estimate marked."""
        fig, ax = new_axes(ax)
        ax.hist(self.coefs, bins=40, color="#9dc3e6", edgecolor="white")
        ax.axvline(self.actual_coef, color="#c00000", linewidth=1.5, label="actual")
        ax.set_xlabel("placebo coefficient")
        ax.set_ylabel("draws")
        ax.set_title(f"{self.title} ({self.draws} draws, {self.kind})")
        ax.legend()
        return fig

    @property
    def actual_t(self) -> float:
        return self.actual_coef / self.actual_se

    @property
    def ts(self) -> np.ndarray:
        return self.coefs / self.ses

    @property
    def mean(self) -> float:
        return float(np.mean(self.coefs))

    @property
    def sd(self) -> float:
        """Standard deviation of the placebo coefficients (ddof = 1)."""
        return float(np.std(self.coefs, ddof=1))

    @staticmethod
    def _at_least(values: np.ndarray, ref: float) -> np.ndarray:
        return values >= ref - TIE_RTOL * max(1.0, abs(ref))

    def _p(self, values: np.ndarray, actual: float) -> dict[str, float]:
        r = values.shape[0]
        abs_count = int(self._at_least(np.abs(values), abs(actual)).sum())
        greater = int(self._at_least(values, actual).sum())
        less = int(self._at_least(-values, -actual).sum())
        return {
            "two_sided": _plus_one(abs_count, r),
            "two_sided_share": abs_count / r,
            "greater": _plus_one(greater, r),
            "less": _plus_one(less, r),
            "one_sided": _plus_one(greater if actual >= 0 else less, r),
        }

    @property
    def p_values(self) -> dict[str, float]:
        coef = self._p(self.coefs, self.actual_coef)
        t = self._p(self.ts, self.actual_t)
        return {**{f"p_{k}": v for k, v in coef.items()}, **{f"p_{k}_t": v for k, v in t.items()}}

    @property
    def p_two_sided(self) -> float:
        return self.p_values["p_two_sided"]

    def to_results(self) -> dict[str, Any]:
        """The results.json ``placebo`` entry (interface keys first, then the extras)."""
        out: dict[str, Any] = {
            "draws": self.draws, "seed": self.seed, "actual": self.actual_coef, "mean": self.mean,
            "sd": self.sd, **self.p_values,
            "kind": self.kind, "actual_se": self.actual_se, "actual_t": self.actual_t,
            "t_mean": float(np.mean(self.ts)), "t_sd": float(np.std(self.ts, ddof=1)),
            "quantiles": {q: float(np.quantile(self.coefs, q)) for q in (0.01, 0.025, 0.05, 0.5, 0.95, 0.975, 0.99)},
            "nobs": self.nobs, "n_clusters": self.n_clusters, "ssc_factor": self.ssc_factor,
            "p_value_rule": P_VALUE_RULE, "rng": "numpy PCG64, SeedSequence(seed, spawn_key=(chunk,)), "
            f"{RNG_CHUNK} draws per chunk",
        }
        return out


# --------------------------------------------------------------------------------------------
# The design (prepared once) and the run
# --------------------------------------------------------------------------------------------


@dataclass
class PlaceboDesign:
    """Everything that does not change between draws, partialled out once."""

    y: np.ndarray  # outcome, FE- and control-residualised
    basis: np.ndarray  # orthonormal basis of the FE-demeaned controls (N x r)
    partialler: FixedEffectPartialler
    unit_codes: np.ndarray
    times: np.ndarray
    unit_first_treat: np.ndarray
    actual_treatment: np.ndarray
    cluster_indicator: sp.csr_matrix
    cluster_starts: np.ndarray | None  # first row of each cluster when rows are grouped by cluster
    cluster_block: int | None  # rows per cluster when all clusters are contiguous and equally large
    unit_time_grid: bool  # fixed effects are exactly (unit, time) in a complete, unit-major layout
    n_clusters: int
    n_coef: int
    fe_levels: list[int]
    fe_nested: list[bool]
    candidate_years: np.ndarray
    notes: list[str]
    sqrt_weights: np.ndarray | None = None  # sqrt of the analytic weights (rows in design order); None = OLS

    @property
    def nobs(self) -> int:
        return int(self.y.shape[0])

    @classmethod
    def prepare(
        cls, data: pd.DataFrame, *, outcome: str, unit: str, time: str, first_treat: str,
        treatment: str | None = None, controls: Sequence[str] = (), fixed_effects: Sequence[str] | None = None,
        cluster: str | None = None, drop_singletons: bool = True, tol: float = 1e-14,
        adoption_years: Sequence[float] | None = None, weights: str | None = None,
    ) -> PlaceboDesign:
        """Check the inputs, drop incomplete rows (counted in ``notes``), partial out FE and controls."""
        fixed_effects = list(fixed_effects) if fixed_effects is not None else [unit, time]
        cluster = cluster if cluster is not None else unit
        controls = list(controls)
        needed = [outcome, unit, time, first_treat, *controls, *fixed_effects, cluster]
        if treatment:
            needed.append(treatment)
        if weights:
            needed.append(weights)
        missing_cols = [c for c in dict.fromkeys(needed) if c not in data.columns]
        if missing_cols:
            raise PilotdidInputError(f"placebo: column(s) {missing_cols} not in the panel", where="placebo",
                                     fix="check [model] outcome/controls/fixed_effects/cluster")
        notes: list[str] = []
        frame = data[list(dict.fromkeys(needed))]
        complete = frame.notna().all(axis=1).to_numpy()
        if not complete.all():
            notes.append(f"placebo: {int((~complete).sum())} rows with a missing value in the model's columns dropped")
            frame = frame.loc[complete]
        if weights:
            w_values = frame[weights].to_numpy(float)
            if np.any(w_values < 0) or not np.all(np.isfinite(w_values)):
                raise PilotdidInputError(f"placebo: weights column {weights!r} has negative or non-finite values",
                                         where=f"column {weights}", fix="use non-negative weights")
            if np.any(w_values == 0):
                notes.append(f"placebo: {int(np.sum(w_values == 0))} rows with zero weight dropped")
                frame = frame.loc[w_values > 0]
        codes = [pd.factorize(frame[f], sort=True)[0].astype(np.int64) for f in fixed_effects]
        if drop_singletons and codes:
            keep = _drop_singletons(codes)
            if not keep.all():
                notes.append(f"placebo: {int((~keep).sum())} fixed-effect singleton rows dropped (as pyfixest does)")
                frame = frame.loc[keep]
                codes = [pd.factorize(frame[f], sort=True)[0].astype(np.int64) for f in fixed_effects]
        if frame.shape[0] == 0:
            raise PilotdidInputError("placebo: no complete rows left", where="placebo", fix="check missing values")
        # row order does not change any estimate; unit-major, period-minor order lets the balanced
        # case demean by reshaping and sum cluster scores over contiguous blocks
        order = np.lexsort(tuple(reversed(codes))) if codes else np.arange(frame.shape[0])
        frame = frame.iloc[order]
        codes = [c[order] for c in codes]

        unit_codes, unit_labels = pd.factorize(frame[unit], sort=True)
        ft = pd.to_numeric(frame[first_treat], errors="coerce").fillna(0).to_numpy(float)
        unit_first_treat = np.empty(len(unit_labels))
        unit_first_treat[unit_codes[::-1]] = ft[::-1]  # each unit's value on its first row
        varies = ft != unit_first_treat[unit_codes]
        if varies.any():
            bad = unit_labels[int(unit_codes[varies].min())]
            raise PilotdidInputError(f"placebo: first-treatment period varies within unit {bad!r}",
                                     where=f"column {first_treat}", fix="one adoption period per unit")
        times = pd.to_numeric(frame[time]).to_numpy(float)
        actual = (frame[treatment].to_numpy(float) if treatment
                  else ((ft > 0) & (times >= ft)).astype(float))

        sqrt_w = np.sqrt(frame[weights].to_numpy(float)) if weights else None
        partialler = FixedEffectPartialler(codes, tol=tol, weights=None if sqrt_w is None else sqrt_w ** 2)
        y_x = partialler.demean(frame[[outcome, *controls]].to_numpy(float))
        if sqrt_w is not None:  # weighted FWL: from here on ordinary least squares on sqrt(w)-scaled columns
            y_x *= sqrt_w[:, None]
        y, x = y_x[:, 0], y_x[:, 1:]
        basis = _orthonormal_basis(x)
        if x.shape[1] and basis.shape[1] < x.shape[1]:
            notes.append(f"placebo: {x.shape[1] - basis.shape[1]} control(s) collinear with the fixed effects "
                         "or each other; the remaining ones span the same space")
        y = y - basis @ (basis.T @ y)

        clus_codes, clus_labels = pd.factorize(frame[cluster], sort=True)
        clus_codes = clus_codes.astype(np.int64)
        contiguous = bool(np.all(np.diff(clus_codes) >= 0)) if clus_codes.size else False
        cluster_starts = np.flatnonzero(np.r_[True, np.diff(clus_codes) != 0]) if contiguous else None
        fe_nested = []
        for c in codes:
            # an FE is nested in the cluster when each of its levels lies in exactly one cluster: as many
            # distinct (level, cluster) pairs as levels
            pairs = np.unique(c * np.int64(len(clus_labels)) + clus_codes)
            fe_nested.append(bool(pairs.size == np.unique(c).size))
        if adoption_years is None:
            obs_years = np.unique(times)
            candidate_years = obs_years[1:] if obs_years.size > 1 else obs_years
        else:
            candidate_years = np.asarray(adoption_years, dtype=float)
        return cls(
            y=y, basis=basis, partialler=partialler, unit_codes=unit_codes.astype(np.int64), times=times,
            unit_first_treat=unit_first_treat, actual_treatment=actual,
            cluster_indicator=_indicator(clus_codes, len(clus_labels)), cluster_starts=cluster_starts,
            cluster_block=_equal_blocks(cluster_starts, len(clus_codes)),
            unit_time_grid=bool(partialler.grid and list(fixed_effects) == [unit, time]),
            n_clusters=len(clus_labels), n_coef=1 + basis.shape[1],
            fe_levels=partialler.n_levels, fe_nested=fe_nested, candidate_years=candidate_years, notes=notes,
            sqrt_weights=sqrt_w,
        )

    def ssc(self, *, k_adj: bool = True, k_fixef: str = "nonnested", G_adj: bool = True) -> float:
        """CRV1 small-sample factor for this design (see :func:`crv1_small_sample_factor`)."""
        return crv1_small_sample_factor(self.nobs, self.n_coef, self.fe_levels, self.fe_nested, self.n_clusters,
                                        k_adj=k_adj, k_fixef=k_fixef, G_adj=G_adj)

    def estimate(self, treatment_columns: np.ndarray, ssc_factor: float) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients and CRV1 SEs of each 0/1 treatment column (N x B) in the full model."""
        d = self.partialler.demean(treatment_columns, copy=False)
        if self.sqrt_weights is not None:
            d *= self.sqrt_weights[:, None]
        if self.basis.shape[1]:
            d -= self.basis @ (self.basis.T @ d)
        dd = np.einsum("ij,ij->j", d, d)
        with np.errstate(divide="ignore", invalid="ignore"):
            coef = (d.T @ self.y) / dd
            scores = d * coef  # becomes d_i * e_i with e = y - d * coef, in place
            np.subtract(self.y[:, None], scores, out=scores)
            scores *= d
            if self.cluster_block is not None:  # equal-size contiguous clusters (balanced, by unit)
                sums = scores.reshape(-1, self.cluster_block, scores.shape[1]).sum(axis=1)
            elif self.cluster_starts is not None:
                sums = np.add.reduceat(scores, self.cluster_starts, axis=0)
            else:
                sums = np.asarray(self.cluster_indicator @ scores)
            meat = np.einsum("ij,ij->j", sums, sums)
            se = np.sqrt(ssc_factor * meat) / dd
        degenerate = dd <= 1e-12 * self.nobs
        coef[degenerate] = np.nan
        se[degenerate] = np.nan
        return coef, se

    def estimate_draws(self, adoption: np.ndarray, ssc_factor: float) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients and CRV1 SEs for placebo adoption years (B x n_units; 0 = never).

        Balanced unit x period grid clustered by unit: per-unit aggregates (below), never an N x B
        array; otherwise :meth:`estimate` on :meth:`treatment_columns`. Both give the same numbers
        up to rounding (checked in tests/scale).
        """
        if self._grid_path:
            return self._estimate_grid(adoption, ssc_factor)
        return self.estimate(self.treatment_columns(adoption), ssc_factor)

    @property
    def _grid_path(self) -> bool:
        """Balanced unit x period grid with one cluster per unit: draws use per-unit aggregates."""
        return bool(self.unit_time_grid and self.cluster_block == self.partialler.n_levels[1]
                    and self.sqrt_weights is None)

    def _grid_aggregates(self) -> dict[str, np.ndarray]:
        """Per-unit sums the grid path needs, computed once: with Y (units x T) the residualised
        outcome and Q_j (units x T, j = 1..r) the orthonormal control basis, suffix sums over periods
        t >= k of Y and of each Q_j, Σ_t Q_j Y and Σ_t Q_j Q_l per unit."""
        cached = getattr(self, "_grid_cache", None)
        if cached is not None:
            return cached
        n_units, n_t = self.partialler.n_levels
        # C-ordered copies: summation order follows the strides, and a design copied to a worker
        # process (pickled) must give the same bits as the original
        y = np.ascontiguousarray(self.y.reshape(n_units, n_t))
        q = np.ascontiguousarray(self.basis.T.reshape(-1, n_units, n_t))  # r x units x T
        r = q.shape[0]
        sy = np.zeros((n_units, n_t + 1))
        sy[:, :n_t] = np.cumsum(y[:, ::-1], axis=1)[:, ::-1]
        sq = np.zeros((r, n_units, n_t + 1))
        sq[:, :, :n_t] = np.cumsum(q[:, :, ::-1], axis=2)[:, :, ::-1]
        qy = np.ascontiguousarray((q * y[None]).sum(axis=2).T)  # units x r
        qq = np.ascontiguousarray(np.einsum("jit,lit->ijl", q, q).reshape(n_units, r * r))  # units x r^2
        cached = {"y": y, "q_flat": q.reshape(r * n_units, n_t), "sy": sy, "sq": sq, "qy": qy, "qq": qq,
                  "periods": np.ascontiguousarray(self.times[:n_t])}
        self._grid_cache = cached
        return cached

    def _estimate_grid(self, adoption: np.ndarray, ssc_factor: float) -> tuple[np.ndarray, np.ndarray]:
        # Model: d = 1[t >= k_i]; d~ its two-way within transform, d" = d~ - Q w (w = Q'd, as Q is
        # orthogonal to the FE). Y is orthogonal to the FE and Q, so d"'Y = d'Y and d"'d" = d~'d~ - w'w;
        # the unit-cluster score is Σ_t d"_it (Y_it - b d"_it), expanded into per-unit aggregates.
        # Every product over periods is a matrix product (BLAS); nothing of size N x B is built.
        agg = self._grid_aggregates()
        n_units, n_t = agg["y"].shape
        r = agg["sq"].shape[0]
        k = np.searchsorted(agg["periods"], np.where(adoption > 0, adoption, np.inf).T, side="left")  # units x B
        n_draws = k.shape[1]
        rows = np.arange(n_units)[:, None]
        cols = np.arange(n_draws)[None, :]
        a = (n_t - k) / n_t  # unit means of d
        share = np.bincount((k + (n_t + 1) * cols).ravel(), minlength=(n_t + 1) * n_draws)
        share = share.reshape(n_draws, n_t + 1).T[:n_t]  # units adopting at period index k, per draw
        c = np.cumsum(share, axis=0) / n_units  # T x B: period means of d
        v = c - a.mean(axis=0)
        sv = np.zeros((n_t + 1, n_draws))
        sv[:n_t] = np.cumsum(v[::-1], axis=0)[::-1]
        numer_i = agg["sy"][rows, k]  # Σ_{t>=k_i} Y_it
        # Σ_t d~_it^2 with d~ = (d - a_i) - v_t: Σ(d - a)^2 = T a (1 - a); Σ_t v_t = 0
        dd_i = n_t * a * (1 - a) - 2 * sv[k, cols] + (v * v).sum(axis=0)[None, :]
        if r:
            w_parts = np.stack([agg["sq"][j][rows, k] for j in range(r)])  # r x units x B: Σ_{t>=k_i} Q_j
            w = w_parts.sum(axis=1)  # r x B
            qc = (agg["q_flat"] @ c).reshape(r, n_units, n_draws)  # Σ_t Q_j,it c_t
            w_parts -= qc  # Σ_t d~_it Q_j,it
            dq_i = np.einsum("jib,jb->ib", w_parts, w)  # Σ_t d~_it (Q w)_it
            ww = (w[:, None, :] * w[None, :, :]).reshape(r * r, n_draws)
            dd_i += agg["qq"] @ ww - 2 * dq_i  # + Σ_t (Q w)_it^2
            dy_i = numer_i - agg["y"] @ c - agg["qy"] @ w  # Σ_t d"_it Y_it
        else:
            dy_i = numer_i - agg["y"] @ c
        dd = dd_i.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            coef = numer_i.sum(axis=0) / dd
            scores = dy_i - coef * dd_i
            se = np.sqrt(ssc_factor * np.einsum("ib,ib->b", scores, scores)) / dd
        degenerate = dd <= 1e-12 * self.nobs
        coef[degenerate] = np.nan
        se[degenerate] = np.nan
        return coef, se

    def treatment_columns(self, adoption: np.ndarray) -> np.ndarray:
        """0/1 matrix (N x B) from unit adoption years (B x n_units; 0 = never)."""
        g = np.where(adoption > 0, adoption, np.inf).T  # units x B; never = +inf
        if self.unit_time_grid:
            # rows are unit-major, period-minor: compare without gathering an N x B array
            periods = self.times[: self.partialler.n_levels[1]]
            cube = np.greater_equal(periods[None, :, None], g[:, None, :])
            return cube.reshape(self.nobs, -1).astype(float)
        return np.greater_equal(self.times[:, None], g[self.unit_codes]).astype(float)

    def run(
        self, *, kind: str = "permute_cohorts", draws: int = 1000, seed: int = 12345,
        block_size: int | None = None, ssc_factor: float | None = None, memory_mb: float = 256.0,
        keep_adoption: bool = False, progress: Callable[[str, int, int], None] | None = None,
        jobs: int = 1, scheduler: str | None = None,
    ) -> PlaceboResult:
        """All draws in memory-bounded blocks; see the module docstring for the draw kinds.

        ``jobs``/``scheduler`` (see :func:`pilotdid.parallel.map_tasks`) spread the draws over
        worker processes or a Dask cluster in shards whose edges are block edges of the serial run, so
        every block gets the same inputs and the result is identical, bit for bit, to a serial run.
        """
        if kind not in PLACEBO_KINDS:
            raise PilotdidInputError(f"unknown placebo kind {kind!r}", where="[analyses.placebo] kind",
                                     fix=f"use one of {', '.join(PLACEBO_KINDS)}")
        if draws < 1:
            raise PilotdidInputError(f"placebo draws must be >= 1, got {draws}", where="[analyses.placebo] draws",
                                     fix="e.g. draws = 1000")
        if (self.unit_first_treat > 0).sum() == 0:
            raise PilotdidInputError("placebo: no treated unit in the sample", where="placebo",
                                     fix="check the treatment assignment")
        factor = self.ssc() if ssc_factor is None else float(ssc_factor)
        if block_size is None:
            # about six N x B float arrays live at once; on the grid path, about 2r + 10 units x B ones
            per_draw = (8 * self.partialler.n_levels[0] * (2 * self.basis.shape[1] + 10) if self._grid_path
                        else 6 * 8 * max(self.nobs, 1))
            block_size = int(max(1, min(draws, memory_mb * 2**20 / per_draw)))
        coefs = np.empty(draws)
        ses = np.empty(draws)
        kept = np.empty((draws, self.unit_first_treat.size)) if keep_adoption else None
        cache: dict[int, np.ndarray] = {}
        if (jobs > 1 or scheduler) and not keep_adoption:
            from pilotdid.parallel import map_tasks, shard_ranges

            # shard edges on the serial run's block edges: every block sees exactly the same inputs
            shards = shard_ranges(draws, jobs if jobs > 1 else 2, block_size)
            parts = map_tasks(_run_shard, [(self, kind, a, b, seed, block_size, factor) for a, b in shards],
                              jobs=jobs, scheduler=scheduler,
                              progress=(lambda done, total: progress("placebo", draws * done // total, draws))
                              if progress is not None else None)
            for (a, b), (c, s_) in zip(shards, parts):
                coefs[a:b], ses[a:b] = c, s_
            with _single_threaded_blas():
                actual_coef, actual_se = self.estimate(self.actual_treatment[:, None].copy(), factor)
        else:
            with _single_threaded_blas():
                actual_coef, actual_se = self._run_blocks(kind, draws, seed, block_size, factor, coefs, ses, kept,
                                                          cache, progress)
        return PlaceboResult(
            kind=kind, draws=draws, seed=seed, actual_coef=float(actual_coef[0]), actual_se=float(actual_se[0]),
            coefs=coefs, ses=ses, nobs=self.nobs, n_clusters=self.n_clusters, ssc_factor=factor,
            block_size=block_size, notes=list(self.notes), adoption_years=kept,
        )

    def _run_blocks(self, kind, draws, seed, block_size, factor, coefs, ses, kept, cache, progress):
        for start in range(0, draws, block_size):
            stop = min(draws, start + block_size)
            adoption = draw_adoption_years(self.unit_first_treat, kind, start, stop, seed, self.candidate_years,
                                           cache=cache)
            coefs[start:stop], ses[start:stop] = self.estimate_draws(adoption, factor)
            if kept is not None:
                kept[start:stop] = adoption
            if progress is not None:
                progress("placebo", stop, draws)
        return self.estimate(self.actual_treatment[:, None].copy(), factor)


def _run_shard(task) -> tuple[np.ndarray, np.ndarray]:
    """Draws ``start .. stop-1`` of one placebo run (a worker task for :meth:`PlaceboDesign.run`)."""
    design, kind, start, stop, seed, block_size, factor = task
    coefs = np.empty(stop - start)
    ses = np.empty(stop - start)
    cache: dict[int, np.ndarray] = {}
    with _single_threaded_blas():
        for lo in range(start, stop, block_size):
            hi = min(stop, lo + block_size)
            adoption = draw_adoption_years(design.unit_first_treat, kind, lo, hi, seed, design.candidate_years,
                                           cache=cache)
            coefs[lo - start:hi - start], ses[lo - start:hi - start] = design.estimate_draws(adoption, factor)
    return coefs, ses


def _equal_blocks(starts: np.ndarray | None, n: int) -> int | None:
    """Block length when contiguous clusters all have the same size, else None."""
    if starts is None or starts.size == 0:
        return None
    size = n // starts.size
    if size * starts.size == n and np.array_equal(starts, np.arange(0, n, size)):
        return int(size)
    return None


def _single_threaded_blas():
    """BLAS limited to one thread: the products here are thin (N x k by N x B) and memory-bound, and
    multi-threaded BLAS on a shared machine made them up to 10x slower in measurements."""
    from pilotdid.parallel import one_blas_thread

    return one_blas_thread()


def _orthonormal_basis(x: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
    """Orthonormal basis of the column space of ``x`` (drops collinear directions)."""
    if x.shape[1] == 0:
        return x
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    keep = s > rtol * (s[0] if s.size else 0.0)
    return u[:, keep]


def staggered_placebo(
    data: pd.DataFrame, *, outcome: str, unit: str, time: str, first_treat: str, treatment: str | None = None,
    controls: Sequence[str] = (), fixed_effects: Sequence[str] | None = None, cluster: str | None = None,
    kind: str = "permute_cohorts", draws: int = 1000, seed: int = 12345, block_size: int | None = None,
    ssc_factor: float | None = None, ssc: dict[str, Any] | None = None, adoption_years: Sequence[float] | None = None,
    keep_adoption: bool = False, progress: Callable[[str, int, int], None] | None = None,
    weights: str | None = None,
) -> PlaceboResult:
    """Staggered placebo test: ``draws`` re-assignments of adoption years, each re-estimated.

    The model is ``outcome ~ treatment + controls | fixed_effects`` with CRV1 SEs clustered by
    ``cluster`` (default: ``unit``). The small-sample factor is ``ssc_factor`` when given (e.g.
    calibrated to a baseline fit's preset), else pyfixest's ``ssc`` convention given as a dict
    ``{"k_adj", "k_fixef", "G_adj"}`` (default: pyfixest's default, k_fixef = "nonnested").
    ``treatment`` is the actual 0/1 column (default: ``1[time >= first_treat]``). ``weights``: a column of
    analytic weights (weighted least squares, as pyfixest ``feols(weights=...)``).
    """
    design = PlaceboDesign.prepare(
        data, outcome=outcome, unit=unit, time=time, first_treat=first_treat, treatment=treatment,
        controls=controls, fixed_effects=fixed_effects, cluster=cluster, adoption_years=adoption_years,
        weights=weights,
    )
    if ssc_factor is None and ssc is not None:
        ssc_factor = design.ssc(**{k: v for k, v in ssc.items() if k in ("k_adj", "k_fixef", "G_adj")})
    return design.run(kind=kind, draws=draws, seed=seed, block_size=block_size, ssc_factor=ssc_factor,
                      keep_adoption=keep_adoption, progress=progress)


# --------------------------------------------------------------------------------------------
# In-time placebo
# --------------------------------------------------------------------------------------------


def in_time_placebo(
    data: pd.DataFrame, *, outcome: str, unit: str, time: str, first_treat: str, shifts: Sequence[int] = (1, 2, 3),
    controls: Sequence[str] = (), fixed_effects: Sequence[str] | None = None, cluster: str | None = None,
    vcov: str = DEFAULT_VCOV, weights: str | None = None, fit: TwfeFit | None = None, keep_fits: bool = False,
) -> pd.DataFrame:
    """In-time placebo: pretend every treated unit adopted ``k`` periods earlier.

    Sample: pre-treatment observations only — all rows of never-treated units and the rows of
    treated units before their actual adoption (so no actually-treated row is used). The fake
    dummy is ``1[time >= first_treat - k]`` for treated units. A fake effect far from zero signals
    anticipation or diverging pre-trends. Each shift is fitted by ``fit`` (default
    :func:`~pilotdid.estimation.twfe.fit_twfe`, or anything of its shape) with the SE preset ``vcov``, clustered by
    ``cluster`` (None: heteroskedasticity-robust, as ``fit_twfe``) and analytic ``weights``.
    Returns one row per shift: shift, coef, se, t, p, nobs, fake_treated_obs, fake_treated_units (and ``fit``, the
    shift's TwfeResult, with ``keep_fits``).
    """
    fixed_effects = list(fixed_effects) if fixed_effects is not None else [unit, time]
    if fit is None:
        from pilotdid.estimation.twfe import fit_twfe as fit
    g = pd.to_numeric(data[first_treat], errors="coerce").fillna(0).to_numpy(float)
    t = pd.to_numeric(data[time]).to_numpy(float)
    pre = (g <= 0) | (t < g)
    rows = []
    for k in shifts:
        sample = data.loc[pre].copy()
        gs, ts = g[pre], t[pre]
        fake = ((gs > 0) & (ts >= gs - k)).astype(float)
        sample["_fake_did"] = fake
        res = fit(sample, outcome, ["_fake_did", *controls], fixed_effects, cluster, vcov=vcov, weights=weights)
        r = res.term("_fake_did")
        rows.append({"shift": int(k), "coef": r["coef"], "se": r["se"], "t": r["t"], "p": r["p"], "nobs": res.nobs,
                     "fake_treated_obs": int(fake.sum()), "fake_treated_units": int(sample.loc[fake > 0, unit].nunique()),
                     **({"fit": res} if keep_fits else {})})
    return pd.DataFrame(rows)
