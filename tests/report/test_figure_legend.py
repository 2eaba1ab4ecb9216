"""Legends never hide an estimate: a fixed corner (upper left) covered the first bin's CI whenever the early leads
sit high, e.g. an effect that is negative (the event study of R did's mpdta, pilotdid's own numbers below)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pilotdid.report.figures.event_study import event_study_figure

#: TWFE event study of log teen employment on mpdta (tests/toolkit/fixtures), window [-3, 3], reghdfe SEs
MPDTA_EVENT_STUDY = pd.DataFrame({
    "rel_time": [-3, -2, -1, 0, 1, 2, 3],
    "coef": [0.0196, 0.0242, 0.0, -0.0204, -0.0504, -0.1375, -0.0997],
    "ci_low": [-0.0176, -0.0026, np.nan, -0.0418, -0.0838, -0.1920, -0.1623],
    "ci_high": [0.0568, 0.0509, np.nan, 0.0010, -0.0170, -0.0829, -0.0370],
    "is_base": [False, False, True, False, False, False, False],
    "binned": [True, False, False, False, False, False, True],
})


def test_event_study_legend_covers_no_estimate_or_interval():
    fig = event_study_figure(MPDTA_EVENT_STUDY, pretrend_p=0.201)
    fig.canvas.draw()
    ax = fig.axes[0]
    box = ax.get_legend().get_window_extent()
    for row in MPDTA_EVENT_STUDY.itertuples():
        low, high = (row.ci_low, row.ci_high) if not row.is_base else (0.0, 0.0)
        for y in np.linspace(low, high, 25):  # every point of the CI bar
            x_px, y_px = ax.transData.transform((row.rel_time, y))
            assert not box.contains(x_px, y_px), f"legend covers the estimate at event time {row.rel_time}"
