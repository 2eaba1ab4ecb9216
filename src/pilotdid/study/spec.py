"""Study files (TOML): parse and validate into a :class:`StudySpec`.

Strict on purpose: an unknown key is almost always a typo that would otherwise be ignored and give
a plausible but wrong result, so it is refused with the list of valid keys. See
docs/interface.md for the minimal keys; this module documents every key it accepts.
"""

from __future__ import annotations

import importlib.util
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.twfe.covariance import DEFAULT_VCOV
from pilotdid.i18n import DEFAULT_UNIT_NOUN
from pilotdid.study.options import check_outputs, check_unit_noun, section_keys
from pilotdid.report.regression_table import check_table_options

BUILTIN_PREFIX = "builtin:"
TREATMENT_FORMS = ("column", "first_treat", "registry")
TREATMENT_RULES = ("approval_year", "next_year_if_after", "lag")
COUNTY_RULES = ("parent", "drop", "ignore")
#: Figure file formats a study may ask for; png is required because report.html and report.docx embed it.
FIGURE_FORMATS = ("png", "pdf", "svg")
DEFAULT_FIGURE_FORMATS = ("png", "pdf")
#: [figures] style: "color" (default) or "grey" (black-and-white print: every colour becomes a grey of its lightness)
FIGURE_STYLES = ("color", "grey")
#: [figures] width: a journal column by name (cm), or a number of cm; "auto" keeps each figure's own size
FIGURE_WIDTHS_CM = {"single": 8.5, "double": 17.5}

_PYTHON_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "table": dict}


def _python_types(kind: str) -> type | tuple[type, ...]:
    """A declared type (``"str"``, ``"str|float"``) as the isinstance argument; a number in a union also takes an
    integer (a lone ``float`` takes one too, converted below)."""
    alternatives = kind.split("|")
    if len(alternatives) == 1:
        return _PYTHON_TYPES[kind]
    return tuple(t for alt in alternatives for t in ((int, float) if alt == "float" else (_PYTHON_TYPES[alt],)))


#: Every section's keys and their types, from the declarations (study/options.py section_keys, which also
#: generate docs/study-file.md); [tables] values are checked further by report.regression_table.check_table_options.
_KEYS: dict[str, dict[str, type | tuple[type, ...]]] = {
    section: {key: _python_types(kind) for key, (kind, _, _) in keys.items()} for section, keys in section_keys().items()
}
_REQUIRED = {"study": ("name",), "data": ("panel", "unit", "time"), "model": ("outcome",)}


@dataclass
class StudySpec:
    """A validated study file. Paths are resolved relative to the study file."""

    path: Path | None
    text: str
    name: str
    title: str
    seed: int
    lang: str
    data: dict[str, Any]
    treatment: dict[str, Any]
    model: dict[str, Any]
    index: dict[str, Any] | None
    analyses: dict[str, dict[str, Any]]
    #: [figures]: ``formats`` (tuple of file suffixes, png always among them), ``style`` ("color" | "grey"),
    #: ``width_cm`` (None = each figure's own width; "single" = 8.5, "double" = 17.5 or a number in the study file)
    figures: dict[str, Any] = field(
        default_factory=lambda: {"formats": DEFAULT_FIGURE_FORMATS, "style": "color", "width_cm": None}
    )
    published_path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    #: [tables]: regression-table options for every table (stat, digits, stars, keep/drop/order, indicate,
    #: fe_rows, stats, notes); an analysis's own keys of the same name override them
    tables: dict[str, Any] = field(default_factory=dict)
    #: [study] outputs: generic output name -> {name, title, ref} (study/options.py check_outputs)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: [study] unit_noun: a catalogue noun ("county") or {one, many, zh} (study/options.py check_unit_noun)
    unit_noun: str | dict[str, str] = DEFAULT_UNIT_NOUN

    @property
    def treatment_form(self) -> str:
        return next(f for f in TREATMENT_FORMS if f in self.treatment)

    def resolve(self, relative: str) -> Path | str:
        """A data path from the study file: builtin names stay as they are, files resolve next to the study."""
        if relative.startswith(BUILTIN_PREFIX):
            return relative
        p = Path(relative).expanduser()
        if not p.is_absolute() and self.path is not None:
            p = self.path.parent / p
        return p


    def input_paths(self) -> list[Path]:
        """Every file of the user's that a run reads (study file, panel, policy list, system, published numbers):
        an output folder may never hold or replace one of them."""
        paths = [self.path] if self.path is not None else []
        named = [self.data.get("panel")]
        if isinstance(self.treatment.get("registry"), str) and self.treatment["registry"].lower().endswith(".csv"):
            named.append(self.treatment["registry"])
        if self.index and str(self.index.get("system", "")).endswith(".toml"):
            named.append(self.index["system"])
        for item in named:
            if isinstance(item, str) and not item.startswith(BUILTIN_PREFIX):
                paths.append(Path(self.resolve(item)))
        if self.published_path is not None:
            paths.append(self.published_path)
        return paths


def analysis_module_exists(name: str) -> bool:
    return importlib.util.find_spec(f"pilotdid.study.analyses.{name}") is not None


def available_analyses() -> list[str]:
    import pkgutil

    import pilotdid.study.analyses as pkg

    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))


def figure_formats(formats, *, where: str) -> tuple[str, ...]:
    """Validated figure formats, in the order given (duplicates refused, png required)."""
    formats = list(formats)
    bad = [f for f in formats if f not in FIGURE_FORMATS]
    if bad or not formats or len(set(formats)) != len(formats):
        raise PilotdidInputError(
            f"figure formats must be distinct values from {', '.join(FIGURE_FORMATS)}, got {formats!r}", where=where,
            fix='write formats = ["png", "pdf"]',
        )
    if "png" not in formats:
        raise PilotdidInputError(
            f"figure formats must include png (report.html and report.docx embed it), got {formats!r}", where=where,
            fix='add "png", e.g. formats = ["png", "svg"]',
        )
    return tuple(formats)


def figure_width_cm(width, *, where: str) -> float | None:
    """[figures] width as centimetres: "single" 8.5, "double" 17.5, a number of cm (4–30), or "auto" (None)."""
    if width == "auto":
        return None
    if isinstance(width, str) and width in FIGURE_WIDTHS_CM:
        return FIGURE_WIDTHS_CM[width]
    if isinstance(width, (int, float)) and not isinstance(width, bool) and 4 <= width <= 30:
        return float(width)
    raise PilotdidInputError(
        f"[figures] width must be \"single\" (8.5 cm), \"double\" (17.5 cm), \"auto\" or a number of cm between 4 and 30, "
        f"got {width!r}", where=where, fix='write width = "single" or width = "double"',
    )


def load_study(path: str | Path) -> StudySpec:
    """Read and validate a study file; every problem is a one-line PilotdidInputError."""
    path = Path(path)
    if not path.exists():
        raise PilotdidInputError("study file not found", where=str(path), fix="check the path")
    if path.is_dir():
        raise PilotdidInputError("is a folder, not a study file", where=str(path), fix="give the .toml file itself")
    if not path.is_file():  # a FIFO or device would block the read
        raise PilotdidInputError("is not a regular file (a pipe, socket or device)", where=str(path),
                                 fix="give the study's .toml file")
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM (Windows Notepad) is not part of the TOML
    except UnicodeDecodeError:
        raise PilotdidInputError("study file is not UTF-8 text", where=str(path), fix="save it as UTF-8") from None
    return parse_study(text, path=path)


def parse_study(text: str, *, path: Path | None = None) -> StudySpec:
    where = str(path) if path else "study file"
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PilotdidInputError(f"TOML syntax error: {exc}", where=where, fix="correct the TOML syntax at that line") from None

    allowed_top = set(_KEYS) | {"analyses", "treatment"}
    for key in raw:
        if key not in allowed_top:
            raise PilotdidInputError(
                f"unknown section [{key}]", where=where, fix=f"use one of: {', '.join(sorted(allowed_top))}"
            )
    for section, required in _REQUIRED.items():
        if section not in raw:
            raise PilotdidInputError(f"missing section [{section}]", where=where, fix=f"add [{section}] with keys {', '.join(required)}")
    tables = {}
    for section, keys in _KEYS.items():
        table = raw.get(section, {})
        if not isinstance(table, dict):
            raise PilotdidInputError(f"[{section}] must be a table", where=where, fix=f"write it as [{section}] followed by key = value lines")
        for key, value in table.items():
            if key not in keys:
                raise PilotdidInputError(
                    f"unknown key '{key}' in [{section}]", where=where, fix=f"valid keys are: {', '.join(keys)}"
                )
            expected = keys[key]
            # TOML integers are acceptable where a float is expected
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
                table[key] = value
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                names = expected.__name__ if isinstance(expected, type) else " or ".join(t.__name__ for t in expected)
                raise PilotdidInputError(
                    f"[{section}] {key} must be of type {names}, got {type(value).__name__} {value!r}", where=where,
                    fix=f"write {key} as a value of type {names}",
                )
        for key in _REQUIRED.get(section, ()):
            if key not in table:
                raise PilotdidInputError(f"[{section}] is missing the key '{key}'", where=where, fix=f"add {key} = ...")
        tables[section] = table

    model = dict(tables["model"])
    for key in ("controls", "fixed_effects"):
        values = model.get(key, [])
        if not all(isinstance(v, str) for v in values):
            raise PilotdidInputError(f"[model] {key} must be a list of column names", where=where, fix=f'write {key} = ["a", "b"]')
    model.setdefault("controls", [])
    model.setdefault("fixed_effects", [tables["data"]["unit"], tables["data"]["time"]])
    model.setdefault("cluster", tables["data"]["unit"])
    model.setdefault("vcov", DEFAULT_VCOV)

    treatment = dict(tables["treatment"])
    forms = [f for f in TREATMENT_FORMS if f in treatment]
    if len(forms) != 1:
        got = ", ".join(forms) if forms else "none"
        raise PilotdidInputError(
            f"[treatment] needs exactly one of column / first_treat / registry (got {got})", where=where,
            fix="keep one treatment form: a 0/1 column, a first-treatment-year column, or a registry policy",
        )
    if forms[0] != "registry":
        for key in ("batches", "rule", "cutoff_month", "lag", "county_rule", "allow_unverified", "allow_unmatched"):
            if key in treatment:
                raise PilotdidInputError(
                    f"[treatment] {key} only applies to registry = ...", where=where, fix=f"remove {key} or use registry"
                )
    else:
        rule = treatment.setdefault("rule", "approval_year")
        if rule not in TREATMENT_RULES:
            raise PilotdidInputError(f"[treatment] unknown rule '{rule}'", where=where, fix=f"use one of: {', '.join(TREATMENT_RULES)}")
        county = treatment.setdefault("county_rule", "parent")
        if county not in COUNTY_RULES:
            raise PilotdidInputError(f"[treatment] unknown county_rule '{county}'", where=where, fix=f"use one of: {', '.join(COUNTY_RULES)}")
        if "batches" in treatment and not all(isinstance(b, int) and not isinstance(b, bool) for b in treatment["batches"]):
            raise PilotdidInputError("[treatment] batches must be a list of integers", where=where, fix="write batches = [1, 2, 3]")

    data = dict(tables["data"])
    if "years" in data:
        years = data["years"]
        if len(years) != 2 or not all(isinstance(y, int) and not isinstance(y, bool) for y in years) or years[0] > years[1]:
            raise PilotdidInputError(
                f"[data] years must be [first, last] with first <= last, got {years!r}", where=where, fix="write years = [2012, 2020]"
            )
    if "sheet" in data and not str(data["panel"]).lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise PilotdidInputError("[data] sheet only applies to Excel panels", where=where, fix="remove sheet, or point panel to an .xlsx file")

    index = tables.get("index") or None
    if index is not None:
        if "system" not in index:
            raise PilotdidInputError("[index] is missing the key 'system'", where=where, fix='add system = "cbec_resilience" or a path to an indicator-system TOML')
        if index.get("absent", "error") not in ("error", "exclude"):
            raise PilotdidInputError(f"[index] absent must be \"error\" or \"exclude\", got {index['absent']!r}", where=where,
                                     fix='absent = "exclude" leaves out indicators whose column the panel lacks (listed)')
        index.setdefault("method", "entropy")
        index.setdefault("pooling", "pooled")
        index.setdefault("column", model["outcome"])

    analyses_raw = raw.get("analyses", {})
    if not isinstance(analyses_raw, dict):
        raise PilotdidInputError("[analyses] must hold tables like [analyses.baseline]", where=where, fix="write [analyses.baseline]")
    analyses: dict[str, dict[str, Any]] = {}
    for name, options in analyses_raw.items():
        if not isinstance(options, dict):
            raise PilotdidInputError(f"analyses.{name} must be a table", where=where, fix=f"write [analyses.{name}] on its own line")
        if not name.isidentifier() or name.startswith("_") or not analysis_module_exists(name):
            raise PilotdidInputError(
                f"unknown analysis [analyses.{name}]", where=where, fix=f"use one of: {', '.join(available_analyses())}"
            )
        analyses[name] = dict(options)

    figures = dict(tables.get("figures", {}))
    figures["formats"] = figure_formats(figures.get("formats", DEFAULT_FIGURE_FORMATS), where=f"{where} [figures] formats")
    figures["style"] = figures.get("style", "color")
    if figures["style"] not in FIGURE_STYLES:
        raise PilotdidInputError(
            f"[figures] style must be one of {', '.join(FIGURE_STYLES)}, got {figures['style']!r}", where=where,
            fix='write style = "color" or style = "grey"',
        )
    figures["width_cm"] = figure_width_cm(figures.pop("width", "auto"), where=f"{where} [figures] width")

    study = tables["study"]
    lang = study.get("lang", "en")
    if lang not in ("en", "zh"):
        raise PilotdidInputError(f"[study] lang must be 'en' or 'zh', got {lang!r}", where=where, fix='write lang = "en"')
    spec = StudySpec(
        path=path.resolve() if path else None,
        text=text,
        name=study["name"],
        title=study.get("title", study["name"]),
        seed=study.get("seed", 12345),
        lang=lang,
        data=data,
        treatment=treatment,
        model=model,
        index=index,
        analyses=analyses,
        figures=figures,
        raw=raw,
        tables=check_table_options(tables.get("tables", {}), f"{where} [tables]"),
        outputs=check_outputs(study.get("outputs", {}), where),
        unit_noun=check_unit_noun(study.get("unit_noun", DEFAULT_UNIT_NOUN), where),
    )
    if "published" in study:
        spec.published_path = Path(spec.resolve(study["published"]))
    return spec
