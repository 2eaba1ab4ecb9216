"""Render a :class:`~pilotdid.report.table.Table` as csv, md, tex (booktabs), xlsx, docx and html.

Libraries do the file formats (openpyxl, python-docx, tabulate through pandas); this module only
decides the layout: a three-line table (top rule, header rule, bottom rule) as journals print it.
"""

from __future__ import annotations

import functools
import html
import math
import re
import unicodedata
import zipfile
from pathlib import Path
from typing import NamedTuple

from pilotdid.report.table import FORMATS, Table


def to_csv(table: Table) -> str:
    return table.to_frame().to_csv(index=False, lineterminator="\n")


def _md_cell(text: str) -> str:
    """A cell's text safe inside a markdown table row (a bare '|' would start a new column)."""
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(table: Table) -> str:
    lines = [f"**{table.title}**", ""]
    if table.column_groups and any(label for label, _ in table.column_groups):
        groups = " · ".join(f"{label} ({n} col.)" for label, n in table.column_groups if label)
        lines += [f"_Column groups: {groups}_", ""]
    frame = table.to_frame()
    frame = frame.map(_md_cell).rename(columns=_md_cell)
    lines.append(frame.to_markdown(index=False, disable_numparse=True))
    for note in table.notes:
        lines += ["", f"_{note}_"]
    return "\n".join(lines) + "\n"


_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    # symbols pdflatex cannot take as text: math mode (works the same under xelatex)
    "<": r"$<$",
    ">": r"$>$",
    "|": r"$|$",
    "−": r"$-$",
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "≠": r"$\neq$",
    "≈": r"$\approx$",
    "±": r"$\pm$",
    "×": r"$\times$",
    "·": r"$\cdot$",
    "′": r"$'$",
    "²": r"$^2$",
    "³": r"$^3$",
    "√": r"$\surd$",
    "Δ": r"$\Delta$",
    "χ": r"$\chi$",
    "σ": r"$\sigma$",
    "β": r"$\beta$",
    "α": r"$\alpha$",
    "ρ": r"$\rho$",
    "μ": r"$\mu$",
    "∞": r"$\infty$",
    "→": r"$\to$",
    "∈": r"$\in$",
    "–": "--",
    "—": "---",
    "…": r"\ldots{}",
    "œ": r"\oe{}",  # D'Haultfœuille
    "Œ": r"\OE{}",
    "‘": "`",
    "’": "'",
    "“": "``",
    "”": "''",
    "\u00a0": "~",
}
#: Multi-character forms that must stay one piece of math (a subscript on R², a barred letter).
_TEX_PATTERNS = (
    (re.compile(r"R²[_ ]?\(?within\)?"), r"R$^2_{\\mathrm{within}}$"),
    (re.compile(r"(?:Δ|Delta)\^\{?([A-Za-z]+)\}?"), r"$\\Delta^{\\mathrm{\1}}$"),
    (re.compile(r"([A-Za-z])\u0304"), r"$\\bar{\1}$"),
    (re.compile(r"([A-Za-z])\u0301"), r"\\'{\1}"),
    (re.compile(r"([A-Za-z])\u0308"), r'\\"{\1}'),
    (re.compile(r"([A-Za-z])\u0303"), r"$\\tilde{\1}$"),
)
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def _tex_escape(text: str) -> str:
    """``text`` as LaTeX that pdflatex compiles (CJK characters are left for xelatex + ctex)."""
    text = unicodedata.normalize("NFD", text)  # ȳ -> y + combining macron, é -> e + acute (patterns below)
    tokens: list[str] = []  # text pieces; math pieces keep their $…$ and adjacent ones are joined below
    pos = 0
    matches = sorted((m for pattern, _ in _TEX_PATTERNS for m in pattern.finditer(text)), key=lambda m: m.start())
    replacement = {id(pattern): rep for pattern, rep in _TEX_PATTERNS}
    for m in matches:
        if m.start() < pos:
            continue
        tokens += _tex_tokens(text[pos:m.start()])
        tokens.append(m.expand(replacement[id(m.re)]))
        pos = m.end()
    tokens += _tex_tokens(text[pos:])
    out: list[str] = []
    for token in tokens:
        # "$<$" then "$-$" would read as "$$" (display math): join them into one "$<-$"
        if out and _is_math(token) and _is_math(out[-1]) and out[-1].endswith("$"):
            head = out[-1][:-1]
            out[-1] = head + token[token.index("$") + 1:]
        else:
            out.append(token)
    return "".join(out)


def _is_math(token: str) -> bool:
    return token.endswith("$") and not token.endswith("\\$") and "$" in token[:-1]


def _tex_tokens(text: str) -> list[str]:
    out = []
    for ch in text:
        if ch in _TEX_SPECIAL:
            out.append(_TEX_SPECIAL[ch])
        elif ord(ch) < 128 or _CJK.match(ch):
            out.append(ch)
        else:
            out.append(_tex_fallback(ch))
    return out


def _tex_fallback(ch: str) -> str:
    """A character with no mapping: its ASCII base letter when it has one (ā -> a), else '?'.

    Never silent in practice: the LaTeX compile test runs on every table the replication writes.
    """
    base = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode("ascii")
    return base or "?"


def needs_xelatex(table: Table) -> bool:
    """Whether the table holds Chinese text (then it needs xelatex + ctex, not pdflatex)."""
    texts = [table.title, *table.header, *table.notes, *(label for label, _ in table.column_groups or [])]
    texts += [c for row in table.text_rows() for c in row]
    return any(_CJK.search(t) for t in texts)


def latex_preamble(table: Table) -> list[str]:
    """The header comment naming the engine and packages the fragment needs."""
    if needs_xelatex(table):
        return [
            "% Chinese text: compile with xelatex and \\usepackage{ctex} (or \\documentclass{ctexart});",
            "% also needs \\usepackage{booktabs,threeparttable}",
        ]
    return ["% compiles with pdflatex (or xelatex); needs \\usepackage{booktabs,threeparttable}"]


#: LaTeX font steps for a wide table: (size command, \\tabcolsep in pt, font pt), largest first; the first whose
#: tabular fits the A4 text block (portrait, then landscape) is used (:func:`latex_fit`).
LATEX_STEPS = (("", 6.0, 10.0), ("\\small", 4.0, 9.0), ("\\footnotesize", 3.0, 8.0), ("\\scriptsize", 2.0, 7.0))
#: Widths are estimated from Times-like character widths (:func:`_char_em`); Computer Modern runs a little wider.
LATEX_WIDTH_SAFETY = 0.9


def latex_text_width_pt(landscape: bool = False) -> float:
    """The text block a .tex table must fit: A4 with the report's margins (16 cm portrait, 24.7 cm landscape)."""
    return (A4_CM[landscape] - 2 * MARGIN_CM) / 2.54 * 72.27


def _two_lines(text: str) -> list[str]:
    """``text`` split at the space nearest its middle (a header set on two lines); one line when it has no space."""
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    spaces = [i for i in spaces if text[i + 1:i + 2] == "("] or spaces  # "SE / (AI robust)", not "SE (AI / robust)"
    if not spaces:
        return [text]
    cut = min(spaces, key=lambda i: abs(_text_em(text[:i]) - _text_em(text[i + 1:])))
    return [text[:cut], text[cut + 1:]]


class LatexLayout(NamedTuple):
    """How a .tex table is set (:func:`latex_fit`)."""

    command: str  # font size command ("" = the document's size)
    sep: float  # \\tabcolsep in pt
    wrapped: bool  # headers on two lines
    landscape: bool  # a sidewaystable
    scaled: bool  # scaled down to the line width (the last resort)
    #: per column, its width in pt as a paragraph column (text columns ragged right, the others centred), when the
    #: table's text columns (``text_columns``) wrap; None otherwise
    paragraph_widths: list[float] | None = None
    #: the columns set as ragged-right running text when ``paragraph_widths`` is set: the table's own
    #: ``Table.wrap_columns``, or its first column (the row labels) when a table too tall for the page has none
    text_columns: tuple[int, ...] = ()
    #: the size of the notes under the table (\\scriptsize only when that is what lets the float fit the page)
    notes_command: str = "\\footnotesize"
    #: paragraph cells may also break after a hyphen within a word (a table too tall for the page: its layout is
    #: searched again, :func:`_latex_fit_down`; the others keep the widths they had, word breaks only)
    hyphens: bool = False


#: \\tabcolsep (pt) of a table whose text columns wrap: ragged-right paragraphs need no wider gap
LATEX_WRAP_SEP = 2.0
#: a table with text columns tries them wrapped down to this size, portrait then landscape, before a smaller font
LATEX_WRAP_READABLE = "\\footnotesize"


def latex_fit(table: Table) -> LatexLayout:
    """The layout of a .tex table, which must fit the A4 text block across and down (a float cannot break across
    pages, and LaTeX does not warn when one runs past the page's foot or a sidewaystable past its side).

    Across first: as set when its tabular fits an A4 portrait text block; else headers on two lines and the largest
    font that fits portrait (down to 7 pt), else landscape. A table with text columns (``Table.wrap_columns``)
    tries, at each of these steps, every column as a paragraph column (text columns ragged right) before a smaller
    font. Last, landscape at 7 pt scaled down to the line width (:func:`_latex_fit_across`).

    When that layout, with its caption and notes, is taller than the page (long notes, many rows), the same steps
    are tried again with the height counted (:func:`latex_height_pt`), the first column (row labels) wrapping as
    running text in a table with no text columns of its own, and at each step the notes at \\footnotesize, then
    \\scriptsize: the first layout that fits at a readable size (down to \\footnotesize, portrait before landscape),
    then at 7 pt (:func:`_latex_fit_down`)."""
    layout = _latex_fit_across(table)
    # a layout with paragraph columns was chosen with its height counted (:func:`_latex_paragraph_widths`)
    if layout.paragraph_widths is not None or latex_height_pt(table, layout) <= latex_page_height_pt(layout):
        return layout
    return _latex_fit_down(table)


def _latex_fits_across(table: Table, rows: list[list[str]], sep: float, size: float, wrapped: bool,
                       landscape: bool) -> bool:
    """Whether the tabular, its columns as wide as their widest cell, fits the text block across."""
    return _latex_plain_width_pt(table, rows, sep, size, wrapped) <= LATEX_WIDTH_SAFETY * latex_text_width_pt(landscape)


def _latex_plain_width_pt(table: Table, rows: list[list[str]], sep: float, size: float, wrapped: bool) -> float:
    """The tabular's width (Times-like estimate, pt) with every column as wide as its widest cell."""
    header = [_two_lines(h) if wrapped else [h] for h in table.header]
    columns = zip(header, *([[c] for c in row] for row in rows), strict=True)
    return sum(max(_text_pt(c, size) for lines in cells for c in lines) + 2 * sep for cells in columns)


def _latex_fit_across(table: Table) -> LatexLayout:
    """The first layout of :func:`latex_fit`'s steps whose tabular fits the text block across."""
    rows = table.text_rows()

    def fits(sep: float, size: float, wrapped: bool, landscape: bool) -> bool:
        return _latex_fits_across(table, rows, sep, size, wrapped, landscape)

    if fits(*LATEX_STEPS[0][1:], wrapped=False, landscape=False):
        return LatexLayout("", LATEX_STEPS[0][1], False, False, False)
    readable = [command for command, _, _ in LATEX_STEPS]
    readable = readable[:readable.index(LATEX_WRAP_READABLE) + 1]

    def paragraphs(command: str, size: float, landscape: bool) -> LatexLayout | None:
        widths = _latex_paragraph_widths(table, rows, command, size, landscape) if table.wrap_columns else None
        return None if widths is None else LatexLayout(command, LATEX_WRAP_SEP, True, landscape, False, widths,
                                                       table.wrap_columns)

    for landscape in (False, True):
        for command, sep, size in LATEX_STEPS:
            if fits(sep, size, wrapped=True, landscape=landscape):
                return LatexLayout(command, sep, True, landscape, False)
            layout = paragraphs(command, size, landscape) if command in readable else None
            if layout is not None:
                return layout
    for landscape in (False, True):  # text columns wrapped at a smaller font still beat a scaled-down table
        for command, _, size in LATEX_STEPS[len(readable):]:
            layout = paragraphs(command, size, landscape)
            if layout is not None:
                return layout
    command, sep, _ = LATEX_STEPS[-1]
    return LatexLayout(command, sep, True, True, True)


def _latex_fit_down(table: Table) -> LatexLayout:
    """The first of :func:`latex_fit`'s steps that fits across and down (see there); when none does, the one that
    runs the least past the page (the compile test then names the table)."""
    rows = table.text_rows()
    text_columns = table.wrap_columns or (0,)
    steps = list(LATEX_STEPS)
    readable = [command for command, _, _ in steps].index(LATEX_WRAP_READABLE) + 1
    candidates = []
    for sizes in (steps[:readable], steps[readable:]):
        for landscape in (False, True):
            for command, sep, size in sizes:
                if _latex_fits_across(table, rows, sep, size, True, landscape):
                    candidates.append(LatexLayout(command, sep, True, landscape, False))
                widths = _latex_paragraph_widths(table, rows, command, size, landscape, text_columns,
                                                 height=False, hyphens=True)
                if widths is not None:
                    candidates.append(LatexLayout(command, LATEX_WRAP_SEP, True, landscape, False, widths,
                                                  text_columns, hyphens=True))
    command, sep, _ = LATEX_STEPS[-1]
    candidates.append(LatexLayout(command, sep, True, True, True))
    tried = [layout._replace(notes_command=notes) for layout in candidates for notes, _ in LATEX_NOTE_SIZES]
    overrun = [latex_height_pt(table, layout) - latex_page_height_pt(layout) for layout in tried]
    return next((layout for layout, over in zip(tried, overrun, strict=True) if over <= 0),
                tried[overrun.index(min(overrun))])


_BREAK_TOKEN = re.compile(f"{_CJK.pattern}|[^\\s{_CJK.pattern[1:-1]}]+")


#: where a word may break after its own hyphen (LaTeX does: "Non-resource-based" -> "Non-" / "resource-" / "based")
_HYPHEN_BREAK = re.compile(r"(?<=[^\W\d_]-)(?=[^\W\d_])")


def _break_tokens(text: str, hyphens: bool = False) -> list[str]:
    """The pieces a line may break between: words, and each Chinese character on its own; with ``hyphens``, also
    the parts of a hyphenated word (a part keeps its hyphen; the space the line fill adds between parts errs on
    the safe side)."""
    tokens = _BREAK_TOKEN.findall(text) or [""]
    return [part for token in tokens for part in _HYPHEN_BREAK.split(token)] if hyphens else tokens


def _line_count(tokens: list[float], space: float, width: float) -> int:
    """Lines a paragraph of tokens (their widths; ``space`` between words) fills at ``width``, greedily."""
    lines, used = 1, 0.0
    for w in tokens:
        if used and used + space + w > width:
            lines, used = lines + 1, w
        else:
            used = used + space + w if used else w
    return lines


#: the most lines a header of a column that is not a text column wraps onto in a table with text columns
HEADER_LINES = 4


#: the most width combinations :meth:`TextColumns.widths` compares (a table with many long texts in several text
#: columns compares every other candidate width of its longest lists: a bounded cost, a near-shortest table)
TEXT_COLUMN_COMBINATIONS = 5_000


class TextColumns:
    """Column widths for a table with text columns (``Table.wrap_columns``) that make it as short as possible
    within a width: every cell, the header included, is a paragraph whose line count at a width is a greedy line
    fill of its words (Chinese: of its characters).

    ``cells[j]`` are column j's texts (header first) and ``measure`` a text's width in pt. A column that is not a
    text column is as wide as its widest body cell or its header's longest word (its header wraps); a text column
    gets at least its longest word and the room the others leave (:meth:`widths`)."""

    def __init__(self, cells: list[list[str]], measure, text_columns: tuple[int, ...], hyphens: bool = False) -> None:
        self.space = measure(" ")
        self.tokens = [[[measure(t) for t in _break_tokens(c, hyphens) if t] or [0.0] for c in column]
                       for column in cells]
        self.text = [j for j in text_columns if 0 <= j < len(cells)]
        self.least = [max(max(t) for t in column) for column in self.tokens]
        self.most = [max(measure(c) for c in column) for column in cells]
        self.fixed = {j: max(self._narrowest(self.tokens[j][0], HEADER_LINES),
                             max((measure(c) for c in cells[j][1:]), default=0.0))
                      for j in range(len(cells)) if j not in self.text}
        self.n_rows = len(cells[0])

    def _runs(self, tokens: tuple[float, ...]) -> list[float]:
        """The widths of every run of consecutive words: the widths at which a cell can need a line fewer."""
        return sorted({sum(tokens[a:b]) + self.space * (b - a - 1)
                       for a in range(len(tokens)) for b in range(a + 1, len(tokens) + 1)})

    def _narrowest(self, tokens: list[float], lines: int) -> float:
        """The narrowest width that holds a cell in ``lines`` lines."""
        return next(w for w in self._runs(tuple(tokens))
                    if w >= max(tokens) and _line_count(tokens, self.space, w) <= lines)

    def lines(self, j: int, width: float) -> list[int]:
        """Lines of each of column j's cells (header first) at ``width``."""
        return [_line_count(t, self.space, width) for t in self.tokens[j]]

    def height(self, widths: list[float]) -> list[int]:
        """Lines of each row (header first): as many as its tallest cell."""
        per_column = [self.lines(j, w) for j, w in enumerate(widths)]
        return [max(col[r] for col in per_column) for r in range(self.n_rows)]

    def _thresholds(self, j: int) -> list[float]:
        """The widths at which a cell of text column j needs one line fewer (each the width of some run of its
        words: the narrowest that holds the cell in L lines, for every L), and the column's longest word."""
        found = {self.least[j]}
        for tokens in {tuple(t) for t in self.tokens[j]}:
            runs = [w for w in self._runs(tokens) if w >= self.least[j]]
            for lines in range(_line_count(list(tokens), self.space, self.least[j]), 0, -1):
                fit = next((w for w in runs if _line_count(list(tokens), self.space, w) <= lines), None)
                if fit is not None:
                    found.add(fit)
        return sorted(found)

    def widths(self, available: float) -> list[float] | None:
        """Column widths within ``available`` pt, None when the text columns' longest words do not fit beside the
        other columns: of the widths at which some text cell needs a line fewer, the combination that makes the
        table shortest (the narrowest such on ties); the room left is then shared in proportion to what each text
        column could still use, so that the table fills the width (wider never costs a line)."""
        import itertools

        import numpy as np

        widths = [self.fixed.get(j, self.least[j]) for j in range(len(self.tokens))]
        budget = available - sum(w for j, w in enumerate(widths) if j not in self.text)
        if budget < sum(self.least[j] for j in self.text):
            return None
        others = np.max([self.lines(j, w) for j, w in enumerate(widths) if j not in self.text] or [[1] * self.n_rows],
                        axis=0)
        candidates = [[w for w in self._thresholds(j) if w <= budget] for j in self.text]
        while math.prod(len(ws) for ws in candidates) > TEXT_COLUMN_COMBINATIONS:  # many long texts: every other
            longest = max(range(len(candidates)), key=lambda k: len(candidates[k]))  # width of the longest list
            candidates[longest] = candidates[longest][::2]
        lines = [np.array([self.lines(j, w) for w in ws]) for j, ws in zip(self.text, candidates, strict=True)]
        best: tuple[int, float, tuple[int, ...]] | None = None
        for picks in itertools.product(*(range(len(ws)) for ws in candidates)):
            used = sum(ws[i] for ws, i in zip(candidates, picks, strict=True))
            if used > budget:
                continue
            height = int(np.maximum.reduce([others, *(col[i] for col, i in zip(lines, picks, strict=True))]).sum())
            if best is None or (height, used) < best[:2]:
                best = (height, used, picks)
        for j, ws, i in zip(self.text, candidates, best[2], strict=True):
            widths[j] = ws[i]
        spare = budget - best[1]
        room = {j: max(0.0, self.most[j] - widths[j]) for j in self.text}
        if spare > 0 and sum(room.values()) > 0:
            share = min(1.0, spare / sum(room.values()))
            for j in self.text:
                widths[j] += share * room[j]
        return widths


#: LaTeX's line spacing (\\baselineskip, pt) at each size of :data:`LATEX_STEPS`: article at 10 pt, and with ctex
#: (Chinese tables), whose sizes follow the Chinese 字号 (五号 10.5 pt body) with \\linespread 1.3 (printed by
#: xelatex with \\usepackage{ctex}: \\the\\baselineskip at each size)
LATEX_BASELINE = {"": 12.0, "\\small": 11.0, "\\footnotesize": 9.5, "\\scriptsize": 8.0}
LATEX_BASELINE_CTEX = {"": 16.44, "\\small": 14.09, "\\footnotesize": 11.74, "\\scriptsize": 10.18}


def latex_baselines(table: Table) -> dict[str, float]:
    """The line spacing (pt) of ``table``'s lines at each size command: looked up once per height estimate, because
    telling whether the table needs xelatex formats and scans all its cells."""
    return LATEX_BASELINE_CTEX if needs_xelatex(table) else LATEX_BASELINE


def _latex_text_columns(table: Table, rows: list[list[str]], size: float, text_columns: tuple[int, ...],
                        hyphens: bool = False) -> TextColumns:
    """The table's cells as paragraphs at ``size`` (widths in pt, Computer Modern: it runs wider than the
    Times-like estimate; Chinese is 1 em) with ``text_columns`` as its running-text columns."""
    columns = [list(c) for c in zip(table.header, *rows, strict=True)]
    return TextColumns(columns, functools.partial(_latex_text_pt, size=size), text_columns, hyphens)


def _latex_text_pt(text: str, size: float) -> float:
    """The width of ``text`` set in Computer Modern at ``size`` (Chinese characters 1 em each)."""
    latin = _CJK.sub("", text)
    return _text_pt(latin, size) / LATEX_WIDTH_SAFETY + (len(text) - len(latin)) * size


def _latex_paragraph_widths(table: Table, rows: list[list[str]], command: str, size: float, landscape: bool,
                            text_columns: tuple[int, ...] | None = None, height: bool = True,
                            hyphens: bool = False) -> list[float] | None:
    """Widths (pt, Computer Modern) of every column as a paragraph column (:class:`TextColumns`; ``text_columns``
    ragged right, by default the table's ``wrap_columns``) so that the tabular fits the text block at ``size``
    across and (``height``), with its caption and notes, down (a float cannot break across pages); None when it
    cannot."""
    columns = table.header
    text_width = latex_text_width_pt(landscape)
    layout = _latex_text_columns(table, rows, size, table.wrap_columns if text_columns is None else text_columns,
                                 hyphens)
    widths = layout.widths(0.98 * text_width - 2 * LATEX_WRAP_SEP * len(columns))
    if widths is None or not height:
        return widths
    note_lines = sum(1 + int(_text_pt(n, 8.0) / LATEX_WIDTH_SAFETY // text_width) for n in table.notes)
    page_height = latex_text_width_pt(not landscape)  # a sidewaystable's height is the portrait text width
    # the caption's line and the three rules with their gaps take 15 pt (measured on the indicator coverage table)
    baseline = latex_baselines(table)
    needed = (sum(layout.height(widths)) * baseline[command]
              + note_lines * baseline["\\footnotesize"]) + 16.0
    return widths if needed <= page_height else None


#: the notes' sizes under a table, largest first, with their font size in pt (:func:`latex_fit`)
LATEX_NOTE_SIZES = (("\\footnotesize", 8.0), ("\\scriptsize", 7.0))
#: the height (pt) a float takes beyond its lines: the rules with their gaps and the space around caption and notes
#: (measured with pdftotext on the CBEC and low-carbon tables; the text's extent, which the compile test checks)
LATEX_FLOAT_EXTRA = 16.0
#: a paragraph of notes set greedily fills this share of its lines on average (words do not break)
LATEX_NOTE_FILL = 0.93


def latex_page_height_pt(layout: LatexLayout) -> float:
    """The height a float may take: the A4 text block's (24.7 cm), a sidewaystable's the portrait text width."""
    return latex_text_width_pt(not layout.landscape)


def latex_height_pt(table: Table, layout: LatexLayout) -> float:
    """The estimated height (pt) of ``table`` set in ``layout``: caption, rules, header and body lines, and the
    notes, which threeparttable sets as wide as the tabular."""
    rows = table.text_rows()
    size = {command: pt for command, _, pt in LATEX_STEPS}[layout.command]
    if layout.paragraph_widths is not None:
        lines = _latex_text_columns(table, rows, size, layout.text_columns, layout.hyphens).height(
            layout.paragraph_widths)
        width = sum(layout.paragraph_widths) + 2 * layout.sep * len(table.header)
    else:
        lines = [max(len(_two_lines(h)) if layout.wrapped else 1 for h in table.header), *[1] * len(rows)]
        width = _latex_plain_width_pt(table, rows, layout.sep, size, layout.wrapped) / LATEX_WIDTH_SAFETY
    text_width = latex_text_width_pt(layout.landscape)
    scale = text_width / width if layout.scaled else 1.0  # scaled to the line width: caption and notes too
    width = width if layout.scaled else min(width, text_width)
    groups = 1.3 if table.column_groups and any(label for label, _ in table.column_groups) else 0.0
    note_pt = dict(LATEX_NOTE_SIZES)[layout.notes_command]
    note_lines = sum(math.ceil(_latex_text_pt(n, note_pt) / (LATEX_NOTE_FILL * width)) for n in table.notes)
    caption_lines = math.ceil(_latex_text_pt(f"Table 00: {table.title}", 10.0) / (LATEX_NOTE_FILL * width))
    baseline = latex_baselines(table)
    return scale * ((sum(lines) + groups) * baseline[layout.command]
                    + note_lines * baseline[layout.notes_command]
                    + caption_lines * baseline[""] + LATEX_FLOAT_EXTRA)


def _tex_header_cell(text: str, wrapped: bool, paragraph: bool = False) -> str:
    if paragraph:  # a paragraph column wraps its header itself
        return "\\centering " + _tex_escape(text)
    lines = _two_lines(text) if wrapped else [text]
    if len(lines) == 1:
        return _tex_escape(text)
    return "\\begin{tabular}[b]{@{}c@{}}" + " \\\\ ".join(_tex_escape(line) for line in lines) + "\\end{tabular}"


def to_latex(table: Table) -> str:
    """A booktabs three-line table in a threeparttable (caption above, notes below, as wide as the table).

    A table wider than an A4 portrait text block gets its headers on two lines and a smaller font and narrower
    column separation, then a sidewaystable (landscape page, needs rotating), and last a scale-down to the line
    width (needs graphicx); one taller than the page, with its caption and notes, wraps its row labels and sets
    its notes smaller: :func:`latex_fit`."""
    ncol = len(table.header)
    layout = latex_fit(table)
    command, sep, wrapped, landscape, scaled = layout[:5]
    paragraphs = layout.paragraph_widths or [None] * ncol
    align = "".join(f"p{{{w:.1f}pt}}" if w is not None else ("l" if j == 0 else "c")
                    for j, w in enumerate(paragraphs))
    # a ragged-right paragraph cell redefines \\\\ for its own lines: rows end with \\tabularnewline (LaTeX's own
    # name for the tabular's row end, which array's \\arraybackslash restores; no extra package needed)
    row_end = " \\tabularnewline" if any(w is not None for w in paragraphs) else " \\\\"

    def cell(j: int, text: str) -> str:
        indent, text = leading_indent(text)
        body = (f"\\hspace*{{{indent:g}em}}" if indent else "") + _tex_escape(text)
        if paragraphs[j] is None:
            return body
        return ("\\raggedright " if j in layout.text_columns else "\\centering ") + body
    environment = "sidewaystable" if landscape else "table"
    out = [
        *latex_preamble(table),
        *([f"% wider than an A4 portrait text block: {environment}{' scaled to the line width' if scaled else ''}, "
           f"needs \\usepackage{{{'rotating,graphicx' if scaled else 'rotating'}}}"] if landscape else []),
        f"\\begin{{{environment}}}" + ("" if landscape else "[htbp]"),
        "\\centering",
        *(["\\resizebox{\\linewidth}{!}{%"] if scaled else []),
        "\\begin{threeparttable}",
        f"\\caption{{{_tex_escape(table.title)}}}",
        f"\\label{{tab:{table.name}}}",
        # the document's size keeps LaTeX's \\tabcolsep (6 pt) unless the layout narrowed it (text columns)
        *([f"{command}\\setlength{{\\tabcolsep}}{{{sep:g}pt}}"] if command or sep != LATEX_STEPS[0][1] else []),
        f"\\begin{{tabular}}{{{align}}}",
        "\\toprule",
    ]
    if table.column_groups and any(label for label, _ in table.column_groups):
        cells, rules, start = [], [], 1
        for label, n in table.column_groups:
            cells.append(f"\\multicolumn{{{n}}}{{c}}{{{_tex_escape(label)}}}" if n > 1 else _tex_escape(label))
            if label:
                rules.append(f"\\cmidrule(lr){{{start}-{start + n - 1}}}")
            start += n
        out.append(" & ".join(cells) + " \\\\")
        out.append(" ".join(rules))
    out.append(" & ".join(_tex_header_cell(h, wrapped, paragraphs[j] is not None) for j, h in enumerate(table.header))
               + row_end)
    out.append("\\midrule")
    for row in table.text_rows():
        out.append(" & ".join(cell(j, c) for j, c in enumerate(row)) + row_end)
    out.append("\\bottomrule")
    out.append("\\end{tabular}")
    if table.notes:
        out.append("\\begin{tablenotes}[flushleft]")
        out.append(layout.notes_command)
        out.extend(f"\\item {_tex_escape(n)}" for n in table.notes)
        out.append("\\end{tablenotes}")
    out.append("\\end{threeparttable}")
    if scaled:
        out.append("}")
    out.append(f"\\end{{{environment}}}")
    return "\n".join(out) + "\n"


def leading_indent(text: str) -> tuple[float, str]:
    """A sub-row label's leading spaces ("  SE, fully interacted model") as an indent in em, half an em per space,
    and the text without them: LaTeX and HTML drop leading spaces, so the indent is set explicitly."""
    stripped = text.lstrip(" ")
    return (len(text) - len(stripped)) * 0.5, stripped


def _html_cell(text: str) -> str:
    indent, text = leading_indent(text)
    # the cell's own left padding (.7em, TABLE_CSS) plus the indent
    style = f' style="padding-left:{indent + 0.7:g}em"' if indent else ""
    return f"<td{style}>{html.escape(text)}</td>"


def to_html(table: Table, *, standalone: bool = True) -> str:
    """A ``<table>`` with class ``pilotdid-table``; ``standalone`` wraps it in a minimal page."""
    esc = html.escape
    parts = [f'<table class="pilotdid-table" id="{esc(table.name)}">', f"<caption>{esc(table.title)}</caption>", "<thead>"]
    if table.column_groups and any(label for label, _ in table.column_groups):
        parts.append("<tr>" + "".join(f'<th colspan="{n}">{esc(label)}</th>' for label, n in table.column_groups) + "</tr>")
    parts.append("<tr>" + "".join(f"<th>{esc(h)}</th>" for h in table.header) + "</tr>")
    parts.append("</thead><tbody>")
    for row in table.text_rows():
        parts.append("<tr>" + "".join(_html_cell(c) for c in row) + "</tr>")
    parts.append("</tbody>")
    if table.notes:
        parts.append(
            f'<tfoot><tr><td colspan="{len(table.header)}">'
            + "<br>".join(esc(n) for n in table.notes)
            + "</td></tr></tfoot>"
        )
    parts.append("</table>")
    fragment = "\n".join(parts)
    if not standalone:
        return fragment
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(table.title)}</title><style>{TABLE_CSS}</style></head><body>\n{fragment}\n</body></html>\n"
    )


TABLE_CSS = (
    "table.pilotdid-table{border-collapse:collapse;margin:1em 0;font-variant-numeric:tabular-nums}"
    "table.pilotdid-table caption{font-weight:bold;text-align:left;padding-bottom:.4em}"
    "table.pilotdid-table thead{border-top:2px solid #000;border-bottom:1px solid #000}"
    "table.pilotdid-table tbody{border-bottom:2px solid #000}"
    "table.pilotdid-table th,table.pilotdid-table td{padding:.2em .7em;text-align:center}"
    "table.pilotdid-table td:first-child,table.pilotdid-table th:first-child{text-align:left}"
    "table.pilotdid-table tfoot td{font-size:.85em;text-align:left;border:none;padding-top:.5em}"
)


def write_xlsx(table: Table, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    wb = Workbook()
    ws = wb.active
    ws.title = table.name[:31]
    ws.append([table.title])
    ws["A1"].font = Font(bold=True)
    thick, thin = Side(style="medium"), Side(style="thin")
    row0 = 2
    if table.column_groups and any(label for label, _ in table.column_groups):
        col = 1
        for label, n in table.column_groups:
            ws.cell(row=row0, column=col, value=label).alignment = Alignment(horizontal="center")
            if n > 1:
                ws.merge_cells(start_row=row0, start_column=col, end_row=row0, end_column=col + n - 1)
            col += n
        row0 += 1
    for j, h in enumerate(table.header, start=1):
        c = ws.cell(row=row0, column=j, value=h)
        c.font = Font(bold=True)
        c.border = Border(top=thick, bottom=thin)
        c.alignment = Alignment(horizontal="center")
    rows = table.text_rows()
    for i, row in enumerate(rows, start=row0 + 1):
        for j, text in enumerate(row, start=1):
            c = ws.cell(row=i, column=j, value=text)
            c.alignment = Alignment(horizontal="left" if j == 1 else "center")
            if i == row0 + len(rows):
                c.border = Border(bottom=thick)
    for k, note in enumerate(table.notes, start=row0 + len(rows) + 2):
        ws.cell(row=k, column=1, value=note)
    ws.column_dimensions["A"].width = max(12, min(50, max((len(r[0]) for r in rows), default=10) + 2))
    wb.save(path)


# --- Word: a three-line table a journal takes ------------------------------------------------------------------

#: A4 with 2.5 cm margins; body 五号 (10.5 pt); notes 小五 (9 pt).
A4_CM = (21.0, 29.7)
MARGIN_CM = 2.5
BODY_PT = 10.5
NOTE_PT = 9.0
#: Font sizes tried, largest first, before a table is set on a landscape page.
TABLE_PT = (10.5, 9.0, 8.0, 7.5)
LATIN_FONT, EAST_ASIA_FONT = "Times New Roman", "SimSun"  # 宋体
#: Rules in eighths of a point: top and bottom 1.5 pt, under the header 0.75 pt.
THICK_RULE, THIN_RULE = "12", "6"
#: Left + right cell margin (twips each side: 57 = 0.1 cm).
CELL_MARGIN_TWIPS = 57


def _char_em(ch: str) -> float:
    """Approximate advance width of one character in Times New Roman / 宋体, in em (for column widths)."""
    if _CJK.match(ch) or unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1.0
    if ch.isdigit() or ch in "*$#_?":
        return 0.5
    if ch in ".,:;'!|":
        return 0.28
    if ch in "()[]-":
        return 0.34
    if ch == " ":
        return 0.25
    if ch.isupper() or ch in "%&@MW—":
        return 0.72
    if ch.islower():
        return 0.5
    return 0.6


def _text_pt(text: str, size: float, bold: bool = False) -> float:
    return _text_em(text) * size * (1.06 if bold else 1.0)


@functools.lru_cache(maxsize=65536)
def _text_em(text: str) -> float:
    """Width of ``text`` in em (cached: every cell is measured at up to four sizes, twice per table)."""
    return sum(_char_em(c) for c in text)


def _column_widths(table: Table, size: float, available_pt: float) -> list[float] | None:
    """Column widths (pt) that fill ``available_pt`` with no token broken, or None when they cannot fit.

    Each column gets at least its longest unbreakable token (a number, a word) and at most its longest
    cell; the page width left over is shared in proportion to what each column could still use.
    """
    pad = 2 * CELL_MARGIN_TWIPS / 20 + 1.5
    columns = list(zip(*([table.header] + table.text_rows()), strict=True)) if table.header else []
    least, most = [], []
    for j, cells in enumerate(columns):
        tokens = [tok for i, text in enumerate(cells) for tok in (text.split() or [""])]
        bold = [True] + [False] * (len(cells) - 1)
        least.append(max(_text_pt(tok, size, True) for tok in tokens) + pad)
        most.append(max(_text_pt(text, size, b) for text, b in zip(cells, bold, strict=True)) + pad)
        if j == 0:  # row labels: keep them on one line when the page allows
            least[-1] = max(least[-1], min(most[-1], available_pt * 0.25))
    if sum(least) > available_pt:
        return None
    if sum(most) <= available_pt:
        scale = available_pt / sum(most)
        return [w * scale for w in most]
    spare = available_pt - sum(least)
    room = [m - n for m, n in zip(most, least, strict=True)]
    return [n + spare * r / sum(room) for n, r in zip(least, room, strict=True)]


#: a table with text columns tries them wrapped at this size or larger, portrait then landscape, before a smaller
#: font (as \\footnotesize in LaTeX)
DOCX_WRAP_READABLE_PT = 8.0


def _docx_text_column_widths(table: Table, size: float, available_pt: float, landscape: bool) -> list[float] | None:
    """Column widths (pt) of a table with text columns (:class:`TextColumns`, ``Table.wrap_columns``) at ``size``,
    or None when they do not fit ``available_pt`` across or the table with its caption and notes does not fit one
    page down (a table of ragged text split over pages is hard to read; the next size or landscape is tried)."""
    pad = 2 * CELL_MARGIN_TWIPS / 20 + 1.5
    columns = [list(c) for c in zip(table.header, *table.text_rows(), strict=True)]
    layout = TextColumns(columns, lambda text: _text_pt(text, size, bold=True), table.wrap_columns)
    widths = layout.widths(available_pt - pad * len(columns))
    if widths is None:
        return None
    line = 1.15 * size  # single spacing in Times New Roman / 宋体
    note_lines = sum(1 + int(_text_pt(n, NOTE_PT) // available_pt) for n in table.notes)
    page_height = (A4_CM[0 if landscape else 1] - 2 * MARGIN_CM) / 2.54 * 72
    needed = sum(layout.height(widths)) * line + note_lines * 1.15 * NOTE_PT + 2 * 1.15 * BODY_PT + 9.0
    return [w + pad for w in widths] if needed <= page_height else None


def docx_layout(table: Table, portrait_width_pt: float, landscape_width_pt: float) -> tuple[float, bool, list[float]]:
    """(font size, landscape?, column widths in pt) for a table: the largest size that fits portrait, then landscape.
    A table with text columns (``Table.wrap_columns``) first tries them as ragged-right paragraphs that keep it on
    one page (:func:`_docx_text_column_widths`)."""
    if table.wrap_columns:
        readable = [size for size in TABLE_PT if size >= DOCX_WRAP_READABLE_PT]
        smaller = [size for size in TABLE_PT if size < DOCX_WRAP_READABLE_PT]
        for sizes in (readable, smaller):
            for landscape, width in ((False, portrait_width_pt), (True, landscape_width_pt)):
                for size in sizes:
                    widths = _docx_text_column_widths(table, size, width, landscape)
                    if widths is not None:
                        return size, landscape, widths
    for landscape, width in ((False, portrait_width_pt), (True, landscape_width_pt)):
        for size in TABLE_PT:
            widths = _column_widths(table, size, width)
            if widths is not None:
                return size, landscape, widths
    size = TABLE_PT[-1]
    widths = _column_widths(table, size, 10 * landscape_width_pt) or []
    total = sum(widths) or 1.0
    return size, True, [w * landscape_width_pt / total for w in widths]


def _set_fonts(rpr_parent, size_pt: float | None = None) -> None:
    """Times New Roman for Latin text and 宋体 for East Asian text on an element with (or given) rPr."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rpr = rpr_parent.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        rpr_parent.append(rpr)
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("ascii", "hAnsi", "cs"):
        fonts.set(qn(f"w:{attr}"), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), EAST_ASIA_FONT)
    for theme in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{theme}"), None)
    if size_pt is not None:
        for tag in ("w:sz", "w:szCs"):
            el = rpr.find(qn(tag))
            if el is None:
                el = OxmlElement(tag)
                rpr.append(el)
            el.set(qn("w:val"), str(int(round(size_pt * 2))))


def journal_document(*, landscape: bool = False):
    """A python-docx Document set up as journals want it: A4, 2.5 cm margins, Times New Roman + 宋体,
    五号 (10.5 pt) body, no inherited paragraph spacing (the default template's spacing-after of 10 pt).

    Set up once per orientation and kept as the saved file's bytes: a run writes hundreds of one-table documents,
    and reopening the bytes costs a third of setting the styles up again (same document, same saved bytes)."""
    import io

    from docx import Document

    template = _JOURNAL_TEMPLATES.get(landscape)
    if template is None:
        buffer = io.BytesIO()
        _new_journal_document(landscape).save(buffer)
        template = _JOURNAL_TEMPLATES[landscape] = buffer.getvalue()
    return Document(io.BytesIO(template))


#: journal_document's saved set-up, by orientation (landscape: bool)
_JOURNAL_TEMPLATES: dict[bool, bytes] = {}


def _new_journal_document(landscape: bool):
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    section = doc.sections[0]
    _page(section, landscape)
    section.top_margin = section.bottom_margin = Cm(MARGIN_CM)
    section.left_margin = section.right_margin = Cm(MARGIN_CM)
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault"))
    _set_fonts(rpr_default, BODY_PT)
    ppr_default = defaults.find(qn("w:pPrDefault"))
    if ppr_default is None:
        ppr_default = OxmlElement("w:pPrDefault")
        defaults.append(ppr_default)
    ppr = ppr_default.find(qn("w:pPr"))
    if ppr is None:
        ppr = OxmlElement("w:pPr")
        ppr_default.append(ppr)
    spacing = ppr.find(qn("w:spacing"))
    if spacing is None:
        spacing = OxmlElement("w:spacing")
        ppr.append(spacing)
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")
    spacing.set(qn("w:lineRule"), "auto")
    for style in doc.styles:
        element = style.element
        if element.find(qn("w:rPr")) is not None or style.name == "Normal":
            _set_fonts(element)
        if style.name == "Normal":
            style.font.size = Pt(BODY_PT)
            style.paragraph_format.space_after = Pt(0)
            style.paragraph_format.line_spacing = 1.0
        if style.name.startswith("Heading") or style.name == "Title":
            style.font.color.rgb = RGBColor(0, 0, 0)
    return doc


def _page(section, landscape: bool) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    short, long_ = Cm(A4_CM[0]), Cm(A4_CM[1])
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (long_, short) if landscape else (short, long_)


def _text_width_pt(landscape: bool) -> float:
    width_cm = (A4_CM[1] if landscape else A4_CM[0]) - 2 * MARGIN_CM
    return width_cm / 2.54 * 72


def _docx_borders(cell, **edges: str) -> None:
    """Set borders on a python-docx cell: ``top="single:12"`` (style:size in eighths of a point)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    for edge, spec in edges.items():
        style, size = spec.split(":")
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), style)
        el.set(qn("w:sz"), size)
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")
        borders.append(el)


def _table_properties(t, widths_pt: list[float]) -> None:
    """Fixed layout at the given widths, centred, compact cell margins, no table-style borders."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    tbl_pr = t._tbl.tblPr
    width = OxmlElement("w:tblW")
    width.set(qn("w:w"), str(int(round(sum(widths_pt) * 20))))
    width.set(qn("w:type"), "dxa")
    for old in tbl_pr.findall(qn("w:tblW")):
        tbl_pr.remove(old)
    tbl_pr.append(width)
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl_pr.append(layout)
    margins = OxmlElement("w:tblCellMar")
    for edge, twips in (("top", 0), ("left", CELL_MARGIN_TWIPS), ("bottom", 0), ("right", CELL_MARGIN_TWIPS)):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:w"), str(twips))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    tbl_pr.append(margins)
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)
    for col, w in zip(t._tbl.tblGrid.findall(qn("w:gridCol")), widths_pt, strict=True):
        col.set(qn("w:w"), str(int(round(w * 20))))


def _row_flags(row, *, header: bool) -> None:
    """Rows never split across pages; header rows repeat at the top of every page."""
    from docx.oxml import OxmlElement

    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))
    if header:
        tr_pr.append(OxmlElement("w:tblHeader"))


#: Word joiner (U+2060): no line break on either side. Word and LibreOffice break lines after a hyphen, a dash
#: or a slash inside a word ("PSM-|DID"); a joiner after each keeps the word whole.
WORD_JOINER = "\u2060"
_BREAKABLE_INSIDE = re.compile(r"(?<=\S)([-–/])(?=\S)")


def docx_cell_text(text: str) -> str:
    """Cell text with every hyphen, dash and slash inside a token glued to its neighbours."""
    return _BREAKABLE_INSIDE.sub(lambda m: m.group(1) + WORD_JOINER, text)


def _compact_paragraph(p, align, size: float, bold: bool = False, keep_with_next: bool = False) -> None:
    from docx.shared import Pt

    fmt = p.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing = 1.0
    fmt.keep_with_next = keep_with_next
    p.alignment = align
    for r in p.runs:
        r.font.size = Pt(size)
        r.bold = bold


def add_to_docx(document, table: Table, *, allow_landscape_section: bool = True,
                layout: tuple[float, bool, list[float]] | None = None) -> None:
    """Append a three-line table (caption, table, notes) to a document made by :func:`journal_document`.

    Rules: top and bottom 1.5 pt, under the header 0.75 pt, nothing else. Column widths come from the
    content and fill the text width; the font steps down from 10.5 pt when the table is wide, and a table
    that still does not fit goes on its own landscape page (``allow_landscape_section``). ``layout``: the
    table's :func:`docx_layout` when the caller has it already (it measures every cell).
    """
    from docx.enum.section import WD_SECTION
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    section = document.sections[-1]
    is_landscape = section.page_width > section.page_height
    size, landscape, widths = layout or docx_layout(table, _text_width_pt(False), _text_width_pt(True))
    switched = False
    if landscape and not is_landscape:
        if allow_landscape_section:
            _page(document.add_section(WD_SECTION.NEW_PAGE), True)
            switched = True
        else:
            size, _, widths = docx_layout(table, _text_width_pt(False), _text_width_pt(False))
    elif not landscape and is_landscape:
        scale = _text_width_pt(True) / sum(widths)
        widths = [w * scale for w in widths]

    cap = document.add_paragraph()
    cap.add_run(table.title)
    _compact_paragraph(cap, WD_ALIGN_PARAGRAPH.CENTER, BODY_PT, bold=True, keep_with_next=True)
    cap.paragraph_format.space_before = Pt(6)
    cap.paragraph_format.space_after = Pt(3)
    header_rows = 2 if table.column_groups and any(label for label, _ in table.column_groups) else 1
    rows = table.text_rows()
    ncol = len(table.header)
    t = document.add_table(rows=header_rows + len(rows), cols=ncol)
    _table_properties(t, widths)
    if header_rows == 2:
        col = 0
        for label, n in table.column_groups:
            cell = t.cell(0, col)
            if n > 1:
                cell = cell.merge(t.cell(0, col + n - 1))
            cell.text = docx_cell_text(label)
            col += n
    # python-docx rebuilds the whole cell list on every t.cell()/row.cells call (quadratic in the table
    # size); take the list once, after the merges, and index it: row-major, ncol cells per row
    cells = t._cells
    for j, h in enumerate(table.header):
        cells[(header_rows - 1) * ncol + j].text = docx_cell_text(h)
    for i, row in enumerate(rows, start=header_rows):
        for j, text in enumerate(row):
            cells[i * ncol + j].text = docx_cell_text(text)
    n_rows = header_rows + len(rows)
    for i, row in enumerate(t.rows):
        _row_flags(row, header=i < header_rows)
    # a merged cell appears once per column it spans: style it once. The set holds the <w:tc> elements, not their
    # id(): an lxml proxy freed elsewhere can hand its id to another cell (it skipped cells in a test's count)
    styled: set = set()
    for i in range(n_rows):
        for j in range(ncol):
            cell = cells[i * ncol + j]
            if cell._tc in styled:
                continue
            styled.add(cell._tc)
            cell.width = Pt(widths[j])
            for p in cell.paragraphs:
                text = j in table.wrap_columns and i >= header_rows  # running text: ragged right
                align = WD_ALIGN_PARAGRAPH.LEFT if j == 0 or text else WD_ALIGN_PARAGRAPH.CENTER
                _compact_paragraph(p, align, size, bold=False, keep_with_next=i < n_rows - 1)
            edges = {}
            if i == 0:
                edges["top"] = f"single:{THICK_RULE}"
            if i == header_rows - 1:
                edges["bottom"] = f"single:{THIN_RULE}"
            if i == n_rows - 1:
                edges["bottom"] = f"single:{THICK_RULE}"
            if edges:
                _docx_borders(cell, **edges)
    for k, note in enumerate(table.notes):
        p = document.add_paragraph()
        p.add_run(note)
        _compact_paragraph(p, WD_ALIGN_PARAGRAPH.JUSTIFY, NOTE_PT)
        if k == 0:
            p.paragraph_format.space_before = Pt(3)
    if switched:
        _page(document.add_section(WD_SECTION.NEW_PAGE), False)


def write_docx(table: Table, path: Path) -> None:
    """One table in its own A4 document (landscape when it is too wide for portrait)."""
    layout = docx_layout(table, _text_width_pt(False), _text_width_pt(True))
    doc = journal_document(landscape=layout[1])
    add_to_docx(doc, table, allow_landscape_section=False, layout=layout)
    doc.save(path)


_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def normalise_office_zip(path: Path) -> None:
    """Make a docx/xlsx byte-reproducible: fixed zip timestamps and fixed document dates.

    Office files are zip archives stamped with the time of writing; the same table written twice
    would differ in bytes though not in content.
    """
    with zipfile.ZipFile(path) as src:
        entries = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = _CORE_DATES.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", data)
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, data)


def write_table(table: Table, directory: Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write ``table`` into ``directory`` once per format; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = directory / f"{table.name}.{fmt}"
        if fmt == "csv":
            path.write_text(to_csv(table), encoding="utf-8")
        elif fmt == "md":
            path.write_text(to_markdown(table), encoding="utf-8")
        elif fmt == "tex":
            path.write_text(to_latex(table), encoding="utf-8")
        elif fmt == "html":
            path.write_text(to_html(table), encoding="utf-8")
        elif fmt == "xlsx":
            write_xlsx(table, path)
            normalise_office_zip(path)
        elif fmt == "docx":
            write_docx(table, path)
            normalise_office_zip(path)
        else:
            raise ValueError(f"unknown table format {fmt!r}; choose from {', '.join(FORMATS)}")
        written.append(path)
    return written
