"""Run a study: validate the panel, build the index, assign treatment, run each analysis.

``run_study`` returns a :class:`StudyRun` held in memory; :mod:`pilotdid.report.output` writes it.
Nothing here prints or writes files; progress goes through the ``log`` and ``progress`` callbacks.
"""

from __future__ import annotations

import importlib
import os
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.twfe.covariance import DEFAULT_VCOV
from pilotdid.report.labels import humanise_table
from pilotdid.report.numbers import PublishedNumber
from pilotdid.study.context import FIRST_TREAT, TREAT, AnalysisOutput, ModelSpec, StudyContext
from pilotdid.study.load import check_ids, read_panel, refuse_full_width_numbers, require_columns, require_numeric
from pilotdid.study.options import MAX_DRAWS
from pilotdid.study.spec import StudySpec
from pilotdid.study.treatment import setup_treatment


class AnalysisError(RuntimeError):
    """An analysis failed for a reason that is not the user's input: the message names the analysis."""


@dataclass
class Overrides:
    """Command-line options that override the study file."""

    draws: int | None = None
    seed: int | None = None
    lang: str | None = None
    jobs: int = 1
    #: None (local: --jobs processes), "dask" (a dask.distributed LocalCluster) or "tcp://HOST:PORT"
    scheduler: str | None = None
    #: figure file formats; None = the study's [figures] formats
    figure_formats: tuple[str, ...] | None = None


@dataclass
class StudyRun:
    spec: StudySpec
    context: StudyContext
    outputs: dict[str, AnalysisOutput]
    data_summary: dict[str, Any]
    input_files: list[Path]
    started: float
    finished: float
    timings: dict[str, float] = field(default_factory=dict)
    overrides: Overrides = field(default_factory=Overrides)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds, so messages read 3, not np.int64(3)."""
    return value.item() if isinstance(value, np.generic) else value


def _noop_log(message: str) -> None:
    return None


def run_study(
    spec: StudySpec,
    overrides: Overrides | None = None,
    *,
    log: Callable[[str], None] = _noop_log,
    progress: Callable[[str, int, int], None] | None = None,
) -> StudyRun:
    overrides = overrides or Overrides()
    started = _time.time()
    where_study = str(spec.path) if spec.path else "study file"
    if overrides.draws is not None and overrides.draws < 1:
        raise PilotdidInputError(f"--draws must be a positive integer, got {overrides.draws}", where="command line", fix="use e.g. --draws 1000")
    # seeds feed numpy's SeedSequence, which takes non-negative integers only
    if overrides.seed is not None and (overrides.seed < 0 or overrides.seed >= 2**63):
        raise PilotdidInputError(f"--seed must be an integer from 0 to 2**63-1, got {overrides.seed}", where="command line",
                                 fix=f"use e.g. --seed {spec.seed if 0 <= spec.seed < 2**63 else 12345}")
    if not 0 <= spec.seed < 2**63:
        raise PilotdidInputError(f"[study] seed must be an integer from 0 to 2**63-1, got {spec.seed}", where=where_study,
                                 fix="write e.g. seed = 12345")
    if overrides.draws is not None and overrides.draws > MAX_DRAWS:
        raise PilotdidInputError(f"--draws {overrides.draws} is above the limit of {MAX_DRAWS:,} draws", where="command line",
                                 fix=f"use at most {MAX_DRAWS:,} (10,000 already gives p-values to about 0.002)")
    seed = overrides.seed if overrides.seed is not None else spec.seed
    lang = overrides.lang or spec.lang

    # every analysis option checked against its declaration before any data is read
    from pilotdid.study.options import check_study_options

    check_study_options(spec.analyses)

    if spec.model.get("weights"):  # refused from the study file alone, before the panel is read
        _check_weighted_analyses(spec)

    # --- panel -----------------------------------------------------------------------------------
    source = spec.resolve(spec.data["panel"])
    where = str(source)
    log(f"reading panel {where}")
    unit, time = spec.data["unit"], spec.data["time"]
    yearbook_import = None
    if spec.data.get("yearbook"):
        # a city-yearbook panel (中国城市统计年鉴): headers recognised, units converted, cities mapped (data import)
        from pilotdid.data.importer import import_yearbook

        if str(source).startswith("builtin:"):
            raise PilotdidInputError("[data] yearbook = true needs a panel file, not a builtin panel", where=where,
                                     fix="point [data] panel to your yearbook file, or remove yearbook")
        yearbook_import = import_yearbook(source, spec.data.get("sheet"))
        panel = yearbook_import.panel
    else:
        panel = read_panel(source, spec.data.get("sheet"), text_columns=[unit])
    input_files = [Path(source)] if not str(source).startswith("builtin:") else _builtin_files()
    model = spec.model
    index_column = spec.index["column"] if spec.index else None

    needed = {unit: "[data] unit", time: "[data] time"}
    if model["outcome"] != index_column:
        needed[model["outcome"]] = "[model] outcome"
    # the first key naming a column is the one reported (a missing unit column is "[data] unit", not the
    # defaulted "[model] cluster")
    for c in model["controls"]:
        needed.setdefault(c, "[model] controls")
    for c in model["fixed_effects"]:
        if c != index_column:
            needed.setdefault(c, "[model] fixed_effects")
    if model.get("cluster"):
        needed.setdefault(model["cluster"], "[model] cluster")
    if model.get("weights"):
        needed.setdefault(model["weights"], "[model] weights")
    for form in ("column", "first_treat"):
        if form in spec.treatment:
            needed.setdefault(spec.treatment[form], f"[treatment] {form}")
    require_columns(panel, needed, where)
    # a fixed-effect or cluster column of text ids ('浙江省 ', a full-width spelling) would silently split a group
    for column in dict.fromkeys([*model["fixed_effects"], model.get("cluster")]):
        if column and column not in (unit, time, index_column) and not pd.api.types.is_numeric_dtype(panel[column]):
            check_ids(panel[column], column, where, kind="group")

    panel = _check_keys(require_numeric(panel.copy(), [time], where), unit, time, where)
    raw_panel = panel  # every year, before the window: index alternatives and the indicator coverage read it

    # the panel as the study file names it (relative to the study file), so results.json is the same in any folder
    summary: dict[str, Any] = {"panel_source": str(spec.data["panel"]), "rows_read": int(len(panel)), "units_read": int(panel[unit].nunique())}
    notes: list[str] = []
    if yearbook_import is not None:
        summary["yearbook_import"] = {
            "layout": yearbook_import.layout, "present": yearbook_import.present, "absent": yearbook_import.absent,
            "unmatched_names": int(len(yearbook_import.unmatched)), "fuzzy_matches": int(len(yearbook_import.fuzzy_matches)),
            "unrecognised_columns": list(yearbook_import.unrecognised.column),
        }
        notes.append(f"Yearbook panel imported ({yearbook_import.layout}): {len(yearbook_import.present)} indicators "
                     f"recognised; {len(yearbook_import.unmatched)} city names unmatched and "
                     f"{len(yearbook_import.fuzzy_matches)} to review (pilotdid data import writes the tables); "
                     f"unrecognised columns kept: {', '.join(yearbook_import.unrecognised.column) or 'none'}.")
        notes.extend(n for n in yearbook_import.notes if "rows whose city did not resolve" in n)

    if "years" in spec.data:
        first, last = spec.data["years"]
        keep = panel[time].between(first, last)
        if not keep.any():
            raise PilotdidInputError(
                f"no rows in years {first}-{last} (the panel covers {panel[time].min()}-{panel[time].max()})",
                where=where_study, fix="change [data] years",
            )
        summary["rows_outside_years"] = int((~keep).sum())
        notes.append(f"Sample years {first}-{last}: {int((~keep).sum())} rows outside the window left out.")
        panel = panel.loc[keep].copy()

    # --- index (outcome built from indicators) -----------------------------------------------------
    index_result = None
    indicator_coverage_table = None
    if spec.index:
        from pilotdid.measures import build_index
        from pilotdid.measures.system import load_indicator_system

        log(f"building the {spec.index['method']} index '{index_column}' ({spec.index['pooling']})")
        system_ref = spec.index["system"]
        system_path = spec.resolve(system_ref) if system_ref.endswith(".toml") else system_ref
        from pilotdid.study.index_variants import study_system

        system = study_system(spec, panel.columns)
        options = {k: spec.index[k] for k in ("shift", "drop_constant", "missing") if k in spec.index}
        if str(source).startswith("builtin:"):
            from pilotdid.data import load_fill_mask

            options["fill_mask"] = load_fill_mask()
        index_result = build_index(panel, system, method=spec.index["method"], pooling=spec.index["pooling"], unit=unit, time=time, **options)
        from pilotdid.study.index_variants import COVERAGE_TEXT_COLUMNS, alternatives, indicator_coverage

        alternatives(spec)  # validated before any analysis runs
        full_system = load_indicator_system(system_path)
        if any(ind.published_weight is not None for ind in full_system.indicators):
            coverage_frame, coverage_notes = indicator_coverage(
                raw_panel, full_system, system, unit=unit, time=time,
                window=tuple(spec.data["years"]) if "years" in spec.data else None, lang=lang,
                unit_noun=spec.unit_noun)
            from pilotdid.i18n import msg
            from pilotdid.report.table import Table

            indicator_coverage_table = Table(
                name="indicator_coverage", title=msg("table.indicator_coverage.title", lang, n=len(coverage_frame)),
                body=coverage_frame, notes=coverage_notes, float_digits=4,
                wrap_columns=COVERAGE_TEXT_COLUMNS)
        panel[index_column] = np.asarray(index_result.index, dtype=float)
        notes.extend(index_result.notes)

    # --- numeric model columns ---------------------------------------------------------------------
    numeric = [model["outcome"], *model["controls"]]
    panel = require_numeric(panel, numeric, where)
    for column in numeric:
        infinite = np.isinf(panel[column].to_numpy(dtype=float))
        if infinite.any():
            row = _first_row(infinite)
            raise PilotdidInputError(
                f"column '{column}' has an infinite value at data row {row + 1} ({int(infinite.sum())} in all)",
                where=where, fix="replace infinities (e.g. a log of 0 or a division by 0) by a value or a blank",
            )
        huge = np.abs(panel[column].to_numpy(dtype=float)) > MAX_ABS_VALUE
        if huge.any():
            row = _first_row(huge)
            raise PilotdidInputError(
                f"column '{column}' holds {panel[column].iloc[row]:g} at data row {row + 1}, beyond +-{MAX_ABS_VALUE:g} "
                f"({int(huge.sum())} such cells): squares of it overflow", where=where,
                fix="check the cell (a unit or typing error?), or rescale the column (e.g. to millions)",
            )

    # --- treatment ---------------------------------------------------------------------------------
    log("assigning treatment")
    treatment_spec = dict(spec.treatment)
    policy_list = treatment_spec.get("registry")
    if isinstance(policy_list, str) and policy_list.lower().endswith(".csv"):
        # a user's policy list is a data file: resolved next to the study file and hashed in the manifest
        policy_path = Path(spec.resolve(policy_list))
        treatment_spec["registry"] = str(policy_path)
        input_files.append(policy_path)
    treatment = setup_treatment(panel, treatment_spec, unit, time, where)
    panel = treatment.panel
    notes.extend(treatment.notes)
    if treatment.dropped_units:
        summary["units_dropped_by_treatment_rule"] = [str(u) for u in treatment.dropped_units]

    _check_fixed_effects(panel, model["fixed_effects"], unit, time, where_study)

    if model.get("weights"):
        _check_weights(panel, model["weights"], where)

    # --- missing values: listwise on the model variables, counted ------------------------------------
    model_cols = [model["outcome"], *model["controls"]]
    missing = panel[model_cols].isna().any(axis=1)
    if missing.any():
        by_col = {c: int(panel[c].isna().sum()) for c in model_cols if panel[c].isna().any()}
        notes.append(
            f"{int(missing.sum())} rows with a missing model variable left out (listwise): "
            + ", ".join(f"{c} {n}" for c, n in by_col.items())
        )
        summary["rows_missing_model_variables"] = int(missing.sum())
        summary["missing_by_variable"] = by_col
        panel = panel.loc[~missing].copy()
    if spec.data.get("balance", False):
        periods = panel[time].nunique()
        counts = panel.groupby(unit)[time].nunique()
        short = counts.index[counts < periods]
        if len(short):
            notes.append(
                f"Balanced panel requested: {len(short)} units without all {periods} periods left out "
                f"({int(panel[unit].isin(short).sum())} rows)."
            )
            summary["units_dropped_unbalanced"] = [str(u) for u in short]
            panel = panel.loc[~panel[unit].isin(short)].copy()
    if panel.empty:
        raise PilotdidInputError("no rows left after removing missing values", where=where, fix="check the model variables' coverage")
    # the sample is final only now: leaving out rows can remove every treated (or every untreated) row
    if panel[TREAT].sum() == 0:
        raise PilotdidInputError(
            "no treated row is left after leaving out rows with missing values or incomplete units", where=where,
            fix="check the coverage of the outcome and controls for the treated units (or drop balance = true)",
        )
    if (panel[TREAT] == 1).all():
        raise PilotdidInputError(
            "every row left after removing missing values is treated: there is no control group", where=where,
            fix="check the coverage of the outcome and controls for the untreated units",
        )

    panel = panel.sort_values([unit, time], kind="mergesort").reset_index(drop=True)
    summary.update(
        {
            "nobs": int(len(panel)),
            "units": int(panel[unit].nunique()),
            "periods": sorted(int(t) for t in panel[time].unique()),
            "treated_units": int(panel.loc[panel[FIRST_TREAT] > 0, unit].nunique()),
            "never_treated_units": int(panel.loc[panel[FIRST_TREAT] == 0, unit].nunique()),
            "cohorts": {str(int(g)): int(n) for g, n in panel.loc[panel[FIRST_TREAT] > 0].groupby(FIRST_TREAT)[unit].nunique().items()},
            "treated_share_of_rows": float(panel[TREAT].mean()),
            "absorbing": treatment.absorbing,
        }
    )
    from pilotdid.inference import few_clusters

    cluster_column = model.get("cluster") or unit
    summary["clusters"] = few_clusters.cluster_count(panel, cluster_column)
    summary["few_clusters"] = bool(summary["clusters"] < model.get("few_clusters", few_clusters.DEFAULT_THRESHOLD))
    if summary["few_clusters"]:
        notes.append(few_clusters.warning_note(summary["clusters"], model.get("few_clusters", 30), cluster_column))

    if lang == "zh":
        from pilotdid.report.figures.style import cjk_font

        if cjk_font() is None:
            notes.append(
                "No CJK font is installed: tables are in Chinese but figures keep English labels "
                "(install e.g. Debian's fonts-noto-cjk to draw Chinese in figures)."
            )
            log("warning: no CJK font installed; figures fall back to English labels")
    published = _load_published(spec)
    ctx = StudyContext(
        study_name=spec.name,
        panel=panel,
        unit=unit,
        time=time,
        model=ModelSpec(
            outcome=model["outcome"], controls=list(model["controls"]), fixed_effects=list(model["fixed_effects"]),
            cluster=model.get("cluster"), vcov=model.get("vcov", DEFAULT_VCOV),
            few_clusters=model.get("few_clusters", 30), weights=model.get("weights"),
        ),
        treatment_name=treatment.treatment_name,
        seed=seed,
        lang=lang,
        unit_noun=spec.unit_noun,
        jobs=overrides.jobs,
        progress=progress or (lambda task, done, total: None),
        notes=notes,
        extras={
            "published": published,
            "index": index_result,
            "index_column": index_column,
            "raw_panel": raw_panel,
            "indicator_coverage": indicator_coverage_table,
            "treatment_tables": treatment.tables,
            "treatment_assignment": treatment.registry_assignment,
            "spec": spec,
            "data_summary": summary,
            "scheduler": overrides.scheduler,
            "labels": {str(k): (dict(v) if isinstance(v, dict) else str(v))
                       for k, v in spec.raw.get("study", {}).get("labels", {}).items()},
        },
        output_map=spec.outputs,
    )

    # --- analyses ------------------------------------------------------------------------------------
    outputs: dict[str, AnalysisOutput] = {}
    timings: dict[str, float] = {}
    from pilotdid.parallel import backend_session, one_blas_thread

    # one execution backend (e.g. one Dask cluster) for the whole run, not one per analysis; one BLAS thread, as
    # in every parallel task: thread counts change the rounding of matrix products, so without it a run with the
    # machine's default BLAS threads (make replicate) differed in last digits from OMP_NUM_THREADS=1 and from
    # itself once analyses run in two processes (the second process inherits the limit)
    with backend_session(overrides.jobs, overrides.scheduler), one_blas_thread():
        _run_analyses(spec, ctx, overrides, outputs, timings, log)

    return StudyRun(
        spec=spec, context=ctx, outputs=outputs, data_summary=summary, input_files=input_files,
        started=started, finished=_time.time(), timings=timings, overrides=overrides,
    )


def _run_analyses(spec, ctx, overrides, outputs, timings, log) -> None:
    """Every analysis, in the study file's order; with two CPUs some run in a forked second process meanwhile.

    An analysis that reads earlier analyses' outputs declares it (module constant ``READS_OUTPUTS``: names, or
    ``"*"`` for all earlier ones) and runs here after them. The others depend only on the context, so where they
    run changes nothing in their results (each is deterministic given the context; the second process is a fork
    of this one). ``outputs``, ``timings`` and ``ctx.outputs`` list the analyses in the study file's order.
    """
    jobs = []
    for name, options in spec.analyses.items():
        options = dict(options)
        if overrides.draws is not None and name in DRAW_OPTIONS:
            options[DRAW_OPTIONS[name]] = overrides.draws
        if overrides.seed is not None:
            options["seed"] = overrides.seed
        jobs.append((name, options))
    modules = {name: importlib.import_module(f"pilotdid.study.analyses.{name}") for name, _ in jobs}
    second: list[str] = []
    child = None
    # a process pool (--jobs > 1) or a Dask cluster already spreads the heavy loops; then everything runs here
    if overrides.jobs == 1 and overrides.scheduler is None:
        share = _second_process_share(jobs, modules)
        if share:
            from pilotdid.estimation import fixest  # the TWFE fitter's pyfixest: imported once, before the fork
            from pilotdid.estimation.twfe import model as _twfe_model  # noqa: F401
            from pilotdid.parallel import fork_call

            share = share if fixest.fork_safe_for_fits() else set()
        if share:
            second_jobs = [(name, options) for name, options in jobs if name in share]
            child = fork_call(lambda: _run_in_second_process(second_jobs, modules, ctx))
            if child is not None:
                second = [name for name, _ in second_jobs]
                log(f"running {', '.join(second)} in a second process")
    done: dict[str, tuple[AnalysisOutput, float]] = {}

    def collect() -> None:
        from pilotdid.parallel import ChildFailed

        nonlocal child
        try:
            results = child.result()
        except ChildFailed:  # rerun here: a failing analysis then raises its own error
            results = {}
            for name, options in jobs:
                if name in second:
                    log(f"running {name}")
                    results[name] = _run_one(name, options, modules[name], ctx)
        child = None
        done.update(results)
        _publish(ctx, jobs, done)

    try:
        for name, options in jobs:
            if name in second:
                continue
            reads = getattr(modules[name], "READS_OUTPUTS", ())
            if child is not None and ("*" in reads or set(reads) & set(second)):
                collect()
            log(f"running {name}")
            done[name] = _run_one(name, options, modules[name], ctx)
            _publish(ctx, jobs, done)
        if child is not None:
            collect()
    except BaseException:
        if child is not None:
            child.cancel()
        raise
    for name, _ in jobs:
        outputs[name], timings[name] = done[name]


#: Rough CPU seconds of the analyses that take more than ~0.1 s in the CBEC replication (1,700 city-years); used
#: only to split the analyses between two processes (unlisted: 0.1). Results do not depend on the split.
COST_HINTS = {"heterogeneity": 2.7, "multiverse": 2.2, "staggered": 2.1, "mechanism": 1.3, "robustness": 0.7,
              "index_systems": 0.6, "treatment_map": 0.6, "pretrends": 0.3}
#: Analyses sharing a cache in ``ctx.extras`` (the rebuilt index variants) stay in one process.
SAME_PROCESS = (("index_systems", "multiverse"),)
#: A second process is started only for at least this much work (hint seconds): forking and pickling the
#: outputs back cost ~0.1 s.
MIN_SECOND_PROCESS_SECONDS = 1.0


def _second_process_share(jobs, modules) -> set[str]:
    """The analyses to run in a second process: longest first to the less loaded process (this one starts with
    the analyses that read other outputs and the ones they read); empty when too little would move."""
    names = [name for name, _ in jobs]
    pinned: set[str] = set()
    for name in names:
        reads = tuple(getattr(modules[name], "READS_OUTPUTS", ()))
        if reads:
            pinned.add(name)
            pinned.update(r for r in reads if r in names)  # "*" readers wait for the second process instead
    groups: list[tuple[str, ...]] = []
    grouped: set[str] = set()
    for group in SAME_PROCESS:
        members = tuple(n for n in names if n in group)
        if len(members) > 1:
            groups.append(members)
            grouped.update(members)
    groups += [(n,) for n in names if n not in grouped]
    cost = lambda group: sum(COST_HINTS.get(n, 0.1) for n in group)  # noqa: E731
    here = sum(cost(g) for g in groups if set(g) & pinned)
    there, share = 0.0, set()
    for group in sorted((g for g in groups if not set(g) & pinned), key=cost, reverse=True):  # stable: file order
        if there < here:
            share.update(group)
            there += cost(group)
        else:
            here += cost(group)
    return share if there >= MIN_SECOND_PROCESS_SECONDS else set()


class _OutputsOfOtherProcess(dict):
    """``ctx.outputs`` in the second process: its analyses declared no READS_OUTPUTS, so reading it is a bug."""

    def _refuse(self, *args, **kwargs):
        raise RuntimeError("internal: an analysis read ctx.outputs without declaring READS_OUTPUTS")

    __getitem__ = get = items = keys = values = __iter__ = __contains__ = __len__ = _refuse


def _run_in_second_process(jobs, modules, ctx) -> dict[str, tuple[AnalysisOutput, float]]:
    ctx.progress = lambda task, done, total: None  # the progress bar belongs to the first process
    ctx.outputs = _OutputsOfOtherProcess()
    return {name: _run_one(name, options, modules[name], ctx) for name, options in jobs}


def _publish(ctx, jobs, done) -> None:
    """``ctx.outputs`` = the finished analyses, in the study file's order."""
    ctx.outputs.clear()
    ctx.outputs.update((name, done[name][0]) for name, _ in jobs if name in done)


def _run_one(name, options, module, ctx) -> tuple[AnalysisOutput, float]:
    t0 = _time.perf_counter()
    try:
        result = module.run(ctx, options)
    except PilotdidInputError as exc:
        if f"analyses.{name}" in str(exc) or str(exc).startswith(f"{name}"):
            raise
        raise PilotdidInputError(f"{exc}", where=f"[analyses.{name}]") from None
    except (MemoryError, RecursionError):
        raise
    except Exception as exc:
        if os.environ.get("PILOTDID_DEBUG"):
            raise
        raise AnalysisError(f"analysis [analyses.{name}] failed: {type(exc).__name__}: {exc}") from exc
    seconds = _time.perf_counter() - t0
    if not isinstance(result, AnalysisOutput):
        raise TypeError(f"analysis {name} returned {type(result).__name__}, expected AnalysisOutput")
    if ctx.output_map:
        rename_outputs(result, ctx.output_map, ctx.lang)
    # no raw field name in a table a reader sees: headers (and labelled row names) through the one resolver
    result.tables = {key: humanise_table(table, ctx.lang, ctx.extras.get("labels")) for key, table in result.tables.items()}
    if ctx.extras.get("data_summary", {}).get("few_clusters"):
        from pilotdid.inference import few_clusters

        cluster_column = ctx.model.cluster or ctx.unit
        few_clusters.flag_tables(result.tables, few_clusters.warning_note(
            ctx.extras["data_summary"]["clusters"], ctx.model.few_clusters, cluster_column))
    if ctx.model.weights:  # (lost when analyses moved into _run_one: weighted studies' tables stopped saying so)
        _name_the_weighting(result, name, ctx.model.weights, ctx.lang)
    return result, seconds


def rename_outputs(result: AnalysisOutput, output_map: dict[str, dict[str, Any]], lang: str) -> None:
    """Apply ``[study] outputs`` to what one analysis returned: each named table or figure gets the study's file
    name and title (a table keeps the analysis's name as ``origin`` for the message catalogue)."""
    from dataclasses import replace

    def title_of(entry: dict[str, Any]) -> str | None:
        title = entry.get("title")
        return title.get(lang, title["en"]) if isinstance(title, dict) else title

    tables = {}
    for key, table in result.tables.items():
        entry = output_map.get(key)
        if entry:
            table = replace(table, name=entry.get("name", key), origin=key, title=title_of(entry) or table.title)
        tables[table.name if entry else key] = table
    figures = {}
    for key, figure in result.figures.items():
        entry = output_map.get(key)
        if entry:
            figure._pilotdid_output = key  # the catalogue's caption of this figure is keyed by it
            if title_of(entry):
                figure._pilotdid_caption = title_of(entry)
        figures[entry.get("name", key) if entry else key] = figure
    result.tables, result.figures = tables, figures


#: analyses that honour ``[model] weights`` (the others would silently ignore them, so a weighted study refuses them)
WEIGHTED_ANALYSES = ("descriptives", "index_weights", "treatment_map", "baseline", "event_study", "vcov_presets",
                     "staggered", "paper_comparison", "placebo", "honest", "pretrends", "wild_bootstrap",
                     "mechanism", "heterogeneity", "index_systems", "multiverse")
#: staggered estimators that take analytic weights
WEIGHTED_ESTIMATORS = ("cs", "sa", "bjs", "etwfe", "stacked", "twowayfeweights", "dcdh")
#: why an analysis or estimator refuses ``[model] weights``, and what to use instead (the refusal says both)
UNWEIGHTED_REASONS = {
    "bacon": ("Goodman-Bacon's decomposition is derived for unweighted OLS: R bacondecomp has no weights and Stata's "
              "bacondecomp refuses them without controls, so no peer defines a weighted decomposition to check "
              "against; twowayfeweights (which takes the weights) gives the weights of the weighted TWFE coefficient"),
    "sdid": ("synthetic DID chooses its own unit and time weights (R synthdid has no observation weights, and "
             "multiplying its weights by another set changes the estimand); run SDID in a separate unweighted study, "
             "or use the weighted cs, sa, bjs, etwfe, stacked or dcdh"),
    "robustness": ("its PSM-DID columns carry the matching's own weights, and no peer defines their product with "
                   "regression weights; run the robustness table in an unweighted study"),
    "matching": ("matching weights are the matching's own; observation weights in matching are not implemented "
                 "(Stata teffects psmatch takes frequency weights only)"),
}


def _weighting_note(name: str, column: str, lang: str) -> str:
    """The sentence that names ``[model] weights`` in a weighted study's tables (the convention is said where the
    numbers are, as every other one)."""
    zh = lang == "zh"
    if name in ("descriptives", "treatment_map", "index_weights"):
        return (f"描述统计未加权；[model] weights（{column}）仅用于回归。" if zh else
                f"Unweighted; [model] weights ({column}) weight the regressions only.")
    if name in ("honest", "pretrends"):
        return (f"以 {column} 加权：所读取的事件研究为加权估计（见“来源”）。" if zh else
                f"Weighted by {column}: the event study it reads is the weighted one (see Source).")
    if name in ("staggered", "multiverse"):
        return (f"以 {column} 加权（分析权重，Stata aw）：各估计量按其作者的权重选项使用（cs：R did 的 weightsname；"
                "dcdh：did_multiplegt_dyn 的 weight；sa、etwfe、stacked、TWFE：加权最小二乘；bjs：加权插补）。" if zh else
                f"Weighted by {column} (analytic weights, Stata aw): each estimator as its authors' weight option "
                "(cs: R did's weightsname; dcdh: did_multiplegt_dyn's weight; sa, etwfe, stacked, TWFE: WLS; bjs: "
                "weighted imputation; twowayfeweights: its aw).")
    return (f"以 {column} 加权（分析权重，Stata aw）：加权最小二乘系数，聚类稳健标准误基于加权得分。" if zh else
            f"Weighted by {column} (analytic weights, Stata aw): WLS coefficients, cluster-robust SEs from the "
            "weighted scores.")


def _name_the_weighting(result: AnalysisOutput, name: str, column: str, lang: str) -> None:
    """Every table of a weighted study's analysis says how [model] weights enter it (or that it is unweighted);
    the report says it once per section (``shared_table_notes``)."""
    note = _weighting_note(name, column, lang)
    noted = False  # some table carries the note (every table that has notes does, after the loop)
    for table in result.tables.values():
        notes = getattr(table, "notes", None)
        if notes is not None:
            noted = True
            if note not in notes:
                notes.append(note)
    if noted and note not in result.shared_table_notes:
        result.shared_table_notes.append(note)


def _check_weighted_analyses(spec) -> None:
    """A weighted study runs only analyses (and staggered estimators) that use the weights; the refusal (from the
    study file alone, before the panel is read) says why and what to use instead."""
    for name, options in spec.analyses.items():
        if name not in WEIGHTED_ANALYSES:
            reason = UNWEIGHTED_REASONS.get(name, "it has not been wired for regression weights")
            raise PilotdidInputError(f"[model] weights is set but analysis {name} does not take regression weights: "
                                     f"{reason}", where=f"[analyses.{name}]",
                                     fix=f"remove it or the weights; weighted: {', '.join(WEIGHTED_ANALYSES)}")
        if name == "mechanism" and options.get("three_step"):
            raise PilotdidInputError("[model] weights is set but the three-step mediation model does not take "
                                     "regression weights: its unit bootstrap of the indirect effect is unweighted",
                                     where="[analyses.mechanism] three_step",
                                     fix="set three_step = false (the mediator regressions are weighted) or remove "
                                         "the weights")
        if name == "staggered":
            from pilotdid.estimation.staggered import registry

            chosen = options.get("estimators", list(registry.DEFAULTS))
            bad = [e for e in chosen if e not in WEIGHTED_ESTIMATORS]
            if bad:
                reasons = "; ".join(f"{e}: {UNWEIGHTED_REASONS[e]}" for e in bad if e in UNWEIGHTED_REASONS)
                default = "" if "estimators" in options else " (the default list includes bacon)"
                raise PilotdidInputError(f"[model] weights is set but estimator(s) {', '.join(bad)} do not take "
                                         f"regression weights{default}" + (f" -- {reasons}" if reasons else ""),
                                         where="[analyses.staggered] estimators",
                                         fix=f"choose from {list(WEIGHTED_ESTIMATORS)} or remove the weights")


def _check_weights(panel: pd.DataFrame, column: str, where: str) -> None:
    """Analytic weights must be numbers, present, finite and non-negative: the first bad row is named."""
    values = pd.to_numeric(panel[column], errors="coerce").to_numpy(dtype=float)
    if np.isnan(values).any():
        refuse_full_width_numbers(panel[column], np.isnan(values), column, where)
    for bad, what in ((np.isnan(values), "missing or not a number"), (np.isinf(values), "infinite"),
                      (values < 0, "negative")):
        if bad.any():
            row = _first_row(bad)
            raise PilotdidInputError(f"weights column '{column}' is {what} at data row {row + 1} "
                                     f"({int(bad.sum())} such rows)", where=where,
                                     fix="give every row a non-negative weight (or drop those rows from the panel)")
    zero = values == 0
    if zero.any():  # the estimators do not agree on a zero weight (fixest drops the row, did_multiplegt_dyn keeps its
        # treatment date, R did keeps the unit with no mass), so a study refuses it rather than pick one silently
        row = _first_row(zero)
        raise PilotdidInputError(f"weights column '{column}' is 0 at data row {row + 1} ({int(zero.sum())} such rows): "
                                 "the estimators treat a zero weight differently (fixest drops the row, "
                                 "did_multiplegt_dyn keeps its treatment date)", where=where,
                                 fix="drop the zero-weight rows (or units) from the panel, or give them a positive weight")
    panel[column] = values


def _first_row(mask) -> int:
    """0-based position of the first True in a boolean mask (messages print it + 1, as a data row)."""
    return int(np.flatnonzero(np.asarray(mask))[0])


def _check_fixed_effects(panel: pd.DataFrame, fixed_effects: list[str], unit: str, time: str, where: str) -> None:
    """A fixed effect is a grouping: a continuous column (non-whole numbers, or a level for nearly every row)
    would absorb every regressor, and the regression would fail for a reason it could not name."""
    n = len(panel)
    for column in fixed_effects:
        if column in (unit, time) or column not in panel.columns:
            continue
        values = panel[column]
        levels = int(values.nunique())
        whole = True
        if pd.api.types.is_float_dtype(values):
            finite = values.dropna().to_numpy(dtype=float)
            whole = bool(np.all(finite == np.round(finite)))
        if not whole or levels > n // 2:
            kind = "holds non-whole numbers" if not whole else f"has {levels} distinct values in {n} rows"
            raise PilotdidInputError(
                f"fixed effect '{column}' {kind}: it looks like a continuous variable, not a grouping",
                where=f"{where} [model] fixed_effects",
                fix=f"use a grouping column (e.g. province, industry) as a fixed effect; put '{column}' in controls",
            )


def _check_keys(panel: pd.DataFrame, unit: str, time: str, where: str) -> pd.DataFrame:
    """Every row has a unit and a whole, finite period, and no (unit, period) key repeats; periods become int."""
    periods = panel[time].to_numpy(dtype=float)
    if np.isnan(periods).any():
        row = _first_row(np.isnan(periods))
        raise PilotdidInputError(f"time column '{time}' is empty at data row {row + 1}", where=where, fix="every row needs a period")
    if np.isinf(periods).any():
        row = _first_row(np.isinf(periods))
        raise PilotdidInputError(f"time column '{time}' is infinite at data row {row + 1}", where=where, fix="use whole periods (e.g. years)")
    if (periods != np.round(periods)).any():
        raise PilotdidInputError(f"time column '{time}' must hold whole periods (e.g. years)", where=where, fix="use integer periods")
    if (np.abs(periods) > 1e9).any():
        row = _first_row(np.abs(periods) > 1e9)
        raise PilotdidInputError(f"time column '{time}' holds {periods[row]:g} at data row {row + 1}, not a period",
                                 where=where, fix="use whole periods such as years (1 to 1,000,000,000)")
    if (periods <= 0).any():
        # "never treated" is first-treatment period 0 inside pilotdid (and empty/0 in a first_treat column), so a
        # period 0 or below would make units adopting then count as never treated: refused rather than miscounted
        row = _first_row(periods <= 0)
        low = int(periods.min())
        raise PilotdidInputError(
            f"time column '{time}' holds the period {int(periods[row])} at data row {row + 1}; periods must be 1 or more "
            "(0 and below would be read as 'never treated')", where=where,
            fix=f"renumber the periods from 1: add {1 - low} to '{time}' (and to a first-treatment column); "
                "event times (relative periods) do not change",
        )
    panel[time] = periods.astype(int)
    if panel[unit].isna().any():
        row = _first_row(panel[unit].isna())
        raise PilotdidInputError(f"unit column '{unit}' is empty at data row {row + 1}", where=where, fix="every row needs a unit id")
    dup = panel.duplicated([unit, time], keep=False)
    if dup.any():
        row = _first_row(dup)
        n = int(panel.duplicated([unit, time]).sum())
        raise PilotdidInputError(
            f"duplicate ({unit}, {time}) key {_plain(panel[unit].iloc[row])!r}, {panel[time].iloc[row]} at data row {row + 1} "
            f"({n} duplicate rows in all)", where=where, fix="keep one row per unit and period",
        )
    return panel


#: The option through which --draws sets each analysis's number of random draws (the wild bootstrap keeps its
#: own reps: it refuses fewer than 999, the least that resolves a p-value of 0.001).
DRAW_OPTIONS = {"placebo": "draws", "heterogeneity": "draws", "multiverse": "draws"}
#: Largest magnitude accepted in an outcome or control: regressions square values, and 1e308 is float's end.
MAX_ABS_VALUE = 1e150


def _builtin_files() -> list[Path]:
    from importlib import resources

    root = resources.files("pilotdid.data") / "shipped"
    try:
        return sorted(Path(str(p)) for p in root.iterdir() if p.name.endswith(".csv"))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _load_published(spec: StudySpec) -> dict[str, Any]:
    """Published numbers to show beside ours: a TOML whose tables hold rows like results.json's."""
    import tomllib

    if spec.published_path is None:
        return {}
    path = spec.published_path
    if not path.exists():
        raise PilotdidInputError("published-numbers file not found", where=str(path), fix="check [study] published")
    try:
        # numbers keep the decimals the source printed (-0.230 stays -0.230 in every table)
        return tomllib.loads(path.read_text(encoding="utf-8"), parse_float=PublishedNumber)
    except tomllib.TOMLDecodeError as exc:
        raise PilotdidInputError(f"TOML syntax error: {exc}", where=str(path), fix="correct the TOML") from None
