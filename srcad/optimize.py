"""Optimize: small passes over a gradient function, each usable on its own.

- :func:`fold` — algebra on expressions: ``1 * g``, ``g * 1``, ``0 + g``, ``-(-g)``,
  ``x ** 1`` and constant arithmetic disappear;
- :func:`propagate_copies` — ``da = db`` and ``df = 1.0`` are substituted into their
  readers instead of being kept as copies (``da += c`` after ``da = db`` becomes
  ``da = db + c``);
- :func:`eliminate_dead_code` — statements whose value nobody reads are dropped
  (forward and backward), so are empty branches and loops, and headers left without
  lines;
- :func:`reduce_strength` — ``x ** 2`` becomes ``x * x`` in gradient expressions;
- :func:`float_constants` — ``2 * g`` becomes ``2.0 * g`` in the version for floats;
- :func:`rematerialize` — cheap loop values (``xs[t]``) are recomputed in the backward
  loop instead of being saved on the stack;
- :func:`common_subexpressions` — a number computed twice is read from the name that
  holds it (run on the unrolled Hessian of :mod:`srcad.unrolled` only).

:func:`optimize` runs them to a fixed point, keeps only the loop saves the remaining
backward code reads, and makes in-place accumulation alias-safe.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeGuard

import numpy as np

from . import ir
from .aliases import protect_aliases
from .analyze import CallFacts, fresh_calls, int_values, is_alias
from .custom import stop_gradient
from .float_lists import plain_float_lists
from .float_records import made_fields, number_fields
from .names import NameAllocator
from .runtime import (
    fresh_copy,
    log_of_number,
    power_coefficient,
    power_slope,
    power_slope_of_numbers,
    with_item,
    zeros_like,
)
from .tape import prune_saves

_ONE = (1, 1.0)
_ZERO = (0, 0.0)


def _is_const(expr: ir.Expr, values: tuple) -> bool:
    return (
        isinstance(expr, ir.Const)
        and type(expr.value) in (int, float)
        and any(expr.value == v for v in values)
    )


def _const_number(expr: ir.Expr) -> TypeGuard[ir.Const]:
    return isinstance(expr, ir.Const) and type(expr.value) in (int, float)


def _int_name(expr: ir.Expr, ints: Collection[str]) -> bool:
    return isinstance(expr, ir.Name) and expr.id in ints


def _may_be_int(expr: ir.Expr, ints: Collection[str] = ()) -> bool:
    """A value that may be a bool or an int (a comparison, ``sign(x)``, ``len(xs)``, a
    ``range`` index: see :func:`int_names`): multiplying it by the gradient ``1.0`` is
    what makes it a float gradient, so that product stays."""
    return (
        isinstance(expr, ir.Compare | ir.BoolOp | ir.Call)
        or (isinstance(expr, ir.UnaryOp) and expr.op == "not")
        or _int_name(expr, ints)
        or (isinstance(expr, ir.Const) and type(expr.value) in (int, bool))
    )


#: builtins whose result is an int or a bool whatever they are given
_INT_BUILTINS = frozenset({"len", "int", "round", "ord", "bool", "isinstance", "hash"})
#: builtins whose result is an int when their arguments are
_INT_KEEPING = frozenset({"max", "min", "abs", "sum", "pow"})


def _gives_int(value: ir.Expr, rule: ir.Rule | None, ints: set[str]) -> bool:
    """Whether ``value`` may be an int or a bool, float parameters taken for floats."""
    if isinstance(value, ir.Const):
        return type(value.value) in (int, bool)
    if isinstance(value, ir.Name):
        return value.id in ints
    if isinstance(value, ir.Call):  # (a call with a derivative gives a float of floats)
        name = value.func.id if isinstance(value.func, ir.Name) else None
        if name in _INT_BUILTINS:
            return True
        if name in _INT_KEEPING or rule is not None and stop_gradient in rule.env.values():
            return all(_gives_int(arg, None, ints) for arg in value.args)  # (max(2, 3))
        return rule is None or all(a is None for a in rule.adjoints)
    if isinstance(value, ir.BinOp):
        return value.op in ("+", "-", "*", "//", "%", "**", "<<", ">>", "&", "|", "^") and all(
            _gives_int(side, None, ints) for side in (value.left, value.right)
        )
    if isinstance(value, ir.UnaryOp):
        return value.op == "not" or _gives_int(value.operand, None, ints)
    return isinstance(value, ir.Compare | ir.BoolOp)


def _is_range(expr: ir.Expr | None) -> bool:
    if isinstance(expr, ir.Call) and isinstance(expr.func, ir.Name):
        if expr.func.id == "reversed" and len(expr.args) == 1:
            return _is_range(expr.args[0])
        return expr.func.id == "range"
    return False


def int_names(
    body: tuple[ir.Stmt, ...] | list[ir.Stmt], params: Collection[str] = ()
) -> frozenset[str]:
    """Names that may hold an int or a bool: a count (``len``), an index of a ``range``
    loop, an int constant, a global (``N = 3``), what a function without a derivative
    gives, and arithmetic of these alone (the parameters of a gradient taken for
    floats)."""
    assigned: dict[str, list[tuple[ir.Expr, ir.Rule | None]]] = {}
    bound = set(params)
    reads: list[str] = []
    for stmt in ir.walk(body):  # (one walk: in program order)
        bound.update(ir.targets_of(stmt))
        reads += ir.reads_of(stmt)
        if isinstance(stmt, ir.Assign):
            assigned.setdefault(stmt.target, []).append((stmt.value, stmt.rule))
        elif isinstance(stmt, ir.Loop) and stmt.index is not None and _is_range(stmt.iterable):
            assigned.setdefault(stmt.index, []).append((ir.Const(0), None))
    ints: set[str] = {name for name in reads if name not in bound}  # (globals: N = 3)
    once = ir.settles_in_one_pass(
        body, {name: len(values) for name, values in assigned.items()}, params
    )
    while True:  # (grows to a fixed point: `i = i + 1` of `i = 0` in a loop)
        before = len(ints)
        for name, values in assigned.items():
            if name not in ints and any(_gives_int(v, rule, ints) for v, rule in values):
                ints.add(name)
        if once or len(ints) == before:
            return frozenset(ints)


def _fold_node(expr: ir.Expr, ints: Collection[str] = ()) -> ir.Expr:
    if isinstance(expr, ir.UnaryOp):
        inner = expr.operand
        if expr.op == "+":
            return inner
        if expr.op == "-" and (negated := ir.negated(inner)) is not None:
            return negated  # (-(-a * b) is a * b)
        if expr.op == "-" and _const_number(inner):
            return ir.Const(-inner.value)
        if expr.op == "-" and (flipped := _positive_constant(inner)) is not None:
            return flipped  # (-(a * -2.0) is a * 2.0)
        return expr
    if (
        isinstance(expr, ir.Compare)
        and expr.op in ("is", "is not")
        and isinstance(expr.left, ir.Const)
        and isinstance(expr.right, ir.Const)
        and any(v is None or type(v) is bool for v in (expr.left.value, expr.right.value))
    ):  # (`-1 is None` from an inlined helper's check of a constant argument)
        same = expr.left.value is expr.right.value
        return ir.Const(same if expr.op == "is" else not same)
    if not isinstance(expr, ir.BinOp):
        return expr
    left, right, op = expr.left, expr.right, expr.op
    if _const_number(left) and _const_number(right) and op in "+-*":
        value = {
            "+": left.value + right.value,
            "-": left.value - right.value,
            "*": left.value * right.value,
        }[op]
        return ir.Const(value)
    negated_left, negated_right = ir.negated(left), ir.negated(right)
    if op == "*":  # (a comparison times 1 stays a product: True is not a gradient)
        if _is_const(left, _ONE) and not _may_be_int(right, ints):
            return right
        if _is_const(right, _ONE) and not _may_be_int(left, ints):
            return left
        if _is_const(left, (-1,)):
            return _fold_node(ir.UnaryOp("-", right), ints)
        if _is_const(right, (-1,)):
            return _fold_node(ir.UnaryOp("-", left), ints)
    if op in ("*", "/"):  # (signs: exact, as IEEE rounding is symmetric in sign)
        if negated_left is not None and negated_right is not None:
            return ir.BinOp(op, negated_left, negated_right)
        if negated_left is not None and _const_number(right) and right.value < 0:
            return ir.BinOp(op, negated_left, ir.Const(-right.value))  # (-a) * -2.0
        if negated_right is not None and _const_number(left) and left.value < 0:
            return ir.BinOp(op, ir.Const(-left.value), negated_right)
    if op == "+":  # (``0.0 + n`` of an int ``n`` is what makes it a float)
        if left == right and _is_product(left):  # (x * g + x * g, of x * x: exact)
            return ir.BinOp("*", ir.Const(2.0), left)
        if _is_const(left, _ZERO) and not _int_name(right, ints):
            return right
        if _is_const(right, _ZERO) and not _int_name(left, ints):
            return left
        if negated_right is not None:
            return ir.BinOp("-", left, negated_right)
    if op == "-":
        if _is_const(right, _ZERO) and not _int_name(left, ints):
            return left
        if _is_const(left, _ZERO):
            return _fold_node(ir.UnaryOp("-", right), ints)
        if negated_right is not None:
            return ir.BinOp("+", left, negated_right)
    if op == "/" and _is_const(right, _ONE) and not _int_name(left, ints):
        return left
    if op == "**" and _is_const(right, _ONE):
        return left
    return expr


def _positive_constant(expr: ir.Expr) -> ir.BinOp | None:
    """``a * 2.0`` for the product or quotient ``a * -2.0`` (``-2.0 / a``: ``2.0 / a``),
    the negation of ``expr``, exactly; None when neither operand is a negative constant."""
    if not (isinstance(expr, ir.BinOp) and expr.op in ("*", "/")):
        return None
    if _const_number(expr.left) and expr.left.value < 0:
        return ir.BinOp(expr.op, ir.Const(-expr.left.value), expr.right)
    if _const_number(expr.right) and expr.right.value < 0:
        return ir.BinOp(expr.op, expr.left, ir.Const(-expr.right.value))
    return None


def _is_product(expr: ir.Expr) -> bool:
    """A product (of numbers or arrays: a list's adjoint cannot be multiplied)."""
    return isinstance(expr, ir.BinOp) and expr.op == "*"


def merge_doubled(body: tuple[ir.Stmt, ...] | list[ir.Stmt]) -> list[ir.Stmt]:
    """``d += x * g`` twice in a row (the two operands of ``x * x``) becomes ``d += 2.0 *
    (x * g)``: one product instead of two (doubling is exact)."""
    out: list[ir.Stmt] = []
    for stmt in body:
        blocks = ir.blocks_of(stmt)
        if blocks:
            stmt = ir.with_blocks(stmt, (merge_doubled(b) for b in blocks))
        last = out[-1] if out else None
        if (
            isinstance(stmt, ir.Adjoint)
            and stmt.accumulate
            and isinstance(last, ir.Adjoint)
            and last.target == stmt.target
            and last.value == stmt.value
            and _is_product(stmt.value)
            and stmt.target not in ir.names_in(stmt.value)  # (d += d * g reads the first)
        ):
            out[-1] = replace(last, value=ir.BinOp("*", ir.Const(2.0), stmt.value))
            continue
        out.append(stmt)
    return out


def merge_negated_first(body: tuple[ir.Stmt, ...] | list[ir.Stmt]) -> list[ir.Stmt]:
    """``d = -x`` (a first contribution; also ``d = -a * b``, see :func:`ir.negated`), then
    ``d += e`` with nothing reading or writing ``d``, nor writing a name of ``x``, in
    between, becomes ``d = e - x`` there: one number made instead of two, the same value
    bit for bit (negation is exact, and ``e + -x`` is ``e - x``). For Python floats,
    where each operation makes a number."""
    out = [
        ir.with_blocks(stmt, (merge_negated_first(b) for b in blocks))
        if (blocks := ir.blocks_of(stmt)) else stmt
        for stmt in body
    ]
    merged: set[int] = set()  # (positions of first contributions merged into a later one)
    pending: dict[str, tuple[int, ir.Expr]] = {}  # d -> (position of d = -x, x)
    watched: dict[str, set[str]] = {}  # a name d or x holds -> the pending d's
    for position, stmt in enumerate(out):
        negation = ir.negated(stmt.value) if isinstance(stmt, ir.Adjoint) else None
        if (
            isinstance(stmt, ir.Adjoint) and stmt.accumulate and stmt.target in pending
            and stmt.target not in ir.names_in(stmt.value)
        ):
            first, negated = pending.pop(stmt.target)
            stmt = out[position] = ir.Adjoint(
                stmt.target, ir.BinOp("-", stmt.value, negated), tag=stmt.tag
            )
            negation = None  # (e - x: no negation left to merge)
            merged.add(first)
        for inner in ir.walk([stmt]):  # (what is written, or a pending d read, ends it)
            touched = [n for n in ir.reads_of(inner) if n in pending]
            for name in (*ir.targets_of(inner), *touched):
                for d in watched.pop(name, ()):
                    pending.pop(d, None)
        if (
            isinstance(stmt, ir.Adjoint) and not stmt.accumulate and negation is not None
            and stmt.target not in ir.names_in(negation)
        ):
            pending[stmt.target] = (position, negation)
            for name in {stmt.target, *ir.names_in(negation)}:
                watched.setdefault(name, set()).add(stmt.target)
    if not merged:
        return out
    return _drop_empty_headers([s for k, s in enumerate(out) if k not in merged])


def fold(expr: ir.Expr, ints: Collection[str] = ()) -> ir.Expr:
    """Simplify an expression bottom-up (no rewrite changes a value; ``ints``: names of
    int values, which ``1.0 * n`` makes floats, so that product stays)."""
    if not ints:
        return ir.map_expr(expr, _fold_node)
    return ir.map_expr(expr, lambda node: _fold_node(node, ints))


class _Fold(ir.Transformer):
    """:func:`fold` applied to every backward expression, calls of helpers that return
    an argument as it is (see :func:`srcad.runtime.identity_when_none`) dropped, and a
    power's slope of a constant exponent written out (:func:`_power_slope_written_out`)."""

    def __init__(
        self,
        bindings: Mapping[str, Any],
        folded: set[int] | None = None,
        ints: Collection[str] = (),
    ) -> None:
        self.ints = ints
        self.identities = {
            name: found
            for name, obj in bindings.items()
            if (found := getattr(obj, "__srcad_identity_when_none__", None)) is not None
        }
        self.slopes = {
            name for name, obj in bindings.items()
            if obj is power_slope or obj is power_slope_of_numbers
        }
        #: ids of the expressions folded already (alive in the body: a fixed point's
        #: later rounds fold only what the other passes changed)
        self.folded = set() if folded is None else folded

    def visit_Adjoint(self, stmt: ir.Adjoint | ir.AdjointItem | ir.Return) -> ir.Stmt:
        if id(stmt.value) in self.folded:
            return stmt
        value = stmt.value
        if self.identities or self.slopes:
            value = ir.map_expr(value, self.simplified)
        folded = fold(value, self.ints)
        self.folded.add(id(folded))
        return stmt if folded is stmt.value else replace(stmt, value=folded)

    visit_AdjointItem = visit_Return = visit_Adjoint

    def settle(self, stmt: ir.Stmt) -> ir.Stmt:
        """``stmt`` folded (a statement :func:`propagate_copies` changed)."""
        folded = self.visit(stmt)
        assert isinstance(folded, ir.Stmt)  # (folding keeps every statement)
        return folded

    def simplified(self, expr: ir.Expr) -> ir.Expr:
        """A call of a helper that returns an argument as it is, that argument; a power's
        slope of a constant exponent, written out; else ``expr``."""
        if isinstance(expr, ir.Call) and isinstance(expr.func, ir.Name):
            if expr.func.id in self.slopes:
                return _power_slope_written_out(expr)
            found = self.identities.get(expr.func.id)
            if found is not None and len(expr.args) > max(found):
                result, flag = found
                if expr.args[flag] == ir.Const(None):
                    return expr.args[result]
        return expr


def _power_slope_written_out(call: ir.Call) -> ir.Expr:
    """``power_slope(x, c)`` of a number ``c`` as ``c * x ** (c - 1)`` (which folds on:
    ``2 * x ** 1`` is ``2 * x``; with an order ``k``: ``c (c - 1) ... (c - k + 1) * x **
    (c - k)``); ``0.0`` where that coefficient is 0, ``1.0`` for ``x ** 0``; else the call
    (inf at 0 for an exponent below the order, where Python's power raises: the
    helper's)."""
    base, exponent, *rest = call.args
    order = rest[0] if rest else ir.Const(1)
    if not (_const_number(exponent) and isinstance(order, ir.Const) and type(order.value) is int):
        return call
    assert isinstance(exponent, ir.Const)
    coefficient = power_coefficient(exponent.value, order.value)
    power = exponent.value - order.value
    if coefficient == 0 or power == 0:
        return ir.Const(float(coefficient))
    if power < 0 and exponent.value != int(exponent.value):
        return call
    return fold(ir.BinOp("*", ir.Const(coefficient), ir.BinOp("**", base, ir.Const(power))))


def fold_statements(
    body: tuple[ir.Stmt, ...] | list[ir.Stmt],
    bindings: Mapping[str, Any] | None = None,
    folded: set[int] | None = None,
    ints: Collection[str] = (),
) -> list[ir.Stmt]:
    """:func:`fold` applied to every backward expression (see :class:`_Fold`; ``folded``:
    ids of expressions known folded, which the caller keeps alive; ``ints``: names of
    int values, see :func:`int_names`)."""
    return list(_Fold(bindings or {}, folded, ints).visit_body(body))


def _square(expr: ir.Expr) -> ir.Expr:
    if (
        isinstance(expr, ir.BinOp)
        and expr.op == "**"
        and isinstance(expr.left, ir.Name)
        and isinstance(expr.right, ir.Const)
        and type(expr.right.value) is int
        and expr.right.value == 2
    ):
        return ir.BinOp("*", expr.left, expr.left)
    return expr


def _float_operands(expr: ir.Expr) -> ir.Expr:
    expr = _negated_difference(expr) or expr
    if isinstance(expr, ir.BinOp) and expr.op in "+-*":
        left, right = (
            ir.Const(float(e.value)) if isinstance(e, ir.Const) and type(e.value) is int else e
            for e in (expr.left, expr.right)
        )
        return ir.BinOp(expr.op, left, right)
    return expr


def _has(expr: ir.Expr, wanted) -> bool:
    stack = [expr]
    while stack:
        node = stack.pop()
        if wanted(node):
            return True
        stack.extend(ir.children(node))
    return False


class _AdjointValues(ir.Transformer):
    """``rewrite`` applied to the values of adjoint statements that have a ``wanted``
    node (the others are kept as they are: no rebuilding)."""

    def __init__(
        self, rewrite: Callable[[ir.Expr], ir.Expr], wanted: Callable[[ir.Expr], bool]
    ) -> None:
        self.rewrite, self.wanted = rewrite, wanted

    def visit_Adjoint(self, stmt: ir.Adjoint | ir.AdjointItem) -> ir.Stmt:
        if not _has(stmt.value, self.wanted):
            return stmt
        return replace(stmt, value=ir.map_expr(stmt.value, self.rewrite))

    visit_AdjointItem = visit_Adjoint


def _map_values(body, rewrite, wanted) -> list[ir.Stmt]:
    return list(_AdjointValues(rewrite, wanted).visit_body(body))


def _is_power(expr: ir.Expr) -> bool:
    return isinstance(expr, ir.BinOp) and expr.op == "**"


def _is_int(expr: ir.Expr) -> bool:
    return isinstance(expr, ir.Const) and type(expr.value) is int


def reduce_strength(body: tuple[ir.Stmt, ...] | list[ir.Stmt]) -> list[ir.Stmt]:
    """``x ** 2`` becomes ``x * x`` in gradient expressions (Python computes the power
    through the C library's ``pow``, at 3-4 times the cost), and in values the function
    computes that only gradient expressions read (``t4 = t3 ** 2`` of ``y = t2 * t4``,
    in ``grad``, which does not compute ``y``). Not in the others: ``pow(x, 2)`` may
    differ from ``x * x`` in the last bit (it does for x = cos(1.0732963876539836)
    here), and the value of ``value_and_grad`` is exactly ``f``'s, and a branch takes
    the side ``f`` takes."""
    body = _map_values(body, _square, _is_power)
    read_otherwise = {
        name for stmt in ir.walk(body)
        if not isinstance(stmt, ir.Adjoint | ir.AdjointItem) for name in ir.reads_of(stmt)
    }

    def square(stmt: ir.Stmt) -> ir.Stmt:
        if (
            isinstance(stmt, ir.Assign) and not stmt.in_place and not stmt.logical
            and stmt.target not in read_otherwise and _is_power(stmt.value)
        ):
            squared = _square(stmt.value)
            return stmt if squared is stmt.value else replace(stmt, value=squared)
        if isinstance(stmt, ir.If | ir.Loop):
            return ir.with_blocks(stmt, [[square(s) for s in b] for b in ir.blocks_of(stmt)])
        return stmt

    return [square(stmt) for stmt in body]


def float_constants(body: tuple[ir.Stmt, ...] | list[ir.Stmt]) -> list[ir.Stmt]:
    """``2 * dx`` becomes ``2.0 * dx`` in gradient expressions of the version for Python
    floats: gradients are floats anyway, and CPython's fast paths for ``+ - *`` need
    both operands to be floats (an int operand takes the generic path, ~2x slower). And
    ``-(a - b)`` becomes ``b - a``: one operation fewer, the same number (a rule's
    template negates a difference so that numpy reuses a temporary array for it)."""
    return _map_values(body, _float_operands, _is_int_or_negated_difference)


def _is_int_or_negated_difference(expr: ir.Expr) -> bool:
    return _is_int(expr) or _negated_difference(expr) is not None


def _negated_difference(expr: ir.Expr) -> ir.BinOp | None:
    """``b - a`` for ``-(a - b)``; None for anything else."""
    if isinstance(expr, ir.UnaryOp) and expr.op == "-" and isinstance(expr.operand, ir.BinOp) \
            and expr.operand.op == "-":
        return ir.BinOp("-", expr.operand.right, expr.operand.left)
    return None


def rows_added_in_place(fn: ir.Function) -> ir.Function:
    """In the version for floats, the adjoint of a row read from a list of rows (``n,
    d = rows[k]``) is that row of the list's adjoint itself, added into item by item:
    ``drow = drows[k]; drow[0] += dn`` instead of ``drow = zeros_like(row); drow[0] +=
    dn; ...; drows[k] += drow`` (a new list and an elementwise sum per row read). The
    list's adjoint must be the rows of ``zeros_like`` (a list of its own per row) and be
    read nowhere between the two lines."""
    zeros = {n for n, obj in fn.bindings.items() if obj is zeros_like}
    if not zeros:
        return fn
    made: dict[str, int] = {}  # adjoint -> how many lines bind it (zeros_like rows: once)
    for stmt in ir.walk(fn.body):
        if isinstance(stmt, ir.Adjoint):
            made[stmt.target] = made.get(stmt.target, 0) + (
                1 if _zeros_of(stmt, zeros) is not None and not stmt.accumulate else 2
            )
    calls = fresh_calls(fn.bindings, fn.free_objects)
    for stmt in ir.walk(fn.body):  # (an item replaced by an object another name may hold,
        # `drows[k] = d`: that row is not the list's own; zeros, a new list: its own)
        if isinstance(stmt, ir.AdjointItem) and stmt.target in made and (
            stmt.zero or stmt.via is not None and stmt.assign or stmt.assign and not (
                _zeros_of(ir.Adjoint(stmt.target, stmt.value), zeros) is not None
                or _always_new(stmt.value, calls)
            )
        ):
            made[stmt.target] = 2
    fresh = {name for name, count in made.items() if count == 1}
    if not zeros or not fresh:
        return fn
    counters = _index_ints(fn)  # (`drow[j] += v` in a loop over range(n), `drow[j - 1]`)
    with_items = {n for n, obj in fn.bindings.items() if obj is with_item}
    names = NameAllocator(fn.names())
    row_names: dict[str, str] = {}
    readers: dict[str, int] = {}  # name -> how many lines read it
    for stmt in ir.walk(fn.body):
        for name in set(ir.reads_of(stmt)):
            readers[name] = readers.get(name, 0) + 1

    def rewrite(body: tuple[ir.Stmt, ...], made_before: set[str]) -> tuple[ir.Stmt, ...]:
        """``made_before``: the list adjoints ``zeros_like`` made before ``body`` runs."""
        out: list[ir.Stmt] = []
        made_at: dict[str, int] = {}  # list adjoint -> the position of the line making it
        for stmt in body:
            if ir.blocks_of(stmt):
                inner = made_before | set(made_at)
                stmt = ir.with_blocks(stmt, [rewrite(b, inner) for b in ir.blocks_of(stmt)])
            elif isinstance(stmt, ir.Adjoint) and stmt.target in fresh:
                made_at.setdefault(stmt.target, len(out))
            elif (
                isinstance(stmt, ir.AdjointItem) and stmt.target in fresh
                and (stmt.target in made_before or stmt.target in made_at)
                and (position := _item_zeroed(stmt, with_items, counters)) is not None
            ):  # dR[i] = with_item(dR[i], j, 0.0): dR's own row, its item zeroed in place
                row = row_names.setdefault(stmt.target, names.fresh(f"{stmt.target}_row"))
                out.append(ir.Adjoint(row, ir.Subscript(ir.Name(stmt.target), stmt.index),
                                      tag=stmt.tag))
                stmt = ir.AdjointItem(row, position, ir.Const(0.0), tag=stmt.tag, zero=True)
            out.append(stmt)
        for start, stmt in enumerate(out):
            if not isinstance(stmt, ir.Adjoint) or _zeros_of(stmt, zeros) is None:
                continue
            row = stmt.target
            items = 0
            for end in range(start + 1, len(out)):
                line = out[end]
                if (
                    isinstance(line, ir.AdjointItem) and line.target == row
                    and _int_index(line.index, counters)
                    and line.via is None and not line.zero and not line.assign
                    and row not in ir.names_in(line.value)
                ):
                    items += 1
                    continue
                if (
                    isinstance(line, ir.AdjointItem) and line.value == ir.Name(row)
                    and line.target in fresh and line.via is None
                    and not line.zero and not line.assign and items
                    and row not in ir.names_in(line.index)
                    and not _has_slice(line.index)  # (a slice of a list is a copy)
                ):
                    between = out[start + 1:end]
                    if (
                        row in fresh
                        and (line.target in made_before  # (its rows exist already)
                             or made_at.get(line.target, start) < start)
                        and readers.get(row, 0) == items + 1  # (read by these lines only)
                        and line.target not in ir.read_in(between)
                        and not set(ir.names_in(line.index)) & ir.defined_in(between)
                    ):
                        alias = ir.Subscript(ir.Name(line.target), line.index)
                        out[start] = replace(stmt, value=alias)
                        out[end] = ir.Comment(f"({row} is that row of {line.target}: added into)")
                    break
                if row in ir.reads_of(line) or row in ir.targets_of(line):
                    break  # (the row's adjoint read or bound otherwise: left as it is)
        return tuple(out)

    return fn.with_body(rewrite(tuple(fn.body), set()))


def _always_new(value: ir.Expr, calls: CallFacts) -> bool:
    """Whether ``value`` is always a new object (arithmetic, a fresh helper's result)."""
    return not is_alias(value, calls)


def _item_zeroed(
    stmt: ir.AdjointItem, with_items: set[str], counters: Collection[str]
) -> ir.Expr | None:
    """``j`` of ``dR[i] = with_item(dR[i], j, 0.0)`` (the backprop of ``R[i][j] = v``
    written in place, see :meth:`srcad.reverse.Builder.reverse_row_replace`), ``i`` and
    ``j`` ints; else None."""
    value = stmt.value
    if not (
        stmt.assign and stmt.via is None and not stmt.zero
        and isinstance(value, ir.Call) and isinstance(value.func, ir.Name)
        and value.func.id in with_items and len(value.args) == 3 and not value.kwargs
        and value.args[0] == ir.Subscript(ir.Name(stmt.target), stmt.index)
        and value.args[2] == ir.Const(0.0)
        and _int_index(stmt.index, counters) and _int_index(value.args[1], counters)
    ):
        return None
    return value.args[1]


def _index_ints(fn: ir.Function) -> set[str]:
    """The loop counters of ``fn``'s loops over a ``range`` and the names every line
    binding them binds to int arithmetic of counters and int constants (``t = j - 1``);
    the lines putting a counter back after its loop (``j = saved_j``) left out: an index
    made of a counter in the loop is an int there."""
    counters = ir.loop_counters(fn.body)
    definitions: dict[str, list[ir.Assign]] = {}
    for stmt in ir.walk(fn.body):
        if isinstance(stmt, ir.Assign) and stmt.target not in counters:
            definitions.setdefault(stmt.target, []).append(stmt)
    return int_values(fn, definitions)


def _int_index(index: ir.Expr, counters: Collection[str]) -> bool:
    """An int constant, or a name always holding an int (``counters``: a loop counter
    over a ``range``, int arithmetic of them, see :func:`srcad.analyze.int_values`): one
    item of a list."""
    if isinstance(index, ir.Const):
        return type(index.value) is int
    return isinstance(index, ir.Name) and index.id in counters


def _has_slice(index: ir.Expr) -> bool:
    """``rows[1:]``, ``m[k, :]``: not one item of a list, which a name could share."""
    parts = index.elts if isinstance(index, ir.Tuple) else (index,)
    return any(isinstance(part, ir.Slice) for part in parts)


def _zeros_of(stmt: ir.Adjoint, zeros: set[str]) -> ir.Expr | None:
    """``x`` of ``dx = zeros_like(x)``; else None."""
    value = stmt.value
    if (
        isinstance(value, ir.Call) and isinstance(value.func, ir.Name)
        and value.func.id in zeros and len(value.args) == 1 and not value.kwargs
    ):
        return value.args[0]
    return None


def number_functions(fn: ir.Function) -> ir.Function:
    """``np.log(x)`` becomes ``log_of_number(x)`` in gradient expressions of the version
    for Python floats (numpy's function costs ~1 us on a float, ``math.log`` 50 ns)."""
    numpy_names = {name for name, obj in fn.bindings.items() if obj is np}

    def is_log(expr: ir.Expr) -> TypeGuard[ir.Call]:
        return (
            isinstance(expr, ir.Call)
            and isinstance(expr.func, ir.Attr)
            and expr.func.attr == "log"
            and isinstance(expr.func.value, ir.Name)
            and expr.func.value.id in numpy_names
            and len(expr.args) == 1
            and not expr.kwargs
        )

    if not numpy_names or not any(
        isinstance(s, ir.Adjoint | ir.AdjointItem) and _has(s.value, is_log)
        for s in ir.walk(fn.body)
    ):
        return fn
    bindings = dict(fn.bindings)
    helper = next((n for n, obj in bindings.items() if obj is log_of_number), None)
    if helper is None:
        helper = "log_of_number"
        while helper in fn.names():
            helper += "_"
        bindings[helper] = log_of_number

    def rewrite(expr: ir.Expr) -> ir.Expr:
        return ir.Call(ir.Name(helper), expr.args) if is_log(expr) else expr

    body = _map_values(fn.body, rewrite, is_log)
    return fn.with_body(body, bindings=bindings)


def _is_copy(stmt: ir.Stmt) -> TypeGuard[ir.Adjoint]:
    return (
        isinstance(stmt, ir.Adjoint)
        and not stmt.accumulate
        and isinstance(stmt.value, ir.Name | ir.Const)
    )


def _copies_itself(stmt: ir.Adjoint) -> bool:
    """``da = da`` (without making the name ``Name(da)`` to compare with: the passes ask
    this of every statement)."""
    return type(stmt.value) is ir.Name and stmt.value.id == stmt.target


class _Copies:
    """The copies in force: ``a -> b`` with an index from each source to its copies."""

    def __init__(self, initial: dict[str, ir.Expr] | None = None) -> None:
        self.value: dict[str, ir.Expr] = {}
        self.readers: dict[str, set[str]] = {}
        for target, value in (initial or {}).items():
            self.add(target, value)

    def add(self, target: str, value: ir.Expr) -> None:
        self.value[target] = value
        if isinstance(value, ir.Name):
            self.readers.setdefault(value.id, set()).add(target)

    def forget(self, name: str) -> None:
        """``name`` is written: copies of it and copies into it end here."""
        old = self.value.pop(name, None)
        if isinstance(old, ir.Name):
            self.readers.get(old.id, set()).discard(name)
        for target in self.readers.pop(name, ()):
            self.value.pop(target, None)


def propagate_copies(
    body: list[ir.Stmt],
    copies: dict[str, ir.Expr] | None = None,
    settle: Callable[[ir.Stmt], ir.Stmt] | None = None,
) -> list[ir.Stmt]:
    """Replace reads of ``a`` after ``a = b`` (or ``a = 1.0``) by ``b`` while neither is
    written again; ``a += c`` after ``a = b`` becomes ``a = b + c``. The copies
    themselves are left for dead-code elimination. ``settle`` rewrites each statement a
    substitution changed before it is looked at as a copy (:func:`optimize` folds it:
    ``d = -(-1.0)`` is then the copy ``d = 1.0``, propagated in the same sweep)."""
    state = _Copies(copies)
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.If | ir.Loop):
            updated = {s.target for s in ir.walk([stmt]) if isinstance(s, ir.AdjointItem)}
            for name in ir.defined_in([stmt]) | updated:  # (an item update: not a copy after)
                state.forget(name)
            stmt = ir.with_blocks(
                stmt,
                [
                    tuple(propagate_copies(list(b), dict(state.value), settle))
                    for b in ir.blocks_of(stmt)
                ],
            )
            out.append(stmt)
            continue
        if (
            state.value
            and isinstance(stmt, ir.Adjoint | ir.AdjointItem | ir.Effect | ir.Return)
            and not state.value.keys().isdisjoint(ir.reads_of(stmt))  # (else: nothing to do)
        ):
            given = stmt
            value = ir.substitute(stmt.value, state.value)
            if isinstance(stmt, ir.Adjoint) and stmt.accumulate and stmt.target in state.value:
                stmt = ir.Adjoint(
                    stmt.target, ir.BinOp("+", state.value[stmt.target], value), False, stmt.tag
                )
            elif isinstance(stmt, ir.AdjointItem):
                index = ir.substitute(stmt.index, state.value)
                if value is not stmt.value or index is not stmt.index:
                    stmt = replace(stmt, value=value, index=index)
            elif value is not stmt.value:
                stmt = replace(stmt, value=value)
            if settle is not None and stmt is not given:
                stmt = settle(stmt)
        for target in ir.targets_of(stmt):
            state.forget(target)
        if isinstance(stmt, ir.AdjointItem):  # an in-place update: its target is not a copy
            state.forget(stmt.target)
        if _is_copy(stmt) and not _copies_itself(stmt):
            state.add(stmt.target, stmt.value)
        out.append(stmt)
    return out


def _may_raise(stmt: ir.Stmt) -> bool:
    """A forward gate that raises where the user's function would (``math.log`` of a
    negative number): kept even when its value is not needed, so that the gradient
    fails exactly where the function does instead of returning a number."""
    if not isinstance(stmt, ir.Assign) or stmt.rule is None:
        return False
    return any(value is math for value in stmt.rule.env.values()) or (
        isinstance(stmt.value, ir.BinOp)
        and stmt.value.op in ("/", "//", "%", "**")
        and not isinstance(stmt.value.right, ir.Const)
    )


def _writes_memory(stmt: ir.Stmt) -> bool:
    """An in-place write the forward pass runs: kept even when no later line reads the
    array, since the array may be the caller's (the gradient leaves it as ``f`` does).
    A list no other name holds is not (``path.pop()`` restoring a list nothing reads
    afterwards)."""
    return isinstance(stmt, ir.Assign) and stmt.in_place and not (stmt.logical or stmt.private)


def _has_code(body: tuple[ir.Stmt, ...] | list[ir.Stmt]) -> bool:
    return any(not isinstance(s, ir.Comment | ir.Backprop) for s in body)


def eliminate_dead_code(body: list[ir.Stmt], live: set[str] | None = None) -> list[ir.Stmt]:
    """Drop assignments nobody reads afterwards, then empty blocks and orphan headers."""
    live = set() if live is None else live
    kept: list[ir.Stmt] = []
    for stmt in reversed(body):
        if isinstance(stmt, ir.Assign | ir.Adjoint):
            dead = stmt.target not in live and not (
                _may_raise(stmt) or _writes_memory(stmt)
                or (isinstance(stmt, ir.Assign) and stmt.stateful)  # (a random draw)
            )
            if dead or (
                isinstance(stmt, ir.Adjoint) and not stmt.accumulate and _copies_itself(stmt)
            ):
                continue
            if not (isinstance(stmt, ir.Adjoint) and stmt.accumulate) and not (
                isinstance(stmt, ir.Assign) and stmt.logical
            ):  # (a logical line is not run: the value read later is made before it)
                live.discard(stmt.target)
        elif isinstance(stmt, ir.AdjointItem) and stmt.target not in live:
            continue
        elif isinstance(stmt, ir.Pop):
            live.discard(stmt.name)
        elif isinstance(stmt, ir.If):
            then_live, else_live = set(live), set(live)
            body_ = tuple(eliminate_dead_code(list(stmt.body), then_live))
            orelse = tuple(eliminate_dead_code(list(stmt.orelse), else_live))
            if not _has_code(body_) and not _has_code(orelse):
                continue
            live.clear()
            live.update(then_live | else_live)
            stmt = replace(stmt, body=body_, orelse=orelse)
        elif isinstance(stmt, ir.Loop):
            after = live | set(ir.reads_of(stmt))  # (the header's names: every iteration)
            body_, test, test_start = _loop_without_dead_code(stmt, after)
            if (
                not _has_code(body_)
                and not _has_code(test)
                and (stmt.counter is None or stmt.counter not in live)
            ):
                continue
            stmt = replace(stmt, test=test, body=body_)
            live.update(test_start | after)
        live.update(ir.reads_of(stmt))
        kept.append(stmt)
    kept.reverse()
    return _drop_empty_headers(ir.without_empty_contexts(kept))


def _loop_without_dead_code(
    loop: ir.Loop, after: set[str]
) -> tuple[tuple[ir.Stmt, ...], tuple[ir.Stmt, ...], set[str]]:
    """``loop``'s body and test without dead code, and the names live where an iteration
    starts, given ``after`` (live after the loop, and the header's names). An iteration
    runs the test, then the body; the loop leaves after the test (a while loop) or after
    the body. So the body's end needs what the next iteration reads before writing, and
    the test's end what the body does and what follows the loop: a least fixed point,
    from what follows the loop; its last round's code is the answer. (A running sum
    nobody reads after the loop is dead in it.)"""
    end = set(after)
    while True:
        start = set(end)
        body = eliminate_dead_code(list(loop.body), start)  # (start: the body's live-in)
        start |= after
        test = eliminate_dead_code(list(loop.test), start)  # (start: the test's live-in)
        if start <= end:
            return tuple(body), tuple(test), start
        end |= start


def _drop_empty_headers(body: list[ir.Stmt]) -> list[ir.Stmt]:
    out: list[ir.Stmt] = []
    for stmt in reversed(body):
        is_header = isinstance(stmt, ir.Backprop) or (isinstance(stmt, ir.Comment) and stmt.header)
        following = out[-1] if out else None
        next_is_code = (
            following is not None
            and not isinstance(following, ir.Backprop | ir.Return)
            and not (isinstance(following, ir.Comment) and following.header)
        )
        if is_header and not next_is_code:
            continue
        out.append(stmt)
    out.reverse()
    return out


def _cheap(value: ir.Expr, arithmetic: bool) -> bool:
    """An item, a slice or an attribute (a view: no copy), arithmetic on numbers only;
    with ``arithmetic``, also ``+ - * /`` on names and numbers, and powers by a number
    (Python floats: cheaper than a push and a pop)."""
    if isinstance(value, ir.Subscript | ir.Attr):
        return True
    operands = (
        (value.left, value.right)
        if isinstance(value, ir.BinOp)
        and (value.op in "+-*/" or (value.op == "**" and _const_number(value.right)))
        else (value.operand,)
        if isinstance(value, ir.UnaryOp) and value.op == "-"
        else None
    )
    if operands is not None and all(_const_number(o) for o in operands):
        return True  # (2.0 * math.pi: a constant, in either version)
    return (
        arithmetic
        and operands is not None
        and all(isinstance(o, ir.Name) or _const_number(o) for o in operands)
    )


def _recomputable(
    loop: ir.Loop, once: set[str], arithmetic: bool, stale: frozenset[str] = frozenset()
) -> list[ir.Assign]:
    """The values of ``loop``'s body that can be computed again in the backward loop.

    ``stale`` are names an enclosing loop overwrites that the backward pass does not
    restore (nothing pops them): during this loop's backward run they hold the last
    iteration's value, so a recomputation may not read them.
    """
    if loop.index is None or loop.iterable is None:  # the backward loop has another index
        return []
    changing = ir.defined_in(loop.body) | ir.defined_in(loop.test) | stale
    read_so_far: set[str] = set()
    chosen: list[ir.Assign] = []
    for stmt in loop.body:
        if (
            isinstance(stmt, ir.Assign)
            and stmt.target in once
            and stmt.target not in read_so_far  # else it carries a value between iterations
            and stmt.rule is not None
            and stmt.rebinds
            and _cheap(stmt.value, arithmetic)
            and all(
                name == loop.index or name not in changing or name in {s.target for s in chosen}
                for name in ir.names_in(stmt.value)
            )
        ):
            chosen.append(stmt)
        if not isinstance(stmt, ir.Push):  # (a push reads the value it saves)
            read_so_far |= ir.read_in([stmt])
    return chosen


def rematerialize(fn: ir.Function, *, arithmetic: bool = False) -> ir.Function:
    """Recompute cheap loop values at the top of each backward iteration instead of
    saving them (a push per forward iteration, a pop per backward one, and the value kept
    alive meanwhile): ``x_t = xs[t]`` of an array the loop does not change, with the
    loop's own index, is read again; with ``arithmetic`` (the float version) so is
    ``a * 2.0`` of such values. The value must be assigned once, in that loop's body,
    and not carried from one iteration to the next.
    """
    body = list(fn.body)
    split = ir.section_index(body)
    if split is None or not ir.has_loops(body[:split]):
        return fn
    counts: dict[str, int] = {}
    for stmt in ir.walk(body[:split]):
        if isinstance(stmt, ir.Assign) and not _save_start(stmt):
            counts[stmt.target] = counts.get(stmt.target, 0) + 1
    once = {name for name, count in counts.items() if count == 1}
    restored = {s.name for s in ir.walk(body[split:]) if isinstance(s, ir.Pop)}
    plans: dict[int, list[ir.Assign]] = {}

    def plan(stmts: tuple[ir.Stmt, ...] | list[ir.Stmt], outer: frozenset[str]) -> None:
        """``outer``: what enclosing loops overwrite and the backward pass leaves stale."""
        for stmt in stmts:
            inner = outer
            if isinstance(stmt, ir.Loop):
                chosen = _recomputable(stmt, once, arithmetic, outer)
                if chosen:
                    plans[stmt.tag] = chosen
                written = ir.defined_in(stmt.body) | ir.defined_in(stmt.test)
                inner = (outer | frozenset(written - restored)) - {stmt.index}
            for block in ir.blocks_of(stmt):
                plan(block, inner)

    plan(body[:split], frozenset())

    recomputed: set[str] = set()

    def backward_loop(loop: ir.Loop) -> ir.Stmt | list[ir.Stmt]:
        planned = plans.get(loop.tag, [])
        wanted = {
            s.target
            for s in planned
            if s.target in ir.read_in(loop.body)
            and (via := _pop_via(loop.body, s.target)) is not None
            and ir.Pop(s.target, via) in loop.body
        }
        for stmt in reversed(planned):  # and the loop's values they are computed from
            if stmt.target in wanted:
                wanted |= set(ir.names_in(stmt.value)) & {s.target for s in planned}
        chosen = [s for s in planned if s.target in wanted]
        if not chosen:
            return loop
        names = {s.target for s in chosen}
        recomputed.update(names)
        kept = [s for s in loop.body if not (isinstance(s, ir.Pop) and s.name in names)]
        invariant = _invariant(loop, chosen)
        varying = [s for s in chosen if s not in invariant]
        out: list[ir.Stmt] = []
        if invariant:  # (the same value in every iteration: computed once, before)
            hoisted = ", ".join(sorted(s.target for s in invariant))
            out += [ir.Comment(f"recomputed once, not saved: {hoisted}"), *invariant]
        if varying:
            again = ", ".join(sorted(s.target for s in varying))
            kept = [ir.Comment(f"recomputed, not saved: {again}"), *varying, *kept]
        return [*out, replace(loop, body=tuple(kept))]

    backward = _map_loops(body[split:], backward_loop)
    forward = _map_loops(
        body[:split],
        lambda loop: replace(
            loop,
            body=tuple(
                s
                for s in loop.body
                if not (isinstance(s, ir.Push) and s.name in recomputed)
            ),
        )
        if loop.tag in plans
        else loop,
    )
    forward = [s for s in forward if not (_save_start(s) and s.target in recomputed)]
    return fn.with_body(forward + backward)


def replay_loops(fn: ir.Function) -> ir.Function:
    """In the version for floats, a loop whose body is straight-line arithmetic saves
    only the values it carries from one iteration to the next (one push each, at the top
    of the iteration); each backward iteration restores them and computes the body's
    other values again, in order. (A push and a pop cost more than a float operation:
    the logistic map's loop pushed three values per step, now one.)"""
    body = list(fn.body)
    split = ir.section_index(body)
    if split is None or not ir.has_loops(body[:split]):
        return fn
    backward_loops = {s.tag: s for s in body[split:] if isinstance(s, ir.Loop)}
    elsewhere = ir.read_in([s for s in body[split:] if not isinstance(s, ir.Loop)])
    plans = {
        loop.tag: plan
        for loop in body[:split]
        if isinstance(loop, ir.Loop)
        and loop.tag in backward_loops
        and (plan := _replay_plan(loop, backward_loops[loop.tag], elsewhere)) is not None
    }
    if not plans:
        return fn
    replayed = {name for _, _, names in plans.values() for name in names}
    out: list[ir.Stmt] = []
    for position, stmt in enumerate(body):
        plan = plans.get(stmt.tag) if isinstance(stmt, ir.Loop) else None
        if plan is not None:
            stmt = plan[0] if position < split else plan[1]
        if position < split and _save_start(stmt) and stmt.target in replayed:
            continue  # (no longer saved: the None their first push saved goes too)
        out.append(stmt)
    return fn.with_body(out)


def _replay_plan(
    forward: ir.Loop, backward: ir.Loop, elsewhere: set[str]
) -> tuple[ir.Loop, ir.Loop, frozenset[str]] | None:
    """The forward and backward loops of :func:`replay_loops` and the values computed
    again, or None when the loop is not one it may replay (or replaying would not pay)."""
    if forward.exit_flag or (forward.index is None) == (not forward.test):
        return None  # (a `for` loop, or a `while` loop: its test computes its own values)
    tested = {s.target for s in forward.test if isinstance(s, ir.Assign)}
    if not all(isinstance(s, ir.Assign) for s in forward.test) or tested & (
        ir.read_in(list(forward.body)) | ir.read_in(list(backward.body))
    ):
        return None  # (values the test computes, read by the body: not replayed)
    assigns = [s for s in forward.body if isinstance(s, ir.Assign)]
    if len(assigns) + sum(isinstance(s, ir.Push) for s in forward.body) != len(forward.body):
        return None  # (only assignments and saves: no branch, no inner loop, no check)
    targets = [s.target for s in assigns]
    if len(set(targets)) != len(targets) or forward.index in targets or any(
        s.rule is None or s.in_place or not s.rebinds for s in assigns
    ):
        return None
    position = {s.target: k for k, s in enumerate(assigns)}
    # carried: read in the body before the body assigns it (its value from the iteration
    # before); every read of it must come before that assignment
    carried: list[str] = []
    for k, stmt in enumerate(assigns):
        for name in ir.names_in(stmt.value):
            if name in position and position[name] >= k:
                if name not in carried:
                    carried.append(name)
            elif name in position and name in carried:
                return None  # (read after the assignment that changes it)
    pushed = [s.name for s in forward.body if isinstance(s, ir.Push)]
    for name in pushed:  # (read after its pop: its value from the iteration before, too)
        pop = next((
            k for k, s in enumerate(backward.body) if isinstance(s, ir.Pop) and s.name == name
        ), None)
        if pop is not None and name in ir.read_in(backward.body[pop + 1 :]):
            if name not in carried:
                carried.append(name)
    needed = {n for n in pushed if n not in carried}
    replayed: list[ir.Assign] = []
    for stmt in reversed(assigns):  # (what the pushed values are computed from, too)
        if stmt.target in needed and stmt.target not in carried:
            replayed.append(stmt)
            needed |= {n for n in ir.names_in(stmt.value) if n in position}
    replayed.reverse()
    if not all(_cheap(s.value, arithmetic=True) for s in replayed):
        return None
    restored = [n for n in carried if n in needed or n in pushed]
    saved_pairs = len(pushed) - len(restored)
    if saved_pairs <= 0 or len(replayed) > 2 * saved_pairs:
        return None
    # the backward loop must read each carried value only as it was before the body
    # changed it (before its pop), and nothing after the loop may read a replayed value
    backward_pops = [s.name for s in backward.body if isinstance(s, ir.Pop)]
    if sorted(backward_pops) != sorted(pushed) or elsewhere & {s.target for s in replayed}:
        return None
    for name in carried:
        before_pop: list[ir.Stmt] = []
        for line in backward.body:
            if isinstance(line, ir.Pop) and line.name == name:
                break
            before_pop.append(line)
        if name in ir.read_in(before_pop):
            return None
    lead = 0  # (values recomputed from what the loop does not change: they come first)
    while lead < len(backward.body) and isinstance(backward.body[lead], ir.Comment | ir.Assign):
        lead += 1
    known = {s.target for s in backward.body[:lead] if isinstance(s, ir.Assign)}
    replayed = [s for s in replayed if s.target not in known]
    via_push = next(s.via for s in forward.body if isinstance(s, ir.Push))
    via_pop = next(s.via for s in backward.body if isinstance(s, ir.Pop))
    new_forward = replace(forward, body=(
        *(ir.Push(n, via_push) for n in restored),
        *(s for s in forward.body if not isinstance(s, ir.Push)),
    ))
    new_backward = replace(backward, body=(
        *(ir.Pop(n, via_pop) for n in reversed(restored)),
        *backward.body[:lead],
        ir.Comment(f"computed again from {', '.join(restored)}"),
        *replayed,
        *(s for s in backward.body[lead:] if not isinstance(s, ir.Pop)),
    ))
    return new_forward, new_backward, frozenset(s.target for s in replayed)


def _save_start(stmt: ir.Stmt) -> TypeGuard[ir.Assign]:
    """``t4 = None`` before a loop: what the first push of ``t4`` saves (see prune_saves)."""
    return (
        isinstance(stmt, ir.Assign)
        and stmt.value == ir.Const(None)
        and stmt.rule is None
        and stmt.tag == 0
    )


def _invariant(loop: ir.Loop, chosen: list[ir.Assign]) -> list[ir.Assign]:
    """Of the values ``chosen`` to recompute in ``loop``'s backward run, those the same in
    every iteration (they read neither the loop's index nor another value that varies)
    and that cannot raise (``+ - *``, or a division by a nonzero constant), so that they
    may be computed before the loop even when it runs no iteration."""
    varying = {loop.index}
    out = []
    for stmt in chosen:
        if set(ir.names_in(stmt.value)) & varying or not _cannot_raise(stmt.value):
            varying.add(stmt.target)
        else:
            out.append(stmt)
    return out


def _cannot_raise(value: ir.Expr) -> bool:
    if isinstance(value, ir.UnaryOp):
        return value.op == "-"
    if not isinstance(value, ir.BinOp):
        return False
    return value.op in "+-*" or (
        value.op == "/" and _const_number(value.right) and value.right.value != 0
    )


def _pop_via(body: tuple[ir.Stmt, ...], name: str) -> str | None:
    return next((s.via for s in body if isinstance(s, ir.Pop) and s.name == name), None)


class _EachLoop(ir.Transformer):
    """``rewrite`` applied to every loop, innermost first."""

    def __init__(self, rewrite: Callable[[ir.Loop], ir.Stmt | list[ir.Stmt]]) -> None:
        self.rewrite = rewrite

    def visit_Loop(self, stmt: ir.Loop) -> ir.Stmt | list[ir.Stmt]:
        return self.rewrite(self.generic_visit(stmt))


def _map_loops(
    body: list[ir.Stmt], rewrite: Callable[[ir.Loop], ir.Stmt | list[ir.Stmt]]
) -> list[ir.Stmt]:
    return list(_EachLoop(rewrite).visit_body(body))


def optimize(fn: ir.Function, *, for_floats: bool = False) -> ir.Function:
    """Fold, propagate copies and remove dead code until nothing changes; then squares
    by multiplication, and (``for_floats``: the version for Python floats) float
    constants in gradient arithmetic."""
    body = list(fn.body)
    folding = _Fold(fn.bindings, ints=int_names(fn.body, (*fn.params, *fn.kwonly)))
    alive = []  # (every folded body: the ids in `folding.folded` stay its expressions')
    settled = False
    for _ in range(5):  # enough for chains of copies; each round is linear in the code
        before = body
        body = list(folding.visit_body(body))
        alive.append(body)
        body = propagate_copies(body, settle=folding.settle)  # (a copy folding makes: now)
        alive.append(body)
        body = eliminate_dead_code(body)
        if body == before:
            settled = True
            break
    settled_body = [s for s in body if not isinstance(s, ir.Tape)] if settled else None
    fn = rematerialize(fn.with_body(body), arithmetic=for_floats)
    if for_floats:
        fn = replay_loops(fn)
    fn = prune_saves(fn)
    copy_name = next((n for n, v in fn.bindings.items() if v is fresh_copy), "fresh_copy")
    body = list(fn.body)
    if settled_body is None or not _same_statements(body, settled_body):
        body = eliminate_dead_code(body)  # (what the loop passes left unread)
    body = reduce_strength(merge_doubled(body))
    if for_floats:
        body = merge_negated_first(float_constants(body))
        fn = made_fields(number_fields(plain_float_lists(number_functions(fn.with_body(body)))))
        body = list(fn.body)
    calls = fresh_calls(fn.bindings, fn.free_objects)
    fn = fn.with_body(protect_aliases(  # (the results: as reverse mode made them distinct;
        body, copy_name, calls, immutable=fn.number_adjoints, results=not for_floats,
    ))  # the version for floats returns numbers, and lists its own lines made)
    if not for_floats:
        return fn
    # (an alias written on purpose; then the rows saved for their zeros are not read)
    return prune_saves(rows_added_in_place(fn))


def _same_statements(a: Sequence[ir.Stmt], b: Sequence[ir.Stmt]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def free_memory(fn: ir.Function) -> ir.Function:
    """``del`` each forward value the backward pass does not read right after its last
    use, so that numpy reuses its memory at once -- as in hand-written code, where
    such temporaries die inside one expression. (Keeping two 256 KB temporaries of a
    layer alive until the backward pass made that layer ~20 % slower: new large
    buffers come from fresh pages.)"""
    body = list(fn.body)
    split = ir.section_index(body)
    if split is None:
        return fn
    keep = (ir.read_in(body[split:]) | set(fn.params) | set(fn.kwonly)  # (and what the
            | set(fn.bindings) | set(fn.free_objects))  # function is given: globals)
    forward = body[:split]
    last_read: dict[str, int] = {}
    for position, stmt in enumerate(forward):
        for name in ir.read_in([stmt]):
            last_read[name] = position
    out: list[ir.Stmt] = []
    alive: set[str] = set()  # top-level values not freed yet
    due: dict[int, list[str]] = {}  # position -> the values last read there
    dead: list[str] = []
    for position, stmt in enumerate(forward):
        out.append(stmt)
        if (
            isinstance(stmt, ir.Assign)
            and stmt.target not in keep
            and stmt.target not in alive
            and not _small(stmt)
        ):
            alive.add(stmt.target)
            due.setdefault(max(position, last_read.get(stmt.target, -1)), []).append(stmt.target)
        dead += [n for n in due.pop(position, ()) if n in alive]
        if dead and not isinstance(forward[position + 1] if position + 1 < split else None,
                                   ir.Delete):
            out.append(ir.Delete(tuple(sorted(set(dead)))))
            alive -= set(dead)
            dead = []  # (else they are freed with those that die next)
    return fn.with_body(out + body[split:])


def _small(stmt: ir.Assign) -> bool:
    """A value with no gradient at all (a shape, a length, a comparison): not worth a
    ``del`` of its own."""
    return stmt.rule is not None and all(a is None for a in stmt.rule.adjoints)


def common_subexpressions(fn: ir.Function, numbers: Collection[str]) -> ir.Function:
    """A value computed again (``math.cos(c)``, ``d * dt11``) is read from the name that
    holds it, in straight-line code and branches (the unrolled Hessian of
    :mod:`srcad.unrolled`): arithmetic, comparisons and ``math`` functions give the same
    number for the same numbers. Only values of ``numbers`` and of the derivative's own
    lines (:class:`ir.Adjoint`) take part, and only names bound once, so that a name
    means one value wherever it is read; in the derivative's lines, ``x + x`` of a
    computed ``x`` becomes ``2.0 * x`` (exact). The copies it leaves are for
    :func:`propagate_copies`."""
    counts: dict[str, int] = {}
    known_numbers = set(numbers)
    for stmt in ir.walk(fn.body):
        for target in ir.targets_of(stmt):
            counts[target] = counts.get(target, 0) + 1
        if isinstance(stmt, ir.Adjoint):
            known_numbers.add(stmt.target)
    math_names = {
        name for name, obj in (*fn.free_objects.items(), *fn.bindings.items()) if obj is math
    }

    def pure(expr: ir.Expr) -> bool:
        if isinstance(expr, ir.BinOp | ir.UnaryOp | ir.Compare):
            return True
        return (
            isinstance(expr, ir.Call)
            and not expr.kwargs
            and isinstance(expr.func, ir.Attr)
            and isinstance(expr.func.value, ir.Name)
            and expr.func.value.id in math_names
        )

    def stable(expr: ir.Expr) -> bool:  # (of numbers, each bound once at most)
        stack = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, ir.Name) and (
                counts.get(node.id, 0) > 1 or node.id not in known_numbers
            ):
                if node.id not in math_names:
                    return False
            elif isinstance(node, ir.Const) and type(node.value) not in (int, float, bool):
                return False
            stack.extend(ir.children(node))
        return True

    def key(expr: ir.Expr) -> ir.Expr:
        if isinstance(expr, ir.BinOp) and expr.op in "+*":  # (commutative for numbers)
            left, right = sorted((expr.left, expr.right), key=repr)
            return ir.BinOp(expr.op, left, right)
        return expr

    def rewrite(body: tuple[ir.Stmt, ...], known: dict[ir.Expr, str]) -> tuple[ir.Stmt, ...]:
        doubling = False  # (not in the function's own values: an int stays an int)

        def reuse(expr: ir.Expr) -> ir.Expr:
            if (
                doubling
                and isinstance(expr, ir.BinOp)
                and expr.op == "+"
                and expr.left == expr.right
                and not isinstance(expr.left, ir.Name | ir.Const)
            ):
                return ir.BinOp("*", ir.Const(2.0), expr.left)
            if pure(expr) and stable(expr):
                found = known.get(key(expr))
                if found is not None:
                    return ir.Name(found)
            return expr

        out: list[ir.Stmt] = []
        for stmt in body:
            if isinstance(stmt, ir.If):
                stmt = replace(
                    stmt,
                    test=ir.map_expr(stmt.test, reuse),
                    body=rewrite(stmt.body, dict(known)),
                    orelse=rewrite(stmt.orelse, dict(known)),
                )
            elif isinstance(stmt, ir.Assign | ir.Adjoint | ir.Return) and not (
                isinstance(stmt, ir.Adjoint) and stmt.accumulate
            ):
                doubling = not isinstance(stmt, ir.Assign)
                value = ir.map_expr(stmt.value, reuse)
                if isinstance(stmt, ir.Assign) and isinstance(value, ir.Name):
                    stmt = ir.Adjoint(stmt.target, value, tag=stmt.tag)  # (a copy)
                elif value is not stmt.value:
                    stmt = replace(stmt, value=value)
                target = getattr(stmt, "target", None)
                if (
                    target is not None
                    and counts.get(target) == 1
                    and pure(value)
                    and stable(value)
                ):
                    known.setdefault(key(value), target)
            out.append(stmt)
        return tuple(out)

    return fn.with_body(rewrite(fn.body, {}))
