"""SYNTHETIC staggered-adoption panels for tests, Monte Carlo and benchmarks (never real data): the one home of
the simulators.

- :func:`synthetic_staggered_panel`: a constant effect, AR(1) noise within unit, optional unbalancing, controls;
  every frame carries ``attrs["synthetic"] = True``.
- :func:`simulate_staggered_panel`: cohort-varying, dynamic effects — the effect of cohort g at event time e >= 0 is
  ``effect_scale * (1 + cohort_rank) * (e + 1) / 2`` by default, growing with exposure and larger for early
  cohorts, the case where TWFE's "forbidden" comparisons bias it; returns the panel and its true simple ATT.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def synthetic_staggered_panel(
    n_units: int = 248, n_years: int = 10, *, first_year: int = 2012,
    cohorts: Sequence[int] = (2015, 2016, 2018, 2019, 2020), treated_share: float = 0.45,
    n_controls: int = 5, effect: float = 0.0, seed: int = 0, drop_share: float = 0.0,
) -> pd.DataFrame:
    """A SYNTHETIC balanced (or, with ``drop_share`` > 0, randomly unbalanced) unit-year panel.

    Columns: unit, year, first_treat (0 = never), did (1[year >= first_treat]), y, x1..xK,
    is_capital (bool; about 10% of units). Units are split evenly across ``cohorts`` for the
    treated share. ``y = unit effect + year effect + controls·0.1 + effect·did + noise`` with noise
    correlated within unit (AR(1), rho 0.5) so clustering matters.
    """
    rng = np.random.default_rng(seed)
    years = np.arange(first_year, first_year + n_years)
    n_treated = int(round(treated_share * n_units))
    cohort_of = np.zeros(n_units, dtype=int)
    if cohorts:
        cohort_of[:n_treated] = np.asarray(cohorts)[np.arange(n_treated) % len(cohorts)]
    cohort_of = rng.permutation(cohort_of)
    unit = np.repeat(np.arange(n_units), n_years)
    year = np.tile(years, n_units)
    first_treat = cohort_of[unit]
    did = ((first_treat > 0) & (year >= first_treat)).astype(float)
    unit_fe = rng.normal(0, 1, n_units)[unit]
    year_fe = rng.normal(0, 0.5, n_years)[year - first_year]
    x = rng.normal(0, 1, (n_units * n_years, n_controls)) + 0.3 * rng.normal(0, 1, n_units)[unit][:, None]
    shocks = rng.normal(0, 1, (n_units, n_years))
    ar = np.empty_like(shocks)
    ar[:, 0] = shocks[:, 0]
    for j in range(1, n_years):
        ar[:, j] = 0.5 * ar[:, j - 1] + shocks[:, j]
    y = unit_fe + year_fe + x @ np.full(n_controls, 0.1) + effect * did + ar.reshape(-1)
    frame = pd.DataFrame({"unit": unit, "year": year, "first_treat": first_treat, "did": did, "y": y})
    for k in range(n_controls):
        frame[f"x{k + 1}"] = x[:, k]
    frame["is_capital"] = (rng.random(n_units) < 0.1)[unit]
    if drop_share > 0:
        frame = frame.loc[rng.random(len(frame)) >= drop_share].reset_index(drop=True)
    frame.attrs["synthetic"] = True
    return frame


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
