"""No hang after a pyfixest fit: pyfixest's Rust core starts a thread pool (rayon) on its first fit, and a child
forked after that which fits again waits forever for pool threads fork() did not copy.

A fit in a child forked after a fit (a ``map_tasks(jobs > 1)`` worker or a bare fork) raises
:class:`pilotdid.parallel.ForkedAfterThreadPool` instead of hanging, and ``fork_call`` declines to fork. Each
scenario runs in a fresh interpreter under a timeout, so the old behaviour (a hang) fails the test instead of
blocking it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from pilotdid import parallel

TIMEOUT_SECONDS = 240  # generous: a loaded 2-core machine

SETUP = """
import os
import numpy as np
import pandas as pd
from pilotdid.estimation.fixest import feols
from pilotdid.parallel import ForkedAfterThreadPool, map_tasks

def panel(seed):  # SYNTHETIC: 20 groups x 10 rows
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"y": rng.normal(size=200), "x": rng.normal(size=200), "g": np.repeat(np.arange(20), 10)})

def slope(seed):
    return float(feols("y ~ x | g", panel(seed)).coef().iloc[0])
"""


def _run(tmp_path, body: str) -> subprocess.CompletedProcess:
    script = tmp_path / "scenario.py"
    script.write_text(SETUP + "\nif __name__ == '__main__':\n" + textwrap.indent(textwrap.dedent(body), "    "))
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the hung forked children too
        process.communicate()
        pytest.fail(f"hung for {TIMEOUT_SECONDS} s: a forked process fitted after a fit in its parent")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="needs fork")
def test_process_workers_fit_before_a_fit_here_and_fail_loudly_after(tmp_path):
    done = _run(tmp_path, """
        pooled = map_tasks(slope, range(4), jobs=2)  # no fit here yet: forked workers may fit
        serial = map_tasks(slope, range(4))  # now pyfixest's thread pool runs in this process
        print(repr(pooled)); print(repr(serial))
        try:
            map_tasks(slope, range(4), jobs=2)
        except ForkedAfterThreadPool as error:
            print("refused:", error)
    """)
    assert done.returncode == 0, done.stderr
    pooled, serial, refused = done.stdout.splitlines()
    assert pooled == serial  # bit for bit (repr of the floats)
    assert refused.startswith("refused: pyfixest was called in a process forked after pyfixest had run")
    assert "--jobs 1" in refused


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_fit_in_a_child_forked_after_a_fit_fails_loudly(tmp_path):
    done = _run(tmp_path, """
        slope(99)
        pid = os.fork()
        if pid == 0:
            try:
                slope(1)
            except ForkedAfterThreadPool as error:
                print(error, flush=True)
                os._exit(3)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        print("child exit", os.waitstatus_to_exitcode(status))
    """)
    assert done.returncode == 0, done.stderr
    message, exit_line = done.stdout.splitlines()
    assert exit_line == "child exit 3"
    assert "forked after pyfixest had run" in message and "hang" in message


def test_fork_call_declines_after_a_fit_and_forks_before(monkeypatch):
    monkeypatch.setitem(parallel._NATIVE_POOL, "started", True)
    assert parallel.fork_call(lambda: 1) is None  # the caller runs the work itself
    monkeypatch.setitem(parallel._NATIVE_POOL, "started", False)
    forked = parallel.fork_call(lambda: 1)
    if forked is not None:  # fork usable here (more than one CPU, no threads)
        assert forked.result() == 1
