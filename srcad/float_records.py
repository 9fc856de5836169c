"""The float version's objects, their fields' adjoints as numbers: of object parameters
(:func:`number_fields`) and of objects the function makes (:func:`made_fields`).

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
from .runtime import (
    add_at,
    assigned_items,
    field_grad,
    float_fields,
    record_like,
    structured_like,
    zeros_like,
)


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


def made_fields(fn: ir.Function) -> ir.Function:
    """``fn`` (a version for Python floats) with the adjoint of each object it makes
    (a dict of numbers, ``p = {}; p["x"] = 1.0``) kept field by field, as numbers: where
    that adjoint is only made (``dp = zeros_like(p)``), added to and cleared by field
    name (``add_at(dp, "x", v)``, ``dp["x"] = 0.0``) and read by field name
    (``assigned_items(dp, "x")``), each of its fields is a name of its own (``dp_x``).
    """
    if not any(helper is zeros_like for helper in fn.bindings.values()):
        return fn  # (no adjoint made by zeros_like)
    bound: dict[str, int] = {}
    for stmt in ir.walk(fn.body):
        if not isinstance(stmt, ir.AdjointItem):
            for name in ir.targets_of(stmt):
                bound[name] = bound.get(name, 0) + 1
    fields: dict[str, set[str]] = {
        s.target: set()
        for s in ir.walk(fn.body)
        if isinstance(s, ir.Adjoint) and not s.accumulate and bound.get(s.target) == 1
        and helper_arguments(fn, s.value, zeros_like) is not None
    }
    adds = {name for name, helper in fn.bindings.items() if helper is add_at}
    for stmt in ir.walk(fn.body):
        for d in set(ir.reads_of(stmt)) & set(fields):
            field = _field_use(fn, stmt, d, adds)
            if field is None:
                del fields[d]
            else:
                fields[d].add(field)
    if not fields:
        return fn
    names = NameAllocator(fn.names())
    field_names = {(d, f): names.fresh(f"{d}_{f}") for d, fs in fields.items() for f in sorted(fs)}

    def rewrite(stmt: ir.Stmt) -> list[ir.Stmt]:
        if ir.blocks_of(stmt):
            return [ir.with_blocks(stmt, [
                [s for inner in block for s in rewrite(inner)] for block in ir.blocks_of(stmt)
            ])]
        if isinstance(stmt, ir.Adjoint) and stmt.target in fields:  # (its zeros)
            return [
                ir.Adjoint(field_names[stmt.target, f], ir.Const(0.0), tag=stmt.tag)
                for f in sorted(fields[stmt.target])
            ]
        if isinstance(stmt, ir.AdjointItem) and stmt.target in fields:
            assert isinstance(stmt.index, ir.Const)
            name = field_names[stmt.target, stmt.index.value]
            if stmt.zero:
                return [ir.Adjoint(name, ir.Const(0.0), tag=stmt.tag)]
            return [ir.Adjoint(name, stmt.value, accumulate=not stmt.assign, tag=stmt.tag)]
        if isinstance(stmt, ir.Adjoint) and (read := _field_read(fn, stmt.value)):
            d, field = read
            if d in fields:
                return [replace(stmt, value=ir.Name(field_names[d, field]))]
        return [stmt]

    return fn.with_body([s for stmt in fn.body for s in rewrite(stmt)])


def _field_read(fn: ir.Function, value: ir.Expr) -> tuple[str, str] | None:
    """``(dp, "x")`` of ``assigned_items(dp, "x")``."""
    args = helper_arguments(fn, value, assigned_items)
    if args and isinstance(args[0], ir.Name) and _field_name(args[1]):
        assert isinstance(args[1], ir.Const)
        return args[0].id, args[1].value
    return None


def _field_name(index: ir.Expr) -> bool:
    return isinstance(index, ir.Const) and isinstance(index.value, str)


def _field_use(fn: ir.Function, stmt: ir.Stmt, d: str, adds: set[str]) -> str | None:
    """The field of the adjoint ``d`` that ``stmt`` (which reads ``d``) adds to, clears
    or reads, or None where it reads ``d`` otherwise."""
    if isinstance(stmt, ir.AdjointItem) and stmt.target == d and _field_name(stmt.index):
        if d in ir.names_in(stmt.value) or (stmt.via is not None and stmt.via not in adds):
            return None
        assert isinstance(stmt.index, ir.Const)
        return stmt.index.value
    if isinstance(stmt, ir.Adjoint) and stmt.target != d:
        read = _field_read(fn, stmt.value)
        if read is not None and read[0] == d:
            return read[1]
    return None
