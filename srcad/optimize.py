"""Optimize: small passes over a gradient function, each usable on its own.

- :func:`fold` — algebra on expressions: ``1 * g``, ``g * 1``, ``0 + g``, ``-(-g)``,
  ``x ** 1`` and constant arithmetic disappear;
- :func:`propagate_copies` — ``da = db`` and ``df = 1.0`` are substituted into their
  readers instead of being kept as copies;
- :func:`eliminate_dead_code` — statements whose value nobody reads are dropped
  (forward and backward), and so are headers left without lines.

:func:`optimize` runs them to a fixed point and then makes accumulation alias-safe.
"""

from __future__ import annotations

from . import ir
from .analyze import protect_aliases

_ONE = (1, 1.0)
_ZERO = (0, 0.0)


def _is_const(expr: ir.Expr, values: tuple) -> bool:
    return (
        isinstance(expr, ir.Const)
        and type(expr.value) in (int, float)
        and any(expr.value == v for v in values)
    )


def _const_number(expr: ir.Expr) -> bool:
    return isinstance(expr, ir.Const) and type(expr.value) in (int, float)


def _fold_node(expr: ir.Expr) -> ir.Expr:
    if isinstance(expr, ir.UnaryOp):
        inner = expr.operand
        if expr.op == "+":
            return inner
        if expr.op == "-" and isinstance(inner, ir.UnaryOp) and inner.op == "-":
            return inner.operand
        if expr.op == "-" and _const_number(inner):
            return ir.Const(-inner.value)
        return expr
    if not isinstance(expr, ir.BinOp):
        return expr
    left, right, op = expr.left, expr.right, expr.op
    if _const_number(left) and _const_number(right) and op in "+-*":
        value = {"+": left.value + right.value, "-": left.value - right.value,
                 "*": left.value * right.value}[op]
        return ir.Const(value)
    if op == "*":
        if _is_const(left, _ONE):
            return right
        if _is_const(right, _ONE):
            return left
        if _is_const(left, (-1,)):
            return _fold_node(ir.UnaryOp("-", right))
        if _is_const(right, (-1,)):
            return _fold_node(ir.UnaryOp("-", left))
        if isinstance(left, ir.UnaryOp) and left.op == "-" and isinstance(right, ir.UnaryOp) \
                and right.op == "-":
            return ir.BinOp("*", left.operand, right.operand)
    if op == "+":
        if _is_const(left, _ZERO):
            return right
        if _is_const(right, _ZERO):
            return left
        if isinstance(right, ir.UnaryOp) and right.op == "-":
            return ir.BinOp("-", left, right.operand)
    if op == "-":
        if _is_const(right, _ZERO):
            return left
        if _is_const(left, _ZERO):
            return _fold_node(ir.UnaryOp("-", right))
        if isinstance(right, ir.UnaryOp) and right.op == "-":
            return ir.BinOp("+", left, right.operand)
    if op == "/" and _is_const(right, _ONE):
        return left
    if op == "**" and _is_const(right, _ONE):
        return left
    return expr


def fold(expr: ir.Expr) -> ir.Expr:
    """Simplify an expression bottom-up (no rewrite changes a value, up to int/float type)."""
    return ir.map_expr(expr, _fold_node)


def _fold_stmt(stmt: ir.Stmt) -> ir.Stmt:
    if isinstance(stmt, ir.Adjoint):
        return ir.Adjoint(stmt.target, fold(stmt.value), stmt.accumulate, stmt.tag)
    if isinstance(stmt, ir.Return):
        return ir.Return(fold(stmt.value), stmt.loc)
    return stmt


def _with_value(stmt: ir.Stmt, value: ir.Expr) -> ir.Stmt:
    if isinstance(stmt, ir.Adjoint):
        return ir.Adjoint(stmt.target, value, stmt.accumulate, stmt.tag)
    if isinstance(stmt, ir.Assign):
        return ir.Assign(stmt.target, value, stmt.rule, stmt.operands, stmt.tag, stmt.loc)
    if isinstance(stmt, ir.Effect):
        return ir.Effect(value, stmt.tag)
    if isinstance(stmt, ir.Return):
        return ir.Return(value, stmt.loc)
    return stmt


def propagate_copies(body: list[ir.Stmt]) -> list[ir.Stmt]:
    """Replace reads of ``a`` after ``a = b`` (or ``a = 1.0``) by ``b``, as long as
    neither is written again; ``a += c`` after ``a = b`` becomes ``a = b + c``.
    The copies themselves are left for dead-code elimination."""
    last_write: dict[str, int] = {}
    for index, stmt in enumerate(body):
        for target in ir.targets_of(stmt):
            last_write[target] = index
    copies: dict[str, ir.Expr] = {}
    out: list[ir.Stmt] = []
    for index, stmt in enumerate(body):
        if copies and isinstance(stmt, ir.Adjoint | ir.Effect | ir.Return):
            value = ir.substitute(stmt.value, copies)
            if isinstance(stmt, ir.Adjoint) and stmt.accumulate and stmt.target in copies:
                stmt = ir.Adjoint(stmt.target, ir.BinOp("+", copies[stmt.target], value),
                                  False, stmt.tag)
            else:
                stmt = _with_value(stmt, value)
        for target in ir.targets_of(stmt):
            copies.pop(target, None)
            for name in [n for n, v in copies.items() if v == ir.Name(target)]:
                del copies[name]
        if (
            isinstance(stmt, ir.Adjoint)
            and not stmt.accumulate
            and isinstance(stmt.value, ir.Name | ir.Const)
            and (not isinstance(stmt.value, ir.Name) or last_write.get(stmt.value.id, -1) <= index)
        ):
            copies[stmt.target] = stmt.value
        out.append(stmt)
    return out


def eliminate_dead_code(body: list[ir.Stmt]) -> list[ir.Stmt]:
    """Drop assignments nobody reads afterwards, then headers left without lines."""
    live: set[str] = set()
    kept: list[ir.Stmt] = []
    for stmt in reversed(body):
        if isinstance(stmt, ir.Assign | ir.Adjoint):
            if stmt.target not in live:
                if _is_copy(stmt):  # keep a note of what was substituted
                    kept.append(ir.Comment(f"{stmt.target} = {_short(stmt.value)} (substituted)"))
                continue
            if not (isinstance(stmt, ir.Adjoint) and stmt.accumulate):
                live.discard(stmt.target)
        live.update(ir.reads_of(stmt))
        kept.append(stmt)
    kept.reverse()
    return _drop_empty_headers(kept)


def _is_copy(stmt: ir.Stmt) -> bool:
    return (isinstance(stmt, ir.Adjoint) and not stmt.accumulate
            and isinstance(stmt.value, ir.Name | ir.Const))


def _short(expr: ir.Expr) -> str:
    return expr.id if isinstance(expr, ir.Name) else repr(expr.value)


def _drop_empty_headers(body: list[ir.Stmt]) -> list[ir.Stmt]:
    out: list[ir.Stmt] = []
    for stmt in reversed(body):
        is_header = isinstance(stmt, ir.Backprop) or (isinstance(stmt, ir.Comment) and stmt.header)
        following = out[-1] if out else None
        next_is_code = following is not None and not isinstance(following, ir.Backprop | ir.Return) \
            and not (isinstance(following, ir.Comment) and following.header)
        if is_header and not next_is_code:
            continue
        out.append(stmt)
    out.reverse()
    return out


def optimize(fn: ir.Function) -> ir.Function:
    """Fold, propagate copies and remove dead code until nothing changes."""
    body = list(fn.body)
    for _ in range(10):
        before = body
        body = [_fold_stmt(s) for s in body]
        body = propagate_copies(body)
        body = eliminate_dead_code(body)
        if body == before:
            break
    return fn.with_body(protect_aliases(body))
