"""Composite indices from indicator systems: entropy (default), CRITIC, entropy-TOPSIS, equal weights and PCA.

Public API::

    load_indicator_system(path_or_builtin_name) -> IndicatorSystem
    build_index(panel, system, method="entropy", pooling="pooled", unit=..., time=..., shift=0.0001,
                drop_constant=False) -> IndexResult
    compare_indices(panel, system, methods=[...]) -> DataFrame
    indicator_coverage(panel, system) -> DataFrame (units with a value, indicator x period)
    pca_index(panel, system, ...) -> PCAIndexResult
"""

from pilotdid.measures.index import METHODS, POOLINGS, IndexResult, build_index, compare_indices, indicator_coverage
from pilotdid.measures.pca import PCAIndexResult, bartlett_sphericity, kmo, pca_index
from pilotdid.measures.system import Indicator, IndicatorSystem, builtin_systems, load_indicator_system
from pilotdid.measures.weighting import DEFAULT_SHIFT, critic_weights, entropy_weights, minmax_standardise, topsis_closeness

__all__ = [
    "METHODS", "POOLINGS", "DEFAULT_SHIFT", "IndexResult", "PCAIndexResult", "Indicator", "IndicatorSystem",
    "build_index", "compare_indices", "indicator_coverage", "pca_index", "load_indicator_system", "builtin_systems", "kmo",
    "bartlett_sphericity", "entropy_weights", "critic_weights", "minmax_standardise", "topsis_closeness",
]
