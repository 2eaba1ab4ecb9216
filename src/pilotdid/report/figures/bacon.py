"""Goodman-Bacon decomposition scatter: each 2x2 DID estimate against its weight, by comparison type."""

from __future__ import annotations

import matplotlib.pyplot as plt

from pilotdid.i18n import messages
from pilotdid.report.figures.style import label_language, new_figure

COLOURS = {
    "treated vs never treated": "#2c3e50",
    "earlier vs later treated": "#2980b9",
    "later vs earlier treated": "#c0392b",
    "later vs always treated": "#e67e22",
}
MARKERS = {"treated vs never treated": "o", "earlier vs later treated": "s", "later vs earlier treated": "^",
           "later vs always treated": "v"}


def bacon_figure(result, *, lang: str = "en", title: str | None = None):
    """Scatter of a :class:`~pilotdid.estimation.staggered.bacon.BaconResult`."""
    language = label_language(lang)
    lab = messages("figure.bacon", language)
    type_names = messages("figure.bacon.type", language)
    fig, ax = new_figure(6.0, 4.0, lang=lang)
    comp = result.comparisons
    with plt.rc_context(fig._pilotdid_rc):
        for kind, grp in comp.groupby("type", sort=False):
            name = type_names.get(kind, kind)
            ax.scatter(grp["weight"], grp["estimate"], s=28, marker=MARKERS.get(kind, "o"),
                       color=COLOURS.get(kind, "#555555"), label=name, alpha=0.85)
        ax.axhline(result.twfe, color="#7f8c8d", linestyle="--", linewidth=1.0, label=lab["twfe"].format(v=result.twfe))
        ax.axhline(0, color="#cccccc", linewidth=0.8)
        ax.set_xlabel(lab["x"])
        ax.set_ylabel(lab["y"])
        ax.set_title(title or lab["title"])
        ax.legend(fontsize=8)
    return fig
