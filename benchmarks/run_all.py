"""Regenerate every table in benchmarks/results/ in one run (make bench; make bench-full adds the 1M-row cases).

    .venv-bench/bin/python benchmarks/run_all.py [--full]

Each script compares pilotdid with its peers in the same run, writes its table(s) to benchmarks/results/ with the
date, machine, commit and load average at its head, and fails (exit 1) when a peer is missing or errors: nothing is
left out silently. Before anything runs, every named peer is imported; a missing one stops the run with the list.
The peers come from the `bench` extra (`make bench` installs it into .venv-bench). benchmarks/results/RUN.md
records this run: the scripts, their durations and exit codes, and the load average before and after.

One source per number: estimators.md holds every estimator beside its fastest peer at 2.5k and 56k rows (and 1M rows
with --full); toolkit.md the new estimators on the CBEC panel beside their PyPI peers; placebo.md the placebo
engine's own profile and accuracy; staggered.md the CS variants and HonestDiD; scale.md the backends' speed-ups.

Durations (2 cores; measured 2026-12-04 under load average ~6, see results/RUN.md): the default run about 8
minutes (estimators 4.9, toolkit 0.9, placebo 0.7, staggered 0.3, scale 0.7); --full adds the twelve 1M-row cases of
estimators.md, about 20-30 minutes more (each under a 12 GB cap and a 900 s limit; did2s and wildboottest are not
run at 1M rows, for the reasons stated in their rows).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
#: script -> extra arguments (default run, --full run)
SCRIPTS = {
    "estimators_benchmark.py": (["--sizes", "city,county"], ["--sizes", "city,county,firm"]),
    "toolkit_benchmark.py": ([], []),
    "placebo_benchmark.py": ([], []),
    "staggered_benchmark.py": ([], []),
    "scale_benchmark.py": ([], []),
}
#: every peer a script names: import name -> what to install
PEERS = {
    "pyfixest": "pyfixest", "linearmodels": "linearmodels", "csdid": "csdid", "differences": "differences",
    "wildboottest": "wildboottest", "twowayfeweights": "twowayfeweights",
    "did_multiplegt_dyn": "py-did-multiplegt-dyn", "polars": "polars<2", "etwfe": "etwfe",
    "synthdid": "synthdid-py", "diff_diff": "diff-diff", "distributed": "dask[distributed]",
}


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="also the 1,000,000-row cases (estimators.md)")
    args = ap.parse_args(argv)
    missing = [f"{name} ({dist})" for name, dist in PEERS.items() if importlib.util.find_spec(name) is None]
    if missing:
        print("run_all: peer(s) not installed in " + sys.executable + ": " + ", ".join(missing)
              + " -- `make bench` installs the bench extra into .venv-bench", file=sys.stderr)
        return 1
    sys.path.insert(0, str(HERE))
    from _machine import RunStamp

    stamp = RunStamp()
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    log, failed = [], []
    for name, (default_args, full_args) in SCRIPTS.items():
        extra = full_args if args.full else default_args
        print(f"== {name} {' '.join(extra)} (load {_load()})", flush=True)
        t0 = time.perf_counter()
        code = subprocess.run([sys.executable, str(HERE / name), *extra], env=env).returncode
        minutes = (time.perf_counter() - t0) / 60
        log.append(f"| {name} {' '.join(extra)} | {minutes:.1f} | {code} | {_load()} |")
        if code != 0:
            failed.append(name)
    RESULTS.mkdir(parents=True, exist_ok=True)
    lines = ["# Last full regeneration of benchmarks/results/ (benchmarks/run_all.py"
             + (" --full" if args.full else "") + ")", "", stamp.line(), "",
             "| script | minutes | exit code | load average after |", "|---|---:|---:|---|", *log, ""]
    if failed:
        lines.append("FAILED: " + ", ".join(failed) + " (their tables may be stale or partial)")
    (RESULTS / "RUN.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    print(f"results in {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
