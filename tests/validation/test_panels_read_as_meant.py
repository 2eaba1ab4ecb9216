"""Panels are read as the user meant (issue 15): the silent-wrong cases give the right counts or a one-line refusal.

Every panel here is SYNTHETIC: 30 units (16 treated, 14 never treated) x 10 periods. Each refusal: exit 2, one
stderr line naming the culprit (file, column, row or cell), no output folder, inputs byte-identical.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .conftest import BASE_STUDY, sha256_tree

FIRST_TREAT_STUDY = BASE_STUDY.replace('column = "did"', 'first_treat = "adopt"')


def thirty_units(first_period: int = 2010, ids=None) -> pd.DataFrame:
    """30 units: 8 adopt in period 3 of the panel, 8 in period 6, 14 never (empty adoption period)."""
    rng = np.random.default_rng(5)
    ids = ids or [f"u{i:02d}" for i in range(30)]
    rows = []
    for i, unit in enumerate(ids):
        adopt = first_period + 2 if i < 8 else first_period + 5 if i < 16 else None
        alpha = rng.normal()
        for k in range(10):
            t = first_period + k
            did = int(adopt is not None and t >= adopt)
            x1 = rng.normal()
            rows.append({"unit": unit, "year": t, "adopt": adopt, "did": did, "x1": x1,
                         "y": alpha + 0.1 * k + 0.3 * did + 0.2 * x1 + rng.normal(scale=0.3)})
    return pd.DataFrame(rows)


def _run(root: Path, run_cli, study_text: str = BASE_STUDY, panel_name: str = "panel.csv"):
    (root / "study.toml").write_text(study_text.replace('"panel.csv"', f'"{panel_name}"'), encoding="utf-8")
    before = sha256_tree(root)
    out = root.parent / f"{root.name}_out"
    code, _, err = run_cli("run", str(root / "study.toml"), "--out", str(out), "--quiet")
    assert sha256_tree(root) == before
    return code, err, out


def _refused(root: Path, run_cli, *culprits: str, **kwargs) -> str:
    code, err, out = _run(root, run_cli, **kwargs)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pilotdid: error:"), err
    for culprit in culprits:
        assert culprit in lines[0], lines[0]
    assert not out.exists() and not [p for p in root.parent.iterdir() if p.name.startswith(".")]
    return lines[0]


def _results(root: Path, run_cli, **kwargs) -> dict:
    code, err, out = _run(root, run_cli, **kwargs)
    assert code == 0, err
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def _baseline_coef(doc: dict) -> float:
    rows = [r for r in doc["estimates"] if r["table"] == "baseline" and r["term"] == "did"]
    return rows[-1]["coef"]


@pytest.fixture
def root(tmp_path) -> Path:
    folder = tmp_path / "inputs"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("first_period", [0, -4])
def test_periods_at_or_below_zero_are_refused_not_miscounted(root, run_cli, first_period) -> None:
    # before: adoption at period <= 0 counted as never treated (8 treated instead of 16)
    thirty_units(first_period).to_csv(root / "panel.csv", index=False)
    _refused(root, run_cli, "time column 'year'", "periods must be 1 or more", "renumber", study_text=FIRST_TREAT_STUDY)


def test_renumbered_periods_count_every_treated_unit(root, run_cli) -> None:
    thirty_units(1).to_csv(root / "panel.csv", index=False)  # the fix the refusal suggests: periods from 1
    doc = _results(root, run_cli, study_text=FIRST_TREAT_STUDY)
    assert doc["data"]["units_read"] == 30
    treated = thirty_units(1).groupby("unit")["adopt"].first().notna().sum()
    assert treated == 16
    assert not any("switch treatment off" in n for n in doc["notes"])


def test_unit_id_with_a_trailing_space_is_refused_with_its_row(root, run_cli) -> None:
    panel = thirty_units()
    panel.loc[panel.index[(panel["unit"] == "u05")][-1], "unit"] = "u05 "  # one row: would be a 31st unit
    panel.to_csv(root / "panel.csv", index=False)
    _refused(root, run_cli, "'u05 '", "column 'unit'", "data row 60")


def test_unit_id_with_an_invisible_character_is_refused_with_its_row(root, run_cli) -> None:
    # a zero-width space pasted from the web: 'u05\u200b' looks like u05 in every spreadsheet but was a 31st unit
    panel = thirty_units()
    panel.loc[panel.index[(panel["unit"] == "u05")][-1], "unit"] = "u05\u200b"
    panel.to_csv(root / "panel.csv", index=False)
    _refused(root, run_cli, "U+200B (ZERO WIDTH SPACE)", "column 'unit'", "data row 60")


def test_one_id_written_full_width_and_half_width_is_refused_with_both_rows(root, run_cli) -> None:
    # a full-width IME typed 'u０５' in one row: it looks like u05 but was a 31st unit
    panel = thirty_units()
    panel.loc[panel.index[(panel["unit"] == "u05")][-1], "unit"] = "u０５"
    panel.to_csv(root / "panel.csv", index=False)
    _refused(root, run_cli, "unit ids 'u05' (data row 51) and 'u０５' (data row 60)", "column 'unit'",
             "write the id one way")


def test_full_width_ids_that_collide_with_nothing_are_kept_as_written(root, run_cli) -> None:
    from pilotdid.study.load import read_panel

    ids = [f"县{i:02d}".translate(str.maketrans("0123456789", "０１２３４５６７８９")) for i in range(30)]
    thirty_units(ids=ids).to_csv(root / "panel.csv", index=False)
    assert read_panel(root / "panel.csv", text_columns=["unit"])["unit"].unique().tolist() == ids  # not normalised
    doc = _results(root, run_cli)
    assert doc["data"]["units_read"] == 30
    reference = root.parent / "reference"
    reference.mkdir()
    thirty_units().to_csv(reference / "panel.csv", index=False)  # same numbers, plain ids
    assert _baseline_coef(doc) == pytest.approx(_baseline_coef(_results(reference, run_cli)), abs=1e-12)


def test_ids_are_text_7_and_007_are_two_units_and_NA_is_an_id(root, run_cli) -> None:
    ids = ["7", "007", "NA"] + [f"u{i:02d}" for i in range(27)]
    thirty_units(ids=ids).to_csv(root / "panel.csv", index=False)
    doc = _results(root, run_cli)
    assert doc["data"]["units_read"] == 30
    reference = root.parent / "reference"
    reference.mkdir()
    thirty_units().to_csv(reference / "panel.csv", index=False)  # same numbers, plain ids
    assert _baseline_coef(doc) == pytest.approx(_baseline_coef(_results(reference, run_cli)), abs=1e-12)


def test_a_repeated_column_name_is_refused(root, run_cli) -> None:
    panel = thirty_units()
    text = panel.to_csv(index=False).splitlines()
    text[0] += ",y"
    (root / "panel.csv").write_text("\n".join([text[0]] + [line + ",0" for line in text[1:]]) + "\n", encoding="utf-8")
    _refused(root, run_cli, "the column name 'y' appears twice")


def test_names_equal_after_trimming_are_refused(root, run_cli) -> None:
    panel = thirty_units()
    panel[" y "] = 1.0
    panel.to_csv(root / "panel.csv", index=False)
    _refused(root, run_cli, "the column name 'y' appears twice", "' y '")


def _xlsx_with(root: Path, cell_value) -> None:
    import openpyxl

    panel = thirty_units()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "data"
    sheet.append(list(panel.columns))
    for row in panel.itertuples(index=False):
        sheet.append([None if isinstance(v, float) and np.isnan(v) else v for v in row])
    sheet["F4"] = cell_value  # column F is y, row 4 the third data row
    book.save(root / "panel.xlsx")


def test_an_excel_error_cell_is_refused_with_its_cell(root, run_cli) -> None:
    _xlsx_with(root, "#DIV/0!")
    _refused(root, run_cli, "cell F4", "'y'", "#DIV/0!", panel_name="panel.xlsx")


def test_a_formula_without_a_saved_value_is_refused_with_its_cell(root, run_cli) -> None:
    _xlsx_with(root, "=A2/0")  # openpyxl saves formulas without computing them
    _refused(root, run_cli, "cell F4", "formula", "save it again", panel_name="panel.xlsx")


def test_an_unnamed_sheet_is_said_with_the_others(root, run_cli) -> None:
    with pd.ExcelWriter(root / "panel.xlsx") as writer:
        pd.DataFrame({"note": ["this workbook holds a panel"]}).to_excel(writer, sheet_name="notes", index=False)
        thirty_units().to_excel(writer, sheet_name="data", index=False)
    _refused(root, run_cli, "read sheet 'notes'", "others: data", panel_name="panel.xlsx")


def test_a_gbk_csv_is_read(root, run_cli) -> None:
    ids = [f"城市{i:02d}" for i in range(30)]
    panel = thirty_units(ids=ids)
    (root / "panel.csv").write_bytes(panel.to_csv(index=False).encode("gbk"))
    doc = _results(root, run_cli)
    assert doc["data"]["units_read"] == 30


def test_a_csv_in_no_known_encoding_says_save_as_utf8(root, run_cli) -> None:
    (root / "panel.csv").write_bytes(b"unit,year,did,x1,y\n" + b"\xff\xfe\x81\x30" * 5 + b",2010,0,1,1\n")
    _refused(root, run_cli, "UTF-8")


def test_a_study_file_with_a_bom_is_read(root, run_cli) -> None:
    thirty_units().to_csv(root / "panel.csv", index=False)
    (root / "study.toml").write_bytes("\ufeff".encode() + BASE_STUDY.encode("utf-8"))
    out = root.parent / "out"
    code, _, err = run_cli("run", str(root / "study.toml"), "--out", str(out), "--quiet")
    assert code == 0, err
