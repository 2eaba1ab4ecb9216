"""Read a user's panel (csv, xlsx, dta, parquet) and check the columns a study names.

Every failure names the file, and where it can the sheet, column and row, plus the fix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError

READERS = (".csv", ".xlsx", ".xlsm", ".dta", ".parquet", ".pq")
BUILTIN_PANELS = {"city_panel": "the shipped real city panel (pilotdid data build)"}


def read_panel(source: str | Path, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a panel file by its extension, or a builtin panel given as ``builtin:NAME``."""
    if isinstance(source, str) and source.startswith("builtin:"):
        name = source.removeprefix("builtin:")
        if name != "city_panel":
            raise PilotdidInputError(
                f"unknown builtin panel '{name}'", where="[data] panel", fix=f"use one of: {', '.join('builtin:' + n for n in BUILTIN_PANELS)}"
            )
        from pilotdid.data import load_city_panel

        return load_city_panel()

    path = Path(source)
    if not path.exists():
        raise PilotdidInputError("panel file not found", where=str(path), fix="check [data] panel (paths are relative to the study file)")
    is_dataset = path.is_dir() and (path.suffix.lower() in (".parquet", ".pq") or any(path.rglob("*.parquet")))
    if path.is_dir() and not is_dataset:
        raise PilotdidInputError("panel path is a folder", where=str(path), fix="point [data] panel to a .csv/.xlsx/.dta/.parquet file or a Parquet dataset folder")
    suffix = ".parquet" if is_dataset else path.suffix.lower()
    if suffix not in READERS:
        raise PilotdidInputError(
            f"unknown panel format '{suffix or '(no extension)'}'", where=str(path), fix=f"use one of: {', '.join(READERS)}"
        )
    if sheet is not None and suffix not in (".xlsx", ".xlsm"):
        raise PilotdidInputError("a sheet was given for a file that is not Excel", where=str(path), fix="remove [data] sheet")
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path)
        elif suffix in (".xlsx", ".xlsm"):
            frame = _read_excel(path, sheet)
        elif suffix == ".dta":
            import pyreadstat

            frame, _ = pyreadstat.read_dta(str(path))
        else:
            frame = pd.read_parquet(path)
            for column in frame.columns:  # hive partition columns of a dataset come back as categoricals
                if isinstance(frame[column].dtype, pd.CategoricalDtype):
                    frame[column] = frame[column].astype(frame[column].cat.categories.dtype)
    except PilotdidInputError:
        raise
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as exc:
        raise PilotdidInputError(
            f"cannot read the file as {suffix}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
            where=str(path), fix="check that the file is a valid, unencrypted file of that type",
        ) from None
    except Exception as exc:  # readers raise their own types (zipfile, pyreadstat, pyarrow)
        raise PilotdidInputError(
            f"cannot read the file as {suffix} ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
            where=str(path), fix="check that the file is a valid file of that type",
        ) from None
    if frame.empty:
        raise PilotdidInputError("the panel has no rows", where=str(path), fix="check the file (and the sheet)")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    with pd.ExcelFile(path) as book:
        names = book.sheet_names
        if sheet is None:
            sheet = names[0]
        elif isinstance(sheet, str) and sheet not in names:
            raise PilotdidInputError(
                f"sheet '{sheet}' not found", where=str(path), fix=f"use one of the sheets: {', '.join(map(str, names))}"
            )
        elif isinstance(sheet, int) and not 0 <= sheet < len(names):
            raise PilotdidInputError(f"sheet index {sheet} out of range (the file has {len(names)})", where=str(path), fix="use a valid sheet name")
        return pd.read_excel(book, sheet_name=sheet)


def require_columns(frame: pd.DataFrame, columns: dict[str, str], where: str) -> None:
    """``columns`` maps column name -> the study key that named it (for the message)."""
    for column, key in columns.items():
        if column not in frame.columns:
            close = [c for c in frame.columns if c.lower() == column.lower()]
            hint = f"did you mean '{close[0]}'?" if close else f"the panel's columns are: {', '.join(map(str, frame.columns[:25]))}"
            raise PilotdidInputError(f"column '{column}' (from {key}) is not in the panel", where=where, fix=hint)


def require_numeric(frame: pd.DataFrame, columns: list[str], where: str) -> pd.DataFrame:
    """Coerce columns to float; a non-numeric cell is an error naming the column, row and value."""
    out = frame
    for column in columns:
        series = frame[column]
        if pd.api.types.is_bool_dtype(series):
            out[column] = series.astype(float)
            continue
        if pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_timedelta64_dtype(series):
            # to_numeric would turn dates into nanoseconds since 1970 without a word
            raise PilotdidInputError(
                f"column '{column}' holds dates ({series.dtype}), not numbers", where=where,
                fix="give the period as a number, e.g. the year (in Excel =YEAR(cell); in pandas .dt.year)",
            )
        if pd.api.types.is_numeric_dtype(series):
            continue
        coerced = pd.to_numeric(series, errors="coerce")
        bad = coerced.isna() & series.notna() & (series.astype(str).str.strip() != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise PilotdidInputError(
                f"column '{column}' has a non-numeric cell {series.iloc[row]!r} at data row {row + 1} "
                f"({int(bad.sum())} such cells)",
                where=where, fix="fix or blank those cells (blanks count as missing)",
            )
        out[column] = coerced
    return out
