"""Forest plot of subgroup DID coefficients with confidence intervals (paper Table 7 as a figure).

Our estimates are filled markers with their 95% CI; the paper's published coefficients, where
given, are hollow markers on the same row (the paper prints no standard errors, so no interval is
drawn for them). Rows are grouped by split, top to bottom in the order given.
"""

from __future__ import annotations

import re
import textwrap

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from pilotdid.i18n import messages
from pilotdid.report.figures.style import PALETTE, label_language, new_figure



def forest_plot(
    rows: Sequence[Mapping[str, Any]], *, published: Mapping[str, float] | None = None, title: str | None = None,
    lang: str = "en", difference_notes: Mapping[str, str] | None = None,
) -> Figure:
    """Forest plot.

    rows:
        One mapping per subgroup with ``column`` (key matched to ``published``), ``label`` (row text),
        ``group`` (split title; rows with the same group are drawn together), ``coef``, ``ci_low``,
        ``ci_high`` and optionally ``nobs``.
    published:
        ``column -> published coefficient``; drawn as hollow markers.
    difference_notes:
        ``group -> text`` (e.g. the difference-test p-values) printed under each group's title.
    """
    lang = label_language(lang)
    text = messages("figure.forest", lang)
    published = dict(published or {})
    # a long difference note would run past the figure's edge: wrap it (CJK characters are about twice as wide)
    difference_notes = {g: "\n".join(re.split(r"(?<=[；;])\s*", n)) for g, n in (difference_notes or {}).items() if n}
    groups: list[str] = []
    for r in rows:
        if r.get("group", "") not in groups:
            groups.append(r.get("group", ""))
    # y positions: a header line per group, then its rows
    positions, labels, header_y = [], [], {}
    y = 0.0
    for g in groups:
        header_y[g] = y
        y -= (1.1 + 0.45 * difference_notes[g].count("\n") + 0.4) if difference_notes.get(g) else 1.0
        for r in rows:
            if r.get("group", "") == g:
                positions.append((r, y))
                n = r.get("nobs")
                # long group titles would squeeze the plotting area: wrap them
                labels.append(textwrap.fill(f"{r['label']}", 34) + ("  (" + text["nobs"].format(n=int(n)) + ")" if n is not None else ""))
                y -= 1.0
        y -= 0.4
    height = max(2.5, 0.34 * (len(positions) + 1.9 * len(groups)) + 1.3)
    fig, ax = new_figure(7.6, height, lang=lang)
    ours_colour, paper_colour = PALETTE["ours"], PALETTE["paper"]
    for r, yy in positions:
        coef, lo, hi = (float(r[k]) if r.get(k) is not None else np.nan for k in ("coef", "ci_low", "ci_high"))
        ax.plot([lo, hi], [yy, yy], color=ours_colour, lw=1.4, solid_capstyle="butt")
        ax.plot([coef], [yy], "o", color=ours_colour, ms=5.5)
        if r.get("column") in published and published[r["column"]] is not None:
            ax.plot([published[r["column"]]], [yy - 0.18], "o", mfc="none", mec=paper_colour, mew=1.3, ms=6.5)
    ax.axvline(0.0, color="#555555", lw=0.8, ls="--")
    ax.set_yticks([yy for _, yy in positions], labels)
    for g, yy in header_y.items():
        note = difference_notes.get(g)
        header = ax.annotate(g, xy=(0.01, yy), xycoords=("axes fraction", "data"), fontsize=8.5, fontweight="bold",
                             ha="left", va="center", bbox={"fc": "white", "ec": "none", "pad": 0.6})
        header.set_in_layout(False)  # annotations may overhang the axes; they must not shrink it
        if note:
            text_note = ax.annotate(note, xy=(0.01, yy - 0.55 - 0.22 * note.count("\n")), xycoords=("axes fraction", "data"), fontsize=7.5,
                                    color="#444444", ha="left", va="center", bbox={"fc": "white", "ec": "none", "pad": 0.6})
            text_note.set_in_layout(False)
    ax.set_ylim(y + 0.6, 0.6)
    ax.set_xlabel(text["x"])
    ax.tick_params(axis="y", length=0)
    handles = [Line2D([0], [0], color=ours_colour, marker="o", lw=1.4, label=text["ours"])]
    if published:
        handles.append(Line2D([0], [0], color=paper_colour, marker="o", mfc="none", lw=0, label=text["paper"]))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8)
    if title:
        ax.set_title(title)
    return fig
