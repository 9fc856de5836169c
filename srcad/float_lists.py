"""The float version's list parameters without the helpers that work for any value.

A list (or tuple, or 1-D float array, or dict) parameter of the version for Python floats
has been checked to hold floats where it starts (``xs_floats = as_floats(xs)``). The
generic helpers check it again, item by item, every time: ``zeros_like(xs_floats)`` for
its adjoint (an ``AdjointList``, which adds item by item) and ``structured_like(dxs, xs)``
for the gradient returned. Where nothing adds the adjoint as a whole (it is written item
by item, handed on by ``loop_items_grad`` and returned), they become what they compute for
such a list: ``float_zeros(xs_floats)``, ``[0.0] * len(xs_floats)`` (a dict's zeros for a
dict), and ``as_given(dxs, xs)``, that list as the parameter's own type.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from . import ir
from .float_guard import helper_arguments
from .names import NameAllocator, bind
from .runtime import (
    as_floats,
    as_given,
    float_adjoint_zeros,
    float_zeros,
    loop_items,
    loop_items_grad,
    structured_like,
    zeros_like,
)


def plain_float_lists(fn: ir.Function) -> ir.Function:
    """``fn`` (a version for Python floats) with its list parameters' helpers replaced."""
    def calls(value: ir.Expr, helper: Any) -> tuple[ir.Expr, ...] | None:
        return helper_arguments(fn, value, helper)

    checked: dict[str, str] = {}  # xs_floats -> xs
    lists: set[str] = set()  # names that hold such a list
    for stmt in fn.body:  # (the check is at the top level, before anything reads them)
        if isinstance(stmt, ir.Assign) and (args := calls(stmt.value, as_floats)):
            if isinstance(args[0], ir.Name):
                checked[stmt.target] = args[0].id
                lists.add(stmt.target)
    if not lists:
        return fn
    bound: dict[str, int] = {}
    for stmt in ir.walk(fn.body):  # (whole bindings: not dxs[k] += v)
        if not isinstance(stmt, ir.AdjointItem):
            for name in ir.targets_of(stmt):
                bound[name] = bound.get(name, 0) + 1
    items = {  # xs_items = loop_items(xs_floats), bound once
        s.target: args[0].id
        for s in ir.walk(fn.body)
        if isinstance(s, ir.Assign)
        and bound.get(s.target) == 1
        and (args := calls(s.value, loop_items))
        and isinstance(args[0], ir.Name)
        and args[0].id in lists
    }
    lists |= set(items)
    zeros = {  # dxs = zeros_like(xs_floats), bound once, never added as a whole
        s.target
        for s in ir.walk(fn.body)
        if isinstance(s, ir.Adjoint)
        and not s.accumulate
        and bound.get(s.target) == 1
        and (args := calls(s.value, zeros_like))
        and isinstance(args[0], ir.Name)
        and args[0].id in lists
    }
    family = _written_item_by_item(fn.body, zeros, lambda v: calls(v, loop_items_grad))
    names = NameAllocator(fn.names())
    bindings = dict(fn.bindings)
    given = bind(names, bindings, fn.free_objects, "as_given", as_given)
    zero = bind(names, bindings, fn.free_objects, "float_zeros", float_zeros)
    adjoint_zero = bind(
        names, bindings, fn.free_objects, "float_adjoint_zeros", float_adjoint_zeros
    )

    def value_of(value: ir.Expr) -> ir.Expr:
        args = calls(value, structured_like)
        if args and isinstance(args[1], ir.Name) and args[1].id in checked.values():
            return ir.Call(ir.Name(given), args)
        return value

    def rewrite(stmt: ir.Stmt) -> ir.Stmt:
        if isinstance(stmt, ir.If | ir.Loop):
            return ir.with_blocks(stmt, [[rewrite(s) for s in b] for b in ir.blocks_of(stmt)])
        if isinstance(stmt, ir.Adjoint) and stmt.target in zeros:
            helper = zero if stmt.target in family else adjoint_zero
            source = calls(stmt.value, zeros_like) or ()
            return replace(stmt, value=ir.Call(ir.Name(helper), source))
        if isinstance(stmt, ir.Return):
            value = ir.map_expr(stmt.value, value_of)
            return stmt if value == stmt.value else replace(stmt, value=value)
        return stmt

    return fn.with_body([rewrite(s) for s in fn.body], bindings=bindings)


def _written_item_by_item(body: tuple[ir.Stmt, ...], zeros: set[str], passes_on: Any) -> set[str]:
    """Those of ``zeros`` (and the names ``loop_items_grad`` hands them on to) that are only
    written item by item, handed on, or returned as a gradient: a plain list serves."""
    root = {name: name for name in zeros}
    for stmt in ir.walk(body):  # (dxs = loop_items_grad(dxs_items, xs_floats))
        if isinstance(stmt, ir.Adjoint | ir.Assign) and (args := passes_on(stmt.value)):
            if isinstance(args[0], ir.Name) and args[0].id in root:
                root[stmt.target] = root[args[0].id]
    spoiled: set[str] = set()
    for stmt in ir.walk(body):
        read = set(ir.reads_of(stmt)) & set(root)
        if not read:
            continue
        if isinstance(stmt, ir.AdjointItem) and not stmt.via and read == {stmt.target}:
            continue  # (dxs[k] += v)
        if isinstance(stmt, ir.Adjoint | ir.Assign) and passes_on(stmt.value) and len(read) == 1:
            continue
        if isinstance(stmt, ir.Return):
            continue  # (as the gradient: structured_like(dxs, xs), or dxs itself)
        spoiled |= {root[name] for name in read}
    return {name for name, start in root.items() if start not in spoiled}
