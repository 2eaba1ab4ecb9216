"""Bad input never gets through: every case is refused with exit code 2 and one line naming the culprit and fix.

Each case builds a SYNTHETIC panel and a study file in a fresh folder, runs ``pilotdid run STUDY --out DIR``
in-process and checks the contract of :mod:`pilotdid.cli`:

* exit code 2, exactly one line on stderr, starting ``pilotdid: error:``, containing the expected culprit and a
  ``fix:``, with no traceback;
* no output folder (and no hidden temporary sibling) is left behind;
* every input file is byte-identical afterwards (sha256 of the whole folder before and after).

The same case then goes through the Python API (``load_study`` + ``run_study``), which must raise
:class:`~pilotdid.errors.PilotdidInputError` (never another exception). Cases driven by a command-line option
only (``--jobs``, ``--lang``) pass the option to the API as an :class:`Overrides` where one exists.

Handled rather than refused (documented, tested at the bottom): singleton fixed-effect groups under the
reghdfe preset are dropped and counted; first-treatment years after the panel are coded untreated and counted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pilotdid.errors import PilotdidInputError
from pilotdid.study.runner import Overrides, run_study
from pilotdid.study.spec import load_study

from .conftest import BASE_STUDY, sha256_tree, synthetic_panel


def study(*replacements: tuple[str, str], append: str = "") -> str:
    """The base study file with literal replacements (each must apply) and extra text appended."""
    text = BASE_STUDY
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text + append


def with_cell(column: str, row: int, value) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def mutate(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        df[column] = df[column].astype(object)
        df.loc[row, column] = value
        return df
    return mutate


@dataclass
class Case:
    id: str
    match: str
    study: str = BASE_STUDY
    panel: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    files: Callable[[Path], None] | None = None  # writes extra/other files (may replace panel.csv)
    args: tuple[str, ...] = ()
    overrides: dict = field(default_factory=dict)
    api: bool = True  # False: a command-line-only check with no API counterpart
    study_name: str = "study.toml"
    append: str = ""  # extra study-file text (e.g. an [analyses.*] table)

    def __post_init__(self) -> None:
        self.study = self.study + self.append


def _write_bytes(name: str, data: bytes) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        target = root / name
        if name.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.write_bytes(data)
    return write


def _xlsx(root: Path) -> None:
    synthetic_panel().to_excel(root / "panel.xlsx", sheet_name="data", index=False)


def _xlsx_dates(root: Path) -> None:
    """An Excel panel whose period column holds dates (1 January of each year), as spreadsheets often do."""
    frame = synthetic_panel()
    frame["year"] = pd.to_datetime(frame["year"].astype(str) + "-01-01")
    frame.to_excel(root / "dates.xlsx", index=False)


def _policy_csv(status: str, city: str = "杭州市") -> Callable[[Path], None]:
    def write(root: Path) -> None:
        pd.DataFrame({
            "batch": [1, 2], "city_name": [city, "宁波市"], "approval_year": [2014, 2016],
            "verification_status": [status, "verified_2plus"], "sources": ["synthetic test list", "synthetic test list"],
        }).to_csv(root / "policy.csv", index=False)
    return write


CITY_NAMES = ["杭州市", "宁波市", "温州市", "嘉兴市", "湖州市", "绍兴市", "金华市", "衢州市", "舟山市", "台州市",
              "丽水市", "南京市", "无锡市", "徐州市", "常州市", "苏州市", "南通市", "连云港市", "淮安市", "盐城市",
              "扬州市", "镇江市", "泰州市", "宿迁市"]


def _city_panel(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(unit=df["unit"].map(dict(zip(sorted(df["unit"].unique()), CITY_NAMES))))


def _provinces(spelling: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """A text cluster column, two provinces; row 8 (a Zhejiang unit's row) spelled ``spelling``."""
    def mutate(df: pd.DataFrame) -> pd.DataFrame:
        prov = np.where(df["unit"] < "u10", "Zhejiang", "Jiangsu").astype(object)
        prov[7] = spelling
        return df.assign(prov=prov)
    return mutate


def _collinear(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(x2=2.0 * df["x1"] + 1.0)


REGISTRY = ('column = "did"', 'registry = "policy.csv"')

CASES = [
    # --- panel files -------------------------------------------------------------------------------------------
    Case("panel-missing", "panel file not found", study(('panel = "panel.csv"', 'panel = "nowhere.csv"'))),
    Case("panel-is-folder", "panel path is a folder", study(('panel = "panel.csv"', 'panel = "adir.csv"')),
         files=_write_bytes("adir.csv/", b"")),
    Case("panel-unknown-format", "unknown panel format '.txt'", study(('panel = "panel.csv"', 'panel = "panel.txt"')),
         files=_write_bytes("panel.txt", b"unit,year\n")),
    Case("panel-corrupt-xlsx", "cannot read the file as .xlsx", study(('panel = "panel.csv"', 'panel = "panel.xlsx"')),
         files=_write_bytes("panel.xlsx", b"this is not a zip archive")),
    Case("panel-corrupt-parquet", "cannot read the file as .parquet",
         study(('panel = "panel.csv"', 'panel = "panel.parquet"')), files=_write_bytes("panel.parquet", b"PAR1 junk")),
    Case("panel-binary-csv", "cannot read the file as .csv", study(('panel = "panel.csv"', 'panel = "bin.csv"')),
         files=_write_bytes("bin.csv", bytes(range(128, 256)) * 8)),
    Case("panel-header-only", "the panel has no rows", study(('panel = "panel.csv"', 'panel = "empty.csv"')),
         files=_write_bytes("empty.csv", b"unit,year,did,y,x1\n")),
    Case("panel-zero-bytes", "cannot read the file as .csv", study(('panel = "panel.csv"', 'panel = "zero.csv"')),
         files=_write_bytes("zero.csv", b"")),
    Case("excel-date-time-column", "column 'year' holds dates", study(('panel = "panel.csv"', 'panel = "dates.xlsx"')),
         files=_xlsx_dates),
    Case("sheet-not-found", "sheet 'S9' not found",
         study(('panel = "panel.csv"', 'panel = "panel.xlsx"\nsheet = "S9"')), files=_xlsx),
    Case("sheet-index-out-of-range", "sheet index 4 out of range",
         study(('panel = "panel.csv"', 'panel = "panel.xlsx"\nsheet = 4')), files=_xlsx),
    Case("builtin-panel-unknown", "unknown builtin panel 'moon'", study(('panel = "panel.csv"', 'panel = "builtin:moon"'))),
    Case("column-unit-missing", "column 'city' (from [data] unit)", study(('unit = "unit"', 'unit = "city"'))),
    Case("column-time-missing", "column 'Year' (from [data] time) is not in the panel",
         study(('time = "year"', 'time = "Year"'), ('fixed_effects = ["unit", "year"]', 'fixed_effects = ["unit", "Year"]'))),
    Case("column-fe-missing", "column 'province' (from [model] fixed_effects)",
         study(('fixed_effects = ["unit", "year"]', 'fixed_effects = ["unit", "year", "province"]'))),
    Case("column-cluster-missing", "column 'prov' (from [model] cluster)", study(('cluster = "unit"', 'cluster = "prov"'))),
    Case("column-treatment-missing", "column 'treated' (from [treatment] column)",
         study(('column = "did"', 'column = "treated"'))),
    Case("duplicate-key-cli", "duplicate (unit, year) key", panel=lambda df: pd.concat([df, df.iloc[[17]]])),
    Case("non-numeric-outcome", "column 'y' has a non-numeric cell 'n/a?' at data row 12", panel=with_cell("y", 11, "n/a?")),
    Case("non-numeric-time", "column 'year' has a non-numeric cell '2015a'", panel=with_cell("year", 5, "2015a")),
    Case("fractional-time", "must hold whole periods", panel=with_cell("year", 5, 2015.5)),
    # a full-width IME: '２０１５' is refused with its row (Stata and R read it as not a number), never read as 2015
    Case("full-width-time", "column 'year' has the number '２０１５' written with full-width characters at data row 6",
         panel=with_cell("year", 5, "２０１５")),
    Case("empty-time-cell", "time column 'year' is empty at data row 4", panel=with_cell("year", 3, np.nan)),
    Case("empty-unit-cell", "unit column 'unit' is empty at data row 9", panel=with_cell("unit", 8, np.nan)),
    # 'ｕ０５' (full-width) and 'u05' are one id written two ways (equal after NFKC): both rows named, never merged
    # the same for a text cluster (or fixed-effect) column: a second spelling would silently be a second cluster
    Case("cluster-id-written-two-ways", "group ids 'Zhejiang' (data row 1) and 'Ｚｈｅｊｉａｎｇ' (data row 8) in column 'prov'",
         study(('cluster = "unit"', 'cluster = "prov"')), panel=_provinces("Ｚｈｅｊｉａｎｇ")),
    Case("cluster-id-with-spaces", "group id 'Zhejiang ' in column 'prov' has spaces around it at data row 8",
         study(('cluster = "unit"', 'cluster = "prov"')), panel=_provinces("Zhejiang ")),
    Case("unit-id-written-two-ways", "unit ids 'u01' (data row 11) and 'ｕ０１' (data row 12) in column 'unit'",
         panel=with_cell("unit", 11, "ｕ０１")),
    Case("treatment-out-of-range", "must be 0/1, found -1", panel=with_cell("did", 2, -1)),
    Case("treatment-text", "must be 0/1, found 'yes'", panel=with_cell("did", 2, "yes")),
    Case("treatment-full-width", "column 'did' has the number '１' written with full-width characters at data row 3",
         panel=with_cell("did", 2, "１")),
    Case("treatment-empty", "treatment column 'did' is empty in 1 rows", panel=with_cell("did", 2, np.nan)),
    Case("first-treat-negative", "must hold whole periods, found -2014",
         study(('column = "did"', 'first_treat = "first_year"')), panel=with_cell("first_year", 0, -2014)),
    Case("first-treat-full-width", "column 'first_year' has the number '２０１４' written with full-width characters",
         study(('column = "did"', 'first_treat = "first_year"')), panel=with_cell("first_year", 0, "２０１４")),
    Case("first-treat-text", "non-numeric value 'soon'", study(('column = "did"', 'first_treat = "first_year"')),
         panel=with_cell("first_year", 0, "soon")),
    Case("first-treat-varies", "varies within unit 'u13'", study(('column = "did"', 'first_treat = "first_year"')),
         panel=with_cell("first_year", 130, 2015)),
    Case("years-outside-panel", "no rows in years 1990-1995", study(('time = "year"', 'time = "year"\nyears = [1990, 1995]'))),
    Case("years-before-any-adoption", "no unit is ever treated",
         study(('time = "year"', 'time = "year"\nyears = [2010, 2012]'), ('column = "did"', 'first_treat = "first_year"'))),
    Case("all-always-treated", "no control group", study(('column = "did"', 'first_treat = "first_year"')),
         panel=lambda df: df.assign(first_year=2000)),
    Case("outcome-infinite", "column 'y' has an infinite value at data row 6", panel=with_cell("y", 5, np.inf)),
    Case("control-infinite-text", "column 'x1' has an infinite value at data row 6", panel=with_cell("x1", 5, "-inf")),
    Case("outcome-constant", "the outcome 'y' is constant (1)", panel=lambda df: df.assign(y=1.0)),
    Case("single-period", "every regressor is collinear with the fixed effects",
         panel=lambda df: df[df["year"] == 2017]),
    Case("outcome-all-missing", "no rows left after removing missing values", panel=lambda df: df.assign(y=np.nan)),
    Case("perfect-collinearity", "perfectly collinear", study(('controls = ["x1"]', 'controls = ["x1", "x2"]')),
         panel=_collinear),
    Case("treatment-collinear-with-control", "perfectly collinear",
         study(('controls = ["x1"]', 'controls = ["x1", "did_copy"]')), panel=lambda df: df.assign(did_copy=df["did"])),
    Case("treatment-name-is-control", "is also the outcome or a control", study(('controls = ["x1"]', 'controls = ["x1", "did"]'))),
    # --- study files ---------------------------------------------------------------------------------------------
    Case("study-missing", "study file not found", study_name="other.toml", args=("--study-override", "nowhere.toml")),
    Case("study-is-folder", "is a folder, not a study file", study_name="other.toml", args=("--study-override", "sdir")),
    Case("study-not-utf8", "study file is not UTF-8", study_name="other.toml", args=("--study-override", "latin.toml"),
         files=_write_bytes("latin.toml", b'[study]\nname = "caf\xe9"\n')),
    Case("toml-syntax-error", "TOML syntax error", study(('name = "synthetic_validation"', 'name = "synthetic_validation'))),
    Case("toml-duplicate-key", "TOML syntax error", study(('outcome = "y"', 'outcome = "y"\noutcome = "x1"'))),
    Case("two-treatment-forms", "needs exactly one of column / first_treat / registry",
         study(('column = "did"', 'column = "did"\nregistry = "cbec"'))),
    Case("wrong-type-seed", "seed must be of type int", study(('seed = 20240601', 'seed = "twelve"'))),
    Case("private-module-as-analysis", "unknown analysis [analyses.__init__]", append="[analyses.__init__]\n"),
    Case("unknown-se-preset", "unknown standard-error preset 'hc9'", study(('vcov = "lsdv"', 'vcov = "hc9"'))),
    Case("unknown-se-preset-in-analysis", "[analyses.baseline] vcov: unknown standard-error preset 'stata'", append='vcov = "stata"\n'),
    Case("baseline-labels-not-a-table", "[analyses.baseline] labels: labels must be a table", append="labels = -6\n"),
    Case("unknown-analysis-option", "unknown option(s) stepwize", append="stepwize = true\n"),
    Case("unknown-estimator", "estimators", append='[analyses.staggered]\nestimators = ["cs", "did2s"]\ndraws = 0\n'),
    Case("staggered-window-inverted", "window must be two integers", append="[analyses.staggered]\nwindow = [4, -4]\ndraws = 0\n"),
    Case("event-study-window-inverted", "window", append="[analyses.event_study]\nwindow = [4, -4]\n"),
    Case("event-study-window-text", "window must be two integers", append='[analyses.event_study]\nwindow = ["a", 3]\n'),
    Case("placebo-draws-zero", "draws", append="[analyses.placebo]\ndraws = 0\n"),
    Case("placebo-draws-negative", "draws", append="[analyses.placebo]\ndraws = -5\n"),
    Case("placebo-unknown-kind", "unknown placebo kind 'shuffle'", append='[analyses.placebo]\ndraws = 9\nkind = "shuffle"\n'),
    Case("staggered-draws-negative", "draws must be a non-negative integer", append="[analyses.staggered]\ndraws = -1\n"),
    Case("sdid-cohort-weights-unknown", "sdid_cohort_weights",
         append='[analyses.staggered]\nestimators = ["sdid"]\nsdid_se = "jackknife"\nsdid_cohort_weights = "stata"\n'),
    Case("staggered-no-never-treated", "no ATT(g,t) cell has both treated units and never-treated control units",
         study(('column = "did"', 'first_treat = "first_year"')),
         panel=lambda df: df.assign(first_year=df["first_year"].where(df["first_year"] > 0, 2019)),
         append='[analyses.staggered]\nestimators = ["cs"]\ndraws = 0\ncontrol_group = "never_treated"\n'),
    # x2 = x1 times the year index: no collinearity in the panel (the TWFE baseline fits), but within each period's
    # cross-section x2 is a multiple of x1, so CS's outcome regression has no unique solution (was LinAlgError, exit 1)
    # a zero analytic weight reached pyfixest ("must have only non-negative values"): exit 1 with a traceback hint
    Case("weights-zero", "weights column 'w' is 0 at data row 5 (1 such rows)",
         study(('vcov = "lsdv"', 'vcov = "lsdv"\nweights = "w"')),
         panel=lambda df: df.assign(w=np.where(df.index == 4, 0.0, 1.5))),
    Case("weights-full-width", "column 'w' has the number '１.５' written with full-width characters at data row 5",
         study(('vcov = "lsdv"', 'vcov = "lsdv"\nweights = "w"')),
         panel=lambda df: df.assign(w=np.where(df.index == 4, "１.５", "1.5"))),
    Case("staggered-collinear-covariates", "covariates x1, x2 are collinear among the 12 control units of ATT(g=2014",
         study(('controls = ["x1"]', 'controls = ["x1", "x2"]')),
         panel=lambda df: df.assign(x2=df["x1"] * (df["year"] - 2009)),
         append='[analyses.staggered]\nestimators = ["cs"]\ndraws = 0\n'),
    Case("staggered-non-absorbing", "[analyses.staggered]: the treatment switches off again",
         panel=lambda df: df.assign(did=np.where((df["unit"] == "u13") & (df["year"] == 2019), 0, df["did"])),
         append='[analyses.staggered]\nestimators = ["cs"]\ndraws = 0\n'),
    Case("heterogeneity-empty-subsample", "split 'size' leaves group 'small' empty",
         panel=lambda df: df.assign(big=1),
         append='[analyses.heterogeneity]\ndraws = 0\nsplits = [{name = "size", column = "big", labels = ["big", "small"]}]\n'),
    Case("heterogeneity-missing-column", "not_there",
         append='[analyses.heterogeneity]\ndraws = 0\nsplits = [{name = "size", column = "not_there", labels = ["a", "b"]}]\n'),
    Case("index-unknown-system", "no_such_system",
         study(('outcome = "y"', 'outcome = "resilience"')), append='[index]\nsystem = "no_such_system"\n'),
    Case("published-file-missing", "published-numbers file not found",
         study(('seed = 20240601', 'seed = 20240601\npublished = "published.toml"'))),
    # --- command line --------------------------------------------------------------------------------------------
    Case("cli-draws-zero", "--draws must be a positive integer", args=("--draws", "0"), overrides={"draws": 0}),
    Case("cli-jobs-zero", "--jobs must be at least 1", args=("--jobs", "0"), api=False),
    Case("cli-lang-unknown", "--lang must be en or zh", args=("--lang", "fr"), api=False),
    # --- registry use --------------------------------------------------------------------------------------------
    Case("registry-unverified-entry", "unverified", study(REGISTRY), panel=_city_panel, files=_policy_csv("unverified")),
    Case("registry-unmatched-panel-units", "panel unit(s) resolve to no city id", study(REGISTRY),
         files=_policy_csv("verified_2plus")),
    Case("registry-unmatched-list-name", "resolve to no city id, e.g. '亚特兰蒂斯市'", study(REGISTRY), panel=_city_panel,
         files=_policy_csv("verified_2plus", city="亚特兰蒂斯市")),
    Case("registry-unknown-policy", "moonbase", study(('column = "did"', 'registry = "moonbase"')), panel=_city_panel),
    Case("registry-batch-out-of-range", "99",
         study(('column = "did"', 'registry = "cbec"\nbatches = [99]')), panel=_city_panel),
    Case("registry-bad-county-rule", "unknown county_rule 'merge'",
         study(('column = "did"', 'registry = "cbec"\ncounty_rule = "merge"')), panel=_city_panel),
]


def _prepare(case: Case, root: Path) -> Path:
    frame = synthetic_panel()
    if case.panel is not None:
        frame = case.panel(frame)
    frame.to_csv(root / "panel.csv", index=False)
    (root / "sdir").mkdir()
    (root / case.study_name).write_text(case.study, encoding="utf-8")
    if case.files is not None:
        case.files(root)
    args = dict(zip(case.args[::2], case.args[1::2]))
    target = args.get("--study-override")
    return root / target if target else root / case.study_name


def _cli_args(case: Case) -> list[str]:
    return [a for pair in zip(case.args[::2], case.args[1::2]) if pair[0] != "--study-override" for a in pair]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_by_the_cli(case: Case, tmp_path: Path, run_cli) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    study_path = _prepare(case, inputs)
    before = sha256_tree(inputs)
    out = tmp_path / "out"
    code, stdout, err = run_cli("run", str(study_path), "--out", str(out), "--quiet", *_cli_args(case))
    assert code == 2, f"exit {code}; stderr: {err}"
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith("pilotdid: error:"), err
    assert case.match in err, err
    assert "fix:" in err or "Usage" in err, err
    assert "Traceback" not in err and "Traceback" not in stdout
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["inputs"], "a temporary output folder was left behind"
    assert sha256_tree(inputs) == before, "an input file changed"


@pytest.mark.parametrize("case", [c for c in CASES if c.api], ids=[c.id for c in CASES if c.api])
def test_bad_input_is_refused_by_the_api(case: Case, tmp_path: Path) -> None:
    study_path = _prepare(case, tmp_path)
    before = sha256_tree(tmp_path)
    with pytest.raises(PilotdidInputError) as info:
        run_study(load_study(study_path), Overrides(**case.overrides))
    message = str(info.value)
    assert "\n" not in message and case.match in message and "fix:" in message
    assert sha256_tree(tmp_path) == before


def test_there_are_at_least_25_new_cases() -> None:
    assert len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)


# --- handled rather than refused (documented behaviour) ----------------------------------------------------------


def _singleton_panel() -> pd.DataFrame:
    """The synthetic panel plus one unit observed in a single year: a singleton in the unit fixed effect."""
    df = synthetic_panel()
    extra = df[df["unit"] == "u00"].iloc[[3]].assign(unit="u99")
    return pd.concat([df, extra], ignore_index=True)


@pytest.mark.parametrize(("preset", "dropped"), [("reghdfe", 1), ("lsdv", 0)])
def test_singleton_fixed_effects_are_dropped_and_counted_under_reghdfe(tmp_path: Path, preset: str, dropped: int) -> None:
    _singleton_panel().to_csv(tmp_path / "panel.csv", index=False)
    (tmp_path / "study.toml").write_text(study(('vcov = "lsdv"', f'vcov = "{preset}"')), encoding="utf-8")
    run = run_study(load_study(tmp_path / "study.toml"))
    row = next(r for r in run.outputs["baseline"].estimates if r["term"] == "did")
    notes = " ".join(run.outputs["baseline"].notes)
    assert "1 singleton observation(s)" in notes
    if dropped:
        assert "dropped (reghdfe convention)" in notes and row["nobs"] == 240
    else:
        assert "kept" in notes and row["nobs"] == 241


def test_adoption_after_the_window_is_coded_untreated_and_counted(tmp_path: Path) -> None:
    df = synthetic_panel()
    df.loc[df["unit"] == "u00", "first_year"] = 2030
    df.to_csv(tmp_path / "panel.csv", index=False)
    (tmp_path / "study.toml").write_text(study(('column = "did"', 'first_treat = "first_year"')), encoding="utf-8")
    run = run_study(load_study(tmp_path / "study.toml"))
    assert any("1 unit(s) adopt after the last panel period 2019" in n for n in run.context.notes)
    assert run.data_summary["never_treated_units"] == 12


def test_results_json_of_a_handled_case_records_the_count(tmp_path: Path, run_cli) -> None:
    _singleton_panel().to_csv(tmp_path / "panel.csv", index=False)
    (tmp_path / "study.toml").write_text(study(('vcov = "lsdv"', 'vcov = "reghdfe"')), encoding="utf-8")
    code, _, err = run_cli("run", str(tmp_path / "study.toml"), "--out", str(tmp_path / "out"), "--quiet")
    assert code == 0, err
    doc = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert any("singleton" in n for n in doc["analysis_notes"]["baseline"])


# --- other commands: `pilotdid index` and `pilotdid verify` --------------------------------------------------------

INDICATOR_SYSTEM = """\
unit = "unit"
time = "year"
[[indicator]]
name = "ind_a"
dimension = "d1"
sign = "+"
[[indicator]]
name = "ind_b"
dimension = "d1"
sign = "-"
[[indicator]]
name = "ind_c"
dimension = "d2"
sign = "+"
"""


@dataclass
class CommandCase:
    id: str
    match: str
    args: tuple[str, ...]  # {root} is replaced by the input folder, {out} by the output folder
    panel: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    files: Callable[[Path], None] | None = None


COMMAND_CASES = [
    CommandCase("index-zero-variance-indicator", "indicator 'ind_c' has zero range",
                ("index", "{root}/system.toml", "--panel", "{root}/panel.csv", "--out", "{out}"),
                panel=lambda df: df.assign(ind_c=1.5)),
    CommandCase("index-unknown-method", "unknown index method 'magic'",
                ("index", "{root}/system.toml", "--panel", "{root}/panel.csv", "--out", "{out}", "--method", "magic")),
    CommandCase("index-unknown-pooling", "unknown pooling 'weekly'",
                ("index", "{root}/system.toml", "--panel", "{root}/panel.csv", "--out", "{out}", "--pooling", "weekly")),
    CommandCase("index-indicator-column-missing", "ind_b",
                ("index", "{root}/system.toml", "--panel", "{root}/panel.csv", "--out", "{out}"),
                panel=lambda df: df.drop(columns=["ind_b"])),
    CommandCase("index-non-numeric-indicator", "ind_a",
                ("index", "{root}/system.toml", "--panel", "{root}/panel.csv", "--out", "{out}"),
                panel=with_cell("ind_a", 4, "high")),
    # `registry map cbec` maps every batch by default, batch 7 holds unverified entries: the fix named only the
    # study-file key (allow_unverified = true), not the command's own --allow-unverified / --batches
    CommandCase("map-unverified-batches", "--allow-unverified on the command line",
                ("registry", "map", "cbec", "--out", "{root}/cbec_map")),
    CommandCase("index-panel-missing", "panel file not found",
                ("index", "{root}/system.toml", "--panel", "{root}/nowhere.csv", "--out", "{out}")),
    CommandCase("verify-no-manifest", "no manifest.json in the folder", ("verify", "{root}")),
    CommandCase("verify-corrupt-manifest", "is not a pilotdid manifest", ("verify", "{root}/fake"),
                files=_write_bytes("fake/", b"")),
]


@pytest.mark.parametrize("case", COMMAND_CASES, ids=[c.id for c in COMMAND_CASES])
def test_bad_input_to_other_commands_is_refused(case: CommandCase, tmp_path: Path, run_cli) -> None:
    root = tmp_path / "inputs"
    root.mkdir()
    frame = synthetic_panel()
    (case.panel(frame) if case.panel else frame).to_csv(root / "panel.csv", index=False)
    (root / "system.toml").write_text(INDICATOR_SYSTEM, encoding="utf-8")
    if case.files:
        case.files(root)
        if (root / "fake").is_dir():
            (root / "fake" / "manifest.json").write_text('{"study": 1}', encoding="utf-8")
    before = sha256_tree(root)
    out = tmp_path / "out"
    args = [a.replace("{root}", str(root)).replace("{out}", str(out)) for a in case.args]
    code, stdout, err = run_cli(*args)
    assert code == 2, f"exit {code}; stderr: {err}"
    assert err.count("\n") == 1 and err.startswith("pilotdid: error:") and "fix:" in err, err
    assert case.match in err, err
    assert "Traceback" not in err + stdout
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["inputs"]
    assert sha256_tree(root) == before


def test_zero_variance_indicator_in_a_study_is_refused(tmp_path: Path, run_cli) -> None:
    """The same zero-range indicator reached through a study's [index] table (the run command)."""
    synthetic_panel().assign(ind_c=1.5).to_csv(tmp_path / "panel.csv", index=False)
    (tmp_path / "system.toml").write_text(INDICATOR_SYSTEM, encoding="utf-8")
    text = study(('outcome = "y"', 'outcome = "resilience"'), append='[index]\nsystem = "system.toml"\n')
    (tmp_path / "study.toml").write_text(text, encoding="utf-8")
    before = sha256_tree(tmp_path)
    code, _, err = run_cli("run", str(tmp_path / "study.toml"), "--out", str(tmp_path / "out"), "--quiet")
    assert code == 2 and "indicator 'ind_c' has zero range" in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists() and sha256_tree(tmp_path) == before


@pytest.mark.parametrize("case_id", ["non-numeric-outcome", "toml-syntax-error", "staggered-no-never-treated"])
def test_without_quiet_the_error_is_still_one_line_after_the_progress_log(case_id: str, tmp_path: Path, run_cli) -> None:
    """Without --quiet, progress lines ("· reading panel ...") precede the error on stderr; the error itself is one
    line, the last one, and no traceback appears."""
    case = next(c for c in CASES if c.id == case_id)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    study_path = _prepare(case, inputs)
    code, _, err = run_cli("run", str(study_path), "--out", str(tmp_path / "out"))
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2
    assert [line for line in lines if line.startswith("pilotdid: error:")] == [lines[-1]]
    assert case.match in lines[-1] and "Traceback" not in err
    assert not (tmp_path / "out").exists()
