"""Table exporters: one Table object, six formats, identical bytes on rewrite."""

import pandas as pd
import pytest

from pilotdid.report.export import to_latex, to_markdown, write_table
from pilotdid.report.table import FORMATS, Table


@pytest.fixture
def table():
    body = pd.DataFrame(
        {"": ["DID", "", "N"], "(1)": ["0.029***", "(7.508)", "2480"], "(2)": ["0.017***", "(4.406)", "2480"]}
    )
    return Table("t4", "Table 4 & baseline_results", body, notes=["t-statistics in parentheses; 50% of cells"],
                 column_groups=[("", 1), ("Resi", 2)])


def test_all_formats_written_and_reproducible(tmp_path, table):
    paths = write_table(table, tmp_path / "a")
    assert sorted(p.suffix.lstrip(".") for p in paths) == sorted(FORMATS)
    again = write_table(table, tmp_path / "b")
    for p, q in zip(paths, again, strict=True):
        assert p.read_bytes() == q.read_bytes(), p.name


def test_docx_and_xlsx_hold_the_cells(tmp_path, table):
    from docx import Document
    from openpyxl import load_workbook

    write_table(table, tmp_path)
    doc = Document(tmp_path / "t4.docx")
    cells = [c.text for row in doc.tables[0].rows for c in row.cells]
    assert "0.029***" in cells and "(4.406)" in cells and "Resi" in cells
    ws = load_workbook(tmp_path / "t4.xlsx").active
    values = [c.value for row in ws.iter_rows() for c in row]
    assert "0.017***" in values and "Table 4 & baseline_results" in values


def test_latex_is_escaped_booktabs(table):
    tex = to_latex(table)
    assert "\\toprule" in tex and "\\bottomrule" in tex and "\\cmidrule(lr){2-3}" in tex
    assert "Table 4 \\& baseline\\_results" in tex and "50\\%" in tex


def test_markdown_keeps_text_cells(table):
    md = to_markdown(table)
    assert "0.029***" in md and "(7.508)" in md


def test_column_groups_must_span_the_body():
    with pytest.raises(ValueError, match="span 3 columns"):
        Table("x", "x", pd.DataFrame({"a": [1], "b": [2]}), column_groups=[("", 1), ("g", 2)])


def test_text_column_widths_stay_within_the_page_when_many_long_texts_are_thinned():
    # SYNTHETIC: 60 rows of long random text in three text columns give more width combinations than
    # TEXT_COLUMN_COMBINATIONS; every other candidate of the longest lists is compared instead, and the widths
    # still fill the room without going past it and no column is narrower than its longest word
    import random

    from pilotdid.report.export import TEXT_COLUMN_COMBINATIONS, TextColumns, _text_pt

    rng = random.Random(1)
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
    columns = [["A text", *(" ".join(rng.choice(words) for _ in range(rng.randint(3, 30))) for _ in range(60))]
               for _ in range(3)] + [["x", *["0.123"] * 60]]
    layout = TextColumns(columns, lambda text: _text_pt(text, 9.0), (0, 1, 2))
    assert len(layout._thresholds(0)) * len(layout._thresholds(1)) * len(layout._thresholds(2)) > TEXT_COLUMN_COMBINATIONS
    widths = layout.widths(600.0)
    assert sum(widths) <= 600.0 + 1e-9
    assert all(widths[j] >= layout.least[j] for j in (0, 1, 2))
    assert widths == layout.widths(600.0)  # deterministic


def test_sub_row_labels_keep_their_indent_in_latex_and_html():
    """LaTeX and HTML drop leading spaces: a sub-row ("  SE, ...") is indented explicitly, half an em a space."""
    from pilotdid.report.export import to_html

    body = pd.DataFrame({"": ["did", "  SE, fully interacted model"], "(1)": ["0.016", "(0.004)"]})
    table = Table("sub", "Sub-rows", body)
    tex = to_latex(table)
    assert "\\hspace*{1em}SE, fully interacted model" in tex and "\\hspace*{0em}" not in tex
    assert " did &" in tex or "\ndid &" in tex
    page = to_html(table, standalone=False)
    assert '<td style="padding-left:1.7em">SE, fully interacted model</td>' in page
    assert "<td>did</td>" in page
