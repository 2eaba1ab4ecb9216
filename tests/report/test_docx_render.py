"""Word tables a journal takes: rendered by LibreOffice to PDF and PNG, pages counted, no token broken.

Skipped, saying why, when LibreOffice (soffice) or poppler (pdftotext, pdftoppm) is not installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from pilotdid.report.export import WORD_JOINER, write_docx
from pilotdid.report.table import Table


CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def _tools():
    missing = [t for t in ("soffice", "pdftotext", "pdftoppm", "pdfinfo") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (Debian: libreoffice-writer-nogui, poppler-utils)")


def _to_pdf(docx: Path, tmp: Path) -> Path:
    """docx -> PDF by LibreOffice in a fresh profile; soffice's exit code, time and output are kept beside the PDF
    (soffice.log) so that a failure message can show them."""
    _tools()
    out = tmp / "pdf"
    out.mkdir(exist_ok=True)
    profile = (tmp / "lo-profile").as_uri()  # own profile: other soffice processes cannot lock ours
    started = time.monotonic()
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir", str(out),
         str(docx)], capture_output=True, text=True, timeout=300)
    pdf = out / f"{docx.stem}.pdf"
    log = (f"soffice exit {result.returncode} after {time.monotonic() - started:.1f} s (profile {profile})\n"
           f"stdout: {result.stdout.strip()[-1000:]}\nstderr: {result.stderr.strip()[-2000:]}")
    (out / "soffice.log").write_text(log, encoding="utf-8")
    assert result.returncode == 0 and pdf.exists(), log
    return pdf


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def _pdf_tokens(pdf: Path) -> Counter:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return Counter(text.replace(WORD_JOINER, "").split())


def _cell_tokens(docx: Path) -> Counter:
    from docx import Document

    tokens: Counter = Counter()
    for table in Document(docx).tables:
        # a merged cell comes back once per grid column it spans: count it once. The set holds the <w:tc> elements
        # themselves, not their id(): lxml frees an element's Python proxy when the row is done, and a later cell's
        # proxy can reuse that id, so an id() set skipped cells depending on the heap (which tests ran before) and
        # a broken token in a skipped cell passed in one run and failed in the next.
        seen = set()
        for row in table.rows:
            for cell in row.cells:
                if cell._tc in seen:
                    continue
                seen.add(cell._tc)
                tokens.update(cell.text.replace(WORD_JOINER, "").split())
    return tokens


def _broken_tokens(docx: Path, pdf: Path) -> list[str]:
    """Cell tokens the PDF holds fewer times than the cells do: each was broken across lines somewhere."""
    pdf_tokens = _pdf_tokens(pdf)
    return sorted(tok for tok, n in _cell_tokens(docx).items() if pdf_tokens[tok] < n)


def _explain(docx: Path, pdf: Path, tokens: list[str]) -> str:
    """Why `tokens` count as broken, for a failure message: for each, how often the cells and the PDF hold it and the
    PDF lines (page, line) holding its longest leading part, with the lines around; then the fonts LibreOffice used
    (a font fallback changes widths) and soffice's log."""
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.replace(WORD_JOINER, "").split("\f")
    cells, in_pdf = _cell_tokens(docx), _pdf_tokens(pdf)
    parts = [f"{docx} -> {pdf}"]
    for token in tokens[:10]:
        parts.append(f"--- {token!r}: {cells[token]}x in the cells, {in_pdf[token]}x in the PDF")
        for size in range(len(token), 0, -1):  # the longest head of the token the PDF text holds
            hits = [(p, i) for p, page in enumerate(pages, 1) for i, line in enumerate(page.splitlines())
                    if token[:size] in line]
            if hits:
                break
        for p, i in hits[:3]:
            lines = pages[p - 1].splitlines()
            parts.append(f"page {p}, line {i + 1} (holds {token[:size]!r}):")
            parts += [f"  | {line.rstrip()}" for line in lines[max(0, i - 2):i + 3]]
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    parts.append("fonts in the PDF:\n" + fonts.strip())
    log = pdf.parent / "soffice.log"
    parts.append(log.read_text(encoding="utf-8") if log.exists() else "(no soffice.log)")
    return "\n".join(parts)


@pytest.fixture
def wide_table():
    rows = [["Broadband China pilot (concurrent policy)", "0.0078***", "(−2.747)", "-0.0012", "0.0134**",
             "(12.345)", "2034"]] * 4
    body = pd.DataFrame(rows, columns=["Variable", "(1) PSM-DID nearest 1:3", "(2) PSM-DID radius", "(3) PSM-DID kernel",
                                       "(4) Concurrent policy", "(5) Lagged treatment", "(6) Winsorised 1%"])
    return Table("wide", "A wide table", body, notes=["t-statistics in parentheses."])


def test_word_table_is_a_three_line_a4_table_with_journal_fonts(tmp_path, wide_table):
    from docx import Document
    from docx.oxml.ns import qn

    path = tmp_path / "wide.docx"
    write_docx(wide_table, path)
    doc = Document(path)
    section = doc.sections[0]
    assert {round(section.page_width.cm, 1), round(section.page_height.cm, 1)} == {21.0, 29.7}
    fonts = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:rFonts"))
    assert fonts.get(qn("w:ascii")) == "Times New Roman" and fonts.get(qn("w:eastAsia")) == "SimSun"
    assert doc.styles["Normal"].font.size.pt == 10.5
    spacing = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    assert spacing.get(qn("w:after")) == "0"
    table = doc.tables[0]
    rules = []
    for i, row in enumerate(table.rows):
        for cell in row.cells:
            borders = cell._tc.tcPr.find(qn("w:tcBorders"))
            if borders is not None:
                rules += [(i, el.tag.split("}")[1], el.get(qn("w:sz"))) for el in borders]
    last = len(table.rows) - 1
    assert set(rules) == {(0, "top", "12"), (0, "bottom", "6"), (last, "bottom", "12")}
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    # rendered: one page, no token broken across lines
    pdf = _to_pdf(path, tmp_path)
    assert _pages(pdf) == 1
    broken = _broken_tokens(path, pdf)
    assert broken == [], _explain(path, pdf, broken)


def test_replication_tables_render_on_one_page_with_no_broken_token(replication, tmp_path):
    # indicator_coverage: before its text columns wrapped as ragged-right paragraphs, 3 landscape pages
    for stem in ("baseline", "descriptives", "table5_robustness", "table6_mechanism", "table7_heterogeneity",
                 "indicator_coverage"):
        docx = replication / "tables" / f"{stem}.docx"
        pdf = _to_pdf(docx, tmp_path)
        assert _pages(pdf) == 1, stem
        broken = _broken_tokens(docx, pdf)
        assert broken == [], f"{stem}: {broken}\n{_explain(docx, pdf, broken)}"


def test_text_columns_of_the_coverage_table_are_ragged_right_at_a_readable_size(replication):
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    table = Document(replication / "tables" / "indicator_coverage.docx").tables[0]
    sizes = {run.font.size.pt for row in table.rows for cell in row.cells for p in cell.paragraphs for run in p.runs}
    assert min(sizes) >= 8.0, sizes
    body = table.rows[2]  # a row whose reason is the long "public coverage ends before 2020 (...)"
    assert "public coverage ends" in body.cells[7].text
    assert [body.cells[j].paragraphs[0].alignment for j in (0, 1, 2, 7)] == [
        WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.LEFT]


def test_report_docx_breaks_no_number_or_word_in_any_table(replication, replication_zh, tmp_path):
    for folder, name in ((replication, "en"), (replication_zh, "zh")):
        copy = tmp_path / name
        copy.mkdir()
        shutil.copy(folder / "report.docx", copy / "report.docx")
        pdf = _to_pdf(copy / "report.docx", copy)
        png = copy / "page"
        subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "2", str(pdf), str(png)], check=True)
        assert list(copy.glob("page*.png")), "rendered to PNG"
        # Chinese phrases may wrap between characters (as Chinese typesetting does); numbers and Latin words may not
        broken = [t for t in _broken_tokens(copy / "report.docx", pdf) if re.search(r"\d", t) and not CJK.search(t)]
        assert broken == [], f"{name}: {broken[:20]}\n{_explain(copy / 'report.docx', pdf, broken)}"
        text = "".join(_pdf_tokens(pdf).elements())
        runs = {run for tok in _cell_tokens(copy / "report.docx") if CJK.search(tok)
                for run in re.findall(r"[0-9][0-9.,%]+[0-9%]", tok)}
        lost = sorted(run for run in runs if run not in text)
        holders = [tok for tok in _cell_tokens(copy / "report.docx") if any(run in tok for run in lost)]
        assert lost == [], f"{name}: numbers {lost} inside Chinese cells\n{_explain(copy / 'report.docx', pdf, holders)}"
