"""The two-panel specification-curve figure (Simonsohn, Simmons & Nelson 2020).

Top: every specification's estimate, sorted, with its 95% CI; filled red where positive and
significant at 5%, blue where negative and significant, grey otherwise; a dashed line at the
median, the study's own specification ringed. Bottom: the choices as a dot matrix, one row per
value of each varied choice, a dot where the specification (the column above) uses it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from pilotdid.i18n import counted, messages, msg
from pilotdid.report.figures.style import PALETTE, label_language, new_figure

SIGNIFICANT_NEGATIVE = "#2980b9"
NOT_SIGNIFICANT = "#95a5a6"


def specification_curve_figure(
    table: pd.DataFrame, *, dimensions: Sequence[str], labels: Mapping[str, str] | None = None, lang: str = "en",
    alpha: float = 0.05, width: float = 7.5, levels: Mapping[str, Sequence] | None = None,
    value_labels: Mapping[str, str] | None = None,
) -> Figure:
    """Specification curve from ``table`` (one row per specification).

    ``table`` needs ``coef``, ``ci_low``, ``ci_high``, ``p`` and one column per name in
    ``dimensions``; an optional boolean ``study_spec`` marks the study's own specification.
    Rows are drawn sorted by ``coef`` (ties keep their order). ``labels`` names the dimensions;
    ``levels`` gives each dimension's values in the order to list them (default: order of appearance).
    """
    lang = label_language(lang)
    text = messages("figure.specification_curve", lang)
    labels = dict(labels or {})
    data = table.sort_values("coef", kind="mergesort").reset_index(drop=True)
    n = len(data)
    x = np.arange(1, n + 1)
    rows: list[tuple[str, str]] = []
    for d in dimensions:
        order = [str(v) for v in levels[d]] if levels and d in levels else list(dict.fromkeys(table[d].astype(str)))
        for value in order:
            rows.append((d, value))
    height = 2.6 + 0.17 * len(rows)
    fig, ax0 = new_figure(width, height, lang=lang)
    ax0.remove()
    with plt.rc_context(fig._pilotdid_rc):
        grid = fig.add_gridspec(2, 1, height_ratios=[2.2, max(0.6, 0.17 * len(rows))])
        top = fig.add_subplot(grid[0])
        bottom = fig.add_subplot(grid[1], sharex=top)

    sig = (data["p"] < alpha).to_numpy()
    pos = (data["coef"] > 0).to_numpy()
    colours = np.where(sig & pos, PALETTE["treated"], np.where(sig & ~pos, SIGNIFICANT_NEGATIVE, NOT_SIGNIFICANT))
    marker = 3 if n > 300 else 4 if n > 100 else 5
    top.vlines(x, data["ci_low"], data["ci_high"], colors=colours, linewidth=0.6 if n > 100 else 1.0, alpha=0.6)
    top.scatter(x, data["coef"], c=colours, s=marker ** 2, zorder=3, linewidths=0)
    top.axhline(0, color="black", linewidth=0.7)
    median = float(data["coef"].median())
    top.axhline(median, color="black", linewidth=0.8, linestyle="--")
    top.annotate(f"{text['median']} {median:.4f}", xy=(1, median), xytext=(2, 3), textcoords="offset points",
                 fontsize=7)
    if "study_spec" in data and data["study_spec"].any():
        i = int(np.flatnonzero(data["study_spec"].to_numpy())[0])
        top.scatter([x[i]], [data["coef"].iloc[i]], s=(marker + 5) ** 2, facecolors="none", edgecolors="black",
                    linewidths=1.0, zorder=4, label=text["own"])
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", linestyle="", color=PALETTE["treated"], label=text["sig_pos"].format(a=alpha)),
               Line2D([], [], marker="o", linestyle="", color=SIGNIFICANT_NEGATIVE, label=text["sig_neg"].format(a=alpha)),
               Line2D([], [], marker="o", linestyle="", color=NOT_SIGNIFICANT, label=text["ns"])]
    if "study_spec" in data and data["study_spec"].any():
        handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor="none", color="black", label=text["own"]))
    top.legend(handles=handles, fontsize=7, loc="upper left", ncol=2)
    top.set_ylabel(text["coef"])
    top.set_title(msg(counted("figure.specification_curve.title", n), lang, n=n, pos=float(pos.mean()),
                      sig=float((sig & pos).mean())))
    top.tick_params(labelbottom=False)

    # dot matrix: row r (top to bottom) = (dimension, value)
    y_of = {key: len(rows) - 1 - r for r, key in enumerate(rows)}
    for d in dimensions:
        values = data[d].astype(str).to_numpy()
        ys = np.array([y_of[(d, v)] for v in values])
        bottom.scatter(x, ys, c=colours, s=max(2, marker - 1) ** 2, linewidths=0)
    bottom.set_yticks([y_of[key] for key in rows])
    value_labels = dict(value_labels or {})
    bottom.set_yticklabels([f"{labels.get(d, d)}: {value_labels.get(v, v)}" for d, v in rows], fontsize=7)
    bottom.set_ylim(-0.6, len(rows) - 0.4)
    boundary = 0
    for d in dimensions[:-1]:
        boundary += sum(1 for dim, _ in rows if dim == d)
        bottom.axhline(len(rows) - boundary - 0.5, color="#dddddd", linewidth=0.6)
    bottom.set_xlabel(text["spec"])
    bottom.set_xlim(0, n + 1)
    if n < 10:  # a handful of specifications: one tick each (the default ticks fall between them: 0.25, 0.5, ...)
        bottom.set_xticks(range(1, n + 1))
    return fig
