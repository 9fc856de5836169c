"""Small helpers that generated gradient code calls at run time."""

from __future__ import annotations

import numbers
from collections.abc import Callable, MappingView
from typing import Any

import numpy as np

from .errors import Location, NonScalarOutputError

_FLOAT64 = np.dtype(np.float64)
_SCALAR_CLASSES = frozenset((float, int, np.float64, np.float32, np.float16, np.int64, np.int32))


def scalar_check(location: Location, function_name: str) -> Callable[[Any], None]:
    """A check that the differentiated function's result is one scalar."""

    def require_scalar(value: Any) -> None:
        if value.__class__ in _SCALAR_CLASSES:  # the fast path, taken on every call
            return
        if isinstance(value, numbers.Number) and not isinstance(value, bool):
            return
        if isinstance(value, np.ndarray) and value.shape == ():
            return
        kind = (
            f"an array of shape {value.shape}"
            if isinstance(value, np.ndarray)
            else f"a {type(value).__name__}"
        )
        raise NonScalarOutputError(
            f"grad needs a scalar result, but {function_name} returned {kind}",
            "return a single number (for example the sum or mean of the array); "
            "for vector outputs compute one gradient per component",
            location,
        )

    require_scalar.__srcad_effect__ = True  # a check: differentiating code that calls it is fine
    return require_scalar


def check_assertion(condition: Any, message: str | None = None) -> None:
    """The user's ``assert condition, message``, kept in the gradient's forward pass."""
    if not condition:
        raise AssertionError(message) if message is not None else AssertionError


check_assertion.__srcad_effect__ = True


def raise_exception(kind: type, *args: Any) -> None:
    """The user's ``raise kind(*args)``, kept in the gradient's forward pass."""
    raise kind(*args)


raise_exception.__srcad_effect__ = True


def zeros_like(value: Any) -> Any:
    """The gradient of a parameter the result does not depend on."""
    if value.__class__ is np.ndarray:  # (np.zeros_like is 4x slower than np.zeros)
        dtype = value.dtype
        return np.zeros(value.shape, dtype if dtype.kind in "fc" else _FLOAT64)
    if isinstance(value, np.ndarray | np.generic):
        return np.zeros_like(value, dtype=gradient_dtype(value))
    if isinstance(value, list | tuple):
        return AdjointList(zeros_like(item) for item in value)
    if isinstance(value, dict):
        return AdjointDict((key, zeros_like(item)) for key, item in value.items())
    return 0.0


class AdjointList(list):
    """The adjoint of a tuple or list: adds elementwise (``+`` on lists would concatenate)."""

    def __add__(self, other: Any) -> AdjointList:
        if isinstance(other, list | tuple):
            return AdjointList(a + b for a, b in zip(self, other))
        return AdjointList(a + other for a in self)

    __radd__ = __add__

    def __iadd__(self, other: Any) -> AdjointList:
        for index, value in enumerate(
            other if isinstance(other, list | tuple) else [other] * len(self)
        ):
            self[index] += value
        return self


class AdjointDict(dict):
    """The adjoint of a dict parameter: one adjoint per key, adding key by key."""

    def __add__(self, other: Any) -> AdjointDict:
        return AdjointDict((key, value + other[key]) for key, value in self.items())

    __radd__ = __add__


def loop_items(value: Any) -> Any:
    """What ``for item in value`` runs over, by position: a dict's keys (a list; a dict
    view's items likewise), else the sequence or array itself."""
    return list(value) if isinstance(value, dict | MappingView) else value


def loop_items_grad(g: Any, value: Any) -> Any:
    """Adjoint of :func:`loop_items`: a dict's keys get no gradient, a sequence gets ``g``."""
    return zeros_like(value) if isinstance(value, dict) else g


def loop_items_tangent(t: Any, value: Any) -> Any:
    """Tangent of :func:`loop_items`: zero for a dict's keys, else the sequence's tangent."""
    return [0.0] * len(value) if isinstance(value, dict) else t


def add_at(target: Any, index: Any, value: Any) -> None:
    """``target[index] += value``, where repeated integer indices each add (numpy's add.at)."""
    if isinstance(target, np.ndarray):
        np.add.at(target, index, value)
    else:
        target[index] += value


def set_rows(target: Any, index: tuple, value: Any) -> None:
    """``target[index] += value`` into a new zero array, for an index with a ``np.arange``
    part (``dlogp[np.arange(n), labels]``): a plain assignment, 2-3x faster than
    ``np.add.at``, when no position can repeat -- every index array at most 1-D and the
    1-D ones of one length (then the ``arange`` part makes every position different)."""
    if target.__class__ is not np.ndarray:
        add_at(target, index, value)
        return
    length = None
    for part in index:
        if part.__class__ is np.ndarray and part.ndim == 1 and length in (None, part.shape[0]):
            length = part.shape[0]
        elif not isinstance(part, int | np.integer):  # 2-D, another length, a list...
            add_at(target, index, value)
            return
    target[index] = value


def fresh_copy(value: Any) -> Any:
    """A copy of an adjoint about to be updated in place while another name shares it."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return AdjointList(value)
    return value


def gradient_dtype(*values: Any) -> Any:
    """The dtype of a gradient: the inputs' floating type (float32 stays float32), else float64."""
    dtype = np.result_type(*values)
    return dtype if dtype.kind in "fc" else _FLOAT64  # (np.issubdtype is 10x slower)


def divide(numerator: Any, denominator: Any) -> Any:
    """``numerator / denominator``, giving inf or nan at a zero denominator as numpy does
    (Python floats would raise where the forward code did not)."""
    try:
        return numerator / denominator
    except ZeroDivisionError:
        return np.float64(numerator) / np.float64(denominator)
