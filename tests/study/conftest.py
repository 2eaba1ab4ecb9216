"""Synthetic panels for runner tests (labelled synthetic: never used for any reported result)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def synthetic_panel(n_units: int = 30, years=range(2010, 2020), seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cohorts = np.array([0] * (n_units // 2) + [2014] * (n_units // 4) + [2016] * (n_units - n_units // 2 - n_units // 4))
    rows = []
    for i in range(n_units):
        alpha = rng.normal()
        for t in years:
            did = int(cohorts[i] > 0 and t >= cohorts[i])
            x1 = rng.normal()
            rows.append(
                {"unit": f"u{i:02d}", "year": t, "first_year": int(cohorts[i]), "did": did, "x1": x1,
                 "y": alpha + 0.1 * (t - 2010) + 0.5 * did + 0.3 * x1 + rng.normal(scale=0.5)}
            )
    return pd.DataFrame(rows)


@pytest.fixture
def make_panel():
    return synthetic_panel


@pytest.fixture
def minimal_study():
    return MINIMAL


@pytest.fixture
def study_file(tmp_path):
    def _write(body: str, name: str = "study.toml"):
        return write_study(tmp_path, body, name)

    return _write


@pytest.fixture
def panel_csv(tmp_path):
    path = tmp_path / "panel.csv"
    synthetic_panel().to_csv(path, index=False)
    return path


def write_study(tmp_path, body: str, name: str = "study.toml"):
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


MINIMAL = """
[study]
name = "synthetic"
[data]
panel = "panel.csv"
unit = "unit"
time = "year"
[treatment]
column = "did"
[model]
outcome = "y"
controls = ["x1"]
fixed_effects = ["unit", "year"]
cluster = "unit"
vcov = "lsdv"
"""
