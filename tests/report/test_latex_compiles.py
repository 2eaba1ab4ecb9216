"""Every .tex table the replication (English and Chinese) and the low-carbon example write compiles (pdflatex for
English tables, xelatex + ctex for Chinese ones) and fits an A4 text block (2.5 cm margins) across and down.

Skipped, saying why, when TeX is not installed (.ci/run installs Debian's texlive packages when it can).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from pilotdid.report.export import latex_fit, needs_xelatex, to_latex
from pilotdid.report.table import Table

DOCUMENT = r"""\documentclass{{article}}
\usepackage[a4paper,margin=2.5cm]{{geometry}}
{cjk}\usepackage{{booktabs,threeparttable,rotating,graphicx}}
\begin{{document}}
\input{{{name}}}
\end{{document}}
"""


def _compile(tex: Path, engine: str, tmp: Path) -> subprocess.CompletedProcess:
    exe = shutil.which(engine)
    if exe is None:
        pytest.skip(f"{engine} is not installed (Debian: texlive-latex-extra, texlive-xetex, texlive-lang-chinese)")
    work = tmp / f"{tex.stem}_{engine}"
    work.mkdir()
    shutil.copy(tex, work / tex.name)
    cjk = "\\usepackage{ctex}\n" if engine == "xelatex" else ""
    (work / "doc.tex").write_text(DOCUMENT.format(cjk=cjk, name=tex.stem), encoding="utf-8")
    return subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=work,
                          capture_output=True, text=True, timeout=300)


def _engine(tex: Path) -> str:
    head = tex.read_text(encoding="utf-8").splitlines()[0]
    return "xelatex" if "xelatex" in head.split("(")[0] and "pdflatex" not in head else "pdflatex"


def _overfull_pt(result: subprocess.CompletedProcess) -> float:
    """The widest 'Overfull \\hbox' in a compile's log (0 when everything fits its A4 portrait text block)."""
    return max((float(m) for m in re.findall(r"Overfull \\hbox \(([0-9.]+)pt too wide\)", result.stdout)), default=0.0)


BATCH = r"""\documentclass{{article}}
\usepackage[a4paper,margin=2.5cm]{{geometry}}
{cjk}\usepackage{{booktabs,threeparttable,rotating,graphicx}}
\pagestyle{{empty}}
\begin{{document}}
{inputs}
\end{{document}}
"""


def _pages_beyond_text_block_pt(pdf: Path, skip_page_number: bool = True) -> list[float]:
    """Per page of ``pdf``: how far its text reaches past the A4 text block (2.5 cm margins), in pt, on any side
    (0 when inside). A sidewaystable taller than the text width, or a float taller than the text height, spills
    into the margin without an Overfull warning."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    words = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    margin, (width, height) = 2.5 / 2.54 * 72, (595.28, 841.89)
    pages = []
    for page in words.split("<page ")[1:]:
        beyond = 0.0
        for x0, y0, x1, y1, word in re.findall(
                r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', page):
            x0, y0, x1, y1 = map(float, (x0, y0, x1, y1))
            if skip_page_number and word.strip().isdigit() and y0 > height - margin:  # the footer's page number
                continue
            beyond = max(beyond, margin - x0, x1 - (width - margin), margin - y0, y1 - (height - margin))
        pages.append(beyond)
    return pages


def _check_batch(tex_files: list[Path], engine: str, work: Path) -> list[str]:
    """Compile ``tex_files`` in one document, each table on its own page, and name every table that does not
    compile, is wider than the A4 text block (Overfull \\hbox), or reaches past it on any side (its page's text
    outside the block: a float taller than the page, a sidewaystable taller than the text width)."""
    exe = shutil.which(engine)
    if exe is None:
        pytest.skip(f"{engine} is not installed (Debian: texlive-latex-extra, texlive-xetex, texlive-lang-chinese)")
    work.mkdir()
    for tex in tex_files:
        shutil.copy(tex, work / tex.name)
    cjk = "\\usepackage{ctex}\n" if engine == "xelatex" else ""
    inputs = "\n".join(f"\\input{{{tex.stem}}}\\clearpage" for tex in tex_files)
    (work / "doc.tex").write_text(BATCH.format(cjk=cjk, inputs=inputs), encoding="utf-8")
    result = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=work,
                            capture_output=True, text=True, timeout=600, env={**os.environ, "max_print_line": "100000"})
    log = result.stdout
    opened = [(m.start(), m.group(1)) for m in re.finditer(r"\(\./([\w.-]+?)\.tex", log)]

    def table_at(position: int) -> str:
        return next((name for start, name in reversed(opened) if start < position), "doc")
    if result.returncode != 0:
        first = log.index("\n!") if "\n!" in log else len(log)
        errors = [line for line in log.splitlines() if line.startswith("!")]
        return [f"{table_at(first)}.tex ({engine}): {errors[:3]}"]
    failures = [f"{table_at(m.start())}.tex: {float(m.group(1)):.0f}pt wider than an A4 portrait text block"
                for m in re.finditer(r"Overfull \\hbox \(([0-9.]+)pt too wide\)", log) if float(m.group(1)) > 1.0]
    if failures:  # reported even where pdftotext is missing (reading the pages then skips the test)
        return failures
    pages = _pages_beyond_text_block_pt(work / "doc.pdf", skip_page_number=False)
    if len(pages) != len(tex_files):
        return [*failures, f"{len(tex_files)} tables set on {len(pages)} pages ({engine}): a table is not one page"]
    failures += [f"{tex.name}: reaches {beyond:.0f}pt past the A4 text block"
                 for tex, beyond in zip(tex_files, pages, strict=True) if beyond > 1.0]
    return failures


def _check_all(folder: Path, tmp: Path) -> list[str]:
    """Every .tex table in ``folder``/tables compiles with its engine and fits the A4 text block across and down
    (one document per engine: a table per page)."""
    tex_files = sorted((folder / "tables").glob("*.tex"))
    assert tex_files, folder
    failures = []
    for engine in ("pdflatex", "xelatex"):
        batch = [tex for tex in tex_files if _engine(tex) == engine]
        if batch:
            failures += _check_batch(batch, engine, tmp / f"{folder.name}_{engine}")
    return failures


def test_every_english_table_compiles_and_fits_a4(replication, tmp_path):
    tex_files = sorted((replication / "tables").glob("*.tex"))
    assert len(tex_files) > 20
    pdflatex = [t for t in tex_files if _engine(t) == "pdflatex"]
    # English tables are pdflatex tables unless they print Chinese names (city lists)
    assert len(pdflatex) >= len(tex_files) - 2, [t.name for t in tex_files if t not in pdflatex]
    assert _check_all(replication, tmp_path) == []


def test_every_chinese_table_compiles_and_fits_a4(replication_zh, tmp_path):
    tex_files = sorted((replication_zh / "tables").glob("*.tex"))
    assert any(_engine(t) == "xelatex" for t in tex_files)
    assert _check_all(replication_zh, tmp_path) == []


def test_every_lowcarbon_table_compiles_and_fits_a4(lowcarbon_run, tmp_path):
    # the example study of another policy (low-carbon pilot cities): its tables fit A4 across and down too
    assert len(list((lowcarbon_run / "tables").glob("*.tex"))) > 5
    assert _check_all(lowcarbon_run, tmp_path) == []


def test_symbols_are_escaped_for_pdflatex(tmp_path):
    body = pd.DataFrame({"Variable": ["≤−4", "Within R²", "Adj. R²_within", "M̄", "ȳ − x̄′b"],
                         "(1)": ["−0.230**", "(−2.747)", "0.440", "0.55", "50% & $"]})
    table = Table("symbols", "p<0.10 | Δ^RM × 2", body, notes=["* p<0.10, ** p<0.05", "Callaway–Sant'Anna"])
    tex = to_latex(table)
    assert not needs_xelatex(table) and tex.startswith("% compiles with pdflatex")
    for raw in ("−", "≤", "²", "′", "M̄", "<", "|"):
        assert raw not in tex.replace("$<$", "").replace("$|$", ""), raw
    assert r"R$^2_{\mathrm{within}}$" in tex and r"p$<$0.10" in tex and r"$\le-$4" in tex
    assert "$$" not in tex
    assert "\\begin{threeparttable}" in tex and "\\begin{tablenotes}" in tex
    path = tmp_path / "tables"
    path.mkdir()
    (path / "symbols.tex").write_text(tex, encoding="utf-8")
    result = _compile(path / "symbols.tex", "pdflatex", tmp_path)
    assert result.returncode == 0, result.stdout[-1500:]


def test_chinese_table_says_it_needs_xelatex_and_ctex():
    table = Table("zh", "基准回归", pd.DataFrame({"变量": ["DID"], "(1)": ["0.008***"]}), notes=["括号内为t值"])
    tex = to_latex(table)
    assert needs_xelatex(table)
    assert tex.splitlines()[0].startswith("% Chinese text: compile with xelatex and \\usepackage{ctex}")


def test_an_eleven_column_table_fits_an_a4_portrait_page(tmp_path):
    # the propensity-score matching ATT table has 11 columns: before, its tabular ran ~200 pt past an A4 portrait
    # text block (2.5 cm margins); now it takes a smaller font, and a wider one a landscape page
    header = ["Method", "ATT", "SE (AI robust)", "SE (AI homoskedastic)", "SE (AI 2016)", "t", "p", "95% CI low",
              "95% CI high", "Treated matched", "Controls used"]
    row = ["Nearest 1:1", "-0.4361", "0.1908", "0.1937", "0.1847", "-2.2864", "0.0222", "-0.8100", "-0.0623",
           "65 / 65", "45 / 150"]
    for name, columns, environment in (("matching_att", header, "table"),
                                       ("twice_as_wide", header + header[1:], "sidewaystable")):
        cells = row + row[1:] if len(columns) > len(header) else row
        table = Table(name, "Propensity-score matching", pd.DataFrame([cells], columns=columns),
                      notes=["A note long enough to wrap: " + "ATT = mean over matched treated units. " * 6])
        tex = to_latex(table)
        assert f"\\begin{{{environment}}}" in tex
        path = tmp_path / name
        path.mkdir()
        (path / f"{name}.tex").write_text(tex, encoding="utf-8")
        result = _compile(path / f"{name}.tex", "pdflatex", tmp_path)
        assert result.returncode == 0, result.stdout[-1500:]
        assert _overfull_pt(result) <= 1.0, (name, _overfull_pt(result))


def _beyond_text_block_pt(result: subprocess.CompletedProcess, work: Path) -> float:
    """How far a one-table compile's text reaches past the A4 text block, in pt, on any side of any page."""
    assert result.returncode == 0, result.stdout[-1500:]
    return max(_pages_beyond_text_block_pt(work / "doc.pdf"), default=0.0)


def _coverage_like_table(wrap_columns: tuple[int, ...]) -> Table:
    """SYNTHETIC: 14 rows of the indicator-coverage shape: a dimension, an indicator name, numbers, a long reason."""
    reason = ("no: public coverage ends before 2020 (unemployment 2018, disposable income 2019, exports thin after "
              "2017, smoke/dust 2017, education expenditure 2018)")
    rows = [["adaptation & adjustment", f"Fiscal self-sufficiency {i} (budget revenue / expenditure)", "0.0318",
             f"fiscal_self_sufficiency_{i}", "yes", "2011–2020", "274–278", reason if i % 3 else "yes",
             "0.0318"] for i in range(14)]
    columns = ["Dimension", "Indicator", "Paper weight (Table 1)", "Panel variable", "In the data", "Years with data",
               "Cities per year (study window)", "In this run's index", "Share of paper weight"]
    return Table("coverage_like", "The paper's index indicators in these data", pd.DataFrame(rows, columns=columns),
                 notes=["12 of 17 indicators are in the data.", "Paper weight: the published weights, never used."],
                 wrap_columns=wrap_columns)


def test_text_columns_wrap_so_a_wide_table_fits_a4_at_a_readable_size(tmp_path):
    # before, the CBEC indicator-coverage table (a long reason column) was set at 7 pt and scaled down to the line
    # width of a landscape page, far below a readable size; its text columns now wrap as ragged-right paragraphs
    assert latex_fit(_coverage_like_table(())).scaled  # the same table without text columns: the old fallback
    table = _coverage_like_table((0, 1, 7))
    layout = latex_fit(table)
    assert not layout.scaled and layout.command in ("", "\\small", "\\footnotesize") and layout.paragraph_widths
    tex = to_latex(table)
    assert "resizebox" not in tex and "\\raggedright no: public coverage" in tex and "\\tabularnewline" in tex
    path = tmp_path / "tables"
    path.mkdir()
    (path / "coverage_like.tex").write_text(tex, encoding="utf-8")
    result = _compile(path / "coverage_like.tex", "pdflatex", tmp_path)
    assert _overfull_pt(result) <= 1.0
    assert _beyond_text_block_pt(result, tmp_path / "coverage_like_pdflatex") <= 1.0


def test_replication_coverage_table_is_readable_and_inside_the_page(replication, replication_zh, tmp_path):
    for folder, engine in ((replication, "pdflatex"), (replication_zh, "xelatex")):
        tex = folder / "tables" / "indicator_coverage.tex"
        text = tex.read_text(encoding="utf-8")
        assert "resizebox" not in text and "\\scriptsize" not in text, engine  # not shrunk below \\footnotesize
        assert "\\raggedright" in text, engine
        result = _compile(tex, engine, tmp_path)
        assert _overfull_pt(result) <= 1.0, engine
        assert _beyond_text_block_pt(result, tmp_path / f"indicator_coverage_{engine}") <= 1.0, engine


def test_text_columns_at_the_document_size_keep_their_narrow_column_gap(tmp_path):
    # a table whose text columns wrap at the document's own size: its widths assume the 2 pt gap, and before the
    # tabular kept LaTeX's 6 pt (no \\setlength without a size command) and ran 47 pt past the text block
    method = "multiplier bootstrap (rademacher, 999 draws, uniform bands)"
    rows = [["Callaway–Sant'Anna", "By cohort", "0.0504", "0.0309", "-0.0102", "0.1110", method]] * 4
    rows += [["Sun–Abraham", "Simple", "0.0376", "0.0313", "-0.0238", "0.0990",
              "CRV1 (pyfixest/fixest small-sample correction), clustered by city_name; IW weights treated as fixed"]]
    table = Table("overall_like", "Overall average treatment effect on the treated by estimator",
                  pd.DataFrame(rows, columns=["Estimator", "Comparison", "ATT", "SE", "95% CI low", "95% CI high",
                                              "SE method"]), wrap_columns=(0, 1, 6))
    layout = latex_fit(table)
    assert layout.command == "" and layout.paragraph_widths and not layout.landscape
    tex = to_latex(table)
    assert "\\setlength{\\tabcolsep}{2pt}" in tex
    path = tmp_path / "tables"
    path.mkdir()
    (path / "overall_like.tex").write_text(tex, encoding="utf-8")
    result = _compile(path / "overall_like.tex", "pdflatex", tmp_path)
    assert _overfull_pt(result) <= 1.0
    assert _beyond_text_block_pt(result, tmp_path / "overall_like_pdflatex") <= 1.0


def _tall_tables() -> list[Table]:
    """SYNTHETIC: the shapes that ran past the page's foot before: a subgroup table with long row labels and many
    long notes (CBEC table 7 was a sidewaystable 58 pt taller than the page is wide) and a long table of
    group-time effects (low-carbon ATT(g,t), 22 pt past the foot at \\small)."""
    labels = ["DID", "", "City FE", "Units (treated / never treated)", "Adj. R² (overall, FE incl.)",
              *(f"p, permutation {how} (studentised)" for how in ("within cohorts", "across all units")),
              *(f"Row label {i} long enough to matter" for i in range(14))]
    subgroups = pd.DataFrame([[label, *(["106 (64 / 42)"] * 6)] for label in labels],
                             columns=["Variable", "Large cities (>= 1 million)", "Small & medium cities",
                                      "Central cities", "Peripheral cities", "Resource-based", "Non-resource-based"])
    note = ("column {}: Standard errors clustered by City (106 clusters), preset 'reghdfe' (Stata/R: reghdfe resi "
            "_did agg invest tec market, absorb(city_id year) vce(cluster city_id)); p-values from t with 105 df.")
    notes = [note.format(c) for c in subgroups.columns[1:]] + ["Difference tests: " + "a long sentence. " * 30] * 2
    notes += [f"Split {i}: first group = units with a property." for i in range(6)]
    long = pd.DataFrame([[2010 + g, 2007 + t, 2009, t - 3, "-0.0589", "0.0426", "-0.1755", "0.0577", "41", "105"]
                         for g in range(4) for t in range(16)],
                        columns=["cohort (g)", "year (t)", "base period", "t - g", "ATT", "SE", "95% CI low",
                                 "95% CI high", "Treated units", "Control units"])
    return [Table("subgroups_like", "Heterogeneity: subgroup estimates", subgroups, notes=notes),
            Table("att_gt_like", "Group-time average treatment effects", long,
                  notes=["Callaway-Sant'Anna, never-treated comparison.", "Bootstrap SE."] * 2)]


@pytest.mark.parametrize("index", [0, 1])
def test_a_table_taller_than_the_page_is_set_to_fit_it(index, tmp_path):
    from pilotdid.report.export import _latex_fit_across, latex_height_pt, latex_page_height_pt

    table = _tall_tables()[index]
    across = _latex_fit_across(table)  # the layout chosen for the width alone: taller than its page
    assert latex_height_pt(table, across) > latex_page_height_pt(across)
    layout = latex_fit(table)
    assert not layout.scaled and layout.command in ("", "\\small", "\\footnotesize")
    assert latex_height_pt(table, layout) <= latex_page_height_pt(layout)
    path = tmp_path / "tables"
    path.mkdir()
    (path / f"{table.name}.tex").write_text(to_latex(table), encoding="utf-8")
    result = _compile(path / f"{table.name}.tex", "pdflatex", tmp_path)
    assert _overfull_pt(result) <= 1.0
    assert _beyond_text_block_pt(result, tmp_path / f"{table.name}_pdflatex") <= 1.0


def test_a_hyphenated_word_may_break_after_its_hyphens_as_latex_breaks_it():
    from pilotdid.report.export import _break_tokens

    assert _break_tokens("Non-resource-based cities", hyphens=True) == ["Non-", "resource-", "based", "cities"]
    assert _break_tokens("-0.0589 x-1 t - g 城市", hyphens=True) == ["-0.0589", "x-1", "t", "-", "g", "城", "市"]
    assert _break_tokens("Non-resource-based") == ["Non-resource-based"]  # word breaks only, unless asked
