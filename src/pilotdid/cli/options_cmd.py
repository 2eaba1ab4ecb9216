"""`pilotdid options [ANALYSIS]`: the study-file options, printed from their one declaration (study/options.py)."""

from __future__ import annotations

import typer

from pilotdid.cli import app


@app.command("options")
def options_command(
    analysis: str | None = typer.Argument(None, help="An analysis name (baseline, staggered, ...); none lists them all."),
) -> None:
    """List the \\[analyses.NAME] options a study file accepts: type, default, allowed values, meaning.

    Example: pilotdid options staggered
    """
    from pilotdid.study.options import options_text

    typer.echo(options_text(analysis), nl=False)
