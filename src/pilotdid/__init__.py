"""pilotdid: staggered difference-in-differences for city-level pilot policies.

    import pilotdid as pdid
    fit = pdid.twfe(panel, "y ~ did + x1 + x2 | city + year", vcov="reghdfe", cluster="city")
    print(fit.summary())

The public API (documented in ``docs/api.md``; every function takes a DataFrame and returns a result
with ``summary()``, ``tidy()``, ``plot()``, ``to_dict()`` and ``conventions``) is loaded on first use, so
``import pilotdid`` stays light.

Data flows one way (``tests/test_layers.py`` enforces it): raw files -> panel (``pilotdid.data``) ->
measures (``pilotdid.measures``) -> design (``pilotdid.registry``, ``pilotdid.design``) -> estimates
(``pilotdid.estimation``, then ``pilotdid.inference``) -> study (``pilotdid.study``) -> report and command
line (``pilotdid.report``, ``pilotdid.cli``). ``pilotdid.results``, ``pilotdid.errors`` and ``pilotdid.rng``
sit below all of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pilotdid.errors import PilotdidInputError

__version__ = "0.1.0"

#: Public API names, loaded from :mod:`pilotdid.api` on first access.
_API = (
    "att_gt", "bacon", "critic_index", "did_multiplegt_dyn", "entropy_index", "equal_index", "etable", "etwfe",
    "event_study", "honest", "imputation", "matching", "mediation", "parse_formula", "pca_index", "placebo",
    "pretrend_power", "psm", "run_study",
    "sdid", "specification_curve", "stacked", "subgroups", "sun_abraham", "table", "topsis_index", "twfe",
    "wild_bootstrap",
)
__all__ = ["PilotdidInputError", "__version__", *_API]

if TYPE_CHECKING:  # pragma: no cover
    from pilotdid.api import (  # noqa: F401
        att_gt, bacon, critic_index, did_multiplegt_dyn, entropy_index, equal_index, etable, etwfe, event_study,
        honest, imputation, matching, mediation, parse_formula, pca_index, placebo, pretrend_power, psm, run_study,
        sdid,
        specification_curve,
        stacked, subgroups, sun_abraham, table, topsis_index, twfe, wild_bootstrap,
    )


def __getattr__(name: str) -> Any:
    if name in _API:
        from pilotdid import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pilotdid' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
