"""SYNTHETIC panels for the mechanism and heterogeneity tests (never real data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilotdid.design.synthetic import synthetic_staggered_panel


def grouped_panel(n_units: int = 120, n_years: int = 8, *, effect_first: float = 0.5, effect_second: float = 0.5,
                  seed: int = 0, noise: float = 1.0, drop_share: float = 0.0,
                  every_cohort_in_both_groups: bool = False) -> pd.DataFrame:
    """SYNTHETIC staggered panel with a unit-level group flag ``big`` (about a third of units) and a
    treatment effect that may differ by group.

    ``every_cohort_in_both_groups`` makes every adoption cohort (and the never-treated) alternate between the
    groups, so each group always has treated and untreated units -- what a property test over random seeds needs
    (a random third can miss every treated unit of a small panel: hypothesis found seed 9058)."""
    df = synthetic_staggered_panel(n_units, n_years, seed=seed, effect=0.0, n_controls=3, drop_share=drop_share)
    rng = np.random.default_rng(seed + 1000)
    big_units = rng.random(n_units) < 0.35
    if every_cohort_in_both_groups:
        cohort = df.groupby("unit")["first_treat"].first()
        in_window = cohort.where(cohort <= df["year"].max(), 0)  # adopting after the panel = untreated here
        rank = in_window.groupby(in_window).cumcount()
        big_units = np.zeros(n_units, dtype=bool)
        big_units[rank.index.to_numpy()] = (rank % 2 == 0).to_numpy()
    df["big"] = big_units[df["unit"].to_numpy()]
    base = df["y"] - (df["y"] - df["y"].mean()) * (1 - noise)
    df["y"] = base + df["did"] * np.where(df["big"], effect_first, effect_second)
    df.attrs["synthetic"] = True
    return df


@pytest.fixture
def panel() -> pd.DataFrame:
    return grouped_panel()


def feols(*args, **kwargs):
    """pyfixest feols as an independent reference; pyfixest 0.60 itself calls pandas with the
    deprecated ``inplace=`` keyword (a Pandas4Warning under pandas 3.1), which is ignored here only."""
    import warnings

    import pyfixest as pf

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"The inplace keyword in DataFrame\.\w+ is deprecated")
        return pf.feols(*args, **kwargs)
