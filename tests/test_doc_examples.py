"""The examples a new user copies from README.md and docs/ run as written and print what the text says.

- README's Python block runs in a fresh folder that sees the repository's ``examples/`` (REAL low-carbon sample).
- README's five-minute tutorial study (and its ``[tables]`` block) runs with ``pilotdid run`` on a panel made of
  the REAL ``mpdta`` data (tests/toolkit/fixtures, R did's example) under the tutorial's column names.
- Every ``toml`` block of docs/study-file.md is accepted by the study parser and the option checker.
- Every ``pilotdid ...`` line of README's shell blocks and command table names a real command and real options.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
STUDY_DOC = (ROOT / "docs" / "study-file.md").read_text(encoding="utf-8")
MPDTA = ROOT / "tests" / "toolkit" / "fixtures" / "mpdta.csv"

#: README python blocks that need what a test cannot have (a SLURM cluster), each with the reason.
NOT_RUN = {"dask_jobqueue": "needs a SLURM cluster"}


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def toml_blocks(text: str) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", text, flags=re.S)


def cli_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_readme_python_blocks_run_as_written(tmp_path):
    blocks = python_blocks(README)
    runnable = [b for b in blocks if not any(key in b for key in NOT_RUN)]
    assert len(blocks) - len(runnable) == len(NOT_RUN) and runnable
    (tmp_path / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    for block in runnable:
        script = tmp_path / "block.py"
        script.write_text(block, encoding="utf-8")
        done = subprocess.run([sys.executable, "-W", "error", str(script)], cwd=tmp_path, env=cli_env(),
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        # what its comments promise: the numbers printed, the files written
        for number in re.findall(r"#.*?did (\d\.\d+) \(SE (\d\.\d+)\)", block):
            for value in number:
                assert value in done.stdout, (value, done.stdout[:800])
        for name in re.findall(r"(?:savefig|path=)\(?\"([\w.]+)\"", block):
            assert (tmp_path / name).stat().st_size > 1000, name


def tutorial_study() -> str:
    section = README.split("## Bring your own panel", 1)[1]
    block = toml_blocks(section)[0]
    return "\n".join(line[3:] if line.startswith("   ") else line for line in block.splitlines()) + "\n"


def tables_block() -> str:
    return toml_blocks(README.split("**Tables for a journal.**", 1)[1])[0]


def tutorial_panel(folder: Path) -> Path:
    """The tutorial's columns (city, year, pilot_year, y, x1, x2) from REAL mpdta. Its only covariate, log
    population, is constant within a county, so x1 and x2 are time-varying functions of it (DERIVED, not data)
    that survive the unit fixed effects and are not collinear within a year (CS's outcome regression)."""
    m = pd.read_csv(MPDTA)
    panel = pd.DataFrame({
        "city": m["countyreal"].astype(str), "year": m["year"], "pilot_year": m["first.treat"], "y": m["lemp"],
        "x1": m["lpop"] * (m["year"] - 2002) / 5, "x2": m["lpop"] ** 2 * ((m["year"] - 2005) ** 2 + 1) / 100,
    })
    path = folder / "my_panel.xlsx"
    panel.to_excel(path, sheet_name="Sheet1", index=False)
    return path


def test_readme_tutorial_study_runs_with_the_tables_block(tmp_path):
    tutorial_panel(tmp_path)
    study = tmp_path / "my_study.toml"
    study.write_text(tutorial_study() + "\n" + tables_block(), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pilotdid", "run", "my_study.toml", "--out", "output/my_policy"],
                          cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "output" / "my_policy"
    assert (out / "report.html").exists() and (out / "tables" / "baseline.md").exists()
    # the headline is one line even when stdout is a pipe (no hard wrap at 80 columns)
    headline = next(line for line in done.stdout.splitlines() if line.startswith("Headline:"))
    assert headline.endswith("baseline column 3"), headline
    assert done.stdout.splitlines()[-1] == str(out.resolve())


def test_every_study_file_doc_block_is_accepted():
    from pilotdid.study.options import check_study_options
    from pilotdid.study.spec import parse_study

    minimal = ('[study]\nname = "x"\n[data]\npanel = "p.csv"\nunit = "u"\ntime = "t"\n[treatment]\ncolumn = "d"\n'
               '[model]\noutcome = "y"\n')
    blocks = toml_blocks(STUDY_DOC)
    assert len(blocks) >= 15
    for block in blocks:
        # a top-level table ([study.outputs]) goes before the analyses, an [analyses.X] block after everything
        text = minimal + block if block.lstrip().startswith("[analyses.") else block + minimal
        spec = parse_study(text, path=ROOT / "study.toml")
        check_study_options(spec.analyses)


def readme_commands() -> list[str]:
    lines = re.findall(r"^\| `(pilotdid [^`]*)`", README, flags=re.M)
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.S):
        lines += [line.split("#")[0].strip() for line in block.splitlines() if line.strip().startswith("pilotdid ")]
    return lines


@pytest.mark.parametrize("line", readme_commands())
def test_every_readme_command_and_option_exists(line):
    import typer

    from pilotdid.cli import _register, app

    _register()
    command = typer.main.get_command(app)
    words = [w for w in line.split(" / ")[0].split()[1:] if re.fullmatch(r"[a-z][a-z_-]*", w)]
    for word in words:
        sub = getattr(command, "commands", {}).get(word)
        if sub is None:
            break
        command = sub
    assert not words or not hasattr(command, "commands"), f"{line!r} names no command"
    options = {opt for p in command.params for opt in getattr(p, "opts", [])} | {"--help"}
    for flag in re.findall(r"--[a-z][a-z-]*", line):
        assert flag in options, f"{line!r}: {flag} is not an option of the command"


def test_api_reference_examples_run_and_print_what_they_show(tmp_path, monkeypatch):
    # the docstring examples of docs/api.md (doctest syntax), run from a folder that sees examples/ as the
    # repository root does; they were marked "doctest: +SKIP" on an undefined panel
    import doctest

    import pilotdid as pdid

    (tmp_path / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    doc = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    examples = [block for block in re.findall(r"Examples\n--------\n(.*?)(?:\n\n|\Z)", doc, flags=re.S)]
    assert examples and not any("+SKIP" in block for block in examples)
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for i, block in enumerate(examples):
        runner.run(parser.get_doctest(block, {"pdid": pdid}, f"api.md example {i}", "docs/api.md", 0))
    assert runner.summarize(verbose=False).failed == 0
