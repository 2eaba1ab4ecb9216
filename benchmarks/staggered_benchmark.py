"""Benchmark of the staggered-DID tools against their peers, in one run; writes benchmarks/results/staggered.{md,csv}.

    .venv/bin/python benchmarks/staggered_benchmark.py [--peer-python /tmp/staggered_peers/bin/python] [--reps 15]

Data: a SYNTHETIC balanced panel of 248 units x 10 years = 2,480 rows, 5 cohorts, 5 covariates
(pilotdid.estimation.staggered.simulate, seed 2024). Peers (csdid 0.4.3, differences 0.3.0) run in a
separate interpreter (they are not pilotdid dependencies), on the same CSV, timed inside their own
process the same way (median of ``--reps`` runs after one warm-up run).

Measured: Callaway-Sant'Anna ATT(g,t) with 1,000 multiplier-bootstrap draws (no covariates; and
doubly robust with 5 covariates); HonestDiD relative magnitudes over 5 values of Mbar (the published
Medicaid example of the R package, and our CS event study of the synthetic panel); the peer cross-check
of CS point estimates; the HonestDiD comparison with the published README values.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pilotdid.estimation.staggered import cs  # noqa: E402
from pilotdid.estimation.staggered.simulate import simulate_staggered_panel  # noqa: E402
from pilotdid.inference import honest  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
FIX = ROOT / "tests" / "staggered" / "fixtures"
COVS = ["x1", "x2", "x3", "x4", "x5"]

PEER_SCRIPT = r'''
import contextlib, io, json, sys, time, warnings
import numpy as np, pandas as pd
warnings.simplefilter("ignore")
path, reps = sys.argv[1], int(sys.argv[2])
df = pd.read_csv(path)
out = {}
def timed(fn):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return float(np.median(ts))
try:
    from csdid.att_gt import ATTgt
    from importlib.metadata import version
    out["csdid_version"] = version("csdid")
    def cs_boot():
        with contextlib.redirect_stdout(io.StringIO()):
            return ATTgt(yname="y", tname="year", idname="unit", gname="first_treat", data=df,
                         control_group="nevertreated", biters=1000).fit(est_method="dr", bstrap=True)
    def cs_dr():
        with contextlib.redirect_stdout(io.StringIO()):
            return ATTgt(yname="y", tname="year", idname="unit", gname="first_treat", data=df,
                         control_group="nevertreated", xformla="y ~ x1 + x2 + x3 + x4 + x5", biters=1000).fit(est_method="dr", bstrap=True)
    out["csdid_nocov_boot1000_s"] = timed(cs_boot)
    out["csdid_dr5_boot1000_s"] = timed(cs_dr)
    res = cs_boot().results
    out["csdid_att"] = {f"{int(g)}:{int(t)}": float(a) for g, t, a in zip(res["group"], res["year"], res["att"])}
    res = cs_dr().results
    out["csdid_att_dr5"] = {f"{int(g)}:{int(t)}": float(a) for g, t, a in zip(res["group"], res["year"], res["att"])}
except Exception as err:  # a peer failure is a finding, not a benchmark crash
    out["csdid_error"] = repr(err)
try:
    from differences import ATTgt as DATTgt
    from importlib.metadata import version
    out["differences_version"] = version("differences")
    d = df.set_index(["unit", "year"])
    d["cohort"] = d["first_treat"].where(d["first_treat"] > 0)
    def diff_boot():
        with contextlib.redirect_stdout(io.StringIO()):
            m = DATTgt(data=d, cohort_column="cohort")
            return m.fit(formula="y", control_group="never_treated", boot_iterations=1000, progress_bar=False)
    out["differences_nocov_boot1000_s"] = timed(diff_boot)
except Exception as err:
    out["differences_error"] = repr(err)
print(json.dumps(out))
'''


def median_time(fn, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer-python", default=sys.executable,
                    help="Python with csdid and differences (default: this one; `make bench` installs the bench extra)")
    ap.add_argument("--reps", type=int, default=15)
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _machine import RunStamp

    stamp = RunStamp()

    df, _ = simulate_staggered_panel(n_units=248, periods=(2011, 2020), cohorts=(2015, 2016, 2017, 2018, 2019),
                                     n_covariates=5, seed=2024)
    df = df.drop(columns="synthetic")
    kw = dict(outcome="y", unit="unit", time="year", first_treat="first_treat")
    rows = []

    def ours_boot():
        return cs.bootstrap(cs.att_gt(df, **kw), draws=1000, seed=1)

    def ours_dr():
        return cs.bootstrap(cs.att_gt(df, **kw, covariates=COVS, est_method="dr"), draws=1000, seed=1)

    t_nocov = median_time(ours_boot, args.reps)
    t_dr = median_time(ours_dr, args.reps)
    rows += [{"task": "CS ATT(g,t), no covariates, 1,000 bootstrap draws", "tool": "pilotdid", "seconds": t_nocov},
             {"task": "CS ATT(g,t), DR with 5 covariates, 1,000 bootstrap draws", "tool": "pilotdid", "seconds": t_dr}]

    peer: dict = {}
    if not Path(args.peer_python).exists():
        raise SystemExit(f"peer Python {args.peer_python} not found: install the peers (pip install -e '.[bench]')")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "panel.csv"
        df.to_csv(path, index=False, float_format="%.17g")
        script = Path(tmp) / "peer.py"
        script.write_text(PEER_SCRIPT)
        proc = subprocess.run([args.peer_python, str(script), str(path), str(args.reps)], capture_output=True,
                              text=True, timeout=1800)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        peer = json.loads(lines[-1]) if lines else {"peer_error": proc.stderr[-500:]}
    for key, task, tool in (("csdid_nocov_boot1000_s", "CS ATT(g,t), no covariates, 1,000 bootstrap draws", "csdid"),
                            ("csdid_dr5_boot1000_s", "CS ATT(g,t), DR with 5 covariates, 1,000 bootstrap draws", "csdid"),
                            ("differences_nocov_boot1000_s", "CS ATT(g,t), no covariates, 1,000 bootstrap draws",
                             "differences")):
        if key in peer:
            rows.append({"task": task, "tool": f"{tool} {peer.get(tool + '_version', '')}".strip(), "seconds": peer[key]})

    cross = {}
    ours = cs.att_gt(df, **kw).att_gt
    ours_map = {f"{g}:{t}": a for g, t, a in zip(ours.group, ours.time, ours.att)}
    if "csdid_att" in peer:
        cross["no covariates"] = max(abs(ours_map[k] - v) for k, v in peer["csdid_att"].items())
    ours_dr_tab = cs.att_gt(df, **kw, covariates=COVS).att_gt
    ours_dr_map = {f"{g}:{t}": a for g, t, a in zip(ours_dr_tab.group, ours_dr_tab.time, ours_dr_tab.att)}
    if "csdid_att_dr5" in peer:
        cross["DR, 5 covariates"] = max(abs(ours_dr_map[k] - v) for k, v in peer["csdid_att_dr5"].items())

    # HonestDiD: the published Medicaid example (R README) and our synthetic CS event study.
    med = pd.read_csv(FIX / "honest_medicaid_example.csv", comment="#")
    b, S = med["betahat"].to_numpy(), med.filter(like="cov_").to_numpy()
    mbar = [0.0, 0.5, 1.0, 1.5, 2.0]
    t_rm = median_time(lambda: honest.sensitivity(b, S, 5, 2, restriction="relative_magnitudes", grid=mbar), args.reps)
    rm = honest.sensitivity(b, S, 5, 2, restriction="relative_magnitudes", grid=[0.5, 1.0, 1.5, 2.0])
    sd = honest.sensitivity(b, S, 5, 2, restriction="smoothness", grid=[0.0, 0.01, 0.02, 0.03, 0.04, 0.05])
    t_sd = median_time(lambda: honest.sensitivity(b, S, 5, 2, restriction="smoothness", grid=[0.0, 0.01, 0.02]), 3)
    rows += [{"task": "HonestDiD RM (C-LF), 5 values of Mbar, Medicaid example", "tool": "pilotdid", "seconds": t_rm},
             {"task": "HonestDiD SD (FLCI), 3 values of M, Medicaid example", "tool": "pilotdid", "seconds": t_sd}]
    # a larger event study: synthetic CS dynamic aggregation, 3 pre / 5 post
    res = cs.att_gt(df, **kw, base_period="universal")
    agg = cs.aggregate(res, "dynamic", min_e=-4, max_e=4)
    keep = (agg.detail.event_time != -1).to_numpy()
    inf = agg.influence[:, 1:][:, keep]
    V = inf.T @ inf / res.n_units ** 2
    beta = agg.detail.att.to_numpy()[keep]
    t_rm8 = median_time(lambda: honest.sensitivity(beta, V, 3, 5, restriction="relative_magnitudes", grid=mbar), 5)
    rows.append({"task": "HonestDiD RM (C-LF), 5 values of Mbar, synthetic CS event study 3 pre / 5 post",
                 "tool": "pilotdid", "seconds": t_rm8})
    table = pd.DataFrame(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    table.to_csv(RESULTS / "staggered.csv", index=False, float_format="%.4f")

    published_rm = {0.5: (0.0240, 0.0672), 1.0: (0.0170, 0.0720), 1.5: (0.00824, 0.0797), 2.0: (-0.000916, 0.0881)}
    published_sd = {0.0: (0.0259, 0.0607), 0.01: (0.0132, 0.0787), 0.02: (0.00286, 0.0907), 0.03: (-0.00714, 0.101),
                    0.04: (-0.0171, 0.111), 0.05: (-0.0271, 0.121)}
    lines = ["# Staggered DID benchmark (generated by benchmarks/staggered_benchmark.py)", "",
             stamp.line(), "",
             f"pandas {pd.__version__}; median of {args.reps} runs after a warm-up run. Data: SYNTHETIC panel, "
             "248 units x 10 years = 2,480 rows, 5 cohorts, 5 covariates (seed 2024); the no-covariate CS row beside "
             "its peers at 2.5k, 56k and 1M rows on the seed-1 panels is in estimators.md.", "",
             "## Timings", "", "| task | tool | median (ms) |", "|---|---|---:|"]
    lines += [f"| {r.task} | {r.tool} | {1000 * r.seconds:.1f} |" for r in table.itertuples()]
    lines += ["", "Targets: CS with 1,000 draws no slower than csdid (peer-notes: 42 ms); HonestDiD RM over 5 Mbar < 2 s "
              "(the Python `honestdid` port: 104 s).", ""]
    if peer.get("csdid_error") or peer.get("differences_error") or peer.get("peer_error"):
        lines += ["Peer errors: " + "; ".join(f"{k}: {v}" for k, v in peer.items() if k.endswith("error")), ""]
    lines += ["## CS cross-check against csdid on the benchmark panel (max |ATT(g,t) difference|)", ""]
    lines += [f"- {k}: {v:.2e}" for k, v in cross.items()] or ["- peer not available in this run"]
    lines += ["", "The CI test (tests/staggered/test_cs.py) compares 8 configurations (never/not-yet-treated, varying/"
              "universal base, dr/ipw/reg with covariates), ATT(g,t), SEs and all four aggregations, with stored csdid "
              "0.4.3 values (tests/staggered/fixtures/cs_reference.csv): all agree to < 1e-11.", "",
              "## HonestDiD vs the published R package README (Medicaid example, first post period)", "",
              "betahat/sigma: pyfixest `dins ~ i(year, D, ref=2013) | stfips + year`, CRV1 by state, on the public "
              "ehec_data (tests/staggered/fixtures/honest_medicaid_example.csv). Published = R HonestDiD README output.",
              "", "| restriction | M | published lb | ours lb | published ub | ours ub |", "|---|---:|---:|---:|---:|---:|"]
    for r in rm.table.itertuples():
        p = published_rm[r.M]
        lines.append(f"| RM, C-LF | {r.M:g} | {p[0]:.6g} | {r.lb:.5f} | {p[1]:.6g} | {r.ub:.5f} |")
    for r in sd.table.itertuples():
        p = published_sd[round(r.M, 2)]
        lines.append(f"| SD, FLCI | {r.M:g} | {p[0]:.6g} | {r.lb:.5f} | {p[1]:.6g} | {r.ub:.5f} |")
    lines += ["", f"Breakdown Mbar (RM, grid 0.5..2): {rm.breakdown} (README: significant up to Mbar just below 2).",
              "R inverts the RM test on a 1,000-point theta grid and simulates the least-favourable critical value, "
              "so agreement to ~4e-4 is the expected precision; FLCI agrees to ~1e-4 (R optimises on a 100-point grid)."]
    (RESULTS / "staggered.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    errors = {k: v for k, v in peer.items() if k.endswith("error")}
    if errors:  # a peer that did not run is a failed benchmark, not a silently shorter table
        raise SystemExit(f"peer(s) failed: {errors}")


if __name__ == "__main__":
    main()
