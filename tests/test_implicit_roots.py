"""Derivatives through SciPy's scalar root finders by implicit differentiation.

For the root ``r`` of ``f(r, *args) = 0``, ``dr/d args[k] = -(df/d args[k]) / (df/dr)``
at the root (the bracket ``a, b`` and newton's ``x0`` get none). srcad's rules
(srcad/rules/scipy_optimize.py) keep SciPy's root as the value, and take ``f``'s partial
derivatives at run time; a lambda or nested ``def`` given as ``f`` is closure-converted
(srcad/lower/closures.py): the variables it reads are passed through ``args=``.

Tolerances: every root is found with ``xtol=1e-14`` (newton: ``tol=1e-15``), so the
central differences of ``check_four_ways`` (step 1e-6 relative) see a root error of
about 1e-14 / 1e-6 = 1e-8 relative at most; its default rtol=1e-6, atol=1e-8 hold with
room. The exact checks against the analytic implicit derivative are to 1e-12 relative
(srcad's derivative is the formula itself, evaluated at SciPy's root: only rounding
differs).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import warnings

import numpy as np
import pytest

scipy_optimize = pytest.importorskip("scipy.optimize")

from conftest import check_four_ways  # noqa: E402

import srcad  # noqa: E402

EXACT = 1e-12
FINDERS = ("brentq", "brenth", "ridder", "bisect", "toms748")


# ============================================================ Black-Scholes implied volatility


def _norm_cdf(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _call_price(sigma, spot, strike, expiry, rate):
    root_t = math.sqrt(expiry)
    d1 = (math.log(spot / strike) + (rate + 0.5 * sigma * sigma) * expiry) / (sigma * root_t)
    d2 = d1 - sigma * root_t
    return spot * _norm_cdf(d1) - strike * math.exp(-rate * expiry) * _norm_cdf(d2)


def _price_gap(sigma, price, spot, strike, expiry, rate):
    return _call_price(sigma, spot, strike, expiry, rate) - price


def implied_vol(price, strike, spot, expiry, rate):
    return scipy_optimize.brentq(
        _price_gap, 1e-4, 5.0, args=(price, spot, strike, expiry, rate), xtol=1e-14
    )


def test_implied_volatility_in_price_and_strike():
    """The implied volatility's slopes in the option's price (1/vega) and its strike
    (e^{-rT} N(d2) / vega): central differences, and the formulas exactly."""
    price, strike, spot, expiry, rate = 10.45, 100.0, 100.0, 1.0, 0.05
    d_price, d_strike = check_four_ways(implied_vol, price, strike, spot, expiry, rate,
                                        wrt=("price", "strike"))
    sigma = implied_vol(price, strike, spot, expiry, rate)
    d1 = (math.log(spot / strike) + (rate + 0.5 * sigma**2) * expiry) / (sigma * math.sqrt(expiry))
    d2 = d1 - sigma * math.sqrt(expiry)
    vega = spot * math.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi) * math.sqrt(expiry)
    assert d_price == pytest.approx(1.0 / vega, rel=EXACT)
    assert d_strike == pytest.approx(math.exp(-rate * expiry) * _norm_cdf(d2) / vega, rel=EXACT)


def test_implied_volatility_value_is_scipys():
    """The function's value is SciPy's root itself, bit for bit."""
    args = (8.0, 105.0, 100.0, 0.5, 0.01)
    value, _ = srcad.value_and_grad(implied_vol)(*args)
    assert value == implied_vol(*args)


# ============================================================ a bond's yield (newton, secant)


def _bond_price(y, coupon, face, years):
    total = 0.0
    for t in range(1, years + 1):
        total += coupon / (1.0 + y) ** t
    return total + face / (1.0 + y) ** years


def _price_error(y, price, coupon, face, years):
    return _bond_price(y, coupon, face, years) - price


def bond_yield(price, coupon, face):
    return scipy_optimize.newton(_price_error, 0.05, args=(price, coupon, face, 10), tol=1e-15)


def test_bond_yield_from_its_price():
    """Newton's secant iteration (no fprime) from x0=0.05; the yield's slope in the price
    is 1 / (dP/dy) at the yield; an int in args (the years) gets no gradient."""
    price, coupon, face = 95.0, 4.0, 100.0
    d_price, d_coupon, d_face = check_four_ways(bond_yield, price, coupon, face)
    y = bond_yield(price, coupon, face)
    slope = sum(-t * coupon / (1 + y) ** (t + 1) for t in range(1, 11)) - 10 * face / (1 + y) ** 11
    assert d_price == pytest.approx(1.0 / slope, rel=EXACT)
    assert d_coupon == pytest.approx(-sum((1 + y) ** -t for t in range(1, 11)) / slope, rel=EXACT)
    assert d_face == pytest.approx(-((1 + y) ** -10) / slope, rel=EXACT)


# ===================================================== Kepler's equation (newton with fprime)


def _kepler(E, e, M):
    return E - e * math.sin(E) - M


def _kepler_prime(E, e, M):
    return 1.0 - e * math.cos(E)


def true_anomaly_cosine(e, M):
    E = scipy_optimize.newton(_kepler, M, fprime=_kepler_prime, args=(e, M), tol=1e-15)
    return (math.cos(E) - e) / (1.0 - e * math.cos(E))


def eccentric_anomaly(e, M):
    return scipy_optimize.newton(_kepler, M, fprime=_kepler_prime, args=(e, M), tol=1e-15)


def test_kepler_equation_by_newton():
    """E - e sin E = M: dE/dM = 1/(1 - e cos E), dE/de = sin E/(1 - e cos E); and a
    function of E after it."""
    e, M = 0.3, 1.1
    d_e, d_M = check_four_ways(eccentric_anomaly, e, M)
    E = eccentric_anomaly(e, M)
    assert d_M == pytest.approx(1.0 / (1.0 - e * math.cos(E)), rel=EXACT)
    assert d_e == pytest.approx(math.sin(E) / (1.0 - e * math.cos(E)), rel=EXACT)
    check_four_ways(true_anomaly_cosine, e, M)


# ============================================================ every bracketing finder


def _cubic(r, theta, shift):
    return r**3 + theta * r - shift


def depressed_cubic_brentq(theta, shift):
    return scipy_optimize.brentq(_cubic, 0.0, 5.0, args=(theta, shift), xtol=1e-14)


def depressed_cubic_brenth(theta, shift):
    return scipy_optimize.brenth(_cubic, 0.0, 5.0, args=(theta, shift), xtol=1e-14)


def depressed_cubic_ridder(theta, shift):
    return scipy_optimize.ridder(_cubic, 0.0, 5.0, args=(theta, shift), xtol=1e-14)


def depressed_cubic_bisect(theta, shift):
    return scipy_optimize.bisect(_cubic, 0.0, 5.0, args=(theta, shift), xtol=1e-14)


def depressed_cubic_toms748(theta, shift):
    return scipy_optimize.toms748(_cubic, 0.0, 5.0, args=(theta, shift), xtol=1e-14)


@pytest.mark.parametrize("name", FINDERS)
def test_each_bracketing_finder(name):
    """r^3 + theta r = shift: dr/dtheta = -r/(3r^2 + theta), dr/dshift = 1/(3r^2 + theta),
    through each of brentq, brenth, ridder, bisect and toms748."""
    f = globals()[f"depressed_cubic_{name}"]
    theta, shift = 1.3, 2.0
    d_theta, d_shift = check_four_ways(f, theta, shift)
    r = f(theta, shift)
    assert d_theta == pytest.approx(-r / (3 * r * r + theta), rel=EXACT)
    assert d_shift == pytest.approx(1.0 / (3 * r * r + theta), rel=EXACT)


# ============================================================ internal rate of return


def _npv(rate, flows):
    times = np.arange(len(flows))
    return np.sum(flows / (1.0 + rate) ** times)


def internal_rate_of_return(flows):
    return scipy_optimize.brentq(_npv, -0.5, 1.0, args=(flows,), xtol=1e-14)


def _npv_of_list(rate, flows, scale):
    total = 0.0
    for k in range(len(flows)):
        total += flows[k] / (1.0 + rate) ** k
    return scale * total


def irr_of_three(first, second, third):
    return scipy_optimize.toms748(_npv_of_list, -0.5, 1.0, args=([first, second, third], 2.0),
                                  xtol=1e-14)


def test_internal_rate_of_return_of_an_array_of_flows():
    """An array in args gets an array gradient: -(dNPV/dflow_t)/(dNPV/drate) per flow."""
    flows = np.array([-100.0, 30.0, 40.0, 50.0])
    (d_flows,) = check_four_ways(internal_rate_of_return, flows)
    rate = internal_rate_of_return(flows)
    t = np.arange(4)
    slope = np.sum(-t * flows / (1 + rate) ** (t + 1))
    np.testing.assert_allclose(d_flows, -((1 + rate) ** -t) / slope, rtol=EXACT)


def test_internal_rate_of_return_of_a_list_in_args():
    """A list of differentiated numbers in args: one gradient per item."""
    check_four_ways(irr_of_three, -100.0, 60.0, 70.0)


# ============================================================ lambdas and nested defs (closures)


def _demand(p, a, b):
    return a - b * p


def equilibrium_price(a, b, c, d):
    return scipy_optimize.brentq(lambda p: _demand(p, a, b) - (c + d * p), 0.0, 100.0,
                                 xtol=1e-14)


def equilibrium_revenue(a, b, c, d):
    scale = 2.0

    def excess_demand(p, k):
        supply = c + d * p
        return k * (_demand(p, a, b) - supply)

    p = scipy_optimize.brentq(excess_demand, 0.0, 100.0, args=(scale,), xtol=1e-14)
    return p * _demand(p, a, b)


def kepler_by_lambdas(e, M):
    return scipy_optimize.newton(lambda E: E - e * math.sin(E) - M, M,
                                 fprime=lambda E: 1.0 - e * math.cos(E), tol=1e-15)


def test_equilibrium_with_a_lambda_closing_over_parameters():
    """Supply c + d p meets demand a - b p at p = (a - c)/(b + d): the lambda reads the
    parameters, which srcad passes to SciPy through args= and differentiates."""
    a, b, c, d = 10.0, 1.0, 2.0, 0.5
    grads = check_four_ways(equilibrium_price, a, b, c, d)
    p = (a - c) / (b + d)
    want = (1 / (b + d), -p / (b + d), -1 / (b + d), -p / (b + d))
    np.testing.assert_allclose(grads, want, rtol=EXACT)
    assert equilibrium_price(a, b, c, d) == srcad.value_and_grad(equilibrium_price)(a, b, c, d)[0]


def test_nested_def_with_its_own_args():
    """A nested def with a parameter of its own given by args=, reading the function's
    variables too; the root used after the call."""
    check_four_ways(equilibrium_revenue, 10.0, 1.0, 2.0, 0.5)


def test_newton_with_lambdas_for_func_and_fprime():
    d_e, d_M = check_four_ways(kepler_by_lambdas, 0.3, 1.1)
    E = kepler_by_lambdas(0.3, 1.1)
    assert d_M == pytest.approx(1.0 / (1.0 - 0.3 * math.cos(E)), rel=EXACT)
    assert d_e == pytest.approx(math.sin(E) / (1.0 - 0.3 * math.cos(E)), rel=EXACT)


def roots_in_a_loop(thetas):
    total = 0.0
    for theta in thetas:
        total += scipy_optimize.brentq(lambda r: r**3 + theta * r - 2.0, 0.0, 5.0,  # noqa: B023
                                       xtol=1e-14)  # (called here, inside the loop)
    return total


def test_root_inside_a_loop():
    """A lambda made in a loop reads the loop's variable: each call its current value."""
    thetas = np.array([1.0, 2.0, 0.5])
    (d_thetas,) = check_four_ways(roots_in_a_loop, thetas)
    roots = [scipy_optimize.brentq(lambda r, t=t: r**3 + t * r - 2.0, 0.0, 5.0, xtol=1e-14)
             for t in thetas]
    np.testing.assert_allclose(d_thetas, [-r / (3 * r * r + t) for r, t in zip(roots, thetas)],
                               rtol=EXACT)


def root_by_keywords(theta):
    return scipy_optimize.brentq(f=lambda r, s: r**3 - s * theta, a=0.0, b=5.0, args=(2.0,),
                                 xtol=1e-14)


def test_function_and_bracket_by_keyword():
    (d_theta,) = check_four_ways(root_by_keywords, 1.3)
    assert d_theta == pytest.approx((2.0 / 3.0) * 2.0 ** (-2 / 3) * 1.3 ** (-2 / 3), rel=EXACT)


# ============================================================ refusals


def _with_full_output(theta, shift):
    return scipy_optimize.brentq(_cubic, 0.0, 5.0, args=(theta, shift), full_output=True)[0]


def _with_disp(theta, shift):
    return scipy_optimize.brentq(_cubic, 0.0, 5.0, args=(theta, shift), disp=False)


def test_full_output_and_disp_are_refused_at_the_line():
    """full_output=True (a tuple with SciPy's RootResults) and disp=False (a root that
    may not have converged) have no rule."""
    for f, keyword in ((_with_full_output, "full_output"), (_with_disp, "disp")):
        with pytest.raises(srcad.SrcadError, match=keyword) as info:
            srcad.grad(f)(1.3, 2.0)
        assert info.value.lineno == f.__code__.co_firstlineno + 1


def _vector_newton(theta):
    roots = scipy_optimize.newton(_cubic, np.array([1.0, 1.5]), args=(theta, 2.0), tol=1e-15)
    return roots[0] + roots[1]


def test_newton_of_several_equations_is_refused():
    with pytest.raises(srcad.SrcadError, match="one scalar equation") as info:
        srcad.grad(_vector_newton)(1.3)
    assert info.value.lineno == _vector_newton.__code__.co_firstlineno + 1


def test_second_derivative_is_refused_at_the_line():
    """The tangent's helper takes f's gradient at run time, which srcad cannot
    differentiate again: the Hessian is refused at the root finder's line, naming it."""
    for f in (depressed_cubic_brentq, equilibrium_price):
        with pytest.raises(srcad.SrcadError, match="second derivative.*brentq") as info:
            srcad.hessian(f)(1.3, 2.0) if f is depressed_cubic_brentq else srcad.hessian(f)(
                10.0, 1.0, 2.0, 0.5)
        assert info.value.lineno == f.__code__.co_firstlineno + 1
    # (round 88: grad of grad stopped in the generated gradient, and said so there)
    with pytest.raises(srcad.SrcadError, match="second derivative.*brentq") as info:
        srcad.grad(srcad.grad(depressed_cubic_brentq))(1.3, 2.0)
    assert info.value.filename == __file__
    assert info.value.lineno == depressed_cubic_brentq.__code__.co_firstlineno + 1


def _refused_inside_the_lambda(theta):
    return scipy_optimize.brentq(
        lambda r: np.partition(np.array([r - theta, 2.0, 3.0]), 0)[0], -5.0, 5.0)


def _reads_a_local_function(theta):
    def shape(r):
        return r * r

    return scipy_optimize.brentq(lambda r: shape(r) - theta, 0.0, 5.0)


def _args_held_by_a_name(theta, extra):
    pair = (extra,)
    return scipy_optimize.brentq(lambda r, k: k * r - theta, 0.0, 5.0, args=pair)


def _global_fprime_with_a_lambda(e, M):
    return scipy_optimize.newton(lambda E: E - e * math.sin(E) - M, M, fprime=math.cos)


def _imported_inside(theta):
    from math import sin

    return scipy_optimize.brentq(lambda r: r + 0.5 * sin(r) - theta, -5.0, 5.0)


def test_error_inside_a_lambda_points_at_the_users_line():
    with pytest.raises(srcad.SrcadError, match="numpy.partition") as info:
        srcad.grad(_refused_inside_the_lambda)(1.3)
    assert info.value.filename == __file__
    assert info.value.lineno == _refused_inside_the_lambda.__code__.co_firstlineno + 2


def test_a_lambda_calling_a_function_of_the_code():
    """(Refused before stop 52, "reads `shape`, a function defined in the differentiated
    code".) The made function carries `shape` as a nested def: the root of r^2 = theta."""
    (d,) = check_four_ways(_reads_a_local_function, 1.3)
    assert d == pytest.approx(0.5 / math.sqrt(1.3), rel=1e-9)


@pytest.mark.parametrize("f, args, match, line", [
    (_args_held_by_a_name, (1.3, 2.0), "not written as a tuple", 2),
    (_global_fprime_with_a_lambda, (0.3, 1.1), "`math.cos`, which is not one", 1),
    (_imported_inside, (1.3,), "reads `sin`, imported", 3),
])
def test_unsupported_closures_are_refused_at_the_line(f, args, match, line):
    with pytest.raises(srcad.SrcadError, match=match) as info:
        srcad.grad(f)(*args)
    assert info.value.lineno == f.__code__.co_firstlineno + line


def _lambda_to_another_library_routine(theta):
    return scipy_optimize.least_squares(lambda r: r - theta, np.zeros(1)).x[0]


def _lambda_to_minimize(theta):
    return scipy_optimize.minimize(lambda r: (r[0] - theta) ** 2, np.zeros(1)).x[0]


def test_a_lambda_given_to_another_routine_is_still_refused():
    with pytest.raises(srcad.SrcadError, match="this lambda is a function defined"):
        srcad.grad(_lambda_to_another_library_routine)(1.3)
    assert srcad.grad(_lambda_to_minimize)(1.3) == pytest.approx(1.0)  # (it was refused)


# ---------------------------------------------------------------- round 85


@dataclasses.dataclass
class _Market:
    a: float
    b: float


def _clearing_price_of_a_market(m: _Market):
    return scipy_optimize.brentq(lambda p: m.a - m.b * p - p ** 3, -10.0, 10.0, xtol=1e-15) ** 2


def _clearing_price_of_a_dict(m):
    return scipy_optimize.brentq(lambda p: m["a"] - m["b"] * p - p ** 3, -10.0, 10.0,
                                 xtol=1e-15) ** 2


def _weighted_residual(x, ws):
    return 2.5 * x - np.cos(ws[0] @ ws[1] * x)


def _root_of_a_list_of_arrays(a, b):
    return scipy_optimize.brentq(_weighted_residual, -5.0, 5.0, args=([a, b],), xtol=1e-15)


def _cos_residual(x, a):
    return 2.5 * x - np.cos(a * x)


def _root_of_a_bare_argument(a):
    return scipy_optimize.brentq(_cos_residual, -5.0, 5.0, args=a, xtol=1e-15)


def _root_of_a_partial(a, b):
    return scipy_optimize.brentq(functools.partial(_cos_residual, a=a * b), -5.0, 5.0)


def test_objects_containers_and_bare_arguments_reach_the_root():
    """(Round 85: a dataclass's or a dict's fields read by the lambda, or a list of
    arrays in args, got a zero gradient; args=a bare raised a TypeError.)"""
    (d,) = check_four_ways(_clearing_price_of_a_market, _Market(1.5, 0.7), rtol=1e-6)
    assert isinstance(d, _Market)
    check_four_ways(_clearing_price_of_a_dict, {"a": 1.5, "b": 0.7}, rtol=1e-6)
    check_four_ways(_root_of_a_list_of_arrays, np.array([1.0, 2.0]), np.array([3.0, 0.5]),
                    rtol=1e-6)
    check_four_ways(_root_of_a_bare_argument, 1.3, rtol=1e-6)


def test_a_function_holding_differentiated_values_is_refused():
    """(Round 85: functools.partial(f, a=...) of differentiated values got a zero gradient.)"""
    with pytest.raises(srcad.SrcadError, match="no derivative in `f`") as caught:
        srcad.grad(_root_of_a_partial, wrt=(0, 1))(0.3, 0.7)
    assert "test_implicit_roots.py" in str(caught.value)


def _jump_residual(x, a):
    return math.floor(x) - a + 0.5


def _root_of_a_jump(a):
    return scipy_optimize.brentq(_jump_residual, 0.3, 2.7, args=(a,))


def test_a_root_where_the_slope_is_zero_is_refused():
    """(Round 86: the bracket held a jump, not a root; the gradient was inf, with a
    numpy warning only.)"""
    with pytest.raises(srcad.SrcadError, match="slope at the root") as caught:
        srcad.grad(_root_of_a_jump)(1.0)
    assert "test_implicit_roots.py" in str(caught.value)


def _root_over_an_object_made_here(a, b):
    m = _Market(a, b)
    return scipy_optimize.brentq(lambda p: m.a - m.b * p - p ** 3, -10.0, 10.0)


def test_a_lambda_reading_an_object_made_here_says_what_to_write():
    """(Round 86: refused as "a dict given to an operation ... define `__add__`".)"""
    with pytest.raises(srcad.SrcadError, match="an object the differentiated code made") as e:
        srcad.grad(_root_over_an_object_made_here)(1.5, 0.7)
    assert "make `m` outside and pass it in" in e.value.hint


def _roots_of_a_family(ks, c):
    total = 0.0
    for k in ks:
        total += scipy_optimize.brentq(lambda x, k=k: x ** 3 + k * x - c, -10.0, 10.0,
                                       xtol=1e-15)
    return total


def _default_after_args(a, c):
    return scipy_optimize.brentq(lambda x, b, s=2.0: s * x ** 3 + b * x - c, -10.0, 10.0,
                                 args=(a,), xtol=1e-15)


def _default_given_by_args(a, c):
    return scipy_optimize.brentq(lambda x, b, s=2.0: s * x ** 3 + b * x - c, -10.0, 10.0,
                                 args=(a, c * 0.5), xtol=1e-15)


def newton(f, x0):  # (a function of the user's named so: not SciPy's)
    x = x0
    for _ in range(30):
        x = x - f(x) / (3.0 * x * x + 1.0)
    return x


def _users_newton_with_a_default(c):
    return newton(lambda x, c=c: x ** 3 + x - c, 1.0)


@pytest.mark.parametrize("f, args", [
    (_roots_of_a_family, (np.array([0.5, 1.5, 2.0]), 0.7)),
    (_default_after_args, (0.5, 0.7)),
    (_default_given_by_args, (0.5, 0.7)),
    (_users_newton_with_a_default, (0.7,)),
])
def test_a_lambda_with_defaults_given_to_a_root_finder(f, args):
    """(Round 86: `lambda x, k=k:` refused.) Its defaults have, at the call, the values
    srcad passes through args= (after the args the call gives)."""
    check_four_ways(f, *args, rtol=1e-6)


def _with_a_workspace(w, t):
    buf = np.zeros(3)

    def g(x):
        buf[:] = w * x  # (filled while brentq calls g)
        return np.sum(np.tanh(buf)) - t

    r = scipy_optimize.brentq(g, -5.0, 5.0, xtol=1e-14)
    return r + np.sum(buf)


def _with_a_cache(k, t):
    cache = {}
    return scipy_optimize.brentq(lambda x: x + cache.setdefault("k", k) * x - t, 0.0, 5.0)


def _appending(x, history):
    history.append(x)
    return x ** 3 - 2.0


def _with_a_history(t):
    history = []
    r = scipy_optimize.brentq(_appending, 0.0, 5.0, args=(history,))
    return r + t * history[-1]


def _with_a_scratch_of_its_own(w, t):
    def g(x):
        tmp = np.zeros(3)  # (made in g: changing it changes nothing outside)
        tmp[:] = w * x
        return np.sum(np.tanh(tmp)) - t

    return scipy_optimize.brentq(g, -5.0, 5.0, xtol=1e-14)


def test_a_function_that_changes_what_it_did_not_make_is_refused():
    """(Round 88: a workspace, cache or history changed while brentq called the function
    and read after it: srcad's gradient ignored the change, d/dt 0.318 for 1.431.) Refused
    at the call, naming the change; an array the function makes itself is its own."""
    w = np.array([1.0, 0.5, 2.0])
    for f, args in ((_with_a_workspace, (w, 0.7)), (_with_a_cache, (1.3, 2.0)),
                    (_with_a_history, (0.5,))):
        with pytest.raises(srcad.SrcadError, match="an object it did not make") as info:
            srcad.grad(f)(*args)
        assert info.value.filename == __file__
    check_four_ways(_with_a_scratch_of_its_own, w, 0.7)


@dataclasses.dataclass
class _Bond:
    coupon: float
    price: float


def _yield_of_the_first(bonds):
    b = bonds[0]
    return scipy_optimize.brentq(
        lambda y: b.coupon / (1 + y) + (100.0 + b.coupon) / (1 + y) ** 2 - b.price,
        -0.5, 1.0, xtol=1e-14,
    )


def _yields_in_a_loop(book):
    total = 0.0
    for b in book["bonds"]:
        total += scipy_optimize.brentq(
            lambda y, b: b.coupon / (1 + y) + (100.0 + b.coupon) / (1 + y) ** 2 - b.price,
            -0.5, 1.0, args=(b,), xtol=1e-14,
        )
    return total


def _yield_of_a_list(params):
    return scipy_optimize.brentq(
        lambda y: params[0] / (1 + y) + (100 + params[0]) / (1 + y) ** 2 - params[1],
        -0.5, 1.0, xtol=1e-14,
    )


def test_records_taken_from_containers_and_a_lists_tangent_as_an_array():
    """(Round 88: a record taken from a list or dict and read by the lambda got an
    adjoint of its own class, which the list's zero could not add: TypeError; jvp of a
    list given an array tangent: ValueError in srcad's inner product.)"""
    bonds = [_Bond(4.0, 98.0), _Bond(5.0, 101.0)]
    (d,) = check_four_ways(_yield_of_the_first, bonds)
    assert isinstance(d[0], _Bond) and d[1] == _Bond(0.0, 0.0)
    check_four_ways(_yields_in_a_loop, {"bonds": bonds})
    value, slope = srcad.jvp(_yield_of_a_list)(([4.0, 98.0],), (np.array([1.0, 0.0]),))
    assert slope == pytest.approx(srcad.grad(_yield_of_a_list)([4.0, 98.0])[0], rel=1e-12)


# ============================================================ systems: fsolve and root
#
# For a system F(x, *args) = 0, dx/dp = -J_x^{-1} J_p at the root, both Jacobians by
# srcad.jacobian of F. Every system is solved with xtol=1e-12 (root: tol=1e-12), a root
# error of about 1e-12 relative, which central differences (step 1e-6) see as 1e-6
# relative at most; the exact checks are to 1e-10 (srcad's derivative is the formula at
# SciPy's root, itself within 1e-12 of the exact one).

SYSTEM_EXACT = 1e-10
_A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, -0.5], [0.5, -0.5, 2.0]])
_W = np.array([1.0, -2.0, 0.5])


def _linear_residual(x, p):
    return _A @ x - np.array([p[0], p[0] * p[1], np.sin(p[1])])


def linear_system_by_fsolve(p):
    x = scipy_optimize.fsolve(_linear_residual, np.zeros(3), args=(p,), xtol=1e-12)
    return _W @ x


def test_fsolve_of_a_linear_system_is_a_inverse_db():
    """A x = b(p): dx/dp = A^{-1} db/dp exactly; the gradient of w.x is db/dp^T A^{-T} w."""
    p = np.array([1.5, 0.7])
    (d_p,) = check_four_ways(linear_system_by_fsolve, p)
    db = np.array([[1.0, 0.0], [p[1], p[0]], [0.0, np.cos(p[1])]])
    np.testing.assert_allclose(d_p, db.T @ np.linalg.solve(_A.T, _W), rtol=SYSTEM_EXACT)


def _intersection(x, a, b):
    return [x[0] ** 2 + x[1] - a, x[0] - x[1] ** 3 - b]


def intersection_of_curves(a, b):
    x = scipy_optimize.fsolve(_intersection, [1.0, 1.0], args=(a, b), xtol=1e-12)
    return x[0] + 2.0 * x[1]


def test_fsolve_of_a_function_returning_a_list():
    """Two curves' intersection (the equations a list of two numbers): against central
    differences, and -J_x^{-1} J_p at the root written out."""
    a, b = 3.0, 2.0
    d_a, d_b = check_four_ways(intersection_of_curves, a, b)
    x = scipy_optimize.fsolve(_intersection, [1.0, 1.0], args=(a, b), xtol=1e-12)
    jac_x = np.array([[2 * x[0], 1.0], [1.0, -3 * x[1] ** 2]])
    dx = -np.linalg.solve(jac_x, np.array([[-1.0, 0.0], [0.0, -1.0]]))
    np.testing.assert_allclose([d_a, d_b], np.array([1.0, 2.0]) @ dx, rtol=SYSTEM_EXACT)


def steady_state_of_a_lambda(k, inflow):
    """dc/dt = inflow - K c - c^2 (elementwise) at rest: a lambda closing over the rates
    (an array) and the inflow."""
    c = scipy_optimize.fsolve(lambda c: inflow - k * c - 0.1 * c ** 2, np.ones(3), xtol=1e-12)
    return np.sum(c ** 2)


def cube_root_by_fsolve(a):
    """A scalar x0: fsolve returns a one-item array."""
    r = scipy_optimize.fsolve(lambda x: x ** 3 + x - a, 1.0, xtol=1e-12)
    return r[0]


def test_fsolve_of_a_lambda_and_of_a_scalar_start():
    k, inflow = np.array([1.0, 0.5, 2.0]), 1.3
    d_k, d_inflow = check_four_ways(steady_state_of_a_lambda, k, inflow)
    c = scipy_optimize.fsolve(lambda c: inflow - k * c - 0.1 * c ** 2, np.ones(3), xtol=1e-12)
    dc_dinflow = 1.0 / (k + 0.2 * c)  # (each equation alone: -dF/dp / dF/dc)
    np.testing.assert_allclose(d_k, 2 * c * (-c) * dc_dinflow, rtol=SYSTEM_EXACT)
    assert d_inflow == pytest.approx(np.sum(2 * c * dc_dinflow), rel=SYSTEM_EXACT)
    (d_a,) = check_four_ways(cube_root_by_fsolve, 3.0)
    r = cube_root_by_fsolve(3.0)
    assert d_a == pytest.approx(1.0 / (3 * r * r + 1.0), rel=SYSTEM_EXACT)


def _spring_residual(x, params):
    """Two masses between three springs (stiffness k, cubic hardening h) under loads."""
    k, h, load = params["k"], params["h"], params["load"]
    left = x[0]
    middle = x[1] - x[0]
    right = -x[1]
    force = k * np.array([left, middle, right]) + h * np.array([left, middle, right]) ** 3
    return [load[0] - force[0] + force[1], load[1] - force[1] + force[2]]


def _spring_jacobian(x, params):
    k, h = params["k"], params["h"]
    s = k + 3 * h * np.array([x[0], x[1] - x[0], -x[1]]) ** 2
    return np.array([[-s[0] - s[1], s[1]], [s[1], -s[1] - s[2]]])


def springs_under_load(params):
    x = scipy_optimize.fsolve(_spring_residual, [0.0, 0.0], args=(params,),
                              fprime=_spring_jacobian, xtol=1e-12)
    return x[0] ** 2 + x[1]


def test_fsolve_of_a_dict_of_parameters_with_fprime():
    """A dict of parameters (arrays and numbers) in args gets a dict gradient; fprime,
    given, is SciPy's: srcad takes the Jacobians itself."""
    params = {"k": np.array([2.0, 1.5, 3.0]), "h": 0.4, "load": np.array([1.0, -0.5])}
    (d,) = check_four_ways(springs_under_load, params)
    assert set(d) == {"k", "h", "load"} and d["k"].shape == (3,)


def intersection_with_full_output(a, b):
    x, info, ier, message = scipy_optimize.fsolve(_intersection, [1.0, 1.0], args=(a, b),
                                                  full_output=True, xtol=1e-12)
    if ier != 1:
        raise RuntimeError(message)
    return x[0] + 2.0 * x[1] + np.sum(info["fvec"]) + 0.0 * info["nfev"]


def test_fsolve_with_full_output():
    """full_output=True: the root of its tuple differentiated, ier and the message read,
    info['fvec'] (the residual at the root: derivative zero) and info['nfev'] too."""
    want = srcad.grad(intersection_of_curves, wrt=(0, 1))(3.0, 2.0)
    got = check_four_ways(intersection_with_full_output, 3.0, 2.0)
    np.testing.assert_allclose(got, want, rtol=SYSTEM_EXACT)


def _reads_the_jacobians_factor(a, b):
    x, info, ier, message = scipy_optimize.fsolve(_intersection, [1.0, 1.0], args=(a, b),
                                                  full_output=True)
    return x[0] + info["fjac"][0, 0]


def _singular_system(a):
    x = scipy_optimize.fsolve(lambda x: [x[0] + x[1] - a, 2 * x[0] + 2 * x[1] - 2 * a],
                              [1.0, 1.0])
    return x[0]


def _stopped_short(a, b):
    x = scipy_optimize.fsolve(_intersection, [5.0, 5.0], args=(a, b), maxfev=3)
    return x[0]


def test_fsolve_refusals_at_the_line():
    """A factor of the Jacobian read from full_output's dict (where it is read), a
    singular Jacobian at the root (a line of roots), and a solve that stopped short of a
    root (maxfev=3): SrcadErrors at the user's lines."""
    cases = [
        (_reads_the_jacobians_factor, (3.0, 2.0), "'fjac' is not one", 3),
        (_singular_system, (3.0,), "Jacobian of the equations .* is singular", 1),
        (_stopped_short, (3.0, 2.0), "is not a root", 1),
    ]
    for f, args, match, line in cases:
        with pytest.raises(srcad.SrcadError, match=match) as info, _quiet():
            srcad.grad(f)(*args)
        assert info.value.filename == __file__
        assert info.value.lineno == f.__code__.co_firstlineno + line


@contextlib.contextmanager
def _quiet():
    """SciPy's warning that a solve stopped short, left out (the test is the refusal)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def test_fsolve_second_derivative_is_refused_at_the_line():
    with pytest.raises(srcad.SrcadError, match="second derivative.*fsolve") as info:
        srcad.hessian(intersection_of_curves, argnums=(0, 1))(3.0, 2.0)
    assert info.value.filename == __file__
    assert info.value.lineno == intersection_of_curves.__code__.co_firstlineno + 1


def intersection_by_root(a, b, method):
    sol = scipy_optimize.root(_intersection, [1.0, 1.0], args=(a, b), method=method,
                              tol=1e-12)
    if not sol.success:
        raise RuntimeError(sol.message)
    return sol.x[0] + 2.0 * sol.x[1]


def root_with_options(a, b):
    sol = scipy_optimize.root(lambda x: [x[0] ** 2 + x[1] - a, x[0] - x[1] ** 3 - b],
                              np.array([1.0, 1.0]), method="lm",
                              options={"xtol": 1e-13, "ftol": 1e-13})
    scale = 1.0 if sol.success and sol.nfev > 0 else 0.0
    return scale * (sol.x[0] + 2.0 * sol.x[1])


def root_with_its_jacobian(a, b):
    def with_jacobian(x):
        value = np.array([x[0] ** 2 + x[1] - a, x[0] - x[1] ** 3 - b])
        return value, np.array([[2 * x[0], 1.0], [1.0, -3 * x[1] ** 2]])

    sol = scipy_optimize.root(with_jacobian, [1.0, 1.0], jac=True, tol=1e-12)
    return sol.x[0] + 2.0 * sol.x[1]


@pytest.mark.parametrize("method", ["hybr", "lm"])
def test_root_x_is_differentiated_and_its_flags_read(method):
    """root's sol.x gets fsolve's derivative; sol.success, sol.message and sol.nfev are
    read as they are; options= and jac=True (fun returns its Jacobian too)."""
    want = srcad.grad(intersection_of_curves, wrt=(0, 1))(3.0, 2.0)
    got = check_four_ways(intersection_by_root, 3.0, 2.0, method, wrt=(0, 1))
    np.testing.assert_allclose(got, want, rtol=SYSTEM_EXACT)
    np.testing.assert_allclose(check_four_ways(root_with_options, 3.0, 2.0), want,
                               rtol=SYSTEM_EXACT)
    np.testing.assert_allclose(check_four_ways(root_with_its_jacobian, 3.0, 2.0), want,
                               rtol=SYSTEM_EXACT)


def _root_with_a_callback(a, b):
    sol = scipy_optimize.root(_intersection, [1.0, 1.0], args=(a, b), method="krylov",
                              callback=print)
    return sol.x[0]


def _root_that_failed(a, b):
    sol = scipy_optimize.root(_intersection, [5.0, 5.0], args=(a, b),
                              options={"maxfev": 3})
    return sol.x[0]


def _root_read_by_key(a, b):
    sol = scipy_optimize.root(_intersection, [1.0, 1.0], args=(a, b))
    return sol["x"][0]


def _root_factor_read(a, b):
    sol = scipy_optimize.root(_intersection, [1.0, 1.0], args=(a, b))
    return sol.x[0] + sol.fjac[0, 0]


def _least_squares_by_root(a, b):
    sol = scipy_optimize.root(lambda x: [x[0] - a, x[0] - b, x[0] ** 2 - a * b], [1.0],
                              method="lm")
    return sol.x[0]


def test_root_refusals_at_the_line():
    """A callback; a solve that failed (sol.success False); more equations than
    unknowns (lm's least-squares point is no root); the result read by key (its gradient
    would not reach it) or a field srcad leaves out (fjac): refused at the line, the last
    two where they are read. (Before: TypeError, AttributeError.)"""
    for f, match, line in ((_root_with_a_callback, "callback", 1),
                           (_root_that_failed, "converge", 1),
                           (_least_squares_by_root, "3 equations in 1 unknowns", 1),
                           (_root_read_by_key, r"sol\.x", 2),
                           (_root_factor_read, "`fjac` is not one", 2)):
        with pytest.raises(srcad.SrcadError, match=match) as info, _quiet():
            srcad.grad(f, wrt=(0, 1))(3.0, 2.0)
        assert info.value.filename == __file__
        assert info.value.lineno == f.__code__.co_firstlineno + line


# ============================================================ root_scalar


def cubic_by_root_scalar(theta, shift, method):
    sol = scipy_optimize.root_scalar(_cubic, args=(theta, shift), method=method,
                                     bracket=(0.0, 5.0), xtol=1e-14)
    return sol.root


def cubic_by_newton_root_scalar(theta, shift):
    sol = scipy_optimize.root_scalar(lambda r: r ** 3 + theta * r - shift, x0=1.0,
                                     fprime=lambda r: 3 * r * r + theta, method="newton",
                                     xtol=1e-15)
    return sol.root if sol.converged else float("nan")


def cubic_by_secant_root_scalar(theta, shift):
    return scipy_optimize.root_scalar(_cubic, args=(theta, shift), x0=1.0, x1=1.5,
                                      xtol=1e-15).root


def cubic_with_its_slope(theta, shift):
    sol = scipy_optimize.root_scalar(
        lambda r: (r ** 3 + theta * r - shift, 3 * r * r + theta), x0=1.0, fprime=True,
        method="newton", xtol=1e-15,
    )
    return sol.root


def cubic_by_halley(theta, shift):
    sol = scipy_optimize.root_scalar(lambda r, s: r ** 3 + theta * r - s, args=(shift,),
                                     x0=1.0, fprime=lambda r, s: 3 * r * r + theta,
                                     fprime2=lambda r, s: 6 * r, method="halley",
                                     xtol=1e-15)
    return sol.root


@pytest.mark.parametrize("method", ["brentq", "brenth", "ridder", "bisect", "toms748"])
def test_root_scalar_with_a_bracket(method):
    """root_scalar's .root: dr/dtheta = -r/(3r^2 + theta), dr/dshift = 1/(3r^2 + theta)."""
    theta, shift = 1.3, 2.0
    d_theta, d_shift = check_four_ways(cubic_by_root_scalar, theta, shift, method,
                                       wrt=(0, 1))
    r = cubic_by_root_scalar(theta, shift, method)
    assert d_theta == pytest.approx(-r / (3 * r * r + theta), rel=EXACT)
    assert d_shift == pytest.approx(1.0 / (3 * r * r + theta), rel=EXACT)


@pytest.mark.parametrize("f", [cubic_by_newton_root_scalar, cubic_by_secant_root_scalar,
                               cubic_with_its_slope, cubic_by_halley])
def test_root_scalar_from_a_start(f):
    """Newton's (fprime a lambda; fprime=True: f returns its slope too), the secant's
    (x0 and x1) and Halley's (fprime2) methods, their .converged read."""
    theta, shift = 1.3, 2.0
    d_theta, d_shift = check_four_ways(f, theta, shift)
    r = f(theta, shift)
    assert d_theta == pytest.approx(-r / (3 * r * r + theta), rel=EXACT)
    assert d_shift == pytest.approx(1.0 / (3 * r * r + theta), rel=EXACT)


# ============================================================ minimize_scalar
#
# The minimizer x of f(x, *args) moves as f'(x) = 0 does: dx/dp = -f_xp / f_xx at the
# minimum (second derivatives by srcad.hessian of f), and the minimum's value as f_p
# there (f's slope in x is zero). A minimizer is found to about sqrt(eps) = 1.5e-8
# relative at best (f is flat there: its values cannot tell nearer points apart), so
# central differences of sol.x are checked with a step of 1e-3 (noise 1e-8 / 1e-3 = 1e-5,
# truncation about 1e-6) to rtol=1e-4, and against the exact derivative (srcad's formula at
# a point 1e-8 from the minimizer) to 1e-6; sol.fun is exact to rounding (its error is
# f_xx dx^2), and is checked as everything else (its derivative f_p, at the minimizer
# found, against the exact one to 1e-7).


def _tilted_cosh(x, a, b, c):
    return b * np.cosh(x - a) + c * x


def cosh_minimizer(a, b, c, method):
    """f = b cosh(x - a) + c x is least at x = a - asinh(c / b)."""
    if method == "bounded":
        sol = scipy_optimize.minimize_scalar(_tilted_cosh, bounds=(-5.0, 5.0), args=(a, b, c),
                                             method="bounded", options={"xatol": 1e-12})
    else:
        sol = scipy_optimize.minimize_scalar(_tilted_cosh, args=(a, b, c), method=method,
                                             tol=1e-12)
    return sol.x


def cosh_minimum(a, b, c):
    sol = scipy_optimize.minimize_scalar(lambda x: b * np.cosh(x - a) + c * x,
                                         bracket=(-1.0, 0.5, 2.0), tol=1e-12)
    return sol.fun if sol.success else float("nan")


@pytest.mark.parametrize("method", ["brent", "golden", "bounded"])
def test_minimize_scalar_minimizer_exactly(method):
    """dx/da = 1, dx/db = (c/b^2)/sqrt(1 + (c/b)^2), dx/dc = -1/(b sqrt(1 + (c/b)^2))."""
    a, b, c = 0.3, 2.0, 0.7
    got = check_four_ways(cosh_minimizer, a, b, c, method, wrt=(0, 1, 2), eps=1e-3,
                          rtol=1e-4)
    root = math.sqrt(1 + (c / b) ** 2)
    np.testing.assert_allclose(got, [1.0, (c / b ** 2) / root, -1.0 / (b * root)], rtol=1e-6)


def test_minimize_scalar_minimum_value():
    """The least value's slopes: c, cosh(x - a) and x at the minimizer x (a lambda with a
    bracket, sol.success read); f_p at the minimizer found, 1e-8 from the exact one."""
    a, b, c = 0.3, 2.0, 0.7
    got = check_four_ways(cosh_minimum, a, b, c)
    x = a - math.asinh(c / b)
    np.testing.assert_allclose(got, [c, math.cosh(x - a), x], rtol=1e-7)


def _weighted_spread(x, points, weights):
    return np.sum(weights * np.log(np.cosh(x - points)))


def robust_centre(points, weights):
    """The minimizer of a log-cosh loss of an array of points (arrays in args)."""
    sol = scipy_optimize.minimize_scalar(_weighted_spread, args=(points, weights),
                                         bounds=(-10.0, 10.0), method="bounded",
                                         options={"xatol": 1e-12})
    return sol.x + 0.5 * sol.fun


def test_minimize_scalar_of_arrays_in_args():
    points, weights = np.array([-1.0, 0.5, 2.0, 0.2]), np.array([1.0, 2.0, 0.5, 1.5])
    check_four_ways(robust_centre, points, weights, eps=1e-3, rtol=1e-4)


def _minimum_on_a_bound(a):
    sol = scipy_optimize.minimize_scalar(lambda x: (x - a) ** 2, bounds=(0.0, 0.5),
                                         method="bounded")
    return sol.x


def test_minimize_scalar_refusals_at_the_line():
    """A minimum on a bound (where f' is not zero: it moves with the bound), and the
    second derivative of a function through minimize_scalar."""
    with pytest.raises(srcad.SrcadError, match="on a bound") as info:
        srcad.grad(_minimum_on_a_bound)(1.0)
    assert info.value.filename == __file__
    assert info.value.lineno == _minimum_on_a_bound.__code__.co_firstlineno + 1
    with pytest.raises(srcad.SrcadError, match="second derivative.*minimize_scalar") as info:
        srcad.hessian(cosh_minimum, argnums=(0, 1))(0.3, 2.0, 0.7)
    assert info.value.filename == __file__
    assert info.value.lineno == cosh_minimum.__code__.co_firstlineno + 1


def _fsolve_of_a_partial(a, b):
    return scipy_optimize.fsolve(functools.partial(_intersection, a=a, b=b), [1.0, 1.0])[0]


def _root_of_a_partial_system(a, b):
    return scipy_optimize.root(functools.partial(_intersection, a=a, b=b), [1.0, 1.0]).x[0]


def _minimum_of_a_partial(a, b):
    return scipy_optimize.minimize_scalar(functools.partial(_tilted_cosh, a=a, b=b, c=0.3)).x


@pytest.mark.parametrize("f, name", [(_fsolve_of_a_partial, "fsolve"),
                                     (_root_of_a_partial_system, "root"),
                                     (_minimum_of_a_partial, "minimize_scalar")])
def test_a_partial_of_differentiated_values_is_refused(f, name):
    """As for brentq: the values a functools.partial holds are not seen by srcad."""
    with pytest.raises(srcad.SrcadError, match=f"{name}` has no derivative in `fun") as info:
        srcad.grad(f, wrt=(0, 1))(3.0, 2.0)
    assert info.value.filename == __file__
    assert info.value.lineno == f.__code__.co_firstlineno + 1


# ============================================================ minimize
#
# The minimizer x of f(x, *args) (several unknowns) moves as grad_x f(x) = 0 does: dx/dp =
# -H_xx^{-1} H_xp at the minimum (by srcad.hessian of f), and the least value as f_p there.
# Central differences of res.x carry the optimizer's own stopping error divided by their
# step: they are checked with a step of 1e-3 to rtol=1e-4, and the derivatives against
# exact ones (the ridge solution in closed form; a root of exp(w) - a + 2 b w by brentq).


def _ridge_objective(w, X, y, lam):
    r = X @ w - y
    return 0.5 * r @ r + 0.5 * lam * w @ w


def ridge_validation_loss(lam, X, y, Xv, yv):
    """A hyperparameter's loss: the validation error of the ridge fit BFGS finds."""
    res = scipy_optimize.minimize(_ridge_objective, np.zeros(X.shape[1]), args=(X, y, lam),
                                  method="BFGS", options={"gtol": 1e-10})
    e = Xv @ res.x - yv
    return e @ e + 0.1 * res.fun


def _soft_objective(w, a, b):
    return np.sum(np.exp(w) - a * w) + b * np.sum(w ** 2)


def soft_minimizer_summary(a, b):
    res = scipy_optimize.minimize(_soft_objective, np.zeros(3), args=(a, b), tol=1e-14)
    return np.sum(res.x ** 2) + res.fun + np.sum(res.jac)


def test_minimize_of_a_ridge_fit_exactly():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    Xv, yv = rng.normal(size=(10, 3)), rng.normal(size=10)
    lam = 0.7
    (got,) = check_four_ways(ridge_validation_loss, lam, X, y, Xv, yv, wrt=0, eps=1e-3,
                             rtol=1e-4)
    A = X.T @ X + lam * np.eye(3)
    w = np.linalg.solve(A, X.T @ y)
    moved = -np.linalg.solve(A, w)
    assert got == pytest.approx(2 * (Xv @ w - yv) @ Xv @ moved + 0.05 * w @ w, rel=1e-7)


def test_minimize_of_arrays_in_args_exactly():
    """w_i solves exp(w_i) = a_i - 2 b w_i: dw_i/da_i = 1 / (exp(w_i) + 2b), dw_i/db =
    -2 w_i / (exp(w_i) + 2b); the least value's slopes -w and |w|^2."""
    a, b = np.array([1.5, 2.0, 3.0]), 0.3
    da, db = check_four_ways(soft_minimizer_summary, a, b, eps=1e-3, rtol=1e-4, atol=1e-5)
    w = np.array([scipy_optimize.brentq(lambda t, ai=ai: np.exp(t) - ai + 2 * b * t, -5, 5,
                                        xtol=1e-15) for ai in a])
    slope = np.exp(w) + 2 * b
    np.testing.assert_allclose(da, 2 * w / slope - w, rtol=1e-6)
    assert db == pytest.approx(np.sum(2 * w * (-2 * w / slope)) + np.sum(w ** 2), rel=1e-6)


def _on_the_diagonal(w):
    return w[0] - w[1]


ON_THE_DIAGONAL = ({"type": "eq", "fun": _on_the_diagonal},)


def _constrained_minimum(a):
    res = scipy_optimize.minimize(lambda w: np.sum((w - a) ** 2), np.zeros(2),
                                  constraints=ON_THE_DIAGONAL)
    return res.x[0]


def _bounded_minimum(a):
    res = scipy_optimize.minimize(lambda w: np.sum((w - a) ** 2), np.zeros(2),
                                  bounds=[(0.0, 0.5), (0.0, 0.5)], method="L-BFGS-B")
    return res.x[0]


def test_minimize_refusals_at_the_line():
    """Constraints (whose minimum is not where the gradient is zero) and a minimum on a
    bound are refused where minimize is called."""
    for f, why in ((_constrained_minimum, "constraints"), (_bounded_minimum, "on a bound")):
        with pytest.raises(srcad.SrcadError, match=why) as info:
            srcad.grad(f)(1.0)
        assert info.value.filename == __file__
        assert info.value.lineno == f.__code__.co_firstlineno + 1
