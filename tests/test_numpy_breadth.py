"""numpy and Python forms realistic programs use that srcad refused before: scatters and
segments (``np.insert``, ``np.add.reduceat``, ``np.multiply.at``, ``np.put_along_axis``),
``.flat`` reads and writes, ``zip(*M)`` and ``*`` of tuples, list slice assignment,
``dict.setdefault(k, []).append(v)``, ``np.piecewise``, ``np.vectorize`` and
``np.apply_along_axis`` of the user's functions; and the plain refusal of numpy's FFTs.

Every gradient is checked four ways by ``conftest.check_four_ways`` (reverse mode against
central differences at rtol 1e-6, atol 1e-8; optimize on and off; ``jvp``; the value of
``value_and_grad``); repeated indices are included wherever an index may repeat. Each
refusal is checked to point at the user's line (``# <tag>`` markers).
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import srcad

sys.path.insert(0, os.path.dirname(__file__))
from conftest import assert_located, check_four_ways  # noqa: E402

RNG = np.random.default_rng(515)
V5 = RNG.standard_normal(5)
X34 = RNG.standard_normal((3, 4))


# ====================================================================== scatters, segments


def inserted_1d(x, v):
    y = np.insert(x, 2, v)
    return np.sum(y ** 2 * np.arange(1.0, y.size + 1.0))


def inserted_at_repeated_positions(x, v):
    y = np.insert(x, [1, 1, 4], v)  # (two at one position, v's items in order)
    return np.sum(np.sin(y) * np.arange(y.size))


def inserted_column(a, c):
    y = np.insert(a, 1, c, axis=1)  # (c broadcast down the new column)
    return np.sum(y * y[:, ::-1]) + np.sum(y[:, 1] ** 3)


def inserted_rows_of_a_scalar(a, s):
    y = np.insert(a, [0, 3], s, axis=0)
    return np.sum(np.tanh(y) * np.linspace(0.0, 1.0, y.size).reshape(y.shape))


@pytest.mark.parametrize("f, args", [
    (inserted_1d, (V5, 0.7)),
    (inserted_at_repeated_positions, (V5, np.array([0.3, -1.1, 2.0]))),
    (inserted_column, (X34, np.array([0.5, -0.2, 1.5]))),
    (inserted_rows_of_a_scalar, (X34, 0.25)),
])
def test_insert(f, args):
    check_four_ways(f, *args)


def segment_sums(x):
    starts = [0, 2, 3]
    return np.sum(np.add.reduceat(x, starts) ** 2 * np.arange(1.0, len(starts) + 1.0))


def segment_rows(a):
    # (a start not before the next one gives its one row, as numpy has it)
    sums = np.add.reduceat(a, [0, 2, 1], axis=0)
    return np.sum(np.sin(sums))


def segment_columns(a):
    return np.sum(np.add.reduceat(a, np.array([0, 1, 3]), axis=1) ** 3)


@pytest.mark.parametrize("f, args", [
    (segment_sums, (V5,)),
    (segment_rows, (X34,)),
    (segment_columns, (X34,)),
])
def test_add_reduceat(f, args):
    check_four_ways(f, *args)


def multiplied_at_positions(x, v):
    y = x.copy()
    np.multiply.at(y, np.array([0, 3, 3, 1, 3]), v)  # (position 3: three factors)
    return np.sum(y * np.arange(1.0, 6.0)) + np.sum(y ** 2)


def multiplied_at_a_scalar(x, s):
    y = x * 1.0
    np.multiply.at(y, [1, 1, 2], s)
    return np.sum(np.exp(y))


def multiplied_rows(a, v):
    np.multiply.at(a, (np.array([0, 2, 0]), slice(None)), v)  # (into the parameter's copy)
    return np.sum(a * a)


@pytest.mark.parametrize("f, args", [
    (multiplied_at_positions, (V5, np.array([1.5, -0.5, 2.0, 0.7, 1.2]))),
    (multiplied_at_a_scalar, (V5, 1.3)),
    (multiplied_rows, (X34, RNG.standard_normal(4))),
])
def test_multiply_at(f, args):
    check_four_ways(f, *args)


def test_multiply_at_with_zero_factors_is_exact():
    """A factor of 0 at a repeated position: each other factor's derivative is 0 there,
    and the zero factor's the product of the others (no division by it)."""
    v = np.array([0.0, 2.0, 3.0, 0.5])
    x = np.array([1.5, -2.0, 0.5])
    gx, gv = srcad.grad(multiplied_three, wrt=("x", "v"))(x, v)
    np.testing.assert_allclose(gv, [2.0 * 3.0 * -2.0, 0.0, 0.0, 2.0 * 1.5])
    np.testing.assert_allclose(gx, [0.5 * 2.0, 0.0, 0.0])
    check_four_ways(multiplied_three, x, v)


def multiplied_three(x, v):
    y = x.copy()
    np.multiply.at(y, [1, 1, 1, 0], v)
    return y[0] * 2.0 + y[1] + y[2] * 0.0


def put_along_rows(a, v):
    b = a.copy()
    np.put_along_axis(b, np.array([[0], [2], [3]]), v, axis=1)
    return np.sum(b ** 2 * np.arange(4.0))


def put_along_repeated(a, v):
    b = a * 1.0
    # (row 0 writes column 1 twice: the last write wins, as numpy's)
    np.put_along_axis(b, np.array([[1, 1], [0, 2], [3, 0]]), v, 1)
    return np.sum(np.sin(b))


def put_along_flat(a, v):
    b = np.zeros_like(a) + a
    np.put_along_axis(b, np.array([5, 0, 5]), v, axis=None)
    return np.sum(b ** 3)


def take_then_put(a):
    order = np.argsort(a, axis=1)
    low = np.take_along_axis(a, order[:, :2], axis=1)
    b = np.zeros_like(a)
    np.put_along_axis(b, order[:, :2], low * 2.0, axis=1)
    return np.sum(b ** 2) + np.sum(low)


@pytest.mark.parametrize("f, args", [
    (put_along_rows, (X34, np.array([[1.0], [2.0], [-0.5]]))),
    (put_along_repeated, (X34, RNG.standard_normal((3, 2)))),
    (put_along_flat, (X34, np.array([0.3, 0.4, 0.9]))),
    (take_then_put, (X34,)),
])
def test_put_along_axis(f, args):
    check_four_ways(f, *args)


def test_put_along_axis_last_write_wins():
    v = np.array([[5.0, 7.0], [1.0, 2.0], [3.0, 4.0]])
    _, gv = srcad.grad(put_along_repeated, wrt=("a", "v"))(X34, v)
    assert gv[0, 0] == 0.0 and gv[0, 1] == np.cos(7.0)


# ====================================================================== .flat


def ridge_on_the_flat_diagonal(A, lam):
    n = A.shape[1]
    G = A.T @ A
    G.flat[::n + 1] += lam  # (the diagonal of the n-by-n Gram matrix)
    w = np.linalg.solve(G, np.arange(1.0, n + 1.0))
    return np.sum(w ** 2)


def flat_reads(A):
    first = A.flat[0]
    last = A.flat[-1]
    some = A.T.flat[[1, 1, 4]]  # (C order of the transposed array; a position twice)
    every_other = A.flat[::2]
    return first * last + np.sum(some ** 2) + np.sum(np.sin(every_other))


def flat_writes(A, v):
    B = A.copy()
    B.flat[1] = v[0]
    B.flat[[2, 5, 2]] = v  # (position 2 twice: the last write wins)
    B.flat[6:] = v[:2]  # (two values repeated over the six items)
    return np.sum(B ** 2 * np.arange(B.size).reshape(B.shape))


def flat_write_through_a_view(A, s):
    B = A.copy()
    left = B[:, :2]
    left.flat[3] = s * 2.0  # (B[1, 1])
    left.flat[::3] *= s
    return np.sum(np.cos(B))


@pytest.mark.parametrize("f, args", [
    (ridge_on_the_flat_diagonal, (X34, 0.3)),
    (flat_reads, (X34,)),
    (flat_writes, (X34, np.array([0.5, -1.5, 2.5]))),
    (flat_write_through_a_view, (X34, 1.7)),
])
def test_flat(f, args):
    check_four_ways(f, *args)


# ====================================================================== zip(*M), f(*params)


def columns_of_a_list_of_lists(M):
    T = [list(col) for col in zip(*M)]
    return sum(T[0][i] * T[1][i] ** 2 for i in range(len(T[0]))) + sum(T[2])


def columns_of_an_array(A):
    s = 0.0
    for a, b, c in zip(*A):  # (three rows: each column a triple)
        s += a * b - c ** 2
    return s


def ragged_rows_cut_to_the_shortest(M):
    return sum(sum(col) ** 2 for col in zip(*M))


def transposed_twice(M):
    T = list(zip(*M))
    back = list(zip(*T))
    return sum(back[1][j] * M[0][j] for j in range(len(M[0])))


@pytest.mark.parametrize("f, args", [
    (columns_of_a_list_of_lists, ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],)),
    (columns_of_an_array, (X34[:, :3].copy(),)),
    (transposed_twice, ([[1.0, -2.0], [0.5, 3.0]],)),
])
def test_zip_of_rows(f, args):
    check_four_ways(f, *args)


def _scaled_distance(a, b, scale):
    return scale * ((a - b) ** 2)


def test_zip_of_ragged_rows_stops_at_the_shortest():
    (dM,) = check_grad_exactly(ragged_rows_cut_to_the_shortest, [[1.0, 2.0, 3.0], [4.0, 5.0]])
    assert dM == [[10.0, 14.0, 0.0], [10.0, 14.0]]


def check_grad_exactly(f, *args):
    """srcad's gradient (every parameter) where central differences cannot be taken
    (ragged lists), with its value checked."""
    value, grads = srcad.value_and_grad(f, wrt=tuple(range(len(args))))(*args)
    assert value == f(*args)
    return grads if isinstance(grads, tuple) else (grads,)


def spread_parameters(params, x):
    return _scaled_distance(*params, x) + _scaled_distance(x, *params[:2])


def spread_into_a_nested_def(p):
    def area(w, h):
        return w * h

    return area(*p) + np.stack([*p, p[0]]).sum()


@pytest.mark.parametrize("f, args", [
    (spread_parameters, ((1.5, -0.5), 2.0)),
    (spread_into_a_nested_def, ((1.5, 2.5),)),
])
def test_star_of_a_run_time_tuple(f, args):
    check_four_ways(f, *args)


def test_star_of_a_tuple_of_another_length_is_refused():
    with pytest.raises(TypeError, match=r"`\*params` does not hold the 2 arguments"):
        srcad.grad(spread_parameters)((1.5, -0.5, 3.0), 2.0)


# ====================================================================== Fourier transforms


def power_spectrum(x):
    return np.sum(np.abs(np.fft.rfft(x)) ** 2)  # <rfft>


def filtered_round_trip(x):
    kept = np.fft.fft(x)[:3]
    return np.sum(np.real(np.fft.ifft(kept)) ** 2)  # <ifft>


def smoothed_by_irfft(x):
    return np.sum(np.fft.irfft(x) * x)  # <irfft>


@pytest.mark.parametrize("f, tag", [
    (power_spectrum, "rfft"), (filtered_round_trip, "ifft"), (smoothed_by_irfft, "irfft"),
])
def test_fourier_transforms_are_refused_as_complex(f, tag):
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(f)(np.array([0.5, -1.0, 2.0, 0.25]))
    assert_located(info.value, __file__, tag)
    assert "complex values are not supported" in info.value.message


# ====================================================================== lists and dicts


def list_slices_written(x, y):
    xs = [1.0, 2.0, 3.0, 4.0, 5.0]
    xs[1:3] = [x, y]
    xs[4:2] = [x * y]  # (stop before start: inserted at 4, as Python does)
    xs[-2:] = (y,)
    xs[:1] = np.array([y, 2.0 * x])
    return sum(v * (i + 1.0) for i, v in enumerate(xs))


def list_slice_of_a_list_made_by_appends(ws):
    path = []
    for w in ws:
        path.append(w * w)
    path[1:] = [p + 1.0 for p in path[1:]]
    return sum(path) * path[0]


@pytest.mark.parametrize("f, args", [
    (list_slices_written, (1.5, -0.5)),
    (list_slice_of_a_list_made_by_appends, (np.array([0.5, 1.5, -2.0]),)),
])
def test_list_slice_assignment(f, args):
    check_four_ways(f, *args)


def aliased_list_slice(x):
    xs = [x, x, x]
    ys = xs
    xs[0:1] = [2.0]  # <aliased slice>
    return sum(ys)


def test_a_list_slice_written_while_another_name_holds_the_list_is_refused():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(aliased_list_slice)(1.0)
    assert_located(info.value, __file__, "aliased slice")


def grouped_means(x, labels):
    groups = {}
    for i in range(len(labels)):
        groups.setdefault(labels[i], []).append(x[i])
    groups.setdefault(9, []).extend([x[0], x[1]])
    return sum(np.mean(v) ** 2 for v in groups.values()) + len(groups["b"])


def grouped_with_a_list_held_meanwhile(x):
    groups = {}
    first = groups.setdefault("a", [])
    for v in x:
        groups.setdefault("a", []).append(v)  # <held list>
    return sum(first)


def test_setdefault_append_of_a_dict_made_inside():
    check_four_ways(grouped_means, np.array([0.5, -1.5, 2.0, 0.25]), ["a", "b", "a", "b"],
                    wrt="x")


def test_setdefault_append_while_a_name_holds_a_list_is_refused():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(grouped_with_a_list_held_meanwhile)(np.array([0.5, 1.5]))
    assert_located(info.value, __file__, "held list")
    assert "setdefault" in info.value.message


# ====================================================================== piecewise, vectorize


def _quadratic_tail(t):
    return 0.5 * t * t


def huber_by_piecewise(r, delta):
    a = np.abs(r)
    return np.sum(np.piecewise(r, [a <= delta, a > delta],
                               [_quadratic_tail, lambda t: delta * (np.abs(t) - 0.5 * delta)]))


def tax_by_piecewise(income):
    # (brackets overlapping on purpose: a later condition wins, as numpy's)
    tax = np.piecewise(income, [income < 10.0, income >= 10.0, income >= 40.0],
                       [0.0, lambda t: 0.2 * (t - 10.0), lambda t: 6.0 + 0.4 * (t - 40.0)])
    return np.sum(tax * np.linspace(1.0, 2.0, income.size))


def piecewise_with_otherwise(x):
    return np.sum(np.piecewise(x, [x < -1.0], [lambda t: -t, np.sin]) ** 2)


def _soft_clip(v):
    return v / (1.0 + abs(v))


def vectorized_helper(x):
    return np.sum(np.vectorize(_soft_clip)(x) * np.arange(1.0, x.size + 1.0).reshape(x.shape))


def vectorized_lambda(x, k):
    return np.sum(np.vectorize(lambda v: v * v * k)(x))


def row_norms_along_axis(A):
    return np.sum(np.apply_along_axis(np.linalg.norm, 1, A) ** 3)


def _normalized(lane):
    return lane / np.sum(lane ** 2)


def column_profiles_along_axis(A):
    P = np.apply_along_axis(_normalized, 0, A)  # (each column: numpy keeps A's shape)
    return np.sum(P * np.arange(A.size).reshape(A.shape))


@pytest.mark.parametrize("f, args", [
    (huber_by_piecewise, (np.array([-2.5, -0.3, 0.4, 1.7]), 1.0)),
    (tax_by_piecewise, (np.array([5.0, 12.0, 33.0, 41.0, 55.0]),)),
    (piecewise_with_otherwise, (np.array([-2.0, -0.5, 0.3, 1.2]),)),
    (vectorized_helper, (X34,)),
    (vectorized_lambda, (V5, 1.5)),
    (row_norms_along_axis, (X34,)),
    (column_profiles_along_axis, (X34,)),
])
def test_piecewise_vectorize_apply_along_axis(f, args):
    check_four_ways(f, *args)


def _damped(a, b):
    return a * np.sin(b) if a > 0 else a * b


def vectorized_of_two_broadcast(A, b):
    return np.sum(np.vectorize(_damped)(A, b[:, None]) ** 2) + np.sum(
        np.vectorize(lambda u, v: u * v + np.exp(-u))(A[0], 2.0)
    )


def vectorized_by_name(x, y, k):
    vf = np.vectorize(_soft_clip, otypes=[float])
    scaled = np.vectorize(lambda v: v * v * k)
    out = 0.0
    for j in range(2):
        out = out + np.sum(vf(x * (j + 1)) * scaled(y))
    return out


def vectorized_with_a_signature(x):
    vf = np.vectorize(_soft_clip, signature="()->()")
    return np.sum(vf(x))  # <vectorize-signature>


def test_vectorize_of_several_arguments_and_by_name():
    check_four_ways(vectorized_of_two_broadcast, X34[:2, :3], np.array([0.4, -1.2]))
    check_four_ways(vectorized_by_name, V5, V5[::-1], 1.5, wrt=("x", "y"))
    with pytest.raises(srcad.SrcadError, match="in a form srcad does not read") as info:
        srcad.grad(vectorized_with_a_signature)(V5)
    assert_located(info.value, __file__, "vectorize-signature")
    assert "t1" not in str(info.value)


def along_axis_of_a_vector(x):
    return np.sum(np.apply_along_axis(np.cumsum, 0, x) ** 2) * np.apply_along_axis(np.sum, -1, x)


def along_axis_of_3_axes(T):
    return np.sum(np.apply_along_axis(np.sum, 1, T))  # <3 axes>


def test_apply_along_axis_of_a_vector():
    check_four_ways(along_axis_of_a_vector, V5)


def test_apply_along_axis_beyond_two_axes_is_refused_at_the_line():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(along_axis_of_3_axes)(np.ones((2, 2, 2)))
    assert_located(info.value, __file__, "3 axes")


def loops_over_flat(A):
    s = 0.0
    for v in A.flat:  # <flat loop>
        s += v * v
    return s


def test_a_loop_over_flat_is_refused_at_the_line():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(loops_over_flat)(X34)
    assert_located(info.value, __file__, "flat loop")
    assert "A.ravel()" in info.value.hint


def _weighted_by_flat_position(A):
    return sum(i * v * v for i, v in enumerate(A.flat))


def test_a_flat_iterator_as_a_value_is_refused_at_its_line():
    """(Round 89: `enumerate(A.flat)`, `zip(A.flat, ...)` read `.flat` as a field of the
    parameter: TypeError in the generated code.)"""
    with pytest.raises(srcad.SrcadError, match="flat iterator") as info:
        srcad.grad(_weighted_by_flat_position)(np.ones((2, 3)))
    assert info.value.lineno == _weighted_by_flat_position.__code__.co_firstlineno + 1
    assert "ravel()" in info.value.hint
