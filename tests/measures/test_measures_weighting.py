"""Entropy, CRITIC and TOPSIS on plain matrices: a hand computation and the invariances min-max standardisation gives.

What holds exactly (up to floating-point rounding), because z = (x - min)/(max - min) for "+" and
(max - x)/(max - min) for "-":
* weights and index are unchanged when one indicator is mapped by x -> a*x + b with a > 0 (positive rescaling
  and shifting);
* negating an indicator AND flipping its declared sign leaves z, the weights and the index unchanged;
* negating an indicator while keeping its sign maps its z to 1 - z (so the weights do change in general).
"""

from __future__ import annotations

from decimal import Decimal, getcontext

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pilotdid.measures.weighting import critic_weights, entropy_weights, minmax_standardise, topsis_closeness

getcontext().prec = 50


def _hand_entropy(columns: list[list[Decimal]], shift: Decimal):
    """The textbook recipe in 50-digit decimal arithmetic (0 * ln 0 taken as 0)."""
    n = len(columns[0])
    entropies = []
    for column in columns:
        shifted = [z + shift for z in column]
        total = sum(shifted)
        shares = [s / total for s in shifted]
        e = -sum((p * p.ln() if p > 0 else Decimal(0)) for p in shares) / Decimal(n).ln()
        entropies.append(e)
    redundancy = [1 - e for e in entropies]
    weights = [d / sum(redundancy) for d in redundancy]
    return entropies, redundancy, weights


MATRIX = np.array([[1.0, 10.0, 5.0], [2.0, 30.0, 5.5], [4.0, 20.0, 9.0], [3.0, 25.0, 6.0]])
SIGNS = ["+", "-", "+"]


def test_minmax_by_hand():
    z = minmax_standardise(MATRIX, SIGNS)
    expected = np.array([
        [0.0, 1.0, 0.0],
        [1 / 3, 0.0, 0.125],
        [1.0, 0.5, 1.0],
        [2 / 3, 0.25, 0.25],
    ])
    np.testing.assert_allclose(z, expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("shift", ["0", "0.0001", "0.01"])
def test_entropy_weights_equal_hand_computation(shift):
    z = minmax_standardise(MATRIX, SIGNS)
    # z of MATRIX written out as exact fractions (see test_minmax_by_hand)
    third = Decimal(1) / Decimal(3)
    columns = [
        [Decimal(0), third, Decimal(1), 2 * third],
        [Decimal(1), Decimal(0), Decimal("0.5"), Decimal("0.25")],
        [Decimal(0), Decimal("0.125"), Decimal(1), Decimal("0.25")],
    ]
    hand_e, hand_d, hand_w = _hand_entropy(columns, Decimal(shift))
    e, d, w = entropy_weights(z, shift=float(shift))
    # agreement to the last bits of double precision
    np.testing.assert_allclose(e, [float(v) for v in hand_e], rtol=0, atol=2e-15)
    np.testing.assert_allclose(d, [float(v) for v in hand_d], rtol=0, atol=2e-15)
    np.testing.assert_allclose(w, [float(v) for v in hand_w], rtol=0, atol=2e-15)


def test_entropy_weights_known_values_shift_zero():
    # Closed form for the 2-indicator, 3-row case: shares (0, 1/4, 3/4) and (2/3, 0, 1/3).
    x = np.array([[1.0, 10.0], [2.0, 30.0], [4.0, 20.0]])
    e, d, w = entropy_weights(minmax_standardise(x, ["+", "-"]), shift=0.0)
    e1 = -(0.25 * np.log(0.25) + 0.75 * np.log(0.75)) / np.log(3)
    e2 = -(2 / 3 * np.log(2 / 3) + 1 / 3 * np.log(1 / 3)) / np.log(3)
    assert e == pytest.approx([e1, e2], abs=1e-15)
    assert w == pytest.approx([(1 - e1) / (2 - e1 - e2), (1 - e2) / (2 - e1 - e2)], abs=1e-15)


def test_critic_by_hand():
    z = minmax_standardise(MATRIX, SIGNS)
    sd = z.std(axis=0, ddof=1)
    r = np.corrcoef(z, rowvar=False)
    info = np.array([sd[j] * sum(1 - r[j, k] for k in range(3)) for j in range(3)])
    _, _, w = critic_weights(z)
    np.testing.assert_allclose(w, info / info.sum(), rtol=1e-14)
    # ddof cancels in the weights
    info0 = z.std(axis=0, ddof=0) * (1 - r).sum(axis=0)
    np.testing.assert_allclose(w, info0 / info0.sum(), rtol=1e-14)


def test_topsis_by_hand():
    z = minmax_standardise(MATRIX, SIGNS)
    w = np.array([0.5, 0.3, 0.2])
    v = z * w
    best, worst = v.max(axis=0), v.min(axis=0)
    closeness = [np.linalg.norm(row - worst) / (np.linalg.norm(row - best) + np.linalg.norm(row - worst)) for row in v]
    np.testing.assert_allclose(topsis_closeness(z, w), closeness, rtol=1e-14)


def test_entropy_needs_two_rows():
    with pytest.raises(ValueError):
        entropy_weights(np.array([[0.5, 0.5]]))


# --- properties ---------------------------------------------------------------------------------------------

_values = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def matrices(draw):
    n = draw(st.integers(3, 25))
    m = draw(st.integers(1, 6))
    x = draw(arrays(np.float64, (n, m), elements=_values))
    assume(np.all(np.ptp(x, axis=0) > 1e-2))
    signs = draw(st.lists(st.sampled_from(["+", "-"]), min_size=m, max_size=m))
    return x, signs


@settings(max_examples=150, deadline=None)
@given(matrices(), st.sampled_from([0.0, 1e-4, 1e-2]))
def test_weights_sum_to_one_and_lie_in_unit_interval(data, shift):
    x, signs = data
    z = minmax_standardise(x, signs)
    assert np.all((z >= 0) & (z <= 1))
    _, _, w = entropy_weights(z, shift)
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(w >= -1e-15)
    _, _, wc = critic_weights(z)
    assert wc.sum() == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(matrices(), st.floats(1e-3, 1e3), st.floats(-1e4, 1e4), st.data())
def test_positive_affine_map_of_an_indicator_changes_nothing(data, scale, offset, pick):
    x, signs = data
    j = pick.draw(st.integers(0, x.shape[1] - 1))
    moved = x.copy()
    moved[:, j] = scale * x[:, j] + offset
    z, z_moved = minmax_standardise(x, signs), minmax_standardise(moved, signs)
    np.testing.assert_allclose(z_moved, z, atol=1e-9)
    w, w_moved = entropy_weights(z)[2], entropy_weights(z_moved)[2]
    np.testing.assert_allclose(w_moved, w, atol=1e-8)
    np.testing.assert_allclose(z_moved @ w_moved, z @ w, atol=1e-8)


@settings(max_examples=150, deadline=None)
@given(matrices(), st.data())
def test_sign_flip(data, pick):
    x, signs = data
    j = pick.draw(st.integers(0, x.shape[1] - 1))
    negated = x.copy()
    negated[:, j] = -x[:, j]
    flipped = list(signs)
    flipped[j] = "-" if signs[j] == "+" else "+"
    z = minmax_standardise(x, signs)
    # negate AND flip the declared sign: nothing changes
    np.testing.assert_allclose(minmax_standardise(negated, flipped), z, atol=1e-12)
    np.testing.assert_allclose(entropy_weights(minmax_standardise(negated, flipped))[2], entropy_weights(z)[2], atol=1e-10)
    # negate but keep the sign: that indicator's z becomes 1 - z, the others are untouched
    z_kept = minmax_standardise(negated, signs)
    np.testing.assert_allclose(z_kept[:, j], 1 - z[:, j], atol=1e-12)
    others = [k for k in range(x.shape[1]) if k != j]
    np.testing.assert_allclose(z_kept[:, others], z[:, others], atol=0)
