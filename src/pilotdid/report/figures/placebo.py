"""Placebo figure (paper Figure 2): kernel densities of placebo coefficients and t statistics.

Left panel: coefficients; right panel: t statistics. The actual estimate is a vertical line and the
plus-one randomisation p-value is in the legend. Densities are scipy ``gaussian_kde`` (Scott's
bandwidth); the draws are also shown as a rug.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator
from scipy.stats import gaussian_kde

from pilotdid.i18n import messages
from pilotdid.report.figures.style import PALETTE, label_language, new_figure



def _density(ax, values: np.ndarray, actual: float, p: float, lab: dict, xlabel: str, draws_label: str,
             actual_label: str) -> None:
    values = values[np.isfinite(values)]
    lo = min(values.min(), actual)
    hi = max(values.max(), actual)
    pad = 0.08 * (hi - lo if hi > lo else 1.0)
    grid = np.linspace(lo - pad, hi + pad, 400)
    if values.size > 1 and np.ptp(values) > 0:
        ax.plot(grid, gaussian_kde(values)(grid), color=PALETTE["control"], linewidth=1.4, label=draws_label)
    ax.plot(values, np.zeros_like(values), "|", color=PALETTE["control"], alpha=0.25, markersize=6)
    ax.axvline(actual, color=PALETTE["treated"], linestyle="--", linewidth=1.4,
               label=lab["actual_line"].format(label=actual_label, value=actual, p=p))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6))  # small coefficients: keep tick labels apart
    ax.set_xlabel(xlabel)
    ax.set_ylabel(lab["density"])
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=7.5)


def placebo_figure(result, *, lang: str = "en", title: str | None = None):
    """Two-panel figure from a :class:`pilotdid.inference.placebo.PlaceboResult`."""
    lang = label_language(lang)
    lab = messages("figure.placebo", lang)
    fig, ax = new_figure(9.0, 4.0, lang=lang)
    with plt.rc_context(fig._pilotdid_rc):
        grid = fig.add_gridspec(1, 2)
        ax.set_subplotspec(grid[0, 0])
        ax_t = fig.add_subplot(grid[0, 1])
        pv = result.p_values
        kinds = messages("figure.placebo.kind", lang)
        draws_label = lab["draws"].format(n=result.draws, kind=kinds.get(result.kind, result.kind))
        _density(ax, np.asarray(result.coefs), result.actual_coef, pv["p_two_sided"], lab, lab["coef"], draws_label,
                 lab["actual"])
        _density(ax_t, np.asarray(result.ts), result.actual_t, pv["p_two_sided_t"], lab, lab["t"], draws_label,
                 lab["actual_t"])
        if title:
            fig.suptitle(title)
    return fig
