"""Fixtures for the measures tests. Every panel here is SYNTHETIC (random numbers), labelled as such."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def synthetic_panel(n_units: int = 12, years=range(2014, 2020), columns=("a", "b", "c"), seed: int = 0) -> pd.DataFrame:
    """A balanced SYNTHETIC city-year panel with lognormal indicator columns."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame([(f"city{i:02d}", y) for i in range(n_units) for y in years], columns=["city", "year"])
    for column in columns:
        frame[column] = rng.lognormal(size=len(frame))
    return frame


SYSTEM_TOML = """
unit = "city"
time = "year"
[[indicator]]
name = "a"
dimension = "first"
sign = "+"
published_weight = 0.5
[[indicator]]
name = "b"
dimension = "first"
sign = "-"
published_weight = 0.3
[[indicator]]
name = "c"
dimension = "second"
sign = "+"
published_weight = 0.2
"""


@pytest.fixture
def panel() -> pd.DataFrame:
    return synthetic_panel()


@pytest.fixture
def system_path(tmp_path):
    path = tmp_path / "system.toml"
    path.write_text(SYSTEM_TOML, encoding="utf-8")
    return path


@pytest.fixture
def make_panel():
    return synthetic_panel
