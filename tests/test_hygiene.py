"""User names that look like the names a code generator would invent must not
collide with srcad's generated names: the gradients stay correct."""

import math
import os
import sys
from math import exp, sin

import pytest

import srcad

sys.path.insert(0, os.path.dirname(__file__))
from conftest import assert_grad_close  # noqa: E402

# ---------------------------------------------------------------- required names


def local_dx(x):
    dx = x * 3.0
    return dx * x + dx


def param_dx(x, dx):
    return x * dx + dx * dx


def local_df(x, y):
    df = x * y
    f = df + x
    return df * f


def locals_t1_t2(x, y):
    t1 = x * y
    t2 = t1 + x
    t1 = t2 * t1
    return t1 - t2 / y


def local_d_x(x, y):
    d_x = x * x
    d_y = y * d_x
    return d_x + d_y * x


def param_d_x(x, d_x):
    return x * d_x + sin(d_x) * x


def local_math(x):
    math = x * 2.0  # noqa: F811 - shadows the module on purpose
    return math * x + math


def local_np(x, y):
    np = x * y
    return np * np + x


def local_math_with_bare_calls(x):
    math = exp(x)  # noqa: F811
    return sin(math) * x


def local_g(x, y):
    g = x * y
    return g * g + y


def local_ans(x):
    ans = x * x
    ans = ans + 1.0
    return ans * x


def local_grad(x, y):
    grad = x * y
    return grad * x + grad


def all_at_once(x, dx, y):
    df = x * dx
    t1 = df + y
    t2 = t1 * x
    d_x = t2 - dx
    g = d_x * y
    ans = g + df
    grad = ans * t1
    np = grad + x
    return np * dx + math.exp(t2 / 10.0)


def param_named_like_function(local_df, x):
    return local_df * x + x


REQUIRED = [
    (local_dx, [(1.3,), (-0.7,)]),
    (param_dx, [(1.3, -0.4), (-0.7, 2.0)]),
    (local_df, [(1.3, -0.4), (-0.7, 2.0)]),
    (locals_t1_t2, [(1.3, -0.4), (-0.7, 2.0)]),
    (local_d_x, [(1.3, -0.4), (-0.7, 2.0)]),
    (param_d_x, [(1.3, -0.4), (-0.7, 2.0)]),
    (local_math, [(1.3,), (-0.7,)]),
    (local_np, [(1.3, -0.4), (-0.7, 2.0)]),
    (local_math_with_bare_calls, [(1.3,), (-0.7,)]),
    (local_g, [(1.3, -0.4), (-0.7, 2.0)]),
    (local_ans, [(1.3,), (-0.7,)]),
    (local_grad, [(1.3, -0.4), (-0.7, 2.0)]),
    (all_at_once, [(1.3, -0.4, 0.8), (-0.7, 2.0, -1.1)]),
    (param_named_like_function, [(1.3, -0.4), (-0.7, 2.0)]),
]


def _params(cases):
    return [
        pytest.param(f, args, id=f"{f.__name__}{args}") for f, points in cases for args in points
    ]


@pytest.mark.parametrize("f, args", _params(REQUIRED))
def test_required_hygiene(f, args):
    assert_grad_close(f, *args)


def test_param_dx_analytic():
    # f = x*dx + dx**2 -> (dx, x + 2 dx)
    got = srcad.grad(param_dx, wrt=(0, 1))(1.5, -2.0)
    assert got == pytest.approx((-2.0, 1.5 - 4.0), rel=1e-12)


def test_value_and_grad_with_colliding_names():
    value, grads = srcad.value_and_grad(all_at_once, wrt=("x", "dx", "y"))(1.3, -0.4, 0.8)
    assert value == pytest.approx(all_at_once(1.3, -0.4, 0.8), rel=1e-14)
    assert len(grads) == 3


# ---------------------------------------------------------------- helpers and inlining


def sq(z):
    t = z * z
    return t


def d_sq(z):
    # A user function whose name looks like a generated derivative of sq.
    return 100.0 * z


def sq_grad(z):
    return -7.0 * z


def mix(x, y):
    # parameter names equal to the caller's names, but bound swapped
    t = x * y
    return t + x


def calls_mix_swapped(x, y):
    t = x + 1.0
    return mix(y, x) * t


def calls_sq_and_d_sq(x, y):
    return sq(x) + d_sq(y) + sq_grad(x * y)


def calls_helper_twice(x, y):
    t = sq(x)
    u = sq(y)
    return t * u + sq(t)


HELPER_CASES = [
    (calls_mix_swapped, [(1.3, -0.4), (-0.7, 2.0)]),
    (calls_sq_and_d_sq, [(1.3, -0.4), (-0.7, 2.0)]),
    (calls_helper_twice, [(1.3, -0.4), (-0.7, 2.0)]),
]


@pytest.mark.parametrize("f, args", _params(HELPER_CASES))
def test_helper_name_hygiene(f, args):
    assert_grad_close(f, *args)


def test_calls_mix_swapped_analytic():
    x, y = 1.3, -0.4
    # mix(y, x) = y*x + y ; f = (x*y + y) * (x + 1)
    dx = y * (x + 1.0) + (x * y + y)
    dy = (x + 1.0) * (x + 1.0)
    assert srcad.grad(calls_mix_swapped, wrt=(0, 1))(x, y) == pytest.approx((dx, dy), rel=1e-12)


def test_d_sq_is_not_mistaken_for_a_derivative():
    # f = x**2 + 100 y - 7 x y
    gx, gy = srcad.grad(calls_sq_and_d_sq, wrt=("x", "y"))(2.0, 3.0)
    assert gx == pytest.approx(2 * 2.0 - 7.0 * 3.0, rel=1e-12)
    assert gy == pytest.approx(100.0 - 7.0 * 2.0, rel=1e-12)


# ---------------------------------------------------------------- no global side effects


def test_decoration_does_not_touch_user_globals():
    before = dict(globals())
    g = srcad.grad(all_at_once)
    g(1.3, -0.4, 0.8)
    srcad.value_and_grad(calls_mix_swapped)(1.3, -0.4)
    after = globals()
    assert set(after) == set(before), f"new/removed globals: {set(after) ^ set(before)}"
    for k, v in before.items():
        assert after[k] is v, f"global {k!r} was rebound"


# ---------------------------------------------------------------- beyond the required list
# Other names a generator plausibly uses internally (adjoint/bar/temporaries,
# builtins the generated code might call).  Not listed in the brief, but a
# collision here would equally be a wrong gradient.


def internal_looking_names(x, y):
    x_bar = x * y
    xbar = x_bar + 1.0
    _x = xbar * x
    x_ = _x - y
    adj_x = x_ * 2.0
    _d_x = adj_x + x
    dx_ = _d_x * y
    ddx = dx_ + x_bar
    _t0 = ddx * 0.5
    _t1 = _t0 + x
    v0 = _t1 * y
    tmp = v0 + x
    out = tmp * 1.5
    result = out + x
    grads = result * y
    seed = grads - x
    _ = seed + 1.0
    return _ * x + seed


def shadowed_builtins(x, y):
    float = x * y  # noqa: A001
    sum = float + x  # noqa: A001
    tuple = sum * y  # noqa: A001
    len = tuple - x  # noqa: A001
    zip = len * 2.0  # noqa: A001
    return zip * x + float


def adjoint_renaming_chain(x, dx):
    # names a generator produces when it renames the adjoint of dx / d_x
    d_x = x * dx
    d_x_1 = d_x + x
    ddx = d_x_1 * dx
    dd_x = ddx + 1.0
    d_dx = dd_x * x
    d_x_2 = d_dx - dx
    return d_x_2 * x + dd_x


def runtime_helper_names(x, y):
    # names of helpers generated code might call at run time
    require_scalar = x * y
    check_scalar = require_scalar + x
    unbroadcast = check_scalar * y
    zeros_like = unbroadcast - x
    return zeros_like * x + require_scalar


EXTRA_CASES = [
    (adjoint_renaming_chain, [(1.3, -0.4), (-0.7, 2.0)]),
    (runtime_helper_names, [(1.3, -0.4), (-0.7, 2.0)]),
    (internal_looking_names, [(1.3, -0.4), (-0.7, 2.0)]),
    (shadowed_builtins, [(1.3, -0.4), (-0.7, 2.0)]),
]


@pytest.mark.parametrize("f, args", _params(EXTRA_CASES))
def test_extra_hygiene(f, args):
    assert_grad_close(f, *args)
