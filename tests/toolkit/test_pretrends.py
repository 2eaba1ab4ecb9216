"""Pre-trend power against the pretrends package's published He & Wang (2017) example."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pilotdid.inference import pretrends as pt

FIX = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def he_wang():
    d = pd.read_csv(FIX / "he_wang_2017_event_study.csv")
    return d.beta.to_numpy(), d.filter(like="sigma_").to_numpy(), d.t.to_numpy()


def test_slope_for_power_matches_the_readme(he_wang):
    # pretrends README: slope_for_power(sigma, targetPower = 0.5, tVec, referencePeriod = -1) = 0.05205871.
    # R computes the power with mvtnorm::pmvnorm (randomised, abseps 1e-3) and uniroot (tol 1.2e-4), so the
    # printed value carries ~1e-4 relative noise; ours solves to 1e-10 with a deterministic 1e-6 integration.
    beta, sigma, t = he_wang
    slope = pt.slope_for_power(sigma, 0.5, t, -1)
    assert slope == pytest.approx(0.05205871, rel=5e-4)
    assert pt.pretest_power(slope * (t[t < -1] + 1), sigma[:3, :3]) == pytest.approx(0.5, abs=1e-7)
    assert pt.slope_for_power(sigma, 0.8, t, -1) > slope


def test_pretrends_matches_the_readme(he_wang):
    # README: pretrends(beta, sigma, tVec, -1, deltatrue = slope50 * (tVec + 1))$df_power and $df_eventplot
    beta, sigma, t = he_wang
    res = pt.pretrends(beta, sigma, t, 0.05205871 * (t + 1), reference=-1)
    assert res.power == pytest.approx(0.4999776, abs=2e-4)
    assert res.bayes_factor == pytest.approx(0.56901, abs=2e-4)
    assert res.likelihood_ratio == pytest.approx(0.1057627, rel=1e-6)  # a density ratio: no integration noise
    published = [-0.09230764, -0.05555285, -0.02790950, 0.0, 0.06490184, 0.12084694, 0.16946498, 0.22453827]
    np.testing.assert_allclose(res.table.mean_after_pretest, published, atol=2e-5)
    assert res.table.t.tolist() == [-4, -3, -2, -1, 0, 1, 2, 3]
    quad = pt.pretrends(beta, sigma, t, 0.024 * (t + 1) ** 2, reference=-1)  # README: 0.6624282 0.3841516 0.4332635
    assert quad.power == pytest.approx(0.6624282, abs=2e-4)
    assert quad.bayes_factor == pytest.approx(0.3841516, abs=2e-4)
    assert quad.likelihood_ratio == pytest.approx(0.4332635, rel=1e-6)


def test_truncated_mean_of_one_dimension_is_the_textbook_formula():
    from scipy import stats

    m, s, a, b = 0.3, 1.7, -1.0, 2.0
    alpha, beta = (a - m) / s, (b - m) / s
    expected = m + s * (stats.norm.pdf(alpha) - stats.norm.pdf(beta)) / (stats.norm.cdf(beta) - stats.norm.cdf(alpha))
    assert pt.truncated_mean([m], [[s ** 2]], [a], [b])[0] == pytest.approx(expected, rel=1e-12)


def test_pretrends_analysis(toolkit_ctx):
    from pilotdid.study.analyses import pretrends as analysis

    out = analysis.run(toolkit_ctx, {"window": [-3, 3]})
    r = out.results["pretrends"]
    assert 0 < r["slope_for_power"]["0.5"] < r["slope_for_power"]["0.8"]
    assert r["power"] == pytest.approx(0.8, abs=1e-6)
    assert "pretrends_power" in out.figures and "pretrends_power" in out.tables
    event_times = [row[0] for row in out.tables["pretrends_power"].text_rows()]
    assert event_times == [str(t) for t in range(-3, 4)]  # printed '-3.0000' before
    from pilotdid.errors import PilotdidInputError

    with pytest.raises(PilotdidInputError, match="no pre-period coefficient"):
        analysis.run(toolkit_ctx, {"window": [-1, 3]})
