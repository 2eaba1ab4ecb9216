"""Generated prose names the units as the study does (``[study] unit_noun``), never "cities" for any panel.

The panel is the REAL ``mpdta`` (R did's example, tests/toolkit/fixtures/SOURCES.md): 500 US counties, 2003-2007.
Its only covariate (log population) is constant within county, so a SYNTHETIC time-varying control ``x1`` is added
(seeded); the estimates are not the point here, the words are.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pilotdid as pdid
from pilotdid.errors import PilotdidInputError
from pilotdid.i18n import unit_words
from pilotdid.report.localise import translate

MPDTA = Path(__file__).resolve().parents[1] / "toolkit" / "fixtures" / "mpdta.csv"
CITY_WORDS = re.compile(r"\bcit(?:y|ies)\b|城市", re.IGNORECASE)


def _county_panel() -> pd.DataFrame:
    panel = pd.read_csv(MPDTA).rename(columns={"countyreal": "county", "first.treat": "first_treat"})
    rng = np.random.default_rng(1)
    panel["x1"] = panel["lpop"] * (panel["year"] - 2003) / 10 + rng.normal(size=len(panel))
    panel["large"] = (panel["lpop"] > panel["lpop"].median()).astype(int)
    return panel


def _study(lang: str, **study) -> dict:
    return {"study": {"name": "county_minimum_wage", "seed": 7, "lang": lang, **study},
            "data": {"panel": "mpdta.csv", "unit": "county", "time": "year"},
            "treatment": {"first_treat": "first_treat"},
            "model": {"outcome": "lemp", "controls": ["x1"], "fixed_effects": ["county", "year"],
                      "cluster": "county", "vcov": "reghdfe"},
            "analyses": {"baseline": {}, "vcov_presets": {},
                         "heterogeneity": {"splits": [{"name": "size", "column": "large", "labels": ["large", "small"]}],
                                           "draws": 9},
                         "staggered": {"estimators": ["cs", "dcdh", "twowayfeweights", "stacked", "sdid"],
                                       "stacked_window": [-2, 1], "sdid_replications": 9}}}


def _texts(out: Path) -> dict[str, str]:
    files = [out / "results.json", out / "report.html", *sorted((out / "tables").glob("*.md"))]
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in files}


@pytest.mark.parametrize("lang, own_words", [
    ("en", ["treated county-years", "never-treated counties", "i.county i.year", "County size"]),
    ("zh", ["处理县-年份", "从未处理县", "县规模", "县数（处理组 / 从未处理）"]),
])
def test_a_county_study_never_says_cities(tmp_path, lang, own_words):
    _county_panel().to_csv(tmp_path / "mpdta.csv", index=False)
    out = pdid.run_study(_study(lang, unit_noun="county"), base_dir=tmp_path).write(tmp_path / "out")
    texts = _texts(out)
    hits = {name: sorted({m.group(0) for m in CITY_WORDS.finditer(text)}) for name, text in texts.items()}
    assert not {name: words for name, words in hits.items() if words}
    everything = "\n".join(texts.values())
    assert [w for w in own_words if w not in everything] == []


def test_without_the_key_the_units_are_units_and_a_bad_noun_is_refused(tmp_path):
    _county_panel().to_csv(tmp_path / "mpdta.csv", index=False)
    study = _study("en")
    study["analyses"] = {"staggered": {"estimators": ["twowayfeweights"]}}
    text = json.dumps(pdid.run_study(study, base_dir=tmp_path).to_dict(), ensure_ascii=False)
    assert "treated unit-years" in text and not CITY_WORDS.search(text)
    for bad in ("counties", {"one": "prefecture"}, 3):
        with pytest.raises(PilotdidInputError, match="unit_noun"):
            pdid.run_study(_study("en", unit_noun=bad), base_dir=tmp_path)


def test_a_noun_of_the_studys_own_in_both_languages():
    noun = {"one": "prefecture", "many": "prefectures", "zh": "地级市"}
    assert unit_words(noun, "en") == {"unit": "prefecture", "units": "prefectures", "Unit": "Prefecture",
                                      "Units": "Prefectures"}
    assert unit_words("county", "zh")["units"] == "县" and unit_words("city", "en")["units"] == "cities"
    from pilotdid.i18n import msg

    note = msg("template.note.twfe_weights", "en", b="0.1", n=12, m=3, s="-0.2", sd="0.5", **unit_words(noun))
    assert "12 treated prefecture-years" in note
    assert "12 个处理地级市-年份" in translate(note, "zh", unit_noun=noun)
    # a catalogue noun needs no table: the words are the catalogue's
    county = msg("template.note.twfe_weights", "en", b="0.1", n=12, m=3, s="-0.2", sd="0.5", **unit_words("county"))
    assert "12 个处理县-年份" in translate(county, "zh")
