"""pyfixest, imported once, with its fixed effects taken in the order the formula names them.

pyfixest 0.60 builds the fixed-effect list of a formula from a ``set()``
(``pyfixest.estimation.formula.utils._encode_fixed_effects``), so the order in which the effects are
demeaned -- and with it the last bits of every coefficient -- follows Python's string-hash seed: two
identical runs in separate processes differed by up to 5e-7 on an unbalanced panel. The function is
replaced here by one that keeps the formula's order (duplicates dropped, first kept), and ``pyfixest.feols`` is
wrapped to note that a fit ran (:func:`fork_safe_for_fits`); everything else is pyfixest's own code. Every module of pilotdid imports pyfixest through this one, as
``from pilotdid.estimation.fixest import pf``.
"""

from __future__ import annotations

import re

import pandas as pd
import pyfixest as pf
from pyfixest.estimation.formula import model_matrix as _model_matrix
from pyfixest.estimation.formula import utils as _formula_utils

from pilotdid.parallel import fork_safe_for_native_pools, note_native_thread_pool

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


def fork_safe_for_fits() -> bool:
    """True while no pyfixest fit has run in this process, so a forked child may fit models.

    pyfixest's Rust core starts a thread pool (rayon) on its first fit; fork() copies only the calling thread, so a
    forked child that fits again waits forever for pool threads it does not have. Every pilotdid fit goes through
    ``pyfixest.feols`` (wrapped by :func:`_install`) or :func:`feols_arrays`; both call
    :func:`pilotdid.parallel.note_native_thread_pool`, which notes the fit and, in a child forked after a fit,
    raises a clear error instead of hanging.
    """
    return fork_safe_for_native_pools()


def _noting_fits(feols_function):
    def noted(*args, **kwargs):
        note_native_thread_pool("pyfixest")
        return feols_function(*args, **kwargs)

    noted.__wrapped__ = feols_function
    noted.__doc__ = feols_function.__doc__
    noted.__pilotdid_noted__ = True
    return noted


def _install() -> None:
    if not getattr(pf.feols, "__pilotdid_noted__", False):
        pf.feols = _noting_fits(pf.feols)  # the module attribute every caller looks up (fork_safe_for_fits)
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


# ----------------------------------------------------------------------------------------------------------------
# pyfixest's feols without its formula machinery. pf.feols spends most of its time on a small or medium panel in
# formulaic (parsing the formula, evaluating every term through pandas, encoding the fixed effects): 0.6 of 0.9 ms
# per thousand rows on a city panel. When the caller already holds the numeric columns, feols_arrays hands them to
# pyfixest's own Feols object, which then demeans, solves, and computes the covariance and fit statistics with its
# own code: the same numbers, bit for bit (tests/estimation/test_feols_arrays.py compares them with pf.feols).


#: pyfixest releases whose Feols internals feols_arrays was checked against (bit-equal to pf.feols, tests/estimation/
#: test_feols_arrays.py); under any other release it declines and pf.feols runs -- the test then fails, asking for a
#: new check rather than trusting private attributes that may have changed
FEOLS_ARRAYS_VERIFIED = ("0.60.",)


def feols_arrays(formula: str, columns: dict, *, x, x_names: list[str], vcov, ssc: dict | None = None,
                 weights: str | None = None, demeaner=None, drop_singletons: bool = False):
    """``pf.feols(formula, DataFrame(columns), vcov=..., ssc=..., weights=..., demeaner=...,
    fixef_rm="singleton" if drop_singletons else "none")`` for a formula ``y ~ terms | fe1 + fe2`` whose terms
    pyfixest would encode as the model matrix ``x`` (rows x columns, float, columns named ``x_names`` in formula
    order; e.g. the dummies ``cell::1, cell::2, ...`` that ``i(cell, ref=0)`` encodes).

    ``columns`` holds the outcome, the fixed effects, the cluster and weight columns (and whatever else the
    formula's data would hold), all of the same length. Returns None where the result could differ from pf.feols's
    (a non-finite value, a missing fixed-effect level, a non-positive weight, a singleton to drop, an interacted
    fixed effect, a pyfixest release not in :data:`FEOLS_ARRAYS_VERIFIED`): the caller then runs pf.feols.
    """
    note_native_thread_pool("pyfixest")  # pyfixest's Rust core runs here too (fork_safe_for_fits)
    import numpy as np
    from pyfixest.estimation.api.utils import _ALL_SAMPLE
    from pyfixest.estimation.formula.parse import Formula
    from pyfixest.estimation.internals.demeaner_options import _resolve_demeaner
    from pyfixest.estimation.internals.vcov_utils import _get_vcov_type
    from pyfixest.estimation.models.feols_ import Feols
    from pyfixest.utils.utils import ssc as ssc_func

    if not str(getattr(pf, "__version__", "")).startswith(FEOLS_ARRAYS_VERIFIED):
        return None
    parsed = Formula.parse_to_dict(formula)
    if len(parsed) != 1 or sum(len(v) for v in parsed.values()) != 1:
        return None
    fixest_formula = next(iter(parsed.values()))[0]
    if fixest_formula.fixed_effects is None or fixest_formula.first_stage is not None:
        return None
    y_name = fixest_formula.second_stage.split("~")[0].strip()
    fe_names = list(dict.fromkeys(re.split(r"\s*\+\s*", fixest_formula.fixed_effects.strip())))
    if any(not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", fe) for fe in fe_names):
        return None  # interacted effects (a^b) are encoded by pyfixest's formula code only
    x = np.asarray(x)
    y = np.asarray(columns[y_name])
    if x.ndim != 2 or x.shape != (len(y), len(x_names)) or x.dtype != np.float64:
        return None
    numeric = [y] + ([np.asarray(columns[weights])] if weights else [])
    if any(a.dtype.kind not in "fiub" or not np.isfinite(a.astype(float)).all() for a in numeric):
        return None
    if not np.isfinite(x).all():
        return None
    if weights and not (numeric[1] > 0).all():
        return None
    # the fixed effects as pyfixest encodes them: codes in order of appearance, int32
    fe_frame = pd.DataFrame({f"__fixed_effect__({fe})": pd.factorize(columns[fe])[0].astype("int32")
                             for fe in fe_names})
    if (fe_frame.to_numpy() < 0).any():
        return None  # a missing level: pf.feols would drop the row
    # levels per effect (= fe_frame.nunique(), as pyfixest counts them): codes in order of appearance are 0..L-1
    k_fe = pd.Series([int(fe_frame[c].max()) + 1 for c in fe_frame.columns], index=fe_frame.columns, dtype="int64")
    if drop_singletons:
        from pyfixest.core.detect_singletons import detect_singletons

        if detect_singletons(fe_frame.to_numpy()).any():
            return None
    data = pd.DataFrame(columns)  # a new frame: Feols need not copy it again

    class _ArrayFeols(Feols):
        def prepare_model_matrix(self):
            # what Feols.prepare_model_matrix sets from formulaic's model matrix, from the given arrays
            self._Y = pd.DataFrame({y_name: y.astype(float)})
            self._Y_untransformed = self._Y.copy()
            self._X = pd.DataFrame(x, columns=list(x_names), copy=False)
            self._fe = fe_frame
            self._endogvar = None
            self._Z = None
            self._weights_df = pd.DataFrame({weights: numeric[1].astype(float)}) if weights else None
            self._offset_df = None
            self._na_index = frozenset()
            icovars = [name for name in x_names if re.fullmatch(r".+::.+", name)]
            self._icovars = icovars or None
            self._X_is_empty = not self._X.shape[0] > 0
            self._model_spec = None
            self._coefnames = self._X.columns.tolist()
            self._coefnames_z = None
            self._depvar = y_name
            self._has_fixef = True
            self._fixef = self.FixestFormula.fixed_effects
            self._k_fe = k_fe
            self._n_fe = len(self._k_fe)
            self._weights = self._set_weights()
            self._N, self._N_rows = self._set_nobs()

    fit = _ArrayFeols(
        FixestFormula=fixest_formula, data=data, ssc_dict=ssc if ssc is not None else ssc_func(),
        drop_singletons=drop_singletons, drop_intercept=False, weights=weights, weights_type="aweights",
        collin_tol=1e-09, lookup_demeaned_data={}, solver="scipy.linalg.solve",
        demeaner=_resolve_demeaner(demeaner=demeaner), store_data=True, copy_data=False, lean=False, context={},
        sample_split_value=_ALL_SAMPLE, sample_split_var=None,
    )
    fit.prepare_model_matrix()
    fit.get_fit()
    if fit._X_is_empty:
        return None  # pf.feols then returns a model without inference; the caller's own path handles it
    fit.vcov(vcov=_get_vcov_type(vcov), vcov_kwargs=None, data=fit._data)
    fit.get_inference()
    fit.get_performance()
    fit._clear_attributes()  # (pf.feols also runs the model's Wald test, which nothing here reads)
    return fit


# ----------------------------------------------------------------------------------------------------------------
# One design, many outcomes. A fit's design -- the demeaned (and weighted) model matrix, X'X and its inverse (the
# bread), the dropped collinear columns, the clusters and the small-sample factor -- does not depend on the outcome;
# only the outcome's demeaning, X'y, the coefficients and the residuals do. refit_outcomes reuses a feols_arrays fit
# for further outcome columns on the same rows: pyfixest's own demeaning of all columns in one call (column by
# column inside, so each column gets the bits a fit of its own gives it), each column's coefficients solved as
# pyfixest solves them (the same bits: a p x p Cholesky solve, cheap beside the rest of a fit), and every column's
# CRV1 covariance from its residuals with the fit's bread and small-sample factor, all columns' cluster scores in
# one sparse product. tests/estimation/test_refit_outcomes.py checks every column against its own pf.feols fit
# (coefficients and covariance to 1e-10), weighted and unbalanced included; on the CBEC specification curve the
# coefficients are bit-identical and the SEs within 1e-13 (relative) of one fit per outcome.


def refit_outcomes(fit, outcomes) -> list[tuple] | None:
    """``[(coefficients, covariance), ...]`` of ``fit``'s model (a :func:`feols_arrays` result) for each column of
    ``outcomes`` (rows x k, the fit's rows in its order), as :func:`coefficients` and :func:`vcov_matrix` give them
    for a fit of that outcome; None where the fit is not one this handles (not a one-way CRV1 fit of
    :func:`feols_arrays`, other rows): the caller then fits each outcome."""
    import numpy as np
    import scipy.linalg
    import scipy.sparse
    from pyfixest.estimation.internals.demean_ import dispatch_demean

    outcomes = np.asarray(outcomes, dtype=np.float64)
    if outcomes.ndim != 2:
        return None
    if not outcomes.shape[1]:
        return []
    if (getattr(fit, "_vcov_type_detail", None) != "CRV1" or getattr(fit, "_is_iv", True)
            or getattr(fit, "_cluster_df", None) is None or fit._cluster_df.shape[1] != 1
            or fit._X_is_empty or not fit._has_fixef or fit._solver != "scipy.linalg.solve"
            or len(outcomes) != fit._N or fit._X.shape[0] != fit._N or not np.isfinite(outcomes).all()):
        return None
    weights = fit._weights.flatten()
    demeaned, success, _ = dispatch_demean(x=np.ascontiguousarray(outcomes), flist=fit._fe.to_numpy(),
                                           weights=weights, demeaner=fit._demeaner)
    if success is False:
        return None
    if fit._has_weights:
        demeaned = demeaned * np.sqrt(fit._weights)
    x = fit._X
    # each column as pyfixest solves its own outcome (X'y of an n x 1 column, the Cholesky solve, the residual), so
    # that an ill-conditioned design (ETWFE's cell x covariate columns) rounds each outcome as its own fit does
    beta = np.empty((x.shape[1], outcomes.shape[1]))
    resid = np.empty_like(demeaned)
    for j in range(outcomes.shape[1]):
        y = np.ascontiguousarray(demeaned[:, j:j + 1])
        beta[:, j] = scipy.linalg.solve(fit._tZX, x.T @ y, assume_a="pos").flatten()
        resid[:, j] = y.flatten() - (x @ beta[:, j]).flatten()
    clusters = pd.factorize(fit._cluster_df.iloc[:, 0])[0]
    n, p, k = x.shape[0], x.shape[1], outcomes.shape[1]
    membership = scipy.sparse.csr_matrix((np.ones(n), (clusters, np.arange(n))), shape=(int(clusters.max()) + 1, n))
    # every outcome's per-cluster score sums at once: clusters x p x k
    scores = (membership @ (x[:, :, None] * resid[:, None, :]).reshape(n, p * k)).reshape(-1, p, k)
    by_outcome = np.ascontiguousarray(scores.transpose(2, 0, 1))  # k x clusters x p
    # the outer products summed cluster after cluster, as pyfixest's meat loop sums them (a BLAS product blocks the
    # sum otherwise: on ETWFE's ill-conditioned designs its rounding reaches 1e-10 of the SE, this stays at 1e-13)
    meat = np.einsum("kgp,kgq->kpq", by_outcome, by_outcome)
    ssc = float(np.asarray(fit._ssc).ravel()[0])
    return [(beta[:, j].copy(), ssc * (fit._bread @ meat[j] @ fit._bread)) for j in range(k)]
