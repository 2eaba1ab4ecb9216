"""One protocol for every result object: summary, tidy, plot, notebook display, results.json record, conventions.

A result class inherits :class:`Result` and implements two hooks:

- :meth:`Result.tidy` — a DataFrame with the columns of :data:`TIDY_COLUMNS` (term, estimate, se, t, p,
  ci_low, ci_high, kind; extra columns may follow). ``kind`` says what a row is (``coefficient``,
  ``event_time``, ``att_gt``, ``aggregate``, ...), so rows of different results can be stacked.
- :meth:`Result.to_dict` — the results.json record(s), keyed by the results.json section they belong to
  (``{"estimates": [...]}``, ``{"event_study": [...], "aggregates": [...]}``, ``{"placebo": {...}}``),
  normalised with :mod:`pilotdid.results.schema`.

Everything else has a default built from those two and :attr:`Result.conventions` (the named
conventions a number depends on: the SE preset, the base period, the weighting...). :meth:`Result.plot`
returns a matplotlib ``Figure`` that is never saved or shown by pilotdid (it is made without pyplot, so
no global figure state is touched).
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd

#: Columns every ``tidy()`` frame starts with, in this order.
TIDY_COLUMNS = ("term", "estimate", "se", "t", "p", "ci_low", "ci_high", "kind")


def tidy_frame(rows: list[dict[str, Any]] | pd.DataFrame, kind: str | None = None) -> pd.DataFrame:
    """A frame with :data:`TIDY_COLUMNS` first (missing ones filled with NaN), extras after.

    ``kind`` fills the ``kind`` column where the rows do not set it.
    """
    frame = pd.DataFrame(rows).copy()
    if "term" in frame.columns:
        frame["term"] = frame["term"].astype(str)
    for col in TIDY_COLUMNS:
        if col not in frame.columns:
            frame[col] = kind if (col == "kind" and kind is not None) else np.nan
    if kind is not None:
        frame["kind"] = frame["kind"].fillna(kind)
    extras = [c for c in frame.columns if c not in TIDY_COLUMNS]
    out = frame[list(TIDY_COLUMNS) + extras].reset_index(drop=True)
    for col in ("estimate", "se", "t", "p", "ci_low", "ci_high"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    return out


def fill_normal_tests(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill missing ``t`` and ``p`` of a tidy frame from estimate/se with the normal approximation (z test).

    For estimators whose inference is asymptotically normal (influence functions, bootstrap SEs).
    """
    from scipy import stats

    out = frame.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (out["estimate"] / out["se"]).where(out["se"] > 0)
    out["t"] = out["t"].fillna(z)
    out["p"] = out["p"].fillna(pd.Series(2 * stats.norm.sf(np.abs(z.to_numpy(float))), index=out.index).where(z.notna()))
    return out


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return "" if not math.isfinite(float(value)) else f"{float(value):.{digits}f}"
    return str(value)


class Result:
    """Base of every pilotdid result (see the module docstring). Subclasses implement ``tidy`` and ``to_dict``."""

    #: A short title for summaries and notebook display.
    title: str = "pilotdid result"

    # -- the two hooks ---------------------------------------------------------------------------
    def tidy(self) -> pd.DataFrame:
        """Estimates as a DataFrame: term, estimate, se, t, p, ci_low, ci_high, kind (then extras)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement tidy()")

    def to_dict(self) -> dict[str, Any]:
        """The results.json record(s), keyed by results.json section."""
        raise NotImplementedError(f"{type(self).__name__} does not implement to_dict()")

    # -- defaults built on the hooks -------------------------------------------------------------
    @property
    def conventions(self) -> dict[str, Any]:
        """The named conventions behind the numbers (SE preset, base period, weighting, ...)."""
        return {}

    @property
    def result_notes(self) -> list[str]:
        """Notes the estimator attached (dropped rows, fallbacks, ...)."""
        notes = getattr(self, "notes", None)
        return list(notes) if isinstance(notes, (list, tuple)) else []

    def summary(self) -> str:
        """A plain-text summary: title, conventions, the tidy table, notes."""
        tidy = self.tidy()
        lines = [self.title]
        lines += [f"  {k}: {v}" for k, v in self.conventions.items()]
        lines.append("")
        # terms are never cut (a Bacon comparison type, an HonestDiD grid value); a weight column (Bacon's 2x2
        # weights, SDID's cohort weights) is part of what the estimate means, so it is shown too
        width = max([24, *(len(str(t)) + 2 for t in tidy["term"])])
        weight = "weight" in tidy.columns
        lines.append(f"{'term':<{width}}{'estimate':>12}{'se':>11}{'t':>9}{'p':>9}{'ci_low':>12}{'ci_high':>12}"
                     + (f"{'weight':>9}" if weight else "") + "  kind")
        for r in tidy.itertuples(index=False):
            lines.append(f"{str(r.term):<{width}}{_fmt(r.estimate):>12}{_fmt(r.se):>11}{_fmt(r.t, 3):>9}"
                         f"{_fmt(r.p):>9}{_fmt(r.ci_low):>12}{_fmt(r.ci_high):>12}"
                         + (f"{_fmt(r.weight):>9}" if weight else "") + f"  {r.kind}")
        lines += [f"note: {n}" for n in self.result_notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """Notebook display: title, conventions and the tidy table."""
        conv = "".join(f"<li><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</li>" for k, v in self.conventions.items())
        table = self.tidy().to_html(index=False, float_format=lambda x: f"{x:.4f}", na_rep="")
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.result_notes)
        return (f"<div class='pilotdid-result'><h4>{html.escape(self.title)}</h4>"
                + (f"<ul>{conv}</ul>" if conv else "") + table + (f"<ul>{notes}</ul>" if notes else "") + "</div>")

    def plot(self, ax=None, **kwargs):
        """Point estimates with 95% intervals (a matplotlib Figure; nothing is saved or shown)."""
        fig, ax = new_axes(ax)
        tidy = self.tidy()
        # an intercept is on another scale than the effects and would squash them to one point; rows without an
        # estimate (PSM balance rows, a placebo's p) have nothing to draw
        tidy = tidy[(tidy["kind"] != "constant") & np.isfinite(tidy["estimate"].to_numpy(float))].reset_index(drop=True)
        positions = np.arange(len(tidy))
        est = tidy["estimate"].to_numpy(float)
        lo, hi = tidy["ci_low"].to_numpy(float), tidy["ci_high"].to_numpy(float)
        has_ci = np.isfinite(lo) & np.isfinite(hi)
        ax.errorbar(est[has_ci], positions[has_ci], xerr=[est[has_ci] - lo[has_ci], hi[has_ci] - est[has_ci]],
                    fmt="o", color="#1f4e79", capsize=3)
        ax.plot(est[~has_ci], positions[~has_ci], "o", color="#1f4e79")
        ax.axvline(0, color="grey", linewidth=0.8)
        ax.set_yticks(positions, list(tidy["term"].astype(str)))
        ax.invert_yaxis()
        ax.set_xlabel("estimate (95% CI)")
        ax.set_title(self.title)
        return fig


def new_axes(ax=None):
    """(figure, axes): a fresh pyplot-free Figure, or the figure of the ``ax`` given."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    return fig, fig.add_subplot()


def event_time_plot(tidy: pd.DataFrame, title: str, ax=None, reference: int | None = None):
    """Event-study figure from a tidy frame with a numeric ``rel_time`` column (95% CIs as bars)."""
    fig, ax = new_axes(ax)
    x = tidy["rel_time"].to_numpy(float)
    est = tidy["estimate"].to_numpy(float)
    lo, hi = tidy["ci_low"].to_numpy(float), tidy["ci_high"].to_numpy(float)
    ok = np.isfinite(lo) & np.isfinite(hi)
    ax.errorbar(x[ok], est[ok], yerr=[est[ok] - lo[ok], hi[ok] - est[ok]], fmt="o", color="#1f4e79", capsize=3)
    ax.plot(x[~ok], est[~ok], "o", color="#1f4e79", markerfacecolor="white")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.axvline(-0.5 if reference is None else reference + 0.5, color="grey", linestyle="--", linewidth=0.8)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # event times are whole periods (no -0.5 ticks)
    ax.set_xlabel("periods relative to adoption")
    ax.set_ylabel("estimate (95% CI)")
    ax.set_title(title)
    return fig
