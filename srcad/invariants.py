"""Loop-invariant arithmetic computed once, before its loop.

``t1 = 1.0 + rate`` inside ``for year in range(100)``, where nothing in the loop changes
``rate``, gives the same number in every iteration: the forward listing computes it
once, before the loop (and the gradient's backward loop then adds its adjoint up,
instead of recomputing or saving it every iteration). Only what cannot raise or differ
moves: ``+``, ``-``, ``*`` and negation of constants and names the loop does not bind
and whose memory none of its in-place writes may change (a write through a view of an
operand would change it without binding it), and only values no in-place write may change: an array
made once is one object, where the loop made one per iteration (``[x * 1.0 for _ in
range(3)]``, whose items are then written one by one).
"""

from __future__ import annotations

import math
from collections import Counter

from . import ir
from .memory import points_to

#: the operations that move: exact and raising nothing on numbers (a loop that never
#: runs computes them once anyway)
_MOVABLE = frozenset(("+", "-", "*"))


def hoist_invariants(fn: ir.Function) -> ir.Function:
    """``fn`` with the loop-invariant arithmetic of each loop put before the loop."""
    definitions = Counter(t for s in ir.walk(fn.body) for t in ir.targets_of(s))
    bound_once = {name for name, count in definitions.items() if count == 1}
    writes = [s.target for s in ir.walk(fn.body) if isinstance(s, ir.Assign) and s.in_place]
    roots: dict[str, frozenset[str]] = {}
    if writes:  # (what an in-place write may change keeps its place, and its identity)
        roots = points_to(fn)
        bound_once -= {root for w in writes for root in roots.get(w, (w,))}
    functions = {**fn.free_objects, **fn.bindings}
    body = _hoisted(tuple(fn.body), frozenset(bound_once), functions, roots)
    return fn if body == tuple(fn.body) else fn.with_body(body)


def _hoisted(
    body: tuple[ir.Stmt, ...],
    movable: frozenset[str],
    functions: dict[str, object],
    roots: dict[str, frozenset[str]],
) -> tuple[ir.Stmt, ...]:
    out: list[ir.Stmt] = []
    for stmt in body:
        blocks = ir.blocks_of(stmt)
        if blocks:
            stmt = ir.with_blocks(
                stmt, (_hoisted(b, movable, functions, roots) for b in blocks)
            )
        if isinstance(stmt, ir.Loop):
            moved, stmt = _invariants(stmt, movable, functions, roots)
            out += moved
        out.append(stmt)
    return tuple(out)


def _invariants(
    loop: ir.Loop,
    movable: frozenset[str],
    functions: dict[str, object],
    roots: dict[str, frozenset[str]],
) -> tuple[list[ir.Assign], ir.Loop]:
    """The invariant assignments of ``loop``'s own body (not its branches), and the loop
    without them (``movable``: the names bound once that no in-place write may change;
    ``roots``: the objects each name's memory may be, :func:`points_to`). A loop that
    writes into an array in place (``s2[t] = v``) changes the objects that array may
    be: names that may be one of them are bound by the loop, as far as this goes."""
    inside = (*loop.test, *loop.body)
    if any(_opaque(s) for s in ir.walk(inside)):
        return [], loop
    bound = {t for s in ir.walk(inside) for t in ir.targets_of(s)}
    changed = {
        root
        for s in ir.walk(inside)
        if isinstance(s, ir.Assign) and s.in_place
        for root in roots.get(s.target, (s.target,))
    }
    if changed:
        read = {n for s in ir.walk(inside) for n in ir.reads_of(s)}
        bound |= {name for name in read if roots.get(name, {name}) & changed}
    bound |= {n for n in (loop.index, loop.counter, loop.exit_flag) if n}
    moved: list[ir.Assign] = []
    kept: list[ir.Stmt] = []
    for stmt in loop.body:
        if _movable(stmt, bound, movable, functions):
            assert isinstance(stmt, ir.Assign)  # (_movable's test)
            moved.append(stmt)
            bound.discard(stmt.target)  # (what reads it is invariant too)
        else:
            kept.append(stmt)
    if not moved:
        return [], loop
    return moved, ir.with_blocks(loop, (loop.test, tuple(kept)))


def _movable(
    stmt: ir.Stmt, bound: set[str], movable: frozenset[str], functions: dict[str, object]
) -> bool:
    if not (
        isinstance(stmt, ir.Assign)
        and stmt.rule is not None
        and not stmt.in_place
        and not stmt.logical
        and stmt.target in movable
    ):
        return False
    value = stmt.value
    if isinstance(value, ir.BinOp) and value.op in _MOVABLE:
        operands: tuple[ir.Expr, ...] = (value.left, value.right)
    elif isinstance(value, ir.UnaryOp) and value.op == "-":
        operands = (value.operand,)
    elif _math_of_constants(value, functions):
        return True  # (math.cos(0.1): the same number in every iteration, raising nothing)
    else:
        return False
    return all(
        isinstance(o, ir.Const) and type(o.value) in (int, float)
        or isinstance(o, ir.Name) and o.id not in bound
        for o in operands
    )


def _opaque(stmt: ir.Stmt) -> bool:
    """Whether ``stmt`` may change objects :func:`points_to` does not follow: a logical
    line, plain Python (a ``try``), a ``with`` block's entry or exit (np.errstate)."""
    return isinstance(stmt, ir.Assign) and stmt.logical or isinstance(
        stmt, ir.Python | ir.Enter | ir.Exit
    )


#: math's functions that give a finite float, raising nothing, for every finite float
_FINITE_MATH = frozenset(("sin", "cos", "tanh", "atan", "erf", "erfc", "fabs"))


def _math_of_constants(value: ir.Expr, functions: dict[str, object]) -> bool:
    """``math.cos(0.1)``: a function of :data:`_FINITE_MATH` of finite float constants."""
    if not (isinstance(value, ir.Call) and isinstance(value.func, ir.Attr) and not value.kwargs):
        return False
    module = value.func.value
    return (
        isinstance(module, ir.Name) and functions.get(module.id) is math
        and value.func.attr in _FINITE_MATH
        and all(
            isinstance(a, ir.Const) and type(a.value) in (int, float) and math.isfinite(a.value)
            for a in value.args
        )
    )
