"""Functions passed as arguments to the helpers a differentiated function calls: an
integrator ``rk4(f, y, h)`` called with a module's function, ``apply(np.sin, x)``, a
``def`` or named lambda of the code (a closure) passed down. Calls of the parameter are
calls of that function (inlined, or by its derivative rule). Checked four ways."""

import functools
import math

import numpy as np
import pytest
from conftest import assert_located, check_four_ways, marker_line

import srcad


def decay(y, k):
    return -k * y * y


def rk4_step(f, y, h, k):
    k1 = f(y, k)
    k2 = f(y + 0.5 * h * k1, k)
    k3 = f(y + 0.5 * h * k2, k)
    k4 = f(y + h * k3, k)
    return y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def integrate(rhs, y0, k, steps):
    y = y0
    for _ in range(steps):
        y = rk4_step(rhs, y, 0.1, k)
    return y


def decay_end(y0, k):
    return integrate(decay, y0, k, 5)  # (passed down two helpers)


def test_an_integrator_called_with_a_modules_function():
    dy0, dk = check_four_ways(decay_end, 1.0, 0.5)
    exact = 1.0 / (1.0 / 1.0 + 0.5 * 0.5)  # y' = -k y^2: y = 1 / (1 / y0 + k t)
    assert decay_end(1.0, 0.5) == pytest.approx(exact, rel=1e-6)
    assert dy0 == pytest.approx(exact**2, rel=1e-5)  # dy/dy0 = y^2 / y0^2
    assert dk == pytest.approx(-0.5 * exact**2, rel=1e-5)  # dy/dk = -t y^2


def apply_twice(g, x):
    return g(g(x))


def numpy_function_passed(x):
    return np.sum(apply_twice(np.sin, x) + apply_twice(math.tanh, 0.3) * x)


def test_a_numpy_function_passed_keeps_its_rule():
    x = np.array([0.2, -0.7, 1.1])
    (dx,) = check_four_ways(numpy_function_passed, x)
    expected = np.cos(np.sin(x)) * np.cos(x) + math.tanh(math.tanh(0.3))
    np.testing.assert_allclose(dx, expected, rtol=1e-12)
    assert "np.sin(" in srcad.grad(numpy_function_passed).backward_source


def local_functions_passed(x, c):
    scaled = lambda t: t * c  # noqa: E731 (a closure over c)

    def cube(t):
        return t * t * t

    return apply_twice(scaled, x) + apply_twice(cube, 0.5 * x)


def test_a_def_or_named_lambda_of_the_code_passed_as_an_argument():
    dx, dc = check_four_ways(local_functions_passed, 0.7, 1.3)
    assert dx == pytest.approx(1.3**2 + 9 * 0.5**9 * 0.7**8, rel=1e-12)
    assert dc == pytest.approx(2 * 1.3 * 0.7, rel=1e-12)


def reads_the_passed_function(g, x):
    return x * len(g.__name__)  # <value>


def passes_a_def_as_a_value(x):
    def inner(t):
        return t

    return reads_the_passed_function(inner, x)


def test_a_def_passed_as_an_argument_may_only_be_called():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(passes_a_def_as_a_value)
    assert_located(info.value, __file__, "value")
    assert "call it" in info.value.hint


def local_aliases_of_functions(x):
    act = np.tanh
    wave = math.sin
    return np.sum(act(x)) + wave(x[0]) + np.sum(applied_twice(act, x))


def applied_twice(g, x):
    return g(g(x))


def test_a_local_name_for_a_function_calls_that_function():
    """``act = np.tanh`` then ``act(z)`` (and passing ``act`` on): the name is assigned
    once, so its calls are calls of ``np.tanh``, by its rule (it was refused as a
    function without a rule or source)."""
    x = np.array([0.3, -0.7])
    (dx,) = check_four_ways(local_aliases_of_functions, x)
    t = np.tanh(x)
    want = (1 - t**2) + np.array([math.cos(0.3), 0.0]) + (1 - np.tanh(t) ** 2) * (1 - t**2)
    np.testing.assert_allclose(dx, want, rtol=1e-12)


def alias_in_one_branch(x, mode):
    if mode == "tanh":
        act = np.tanh
    return np.sum(act(x))  # <branch alias>


def test_a_function_name_bound_in_one_branch_only_is_not_that_function():
    """Bound on one path only, ``act`` is not known when srcad compiles: refused (it
    used to be np.tanh on every path, where Python raises UnboundLocalError)."""
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(alias_in_one_branch)(np.array([0.3, -0.7]), "relu")
    assert info.value.lineno == marker_line(__file__, "branch alias")


def _softplus(z):
    return math.log1p(math.exp(z))


def activated_loss(x, act):
    return act(x) * x + act(2.0 * x)


def activated_by_default(x, w, act=math.tanh):
    return act(w * x) ** 2


@pytest.mark.parametrize("act", [math.tanh, np.sin, _softplus, lambda z: z * z * 0.5])
def test_a_function_the_call_passes_is_read_as_that_function(act):
    """A function given as an argument of the differentiated function (round 65b: refused
    as a parameter whose class srcad does not know): srcad builds the gradient for the
    function each call passes, and keeps one per function."""
    got = check_four_ways(activated_loss, 0.4, act, wrt=("x",))
    h = 1e-6
    want = (activated_loss(0.4 + h, act) - activated_loss(0.4 - h, act)) / (2 * h)
    assert got[0] == pytest.approx(want, rel=1e-6)


def test_a_function_fixed_by_partial_or_default_is_read_as_that_function():
    fixed = functools.partial(activated_loss, act=np.tanh)
    x = 0.4
    want = np.tanh(x) + x * (1 - np.tanh(x) ** 2) + 2 * (1 - np.tanh(2 * x) ** 2)
    assert srcad.grad(fixed)(x) == pytest.approx(want, rel=1e-12)
    check_four_ways(activated_by_default, 0.7, 1.3, wrt=("x", "w"))
    sine = srcad.grad(activated_by_default, wrt=(0, 1))(0.7, 1.3, np.sin)  # (another one)
    assert sine[0] == pytest.approx(2 * np.sin(0.91) * np.cos(0.91) * 1.3, rel=1e-12)


def _annealed():
    k = 1.0

    def act(z):
        return k * z * z

    def anneal(value):
        nonlocal k
        k = value

    return act, anneal


def test_a_closure_given_as_an_argument_is_read_with_its_captured_values():
    """Round 66: a function argument whose captured value changes (an annealed
    temperature) kept the gradient built for the first value."""
    gradient = srcad.grad(activated_loss)
    act, anneal = _annealed()
    for k in (1.0, 4.0, 0.5):
        anneal(k)
        # d/dx [k x^3 + k (2x)^2] = 3 k x^2 + 8 k x
        assert gradient(0.7, act) == pytest.approx(3 * k * 0.49 + 8 * k * 0.7, rel=1e-12)


def test_a_partial_fixed_function_given_again_by_keyword_is_refused():
    fixed = srcad.grad(functools.partial(activated_loss, act=np.cos))
    assert fixed(0.4) == pytest.approx(
        np.cos(0.4) - 0.4 * np.sin(0.4) - 2 * np.sin(0.8), rel=1e-12
    )
    with pytest.raises(srcad.SrcadError, match="`act` is fixed to 'cos'"):
        fixed(0.4, act=np.sin)


def _shape_a(z):
    return z * z


def _uses_shape(z):
    return _SHAPE(z) + z


_SHAPE = _shape_a


def test_a_function_argument_reading_a_rebound_global_is_built_again():
    """Round 67: the function given calls a global helper that is then rebound; the
    gradient built for the first helper was reused."""
    global _SHAPE
    gradient = srcad.grad(activated_loss)
    # activated_loss(x, act) = act(x) x + act(2x); act(z) = shape(z) + z
    assert gradient(0.7, _uses_shape) == pytest.approx(3 * 0.49 + 2 * 0.7 + 8 * 0.7 + 2)
    _SHAPE = np.sin
    try:
        want = np.sin(0.7) + 0.7 * np.cos(0.7) + 2 * 0.7 + 2 * np.cos(1.4) + 2
        assert gradient(0.7, _uses_shape) == pytest.approx(want, rel=1e-12)
    finally:
        _SHAPE = _shape_a


def _newton(f, x0, steps=6):
    x = x0
    for _ in range(steps):
        h = 1e-7
        x = x - f(x) / ((f(x + h) - f(x - h)) / (2 * h))
    return x


def _midpoint(f, a, b, n=16):
    h = (b - a) / n
    return h * sum(f(a + (i + 0.5) * h) for i in range(n))


def root_and_area(a, k):
    root = _newton(lambda x: x * x - a, 1.0)
    return root + _midpoint(lambda t: math.exp(-k * t) * a, 0.0, 1.0) + _midpoint(
        f=lambda t: t * k, a=0.0, b=2.0)


def lambda_in_a_comprehension(k):
    parts = [_midpoint(lambda t: t * c, 0.0, k) for c in (1.0, 2.0)]  # noqa: B023 # <lambda-in-comp>
    return sum(parts)


def test_a_lambda_given_to_a_helper():
    # (round 72b: 7 of 49 refusals, "a lambda is supported only when assigned to a name")
    check_four_ways(root_and_area, 2.0, 0.7)
    with pytest.raises(srcad.SrcadError, match="outside comprehensions") as info:
        srcad.grad(lambda_in_a_comprehension)(0.7)
    assert info.value.lineno == marker_line(__file__, "lambda-in-comp")


def _apply(f, x):
    return f(x)


def lambda_with_a_default(a):
    u = [a]
    return _apply(lambda t, c=u[0]: t * c, 2.0) + a  # <lambda-default>


def test_a_lambda_with_defaults_given_to_a_call_stays_refused():
    # (round 74: named before its statement, its defaults were evaluated too early)
    with pytest.raises(srcad.SrcadError, match="without defaults") as info:
        srcad.grad(lambda_with_a_default)(0.7)
    assert info.value.lineno == marker_line(__file__, "lambda-default")
