"""Analysis ``mechanism``: mediator regressions (paper Table 6), optionally the classical three-step model.

Options (``[analyses.mechanism]``):

* ``mediators`` — a list of tables, each ``{name, column | pca | pca_system, label, transform, note}``:
  ``column`` a panel column; ``pca`` a list of columns to combine into a principal-component index
  (:func:`pilotdid.measures.pca.pca_index`); ``pca_system`` a built-in indicator system name;
  ``transform`` "none" / "log" / "log1p"; required (the CBEC study file lists the paper's Dig, Inn and Lab as
  far as the public data hold them).
* ``three_step`` (false) — also run the classical three-step (Baron–Kenny) model for each mediator,
  with a Sobel test and a unit-bootstrap CI of the indirect effect; ``boot_draws`` (499), ``seed``.

Each mediator regression is ``mediator ~ treatment + controls | FE`` with the study's SE preset,
on the rows where the mediator exists; the table reports each column's N and years.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.mediation import (
    THREE_STEP_LABEL, MediatorResult, MediatorSpec, build_mediator, mediator_regressions, three_step,
)
from pilotdid.report.regression_table import stars
from pilotdid.report.table import Table
from pilotdid.study.analyses._common import table_list
from pilotdid.study.analyses._options import check_options
from pilotdid.study.analyses._paper_table import (
    fit_rows, paper_table, published_for_columns, row_text,
)
from pilotdid.study.context import TREAT, AnalysisOutput, StudyContext

OPTIONS = ("mediators", "three_step", "boot_draws", "seed")
WHERE = "[analyses.mechanism]"
STARS_RULE = "* p < 0.10, ** p < 0.05, *** p < 0.01 (t with the preset's degrees of freedom)"


def _mediator_specs(options: dict[str, Any]) -> list[MediatorSpec]:
    raw = table_list(options, "mediators", WHERE, add='mediators = [{name = "M", column = "your_column"}]',
                     example='mediators = [{name = "Dig", column = "dig_index"}]')
    return [MediatorSpec.from_options(r, f"{WHERE} mediators[{k}]") for k, r in enumerate(raw)]


def run(ctx: StudyContext, options: dict[str, Any]) -> AnalysisOutput:
    check_options(options, OPTIONS, WHERE)
    three = options.get("three_step", False)
    if not isinstance(three, bool):
        raise PilotdidInputError(f"three_step must be true or false, got {three!r}", where=f"{WHERE} three_step",
                                 fix="three_step = true")
    boot_draws = options.get("boot_draws", 499)
    if isinstance(boot_draws, bool) or not isinstance(boot_draws, int) or boot_draws < 1:
        raise PilotdidInputError(f"boot_draws must be a positive integer, got {boot_draws!r}", where=f"{WHERE} boot_draws",
                                 fix="e.g. boot_draws = 499")
    seed = options.get("seed", ctx.seed)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise PilotdidInputError(f"seed must be a non-negative integer, got {seed!r}", where=f"{WHERE} seed", fix="e.g. seed = 12345")
    specs, notes = _mediator_specs(options), []
    m = ctx.model
    from pilotdid.estimation.twfe import fit_twfe
    from pilotdid.inference import few_clusters

    recorder = few_clusters.FitRecorder(fit_twfe, unit=ctx.unit)  # the wild bootstrap re-runs a column's regression
    results = mediator_regressions(ctx.panel, specs, treatment=TREAT, controls=m.controls, fixed_effects=m.fixed_effects,
                                   unit=ctx.unit, time=ctx.time, cluster=m.cluster, vcov=m.vcov, where=WHERE,
                                   fit=recorder)
    estimates: list[dict[str, Any]] = []
    for r in results:
        estimates += fit_rows(r.fit, table="mechanism", column=r.spec.name, treatment=TREAT,
                              treatment_name=ctx.treatment_name, sample=f"{ctx.time} {r.years[0]}-{r.years[1]}",
                              outcome=r.spec.name, vcov=m.vcov,
                              extra={"mediator_source": r.spec.source_text, "years": list(r.years), "units": r.units,
                                     "rows_without_mediator": r.rows_without_mediator, **r.details})
        notes += r.notes
    wilds = [few_clusters.wild_for_inputs(recorder.inputs_of(r.fit), TREAT, threshold=m.few_clusters, seed=ctx.seed)
             for r in results]
    cells = []
    for r, wild in zip(results, wilds):
        if wild:
            few_clusters.add_wild_to_rows(estimates, r.spec.name, ctx.treatment_name, wild)
            cells.append((r.spec.name, wild))
    wild_notes = [few_clusters.wild_note(ctx.output_ref("mechanism"), ctx.treatment_name, cells, ctx.seed)] if cells else []
    notes += wild_notes
    tables = {"mechanism": mechanism_table(results, ctx, wilds=wilds, wild_notes=wild_notes)}
    extra_results: dict[str, Any] = {}
    if three:
        steps = []
        for k, r in enumerate(results):
            built = build_mediator(ctx.panel, r.spec, ctx.unit, ctx.time)
            col = f"_mediator__{r.spec.name}"
            steps.append(three_step(
                ctx.panel.assign(**{col: built.values}), outcome=m.outcome, mediator=col, treatment=TREAT,
                controls=m.controls, fixed_effects=m.fixed_effects, unit=ctx.unit, cluster=m.cluster, vcov=m.vcov,
                draws=boot_draws, seed=seed, progress=ctx.progress,
            ))
            steps[-1].mediator = r.spec.name
        extra_results["mechanism_three_step"] = [s.to_dict() for s in steps]
        tables["mechanism_three_step"] = three_step_table(steps, ctx)
        notes.append(f"Also reported, for referees who ask for it: the {THREE_STEP_LABEL} "
                     f"({ctx.output_ref('mechanism_three_step')}).")
    return AnalysisOutput(estimates=estimates, results=extra_results, tables=tables, notes=notes)


def mechanism_table(results: list[MediatorResult], ctx: StudyContext, wilds: list | None = None,
                    wild_notes: list[str] | None = None) -> Table:
    """Table 6 in the paper's layout (mediators as columns), the published numbers beneath ours; with few clusters
    the wild cluster bootstrap p and CI rows (``wilds``, one per column)."""
    from pilotdid.inference.few_clusters import wild_extra_rows

    m = ctx.model
    columns = [r.spec.name for r in results]
    published = published_for_columns(ctx, "mechanism", columns)
    tx = row_text(ctx)
    extra = {
        **wild_extra_rows(wilds or []),
        tx["controls"]: [tx["yes"] if m.controls else tx["no"]] * len(results),
        tx["years"]: [f"{r.years[0]}-{r.years[1]}" for r in results],
        tx["units"]: [r.units for r in results],
        tx["mediator"]: [r.spec.source_text for r in results],
    }
    notes = [
        f"Each column regresses the mediator on {ctx.treatment_name}, the controls ({', '.join(m.controls) or 'none'}) "
        f"and fixed effects ({', '.join(m.fixed_effects)}), on the rows where the mediator exists; N and years are "
        "per column.",
    ]
    notes += [f"{r.spec.name} = {r.spec.label}." for r in results if r.spec.label]
    notes += [f"{r.spec.name}: {r.spec.note}." for r in results if r.spec.note]
    notes += [f"{r.spec.name}: exists for {ctx.time} {r.years[0]}-{r.years[1]} only; the {r.rows_without_mediator} "
              "panel rows without a value are not in its column." for r in results if r.rows_without_mediator]
    if published is not None:
        notes.append("The paper's mediators are built from its own (partly non-public) data; compare signs and "
                     "significance rather than magnitudes.")
    notes += wild_notes or []
    return paper_table([r.fit for r in results], ctx, name="mechanism",
                       title="Mechanisms: mediator regressions on the treatment", columns=columns,
                       extra_rows=extra, published=published, notes=notes)


def three_step_table(steps, ctx: StudyContext) -> Table:
    """The classical three-step model, one column per mediator, clearly labelled."""
    def fmt(v, d=4):
        return "" if v is None or v != v else f"{v:.{d}f}"

    lines = [
        ("Step 1: total effect c", [fmt(s.total["coef"]) + stars(s.total["p"]) for s in steps]),
        ("Step 2: a (treatment → mediator)", [fmt(s.a["coef"]) + stars(s.a["p"]) for s in steps]),
        ("Step 3: b (mediator → outcome)", [fmt(s.b["coef"]) + stars(s.b["p"]) for s in steps]),
        ("Step 3: direct effect c′", [fmt(s.direct["coef"]) + stars(s.direct["p"]) for s in steps]),
        ("Indirect effect a·b", [fmt(s.indirect) for s in steps]),
        ("Sobel SE", [fmt(s.sobel_se) for s in steps]),
        ("Sobel p", [fmt(s.sobel_p, 3) for s in steps]),
        ("Bootstrap 95% CI of a·b", [f"[{fmt(s.boot_ci[0])}, {fmt(s.boot_ci[1])}]" for s in steps]),
        ("Share mediated a·b / c", [fmt(s.proportion_mediated, 3) for s in steps]),
        ("N (common sample)", [str(s.nobs) for s in steps]),
    ]
    body = pd.DataFrame([[label, *cells] for label, cells in lines], columns=["", *[s.mediator for s in steps]])
    notes = [
        f"The {THREE_STEP_LABEL}; shown because referees still ask for it. It needs the mediator to be as good as "
        "randomly assigned given the treatment, which a DID design does not deliver; the paper's main mechanism "
        f"evidence ({ctx.output_ref('mechanism')}) is the mediator regression.",
        f"Bootstrap: {steps[0].boot_draws if steps else 0} draws of units with replacement (cluster bootstrap), "
        f"seed {steps[0].seed if steps else ''}, percentile interval; Sobel p from the normal distribution; {STARS_RULE}.",
        "Each column uses the rows where both the outcome and the mediator exist.",
    ]
    notes += [f"{s.mediator}: {s.boot_failed} bootstrap draws failed and were not counted." for s in steps if s.boot_failed]
    return Table(name="mechanism_three_step", title="Classical three-step mediation model (optional)",
                 body=body, notes=notes)
