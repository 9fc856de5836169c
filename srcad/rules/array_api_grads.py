"""The helpers of :mod:`srcad.rules.numpy_grads` and :mod:`srcad.runtime` that generated
code calls, written against the Python array API standard: the same names, the same
arguments, plus the namespace ``xp`` first. :mod:`srcad.array_api` puts them in place of
the numpy ones when a function is array-API code, so its gradient runs on the inputs'
library (array_api_strict, CuPy, PyTorch, JAX...)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..runtime import (
    AdjointDict,
    AdjointList,
    fresh_result,
    identity_when_none,
    passes_argument,
    power_coefficient,
    power_coefficient_slope,
    shape_only,
    structured_like,
)


def _shape(x: Any) -> tuple:
    """``x``'s shape; ``x`` may be the shape itself (a tuple) or a Python number."""
    return tuple(x) if isinstance(x, tuple) else tuple(getattr(x, "shape", ()))


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(sorted(a % ndim for a in ((axis,) if isinstance(axis, int) else axis)))


def _float_dtype(xp: Any, *values: Any) -> Any:
    """The gradient's dtype: the first floating dtype among ``values``, else float64."""
    for value in values:
        dtype = getattr(value, "dtype", None)
        if dtype is not None and xp.isdtype(dtype, "real floating"):
            return dtype
    return xp.float64


def _expand(xp: Any, g: Any, shape: tuple, axis: Any, keepdims: bool) -> Any:
    """A reduced ``g`` with the reduced axes of ``shape`` put back (as length 1)."""
    if axis is None or keepdims or not hasattr(g, "shape"):
        return g
    reduced = _axes(axis, len(shape))
    return xp.reshape(g, tuple(1 if k in reduced else n for k, n in enumerate(shape)))


@shape_only(0)
def shape(x: Any) -> tuple:
    """``np.shape(x)`` for any array (and ``()`` for a Python number)."""
    return _shape(x)


@passes_argument(1)
@shape_only(2)
def unbroadcast(xp: Any, g: Any, x: Any) -> Any:
    """``g`` summed down to ``x``'s shape (undoes broadcasting); ``x`` may be the shape."""
    target, g_shape = _shape(x), _shape(g)
    if target == g_shape:
        return g
    if target == ():
        total = xp.sum(g)
        return float(total) if isinstance(x, float | int) else total
    extra = len(g_shape) - len(target)
    if extra > 0:
        g = xp.sum(g, axis=tuple(range(extra)))
    axes = tuple(k for k, n in enumerate(target) if n == 1 and g.shape[k] != 1)
    return xp.sum(g, axis=axes, keepdims=True) if axes else g


@fresh_result
@shape_only(2)
def sum_grad(xp: Any, g: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Adjoint of ``sum(x, axis, keepdims)``: ``g`` spread over the summed axes."""
    full = _shape(x)
    return xp.zeros(full, dtype=_float_dtype(xp, x, g)) + _expand(xp, g, full, axis, keepdims)


@fresh_result
@shape_only(2)
def mean_grad(xp: Any, g: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Adjoint of ``mean``: the sum's adjoint divided by the number of averaged items."""
    full = _shape(x)
    count = math.prod(full[a] for a in _axes(axis, len(full)))
    return sum_grad(xp, g / count, x, axis, keepdims)


@fresh_result
def extremum_grad(
    xp: Any, g: Any, x: Any, ans: Any, axis: Any = None, keepdims: bool = False
) -> Any:
    """Adjoint of ``max``/``min``: ``g`` goes to the arg-max (shared equally on ties)."""
    full = _shape(x)
    hits = xp.astype(x == _expand(xp, ans, full, axis, keepdims), _float_dtype(xp, x, g))
    count = xp.sum(hits, axis=axis, keepdims=True)
    return hits * (_expand(xp, g, full, axis, keepdims) / count)


@fresh_result
def prod_grad(xp: Any, g: Any, x: Any, ans: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Adjoint of ``prod``: ``g`` times the product of the other reduced entries, exact
    with zeros (cumulative products from both ends, no division)."""
    full = _shape(x)
    if not bool(xp.any(ans == 0)):
        return _expand(xp, g * ans, full, axis, keepdims) / x
    reduced = _axes(axis, len(full))
    kept = tuple(k for k in range(len(full)) if k not in reduced)
    moved = xp.permute_dims(x, kept + reduced)
    rows = xp.reshape(moved, tuple(full[k] for k in kept) + (-1,))
    ones = xp.ones_like(rows[..., :1])
    left = xp.cumulative_prod(xp.concat([ones, rows[..., :-1]], axis=-1), axis=-1)
    flipped = xp.flip(rows, axis=-1)
    right = xp.cumulative_prod(xp.concat([ones, flipped[..., :-1]], axis=-1), axis=-1)
    others = xp.reshape(left * xp.flip(right, axis=-1), moved.shape)
    inverse = tuple(sorted(range(len(full)), key=(kept + reduced).__getitem__))
    return _expand(xp, g, full, axis, keepdims) * xp.permute_dims(others, inverse)


@fresh_result  # (a product: a new array)
@shape_only(2)
def matmul_left(xp: Any, g: Any, x: Any, y: Any) -> Any:
    """Adjoint of ``x @ y`` for ``x``."""
    x_ndim, y_ndim = len(_shape(x)), y.ndim
    if x_ndim == 2 and y_ndim == 2:
        return g @ xp.matrix_transpose(y)
    if y_ndim == 1:
        return g[..., None] * y if x_ndim > 1 else g * y
    if x_ndim == 1:
        return unbroadcast(xp, xp.sum(y * g[..., None, :], axis=-1), x)
    return unbroadcast(xp, g @ xp.matrix_transpose(y), x)


@fresh_result  # (a product: a new array)
@shape_only(3)
def matmul_right(xp: Any, g: Any, x: Any, y: Any) -> Any:
    """Adjoint of ``x @ y`` for ``y``."""
    x_ndim, y_ndim = x.ndim, len(_shape(y))
    if x_ndim == 2 and y_ndim == 2:
        return xp.matrix_transpose(x) @ g
    if x_ndim == 1:
        return x[:, None] * g[..., None, :] if y_ndim > 1 else g * x
    if y_ndim == 1:
        return unbroadcast(xp, xp.sum(x * g[..., None], axis=tuple(range(x_ndim - 1))), y)
    return unbroadcast(xp, xp.matrix_transpose(x) @ g, y)


def transpose(xp: Any, x: Any, axes: Any = None) -> Any:
    """``np.transpose(x, axes)``: the axes reversed when ``axes`` is None."""
    return xp.permute_dims(x, tuple(range(x.ndim - 1, -1, -1)) if axes is None else tuple(axes))


@passes_argument(1)
def transpose_grad(xp: Any, g: Any, axes: Any = None) -> Any:
    """Adjoint of ``permute_dims(x, axes)``: the inverse permutation."""
    if axes is None:
        return transpose(xp, g)
    return xp.permute_dims(g, tuple(sorted(range(len(axes)), key=tuple(axes).__getitem__)))


@passes_argument(1)
@shape_only(2)
def reshape_like(xp: Any, g: Any, x: Any) -> Any:
    """``g`` in ``x``'s shape (adjoint of reshape, squeeze, expand_dims)."""
    return xp.reshape(g, _shape(x))


def items_like(xp: Any, g: Any, x: Any) -> Any:
    """``g`` in the structure of ``x`` (``asarray`` of a list: a list of ``g``'s items)."""
    if not isinstance(x, list | tuple):
        return g
    return AdjointList(items_like(xp, g[k, ...], item) for k, item in enumerate(x))


@identity_when_none(1, 2)
def cast_gradient(xp: Any, g: Any, dtype: Any) -> Any:
    """Adjoint of a conversion to ``dtype``: ``g``, or zero for an integer or boolean
    type (truncation is piecewise constant)."""
    if dtype is None or dtype in (float, complex):
        return g
    if dtype not in (int, bool) and xp.isdtype(dtype, ("real floating", "complex floating")):
        return g
    return xp.zeros(_shape(g), dtype=_float_dtype(xp, g))


@fresh_result
def clip_grad(xp: Any, g: Any, x: Any, low: Any, high: Any) -> Any:
    """Adjoint of ``clip(x, low, high)``: ``g`` where ``x`` is inside the bounds."""
    inside = xp.ones_like(x, dtype=xp.bool)
    if low is not None:
        inside = xp.logical_and(inside, x >= low)
    if high is not None:
        inside = xp.logical_and(inside, x <= high)
    return xp.where(inside, g, xp.zeros_like(g))


@fresh_result
def var_grad(
    xp: Any, g: Any, x: Any, axis: Any = None, ddof: Any = 0, keepdims: bool = False
) -> Any:
    """Adjoint of ``var(x, axis, correction=ddof)``: ``2 (x - mean) g / (n - ddof)``."""
    full = _shape(x)
    count = math.prod(full[a] for a in _axes(axis, len(full)))
    centered = x - xp.mean(x, axis=axis, keepdims=True)
    return 2 * centered * _expand(xp, g, full, axis, keepdims) / (count - ddof)


@shape_only(1)
def split_like(xp: Any, g: Any, parts: Any, axis: int = 0) -> list:
    """Adjoint of ``concat(parts, axis)``: ``g`` cut back into the parts."""
    out, start = [], 0
    for part in parts:
        length = _shape(part)[axis]
        index = [slice(None)] * g.ndim
        index[axis] = slice(start, start + length)
        out.append(g[tuple(index)])
        start += length
    return out


@shape_only(1)
def unstack(xp: Any, g: Any, parts: Any, axis: int = 0) -> list:
    """Adjoint of ``stack(parts, axis)``: ``g`` split along the new axis."""
    return list(xp.unstack(g, axis=axis))


@shape_only(1)
@fresh_result
def zeros_like(xp: Any, value: Any) -> Any:
    """The gradient of a value the result does not depend on."""
    if hasattr(value, "__array_namespace__"):
        return xp.zeros(value.shape, dtype=_float_dtype(xp, value))
    if isinstance(value, list | tuple):
        return AdjointList(zeros_like(xp, item) for item in value)
    if isinstance(value, dict):
        return AdjointDict((key, zeros_like(xp, item)) for key, item in value.items())
    return 0.0


@shape_only(1)
@fresh_result
def zeros_for_items(xp: Any, value: Any) -> Any:
    """:func:`zeros_like`: an array-API array's items can be added into (no numbers
    stand for 0-d arrays here)."""
    return zeros_like(xp, value)


def items_writable(xp: Any, adjoint: Any) -> Any:
    """``adjoint`` as it is: array-API adjoints are arrays already."""
    return adjoint


def part_copy(xp: Any, value: Any) -> Any:
    """A copy of the part of an adjoint that is cleared next (see :func:`fresh_copy`)."""
    return fresh_copy(xp, value)


@fresh_result
def fresh_copy(xp: Any, value: Any) -> Any:
    """A copy of an adjoint about to be updated in place while another name shares it."""
    if hasattr(value, "__array_namespace__"):
        return xp.asarray(value, copy=True)
    if isinstance(value, list):
        return AdjointList(value)
    copied = getattr(value, "copied", None)
    return copied() if copied is not None else value


def snapshot(xp: Any, value: Any) -> Any:
    """``value`` as it is now (arrays copied), for the backward pass."""
    if hasattr(value, "__array_namespace__"):
        return xp.asarray(value, copy=True)
    if isinstance(value, list | tuple):
        return type(value)(snapshot(xp, item) for item in value)
    if isinstance(value, dict):
        return type(value)((key, snapshot(xp, item)) for key, item in value.items())
    return value


@passes_argument(2)
def selected(xp: Any, condition: Any, value: Any, picked: bool = True) -> Any:
    """``value`` where ``where(condition, ...)`` picked this side, exactly 0 elsewhere."""
    if _shape(value) != _shape(condition):
        return value
    zero = xp.zeros_like(value)
    return xp.where(condition, value, zero) if picked else xp.where(condition, zero, value)


@fresh_result
def assigned_items(xp: Any, g: Any, index: Any) -> Any:
    """The part of ``g`` that ``v`` gets after ``x[index] = v`` (basic indices: no repeats)."""
    return xp.asarray(g[index], copy=True)


def add_at(target: Any, index: Any, value: Any) -> None:
    """``target[index] += value`` (array-API arrays: basic indices, which never repeat)."""
    target[index] = target[index] + value


def divide(xp: Any, numerator: Any, denominator: Any) -> Any:
    """``numerator / denominator``, inf or nan at a zero denominator (not an exception)."""
    try:
        return numerator / denominator
    except ZeroDivisionError:
        as_array = lambda v: xp.asarray(v, dtype=xp.float64)  # noqa: E731
        return as_array(numerator) / as_array(denominator)


def divide_or_zero(xp: Any, numerator: Any, denominator: Any) -> Any:
    """``numerator / denominator``, exactly 0 where the numerator is 0 (see
    :func:`srcad.runtime.divide_or_zero`)."""
    quotient = divide(xp, numerator, denominator)
    if isinstance(numerator, int | float):
        return 0.0 if numerator == 0 else quotient
    return xp.where(numerator == 0, xp.zeros_like(quotient), quotient)


def chosen(xp: Any, mask: Any, g: Any) -> Any:
    """``g`` where ``mask`` holds, exactly 0 elsewhere (see :func:`srcad.runtime.chosen`)."""
    if isinstance(mask, bool):
        if mask:
            return g
        return xp.zeros_like(g) if hasattr(g, "__array_namespace__") else 0.0
    g = xp.asarray(g)
    return xp.where(mask, g, xp.zeros_like(g))


def power_slope(xp: Any, x: Any, y: Any, order: int = 1) -> Any:
    """``y (y - 1) ... (y - order + 1) * x ** (y - order)``, exactly 0 where that
    coefficient is (see :func:`srcad.runtime.power_slope`)."""
    coefficient = power_coefficient(y, order)
    if isinstance(coefficient, int | float) and coefficient == 0:
        return xp.zeros_like(xp.asarray(x, dtype=_float_dtype(xp, x)))
    slope = coefficient * x ** (y - order)
    if isinstance(coefficient, int | float):
        return slope
    return xp.where(coefficient == 0, xp.zeros_like(slope), slope)


def power_slope_exponent(xp: Any, x: Any, y: Any, order: int = 1) -> Any:
    """The derivative of :func:`power_slope` along ``y``."""
    power = x ** (y - order)
    slope = power_slope(xp, x, y, order)
    return power_coefficient_slope(y, order) * power + exponent_slope(xp, x, slope)


def exponent_slope(xp: Any, x: Any, ans: Any) -> Any:
    """``log(x) * ans``, exactly 0 where ``x`` is 0 (see :func:`srcad.runtime.exponent_slope`)."""
    base = xp.asarray(x, dtype=_float_dtype(xp, x))
    value = xp.log(base) * ans
    return xp.where(base == 0, xp.zeros_like(value), value)


def log_share(xp: Any, x: Any, ans: Any) -> Any:
    """``exp(x - ans)``, exactly 0 where ``ans`` is -inf (see :func:`srcad.runtime.log_share`)."""
    return _shared(xp, xp.exp(x - ans), ans)


def log2_share(xp: Any, x: Any, ans: Any) -> Any:
    """``2 ** (x - ans)``, exactly 0 where ``ans`` is -inf."""
    return _shared(xp, 2.0 ** (x - ans), ans)


def _shared(xp: Any, share: Any, ans: Any) -> Any:
    return xp.where(ans == -xp.inf, xp.zeros_like(share), share)


def require_scalar_of(check: Callable[[Any], None]) -> Callable[[Any], None]:
    """srcad's result check ``check``, also accepting a 0-d array of any library."""

    def require_scalar(value: Any) -> None:
        if getattr(value, "shape", None) != () or not hasattr(value, "__array_namespace__"):
            check(value)

    require_scalar.__srcad_effect__ = True  # type: ignore[attr-defined]  # (a mark srcad reads)
    return require_scalar


#: Helpers that take the same arguments as their numpy twins, without ``xp`` (they are
#: called by statements, not expressions: ``add_at(dx, i, g)``).
WITHOUT_NAMESPACE = {
    "add_at": add_at,
    "set_rows": add_at,
    "shape": shape,
    "structured_like": structured_like,  # (containers and records: any library's arrays)
}
