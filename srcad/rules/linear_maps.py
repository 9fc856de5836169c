"""Filters a library runs along the axes of an array (SciPy's of signals and images):
their options given once or per axis, and the adjoint of such a linear map, its matrix
read off the map of the identity's columns, transposed. Used by
:mod:`srcad.rules.scipy_signal`, :mod:`srcad.rules.scipy_ndimage` and the edge filters of
:mod:`srcad.stand_ins_scipy`; it registers no rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: identity columns mapped at once when a map's matrix is built (the memory it takes
#: is the line's length times this, not the line's length squared)
BLOCK = 256


def transposed_along(g: Any, apply: Callable[[Any], Any], axis: int) -> Any:
    """The adjoint of the linear map ``apply`` (of an array's lines along its first axis)
    for the lines of ``g`` along ``axis``: ``M^T g``, ``M`` built from the map of blocks
    of the identity's columns."""
    moved = np.moveaxis(np.asarray(g, dtype=np.result_type(g, float)), axis, 0)
    n = moved.shape[0]
    lines = moved.reshape(n, -1)
    out = np.empty_like(lines)
    for start in range(0, n, BLOCK):
        width = min(BLOCK, n - start)
        columns = apply(np.eye(n, width, -start))  # (column j: the map of e_{start + j})
        out[start:start + width] = columns.T @ lines
    return np.moveaxis(out.reshape(moved.shape), 0, axis)


def per_axis(option: Any, count: int) -> list[Any]:
    """An option given once or per filtered axis (SciPy's ``_normalize_sequence``)."""
    if not isinstance(option, str) and np.iterable(option):
        options = list(option)
        if len(options) != count:
            raise RuntimeError("sequence argument must have length equal to input rank")
        return options
    return [option] * count
