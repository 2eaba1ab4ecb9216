"""Event-study figure (paper Figure 1): coefficients with 95% CIs by relative period.

Vertical layout: relative time on the x-axis ordered numerically, the omitted base period drawn at
zero (hollow marker), a dashed vertical line at adoption (between −1 and 0), binned endpoints
labelled "≤−4" and "≥+4".
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from pilotdid.i18n import messages
from pilotdid.report.figures.style import PALETTE, label_language, new_figure



def event_study_figure(coefs: pd.DataFrame, *, lang: str = "en", title: str | None = None,
                       pretrend_p: float | None = None, colour: str | None = None):
    """Figure from an event-study coefficient frame (rel_time, coef, ci_low, ci_high, is_base, binned)."""
    lang = label_language(lang)
    lab = messages("figure.event_study", lang)
    fig, ax = new_figure(6.4, 3.8, lang=lang)
    with plt.rc_context(fig._pilotdid_rc):
        frame = coefs.sort_values("rel_time")
        est = frame.loc[~frame["is_base"].astype(bool)]
        base = frame.loc[frame["is_base"].astype(bool)]
        colour = colour or PALETTE["twfe"]
        ax.axhline(0, color="#999999", linewidth=0.8)
        ax.axvline(-0.5, color="#999999", linestyle="--", linewidth=0.9, label=lab["adopt"])
        ax.errorbar(est["rel_time"], est["coef"], yerr=[est["coef"] - est["ci_low"], est["ci_high"] - est["coef"]],
                    fmt="o", color=colour, ecolor=colour, elinewidth=1.2, capsize=3, markersize=5,
                    label=lab["y"])
        ax.plot(est["rel_time"], est["coef"], color=colour, linewidth=0.8, alpha=0.6)
        if not base.empty:
            ax.plot(base["rel_time"], [0.0] * len(base), "o", markerfacecolor="white", markeredgecolor=colour,
                    markersize=6, label=lab["base"])
        ticks = frame["rel_time"].astype(int).tolist()
        lo, hi = min(ticks), max(ticks)
        binned = set(frame.loc[frame.get("binned", pd.Series(False, index=frame.index)).astype(bool), "rel_time"])
        labels = []
        for k in ticks:
            text = f"{k:+d}" if k != 0 else "0"
            if k in binned and k == lo:
                text = f"≤{k:+d}"
            elif k in binned and k == hi:
                text = f"≥{k:+d}"
            labels.append(text)
        ax.set_xticks(ticks, labels)
        ax.set_xlim(lo - 0.6, hi + 0.6)
        ax.set_xlabel(lab["x"])
        ax.set_ylabel(lab["y"])
        heading = title or lab["title"]
        if pretrend_p is not None:
            heading += "  (" + lab["pretrend"].format(p=pretrend_p) + ")"
        ax.set_title(heading)
        ax.legend(loc="best", fontsize=8)  # the corner without data: effects can be negative
    return fig
