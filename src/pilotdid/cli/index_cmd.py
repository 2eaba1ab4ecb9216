"""`pilotdid index SPEC.toml --panel FILE --out DIR`: a composite index on its own, without any DID.

Writes DIR/weights.csv (indicator, dimension, sign, weight, then label, panel column, status, entropy,
redundancy, published weight ...), DIR/index.csv (the panel's unit and time columns, index, one column per
dimension) and DIR/notes.txt (the conventions, skipped and proxy indicators). By-year pooling adds
weights_by_year.csv; PCA adds pca_eigenvalues.csv and pca_loadings.csv. Everything is computed before anything is
written, files are written to a temporary folder beside DIR and moved into place, so a failed run leaves no DIR
(or the previous one untouched).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import typer

from pilotdid.cli import app
from pilotdid.errors import PilotdidInputError

INDEX_FILES = ("weights.csv", "index.csv", "notes.txt", "weights_by_year.csv", "pca_eigenvalues.csv", "pca_loadings.csv")


@app.command("index")
def index_command(
    spec: str = typer.Argument(..., help="Indicator system: a .toml file or a builtin name (e.g. cbec_resilience)."),
    panel: Path = typer.Option(..., "--panel", help="Panel file: .csv, .xlsx, .dta or .parquet."),
    out: Path = typer.Option(..., "--out", help="Output folder (created; files of the same name are replaced)."),
    method: str = typer.Option("entropy", "--method", help="entropy | critic | topsis | equal | pca"),
    pooling: str = typer.Option("pooled", "--pooling", help="pooled (all unit-periods) | by_year (each period on its own)"),
    sheet: str | None = typer.Option(None, "--sheet", help="Excel sheet (xlsx only)."),
    unit: str | None = typer.Option(None, "--unit", help="Unit column (default: the system's 'unit' key)."),
    time: str | None = typer.Option(None, "--time", help="Time column (default: the system's 'time' key)."),
    shift: float = typer.Option(1e-4, "--shift", help="Entropy shift added to standardised scores against log(0)."),
    drop_constant: bool = typer.Option(False, "--drop-constant", help="Drop zero-range indicators (with a note) instead of failing."),
    missing: str = typer.Option("error", "--missing", help="error | drop_rows | drop_indicators (dropped items are counted in notes.txt)."),
    exclude: list[str] = typer.Option([], "--exclude", help="Leave an indicator out on purpose (repeatable); noted as excluded."),
    years: str | None = typer.Option(None, "--years", help="Keep only periods FIRST-LAST (inclusive), e.g. 2012-2020."),
) -> None:
    """Build a composite index (entropy weights by default) from an indicator system and a panel."""
    from pilotdid.measures import build_index, load_indicator_system
    from pilotdid.study.load import read_panel

    system = load_indicator_system(spec)
    if not str(panel).startswith("builtin:") and not panel.exists():
        raise PilotdidInputError("panel file not found", where=f"--panel {panel}", fix="check the path")
    frame = read_panel(panel if not str(panel).startswith("builtin:") else str(panel), sheet=sheet)
    if exclude:
        system = system.exclude(exclude, reason="excluded with --exclude")
    if years:
        frame = _keep_years(frame, time or system.time, years)
    result = build_index(frame, system, method=method, pooling=pooling, unit=unit, time=time, shift=shift,
                         drop_constant=drop_constant, missing=missing)
    files = render_index_files(result, frame)
    write_folder_atomically(out, files)
    used = int(result.weights["weight"].notna().sum())
    typer.echo(f"{method} index ({pooling}) of {used} indicators, {len(result.index)} rows -> {out}")


def render_index_files(result, panel: pd.DataFrame) -> dict[str, str]:
    """The text of every output file, by name (nothing is written here)."""
    weights = result.weights
    first = ["indicator", "dimension", "sign", "weight"]
    weights = weights[first + [c for c in weights.columns if c not in first]]
    keys = panel[[result.unit, result.time]]
    subindices = result.subindices.copy()
    taken = {result.unit, result.time, "index"}
    subindices.columns = [f"sub_{c}" if c in taken else c for c in subindices.columns]
    index_frame = pd.concat([keys, result.index.rename("index"), subindices], axis=1)
    files = {
        "weights.csv": weights.to_csv(index=False, float_format="%.10g"),
        "index.csv": index_frame.to_csv(index=False, float_format="%.10g"),
        "notes.txt": "\n".join(result.notes) + "\n",
    }
    if result.weights_by_time is not None:
        files["weights_by_year.csv"] = result.weights_by_time.reset_index().to_csv(index=False, float_format="%.10g")
    pca = result.extra.get("pca")
    if pca is not None:
        files["pca_eigenvalues.csv"] = pca.eigenvalues.to_csv(index=False, float_format="%.10g")
        loadings = pca.loadings.add_prefix("loading_").join(pca.eigenvectors.add_prefix("coef_"))
        loadings["msa"] = pca.kmo_per_indicator
        files["pca_loadings.csv"] = loadings.rename_axis("indicator").reset_index().to_csv(index=False, float_format="%.10g")
    return files


def write_folder_atomically(out: Path, files: dict[str, str]) -> None:
    """Write ``files`` into ``out``: all into a temporary sibling folder first, then moved into place.

    A new ``out`` appears in one rename. An existing folder keeps its other files; ours are replaced one by one
    with atomic renames, and stale outputs of an earlier run (e.g. weights_by_year.csv) are removed.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PilotdidInputError("--out exists and is not a folder", where=str(out), fix="choose a folder path")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.exists():
        raise PilotdidInputError("the parent folder of --out does not exist", where=str(out), fix="create it first")
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    try:
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        if not out.exists():
            os.replace(staging, out)
            return
        for name in INDEX_FILES:
            if name not in files and (out / name).exists():
                (out / name).unlink()
        for name in files:
            os.replace(staging / name, out / name)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _keep_years(frame: pd.DataFrame, time: str, years: str) -> pd.DataFrame:
    try:
        first, last = (int(part) for part in years.split("-"))
    except ValueError:
        raise PilotdidInputError(f"--years '{years}' is not FIRST-LAST", where="--years", fix="write e.g. 2012-2020") from None
    if time not in frame.columns:
        raise PilotdidInputError(f"the time column '{time}' is not in the panel", where="--years", fix="set --time")
    period = pd.to_numeric(frame[time], errors="coerce")
    kept = frame[period.between(first, last)].reset_index(drop=True)
    if kept.empty:
        raise PilotdidInputError(f"no rows with {time} in {first}-{last}", where="--years", fix="check the range")
    return kept
