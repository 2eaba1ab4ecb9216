"""docs/interface.md is the contract: every command, option, study-file key, results.json key and API name it
names exists in the code (and the original contract in /work/shared is kept word for word at its top)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "interface.md").read_text(encoding="utf-8")


def click_root():
    import typer

    from pilotdid.cli import _register, app

    _register()
    return typer.main.get_command(app)


def find_command(root, words: list[str]):
    cmd = root
    for word in words:
        sub = getattr(cmd, "commands", {}).get(word)
        if sub is None:
            return cmd, words[words.index(word):]
        cmd = sub
    return cmd, []


def documented_commands() -> list[str]:
    """`pilotdid …` invocations in the command tables (first cell of each row)."""
    rows = re.findall(r"^\| `((?:python -m )?pilotdid [^`]*)`", DOC, flags=re.M)
    rows += re.findall(r"`pilotdid registry show [^`]*`", DOC)
    return rows


@pytest.mark.parametrize("line", documented_commands())
def test_every_documented_command_and_option_exists(line):
    root = click_root()
    if line.startswith("python -m pilotdid"):
        assert (ROOT / "src" / "pilotdid" / "__main__.py").exists()
        return
    text = line.split(" / ")[0]
    words = text.split()[1:]
    plain = [w for w in words if re.fullmatch(r"[a-z][a-z_-]*", w)]
    cmd, rest = find_command(root, plain)
    assert cmd is not root and not [w for w in rest if not w.isupper()], f"no command for {line!r}"
    params = {opt for p in cmd.params for opt in getattr(p, "opts", [])}
    for flag in re.findall(r"--[a-z][a-z-]*", line):
        assert flag in params, f"{line!r}: {flag} is not an option of the command"


def test_make_targets_exist():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("replicate", "test"):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target


def toml_blocks() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", DOC, flags=re.S)


def test_study_file_example_keys_are_accepted():
    from pilotdid.study.options import check_study_options
    from pilotdid.study.spec import parse_study

    study = toml_blocks()[0]
    # the example shows the three treatment forms commented out but one: it must parse as a whole study
    spec = parse_study(study, path=ROOT / "study.toml")
    check_study_options(spec.analyses)
    assert spec.model["vcov"] == "lsdv"


def test_outputs_example_is_accepted_and_names_exist():
    from pilotdid.study.options import output_names
    from pilotdid.study.spec import parse_study

    block = re.search(r"## Table and figure names.*?```toml\n(.*?)```", DOC, flags=re.S).group(1)
    minimal = ('[study]\nname = "x"\n[data]\npanel = "p.csv"\nunit = "u"\ntime = "t"\n[treatment]\ncolumn = "d"\n'
               '[model]\noutcome = "y"\n')
    spec = parse_study(block + minimal, path=ROOT / "study.toml")
    assert spec.outputs["robustness"]["name"] == "table5_robustness"
    section = DOC.split("## Table and figure names", 1)[1].split("\n## ", 1)[0].split("```toml")[0]
    for name in re.findall(r"`([a-z_]+)`", section):
        assert name in output_names(), name


def test_indicator_system_example_loads(tmp_path):
    from pilotdid.measures.system import load_indicator_system

    system = toml_blocks()[1]
    path = tmp_path / "system.toml"
    path.write_text(system, encoding="utf-8")
    loaded = load_indicator_system(path)
    assert [i.name for i in loaded.indicators] == ["gdp_per_capita"]


def test_results_json_keys_are_the_schema():
    import json

    from pilotdid.results.schema import AGGREGATE_KEYS, ESTIMATE_KEYS, EVENT_STUDY_KEYS, PLACEBO_KEYS

    block = re.search(r"## results.json\n```json\n(.*?)```", DOC, flags=re.S).group(1)
    doc = json.loads(block)
    assert tuple(doc["estimates"][0]) == ESTIMATE_KEYS
    assert tuple(doc["event_study"][0]) == EVENT_STUDY_KEYS
    assert tuple(doc["placebo"]) == PLACEBO_KEYS
    assert tuple(doc["aggregates"][0]) == AGGREGATE_KEYS


def test_api_names_exist_and_protocol_is_as_documented():
    import pilotdid as pdid
    from pilotdid.results import TIDY_COLUMNS, Result

    api_section = DOC.split("## Python API", 1)[1].split("\n## ", 1)[0]
    for name in set(re.findall(r"pdid\.([a-z_]+)\(", api_section)) | set(re.findall(r"`pdid\.([a-z_]+)`", api_section)):
        assert name in pdid.__all__, name
    for method in ("summary", "tidy", "plot", "_repr_html_", "to_dict", "conventions"):
        assert hasattr(Result, method) and f"`.{method}" in api_section
    assert "`" + ", ".join(TIDY_COLUMNS) + "`" in api_section


def test_documents_named_exist():
    for name in re.findall(r"`((?:docs|examples|src)/[^`]+)`", DOC):
        assert (ROOT / name).exists(), name


#: sha256 of the contract as handed over (/work/shared/docs/interface.md, 4413 characters): the additions go after it.
ORIGINAL_SHA256 = "b59fe86d2bd6fcd5f38d85f88f932cae5df63df24ab4adab1fb974b4b2d49cd9"
ORIGINAL_LENGTH = 4413


def test_original_contract_is_kept_verbatim():
    import hashlib

    assert hashlib.sha256(DOC[:ORIGINAL_LENGTH].encode("utf-8")).hexdigest() == ORIGINAL_SHA256
