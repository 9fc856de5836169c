"""Forward mode over a run of straight-line lines by their local partial derivatives
(statement-level preaccumulation, as ADIFOR does).

Forward mode along two parameters gives every differentiated value two tangents, the
values a line computes only for the next line included:

    t1 = r * x                          t1 = r * x
    t1_dr = x + r * x_dr                t2 = 1.0 - x
    t1_dx0 = r * x_dx0                  x_wrt_r = t2 * x
    t2 = 1.0 - x                        x = t1 * t2
    t2_dr = -x_dr                       x_wrt_x = t2 * r - t1
    t2_dx0 = -x_dx0                     x_dr = x_wrt_x * x_dr + x_wrt_r
    x = t1 * t2                         x_dx0 = x_wrt_x * x_dx0
    x_dr = t2 * t1_dr + t1 * t2_dr
    x_dx0 = t2 * t1_dx0 + t1 * t2_dx0

On the right, the run's values that no other code reads (``t1``, ``t2``) get no
tangent: the derivatives of each value the run leaves (``x``) with respect to the
values it starts from (``x``, ``r``) are computed once, from the lines' partial
derivatives (their adjoint templates applied to the partials they receive, ``g`` = 1 for
an input), and each direction's tangent is
one sum of products. Where the partials are constants and names, as they mostly are,
this costs fewer operations; :func:`with_local_jacobians` counts both forms and keeps
the cheaper one (the logistic map's loop: 11 operations of tangents become 6).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from . import ir
from .rules.table import COPY

if TYPE_CHECKING:
    from .forward import Direction
    from .names import NameAllocator

#: the result of a line, in its partials (placed after the line, which binds it)
_RESULT = "__srcad_result__"


def operation_count(stmts: Iterable[ir.Stmt]) -> int:
    """Arithmetic operations and calls in ``stmts`` (a copy costs none)."""
    return sum(
        isinstance(node, ir.BinOp | ir.UnaryOp | ir.Call | ir.Compare | ir.BoolOp)
        for stmt in stmts for value in ir.expressions_of(stmt) for node in ir.nodes(value)
    )


def _product(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    if _is_const(a, 1):
        return b
    if _is_const(b, 1):
        return a
    if _is_const(a, -1):
        return _negated(b)
    if _is_const(b, -1):
        return _negated(a)
    if isinstance(a, ir.Const) and isinstance(b, ir.Const):
        return ir.Const(a.value * b.value)
    return ir.BinOp("*", a, b)


def _negated(a: ir.Expr) -> ir.Expr:
    if isinstance(a, ir.Const) and isinstance(a.value, int | float):
        return ir.Const(-a.value)
    if isinstance(a, ir.UnaryOp) and a.op == "-":
        return a.operand
    return ir.UnaryOp("-", a)


def _sum(a: ir.Expr | None, b: ir.Expr) -> ir.Expr:
    if a is None:
        return b
    if isinstance(a, ir.Const) and isinstance(b, ir.Const):
        return ir.Const(a.value + b.value)
    if isinstance(b, ir.UnaryOp) and b.op == "-":
        return ir.BinOp("-", a, b.operand)
    if isinstance(a, ir.UnaryOp) and a.op == "-":
        return ir.BinOp("-", b, a.operand)
    return ir.BinOp("+", a, b)


def _is_const(e: ir.Expr, value: float) -> bool:
    return isinstance(e, ir.Const) and type(e.value) in (int, float) and e.value == value


def _simplified(expr: ir.Expr) -> ir.Expr:
    """``expr`` with products by 1 and -1 and negated constants folded (exact for
    floats: a template applied to a partial of 1.0 or -1.0)."""
    def fold(e: ir.Expr) -> ir.Expr:
        if isinstance(e, ir.BinOp) and e.op == "*":
            return _product(e.left, e.right)
        if isinstance(e, ir.UnaryOp) and e.op == "-":
            return _negated(e.operand)
        return e

    return ir.map_expr(expr, fold)


class _Run:
    """The preaccumulated form of one run of lines (see :func:`with_local_jacobians`)."""

    def __init__(
        self,
        run: list[ir.Stmt],
        directions: list[Direction],
        names: NameAllocator,
    ) -> None:
        self.directions, self.names = directions, names
        self.first = directions[0]
        #: the position of the last line of the run that binds each name
        self.last_bound = {t: k for k, stmt in enumerate(run) for t in ir.targets_of(stmt)}
        #: for each value the run computed so far: its partials by the run's inputs
        self.partials: dict[str, dict[str, ir.Expr]] = {}
        self.tags: dict[str, int] = {}  # (the forward line that computed each)
        self.lines: list[ir.Stmt] = []

    def active(self, name: str) -> bool:
        return any(d.activity.is_active(name) for d in self.directions)

    def lines_for(self, position: int, stmt: ir.Assign) -> bool:
        """Add ``stmt`` and its partials' lines; False where the run cannot take it."""
        rule = stmt.rule
        if rule is None or not (rule.elementwise or rule is COPY):
            return False
        by_input: dict[str, ir.Expr] = {}
        for param, operand in zip(rule.params, stmt.operands):
            if isinstance(operand, ir.Const):
                continue
            if not isinstance(operand, ir.Name):
                if any(self.active(n) for n in ir.names_in(operand)):
                    return False
                continue
            template = rule.adjoint_for(param)
            if not self.active(operand.id) or template is None:
                continue
            if not isinstance(template, ir.Expr):
                return False
            for source, partial in self.partials.get(
                operand.id, {operand.id: ir.Const(1.0)}
            ).items():  # (the template applied to the operand's partial, as to a tangent:
                # a zero-safe slope, divide_or_zero's, stays 0 where the partial is 0)
                mapping: dict[str, ir.Expr] = dict(zip(rule.params, stmt.operands))
                mapping["ans"] = ir.Name(_RESULT)
                mapping["g"] = partial
                through = _simplified(
                    ir.map_expr(self.first.free(template, rule, mapping), self.first.unshaped)
                )
                by_input[source] = _sum(by_input.get(source), through)
        before: list[ir.Stmt] = []
        after: list[ir.Stmt] = []
        kept: dict[str, ir.Expr] = {}
        named: dict[ir.Expr, ir.Name] = {}  # (two inputs with the same partial: one line)
        for source, partial in by_input.items():
            if isinstance(partial, ir.Const):
                kept[source] = partial
                continue
            reads = set(ir.names_in(partial))
            if (  # (a name the run does not bind again from here: read as it is)
                isinstance(partial, ir.Name) and partial.id != _RESULT
                and self.last_bound.get(partial.id, -1) < position
            ):
                kept[source] = partial
                continue
            if partial in named:
                kept[source] = named[partial]
                continue
            if _RESULT in reads and stmt.target in reads:
                return False  # (x = x ** y: a partial reads x before and after the line)
            name = self.names.fresh(f"{stmt.target}_wrt_{source}")
            kept[source] = named[partial] = ir.Name(name)
            if _RESULT in reads:  # (after the line, which binds the result it reads)
                result = {_RESULT: ir.Name(stmt.target)}
                after.append(ir.Adjoint(name, ir.substitute(partial, result), tag=stmt.tag))
            else:
                before.append(ir.Adjoint(name, partial, tag=stmt.tag))
        self.lines += [*before, stmt, *after]
        self.partials[stmt.target] = kept
        self.tags[stmt.target] = stmt.tag
        return True

    def tangent_lines(self, outputs: list[str]) -> list[ir.Stmt]:
        """Each output's tangent along each direction: the sum of its partials times the
        inputs' tangents. An output may be an input too: each line is placed before the
        lines that bind a tangent it reads (a cycle goes through new names)."""
        lines: list[ir.Adjoint] = []
        for output in outputs:
            for direction in self.directions:
                if not direction.activity.is_active(output):
                    continue
                value: ir.Expr | None = None
                for source, partial in self.partials[output].items():
                    dot = direction.operand_tangent(ir.Name(source))
                    if dot is not None:
                        value = _sum(value, _product(partial, dot))
                lines.append(ir.Adjoint(direction.tangent(output), value or ir.Const(0.0),
                                        tag=self.tags[output]))
        ordered = _readers_first(lines)
        if ordered is not None:
            return list(ordered)
        news = [self.names.fresh(f"{line.target}_new") for line in lines]
        return [
            *(ir.Adjoint(new, line.value, tag=line.tag) for new, line in zip(news, lines)),
            *(ir.Adjoint(line.target, ir.Name(new)) for new, line in zip(news, lines)),
        ]


def _readers_first(lines: list[ir.Adjoint]) -> list[ir.Adjoint] | None:
    """``lines`` in an order where no line binds a name a later line reads (a line may
    read the name it binds), or None if there is none."""
    pending, out = list(lines), []
    while pending:
        free = next((
            line for line in pending
            if not any(line.target in ir.names_in(other.value)
                       for other in pending if other is not line)
        ), None)
        if free is None:
            return None
        pending.remove(free)
        out.append(free)
    return out


def with_local_jacobians(
    run: list[ir.Stmt],
    directions: list[Direction],
    names: NameAllocator,
    read_elsewhere: set[str],
) -> list[ir.Stmt] | None:
    """``run`` (straight-line lines of one block) with the tangents of the values it
    leaves computed from its lines' local partial derivatives, or None where a line is
    not one the run can take. ``read_elsewhere``: names code outside the run reads (a
    loop's carried values among them): the run's outputs."""
    form = _Run(run, directions, names)
    read_first: set[str] = set()
    bound: set[str] = set()
    for position, stmt in enumerate(run):
        read_first |= {n for n in ir.reads_of(stmt) if n not in bound}
        if isinstance(stmt, ir.Assign) and form.active(stmt.target):
            if not form.lines_for(position, stmt):
                return None
        elif any(t in form.partials or form.active(t) for t in ir.targets_of(stmt)):
            return None
        else:
            form.lines.append(stmt)
        bound.update(ir.targets_of(stmt))
    outputs = [n for n in form.partials if n in read_elsewhere or n in read_first]
    return form.lines + form.tangent_lines(outputs)


def reads_by_name(body: Iterable[ir.Stmt]) -> Counter[str]:
    """How many times each name is read in ``body`` (nested blocks and loop headers
    included)."""
    return Counter(n for stmt in ir.walk(list(body)) for n in ir.reads_of(stmt))
