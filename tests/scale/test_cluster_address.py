"""Scale-out through a Dask scheduler *address* (what `--scheduler tcp://HOST:PORT` does against a real cluster):
a local 2-worker distributed cluster stands in for the cluster; placebo draws, the wild cluster bootstrap and
the specification curve must give exactly the bytes of the serial run. SYNTHETIC panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilotdid.inference.placebo import PlaceboDesign
from pilotdid.inference.wild_bootstrap import wild_cluster_bootstrap
from pilotdid.study.analyses import multiverse
from pilotdid.study.context import FIRST_TREAT, TREAT

SMALL_GRID = {"sample": ["full", "drop_2020"], "winsorize": [0], "vcov": ["reghdfe"], "controls": ["study"],
              "placebo_draws": 9}


@pytest.fixture(scope="module")
def address():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def test_placebo_through_a_scheduler_address_equals_serial(panel, address):
    design = PlaceboDesign.prepare(panel, outcome="y", unit="unit", time="year", first_treat=FIRST_TREAT,
                                   treatment=TREAT, controls=["x1", "x2"])
    serial = design.run(draws=300, seed=3, block_size=40)
    remote = design.run(draws=300, seed=3, block_size=40, jobs=2, scheduler=address)
    np.testing.assert_array_equal(remote.coefs, serial.coefs)
    np.testing.assert_array_equal(remote.ses, serial.ses)
    assert remote.p_values == serial.p_values


def test_wild_bootstrap_through_a_scheduler_address_equals_serial(panel, address):
    kw = dict(outcome="y", term=TREAT, controls=["x1"], fixed_effects=["unit", "year"], cluster="unit", reps=1999,
              seed=4, weights="webb")
    serial = wild_cluster_bootstrap(panel, **kw)
    remote = wild_cluster_bootstrap(panel, **kw, jobs=2, scheduler=address)
    local = wild_cluster_bootstrap(panel, **kw, jobs=2)
    assert remote == serial and local == serial


def test_specification_curve_through_a_scheduler_address_equals_serial(context, address):
    def table(jobs, scheduler):
        context.jobs = jobs
        context.extras["scheduler"] = scheduler
        return pd.DataFrame(multiverse.run(context, dict(SMALL_GRID)).results["multiverse"]["specifications"])

    pd.testing.assert_frame_equal(table(2, address), table(1, None), check_exact=True)
