"""zh notes that cite a table: the citation is whatever the study calls the table ([study] outputs ref, e.g. the
CBEC paper's "Table 7", else "table 'NAME'"), and the sentence is Chinese either way."""

from __future__ import annotations

import pytest

from pilotdid.estimation.heterogeneity import STRATA_VALIDITY
from pilotdid.i18n import msg
from pilotdid.report.localise import translate


@pytest.mark.parametrize("ref, cited", [("Table 7", "表7"), ("table6b", "表6b"),
                                        ("table 'heterogeneity'", "表“heterogeneity”")])
@pytest.mark.parametrize("key, fields", [("forest_permutation", {"validity": STRATA_VALIDITY}),
                                         ("three_step_reported", {}), ("three_step_caveat", {})])
def test_a_note_citing_a_table_is_chinese_whatever_the_table_is_called(ref, cited, key, fields):
    # before, these notes were looked up as whole English phrases written with the CBEC numbering: a study without
    # that numbering ("table 'heterogeneity'") got them in English in its zh report
    chinese = translate(msg(f"template.note.{key}", "en", ref=ref, **fields), "zh")
    assert cited in chinese
    for english in ("Forest plot", "table '", "Table ", "referees", "permutation", "mediator"):
        assert english not in chinese


def test_the_cbec_wording_is_unchanged():
    # the CBEC zh report before the notes became templates (phrases keyed on 'Table 7' / 'table6b' / 'Table 6')
    assert translate(msg("template.note.forest_permutation", "en", ref="Table 7", validity=STRATA_VALIDITY), "zh") \
        .startswith("森林图与表7：批次内置换的 p 值与全样本置换的 p 值并列。置换检验要求原假设下分组标签可交换。")
    assert translate(msg("template.note.three_step_reported", "en", ref="table6b"), "zh") == (
        "应审稿人常见要求，另报告经典三步法（Baron–Kenny）及 Sobel 检验与间接效应的自助法置信区间（表6b）。")
