"""Figures of a composite index: its path over time by treatment group, and its weights beside the paper's.

Both functions return matplotlib Figures and never save; the runner saves them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from pilotdid.i18n import messages
from pilotdid.report.figures.style import PALETTE, label_language, new_figure



def index_over_time_figure(
    index: pd.Series,
    panel: pd.DataFrame,
    ever_treated: str,
    *,
    time: str = "year",
    unit: str | None = None,
    label: str | None = None,
    lang: str = "en",
) -> Figure:
    """Mean of ``index`` per period for ever-treated vs never-treated units, with 95% confidence bands of the mean.

    ``index`` is aligned with ``panel``'s rows; ``ever_treated`` names a boolean (or 0/1) column of ``panel``.
    The band is mean ± 1.96·sd/√n across units in the period (a description, not a test).
    """
    lang = label_language(lang)
    text = messages("figure.index", lang)
    if ever_treated not in panel.columns or time not in panel.columns:
        raise KeyError(f"panel lacks '{ever_treated}' or '{time}'")
    frame = pd.DataFrame({
        "value": pd.Series(index, index=index.index).reindex(panel.index).to_numpy(),
        "treated": panel[ever_treated].astype(bool).to_numpy(),
        "time": panel[time].to_numpy(),
    })
    if unit is not None:
        frame["unit"] = panel[unit].to_numpy()
    fig, ax = new_figure(6.4, 3.8, lang=lang)
    for flag, key in ((True, "treated"), (False, "control")):
        group = frame[frame["treated"] == flag].dropna(subset=["value"])
        if group.empty:
            continue
        stats = group.groupby("time")["value"].agg(["mean", "std", "count"]).sort_index()
        half = 1.96 * stats["std"].fillna(0.0) / np.sqrt(stats["count"])
        units = group["unit"].nunique() if unit is not None else int(stats["count"].max())
        colour = PALETTE[key]
        ax.plot(stats.index, stats["mean"], marker="o", markersize=3, color=colour, label=text["units"].format(label=text[key], n=units))
        ax.fill_between(stats.index, stats["mean"] - half, stats["mean"] + half, color=colour, alpha=0.15, linewidth=0)
    ax.set_xlabel(text["year"])
    ax.set_ylabel(label or text["index"])
    ax.set_title(text["title_time"])
    ax.legend(loc="best")
    periods = np.sort(frame["time"].unique())
    if len(periods) <= 15 and np.issubdtype(periods.dtype, np.number):
        ax.set_xticks(periods)
    return fig


def index_weights_figure(weights: pd.DataFrame, *, lang: str = "en", title: str | None = None) -> Figure:
    """Horizontal bars: our weight and the paper's published weight per indicator, in the system's order.

    ``weights`` is an IndexResult's weights table (columns indicator/label/label_zh, status, weight,
    published_weight). Indicators not in the data get no bar of ours and a "not in data" mark ("excluded" /
    "dropped" for those left out on purpose or by a rule); proxies are marked.
    """
    lang = label_language(lang)
    text = messages("figure.index", lang)
    labels = weights["label_zh"] if lang == "zh" and "label_zh" in weights else weights.get("label", weights["indicator"])
    n = len(weights)
    fig, ax = new_figure(7.0, 0.32 * n + 1.4, lang=lang)
    positions = np.arange(n)[::-1]
    height = 0.38
    ours = weights["weight"].to_numpy(dtype=float)
    paper = weights["published_weight"].to_numpy(dtype=float) if "published_weight" in weights else np.full(n, np.nan)
    has_paper = np.isfinite(paper).any()
    ax.barh(positions + (height / 2 if has_paper else 0), np.nan_to_num(ours), height=height,
            color=PALETTE["ours"], label=text["ours"])
    if has_paper:
        ax.barh(positions - height / 2, np.nan_to_num(paper), height=height, color=PALETTE["paper"], label=text["paper"])
    top = np.nanmax(np.concatenate([ours, paper])) if np.isfinite(np.concatenate([ours, paper])).any() else 1.0
    for pos, value, status in zip(positions, ours, weights["status"]):
        if not np.isfinite(value):
            mark = {"excluded": text["excluded"], "dropped": text["dropped"]}.get(status, text["missing"])
            ax.text(top * 0.01, pos + (height / 2 if has_paper else 0), mark, va="center", fontsize=7,
                    color=PALETTE["ours"], style="italic")
        elif status == "proxy":
            ax.text(value + top * 0.01, pos + height / 2, text["proxy"], va="center", fontsize=7, color=PALETTE["ours"])
    ax.set_yticks(positions)
    ax.set_yticklabels([str(v) for v in labels])
    ax.set_xlabel(text["weight"])
    ax.set_xlim(0, top * 1.15)
    ax.set_title(title or text["title_weights"])
    ax.legend(loc="lower right")
    return fig
