"""Helpers several analyses share (the event-time window, the balanced sample, the absorbing check).

They live here so analyses do not import each other for them.
"""

from __future__ import annotations


import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.i18n import msg
from pilotdid.study.context import TREAT, StudyContext


def table_list(options: dict, key: str, where: str, *, add: str, example: str) -> list:
    """The study-file option ``key``: a non-empty list of tables (each checked by its own parser).

    ``add`` is the fix when it is missing (``add = "splits = [...]"``), ``example`` when it is not such a list.
    """
    raw = options.get(key)
    if raw is None:
        raise PilotdidInputError(f"no {key} given", where=f"{where} {key}", fix=f"add {add}")
    if not isinstance(raw, list) or not raw:
        raise PilotdidInputError(f"{key} must be a non-empty list of tables, got {raw!r}", where=f"{where} {key}",
                                 fix=f"e.g. {example}")
    return raw


def balanced_sample(ctx: StudyContext, columns: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Units observed with complete ``columns`` in every period of the panel; the rest dropped and counted."""
    panel = ctx.panel
    n_times = panel[ctx.time].nunique()
    complete = panel.dropna(subset=columns)
    rows_per_unit = complete.groupby(ctx.unit)[ctx.time].nunique()
    keep_units = rows_per_unit.index[rows_per_unit == n_times]
    n_all = panel[ctx.unit].nunique()
    dropped = n_all - len(keep_units)
    notes = []
    if dropped:
        notes.append(msg("template.note.balanced_staggered", "en", d=dropped, n=n_all, cols=", ".join(columns),
                         t=n_times))
    return complete[complete[ctx.unit].isin(keep_units)].copy(), notes


def parse_window(options: dict, analysis: str) -> tuple[int, int]:
    """The declared ``window`` (a list of integers, checked by study/options.py): two of them, lo < 0 <= hi."""
    window = options.get("window", [-4, 4])
    if not (len(window) == 2 and window[0] < 0 <= window[1]):
        raise PilotdidInputError(f"window must be two integers [lo<0, hi>=0], got {window!r}",
                                 where=f"[analyses.{analysis}] window", fix="e.g. window = [-4, 4]")
    return int(window[0]), int(window[1])


def require_absorbing(ctx: StudyContext, analysis: str) -> None:
    """Refuse a treatment that switches off again: this analysis codes event time from the first treated period."""
    if not ctx.extras.get("data_summary", {}).get("absorbing", True):
        raise PilotdidInputError(
            "the treatment switches off again in some unit (not absorbing; see the notes), but this analysis "
            "codes event time from the first treated period", where=f"[analyses.{analysis}]",
            fix="make the treatment absorbing (or use first_treat = ...), or remove this analysis (baseline TWFE accepts it)")


def staggered_design(ctx: StudyContext) -> dict:
    """:func:`pilotdid.estimation.staggered.cs.event_study`'s column arguments (outcome, unit, time, first_treat),
    the cluster (the study's when it is coarser than the unit, else None: unit-level influence functions) and the
    study's sampling weights."""
    from pilotdid.study.context import FIRST_TREAT

    cluster = ctx.model.cluster if ctx.model.cluster and ctx.model.cluster != ctx.unit else None
    return dict(outcome=ctx.model.outcome, unit=ctx.unit, time=ctx.time, first_treat=FIRST_TREAT, cluster=cluster,
                sample_weights=ctx.model.weights)


def sensitivity_event_study(ctx: StudyContext, data: pd.DataFrame, source: str, covariates: list[str], *, seed: int,
                            control_group: str = "never_treated", ps_fallback: str = "none",
                            covariate_period: str = "earlier"):
    """The event study a sensitivity analysis (HonestDiD, pre-trend power) reads: ``source = "cs"``, the
    Callaway-Sant'Anna dynamic aggregation (doubly robust, universal base period, analytic covariance), or
    ``"twfe"``, the unbinned TWFE event study (reference -1, CRV1); both weighted by ``[model] weights`` when set.
    Returns ``(event study, CS result or None)``."""
    from pilotdid.estimation.staggered import cs
    from pilotdid.estimation.staggered.twfe import twfe_event_study
    from pilotdid.study.context import FIRST_TREAT

    if source == "cs":
        cs_res, _, es = cs.event_study(data, **staggered_design(ctx), covariates=covariates, control_group=control_group,
                                       est_method="dr", ps_fallback=ps_fallback, covariate_period=covariate_period,
                                       base_period="universal", anticipation=0, draws=0, weights="rademacher", seed=seed)
        return es, cs_res
    es = twfe_event_study(data, outcome=ctx.model.outcome, unit=ctx.unit, time=ctx.time, first_treat=FIRST_TREAT,
                          covariates=covariates, cluster=ctx.model.cluster, weights=ctx.model.weights)
    return es, None


def sensitivity_weighting(ctx: StudyContext) -> str:
    """How a sensitivity analysis's event study is weighted, for its source text: HonestDiD and pre-trend power
    take an event-study vector and its covariance, so ``[model] weights`` act through that event study."""
    if not ctx.model.weights:
        return ""
    return (f"; weighted by {ctx.model.weights} (analytic weights): the weighted event study's coefficients and "
            "covariance are used as they are")


def named_panel(ctx: StudyContext) -> pd.DataFrame:
    """A copy of the panel whose treatment column ``_did`` is named ``ctx.treatment_name``.

    A panel column already called that (the 0/1 column of a ``column =`` study) is replaced by
    ``_did``, which the runner built from it.
    """
    name = ctx.treatment_name
    if name in (ctx.model.outcome, *ctx.model.controls):
        raise PilotdidInputError(
            f"the treatment name {name!r} is also the outcome or a control", where="[model]",
            fix="remove it from outcome/controls or rename the treatment",
        )
    panel = ctx.panel
    if name != TREAT and name in panel.columns:
        panel = panel.drop(columns=[name])
    return panel.rename(columns={TREAT: name})


