"""Propensity-score densities of treated and control rows, before and after matching."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import gaussian_kde

from pilotdid.i18n import messages
from pilotdid.report.figures.style import PALETTE, label_language, new_figure



def _kde(ax, values: np.ndarray, weights: np.ndarray | None, colour: str, label: str, grid: np.ndarray) -> None:
    ok = np.isfinite(values)
    values = values[ok]
    weights = None if weights is None else weights[ok]
    if values.size < 2 or np.ptp(values) == 0:
        return
    ax.plot(grid, gaussian_kde(values, weights=weights)(grid), color=colour, linewidth=1.4, label=label)


def pscore_figure(match, *, lang: str = "en", title: str | None = None):
    """Two panels from a :class:`pilotdid.design.psm.MatchResult`: all rows, then the matched sample."""
    lang = label_language(lang)
    lab = messages("figure.pscore", lang)
    fig, ax = new_figure(8.4, 3.4, lang=lang)
    with plt.rc_context(fig._pilotdid_rc):
        gs = fig.add_gridspec(1, 2)
        ax.set_subplotspec(gs[0, 0])
        ax_after = fig.add_subplot(gs[0, 1], sharex=ax)
        p = match.pscore.to_numpy(float)
        treated = match.treated.to_numpy(bool)
        w = match.weight.to_numpy(float)
        fin = p[np.isfinite(p)]
        grid = np.linspace(max(0.0, fin.min() - 0.05), min(1.0, fin.max() + 0.05), 300)
        _kde(ax, p[treated], None, PALETTE["treated"], lab["treated"], grid)
        _kde(ax, p[~treated], None, PALETTE["control"], lab["control"], grid)
        used_t = treated & (w > 0)
        used_c = ~treated & (w > 0)
        _kde(ax_after, p[used_t], None, PALETTE["treated"], lab["treated"], grid)
        _kde(ax_after, p[used_c], w[used_c], PALETTE["control"], lab["control"], grid)
        ax.set_title(lab["before"])
        ax_after.set_title(lab["after"].format(method=messages("figure.pscore.method", lang).get(match.method, match.method)))
        for a in (ax, ax_after):
            a.set_xlabel(lab["x"])
            a.set_ylabel(lab["y"])
            a.legend(loc="upper right", fontsize=8)
        if title:
            fig.suptitle(title)
    return fig
