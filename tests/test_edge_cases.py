"""Numerical edge cases and name hygiene under stress.

Conventions srcad uses at kinks (the same as JAX/PyTorch where they define one):

* ``abs(x)`` at 0: gradient ``sign(0) = 0``;
* ``max(x, y)`` / ``np.maximum(x, y)`` at a tie: the whole gradient goes to the *first*
  argument (``min`` likewise); so relu ``np.maximum(z, 0)`` at ``z = 0`` has gradient 1;
* ``sqrt`` at 0: ``inf`` (or ``nan``), never an exception the forward code does not raise;
* comparisons carry no gradient.

Gradients are checked against exact values, or against central differences
(``conftest.numeric_grad``, h = 1e-6 * max(1, |x|)) with rtol = 1e-6, atol = 1e-8: the
functions here have |f'''| <= ~1e2 at the points used, so the reference is good to
~1e-10 (see conftest's docstring) and any wrong rule is off by O(1).

Gradients must also be *numbers* of the input's kind: a float (or a float array of the
input's floating dtype), not a ``bool`` from a folded comparison.
"""

from __future__ import annotations

import importlib.util
import itertools
import logging
import math
import math as m  # an odd alias srcad must resolve
import sys
import textwrap
import threading
import warnings
from math import sin as s  # a renamed import
from pathlib import Path

import numpy as np
import numpy as xp  # numpy under another name
import pytest

import srcad

sys.path.insert(0, str(Path(__file__).parent))
from conftest import assert_grad_close, check_four_ways, marker_line, numeric_grad  # noqa: E402

RTOL, ATOL = 1e-6, 1e-8


def is_float_number(v) -> bool:
    """A real number that is not a bool (Python float/int or a numpy floating scalar/0-d)."""
    if isinstance(v, bool | np.bool_):
        return False
    if isinstance(v, np.ndarray):
        return v.shape == () and np.issubdtype(v.dtype, np.floating)
    return isinstance(v, float | np.floating | int)


# ---------------------------------------------------------------- kinks


def f_abs(x):
    return abs(x)


def f_np_abs(x):
    return np.sum(np.abs(x))


def f_max(x, y):
    return max(x, y)


def f_min(x, y):
    return min(x, y)


def f_np_maximum(x, y):
    return np.maximum(x, y)


def f_relu(z):
    return np.maximum(z, 0)


def f_relu_sum(z):
    return np.sum(np.maximum(z, 0.0))


def f_sqrt(x):
    return math.sqrt(x)


def f_np_sqrt(x):
    return np.sqrt(x)


def f_compare(x, y):
    c = x < y
    return c * 1.0 + 0.0 * x


def f_compare_select(x, y):
    if x < y:
        return 3.0 * x
    return 5.0 * y


@pytest.mark.parametrize("x", [0.0, np.float64(0.0), np.array(0.0)],
                         ids=["float", "np.float64", "0-d"])
def test_abs_at_zero_is_zero(x):
    g = srcad.grad(f_abs)(x)
    assert float(g) == 0.0
    assert is_float_number(g), f"{g!r} ({type(g).__name__})"


def test_abs_away_from_zero():
    g = srcad.grad(f_abs)
    assert g(-2.5) == -1.0 and g(3.0) == 1.0


def test_np_abs_array_at_zero():
    got = srcad.grad(f_np_abs)(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(got, [-1.0, 0.0, 1.0])


@pytest.mark.parametrize("f, at, want", [
    (f_max, (1.0, 1.0), (0.5, 0.5)),
    (f_min, (1.0, 1.0), (0.5, 0.5)),
    (f_np_maximum, (1.0, 1.0), (0.5, 0.5)),
    (f_max, (2.0, 1.0), (1.0, 0.0)),
    (f_max, (1.0, 2.0), (0.0, 1.0)),
    (f_min, (2.0, 1.0), (0.0, 1.0)),
], ids=["max-tie", "min-tie", "np.maximum-tie", "max-x", "max-y", "min-y"])
def test_max_min_ties_split_the_gradient(f, at, want):
    """At a tie each argument gets half, the middle of the subgradient as abs'(0) = 0 is
    (JAX's convention; the first argument took it all before round 75a)."""
    got = srcad.grad(f, wrt=(0, 1))(*at)
    assert tuple(float(v) for v in got) == want
    assert all(is_float_number(v) for v in got), f"gradient is not a float: {got!r}"


def smallest_of_list(xs):
    return min(xs) * xs[2]


def largest_of_list(xs):
    m = max(xs)
    return m * m


@pytest.mark.parametrize("kind", [list, np.array], ids=["list", "array"])
def test_max_min_of_a_list_share_a_tie_equally(kind):
    """``min(xs)``/``max(xs)`` of a list or an array at a tie share the gradient equally
    between the equal items, as ``max(a, b)`` and ``np.max`` do (the first of them took
    it all, against the docs; round 77b). Exact, with tangents to match."""
    xs = kind([0.5, 0.5, 1.0])
    got = check_four_ways(smallest_of_list, xs)[0]
    np.testing.assert_array_equal(np.asarray(got, dtype=float), [0.5, 0.5, 0.5])
    xs = kind([2.0, -1.0, 2.0, 2.0])
    got = srcad.grad(largest_of_list)(xs)
    np.testing.assert_allclose(np.asarray(got, dtype=float), [4 / 3, 0.0, 4 / 3, 4 / 3], rtol=1e-15)
    _, tangent = srcad.jvp(largest_of_list, (xs,), (kind([1.0, 0.0, 0.0, 0.0]),))
    assert tangent == pytest.approx(4 / 3, rel=1e-15)


def test_relu_at_zero_is_one_half():
    g = srcad.grad(f_relu)(0.0)
    assert float(g) == 0.5
    assert is_float_number(g), f"relu'(0) is {g!r} ({type(g).__name__}), not a float"
    assert float(srcad.grad(f_relu)(-1.0)) == 0.0


def test_relu_array():
    got = srcad.grad(f_relu_sum)(np.array([-1.0, 0.0, 2.0]))
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, [0.0, 0.5, 1.0])


@pytest.mark.parametrize("f", [f_sqrt, f_np_sqrt], ids=["math.sqrt", "np.sqrt"])
@pytest.mark.parametrize("x", [0.0, np.float64(0.0)], ids=["float", "np.float64"])
def test_sqrt_at_zero_is_inf_not_a_crash(f, x):
    assert f(x) == 0.0  # the forward code is fine at 0 ...
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        g = srcad.grad(f)(x)  # ... so the gradient must not raise either
    assert math.isinf(float(g)) or math.isnan(float(g)), g


def test_comparisons_give_no_gradient():
    got = srcad.grad(f_compare, wrt=("x", "y"))(1.0, 2.0)
    assert tuple(float(v) for v in got) == (0.0, 0.0)
    assert srcad.grad(f_compare_select, wrt=("x", "y"))(1.0, 2.0) == (3.0, 0.0)
    assert srcad.grad(f_compare_select, wrt=("x", "y"))(2.0, 1.0) == (0.0, 5.0)


# ---------------------------------------------------------------- nan, inf, domain errors


def f_np_log_sum(x):
    return np.sum(np.log(x))


def f_math_log(x):
    return math.log(x)


def f_math_sqrt_of(x):
    return math.sqrt(x) * x


def f_square(x):
    return x * x


def f_exp(x):
    return math.exp(x)


def test_np_log_of_negative_warns_not_crashes():
    x = np.array([-1.0, 2.0])
    with pytest.warns(RuntimeWarning):
        want_value = f_np_log_sum(x)
    assert math.isnan(want_value)
    with pytest.warns(RuntimeWarning):
        got = srcad.grad(f_np_log_sum)(x)
    assert got.shape == (2,)
    assert got[1] == 0.5
    # d log(x)/dx = 1/x: srcad applies the formula (like JAX), giving -1 at x = -1; nan
    # (the forward value's nan propagated) would also be acceptable.
    assert got[0] == -1.0 or math.isnan(got[0])


@pytest.mark.parametrize("f, x", [(f_math_log, -1.0), (f_math_log, 0.0),
                                  (f_math_sqrt_of, -1.0), (f_exp, 1e6)],
                         ids=["log(-1)", "log(0)", "sqrt(-1)", "exp-overflow"])
def test_math_domain_errors_raise_like_the_original(f, x):
    with pytest.raises(Exception) as original:
        f(x)
    with pytest.raises(Exception) as ours:
        srcad.grad(f)(x)
    assert type(ours.value) is type(original.value), (
        f"original raises {type(original.value).__name__}, gradient "
        f"{type(ours.value).__name__}: {ours.value}")


@pytest.mark.parametrize("x, want", [(math.inf, math.inf), (-math.inf, -math.inf)])
def test_inf_propagates(x, want):
    assert srcad.grad(f_square)(x) == want


def test_nan_propagates():
    assert math.isnan(srcad.grad(f_square)(math.nan))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy nan in, nan out: no warning needed
        got = srcad.grad(f_np_log_sum)(np.array([np.nan, 2.0]))
    assert math.isnan(got[0]) and got[1] == 0.5


# ---------------------------------------------------------------- argument types


def f_mul(x, y):
    return x * y


def f_poly(x, y):
    return x * x * y + 3.0 * y


def f_sum_sq(x):
    return np.sum(x * x)


def f_tanh_dot(x, w):
    return np.sum(np.tanh(x * w))


@pytest.mark.parametrize("args", [(4, 2), (np.int64(4), np.int64(2)),
                                  (True, 2), (4.0, 2.0)],
                         ids=["int", "np.int64", "bool", "float"])
def test_integer_and_bool_arguments(args):
    got = srcad.grad(f_mul, wrt=("x", "y"))(*args)
    assert tuple(float(v) for v in got) == (float(args[1]), float(args[0]))


def test_integer_arguments_nonlinear():
    assert tuple(float(v) for v in srcad.grad(f_poly, wrt=("x", "y"))(3, 2)) == (12.0, 12.0)
    val, grads = srcad.value_and_grad(f_poly, wrt=("x", "y"))(3, 2)
    assert val == 24 and tuple(float(v) for v in grads) == (12.0, 12.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numpy_scalar_arguments(dtype):
    got = srcad.grad(f_poly, wrt=("x", "y"))(dtype(3.0), dtype(2.0))
    assert tuple(float(v) for v in got) == (12.0, 12.0)
    for v in got:
        assert np.asarray(v).dtype == dtype, f"{dtype.__name__} in, {np.asarray(v).dtype} out"


def test_zero_dim_arrays():
    got = srcad.grad(f_poly, wrt=("x", "y"))(np.array(3.0), np.array(2.0))
    assert tuple(float(v) for v in got) == (12.0, 12.0)
    for v in got:
        assert np.shape(v) == ()
    assert_grad_close(f_poly, np.array(0.3), np.array(-1.2))


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.float64])
def test_gradient_dtype_follows_input_dtype(dtype):
    x = np.array([1.0, -2.0, 0.5], dtype=dtype)
    got = srcad.grad(f_sum_sq)(x)
    np.testing.assert_allclose(got, 2 * x.astype(np.float64), rtol=1e-3)
    assert got.dtype == dtype, f"{np.dtype(dtype).name} input, {got.dtype} gradient"


def test_gradient_dtype_follows_input_dtype_broadcast():
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    w = np.float32(0.7)
    gx, gw = srcad.grad(f_tanh_dot)(x, w)
    assert gx.dtype == np.float32, gx.dtype
    assert np.asarray(gw).dtype == np.float32, np.asarray(gw).dtype


def test_integer_array_gives_float_gradient():
    got = srcad.grad(f_sum_sq)(np.array([1, 2]))
    np.testing.assert_array_equal(got, [2.0, 4.0])
    assert np.issubdtype(got.dtype, np.floating)


# ---------------------------------------------------------------- name hygiene


def stress_names(x, y):
    t1 = x * y
    t2 = t1 + x
    dx = t2 * t2
    d_x = dx + y
    dx_1 = m.sin(d_x)
    x_1 = xp.tanh(dx_1) * x
    stack = x_1 + t1
    push = stack * 0.5
    pop = push - y
    n_iter = pop * pop
    k = n_iter + 1.0
    require_scalar = k * x
    zeros_like = require_scalar + s(y)
    unbroadcast = zeros_like * 0.25
    np = unbroadcast + x  # noqa: F811 - a local named like the module
    math = np * y  # noqa: F811
    value = math + t2
    result = value * 0.5
    returned = result + x
    stop = returned * y
    g = stop + 1.0
    ans = g * x
    return ans + dx + y


def stress_loop(x, y):
    acc = 0.0
    for k in range(3):
        stack = x * k
        push = stack + y
        pop = push * x
        acc = acc + pop
        n_iter = acc * 0.1
        acc = acc + n_iter
    i = 0
    while i < 2:
        dx = acc * 0.5
        acc = acc + dx * y
        i = i + 1
    return acc


def stress_arrays(x, w):
    t1 = xp.tanh(x * w)
    unbroadcast = t1 + w
    zeros_like = xp.sum(unbroadcast * unbroadcast)
    dx = zeros_like * m.exp(0.1)
    return dx + xp.sum(x)


def uses_local_len(x, y):
    len = x * y  # noqa: A001 - a local shadowing a builtin
    sum = len + x  # noqa: A001
    abs = sum * sum  # noqa: A001
    return abs + len


@pytest.mark.parametrize("f, args", [
    (stress_names, (0.3, -0.7)),
    (stress_names, (1.1, 0.4)),
    (stress_loop, (0.3, -0.7)),
    (uses_local_len, (0.8, -1.3)),
], ids=["names-1", "names-2", "loop", "local-len"])
def test_user_names_like_generated_names(f, args):
    assert_grad_close(f, *args, rtol=RTOL, atol=ATOL)
    assert_grad_close(f, *args, rtol=RTOL, atol=ATOL, wrt=(1,))
    ga = srcad.grad(f)(*args)
    gb = srcad.grad(f, optimize=False)(*args)
    np.testing.assert_allclose(ga, gb, rtol=1e-12, atol=1e-12)


def test_user_names_with_arrays():
    x = np.array([0.3, -0.5, 1.2])
    w = np.array([0.7, 0.2, -0.4])
    gx, gw = srcad.grad(stress_arrays, wrt=("x", "w"))(x, w)
    for i, got in enumerate((gx, gw)):
        for j in range(3):
            def partial(v, i=i, j=j):
                args = [x.copy(), w.copy()]
                args[i][j] = v
                return stress_arrays(*args)
            (want,) = numeric_grad(partial, ((x, w)[i][j],), [0])
            assert abs(got[j] - want) <= ATOL + RTOL * abs(want), (i, j, got[j], want)


_counter = itertools.count()


@pytest.fixture
def load(tmp_path):
    names = []

    def _load(source):
        name = f"srcad_edge_{next(_counter)}"
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        names.append(name)
        spec.loader.exec_module(module)
        return module

    yield _load
    for name in names:
        sys.modules.pop(name, None)


SHADOWED = """\
    import math as m
    from math import exp as e, sin as s
    import numpy as xp



    def range(n):  # a global named like a builtin srcad special-cases
        return (0.5, 1.0, 2.0)


    float = 3.0
    len = 7
    zip = None
    sign = -1.0
    require_scalar = 2.0
    np = None
    math = None


    def f(x, y):
        a = x * float
        for k in range(3):
            a = a + s(x * k) * y
        b = e(a * 0.1) * sign
        return b * require_scalar + m.cos(y) * len


    def g(x):
        acc = 0.0
        for v in range(3):
            acc = acc + abs(x) * v
        return acc + xp.tanh(x)


    def h(x):
        return xp.sum(xp.maximum(x * float, 0.0)) + m.exp(0.5)
    """


def test_shadowed_builtins_and_odd_aliases(load):
    mod = load(SHADOWED)
    for args in ((0.3, -0.7), (1.2, 0.5)):
        assert_grad_close(mod.f, *args, rtol=RTOL, atol=ATOL)
    assert_grad_close(mod.g, 0.6, rtol=RTOL, atol=ATOL)
    assert_grad_close(mod.g, -0.6, rtol=RTOL, atol=ATOL)
    got = srcad.grad(mod.h)(np.array([-1.0, 0.5, 2.0]))
    np.testing.assert_array_equal(got, [0.0, 3.0, 3.0])


def test_module_aliases_in_this_file():
    def local(x):
        return m.sin(x) + s(x) + xp.tanh(x)

    got = srcad.grad(local)(0.4)
    want = 2 * math.cos(0.4) + 1 - math.tanh(0.4) ** 2
    assert abs(got - want) <= 1e-12


# ---------------------------------------------------------------- thread safety


def threaded_target(x, y):
    a = math.sin(x) * y
    b = a * a + math.exp(-y)
    return b / (1.0 + x * x)


THREAD_SOURCE = """\
    import math


    def f(x, y):
        a = math.sin(x) * y
        for k in range(2):
            a = a * 0.5 + math.tanh(a + k)
        return a * x + y
    """


@pytest.mark.parametrize("n_threads", [2, 8])
def test_compile_cache_is_thread_safe(load, n_threads):
    mod = load(THREAD_SOURCE)  # a fresh function: nothing cached yet
    barrier = threading.Barrier(n_threads)
    results, errors = [None] * n_threads, []

    def work(i):
        try:
            barrier.wait()
            results[i] = srcad.grad(mod.f, wrt=(0, 1))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    codes = {id(r.__code__) for r in results}
    assert len(codes) == 1, f"{len(codes)} different compiled gradients for one function"
    sources = {r.__srcad__.backward_source for r in results}
    assert len(sources) == 1
    assert srcad.grad(mod.f, wrt=(0, 1)).__code__ is results[0].__code__
    for r in results:
        got = r(0.3, -0.7)
        want = numeric_grad(mod.f, (0.3, -0.7), [0, 1])
        for a, b in zip(got, want, strict=True):
            assert abs(a - b) <= ATOL + RTOL * abs(b)


def test_concurrent_calls_of_one_gradient():
    g = srcad.grad(threaded_target)
    want = g(0.3, -0.7)
    barrier = threading.Barrier(4)
    out = []

    def work():
        barrier.wait()
        out.extend(g(0.3, -0.7) for _ in range(200))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(out) == 800 and all(o == want for o in out)


# ---------------------------------------------------------------- assert


def checked_log(x, y):
    assert x > 0.0, "x must be positive"
    assert y != 0.0
    return math.log(x) * y


def test_assert_is_kept_as_a_check_in_the_gradient():
    g = srcad.grad(checked_log, wrt=("x", "y"))
    assert_grad_close(checked_log, 2.0, 3.0)
    assert "check_assertion(" in g.backward_source
    with pytest.raises(AssertionError, match="x must be positive"):
        g(-1.0, 3.0)
    with pytest.raises(AssertionError):
        g(2.0, 0.0)
    value, grads = srcad.value_and_grad(checked_log, wrt=("x", "y"))(2.0, 3.0)
    assert value == checked_log(2.0, 3.0) and grads[1] == pytest.approx(math.log(2.0))


def checked_with_computed_messages(x):
    n = x.shape[0]
    assert n == 2, f"expected 2 got {n}"
    assert np.all(np.isfinite(x)), f"non-finite values in {x}"
    assert n > 0, ("computed only on failure", 1 / (n - 2))
    return np.sum(x**2)


def computed_message_and_a_refusal(x):
    assert np.all(np.isfinite(x)), f"non-finite values in {x}"
    lambda v: v  # noqa: B018 # <bare-lambda>
    return np.sum(x**2)


def test_an_assert_message_may_be_computed_like_a_raise():
    """``assert test, f"..."`` (refused before) raises AssertionError with the message,
    which is computed only when the check fails, as in Python; ``np.all`` in a test is
    not listed as a call without a derivative rule beside another refusal."""
    check_four_ways(checked_with_computed_messages, np.array([1.0, -2.0]))
    g = srcad.grad(checked_with_computed_messages)
    with pytest.raises(AssertionError, match="expected 2 got 3"):
        g(np.ones(3))
    with pytest.raises(AssertionError, match=r"non-finite values in \[inf"):
        g(np.array([np.inf, 1.0]))
    with pytest.raises(srcad.UnsupportedSyntaxError) as caught:
        srcad.grad(computed_message_and_a_refusal)
    assert "np.all" not in str(caught.value)
    assert caught.value.lineno == marker_line(__file__, "bare-lambda")


# ---------------------------------------------------------------- raise


def validated_sqrt(x, y):
    if x < 0.0:
        raise ValueError("x must not be negative")
    if y == 0.0:
        raise ZeroDivisionError
    z = math.sqrt(x) / y
    if z > 100.0:
        raise OverflowError("too large", 100.0)
    return z * x


def raises_in_loop(x, n):
    for _i in range(n):
        x = x * 0.5 + 1.0
        if x > 50.0:
            raise ValueError("diverged")
    return x


def test_raise_is_kept_in_the_gradient():
    g = srcad.grad(validated_sqrt)
    assert_grad_close(validated_sqrt, 2.0, 3.0)
    assert "raise_exception(ValueError, 'x must not be negative')" in g.backward_source
    with pytest.raises(ValueError, match="x must not be negative"):
        g(-1.0, 3.0)
    with pytest.raises(ZeroDivisionError):
        g(2.0, 0.0)
    with pytest.raises(OverflowError):
        g(4.0, 0.001)
    assert_grad_close(raises_in_loop, 0.3, 4, wrt=("x",))
    with pytest.raises(ValueError, match="diverged"):
        srcad.grad(raises_in_loop, wrt="x")(200.0, 3)


def raise_from_variable(x):
    error = ValueError("no")
    if x < 0.0:
        raise error
    return x


def test_raise_of_anything_else_is_refused():
    with pytest.raises(srcad.UnsupportedSyntaxError, match="exception class"):
        srcad.grad(raise_from_variable)


class NegativeInput(ValueError):
    """An exception class of the user's module."""


def validated_with_message(x, limit):
    message = "x is above the limit"
    if x < 0.0:
        raise NegativeInput(f"x must not be negative, got {x:.2f} (limit {limit})")
    if x > limit:
        raise ValueError(message)
    return x * x * limit


def test_raise_of_a_modules_exception_with_an_f_string_or_a_variable_message():
    from conftest import check_four_ways

    assert check_four_ways(validated_with_message, 1.5, 3.0) == pytest.approx((9.0, 2.25))
    g = srcad.grad(validated_with_message)
    with pytest.raises(NegativeInput, match=r"got -1.25 \(limit 3.0\)"):
        g(-1.25, 3.0)
    with pytest.raises(ValueError, match="above the limit"):
        g(4.0, 3.0)


def three_way_extremes(a, b, c):
    """``max``/``min`` with three arguments and over a list or tuple of values."""
    return max(a * b, b + c, c * a) + min([a, b, c]) - 0.5 * max((a, c))


def test_max_and_min_of_several_values_or_of_a_list():
    from conftest import check_four_ways

    # away from ties: the gradient of the maximal (minimal) argument
    got = check_four_ways(three_way_extremes, 0.3, -1.2, 2.5)
    assert got == pytest.approx((0.0, 1.0 + 1.0, 1.0 - 0.5))  # b + c, then b, then c
    # at a tie equal values share the gradient equally: half each of two, a third each
    # of three (it was a quarter, a quarter, a half, pair by pair: round 78a)
    da, db, dc = srcad.grad(three_way_extremes, wrt=("a", "b", "c"))(1.0, 1.0, 1.0)
    third = 1.0 / 3.0
    assert (da, db, dc) == pytest.approx(
        (third - 0.25, 1.0 + third, 1.0 + third - 0.25), rel=1e-15)  # (b + c is largest)


_fit_log = logging.getLogger("srcad-test-fit")


def logged_loss(w, x):
    """print and logging left in for debugging, with f-strings."""
    y = np.tanh(w * x)
    print("loss", f"{np.sum(y):.4f}", f"{w!r:>{6}}", sep=" | ")
    _fit_log.info(f"w = {w}")
    logging.debug("plain %s", w)
    total = 0.0
    for i in range(2):
        total = total + np.sum(y) * (i + 1)
        print(f"iteration {i}: {{total}} {total:8.3f}")
    return total


def test_print_and_logging_run_in_the_forward_pass(capsys, caplog):
    from conftest import check_four_ways

    w, x = 0.3, np.arange(3.0)
    with caplog.at_level(logging.INFO, logger="srcad-test-fit"):
        dw, dx = srcad.grad(logged_loss, wrt=(0, 1))(w, x)
    printed = capsys.readouterr().out.splitlines()
    assert printed == [f"loss | {np.sum(np.tanh(w * x)):.4f} |    0.3",
                       f"iteration 0: {{total}} {np.sum(np.tanh(w * x)):8.3f}",
                       f"iteration 1: {{total}} {3 * np.sum(np.tanh(w * x)):8.3f}"]
    assert [r.getMessage() for r in caplog.records] == ["w = 0.3"]
    assert dw == pytest.approx(3 * np.sum(x / np.cosh(w * x) ** 2), rel=1e-14)
    check_four_ways(logged_loss, w, x)


def layers_by_formatted_key(p, x):
    """A dict of parameters read with f-string keys, as people name layers."""
    h = x
    for i in range(2):
        h = np.tanh(h @ p[f"W{i}"] + p[f"b{i}"])
    return np.sum(h**2)


def weights_by_formatted_key(w, names):
    """A dict of floats read with f-string keys in a loop."""
    total = 0.0
    for k, name in enumerate(names):
        total += w[f"{name}_{k}"] * (k + 1.5)
        total = total * w[f"{name}_{k}"] if f"{name}" == "b" else total
    return total


def test_f_strings_are_values_such_as_keys():
    rng = np.random.default_rng(0)
    p = {"W0": rng.normal(size=(3, 3)), "b0": rng.normal(size=3),
         "W1": rng.normal(size=(3, 2)), "b1": rng.normal(size=2)}
    (grad,) = check_four_ways(layers_by_formatted_key, p, rng.normal(size=(2, 3)), wrt=(0,))
    assert set(grad) == set(p) and grad["b1"].shape == (2,)
    w = {"a_0": 0.5, "b_1": -0.75, "c_2": 1.25}
    (grad,) = check_four_ways(weights_by_formatted_key, w, ["a", "b", "c"], wrt=(0,))
    assert type(grad) is dict and set(grad) == set(w)


def scaled_copy_of_params(p, x):
    q = dict(p)  # (a shallow copy: the same arrays)
    q["a"] = q["a"] * 2.0
    return np.sum(q["a"] * x)


def test_the_gradient_of_a_dict_the_function_copies_is_a_plain_dict():
    p = {"a": np.ones(2), "b": np.zeros(2)}
    (grad,) = check_four_ways(scaled_copy_of_params, p, np.array([1.0, 3.0]), wrt=(0,))
    assert type(grad) is dict
    np.testing.assert_array_equal(grad["a"], [2.0, 6.0])


def always_raises(x):
    raise ValueError("no gradient here")


def bare_annotation(x):
    y: float
    y = x * 2.0
    return y


def writes_into_a_display(x):
    [x, x][0] = x  # <display-write>
    return x * 2.0


def test_bodies_that_raise_bare_annotations_and_display_writes():
    """A body that always raises raises the program's own error from the gradient; a
    bare annotation binds nothing; a write into a list display is refused at its line
    (they crashed inside srcad)."""
    with pytest.raises(ValueError, match="no gradient here"):
        srcad.grad(always_raises)(1.0)
    assert srcad.grad(bare_annotation)(1.5) == 2.0
    with pytest.raises(srcad.SrcadError, match="list display") as caught:
        srcad.grad(writes_into_a_display)(1.0)
    assert caught.value.lineno == marker_line(__file__, "display-write")


def _fails(x):
    raise ValueError("helper refused")


def _fails_either_way(x):
    if x < 0.0:
        raise ValueError("negative")
    else:
        raise ValueError("helper refused")


def _helpers_that_always_raise(x):
    def too_large(v):
        raise ValueError(f"too large: {v}")

    y = _fails(x) if x > 10.0 else x * 3.0
    if x > 20.0:
        return _fails_either_way(x).real
    if x > 30.0:
        y = too_large(x) + 1.0
    return y * 2.0


def test_a_helper_that_raises_on_every_path_is_used_as_a_value():
    """A helper (a nested ``def`` too) that always raises, its value used in an
    expression: its raise runs, the value is never reached (srcad's placeholder for it
    crashed the code writer)."""
    check_four_ways(_helpers_that_always_raise, 1.5)
    with pytest.raises(ValueError, match="helper refused"):
        srcad.grad(_helpers_that_always_raise)(15.0)
    with pytest.raises(ValueError, match="helper refused"):
        srcad.grad(_helpers_that_always_raise)(25.0)


def freed_temporaries(x, y):
    tmp = np.sum(x) * y
    total = tmp + 1.0
    del tmp
    for i in range(3):
        big = np.sin(x * (i + 1))
        total = total + np.sum(big) * y
        del big
    tmp = total * np.sum(x)  # (the name again, after del)
    return tmp


def test_del_of_a_local_name_unbinds_it():
    """``del tmp`` (freeing memory) unbinds the name and computes nothing; srcad's own
    gradients hold ``del`` lines too, so grad of grad reads them."""
    check_four_ways(freed_temporaries, np.array([0.3, -0.4]), 0.7, wrt=(0, 1))


def _least_squares_fit(y, lam):
    X = np.column_stack([np.ones(5), np.linspace(0.0, 1.0, 5)])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    return np.sum(coef**2) + lam * coef[0]


def _first_and_last(x):
    a, *middle, b = x
    return a * b + sum(middle)


def test_starred_unpacking_binds_a_list_of_the_rest():
    """``coef, *_ = np.linalg.lstsq(...)`` and ``a, *mid, b = x`` (refused before)."""
    check_four_ways(_least_squares_fit, np.array([0.1, 0.5, 0.7, 1.2, 1.4]), 0.3)
    check_four_ways(_first_and_last, np.array([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(ValueError, match="not enough values to unpack"):
        srcad.grad(_first_and_last)(np.array([1.0]))


def _unpacks_two(xs):
    a, b = xs  # <unpack-two>
    return a * b


def test_unpacking_a_value_of_another_length_raises_as_python_does():
    """``a, b = xs`` of three items took the first two: Python raises a ValueError."""
    with pytest.raises(ValueError, match="unpacked into 2 names"):
        srcad.grad(_unpacks_two)([1.0, 2.0, 3.0])
    assert srcad.grad(_unpacks_two)([1.0, 2.0]) == [2.0, 1.0]


def _scaled_by_an_imported_object(x):
    from library_paths import HALF_SINE  # (an object, not a module or a function)

    return HALF_SINE.apply(x) * x


def test_an_object_imported_in_the_function():
    """Its name was "not defined" where srcad read its method's code (round 57)."""
    got = check_four_ways(_scaled_by_an_imported_object, 0.7)[0]
    assert got == pytest.approx(0.5 * (math.sin(0.7) + 0.7 * math.cos(0.7)), rel=1e-12)


def placeholder_branch(x):
    if x > 10.0:
        ...  # (to be written: a constant statement does nothing)
    "a note left as a string"
    return x * x


def test_a_constant_statement_does_nothing():
    """Round 64b: ``...`` in a body (a placeholder) and a string statement were refused as
    bare expressions "with no effect"; having none, they need no refusal."""
    assert srcad.grad(placeholder_branch)(2.0) == 4.0
    assert srcad.value_and_grad(placeholder_branch)(12.0) == (144.0, 24.0)


def three_tied(xs):
    return max(xs) * 2.0 + min(xs[0], xs[1], xs[2])


def test_a_tie_of_three_or_more_values_is_shared_equally():
    """``max(xs)`` of a list display and ``min(a, b, c)``: three equal values get a third
    each (pair by pair they got a quarter, a quarter and a half; round 78a), in both modes."""
    got = srcad.grad(three_tied)([1.0, 1.0, 1.0])
    assert got == pytest.approx([1.0, 1.0, 1.0], rel=1e-15)  # (2/3 + 1/3 each)
    _, tangent = srcad.jvp(three_tied, ([1.0, 1.0, 1.0],), ([1.0, 0.0, 0.0],))
    assert tangent == pytest.approx(1.0, rel=1e-15)
