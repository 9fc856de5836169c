"""Derivative rules for ``scipy.optimize``'s scalar root finders, loaded once a program
has imported it (see :mod:`srcad.rules.scipy_special`): ``brentq``, ``brenth``,
``ridder``, ``bisect``, ``toms748`` and ``newton`` (a scalar ``x0``).

The root ``r`` of ``f(r, *args) = 0`` is SciPy's own (the value is bit-identical); its
derivative is implicit: ``dr/d args[k] = -(df/d args[k]) / (df/dr)`` at the root, the
partial derivatives of ``f`` taken at run time by srcad itself (``srcad.grad`` of ``f``,
built once per function). The bracket ``a, b`` and the starting point ``x0`` get no
gradient: the root does not depend on them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy
import scipy.optimize

from ..desugar import BRACKETING_ROOT_FINDERS
from ..errors import NoRuleError, UnsupportedSyntaxError
from ..load import user_line
from .numpy_arrays import ENV
from .passed_functions import (
    args_adjoint,
    as_scipy_gives,
    derivative_at,
    differentiable,
    dot,
    item_tangents,
    number,
    scaled,
)
from .table import Templates, defrule

#: SciPy's default relative tolerance of its bracketing root finders (4 eps)
RTOL = float(4 * np.finfo(float).eps)


def root_partials(f: Any, root: Any, args: Any) -> tuple[Any, list[Any]]:
    """``df/dr`` and ``df/d args[k]`` (None for an item that is not a number) at the
    root, by srcad's gradient of ``f``."""
    args = as_scipy_gives(args)
    positions = (0, *(1 + k for k, item in enumerate(args) if differentiable(item)))
    gradient = derivative_at("grad", f, positions, root, *args)
    by_position = dict(zip(positions, gradient, strict=True))
    slope = by_position[0]
    if not (np.isfinite(slope) and slope != 0):
        raise NoRuleError(
            f"the function's slope at the root the finder returned is {float(slope)}: a "
            "double root, or no root at all (a jump the bracket holds), where the root "
            "has no derivative in the function's arguments",
            "bracket a simple root (where the function changes sign with a nonzero slope)",
            user_line(3),
        )
    return slope, [by_position.get(1 + k) for k in range(len(args))]


def _scalar_root(name: str, root: Any) -> None:
    """Refuse a root that is not one number (``newton`` with an array ``x0`` solves
    several equations at once)."""
    if np.ndim(root) != 0:
        raise UnsupportedSyntaxError(
            f"srcad differentiates scipy.optimize.{name} of one scalar equation, and this "
            f"root has shape {np.shape(root)}",
            "give a scalar starting point (x0), and solve each equation in a loop",
            user_line(3),
        )


def root_args_grad(g: Any, f: Any, ans: Any, args: Any, name: str = "brentq") -> Any:
    """Adjoint of a root finder's ``args``: ``-g (df/d args[k]) / (df/dr)`` per item, at
    the root ``ans`` (zero for an item that is not a number)."""
    _scalar_root(name, ans)
    slope, partials = root_partials(f, ans, args)
    factor = number(-np.divide(g, slope))
    adjoints = [0.0 if partial is None else scaled(partial, factor) for partial in partials]
    return args_adjoint(args, adjoints)


def root_args_tangent(t: Any, f: Any, ans: Any, args: Any, name: str = "brentq") -> Any:
    """Tangent of a root finder's root along its ``args``' tangents ``t`` (one per item):
    ``-(sum_k df/d args[k] t[k]) / (df/dr)`` at the root ``ans``."""
    _scalar_root(name, ans)
    slope, partials = root_partials(f, ans, args)
    total = 0.0
    for partial, tangent in zip(partials, item_tangents(args, t), strict=True):
        if partial is not None and tangent is not None:
            total = total + dot(partial, tangent)
    return number(-np.divide(total, slope))


_OPTIMIZE = {
    **ENV,
    "scipy": scipy,
    "RTOL": RTOL,
    "root_args_grad": root_args_grad,
    "root_args_tangent": root_args_tangent,
}

#: The bracketing root finders: the root of ``f(r, *args) = 0`` in ``[a, b]``, SciPy's
#: value; ``args`` get the implicit derivative, the bracket and the tolerances none.
#: ``full_output=True`` (a tuple) and ``disp=False`` are left out of the patterns:
#: such a call has no rule, and is refused.
for _name in BRACKETING_ROOT_FINDERS:
    _k = ", k=1" if _name == "toms748" else ""
    _none: Templates = {p: None for p in ("f", "a", "b", "xtol", "rtol", "maxiter")}
    if _k:
        _none["k"] = None
    defrule(
        f"scipy.optimize.{_name}(f, a, b, args=(){_k}, xtol=2e-12, rtol=RTOL, maxiter=100)",
        env=_OPTIMIZE,
        orders=("f",),  # (a partial of differentiated values: pass them through args=)
        **_none,
        args=f"root_args_grad(g, f, ans, args, {_name!r})",
        tangents={"args": f"root_args_tangent(t, f, ans, args, {_name!r})"},
        sequences=("args",),
    )

#: Newton's method (the secant method without ``fprime``, Halley's with ``fprime2``)
#: from a scalar ``x0``: the root it converges to, with the same implicit derivative.
_NEWTON_NONE: Templates = {
    p: None for p in ("func", "x0", "fprime", "tol", "maxiter", "fprime2", "x1", "rtol")
}
defrule(
    "scipy.optimize.newton(func, x0, fprime=None, args=(), tol=1.48e-08, maxiter=50, "
    "fprime2=None, x1=None, rtol=0.0)",
    env=_OPTIMIZE,
    orders=("func", "fprime", "fprime2"),
    **_NEWTON_NONE,
    args="root_args_grad(g, func, ans, args, 'newton')",
    tangents={"args": "root_args_tangent(t, func, ans, args, 'newton')"},
    sequences=("args",),
)
