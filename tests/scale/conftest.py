"""Fixtures for the scale tests: small SYNTHETIC staggered panels (labelled synthetic)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilotdid.study.context import FIRST_TREAT, TREAT, ModelSpec, StudyContext


def synthetic_panel(n_units: int = 60, years=range(2012, 2021), seed: int = 0, effect: float = 1.0) -> pd.DataFrame:
    """SYNTHETIC balanced panel: staggered adoption in 2015/2017/2019 (a third never treated)."""
    rng = np.random.default_rng(seed)
    years = list(years)
    cohorts = rng.choice([0, 2015, 2017, 2019], size=n_units)
    unit = np.repeat(np.arange(n_units), len(years))
    year = np.tile(years, n_units)
    ft = cohorts[unit]
    d = ((ft > 0) & (year >= ft)).astype(float)
    x1 = rng.normal(size=unit.size)
    x2 = rng.normal(size=unit.size) + 0.1 * year
    y = (rng.normal(size=n_units)[unit] + 0.05 * (year - 2012) + effect * d + 0.4 * x1 - 0.2 * x2
         + rng.standard_t(4, size=unit.size))
    return pd.DataFrame({"unit": [f"u{u:03d}" for u in unit], "year": year, "y": y, "x1": x1, "x2": x2,
                         "capital": np.isin(unit, [0, 1, 2]), FIRST_TREAT: ft.astype(int), TREAT: d})


@pytest.fixture
def panel() -> pd.DataFrame:
    return synthetic_panel()


@pytest.fixture
def context(panel) -> StudyContext:
    return StudyContext(
        study_name="synthetic", panel=panel, unit="unit", time="year",
        model=ModelSpec(outcome="y", controls=["x1", "x2"], fixed_effects=["unit", "year"], cluster="unit",
                        vcov="reghdfe"),
        treatment_name="did", seed=7,
    )
