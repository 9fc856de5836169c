"""The float version of a loop's gradient with respect to one or two float parameters is
forward mode (srcad/forward_gradient.py): no tape, one pass. Each gradient is checked the
four ways (conftest.check_four_ways) and against exact values where they are known; the
choice between the modes is checked on the generated IR."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import check_four_ways

import srcad
from srcad import ir
from srcad.building import build


def _float_version(f, wrt):
    built = build(f, wrt, "grad", True)
    assert len(built.versions) == 2, "expected a version for Python floats"
    return built.versions[0].ir


def _saves(fn: ir.Function) -> bool:
    """Does the generated function save values for a backward pass?"""
    return any(isinstance(s, ir.Push | ir.Tape) for s in ir.walk(fn.body)) or any(
        isinstance(s, ir.Loop) and s.restores for s in ir.walk(fn.body)
    )


def horner(coefficients, x):
    total = 0.0
    for c in coefficients:
        total = total * x + c
    return total


def compound(rate, years):
    value = 1.0
    for _ in range(years):
        value = value * (1.0 + rate)
    return value


def logistic(r, x):
    for _ in range(200):
        x = r * x * (1.0 - x)
    return x


def first_passage(rate):
    value = 1.0
    for year in range(100):
        value = value * (1.0 + rate)
        if value > 2.0:
            return year + (value - 2.0) / (value * rate)
    return 100.0


def newton_sqrt(a):
    x = a if a > 1.0 else 1.0
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x


def kalman(q, r, observations):
    mean, var, total = 0.0, 1.0, 0.0
    for z in observations:
        var = var + q
        s = var + r
        innovation = z - mean
        total = total - 0.5 * (math.log(2.0 * math.pi * s) + innovation * innovation / s)
        gain = var / s
        mean = mean + gain * innovation
        var = (1.0 - gain) * var
    return total


def damped(k, c, steps):
    x, v, dt = 1.0, 0.0, 0.01
    for _ in range(steps):
        a = -k * x - c * v
        x, v = x + dt * v, v + dt * a
        if abs(x) < 1e-3:
            break
    return x * x + v * v


def relaxed(x, rate):
    for _ in range(20):
        x -= rate * math.sin(x)  # (a number's -=: a new number, the caller's is left)
    return x


def powered(base, exponent):
    total = 0.0
    for k in range(5):
        total = total + base ** (exponent + 0.1 * k)
    return total


COEFFICIENTS = [0.5, -1.0, 2.0, 0.25, -0.75, 1.5]
OBSERVATIONS = [math.sin(0.3 * k) + 0.1 * k for k in range(20)]


@pytest.mark.parametrize("f, args, wrt", [
    (horner, (COEFFICIENTS, 0.7), "x"),
    (compound, (0.05, 30), "rate"),
    (logistic, (3.2, 0.3), "r"),
    (logistic, (3.2, 0.3), ("r", "x")),
    (first_passage, (0.07,), "rate"),
    (newton_sqrt, (2.5,), "a"),
    (damped, (4.0, 0.3, 300), "k"),
    (relaxed, (2.0, 0.3), "x"),
    (relaxed, (2.0, 0.3), ("x", "rate")),
])
def test_a_loop_of_few_float_parameters_is_differentiated_forward(f, args, wrt):
    names = (wrt,) if isinstance(wrt, str) else wrt
    assert not _saves(_float_version(f, names))
    check_four_ways(f, *args, wrt=wrt)


def test_exact_values():
    """Horner's derivative is the polynomial's derivative; compound interest's is
    years * (1 + rate) ** (years - 1); Newton's square root's is 1 / (2 sqrt(a))."""
    x = 0.7
    want = sum(k * c * x ** (k - 1) for k, c in enumerate(reversed(COEFFICIENTS)) if k)
    assert srcad.grad(horner, wrt="x")(COEFFICIENTS, x) == pytest.approx(want, rel=1e-14)
    assert srcad.grad(compound)(0.05, 30) == pytest.approx(30 * 1.05 ** 29, rel=1e-13)
    assert srcad.grad(newton_sqrt)(2.5) == pytest.approx(0.5 / math.sqrt(2.5), rel=1e-10)


def test_value_and_grad_gives_the_functions_value():
    value, gradient = srcad.value_and_grad(logistic, wrt=("r", "x"))(3.2, 0.3)
    assert value == logistic(3.2, 0.3)
    hand = _logistic_by_hand(3.2, 0.3)
    assert gradient == pytest.approx(hand, rel=1e-12)


def _logistic_by_hand(r, x):
    xs = []
    for _ in range(200):
        xs.append(x)
        x = r * x * (1.0 - x)
    dx, dr = 1.0, 0.0
    for x in reversed(xs):
        dr += dx * x * (1.0 - x)
        dx *= r * (1.0 - 2.0 * x)
    return dr, dx


def test_reverse_mode_where_it_costs_less():
    """Two parameters that every line of the loop depends on (a Kalman filter's noise
    variances): forward mode would carry two tangents of every value; three parameters
    and more always take reverse mode; so does code without loops."""
    assert _saves(_float_version(kalman, ("q", "r")))
    assert not _saves(_float_version(kalman, ("q",)))
    check_four_ways(kalman, 0.1, 0.5, OBSERVATIONS, wrt=("q", "r"))

    def three(a, b, c):
        for _ in range(10):
            a = a * b + c
        return a

    assert _saves(_float_version(three, ("a", "b", "c")))


def test_an_exponent_takes_the_slopes_reverse_mode_takes():
    """``x ** y`` with a moving exponent: its tangent template is numpy code for arrays
    (exponent_tangent, which numba does not compile); the float version's forward mode
    takes the adjoint template's slope instead (exponent_slope), as reverse mode does."""
    from srcad.runtime import exponent_tangent

    for wrt in ("exponent", "base"):
        version = _float_version(powered, (wrt,))
        assert not _saves(version)
        assert exponent_tangent not in version.bindings.values()
        check_four_ways(powered, 1.3, 0.7, wrt=wrt)
    compiled = srcad.grad(powered, wrt="exponent", backend="numba")(1.3, 0.7)
    assert compiled == pytest.approx(srcad.grad(powered, wrt="exponent")(1.3, 0.7), rel=1e-12)


def test_numpy_numbers_and_arrays_take_the_array_version():
    """The float version's check sends anything but Python numbers to the array version
    (reverse mode), which gives the same gradient."""
    by_floats = srcad.grad(logistic, wrt=("r", "x"))(3.2, 0.3)
    by_arrays = srcad.grad(logistic, wrt=("r", "x"))(np.array(3.2), np.array(0.3))
    assert np.allclose(np.asarray(by_arrays, dtype=float), by_floats, rtol=1e-12, atol=0.0)


def test_second_derivatives_of_a_forward_gradient():
    """grad of grad and the Hessian of a loop whose gradient is forward mode, against
    central differences of the gradient."""
    dd = srcad.grad(srcad.grad(compound))(0.05, 30)
    assert dd == pytest.approx(30 * 29 * 1.05 ** 28, rel=1e-11)
    hessian = np.asarray(srcad.hessian(logistic, wrt=(0, 1))(3.2, 0.3))
    step = 1e-6
    g = srcad.grad(logistic, wrt=(0, 1))
    columns = [
        (np.array(g(3.2 + step, 0.3)) - np.array(g(3.2 - step, 0.3))) / (2 * step),
        (np.array(g(3.2, 0.3 + step)) - np.array(g(3.2, 0.3 - step))) / (2 * step),
    ]
    assert np.allclose(hessian, np.array(columns).T, rtol=1e-5, atol=1e-7)


def test_the_listing_names_derivatives_after_the_parameter():
    source = srcad.grad(horner, wrt="x").backward_source
    assert "total_dx = " in source and "reversed(" not in source.split("# the same")[0]


def test_the_numba_backend_compiles_a_forward_gradient():
    pytest.importorskip("numba")
    compiled = srcad.grad(logistic, wrt=("r", "x"), backend="numba")(3.2, 0.3)
    assert compiled == pytest.approx(_logistic_by_hand(3.2, 0.3), rel=1e-12)


def poles(x):
    s = 1.0
    for i in range(4):
        s = s + 1.0 / (x - i)
    return s


def distance_sum(x):
    total = 0.0
    for k in range(3):
        total = total + math.sqrt(x * x * k)
    return total


def test_the_functions_own_error_is_raised_as_the_function_raises_it():
    """The function's lines run in the same ``try`` as their derivatives: on an error,
    the function runs first, so its own ZeroDivisionError is raised (round 61b: forward
    mode returned (inf, -inf), where the function and reverse mode raise)."""
    with pytest.raises(ZeroDivisionError):
        poles(2.0)
    with pytest.raises(ZeroDivisionError):
        srcad.grad(poles)(2.0)
    with pytest.raises(ZeroDivisionError):
        srcad.value_and_grad(poles)(2.0)
    assert srcad.grad(poles)(2.5) == pytest.approx(-sum(1 / (2.5 - i) ** 2 for i in range(4)))


def test_a_tangent_of_zero_moves_nothing_through_an_infinite_slope():
    """sqrt(x * x * k) at x = 0 is 0.0, where its slope is infinite: forward mode's
    tangent of x * x * k there is 0, and a tangent of 0 moves nothing (0, the subgradient
    abs takes at 0). Reverse mode multiplies the infinite slope by 2 k x = 0: nan, as
    in JAX, then runs again zero-safe (srcad.zero_safe), where 0 * inf is 0: the two
    modes agree (they did not before stop 43)."""
    with np.errstate(all="ignore"):
        forward = srcad.grad(distance_sum)(0.0)
        arrays = srcad.grad(distance_sum)(np.array(0.0))
    assert distance_sum(0.0) == 0.0
    assert forward == 0.0 and float(arrays) == 0.0
    assert srcad.grad(distance_sum)(0.5) == pytest.approx(1.0 + math.sqrt(2.0), rel=1e-15)


def test_an_exported_forward_gradient_runs_without_srcad(tmp_path):
    """The exported module imports the function itself (what the ``try`` runs first)."""
    import importlib.util
    import sys

    path = tmp_path / "poles_grad.py"
    srcad.export(poles, path)
    spec = importlib.util.spec_from_file_location("poles_grad", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(Path(__file__).parent))
    assert "_dx" in path.read_text()
    assert module.poles_grad(2.5) == srcad.grad(poles)(2.5)
    with pytest.raises(ZeroDivisionError):
        module.poles_grad(2.0)


def swapped_then_truncated(x, y, z, w):
    """A truncation after a loop (random programs, forced forward mode): the square
    root's slope is infinite where max(...) chose 0, whose partial is 0."""
    for _ in range(1):
        if 0.5 * w > 0.3183:
            w, z, y = (z, y, w * 0.5)
        else:
            w, z = (z, w)
    return math.sqrt(max(-1.0 - y * y, 0.0)) + 0.5 * z


def test_local_partials_keep_a_zero_partial_through_an_infinite_slope(forward_mode_for_floats):
    """The local partials apply each line's template to the partial it receives, as
    line-by-line tangents apply it to the tangent: sqrt's zero-safe slope of a partial of
    0 is 0. (They multiplied the slope with g = 1, inf, by the partial 0: nan.)"""
    got = srcad.grad(swapped_then_truncated, wrt=(0, 1, 2, 3))(0.0, 0.0, 0.0, 0.0)
    assert got == (0.0, 0.0, 0.0, 0.5)  # (w < 0.6366: z and w swap, z is w)


def bond_price(rate, spread, coupons):
    price, factor = 0.0, 1.0
    discount = 1.0 / (1.0 + rate + spread)
    for cash in coupons:
        factor = factor * discount
        price = price + cash * factor
    return price


def bond_price_spread_taxed(rate, spread, coupons):
    """As bond_price, but the spread is also read alone: the two tangents differ."""
    price, factor = 0.0, 1.0
    discount = 1.0 / (1.0 + rate + spread)
    for cash in coupons:
        factor = factor * discount
        price = price + cash * factor * (1.0 - spread)
    return price


def bond_price_carried_spread(rate, spread, coupons):
    """The sum is formed in the loop from a value that carries the spread: twins again."""
    price, factor, shift = 0.0, 1.0, spread
    for cash in coupons:
        shift = shift * 1.0
        factor = factor / (1.0 + rate + shift)
        price = price + cash * factor
    return price


@pytest.mark.parametrize("f, twins", [
    (bond_price, True), (bond_price_spread_taxed, False), (bond_price_carried_spread, None),
])
def test_parameters_entering_through_their_sum_share_one_tangent(f, twins):
    """``1 + rate + spread``: d/drate and d/dspread are one tangent, computed once, and
    the gradient gives it twice; where the spread is read alone as well, each has its
    own. (None: either form, as long as the gradient is right.)"""
    coupons = [0.05] * 9 + [1.05]
    grad = srcad.grad(f, wrt=("rate", "spread"))
    source = grad.backward_source
    if twins is not None:
        assert ("_dspread" not in source.split("def ")[1]) is twins, source
        assert ("computed once" in source) is twins
    got = check_four_ways(f, 0.03, 0.01, coupons, wrt=("rate", "spread"))
    if f is bond_price:  # -sum k c_k (1 + r + s)^(-k-1), both ways
        want = -sum((k + 1) * c * 1.04 ** (-k - 2) for k, c in enumerate(coupons))
        assert got == pytest.approx((want, want), rel=1e-13)
    if twins is False:
        assert got[0] != pytest.approx(got[1], rel=1e-3)
