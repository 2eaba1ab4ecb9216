"""Winsorising continuous variables, with a count of every value changed.

Convention (named): two tails, pooled over all rows (not by year), cut points are the sample
percentiles by Stata's ``_pctile`` definition (the one ``winsor2`` uses: the average of the two
order statistics when N·p is an integer; numpy ``method="averaged_inverted_cdf"``). Values below
the lower cut are set to it, values above the upper cut to it; missing values stay missing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pilotdid.errors import PilotdidInputError

QUANTILE_METHOD = "averaged_inverted_cdf"


def winsorize(
    data: pd.DataFrame, columns: Sequence[str], lower: float = 0.01, upper: float = 0.99,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Winsorised copy of ``data`` and a report with one row per variable.

    Report columns: variable, lower_pct, upper_pct, lower_cut, upper_cut, n_nonmissing, n_low
    (values raised to the lower cut), n_high (lowered to the upper cut), n_changed.
    """
    if not 0 <= lower < upper <= 1:
        raise PilotdidInputError(f"winsorising limits ({lower}, {upper}) are not 0 <= lower < upper <= 1",
                                 where="winsorize", fix="e.g. lower = 0.01, upper = 0.99")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise PilotdidInputError(f"winsorize: column(s) {missing} not in the panel", where="winsorize",
                                 fix="name existing continuous columns")
    out = data.copy()
    rows = []
    for col in columns:
        values = pd.to_numeric(data[col], errors="coerce").to_numpy(float)
        ok = ~np.isnan(values)
        if not ok.any():
            rows.append({"variable": col, "lower_pct": lower * 100, "upper_pct": upper * 100, "lower_cut": np.nan,
                         "upper_cut": np.nan, "n_nonmissing": 0, "n_low": 0, "n_high": 0, "n_changed": 0})
            continue
        lo, hi = np.quantile(values[ok], [lower, upper], method=QUANTILE_METHOD)
        low = ok & (values < lo)
        high = ok & (values > hi)
        clipped = values.copy()
        clipped[low] = lo
        clipped[high] = hi
        out[col] = clipped
        rows.append({"variable": col, "lower_pct": lower * 100, "upper_pct": upper * 100, "lower_cut": float(lo),
                     "upper_cut": float(hi), "n_nonmissing": int(ok.sum()), "n_low": int(low.sum()),
                     "n_high": int(high.sum()), "n_changed": int(low.sum() + high.sum())})
    return out, pd.DataFrame(rows)
