"""The gradient a gradient for arrays falls back to when its result holds nan: the same
code, with every product and quotient of its adjoint arithmetic reading an exact zero as
exact (``0 * inf = 0``, ``0 * nan = 0``, ``0 / 0 = 0``).

Reverse mode multiplies a local slope by an adjoint. Where one of them is exactly 0
because nothing moves (an entry a NaN-ignoring reduction skips, a share of 0 from an
unreachable state, the slope ``2 (x_i - x_i)`` of a self-distance) and the other is
infinite or nan (the slope of a square root at 0, a NaN in the data), the product is
nan, and summing spreads it over the whole gradient, although the function does not
depend on that entry. Forward mode has the same convention already (a tangent of 0
moves nothing: :func:`srcad.runtime.divide_or_zero`).

Checking every product costs a ``np.where`` each, so the gradient runs the plain code
first; only a result holding nan runs this version (made then, once). A genuinely
infinite derivative (``sqrt(x)`` at ``x = 0``) stays infinite: it meets no zero.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from . import ir, trees
from .names import NameAllocator, bind
from .runtime import divide_or_zero, times_or_zero


def zero_safe(fn: ir.Function) -> ir.Function:
    """``fn`` with ``a * b`` as ``times_or_zero(a, b)`` and ``a / b`` as
    ``divide_or_zero(a, b)`` in the values of its adjoint statements."""
    bindings = dict(fn.bindings)
    names = NameAllocator(fn.names())
    times = bind(names, bindings, fn.free_objects, "times_or_zero", times_or_zero)
    divide = bind(names, bindings, fn.free_objects, "divide_or_zero", divide_or_zero)
    helper = {"*": times, "/": divide}

    def rewrite(expr: ir.Expr) -> ir.Expr:
        if isinstance(expr, ir.BinOp) and expr.op in helper:
            return ir.Call(ir.Name(helper[expr.op]), (expr.left, expr.right))
        return expr

    class Adjoints(ir.Transformer):
        def visit_Adjoint(self, stmt: ir.Adjoint | ir.AdjointItem) -> ir.Stmt:
            value = ir.map_expr(stmt.value, rewrite)
            return stmt if value is stmt.value else replace(stmt, value=value)

        visit_AdjointItem = visit_Adjoint

    body = tuple(Adjoints().visit_body(fn.body))
    return fn.with_body(body, bindings=bindings)


def holds_nan(result: Any) -> bool:
    """Whether a gradient's result (numbers, numpy arrays, containers and records of
    them) holds a nan anywhere."""
    return not _every_float(result, lambda v: ~np.isnan(v))


def holds_only_finite(value: Any) -> bool:
    """Whether every number and numpy array of floats in ``value`` is finite."""
    return _every_float(value, np.isfinite)


def _every_float(value: Any, passes: Callable[[Any], Any]) -> bool:
    """Whether every float (or complex) number and array item in ``value`` ``passes``."""
    for leaf in trees.leaves(value):
        floats = isinstance(leaf, float | np.floating) or (
            isinstance(leaf, np.ndarray) and leaf.dtype.kind in "fc"
        )
        if floats and not np.all(passes(leaf)):
            return False
    return True


def retried_where_nan(
    gradient: Callable[..., Any],
    careful: Callable[[], Callable[..., Any]],
    value_of: Callable[..., Any],
) -> Callable[..., Any]:
    """``gradient``, run again by the function ``careful()`` gives (made at the first
    need, once) when its result holds nan and the function's value there, ``value_of``
    the same arguments and the result, is finite (where it is not, the derivative is
    not a number either: ``log(x * x)`` at 0)."""
    made: list[Callable[..., Any]] = []

    @functools.wraps(gradient)
    def retried(*args: Any, **kwargs: Any) -> Any:
        result = gradient(*args, **kwargs)
        if not holds_nan(result) or not holds_only_finite(value_of(result, args, kwargs)):
            return result
        if not made:
            made.append(careful())
        return made[0](*args, **kwargs)

    # (the generated function's parameters: srcad reads them to pass its arguments on)
    retried.__signature__ = inspect.signature(gradient, follow_wrapped=False)  # type: ignore[attr-defined]
    return retried
