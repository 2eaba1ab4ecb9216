"""The principal-component index against scikit-learn and numpy; KMO and Bartlett on a textbook data set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from pilotdid.errors import PilotdidInputError
from pilotdid.measures import bartlett_sphericity, build_index, kmo, pca_index
from pilotdid.measures.system import system_from_dict

DATA = Path(__file__).with_name("data")


def _system(names, signs=None):
    signs = signs or ["+"] * len(names)
    return system_from_dict({"unit": "city", "time": "year", "indicator": [
        {"name": n, "dimension": "d", "sign": s} for n, s in zip(names, signs)]})


@pytest.fixture
def correlated(make_panel):
    """SYNTHETIC: four indicators driven by two latent factors plus noise."""
    frame = make_panel(n_units=40, columns=())
    rng = np.random.default_rng(7)
    f1, f2 = rng.normal(size=(2, len(frame)))
    frame["w"] = f1 + 0.3 * rng.normal(size=len(frame))
    frame["x"] = 2 * f1 + 0.5 * rng.normal(size=len(frame)) + 10
    frame["y"] = f2 + 0.4 * rng.normal(size=len(frame))
    frame["v"] = -(f2 + f1 * 0.2) + 0.6 * rng.normal(size=len(frame))  # a cost indicator once negated
    return frame


def test_components_match_sklearn_and_numpy(correlated):
    names = ["w", "x", "y", "v"]
    result = pca_index(correlated, _system(names, ["+", "+", "+", "-"]))
    x = correlated[names].to_numpy() * np.array([1, 1, 1, -1])
    n = len(x)

    # numpy: eigen-decomposition of the correlation matrix
    eig, vec = np.linalg.eigh(np.corrcoef(x, rowvar=False))
    order = np.argsort(eig)[::-1]
    np.testing.assert_allclose(result.eigenvalues["eigenvalue"], eig[order], rtol=1e-10)

    # scikit-learn on StandardScaler z-scores (ddof = 0): same axes up to sign, scores scaled by sqrt(n/(n-1))
    sk = PCA().fit(StandardScaler().fit_transform(x))
    ours = result.eigenvectors.to_numpy()
    for k in range(4):
        sign = np.sign(ours[:, k] @ sk.components_[k])
        np.testing.assert_allclose(ours[:, k], sign * sk.components_[k], atol=1e-10)
        sk_scores = sk.transform(StandardScaler().fit_transform(x))[:, k]
        np.testing.assert_allclose(result.component_scores[f"PC{k + 1}"] * np.sqrt(n / (n - 1)), sign * sk_scores, atol=1e-9)
    np.testing.assert_allclose(result.eigenvalues["explained_share"], sk.explained_variance_ratio_, rtol=1e-10)

    # loadings are correlations of indicator and component
    for k in range(2):
        for j, name in enumerate(names):
            r = np.corrcoef(result.standardised[name], result.component_scores[f"PC{k + 1}"])[0, 1]
            assert result.loadings.iloc[j, k] == pytest.approx(r, abs=1e-10)


def test_index_combines_retained_components_by_explained_variance(correlated):
    result = pca_index(correlated, _system(["w", "x", "y", "v"], ["+", "+", "+", "-"]))
    table = result.eigenvalues
    kept = table[table["eigenvalue"] > 1]
    assert result.retained == len(kept) >= 1
    weights = kept["eigenvalue"] / kept["eigenvalue"].sum()
    expected = sum(w * result.component_scores[c] for w, c in zip(weights, kept["component"]))
    np.testing.assert_allclose(result.index, expected, rtol=1e-12)
    np.testing.assert_allclose(result.first_component, result.component_scores["PC1"])
    np.testing.assert_allclose(result.standardised.to_numpy() @ result.coefficients.to_numpy(), result.index, rtol=1e-10)


def test_sign_higher_means_more(correlated):
    # flipping the data's direction must not flip the index's direction
    result = pca_index(correlated, _system(["w", "x"]))
    assert np.corrcoef(result.index, correlated["w"] + correlated["x"] / 2)[0, 1] > 0.9
    assert (result.eigenvectors["PC1"] > 0).all()
    flipped = pca_index(correlated.assign(w=-correlated["w"], x=-correlated["x"]), _system(["w", "x"], ["-", "-"]))
    np.testing.assert_allclose(flipped.index, result.index, atol=1e-10)


def test_kmo_and_bartlett_on_mtcars():
    """Textbook data: mtcars (Henderson & Velleman 1981, Biometrics 37:391-411; R's datasets::mtcars), 32 cars x
    11 variables. Reference values as printed in the documentation of R's `performance::check_factorstructure(mtcars)`
    (easystats): Bartlett's test of sphericity Chisq(55) = 408.01, p < .001; KMO = 0.83."""
    cars = pd.read_csv(DATA / "mtcars.csv").drop(columns="name")
    assert cars.shape == (32, 11)
    r = np.corrcoef(cars.to_numpy(float), rowvar=False)
    chi2, df, p = bartlett_sphericity(r, n=32)
    assert round(chi2, 2) == 408.01
    assert df == 55
    assert p < 0.001
    overall, per_variable = kmo(r)
    assert round(overall, 2) == 0.83
    assert per_variable.shape == (11,)
    assert np.all((per_variable > 0) & (per_variable < 1))


def test_kmo_formula_by_hand():
    r = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.4], [0.3, 0.4, 1.0]])
    inv = np.linalg.inv(r)
    q = -inv / np.sqrt(np.outer(np.diag(inv), np.diag(inv)))
    r2 = 2 * (0.5**2 + 0.3**2 + 0.4**2)
    q2 = 2 * (q[0, 1] ** 2 + q[0, 2] ** 2 + q[1, 2] ** 2)
    assert kmo(r)[0] == pytest.approx(r2 / (r2 + q2), rel=1e-14)
    assert kmo(np.array([[1.0, 0.6], [0.6, 1.0]]))[0] == pytest.approx(0.5)
    # Bartlett by hand: -(n - 1 - (2p + 5)/6) ln|R|
    assert bartlett_sphericity(r, 100)[0] == pytest.approx(-(99 - 11 / 6) * np.log(np.linalg.det(r)), rel=1e-12)


def test_pca_errors(correlated):
    with pytest.raises(PilotdidInputError, match="at least two available indicators"):
        pca_index(correlated, _system(["w"]))
    with pytest.raises(PilotdidInputError, match="perfectly collinear"):
        pca_index(correlated.assign(z=2 * correlated["w"] + 1), _system(["w", "z"]))


def test_build_index_pca_route(correlated):
    result = build_index(correlated, _system(["w", "x", "y"]), method="pca")
    assert result.method == "pca"
    assert list(result.subindices.columns)[0] == "PC1"
    pca = result.extra["pca"]
    np.testing.assert_allclose(result.weights["weight"], pca.coefficients)
    assert any("KMO" in n for n in result.notes)


def test_digital_system_on_synthetic_panel(make_panel):
    frame = make_panel(columns=["digital_finance_index", "it_employment_share"])
    result = pca_index(frame, "cbec_digital")
    assert result.indicators == ["digital_finance_index", "it_employment_share"]
    assert result.kmo == pytest.approx(0.5)
    assert any("3 of 5 indicators are unavailable" in n for n in result.notes)
