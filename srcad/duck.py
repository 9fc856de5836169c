"""Arrays of other libraries that numpy functions dispatch to (dask arrays, say).

Gradient helpers that would build a dense numpy array from a shape (``np.full``,
``np.zeros``, ``np.asarray``) use these instead when the forward value is such an
array: numpy's ``*_like`` functions dispatch to the array's own library (NEP 18), so a
dask array's gradient is a dask array too, lazy and chunked as the input is.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def is_duck_array(value: Any) -> bool:
    """Whether ``value`` is an array of another library that numpy functions dispatch
    to (it has ``__array_function__`` but is no numpy array), such as a dask array."""
    return (
        value.__class__ is not np.ndarray
        and hasattr(type(value), "__array_function__")
        and not isinstance(value, np.ndarray)
    )


def spread_like(value: Any, x: Any, dtype: Any) -> Any:
    """``value`` (a number or an array that broadcasts to ``x``) spread over the shape of
    the duck array ``x``, as an array of ``x``'s library (and, for dask, its chunks)."""
    return np.zeros_like(x, dtype=dtype) + value


def as_array(value: Any, dtype: Any = None) -> Any:
    """``np.asarray(value, dtype)``, except that a duck array stays an array of its own
    library (not made dense)."""
    if is_duck_array(value):
        return value if dtype is None else value.astype(dtype)
    return np.asarray(value, dtype=dtype)


def has_unknown_shape(value: Any) -> bool:
    """Whether ``value``'s shape has an unknown (nan) length: dask's ``x[mask]``."""
    return any(n != n for n in np.shape(value))
