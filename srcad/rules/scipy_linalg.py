"""Derivative rules for ``scipy.linalg``, loaded once a program has imported it (see
:mod:`srcad.rules.scipy_special`)."""

from __future__ import annotations

import scipy
import scipy.linalg

from .numpy_arrays import ENV
from .table import defrule

SL = {**ENV, "scipy": scipy}

#: SciPy's norm is numpy's (with BLAS for the 2-norm of a vector): the same derivative.
defrule(
    "scipy.linalg.norm(x, ord=None, axis=None, keepdims=False, check_finite=True)",
    env=SL,
    check_finite=None,
    x="norm_grad(g, x, ans, ord, axis, keepdims)",
    tangents={"x": "norm_tangent(t, x, ans, ord, axis, keepdims)"},
)
