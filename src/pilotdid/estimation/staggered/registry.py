"""The staggered-adoption estimators pilotdid offers, in one registry.

A new estimator is one module (its numerics) plus one entry here. An entry with ``fit`` (``"module:function"``) is
run by the ``staggered`` analysis without further code: ``fit(data, outcome=, unit=, time=, first_treat=,
covariates=, cluster=)`` must return a :class:`~pilotdid.estimation.event_study_result.EventStudyResult`, whose
event-time rows go to the comparison table and figure and whose overall ATT goes to the aggregates (type
``aggregate_type``). Entries without ``fit`` have their own block in ``study/analyses/staggered.py`` (extra tables).
The order here is the order of the estimators in every table and figure; ``default`` marks the ones a study gets
when it names none; ``guard`` is the sentence the report prints about what the estimator guards against.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StaggeredEstimator:
    name: str
    label: str
    guard: str
    fit: str | None = None
    default: bool = False
    event_study: bool = True
    aggregate_type: str = "simple"

    def fitter(self):
        """The estimator function named by ``fit``."""
        if self.fit is None:
            raise ValueError(f"estimator {self.name!r} has no generic fit")
        module, _, function = self.fit.partition(":")
        return getattr(importlib.import_module(module), function)


ENTRIES: tuple[StaggeredEstimator, ...] = (
    StaggeredEstimator(
        name='cs', label="Callaway-Sant'Anna", default=True, event_study=True,
        fit=None,
        guard=("Callaway-Sant'Anna estimates each cohort's effect in each year against never-treated (or "
               'not-yet-treated) units only, so already-treated units never serve as controls. It guards against '
               'the negative weights and contamination TWFE suffers when effects differ across cohorts or grow '
               'with exposure.'),
    ),
    StaggeredEstimator(
        name='sa', label='Sun-Abraham', default=True, event_study=True,
        fit='pilotdid.estimation.staggered.sa:sun_abraham',
        guard=('Sun-Abraham estimates cohort-specific event-time effects in one saturated regression and '
               'averages them with cohort-share weights. It guards against event-study leads and lags being '
               'contaminated by effects from other periods, which biases TWFE event studies under heterogeneous '
               'effects.'),
    ),
    StaggeredEstimator(
        name='bjs', label='Borusyak-Jaravel-Spiess imputation', default=True, event_study=True,
        fit='pilotdid.estimation.staggered.bjs:imputation',
        guard=('The imputation estimator (Borusyak-Jaravel-Spiess) fits unit and year effects on untreated '
               "observations only and imputes each treated observation's untreated outcome. It guards against "
               "TWFE's implicit comparisons with already-treated units and uses all clean pre-periods "
               'efficiently.'),
    ),
    StaggeredEstimator(
        name='bacon', label='Goodman-Bacon decomposition', default=True, event_study=False,
        fit=None,
        guard=('The Goodman-Bacon decomposition splits the TWFE coefficient into every 2x2 comparison with its '
               "weight, including 'forbidden' ones that use already-treated units as controls. It guards against "
               'trusting a TWFE estimate that leans on those comparisons when effects change over time.'),
    ),
    StaggeredEstimator(
        name='dcdh', label="de Chaisemartin-D'Haultfoeuille did_multiplegt_dyn", default=False, event_study=True,
        fit=None,
        guard=("de Chaisemartin-D'Haultfoeuille's did_multiplegt_dyn compares each city's outcome change since "
               'the year before its pilot with cities not yet treated, l years on, and runs the same comparison '
               "backwards as placebos. It guards against TWFE's forbidden comparisons and tests parallel trends "
               'jointly.'),
    ),
    StaggeredEstimator(
        name='twowayfeweights', label="de Chaisemartin-D'Haultfoeuille twowayfeweights", default=False, event_study=False,
        fit=None,
        guard=('The twowayfeweights diagnostic gives the weight the TWFE coefficient puts on each treated '
               "city-year's effect. It guards against reading a TWFE estimate as an average effect when some "
               'weights are negative.'),
    ),
    StaggeredEstimator(
        name='etwfe', label='Wooldridge extended TWFE', default=False, event_study=True,
        fit=None,
        guard=("Wooldridge's extended TWFE gives every treated cohort-year its own coefficient in one "
               "regression, so treated observations never serve as controls. It guards against TWFE's negative "
               'weights while keeping the regression framework (and its covariates).'),
    ),
    StaggeredEstimator(
        name='stacked', label='Stacked DID (Wing-Freedman-Hollingsworth weights)', default=False, event_study=True,
        fit=None,
        guard=('Stacked DID builds one clean sub-experiment per adoption cohort (its cities against cities not '
               'treated within the event window) and, with Wing-Freedman-Hollingsworth weights, averages them by '
               "cohort size. It guards against forbidden comparisons and against the unweighted stack's implicit "
               'variance weights.'),
    ),
    StaggeredEstimator(
        name='sdid', label='Synthetic DID (Arkhangelsky et al.)', default=False, event_study=False,
        fit=None,
        guard=("Synthetic DID reweights the never-treated cities (and the pre-treatment years) so that their path "
               "matches the treated cohort's before adoption, then takes the DID. It guards against parallel trends "
               "failing for the raw comparison group, which matters when a cohort is one or a few early cities."),
    ),
)
REGISTRY: dict[str, StaggeredEstimator] = {e.name: e for e in ENTRIES}
#: Every estimator name, in registry order.
NAMES: tuple[str, ...] = tuple(REGISTRY)
#: What a study gets without ``estimators = [...]``.
DEFAULTS: tuple[str, ...] = tuple(e.name for e in ENTRIES if e.default)
#: Estimators with event-time rows, in table order.
EVENT_STUDY: tuple[str, ...] = tuple(e.name for e in ENTRIES if e.event_study)


def fit(name: str, data: Any, **kwargs: Any):
    """Run the generic estimator ``name`` (an entry with ``fit``)."""
    return REGISTRY[name].fitter()(data, **kwargs)
