"""Derivative rules for Python's ``statistics`` module, loaded once a program imports it.

``statistics.mean``, ``variance`` and the others compute with exact fractions, so srcad
cannot read them (their code's arithmetic is on integers); each is a rule instead: its
value is the module's own, to the last bit, and its derivative is the one of the number
it returns (``mean``: ``1 / n`` per item; ``variance``: ``2 (x_i - mean) / (n - 1)``;
``median``: the middle item, or half to each of the middle two). A call with options
(``xbar=``, ``mu=``, ``weights=`` where not listed) has no rule, and is refused.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..runtime import AdjointList
from .table import defrule


def _mean(data: Sequence[float]) -> float:
    return math.fsum(data) / len(data)


def _deviations(data: Sequence[float], over: int) -> list[float]:
    """``2 (x_i - mean) / over``: the slopes of a sum of squared deviations over ``over``."""
    centre = _mean(data)
    return [2.0 * (x - centre) / over for x in data]


def _middle(data: Sequence[float], which: str) -> list[float]:
    """The median's slopes: 1 at the middle item of the sorted data (``which``: "low" or
    "high" of an even count's two, or "both": a half to each)."""
    n = len(data)
    order = sorted(range(n), key=data.__getitem__)
    slopes = [0.0] * n
    if n % 2 or which == "high":
        slopes[order[n // 2]] = 1.0
    elif which == "low":
        slopes[order[n // 2 - 1]] = 1.0
    else:
        slopes[order[n // 2 - 1]] = slopes[order[n // 2]] = 0.5
    return slopes


def _mean_slopes(data: Sequence[float], ans: float) -> list[float]:
    return [1.0 / len(data)] * len(data)


def _root_of_deviations(data: Sequence[float], ans: float, over: int) -> list[float]:
    """A standard deviation's slopes: its variance's over ``2 ans`` (0 where it is 0)."""
    return [s / (2.0 * ans) if ans else 0.0 for s in _deviations(data, over)]


#: Each function's slopes in its data's items, from the data and its value.
_SLOPES: dict[str, Callable[[Sequence[float], float], list[float]]] = {
    "mean": _mean_slopes,
    "fmean": _mean_slopes,
    "median": lambda data, ans: _middle(data, "both"),
    "median_low": lambda data, ans: _middle(data, "low"),
    "median_high": lambda data, ans: _middle(data, "high"),
    "variance": lambda data, ans: _deviations(data, len(data) - 1),
    "pvariance": lambda data, ans: _deviations(data, len(data)),
    "stdev": lambda data, ans: _root_of_deviations(data, ans, len(data) - 1),
    "pstdev": lambda data, ans: _root_of_deviations(data, ans, len(data)),
    "geometric_mean": lambda data, ans: [ans / (len(data) * x) for x in data],
    "harmonic_mean": lambda data, ans: _harmonic_slopes(data, ans),
}


def _harmonic_slopes(data: Sequence[float], ans: float) -> list[float]:
    """``H**2 / (n x_i**2)``; with a zero in the data (``H`` is 0): ``n`` for it where it
    is the only one (``H`` grows as ``n x_i`` from it), and 0 elsewhere."""
    zeros = [k for k, x in enumerate(data) if x == 0]
    if not zeros:
        return [ans * ans / (len(data) * x * x) for x in data]
    return [float(len(data)) if k == zeros[0] and len(zeros) == 1 else 0.0
            for k in range(len(data))]


def statistic_grad(g: Any, kind: str, data: Any, ans: Any) -> Any:
    """Adjoint of ``statistics.<kind>(data)``: ``g`` times each item's slope, a list for
    a list or tuple (an array's shape for an array)."""
    slopes = _SLOPES[kind](_items(data), float(ans))
    if isinstance(data, np.ndarray):
        return g * np.array(slopes).reshape(data.shape)
    return AdjointList([g * s for s in slopes])


def statistic_tangent(t: Any, kind: str, data: Any, ans: Any) -> Any:
    """Tangent of ``statistics.<kind>(data)`` along the items' tangents ``t``."""
    slopes = _SLOPES[kind](_items(data), float(ans))
    return math.fsum(s * v for s, v in zip(slopes, _items(t), strict=True))


def _items(values: Any) -> list[Any]:
    """The items of a list, a tuple or an array (flattened)."""
    return list(np.ravel(values)) if isinstance(values, np.ndarray) else list(values)


_ENV = {"statistics": statistics, "statistic_grad": statistic_grad,
        "statistic_tangent": statistic_tangent}
for _kind in _SLOPES:
    defrule(
        f"statistics.{_kind}(data)", env=_ENV,
        data=f"statistic_grad(g, {_kind!r}, data, ans)",
        tangents={"data": f"statistic_tangent(t, {_kind!r}, data, ans)"},
        sequences=("data",),
    )
