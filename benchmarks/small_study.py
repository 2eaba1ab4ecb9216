"""End-to-end speed of the command line: a 500-row study, `pilotdid replicate` and `pilotdid --help`.

The 500-row study is a SYNTHETIC panel (``pilotdid.design.synthetic.synthetic_staggered_panel``: 50 units x 10
years, 5 cohorts, seed 1, effect 0.05) with baseline (reghdfe SEs), event study, a 1,000-draw placebo and
Callaway-Sant'Anna (the issue #19 target: under 5 s). `replicate` is the shipped CBEC study on its real data
(target: under 15 s); `--help` should start in under 0.3 s.

Each case runs the CLI in a fresh process (``python -m pilotdid ...``, one BLAS thread, PYTHONHASHSEED=0) several
times; the table gives the median and minimum wall time and the median CPU time (user + system of the process
and of every child it waited for: the figure and analysis children included). The machine's load average at the
start is printed beside the numbers: on a shared machine wall times rise with it, CPU times much less.

Usage::

    python benchmarks/small_study.py [--cases study500,replicate,help] [--reps 5] [--write]

``--write`` stores the table in benchmarks/results/small_study.md (otherwise it is only printed). On a machine shared
with other work, ``chrt -f 10 python benchmarks/small_study.py ...`` (real-time priority, inherited by the runs; needs
root) measures what an otherwise idle machine would give; the table says when it was run so.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

STUDY_500 = """\
[study]
name = "synthetic_500"
title = "SYNTHETIC 500-row timing study (benchmarks/small_study.py)"

[data]
panel = "panel.csv"
unit = "unit"
time = "year"

[treatment]
first_treat = "first_treat"

[model]
outcome = "y"
controls = ["x1", "x2"]
cluster = "unit"
vcov = "reghdfe"

[analyses.baseline]
[analyses.event_study]
window = [-4, 4]
[analyses.placebo]
draws = 1000
[analyses.staggered]
estimators = ["cs"]
"""

TARGETS = {"study500": 5.0, "replicate": 15.0, "help": 0.3}
LABELS = {
    "study500": "500-row SYNTHETIC study: baseline + event study + placebo (1,000 draws) + CS",
    "replicate": "pilotdid replicate (CBEC, real data, every analysis)",
    "help": "pilotdid --help",
}


def write_study(folder: Path) -> Path:
    from pilotdid.design.synthetic import synthetic_staggered_panel

    panel = synthetic_staggered_panel(n_units=50, n_years=10, effect=0.05, seed=1)
    panel.to_csv(folder / "panel.csv", index=False)
    (folder / "study.toml").write_text(STUDY_500, encoding="utf-8")
    return folder / "study.toml"


def command(case: str, folder: Path, rep: int) -> list[str]:
    out = str(folder / f"out_{case}_{rep}")
    if case == "study500":
        return [sys.executable, "-m", "pilotdid", "run", str(folder / "study.toml"), "--out", out, "--quiet"]
    if case == "replicate":
        return [sys.executable, "-m", "pilotdid", "replicate", "--out", out, "--quiet"]
    if case == "help":
        return [sys.executable, "-m", "pilotdid", "--help"]
    raise ValueError(case)


def time_once(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU user+system of the process and its waited-for children) of one run."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="study500,replicate,help")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="pilotdid_small_study_") as tmp:
        folder = Path(tmp)
        write_study(folder)
        for case in cases:
            load = os.getloadavg()[0]
            subprocess.run(command(case, folder, -1), check=True, stdout=subprocess.DEVNULL)  # warm the file cache
            walls, cpus = zip(*(time_once(command(case, folder, rep)) for rep in range(args.reps)))
            row = dict(case=case, label=LABELS[case], reps=args.reps, wall_median=statistics.median(walls),
                       wall_min=min(walls), cpu_median=statistics.median(cpus), target=TARGETS[case], load=load)
            rows.append(row)
            print(f"{case}: wall median {row['wall_median']:.2f} s (min {row['wall_min']:.2f}), CPU median "
                  f"{row['cpu_median']:.2f} s, target {row['target']} s, load average {load:.1f}", flush=True)
    table = ["| case | runs | wall median (s) | wall min (s) | CPU median (s) | target (s) | load average |",
             "|---|---|---|---|---|---|---|"]
    table += [f"| {r['label']} | {r['reps']} | {r['wall_median']:.2f} | {r['wall_min']:.2f} | {r['cpu_median']:.2f} | "
              f"< {r['target']} | {r['load']:.1f} |" for r in rows]
    realtime = hasattr(os, "sched_getscheduler") and os.sched_getscheduler(0) in (os.SCHED_FIFO, os.SCHED_RR)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    header = (f"# End-to-end CLI speed (benchmarks/small_study.py)\n\n"
              f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit {commit or '?'} on "
              f"{platform.node() or 'this machine'} ({os.cpu_count()} CPUs, Python {platform.python_version()}); one "
              "BLAS thread, PYTHONHASHSEED=0"
              + ("; run at real-time priority (chrt -f 10): the machine was shared, so this stands for an idle machine"
                 if realtime else "") +
              ". CPU = user + system of the command and of the children it waited for.\n\n")
    text = header + "\n".join(table) + "\n"
    print(text)
    if args.write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "small_study.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
