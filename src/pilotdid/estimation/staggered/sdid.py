"""Synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens & Wager 2021, AER), as R
``synthdid`` computes it, with synthetic control and DID as special cases.

Block design (``synthdid_estimate``): Y is units x periods, the first N0 rows controls, the first T0 columns
pre-treatment. Unit weights omega (simplex, intercept, ridge penalty zeta_omega = (N1 T1)^(1/4) x sigma,
sigma the sd of the controls' first differences before treatment) match the controls' pre-period path to
the treated units' mean; time weights lambda (simplex, intercept, zeta_lambda = 1e-6 sigma) match the
controls' pre-periods to their post-period mean. Both by synthdid's Frank-Wolfe solver with exact line
search: 100 iterations, then the weights sparsified (entries <= max/4 set to zero) and solved again until the
penalised loss decreases by less than (1e-5 sigma)^2 or 10,000 iterations. The estimate is
(mean treated - omega'controls) post (uniform) minus the same pre (lambda-weighted).
``method = "sc"``: omega without intercept and with zeta = 1e-6 sigma, no time weights (lambda = 0);
``method = "did"``: uniform omega and lambda.

Standard errors (AAHIW Algorithms 2-4): ``placebo`` (controls re-assigned as treated, N1 at a time, weights
re-solved from the fitted ones: the only one with one treated unit), ``bootstrap`` (units resampled, draws
with no treated or no control unit redrawn) and ``jackknife`` (leave one unit out with the weights fixed;
needs N1 > 1); each SE is sqrt((r-1)/r) x the sd of the r replicate estimates, as synthdid.

Staggered adoption (``staggered_sdid``): one block design per adoption cohort -- its units against the never
treated units, the periods before its adoption against the periods from adoption on -- and the cohort
estimates averaged with weights N1_a x T1_a (treated unit-periods), as Stata ``sdid`` (Clarke, Pailanir,
Athey & Imbens 2023). Its SE (``se_method``):

- ``placebo`` (default): every cohort's size re-assigned to disjoint sets of never-treated units in each draw,
  every cohort and the average recomputed (the cohorts' SEs come from the same draws); needs more never-treated
  units than treated ones;
- ``bootstrap``: units (never-treated and the chosen cohorts') resampled, every cohort re-estimated from its
  fitted weights and the average re-weighted by the drawn cohort sizes; as Stata ``sdid`` (sdid.ado 2.0.5/2.0.6,
  its bootstrap loop), a draw is redrawn only when it has no never-treated or no treated unit, and a cohort missing
  from a draw weighs 0 in that draw's average; a cohort's own SE comes from the draws that contain it. The
  ``fixed`` convention below redraws draws missing a cohort (its average needs every cohort's estimate), taking
  them from the same seeded stream (``_staggered_bootstrap``); ``bootstrap_draws_missing_a_cohort`` counts them.
  The regularisation (zeta, from the full-sample fit) is kept in every draw, as R synthdid's bootstrap (Stata
  ``sdid`` re-computes it from the drawn units);
- ``jackknife``: each unit left out in turn, every cohort's weights kept fixed (control weights renormalised),
  the average re-weighted; needs two treated units in every cohort (AAHIW Algorithm 3; the average as Stata
  ``sdid``'s staggered jackknife), else NaN with a note. A cohort's own SE is synthdid's block jackknife on its
  units and the never-treated ones (Stata leaves out every unit of the panel, other cohorts' included).

``replicate_cohort_weights``: ``"resampled"`` (default, Stata ``sdid``) re-weights the cohorts in every bootstrap
or jackknife replicate by its own treated unit-periods, so the SE includes the sampling variation of the cohort
sizes (the population-average estimand); ``"fixed"`` keeps the full sample's weights (the SE conditional on the
cohort sizes, as Sun-Abraham's). They differ only when cohort effects differ (and coincide with one cohort); the
placebo re-assigns fixed sizes. Both SEs are computed from the same replicates (``se_by_cohort_weights``; in the
bootstrap save the draws missing a cohort, which the fixed convention replaces); the convention chosen is ``se``.

Placebo and bootstrap: sqrt((r-1)/r) x the sd of the r replicate averages; jackknife: sqrt((n-1)/n x the sum
of squared deviations) over the n left-out units; as synthdid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.results.protocol import Result, fill_normal_tests, tidy_frame

METHODS = ("sdid", "sc", "did")
SE_METHODS = ("placebo", "bootstrap", "jackknife")
#: How a bootstrap or jackknife replicate weights the cohorts in the average (module docstring); the first is
#: the default. Both SEs come from the same replicates.
REPLICATE_COHORT_WEIGHTS = ("resampled", "fixed")


def _fw(A: np.ndarray, b: np.ndarray, zeta: float, intercept: bool, x: np.ndarray | None, min_decrease: float,
        max_iter: int) -> np.ndarray:
    """synthdid's ``sc.weight.fw``: min zeta^2 |x|^2 + |A x - b|^2 / n over the simplex by Frank-Wolfe with exact
    line search, iterate for iterate (the estimate depends on where the iterations stop, so they are not
    replaced by an exact solver).

    Written for speed in Gram form: with Ge = A'A + n zeta^2 I, the half gradient g = Ge x - A'b moves as
    g <- (1-s) g + s (Ge e_i - A'b), kept as c * u with a scalar c, so an iteration is one argmin and one
    axpy; x'x, x'Ge x and x'A'b follow by scalar recurrences.
    """
    n, k = A.shape
    if intercept:
        A = A - A.mean(axis=0)
        b = b - b.mean()
    x = np.full(k, 1.0 / k) if x is None else np.array(x, dtype=float)
    eta = n * zeta ** 2
    G = A.T @ A
    Ab = A.T @ b
    bb = float(b @ b)
    Ge = G + eta * np.eye(k)
    R = Ge - Ab[None, :]  # row i: Ge e_i - A'b (Ge is symmetric)
    diag = np.diag(Ge).copy()
    Gx = Ge @ x
    u = Gx - Ab  # the half gradient, scaled by c
    c = 1.0
    v = x.copy()  # x = cx * v
    cx = 1.0
    xx = float(x @ x)
    xGx = float(x @ Gx)  # x' Ge x
    xAb = float(x @ Ab)
    z2 = zeta ** 2
    threshold = min_decrease ** 2
    prev2 = prev1 = None
    t = 0
    while t < max_iter and (t < 2 or prev2 - prev1 > threshold):
        i = int(u.argmin())
        xi = cx * v[i]
        if xi != 1.0 or xx != 1.0:  # d_x = e_i - x is not zero
            gi = c * u[i]
            gx = xGx - xAb  # g'x
            # exact line search along d = e_i - x for the objective x'Ge x - 2 x'A'b
            denom = diag[i] - 2.0 * (gi + Ab[i]) + xGx
            if denom > 0:
                step = -(gi - gx) / denom
                step = 1.0 if step > 1.0 else (0.0 if step < 0.0 else step)
                if step > 0.0:
                    keep = 1.0 - step
                    Gxi = gi + Ab[i]
                    xGx = keep * keep * xGx + 2.0 * step * keep * Gxi + step * step * diag[i]
                    xx = keep * keep * xx + 2.0 * step * keep * xi + step * step
                    xAb = keep * xAb + step * Ab[i]
                    if keep == 0.0:
                        u = R[i].copy()
                        c = 1.0
                        v = np.zeros(k)
                        v[i] = 1.0
                        cx = 1.0
                    else:
                        c *= keep
                        cx *= keep
                        u += (step / c) * R[i]
                        v[i] += step / cx
                        if c < 1e-200 or cx < 1e-200:  # rescale before underflow
                            u *= c
                            v *= cx
                            c = cx = 1.0
        # objective: zeta^2 x'x + |Ax - b|^2 / n, with x'Ge x = x'G x + eta x'x
        value = z2 * xx + (xGx - eta * xx - 2.0 * xAb + bb) / n
        prev2, prev1 = prev1, value
        t += 1
    return cx * v


#: np.clip's ufunc (np.clip itself adds Python-level argument handling to every call of a hot loop)
_clip_ufunc = getattr(getattr(np, "_core", None), "umath", None)
_clip_ufunc = getattr(_clip_ufunc, "clip", None) or np.clip


def _fw_batch(A: np.ndarray, b: np.ndarray, zeta: float, intercept: bool, x: np.ndarray, min_decrease: float,
              max_iter: int) -> np.ndarray:
    """:func:`_fw` for a batch of problems of one shape (A: r x n x k, b: r x n, x: r x k start), iterated in
    lock step; each problem stops by its own rule (then its step is zero), so each follows its serial path."""
    r, n, k = A.shape
    if intercept:
        A = A - A.mean(axis=1, keepdims=True)
        b = b - b.mean(axis=1, keepdims=True)
    x = np.array(x, dtype=float)
    eta = n * zeta ** 2
    G = np.einsum("rnk,rnl->rkl", A, A)
    Ab = np.einsum("rnk,rn->rk", A, b)
    bb = np.einsum("rn,rn->r", b, b)
    Ge = G + eta * np.eye(k)[None]
    Rm = Ge - Ab[:, None, :]
    diag = np.einsum("rkk->rk", Ge)
    Gx = np.einsum("rkl,rl->rk", Ge, x)
    u = Gx - Ab
    c = np.ones(r)
    v = x.copy()
    cx = np.ones(r)
    xx = np.einsum("rk,rk->r", x, x)
    xGx = np.einsum("rk,rk->r", x, Gx)
    xAb = np.einsum("rk,rk->r", x, Ab)
    z2 = zeta ** 2
    threshold = min_decrease ** 2
    # the loop runs thousands of lock-step iterations of ~r x k work, so its cost is numpy call overhead: the
    # per-problem gathers use flat indices (one take instead of a two-array index), the masks and clips work in
    # place, and the division's error state is set once; every floating operation is the one of the plain loop
    # (same operands, same order), so each problem still follows its serial path bit for bit
    base = np.arange(r) * k
    u_flat, v_flat = u.reshape(-1), v.reshape(-1)  # views of u and v
    Ab_flat, diag_flat = Ab.reshape(-1), np.ascontiguousarray(diag).reshape(-1)
    Rm_rows = Rm.reshape(r * k, k)
    prev2 = np.full(r, np.inf)
    prev1 = np.full(r, np.inf)
    active = np.ones(r, dtype=bool)
    all_active = True
    t = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        while t < max_iter and (all_active or active.any()):
            flat = base + u.argmin(axis=1)
            xi = cx * v_flat[flat]
            gi = c * u_flat[flat]
            Abi = Ab_flat[flat]
            di = diag_flat[flat]
            Gxi = gi + Abi
            denom = di - 2.0 * Gxi + xGx
            positive = denom > 0
            movable = (xi == 1.0)
            movable &= (xx == 1.0)
            np.logical_not(movable, out=movable)
            if not all_active:
                movable &= active
            movable &= positive
            # entries not movable (denominator <= 0 included) are overwritten with 0 right away
            step = -(gi - (xGx - xAb)) / denom
            step[~movable] = 0.0
            _clip_ufunc(step, 0.0, 1.0, out=step)
            keep = 1.0 - step
            moved = step > 0.0
            keep2 = keep * keep
            step_keep2 = 2.0 * step * keep
            step2 = step * step
            if moved.all():
                xGx = keep2 * xGx + step_keep2 * Gxi + step2 * di
                xx = keep2 * xx + step_keep2 * xi + step2
                xAb = keep * xAb + step * Abi
            else:
                xGx = np.where(moved, keep2 * xGx + step_keep2 * Gxi + step2 * di, xGx)
                xx = np.where(moved, keep2 * xx + step_keep2 * xi + step2, xx)
                xAb = np.where(moved, keep * xAb + step * Abi, xAb)
            full = moved & (keep == 0.0)
            any_full = full.any()
            if any_full:
                # unmoved problems have step 0 and keep 1: the unmasked update leaves them as they are
                keep[full] = 1.0
                step[full] = 0.0
            c *= keep
            cx *= keep
            u += (step / c)[:, None] * Rm_rows[flat]
            v_flat[flat] += step / cx
            if any_full:
                hit = flat[full]
                u[full] = Rm_rows[hit]
                v[full] = 0.0
                v_flat[hit] = 1.0
                c[full] = 1.0
                cx[full] = 1.0
            small = (c < 1e-200) | (cx < 1e-200)
            if small.any():
                u[small] *= c[small, None]
                v[small] *= cx[small, None]
                c[small] = 1.0
                cx[small] = 1.0
            value = z2 * xx + (xGx - eta * xx - 2.0 * xAb + bb) / n
            if all_active:
                prev2, prev1 = prev1, value
            else:
                prev2 = np.where(active, prev1, prev2)
                prev1 = np.where(active, value, prev1)
            t += 1
            if t >= 2:
                active &= (prev2 - prev1) > threshold
                all_active = bool(active.all())
    return cx[:, None] * v


def _placebo_batch(fit: "SdidFit", controls: np.ndarray, ctrl_idx: np.ndarray, fake_idx: np.ndarray) -> np.ndarray:
    """Placebo re-estimates, all draws at once: in draw j the rows ``fake_idx[j]`` of the control outcomes
    ``controls`` play the treated units and the rows ``ctrl_idx[j]`` the controls; weights re-solved starting
    from the fitted ones (their control weights renormalised), with the fit's tuning, as synthdid."""
    T0 = fit.T0
    n0 = ctrl_idx.shape[1]
    method = fit.opts["method"]
    ctrl, fake = controls[ctrl_idx], controls[fake_idx]
    pre_c, post_c = ctrl[:, :, :T0], ctrl[:, :, T0:].mean(axis=2)
    treated_mean = fake.mean(axis=1)  # r x T
    r = len(ctrl_idx)
    if method == "did":
        omega = np.full((r, n0), 1.0 / n0)
        lam = np.full((r, T0), 1.0 / T0)
    else:
        if method == "sdid":
            lam0 = np.repeat(fit.lambda_[None], r, axis=0)
            lam = _fw_batch(pre_c, post_c, fit.opts["zeta_lambda"], True, lam0, fit.opts["min_decrease"], 100)
            lam = np.vstack([_sparsify(row) for row in lam])
            lam = _fw_batch(pre_c, post_c, fit.opts["zeta_lambda"], True, lam, fit.opts["min_decrease"], 10_000)
        else:
            lam = np.zeros((r, T0))
        om0 = fit.omega[ctrl_idx]
        sums = om0.sum(axis=1, keepdims=True)
        om0 = np.where(sums > 0, om0 / np.where(sums > 0, sums, 1.0), 1.0 / n0)
        intercept = method == "sdid"
        A = np.transpose(pre_c, (0, 2, 1))  # r x T0 x n0
        bvec = treated_mean[:, :T0]
        om = _fw_batch(A, bvec, fit.opts["zeta_omega"], intercept, om0, fit.opts["min_decrease"], 100)
        om = np.vstack([_sparsify(row) for row in om])
        omega = _fw_batch(A, bvec, fit.opts["zeta_omega"], intercept, om, fit.opts["min_decrease"], 10_000)
    T1 = controls.shape[1] - T0
    synth = np.einsum("rn,rnt->rt", omega, ctrl)  # r x T
    gap = treated_mean - synth
    return gap[:, T0:].mean(axis=1) - np.einsum("rt,rt->r", lam, gap[:, :T0]) if T1 else np.zeros(r)


def _sparsify(v: np.ndarray) -> np.ndarray:
    v = v.copy()
    v[v <= v.max() / 4.0] = 0.0
    return v / v.sum()


@dataclass
class SdidFit:
    estimate: float
    omega: np.ndarray
    lambda_: np.ndarray
    N0: int
    T0: int
    opts: dict


def synthdid_estimate(Y: np.ndarray, N0: int, T0: int, *, method: str = "sdid", omega: np.ndarray | None = None,
                      lambda_: np.ndarray | None = None, opts: dict | None = None) -> SdidFit:
    """Block-design SDID / SC / DID estimate (see the module docstring); ``omega``/``lambda_`` are starting
    weights and ``opts`` the tuning of an earlier fit (as synthdid's replications reuse them)."""
    Y = np.asarray(Y, dtype=float)
    N, T = Y.shape
    N1, T1 = N - N0, T - T0
    if method not in METHODS:
        raise PilotdidInputError(f"method = {method!r}", where="sdid", fix=f"one of {list(METHODS)}")
    if opts is None:
        noise = float(np.std(np.diff(Y[:N0, :T0], axis=1), ddof=1)) if T0 > 1 else 0.0
        opts = {"min_decrease": 1e-5 * noise, "zeta_lambda": 1e-6 * noise,
                "zeta_omega": ((N1 * T1) ** 0.25) * noise if method == "sdid" else 1e-6 * noise}
    # collapsed form: controls and the treated mean; pre periods and the post mean
    Yc = np.vstack([Y[:N0], Y[N0:].mean(axis=0, keepdims=True)])
    Yc = np.hstack([Yc[:, :T0], Yc[:, T0:].mean(axis=1, keepdims=True)])
    if method == "did":
        omega, lambda_ = np.full(N0, 1.0 / N0), np.full(T0, 1.0 / T0)
    else:
        if method == "sdid":
            lam = _fw(Yc[:N0, :T0], Yc[:N0, T0], opts["zeta_lambda"], True, lambda_, opts["min_decrease"], 100)
            lambda_ = _fw(Yc[:N0, :T0], Yc[:N0, T0], opts["zeta_lambda"], True, _sparsify(lam),
                          opts["min_decrease"], 10_000)
        else:
            lambda_ = np.zeros(T0)
        intercept = method == "sdid"
        om = _fw(Yc[:N0, :T0].T, Yc[N0, :T0], opts["zeta_omega"], intercept, omega, opts["min_decrease"], 100)
        omega = _fw(Yc[:N0, :T0].T, Yc[N0, :T0], opts["zeta_omega"], intercept, _sparsify(om),
                    opts["min_decrease"], 10_000)
    unit_w = np.concatenate([-omega, np.full(N1, 1.0 / N1)])
    time_w = np.concatenate([-lambda_, np.full(T1, 1.0 / T1)])
    return SdidFit(estimate=float(unit_w @ Y @ time_w), omega=omega, lambda_=lambda_, N0=N0, T0=T0,
                   opts={**opts, "method": method})


def _refit(fit: SdidFit, Y: np.ndarray, controls: np.ndarray, N0: int) -> float:
    """Re-estimate on a subset of rows, starting from the fitted weights (synthdid's replications)."""
    omega = fit.omega[controls]
    omega = omega / omega.sum() if omega.sum() > 0 else np.full(len(controls), 1.0 / len(controls))
    method = fit.opts["method"]
    return synthdid_estimate(Y, N0, fit.T0, method=method, omega=omega, lambda_=fit.lambda_,
                             opts={k: v for k, v in fit.opts.items() if k != "method"}).estimate


def standard_error(fit: SdidFit, Y: np.ndarray, *, method: str = "placebo", replications: int = 200,
                   seed: int = 0) -> float:
    """synthdid's placebo / bootstrap / jackknife SE of a block-design fit (NaN where undefined)."""
    Y = np.asarray(Y, dtype=float)
    N0 = fit.N0
    N1 = Y.shape[0] - N0
    rng = np.random.default_rng(seed)
    if method == "placebo":
        if N0 <= N1:
            return float("nan")
        perms = np.vstack([rng.permutation(N0) for _ in range(replications)])
        draws = list(_placebo_batch(fit, Y[:N0], perms[:, :N0 - N1], perms[:, N0 - N1:]))
    elif method == "bootstrap":
        if N1 == 1:  # as synthdid: a resample with the one treated unit repeated is not a treated group
            return float("nan")
        draws = []
        while len(draws) < replications:
            ind = np.sort(rng.integers(0, Y.shape[0], Y.shape[0]))
            n0 = int((ind < N0).sum())
            if n0 == 0 or n0 == len(ind):
                continue
            draws.append(_refit(fit, Y[ind], ind[:n0], n0))
    elif method == "jackknife":
        if N1 <= 1 or np.count_nonzero(fit.omega) <= 1:
            return float("nan")
        draws = []
        unit_w_full = fit.omega
        time_w = np.concatenate([-fit.lambda_, np.full(Y.shape[1] - fit.T0, 1.0 / (Y.shape[1] - fit.T0))])
        for drop in range(Y.shape[0]):
            keep = np.delete(np.arange(Y.shape[0]), drop)
            n0 = N0 - (drop < N0)
            om = unit_w_full[keep[:n0]]
            if om.sum() == 0:
                return float("nan")
            unit_w = np.concatenate([-om / om.sum(), np.full(len(keep) - n0, 1.0 / (len(keep) - n0))])
            draws.append(float(unit_w @ Y[keep] @ time_w))
        n = len(draws)
        return float(np.sqrt((n - 1) / n * np.sum((np.array(draws) - np.mean(draws)) ** 2)))
    else:
        raise PilotdidInputError(f"se method {method!r}", where="sdid", fix=f"one of {list(SE_METHODS)}")
    r = len(draws)
    return float(np.sqrt((r - 1) / r) * np.std(draws, ddof=1))


# ------------------------------------------------------------------------------------------- staggered
@dataclass
class StaggeredSdid(Result):
    cohorts: pd.DataFrame  # cohort, treated_units, pre_periods, post_periods, estimate, se, weight
    att: float
    se: float
    method: str
    replications: int
    notes: list[str] = field(default_factory=list)
    se_method: str = "placebo"
    #: the convention of ``se`` (bootstrap and jackknife; see the module docstring)
    replicate_cohort_weights: str = "resampled"
    #: the average's SE under each replicate cohort-weight convention, from the same replicates (bootstrap and
    #: jackknife; empty for the placebo SE, whose draws re-assign the sample's cohort sizes: one convention)
    se_by_cohort_weights: dict[str, float] = field(default_factory=dict)
    #: bootstrap: how many of the resampled convention's draws miss a cohort (kept there with its weight 0, as
    #: Stata sdid; the fixed convention redraws them); None for the placebo and jackknife SEs
    bootstrap_draws_missing_a_cohort: int | None = None

    title = "Synthetic DID by adoption cohort"

    @property
    def other_cohort_weights(self) -> str | None:
        """The convention beside the headline one, when both are computed."""
        others = [c for c in self.se_by_cohort_weights if c != self.replicate_cohort_weights]
        return others[0] if others else None

    def tidy(self) -> pd.DataFrame:
        """The average (``kind`` = average; with a bootstrap or jackknife SE, a second average row carries the
        other cohort-weight convention's SE, each named in ``cohort_weights``), then one row per cohort
        (``kind`` = cohort, with its weight)."""
        headline = self.replicate_cohort_weights if self.se_by_cohort_weights else None
        rows = [{"term": "average", "estimate": self.att, "se": self.se, "kind": "average",
                 "cohort_weights": headline}]
        other = self.other_cohort_weights
        if other is not None:
            rows.append({"term": f"average ({other})", "estimate": self.att,
                         "se": self.se_by_cohort_weights[other], "kind": "average", "cohort_weights": other})
        rows += [{"term": f"cohort_{int(r['cohort'])}", "estimate": r["estimate"], "se": r.get("se"), "kind": "cohort",
                  "weight": r.get("weight")} for r in self.cohorts.to_dict("records")]
        out = fill_normal_tests(tidy_frame(rows))
        out["ci_low"] = out["estimate"] - 1.959963984540054 * out["se"]
        out["ci_high"] = out["estimate"] + 1.959963984540054 * out["se"]
        return out

    def record(self) -> dict:
        """The results.json ``sdid`` section (one place for its keys: the API and the staggered analysis)."""
        from pilotdid.results.schema import clean_json

        both = self.se_by_cohort_weights
        return clean_json({"att": self.att, "se": self.se, "replications": self.replications,
                           "cohorts": self.cohorts.to_dict("records"), "se_method": self.se_method,
                           "cohort_weights": self.replicate_cohort_weights if both else None,
                           **{f"se_cohort_weights_{c}": both.get(c) for c in REPLICATE_COHORT_WEIGHTS}})

    def to_dict(self) -> dict:
        """``{"sdid": {...}}`` as the staggered analysis writes it."""
        return {"sdid": self.record()}

    @property
    def conventions(self) -> dict:
        se = ("jackknife (leave one unit out, weights fixed)" if self.se_method == "jackknife"
              else f"{self.se_method}, {self.replications} replications")
        if self.se_method != "placebo":
            se += f"; cohort weights {self.replicate_cohort_weights} in each replicate"
        if self.se_method == "bootstrap":
            se += ("; a draw missing a cohort kept with its weight 0 (Stata sdid)"
                   if self.replicate_cohort_weights == "resampled" else "; draws missing a cohort redrawn")
        out = {"method": self.method, "se": se,
               "donors": "never-treated units", "average": "cohorts weighted by treated unit-periods"}
        other = self.other_cohort_weights
        if other is not None:
            out["se of the average, cohort weights " + other] = f"{self.se_by_cohort_weights[other]:.6g}"
        return out


def staggered_sdid(panel: pd.DataFrame, *, outcome: str, unit: str, time: str, first_treat: str,
                   cohorts: list[int] | None = None, method: str = "sdid", replications: int = 200,
                   seed: int = 0, se_method: str = "placebo",
                   replicate_cohort_weights: str = "resampled") -> StaggeredSdid:
    """Cohort-by-cohort SDID against never-treated units (balanced panel), averaged by treated unit-periods,
    with the placebo, bootstrap or jackknife SE of the average (see the module docstring)."""
    if se_method not in SE_METHODS:
        raise PilotdidInputError(f"se method {se_method!r}", where="staggered.sdid", fix=f"one of {list(SE_METHODS)}")
    if replicate_cohort_weights not in REPLICATE_COHORT_WEIGHTS:
        raise PilotdidInputError(f"replicate_cohort_weights = {replicate_cohort_weights!r}", where="staggered.sdid",
                                 fix='"resampled" or "fixed"')
    df = panel[[unit, time, outcome, first_treat]].dropna(subset=[outcome])
    Y_all = df.pivot(index=unit, columns=time, values=outcome)
    if Y_all.isna().any().any():
        raise PilotdidInputError("synthetic DID needs a balanced panel", where="staggered.sdid",
                                 fix="balance the panel ([data] balance = true)")
    g = df.groupby(unit)[first_treat].first().reindex(Y_all.index).fillna(0).to_numpy(float)
    times = Y_all.columns.to_numpy()
    never = np.flatnonzero((g == 0) | (g > times.max()))
    available = sorted(int(a) for a in np.unique(g[(g > times.min()) & (g <= times.max())]))
    chosen = available if cohorts is None else [a for a in cohorts if a in available]
    notes = []
    if cohorts is not None and len(chosen) < len(cohorts):
        notes.append(f"SDID: cohort(s) {sorted(set(cohorts) - set(chosen))} not in the panel's adoption years.")
    if not chosen or len(never) < 2:
        raise PilotdidInputError("synthetic DID needs an adoption cohort and at least two never-treated units",
                                 where="staggered.sdid", fix="check [analyses.staggered] sdid_cohorts")
    Y = Y_all.to_numpy(float)
    rows, fits, blocks = [], [], []
    for a in chosen:
        treated = np.flatnonzero(g == a)
        T0 = int((times < a).sum())
        block = np.vstack([Y[never], Y[treated]])
        fit = synthdid_estimate(block, len(never), T0, method=method)
        fits.append(fit)
        blocks.append(block)
        rows.append({"cohort": a, "treated_units": len(treated), "pre_periods": T0,
                     "post_periods": len(times) - T0, "estimate": fit.estimate})
    out = pd.DataFrame(rows)
    w = (out.treated_units * out.post_periods).to_numpy(float)
    w = w / w.sum()
    out["weight"] = w
    att = float(w @ out.estimate)
    sizes = out.treated_units.to_numpy()
    n_never = len(never)
    out["se"] = np.nan
    se = float("nan")
    post_periods = out.post_periods.to_numpy(float)
    se_by_cohort_weights: dict[str, float] = {}
    draws_missing = None
    if se_method == "jackknife":
        se_by_cohort_weights, out["se"], note = _staggered_jackknife(fits, blocks, sizes, post_periods)
        notes += [note] if note else []
    elif se_method == "bootstrap":
        se_by_cohort_weights, out["se"], draws_missing = _staggered_bootstrap(fits, blocks, sizes, post_periods,
                                                                              replications, seed)
    if se_by_cohort_weights:
        se = se_by_cohort_weights[replicate_cohort_weights]
    # placebo: in each draw every cohort's size is re-assigned to disjoint never-treated units and every cohort
    # re-estimated; the sd of each cohort's draws is its SE, the sd of the weighted draws the average's
    elif sizes.sum() < n_never:
        rng = np.random.default_rng(seed)
        perms = np.vstack([rng.permutation(n_never) for _ in range(replications)])
        start = n_never - sizes.sum()
        pool = perms[:, :start]
        estimates = []
        for fit, block, size in zip(fits, blocks, sizes):
            estimates.append(_placebo_batch(fit, block[:n_never], pool, perms[:, start:start + size]))
            start += size
        draws = np.column_stack(estimates)
        scale = np.sqrt((replications - 1) / replications)
        out["se"] = scale * draws.std(axis=0, ddof=1)
        se = float(scale * np.std(draws @ w, ddof=1))
    else:
        notes.append("SDID: too few never-treated units for the placebo SE (the bootstrap or jackknife SE needs none).")
    return StaggeredSdid(cohorts=out, att=att, se=se, method=method, replications=replications, notes=notes,
                         se_method=se_method, replicate_cohort_weights=replicate_cohort_weights,
                         se_by_cohort_weights=se_by_cohort_weights,
                         bootstrap_draws_missing_a_cohort=draws_missing)


def _replicate_se(draws: np.ndarray) -> float:
    """synthdid's placebo/bootstrap SE: sqrt((r-1)/r) x sd = the root mean squared deviation from the mean."""
    r = len(draws)
    return float(np.sqrt((r - 1) / r) * np.std(draws, ddof=1))


def _jackknife_se(draws: np.ndarray) -> float:
    """The jackknife SE of n leave-one-out estimates: sqrt((n-1)/n x sum of squared deviations), as synthdid."""
    n = len(draws)
    return float(np.sqrt((n - 1) / n * np.sum((draws - draws.mean()) ** 2)))


def _staggered_jackknife(fits: list[SdidFit], blocks: list[np.ndarray], sizes: np.ndarray, post_periods: np.ndarray
                         ) -> tuple[dict[str, float], np.ndarray, str | None]:
    """Leave-one-unit-out SEs of the average (under both replicate cohort-weight conventions, from the same
    leave-outs) and of each cohort, every cohort's weights fixed.

    A block's rows are the never-treated units (shared by every cohort, in the same order) then the cohort's
    treated units. With unit weights fixed, a cohort's estimate is mean_i d_i - omega'c, d and c its treated and
    control rows projected on the time weights (-lambda pre, 1/T1 post), so leaving out control j gives
    mean d - (omega'c - omega_j c_j) / (1 - omega_j) and leaving out treated unit i of cohort a changes only
    cohort a's mean (and, with resampled cohort weights, the average's weight of a: N1_a - 1)."""
    n_never = fits[0].N0
    undefined = {convention: float("nan") for convention in REPLICATE_COHORT_WEIGHTS}
    control_terms, treated_sums, estimates, cohort_ses = [], [], [], []
    usable = True
    for fit, block, size in zip(fits, blocks, sizes):
        T1 = block.shape[1] - fit.T0
        time_w = np.concatenate([-fit.lambda_, np.full(T1, 1.0 / T1)])
        c, d = block[:n_never] @ time_w, block[n_never:] @ time_w
        om = fit.omega
        if size < 2 or np.count_nonzero(om) <= 1:
            usable = False
            control_terms.append(None)
            treated_sums.append(None)
            estimates.append(fit.estimate)
            cohort_ses.append(np.nan)
            continue
        # leave out control j (never-treated units: every cohort changes) / treated unit i (this cohort only)
        with np.errstate(divide="ignore", invalid="ignore"):
            synth_without = (om @ c - om * c) / (1.0 - om)
        leave_control = d.mean() - synth_without
        leave_treated = (d.sum() - d) / (size - 1) - om @ c
        control_terms.append(leave_control)
        treated_sums.append(leave_treated)
        estimates.append(fit.estimate)
        cohort_ses.append(_jackknife_se(np.concatenate([leave_control, leave_treated])))
    if not usable:
        return undefined, np.array(cohort_ses), ("SDID: jackknife SE of the average not defined (a cohort has one "
                                                 "treated unit or one control with weight); use the placebo SE.")
    estimates = np.array(estimates)
    full_w = sizes * post_periods
    # a never-treated unit left out: every cohort re-estimated, the cohort weights unchanged (both conventions)
    control_draws = [full_w @ np.array([terms[j] for terms in control_terms]) / full_w.sum() for j in range(n_never)]
    draws = {convention: list(control_draws) for convention in REPLICATE_COHORT_WEIGHTS}
    for a, size in enumerate(sizes):  # a treated unit of cohort a left out
        remaining = sizes.astype(float).copy()
        remaining[a] -= 1
        weights = {"resampled": remaining * post_periods, "fixed": full_w}
        for value in treated_sums[a]:
            est = estimates.copy()
            est[a] = value
            for convention, w in weights.items():
                draws[convention].append(w @ est / w.sum())
    if not all(np.isfinite(d).all() for d in draws.values()):  # a control carrying all the weight of a cohort
        return undefined, np.array(cohort_ses), "SDID: jackknife SE not defined (a control carries all the weight)."
    return ({convention: _jackknife_se(np.array(d)) for convention, d in draws.items()}, np.array(cohort_ses), None)


def _staggered_bootstrap(fits: list[SdidFit], blocks: list[np.ndarray], sizes: np.ndarray, post_periods: np.ndarray,
                         replications: int, seed: int) -> tuple[dict[str, float], np.ndarray, int]:
    """Unit bootstrap SEs of the average under both replicate cohort-weight conventions and of each cohort, every
    cohort re-estimated from its fitted weights, as synthdid's bootstrap; returns the SEs by convention, the cohort
    SEs and how many of the resampled convention's draws miss a cohort.

    Units (never-treated and the cohorts') are drawn with replacement from one seeded stream; both conventions take
    their draws from it in order, and a draw used by both is estimated once:

    - ``resampled``: Stata ``sdid``'s rule -- a draw is redrawn only when it has no never-treated unit or no treated
      unit (so also when it misses every unit of the only cohort); a cohort missing from a kept draw is not estimated
      in it and weighs 0 in its average (its drawn size is 0). The first ``replications`` such draws.
    - ``fixed``: the sample's cohort weights average every cohort's estimate, so a draw missing a cohort has no
      fixed-weight average; it is redrawn (renormalising the weights over the cohorts present would let them vary
      by draw, the variation this convention leaves out). The first ``replications`` draws containing every cohort:
      the draws the resampled convention uses minus those missing a cohort, then the stream's next complete draws.

    A cohort's own SE involves no cohort weights and follows Stata ``sdid`` under both conventions: from the
    resampled convention's draws that contain the cohort (sqrt((n-1)/n) x their sd; NaN below two such draws).
    The two conventions use the same draws when no draw misses a cohort (always with one cohort).
    """
    n_never = fits[0].N0
    labels = np.concatenate([np.full(n_never, -1)] + [np.full(size, a) for a, size in enumerate(sizes)])
    rows = np.concatenate([np.arange(n_never)] + [n_never + np.arange(size) for size in sizes])
    rng = np.random.default_rng(seed)
    resampled_draws, resampled_counts, fixed_draws = [], [], []
    while len(fixed_draws) < replications:  # complete draws are also resampled draws: this one ends last
        ind = rng.integers(0, len(labels), len(labels))
        drawn = labels[ind]
        counts = np.array([(drawn == a).sum() for a in range(len(sizes))], dtype=float)
        controls = np.sort(rows[ind[drawn == -1]])
        if len(controls) == 0 or counts.sum() == 0:  # redrawn under both conventions (sdid.ado's rule)
            continue
        for_resampled = len(resampled_draws) < replications
        for_fixed = bool((counts > 0).all())
        if not (for_resampled or for_fixed):
            continue
        est = np.zeros(len(sizes))  # a missing cohort's 0 is never used: its weight is 0, its SE skips the draw
        for a, (fit, block) in enumerate(zip(fits, blocks)):
            if counts[a] > 0:
                treated = np.sort(rows[ind[drawn == a]])
                est[a] = _refit(fit, np.vstack([block[controls], block[treated]]), controls, len(controls))
        if for_resampled:
            resampled_draws.append(est)
            resampled_counts.append(counts)
        if for_fixed:
            fixed_draws.append(est)
    resampled_draws, resampled_counts = np.array(resampled_draws), np.array(resampled_counts)
    fixed_draws = np.array(fixed_draws)
    present = resampled_counts > 0
    cohort_ses = np.array([_replicate_se(resampled_draws[present[:, a], a]) if present[:, a].sum() >= 2 else np.nan
                           for a in range(len(sizes))])
    ses = {}
    for convention, draws, drawn_sizes in (
            ("resampled", resampled_draws, resampled_counts),  # each draw's cohorts weighted by their drawn sizes
            ("fixed", fixed_draws, np.broadcast_to(sizes.astype(float), fixed_draws.shape))):  # the sample's sizes
        weights = drawn_sizes * post_periods
        ses[convention] = _replicate_se((draws * (weights / weights.sum(axis=1, keepdims=True))).sum(axis=1))
    return ses, cohort_ses, int((~present).any(axis=1).sum())
