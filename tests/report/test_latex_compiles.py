"""Every .tex table the replication writes compiles: pdflatex for English tables, xelatex + ctex for Chinese ones.

Skipped, saying why, when TeX is not installed (.ci/run installs Debian's texlive packages when it can).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from pilotdid.report.export import needs_xelatex, to_latex
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


def _check_all(folder: Path, tmp: Path) -> list[str]:
    failures = []
    for tex in sorted((folder / "tables").glob("*.tex")):
        result = _compile(tex, _engine(tex), tmp)
        if result.returncode != 0:
            errors = [line for line in result.stdout.splitlines() if line.startswith("!")]
            failures.append(f"{tex.name} ({_engine(tex)}): {errors[:3]}")
        elif _engine(tex) == "pdflatex" and _overfull_pt(result) > 1.0:
            failures.append(f"{tex.name}: {_overfull_pt(result):.0f}pt wider than an A4 portrait text block")
    return failures


def test_every_english_table_compiles_with_pdflatex(replication, tmp_path):
    tex_files = sorted((replication / "tables").glob("*.tex"))
    assert len(tex_files) > 20
    pdflatex = [t for t in tex_files if _engine(t) == "pdflatex"]
    # English tables are pdflatex tables unless they print Chinese names (city lists)
    assert len(pdflatex) >= len(tex_files) - 2, [t.name for t in tex_files if t not in pdflatex]
    assert _check_all(replication, tmp_path) == []


def test_every_chinese_table_compiles_with_xelatex(replication_zh, tmp_path):
    tex_files = sorted((replication_zh / "tables").glob("*.tex"))
    assert any(_engine(t) == "xelatex" for t in tex_files)
    assert _check_all(replication_zh, tmp_path) == []


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
