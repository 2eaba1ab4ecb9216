"""Bit-for-bit equality across backends (serial, local processes, a 2-worker Dask LocalCluster)
and block-size independence of the placebo draws."""

from __future__ import annotations

import contextlib
import socket

import numpy as np
import pandas as pd
import pytest

from pilotdid.inference.placebo import RNG_CHUNK, PlaceboDesign
from pilotdid.study.analyses import multiverse
from pilotdid.study.context import FIRST_TREAT, TREAT

SMALL_GRID = {"sample": ["full", "drop_2020"], "winsorize": [0, 1], "vcov": ["reghdfe", "lsdv"],
              "controls": ["study", "none"], "placebo_draws": 29}


def _table(context, jobs=1, scheduler=None):
    context.jobs = jobs
    context.extras["scheduler"] = scheduler
    return pd.DataFrame(multiverse.run(context, dict(SMALL_GRID)).results["multiverse"]["specifications"])


@pytest.fixture
def design(panel):
    return PlaceboDesign.prepare(panel, outcome="y", unit="unit", time="year", first_treat=FIRST_TREAT,
                                 treatment=TREAT, controls=["x1", "x2"])


@contextlib.contextmanager
def dask_default_dashboard_port_taken():
    """Occupy Dask's default dashboard port 8787, as another program on the machine may (if something
    already holds it, that is the same situation)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        try:
            blocker.bind(("0.0.0.0", 8787))
            blocker.listen(1)
        except OSError:
            pass  # taken already
        yield


@pytest.fixture(scope="module")
def dask_session():
    """One 2-worker LocalCluster for the module (start-up costs seconds), started while port 8787 is taken:
    the cluster must not need it (and must not warn about it: warnings are errors in the tests)."""
    pytest.importorskip("distributed")
    from pilotdid import parallel

    with dask_default_dashboard_port_taken(), parallel.backend_session(2, "dask"):
        assert (2, "dask") in parallel._SESSION
        yield
    assert parallel._SESSION == {}


def test_specification_curve_identical_under_jobs_1_2_and_dask(context, dask_session):
    serial = _table(context)
    pd.testing.assert_frame_equal(serial, _table(context, jobs=2), check_exact=True)
    pd.testing.assert_frame_equal(serial, _table(context, jobs=2, scheduler="dask"), check_exact=True)


def test_placebo_identical_serial_processes_and_dask(design, dask_session):
    ref = design.run(draws=450, seed=5, block_size=50)
    for kwargs in ({"jobs": 2}, {"jobs": 3}, {"jobs": 2, "scheduler": "dask"}):
        other = design.run(draws=450, seed=5, block_size=50, **kwargs)
        np.testing.assert_array_equal(other.coefs, ref.coefs)
        np.testing.assert_array_equal(other.ses, ref.ses)
        assert other.p_values == ref.p_values


@pytest.mark.parametrize("kind", ["permute_cohorts", "random_years"])
def test_placebo_block_size_independence(design, kind):
    ref = design.run(kind=kind, draws=2 * RNG_CHUNK + 17, seed=11, block_size=1000, keep_adoption=True)
    for block in (1, 13, RNG_CHUNK, 150):
        other = design.run(kind=kind, draws=2 * RNG_CHUNK + 17, seed=11, block_size=block, keep_adoption=True)
        np.testing.assert_array_equal(other.adoption_years, ref.adoption_years)  # the draws are identical
        np.testing.assert_allclose(other.coefs, ref.coefs, rtol=0, atol=1e-12)
        np.testing.assert_allclose(other.ses, ref.ses, rtol=1e-12)
        assert other.p_values == ref.p_values


@pytest.mark.parametrize("n_units, n_years, seed", [(60, 9, 0), (300, 15, 1)])
def test_grid_aggregate_path_equals_the_column_path(n_units, n_years, seed):
    """The per-unit aggregate path (balanced grid, clustered by unit) against demeaning N x B columns,
    with always-treated units and adoption years before, inside and after the window."""
    import pickle

    from pilotdid.inference.placebo import draw_adoption_years

    from .conftest import synthetic_panel

    p = synthetic_panel(n_units=n_units, years=range(2010, 2010 + n_years), seed=seed)
    p.loc[p["unit"].isin(["u000", "u001"]), FIRST_TREAT] = 2005  # treated before the window
    design = PlaceboDesign.prepare(p, outcome="y", unit="unit", time="year", first_treat=FIRST_TREAT,
                                   controls=["x1", "x2"])
    assert design.unit_time_grid and design.cluster_block == n_years
    years = np.r_[design.candidate_years, 2005, 2010 + n_years + 3]
    adoption = draw_adoption_years(design.unit_first_treat, "random_years", 0, 150, seed, years)
    factor = design.ssc()
    coef_cols, se_cols = design.estimate(design.treatment_columns(adoption), factor)
    coef, se = design.estimate_draws(adoption, factor)
    np.testing.assert_allclose(coef, coef_cols, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(se, se_cols, rtol=1e-10)
    copy = pickle.loads(pickle.dumps(design))  # as sent to a worker: same bits
    np.testing.assert_array_equal(copy.estimate_draws(adoption, factor)[0], coef)
