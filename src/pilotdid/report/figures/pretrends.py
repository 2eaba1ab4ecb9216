"""Event study with a hypothesised linear pre-trend and the expected estimates after passing the pre-test
(the plot of Roth's ``pretrends`` package)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from pilotdid.i18n import messages
from pilotdid.report.figures.style import PALETTE, label_language, new_figure


def pretrends_figure(table, *, slope: float, power: float, lang: str = "en", title: str | None = None):
    """``table``: t, betahat, delta, se, mean_after_pretest (from :func:`pilotdid.inference.pretrends.pretrends`)."""
    lang = label_language(lang)
    lab = messages("figure.pretrends", lang)
    fig, ax = new_figure(6.4, 3.9, lang=lang)
    t = table["t"].to_numpy(float)
    b = table["betahat"].to_numpy(float)
    se = table["se"].to_numpy(float)
    with plt.rc_context(fig._pilotdid_rc):
        ax.axhline(0, color="#999999", linewidth=0.8)
        ax.axvline(-0.5, color="#999999", linestyle="--", linewidth=0.9)
        ax.errorbar(t, b, yerr=1.96 * se, fmt="o", color=PALETTE["twfe"], ecolor=PALETTE["twfe"], capsize=2,
                    markersize=4, label=lab["estimate"])
        ax.plot(t, table["delta"], color=PALETTE["cs"], linewidth=1.2,
                label=lab["trend"].format(slope=slope, power=power))
        ax.plot(t, table["mean_after_pretest"], "^--", color=PALETTE["sa"], markersize=4, linewidth=1.0,
                label=lab["after"])
        ax.set_xticks(np.sort(t))
        ax.set_xlabel(lab["x"])
        ax.set_ylabel(lab["y"])
        ax.set_title(title or lab["title"])
        ax.legend(fontsize=8, loc="best")  # the corner without data
    return fig
