"""de Chaisemartin & D'Haultfoeuille: the TWFE weights diagnostic and the ``did_multiplegt_dyn`` event study.

**twowayfeweights** (de Chaisemartin & D'Haultfoeuille 2020, AER, Theorem 1 and Corollary 1; Stata/R
``twowayfeweights``, type ``feTR``). Under parallel trends the TWFE coefficient of ``Y ~ D | unit + time``
equals a weighted sum of the treated (g,t) cells' average effects, with weights proportional to the residual
of D on the fixed effects (and controls). Reported: the numbers and sums of positive and negative weights and
the two sensitivity measures, ``sigma_fe`` = |beta| / sd(weights) (the smallest standard deviation of the
cell effects compatible with beta and an average effect of zero) and ``sigma_fe_sign`` (the smallest one
compatible with every cell effect having the sign opposite to beta; only when some weights are negative).

**did_multiplegt_dyn** (de Chaisemartin & D'Haultfoeuille 2024, REStat, "Difference-in-differences
estimators of intertemporal treatment effects"), for a binary treatment, absorbing or not. A group's first
treatment change is at F_g; effect l compares its outcome change from F_g-1 to F_g-1+l with the change of
the groups with the same period-one treatment whose treatment has not changed yet at F_g-1+l (not-yet
switchers, including never switchers), averaged over switchers with every switcher weighted equally;
switchers out (1 -> 0) enter with the sign flipped, and effect l pools switchers in and out by their counts.
Placebo l is the same comparison from F_g-1 back to F_g-1-l, over the same switchers and controls.
Normalised effects divide effect l by the switchers' average number of treated periods among their first l
(for an absorbing treatment: l). Standard errors: the authors' influence-function variance, each group's
contribution demeaned within its cohort (switchers: same baseline treatment and switch date; controls: same
baseline treatment and period) with the cohort's sqrt(n/(n-1)) correction, summed within clusters when a
cluster is given -- the conservative default of the authors' Stata/Python ``did_multiplegt_dyn``
(checked against py_did_multiplegt_dyn 0.1.9, the authors' Python port). The joint placebo test is the
Wald test of all placebos being zero with their estimated covariance. The average total effect is the
authors' ``Average_Total_Effect``: the effects weighted by their numbers of switchers, per unit of the
switchers' treatment change (for an absorbing treatment, the switcher-weighted mean of the effects). The authors'
``weight`` option (cell weights N_gt on a unit-period panel) is implemented and checked against their port;
controls, ``trends_lin`` and non-binary treatments are not implemented here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.within import FixedEffectPartialler
from pilotdid.results.protocol import Result, event_time_plot, fill_normal_tests, tidy_frame

#: twowayfeweights sets weights smaller than this to zero (Stata's ``e(LIMIT_SENSITIVITY)`` logic).
ZERO_WEIGHT = 1e-10


# --------------------------------------------------------------------------------------------- TWFE weights
@dataclass
class TwfeWeights:
    """The (g,t) weights of the TWFE coefficient and their summary (twowayfeweights ``feTR``)."""

    beta: float
    weights: pd.DataFrame  # unit, time, weight (treated cells; zero weights kept)
    n_positive: int
    n_negative: int
    sum_positive: float
    sum_negative: float
    treated_cells: int
    sigma_fe: float
    sigma_fe_sign: float | None

    def summary(self) -> dict:
        return {"beta": self.beta, "n_positive": self.n_positive, "n_negative": self.n_negative,
                "sum_positive": self.sum_positive, "sum_negative": self.sum_negative,
                "treated_cells": self.treated_cells, "sigma_fe": self.sigma_fe, "sigma_fe_sign": self.sigma_fe_sign}


def twfe_weights(panel: pd.DataFrame, *, outcome: str, unit: str, time: str, treatment: str,
                 controls: list[str] | None = None, weight: str | None = None) -> TwfeWeights:
    """twowayfeweights ``feTR``: the weights the TWFE coefficient puts on each treated cell's effect.

    One observation per (g,t) cell is assumed (a panel); ``weight`` are analytic weights (Stata ``aw``).
    """
    controls = list(controls or [])
    cols = [outcome, unit, time, treatment, *controls] + ([weight] if weight else [])
    df = panel[cols].dropna()
    if weight:  # a zero-weight cell is outside the weighted regression (as fixest and the TWFE fit drop it)
        df = df.loc[df[weight] > 0]
    if df.duplicated([unit, time]).any():
        raise PilotdidInputError("twowayfeweights needs one row per unit and period", where="dcdh.twfe_weights",
                                 fix="aggregate the data to unit-period cells first")
    g = pd.factorize(df[unit], sort=True)[0]
    t = pd.factorize(df[time], sort=True)[0]
    w = df[weight].to_numpy(float) if weight else np.ones(len(df))
    y = df[outcome].to_numpy(float)
    d = df[treatment].to_numpy(float)
    X = df[controls].to_numpy(float) if controls else np.empty((len(df), 0))
    demeaned = FixedEffectPartialler([g, t], weights=w if weight else None).demean(np.column_stack([d, y, X]))
    d_til, y_til, X_til = demeaned[:, 0], demeaned[:, 1], demeaned[:, 2:]
    if X_til.shape[1]:  # residual of D on the fixed effects and the controls (Frisch-Waugh-Lovell)
        wx = X_til * w[:, None]
        coef = np.linalg.lstsq(wx.T @ X_til, wx.T @ d_til, rcond=None)[0]
        eps = d_til - X_til @ coef
    else:
        eps = d_til
    beta = float(np.sum(w * eps * y) / np.sum(w * eps * d))
    share = w / w.sum()  # N_gt / N
    mean_d = float(share @ d)
    W = eps * mean_d / float(share @ (eps * d))  # the weight relative to 1 (its treated-cell mean is 1)
    nat = share * d / mean_d  # N_gt / N_1 on treated cells, 0 elsewhere
    weight_gt = W * nat
    weight_gt[np.abs(weight_gt) < ZERO_WEIGHT] = 0.0
    treated = d != 0
    pos, neg = weight_gt > 0, weight_gt < 0
    # Stata's ``summarize [aw=]`` standard deviation: the weighted variance times n/(n-1), n treated cells
    n_treated = int(treated.sum())
    W1, nat1 = W[treated], nat[treated]
    var = nat1 @ (W1 - nat1 @ W1 / nat1.sum()) ** 2 / nat1.sum() * n_treated / (n_treated - 1)
    sd = float(np.sqrt(var))
    sum_neg = float(weight_gt[neg].sum())
    return TwfeWeights(
        beta=beta,
        weights=pd.DataFrame({unit: df[unit].to_numpy()[treated], time: df[time].to_numpy()[treated],
                              "weight": weight_gt[treated]}),
        n_positive=int(pos.sum()), n_negative=int(neg.sum()), sum_positive=float(weight_gt[pos].sum()),
        sum_negative=sum_neg, treated_cells=int(treated.sum()),
        sigma_fe=abs(beta) / sd if sd > 0 else float("nan"),
        sigma_fe_sign=_sigma_opposite_sign(beta, W, nat, weight_gt, g, t) if sum_neg < 0 else None)


def _sigma_opposite_sign(beta, W, nat, weight_gt, g, t) -> float | None:
    """Corollary 1(b): the smallest sd of cell effects under which they can all have the sign opposite to beta.

    Cells sorted by W descending (ties: unit, then period, ascending, as Stata's ``gsort -W G T``); P, S, T
    accumulate N_gt/N_1, the weights and N_gt/N_1 * W^2 over the cells with W at or below each cell's.
    """
    k = weight_gt != 0
    W, nat, weight_gt, g, t = W[k], nat[k], weight_gt[k], g[k], t[k]
    n = len(W)
    if n == 0:
        return None
    asc = np.lexsort((-t, -g, W))  # Stata: gsort W -G -T
    P, S, T = np.empty(n), np.empty(n), np.empty(n)
    P[asc], S[asc], T[asc] = np.cumsum(nat[asc]), np.cumsum(weight_gt[asc]), np.cumsum((nat * W ** 2)[asc])
    desc = np.lexsort((t, g, -W))
    W, P, S, T = W[desc], P[desc], S[desc], T[desc]
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(P == 1, np.nan, S / (1 - P))
        inner = np.where(P == 1, np.nan, T + S ** 2 / (1 - P))
    crossed = np.isnan(q) | (W < -q)
    crossed[0] = False
    crossed = np.maximum.accumulate(crossed)
    count = int(crossed.sum())
    if count == 0:
        return None
    value = inner[n - count]
    return float(abs(beta) / np.sqrt(value)) if np.isfinite(value) and value > 0 else None


# ------------------------------------------------------------------------------------ did_multiplegt_dyn
@dataclass
class DynResult(Result):
    """did_multiplegt_dyn effects and placebos (non-normalised and normalised) and the joint placebo test."""

    table: pd.DataFrame  # kind (effect/placebo), l, coef, se, ci_low, ci_high, coef_norm, se_norm, n_switchers, n_obs
    p_joint_placebo: float | None
    average_effect: float | None
    average_effect_se: float | None
    n_groups: int
    cluster: str | None
    notes: list[str] = field(default_factory=list)

    title = "did_multiplegt_dyn (de Chaisemartin-D'Haultfoeuille)"

    def tidy(self) -> pd.DataFrame:
        """Effects and placebos at their event times (``kind`` = event_time), then the average total effect."""
        rows = [{**r, "term": f"rel_{r['rel_time']}", "estimate": r["coef"], "kind": "event_time"}
                for r in self.event_rows()]
        if self.average_effect is not None:
            se = self.average_effect_se
            rows.append({"term": "average_total_effect", "estimate": self.average_effect, "se": se, "kind": "aggregate",
                         "ci_low": None if se is None else self.average_effect - 1.959963984540054 * se,
                         "ci_high": None if se is None else self.average_effect + 1.959963984540054 * se})
        return fill_normal_tests(tidy_frame([{k: v for k, v in r.items() if k not in ("coef", "estimator")}
                                             for r in rows]))

    def to_dict(self) -> dict:
        """``{"event_study": [...], "dcdh": {...}}`` as the staggered analysis writes them."""
        from pilotdid.results.schema import EVENT_STUDY_KEYS, clean_json, normalise_row

        return {"event_study": [normalise_row(r, EVENT_STUDY_KEYS) for r in self.event_rows()],
                "dcdh": clean_json({"p_joint_placebo": self.p_joint_placebo, "effects": self.table.to_dict("records"),
                                    "average_effect": self.average_effect, "average_effect_se": self.average_effect_se})}

    @property
    def conventions(self) -> dict:
        return {"controls": "not-yet-switched units with the same initial treatment", "cluster": self.cluster or "group",
                "p_joint_placebo": self.p_joint_placebo}

    def plot(self, ax=None, **kwargs):
        tidy = self.tidy()
        return event_time_plot(tidy[tidy["kind"] == "event_time"], self.title, ax=ax)

    def event_rows(self, estimator: str = "dcdh") -> list[dict]:
        """results.json event-study rows: effect l at event time l-1 (the l-th treated period), placebo l at -l-1,
        the reference period -1 (F_g - 1) fixed at zero."""
        rows = [{"estimator": estimator, "rel_time": -1, "coef": 0.0, "se": None, "ci_low": None, "ci_high": None}]
        for r in self.table.itertuples():
            rel = int(r.l) - 1 if r.kind == "effect" else -int(r.l) - 1
            rows.append({"estimator": estimator, "rel_time": rel, "coef": float(r.coef), "se": _num(r.se),
                         "ci_low": _num(r.ci_low), "ci_high": _num(r.ci_high)})
        return sorted(rows, key=lambda r: r["rel_time"])


def _num(x):
    return None if x is None or not np.isfinite(x) else float(x)


def _wide(panel, outcome, unit, time, treatment, cluster, weight=None):
    df = panel[list(dict.fromkeys([unit, time, outcome, treatment] + ([cluster] if cluster else [])
                                  + ([weight] if weight else [])))]
    df = df.dropna(subset=[treatment])
    if df.duplicated([unit, time]).any():
        raise PilotdidInputError("did_multiplegt_dyn needs one row per unit and period", where="dcdh.did_multiplegt_dyn",
                                 fix="aggregate the data to unit-period cells first (weights: the cell's total)")
    units, ui = np.unique(df[unit].to_numpy(), return_inverse=True)
    times, ti = np.unique(df[time].to_numpy(), return_inverse=True)
    Y = np.full((len(units), len(times)), np.nan)
    D = np.full((len(units), len(times)), np.nan)
    N = np.zeros((len(units), len(times)))  # the cell weights N_gt (1 per observed cell when unweighted)
    Y[ui, ti] = df[outcome].to_numpy(float)
    D[ui, ti] = df[treatment].to_numpy(float)
    N[ui, ti] = df[weight].to_numpy(float) if weight else 1.0
    if weight:
        given = df[weight].to_numpy(float)
        bad = ~(np.isfinite(given) & (given >= 0))
        if bad.any():
            raise PilotdidInputError(f"weight '{weight}' is not a non-negative number at row {int(np.flatnonzero(bad)[0]) + 1}",
                                     where="dcdh.did_multiplegt_dyn", fix="give every cell a non-negative weight")
    cl = None
    if cluster:
        per_unit = df.groupby(unit)[cluster].nunique()
        if (per_unit > 1).any():
            raise PilotdidInputError(f"cluster '{cluster}' varies within unit {per_unit.index[per_unit > 1][0]}",
                                     where="dcdh.did_multiplegt_dyn", fix="groups must be nested in clusters")
        cl = pd.factorize(df.groupby(unit)[cluster].first().reindex(units).to_numpy(), sort=True)[0]
    return units, times, Y, D, N, cl


def _cohort_demeaned(values, member, keys, cluster_of_row, cell_weight):
    """E_hat (the cohort mean of ``values`` among ``member`` rows, weighted by the cell weights N_gt) and n
    (cohort size: rows, or clusters, of non-zero weight -- counted, not weighted, as the authors' DOF correction)."""
    mean = np.full(values.shape, np.nan)
    n = np.full(values.shape, np.nan)
    idx = np.flatnonzero(member)
    if not len(idx):
        return mean, n
    key = pd.MultiIndex.from_arrays([k[idx] for k in keys])
    codes, uniq = pd.factorize(key)
    sums = np.bincount(codes, weights=values[idx] * cell_weight[idx])
    weighted = cell_weight[idx] != 0
    counts = np.bincount(codes, weights=weighted)
    with np.errstate(invalid="ignore", divide="ignore"):  # a cohort of zero-weight cells has no mean (nor a term)
        mean[idx] = (sums / np.bincount(codes, weights=cell_weight[idx]))[codes]
    if cluster_of_row is None:
        n[idx] = counts[codes]
    else:
        pairs = pd.DataFrame({"c": codes[weighted], "k": cluster_of_row[idx][weighted]}).drop_duplicates()
        n_cl = pairs.groupby("c").size().reindex(range(len(uniq)), fill_value=0).to_numpy()
        n[idx] = n_cl[codes]
    return mean, n


def _one_side(Y, D, N, d_sq, F, T_g, S, cl, l, increase, placebo):
    """U_g (point estimate contributions) and U_g^var (variance contributions) of effect/placebo ``l`` for
    switchers in (``increase=1``) or out (0); both scaled by G / N_l. ``N`` holds the cell weights N_gt: every
    count below is a sum of them (the authors' ``weight`` option; all ones when unweighted). Returns
    (U, U_var, N_l, delta_l, dose_l, switchers): N_l the switchers' total weight, delta_l their weighted mean
    treatment change summed over their first l treated periods (normalisation), dose_l the weighted sum of their
    treatment change at F_g-1+l (the average total effect's denominator), switchers their number."""
    G, T = Y.shape
    t_idx = np.arange(1, T + 1)[None, :]  # 1-based periods
    diff = np.full_like(Y, np.nan)
    diff[:, l:] = Y[:, l:] - Y[:, :-l]
    never = (F[:, None] > t_idx) & ~np.isnan(diff)
    switch_at = F - 1 + l
    is_switcher = (S == increase) & (F <= T_g) & (switch_at <= T_g)
    dist = (t_idx == switch_at[:, None]) & is_switcher[:, None] & ~np.isnan(diff)
    if placebo:
        diff_pl = np.full_like(Y, np.nan)
        if 2 * l < T:
            diff_pl[:, 2 * l:] = Y[:, :T - 2 * l] - Y[:, l:T - l]
        never = never & ~np.isnan(diff_pl)
        diff = diff_pl
        dist = dist & ~np.isnan(diff)
    in_window = (t_idx >= l + 1) & (t_idx <= T_g[:, None]) & (l <= T_g - 1)[:, None]
    # switchers and controls counted per (baseline treatment, period)
    n_ctrl = np.zeros_like(Y)
    n_sw = np.zeros_like(Y)
    for d0 in np.unique(d_sq):
        rows = d_sq == d0
        n_ctrl[rows] = (never * N)[rows].sum(axis=0)
        n_sw[rows] = (dist * N)[rows].sum(axis=0)
    if placebo:  # a placebo switcher needs a control with a placebo difference
        dist = dist & (n_ctrl > 0)
        for d0 in np.unique(d_sq):
            rows = d_sq == d0
            n_sw[rows] = (dist * N)[rows].sum(axis=0)
    switchers = int(dist.sum())
    N_l = float((dist * N).sum())
    if switchers == 0:
        return np.zeros(G), np.zeros(G), 0.0, np.nan, 0.0, 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(n_ctrl > 0, n_sw / n_ctrl, 0.0) * never
    coefw = (dist - ratio) * in_window * N * (G / N_l)
    diff0 = np.nan_to_num(diff)
    U = (coefw * diff0).sum(axis=1)
    # --- variance: demean within cohorts (the authors' conservative default) ---
    any_sw_t = dist.sum(axis=0)[None, :] > 0
    ctrl = never & any_sw_t & np.broadcast_to(np.ones_like(Y, bool), Y.shape)
    rows_g = np.broadcast_to(np.arange(G)[:, None], Y.shape)
    periods = np.broadcast_to(t_idx, Y.shape)
    dsq_b = np.broadcast_to(d_sq[:, None], Y.shape)
    F_b = np.broadcast_to(F[:, None], Y.shape)
    d_fg = np.array([D[g, F[g] - 1] if F[g] <= T else np.nan for g in range(G)])
    dfg_b = np.broadcast_to(d_fg[:, None], Y.shape)
    cl_b = None if cl is None else np.broadcast_to(cl[:, None], Y.shape).ravel()
    flat = lambda a: np.asarray(a).ravel()  # noqa: E731
    v, cell_weight = flat(diff0), flat(N)
    mean_s, n_s = _cohort_demeaned(v, flat(dist), [flat(dsq_b), flat(F_b), flat(dfg_b)], cl_b, cell_weight)
    mean_ns, n_ns = _cohort_demeaned(v, flat(ctrl), [flat(dsq_b), flat(periods)], cl_b, cell_weight)
    mean_nss, n_nss = _cohort_demeaned(v, flat(dist | ctrl), [flat(dsq_b), flat(periods)], cl_b, cell_weight)
    e_hat = np.full(v.shape, np.nan)
    dof = np.full(v.shape, np.nan)
    sw, co = flat(dist), flat(ctrl)
    use_s = sw & (n_s >= 2)
    e_hat[use_s], dof[use_s] = mean_s[use_s], np.sqrt(n_s[use_s] / (n_s[use_s] - 1))
    use_ns = co & (n_ns >= 2)
    e_hat[use_ns], dof[use_ns] = mean_ns[use_ns], np.sqrt(n_ns[use_ns] / (n_ns[use_ns] - 1))
    use_nss = ((sw & (n_s == 1)) | (co & (n_ns == 1))) & (n_nss >= 2)
    e_hat[use_nss], dof[use_nss] = mean_nss[use_nss], np.sqrt(n_nss[use_nss] / (n_nss[use_nss] - 1))
    lone_ctrl = co & (n_ns == 1) & ~(n_nss >= 2)  # a lone control is not demeaned (Stata: E_hat 0, DOF 1)
    e_hat[lone_ctrl], dof[lone_ctrl] = 0.0, 1.0
    term = flat(coefw) * dof * (v - e_hat)
    U_var = np.bincount(flat(rows_g), weights=np.nan_to_num(term), minlength=G)
    # normalisation: the switchers' treatment change summed over their first l treated periods
    total_dose = np.zeros(G)
    for g in np.flatnonzero(dist.any(axis=1)):
        total_dose[g] = np.nansum(np.abs(D[g, F[g] - 1:F[g] - 1 + l] - d_sq[g]))
    movers = dist.any(axis=1)
    mover_weight = (dist * N).sum(axis=1)  # N_g,F_g-1+l
    delta = float(mover_weight[movers] @ total_dose[movers] / N_l)
    dose_now = float(sum(mover_weight[g] * abs(D[g, F[g] - 2 + l] - d_sq[g]) for g in np.flatnonzero(movers)))
    sign = 1.0 if increase == 1 else -1.0
    return sign * U, sign * U_var, N_l, delta, dose_now, switchers


def did_multiplegt_dyn(panel: pd.DataFrame, *, outcome: str, unit: str, time: str, treatment: str,
                       effects: int = 5, placebo: int = 3, cluster: str | None = None,
                       alpha: float = 0.05, weight: str | None = None) -> DynResult:
    """did_multiplegt_dyn for a binary treatment: ``effects`` effects and ``placebo`` placebos (as many as the
    data allow), non-normalised and normalised, standard errors clustered by ``cluster`` (default: by group).

    ``weight``: the authors' ``weight`` option on a unit-period panel -- each cell's weight N_gt replaces its
    count of one wherever the estimator counts cells (switchers weighted by N_g,F_g-1+l, controls' mean change
    weighted by N_gt, cohort means of the variance weighted; the DOF corrections still count cells or clusters,
    those of non-zero weight); analytic weights, so scaling them all changes nothing. A zero-weight cell keeps its
    place in the panel (its treatment still dates the switch) but adds nothing, as in the authors' command."""
    units, times, Y, D, N, cl = _wide(panel, outcome, unit, time, treatment, cluster, weight)
    notes = []
    values = np.unique(D[~np.isnan(D)])
    if not set(values.tolist()) <= {0.0, 1.0}:
        raise PilotdidInputError(f"treatment '{treatment}' is not binary (values {values[:5].tolist()})",
                                 where="dcdh.did_multiplegt_dyn", fix="this implementation takes a 0/1 treatment")
    G, T = Y.shape
    first_obs = np.argmax(~np.isnan(D), axis=1)
    d_sq = D[np.arange(G), first_obs]
    changed = (D != d_sq[:, None]) & ~np.isnan(D)
    F = np.where(changed.any(axis=1), np.argmax(changed, axis=1) + 1, T + 1)
    T_g = np.zeros(G, dtype=int)
    for d0 in np.unique(d_sq):
        rows = d_sq == d0
        T_g[rows] = F[rows].max() - 1
    post_mean = np.array([np.nanmean(D[g, F[g] - 1:T_g[g]]) if F[g] <= T_g[g] else np.nan for g in range(G)])
    S = np.where(post_mean > d_sq, 1, 0)
    if np.any(np.isnan(Y) & ~np.isnan(D)):
        notes.append("Cells with a missing outcome are left out of the differences that need them.")
    z = stats.norm.ppf(1 - alpha / 2)
    rows, U_pl_var, U_eff = [], [], []
    for kind, count in (("effect", effects), ("placebo", placebo)):
        for l in range(1, count + 1):
            sides = [_one_side(Y, D, N, d_sq, F, T_g, S, cl, l, inc, kind == "placebo") for inc in (1, 0)]
            n1, n0 = sides[0][2], sides[1][2]
            if sides[0][5] + sides[1][5] == 0:
                continue
            w1 = n1 / (n1 + n0)
            U = w1 * sides[0][0] + (1 - w1) * sides[1][0]
            U_var = w1 * sides[0][1] + (1 - w1) * sides[1][1]
            if cl is not None:
                U_var = np.bincount(cl, weights=U_var)
            coef = U.sum() / G
            se = float(np.sqrt((U_var ** 2).sum()) / G)
            deltas = [s[3] for s in sides if s[2]]
            delta = float(np.average(deltas, weights=[s[2] for s in sides if s[2]]))
            if kind == "placebo":
                U_pl_var.append(U_var)
            else:
                U_eff.append((n1 + n0, U, U_var, sides[0][4] + sides[1][4]))
            rows.append({"kind": kind, "l": l, "coef": coef, "se": se, "ci_low": coef - z * se,
                         "ci_high": coef + z * se, "coef_norm": coef / delta, "se_norm": se / delta,
                         "n_switchers": sides[0][5] + sides[1][5]})
    table = pd.DataFrame(rows, columns=["kind", "l", "coef", "se", "ci_low", "ci_high", "coef_norm", "se_norm",
                                        "n_switchers"])
    p_joint = None
    if len(U_pl_var) >= 2:
        M = np.column_stack(U_pl_var)
        V = M.T @ M / G ** 2
        b = table.loc[table.kind == "placebo", "coef"].to_numpy()
        stat = float(b @ np.linalg.solve(V, b))
        p_joint = float(stats.chi2.sf(stat, len(b)))
    average = average_se = None
    if U_eff:  # the authors' average total effect: effects weighted by their numbers of switchers, per unit of
        # the switchers' treatment change at each horizon (for an absorbing treatment: the switcher-weighted mean)
        dose = sum(d for *_, d in U_eff)
        average = float(sum(n * U.sum() for n, U, _, _ in U_eff) / dose / G)
        average_se = float(np.sqrt((sum(n * V for n, _, V, _ in U_eff) ** 2).sum()) / dose / G)
    return DynResult(table=table, p_joint_placebo=p_joint, average_effect=average, average_effect_se=average_se, n_groups=G,
                     cluster=cluster, notes=notes)
