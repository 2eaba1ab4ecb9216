"""SYNTHETIC staggered-adoption panels for tests, Monte Carlo and benchmarks (never real data).

Cohort-varying, dynamic effects: the effect of cohort g at event time e >= 0 is
``effect_scale * (1 + cohort_rank) * (e + 1) / 2`` by default — growing with exposure and larger for
early cohorts, the case where TWFE's "forbidden" comparisons bias it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def simulate_staggered_panel(
    n_units: int = 248,
    periods: tuple[int, int] = (2011, 2020),
    cohorts: tuple[int, ...] = (2015, 2016, 2017, 2018, 2019),
    never_share: float = 0.4,
    n_covariates: int = 5,
    effect_scale: float = 0.05,
    dynamic: bool = True,
    covariate_trend: float = 0.0,
    seed: int = 1,
) -> tuple[pd.DataFrame, float]:
    """A balanced SYNTHETIC panel and its true simple ATT (cohort-size weighted mean of post-period effects).

    Columns: unit, year, y, first_treat (0 = never), did, x1..xk (time-invariant), synthetic=True.
    ``covariate_trend`` lets x1 shift the outcome trend (parallel trends hold only conditionally on x1).
    """
    rng = np.random.default_rng(seed)
    years = np.arange(periods[0], periods[1] + 1)
    n_never = int(round(n_units * never_share))
    treated_cohorts = rng.choice(np.array(cohorts), size=n_units - n_never)
    first = np.concatenate([np.zeros(n_never, dtype=int), treated_cohorts])
    rng.shuffle(first)
    X = rng.normal(size=(n_units, max(n_covariates, 1)))
    unit_fe = rng.normal(scale=1.0, size=n_units) + 0.3 * X[:, 0]
    year_fe = np.cumsum(rng.normal(scale=0.1, size=len(years)))
    rank = {g: i for i, g in enumerate(sorted(cohorts))}
    e = years[None, :] - first[:, None]
    treated = (first[:, None] > 0) & (e >= 0)
    scale = np.array([(len(cohorts) - rank.get(g, 0)) if g else 0 for g in first], dtype=float)
    effect = np.where(treated, effect_scale * scale[:, None] * ((e + 1) / 2 if dynamic else 1.0), 0.0)
    trend = covariate_trend * X[:, [0]] * (years[None, :] - years[0])
    y = unit_fe[:, None] + year_fe[None, :] + trend + effect + rng.normal(scale=0.1, size=(n_units, len(years)))
    df = pd.DataFrame({
        "unit": np.repeat(np.arange(n_units), len(years)),
        "year": np.tile(years, n_units),
        "y": y.ravel(),
        "first_treat": np.repeat(first, len(years)),
        "did": treated.ravel().astype(float),
    })
    for j in range(n_covariates):
        df[f"x{j + 1}"] = np.repeat(X[:, j], len(years))
    df["synthetic"] = True
    true_att = float(effect[treated].mean())
    return df, true_att
