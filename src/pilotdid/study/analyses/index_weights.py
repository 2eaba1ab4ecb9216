"""Analysis `index_weights`: the outcome index's weights beside the paper's, and the index figures.

Reads the IndexResult the runner stored in ``ctx.extras["index"]`` (when absent, builds one from
``options``: ``system`` (required then: a builtin name such as ``"cbec_resilience"`` or a TOML path),
``method`` (``"entropy"``), ``pooling`` (``"pooled"``), ``shift``). The index series plotted is the study's
``[index] column`` of ``ctx.panel`` when there is one, else the stored result's index. "Ever treated" means ``ctx.panel[FIRST_TREAT] > 0``.
"""

from __future__ import annotations

import numpy as np

from pilotdid.i18n import msg
from pilotdid.errors import PilotdidInputError
from pilotdid.measures import IndexResult, build_index
from pilotdid.measures.weighting import DEFAULT_SHIFT
from pilotdid.report.figures.index_figures import index_over_time_figure, index_weights_figure
from pilotdid.report.index_tables import weights_table
from pilotdid.study.context import FIRST_TREAT, AnalysisOutput, StudyContext
from pilotdid.study.options import check_analysis_options


def run(ctx: StudyContext, options: dict) -> AnalysisOutput:
    """Weights table (ours beside the paper's published weights) and the two index figures."""
    check_analysis_options("index_weights", options)
    result = ctx.extras.get("index")
    if result is None:
        if "system" not in options:
            raise PilotdidInputError("the study has no [index] and no indicator system is named",
                                     where="[analyses.index_weights] system",
                                     fix='add an [index] section, or system = "cbec_resilience" (or a TOML path)')
        result = build_index(
            ctx.panel, options["system"], method=options.get("method", "entropy"),
            pooling=options.get("pooling", "pooled"), unit=ctx.unit, time=ctx.time,
            shift=options.get("shift", DEFAULT_SHIFT),
        )
    if not isinstance(result, IndexResult):
        raise TypeError("ctx.extras['index'] must be a pilotdid.measures.IndexResult")

    table = weights_table(result, lang=ctx.lang)
    column = ctx.extras.get("index_column")
    if column in ctx.panel.columns:
        series = ctx.panel[column]
    else:
        series = result.index.reindex(ctx.panel.index)
        column = f"{result.method} index"
    panel = ctx.panel.assign(_ever_treated=ctx.panel[FIRST_TREAT] > 0)
    figures = {
        "index_over_time": index_over_time_figure(series, panel, "_ever_treated", time=ctx.time, unit=ctx.unit,
                                                  label=f"{column} (mean, 95% CI)" if ctx.lang != "zh" else None,
                                                  lang=ctx.lang),
        "index_weights": index_weights_figure(result.weights, lang=ctx.lang),
    }
    # its caption names the units as the study does ([study] unit_noun); a [study] outputs title still wins
    figures["index_over_time"]._pilotdid_caption = msg("report.figure.index_over_time", ctx.lang,
                                                       **ctx.unit_words(ctx.lang))
    rows = [
        {"indicator": r.indicator, "dimension": r.dimension, "sign": r.sign, "status": r.status,
         "weight": _none(r.weight), "published_weight": _none(r.published_weight)}
        for r in result.weights.itertuples(index=False)
    ]
    tables = {table.name: table}
    coverage = ctx.extras.get("indicator_coverage")
    if coverage is not None:  # also shown in the report's data section
        tables[coverage.name] = coverage
    return AnalysisOutput(
        tables=tables, figures=figures, notes=list(table.notes),
        results={"index_weights": {"method": result.method, "pooling": result.pooling,
                                   "shift": _none(result.shift), "weights": rows,
                                   "indicator_coverage": None if coverage is None else
                                   coverage.body.replace({np.nan: None}).to_dict(orient="records")}},
    )


def _none(value):
    try:
        return None if value is None or not np.isfinite(value) else float(value)
    except TypeError:
        return value
