"""Emit: IR functions become Python source (via astor), in the seed listing's style:
one statement per line, each tagged with the forward line ``# (n)`` it comes from,
and a ``# backprop <forward line>`` header over each gate's adjoint lines."""

from __future__ import annotations

import ast

import astor

from . import ir
from .pyexpr import to_ast

INDENT = "    "
#: Tags are aligned at this column when the code is shorter; longer lines get two spaces.
TAG_COLUMN = 40


def expression(expr: ir.Expr) -> str:
    """Python source of one expression."""
    if isinstance(expr, ir.Tuple):
        inner = ", ".join(expression(e) for e in expr.elts)
        return f"({inner},)" if len(expr.elts) == 1 else f"({inner})"
    text = astor.to_source(ast.Expr(to_ast(expr))).strip()
    if text.startswith("(") and _balanced_outer(text):
        text = text[1:-1]
    return text


def _balanced_outer(text: str) -> bool:
    """True when the first '(' closes at the very end (astor's outer parentheses)."""
    depth = 0
    for index, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if depth == 0:
            return index == len(text) - 1
    return False


def statement(stmt: ir.Stmt) -> str:
    """Python source of one simple statement (no tag)."""
    if isinstance(stmt, ir.Assign):
        return f"{stmt.target} = {expression(stmt.value)}"
    if isinstance(stmt, ir.Adjoint):
        return f"{stmt.target} {'+=' if stmt.accumulate else '='} {expression(stmt.value)}"
    if isinstance(stmt, ir.Effect):
        return expression(stmt.value)
    if isinstance(stmt, ir.Return):
        value = stmt.value
        if isinstance(value, ir.Tuple) and value.elts:
            return "return " + ", ".join(expression(e) for e in value.elts)
        return f"return {expression(value)}"
    raise TypeError(f"not a simple statement: {stmt!r}")


def _tagged(code: str, tag: int) -> str:
    if not tag:
        return code
    return f"{code.ljust(TAG_COLUMN - len(INDENT))}  # ({tag})"


def lines_of(body: tuple[ir.Stmt, ...] | list[ir.Stmt]) -> list[str]:
    """The body's source lines, without indentation."""
    lines: list[str] = []
    for stmt in body:
        if isinstance(stmt, ir.Comment):
            lines.append(f"# {stmt.text}")
        elif isinstance(stmt, ir.Backprop):
            lines.append(f"# backprop {statement(stmt.forward)}")
        elif isinstance(stmt, ir.Effect):
            lines.append(f"{statement(stmt)}  # grad needs a scalar result")
        elif isinstance(stmt, ir.Return):
            lines.append(statement(stmt))
        else:
            lines.append(_tagged(statement(stmt), stmt.tag))
    return lines


def signature(fn: ir.Function) -> str:
    params = list(fn.params)
    if fn.kwonly:
        params += ["*", *fn.kwonly]
    return f"def {fn.name}({', '.join(params)}):"


def function(fn: ir.Function) -> str:
    """The full source of ``fn`` as a ``def`` statement."""
    body = lines_of(fn.body) or ["pass"]
    return "\n".join([signature(fn), *(INDENT + line for line in body)]) + "\n"
