"""Helpers that numpy derivative templates call: shape bookkeeping an expert would
otherwise write by hand (sum a broadcast gradient back, expand a reduced one)."""

from __future__ import annotations

#: The helpers derivative templates call, by these names: :mod:`srcad.rules.numpy_arrays`
#: puts them in the templates' namespace (every public function here; a test checks it).
__all__ = (
    "unbroadcast", "sum_grad", "mean_grad", "extremum_grad", "prod_grad", "matmul_left",
    "matmul_right", "cast_gradient", "cross_grad", "take_grad", "dot_left", "dot_right",
    "inner_left", "inner_right", "transpose_grad", "inverse_axes", "reshape_like",
    "reshape_back", "reshape_tangent", "unravel_like",
    "ravel_like", "items_like", "clip_grad", "linspace_grad", "clip_bound_tangent",
    "clip_bound_grad", "clip_shares",
    "split_like", "unstack", "hsplit_like", "vsplit_like", "sign", "quantile_grad",
    "quantile_q_grad", "quantile_tangent", "quantile_q_tangent", "var_grad", "var_tangent",
    "cumsum_grad", "cumprod_grad", "cumprod_tangent", "diff_grad", "diff_edge_grad",
    "diff_tangent", "sort_grad", "sort_tangent", "take_along_axis_grad", "diagonal_grad",
    "trace_grad", "diag_grad", "pad_grad", "pad_tangent", "pad_constant_grad",
    "pad_constant_tangent", "tile_grad", "repeat_grad", "norm_grad", "norm_tangent", "einsum_grad",
    "einsum_subscripts_grad", "matrix_transpose", "solve_grad_b", "solve_grad_a",
    "solve_tangent_a", "cofactors", "det_grad", "det_tangent", "slogdet_grad", "slogdet_tangent",
    "inv_grad", "cholesky_grad", "cholesky_tangent", "eigh_grad", "eigh_tangent", "eigvalsh_grad",
    "eigvalsh_tangent", "qr_grad", "qr_tangent", "digamma", "trigamma", "bessel_i1", "fsum_grad",
    "sum_items_grad", "x_over_y", "logsumexp_weights", "logsumexp_grad", "logsumexp_weight_grad",
    "logsumexp_tangent", "interp_grad_x", "interp_grad_fp", "interp_grad_xp", "interp_tangent",
    "interp_grad_end", "interp_end_tangent",
    "running_extreme_grad", "running_extreme_tangent", "joined_parts", "convolve_grad",
    "correlate_kernel_grad", "resize_grad", "sorted_grad", "sorted_tangent", "matrix_power_grad",
    "matrix_power_tangent", "singular_values_grad", "singular_values_tangent", "svd_grad",
    "svd_tangent", "block_grad",
    "sliding_window_grad", "pinv_grad", "pinv_tangent", "lstsq_grad_a", "lstsq_grad_b",
    "lstsq_tangent_a", "lstsq_tangent_b", "meshgrid_grad", "select_grad", "select_default_grad",
    "select_tangent", "nanvar_grad", "nanvar_tangent", "gradient_grad", "gradient_spacing_grad",
    "gradient_spacing_tangent", "corrcoef_grad", "corrcoef_tangent", "multi_dot_grad",
    "multi_dot_tangent", "sum_leading", "dist_grad", "dist_tangent", "vander_slopes",
    "insert_grad", "reduceat_grad", "multiply_at_grad_x", "multiply_at_grad_v",
    "multiply_at_tangent_v", "along_lanes_grad", "along_axis_values_grad",
)

import math
from typing import Any, Literal, TypeGuard

import numpy as np

from ..duck import as_array, is_duck_array, spread_like
from ..errors import Location, UnsupportedSyntaxError
from ..runtime import (
    AdjointList,
    along_axis_index,
    fresh_result,
    gradient_dtype,
    identity_when_none,
    joined_lists,
    passes_argument,
    run_time_check,
    shape_only,
    times_or_zero,
)

#: (unbroadcast's first case) the classes of a number's gradient that is a number, and
#: of the numbers whose gradient that is (names of their own: export joins modules)
_GRADIENT_NUMBERS = frozenset((float, np.float64))
_BROADCAST_NUMBERS = frozenset((float, int, np.float64))


@passes_argument(0)
@shape_only(1)
def unbroadcast(g: Any, x: Any) -> Any:
    """``g`` summed down to ``x``'s shape (undoes numpy broadcasting); ``x`` may be the
    shape itself (a tuple), so that the forward value need not be kept."""
    if g.__class__ in _GRADIENT_NUMBERS and x.__class__ in _BROADCAST_NUMBERS:
        return g  # (a number's gradient for a number: the common case in loops, first)
    if x.__class__ is list:  # `xs + ys` of lists made outside: joined, not added
        if isinstance(g, list) and len(g) == len(x):  # (d[k] = xs: the list's own adjoint)
            return g
        raise joined_lists()
    if x.__class__ is tuple and x and x[0].__class__ is not int:  # (a tuple of numbers,
        if isinstance(g, list) and len(g) == len(x):  # not a shape: its own adjoint)
            return g
        try:  # (`a + b` of tuples joins them: no array of the tuple's length sums to it)
            np.broadcast_shapes(np.shape(x), np.shape(g))
        except ValueError:
            raise joined_lists() from None
        x = np.shape(x)
    shape = x if isinstance(x, tuple) else getattr(x, "shape", ())
    g_shape = getattr(g, "shape", ())
    if shape == g_shape:
        if g.__class__ is int:  # (x * n of an int n: a float)
            return float(g)
        if g.__class__ is np.ndarray and (x.__class__ is float or x.__class__ is int):
            return g[()]  # (a float's gradient from an array's item: a number, not 0-d)
        return g
    if isinstance(g, list) and shape and (len(shape) > 1 or len(g) != shape[0]):
        raise joined_lists()  # (a tuple's adjoint of another length: `+` joined tuples)
    if shape == ():
        # (numpy's own method: np.sum costs twice as much; a lazy array's np.sum stays lazy)
        total = g.sum() if g.__class__ is np.ndarray else np.sum(g)
        return float(total) if isinstance(x, float | int) and not is_duck_array(g) else total
    if g_shape == ():  # (a zero where an item write took the adjoint: the array's shape)
        return np.full(shape, g)
    extra = len(g_shape) - len(shape)
    if extra > 0:
        g = _summed_leading(g, extra)
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if g.__class__ is np.ndarray and g.shape != shape:  # (no broadcast made g of x: the
        raise joined_lists()  # `+` joined tuples or lists srcad did not see, `t[0] + t[1]`)
    return g


def _summed_leading(g: Any, count: int) -> Any:
    """``g`` summed over its first ``count`` axes (a bias's gradient from a batch): for a
    contiguous array of floats, as ``ones @ g`` -- one matrix-vector product, which BLAS
    computes 3-8x faster than numpy's sum down the rows (whose partial sums it keeps in
    a buffer of their own)."""
    if (
        g.__class__ is np.ndarray and g.dtype.char in "fd" and g.flags.c_contiguous
        and g.size
    ):
        if g.ndim == 2:  # (the common case: a bias's, no reshaping)
            return np.ones(g.shape[0], dtype=g.dtype) @ g
        rows = math.prod(g.shape[:count])
        summed = np.ones(rows, dtype=g.dtype) @ g.reshape(rows, -1)
        return summed.reshape(g.shape[count:])
    return g.sum(axis=tuple(range(count)))


def _expand(g: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """A reduced ``g`` with the reduced axes put back (as length 1)."""
    if axis is None or keepdims:
        return g
    ndim = np.ndim(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return np.expand_dims(g, tuple(a % ndim for a in axes))


@fresh_result
@shape_only(1)
def sum_grad(g: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Adjoint of ``np.sum(x, axis, keepdims=keepdims)``: ``g`` spread over the summed axes."""
    dtype = gradient_dtype(g, x)
    if is_duck_array(x):
        return spread_like(_expand(g, x, axis, keepdims), x, dtype)
    out = np.empty(np.shape(x), dtype=dtype)  # (np.full takes three times as long)
    out[...] = _expand(g, x, axis, keepdims)
    return out


@fresh_result
@shape_only(1)
def mean_grad(g: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Adjoint of ``np.mean``: the sum's adjoint divided by the number of averaged items."""
    shape = np.shape(x)
    if axis is None and not is_duck_array(x):  # one number spread everywhere
        out = np.empty(shape, dtype=gradient_dtype(g, x))
        out[...] = g / math.prod(shape)
        return out
    axes = range(len(shape)) if axis is None else (axis,) if isinstance(axis, int) else axis
    count = math.prod([shape[a] for a in axes])
    return sum_grad(g / count, x, axis, keepdims)


@fresh_result
def extremum_grad(g: Any, x: Any, ans: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Adjoint of ``np.max``/``np.min``: ``g`` goes to the arg-max (shared equally on ties)."""
    hits = as_array(x) == _expand(ans, x, axis, keepdims)
    counts = hits.sum(axis=axis, keepdims=True) if hits.__class__ is np.ndarray else np.sum(
        hits, axis=axis, keepdims=True)
    return hits * (_expand(g, x, axis, keepdims) / counts)


@fresh_result
def prod_grad(g: Any, x: Any, ans: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Adjoint of ``np.prod``: ``g`` times the product of the *other* reduced entries.

    Without zeros that is ``ans / x`` (one division; the check looks at the small
    ``ans``, not at ``x``). A product that is zero (an entry is zero, or the product
    underflowed) takes the exact way, without division: a slice's only zero gets the
    product of the rest and its other entries 0; with two zeros the whole slice gets 0.
    """
    if np.count_nonzero(ans) == ans.size if isinstance(ans, np.ndarray) else ans != 0:
        return _expand(g * ans, x, axis, keepdims) / x
    return _expand(g, x, axis, keepdims) * _product_of_others(np.asarray(x), axis)


def _product_of_others(x: Any, axis: Any) -> Any:
    """For each entry, the product of the other entries of its slice along ``axis``
    (all axes for None), from cumulative products from the left and the right: exact
    with zeros (no division)."""
    if x.ndim == 0:
        return np.ones_like(x)
    axes = range(x.ndim) if axis is None else (axis,) if isinstance(axis, int) else axis
    axes = tuple(a % x.ndim for a in axes)
    last = tuple(range(x.ndim - len(axes), x.ndim))
    moved = np.moveaxis(x, axes, last)
    kept = moved.shape[: x.ndim - len(axes)]
    rows = moved.reshape(kept + (math.prod(moved.shape[len(kept) :]),))
    left = np.ones_like(rows)
    right = np.ones_like(rows)
    np.cumprod(rows[..., :-1], axis=-1, out=left[..., 1:])
    np.cumprod(rows[..., :0:-1], axis=-1, out=right[..., -2::-1])
    return np.moveaxis((left * right).reshape(moved.shape), last, axes)


def _as_numpy_reads(x: Any) -> Any:
    """A list or tuple as the array numpy makes of it (``np.dot(xs, xs)`` of a list);
    anything else as it is (a lazy array stays lazy)."""
    return np.asarray(x) if x.__class__ is list or x.__class__ is tuple else x


def _ndim(x: Any) -> int:
    return x.ndim if x.__class__ is np.ndarray else np.ndim(x)


@fresh_result  # (a product: a new array)
@shape_only(1)
def matmul_left(g: Any, x: Any, y: Any) -> Any:
    """Adjoint of ``x @ y`` for ``x`` (numpy's rules: a 1-D operand is a vector,
    stacks of matrices broadcast)."""
    if y.__class__ is list:  # (data passed as nested lists: numpy's @ reads them as arrays)
        y = np.asarray(y)
    x_ndim, y_ndim = _ndim(x), _ndim(y)
    if x_ndim == 2 and y_ndim == 2:  # the common case first
        return g @ y.T
    if y_ndim == 1:  # (a vector on the right: g holds one number per row)
        return np.multiply.outer(g, y) if x_ndim > 1 else g * y
    if x_ndim == 1:  # (a vector on the left, times each matrix of a stack: summed)
        return y @ g if y_ndim == 2 else unbroadcast(np.sum(y * g[..., None, :], axis=-1), x)
    return unbroadcast(g @ np.swapaxes(y, -1, -2), x)


@fresh_result  # (a product: a new array)
@shape_only(2)
def matmul_right(g: Any, x: Any, y: Any) -> Any:
    """Adjoint of ``x @ y`` for ``y`` (see :func:`matmul_left`)."""
    if x.__class__ is list:  # (data passed as nested lists)
        x = np.asarray(x)
    x_ndim, y_ndim = _ndim(x), _ndim(y)
    if x_ndim == 2 and y_ndim == 2:
        return x.T @ g
    if x_ndim == 1:  # (g holds one row per matrix of y's stack)
        if y_ndim == 1:
            return g * x
        return np.multiply.outer(x, g) if y_ndim == 2 else x[:, None] * g[..., None, :]
    if y_ndim == 1:  # (every row of every matrix of x's stack met the vector y)
        if x_ndim == 2:
            return x.T @ g
        return unbroadcast(np.sum(x * g[..., None], axis=tuple(range(x_ndim - 1))), y)
    return unbroadcast(np.swapaxes(x, -1, -2) @ g, y)


@identity_when_none(0, 1)
def cast_gradient(g: Any, dtype: Any) -> Any:
    """Adjoint of a conversion to ``dtype`` (``x.astype(dtype)``, ``np.asarray(x, dtype)``):
    ``g``, or zero for an integer or boolean type (truncation is piecewise constant)."""
    if dtype is None or np.dtype(dtype).kind in "fcO":
        return g
    return np.zeros(np.shape(g))


def _as_3_vectors(x: Any) -> Any:
    """``x``'s vectors (its last axis) with a zero third component where they have two."""
    x = np.asarray(x)
    if x.shape[-1] == 3:
        return x
    return np.concatenate([x, np.zeros((*x.shape[:-1], 1), dtype=x.dtype)], axis=-1)


def cross_grad(g: Any, x: Any, y: Any, first: bool) -> Any:
    """Adjoint of ``np.cross(x, y)`` (vectors along the last axis, of 2 or 3 components)
    for ``x`` (``first``) or ``y``: ``y × g`` and ``g × x``, with 2-vectors as 3-vectors in
    the plane (their cross product is the third component alone)."""
    x3, y3 = _as_3_vectors(x), _as_3_vectors(y)
    if np.shape(x)[-1] == 2 and np.shape(y)[-1] == 2:  # numpy returned the z component only
        g = np.stack([np.zeros_like(g), np.zeros_like(g), g], axis=-1)
    part = np.cross(y3, g) if first else np.cross(g, x3)
    own = x if first else y
    return unbroadcast(part[..., : np.shape(own)[-1]], own)


@fresh_result
def take_grad(g: Any, x: Any, indices: Any, axis: Any = None, mode: str = "raise") -> Any:
    """Adjoint of ``np.take(x, indices, axis, mode=mode)``: ``g`` added into the positions
    taken (a position taken twice gets both; ``mode`` 'wrap' and 'clip' place indices
    beyond the ends as numpy does)."""
    out = np.zeros(np.shape(x), dtype=gradient_dtype(g, x))
    if mode in ("wrap", "clip"):
        count = out.size if axis is None else out.shape[axis]
        indices = np.mod(indices, count) if mode == "wrap" else np.clip(indices, 0, count - 1)
    if axis is None:
        np.add.at(out.reshape(-1), indices, g)
    else:
        axis = axis % out.ndim
        np.add.at(out, (slice(None),) * axis + (indices,), g)
    return out


def dot_left(g: Any, x: Any, y: Any) -> Any:
    """Adjoint of ``np.dot(x, y)`` for ``x``, for any number of axes: numpy's dot sums
    ``x``'s last axis against ``y``'s only axis, or its second-to-last one (a number
    multiplies)."""
    x_ndim, y_ndim = _ndim(x), _ndim(y)
    y = _as_numpy_reads(y)
    if x_ndim <= 2 and y_ndim <= 2 and x_ndim and y_ndim:  # (the 1-D and 2-D cases)
        return matmul_left(g, x, y)
    if x_ndim == 0 or y_ndim == 0:
        return unbroadcast(g * y, x)
    if y_ndim == 1:
        return np.multiply.outer(g, y)
    moved = np.moveaxis(y, -2, -1)  # (b..., m, k)
    lead = x_ndim - 1
    return np.tensordot(g, moved, axes=(list(range(lead, _ndim(g))), list(range(y_ndim - 1))))


def dot_right(g: Any, x: Any, y: Any) -> Any:
    """Adjoint of ``np.dot(x, y)`` for ``y`` (see :func:`dot_left`)."""
    x_ndim, y_ndim = _ndim(x), _ndim(y)
    x = _as_numpy_reads(x)
    if x_ndim <= 2 and y_ndim <= 2 and x_ndim and y_ndim:
        return matmul_right(g, x, y)
    if x_ndim == 0 or y_ndim == 0:
        return unbroadcast(g * x, y)
    lead = list(range(x_ndim - 1))
    part = np.tensordot(x, g, axes=(lead, lead))  # (k, b..., m) or (k,)
    return part if y_ndim == 1 else np.moveaxis(part, 0, -2)


def inner_left(g: Any, x: Any, y: Any) -> Any:
    """Adjoint of ``np.inner(x, y)`` for ``x``: numpy's inner sums the last axes of
    both (a number multiplies)."""
    x_ndim, y_ndim = _ndim(x), _ndim(y)
    if x_ndim == 0 or y_ndim == 0:
        return unbroadcast(g * y, x)
    rest = y_ndim - 1
    g_ndim = _ndim(g)
    return np.tensordot(g, y, axes=(list(range(g_ndim - rest, g_ndim)), list(range(rest))))


def inner_right(g: Any, x: Any, y: Any) -> Any:
    """Adjoint of ``np.inner(x, y)`` for ``y`` (see :func:`inner_left`)."""
    x_ndim, y_ndim = _ndim(x), _ndim(y)
    if x_ndim == 0 or y_ndim == 0:
        return unbroadcast(g * x, y)
    lead = list(range(x_ndim - 1))
    return np.tensordot(g, x, axes=(lead, lead))


@passes_argument(0)
def transpose_grad(g: Any, axes: Any = None) -> Any:
    """Adjoint of ``np.transpose(x, axes)``: the inverse permutation."""
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, tuple(int(a) for a in np.argsort(axes)))  # (ints: dask tests them)


def inverse_axes(axes: Any) -> Any:
    """The permutation that undoes ``np.transpose(x, axes)`` (None: reverse again)."""
    return None if axes is None else tuple(np.argsort(axes))


@passes_argument(0)
@shape_only(1)
def reshape_like(g: Any, x: Any) -> Any:
    """``g`` in ``x``'s shape (adjoint of reshape, squeeze, expand_dims, ravel)."""
    return np.reshape(g, np.shape(x))


#: the orders ``np.ravel`` reads an array in
_Order = Literal["K", "A", "C", "F"]


def _read_order(x: Any, order: _Order) -> Any:
    """For each item of ``np.ravel(x, order)``, the position of the item it reads in
    ``x``'s row-major order (``order="K"`` follows ``x``'s memory layout)."""
    positions = np.empty_like(x, dtype=np.intp)
    positions[...] = np.arange(positions.size).reshape(positions.shape)
    return np.ravel(positions, order=order)


def unravel_like(g: Any, x: Any, order: _Order) -> Any:
    """The flat ``g`` in ``x``'s shape, item ``k`` where ``np.ravel(x, order)`` read its
    item ``k`` from (the adjoint of that ravel, and how a write through it lands)."""
    if order in ("C", "F"):  # (orders that do not depend on x's memory layout)
        if order == "C" and is_duck_array(g):  # (dask's reshape takes no order=; its
            back: Any = np.reshape(g, np.shape(x))  # chunks: x's again)
            chunks = getattr(x, "chunks", None)
            return back if chunks is None else back.rechunk(chunks)
        return np.reshape(g, np.shape(x), order=order)
    out = np.empty(np.size(x), dtype=np.result_type(g, float))
    out[_read_order(x, order)] = np.ravel(g)
    return out.reshape(np.shape(x))


def reshape_back(g: Any, x: Any, order: Literal["A", "C", "F"]) -> Any:
    """``g`` in ``x``'s shape, read and written in the order ``np.reshape(x, shape,
    order)`` read ``x`` and wrote its result in: the adjoint of that reshape (a
    permutation of the items, which this undoes), and how a write through it lands."""
    return np.reshape(g, np.shape(x), order=_layout_order(x, order))


def reshape_tangent(t: Any, x: Any, ans: Any, order: Literal["A", "C", "F"]) -> Any:
    """Tangent of ``np.reshape(x, shape, order)``: ``t`` reshaped as ``x`` was (``"A"``:
    in ``x``'s memory order, which ``t`` need not have)."""
    return np.reshape(t, np.shape(ans), order=_layout_order(x, order))


def _layout_order(x: Any, order: Literal["A", "C", "F"]) -> Literal["C", "F"]:
    """``order``, with ``"A"`` the order ``x`` is laid out in."""
    if order != "A":
        return order
    layout = np.asarray(x)
    return "F" if layout.flags.f_contiguous and not layout.flags.c_contiguous else "C"


def ravel_like(g: Any, x: Any, order: _Order) -> Any:
    """``g`` (in ``x``'s shape) read in the order ``np.ravel(x, order)`` reads ``x``: the
    adjoint of :func:`unravel_like`."""
    if order in ("C", "F"):
        return np.ravel(g, order=order)
    return np.ravel(g)[_read_order(x, order)]


def items_like(g: Any, x: Any) -> Any:
    """``g`` in the structure of ``x``: for ``np.array(x)`` of a list or tuple, a list of
    ``g``'s items (nested lists likewise), as the gradient of a list parameter is a list."""
    if not isinstance(x, list | tuple):
        return g
    return AdjointList(items_like(row, item) for row, item in zip(g, x))


@fresh_result
def clip_grad(g: Any, x: Any, low: Any, high: Any) -> Any:
    """Adjoint of ``np.clip(x, low, high)``: ``g`` where ``x`` is inside the bounds, half of
    it at a bound (a tie of numpy's ``minimum(maximum(x, low), high)``: see
    :func:`clip_shares`)."""
    return _shared(clip_shares(x, low, high)[0], g)


def clip_shares(x: Any, low: Any, high: Any) -> tuple[Any, Any, Any]:
    """The shares of ``x``, ``low`` and ``high`` in ``np.clip(x, low, high)`` =
    ``minimum(maximum(x, low), high)``, each tie halved as ``np.maximum``'s and
    ``np.minimum``'s are (round 76a: a stable softplus with its relu written as
    ``np.clip(z, 0, None)`` took the whole gradient at 0)."""
    x = _as_numpy_reads(x)
    one = np.ones_like(x, float) if is_duck_array(x) else np.ones(np.shape(x))
    above = one if low is None else _half_at_ties(x, low)  # (of maximum(x, low))
    kept = x if low is None else np.maximum(x, low)
    below = one if high is None else _half_at_ties(high, kept)  # (of minimum(kept, high))
    return above * below, (1.0 - above) * below, 1.0 - below


def _half_at_ties(x: Any, y: Any) -> Any:
    """1 where ``x > y``, 0 where ``x < y``, 1/2 where they are equal."""
    return (np.sign(x - y) + 1.0) * 0.5


def _shared(share: Any, g: Any) -> Any:
    """``share * g``, exactly 0 where the share is 0 (see :func:`srcad.runtime.chosen`)."""
    return np.where(share == 0, 0.0, share * g)


def linspace_grad(
    g: Any, end: Any, n: int, start: bool, endpoint: bool = True, axis: int = 0
) -> Any:
    """Adjoint of ``np.linspace(x, y, n, endpoint, axis)`` for the end ``x`` (``start``)
    or ``y``: item ``k`` (along ``axis``) is ``x (1 - w_k) + y w_k`` with ``w =
    np.linspace(0, 1, n, endpoint=endpoint)``."""
    g = np.moveaxis(g, axis, 0) if axis != 0 else g
    weights = np.linspace(0.0, 1.0, n, endpoint=endpoint)
    weights = weights.reshape((n,) + (1,) * (np.ndim(g) - 1))
    share = 1.0 - weights if start else weights
    return unbroadcast(np.sum(g * share, axis=0), end)


def clip_bound_grad(g: Any, x: Any, low: Any, high: Any, below: bool) -> Any:
    """Adjoint of ``np.clip(x, low, high)`` for the bound ``low`` (``below``) or
    ``high``: ``g`` where the result is that bound (half at a tie), summed to the bound's
    shape."""
    bound = low if below else high
    return unbroadcast(clip_bound_tangent(g, x, low, high, below), bound)


def clip_bound_tangent(t: Any, x: Any, low: Any, high: Any, below: bool) -> Any:
    """Tangent of ``np.clip(x, low, high)`` along the bound ``low`` (``below``) or
    ``high``: ``t`` times the bound's share (see :func:`clip_shares`)."""
    _, low_share, high_share = clip_shares(x, low, high)
    return _shared(low_share if below else high_share, t)


@shape_only(1)
def split_like(g: Any, parts: Any, axis: int = 0) -> list:
    """Adjoint of ``np.concatenate(parts, axis)``: ``g`` cut back into the parts."""
    if axis is None:  # (the parts flattened, then joined)
        ends = np.cumsum([np.size(p) for p in parts]).tolist()
        return AdjointList(
            np.reshape(g[a:b], np.shape(p)) for a, b, p in zip([0, *ends[:-1]], ends, parts)
        )
    ends = np.cumsum([np.shape(p)[axis] for p in parts]).tolist()
    before = (slice(None),) * (axis % np.ndim(g))  # (by slicing: dask has no np.split)
    return AdjointList(g[(*before, slice(a, b))] for a, b in zip([0, *ends[:-1]], ends))


@shape_only(1)
def unstack(g: Any, parts: Any, axis: int = 0) -> list:
    """Adjoint of ``np.stack(parts, axis)``: ``g`` split along the new axis."""
    return AdjointList(np.moveaxis(g, axis, 0)[i] for i in range(len(parts)))


@shape_only(1)
def hsplit_like(g: Any, parts: Any) -> list:
    """Adjoint of ``np.hstack`` (a number or a 0-d part is one item, as numpy's
    ``atleast_1d`` makes it)."""
    wide = [np.atleast_1d(p) for p in parts]
    pieces = split_like(g, wide, axis=1 if np.ndim(wide[0]) > 1 else 0)
    return AdjointList(
        np.reshape(piece, ()) if np.ndim(p) == 0 else piece for piece, p in zip(pieces, parts)
    )


@shape_only(1)
def vsplit_like(g: Any, parts: Any) -> list:
    """Adjoint of ``np.vstack`` (1-D parts become rows)."""
    pieces = split_like(g, [np.atleast_2d(p) for p in parts], axis=0)
    return AdjointList(np.reshape(piece, np.shape(p)) for piece, p in zip(pieces, parts))


def sign(x: Any) -> Any:
    """-1, 0 or 1 (numpy's sign, but fast for Python numbers)."""
    if type(x) in (float, int):  # (numpy scalars go to np.sign: bools would not subtract)
        return (x > 0) - (x < 0)
    return np.sign(x)


# ---------------------------------------------------------------- statistics and scans


#: numpy's quantile methods that interpolate between two items continuously in ``q``:
#: their (alpha, beta), the virtual index of ``q`` among ``n`` items being ``n q + alpha
#: + q (1 - alpha - beta) - 1`` (clipped to the items), whose slope in ``q`` is ``n + 1 -
#: alpha - beta``; numpy's other methods pick an item, or the midpoint of two, by steps
_CONTINUOUS_QUANTILES = {
    "linear": (1.0, 1.0), "hazen": (0.5, 0.5), "weibull": (0.0, 0.0),
    "median_unbiased": (1 / 3, 1 / 3), "normal_unbiased": (3 / 8, 3 / 8),
    "interpolated_inverted_cdf": (0.0, 1.0),
}
_STEPPED_QUANTILES = frozenset((
    "lower", "higher", "nearest", "midpoint", "inverted_cdf", "averaged_inverted_cdf",
    "closest_observation",
))


def _quantile_parts(x: Any, q: Any, axis: Any, method: str, skip_nan: bool = False) -> tuple:
    """What the quantiles of ``x`` pick: ``x`` with the axis last (all of it flattened
    for ``axis=None``), each lane's sort order, and for each quantile and each lane the
    lower and upper positions in that order, the weight of the upper one, and how fast
    the position moves with ``q`` (``skip_nan``: numpy's ``nanquantile``, whose NaNs
    sort last and are not counted). The weights of a quantile are the same for any
    ``x`` (they depend on the number of items and ``q`` alone), so numpy's own quantile
    of the positions ``0, 1, ..., n - 1`` gives them, for every method."""
    if method not in _CONTINUOUS_QUANTILES and method not in _STEPPED_QUANTILES:
        raise UnsupportedSyntaxError(
            f"srcad does not know numpy's quantile method {method!r}",
            "use one of numpy's methods (the default is 'linear')",
            _user_line(),
        )
    x = np.asarray(x)
    lanes = _lanes(x, axis)
    order = np.argsort(lanes, axis=-1, kind="stable")
    if skip_nan:
        last = np.maximum(np.sum(~np.isnan(lanes), axis=-1) - 1, 0)
    else:
        last = np.full(lanes.shape[:-1], lanes.shape[-1] - 1)
    qs = np.ravel(np.asarray(q, dtype=float)).reshape(-1, *(1,) * last.ndim)
    if method == "linear":
        position = qs * last
        rate = np.broadcast_to(last, position.shape)
    else:
        position = np.empty(np.broadcast_shapes(qs.shape, last.shape))
        for n in np.unique(last) + 1:  # (one count of items per lane; nanquantile's vary)
            lanes_of_n = last == n - 1
            probe = np.quantile(  # type: ignore[call-overload]  # (method: any of numpy's)
                np.arange(n, dtype=float), qs.ravel(), method=method
            )
            position[:, lanes_of_n] = probe.reshape(-1, 1)
        rate = np.zeros(position.shape)
        if method in _CONTINUOUS_QUANTILES:  # (a stepped method's position: flat in q)
            alpha, beta = _CONTINUOUS_QUANTILES[method]
            inside = (position > 0) & (position < last)
            rate = np.where(inside, last + 2.0 - alpha - beta, 0.0)
    lower = np.floor(position).astype(int)
    upper = np.minimum(lower + 1, last)
    return lanes, order, lower, upper, position - lower, rate


def _picked(ordered: Any, positions: Any) -> Any:
    """The item of each lane of ``ordered`` at that lane's position."""
    return np.take_along_axis(ordered, positions[..., None], axis=-1)[..., 0]


def _lanes(x: Any, axis: Any) -> Any:
    """``x`` with the axes a quantile runs along (``axis``: None, an int or a tuple) last,
    as one: a lane per quantile of the result."""
    if axis is None:
        return np.reshape(x, (1, -1))
    axes = _axes_of(axis, np.ndim(x))
    moved = np.moveaxis(x, axes, tuple(range(-len(axes), 0)))
    return moved.reshape(*moved.shape[:np.ndim(x) - len(axes)], -1)


def _lanes_back(lanes: Any, x: Any, axis: Any) -> Any:
    """:func:`_lanes` undone: an array of ``lanes``' shape in ``x``'s."""
    if axis is None:
        return lanes.reshape(np.shape(x))
    shape, axes = np.shape(x), _axes_of(axis, np.ndim(x))
    moved = (*(d for i, d in enumerate(shape) if i not in axes), *(shape[a] for a in axes))
    return np.moveaxis(lanes.reshape(moved), tuple(range(-len(axes), 0)), axes)


def _per_quantile(g: Any, q: Any, lanes: Any, axis: Any, keepdims: bool) -> Any:
    """``g`` (numpy's quantile shape: ``q``'s axes, then the lanes') as one row per
    quantile, each of the lanes' shape."""
    lane_shape = () if axis is None else lanes.shape[:-1]
    if keepdims:
        g = np.reshape(g, (*np.shape(q), *lane_shape)) if axis is not None else np.reshape(
            g, (*np.shape(q),)
        )
    return np.reshape(g, (-1, *lane_shape))


def quantile_grad(
    g: Any, x: Any, q: Any, axis: Any = None, keepdims: bool = False, method: str = "linear",
    skip_nan: bool = False,
) -> Any:
    """Adjoint of ``np.quantile(x, q, axis, keepdims=...)`` for ``x`` (linear
    interpolation, numpy's default): each quantile's gradient goes to the two items it
    interpolates, in proportion (``np.median``: the middle one, or the middle two;
    ``skip_nan``: ``np.nanquantile``, among the numbers of each lane)."""
    lanes, order, lower, upper, frac, _ = _quantile_parts(x, q, axis, method, skip_nan)
    rows = _per_quantile(g, q, lanes, axis, keepdims)
    flat_order = order.reshape(-1, order.shape[-1])
    out = np.zeros(flat_order.shape, dtype=gradient_dtype(g, x))
    lane = np.arange(flat_order.shape[0])
    for k in range(len(frac)):
        weight = np.reshape(rows[k], -1)
        low, high, share = np.ravel(lower[k]), np.ravel(upper[k]), np.ravel(frac[k])
        np.add.at(out, (lane, flat_order[lane, low]), (1 - share) * weight)
        np.add.at(out, (lane, flat_order[lane, high]), share * weight)
    return _lanes_back(out.reshape(lanes.shape), x, axis)


def quantile_q_grad(
    g: Any, x: Any, q: Any, axis: Any = None, keepdims: bool = False, method: str = "linear",
    skip_nan: bool = False,
) -> Any:
    """Adjoint of ``np.quantile(x, q, ...)`` for ``q``: the slope between the two items
    each quantile interpolates, times the last position (``n - 1``)."""
    lanes, order, lower, upper, frac, rate = _quantile_parts(x, q, axis, method, skip_nan)
    ordered = np.take_along_axis(lanes, order, axis=-1)
    rows = _per_quantile(g, q, lanes, axis, keepdims)
    slopes = [
        np.sum(rows[k] * np.reshape(
            (_picked(ordered, upper[k]) - _picked(ordered, lower[k])) * rate[k],
            np.shape(rows[k])))
        for k in range(len(frac))
    ]
    return np.reshape(slopes, np.shape(q)) if np.ndim(q) else slopes[0]


def quantile_tangent(
    t: Any, x: Any, q: Any, axis: Any = None, keepdims: bool = False, method: str = "linear",
    skip_nan: bool = False,
) -> Any:
    """Tangent of ``np.quantile(x, q, ...)`` along ``t`` (for ``x``): the same
    interpolation of ``t``'s items in ``x``'s order."""
    lanes, order, lower, upper, frac, _ = _quantile_parts(x, q, axis, method, skip_nan)
    t_lanes = _lanes(np.broadcast_to(t, np.shape(x)), axis)
    ordered = np.take_along_axis(np.broadcast_to(t_lanes, lanes.shape), order, axis=-1)
    picked = [(1 - f) * _picked(ordered, lo) + f * _picked(ordered, hi)
              for lo, hi, f in zip(lower, upper, frac)]
    return _quantile_shaped(picked, x, q, axis, keepdims)


def quantile_q_tangent(
    t: Any, x: Any, q: Any, axis: Any = None, keepdims: bool = False, method: str = "linear",
    skip_nan: bool = False,
) -> Any:
    """Tangent of ``np.quantile(x, q, ...)`` along ``t`` (for ``q``)."""
    lanes, order, lower, upper, frac, rate = _quantile_parts(x, q, axis, method, skip_nan)
    ordered = np.take_along_axis(lanes, order, axis=-1)
    steps = np.ravel(np.asarray(t, dtype=float))
    picked = [
        (_picked(ordered, hi) - _picked(ordered, lo)) * r * step
        for lo, hi, r, step in zip(lower, upper, rate, np.broadcast_to(steps, frac.shape[:1]))
    ]
    return _quantile_shaped(picked, x, q, axis, keepdims)


def _quantile_shaped(picked: list, x: Any, q: Any, axis: Any, keepdims: bool) -> Any:
    """One value per quantile (each of the lanes' shape) in numpy's result shape."""
    result = np.stack(picked).reshape(*np.shape(q), *np.shape(picked[0])) if np.ndim(q) else (
        picked[0]  # (a q of several axes too: round 91, an AxisError with keepdims)
    )
    if axis is None:
        result = np.reshape(result, np.shape(q))
        if keepdims:
            result = np.reshape(result, (*np.shape(q), *(1,) * np.ndim(x)))
    elif keepdims:
        kept = sorted(np.ndim(q) + a for a in _axes_of(axis, np.ndim(x)))
        result = np.expand_dims(result, axis=tuple(kept))
    return result



def _axes_of(axis: Any, ndim: int) -> tuple[int | np.integer, ...]:
    """``axis`` (None, an int or a tuple) as a tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in ((axis,) if isinstance(axis, int | np.integer) else axis))


def _count(x: Any, axis: Any) -> int:
    """How many items ``np.mean(x, axis)`` averages."""
    shape = np.shape(x)
    return math.prod(shape[a] for a in _axes_of(axis, len(shape)))


def _centered(x: Any, axis: Any) -> Any:
    return x - np.mean(x, axis=axis, keepdims=True)


@fresh_result
def var_grad(g: Any, x: Any, axis: Any = None, ddof: Any = 0, keepdims: bool = False) -> Any:
    """Adjoint of ``np.var(x, axis, ddof=ddof)``: ``2 (x - mean) g / (n - ddof)``, exactly
    0 where an item is the mean (``np.std``'s ``g``, through its square root, is inf where
    the spread is 0: the subgradient 0 there, as a norm's at the origin; round 91, a
    rolling window's first step of one sample, nan)."""
    spread = _centered(x, axis) * _two_over(_count(x, axis) - ddof)
    return times_or_zero(spread, _expand(g, x, axis, keepdims))


def var_tangent(t: Any, x: Any, axis: Any = None, ddof: Any = 0, keepdims: bool = False) -> Any:
    """Tangent of ``np.var``: ``2 sum((x - mean) t) / (n - ddof)`` over the reduced axes."""
    total = np.sum(_centered(x, axis) * t, axis=axis, keepdims=keepdims)
    return total * _two_over(_count(x, axis) - ddof)


def _two_over(dof: Any) -> Any:
    """``2 / dof`` as numpy divides: inf with a warning where ``ddof`` is the count, as
    ``np.var`` itself gives (Python's ints would raise ZeroDivisionError)."""
    return np.divide(2.0, np.float64(dof))


def _flipped_cumsum(g: Any, axis: int) -> Any:
    """Sums from the end: item ``k`` is ``g[k] + g[k+1] + ...`` along ``axis``."""
    return np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)


@fresh_result
@shape_only(1)
def cumsum_grad(g: Any, x: Any, axis: Any = None) -> Any:
    """Adjoint of ``np.cumsum(x, axis)``: ``g`` summed from the end (flattened for None)."""
    if axis is None:
        return np.reshape(_flipped_cumsum(np.ravel(g), 0), np.shape(x))
    return _flipped_cumsum(np.asarray(g), axis)


def _along_first(axis: Any, *arrays: Any) -> list:
    """The arrays with ``axis`` moved to the front (flattened when ``axis`` is None)."""
    if axis is None:
        return [np.ravel(a) for a in arrays]
    return [np.moveaxis(np.asarray(a), axis, 0) for a in arrays]


def _put_back(moved: Any, x: Any, axis: Any) -> Any:
    return np.reshape(moved, np.shape(x)) if axis is None else np.moveaxis(moved, 0, axis)


@fresh_result
def cumprod_grad(g: Any, x: Any, ans: Any, axis: Any = None) -> Any:
    """Adjoint of ``np.cumprod(x, axis)``: without zeros ``flipped_cumsum(g ans) / x``; with
    a zero, the exact backward recurrence ``a[k-1] = g[k-1] + a[k] x[k]``,
    ``dx[k] = a[k] ans[k-1]`` (no division)."""
    gs, xs, ps = _along_first(axis, g, x, ans)
    if np.all(xs != 0):
        return _put_back(_flipped_cumsum(gs * ps, 0) / xs, x, axis)
    out = np.empty(np.shape(xs), dtype=gradient_dtype(gs, xs))
    running = gs[-1] * 1.0
    for k in range(len(xs) - 1, 0, -1):
        out[k] = running * ps[k - 1]
        running = gs[k - 1] + running * xs[k]
    out[0] = running
    return _put_back(out, x, axis)


def cumprod_tangent(t: Any, x: Any, ans: Any, axis: Any = None) -> Any:
    """Tangent of ``np.cumprod``: ``ans cumsum(t / x)`` without zeros, else the exact
    forward recurrence ``d[k] = d[k-1] x[k] + ans[k-1] t[k]``."""
    ts, xs, ps = _along_first(axis, t, x, ans)
    if np.all(xs != 0):
        out = ps * np.cumsum(ts / xs, axis=0)
    else:
        out = np.empty(np.shape(ps), dtype=gradient_dtype(ts, xs))
        out[0] = ts[0]
        for k in range(1, len(xs)):
            out[k] = out[k - 1] * xs[k] + ps[k - 1] * ts[k]
    return np.ravel(out) if axis is None else np.moveaxis(out, 0, axis)


def _diff_adjoint(g: Any, n: int, axis: int) -> Any:
    """The adjoint of ``n`` differences: ``g[k-1] - g[k]``, ``n`` times (each into a
    new zero array one longer along ``axis``, the way ``x[k+1] - x[k]`` read it: three
    times faster than ``np.diff`` with ``prepend`` and ``append``, which join arrays)."""
    g = np.asarray(g)
    for _ in range(n):
        along = axis % g.ndim
        before = (slice(None),) * along
        shape = (*g.shape[:along], g.shape[along] + 1, *g.shape[along + 1:])
        out = np.zeros(shape, dtype=gradient_dtype(g))
        out[(*before, slice(None, -1))] -= g
        out[(*before, slice(1, None))] += g
        g = out
    return g


def _diff_split(g: Any, x: Any, n: int, axis: int, prepend: Any, append: Any) -> list:
    """The adjoint of ``np.diff``'s joined input, cut into prepend, x and append."""
    full = _diff_adjoint(np.asarray(g), n, axis)
    ndim = np.ndim(full)
    axis = axis % ndim
    sizes = [0 if prepend is None else _edge_length(prepend, axis), np.shape(x)[axis]]
    return np.split(full, np.cumsum(sizes), axis=axis)


def _edge_length(edge: Any, axis: int) -> int:
    return 1 if np.ndim(edge) == 0 else np.shape(edge)[axis]


@passes_argument(0)
@shape_only(1)
def diff_grad(g: Any, x: Any, n: int = 1, axis: int = -1, prepend: Any = None,
              append: Any = None) -> Any:
    """Adjoint of ``np.diff(x, n, axis)``: ``x[k]`` gets ``g[k-1] - g[k]``, ``n`` times."""
    if prepend is None and append is None:
        return _diff_adjoint(g, n, axis)
    return _diff_split(g, x, n, axis, prepend, append)[1]


def diff_edge_grad(g: Any, x: Any, n: int, axis: int, prepend: Any, append: Any,
                   which: int) -> Any:
    """Adjoint of ``np.diff``'s ``prepend`` (``which=0``) or ``append`` (``which=2``)."""
    edge = (prepend, None, append)[which]
    part = _diff_split(g, x, n, axis, prepend, append)[which]
    return unbroadcast(part, edge) if edge is None or np.ndim(edge) == 0 else part


def diff_tangent(t: Any, x: Any, n: int, axis: int, prepend: Any, append: Any,
                 which: int) -> Any:
    """Tangent of ``np.diff`` with respect to ``prepend`` (``which=0``), ``x`` (1) or
    ``append`` (2): the differences of the joined input with ``t`` in that part, 0 elsewhere."""
    parts = []
    for k, part in enumerate((prepend, x, append)):
        if part is None:
            continue
        if np.ndim(part) == 0 and k != 1:
            shape = list(np.shape(x))
            shape[axis] = 1  # (a number is broadcast along the other axes)
            piece = np.broadcast_to(t, shape) if k == which else np.zeros(shape)
        else:
            piece = t if k == which else np.zeros(np.shape(part))
        parts.append(piece)
    return np.diff(np.concatenate(parts, axis=axis) if len(parts) > 1 else parts[0], n, axis)


def _sort_order(x: Any, axis: Any) -> Any:
    """The permutation ``np.sort`` applies (the stable one: ties keep their order)."""
    if axis is None:
        return np.argsort(np.ravel(x), kind="stable")
    return np.argsort(x, axis=axis, kind="stable")


@fresh_result
def sort_grad(g: Any, x: Any, axis: Any = -1) -> Any:
    """Adjoint of ``np.sort(x, axis)``: each item of ``g`` goes back to where its value was."""
    order = _sort_order(x, axis)
    out = np.zeros(np.size(x) if axis is None else np.shape(x), dtype=gradient_dtype(g, x))
    if axis is None:
        out[order] = np.ravel(g)
        return out.reshape(np.shape(x))
    np.put_along_axis(out, order, g, axis)
    return out


def sort_tangent(t: Any, x: Any, axis: Any = -1) -> Any:
    """Tangent of ``np.sort``: the tangent permuted as the values are."""
    order = _sort_order(x, axis)
    if axis is None:
        return np.ravel(t)[order]
    return np.take_along_axis(np.asarray(t), order, axis)


@fresh_result
@shape_only(1)
def take_along_axis_grad(g: Any, x: Any, indices: Any, axis: Any) -> Any:
    """Adjoint of ``np.take_along_axis``: ``g`` added back where each item was taken
    (a position taken twice gets both)."""
    out = np.zeros(np.size(x) if axis is None else np.shape(x), dtype=gradient_dtype(g, x))
    if axis is None:
        np.add.at(out, indices, g)
        return out.reshape(np.shape(x))
    np.add.at(out, along_axis_index(indices, axis, np.shape(g)), g)
    return out


def _gathered_back(g: Any, sources: Any, size: int, dtype: Any) -> Any:
    """The adjoint of a gather: ``sources`` (``g``'s shape) names for each item of the
    result the flat position it was read from (-1: from elsewhere); each of the ``size``
    positions gets the sum of ``g`` where it was read."""
    sources = np.ravel(sources)
    read = sources >= 0
    out = np.zeros(size, dtype=dtype)
    np.add.at(out, sources[read], np.ravel(g)[read])
    return out


def _labels(shape: tuple, other: tuple, mine: bool) -> tuple[Any, Any]:
    """Flat positions of an operand of ``shape`` (``mine``), or -1 everywhere for the
    other operand, of shape ``other``: what an operation that moves items is run on to
    learn where each item of its result came from."""
    if mine:
        return np.arange(math.prod(shape)).reshape(shape), np.full(other, -1)
    return np.full(other, -1), np.arange(math.prod(shape)).reshape(shape)


@fresh_result
def insert_grad(g: Any, arr: Any, obj: Any, values: Any, axis: Any, of_values: bool) -> Any:
    """Adjoint of ``np.insert(arr, obj, values, axis)`` for ``arr`` or (``of_values``)
    ``values``: the items of ``g`` where that operand's items went (``values`` may be
    broadcast: its items get the sum of their copies). ``values`` cast into an array of
    integers are truncated: no gradient."""
    arr_shape, values_shape = np.shape(arr), np.shape(values)
    if of_values and np.result_type(arr).kind not in "fc":
        return np.zeros(values_shape)
    own, other = (values_shape, arr_shape) if of_values else (arr_shape, values_shape)
    labels, elsewhere = _labels(own, other, True)
    moved = (
        np.insert(elsewhere, obj, labels, axis) if of_values
        else np.insert(labels, obj, elsewhere, axis)
    )
    out = _gathered_back(g, moved, math.prod(own), gradient_dtype(g, arr, values))
    return unbroadcast(out.reshape(own), values if of_values else arr)


def _segments(indices: Any, length: int) -> tuple[Any, Any]:
    """The positions ``np.add.reduceat(x, indices)`` sums along an axis of ``length``,
    each with the segment it is summed into (a segment whose next index is not past its
    start is its one item, as numpy has it)."""
    starts = np.asarray(indices, dtype=np.intp).reshape(-1)
    ends = np.append(starts[1:], length)
    ends = np.where(ends > starts, ends, starts + 1)
    counts = ends - starts
    owners = np.repeat(np.arange(starts.size), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + offsets, owners


@fresh_result
@shape_only(1)
def reduceat_grad(g: Any, x: Any, indices: Any, axis: Any = 0) -> Any:
    """Adjoint of ``np.add.reduceat(x, indices, axis)``: each item gets the gradient of
    every segment summing it."""
    shape = np.shape(x)
    positions, owners = _segments(indices, shape[axis])
    moved = np.moveaxis(np.asarray(g), axis, 0)
    out = np.zeros((shape[axis], *moved.shape[1:]), dtype=gradient_dtype(g, x))
    np.add.at(out, positions, moved[owners])
    return np.moveaxis(out, 0, axis)


def _factors_at(shape: tuple, index: Any, value: Any) -> tuple[Any, Any, Any, tuple]:
    """For ``np.multiply.at`` into an array of ``shape``: the flat position each factor
    (``value`` broadcast to the items ``index`` selects) multiplies, the product of the
    *other* factors at each one's position (without dividing: exact where a factor is
    0), the product of all factors at each position (flat), and the selection's shape."""
    size = math.prod(shape)
    selected = np.arange(size).reshape(shape)[index]
    positions = np.ravel(selected)
    factors = np.ravel(np.broadcast_to(value, np.shape(selected)))
    n = positions.size
    order = np.argsort(positions, kind="stable")  # (each factor's rank at its position)
    ordered = positions[order]
    first = np.ones(n, dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    rank = np.empty(n, dtype=np.intp)
    rank[order] = np.arange(n) - np.maximum.accumulate(np.where(first, np.arange(n), 0))
    levels = int(rank.max()) + 1 if n else 0
    layers = np.ones((levels + 2, size), dtype=np.result_type(factors, float))
    layers[rank + 1, positions] = factors  # (a layer of ones before and after)
    before = np.cumprod(layers, axis=0)
    after = np.cumprod(layers[::-1], axis=0)[::-1]
    others = before[rank, positions] * after[rank + 2, positions]
    return positions, others, before[-1], np.shape(selected)


@fresh_result
@shape_only(1)
def multiply_at_grad_x(g: Any, x: Any, index: Any, v: Any) -> Any:
    """Adjoint of ``np.multiply.at(x, index, v)`` for ``x``: ``g`` times the product of
    the factors at each position."""
    return g * _factors_at(np.shape(x), index, v)[2].reshape(np.shape(x))


@fresh_result
def multiply_at_grad_v(g: Any, x: Any, index: Any, v: Any) -> Any:
    """Adjoint of ``np.multiply.at(x, index, v)`` for ``v``: each factor's item of ``g``
    times ``x`` there and the other factors at the same position."""
    positions, others, _, selected = _factors_at(np.shape(x), index, v)
    each = np.ravel(g)[positions] * np.ravel(x)[positions] * others
    return unbroadcast(each.reshape(selected), v)


def multiply_at_tangent_v(t: Any, x: Any, index: Any, v: Any) -> Any:
    """Tangent of ``np.multiply.at(x, index, v)`` along ``v``'s tangent ``t``."""
    positions, others, _, selected = _factors_at(np.shape(x), index, v)
    moved = np.zeros(np.size(x), dtype=gradient_dtype(t, x))
    np.add.at(moved, positions, np.ravel(np.broadcast_to(t, selected)) * others)
    return np.reshape(moved, np.shape(x)) * x


@shape_only(1)
def along_lanes_grad(g: Any, x: Any, axis: int) -> Any:
    """Adjoint of :func:`srcad.runtime.along_lanes`: each lane's gradient back in place."""
    return np.reshape(np.swapaxes(g, axis if np.ndim(x) == 2 else -1, -1), np.shape(x))


@shape_only(1)
def along_axis_values_grad(g: Any, values: Any, ndim: int, axis: int) -> Any:
    """Adjoint of :func:`srcad.runtime.along_axis_result`: ``g`` as the stacked values."""
    if ndim == 1:
        return np.reshape(g, np.shape(values))
    return np.moveaxis(g, -1, 0) if axis in (0, -2) else g


# ---------------------------------------------------------------- diagonals and triangles


def _diagonal_positions(n: int, m: int, offset: int) -> tuple[Any, Any]:
    """Rows and columns of the ``offset`` diagonal of an ``n`` by ``m`` matrix."""
    length = max(0, min(n + min(offset, 0), m - max(offset, 0)))
    steps = np.arange(length)
    return steps + max(-offset, 0), steps + max(offset, 0)


@fresh_result
@shape_only(1)
def diagonal_grad(g: Any, x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """Adjoint of ``np.diagonal(x, offset, axis1, axis2)``: ``g`` on that diagonal, 0 elsewhere."""
    shape = np.shape(x)
    ndim = len(shape)
    axis1, axis2 = axis1 % ndim, axis2 % ndim
    rest = [shape[a] for a in range(ndim) if a not in (axis1, axis2)]
    n, m = shape[axis1], shape[axis2]
    out = np.zeros((*rest, n, m), dtype=gradient_dtype(g, x))
    if ndim == 2 and axis1 == 0:  # (a matrix's diagonal: every m + 1-th item, from its
        start = offset if offset >= 0 else -offset * m  # first; 3x faster than indexing)
        length = max(0, min(n + min(offset, 0), m - max(offset, 0)))
        out.reshape(-1)[start:start + length * (m + 1):m + 1] = g
        return out
    rows, cols = _diagonal_positions(n, m, offset)
    out[..., rows, cols] = g
    return np.moveaxis(out, (-2, -1), (axis1, axis2))


@fresh_result
@shape_only(1)
def trace_grad(g: Any, x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """Adjoint of ``np.trace``: ``g`` on every item of the summed diagonal."""
    shape = np.shape(x)
    ndim = len(shape)
    rows, _ = _diagonal_positions(shape[axis1 % ndim], shape[axis2 % ndim], offset)
    along = np.repeat(np.expand_dims(g, -1), len(rows), axis=-1)
    return diagonal_grad(along, x, offset, axis1, axis2)


@fresh_result
@shape_only(1)
def diag_grad(g: Any, x: Any, k: int = 0) -> Any:
    """Adjoint of ``np.diag(x, k)``: the ``k`` diagonal of ``g`` for a vector ``x`` (which
    ``np.diag`` put there), ``g`` on that diagonal for a matrix (which it read)."""
    if np.ndim(x) == 1:
        return np.diagonal(g, k).copy()
    return diagonal_grad(g, x, k)


# ---------------------------------------------------------------- padding and repeating


def _pairs(width: Any, ndim: int) -> Any:
    """``np.pad``'s ``pad_width`` as one (before, after) pair per axis, as numpy reads it."""
    pairs = np.asarray(width, dtype=int)
    if pairs.size == 1:
        return np.full((ndim, 2), pairs.ravel()[0])
    if pairs.size == 2 and pairs.shape != (2, 1):
        return np.broadcast_to(pairs.ravel(), (ndim, 2))
    return np.broadcast_to(pairs, (ndim, 2))


def _user_line() -> Location:
    """The user's line whose generated code is running (for an option srcad cannot
    differentiate, found when the gradient runs: see :func:`srcad.load.user_line`)."""
    from ..load import user_line

    return user_line(2)


def _copying_mode(mode: str) -> TypeGuard[Literal["edge", "reflect", "symmetric", "wrap"]]:
    """A mode of ``np.pad`` whose padding copies items of the input."""
    return mode in ("edge", "reflect", "symmetric", "wrap")


def _pad_sources(shape: tuple, pad_width: Any, mode: str) -> Any:
    """For each item of ``np.pad``'s result, the flat position in the input it copies
    (-1 for a constant): padding the positions themselves, in the same mode."""
    positions = np.arange(math.prod(shape)).reshape(shape)
    if mode == "constant":
        return np.pad(positions, pad_width, constant_values=-1)
    if _copying_mode(mode):
        return np.pad(positions, pad_width, mode=mode)
    raise UnsupportedSyntaxError(
        f"srcad differentiates np.pad in the modes constant, edge, reflect, symmetric and "
        f"wrap, not {mode!r}",
        "pad in one of those modes, or compute the padding values yourself and join them "
        "with np.concatenate",
        _user_line(),
    )


@fresh_result
@shape_only(1)
def pad_grad(g: Any, x: Any, pad_width: Any, mode: str = "constant") -> Any:
    """Adjoint of ``np.pad(x, pad_width, mode)``: each item of ``g`` goes back to the
    input item it copies (the padding of constant mode gets nothing)."""
    shape = np.shape(x)
    if mode == "constant":
        pairs = _pairs(pad_width, len(shape))
        inside = tuple(slice(before, before + n) for (before, _), n in zip(pairs, shape))
        return np.array(np.asarray(g)[inside], dtype=gradient_dtype(g, x))
    sources = np.ravel(_pad_sources(shape, pad_width, mode))
    flat = np.bincount(sources, weights=np.ravel(g), minlength=math.prod(shape))
    return flat.reshape(shape)


def pad_tangent(t: Any, pad_width: Any, mode: str = "constant") -> Any:
    """Tangent of ``np.pad`` with respect to the array: the tangent padded the same way,
    with zeros as the constant."""
    if mode == "constant":
        return np.pad(t, pad_width)
    _pad_sources(np.shape(t), pad_width, mode)  # (refuses the modes it cannot follow)
    assert _copying_mode(mode)
    return np.pad(t, pad_width, mode=mode)


def _constant_codes(shape: tuple, pad_width: Any) -> Any:
    """For each item of ``np.pad``'s result in constant mode, which of the
    ``2 * ndim`` constants (axis, before/after) it holds; -1 inside."""
    codes = np.arange(2 * len(shape)).reshape(len(shape), 2)
    return np.pad(np.full(shape, -1), pad_width, constant_values=tuple(map(tuple, codes)))


def pad_constant_grad(g: Any, x: Any, pad_width: Any, constant_values: Any) -> Any:
    """Adjoint of ``np.pad``'s ``constant_values``: the sum of ``g`` over the padding each
    constant fills, in the shape the constants were given."""
    shape = np.shape(x)
    codes = np.ravel(_constant_codes(shape, pad_width))
    padded = codes >= 0
    sums = np.bincount(codes[padded], weights=np.ravel(g)[padded], minlength=2 * len(shape))
    if np.ndim(constant_values) == 0:
        return float(np.sum(sums))
    return unbroadcast(sums.reshape(len(shape), 2), np.shape(constant_values))


def pad_constant_tangent(t: Any, x: Any, pad_width: Any) -> Any:
    """Tangent of ``np.pad`` with respect to ``constant_values``: zeros padded with ``t``."""
    return np.pad(np.zeros(np.shape(x)), pad_width, constant_values=t)


@shape_only(1)
def tile_grad(g: Any, x: Any, reps: Any) -> Any:
    """Adjoint of ``np.tile(x, reps)``: the copies of ``g`` summed onto one."""
    shape = np.shape(x)
    reps = tuple(np.atleast_1d(reps))
    ndim = max(len(shape), len(reps))
    shape_ = (1,) * (ndim - len(shape)) + tuple(shape)
    reps_ = (1,) * (ndim - len(reps)) + reps
    split = [n for pair in zip(reps_, shape_) for n in pair]
    summed = np.reshape(g, split).sum(axis=tuple(range(0, 2 * ndim, 2)))
    return np.reshape(summed, shape)


@fresh_result
@shape_only(1)
def repeat_grad(g: Any, x: Any, repeats: Any, axis: Any = None) -> Any:
    """Adjoint of ``np.repeat(x, repeats, axis)``: each item gets the sum of its copies."""
    shape = np.shape(x)
    if axis is None:
        owner = np.repeat(np.arange(math.prod(shape)), repeats)
        return np.bincount(owner, weights=np.ravel(g), minlength=math.prod(shape)).reshape(shape)
    owner = np.repeat(np.arange(shape[axis]), repeats)
    moved = np.moveaxis(np.asarray(g), axis, 0)
    out = np.zeros((shape[axis], *moved.shape[1:]), dtype=gradient_dtype(g, x))
    np.add.at(out, owner, moved)
    return np.moveaxis(out, 0, axis)


# ---------------------------------------------------------------- norms


def _safe_divide(num: Any, den: Any) -> Any:
    """``num / den``, 0 where ``den`` is 0 (the subgradient 0 of a norm at the origin)."""
    den = as_array(den)
    return np.where(den == 0, 0.0, num / np.where(den == 0, 1.0, den))


def _norm_axes(x: Any, ord: Any, axis: Any) -> tuple[tuple[int | np.integer, ...], bool]:
    """The axes ``np.linalg.norm`` reduces and whether it takes a matrix norm over them."""
    ndim = np.ndim(x)
    if axis is None:
        if ord is None:
            return tuple(range(ndim)), False  # the 2-norm of all items, any shape
        return tuple(range(ndim)), ndim == 2
    axes = _axes_of(axis, ndim)
    return axes, len(axes) == 2


def _shared_extremum(values: Any, axes: tuple, largest: bool) -> Any:
    """1 at the largest (smallest) item over ``axes``, shared equally on ties."""
    best = (np.max if largest else np.min)(values, axis=axes, keepdims=True)
    hits = values == best
    return hits / np.sum(hits, axis=axes, keepdims=True)


def _vector_norm_derivative(x: Any, norm: Any, ord: Any, axes: tuple) -> Any:
    """d norm / dx for a vector norm along ``axes`` (``norm`` kept with the axes)."""
    if ord is None or ord == 2:
        return _safe_divide(x, norm)
    if ord == 1:
        return np.sign(x)
    if ord == 0:
        return np.zeros(np.shape(x))
    if ord in (np.inf, -np.inf):
        return np.sign(x) * _shared_extremum(np.abs(x), axes, ord > 0)
    return np.sign(x) * _safe_divide(np.abs(x) ** (ord - 1), norm ** (ord - 1))


def _matrix_norm_derivative(x: Any, norm: Any, ord: Any, axes: tuple) -> Any:
    """d norm / dx for a matrix norm over the two ``axes`` (``norm`` kept with the axes)."""
    if ord is None or ord == "fro":
        return _safe_divide(x, norm)
    row, col = axes
    if ord in (1, -1, np.inf, -np.inf):
        summed = col if ord in (np.inf, -np.inf) else row  # inf: row sums; 1: column sums
        sums = np.sum(np.abs(x), axis=summed, keepdims=True)
        return np.sign(x) * _shared_extremum(sums, axes, ord > 0)
    if ord in (2, -2, "nuc"):
        moved = np.moveaxis(x, (row, col), (-2, -1))
        u, _, vh = np.linalg.svd(moved, full_matrices=False)
        if ord == "nuc":
            local = u @ vh
        else:
            k = 0 if ord == 2 else -1
            local = u[..., :, k, None] * vh[..., k, None, :]
        return np.moveaxis(local, (-2, -1), (row, col))
    raise ValueError(f"srcad has no derivative for np.linalg.norm with ord={ord!r}")


def _norm_derivative(x: Any, ans: Any, ord: Any, axis: Any, keepdims: bool) -> tuple:
    x = as_array(x, dtype=float)
    axes, matrix = _norm_axes(x, ord, axis)
    norm = as_array(ans) if keepdims else np.expand_dims(ans, axes)
    if matrix:
        return _matrix_norm_derivative(x, norm, ord, axes), axes
    return _vector_norm_derivative(x, norm, ord, axes), axes


@fresh_result
def norm_grad(g: Any, x: Any, ans: Any, ord: Any = None, axis: Any = None,
              keepdims: bool = False) -> Any:
    """Adjoint of ``np.linalg.norm(x, ord, axis, keepdims)`` (vector and matrix norms)."""
    local, axes = _norm_derivative(x, ans, ord, axis, keepdims)
    return local * (as_array(g) if keepdims else np.expand_dims(g, axes))


def norm_tangent(t: Any, x: Any, ans: Any, ord: Any = None, axis: Any = None,
                 keepdims: bool = False) -> Any:
    """Tangent of ``np.linalg.norm``: the local derivative times ``t``, summed."""
    local, axes = _norm_derivative(x, ans, ord, axis, keepdims)
    return np.sum(local * t, axis=axes, keepdims=keepdims)


# ---------------------------------------------------------------- einsum


def _einsum_terms(subscripts: str, operands: tuple) -> tuple[list[str], str]:
    """Each operand's labels and the output's, with ``...`` spelled out as letters and
    the implicit output made explicit. An operand's broadcast axis of length 1 gets a
    label of its own, so that its gradient is summed over that axis."""
    if not isinstance(subscripts, str):
        raise UnsupportedSyntaxError(
            "srcad differentiates np.einsum with a subscripts string only",
            "write the subscripts as a string: np.einsum('ij,jk->ik', a, b)",
            _user_line(),
        )
    spec = subscripts.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    used = set(spec) - set(".,->")
    spare = (c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used)
    shapes = [np.shape(op) for op in operands]
    counts = [len(s) - (len(t) - 3) if "..." in t else 0 for t, s in zip(terms, shapes)]
    width = max(counts, default=0)
    ellipsis = [next(spare) for _ in range(width)]
    sizes: dict[str, int] = {}
    for count, shape in zip(counts, shapes):
        for label, n in zip(ellipsis[width - count:], shape[:count] if count else ()):
            sizes[label] = max(sizes.get(label, 1), n)
    spelled = []
    for term, count, shape in zip(terms, counts, shapes):
        if "..." not in term:
            spelled.append(term)
            continue
        own = []
        for label, n in zip(ellipsis[width - count:], shape[term.index("..."):]):
            own.append(label if n == sizes[label] else next(spare))
        spelled.append(term.replace("...", "".join(own)))
    if arrow:
        out = output.replace("...", "".join(ellipsis))
    else:
        once = sorted(c for c in set(inputs) - set(".,") if inputs.count(c) == 1)
        out = "".join(ellipsis) + "".join(once)
    return spelled, out


@fresh_result
def einsum_grad(g: Any, subscripts: str, k: int, *operands: Any) -> Any:
    """Adjoint of ``np.einsum(subscripts, *operands)`` for operand ``k``: the einsum of
    ``g`` with the other operands, summed to operand ``k``'s labels; a repeated label
    (``'ii'``) puts it on the diagonal, a label nothing else has broadcasts it."""
    terms, out = _einsum_terms(subscripts, operands)
    mine, shape = terms[k], np.shape(operands[k])
    others = [(t, op) for j, (t, op) in enumerate(zip(terms, operands)) if j != k]
    others.append((out, g))
    seen = set("".join(t for t, _ in others))
    unique = "".join(dict.fromkeys(mine))
    present = "".join(c for c in unique if c in seen)
    spec = ",".join(t for t, _ in others) + "->" + present
    part = np.einsum(spec, *(op for _, op in others), optimize=len(others) > 2)
    sizes = dict(zip(mine, shape))
    full = np.broadcast_to(
        np.reshape(part, [sizes[c] if c in seen else 1 for c in unique]),
        [sizes[c] for c in unique],
    )
    dtype = gradient_dtype(g, *operands)
    if unique == mine and is_duck_array(full):  # (a dask array: lazy, no numpy copy)
        return spread_like(full, full, dtype)
    result = np.zeros(shape, dtype=dtype)
    if unique == mine:
        result[...] = full
    else:  # a repeated label: the gradient lies on that diagonal of the operand
        np.einsum(f"{mine}->{unique}", result)[...] = full
    return result


def einsum_subscripts_grad(subscripts: Any) -> Any:
    """The subscripts get no gradient; given as arrays (numpy's other calling
    convention, ``np.einsum(a, [0, 1], ...)``), the rule does not apply."""
    _einsum_terms(subscripts, ())
    return 0.0


# ---------------------------------------------------------------- linear algebra


def matrix_transpose(a: Any) -> Any:
    """The transpose of the last two axes (of each matrix in a stack)."""
    return np.swapaxes(a, -1, -2)


def _as_columns(b: Any) -> Any:
    """``np.linalg.solve``'s right-hand side as matrices: a vector becomes one column."""
    return np.asarray(b)[..., None] if np.ndim(b) == 1 else b


def _solution_columns(x: Any, b: Any) -> Any:
    """The solution ``x`` of ``solve(a, b)`` as matrices: one column each where ``b`` is
    a vector (for a stack of matrices ``a``, ``x`` is then ``(k, n)``: one per matrix)."""
    return np.asarray(x)[..., None] if np.ndim(b) == 1 else x


def _from_columns(x: Any, b: Any) -> Any:
    return x[..., 0] if np.ndim(b) == 1 else x


def _solve_transposed(a: Any, g: Any, b: Any) -> Any:
    """``solve(A^T, g)`` for ``g`` shaped like ``solve(A, b)``'s result."""
    return np.linalg.solve(matrix_transpose(a), np.asarray(g)[..., None] if np.ndim(b) == 1 else g)


def solve_grad_b(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of ``np.linalg.solve(a, b)`` for ``b``: ``solve(A^T, g)``."""
    return unbroadcast(_from_columns(_solve_transposed(a, g, b), b), b)


def solve_grad_a(g: Any, a: Any, b: Any, ans: Any) -> Any:
    """Adjoint of ``np.linalg.solve(a, b)`` for ``a``: ``-solve(A^T, g) x^T``."""
    return unbroadcast(-_solve_transposed(a, g, b) @ matrix_transpose(_solution_columns(ans, b)), a)


def solve_tangent_a(t: Any, a: Any, b: Any, ans: Any) -> Any:
    """Tangent of ``np.linalg.solve`` with respect to ``a``: ``-solve(A, dA x)``."""
    return _from_columns(-np.linalg.solve(a, t @ _solution_columns(ans, b)), b)


def cofactors(a: Any, det: Any) -> Any:
    """``det(A) A^-T`` (the derivative of ``det``), also for singular matrices: from the
    singular value decomposition ``A = U S V^T``, ``det(U) det(V) U diag(prod of the
    other singular values) V^T`` (no division)."""
    if np.all(det != 0):
        return np.asarray(det)[..., None, None] * matrix_transpose(np.linalg.inv(a))
    u, s, vh = np.linalg.svd(a)
    others = _product_of_others(s, -1)
    signs = np.linalg.det(u) * np.linalg.det(vh)
    return signs[..., None, None] * (u * others[..., None, :]) @ vh


def det_grad(g: Any, a: Any, ans: Any) -> Any:
    """Adjoint of ``np.linalg.det``: ``g`` times the cofactor matrix."""
    return np.asarray(g)[..., None, None] * cofactors(a, ans)


def det_tangent(t: Any, a: Any, ans: Any) -> Any:
    """Tangent of ``np.linalg.det``: the cofactors' inner product with ``t``."""
    return np.sum(cofactors(a, ans) * t, axis=(-2, -1))


def slogdet_grad(g: Any, a: Any) -> Any:
    """Adjoint of ``np.linalg.slogdet`` (the sign has none): ``g_logdet A^-T``."""
    return np.asarray(g[1])[..., None, None] * matrix_transpose(np.linalg.inv(a))


def slogdet_tangent(t: Any, a: Any, ans: Any) -> tuple:
    """Tangent of ``np.linalg.slogdet``: sign 0, log-determinant ``trace(solve(A, t))``."""
    return np.zeros_like(ans[0]), np.trace(np.linalg.solve(a, t), axis1=-2, axis2=-1)


def inv_grad(g: Any, ans: Any) -> Any:
    """Adjoint of ``np.linalg.inv``: ``-A^-T g A^-T`` (``ans`` is ``A^-1``)."""
    inverse_t = matrix_transpose(ans)
    return -(inverse_t @ g @ inverse_t)


def _symmetric_read(s: Any, lower: bool) -> Any:
    """The gradient with respect to a matrix of which only one triangle is read (the
    other mirrors it), from ``s``, the gradient with respect to the symmetric matrix."""
    both = s + matrix_transpose(s)
    part = np.tril(both, -1) if lower else np.triu(both, 1)
    return part + np.diagonal(s, axis1=-2, axis2=-1)[..., None] * np.eye(s.shape[-1])


def _mirrored(t: Any, lower: bool) -> Any:
    """The symmetric matrix a routine reading one triangle of ``t`` sees."""
    if lower:
        return np.tril(t) + matrix_transpose(np.tril(t, -1))
    return np.triu(t) + matrix_transpose(np.triu(t, 1))


def _halved_lower(m: Any) -> Any:
    """The lower triangle of ``m`` with its diagonal halved."""
    return np.tril(m) - 0.5 * np.diagonal(m, axis1=-2, axis2=-1)[..., None] * np.eye(m.shape[-1])


def _right_inverse(m: Any, a: Any) -> Any:
    """``m A^-1`` by a solve: ``solve(A^T, m^T)^T``."""
    return matrix_transpose(np.linalg.solve(matrix_transpose(a), matrix_transpose(m)))


def cholesky_grad(g: Any, a: Any, ans: Any, upper: bool = False) -> Any:
    """Adjoint of ``np.linalg.cholesky(a, upper)``, which reads one triangle of ``a``:
    with ``L`` the lower factor, ``S = L^-T Phi(L^T g) L^-1`` (``Phi``: lower triangle,
    halved diagonal) by solves, then folded onto the triangle read."""
    lower, g_lower = (matrix_transpose(ans), matrix_transpose(g)) if upper else (ans, g)
    inner = _halved_lower(matrix_transpose(lower) @ g_lower)
    s = _right_inverse(np.linalg.solve(matrix_transpose(lower), inner), lower)
    return _symmetric_read(s, not upper)


def cholesky_tangent(t: Any, a: Any, ans: Any, upper: bool = False) -> Any:
    """Tangent of ``np.linalg.cholesky``: ``dL = L Phi(L^-1 dA L^-T)``."""
    lower = matrix_transpose(ans) if upper else ans
    change = _mirrored(t, not upper)
    inner = _right_inverse(np.linalg.solve(lower, change), matrix_transpose(lower))
    d_lower = lower @ _halved_lower(inner)
    return matrix_transpose(d_lower) if upper else d_lower


def _through_gaps(w: Any, x: Any) -> Any:
    """``F * x`` with ``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal and 0 on it: how
    eigenvectors (singular vectors) turn. Where two values are equal, the vectors may
    turn within the plane they span, and the derivative there is a limit this adjoint
    cannot see (through ``V f(w) V^T`` it is ``f'(w)``): NaN where ``x`` is not 0 there
    (round 75a: the exponential of a symmetric matrix at 0, a polar factor at 2I gave a
    wrong finite number), 0 where it is (the function does not read those vectors; but
    also where ``f(w) = 0`` makes it 0, a matrix log at I, whose true limit is not 0:
    left open, round 76b). (The places
    divide by 1, not by 0: an infinity overwritten would make this helper's own
    derivative NaN, 0 * inf, when it is differentiated again for a Hessian.)"""
    differences = w[..., None, :] - w[..., :, None]
    # (equal up to rounding too: eigenvalues equal in exact arithmetic come out a few
    # float epsilons apart, and 1 / (w_j - w_i) of those is noise: round 76a)
    scale = np.max(np.abs(w), axis=-1, keepdims=True)[..., None]
    equal = np.abs(differences) <= _EQUAL_VALUES * np.finfo(float).eps * scale
    turned = np.where(equal, 0.0, 1.0 / np.where(equal, 1.0, differences)) * x
    unknown = equal & ~np.eye(w.shape[-1], dtype=bool) & (x != 0)
    return np.where(unknown, np.nan, turned)


#: how many float epsilons of the largest value two eigenvalues (singular values) may
#: differ by and count as equal (an eigensolver's rounding is a few of them)
_EQUAL_VALUES = 64


def _has_gradient(g: Any) -> bool:
    return bool(np.any(np.asarray(g) != 0))


#: the triangle of a symmetric matrix ``np.linalg.eigh`` reads
_Triangle = Literal["L", "U"]


def eigh_grad(g: Any, a: Any, ans: Any, UPLO: _Triangle = "L") -> Any:
    """Adjoint of ``np.linalg.eigh`` (which reads one triangle of ``a``):
    ``V (diag(g_w) + F * (V^T g_V)) V^T`` with ``F = 1 / (w_j - w_i)``, folded onto the
    triangle read. The eigenvectors' term needs distinct eigenvalues."""
    w, v = ans
    g_w, g_v = g
    middle = np.zeros(np.shape(v)) + np.asarray(g_w)[..., None] * np.eye(w.shape[-1])
    if _has_gradient(g_v):
        middle = middle + _through_gaps(w, matrix_transpose(v) @ g_v)
    s = v @ middle @ matrix_transpose(v)
    return _symmetric_read(s, UPLO == "L")


def eigh_tangent(t: Any, a: Any, ans: Any, UPLO: _Triangle = "L") -> tuple:
    """Tangent of ``np.linalg.eigh``: ``dw = diag(V^T dA V)``, ``dV = V (F * V^T dA V)``."""
    w, v = ans
    c = matrix_transpose(v) @ _mirrored(t, UPLO == "L") @ v
    with np.errstate(invalid="ignore"):
        return np.diagonal(c, axis1=-2, axis2=-1).copy(), v @ _through_gaps(w, c)


def eigvalsh_grad(g: Any, a: Any, UPLO: _Triangle = "L") -> Any:
    """Adjoint of ``np.linalg.eigvalsh``: ``V diag(g) V^T``, folded onto the triangle read."""
    _, v = np.linalg.eigh(a, UPLO=UPLO)
    s = (v * np.asarray(g)[..., None, :]) @ matrix_transpose(v)
    return _symmetric_read(s, UPLO == "L")


def eigvalsh_tangent(t: Any, a: Any, UPLO: _Triangle = "L") -> Any:
    """Tangent of ``np.linalg.eigvalsh``: ``diag(V^T dA V)``."""
    _, v = np.linalg.eigh(a, UPLO=UPLO)
    return np.einsum("...ji,...jk,...ki->...i", v, _mirrored(t, UPLO == "L"), v)


def _check_qr(a: Any, mode: str) -> None:
    m, n = np.shape(a)[-2:]
    if mode != "reduced" or m < n:
        raise UnsupportedSyntaxError(
            "srcad differentiates np.linalg.qr in mode 'reduced' for matrices with at least "
            f"as many rows as columns (here mode {mode!r}, {m} x {n})",
            "use the default mode (q, r = np.linalg.qr(a)); for a wide matrix, take the QR "
            "of its transpose",
            _user_line(),
        )


def _copy_lower_to_upper(m: Any) -> Any:
    return np.tril(m) + matrix_transpose(np.tril(m, -1))


def qr_grad(g: Any, a: Any, ans: Any, mode: str = "reduced") -> Any:
    """Adjoint of ``np.linalg.qr`` (reduced, ``m >= n``): with ``M = R g_R^T - g_Q^T Q``,
    ``(g_Q + Q copyltu(M)) R^-T``, by a solve."""
    _check_qr(a, mode)
    q, r = ans
    g_q = np.zeros(np.shape(q)) + g[0]
    g_r = np.zeros(np.shape(r)) + g[1]
    m = r @ matrix_transpose(g_r) - matrix_transpose(g_q) @ q
    b = g_q + q @ _copy_lower_to_upper(m)
    return matrix_transpose(np.linalg.solve(r, matrix_transpose(b)))


def qr_tangent(t: Any, a: Any, ans: Any, mode: str = "reduced") -> tuple:
    """Tangent of ``np.linalg.qr``: with ``X = Q^T dA R^-1`` and ``W`` the antisymmetric
    matrix with ``X``'s strict lower triangle, ``dR = (X - W) R``, ``dQ = (dA - Q dR) R^-1``."""
    _check_qr(a, mode)
    q, r = ans
    x = _right_inverse(matrix_transpose(q) @ t, r)
    low = np.tril(x, -1)
    d_r = (x - low + matrix_transpose(low)) @ r
    return _right_inverse(t - q @ d_r, r), d_r


# ---------------------------------------------------------------- special functions


def _digamma_series(y: Any, log: Any) -> Any:
    """The asymptotic series of psi at ``y >= 10`` (error below 1e-15)."""
    inv2 = 1.0 / (y * y)
    tail = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (
        1 / 240 - inv2 * (1 / 132 - inv2 * (691 / 32760 - inv2 / 12))))))
    return log(y) - 0.5 / y - tail


def _digamma_float(x: float) -> float:
    if x < 0.5:  # reflection: psi(x) = psi(1 - x) - pi / tan(pi x)
        return _digamma_float(1.0 - x) - math.pi / math.tan(math.pi * x)
    shift = 0.0
    while x < 10.0:  # recurrence: psi(x) = psi(x + 1) - 1 / x
        shift -= 1.0 / x
        x += 1.0
    return _digamma_series(x, math.log) + shift


def digamma(x: Any) -> Any:
    """psi(x), the derivative of ``log(gamma(x))`` (floats and arrays): the recurrence up
    to 10, then the asymptotic series; the reflection formula below 1/2."""
    if isinstance(x, float | int):
        return _digamma_float(float(x))
    x = np.asarray(x, dtype=float)
    reflect = x < 0.5
    y = np.where(reflect, 1.0 - x, x)
    shift = np.zeros(np.shape(y))
    while np.any(small := y < 10.0):
        shift = shift - np.where(small, 1.0 / y, 0.0)
        y = np.where(small, y + 1.0, y)
    psi = _digamma_series(y, np.log) + shift
    return np.where(reflect, psi - np.pi / np.tan(np.pi * x), psi)


def _trigamma_series(y: Any) -> Any:
    """The asymptotic series of psi' at ``y >= 10`` (error below 1e-15)."""
    inv = 1.0 / y
    inv2 = inv * inv
    tail = inv2 * (1 / 6 - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 * (
        1 / 30 - inv2 * (5 / 66 - inv2 * (691 / 2730 - inv2 * 7 / 6))))))
    return inv + 0.5 * inv2 + inv * tail


def trigamma(x: Any) -> Any:
    """psi'(x), the derivative of :func:`digamma` (floats and arrays): the recurrence up
    to 10, then the asymptotic series; the reflection formula below 1/2."""
    scalar = isinstance(x, float | int)
    x = np.asarray(x, dtype=float)
    reflect = x < 0.5
    y = np.where(reflect, 1.0 - x, x)
    shift = np.zeros(np.shape(y))
    while np.any(small := y < 10.0):
        shift = shift + np.where(small, 1.0 / (y * y), 0.0)
        y = np.where(small, y + 1.0, y)
    value = _trigamma_series(y) + shift
    value = np.where(reflect, (np.pi / np.sin(np.pi * x)) ** 2 - value, value)
    return float(value) if scalar else value


def bessel_i1(x: Any) -> Any:
    """The modified Bessel function ``I_1(x)``, the derivative of ``np.i0`` (SciPy's,
    imported when a gradient first needs it: srcad does not import SciPy itself)."""
    try:
        from scipy.special import i1
    except ImportError:  # pragma: no cover - SciPy is installed where srcad is tested
        raise UnsupportedSyntaxError(
            "the derivative of np.i0 is the Bessel function I_1, which srcad computes "
            "with SciPy, and SciPy is not installed", "install scipy") from None
    return i1(x)


def fsum_grad(g: Any, xs: Any) -> Any:
    """Adjoint of ``math.fsum(xs)``: every item gets ``g``."""
    if isinstance(xs, np.ndarray):
        return np.full(xs.shape, g, dtype=gradient_dtype(g, xs))
    return AdjointList([g] * len(xs))


def sum_items_grad(g: Any, items: Any) -> Any:
    """Adjoint of the builtin ``sum(items)``: each item gets ``g``, summed back to the
    item's shape (items may broadcast); an array's rows all get ``g``."""
    if isinstance(items, np.ndarray):
        return np.array(np.broadcast_to(g, items.shape), dtype=gradient_dtype(g, items))
    if g.__class__ is float:  # (a float sum: every item is a number, and gets g itself)
        return AdjointList([g] * len(items))
    # (each item its own array: an item's adjoint is updated in place later, d[k] += v,
    # which must not change the others')
    parts = [unbroadcast(g, item) for item in items]
    return AdjointList(
        part.copy() if isinstance(part, np.ndarray) and part is g else part for part in parts
    )


def x_over_y(x: Any, y: Any) -> Any:
    """``x / y``, exactly 0 where both are 0 (the derivative of ``xlogy`` in ``y``: 0
    where ``x`` is, whatever ``y``). Only there: where ``y`` is not 0, ``x / y`` is that
    0 already, and its own derivative in ``x``, ``1 / y``, is the mixed second
    derivative of ``xlogy`` (round 64a: a guard on ``x == 0`` alone made it 0)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    both = (x == 0) & (y == 0)
    return np.where(both, 0.0, x / np.where(both, 1.0, y))


def logsumexp_weights(x: Any, ans: Any, axis: Any = None, b: Any = None,
                      keepdims: bool = False) -> Any:
    """``exp(x - logsumexp)``: each item's share (before the weights ``b``); exactly 0
    in a lane whose logsumexp is -inf (every item is -inf: an unreachable state of an
    HMM or CTC recursion, nothing to share, where the formula reads ``exp(nan)``)."""
    total = _expand(ans, x, axis, keepdims)
    with np.errstate(invalid="ignore"):  # (exp(-inf) there: a second derivative, which
        return np.exp(np.where(total == -np.inf, -np.inf, x - total))  # reads this, too)


def logsumexp_grad(g: Any, x: Any, ans: Any, axis: Any = None, b: Any = None,
                   keepdims: bool = False, return_sign: bool = False) -> Any:
    """Adjoint of ``scipy.special.logsumexp(x, axis, b, keepdims)`` for ``x``:
    ``b exp(x - ans) g`` (a softmax)."""
    _check_sign(return_sign)
    share = logsumexp_weights(x, ans, axis, b, keepdims) * _expand(g, x, axis, keepdims)
    return unbroadcast(share if b is None else share * b, x)


def logsumexp_weight_grad(g: Any, x: Any, ans: Any, axis: Any = None, b: Any = None,
                          keepdims: bool = False, return_sign: bool = False) -> Any:
    """Adjoint of ``scipy.special.logsumexp`` for the weights ``b``: ``exp(x - ans) g``."""
    _check_sign(return_sign)
    share = logsumexp_weights(x, ans, axis, b, keepdims) * _expand(g, x, axis, keepdims)
    return unbroadcast(share, b)


def logsumexp_tangent(t: Any, x: Any, ans: Any, axis: Any = None, b: Any = None,
                      keepdims: bool = False, weight: bool = False) -> Any:
    """Tangent of ``scipy.special.logsumexp`` for ``x`` (or, with ``weight``, for ``b``)."""
    share = logsumexp_weights(x, ans, axis, b, keepdims)
    if b is not None and not weight:
        share = share * b
    # (an item of -inf has a share of 0 and may have an infinite tangent: -inf / s)
    return np.sum(times_or_zero(share, t), axis=axis, keepdims=keepdims)


def _check_sign(return_sign: bool) -> None:
    if return_sign:
        raise UnsupportedSyntaxError(
            "srcad differentiates scipy.special.logsumexp without return_sign",
            "leave return_sign out; with weights of both signs, write the sum with its "
            "shift: m = np.max(x); m + np.log(np.abs(np.sum(b * np.exp(x - m))))",
            _user_line(),
        )


def _interp_parts(x: Any, xp: Any, fp: Any) -> tuple[Any, Any, Any, Any]:
    """For ``np.interp(x, xp, fp)``: each point's segment ``j`` (``xp[j] <= x <=
    xp[j + 1]``), its place ``t`` in it, its slope, and where it is inside ``xp``'s range
    (outside it the value is the end's ``fp``)."""
    x, xp, fp = np.asarray(x, dtype=float), np.asarray(xp, dtype=float), np.asarray(fp, dtype=float)
    j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    width = xp[j + 1] - xp[j]
    inside = (x >= xp[0]) & (x <= xp[-1])
    t = np.where(inside, (x - xp[j]) / width, np.where(x > xp[-1], 1.0, 0.0))
    return j, t, (fp[j + 1] - fp[j]) / width, inside


def interp_grad_x(g: Any, x: Any, xp: Any, fp: Any) -> Any:
    """Adjoint of ``np.interp(x, xp, fp)`` for ``x``: the slope of its segment (zero
    outside ``xp``'s range, where the value is constant)."""
    _, _, slope, inside = _interp_parts(x, xp, fp)
    return np.reshape(np.where(inside, slope, 0.0) * g, np.shape(x))


def _beyond_end(x: Any, xp: Any, is_left: bool) -> Any:
    """Where ``x`` lies beyond ``xp``'s first point (``is_left``) or its last."""
    x, xp = np.asarray(x, dtype=float), np.asarray(xp, dtype=float)
    return x < xp[0] if is_left else x > xp[-1]


def _beyond_ends(x: Any, xp: Any, left: Any, right: Any) -> Any:
    """Where ``np.interp`` gives ``left`` or ``right`` (when given) rather than ``fp``."""
    beyond = np.zeros(np.shape(x), dtype=bool)
    if left is not None:
        beyond = beyond | _beyond_end(x, xp, True)
    if right is not None:
        beyond = beyond | _beyond_end(x, xp, False)
    return beyond


def interp_grad_fp(
    g: Any, x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None
) -> Any:
    """Adjoint of ``np.interp(x, xp, fp)`` for ``fp``: each point's ``g`` shared by its
    segment's ends, ``1 - t`` and ``t`` (a repeated segment adds); nothing for a point
    beyond an end whose value ``left`` or ``right`` gives."""
    j, t, _, _ = _interp_parts(x, xp, fp)
    g = np.where(_beyond_ends(x, xp, left, right), 0.0, np.broadcast_to(g, np.shape(t)))
    out = np.zeros(np.shape(fp))
    np.add.at(out, j, (1.0 - t) * g)
    np.add.at(out, j + 1, t * g)
    return out


def interp_grad_xp(g: Any, x: Any, xp: Any, fp: Any) -> Any:
    """Adjoint of ``np.interp(x, xp, fp)`` for ``xp``: moving a segment's end moves the
    line through it (``-slope (1 - t)`` and ``-slope t``; nothing outside the range)."""
    j, t, slope, inside = _interp_parts(x, xp, fp)
    g = np.where(inside, np.broadcast_to(g, np.shape(t)), 0.0)
    out = np.zeros(np.shape(xp))
    np.add.at(out, j, -slope * (1.0 - t) * g)
    np.add.at(out, j + 1, -slope * t * g)
    return out


def interp_grad_end(g: Any, x: Any, xp: Any, is_left: bool) -> Any:
    """Adjoint of ``np.interp(x, xp, fp, left, right)`` for ``left`` (``is_left``) or
    ``right``: the ``g`` of the points beyond that end."""
    beyond = _beyond_end(x, xp, is_left)
    return float(np.sum(np.where(beyond, np.broadcast_to(g, np.shape(beyond)), 0.0)))


def interp_end_tangent(t: Any, x: Any, xp: Any, is_left: bool) -> Any:
    """Tangent of ``np.interp`` along ``left`` (``is_left``) or ``right``."""
    out = np.where(_beyond_end(x, xp, is_left), t, 0.0)
    return out if np.ndim(x) else float(out)


def interp_tangent(
    tx: Any, txp: Any, tfp: Any, x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None
) -> Any:
    """Tangent of ``np.interp(x, xp, fp)`` (``None`` for an input without one)."""
    j, t, slope, inside = _interp_parts(x, xp, fp)
    out = np.zeros(np.shape(t))
    if tx is not None:
        out = out + np.where(inside, slope, 0.0) * np.asarray(tx)
    if tfp is not None:
        tfp = np.asarray(tfp)
        along = (1.0 - t) * tfp[j] + t * tfp[j + 1]
        out = out + np.where(_beyond_ends(x, xp, left, right), 0.0, along)
    if txp is not None:
        txp = np.asarray(txp)
        out = out + np.where(inside, -slope * ((1.0 - t) * txp[j] + t * txp[j + 1]), 0.0)
    return out if np.ndim(x) else float(out)


def _running_sources(x: Any, ans: Any, axis: int) -> Any:
    """For ``np.maximum.accumulate(x, axis)`` (``ans``), along the last axis: the
    position each running extreme came from (where the run changed last)."""
    moved = np.moveaxis(np.asarray(ans), axis, -1)
    changed = np.ones(moved.shape, bool)
    changed[..., 1:] = moved[..., 1:] != moved[..., :-1]
    positions = np.where(changed, np.arange(moved.shape[-1]), 0)
    return np.maximum.accumulate(positions, axis=-1)


def running_extreme_grad(g: Any, x: Any, ans: Any, axis: int) -> Any:
    """Adjoint of ``np.maximum.accumulate(x, axis)`` (minimum's too): each item of ``g``
    goes to the item its running extreme came from."""
    sources = _running_sources(x, ans, axis)
    n = sources.shape[-1]
    moved_g = np.moveaxis(np.broadcast_to(g, np.shape(ans)), axis, -1).reshape(-1, n)
    out = np.zeros(moved_g.shape)
    rows = np.repeat(np.arange(moved_g.shape[0]), n)
    np.add.at(out, (rows, sources.reshape(-1)), moved_g.reshape(-1))
    return np.moveaxis(out.reshape(sources.shape), -1, axis)


def running_extreme_tangent(t: Any, x: Any, ans: Any, axis: int) -> Any:
    """Tangent of ``np.maximum.accumulate(x, axis)``: each item's source's tangent."""
    moved_t = np.moveaxis(np.broadcast_to(t, np.shape(x)), axis, -1)
    taken = np.take_along_axis(moved_t, _running_sources(x, ans, axis), axis=-1)
    return np.moveaxis(taken, -1, axis)


def joined_parts(g: Any, parts: Any, axis: int) -> Any:
    """Adjoint of ``np.split(x, sections, axis)`` (``parts``, its result): the parts'
    adjoints joined along ``axis`` (a part without one: zeros of its shape)."""
    return np.concatenate(
        [np.broadcast_to(p, np.shape(q)) for p, q in zip(g, parts)], axis=axis
    )


def _full_length(g: Any, a: Any, v: Any, correlation: bool) -> Any:
    """``g``, the adjoint of a 1-D convolution's (``correlation``: correlation's) result
    in some mode, as the adjoint of its full result: the mode's window of it, padded
    with zeros (numpy centres ``same`` on the longer input; a correlation with the
    shorter one first is computed the other way round, one item later)."""
    n, m = np.size(a), np.size(v)
    total, length = n + m - 1, np.size(g)
    offset = (total - length + (correlation and n < m)) // 2
    full = np.zeros(total, dtype=gradient_dtype(g, a, v))
    full[offset : offset + length] = g
    return full


def convolve_grad(g: Any, a: Any, v: Any, correlation: bool = False) -> Any:
    """Adjoint of ``np.convolve(a, v, mode)`` for ``a`` (for ``v``: the same with the
    two swapped, as convolution is symmetric); ``correlation``: of ``np.correlate``,
    which is the convolution with ``v`` reversed."""
    kernel = np.asarray(v)[::-1] if correlation else np.asarray(v)
    return np.correlate(_full_length(g, a, v, correlation), kernel, "valid")


def correlate_kernel_grad(g: Any, a: Any, v: Any) -> Any:
    """Adjoint of ``np.correlate(a, v, mode)`` for ``v``."""
    return np.correlate(_full_length(g, a, v, True), np.asarray(a), "valid")[::-1]


def resize_grad(g: Any, x: Any) -> Any:
    """Adjoint of ``np.resize(x, shape)``: the result repeats ``x``'s items in order (or
    keeps the first ones), so each item of ``x`` gets the sum of its copies' gradients."""
    size = np.size(x)
    out = np.zeros(size, dtype=gradient_dtype(g, x))
    if size:
        flat = np.ravel(g)
        np.add.at(out, np.arange(flat.size) % size, flat)
    return out.reshape(np.shape(x))


def _sorted_order(items: Any, reverse: bool) -> list[int]:
    """The positions ``sorted(items, reverse=reverse)`` takes its items from, by Python's
    own sort (stable both ways; numbers, or tuples such as a dict's items)."""
    return sorted(range(len(items)), key=items.__getitem__, reverse=reverse)


def sorted_grad(g: Any, items: Any, reverse: bool = False) -> Any:
    """Adjoint of ``sorted(items)`` (numbers): each item gets the gradient of the place
    it was sorted to."""
    out = AdjointList([0.0] * len(items))
    for place, source in enumerate(_sorted_order(items, reverse)):
        out[source] = g[place]
    return out


def sorted_tangent(t: Any, items: Any, reverse: bool = False) -> Any:
    """Tangent of ``sorted(items)``: the items' tangents in the sorted order."""
    return AdjointList([t[source] for source in _sorted_order(items, reverse)])


def _matrix_powers(a: Any, n: int) -> list:
    """``a^0 ... a^(n-1)`` (of the stack of matrices ``a``), for ``n >= 0``."""
    powers = [np.broadcast_to(np.eye(a.shape[-1]), a.shape)]
    for _ in range(1, n):
        powers.append(powers[-1] @ a)
    return powers


def matrix_power_grad(g: Any, a: Any, n: int) -> Any:
    """Adjoint of ``np.linalg.matrix_power(a, n)``: the sum over the product's factors,
    ``(a^T)^k g (a^T)^(n-1-k)`` (a negative ``n``: the power of the inverse ``b``, whose
    adjoint ``-b^T gb b^T`` goes to ``a``)."""
    a = np.asarray(a)
    if n < 0:
        b = np.linalg.inv(a)
        gb = matrix_power_grad(g, b, -n)
        return -(matrix_transpose(b) @ gb @ matrix_transpose(b))
    powers = _matrix_powers(a, n)
    out = np.zeros(np.broadcast_shapes(a.shape, np.shape(g)))
    for k in range(n):
        out = out + matrix_transpose(powers[k]) @ g @ matrix_transpose(powers[n - 1 - k])
    return out


def matrix_power_tangent(t: Any, a: Any, n: int) -> Any:
    """Tangent of ``np.linalg.matrix_power(a, n)``: ``sum_k a^k t a^(n-1-k)`` (of the
    inverse, whose tangent is ``-b t b``, for a negative ``n``)."""
    a = np.asarray(a)
    if n < 0:
        b = np.linalg.inv(a)
        return matrix_power_tangent(-(b @ t @ b), b, -n)
    powers = _matrix_powers(a, n)
    return sum((powers[k] @ t @ powers[n - 1 - k] for k in range(n)), np.zeros(a.shape))


def singular_values_grad(g: Any, a: Any) -> Any:
    """Adjoint of ``np.linalg.svd(a, compute_uv=False)``: ``u diag(g) v^T`` (distinct,
    nonzero singular values)."""
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    return (u * np.asarray(g)[..., None, :]) @ vt


def singular_values_tangent(t: Any, a: Any) -> Any:
    """Tangent of the singular values: ``diag(u^T t v)``."""
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    return np.einsum("...ij,...jk,...ki->...i", matrix_transpose(u), t, matrix_transpose(vt))


def _full_only_if_square(a: Any, full_matrices: bool) -> None:
    m, n = np.shape(a)[-2:]
    if full_matrices and m != n:
        from ..load import user_line

        raise UnsupportedSyntaxError(
            "srcad differentiates the singular vectors of np.linalg.svd of a matrix that is "
            f"not square ({m} x {n}) with full_matrices=False: the extra columns of a full "
            "u or v are not determined by the matrix",
            "pass full_matrices=False: u, s, vt = np.linalg.svd(a, full_matrices=False)",
            user_line(3),
        )


def svd_grad(
    g: Any, a: Any, ans: Any, full_matrices: bool = True, compute_uv: bool = True
) -> Any:
    """Adjoint of ``u, s, vt = np.linalg.svd(a)``: ``u (F * (u^T g_u - g_u^T u) s + diag(g_s)
    + s F * (v^T g_v - g_v^T v)) v^T`` with ``F = 1 / (s_j^2 - s_i^2)``, plus the parts of
    ``g_u`` and ``g_v`` outside the spans of ``u`` and ``v`` for a matrix that is not
    square (distinct, nonzero singular values; Townsend 2016). The values alone
    (``compute_uv=False``): ``u diag(g) v^T``."""
    if not compute_uv:
        return singular_values_grad(g, a)
    _full_only_if_square(a, full_matrices)
    u, s, vt = ans
    g_u, g_s, g_vt = g
    m, n = np.shape(a)[-2:]
    k = s.shape[-1]
    squares = s * s
    middle = np.zeros((*np.shape(s)[:-1], k, k)) + np.asarray(g_s)[..., None] * np.eye(k)
    grad = np.zeros(np.shape(a))
    if _has_gradient(g_u):
        ut_gu = matrix_transpose(u) @ g_u
        middle = middle + _through_gaps(squares, ut_gu - matrix_transpose(ut_gu)) * s[..., None, :]
        if m > k:
            grad = grad + (g_u - u @ ut_gu) @ (vt / s[..., :, None])
    if _has_gradient(g_vt):
        v = matrix_transpose(vt)
        vt_gv = matrix_transpose(g_vt @ v)  # (v^T g_v, as g_v = g_vt^T)
        middle = middle + s[..., :, None] * _through_gaps(squares, vt_gv - matrix_transpose(vt_gv))
        if n > k:
            grad = grad + (u / s[..., None, :]) @ (g_vt - (g_vt @ v) @ vt)
    return grad + u @ middle @ vt


def svd_tangent(
    t: Any, a: Any, ans: Any, full_matrices: bool = True, compute_uv: bool = True
) -> Any:
    """Tangent of ``np.linalg.svd``: with ``p = u^T t v``, ``ds = diag(p)``,
    ``du = u (F * (p s + s p^T)) + (I - u u^T) t v / s``, ``dv = v (F * (s p + p^T s))
    + (I - v v^T) t^T u / s``; the values alone: ``diag(u^T t v)``."""
    if not compute_uv:
        return singular_values_tangent(t, a)
    _full_only_if_square(a, full_matrices)
    u, s, vt = ans
    v = matrix_transpose(vt)
    m, n = np.shape(a)[-2:]
    k = s.shape[-1]
    p = matrix_transpose(u) @ t @ v
    pt = matrix_transpose(p)
    squares = s * s
    du = u @ _through_gaps(squares, p * s[..., None, :] + s[..., :, None] * pt)
    dv = v @ _through_gaps(squares, s[..., :, None] * p + pt * s[..., None, :])
    if m > k:
        du = du + (t @ v - u @ p) / s[..., None, :]
    if n > k:
        dv = dv + (matrix_transpose(t) @ u - v @ pt) / s[..., None, :]
    ds = np.diagonal(p, axis1=-2, axis2=-1).copy()
    return du, ds, matrix_transpose(dv)


def block_grad(g: Any, blocks: Any) -> Any:
    """Adjoint of ``np.block(blocks)`` (a list of arrays, or a list of rows of arrays):
    each block gets its part of ``g``, in the nested lists' structure."""
    g = np.asarray(g)
    if isinstance(blocks[0], list | tuple) and isinstance(blocks[0][0], list | tuple):
        from ..load import user_line

        raise UnsupportedSyntaxError(
            "srcad differentiates np.block of a row of blocks or of rows of them (two "
            "levels of lists), not deeper ones",
            "join the blocks with np.concatenate along each axis",
            user_line(),
        )
    if not isinstance(blocks[0], list | tuple):  # one row: joined along the last axis
        widths = np.cumsum([np.shape(b)[-1] if np.ndim(b) else 1 for b in blocks])[:-1]
        parts = np.split(g, widths, axis=-1)
        return AdjointList(np.reshape(p, np.shape(b)) for p, b in zip(parts, blocks))
    heights = [
        np.shape(row[0])[-2] if np.ndim(row[0]) >= 2 else 1 for row in blocks
    ]
    rows = np.split(g, np.cumsum(heights)[:-1], axis=-2)
    return AdjointList(
        block_grad(np.squeeze(part, axis=-2) if np.ndim(row[0]) < 2 else part, row)
        for part, row in zip(rows, blocks)
    )


def sliding_window_grad(g: Any, x: Any, window_shape: Any, axis: Any = None) -> Any:
    """Adjoint of ``sliding_window_view(x, window_shape, axis)``: each item of ``x`` gets
    the sum of ``g`` over the windows it is in (the windows of its positions)."""
    shape = np.shape(x)
    positions = np.arange(int(np.prod(shape))).reshape(shape)
    windows = np.lib.stride_tricks.sliding_window_view(positions, window_shape, axis=axis)
    total = np.bincount(windows.ravel(), weights=np.ravel(np.broadcast_to(g, windows.shape)),
                        minlength=positions.size)
    return total.reshape(shape)


# ---------------------------------------------------------------- pseudo-inverse, lstsq


def pinv_grad(g: Any, a: Any, ans: Any, hermitian: bool = False) -> Any:
    """Adjoint of ``np.linalg.pinv`` (Golub and Pereyra; where the rank does not change):
    ``-P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A)``, ``P = ans``. With
    ``hermitian``, numpy reads the lower triangle (through eigh): the gradient lies on it."""
    if hermitian:
        symmetric = _mirrored(a, True)
        return _symmetric_read(pinv_grad(g, symmetric, ans), True)
    p = ans
    pt = matrix_transpose(p)
    gt = matrix_transpose(np.zeros(np.shape(p)) + g)
    left = gt @ p @ pt
    right = pt @ p @ gt
    return -(pt @ g @ pt) + left - a @ (p @ left) + right - (right @ p) @ a


def pinv_tangent(t: Any, a: Any, ans: Any, hermitian: bool = False) -> Any:
    """Tangent of ``np.linalg.pinv``: ``-P t P + P P^T t^T (I - A P) + (I - P A) t^T P^T P``
    (with ``hermitian``, of the lower triangles mirrored, which numpy reads)."""
    if hermitian:
        return pinv_tangent(_mirrored(t, True), _mirrored(a, True), ans)
    p = ans
    pt, tt = matrix_transpose(p), matrix_transpose(t)
    left = p @ pt @ tt
    right = tt @ pt @ p
    return -(p @ t @ p) + left - left @ a @ p + right - p @ (a @ right)


def _lstsq_pinv(a: Any, rcond: Any) -> Any:
    """The pseudo-inverse ``np.linalg.lstsq`` solves with: singular values below ``rcond``
    times the largest are dropped (``None``: machine precision times the larger side)."""
    if rcond is None:
        rcond = np.finfo(np.result_type(a, float)).eps * max(np.shape(a)[-2:])
    return np.linalg.pinv(a, rcond=rcond)


def _lstsq_parts(g: Any, ans: Any) -> tuple[Any, Any, Any]:
    """The adjoints of ``lstsq``'s solution, residuals and singular values (zeros where
    the result's part has none); its rank has none."""
    beta, residuals, _, singular = ans
    return (np.zeros(np.shape(beta)) + g[0], np.zeros(np.shape(residuals)) + g[1],
            np.zeros(np.shape(singular)) + g[3])


def _residual_columns(a: Any, b: Any, beta: Any) -> Any:
    return _as_columns(b) - a @ _as_columns(beta)


def lstsq_grad_a(g: Any, a: Any, b: Any, ans: Any, rcond: Any = None) -> Any:
    """Adjoint of ``np.linalg.lstsq`` for ``a``: the solution is ``pinv(a) @ b``; the
    residuals ``|b - a x|^2`` (when numpy returns them) give ``-2 r g_res x^T`` (``a^T r``
    is 0 at the solution); the singular values ``u diag(g_s) v^T``."""
    g_beta, g_res, g_sv = _lstsq_parts(g, ans)
    beta = ans[0]
    grad = pinv_grad(_as_columns(g_beta) @ matrix_transpose(_as_columns(b)), a,
                     _lstsq_pinv(a, rcond))
    if np.size(g_res) and _has_gradient(g_res):
        r = _residual_columns(a, b, beta)
        grad = grad - 2.0 * (r * g_res) @ matrix_transpose(_as_columns(beta))
    if _has_gradient(g_sv):
        grad = grad + singular_values_grad(g_sv, a)
    return grad


def lstsq_grad_b(g: Any, a: Any, b: Any, ans: Any, rcond: Any = None) -> Any:
    """Adjoint of ``np.linalg.lstsq`` for ``b``: ``pinv(a)^T g_x + 2 r g_res``."""
    g_beta, g_res, _ = _lstsq_parts(g, ans)
    grad = matrix_transpose(_lstsq_pinv(a, rcond)) @ _as_columns(g_beta)
    if np.size(g_res) and _has_gradient(g_res):
        grad = grad + 2.0 * _residual_columns(a, b, ans[0]) * g_res
    return _from_columns(grad, b)


def lstsq_tangent_a(t: Any, a: Any, b: Any, ans: Any, rcond: Any = None) -> Any:
    """Tangent of ``np.linalg.lstsq`` along ``a``: ``dpinv @ b``, ``-2 sum(r * (t x))``,
    the singular values' ``diag(u^T t v)``."""
    beta, residuals, rank, _ = ans
    solution = _from_columns(pinv_tangent(t, a, _lstsq_pinv(a, rcond)) @ _as_columns(b), b)
    change = np.zeros(np.shape(residuals))
    if np.size(residuals):
        r = _residual_columns(a, b, beta)
        change = -2.0 * np.sum(r * (t @ _as_columns(beta)), axis=0)
    return SummedTuple((solution, change, 0, singular_values_tangent(t, a)))


def lstsq_tangent_b(t: Any, a: Any, b: Any, ans: Any, rcond: Any = None) -> Any:
    """Tangent of ``np.linalg.lstsq`` along ``b``: ``pinv(a) @ t``, ``2 sum(r * t)``."""
    beta, residuals, _, singular = ans
    solution = _lstsq_pinv(a, rcond) @ t
    change = np.zeros(np.shape(residuals))
    if np.size(residuals):
        change = 2.0 * np.sum(_residual_columns(a, b, beta) * _as_columns(t), axis=0)
    return SummedTuple((solution, change, 0, np.zeros(np.shape(singular))))


class SummedTuple(tuple):
    """The tangent of a function returning a tuple, along one of its operands: the
    tangents along several operands add item by item (``+`` of tuples would join them)."""

    def __add__(self, other: Any) -> SummedTuple:
        return SummedTuple(a + b for a, b in zip(self, other, strict=True))

    __radd__ = __add__


def meshgrid_grad(g: Any, k: int, indexing: str, sparse: bool, *inputs: Any) -> Any:
    """Adjoint of ``np.meshgrid(*inputs)`` for input ``k``: its output's adjoint summed
    over every axis but the one input ``k`` runs along (axes 0 and 1 swap for 'xy')."""
    axis = k
    if indexing == "xy" and len(inputs) > 1 and k < 2:
        axis = 1 - k
    part = np.asarray(np.zeros(()) + g[k])
    if part.ndim == 0:  # (that output has no gradient)
        return np.zeros(np.shape(inputs[k])) + part
    others = tuple(i for i in range(part.ndim) if i != axis)
    return np.reshape(np.sum(part, axis=others), np.shape(inputs[k]))


# ---------------------------------------------------------------- np.select


def _select_picks(condlist: Any, shape: tuple) -> Any:
    """Which choice ``np.select(condlist, ...)`` takes at each item of the result (of
    ``shape``): the first condition that holds, ``len(condlist)`` (the default) where none
    does."""
    count = len(condlist)
    picks = np.full(shape, count)
    for k in range(count - 1, -1, -1):
        picks = np.where(condlist[k], k, picks)
    return picks


def select_grad(g: Any, condlist: Any, choicelist: Any) -> Any:
    """Adjoint of ``np.select(condlist, choicelist, default)`` for the choices: each gets
    ``g`` where it is the one taken, summed to its shape (a number: one number)."""
    picks = _select_picks(condlist, np.shape(g))
    return AdjointList(
        unbroadcast(np.where(picks == k, g, 0.0), choice) for k, choice in enumerate(choicelist)
    )


def select_default_grad(g: Any, condlist: Any, default: Any) -> Any:
    """Adjoint of ``np.select`` for ``default``: ``g`` where no condition holds."""
    picks = _select_picks(condlist, np.shape(g))
    return unbroadcast(np.where(picks == len(condlist), g, 0.0), default)


def select_tangent(condlist: Any, choices: Any, default: Any, ans: Any) -> Any:
    """Tangent of ``np.select`` along the choices' tangents ``choices`` or the default's
    ``default`` (the other None): the same selection of tangents, in the result's shape."""
    zeros = np.zeros(np.shape(ans))
    if choices is None:
        choices = [zeros for _ in condlist]
    if default is None:
        default = zeros
    return np.select(condlist, choices, default) + zeros


# ---------------------------------------------------------------- np.vander


def vander_slopes(x: Any, N: Any, increasing: bool) -> Any:
    """The derivative of each item of ``np.vander(x, N, increasing)`` along its row's
    ``x``: ``k x**(k - 1)`` for the power ``k`` of its column."""
    x = np.asarray(x)
    columns = len(x) if N is None else N
    powers = np.vander(x, max(columns - 1, 0), increasing=True)
    slopes = np.zeros((len(x), columns), dtype=np.result_type(x, float))
    slopes[:, 1:] = powers * np.arange(1, columns)
    return slopes if increasing else slopes[:, ::-1]


# ---------------------------------------------------------------- NaN-ignoring variance


def nanvar_grad(g: Any, x: Any, axis: Any = None, ddof: Any = 0, keepdims: bool = False) -> Any:
    """Adjoint of ``np.nanvar(x, axis, ddof=ddof)``: ``2 (x - mean) g / (n - ddof)`` over
    the items that are not NaN (``n`` of them in each lane); NaNs get none."""
    centered, count = _nan_centered(x, axis)
    return centered * (2.0 / (count - ddof)) * _expand(g, x, axis, keepdims)


def nanvar_tangent(
    t: Any, x: Any, axis: Any = None, ddof: Any = 0, keepdims: bool = False
) -> Any:
    """Tangent of ``np.nanvar``: ``2 sum((x - mean) t) / (n - ddof)`` over the items that
    are not NaN."""
    centered, count = _nan_centered(x, axis)
    return np.sum(centered * (2.0 / (count - ddof)) * t, axis=axis, keepdims=keepdims)


def _nan_centered(x: Any, axis: Any) -> tuple[Any, Any]:
    """``x`` less the mean of its numbers along ``axis`` (0 at NaNs), and how many numbers
    each lane has (kept as axes of length 1)."""
    numbers = ~np.isnan(x)
    count = np.sum(numbers, axis=axis, keepdims=True)
    mean = np.nansum(x, axis=axis, keepdims=True) / count
    return np.where(numbers, x - mean, 0.0), count


# ---------------------------------------------------------------- np.gradient


def _gradient_axes(f: Any, spacings: tuple, axis: Any) -> list[tuple[Any, Any, int | None]]:
    """The axes ``np.gradient(f, *spacings, axis=axis)`` differentiates along, each with
    its spacing (a number or the coordinates) and which of ``spacings`` it is (None: 1.0)."""
    axes = _axes_of(axis, np.ndim(f))
    if not spacings:
        return [(a, 1.0, None) for a in axes]
    if len(spacings) == 1 and np.ndim(spacings[0]) == 0:
        return [(a, spacings[0], 0) for a in axes]
    return [(a, spacing, k) for k, (a, spacing) in enumerate(zip(axes, spacings, strict=True))]


def _gradient_weights(n: int, spacing: Any, edge_order: int) -> tuple:
    """The weights of numpy's differences along an axis of ``n`` items: the interior's
    (of items ``i - 1``, ``i``, ``i + 1`` for item ``i``, arrays of ``n - 2``), the first
    item's and the last's (of items 0, 1, 2 and -3, -2, -1), as numpy computes them."""
    if np.ndim(spacing) == 0:
        h = float(spacing)
        middle = (-0.5 / h, 0.0, 0.5 / h)
        if edge_order == 1:
            return middle, (-1.0 / h, 1.0 / h, 0.0), (0.0, -1.0 / h, 1.0 / h)
        return middle, (-1.5 / h, 2.0 / h, -0.5 / h), (0.5 / h, -2.0 / h, 1.5 / h)
    steps = np.diff(np.asarray(spacing, dtype=float))
    if np.all(steps == steps[0]):  # (numpy takes evenly spaced coordinates as one step)
        return _gradient_weights(n, steps[0], edge_order)
    d1, d2 = steps[:-1], steps[1:]
    middle = (-d2 / (d1 * (d1 + d2)), (d2 - d1) / (d1 * d2), d1 / (d2 * (d1 + d2)))
    if edge_order == 1:
        return middle, (-1.0 / steps[0], 1.0 / steps[0], 0.0), (0.0, -1.0 / steps[-1],
                                                                 1.0 / steps[-1])
    a, b = steps[0], steps[1]
    first = (-(2.0 * a + b) / (a * (a + b)), (a + b) / (a * b), -a / (b * (a + b)))
    a, b = steps[-2], steps[-1]
    last = (b / (a * (a + b)), -(a + b) / (a * b), (2.0 * b + a) / (b * (a + b)))
    return middle, first, last


def _gradient_adjoint_along(g: Any, n: int, spacing: Any, edge_order: int) -> Any:
    """The transpose of numpy's differences along axis 0 (of ``n`` items) applied to ``g``."""
    (before, at, after), first, last = _gradient_weights(n, spacing, edge_order)
    column = (slice(None),) + (None,) * (np.ndim(g) - 1)
    weights = [np.asarray(w, dtype=float) for w in (before, at, after)]
    weights = [w[column] if w.ndim else w for w in weights]
    inner = g[1:-1]
    out = np.zeros(np.shape(g), dtype=gradient_dtype(g))
    out[:-2] += weights[0] * inner
    out[1:-1] += weights[1] * inner
    out[2:] += weights[2] * inner
    for k in range(3):  # (the edges: two items each, or three; 0 marks no item)
        if first[k] != 0.0:
            out[k] += first[k] * g[0]
        if last[k] != 0.0:
            out[n - 3 + k] += last[k] * g[-1]
    return out


def gradient_grad(g: Any, f: Any, spacings: tuple, axis: Any, edge_order: int) -> Any:
    """Adjoint of ``np.gradient(f, *spacings, axis=axis, edge_order=edge_order)``, which
    is linear in ``f``: each axis's differences transposed, applied to that axis's part
    of ``g`` (one array, or a tuple of them, one per axis), and summed."""
    axes = _gradient_axes(f, spacings, axis)
    parts = g if len(axes) > 1 else (g,)
    out = np.zeros(np.shape(f), dtype=gradient_dtype(f))
    for (a, spacing, _), part in zip(axes, parts):
        part = np.moveaxis(np.broadcast_to(part, np.shape(f)), a, 0)
        n = np.shape(f)[a]
        out += np.moveaxis(_gradient_adjoint_along(part, n, spacing, edge_order), 0, a)
    return out


@run_time_check
def _scalar_spacing(spacing: Any) -> None:
    """Refuse a gradient with respect to ``np.gradient``'s coordinates (an array)."""
    if np.ndim(spacing) != 0:
        from ..load import user_line

        raise UnsupportedSyntaxError(
            "srcad differentiates np.gradient with respect to a spacing that is one "
            "number, not to coordinates given as an array",
            "compute the spacing's effect yourself (np.diff of the coordinates), or keep "
            "the coordinates constant",
            user_line(3),
        )


def gradient_spacing_grad(
    g: Any, f: Any, spacings: tuple, axis: Any, edge_order: int, ans: Any, k: int
) -> Any:
    """Adjoint of ``np.gradient`` for the spacing ``spacings[k]`` (a number ``h``): each
    result it divides is ``D f / h``, so it gets ``-sum(g * result) / h`` from each."""
    axes = _gradient_axes(f, spacings, axis)
    _scalar_spacing(spacings[k])
    parts, results = (g, ans) if len(axes) > 1 else ((g,), (ans,))
    total = 0.0
    for (_, _, which), part, result in zip(axes, parts, results):
        if which == k:
            total = total - np.sum(part * result) / spacings[k]
    return total


def gradient_spacing_tangent(
    t: Any, f: Any, spacings: tuple, axis: Any, edge_order: int, ans: Any, k: int
) -> Any:
    """Tangent of ``np.gradient`` along the spacing ``spacings[k]`` (a number ``h``): each
    result it divides changes by ``-result t / h``, the others not at all."""
    axes = _gradient_axes(f, spacings, axis)
    _scalar_spacing(spacings[k])
    results = ans if len(axes) > 1 else (ans,)
    changes = [
        -result * t / spacings[k] if which == k else np.zeros(np.shape(result))
        for (_, _, which), result in zip(axes, results)
    ]
    return SummedTuple(changes) if len(axes) > 1 else changes[0]


# ---------------------------------------------------------------- np.corrcoef


def _variables(x: Any, y: Any, rowvar: bool) -> Any:
    """The variables ``np.corrcoef(x, y, rowvar)`` correlates, one per row (as np.cov
    stacks them)."""
    rows = np.array(x, ndmin=2, dtype=float)
    if not rowvar and np.ndim(x) != 1:
        rows = rows.T
    if y is not None:
        more = np.array(y, ndmin=2, dtype=float)
        if not rowvar and more.shape[0] != 1:
            more = more.T
        rows = np.concatenate((rows, more), axis=0)
    return rows


def _unstacked(g_rows: Any, x: Any, y: Any, rowvar: bool, which: int) -> Any:
    """The part of ``g_rows`` (one row per variable) that belongs to ``x`` (``which`` 0)
    or ``y`` (1), in that operand's shape (the adjoint of :func:`_variables`)."""
    own = _variables(x, None, rowvar).shape[0]
    if which == 0:
        part, value, turned = g_rows[:own], x, np.ndim(x) != 1
    else:
        part, value, turned = g_rows[own:], y, np.array(y, ndmin=2).shape[0] != 1
    return np.reshape(part.T if turned and not rowvar else part, np.shape(value))


def _correlation_parts(rows: Any) -> tuple[Any, Any, Any]:
    """The centred variables, their scatter matrix ``C`` (the covariance times ``n - 1``:
    the correlation does not depend on that factor) and the correlation ``C / (s s^T)``
    with ``s = sqrt(diag C)``."""
    centered = rows - np.mean(rows, axis=1, keepdims=True)
    scatter = centered @ centered.T
    spread = np.sqrt(np.diagonal(scatter))
    return centered, scatter, scatter / np.outer(spread, spread)


def corrcoef_grad(g: Any, x: Any, y: Any, rowvar: bool, which: int) -> Any:
    """Adjoint of ``np.corrcoef(x, y, rowvar)`` for ``x`` (``which`` 0) or ``y`` (1):
    ``R = C / (s s^T)`` gives ``G_C = G / (s s^T) - diag(rowsum(G R) + colsum(G R)) / (2
    diag C)``, and ``C = X_c X_c^T`` gives ``(G_C + G_C^T) X_c`` (whose rows already sum
    to zero, as centring asks). One variable: a constant 1, no gradient."""
    rows = _variables(x, y, rowvar)
    if rows.shape[0] == 1:
        return np.zeros(np.shape(x if which == 0 else y))
    centered, scatter, correlation = _correlation_parts(rows)
    spread = np.sqrt(np.diagonal(scatter))
    weighted = g * correlation
    g_scatter = g / np.outer(spread, spread) - np.diag(
        (weighted.sum(axis=0) + weighted.sum(axis=1)) / (2.0 * np.diagonal(scatter))
    )
    return _unstacked((g_scatter + g_scatter.T) @ centered, x, y, rowvar, which)


def corrcoef_tangent(t_x: Any, t_y: Any, x: Any, y: Any, rowvar: bool) -> Any:
    """Tangent of ``np.corrcoef(x, y, rowvar)`` along ``x``'s tangent ``t_x`` or ``y``'s
    ``t_y`` (the other None): ``dR = dC / (s s^T) - R (d_i + d_j) / 2`` with ``d =
    diag(dC) / diag(C)``."""
    rows = _variables(x, y, rowvar)
    if rows.shape[0] == 1:
        return 0.0
    t_rows = _variables(
        np.zeros(np.shape(x)) if t_x is None else t_x,
        None if y is None else (np.zeros(np.shape(y)) if t_y is None else t_y),
        rowvar,
    )
    centered, scatter, correlation = _correlation_parts(rows)
    t_centered = t_rows - np.mean(t_rows, axis=1, keepdims=True)
    t_scatter = t_centered @ centered.T + centered @ t_centered.T
    spread = np.sqrt(np.diagonal(scatter))
    relative = np.diagonal(t_scatter) / np.diagonal(scatter)
    return t_scatter / np.outer(spread, spread) - correlation * (
        relative[:, None] + relative[None, :]
    ) / 2.0


# ---------------------------------------------------------------- np.linalg.multi_dot


def _as_chain(arrays: Any) -> list:
    """The operands of ``np.linalg.multi_dot`` as matrices: a first vector as one row, a
    last one as one column (as numpy reads them)."""
    chain = [np.asarray(a) for a in arrays]
    if chain[0].ndim == 1:
        chain[0] = chain[0][None, :]
    if chain[-1].ndim == 1:
        chain[-1] = chain[-1][:, None]
    return chain


def multi_dot_grad(g: Any, arrays: Any) -> Any:
    """Adjoint of ``np.linalg.multi_dot(arrays)``: operand ``k`` gets ``L_k^T G R_k^T``,
    with ``L_k`` the product of the operands before it and ``R_k`` of those after."""
    chain = _as_chain(arrays)
    count = len(chain)
    g_matrix = np.reshape(g, (chain[0].shape[0], chain[-1].shape[1]))
    before: list = [None] * count
    after: list = [None] * count
    for k in range(1, count):
        before[k] = chain[0] if k == 1 else before[k - 1] @ chain[k - 1]
    for k in range(count - 2, -1, -1):
        after[k] = chain[-1] if k == count - 2 else chain[k + 1] @ after[k + 1]
    out = AdjointList()
    for k, array in enumerate(arrays):
        part = g_matrix if before[k] is None else before[k].T @ g_matrix
        part = part if after[k] is None else part @ after[k].T
        out.append(np.reshape(part, np.shape(array)))
    return out


def multi_dot_tangent(t: Any, arrays: Any) -> Any:
    """Tangent of ``np.linalg.multi_dot(arrays)``: the sum over the operands of the
    product with that operand's tangent in its place."""
    total = 0.0
    for k in range(len(arrays)):
        operands = list(arrays)
        operands[k] = t[k]
        total = total + np.linalg.multi_dot(operands)
    return total


def sum_leading(g: Any, count: int, leading: bool) -> Any:
    """``g`` summed over its first ``count`` axes (``leading``) or over all the others:
    the adjoints of ``np.add.outer(x, y)`` for ``y`` and for ``x`` (``count = x.ndim``)."""
    g = np.asarray(g)
    axes = tuple(range(count)) if leading else tuple(range(count, g.ndim))
    return np.sum(g, axis=axes) if axes else g


def dist_grad(g: Any, p: Any, q: Any, ans: Any) -> Any:
    """Adjoint of ``math.dist(p, q)`` for ``p`` (the negated one is ``q``'s): ``g (p - q) /
    dist``, one item per coordinate (zeros where the points coincide)."""
    if ans == 0.0:
        return AdjointList([0.0] * len(p))
    return AdjointList([g * (a - b) / ans for a, b in zip(p, q, strict=True)])


def dist_tangent(t: Any, p: Any, q: Any, ans: Any) -> Any:
    """Tangent of ``math.dist(p, q)`` along ``p``'s tangent ``t``: ``sum((p - q) t) /
    dist`` (along ``q``'s: the same with ``p`` and ``q`` swapped)."""
    if ans == 0.0:
        return 0.0
    return math.fsum((a - b) * s for a, b, s in zip(p, q, t, strict=True)) / ans
