"""Conversion between Python expression syntax (``ast``) and IR expressions."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from . import ir

BINOPS: dict[type, str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.MatMult: "@",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
}
UNARYOPS: dict[type, str] = {ast.USub: "-", ast.UAdd: "+", ast.Not: "not", ast.Invert: "~"}
CMPOPS: dict[type, str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}
AST_BINOPS = {symbol: node for node, symbol in BINOPS.items()}

#: what the arithmetic operators compute (see :func:`constant_arithmetic`)
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow,
}


def constant_arithmetic(op: str, left: Any, right: Any) -> Any:
    """``left op right`` of two number constants (ints, floats; ``op`` a symbol of
    :data:`BINOPS`), as Python computes it; None for anything else, and where Python
    would raise or give a number that is not a finite float or a small int."""
    if op not in _ARITHMETIC or type(left) not in (int, float) or type(right) not in (
        int, float
    ):
        return None
    if op == "**" and type(right) is int and abs(right) > 64:
        return None  # (7 ** 30000000: Python computes it only if the line runs)
    try:
        result = _ARITHMETIC[op](left, right)
    except (ArithmeticError, ValueError):
        return None  # (1.0 / 0.0 raises where the user wrote it)
    if type(result) is float and math.isfinite(result):
        return result
    if type(result) is int and abs(result) < 2**53:
        return result
    return None
AST_UNARYOPS = {symbol: node for node, symbol in UNARYOPS.items()}
AST_CMPOPS = {symbol: node for node, symbol in CMPOPS.items()}


class NotAnExpression(ValueError):
    """The syntax has no IR form (the caller reports it at the node)."""

    def __init__(self, node: ast.AST) -> None:
        super().__init__(type(node).__name__)
        self.node = node


def from_ast(node: ast.expr) -> ir.Expr:
    """Convert a plain expression (raising NotAnExpression at a part with no IR form)."""
    return _convert(node, from_ast)


def _convert(node: ast.expr, convert: Callable[[ast.expr], ir.Expr]) -> ir.Expr:
    """The IR of ``node`` itself, its sub-expressions converted by ``convert`` (called on
    them in the order :func:`ir.children` lists them)."""
    if isinstance(node, ast.Name):
        return ir.Name(node.id)
    if isinstance(node, ast.Constant) and isinstance(
        node.value, int | float | complex | bool | str
    ):
        return ir.Const(node.value)
    if isinstance(node, ast.Constant) and (node.value is None or node.value is Ellipsis):
        return ir.Const(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in BINOPS:
        return ir.BinOp(BINOPS[type(node.op)], convert(node.left), convert(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in UNARYOPS:
        return ir.UnaryOp(UNARYOPS[type(node.op)], convert(node.operand))
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in CMPOPS:
        return ir.Compare(
            CMPOPS[type(node.ops[0])], convert(node.left), convert(node.comparators[0])
        )
    if isinstance(node, ast.Attribute):
        return ir.Attr(convert(node.value), node.attr)
    if isinstance(node, ast.Call) and all(kw.arg is not None for kw in node.keywords):
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise NotAnExpression(node)
        return ir.Call(
            convert(node.func),
            tuple(convert(a) for a in node.args),
            tuple((kw.arg, convert(kw.value)) for kw in node.keywords if kw.arg is not None),
        )
    if isinstance(node, ast.Tuple | ast.List):
        return ir.Tuple(tuple(convert(e) for e in node.elts))
    if isinstance(node, ast.Subscript):
        return ir.Subscript(convert(node.value), convert(node.slice))
    if isinstance(node, ast.Slice):
        part = lambda n: None if n is None else convert(n)  # noqa: E731
        return ir.Slice(part(node.lower), part(node.upper), part(node.step))
    raise NotAnExpression(node)


@dataclass(frozen=True, eq=False)
class Written:
    """A sub-expression of the user's code as rule selection reads it, before lowering.

    ``form`` is its IR one level deep: its own sub-expressions, in the places
    :func:`ir.children` lists, are ``Written`` in turn (an IR node holds them as it
    holds any expression). So a rule's parameter, bound by matching to any part, is
    that part: ``node`` is the code to lower for it, ``at`` where it stands (the child
    positions from the root), which is where the call, spelled again in the user's
    words, gets the lowered operand. A part with no IR form (``a if c else b``, ``a and
    b``, a chained comparison, a value the lowerer has computed already) has ``form``
    None: only a rule's parameter matches it.

    It compares as the IR it stands for (where it was written does not matter: a rule
    that names a parameter twice, softmax's, matches two parts written alike). Parts
    with no IR form compare as the code they are written as (``a if c else b`` equals
    only another ``a if c else b``; a value the lowerer computed, only itself): they
    once all compared equal, so softmax's rule matched ``np.exp(a if c else b) /
    np.sum(np.exp(b if c else a), ...)`` with a wrong gradient.
    """

    form: ir.Expr | None
    node: ast.expr
    at: tuple[int, ...] = ()

    def _key(self) -> object:
        if self.form is not None:
            return self.form
        # (no IR form: the code as written; a lowered value, which has no fields: itself)
        return ("written", ast.dump(self.node) if self.node._fields else id(self.node))

    def __eq__(self, other: object) -> bool:
        return self._key() == (other._key() if isinstance(other, Written) else other)

    def __hash__(self) -> int:
        return hash(self._key())

    def parts(self) -> tuple[Written, ...]:
        """The sub-expressions, in the order of :func:`ir.children`."""
        return () if self.form is None else cast(tuple[Written, ...], ir.children(self.form))

    def reference(self) -> ir.Name | ir.Attr | ir.Subscript | None:
        """This part in plain IR if it is a Name or a chain of attributes of one
        (``np.linalg.norm``: what may denote an object the code does not compute), or an
        item of one picked by a constant or a name (``ACTIVATIONS["tanh"]``,
        ``ACTIVATIONS[HIDDEN]``: a function it holds)."""
        if isinstance(self.form, ir.Name):
            return self.form
        if isinstance(self.form, ir.Attr):
            (value,) = self.parts()
            base = value.reference()
            return None if base is None else ir.Attr(base, self.form.attr)
        if isinstance(self.form, ir.Subscript):  # (by a constant, or a global's name)
            container, index = self.parts()
            base = container.reference()
            key = index.form
            if isinstance(key, ir.Name | ir.Attr | ir.Subscript):
                key = index.reference()
            elif isinstance(key, ir.UnaryOp) and key.op == "-":  # (LOSSES[-1])
                (negated,) = index.parts()
                number = negated.form
                key = ir.Const(-number.value) if isinstance(number, ir.Const) and type(
                    number.value
                ) is int else None
            elif not (isinstance(key, ir.Const) and type(key.value) in (str, int)):
                key = None
            return None if base is None or key is None else ir.Subscript(base, key)
        return None


def written(node: ast.expr, at: tuple[int, ...] = ()) -> Written:
    """``node`` as rule selection reads it (see :class:`Written`); NotAnExpression if
    ``node`` itself has no IR form (a part of it that has none is kept with none)."""
    count = 0

    def part(child: ast.expr) -> ir.Expr:
        nonlocal count
        where = (*at, count)
        count += 1
        try:
            sub = written(child, where)
        except NotAnExpression:
            sub = Written(None, child, where)
        return cast(ir.Expr, sub)  # (held where the IR holds a sub-expression: see Written)

    return Written(_convert(node, part), node, at)


def parse(text: str) -> ir.Expr:
    """Parse an expression written as Python source (used for rule templates)."""
    return from_ast(ast.parse(text, mode="eval").body)


def to_ast(expr: ir.Expr) -> ast.expr:
    """Build the Python ``ast`` for an IR expression."""
    if isinstance(expr, ir.Name):
        return ast.Name(expr.id, ast.Load())
    if isinstance(expr, ir.Const):
        value = expr.value
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and (value < 0 or (value == 0 and str(value).startswith("-")))
        ):
            # as a unary minus, so that printing keeps `(-2.0) ** 2` parenthesised
            return ast.UnaryOp(ast.USub(), ast.Constant(-value))
        return ast.Constant(value)
    if isinstance(expr, ir.BinOp):
        return ast.BinOp(to_ast(expr.left), AST_BINOPS[expr.op](), to_ast(expr.right))
    if isinstance(expr, ir.UnaryOp):
        return ast.UnaryOp(AST_UNARYOPS[expr.op](), to_ast(expr.operand))
    if isinstance(expr, ir.Compare):
        return ast.Compare(to_ast(expr.left), [AST_CMPOPS[expr.op]()], [to_ast(expr.right)])
    if isinstance(expr, ir.Attr):
        return ast.Attribute(to_ast(expr.value), expr.attr, ast.Load())
    if isinstance(expr, ir.Call):
        return ast.Call(
            to_ast(expr.func),
            [to_ast(a) for a in expr.args],
            [ast.keyword(k, to_ast(v)) for k, v in expr.kwargs],
        )
    if isinstance(expr, ir.Tuple):
        kind = ast.List if expr.is_list else ast.Tuple
        return kind([to_ast(e) for e in expr.elts], ast.Load())
    if isinstance(expr, ir.BoolOp):
        op = ast.And() if expr.op == "and" else ast.Or()
        return ast.BoolOp(op, [to_ast(v) for v in expr.values])
    if isinstance(expr, ir.Subscript):
        return ast.Subscript(to_ast(expr.value), to_ast(expr.index), ast.Load())
    if isinstance(expr, ir.Dict):
        return ast.Dict([to_ast(k) for k in expr.keys], [to_ast(v) for v in expr.values])
    if isinstance(expr, ir.Slice):
        part = lambda e: None if e is None else to_ast(e)  # noqa: E731
        return ast.Slice(part(expr.lower), part(expr.upper), part(expr.step))
    raise TypeError(f"not an IR expression: {expr!r}")
