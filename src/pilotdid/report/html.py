"""report.html: one self-contained page (figures inlined, no network) with a table of contents."""

from __future__ import annotations

import base64
import html
from collections import Counter
from pathlib import Path

from pilotdid.i18n import messages, msg, unit_words
from pilotdid.report.export import TABLE_CSS, to_html
from pilotdid.report.labels import resolve_label
from pilotdid.report.table import Table
from pilotdid.report.localise import translate

PAGE_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans CJK SC',sans-serif;margin:0;color:#222;line-height:1.45}
main{max-width:1050px;margin:0 auto;padding:1.5em 2em 4em}
nav.toc{background:#f6f6f4;border:1px solid #e2e2dc;padding:.6em 1.2em;margin:1em 0}
nav.toc ol{margin:.3em 0;padding-left:1.4em} nav.toc a{text-decoration:none;color:#1a5276}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
.caveat{background:#fff8e1;border-left:4px solid #f0b400;padding:.5em 1em;margin:1em 0}
.note{color:#555;font-size:.92em}
figure{margin:1.2em 0} figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9em;color:#555}
.scroll{overflow-x:auto}
#data .pilotdid-table td:last-child{text-align:left;font-size:.9em;min-width:14em}
#data .pilotdid-table th{white-space:normal}
#data .pilotdid-table td:first-child{min-width:5em}
footer{margin-top:3em;font-size:.8em;color:#666;border-top:1px solid #ddd;padding-top:1em}
code{background:#f3f3f3;padding:0 .2em}
.verdict{border:2px solid #555;border-radius:4px;padding:.4em 1.2em;margin:1em 0;background:#fafafa}
.verdict h2{margin-top:.3em;border:none} .verdict li{margin:.25em 0}
.verdict-confirmed{border-color:#1e7d32} .verdict-sign_only{border-color:#c77c00} .verdict-not_confirmed{border-color:#b71c1c}
"""

def section_title(name: str, lang: str = "en") -> str:
    """The report heading of an analysis, from the message catalogue (``report.section.NAME``)."""
    return messages("report.section", lang).get(name, name.replace("_", " ").capitalize())


#: A self-check a browser runs on load: it records how many figures decoded and how many are broken on
#: <body data-figures-loaded=… data-figures-broken=…>, so a headless browser (and the tests) can verify
#: that every inlined figure renders. No network, no external script.
SELF_CHECK = (
    "<script>window.addEventListener('load',function(){var ok=0,bad=0;"
    "document.querySelectorAll('figure img').forEach(function(i){if(i.complete&&i.naturalWidth>0){ok++}else{bad++}});"
    "document.body.dataset.figuresLoaded=ok;document.body.dataset.figuresBroken=bad;"
    # tables wider than their box (a clipped column needs a sideways scroll): their ids, for the tests
    "var wide=[];document.querySelectorAll('.scroll').forEach(function(d){if(d.offsetParent&&d.scrollWidth>d.clientWidth+1)"
    "{var t=d.querySelector('table');wide.push(t&&t.id?t.id:'?')}});document.body.dataset.tablesOverflowing=wide.join(' ');"
    "});</script>"
)

#: Sections a reader wants first, right after the data: the paper-vs-ours overview.
LEADING_SECTIONS = ("paper_comparison",)


def section_notes(out, skip: Table | None = None) -> tuple[list[str], list[Table]]:
    """What a report section prints at its top, and its tables as the report shows them: a sentence is said once per
    section. The analysis's notes, the notes all its tables carry (``shared_table_notes``, e.g. a weighted study's
    weights sentence) and any note that more than one of its tables carries go at the top; each table shows the
    notes that are its own. The table files keep every note (journals take tables one by one). ``skip``: a table
    shown elsewhere (the indicator coverage table, in the data section)."""
    tables = [t for t in out.tables.values() if t is not skip]
    carried = Counter(n for t in tables for n in dict.fromkeys(t.notes))
    top = list(dict.fromkeys([*out.notes, *out.shared_table_notes, *(n for n, k in carried.items() if k > 1)]))
    return top, [t.without_notes(top) for t in tables]


def ordered_outputs(run) -> list[tuple[str, object]]:
    """The analyses in report order: the overview first, then the study file's order."""
    items = list(run.outputs.items())
    return [kv for kv in items if kv[0] in LEADING_SECTIONS] + [kv for kv in items if kv[0] not in LEADING_SECTIONS]


def figure_title(stem: str, figure, lang: str = "en") -> str:
    """A figure's caption title: the study's ``[study] outputs`` title, else the catalogue's ``report.figure`` entry
    of the analysis's output name (or of the stem), else the figure's own title, else the stem."""
    caption = getattr(figure, "_pilotdid_caption", None)
    if caption:
        return caption
    known = messages("report.figure", lang)
    for key in (getattr(figure, "_pilotdid_output", None), stem):
        if key in known:  # (an analysis that knows the study's unit noun sets the caption itself: see index_weights)
            return known[key].format(**unit_words(lang=lang))
    titles = [figure._suptitle.get_text()] if getattr(figure, "_suptitle", None) is not None else []
    titles += [ax.get_title() for ax in getattr(figure, "axes", [])]
    title = next((" ".join(t.split()) for t in titles if t and t.strip()), "")
    return title or stem.replace("_", " ")


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def data_sentence(summary: dict, lang: str = "en") -> str:
    periods = summary.get("periods") or ["?"]
    cohorts = ", ".join(f"{g}: {n}" for g, n in summary.get("cohorts", {}).items())
    return msg(
        "report.data_sentence", lang, nobs=summary.get("nobs"), units=summary.get("units"), first=periods[0],
        last=periods[-1], treated=summary.get("treated_units"), cohorts=cohorts, never=summary.get("never_treated_units"),
    )


def treatment_table(name: str, frame, lang: str, study_labels=None) -> Table:
    """A treatment-assignment table (treated by batch, …) with human column names, as a report Table."""
    body = frame.copy()
    body.columns = [resolve_label(c, lang, study_labels) for c in frame.columns]
    return Table(name=f"treatment_{name}", title=translate(resolve_label(name, lang), lang), body=body, float_digits=0)


def verdict_html(verdict: dict | None) -> str:
    """The verdict box that opens the report (empty without a published.toml)."""
    if not verdict:
        return ""
    esc = html.escape
    items = "".join(f"<li>{esc(s)}</li>" for s in verdict["sentences"])
    return (f'<section id="verdict" class="verdict verdict-{esc(verdict["status"])}"><h2>{esc(verdict["heading"])}</h2>'
            f'<ul>{items}</ul></section>')


def render_report(run, figures_dir: Path, *, verdict: dict | None = None) -> str:
    esc = html.escape
    spec = run.spec
    summary = run.data_summary
    lang = run.context.lang
    toc, body = [], []
    toc.append(f'<li><a href="#data">{esc(msg("report.data_title", lang))}</a></li>')
    body.append(f'<section id="data"><h2>{esc(msg("report.data_title", lang))}</h2>')
    body.append(f"<p>{esc(data_sentence(summary, lang))}</p>")
    caveats = spec.raw.get("study", {}).get("caveats", [])
    if caveats:
        body.append(f'<div class="caveat"><strong>{esc(msg("report.caveats_title", lang))}</strong><ul>')
        body.extend(f"<li>{esc(translate(c, lang))}</li>" for c in caveats)
        body.append("</ul></div>")
    notes = list(dict.fromkeys(run.context.notes))
    if notes:
        body.append(f'<div class="caveat"><strong>{esc(msg("report.notes_title", lang))}</strong><ul>')
        body.extend(f"<li>{esc(n)}</li>" for n in notes)
        body.append("</ul></div>")
    coverage = run.context.extras.get("indicator_coverage")
    if coverage is not None:  # the outcome index's indicators against the published list (e.g. the paper's Table 1)
        body.append(f'<div class="scroll">{to_html(coverage, standalone=False)}</div>')
    for name, frame in run.context.extras.get("treatment_tables", {}).items():
        if len(frame):
            table = treatment_table(name, frame, lang, run.context.extras.get("labels"))
            rendered = to_html(table, standalone=False)
            if len(frame) > 12:  # long lists stay one click away instead of pushing the results down
                body.append(f"<details><summary><strong>{esc(table.title)}</strong> ({len(frame)})</summary>"
                            f"<div class='scroll'>{rendered}</div></details>")
            else:
                body.append(f"<div class='scroll'>{rendered}</div>")
    body.append("</section>")

    figure_number = 0
    for name, out in ordered_outputs(run):
        title = section_title(name, lang)
        toc.append(f'<li><a href="#{esc(name)}">{esc(title)}</a></li>')
        body.append(f'<section id="{esc(name)}"><h2>{esc(title)}</h2>')
        top, tables = section_notes(out, skip=coverage)  # the coverage table is in the data section
        for note in top:
            body.append(f'<p class="note">{esc(note)}</p>')
        for table in tables:
            body.append(f'<div class="scroll">{to_html(table, standalone=False)}</div>')
        for stem, figure in out.figures.items():
            png = figures_dir / f"{stem}.png"
            if png.exists():
                figure_number += 1
                caption = msg("common.figure_caption", lang, n=figure_number, title=figure_title(stem, figure, lang))
                source = getattr(figure, "_pilotdid_source", None)
                source_html = f"<br><span class='note'>{esc(msg('common.source_note', lang, source=source))}</span>" if source else ""
                body.append(f'<figure id="fig-{esc(stem)}">{_img(png)}<figcaption>{esc(caption)}{source_html}'
                            f"<br><span class='note'>figures/{esc(stem)}.png</span></figcaption></figure>")
        body.append("</section>")

    cross_title = section_title("cross_check", lang)
    toc.append(f'<li><a href="#cross_check">{esc(cross_title)}</a></li>')
    body.append(f'<section id="cross_check"><h2>{esc(cross_title)}</h2>'
                f'<p>{esc(msg("report.cross_check.intro", lang, panel="analysis_panel.csv"))}</p></section>')

    footer = "<footer>" + msg(
        "report.footer", lang, name=esc(spec.name), path=esc(str(spec.path)), seed=run.context.seed,
        seconds=run.finished - run.started,
    ) + "</footer>"
    return (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(translate(spec.title, lang))}</title><style>{PAGE_CSS}{TABLE_CSS}</style></head><body><main>"
        f"<h1>{esc(translate(spec.title, lang))}</h1><p class='note'>{esc(msg('report.subtitle', lang))}</p>"
        + verdict_html(verdict)
        + f'<nav class="toc"><strong>{esc(msg("report.contents", lang))}</strong><ol>{"".join(toc)}</ol></nav>'
        + "\n".join(body)
        + footer
        + "</main>"
        + SELF_CHECK
        + "</body></html>\n"
    )
