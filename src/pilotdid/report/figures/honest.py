"""HonestDiD sensitivity plot: the original CI and the robust CIs over the grid of M (or Mbar)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from pilotdid.i18n import messages, msg
from pilotdid.report.figures.style import PALETTE, label_language, new_figure



def honest_figure(result, *, lang: str = "en", title: str | None = None):
    """Plot of a :class:`~pilotdid.inference.honest.HonestResult`."""
    lang = label_language(lang)
    lab = messages("figure.honest", lang)
    fig, ax = new_figure(6.0, 3.8, lang=lang)
    tab = result.table
    m = tab["M"].to_numpy(dtype=float)
    step = np.min(np.diff(m)) if len(m) > 1 else 1.0
    with plt.rc_context(fig._pilotdid_rc):
        est, lo, hi = result.original
        x0 = m.min() - step
        ax.errorbar([x0], [0.5 * (lo + hi)], yerr=[[0.5 * (hi - lo)], [0.5 * (hi - lo)]], fmt="none",
                    ecolor=PALETTE["twfe"], elinewidth=2.0, capsize=4, label=lab["orig"])
        mid = 0.5 * (tab["lb"] + tab["ub"])
        ax.errorbar(m, mid, yerr=[mid - tab["lb"], tab["ub"] - mid], fmt="none", ecolor=PALETTE["cs"],
                    elinewidth=2.0, capsize=4, label=lab["robust"].format(method=msg(f"figure.honest.method.{result.restriction}", lang)))
        ax.axhline(0, color="#999999", linewidth=0.8)
        ax.set_xticks(np.r_[x0, m])
        ax.set_xticklabels([lab["orig"]] + [f"{v:g}" for v in m])
        ax.set_xlabel(lab[result.restriction])
        ax.set_ylabel(lab["y"])
        ax.set_title(title or lab["title"])
        ax.legend(fontsize=8)
    return fig
