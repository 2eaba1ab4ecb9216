"""The event-study coefficient table (the binned TWFE event study, one row per relative period or bin)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from pilotdid.report.table import Table


def event_study_table(result, *, vcov: str, fixed_effects: Sequence[str], controls: Sequence[str],
                      wild_cells: Sequence[str] = (), wild_notes: Sequence[str] = ()) -> Table:
    """``result`` (:class:`pilotdid.estimation.event_study_result.EventStudyResult` of the binned TWFE) as a table:
    coefficient, SE, t, CI and treated observations per period (a wild-bootstrap column when ``wild_cells``), with
    the estimator's notes, the joint pre-trend test and the sample line."""
    pre = result.pretrend
    body = pd.DataFrame({
        "Relative period": [_period_label(r, result.window, len(result.coefs)) for r in result.coefs.itertuples()],
        "Coefficient": [("0 (base)" if r.is_base else f"{r.coef:.4f}") for r in result.coefs.itertuples()],
        "SE": [("" if r.is_base else f"{r.se:.4f}") for r in result.coefs.itertuples()],
        "t": [("" if r.is_base else f"{r.t:.3f}") for r in result.coefs.itertuples()],
        "95% CI": [("" if r.is_base else f"[{r.ci_low:.4f}, {r.ci_high:.4f}]") for r in result.coefs.itertuples()],
        "Treated obs.": [int(r.n_treated_obs) for r in result.coefs.itertuples()],
    })
    if wild_cells:
        body.insert(5, "Wild bootstrap p [95% CI]", wild_cells)
    notes = list(result.notes) + list(wild_notes)
    if pre["q"]:
        notes.append(
            f"Joint test that all {pre['q']} leads are zero: F({pre['q']}, {pre['df_denominator']}) = {pre['F']:.3f}, "
            f"p = {pre['p_F']:.3f}; Wald chi2({pre['q']}) = {pre['chi2']:.3f}, p = {pre['p_chi2']:.3f}."
        )
    notes.append(f"N = {result.nobs}; clusters = {result.n_clusters}; SE preset '{vcov}'; fixed effects: "
                 f"{', '.join(fixed_effects)}; controls: {', '.join(controls) or 'none'}.")
    return Table(name="event_study_coefficients", title="Event study: dynamic effects by relative period",
                 body=body, notes=notes)


def _period_label(r, window: tuple[int, int], n_rows: int) -> str:
    a, b = int(r.bin_low), int(r.bin_high)
    sign = (lambda k: f"+{k}" if k > 0 else str(k))  # noqa: E731
    if a == window[0]:
        return f"≤{sign(b)}" if a == b else f"≤{sign(b)} ({sign(a)} or earlier to {sign(b)})"
    if b == window[1]:
        return f"≥{sign(a)}" if a == b else f"≥{sign(a)} ({sign(a)} to {sign(b)} or later)"
    return sign(a) if a == b else f"{sign(a)} to {sign(b)}"
