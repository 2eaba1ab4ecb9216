"""Inference tables: the treatment coefficient under every standard-error preset, and the wild cluster bootstrap."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from pilotdid.estimation.twfe import get_preset
from pilotdid.report.regression_table import published_text
from pilotdid.report.table import Table


def presets_table(rows: pd.DataFrame, *, presets: Sequence[str], treat: str, digits: int, lang: str = "en",
                  published: dict[str, Any] | None = None) -> Table:
    """The rows of :func:`pilotdid.estimation.twfe.vcov_presets_table` side by side (command, K, q, t df,
    coefficient, SE, t, p, constant), with the published value as a last row when given, and each preset's rules."""
    zh = lang == "zh"
    f = lambda x: "" if x is None or pd.isna(x) else f"{x:.{digits}f}"  # noqa: E731
    body = [
        [r.preset, r.stata_command, str(r.nobs), str(r.k_counted), f"{r.small_sample_factor:.6f}", str(r.t_df),
         f(r.coef), f(r.se), f(r.t), f(r.p), f(r.constant) + (f" ({f(r.constant_se)})" if r.constant_se is not None and not pd.isna(r.constant_se) else "")]
        for r in rows.itertuples(index=False)
    ]
    if published:
        g = published_text
        cons = published.get("constant")
        body.append(
            ["published" if not zh else "原文", str(published.get("source", "")), g(published.get("nobs")), "", "", "",
             g(published.get("coef")), g(published.get("se")), g(published.get("t")), g(published.get("p")),
             g(cons) + (f" ({g(published.get('constant_se'))})" if published.get("constant_se") is not None else "")]
        )
    header = (["预设", "Stata 命令", "N", "K", "小样本因子 q", "t 自由度", "系数", "标准误", "t", "p", "常数项 (SE)"] if zh else
              ["Preset", "Stata command", "N", "K counted", "Small-sample factor q", "t df", "Coef.", "SE", "t", "p", "Constant (SE)"])
    notes = [
        "q = (N−1)/(N−K)·G/(G−1) for clustered errors; every preset gives the same coefficient and differs only in "
        "K (which fixed effects count), the t degrees of freedom, singleton handling and the reported constant.",
        *[f"{name}: K = {p.k_rule}; constant = {p.constant_rule}; singletons {('dropped' if p.drop_singletons else 'kept')}."
          for name, p in ((n, get_preset(n)) for n in presets)],
    ]
    if published:
        notes.append("The 'published' row is the value printed in the source, not computed here.")
    return Table(
        name="vcov_presets",
        title=("各标准误约定下的处理效应" if zh else f"The {treat} coefficient under each standard-error convention"),
        body=pd.DataFrame(body, columns=header), notes=notes,
    )


def wild_bootstrap_table(row: dict[str, Any]) -> Table:
    """The wild cluster restricted bootstrap of the baseline coefficient: one row (coef, t, p, CI, clusters, draws)."""
    return Table(name="wild_bootstrap", title="Wild cluster bootstrap inference for the baseline coefficient",
                 body=pd.DataFrame([row]), float_digits=4,
                 notes=["Null imposed (WCR); symmetric two-sided p-value; fixed effects partialled out."])
