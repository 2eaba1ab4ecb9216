"""Fixtures for the TWFE tests. Every panel here is SYNTHETIC (random draws), labelled as such."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def synthetic_panel(n_units: int = 14, n_years: int = 7, seed: int = 3, drop: int = 5, singleton: bool = False) -> pd.DataFrame:
    """SYNTHETIC staggered-adoption panel: unit/year effects, two controls, cluster-correlated errors."""
    rng = np.random.default_rng(seed)
    units = [f"u{i:02d}" for i in range(n_units)]
    years = list(range(2010, 2010 + n_years))
    df = pd.DataFrame([(u, y) for u in units for y in years], columns=["unit", "year"])
    adopt = {u: rng.choice([2012, 2014, 0]) for u in units}
    df["did"] = [float(adopt[u] and y >= adopt[u]) for u, y in zip(df["unit"], df["year"])]
    unit_eff = dict(zip(units, rng.normal(0, 1, n_units)))
    unit_shock = dict(zip(units, rng.normal(0, 0.5, n_units)))
    df["x1"] = rng.normal(0, 1, len(df)) + df["unit"].map(unit_eff)
    df["x2"] = rng.uniform(0, 2, len(df))
    df["y"] = (
        0.3 * df["did"] + 0.5 * df["x1"] - 0.2 * df["x2"] + df["unit"].map(unit_eff)
        + 0.1 * (df["year"] - 2010) + df["unit"].map(unit_shock) * rng.normal(0, 1, len(df)) + rng.normal(0, 0.3, len(df))
    )
    df["province"] = df["unit"].map(lambda u: f"p{int(u[1:]) % 4}")
    if drop:
        df = df.drop(index=rng.choice(df.index, size=drop, replace=False))
    if singleton:
        df = pd.concat(
            [df, pd.DataFrame({"unit": ["zz"], "year": [2011], "did": [0.0], "x1": [0.4], "x2": [1.1], "y": [2.0], "province": ["p0"]})],
            ignore_index=True,
        )
    return df.reset_index(drop=True)


@pytest.fixture
def panel() -> pd.DataFrame:
    return synthetic_panel()


@pytest.fixture
def panel_with_singleton() -> pd.DataFrame:
    return synthetic_panel(singleton=True)
