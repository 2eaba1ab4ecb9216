"""The CBEC study on a user's city-yearbook panel (`pilotdid replicate --panel FILE`).

The shipped study file is rewritten for the user's file, and the rewritten text is what the run records in its
manifest (so the run is a plain study-file run that `pilotdid run` could repeat):

* ``[data] panel`` = the file, ``yearbook = true`` (read through `pilotdid data import`), ``years`` = the paper's
  2012-2021 within the years the file covers;
* ``[index]``: the paper's 17 indicators, each used when the file has it (``absent = "exclude"``; no coverage
  exclusions, no alternatives: those concern the public data);
* the caveats about the public data are replaced by one about the user's file; the city-size split is dropped
  when the file has no urban-district population (said in the caveat).

The controls need GDP, land area, FDI, science expenditure and general budget expenditure; a file without them is
refused before any work with the items named.
"""

from __future__ import annotations

import re
from pathlib import Path

from pilotdid.errors import PilotdidInputError

PAPER_YEARS = (2012, 2021)
# control -> the yearbook items it is built from (pilotdid.data.importer.DERIVED)
CONTROL_INPUTS = {
    "agg": ("gdp", "land_area"), "invest": ("fdi_usd", "gdp"), "tec": ("science_expenditure", "fiscal_expenditure"),
    "market": ("fdi_usd",),
}


def _replace(text: str, pattern: str, new: str, *, flags: int = re.M) -> str:
    out, n = re.subn(pattern, new, text, count=1, flags=flags)
    if n != 1:  # the shipped study file changed shape: a bug of ours, not the user's
        raise RuntimeError(f"study file rewrite for --panel: pattern not found: {pattern!r}")
    return out


def yearbook_study_text(text: str, panel: Path, sheet: str | None, imported) -> str:
    """The shipped CBEC study text rewritten for the imported yearbook file ``panel`` (see module docstring)."""
    frame = imported.panel
    years = sorted(int(y) for y in frame.year.unique())
    first, last = max(PAPER_YEARS[0], years[0]), min(PAPER_YEARS[1], years[-1])
    if first >= last:
        raise PilotdidInputError(f"the file covers {years[0]}-{years[-1]}, which leaves fewer than two of the paper's "
                                 f"years {PAPER_YEARS[0]}-{PAPER_YEARS[1]}", where=str(panel),
                                 fix="use a panel that covers at least two years of 2012-2021")
    missing = {c: [i for i in inputs if i not in frame.columns] for c, inputs in CONTROL_INPUTS.items()}
    missing = {c: m for c, m in missing.items() if m}
    if missing:
        items = sorted({i for m in missing.values() for i in m})
        from pilotdid.data.headers import load_dictionary

        zh = load_dictionary().indicators
        raise PilotdidInputError(
            f"the study's controls {', '.join(sorted(missing))} need {', '.join(f'{i} ({zh[i].zh})' for i in items)}, "
            "which the file lacks", where=str(panel),
            fix="add those yearbook columns (with units in the headers) or run your own study file with other controls")
    sheet_line = f"\nsheet = {_toml_string(sheet)}" if sheet else ""
    text = _replace(text, r'^panel = "builtin:city_panel".*$',
                    f"panel = {_toml_string(str(Path(panel).resolve()))}   # the user's city-yearbook file\n"
                    f"yearbook = true                # read through `pilotdid data import` (header dictionary){sheet_line}")
    text = _replace(text, r"^years = \[2012, 2020\].*$", f"years = [{first}, {last}]           # the paper's 2012-2021 within the file's years")
    text = _replace(text, r'^exclude = \[.*\]\nexclude_reason = .*$',
                    'absent = "exclude"             # each of the paper\'s 17 indicators is used when the file has it')
    text = _replace(text, r"^\[index\.alternatives\.nine\].*?\n\n", "", flags=re.M | re.S)
    text = _replace(text, r"^\[analyses\.index_systems\].*\n", "")
    text = _replace(text, r"^index_system = .*\n", "")
    present = [c for c in ("district_population",) if c in frame.columns]
    caveat = (f"Data: the user's city-yearbook file {Path(panel).name}, imported with pilotdid's header dictionary "
              f"({len(imported.present)} yearbook indicators recognised; see the indicator coverage table for which of "
              f"the paper's 17 index indicators it holds and the share of the published weight they carry). Years "
              f"{first}-{last}. The published numbers were computed on the paper's own data.")
    if not present:
        text = _replace(text, r'^  \{ name = "size".*\n', "")
        caveat += " The city-size split is left out: the file has no urban-district (市辖区) population."
    if "patents_granted" in frame.columns:
        text = _replace(text, r"^mediators = \[.*?\n\]\n", 'mediators = [{ name = "Inn", column = "patents_granted", '
                        'transform = "log1p", label = "Innovation (proxy: ln(1 + patents granted))", note = "the paper\'s '
                        'Kou-Liu innovation index is not in city yearbooks; patents granted stand in for it" }]\n',
                        flags=re.M | re.S)
        caveat += (" Mechanisms: only innovation, proxied by ln(1 + patents granted); the digital-economy and "
                   "employment-structure mediators need series a yearbook panel does not carry in pilotdid's dictionary.")
    else:
        text = _replace(text, r"^\[analyses\.mechanism\].*\nthree_step = true\nmediators = \[.*?\n\]\n", "", flags=re.M | re.S)
        caveat += " Mechanisms are left out: the file has none of the mediators' series."
    text = _replace(text, r"^caveats = \[\n.*?\n\]\n", f"caveats = [\n  {_toml_string(caveat)},\n]\n", flags=re.M | re.S)
    return text


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def yearbook_study(spec, panel: str | Path, sheet: str | None = None):
    """The StudySpec of ``spec`` (the shipped CBEC study) run on the yearbook file ``panel``."""
    from pilotdid.data.importer import import_yearbook
    from pilotdid.study.spec import parse_study

    panel = Path(panel)
    imported = import_yearbook(panel, sheet)  # bad files fail here, before any work, with one line
    text = yearbook_study_text(spec.text, panel, sheet, imported)
    return parse_study(text, path=spec.path)
