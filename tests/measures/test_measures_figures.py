"""Index figures and the index_weights analysis adapter on a SYNTHETIC panel."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from pilotdid.errors import PilotdidInputError
from pilotdid.measures import build_index, load_indicator_system
from pilotdid.report.figures.index_figures import index_over_time_figure, index_weights_figure
from pilotdid.report.table import Table
from pilotdid.study.context import FIRST_TREAT, ModelSpec, StudyContext


@pytest.fixture
def study(make_panel):
    system = load_indicator_system("cbec_resilience")
    frame = make_panel(n_units=20, columns=[ind.column for ind in system.used])
    frame[FIRST_TREAT] = np.where(frame["city"] < "city05", 2016, 0)
    result = build_index(frame, system)
    frame["resi"] = result.index
    ctx = StudyContext("synthetic", frame, "city", "year", ModelSpec("resi", [], ["city", "year"], "city"), "did",
                       extras={"index": result})
    return ctx, result


def test_figures_return_figures(study):
    ctx, result = study
    panel = ctx.panel.assign(ever=ctx.panel[FIRST_TREAT] > 0)
    fig = index_over_time_figure(ctx.panel["resi"], panel, "ever", time="year", unit="city")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.lines) == 2
    treated_mean = ctx.panel[panel["ever"]].groupby("year")["resi"].mean()
    np.testing.assert_allclose(ax.lines[0].get_ydata(), treated_mean.to_numpy())
    assert "n = 5" in ax.get_legend().get_texts()[0].get_text()
    bars = index_weights_figure(result.weights)
    labels = [t.get_text() for t in bars.axes[0].texts]
    assert labels.count("not in data") == 5 and "proxy" in labels  # 5 of 17 in no public file (issue 21)


def test_adapter(study):
    from pilotdid.study.analyses import index_weights

    ctx, result = study
    out = index_weights.run(ctx, {})
    table = out.tables["index_weights"]
    assert isinstance(table, Table)
    assert len(table.body) == 17
    assert (table.body["Status"] == "not in data").sum() == 5
    assert table.body["Weight (paper, published)"].notna().all()
    assert any("pooling = pooled" in n and "shift = 0.0001" in n for n in table.notes)
    assert any("0.262" in n for n in table.notes)
    assert set(out.figures) == {"index_over_time", "index_weights"}
    assert out.results["index_weights"]["weights"][2]["weight"] is None  # unavailable -> null, never a number


def test_adapter_builds_when_runner_did_not(study):
    from pilotdid.study.analyses import index_weights

    ctx, _ = study
    ctx.extras.clear()
    out = index_weights.run(ctx, {"method": "critic", "system": "cbec_resilience"})
    assert "critic" in out.tables["index_weights"].notes[0]
    with pytest.raises(PilotdidInputError, match="no indicator system is named"):
        index_weights.run(ctx, {"method": "critic"})  # no study default: the CBEC system is named, never assumed
    with pytest.raises(PilotdidInputError, match=r"unknown option\(s\) colour"):
        index_weights.run(ctx, {"colour": "red"})
