"""Help texts reach the terminal whole: rich reads "[word]" as a markup tag and drops it, so `pilotdid options --help`
said "List the  options" (for "[analyses.NAME]") and `run --help` "the study's  formats" (for "[figures]")."""

from __future__ import annotations

import re

#: What rich takes for a markup tag (and removes): "[" then a letter, "#", "/" or "@", up to "]", not escaped.
MARKUP_TAG = re.compile(r"(?<!\\)\[[a-zA-Z#/@][^\[\]]*\]")


def _commands(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_no_help_text_loses_a_bracketed_word():
    import typer

    from pilotdid.cli import _register, app

    _register()
    eaten = []
    for path, command in _commands(typer.main.get_command(app)):
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        eaten += [f"pilotdid {' '.join(path)}: {m}" for t in texts for m in MARKUP_TAG.findall(t)]
    assert not eaten, eaten


def test_the_escaped_words_are_printed(run_cli):
    _, out, _ = run_cli("options", "--help")
    assert "[analyses.NAME]" in out
    _, out, _ = run_cli("run", "--help")
    assert "[figures]" in " ".join(out.split())


def test_progress_lines_print_paths_with_brackets_whole(tmp_path, run_cli):
    # rich markup ate "[v2]" of an output folder "results [v2]" in the "writing ..." and "Report: ..." lines
    from pilotdid.design.synthetic import simulate_staggered_panel

    panel, _ = simulate_staggered_panel(n_units=30, seed=1)  # SYNTHETIC
    panel.to_csv(tmp_path / "panel.csv", index=False)
    (tmp_path / "study.toml").write_text(
        '[study]\nname = "synthetic_brackets"\n[data]\npanel = "panel.csv"\nunit = "unit"\ntime = "year"\n'
        '[treatment]\nfirst_treat = "first_treat"\n[model]\noutcome = "y"\n[analyses.baseline]\n', encoding="utf-8")
    out = tmp_path / "results [v2]"
    code, stdout, err = run_cli("run", str(tmp_path / "study.toml"), "--out", str(out))
    assert code == 0, err
    assert f"writing {out}" in stdout and f"Report: {out / 'report.html'}" in stdout
