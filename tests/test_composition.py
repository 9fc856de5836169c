"""Composition: calls to the user's own functions, custom reverse rules, stop_gradient.

Calls to module-level helpers, nested ``def``s and ``functools.partial`` objects are
read from source and inlined into the caller's listing; ``srcad.defgrad`` turns a
function into a primitive with the user's reverse rule; ``srcad.stop_gradient`` is
the identity with no gradient.

Every gradient is compared with central differences (``conftest.assert_grad_close``:
rtol 1e-6, atol 1e-8, see conftest for why) or with a hand-derived value
(``ANALYTIC_TOL``: the two agree up to a few ulps of the arithmetic, so 1e-12 relative
is ample and still catches any wrong derivative).

``defgrad`` registrations are global (the derivative table is shared), so every
registered function here is defined in this file and used by one test only; the
``math.erf`` registration is the one exception: it takes the place of srcad's built-in
rule (which also has forward mode), so the test takes it out again.
"""

import contextlib
import functools
import math
import os
import sys

import helpers_float_version
import numpy as np
import pytest

import srcad
from srcad.rules import TABLE

sys.path.insert(0, os.path.dirname(__file__))
from conftest import assert_grad_close, check_four_ways, marker_line  # noqa: E402

THIS_FILE = os.path.basename(__file__)

#: relative tolerance for srcad vs a hand-derived derivative (same arithmetic, reordered)
ANALYTIC_TOL = 1e-12


def close(got, want, tol=ANALYTIC_TOL):
    return abs(float(got) - want) <= tol * max(1.0, abs(want))


# ---------------------------------------------------------------- helpers and callers


def cube_plus(a, b=3.0, *, c=1.0):  # <def-cube_plus>
    return a * a * a * b + c


def sin_and_square(x):
    return math.sin(x), x * x


def twice_cube(x):
    # a helper calling a helper, with a keyword argument
    return cube_plus(x, b=2.0) * math.exp(x)


def calls_helper(x, y):
    return cube_plus(x) * y


def calls_helper_kwargs(x, y):
    # positional default for b, keyword-only c bound to an active value
    return cube_plus(x, c=y) + cube_plus(y, 0.5, c=x * x)


def calls_nested_helpers(x, y):
    return twice_cube(y) + x * twice_cube(x)


def calls_tuple_helper(x, y):
    s, q = sin_and_square(x)
    return s * y + q * math.cos(y)


def tuple_branches(x):
    if x > 0:
        return x * x, x
    return -x, x * 3.0


def calls_tuple_branches(x):
    a, b = tuple_branches(x)
    return a * b


SCALE = 2.0
OFFSET = 0.25


def scaled(x):
    return SCALE * x * x + OFFSET


def reads_globals(x):
    return scaled(x) * SCALE + x


def make_closure(k):
    def f(x):
        return k * math.sin(x) * x

    return f


def nested_def(x, y):
    def inner(t):
        return t * y + x  # closes over both parameters

    return inner(x) * inner(y)


def nested_def_local(x, y):
    a = x * y

    def inner(t):
        return t * a  # reads `a` at call time (late binding)

    a = a + math.sin(y)
    return inner(x) + inner(y)


def nested_def_calls_module_helper(x):
    def inner(t):
        return cube_plus(t, c=x)

    return inner(x) * x


def poly(x, a, b, c=1.0):
    return a * x * x + b * math.sin(x) + c


POLY_AB = functools.partial(poly, a=1.5, b=-2.0)
POLY_POS = functools.partial(poly, 0.5)  # binds x: the remaining parameters are a, b, c


def calls_partial_kw(x):
    return POLY_AB(x) * x


def calls_partial_positional(a, b):
    return POLY_POS(a, b, c=a * b)


def fact(x, n):
    if n <= 1:
        return x
    return x * fact(x, n - 1)  # <recursive-call>


def calls_recursive(x):
    return fact(x, 3)


def ping(x, n):
    if n == 0:
        return x
    return pong(x * 2.0, n - 1)


def pong(x, n):
    return ping(x + 1.0, n - 1)  # <mutual-call>


def calls_mutual(x):
    return ping(x, 4)


# ---------------------------------------------------------------- inlining: values


@pytest.mark.parametrize("x, y", [(0.7, 1.3), (-1.1, 0.4)])
def test_module_helper(x, y):
    assert_grad_close(calls_helper, x, y)


def test_module_helper_analytic():
    # d/dx (3 x^3 + 1) y = 9 x^2 y, d/dy = 3 x^3 + 1
    dx, dy = srcad.grad(calls_helper, wrt=("x", "y"))(1.5, -2.0)
    assert close(dx, 9 * 1.5**2 * -2.0)
    assert close(dy, 3 * 1.5**3 + 1)


@pytest.mark.parametrize("x, y", [(0.7, 1.3), (-0.9, 0.6)])
def test_helper_keyword_arguments_and_defaults(x, y):
    assert_grad_close(calls_helper_kwargs, x, y)


def test_helper_keyword_arguments_analytic():
    # f = 3x^3 + y + 0.5 y^3 + x^2 -> (9x^2 + 2x, 1 + 1.5 y^2)
    x, y = 0.8, -1.7
    dx, dy = srcad.grad(calls_helper_kwargs, wrt=("x", "y"))(x, y)
    assert close(dx, 9 * x * x + 2 * x)
    assert close(dy, 1 + 1.5 * y * y)


@pytest.mark.parametrize("x, y", [(0.3, 0.9), (-0.5, 1.2)])
def test_helpers_calling_helpers(x, y):
    assert_grad_close(calls_nested_helpers, x, y)


@pytest.mark.parametrize("x, y", [(0.3, 0.9), (2.0, -1.4)])
def test_helper_returning_tuple(x, y):
    assert_grad_close(calls_tuple_helper, x, y)


def test_helper_returning_tuple_from_branches():
    # x > 0: x^3 -> 3x^2 ; x <= 0: -3x^2 -> -6x
    g = srcad.grad(calls_tuple_branches)
    assert close(g(2.0), 3 * 2.0 * 2.0)
    assert close(g(-2.0), -6 * -2.0)


def test_module_constant_read_live(monkeypatch):
    g = srcad.grad(reads_globals)
    # f = SCALE * (SCALE x^2 + OFFSET) + x -> 2 SCALE^2 x + 1
    assert close(g(1.5), 2 * 2.0**2 * 1.5 + 1)
    monkeypatch.setitem(globals(), "SCALE", 5.0)
    assert close(g(1.5), 2 * 5.0**2 * 1.5 + 1), "the compiled gradient kept the old SCALE"
    assert close(srcad.grad(reads_globals)(1.5), 2 * 5.0**2 * 1.5 + 1), \
        "a gradient built after the change uses the old SCALE"
    assert_grad_close(reads_globals, 0.3)


def swappable(t):
    return t * t


def calls_swappable(x):
    return swappable(x) + x


def test_redefined_helper_is_reinlined(monkeypatch):
    old = srcad.grad(calls_swappable)
    assert close(old(2.0), 5.0)

    def swappable(t):  # noqa: F811 - the replacement body
        return t * t * t

    monkeypatch.setitem(globals(), "swappable", swappable)
    assert close(srcad.grad(calls_swappable)(2.0), 13.0), "the old helper body was reused"
    # a gradient built earlier follows the redefinition too, as a fresh one does
    # (issue 18: a notebook cell run again must not leave gradients on the old code)
    assert close(old(2.0), 13.0), "a gradient built earlier kept the old helper body"


ACTIVATION = np.tanh  # (a global holding a numpy function: the rule is tanh's)


def activated(w, v):
    return ACTIVATION(w * v)


def test_a_global_holding_a_function_rebound_gets_the_new_rule(monkeypatch):
    """``ACTIVATION = np.sin`` after the gradient was made: it is made again with sin's
    rule (it kept tanh's, while the value followed sin)."""
    g = srcad.value_and_grad(activated, wrt="w")
    value, dw = g(0.8, 1.5)
    assert close(dw, 1.5 / np.cosh(1.2) ** 2)
    monkeypatch.setitem(globals(), "ACTIVATION", np.sin)
    value, dw = g(0.8, 1.5)
    assert value == activated(0.8, 1.5) and close(dw, 1.5 * np.cos(1.2))


def _activated_layer():
    act = np.tanh  # (a closure variable holding a numpy function, set again below)

    def layer(w, v):
        return np.sum(act(w * v))

    def set_activation(f):
        nonlocal act
        act = f

    return layer, set_activation


def test_a_closure_variable_holding_a_function_rebound_gets_the_new_rule():
    """``nonlocal act; act = np.sin`` after the gradient was made: made again with sin's
    rule, as for a global (it ran sin forward and tanh's rule backward: 1 - sin(x)**2)."""
    layer, set_activation = _activated_layer()
    g = srcad.grad(layer)
    w, v = np.array([0.8, -0.3]), 1.5
    np.testing.assert_allclose(g(w, v), v / np.cosh(w * v) ** 2, rtol=1e-12)
    set_activation(np.sin)
    np.testing.assert_allclose(g(w, v), v * np.cos(w * v), rtol=1e-12)


MODE = "lin"  # (globals of this module a helper reads: a string, a dict, a list)
GAINS = {"gain": 1.0}
WEIGHTS = [1.0, 2.0]


def configured_here(y):
    linear = y if MODE == "lin" else y * y
    return GAINS["gain"] * y + sum(w * y for w in WEIGHTS) + linear


def calls_configured_here(y):
    return configured_here(y)


def calls_configured_there(y):
    return helpers_float_version.configured(y)


def test_a_helpers_globals_rebound_are_read_again(monkeypatch):
    """A helper's globals of any kind, in this module or another, rebound after the
    gradient was made: the gradient sees the new values, as the helper does (they were
    fixed when the gradient was made, and a new srcad.grad gave the same)."""
    for f, module in ((calls_configured_here, sys.modules[__name__]),
                      (calls_configured_there, helpers_float_version)):
        g = srcad.grad(f)
        assert close(g(0.7), 5.0)
        monkeypatch.setattr(module, "MODE", "quad")
        monkeypatch.setattr(module, "GAINS", {"gain": -2.0})
        monkeypatch.setattr(module, "WEIGHTS", [0.5])
        assert close(g(0.7), -0.1) and close(srcad.grad(f)(0.7), -0.1)
        monkeypatch.undo()


def test_closures_are_separate():
    # two closures made by the same def: each gradient reads its own k
    f2, f3 = make_closure(2.0), make_closure(3.0)
    x = 0.9
    want = math.sin(x) + x * math.cos(x)
    assert close(srcad.grad(f2)(x), 2.0 * want)
    assert close(srcad.grad(f3)(x), 3.0 * want)
    assert close(srcad.grad(f2)(x), 2.0 * want)


@pytest.mark.parametrize("x, y", [(0.7, 1.3), (-1.2, 0.5)])
def test_nested_def_closing_over_parameters(x, y):
    assert_grad_close(nested_def, x, y)


def test_nested_def_sees_later_assignment():
    # Python looks `a` up when inner is called: f = (x + y) (x y + sin y)
    x, y = 0.6, 1.1
    assert close(nested_def_local(x, y), (x + y) * (x * y + math.sin(y)))
    dx, dy = srcad.grad(nested_def_local, wrt=("x", "y"))(x, y)
    a = x * y + math.sin(y)
    assert close(dx, a + (x + y) * y)
    assert close(dy, a + (x + y) * (x + math.cos(y)))


def test_nested_def_calling_module_helper():
    assert_grad_close(nested_def_calls_module_helper, 0.8)
    assert_grad_close(nested_def_calls_module_helper, -1.3)


@pytest.mark.parametrize("x", [0.4, -1.7])
def test_partial_with_keywords(x):
    assert_grad_close(calls_partial_kw, x)


def test_partial_with_positional_argument():
    # poly(0.5, a, b, c=a b) = 0.25 a + b sin(0.5) + a b
    a, b = 1.3, -0.7
    da, db = srcad.grad(calls_partial_positional, wrt=("a", "b"))(a, b)
    assert close(da, 0.25 + b)
    assert close(db, math.sin(0.5) + a)


# ---------------------------------------------------------------- inlining: the listing


def test_inlined_helper_is_marked_in_listing():
    g = srcad.grad(calls_helper)
    line = marker_line(__file__, "def-cube_plus")
    assert f"# inlined cube_plus() from {THIS_FILE}:{line}" in g.forward_source, g.forward_source
    assert "cube_plus(" not in g.backward_source.replace("# inlined cube_plus()", ""), \
        "the helper is called instead of inlined"


def test_nested_helpers_are_all_inlined():
    g = srcad.grad(calls_nested_helpers)
    src = g.forward_source
    assert src.count("# inlined twice_cube()") == 2, src
    assert src.count("# inlined cube_plus()") == 2, src


def test_nested_def_is_inlined():
    g = srcad.grad(nested_def)
    assert g.forward_source.count("# inlined inner()") == 2, g.forward_source


# ---------------------------------------------------------------- recursion


def test_recursion_on_constants_is_unrolled():
    # fact(x, 3) = x**3; ping(x, 4) = pong(2x, 3) = ping(2x + 1, 2) = pong(4x + 2, 1)
    # = ping(4x + 3, 0) = 4x + 3: each level decides its test on a constant
    assert srcad.grad(calls_recursive)(1.5) == pytest.approx(3 * 1.5**2, rel=1e-14)
    assert srcad.value_and_grad(calls_mutual)(0.5) == (5.0, 4.0)
    check_four_ways(calls_recursive, 1.5)


def legendre(x, n):
    if n == 0:
        return 1.0
    if n == 1:
        return x
    return ((2 * n - 1) * x * legendre(x, n - 1) - (n - 1) * legendre(x, n - 2)) / n


def power_by_squaring(x, n):
    if n == 0:
        return 1.0
    half = power_by_squaring(x, n // 2)
    return half * half if n % 2 == 0 else half * half * x


def legendre_and_power(x):
    return legendre(x, 5) + power_by_squaring(x, 7)


def legendre_too_deep(x):
    return legendre(x, 14)  # (fib-like: 1,219 calls)


def test_recursion_with_two_calls_a_level_and_integer_division():
    # P5(x) = (63x^5 - 70x^3 + 15x) / 8
    x = 0.7
    exact = (315 * x**4 - 210 * x**2 + 15) / 8 + 7 * x**6
    assert srcad.grad(legendre_and_power)(x) == pytest.approx(exact, rel=1e-12)
    check_four_ways(legendre_and_power, x)
    assert srcad.hessian(legendre_and_power)(x) == pytest.approx(
        (1260 * x**3 - 420 * x) / 8 + 42 * x**5, rel=1e-12)


def test_recursion_a_computed_value_ends_is_refused_at_the_recursive_call():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(fact)(1.5, 3)  # (n is an argument: the gradient takes any n)
    e = info.value
    assert e.filename.endswith(THIS_FILE), e.filename
    assert e.lineno == marker_line(__file__, "recursive-call"), str(e)
    assert "went 32 levels deep" in str(e) and "rewrite the recursion as a loop" in str(e)
    assert str(e).startswith(f"{e.filename}:{e.lineno}:"), str(e)
    with pytest.raises(srcad.SrcadError, match="more than 256 recursive calls"):
        srcad.grad(legendre_too_deep)(0.5)


@functools.cache
def binomial_coefficient(n, k):
    if k == 0 or k == n:
        return 1
    return binomial_coefficient(n - 1, k - 1) + binomial_coefficient(n - 1, k)


def bernstein_curve(t):
    n = 4  # (k is a loop's variable: binomial_coefficient(n, k) runs as a plain call)
    return sum(binomial_coefficient(n, k) * t**k * (1 - t) ** (n - k) * (k + 1.0)
               for k in range(n + 1))


def nested_recursion_on_constants(b):
    def relaxed(x, n):
        if n == 0:
            return x
        return relaxed(x * 0.5 + b, n - 1)

    def horner(cs, i):
        if i == len(cs) - 1:
            return cs[i]
        return cs[i] + b * horner(cs, i + 1)

    return relaxed(1.0, 6) + horner([1.0, 2.0, 3.0, 4.0], 0)


def exponential_series(x):
    def factorial(n):
        if n == 0:
            return 1.0
        return n * factorial(n - 1)

    total = 0.0
    for k in range(7):  # (unrolled: each k a constant that ends the recursion)
        total += x**k / factorial(k)
    return total


def test_recursion_that_carries_no_gradient_runs_and_nested_recursion_ends():
    """A recursion on integers srcad cannot unroll (a loop's ``k``) runs as a plain call
    when its arguments carry no gradient (it was refused: "went 32 levels deep"); a
    nested ``def``'s recursion on constants is unrolled as a helper of the file's is (it
    was refused: its branches were not decided by the constants). Round 77b."""
    t = 0.3
    exact = sum(math.comb(4, k) * (k + 1.0) * (k * t ** (k - 1) * (1 - t) ** (4 - k)
                                                - (4 - k) * t**k * (1 - t) ** (3 - k))
                for k in range(5))
    assert check_four_ways(bernstein_curve, t)[0] == pytest.approx(exact, rel=1e-12)
    b = 0.7
    exact = sum(0.5**i for i in range(6)) + 2.0 + 2 * 3.0 * b + 3 * 4.0 * b * b
    assert check_four_ways(nested_recursion_on_constants, b)[0] == pytest.approx(exact, rel=1e-12)
    # a nested def's recursion on a count loop's variable (refused: "32 levels deep")
    exact = sum(k * 0.5 ** (k - 1) / math.factorial(k) for k in range(1, 7))
    assert check_four_ways(exponential_series, 0.5)[0] == pytest.approx(exact, rel=1e-12)


# ---------------------------------------------------------------- defgrad


def softplus_a(x):
    return math.log1p(math.exp(x))


def uses_softplus_a(x):
    return softplus_a(x) * 3.0


def softplus_b(x):
    return math.log1p(math.exp(x))


def uses_softplus_b(x, y):
    return softplus_b(x * y) + x


def scaled_product(a, b):
    return a * b * 0.5


@srcad.defgrad(scaled_product)
def scaled_product_rule(g, ans, a, b):
    return 0.5 * b * g, 0.5 * a * g


def uses_scaled_product(x, y):
    return scaled_product(x, y) * math.sin(x) + y


def logistic_c(x):
    return 1.0 / (1.0 + math.exp(-x))


def helper_using_logistic_c(t):
    return logistic_c(t) * t


def uses_logistic_c_in_helper(x):
    return helper_using_logistic_c(x * x) + x


def double_d(x):
    return x * 2.0


def tripled_e(x):
    return x * 3.0


def uses_two_rules(x):
    return double_d(x) + tripled_e(x) * x


def squared_f(x):
    return x * x


def uses_squared_f(x):
    return squared_f(x) + x


def uses_erf(x, y):
    return math.erf(x * y) * y


def test_defgrad_rule_is_used():
    # a deliberately wrong rule (d softplus / dx := 2) shows up as 2 * 3 = 6
    srcad.defgrad(softplus_a, lambda g, ans, x: 2 * g)
    g = srcad.grad(uses_softplus_a)
    assert close(g(0.5), 6.0)
    assert close(g(-3.0), 6.0)
    assert "softplus_a(" in g.backward_source, "the function was inlined, not used as a primitive"


def test_defgrad_correct_rule_matches_central_differences():
    def rule(g, ans, x):
        return g / (1.0 + math.exp(-x))

    assert srcad.defgrad(softplus_b, rule) is rule
    for x, y in [(0.5, 1.5), (-1.0, 0.3)]:
        assert_grad_close(uses_softplus_b, x, y)


def test_defgrad_decorator_two_arguments():
    assert callable(scaled_product_rule)
    for x, y in [(0.5, 1.5), (-1.0, 0.3)]:
        assert_grad_close(uses_scaled_product, x, y)
    assert "scaled_product(" in srcad.grad(uses_scaled_product).backward_source


def test_defgrad_rule_receives_ans():
    # the logistic derivative written through `ans`; a wrong ans breaks it
    srcad.defgrad(logistic_c, lambda g, ans, x: ans * (1.0 - ans) * g)
    for x in (0.4, -1.1):
        assert_grad_close(uses_logistic_c_in_helper, x)


def test_defgrad_used_inside_helper():
    # logistic_c is registered in test_defgrad_rule_receives_ans; register it again here
    # so this test does not depend on test order
    srcad.defgrad(logistic_c, lambda g, ans, x: ans * (1.0 - ans) * g)
    g = srcad.grad(uses_logistic_c_in_helper)
    assert "# inlined helper_using_logistic_c()" in g.forward_source, g.forward_source
    assert "logistic_c(" in g.forward_source.replace("helper_using_logistic_c", "")
    assert "# inlined logistic_c()" not in g.forward_source, "the registered function was inlined"
    assert_grad_close(uses_logistic_c_in_helper, 0.7)


def test_two_user_rules_in_one_function():
    # wrong-but-recognisable rules: d double_d := 10, d tripled_e := 100
    srcad.defgrad(double_d, lambda g, ans, x: 10.0 * g)
    srcad.defgrad(tripled_e, lambda g, ans, x: 100.0 * g)
    x = 1.5
    # f = double_d(x) + tripled_e(x) x -> 10 + 100 x + 3x
    assert close(srcad.grad(uses_two_rules)(x), 10.0 + 100.0 * x + 3.0 * x)


def test_defgrad_after_gradient_was_built():
    # the first gradient inlines squared_f; registering a rule afterwards must take effect
    assert close(srcad.grad(uses_squared_f)(3.0), 7.0)
    srcad.defgrad(squared_f, lambda g, ans, x: 100.0 * g)
    assert close(srcad.grad(uses_squared_f)(3.0), 101.0), \
        "a gradient cached before defgrad still inlines the function"


def test_defgrad_builtin_without_source():
    user_rule = lambda g, ans, x: g * 2 / math.sqrt(math.pi) * math.exp(-x * x)  # noqa: E731
    srcad.defgrad(math.erf, user_rule)
    try:
        g = srcad.grad(uses_erf, wrt=("x", "y"))
        assert "rule(" in g.backward_source  # the user's rule, not the built-in template
        x, y = 0.4, 1.3
        # f = erf(x y) y
        d = 2 / math.sqrt(math.pi) * math.exp(-(x * y) ** 2)
        dx, dy = g(x, y)
        assert close(dx, d * y * y)
        assert close(dy, d * x * y + math.erf(x * y))
        assert_grad_close(uses_erf, -0.7, 0.9)
    finally:
        TABLE.remove(next(r for r in TABLE.candidates(("call", id(math.erf))) if r.user))
    assert "rule(" not in srcad.grad(uses_erf, wrt=("x", "y")).backward_source


# ---------------------------------------------------------------- stop_gradient


def uses_stop_gradient(x, y):
    return srcad.stop_gradient(x * y) * x + y


def uses_stop_gradient_name(x):
    return stop_gradient(x * x) * x + math.sin(x)


stop_gradient = srcad.stop_gradient


def stop_gradient_on_array(x):
    return np.sum(srcad.stop_gradient(x * x) * x)


def test_stop_gradient_forward_is_identity():
    assert srcad.stop_gradient(2.5) == 2.5
    a = np.array([1.0, 2.0])
    assert srcad.stop_gradient(a) is a


def test_stop_gradient_blocks_gradient():
    x, y = 2.0, 3.0
    # only the outer x and y carry gradient: (x y, 1)
    dx, dy = srcad.grad(uses_stop_gradient, wrt=("x", "y"))(x, y)
    assert close(dx, x * y)
    assert close(dy, 1.0)


def test_stop_gradient_imported_name():
    x = 0.8
    assert close(srcad.grad(uses_stop_gradient_name)(x), x * x + math.cos(x))


def test_stop_gradient_on_arrays():
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(srcad.grad(stop_gradient_on_array)(x), x * x, rtol=1e-12)


# ---------------------------------------------------------------- lambdas assigned to names


def with_named_lambdas(x, y):
    scale = 3.0
    square = lambda t: t * t  # noqa: E731
    scaled = lambda t, k=2.0: scale * k * t  # noqa: E731 -- reads the enclosing scale
    return square(x) * scaled(y) + square(scaled(x, 0.5))


def test_named_lambdas_are_inlined_like_nested_defs():
    assert_grad_close(with_named_lambdas, 0.7, -1.2)
    source = srcad.grad(with_named_lambdas).backward_source
    assert "# inlined square()" in source and "# inlined scaled()" in source


def moments(v):
    return np.mean(v), np.mean(v * v), [np.sum(v), np.max(v)]


def pick_items(x, y):
    """Items of a helper's tuple by constant index (taken at lowering), of a list it
    returns inside the tuple, and of a rule's tuple result (np.linalg.slogdet)."""
    v = x * np.array([0.5, 1.0, 2.0]) + y
    spread = moments(v)[1] - moments(v)[0] ** 2
    top = moments(v)[-1][1]
    logdet = np.linalg.slogdet(np.outer(v, v) + np.eye(3))[1]
    return spread + top * y + logdet


def test_constant_items_of_call_results():
    check_four_ways(pick_items, 0.3, -0.7)
    check_four_ways(pick_items, np.float64(1.1), 0.4)


def _imports_inside(beta, X, y):
    import math

    import numpy.linalg as la
    from scipy.special import log_expit

    z = X @ beta
    return np.sum(y * log_expit(z) + (1 - y) * log_expit(-z)) + math.sqrt(la.norm(beta) ** 2 + 1.0)


def test_imports_inside_the_function_bind_their_names():
    """``from scipy.special import log_expit`` inside a likelihood: its names denote what
    it imports, as at module level."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 3)), (rng.random(8) > 0.5).astype(float)
    check_four_ways(_imports_inside, np.array([0.3, -0.2, 0.5]), X, y, wrt=0)


def test_a_user_rule_is_called_once_under_its_own_name():
    """``defgrad``'s rule returns the adjoints of every argument at once: the gradient
    calls it once (under the user's name) and takes each argument's part."""
    g = srcad.grad(uses_scaled_product, wrt=(0, 1))
    source = g.backward_source
    assert source.count("scaled_product_rule(") == 1, source
    assert "rule(" not in source.replace("scaled_product_rule(", "")
    check_four_ways(uses_scaled_product, 0.7, -1.2, wrt=(0, 1), forward=False)  # (no tangent)


def _rates(x, v):
    return v, -x - 0.1 * v


def _euler_with_indexed_rates(w):
    x, v = 1.0, 0.0
    for _ in range(20):
        k = _rates(x, v)
        x += 0.1 * k[0] * w
        v += 0.1 * k[1] * w
    return x


def test_an_item_of_a_name_holding_a_helpers_tuple_is_that_value():
    """``k = rates(x, v); k[0]``: the item the helper returned, as ``rates(x, v)[0]`` is,
    not a tuple made again and indexed at every read (round 61: 11x the function, where
    unpacking ``dx, dv = rates(x, v)`` was 2.3x)."""
    built = srcad.grad(_euler_with_indexed_rates)
    assert "(" not in "".join(
        line.split("#")[0] for line in built.forward_source.splitlines()
        if "=" in line and "range(" not in line
    )
    check_four_ways(_euler_with_indexed_rates, 0.7)


# ------------------------------------------- a helper's list grown after its display


def joined(t, first=None, last=None):
    parts = []
    for part in (first, t, last):
        if part is None:
            continue
        parts.append(part)
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def joined_with_a_zero(t):
    return np.sum(joined(t, np.zeros(1)) ** 2)


def grown(x, n=2):
    xs = [x]
    xs.append(2.0 * x)
    if len(xs) == n:
        return xs[0] * xs[1]
    return x


def grown_to_two(x):
    return grown(x, 2)


@pytest.mark.parametrize("f, x, value, gradient", [
    (joined_with_a_zero, np.array([1.0, 2.0]), 5.0, [2.0, 4.0]),
    (grown_to_two, 1.5, 4.5, 6.0),
])
def test_a_list_display_grown_later_keeps_no_length_known(f, x, value, gradient):
    # A helper inlined with constant arguments is specialised on them; the length of a
    # list display was taken as known after `parts.append(...)` (in a loop, a helper or
    # plain), which decided `len(parts) > 1` the wrong way: wrong values and gradients
    v, g = srcad.value_and_grad(f)(x)
    assert v == pytest.approx(value, rel=1e-14)
    np.testing.assert_allclose(g, gradient, rtol=1e-14)
    check_four_ways(f, x)


def matrix_power(m, n):
    if n == 1:
        return m
    half = matrix_power(m, n // 2)
    sq = [[half[0][0] * half[0][0] + half[0][1] * half[1][0],
           half[0][0] * half[0][1] + half[0][1] * half[1][1]],
          [half[1][0] * half[0][0] + half[1][1] * half[1][0],
           half[1][0] * half[0][1] + half[1][1] * half[1][1]]]
    if n % 2 == 0:  # (decided on n's value: specialize computes n % 2)
        return sq
    return [[sq[0][0] * m[0][0] + sq[0][1] * m[1][0], sq[0][0] * m[0][1] + sq[0][1] * m[1][1]],
            [sq[1][0] * m[0][0] + sq[1][1] * m[1][0], sq[1][0] * m[0][1] + sq[1][1] * m[1][1]]]


def cubed_trace(k):
    m = [[k, 1.0], [0.5, k]]
    p = matrix_power(m, 3)
    return p[0][0] + p[1][1]


def test_recursion_deciding_an_if_statement_on_arithmetic_of_its_constant():
    # (it was refused, with no location: the branches returned different list displays)
    k = 1.3
    # M^3 of [[k, 1], [.5, k]]: trace = 2 (k^3 + 1.5 k)
    assert srcad.grad(cubed_trace)(k) == pytest.approx(2 * (3 * k * k + 1.5), rel=1e-14)
    check_four_ways(cubed_trace, k)


def rows_by_branch(x, c):
    if c > 0:  # <rows-join>
        r = [[x, 1.0], [2.0, x]]
    else:
        r = [[1.0, x], [x, 2.0]]
    return r[0][0] * r[1][1]


def test_a_refused_join_of_rows_names_the_if():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(rows_by_branch)(1.5, 1.0)
    assert info.value.lineno == marker_line(__file__, "rows-join")


def doubled_unless(x, n=2):
    scaled = lambda n: n * x if n != 2 else 0.0  # noqa: E731
    return sum([x if n == 2 else 2.0 * x for n in range(3)]) + scaled(3.0)


def doubled_unless_called(x):
    return doubled_unless(x, 2)


def test_a_helper_specialised_on_a_constant_keeps_the_names_its_comprehensions_bind():
    # (`for n in range(3)` and `lambda n:` bind their own n; the test was decided on the
    # parameter n=2: x + x + x, where Python computes x + 2x + 2x)
    assert srcad.value_and_grad(doubled_unless_called)(0.7) == pytest.approx((5.0 * 0.7 + 2.1, 8.0))
    check_four_ways(doubled_unless_called, 0.7)


def rebound_by_with(x, n=2):
    with contextlib.nullcontext(3) as n:  # (n is 3 from here)
        pass
    if n == 3:
        return x * x
    return x


def rebound_by_with_called(x):
    return rebound_by_with(x, 2)


def test_a_with_target_rebinds_a_constant_parameter():
    assert srcad.value_and_grad(rebound_by_with_called)(0.7) == pytest.approx((0.49, 1.4))
