"""Library functions srcad reads in place of others: the same parameters and values, in
code srcad differentiates. SciPy's integration rules are written against the array API
standard (``xp = array_namespace(y)``), whose calls srcad cannot follow; numpy's
``trapezoid`` is plain numpy, and the cumulative rule and Simpson's rule are written here
in it. Some of numpy's own functions (``np.delete``, ``np.dstack``, ``np.choose``, ...)
go through helpers srcad cannot read; their stand-ins are written here in the numpy
srcad differentiates. SciPy's solvers of factors (``cho_factor`` and ``cho_solve``,
``lu_solve``) pass their arguments through helpers srcad cannot read; their stand-ins are
:mod:`srcad.stand_ins_scipy`, loaded only when a program calls them (srcad itself does not
import SciPy)."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from .runtime import deep_copied, shallow_object_copy


def cumulative_trapezoid(
    y: Any, x: Any = None, dx: float = 1.0, axis: int = -1, initial: Any = None
) -> Any:
    """``scipy.integrate.cumulative_trapezoid``: the running trapezoidal integral of ``y``
    along ``axis`` (one item fewer, or ``initial`` first)."""
    along = np.moveaxis(np.asarray(y), axis, -1)
    spacing: Any = dx
    if x is not None:
        points = np.asarray(x)
        spacing = np.diff(points) if points.ndim == 1 else np.diff(
            np.moveaxis(points, axis, -1), axis=-1
        )
    areas = (along[..., 1:] + along[..., :-1]) * spacing / 2.0
    running = np.cumsum(areas, axis=-1)
    if initial is not None:
        first = np.full(running.shape[:-1] + (1,), initial)
        running = np.concatenate((first, running), axis=-1)
    return np.moveaxis(running, -1, axis)


def _ratio(num: Any, den: Any) -> Any:
    """``num / den``, and 0 where ``den`` is 0 (SciPy's ``true_divide(..., where=den != 0)``
    over zeros)."""
    nonzero = den != 0
    return np.where(nonzero, num / np.where(nonzero, den, 1.0), 0.0)


def _basic_simpson(y: Any, stop: int, x: Any, dx: Any) -> Any:
    """Simpson's rule over the intervals ``0 .. stop`` of the last axis (points ``x``
    along it, or the spacing ``dx``), as SciPy's ``_basic_simpson``."""
    y0, y1, y2 = y[..., 0:stop:2], y[..., 1:stop + 1:2], y[..., 2:stop + 2:2]
    if x is None:
        return np.sum(y0 + 4.0 * y1 + y2, axis=-1) * (dx / 3.0)
    h = np.diff(x, axis=-1)
    h0, h1 = h[..., 0:stop:2], h[..., 1:stop + 1:2]
    hsum = h0 + h1
    hprod = h0 * h1
    h0divh1 = _ratio(h0, h1)
    parts = (y0 * (2.0 - _ratio(1.0, h0divh1)) + y1 * (hsum * _ratio(hsum, hprod))
             + y2 * (2.0 - h0divh1))
    return np.sum(hsum / 6.0 * parts, axis=-1)


def simpson(y: Any, x: Any = None, *, dx: float = 1.0, axis: int = -1) -> Any:
    """``scipy.integrate.simpson``: the composite Simpson's rule of ``y`` along ``axis``;
    for an even number of points, Cartwright's correction on the last interval."""
    along = np.moveaxis(np.asarray(y), axis, -1)
    n = along.shape[-1]
    points = None
    if x is not None:
        points = np.asarray(x)
        if points.ndim != 1:
            points = np.moveaxis(points, axis, -1)
    if n % 2 == 1:
        return _basic_simpson(along, n - 2, points, dx)
    if n == 2:
        last = dx if points is None else points[..., -1] - points[..., -2]
        return 0.5 * last * (along[..., -1] + along[..., -2])
    result = _basic_simpson(along, n - 3, points, dx)
    h0: Any = dx
    h1: Any = dx
    if points is not None:
        spacings = np.diff(points, axis=-1)
        h0, h1 = spacings[..., -2], spacings[..., -1]
    alpha = _ratio(2 * h1 ** 2 + 3 * h0 * h1, 6 * (h1 + h0))
    beta = _ratio(h1 ** 2 + 3.0 * h0 * h1, 6 * h0)
    eta = _ratio(1 * h1 ** 3, 6 * h0 * (h0 + h1))
    return result + (alpha * along[..., -1] + beta * along[..., -2] - eta * along[..., -3])


def delete(arr: Any, obj: Any, axis: Any = None) -> Any:
    """``np.delete``: ``arr`` without the items ``obj`` picks along ``axis`` (flattened
    when ``axis`` is None)."""
    arr = np.asarray(arr)
    if axis is None:
        arr = arr.ravel()
        axis = 0
    keep = np.ones(arr.shape[axis], dtype=bool)
    keep[obj] = False
    return np.take(arr, np.flatnonzero(keep), axis=axis)


def dstack(tup: Any) -> Any:
    """``np.dstack``: the arrays stacked along a third axis (each made 3-D first)."""
    return np.concatenate([np.atleast_3d(a) for a in tup], axis=2)


def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Any:
    """``np.ediff1d``: the differences of the flattened array, with ``to_begin`` and
    ``to_end`` put around them."""
    parts = [np.diff(np.ravel(ary))]
    if to_begin is not None:
        parts.insert(0, np.ravel(to_begin))
    if to_end is not None:
        parts.append(np.ravel(to_end))
    return np.concatenate(parts)


def compress(condition: Any, a: Any, axis: Any = None, out: Any = None) -> Any:
    """``np.compress``: the items along ``axis`` where ``condition`` holds."""
    a = np.asarray(a)
    if axis is None:
        a = a.ravel()
        axis = 0
    chosen = np.flatnonzero(np.asarray(condition, dtype=bool))
    if out is None:
        return np.take(a, chosen, axis=axis)
    out[...] = np.take(a, chosen, axis=axis)
    return out


def extract(condition: Any, arr: Any) -> Any:
    """``np.extract``: the items of the flattened array where ``condition`` holds."""
    return np.ravel(arr)[np.flatnonzero(np.ravel(condition))]


def broadcast_arrays(*args: Any, subok: bool = False) -> tuple:
    """``np.broadcast_arrays``: each array broadcast to the shape of all of them."""
    shape = np.broadcast_shapes(*[np.shape(a) for a in args])
    out: tuple = ()
    for a in args:
        out = out + (np.broadcast_to(a, shape),)
    return out


def choose(a: Any, choices: Any, out: Any = None, mode: str = "raise") -> Any:
    """``np.choose``: at each position, the item of the choice ``a`` names there."""
    index = np.asarray(a)
    if mode == "wrap":
        index = index % len(choices)
    elif mode == "clip":
        index = np.clip(index, 0, len(choices) - 1)
    elif np.any((index < 0) | (index >= len(choices))):
        raise ValueError("invalid entry in choice array")  # (numpy's, for mode="raise")
    shape = np.broadcast_shapes(index.shape, *[np.shape(c) for c in choices])
    stacked = np.stack([np.broadcast_to(c, shape) for c in choices])
    chosen = np.take_along_axis(stacked, np.broadcast_to(index, shape)[None], axis=0)[0]
    if out is None:
        return chosen
    out[...] = chosen
    return out


def lfilter(b: Any, a: Any, x: Any, axis: int = -1, zi: Any = None) -> Any:
    """``scipy.signal.lfilter``: the direct form II transposed filter SciPy's C code runs,
    step by step along ``axis`` (``b`` and ``a`` padded to one length and divided by
    ``a[0]``); with ``zi``, the final delays too."""
    b, a = np.atleast_1d(b), np.atleast_1d(a)
    along = np.moveaxis(np.asarray(x), axis, -1)
    if len(a) == 1:  # (no feedback: SciPy convolves each signal with b / a[0])
        return _fir(b / a[0], along, axis, zi)
    order = max(len(a), len(b))
    b = np.concatenate((b, np.zeros(order - len(b)))) / a[0]
    a = np.concatenate((a, np.zeros(order - len(a)))) / a[0]
    if zi is None:
        delays = [np.zeros(along.shape[:-1]) for _ in range(order - 1)]
    else:
        initial = np.moveaxis(np.asarray(zi), axis, -1)
        delays = [initial[..., i] for i in range(order - 1)]
    outputs = []
    for k in range(along.shape[-1]):
        sample = along[..., k]
        output = delays[0] + b[0] * sample
        for i in range(order - 2):
            delays[i] = delays[i + 1] + sample * b[i + 1] - output * a[i + 1]
        delays[order - 2] = sample * b[order - 1] - output * a[order - 1]
        outputs.append(output)
    filtered = np.ascontiguousarray(np.moveaxis(np.stack(outputs, axis=-1), -1, axis))
    if zi is None:  # (in C order, as SciPy's: a sum of it adds in the same order)
        return filtered
    return filtered, np.ascontiguousarray(np.moveaxis(np.stack(delays, axis=-1), -1, axis))


def _fir(b: Any, along: Any, axis: int, zi: Any) -> Any:
    """:func:`lfilter` without feedback, as SciPy computes it: each signal (the last axis
    of ``along``) convolved with ``b``, ``zi`` added to the first outputs."""
    n = along.shape[-1]
    rows = along.reshape(-1, n)
    full = np.stack([np.convolve(b, row) for row in rows]).reshape(along.shape[:-1] + (-1,))
    if zi is not None:
        initial = np.moveaxis(np.asarray(zi), axis, -1)
        full = np.concatenate((full[..., :len(b) - 1] + initial, full[..., len(b) - 1:]), axis=-1)
    filtered = np.moveaxis(full[..., :n], -1, axis)  # (laid out as SciPy's: axis last)
    if zi is None:
        return filtered
    return filtered, np.moveaxis(full[..., n:], -1, axis)


def deepcopy(x: Any, memo: Any = None) -> Any:
    """``copy.deepcopy`` of numbers, arrays and containers of them."""
    return deep_copied(x)


def shallow_copy(x: Any) -> Any:
    """``copy.copy`` of an array, a list or a dict: a new one holding the same items (of
    a tuple, a number or a string: itself, as Python's, which copies nothing immutable;
    of an object, Python's own copy, whatever ``copy`` method its class has)."""
    if isinstance(x, tuple | int | float | complex | str):
        return x
    if isinstance(x, list | dict | set | np.ndarray | np.generic):
        return x.copy()
    return shallow_object_copy(x)  # (Python's copy of its fields, not a `copy` method)


def cumulative_sum(
    x: Any, /, *, axis: Any = None, dtype: Any = None, out: Any = None,
    include_initial: bool = False,
) -> Any:
    """numpy 2's ``np.cumulative_sum`` (the array API's): ``np.cumsum``, and a first 0
    with ``include_initial``."""
    running = np.cumsum(x, axis=axis) if dtype is None else np.cumsum(x, axis=axis, dtype=dtype)
    return _with_initial(running, axis, 0.0, include_initial)


def cumulative_prod(
    x: Any, /, *, axis: Any = None, dtype: Any = None, out: Any = None,
    include_initial: bool = False,
) -> Any:
    """numpy 2's ``np.cumulative_prod``: ``np.cumprod``, and a first 1 with
    ``include_initial``."""
    running = np.cumprod(x, axis=axis) if dtype is None else np.cumprod(x, axis=axis, dtype=dtype)
    return _with_initial(running, axis, 1.0, include_initial)


def _with_initial(running: Any, axis: Any, initial: float, include: bool) -> Any:
    """``running`` (a scan along ``axis``; None for a 1-D array's) with ``initial`` first."""
    if not include:
        return running
    along = 0 if axis is None else axis
    shape = list(np.shape(running))
    shape[along] = 1
    return np.concatenate((np.full(shape, initial), running), axis=along)


def linalg_trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    """``np.linalg.trace``: the traces of the matrices on the last two axes."""
    if dtype is None:
        return np.trace(x, offset=offset, axis1=-2, axis2=-1)
    return np.trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)


def linalg_cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """``np.linalg.cross``: ``np.cross`` of 3-vectors along ``axis``."""
    if axis == -1:
        return np.cross(x1, x2)
    moved = np.cross(np.moveaxis(x1, axis, -1), np.moveaxis(x2, axis, -1))
    return np.moveaxis(moved, -1, axis)


#: (module, qualified name) of a function -> the function srcad reads instead, or the
#: name of a module of :mod:`srcad` that defines it under the same name (loaded then)
READ_INSTEAD: dict[tuple[str, str], Any] = {
    ("copy", "copy"): shallow_copy,
    ("copy", "deepcopy"): deepcopy,
    ("scipy.integrate._quadrature", "trapezoid"): (
        np.trapezoid if hasattr(np, "trapezoid") else np.trapz  # type: ignore[attr-defined]
    ),  # (numpy before 2.0: trapz)
    ("scipy.integrate._quadrature", "cumulative_trapezoid"): cumulative_trapezoid,
    ("scipy.integrate._quadrature", "simpson"): simpson,
    ("scipy.signal._signaltools", "lfilter"): lfilter,
    ("scipy.linalg._decomp_cholesky", "cho_factor"): "stand_ins_scipy",
    ("scipy.linalg._decomp_cholesky", "cho_solve"): "stand_ins_scipy",
    ("scipy.linalg._decomp_lu", "lu_solve"): "stand_ins_scipy",
    **{
        ("scipy.stats._stats_py", name): "stand_ins_scipy"
        for name in ("zscore", "gmean", "hmean", "sem", "skew", "kurtosis")
    },
    ("scipy.stats._variation", "variation"): "stand_ins_scipy",
    **{
        ("scipy.ndimage._filters", name): "stand_ins_scipy"
        for name in ("prewitt", "sobel", "laplace")
    },
    **{
        ("scipy.linalg._special_matrices", name): "stand_ins_scipy"
        for name in ("toeplitz", "circulant", "hankel", "block_diag")
    },
    ("scipy.stats._entropy", "entropy"): "stand_ins_scipy",
}


#: numpy's functions by what they are (their modules are private, and move between
#: numpy's versions): the function's code, as srcad reads it -> its stand-in
_NUMPY_STAND_INS = {
    getattr(getattr(np, stand_in.__name__), "__wrapped__", None): stand_in
    for stand_in in (delete, dstack, ediff1d, compress, extract, broadcast_arrays, choose)
}


#: numpy 2's functions of the array API standard (absent before 2.0) -> their stand-ins
_NUMPY_2_STAND_INS = {
    getattr(getattr(owner, name), "__wrapped__", getattr(owner, name)): stand_in
    for owner, name, stand_in in (
        (np, "cumulative_sum", cumulative_sum), (np, "cumulative_prod", cumulative_prod),
        (np.linalg, "trace", linalg_trace), (np.linalg, "cross", linalg_cross),
    )
    if hasattr(owner, name)
}
_NUMPY_STAND_INS.update(_NUMPY_2_STAND_INS)


def read_instead(callee: Any) -> Any:
    """The function whose code srcad reads for a call of ``callee``: its stand-in, if it
    has one, else itself."""
    if callee in _NUMPY_STAND_INS:
        return _NUMPY_STAND_INS[callee]
    key = (getattr(callee, "__module__", None), getattr(callee, "__qualname__", None))
    found = READ_INSTEAD.get(key, callee)  # type: ignore[arg-type]
    if isinstance(found, str):
        return getattr(importlib.import_module(f"srcad.{found}"), key[1])  # type: ignore[arg-type]
    return found
