"""Execution backends: order, errors, input checks, shard ranges."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pilotdid import parallel
from pilotdid.errors import PilotdidInputError
from pilotdid.parallel import describe_backend, map_tasks, shard_ranges


# module-level library functions: a worker started by forkserver/spawn must import them by name
_square_root = math.sqrt
_fails_on_negative = math.sqrt


def test_serial_and_processes_return_results_in_task_order():
    expected = [math.sqrt(i) for i in range(25)]
    seen = []
    assert map_tasks(_square_root, range(25), progress=lambda d, t: seen.append((d, t))) == expected
    assert seen[-1] == (25, 25)
    assert map_tasks(_square_root, range(25), jobs=2) == expected
    assert map_tasks(_square_root, [], jobs=2) == []


def test_task_errors_are_raised_unchanged():
    with pytest.raises(ValueError, match="math domain error"):
        map_tasks(_fails_on_negative, [4, 1, -3, 9])
    with pytest.raises(ValueError, match="math domain error"):
        map_tasks(_fails_on_negative, [4, 1, -3, 9], jobs=2)


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True])
def test_bad_jobs_is_an_input_error(jobs):
    with pytest.raises(PilotdidInputError, match="--jobs"):
        map_tasks(_square_root, range(2), jobs=jobs)


@pytest.mark.parametrize("scheduler", ["yarn", "tcp://", "tcp://host", "tcp://host:port", 5])
def test_bad_scheduler_is_a_one_line_input_error(scheduler):
    with pytest.raises(PilotdidInputError) as info:
        map_tasks(_square_root, range(2), scheduler=scheduler)
    assert "\n" not in str(info.value)


def test_unreachable_scheduler_is_an_input_error(monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", 1)
    with pytest.raises(PilotdidInputError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        map_tasks(_square_root, range(2), scheduler="tcp://127.0.0.1:9")


def test_describe_backend():
    assert describe_backend() == "serial (1 process)"
    assert describe_backend(4) == "4 local processes"
    assert "LocalCluster (2 worker" in describe_backend(1, "dask")
    assert describe_backend(1, "tcp://10.0.0.1:8786") == "Dask cluster at tcp://10.0.0.1:8786"


@settings(max_examples=200, deadline=None)
@given(total=st.integers(0, 5000), parts=st.integers(1, 16), align=st.integers(1, 300))
def test_shard_ranges_cover_the_range_on_aligned_edges(total, parts, align):
    shards = shard_ranges(total, parts, align)
    if total == 0:
        assert shards == []
        return
    assert shards[0][0] == 0 and shards[-1][1] == total
    assert all(a < b for a, b in shards)
    assert all(prev[1] == nxt[0] for prev, nxt in zip(shards, shards[1:]))
    assert all(a % align == 0 for a, _ in shards)
    assert len(shards) <= parts


def test_in_background_writes_what_a_serial_call_writes_and_reraises_its_error(tmp_path, capfd):
    import os

    def write(name):
        def job():
            (tmp_path / name).write_text(f"{sum(range(10_000))}")
            (tmp_path / f"{name}.pid").write_text(str(os.getpid()))
        return job

    with parallel.in_background(write("a.txt")):
        (tmp_path / "b.txt").write_text("block")  # the block runs meanwhile
    write("serial.txt")()
    assert (tmp_path / "a.txt").read_text() == (tmp_path / "serial.txt").read_text()
    assert (tmp_path / "b.txt").read_text() == "block"
    import threading

    if threading.active_count() == 1 and (os.cpu_count() or 1) > 1:  # forking usable: it ran in a child
        assert (tmp_path / "a.txt.pid").read_text() != str(os.getpid())

    calls = []

    def fails():
        calls.append(os.getpid())
        raise ValueError("no such figure")

    with pytest.raises(ValueError, match="no such figure"):
        with parallel.in_background(fails):
            pass
    assert calls[-1] == os.getpid()  # rerun here, so the real error (and traceback) is this process's
    assert "Traceback" not in capfd.readouterr().err  # the child failed quietly

    with pytest.raises(KeyError):  # an error in the block stops the child and propagates
        with parallel.in_background(write("c.txt")):
            raise KeyError("table")


def test_fork_call_returns_the_childs_value_or_fails_quietly(capfd, monkeypatch):
    import os

    call = parallel.fork_call(lambda: {"pid": os.getpid(), "sum": sum(range(1000))})
    if not parallel.fork_usable():
        assert call is None
        return
    value = call.result()
    assert value["sum"] == 499500 and value["pid"] != os.getpid()

    def fails():
        raise ValueError("no such analysis")

    with pytest.raises(parallel.ChildFailed):
        parallel.fork_call(fails).result()
    with pytest.raises(parallel.ChildFailed):  # an unpicklable result is a failure too
        parallel.fork_call(lambda: (lambda: None)).result()
    assert "Traceback" not in capfd.readouterr().err
    parallel.fork_call(lambda: sum(range(10))).cancel()  # not wanted any more: stopped, no zombie
    monkeypatch.setattr(parallel, "fork_usable", lambda: False)
    assert parallel.fork_call(lambda: 1) is None


def test_shared_counter_hands_each_number_out_once_across_a_fork(tmp_path):
    counter = parallel.SharedCounter(200)

    def take_all(name):
        def job():
            taken = []
            while (number := counter.take()) is not None:
                taken.append(number)
            (tmp_path / name).write_text(" ".join(map(str, taken)))
        return job

    with parallel.in_background(take_all("child")):
        take_all("here")()
    numbers = [int(n) for name in ("child", "here") for n in (tmp_path / name).read_text().split()]
    assert sorted(numbers) == list(range(200))
    assert counter.take() is None
