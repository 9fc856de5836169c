"""Analyze: which values are active (depend on a ``wrt`` input and reach the result),
and which adjoints merely alias another value."""

from __future__ import annotations

from dataclasses import dataclass

from . import ir


@dataclass(frozen=True)
class Activity:
    """``varied``: depends on a wrt input; ``useful``: reaches the result; ``active``: both."""

    varied: frozenset[str]
    useful: frozenset[str]

    @property
    def active(self) -> frozenset[str]:
        return self.varied & self.useful

    def is_active(self, name: str) -> bool:
        return name in self.varied and name in self.useful


def _differentiable_inputs(stmt: ir.Assign) -> set[str]:
    """Names through which a derivative can flow into ``stmt``'s target."""
    if stmt.rule is None:  # no rule: every input counts, so that misuse is caught
        return set(ir.names_in(stmt.value))
    found: set[str] = set()
    for param, operand in zip(stmt.rule.params, stmt.operands):
        if stmt.rule.adjoint_for(param) is not None:
            found.update(ir.names_in(operand))
    return found


def activity(fn: ir.Function, wrt: tuple[str, ...]) -> Activity:
    """Forward dependence on ``wrt`` intersected with backward reachability of the result."""
    assigns = [s for s in fn.body if isinstance(s, ir.Assign)]
    varied = set(wrt)
    for stmt in assigns:
        if _differentiable_inputs(stmt) & varied:
            varied.add(stmt.target)
    useful: set[str] = set()
    for stmt in fn.body:
        if isinstance(stmt, ir.Return):
            useful.update(ir.names_in(stmt.value))
    for stmt in reversed(assigns):
        if stmt.target in useful:
            useful.update(_differentiable_inputs(stmt))
    return Activity(frozenset(varied), frozenset(useful))


def is_alias(value: ir.Expr) -> bool:
    """A value that may share its object with another variable (a bare name)."""
    return isinstance(value, ir.Name)


def protect_aliases(body: list[ir.Stmt]) -> list[ir.Stmt]:
    """Rewrite ``d += c`` as ``d = d + c`` where ``d`` may alias another array.

    ``+=`` updates a numpy array in place; after ``dx = dxpy`` that would change
    ``dxpy`` too. Straight-line bodies only (the statements are visited in order).
    """
    aliased: set[str] = set()
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.Adjoint):
            if stmt.accumulate and stmt.target in aliased:
                stmt = ir.Adjoint(stmt.target, ir.BinOp("+", ir.Name(stmt.target), stmt.value),
                                  accumulate=False, tag=stmt.tag)
            if not stmt.accumulate:
                if is_alias(stmt.value):
                    aliased.add(stmt.target)
                else:
                    aliased.discard(stmt.target)
        out.append(stmt)
    return out
