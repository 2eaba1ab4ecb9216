"""Execution backends: run independent tasks serially, on local processes, or on a Dask cluster.

One entry point, :func:`map_tasks`, used for specification grids and for blocks of random draws.

* ``jobs=1`` and no scheduler — a plain loop in this process (no pickling, easiest to debug);
* ``jobs>1`` — :class:`concurrent.futures.ProcessPoolExecutor` with ``jobs`` worker processes (forked where
  possible). pyfixest's Rust thread pool does not survive fork: once a fit ran in this process, a task that fits
  in a forked worker raises :class:`ForkedAfterThreadPool` (a clear error, instead of hanging forever);
* ``scheduler="dask"`` — a ``dask.distributed.LocalCluster`` with ``jobs`` worker processes
  (2 when ``jobs`` is 1), one thread each, no dashboard (its HTTP endpoints on a free local port, so
  port 8787 need not be free), closed when the work is done;
* ``scheduler="tcp://HOST:PORT"`` — a ``dask.distributed.Client`` connected to an existing
  scheduler (the cluster is left running; only the client is closed).

Results always come back in task order. The backends never choose random seeds: a task that
draws random numbers must carry its seed (derived from the study seed and the task or block
index), so the result is identical, bit for bit, whatever the backend or the number of workers.
Every task runs with a single BLAS thread on every backend (thread counts change the rounding of
matrix products).
``func`` and the tasks must be picklable for the process and Dask backends (a module-level
function and plain data).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from pilotdid.errors import PilotdidInputError, stop_if_terminated

#: Values of ``scheduler`` understood besides ``None``: ``"dask"`` and ``"tcp://HOST:PORT"``.
SCHEDULER_HELP = 'use "dask" for a local Dask cluster or "tcp://HOST:PORT" for an existing Dask scheduler'
#: Seconds to wait for an existing Dask scheduler before giving up.
CONNECT_TIMEOUT = 10


class ForkedAfterThreadPool(RuntimeError):
    """A library with its own native thread pool was called in a process forked after that pool started."""


#: Set once a library with its own native thread pool (pyfixest's Rust core: rayon) has run in this process.
#: fork() copies only the calling thread, so a forked child that uses such a library again waits forever for pool
#: threads it does not have; :func:`fork_call` then declines to fork, and :func:`note_native_thread_pool` refuses
#: to run in a child forked after the pool started (a clear error instead of a hang).
_NATIVE_POOL = {"started": False, "forked_after": False}


def note_native_thread_pool(library: str = "pyfixest") -> None:
    """Called before every use of a library that runs a native thread pool (every pyfixest fit).

    Raises :class:`ForkedAfterThreadPool` in a process forked after this process had started that pool: the call
    would hang there forever (a clear error instead; the work belongs in the parent or a forkserver/spawn worker).
    """
    if _NATIVE_POOL["forked_after"]:
        raise ForkedAfterThreadPool(
            f"{library} was called in a process forked after {library} had run in its parent: its native thread pool "
            "does not survive fork() and the call would hang; run such tasks with --jobs 1 (serially), or start "
            "their worker processes before the first fit or with the 'forkserver'/'spawn' method")
    _NATIVE_POOL["started"] = True


def fork_safe_for_native_pools() -> bool:
    """True while no native thread pool (see :func:`note_native_thread_pool`) has started in this process, so a
    forked child may use those libraries."""
    return not _NATIVE_POOL["started"]


def _note_forked_child() -> None:
    if _NATIVE_POOL["started"]:
        _NATIVE_POOL["forked_after"] = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_note_forked_child)


def describe_backend(jobs: int = 1, scheduler: str | None = None) -> str:
    """One phrase naming the backend, for reports ("serial", "4 local processes", ...)."""
    scheduler = _check_scheduler(scheduler)
    jobs = _check_jobs(jobs)
    if scheduler == "dask":
        return f"Dask LocalCluster ({max(jobs, 2) if jobs == 1 else jobs} worker processes, 1 thread each)"
    if scheduler:
        return f"Dask cluster at {scheduler}"
    return "serial (1 process)" if jobs == 1 else f"{jobs} local processes"


def _check_jobs(jobs: int) -> int:
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise PilotdidInputError(f"--jobs must be a positive integer, got {jobs!r}", where="command line",
                                 fix="use e.g. --jobs 2 (0 or negative values are not allowed)")
    return jobs


def _check_scheduler(scheduler: str | None) -> str | None:
    if scheduler is None or scheduler == "":
        return None
    if not isinstance(scheduler, str):
        raise PilotdidInputError(f"--scheduler must be text, got {scheduler!r}", where="command line", fix=SCHEDULER_HELP)
    value = scheduler.strip()
    if value.lower() == "dask":
        return "dask"
    if value.startswith(("tcp://", "tls://", "inproc://")):
        host_port = value.split("://", 1)[1]
        if value.startswith(("tcp://", "tls://")):
            host, _, port = host_port.rpartition(":")
            if not host or not port.isdigit():
                raise PilotdidInputError(f"--scheduler address {scheduler!r} has no HOST:PORT", where="command line",
                                         fix="write it as tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786")
        return value
    raise PilotdidInputError(f"unknown --scheduler {scheduler!r}", where="command line", fix=SCHEDULER_HELP)


def map_tasks(
    func: Callable[[Any], Any],
    tasks: Iterable[Any],
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Any]:
    """``[func(t) for t in tasks]`` on the chosen backend, in task order.

    ``progress(done, total)`` is called in this process as tasks finish (in completion order for
    the parallel backends). An exception in a task is re-raised here, unchanged. A scheduler
    address that cannot be reached is a :class:`~pilotdid.errors.PilotdidInputError`.
    """
    jobs = _check_jobs(jobs)
    scheduler = _check_scheduler(scheduler)
    func = _OneBlasThread(func)
    tasks = list(tasks)
    total = len(tasks)
    if total == 0:
        return []
    if scheduler is not None:
        return _map_dask(func, tasks, jobs, scheduler, progress)
    if jobs == 1 or total == 1:
        out = []
        with one_blas_thread():  # once for the loop (each task's own limit is then free)
            for i, task in enumerate(tasks):
                stop_if_terminated()
                out.append(func(task))
                if progress is not None:
                    progress(i + 1, total)
        return out
    return _map_processes(func, tasks, min(jobs, total), progress)


class _OneBlasThread:
    """Runs a task with one BLAS thread, on every backend. Multi-threaded BLAS splits sums
    differently from single-threaded BLAS, so without this a serial run (whose BLAS may use all
    cores) and a worker (one thread) could differ in the last bits."""

    def __init__(self, func: Callable[[Any], Any]):
        self.func = func

    def __call__(self, task: Any) -> Any:
        with one_blas_thread():
            return self.func(task)

    def __reduce__(self):
        # the task function travels through cloudpickle when it is installed (it comes with dask): importable
        # functions still go by name, but those of a module registered with cloudpickle.register_pickle_by_value
        # (a script the workers cannot import, e.g. validation/monte_carlo.py) go by value; Dask's own
        # serialiser would only look at this wrapper's module and send them by name
        try:
            import cloudpickle
        except ImportError:  # pragma: no cover - without dask: plain pickle, functions by name
            return (_OneBlasThread, (self.func,))
        return (_one_blas_thread_from_bytes, (cloudpickle.dumps(self.func),))


def _one_blas_thread_from_bytes(payload: bytes) -> _OneBlasThread:
    import pickle

    return _OneBlasThread(pickle.loads(payload))


_blas_limit_depth = threading.local()


@contextlib.contextmanager
def one_blas_thread():
    """BLAS limited to one thread inside the block (threadpoolctl), for determinism across backends and
    because thin products and tiny solves only lose time to BLAS threads.

    Nested uses cost nothing: threadpoolctl finds the loaded BLAS libraries on every call (~2-3 ms,
    which hundreds of specification-curve tasks and their placebo runs paid twice each), so only the
    outermost block sets the limit. scipy.linalg is imported first so its own BLAS is loaded (and
    limited) before the block rather than inside it.
    """
    depth = getattr(_blas_limit_depth, "value", 0)
    if depth:
        _blas_limit_depth.value = depth + 1
        try:
            yield
        finally:
            _blas_limit_depth.value = depth
        return
    try:
        import scipy.linalg  # noqa: F401 - loads scipy's BLAS before the limit is set
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        limiter = contextlib.nullcontext()
    else:
        limiter = threadpool_limits(limits=1, user_api="blas")
    with limiter:
        _blas_limit_depth.value = 1
        try:
            yield
        finally:
            _blas_limit_depth.value = 0


def _map_processes(func, tasks, jobs, progress):
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # fork is cheapest (workers inherit the imported modules); elsewhere, or when this process has
    # started threads (forking then can deadlock), use forkserver/spawn. After a pyfixest fit here, a forked worker
    # that fits would hang: note_native_thread_pool raises ForkedAfterThreadPool there instead (the task's error,
    # re-raised here). Forkserver after a fit was tried and left: its lazily started workers print a traceback
    # when a run is stopped by SIGTERM mid-start, and each pool pays ~0.5 s of imports; no task fits today.
    methods = mp.get_all_start_methods()
    method = "fork" if "fork" in methods and threading.active_count() == 1 else (
        "forkserver" if "forkserver" in methods else "spawn")
    results: list[Any] = [None] * len(tasks)
    import signal

    # SIGTERM waits while the workers are forked: its handler's exception raised inside the fork machinery
    # (e.g. logging's at-fork lock release) would be swallowed with a traceback on stderr
    mask_signals = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    with _limit_worker_threads():
        pool = None
        try:
            saved_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM}) if mask_signals else None
            try:
                pool = ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context(method),
                                           initializer=die_with_parent, initargs=(os.getpid(),))
                futures = {pool.submit(func, task): i for i, task in enumerate(tasks)}
            finally:
                if saved_mask is not None:
                    signal.pthread_sigmask(signal.SIG_SETMASK, saved_mask)  # a pending SIGTERM is raised here
            done = 0
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                stop_if_terminated()
                done += 1
                if progress is not None:
                    progress(done, len(tasks))
        except BaseException:
            # an error, Ctrl-C or SIGTERM: stop the workers now rather than wait for their running tasks (the
            # interpreter's exit would otherwise wait for them)
            if pool is not None:
                workers = list((getattr(pool, "_processes", None) or {}).values())
                pool.shutdown(wait=False, cancel_futures=True)
                for worker in workers:
                    if worker.is_alive():
                        worker.terminate()
            raise
        pool.shutdown(wait=True)
    return results


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: the worker dies with the process that started it (kill -9 included).

    On Linux the kernel sends SIGKILL to the worker when its parent exits (prctl PR_SET_PDEATHSIG); a parent
    that died before this line ran is caught by comparing the parent pid. Elsewhere workers notice a dead
    parent only when they next talk to it (the executor's own behaviour).
    """
    import signal
    import sys

    # a forked worker inherits the parent's SIGTERM handler and blocked mask: it should simply die when stopped
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no prctl: keep the executor's behaviour
        return
    # the parent may have died before prctl ran (with forkserver our parent is the fork server, which exits
    # when the process that asked for workers does)
    try:
        os.kill(parent_pid, 0)
    except ProcessLookupError:
        os._exit(1)
    except PermissionError:
        pass


class _limit_worker_threads:
    """Workers inherit one BLAS/OpenMP thread each: N processes x M threads on N cores thrash."""

    NAMES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

    def __enter__(self):
        self.saved = {k: os.environ.get(k) for k in self.NAMES}
        for k in self.NAMES:
            os.environ[k] = "1"
        return self

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        return False


#: The Dask client kept open by :func:`backend_session`, keyed by (jobs, scheduler).
_SESSION: dict[tuple[int, str], Any] = {}


class backend_session:
    """Keep one Dask cluster/client open for several :func:`map_tasks` calls (e.g. a whole study
    run), instead of starting a LocalCluster per call. No-op for the serial and process backends.

    Usage: ``with backend_session(jobs, scheduler): ...``; the cluster is closed on exit.
    """

    def __init__(self, jobs: int = 1, scheduler: str | None = None):
        self.jobs = _check_jobs(jobs)
        self.scheduler = _check_scheduler(scheduler)
        self.key = None

    def __enter__(self):
        if self.scheduler is not None and (self.jobs, self.scheduler) not in _SESSION:
            import logging

            with _QuietLogs(logging.WARNING if self.scheduler != "dask" else logging.CRITICAL), _limit_worker_threads():
                _SESSION[(self.jobs, self.scheduler)] = _open_dask(self.jobs, self.scheduler)
            self.key = (self.jobs, self.scheduler)
        return self

    def __exit__(self, *exc):
        if self.key is not None:
            import logging

            client, cluster = _SESSION.pop(self.key)
            with _QuietLogs(logging.CRITICAL):
                client.close()
                if cluster is not None:
                    cluster.close()
        return False


def _open_dask(jobs: int, scheduler: str):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise PilotdidInputError("--scheduler needs dask.distributed, which is not installed", where="command line",
                                 fix='pip install "dask[distributed]"') from None
    if scheduler == "dask":
        # no dashboard; the scheduler's HTTP endpoints (health, metrics) still start, so bind them to a free
        # local port: with dashboard_address=None Dask tries :8787 and, when another program holds it, warns
        cluster = LocalCluster(n_workers=jobs if jobs > 1 else 2, threads_per_worker=1, processes=True,
                               dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False})
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT), None
    except (OSError, TimeoutError, ValueError) as exc:
        raise PilotdidInputError(
            f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__})", where="--scheduler",
            fix="start it (dask scheduler; dask worker ADDRESS) or check the address, e.g. tcp://127.0.0.1:8786",
        ) from None


def _map_dask(func, tasks, jobs, scheduler, progress):
    import logging

    quiet = _QuietLogs(logging.WARNING if scheduler != "dask" else logging.CRITICAL)
    with quiet, _limit_worker_threads():
        shared = _SESSION.get((jobs, scheduler))
        client, cluster = shared if shared is not None else _open_dask(jobs, scheduler)
        try:
            from dask.distributed import as_completed

            # ship the task data straight to the workers, not inside the task graph (large graphs are slow)
            scattered = client.scatter(tasks, hash=False)
            futures = client.map(func, scattered, pure=False)
            index = {f.key: i for i, f in enumerate(futures)}
            results: list[Any] = [None] * len(tasks)
            done = 0
            for future in as_completed(futures):
                results[index[future.key]] = future.result()
                done += 1
                if progress is not None:
                    progress(done, len(tasks))
            return results
        finally:
            if shared is None:
                client.close()
                if cluster is not None:
                    cluster.close()


class _QuietLogs:
    """Dask logs cluster start/stop at INFO to stderr; the numerical core does not print."""

    LOGGERS = ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.worker",
               "distributed.core", "distributed.http.proxy", "distributed.client")

    def __init__(self, level: int):
        self.level = level

    def __enter__(self):
        import logging

        self.saved = {name: logging.getLogger(name).level for name in self.LOGGERS}
        for name in self.LOGGERS:
            logging.getLogger(name).setLevel(self.level)
        return self

    def __exit__(self, *exc):
        import logging

        for name, level in self.saved.items():
            logging.getLogger(name).setLevel(level)
        return False


def shard_ranges(total: int, parts: int, align: int = 1) -> list[tuple[int, int]]:
    """Split ``range(total)`` into at most ``parts`` contiguous (start, stop) ranges whose inner
    boundaries are multiples of ``align`` (e.g. the RNG chunk size), as equal as that allows."""
    if total <= 0:
        return []
    n_units = -(-total // align)
    parts = max(1, min(parts, n_units))
    bounds = [min(total, (n_units * p // parts) * align) for p in range(parts + 1)]
    bounds[-1] = total
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _run_in_child(func: Callable[[], Any], parent_pid: int) -> None:
    """Body of an :func:`in_background` child: run ``func``; a failure is only an exit code (the parent
    reruns ``func`` to raise the real error, so no traceback is printed here)."""
    die_with_parent(parent_pid)
    try:
        func()
    except BaseException:
        os._exit(1)
    os._exit(0)


@contextlib.contextmanager
def in_background(func: Callable[[], Any], rerun: Callable[[], Any] | None = None):
    """Run ``func()`` in a forked child process while the ``with`` block runs here; wait for it on exit.

    For independent side effects (saving figures while tables are written): the child inherits this process's
    objects (nothing is pickled) and returns nothing. Where forking is unavailable or unsafe (no fork, threads
    running, one CPU) ``func()`` simply runs here after the block. If the child fails, ``func()`` is rerun here,
    so the error is raised with its real traceback (``rerun()`` instead, when given: e.g. when the child shared
    its work with the block through a :class:`SharedCounter`); an error or Ctrl-C in the block stops the child.
    The outcome (files written) is the same either way.
    """
    import multiprocessing as mp
    import signal

    if not fork_usable():
        yield
        func()
        return
    mask_signals = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    child = None
    try:
        saved_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM}) if mask_signals else None
        try:
            child = mp.get_context("fork").Process(target=_run_in_child, args=(func, os.getpid()), daemon=True)
            child.start()
        finally:
            if saved_mask is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, saved_mask)  # a pending SIGTERM is raised here
        yield
    except BaseException:
        if child is not None and child.pid is not None:
            child.terminate()
            child.join()
        raise
    child.join()
    stop_if_terminated()
    if child.exitcode != 0:
        (rerun or func)()


class SharedCounter:
    """Hands out 0, 1, ..., total - 1, each once, to this process and to the children forked after it was made:
    independent pieces of work (figures to save) shared between a parent and an :func:`in_background` child, each
    taking the next piece when it is free."""

    def __init__(self, total: int):
        import multiprocessing as mp

        self.total = total
        self._next = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else None).Value("q", 0)

    def take(self) -> int | None:
        """The next piece's number, or None when every piece is taken."""
        with self._next.get_lock():
            number = self._next.value
            if number >= self.total:
                return None
            self._next.value = number + 1
        return number


def fork_usable() -> bool:
    """A second process is worth forking: fork exists, this process runs no other thread (forking a threaded
    process can deadlock the child on a lock another thread held) and there is more than one CPU."""
    import multiprocessing as mp

    return "fork" in mp.get_all_start_methods() and threading.active_count() == 1 and (os.cpu_count() or 1) > 1


class ChildFailed(RuntimeError):
    """A :func:`fork_call` child raised, died or returned something that cannot be pickled."""


class ForkedCall:
    """``func()`` running in a forked child; :meth:`result` waits for its (pickled) return value."""

    def __init__(self, process, connection):
        self.process = process
        self.connection = connection

    def result(self) -> Any:
        """The child's return value; :class:`ChildFailed` if it raised or died (the caller reruns the work
        here, where the error surfaces with its own message)."""
        import pickle

        try:
            try:
                payload = self.connection.recv_bytes()
            except (EOFError, OSError):
                raise ChildFailed("the second process ended without a result") from None
            finally:
                self.connection.close()
            self.process.join()
            stop_if_terminated()
            status, value = pickle.loads(payload)
        except BaseException:
            self.cancel()
            raise
        if status != "ok":
            raise ChildFailed("the second process failed")
        return value

    def cancel(self) -> None:
        """Stop the child (an error or Ctrl-C here: its work is no longer wanted)."""
        if self.process.pid is not None and self.process.is_alive():
            self.process.terminate()
        if self.process.pid is not None:
            self.process.join()
        self.connection.close()


def fork_call(func: Callable[[], Any]) -> ForkedCall | None:
    """Start ``func()`` in a forked child (it inherits this process's objects; only its return value is pickled,
    back through a pipe). None where forking is unavailable or unsafe (see :func:`fork_usable`; or a pyfixest fit
    already ran here, see :func:`fork_safe_for_native_pools`): the caller then
    runs ``func`` itself. The child runs with this process's BLAS settings, so its numbers are this process's."""
    import multiprocessing as mp
    import signal

    if not (fork_usable() and fork_safe_for_native_pools()):
        return None
    receiver, sender = mp.get_context("fork").Pipe(duplex=False)
    process = mp.get_context("fork").Process(target=_call_in_child, args=(func, sender, os.getpid()), daemon=True)
    mask_signals = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    saved_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM}) if mask_signals else None
    try:
        process.start()
    finally:
        sender.close()  # the child holds the only write end: its death is an EOF here
        if saved_mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, saved_mask)  # a pending SIGTERM is raised here
    return ForkedCall(process, receiver)


def _call_in_child(func: Callable[[], Any], connection, parent_pid: int) -> None:
    """Body of a :func:`fork_call` child: the result, or a bare failure (the parent reruns ``func`` to raise the
    real error, so no traceback is printed here)."""
    import pickle

    die_with_parent(parent_pid)
    try:
        payload = pickle.dumps(("ok", func()), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:
        payload, code = pickle.dumps(("failed", None)), 1
    else:
        code = 0
    try:
        connection.send_bytes(payload)
    except BaseException:
        os._exit(1)
    os._exit(code)
