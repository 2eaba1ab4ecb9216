"""Analysis ``event_study``: the binned TWFE event study (paper Figure 1) with a joint pre-trend test.

Options (``[analyses.event_study]``): ``window = [-4, 4]`` (binned endpoints), ``base = -1`` (the reference
period, or a bin ``[a, b]``), and multi-period bins: ``bins = [[-8, -5], [-4, -3], [-2, -2], [-1, -1], [0, 1], [2, 4]]``
(contiguous; the first and last absorb the periods beyond them) or ``bin_width = 2`` (the reference alone, post
bins [0, 1], [2, 3], ..., pre bins back from the reference; see :mod:`pilotdid.estimation.event_study`).
Fitted with :func:`pilotdid.estimation.twfe.fit_twfe` under the study's SE preset, so fixed
effects, clustering and the small-sample factor are the baseline's.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.event_study import fit_event_study
from pilotdid.report.event_study_table import event_study_table
from pilotdid.study.analyses._common import require_absorbing  # noqa: F401 - used and re-exported
from pilotdid.study.context import FIRST_TREAT, AnalysisOutput, StudyContext
from pilotdid.study.results import EVENT_STUDY_KEYS, normalise_row
from pilotdid.study.options import check_analysis_options


def run(ctx: StudyContext, options: dict[str, Any]) -> AnalysisOutput:
    check_analysis_options("event_study", options)
    require_absorbing(ctx, "event_study")
    window = options.get("window", [-4, 4])  # types: declared in study/options.py, checked above; shapes here
    if len(window) != 2:
        raise PilotdidInputError(f"window must be two integers, got {window!r}", where="[analyses.event_study] window",
                                 fix="e.g. window = [-4, 4]")
    base = options.get("base", -1)
    if isinstance(base, list) and len(base) != 2:
        raise PilotdidInputError(f"base must be an integer or a bin [a, b], got {base!r}",
                                 where="[analyses.event_study] base", fix="e.g. base = -1")
    bins, bin_width = options.get("bins"), options.get("bin_width")
    if bins is not None and not (isinstance(bins, list) and bins
                                 and all(isinstance(b, list) and len(b) == 2 for b in bins)):
        raise PilotdidInputError(f"bins = {bins!r}", where="[analyses.event_study] bins",
                                 fix="a list of [first, last] pairs, e.g. [[-4, -3], [-2, -2], [-1, -1], [0, 1], [2, 4]]")
    m = ctx.model
    result = fit_event_study(
        ctx.panel, outcome=m.outcome, unit=ctx.unit, time=ctx.time, first_treat=FIRST_TREAT, controls=m.controls,
        fixed_effects=m.fixed_effects, cluster=m.cluster, window=tuple(window), base=base,
        vcov=m.vcov, bins=bins, bin_width=bin_width, weights=m.weights,
    )
    raw_rows = result.rows("twfe")
    wild_cells, wild_notes = _few_clusters_wild(ctx, result, raw_rows, tuple(window), base, bins, bin_width)
    rows = [normalise_row({**r, "vcov": m.vcov}, EVENT_STUDY_KEYS) for r in raw_rows]
    pre = result.pretrend
    table = event_study_table(result, vcov=m.vcov, fixed_effects=m.fixed_effects, controls=m.controls,
                              wild_cells=wild_cells, wild_notes=wild_notes)
    notes = table.notes
    from pilotdid.report.figures.event_study import event_study_figure

    fig = event_study_figure(result.coefs, lang=ctx.lang, pretrend_p=pre["p_F"])
    return AnalysisOutput(
        results={"event_study": rows, "event_study_pretrend": {**pre, "nobs": result.nobs,
                                                                "n_clusters": result.n_clusters,
                                                                "window": list(result.window), "base": result.base,
                                                                "bins": result.bins,
                                                                "reference_bin": result.reference_bin}},
        tables={table.name: table}, figures={"event_study": fig}, notes=notes,
    )


def _few_clusters_wild(ctx: StudyContext, result, rows: list[dict], window, base, bins, bin_width):
    """Below ``[model] few_clusters`` clusters: the wild cluster restricted bootstrap p and CI of every event-study
    coefficient (the other dummies and the controls as regressors), added to its results.json row and as a column."""
    from pilotdid.estimation.event_study import bin_name, event_time_dummies
    from pilotdid.inference import few_clusters

    m = ctx.model
    cluster = m.cluster or ctx.unit
    n_clusters = few_clusters.cluster_count(ctx.panel, cluster)
    if n_clusters >= m.few_clusters:
        return [], []
    dummies, _ = event_time_dummies(ctx.panel, ctx.time, FIRST_TREAT, window, base, bins, bin_width)
    used = [c for c in dummies.columns if dummies[c].sum() > 0]
    frame = pd.concat([ctx.panel, dummies[used]], axis=1)
    cells, weights_used = [], None
    for r in rows:
        if r["is_base"]:
            cells.append("")
            continue
        name = bin_name(r["bin_low"], r["bin_high"])
        wild = few_clusters.wild_for_baseline(frame, outcome=m.outcome, term=name,
                                              controls=[c for c in used if c != name] + list(m.controls),
                                              fixed_effects=m.fixed_effects, cluster=cluster, vcov=m.vcov,
                                              seed=ctx.seed, analytic_weights=m.weights)
        r.update(wild)
        weights_used = wild["wild_weights"]
        cells.append(f"{wild['p_wild']:.3f} [{wild['ci_wild_low']:.4f}, {wild['ci_wild_high']:.4f}]")
    weighted = f", regressions weighted by {m.weights}" if m.weights else ""
    return cells, [f"Few clusters ({n_clusters} < {m.few_clusters}): wild cluster restricted bootstrap p-value and "
                   f"95% CI (test inversion, {weights_used} weights, seed {ctx.seed}{weighted}) beside each coefficient."]

