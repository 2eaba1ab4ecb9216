"""Scale-out benchmark (SYNTHETIC panels + the real CBEC study): the same work on more processes and on Dask.

Measured, each case in a fresh Python process (so the peak resident memory is that case's):

1. Placebo draws (``PlaceboDesign.run``, permute_cohorts): 1,000 and 10,000 draws on the city (2,480 rows) and
   county (56,000 rows) panels, serial and with ``jobs=2`` local processes.
2. The CBEC specification curve (real data; the study's grid) on 1, 2 and 4 local processes and a 2-worker Dask
   LocalCluster (start-up included), checked identical to the serial run.

One source per number: every estimator's time beside its fastest peer, at 2.5k, 56k and 1M rows (TWFE, the placebo
at 1M rows included), is in estimators.md (estimators_benchmark.py); this table has only the backends' speed-ups.

Peak MB = the process's peak resident set size (``ru_maxrss``), which includes Python and the imported libraries.
Writes benchmarks/results/scale.csv and scale.md. Usage (a few minutes on 2 cores)::

    .venv/bin/python benchmarks/scale_benchmark.py [--quick]

``--quick`` runs only the small cases (a smoke test).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
CONTROLS = ["x1", "x2", "x3", "x4", "x5"]
SIZES = {
    "city": dict(n_units=248, n_years=10),
    "county": dict(n_units=2800, n_years=20, first_year=2002, cohorts=(2008, 2010, 2012, 2014, 2016)),
}
SIZE_LABEL = {"city": "city 248x10", "county": "county 2,800x20"}
MULTIVERSE = {
    "index_method": ["entropy", "critic", "topsis", "equal"], "pooling": ["pooled", "by_year"],
    "treatment_rule": ["approval_year", "next_year_if_after"], "sample": ["full", "drop_capitals", "drop_2020"],
    "winsorize": [0, 1], "vcov": ["reghdfe", "lsdv"], "placebo_draws": 99,
}


# ------------------------------------------------------------------------------------------------
# Cases (each runs in its own process and prints one JSON line)
# ------------------------------------------------------------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _panel(size: str):
    from pilotdid.design.synthetic import synthetic_staggered_panel

    return synthetic_staggered_panel(**SIZES[size], effect=0.05, seed=1)


def _timed(fn):
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def case_placebo(size: str, draws: int, jobs: int) -> dict:
    from pilotdid.inference.placebo import PlaceboDesign

    panel = _panel(size)
    base = _rss_mb()

    def run():
        design = PlaceboDesign.prepare(panel, outcome="y", unit="unit", time="year", first_treat="first_treat",
                                       treatment="did", controls=CONTROLS)
        return design.run(draws=draws, seed=7, jobs=jobs)

    res, wall, cpu = _timed(run)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall_s": wall, "cpu_s": cpu, "p": res.p_two_sided, "block_size": res.block_size, "base_mb": base,
            "peak_mb": _peak_mb(), "child_peak_mb": children.ru_maxrss / 1024 if jobs > 1 else None,
            "rows": len(panel), "coef_checksum": float(np.sum(res.coefs))}


def case_multiverse(jobs: int, scheduler: str | None) -> dict:
    from pilotdid.study.analyses import multiverse
    from pilotdid.study.runner import run_study
    from pilotdid.study.spec import load_study

    spec = load_study(Path(__file__).resolve().parents[1] / "src/pilotdid/studies/cbec/study.toml")
    spec.analyses = {}
    ctx = run_study(spec).context
    ctx.jobs, ctx.extras["scheduler"] = jobs, scheduler
    base = _rss_mb()
    out, wall, cpu = _timed(lambda: multiverse.run(ctx, dict(MULTIVERSE)))
    res = out.results["multiverse"]
    rows = res["specifications"]
    checksum = float(np.sum([r["coef"] * (i + 1) + r["se"] + (r["placebo_p"] or 0) for i, r in enumerate(rows)]))
    return {"wall_s": wall, "cpu_s": cpu, "n_specs": res["summary"]["n_specs"], "base_mb": base, "peak_mb": _peak_mb(),
            "share_positive": res["summary"]["share_positive"],
            "share_positive_significant": res["summary"]["share_positive_significant"], "checksum": checksum}


# ------------------------------------------------------------------------------------------------
# Driver
# ------------------------------------------------------------------------------------------------


def _run_case(args: list[str]) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [sys.executable, __file__, "--case", json.dumps(args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": tail}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _plan(quick: bool) -> list[tuple[str, list]]:
    sizes = ["city"] if quick else ["city", "county"]
    plan: list[tuple[str, list]] = []
    for size in sizes:
        for draws in (1000, 10000):
            for jobs in (1, 2):
                plan.append(("placebo", [size, draws, jobs]))
    for jobs, scheduler in ([(1, None), (2, None)] if quick else [(1, None), (2, None), (4, None), (2, "dask")]):
        plan.append(("multiverse", [jobs, scheduler]))
    return plan


def _fmt(x, digits=2):
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="small cases only (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.case:
        kind, params = json.loads(args.case)
        fn = {"placebo": case_placebo, "multiverse": case_multiverse}[kind]
        print(json.dumps(fn(*params)))
        return

    import pandas as pd

    from _machine import RunStamp

    stamp = RunStamp()
    rows, failed = [], []
    for kind, params in _plan(args.quick):
        t0 = time.perf_counter()
        res = _run_case([kind, params])
        print(f"{kind} {params}: {res} ({time.perf_counter() - t0:.1f}s)", file=sys.stderr, flush=True)
        if "error" in res:
            failed.append(f"{kind} {params}: {res['error']}")
        rows.append({"kind": kind, "params": json.dumps(params), **res})
    frame = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out / "scale.csv", index=False)
    (args.out / "scale.md").write_text(_markdown(frame, args, stamp), encoding="utf-8")
    print(f"wrote {args.out / 'scale.md'} and scale.csv", file=sys.stderr)
    if failed:
        print("FAILED cases:\n  " + "\n  ".join(failed), file=sys.stderr)
        raise SystemExit(1)


def _markdown(frame, args, stamp) -> str:
    def get(kind, params):
        sel = frame[(frame["kind"] == kind) & (frame["params"] == json.dumps(params))]
        return sel.iloc[0].to_dict() if len(sel) else None

    lines = [
        "# Scale-out benchmark (generated by benchmarks/scale_benchmark.py)", "",
        stamp.line(), "",
        f"`benchmarks/scale_benchmark.py{' --quick' if args.quick else ''}`; one run per case, each in a fresh "
        "process. Panels are SYNTHETIC (pilotdid.design.synthetic, 5 controls, unit and year FE, CRV1 by unit) except "
        "the specification curve, which runs the real CBEC study. Times beside peers (and the 1M-row cases): "
        "estimators.md.", "",
        "## Placebo draws over processes (permute_cohorts, prepare + all draws)", "",
        "| panel | rows | draws | processes | wall s | CPU s (main) | block | peak MB (main) | speed-up vs 1 process |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size in SIZES:
        for draws in (1000, 10000):
            one = get("placebo", [size, draws, 1])
            for jobs in (1, 2):
                r = get("placebo", [size, draws, jobs])
                if r is None or not isinstance(r.get("wall_s"), float):
                    continue
                sp = one["wall_s"] / r["wall_s"] if one and isinstance(one.get("wall_s"), float) else np.nan
                lines.append(f"| {SIZE_LABEL[size]} | {int(r['rows']):,} | {draws:,} | {jobs} | {_fmt(r['wall_s'])} | "
                             f"{_fmt(r['cpu_s'])} | {int(r['block_size'])} | {_fmt(r['peak_mb'], 0)} | {_fmt(sp)}x |")
    lines += ["", "## Specification curve (real CBEC study, index rebuilt per method)", "",
              "| backend | specifications | wall s | CPU s (main) | ratio to 1 process | identical to 1 process |",
              "|---|---:|---:|---:|---:|---|"]
    serial = get("multiverse", [1, None])
    for jobs, scheduler in ((1, None), (2, None), (4, None), (2, "dask")):
        r = get("multiverse", [jobs, scheduler])
        if r is None or not isinstance(r.get("wall_s"), float):
            continue
        name = f"Dask LocalCluster, {jobs} workers (start-up included)" if scheduler else (
            "serial" if jobs == 1 else f"{jobs} local processes")
        same = "yes" if serial and r["checksum"] == serial["checksum"] else "NO"
        lines.append(f"| {name} | {int(r['n_specs'])} | {_fmt(r['wall_s'])} | {_fmt(r['cpu_s'])} | "
                     f"{_fmt(r['wall_s'] / serial['wall_s'])} | {same} |")
    if serial and isinstance(serial.get("wall_s"), float):
        lines += ["", f"CBEC specification curve ({int(serial['n_specs'])} specifications): "
                      f"{serial['share_positive']:.1%} of the estimates are positive, "
                      f"{serial['share_positive_significant']:.1%} positive and significant at 5%."]
    lines += ["", "Target (issue 11): 10,000 placebo draws on the ~56,000-row panel in under 10 s on 2 cores.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
