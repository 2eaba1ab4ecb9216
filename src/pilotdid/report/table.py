"""One table object, rendered to every format a paper needs.

A :class:`Table` is pure data: a title, a body of cells (strings or numbers, already formatted the
way they should print), optional spanning header groups and notes. Exporters in
:mod:`pilotdid.report.export` turn the same object into csv, md, tex, xlsx, docx and html, so a
number can never differ between formats.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

import pandas as pd

FORMATS = ("csv", "md", "tex", "xlsx", "docx", "html")
#: A number that printed as a negative zero ("-0.0000", "−0.000"): its sign is noise, never shown.
_NEGATIVE_ZERO = re.compile(r"(?<![\w.])[-−](0(?:\.0+)?)(?![\d.])")


@dataclass
class Table:
    """A paper-ready table.

    Parameters
    ----------
    name:
        File stem (``robustness``, or the study's name for it, e.g. ``table5_robustness``); also the anchor in
        the HTML report.
    title:
        Caption printed above the table.
    body:
        The cells. Column labels are the header; the index is ignored (put row labels in the
        first column). Cells are printed as they are: format numbers before building the table
        when the layout matters (stars, parentheses), or leave floats to be printed with
        ``float_digits`` decimals.
    column_groups:
        Optional spanning header above the columns: ``[("", 1), ("Resilience", 6)]``; the spans
        must add up to the number of columns.
    notes:
        Lines printed under the table (conventions, sources, what is published vs computed).
    float_digits:
        Decimals for float cells that were not formatted by the caller.
    origin:
        The analysis's name for the table when ``[study] outputs`` renamed it (the message catalogue's titles are
        keyed by it); None when ``name`` is that name.
    wrap_columns:
        Positions of columns that hold running text (descriptions, reasons). When the table is too wide for the
        page, .tex and .docx set them as fixed-width paragraphs, ragged right, so that the table fits at a readable
        size instead of being scaled down (:func:`pilotdid.report.export.latex_fit`, ``docx_layout``).
    """

    name: str
    title: str
    body: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    column_groups: list[tuple[str, int]] | None = None
    float_digits: int = 3
    origin: str | None = None
    wrap_columns: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.column_groups is not None:
            span = sum(n for _, n in self.column_groups)
            if span != self.body.shape[1]:
                raise ValueError(
                    f"table {self.name}: column groups span {span} columns, body has {self.body.shape[1]}"
                )

    def without_notes(self, said: list[str]) -> Table:
        """A shallow copy without the notes in ``said`` (the report prints those once for a whole section)."""
        if not any(n in said for n in self.notes):
            return self
        trimmed = copy.copy(self)
        trimmed.notes = [n for n in self.notes if n not in said]
        return trimmed

    @property
    def header(self) -> list[str]:
        return [str(c) for c in self.body.columns]

    def cell_text(self, value: object) -> str:
        """The printed form of one cell (shared by every exporter)."""
        if value is None:
            return ""
        if isinstance(value, float):
            if value != value:  # NaN
                return ""
            return _NEGATIVE_ZERO.sub(r"\1", f"{value:.{self.float_digits}f}")
        return _NEGATIVE_ZERO.sub(r"\1", str(value))

    def text_rows(self) -> list[list[str]]:
        return [[self.cell_text(v) for v in row] for row in self.body.itertuples(index=False)]

    def to_frame(self) -> pd.DataFrame:
        """The body as printed text (what csv and xlsx hold)."""
        return pd.DataFrame(self.text_rows(), columns=self.header)
