"""The adjoint of a linear map a library applies to the lines of an array along an
axis (a SciPy filter, smoother or detrender of signals or images): its matrix, read off
the map of the identity's columns, transposed. Used by :mod:`srcad.rules.scipy_signal`
and :mod:`srcad.rules.scipy_ndimage`, whose filters have no simpler adjoint."""

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
