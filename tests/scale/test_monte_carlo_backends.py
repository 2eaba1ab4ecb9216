"""The Monte Carlo validation (validation/monte_carlo.py) on the parallel backends: a local multi-worker Dask cluster
reached by its address (what ``--scheduler tcp://HOST:PORT`` does against a real cluster) and local processes must
give exactly the bytes of the serial run. SYNTHETIC panels, a few small replications."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

MC_PATH = Path(__file__).resolve().parents[2] / "validation" / "monte_carlo.py"
#: a small run: 2 full replications of two designs, 3 placebo-only ones, 40-unit panels
SMALL = dict(placebo_reps=3, placebo_draws=19, seed=5, dgps=("null", "dynamic"), n_units=40)


@pytest.fixture(scope="module")
def mc():
    spec = importlib.util.spec_from_file_location("pilotdid_validation_monte_carlo_backends", MC_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def serial(mc) -> pd.DataFrame:
    return mc.run_monte_carlo(2, **SMALL)


@pytest.fixture(scope="module")
def address():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def _as_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, float_format="%.17g").encode()


def test_serial_run_covers_every_task(serial, mc) -> None:
    # 2 designs x (2 full replications x (every estimator + placebo) + 3 placebo-only replications)
    assert len(serial) == 2 * (2 * (len(mc.ESTIMATORS) + 1) + 3)
    assert list(serial["dgp"].unique()) == ["null", "dynamic"]


def test_monte_carlo_through_a_scheduler_address_equals_serial(mc, serial, address) -> None:
    remote = mc.run_monte_carlo(2, **SMALL, jobs=2, scheduler=address)
    pd.testing.assert_frame_equal(remote, serial, check_exact=True)
    assert _as_bytes(remote) == _as_bytes(serial)


def test_monte_carlo_on_local_processes_equals_serial(mc, serial) -> None:
    local = mc.run_monte_carlo(2, **SMALL, jobs=2)
    assert _as_bytes(local) == _as_bytes(serial)


def test_monte_carlo_cli_refuses_an_unknown_scheduler(mc, capsys, tmp_path) -> None:
    assert mc.main(["--reps", "2", "--scheduler", "spark", "--out", str(tmp_path / "mc")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown --scheduler 'spark'" in err[0]
    assert not (tmp_path / "mc").exists()
