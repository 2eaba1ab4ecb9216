"""Which bootstrap draws the staggered synthetic DID keeps when a draw misses a cohort. SYNTHETIC panels only.

Stata ``sdid``'s rule (sdid.ado 2.0.5, unchanged in 2.0.6 = github.com/Daniel-Pailanir/sdid commit 7f06fd7; line
numbers of 2.0.6): ``treated`` is max(D) by unit (line 221: ever treated); the bootstrap loop (lines 398-456) draws
units with ``bsample`` (line 415) and skips the draw without counting it only when ``if (`r1'==0 | `r2'==0)``
(line 422: no never-treated or no ever-treated rows), so a draw missing every unit of the only cohort is redrawn and a
draw missing one of several cohorts is kept. In the Mata ``synthdid`` the cohorts of a draw are those present in it
(line 950: ``trt = select(uniqrows(data[,7]), ...)``), each weighted by its drawn treated units x post periods
(``tau_wt[yr] = yNtr*Npost``, lines 1136/1172) and the draw's ATT is ``tau_wt/sum(tau_wt') * tau`` (lines 1341-1342):
a missing cohort weighs 0. A cohort's SE (lines 446-452) is sqrt((nr-1)/nr) x the sd of its estimates over the nr
draws that contain it; the average's (line 455) sqrt((B-1)/B) x the sd of the B draws' ATTs. The ``fixed``
convention (the sample's cohort weights, which need every cohort's estimate) instead redraws a draw missing a cohort.
The tests below recompute both rules by hand from the same seeded stream of unit draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilotdid.estimation.staggered import sdid
from pilotdid.report.staggered_tables import sdid_table

KW = dict(outcome="y", unit="unit", time="year", first_treat="first_treat")
YEARS = range(2010, 2018)


def one_unit_cohort_panel() -> pd.DataFrame:
    """A deterministic panel (no random draws): 5 never-treated units, a 2013 cohort of ONE unit (effect 4) and a
    2015 cohort of 3 units (effect 0): 9 units, so a unit draw misses the one-unit cohort with probability
    (8/9)^9 = 0.35. Outcomes are unit + year effects plus a fixed wiggle."""
    rows = []
    units = [("n", 0)] * 5 + [("a", 2013)] + [("b", 2015)] * 3
    for i, (kind, first) in enumerate(units):
        for t in YEARS:
            effect = 4.0 if kind == "a" and t >= first else 0.0
            wiggle = np.sin(1.3 * i + 0.7 * (t - 2010)) * 0.6
            rows.append({"unit": f"{kind}{i}", "year": t, "first_treat": first,
                         "y": 1.5 * i + 0.4 * (t - 2010) + wiggle + effect})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return one_unit_cohort_panel()


def by_hand(panel: pd.DataFrame, cohorts: list[int], replications: int, seed: int) -> dict:
    """Both conventions' draw rules, written out: the stream of draws is numpy's default_rng(seed), each draw n
    integers in [0, n) indexing the units ordered never-treated first, then each cohort's (units sorted by id);
    every cohort present in a draw re-estimated from its full-sample fit (weights as starting values, its tuning)."""
    Y = panel.pivot(index="unit", columns="year", values="y")
    first = panel.groupby("unit").first_treat.first()
    groups = [sorted(first.index[first == 0])] + [sorted(first.index[first == a]) for a in cohorts]
    order = [u for group in groups for u in group]
    label = np.concatenate([np.full(len(group), k - 1) for k, group in enumerate(groups)])  # -1: never treated
    years = Y.columns.to_numpy()
    n_never = len(groups[0])
    fits, T1 = [], []
    for k, a in enumerate(cohorts):
        T0 = int((years < a).sum())
        fits.append(sdid.synthdid_estimate(Y.loc[groups[0] + groups[k + 1]].to_numpy(), n_never, T0))
        T1.append(len(years) - T0)
    T1 = np.array(T1, dtype=float)
    sizes = np.array([len(g) for g in groups[1:]], dtype=float)
    rng = np.random.default_rng(seed)
    stata, fixed, stream = [], [], 0
    while len(fixed) < replications:
        ind = rng.integers(0, len(order), len(order))
        stream += 1
        drawn_controls = np.sort(ind[label[ind] == -1])
        counts = np.array([(label[ind] == k).sum() for k in range(len(cohorts))], dtype=float)
        if len(drawn_controls) == 0 or counts.sum() == 0:  # sdid.ado line 422: no control or no treated unit
            continue
        tau = {}
        for k, fit in enumerate(fits):
            if counts[k] == 0:
                continue  # sdid.ado line 950: the cohort is not in this draw
            treated = np.sort(ind[label[ind] == k])
            block = Y.loc[[order[i] for i in np.concatenate([drawn_controls, treated])]].to_numpy()
            start = fit.omega[drawn_controls]  # a never-treated unit's position = its index in the fit
            refit = sdid.synthdid_estimate(block, len(drawn_controls), fit.T0, method="sdid",
                                           omega=start / start.sum() if start.sum() > 0 else np.full(len(start), 1 / len(start)),
                                           lambda_=fit.lambda_,
                                           opts={k2: v for k2, v in fit.opts.items() if k2 != "method"})
            tau[k] = refit.estimate
        if len(stata) < replications:
            w = {k: counts[k] * T1[k] for k in tau}  # tau_wt = yNtr * Npost of the draw; a missing cohort: none
            stata.append((sum(w[k] * tau[k] for k in tau) / sum(w.values()), tau))
        if len(tau) == len(cohorts):
            w = sizes * T1
            fixed.append(sum(w[k] * tau[k] for k in tau) / w.sum())

    def se(values):
        values = np.array(values)
        return float(np.sqrt(np.mean((values - values.mean()) ** 2)))  # sqrt((B-1)/B) x sd

    return {"resampled": se([att for att, _ in stata]), "fixed": se(fixed),
            "cohort_se": [se([tau[k] for _, tau in stata if k in tau]) for k in range(len(cohorts))],
            "missing": sum(len(tau) < len(cohorts) for _, tau in stata), "stream": stream}


def test_a_draw_missing_a_cohort_is_kept_with_weight_zero_as_stata_sdid(panel):
    res = sdid.staggered_sdid(panel, **KW, se_method="bootstrap", replications=30, seed=5)
    expected = by_hand(panel, [2013, 2015], replications=30, seed=5)
    # the seeded stream has draws missing the one-unit cohort: the two conventions' draws differ
    assert 3 <= expected["missing"] == res.bootstrap_draws_missing_a_cohort < 30
    assert res.se == pytest.approx(expected["resampled"], rel=1e-9)
    assert res.se_by_cohort_weights["fixed"] == pytest.approx(expected["fixed"], rel=1e-9)
    np.testing.assert_allclose(res.cohorts.se, expected["cohort_se"], rtol=1e-9)
    # the rules matter here: the one-unit cohort's estimate (effect 4) is far from the other's (0)
    assert abs(expected["resampled"] - expected["fixed"]) > 0.05 * expected["fixed"]
    fixed = sdid.staggered_sdid(panel, **KW, se_method="bootstrap", replications=30, seed=5,
                                replicate_cohort_weights="fixed")
    assert fixed.se == res.se_by_cohort_weights["fixed"] and fixed.se_by_cohort_weights == res.se_by_cohort_weights
    np.testing.assert_array_equal(fixed.cohorts.se, res.cohorts.se)  # a cohort's own SE: Stata's, both headlines
    assert "kept with its weight 0" in res.conventions["se"] and "redrawn" in fixed.conventions["se"]


def test_the_note_counts_the_draws_missing_a_cohort(panel):
    res = sdid.staggered_sdid(panel, **KW, se_method="bootstrap", replications=30, seed=5)
    notes = sdid_table(res, se_method="bootstrap").notes
    counted = [n for n in notes if n.startswith("Bootstrap: ")]
    assert counted == [n for n in notes if f"{res.bootstrap_draws_missing_a_cohort} of the 30 draws miss" in n]
    assert len(counted) == 1
    # none missing (the 2015 cohort alone): no such note, the two conventions use the same draws
    one = sdid.staggered_sdid(panel, **KW, cohorts=[2015], se_method="bootstrap", replications=30, seed=5)
    assert one.bootstrap_draws_missing_a_cohort == 0
    assert not [n for n in sdid_table(one, se_method="bootstrap").notes if n.startswith("Bootstrap: ")]


def test_a_draw_missing_the_only_cohort_is_redrawn(panel):
    """One cohort: a draw without any of its units has no treated unit, so sdid.ado redraws it (line 422); the
    one-unit 2013 cohort is missed by about a third of the stream's draws, each replaced."""
    res = sdid.staggered_sdid(panel, **KW, cohorts=[2013], se_method="bootstrap", replications=20, seed=2)
    expected = by_hand(panel, [2013], replications=20, seed=2)
    assert expected["missing"] == res.bootstrap_draws_missing_a_cohort == 0
    assert expected["stream"] > 20  # draws were redrawn
    assert res.se_by_cohort_weights["resampled"] == res.se_by_cohort_weights["fixed"]  # the same draws
    assert res.se == pytest.approx(expected["resampled"], rel=1e-9)


def test_same_seed_same_bytes(panel):
    runs = [sdid.staggered_sdid(panel, **KW, se_method="bootstrap", replications=12, seed=9) for _ in range(2)]
    assert runs[0].record() == runs[1].record()
    assert runs[0].cohorts.se.to_numpy().tobytes() == runs[1].cohorts.se.to_numpy().tobytes()
    other = sdid.staggered_sdid(panel, **KW, se_method="bootstrap", replications=12, seed=10)
    assert other.se != runs[0].se


def test_placebo_and_jackknife_count_no_draws(panel):
    jack = sdid.staggered_sdid(panel, **KW, cohorts=[2015], se_method="jackknife")
    assert jack.bootstrap_draws_missing_a_cohort is None
    assert "bootstrap_draws_missing_a_cohort" not in jack.record()  # results.json keys unchanged
