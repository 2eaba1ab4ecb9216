"""Same inputs, same bytes in every process (issue 15): the CLI runs in two subprocesses with PYTHONHASHSEED=1 and =2.

pyfixest 0.60 ordered the fixed effects of a formula by a set(), so the last digits of coefficients followed the
string-hash seed (up to 5e-7 on the unbalanced low-carbon panel); pilotdid.estimation.fixest keeps the formula's
order. A test inside one process cannot see this, hence the subprocesses. Compared byte for byte: results.json
and every table. Then `pilotdid verify` (a third process' hash seed) must pass on the untouched folder, name a
changed input ("input changed: NAME", exit 1) and refuse a malformed manifest with one line (exit 2).

Cases: the low-carbon example (real published sample, in the repo) and a SYNTHETIC unbalanced tutorial-style panel
run in CI; the CBEC study (~40 s a run on a loaded 2-core machine) is marked slow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pilotdid

from .conftest import sha256_tree, synthetic_panel

REPO = Path(__file__).resolve().parents[2]
SRC = Path(pilotdid.__file__).resolve().parents[1]

TUTORIAL_STUDY = """\
[study]
name = "synthetic_tutorial_unbalanced"
seed = 7

[data]
panel = "my_panel.csv"
unit = "unit"
time = "year"

[treatment]
first_treat = "first_year"

[model]
outcome = "y"
controls = ["x1", "x2"]
fixed_effects = ["unit", "year"]
cluster = "unit"
vcov = "reghdfe"

[analyses.baseline]
stepwise = true
[analyses.event_study]
window = [-3, 3]
[analyses.placebo]
draws = 19
[analyses.staggered]
estimators = ["cs", "sa", "bjs", "bacon"]
draws = 19
"""


def _cli(*args: str, hash_seed: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "pilotdid", *args], capture_output=True, text=True, env=env, timeout=900)


def _compared(out: Path) -> dict[str, str]:
    return {k: v for k, v in sha256_tree(out).items() if k == "results.json" or k.startswith("tables/")}


def _two_processes(command: list[str], tmp_path: Path) -> list[Path]:
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / f"out_hash{seed}"
        done = _cli(*command, "--out", str(out), "--quiet", hash_seed=seed)
        assert done.returncode == 0, done.stderr
        outs.append(out)
    first, second = (_compared(o) for o in outs)
    assert "results.json" in first and any(k.startswith("tables/") for k in first)
    differing = sorted(k for k in first if first[k] != second.get(k))
    assert not differing and first.keys() == second.keys(), f"PYTHONHASHSEED changes {differing}"
    return outs


def _verify_passes_and_names_a_changed_input(out: Path, input_file: Path, run_cli) -> None:
    code, stdout, err = run_cli("verify", str(out))
    assert code == 0, stdout + err
    original = input_file.read_bytes()
    try:
        input_file.write_bytes(original + b"\n")
        code, stdout, err = run_cli("verify", str(out))
    finally:
        input_file.write_bytes(original)
    assert code == 1, stdout + err
    assert f"input changed: {input_file.name}" in " ".join(stdout.split())


def _malformed_manifest_is_one_line(out: Path, run_cli) -> None:
    (out / "manifest.json").write_text("[]", encoding="utf-8")
    code, _, err = run_cli("verify", str(out))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "manifest.json" in err


def test_tutorial_unbalanced_panel_is_byte_identical_across_hash_seeds(tmp_path, run_cli) -> None:
    panel = synthetic_panel(seed=11)
    panel["first_year"] = panel["first_year"].where(panel["first_year"] > 0)  # never treated: empty
    drop = panel.sample(frac=0.08, random_state=3).index  # unbalanced: 8% of unit-years missing
    panel.drop(index=drop).to_csv(tmp_path / "my_panel.csv", index=False)
    (tmp_path / "my_study.toml").write_text(TUTORIAL_STUDY, encoding="utf-8")
    outs = _two_processes(["run", str(tmp_path / "my_study.toml")], tmp_path)
    _verify_passes_and_names_a_changed_input(outs[0], tmp_path / "my_panel.csv", run_cli)
    _malformed_manifest_is_one_line(outs[1], run_cli)


def test_lowcarbon_example_is_byte_identical_across_hash_seeds(tmp_path, run_cli) -> None:
    example = tmp_path / "lowcarbon"
    shutil.copytree(REPO / "examples" / "lowcarbon", example)  # a copy: the test changes an input below
    outs = _two_processes(["run", str(example / "study.toml"), "--draws", "19"], tmp_path)
    _verify_passes_and_names_a_changed_input(outs[0], example / "study.toml", run_cli)
    manifest = json.loads((outs[0] / "manifest.json").read_text(encoding="utf-8"))
    assert "sample.xlsx" in manifest["inputs_sha256"]  # recorded relative to the study file


@pytest.mark.slow
def test_cbec_replication_is_byte_identical_across_hash_seeds(tmp_path, run_cli) -> None:
    outs = _two_processes(["replicate", "--draws", "19"], tmp_path)
    code, stdout, err = run_cli("verify", str(outs[0]))
    assert code == 0, stdout + err
