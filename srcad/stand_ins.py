"""Library functions srcad reads in place of others: the same parameters and values, in
code srcad differentiates. SciPy's integration rules are written against the array API
standard (``xp = array_namespace(y)``), whose calls srcad cannot follow; numpy's
``trapezoid`` is plain numpy, and the cumulative rule is written here in it."""

from __future__ import annotations

from typing import Any

import numpy as np


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


#: (module, qualified name) of a function -> the function srcad reads instead
READ_INSTEAD: dict[tuple[str, str], Any] = {
    ("scipy.integrate._quadrature", "trapezoid"): (
        np.trapezoid if hasattr(np, "trapezoid") else np.trapz  # type: ignore[attr-defined]
    ),  # (numpy before 2.0: trapz)
    ("scipy.integrate._quadrature", "cumulative_trapezoid"): cumulative_trapezoid,
}


def read_instead(callee: Any) -> Any:
    """The function whose code srcad reads for a call of ``callee``: its stand-in, if it
    has one, else itself."""
    key = (getattr(callee, "__module__", None), getattr(callee, "__qualname__", None))
    return READ_INSTEAD.get(key, callee)  # type: ignore[arg-type]
