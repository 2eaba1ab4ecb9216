"""Monte Carlo validation of pilotdid's estimators on SYNTHETIC staggered panels with a known truth.

Usage (from the repository root)::

    python validation/monte_carlo.py                       # the full run: 200 reps per DGP (+600 placebo-only), ~8-12 min on one core
    python validation/monte_carlo.py --reps 20 --out /tmp/mc   # a quick look
    python validation/monte_carlo.py --check-reps 1000      # + 1000 replications per DGP of stacked and SDID
    python validation/monte_carlo.py --size-reps 1000       # + SDID with cohort sizes drawn at random
    python validation/monte_carlo.py --jobs 2              # spread the replications over 2 processes
    python validation/monte_carlo.py --scheduler dask --jobs 4             # a local Dask cluster, 4 workers
    python validation/monte_carlo.py --scheduler tcp://HEAD:8786           # an existing Dask cluster (README)

The replications run through ``pilotdid.parallel.map_tasks``, the backend of the placebo, the wild bootstrap and the
specification curve: every replication carries its own seed (SeedSequence of seed, DGP, replication, stream) and runs
with one BLAS thread, so the output is the same bytes on every backend and any number of workers.

It writes ``OUT/monte_carlo.md`` (the summary table and the design), ``OUT/monte_carlo.csv`` (the summary) and
``OUT/monte_carlo_reps.csv`` (every replication), with ``--check-reps`` also ``OUT/monte_carlo_check.csv`` and
``OUT/monte_carlo_check_reps.csv``; default ``OUT = validation/results``.

Design (every panel is synthetic; nothing here touches real data)
-------------------------------------------------------------------
150 units observed 2011-2020 (balanced). Cohorts of fixed size -- 30 units adopt in 2014, 30 in 2016, 30 in 2018,
60 never -- assigned to units at random in every replication, so the true ATT is a known constant of each DGP.
y_it = a_i + l_t + tau_it + u_it with a_i ~ N(0, 1), l_t a Gaussian random walk (step sd 0.2), and u_it an AR(1)
within unit (rho 0.5, innovation sd 0.3): serial correlation that only unit-clustered SEs handle.

* ``null``: tau = 0.
* ``homogeneous``: tau = 0.3 for every treated unit-period.
* ``small``: tau = 0.1 for every treated unit-period (about 2.3 TWFE standard errors: where the placebo test's
  power is informative rather than 1).
* ``dynamic``: tau(g, e) = 0.1 * w_g * (e + 1) for event time e >= 0, with w = 2, 1, 0.5 for the 2014, 2016, 2018
  cohorts: effects grow with exposure and are larger for early cohorts, the case in which TWFE's comparisons of
  late adopters with already-treated units bias it (Goodman-Bacon 2021).

Target: the overall ATT, the mean of tau over treated unit-periods (= the cohort-size weighted average of the
post-treatment ATT(g,t), the "simple" aggregation of Callaway-Sant'Anna, and the estimand of SA and imputation).

Estimators (all through pilotdid's own functions): TWFE (``fit_twfe``, unit and year FE, CRV1 by unit, preset
``lsdv``), Callaway-Sant'Anna (``cs.att_gt`` never-treated controls, ``cs.aggregate(..., "simple")``, analytic
influence-function SEs), Sun-Abraham (``sa.sun_abraham``, clustered by unit), the imputation estimator of
Borusyak-Jaravel-Spiess (``bjs.imputation``, clustered by unit), de Chaisemartin-D'Haultfoeuille
(``dcdh.did_multiplegt_dyn``, all 9 effects: its average total effect is the overall ATT), extended TWFE
(``etwfe``, not-yet-treated controls, simple aggregate) and stacked DID with Wing-Freedman-Hollingsworth weights
(``stacked.stacked_did``, window [-3, 2], the weighted stacked TWFE coefficient, CRV1 by unit across
sub-experiments; its target is the trimmed aggregate ATT, the mean effect at event times 0-2) and synthetic DID
(``sdid.staggered_sdid``: cohort by cohort against the never-treated units, averaged by treated unit-periods as in
the CBEC study, so its target is the overall ATT). SDID's placebo SE needs more never-treated units (60) than
treated ones (90), so it gets synthdid's jackknife (unit left out, weights fixed): ``sdid`` re-weights the cohorts
by their remaining treated unit-periods in each replicate (Stata ``sdid``; the SE includes the variation of cohort
sizes), ``sdid_fixed`` keeps the sample's cohort weights (the SE given the cohort sizes, which this design fixes).
95% CIs as each estimator reports them (normal, except TWFE's t(G-1)).

Coverage check (``--check-reps N``): the cheap new estimators (``CHECK_ESTIMATORS``) on N further replications per
DGP (their own seed stream), because a coverage share from 200 replications has a Monte Carlo SE of 0.015 and
cannot tell 0.925 from 0.95. Issue 20's coverage target is judged on every replication run (main + check), with the
null, homogeneous and small designs pooled: a constant effect moves every estimate by exactly that constant and leaves
its SE unchanged (tests/montecarlo checks it for every estimator), so those three designs measure one coverage
probability on independent panels (``pooled_coverage``; ``OUT/monte_carlo_pooled.csv``). ``--from-csv`` re-renders
the report from the stored replications.

Cohort-size experiment (``--size-reps N``): the dynamic design with cohort membership drawn at random (each unit
joins 2014/2016/2018 with probability 0.2, never 0.4; own seed stream 3), SDID's jackknife under both cohort-weight
conventions, each scored against the sample ATT (which moves with the drawn sizes) and the population ATT (cohorts at
their expected shares): it shows which estimand each convention's SE belongs to.

Placebo test: ``staggered_placebo`` (permute_cohorts) of the TWFE coefficient, two-sided plus-one p-value; its
rejection rate at 5% is the size under ``null`` and the power under the other DGPs. Because it is cheap, it is run
on ``--placebo-reps`` extra replications per DGP (default 3 x reps) besides the main ones, so the size is measured
more precisely than a 200-rep share allows.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

N_UNITS = 150
YEARS = np.arange(2011, 2021)
COHORT_SIZES = {2014: 30, 2016: 30, 2018: 30}  # the rest (60) never treated
DYNAMIC_WEIGHTS = {2014: 2.0, 2016: 1.0, 2018: 0.5}
ESTIMATORS = ("twfe", "cs", "sa", "bjs", "dcdh", "etwfe", "stacked", "sdid", "sdid_fixed")
ROBUST = ("cs", "sa", "bjs", "dcdh", "etwfe", "stacked", "sdid", "sdid_fixed")
NEW = ("dcdh", "etwfe", "stacked", "sdid", "sdid_fixed")  # issue 20's estimators: coverage target 0.93-0.97
CHECK_ESTIMATORS = ("stacked", "sdid", "sdid_fixed")  # cheap enough for the --check-reps replications
STACKED_WINDOW = (-3, 2)  # every cohort's window fits in 2011-2020
DEFAULT_REPS = 200
DEFAULT_SEED = 20260101
BLOCK_SIZE = 4  # replications per task on the parallel backends


@dataclass(frozen=True)
class DGP:
    """A data-generating process: the treatment effect of cohort g at event time e (e >= 0)."""

    name: str
    description: str
    effect: Callable[[np.ndarray, np.ndarray], np.ndarray]


DGPS = {
    "null": DGP("null", "no effect", lambda g, e: np.zeros_like(e, dtype=float)),
    "homogeneous": DGP("homogeneous", "constant effect 0.3", lambda g, e: np.full(e.shape, 0.3)),
    "small": DGP("small", "constant effect 0.1 (about 2.3 TWFE standard errors: the placebo test's power)",
                 lambda g, e: np.full(e.shape, 0.1)),
    "dynamic": DGP(
        "dynamic", "0.1 x w_g x (e+1), w = 2/1/0.5 for cohorts 2014/2016/2018",
        lambda g, e: 0.1 * np.vectorize(DYNAMIC_WEIGHTS.get)(g).astype(float) * (e + 1),
    ),
}


def simulate(dgp: DGP, rng: np.random.Generator, n_units: int = N_UNITS,
             random_sizes: bool = False) -> tuple[pd.DataFrame, float]:
    """One SYNTHETIC balanced panel (unit, year, y, first_treat, did) and its true overall ATT (the mean effect over
    its treated unit-periods). ``random_sizes``: each unit joins a cohort with the design's shares (0.2 each, 0.4
    never) independently, so cohort sizes vary across replications (the cohort-size experiment)."""
    if random_sizes:
        cohorts = [*COHORT_SIZES, 0]
        shares = [k / N_UNITS for k in COHORT_SIZES.values()]
        first = rng.choice(cohorts, p=[*shares, 1 - sum(shares)], size=n_units)
    else:
        n_treated = {g: round(k * n_units / N_UNITS) for g, k in COHORT_SIZES.items()}
        first = np.zeros(n_units, dtype=int)
        first[: sum(n_treated.values())] = np.repeat(list(n_treated), list(n_treated.values()))
        rng.shuffle(first)
    n_t = len(YEARS)
    unit_fe = rng.normal(size=n_units)
    year_fe = np.cumsum(rng.normal(scale=0.2, size=n_t))
    shocks = rng.normal(scale=0.3, size=(n_units, n_t))
    u = np.empty_like(shocks)
    u[:, 0] = shocks[:, 0] / np.sqrt(1 - 0.5 ** 2)  # stationary start
    for t in range(1, n_t):
        u[:, t] = 0.5 * u[:, t - 1] + shocks[:, t]
    g = np.repeat(first[:, None], n_t, axis=1)
    e = YEARS[None, :] - g
    treated = (g > 0) & (e >= 0)
    tau = np.zeros((n_units, n_t))
    tau[treated] = dgp.effect(g[treated], e[treated])
    y = unit_fe[:, None] + year_fe[None, :] + tau + u
    panel = pd.DataFrame({
        "unit": np.repeat(np.arange(n_units), n_t), "year": np.tile(YEARS, n_units), "y": y.ravel(),
        "first_treat": g.ravel(), "did": treated.ravel().astype(float),
        "tau": tau.ravel(),  # the true effect of each cell (estimators never read it)
    })
    return panel, float(tau[treated].mean())


def population_att(dgp: DGP) -> float:
    """The overall ATT with every cohort weighted by its expected share times its post periods: the estimand of an
    SE that treats cohort sizes as random (the limit of the sample ATT when cohort membership is drawn at random)."""
    weights, effects = [], []
    for g, k in COHORT_SIZES.items():
        e = np.arange(YEARS[-1] - g + 1)
        weights.append(k * len(e))
        effects.append(float(np.mean(dgp.effect(np.full(e.shape, g), e))))
    return float(np.dot(weights, effects) / np.sum(weights))


def estimate(panel: pd.DataFrame, estimators: tuple[str, ...] = ESTIMATORS) -> dict[str, tuple[float, float, float, float]]:
    """(att, se, ci_low, ci_high) of each estimator on one panel."""
    from pilotdid.estimation.staggered import bjs, cs, dcdh, sa, sdid, stacked
    from pilotdid.estimation.staggered.etwfe import etwfe
    from pilotdid.estimation.twfe import fit_twfe

    kw = dict(outcome="y", unit="unit", time="year", first_treat="first_treat")
    z = 1.959963984540054

    def normal(att: float, se: float) -> tuple[float, float, float, float]:
        return att, se, att - z * se, att + z * se

    def twfe():
        row = fit_twfe(panel, "y", ["did"], ["unit", "year"], "unit", vcov="lsdv").term("did")
        return row["coef"], row["se"], row["ci_low"], row["ci_high"]

    def callaway_santanna():
        agg = cs.aggregate(cs.att_gt(panel, **kw, control_group="never_treated"), "simple")
        return agg.att, agg.se, agg.ci_low, agg.ci_high

    def clustered(fn):
        res = fn(panel, **kw, cluster="unit")
        return res.att, res.se, res.ci_low, res.ci_high

    def chaisemartin():
        dyn = dcdh.did_multiplegt_dyn(panel, outcome="y", unit="unit", time="year", treatment="did",
                                      effects=len(YEARS) - 1, placebo=0)
        return normal(dyn.average_effect, dyn.average_effect_se)

    def extended_twfe():
        simple = etwfe(panel, **kw).aggregates["simple"].iloc[0]
        return simple.att, simple.se, simple.ci_low, simple.ci_high

    def stacked_did():
        st = stacked.stacked_did(panel, **kw, window=STACKED_WINDOW)
        return normal(st.static_att, st.static_se)

    synthetic_fit: list = []

    def synthetic(shares: str):
        def fit():
            if not synthetic_fit:  # one fit gives the jackknife SE under both cohort-weight conventions
                synthetic_fit.append(sdid.staggered_sdid(panel, **kw, se_method="jackknife"))
            res = synthetic_fit[0]
            return normal(res.att, res.se_by_cohort_weights[shares])
        return fit

    fitters = {"twfe": twfe, "cs": callaway_santanna, "sa": lambda: clustered(sa.sun_abraham),
               "bjs": lambda: clustered(bjs.imputation), "dcdh": chaisemartin, "etwfe": extended_twfe,
               "stacked": stacked_did, "sdid": synthetic("resampled"), "sdid_fixed": synthetic("fixed")}
    return {name: fitters[name]() for name in estimators}


def estimand(panel: pd.DataFrame, estimator: str, truth: float) -> float:
    """The estimator's own target: the overall ATT, except stacked DID's trimmed aggregate ATT (the mean effect
    over the event window's post periods of the cohorts whose window fits, cohorts weighted by size)."""
    if estimator != "stacked":
        return truth
    e = panel["year"] - panel["first_treat"]
    cells = (panel["did"] == 1) & (e <= STACKED_WINDOW[1])
    return float(panel.loc[cells, "tau"].mean())


def placebo_p(panel: pd.DataFrame, draws: int, seed: int) -> float:
    """Two-sided plus-one permutation p-value of the TWFE coefficient (permute_cohorts)."""
    from pilotdid.inference.placebo import staggered_placebo

    res = staggered_placebo(panel, outcome="y", unit="unit", time="year", first_treat="first_treat", treatment="did",
                            cluster="unit", kind="permute_cohorts", draws=draws, seed=seed)
    return float(res.p_two_sided)


def _rep_seed(seed: int, dgp: str, rep: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, list(DGPS).index(dgp), rep, stream]))


def one_replication(task: tuple) -> list[dict]:
    """Rows (one per estimator, plus one for the placebo) of replication ``rep`` of DGP ``name``."""
    name, rep, seed, placebo_draws, full, n_units = task
    rng = _rep_seed(seed, name, rep, 0 if full else 1)
    panel, truth = simulate(DGPS[name], rng, n_units)
    rows = []
    if full:
        for est, (att, se, lo, hi) in estimate(panel).items():
            rows.append({"dgp": name, "rep": rep, "estimator": est, "truth": estimand(panel, est, truth),
                         "att": att, "se": se,
                         "ci_low": lo, "ci_high": hi})
    p = placebo_p(panel, placebo_draws, seed=int(rng.integers(2**31)))
    rows.append({"dgp": name, "rep": rep if full else -1 - rep, "estimator": "placebo", "truth": truth, "p": p})
    return rows


def check_replication(task: tuple) -> list[dict]:
    """Rows of replication ``rep`` of the coverage check (own seed stream 2; the estimators listed in the task)."""
    name, rep, seed, estimators, n_units = task
    panel, truth = simulate(DGPS[name], _rep_seed(seed, name, rep, 2), n_units)
    return [{"dgp": name, "rep": rep, "estimator": est, "truth": estimand(panel, est, truth), "att": att, "se": se,
             "ci_low": lo, "ci_high": hi} for est, (att, se, lo, hi) in estimate(panel, estimators).items()]


def check_block(tasks: list[tuple]) -> list[dict]:
    """The rows of several coverage-check replications (one task of the parallel backend)."""
    return [row for task in tasks for row in check_replication(task)]


SIZE_EXPERIMENT_ESTIMATORS = ("sdid", "sdid_fixed")
#: the estimand each SDID convention's SE belongs to: re-weighting the cohorts in every replicate treats cohort sizes
#: as random (population ATT), keeping the sample's weights conditions on them (sample ATT)
OWN_ESTIMAND = {"sdid": "population", "sdid_fixed": "sample"}


def size_replication(task: tuple) -> list[dict]:
    """Rows of replication ``rep`` of the cohort-size experiment (own seed stream 3): the dynamic design with cohort
    membership drawn at random, SDID's jackknife under both conventions, and both truths (the sample ATT of this
    panel and the population ATT)."""
    rep, seed, n_units = task
    dgp = DGPS["dynamic"]
    panel, sample_att = simulate(dgp, _rep_seed(seed, "dynamic", rep, 3), n_units, random_sizes=True)
    return [{"dgp": "dynamic", "sizes": "random", "rep": rep, "estimator": est, "truth": sample_att,
             "population_truth": population_att(dgp), "att": att, "se": se, "ci_low": lo, "ci_high": hi}
            for est, (att, se, lo, hi) in estimate(panel, SIZE_EXPERIMENT_ESTIMATORS).items()]


def run_size_experiment(reps: int, *, seed: int = DEFAULT_SEED, jobs: int = 1, scheduler: str | None = None,
                        n_units: int = N_UNITS, progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """``reps`` replications of the cohort-size experiment (same backends as ``run_monte_carlo``)."""
    tasks = [(r, seed, n_units) for r in range(reps)]
    return _run_blocks(size_block, tasks, jobs=jobs, scheduler=scheduler, progress=progress)


def size_block(tasks: list[tuple]) -> list[dict]:
    """The rows of several cohort-size replications (one task of the parallel backend)."""
    return [row for task in tasks for row in size_replication(task)]


def size_coverage(rows: pd.DataFrame) -> pd.DataFrame:
    """Coverage of each SDID convention of the sample ATT and of the population ATT (cohort-size experiment)."""
    out = []
    for name, g in rows.groupby("estimator", sort=True):
        row = {"estimator": name, "reps": len(g), "mean_se": g["se"].mean()}
        for label, truth in (("sample", g["truth"]), ("population", g["population_truth"])):
            row[f"sd_error_{label}"] = (g["att"] - truth).std(ddof=1)
            row[f"coverage_{label}"] = ((g["ci_low"] <= truth) & (truth <= g["ci_high"])).mean()
        out.append(row)
    return pd.DataFrame(out)


def render_sizes(coverage: pd.DataFrame) -> list[str]:
    """The cohort-size experiment's section of the report."""
    if coverage is None or coverage.empty:
        return []
    n = int(coverage["reps"].max())
    lines = [
        "",
        f"## Cohort sizes drawn at random: what each SDID convention covers ({n} replications)",
        "",
        "The dynamic design again, but every unit joins cohort 2014, 2016 or 2018 with probability 0.2 each (never "
        "treated 0.4), so cohort sizes vary across replications (own seed stream). Two estimands: the sample ATT (the "
        "mean effect over this panel's treated unit-periods, which moves with the cohort sizes) and the population "
        "ATT (cohorts weighted by their expected shares; "
        f"{population_att(DGPS['dynamic']):.4f}). `sdid` re-weights the cohorts in each jackknife replicate "
        "(Stata sdid), `sdid_fixed` keeps the sample's weights.",
        "",
        "| estimator | reps | mean SE | SD of error (sample ATT) | coverage of the sample ATT | "
        "SD of error (population ATT) | coverage of the population ATT |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for _, r in coverage.iterrows():
        lines.append(f"| {r['estimator']} | {r['reps']} | {r['mean_se']:.4f} | {r['sd_error_sample']:.4f} | "
                     f"{r['coverage_sample']:.3f} | {r['sd_error_population']:.4f} | {r['coverage_population']:.3f} |")
    lines += ["", "Each convention against its own estimand (issue 20's target 0.93-0.97):", ""]
    for name, label in OWN_ESTIMAND.items():
        row = coverage[coverage["estimator"] == name]
        if len(row):
            cov, reps = float(row.iloc[0][f"coverage_{label}"]), int(row.iloc[0]["reps"])
            mc_se = float(np.sqrt(0.95 * 0.05 / reps))
            lines.append(f"- {'PASS' if 0.93 <= cov <= 0.97 else 'FAIL'} {name} covers the {label} ATT: {cov:.3f} "
                         f"({reps} reps, Monte Carlo SE {mc_se:.3f})")
    return lines


def run_coverage_check(
    reps: int, *, estimators: tuple[str, ...] = CHECK_ESTIMATORS, seed: int = DEFAULT_SEED,
    dgps: tuple[str, ...] = tuple(DGPS), jobs: int = 1, scheduler: str | None = None, n_units: int = N_UNITS,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """``reps`` further replications per DGP of the cheap estimators, for coverage shares with a smaller Monte
    Carlo error (same backends as ``run_monte_carlo``)."""
    tasks = [(d, r, seed, tuple(estimators), n_units) for d in dgps for r in range(reps)]
    return _run_blocks(check_block, tasks, jobs=jobs, scheduler=scheduler, progress=progress)


def run_monte_carlo(
    reps: int = DEFAULT_REPS, *, placebo_reps: int | None = None, placebo_draws: int = 199, seed: int = DEFAULT_SEED,
    dgps: tuple[str, ...] = tuple(DGPS), jobs: int = 1, scheduler: str | None = None, n_units: int = N_UNITS,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Every replication's estimates (and placebo p-values) as one long frame, in task order whatever the backend
    (``jobs`` processes, or ``scheduler="dask"`` / ``"tcp://HOST:PORT"`` as ``pilotdid.parallel.map_tasks``)."""
    placebo_reps = 3 * reps if placebo_reps is None else placebo_reps
    tasks = [(d, r, seed, placebo_draws, True, n_units) for d in dgps for r in range(reps)]
    tasks += [(d, r, seed, placebo_draws, False, n_units) for d in dgps for r in range(placebo_reps)]
    return _run_blocks(replication_block, tasks, jobs=jobs, scheduler=scheduler, progress=progress)


def _run_blocks(block: Callable[[list[tuple]], list[dict]], tasks: list[tuple], *, jobs: int, scheduler: str | None,
                progress: Callable[[int, int], None] | None) -> pd.DataFrame:
    """The rows of ``tasks`` run in blocks by ``block`` (``replication_block``, ``check_block``, ``size_block``)
    on ``pilotdid.parallel.map_tasks``'s backend, as one frame in task order whatever the backend."""
    from pilotdid.parallel import map_tasks

    if jobs > 1 or scheduler is not None:
        _pickle_this_module_by_value()
    # blocks of replications: fewer, larger tasks for the process and Dask backends (a block's result does not
    # depend on its size: each replication seeds itself)
    size = 1 if jobs == 1 and scheduler is None else BLOCK_SIZE
    blocks = [tasks[i:i + size] for i in range(0, len(tasks), size)]
    report = None if progress is None else (lambda done, _total: progress(min(done * size, len(tasks)), len(tasks)))
    rows: list[dict] = []
    for block_rows in map_tasks(block, blocks, jobs=jobs, scheduler=scheduler, progress=report):
        rows += block_rows
    return pd.DataFrame(rows)


def replication_block(tasks: list[tuple]) -> list[dict]:
    """The rows of several replications (one task of the parallel backend)."""
    return [row for task in tasks for row in one_replication(task)]


def _pickle_this_module_by_value() -> None:
    """Dask workers (and spawned processes) cannot import this script (it is not in the pilotdid package, and the
    tests load it under another name), so cloudpickle ships its functions and classes by value rather than by module
    name. Without cloudpickle (no dask installed) only forked local processes can run it, which inherit the module."""
    try:
        import cloudpickle
    except ImportError:
        return
    cloudpickle.register_pickle_by_value(sys.modules[__name__])


def summarise(reps: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Bias, RMSE, SD, mean SE and CI coverage per (DGP, estimator); rejection rate of the placebo test."""
    rows = []
    est = reps[reps["estimator"] != "placebo"]
    for (dgp, name), g in est.groupby(["dgp", "estimator"], sort=False):
        err = g["att"] - g["truth"]
        covered = (g["ci_low"] <= g["truth"]) & (g["truth"] <= g["ci_high"])
        rows.append({
            "dgp": dgp, "estimator": name, "reps": len(g), "true_att": g["truth"].mean(), "mean_estimate": g["att"].mean(),
            "bias": err.mean(), "rmse": float(np.sqrt((err ** 2).mean())), "sd_estimate": g["att"].std(ddof=1),
            "mean_se": g["se"].mean(), "coverage_95": covered.mean(), "placebo_reject_5pct": np.nan,
        })
    for dgp, g in reps[reps["estimator"] == "placebo"].groupby("dgp", sort=False):
        rows.append({"dgp": dgp, "estimator": "placebo (TWFE, permute_cohorts)", "reps": len(g),
                     "true_att": g["truth"].mean(), "placebo_reject_5pct": float((g["p"] < alpha).mean())})
    order = {d: k for k, d in enumerate(DGPS)}
    out = pd.DataFrame(rows)
    return out.sort_values(["dgp", "estimator"], key=lambda s: s.map(order) if s.name == "dgp" else s,
                           kind="mergesort").reset_index(drop=True)


def check_targets(summary: pd.DataFrame) -> list[str]:
    """The issue's targets, each as 'PASS ...' or 'FAIL ...'."""
    lines = []
    for _, r in summary[summary["estimator"].isin(ROBUST)].iterrows():
        lines.append(_coverage_target(r))
    twfe = summary[(summary["estimator"] == "twfe") & (summary["dgp"] == "dynamic")]
    if len(twfe):
        r = twfe.iloc[0]
        mc_se = r["sd_estimate"] / np.sqrt(r["reps"])
        ok = abs(r["bias"]) > 4 * mc_se
        lines.append(f"{'PASS' if ok else 'FAIL'} TWFE bias under dynamic effects: {r['bias']:+.4f} "
                     f"({r['bias'] / r['true_att']:+.0%} of the truth; Monte Carlo SE {mc_se:.4f})")
    size = summary[(summary["estimator"].str.startswith("placebo")) & (summary["dgp"] == "null")]
    if len(size):
        s = size.iloc[0]["placebo_reject_5pct"]
        lines.append(f"{'PASS' if 0.03 <= s <= 0.08 else 'FAIL'} placebo size at 5%: {s:.3f} (target 0.03-0.08)")
    return lines


def _coverage_target(r: pd.Series, label: str = "coverage") -> str:
    """PASS/FAIL of one coverage share against its issue's target (issue 12: 0.90-0.99; issue 20's estimators:
    0.93-0.97), with its Monte Carlo SE and whether it is within two of them of 0.95."""
    lo, hi, issue = (0.93, 0.97, 20) if r["estimator"] in NEW else (0.90, 0.99, 12)
    cov = r["coverage_95"]
    mc_se = float(np.sqrt(0.95 * 0.05 / r["reps"]))
    near = "within" if abs(cov - 0.95) <= 2 * mc_se else "NOT within"
    return (f"{'PASS' if lo <= cov <= hi else 'FAIL'} {label} {r['estimator']} / {r['dgp']}: {cov:.3f} "
            f"(target {lo:.2f}-{hi:.2f}, issue {issue}; {r['reps']} reps, Monte Carlo SE {mc_se:.3f}: {near} 2 SE of 0.95)")


def render_check(check: pd.DataFrame) -> list[str]:
    """The coverage-check section: the cheap new estimators on many more replications."""
    if check is None or check.empty:
        return []
    n = int(check["reps"].max())
    lines = [
        "",
        f"## Coverage check: {', '.join(CHECK_ESTIMATORS)} on {n} further replications per DGP",
        "",
        f"Their own seed stream (not the panels above). Monte Carlo SE of a coverage near 0.95: "
        f"{np.sqrt(0.95 * 0.05 / n):.4f}.",
        "",
        "| DGP | estimator | reps | true ATT | bias | SD | mean SE | coverage 95% |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for _, r in check.iterrows():
        lines.append(f"| {r['dgp']} | {r['estimator']} | {r['reps']} | {r['true_att']:.4f} | {r['bias']:+.4f} | "
                     f"{r['sd_estimate']:.4f} | {r['mean_se']:.4f} | {r['coverage_95']:.3f} |")
    lines += ["", "Targets on the check:", ""]
    lines += [f"- {_coverage_target(r, 'check coverage')}" for _, r in check.iterrows()]
    return lines


CONSTANT_EFFECT_DGPS = ("null", "homogeneous", "small")


def pooled_coverage(main: pd.DataFrame, check: pd.DataFrame | None, estimators: tuple[str, ...] = NEW) -> pd.DataFrame:
    """Coverage of each new estimator on every replication run (main + check), by design class.

    Classes: ``constant`` pools null, homogeneous and small -- adding a constant effect moves every estimator's
    estimate by exactly that constant and leaves its SE unchanged (tests/montecarlo checks this to 1e-14), so the
    three designs measure one and the same coverage probability on independent panels -- and ``dynamic`` on its own.
    """
    rows = main[main["estimator"].isin(estimators)]
    if check is not None and not check.empty:
        rows = pd.concat([rows, check[check["estimator"].isin(estimators)]], ignore_index=True)
    rows = rows.assign(design=np.where(rows["dgp"].isin(CONSTANT_EFFECT_DGPS), "constant", rows["dgp"]))
    out = []
    for (design, name), g in rows.groupby(["design", "estimator"], sort=False):
        covered = (g["ci_low"] <= g["truth"]) & (g["truth"] <= g["ci_high"])
        out.append({"design": design, "estimator": name, "reps": len(g), "mean_se": g["se"].mean(),
                    "sd_error": (g["att"] - g["truth"]).std(ddof=1), "coverage_95": covered.mean()})
    order = {"constant": 0, "dynamic": 1}
    frame = pd.DataFrame(out)
    return frame.sort_values(["design", "estimator"], key=lambda s: s.map(order) if s.name == "design" else s,
                             kind="mergesort").reset_index(drop=True)


def render_pooled(pooled: pd.DataFrame) -> list[str]:
    """Issue 20's coverage criterion measured on every replication run, with PASS/FAIL against 0.93-0.97."""
    if pooled.empty:
        return []
    lines = [
        "",
        "## Issue 20's criterion on every replication run",
        "",
        "Coverage of the new estimators on all their replications (the 200 main ones plus the coverage check's), by "
        "design: `constant` pools null, homogeneous and small, which measure one coverage probability -- a constant "
        "effect shifts every estimate by exactly that constant and leaves its SE unchanged "
        "(`test_constant_effect_moves_estimates_not_errors` checks it for every estimator) -- and `dynamic` stands "
        "alone. This is the measurement issue 20's target is judged on here. It was chosen before the 1000-replication "
        "check was run (its first 500 replications had been run, and seen, in an earlier session); the "
        "200-replication rows and PASS/FAIL lines above are kept as they came out, nothing was reseeded. "
        "Monte Carlo SE = sqrt(0.95 x 0.05 / reps).",
        "",
        "| design | estimator | reps | SD of error | mean SE | coverage 95% | Monte Carlo SE | target 0.93-0.97 |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for _, r in pooled.iterrows():
        mc_se = float(np.sqrt(0.95 * 0.05 / r["reps"]))
        ok = 0.93 <= r["coverage_95"] <= 0.97
        lines.append(f"| {r['design']} | {r['estimator']} | {r['reps']} | {r['sd_error']:.4f} | {r['mean_se']:.4f} | "
                     f"{r['coverage_95']:.3f} | {mc_se:.4f} | {'PASS' if ok else 'FAIL'} |")
    over = pooled[(pooled["estimator"] == "sdid") & (pooled["coverage_95"] > 0.97)]
    if len(over):
        lines += ["", f"`sdid` above the band ({', '.join(over['design'])}) is Stata's convention scored against this "
                  "design's fixed-size estimand, which it does not target: its SE also counts the variation of cohort "
                  "sizes. The cohort-size experiment below scores each convention against its own estimand."]
    return lines


def render_markdown(summary: pd.DataFrame, *, reps: int, placebo_reps: int, placebo_draws: int, seed: int,
                    seconds: float | None, check: pd.DataFrame | None = None,
                    pooled: pd.DataFrame | None = None, sizes: pd.DataFrame | None = None) -> str:
    est = summary[~summary["estimator"].str.startswith("placebo")]
    pl = summary[summary["estimator"].str.startswith("placebo")]
    lines = [
        "# Monte Carlo validation (SYNTHETIC data)",
        "",
        f"Generated by `python validation/monte_carlo.py --reps {reps}"
        + (f" --check-reps {int(check['reps'].max())}" if check is not None and not check.empty else "")
        + (f" --size-reps {int(sizes['reps'].max())}" if sizes is not None and not sizes.empty else "")
        + f"` (seed {seed}" + (f"; {seconds / 60:.1f} min" if seconds is not None else "") + "). "
        "Design: see the module docstring of `validation/monte_carlo.py` -- 150 units, 2011-2020, cohorts 2014/2016/2018 "
        "(30 units each) and 60 never-treated units, unit and year effects, AR(1) errors (rho 0.5).",
        "",
        "## Overall ATT: bias, RMSE and 95% CI coverage",
        "",
        "| DGP | estimator | reps | true ATT | mean estimate | bias | RMSE | SD | mean SE | coverage 95% |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for _, r in est.iterrows():
        lines.append(f"| {r['dgp']} | {r['estimator']} | {r['reps']} | {r['true_att']:.4f} | {r['mean_estimate']:.4f} | "
                     f"{r['bias']:+.4f} | {r['rmse']:.4f} | {r['sd_estimate']:.4f} | {r['mean_se']:.4f} | "
                     f"{r['coverage_95']:.3f} |")
    lines += [
        "",
        f"## Placebo test (TWFE coefficient, permute_cohorts, {placebo_draws} draws, two-sided plus-one p)",
        "",
        "Share of replications with p < 0.05: the size under `null`, the power under the others "
        f"({reps} main + {placebo_reps} placebo-only replications per DGP).",
        "",
        "| DGP | reps | rejection rate at 5% |",
        "|---|---:|---:|",
    ]
    for _, r in pl.iterrows():
        lines.append(f"| {r['dgp']} | {r['reps']} | {r['placebo_reject_5pct']:.3f} |")
    lines += ["", "## Targets (issues 12 and 20)", ""] + [f"- {t}" for t in check_targets(summary)]
    lines += render_check(check)
    lines += render_pooled(pooled if pooled is not None else pd.DataFrame())
    lines += render_sizes(sizes)
    lines += [
        "",
        "Monte Carlo standard error of a coverage share near 0.95 with R replications: sqrt(0.95 x 0.05 / R) "
        f"(= {np.sqrt(0.95 * 0.05 / max(reps, 1)):.3f} here). Conventions: TWFE = `fit_twfe` preset lsdv, CRV1 by unit, "
        "t(G-1) CI; CS = never-treated controls, analytic influence-function SE (weight estimation included), normal CI; "
        "SA and imputation = pilotdid's defaults, clustered by unit; dcdh = did_multiplegt_dyn's average total "
        "effect (all 9 effects), its analytic SE; etwfe = not-yet-treated controls, simple aggregate, delta-method SE; "
        "stacked = WFH-weighted static coefficient, window [-3, 2], CRV1 by unit across sub-experiments (target: the "
        "trimmed aggregate ATT); sdid / sdid_fixed = cohort-by-cohort synthetic DID against the never-treated units, "
        "jackknife SE with the cohorts re-weighted in each replicate (Stata sdid) / with the sample's cohort weights; "
        "new estimators' CIs normal.",
        "",
        "Reading notes: without covariates and with never-treated controls, CS and SA are the same estimator of "
        "the overall ATT (identical point estimates); their SEs differ because CS's influence function also "
        "carries the estimation of the cohort shares (as R `did::aggte`) while SA treats the IW weights as fixed. "
        "Cohort sizes are fixed by this design, so under heterogeneous effects that extra term makes the CS interval "
        "conservative. The placebo's exact size with 199 draws and the plus-one rule is 9/200 = 0.045. TWFE's "
        "bias under `dynamic` is the known failure of its already-treated comparisons (Goodman-Bacon 2021); "
        "under `null` and `homogeneous` it is unbiased. The same cohort-size term is why `sdid` (Stata's jackknife, "
        "cohorts re-weighted by their remaining units in each replicate) is conservative under `dynamic`, where cohort "
        "effects differ, and `sdid_fixed` is not; without heterogeneous cohort effects the two coincide in expectation. "
        "The cohort-size experiment shows it is a choice of estimand, not an error of either SE: when cohort sizes are "
        "drawn at random, `sdid` covers the population ATT and `sdid_fixed` the sample ATT, each at its nominal rate, "
        "and `sdid_fixed` under-covers the population ATT. pilotdid prints both SEs wherever they differ "
        "(`sdid_cohort_weights` chooses the headline; default Stata's).",
        "",
    ]
    return "\n".join(lines)


def _stored_run_seconds(report: Path) -> float | None:
    """The run time the existing report states (that of the run which made the stored replications), if any."""
    import re

    if not report.exists():
        return None
    found = re.search(r"\(seed \d+; ([0-9.]+) min\)", report.read_text(encoding="utf-8"))
    return float(found.group(1)) * 60 if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=DEFAULT_REPS, help="replications per DGP (all estimators)")
    parser.add_argument("--placebo-reps", type=int, default=None, help="extra placebo-only replications per DGP (default 3 x reps)")
    parser.add_argument("--placebo-draws", type=int, default=199, help="permutation draws per placebo test")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--scheduler", default=None,
                        help='"dask" for a local Dask cluster (--jobs workers) or "tcp://HOST:PORT" for an existing one')
    parser.add_argument("--check-reps", type=int, default=0,
                        help=f"further replications per DGP of the cheap new estimators ({', '.join(CHECK_ESTIMATORS)}) "
                             "for coverage shares with a smaller Monte Carlo error (default 0: none)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--size-reps", type=int, default=0,
                        help="replications of the cohort-size experiment (dynamic design, cohort sizes drawn at "
                             "random; SDID's two cohort-weight conventions against the sample and population ATT)")
    parser.add_argument("--from-csv", action="store_true",
                        help="re-render OUT/monte_carlo.md from the stored OUT/monte_carlo_reps.csv (and the check's) "
                             "without running anything")
    args = parser.parse_args(argv)
    if args.reps < 2 or args.placebo_draws < 19 or args.jobs < 1 or args.check_reps < 0 or args.size_reps < 0:
        parser.error("--reps must be >= 2, --placebo-draws >= 19, --jobs >= 1, --check-reps and --size-reps >= 0")
    placebo_reps = 3 * args.reps if args.placebo_reps is None else args.placebo_reps
    t0 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done % 50 == 0 or done == total:
            print(f"  {done}/{total} replications ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)

    from pilotdid.errors import PilotdidInputError

    if args.from_csv:
        # re-render the report from the stored replications (same numbers; the run time is not stored)
        # the DGP named "null" must stay a string (pandas would read it as a missing value)
        def read(path: Path) -> pd.DataFrame:
            return pd.read_csv(path, keep_default_na=False, na_values=[""])

        reps = read(args.out / "monte_carlo_reps.csv")
        check_path = args.out / "monte_carlo_check_reps.csv"
        check_rows = read(check_path) if check_path.exists() else None
        sizes_path = args.out / "monte_carlo_sizes_reps.csv"
        size_rows = read(sizes_path) if sizes_path.exists() else None
        main_rows = reps[reps["estimator"] != "placebo"]
        args.reps = int(main_rows.groupby("dgp")["rep"].nunique().max())
        placebo_reps = int((reps[reps["estimator"] == "placebo"]["rep"] < 0).groupby(reps["dgp"]).sum().max())
        seconds = _stored_run_seconds(args.out / "monte_carlo.md")
    else:
        try:
            reps = run_monte_carlo(args.reps, placebo_reps=placebo_reps, placebo_draws=args.placebo_draws,
                                   seed=args.seed, jobs=args.jobs, scheduler=args.scheduler, progress=progress)
            check_rows = (run_coverage_check(args.check_reps, seed=args.seed, jobs=args.jobs, scheduler=args.scheduler,
                                             progress=progress) if args.check_reps else None)
            size_rows = (run_size_experiment(args.size_reps, seed=args.seed, jobs=args.jobs, scheduler=args.scheduler,
                                             progress=progress) if args.size_reps else None)
        except PilotdidInputError as exc:  # e.g. an unknown --scheduler or an unreachable scheduler address
            print(f"error: {exc}", file=sys.stderr)
            return 2
        seconds = time.perf_counter() - t0
    summary = summarise(reps)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.from_csv:
        reps.to_csv(args.out / "monte_carlo_reps.csv", index=False, float_format="%.10g")
    summary.to_csv(args.out / "monte_carlo.csv", index=False, float_format="%.6g")
    check = None
    if check_rows is not None:
        check = summarise(check_rows)
        if not args.from_csv:
            check_rows.to_csv(args.out / "monte_carlo_check_reps.csv", index=False, float_format="%.10g")
        check.to_csv(args.out / "monte_carlo_check.csv", index=False, float_format="%.6g")
    sizes = None
    if size_rows is not None:
        sizes = size_coverage(size_rows)
        if not args.from_csv:
            size_rows.to_csv(args.out / "monte_carlo_sizes_reps.csv", index=False, float_format="%.10g")
        sizes.to_csv(args.out / "monte_carlo_sizes.csv", index=False, float_format="%.6g")
    pooled = pooled_coverage(reps[reps["estimator"] != "placebo"], check_rows)
    pooled.to_csv(args.out / "monte_carlo_pooled.csv", index=False, float_format="%.6g")
    text = render_markdown(summary, reps=args.reps, placebo_reps=placebo_reps, placebo_draws=args.placebo_draws,
                           seed=args.seed, seconds=seconds, check=check, pooled=pooled, sizes=sizes)
    (args.out / "monte_carlo.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
