"""Analysis ``mechanism``: mediator regressions (paper Table 6), optionally the classical three-step model.

Options (``[analyses.mechanism]``):

* ``mediators`` — a list of tables, each ``{name, column | pca | pca_system, label, transform, note}``:
  ``column`` a panel column; ``pca`` a list of columns to combine into a principal-component index
  (:func:`pilotdid.measures.pca.pca_index`); ``pca_system`` a built-in indicator system name;
  ``transform`` "none" / "log" / "log1p"; required (the CBEC study file lists the paper's Dig, Inn and Lab as
  far as the public data hold them).
* ``three_step`` (false) — also run the classical three-step (Baron–Kenny) model for each mediator,
  with a Sobel test and a unit-bootstrap CI of the indirect effect; ``boot_draws`` (499), ``seed``.

Each mediator regression is ``mediator ~ treatment + controls | FE`` with the study's SE preset (weighted by
``[model] weights`` when set; the three-step model's unit bootstrap is unweighted, so a weighted study refuses it),
on the rows where the mediator exists; the table reports each column's N and years.
"""

from __future__ import annotations

from typing import Any

from pilotdid.estimation.mediation import MediatorSpec, build_mediator, mediator_regressions, three_step
from pilotdid.i18n import msg
from pilotdid.report.paper_tables import mechanism_table, three_step_table
from pilotdid.study.analyses._common import table_list
from pilotdid.study.analyses._paper_table import fit_rows, published_for_columns, table_style
from pilotdid.study.context import TREAT, AnalysisOutput, StudyContext
from pilotdid.study.options import check_analysis_options

WHERE = "[analyses.mechanism]"


def _mediator_specs(options: dict[str, Any]) -> list[MediatorSpec]:
    raw = table_list(options, "mediators", WHERE, add='mediators = [{name = "M", column = "your_column"}]',
                     example='mediators = [{name = "Dig", column = "dig_index"}]')
    return [MediatorSpec.from_options(r, f"{WHERE} mediators[{k}]") for k, r in enumerate(raw)]


def run(ctx: StudyContext, options: dict[str, Any]) -> AnalysisOutput:
    check_analysis_options("mechanism", options)
    three = options.get("three_step", False)  # types and ranges: declared in study/options.py, checked above
    boot_draws = options.get("boot_draws", 499)
    seed = options.get("seed", ctx.seed)
    specs, notes = _mediator_specs(options), []
    m = ctx.model
    from pilotdid.estimation.twfe import fit_twfe
    from pilotdid.inference import few_clusters

    recorder = few_clusters.FitRecorder(fit_twfe, unit=ctx.unit)  # the wild bootstrap re-runs a column's regression
    results = mediator_regressions(ctx.panel, specs, treatment=TREAT, controls=m.controls, fixed_effects=m.fixed_effects,
                                   unit=ctx.unit, time=ctx.time, cluster=m.cluster, vcov=m.vcov, where=WHERE,
                                   fit=recorder, weights=m.weights)
    estimates: list[dict[str, Any]] = []
    for r in results:
        estimates += fit_rows(r.fit, table="mechanism", column=r.spec.name, treatment=TREAT,
                              treatment_name=ctx.treatment_name, sample=f"{ctx.time} {r.years[0]}-{r.years[1]}",
                              outcome=r.spec.name, vcov=m.vcov,
                              extra={"mediator_source": r.spec.source_text, "years": list(r.years), "units": r.units,
                                     "rows_without_mediator": r.rows_without_mediator, **r.details})
        notes += r.notes
    wilds = [few_clusters.wild_for_inputs(recorder.inputs_of(r.fit), TREAT, threshold=m.few_clusters, seed=ctx.seed,
                                          analytic_weights=m.weights) for r in results]
    cells = []
    for r, wild in zip(results, wilds):
        if wild:
            few_clusters.add_wild_to_rows(estimates, r.spec.name, ctx.treatment_name, wild)
            cells.append((r.spec.name, wild))
    wild_notes = [few_clusters.wild_note(ctx.output_ref("mechanism"), ctx.treatment_name, cells, ctx.seed)] if cells else []
    notes += wild_notes
    tables = {"mechanism": mechanism_table(
        results, table_style(ctx), treatment=TREAT, treatment_name=ctx.treatment_name, controls=m.controls,
        fixed_effects=m.fixed_effects, time=ctx.time,
        published=published_for_columns(ctx, "mechanism", [r.spec.name for r in results]), wilds=wilds,
        wild_notes=wild_notes)}
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
        tables["mechanism_three_step"] = three_step_table(steps, mechanism_ref=ctx.output_ref("mechanism"),
                                                          paper=bool((ctx.extras or {}).get("published")))
        notes.append(msg("template.note.three_step_reported", "en", ref=ctx.output_ref("mechanism_three_step")))
    return AnalysisOutput(estimates=estimates, results=extra_results, tables=tables, notes=notes)

