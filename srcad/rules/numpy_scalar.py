"""Derivative rules for numpy's elementwise functions (the twins of ``math``'s)."""

from __future__ import annotations

import numpy as np

from ..runtime import divide_or_zero
from .scalar import POWER, define_family
from .table import defrule

define_family(
    "np",
    np,
    {
        "asin": "arcsin",
        "acos": "arccos",
        "atan": "arctan",
        "asinh": "arcsinh",
        "acosh": "arccosh",
        "atanh": "arctanh",
    },
)
_ = POWER  # np.power is a broadcasting binary function (see numpy_arrays)
defrule("np.square(x)", env={"np": np}, x="2 * x * g", elementwise=True)
defrule("np.cbrt(x)", env={"np": np, "divide_or_zero": divide_or_zero},
        x="divide_or_zero(g, 3 * ans * ans)", elementwise=True)
defrule("np.abs(x)", env={"np": np}, x="np.sign(x) * g", elementwise=True)
defrule("np.abs(x) ** 2", env={"np": np}, name="square of abs (np)", x="2 * x * g",
        elementwise=True)  # (as for abs: see srcad.rules.scalar)
defrule("np.absolute(x)", env={"np": np}, x="np.sign(x) * g", elementwise=True)
defrule("np.negative(x)", env={"np": np}, x="-g", elementwise=True)
defrule("np.exp2(x)", env={"np": np}, x="np.log(2) * ans * g", elementwise=True)
defrule("np.reciprocal(x)", env={"np": np}, x="-ans * ans * g", elementwise=True)
defrule("np.fabs(x)", env={"np": np}, x="np.sign(x) * g", elementwise=True)
#: angle conversions: linear
for _name in ("deg2rad", "radians"):
    defrule(f"np.{_name}(x)", env={"np": np}, x="np.pi / 180 * g", linear=True, elementwise=True)
for _name in ("rad2deg", "degrees"):
    defrule(f"np.{_name}(x)", env={"np": np}, x="180 / np.pi * g", linear=True, elementwise=True)
