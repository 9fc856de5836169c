"""Forward mode and higher order: jvp, grad of grad, hessian, hvp, jacobian, refusals.

References and tolerances
-------------------------
* Central differences (``CD_RTOL`` = 1e-6, ``CD_ATOL`` = 1e-8, step 1e-6 relative to
  the point): the same budget as ``conftest.assert_grad_close``, whose docstring
  derives it (truncation ~1e-12 |f'''|, roundoff ~1e-10 |f| for the small functions
  here). Directional derivatives (jvp) and Jacobian columns are first derivatives, so
  the same budget applies. ``hvp`` is checked against central differences of srcad's
  own *gradient* along ``v``, again a first derivative (of the gradient).
* Hand-derived derivatives (``ANALYTIC_TOL`` = 1e-12 relative): srcad evaluates the
  same formula in a different order, so only a few ulps separate them.
"""

import collections
import functools
import inspect
import math
import os

import numpy as np
import pytest
from conftest import check_four_ways

import srcad

THIS_FILE = os.path.basename(__file__)

CD_EPS = 1e-6
CD_RTOL = 1e-6
CD_ATOL = 1e-8
ANALYTIC_TOL = 1e-12


def close(got, want, tol=ANALYTIC_TOL):
    return abs(float(got) - want) <= tol * max(1.0, abs(want))


def leaves(value):
    if isinstance(value, tuple | list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


def directional(f, primals, tangents, eps=CD_EPS):
    """Central difference of ``f`` at ``primals`` along ``tangents`` (flattened outputs)."""
    scale = max(1.0, max(float(np.max(np.abs(p))) for p in primals))
    h = eps * scale
    plus = f(*(p + h * t for p, t in zip(primals, tangents, strict=True)))
    minus = f(*(p - h * t for p, t in zip(primals, tangents, strict=True)))
    return [(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)) / (2 * h)
            for a, b in zip(leaves(plus), leaves(minus), strict=True)]


def assert_jvp_close(f, primals, tangents):
    value, tangent = srcad.jvp(f)(tuple(primals), tuple(tangents))
    want_value = f(*primals)
    for got, want in zip(leaves(value), leaves(want_value), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
    want_tangent = directional(f, primals, tangents)
    got_tangent = leaves(tangent)
    assert len(got_tangent) == len(want_tangent)
    for got, want in zip(got_tangent, want_tangent, strict=True):
        np.testing.assert_allclose(np.asarray(got, dtype=float), want, rtol=CD_RTOL, atol=CD_ATOL)
    return value, tangent


def numeric_jacobian_column(f, args, index, position=None, eps=CD_EPS):
    """d f / d args[index][position] by central differences, one array per output."""
    x = args[index]
    basis = 1.0
    if position is not None:
        basis = np.zeros(np.shape(x))
        basis[position] = 1.0
    tangents = [np.zeros(np.shape(a)) if np.ndim(a) else 0.0 for a in args]
    tangents[index] = basis
    return directional(f, args, tangents, eps)


# ---------------------------------------------------------------- functions


def scalar2(x, y):
    return x * math.sin(y) + math.exp(x * y) / (1.0 + y * y)


def two_outputs(x, y):
    return x * math.sin(y), x * x + y, 2.0


def elementwise(x, w):
    return np.tanh(x * w) + np.exp(-x) * w - np.sqrt(w * w + 1.0)


def with_branch(x, y):
    if x > y:
        z = x * x * y
    else:
        z = math.sin(x) * y
    return z + math.cos(y)


def with_loops(x, y):
    acc = 0.0
    for _ in range(4):
        if acc > 1.0:
            acc = acc * 0.5 + y
        else:
            acc = acc + x * x
    n = 0
    while n < 3:
        acc = acc * x + math.sin(acc)
        n += 1
    return acc, acc * y


def helper(t, k=2.0):
    return t**k + math.sin(t)


def calls_helper(x, y):
    return helper(x) * helper(y, k=3.0)


def gaussian_sin(x):
    return math.exp(-x * x) * math.sin(x)


def gaussian_sin_dd(x):
    # (e^{-x^2} sin x)'' = e^{-x^2} ((4x^2 - 3) sin x - 4x cos x)
    return math.exp(-x * x) * ((4 * x * x - 3) * math.sin(x) - 4 * x * math.cos(x))


def rational(x):
    return x**3 / (1.0 + x * x)


def rational_dd(x):
    # x^3/(1+x^2) = x - x/(1+x^2); (x/(1+x^2))'' = 2x(x^2 - 3)/(1+x^2)^3
    return -2 * x * (x * x - 3) / (1 + x * x) ** 3


def piecewise(x):
    if x > 0.0:
        y = x * x * x
    else:
        y = math.sin(x) * x
    return y


def piecewise_dd(x):
    # x > 0: 6x ; else (x sin x)'' = 2 cos x - x sin x
    return 6 * x if x > 0 else 2 * math.cos(x) - x * math.sin(x)


def piecewise_return(x):
    if x > 1.0:
        return math.log(x) * x
    return x**4.0


def piecewise_return_dd(x):
    return 1 / x if x > 1.0 else 12 * x * x


def square_helper(a):
    return a * a


def uses_square_helper(x):
    return square_helper(x) * math.sin(x)


def uses_square_helper_dd(x):
    # (x^2 sin x)'' = 2 sin x + 4x cos x - x^2 sin x
    return 2 * math.sin(x) + 4 * x * math.cos(x) - x * x * math.sin(x)


K = 2.5


def reads_constant(x):
    return K * x * x * x


def hess2(x, y):
    return x * x * y + math.exp(x * y)


def hess2_analytic(x, y):
    e = math.exp(x * y)
    return np.array([[2 * y + y * y * e, 2 * x + e * (1 + x * y)],
                     [2 * x + e * (1 + x * y), x * x * e]])


def hess3(x, y, z):
    return x * y * z + math.sin(x) * z * z


def hess3_analytic(x, y, z):
    return np.array([[-math.sin(x) * z * z, z, y + 2 * math.cos(x) * z],
                     [z, 0.0, x],
                     [y + 2 * math.cos(x) * z, x, 2 * math.sin(x)]])


def array_out(x):
    return np.sin(x) * x


def matvec(a, v):
    return a @ v


def mixed_out(x, y):
    return x * y, np.sum(np.sin(x))


def looped(x):
    s = 0.0
    for _ in range(3):
        s = s * x + 1.0
    return s


def sum_cubes(x):
    return np.sum(x * x * x)


# ---------------------------------------------------------------- jvp


@pytest.mark.parametrize("primals, tangents", [
    ((0.7, 1.3), (1.0, 0.0)),
    ((0.7, 1.3), (0.0, 1.0)),
    ((-0.4, 0.9), (0.5, -2.0)),
])
def test_jvp_scalar(primals, tangents):
    assert_jvp_close(scalar2, primals, tangents)


def test_jvp_scalar_analytic():
    x, y, tx, ty = 0.7, 1.3, 0.5, -2.0
    _, t = srcad.jvp(scalar2)((x, y), (tx, ty))
    e, d = math.exp(x * y), 1.0 + y * y
    fx = math.sin(y) + y * e / d
    fy = x * math.cos(y) + x * e / d - e * 2 * y / d**2
    assert close(t, fx * tx + fy * ty)


def test_jvp_tuple_output():
    value, tangent = assert_jvp_close(two_outputs, (1.0, 2.0), (0.3, -0.7))
    assert isinstance(value, tuple) and len(value) == 3
    assert isinstance(tangent, tuple) and len(tangent) == 3
    assert float(tangent[2]) == 0.0


def test_jvp_numpy_elementwise():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=4), rng.normal(size=4)
    tx, tw = rng.normal(size=4), rng.normal(size=4)
    value, tangent = assert_jvp_close(elementwise, (x, w), (tx, tw))
    assert np.shape(tangent) == (4,)


@pytest.mark.parametrize("x, y", [(1.5, 0.5), (0.2, 0.9)])
def test_jvp_branch(x, y):
    assert_jvp_close(with_branch, (x, y), (0.6, -1.1))


@pytest.mark.parametrize("x, y", [(0.9, 0.3), (0.4, 1.7)])
def test_jvp_loops(x, y):
    assert_jvp_close(with_loops, (x, y), (1.0, 2.0))


def test_jvp_inlined_helper():
    assert_jvp_close(calls_helper, (0.8, 1.2), (0.4, -0.9))


def test_jvp_sources():
    j = srcad.jvp(scalar2)
    assert j.tangent_source.startswith("def scalar2_jvp(primals, tangents):"), j.tangent_source
    assert "x_dot" in j.tangent_source and "y_dot" in j.tangent_source
    assert "def scalar2(x, y):" in j.forward_source
    assert j.__wrapped__ is scalar2


# ---------------------------------------------------------------- grad of grad


@pytest.mark.parametrize("f, dd", [(gaussian_sin, gaussian_sin_dd), (rational, rational_dd),
                                   (uses_square_helper, uses_square_helper_dd)])
@pytest.mark.parametrize("x", [0.7, -1.3, 2.1])
def test_grad_of_grad_straight_line(f, dd, x):
    assert close(srcad.grad(srcad.grad(f))(x), dd(x))


def test_grad_of_grad_source():
    gg = srcad.grad(srcad.grad(gaussian_sin))
    src = gg.backward_source
    assert "def gaussian_sin_grad_grad(x):" in src, src
    assert "# backward pass" in src
    assert "def gaussian_sin_grad(x):" in gg.forward_source, gg.forward_source


def test_third_derivative():
    # (x^3 / (1 + x^2))''' by central differences of the analytic second derivative
    x = 0.6
    h = CD_EPS
    want = (rational_dd(x + h) - rational_dd(x - h)) / (2 * h)
    got = srcad.grad(srcad.grad(srcad.grad(rational)))(x)
    assert abs(got - want) <= CD_ATOL + CD_RTOL * abs(want)


def test_grad_of_grad_if_else():
    gg = srcad.grad(srcad.grad(piecewise))
    for x in (1.4, -0.8):  # both branches
        assert close(gg(x), piecewise_dd(x)), x


def test_grad_of_grad_early_return():
    gg = srcad.grad(srcad.grad(piecewise_return))
    for x in (2.5, 0.5):  # both returns
        assert close(gg(x), piecewise_return_dd(x)), x


def test_grad_of_grad_reads_module_constant(monkeypatch):
    gg = srcad.grad(srcad.grad(reads_constant))
    assert close(gg(1.5), 6 * K * 1.5)
    monkeypatch.setitem(globals(), "K", -1.0)
    assert close(gg(1.5), 6 * -1.0 * 1.5)


# ---------------------------------------------------------------- hessian and hvp


@pytest.mark.parametrize("x, y", [(0.5, 1.5), (-1.2, 0.3)])
def test_hessian_two_arguments(x, y):
    h = srcad.hessian(hess2, wrt=(0, 1))(x, y)
    assert isinstance(h, np.ndarray) and h.shape == (2, 2)
    np.testing.assert_allclose(h, hess2_analytic(x, y), rtol=ANALYTIC_TOL, atol=ANALYTIC_TOL)


def test_hessian_three_arguments_and_wrt():
    args = (1.0, 2.0, 3.0)
    full = hess3_analytic(*args)
    np.testing.assert_allclose(srcad.hessian(hess3, wrt=(0, 1, 2))(*args), full, rtol=ANALYTIC_TOL,
                               atol=ANALYTIC_TOL)
    sub = srcad.hessian(hess3, wrt=("x", "z"))(*args)
    np.testing.assert_allclose(sub, full[np.ix_([0, 2], [0, 2])], rtol=ANALYTIC_TOL,
                               atol=ANALYTIC_TOL)


def test_hessian_one_scalar_argument():
    h = srcad.hessian(gaussian_sin)(0.7)
    assert np.ndim(h) == 0
    assert close(h, gaussian_sin_dd(0.7))


@pytest.mark.parametrize("v", [(1.0, 0.0), (0.0, 1.0), (0.7, -2.0)])
def test_hvp_matches_hessian(v):
    x, y = 0.5, 1.5
    got = np.asarray(srcad.hvp(hess2, wrt=(0, 1))(x, y, v), dtype=float)
    np.testing.assert_allclose(got, hess2_analytic(x, y) @ np.array(v), rtol=ANALYTIC_TOL,
                               atol=ANALYTIC_TOL)
    np.testing.assert_allclose(got, srcad.hessian(hess2, wrt=(0, 1))(x, y) @ np.array(v),
                               rtol=ANALYTIC_TOL, atol=ANALYTIC_TOL)


def test_hvp_against_gradient_differences():
    args, v = (1.0, 2.0, 3.0), (0.3, -1.0, 0.8)
    every = (0, 1, 2)
    got = np.asarray(srcad.hvp(hess3, wrt=every)(*args, v), dtype=float)
    want = np.array(directional(lambda *a: srcad.grad(hess3, wrt=every)(*a), args, v)).ravel()
    np.testing.assert_allclose(got, want, rtol=CD_RTOL, atol=CD_ATOL)


def test_hvp_one_argument():
    got = srcad.hvp(rational)(0.9, 2.0)
    assert close(got, 2.0 * rational_dd(0.9))


# ---------------------------------------------------------------- jacobian


def test_jacobian_tuple_outputs_scalar_args():
    args = (1.0, 2.0)
    jac = srcad.jacobian(two_outputs, wrt=(0, 1))(*args)
    assert len(jac) == 3 and all(len(row) == 2 for row in jac)
    for j in range(2):
        col = numeric_jacobian_column(two_outputs, args, j)
        for i in range(3):
            assert abs(jac[i][j] - col[i]) <= CD_ATOL + CD_RTOL * abs(col[i]), (i, j, jac)


def test_jacobian_array_output_array_arg():
    x = np.array([0.3, -1.2, 2.0])
    jac = srcad.jacobian(array_out)(x)
    assert jac.shape == (3, 3)
    for k in range(3):
        (col,) = numeric_jacobian_column(array_out, (x,), 0, (k,))
        np.testing.assert_allclose(jac[:, k], col, rtol=CD_RTOL, atol=CD_ATOL)
    np.testing.assert_allclose(jac, np.diag(np.sin(x) + x * np.cos(x)), rtol=ANALYTIC_TOL,
                               atol=ANALYTIC_TOL)


def test_jacobian_matvec_shapes():
    a = np.array([[1.0, 2.0, 0.5], [-1.0, 0.3, 4.0]])
    v = np.array([0.7, -0.2, 1.1])
    ja, jv = srcad.jacobian(matvec, wrt=(0, 1))(a, v)
    assert ja.shape == (2, 2, 3) and jv.shape == (2, 3)
    np.testing.assert_allclose(jv, a, rtol=ANALYTIC_TOL, atol=ANALYTIC_TOL)
    for i in range(2):
        for j in range(3):
            (col,) = numeric_jacobian_column(matvec, (a, v), 0, (i, j))
            np.testing.assert_allclose(ja[:, i, j], col, rtol=CD_RTOL, atol=CD_ATOL)


def test_jacobian_tuple_of_array_outputs_and_wrt():
    x, y = np.array([1.0, 2.0]), np.array([3.0, -4.0])
    (jxy_x, jxy_y), (js_x, js_y) = srcad.jacobian(mixed_out, wrt=(0, 1))(x, y)
    np.testing.assert_allclose(jxy_x, np.diag(y), rtol=ANALYTIC_TOL, atol=ANALYTIC_TOL)
    np.testing.assert_allclose(jxy_y, np.diag(x), rtol=ANALYTIC_TOL, atol=ANALYTIC_TOL)
    np.testing.assert_allclose(js_x, np.cos(x), rtol=ANALYTIC_TOL, atol=ANALYTIC_TOL)
    np.testing.assert_allclose(js_y, np.zeros(2), atol=0)
    only_x = srcad.jacobian(mixed_out, wrt="x")(x, y)
    np.testing.assert_allclose(only_x[0], np.diag(y), rtol=ANALYTIC_TOL, atol=ANALYTIC_TOL)
    np.testing.assert_allclose(only_x[1], np.cos(x), rtol=ANALYTIC_TOL, atol=ANALYTIC_TOL)


def test_jacobian_of_function_with_loops():
    args = (0.9, 0.3)
    jac = srcad.jacobian(with_loops, wrt=(0, 1))(*args)
    for j in range(2):
        col = numeric_jacobian_column(with_loops, args, j)
        for i in range(2):
            assert abs(jac[i][j] - col[i]) <= CD_ATOL + CD_RTOL * abs(col[i]), (i, j, jac)


# ---------------------------------------------------------------- refusals


def assert_refused(call, *words):
    with pytest.raises(srcad.SrcadError) as info:
        call()
    message = str(info.value)
    for word in words:
        assert word in message, message
    assert THIS_FILE in message, f"the error does not name the user's file: {message}"
    return info.value


def test_grad_of_grad_of_a_loop():
    # looped(x) = x**2 + x + 1: the gradient keeps a tape, so its source is not read again;
    # its derivative comes from looped's forward-mode code (reverse over forward)
    assert close(srcad.grad(srcad.grad(looped))(0.7), 2.0)
    value, second = srcad.value_and_grad(srcad.grad(looped))(0.7)
    assert close(value, 2 * 0.7 + 1) and close(second, 2.0)


def loop_of_two(x, y):
    s = 0.0
    for _ in range(3):
        s = s + math.sin(x * s + y) + x * y
    return s * x


def numpy_of_two(a, b):
    t = np.linspace(0.0, 1.0, 5)
    return np.sum(np.exp(-a * t) * np.cos(b * t))


@pytest.mark.parametrize("f", [loop_of_two, numpy_of_two])
def test_grad_of_grad_mixed_partials_of_loops_and_arrays(f):
    """Every d/dj (df/di), against central differences of the first derivative."""
    args = (0.3, 0.7)
    for i in range(2):
        first = srcad.grad(f, wrt=i)
        for j in range(2):
            got = srcad.grad(first, wrt=j)(*args)
            column = numeric_jacobian_column(lambda *a, first=first: (first(*a),), args, j)[0]
            assert abs(got - column) <= CD_ATOL + CD_RTOL * abs(column), (i, j, got, column)
    both = srcad.grad(srcad.grad(f), wrt=(0, 1))(*args)
    assert np.allclose(both, srcad.hessian(f, wrt=(0, 1))(*args)[0], rtol=1e-12)


def logistic_loss(w, X, y):
    p = 1 / (1 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)) + 0.05 * np.sum(w * w)


def test_jvp_and_jacobian_of_the_gradient_of_an_array_function():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(6, 3)), np.array([0.0, 1, 1, 0, 1, 0])
    w, v = np.array([0.2, -0.1, 0.3]), np.array([1.0, -2.0, 0.5])
    H = srcad.hessian(logistic_loss)(w, X, y)
    g = srcad.grad(logistic_loss)
    numeric = np.array([(g(w + h * e, X, y) - g(w - h * e, X, y)) / (2 * h)
                        for e, h in zip(np.eye(3), [1e-6] * 3)]).T
    np.testing.assert_allclose(H, numeric, rtol=1e-6, atol=1e-8)
    value, tangent = srcad.jvp(g)((w, X, y), (v, np.zeros_like(X), np.zeros_like(y)))
    np.testing.assert_allclose(value, g(w, X, y), rtol=1e-14)
    np.testing.assert_allclose(tangent, H @ v, rtol=1e-12)
    np.testing.assert_allclose(srcad.jacobian(g)(w, X, y), H, rtol=1e-12)


def test_grad_of_grad_needs_a_scalar_gradient():
    assert_refused(lambda: srcad.grad(srcad.grad(sum_cubes))(np.array([1.0, 2.0])),
                   "not one number", "grad needs a scalar result")


@pytest.mark.parametrize("make", [srcad.hessian, srcad.jacobian, srcad.hvp,
                                  lambda f: srcad.grad(srcad.grad(f))])
def test_a_derivative_srcad_made_is_not_unwrapped_to_its_function(make):
    # its __wrapped__ is the function it was made from: reading that instead gave
    # grad(hessian(f)) == grad(f), a silently wrong third derivative
    assert_refused(lambda: srcad.grad(make(looped)), "made by srcad",
                   "cannot be differentiated again")


def test_hessian_and_hvp_of_a_loop():
    """``hessian`` and ``hvp`` differentiate the tangent function (reverse over
    forward): looped(x) = x**2 + x + 1."""
    assert close(srcad.hessian(looped)(0.7), 2.0)
    assert close(srcad.hvp(looped)(0.7, 1.5), 3.0)


def test_loop_first_derivatives_still_work():
    # the refusal is for second derivatives only: jvp and grad of the loop are fine
    x = 2.0
    _, t = srcad.jvp(looped)((x,), (1.0,))
    assert close(t, 2 * x + 1)
    assert close(srcad.grad(looped)(x), 2 * x + 1)


def test_hessian_of_array_function():
    """(was refused before 0.2, by forward over reverse): sum(x**3) has Hessian diag(6 x)."""
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(srcad.hessian(sum_cubes)(x), np.diag(6 * x), rtol=ANALYTIC_TOL)


def test_hvp_of_array_function():
    x, v = np.array([1.0, 2.0]), np.array([1.0, -0.5])
    np.testing.assert_allclose(srcad.hvp(sum_cubes)(x, v), 6 * x * v, rtol=ANALYTIC_TOL)


def _two_summaries(x):
    return np.array([np.sum(x * x), np.sum(np.sin(x))])


def test_jacobian_with_few_outputs_uses_reverse_mode_rows():
    """Two outputs, five inputs: the Jacobian is built from two vector-Jacobian products."""
    import srcad.building as building

    x = np.linspace(-1.0, 1.0, 5)
    jac = srcad.jacobian(_two_summaries)(x)
    np.testing.assert_allclose(jac, np.array([2 * x, np.cos(x)]), rtol=1e-13, atol=1e-15)
    assert any(
        built.mode == "vjp" for built in building._cache.values()
    ), "rows were not built by reverse mode"


# ---------------------------------------------------------------- linear rules with keywords
#
# Forward mode applies a linear gate to the operand's tangent. A call rule's pattern is a
# signature whose keywords hold the *defaults* (``np.sum(x, axis=None, keepdims=False)``),
# so the tangent line must take ``axis``/``keepdims``/``axes`` from the user's call, given
# by position or by name, never from the pattern. Each function below is linear in all of
# its arguments, so the exact tangent along ``v`` is ``f(*v)`` and the exact Jacobian's
# columns are ``f`` at the unit vectors.


def lin_sum_axis0(x):
    return np.sum(x, axis=0)


def lin_sum_pos1(x):
    return np.sum(x, 1)


def lin_sum_keep(x):
    return np.sum(x, axis=1, keepdims=True)


def lin_sum_pos_keep(x):
    return np.sum(x, 0, keepdims=True)


def lin_sum_keep_first(x):
    return np.sum(x, keepdims=True, axis=-1)


def lin_sum_tuple_axes(x):
    return np.sum(x, axis=(0, 2))


def lin_method_sum(x):
    return x.sum(axis=0)


def lin_method_sum_pos(x):
    return x.sum(1, keepdims=True)


def lin_mean_axis(x):
    return np.mean(x, axis=1)


def lin_mean_pos_keep(x):
    return np.mean(x, 0, keepdims=True)


def lin_method_mean(x):
    return x.mean(axis=-1, keepdims=True)


def lin_method_mean_pos(x):
    return x.mean(0)


def lin_transpose_pos(x):
    return np.transpose(x, (1, 0, 2))


def lin_transpose_kw(x):
    return np.transpose(x, axes=(2, 0, 1))


def lin_transpose_default(x):
    return np.transpose(x)


def lin_concat_axis1(a, b):
    return np.concatenate([a, b], axis=1)


def lin_concat_pos(a, b):
    return np.concatenate((a, b), 1)


def lin_concat_neg(a, b):
    return np.concatenate([a, b], axis=-1)


def lin_concat_default(a, c):
    return np.concatenate([a, c])


def lin_stack_axis1(a, b):
    return np.stack([a, b], axis=1)


def lin_stack_pos(a, b):
    return np.stack((a, b), 2)


def lin_stack_neg(a, b):
    return np.stack([a, b], axis=-1)


def lin_squeeze_axis(x):
    return np.squeeze(x, axis=1)


def lin_squeeze_pos(x):
    return np.squeeze(x, 3)


def lin_method_squeeze(x):
    return x.squeeze(axis=1)


def lin_method_squeeze_pos(x):
    return x.squeeze(3)


def lin_expand_dims_kw(x):
    return np.expand_dims(x, axis=1)


def lin_reshape_kw(x):
    return np.reshape(x, shape=(4, 3))


def lin_method_reshape(x):
    return x.reshape(2, 3, 2)


def lin_chain(x, y):
    s = np.sum(x, axis=0, keepdims=True)
    t = np.concatenate([s, y], axis=0)
    return np.transpose(t, (1, 0)).mean(axis=1)


_M34 = (3, 4)
_T234 = (2, 3, 4)
_SQ = (3, 1, 4, 1)
LINEAR_KEYWORD_CASES = [
    (lin_sum_axis0, (_M34,)),
    (lin_sum_pos1, (_M34,)),
    (lin_sum_keep, (_M34,)),
    (lin_sum_pos_keep, (_M34,)),
    (lin_sum_keep_first, (_M34,)),
    (lin_sum_tuple_axes, (_T234,)),
    (lin_method_sum, (_M34,)),
    (lin_method_sum_pos, (_M34,)),
    (lin_mean_axis, (_M34,)),
    (lin_mean_pos_keep, (_M34,)),
    (lin_method_mean, (_M34,)),
    (lin_method_mean_pos, (_M34,)),
    (lin_transpose_pos, (_T234,)),
    (lin_transpose_kw, (_T234,)),
    (lin_transpose_default, (_T234,)),
    (lin_concat_axis1, ((2, 2), (2, 3))),
    (lin_concat_pos, ((2, 2), (2, 3))),
    (lin_concat_neg, ((2, 2), (2, 3))),
    (lin_concat_default, ((2, 2), (3, 2))),
    (lin_stack_axis1, (_M34, _M34)),
    (lin_stack_pos, (_M34, _M34)),
    (lin_stack_neg, (_M34, _M34)),
    (lin_squeeze_axis, (_SQ,)),
    (lin_squeeze_pos, (_SQ,)),
    (lin_method_squeeze, (_SQ,)),
    (lin_method_squeeze_pos, (_SQ,)),
    (lin_expand_dims_kw, (_M34,)),
    (lin_reshape_kw, (_M34,)),
    (lin_method_reshape, (_M34,)),
    (lin_chain, ((2, 3), (1, 3))),
]
_case_ids = [f.__name__ for f, _ in LINEAR_KEYWORD_CASES]


def _linear_args(shapes, seed):
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(-1.0, 1.0, size=s) for s in shapes)


def _exact_jacobian(f, args, index):
    """Columns ``f`` at the unit vectors of argument ``index`` (``f`` is linear)."""
    zeros = [np.zeros_like(a) for a in args]
    shape = args[index].shape
    columns = []
    for position in np.ndindex(*shape):
        basis = list(zeros)
        basis[index] = np.zeros(shape)
        basis[index][position] = 1.0
        columns.append(np.asarray(f(*basis), dtype=float))
    out_shape = columns[0].shape
    stacked = np.array(columns).reshape(shape + out_shape)
    return np.moveaxis(stacked, range(len(shape)), range(-len(shape), 0))


@pytest.mark.parametrize("f, shapes", LINEAR_KEYWORD_CASES, ids=_case_ids)
def test_jvp_of_linear_rules_keeps_keywords(f, shapes):
    primals, tangents = _linear_args(shapes, 70), _linear_args(shapes, 71)
    _, tangent = assert_jvp_close(f, primals, tangents)  # central differences
    want = f(*tangents)  # exact: f is linear
    assert np.shape(tangent) == np.shape(want)
    np.testing.assert_allclose(tangent, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("f, shapes", LINEAR_KEYWORD_CASES, ids=_case_ids)
def test_jvp_of_linear_rules_matches_reverse_mode(f, shapes):
    """<w, J v> from forward mode equals <J^T w, v> from srcad's reverse mode."""
    from srcad.building import build

    primals, tangents = _linear_args(shapes, 72), _linear_args(shapes, 73)
    names = list(f.__code__.co_varnames[: f.__code__.co_argcount])
    value, tangent = srcad.jvp(f)(primals, tangents)
    w = np.random.default_rng(74).uniform(-1.0, 1.0, size=np.shape(value))
    vjp_fn = build(f, tuple(names), "vjp", True).bind(f)
    cotangents = vjp_fn(*primals, w)
    cotangents = (cotangents,) if len(names) == 1 else cotangents
    forward = float(np.sum(w * tangent))
    reverse = sum(float(np.sum(c * t)) for c, t in zip(cotangents, tangents, strict=True))
    assert forward == pytest.approx(reverse, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("f, shapes", LINEAR_KEYWORD_CASES, ids=_case_ids)
def test_jacobian_of_linear_rules_keeps_keywords(f, shapes):
    """``srcad.jacobian`` (rows by reverse mode or columns by forward mode) and the
    columns built from ``jvp`` both equal the exact Jacobian."""
    args = _linear_args(shapes, 75)
    jac = srcad.jacobian(f, wrt=tuple(range(len(args))))(*args)
    jac = (jac,) if len(args) == 1 else jac
    tangent_fn = srcad.jvp(f)
    for index, arg in enumerate(args):
        want = _exact_jacobian(f, args, index)
        np.testing.assert_allclose(jac[index], want, rtol=1e-13, atol=1e-15)
        columns = []
        for position in np.ndindex(*arg.shape):
            tangents = [np.zeros_like(a) for a in args]
            tangents[index][position] = 1.0
            columns.append(tangent_fn(args, tuple(tangents))[1])
        by_columns = np.moveaxis(np.array(columns).reshape(arg.shape + np.shape(columns[0])),
                                 range(arg.ndim), range(-arg.ndim, 0))
        np.testing.assert_allclose(by_columns, want, rtol=1e-13, atol=1e-15)


def test_jvp_of_sum_with_axis_exact():
    x = np.ones((2, 2))
    value, tangent = srcad.jvp(lin_sum_axis0)((x,), (x,))
    np.testing.assert_array_equal(value, [2.0, 2.0])
    np.testing.assert_array_equal(tangent, [2.0, 2.0])
    source = srcad.jvp(lin_sum_axis0).tangent_source
    assert "np.sum(x_dot, axis=0, keepdims=False)" in source, source  # (the call's own)


def test_jacobian_of_concatenate_along_axis_1_exact():
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[5.0], [6.0]])
    ja, jb = srcad.jacobian(lin_concat_axis1, wrt=(0, 1))(a, b)
    want_a = np.zeros((2, 3, 2, 2))
    want_b = np.zeros((2, 3, 2, 1))
    for i in range(2):
        for j in range(2):
            want_a[i, j, i, j] = 1.0
        want_b[i, 2, i, 0] = 1.0
    np.testing.assert_array_equal(ja, want_a)
    np.testing.assert_array_equal(jb, want_b)


def _user_linear(x, scale=1.0, axis=None):  # a stand-in for a user's function
    return np.sum(x, axis=axis) * scale


def test_a_call_rule_has_a_signature_apart_from_its_pattern():
    """The pattern's keywords are the defaults of the rule's signature; the signature
    writes a call from the call's own operands: keywords given, never a default."""
    from srcad import ir
    from srcad.rules.table import RuleTable, defrule

    rule = defrule("user_linear(x, scale=1.0, axis=None)", env={"user_linear": _user_linear},
                   table=RuleTable(), scale=None, axis=None, x="g", linear=True)
    signature = rule.signature
    assert signature.func == ir.Name("user_linear")
    assert signature.params == ("x", "scale", "axis")
    assert signature.defaults == {"scale": ir.Const(1.0), "axis": ir.Const(None)}
    given = {"x": ir.Name("a"), "scale": ir.Const(2.0), "axis": ir.Const(1)}
    call = signature.call(ir.Name("f"), given)
    assert call == ir.Call(ir.Name("f"), (ir.Name("a"),),
                           (("scale", ir.Const(2.0)), ("axis", ir.Const(1))))
    defaults = {**given, "axis": ir.Const(None)}  # a keyword at its default is left out
    assert signature.call(ir.Name("f"), defaults).kwargs == (("scale", ir.Const(2.0)),)
    method = defrule("x.user_sum(axis=0)", table=RuleTable(), axis=None, x="g", linear=True)
    assert method.params == ("x", "axis")
    assert method.signature.func == ir.Attr(ir.Name("x"), "user_sum")
    assert method.signature.params == ("axis",)
    assert defrule("x @ y", table=RuleTable(), x="g", y="g").signature is None


def test_only_the_outermost_call_of_a_rule_pattern_has_defaults():
    from srcad.rules.table import RuleTable, defrule

    env = {"np": np}
    with pytest.raises(ValueError, match="only in the outermost call"):
        defrule("np.log(np.sum(x, axis=None))", env=env, table=RuleTable(), x="g")
    with pytest.raises(ValueError, match="names the parameter 'x'"):
        defrule("np.roll(x, shift=x)", env=env, table=RuleTable(), x="g")
    # (a keyword over a parameter inside a pattern is matched as written: no default)
    defrule("np.exp(x) / np.sum(np.exp(x), axis=axis, keepdims=True)", env=env,
            table=RuleTable(), axis=None, x="g")


def keywords_of_linear_rules(x):
    return (np.sum(x, axis=1, keepdims=True) + np.sum(x, 1)[:, None]
            + np.cumsum(x, axis=0)[:, :1] + x.sum(axis=0)[None, :1])


def keywords_of_tangent_templates(x):
    return np.amax(x, axis=1, keepdims=True) * np.amin(x, 0)[:1]


def keywords_of_elementwise_rules(x, y):
    import scipy.stats

    return scipy.stats.norm.logpdf(x, loc=y, scale=2.0) + scipy.stats.norm.cdf(y, scale=0.5)


def keywords_of_jointly_linear_rules(xs, ys):
    a, b = np.meshgrid(xs, ys, indexing="ij")
    c, d = np.meshgrid(xs, ys, sparse=True)
    return a * 2.0 + b, c + d


def test_jvp_of_a_rule_call_keeps_the_calls_keywords():
    """A call given keywords other than its rule's defaults gets them back in its tangent
    line, whichever kind of rule: linear (the call again, on the tangent), with a tangent
    template, elementwise (the adjoint template along the tangent), jointly linear.
    (meshgrid(..., indexing='ij') once got the default back: a silently wrong jvp.)"""
    rng = np.random.default_rng(3)
    x, t = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    assert_jvp_close(keywords_of_linear_rules, (x,), (t,))
    source = srcad.jvp(keywords_of_linear_rules).tangent_source
    # (sum and mean write their tangent from a template, which casts it as a dtype=
    # would: keepdims is written out)
    for line in ("np.sum(x_dot, axis=1, keepdims=True)", "np.sum(x_dot, axis=1, keepdims=False)",
                 "np.cumsum(x_dot, axis=0)", "np.sum(x_dot, axis=0, keepdims=False)"):
        assert line in source
    _, tangent = srcad.jvp(keywords_of_linear_rules)((x,), (t,))
    np.testing.assert_allclose(tangent, keywords_of_linear_rules(t), rtol=1e-12)
    assert_jvp_close(keywords_of_tangent_templates, (x,), (t,))
    y, u = rng.normal(size=4), rng.normal(size=4)
    assert_jvp_close(keywords_of_elementwise_rules, (x[0], y), (t[0], u))
    xs, ys = rng.normal(size=3), rng.normal(size=2)
    _, (ta, tc) = srcad.jvp(keywords_of_jointly_linear_rules)((xs, ys), (t[0, :3], t[1, :2]))
    want_a, want_c = keywords_of_jointly_linear_rules(t[0, :3], t[1, :2])
    np.testing.assert_allclose(ta, want_a, rtol=1e-12)
    np.testing.assert_allclose(tc, want_c, rtol=1e-12)
    source = srcad.jvp(keywords_of_jointly_linear_rules).tangent_source
    assert "np.meshgrid(xs_dot, ys_dot, indexing='ij')" in source
    assert "np.meshgrid(xs_dot, ys_dot, sparse=True)" in source


def test_jvp_of_a_users_linear_rule_keeps_its_keywords():
    from srcad.rules.table import TABLE, defrule

    def f(x):
        return _user_linear(x, 3.0, axis=0) + _user_linear(x, axis=1)[:1]

    rule = defrule("user_linear(x, scale=1.0, axis=None)", env={"user_linear": _user_linear},
                   scale=None, axis=None, x="g", linear=True)
    try:
        x, t = np.ones((2, 2)), np.arange(4.0).reshape(2, 2)
        _, tangent = srcad.jvp(f)((x,), (t,))
        np.testing.assert_allclose(tangent, f(t), rtol=1e-12)
        source = srcad.jvp(f).tangent_source
        assert "scale=3.0, axis=0)" in source and "(x_dot, axis=1)" in source
    finally:
        TABLE.remove(rule)


def reduction_with_dtype_by_position(x):
    return np.sum(np.sum(x, 1, float) ** 2)


def test_reduction_with_dtype_given_by_position():
    """``np.sum(x, 1, float)``: the third positional argument is numpy's ``dtype``, not
    ``keepdims``; binding it to ``keepdims`` gave a silently wrong (transposed) gradient."""
    x = np.arange(9.0).reshape(3, 3)
    (dx,) = check_four_ways(reduction_with_dtype_by_position, x)
    np.testing.assert_allclose(dx, np.repeat(2.0 * x.sum(axis=1), 3).reshape(3, 3))


R_GAS = 8.314


def gibbs_mixing(x, T):
    """A module constant times a parameter: the tangent goes through shaped_like."""
    ideal = R_GAS * T * (x * math.log(x) + (1.0 - x) * math.log(1.0 - x))
    return ideal + 12000.0 * x * (1.0 - x)


def test_hessian_through_srcads_runtime_helpers():
    """The tangent code calls srcad's runtime helpers (shaped_like here), which the
    hessian differentiates again: they must stay differentiable code (a dask branch
    added to shaped_like once broke this with an error in generated code)."""
    x, T = 0.3, 350.0
    H = srcad.hessian(gibbs_mixing, wrt=(0, 1))(x, T)
    d2x = R_GAS * T * (1.0 / x + 1.0 / (1.0 - x)) - 24000.0
    dxdT = R_GAS * (math.log(x) - math.log(1.0 - x))
    np.testing.assert_allclose(H, [[d2x, dxdT], [dxdT, 0.0]], rtol=1e-12, atol=1e-12)


def mixed_parameters(a, b, X, scale=2.0):
    return scale * a * b * np.sum(X * X) + np.sin(a) * np.sum(X) + b ** 3


def test_hvp_and_hessian_give_the_same_by_position_and_by_keyword():
    """Arguments all by position take a shorter way to the generated product (no name
    matching); by keyword, the general one. Both agree with the closed form."""
    X = np.array([0.5, -1.0, 2.0])
    a, b, s2 = 0.3, -0.7, np.sum(X * X)
    expected = np.array([[-np.sin(a) * np.sum(X), 2.0 * s2], [2.0 * s2, 6.0 * b]])
    H = srcad.hessian(mixed_parameters, wrt=(0, 1))
    np.testing.assert_allclose(H(a, b, X, 2.0), expected, rtol=1e-12)
    np.testing.assert_allclose(H(a, b, X=X), expected, rtol=1e-12)
    hvp = srcad.hvp(mixed_parameters, wrt=(0, 1))
    v = (1.0, -0.5)
    by_position = hvp(a, b, X, 2.0, v)
    by_keyword = hvp(a, b, v, X=X)
    np.testing.assert_allclose(by_position, expected @ np.array(v), rtol=1e-12)
    np.testing.assert_allclose(by_keyword, expected @ np.array(v), rtol=1e-12)
    assert np.all(X == np.array([0.5, -1.0, 2.0]))  # (the zero tangent of X: not written)


_Pair = collections.namedtuple("_Pair", "a b")


def _pair_outputs(p):
    return np.array([np.sum(p.a**2), np.sum(p.a * p.b)])


def test_jacobian_with_respect_to_a_namedtuple():
    p = _Pair(np.array([0.3, -0.5]), np.array([1.2, 0.4]))
    jac = srcad.jacobian(_pair_outputs)(p)
    assert type(jac) is _Pair
    np.testing.assert_allclose(jac.a, [2 * p.a, p.b])
    np.testing.assert_allclose(jac.b, [np.zeros(2), p.a])


# ---------------------------------------------------------------- the unrolled hessian
#
# A function of Python floats whose gradient has a float version without loops gets its
# Hessian from one generated function (srcad/unrolled.py): forward mode along each
# parameter over that version, unrolled. Checked against central differences of
# srcad.grad (CD_RTOL/CD_ATOL: a first derivative of the gradient, as for hvp) and
# against the Hessian-vector products that every other call takes (1e-12 relative to
# the largest entry: the same derivatives, evaluated in another order). Calling by
# keyword takes those products.


def _four(a, b, c, d):
    u = a * b + math.sin(c) * d
    v = math.exp(-0.5 * a * a) + math.tanh(b * c)
    return u * v + math.log(1.0 + d * d) * a


def _ratios(x, y):
    return x / y + y / (1.0 + x * x) - math.sqrt(x * x + y * y)


def _powers(x, y, z):
    return x ** 3 * y + math.pow(y, 2.5) * z + z ** y + x ** 2


def _softplus_helper(t):
    return t * math.tanh(t) + math.log(1.0 + math.exp(-t))


def _calls_a_helper(x, y):
    return _softplus_helper(x * y) + _softplus_helper(x) * y


def _branches(x, y):
    if x > y:
        z = x * x * y
    else:
        z = math.sin(x) * y * y
    return z + x * y


def _six(a, b, c, d, e, f):
    s = a * b * c + d * e * f
    return math.log(1.0 + s * s) + a * f - math.exp(b * e) * c * d


def _with_count(x, n, y):
    return x ** n * y + n * x * y * y


def _logs(x, y):
    return math.log(x) * math.log(y) + math.log(x * y) ** 2


def _kinks(x, y):
    return abs(x - y) * x + max(x, y) ** 2 + (x * y if x > 0 else x - y)


def _one_number(x):
    return math.sin(x) * math.exp(x) / (1.0 + x * x)


def _linear(a, b):
    return 3.0 * a + 2.0 * b


UNROLLED_CASES = [
    (_four, (0.3, -0.7, 1.1, 0.4), (0, 1, 2, 3)),
    (_four, (0.3, -0.7, 1.1, 0.4), (3, 1)),
    (_ratios, (0.7, 1.3), (0, 1)),
    (_powers, (0.7, 1.3, 0.9), (0, 1, 2)),
    (_calls_a_helper, (0.7, -1.3), (0, 1)),
    (_branches, (0.7, 1.3), (0, 1)),
    (_branches, (1.7, 1.3), (0, 1)),
    (_six, (0.1, 0.2, 0.3, 0.4, 0.5, 0.6), (0, 1, 2, 3, 4, 5)),
    (_six, (0.1, 0.2, 0.3, 0.4, 0.5, 0.6), (1, 3, 5)),
    (_with_count, (0.7, 3, 1.3), (0, 2)),
    (_with_count, (2, 3, 1), (0, 2)),  # (ints: numbers too)
    (_logs, (0.7, 1.3), (0, 1)),
    (_kinks, (0.7, 1.3), (0, 1)),
    (_kinks, (-0.7, -1.3), (0, 1)),
    (_one_number, (0.7,), (0,)),
    (_linear, (0.7, 1.3), (0, 1)),
]


def _gradient_differences(f, args, wrt):
    """The Hessian by central differences of srcad's gradient (column k along wrt[k])."""
    gradient = srcad.grad(f, wrt=wrt)
    columns = []
    for k in wrt:
        h = CD_EPS * max(1.0, abs(args[k]))
        plus, minus = list(args), list(args)
        plus[k], minus[k] = args[k] + h, args[k] - h
        columns.append((np.asarray(gradient(*plus)) - np.asarray(gradient(*minus))) / (2 * h))
    return np.array(columns, dtype=float).T.reshape(len(wrt), len(wrt))


@pytest.mark.parametrize("f, args, wrt", UNROLLED_CASES,
                         ids=[f"{f.__name__}{wrt}" for f, _, wrt in UNROLLED_CASES])
def test_unrolled_hessian_matches_differences_and_the_products(f, args, wrt):
    H = srcad.hessian(f, wrt=wrt)
    assert H.source.startswith(f"def {f.__name__}_hessian(")  # (the unrolled function)
    got = H(*args)
    np.testing.assert_allclose(np.reshape(got, (len(wrt), len(wrt))),
                               _gradient_differences(f, args, wrt),
                               rtol=CD_RTOL, atol=CD_ATOL)
    names = list(inspect.signature(f).parameters)
    products = H(*args[:-1], **{names[-1]: args[-1]})  # (by keyword: the products)
    assert type(got) is type(products) and np.shape(got) == np.shape(products)
    scale = max(1.0, float(np.max(np.abs(products))))
    assert float(np.max(np.abs(np.asarray(got) - products))) <= 1e-12 * scale
    if len(wrt) > 1:
        assert got.dtype == np.float64 and np.array_equal(got, got.T)


def test_unrolled_hessian_source_computes_each_entry_once():
    source = srcad.hessian(_four, wrt=(0, 1, 2, 3)).source
    assert source.count("def ") == 1 and "_fallback(a, b, c, d)" in source
    for name in "abcd":
        assert f"# along {name}" in source
    # (the entries along d are those of rows >= d only: one)
    along_d = source.split("# along d")[1]
    assert along_d.count("_dd = ") <= 5
    assert "shaped_like" not in source and "* 1.0" not in source


def _scaled(x, y):
    return SCALE_FOR_HESSIAN * x * x * y


SCALE_FOR_HESSIAN = 2.0


def test_unrolled_hessian_falls_back_for_what_is_not_a_python_number(monkeypatch):
    H = srcad.hessian(_four, wrt=(0, 1, 2, 3))
    args = (0.3, -0.7, 1.1, 0.4)
    want = H(*args)
    np.testing.assert_allclose(H(np.float64(0.3), *args[1:]), want, rtol=1e-12)
    np.testing.assert_allclose(H(*args[:3], d=0.4), want, rtol=1e-12)
    arrays = H(*(np.array(a) for a in args))
    np.testing.assert_allclose(np.array(arrays, dtype=float), want, rtol=1e-12)
    scaled = srcad.hessian(_scaled, wrt=(0, 1))
    np.testing.assert_allclose(scaled(0.5, 3.0), [[12.0, 2.0], [2.0, 0.0]], rtol=1e-12)
    # a global the float version checks (a float): read at every call
    monkeypatch.setitem(globals(), "SCALE_FOR_HESSIAN", 4.0)
    np.testing.assert_allclose(scaled(0.5, 3.0), [[24.0, 4.0], [4.0, 0.0]], rtol=1e-12)


def test_hvp_reads_a_changed_global(monkeypatch):
    """The product reads a global when it runs (its wrapper of the tangent function has
    the user's globals): it kept the value the global had when it was built."""
    product = srcad.hvp(_scaled, wrt=(0, 1))
    np.testing.assert_allclose(product(0.5, 3.0, (1.0, 0.0)), (12.0, 2.0), rtol=1e-12)
    monkeypatch.setitem(globals(), "SCALE_FOR_HESSIAN", 4.0)
    np.testing.assert_allclose(product(0.5, 3.0, (1.0, 0.0)), (24.0, 4.0), rtol=1e-12)


def test_unrolled_hessian_with_argnums():
    args = (0.3, -0.7, 1.1, 0.4)
    want = srcad.hessian(_four, wrt=(0, 1, 2, 3))(*args)
    several = srcad.hessian(_four, argnums=(0, 1, 2, 3))
    assert several.source.startswith("def _four_hessian(")
    np.testing.assert_array_equal(several(*args), want)
    one = srcad.hessian(_four, argnums=(2,))(*args)  # ((h,),), from the products
    assert np.shape(one) == (1, 1) and close(one[0][0], want[2, 2])


def _loops(x, y):
    total = 0.0
    for _ in range(3):
        total = total + x * y
    return total


def test_hessian_of_a_loop_over_floats_takes_the_products():
    H = srcad.hessian(_loops, wrt=(0, 1))
    assert not H.source.startswith("def _loops_hessian(")
    np.testing.assert_allclose(H(0.5, 2.0), [[0.0, 3.0], [3.0, 0.0]], atol=1e-12)


def _ridge(w, X, y, lam):
    r = X @ w - y
    return r @ r / len(y) + lam * w @ w


def test_second_derivatives_of_a_partial_with_fixed_keywords():
    """A ``functools.partial`` fixing data by keyword (as for ``scipy.optimize``): its
    ``hessp`` and the ``jacobian``/``jvp`` of its gradient (they crashed: an attribute
    the product of a partial has not; the fixed values passed twice)."""
    X = np.array([[1.0, 0.2, 0.0], [0.3, 1.0, 0.1], [0.0, 0.4, 1.0], [0.5, 0.5, 0.5]])
    y = np.array([1.0, -0.5, 0.3, 0.8])
    loss = functools.partial(_ridge, X=X, y=y, lam=1e-3)
    H = 2.0 * X.T @ X / len(y) + 2e-3 * np.eye(3)
    w, p = np.array([0.2, -0.1, 0.4]), np.array([1.0, 0.5, -0.5])
    np.testing.assert_allclose(srcad.hessp(loss)(w, p), H @ p, rtol=1e-12)
    np.testing.assert_allclose(srcad.jacobian(srcad.grad(loss))(w), H, rtol=1e-12)
    _, tangent = srcad.jvp(srcad.grad(loss), (w,), (p,))
    np.testing.assert_allclose(tangent, H @ p, rtol=1e-12)


def zero_d_accumulator(x):
    s = np.zeros(())
    s += x[0] ** 2
    s[()] *= 2.0  # (an item write on the 0-d array after +=)
    return float(s)


def test_jvp_and_hvp_of_a_0d_array_written_after_an_update():
    """``s += v`` of 0-d arrays gives the tangent ``s_dot + v_dot``, a numpy number;
    the item write after it needs an array (it crashed inside generated code)."""
    x = np.array([0.5, -1.0])
    value, tangent = srcad.jvp(zero_d_accumulator)((x,), (np.array([1.0, 0.0]),))
    assert value == pytest.approx(0.5) and float(tangent) == pytest.approx(2.0)
    np.testing.assert_allclose(srcad.hvp(zero_d_accumulator)(x, np.array([1.0, 0.0])),
                               [4.0, 0.0], rtol=1e-14)


def _scaled_by_config(x, cfg={"scale": 2.0}, shift=(1.0, 0.5)):  # noqa: B006
    return np.sum(cfg["scale"] * x**2) + shift[0] * np.sum(x)


def test_jvp_gives_defaults_that_are_containers_zero_tangents_of_their_shape():
    """An omitted default that is a dict or a tuple gets a tangent of zeros of its shape
    (it got the number 0.0, and the tangent code indexed it)."""
    x = np.array([1.0, 2.0, 3.0])
    value, tangent = srcad.jvp(_scaled_by_config)((x,), (np.ones(3),))
    assert value == _scaled_by_config(x)
    assert tangent == pytest.approx(4.0 * np.sum(x) + 3.0, rel=1e-12)


def noisy_fit(w, seed):
    rng = np.random.default_rng(seed)  # (an int seed: no derivative rule, none needed)
    total = 0.0
    for _ in range(4):
        total = total + (w * rng.normal() - 1.0) ** 2
    return total


def int_scaled(x, y):
    return x * x * y


def test_jvp_of_an_int_with_a_zero_tangent_takes_it_as_a_constant():
    """A seed (or a count) given a zero tangent is a constant, as JAX's float0 tangents:
    ``default_rng(seed)`` was refused for want of a derivative rule. An int given a
    tangent that moves is still differentiated."""
    value, tangent = srcad.jvp(noisy_fit, (0.7, 3), (1.0, 0))
    assert value == noisy_fit(0.7, 3)
    assert tangent == pytest.approx(srcad.grad(noisy_fit)(0.7, 3), rel=1e-12)
    assert srcad.jvp(int_scaled, (2, 3), (1.0, 0.0)) == (12, pytest.approx(12.0))
    assert srcad.jvp(int_scaled, (2, 3), (0.0, 1.0)) == (12, pytest.approx(4.0))


def one_item_result(w, b):
    return np.sum(np.exp(w)) * b**2  # (an array of shape (1,) for b of shape (1,))


@pytest.mark.parametrize("second_order", ["hessian", "hvp"])
def test_second_derivatives_of_a_result_with_one_item_say_what_grad_says(second_order):
    """They said srcad "cannot do yet" the forward-mode code of the line."""
    w, b = np.array([0.1, 0.2]), np.array([0.3])
    run = {"hessian": lambda: srcad.hessian(one_item_result)(w, b),
           "hvp": lambda: srcad.hvp(one_item_result)(w, b, w)}[second_order]
    with pytest.raises(srcad.NonScalarOutputError, match="returned an array of shape") as caught:
        run()
    assert "one_item_result_tangent" not in caught.value.message
    assert "single number" in caught.value.hint


def rpn(tokens, x):
    """A tiny RPN calculator over string tokens: the strings have no tangent."""
    stack = []
    for token in tokens:
        if token == "x":
            stack.append(x)
        elif token == "*":
            b = stack.pop()
            a = stack.pop()
            stack.append(a * b)
        else:
            stack.append(float(token))
    return stack[-1]


@pytest.mark.parametrize("token_tangent", [None, "same", "ones"])
def test_jvp_tangents_of_strings_are_zero(token_tangent):
    """The tangent of a parameter holding strings: None, the strings themselves, or
    numbers (which ``float(token)`` passed on): zero in each case. The first two crashed
    in the generated tangent code; the last gave a wrong tangent."""
    tokens = ["x", "x", "*", "3", "*"]
    given = {"same": tokens, "ones": [1.0] * 5, None: None}[token_tangent]
    value, tangent = srcad.jvp(rpn, (tokens, 0.7), (given, 1.0))
    assert value == pytest.approx(3.0 * 0.7 * 0.7)
    assert tangent == pytest.approx(6.0 * 0.7)


def sine_times(x, y):
    return np.sin(x) * y


@pytest.mark.parametrize("form", ["curried", "three arguments"])
def test_jvp_takes_none_for_a_tangent_that_moves_nothing(form):
    """``jvp(f)(primals, (t, None))`` as ``jvp(f, primals, (t, None))`` does: None is a
    zero tangent (it reached the generated code, ``t1 * None``: a TypeError there)."""
    primals = (0.4, np.array([1.0, 2.0]))
    run = {"curried": lambda t: srcad.jvp(sine_times)(primals, t),
           "three arguments": lambda t: srcad.jvp(sine_times, primals, t)}[form]
    value, tangent = run((1.0, None))
    np.testing.assert_allclose(value, np.sin(0.4) * primals[1], rtol=1e-15)
    np.testing.assert_allclose(tangent, np.cos(0.4) * primals[1], rtol=1e-14)
    value, tangent = run((None, np.array([0.5, -1.0])))
    np.testing.assert_allclose(tangent, np.sin(0.4) * np.array([0.5, -1.0]), rtol=1e-14)


def surface_term(primals, tangents):
    """(a geometry routine's own parameters called `primals` and `tangents`)"""
    return primals * tangents + math.sin(primals)


def test_parameters_named_like_the_tangent_functions_own_keep_their_values():
    """The generated ``f_jvp(primals, tangents)`` took the names of the user's parameters
    `primals` and `tangents`, and unpacked one into the other: jvp, hessian and jacobian
    raised TypeError from the generated code (round 53)."""
    value, tangent = srcad.jvp(surface_term, (0.5, 2.0), (1.0, 0.0))
    assert value == surface_term(0.5, 2.0)
    assert tangent == pytest.approx(2.0 + math.cos(0.5), rel=1e-14)
    assert srcad.hessian(surface_term)(0.5, 2.0) == pytest.approx(-math.sin(0.5), rel=1e-14)


def recurrence_with_a_rate(xs, w):
    r = list(xs)
    for k in range(1, len(r)):
        r[k] = r[k] + w * r[k - 1] ** 2
    return sum(r)


def test_hessian_with_respect_to_a_list_and_a_number():
    """The blocks of a list parameter and a number: ``np.ndim`` of the list's block of
    lists (ragged beside the others) raised ValueError inside srcad."""
    xs, w = [0.5, -0.3, 0.8], 0.7
    H = srcad.hessian(recurrence_with_a_rate, wrt=(0, 1))(xs, w)
    g = srcad.grad(recurrence_with_a_rate, wrt=(0, 1))
    h = 1e-6
    for k in range(3):  # each column of the list's rows: the gradient's change along xs[k]
        up, down = list(xs), list(xs)
        up[k] += h
        down[k] -= h
        column = (np.array(g(up, w)[0]) - np.array(g(down, w)[0])) / (2 * h)
        np.testing.assert_allclose([H[0][j][0][k] for j in range(3)], column, rtol=1e-6,
                                   atol=1e-8)
    along_w = (g(xs, w + h)[1] - g(xs, w - h)[1]) / (2 * h)
    assert H[1][1] == pytest.approx(along_w, rel=1e-6, abs=1e-8)
    # (JAX's layout: the gradient's structure outside, the parameters' inside)
    np.testing.assert_allclose([H[0][j][1] for j in range(3)], H[1][0], rtol=1e-12)


def product_of_items(xs):
    return xs[0] * xs[1]


def weighted_square(d):
    return d["a"] * d["b"] ** 2


def test_jvp_takes_none_inside_a_tangent_and_refuses_one_of_another_structure():
    """None for an item of a list or dict tangent is a zero (it reached the generated
    code); a tangent of another length, or too few tangents, is a TypeError saying so (an
    IndexError from the generated code). Round 54."""
    assert srcad.jvp(product_of_items)(([0.5, 2.0],), ([1.0, None],)) == (1.0, 2.0)
    assert srcad.jvp(weighted_square)(({"a": 0.5, "b": 1.5},), ({"a": 1.0, "b": None},)) == (
        pytest.approx(1.125), pytest.approx(2.25))
    with pytest.raises(TypeError, match="has 1 items where its primal has 2"):
        srcad.jvp(product_of_items)(([0.5, 2.0],), ([1.0],))
    with pytest.raises(TypeError, match="one tangent per primal"):
        srcad.jvp(product_of_items)(([0.5, 2.0],), ())
    # (round 55: a tangent of another kind or shape, silently broadcast or a TypeError
    # from the generated code, as JAX refuses it)
    with pytest.raises(TypeError, match="is a float where its primal is a list of 2 items"):
        srcad.jvp(product_of_items)(([0.5, 2.0],), (1.0,))
    with pytest.raises(TypeError, match="is a float where its primal is an ndarray of shape"):
        srcad.jvp(lambda x: np.sum(x * x))((np.array([0.5, 2.0]),), (1.0,))


def test_hvp_takes_none_inside_a_direction_as_jvp_does():
    """A None item of a list direction moves nothing (it reached the generated code:
    ``t1 * None``, a TypeError there). f = x0 x1 y + y^2 at ([1, 2], 3): H v for
    v = ([1, None], 1) is ([2, 4], 4)."""
    def f(xs, y):
        return xs[0] * xs[1] * y + y * y

    dxs, dy = srcad.hvp(f, wrt=(0, 1))([1.0, 2.0], 3.0, [[1.0, None], 1.0])
    assert list(dxs) == [2.0, 4.0] and dy == 4.0
    with pytest.raises(TypeError, match="direction for xs"):
        srcad.hvp(f, wrt=(0, 1))([1.0, 2.0], 3.0, [[1.0, None, 2.0], 1.0])


# ---- a function that draws random numbers: each column of its Hessian runs it once, and
# draws what the first column draws (round 57: each column drew anew, and the Hessian
# was of no single draw, not even symmetric)

_DRAWS = np.random.default_rng(0)


def _elbo(params):
    mu, log_s = params[:2], params[2:]
    total = 0.0
    for _ in range(3):
        eps = _DRAWS.standard_normal(2)
        z = mu + np.exp(log_s) * eps
        total += -0.5 * np.sum((z - 1.0) ** 2)
    return total / 3.0 + np.sum(log_s)


def _elbo_with(params, rng):
    eps = rng.standard_normal((3, 2))
    z = params[:2] + np.exp(params[2:]) * eps
    return -0.5 * np.sum((z - 1.0) ** 2) / 3.0 + np.random.normal() * params[0] ** 2


def _elbo_hessian(params, eps):
    """The Hessian of the mean of -|mu + s * eps - 1|^2 / 2 over the rows of eps."""
    s = np.exp(params[2:])
    z = params[:2] + s * eps
    h = np.zeros((4, 4))
    h[0, 0] = h[1, 1] = -1.0
    for k in range(2):
        h[k, 2 + k] = h[2 + k, k] = -np.mean(s[k] * eps[:, k])
        h[2 + k, 2 + k] = -np.mean((s[k] * eps[:, k]) ** 2 + (z[:, k] - 1.0) * s[k] * eps[:, k])
    return h


def test_a_hessian_draws_what_one_run_of_f_draws():
    global _DRAWS
    params = np.array([0.2, -0.3, -0.5, 0.1])
    _DRAWS = np.random.default_rng(0)
    got = srcad.hessian(_elbo)(params)
    after = _DRAWS.standard_normal()
    _DRAWS = np.random.default_rng(0)
    eps = np.array([_DRAWS.standard_normal(2) for _ in range(3)])
    assert np.allclose(got, _elbo_hessian(params, eps), rtol=1e-12, atol=1e-14)
    assert after == _DRAWS.standard_normal()  # (the generator as after one run)

    np.random.seed(3)
    rng = np.random.default_rng(5)
    got = srcad.hessian(_elbo_with)(params, rng)
    eps = np.random.default_rng(5).standard_normal((3, 2))
    want = _elbo_hessian(params, eps)
    want[0, 0] += 2.0 * np.random.RandomState(3).normal()
    assert np.allclose(got, want, rtol=1e-12, atol=1e-14)


def _noisy_residuals(params):
    noise = _DRAWS.standard_normal(3)
    return np.array([params[0] * params[1], params[0] ** 2, params[1]]) * (1.0 + 0.1 * noise)


def test_a_jacobian_draws_what_one_run_of_f_draws():
    """Each column (or row) runs f: the first's draws for all (round 57b: each drew anew;
    a Jacobian of the gradient was not even symmetric)."""
    global _DRAWS
    params = np.array([0.7, -0.4])
    _DRAWS = np.random.default_rng(2)
    got = srcad.jacobian(_noisy_residuals)(params)
    scale = 1.0 + 0.1 * np.random.default_rng(2).standard_normal(3)
    want = np.array([[params[1], params[0]], [2.0 * params[0], 0.0], [0.0, 1.0]]) * scale[:, None]
    assert np.allclose(got, want, rtol=1e-12, atol=1e-14)
    params = np.array([0.2, -0.3, -0.5, 0.1])
    _DRAWS = np.random.default_rng(0)
    h = srcad.jacobian(srcad.grad(_elbo))(params)  # (the gradient's value and its tangent
    _DRAWS = np.random.default_rng(0)  # each ran f: they drew twice)
    eps = np.array([_DRAWS.standard_normal(2) for _ in range(3)])
    assert np.allclose(h, _elbo_hessian(params, eps), rtol=1e-12, atol=1e-14)


def _dropout_loss(W, rng: np.random.Generator):
    keep = rng.binomial(1, 0.7, size=W.shape)  # (a dropout mask)
    return np.sum(np.sin(W) * keep) / 0.7


def test_jvp_takes_none_for_a_constant_argument_such_as_a_generator():
    W = np.array([0.3, -0.5, 1.2])
    g = srcad.grad(_dropout_loss)(W, np.random.default_rng(0))
    value, tangent = srcad.jvp(_dropout_loss, (W, np.random.default_rng(0)), (np.ones(3), None))
    assert value == _dropout_loss(W, np.random.default_rng(0))
    assert tangent == pytest.approx(float(g @ np.ones(3)), rel=1e-12)


def _power_of(p):
    def power(x):
        return x ** p
    return power


def _weighted_of(weights):
    def weighted(x):
        return np.sum(weights * x ** 3)
    return weighted


def _loss_of(data):
    def loss(w):
        return sum((w * x - y) ** 2 for x, y in data) + w ** 4
    return loss


@pytest.mark.parametrize("first_built", [0, 1])
def test_second_derivatives_of_closures_of_one_def_read_their_own_cells(first_built):
    """Closures made by one ``def`` share srcad's build; each second derivative reads its
    own closure's cells (round 64b: the Hessian, hvp, hessp and jacobian of grad of the
    second closure were the first closure's, whichever was built first)."""
    cube, square = _power_of(3), _power_of(2)
    funcs = [cube, square] if first_built == 0 else [square, cube]
    for f in funcs:
        p = 3 if f is cube else 2
        want = p * (p - 1) * 2.0 ** (p - 2)  # d2/dx2 x**p at 2
        assert srcad.hessian(f)(2.0) == pytest.approx(want, rel=1e-14)
        assert srcad.hvp(f)(2.0, 1.0) == pytest.approx(want, rel=1e-14)
        assert srcad.hessp(f)(2.0, 1.0) == pytest.approx(want, rel=1e-14)
        assert srcad.jacobian(srcad.grad(f))(2.0) == pytest.approx(want, rel=1e-14)
        assert srcad.grad(srcad.grad(f))(2.0) == pytest.approx(want, rel=1e-14)
    x = np.array([1.0, 2.0])
    two, five = _weighted_of(np.array([2.0, 2.0])), _weighted_of(np.array([5.0, 5.0]))
    for f, w in ([two, 2.0], [five, 5.0]) if first_built == 0 else ([five, 5.0], [two, 2.0]):
        np.testing.assert_allclose(srcad.hessian(f)(x), np.diag(6 * w * x), rtol=1e-14)
        np.testing.assert_allclose(srcad.hvp(f)(x, np.ones(2)), 6 * w * x, rtol=1e-14)
    small, large = _loss_of([(1.0, 2.0)]), _loss_of([(3.0, 1.0), (2.0, 0.0)])
    for f, want in ([small, 5.0], [large, 29.0])[:: 1 if first_built == 0 else -1]:
        assert srcad.hessian(f)(0.5) == pytest.approx(want, rel=1e-14)
        assert srcad.hvp(f)(0.5, 1.0) == pytest.approx(want, rel=1e-14)


def _with_setting(k):
    def helper(x):
        return k * x ** 3

    def set_k(value):
        nonlocal k
        k = value

    return helper, set_k


_helper, _set_k = _with_setting(1.0)


def _through_helper(x):
    return _helper(x) * 2.0


def test_a_helpers_closure_variable_given_another_value_is_read_again():
    """A helper's closure variable set again (``nonlocal k; k = 5.0``) is read by the
    gradient, value_and_grad and second derivatives made before (round 64b: they kept
    the value it had when they were built, as a constant)."""
    _set_k(1.0)
    grad, value_and_grad = srcad.grad(_through_helper), srcad.value_and_grad(_through_helper)
    hvp, hessian = srcad.hvp(_through_helper), srcad.hessian(_through_helper)
    for k in (1.0, 5.0, 0.5):
        _set_k(k)
        assert grad(0.5) == pytest.approx(6 * k * 0.25, rel=1e-14)
        assert value_and_grad(0.5)[0] == _through_helper(0.5) == 2 * k * 0.125
        assert hvp(0.5, 1.0) == pytest.approx(12 * k * 0.5, rel=1e-14)
        assert hessian(0.5) == pytest.approx(12 * k * 0.5, rel=1e-14)
    closure, set_own = _with_setting(1.0)
    own = srcad.hvp(closure)
    assert own(0.5, 1.0) == pytest.approx(3.0, rel=1e-14)
    set_own(5.0)  # (the function's own closure variable: read live already)
    assert own(0.5, 1.0) == pytest.approx(15.0, rel=1e-14)


def doubled_copy(theta):
    theta = theta.copy()  # (a defensive copy)
    theta *= 2.0
    return np.sin(theta) * theta + theta[()] * np.reshape(theta, 1)[0]


def test_hessian_of_a_0d_array_or_numpy_number_reads_its_tangent_as_an_array():
    """Round 75a: the Hessian seeded a 0-d array's (a numpy number's) tangent as a Python
    float, and the generated code's ``theta_dot.copy()`` raised AttributeError."""
    for x in (np.array(0.7), np.float64(0.7)):
        t = 2.0 * 0.7
        want = 4.0 * (2.0 * np.cos(t) - t * np.sin(t)) + 8.0
        assert float(srcad.hessian(doubled_copy)(x)) == pytest.approx(want, rel=1e-12)
        assert float(srcad.grad(srcad.grad(doubled_copy))(x)) == pytest.approx(want, rel=1e-12)


class _Body:
    def __init__(self, x, v, m=1.0):
        self.x = x
        self.v = v
        self.m = m

    def push(self, f, dt):
        self.v += f / self.m * dt
        self.x += self.v * dt


def _pushed_until_past_one(k):
    bodies = [_Body(0.0, 0.1), _Body(1.1, 0.0), _Body(2.3, -0.1)]
    for b in bodies:  # <bodies-loop>
        b.push(k, 0.1)
        if b.x > 1.0:
            break
    return sum(b.x for b in bodies)


def _dict_loss(p):
    return p["a"] ** 2 * p["b"] + math.sin(p["b"])


_DICT_LOSS_GRAD = srcad.grad(_dict_loss)


def _through_a_dict_gradient(a):
    g = _DICT_LOSS_GRAD({"a": a, "b": 1.2})  # <dict-gradient-call>
    return g["a"] ** 2 + g["b"]


def test_second_order_refusals_name_the_users_line_and_words():
    """A Hessian refused in srcad's forward-mode code pointed at the caller's line and
    named srcad's variable (`t4_dot`) (round 77b): it now points at the user's line, in
    the user's words."""
    from conftest import marker_line

    with pytest.raises(srcad.SrcadError) as caught:
        srcad.hessian(_pushed_until_past_one)(0.5)
    assert caught.value.filename == __file__
    assert caught.value.lineno == marker_line(__file__, "bodies-loop")
    assert "_dot" not in str(caught.value)
    # (the dict-parameter gradient is differentiated again since round 79, when
    # structured_like got its rule: h(a) = 4 a^2 b^2 + a^2 + cos(b), h' = 8 a b^2 + 2 a)
    assert srcad.grad(_through_a_dict_gradient)(0.5) == pytest.approx(8 * 0.5 * 1.44 + 1.0)
    check_four_ways(_through_a_dict_gradient, 0.5)


def _switched_off_penalty(W):
    return 0.0


def _penalty_of_one_row(W, lam):
    return lam * np.sum(W[0] ** 2)


def test_second_derivatives_of_a_gradient_that_rebuilds_its_parameter():
    # (round 79: jacobian(grad(f)) and jvp(grad(f)) of a function constant in its array
    # raised inside generated code, naming srcad's structured_like)
    W = np.ones((2, 2))
    np.testing.assert_array_equal(srcad.jacobian(srcad.grad(_switched_off_penalty))(W),
                                  np.zeros((2, 2, 2, 2)))
    _, tangent = srcad.jvp(srcad.grad(_switched_off_penalty))((W,), (np.ones_like(W),))
    np.testing.assert_array_equal(tangent, np.zeros((2, 2)))
    V = np.arange(4.0).reshape(2, 2)
    hessian = srcad.jacobian(srcad.grad(_penalty_of_one_row))(V, 0.5)
    expected = np.zeros((2, 2, 2, 2))
    expected[0, 0, 0, 0] = expected[0, 1, 0, 1] = 1.0  # (2 * lam on the first row)
    np.testing.assert_allclose(hessian, expected, rtol=1e-12, atol=1e-12)


def test_jvp_of_a_function_takes_a_tuple_of_primals():
    """(Round 86: an array given as the primals of a one-parameter function was read item
    by item, its other entries dropped: (1.0, 2.0) for (5.0, 2.0).)"""
    def f(a):
        return np.sum(a ** 2)

    a, t = np.array([1.0, 2.0]), np.array([1.0, 0.0])
    with pytest.raises(TypeError, match="tuple of primals"):
        srcad.jvp(f)(a, t)
    value, tangent = srcad.jvp(f)((a,), (t,))
    assert (value, tangent) == (5.0, 2.0)


def _sines(x):
    return np.sum(np.sin(x) * x)


def _norm_of_its_gradient(x):
    return np.sum(srcad.grad(_sines)(x) ** 2)


def test_srcad_grad_called_inside_says_to_differentiate_from_outside():
    """(Round 87: refused with a reason from srcad's own code, `entry does not return a
    value on every path, at building.py`.)"""
    with pytest.raises(srcad.SrcadError, match="called inside a function srcad") as info:
        srcad.grad(_norm_of_its_gradient)(np.array([0.3, 1.2]))
    assert info.value.lineno == _norm_of_its_gradient.__code__.co_firstlineno + 1
    assert "srcad.hessian" in info.value.hint
