"""One standard-error default: every ``vcov`` argument of the public API and of the estimation/inference layers,
and the study file's ``[model] vcov``, default to :data:`pilotdid.estimation.twfe.covariance.DEFAULT_VCOV`.

(Before 2026-12 ``pdid.twfe`` defaulted to ``reghdfe`` while ``pdid.event_study``, the study file and the rest
defaulted to ``lsdv``, and ``fit_event_study``/``in_time_placebo``/``wild_cluster_bootstrap`` to ``fixest``: one
model, three standard errors depending on the entry point.) Every panel here is SYNTHETIC.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import pilotdid
from pilotdid import api
from pilotdid.estimation.twfe.covariance import DEFAULT_VCOV, VCOV_PRESETS

LAYERS = ("pilotdid.estimation", "pilotdid.inference")


def _modules():
    yield api
    for root in LAYERS:
        package = importlib.import_module(root)
        yield package
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{root}."):
            yield importlib.import_module(info.name)


def _callables(module):
    """(qualified name, callable) for the functions and the methods of classes defined in ``module``.

    A dataclass's generated ``__init__`` is left out: a result record's ``vcov`` field says which preset a fit
    used (``None``: none applies), it does not choose one."""
    for name, obj in vars(module).items():
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            yield f"{module.__name__}.{name}", obj
        elif inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr == "__init__" and dataclasses.is_dataclass(obj):
                    continue
                function = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
                if inspect.isfunction(function):
                    yield f"{module.__name__}.{name}.{attr}", function


def vcov_defaults() -> dict[str, object]:
    """Every ``vcov`` parameter with a default in the public API and the estimation/inference layers."""
    found = {}
    for module in _modules():
        for name, function in _callables(module):
            parameter = inspect.signature(function).parameters.get("vcov")
            if parameter is not None and parameter.default is not inspect.Parameter.empty:
                found[name] = parameter.default
    return found


def test_the_default_is_a_preset():
    assert DEFAULT_VCOV in VCOV_PRESETS
    from pilotdid.estimation import twfe

    assert twfe.DEFAULT_VCOV is DEFAULT_VCOV


def test_every_vcov_default_is_the_one_constant():
    found = vcov_defaults()
    # the walk reaches the functions users call (so the test cannot pass by finding nothing)
    for expected in ("pilotdid.api.twfe", "pilotdid.api.event_study", "pilotdid.api.placebo", "pilotdid.api.psm",
                     "pilotdid.api.mediation", "pilotdid.api.subgroups", "pilotdid.api.wild_bootstrap",
                     "pilotdid.estimation.twfe.model.fit_twfe", "pilotdid.estimation.event_study.fit_event_study",
                     "pilotdid.estimation.mediation.three_step", "pilotdid.estimation.heterogeneity.estimate_split",
                     "pilotdid.inference.placebo.in_time_placebo",
                     "pilotdid.inference.wild_bootstrap.wild_cluster_bootstrap",
                     "pilotdid.inference.few_clusters.FitRecorder.__call__"):
        assert expected in found, f"{expected} has no vcov default any more: update this list"
    wrong = {name: default for name, default in found.items() if default != DEFAULT_VCOV}
    assert not wrong, f"vcov defaults other than DEFAULT_VCOV ({DEFAULT_VCOV!r}): {wrong}"


def test_every_public_function_with_vcov_has_the_default():
    """A public function that takes ``vcov`` gives it a default (the constant), never makes it required."""
    for name in pilotdid.__all__:
        obj = getattr(pilotdid, name)
        if not inspect.isfunction(obj):
            continue
        parameter = inspect.signature(obj).parameters.get("vcov")
        if parameter is not None:
            assert parameter.default == DEFAULT_VCOV, name


def test_the_study_files_default_is_the_constant(tmp_path):
    from pilotdid.study.context import ModelSpec
    from pilotdid.study.options import section_keys
    from pilotdid.study.spec import parse_study

    assert section_keys()["model"]["vcov"][1] == DEFAULT_VCOV  # what docs/study-file.md prints
    spec = parse_study('[study]\nname = "x"\n[data]\npanel = "p.csv"\nunit = "u"\ntime = "t"\n'
                       '[treatment]\ncolumn = "d"\n[model]\noutcome = "y"\n')
    assert spec.model["vcov"] == DEFAULT_VCOV
    assert ModelSpec(outcome="y", controls=[], fixed_effects=["u", "t"], cluster="u").vcov == DEFAULT_VCOV


def test_a_notebook_and_a_study_file_without_vcov_give_the_same_se(tmp_path):
    """pdid.twfe, pdid.event_study's fit and a study file's baseline, none naming vcov: one standard error."""
    from pilotdid.estimation.staggered.simulate import simulate_staggered_panel

    panel, _ = simulate_staggered_panel(n_units=40, n_covariates=0, seed=5)
    panel = panel[["unit", "year", "y", "first_treat", "did"]].assign(  # a time-varying control
        z=np.random.default_rng(5).normal(size=len(panel)))
    panel.to_csv(tmp_path / "panel.csv", index=False)
    study = {"study": {"name": "no_vcov"}, "data": {"panel": "panel.csv", "unit": "unit", "time": "year"},
             "treatment": {"first_treat": "first_treat"},
             "model": {"outcome": "y", "controls": ["z"], "cluster": "unit"}, "analyses": {"baseline": {}}}
    tidy = pilotdid.run_study(study, base_dir=tmp_path).tidy()
    from_study = tidy[(tidy["table"] == "baseline") & (tidy["term"] == "did")].iloc[-1]
    fit = pilotdid.twfe(panel, "y ~ did + z | unit + year", cluster="unit")
    assert fit.vcov == DEFAULT_VCOV
    assert fit.term("did")["se"] == pytest.approx(from_study["se"], rel=1e-10)
