"""The outcome index's tables: each indicator's weight beside the paper's published one, and the headline DID under
each index variant (index systems)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pilotdid.measures import IndexResult
from pilotdid.report.table import Table


def weights_table(result: IndexResult, *, lang: str = "en") -> Table:
    """The weights of ``result`` beside the paper's published weights; unavailable indicators marked."""
    w = result.weights
    label = w["label_zh"] if lang == "zh" else w["label"]
    status = w["status"].map({"available": "", "proxy": "proxy", "unavailable": "not in data", "dropped": "dropped",
                              "excluded": "excluded"})
    body = pd.DataFrame({
        "Dimension": w["dimension"].str.replace("_", " & ", regex=False),
        "Indicator": label,
        "Sign": w["sign"].str.replace("-", "\u2212", regex=False),
        "Panel variable": w["column"].fillna("\u2014"),
        "Status": status.fillna(w["status"]),
        "Weight (ours)": w["weight"],
        "Weight (paper, published)": w["published_weight"],
        "Paper weight rescaled to our indicators": w["published_weight_renormalised"],
    })
    if not np.isfinite(w["published_weight"].to_numpy(dtype=float)).any():
        body = body.drop(columns=["Weight (paper, published)", "Paper weight rescaled to our indicators"])
    used = w["weight"].notna()
    published = w["published_weight"].to_numpy(dtype=float)
    notes = [
        f"Our weights: {result.method} method, pooling = {result.pooling}"
        + (f", shift = {result.shift:g}" if result.method in ("entropy", "topsis") else "")
        + "; direction-aware min-max standardisation; index = weighted sum of standardised scores"
        + (" (TOPSIS: closeness to the ideal point)." if result.method == "topsis" else "."),
    ]
    if np.isfinite(published).any():  # the indicator system carries the paper's published weights
        notes.append("Paper weights are the published Table 1 values (not recomputed). 'not in data' marks indicators no "
                     "public file carries: they are skipped, so our weights are spread over the remaining indicators.")
        notes.append(
            f"The indicators we use carry {np.nansum(published[used.to_numpy()]):.3f} of the paper's total weight; "
            f"the missing ones carry {np.nansum(published[~used.to_numpy()]):.3f}."
        )
    else:
        notes.append("'not in data' marks indicators the panel does not carry: they are skipped, so the weights are "
                     "spread over the remaining indicators.")
    notes.extend(n for n in result.notes if n.startswith(("proxy:", "WARNING", "by-", "fill mask")) or "excluded on purpose" in n)
    return Table(
        name="index_weights", title=f"Index weights ({result.system_name}): ours beside the paper's",
        body=body, notes=notes, float_digits=4,
    )


def variant_label(label: str, *, rebuilt: bool = False, lang: str = "en") -> str:
    """An index variant's name in the index-systems table: the study's own index rebuilt on an alternative's
    window says so (catalogue ``table.index_systems.same_window``)."""
    from pilotdid.i18n import messages

    return messages("table.index_systems", lang)["same_window"].format(label=label) if rebuilt else label


def index_systems_table(entries: list[dict[str, Any]], *, vcov: str, cluster: str | None, lang: str = "en",
                        unit_noun: str | dict = "unit") -> Table:
    """The headline DID under each index variant: ``entries`` of {label, main, indicators (count), published_share,
    estimate (coef, se, t, p, nobs, units, periods, late_units), notes (the variant's)}; the units named as the
    study names them (``[study] unit_noun``)."""
    from pilotdid.i18n import messages, unit_words

    m = messages("table.index_systems", lang)
    words = unit_words(unit_noun, lang)
    rows, notes = [], []
    for e in entries:
        est, label = e["estimate"], e["label"]
        rows.append({
            m["index"]: label + (m["main"] if e["main"] else ""),
            m["indicators"]: e["indicators"],
            m["weight"]: e["published_share"],
            m["years"]: est["periods"],
            m["cities"].format(**words): est["units"],
            "N": est["nobs"],
            "DID": est["coef"], "SE": est["se"], "t": est["t"], "p": est["p"],
        })
        notes.extend(f"{label}: {n}" for n in e["notes"])
        if est["late_units"]:
            notes.append(m["late"].format(label=label, n=est["late_units"], last=est["periods"][-4:], **words))
    table_notes = [
        m["note_model"].format(vcov=vcov, cluster=cluster, **words),
        m["note_main"],
        *dict.fromkeys(notes),
    ]
    return Table(name="index_systems", title=m["title"], body=pd.DataFrame(rows), notes=table_notes, float_digits=4)
