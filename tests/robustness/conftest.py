"""Fixtures for the robustness tests. All panels here are SYNTHETIC (pilotdid.design.synthetic)."""

from __future__ import annotations

import pandas as pd
import pytest

from pilotdid.design.synthetic import synthetic_staggered_panel
from pilotdid.study.context import FIRST_TREAT, TREAT, ModelSpec, StudyContext

CONTROLS = ["x1", "x2", "x3", "x4", "x5"]


@pytest.fixture(scope="session")
def panel() -> pd.DataFrame:
    """SYNTHETIC 248 x 10 balanced panel, 5 cohorts, 5 controls, true effect 0.3."""
    return synthetic_staggered_panel(seed=11, effect=0.3)


@pytest.fixture(scope="session")
def small_panel() -> pd.DataFrame:
    """SYNTHETIC 60 x 8 panel."""
    return synthetic_staggered_panel(n_units=60, n_years=8, cohorts=(2014, 2016, 2017), seed=5, effect=0.2, n_controls=2)


def make_context(frame: pd.DataFrame, controls=CONTROLS, vcov: str = "lsdv", published=None) -> StudyContext:
    frame = frame.copy()
    frame[TREAT] = frame["did"].astype(float)
    frame[FIRST_TREAT] = frame["first_treat"].astype(int)
    return StudyContext(
        study_name="synthetic", panel=frame, unit="unit", time="year",
        model=ModelSpec(outcome="y", controls=list(controls), fixed_effects=["unit", "year"], cluster="unit", vcov=vcov),
        treatment_name="did", seed=7, extras={"published": published or {}},
    )
