"""Fixtures for the validation suite: a small SYNTHETIC staggered panel and a study writer.

Every panel built here is synthetic (labelled ``synthetic`` in the study name) and never feeds a reported
result. The helpers are plain functions so that parametrised cases can build their own variants.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

#: The cohorts of the synthetic panel: 12 never-treated units, 6 adopting in 2014, 6 in 2016.
COHORTS = [0] * 12 + [2014] * 6 + [2016] * 6
YEARS = range(2010, 2020)


def synthetic_panel(seed: int = 0, effect: float = 0.5) -> pd.DataFrame:
    """A balanced synthetic panel: unit, year, first_year, did, x1, x2, big, y, three index indicators."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, cohort in enumerate(COHORTS):
        alpha = rng.normal()
        for t in YEARS:
            did = int(cohort > 0 and t >= cohort)
            x1, x2 = rng.normal(size=2)
            rows.append({
                "unit": f"u{i:02d}", "year": t, "first_year": cohort, "did": did, "x1": x1, "x2": x2,
                "big": int(i % 2 == 0),
                "y": alpha + 0.1 * (t - 2010) + effect * did + 0.3 * x1 + rng.normal(scale=0.5),
                "ind_a": rng.uniform(1, 2), "ind_b": rng.uniform(1, 2), "ind_c": rng.uniform(1, 2),
            })
    return pd.DataFrame(rows)


BASE_STUDY = """\
[study]
name = "synthetic_validation"
seed = 20240601

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

[analyses.baseline]
"""


def sha256_tree(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (relative path -> digest)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture
def panel_frame() -> pd.DataFrame:
    return synthetic_panel()
