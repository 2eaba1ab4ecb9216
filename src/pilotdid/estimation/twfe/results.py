"""Result objects of a TWFE fit: what tables, results.json and the report need, conventions named."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pilotdid.estimation.twfe.covariance import VCOV_PRESETS
from pilotdid.results.protocol import Result, tidy_frame
from pilotdid.results.schema import ESTIMATE_KEYS, normalise_row

CONSTANT_TERM = "_cons"

#: How each R² is defined (printed in summaries and table notes).
R2_DEFINITIONS = {
    "r2": "overall R² of the dummy-variable regression, 1 − SSR/TSS (fixed effects included)",
    "r2_within": "within R², 1 − SSR/SS of the outcome after partialling out the fixed effects",
    "adj_r2": "overall adjusted R², 1 − (1 − R²)(N − 1)/(N − K_all), K_all = slopes + intercept + all FE dummies",
    "adj_r2_within": "within adjusted R², 1 − (1 − R²_within)(N − K_fe)/(N − K_all)",
}


@dataclass
class TwfeResult(Result):
    """One fitted model. ``coefs`` has columns term, coef, se, t, p, ci_low, ci_high (95 %, t with
    ``t_df`` degrees of freedom); ``constant`` is a dict with the same keys (no term) or None when
    the preset reports no intercept."""

    coefs: pd.DataFrame
    constant: dict[str, float] | None
    outcome: str
    nobs: int
    n_clusters: int | None
    cluster: str | None
    r2: float
    r2_within: float
    adj_r2: float
    adj_r2_within: float
    df_resid: int
    t_df: int
    k_counted: int
    small_sample_factor: float
    vcov: str
    vcov_description: str
    stata_command: str
    fixed_effects: list[str]
    fe_levels: dict[str, int]
    weights: str | None = None
    rows_missing: int = 0
    singleton_rows: int = 0
    singletons_dropped: int = 0
    vcov_matrix: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    mean_outcome: float | None = None

    title = "TWFE OLS"

    @property
    def terms(self) -> list[str]:
        return list(self.coefs["term"])

    def term(self, name: str) -> dict[str, Any]:
        """The row of ``name`` (``_cons`` for the intercept) as a dict; KeyError if absent."""
        if name == CONSTANT_TERM:
            if self.constant is None:
                raise KeyError(f"preset {self.vcov} reports no constant")
            return {"term": CONSTANT_TERM, **self.constant}
        hit = self.coefs.loc[self.coefs["term"] == name]
        if hit.empty:
            raise KeyError(f"term {name!r} not in the model (terms: {', '.join(self.terms)})")
        return {k: (v.item() if hasattr(v, "item") else v) for k, v in hit.iloc[0].to_dict().items()}

    def command(self, regressors: Sequence[str] | None = None) -> str:
        """The Stata (or R) command of this fit's SE preset, written with its own column names (``stata_command``
        is the preset's template with y, x, city, year; :meth:`VcovPreset.command` writes it)."""
        preset = VCOV_PRESETS.get(self.vcov)
        if preset is None:
            return self.stata_command
        return preset.command(self.outcome, list(regressors or self.terms), list(self.fixed_effects), self.cluster)

    @property
    def convention(self) -> str:
        """One sentence naming the SE convention (for table notes)."""
        return self.convention_text("en")

    def convention_text(self, lang: str = "en") -> str:
        """The SE convention sentence in English (``en``) or Chinese (``zh``)."""
        if lang == "zh":
            clus = f"按 {self.cluster} 聚类（{self.n_clusters} 个聚类）" if self.cluster else "异方差稳健（HC1）"
            return (
                f"标准误{clus}，约定 '{self.vcov}'（{self.command()}）：小样本因子 (N−1)/(N−K)·G/(G−1) = "
                f"{self.small_sample_factor:.4f}，K = {self.k_counted}；p 值与 95% 置信区间基于自由度为 {self.t_df} 的 t 分布。"
            )
        clus = (
            f"clustered by {self.cluster} ({self.n_clusters} clusters)" if self.cluster else "heteroskedasticity-robust (HC1)"
        )
        return (
            f"Standard errors {clus}, preset '{self.vcov}' ({self.command()}): "
            f"small-sample factor (N−1)/(N−K)·G/(G−1) = {self.small_sample_factor:.4f} with K = {self.k_counted}; "
            f"p-values and 95% CIs from t with {self.t_df} df."
        )

    def estimate_rows(
        self, table: str, column: str, sample: str = "full", treatment_term: str | None = None
    ) -> list[dict[str, Any]]:
        """Rows for results.json["estimates"]: one per term, then ``_cons`` when reported.

        Keys are exactly :data:`~pilotdid.results.schema.ESTIMATE_KEYS`. ``treatment_term``, when
        given, is put first (it must be a term of the model).
        """
        order = self.terms
        if treatment_term is not None:
            if treatment_term not in order:
                raise KeyError(f"treatment term {treatment_term!r} not in the model (terms: {', '.join(order)})")
            order = [treatment_term] + [t for t in order if t != treatment_term]
        if self.constant is not None:
            order = order + [CONSTANT_TERM]
        rows = []
        for name in order:
            r = self.term(name)
            row = {
                "table": table, "column": str(column), "term": name,
                "coef": r["coef"], "se": r["se"], "t": r["t"], "p": r["p"],
                "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                "nobs": self.nobs, "n_clusters": self.n_clusters, "r2": self.r2, "r2_within": self.r2_within,
                "adj_r2": self.adj_r2, "vcov": self.vcov, "sample": sample, "outcome": self.outcome,
            }
            rows.append(normalise_row(row, ESTIMATE_KEYS))
        return rows

    def tidy(self) -> pd.DataFrame:
        """One row per term (``_cons`` last when the preset reports one); ``kind`` = coefficient / constant."""
        rows = [{**self.term(t), "kind": "coefficient"} for t in self.terms]
        if self.constant is not None:
            rows.append({**self.term(CONSTANT_TERM), "kind": "constant"})
        return tidy_frame([{**r, "estimate": r.pop("coef")} for r in rows])

    def to_dict(self, table: str = "model", column: str = "1", sample: str = "full") -> dict[str, Any]:
        """``{"estimates": [...]}``: the results.json rows of this fit (see :meth:`estimate_rows`)."""
        return {"estimates": self.estimate_rows(table, column, sample=sample)}

    @property
    def conventions(self) -> dict[str, Any]:
        return {"vcov": self.vcov, "command": self.command(), "stata_command": self.stata_command, "cluster": self.cluster,
                "n_clusters": self.n_clusters, "small_sample_factor": self.small_sample_factor,
                "k_counted": self.k_counted, "t_df": self.t_df, "weights": self.weights,
                "r2": R2_DEFINITIONS["r2"], "r2_within": R2_DEFINITIONS["r2_within"]}

    def summary(self) -> str:
        """A plain-text regression summary naming every convention."""
        lines = [
            f"TWFE OLS: {self.outcome} ~ {' + '.join(self.terms)} | {' + '.join(self.fixed_effects)}",
            f"N = {self.nobs}" + (f", clusters = {self.n_clusters}" if self.cluster else "")
            + ", fixed effects: " + ", ".join(f"{k} ({v} levels)" for k, v in self.fe_levels.items()),
            self.convention,
            "",
            f"{'term':<28}{'coef':>12}{'se':>12}{'t':>9}{'p':>9}{'[95% conf.':>13}{'interval]':>12}",
        ]
        rows = [self.term(t) for t in self.terms]
        if self.constant is not None:
            rows.append(self.term(CONSTANT_TERM))
        for r in rows:
            lines.append(
                f"{r['term']:<28}{r['coef']:>12.6f}{r['se']:>12.6f}{r['t']:>9.3f}{r['p']:>9.4f}"
                f"{r['ci_low']:>13.6f}{r['ci_high']:>12.6f}"
            )
        if self.constant is None:
            lines.append(f"(no constant reported under preset {self.vcov})")
        lines += [
            "",
            f"R² = {self.r2:.4f}  within R² = {self.r2_within:.4f}  adj. R² = {self.adj_r2:.4f}  "
            f"adj. within R² = {self.adj_r2_within:.4f}",
        ]
        lines += [f"  {k}: {v}" for k, v in R2_DEFINITIONS.items()]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


#: The one shape of a "fit a TWFE" callback (event study, in-time placebo, robustness, subgroup and mediator
#: regressions): ``fit(data, outcome, regressors, fixed_effects, cluster, vcov=..., weights=...) -> TwfeResult``.
#: :func:`pilotdid.estimation.twfe.fit_twfe` itself is the default everywhere; a wrapper of the same shape (e.g.
#: :class:`pilotdid.inference.few_clusters.FitRecorder`, which keeps each call's inputs) may stand in for it.
TwfeFit = Callable[..., TwfeResult]
