"""pyfixest, imported once, with its fixed effects taken in the order the formula names them.

pyfixest 0.60 builds the fixed-effect list of a formula from a ``set()``
(``pyfixest.estimation.formula.utils._encode_fixed_effects``), so the order in which the effects are
demeaned -- and with it the last bits of every coefficient -- follows Python's string-hash seed: two
identical runs in separate processes differed by up to 5e-7 on an unbalanced panel. The function is
replaced here by one that keeps the formula's order (duplicates dropped, first kept); everything else
is pyfixest's own code. Every module of pilotdid imports pyfixest through this one, as
``from pilotdid.estimation.fixest import pf``.
"""

from __future__ import annotations

import re

import pandas as pd
import pyfixest as pf
from pyfixest.estimation.formula import model_matrix as _model_matrix
from pyfixest.estimation.formula import utils as _formula_utils

__all__ = ["PANDAS_INPLACE_MESSAGE", "feols", "pf", "quiet"]

#: pyfixest 0.60 calls pandas with ``inplace=``, which pandas 3.1 deprecates. That warning is pyfixest's to fix
#: and says nothing about the user's data; it alone is silenced, and only around pyfixest calls (:func:`quiet`).
PANDAS_INPLACE_MESSAGE = r"The inplace keyword in (DataFrame|Series)\."


def _encode_fixed_effects_in_order(fixed_effects: str, data: pd.DataFrame) -> str:
    """pyfixest's encoding of ``a + b^c``, with the effects in formula order instead of set order."""
    effects = list(dict.fromkeys(re.split(r"\s*\+\s*", fixed_effects)))
    for effect in effects:
        if "^" not in effect:
            continue
        parts = effect.split("^")
        data[effect.replace("^", "_")] = (
            data[parts[0]].astype(pd.StringDtype()).str.cat(data[parts[1:]].astype(pd.StringDtype()), sep="^", na_rep=None)
        )
    encoded = (f"__fixed_effect__({effect.replace('^', '_')})" for effect in effects)
    return f"{' + '.join(encoded)} - 1"


def _install() -> None:
    original = getattr(_formula_utils, "_encode_fixed_effects", None)
    if original is None or getattr(original, "__pilotdid_ordered__", False):
        return
    _encode_fixed_effects_in_order.__pilotdid_ordered__ = True
    _formula_utils._encode_fixed_effects = _encode_fixed_effects_in_order
    if getattr(_model_matrix, "_encode_fixed_effects", None) is original:
        _model_matrix._encode_fixed_effects = _encode_fixed_effects_in_order


_install()


def formula_names(frame: pd.DataFrame, columns) -> tuple[pd.DataFrame, dict[str, str]]:
    """``frame`` with every listed column that is not a plain ASCII identifier renamed for a formula string.

    Formulas (pyfixest/formulaic) cannot name a column called ``class``, ``state.name``, ``1x`` or ``经济 韧性``;
    such columns get ``_fml_<k>``. Returns the (possibly renamed) frame and the name to use for each column.
    """
    import keyword

    names: dict[str, str] = {}
    rename: dict[str, str] = {}
    for k, column in enumerate(dict.fromkeys(c for c in columns if c)):
        plain = (column not in frame.columns  # a formula term such as i(x, ref=0), not a column: left as is
                 or (re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(column)) and not keyword.iskeyword(str(column))))
        names[column] = column if plain else f"_fml_{k}"
        if not plain:
            rename[column] = names[column]
    return (frame.rename(columns=rename) if rename else frame), names


def quiet():
    """Context manager silencing only pyfixest's pandas ``inplace`` deprecation warning (nothing else)."""
    import contextlib
    import warnings

    @contextlib.contextmanager
    def _ctx():
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=PANDAS_INPLACE_MESSAGE)
            yield

    return _ctx()


def feols(*args, **kwargs):
    """``pyfixest.feols`` inside :func:`quiet`."""
    with quiet():
        return pf.feols(*args, **kwargs)


# ----------------------------------------------------------------------------------------------------------------
# What pilotdid reads from a fitted pyfixest model. pyfixest keeps these in private attributes (``_vcov``,
# ``_coefnames``, ``_N``, ...); they are read here only, so a pyfixest release that renames one breaks one module.


def coef_names(fit) -> list[str]:
    """Names of the estimated coefficients, in the model's order."""
    return [str(c) for c in fit._coefnames]


def coefficients(fit):
    """The coefficient vector (numpy), in :func:`coef_names` order."""
    import numpy as np

    return np.asarray(fit._beta_hat, dtype=float)


def vcov_matrix(fit):
    """The coefficient covariance as a numpy array, in :func:`coef_names` order."""
    import numpy as np

    return np.asarray(fit._vcov, dtype=float)


def vcov_frame(fit, names: list[str] | None = None) -> pd.DataFrame:
    """The covariance as a DataFrame labelled by coefficient (or by ``names``, same order)."""
    labels = names if names is not None else coef_names(fit)
    return pd.DataFrame(vcov_matrix(fit), index=labels, columns=labels)


def nobs(fit) -> int:
    """Observations the model used."""
    return int(fit._N)


def n_clusters(fit) -> int:
    """Clusters of a one-way clustered model (the smallest, for multiway)."""
    import numpy as np

    return int(np.min(fit._G))


def fit_statistics(fit) -> dict:
    """What the TWFE presets need beyond the coefficients: pyfixest's small-sample factor and K, the R² kinds."""
    import numpy as np

    return {"ssc": float(np.asarray(fit._ssc).ravel()[0]), "df_k": fit._df_k, "r2": float(fit._r2),
            "r2_within": float(fit._r2_within)}


def collinear_names(fit) -> list[str]:
    """Regressors pyfixest dropped as collinear (empty when none)."""
    return [str(v) for v in getattr(fit, "_collin_vars", [])]
