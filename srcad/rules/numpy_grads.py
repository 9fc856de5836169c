"""Helpers that numpy derivative templates call: shape bookkeeping an expert would
otherwise write by hand (sum a broadcast gradient back, expand a reduced one)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..runtime import fresh_result, gradient_dtype, passes_argument, shape_only


@passes_argument(0)
@shape_only(1)
def unbroadcast(g: Any, x: Any) -> Any:
    """``g`` summed down to ``x``'s shape (undoes numpy broadcasting); ``x`` may be the
    shape itself (a tuple), so that the forward value need not be kept."""
    shape = x if isinstance(x, tuple) else getattr(x, "shape", ())
    g_shape = getattr(g, "shape", ())
    if shape == g_shape:
        return g
    if shape == ():
        total = np.sum(g)
        return float(total) if isinstance(x, float | int) else total
    extra = len(g_shape) - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


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
    if axis is None:  # one number spread everywhere
        return np.full(np.shape(x), g, dtype=dtype)
    out = np.empty(np.shape(x), dtype=dtype)
    out[...] = _expand(g, x, axis, keepdims)
    return out


@fresh_result
@shape_only(1)
def mean_grad(g: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Adjoint of ``np.mean``: the sum's adjoint divided by the number of averaged items."""
    shape = np.shape(x)
    if axis is None:  # one number spread everywhere
        return np.full(shape, g / math.prod(shape), dtype=gradient_dtype(g, x))
    count = math.prod([shape[a] for a in ((axis,) if isinstance(axis, int) else axis)])
    return sum_grad(g / count, x, axis, keepdims)


@fresh_result
def extremum_grad(g: Any, x: Any, ans: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Adjoint of ``np.max``/``np.min``: ``g`` goes to the arg-max (shared equally on ties)."""
    hits = np.asarray(x) == _expand(ans, x, axis, keepdims)
    return hits * (_expand(g, x, axis, keepdims) / np.sum(hits, axis=axis, keepdims=True))


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


def _ndim(x: Any) -> int:
    return x.ndim if x.__class__ is np.ndarray else np.ndim(x)


@shape_only(1)
def matmul_left(g: Any, x: Any, y: Any) -> Any:
    """Adjoint of ``x @ y`` for ``x`` (1-D and 2-D operands)."""
    x_ndim, y_ndim = _ndim(x), _ndim(y)
    if x_ndim == 2 and y_ndim == 2:  # the common case first
        return g @ y.T
    if y_ndim == 1:
        return np.multiply.outer(g, y) if x_ndim > 1 else g * y
    if x_ndim == 1:
        return y @ g
    return unbroadcast(g @ np.swapaxes(y, -1, -2), x)


@shape_only(2)
def matmul_right(g: Any, x: Any, y: Any) -> Any:
    """Adjoint of ``x @ y`` for ``y`` (1-D and 2-D operands)."""
    x_ndim, y_ndim = _ndim(x), _ndim(y)
    if x_ndim == 2 and y_ndim == 2:
        return x.T @ g
    if x_ndim == 1:
        return np.multiply.outer(x, g) if y_ndim > 1 else g * x
    if y_ndim == 1:
        return np.swapaxes(x, -1, -2) @ g
    return unbroadcast(np.swapaxes(x, -1, -2) @ g, y)


@passes_argument(0)
def transpose_grad(g: Any, axes: Any = None) -> Any:
    """Adjoint of ``np.transpose(x, axes)``: the inverse permutation."""
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, np.argsort(axes))


def inverse_axes(axes: Any) -> Any:
    """The permutation that undoes ``np.transpose(x, axes)`` (None: reverse again)."""
    return None if axes is None else tuple(np.argsort(axes))


@passes_argument(0)
@shape_only(1)
def reshape_like(g: Any, x: Any) -> Any:
    """``g`` in ``x``'s shape (adjoint of reshape, squeeze, expand_dims, ravel)."""
    return np.reshape(g, np.shape(x))


@fresh_result
def clip_grad(g: Any, x: Any, low: Any, high: Any) -> Any:
    """Adjoint of ``np.clip(x, low, high)``: ``g`` where ``x`` is inside the bounds."""
    inside = np.ones(np.shape(x), dtype=bool)
    if low is not None:
        inside &= x >= low
    if high is not None:
        inside &= x <= high
    return g * inside


@shape_only(1)
def split_like(g: Any, parts: Any, axis: int = 0) -> list:
    """Adjoint of ``np.concatenate(parts, axis)``: ``g`` cut back into the parts."""
    from ..runtime import AdjointList

    sizes = np.cumsum([np.shape(p)[axis] for p in parts])[:-1]
    return AdjointList(np.split(g, sizes, axis=axis))


@shape_only(1)
def unstack(g: Any, parts: Any, axis: int = 0) -> list:
    """Adjoint of ``np.stack(parts, axis)``: ``g`` split along the new axis."""
    from ..runtime import AdjointList

    return AdjointList(np.moveaxis(g, axis, 0)[i] for i in range(len(parts)))


@shape_only(1)
def hsplit_like(g: Any, parts: Any) -> list:
    """Adjoint of ``np.hstack``."""
    return split_like(g, parts, axis=1 if np.ndim(parts[0]) > 1 else 0)


@shape_only(1)
def vsplit_like(g: Any, parts: Any) -> list:
    """Adjoint of ``np.vstack`` (1-D parts become rows)."""
    from ..runtime import AdjointList

    pieces = split_like(g, [np.atleast_2d(p) for p in parts], axis=0)
    return AdjointList(np.reshape(piece, np.shape(p)) for piece, p in zip(pieces, parts))


def sign(x: Any) -> Any:
    """-1, 0 or 1 (numpy's sign, but fast for Python numbers)."""
    if type(x) in (float, int):  # (numpy scalars go to np.sign: bools would not subtract)
        return (x > 0) - (x < 0)
    return np.sign(x)
