"""Composite indices on a panel: entropy (the default), CRITIC, entropy-TOPSIS, equal weights, PCA.

``build_index`` is the one entry point; ``compare_indices`` shows how much the ranking of city-years depends on
the weighting. The conventions (standardisation, shift, pooling) are named in
:mod:`pilotdid.measures.weighting` and repeated in every result's ``notes``.

Pooling:

* ``"pooled"`` (default; the common practice, sometimes called the global entropy method): one min–max
  standardisation and one set of weights over all city-years, so index values are comparable across years.
* ``"by_year"``: each year's cross-section is standardised and weighted on its own; weights vary by year
  (``IndexResult.weights_by_time``; the ``weight`` column of ``weights`` is their average) and index values
  compare cities within a year only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from pilotdid.errors import PilotdidInputError
from pilotdid.results.protocol import Result, tidy_frame
from pilotdid.measures._panel import PreparedPanel, prepare, resolve_system
from pilotdid.measures.system import IndicatorSystem
from pilotdid.measures.weighting import (
    DEFAULT_SHIFT,
    critic_weights,
    entropy_weights,
    minmax_standardise,
    topsis_closeness,
)

METHODS = ("entropy", "critic", "topsis", "equal", "pca")
POOLINGS = ("pooled", "by_year")
WEIGHT_COLUMNS = [
    "indicator", "label", "label_zh", "dimension", "sign", "column", "status", "entropy", "redundancy", "weight",
    "published_weight", "published_weight_renormalised", "note",
]


@dataclass
class IndexResult(Result):
    """A composite index and how it was built.

    weights:
        One row per indicator of the system (unavailable ones too, with NaN weight), columns
        :data:`WEIGHT_COLUMNS`. ``entropy``/``redundancy`` are filled for the entropy and TOPSIS methods
        (TOPSIS uses entropy weights); for CRITIC they hold the standard deviation and the conflict term
        (see ``notes``); for PCA ``weight`` is the coefficient on the z-scored indicator.
        ``published_weight_renormalised`` rescales the published weights of the indicators we use to sum to one.
    index:
        The index, aligned with the input panel's rows (name ``"index"``).
    scores:
        Standardised indicators (columns = indicator names), aligned with the input rows.
    subindices:
        One column per dimension: the dimension's part ``Σ_{j in d} w_j z_ij`` of the index (they add up to the
        index) for entropy, CRITIC and equal weights; TOPSIS closeness on the dimension's columns for TOPSIS;
        the retained component scores for PCA.
    weights_by_time:
        For ``pooling="by_year"``: indicator x period weights; else None.
    """

    method: str
    pooling: str
    weights: pd.DataFrame
    index: pd.Series
    scores: pd.DataFrame
    subindices: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    weights_by_time: pd.DataFrame | None = None
    unit: str = "city"
    time: str = "year"
    shift: float = DEFAULT_SHIFT
    system_name: str = "index"
    extra: dict = field(default_factory=dict)

    title = "Composite index weights"

    def tidy(self) -> pd.DataFrame:
        """One row per indicator: ``estimate`` = its weight (``kind`` = weight; NaN where unavailable)."""
        w = self.weights
        rows = [{"term": r["indicator"], "estimate": r["weight"], "kind": "weight",
                 **{k: r[k] for k in ("dimension", "sign") if k in r}} for r in w.to_dict("records")]
        return tidy_frame(rows)

    def to_dict(self) -> dict:
        """``{"index": {...}}``: method, pooling and the weights table."""
        from pilotdid.results.schema import clean_json

        return {"index": clean_json({"method": self.method, "pooling": self.pooling, "shift": self.shift,
                                     "system": self.system_name, "weights": self.weights.to_dict("records")})}

    @property
    def conventions(self) -> dict:
        return {"method": self.method, "pooling": self.pooling, "shift": self.shift, "system": self.system_name}

    def frame(self, keys: pd.DataFrame | None = None) -> pd.DataFrame:
        """unit, time, index and sub-indices in one frame (``keys`` = the panel's unit and time columns)."""
        parts = [self.index.rename("index"), self.subindices]
        out = pd.concat(parts, axis=1)
        if keys is not None:
            out = pd.concat([keys[[self.unit, self.time]], out], axis=1)
        return out


def build_index(
    panel: pd.DataFrame,
    system: IndicatorSystem | str | Path,
    method: str = "entropy",
    pooling: str = "pooled",
    *,
    unit: str | None = None,
    time: str | None = None,
    shift: float = DEFAULT_SHIFT,
    drop_constant: bool = False,
    fill_mask: pd.DataFrame | None = None,
    missing: str = "error",
) -> IndexResult:
    """Build a composite index of ``panel`` from the indicator ``system`` (an IndicatorSystem, a TOML path or a
    builtin name such as ``"cbec_resilience"``).

    ``method``: ``"entropy"`` (entropy weights, index = Σ w z), ``"critic"``, ``"topsis"`` (entropy weights,
    index = relative closeness to the ideal point), ``"equal"`` (w = 1/m) or ``"pca"`` (see
    :func:`pilotdid.measures.pca.pca_index`; pooled only). ``unit``/``time`` override the system's column names.
    Unavailable indicators are skipped and listed in ``notes``; zero-range indicators are an error unless
    ``drop_constant=True`` (then dropped with a warning note); missing cells are an error naming the first
    (unit, time) cells. ``fill_mask`` (optional; True where a cell was filled upstream, aligned with the panel's
    index or carrying its unit and time columns) only adds a count of filled cells per indicator to ``notes``.
    """
    if method not in METHODS:
        raise PilotdidInputError(f"unknown index method '{method}'", where="method", fix=f"use one of: {', '.join(METHODS)}")
    if pooling not in POOLINGS:
        raise PilotdidInputError(f"unknown pooling '{pooling}'", where="pooling", fix=f"use one of: {', '.join(POOLINGS)}")
    if isinstance(shift, bool) or not isinstance(shift, (int, float)) or not (0.0 <= float(shift) < 1.0) or shift != shift:
        raise PilotdidInputError(f"shift must be a number in [0, 1), got {shift!r}", where="shift", fix="use e.g. 0.0001 (the default)")
    system = resolve_system(system)
    if method == "pca":
        if pooling != "pooled":
            raise PilotdidInputError("the PCA index is built on pooled city-years only", where="pooling",
                                     fix='use pooling = "pooled" with method = "pca"')
        return _pca_result(panel, system, unit=unit, time=time, drop_constant=drop_constant, fill_mask=fill_mask,
                           missing=missing)

    prepared = prepare(panel, system, unit=unit, time=time, by_time=pooling == "by_year", drop_constant=drop_constant,
                       fill_mask=fill_mask, missing=missing)
    names = list(prepared.values.columns)
    signs = [ind.sign for ind in prepared.indicators]
    if pooling == "pooled":
        groups = [(None, np.arange(len(prepared.values)))]
    else:
        period = prepared.keys[prepared.time].to_numpy()
        groups = [(value, np.flatnonzero(period == value)) for value in pd.unique(period)]
        groups.sort(key=lambda g: g[0])

    x = prepared.values.to_numpy()
    z = np.empty_like(x)
    index = np.empty(len(x))
    sub_columns = [d for d in system.dimensions if any(ind.dimension == d for ind in prepared.indicators)]
    dims = np.array([ind.dimension for ind in prepared.indicators])
    subs = np.empty((len(x), len(sub_columns)))
    per_group: dict[object, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for key, rows in groups:
        zg = minmax_standardise(x[rows], signs)
        stat_a, stat_b, w = _weights(method, zg, shift)
        z[rows] = zg
        per_group[key] = (stat_a, stat_b, w)
        if method == "topsis":
            index[rows] = topsis_closeness(zg, w)
            for k, dim in enumerate(sub_columns):
                mask = dims == dim
                subs[rows, k] = topsis_closeness(zg[:, mask], w[mask])
        else:
            index[rows] = zg @ w
            for k, dim in enumerate(sub_columns):
                mask = dims == dim
                subs[rows, k] = zg[:, mask] @ w[mask]

    stacked = np.array([per_group[key] for key, _ in groups])  # groups x 3 x m
    mean_a, mean_b, mean_w = stacked.mean(axis=0)
    weights = _weights_table(system, prepared, {"entropy": mean_a, "redundancy": mean_b, "weight": mean_w},
                             fill_stats=method in ("entropy", "topsis", "critic"))
    by_time = None
    if pooling == "by_year":
        by_time = pd.DataFrame({key: per_group[key][2] for key, _ in groups}, index=pd.Index(names, name="indicator"))
        by_time.columns.name = prepared.time

    notes = _convention_notes(method, pooling, shift, prepared, by_time)
    return IndexResult(
        method=method, pooling=pooling, weights=weights,
        index=pd.Series(index, index=prepared.values.index, name="index").reindex(panel.index),
        scores=pd.DataFrame(z, index=prepared.values.index, columns=names).reindex(panel.index),
        subindices=pd.DataFrame(subs, index=prepared.values.index, columns=sub_columns).reindex(panel.index),
        notes=notes, weights_by_time=by_time, unit=prepared.unit, time=prepared.time, shift=float(shift),
        system_name=system.name,
    )


def compare_indices(
    panel: pd.DataFrame,
    system: IndicatorSystem | str | Path,
    methods: list[str] | tuple[str, ...] = ("entropy", "critic", "topsis", "equal"),
    pooling: str = "pooled",
    **options,
) -> pd.DataFrame:
    """Agreement between the indices built with each method: one row per pair of methods.

    Columns: ``pearson``, ``spearman``, ``kendall`` (tau-b) over all city-years, and ``spearman_within_time_mean``
    (the average across periods of the within-period rank correlation — the ranking a cross-section sees).
    ``options`` are passed to :func:`build_index` (unit, time, shift, drop_constant).
    """
    if len(methods) < 2:
        raise PilotdidInputError("compare_indices needs at least two methods", where="methods", fix=f"choose from {', '.join(METHODS)}")
    results = {m: build_index(panel, system, method=m, pooling=pooling, **options) for m in methods}
    first = results[methods[0]]
    period = panel[first.time].to_numpy()  # indices are aligned with the input rows, in order
    rows = []
    for i, a in enumerate(methods):
        for b in methods[i + 1:]:
            xa = results[a].index.to_numpy()
            xb = results[b].index.to_numpy()
            both = np.isfinite(xa) & np.isfinite(xb)  # rows dropped for missing cells (missing="drop_rows")
            xa, xb, per = xa[both], xb[both], period[both]
            within = [stats.spearmanr(xa[per == t], xb[per == t]).statistic for t in pd.unique(per)
                      if (per == t).sum() > 2]
            rows.append({
                "method_a": a, "method_b": b,
                "pearson": float(np.corrcoef(xa, xb)[0, 1]),
                "spearman": float(stats.spearmanr(xa, xb).statistic),
                "kendall": float(stats.kendalltau(xa, xb).statistic),
                "spearman_within_time_mean": float(np.mean(within)) if within else np.nan,
                "n": len(xa),
            })
    return pd.DataFrame(rows)


def indicator_coverage(
    panel: pd.DataFrame, system: IndicatorSystem | str | Path, *, unit: str | None = None, time: str | None = None
) -> pd.DataFrame:
    """Units with a value, per indicator (rows, system order) and period (columns); unavailable indicators and
    indicators whose column is absent from the panel show 0. Use it to choose years or indicators before
    :func:`build_index` with ``missing="error"``."""
    system = resolve_system(system)
    time = time or system.time
    if time not in panel.columns:
        raise PilotdidInputError(f"the time column '{time}' is not in the panel", where="panel", fix="pass time=...")
    periods = sorted(pd.unique(panel[time]))
    rows = {}
    for ind in system.indicators:
        if ind.column is None or ind.column not in panel.columns:
            rows[ind.name] = pd.Series(0, index=periods)
        else:
            values = pd.to_numeric(panel[ind.column], errors="coerce")
            rows[ind.name] = values.notna().groupby(panel[time].to_numpy()).sum().reindex(periods, fill_value=0)
    out = pd.DataFrame(rows).T.astype(int)
    out.index.name = "indicator"
    out.columns.name = time
    return out


def _weights(method: str, z: np.ndarray, shift: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = z.shape[1]
    if method in ("entropy", "topsis"):
        return entropy_weights(z, shift)
    if method == "critic":
        return critic_weights(z)
    nan = np.full(m, np.nan)
    return nan, nan, np.full(m, 1.0 / m)


def _weights_table(system: IndicatorSystem, prepared: PreparedPanel, computed: dict[str, np.ndarray], *, fill_stats: bool) -> pd.DataFrame:
    position = {ind.name: k for k, ind in enumerate(prepared.indicators)}
    used_published = [ind.published_weight for ind in prepared.indicators if ind.published_weight is not None]
    all_published = len(used_published) == len(prepared.indicators) and sum(used_published) > 0
    rows = []
    for ind in system.indicators:
        k = position.get(ind.name)
        if k is None:
            note = prepared.dropped.get(ind.name)
            if note:
                note = f"dropped: {note}"
            elif ind.status == "excluded":
                note = f"excluded: {ind.proxy_note}"
            else:
                note = f"unavailable: {ind.proxy_note}" if ind.proxy_note else "unavailable in the data"
        else:
            note = f"proxy: {ind.proxy_note}" if ind.status == "proxy" else ""
        rows.append({
            "indicator": ind.name, "label": ind.display, "label_zh": ind.label_zh or ind.display, "dimension": ind.dimension, "sign": ind.sign,
            "column": ind.column if k is not None else None, "status": ind.status if ind.name not in prepared.dropped else "dropped",
            "entropy": float(computed["entropy"][k]) if k is not None and fill_stats else np.nan,
            "redundancy": float(computed["redundancy"][k]) if k is not None and fill_stats else np.nan,
            "weight": float(computed["weight"][k]) if k is not None else np.nan,
            "published_weight": ind.published_weight if ind.published_weight is not None else np.nan,
            "published_weight_renormalised": (ind.published_weight / sum(used_published))
            if (k is not None and all_published) else np.nan,
            "note": note,
        })
    return pd.DataFrame(rows, columns=WEIGHT_COLUMNS)


def _convention_notes(method: str, pooling: str, shift: float, prepared: PreparedPanel, by_time) -> list[str]:
    m = len(prepared.indicators)
    notes = list(prepared.notes)
    notes.append(
        f"{method} index of {m} indicators over {len(prepared.values)} {prepared.unit}-{prepared.time} rows; "
        "standardisation: direction-aware min-max to [0, 1] (cost indicators reversed)"
        + (", over all rows pooled." if pooling == "pooled" else f", within each {prepared.time} separately.")
    )
    if method in ("entropy", "topsis"):
        notes.append(
            f"entropy weights: shares p = (z + shift) / sum(z + shift) with shift = {shift:g} against log(0); "
            "e = -sum(p ln p) / ln n, redundancy d = 1 - e, w = d / sum(d); the index uses the unshifted z."
        )
    if method == "topsis":
        notes.append("TOPSIS: weighted scores v = w z; index = D- / (D+ + D-), Euclidean distances to the column max (ideal) and min (anti-ideal).")
    if method == "critic":
        notes.append("CRITIC weights: C_j = sd(z_j) * sum_k (1 - r_jk), w = C / sum(C); the table's 'entropy' column holds sd(z_j), 'redundancy' the conflict sum_k (1 - r_jk).")
    if method == "equal":
        notes.append(f"equal weights: w = 1/{m}.")
    if by_time is not None:
        notes.append(
            f"by-{prepared.time} weights vary across periods (range of each indicator's weight: "
            + ", ".join(f"{name} {row.min():.3f}-{row.max():.3f}" for name, row in by_time.iterrows())
            + "); the table's weight is their mean; index values compare units within a period only."
        )
    return notes


def _pca_result(panel, system, *, unit, time, drop_constant, fill_mask, missing) -> IndexResult:
    from pilotdid.measures.pca import pca_index

    result = pca_index(panel, system, unit=unit, time=time, drop_constant=drop_constant, fill_mask=fill_mask,
                       missing=missing)
    prepared_like = PreparedPanel(
        values=result.standardised, indicators=[system.get(n) for n in result.indicators], system=system,
        unit=result.unit, time=result.time, keys=panel[[result.unit, result.time]],
        dropped=dict(result.dropped),
    )
    nan = np.full(len(result.indicators), np.nan)
    weights = _weights_table(system, prepared_like, {"entropy": nan, "redundancy": nan, "weight": result.coefficients.to_numpy()},
                             fill_stats=False)
    retained = [f"PC{k + 1}" for k in range(result.retained)]
    notes = list(result.notes)
    notes.append("PCA weights table: 'weight' is the coefficient of each z-scored indicator in the index (not a share; may be negative).")
    return IndexResult(
        method="pca", pooling="pooled", weights=weights, index=result.index, scores=result.standardised,
        subindices=result.component_scores[retained], notes=notes, unit=result.unit, time=result.time,
        shift=float("nan"), system_name=system.name, extra={"pca": result},
    )
