"""numpy's semantics exactly, where srcad gave silently wrong gradients or crashed
(found by an adversarial round of realistic programs, stop 26). Each case is checked
four ways (central differences, optimised vs not, forward vs reverse, value_and_grad's
value against f), on values away from kinks.

- a slice with a start and no end beside an index list (``b[1:, [0, 3]]``): the
  backward pass wrote it as ``slice(1)``, which is ``:1``;
- conversions to an integer type (``x.astype(int)``, ``np.asarray(x, dtype=int)``,
  ``np.int64(x)``) are piecewise constant: no gradient, in both modes;
- ``np.dot``, ``np.inner`` and ``np.outer`` of any number of axes (their rules were
  matmul's, and ``np.outer``'s gradient came back flattened);
- 0-d arrays: an alias of ``np.array(0.0)`` sees ``acc += v``; ``acc[...] = v`` and
  ``acc[()] = v`` (whose adjoint may come as a number, from ``float(acc)``);
- a differentiated value written into an array of integers is truncated: refused at the
  user's line (checked once where the array is made), in both modes;
- forward mode: the tangent of ``A = x * 1.0`` is ``x``'s (folded), and a write through
  a view of ``A`` inside an ``if`` or loop (``A_dot[1:] = r_dot``) was dropped, because
  copy propagation did not count an item update inside a block as a write.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import check_four_ways, marker_line

import srcad

# ---------------------------------------------------------------- open slices with index lists


def open_slice_write(a):
    b = a.copy()
    b[1:, [0, 3]] = np.sin(a[1:, [1, 2]])
    return np.sum(b**2)


def open_slice_update(a):
    b = a.copy()
    b[1:, [0, 3]] *= 2.0
    return np.sum(b**2)


def open_slice_read(a):
    return np.sum(a[1:, [0, 3]] ** 2) + np.sum(a[:2, [1]] * a[::2, [2]])


def boundary_condition(u0):  # a PDE's boundary copied from the next column, each step
    u = np.tile(u0, (4, 1))
    for t in range(1, 4):
        u[t, 1:-1] = u[t - 1, 1:-1] + 0.1 * (u[t - 1, :-2] - 2 * u[t - 1, 1:-1] + u[t - 1, 2:])
        u[1:, [0, -1]] = u[1:, [1, -2]]
    return np.sum(u[-1] ** 2)


@pytest.mark.parametrize(
    "f", [open_slice_write, open_slice_update, open_slice_read], ids=lambda f: f.__name__
)
def test_slices_open_at_the_end_beside_index_lists(f):
    a = np.arange(1.0, 13.0).reshape(3, 4) / 5.0
    check_four_ways(f, a)


def test_a_boundary_condition_written_through_an_open_slice():
    check_four_ways(boundary_condition, np.array([0.3, 1.1, -0.4, 0.8, 0.2]))


def test_slices_are_emitted_as_numpy_reads_them():
    from srcad import emit, ir

    cases = {
        ir.Slice(ir.Const(1), None, None): "slice(1, None)",
        ir.Slice(None, ir.Const(1), None): "slice(None, 1)",
        ir.Slice(None, None, ir.Const(2)): "slice(None, None, 2)",
        ir.Slice(None, None, None): "slice(None)",
    }
    for made, text in cases.items():
        assert emit.expression(made) == text
        assert eval(text) == slice(  # noqa: S307 - our own text
            *(p.value if p is not None else None for p in (made.lower, made.upper, made.step))
        )


# ---------------------------------------------------------------- conversions to integers

YS = np.array([0.0, 1.0, 0.5, 2.0, 1.5, 0.7])


def grid_interpolation(x):  # uniform-grid linear interpolation: the cell by truncation
    u = x / 0.5
    i = u.astype(int)
    t = u - i
    return np.sum((1 - t) * YS[i] + t * YS[i + 1])


def grid_interpolation_asarray(x):
    u = x / 0.5
    i = np.asarray(u, dtype=np.int64)
    t = u - i
    return np.sum((1 - t) * YS[i] + t * YS[i + 1])


def truncations(x):
    whole = np.array(x * 3.0, dtype=int) + np.trunc(x) + np.fix(x * 2.0)
    return np.sum(np.sin(x) * whole) + np.int64(3.7 * x[0]) + x.astype(bool).sum()


@pytest.mark.parametrize(
    "f", [grid_interpolation, grid_interpolation_asarray, truncations], ids=lambda f: f.__name__
)
def test_conversions_to_integers_have_no_derivative(f):
    x = np.array([0.8, 1.3, 0.2])
    check_four_ways(f, x)


def test_the_cell_index_of_an_interpolation_gets_no_gradient():
    """The slope of the interpolant, not the slope plus the truncated index's share."""
    assert srcad.grad(grid_interpolation)(np.array([0.8]))[0] == pytest.approx(-1.0)


# ---------------------------------------------------------------- dot, inner, outer

SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)), ((4, 2, 3), (3,)),
          ((4, 2, 3), (5, 3, 2)), ((), (2, 3)), ((2, 3), ())]


def dot(x, y):
    return np.sum(np.sin(np.dot(x, y)))


def dot_method(x, y):
    return np.sum(np.sin(x.dot(y)))


def inner(x, y):
    return np.sum(np.sin(np.inner(x, y)))


def outer(x, y):
    return np.sum(np.sin(np.outer(x, y)))


def _operand(shape, seed):
    value = np.random.default_rng(seed).normal(size=shape)
    return value if shape else np.float64(value)


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("f", [dot, dot_method, inner, outer], ids=lambda f: f.__name__)
def test_dot_inner_and_outer_of_any_number_of_axes(f, shapes):
    x_shape, y_shape = shapes
    if f is inner and x_shape and y_shape:  # inner sums the last axes of both
        y_shape = (*y_shape[:-1], x_shape[-1])
    if f is dot_method and not x_shape:
        x_shape = (1,) + x_shape  # (a number has no .dot)
        if y_shape and len(y_shape) > 1:
            y_shape = (1, *y_shape[1:])
        elif y_shape:
            y_shape = (1,)
    x, y = _operand(x_shape, 1), _operand(y_shape, 2)
    gx, gy = check_four_ways(f, x, y)
    assert np.shape(gx) == np.shape(x) and np.shape(gy) == np.shape(y)


# ---------------------------------------------------------------- 0-d arrays


def zero_d_alias(x):
    acc = np.array(0.0)
    snap = acc  # the same 0-d array
    acc += x**2  # in place: snap sees it
    return float(snap)


def zero_d_item_write(x):
    acc = np.array(0.0)
    acc[...] = x**2
    return float(acc) * 3.0


def zero_d_accumulator(x):
    acc = np.zeros(())
    for k in range(3):
        acc[()] = acc[()] + x * k
    return float(acc)


def zero_d_product(x):
    acc = np.array(1.0)
    first = acc
    for k in range(3):
        acc *= x + k
    return float(first) + acc.item()


@pytest.mark.parametrize(
    "f",
    [zero_d_alias, zero_d_item_write, zero_d_accumulator, zero_d_product],
    ids=lambda f: f.__name__,
)
@pytest.mark.parametrize("kind", [float, np.float64, np.array], ids=["float", "float64", "0-d"])
def test_zero_dimensional_arrays(f, kind):
    check_four_ways(f, kind(0.7))


# ---------------------------------------------------------------- copies written through views


def copy_by_arithmetic_then_view_write(x):
    A = x * 1.0  # a new array (its tangent, folded, is x's own)
    r = A[1:]  # a view of A
    r *= 5.0  # changes A
    return np.sum(A)


def copy_written_in_a_loop(x):
    A = 1.0 * x
    for k in range(2):
        row = A[k:]
        row += x[: len(x) - k] * 0.5
    return np.sum(A**2)


@pytest.mark.parametrize(
    "f", [copy_by_arithmetic_then_view_write, copy_written_in_a_loop], ids=lambda f: f.__name__
)
def test_copies_made_by_arithmetic_then_written_through_a_view(f):
    x = np.array([0.5, 1.0, 1.5, 2.0])
    check_four_ways(f, x)
    tangent = np.ones(4)
    before = tangent.copy()
    srcad.jvp(f, (x,), (tangent,))
    np.testing.assert_array_equal(tangent, before)  # (the caller's tangent is not written)


# ---------------------------------------------------------------- np.ptp, np.cross


def ranges(x):
    m = x.reshape(2, 3)
    by_rows = np.sum(np.ptp(m, axis=1, keepdims=True))
    return np.ptp(x) * 2.0 + np.sum(np.ptp(m, axis=0) ** 2) + by_rows


def torques(r, f):  # r x F summed over bodies, and a planar cross product
    return np.sum(np.cross(r, f) ** 2) + np.sum(np.cross(r[:, :2], f[:, :2]))


def test_range_of_values():
    check_four_ways(ranges, np.array([0.4, 1.1, 0.7, -0.3, 2.0, 0.9]))


@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")
def test_cross_products_of_3_and_2_vectors():
    rng = np.random.default_rng(5)
    check_four_ways(torques, rng.normal(size=(4, 3)), rng.normal(size=(4, 3)))


def test_a_refusal_inside_a_library_calling_another_file_names_the_users_line():
    """A library function that calls a third file's function srcad cannot differentiate
    (np.ptp did, before its rule): the error names the user's call first, not the
    library's inner call."""
    from library_paths import layered_energy

    def f(x):
        return np.sum(layered_energy(x)) * 2.0

    with pytest.raises(srcad.SrcadError) as caught:
        srcad.grad(f)(np.array([0.4, 1.1, 0.7]))
    assert caught.value.filename == __file__
    assert caught.value.lineno == f.__code__.co_firstlineno + 1


# ---------------------------------------------------------------- writes into integer arrays


def integer_buffer(w):
    out = np.zeros(3, dtype=int)
    out[1] = w * 10.0  # (truncated)
    return float(out[1]) + w


def counts_passed_in(w, counts):
    counts[0] = w * 2.0
    return float(np.sum(counts)) + w


def float_buffer(w):
    out = np.zeros(3)
    out[1] = w * 10.0
    return float(out[1]) + w


@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_a_differentiated_value_written_into_integers_is_refused_at_its_line(mode):
    cases = ((integer_buffer, (0.37,), 2), (counts_passed_in, (0.37, np.zeros(2, int)), 1))
    for f, args, line in cases:
        with pytest.raises(srcad.SrcadError, match="holds integers") as caught:
            if mode == "grad":
                srcad.grad(f)(*args)
            else:
                srcad.jvp(f, args, (1.0, *(np.zeros(np.shape(a)) for a in args[1:])))
        assert caught.value.filename == __file__
        assert caught.value.lineno == f.__code__.co_firstlineno + line


def test_arrays_of_floats_are_written_as_before():
    check_four_ways(float_buffer, 0.37)
    check_four_ways(counts_passed_in, 0.37, np.zeros(2))
    assert "require_float_items" not in srcad.grad(float_buffer).backward_source  # (np.zeros)


# ---------------------------------------------------------------- more of numpy and math

WEIGHTS = np.random.default_rng(11).normal(size=(3, 5, 4))


def elementwise_more(x):
    return np.sum(np.exp2(x) + np.reciprocal(x + 2.0) + np.fabs(x)
                  + np.deg2rad(x) * np.rad2deg(x) + np.degrees(x) + np.radians(x))


def extremes_and_remainders(x):
    return np.sum(np.fmax(x, 0.5 * x[::-1]) + np.fmin(x, 0.2) + np.logaddexp2(x, 1.0)
                  + np.mod(x + 5.0, 1.3 + x[0]) + np.fmod(x, 0.7 + x[1] * 0.1)
                  + np.copysign(x, x[::-1]) * x + np.heaviside(x, 0.5) * x)


def math_more(x):
    return (math.radians(x) * math.degrees(x) + math.fabs(x - 2.0) + math.copysign(x, -1.0)
            + math.log(x, 3.0) + math.log(5.0, x + 1.0))


def medians(x):
    by_lane = np.sum(np.median(x, axis=1) * WEIGHTS[:, 0, :])
    kept = np.sum(np.median(x, axis=2, keepdims=True) * WEIGHTS[:, :, :1])
    return np.median(x) * 2.0 + by_lane + kept


def quantiles(x):
    several = np.sum(np.percentile(x, [10.0, 50.0, 90.0], axis=0) * WEIGHTS[:3])
    kept = np.sum(np.quantile(x, [0.25, 0.75], axis=1, keepdims=True) ** 2)
    return np.percentile(x, 30.0) + several + kept


def quantiles_over_several_axes(x):
    """(Round 87: a tuple of axes crashed in srcad's adjoint, np.moveaxis.)"""
    lanes = np.sum(np.median(x, axis=(2, 0)) * WEIGHTS[0, :, 0])
    kept = np.sum(np.quantile(x, [0.2, 0.7], axis=(0, -1), keepdims=True) ** 2)
    return lanes + kept + np.sum(np.nanpercentile(x, 30.0, axis=(0, 1)) ** 2)


def quantile_level(q, data):
    return np.quantile(data, q) * 3.0 + np.percentile(data, 100.0 * q)


@pytest.mark.parametrize("f", [elementwise_more, extremes_and_remainders],
                         ids=lambda f: f.__name__)
def test_more_elementwise_functions(f):
    check_four_ways(f, np.array([0.3, 1.7, -0.8]))


def test_more_math_functions():
    check_four_ways(math_more, 1.3)


@pytest.mark.parametrize("f", [medians, quantiles, quantiles_over_several_axes],
                         ids=lambda f: f.__name__)
def test_medians_and_quantiles(f):
    check_four_ways(f, np.random.default_rng(3).normal(size=(3, 5, 4)))


def test_the_level_of_a_quantile():
    check_four_ways(quantile_level, 0.37, np.array([0.3, 1.7, -0.8, 2.2, 0.1]), wrt="q")


#: numpy's quantile methods (all 13): continuous ones interpolate, stepped ones pick
QUANTILE_METHODS = (
    "linear", "hazen", "weibull", "median_unbiased", "normal_unbiased",
    "interpolated_inverted_cdf", "lower", "higher", "nearest", "midpoint", "inverted_cdf",
    "averaged_inverted_cdf", "closest_observation",
)


def quantiles_by_method(x, q, method):
    by_rows = np.sum(np.quantile(x, q, axis=1, method=method) ** 2)
    with_nans = np.where(np.arange(x.size).reshape(x.shape) % 5 == 3, np.nan, x)
    return by_rows + np.percentile(x, 37.0, method=method) + np.sum(
        np.nanquantile(with_nans, [0.02, 0.5, 0.97], axis=1, method=method) ** 2
    )


@pytest.mark.parametrize("method", QUANTILE_METHODS)
def test_quantiles_by_every_method(method):
    """Every method numpy has (round 90: only 'linear' was differentiated, the most
    common refusal of the round): in x, and in q (a stepped method's quantile is flat in
    q between its steps), with NaNs left out lane by lane, and levels near 0 and 1 that
    a continuous method clips to the first or last item."""
    x = np.random.default_rng(4).normal(size=(3, 7))
    check_four_ways(quantiles_by_method, x, np.array([0.31, 0.77]), method, wrt=("x", "q"))


# ---------------------------------------------------------------- lists held by a name as indexes


def list_index_by_name(a):
    idx = [0, 2]
    return np.sum(a[idx] ** 2)


def mask_list_by_name(a):
    m = [True, False, True]
    return np.sum(a[m] ** 2)


def mask_list_write(x, a):
    u = x.copy()
    m = [True, False, True, False, True]
    u[m] = a * u[m] ** 2
    return np.sum(u**2 * np.arange(1.0, 6.0))


@pytest.mark.parametrize("f", [list_index_by_name, mask_list_by_name], ids=lambda f: f.__name__)
def test_a_list_held_by_a_name_indexes_as_a_list(f):
    """numpy indexes by a list (rows, or a mask) and by a tuple (one item) differently:
    the listing wrote ``a[0, 2]`` for ``idx = [0, 2]; a[idx]``."""
    check_four_ways(f, np.arange(9.0).reshape(3, 3) / 4)


def test_a_mask_list_held_by_a_name_writes_as_a_mask():
    check_four_ways(mask_list_write, np.linspace(0.5, 1.5, 5), 0.7)


def flat_item_updated(a0, c):
    a = a0.copy()
    a.flat[4] = c * a.flat[4] + 1.0
    return np.sum(a**2)


def test_a_write_through_flat():
    check_four_ways(flat_item_updated, np.arange(9.0).reshape(3, 3) / 10, 0.5)


# ---------------------------------------------------------------- views made by methods and calls

KERNEL_WEIGHTS = np.arange(9.0).reshape(3, 3) - 4


def write_through_view_method(a0, a):
    k = np.tanh(a0)
    b = k.view()  # the same memory
    b[0, 2] = a * b[0, 1]
    return np.sum(k**2 * KERNEL_WEIGHTS)


def write_through_astype_without_copy(a0, a):
    k = np.tanh(a0)
    b = k.astype(np.float64, copy=False)  # k itself
    b[0, 2] = a * b[0, 1]
    return np.sum(k**2 * KERNEL_WEIGHTS)


def write_through_astype_copy(a0, a):
    k = np.tanh(a0)
    b = k.astype(np.float64)  # a new array (copy=True)
    b[0, 2] = a * b[0, 1]
    return np.sum(k**2 * KERNEL_WEIGHTS) + np.sum(b)


@pytest.mark.parametrize(
    "f",
    [write_through_view_method, write_through_astype_without_copy, write_through_astype_copy],
    ids=lambda f: f.__name__,
)
def test_writes_through_arrays_a_method_returns(f):
    a0 = np.random.default_rng(707).standard_normal((3, 3))
    check_four_ways(f, a0, 0.3)


def test_a_write_into_a_view_einsum_returns_is_refused_at_its_line():
    def f(x, noise):
        k = np.exp(-((x[:, None] - x[None, :]) ** 2))
        d = np.einsum("ii->i", k)  # a view of k's diagonal
        d += noise
        return np.linalg.slogdet(k)[1]

    with pytest.raises(srcad.SrcadError, match="overlaps another variable") as caught:
        srcad.grad(f, wrt="noise")(np.linspace(0.0, 1.0, 3), 0.2)
    assert caught.value.filename == __file__
    assert caught.value.lineno == f.__code__.co_firstlineno + 3


def taken(e, ids):
    rows = np.take(e, ids, axis=0)  # an embedding lookup (a repeated id adds twice)
    flat = e.take([0, 5, 5])
    cols = np.take(e, [1, -1], axis=-1)
    return np.sum(np.tanh(rows) ** 2) + np.sum(flat * 2.0) + np.sum(cols**3)


def test_items_taken_by_position():
    e = np.random.default_rng(4).normal(size=(4, 3))
    check_four_ways(taken, e, np.array([2, 0, 2, 3]), wrt="e")


# ---------------------------------------------------------------- np.where masks of any kind

OFF_DIAGONAL = ~np.eye(3, dtype=bool)


def pair_energy_eye_mask(x):
    r = np.sqrt((x[:, None] - x[None, :]) ** 2)  # 0 on the diagonal: sqrt' is infinite
    return np.sum(np.where(np.eye(3, dtype=bool), 0.0, 1.0 / (r + 1.0)))


def pair_energy_global_mask(x):
    r = np.sqrt((x[:, None] - x[None, :]) ** 2)
    return np.sum(np.where(OFF_DIAGONAL, np.log(r + 1e-300) * r, 0.0))


def pair_energy_given_mask(x, keep):
    r = np.sqrt((x[:, None] - x[None, :]) ** 2)
    return np.sum(np.where(keep, r**1.5, 0.0))


@pytest.mark.parametrize("f", [pair_energy_eye_mask, pair_energy_global_mask],
                         ids=lambda f: f.__name__)
def test_a_where_mask_of_any_kind_gives_the_side_not_picked_zero_gradient(f):
    """The diagonal of the distances is 0, where sqrt's derivative is infinite: the side
    np.where does not pick there must get exactly zero (it was nan for masks that are not
    comparisons: np.eye(n, dtype=bool), a global)."""
    x = np.array([0.3, 1.1, -0.4])
    check_four_ways(f, x)
    assert np.all(np.isfinite(srcad.hessian(f)(x)))


def test_a_where_mask_given_as_a_parameter():
    check_four_ways(pair_energy_given_mask, np.array([0.3, 1.1, -0.4]), OFF_DIAGONAL, wrt="x")


# ---------------------------------------------------------------- round 6: clip, joins, pad, types


def clipped_sum(x, low, high):
    return np.sum(np.clip(x, low, high) ** 2)


def test_clip_with_a_low_bound_above_the_high_one_follows_numpy():
    """np.clip is minimum(maximum(x, low), high): where low > high the result is high,
    and only high gets the gradient (both bounds got it)."""
    x = np.array([0.3, 1.2, -0.7])
    gx, glow, ghigh = srcad.grad(clipped_sum, wrt=(0, 1, 2))(x, 0.5, 0.2)
    np.testing.assert_array_equal(gx, 0.0)
    assert glow == 0.0 and ghigh == pytest.approx(3 * 2 * 0.2)
    check_four_ways(clipped_sum, x, -0.5, 0.9)


def flattened_join(a, b):
    return np.sum(np.concatenate([a, b], axis=None) * np.arange(1.0, 11.0))


def test_concatenate_without_an_axis_flattens():
    rng = np.random.default_rng(2)
    check_four_ways(flattened_join, rng.normal(size=(2, 3)), rng.normal(size=(4,)))


def padded_by_statistic(x):
    return np.sum(np.pad(x, 1, mode="mean") ** 2)


def test_a_pad_mode_srcad_cannot_follow_is_refused_at_the_line_when_it_runs():
    with pytest.raises(srcad.SrcadError, match="not 'mean'") as caught:
        srcad.grad(padded_by_statistic)(np.arange(6.0).reshape(2, 3))
    assert caught.value.filename == __file__
    assert caught.value.lineno == padded_by_statistic.__code__.co_firstlineno + 1


def pair_loss(params, scale):
    w, b = params
    return np.sum((w * scale + b) ** 2)


def test_the_gradient_of_a_tuple_or_list_parameter_is_a_tuple_or_list():
    w = np.array([0.3, -0.4])
    g = srcad.grad(pair_loss)((w, 0.5), 2.0)
    assert type(g) is tuple and len(g) == 2
    g = srcad.grad(pair_loss)([w, 0.5], 2.0)
    assert type(g) is list
    np.testing.assert_allclose(g[0], 2 * (w * 2.0 + 0.5) * 2.0)


def test_vjp_refuses_a_cotangent_of_another_shape():
    _, vjp_fn = srcad.vjp(lambda_free_square, np.array([0.3, 0.4]))
    with pytest.raises(ValueError, match="cotangent has shape"):
        vjp_fn(np.ones((2, 1)))


def lambda_free_square(x):
    return x * x


def remainder_broadcast(x, y):
    return np.sum((x % y) * y)


def test_a_remainder_of_a_number_by_an_array_sums_back_to_the_number():
    check_four_ways(remainder_broadcast, 5.3, np.array([1.7, 2.2, 3.1]))


MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((4, 2, 3), (3,)),  # a stack of matrices times a vector
    ((3,), (4, 3, 2)),  # a vector times a stack of matrices
    ((4, 2, 3), (3, 5)),
    ((2, 3), (4, 3, 5)),
    ((4, 2, 3), (4, 3, 5)),
    ((2, 1, 2, 3), (4, 3, 2)),  # stacks that broadcast
]


@pytest.mark.parametrize("x_shape, y_shape", MATMUL_SHAPES, ids=str)
def test_matmul_of_every_rank_follows_numpy(x_shape, y_shape):
    """numpy's ``@``: a 1-D operand is a vector (promoted, then its axis dropped), stacks
    of matrices broadcast; the gradient of each operand has the operand's shape."""
    rng = np.random.default_rng(len(x_shape) * 10 + len(y_shape))
    x, y = rng.standard_normal(x_shape), rng.standard_normal(y_shape)

    def product_energy(x, y):
        return np.sum(np.sin(x @ y) ** 2)

    dx, dy = check_four_ways(product_energy, x, y)
    assert dx.shape == x.shape and dy.shape == y.shape


def safe_ratio(x, b):
    return np.sum(np.divide(x, b, out=np.zeros_like(x), where=b != 0) ** 2)


def safe_log_in_place(x):
    logs = np.zeros_like(x)
    np.log(x, out=logs, where=x > 0.7)
    return np.sum(logs * x)


def masked_sums(x):
    kept = x > 0.7
    return np.sum(x ** 2, where=kept) + np.mean(x ** 3, where=kept) + np.prod(x, where=kept)


def capped_extrema(x):
    capped = np.max(x, where=x < 1.3, initial=0.0)
    return np.max(x, initial=1.2) + np.min(x * x, initial=0.6) + capped


def kron_and_columns(x):
    return np.sum(np.kron(x[:2], x[2:]) ** 2) + np.sum(np.column_stack([x, x * 2.0]) ** 2)


@pytest.mark.parametrize(
    "f, args",
    [
        (safe_ratio, (np.array([0.5, 1.0, 1.5, 2.0]), np.array([1.0, 0.0, 2.0, 0.5]))),
        (safe_log_in_place, (np.array([0.5, 1.0, 1.5, 0.2]),)),
        (masked_sums, (np.array([0.5, 1.0, 1.5, 0.9]),)),
        (capped_extrema, (np.array([0.5, 1.0, 1.5, 0.9]),)),
        (capped_extrema, (np.array([0.5, 1.0, 1.1, 0.9]),)),  # (initial wins the max)
        (kron_and_columns, (np.array([0.5, 1.0, 1.5, 0.9]),)),
    ],
    ids=["divide-where-out", "log-where-out-named", "where-reductions", "initial",
         "initial-wins", "kron-column_stack"],
)
def test_numpy_keyword_options_are_the_operations_they_stand_for(f, args):
    """``where=``/``out=`` of a ufunc, ``where=`` of a reduction, ``initial=`` of max and
    min, and the layout options numpy's own code passes (``subok=``) differentiate as
    ``np.where``, the identity for the items left out, ``np.maximum``."""
    with np.errstate(all="raise"):  # (nothing the user's call does not compute)
        f(*args)
        check_four_ways(f, *args, wrt=0)


def diagonal_filled(x):
    tall = np.outer(np.concatenate([x, x[:1]]), x)  # (5, 4)
    np.fill_diagonal(tall, x[0] * 2.0)
    wide = np.outer(x[:3], x)  # (3, 4)
    np.fill_diagonal(wide, x[1:])
    return np.sum(tall ** 2) + np.sum(np.sin(wide))


def copied_into(x):
    buffer = np.zeros(4)
    np.copyto(buffer, x ** 2)
    masked = np.ones(4)
    np.copyto(masked, np.exp(x), where=x > 1.0)
    return np.sum(buffer * masked)


def put_and_mask(x):
    y = x * 1.5
    np.put(y, [0, 2, 0], [x[1], x[3] * 2.0, x[2]])  # (a repeated position: the last wins)
    np.putmask(y, y > 1.6, np.sqrt(x))
    return np.sum(y ** 3)


def subtracted_at(x):
    y = np.ones(3)
    np.subtract.at(y, [0, 0, 2, 1], x)  # (a repeated position: both subtract)
    return np.sum(y ** 2)


@pytest.mark.parametrize("f", [diagonal_filled, copied_into, put_and_mask, subtracted_at])
def test_numpy_calls_that_write_in_place_are_item_writes(f):
    """``np.fill_diagonal``, ``np.copyto``, ``np.put``, ``np.putmask`` and
    ``np.subtract.at`` change their array as numpy does, and their gradients follow."""
    check_four_ways(f, np.array([0.5, 1.2, 1.5, 0.9]))


def interpolated(x):
    grid = np.array([0.0, 0.5, 1.2, 2.0])
    values = np.sin(x) * 2.0  # (fp active)
    points = np.array([0.2, 0.7, 1.9, 2.5, -0.3]) * x[0]  # (x active; two outside the grid)
    return np.sum(np.interp(points, grid, values) ** 2) + np.interp(0.9, grid * x[1], values)


def running_extremes(x):
    both = np.stack([x, x[::-1] * 1.1])
    return (np.sum(np.maximum.accumulate(x) * x) + np.sum(np.minimum.accumulate(both, axis=1) ** 2)
            + np.sum(np.add.accumulate(x ** 2)))


def flat_products(x):
    m = np.outer(x, x[:2])
    return np.vdot(m, np.sin(m)) + np.sum(np.real(x) ** 3)


@pytest.mark.parametrize("f", [interpolated, running_extremes, flat_products])
def test_interp_running_extremes_vdot_and_real(f):
    """``np.interp`` (with respect to the points, the grid and the values), ufuncs'
    ``accumulate`` (a running sum, maximum, minimum), ``np.vdot`` and ``np.real``."""
    check_four_ways(f, np.array([0.5, 1.2, 1.5, 0.9]))


def split_parts(x):
    a, b = np.split(x, 2)
    parts = np.array_split(np.outer(x, x), 3, axis=1)
    top, bottom = np.split(np.outer(x, x), [1])
    return np.sum(a ** 2 * b) + np.sum(parts[0] ** 2) + np.sum(top) * np.sum(bottom.real ** 2)


def test_split_parts_join_back():
    """``np.split``/``np.array_split`` (numpy reads the sections by trying ``len``): the
    parts' gradients joined along the axis, zeros for a part the result does not use."""
    check_four_ways(split_parts, np.array([0.5, 1.2, 1.5, 0.9]))


def _smoothed(a, v, mode):
    return np.sum(np.tanh(np.convolve(a, v, mode)) * np.arange(np.convolve(a, v, mode).size))


def _matched(a, v, mode):
    return np.sum(np.sin(np.correlate(a, v, mode)) * np.arange(np.correlate(a, v, mode).size))


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("sizes", [(5, 3), (3, 5), (4, 4), (4, 1)], ids=str)
@pytest.mark.parametrize("f", [_smoothed, _matched], ids=["convolve", "correlate"])
def test_convolve_and_correlate_in_every_mode(f, sizes, mode):
    """numpy centres ``same`` on the longer input, and computes a correlation whose
    first input is the shorter the other way round: each mode's window of the full
    result, for either order of lengths."""
    rng = np.random.default_rng(sum(sizes))
    a, v = rng.uniform(-1.0, 1.0, sizes[0]), rng.uniform(-1.0, 1.0, sizes[1])
    check_four_ways(f, a, v, mode, wrt=(0, 1))


def cycled_writes(x, v):
    tall = np.outer(np.concatenate([x, x[:1]]), x)  # (5, 4): a diagonal of 4
    np.fill_diagonal(tall, v[:2])  # (shorter: repeated)
    wide = np.outer(x[:2], x)  # (2, 4): a diagonal of 2
    np.fill_diagonal(wide, v)  # (longer: its first items)
    y = x * 1.5
    np.put(y, [0, -1, 2], v[:2])  # (a negative position; v repeated)
    z = x * 0.5
    np.putmask(z, z > 0.5, v[::-1])  # (v spread over z's positions, repeated)
    return np.sum(tall ** 2) + np.sum(np.sin(wide)) + np.sum(y ** 3) + np.sum(z * x)


def test_in_place_calls_repeat_or_cut_their_values_as_numpy_does():
    check_four_ways(cycled_writes, np.array([0.5, 1.2, 1.5, 0.9]), np.array([0.3, -0.8, 1.1]))


def resized(x):
    return np.sum(np.resize(x, (2, 5)) ** 2 * np.arange(10.0).reshape(2, 5))


def test_resize_repeats_in_order():
    check_four_ways(resized, np.array([0.5, 1.2, 1.5]))


def floors_and_remainders(x, y):
    return (math.floor(x) * x + math.ceil(2.0 * x) * y + math.trunc(y) * x
            + math.fmod(x, y) * x + math.remainder(x, y) ** 2)


def test_rounding_and_remainders_of_numbers_keep_the_version_for_floats():
    """``math.floor``/``ceil``/``trunc`` are numbers of numbers (the version for floats
    is kept); ``math.fmod`` and ``math.remainder`` have rules."""
    check_four_ways(floors_and_remainders, 2.3, 0.7)
    assert "this version is for Python floats" in srcad.grad(floors_and_remainders).backward_source


_WITH_GAPS = np.array([0.3, np.nan, -1.2, 0.5, np.nan, 0.9])


def _scaled_gaps(mu, log_s):
    return (_WITH_GAPS - mu) / np.exp(log_s)


def nll_with_gaps(mu, log_s):
    z = _scaled_gaps(mu, log_s)
    return -np.nansum(-0.5 * z ** 2 - log_s)


def mean_with_gaps(mu, log_s):
    return np.nanmean(_scaled_gaps(mu, log_s) ** 2)


def extremes_with_gaps(mu, log_s):
    return np.nanmax(_scaled_gaps(mu, log_s)) - np.nanmin(_scaled_gaps(mu, log_s) * 0.5)


def product_with_gaps(mu, log_s):
    return np.nanprod(1.0 + 0.1 * _scaled_gaps(mu, log_s))


@pytest.mark.parametrize(
    "f", [nll_with_gaps, mean_with_gaps, extremes_with_gaps, product_with_gaps],
    ids=lambda f: f.__name__,
)
def test_nan_ignoring_reductions_keep_the_gaps_out_of_the_gradient(f):
    """``np.nansum`` and the other NaN-ignoring reductions are the reductions of
    ``np.where(np.isnan(x), identity, x)``: a gap's own derivatives (0 * nan) stay out."""
    dmu, dlog_s = check_four_ways(f, 0.1, 0.2)
    assert np.isfinite(dmu) and np.isfinite(dlog_s)


def appended_in_a_loop(x, steps):
    v = np.zeros(2)
    for _ in range(steps):
        u = np.append(v, 1.0)  # (np.append: a call of numpy's, not a list growing)
        v = 0.5 * v + np.tanh(u[:2]) + x
    return v[-1]


def test_np_append_in_a_loop_is_a_call_not_a_list_append():
    check_four_ways(appended_in_a_loop, 0.3, 4, wrt=0)


def ufunc_reductions_and_clip_keywords(x):
    m = np.outer(x, x)
    return (np.add.reduce(m ** 2, axis=1)[0] + np.multiply.reduce(x) + np.maximum.reduce(x)
            + np.logaddexp.reduce(m, axis=0)[1] + np.sum(m.clip(min=0.1))
            + np.sum(np.clip(x, max=1.0)))


def test_ufunc_reduce_and_clip_with_numpy_2_keywords():
    """``np.add.reduce`` and the other ufuncs' ``reduce`` are the reductions they stand
    for (along axis 0 by default); ``clip`` takes numpy 2's ``min=``/``max=``."""
    check_four_ways(ufunc_reductions_and_clip_keywords, np.array([0.3, 1.2, -0.7]))


def powers_and_singular_values(a):
    return (np.sum(np.linalg.matrix_power(a, 3) ** 2) + np.linalg.matrix_power(a, 0)[0, 0]
            + np.sum(np.linalg.matrix_power(a + 2.0 * np.eye(3), -2))
            + np.sum(np.linalg.svd(a, compute_uv=False) ** 3))


def test_matrix_power_and_singular_values():
    a = np.random.default_rng(0).normal(size=(3, 3)) * 0.5
    check_four_ways(powers_and_singular_values, a)
    np.testing.assert_allclose(
        srcad.grad(lambda m: np.sum(np.linalg.svd(m, compute_uv=False)))(a),
        np.linalg.svd(a)[0] @ np.linalg.svd(a)[2], rtol=1e-12,  # (sum of s: u v^T)
    )


SVD_WEIGHTS = np.random.default_rng(1).normal(size=(6, 6))


def low_rank_fit(a):
    """A rank-2 reconstruction (signs of u and v cancel)."""
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    return np.sum((u[:, :2] * s[:2]) @ vt[:2] * SVD_WEIGHTS[: a.shape[0], : a.shape[1]])


def polar_factor(a):
    """The orthogonal polar factor u v^T (Procrustes) and the singular values."""
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    return np.sum((u @ vt) * SVD_WEIGHTS[: a.shape[0], : a.shape[1]]) + np.sum(s**3)


def first_component(x):
    """PCA: the variance along the first principal direction, and its scores."""
    centred = x - x.mean(axis=0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    return np.sum((centred @ vt[0]) ** 2) + np.sum(u[:, 0] ** 2 * np.arange(x.shape[0]))


def full_square(a):
    u, s, vt = np.linalg.svd(a)  # (full_matrices=True: fine for a square matrix)
    return np.sum((u[:, 0] * vt[0][:, None]) ** 2 * SVD_WEIGHTS[:3, :3]) + s[0]


@pytest.mark.parametrize("f, shape", [
    (low_rank_fit, (5, 3)), (low_rank_fit, (3, 5)), (polar_factor, (4, 3)),
    (polar_factor, (3, 4)), (first_component, (6, 3)), (full_square, (3, 3)),
], ids=lambda v: getattr(v, "__name__", str(v)))
def test_singular_vectors(f, shape):
    """Stop 43 (round 63a's most common refusal): u and vt of np.linalg.svd, for tall,
    wide and square matrices (the terms outside the spans of u and v included)."""
    check_four_ways(f, np.random.default_rng(3).normal(size=shape))


def full_wide(a):
    u, s, vt = np.linalg.svd(a)  # <full>
    return np.sum(u[:, 0] ** 2)


def test_full_singular_vectors_of_a_matrix_not_square_are_refused():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(full_wide)(np.random.default_rng(4).normal(size=(3, 4)))
    assert info.value.lineno == marker_line(__file__, "full")
    assert "full_matrices=False" in info.value.hint


def taken_around_a_ring(x):
    i = np.arange(-2, 7)
    return (np.sum(np.take(x, i, mode="wrap") ** 2 * np.arange(9))
            + np.sum(x.take([0, 5, -3], mode="clip") ** 3))


def columns_wrapped(a):
    return np.sum(np.take(a, [-1, 0, 4], axis=1, mode="wrap") * np.arange(9.0).reshape(3, 3))


def test_take_with_wrap_and_clip_modes():
    """Round 63a: np.take's mode= was refused. Indices beyond the ends wrap or clip as
    numpy places them."""
    check_four_ways(taken_around_a_ring, np.random.default_rng(0).normal(size=4))
    (got,) = check_four_ways(columns_wrapped, np.random.default_rng(1).normal(size=(3, 4)))
    want = np.zeros((3, 4))
    want[:, 0], want[:, 3] = [3.0, 9.0, 15.0], [0.0, 3.0, 6.0]  # (columns 3, 0, 0 taken)
    np.testing.assert_array_equal(got, want)


INTERP_XP = np.array([0.0, 1.0, 2.5, 4.0])


def clamped_table(x, fp, lo, hi):
    return np.sum(np.interp(x, INTERP_XP, fp, left=lo, right=hi) ** 2)


def left_only_table(x, fp, lo):
    return np.sum(np.interp(x, INTERP_XP, fp, left=lo) * np.arange(x.size))


def test_interp_with_values_beyond_the_ends():
    """Round 63a: ``left=``/``right=`` were refused. Beyond an end that gives its own
    value, ``fp`` gets nothing and the value gets the points' gradient."""
    x = np.array([-0.7, 0.3, 1.7, 3.1, 4.6, 5.0])
    fp = np.array([0.5, -1.0, 2.0, 0.3])
    *_, d_lo, d_hi = check_four_ways(clamped_table, x, fp, 0.2, -0.4)
    assert (d_lo, d_hi) == (pytest.approx(2 * 0.2), pytest.approx(2 * 2 * -0.4))
    check_four_ways(left_only_table, x, fp, 0.9)


def kkt_blocks(Q, a):
    A = np.outer(a, a[:2])  # (3, 2)
    K = np.block([[Q, A], [A.T, np.zeros((2, 2))]])
    return np.sum(np.sin(K) * np.arange(25.0).reshape(5, 5)) + np.sum(np.block([a, a * 2.0]) ** 2)


def test_block_matrices():
    rng = np.random.default_rng(0)
    check_four_ways(kkt_blocks, rng.normal(size=(3, 3)), rng.normal(size=3))


def windowed(x, w):
    windows = np.lib.stride_tricks.sliding_window_view(x, 3)
    tiles = np.lib.stride_tricks.sliding_window_view(np.outer(x, x), (2, 2))
    return np.sum(np.tanh(windows @ w)) + np.sum(tiles ** 2 * 0.1)


def test_sliding_windows_sum_their_gradients_back():
    check_four_ways(windowed, np.array([0.3, -0.5, 1.2, 0.8, -1.1]), np.array([0.5, -0.2, 0.1]))


def gaps_written_in_the_function(x):
    observed = np.array([0.3, np.nan, -1.2, np.inf])  # (constants with a NaN and an inf)
    return np.nansum((observed[:3] - x) ** 2) + float(np.isinf(observed[3])) * np.sum(x)


def test_constants_holding_nan_and_inf_are_written_as_python_can_read_them():
    check_four_ways(gaps_written_in_the_function, np.array([0.5, 0.1, 0.2]))


def too_deep_blocks(x):
    return np.sum(np.block([[[x[:2], x[2:]]], [[x[:2] * 2.0, x[2:]]]]) ** 2)  # <deep-block>


def test_np_block_of_three_levels_is_refused_at_its_line():
    with pytest.raises(srcad.SrcadError, match="two levels of lists") as caught:
        srcad.grad(too_deep_blocks)(np.array([1.0, 2.0, 3.0, 4.0]))
    assert caught.value.lineno == marker_line(__file__, "deep-block")


def one_value_in_two_nan_reductions(w):
    r = _WITH_GAPS * w
    return np.nansum(r ** 2) + np.nansum(r) + np.nanmax(r)


def test_a_value_two_selections_pick_gets_its_gradient_where_either_picks_it():
    """``r`` feeds two NaN-ignoring reductions (two masks of the same gaps): each sends
    gradient only where it picks ``r``, so ``r``'s own step is taken where either does
    (it gave nan: ``0 * nan`` at the gaps)."""
    (dw,) = check_four_ways(one_value_in_two_nan_reductions, np.linspace(0.5, 1.0, 6))
    assert np.all(np.isfinite(dw)) and dw[1] == 0.0 and dw[4] == 0.0


def weighted_squares_with_gaps(x):
    return np.nansum(_WITH_GAPS * x ** 2) + np.nansum(_WITH_GAPS * x) ** 2


def test_second_derivatives_keep_the_gaps_out_too():
    """The tangent of ``_WITH_GAPS * x ** 2`` is ``_WITH_GAPS * (2 * x * x_dot)``: read by
    ``np.where`` straight away (no reshaping between), so that reverse mode over it keeps
    the gaps' ``0 * nan`` out as the gradient does (the Hessian had nan rows)."""
    x = np.linspace(-0.5, 1.0, 6)
    d = np.nan_to_num(_WITH_GAPS)
    exact = 2.0 * np.diag(d) + 2.0 * np.outer(d, d)
    np.testing.assert_allclose(srcad.hessian(weighted_squares_with_gaps)(x), exact, rtol=1e-12)
    v = np.arange(6.0)
    np.testing.assert_allclose(srcad.hvp(weighted_squares_with_gaps)(x, v), exact @ v,
                               rtol=1e-12)


def float_written_into_an_array(w, x):
    r = np.zeros(3)
    r[0] = w
    return float(np.sum(r * x))


def test_a_floats_gradient_through_an_array_item_is_a_number():
    """``r[0] = w``: the adjoint of ``w`` is an item of ``r``'s, a number (it came back
    as a 0-d array)."""
    dw, dx = check_four_ways(float_written_into_an_array, 0.5, np.array([2.0, 1.0, 3.0]))
    assert np.ndim(dw) == 0 and not isinstance(dw, np.ndarray) and dw == 2.0


def _items_of_a_sum(x):
    s = np.sum(x)
    return np.sum(s[None] * x) + np.sum(s[..., None] * x) + s[()] * 2.0


def _items_after_another_use(x):
    s = np.sum(x * x)
    t = s * 3.0  # (s's adjoint is a number before the item read's backprop)
    return t + np.sum(s[None] * x)


def _softmax_any_batch(z):
    e = np.exp(z - z.max(axis=-1)[..., None])
    p = e / e.sum(axis=-1)[..., None]
    return np.sum(p * np.arange(z.shape[-1]))


@pytest.mark.parametrize("f", [_items_of_a_sum, _items_after_another_use, _softmax_any_batch])
def test_items_of_a_numpy_number(f):
    """``s[None]``, ``s[..., None]``, ``s[()]`` of a reduction's numpy number (a softmax
    written for any batch shape, given one row). Round 64a: the backward pass added into
    an item of the number's adjoint, a float, and raised TypeError."""
    x = np.array([0.5, -1.0, 2.0])
    check_four_ways(f, x)
    check_four_ways(f, x[None])
    hvp = srcad.hvp(f)(x, np.ones(3))
    g = srcad.grad(f)
    h = 1e-5
    np.testing.assert_allclose(hvp, (g(x + h) - g(x - h)) / (2 * h), rtol=1e-6, atol=1e-8)


def rolling_volatility(X):
    """np.std over a window that holds one row at its first step (std 0 there)."""
    total = 0.0
    for k in range(X.shape[0]):
        window = X[max(0, k - 2):k + 1] ** 2
        total += np.sum(np.std(window, axis=0))
    return total


def test_the_spread_of_one_sample_moves_nothing():
    """Round 91: np.std of one sample (0 for every x) had a nan gradient (sqrt's inf
    slope times the zero deviation): var's adjoint is 0 where an item is the mean."""
    with np.errstate(divide="ignore"):
        check_four_ways(rolling_volatility, np.array([[0.5, 1.5], [-0.7, 0.9], [0.3, 0.2]]))
        got = srcad.grad(lambda x: np.std(np.array([x[0] ** 2])) + x[1])(np.array([0.5, 1.5]))
    np.testing.assert_array_equal(got, [0.0, 1.0])


def quantiles_of_a_grid_of_levels(x):
    return np.sum(np.quantile(x, np.array([[0.2, 0.5], [0.7, 0.9]]), axis=(0, 1),
                              keepdims=True) ** 2)


def test_the_tangent_of_quantiles_at_levels_of_several_axes():
    """Round 91: jvp with a 2-D q and keepdims put the kept axes at the wrong places
    (AxisError)."""
    check_four_ways(quantiles_of_a_grid_of_levels, np.random.default_rng(9).normal(size=(3, 4, 2)))
