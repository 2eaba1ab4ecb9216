"""Checked reading of raw files: every failure is a one-line :class:`PilotdidInputError`."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from pilotdid.data.names import clean_cell_text
from pilotdid.errors import PilotdidInputError

# Cells that mean "no value" in the raw files (empty, dashes, ellipses). Anything else non-numeric is an error.
_MISSING_MARKERS = {"", "-", "--", "—", "——", "…", "...", "nan", "NaN", "None", "null", "NA", "N/A"}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def require_file(raw_dir: Path, name: str) -> Path:
    """The path of a raw file, or a PilotdidInputError naming it."""
    path = Path(raw_dir) / name
    if not path.is_file():
        raise PilotdidInputError(
            "raw file is missing", where=str(path),
            fix="copy it from the repository's data/raw (see data/raw/SOURCES.md) or pass --raw DIR",
        )
    return path


def read_sheet(path: Path, sheet: str | int = 0, header: int | None = 0) -> pd.DataFrame:
    """One sheet of an .xlsx file; unreadable files and absent sheets raise PilotdidInputError."""
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except (zipfile.BadZipFile, ValueError, OSError, KeyError) as exc:
        raise PilotdidInputError(
            f"cannot be read as an .xlsx workbook ({type(exc).__name__})", where=str(path),
            fix="restore the original file from data/raw (check its sha256 in SOURCES.md)",
        ) from None
    with book:
        names = book.sheet_names
        if isinstance(sheet, int):
            if sheet >= len(names):
                raise PilotdidInputError(f"workbook has no sheet number {sheet}", where=str(path),
                                         fix="restore the original file")
            sheet = names[sheet]
        if sheet not in names:
            raise PilotdidInputError(
                f"sheet '{sheet}' not found (sheets: {', '.join(names)})", where=str(path),
                fix="restore the original file from data/raw",
            )
        try:
            return pd.read_excel(book, sheet_name=sheet, header=header)
        except Exception as exc:  # openpyxl raises many types on damaged sheets
            raise PilotdidInputError(
                f"sheet '{sheet}' cannot be parsed ({type(exc).__name__})", where=str(path),
                fix="restore the original file from data/raw",
            ) from None


def read_csv(path: Path, **kwargs) -> pd.DataFrame:
    """A CSV file; unreadable content raises PilotdidInputError."""
    try:
        return pd.read_csv(path, **kwargs)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise PilotdidInputError(
            f"cannot be read as CSV ({type(exc).__name__})", where=str(path),
            fix="restore the original file from data/raw",
        ) from None


def require_columns(frame: pd.DataFrame, columns: list[str], where: str) -> None:
    """Raise when expected columns are absent."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise PilotdidInputError(
            f"missing column(s) {missing}", where=where, fix="restore the original file from data/raw",
        )


def to_number(values: pd.Series, where: str, row_offset: int = 2) -> pd.Series:
    """Numbers from raw cells: strings like ' 1345.20', '_x000D_' escapes, missing markers -> NaN.

    Any other non-numeric cell raises PilotdidInputError naming the first such row (1-based Excel row
    = index + ``row_offset``).
    """
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype("float64")
    out = np.full(len(values), np.nan)
    for pos, (idx, cell) in enumerate(values.items()):
        if cell is None or (isinstance(cell, float) and np.isnan(cell)):
            continue
        if isinstance(cell, (int, float, np.integer, np.floating)) and not isinstance(cell, bool):
            out[pos] = float(cell)
            continue
        text = clean_cell_text(cell).replace(",", "")
        if text in _MISSING_MARKERS:
            continue
        if not _NUMBER.match(text):
            row = idx + row_offset if isinstance(idx, (int, np.integer)) else idx
            raise PilotdidInputError(
                f"non-numeric cell {clean_cell_text(cell)!r} at row {row}", where=where,
                fix="correct the cell (a number or empty) or restore the original file",
            )
        out[pos] = float(text)
    return pd.Series(out, index=values.index, name=values.name)


def check_unique(frame: pd.DataFrame, keys: list[str], where: str) -> None:
    """Duplicate keys are an error (never a silent pick)."""
    dup = frame.duplicated(keys, keep=False)
    if dup.any():
        first = frame.loc[dup, keys].iloc[0].tolist()
        raise PilotdidInputError(
            f"duplicate key {dict(zip(keys, first))} ({int(dup.sum())} rows share a key)", where=where,
            fix="keep one row per key in the source file",
        )
