"""Where generated code may raise on Python floats although the function did not.

Python's floats raise where numpy's give inf or nan: ``2.0 / 0.0`` (ZeroDivisionError),
``0.0 ** -0.5``, ``math.log(0.0)`` (ValueError), ``1e160 ** 2`` (OverflowError). The
forward pass raises where the function does; a derivative may divide by a value the
function never divided by (``np.log(x)`` at 0.0 is numpy's -inf, its slope ``2.0 / x``).
So a gradient's backward pass (all of a tangent function, and of a derivative of
srcad's own generated code) runs in a ``try`` whose ``except`` returns the same
derivative computed with numpy floats (:attr:`srcad.ir.Function.on_float_error`): the
array version's, or its own run again. (It runs the function first, which raises where it
raises: the optimiser leaves out a forward line whose value the derivative does not
need, ``1.0 / (x - 2.0)`` as the result, so the error may come from the backward pass.)
Where :func:`may_raise` proves the code cannot raise, the ``try`` is left out, so the
listing reads as it would without it.
"""

from __future__ import annotations

import builtins
import math
from collections import Counter

from . import ir
from .runtime import RAISES_AS_PYTHON, power_slope_of_numbers

#: math's functions that never raise on a float
_SAFE_MATH = frozenset(("fabs", "copysign", "isfinite", "isinf", "isnan", "tanh", "sin",
                        "cos", "atan", "atan2", "erf", "erfc", "hypot"))
#: builtins that never raise on floats (``int``, ``round``, ``pow`` and ``divmod`` may)
_SAFE_BUILTINS = frozenset(("abs", "max", "min", "sum", "len", "float", "bool", "range",
                            "reversed", "zip", "enumerate", "list", "tuple", "isinstance"))


def guarded_from(fn: ir.Function) -> int:
    """Where the ``try`` starts in ``fn``'s body: after the heading of its backward pass;
    at the top of a tangent function (no backward pass); after the heading of the forward
    pass of a derivative of srcad's own generated code (``grad(grad(f))``: its forward
    pass is a derivative too)."""
    if fn.source_file.startswith("<srcad"):
        at = ir.section_index(fn.body, ir.FORWARD)
    else:
        at = ir.section_index(fn.body)
    return 0 if at is None else at + 1


def may_raise(fn: ir.Function) -> bool:
    """Whether ``fn``'s backward pass may raise an arithmetic error on Python floats where
    its forward pass did not: it divides by a value the forward pass did not divide by
    first (before any branch or loop), takes a power (``1e160 ** 2`` overflows), or calls
    ``math`` (or code that is not numpy's, srcad's or a safe builtin)."""
    at = guarded_from(fn)
    assignments = Counter(t for s in ir.walk(fn.body) for t in ir.targets_of(s))
    once = {n for n in (*fn.params, *fn.kwonly, *assignments) if assignments[n] <= 1}
    nonzero = {  # (divisors the forward pass divided by: not zero, if it got here)
        name
        for stmt in fn.body[:at] if isinstance(stmt, ir.Assign)
        for name in _divisors(stmt.value) if name in once
    }
    return any(
        _may_raise(expr, nonzero, fn)
        for stmt in ir.walk(fn.body[at:])
        for expr in _expressions(stmt)
    )


def _divisors(expr: ir.Expr) -> list[str]:
    found = []
    if isinstance(expr, ir.BinOp) and expr.op in ("/", "//", "%") and isinstance(
        expr.right, ir.Name
    ):
        found.append(expr.right.id)
    for child in ir.children(expr):
        found += _divisors(child)
    return found


def _expressions(stmt: ir.Stmt) -> tuple[ir.Expr, ...]:
    if isinstance(stmt, ir.Python):
        return (ir.Call(ir.Name("\0python")),)  # (ordinary Python: may raise)
    return ir.expressions_of(stmt)


def _may_raise(expr: ir.Expr, nonzero: set[str], fn: ir.Function) -> bool:
    if isinstance(expr, ir.BinOp):
        right = expr.right
        if expr.op in ("/", "//", "%") and not (
            (isinstance(right, ir.Const) and isinstance(right.value, int | float)
             and right.value != 0)
            or (isinstance(right, ir.Name) and right.id in nonzero)
        ):
            return True
        if expr.op == "**" and not (  # (1e160 ** 2 overflows: OverflowError)
            isinstance(right, ir.Const) and isinstance(right.value, int | float)
            and right.value in (0, 1)
        ):
            return True
    elif isinstance(expr, ir.Call) and not (
        _safe_callee(expr.func, fn) or _power_slope_of_a_whole_power(expr, fn)
    ):
        return True
    return any(_may_raise(child, nonzero, fn) for child in ir.children(expr))


def _safe_callee(func: ir.Expr, fn: ir.Function) -> bool:
    """Is ``func`` numpy's, srcad's own, a safe builtin or a safe function of math's?"""
    if isinstance(func, ir.Attr) and isinstance(func.value, ir.Name):
        module = _object(func.value.id, fn)
        if module is math:
            return func.attr in _SAFE_MATH
        return getattr(module, "__name__", "") == "numpy"
    if isinstance(func, ir.Name):
        found = _object(func.id, fn)
        if found is None:
            return func.id in _SAFE_BUILTINS
        if getattr(builtins, func.id, None) is found:
            return func.id in _SAFE_BUILTINS
        module = getattr(found, "__module__", None) or ""
        if getattr(found, RAISES_AS_PYTHON, False):  # (srcad's, raising as a float would)
            return False
        return module.split(".")[0] in ("srcad", "numpy")
    return False


def _power_slope_of_a_whole_power(call: ir.Call, fn: ir.Function) -> bool:
    """``power_slope(x, y[, order])`` with a constant ``y`` at least ``order``: the slope
    ``y x ** (y - order)`` raises nowhere the forward pass's ``x ** y`` did not (a power
    below ``order``, ``x ** 0.5``, raises at 0: see ``runtime.power_slope_of_numbers``)."""
    if not (
        isinstance(call.func, ir.Name) and _object(call.func.id, fn) is power_slope_of_numbers
        and 2 <= len(call.args) <= 3
    ):
        return False
    exponent = call.args[1]
    order = call.args[2] if len(call.args) == 3 else ir.Const(1)
    return (
        isinstance(exponent, ir.Const) and isinstance(exponent.value, int | float)
        and isinstance(order, ir.Const) and isinstance(order.value, int)
        and exponent.value >= order.value
    )


def _object(name: str, fn: ir.Function) -> object:
    return fn.bindings.get(name, fn.free_objects.get(name))
