"""Every study-file option, declared once: name, type, default, allowed values, one line of help.

The runner checks a whole study file against these declarations **before it reads any data**, so a typo in
the last analysis is refused in a second, not after the first analyses have run; ``docs/study-file.md`` is
generated from them (``python -m pilotdid.study.options > docs/study-file.md``; a test fails when the
committed file differs).

Adding an option to an analysis is one line in :data:`ANALYSIS_OPTIONS` (and reading it in the analysis):

    opt("psm_weighting", "str", "weights", "how matched rows enter the DID", allowed=("weights", "frequency")),

Types: ``int``, ``float`` (an int is fine), ``bool``, ``str``, ``table``, ``list[int]``, ``list[float]``,
``list[str]``, ``list[table]``, ``any``, or several joined by ``|`` (``int|list[int]``). ``allowed`` is checked
for ``str`` values and for each item of a ``list[str]``; ``minimum``/``maximum`` for a number.

This is the one check of unknown keys, types, ranges and allowed values: every analysis's ``run`` begins with
:func:`check_analysis_options` (a direct call from Python is refused as a study file is) and keeps only the checks
a declaration cannot express (an empty list, a window's shape, values that depend on the data or the study).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.twfe.covariance import DEFAULT_VCOV

#: Default shown for options whose default comes from elsewhere in the study file.
FROM_STUDY = "(from the study)"


@dataclass(frozen=True)
class Option:
    name: str
    type: str
    default: Any
    help: str
    #: allowed values, or "module:NAME" naming the constant that holds them (so a list that grows in its own
    #: module — e.g. the staggered estimators — is never copied here)
    allowed_spec: tuple[Any, ...] | str | None = None
    #: how a message words the expected value when it is more specific than the type ("two integers [lo, hi]")
    expects: str | None = None
    #: what a value outside ``allowed`` is called in the message ("unknown placebo kind 'x'")
    noun: str | None = None
    #: smallest and largest value a number may take (checked for an ``int`` or ``float`` value)
    minimum: int | float | None = None
    maximum: int | float | None = None

    @property
    def bounds(self) -> str:
        """``>= 1``, ``0–8`` or ``""``: the range as docs and messages write it."""
        if self.minimum is not None and self.maximum is not None:
            return f"{self.minimum:,}–{self.maximum:,}"
        if self.minimum is not None:
            return f">= {self.minimum:,}"
        return f"<= {self.maximum:,}" if self.maximum is not None else ""

    @property
    def allowed(self) -> tuple[Any, ...] | None:
        if isinstance(self.allowed_spec, str):
            import importlib

            module, _, name = self.allowed_spec.partition(":")
            return tuple(getattr(importlib.import_module(module), name))
        return self.allowed_spec


def opt(name: str, type: str, default: Any, help: str, allowed: tuple[Any, ...] | str | None = None,
        expects: str | None = None, noun: str | None = None, minimum: int | float | None = None,
        maximum: int | float | None = None) -> Option:
    """One option declaration (see the module docstring)."""
    return Option(name, type, default, help, allowed if allowed is None or isinstance(allowed, str) else tuple(allowed),
                  expects, noun, minimum, maximum)


_WORDS = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a string", "table": "a table",
          "any": "anything", "list[int]": "a list of integers", "list[float]": "a list of numbers",
          "list[str]": "a list of strings", "list[table]": "a list of tables"}


def type_words(kind: str) -> str:
    """``int|list[int]`` -> ``an integer or a list of integers``."""
    return " or ".join(_WORDS.get(alt, alt) for alt in kind.split("|"))


#: Upper bound on any number of random draws (--draws, draws = , reps = ): more would only exhaust memory and time.
MAX_DRAWS = 1_000_000

#: Every analysis may take ``seed`` (the study seed by default; ``--seed`` sets it for all of them).
SEED = opt("seed", "int", FROM_STUDY, "random seed of this analysis (default: [study] seed; --seed overrides)",
           minimum=0)

_ESTIMATORS = "pilotdid.estimation.staggered.registry:NAMES"
_CS = "pilotdid.estimation.staggered.cs"
_PLACEBO_KINDS = "pilotdid.inference.placebo:PLACEBO_KINDS"
_PRESETS = "pilotdid.estimation.twfe.covariance:VCOV_PRESETS"

#: [analyses.NAME] -> its options. Order is the order of docs/study-file.md.
ANALYSIS_OPTIONS: dict[str, tuple[Option, ...]] = {
    "treatment_map": (),
    "descriptives": (
        opt("variables", "list[str]", FROM_STUDY, "columns summarised (default: outcome, treatment, controls)"),
        opt("labels", "table", {}, "column -> label (or {en, zh}) for this table (default: [study] labels)"),
        opt("digits", "int", 3, "decimals printed", minimum=0, maximum=8),
    ),
    "index_weights": (
        opt("system", "str", "(the study's [index])", "indicator system when the study has no [index]: a builtin name "
            "(e.g. cbec_resilience) or a TOML path"),
        opt("method", "str", "entropy", "weighting method", allowed="pilotdid.measures:METHODS"),
        opt("pooling", "str", "pooled", "weights from all unit-periods together or year by year",
            allowed="pilotdid.measures:POOLINGS"),
        opt("shift", "float", 0.0001, "shift added to standardised values in the entropy shares"),
    ),
    "baseline": (
        opt("stepwise", "bool", False, "one column per added control (paper style) instead of the full model only"),
        opt("stat", "str", "t", "statistic printed under each coefficient (default: [tables] stat)",
            allowed="pilotdid.report.regression_table:STATS"),
        opt("vcov", "str", FROM_STUDY, "standard-error preset of this table (default: [model] vcov)", allowed=_PRESETS, noun="standard-error preset"),
        opt("labels", "table", {}, "term -> label (or {en, zh}) (default: [study] labels)"),
        opt("digits", "int", 3, "decimals printed (default: [tables] digits)", minimum=0, maximum=8),
        opt("r2", "str|list[str]", "adj_r2", "R² row(s) shown",
            allowed="pilotdid.estimation.twfe.results:R2_DEFINITIONS"),
        opt("published_columns", "table", {}, "our column -> the paper's column, for the published-value rows"),
    ),
    "vcov_presets": (
        # the default written out for the docs: every preset, in VCOV_PRESETS' order (tests/test_study_options.py checks)
        opt("presets", "list[str]", ["lsdv", "areg", "xtreg_fe", "reghdfe", "fixest"], "presets compared side by side", allowed=_PRESETS, noun="standard-error preset"),
        opt("digits", "int", 4, "decimals printed"),
    ),
    "event_study": (
        opt("window", "list[int]", [-4, 4], "[lo, hi] relative periods; both ends binned",
            expects="two integers [lo, hi]"),
        opt("base", "int|list[int]", -1, "omitted reference period (drawn at 0), or a reference bin [a, b]"),
        opt("bins", "any", None, "multi-period bins [[first, last], ...], contiguous; the outer ones absorb "
            "the periods beyond them"),
        opt("bin_width", "int", None, "bins of this width: the reference alone, [0, w-1], [w, 2w-1], ... and back "
            "from the reference"),
    ),
    "placebo": (
        opt("draws", "int", 1000, "placebo re-assignments (--draws overrides)", minimum=1, maximum=MAX_DRAWS),
        opt("kind", "str", "permute_cohorts", "how adoption years are redrawn",
            allowed=_PLACEBO_KINDS, noun="placebo kind"),
        opt("in_time", "bool|int|list[int]", [1, 2], "in-time placebo shifts (true = [1, 2, 3], false = none)"),
        opt("block_size", "int", None, "draws per memory block (never changes a result)", minimum=1),
    ),
    "robustness": (
        opt("psm_k", "int", 3, "nearest neighbours per treated row"),
        opt("psm_replacement", "bool", True, "nearest-neighbour matching with replacement"),
        opt("psm_caliper", "float", None, "caliper of nearest-neighbour matching (none by default)"),
        opt("radius_caliper", "float", 0.01, "caliper of radius matching"),
        opt("kernel_bandwidth", "float", 0.06, "bandwidth of Epanechnikov kernel matching (psmatch2's default)"),
        opt("psm_pooling", "str", "pooled", "one logit over all years or one per period",
            allowed="pilotdid.design.psm:POOLING"),
        opt("psm_weighting", "str", "matched_rows", "PSM-DID regression beside the paper: unweighted on the matched "
            "rows (reghdfe ... if _weight != .) or weighted by psmatch2's _weight; the other in the row below",
            allowed=("matched_rows", "weights")),
        opt("concurrent_policy", "str", None, "registry policy controlled for as a concurrent policy (the CBEC "
            "study: broadband); with neither this nor concurrent_column the column is left out"),
        opt("concurrent_column", "str", None, "panel column of a concurrent policy (instead of a registry policy)"),
        opt("capital_column", "str", None, "panel 0/1 column marking capitals/municipalities (default: registry)"),
        opt("drop_periods", "list[int]", None, "periods left out in the 'drop periods' check (none: no such check; "
            "the CBEC study: the COVID years 2020-2021)"),
        opt("drop_periods_name", "str", "drop_periods", "results.json column key of the 'drop periods' check"),
        opt("drop_periods_label", "str", "Without periods [...]", "table header of the 'drop periods' check"),
        opt("winsorize", "list[float]", [1, 5], "winsorising levels in percent (each tail)"),
    ),
    "mechanism": (
        opt("mediators", "list[table]", "(required)", "mediators: {name, column | pca | pca_system, label, transform, "
            "note} entries"),
        opt("three_step", "bool", False, "also the classical three-step model (labelled, with Sobel and bootstrap)"),
        opt("boot_draws", "int", 499, "bootstrap draws of the three-step indirect effect", minimum=1,
            maximum=MAX_DRAWS),
    ),
    "heterogeneity": (
        opt("splits", "list[table]", "(required)",
            "{name, column, labels, titles, values | threshold, at} per split"),
        opt("draws", "int", 999, "permutation draws of the difference test (--draws overrides; 0 = none)", minimum=0,
            maximum=MAX_DRAWS),
        opt("strata", "str", "cohort", "permutation p reported as p_permutation: within adoption cohorts (valid "
            "when treatment shares differ) or across all units; both are shown", allowed=("cohort", "none")),
    ),
    "staggered": (
        opt("estimators", "list[str]", ["cs", "sa", "bjs", "bacon"], "heterogeneity-robust estimators run",
            allowed=_ESTIMATORS),
        opt("control_group", "str", "never_treated", "Callaway-Sant'Anna control group",
            allowed=f"{_CS}:CONTROL_GROUPS"),
        opt("est_method", "str", "dr", "Callaway-Sant'Anna estimation method", allowed=f"{_CS}:EST_METHODS"),
        opt("base_period", "str", "universal", "Callaway-Sant'Anna base period", allowed=f"{_CS}:BASE_PERIODS"),
        opt("anticipation", "int", 0, "periods of anticipation", minimum=0),
        opt("draws", "int", 999, "multiplier-bootstrap draws for CS (0 = analytic SEs)", minimum=0,
            maximum=MAX_DRAWS),
        opt("weights", "str", "rademacher", "multiplier-bootstrap weights", allowed=f"{_CS}:BOOT_WEIGHTS"),
        opt("covariates", "str", "controls", "covariates of the robust estimators", allowed=("controls", "none")),
        opt("window", "list[int]", [-4, 4], "event times shown in the table and figure",
            expects="two integers [lo < 0, hi >= 0]"),
        opt("stacked_window", "list[int]", [-3, 2], "event window of the stacked DID"),
        opt("stacked_fixed_effects", "str", "sub_experiment", "fixed effects of the stacked DID regression: unit and "
            "event time, each x sub-experiment (sub_experiment) or treated group and event time (wfh, Wing-Freedman-"
            "Hollingsworth's tutorial); same coefficients on a balanced panel, different SEs",
            allowed="pilotdid.estimation.staggered.stacked:FIXED_EFFECTS"),
        opt("sdid_cohorts", "list[int]", None, "adoption cohorts of the synthetic DID (default: every cohort)"),
        opt("sdid_replications", "int", 200, "placebo or bootstrap draws of the synthetic DID's standard errors",
            minimum=2, maximum=MAX_DRAWS),
        opt("sdid_se", "str", "placebo", "synthetic DID standard error (synthdid's placebo, unit bootstrap or "
            "jackknife; the placebo needs more never-treated than treated units, the jackknife two treated units "
            "per cohort)", allowed="pilotdid.estimation.staggered.sdid:SE_METHODS"),
        opt("sdid_cohort_weights", "str", "resampled", "the synthetic DID's headline bootstrap/jackknife SE of the "
            "cohort average: cohorts re-weighted by their sizes in each replicate (resampled, Stata sdid: includes "
            "the variation of cohort sizes) or the sample's cohort weights kept (fixed: conditional on cohort sizes, "
            "as Sun-Abraham); with two or more cohorts the other is shown beside it; the placebo SE has one "
            "convention", allowed="pilotdid.estimation.staggered.sdid:REPLICATE_COHORT_WEIGHTS"),
        opt("ps_fallback", "str", "none", "CS cells whose propensity score fails the separation test: NA as R did "
            "(none) or outcome regression (reg); the other is reported beside", allowed=("none", "reg")),
        opt("covariate_period", "str", "earlier", "CS covariates at the earlier of a cell's two periods (R did, "
            "csdid) or at the cohort's base period g-1", allowed=f"{_CS}:COVARIATE_PERIODS"),
        opt("balance_e", "int", None, "CS dynamic aggregation on cohorts observed at every e = 0..balance_e",
            minimum=0),
        opt("min_units_e", "int", 5, "flag CS event times resting on fewer treated units", minimum=0),
    ),
    "honest": (
        opt("method", "str", "RM", "relative magnitudes (RM) or smoothness (SD)", allowed=("RM", "SD", "rm", "sd")),
        opt("grid", "list[float]", None, "values of Mbar (RM) or M (SD)"),
        opt("source", "str", "cs", "event study the bounds are computed for", allowed=("cs", "twfe")),
        opt("target", "str", "first", "adoption-year effect or average post-period effect",
            allowed=("first", "average")),
        opt("window", "list[int]", [-4, 4], "event times used", expects="two integers [lo < 0, hi >= 0]"),
        opt("control_group", "str", "never_treated", "as [analyses.staggered]", allowed=f"{_CS}:CONTROL_GROUPS"),
        opt("covariates", "str", "controls", "as [analyses.staggered]", allowed=("controls", "none")),
        opt("ps_fallback", "str", "none", "as [analyses.staggered]", allowed=("reg", "none")),
        opt("covariate_period", "str", "earlier", "as [analyses.staggered]", allowed=f"{_CS}:COVARIATE_PERIODS"),
    ),
    "pretrends": (
        opt("source", "str", "twfe", "event study whose pre-test is analysed", allowed=("twfe", "cs")),
        opt("window", "list[int]", [-4, 4], "event times used", expects="two integers [lo < 0, hi >= 0]"),
        opt("power", "float", 0.8, "power of the linear violation analysed (50% and 80% slopes always shown)"),
    ),
    "wild_bootstrap": (
        opt("reps", "int", 9999, "bootstrap replications (all 2^G sign vectors when fewer)", minimum=0,
            maximum=MAX_DRAWS),
        opt("weights", "str", "rademacher", "bootstrap weights", allowed="pilotdid.inference.wild_bootstrap:WEIGHTS"),
    ),
    "multiverse": (
        opt("estimator", "str|list[str]", "twfe", "estimators in the grid: twfe and/or sa, bjs, etwfe, stacked, cs (own SEs, "
            "SE preset \"own\", no placebo p)", allowed=("twfe", "sa", "bjs", "etwfe", "stacked", "cs"),
            noun="multiverse estimator"),
        opt("index_system", "str|list[str]", FROM_STUDY, "indicator systems in the grid ([index] system or alternatives)"),
        opt("index_method", "str|list[str]", FROM_STUDY, "index weighting methods in the grid"),
        opt("pooling", "str|list[str]", FROM_STUDY, "index weight poolings in the grid"),
        opt("treatment_rule", "str|list[str]", FROM_STUDY, "treatment-year rules in the grid"),
        opt("sample", "str|list[str]", "full", "samples in the grid (full, drop_capitals, drop_YEAR, ...)"),
        opt("winsorize", "float|list[float]", 0, "winsorising levels (percent) in the grid"),
        opt("controls", "str|list[str]", "study", "control sets in the grid: the study's controls and/or none",
            allowed=("study", "none"), noun="control set"),
        opt("vcov", "str|list[str]", FROM_STUDY, "standard-error presets in the grid", allowed=_PRESETS, noun="standard-error preset"),
        opt("placebo_draws", "int", 99, "placebo draws per specification", minimum=0, maximum=MAX_DRAWS),
        opt("draws", "int", 99, "same as placebo_draws (--draws overrides)", minimum=0, maximum=MAX_DRAWS),
        opt("placebo_kind", "str", "permute_cohorts", "placebo kind", allowed=_PLACEBO_KINDS, noun="placebo kind"),
        opt("capital_column", "str", None, "as [analyses.robustness]"),
        opt("max_specs", "int", 2000, "refuse grids larger than this", minimum=1),
    ),
    "index_systems": (
        opt("alternatives", "list[str]", "(all)", "names of the [index.alternatives] compared with the study's index"),
        opt("same_window", "bool", True, "also rebuild the study's index on each alternative's window"),
        opt("vcov", "str", FROM_STUDY, "standard-error preset (default: [model] vcov)", allowed=_PRESETS, noun="standard-error preset"),
    ),
    "matching": (
        opt("period", "int", "(the last period)", "the period matched (one cross-section of the panel)"),
        opt("treatment", "str", "current", "treated = the row's treatment in that period, or ever treated in the panel",
            allowed=("current", "ever")),
        opt("estimand", "str", "att", "average effect on the treated (att) or on everyone (ate; controls matched to "
            "treated units too)", allowed="pilotdid.estimation.matching:ESTIMANDS"),
        opt("outcome", "str", FROM_STUDY, "outcome whose effect is estimated (default: [model] outcome)"),
        opt("covariates", "list[str]", FROM_STUDY, "covariates of the logit propensity score (default: controls)"),
        opt("covariate_period", "int", None, "take the covariates from this period (e.g. pre-treatment)"),
        opt("methods", "list[str]", ["nearest", "radius", "kernel"], "matching methods, one table row each",
            allowed="pilotdid.design.psm:MATCH_METHODS", noun="matching method"),
        opt("k", "int", 1, "nearest neighbours per treated unit"),
        opt("replacement", "bool", True, "nearest-neighbour matching with replacement"),
        opt("ties", "bool", True, "use every control tied with the k-th nearest (R Match ties = TRUE)"),
        opt("caliper", "float", None, "caliper of nearest-neighbour matching, score units (none by default)"),
        opt("radius", "float", 0.01, "caliper of radius matching, score units"),
        opt("bandwidth", "float", 0.06, "bandwidth of Epanechnikov kernel matching"),
        opt("exact", "list[str]", [], "columns matched exactly (strata)"),
        opt("common_support", "bool", False, "drop treated units outside the controls' score range"),
        opt("variance", "str", "robust", "SE behind t, p and the CI: Abadie-Imbens (2006) heteroskedasticity-robust "
            "(Var.calc = J, score treated as known, R Matching/psmatch2), homoskedastic (R Match default), or "
            "estimated_score (the robust one with the Abadie-Imbens 2016 adjustment for the estimated logit, Stata "
            "teffects psmatch's default; nearest neighbour with replacement, no caliper/exact/common support); "
            "all that apply are reported", allowed="pilotdid.estimation.matching:VARIANCES"),
        opt("variance_neighbors", "int", 2, "same-group neighbours J of the robust conditional variance (Stata "
            "vce(robust, nn(J + 1)): Stata counts the unit itself, its default nn(2) is J = 1)"),
        opt("distance_tolerance", "float", 1e-5, "score distances (squared, over the score variance) closer than "
            "this tie (R Match distance.tolerance; 0 = exact ties, as teffects)"),
    ),
    "paper_comparison": (
        opt("column_maps", "table", {}, "table -> {our column -> published column}"),
        opt("missing", "table", {}, "'table:column[:term]' -> why a published number has no counterpart"),
    ),
}


#: [analyses.NAME] -> the table and figure names it writes (file stems of tables/ and figures/). ``[study] outputs``
#: may rename any of them (and retitle it); a name no analysis writes is refused before the panel is read.
#: tests/study/test_output_names.py checks that the analyses write no name missing here.
ANALYSIS_OUTPUTS: dict[str, tuple[str, ...]] = {
    "treatment_map": ("treatment_map",),
    "descriptives": ("descriptives",),
    "index_weights": ("index_weights", "index_over_time", "indicator_coverage"),
    "index_systems": ("index_systems",),
    "baseline": ("baseline",),
    "vcov_presets": ("vcov_presets",),
    "event_study": ("event_study", "event_study_coefficients"),
    "placebo": ("placebo", "placebo_summary", "placebo_in_time"),
    "robustness": ("robustness", "robustness_referee", "winsorising_counts",
                   *(f"psm_{kind}_{method}" for kind in ("balance", "pscore") for method in ("nearest", "radius", "kernel"))),
    "mechanism": ("mechanism", "mechanism_three_step"),
    "heterogeneity": ("heterogeneity", "heterogeneity_forest"),
    "staggered": ("staggered_cs_att_gt", "staggered_dcdh", "staggered_twowayfeweights", "staggered_stacked_subexperiments",
                  "staggered_sdid", "staggered_event_study", "staggered_overall_att", "staggered_estimator_comparison",
                  "staggered_bacon", "staggered_bacon_comparisons"),
    "honest": ("honest_rm", "honest_sd"),
    "pretrends": ("pretrends_power",),
    "wild_bootstrap": ("wild_bootstrap",),
    "multiverse": ("specification_curve", "specification_curve_one_at_a_time", "specification_curve_by_choice",
                   "specification_curve_summary"),
    "matching": ("matching_att", *(f"matching_balance_{method}" for method in ("nearest", "radius", "kernel"))),
    "paper_comparison": ("paper_vs_pilotdid",),
}
#: keys of one ``[study] outputs`` entry
OUTPUT_KEYS = {"name": "file name (stem) of the table/figure", "title": "its title (a string or {en, zh})",
               "ref": "how notes refer to it (e.g. \"Table 5\"; default: table 'NAME')"}
_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def output_names() -> dict[str, str]:
    """Every output name an analysis writes -> the analysis writing it."""
    return {name: analysis for analysis, names in ANALYSIS_OUTPUTS.items() for name in names}


def check_unit_noun(noun: Any, where: str) -> str | dict[str, str]:
    """``[study] unit_noun`` validated: a noun of the catalogue's ``[unit_noun]`` or a table {one, many, zh}."""
    from pilotdid.i18n import UNIT_NOUN_KEYS, unit_nouns

    if isinstance(noun, str) and noun in unit_nouns():
        return noun
    if isinstance(noun, dict) and set(noun) == set(UNIT_NOUN_KEYS) and all(
            isinstance(v, str) and v.strip() for v in noun.values()):
        return dict(noun)
    raise PilotdidInputError(
        f"[study] unit_noun must be one of {', '.join(unit_nouns())} or a table {{one, many, zh}}, got {noun!r}",
        where=where, fix='write e.g. unit_noun = "county", or unit_noun = { one = "prefecture", many = "prefectures", '
                         'zh = "地级市" }')


def check_outputs(outputs: Any, where: str) -> dict[str, dict[str, Any]]:
    """``[study] outputs`` validated: ``{output = {name, title, ref}}`` with known output names, file-safe stems and
    no two outputs written to one file. Returns the table with every entry a plain dict."""
    import difflib

    known = output_names()
    checked: dict[str, dict[str, Any]] = {}
    for key, entry in outputs.items():
        here = f"{where} [study] outputs.{key}"
        if key not in known:
            # a paper's name around a generic one ("figure1_event_study") points to it first
            close = sorted((n for n in known if key.endswith("_" + n)), key=len, reverse=True)[:1] or \
                difflib.get_close_matches(key, list(known), n=1)
            raise PilotdidInputError(
                f"unknown output '{key}' in [study] outputs: no analysis writes a table or figure of that name", where=where,
                fix=(f"did you mean '{close[0]}'? " if close else "") + "the names are listed by `pilotdid options outputs`")
        if not isinstance(entry, dict) or not entry:
            raise PilotdidInputError(f"[study] outputs.{key} must be a table such as {{ name = \"...\", title = \"...\" }}, "
                                     f"got {entry!r}", where=where, fix=f'write {key} = {{ name = "my_{key}" }}')
        bad = sorted(set(entry) - set(OUTPUT_KEYS))
        if bad:
            raise PilotdidInputError(f"unknown key(s) {', '.join(bad)} in [study] outputs.{key}", where=where,
                                     fix=f"valid keys: {', '.join(OUTPUT_KEYS)}")
        name = entry.get("name", key)
        if not isinstance(name, str) or not _STEM.fullmatch(name):
            raise PilotdidInputError(f"[study] outputs.{key} name must be a file name without folder or suffix "
                                     f"(letters, digits, _ . -), got {name!r}", where=here, fix=f'e.g. name = "table1_{key}"')
        title = entry.get("title")
        if title is not None and not (isinstance(title, str) or (
                isinstance(title, dict) and "en" in title and set(title) <= {"en", "zh"}
                and all(isinstance(v, str) for v in title.values()))):
            raise PilotdidInputError(f"[study] outputs.{key} title must be a string or {{ en = \"...\", zh = \"...\" }}, "
                                     f"got {title!r}", where=here, fix='e.g. title = "Table 1: ..."')
        if "ref" in entry and not isinstance(entry["ref"], str):
            raise PilotdidInputError(f"[study] outputs.{key} ref must be a string, got {entry['ref']!r}", where=here,
                                     fix='e.g. ref = "Table 1"')
        checked[key] = dict(entry)
    final: dict[str, str] = {}
    for key in known:
        name = checked.get(key, {}).get("name", key)
        if name in final:
            other = final[name]
            first, second = (other, key) if other in checked else (key, other)
            raise PilotdidInputError(f"[study] outputs: '{first}' and '{second}' would both be written as '{name}'",
                                     where=where, fix=f"give '{first}' another name")
        final[name] = key
    return checked


def options_of(analysis: str) -> tuple[Option, ...]:
    """The declared options of ``analysis`` (``seed`` included)."""
    return (*ANALYSIS_OPTIONS.get(analysis, ()), SEED)


def allowed_values(analysis: str, name: str) -> tuple[Any, ...]:
    """The allowed values declared for option ``name`` of ``analysis`` (for an analysis that loops over them)."""
    return next(o for o in options_of(analysis) if o.name == name).allowed or ()


def option_names(analysis: str) -> tuple[str, ...]:
    """Names of the declared options of ``analysis`` (``seed`` included)."""
    return tuple(o.name for o in options_of(analysis))


_SCALARS = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "table": lambda v: isinstance(v, dict),
    "any": lambda v: True,
}


def _matches(value: Any, kind: str) -> bool:
    for alt in kind.split("|"):
        if alt.startswith("list[") and alt.endswith("]"):
            inner = alt[5:-1]
            if isinstance(value, list) and all(_SCALARS[inner](v) for v in value):
                return True
        elif _SCALARS[alt](value):
            return True
    return False


def _range_words(o: Option) -> str:
    """``an integer 0–8``, ``a non-negative integer``, ``a positive integer up to 1,000,000``,
    ``an integer from 2 to 1,000,000``, ``a number >= 0.5``."""
    kind, lo, hi = o.type.split("|")[0], o.minimum, o.maximum
    if lo is not None and hi is not None and hi < 1000:
        return f"{type_words(kind)} {lo}–{hi}"
    if kind == "int" and lo in (0, 1):
        return ("a non-negative integer" if lo == 0 else "a positive integer") + (f" up to {hi:,}" if hi is not None else "")
    if lo is not None:
        return f"{type_words(kind)} " + (f"from {lo:,} to {hi:,}" if hi is not None else f">= {lo:,}")
    return f"{type_words(kind)} up to {hi:,}"


def check_analysis_options(analysis: str, options: dict[str, Any]) -> None:
    """Refuse unknown keys, wrong types, numbers out of range and values outside ``allowed`` in ``[analyses.<analysis>]``.

    The one check of an analysis's options: the runner calls it for every analysis before any data is read, and
    each analysis's ``run`` calls it first, so a direct call (the Python API, tests) is refused the same way.
    An analysis keeps only the checks a declaration cannot express (an empty list, a window's shape, cross-key
    constraints, values that depend on the data).
    """
    where = f"[analyses.{analysis}]"
    if analysis not in ANALYSIS_OPTIONS:  # an analysis module whose options are not declared is refused, not waved through
        raise PilotdidInputError(f"unknown analysis {where}", where=where, fix=f"use one of: {', '.join(ANALYSIS_OPTIONS)}")
    declared = {o.name: o for o in options_of(analysis)}
    unknown = sorted(set(options) - set(declared))
    if unknown:
        valid = [n for n in declared if n != "seed"]
        raise PilotdidInputError(f"unknown option(s) {', '.join(unknown)}", where=where,
                                 fix=f"valid options: {', '.join(valid)}" if valid else "this analysis takes no options")
    for key, value in options.items():
        o = declared[key]
        if not _matches(value, o.type):
            raise PilotdidInputError(f"{key} must be {o.expects or type_words(o.type)}, got {value!r}", where=f"{where} {key}",
                                     fix=f"e.g. {key} = {_toml(o.default) if o.default not in (None, FROM_STUDY) else '...'}")
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        above = number and o.maximum is not None and value > o.maximum
        if above or (number and o.minimum is not None and value < o.minimum):
            example = o.default if isinstance(o.default, (int, float)) and not isinstance(o.default, bool) else o.minimum
            raise PilotdidInputError(f"{key} must be {_range_words(o)}, got {value!r}", where=f"{where} {key}",
                                     fix=f"use at most {o.maximum:,}" if above else f"e.g. {key} = {example}")
        if o.allowed is not None:
            values = value if isinstance(value, list) else [value]
            bad = [v for v in values if isinstance(v, str) and v not in o.allowed]
            if bad:
                text = f"unknown {o.noun} {bad[0]!r}" if o.noun else f"{key} = {bad[0]!r} is not allowed"
                raise PilotdidInputError(text, where=f"{where} {key}",
                                         fix=f"use one of {list(o.allowed)}")


def check_study_options(analyses: dict[str, dict[str, Any]]) -> None:
    """Check every ``[analyses.X]`` table of a study (before any data is read)."""
    for name, options in analyses.items():
        check_analysis_options(name, dict(options))


# --------------------------------------------------------------------------------------------- docs

#: The sections outside [analyses]: key -> (type, default, help); read them through section_keys(). The study parser
#: (study/spec.py) checks each key's type from here.
_SECTION_KEYS: dict[str, dict[str, tuple[str, Any, str]] | None] = {
    "study": {
        "name": ("str", "(required)", "short name; results.json 'study'"),
        "title": ("str", "(the name)", "title of the report"),
        "seed": ("int", 12345, "seed of every random draw (--seed overrides)"),
        "lang": ("str", "en", "report language: en or zh (--lang overrides)"),
        "published": ("str", None, "TOML file of the paper's published numbers (paper-vs-ours)"),
        "description": ("str", None, "one paragraph printed at the top of the report"),
        "caveats": ("list", [], "lines printed in the report's caveats"),
        "labels": ("table", {}, "column -> display label (or {en, zh}) used by every table"),
        "unit_noun": ("str|table", "unit", "what the units are called in generated prose and table labels: city, "
                      "county, province, firm, state, region, country, school, district or unit (English plural "
                      "and Chinese from the catalogue: \"county\" prints counties / 县), or a table "
                      "{ one = \"prefecture\", many = \"prefectures\", zh = \"地级市\" }"),
        "outputs": ("table", {}, "output name -> { name = file name, title = title or {en, zh}, ref = how notes cite it }: "
                    "renames and retitles the tables and figures the analyses write (names: `pilotdid options outputs`)"),
    },
    "data": {
        "panel": ("str", "(required)", "panel file (.csv .xlsx .dta .parquet) relative to the study file, or "
                  "builtin:city_panel (the shipped real city panel, pilotdid data build)"),
        "sheet": ("str|int", None, "xlsx sheet"),
        "unit": ("str", "(required)", "unit column"),
        "time": ("str", "(required)", "period column (whole numbers)"),
        "years": ("list", None, "[first, last] periods kept (rows outside counted)"),
        "balance": ("bool", False, "keep only units observed in every period (dropped units counted)"),
        "drop_missing": ("bool", True, "drop rows with a missing model variable (listwise; counted)"),
        "label_column": ("str", None, "column with a display name per unit (maps, tables)"),
        "yearbook": ("bool", False, "the panel is a city-yearbook file read through `pilotdid data import` (headers, units, city ids)"),
    },
    "treatment": {
        "column": ("str", None, "form (a): a 0/1 treatment column"),
        "first_treat": ("str", None, "form (b): first treated period (empty/0 = never treated)"),
        "registry": ("str", None, "form (c): a shipped policy list (pilotdid registry list) or a CSV"),
        "batches": ("list", "(all)", "registry batches used"),
        "rule": ("str", "approval_year", "treatment-year rule: approval_year, next_year_if_after, lag"),
        "cutoff_month": ("int", 7, "next_year_if_after: approvals after this month count from the next year"),
        "lag": ("int", 1, "lag: periods after approval"),
        "county_rule": ("str", "parent", "county-level zones: parent, drop or ignore"),
        "allow_unverified": ("bool", False, "accept registry rows marked unverified"),
        "allow_unmatched": ("bool", False, "accept registry cities not found in the panel"),
        "name": ("str", "did", "name of the treatment term in tables and results.json"),
    },
    "model": {
        "outcome": ("str", "(required)", "outcome column (or the [index] column)"),
        "controls": ("list", [], "control columns"),
        "fixed_effects": ("list", "[unit, time]", "fixed-effect columns, the unit first"),
        "cluster": ("str", "(the unit)", "cluster column (CRV1)"),
        "vcov": ("str", DEFAULT_VCOV, "standard-error preset: lsdv, areg, xtreg_fe, reghdfe, fixest"),
        "weights": ("str", None, "column of analytic weights (Stata aw): baseline, event_study, vcov_presets, placebo and the "
                    "staggered twfe/sa/bjs/etwfe/stacked/twowayfeweights use them, dcdh as did_multiplegt_dyn's weight "
                    "(cell weights), cs too when constant within unit (R did's weightsname); honest and "
                    "pretrends read the weighted event study, the wild bootstrap the weighted regression, mechanism "
                    "weights its mediator regressions (three_step refused), heterogeneity its subgroup, interacted "
                    "and permutation fits, index_systems its headline refits, multiverse every specification; every "
                    "table names the weighting; robustness, matching and bacon/sdid are refused, saying why"),
        "few_clusters": ("int", 30, "below this many clusters, cluster-robust tables say so and the baseline adds "
                         "wild cluster bootstrap p and CI"),
    },
    "figures": {
        "formats": ("list", ["png", "pdf"], "figure file formats (png always written): png, pdf, svg"),
        "style": ("str", "color", "color, or grey for black-and-white print (every colour becomes the grey of its lightness)"),
        "width": ("str|float", "auto", "journal width: single (8.5 cm), double (17.5 cm), a number of cm, or auto"),
    },
    "tables": None,  # declared beside their checker: report/regression_table.py TABLE_OPTIONS (see section_keys)
    "index": {
        "system": ("str", "(required)", "indicator system: builtin name or TOML path"),
        "method": ("str", "entropy", "entropy, critic, topsis, equal or pca"),
        "pooling": ("str", "pooled", "pooled or by_year"),
        "column": ("str", "index", "name of the index column (use it as [model] outcome)"),
        "shift": ("float", 0.0001, "shift in the entropy shares"),
        "drop_constant": ("bool", False, "drop zero-range indicators instead of refusing"),
        "exclude": ("list", [], "indicators left out"),
        "exclude_reason": ("str", None, "why (printed in the notes)"),
        "missing": ("str", "error", "missing indicator cells: error (refused with the cell), drop_rows (those rows get "
                    "no index value; counted) or drop_indicators (indicators with a missing cell left out; named)"),
        "alternatives": ("table", {}, "named alternative indicator systems: {name = {system, years, ...}}"),
        "absent": ("str", "error", "indicators whose column the panel lacks: error, or exclude (listed; an indicator "
                   "the system marks unavailable is used when the panel has its column)"),
    },
}


def section_keys() -> dict[str, dict[str, tuple[str, Any, str]]]:
    """Every section's keys outside [analyses]: key -> (type, default, help). [tables] comes from the module that
    checks it, imported here only when asked (it loads pandas; `pilotdid options` does not need it)."""
    from pilotdid.report.regression_table import TABLE_OPTIONS

    return {section: TABLE_OPTIONS if keys is None else keys for section, keys in _SECTION_KEYS.items()}


def _toml(value: Any) -> str:
    if value is None:
        return "(none)"
    if value == FROM_STUDY or (isinstance(value, str) and value.startswith("(")):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{}" if not value else "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return repr(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def study_file_reference() -> str:
    """docs/study-file.md: every section, key, type, default and allowed value, generated from the declarations."""
    lines = [
        "# Study-file reference",
        "",
        "<!-- Generated by `python -m pilotdid.study.options > docs/study-file.md` from src/pilotdid/study/options.py;",
        "     tests/test_study_options.py fails when this file and the declarations differ. Do not edit by hand. -->",
        "",
        "A study file is TOML. `pilotdid run STUDY.toml` refuses any key not listed here (with the valid keys) and",
        "checks every `[analyses.*]` option's type, range and allowed values before it reads the panel.",
        "Each `[analyses.NAME]` table switches an analysis on; they run in the order written.",
        "",
    ]
    for section, keys in section_keys().items():
        lines += [f"## [{section}]", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        lines += [f"| `{k}` | {_cell(t)} | `{_cell(_toml(d))}` | {_cell(h)} |" for k, (t, d, h) in keys.items()]
        lines.append("")
    lines += ["## [study] outputs: table and figure names", "",
              "Every table and figure an analysis writes has a generic name (its file stem in `tables/` or `figures/`).",
              "`[study] outputs` renames and retitles them, e.g. a paper's numbering:", "",
              "```toml", "[study.outputs]",
              'robustness = { name = "table5_robustness", title = { en = "Table 5: robustness checks", zh = "表5：稳健性检验" }, '
              'ref = "Table 5" }',
              'event_study = { name = "figure1_event_study" }', "```", "",
              "`name` is the file stem, `title` the table's title or the figure's caption, `ref` how notes cite it "
              "(default: table 'NAME'). A table and a figure of the same name are renamed together. A name no "
              "analysis writes is refused before the panel is read.", "",
              "| analysis | output names |", "|---|---|"]
    lines += [f"| `{a}` | {', '.join(f'`{n}`' for n in names)} |" for a, names in ANALYSIS_OUTPUTS.items()]
    lines.append("")
    lines += ["## [analyses.NAME]", "",
              "Every analysis also takes `seed` (default: `[study] seed`; `--seed` sets it for all).", ""]
    for name, options in ANALYSIS_OPTIONS.items():
        lines += [f"### [analyses.{name}]", ""]
        if not options:
            lines += ["No options: `[analyses." + name + "]` on its own switches it on.", ""]
            continue
        lines += ["| key | type | default | allowed | meaning |", "|---|---|---|---|---|"]
        for o in options:
            allowed = ", ".join(f"`{a}`" for a in o.allowed) if o.allowed else _cell(o.bounds)
            lines.append(f"| `{o.name}` | {_cell(o.type)} | `{_cell(_toml(o.default))}` | {allowed} | {_cell(o.help)} |")
        example = [f"{o.name} = {_toml(o.default)}" for o in options
                   if o.default is not None and not (isinstance(o.default, str) and o.default.startswith("("))]
        lines += ["", "```toml", f"[analyses.{name}]", *example, "```", ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover - the generator
    import sys

    sys.stdout.write(study_file_reference())


def options_text(analysis: str | None = None) -> str:
    """Plain text for ``pilotdid options [ANALYSIS]``: one analysis's options, or every analysis with its keys."""
    if analysis is None:
        lines = ["Analyses of a study file ([analyses.NAME]) and their options (pilotdid options NAME for details;",
                 "every key of every section: docs/study-file.md; the table and figure names: pilotdid options outputs):", ""]
        for name, options in ANALYSIS_OPTIONS.items():
            lines.append(f"  {name:<18} {', '.join(o.name for o in options) or '(no options)'}")
        return "\n".join(lines) + "\n"
    if analysis == "outputs":
        lines = ["Table and figure names each analysis writes; [study] outputs renames and retitles them:",
                 '  [study.outputs]', '  robustness = { name = "table5_robustness", title = "Table 5: robustness checks", '
                 'ref = "Table 5" }', ""]
        lines += [f"  {a:<18} {', '.join(names)}" for a, names in ANALYSIS_OUTPUTS.items()]
        return "\n".join(lines) + "\n"
    if analysis not in ANALYSIS_OPTIONS:
        raise PilotdidInputError(f"unknown analysis {analysis!r}", where="pilotdid options",
                                 fix=f"use one of: {', '.join(ANALYSIS_OPTIONS)} (or outputs: the table and figure names)")
    lines = [f"[analyses.{analysis}]", ""]
    for o in options_of(analysis):
        allowed = f"  one of: {', '.join(map(str, o.allowed))}" if o.allowed else (f"  {o.bounds}" if o.bounds else "")
        lines += [f"  {o.name} ({type_words(o.type)}; default {_toml(o.default)})", f"      {o.help}{allowed}"]
    return "\n".join(lines) + "\n"
