"""The float version's object parameters, their fields' adjoints as numbers.

An object parameter (a namedtuple, a dataclass instance, a plain object) whose fields
the function reads, checked where the float version starts to hold a float in each
(``float_fields(p, ("a", "b"))``), gets its adjoint field by field in the generic code:
``dp = field_grad(dt1, p, "a")`` makes an ``AdjointRecord``, ``dp += field_grad(...)``
adds two, and ``structured_like(dp, p)`` makes the gradient an object of ``p``'s class.
Here each field read has an adjoint of its own, a number (``dp_a += dt1``), and the
gradient is made once at the end (``record_like(p, ("a", "b"), (dp_a, dp_b))``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from . import ir
from .float_guard import helper_arguments
from .names import NameAllocator, bind
from .runtime import field_grad, float_fields, record_like, structured_like, zeros_like


def number_fields(fn: ir.Function) -> ir.Function:
    """``fn`` (a version for Python floats) with the adjoints of its checked object
    parameters kept field by field, where they are only made, added to field by field and
    returned."""
    def call_of(value: ir.Expr, helper: Any) -> tuple[ir.Expr, ...] | None:
        return helper_arguments(fn, value, helper)

    checked: dict[str, tuple[str, ...]] = {}  # p -> the fields float_fields checks
    for stmt in ir.walk(fn.body):
        if isinstance(stmt, ir.If):
            for node in _calls_in(stmt.test):
                args = call_of(node, float_fields)
                if args and isinstance(args[0], ir.Name) and isinstance(args[1], ir.Tuple):
                    checked[args[0].id] = tuple(
                        e.value for e in args[1].elts if isinstance(e, ir.Const)
                    )
    if not checked:
        return fn

    def field_read(value: ir.Expr) -> tuple[ir.Expr, str, str] | None:
        """(g, p, field) of ``field_grad(g, p, "field")`` of a checked ``p``."""
        args = call_of(value, field_grad)
        if (
            args
            and len(args) == 3
            and isinstance(args[1], ir.Name)
            and args[1].id in checked
            and isinstance(args[2], ir.Const)
            and args[2].value in checked[args[1].id]
        ):
            return args[0], args[1].id, args[2].value
        return None

    owner: dict[str, str] = {}  # adjoint name -> the parameter it is the adjoint of
    for stmt in ir.walk(fn.body):
        if isinstance(stmt, ir.Adjoint):
            value, _ = _addend(stmt.value, stmt.target)
            found = field_read(value)
            zeroed = call_of(value, zeros_like)
            if found is not None:
                owner.setdefault(stmt.target, found[1])
            elif zeroed and isinstance(zeroed[0], ir.Name) and zeroed[0].id in checked:
                owner.setdefault(stmt.target, zeroed[0].id)
    owner = {
        d: p for d, p in owner.items() if _only_made_and_returned(fn, d, p, field_read, call_of)
    }
    if not owner:
        return fn
    names = NameAllocator(fn.names())
    bindings = dict(fn.bindings)
    make = bind(names, bindings, fn.free_objects, "record_like", record_like)
    field_names = {(d, f): names.fresh(f"{d}_{f}") for d, p in owner.items() for f in checked[p]}

    def zeros(d: str, g: ir.Expr | None = None, kept: str | None = None) -> list[ir.Stmt]:
        return [
            ir.Adjoint(field_names[d, f], g if f == kept and g is not None else ir.Const(0.0))
            for f in checked[owner[d]]
        ]

    def rewrite(stmt: ir.Stmt) -> list[ir.Stmt]:
        if ir.blocks_of(stmt):
            return [
                ir.with_blocks(
                    stmt,
                    [
                        [s for inner in block for s in rewrite(inner)]
                        for block in ir.blocks_of(stmt)
                    ],
                )
            ]
        if isinstance(stmt, ir.Adjoint) and stmt.target in owner:
            d = stmt.target
            value, added = _addend(stmt.value, d)
            added = added or stmt.accumulate
            found = field_read(value)
            if found is None:  # (zeros_like(p))
                return zeros(d)
            g, _, name = found
            if added:
                return [ir.Adjoint(field_names[d, name], g, accumulate=True, tag=stmt.tag)]
            return zeros(d, g, name)
        if isinstance(stmt, ir.Return):
            return [replace(stmt, value=ir.map_expr(stmt.value, made))]
        return [stmt]

    def made(expr: ir.Expr) -> ir.Expr:
        args = call_of(expr, structured_like)
        if args and isinstance(args[0], ir.Name) and args[0].id in owner:
            d, p = args[0].id, owner[args[0].id]
            fields = ir.Tuple(tuple(ir.Const(f) for f in checked[p]))
            values = ir.Tuple(tuple(ir.Name(field_names[d, f]) for f in checked[p]))
            return ir.Call(ir.Name(make), (ir.Name(p), fields, values))
        return expr

    body = [s for stmt in fn.body for s in rewrite(stmt)]
    return fn.with_body(body, bindings=bindings)


def _calls_in(expr: ir.Expr) -> list[ir.Call]:
    return [node for node in ir.nodes(expr) if isinstance(node, ir.Call)]


def _addend(value: ir.Expr, adjoint: str) -> tuple[ir.Expr, bool]:
    """``(v, True)`` for ``adjoint + v`` (a contribution added to ``adjoint``), else
    ``(value, False)``."""
    if isinstance(value, ir.BinOp) and value.op == "+" and value.left == ir.Name(adjoint):
        return value.right, True
    return value, False


def _only_made_and_returned(fn: ir.Function, d: str, p: str, field_read: Any, call_of: Any) -> bool:
    """Is the adjoint ``d`` of ``p`` read only where it is added to and returned as
    ``structured_like(d, p)``?"""
    for stmt in ir.walk(fn.body):
        if d not in ir.reads_of(stmt):
            continue
        if isinstance(stmt, ir.Adjoint) and stmt.target == d:
            value, _ = _addend(stmt.value, d)
            if field_read(value) is not None and d not in ir.names_in(value):
                continue
            return False
        if isinstance(stmt, ir.Return):
            uses = [
                c
                for c in _calls_in(stmt.value)
                if (args := call_of(c, structured_like))
                and args[0] == ir.Name(d)
                and args[1] == ir.Name(p)
            ]
            if len(uses) == sum(n == d for n in ir.names_in(stmt.value)):
                continue
        return False
    return True
