"""The message catalogue: both languages hold the same keys and placeholders; Chinese messages are Chinese."""

from __future__ import annotations

import re

import pytest

from pilotdid.i18n import LANGUAGES, LATIN_WORDS_ALLOWED_IN_ZH, catalogue, messages, msg, placeholders


def test_every_key_exists_in_every_language_with_the_same_placeholders():
    english = catalogue("en")
    for lang in LANGUAGES:
        other = catalogue(lang)
        assert set(other) == set(english), f"{lang}: keys differ: {sorted(set(other) ^ set(english))}"
        for key, text in english.items():
            assert placeholders(other[key]) == placeholders(text), (lang, key)


def test_chinese_messages_have_no_untranslated_english_words():
    english_words = []
    for key, text in catalogue("zh").items():
        literal = re.sub(r"\{[^{}]*\}|<[^<>]*>", " ", text)  # placeholders and html tags are not prose
        literal = literal.replace("œ", "oe")  # D'Haultfœuille is one name, not two words
        for word in re.findall(r"[A-Za-z][A-Za-z0-9'._-]*", literal):
            if word.strip("._-") not in LATIN_WORDS_ALLOWED_IN_ZH and len(word.strip("._-")) > 1:  # a, b, c: symbols
                english_words.append((key, word))
    assert not english_words


def test_msg_formats_and_refuses_unknown_keys_and_languages():
    assert msg("figure.event_study.pretrend", "en", p=0.0371) == "joint test of leads = 0: p = 0.037"
    assert msg("figure.event_study.pretrend", "zh", p=0.0371) == "前置期系数联合检验 p = 0.037"
    assert msg("common.figure_caption", "zh", n=3, title="事件研究") == "图3：事件研究"
    with pytest.raises(KeyError, match="no message 'figure.nope'"):
        msg("figure.nope", "zh")
    with pytest.raises(ValueError, match="lang must be one of en, zh"):
        msg("common.yes", "fr")


def test_messages_returns_one_table_by_its_short_keys():
    types = messages("figure.bacon.type", "zh")
    assert types["later vs earlier treated"] == "晚处理 对 早处理（禁用比较）"
    assert "x" not in types


def test_first_treat_treatment_notes_reach_a_chinese_report_translated():
    # the first_treat form's notes were literal English strings: a zh report printed them untranslated
    import pandas as pd

    from pilotdid.report.localise import translate
    from pilotdid.study.treatment import setup_treatment

    panel = pd.DataFrame({"u": ["甲", "甲", "乙", "乙", "丙", "丙"], "t": [2010, 2011] * 3,
                          "g": [2011, 2011, 2030, 2030, 2009, 2009]})
    setup = setup_treatment(panel, {"first_treat": "g"}, "u", "t", where="panel.csv")
    assert len(setup.notes) == 3
    for note in setup.notes:
        zh = translate(note, "zh")
        assert zh != note and not re.search(r"[A-Za-z]{4,}", zh.replace("DID", "").replace("TWFE", "")), zh


def test_the_cs_propensity_score_note_is_the_estimators_test_and_reaches_a_chinese_report():
    # the note was an English f-string: a zh report printed "CS propensity score: all N estimated cells pass ..."
    from pilotdid.estimation.staggered.cs import PS_TEST
    from pilotdid.report.localise import translate

    english = msg("template.note.cs_ps_all_pass", "en", n=12, f="none")
    assert f"pass the {PS_TEST} (" in english  # the catalogue states the test the estimator runs, thresholds included
    for note in (english, msg("template.note.cs_ps_none", "en", f="reg")):
        zh = translate(note, "zh")
        assert zh.startswith("CS 倾向得分") and not re.search(r"propensity|estimated|cells", zh), zh
