"""Derivative rules for numpy's spellings from the array API standard that the other
families lack (numpy 2): what ``xp.astype`` and ``xp.var(x, correction=1)`` lower to
(see :mod:`srcad.array_api`)."""

from __future__ import annotations

import numpy as np

from .numpy_arrays import ENV
from .table import defrule

if hasattr(np, "astype"):  # numpy >= 2.1
    defrule("np.astype(x, dtype, copy=True)", env=ENV, dtype=None, copy=None, x="g", linear=True)
_ARGS = "x, axis, correction, keepdims"
for _name, _over in (("var", ""), ("std", " / (2 * ans)")):
    defrule(
        f"np.{_name}(x, axis=None, correction=0, keepdims=False)",
        env=ENV,
        reduction=True,
        x=f"var_grad(g{_over}, {_ARGS})",
        tangents={"x": f"var_tangent(t, {_ARGS}){_over}"},
    )
