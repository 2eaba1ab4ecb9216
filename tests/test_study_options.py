"""Study-file options are declared once (src/pilotdid/study/options.py): checked before any data is read,
and docs/study-file.md is generated from the same declarations."""

from __future__ import annotations

import importlib
import pkgutil
import tomllib
from pathlib import Path

import pytest

import pilotdid.study.analyses as analyses_pkg
from pilotdid.errors import PilotdidInputError
from pilotdid.study import runner, spec
from pilotdid.study.options import ANALYSIS_OPTIONS, section_keys, study_file_reference

ROOT = Path(__file__).resolve().parents[1]
CBEC = ROOT / "src" / "pilotdid" / "studies" / "cbec" / "study.toml"


def test_committed_reference_is_the_generated_one():
    committed = (ROOT / "docs" / "study-file.md").read_text(encoding="utf-8")
    assert committed == study_file_reference(), (
        "docs/study-file.md is out of date: run `python -m pilotdid.study.options > docs/study-file.md`")


def _wrong_value(kind: str) -> str:
    """A TOML value of a type the declared ``kind`` does not take."""
    kinds = set(kind.split("|"))
    return next(v for k, v in (("table", "{ a = 1 }"), ("str", '"x"'), ("list", "[1]")) if k not in kinds)


@pytest.mark.parametrize("section, key", [(s, k) for s, keys in section_keys().items() for k in keys])
def test_the_parser_takes_each_section_key_with_its_declared_type(section, key):
    """The study parser checks every section key against the declaration docs/study-file.md is generated from."""
    sections = {"study": {"name": '"t"'}, "data": {"panel": '"p.csv"', "unit": '"u"', "time": '"t"'},
                "model": {"outcome": '"y"'}}
    kind = section_keys()[section][key][0]
    sections.setdefault(section, {})[key] = _wrong_value(kind)
    text = "".join(f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()) for name, keys in sections.items())
    with pytest.raises(PilotdidInputError, match=rf"\[{section}\] {key} must be of type"):
        spec.parse_study(text)


def test_reference_covers_every_analysis_option():
    text = study_file_reference()
    for name, options in ANALYSIS_OPTIONS.items():
        assert f"[analyses.{name}]" in text
        for o in options:
            assert f"| `{o.name}` |" in text


def analysis_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(analyses_pkg.__path__) if not m.name.startswith("_"))


@pytest.mark.parametrize("name", analysis_modules())
def test_every_analysis_is_declared_and_checked_by_the_declarations_alone(name):
    """The declarations are the one list of an analysis's options: the module keeps no copy of its own, and its
    ``run`` called directly (the Python API) refuses a typo through the declared check before it touches the data."""
    from types import SimpleNamespace

    assert name in ANALYSIS_OPTIONS, f"declare the options of analysis {name!r} in study/options.py"
    module = importlib.import_module(f"pilotdid.study.analyses.{name}")
    assert not hasattr(module, "OPTIONS") and not hasattr(module, "_OPTION_KEYS"), (
        f"analysis {name}: its options are declared in study/options.py; delete the module's own list")
    no_data = SimpleNamespace(extras={})  # any use of the context beyond this fails the test
    with pytest.raises(PilotdidInputError) as err:
        module.run(no_data, {"seed": 1, "windw": 3})  # seed: every analysis takes it (--seed sets it for all)
    assert str(err.value).startswith(f"[analyses.{name}]: unknown option(s) windw --"), str(err.value)


def test_declared_defaults_are_the_analyses_defaults():
    """Where an analysis writes a default as a literal (``options.get("k", 1)``) it is the declared one, so
    docs/study-file.md and `pilotdid options` never document a default the analysis does not use."""
    import ast

    from pilotdid.estimation.twfe.covariance import VCOV_PRESETS
    from pilotdid.study.options import options_of

    compared = 0
    for name in analysis_modules():
        declared = {o.name: o.default for o in options_of(name)}
        source = Path(importlib.import_module(f"pilotdid.study.analyses.{name}").__file__).read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "options" and len(node.args) == 2
                    and isinstance(node.args[0], ast.Constant)):
                key = node.args[0].value
                assert key in declared, f"analysis {name} reads undeclared option {key!r}"
                if isinstance(declared[key], str) and declared[key].startswith("("):
                    continue  # a default described in words ("(from the study)")
                try:
                    default = ast.literal_eval(node.args[1])
                except ValueError:
                    continue  # a default computed from the study or a constant
                assert default == declared[key], f"[analyses.{name}] {key}: analysis default {default!r}, declared {declared[key]!r}"
                compared += 1
    assert compared > 50
    assert dict((o.name, o.default) for o in options_of("vcov_presets"))["presets"] == list(VCOV_PRESETS)


def test_every_shipped_study_passes_the_check():
    from pilotdid.study.options import check_study_options

    for path in [CBEC, *sorted((ROOT / "examples").rglob("*.toml"))]:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        check_study_options(raw.get("analyses", {}))


def cbec_analyses() -> list[str]:
    return list(tomllib.loads(CBEC.read_text(encoding="utf-8"))["analyses"])


@pytest.mark.parametrize("analysis", cbec_analyses())
def test_a_typo_in_any_cbec_analysis_is_refused_before_the_panel_is_read(analysis, monkeypatch):
    text = CBEC.read_text(encoding="utf-8").replace(f"[analyses.{analysis}]", f"[analyses.{analysis}]\nwindw = 3", 1)
    study = spec.parse_study(text, path=CBEC)

    def no_reading(*args, **kwargs):
        raise AssertionError("the panel was read before the options were checked")

    monkeypatch.setattr(runner, "read_panel", no_reading)
    with pytest.raises(PilotdidInputError) as err:
        runner.run_study(study)
    assert f"[analyses.{analysis}]" in str(err.value) and "windw" in str(err.value)


@pytest.mark.parametrize("analysis, key, value, says", [
    ("staggered", "control_group", '"never"', "not allowed"),
    ("staggered", "estimators", '["cs", "xx"]', "not allowed"),
    ("placebo", "draws", '"many"', "must be an integer"),
    ("event_study", "window", "4", "must be two integers"),
    ("baseline", "stepwise", '"yes"', "must be true or false"),
    # ranges are declared too (minimum/maximum): refused before the panel is read, not when the analysis runs
    ("placebo", "draws", "0", "draws must be a positive integer up to 1,000,000, got 0 -- fix: e.g. draws = 1000"),
    ("baseline", "digits", "9", "digits must be an integer 0–8, got 9"),
    ("staggered", "sdid_replications", "1", "sdid_replications must be an integer from 2 to 1,000,000, got 1"),
    ("mechanism", "seed", "-1", "seed must be a non-negative integer, got -1"),
    ("multiverse", "controls", '["study", "some"]', "unknown control set 'some'"),
    ("placebo", "draws", "2000000", "draws must be a positive integer up to 1,000,000, got 2000000 -- fix: use at most 1,000,000"),
    ("wild_bootstrap", "reps", "1000001", "reps must be a non-negative integer up to 1,000,000, got 1000001"),
    ("mechanism", "boot_draws", "1000001", "boot_draws must be a positive integer up to 1,000,000"),
    ("multiverse", "placebo_draws", "1000001", "placebo_draws must be a non-negative integer up to 1,000,000"),
    ("staggered", "sdid_replications", "1000001", "sdid_replications must be an integer from 2 to 1,000,000, got 1000001"),
])
def test_wrong_types_and_values_are_refused_first(analysis, key, value, says, monkeypatch):
    text = CBEC.read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.startswith(f"{key} ")]  # drop the study's own value
    text = "\n".join(lines).replace(f"[analyses.{analysis}]", f"[analyses.{analysis}]\n{key} = {value}", 1)
    study = spec.parse_study(text, path=CBEC)
    monkeypatch.setattr(runner, "read_panel", lambda *a, **k: (_ for _ in ()).throw(AssertionError("read")))
    with pytest.raises(PilotdidInputError) as err:
        runner.run_study(study)
    assert f"[analyses.{analysis}] {key}" in str(err.value) and says in str(err.value)


def test_pilotdid_options_prints_the_declarations(run_cli):
    code, out, _ = run_cli("options")
    assert code == 0
    for name in ANALYSIS_OPTIONS:
        assert f"  {name} " in out
    code, out, _ = run_cli("options", "staggered")
    assert code == 0
    for o in ANALYSIS_OPTIONS["staggered"]:
        assert f"  {o.name} (" in out
    code, _, err = run_cli("options", "nope")
    assert code == 2 and "unknown analysis 'nope'" in err


def test_checking_a_study_imports_no_estimator_library():
    """The check runs before anything heavy loads (why a typo is refused in about a second): parsing the CBEC study
    and checking every option must not import pyfixest, matplotlib or the estimators."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from pilotdid.study.spec import load_study\n"
        "from pilotdid.study.options import check_study_options\n"
        f"spec = load_study({str(CBEC)!r})\n"
        "check_study_options(spec.analyses)\n"
        "try:\n"
        "    check_study_options({'baseline': {'stepwize': 1}})\n"
        "except Exception as exc:\n"
        "    assert 'stepwize' in str(exc)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pyfixest', 'matplotlib', 'statsmodels'))\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
