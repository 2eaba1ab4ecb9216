"""Data flows one way: nothing imports upward.

    core (errors, rng, results, parallel, provenance) -> data -> measures -> design (design, registry) -> estimation
    -> inference -> presentation (report.table/export/regression_table/*_tables/figures) -> study
    -> report (output, html, docx, verify), cli, api

Every ``import`` in ``src/pilotdid`` (module level and inside functions, parsed with ``ast``) is checked
against this order. Decisions worth naming:

- estimation sits below inference: placebo, wild bootstrap and HonestDiD re-use estimators; no estimator
  imports an inference routine (helpers they share live in ``estimation/within.py`` and ``pilotdid/rng.py``).
- the presentation modules of ``report`` (``report/*_tables.py``, ``regression_table``, ``figures``) sit below
  ``study``: they take result objects (an event study, a placebo, the robustness columns, the staggered
  estimators' results ...) and lay out tables and figures, and the analyses call them to hand the runner
  finished tables. Nothing in them reads a study context. The output writer, the HTML/Word report and
  ``verify`` sit above ``study``. Moving the presentation rank above ``study`` would need the runner, not the
  analyses, to call them (and ``AnalysisOutput`` to carry results instead of tables); the matching analysis
  still builds its tables in place.
- a module may import modules of its own rank, except across the estimation/inference line above.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "pilotdid"

#: (rank, module prefixes) from the bottom of the house up; the longest matching prefix wins.
LAYERS: list[tuple[int, str, tuple[str, ...]]] = [
    (0, "core", ("pilotdid.errors", "pilotdid.rng", "pilotdid.results", "pilotdid.parallel", "pilotdid.i18n",
                 "pilotdid.outdir", "pilotdid.provenance")),
    (1, "data", ("pilotdid.data",)),
    (2, "measures", ("pilotdid.measures",)),
    (3, "design", ("pilotdid.design", "pilotdid.registry")),
    (4, "estimation", ("pilotdid.estimation",)),
    (5, "inference", ("pilotdid.inference",)),
    (6, "presentation", ("pilotdid.report.table", "pilotdid.report.export", "pilotdid.report.regression_table",
                         "pilotdid.report.numbers", "pilotdid.report.labels", "pilotdid.report.sensitivity",
                         "pilotdid.report.event_study_table", "pilotdid.report.placebo_tables",
                         "pilotdid.report.inference_tables", "pilotdid.report.paper_tables",
                         "pilotdid.report.robustness_tables", "pilotdid.report.index_tables",
                         "pilotdid.report.specification_curve_tables", "pilotdid.report.staggered_tables",
                         "pilotdid.report.figures")),
    (7, "study", ("pilotdid.study", "pilotdid.studies")),
    (8, "report/cli", ("pilotdid.report", "pilotdid.cli", "pilotdid.api", "pilotdid.__main__")),
]
#: The package itself (``pilotdid/__init__.py``: the lazy public API) is at the top.
PACKAGE = "pilotdid"


def layer_of(module: str) -> tuple[int, str]:
    if module == PACKAGE:
        return LAYERS[-1][0], LAYERS[-1][1]
    best: tuple[int, int, str] | None = None
    for rank, name, prefixes in LAYERS:
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), rank, name)
    assert best is not None, f"{module} is in no layer: add its prefix to LAYERS in tests/test_layers.py"
    return best[1], best[2]


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, imported pilotdid module) for every import in the file, wherever it is."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "pilotdid"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "pilotdid":
                continue
            # "from pilotdid.report import table" imports the module pilotdid.report.table
            for alias in node.names:
                sub = f"{mod}.{alias.name}"
                found.append((node.lineno, sub if (SRC.parent / (sub.replace(".", "/") + ".py")).exists()
                              or (SRC.parent / sub.replace(".", "/")).is_dir() else mod))
    return found


def upward_imports(files: list[Path]) -> list[str]:
    problems = []
    for path in files:
        here = module_name(path)
        rank, name = layer_of(here)
        for line, target in imports_of(path):
            t_rank, t_name = layer_of(target)
            if t_rank > rank:
                problems.append(f"{path.relative_to(SRC.parent)}:{line}: {here} ({name}) imports {target} ({t_name})")
    return problems


def source_files() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_every_module_has_a_layer():
    for path in source_files():
        layer_of(module_name(path))


def test_nothing_imports_upward():
    problems = upward_imports(source_files())
    assert not problems, "upward imports (see tests/test_layers.py for the order):\n" + "\n".join(problems)


def check_fake_tree(fake_src: Path, check) -> list[str]:
    """``check`` run on a scratch package tree (module names resolved against it)."""
    globals()["SRC"], old = fake_src, SRC
    try:
        return check(sorted(fake_src.rglob("*.py")))
    finally:
        globals()["SRC"] = old


def test_the_check_catches_an_upward_import(tmp_path):
    """A deliberate violation is reported (the test above can fail)."""
    fake_src = tmp_path / "pilotdid"
    (fake_src / "estimation").mkdir(parents=True)
    (fake_src / "study").mkdir()
    (fake_src / "estimation" / "bad.py").write_text("def f():\n    from pilotdid.study.runner import run_study\n")
    (fake_src / "estimation" / "good.py").write_text("from pilotdid.results import Result\n")
    problems = check_fake_tree(fake_src, upward_imports)
    assert len(problems) == 1 and "estimation.bad" in problems[0] and "pilotdid.study.runner" in problems[0]


@pytest.mark.parametrize("module, rank", [
    ("pilotdid.results.schema", 0), ("pilotdid.estimation.within", 4), ("pilotdid.inference.placebo", 5),
    ("pilotdid.report.table", 6), ("pilotdid.study.runner", 7), ("pilotdid.report.output", 8), ("pilotdid.api", 8),
])
def test_layer_assignment(module, rank):
    assert layer_of(module)[0] == rank


def test_only_estimation_fixest_reads_pyfixest_private_attributes():
    """pyfixest keeps N, the covariance, coefficient names... in private attributes; one module reads them."""
    import re

    private = re.compile(r"\b(?:fit|model|es|res|est|static)\._(?:vcov|coefnames|N|beta_hat|G|ssc|df_k|r2|r2_within|"
                         r"collin_vars)\b|getattr\((?:fit|model), \"_")
    offenders = [f"{p.relative_to(SRC.parent)}:{i}" for p in source_files() if p.name != "fixest.py"
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if private.search(line)]
    assert not offenders, "use the accessors of pilotdid.estimation.fixest: " + ", ".join(offenders)


#: analysis -> other analysis imports still allowed, with the reason (issue 16: analyses do not import each other;
#: shared helpers live in the underscore modules _common, _options, _paper_table)
ANALYSIS_CROSS_IMPORTS = {
    # capital_flag is robustness's; tests/scale/test_multiverse.py steers the multiverse by patching it there
    ("pilotdid.study.analyses.multiverse", "pilotdid.study.analyses.robustness"),
}


def analysis_cross_imports(files: list[Path]) -> list[str]:
    problems = []
    for path in files:
        here = module_name(path)
        if not here.startswith("pilotdid.study.analyses.") or here.rpartition(".")[2].startswith("_"):
            continue
        for line, target in imports_of(path):
            if (target.startswith("pilotdid.study.analyses.") and not target.rpartition(".")[2].startswith("_")
                    and target != here and (here, target) not in ANALYSIS_CROSS_IMPORTS):
                problems.append(f"{path.relative_to(SRC.parent)}:{line}: {here} imports {target}")
    return problems


def test_analyses_do_not_import_each_other():
    problems = analysis_cross_imports(source_files())
    assert not problems, "an analysis imports another (move the shared helper to _common):\n" + "\n".join(problems)


def test_the_cross_import_check_catches_one(tmp_path):
    fake_src = tmp_path / "pilotdid"
    (fake_src / "study" / "analyses").mkdir(parents=True)
    (fake_src / "study" / "analyses" / "honest.py").write_text("from pilotdid.study.analyses.staggered import x\n")
    (fake_src / "study" / "analyses" / "staggered.py").write_text("from pilotdid.study.analyses._common import y\n")
    (fake_src / "study" / "analyses" / "_common.py").write_text("y = 1\n")
    problems = check_fake_tree(fake_src, analysis_cross_imports)
    assert len(problems) == 1 and "honest" in problems[0] and "staggered" in problems[0]
