"""NumPy arrays: parameters may be arrays, the differentiated function returns a scalar.

Written against the "NumPy arrays" issue.  Every differentiated function is defined at
module level (srcad reads its source with ``inspect``).

How the gradients are checked
-----------------------------
``check`` below computes srcad's gradient and compares it, entry by entry, with central
differences (``central_grad``), checks that every gradient has its parameter's shape
(a float for a Python-float parameter), and that srcad did not modify the caller's
arrays.

Tolerances (float64, eps = 1e-6, rtol = 1e-5, atol = 1e-7).  The central difference with
step ``h = eps * max(1, |x|)`` has truncation error ``h**2/6 * |f'''|`` ~ 2e-13 * |f'''|
and roundoff error ``u * |f| / h`` ~ 1.1e-16 * |f| / 1e-6 ~ 1e-10 * |f|.  The functions
here are sums of at most a few dozen O(1) terms evaluated at O(1) points, so |f| and
|f'''| stay below ~100 and the reference is accurate to ~1e-8 absolute.  atol = 1e-7
leaves an order of magnitude for that (gradient entries that are exactly zero, e.g. an
unselected index, are compared against a reference of ~1e-10), rtol = 1e-5 covers large
entries; a wrong rule (missing broadcast sum, wrong axis, sign, factor) is off by O(1).

Test points keep away from kinks: |x| >= 0.2 for ``abs``/relu, no ties for max/min
(continuous random data), clip bounds at least 0.05 away from every entry, branch
conditions of ``np.where`` at least 0.1 away from switching.  Random data comes from
seeded ``np.random.default_rng`` generators.
"""

import math
import os
import sys
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcad

sys.path.insert(0, os.path.dirname(__file__))
from conftest import check_four_ways, marker_line  # noqa: E402

THIS_FILE = os.path.basename(__file__)
EPS = 1e-6
RTOL = 1e-5
ATOL = 1e-7
HYPOTHESIS = settings(max_examples=25, deadline=None, derandomize=True)


# ====================================================================== helpers


def _params(f):
    code = f.__code__
    return list(code.co_varnames[: code.co_argcount])


def _copy(a):
    return a.copy() if isinstance(a, np.ndarray) else a


def central_grad(f, args, i, eps=EPS):
    """Central-difference derivative of scalar ``f`` wrt ``args[i]`` (array or float).

    Step ``eps * max(1, |x|)`` per entry, divided by the representable step; every call
    gets fresh copies of the array arguments so a mutating ``f`` cannot skew the result.
    """
    value = args[i]
    if isinstance(value, np.ndarray):
        base = value.astype(np.float64)
        out = np.zeros(base.shape)
        for k in np.ndindex(base.shape):
            x = base[k]
            h = eps * max(1.0, abs(x))
            plus, minus = base.copy(), base.copy()
            plus[k], minus[k] = x + h, x - h
            ap = [_copy(a) for a in args]
            am = [_copy(a) for a in args]
            ap[i], am[i] = plus, minus
            out[k] = (float(f(*ap)) - float(f(*am))) / (plus[k] - minus[k])
        return out
    x = float(value)
    h = eps * max(1.0, abs(x))
    ap = [_copy(a) for a in args]
    am = [_copy(a) for a in args]
    ap[i], am[i] = x + h, x - h
    return (float(f(*ap)) - float(f(*am))) / ((x + h) - (x - h))


def check(f, *args, wrt=None, rtol=RTOL, atol=ATOL):
    """srcad's gradient of ``f`` at ``args`` vs central differences; returns srcad's tuple."""
    names = _params(f)
    wrt_names = names if wrt is None else [w if isinstance(w, str) else names[w] for w in wrt]
    g = srcad.grad(f, wrt=tuple(wrt_names))  # (wrt=None: every parameter)
    before = [_copy(a) for a in args]
    got = g(*args)
    for a, b in zip(args, before, strict=True):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg="srcad modified the caller's array")
    got = tuple(got) if len(wrt_names) > 1 else (got,)
    assert len(got) == len(wrt_names), f"{len(got)} gradients for {wrt_names}"
    for name, gi in zip(wrt_names, got, strict=True):
        i = names.index(name)
        value = args[i]
        want = central_grad(f, args, i)
        if isinstance(value, np.ndarray) and value.ndim > 0:
            assert isinstance(gi, np.ndarray), f"d/d{name} should be an array, got {gi!r}"
            assert gi.shape == value.shape, f"d/d{name}: shape {gi.shape}, param {value.shape}"
            assert np.issubdtype(gi.dtype, np.floating), f"d/d{name}: dtype {gi.dtype}"
        else:  # a float, numpy scalar or 0-d array: any scalar of shape () will do
            assert np.shape(gi) == (), f"d/d{name} should be a scalar, got shape {np.shape(gi)}"
        np.testing.assert_allclose(
            np.asarray(gi, dtype=float), want, rtol=rtol, atol=atol,
            err_msg=f"{f.__name__}: d/d{name}",
        )
    return got


def rand(rng, *shape, low=-1.0, high=1.0):
    return rng.uniform(low, high, size=shape)


def away_from_zero(rng, *shape, low=0.3, high=1.5):
    """Entries with |x| in [low, high] and a random sign."""
    return rng.uniform(low, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def expect_location(e, tag):
    """A SrcadError that points at the line of this file marked ``# <tag>``."""
    assert isinstance(e, srcad.SrcadError), f"{type(e).__name__}: {e}"
    assert isinstance(e.filename, str) and e.filename.endswith(THIS_FILE), e.filename
    assert e.lineno == marker_line(__file__, tag), f"lineno {e.lineno} for {tag!r}: {e}"
    assert isinstance(e.col_offset, int) and e.col_offset >= 0
    assert str(e).startswith(f"{e.filename}:{e.lineno}:"), str(e)


# ====================================================================== elementwise, broadcasting


def ew_add(x, y):
    return np.sum(np.sin(x + y))


def ew_sub(x, y):
    return np.sum(np.sin(x - y))


def ew_mul(x, y):
    return np.sum(np.sin(x * y))


def ew_div(x, y):
    return np.sum(np.sin(x / y))


def ew_pow(x, y):
    return np.sum(np.sin(x**y))


BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 1), (1, 4)),
    ((4,), (3, 4)),
    ((3, 4), (4,)),
    ((3, 4), (3, 1)),
    ((2, 1, 4), (3, 1)),
    ((), (2, 3)),  # () = a Python float
    ((2, 3), ()),
]


def _operand(rng, shape, op, which):
    if op is ew_pow and which == 0:
        v = rng.uniform(0.5, 1.5, size=shape)  # positive base
    elif op is ew_div and which == 1:
        v = away_from_zero(rng, *shape, low=0.5, high=1.5)
    else:
        v = rng.uniform(-1.0, 1.0, size=shape)
    return float(v) if shape == () else v


@pytest.mark.parametrize("op", [ew_add, ew_sub, ew_mul, ew_div, ew_pow],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=lambda s: f"{s[0]}-{s[1]}")
def test_broadcasting_binary_ops(op, shapes):
    rng = np.random.default_rng(10)
    x = _operand(rng, shapes[0], op, 0)
    y = _operand(rng, shapes[1], op, 1)
    dx, dy = check(op, x, y)
    if shapes[0] == ():
        assert isinstance(dx, float | np.floating) or np.shape(dx) == ()


def unary_neg(x, b):
    return np.sum(-x * b + -(b**2))


def scalar_literals(x):
    return np.sum(2.5 * x - x / 4.0 + 3.0 ** (x * 0.5) + (1.0 - x) ** 2)


def scalar_param_times_array(a, x):
    return np.sum(np.tanh(a * x + a))


def bias_vector(X, W, b):
    return np.sum(np.tanh(X @ W + b) ** 2)


def column_row_outer_sum(c, r):
    return np.sum(np.exp(-((c - r) ** 2)))


def test_unary_minus_broadcast():
    rng = np.random.default_rng(1)
    check(unary_neg, rand(rng, 3, 4), rand(rng, 4))


def test_scalar_literals_with_arrays():
    rng = np.random.default_rng(2)
    check(scalar_literals, rand(rng, 2, 3))


def test_python_float_parameter_times_array():
    rng = np.random.default_rng(3)
    da, dx = check(scalar_param_times_array, 0.7, rand(rng, 2, 3))
    assert np.shape(da) == ()


def test_zero_dim_array_parameter():
    rng = np.random.default_rng(4)
    da, dx = check(scalar_param_times_array, np.array(0.7), rand(rng, 2, 3))
    assert np.shape(da) == ()


def test_bias_vector():
    rng = np.random.default_rng(5)
    check(bias_vector, rand(rng, 5, 3), rand(rng, 3, 4), rand(rng, 4))


def test_column_minus_row():
    rng = np.random.default_rng(6)
    check(column_row_outer_sum, rand(rng, 3, 1), rand(rng, 1, 4))


# ====================================================================== linear algebra


def mm_at(x, y):
    return np.sum(np.sin(x @ y))


def mm_dot(x, y):
    return np.sum(np.sin(np.dot(x, y)))


def mm_matmul(x, y):
    return np.sum(np.sin(np.matmul(x, y)))


def mm_method_dot(x, y):
    return np.sum(np.sin(x.dot(y)))


def mm_outer(x, y):
    return np.sum(np.sin(np.outer(x, y)))


def mm_inner(x, y):
    return np.sin(np.inner(x, y)) + np.sum(x * y)


def quadratic_form(A, v):
    return v @ A @ v


MATMUL_SHAPES = [((3, 4), (4, 2)), ((3, 4), (4,)), ((4,), (4, 2)), ((4,), (4,))]


@pytest.mark.parametrize("op", [mm_at, mm_dot, mm_matmul], ids=lambda f: f.__name__)
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=lambda s: f"{s[0]}-{s[1]}")
def test_matmul_family(op, shapes):
    rng = np.random.default_rng(20)
    check(op, rand(rng, *shapes[0]), rand(rng, *shapes[1]))


def test_method_dot():
    rng = np.random.default_rng(21)
    check(mm_method_dot, rand(rng, 3, 4), rand(rng, 4, 2))


def test_outer():
    rng = np.random.default_rng(22)
    check(mm_outer, rand(rng, 3), rand(rng, 4))


def test_inner_1d():
    rng = np.random.default_rng(23)
    check(mm_inner, rand(rng, 5), rand(rng, 5))


def test_quadratic_form():
    rng = np.random.default_rng(24)
    A, v = rand(rng, 3, 3), rand(rng, 3)
    dA, dv = check(quadratic_form, A, v)
    np.testing.assert_allclose(dv, (A + A.T) @ v, rtol=1e-12)


def sh_T(x):
    return np.sum(np.sin(x.T) * W_34.T)


def sh_transpose(x):
    return np.sum(np.sin(np.transpose(x)) * W_34.T)


def sh_transpose_axes(x):
    return np.sum(np.sin(np.transpose(x, (2, 0, 1))) * W_423)


def sh_reshape_method(x):
    return np.sum(np.sin(x.reshape(4, 3)) * W_34.T)


def sh_reshape_tuple(x):
    return np.sum(np.sin(x.reshape((2, 6))) * W_34.reshape(2, 6))


def sh_np_reshape(x):
    return np.sum(np.sin(np.reshape(x, (12,))) * W_34.ravel())


def sh_reshape_minus_one(x):
    return np.sum(np.sin(np.reshape(x, (-1, 2))) * W_34.reshape(6, 2))


def sh_squeeze(x):
    return np.sum(np.sin(np.squeeze(x)) * W_34)


def sh_squeeze_axis(x):
    return np.sum(np.sin(np.squeeze(x, axis=1)) * W_34)


def sh_expand_dims(x):
    return np.sum(np.sin(np.expand_dims(x, 0) + W_34[:, None, :]))


def sh_ravel(x):
    return np.sum(np.sin(x.ravel()) * W_34.ravel())


def sh_transpose_axes_const(x):
    return np.sum(np.sin(np.transpose(x, AXES_201)) * W_423)


def sh_np_reshape_const(x):
    return np.sum(np.sin(np.reshape(x, SHAPE_26)) * W_34.reshape(2, 6))


W_34 = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
W_423 = np.linspace(-2.0, 1.0, 24).reshape(4, 2, 3)
# the same shapes/axes as module constants (the literal spellings above are the natural
# ones; these isolate the derivative rules from how tuple literals are lowered)
AXES_201 = (2, 0, 1)
SHAPE_26 = (2, 6)
AXES_02 = (0, 2)
IDX_REPEAT = [0, 0, 2]


@pytest.mark.parametrize(
    "f, shape",
    [
        (sh_T, (3, 4)),
        (sh_transpose, (3, 4)),
        (sh_transpose_axes, (2, 3, 4)),
        (sh_transpose_axes_const, (2, 3, 4)),
        (sh_np_reshape_const, (3, 4)),
        (sh_reshape_method, (3, 4)),
        (sh_reshape_tuple, (3, 4)),
        (sh_np_reshape, (3, 4)),
        (sh_reshape_minus_one, (3, 4)),
        (sh_squeeze, (3, 1, 4)),
        (sh_squeeze_axis, (3, 1, 4)),
        (sh_expand_dims, (2, 4)),
        (sh_ravel, (3, 4)),
    ],
    ids=lambda v: v.__name__ if callable(v) else str(v),
)
def test_shape_ops(f, shape):
    rng = np.random.default_rng(30)
    check(f, rand(rng, *shape))


# ====================================================================== reductions


def red_sum_none(x):
    return np.sin(np.sum(x))


def red_sum_none_keep(x):
    return np.sum(np.sin(np.sum(x, keepdims=True)))


def red_sum_ax0(x):
    return np.sum(np.sin(np.sum(x, axis=0)))


def red_sum_ax1(x):
    return np.sum(np.sin(np.sum(x, axis=1)))


def red_sum_ax0_keep(x):
    return np.sum(np.sin(np.sum(x, axis=0, keepdims=True)) * x)


def red_sum_neg1(x):
    return np.sum(np.sin(np.sum(x, axis=-1)))


def red_sum_neg1_keep(x):
    return np.sum(np.sin(np.sum(x, axis=-1, keepdims=True) * x))


def red_sum_tuple3(x):
    return np.sum(np.sin(np.sum(x, axis=(0, 2))))


def red_sum_tuple3_keep(x):
    return np.sum(np.sin(np.sum(x, axis=(0, -1), keepdims=True) * x))


def red_sum_tuple_const(x):
    return np.sum(np.sin(np.sum(x, axis=AXES_02)))


def red_mean_tuple_const_keep(x):
    return np.sum(np.sin(3.0 * np.mean(x, axis=AXES_02, keepdims=True) * x))


def red_mean_none(x):
    return np.sin(np.mean(x)) * 3.0


def red_mean_ax0(x):
    return np.sum(np.sin(3.0 * np.mean(x, axis=0)))


def red_mean_ax1_keep(x):
    return np.sum(np.sin(np.mean(x, axis=1, keepdims=True) * x))


def red_mean_tuple3(x):
    return np.sum(np.sin(3.0 * np.mean(x, axis=(1, 2))))


def red_max_none(x):
    return np.max(x) * 2.0 + np.sum(x**2)


def red_max_ax0(x):
    return np.sum(np.sin(np.max(x, axis=0)))


def red_max_ax1_keep(x):
    return np.sum(np.sin(np.max(x, axis=1, keepdims=True) * x))


def red_max_neg1(x):
    return np.sum(np.sin(np.max(x, axis=-1)))


def red_min_none(x):
    return np.sin(np.min(x))


def red_min_ax1(x):
    return np.sum(np.sin(np.min(x, axis=1)))


def red_min_ax0_keep(x):
    return np.sum(np.sin(np.min(x, axis=0, keepdims=True) * x))


def red_prod_none(x):
    return np.prod(x)


def red_prod_ax0(x):
    return np.sum(np.sin(np.prod(x, axis=0)))


def red_prod_ax1_keep(x):
    return np.sum(np.prod(x, axis=1, keepdims=True) * x)


def red_method_sum(x):
    return np.sum(np.sin(x.sum(axis=1)))


def red_method_sum_all(x):
    return np.sin(x.sum())


def red_method_mean(x):
    return np.sum(np.sin(x.mean(axis=0, keepdims=True) * x))


def red_method_max(x):
    return np.sum(np.sin(x.max(axis=1)))


def red_method_min(x):
    return x.min() * 3.0 + x.max()


def red_method_prod(x):
    return np.sum(np.sin(x.prod(axis=1)))


REDUCTIONS = [
    (red_sum_none, (3, 4)),
    (red_sum_none_keep, (3, 4)),
    (red_sum_ax0, (3, 4)),
    (red_sum_ax1, (3, 4)),
    (red_sum_ax0_keep, (3, 4)),
    (red_sum_neg1, (3, 4)),
    (red_sum_neg1_keep, (3, 4)),
    (red_sum_tuple3, (2, 3, 4)),
    (red_sum_tuple3_keep, (2, 3, 4)),
    (red_sum_tuple_const, (2, 3, 4)),
    (red_mean_tuple_const_keep, (2, 3, 4)),
    (red_mean_none, (3, 4)),
    (red_mean_ax0, (3, 4)),
    (red_mean_ax1_keep, (3, 4)),
    (red_mean_tuple3, (2, 3, 4)),
    (red_max_none, (3, 4)),
    (red_max_ax0, (3, 4)),
    (red_max_ax1_keep, (3, 4)),
    (red_max_neg1, (2, 3, 4)),
    (red_min_none, (3, 4)),
    (red_min_ax1, (3, 4)),
    (red_min_ax0_keep, (3, 4)),
    (red_prod_none, (2, 3)),
    (red_prod_ax0, (3, 4)),
    (red_prod_ax1_keep, (3, 4)),
    (red_method_sum, (3, 4)),
    (red_method_sum_all, (3, 4)),
    (red_method_mean, (3, 4)),
    (red_method_max, (3, 4)),
    (red_method_min, (3, 4)),
    (red_method_prod, (3, 4)),
]


@pytest.mark.parametrize("f, shape", REDUCTIONS,
                         ids=lambda v: v.__name__ if callable(v) else str(v))
def test_reductions(f, shape):
    rng = np.random.default_rng(40)
    check(f, rand(rng, *shape))


def test_max_gradient_goes_to_argmax():
    x = np.array([[0.1, 0.9, -0.3], [0.5, -0.2, 0.4]])
    dx = srcad.grad(red_max_ax0)(x)
    want = np.zeros_like(x)
    want[1, 0] = math.cos(0.5)
    want[0, 1] = math.cos(0.9)
    want[1, 2] = math.cos(0.4)
    np.testing.assert_allclose(dx, want, rtol=1e-12, atol=0.0)


def red_sum_axis_param(x, axis):
    return np.sum(np.sin(np.sum(x, axis=axis)))


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)], ids=str)
def test_reduction_axis_passed_as_argument(axis):
    rng = np.random.default_rng(41)
    check(red_sum_axis_param, rand(rng, 3, 4), axis, wrt=("x",))


# np.prod at points with zeros: the derivative wrt an entry is the product of the other
# entries of its slice, so one zero gives that entry the product of the rest and two zeros
# give all zeros. (A rule computing ans / x gives 0 / 0 = nan there.) np.prod is a
# polynomial, so central differences are exact up to roundoff at these points too.


def prod_plain(x):
    return np.prod(x)


def prod_method(x):
    return x.prod()


def prod_rows(x):
    return np.sum(np.sin(np.prod(x, axis=1)))


def prod_cols_keep(x):
    return np.sum(np.prod(x, axis=0, keepdims=True) * x)


def prod_method_last_axis(x):
    return np.sum(np.cos(x.prod(axis=-1)) * np.array([1.0, -2.0, 0.5]))


def prod_all_keep(x):
    return np.sum(np.prod(x, keepdims=True) * 3.0)


def prod_axes_tuple(x):
    return np.sum(np.sin(np.prod(x, axis=(0, 2))))


PROD_1D_POINTS = {
    "no zero": ([0.5, 2.0, -3.0, 1.5], [-9.0, -2.25, 1.5, -3.0]),
    "one zero": ([0.0, 2.0, 3.0], [6.0, 0.0, 0.0]),
    "one zero inside": ([2.0, -1.5, 0.0, 4.0], [0.0, 0.0, -12.0, 0.0]),
    "two zeros": ([0.0, 2.0, 0.0], [0.0, 0.0, 0.0]),
    "all zeros": ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
    "one entry, zero": ([0.0], [1.0]),
}


@pytest.mark.parametrize("f", [prod_plain, prod_method], ids=lambda f: f.__name__)
@pytest.mark.parametrize("point", list(PROD_1D_POINTS), ids=str)
def test_prod_gradient_with_zeros_1d(f, point):
    x, exact = (np.array(v) for v in PROD_1D_POINTS[point])
    (dx,) = check(f, x)
    np.testing.assert_array_equal(dx, exact)  # products of a few small numbers: exact
    _, tangent = srcad.jvp(f)((x,), (np.ones_like(x),))
    assert tangent == exact.sum()


# rows (axis=1) and columns (axis=0) with no, one and two zeros
PROD_2D = np.array([
    [1.5, -0.5, 2.0, 0.8],
    [0.0, 1.2, -0.7, 1.1],
    [0.0, 0.9, 0.0, -1.3],
])


@pytest.mark.parametrize(
    "f, x",
    [
        (prod_rows, PROD_2D),
        (prod_cols_keep, PROD_2D),
        (prod_method_last_axis, PROD_2D),
        (prod_all_keep, np.array([[0.0, 2.0], [3.0, -1.5]])),
        (prod_all_keep, np.array([[0.0, 2.0], [3.0, 0.0]])),
        (prod_axes_tuple, np.stack([PROD_2D, PROD_2D[::-1] + 0.5])),
    ],
    ids=["rows", "cols_keep", "method_last_axis", "all_keep_one_zero", "all_keep_two_zeros",
         "axes_tuple"],
)
def test_prod_gradient_with_zeros_along_axis(f, x):
    (dx,) = check(f, x)
    assert np.all(np.isfinite(dx))
    rng = np.random.default_rng(42)
    t = rand(rng, *x.shape)
    _, tangent = srcad.jvp(f)((x,), (t,))
    eps = 1e-6
    want = (f(x + eps * t) - f(x - eps * t)) / (2 * eps)
    assert tangent == pytest.approx(want, rel=1e-6, abs=1e-8)
    assert tangent == pytest.approx(float(np.sum(dx * t)), rel=1e-12, abs=1e-14)


def test_prod_gradient_with_zeros_exact_2d():
    dx = srcad.grad(prod_rows)(PROD_2D)
    cos = np.cos(np.prod(PROD_2D, axis=1))
    want = np.zeros_like(PROD_2D)
    want[0] = cos[0] * np.prod(PROD_2D[0]) / PROD_2D[0]  # no zero: products of the others
    want[1, 0] = cos[1] * 1.2 * -0.7 * 1.1  # one zero: only the zero gets the rest
    # row 2 has two zeros: all zero
    np.testing.assert_allclose(dx, want, rtol=1e-15, atol=0)
    assert np.all(dx[2] == 0.0) and np.all(dx[1, 1:] == 0.0)


def prod_underflow(x):
    return np.prod(x) * 1e300


def test_prod_gradient_when_the_product_underflows():
    """No zero entry, but the product underflows to 0: the products of the others
    (1e-200) are still representable and are what the gradient holds."""
    x = np.array([1e-200, 1e-200])
    np.testing.assert_allclose(srcad.grad(prod_underflow)(x), [1e100, 1e100], rtol=1e-14)


# ====================================================================== elementwise functions


def fn_exp(x):
    return np.sum(np.exp(x) * W_34)


def fn_log(x):
    return np.sum(np.log(x) * W_34)


def fn_log1p(x):
    return np.sum(np.log1p(x) * W_34)


def fn_sqrt(x):
    return np.sum(np.sqrt(x) * W_34)


def fn_sin(x):
    return np.sum(np.sin(x) * W_34)


def fn_cos(x):
    return np.sum(np.cos(x) * W_34)


def fn_tan(x):
    return np.sum(np.tan(x) * W_34)


def fn_tanh(x):
    return np.sum(np.tanh(x) * W_34)


def fn_abs(x):
    return np.sum(np.abs(x) * W_34)


def fn_square(x):
    return np.sum(np.square(x) * W_34)


def fn_relu(x):
    return np.sum(np.maximum(x, 0.0) * W_34)


def fn_relu_left(x):
    return np.sum(np.maximum(0.0, x) * W_34)


def fn_minimum_scalar(x):
    return np.sum(np.minimum(x, 0.0) * W_34)


def fn_maximum_arrays(x, y):
    return np.sum(np.sin(np.maximum(x, y)))


def fn_minimum_broadcast(x, y):
    return np.sum(np.sin(np.minimum(x, y)))


def fn_where(x):
    return np.sum(np.where(x > 0.0, np.sin(x), x**2) * W_34)


def fn_where_two_params(x, y):
    return np.sum(np.where(x > y, x * y, np.exp(y)))


def fn_clip(x):
    return np.sum(np.clip(x, -0.5, 0.5) * W_34)


def fn_logaddexp(x, y):
    return np.sum(np.logaddexp(x, y) * W_34)


POSITIVE = {fn_log, fn_sqrt}
KINKED = {fn_abs, fn_relu, fn_relu_left, fn_minimum_scalar, fn_where}


@pytest.mark.parametrize(
    "f",
    [fn_exp, fn_log, fn_log1p, fn_sqrt, fn_sin, fn_cos, fn_tan, fn_tanh, fn_abs, fn_square,
     fn_relu, fn_relu_left, fn_minimum_scalar, fn_where],
    ids=lambda f: f.__name__,
)
def test_elementwise_functions(f):
    rng = np.random.default_rng(50)
    if f in POSITIVE:
        x = rng.uniform(0.3, 2.0, size=(3, 4))
    elif f in KINKED:
        x = away_from_zero(rng, 3, 4, low=0.2, high=1.5)
    elif f is fn_log1p:
        x = rng.uniform(-0.5, 1.5, size=(3, 4))
    else:
        x = rand(rng, 3, 4)
    check(f, x)


def test_relu_gradient_is_mask():
    x = np.array([[-1.0, 2.0, 0.5, -0.3], [0.7, -2.0, 1.0, 3.0], [-0.1, 0.2, -0.4, 0.9]])
    dx = srcad.grad(fn_relu)(x)
    np.testing.assert_array_equal(dx, (x > 0) * W_34)


def test_maximum_two_arrays():
    rng = np.random.default_rng(51)
    x = rand(rng, 3, 4)
    y = x + away_from_zero(rng, 3, 4, low=0.1, high=0.8)
    check(fn_maximum_arrays, x, y)


def test_minimum_broadcast():
    x = np.array([[-0.9], [0.05], [0.8]])
    y = np.array([[-0.5, 0.3, 0.6, -0.2]])
    assert np.min(np.abs(x - y)) >= 0.1  # no ties
    check(fn_minimum_broadcast, x, y)


def test_where_two_params():
    rng = np.random.default_rng(53)
    x = rand(rng, 3, 4)
    y = x + away_from_zero(rng, 3, 4, low=0.1, high=0.6)
    dx, dy = check(fn_where_two_params, x, y)
    # the chosen branch only: x gets y where x > y, nothing elsewhere
    np.testing.assert_allclose(dx, np.where(x > y, y, 0.0), rtol=1e-12)


def test_clip():
    x = np.array([[-1.0, -0.4, 0.0, 0.3], [0.45, 0.6, 2.0, -0.55], [0.1, -0.2, 0.7, -0.8]])
    dx = check(fn_clip, x)[0]
    np.testing.assert_array_equal(dx, (np.abs(x) < 0.5) * W_34)


def fn_clip_bounds(x, low, high):
    """Differentiated bounds (an array bound broadcast against x, and the method)."""
    return np.sum(np.clip(x, low, high) ** 2) + np.sum(x.clip(low * 0.5, None))


def test_clip_passes_the_gradient_to_the_bound_it_clips_to():
    """The bounds got no gradient: the gradient with respect to a differentiated bound
    was silently zero."""
    x, low = np.array([0.15, 0.5, 0.9, 1.5, -0.3]), np.array([0.2])
    dx, dlow, dhigh = check_four_ways(fn_clip_bounds, x, low, 1.0)
    np.testing.assert_allclose(dx, [1.0, 2.0, 2.8, 1.0, 0.0], rtol=1e-12)
    # low is hit by 0.15 and -0.3 in the first clip (2 * 0.2 each), low / 2 by -0.3
    np.testing.assert_allclose(dlow, [0.4 + 0.4 + 0.5], rtol=1e-12)
    assert dhigh == pytest.approx(2.0)  # 1.5 is clipped to high = 1


def deflection(length, load):
    """A grid between differentiated ends, arrays filled with a differentiated value, a
    range from a differentiated start by a differentiated step."""
    x = np.linspace(0.0, length, 7)
    w = np.full(7, load) * x**2 + np.full_like(x, 0.5 * load)
    steps = np.arange(load, load + 3.0, 0.5 * length)
    return np.sum(np.sin(w)) * (x[1] - x[0]) + np.sum(steps**2)


def grid_of_vectors(a, b):
    return np.sum(np.linspace(a, b, 4) ** 2)


def test_values_that_make_arrays_get_their_gradient():
    """np.linspace, np.full, np.full_like and np.arange gave no gradient to the values
    they are made from: a silently zero derivative with respect to a grid's length."""
    dl, dload = check_four_ways(deflection, 2.1, 0.7)
    x = np.linspace(0.0, 2.1, 7)
    w = 0.7 * x**2 + 0.35
    steps = np.arange(0.7, 3.7, 1.05)
    k = np.arange(len(steps))
    assert dload == pytest.approx(
        np.sum(np.cos(w) * (x**2 + 0.5)) * 0.35 + np.sum(2 * steps), rel=1e-12
    )
    dx_dl = x / 2.1  # each grid point scales with the length
    assert dl == pytest.approx(
        np.sum(np.cos(w) * 0.7 * 2 * x * dx_dl) * 0.35 + np.sum(np.sin(w)) / 6
        + np.sum(2 * steps * k * 0.5), rel=1e-12)
    da, db = check_four_ways(grid_of_vectors, np.array([0.5, 1.0]), np.array([2.0, -1.0]))
    w4 = np.linspace(0.0, 1.0, 4)
    grid = np.linspace(np.array([0.5, 1.0]), np.array([2.0, -1.0]), 4)
    np.testing.assert_allclose(da, np.sum(2 * grid * (1 - w4)[:, None], axis=0), rtol=1e-12)
    np.testing.assert_allclose(db, np.sum(2 * grid * w4[:, None], axis=0), rtol=1e-12)


def test_logaddexp():
    rng = np.random.default_rng(54)
    check(fn_logaddexp, rand(rng, 3, 4, low=-3, high=3), rand(rng, 4, low=-3, high=3))


def softmax_weighted(z):
    e = np.exp(z - np.max(z))
    p = e / np.sum(e)
    return np.sum(p * np.arange(z.shape[0]))


def log_softmax_rows(z):
    m = np.max(z, axis=1, keepdims=True)
    s = z - m
    logp = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
    return np.sum(logp * W_34)


def cross_entropy(z, labels):
    m = np.max(z, axis=1, keepdims=True)
    s = z - m
    logp = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(z.shape[0]), labels])


def test_softmax():
    rng = np.random.default_rng(55)
    check(softmax_weighted, rand(rng, 5, low=-3, high=3))


def test_log_softmax_rows():
    rng = np.random.default_rng(56)
    check(log_softmax_rows, rand(rng, 3, 4, low=-3, high=3))


def test_cross_entropy_with_labels():
    rng = np.random.default_rng(57)
    z = rand(rng, 4, 3, low=-2, high=2)
    labels = np.array([2, 0, 1, 2])
    dz = check(cross_entropy, z, labels, wrt=("z",))[0]
    # closed form: (softmax - onehot) / n
    p = np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)
    p[np.arange(4), labels] -= 1.0
    np.testing.assert_allclose(dz, p / 4, rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------- shift invariance
# log-softmax and softmax along an axis do not change when their input is shifted by a
# value constant along that axis, so the max subtracted for stability gets no gradient
# (exactly: the adjoint of the shifted value sums to zero along the axis). srcad then
# leaves the max's backward pass out, as hand-written code does; the cases below check
# that it does so only where the shift really cancels.


def softmax_rows(z):
    s = z - np.max(z, axis=1, keepdims=True)
    p = np.exp(s) / np.sum(np.exp(s), axis=1, keepdims=True)
    return np.sum(p * W_34)


def shifted_along_other_axis(z):
    s = z - np.max(z, axis=0, keepdims=True)  # constant along axis 0, normalised along 1
    logp = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
    return np.sum(logp * W_34)


def shifted_value_read_twice(z):
    s = z - np.max(z, axis=1, keepdims=True)
    logp = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
    return np.sum(logp * W_34) + np.sum(s * s)  # s itself reaches the result


def shift_without_keepdims(z):
    s = z - np.max(z)  # a scalar shift: constant along every axis (recognised)
    logp = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
    return np.sum(logp * W_34)


def shift_by_mean(z):
    s = z - z.mean(axis=-1, keepdims=True)
    logp = s - np.log(np.sum(np.exp(s), axis=-1, keepdims=True))
    return np.sum(logp * W_34)


def max_also_in_result(z):
    m = np.max(z, axis=1, keepdims=True)
    s = z - m
    logp = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
    return np.sum(logp * W_34) + np.sum(m)  # m's own gradient must still arrive


@pytest.mark.parametrize(
    "f, cut",
    [
        (log_softmax_rows, True),
        (softmax_rows, True),
        (shift_by_mean, True),
        (max_also_in_result, True),
        (cross_entropy, True),
        (shifted_along_other_axis, False),
        (shifted_value_read_twice, False),
        (shift_without_keepdims, True),
    ],
)
def test_shift_invariance(f, cut):
    rng = np.random.default_rng(58)
    z = rand(rng, 3, 4, low=-3, high=3)
    if f is cross_entropy:
        check(f, z, np.array([2, 0, 1]), wrt=("z",))
    else:
        check(f, z)
    source = (srcad.grad(f, wrt=("z",))).backward_source
    assert ("# no gradient to " in source) == cut, source
    if f in (log_softmax_rows, softmax_rows, cross_entropy):
        assert "extremum_grad" not in source, source  # the max's backward pass is gone


@pytest.mark.parametrize("f", [log_softmax_rows, softmax_rows, max_also_in_result])
def test_shift_invariance_in_forward_mode(f):
    rng = np.random.default_rng(59)
    z, dz = rand(rng, 3, 4, low=-3, high=3), rand(rng, 3, 4)
    value, tangent = srcad.jvp(f)((z,), (dz,))
    eps = 1e-6
    want = (f(z + eps * dz) - f(z - eps * dz)) / (2 * eps)
    assert value == pytest.approx(f(z), rel=1e-12)
    assert tangent == pytest.approx(want, rel=1e-6, abs=1e-8)


def norm_of_vector(x):
    return np.linalg.norm(x) * 2.0


def norm_of_matrix(A, x):
    return np.linalg.norm(A @ x + 1.0)


def test_linalg_norm():
    rng = np.random.default_rng(60)
    check(norm_of_vector, rand(rng, 5))
    check(norm_of_matrix, rand(rng, 3, 4), rand(rng, 4, 2))


# ====================================================================== indexing reads


def ix_int(x):
    return np.sin(x[1]) + x[0] * x[2]


def ix_negative(x):
    return np.sin(x[-1]) * x[-3]


def ix_slice(x):
    return np.sum(np.sin(x[1:4]) * x[:3])


def ix_step(x):
    return np.sum(np.sin(x[::2])) + np.sum(x[::-1] * x)


def ix_column(a):
    return np.sum(np.sin(a[:, 0])) + np.sum(a[:, -1] ** 2)


def ix_row(a):
    return np.sum(np.sin(a[1])) + np.sum(a[-1, :] * a[0, :])


def ix_element(a):
    return np.sin(a[1, 2]) * a[0, -1]


def ix_block(a):
    return np.sum(np.sin(a[1:, :-1]))


def ix_int_array(x, idx):
    return np.sum(np.sin(x[idx]))


def ix_repeated(x):
    return np.sum(x[[0, 0, 2]] ** 2)


def ix_repeated_const(x):
    return np.sum(x[IDX_REPEAT] ** 2)


def ix_rows_int_array(a, idx):
    return np.sum(np.sin(a[idx]))


def ix_fancy_pairs(a, labels):
    return np.sum(np.sin(a[np.arange(a.shape[0]), labels]))


def ix_ellipsis_newaxis(a):
    return np.sum(np.sin(a[..., 1]) * a[None, 0, :3])


@pytest.mark.parametrize(
    "f, shape",
    [(ix_int, (5,)), (ix_negative, (5,)), (ix_slice, (5,)), (ix_step, (5,)),
     (ix_column, (3, 4)), (ix_row, (3, 4)), (ix_element, (3, 4)), (ix_block, (3, 4)),
     (ix_repeated, (4,)), (ix_repeated_const, (4,)), (ix_ellipsis_newaxis, (3, 4))],
    ids=lambda v: v.__name__ if callable(v) else str(v),
)
def test_indexing_reads(f, shape):
    rng = np.random.default_rng(60)
    check(f, rand(rng, *shape))


def test_repeated_index_accumulates():
    x = np.array([0.5, -1.0, 2.0, 3.0])
    dx = srcad.grad(ix_repeated)(x)
    np.testing.assert_allclose(dx, [4 * 0.5, 0.0, 2 * 2.0, 0.0], rtol=1e-12)


def test_integer_array_index_with_repeats():
    rng = np.random.default_rng(61)
    x = rand(rng, 5)
    idx = np.array([3, 1, 3, 3, 0])
    dx = check(ix_int_array, x, idx, wrt=("x",))[0]
    assert dx[2] == 0.0 and dx[4] == 0.0
    np.testing.assert_allclose(dx[3], 3 * math.cos(x[3]), rtol=1e-12)


def test_row_gather_with_repeats():
    rng = np.random.default_rng(62)
    check(ix_rows_int_array, rand(rng, 4, 3), np.array([0, 2, 2]), wrt=("a",))


def test_arange_labels_gather():
    rng = np.random.default_rng(63)
    check(ix_fancy_pairs, rand(rng, 4, 3), np.array([1, 0, 2, 1]), wrt=("a",))


def jn_concat0(x, y):
    return np.sum(np.sin(np.concatenate([x, y])) * np.arange(7.0))


def jn_concat1(x, y):
    return np.sum(np.sin(np.concatenate((x, y), axis=1)))


def jn_concat_same_twice(x):
    return np.sum(np.sin(np.concatenate([x, x * 2.0, x])))


def jn_stack0(x, y):
    return np.sum(np.sin(np.stack([x, y])) * W_34[:2, :3])


def jn_stack1(x, y):
    return np.sum(np.sin(np.stack([x, y], axis=1)) * W_34[:3, :2])


def jn_hstack(x, y):
    return np.sum(np.sin(np.hstack([x, y])))


def jn_vstack(x, y):
    return np.sum(np.sin(np.vstack([x, y])) * W_34[:2, :3])


def jn_vstack_2d(x, y):
    return np.sum(np.sin(np.vstack((x, y))))


@pytest.mark.parametrize(
    "f, shapes",
    [
        (jn_concat0, ((3,), (4,))),
        (jn_concat1, ((2, 3), (2, 1))),
        (jn_concat_same_twice, ((3,),)),
        (jn_stack0, ((3,), (3,))),
        (jn_stack1, ((3,), (3,))),
        (jn_hstack, ((2, 3), (2, 2))),
        (jn_vstack, ((3,), (3,))),
        (jn_vstack_2d, ((2, 3), (1, 3))),
    ],
    ids=lambda v: v.__name__ if callable(v) else str(v),
)
def test_joins(f, shapes):
    rng = np.random.default_rng(70)
    check(f, *[rand(rng, *s) for s in shapes])


def jn_hstack_1d(x, y):
    return np.sum(np.sin(np.hstack([x, y])) * np.arange(5.0))


def test_hstack_1d():
    rng = np.random.default_rng(71)
    check(jn_hstack_1d, rand(rng, 2), rand(rng, 3))


def gather_rows(z, labels):
    n = z.shape[0]
    return np.sum(np.sin(z[np.arange(n), labels]))


def gather_repeated(z, labels):
    # np.arange(1) broadcast against several labels: positions may repeat
    return np.sum(np.sin(z[np.arange(1), labels]) * W_34[0, : len(labels)])


def gather_2d_labels(z, labels):
    # a (k, 1) column of labels against arange(n): an (k, n) grid, positions may repeat
    return np.sum(np.sin(z[np.arange(z.shape[0]), labels]))


def test_gather_with_arange_rows():
    # the adjoint of z[np.arange(n), labels] is written with one assignment when no
    # position can repeat, and accumulated (np.add.at) when one can
    rng = np.random.default_rng(61)
    z = rand(rng, 4, 3)
    source = srcad.grad(gather_rows, wrt=("z",)).backward_source
    assert "set_rows(" in source, source
    check(gather_rows, z, np.array([2, 0, 2, 1]), wrt=("z",))
    check(gather_repeated, z, np.array([2, 2, 0]), wrt=("z",))
    check(gather_2d_labels, z, np.array([[2], [2], [0]]), wrt=("z",))


# ====================================================================== writes into new arrays


def wr_zeros_items(x):
    out = np.zeros(3)
    out[0] = x[1] * 2.0
    out[1] = np.sin(x[0])
    out[2] = x[0] * x[2]
    return np.sum(out**2)


def wr_overwrite(x, y):
    out = np.zeros(2)
    out[0] = x * 3.0
    out[0] = y * 5.0  # x's contribution is overwritten
    out[1] = x
    return np.sum(np.sin(out))


def wr_loop_rows(x):
    out = np.zeros_like(x)
    for i in range(x.shape[0]):
        out[i] = np.sin(x[i]) * (i + 1.0)
    return np.sum(out * out)


def wr_column_accumulate(a, w):
    out = np.zeros_like(a[:, :3])
    for j in range(3):
        out[:, j] += a[:, j] * w[j]
        out[:, j] += np.sin(a[:, j + 1])
    return np.sum(out**2)


def wr_slice(x):
    out = np.ones(5)
    out[1:4] = x * 2.0
    out[0] = out[2] * x[0]
    return np.sum(np.sin(out))


def wr_read_after_write(x):
    buf = np.zeros(3)
    buf[0] = x[0]
    buf[1] = buf[0] * x[1]
    buf[2] = buf[1] * x[2]
    buf[0] = buf[2] + 1.0
    return np.sum(buf * WEIGHTS_3)


def wr_matrix_elements(x):
    m = np.zeros(SHAPE_22)
    m[0, 0] = np.cos(x[0])
    m[0, 1] = -np.sin(x[0])
    m[1, 0] = np.sin(x[0])
    m[1, 1] = np.cos(x[0])
    v = m @ x[1:]
    return np.sum(v * WEIGHTS_3[::2])


WEIGHTS_3 = np.array([1.0, 2.0, 3.0])
SHAPE_22 = (2, 2)


def wr_zeros_tuple_shape(x):
    out = np.zeros((2, 3))
    out[1, :] = x
    out[0, 1] = x[0] * x[2]
    return np.sum(np.sin(out))


def test_write_into_zeros_with_tuple_shape():
    rng = np.random.default_rng(86)
    check(wr_zeros_tuple_shape, rand(rng, 3))


def test_write_items_into_zeros():
    rng = np.random.default_rng(80)
    check(wr_zeros_items, rand(rng, 3))


def test_write_overwritten_item_gets_no_gradient():
    dx, dy = check(wr_overwrite, 0.4, -0.7)
    np.testing.assert_allclose(dx, math.cos(0.4), rtol=1e-12)
    np.testing.assert_allclose(dy, 5.0 * math.cos(-3.5), rtol=1e-12)


def test_write_rows_in_loop():
    rng = np.random.default_rng(81)
    check(wr_loop_rows, rand(rng, 4, 2))


def test_write_column_augmented():
    rng = np.random.default_rng(82)
    check(wr_column_accumulate, rand(rng, 3, 4), rand(rng, 3))


def test_write_slice():
    rng = np.random.default_rng(83)
    check(wr_slice, rand(rng, 3))


def test_write_read_after_write():
    rng = np.random.default_rng(84)
    check(wr_read_after_write, rand(rng, 3))


def test_write_rotation_matrix():
    rng = np.random.default_rng(85)
    check(wr_matrix_elements, rand(rng, 3))


# ====================================================================== non-differentiable uses


def nd_shape_len_arange(x):
    n = x.shape[0]
    m = len(x)
    k = np.arange(n) * 1.0
    z = np.zeros_like(x) + 1.0
    return np.sum(x * k * z) / (n * m) + x.ndim + x.size


def nd_comparison_mask(x):
    mask = x > 0.0
    count = np.sum(mask)
    return np.sum(x * x * mask) / count


def nd_dtype_and_int_array(x, ints):
    y = x.astype(x.dtype) * 2.0
    scale = np.sum(ints) * 1.0
    return np.sum(np.sin(y) * ints) / scale


def nd_argmax(x):
    k = np.argmax(x)
    return x[k] ** 2 + np.sum(x)


def test_shape_len_arange_zeros_like():
    rng = np.random.default_rng(90)
    check(nd_shape_len_arange, rand(rng, 4))


def test_comparison_mask():
    rng = np.random.default_rng(91)
    x = away_from_zero(rng, 5, low=0.2)
    dx = check(nd_comparison_mask, x)[0]
    np.testing.assert_allclose(dx, 2 * x * (x > 0) / np.sum(x > 0), rtol=1e-12)


def test_dtype_and_integer_array():
    rng = np.random.default_rng(92)
    check(nd_dtype_and_int_array, rand(rng, 4), np.array([1, 2, 0, 3]), wrt=("x",))


def test_argmax_index():
    x = np.array([0.3, 1.7, -0.4, 0.9])
    dx = check(nd_argmax, x)[0]
    np.testing.assert_allclose(dx, [1.0, 1.0 + 2 * 1.7, 1.0, 1.0], rtol=1e-12)


def test_integer_array_parameter_not_in_wrt_by_name():
    rng = np.random.default_rng(93)
    z = rand(rng, 3, 3)
    g = srcad.grad(cross_entropy, wrt=(0,))
    dz = g(z, np.array([0, 1, 2]))
    assert isinstance(dz, np.ndarray) and dz.shape == (3, 3)


# ====================================================================== module-level data


_rng_data = np.random.default_rng(1234)
X_DATA = _rng_data.normal(size=(8, 3))
Y_DATA = X_DATA @ np.array([0.5, -1.0, 2.0]) + 0.1 * _rng_data.normal(size=8)
LABELS = (Y_DATA > 0).astype(float)


def linreg_loss(w, b):
    r = X_DATA @ w + b - Y_DATA
    return np.mean(r**2)


def logreg_loss(w, b):
    z = X_DATA @ w + b
    return np.mean(np.logaddexp(0.0, z) - LABELS * z)


def mlp_loss(W1, b1, w2):
    h = np.tanh(X_DATA @ W1 + b1)
    pred = h @ w2
    return 0.5 * np.sum((pred - Y_DATA) ** 2) / len(Y_DATA)


def test_global_dataset_linear_regression():
    rng = np.random.default_rng(100)
    w, b = rand(rng, 3), 0.3
    dw, db = check(linreg_loss, w, b)
    r = X_DATA @ w + b - Y_DATA
    np.testing.assert_allclose(dw, 2 * X_DATA.T @ r / 8, rtol=1e-10)
    np.testing.assert_allclose(db, 2 * np.mean(r), rtol=1e-10)


def test_global_dataset_logistic_regression():
    rng = np.random.default_rng(101)
    check(logreg_loss, rand(rng, 3), -0.2)


def test_global_dataset_mlp():
    rng = np.random.default_rng(102)
    check(mlp_loss, rand(rng, 3, 5), rand(rng, 5), rand(rng, 5))


def test_global_dataset_not_modified():
    before = X_DATA.copy()
    srcad.grad(linreg_loss)(np.ones(3), 0.0)
    np.testing.assert_array_equal(X_DATA, before)


# ====================================================================== loops over arrays


def rnn(W, x, h0):
    h = h0
    for t in range(x.shape[0]):
        h = np.tanh(W @ h + x[t])
    return np.sum(h**2)


def rnn_rows(W, x):
    h = np.zeros(W.shape[0])
    for xt in x:
        h = np.tanh(W @ h + xt)
    return np.sum(h**2)


def rnn_outputs(W, U, x):
    h = np.zeros(W.shape[0])
    total = 0.0
    for t in range(len(x)):
        h = np.tanh(W @ h + U @ x[t])
        total = total + np.sum(h * W_34[0, :3])
    return total


def gd_steps(w, lr):
    for _ in range(3):
        g = 2.0 * X_DATA.T @ (X_DATA @ w - Y_DATA) / 8
        w = w - lr * g
    return np.sum((X_DATA @ w - Y_DATA) ** 2)


def test_rnn():
    rng = np.random.default_rng(110)
    check(rnn, 0.5 * rand(rng, 3, 3), rand(rng, 4, 3), rand(rng, 3))


def test_rnn_iterating_rows():
    rng = np.random.default_rng(111)
    check(rnn_rows, 0.5 * rand(rng, 3, 3), rand(rng, 4, 3))


def test_rnn_accumulated_outputs():
    rng = np.random.default_rng(112)
    check(rnn_outputs, 0.5 * rand(rng, 3, 3), rand(rng, 3, 2), rand(rng, 4, 2))


def test_unrolled_gradient_descent():
    rng = np.random.default_rng(113)
    check(gd_steps, rand(rng, 3), 0.05)


def scalar_then_array(a):
    total = 0.0  # a float before the loop, an array after its first iteration
    for v in [a, 2 * a]:
        total = total + v * v
    return np.sum(total) + np.sum(v)  # v read after the loop: defined before it too


def growing_shape(a, b):
    acc = a  # shape (3,) first, then (2, 3) once b is added
    for _ in range(2):
        acc = acc * 0.5 + b
    return np.sum(acc * acc)


def test_loop_value_whose_shape_changes_between_iterations():
    # regression: the shape for un-broadcasting was recorded once, at the definition
    # before the loop, so the scalar's shape () summed the array gradient (wrong values)
    rng = np.random.default_rng(114)
    a = rand(rng, 3)
    check(scalar_then_array, a)
    np.testing.assert_allclose(srcad.grad(scalar_then_array)(a), 10 * a + 2, rtol=1e-12)
    check(growing_shape, a, rand(rng, 2, 3))


# ====================================================================== floats and arrays


def mixed(x, y):
    return np.sum(x * y + np.sin(x) * np.exp(-y) + x**2 / (1.0 + y * y))


def pure_float(x, y):
    a = x * y
    b = math.tanh(a) + math.sqrt(y * y + 1.0)
    return b * x + abs(y)


def mixed_math_style(x, y):
    a = x * y
    b = np.tanh(a) + np.sqrt(y * y + 1.0)
    return b * x


def mixed_math_style_sum(x, y):
    return np.sum(mixed_math_style(x, y))


def test_python_floats_still_give_floats():
    dx, dy = check(pure_float, 0.7, -0.4)
    assert type(dx) is float and type(dy) is float
    dx, dy = check(mixed_math_style, 0.7, -0.4)  # np.tanh of a float is an np.float64
    assert isinstance(dx, float) and isinstance(dy, float)
    dx, dy = check(mixed, 0.7, -0.4)  # np.sum of a float: any float (np.float64 is one)
    assert isinstance(dx, float) and isinstance(dy, float)


def test_same_function_with_arrays_matches_float_version():
    x = np.array([0.7, -1.2, 0.3])
    y = np.array([-0.4, 0.5, 2.0])
    dx, dy = check(mixed, x, y)
    assert isinstance(dx, np.ndarray) and dx.shape == (3,)
    g = srcad.grad(mixed, wrt=(0, 1))
    for k in range(3):
        fx, fy = g(float(x[k]), float(y[k]))
        assert isinstance(fx, float)
        np.testing.assert_allclose([dx[k], dy[k]], [fx, fy], rtol=1e-13, atol=1e-15)


def test_float_then_array_then_float_alternating():
    g = srcad.grad(mixed_math_style_sum, wrt=(0, 1))
    a = g(0.5, 1.5)
    b = g(np.array([0.5, 0.2]), np.array([1.5, -1.0]))
    c = g(0.2, -1.0)
    assert isinstance(a[0], float) and isinstance(c[1], float)
    np.testing.assert_allclose(b[0], [a[0], c[0]], rtol=1e-13)
    np.testing.assert_allclose(b[1], [a[1], c[1]], rtol=1e-13)
    check(mixed, np.array([0.5, 0.2]), np.array([1.5, -1.0]))


def test_numpy_float64_scalars():
    dx, dy = check(mixed, np.float64(0.7), np.float64(-0.4))
    assert np.shape(dx) == () and np.shape(dy) == ()


def test_value_and_grad_with_arrays():
    rng = np.random.default_rng(120)
    W, x, h0 = 0.5 * rand(rng, 3, 3), rand(rng, 4, 3), rand(rng, 3)
    value, (dW, dx, dh0) = srcad.value_and_grad(rnn, wrt=(0, 1, 2))(W, x, h0)
    assert value == pytest.approx(rnn(W, x, h0), rel=1e-14)
    assert dW.shape == (3, 3) and dx.shape == (4, 3) and dh0.shape == (3,)
    np.testing.assert_allclose(dW, srcad.grad(rnn, wrt=(0, 1, 2))(W, x, h0)[0], rtol=1e-14)


def test_wrt_subset_of_array_params():
    rng = np.random.default_rng(121)
    X, W, b = rand(rng, 5, 3), rand(rng, 3, 4), rand(rng, 4)
    db = check(bias_vector, X, W, b, wrt=("b",))[0]
    assert db.shape == (4,)
    dW, db2 = check(bias_vector, X, W, b, wrt=(1, 2))
    np.testing.assert_allclose(db, db2, rtol=1e-14)


def test_backward_source_is_python():
    src = srcad.grad(bias_vector).backward_source
    compile(src, "<backward>", "exec")
    assert "def bias_vector_grad" in src


def test_check_grad_accepts_arrays():
    rng = np.random.default_rng(122)
    err = srcad.check_grad(bias_vector, rand(rng, 5, 3), rand(rng, 3, 4), rand(rng, 4))
    assert err < 1e-7


# ====================================================================== errors


def no_rule_fft(x):
    y = x * 2.0
    return np.sum(np.real(np.fft.fft(y)))  # <fft>


def non_scalar_result(x):
    return np.sin(x) * 2.0


def non_scalar_after_reduction(x):
    return np.sum(x, axis=0)


def inplace_item(x):
    x[0] = 1.0
    return np.sum(x**2)


def inplace_augmented(x):
    x += 1.0
    return np.sum(x**2)


def inplace_slice_aug(x):
    x[1:] *= 2.0
    return np.sum(x**2)


def inplace_alias(x):
    y = x
    y[2] = y[0] * 2.0
    return np.sum(x * y)


def write_into_copy(x):
    y = x.copy()
    y[0] = 1.0
    y[1:] *= 2.0
    return np.sum(y**2) + np.sum(x)


def _raise_or_none(fn):
    try:
        return fn(), None
    except srcad.SrcadError as e:
        return None, e


def test_no_rule_fft_error():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(no_rule_fft)
    e = info.value
    expect_location(e, "fft")
    assert "fft" in str(e) or "real" in str(e)
    assert "defrule" in str(e)


def test_non_scalar_result_error_at_call_time():
    g = srcad.grad(non_scalar_result)  # decoration succeeds: the shape is known only at call
    with pytest.raises(srcad.SrcadError) as info:
        g(np.array([0.1, 0.2, 0.3]))
    assert "scalar" in str(info.value)
    assert "(3,)" in str(info.value)
    assert g(0.25) == pytest.approx(2 * math.cos(0.25))  # a float result is fine


def test_non_scalar_result_after_reduction():
    g = srcad.grad(non_scalar_after_reduction)
    with pytest.raises(srcad.SrcadError, match="scalar"):
        g(np.ones((3, 2)))


def _inplace_case(f, x, want_grad, want_value):
    """A function that writes into its argument: the gradient and the value are right,
    and the gradient leaves the caller's array as it was (it computes at the point, as
    JAX's does; f itself changes it)."""
    after_f = x.copy()
    f(after_f)
    assert not np.array_equal(after_f, x)  # (f does write into x)
    mine = x.copy()
    value, dx = srcad.value_and_grad(f)(mine)
    np.testing.assert_array_equal(mine, x, err_msg="the gradient changed the caller's x")
    np.testing.assert_allclose(dx, want_grad, rtol=1e-12)
    assert value == pytest.approx(want_value, rel=1e-12)
    np.testing.assert_allclose(srcad.grad(f)(x.copy()), want_grad, rtol=1e-12)
    check_four_ways(f, x)


def test_inplace_item_write_on_input():
    x = np.array([0.5, -2.0, 3.0])
    # x[0] is overwritten, so it gets no gradient
    _inplace_case(inplace_item, x, [0.0, -4.0, 6.0], 1.0 + 4.0 + 9.0)


def test_inplace_augmented_on_input():
    x = np.array([0.5, -2.0, 3.0])
    _inplace_case(inplace_augmented, x, 2 * (x + 1.0), float(np.sum((x + 1.0) ** 2)))


def test_inplace_slice_augmented_on_input():
    x = np.array([0.5, -2.0, 3.0])
    want_x = np.array([0.5, -4.0, 6.0])
    _inplace_case(inplace_slice_aug, x, 2 * want_x * [1.0, 2.0, 2.0], float(np.sum(want_x**2)))


def test_inplace_write_through_alias_of_input():
    x = np.array([0.5, -2.0, 3.0])
    # x becomes [0.5, -2, 1.0] (x[2] = 2*x[0]); f = x0^2 + x1^2 + (2 x0)^2 = 5 x0^2 + x1^2
    _inplace_case(inplace_alias, x, [10 * 0.5, -4.0, 0.0], 5 * 0.25 + 4.0)


def test_write_into_copy_of_input():
    x = np.array([0.5, -2.0, 3.0])
    dx = check(write_into_copy, x)[0]
    np.testing.assert_allclose(dx, [1.0, 1.0 + 8 * -2.0, 1.0 + 8 * 3.0], rtol=1e-12)


def test_augmented_assignment_on_float_input_still_works():
    dx = check(inplace_augmented, 0.3)[0]
    assert dx == pytest.approx(2 * 1.3, rel=1e-12)


# ====================================================================== hypothesis


_shapes_2d = st.tuples(st.integers(1, 4), st.integers(1, 4))


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast: each axis of the second is n, 1, or dropped in front."""
    n, m = draw(_shapes_2d)
    a = (draw(st.sampled_from([n, 1])), draw(st.sampled_from([m, 1])))
    b = (draw(st.sampled_from([n, 1])), draw(st.sampled_from([m, 1])))
    if draw(st.booleans()):
        b = b[1:]
    return a, b


@HYPOTHESIS
@given(broadcast_pair(), st.integers(0, 2**16))
def test_hypothesis_broadcast_mul_add(shapes, seed):
    rng = np.random.default_rng(seed)
    check(ew_mul, rand(rng, *shapes[0]), rand(rng, *shapes[1]))
    check(ew_sub, rand(rng, *shapes[1]), rand(rng, *shapes[0]))


@HYPOTHESIS
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**16))
def test_hypothesis_matmul(n, k, m, seed):
    rng = np.random.default_rng(seed)
    check(mm_at, rand(rng, n, k), rand(rng, k, m))
    check(mm_at, rand(rng, k), rand(rng, k, m))


@HYPOTHESIS
@given(_shapes_2d, st.sampled_from([None, 0, 1, -1, (0, 1)]), st.integers(0, 2**16))
def test_hypothesis_sum_axis(shape, axis, seed):
    rng = np.random.default_rng(seed)
    check(red_sum_axis_param, rand(rng, *shape), axis, wrt=("x",))


@HYPOTHESIS
@given(_shapes_2d, st.integers(0, 2**16))
def test_hypothesis_log_softmax(shape, seed):
    rng = np.random.default_rng(seed)
    z = rand(rng, *shape, low=-3, high=3)
    w = rand(rng, *shape)
    check(weighted_log_softmax, z, w, wrt=("z",))


def weighted_log_softmax(z, w):
    s = z - np.max(z, axis=-1, keepdims=True)
    logp = s - np.log(np.sum(np.exp(s), axis=-1, keepdims=True))
    return np.sum(logp * w)


def _writes_first_into_both(x, y):
    x *= 2.0
    return float(np.sum(x * y))


def test_one_array_given_as_two_arguments_and_written_is_refused():
    """f(a, a) writing into x changes y too, which srcad, differentiating x and y as
    separate arrays, would not follow (the gradient was silently 4a where 8a is right,
    and the caller's array changed): refused, the caller's array left as it was."""
    a = np.array([0.5, -1.2, 0.8])
    c = a.copy()
    with pytest.raises(srcad.SrcadError, match="passes that array"):
        srcad.value_and_grad(_writes_first_into_both)(c, c)
    np.testing.assert_array_equal(c, a)


def test_jvp_leaves_the_callers_arrays_as_they_were():
    x = np.array([0.5, -2.0, 3.0])
    keep = x.copy()
    srcad.jvp(inplace_augmented, (x,), (np.ones(3),))
    np.testing.assert_array_equal(x, keep)


# ---------------------------------------------------------------- np.r_ and np.c_


def r_and_c(x):
    stacked = np.r_[x[:2], 3.0 * x[1], x]
    columns = np.c_[x, x**2]
    return np.sum(stacked**2) + np.sum(np.sin(columns) * columns[:, :1])


def test_r_and_c_concatenate_with_their_gradient():
    """``np.r_[...]`` and ``np.c_[...]`` index objects whose ``[]`` concatenates (the
    gradient used to be zero: it was read as an item of a constant)."""
    x = np.array([0.3, -0.7, 1.1])
    (dx,) = check_four_ways(r_and_c, x)
    c = np.stack([x, x**2], axis=1)
    want = np.array([4.0 * x[0], 22.0 * x[1], 2.0 * x[2]])  # (x[0], x[1] appear 2, 3 times)
    want += np.sin(c[:, 0]) + c[:, 0] * np.cos(c[:, 0]) + np.sin(c[:, 1])
    want += c[:, 0] * np.cos(c[:, 1]) * 2.0 * x
    np.testing.assert_allclose(dx, want, rtol=1e-12)


def r_with_a_range(x):
    return np.sum(np.r_[0:3, x])  # <r_ range>


def test_r_with_a_slice_is_refused_at_the_line():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(r_with_a_range)(np.array([1.0, 2.0]))
    assert info.value.lineno == marker_line(__file__, "r_ range")
    assert "np.concatenate" in info.value.hint


# ---------------------------------------------------------------- pinv, lstsq, meshgrid

LSQ_RNG = np.random.default_rng(7)
LSQ_X = LSQ_RNG.normal(size=(6, 3))
LSQ_Y = LSQ_RNG.normal(size=6)
LSQ_YS = LSQ_RNG.normal(size=(6, 2))


def pinv_fit(X, y):
    beta = np.linalg.pinv(X) @ y
    return np.sum(beta**2) + np.sum(np.linalg.pinv(X.T) ** 2)


def hermitian_pinv_fit(S, y):
    """numpy reads the lower triangle with hermitian=True (round 75a: the gradient was the
    general pseudo-inverse's, wrong at every entry of a matrix that is not symmetric)."""
    return np.sum(np.linalg.pinv(S, hermitian=True) @ y * LSQ_Y[:3])


HERMITIAN_S = np.array([[2.0, 0.9, 0.2], [0.1, 1.0, -0.3], [0.4, 0.6, 1.5]])


def lstsq_fit(X, y):
    beta, residuals, rank, singular = np.linalg.lstsq(X, y, rcond=None)
    return np.sum(beta**2) + 0.3 * residuals[0] + 0.1 * np.sum(singular) + 0.0 * rank


def lstsq_columns(X, Y):
    B, residuals, _, _ = np.linalg.lstsq(X, Y)
    return np.sum(np.sin(B)) + np.sum(residuals**2)


@pytest.mark.parametrize(
    "f, args", [(pinv_fit, (LSQ_X, LSQ_Y)), (lstsq_fit, (LSQ_X, LSQ_Y)),
                (lstsq_columns, (LSQ_X, LSQ_YS)),
                (hermitian_pinv_fit, (HERMITIAN_S, LSQ_Y[3:])),
                (hermitian_pinv_fit, (HERMITIAN_S + HERMITIAN_S.T, LSQ_Y[3:]))],
    ids=["pinv", "lstsq", "lstsq-columns", "pinv-hermitian", "pinv-hermitian-symmetric"],
)
def test_pseudo_inverse_and_least_squares(f, args):
    check_four_ways(f, *args, wrt=(0, 1))


def nearly_collinear_fit(y):
    X = np.column_stack([np.ones(6), np.arange(6.0), np.arange(6.0) + 1e-9 * LSQ_Y])
    beta = np.linalg.lstsq(X, y, rcond=1e-6)[0]
    return np.sum(beta**2)


def test_least_squares_with_a_cutoff_differentiates_the_solution_it_returns():
    """With ``rcond`` numpy drops the tiny singular value: the gradient is that of the
    solution with it dropped (the pseudo-inverse with the same cutoff)."""
    check_four_ways(nearly_collinear_fit, LSQ_Y)


def test_least_squares_gradient_is_the_normal_equations():
    """d|beta|^2/dy = 2 X (X^T X)^-1 beta for a full-rank tall X, where beta solves the
    normal equations; and the value is numpy's lstsq's own."""
    def squared_solution(y):
        return np.sum(np.linalg.lstsq(LSQ_X, y)[0] ** 2)

    value, dy = srcad.value_and_grad(squared_solution)(LSQ_Y)
    assert value == squared_solution(LSQ_Y)
    beta = np.linalg.solve(LSQ_X.T @ LSQ_X, LSQ_X.T @ LSQ_Y)
    np.testing.assert_allclose(dy, 2.0 * LSQ_X @ np.linalg.solve(LSQ_X.T @ LSQ_X, beta),
                               rtol=1e-10)


def gaussian_bump_on_grids(cx, cy):
    xs, ys = np.linspace(-1.0, 1.0, 5), np.linspace(-2.0, 2.0, 4)
    A, B = np.meshgrid(xs - cx, ys * cy)
    C, D = np.meshgrid(xs * cx, ys - cy, indexing="ij")
    P, Q, R = np.meshgrid(xs * cy, ys, xs + cx, indexing="ij", sparse=True)
    return (np.sum(np.exp(-(A**2 + B**2)) * A) + np.sum(C * D**2 + D)
            + np.sum(np.sin(P + Q * R)))


def test_meshgrid_with_differentiated_coordinates():
    """Each output repeats one input along one axis (axes 0 and 1 swap for 'xy'); its
    tangent keeps the call's keywords (the defaults came back: a wrong jvp for 'ij')."""
    check_four_ways(gaussian_bump_on_grids, 0.2, -0.3)


# ---------------------------------------------------------------- lists given to numpy


def lists_given_to_numpy(x):
    masked = np.sum(np.where([True, False], [1.0, 2.0], x) * x)
    shifted = np.sum(np.sin(np.subtract([1.0, 2.0], x)))
    floor = np.sum(np.maximum([0.1, 0.5, 2.0], x) ** 2)
    powers = np.sum(np.array([1.0, -2.0, 0.5]) * np.power(x, [0, 1, 2]))
    return masked + shifted + floor + powers + np.sum(np.logaddexp([0.1, 0.2], x))


def test_a_list_given_to_a_broadcasting_numpy_function_is_an_array():
    """``np.where([True, False], ..., x)`` of a number ``x``: numpy makes an array of the
    list, so ``x``'s gradient is summed back over it (it was a vector for a scalar), and
    the derivative's arithmetic reads the array (``[0, 1, 2] - 1`` crashed)."""
    (dx,) = check_four_ways(lists_given_to_numpy, 0.3)
    want = (2.0 * 0.3 + 1.0 - np.cos(0.7) - np.cos(1.7) + 0.6 + (-2.0 + 2 * 0.5 * 0.3)
            + np.sum(1.0 / (1.0 + np.exp(np.array([0.1, 0.2]) - 0.3))))
    assert np.shape(dx) == () and dx == pytest.approx(want, rel=1e-12)


def segment_maximum(x):
    m = np.zeros(3)
    np.maximum.at(m, np.array([0, 1, 0, 2]), x)  # <maximum at>
    return np.sum(m**2)


def test_ufunc_at_other_than_add_is_refused_saying_which_are_supported():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(segment_maximum)(np.array([0.5, 1.0, 2.0, 0.3]))
    assert info.value.lineno == marker_line(__file__, "maximum at")
    assert "np.maximum.at" in info.value.message and "np.add.at" in info.value.message


def exp_of_a_display(a):
    return np.sum(np.exp([a, 2.0 * a]))


def squares_of_a_display(a, b):
    return 0.5 * np.sum(np.square([a, b]))


def log_of_appended(xs_scale):
    probs = []
    for k in range(3):
        probs.append(1.0 / (1.0 + np.exp(-xs_scale * (k + 1))))
    return -np.sum(np.log(probs))


def test_a_list_the_function_makes_given_to_an_elementwise_numpy_function():
    """numpy makes an array of the list: the derivative's arithmetic must too (``2 * t``
    of a list repeated it; hvp was exactly 0; a list built by append crashed)."""
    (da,) = check_four_ways(exp_of_a_display, 0.3)
    assert da == pytest.approx(math.exp(0.3) + 2.0 * math.exp(0.6), rel=1e-12)
    np.testing.assert_allclose(srcad.hvp(exp_of_a_display)(0.3, 1.0),
                               math.exp(0.3) + 4.0 * math.exp(0.6), rtol=1e-10)
    grads = check_four_ways(squares_of_a_display, 0.4, -0.9, wrt=(0, 1))
    np.testing.assert_allclose(grads, [0.4, -0.9], rtol=1e-12)
    check_four_ways(log_of_appended, 0.7)


def l2_penalty(weights):
    return 0.5 * np.sum(np.square(weights))  # <list parameter>


def test_a_list_parameter_given_to_an_elementwise_numpy_function_is_refused():
    """numpy makes an array of the list; the derivative's arithmetic would run on the
    list (``2 * weights`` repeats it: a silently wrong gradient): refused when it runs,
    and an array of the same values works."""
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(l2_penalty)([0.3, -0.2])
    assert info.value.lineno == marker_line(__file__, "list parameter")
    assert "np.asarray(weights)" in info.value.hint
    np.testing.assert_allclose(srcad.grad(l2_penalty)(np.array([0.3, -0.2])), [0.3, -0.2])


def weighted_features(w):
    feats = np.tanh(w)
    return np.dot(feats, [1.0, -1.0, 0.5]) + np.inner([0.5, 0.25, 1.0], w)


def test_a_list_of_numbers_given_to_a_differentiated_operand_of_a_numpy_function():
    """``np.dot(x, [1.0, -1.0, 0.5])``: the list is the array numpy makes (the adjoint's
    ``g * y`` crashed on the list)."""
    w = np.array([0.3, -0.2, 0.8])
    (dw,) = check_four_ways(weighted_features, w)
    np.testing.assert_allclose(dw, (1 - np.tanh(w) ** 2) * [1.0, -1.0, 0.5] + [0.5, 0.25, 1.0],
                               rtol=1e-12)


def reads_flat(X):
    return X.flat[2] * 3.0 + np.sum(X**2)


def test_reading_through_flat():
    X = np.arange(6.0).reshape(2, 3)
    (dX,) = check_four_ways(reads_flat, X)
    np.testing.assert_allclose(dX, 2.0 * X + 3.0 * (np.arange(6) == 2).reshape(2, 3), rtol=1e-12)


def log_floor(y):
    return np.sum(np.nan_to_num(np.log(y), nan=0.0, neginf=-10.0, posinf=10.0) * y)


def binned(x):
    return np.sum(np.floor_divide(x, 0.3) * x)


def integral_either_way(y, x):
    # (numpy 2 has trapezoid; trapz, the other branch, is gone: it is not read)
    return np.trapezoid(y, x) if hasattr(np, "trapezoid") else np.trapz(y, x)


def test_nan_to_num_with_keywords_floor_divide_and_a_hasattr_branch():
    """Round 65a refusals: np.nan_to_num's replacement values, np.floor_divide (as `//`),
    and the branch a module's hasattr decides when srcad compiles."""
    y = np.array([0.5, 2.0, 3.0])
    got = check_four_ways(log_floor, y)
    np.testing.assert_allclose(got[0], np.log(y) + 1.0, rtol=1e-12)
    got = check_four_ways(binned, np.array([0.5, 2.0]))
    np.testing.assert_allclose(got[0], [1.0, 6.0])
    got = check_four_ways(integral_either_way, y, np.array([0.0, 0.5, 1.5]), wrt=(0,))
    np.testing.assert_allclose(got[0], [0.25, 0.75, 0.5])


def nan_filled_by_x(x):
    y = np.array([x, np.nan, np.inf, -np.inf])
    return np.sum(np.nan_to_num(y, nan=x, posinf=2.0 * x, neginf=x * x))


def test_nan_to_num_replacement_values_get_their_gradient():
    """Round 66: a replacement value depending on x lost its gradient (1 where 2 is)."""
    got = check_four_ways(nan_filled_by_x, 0.7, forward=True)
    assert got[0] == pytest.approx(1.0 + 1.0 + 2.0 + 2 * 0.7)


_SETTINGS = types.ModuleType("srcad_test_settings")  # (a module of the user's own)


def doubled_when_set(x):
    if hasattr(_SETTINGS, "double"):
        return 2.0 * x * x
    return x * x


def test_hasattr_of_a_users_module_is_read_when_the_gradient_runs():
    """Round 66: hasattr of the user's module was decided when srcad compiled (numpy's
    version guards still are)."""
    gradient = srcad.grad(doubled_when_set)
    assert gradient(0.7) == pytest.approx(1.4)
    _SETTINGS.double = True
    try:
        assert gradient(0.7) == pytest.approx(2.8)
    finally:
        del _SETTINGS.double
    assert gradient(0.7) == pytest.approx(1.4)


def nan_to_num_in_place(x):
    a = np.array([np.inf, 1.0, 3.0]) * x
    same = np.nan_to_num(a, copy=False, posinf=x)  # (a itself)
    assert same is a
    return np.sum(a * 2.0)


def test_nan_to_num_told_not_to_copy_is_refused():
    """Round 67: copy=False writes into the input, which srcad neither refused nor
    followed (its value was inf where Python's is 7)."""
    assert nan_to_num_in_place(0.5) == pytest.approx(5.0)
    with pytest.raises(srcad.SrcadError, match="copy=False"):
        srcad.grad(nan_to_num_in_place)(0.5)
