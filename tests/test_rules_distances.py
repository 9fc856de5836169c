"""Rules for library functions that realistic programs call and srcad refused (round 61d):
SciPy's pairwise distances (``cdist``, ``pdist``), the matrix exponential
(``scipy.linalg.expm``), NaN-ignoring quantiles (``np.nanmedian``, ``np.nanpercentile``,
``np.nanquantile``) and the Vandermonde matrix (``np.vander``).

Each is checked four ways by ``conftest.check_four_ways`` (central differences to rtol
1e-6, atol 1e-8; optimized against unoptimized; jvp against the gradient; the value of
``value_and_grad`` against ``f``) inside a function of the kind people write; the NaN
quantiles, whose data holds NaNs, against central differences over the numbers only."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import srcad

sys.path.insert(0, os.path.dirname(__file__))
from conftest import check_four_ways  # noqa: E402

scipy_linalg = pytest.importorskip("scipy.linalg")
distance = pytest.importorskip("scipy.spatial.distance")
cdist, pdist = distance.cdist, distance.pdist
expm = scipy_linalg.expm

RNG = np.random.default_rng(42)
POINTS_A = RNG.standard_normal((4, 3))
POINTS_B = RNG.standard_normal((5, 3))
WEIGHTS_AB = RNG.standard_normal((4, 5))
WEIGHTS_PAIRS = RNG.standard_normal(6)


# ====================================================================== distances


def rbf_kernel_loss(xa, xb, lengthscale):
    """An RBF kernel between two point sets, weighted (Gaussian processes, MMD)."""
    k = np.exp(-cdist(xa, xb, "sqeuclidean") / (2.0 * lengthscale**2))
    return np.sum(WEIGHTS_AB * k)


def soft_assignment(xa, xb):
    """Soft k-means: each point's softmin over its Euclidean distances to the centres."""
    d = cdist(xa, xb)
    w = np.exp(-d) / np.sum(np.exp(-d), axis=1, keepdims=True)
    return np.sum(w * d)


def manhattan_and_cosine(xa, xb):
    return np.sum(WEIGHTS_AB * cdist(xa, xb, metric="cityblock")) + np.sum(
        np.tanh(cdist(xa, xb, "cosine"))
    )


def minkowski_cubic(xa, xb):
    return np.sum(WEIGHTS_AB * cdist(xa, xb, "minkowski", p=3.0))


def stress(x):
    """Multidimensional scaling: embedded distances against target ones."""
    return np.sum((pdist(x) - np.abs(WEIGHTS_PAIRS)) ** 2)


def pair_energies(x):
    """Pairwise energies over the condensed distances, several metrics."""
    return (
        np.sum(1.0 / (1.0 + pdist(x, "sqeuclidean")))
        + np.sum(WEIGHTS_PAIRS * pdist(x, "cityblock"))
        + np.sum(WEIGHTS_PAIRS * pdist(x, "cosine"))
    )


@pytest.mark.parametrize(
    "f, args",
    [
        (rbf_kernel_loss, (POINTS_A, POINTS_B, 0.8)),
        (soft_assignment, (POINTS_A, POINTS_B)),
        (manhattan_and_cosine, (POINTS_A, POINTS_B)),
        (minkowski_cubic, (POINTS_A, POINTS_B)),
        (stress, (POINTS_A,)),
        (pair_energies, (POINTS_A,)),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_distances_four_ways(f, args):
    check_four_ways(f, *args)


def euclidean_sum(xa, xb):
    return np.sum(cdist(xa, xb))


def test_euclidean_distance_gradient_is_the_unit_direction():
    xa, xb = np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [0.0, 0.0]])
    ga, gb = srcad.grad(euclidean_sum, wrt=(0, 1))(xa, xb)
    # (3, 4) is 5 away along (0.6, 0.8); the coincident pair has no derivative: 0
    np.testing.assert_allclose(ga, [[-0.6, -0.8]], rtol=1e-15)
    np.testing.assert_allclose(gb, [[0.6, 0.8], [0.0, 0.0]], rtol=1e-15)


def chebyshev_sum(xa, xb):
    return np.sum(cdist(xa, xb, "chebyshev"))


def test_metric_without_a_rule_is_refused_at_the_users_line():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(chebyshev_sum)(POINTS_A, POINTS_B)
    message = str(info.value)
    assert "'chebyshev'" in message and "test_rules_distances.py" in message
    assert "np.linalg.norm" in message


# ====================================================================== expm


def linear_ode_end(a, t):
    """The state of x' = A x after time t, from (1, 2, 0.5): a linear ODE's flow."""
    return np.sum(expm(a * t) @ np.array([1.0, 2.0, 0.5]))


def rotation_energy(theta):
    """A rotation by the exponential of a skew matrix (Lie groups)."""
    skew = np.array([[0.0, -1.0], [1.0, 0.0]]) * theta
    return np.sum(expm(skew) @ np.array([2.0, 1.0]))


def test_expm_four_ways():
    a = np.array([[0.1, 0.3, -0.2], [0.4, -0.5, 0.2], [0.0, 0.3, 0.2]])
    check_four_ways(linear_ode_end, a, 0.7)


def test_expm_of_a_rotation_is_exact():
    # expm(theta J) (2, 1) = (2 cos - sin, 2 sin + cos), summed 3 cos + sin
    theta = 0.4
    got = srcad.grad(rotation_energy)(theta)
    assert got == pytest.approx(-3.0 * np.sin(theta) + np.cos(theta), rel=1e-12)


# ====================================================================== NaN quantiles

WITH_GAPS = RNG.standard_normal((5, 6))
WITH_GAPS[1, 2] = WITH_GAPS[3, 0] = WITH_GAPS[3, 4] = np.nan
LANE_WEIGHTS = RNG.standard_normal(5)


def robust_summary(x):
    """Medians and quantiles of data with missing values, by row and overall."""
    return (
        np.nanmedian(x)
        + np.sum(LANE_WEIGHTS * np.nanmedian(x, axis=1))
        + np.sum(np.nanquantile(x, [0.2, 0.9], axis=1) ** 2)
        + np.sum(np.nanpercentile(x, 30.0, axis=0, keepdims=True))
    )


def _numeric_over_numbers(f, x, h=1e-6):
    out = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        if not np.isnan(x[index]):
            step = np.zeros_like(x)
            step[index] = h
            out[index] = (f(x + step) - f(x - step)) / (2 * h)
    return out


def test_nan_quantiles_against_central_differences():
    value, got = srcad.value_and_grad(robust_summary)(WITH_GAPS)
    assert value == robust_summary(WITH_GAPS)
    numbers = ~np.isnan(WITH_GAPS)
    assert np.all(got[~numbers] == 0.0)  # a NaN is never picked
    np.testing.assert_allclose(got, _numeric_over_numbers(robust_summary, WITH_GAPS),
                               rtol=1e-6, atol=1e-8)
    direction = np.where(numbers, RNG.standard_normal(WITH_GAPS.shape), 0.0)
    tangent = srcad.jvp(robust_summary)((WITH_GAPS,), (direction,))[1]
    assert tangent == pytest.approx(np.sum(got * direction), rel=1e-9)
    plain = srcad.grad(robust_summary, optimize=False)(WITH_GAPS)
    np.testing.assert_allclose(got, plain, rtol=1e-12)


def nan_percentile_of_q(q):
    return np.sum(np.nanpercentile(WITH_GAPS, q, axis=1))


def test_nan_percentile_along_q():
    check_four_ways(nan_percentile_of_q, 37.0)


def median_without_gaps(x):
    return np.sum(LANE_WEIGHTS[:4] * np.nanmedian(x, axis=1))


def test_nan_median_without_nans_is_the_median():
    x = RNG.standard_normal((4, 5))
    got = check_four_ways(median_without_gaps, x)[0]
    # each row's median is its middle item: the lane's weight goes there alone
    for row in range(4):
        middle = np.argsort(x[row])[2]
        assert got[row, middle] == LANE_WEIGHTS[row]
        assert np.count_nonzero(got[row]) == 1


# ====================================================================== vander


def polynomial_fit_residual(x, y):
    """Least squares fit of a quadratic: the residual, through the Vandermonde matrix."""
    v = np.vander(x, 3)
    coef = np.linalg.lstsq(v, y, rcond=None)[0]
    return np.sum((v @ coef - y) ** 2) + np.sum(np.vander(x, increasing=True) ** 2)


def test_vander_four_ways():
    check_four_ways(polynomial_fit_residual, np.array([0.5, -1.2, 2.0, 0.3]),
                    np.array([1.0, 0.3, -2.0, 0.7]))


def vander_sum(x):
    return np.sum(np.vander(x, 4))


def test_vander_exact():
    x = np.array([0.5, 0.0, -2.0])
    # d/dx (x^3 + x^2 + x + 1) = 3x^2 + 2x + 1
    np.testing.assert_allclose(srcad.grad(vander_sum)(x), 3 * x**2 + 2 * x + 1, rtol=1e-15)
