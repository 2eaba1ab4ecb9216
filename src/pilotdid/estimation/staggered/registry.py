"""The staggered-adoption estimators pilotdid offers, in one registry.

A new estimator is one module (its numerics) plus one entry here. An entry with ``fit`` (``"module:function"``) is
run by the ``staggered`` analysis without further code: ``fit(data, outcome=, unit=, time=, first_treat=,
covariates=, cluster=)`` must return a :class:`~pilotdid.estimation.event_study_result.EventStudyResult`, whose
event-time rows go to the comparison table and figure and whose overall ATT goes to the aggregates (type
``aggregate_type``). Entries without ``fit`` have their own block in ``study/analyses/staggered.py`` (extra tables).
The order here is the order of the estimators in every table and figure; ``default`` marks the ones a study gets
when it names none. What an estimator guards against is one sentence per language in the message catalogue
(``[guard] NAME`` in ``pilotdid/i18n/en.toml`` and ``zh.toml``), read by :meth:`StaggeredEstimator.guard`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StaggeredEstimator:
    name: str
    label: str
    fit: str | None = None
    default: bool = False
    event_study: bool = True
    aggregate_type: str = "simple"

    def guard(self, lang: str = "en", unit_noun: str | dict = "unit") -> str:
        """The sentence the report prints about what this estimator guards against (catalogue key ``guard.NAME``),
        naming the units as the study does (``[study] unit_noun``)."""
        from pilotdid.i18n import msg, unit_words

        return msg(f"guard.{self.name}", lang, **unit_words(unit_noun, lang))

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
    ),
    StaggeredEstimator(
        name='sa', label='Sun-Abraham', default=True, event_study=True,
        fit='pilotdid.estimation.staggered.sa:sun_abraham',
    ),
    StaggeredEstimator(
        name='bjs', label='Borusyak-Jaravel-Spiess imputation', default=True, event_study=True,
        fit='pilotdid.estimation.staggered.bjs:imputation',
    ),
    StaggeredEstimator(
        name='bacon', label='Goodman-Bacon decomposition', default=True, event_study=False,
        fit=None,
    ),
    StaggeredEstimator(
        name='dcdh', label="de Chaisemartin-D'Haultfoeuille did_multiplegt_dyn", default=False, event_study=True,
        fit=None,
    ),
    StaggeredEstimator(
        name='twowayfeweights', label="de Chaisemartin-D'Haultfoeuille twowayfeweights", default=False, event_study=False,
        fit=None,
    ),
    StaggeredEstimator(
        name='etwfe', label='Wooldridge extended TWFE', default=False, event_study=True,
        fit=None,
    ),
    StaggeredEstimator(
        name='stacked', label='Stacked DID (Wing-Freedman-Hollingsworth weights)', default=False, event_study=True,
        fit=None,
    ),
    StaggeredEstimator(
        name='sdid', label='Synthetic DID (Arkhangelsky et al.)', default=False, event_study=False,
        fit=None,
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
