"""`pilotdid index SPEC.toml --panel FILE --out DIR`: a composite index on its own, without any DID.

Writes DIR/weights.csv (indicator, dimension, sign, weight, then label, panel column, status, entropy,
redundancy, published weight ...), DIR/index.csv (the panel's unit and time columns, index, one column per
dimension) and DIR/notes.txt (the conventions, skipped and proxy indicators). By-year pooling adds
weights_by_year.csv; PCA adds pca_eigenvalues.csv and pca_loadings.csv. Everything is computed before anything is
written, files are written to a temporary folder beside DIR and moved into place, so a failed run leaves no DIR
(or the previous one untouched).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pilotdid.cli import app
from pilotdid.errors import PilotdidInputError
from pilotdid.outdir import OutputSpec

if TYPE_CHECKING:  # pandas is imported where it is used, so `pilotdid --help` starts fast
    import pandas as pd

INDEX_FILES = ("weights.csv", "index.csv", "notes.txt", "weights_by_year.csv", "pca_eigenvalues.csv", "pca_loadings.csv")
#: An index folder is recognised by its manifest, or (written before manifests) by holding only these names.
INDEX_OUTPUT = OutputSpec("index", INDEX_FILES, core=("weights.csv", "index.csv", "notes.txt"), needs_manifest=False)


@app.command("index")
def index_command(
    spec: str = typer.Argument(..., help="Indicator system: a .toml file or a builtin name (e.g. cbec_resilience)."),
    panel: Path = typer.Option(..., "--panel", help="Panel file: .csv, .xlsx, .dta or .parquet."),
    out: str = typer.Option(..., "--out", help="Output folder: new, empty, or an earlier index output (replaced atomically)."),
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

    from pilotdid.outdir import check_out_folder

    inputs = [panel] + ([Path(spec)] if spec.endswith(".toml") else [])
    out = check_out_folder(out, INDEX_OUTPUT, inputs=inputs)  # before anything is read: never over an input
    system = load_indicator_system(spec)
    if not str(panel).startswith("builtin:") and not panel.exists():
        raise PilotdidInputError("panel file not found", where=f"--panel {panel}", fix="check the path")
    frame = read_panel(panel if not str(panel).startswith("builtin:") else str(panel), sheet=sheet,
                       text_columns=[unit or system.unit])  # ids are text, as in pilotdid run
    if exclude:
        system = system.exclude(exclude, reason="excluded with --exclude")
    if years:
        frame = _keep_years(frame, time or system.time, years)
    result = build_index(frame, system, method=method, pooling=pooling, unit=unit, time=time, shift=shift,
                         drop_constant=drop_constant, missing=missing)
    files = render_index_files(result, frame)
    files["manifest.json"] = _index_manifest(spec, panel, method, pooling)
    write_folder_atomically(out, files, inputs=inputs)
    used = int(result.weights["weight"].notna().sum())
    typer.echo(f"{method} index ({pooling}) of {used} indicators, {len(result.index)} rows -> {out}")


def render_index_files(result, panel: pd.DataFrame) -> dict[str, str]:
    """The text of every output file, by name (nothing is written here)."""
    import pandas as pd

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


def _index_manifest(spec: str, panel: Path, method: str, pooling: str) -> str:
    """Marks the folder as an index output (so a later run may replace it); no times, so reruns are byte-identical."""
    from pilotdid.outdir import KIND_KEY
    from pilotdid.provenance import file_sha256
    from pilotdid.report.output import dump_json

    doc = {KIND_KEY: INDEX_OUTPUT.kind, "system": spec, "panel": Path(panel).name, "method": method, "pooling": pooling}
    if Path(panel).is_file():
        doc["panel_sha256"] = file_sha256(Path(panel))
    return dump_json(doc)


def write_folder_atomically(out: Path, files: dict[str, str], *, inputs=()) -> None:
    """Write ``files`` into a sibling temporary folder that then replaces ``out`` in one swap (see pilotdid.outdir)."""
    from pilotdid.outdir import staged_folder

    with staged_folder(Path(out), INDEX_OUTPUT, inputs=inputs) as staging:
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")


def _keep_years(frame: pd.DataFrame, time: str, years: str) -> pd.DataFrame:
    import pandas as pd

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
