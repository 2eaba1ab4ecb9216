"""One registry of staggered estimators (estimation/staggered/registry.py): the analysis, the option check and the
study-file reference all read it, so a new estimator returning an EventStudyResult is one module plus one entry."""

from __future__ import annotations

import inspect

from pilotdid.estimation.staggered import registry
from pilotdid.study.analyses import staggered as analysis
from pilotdid.study.options import options_of


def test_every_entry_is_complete():
    assert len(registry.NAMES) == len(set(registry.NAMES))
    for entry in registry.ENTRIES:
        assert entry.label and len(entry.guard()) > 80 and len(entry.guard("zh")) > 40, entry.name
        if entry.fit is not None:
            params = inspect.signature(entry.fitter()).parameters
            for name in ("outcome", "unit", "time", "first_treat", "covariates", "cluster"):
                assert name in params, f"{entry.name}: generic fit needs the keyword {name}"


def test_the_analysis_and_the_option_check_read_the_registry():
    assert analysis.ESTIMATORS == registry.NAMES
    assert analysis.DEFAULT_ESTIMATORS == registry.DEFAULTS
    declared = {o.name: o for o in options_of("staggered")}
    assert declared["estimators"].allowed == registry.NAMES


def test_generic_estimators_run_through_the_registry():
    from pilotdid.estimation.staggered.simulate import simulate_staggered_panel

    panel, _ = simulate_staggered_panel(n_units=40, n_covariates=0, seed=5)
    kw = dict(outcome="y", unit="unit", time="year", first_treat="first_treat", covariates=[], cluster=None)
    for entry in registry.ENTRIES:
        if entry.fit is not None:
            es = registry.fit(entry.name, panel, **kw)
            assert es.estimator == entry.name and es.event_rows() and es.aggregate_row(entry.aggregate_type)["att"] is not None
