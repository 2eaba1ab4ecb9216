"""The staggered TWFE benchmark (every relative time its own dummy, reference -1) runs on the binned event study's
fitter with a window spanning all relative times; it equals pyfixest's ``i(rel, ref=-1)`` regression, the form it
was written in before the two fitters were merged (SYNTHETIC panels)."""

from __future__ import annotations

import numpy as np
import pytest

from pilotdid.estimation.fixest import feols, vcov_frame
from pilotdid.estimation.staggered.simulate import simulate_staggered_panel
from pilotdid.estimation.staggered.twfe import twfe_event_study


@pytest.mark.parametrize("covariates", [[], ["x1"]])
def test_equals_pyfixest_i_rel(covariates):
    df, _ = simulate_staggered_panel(n_units=80, periods=(2010, 2019), cohorts=(2013, 2015, 2017), seed=7,
                                     n_covariates=0)
    df["x1"] = np.random.default_rng(7).normal(size=len(df))  # time-varying (a unit constant is absorbed)
    ours = twfe_event_study(df, outcome="y", unit="unit", time="year", first_treat="first_treat",
                            covariates=covariates)
    frame = df.copy()
    g = frame["first_treat"].fillna(0)
    frame["rel"] = np.where(g > 0, frame["year"] - g, -1).astype(int)
    frame["d"] = ((g > 0) & (frame["year"] >= g)).astype(float)
    cov = "".join(f" + {c}" for c in covariates)
    ref = feols(f"y ~ i(rel, ref=-1){cov} | unit + year", frame, vcov={"CRV1": "unit"})
    names = [n for n in ref.coef().index if n.startswith("rel::")]
    rel = [int(float(n.split("::")[1])) for n in names]
    table = ours.table.set_index("rel_time")
    assert sorted(table.index) == sorted(rel + [-1]) and table.loc[-1, "coef"] == 0.0
    for n, k in zip(names, rel):
        assert table.loc[k, "coef"] == pytest.approx(ref.coef()[n], rel=1e-10, abs=1e-12)
        assert table.loc[k, "se"] == pytest.approx(ref.se()[n], rel=1e-10)
    order = [names[i] for i in np.argsort(rel)]
    np.testing.assert_allclose(ours.vcov, vcov_frame(ref).loc[order, order].to_numpy(), rtol=1e-9, atol=1e-15)
    static = feols(f"y ~ d{cov} | unit + year", frame, vcov={"CRV1": "unit"})
    assert ours.att == pytest.approx(static.coef()["d"], rel=1e-10)
    assert ours.se == pytest.approx(static.se()["d"], rel=1e-10)
