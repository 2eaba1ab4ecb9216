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
