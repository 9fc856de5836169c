"""What numba types each name of the version for floats as, where srcad can tell.

numba gives a name one type for the whole function: the unification of every value
it is bound to (an int and a float make a float64). The compiled listing has to agree
with it where srcad itself writes a value of that name: the start ``t = None`` of a
name a loop saves before it first binds it (``None`` and an int make an optional int,
which indexes nothing and has no truth value) and the tape a preallocated loop saves it
into (a float64 array turns a saved int index back into a float). :func:`kinds` finds,
for the names whose every value says so, one of

- ``"int"`` (int64): int constants, ``range`` indices, ``len``, ``int``, ``round(x)``,
  ``math.floor``, and their arithmetic;
- ``"bool"``: comparisons, ``not``, bool constants;
- ``"float"`` (float64): any arithmetic with a float in it, ``/``, ``math``'s functions;
- ``"floats"``: a list of numbers (a list argument arrives as a float64 array).

A name it cannot tell (a tuple, a list of lists, what an unknown function gives) has
no kind: its start stays ``None`` and its tape a list, as before. The kinds are never
narrower than numba's: an int tape only holds what numba types as an int.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from . import ir

INT, BOOL, FLOAT, FLOATS = "int", "bool", "float", "floats"

#: what each kind starts as before its loop binds it (never read: saved and restored)
ZERO = {INT: ir.Const(0), BOOL: ir.Const(False), FLOAT: ir.Const(0.0)}

_NUMBERS = (BOOL, INT, FLOAT)  # (narrowest first: numba unifies two to the wider)
_UNKNOWN = "?"  # (a name whose values are not all known yet: the fixed point's start)

_BITWISE = frozenset({"&", "|", "^", "<<", ">>"})
_INT_BUILTINS = frozenset({"len", "int", "ord", "hash"})
_INT_MATH = frozenset({"floor", "ceil", "trunc", "gcd"})  # (int64 in numba too)
_BOOL_MATH = frozenset({"isnan", "isinf", "isfinite", "isclose"})


def _join(a: str | None, b: str | None) -> str | None:
    """The kind numba unifies two values of kinds ``a`` and ``b`` to."""
    if a == _UNKNOWN:
        return b
    if b == _UNKNOWN or a == b:
        return a
    if a in _NUMBERS and b in _NUMBERS:  # (a bool and an int make an int64)
        return _NUMBERS[max(_NUMBERS.index(a), _NUMBERS.index(b))]
    return None  # (a number and a list, ...: not said here)


def _number(kind: str | None) -> bool:
    return kind in _NUMBERS


class _Kinds:
    def __init__(self, names: dict[str, str | None], bindings: Mapping[str, Any]) -> None:
        self.names = names
        self.bindings = bindings

    def of(self, expr: ir.Expr | None) -> str | None:
        if isinstance(expr, ir.Const):
            value = expr.value
            return {bool: BOOL, int: INT, float: FLOAT}.get(type(value))
        if isinstance(expr, ir.Name):
            return self.names.get(expr.id)
        if isinstance(expr, ir.BinOp):
            return self.arithmetic(expr.op, self.of(expr.left), self.of(expr.right))
        if isinstance(expr, ir.UnaryOp):
            operand = self.of(expr.operand)
            if expr.op == "not":
                return BOOL
            if operand == _UNKNOWN:
                return _UNKNOWN
            if operand == BOOL:
                return INT
            return operand if operand in (INT, FLOAT) and expr.op in "-+~" else None
        if isinstance(expr, ir.Compare):
            sides = (self.of(expr.left), self.of(expr.right))
            if _UNKNOWN in sides:
                return _UNKNOWN
            return BOOL if all(_number(side) for side in sides) else None
        if isinstance(expr, ir.BoolOp):
            kinds = {self.of(value) for value in expr.values} - {_UNKNOWN}
            return BOOL if kinds <= {BOOL} else None
        if isinstance(expr, ir.Subscript):
            return self.item(expr)
        if isinstance(expr, ir.Tuple) and expr.is_list:
            items = [self.of(item) for item in expr.elts]
            if _UNKNOWN in items:
                return _UNKNOWN
            return FLOATS if FLOAT in items and all(_number(k) for k in items) else None
        if isinstance(expr, ir.Call):
            return self.call(expr)
        return None

    def arithmetic(self, op: str, left: str | None, right: str | None) -> str | None:
        if _UNKNOWN in (left, right):
            return _UNKNOWN
        if not (_number(left) and _number(right)):
            return None
        if op == "/":
            return FLOAT
        if op in _BITWISE:  # (of ints or bools only, where numba compiles it at all)
            return BOOL if left == right == BOOL and op in "&|^" else INT
        if op in ("+", "-", "*", "//", "%", "**"):
            return FLOAT if FLOAT in (left, right) else INT
        return None

    def item(self, expr: ir.Subscript) -> str | None:
        items = self.of(expr.value)
        if items == _UNKNOWN:
            return _UNKNOWN
        if items != FLOATS:
            return None
        if isinstance(expr.index, ir.Slice):
            return FLOATS
        index = self.of(expr.index)
        return index if index == _UNKNOWN else FLOAT if index in (INT, BOOL) else None

    def call(self, expr: ir.Call) -> str | None:
        args = [self.of(arg) for arg in expr.args]
        if _UNKNOWN in args:
            return _UNKNOWN
        if expr.kwargs:
            return None
        func = expr.func
        if isinstance(func, ir.Attr) and isinstance(func.value, ir.Name):
            if self.bindings.get(func.value.id, math) is not math or func.value.id != "math":
                return None
            if not all(_number(arg) for arg in args):
                return None
            if func.attr in _INT_MATH:
                return INT
            return BOOL if func.attr in _BOOL_MATH else FLOAT
        if not isinstance(func, ir.Name):
            return None
        name, bound = func.id, self.bindings.get(func.id)
        known = _FUNCTIONS.get(bound) if callable(bound) and bound is not None else None
        if known is not None:
            return known(args)
        if name in self.bindings and not isinstance(bound, type(len)):
            return None  # (the user's own function, or a helper said nothing about)
        if name in _INT_BUILTINS:
            return INT
        if name == "float":
            return FLOAT
        if name == "round":
            return INT if len(args) == 1 else FLOAT if args and _number(args[0]) else None
        if name == "abs" and len(args) == 1:
            return INT if args[0] == BOOL else args[0] if _number(args[0]) else None
        if name in ("min", "max"):
            if len(args) == 1:
                return FLOAT if args[0] == FLOATS else None
            joined: str | None = _UNKNOWN
            for arg in args:
                joined = _join(joined, arg) if _number(arg) else None
            return joined
        if name == "sum" and len(args) == 1:
            return FLOAT if args[0] == FLOATS else None
        return None


def _helpers() -> dict[Any, Callable[[list[str | None]], str | None]]:
    """What srcad's helpers give, by the kinds of their arguments (as numba compiles
    them: see srcad.numba_backend's twins)."""
    from . import runtime
    from .rules import numpy_grads

    def float_of_numbers(args: list[str | None]) -> str | None:
        return FLOAT if all(_number(arg) for arg in args) else None

    def same_list(args: list[str | None]) -> str | None:
        return FLOATS if args and args[0] == FLOATS else None

    return {
        runtime.divide: float_of_numbers,
        runtime.divide_or_zero: float_of_numbers,
        runtime.chosen: lambda args: FLOAT if args[1:] and _number(args[1]) else None,
        runtime.log_of_number: float_of_numbers,
        numpy_grads.sign: lambda args: INT if args and _number(args[0]) else None,
        runtime.list_replaced: same_list,
        runtime.list_removed: same_list,
        runtime.repeated: same_list,
        runtime.loop_items: same_list,
        runtime.fresh_copy: same_list,
    }


_FUNCTIONS: dict[Any, Callable[[list[str | None]], str | None]] = {}


def _definitions(body: tuple[ir.Stmt, ...] | list[ir.Stmt]) -> dict[str, list[ir.Expr | None]]:
    """Every value each name is bound to (``None``: one srcad cannot say anything of)."""
    values: dict[str, list[ir.Expr | None]] = {}
    for stmt in ir.walk(body):
        if isinstance(stmt, ir.Assign):
            if stmt.value == ir.Const(None):
                continue  # (a placeholder: the start this module replaces)
            values.setdefault(stmt.target, []).append(stmt.value)
        elif isinstance(stmt, ir.Adjoint):
            value: ir.Expr = stmt.value
            if stmt.accumulate:
                value = ir.BinOp("+", ir.Name(stmt.target), value)
            values.setdefault(stmt.target, []).append(value)
        elif isinstance(stmt, ir.Unpack):
            parts = stmt.value.elts if isinstance(stmt.value, ir.Tuple) else ()
            for k, target in enumerate(stmt.targets):
                values.setdefault(target, []).append(
                    parts[k] if len(parts) == len(stmt.targets) else None
                )
        elif isinstance(stmt, ir.Loop) and stmt.index is not None:
            values.setdefault(stmt.index, []).append(_loop_item(stmt.iterable))
        elif isinstance(stmt, ir.Python):
            for target in stmt.writes:
                values.setdefault(target, []).append(None)
    return values


def _loop_item(iterable: ir.Expr | None) -> ir.Expr | None:
    """An expression of the kind a loop's index takes: a range's 0, a list's item."""
    if isinstance(iterable, ir.Call) and isinstance(iterable.func, ir.Name):
        if iterable.func.id in ("range", "reversed") and iterable.args:
            inner = _loop_item(iterable.args[0])
            return ir.Const(0) if iterable.func.id == "range" else inner
    if isinstance(iterable, ir.Subscript) and isinstance(iterable.index, ir.Slice):
        return _loop_item(iterable.value)  # (range(...)[:n])
    return None if iterable is None else ir.Subscript(iterable, ir.Const(0))


def _parameters(
    params: tuple[str, ...], body: tuple[ir.Stmt, ...] | list[ir.Stmt]
) -> dict[str, str]:
    """The kind of each parameter, by how the listing reads it: a list of numbers (it
    arrives as a float64 array) when indexed, iterated or counted; an int when it is an
    index or a ``range`` bound; a number (taken for a float: if it is an int, numba
    refuses an int's use of what a float tape gave back) otherwise."""
    lists: set[str] = set()
    ints: set[str] = set()
    exprs: list[ir.Expr] = []
    for stmt in ir.walk(body):
        if isinstance(stmt, ir.Loop) and isinstance(stmt.iterable, ir.Name):
            lists.add(stmt.iterable.id)
        exprs += ir.expressions_of(stmt)
    for expr in exprs:
        for node in ir.nodes(expr):
            if isinstance(node, ir.Subscript):
                if isinstance(node.value, ir.Name):
                    lists.add(node.value.id)
                if isinstance(node.index, ir.Name):
                    ints.add(node.index.id)
            elif isinstance(node, ir.Call) and isinstance(node.func, ir.Name):
                if node.func.id == "range":
                    ints.update(a.id for a in node.args if isinstance(a, ir.Name))
                elif node.func.id in ("len", "sum", "loop_items") and node.args:
                    first = node.args[0]
                    if isinstance(first, ir.Name):
                        lists.add(first.id)
    return {p: FLOATS if p in lists else INT if p in ints else FLOAT for p in params}


def kinds(fn: ir.Function, body: tuple[ir.Stmt, ...] | list[ir.Stmt]) -> dict[str, str]:
    """name -> its kind, for the names of ``body`` (``fn``'s, without its type check)
    whose kind srcad can tell; parameters included."""
    if not _FUNCTIONS:
        _FUNCTIONS.update(_helpers())
    params = fn.params + fn.kwonly
    values = _definitions(body)
    given = _parameters(params, body)
    names: dict[str, str | None] = {name: _UNKNOWN for name in values}
    names.update(given)
    seen = _Kinds(names, fn.bindings)
    # (the fixed point from "not known yet": `i = i + 1` of `i = 0`; each name's kind
    # only narrows, from unknown through bool, int and float to none, so it ends)
    for _ in range(4 * len(values) + 2):
        changed = False
        for name, exprs in values.items():
            kind: str | None = given.get(name, _UNKNOWN)  # (a parameter bound again too)
            for expr in exprs:
                kind = _join(kind, None if expr is None else seen.of(expr))
                if kind is None:
                    break
            if kind != names[name]:
                names[name], changed = kind, True
        if not changed:
            break
    return {name: kind for name, kind in names.items() if kind not in (None, _UNKNOWN)}


__all__ = ["BOOL", "FLOAT", "FLOATS", "INT", "ZERO", "kinds"]
