"""The Hessian of a function of a few Python floats, as one generated function.

``srcad.hessian(f, wrt=(0, 1, 2, 3))`` of a scalar function of four floats would take
four Hessian-vector products, each running ``f``'s code, its tangent and a reverse pass
over both (see :mod:`srcad.higher`). When the gradient of ``f`` has a version for
Python floats with no loops, this module instead takes forward mode over that
version's own listing, once per ``wrt`` parameter, in one function:

* the gradient's listing (the primal and the adjoints) runs once;
* then the tangents along each parameter, unrolled: the tangents of the direction of
  parameter ``a`` are named ``<name>_da``, ``a``'s own tangent is the number 1.0 and the
  other parameters' are zero, so that only the values that depend on ``a`` get a tangent
  line (per direction activity) and ``x * 1.0`` is ``x``;
* the tangent of the gradient's item ``j`` along parameter ``k`` is entry ``(j, k)``:
  only ``j >= k`` is computed (the rest mirrors it), and dead-code elimination drops
  the tangent lines no such entry reads;
* the result is one ``np.array`` of the ``K * K`` entries.

Branches stay branches: each direction tests the same condition again, and its lines
in each branch are the tangents of that branch's lines. The pipeline then optimises it
for floats, and :func:`srcad.optimize.common_subexpressions` reads a number computed
again (``math.cos(c)`` of the gradient and of a tangent) from the name that holds it.

Anything else (arrays, loops, dicts, keyword arguments, values that are not Python
numbers at run time) takes :mod:`srcad.higher`'s path: the generated function starts
with the float version's type check (where that version has it: after the values it
checks), which calls that path as :data:`FALLBACK`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import ir
from .analyze import Activity, activity
from .float_guard import ARRAY_VERSION
from .forward import Direction
from .names import NameAllocator, bind
from .optimize import fold
from .rules.table import COPY

#: the generated function calls this for what it does not cover (bound at run time)
FALLBACK = type("HessianFallback", (), {"__repr__": lambda self: "<hessian fallback>"})()


class Unsupported(Exception):
    """The gradient's float version is not one this module unrolls (srcad falls back)."""


def float_guard(fn: ir.Function) -> ir.If:
    """The float version's type check: of parameters, or of values computed from them
    (its witnesses, which :func:`unrolled_hessian` finds in the listing it unrolls)."""
    guards = [
        s for s in fn.body
        if isinstance(s, ir.If)
        and len(s.body) == 1
        and isinstance(s.body[0], ir.Return)
        and isinstance(s.body[0].value, ir.Call)
        and isinstance(s.body[0].value.func, ir.Name)
        and fn.bindings.get(s.body[0].value.func.id) is ARRAY_VERSION
    ]
    if len(guards) != 1:
        raise Unsupported("no float version, or a check inside it")
    if fn.kwonly:
        raise Unsupported("keyword-only parameters")
    return guards[0]


def _guard_position(listing: ir.Function, guard: ir.If, float_version: ir.Function) -> int:
    """Where ``guard`` goes in ``listing``'s body: first, or after the last of the values
    it checks (each made by the same line as in ``float_version``); the parameters, the
    globals and the closure's cells it checks are there from the start."""
    made = {s.target: s.value for s in float_version.body if isinstance(s, ir.Assign)}
    position = 0
    free = {*listing.params, *float_version.bindings, *listing.free_objects, *listing.free_cells}
    for name in set(ir.names_in(guard.test)) - free:  # (globals and cells: read as they are)
        found = [
            k for k, s in enumerate(listing.body)
            if isinstance(s, ir.Assign) and s.target == name and s.value == made.get(name)
        ]
        if not found:
            raise Unsupported(f"the float check reads {name}, which the listing lacks")
        position = max(position, found[0] + 1)
    return position


def _check_listing(body: tuple[ir.Stmt, ...], top: bool = True) -> None:
    """Straight-line code and branches of one-number operations only; each name bound
    once outside branches (so that a tangent line may run after all the primal code)."""
    for stmt in body:
        if isinstance(stmt, ir.If):
            _check_listing(stmt.body, False)
            _check_listing(stmt.orelse, False)
        elif isinstance(stmt, ir.Assign):
            if stmt.in_place or stmt.logical:
                raise Unsupported(f"line {stmt.tag} writes in place")
        elif isinstance(stmt, ir.Return):
            if not top or stmt is not body[-1]:
                raise Unsupported("a return inside a branch")
        elif not isinstance(stmt, ir.Comment | ir.Effect):
            raise Unsupported(f"{type(stmt).__name__} statements")
    if top:
        bound: set[str] = set()
        for stmt in body:
            targets = ir.defined_in([stmt]) if isinstance(stmt, ir.If) else set(
                ir.targets_of(stmt))
            if targets & bound:
                raise Unsupported("a name bound twice")
            bound |= targets


def _fold_tangent(expr: ir.Expr) -> ir.Expr:
    """:func:`srcad.optimize.fold`, and ``x * 1.0`` is ``x`` whatever ``x`` is: a tangent
    is a number, so a comparison's True times 1.0 adds as 1 does."""

    def one(expr: ir.Expr) -> bool:
        return isinstance(expr, ir.Const) and type(expr.value) in (int, float) and expr.value == 1

    def node(expr: ir.Expr) -> ir.Expr:
        if isinstance(expr, ir.BinOp) and expr.op == "*":
            if one(expr.left):
                return expr.right
            if one(expr.right):
                return expr.left
        return expr

    return fold(ir.map_expr(fold(expr), node))


class _Direction(Direction):
    """The tangents along one parameter of straight-line code, each line's after all
    the primal code (a tangent that is a number or a name is put in where it is read)."""

    def __init__(
        self,
        fn: ir.Function,
        active: Activity,
        param: str,
        names: NameAllocator,
        bindings: dict[str, Any],
    ) -> None:
        super().__init__(fn, active, param, names, bindings)
        #: tangents that are a number or another name: put in where they are read
        self.known: dict[str, ir.Expr] = {}

    def operand_tangent(self, operand: ir.Expr) -> ir.Expr | None:
        if isinstance(operand, ir.Name) and operand.id in self.known:
            return self.known[operand.id]
        return super().operand_tangent(operand)

    def lines(self, body: tuple[ir.Stmt, ...], top: bool = True) -> list[ir.Stmt]:
        """The tangent lines of ``body`` (branches as they are, with their lines)."""
        out: list[ir.Stmt] = []
        for stmt in body:
            if isinstance(stmt, ir.If):
                blocks = [self.lines(b, False) for b in (stmt.body, stmt.orelse)]
                if any(blocks):
                    out.append(ir.If(stmt.test, tuple(blocks[0]), tuple(blocks[1]),
                                     tag=stmt.tag, loc=stmt.loc))
            elif isinstance(stmt, ir.Assign) and self.activity.is_active(stmt.target):
                rule = stmt.rule
                if rule is not None and not rule.elementwise and rule is not COPY:
                    raise Unsupported(f"line {stmt.tag} is not an operation on numbers")
                tangent = self.tangent_of(stmt)
                assert isinstance(tangent, ir.Adjoint)  # (numbers: no item writes)
                value = _fold_tangent(ir.map_expr(tangent.value, self.unshaped))
                if top and isinstance(value, ir.Const | ir.Name):
                    self.known[stmt.target] = value  # (a branch binds its tangent name)
                    continue
                out.append(ir.Adjoint(tangent.target, value, tag=tangent.tag))
        return out


def unrolled_hessian(
    listing: ir.Function, float_version: ir.Function, wrt: tuple[str, ...], name: str
) -> tuple[ir.Function, frozenset[str]]:
    """The Hessian function of the gradient ``listing`` (the float version of ``f``'s
    gradient with respect to ``wrt``, lowered again: it returns the gradient, a tuple for
    several parameters): ``listing``'s lines, with ``float_version``'s check (calling
    :data:`FALLBACK`) where it checks what it reads; then the tangents along each
    parameter; then the ``K * K`` array (a float for one parameter). Also the names of
    ``listing`` that hold numbers once the check passed: the values it checks, and
    those that depend on a parameter (the check proved they are numbers)."""
    guard = float_guard(float_version)
    _check_listing(listing.body)
    result = listing.body[-1]
    if not isinstance(result, ir.Return):
        raise Unsupported("no return at the end")
    outputs = result.value.elts if isinstance(result.value, ir.Tuple) else (result.value,)
    if len(outputs) != len(wrt) or not all(isinstance(o, ir.Name | ir.Const) for o in outputs):
        raise Unsupported("the gradient is not one value per parameter")
    names = NameAllocator(listing.names())
    bindings: dict[str, Any] = dict(listing.bindings)
    fallback = bind(names, bindings, {}, f"{name}_fallback", FALLBACK)
    renamed = {
        used: ir.Name(bind(names, bindings, {}, used, float_version.bindings[used]))
        for used in set(ir.names_in(guard.test)) & set(float_version.bindings)
    }
    own_guard = ir.If(ir.substitute(guard.test, renamed), (ir.Return(ir.Call(
        ir.Name(fallback), tuple(ir.Name(p) for p in listing.params))),))
    at = _guard_position(listing, guard, float_version)
    body: list[ir.Stmt] = [*listing.body[:at], own_guard, *listing.body[at:-1]]
    entries: dict[tuple[int, int], ir.Expr] = {}
    numbers = set(wrt) | set(ir.names_in(guard.test)) - set(float_version.bindings)
    for k, param in enumerate(wrt):
        active = activity(listing, (param,))
        numbers |= {
            s.target for s in ir.walk(listing.body)
            if isinstance(s, ir.Assign) and active.is_active(s.target)
        }
        direction = _Direction(listing, active, param, names, bindings)
        lines = direction.lines(listing.body[:-1])
        if lines:
            body += [ir.Comment(f"along {param}", header=True), *lines]
        for j in range(k, len(wrt)):
            found = direction.operand_tangent(outputs[j])
            entries[j, k] = ir.Const(0.0) if found is None else found
    if len(wrt) == 1:
        value: ir.Expr = ir.Call(ir.Name(bind(names, bindings, {}, "float", float)),
                                 (entries[0, 0],))
    else:
        numpy = bind(names, bindings, listing.free_objects, "np", np)
        flat = ir.Tuple(tuple(entries[max(j, k), min(j, k)]
                              for j in range(len(wrt)) for k in range(len(wrt))), is_list=True)
        number = ir.Name(bind(names, bindings, {}, "float", float))
        array = ir.Call(ir.Attr(ir.Name(numpy), "array"), (flat,), (("dtype", number),))
        value = ir.Call(ir.Attr(array, "reshape"), (ir.Const(len(wrt)), ir.Const(len(wrt))))
    body.append(ir.Return(value, loc=result.loc))
    return listing.with_body(body, name=name, bindings=bindings), frozenset(numbers)
