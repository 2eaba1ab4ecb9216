from __future__ import annotations

import numpy as np
import pytest

from pilotdid.estimation.staggered.simulate import simulate_staggered_panel
from pilotdid.study.context import FIRST_TREAT, TREAT, ModelSpec, StudyContext


@pytest.fixture(scope="module")
def toolkit_ctx() -> StudyContext:
    """A SYNTHETIC staggered panel as a study context (80 units, one time-varying control)."""
    df, _ = simulate_staggered_panel(n_units=80, n_covariates=2, seed=21)
    rng = np.random.default_rng(22)
    df["x1"] += rng.normal(scale=0.3, size=len(df))
    df[TREAT] = df["did"]
    df[FIRST_TREAT] = df["first_treat"]
    model = ModelSpec(outcome="y", controls=["x1"], fixed_effects=["unit", "year"], cluster="unit")
    return StudyContext(study_name="synthetic", panel=df, unit="unit", time="year", model=model, treatment_name="did")
