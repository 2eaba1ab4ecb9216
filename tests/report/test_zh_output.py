"""`pilotdid replicate --lang zh`: what a reader sees is Chinese.

The replication runs once in zh (49 draws). Words in Latin letters are allowed only when they are in
``pilotdid.i18n.LATIN_WORDS_ALLOWED_IN_ZH`` (estimator and software names, statistics symbols) or chosen by the
study itself (its labels, column names, subgroup titles, title). Headings, the contents, figure captions and every
word drawn in a figure must be clean. Table and note text still carries English from modules not yet moved into the
catalogue: its count is held by a ratchet that may only go down (see /work/notes and issue 18).
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from pilotdid.i18n import LATIN_WORDS_ALLOWED_IN_ZH

STUDY = Path(__file__).resolve().parents[2] / "src" / "pilotdid" / "studies" / "cbec" / "study.toml"
WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’._-]*")
#: English words still in zh tables and notes (report.html text plus tables/*.md): 10,370 before the catalogue took
#: over table titles, headers, stubs and the common notes, 2,340 after (2026-12-04 20:06 UTC main), with the
#: catalogue covering figures, headings, captions, the report shell, the specification curve and the forest plot;
#: 1,679 after the indicator list notes, the coverage table's reasons and the paper-comparison cells (20:19 UTC);
#: 1,527 after Table 5's SE note (20:22 UTC); 1,420 after the registry assignment notes (20:25 UTC);
#: 893 after estimator SE cells, CS/TWFE source notes, PSM support, sample-cut and ETWFE/stacked notes (20:27 UTC);
#: 593 after the CS NA-cell note, placebo p-value note, mediator notes, pre-trend power notes (20:29 UTC);
#: 433 after the binned-ends note, the adjusted-R² gloss, the Bayes-factor note and the multiverse sample notes (20:31 UTC).
#: 413 after the few-clusters, weighted-study, twowayfeweights and table-citation notes (session 3, 22:50 UTC).
#: 382 after the PSM-DID reading note (session 3, 23:10 UTC).
#: 341 after the heterogeneity split titles in the subgroup notes (City size -> 城市规模 ...) (session 4, 01:00 UTC).
#: Lower it whenever a module's text moves into the catalogue; never raise it.
RATCHET_ENGLISH_WORDS = 341


def _study_words() -> set[str]:
    """Latin words the study file chose itself: labels, titles, column names."""
    study = tomllib.loads(STUDY.read_text(encoding="utf-8"))
    texts: list[str] = [study["study"].get("title", ""), study["study"].get("name", "")]
    for value in study["study"].get("labels", {}).values():
        texts += list(value.values()) if isinstance(value, dict) else [str(value)]
    texts += list(study["study"].get("labels", {}))
    model = study.get("model", {})
    texts += [model.get("outcome", ""), *model.get("controls", []), *model.get("fixed_effects", []),
              study["data"]["unit"], study["data"]["time"]]
    for split in study.get("analyses", {}).get("heterogeneity", {}).get("splits", []):
        texts += [split.get("column", ""), *split.get("labels", []), *split.get("titles", [])]
    return {w.strip("._-'’") for t in texts for w in WORD.findall(str(t))}


def english_words(text: str, allowed: set[str]) -> list[str]:
    words = (w.strip("._-'’") for w in WORD.findall(text.replace("œ", "oe")))
    return [w for w in words if w and w not in allowed and w not in LATIN_WORDS_ALLOWED_IN_ZH
            and not re.fullmatch(r"CNUR-?\d*|[a-z]", w)]


@pytest.fixture(scope="module")
def zh_replication(replication_zh):
    """The shared `pilotdid replicate --lang zh --draws 49` of tests/conftest.py (run once per test run)."""
    return replication_zh


@pytest.fixture(scope="module")
def page(zh_replication) -> str:
    text = (zh_replication / "report.html").read_text(encoding="utf-8")
    return re.sub(r"<img[^>]*>|<style.*?</style>|<script.*?</script>", " ", text, flags=re.S)


def _texts(fragment_re: str, page: str) -> str:
    found = re.findall(fragment_re, page, flags=re.S)
    parts = [" ".join(m) if isinstance(m, tuple) else m for m in found]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", m)) for m in parts)


def test_headings_contents_and_captions_are_chinese(page):
    allowed = _study_words()
    for name, pattern in (("h2", r"<h2>(.*?)</h2>"), ("contents", r'<nav class="toc">(.*?)</nav>'),
                          ("figure captions", r"<figcaption>(.*?)<br>"), ("table captions", r"<caption>(.*?)</caption>"),
                          ("data-section tables", r"<h3>(.*?)</h3>|<summary>(.*?)</summary>")):
        found = english_words(_texts(pattern, page), allowed)
        assert not found, f"{name}: {found[:20]}"
    assert re.findall(r"<figcaption>图\d+：", page), "figures are numbered: 图1：…"


def test_every_word_drawn_in_a_figure_is_chinese(zh_replication):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    allowed = _study_words()
    for pdf in sorted((zh_replication / "figures").glob("*.pdf")):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        text = text.replace("D'Haultf\nuille", "D'Haultfœuille").replace("œ", "oe")
        found = [w for w in english_words(text, allowed) if w not in ("uille", "D'Haultf")]
        assert not found, f"{pdf.name}: {found[:20]}"


def test_english_left_in_tables_and_notes_only_goes_down(zh_replication, page):
    allowed = _study_words()
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    text += " ".join(p.read_text(encoding="utf-8") for p in sorted((zh_replication / "tables").glob("*.md")))
    found = english_words(text, allowed)
    assert len(found) <= RATCHET_ENGLISH_WORDS, f"{len(found)} English words (ratchet {RATCHET_ENGLISH_WORDS})"
