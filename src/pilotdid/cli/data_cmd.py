"""`pilotdid data build`: rebuild the city panel from data/raw and write its tables atomically."""

from __future__ import annotations

from pathlib import Path

import typer

from pilotdid.cli import app
from pilotdid.errors import PilotdidInputError

data_app = typer.Typer(help="Build and inspect the real city panel.", no_args_is_help=True)
app.add_typer(data_app, name="data")

DEFAULT_RAW = Path(__file__).resolve().parents[3] / "data" / "raw"


def build_output_spec():
    """What `data build` writes (no manifest: a folder holding only these names is an earlier build)."""
    from pilotdid.data.shipped_tables import SHIPPED_FILES
    from pilotdid.outdir import OutputSpec

    names = [*SHIPPED_FILES.values(), "coverage.md", "notes.txt"]
    return OutputSpec("data-build", names, core=[SHIPPED_FILES["panel"], "notes.txt"], needs_manifest=False)


def write_build(build, out: Path, *, inputs=()) -> list[str]:
    """Write every table of a PanelBuild to ``out`` atomically (sibling temp folder, then swap). Returns file names."""
    from pilotdid.data.build import render_coverage_markdown
    from pilotdid.data.shipped_tables import SHIPPED_FILES
    from pilotdid.outdir import staged_folder

    with staged_folder(Path(out), build_output_spec(), inputs=inputs) as tmp:
        frames = {
            "panel": build.panel, "fill_mask": build.fill_mask, "provenance": build.provenance,
            "coverage": build.coverage, "unmatched": build.unmatched, "fuzzy_matches": build.fuzzy_matches,
            "corrections": build.corrections, "cities": build.cities, "city_aliases": build.city_aliases,
            "census": build.census,
        }
        for key, frame in frames.items():
            frame.to_csv(tmp / SHIPPED_FILES[key], index=False, lineterminator="\n")
        (tmp / "coverage.md").write_text(render_coverage_markdown(build.coverage) + "\n", encoding="utf-8")
        (tmp / "notes.txt").write_text("\n".join(build.notes) + "\n", encoding="utf-8")
        names = sorted(p.name for p in tmp.iterdir())
    return names


@data_app.command("build")
def build_cmd(
    out: str = typer.Option("city_panel_build", "--out", help="Output folder: new, empty, or an earlier build (replaced atomically)."),
    raw: Path = typer.Option(DEFAULT_RAW, "--raw", help="Folder with the raw files (default: the repo's data/raw)."),
) -> None:
    """Rebuild the city panel from the raw files: panel, fill mask, provenance, coverage, unmatched names."""
    from pilotdid.data.build import build_panel

    if not Path(raw).is_dir():
        raise PilotdidInputError("raw-data folder not found", where=str(raw),
                                 fix="pass --raw DIR pointing at the repository's data/raw")
    from pilotdid.outdir import check_out_folder

    out = check_out_folder(out, build_output_spec(), inputs=[raw])  # before the build: never over the raw data
    build = build_panel(Path(raw))
    write_build(build, out, inputs=[raw])
    panel = build.panel
    typer.echo(f"city panel: {panel.city_id.nunique()} cities x {panel.year.min()}-{panel.year.max()} "
               f"({len(panel)} rows, {len(panel.columns) - 6} variables)")
    typer.echo(f"filled cells: {int(build.fill_mask.iloc[:, 2:].to_numpy().sum())}; unmatched source names: "
               f"{len(build.unmatched)}; names to review: {len(build.fuzzy_matches)}; corrections: {len(build.corrections)}")
    typer.echo(f"written to {Path(out).resolve()}")


def import_output_spec():
    """What `data import` writes (no manifest: a folder holding only these names is an earlier import)."""
    from pilotdid.data.importer import IMPORT_FILES
    from pilotdid.outdir import OutputSpec

    return OutputSpec("data-import", [*IMPORT_FILES.values(), "notes.txt"],
                      core=[IMPORT_FILES["panel"], IMPORT_FILES["provenance"]], needs_manifest=False)


def write_import(result, out: Path, *, inputs=()) -> list[str]:
    """Write an ImportResult's tables to ``out`` atomically (the shared output-folder rules of pilotdid.outdir)."""
    from pilotdid.data.importer import IMPORT_FILES
    from pilotdid.outdir import staged_folder

    with staged_folder(Path(out), import_output_spec(), inputs=inputs) as tmp:
        for key, name in IMPORT_FILES.items():
            getattr(result, key).to_csv(tmp / name, index=False, lineterminator="\n")
        (tmp / "notes.txt").write_text("\n".join(result.notes) + "\n", encoding="utf-8")
        names = sorted(p.name for p in tmp.iterdir())
    return names


@data_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="A city-yearbook panel: .csv, .xlsx or .dta (long or wide by year)."),
    out: str = typer.Option(..., "--out", help="Output folder: new, empty, or an earlier import (replaced atomically)."),
    sheet: str = typer.Option(None, "--sheet", help="Excel sheet (default: the first); 'all': every sheet, joined on city and year."),
) -> None:
    """Import a 中国城市统计年鉴 panel: headers recognised, units converted, cities mapped to pilotdid's ids."""
    from pilotdid.data.importer import import_yearbook
    from pilotdid.outdir import check_out_folder

    out = check_out_folder(out, import_output_spec(), inputs=[file])
    result = import_yearbook(file, sheet)
    write_import(result, out, inputs=[file])
    panel = result.panel
    typer.echo(f"imported {panel.city_id.nunique()} cities x {panel.year.min()}-{panel.year.max()} ({len(panel)} rows; "
               f"{result.layout})")
    typer.echo(f"indicators present ({len(result.present)}): {', '.join(result.present)}")
    typer.echo(f"absent ({len(result.absent)}): {', '.join(result.absent)}")
    typer.echo(f"unmatched city names: {len(result.unmatched)}; to review: {len(result.fuzzy_matches)}; "
               f"columns kept unrecognised: {len(result.unrecognised)}")
    typer.echo(f"written to {Path(out).resolve()}")


@data_app.command("headers")
def headers_cmd(
    indicator: str = typer.Argument(None, help="An indicator id (e.g. loans) to list its header forms and sources."),
) -> None:
    """The city-yearbook header dictionary `data import` recognises: indicators, units, header forms, sources."""
    from pilotdid.data.headers import load_dictionary

    d = load_dictionary()
    if indicator is None:
        for e in d.indicators.values():
            typer.echo(f"{e.id:<28} {e.zh:<16} {e.unit:<8} {len(e.headers):>2} forms  {e.en}")
        typer.echo(f"{len(d.indicators)} indicators, {sum(len(e.headers) for e in d.indicators.values())} header forms; "
                   "`pilotdid data headers ID` lists one indicator's forms and where each was seen")
        return
    if indicator not in d.indicators:
        raise PilotdidInputError(f"unknown indicator {indicator!r}", where="pilotdid data headers",
                                 fix=f"use one of: {', '.join(d.indicators)}")
    e = d.indicators[indicator]
    typer.echo(f"{e.id}: {e.zh} / {e.en}; canonical unit {e.unit} ({e.kind}); 全市 column = {e.id}, "
               f"市辖区 column = {e.id}_districts")
    for header, sources in e.headers:
        typer.echo(f"  {header}")
        for key in sources.split(","):
            typer.echo(f"      {key}: {d.sources.get(key, '?')}")
