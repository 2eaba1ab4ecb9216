"""The outcome index's weights table: each indicator's weight beside the paper's published one."""

from __future__ import annotations

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
