"""Analysis ``index_systems``: the headline DID under the study's index and under each ``[index.alternatives]``.

For every alternative whose window differs from the study's, the study's own index is also rebuilt on that
window (weights re-estimated there), so the table separates what the window does from what the extra indicators
do. Each row is the study's baseline model (all controls, fixed effects, cluster, SE preset of ``[model]``) on
the study's sample restricted to the rows where that index has a value (see :mod:`pilotdid.study.index_variants`).
Adoption cohorts after a window's last year are untreated inside it (they serve as not-yet-treated controls).

Options: ``alternatives`` (names; default all), ``same_window`` (true), ``vcov`` (default ``[model] vcov``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.report.index_tables import index_systems_table, variant_label
from pilotdid.study.context import FIRST_TREAT, TREAT, AnalysisOutput, StudyContext
from pilotdid.study.index_variants import STUDY, alternatives, variant_index
from pilotdid.study.options import check_analysis_options

WHERE = "[analyses.index_systems]"


def headline(ctx: StudyContext, values: pd.Series, vcov: str) -> dict[str, Any]:
    """The study's full-controls TWFE DID with ``values`` as the outcome, on the rows where it is not missing
    (weighted by ``[model] weights`` when set, as the baseline)."""
    from pilotdid.estimation.twfe import fit_twfe

    m = ctx.model
    keep = values.notna()
    frame = ctx.panel.loc[keep].copy()
    frame["_index_variant"] = values[keep].astype(float)
    last = int(frame[ctx.time].max())
    late = frame[FIRST_TREAT] > last
    frame[TREAT] = ((frame[FIRST_TREAT] > 0) & (frame[FIRST_TREAT] <= frame[ctx.time])).astype(float)
    if frame[TREAT].nunique() < 2:
        raise PilotdidInputError("the index variant leaves no treated (or no untreated) row", where=WHERE,
                                 fix="widen the alternative's years")
    fit = fit_twfe(frame, "_index_variant", [TREAT, *m.controls], m.fixed_effects, m.cluster, vcov=vcov,
                   weights=m.weights)
    row = fit.term(TREAT)
    return {
        "coef": float(row["coef"]), "se": float(row["se"]), "t": float(row["t"]), "p": float(row["p"]),
        "nobs": int(fit.nobs), "units": int(frame[ctx.unit].nunique()),
        "periods": f"{int(frame[ctx.time].min())}-{last}",
        "treated_units": int(frame.loc[(frame[FIRST_TREAT] > 0) & ~late, ctx.unit].nunique()),
        "late_units": int(frame.loc[late, ctx.unit].nunique()),
    }


def run(ctx: StudyContext, options: dict[str, Any]) -> AnalysisOutput:
    check_analysis_options("index_systems", options)
    spec = ctx.extras.get("spec")
    if spec is None or not spec.index:
        raise PilotdidInputError("index_systems needs an [index] section", where=WHERE,
                                 fix="build the outcome with [index], or remove [analyses.index_systems]")
    alts = alternatives(spec)
    names = options.get("alternatives", list(alts))
    if any(n not in alts for n in names):  # a list of strings (declared); the names the study defines
        raise PilotdidInputError(f"alternatives must list names of [index.alternatives], got {names!r}",
                                 where=f"{WHERE} alternatives", fix=f"use some of: {', '.join(alts) or '(none defined)'}")
    vcov = options.get("vcov", ctx.model.vcov)
    main = variant_index(ctx, STUDY)
    variants = [(main, True)]
    for name in names:
        alt = variant_index(ctx, name)
        if options.get("same_window", True) and alt.years != main.years:
            variants.append((variant_index(ctx, STUDY, years=alt.years), False))
        variants.append((alt, False))
    entries, results = [], []
    for variant, is_main in variants:
        est = headline(ctx, variant.values, vcov)
        label = variant_label(variant.label, rebuilt=variant.name == STUDY and not is_main, lang=ctx.lang)
        entries.append({"label": label, "main": is_main, "indicators": len(variant.indicators),
                        "published_share": variant.published_share, "estimate": est, "notes": variant.notes})
        results.append({"name": variant.name, "label": label, "main": is_main, "indicators": variant.indicators,
                        "years": list(variant.years), "published_weight_share": variant.published_share, **est})
    table = index_systems_table(entries, vcov=vcov, cluster=ctx.model.cluster, lang=ctx.lang,
                                unit_noun=ctx.unit_noun)
    return AnalysisOutput(tables={table.name: table}, notes=[table.notes[1]],
                          results={"index_systems": [_plain(r) for r in results]})


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
