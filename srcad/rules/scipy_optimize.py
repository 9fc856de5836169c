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

import numbers
import threading
from typing import Any

import numpy as np
import scipy
import scipy.optimize

from .. import trees
from ..desugar import BRACKETING_ROOT_FINDERS
from ..errors import Location, SrcadError
from ..lower.roots import USER_FILE
from ..runtime import AdjointList
from .numpy_arrays import ENV
from .table import Templates, defrule

#: SciPy's default relative tolerance of its bracketing root finders (4 eps)
RTOL = float(4 * np.finfo(float).eps)

_LOCK = threading.Lock()
#: (function, positions) -> srcad's gradient of the function in those positions
_PARTIALS: dict[tuple[Any, tuple[int, ...]], Any] = {}
_PARTIALS_LIMIT = 256


def _differentiable(item: Any) -> bool:
    """An item of ``args`` whose partial derivative is taken: a number (not a bool), an
    array of numbers, or a container or object holding them (a list of arrays, a dict of
    parameters, a dataclass's fields: srcad's gradient of ``f`` gives them their own)."""
    found = trees.leaves(item)
    return bool(found) and any(_number_leaf(leaf) for leaf in found)


def _number_leaf(leaf: Any) -> bool:
    if isinstance(leaf, bool | np.bool_):
        return False
    if isinstance(leaf, numbers.Number):
        return not isinstance(leaf, complex | np.complexfloating)
    return isinstance(leaf, np.ndarray) and leaf.dtype.kind in "fiu"


def _as_scipy_gives(args: Any) -> tuple[Any, ...]:
    """``args`` as SciPy passes them to ``f``: a tuple as it is, anything else (a number,
    a list) as the one argument (``args=a`` is ``args=(a,)``)."""
    return args if isinstance(args, tuple) else (args,)


def _partial_function(f: Any, positions: tuple[int, ...]) -> Any:
    """srcad's gradient of ``f`` in ``positions`` (always a tuple), made once."""
    key = (f, positions)
    with _LOCK:
        made = _PARTIALS.get(key)
    if made is None:
        import srcad

        made = srcad.grad(f, argnums=positions)
        with _LOCK:
            if len(_PARTIALS) >= _PARTIALS_LIMIT:
                _PARTIALS.pop(next(iter(_PARTIALS)))
            _PARTIALS[key] = made
    return made


def root_partials(f: Any, root: Any, args: Any) -> tuple[Any, list[Any]]:
    """``df/dr`` and ``df/d args[k]`` (None for an item that is not a number) at the
    root, by srcad's gradient of ``f``."""
    args = _as_scipy_gives(args)
    positions = (0, *(1 + k for k, item in enumerate(args) if _differentiable(item)))
    try:
        gradient = _partial_function(f, positions)(root, *args)
    except SrcadError as error:
        raise _in_users_file(error, f) from None
    by_position = dict(zip(positions, gradient, strict=True))
    slope = by_position[0]
    if not (np.isfinite(slope) and slope != 0):
        from ..errors import NoRuleError
        from ..load import user_line

        raise NoRuleError(
            f"the function's slope at the root the finder returned is {float(slope)}: a "
            "double root, or no root at all (a jump the bracket holds), where the root "
            "has no derivative in the function's arguments",
            "bracket a simple root (where the function changes sign with a nonzero slope)",
            user_line(3),
        )
    return slope, [by_position.get(1 + k) for k in range(len(args))]


def _in_users_file(error: SrcadError, f: Any) -> SrcadError:
    """``error``, raised in a function srcad made of a lambda or nested ``def`` (see
    :mod:`srcad.lower.roots`), at the same lines of the user's file, which the made
    function's keep; any other error as it is."""
    user_file = getattr(f, USER_FILE, None)
    made_file = getattr(getattr(f, "__code__", None), "co_filename", None)
    if user_file is None or not any(p.filename == made_file for p in error.problems):
        return error

    def moved(problem: SrcadError) -> SrcadError:
        where = problem.location
        if where.filename == made_file:
            where = Location(user_file, where.lineno, where.col_offset)
        return type(problem)(problem.message, problem.hint, where)

    first, *others = [moved(p) for p in error.problems]
    return type(first)(first.message, first.hint, first.location, others=tuple(others))


def _scaled(partial: Any, factor: Any) -> Any:
    """``factor * partial`` leaf by leaf (a list or tuple of numbers: item by item; a
    dict or an object: one of the same structure)."""
    if isinstance(partial, list | tuple) and all(np.ndim(p) == 0 for p in partial):
        return AdjointList(factor * p for p in partial)
    return trees.map_leaves(lambda leaf: factor * leaf, partial)


def _scalar_root(name: str, root: Any) -> None:
    """Refuse a root that is not one number (``newton`` with an array ``x0`` solves
    several equations at once)."""
    if np.ndim(root) != 0:
        from ..errors import UnsupportedSyntaxError
        from ..load import user_line

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
    factor = _number(-np.divide(g, slope))
    adjoints = [
        0.0 if partial is None else _scaled(partial, factor) for partial in partials
    ]
    return AdjointList(adjoints) if isinstance(args, tuple) else adjoints[0]


def _dot(partial: Any, tangent: Any) -> Any:
    """The inner product of a partial derivative and a tangent of the same structure."""
    return sum(
        p * t if np.ndim(p) == 0 else np.sum(np.multiply(p, t))
        for p, t in zip(trees.leaves(partial), trees.leaves(tangent), strict=True)
        if t is not None
    )


def root_args_tangent(t: Any, f: Any, ans: Any, args: Any, name: str = "brentq") -> Any:
    """Tangent of a root finder's root along its ``args``' tangents ``t`` (one per item):
    ``-(sum_k df/d args[k] t[k]) / (df/dr)`` at the root ``ans``."""
    _scalar_root(name, ans)
    slope, partials = root_partials(f, ans, args)
    total = 0.0
    for partial, tangent in zip(partials, _as_scipy_gives(t) if isinstance(args, tuple)
                                else (t,), strict=True):
        if partial is not None and tangent is not None:
            total = total + _dot(partial, tangent)
    return _number(-np.divide(total, slope))


def _number(value: Any) -> Any:
    """A scalar as a Python float (numpy's division gives a 0-d array or numpy float)."""
    return float(value) if np.ndim(value) == 0 and type(value) is not float else value


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
