"""`pilotdid run STUDY.toml` and `pilotdid replicate` (= run of the shipped CBEC study file)."""

from __future__ import annotations

import sys
import time
from importlib import resources
from pathlib import Path

import typer

from pilotdid.cli import app
from pilotdid.errors import PilotdidInputError

CBEC_STUDY = "cbec"


def builtin_study_path(name: str) -> Path:
    path = Path(str(resources.files("pilotdid.studies") / name / "study.toml"))
    if not path.exists():
        raise PilotdidInputError(f"builtin study '{name}' not found", where="pilotdid.studies", fix="reinstall pilotdid")
    return path


def _execute(study_path: Path, out: Path, *, draws, seed, lang, jobs, quiet, scheduler=None, figures=None,
             panel: Path | None = None, sheet: str | None = None) -> None:
    from pilotdid.study.options import check_study_options
    from pilotdid.study.runner import Overrides, run_study
    from pilotdid.study.spec import load_study
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    # progress and log lines go to stdout: stderr carries only the one line of a refusal or error; lines are never
    # hard-wrapped (soft_wrap), so a piped or logged run keeps the headline, the verdict and the report path whole
    console = Console(quiet=quiet, soft_wrap=True)
    if lang is not None and lang not in ("en", "zh"):
        raise PilotdidInputError(f"--lang must be en or zh, got {lang!r}", where="command line", fix="use --lang en or --lang zh")
    if scheduler is not None and scheduler != "dask" and not scheduler.startswith("tcp://"):
        raise PilotdidInputError(f"--scheduler must be 'dask' or tcp://HOST:PORT, got {scheduler!r}", where="command line",
                                 fix="use --scheduler dask (a local Dask cluster) or the address of a running scheduler")
    if jobs < 1:
        raise PilotdidInputError(f"--jobs must be at least 1, got {jobs}", where="command line", fix="use --jobs 1 or more")
    formats = None
    if figures is not None:
        from pilotdid.study.spec import figure_formats

        formats = figure_formats([f.strip() for f in figures.split(",") if f.strip()], where="command line --figures")
    from pilotdid.outdir import STUDY_OUTPUT, check_out_folder, out_argument

    out = out_argument(out)
    t0 = time.perf_counter()
    spec = load_study(study_path)
    if panel is not None:  # replicate --panel: the study on the user's city-yearbook file
        from pilotdid.study.yearbook import yearbook_study

        spec = yearbook_study(spec, panel, sheet)
    check_study_options(spec.analyses)  # a typo in any analysis option is refused before anything heavy loads
    # before any analysis: --out must be new, empty or an earlier study output, and hold no input
    check_out_folder(out, STUDY_OUTPUT, inputs=spec.input_paths())
    # redrawn from the progress calls, not by rich's refresh thread: the runner forks a second process for
    # analyses, and forking a process that runs other threads is unsafe (parallel.fork_usable)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
        console=console, transient=True, disable=quiet, auto_refresh=False,
    ) as bar:
        tasks: dict[str, int] = {}
        last_drawn = [0.0]

        def progress(task: str, done: int, total: int) -> None:
            if task not in tasks:
                tasks[task] = bar.add_task(task, total=total)
            bar.update(tasks[task], completed=done, total=total)
            now = time.perf_counter()
            if now - last_drawn[0] > 0.1 or done == total:
                last_drawn[0] = now
                bar.refresh()

        def log(message: str) -> None:
            console.print(f"[dim]·[/dim] {escape(message)}")

        overrides = Overrides(draws=draws, seed=seed, lang=lang, jobs=jobs, scheduler=scheduler, figure_formats=formats)
        run = run_study(spec, overrides, log=log, progress=progress)
    # the bar (and its refresh thread) is closed first: writing the output forks a child to save the figures
    log(f"writing {out}")
    from pilotdid.report.output import write_output

    out_dir = write_output(run, out, command=["pilotdid", *sys.argv[1:]])

    elapsed = time.perf_counter() - t0
    headline = _headline(run)
    if headline:
        console.print(f"[bold]Headline:[/bold] {escape(headline)}")
    verdict = _verdict_line(out_dir)
    if verdict:
        console.print(verdict, markup=False, style="bold")
    console.print(f"[bold green]Done[/bold green] in {elapsed:.1f} s. Report: {escape(str(out_dir / 'report.html'))}")
    typer.echo(str(out_dir))


def _verdict_line(out_dir: Path) -> str | None:
    """The verdict's one-line form from the results.json just written (None without a published.toml)."""
    import json

    verdict = json.loads((out_dir / "results.json").read_text(encoding="utf-8")).get("verdict")
    return verdict["cli"] if verdict else None


def _headline(run) -> str | None:
    """The treatment coefficient of the last (fullest) baseline column, if the study ran a baseline."""
    rows = [
        r for out in run.outputs.values() for r in out.estimates
        if r.get("table") == "baseline" and r.get("term") == run.context.treatment_name
    ]
    if not rows:
        return None
    r = rows[-1]
    return (
        f"{r['term']} = {r['coef']:.4f} (SE {r['se']:.4f}, t {r['t']:.2f}, p {r['p']:.3f}; "
        f"N {r.get('nobs')}, {r.get('vcov')} SEs), baseline column {r.get('column')}"
    )


@app.command("run")
def run_command(
    study: Path = typer.Argument(..., help="The study file (TOML)."),
    out: str = typer.Option("output/study", "--out", help="Output folder: new, empty, or an earlier output (replaced atomically)."),
    draws: int | None = typer.Option(None, "--draws", help="Override the number of placebo/bootstrap draws."),
    seed: int | None = typer.Option(None, "--seed", help="Override the study's random seed."),
    lang: str | None = typer.Option(None, "--lang", help="Labels: en or zh."),
    jobs: int = typer.Option(1, "--jobs", help="Local worker processes for draws and specification grids."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="'dask' (local Dask cluster) or tcp://HOST:PORT."),
    figures: str | None = typer.Option(None, "--figures", help="Figure formats, e.g. png,pdf,svg (default: the study's \\[figures] formats, png,pdf)."),
    quiet: bool = typer.Option(False, "--quiet", help="Only print the output folder."),
) -> None:
    """Run a study file: any panel, any policy.

    Example: pilotdid run examples/lowcarbon/study.toml --out output/lowcarbon
    """
    _execute(study, out, draws=draws, seed=seed, lang=lang, jobs=jobs, quiet=quiet, scheduler=scheduler,
             figures=figures)


@app.command("replicate")
def replicate_command(
    out: str = typer.Option("output/replication", "--out", help="Output folder: new, empty, or an earlier output (replaced atomically)."),
    draws: int | None = typer.Option(None, "--draws", help="Placebo draws (default: the study file's 1,000)."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed (default: the study file's)."),
    lang: str | None = typer.Option(None, "--lang", help="Labels: en or zh."),
    jobs: int = typer.Option(1, "--jobs", help="Local worker processes."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="'dask' (local Dask cluster) or tcp://HOST:PORT."),
    figures: str | None = typer.Option(None, "--figures", help="Figure formats, e.g. png,pdf,svg (default: the study's \\[figures] formats, png,pdf)."),
    quiet: bool = typer.Option(False, "--quiet", help="Only print the output folder."),
    panel: Path | None = typer.Option(None, "--panel", help="Your city-yearbook panel (csv/xlsx/dta): the paper's 17-indicator index from what it holds."),
    sheet: str | None = typer.Option(None, "--sheet", help="Excel sheet of --panel (default: the first)."),
) -> None:
    """The whole CBEC study on the shipped real data, published numbers beside ours.

    It is `pilotdid run` of the study file shipped in the package (pilotdid/studies/cbec/study.toml):
    copy and edit that file to vary the study.
    """
    if sheet is not None and panel is None:
        raise PilotdidInputError("--sheet needs --panel", where="command line", fix="give --panel FILE or drop --sheet")
    _execute(builtin_study_path(CBEC_STUDY), out, draws=draws, seed=seed, lang=lang, jobs=jobs, quiet=quiet,
             scheduler=scheduler, figures=figures, panel=panel, sheet=sheet)


@app.command("verify")
def verify_command(folder: Path = typer.Argument(..., help="An output folder written by run or replicate.")) -> None:
    """Re-run a finished output folder from its manifest and report any difference.

    One line each says whether the inputs, pilotdid's code (a fingerprint of its source) and the numerical
    dependencies match the current installation, and what a mismatch means. Exit 0 when results.json and
    every table are byte-identical and no input changed (a code or dependency change alone does not fail it:
    the outputs reproduced anyway); 1 otherwise.
    Example: pilotdid verify output/replication
    """
    from pilotdid.report.verify import verify_output

    from rich.console import Console
    from rich.markup import escape

    report = verify_output(folder)
    console = Console(highlight=False)
    for line in report.provenance_lines():
        head, _, rest = line.partition(": ")
        colour = "green" if rest.startswith("match") else "yellow" if rest.startswith("not recorded") else "red"
        console.print(f"[{colour}]{escape(head)}:[/{colour}] {escape(rest)}", soft_wrap=True)
    for name in report.missing_inputs:
        console.print(f"[red]input missing:[/red] {escape(name)}")
    for name in report.changed_inputs:
        console.print(f"[red]input changed:[/red] {escape(name)}")
    for name in report.differing:
        console.print(f"[red]differs[/red] {escape(name)}")
    for name in report.differing_figures:
        console.print(f"[yellow]figure bytes differ[/yellow] {escape(name)}")
    colour = "green" if report.identical else "red"
    head, _, rest = report.verdict().partition(": ")
    console.print(f"[{colour}]{escape(head)}[/{colour}]: {escape(rest)}", soft_wrap=True)
    if report.identical:
        return
    raise typer.Exit(1)
