"""report.docx: the report's content for journals that want Word (python-docx)."""

from __future__ import annotations

from pathlib import Path

from pilotdid.report.export import add_to_docx, journal_document
from pilotdid.i18n import msg
from pilotdid.report.html import data_sentence, figure_title, ordered_outputs, section_notes, section_title


def render_docx(run, figures_dir: Path, path: Path, *, verdict: dict | None = None) -> None:
    from docx.shared import Cm

    lang = run.context.lang
    doc = journal_document()
    doc.add_heading(run.spec.title, level=0)
    doc.add_paragraph(msg("report.docx_intro", lang, name=run.spec.name, seed=run.context.seed))
    if verdict:
        doc.add_heading(verdict["heading"], level=1)
        for sentence in verdict["sentences"]:
            doc.add_paragraph(sentence, style="List Bullet")

    doc.add_heading(msg("report.data_title", lang), level=1)
    doc.add_paragraph(data_sentence(run.data_summary, lang))
    for caveat in run.spec.raw.get("study", {}).get("caveats", []):
        doc.add_paragraph(caveat, style="List Bullet")
    for note in dict.fromkeys(run.context.notes):
        doc.add_paragraph(note, style="List Bullet")

    figure_number = 0
    for name, out in ordered_outputs(run):
        doc.add_heading(section_title(name, lang), level=1)
        top, tables = section_notes(out)
        for note in top:
            doc.add_paragraph(note)
        for table in tables:
            add_to_docx(doc, table)
        for stem, figure in out.figures.items():
            png = figures_dir / f"{stem}.png"
            if png.exists():
                figure_number += 1
                doc.add_picture(str(png), width=Cm(15))
                cap = doc.add_paragraph(msg("common.figure_caption", lang, n=figure_number,
                                            title=figure_title(stem, figure, lang)))
                cap.runs[0].italic = True
                source = getattr(figure, "_pilotdid_source", None)
                if source:
                    doc.add_paragraph(msg("common.source_note", lang, source=source))
    doc.core_properties.author = "pilotdid"
    # fixed metadata so reruns differ only where the numbers do
    from datetime import datetime

    doc.core_properties.created = datetime(2000, 1, 1)
    doc.core_properties.modified = datetime(2000, 1, 1)
    doc.save(path)
