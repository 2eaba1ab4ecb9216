"""`pilotdid data build`: rebuild the city panel from data/raw and write its tables atomically."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import typer

from pilotdid.cli import app
from pilotdid.errors import PilotdidInputError

data_app = typer.Typer(help="Build and inspect the real city panel.", no_args_is_help=True)
app.add_typer(data_app, name="data")

DEFAULT_RAW = Path(__file__).resolve().parents[3] / "data" / "raw"


def write_build(build, out: Path) -> list[str]:
    """Write every table of a PanelBuild to ``out`` atomically (temp dir, then rename). Returns file names."""
    from pilotdid.data.build import render_coverage_markdown
    from pilotdid.data.shipped_tables import SHIPPED_FILES

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".pilotdid-data-", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the output is an ordinary folder
    try:
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
        if out.exists():
            backup = Path(tempfile.mkdtemp(prefix=".pilotdid-old-", dir=out.parent))
            backup.rmdir()
            out.rename(backup)
            tmp.rename(out)
            shutil.rmtree(backup)
        else:
            tmp.rename(out)
        return names
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@data_app.command("build")
def build_cmd(
    out: Path = typer.Option(Path("city_panel_build"), "--out", help="Output folder (replaced atomically)."),
    raw: Path = typer.Option(DEFAULT_RAW, "--raw", help="Folder with the raw files (default: the repo's data/raw)."),
) -> None:
    """Rebuild the city panel from the raw files: panel, fill mask, provenance, coverage, unmatched names."""
    from pilotdid.data.build import build_panel

    if not Path(raw).is_dir():
        raise PilotdidInputError("raw-data folder not found", where=str(raw),
                                 fix="pass --raw DIR pointing at the repository's data/raw")
    build = build_panel(Path(raw))
    write_build(build, Path(out))
    panel = build.panel
    typer.echo(f"city panel: {panel.city_id.nunique()} cities x {panel.year.min()}-{panel.year.max()} "
               f"({len(panel)} rows, {len(panel.columns) - 6} variables)")
    typer.echo(f"filled cells: {int(build.fill_mask.iloc[:, 2:].to_numpy().sum())}; unmatched source names: "
               f"{len(build.unmatched)}; names to review: {len(build.fuzzy_matches)}; corrections: {len(build.corrections)}")
    typer.echo(f"written to {Path(out).resolve()}")
