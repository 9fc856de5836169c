"""``backend="numba"``: the gradient compiled by numba (issue 17, part 2).

Every compiled gradient is checked against central differences (rtol 1e-6) and against
the default backend's gradient (to 1e-12 relative: the same listing, compiled).
"""

from __future__ import annotations

import math
import types

import numpy as np
import pytest
from conftest import check_four_ways, marker_line

import srcad

numba = pytest.importorskip("numba")  # (installed by the test extra; CI runs these)


def horner(coefficients, x):
    total = 0.0
    for c in coefficients:
        total = total * x + c
    return total


def newton_sqrt(a):
    x = a if a > 1.0 else 1.0
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x


def _pendulum(theta, omega, g_over_l, damping):
    return omega, -g_over_l * math.sin(theta) - damping * omega


def pendulum_rk4(g_over_l, damping, steps):
    theta, omega, dt = 0.5, 0.0, 0.01
    for _ in range(steps):
        a1, b1 = _pendulum(theta, omega, g_over_l, damping)
        a2, b2 = _pendulum(theta + 0.5 * dt * a1, omega + 0.5 * dt * b1, g_over_l, damping)
        a3, b3 = _pendulum(theta + 0.5 * dt * a2, omega + 0.5 * dt * b2, g_over_l, damping)
        a4, b4 = _pendulum(theta + dt * a3, omega + dt * b3, g_over_l, damping)
        theta = theta + dt / 6.0 * (a1 + 2.0 * a2 + 2.0 * a3 + a4)
        omega = omega + dt / 6.0 * (b1 + 2.0 * b2 + 2.0 * b3 + b4)
    return theta * theta + omega * omega


def kalman_loglik(q, r, observations):
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


def first_passage(rate):
    value = 1.0
    for year in range(100):
        value = value * (1.0 + rate)
        if value > 2.0:
            return year + (value - 2.0) / (value * rate)
    return 100.0


def euler_path(k, y0):
    y, t, path = y0, 0.0, [y0]
    for _ in range(50):
        y = y + 0.05 * (-k * y + math.sin(t))
        t = t + 0.05
        path.append(y)
    return sum(path) * 0.05


def strided_sum(x, start, stop, step):
    total = 0.0
    for i in range(start, stop, step):
        total = total + math.sin(x * i) / (1.0 + i)
    return total


def mathy(x, y):
    total = 0.0
    for i in range(4):
        total += math.sqrt(abs(x - 0.2 * i) + 1.0) / (1.0 + i)
    return total + math.atan2(x, y) + math.hypot(x, y) + 2.0 ** x + x ** y + math.pow(y, 1.5)


def triangle(x, n):
    """Nested loops: the inner one's length changes with the outer index."""
    total = 0.0
    for i in range(n):
        y = x * (1.0 + 0.1 * i)
        for j in range(i):
            y = math.sin(y) + 0.01 * j
        total = total + y * y
    return total


def walk_with_an_int_state(x, n):
    """An int index the loop overwrites is saved too: numba indexes with no float."""
    k, total = 0, 0.0
    ys = [x, 2.0 * x, x * x, 0.5]
    for i in range(n):
        total = total + math.cos(ys[k] * total)
        k = (k * 3 + i) % 4
    return total


def branch_then_loop(x, bounded):
    if bounded:
        for i in range(30):
            x = math.tanh(x) * 1.2 + 0.01 * i
    else:
        x = x * x
    return x


def mean_by_len(xs, a):
    """len(xs) as a value: an int, so the version for floats (and numba) still applies."""
    n = len(xs)
    return sum(math.tanh(x * a) for x in xs) / n


def ring_products(xs):
    """An index the loop computes, ``(i + 1) % n``, is saved: an int64 tape, and a start
    of 0 (``None`` with an int is an optional int, which numba indexes nothing with)."""
    total = 0.0
    for i in range(len(xs)):
        total += xs[i] * xs[(i + 1) % len(xs)]
    return total


def power_by_squaring(x, e):
    """``if e & 1`` saves an int in a while loop (a list tape): numba takes no truth
    value of an optional int."""
    result, base = 1.0, x
    while e > 0:
        if e & 1:
            result *= base
        base *= base
        e >>= 1
    return result


def running_product(x):
    """A list made ahead and written in a loop: ``zeros_like`` of a number is 0.0 (not
    zeros for each item) and the list's adjoint stays an array through ``with_item``."""
    a = [0.0] * 4
    a[0] = x
    for i in range(1, 4):
        a[i] = a[i - 1] * x + 1.0
    return a[3]


def listed_powers(x):
    """A list comprehension read by index and summed: the adjoint of a list is one
    float64 array (numba's lists would join at ``+=``) until the loop pops it."""
    xs = [x * i for i in range(5)]
    return sum(xs) + xs[-1] * xs[1]


def grown_extremes(x):
    """max and min of a list a loop grew: srcad's helper for their gradient has a twin
    numba compiles."""
    values = []
    for i in range(6):
        values.append(math.sin(x * i))
    return max(values) - 2.0 * min(values)


def middle_value(x):
    """sorted of a grown list: its gradient's helper has a twin (a stable argsort)."""
    values = []
    for i in range(3):
        values.append(math.cos(x * i))
    ordered = sorted(values, reverse=True)  # <numba-sorted>
    return ordered[1] * 2.0 - ordered[2]


def mean_ratio(d):
    return sum(d) / d[0]


def truncated_variance(v, xi):
    """Full truncation: max(v, 0) before a square root, truncated in some steps (srcad's
    selection adjoint, runtime.chosen, and zero-safe quotient, compiled by numba)."""
    total = 0.0
    for k in range(4):
        vp = max(v - 0.3 * k, 0.0)
        total = total + xi * math.sqrt(vp) + math.sqrt(max(-vp, 0.0)) + min(vp, 0.35)
    return total


OBSERVATIONS = [math.sin(0.3 * k) + 0.1 * k for k in range(30)]

PROGRAMS = [
    (horner, ([0.5, -1.0, 2.0, 0.25, -0.75], 0.7), (0, 1)),
    (newton_sqrt, (2.5,), (0,)),
    (pendulum_rk4, (9.81, 0.3, 200), (0, 1)),
    (kalman_loglik, (0.1, 0.5, OBSERVATIONS), (0, 1)),
    (first_passage, (0.07,), (0,)),
    (euler_path, (0.8, 1.0), (0, 1)),
    (strided_sum, (0.3, 2, 17, 3), (0,)),
    (strided_sum, (0.3, 17, 2, -2), (0,)),
    (mathy, (1.3, 0.7), (0, 1)),  # (srcad's division, sign and log, compiled by numba)
    (triangle, (0.4, 9), (0,)),
    (mean_by_len, ([0.5, -1.0, 2.0], 0.7), (0, 1)),
    (walk_with_an_int_state, (0.3, 25), (0,)),
    (branch_then_loop, (0.3, True), (0,)),
    (branch_then_loop, (0.3, False), (0,)),
    (ring_products, ([0.3, -1.2, 0.8, 2.0],), (0,)),
    (power_by_squaring, (1.1, 7), (0,)),
    (running_product, (0.8,), (0,)),
    (listed_powers, (0.7,), (0,)),
    (grown_extremes, (0.45,), (0,)),
    (mean_ratio, ([3.0, 3.5, 4.0],), (0,)),
    (middle_value, (0.4,), (0,)),
    (truncated_variance, (0.5, 1.5), (0, 1)),
]


def _flat(gradient) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(g, dtype=float)) for g in gradient])


@pytest.mark.parametrize(
    "f, args, wrt", PROGRAMS, ids=[f"{f.__name__}-{k}" for k, (f, _, _) in enumerate(PROGRAMS)]
)
def test_compiled_gradient_matches_python_and_central_differences(f, args, wrt):
    compiled = srcad.grad(f, wrt=wrt, backend="numba")(*args)
    python = srcad.grad(f, wrt=wrt)(*args)
    compiled = compiled if len(wrt) > 1 else (compiled,)
    python = python if len(wrt) > 1 else (python,)
    for mine, theirs in zip(compiled, python):
        assert type(mine) is type(theirs)  # (a list argument's gradient is a list)
    np.testing.assert_allclose(_flat(compiled), _flat(python), rtol=1e-12, atol=1e-300)
    numeric = [srcad.numeric_grad(f, args, k) for k in wrt]
    np.testing.assert_allclose(_flat(compiled), _flat(numeric), rtol=1e-6, atol=1e-8)


def test_value_and_grad_and_has_aux():
    value, gradient = srcad.value_and_grad(kalman_loglik, wrt=(0, 1), backend="numba")(
        0.1, 0.5, OBSERVATIONS
    )
    assert value == kalman_loglik(0.1, 0.5, OBSERVATIONS)
    np.testing.assert_allclose(
        gradient, srcad.grad(kalman_loglik, wrt=(0, 1))(0.1, 0.5, OBSERVATIONS), rtol=1e-12
    )

    def with_aux(x):
        return x * x * x, x + 1.0

    assert srcad.grad(with_aux, has_aux=True, backend="numba")(2.0) == (12.0, 3.0)

    def with_default(x, scale=2.0, *, shift=1.0):
        return scale * x * x + shift * x

    g = srcad.grad(with_default, wrt=(0, 1), backend="numba")
    assert g(3.0) == (2.0 * 6.0 + 1.0, 9.0)
    assert g(3.0, shift=0.5) == (2.0 * 6.0 + 0.5, 9.0)


@numba.njit
def _square(x):
    return x * x


@numba.njit
def _njit_model(x, c):
    return _square(x) * c + math.sin(x)


def test_an_njit_function_gets_a_compiled_gradient_by_default():
    """srcad reads the Python function behind @numba.njit (and behind its njit helpers)."""
    g = srcad.grad(_njit_model)
    assert g(0.3, 2.0) == pytest.approx(2 * 0.3 * 2.0 + math.cos(0.3), rel=1e-14)
    built = g.__srcad__
    from srcad import numba_backend

    assert any(key[0] == id(built) for key in numba_backend._COMPILED)
    python = srcad.grad(_njit_model, backend="python")
    assert python(0.3, 2.0) == pytest.approx(g(0.3, 2.0), rel=1e-14)


def test_the_listing_is_the_same_and_the_compiled_one_readable():
    g = srcad.grad(pendulum_rk4, wrt=(0, 1), backend="numba")
    assert g.backward_source == srcad.grad(pendulum_rk4, wrt=(0, 1)).backward_source
    source = g.compiled_source
    # (a loop of known length saves into an array made for it, with a counter)
    assert "tape_theta = np.empty(len(range(steps)))" in source
    assert "tape_theta[top_theta] = theta" in source and "reversed" not in source
    assert "# (" in source  # the forward line each line comes from
    assert "float_or_int" not in source  # (numba compiles one version per argument type)


def test_tapes_are_arrays_where_the_length_is_known_and_lists_elsewhere(reverse_mode_for_floats):
    """A loop of known length saves into an array made for it (of int64 for an int
    index, which numba indexes with); a while loop, an inner loop and a saved list use
    numba's lists."""
    newton = srcad.grad(newton_sqrt, backend="numba")
    assert newton(2.5) == pytest.approx(srcad.grad(newton_sqrt)(2.5), rel=1e-12)
    assert "tape_x_1 = []" in newton.compiled_source
    assert "np.empty" not in newton.compiled_source
    nested = srcad.grad(triangle, wrt="x", backend="numba").compiled_source
    assert "tape_y_1.append(y_1)" in nested
    walk = srcad.grad(walk_with_an_int_state, wrt="x", backend="numba")
    expected = srcad.grad(walk_with_an_int_state, wrt="x")(0.3, 25)
    assert walk(0.3, 25) == pytest.approx(expected, rel=1e-12)
    assert "tape_k = np.empty(len(range(n)), np.int64)" in walk.compiled_source
    assert "tape_k[top_k] = k" in walk.compiled_source  # (after the first call too)
    assert "tape_t3.append(t3)" in walk.compiled_source  # (the list [x, t1, t2, 0.5])


def test_a_line_numba_cannot_compile_is_refused_at_the_users_line():
    def formatted(x):
        text = "%f" % x  # noqa: UP031 # <numba-mod>
        return x * float(len(text))

    with pytest.raises(srcad.CompiledBackendError) as caught:
        srcad.grad(formatted, backend="numba")(1.0)
    assert caught.value.lineno == marker_line(__file__, "numba-mod")
    assert "numba cannot compile" in caught.value.message
    assert "backend='python'" in caught.value.hint


def exponential_smoothing(alpha, series):
    level = series[0]
    for value in series:
        level = alpha * value + (1.0 - alpha) * level
    return level


def test_a_float_array_read_item_by_item_is_compiled_as_a_list():
    """A 1-D float64 array that the function reads only item by item is what a list of
    floats becomes for numba: it is taken as it is, its gradient is an array."""
    series = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    compiled = srcad.grad(exponential_smoothing, wrt=(0, 1), backend="numba")(0.3, series)
    plain = srcad.grad(exponential_smoothing, wrt=(0, 1))(0.3, series)
    assert type(compiled[1]) is np.ndarray
    assert compiled[0] == pytest.approx(plain[0], rel=1e-13)
    assert np.allclose(compiled[1], plain[1], rtol=1e-13)


def test_arrays_are_refused_with_what_to_do():
    """The compiled listing is the version for Python numbers: an array argument would
    run it on arrays, where its gradients do not sum over broadcasting."""

    def scaled(x, c):  # <numba-arrays>
        return x * c

    g = srcad.grad(scaled, wrt=(0, 1), backend="numba")
    assert g(2.0, np.float64(3.0)) == (3.0, 2.0)  # (numpy's scalars are numbers)
    with pytest.raises(srcad.CompiledBackendError, match="backend='python'") as caught:
        g(np.ones(3), 2.0)
    assert caught.value.lineno == marker_line(__file__, "numba-arrays")
    assert "ndarray" in caught.value.message

    def dict_model(x):
        weights = {"a": x, "b": 2.0}  # (a dict of numbers: the float version keeps it)
        return weights["a"] * weights["b"]  # <numba-no-dicts>

    with pytest.raises(srcad.CompiledBackendError, match="backend='python'") as caught:
        srcad.grad(dict_model, backend="numba")(1.0)
    assert caught.value.lineno == marker_line(__file__, "numba-no-dicts")


def test_an_unknown_backend_is_a_value_error():
    with pytest.raises(ValueError, match="backend='python' or backend='numba'"):
        srcad.grad(horner, backend="cuda")


def _zeros_plus_a_list(items):
    out = np.zeros(len(items))
    out += [0.0, 0.0, 0.0]  # (numba's type inference fails with a bare AttributeError)
    return out


def test_an_error_inside_numbas_compiler_is_located(monkeypatch):
    """numba's type inference fails on some code with a bare AttributeError: it is
    reported as numba failing to compile the user's function, not leaked."""
    from srcad import numba_backend, runtime

    twins = numba_backend._twins()
    monkeypatch.setattr(
        numba_backend, "_twins", lambda: {**twins, runtime.zeros_like: _zeros_plus_a_list}
    )

    def ratio(d):  # <numba-internal>
        return sum(d) / d[0]

    with pytest.raises(srcad.CompiledBackendError, match="numba cannot compile") as caught:
        srcad.grad(ratio, backend="numba")([3.0, 3.5, 4.0])
    assert caught.value.lineno == marker_line(__file__, "numba-internal")


def test_a_helper_without_a_twin_is_named_at_the_users_line(monkeypatch):
    """A helper of srcad's that numba cannot compile is named, at the line that needs it
    (not numba's "untyped global name")."""
    from srcad import numba_backend
    from srcad.rules import numpy_grads

    twins = numba_backend._twins()
    del twins[numpy_grads.sorted_grad]
    monkeypatch.setattr(numba_backend, "_twins", lambda: twins)
    with pytest.raises(srcad.CompiledBackendError) as caught:
        srcad.grad(middle_value, backend="numba")(0.4)
    assert caught.value.lineno == marker_line(__file__, "numba-sorted")
    assert "srcad's helper sorted_grad has no version numba compiles" in caught.value.message


def test_len_of_a_list_keeps_the_version_for_floats():
    """``n = len(xs)`` gave ``xs`` a number's kind too, and no version for floats was
    made: backend='numba' refused a function of floats and lists of them."""
    assert "this version is for Python floats" in srcad.grad(mean_by_len).backward_source


def _clipped_above(x, top):
    return x if x < top else top


def _identity(x):
    return x


@pytest.mark.parametrize("f, args, want", [(_clipped_above, (0.5, 2.0), (1.0, 0.0)),
                                           (_clipped_above, (3.0, 2.0), (0.0, 1.0)),
                                           (_identity, (0.5,), 1.0)])
def test_functions_without_arithmetic_compile(f, args, want):
    # a function that returns a parameter on some path had no version for floats, so
    # numba refused it as working "on arrays, dicts or objects" (round 30)
    wrt = tuple(range(len(args)))
    got = srcad.grad(f, wrt=wrt if len(wrt) > 1 else 0, backend="numba")(*args)
    assert got == want


def _pairwise_sums_in_place(s):
    v = [s * j for j in range(3)]
    for _ in range(2):
        for j in range(2):
            v[j] = v[j] + v[j + 1]
    return v[0]


def test_a_made_list_updated_in_a_nested_loop_compiles():
    # a saved item started as None, and the zero of that optional float had no numba
    # version ("No implementation of function _zero_of": round 30)
    assert srcad.grad(_pairwise_sums_in_place, backend="numba")(0.2) == pytest.approx(4.0)


def _moving_sums(x, signal):
    out = []
    for i in range(len(signal) - 1):
        acc = 0.0
        for j in range(2):
            acc += x * signal[i + j]
        out.append(acc)
    return out[0] * out[-1] + sum(out)


def test_an_accumulator_appended_after_an_inner_loop_compiles():
    # (a 1-D convolution: `acc += ...` was taken for a change the list of earlier
    # accumulators could see, so there was no version for floats for numba: round 30)
    signal = [0.5, -1.0, 2.0, 0.25]
    got = srcad.grad(_moving_sums, wrt=0, backend="numba")(0.7, signal)
    assert got == pytest.approx(srcad.grad(_moving_sums, wrt=0)(0.7, signal), rel=1e-12)
    assert "for Python floats" in srcad.grad(_moving_sums, wrt=0).backward_source
    check_four_ways(_moving_sums, 0.7, signal, wrt=0)


def counted_with_a_name_like_a_tape_counter(x, top_p):
    top_s = 0
    s = 0.0
    tape_s = 0.5
    for _ in range(4):
        s = s * x + math.sin(x * top_s) + top_p * tape_s
        top_s += 1
    return s


def test_user_names_like_the_tapes_bookkeeping_keep_their_values():
    """The compiled listing named its tape of ``s`` ``tape_s`` and its counter ``top_s``
    whatever the user's names: a user's ``top_s`` was overwritten by the bookkeeping
    (value and gradient silently wrong), a ``tape_s`` failed to compile (round 53)."""
    f = counted_with_a_name_like_a_tape_counter
    expected = srcad.value_and_grad(f, wrt=(0, 1))(0.9, 0.3)
    value, gradient = srcad.value_and_grad(f, wrt=(0, 1), backend="numba")(0.9, 0.3)
    assert value == pytest.approx(f(0.9, 0.3), rel=1e-14)
    np.testing.assert_allclose(gradient, expected[1], rtol=1e-13)


def roughness(p):
    prev = None
    s = 0.0
    for v in p:
        if prev is not None:
            s += (v - prev) ** 2
        prev = v
    return s


def best_of_six(x):
    best = None
    for i in range(6):
        v = (x - 0.3 * i) ** 2
        if best is None or v < best:
            best = v
    return best


def test_a_none_the_function_tests_is_kept():
    """``prev = None`` tested ``prev is not None``: the function's own None, kept (numba
    types it optional); a placeholder srcad writes is a zero of its type instead. Round
    61c: compiled as ``prev = 0.0``, the test was always true (-0.6 where -1.2 is right)."""
    p = [0.3, 0.9, 0.1, 1.5]
    want = [2 * (p[0] - p[1]), 2 * (2 * p[1] - p[0] - p[2]), 2 * (2 * p[2] - p[1] - p[3]),
            2 * (p[3] - p[2])]
    assert srcad.grad(roughness, backend="numba")(p) == pytest.approx(want, rel=1e-12)
    assert srcad.grad(best_of_six, backend="numba")(0.7) == pytest.approx(2 * (0.7 - 0.6))


def annuity_due_value(rate, pmt, n=20, *, start=0.0):
    fv = start
    for _ in range(n):
        fv = (fv + pmt) * (1 + rate)
    return fv


def test_defaults_left_out_are_filled_without_binding_each_call():
    """Arguments given by position with the rest at their defaults (round 65b: every such
    call bound the signature, making the compiled gradient slower than Python's)."""
    compiled = srcad.grad(annuity_due_value, wrt=(0, 1), backend="numba")
    python = srcad.grad(annuity_due_value, wrt=(0, 1))
    for args, kwargs in (((0.05, 100.0), {}), ((0.05, 100.0, 12), {}),
                         ((0.05, 100.0), {"start": 3.0}), ((0.05, 100.0, 12), {"start": 3.0})):
        np.testing.assert_allclose(compiled(*args, **kwargs), python(*args, **kwargs),
                                   rtol=1e-12)
    assert compiled(0.05, 100.0)[1] == pytest.approx(sum(1.05 ** k for k in range(1, 21)))


def exp_by_exact_factorials(x):
    s, fact = 0.0, 1
    for k in range(30):
        if k > 0:
            fact *= k  # <exact factorial>
        s += x ** k / fact
    return s


def test_an_int_a_loop_multiplies_is_refused_at_its_line():
    """Python's ints have no limit and numba's have 64 bits: 21! and beyond came out
    silently wrong in the compiled gradient (round 90: -51.75 for 148.41)."""
    with pytest.raises(srcad.CompiledBackendError, match="keep it a float") as caught:
        srcad.grad(exp_by_exact_factorials, backend="numba")(5.0)
    assert caught.value.lineno == marker_line(__file__, "exact factorial")
    assert srcad.grad(exp_by_exact_factorials)(5.0) == pytest.approx(
        sum(5.0 ** k / math.factorial(k) for k in range(29)), rel=1e-12
    )


def digit_weighted(x, n):
    s = 0.0
    for k in range(1, n):
        s += x * ((k ** 14) % 10)  # <int power>
    return s


def halving_weights(x, n, shift):
    s = 0.0
    for k in range(n):
        s += x * 2 ** (k - shift)  # <negative int power>
    return s


def test_an_int_power_numba_cannot_hold_is_refused_at_its_line():
    """An int to an int power is exact in Python and a float for a negative exponent;
    numba's has 64 bits and is 0 for ``2 ** -1`` (round 91: 104 for 110). Where it is
    the same it is computed; where not, the gradient is refused at the line."""
    for k in (5, 24):
        want = sum((j ** 14) % 10 for j in range(1, k))
        assert srcad.grad(digit_weighted)(0.7, k) == want
    assert srcad.grad(digit_weighted, backend="numba")(0.7, 5) == 20.0  # (4**14 fits)
    with pytest.raises(srcad.CompiledBackendError, match="make one side a float") as caught:
        srcad.grad(digit_weighted, backend="numba")(0.7, 24)  # (23**14 > 2**63)
    assert caught.value.lineno == marker_line(__file__, "int power")
    assert srcad.grad(halving_weights, backend="numba")(0.3, 5, 0) == 31.0
    with pytest.raises(srcad.CompiledBackendError, match="negative exponent") as caught:
        srcad.grad(halving_weights, backend="numba")(0.3, 5, 3)
    assert caught.value.lineno == marker_line(__file__, "negative int power")
    assert srcad.grad(halving_weights)(0.3, 5, 3) == sum(2.0 ** (k - 3) for k in range(5))


def digits_of_big_products(x, ids):
    s = 0.0
    for k in ids:
        big = (k * 1000003) * (k * 999983)  # <int product>
        s += x * (big % 10)
    return s


def shifted_digits(x, n):
    s = 0.0
    for k in range(n):
        s += x * ((1 << k) % 10)  # <int shift>
    return s


def inverse_square(x):
    return x ** -2 + 2 ** -x


def thirds(x):
    s = 0.0
    for k in range(1, 4):
        s += x * pow(3, -k)  # <pow builtin>
    return s


def best_of_three(a, b):
    return max(a, b, 0.1) + max([a, b])


@pytest.mark.parametrize("f, args, marker", [
    (digits_of_big_products, (0.5, [3, 50, 7_000_000]), "int product"),
    (shifted_digits, (0.5, 66), "int shift"),
])
def test_int_arithmetic_past_int64_is_refused_at_its_line(f, args, marker):
    """Products and shifts of ints that no loop carries pass 2**63 too (round 92: a
    digit of 19 for 35, 0 for 20); where they fit, numba computes Python's value."""
    small = (args[0], args[1][:2]) if isinstance(args[1], list) else (args[0], 20)
    assert srcad.grad(f, backend="numba")(*small) == srcad.grad(f)(*small)
    with pytest.raises(srcad.CompiledBackendError, match="passed 2\\*\\*63") as caught:
        srcad.grad(f, backend="numba")(*args)
    assert caught.value.lineno == marker_line(__file__, marker)


def test_ints_given_keep_pythons_arithmetic():
    """An int given for a differentiated number is a float, as Python's arithmetic of
    it is (round 92: ``3 ** -2`` was 0 and ``10 ** 20`` wrapped); a list of ints read
    only is given as ints (a list of floats rounded ``k ** 25``; round 93)."""
    for given in (3, 3.0):
        got = srcad.value_and_grad(inverse_square, backend="numba")(given)
        np.testing.assert_allclose(got, srcad.value_and_grad(inverse_square)(3.0), rtol=1e-12)
    ids = [3, 5, 6]
    want = sum((k ** 25) % 7 for k in ids[:2])
    assert srcad.grad(digit_weighted_by_ids, backend="numba")(0.5, ids[:2]) == want
    with pytest.raises(srcad.CompiledBackendError, match="power"):
        srcad.grad(digit_weighted_by_ids, backend="numba")(0.5, ids)  # (6 ** 25 > 2**63)
    with pytest.raises(srcad.CompiledBackendError, match="cannot hold exactly"):
        srcad.grad(digit_weighted_by_ids, backend="numba")(0.5, [2 ** 64])
    with pytest.raises(srcad.CompiledBackendError, match="negative exponent") as caught:
        srcad.grad(thirds, backend="numba")(0.7)  # (round 92: 0.0 for 0.48)
    assert caught.value.lineno == marker_line(__file__, "pow builtin")


def digit_weighted_by_ids(x, ids):
    s = 0.0
    for k in ids:
        s += x * ((k ** 25) % 7)
    return s


def checked_sum(x, n):
    assert n > 0, "n must be positive"
    s = 0.0
    for k in range(n):
        assert x > -10.0
        s += x * k
    return s


def mean_offset_of_timestamps(rate, ts):
    total = 0
    for t in ts:
        total += t  # <int sum>
    return rate * ((ts[-1] - total // len(ts)) * 1e-9) ** 2


def test_a_sum_of_large_ints_past_int64_is_refused_at_its_line():
    """Nanosecond timestamps summed pass 2**63 (round 94: 5.3e18 for 12.25); a sum of
    small ones, and `i + 1` of a loop's index, compile as they are."""
    small = [1_000 + k * 1_000_000_000 for k in range(8)]
    assert srcad.grad(mean_offset_of_timestamps, backend="numba")(0.7, small) == (
        pytest.approx(srcad.grad(mean_offset_of_timestamps)(0.7, small), rel=1e-12)
    )
    stamps = [1_700_000_000_000_000_000 + k * 1_000_000_000 for k in range(8)]
    assert srcad.grad(mean_offset_of_timestamps)(0.7, stamps) == pytest.approx(12.25)
    with pytest.raises(srcad.CompiledBackendError, match="a sum of ints") as caught:
        srcad.grad(mean_offset_of_timestamps, backend="numba")(0.7, stamps)
    assert caught.value.lineno == marker_line(__file__, "int sum")
    listing = srcad.grad(shifted_digits, backend="numba")
    listing(0.5, 3)
    assert "exact_int_sum" not in listing.compiled_source  # (no sums of large values)


def test_assertions_compile():
    """Round 93: refused (no numba version of srcad's check_assertion), at the def line."""
    compiled = srcad.grad(checked_sum, backend="numba")
    assert compiled(0.5, 4) == srcad.grad(checked_sum)(0.5, 4) == 6.0
    with pytest.raises(AssertionError, match="n must be positive"):
        compiled(0.5, -1)


def test_a_tie_of_max_shares_the_gradient_as_the_default_backend():
    """Round 93: numba's max of a list gave all of it to the first tied item."""
    compiled = srcad.grad(best_of_three, wrt=(0, 1), backend="numba")(0.5, 0.5)
    assert compiled == srcad.grad(best_of_three, wrt=(0, 1))(0.5, 0.5) == (1.0, 1.0)


def _annealed():
    """A loss reading a temperature from its closure, and a way to change it."""
    tau = 2.0

    def loss(x):
        return tau * x * x

    def anneal(factor):
        nonlocal tau
        tau *= factor

    return loss, anneal


def test_a_closure_variable_bound_again_is_read_again():
    """numba compiles a closure's values in as constants: the compiled gradient kept the
    temperature of its first call (round 90); a cell bound again makes a new listing."""
    loss, anneal = _annealed()
    compiled = srcad.grad(loss, backend="numba")
    for tau in (2.0, 6.0, 18.0):
        assert compiled(0.5) == pytest.approx(tau)  # (d/dx tau x^2 = 2 tau x, x = 0.5)
        anneal(3.0)


def _with_coefficients(coef):
    def polynomial(x):
        s = 0.0
        for i in range(3):
            s += coef[i] * x ** i
        return s

    return polynomial


def test_an_array_a_closure_holds_changed_in_place_is_read_again():
    """numba compiles a closure's array in as a constant: a write into it between calls
    left the compiled gradient stale (round 91); a listing remembers the items it saw."""
    coef = np.array([1.0, 2.0, 3.0])
    compiled = srcad.grad(_with_coefficients(coef), backend="numba")
    assert compiled(0.7) == pytest.approx(2.0 + 6.0 * 0.7)
    coef[2] = -4.0
    assert compiled(0.7) == pytest.approx(2.0 - 8.0 * 0.7)


def _survival(h):
    S = [0] * 5  # (a list of ints, then floats written into it in a loop)
    S[0] = 1
    for t in range(4):
        S[t + 1] = S[t] * (1 - h)
    return sum(S)


def _ramp(x):
    u = list(range(4))
    for i in range(4):
        u[i] = u[i] * x
    return sum(v * v for v in u)


def _running(xs):
    c = [0] * len(xs)
    c[0] = xs[0]
    for i in range(1, len(xs)):
        c[i] = c[i - 1] + xs[i]
    acc = [0, 0]
    for v in c:
        acc[0] += math.sin(v)
    return acc[0]


def test_a_list_of_int_literals_written_with_floats_holds_floats():
    """``[0] * 5``, ``list(range(4))``, ``[0] * len(xs)`` and ``[0, 0]`` written with
    floats in a loop: numba typed each list int64 and truncated every float written, the
    value too (round 96: a survival curve's gradient -2.53 for -5.24). The literals are
    floats in the compiled listing; gradients and values as the default backend's."""
    for f, arg in ((_survival, 0.3), (_ramp, 0.7), (_running, [0.3, -0.6, 0.8, 1.1])):
        value, grad = srcad.value_and_grad(f, backend="numba")(arg)
        assert value == pytest.approx(f(arg), rel=1e-15)
        np.testing.assert_allclose(grad, srcad.grad(f)(arg), rtol=1e-13)
    assert srcad.grad(_survival, backend="numba")(0.3) == pytest.approx(
        sum(-t * 0.7 ** (t - 1) for t in range(1, 5)), rel=1e-13)


@numba.njit
def _jitted_loop(x, y):
    s = 0.0
    for i in range(3):
        s += math.sin(x * i) * y
    return s


def test_grad_of_grad_of_a_jitted_function_with_a_loop():
    """The compiled gradient of an ``@njit`` function takes its parameters: grad of it
    passed them on (round 97: a TypeError, the gradient took ``*args, **kwargs``)."""
    want = -sum(math.sin(0.3 * i) * i * i * 1.5 for i in range(3))
    assert srcad.grad(srcad.grad(_jitted_loop))(0.3, 1.5) == pytest.approx(want, rel=1e-13)
    assert srcad.hessian(_jitted_loop)(0.3, 1.5) == pytest.approx(want, rel=1e-13)


GRAVITY = 9.81
DRAG = (0.1, 0.2)
_CONFIG = types.ModuleType("config")
_CONFIG.RATE = 0.5


def _fall(v):
    return v * v / GRAVITY + DRAG[1] * v + _CONFIG.RATE * v


def test_a_compiled_gradient_follows_the_globals_it_reads():
    """numba compiles a module global's value in as a constant: the compiled gradient
    kept the value of its first call after the global was bound again (round 97:
    1/G with the old G). It compiles again when a global or a global module's attribute
    it reads is bound again; as the default backend's."""
    global GRAVITY, DRAG
    g = srcad.grad(_fall, backend="numba")
    try:
        assert g(3.0) == pytest.approx(6.0 / 9.81 + 0.2 + 0.5, rel=1e-14)
        GRAVITY = 3.0
        assert g(3.0) == pytest.approx(2.0 + 0.2 + 0.5, rel=1e-14)
        DRAG = (0.1, 0.7)
        assert g(3.0) == pytest.approx(2.0 + 0.7 + 0.5, rel=1e-14)
        _CONFIG.RATE = 0.25
        assert g(3.0) == pytest.approx(2.0 + 0.7 + 0.25, rel=1e-14)
        assert g(3.0) == srcad.grad(_fall)(3.0)
    finally:
        GRAVITY, DRAG, _CONFIG.RATE = 9.81, (0.1, 0.2), 0.5


def _smoothed_copy(xs):
    u = xs[:]
    for i in range(1, len(u)):
        u[i] = 0.5 * (u[i] + u[i - 1])
    return sum(u)


def _best_score(xs):
    best = None
    for v in xs:
        s = v * v - 0.3 * v
        if best is None or s > best:
            best = s
    return best


def test_a_copied_list_and_a_result_started_as_none_compile():
    """``u = xs[:]`` written with floats and ``best = None`` returned were refused at the
    ``def`` line naming srcad's helpers (``require_float_items``, ``require_scalar``;
    round 96). The copy of a list of ints given is a float64 array, so no float written
    into it is truncated; the result's check is one numba compiles."""
    xs = [0.3, -0.6, 0.8, 1.1, -0.25]
    for f in (_smoothed_copy, _best_score):
        got = srcad.value_and_grad(f, backend="numba")(xs)
        want = srcad.value_and_grad(f)(xs)
        assert got[0] == want[0]
        np.testing.assert_allclose(got[1], want[1], rtol=1e-15)
    ks = [1, 2, 3, 4]  # (ints, not differentiated: read as int64 unless written)
    got = srcad.value_and_grad(_smoothed_counts, backend="numba")(0.7, ks)
    assert got == (_smoothed_counts(0.7, ks), srcad.grad(_smoothed_counts)(0.7, ks))


def _smoothed_counts(a, ks):
    u = ks[:]
    for i in range(1, len(u)):
        u[i] = 0.5 * (u[i] + u[i - 1]) * a
    return sum(u)


def _stable_logistic_loss(w, b):
    z = w * 0.7 + b
    return math.log1p(math.exp(-abs(z))) + max(z, 0.0) - 0.3 * z


def test_the_stable_softplus_has_a_version_for_floats_and_compiles():
    """``max(z, 0) + log1p(exp(-abs(z)))``: the pattern of the softplus tail's rule took
    the builtin ``abs`` for one of its parameters, an operand that is not a number, so
    no version for floats was made and numba refused the function (round 99). Now both
    backends give the logistic loss's gradient, to rounding."""
    for w, b in ((0.9, -0.2), (-1.3, 0.4)):
        z = w * 0.7 + b
        slope = 1.0 / (1.0 + math.exp(-z)) - 0.3
        want = (0.7 * slope, slope)
        assert srcad.grad(_stable_logistic_loss, wrt=(0, 1))(w, b) == pytest.approx(want, rel=1e-14)
        got = srcad.grad(_stable_logistic_loss, wrt=(0, 1), backend="numba")(w, b)
        assert got == pytest.approx(want, rel=1e-14)
    assert "this version is for Python floats" in srcad.grad(_stable_logistic_loss).backward_source


def _horner_with_a_copy(xs):
    ys = xs[:]
    y = 0.0
    for i in range(len(ys)):
        y = y * ys[i] + xs[i]  # (xs read after ys is written: they must not share)
        ys[i] = y
        if i + 1 < len(ys):
            ys[i + 1] = ys[i + 1] * y
    return y + sum(ys)


def test_a_slice_of_a_list_argument_is_a_copy_in_the_compiled_gradient():
    """numba is given a list as an array, whose slice is a view: ``ys = xs[:]`` written
    changed ``xs`` (round 97: a silently wrong gradient once the slice compiled). The
    slice is a copy, as Python's of a list is."""
    xs = [0.7, 1.2, -0.4]
    got = srcad.value_and_grad(_horner_with_a_copy, backend="numba")(xs)
    want = srcad.value_and_grad(_horner_with_a_copy)(xs)
    assert got[0] == want[0] == _horner_with_a_copy(xs)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-14)


def _copied_int_lists(xs):
    a = [1, 2, 3]
    b = a[:]  # (a slice)
    b[0] = xs[0] * 0.5
    c = [v for v in a]  # (a comprehension: appended items)
    c[1] = xs[1] * 0.25
    d = list(reversed(list(range(3))))
    d[2] = xs[0] * xs[1]
    e = [0, 0, 0][1:]  # (a folded constant, sliced; then tuple assignment)
    e[0], e[1] = xs[0] * 0.5, xs[1]
    return b[0] * xs[1] + a[0] + c[1] + c[0] + d[2] + d[0] + e[0] * e[1]


HELPER_SCALE = 1.5


def _scaled_by_a_global(x):
    return HELPER_SCALE * x


def _reads_a_global_through_a_helper(x):
    return _scaled_by_a_global(x) * x


def test_copies_of_int_lists_hold_floats_and_a_helpers_global_is_watched():
    """Round 100: a list of int literals copied by a slice, a comprehension, reversed or
    a folded constant's slice kept int64 in numba and truncated the floats written into
    the copy (value and gradient); a module global read only by an inlined helper was
    compiled in and not watched."""
    global HELPER_SCALE
    xs = [0.7, -0.3]
    got = srcad.value_and_grad(_copied_int_lists, backend="numba")(xs)
    assert got[0] == _copied_int_lists(xs)
    np.testing.assert_allclose(got[1], srcad.grad(_copied_int_lists)(xs), rtol=1e-14)
    g = srcad.grad(_reads_a_global_through_a_helper, backend="numba")
    try:
        assert g(2.0) == 6.0
        HELPER_SCALE = -1.0
        assert g(2.0) == -4.0
    finally:
        HELPER_SCALE = 1.5


def _best_positive_square(xs):
    best = None
    for v in xs:
        if v > 0 and (best is None or v * v > best):
            best = v * v
    return best


def test_a_result_of_none_is_srcads_error_in_the_compiled_gradient():
    """Round 100: numba raised a bare ValueError (no line) where the result was None."""
    assert srcad.grad(_best_positive_square, backend="numba")([0.7, -0.3, 1.2])[2] == 2.4
    with pytest.raises(srcad.NonScalarOutputError, match="returned None"):
        srcad.grad(_best_positive_square, backend="numba")([-0.7, -0.3])


def _inverse_powers(x, xs, es):
    total = x**-1 + x**-2 + 1.7**-3 * x
    for v, e in zip(xs, es):
        total += v**e
    return total


def test_powers_to_negative_ints_have_pythons_value():
    """Python computes ``x ** -2`` with the C library's ``pow``; numba's ``**`` of an
    int exponent multiplies, which rounded differently: ``value_and_grad``'s value
    differed from ``f``'s in the last bits (round 100). The compiled listing calls
    ``math.pow`` with a float exponent; values bit for bit at 20 points."""
    rng = np.random.default_rng(100)
    es = [-1, -2, -3]
    for _ in range(20):
        x, xs = float(rng.uniform(0.3, 3.0)), [float(v) for v in rng.uniform(0.3, 3.0, 3)]
        value, grad = srcad.value_and_grad(_inverse_powers, wrt=(0, 1), backend="numba")(
            x, xs, es)
        assert value == _inverse_powers(x, xs, es)
        want = srcad.grad(_inverse_powers, wrt=(0, 1))(x, xs, es)
        np.testing.assert_allclose(grad[0], want[0], rtol=1e-14)
        np.testing.assert_allclose(grad[1], want[1], rtol=1e-14)
