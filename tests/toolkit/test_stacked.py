"""Stacked DID with Wing-Freedman-Hollingsworth weights against their aggregate ATT computed by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pilotdid.estimation.staggered.stacked import stacked_did

PANEL = Path(__file__).parents[1] / "staggered" / "fixtures" / "cs_panel.csv"  # SYNTHETIC, balanced


@pytest.fixture(scope="module")
def panel():
    return pd.read_csv(PANEL)


def _by_hand(panel, window):
    """WFH's trimmed aggregate ATT from cell means: sum_a (N^D_a / N^D) x the sub-experiment's 2x2 DIDs."""
    lo, hi = window
    y = panel.pivot(index="unit", columns="year", values="y")
    g = panel.groupby("unit")["first_treat"].first().fillna(0)
    t0, t1 = y.columns.min(), y.columns.max()
    subs = [a for a in sorted(g[g > 0].unique()) if a + lo >= t0 and a + hi <= t1]
    n_d = {a: int((g == a).sum()) for a in subs}
    total = sum(n_d.values())
    event, static = {}, 0.0
    for a in subs:
        tr = y.loc[g == a]
        co = y.loc[(g == 0) | (g > a + hi)]
        base = a - 1
        for e in range(lo, hi + 1):
            if e == -1:
                continue
            did = (tr[a + e] - tr[base]).mean() - (co[a + e] - co[base]).mean()
            event[e] = event.get(e, 0.0) + n_d[a] / total * did
        pre = [a + e for e in range(lo, 0)]
        post = [a + e for e in range(0, hi + 1)]
        did = (tr[post].mean(axis=1) - tr[pre].mean(axis=1)).mean() - (co[post].mean(axis=1) - co[pre].mean(axis=1)).mean()
        static += n_d[a] / total * did
    return event, static, subs


@pytest.mark.parametrize("window", [(-3, 2), (-2, 1)])
def test_weighted_stack_equals_the_trimmed_aggregate_att(panel, window):
    res = stacked_did(panel, outcome="y", unit="unit", time="year", first_treat="first_treat", window=window)
    event, static, subs = _by_hand(panel, window)
    assert res.sub_experiments.cohort.tolist() == [int(a) for a in subs]
    tab = res.event_study.table.set_index("rel_time")
    for e, value in event.items():
        assert tab.loc[e, "coef"] == pytest.approx(value, rel=1e-9, abs=1e-12)
    assert res.static_att == pytest.approx(static, rel=1e-9)
    assert tab.loc[-1, "coef"] == 0.0
    # the control weights equalise the treated share across sub-experiments
    info = res.sub_experiments
    share = info.treated_units / (info.treated_units + info.control_weight * info.control_units)
    np.testing.assert_allclose(share, share.iloc[0])


def test_stacked_refuses_a_window_no_cohort_fits(panel):
    from pilotdid.errors import PilotdidInputError

    with pytest.raises(PilotdidInputError, match="event window"):
        stacked_did(panel, outcome="y", unit="unit", time="year", first_treat="first_treat", window=(-20, 2))
