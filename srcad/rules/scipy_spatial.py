"""Derivative rules for ``scipy.spatial.distance``'s ``cdist`` and ``pdist``, loaded once a
program has imported it (see :mod:`srcad.rules.scipy_special`).

Every metric with a derivative is one function of a pair of points, ``d(u, v)``: its
partial derivatives along the first point, for every pair at once, give both adjoints
and tangents (the second point's are the first's of ``d(v, u)``: every metric here is
symmetric). A pair at distance 0, where the Euclidean and Minkowski distances have no
derivative, gets 0 (the subgradient JAX and PyTorch also pick)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.spatial.distance

from ..errors import UnsupportedSyntaxError
from ..load import user_line
from .numpy_arrays import ENV
from .table import defrule

#: the metrics differentiated, by the names SciPy gives them
METRICS = ("euclidean", "sqeuclidean", "cityblock", "minkowski", "cosine")


def _checked(metric: Any, w: Any) -> str:
    if w is not None or not isinstance(metric, str) or metric not in METRICS:
        what = "weights (w=)" if w is not None else f"the metric {metric!r}"
        raise UnsupportedSyntaxError(
            f"srcad differentiates SciPy's distances with the metrics {', '.join(METRICS)} "
            f"and no weights, not {what}",
            "compute the distance with numpy (np.linalg.norm(XA[:, None] - XB[None], "
            "axis=-1) for the Euclidean one), or register a rule (srcad.defgrad)",
            user_line(),
        )
    return metric


def _safe_divide(top: Any, bottom: Any) -> Any:
    """``top / bottom``, 0 where ``bottom`` is 0."""
    zero = bottom == 0
    return np.where(zero, 0.0, top / np.where(zero, 1.0, bottom))


def pair_partials(a: Any, b: Any, metric: str, p: Any) -> Any:
    """``P[i, j, k]``: the derivative of ``d(a[i], b[j])`` along ``a[i, k]``."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = a[:, None, :] - b[None, :, :]
    if metric == "sqeuclidean":
        return 2.0 * diff
    if metric == "cityblock":
        return np.sign(diff)
    if metric == "cosine":  # d = 1 - a.b / (|a| |b|)
        norm_a = np.linalg.norm(a, axis=1)[:, None, None]
        norm_b = np.linalg.norm(b, axis=1)[None, :, None]
        dot = (a @ b.T)[:, :, None]
        return -(_safe_divide(b[None], norm_a * norm_b)
                 - _safe_divide(dot * a[:, None], norm_a**3 * norm_b))
    order = 2.0 if metric == "euclidean" or p is None else float(p)
    distance = np.sum(np.abs(diff) ** order, axis=-1, keepdims=True) ** (1.0 / order)
    if order == 2.0:
        return _safe_divide(diff, distance)
    return _safe_divide(np.abs(diff) ** (order - 1) * np.sign(diff), distance ** (order - 1))


def cdist_grad(g: Any, a: Any, b: Any, metric: Any, p: Any, w: Any, which: int) -> Any:
    """Adjoint of ``cdist(a, b, metric)`` for ``a`` (``which`` 0) or ``b`` (1)."""
    metric = _checked(metric, w)
    if which == 0:
        return np.einsum("ij,ijk->ik", g, pair_partials(a, b, metric, p))
    return np.einsum("ij,jik->jk", g, pair_partials(b, a, metric, p))


def cdist_tangent(t_a: Any, t_b: Any, a: Any, b: Any, metric: Any, p: Any, w: Any) -> Any:
    """Tangent of ``cdist(a, b, metric)`` along ``a``'s tangent ``t_a`` and ``b``'s ``t_b``
    (either may be None)."""
    metric = _checked(metric, w)
    out = np.zeros((np.shape(a)[0], np.shape(b)[0]))
    if t_a is not None:
        out = out + np.einsum("ijk,ik->ij", pair_partials(a, b, metric, p), t_a)
    if t_b is not None:
        out = out + np.einsum("jik,jk->ij", pair_partials(b, a, metric, p), t_b)
    return out


def pdist_grad(g: Any, x: Any, metric: Any, p: Any, w: Any) -> Any:
    """Adjoint of ``pdist(x, metric)``: each pair's distance, condensed (``i < j``),
    spread over the square and read along the first point of every pair."""
    metric = _checked(metric, w)
    square = scipy.spatial.distance.squareform(np.asarray(g, dtype=float), checks=False)
    return np.einsum("ij,ijk->ik", square, pair_partials(x, x, metric, p))


def pdist_tangent(t: Any, x: Any, metric: Any, p: Any, w: Any) -> Any:
    """Tangent of ``pdist(x, metric)`` along ``t``."""
    metric = _checked(metric, w)
    partials = pair_partials(x, x, metric, p)
    square = np.einsum("ijk,ik->ij", partials, t) + np.einsum("jik,jk->ij", partials, t)
    return scipy.spatial.distance.squareform(square, checks=False)


_ENV = {**ENV, "scipy": scipy, "cdist_grad": cdist_grad, "cdist_tangent": cdist_tangent,
        "pdist_grad": pdist_grad, "pdist_tangent": pdist_tangent}

defrule(
    "scipy.spatial.distance.cdist(XA, XB, metric='euclidean', p=None, w=None)",
    env=_ENV, metric=None, p=None, w=None, orders=("p",),
    XA="cdist_grad(g, XA, XB, metric, p, w, 0)",
    XB="cdist_grad(g, XA, XB, metric, p, w, 1)",
    tangents={"XA": "cdist_tangent(t, None, XA, XB, metric, p, w)",
              "XB": "cdist_tangent(None, t, XA, XB, metric, p, w)"},
)
defrule(
    "scipy.spatial.distance.pdist(X, metric='euclidean', p=None, w=None)",
    env=_ENV, metric=None, p=None, w=None, orders=("p",),
    X="pdist_grad(g, X, metric, p, w)",
    tangents={"X": "pdist_tangent(t, X, metric, p, w)"},
)
