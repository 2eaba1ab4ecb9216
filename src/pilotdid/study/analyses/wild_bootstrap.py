"""Analysis ``wild_bootstrap``: wild cluster restricted bootstrap p-value and CI for the baseline coefficient.

Options (``[analyses.wild_bootstrap]``): ``reps = 9999``, ``weights = "rademacher"`` (or ``"webb"``, better
with fewer than ~12 clusters), ``seed`` (default: the study seed). The model is the study's ``[model]``:
outcome on the treatment plus controls with the fixed effects, clustered as specified (by unit if no
cluster is given).
"""

from __future__ import annotations

from typing import Any


from pilotdid.i18n import msg
from pilotdid.report.inference_tables import wild_bootstrap_table
from pilotdid.study.context import TREAT, AnalysisOutput, StudyContext
from pilotdid.study.options import check_analysis_options


def run(ctx: StudyContext, options: dict[str, Any]) -> AnalysisOutput:
    from pilotdid.inference.wild_bootstrap import wild_cluster_bootstrap

    check_analysis_options("wild_bootstrap", options)
    reps = options.get("reps", 9999)  # types, ranges and weights: declared in study/options.py, checked above
    seed = options.get("seed", ctx.seed)
    weights = options.get("weights", "rademacher")
    m = ctx.model
    cluster = m.cluster or ctx.unit
    res = wild_cluster_bootstrap(ctx.panel, outcome=m.outcome, term=TREAT, controls=m.controls,
                                 fixed_effects=m.fixed_effects, cluster=cluster, reps=reps, weights=weights, seed=seed,
                                 vcov=m.vcov, jobs=ctx.jobs, scheduler=ctx.extras.get("scheduler"),
                                 analytic_weights=m.weights)
    treated_clusters = int(ctx.panel.loc[ctx.panel[TREAT] > 0, cluster].nunique())
    row = {"term": ctx.treatment_name, "coef": res.coef, "t": res.t_stat, "p_wcr": res.p_value, "ci_low": res.ci_low,
           "ci_high": res.ci_high, "clusters": res.n_clusters, "treated_clusters": treated_clusters,
           "weights": weights, "draws": res.reps}
    notes = [f"Wild cluster restricted bootstrap ({weights}, {res.reps} draws"
             f"{', all sign vectors enumerated' if res.full_enumeration else f', seed {seed}'}), clustered by {cluster}: "
             f"p = {res.p_value:.4f}, 95% CI [{res.ci_low:.4f}, {res.ci_high:.4f}] by test inversion"
             + (f"; the regression weighted by {m.weights} (analytic weights)." if m.weights else "."),
             msg("guard.wild_bootstrap", ctx.lang)]
    table = wild_bootstrap_table(row)
    return AnalysisOutput(results={"wild_bootstrap": {**row, "seed": seed, "full_enumeration": res.full_enumeration}},
                          tables={table.name: table}, notes=notes)
