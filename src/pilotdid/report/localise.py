"""Chinese output for text that analyses still write in English: translated from the message catalogue.

Analyses that build their text with ``msg`` need nothing from here. For the rest, ``localise_run`` turns each
table's title, header, spanning groups, row stubs and notes, and each analysis note, into the report language
before anything is written, using two catalogue tables:

* ``[phrase]`` — whole cells and headers, looked up exactly (``"Mean treated" = "处理组均值"``);
* ``[template.*]`` — sentences with variable parts: the English message is the pattern (its ``{name}`` fields
  match any text), the Chinese message is filled with what they matched, each value translated when it is itself a
  phrase. ``[template.title]`` is keyed by table name (``psm_balance_kernel`` tries ``psm_balance_kernel``, then
  ``psm_balance``), ``[template.note]`` entries are tried in turn against every note. A note's ``{ref}`` (how it
  cites a table: the study's ``[study] outputs`` ref such as "Table 7", else "table 'NAME'") is itself translated
  by ``[template.ref]``. A weighted study's notes carry a ``[template.clause]`` naming the weights; the note is
  matched without it and the clause's translation follows.

Text that matches nothing stays as it is (and tests/report/test_zh_output.py counts it), so a module that changes
its English wording shows up as English in zh output, never as a wrong translation.
"""

from __future__ import annotations

import re

import pandas as pd

from pilotdid.i18n import messages, template_pattern, unit_nouns, unit_words

#: The fields a message fills with what the study calls its units (``[study] unit_noun``, i18n.unit_words).
UNIT_FIELDS = ("unit", "units", "Unit", "Units")


def unit_translations(lang: str, unit_noun=None) -> dict[str, str]:
    """English unit word -> the word in ``lang``: every noun of the catalogue's ``[unit_noun]`` and the study's own
    (a ``{one, many, zh}`` table), so a note's ``{units}`` ("counties") is filled with "县"."""
    out: dict[str, str] = {}
    for noun in (*unit_nouns(), *([unit_noun] if isinstance(unit_noun, dict) else [])):
        english, local = unit_words(noun, "en"), unit_words(noun, lang)
        out.update({english[f]: local[f] for f in UNIT_FIELDS})
    return out


#: one indicator of measures/_panel.py's list notes: "Label (published weight 0.0350)" with an optional ": reason"
#: (a reason may hold commas, so an item runs up to the next ", Label (published weight")
_INDICATOR_ITEM = re.compile(r"(?:^|, )(?P<label>[^,:]+?) \(published weight (?P<w>[0-9.]+)\)(?:: (?P<reason>.*?))?"
                             r"(?=, [^,:]+? \(published weight |$)", flags=re.S)


def _indicator_items(text: str, lang: str) -> str:
    """The ``{items}`` of an indicator list note, item by item (label, weight, reason), or ``text`` if it is no such list."""
    items = list(_INDICATOR_ITEM.finditer(text))
    if not items or "".join(m.group(0) for m in items) != text:
        return text
    phrases, item = messages("phrase", lang), messages("template.note", lang)["index_excluded_item"]
    out = []
    for m in items:
        label = m.group("label")
        one = item.format(label=phrases.get(label, label), w=m.group("w"))
        if m.group("reason"):
            out.append(one + messages("common", lang)["label_colon"] + phrases.get(m.group("reason"), m.group("reason")))
        else:
            out.append(one)
    return messages("common", lang)["list_separator"].join(out)


def _listed(text: str, item_keys: tuple[str, ...], lang: str, sep: str = "; ") -> str:
    """A ``sep``-joined list whose items each match one of ``[template.item] item_keys``, item by item; else ``text``."""
    english, local, phrases = messages("template.item", "en"), messages("template.item", lang), messages("phrase", lang)
    out = []
    for part in text.split(sep):
        for key in item_keys:
            pattern, names = template_pattern(english[key])
            match = pattern.match(part)
            if match:
                out.append(local[key].format(**{n: phrases.get(v, v) for n, v in zip(names, match.groups())}))
                break
        else:
            return text
    return messages("common", lang)["list_separator"].join(out)


def _fill(zh_template: str, names: tuple[str, ...], values: tuple[str, ...], lang: str, unit_noun=None) -> str:
    phrases = messages("phrase", lang)
    filled = {n: phrases.get(v.strip(), v) for n, v in zip(names, values)}
    nouns = unit_translations(lang, unit_noun) if any(n in UNIT_FIELDS for n in names) else {}
    for n in set(names) & set(UNIT_FIELDS):  # (some older templates' {unit} is a column name: a phrase, kept)
        filled[n] = nouns.get(values[names.index(n)].strip(), filled[n])
    if "items" in filled:
        filled["items"] = _indicator_items(filled["items"], lang)
    if "zones" in filled:
        filled["zones"] = _listed(filled["zones"], ("zone_item",), lang)
    if "failed" in filled:
        filled["failed"] = _listed(filled["failed"], ("failed_score", "failed_singular"), lang, sep=", ")
    if "controls" in filled:  # a list of column names: the language's separator ("agg、invest" in zh)
        filled["controls"] = messages("common", lang)["name_separator"].join(values[names.index("controls")].split(", "))
    if "wild_cells" in filled:
        filled["wild_cells"] = _listed(filled["wild_cells"], ("wild_cell",), lang)
    if "ref" in filled:  # how the note cites a table: "Table 7", "table6b" or "table 'heterogeneity'" ([template.ref])
        filled["ref"] = translate(values[names.index("ref")].strip(), lang, section="ref")
    if "title" in filled:  # a split's title ("County size", heterogeneity.split) in the study's unit noun
        from pilotdid.report.paper_tables import split_title

        noun = unit_noun or "unit"
        titles = {split_title(k, "en", noun): split_title(k, lang, noun) for k in messages("heterogeneity.split", "en")}
        filled["title"] = titles.get(values[names.index("title")].strip(), filled["title"])
    if "note" in filled:  # a prefixed note ("broadband assignment: ..."): the note itself, translated on its own
        filled["note"] = translate(filled["note"], lang, unit_noun=unit_noun)
    # a template's format spec (e.g. {p:.3f}) cannot apply to matched text: use the bare field
    bare = re.sub(r"\{(\w+)(?::[^{}]*)?\}", r"{\1}", zh_template)
    return bare.format(**filled)


def translate(text: str, lang: str, *, key: str | None = None, section: str = "note", unit_noun=None) -> str:
    """``text`` in ``lang`` when the catalogue knows it (exact phrase, or a template of ``section``), else ``text``.
    ``unit_noun`` is the study's ``[study] unit_noun`` (a catalogue noun's words are known without it; a table
    ``{one, many, zh}`` of the study's own and split titles such as "County size" need it)."""
    if lang == "en" or not isinstance(text, str) or not text.strip():
        return text
    phrases = messages("phrase", lang)
    if text in phrases:
        return phrases[text]
    core = text.strip()
    if core != text:  # " † TWFE at ...": match without the surrounding blanks, keep them
        lead, trail = text[:len(text) - len(text.lstrip())], text[len(text.rstrip()):]
        return lead + translate(core, lang, key=key, section=section, unit_noun=unit_noun) + trail
    if section == "note":  # before the templates: a template's free field could swallow the clause
        weighted = _without_weights_clause(text, lang, unit_noun)
        if weighted is not None:
            return weighted
    english, local = messages(f"template.{section}", "en"), messages(f"template.{section}", lang)
    keys = list(english)
    if key is not None:  # keyed templates (titles): the table name, then its stem without the last _part
        candidates, name = [], key
        while name:
            candidates.append(name)
            name = name.rpartition("_")[0]
        keys = [k for k in candidates if k in english]
    for k in keys:
        pattern, names = template_pattern(english[k])
        match = pattern.match(text)
        if match:
            return _fill(local[k], names, match.groups(), lang, unit_noun)
    return text


def _without_weights_clause(text: str, lang: str, unit_noun=None) -> str | None:
    """A note of a weighted study: its ``[template.clause]`` (", weighted by w (analytic weights ...)") taken out,
    the rest translated as the unweighted note, the clause's translation put at its end; None when there is no
    such clause or the rest is not a known note."""
    english, local = messages("template.clause", "en"), messages("template.clause", lang)
    for key, clause in english.items():
        literal = [re.escape(part) for part in clause.split("{w}")]
        for match in re.finditer(literal[0] + r"([^\s;,()]+)" + literal[1], text):
            rest = text[:match.start()] + text[match.end():]
            translated = translate(rest, lang, unit_noun=unit_noun)
            if translated != rest:
                said = local[key].format(w=match.group(1))
                for end in ("。", "."):
                    if translated.endswith(end):
                        return translated[:-len(end)] + said + "。"
                return translated + said
    return None


def localise_table(table, lang: str, unit_noun=None) -> None:
    """Translate ``table`` in place: title, header, spanning groups, row stubs, text cells and notes."""
    if lang == "en":
        return
    table.title = translate(table.title, lang, key=table.origin or table.name, section="title")
    table.body = table.body.rename(columns={c: translate(c, lang) for c in table.body.columns if isinstance(c, str)})
    if table.column_groups:
        table.column_groups = [(translate(g, lang), n) for g, n in table.column_groups]
    phrases = messages("phrase", lang)
    for column in table.body.columns:
        values = table.body[column]
        if not pd.api.types.is_numeric_dtype(values):
            table.body[column] = values.map(lambda v: phrases.get(v, translate(v, lang)) if isinstance(v, str) else v)
    table.notes = [translate(n, lang, unit_noun=unit_noun) for n in table.notes]


def localise_frame(frame, lang: str):
    """A copy of a plain DataFrame with its header and text cells (and True/False) in ``lang``."""
    if lang == "en":
        return frame
    phrases = messages("phrase", lang)
    out = frame.rename(columns={c: phrases.get(c, c) for c in frame.columns if isinstance(c, str)})
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            out[column] = values.astype(object).map(lambda v: phrases.get(str(v), v) if isinstance(v, (bool, str)) else v)
    return out


def localise_run(run) -> None:
    """Translate every table and note of a finished run into its report language (no-op for English)."""
    lang = run.context.lang
    if lang == "en":
        return
    noun = run.context.unit_noun
    for out in run.outputs.values():
        for table in out.tables.values():
            localise_table(table, lang, noun)
        out.notes = [translate(n, lang, unit_noun=noun) for n in out.notes]
        out.shared_table_notes = [translate(n, lang, unit_noun=noun) for n in out.shared_table_notes]  # = the tables'
    run.context.notes[:] = [translate(n, lang, unit_noun=noun) for n in run.context.notes]
    extras = run.context.extras
    coverage = extras.get("indicator_coverage")
    if coverage is not None and not any(coverage is tb for out in run.outputs.values() for tb in out.tables.values()):
        localise_table(coverage, lang)
    tables = extras.get("treatment_tables") or {}
    for name in list(tables):
        tables[name] = localise_frame(tables[name], lang)
