"""Gradients at the points where a derivative's textbook formula reads ``0 * inf`` or
``exp(nan)`` although the derivative itself is finite: powers at base 0 (``x ** 0``,
power series, an exponent's gradient where the base is 0), ``logaddexp`` of two
``-inf``; and builtins that choose a whole value (``max`` of tuples, ``max(a, b,
key=f)``) or take a keyword (``sum(xs, start=s)``). Each was a crash from generated
code, a silent nan or a refusal (adversarial rounds 41 and 42)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import check_four_ways

import srcad


def power_series(x, cs):
    total = 0.0
    for k in range(len(cs)):
        total = total + cs[k] * x**k  # k = 0: x ** 0, whose slope 0 * x ** -1 is 0 * inf at 0
    return total


def literal_powers(x):
    return x**0 + x**1 + 3.0 * x**3


def feature_polynomial(x, c):
    return np.sum(c * x[:, None] ** np.arange(4))


def minkowski(p, a, b):
    return np.sum(np.abs(a - b) ** p) ** (1.0 / p)


def power_law(p, x):
    return sum(v**p for v in x)


def three_powers(x, y):
    return math.pow(x, y) + np.power(x, 0.0) + pow(x, 1)


@pytest.mark.parametrize("x", [0.0, np.float64(0.0), 0.4])
def test_power_series_at_zero(x):
    cs = [1.0, 0.5, 0.25, -2.0]
    got = srcad.grad(power_series)(x, cs)
    want = sum(k * c * float(x) ** (k - 1) for k, c in enumerate(cs) if k)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
    check_four_ways(power_series, 0.3, cs, wrt=(0,))


def test_literal_powers_at_zero_and_their_second_derivative():
    assert srcad.grad(literal_powers)(0.0) == 1.0
    assert srcad.grad(srcad.grad(literal_powers))(0.0) == 0.0
    assert srcad.hessian(literal_powers)(0.0) == 0.0
    assert srcad.grad(srcad.grad(literal_powers))(0.5) == pytest.approx(18.0 * 0.5, rel=1e-12)


def test_polynomial_features_at_zero_first_and_second_order():
    x, c = np.array([0.0, 0.5]), np.array([1.0, 2.0, 3.0, 4.0])
    dx = srcad.grad(feature_polynomial)(x, c)
    np.testing.assert_allclose(dx, 2.0 + 6.0 * x + 12.0 * x**2, rtol=1e-12)
    hessian = srcad.hessian(feature_polynomial)(x, c)
    np.testing.assert_allclose(np.diag(hessian), 6.0 + 24.0 * x, rtol=1e-12)
    check_four_ways(feature_polynomial, np.array([0.3, 0.5]), c)


def test_an_exponents_gradient_where_the_base_is_zero():
    """``0 ** p`` is 0 for every p > 0: it does not move with p (the formula reads
    ``log(0) * 0``, nan)."""
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.5, 2.0])  # a difference of 0
    p = 1.7
    got = srcad.grad(minkowski)(p, a, b)
    d = np.abs(a - b)[1:]
    norm = np.sum(d**p) ** (1.0 / p)
    want = norm * (-math.log(np.sum(d**p)) / p**2 + np.sum(d**p * np.log(d)) / (p * np.sum(d**p)))
    assert got == pytest.approx(want, rel=1e-10)
    assert srcad.grad(power_law)(2.0, [0.0, 1.5]) == pytest.approx(1.5**2 * math.log(1.5))
    assert srcad.grad(three_powers, wrt=1)(0.0, 2.5) == 0.0


def test_spellings_of_power_share_the_rule():
    assert srcad.grad(three_powers)(0.0, 2.5) == 1.0  # (math.pow and np.power ** 0: 0)
    check_four_ways(three_powers, 0.7, 2.5)


def hidden_markov_loglik(log_a, log_start):
    alpha = log_start
    for _ in range(3):
        new = np.full(alpha.shape, -np.inf)  # the usual start of a running logaddexp
        for j in range(alpha.shape[0]):
            acc = -np.inf
            for i in range(alpha.shape[0]):
                acc = np.logaddexp(acc, alpha[i] + log_a[i, j])
            new[j] = acc
        alpha = new
    return np.log(np.sum(np.exp(alpha)))


def test_logaddexp_of_two_minus_infinities_shares_nothing():
    log_a = np.log(np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.3, 0.3, 0.4]]))
    log_start = np.log(np.array([0.5, 0.5, 0.0]))
    with np.errstate(divide="ignore"):
        got = srcad.grad(hidden_markov_loglik)(log_a, log_start)
    assert np.all(np.isfinite(got))
    finite = np.isfinite(log_a)
    eps, want = 1e-6, np.zeros_like(log_a)
    for index in zip(*np.nonzero(finite)):
        up, down = log_a.copy(), log_a.copy()
        up[index] += eps
        down[index] -= eps
        want[index] = (hidden_markov_loglik(up, log_start)
                       - hidden_markov_loglik(down, log_start)) / (2 * eps)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-6, atol=1e-9)
    both = (np.array([-np.inf, 0.0]), np.array([-np.inf, 1.0]))
    dx, dy = srcad.grad(log_sums, wrt=(0, 1))(*both)  # (each sum's shares add up to 1)
    np.testing.assert_allclose(dx + dy, [0.0, 2.0], rtol=1e-12)
    assert dx[0] == dy[0] == 0.0
    _, tangent = srcad.jvp(log_sums, both, (np.ones(2), np.ones(2)))
    assert tangent == pytest.approx(2.0, rel=1e-12)


def log_sums(x, y):
    return np.sum(np.logaddexp(x, y)) + np.sum(np.logaddexp2(x, y))


def packed(w, b):
    theta = np.hstack([w, b])  # a number as a part: one item, as np.atleast_1d makes it
    return np.sum(theta * np.array([0.5, -1.0, 2.0]))


def test_hstack_of_an_array_and_a_number():
    dw, db = srcad.grad(packed, wrt=(0, 1))(np.array([1.0, 2.0]), 0.7)
    np.testing.assert_allclose(dw, [0.5, -1.0])
    assert float(db) == 2.0
    check_four_ways(packed, np.array([1.0, 2.0]), np.array(0.7))


def best_offer(s1, v1, s2, v2):
    best = max([(s1, v1), (s2, v2)])  # tuples compare item by item; the best one is chosen
    return best[1] * best[0]


def cheapest(s1, v1, s2, v2, s3, v3):
    score, value = min((s1, v1), (s2, v2), (s3, v3))
    return value * score


@pytest.mark.parametrize("args", [(0.3, 2.0, 0.7, 5.0), (0.9, 2.0, 0.7, 5.0), (0.7, 2.0, 0.7, 5.0)])
def test_max_of_tuples_chooses_one_whole(args):
    got = srcad.grad(best_offer, wrt=(0, 1, 2, 3))(*args)
    s1, v1, s2, v2 = args
    first = (s1, v1) >= (s2, v2)
    want = (v1, s1, 0.0, 0.0) if first else (0.0, 0.0, v2, s2)
    assert got == pytest.approx(want, rel=1e-15)
    if args[0] != args[2]:  # (a tie in the first item: central differences cross it)
        check_four_ways(best_offer, *args)


def test_min_of_three_tuples():
    args = (0.4, 1.0, 0.2, 3.0, 0.9, -1.0)
    got = srcad.grad(cheapest, wrt=tuple(range(6)))(*args)
    assert got == pytest.approx((0.0, 0.0, 3.0, 0.2, 0.0, 0.0), rel=1e-15)
    check_four_ways(cheapest, *args)


def largest_by_size(a, b):
    return max(a * b, b, key=abs)  # several arguments and a key: max([a * b, b], key=abs)


def closest_to_one(a, b):
    return min(a * b, b, a, key=lambda t: (t - 1.0) ** 2)


@pytest.mark.parametrize("f, args, want", [
    (largest_by_size, (0.3, -2.0), (0.0, 1.0)),
    (largest_by_size, (3.0, 2.0), (2.0, 3.0)),
    (closest_to_one, (0.3, 2.0), (2.0, 0.3)),
    (closest_to_one, (0.9, 1.2), (1.2, 0.9)),
])
def test_max_and_min_with_a_key_over_several_arguments(f, args, want):
    assert srcad.grad(f, wrt=(0, 1))(*args) == pytest.approx(want, rel=1e-15)
    check_four_ways(f, *args)


def summed_from(x, y):
    return sum((x * y, y), start=x)  # Python's keyword for the start value


def test_sum_takes_its_start_by_keyword():
    assert srcad.grad(summed_from, wrt=(0, 1))(0.3, 2.0) == pytest.approx((3.0, 1.3))
    check_four_ways(summed_from, 0.3, 2.0)


def penalty_of_powers(x, p):
    total = 0.0
    for k in range(1, 4):
        total = total + (k * x) ** p  # p is not differentiated: its tangent is 0
    return total


def power(x, y):
    return x**y


def test_second_derivatives_of_powers_at_base_zero():
    """The exponent's part of a power's second derivative divides by the base: 0 where
    the tangent or the power is 0 (it read 0 * 0 / 0 at base 0, adversarial round 43)."""
    assert srcad.grad(srcad.grad(penalty_of_powers))(0.0, 2.0) == pytest.approx(28.0)
    assert srcad.hessian(penalty_of_powers)(0.0, 2.0) == pytest.approx(28.0)
    hessian = np.asarray(srcad.hessian(power, wrt=(0, 1))(0.0, 2.0), dtype=float)
    np.testing.assert_array_equal(hessian, [[2.0, 0.0], [0.0, 0.0]])
    assert srcad.hvp(power)(0.0, 2.0, 1.0) == pytest.approx(2.0)


def _log_scaled(x):
    return np.log(x) * 2.0


def _sqrt_power(x, y):
    return x**0.5 * y + np.arctanh(y)


def _log_of_items(xs):
    total = 0.0
    for v in xs:
        total = total + np.log(v)
    return total


def test_a_derivative_too_large_for_a_python_float_is_numpys_inf():
    """``np.log(x)`` of the Python float 0.0 is numpy's -inf (with a RuntimeWarning), so
    its derivative 2 / x is inf, as numpy's floats give it. The version for Python floats
    computed 2.0 / 0.0 with Python's floats and raised ZeroDivisionError from generated
    code; it now runs the array version with numpy floats instead."""
    with np.errstate(divide="ignore", invalid="ignore"):
        assert srcad.grad(_log_scaled)(0.0) == np.inf
        value, dx = srcad.value_and_grad(_log_scaled)(0.0)
        assert value == -np.inf and dx == np.inf
        assert srcad.grad(_log_of_items)([1.0, 0.0, 2.0]) == [1.0, np.inf, 0.5]
        dx, dy = srcad.grad(_sqrt_power, argnums=(0, 1))(0.0, 1.0)
        assert dx == np.inf and dy == np.inf
    assert srcad.grad(_log_scaled)(0.5) == pytest.approx(4.0, rel=1e-15)  # (floats again)


def test_the_users_own_division_by_zero_still_raises():
    """``1.0 / x`` at 0.0 raises in the function itself: the gradient raises as it does
    (the forward pass keeps Python's floats)."""
    with pytest.raises(ZeroDivisionError):
        srcad.value_and_grad(lambda x: 1.0 / x)(0.0)


def test_the_fallback_to_numpy_floats_keeps_aux_and_powers():
    """has_aux: the aux of the run the gradient is of (the fallback runs the forward
    pass again: two were recorded, and unpacking them raised); ``x ** 3`` whose slope
    ``3 x ** 2`` overflows a Python float (OverflowError) is numpy's inf."""
    def with_aux(x):
        return np.log(x) * 2.0, x

    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        assert srcad.grad(with_aux, has_aux=True)(0.0) == (np.inf, 0.0)
        assert srcad.grad(lambda x: np.power(x, 3.0))(1e160) == np.inf


def test_every_derivative_of_a_log_at_zero_is_numpys():
    """jvp, vjp, hessian, hvp, grad of grad, and the version for arrays called with
    Python floats (a list of counts beside the float, a namedtuple of floats): each
    raised ZeroDivisionError from generated code at np.log's 0.0; each gives numpy's
    inf now (the second derivative of 2 log x at 0 is -inf)."""
    from collections import namedtuple

    Point = namedtuple("Point", "a b")

    def with_counts(x, counts):
        return np.log(x) * counts[0] + counts[1] * x

    def of_point(p):
        return np.log(p.a) * 2.0 + p.b

    with np.errstate(divide="ignore", invalid="ignore"):
        value, tangent = srcad.jvp(_log_scaled, (0.0,), (1.0,))
        assert (value, tangent) == (-np.inf, np.inf)
        assert srcad.vjp(_log_scaled, 0.0)[1](1.0) == (np.inf,)
        assert srcad.hessian(_log_scaled)(0.0) == -np.inf
        assert srcad.hvp(_log_scaled)(0.0, 1.0) == -np.inf
        assert srcad.grad(srcad.grad(_log_scaled))(0.0) == -np.inf
        assert srcad.grad(with_counts)(0.0, [3, 4]) == np.inf
        assert srcad.grad(of_point)(Point(0.0, 1.0)) == Point(np.inf, 1.0)
    assert srcad.jvp(_log_scaled, (0.5,), (1.0,))[1] == pytest.approx(4.0, rel=1e-15)


def test_the_fallback_converts_dataclass_fields_and_leaves_random_draws_alone():
    """A dataclass's float fields become numpy floats too (ZeroDivisionError from
    generated code before); a function that draws random numbers has no fallback (running
    it again would draw again: a gradient of other draws, silently): it raises."""
    import dataclasses

    @dataclasses.dataclass
    class Site:
        a: float
        b: float

    def of_site(p):
        return np.log(p.a) * 2.0 + p.b

    def noisy(s, rng):
        return np.log(s) + rng.standard_normal()

    with np.errstate(divide="ignore"):
        assert srcad.grad(of_site)(Site(0.0, 1.0)) == Site(np.inf, 1.0)
        with pytest.raises(ZeroDivisionError):
            srcad.grad(noisy)(0.0, np.random.default_rng(0))


# ---------------------------------------------------------------- truncation before sqrt
# Round 62a: a value truncated to 0 before a square root (Heston's "full truncation"
# Euler scheme) had a nan gradient: the selection's adjoint multiplied the square root's
# infinite slope by 0 (mask * g); forward mode divided a tangent of 0 by 0. The value is
# 0 there and does not move: the gradient is exactly 0.


def heston_paths(v0, kappa, theta, xi, normals):
    """Variance paths by full truncation Euler: sqrt(max(v, 0)) drives the noise."""
    dt = 0.1
    v = np.full(normals.shape[1], v0)
    total = 0.0
    for step in range(normals.shape[0]):
        vp = np.maximum(v, 0.0)
        v = v + kappa * (theta - vp) * dt + xi * np.sqrt(vp * dt) * normals[step]
        total = total + np.mean(np.sqrt(np.maximum(v, 0.0)))
    return total


def truncations(x):
    """The same truncation spelled four ways, on values below zero (the second item)."""
    return (np.sum(np.sqrt(np.maximum(x, 0.0))) + np.sum(np.sqrt(np.clip(x, 0.0, None)))
            + np.sum(np.sqrt(np.fmax(x, 0.0))) + np.sum(np.sqrt(-np.minimum(-x, 0.0))))


def scalar_truncation(v, xi):
    total = 0.0
    for k in range(3):
        vp = max(v - 0.3 * k, 0.0)
        total = total + xi * math.sqrt(vp) + math.sqrt(max(-vp, 0.0))
    return total


def test_truncation_before_sqrt_has_a_zero_gradient_not_nan():
    x = np.array([0.7, -0.4, 1.3])
    got = check_four_ways(truncations, x)[0]
    np.testing.assert_allclose(got, [2.0 / math.sqrt(0.7), 0.0, 2.0 / math.sqrt(1.3)],
                               rtol=1e-12)
    # v - 0.3 k is 0.5, 0.2, -0.1: the last is truncated, its slope 0
    dv, dxi = check_four_ways(scalar_truncation, 0.5, 1.5)
    assert dv == pytest.approx(1.5 * 0.5 * (1 / math.sqrt(0.5) + 1 / math.sqrt(0.2)), rel=1e-12)
    assert dxi == pytest.approx(math.sqrt(0.5) + math.sqrt(0.2), rel=1e-12)


def test_heston_full_truncation_gradient_is_finite_and_right():
    normals = np.random.default_rng(3).standard_normal((6, 4)) * 2.5
    v, lowest = np.full(4, 0.04), np.inf  # (a path goes below zero: the case that gave nan)
    for step in range(6):
        vp = np.maximum(v, 0.0)
        v = v + 1.5 * (0.04 - vp) * 0.1 + 0.9 * np.sqrt(vp * 0.1) * normals[step]
        lowest = min(lowest, float(v.min()))
    assert lowest < 0.0
    got = check_four_ways(heston_paths, 0.04, 1.5, 0.04, 0.9, normals, rtol=1e-5)
    assert all(np.all(np.isfinite(g)) for g in got)


# ---- round 63a: an all -inf lane of logsumexp; a log of an exact 0 in forward mode


def left_to_right_hmm(p_stay, mus, x):
    """The forward algorithm of a left-to-right HMM: early on the states to the right
    are unreachable, so a lane of ``alpha[:, None] + log A`` is all -inf."""
    from scipy.special import logsumexp

    K = mus.size
    A = np.zeros((K, K))
    for k in range(K - 1):
        A[k, k] = p_stay[k]
        A[k, k + 1] = 1 - p_stay[k]
    A[K - 1, K - 1] = 1.0
    with np.errstate(divide="ignore"):
        log_a = np.log(A)
    log_b = -0.5 * (x[:, None] - mus[None, :]) ** 2
    alpha = np.full(K, -np.inf)
    alpha[0] = log_b[0, 0]
    for t in range(1, x.size):
        alpha = logsumexp(alpha[:, None] + log_a, axis=0) + log_b[t]
    return -np.logaddexp.reduce(alpha)


def exp_of_log(p):
    A = np.zeros(3)
    A[0] = p[0]
    A[2] = p[1]  # (A[1] stays 0: its log is -inf, a constant)
    return np.sum(np.exp(np.log(A)) + np.exp(np.log1p(A - 1.0)) + np.exp2(np.log2(A)))


def test_an_unreachable_state_shares_nothing():
    """Round 63a: logsumexp of a lane that is all -inf gave exp(-inf - -inf) = nan
    shares; the whole HMM gradient was nan. Its share is 0, as logaddexp's."""
    x = np.random.default_rng(21).standard_normal(7)
    with np.errstate(divide="ignore", invalid="ignore"):
        check_four_ways(left_to_right_hmm, np.array([0.6, 0.7]), np.array([-1.0, 0.0, 1.5]), x,
                        wrt=(0, 1))
        assert np.all(np.isfinite(srcad.hessian(left_to_right_hmm, wrt=1)(
            np.array([0.6, 0.7]), np.array([-1.0, 0.0, 1.5]), x)))


def test_a_log_of_an_exact_zero_has_a_zero_tangent():
    """Round 63a: the tangent of np.log (log1p, log2) at an entry that is 0 and stays 0
    read 0 / 0: nan in jvp and in the Hessian; it is 0."""
    p = np.array([0.3, 0.6])
    with np.errstate(divide="ignore", invalid="ignore"):
        _, tangent = srcad.jvp(exp_of_log, (p,), (np.array([1.0, 1.0]),))
        hessian = srcad.hessian(exp_of_log)(p)
        gradient = srcad.grad(exp_of_log)(p)
    np.testing.assert_allclose(gradient, [3.0, 3.0], rtol=1e-14)  # (the sum is 3 (p0 + p1))
    assert tangent == pytest.approx(6.0, rel=1e-14)
    np.testing.assert_allclose(hessian, np.zeros((2, 2)), atol=1e-12)


def square_of_abs(x):
    return abs(x) ** 2 + math.cos(x)


def squares_of_abs(x):
    return np.sum(np.abs(x) ** 2 * np.array([1.0, 2.0]))


def test_the_square_of_abs_is_smooth_at_zero():
    """Found by CI's random programs (stop 43): through abs, the slope of |x|^2 is
    2 |x| sign(x), whose own slope at 0 is 0: the second derivative was 0, not 2.
    ``abs(x) ** 2`` is one gate with the slope 2 x."""
    assert srcad.hessian(square_of_abs)(0.0) == pytest.approx(1.0, rel=1e-15)
    assert srcad.grad(srcad.grad(square_of_abs))(0.0) == pytest.approx(1.0, rel=1e-15)
    np.testing.assert_allclose(
        srcad.hessian(squares_of_abs)(np.array([0.0, 0.0])), np.diag([2.0, 4.0]), atol=1e-15
    )
    check_four_ways(square_of_abs, -0.3)
    check_four_ways(squares_of_abs, np.array([0.4, -1.2]))


def _safe_divide(numerator, denominator):
    zero = denominator == 0
    return np.where(zero, 0.0, numerator / np.where(zero, 1.0, denominator))


def _norm_or_power(x, order):
    distance = np.sum(np.abs(x) ** order) ** (1.0 / order)
    if order == 2.0:
        slope = _safe_divide(x, distance)
    else:
        slope = _safe_divide(np.abs(x) ** (order - 1) * np.sign(x), distance ** (order - 1))
    return np.sum(slope * x)


@pytest.mark.parametrize("order", [2.0, 3.0])
def test_one_value_selected_in_either_branch(order):
    """A value masked by ``np.where`` in both branches of an ``if``, by a condition each
    branch binds (scipy's cdist: ``zero`` and ``zero_1``). Round 64a: the gradient read
    the mask of the branch that did not run: UnboundLocalError in hessian and hvp."""
    x = np.array([0.5, -1.0, 2.0])
    check_four_ways(_norm_or_power, x, order, wrt="x")
    g = srcad.grad(_norm_or_power)
    h, v = 1e-5, np.array([1.0, -0.5, 0.25])
    want = (g(x + h * v, order) - g(x - h * v, order)) / (2 * h)
    np.testing.assert_allclose(srcad.hvp(_norm_or_power)(x, order, v), want, rtol=1e-6)


_DESIGN = np.array([[1.0, 2.0], [0.5, -1.0], [1.5, 0.3]])
_TARGET = np.array([1.0, 0.0, 2.0])


def ridge(w):
    return np.sum((_DESIGN @ w - _TARGET) ** 2) + 0.1 * np.linalg.norm(w) ** 2


def row_energies(W):
    return np.sum(np.linalg.norm(W, axis=1) ** 2.0) + np.hypot(W[0, 0], W[0, 1]) ** 2


def spread(x):
    return np.std(x) ** 2 + math.hypot(x[0], x[1]) ** 2


def test_squares_of_norms_have_their_second_derivative_at_zero():
    # (the norm's gradient at 0 is a subgradient, 0, and its second derivative was 0 there:
    # a ridge penalty's Hessian at zero weights lost its 0.2 I; hypot's gave nan; round 71a)
    w = np.zeros(2)
    check_four_ways(ridge, w)
    exact = 2 * _DESIGN.T @ _DESIGN + 0.2 * np.eye(2)
    assert np.allclose(srcad.hessian(ridge)(w), exact, rtol=1e-12, atol=0)
    assert np.allclose(srcad.hvp(ridge)(w, np.array([1.0, -1.0])), exact @ [1.0, -1.0])
    W = np.array([[0.0, 0.0], [1.0, -2.0], [0.5, 0.25]])
    check_four_ways(row_energies, W)
    H = srcad.hessian(row_energies)(W).reshape(6, 6)
    assert np.allclose(H, np.diag([4.0, 4.0, 2.0, 2.0, 2.0, 2.0]), rtol=1e-12, atol=0)
    x = np.array([0.0, 0.0, 0.0])  # (every item the same: the deviation is 0)
    check_four_ways(spread, np.array([0.3, -0.2, 0.5]))
    variance = 2.0 / 3.0 * (np.eye(3) - 1.0 / 3.0)
    assert np.allclose(srcad.hessian(spread)(x), variance + np.diag([2.0, 2.0, 0.0]), atol=1e-12)


def frobenius_squared(A):
    return np.linalg.norm(A, axis=None) ** 2  # (axis given as its default: all items)


def variance_with_no_degrees_of_freedom(x):
    return np.var(x, ddof=len(x))  # (numpy: inf, with a warning)


def test_squared_norm_with_axis_none_and_a_variance_over_zero_degrees():
    # (round 72a: np.expand_dims(g, None) raised TypeError in the first; the second's
    # rule divided Python ints: ZeroDivisionError where numpy gives inf)
    A = np.array([[1.0, 2.0], [3.0, 0.5]])
    check_four_ways(frobenius_squared, A)
    assert np.allclose(srcad.grad(frobenius_squared)(A), 2 * A)
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.isinf(variance_with_no_degrees_of_freedom(np.array([0.5, -1.0, 2.0])))
        grad = srcad.grad(variance_with_no_degrees_of_freedom)(np.array([0.5, -1.0, 2.0]))
    assert np.isinf(grad[1]) and np.isinf(grad[2])


# --- pieces whose kinks cancel: ties split, the stable softplus's tail one gate -----------
LOGITS = np.array([[1.0, 0.5], [0.2, -0.3], [1.0, 1.0]])
LABELS = np.array([1.0, 0.0, 1.0])


def stable_logistic_loss(w):
    """The logistic loss as PyTorch's BCE-with-logits computes it."""
    z = LOGITS @ w
    return np.sum(np.maximum(z, 0) - z * LABELS + np.log1p(np.exp(-np.abs(z))))


def stable_softplus_of_floats(z):
    return max(z, 0.0) + math.log(1 + math.exp(-abs(z)))


def max_plus_min(a, b):
    return np.maximum(a, b) + min(a, b)


def test_pieces_whose_kinks_cancel_have_the_smooth_wholes_derivatives():
    """Round 75a: a tie of max/min sent the whole gradient to the first argument while
    abs'(0) = 0, so the stable logistic loss at z = 0 had gradient 1 - y (true 0.5 - y)
    and Hessian 0 (true sigmoid'(0) X^T X: Newton from zero weights failed)."""
    w = np.zeros(2)
    z = LOGITS @ w
    sigmoid = 1.0 / (1.0 + np.exp(-z))
    np.testing.assert_allclose(srcad.grad(stable_logistic_loss)(w), LOGITS.T @ (sigmoid - LABELS),
                               rtol=1e-14)
    np.testing.assert_allclose(srcad.hessian(stable_logistic_loss)(w),
                               0.25 * LOGITS.T @ LOGITS, rtol=1e-14)
    assert srcad.grad(stable_softplus_of_floats)(0.0) == 0.5
    assert srcad.hessian(stable_softplus_of_floats)(0.0) == pytest.approx(0.25, rel=1e-14)
    assert tuple(srcad.grad(max_plus_min, wrt=(0, 1))(1.5, 1.5)) == (1.0, 1.0)
    for at in (np.array([0.3, -0.7]), np.array([-2.0, 1.0])):  # (away from 0)
        check_four_ways(stable_logistic_loss, at)
    for at in (-1.3, 0.4, 30.0):
        check_four_ways(stable_softplus_of_floats, at)
        h = srcad.hessian(stable_softplus_of_floats)(at)
        assert h == pytest.approx(0.25 / math.cosh(0.5 * at) ** 2, rel=1e-12)


def clipped_logistic_loss(w):
    z = LOGITS @ w
    return np.sum(np.clip(z, 0.0, None) - z * LABELS + np.log1p(np.exp(-np.abs(z))))


def clipped_between(x, low, high):
    return np.sum(np.clip(x, low, high) * np.array([1.0, 2.0, 3.0]))


def test_a_tie_of_clip_is_split_as_maximum_and_minimum_split_theirs():
    """Round 76a: np.clip(z, 0, None) as the stable loss's relu gave the whole gradient
    to z at 0 (1 - y); clip is minimum(maximum(x, low), high), each tie halved."""
    w = np.zeros(2)
    want = LOGITS.T @ (0.5 - LABELS)
    np.testing.assert_allclose(srcad.grad(clipped_logistic_loss)(w), want, rtol=1e-14)
    x = np.array([-1.0, 0.5, 2.0])  # (a tie at each bound, one inside)
    dx, dlow, dhigh = srcad.grad(clipped_between, wrt=(0, 1, 2))(x, -1.0, 2.0)
    np.testing.assert_array_equal(dx, [0.5, 2.0, 1.5])
    assert (dlow, dhigh) == (0.5, 1.5)
    _, tangent = srcad.jvp(clipped_between, (x, -1.0, 2.0), (np.ones(3), 1.0, 1.0))
    assert tangent == pytest.approx(0.5 + 2.0 + 1.5 + 0.5 + 1.5)
    check_four_ways(clipped_between, np.array([-1.5, 0.5, 2.5]), -1.0, 2.0)


# ---------------------------------------------------------------- squares of roots kept in a name
# (the square of a norm, hypotenuse, square root or absolute value kept in a variable
# first: its Hessian at the origin was 0 or nan, not 2 I; the one-expression spellings
# above have their own rules, see srcad.squares)
def norm_kept_squared(x):
    n = np.linalg.norm(x)
    return n**2


def norm_kept_times_itself(x):
    n = np.linalg.norm(x)
    return n * n


def ridge_kept(w):
    n = np.linalg.norm(w)
    pen = 0.3 * n * n  # ((0.3 * n) * n)
    return np.sum((_DESIGN @ w - _TARGET) ** 2) + pen + 0.0 * n  # (n read elsewhere too)


def rbf_with_lengthscale(x):
    r = np.linalg.norm(x)
    return np.exp(-((r / 1.7) ** 2))


def scaled_norm_squared(x):
    n = np.linalg.norm(x)
    return (2.5 * n) ** 2 + n * (0.5 * n) + np.square(n)


def sqrt_of_sum_kept(x):
    r = np.sqrt(np.sum(x * x))
    return r**2


def two_square_roots(x):
    s = np.sum(x * x)
    return np.sqrt(s) * np.sqrt(s)


def math_roots_kept(x):
    r = math.sqrt(x[0] * x[0] + x[1] * x[1])
    h = math.hypot(x[0], x[1], x[2])
    return r**2 + h * h


def abs_kept(x):
    a = np.abs(x)
    b = abs(x[0])
    return np.sum(a**2) + b * b


def row_norms_kept(X):
    n = np.linalg.norm(X, axis=1)
    return np.sum(0.5 * n * n)


_KEPT_SQUARES = [
    (norm_kept_squared, 2.0 * np.eye(3)),
    (norm_kept_times_itself, 2.0 * np.eye(3)),
    (rbf_with_lengthscale, -2.0 / 1.7**2 * np.eye(3)),
    (scaled_norm_squared, (12.5 + 1.0 + 2.0) * np.eye(3)),
    (sqrt_of_sum_kept, 2.0 * np.eye(3)),
    (two_square_roots, 2.0 * np.eye(3)),
    (math_roots_kept, np.diag([4.0, 4.0, 2.0])),
    (abs_kept, np.diag([4.0, 2.0, 2.0])),
]


def _central_hessian(f, x, eps=1e-5):
    grad = srcad.grad(f)
    columns = []
    for k in range(x.size):
        step = np.zeros(x.size)
        step[k] = eps
        step = step.reshape(x.shape)
        columns.append(np.ravel(grad(x + step) - grad(x - step)) / (2 * eps))
    return np.array(columns).T


@pytest.mark.parametrize("f, at_zero", _KEPT_SQUARES, ids=[f.__name__ for f, _ in _KEPT_SQUARES])
def test_a_square_of_a_root_kept_in_a_name_has_its_second_derivative_at_zero(f, at_zero):
    x = np.array([0.4, -0.3, 0.7])
    check_four_ways(f, x)
    np.testing.assert_allclose(srcad.hessian(f)(x), _central_hessian(f, x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(srcad.hessian(f)(np.zeros(3)), at_zero, rtol=1e-12, atol=1e-12)
    v = np.array([1.0, -2.0, 0.5])  # (forward over reverse along a direction)
    np.testing.assert_allclose(srcad.hvp(f)(np.zeros(3), v), at_zero @ v, rtol=1e-12, atol=1e-12)


def test_a_ridge_penalty_kept_in_a_name_keeps_its_newton_step_at_zero_weights():
    w = np.zeros(2)
    exact = 2 * _DESIGN.T @ _DESIGN + 0.6 * np.eye(2)
    check_four_ways(ridge_kept, np.array([0.2, -0.4]))
    np.testing.assert_allclose(srcad.hessian(ridge_kept)(w), exact, rtol=1e-12, atol=0)
    step = np.linalg.solve(srcad.hessian(ridge_kept)(w), -srcad.grad(ridge_kept)(w))
    want = np.linalg.solve(_DESIGN.T @ _DESIGN + 0.3 * np.eye(2), _DESIGN.T @ _TARGET)
    np.testing.assert_allclose(step, want, rtol=1e-12)  # (one Newton step: the minimum)
    X = np.array([[0.4, -0.3], [0.7, 0.1], [0.2, 0.5]])
    check_four_ways(row_norms_kept, X)
    H = srcad.hessian(row_norms_kept)(np.zeros((3, 2))).reshape(6, 6)
    np.testing.assert_allclose(H, np.eye(6), rtol=1e-12, atol=1e-12)


def hypot_of_floats_kept(w0, w1):
    r = math.hypot(w0, w1)
    return r**2


def half_square_of_floats(w0, w1):
    r = math.sqrt(w0 * w0 + w1 * w1)
    a = abs(w1)
    return 0.5 * r * r + 3.0 * a * a


@pytest.mark.parametrize(
    "f, at_zero",
    [(hypot_of_floats_kept, np.diag([2.0, 2.0])), (half_square_of_floats, np.diag([1.0, 7.0]))],
)
def test_squares_of_roots_of_floats_kept_in_a_name(f, at_zero):
    # (the version for floats, and its unrolled Hessian: hypot's gave nan at the origin)
    check_four_ways(f, 0.4, -0.3)
    hessian = srcad.hessian(f, wrt=(0, 1))
    np.testing.assert_allclose(np.array(hessian(0.0, 0.0), dtype=float), at_zero, atol=1e-12)
    got = np.array(hessian(0.4, -0.3), dtype=float)
    grad = srcad.grad(f, wrt=(0, 1))
    eps = 1e-6
    want = np.array([
        (np.array(grad(0.4 + eps, -0.3)) - np.array(grad(0.4 - eps, -0.3))) / (2 * eps),
        (np.array(grad(0.4, -0.3 + eps)) - np.array(grad(0.4, -0.3 - eps))) / (2 * eps),
    ])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def written_after_the_root(x):
    y = x.copy()
    r = np.linalg.norm(y)
    y[0] = 2.0 * y[1]  # (y changes after r: r ** 2 is not |y| ** 2 any more)
    return r**2 + np.linalg.norm(y) ** 2


def rebound_in_a_loop(x):
    r = np.linalg.norm(x)
    total = 0.0
    for _ in range(3):
        total = total + r * r + np.sum(x * x)
        x = 0.5 * x
    return total


def test_a_square_of_a_root_whose_argument_changes_after_it():
    x = np.array([0.4, -0.3, 0.7])
    for f in (written_after_the_root, rebound_in_a_loop):
        check_four_ways(f, x)
        np.testing.assert_allclose(
            srcad.hessian(f)(x), _central_hessian(f, x), rtol=1e-6, atol=1e-7
        )
    want = (6.0 + 2.0 * (1 + 0.25 + 0.0625)) * np.eye(3)
    np.testing.assert_allclose(srcad.hessian(rebound_in_a_loop)(np.zeros(3)), want, atol=1e-12)


def _gaussian_bump(x):
    r = np.linalg.norm(x)
    return np.exp(-r * r / (2 * 0.25))  # (Python reads -r * r as (-r) * r)


def _half_power_of_a_hypotenuse(a, b):
    r = math.hypot(a, b)
    return 0.5 * pow(r, 2) + np.power(np.sqrt(a * a + 1.0), 2)


def test_a_negated_root_times_itself_and_powers_of_two_are_squares():
    # (round 80: exp(-r * r / (2 s2)) had the Hessian 0 at its mode, np.power(r, 2) too)
    np.testing.assert_allclose(srcad.hessian(_gaussian_bump)(np.zeros(3)), -4.0 * np.eye(3),
                               atol=1e-12)
    check_four_ways(_gaussian_bump, np.array([0.3, -0.2, 0.1]))
    hessian = np.array(srcad.hessian(_half_power_of_a_hypotenuse, wrt=(0, 1))(0.0, 0.0),
                       dtype=float)
    np.testing.assert_allclose(hessian, [[3.0, 0.0], [0.0, 1.0]], atol=1e-12)
    check_four_ways(_half_power_of_a_hypotenuse, 0.4, -0.3)


def _spread_kept_in_a_name(w):
    s = np.std(w)
    return s * s + 0.5 * np.std(w) ** 2


def test_a_standard_deviation_kept_in_a_name_then_squared_at_a_constant():
    # (round 80: its Hessian at a constant was nan; np.std(w) ** 2 in one line was right)
    n = 4
    hessian = srcad.hessian(_spread_kept_in_a_name)(np.full(n, 0.7))
    np.testing.assert_allclose(hessian, 1.5 * (np.eye(n) * 2 / n - 2 / n**2), atol=1e-12)
    check_four_ways(_spread_kept_in_a_name, np.array([0.3, -1.0, 0.8, 0.1]))
