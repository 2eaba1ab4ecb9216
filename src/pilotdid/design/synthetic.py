"""SYNTHETIC staggered-adoption panels for tests, Monte Carlo and benchmarks (never real data).

Every frame this module returns carries ``attrs["synthetic"] = True`` so that nothing downstream
can mistake it for the shipped city panel.
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
