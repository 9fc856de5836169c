"""The intermediate representation: small immutable dataclasses passed between stages.

A :class:`Function` is a list of statements. Forward listings hold :class:`Assign`
statements, one primitive operation each; adjoint listings add :class:`Adjoint`
statements (``target = value`` or ``target += value``) and :class:`Comment` headers.
Expressions are tiny trees of :class:`Name`, :class:`Const`, :class:`BinOp`,
:class:`UnaryOp`, :class:`Compare`, :class:`Attr` and :class:`Call`. Nothing here knows
the user's AST.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Union

from .errors import UNKNOWN_LOCATION, Location

if TYPE_CHECKING:  # pragma: no cover
    from .rules.table import Rule


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Name:
    id: str


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class BinOp:
    op: str  # one of + - * / // % ** @
    left: Expr
    right: Expr


@dataclass(frozen=True)
class UnaryOp:
    op: str  # - + not
    operand: Expr


@dataclass(frozen=True)
class Compare:
    op: str  # < <= > >= == != is is not
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Attr:
    value: Expr
    attr: str


@dataclass(frozen=True)
class Call:
    func: Expr
    args: tuple[Expr, ...] = ()
    kwargs: tuple[tuple[str, Expr], ...] = ()


@dataclass(frozen=True)
class Tuple:
    elts: tuple[Expr, ...]


Expr = Union[Name, Const, BinOp, UnaryOp, Compare, Attr, Call, Tuple]


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``expr``."""
    if isinstance(expr, BinOp | Compare):
        return (expr.left, expr.right)
    if isinstance(expr, UnaryOp):
        return (expr.operand,)
    if isinstance(expr, Attr):
        return (expr.value,)
    if isinstance(expr, Call):
        return (expr.func, *expr.args, *(value for _, value in expr.kwargs))
    if isinstance(expr, Tuple):
        return expr.elts
    return ()


def with_children(expr: Expr, new: tuple[Expr, ...] | list[Expr]) -> Expr:
    """``expr`` with its direct sub-expressions replaced (the inverse of :func:`children`)."""
    new = tuple(new)
    if isinstance(expr, BinOp):
        return BinOp(expr.op, new[0], new[1])
    if isinstance(expr, Compare):
        return Compare(expr.op, new[0], new[1])
    if isinstance(expr, UnaryOp):
        return UnaryOp(expr.op, new[0])
    if isinstance(expr, Attr):
        return Attr(new[0], expr.attr)
    if isinstance(expr, Call):
        n_args = len(expr.args)
        kwargs = tuple((k, v) for (k, _), v in zip(expr.kwargs, new[1 + n_args:]))
        return Call(new[0], new[1:1 + n_args], kwargs)
    if isinstance(expr, Tuple):
        return Tuple(new)
    return expr


def names_in(expr: Expr) -> Iterator[str]:
    """Every name read by ``expr``."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Name):
            yield node.id
        else:
            stack.extend(children(node))


def map_expr(expr: Expr, fn: Callable[[Expr], Expr]) -> Expr:
    """Rebuild ``expr`` bottom-up, applying ``fn`` to every node after its children."""
    if isinstance(expr, BinOp):
        expr = BinOp(expr.op, map_expr(expr.left, fn), map_expr(expr.right, fn))
    elif isinstance(expr, Compare):
        expr = Compare(expr.op, map_expr(expr.left, fn), map_expr(expr.right, fn))
    elif isinstance(expr, UnaryOp):
        expr = UnaryOp(expr.op, map_expr(expr.operand, fn))
    elif isinstance(expr, Attr):
        expr = Attr(map_expr(expr.value, fn), expr.attr)
    elif isinstance(expr, Call):
        expr = Call(
            map_expr(expr.func, fn),
            tuple(map_expr(a, fn) for a in expr.args),
            tuple((k, map_expr(v, fn)) for k, v in expr.kwargs),
        )
    elif isinstance(expr, Tuple):
        expr = Tuple(tuple(map_expr(e, fn) for e in expr.elts))
    return fn(expr)


def substitute(expr: Expr, mapping: Mapping[str, Expr]) -> Expr:
    """Replace every ``Name`` whose id is in ``mapping``."""
    if not mapping:
        return expr
    return map_expr(expr, lambda e: mapping.get(e.id, e) if isinstance(e, Name) else e)


# ---------------------------------------------------------------- statements


@dataclass(frozen=True)
class Assign:
    """``target = value``: one forward gate.

    ``rule`` is the derivative rule of the primitive, ``operands`` its arguments in the
    rule's parameter order (``None`` when the value is not differentiated: a plain copy
    or a non-differentiable computation). ``tag`` is the forward line number ``(n)``.
    """

    target: str
    value: Expr
    rule: Rule | None = None
    operands: tuple[Expr, ...] = ()
    tag: int = 0
    loc: Location = UNKNOWN_LOCATION


@dataclass(frozen=True)
class Adjoint:
    """``target = value`` (first contribution) or ``target += value`` (accumulate)."""

    target: str
    value: Expr
    accumulate: bool = False
    tag: int = 0


@dataclass(frozen=True)
class Effect:
    """An expression evaluated for its effect only (a run-time check)."""

    value: Expr
    tag: int = 0


@dataclass(frozen=True)
class Comment:
    """A comment line; a ``header`` is dropped when no statement follows it in its group."""

    text: str
    header: bool = False


@dataclass(frozen=True)
class Backprop:
    """The header over one forward gate's adjoint lines: ``# backprop <forward line>``."""

    forward: Assign


@dataclass(frozen=True)
class Return:
    value: Expr
    loc: Location = UNKNOWN_LOCATION


Stmt = Union[Assign, Adjoint, Effect, Comment, Backprop, Return]


def targets_of(stmt: Stmt) -> tuple[str, ...]:
    """Names a statement writes."""
    if isinstance(stmt, Assign | Adjoint):
        return (stmt.target,)
    return ()


def reads_of(stmt: Stmt) -> Iterator[str]:
    """Names a statement reads (an accumulation also reads its target)."""
    if isinstance(stmt, Assign | Effect | Return):
        yield from names_in(stmt.value)
    elif isinstance(stmt, Adjoint):
        yield from names_in(stmt.value)
        if stmt.accumulate:
            yield stmt.target


@dataclass(frozen=True)
class Function:
    """A function in IR form.

    ``bindings`` are free names that the generated code reads from closure cells:
    helper functions and modules the derivative rules use, and globals of inlined
    helpers that live in other modules. ``free_cells`` maps names of the user's own
    closure variables to their (live) cells. Every other free name is a global of
    the user's module; ``free_objects`` says what each free name denoted when the
    function was lowered.
    """

    name: str
    params: tuple[str, ...]
    body: tuple[Stmt, ...]
    kwonly: tuple[str, ...] = ()
    bindings: Mapping[str, Any] = field(default_factory=dict)
    free_cells: Mapping[str, Any] = field(default_factory=dict)
    free_objects: Mapping[str, Any] = field(default_factory=dict)
    source_file: str = "<unknown>"
    source_line: int = 0
    dependencies: tuple[Any, ...] = ()

    def with_body(self, body: tuple[Stmt, ...] | list[Stmt], **changes: Any) -> Function:
        return replace(self, body=tuple(body), **changes)

    def names(self) -> set[str]:
        """Every name the function mentions: params, targets, reads and bindings."""
        found = set(self.params) | set(self.kwonly) | set(self.bindings) | set(self.free_cells)
        for stmt in self.body:
            found.update(targets_of(stmt))
            found.update(reads_of(stmt))
        return found
