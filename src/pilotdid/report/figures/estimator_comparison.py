"""Event-time estimates of several estimators side by side (the layout of Stata's ``event_plot``).

Each estimator's points are offset horizontally around the integer event time so that CIs do not
overlap; the normalised reference period is drawn at zero; a dashed line marks adoption.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pilotdid.i18n import messages
from pilotdid.report.figures.style import PALETTE, label_language, new_figure

ORDER = ("twfe", "cs", "sa", "bjs", "dcdh", "etwfe", "stacked")
MARKERS = {"twfe": "o", "cs": "s", "sa": "^", "bjs": "D", "dcdh": "v", "etwfe": "P", "stacked": "X"}


def estimator_comparison_figure(rows: pd.DataFrame, *, lang: str = "en", window: tuple[int, int] | None = None,
                                title: str | None = None, units: dict[int, int] | None = None):
    """Figure from event-study rows (estimator, rel_time, coef, ci_low, ci_high).

    ``units`` ({event time: treated units}, e.g. Callaway-Sant'Anna's) is printed under each tick as
    ``n=…``, so an event time resting on a handful of units shows it."""
    lang = label_language(lang)
    lab = messages("figure.estimator_comparison", lang)
    fig, ax = new_figure(7.2, 4.0, lang=lang)
    frame = rows.copy()
    if window is not None:
        frame = frame[(frame["rel_time"] >= window[0]) & (frame["rel_time"] <= window[1])]
    present = [e for e in ORDER if e in set(frame["estimator"])] + sorted(set(frame["estimator"]) - set(ORDER))
    width = 0.6
    offsets = np.linspace(-width / 2, width / 2, len(present)) if len(present) > 1 else [0.0]
    with plt.rc_context(fig._pilotdid_rc):
        ax.axhline(0, color="#999999", linewidth=0.8)
        ax.axvline(-0.5, color="#999999", linestyle="--", linewidth=0.9)
        for est, off in zip(present, offsets):
            f = frame[frame["estimator"] == est].sort_values("rel_time")
            x = f["rel_time"].to_numpy(dtype=float) + off
            y = f["coef"].to_numpy(dtype=float)
            lo = f["ci_low"].to_numpy(dtype=float)
            hi = f["ci_high"].to_numpy(dtype=float)
            colour = PALETTE.get(est, "#555555")
            has_ci = np.isfinite(lo) & np.isfinite(hi)
            ax.errorbar(x[has_ci], y[has_ci], yerr=[y[has_ci] - lo[has_ci], hi[has_ci] - y[has_ci]],
                        fmt=MARKERS.get(est, "o"), color=colour, ecolor=colour, elinewidth=1.0, capsize=2,
                        markersize=4, label=lab.get(est, est))
            if (~has_ci).any():  # reference period: fixed at zero, no sampling variance
                ax.plot(x[~has_ci], y[~has_ci], MARKERS.get(est, "o"), markerfacecolor="white",
                        markeredgecolor=colour, markersize=4)
        ticks = np.sort(frame["rel_time"].unique())
        ax.set_xticks(ticks)
        if units:
            ax.set_xticklabels([f"{int(t)}\nn={units[int(t)]}" if int(t) in units else f"{int(t)}" for t in ticks])
        note = "（n：CS 估计所依据的处理单位数）" if lang == "zh" else " (n: treated units behind the CS estimate)"
        ax.set_xlabel(lab["x"] + (note if units else ""))
        ax.set_ylabel(lab["y"])
        ax.set_title(title or lab["title"])
        ax.legend(loc="best", fontsize=8)  # the corner without data: effects can be negative
    return fig
