"""Every derivative rule srcad knows, checked against central differences and,
with hypothesis, against the analytic derivative.

All differentiated functions live at module level: srcad reads their source
with ``inspect.getsource``.
"""

import functools
import math
import math as m
import os
import sys
from math import cos, exp, log, pow, sin, sqrt, tan, tanh
from math import sin as s

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcad

sys.path.insert(0, os.path.dirname(__file__))
from conftest import (  # noqa: E402
    as_tuple,
    assert_grad_close,
    check_four_ways,
    positional_params,
)

# ---------------------------------------------------------------- arithmetic


def add(x, y):
    return x + y


def add_const(x):
    return x + 2.5


def radd_const(x):
    return 3 + x


def sub(x, y):
    return x - y


def rsub_const(x):
    return 1.0 - x


def sub_self(x):
    return x - x


def mul(x, y):
    return x * y


def mul_self(x):
    return x * x


def mul_const(x):
    return 3.0 * x * 1e-1


def div(x, y):
    return x / y


def div_const(x):
    return x / 4


def rdiv_const(x):
    return 2.0 / x


def div_self(x):
    return x / x


def quotient_mix(x, y):
    return (x * y + 1.0) / (x - y * 2)


# ---------------------------------------------------------------- powers


def pow_int2(x):
    return x**2


def pow_int3(x):
    return x**3


def pow_int_neg(x):
    return x**-2


def pow_one(x):
    return x**1


def pow_zero(x):
    return x**0


def pow_float_int(x):
    return x**2.0


def pow_half(x):
    return x**0.5


def pow_float(x):
    return x**2.5


def pow_float_neg(x):
    return x**-1.5


def pow_var(x, y):
    return x**y


def pow_var_expr(x, y):
    return (x * x + 1.0) ** (y - x)


def pow_int_param(x, n):
    return x**n


def pow_int_param_expr(x, n):
    return 2.0 * x**n + x ** (n + 1)


def exp2(x):
    return 2.0**x


def exp2_expr(x, y):
    return 3.0 ** (x * y)


# ---------------------------------------------------------------- unary signs


def neg(x):
    return -x


def neg_expr(x, y):
    return -(x * y) + -y


def pos(x):
    return +x


def pos_expr(x, y):
    return +(x * y) - +y


# ---------------------------------------------------------------- math module


def math_exp(x):
    return math.exp(x)


def math_log(x):
    return math.log(x)


def math_sqrt(x):
    return math.sqrt(x)


def math_sin(x):
    return math.sin(x)


def math_cos(x):
    return math.cos(x)


def math_tan(x):
    return math.tan(x)


def math_tanh(x):
    return math.tanh(x)


def math_pow_const(x):
    return math.pow(x, 3.0)


def math_pow_var(x, y):
    return math.pow(x, y)


def builtin_abs(x):
    return abs(x)


def builtin_pow_const(x):
    return pow(x, 3)


def builtin_pow_var(x, y):
    return pow(x, y)


def math_chain(x, y):
    return math.exp(math.sin(x * y)) + math.log(x * x + 1.0) * math.sqrt(y * y + 2.0)


def math_chain2(x):
    return math.tanh(math.cos(x) ** 2) / (1.0 + abs(math.tan(x)))


# ---------------------------------------------------------------- numpy twins


def np_exp(x):
    return np.exp(x)


def np_log(x):
    return np.log(x)


def np_sqrt(x):
    return np.sqrt(x)


def np_sin(x):
    return np.sin(x)


def np_cos(x):
    return np.cos(x)


def np_tan(x):
    return np.tan(x)


def np_tanh(x):
    return np.tanh(x)


def np_abs(x):
    return np.abs(x)


def np_chain(x, y):
    return np.exp(np.sin(x * y)) + np.log(x * x + 1.0) * np.sqrt(y * y + 2.0)


# ---------------------------------------------------------------- bare names


def bare_exp(x):
    return exp(x)


def bare_log(x):
    return log(x)


def bare_sqrt(x):
    return sqrt(x)


def bare_sin(x):
    return sin(x)


def bare_cos(x):
    return cos(x)


def bare_tan(x):
    return tan(x)


def bare_tanh(x):
    return tanh(x)


def bare_pow_const(x):
    return pow(x, 3.0)


def bare_pow_var(x, y):
    return pow(x, y)


def bare_chain(x, y):
    return exp(sin(x * y)) + log(x * x + 1.0) * sqrt(y * y + 2.0) + tanh(cos(x)) * tan(y / 4)


# ---------------------------------------------------------------- aliases


def alias_sin(x):
    return s(x)


def alias_module_exp(x):
    return m.exp(x)


def alias_module_cos(x):
    return m.cos(x)


def alias_module_log(x):
    return m.log(x)


def alias_module_pow(x, y):
    return m.pow(x, y)


def alias_chain(x):
    return s(m.exp(x)) * m.sqrt(x * x + 1.0)


# ---------------------------------------------------------------- points

ANY = [-2.3, -0.7, 0.4, 1.9]
POS = [0.3, 1.0, 2.7]
NONZERO = [-1.7, -0.4, 0.6, 2.2]
TAN = [-1.0, 0.2, 1.1]
PAIRS = [(-1.3, 2.1), (0.5, -0.8), (2.4, 1.7)]
POS_BASE_PAIRS = [(0.6, 2.3), (1.7, -0.9), (3.1, 0.5)]

UNARY_CASES = [
    (add_const, ANY),
    (radd_const, ANY),
    (rsub_const, ANY),
    (sub_self, ANY),
    (mul_self, ANY),
    (mul_const, ANY),
    (div_const, ANY),
    (rdiv_const, NONZERO),
    (div_self, NONZERO),
    (pow_int2, ANY),
    (pow_int3, ANY),
    (pow_int_neg, NONZERO),
    (pow_one, ANY),
    (pow_zero, NONZERO),
    (pow_float_int, ANY),
    (pow_half, POS),
    (pow_float, POS),
    (pow_float_neg, POS),
    (exp2, ANY),
    (neg, ANY),
    (pos, ANY),
    (math_exp, ANY),
    (math_log, POS),
    (math_sqrt, POS),
    (math_sin, ANY),
    (math_cos, ANY),
    (math_tan, TAN),
    (math_tanh, ANY),
    (math_pow_const, ANY),
    (builtin_abs, NONZERO),
    (builtin_pow_const, ANY),
    (math_chain2, TAN),
    (np_exp, ANY),
    (np_log, POS),
    (np_sqrt, POS),
    (np_sin, ANY),
    (np_cos, ANY),
    (np_tan, TAN),
    (np_tanh, ANY),
    (np_abs, NONZERO),
    (bare_exp, ANY),
    (bare_log, POS),
    (bare_sqrt, POS),
    (bare_sin, ANY),
    (bare_cos, ANY),
    (bare_tan, TAN),
    (bare_tanh, ANY),
    (bare_pow_const, ANY),
    (alias_sin, ANY),
    (alias_module_exp, ANY),
    (alias_module_cos, ANY),
    (alias_module_log, POS),
    (alias_chain, ANY),
]

BINARY_CASES = [
    (add, PAIRS),
    (sub, PAIRS),
    (mul, PAIRS),
    (div, PAIRS),
    (quotient_mix, PAIRS),
    (pow_var, POS_BASE_PAIRS),
    (pow_var_expr, PAIRS),
    (exp2_expr, PAIRS),
    (neg_expr, PAIRS),
    (pos_expr, PAIRS),
    (math_pow_var, POS_BASE_PAIRS),
    (builtin_pow_var, POS_BASE_PAIRS),
    (math_chain, PAIRS),
    (np_chain, PAIRS),
    (bare_pow_var, POS_BASE_PAIRS),
    (bare_chain, PAIRS),
    (alias_module_pow, POS_BASE_PAIRS),
]


def _flatten(cases, binary):
    params = []
    for f, points in cases:
        for p in points:
            args = p if binary else (p,)
            params.append(pytest.param(f, args, id=f"{f.__name__}{args}"))
    return params


@pytest.mark.parametrize("f, args", _flatten(UNARY_CASES, binary=False))
def test_unary_rule_vs_central_differences(f, args):
    assert_grad_close(f, *args)


@pytest.mark.parametrize("f, args", _flatten(BINARY_CASES, binary=True))
def test_binary_rule_vs_central_differences(f, args):
    assert_grad_close(f, *args)


@pytest.mark.parametrize("x", ANY)
@pytest.mark.parametrize("n", [0, 1, 2, 3, -1, -2])
def test_pow_integer_parameter_not_in_wrt(x, n):
    if n <= 0 and x == 0.0:
        pytest.skip("0 ** negative is undefined")
    # x may be negative: the rule for a non-differentiated exponent must not
    # involve log(x).
    g = srcad.grad(pow_int_param, wrt=(0,))(x, n)
    assert not isinstance(g, tuple), "exactly one wrt parameter -> bare value"
    assert g == pytest.approx(n * x ** (n - 1), rel=1e-12, abs=1e-300)
    assert_grad_close(pow_int_param, x, n, wrt=(0,))
    assert_grad_close(pow_int_param, x, n, wrt=("x",))


@pytest.mark.parametrize("x", ANY)
@pytest.mark.parametrize("n", [1, 2, 3])
def test_pow_integer_parameter_in_expression(x, n):
    assert_grad_close(pow_int_param_expr, x, n, wrt=("x",))


@pytest.mark.parametrize("x", [-2.5, -1.0, -0.3])
def test_math_pow_constant_exponent_negative_base(x):
    # math.pow(x, 3.0) is defined for negative x; its derivative 3 x**2 must not
    # go through log(x).
    assert srcad.grad(math_pow_const)(x) == pytest.approx(3 * x * x, rel=1e-12)
    assert srcad.grad(bare_pow_const)(x) == pytest.approx(3 * x * x, rel=1e-12)


@pytest.mark.parametrize("f", [np_exp, np_sin, np_tanh, np_abs, np_sqrt])
def test_numpy_twins_accept_numpy_float_scalars(f):
    x = np.float64(1.3)
    g = srcad.grad(f)(x)
    assert float(g) == pytest.approx(float(srcad.grad(f)(1.3)), rel=1e-15)
    assert_grad_close(f, x)


def test_abs_sign_of_derivative():
    assert srcad.grad(builtin_abs)(-2.0) == -1.0
    assert srcad.grad(builtin_abs)(3.0) == 1.0
    assert srcad.grad(np_abs)(-2.0) == -1.0
    assert srcad.grad(np_abs)(3.0) == 1.0


def test_simple_rules_exact_values():
    assert srcad.grad(add, wrt=(0, 1))(1.5, -2.0) == (1.0, 1.0)
    assert srcad.grad(sub, wrt=(0, 1))(1.5, -2.0) == (1.0, -1.0)
    assert srcad.grad(mul, wrt=(0, 1))(1.5, -2.0) == (-2.0, 1.5)
    assert srcad.grad(div, wrt=(0, 1))(3.0, 2.0) == (0.5, -0.75)
    assert srcad.grad(neg)(4.0) == -1.0
    assert srcad.grad(pos)(4.0) == 1.0
    assert srcad.grad(pow_int3)(2.0) == 12.0
    assert srcad.grad(mul_self)(-3.0) == -6.0


# ---------------------------------------------------------------- hypothesis

_any = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
_pos = st.floats(0.05, 5.0, allow_nan=False, allow_infinity=False)
_nonzero = st.one_of(st.floats(-3.0, -0.05), st.floats(0.05, 3.0))
_tan = st.floats(-1.3, 1.3, allow_nan=False, allow_infinity=False)


def _sec2(x):
    return 1.0 + math.tan(x) ** 2


ANALYTIC = [
    # (function, analytic derivative, domain)
    (mul_self, lambda x: 2 * x, _any),
    (rdiv_const, lambda x: -2.0 / x**2, _nonzero),
    (pow_int2, lambda x: 2 * x, _any),
    (pow_int3, lambda x: 3 * x**2, _any),
    (pow_int_neg, lambda x: -2 * x**-3, _nonzero),
    (pow_float_int, lambda x: 2 * x, _any),
    (pow_half, lambda x: 0.5 * x**-0.5, _pos),
    (pow_float, lambda x: 2.5 * x**1.5, _pos),
    (pow_float_neg, lambda x: -1.5 * x**-2.5, _pos),
    (exp2, lambda x: math.log(2.0) * 2.0**x, _any),
    (neg, lambda x: -1.0, _any),
    (pos, lambda x: 1.0, _any),
    (math_exp, math.exp, _any),
    (math_log, lambda x: 1.0 / x, _pos),
    (math_sqrt, lambda x: 0.5 / math.sqrt(x), _pos),
    (math_sin, math.cos, _any),
    (math_cos, lambda x: -math.sin(x), _any),
    (math_tan, _sec2, _tan),
    (math_tanh, lambda x: 1.0 - math.tanh(x) ** 2, _any),
    (math_pow_const, lambda x: 3.0 * x**2, _any),
    (builtin_abs, lambda x: math.copysign(1.0, x), _nonzero),
    (np_exp, math.exp, _any),
    (np_log, lambda x: 1.0 / x, _pos),
    (np_sqrt, lambda x: 0.5 / math.sqrt(x), _pos),
    (np_sin, math.cos, _any),
    (np_cos, lambda x: -math.sin(x), _any),
    (np_tan, _sec2, _tan),
    (np_tanh, lambda x: 1.0 - math.tanh(x) ** 2, _any),
    (np_abs, lambda x: math.copysign(1.0, x), _nonzero),
    (bare_exp, math.exp, _any),
    (bare_log, lambda x: 1.0 / x, _pos),
    (bare_sqrt, lambda x: 0.5 / math.sqrt(x), _pos),
    (bare_sin, math.cos, _any),
    (bare_cos, lambda x: -math.sin(x), _any),
    (bare_tan, _sec2, _tan),
    (bare_tanh, lambda x: 1.0 - math.tanh(x) ** 2, _any),
    (bare_pow_const, lambda x: 3.0 * x**2, _any),
    (alias_sin, math.cos, _any),
    (alias_module_exp, math.exp, _any),
    (alias_module_cos, lambda x: -math.sin(x), _any),
    (alias_module_log, lambda x: 1.0 / x, _pos),
]


@functools.cache
def _cached_grad(f, wrt=None):
    """srcad's gradient of ``f``, with respect to every parameter for ``wrt=None``."""
    return srcad.grad(f, wrt=tuple(positional_params(f)) if wrt is None else wrt)


@pytest.mark.parametrize("f, df, domain", [pytest.param(*c, id=c[0].__name__) for c in ANALYTIC])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_unary_rule_vs_analytic_hypothesis(f, df, domain, data):
    x = data.draw(domain, label="x")
    got = float(_cached_grad(f)(x))
    assert got == pytest.approx(df(x), rel=1e-9, abs=1e-12)


def composite(x, y):
    return sin(x) * math.exp(y) + x**3 / (1.0 + y * y) - x * y


@settings(max_examples=100, deadline=None)
@given(x=_any, y=_any)
def test_composite_vs_analytic_hypothesis(x, y):
    gx, gy = _cached_grad(composite)(x, y)
    q = 1.0 + y * y
    dx = math.cos(x) * math.exp(y) + 3 * x**2 / q - y
    dy = math.sin(x) * math.exp(y) - x**3 * 2 * y / q**2 - x
    assert gx == pytest.approx(dx, rel=1e-9, abs=1e-12)
    assert gy == pytest.approx(dy, rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(x=_pos, y=st.floats(-2.0, 2.0))
def test_variable_power_vs_analytic_hypothesis(x, y):
    gx, gy = as_tuple(_cached_grad(pow_var)(x, y), 2)
    assert gx == pytest.approx(y * x ** (y - 1), rel=1e-9, abs=1e-12)
    assert gy == pytest.approx(x**y * math.log(x), rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(x=_any, y=_any)
def test_chain_vs_central_differences_hypothesis(x, y):
    assert_grad_close(bare_chain, x, y)


def _rules_for(callee):
    from srcad.rules import TABLE
    from srcad.rules.table import callee_key

    return TABLE.candidates(callee_key(callee))


#: numpy calls (on a sample float array) that may return memory of their argument
_MAY_SHARE = [
    (np.real, (np.ones(4),)), (np.imag, (np.ones(4),)), (np.split, (np.ones(4), 2)),
    (np.array_split, (np.ones(4), 3)), (np.hsplit, (np.ones((2, 4)), 2)),
    (np.vsplit, (np.ones((4, 2)), 2)), (np.transpose, (np.ones((2, 3)),)),
    (np.reshape, (np.ones(6), (2, 3))), (np.ravel, (np.ones((2, 3)),)),
    (np.squeeze, (np.ones((1, 3)),)), (np.expand_dims, (np.ones(3), 0)),
    (np.moveaxis, (np.ones((2, 3)), 0, 1)), (np.swapaxes, (np.ones((2, 3)), 0, 1)),
    (np.diagonal, (np.ones((3, 3)),)), (np.broadcast_to, (np.ones(3), (2, 3))),
    (np.atleast_1d, (np.ones(3),)), (np.atleast_2d, (np.ones(3),)),
    (np.asarray, (np.ones(3),)), (np.asanyarray, (np.ones(3),)),
    (np.ascontiguousarray, (np.ones(3),)), (np.flip, (np.ones(3),)),
    (np.fliplr, (np.ones((2, 2)),)), (np.flipud, (np.ones((2, 2)),)),
    (np.rot90, (np.ones((2, 2)),)), (np.diag, (np.ones((3, 3)),)),
    (np.matrix_transpose if hasattr(np, "matrix_transpose") else np.transpose,
     (np.ones((2, 3)),)),
]


@pytest.mark.parametrize("callee, args", _MAY_SHARE, ids=lambda v: getattr(v, "__name__", ""))
def test_a_rule_for_a_call_that_returns_a_view_says_so(callee, args):
    """A call whose result shares its argument's memory must say so in its rule (a view
    with how to write back, ``restore``, or ``shares``: writes refused), or a write into
    the result would silently miss the argument (``r = np.real(a); r[0] = 0``)."""
    result = callee(*args)
    parts = result if isinstance(result, list | tuple) else [result]
    if not any(np.shares_memory(part, args[0]) for part in parts):
        return  # (numpy copies here: nothing to declare)
    rules = _rules_for(callee)
    undeclared = [r.name for r in rules if not (r.view or r.restore or r.shares)]
    assert not undeclared, f"rules returning views without saying so: {undeclared}"


def crossed_softmax(a, b, c):
    s = np.exp(a if c > 0 else b) / np.sum(np.exp(b if c > 0 else a), axis=0, keepdims=True)
    return np.sum(s * np.arange(3.0))


def test_an_idiom_matches_parts_with_no_ir_form_only_when_written_alike():
    """softmax's rule names x twice; ``a if c else b`` and ``b if c else a`` are not the
    same x (they matched as placeholders, with a wrong gradient)."""
    check_four_ways(crossed_softmax, np.array([0.1, 0.5, -0.3]), np.array([1.0, -2.0, 0.7]),
                    1.0, wrt=(0, 1))


def _bearing(x, y):
    return math.atan2(y, x) + np.arctan2(y, x)


@pytest.mark.parametrize("scale", [1e-170, 1e-160, 1.0, 1e170])
def test_atan2_slopes_at_extreme_scales(scale):
    """``d atan2(y, x)/dy = x / (x^2 + y^2)``: computed from the squares it was inf at
    1e-170 and 0 at 1e170 (round 97); divided by the hypotenuse twice it is right to
    rounding at every scale; forward mode too."""
    x, y = 0.6 * scale, 0.8 * scale
    want = (2 * -0.8 / scale, 2 * 0.6 / scale)
    assert srcad.grad(_bearing, wrt=(0, 1))(x, y) == pytest.approx(want, rel=1e-14)
    _, tangent = srcad.jvp(_bearing, (x, y), (0.0, 1.0))
    assert tangent == pytest.approx(want[1], rel=1e-14)
