"""Text normalisation for Chinese city names and their romanisations.

Pure functions, no I/O: they turn the many spellings found in the raw files (``"  石家庄市"``,
``"北京市_x000D_"``, ``"恩施土家族苗族自治州"``, ``"Lv Liang "``, ``"Xi'an"``) into comparable keys.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pypinyin import lazy_pinyin

# Longest first, so that 自治州 is removed before 州 and 特别行政区 before 区.
ADMIN_SUFFIXES: tuple[str, ...] = ("特别行政区", "自治州", "地区", "林区", "盟", "市", "州")

# Ethnic designations inside autonomous-prefecture names (恩施土家族苗族自治州 -> 恩施). Longest first.
ETHNIC_NAMES: tuple[str, ...] = (
    "柯尔克孜", "土家族", "布依族", "哈尼族", "景颇族", "傈僳族", "蒙古族", "朝鲜族", "哈萨克",
    "苗族", "藏族", "羌族", "彝族", "侗族", "壮族", "傣族", "白族", "回族", "蒙古",
)

_X000D = re.compile(r"_x000[dD]_")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NON_LETTER = re.compile(r"[^a-z]")
_LATIN_TRAILERS = re.compile(
    r"\s+(city|prefecture|league|autonomous prefecture|region|shi|diqu|meng)$", re.IGNORECASE
)


def clean_cell_text(value: object) -> str:
    """A raw cell as clean text: ``_x000D_`` escapes removed, full-width forms folded, outer space stripped."""
    if value is None:
        return ""
    text = str(value)
    if text.lower() == "nan":
        return ""
    text = _X000D.sub("", text)
    text = _ZERO_WIDTH.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    return text.strip()


def nfkc_key(text: str) -> str:
    """The Unicode NFKC form of a text, stripped: full-width ``８００１``/``Ａ`` and half-width ``8001``/``A``, the
    ideographic space and a plain space, compatibility ideographs and their unified forms all compare equal.

    A comparison key only (two ids with one key are one id written two ways); the text itself is never replaced.
    """
    return unicodedata.normalize("NFKC", text).strip()


def has_chinese(text: str) -> bool:
    """True when the text contains at least one CJK ideograph."""
    return bool(_CJK.search(text))


def normalise_chinese(name: object) -> str:
    """Chinese name with every kind of white space removed (``"城 市"`` -> ``"城市"``)."""
    return re.sub(r"\s+", "", clean_cell_text(name))


def strip_admin_suffix(name: str) -> str:
    """Remove one administrative suffix (市, 地区, 自治州, 盟, 州, ...) from a Chinese name."""
    for suffix in ADMIN_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def short_name(core: str) -> str:
    """An autonomous prefecture's place name without its ethnic designations (延边朝鲜族 -> 延边)."""
    changed = True
    while changed:
        changed = False
        for ethnic in ETHNIC_NAMES:
            if core.endswith(ethnic) and len(core) > len(ethnic) + 1:
                core = core[: -len(ethnic)]
                changed = True
    return core


@lru_cache(maxsize=8192)
def pinyin_key(chinese: str) -> str:
    """Toneless pinyin, lower case, no separators; ü written as v (吕梁 -> lvliang)."""
    return "".join(lazy_pinyin(chinese)).lower().replace("ü", "v")


def latin_key(text: object) -> str:
    """A romanised name as a comparison key: lower case letters only, ü -> v, trailing 'City' etc. dropped."""
    cleaned = clean_cell_text(text)
    cleaned = _LATIN_TRAILERS.sub("", cleaned)
    cleaned = cleaned.lower().replace("ü", "v").replace("u:", "v")
    return _NON_LETTER.sub("", cleaned)


def pinyin_variants(key: str) -> set[str]:
    """Spellings a pinyin key is commonly written in: 'lv' also as 'lu' (吕梁: Lvliang / Luliang)."""
    variants = {key}
    if "v" in key:
        variants.add(key.replace("v", "u"))
    return variants
