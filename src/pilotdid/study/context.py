"""The contract between the study runner and the analyses it runs.

The runner reads a study file, loads and validates the panel, assigns treatment, and builds one
:class:`StudyContext`. For every ``[analyses.NAME]`` table in the study file it imports
``pilotdid.study.analyses.NAME`` and calls its ``run(ctx, options) -> AnalysisOutput``. Its options are
declared in study/options.py, and ``run`` begins with ``check_analysis_options(NAME, options)`` (a direct call is
refused as a study file is; the analysis keeps only the checks no declaration can express). An analysis
never prints or writes files: it returns estimates (rows of results.json), tables, figures and
extra results; the runner writes them, atomically, and the report renders them.

Analyses run in the order the study file lists them; ``ctx.outputs`` holds what earlier analyses
returned (the report and later analyses may read it, e.g. the staggered analysis reuses the event study's
TWFE rows). An analysis that reads ``ctx.outputs`` declares it in a module constant ``READS_OUTPUTS`` (the
names it reads, or ``("*",)`` for every earlier one): the others may run concurrently in a second process
(study/runner.py), where ``ctx.outputs`` cannot be read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pilotdid.estimation.twfe.covariance import DEFAULT_VCOV
from pilotdid.report.table import Table

#: Names of the panel columns the runner adds; analyses rely on them.
TREAT = "_did"  # 0/1 treatment indicator used by every estimator
FIRST_TREAT = "_first_treat"  # first treated period (int); 0 for never treated within the panel


@dataclass
class ModelSpec:
    """The ``[model]`` table: what every regression in the study shares."""

    outcome: str
    controls: list[str]
    fixed_effects: list[str]
    cluster: str | None
    vcov: str = DEFAULT_VCOV
    weights: str | None = None  # analytic weights (Stata aw); see study/runner.py WEIGHTED_ANALYSES
    few_clusters: int = 30  # below this many clusters the few-clusters guard speaks (inference/few_clusters.py)


@dataclass
class StudyContext:
    """Everything an analysis needs; built once by the runner.

    ``panel`` is the analysis sample after validation: one row per (unit, time), sorted by unit
    then time, with the study's columns plus :data:`TREAT` (0/1 float) and :data:`FIRST_TREAT`
    (int, 0 = never treated in the window). ``treatment_name`` is how the treatment term is named
    in results (the panel's own column name for a ``column =`` study, else ``"did"``).
    """

    study_name: str
    panel: pd.DataFrame
    unit: str
    time: str
    model: ModelSpec
    treatment_name: str
    seed: int = 12345
    lang: str = "en"
    jobs: int = 1
    #: Called as progress(task, done, total) by long loops (draws, bootstraps); may be a no-op.
    progress: Callable[[str, int, int], None] = lambda task, done, total: None
    #: Free-form facts about the data and design (dropped units, fills, treatment notes) that the
    #: report must show; analyses may append.
    notes: list[str] = field(default_factory=list)
    #: Outputs of analyses that ran before this one, by analysis name.
    outputs: dict[str, AnalysisOutput] = field(default_factory=dict)
    #: Study-level extras the runner passes through (e.g. the replication's published numbers).
    extras: dict[str, Any] = field(default_factory=dict)
    #: ``[study] outputs``: generic output name -> {name, title, ref}; the runner renames what analyses return
    output_map: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: ``[study] unit_noun``: what generated prose calls the units ("county", or {one, many, zh}); "unit" by default
    unit_noun: str | dict[str, str] = "unit"

    def unit_words(self, lang: str = "en") -> dict[str, str]:
        """The ``{unit}``, ``{units}``, ``{Unit}``, ``{Units}`` fields of a message, in ``lang``."""
        from pilotdid.i18n import unit_words

        return unit_words(self.unit_noun, lang)

    def output_name(self, output: str) -> str:
        """The file name the study gives the table or figure an analysis calls ``output``."""
        return self.output_map.get(output, {}).get("name", output)

    def output_ref(self, output: str) -> str:
        """How a note cites the table ``output``: the study's ``ref`` (e.g. "Table 5"), else table 'NAME'."""
        entry = self.output_map.get(output, {})
        return entry.get("ref") or f"table '{entry.get('name', output)}'"

    def display_name(self, column: str) -> str:
        """How a column is named in tables: the study's ``[study] labels`` entry, else pilotdid's built-in
        name in the study's language, else the column itself (one resolver: :mod:`pilotdid.report.labels`)."""
        from pilotdid.report.labels import resolve_label

        return resolve_label(column, self.lang, self.extras.get("labels"))


@dataclass
class AnalysisOutput:
    """What one analysis returns.

    estimates:
        Rows for ``results.json["estimates"]``; each a dict with the keys of
        :data:`pilotdid.study.results.ESTIMATE_KEYS` (missing keys are filled with ``None``).
    results:
        Other top-level results.json entries this analysis owns, e.g. ``{"event_study": [...]}``
        or ``{"placebo": {...}}``. Lists under the same key from several analyses are concatenated.
    tables / figures:
        Keyed by the analysis's generic output name (study/options.py ANALYSIS_OUTPUTS; the runner applies the
        study's ``[study] outputs`` renames, after which the keys are file stems); figures are matplotlib Figures (the runner saves them in the study's [figures] formats).
    notes:
        Sentences the report prints with this analysis (conventions, data caveats).
    shared_table_notes:
        Notes that the tables of this analysis all carry, e.g. a weighted study's weights sentence. Each table file
        keeps them, because journals take tables one by one; the report prints them once, at the top of the
        analysis's section, rather than under every table.
    """

    estimates: list[dict[str, Any]] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    shared_table_notes: list[str] = field(default_factory=list)
