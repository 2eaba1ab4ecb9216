"""Analysis ``multiverse``: the specification curve (Simonsohn, Simmons & Nelson 2020).

Every combination of the analyst's choices listed in ``[analyses.multiverse]`` is estimated: the
baseline TWFE coefficient, its standard error and p-value under the chosen SE preset, and a
placebo p-value from re-assigned adoption years (fewer draws than the main placebo). The result is
a table of all specifications, the two-panel specification-curve figure (sorted estimates with 95%
CIs above, the choices as a dot matrix below) and a summary: share of estimates that are positive,
positive and significant at 5%, and their median.

Options (a list of values varies a choice; a choice not given stays at the study's own value):

* ``index_method`` — ``entropy``, ``critic``, ``topsis``, ``equal`` (needs the study's ``[index]``);
* ``pooling`` — ``pooled`` or ``by_year`` index weights (needs ``[index]``);
* ``index_system`` — ``study`` and/or names of ``[index.alternatives]`` (another indicator set or window; an
  alternative's specifications run on the rows where its index has a value, see :mod:`pilotdid.study.index_variants`);
* ``sample`` — ``full``, ``drop_capitals`` (municipalities and provincial capitals, from the
  registry's city attributes or ``capital_column``), ``drop_YYYY`` or ``drop_YYYY_YYYY`` (periods);
* ``treatment_rule`` — registry treatment-year rules, e.g. ``approval_year``, ``next_year_if_after``
  (needs a ``registry =`` treatment);
* ``winsorize`` — percentages p: outcome and controls winsorised at p%/(100-p)% on the sample (0 = none;
  the number of values changed is in each row's ``winsorised_values``);
* ``vcov`` — SE presets (``lsdv``, ``areg``, ``xtreg_fe``, ``reghdfe``, ``fixest``);
* ``controls`` — ``study`` (the study's controls) and/or ``none``;
* ``estimator`` — ``twfe`` (default) and/or the heterogeneity-robust staggered estimators of the registry that
  give one overall ATT cheaply: ``sa``, ``bjs``, ``etwfe`` (simple aggregate, never-treated controls),
  ``stacked`` (WFH-weighted static, window [-3, 2]), ``cs`` (simple aggregate, never-treated controls, dr,
  propensity-score failures by outcome regression; balanced data variants only). They use their own
  (asymptotic, clustered) SEs: their rows carry SE preset ``own``, a normal p, and no placebo p (the placebo
  engine re-estimates TWFE). Data variants that differ only in the outcome (index method, weight pooling) share
  their design and are fitted together by the estimator's multi-outcome path (``outcome=[...]``): on CBEC's 240
  data variants sa/bjs/etwfe/stacked cost about 0.8/0.7/1.8/0.9 s CPU in all (benchmarks/results/multiverse.md);
* ``placebo_draws`` (default 99; takes precedence over ``draws``, which ``--draws`` sets),
  ``seed`` (the study seed), ``placebo_kind`` (``permute_cohorts``), ``capital_column``,
  ``max_specs`` (2000: a guard against a grid that explodes).

Every specification uses the same placebo seed (common random numbers), so specifications differ
only by their choices. With ``[model] weights`` every specification is weighted (TWFE and its placebo draws by
weighted FWL, the robust estimators with their weight options). Specifications run through :func:`pilotdid.parallel.map_tasks` with the
study's ``--jobs``/``--scheduler``; results do not depend on the backend. Each is estimated by
Frisch–Waugh–Lovell in numpy (the placebo engine's design), which equals a pyfixest refit; the SE
presets' small-sample factors and t degrees of freedom are those of :mod:`pilotdid.estimation.twfe`.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from pilotdid.design.samples import DROP_PERIODS_SAMPLE
from pilotdid.errors import PilotdidInputError
from pilotdid.i18n import counted, messages, msg
from pilotdid.report.specification_curve_tables import choice_value, specification_curve_tables
from pilotdid.study.context import FIRST_TREAT, AnalysisOutput, StudyContext
from pilotdid.study.options import check_analysis_options

WHERE = "[analyses.multiverse]"
#: SE preset label of a robust estimator's row: its own clustered asymptotic SE, not a TWFE preset
OWN_SE = "own"
DIMENSIONS = ("estimator", "index_system", "index_method", "pooling", "treatment_rule", "sample", "winsorize", "controls", "vcov")
LABELS = {
    "estimator": "Estimator", "index_system": "Index indicators", "index_method": "Index weights", "pooling": "Weight pooling",
    "treatment_rule": "Treatment year", "sample": "Sample", "winsorize": "Winsorised %", "controls": "Controls",
    "vcov": "SE preset",
}
ALPHA = 0.05
#: how a choice's value reads in tables and figures (kept under its old name for callers)
_value = choice_value


# ---------------------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------------------


def _as_list(options: dict, key: str, default: Any) -> list:
    value = options.get(key, default)
    values = value if isinstance(value, list) else [value]
    if not values:
        raise PilotdidInputError(f"{key} is an empty list", where=f"{WHERE} {key}", fix=f"give at least one value or remove {key}")
    if len(set(map(str, values))) != len(values):
        raise PilotdidInputError(f"{key} lists a value twice: {values!r}", where=f"{WHERE} {key}", fix="list each value once")
    return values


def parse_grid(ctx: StudyContext, options: dict[str, Any]) -> dict[str, list]:
    """The choices to vary, validated; each dimension's first value is listed as given."""
    from pilotdid.measures import METHODS, POOLINGS
    from pilotdid.study.spec import TREATMENT_RULES

    check_analysis_options("multiverse", options)
    spec = ctx.extras.get("spec")
    index_spec = getattr(spec, "index", None) or None
    treatment_spec = getattr(spec, "treatment", {}) or {}
    grid: dict[str, list] = {}
    # estimator, controls, vcov and placebo_kind take declared values (study/options.py, checked above); the checks
    # here are those no declaration expresses: values that depend on the study, samples, ranges, repeats
    grid["estimator"] = _as_list(options, "estimator", "twfe")
    for key, allowed, own in (("index_method", [m for m in METHODS if m != "pca"], "method"),
                              ("pooling", list(POOLINGS), "pooling")):
        if key in options and index_spec is None:
            raise PilotdidInputError(f"{key} needs an [index] section (the outcome is a panel column here)",
                                     where=f"{WHERE} {key}", fix=f"remove {key}, or build the outcome with [index]")
        grid[key] = _as_list(options, key, index_spec[own] if index_spec else "-")
        if index_spec:
            bad = [v for v in grid[key] if v not in allowed]
            if bad:
                raise PilotdidInputError(f"unknown {key} {bad[0]!r}", where=f"{WHERE} {key}", fix=f"use one of: {', '.join(allowed)}")
    if "index_system" in options and index_spec is None:
        raise PilotdidInputError("index_system needs an [index] section (the outcome is a panel column here)",
                                 where=f"{WHERE} index_system", fix="remove index_system, or build the outcome with [index]")
    grid["index_system"] = _as_list(options, "index_system", "study" if index_spec else "-")
    if index_spec:
        from pilotdid.study.index_variants import STUDY, alternatives

        known = [STUDY, *alternatives(spec)]
        bad = [v for v in grid["index_system"] if v not in known]
        if bad:
            raise PilotdidInputError(f"unknown index_system {bad[0]!r}", where=f"{WHERE} index_system",
                                     fix=f"use one of: {', '.join(known)} (alternatives are [index.alternatives.NAME])")
    registry = "registry" in treatment_spec
    if "treatment_rule" in options and not registry:
        raise PilotdidInputError("treatment_rule needs a registry treatment ([treatment] registry = ...)",
                                 where=f"{WHERE} treatment_rule", fix="remove treatment_rule")
    grid["treatment_rule"] = _as_list(options, "treatment_rule", treatment_spec.get("rule", "approval_year") if registry else "-")
    if registry:
        bad = [v for v in grid["treatment_rule"] if v not in TREATMENT_RULES]
        if bad:
            raise PilotdidInputError(f"unknown treatment_rule {bad[0]!r}", where=f"{WHERE} treatment_rule",
                                     fix=f"use one of: {', '.join(TREATMENT_RULES)}")
    grid["sample"] = _as_list(options, "sample", "full")
    for v in grid["sample"]:
        if v not in ("full", "drop_capitals") and not (isinstance(v, str) and DROP_PERIODS_SAMPLE.match(v)):
            raise PilotdidInputError(f"unknown sample {v!r}", where=f"{WHERE} sample",
                                     fix='use "full", "drop_capitals", "drop_2020" or "drop_2020_2021"')
    grid["winsorize"] = _as_list(options, "winsorize", 0)
    for v in grid["winsorize"]:
        if not 0 <= v < 50:
            raise PilotdidInputError(f"winsorize must list percentages in [0, 50), got {v!r}", where=f"{WHERE} winsorize",
                                     fix="e.g. winsorize = [0, 1, 5]")
    grid["controls"] = _as_list(options, "controls", "study")
    grid["vcov"] = _as_list(options, "vcov", ctx.model.vcov)
    return grid


# ---------------------------------------------------------------------------------------------------
# Data variants (built in this process; cheap)
# ---------------------------------------------------------------------------------------------------


def _index_values(ctx: StudyContext, method: str, pooling: str) -> pd.Series:
    """The study's index rebuilt with another method/pooling, aligned with ``ctx.panel``'s rows."""
    spec = ctx.extras["spec"]
    own = spec.index
    column = ctx.extras.get("index_column") or own["column"]
    if method == own["method"] and pooling == own["pooling"]:
        return ctx.panel[column]
    from pilotdid.measures import build_index
    from pilotdid.study.load import read_panel

    cache = ctx.extras.setdefault("_multiverse_raw", {})
    if "panel" not in cache:
        from pilotdid.study.index_variants import study_system

        source = spec.resolve(spec.data["panel"])
        raw = ctx.extras.get("raw_panel")  # the panel as the runner read it (a yearbook file arrives imported)
        raw = read_panel(source, spec.data.get("sheet"), text_columns=[spec.data["unit"]]) if raw is None else raw.copy()
        raw[ctx.time] = pd.to_numeric(raw[ctx.time], errors="coerce")
        if "years" in spec.data:
            first, last = spec.data["years"]
            raw = raw.loc[raw[ctx.time].between(first, last)].copy()
        raw[ctx.time] = raw[ctx.time].astype(int)
        system = study_system(spec, raw.columns)
        opts = {k: own[k] for k in ("shift", "drop_constant", "missing") if k in own}
        if str(source).startswith("builtin:"):
            from pilotdid.data import load_fill_mask

            opts["fill_mask"] = load_fill_mask()
        cache.update(panel=raw, system=system, options=opts)
    raw = cache["panel"]
    result = build_index(raw, cache["system"], method=method, pooling=pooling, unit=ctx.unit, time=ctx.time,
                         **cache["options"])
    values = pd.Series(np.asarray(result.index, dtype=float), index=pd.MultiIndex.from_arrays([raw[ctx.unit], raw[ctx.time]]))
    keys = pd.MultiIndex.from_arrays([ctx.panel[ctx.unit], ctx.panel[ctx.time]])
    out = pd.Series(values.reindex(keys).to_numpy(), index=ctx.panel.index)
    if out.isna().any():
        raise PilotdidInputError(f"the {method}/{pooling} index is missing for {int(out.isna().sum())} sample rows",
                                 where=f"{WHERE} index_method", fix="use methods that cover the study's sample")
    return out


def _first_treat(ctx: StudyContext, rule: str) -> pd.Series:
    """Adoption period per row under a registry rule (0 = not treated in the window)."""
    spec = ctx.extras.get("spec")
    own = spec.treatment if spec is not None else {}
    if rule == "-" or rule == own.get("rule"):
        return ctx.panel[FIRST_TREAT]
    from pilotdid.registry.treatment import assign_treatment

    kwargs = {k: own[k] for k in ("batches", "cutoff_month", "lag", "county_rule", "allow_unverified", "allow_unmatched")
              if k in own}
    if rule == "lag":
        kwargs.setdefault("lag", 1)
    assignment = assign_treatment(ctx.panel[[ctx.unit, ctx.time]], ctx.unit, ctx.time, own["registry"], rule=rule, **kwargs)
    return ctx.panel[ctx.unit].map(assignment.first_treat).fillna(0).astype(int)


def _capital_mask(ctx: StudyContext, options: dict) -> pd.Series:
    from pilotdid.study.analyses.robustness import capital_flag

    flag, source = capital_flag(ctx, {k: options[k] for k in ("capital_column",) if k in options})
    if flag is None:
        raise PilotdidInputError(f"drop_capitals is not available: {source}", where=f"{WHERE} sample",
                                 fix="give capital_column = a boolean panel column, or remove drop_capitals")
    return flag


def _sample_rows(ctx: StudyContext, sample: str, options: dict, cache: dict) -> tuple[np.ndarray, str]:
    if sample in cache:
        return cache[sample]
    panel = ctx.panel
    if sample == "full":
        keep, note = np.ones(len(panel), dtype=bool), "all rows"
    elif sample == "drop_capitals":
        flag = _capital_mask(ctx, options).to_numpy(bool)
        units = set(panel.loc[flag, ctx.unit])
        keep = ~panel[ctx.unit].isin(units).to_numpy()
        note = msg("multiverse.note.capitals_dropped", ctx.lang, n=len(units), rows=int((~keep).sum()))
    else:
        m = DROP_PERIODS_SAMPLE.match(sample)
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        keep = ~panel[ctx.time].between(first, last).to_numpy()
        note = msg("multiverse.note.periods_dropped", ctx.lang, first=first, last=last, rows=int((~keep).sum()))
    cache[sample] = (keep, note)
    return keep, note


def build_tasks(ctx: StudyContext, options: dict[str, Any], grid: dict[str, list]) -> tuple[list[dict], list[str]]:
    """One task per data variant (all choices but the SE preset); each lists its SE presets."""
    from pilotdid.estimation.twfe.covariance import get_preset

    draws = options.get("placebo_draws", options.get("draws", 99))  # integers >= 0 (declared, checked in parse_grid)
    seed = options.get("seed", ctx.seed)
    kind = options.get("placebo_kind", "permute_cohorts")
    m = ctx.model
    notes: list[str] = []
    outcome_cache: dict[tuple, pd.Series] = {}
    treat_cache: dict[str, pd.Series] = {}
    sample_cache: dict[str, tuple] = {}
    frame_cache: dict[tuple, pd.DataFrame] = {}
    cluster = m.cluster
    base_cols = [ctx.unit, ctx.time, *m.controls, *[f for f in m.fixed_effects if f not in (ctx.unit, ctx.time)]]
    if cluster and cluster not in base_cols:
        base_cols.append(cluster)
    if m.weights and m.weights not in base_cols:  # [model] weights: every specification is weighted alike
        base_cols.append(m.weights)
    tasks = []
    recoded: dict[tuple[str, str], int] = {}
    variant_notes: dict[str, str] = {}
    repeated: dict[str, int] = {}
    dims = [d for d in DIMENSIONS if d != "vcov"]
    for combo in itertools.product(*(grid[d] for d in dims)):
        choice = dict(zip(dims, combo))
        key = (choice["index_method"], choice["pooling"], choice["index_system"])
        if key not in outcome_cache:
            if choice["index_system"] not in ("-", "study"):
                from pilotdid.study.index_variants import variant_index

                variant = variant_index(ctx, choice["index_system"], method=key[0], pooling=key[1])
                outcome_cache[key] = variant.values
                if variant.name not in variant_notes:
                    variant_notes[variant.name] = (
                        f"Index system '{variant.name}' ({variant.label}): {len(variant.indicators)} indicators, "
                        f"{variant.years[0]}-{variant.years[1]}; its specifications use the "
                        f"{int(variant.values.notna().sum())} sample rows where it has a value.")
            else:
                outcome_cache[key] = (_index_values(ctx, *key[:2]) if ctx.extras.get("spec") is not None
                                      and ctx.extras["spec"].index and key[:2] != ("-", "-") else ctx.panel[m.outcome])
        if choice["treatment_rule"] not in treat_cache:
            treat_cache[choice["treatment_rule"]] = _first_treat(ctx, choice["treatment_rule"])
        keep, _ = _sample_rows(ctx, choice["sample"], options, sample_cache)
        has_outcome = outcome_cache[key].notna().to_numpy()
        if choice["sample"] != "full" and not (has_outcome & ~keep).any():
            # the sample cut removes no row this outcome has (e.g. drop_2020 for an index that ends in 2017): the
            # specification would repeat the full-sample one and count twice in the curve's shares
            repeated[choice["index_system"]] = repeated.get(choice["index_system"], 0) + 1
            continue
        frame_key = (key, choice["treatment_rule"], choice["sample"])
        if frame_key not in frame_cache:  # the variant's rows and columns (winsorising is the task's, in the worker)
            keep = keep & has_outcome
            frame = ctx.panel.loc[keep, list(dict.fromkeys(base_cols))].copy()
            frame["_y"] = outcome_cache[key].loc[keep].to_numpy(float)
            ft = treat_cache[choice["treatment_rule"]].loc[keep].to_numpy(int)
            last = int(frame[ctx.time].max())
            late = ft > last  # adoption after the sample's last period: untreated in the window (counted below)
            if late.any():
                recoded[(choice["sample"], choice["treatment_rule"])] = int(frame.loc[late, ctx.unit].nunique())
            ft = np.where(late, 0, ft)
            frame["_ft"] = ft
            frame["_d"] = ((ft > 0) & (frame[ctx.time].to_numpy() >= ft)).astype(float)
            if cluster is None:
                frame["_cl"] = np.arange(len(frame))
            frame_cache[frame_key] = frame
        frame = frame_cache[frame_key]  # shared by the variant's tasks (estimators, winsorising, controls): read only
        controls = list(m.controls) if choice["controls"] == "study" else []
        tasks.append({
            "choice": choice, "frame": frame, "unit": ctx.unit, "time": ctx.time, "controls": controls,
            "fixed_effects": list(m.fixed_effects), "cluster": cluster or "_cl", "vcovs": list(grid["vcov"]),
            "draws": draws, "seed": seed, "kind": kind, "weights": m.weights,
            "singleton_rules": list(dict.fromkeys(bool(get_preset(v).drop_singletons) for v in grid["vcov"])),
        })
    notes.extend(variant_notes.values())
    for system_name, n in repeated.items():
        notes.append(msg("template.note.index_variants", "en", s=system_name, n=n))
    for sample, (keep, note) in sample_cache.items():
        notes.append(msg("multiverse.note.sample", ctx.lang, sample=sample, note=note))
    for (sample, rule), n_units in recoded.items():
        notes.append(msg("multiverse.note.late", ctx.lang, sample=sample, rule=rule, n=n_units))
    return tasks, notes


# ---------------------------------------------------------------------------------------------------
# Batches of tasks (one design, several outcomes)
# ---------------------------------------------------------------------------------------------------

#: robust estimators whose multi-outcome path fits several outcomes on one design (``outcome=[...]``)
BATCHED_ESTIMATORS = ("sa", "bjs", "etwfe", "stacked", "cs")


def _same_design(a: dict, b: dict) -> bool:
    """Two data variants that differ only in the outcome: the same rows, adoption years, controls, clusters, weights."""
    fa, fb = a["frame"], b["frame"]
    if a["controls"] != b["controls"] or not fa.index.equals(fb.index) or list(fa.columns) != list(fb.columns):
        return False
    return all(fa[c].equals(fb[c]) for c in fa.columns if c != "_y")


def batch_tasks(tasks: list[dict]) -> list[list[dict]]:
    """The tasks in work units, in task order within each: a robust estimator's data variants that share their
    design (those differing only in the index method or weight pooling, i.e. in the outcome column) are one unit,
    fitted by the estimator's multi-outcome path; every other task is a unit of its own."""
    units: list[list[dict]] = []
    open_units: dict[tuple, list[list[dict]]] = {}
    for task in tasks:
        choice = task["choice"]
        if choice["estimator"] not in BATCHED_ESTIMATORS:
            units.append([task])
            continue
        key = tuple((d, str(v)) for d, v in choice.items() if d not in ("index_method", "pooling"))
        for unit in open_units.setdefault(key, []):
            if _same_design(unit[0], task):
                unit.append(task)
                break
        else:
            units.append([task])
            open_units[key].append(units[-1])
    return units


def run_batch(batch: list[dict]) -> list[dict[bool, dict[str, Any]]]:
    """:func:`run_task` of each task of a work unit; a unit of several data variants of one robust estimator is
    fitted on one design (the outcome columns side by side)."""
    if len(batch) == 1:
        return [run_task(batch[0])]
    # the controls are the batch's (winsorised once), each outcome its own; winsorising treats columns one by one
    shared, controls_changed = _winsorised(batch[0], batch[0]["controls"])
    frames, winsorised = [], []
    for task in batch:
        outcome, outcome_changed = _winsorised(task, ["_y"])
        frames.append(shared.assign(_y=outcome["_y"].to_numpy()))
        winsorised.append(controls_changed + outcome_changed)
    return [{"robust": {**estimate, "winsorised_values": count}}
            for estimate, count in zip(robust_estimates(batch[0], frames), winsorised)]


# ---------------------------------------------------------------------------------------------------
# One task (runs in a worker)
# ---------------------------------------------------------------------------------------------------


def _winsorised(task: dict, columns: list[str] | None = None) -> tuple[pd.DataFrame, int]:
    """The task's frame with ``columns`` (default: its outcome and controls) winsorised as its choice says, and the
    number of values changed."""
    from pilotdid.design.winsorize import winsorize

    frame = task["frame"]
    columns = ["_y", *task["controls"]] if columns is None else columns
    if not task["choice"]["winsorize"] or not columns:
        return frame, 0
    p = float(task["choice"]["winsorize"]) / 100
    frame, counts = winsorize(frame, columns, p, 1 - p)
    return frame, int(counts["n_changed"].sum())


def run_task(task: dict) -> dict[bool, dict[str, Any]]:
    """Estimate one data variant: for each singleton rule its coefficient, the CRV1 SE before any
    small-sample factor, the counts the SE presets need, and the placebo p (from the first rule).

    Runs in a worker; it needs only numpy, pandas and the placebo engine (the SE presets, which
    import pyfixest, are applied afterwards in the main process by :func:`apply_presets`).
    """
    from pilotdid.inference.placebo import PlaceboDesign

    frame, winsorised = _winsorised(task)
    if task["choice"]["estimator"] != "twfe":
        return {"robust": {**robust_estimate(task, frame), "winsorised_values": winsorised}}
    out: dict[bool, dict[str, Any]] = {}
    placebo_p = None
    reusable = None
    for flag in sorted(task["singleton_rules"], reverse=True):  # dropping singletons first
        if reusable is not None:
            design = reusable  # no singleton was dropped: both rules give the same design
        else:
            design = PlaceboDesign.prepare(
                frame, outcome="_y", unit=task["unit"], time=task["time"], first_treat="_ft", treatment="_d",
                controls=task["controls"], fixed_effects=task["fixed_effects"], cluster=task["cluster"],
                drop_singletons=flag, weights=task.get("weights"),
            )
            if flag and design.nobs == int(frame[["_y", *task["controls"]]].notna().all(axis=1).sum()):
                reusable = design
        coef, se = design.estimate(design.actual_treatment[:, None].copy(), 1.0)
        if placebo_p is None and task["draws"] > 0:
            placebo_p = design.run(kind=task["kind"], draws=task["draws"], seed=task["seed"],
                                   ssc_factor=1.0).p_two_sided
        out[flag] = {"coef": float(coef[0]), "se_raw": float(se[0]), "nobs": design.nobs,
                     "levels": tuple(design.fe_levels), "nested": tuple(design.fe_nested),
                     "n_clusters": design.n_clusters, "treated_units": int((design.unit_first_treat > 0).sum()),
                     "placebo_p": placebo_p, "winsorised_values": winsorised}
    return out


def robust_estimate(task: dict, frame: pd.DataFrame) -> dict[str, Any]:
    """One heterogeneity-robust estimator's overall ATT and its own SE on a data variant (see the options)."""
    return robust_estimates(task, [frame])[0]


def robust_estimates(task: dict, frames: list[pd.DataFrame]) -> list[dict[str, Any]]:
    """:func:`robust_estimate` of each of ``frames``, data variants of ``task`` that differ only in their outcome
    column ``_y``: several are fitted at once by the estimator's multi-outcome path (one design, the outcomes side
    by side); where that fails, each on its own, so that every row keeps its own error."""
    name = task["choice"]["estimator"]
    controls = list(task["controls"])
    unit = task["unit"]
    if len(frames) == 1:
        frame, outcome = frames[0].dropna(subset=["_y", *controls]), "_y"
    else:
        outcome = [f"_y{k}" for k in range(len(frames))]
        frame = frames[0].drop(columns="_y").assign(**{o: f["_y"].to_numpy() for o, f in zip(outcome, frames)})
    kw = dict(outcome=outcome, unit=unit, time=task["time"], first_treat="_ft", weights=task.get("weights"))
    cluster = None if task["cluster"] in ("_cl", unit) else task["cluster"]  # default: by unit
    try:
        if name == "sa":
            from pilotdid.estimation.staggered.sa import sun_abraham

            found = [(r.att, r.se) for r in _results(sun_abraham(frame, **kw, covariates=controls,
                                                                 cluster=cluster or unit))]
        elif name == "bjs":
            from pilotdid.estimation.staggered.bjs import imputation

            found = [(r.att, r.se) for r in _results(imputation(frame, **kw, covariates=controls, cluster=cluster))]
        elif name == "etwfe":
            from pilotdid.estimation.staggered.etwfe import etwfe

            found = [(float(r.aggregates["simple"]["att"].iloc[0]), float(r.aggregates["simple"]["se"].iloc[0]))
                     for r in _results(etwfe(frame, **kw, covariates=controls, control_group="never",
                                             cluster=cluster))]
        elif name == "stacked":
            from pilotdid.estimation.staggered.stacked import stacked_did

            stacks = _results(stacked_did(frame, **kw, window=STACKED_WINDOW, covariates=controls, cluster=cluster))
            found = [(r.static_att, r.static_se) for r in stacks]
            # the treated units inside a sub-experiment whose window fits, not every ever-treated unit of the variant
            in_stack = [int(r.sub_experiments["treated_units"].sum()) for r in stacks]
        else:
            from pilotdid.estimation.staggered import cs

            found = [(agg.att, agg.se) for agg in (
                r.aggregate("simple") for r in _results(cs.att_gt(frame, **kw, covariates=controls,
                                                                  control_group="never_treated", est_method="dr",
                                                                  ps_fallback="reg", cluster=cluster)))]
    except PilotdidInputError as err:  # e.g. cs on an unbalanced data variant: the row is kept, empty, and counted
        if len(frames) > 1:
            return [robust_estimate(task, f) for f in frames]
        why = str(err).splitlines()[0]
        if name == "stacked" and not _stacked_window_fits(frame, task["time"]):
            why = STACKED_WINDOW_FAILURE  # named in the report's language (the estimator's message is English)
        return [{"coef": float("nan"), "se": float("nan"), "nobs": len(frame), "error": why,
                 "treated_units": int(frame.loc[frame["_ft"] > 0, unit].nunique())}]
    out = []
    for k, ((coef, se), f) in enumerate(zip(found, frames)):
        used = f[["_y", *controls]].notna().all(axis=1).to_numpy()
        treated = int(f.loc[used & (f["_ft"].to_numpy() > 0), unit].nunique())
        out.append({"coef": float(coef), "se": float(se), "nobs": int(used.sum()), "error": None,
                    "treated_units": in_stack[k] if name == "stacked" else treated})
    return out


#: the stacked estimator's window in the curve, and the catalogue key of "no cohort's window fits the variant's years"
STACKED_WINDOW = (-3, 2)
STACKED_WINDOW_FAILURE = "multiverse.failure.stacked_window"


def _stacked_window_fits(frame: pd.DataFrame, time: str) -> bool:
    """Whether some adoption cohort's whole event window lies inside the data variant's periods, as stacked DID
    needs (:func:`pilotdid.estimation.staggered.stacked.build_stack`)."""
    periods = frame[time].to_numpy(float)
    cohorts = np.unique(frame["_ft"].to_numpy(float))
    lo, hi = STACKED_WINDOW
    return bool(len(periods)) and any(a > 0 and a + lo >= periods.min() and a + hi <= periods.max() for a in cohorts)


def _results(result) -> list:
    """An estimator's result(s) as a list (one outcome gives one result, a list of outcomes a list)."""
    return result if isinstance(result, list) else [result]


def apply_presets(task: dict, raw: dict[bool, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per SE preset: the preset's small-sample factor, SE, t df, p and 95% CI."""
    from scipy import stats

    from pilotdid.estimation.twfe.covariance import FixedEffectDesign, get_preset

    if "robust" in raw:  # its own SE: one row, normal p and CI
        r = raw["robust"]
        coef, se = r["coef"], r["se"]
        z = float(stats.norm.ppf(1 - ALPHA / 2))
        return [{**task["choice"], "vcov": OWN_SE, "coef": coef, "se": se, "t": coef / se,
                 "p": float(2 * stats.norm.sf(abs(coef / se))), "ci_low": coef - z * se, "ci_high": coef + z * se,
                 "t_df": None, "ssc_factor": None, "nobs": r["nobs"], "n_clusters": None,
                 "treated_units": r["treated_units"], "winsorised_values": r["winsorised_values"],
                 "placebo_p": None, "placebo_draws": 0, "estimator_error": r["error"]}]
    rows = []
    placebo_p = raw[task["singleton_rules"][0]]["placebo_p"]
    for vcov in task["vcovs"]:
        preset = get_preset(vcov)
        r = raw[bool(preset.drop_singletons)]
        k = preset.count_k(FixedEffectDesign(n_slopes=1 + len(task["controls"]), levels=r["levels"], nested=r["nested"]))
        factor = preset.small_sample_factor(r["nobs"], k, r["n_clusters"])
        coef, se = r["coef"], r["se_raw"] * float(np.sqrt(factor))
        df = preset.t_df(r["nobs"], k, r["n_clusters"])
        crit = float(stats.t.ppf(1 - ALPHA / 2, df))
        rows.append({
            **task["choice"], "vcov": vcov, "coef": coef, "se": se, "t": coef / se,
            "p": float(2 * stats.t.sf(abs(coef / se), df)), "ci_low": coef - crit * se, "ci_high": coef + crit * se,
            "t_df": int(df), "ssc_factor": factor, "nobs": r["nobs"], "n_clusters": r["n_clusters"],
            "treated_units": r["treated_units"], "winsorised_values": r["winsorised_values"],
            "placebo_p": placebo_p, "placebo_draws": task["draws"],
        })
    return rows


# ---------------------------------------------------------------------------------------------------
# The analysis
# ---------------------------------------------------------------------------------------------------


def summarise(table: pd.DataFrame) -> dict[str, Any]:
    """Shares over all specifications (significance: the analytic two-sided p < 0.05)."""
    sig = table["p"] < ALPHA
    pos = table["coef"] > 0
    out = {
        "n_specs": int(len(table)), "share_positive": float(pos.mean()),
        "share_positive_significant": float((pos & sig).mean()), "share_negative_significant": float((~pos & sig).mean()),
        "share_significant": float(sig.mean()), "median_coef": float(table["coef"].median()),
        "min_coef": float(table["coef"].min()), "max_coef": float(table["coef"].max()), "alpha": ALPHA,
    }
    placebo = table["placebo_p"].dropna()
    if len(placebo):  # placebo p exists for the TWFE rows only
        out["share_placebo_p_below_alpha"] = float((placebo < ALPHA).mean())
    if table["estimator"].nunique() > 1:
        out["by_estimator"] = {
            str(name): {"n_specs": int(len(sub)), "share_positive": float((sub["coef"] > 0).mean()),
                        "share_positive_significant": float(((sub["coef"] > 0) & (sub["p"] < ALPHA)).mean()),
                        "median_coef": float(sub["coef"].median())}
            for name, sub in table.groupby("estimator", sort=True)}
    return out


def run(ctx: StudyContext, options: dict[str, Any]) -> AnalysisOutput:
    from pilotdid.parallel import describe_backend
    from pilotdid.report.figures.specification_curve import specification_curve_figure

    grid = parse_grid(ctx, options)
    # rows of the curve: a TWFE data variant gives one per SE preset, a robust estimator's one (its own SE)
    n_rows_per_variant = sum(len(grid["vcov"]) if e == "twfe" else 1 for e in grid["estimator"])
    n_specs = n_rows_per_variant * int(np.prod([len(v) for d, v in grid.items() if d not in ("estimator", "vcov")]))
    max_specs = options.get("max_specs", 2000)
    if n_specs > max_specs:
        raise PilotdidInputError(f"the grid has {n_specs} specifications, more than max_specs = {max_specs}",
                                 where=WHERE, fix="list fewer choices, or raise max_specs")
    tasks, notes = build_tasks(ctx, options, grid)
    scheduler = ctx.extras.get("scheduler")
    batches = batch_tasks(tasks)
    batch_results = _run_batches(batches, ctx.jobs, scheduler,
                                 lambda done, total: ctx.progress("multiverse", done, total))
    results = [raw for raws in batch_results for raw in raws]
    tasks = [task for batch in batches for task in batch]
    rows = [row for task, raw in zip(tasks, results) for row in apply_presets(task, raw)]
    table = pd.DataFrame(rows)
    if "estimator_error" in table:
        failed = table["estimator_error"].notna()
        if failed.any():
            for (est, why), n in table.loc[failed].groupby(["estimator", "estimator_error"]).size().items():
                if why == STACKED_WINDOW_FAILURE:
                    why = msg(why, ctx.lang, lo=STACKED_WINDOW[0], hi=STACKED_WINDOW[1])
                notes.append(msg("multiverse.note.estimator_failed", ctx.lang, est=choice_value(est, ctx.lang), n=n,
                                 why=why))
            table = table.loc[~failed].reset_index(drop=True)
        table = table.drop(columns="estimator_error")
    # the count of the rows the curve shows (a specification that could not be estimated is not one of them)
    notes.insert(0, msg(counted("multiverse.note.count", len(table)), ctx.lang, n=len(table), draws=tasks[0]["draws"],
                        seed=tasks[0]["seed"],
                        kind=messages("figure.placebo.kind", ctx.lang).get(tasks[0]["kind"], tasks[0]["kind"])))
    if (table["vcov"] == OWN_SE).any():
        grid = {**grid, "vcov": [*grid["vcov"], OWN_SE]}
        notes.append(msg("multiverse.note.robust_estimators", ctx.lang, own=choice_value(OWN_SE, ctx.lang),
                         cs="/".join(choice_value(e, ctx.lang) for e in ("cs", "etwfe")),
                         stacked=choice_value("stacked", ctx.lang),
                         estimators=msg("multiverse.list_separator", ctx.lang).join(
                             choice_value(e, ctx.lang) for e in grid["estimator"] if e != "twfe")))
    varied = [d for d in DIMENSIONS if len(grid[d]) > 1]
    own = _own_choice(ctx, grid)
    table["study_spec"] = np.all([table[d].astype(str) == str(v) for d, v in own.items()], axis=0)
    table = table.sort_values("coef", kind="mergesort").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    summary = summarise(table)
    summary["varied"] = varied
    summary["backend"] = describe_backend(ctx.jobs, scheduler)
    study_row = table.loc[table["study_spec"]]
    if len(study_row):
        summary["study_spec_rank"] = int(study_row["rank"].iloc[0])
        summary["study_spec_coef"] = float(study_row["coef"].iloc[0])
    if len(grid["index_method"]) > 1 or len(grid["pooling"]) > 1:
        notes.append(msg("multiverse.note.scales", ctx.lang))
    labels = dimension_labels(ctx.lang)
    notes += [
        msg("multiverse.note.varied", ctx.lang,
            choices=msg("multiverse.list_separator", ctx.lang).join(f"{labels[d]} ({len(grid[d])})" for d in varied)
            or msg("multiverse.none", ctx.lang)),
        msg("multiverse.note.significance", ctx.lang, alpha=ALPHA),
        msg("multiverse.note.backend", ctx.lang, backend=summary["backend"]),
        msg(counted("multiverse.note.shares", summary["n_specs"]), ctx.lang, pos=summary["share_positive"], n=summary["n_specs"],
            sig=summary["share_positive_significant"], median=summary["median_coef"]),
    ]
    tables = specification_curve_tables(table, summary, grid=grid, varied=varied, own=own, notes=notes,
                                        labels=labels, lang=ctx.lang, alpha=ALPHA, own_se=OWN_SE)
    figure = specification_curve_figure(table, dimensions=varied or ["vcov"], labels=labels, lang=ctx.lang,
                                        alpha=ALPHA, levels=grid,
                                        value_labels={str(v): choice_value(v, ctx.lang) for d in grid for v in grid[d]})
    records = table.replace({np.nan: None}).to_dict(orient="records")
    return AnalysisOutput(
        results={"multiverse": {"summary": summary, "grid": {d: [str(v) for v in grid[d]] for d in DIMENSIONS},
                                "specifications": records}},
        tables=tables, figures={"specification_curve": figure}, notes=notes,
    )


#: estimators that fit through pyfixest (whose native thread pool does not survive fork(): see
#: :func:`pilotdid.estimation.fixest.fork_safe_for_fits`)
PYFIXEST_ESTIMATORS = ("sa", "etwfe", "stacked")


def _run_batches(batches: list[list[dict]], jobs: int, scheduler: str | None, progress) -> list[list]:
    """:func:`run_batch` of every work unit on the study's backend. With local worker processes forked after a
    pyfixest fit in this process (e.g. the baseline ran before), the pyfixest-based estimators' units run here
    instead (a forked worker would hang; results do not depend on where a unit runs)."""
    from pilotdid.estimation.fixest import fork_safe_for_fits
    from pilotdid.parallel import map_tasks, one_blas_thread

    here = [k for k, batch in enumerate(batches) if batch[0]["choice"]["estimator"] in PYFIXEST_ESTIMATORS]
    if jobs == 1 or scheduler is not None or fork_safe_for_fits() or not here:
        return map_tasks(run_batch, batches, jobs=jobs, scheduler=scheduler, progress=progress)
    elsewhere = sorted(set(range(len(batches))) - set(here))
    results: list = [None] * len(batches)
    for k, raw in zip(elsewhere, map_tasks(run_batch, [batches[k] for k in elsewhere], jobs=jobs,
                                            progress=lambda done, _: progress(done, len(batches)))):
        results[k] = raw
    with one_blas_thread():
        for done, k in enumerate(here, len(elsewhere) + 1):
            results[k] = run_batch(batches[k])
            progress(done, len(batches))
    return results


def dimension_labels(lang: str = "en") -> dict[str, str]:
    """The varied choices' names in ``lang`` (catalogue ``multiverse.dimension``)."""
    return {d: messages("multiverse.dimension", lang).get(d, LABELS.get(d, d)) for d in DIMENSIONS}


def _own_choice(ctx: StudyContext, grid: dict[str, list]) -> dict[str, Any]:
    spec = ctx.extras.get("spec")
    index_spec = getattr(spec, "index", None) or {}
    treatment_spec = getattr(spec, "treatment", {}) or {}
    own = {"estimator": "twfe", "index_system": "study" if index_spec else "-",
           "index_method": index_spec.get("method", "-"), "pooling": index_spec.get("pooling", "-"),
           "treatment_rule": treatment_spec.get("rule", "-") if "registry" in treatment_spec else "-",
           "sample": "full", "winsorize": 0, "controls": "study", "vcov": ctx.model.vcov}
    return own
