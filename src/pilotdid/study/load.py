"""Read a user's panel (csv, xlsx, dta, parquet) and check the columns a study names.

Every failure names the file, and where it can the sheet, column and row, plus the fix.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError

READERS = (".csv", ".xlsx", ".xlsm", ".dta", ".parquet", ".pq")
BUILTIN_PANELS = {"city_panel": "the shipped real city panel (pilotdid data build)"}


#: Excel's error values: a cell showing one of these holds no number (pandas would read it as text or blank).
EXCEL_ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA", "#SPILL!", "#CALC!")
#: Encodings tried for a csv, in order: UTF-8 (a BOM is fine), then GB18030 (a superset of GBK/GB2312, what Excel
#: on a Chinese Windows saves as "CSV").
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def read_panel(source: str | Path, sheet: str | int | None = None, *, text_columns: tuple[str, ...] | list[str] = ()) -> pd.DataFrame:
    """Read a panel file by its extension, or a builtin panel given as ``builtin:NAME``.

    ``text_columns`` (the unit id) are read as text from csv and Excel, never parsed as numbers: ``7`` and
    ``007`` are two units and an id spelled ``NA`` is an id, not a missing value. Column names are trimmed;
    duplicate names, or names equal after trimming, are refused. Excel error cells (``#DIV/0!`` ...) and
    formulas saved without a computed value are refused with their cell. With several sheets and none named,
    the first is read and ``frame.attrs["sheet_note"]`` says so (messages about missing columns repeat it).
    """
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
    if not path.is_dir() and not path.is_file():
        # a FIFO or a device would block the reader forever (or never end)
        raise PilotdidInputError("the panel is not a regular file (a pipe, socket or device)", where=str(path),
                                 fix="save the panel to an ordinary .csv/.xlsx/.dta/.parquet file")
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
    text_columns = tuple(text_columns)
    sheet_note = None
    try:
        if suffix == ".csv":
            frame = _read_csv(path, text_columns)
        elif suffix in (".xlsx", ".xlsm"):
            frame, sheet_note = _read_excel(path, sheet, text_columns)
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
    frame.columns = _checked_names(list(frame.columns), str(path))
    for column in text_columns:
        if column in frame.columns:
            check_ids(frame[column], column, str(path))
    if sheet_note:
        frame.attrs["sheet_note"] = sheet_note
    return frame


def _checked_names(names: list, where: str) -> list[str]:
    """Trimmed column names; a repeated name (before or after trimming) is refused, never silently renamed."""
    trimmed = [str(c).strip() for c in names]
    seen: dict[str, str] = {}
    for raw, name in zip(names, trimmed):
        if name in seen:
            same = str(raw) == seen[name]
            raise PilotdidInputError(
                f"the column name '{name}' appears twice" + ("" if same else f" ('{seen[name]}' and '{raw}' after trimming spaces)"),
                where=where, fix="give every column its own name (pilotdid would otherwise have to guess which one you meant)",
            )
        seen[name] = str(raw)
    return trimmed


def check_ids(series: pd.Series, column: str, where: str, kind: str = "unit") -> None:
    """Ids are kept as written, so an id that only looks like another unit's is refused with its row: spaces
    around it ('u05 '), an invisible character in it, or one id written two ways ('County 8001' and the
    full-width 'County ８００１', equal after Unicode NFKC normalisation). Full-width ids that collide with no
    other spelling are the user's ids and pass unchanged. ``kind`` names what the ids are ("unit", or "group"
    for a fixed-effect or cluster column, where a second spelling would silently be a second group)."""
    text = series.dropna()
    text = text[text.map(lambda v: isinstance(v, str))]
    padded = text[text != text.str.strip()]
    if len(padded):
        row = int(series.index.get_loc(padded.index[0]))
        raise PilotdidInputError(
            f"{kind} id {padded.iloc[0]!r} in column '{column}' has spaces around it at data row {row + 1} "
            f"({len(padded)} such cells)", where=where,
            fix=f"remove the spaces (in Excel: =TRIM(cell)); 'u05 ' and 'u05' would otherwise be two {kind}s",
        )
    # invisible format characters (zero-width space, BOM, direction marks) pasted from the web or Word: the id
    # looks like another unit's but is not, and TRIM does not remove them
    invisible = {v for v in text.unique() if any(unicodedata.category(c) == "Cf" for c in v)}
    hidden = text[text.isin(invisible)]
    if len(hidden):
        row = int(series.index.get_loc(hidden.index[0]))
        char = next(c for c in hidden.iloc[0] if unicodedata.category(c) == "Cf")
        raise PilotdidInputError(
            f"{kind} id {hidden.iloc[0]!r} in column '{column}' holds the invisible character U+{ord(char):04X} "
            f"({unicodedata.name(char, 'format character')}) at data row {row + 1} ({len(hidden)} such cells)",
            where=where, fix=f"delete the invisible character (retype the id); it would otherwise be another {kind}",
        )
    # a full-width IME (common when Chinese spreadsheets are typed) writes ８００１ for 8001: the two spellings look
    # alike and would silently be two units. Refused, never normalised: which spelling is right is the user's call
    from pilotdid.data.names import nfkc_key  # lazily: pilotdid.data loads the city resolver's dependencies

    spellings: dict[str, list[str]] = {}
    for value in text.unique():
        spellings.setdefault(nfkc_key(value), []).append(value)
    collisions = [values for values in spellings.values() if len(values) > 1]
    if collisions:
        first_row = {}
        for position, value in enumerate(series.to_numpy()):
            if isinstance(value, str):
                first_row.setdefault(value, position + 1)
        written = sorted(collisions[0], key=first_row.__getitem__)
        both = " and ".join(f"{v!r} (data row {first_row[v]})" for v in written)
        raise PilotdidInputError(
            f"{kind} ids {both} in column '{column}' are one id written {len(written)} ways (equal after Unicode NFKC "
            f"normalisation: full-width and half-width characters; {len(collisions)} id(s) written more than one way)",
            where=where,
            fix="write the id one way (e.g. retype it with half-width characters; in Excel =ASC(cell)); "
                f"pilotdid keeps ids as written, so the spellings would otherwise be different {kind}s",
        )



def _header(path: Path, encoding: str) -> list[str]:
    import csv

    with open(path, encoding=encoding, newline="") as fh:
        return next(csv.reader(fh), [])


def _read_csv(path: Path, text_columns: tuple[str, ...]) -> pd.DataFrame:
    from pandas._libs.parsers import STR_NA_VALUES

    for encoding in CSV_ENCODINGS:
        try:
            header = _header(path, encoding)
            with open(path, encoding=encoding) as fh:  # the whole file must decode, not only its first lines
                for _ in iter(lambda: fh.read(1 << 20), ""):
                    pass
            break
        except UnicodeDecodeError:
            continue
    else:
        raise PilotdidInputError("cannot read the file as .csv: it is neither UTF-8 nor GBK/GB18030 text", where=str(path),
                                 fix="save it as UTF-8 (Excel: Save As > CSV UTF-8)")
    _checked_names(header, str(path))  # before pandas renames a repeated 'y' to 'y.1'
    text = [c for c in header if c.strip() in text_columns]
    # ids are text, and 'NA'/'null' in an id column are ids; other columns keep pandas' missing-value words
    na_values = {c: ([""] if c in text else sorted(STR_NA_VALUES)) for c in header}
    return pd.read_csv(path, encoding=encoding, dtype={c: str for c in text}, keep_default_na=False,
                       na_values=na_values)


def _read_excel(path: Path, sheet: str | int | None, text_columns: tuple[str, ...]) -> tuple[pd.DataFrame, str | None]:
    from pandas._libs.parsers import STR_NA_VALUES

    note = None
    with pd.ExcelFile(path) as book:
        names = book.sheet_names
        if sheet is None:
            sheet = names[0]
            if len(names) > 1:
                note = (f"read sheet '{names[0]}', the first of {len(names)} "
                        f"(others: {', '.join(map(str, names[1:]))}); name another with [data] sheet")
        elif isinstance(sheet, str) and sheet not in names:
            raise PilotdidInputError(
                f"sheet '{sheet}' not found", where=str(path), fix=f"use one of the sheets: {', '.join(map(str, names))}"
            )
        elif isinstance(sheet, int) and not 0 <= sheet < len(names):
            raise PilotdidInputError(f"sheet index {sheet} out of range (the file has {len(names)})", where=str(path), fix="use a valid sheet name")
        first_row = pd.read_excel(book, sheet_name=sheet, header=None, nrows=1)
        header = first_row.iloc[0].tolist() if len(first_row) else []
        header = ["" if isinstance(h, float) and h != h else str(h) for h in header]
        _checked_names(header, f"{path} sheet '{sheet}'")
        text = [c for c in header if c.strip() in text_columns]
        na_values = {c: ([""] if c in text else sorted(STR_NA_VALUES)) for c in header}
        frame = pd.read_excel(book, sheet_name=sheet, dtype={c: str for c in text}, keep_default_na=False,
                              na_values=na_values)
    sheet_name = sheet if isinstance(sheet, str) else names[sheet]
    _check_excel_cells(path, sheet_name, frame)
    return frame, note


def _cell(row: int, col: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(col + 1)}{row + 2}"  # +2: one header row, 1-based


def _check_excel_cells(path: Path, sheet: str, frame: pd.DataFrame) -> None:
    """Error values (#DIV/0! ...) and formulas without a saved result are refused with their cell."""
    where = f"{path} sheet '{sheet}'"
    for j, column in enumerate(frame.columns):
        values = frame[column]
        if values.dtype != object:
            continue
        is_error = values.map(lambda v: isinstance(v, str) and v.strip() in EXCEL_ERRORS)
        if is_error.any():
            i = int(np.flatnonzero(is_error.to_numpy())[0])
            raise PilotdidInputError(
                f"cell {_cell(i, j)} (column '{str(column).strip()}') holds the Excel error {values.iloc[i]} "
                f"({int(is_error.sum())} such cells in the column)", where=where,
                fix="correct the formula in Excel, or blank the cell if the value is truly missing",
            )
    # pandas reads an error cell (#DIV/0! ...) and a formula saved without its result as a blank: find them
    missing = frame.isna().to_numpy()
    if not missing.any():
        return
    import openpyxl

    values_book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    formula_book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        shape = {"min_row": 2, "max_row": len(frame) + 1, "max_col": len(frame.columns), "values_only": True}
        rows = zip(values_book[sheet].iter_rows(**shape), formula_book[sheet].iter_rows(**shape))
        for i, (values, formulas) in enumerate(rows):
            for j, (value, formula) in enumerate(zip(values, formulas)):
                if not missing[i, j]:
                    continue
                column = str(frame.columns[j]).strip()
                if isinstance(value, str) and value.strip() in EXCEL_ERRORS:
                    raise PilotdidInputError(
                        f"cell {_cell(i, j)} (column '{column}') holds the Excel error {value.strip()}", where=where,
                        fix="correct the formula in Excel, or blank the cell if the value is truly missing",
                    )
                if value is None and isinstance(formula, str) and formula.startswith("="):
                    raise PilotdidInputError(
                        f"cell {_cell(i, j)} (column '{column}') is a formula ({formula}) saved without its value",
                        where=where, fix="open the file in Excel or LibreOffice and save it again (that stores the computed values)",
                    )
    finally:
        values_book.close()
        formula_book.close()


def require_columns(frame: pd.DataFrame, columns: dict[str, str], where: str) -> None:
    """``columns`` maps column name -> the study key that named it (for the message)."""
    for column, key in columns.items():
        if column not in frame.columns:
            close = [c for c in frame.columns if c.lower() == column.lower()]
            hint = f"did you mean '{close[0]}'?" if close else f"the panel's columns are: {', '.join(map(str, frame.columns[:25]))}"
            if frame.attrs.get("sheet_note"):
                hint = f"{hint} ({frame.attrs['sheet_note']})"
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
            refuse_full_width_numbers(series, bad, column, where)
            raise PilotdidInputError(
                f"column '{column}' has a non-numeric cell {series.iloc[row]!r} at data row {row + 1} "
                f"({int(bad.sum())} such cells)",
                where=where, fix="fix or blank those cells (blanks count as missing)",
            )
        out[column] = coerced
    return out


def refuse_full_width_numbers(series: pd.Series, bad, column: str, where: str) -> None:
    """A number typed with a full-width IME ('２０１５') is refused with its row, not read as 2015.

    ``bad`` marks the cells a numeric column could not read; when the first of them is a full-width number the
    message says so (a generic 'non-numeric' or 'must be 0/1, found '１'' would puzzle), otherwise this returns.

    Why not parse it: Stata's destring, R's as.numeric and pandas all read such a cell as not a number, so a
    silent conversion would make the same file hold different data in pilotdid than in the user's other tools;
    the cell also shows the column was typed as text, where a real typo ('２０l５') hides. One formula fixes all.
    """
    from pilotdid.data.names import nfkc_key  # lazily, as in check_ids

    def reads_as_number(value) -> bool:
        if not isinstance(value, str) or nfkc_key(value) == value.strip():
            return False
        try:
            return bool(np.isfinite(float(nfkc_key(value))))
        except ValueError:
            return False

    bad = np.asarray(bad, dtype=bool)
    row = int(np.flatnonzero(bad)[0])
    value = series.iloc[row]
    if reads_as_number(value):
        full_width = bad & series.map(reads_as_number).to_numpy(dtype=bool)
        raise PilotdidInputError(
            f"column '{column}' has the number {value!r} written with full-width characters at data row {row + 1} "
            f"({int(full_width.sum())} such cells)", where=where,
            fix="retype those cells with half-width digits (in Excel =ASC(cell), then paste as values); pilotdid does "
                "not convert them, as Stata and R would not",
        )
