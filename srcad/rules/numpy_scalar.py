"""Derivative rules for numpy's elementwise functions (the twins of ``math``'s)."""

from __future__ import annotations

import numpy as np

from .scalar import POWER, define_family
from .table import defrule

define_family("np", np, {"asin": "arcsin", "acos": "arccos", "atan": "arctan",
                         "asinh": "arcsinh", "acosh": "arccosh", "atanh": "arctanh"})
defrule("np.power(x, y)", env={"np": np}, **{p: t.format(m="np") for p, t in POWER.items()})
defrule("np.square(x)", env={"np": np}, x="2 * x * g")
defrule("np.abs(x)", env={"np": np}, x="np.sign(x) * g")
defrule("np.absolute(x)", env={"np": np}, x="np.sign(x) * g")
defrule("np.negative(x)", env={"np": np}, x="-g")
