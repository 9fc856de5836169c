"""The intermediate representation: small immutable dataclasses passed between stages.

A :class:`Function` is a list of statements. Forward listings hold :class:`Assign`
statements, one primitive operation each; adjoint listings add :class:`Adjoint`
statements (``target = value`` or ``target += value``) and :class:`Comment` headers.
Expressions are tiny trees of :class:`Name`, :class:`Const`, :class:`BinOp`,
:class:`UnaryOp`, :class:`Compare`, :class:`Attr` and :class:`Call`. Nothing here knows
the user's AST. A :class:`Rule` is an entry of the derivative table
(:mod:`srcad.rules.table`): a pattern with adjoint and tangent templates, all
expressions of this IR; an :class:`Assign` names the rule it applies.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from . import pycode
from .errors import UNKNOWN_LOCATION, Location

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
    is_list: bool = False  # made by a list display (``[a, b]``): a list at run time


@dataclass(frozen=True)
class BoolOp:
    op: str  # and, or
    values: tuple[Expr, ...]


@dataclass(frozen=True)
class Subscript:
    value: Expr
    index: Expr


@dataclass(frozen=True)
class Slice:
    lower: Expr | None = None
    upper: Expr | None = None
    step: Expr | None = None


@dataclass(frozen=True)
class Dict:
    """``{k0: v0, k1: v1}``: a dict display (keys and values in order)."""

    keys: tuple[Expr, ...]
    values: tuple[Expr, ...]


Expr = (
    Name | Const | BinOp | UnaryOp | Compare | Attr | Call | Tuple | BoolOp | Subscript | Slice
    | Dict
)


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``expr``."""
    if expr.__class__ is Name or expr.__class__ is Const:
        return ()  # (most nodes are leaves: the passes ask for every one, again and again)
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
    if isinstance(expr, BoolOp):
        return expr.values
    if isinstance(expr, Subscript):
        return (expr.value, expr.index)
    if isinstance(expr, Slice):
        return tuple(e for e in (expr.lower, expr.upper, expr.step) if e is not None)
    if isinstance(expr, Dict):
        return (*expr.keys, *expr.values)
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
        kwargs = tuple((k, v) for (k, _), v in zip(expr.kwargs, new[1 + n_args :]))
        return Call(new[0], new[1 : 1 + n_args], kwargs)
    if isinstance(expr, Tuple):
        return Tuple(new, expr.is_list)
    if isinstance(expr, BoolOp):
        return BoolOp(expr.op, new)
    if isinstance(expr, Subscript):
        return Subscript(new[0], new[1])
    if isinstance(expr, Slice):
        parts, it = [], iter(new)
        for old in (expr.lower, expr.upper, expr.step):
            parts.append(None if old is None else next(it))
        return Slice(*parts)
    if isinstance(expr, Dict):
        return Dict(new[: len(expr.keys)], new[len(expr.keys) :])
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


def negated(expr: Expr) -> Expr | None:
    """``e`` when ``expr`` is ``-e``, also through products and quotients (``(-a) * b``
    is ``-(a * b)``: exactly, as rounding is symmetric in sign); None otherwise."""
    if isinstance(expr, UnaryOp) and expr.op == "-":
        return expr.operand
    if isinstance(expr, BinOp) and expr.op in ("*", "/"):
        left = negated(expr.left)
        if left is not None:
            return BinOp(expr.op, left, expr.right)
        right = negated(expr.right)
        if right is not None:
            return BinOp(expr.op, expr.left, right)
    return None


def map_expr(expr: Expr, fn: Callable[[Expr], Expr]) -> Expr:
    """Rebuild ``expr`` bottom-up, applying ``fn`` to every node after its children. A
    node whose children ``fn`` left as they were is kept (the same object), so that a
    rewrite that changes nothing costs no copies, and comparing before and after is
    cheap."""
    kids = children(expr)
    if kids:
        new = [map_expr(kid, fn) for kid in kids]
        if any(n is not k for n, k in zip(new, kids)):
            expr = with_children(expr, new)
    return fn(expr)


def substitute(expr: Expr, mapping: Mapping[str, Expr]) -> Expr:
    """Replace every ``Name`` whose id is in ``mapping``."""
    if not mapping:
        return expr
    return map_expr(expr, lambda e: mapping.get(e.id, e) if isinstance(e, Name) else e)


# ---------------------------------------------------------------- derivative rules


@dataclass(frozen=True)
class Scatter:
    """An adjoint that adds ``g`` into one element of a container: ``dx[index] += g``."""

    index: str  # the rule parameter holding the index


@dataclass(frozen=True)
class Zeroed:
    """The adjoint of an array written in place: the written items get no gradient."""

    index: str


@dataclass(frozen=True, eq=False)
class Signature:
    """The parameters of a rule for a call, apart from the pattern that spells them:
    ``np.sum(x, axis=None, keepdims=False)`` has the callee ``np.sum`` and the
    parameters ``x``, ``axis`` and ``keepdims`` in that order; ``x`` has no default and
    is passed by position, ``axis`` and ``keepdims`` have the defaults ``None`` and
    ``False`` and are passed by keyword.

    A user's call binds them as Python binds positional-or-keyword parameters: by
    position, then by name, the others by their defaults (``np.sum(a, 1)`` and
    ``np.sum(a, axis=1)`` alike bind ``axis`` to ``1``). :meth:`call` writes the call
    again over other operands (forward mode's tangent call) from the operands alone,
    so a keyword the user gave is passed on and a default is never written in its place.
    """

    #: the callee, over the rule's names (``np.sum``; ``x.sum`` for a method of ``x``)
    func: Expr
    #: the parameters in order (those of the callee, not ``x`` in ``x.sum``)
    params: tuple[str, ...]
    #: the defaults of the parameters that have one (the last ones), in order; those
    #: are passed by keyword
    defaults: Mapping[str, Expr] = field(default_factory=dict)
    #: the names a call's positional arguments bind to: the rule's operands, then the
    #: callee's own (``np.var(a, 0, None)`` passes ``axis`` and ``dtype``, not the rule's
    #: ``ddof``; ``np.meshgrid(*xi, copy=True)`` no option); None: :attr:`params`
    positional: tuple[str, ...] | None = None
    #: the callee's options that a call may pass at their defaults, which is the same as
    #: leaving them out (``dtype=None``, ``out=None``), though the rule has no parameter
    #: for them
    idle: Mapping[str, Any] = field(default_factory=dict)

    def call(self, func: Expr, operands: Mapping[str, Expr]) -> Call:
        """The call of ``func`` on ``operands`` (by parameter): the parameters without
        a default by position, the others by keyword, except where the operand is the
        default itself (the callee's own default applies: the same call)."""
        return Call(
            func,
            tuple(operands[p] for p in self.params if p not in self.defaults),
            tuple((k, operands[k]) for k, d in self.defaults.items() if operands[k] != d),
        )


@dataclass(frozen=True, eq=False)
class Rule:
    """One entry of the derivative table."""

    name: str
    pattern: Expr
    params: tuple[str, ...]
    adjoints: tuple[Expr | Scatter | Zeroed | None, ...]
    env: Mapping[str, Any] = field(default_factory=dict)
    #: for a pattern that is a call of parameters (``np.sum(x, axis=None)``, ``f(x0,
    #: x1)``, ``x.sum(axis=None)``): its signature, by which a call is matched (the
    #: pattern's keywords hold defaults, not values to match) and written again
    signature: Signature | None = None
    size: int = 1
    #: elementwise with numpy broadcasting: each operand's adjoint is summed back to its shape
    broadcasting: bool = False
    #: maps scalars to a scalar (so a function made of such gates needs no array handling)
    elementwise: bool = False
    #: returns a new array that the function owns (so it may write into it)
    creates: bool = False
    #: writes into its first operand in place (``x[i] = v``, ``x[i] += v``)
    in_place: bool = False
    #: linear in each differentiable parameter on its own (so forward mode can reuse the
    #: forward expression with that parameter's tangent put in)
    linear: bool = False
    #: the adjoints of all its parameters from one call (a tuple in parameter order),
    #: taken when several are needed, where each ``adjoints`` template picks one of them
    #: (a rule the user wrote, ``srcad.defgrad``: called once, not once per argument)
    together: Expr | None = None
    #: linear in all its differentiable parameters at once (``appended(x, v)``,
    #: ``list_replaced(x, i, v)``): its tangent is itself, called on their tangents
    jointly_linear: bool = False
    #: explicit forward-mode (tangent) templates, over the parameters, ``ans`` and ``t``
    #: (the tangent of the parameter)
    tangents: tuple[Expr | None, ...] = ()
    #: a numpy reduction whose ``axis`` and ``keepdims`` parameters mean what numpy's do
    reduction: bool = False
    #: the parameter naming an axis along which shifting ``x`` by a constant leaves the
    #: result unchanged (log-softmax, softmax): then ``x``'s adjoint sums to zero along it
    shift_invariant: str | None = None
    #: returns a 1-D array of distinct integers (``np.arange``): as part of an index it
    #: selects each position at most once
    distinct: bool = False
    #: may return a view of its first operand, or that operand itself (a slice, ``x.T``,
    #: ``x.reshape``, ``np.asarray``): writing into one changes the other
    view: bool = False
    #: for a view of the whole of ``x`` (``x.T``, ``x.reshape(...)``): ``x``'s values from
    #: the view's, an expression over ``v`` (the view) and the parameters, so that a
    #: write into the view can be carried back to ``x`` (see :mod:`srcad.memory`); a view
    #: rule without it returns a read-only view (``np.diagonal``): numpy refuses writes into it
    restore: str | None = None
    #: an in-place item rule under which a repeated index adds each time (``np.add.at``);
    #: otherwise the last write to a position wins, as in ``x[i] = v`` and ``x[i] += v``
    repeats_add: bool = False
    #: the parameter holding the condition of a selection (``np.where(c, x, y)``): where
    #: ``c`` does not pick ``x``, ``x`` gets exactly zero, even where its own local
    #: derivatives are infinite (they are not evaluated into the result)
    selector: str | None = None
    #: returns a tuple or list holding its operands themselves (``(a, b)``,
    #: ``appended(xs, v)``): writing into an operand changes what the result holds
    holds: bool = False
    #: parameters that are sequences (lists, tuples) of the values the rule works on: with
    #: ``holds``, the result is a sequence of them too (``appended(x, v)``: ``x``);
    #: otherwise the result is one such value (``x[i]``, ``sum(x)``, ``max(x)``)
    sequences: tuple[str, ...] = ()
    #: registered by the user (``srcad.defgrad``): tried before the built-in rules for
    #: the same function, so that it takes their place
    user: bool = False
    #: returns a new array of floats whatever its arguments (``np.zeros(n)``, no dtype)
    floats: bool = False
    #: may return memory of its operands that srcad cannot write back (``np.einsum("ii->i",
    #: k)`` is a writable view of ``k``'s diagonal): writing into the result in place is
    #: checked at run time, and refused where it does share
    shares: bool = False
    #: parameters that take an order or a count (``polygamma``'s ``n``, a Bessel
    #: function's ``v``, a binomial's ``n``): they have no adjoint, and an argument there
    #: that depends on the inputs is refused rather than given a gradient of zero
    orders: tuple[str, ...] = ()
    #: why an order, or a keyword the pattern leaves out (``full_output``), has no
    #: derivative here, and what to write instead: (reason, hint) by name, said by the
    #: refusal of a call that depends on the inputs there in place of the general words
    notes: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    #: a random draw (``rng.normal(mu, sigma)``): it runs even where its value is not
    #: read, as the generator's state moves on, and is never computed twice
    draws: bool = False

    def adjoint_for(self, param: str) -> Expr | Scatter | Zeroed | None:
        return self.adjoints[self.params.index(param)]

    def tangent_for(self, param: str) -> Expr | None:
        return self.tangents[self.params.index(param)] if self.tangents else None


# ---------------------------------------------------------------- statements


@dataclass(frozen=True)
class Assign:
    """``target = value``: one forward gate.

    ``rule`` is the derivative rule of the primitive, ``operands`` its arguments in the
    rule's parameter order (``None`` when the value is not differentiated: a plain copy
    or a non-differentiable computation). ``tag`` is the forward line number ``(n)``.

    Memory: an ``in_place`` gate changes the object ``target`` names instead of binding
    a new one (``out[i] = v``, ``y *= w``): ``target`` is also its first operand, and
    its old value is gone afterwards. A ``logical`` gate is not run by the forward pass:
    it records what memory sharing already did (``out`` changed because its view
    ``row`` was written; the view ``a`` of ``out`` now shows new values), so that the
    gradient flows the way the values did. A ``private`` in-place gate changes a list
    that no other name holds (``path.append(y)`` on a list the function made): like a
    binding, it is dead once nothing reads ``target``. A ``stateful`` gate is a call that
    changes state its value does not show (a random draw advances its generator): it
    runs where it stands, read or not.
    """

    target: str
    value: Expr
    rule: Rule | None = None
    operands: tuple[Expr, ...] = ()
    tag: int = 0
    loc: Location = UNKNOWN_LOCATION
    in_place: bool = False
    logical: bool = False
    private: bool = False
    stateful: bool = False

    @property
    def rebinds(self) -> bool:
        """The forward pass binds the name ``target`` here (for an in-place operator
        with a result name of its own, ``y_1 = y; y_1 *= w``, to the same object)."""
        if self.logical:
            return False
        return not self.in_place or not self.writes_own_operand

    @property
    def may_rebind(self) -> bool:
        """The forward pass may bind ``target`` anew here: wherever it ``rebinds``, and at
        ``y op= w`` in place, which gives a new object when ``y`` holds a number."""
        return self.rebinds or (self.in_place and isinstance(self.value, BinOp))

    @property
    def writes_own_operand(self) -> bool:
        """``out[i] = v`` or ``y *= w``: ``target`` is also the operand changed."""
        first = self.value.left if isinstance(self.value, BinOp) else (
            self.operands[0] if self.operands else None
        )
        return first == Name(self.target)


@dataclass(frozen=True)
class Adjoint:
    """``target = value`` (first contribution) or ``target += value`` (accumulate)."""

    target: str
    value: Expr
    accumulate: bool = False
    tag: int = 0


@dataclass(frozen=True)
class Unpack:
    """``a, b = value``: several names from one tuple (the arguments of a jvp function)."""

    targets: tuple[str, ...]
    value: Expr
    tag: int = 0  # (the forward line it is for, if any: its errors name that line)


@dataclass(frozen=True)
class Delete:
    """``del a, b``: forward values no later code reads, freed early (their memory)."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class Effect:
    """An expression evaluated for its effect only (a run-time check).

    ``setup``: it configures the context of the ``with`` block it stands in (a warnings
    filter), so the backward pass runs it again when it enters that context again."""

    value: Expr
    tag: int = 0
    setup: bool = False
    #: why srcad added it (a check of its own: no tag), shown as a comment
    note: str = ""
    #: it always raises (the user's ``raise``, a refused path): nothing after it runs
    raises: bool = False
    #: the user's line it checks (a check's error names it)
    loc: Location = UNKNOWN_LOCATION


@dataclass(frozen=True)
class Enter:
    """``with manager as target:`` -- the statements after it in the same block, up to
    the matching :class:`Exit`, run inside the context ``manager`` makes (emitted as a
    ``with`` statement, so the context is left however the block ends).

    A pair of flat statements, like :class:`Push` and :class:`Pop`: to every analysis
    the block is straight-line code. ``target`` (the ``as`` name) is never active."""

    manager: Expr
    target: str | None = None
    tag: int = 0
    loc: Location = UNKNOWN_LOCATION


@dataclass(frozen=True)
class Exit:
    """The end of the block opened by the nearest unmatched :class:`Enter` before it."""

    tag: int = 0


@dataclass(frozen=True)
class Python:
    """Ordinary Python that the forward pass runs as written, once: a ``try`` statement
    whose code touches no differentiated value (partial evaluation).

    ``code`` holds its statements as ``ast`` nodes whose variables already carry the
    listing's names; ``reads`` are the names it reads (values made before it),
    ``writes`` the names it binds (none of them active). ``read_at`` holds, for errors,
    each name of ``reads`` with the place the user's code reads it and the user's name.

    A ``probe`` runs a library's ``try`` statement that srcad differentiates along its
    body (see ``Lowerer.lower_Try``) only to learn whether an ``except`` clause runs: what
    it binds is read by nothing but that test, and it writes nothing in place."""

    code: tuple[Any, ...]
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    tag: int = 0
    loc: Location = UNKNOWN_LOCATION
    read_at: tuple[tuple[str, Location, str], ...] = ()
    probe: bool = False


@dataclass(frozen=True)
class Comment:
    """A comment line; a ``header`` is dropped when no statement follows it in its group."""

    text: str
    header: bool = False


@dataclass(frozen=True)
class Section(Comment):
    """Where a gradient's forward or backward pass starts (shown as a comment; passes
    find it by its kind, never by comment text): :data:`FORWARD` or :data:`BACKWARD`."""


FORWARD = Section("forward pass")
BACKWARD = Section("backward pass")


@dataclass(frozen=True)
class Backprop:
    """The header over one forward gate's adjoint lines: ``# backprop <forward line>``."""

    forward: Assign


@dataclass(frozen=True)
class Return:
    value: Expr
    loc: Location = UNKNOWN_LOCATION


@dataclass(frozen=True)
class AdjointItem:
    """``target[index] += value``: a contribution to one element of a container's adjoint
    (or, with ``zero``, ``target[index] = 0.0``: items a forward write replaced)."""

    target: str
    index: Expr
    value: Expr
    tag: int = 0
    via: str | None = None  # a helper (``add_at``) when the index may repeat elements
    zero: bool = False  # ``target[index] = 0.0`` instead of adding ``value``
    assign: bool = False  # ``target[index] = value`` (a tangent of an item write)


@dataclass(frozen=True)
class Tape:
    """The stack that :class:`Push` and :class:`Pop` use, made before the forward pass:
    ``stack = []``, ``push = stack.append``, ``pop = stack.pop``; ``reversed`` and ``zip``
    name those builtins where a loop runs over saved values (:func:`srcad.tape.loop_tapes`)."""

    stack: str = "stack"
    push: str = "push"
    pop: str = "pop"
    reversed: str = "reversed"
    zip: str = "zip"


@dataclass(frozen=True)
class Push:
    """Save ``name``'s current value before a loop overwrites it: ``push(name)``, or with
    ``top``, ``via[top] = name; top += 1`` (a preallocated tape, see srcad.numba_backend)."""

    name: str
    via: str = "push"
    top: str | None = None


@dataclass(frozen=True)
class Pop:
    """Restore the value the matching :class:`Push` saved: ``name = pop()``, or with
    ``top``, ``top -= 1; name = via[top]``."""

    name: str
    via: str = "pop"
    top: str | None = None


@dataclass(frozen=True)
class If:
    test: Expr
    body: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...] = ()
    tag: int = 0
    loc: Location = UNKNOWN_LOCATION


@dataclass(frozen=True)
class Loop:
    """A loop, in one of three shapes.

    - ``for index in iterable: body`` (``iterable`` is an expression such as
      ``range(n)`` or ``reversed(range(n))``);
    - ``while <test>; cond: body`` (``test`` computes ``cond`` before each iteration);
    - either one with ``counter`` (the number of iterations run, for the backward
      pass) and ``exit_flag`` (``if exit_flag: break`` ends each iteration).

    ``carried`` names the values that flow from one iteration to the next.

    ``restores`` (a backward loop over the values its forward loop saved, see
    :func:`srcad.tape.loop_tapes`): names the iterable's items also bind, after
    ``index`` if there is one: ``for k, x in zip(reversed(range(n)), reversed(tape_x))``.
    """

    body: tuple[Stmt, ...]
    index: str | None = None
    iterable: Expr | None = None
    test: tuple[Stmt, ...] = ()
    cond: Expr | None = None
    counter: str | None = None
    exit_flag: str | None = None
    carried: tuple[str, ...] = ()
    tag: int = 0
    loc: Location = UNKNOWN_LOCATION
    restores: tuple[str, ...] = ()


Stmt = (
    Assign
    | Adjoint
    | AdjointItem
    | Effect
    | Comment
    | Backprop
    | Return
    | Tape
    | Push
    | Pop
    | If
    | Loop
    | Unpack
    | Delete
    | Enter
    | Exit
    | Python
)

#: a statement of one kind (what :func:`with_blocks` returns has its argument's kind)
_S = TypeVar("_S", bound=Stmt)


def blocks_of(stmt: Stmt) -> tuple[tuple[Stmt, ...], ...]:
    """The statement lists nested directly inside ``stmt``."""
    if stmt.__class__ is not If and stmt.__class__ is not Loop:
        return ()  # (most statements have no blocks: asked for every one, again and again)
    if isinstance(stmt, If):
        return (stmt.body, stmt.orelse)
    if isinstance(stmt, Loop):
        return (stmt.test, stmt.body)
    return ()


def with_blocks(stmt: _S, blocks: Iterable[Iterable[Stmt]]) -> _S:
    """``stmt`` with its nested statement lists replaced (in :func:`blocks_of`'s order)."""
    first, second = (tuple(b) for b in blocks)
    if isinstance(stmt, If):
        return replace(stmt, body=first, orelse=second)
    assert isinstance(stmt, Loop)  # (the only other kind with blocks)
    return replace(stmt, test=first, body=second)


def nodes(expr: Expr) -> list[Expr]:
    """``expr`` and every expression inside it."""
    out, stack = [], [expr]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(children(node))
    return out


def expressions_of(stmt: Stmt) -> tuple[Expr, ...]:
    """The expressions a statement holds itself (not those of its nested blocks)."""
    if isinstance(stmt, Assign | Adjoint | Effect | Return | Unpack):
        return (stmt.value,)
    if isinstance(stmt, AdjointItem):
        return (stmt.index, stmt.value)
    if isinstance(stmt, If):
        return (stmt.test,)
    if isinstance(stmt, Loop):
        return tuple(e for e in (stmt.iterable, stmt.cond) if e is not None)
    return ()


def walk(body: tuple[Stmt, ...] | list[Stmt]) -> Iterator[Stmt]:
    """Every statement of ``body``, nested ones included, in program order."""
    for stmt in body:
        yield stmt
        for block in blocks_of(stmt):
            yield from walk(block)


class Transformer:
    """Rewrites a list of statements, one kind at a time, like :class:`ast.NodeTransformer`.

    ``visit_<Kind>`` (``visit_Assign``, ``visit_Loop``, ...) returns what replaces one
    statement: a statement, a list of statements, or None to drop it. A kind without a
    method is kept, with its blocks rewritten (:meth:`generic_visit`); a method that
    wants the blocks of its statement rewritten too calls ``generic_visit`` itself,
    before or after its own change. A statement nothing changed is kept as it is."""

    def visit_body(self, body: Iterable[Stmt]) -> tuple[Stmt, ...]:
        out: list[Stmt] = []
        for stmt in body:
            result = self.visit(stmt)
            if isinstance(result, list):
                out.extend(result)
            elif result is not None:
                out.append(result)
        return tuple(out)

    def visit(self, stmt: Stmt) -> Stmt | list[Stmt] | None:
        method = getattr(self, f"visit_{type(stmt).__name__}", self.generic_visit)
        return method(stmt)

    def generic_visit(self, stmt: _S) -> _S:
        blocks = blocks_of(stmt)
        if not blocks:
            return stmt
        new = [self.visit_body(block) for block in blocks]
        if all(_same(a, b) for a, b in zip(new, blocks)):
            return stmt
        return with_blocks(stmt, new)


def _same(a: tuple[Stmt, ...], b: tuple[Stmt, ...]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def targets_of(stmt: Stmt) -> tuple[str, ...]:
    """Names a simple statement writes (for compound ones: their own bookkeeping names)."""
    if isinstance(stmt, Assign | Adjoint):
        return (stmt.target,)
    if isinstance(stmt, Pop):
        return (stmt.name,)
    if isinstance(stmt, Tape):
        return (stmt.stack, stmt.push, stmt.pop)
    if isinstance(stmt, Unpack):
        return stmt.targets
    if isinstance(stmt, Loop):
        return tuple(n for n in (stmt.index, stmt.counter) if n)
    if isinstance(stmt, Enter):
        return (stmt.target,) if stmt.target else ()
    if isinstance(stmt, Python):
        return stmt.writes
    return ()


def reads_of(stmt: Stmt) -> tuple[str, ...]:
    """Names a statement reads itself (not counting nested blocks), in order. (Kept with
    the statement, which never changes: the passes ask again and again.)"""
    found: tuple[str, ...] | None = stmt.__dict__.get("_reads")
    if found is None:
        found = tuple(_reads(stmt))
        object.__setattr__(stmt, "_reads", found)
    return found


def _reads(stmt: Stmt) -> Iterator[str]:
    if isinstance(stmt, Assign):
        yield from names_in(stmt.value)
        for operand in stmt.operands:  # (an item write's value is an operand only)
            yield from names_in(operand)
    elif isinstance(stmt, Effect | Return | Unpack):
        yield from names_in(stmt.value)
    elif isinstance(stmt, Enter):
        yield from names_in(stmt.manager)
    elif isinstance(stmt, Python):
        yield from stmt.reads
    elif isinstance(stmt, Adjoint):
        yield from names_in(stmt.value)
        if stmt.accumulate:
            yield stmt.target
    elif isinstance(stmt, AdjointItem):
        yield stmt.target
        yield from names_in(stmt.index)
        yield from names_in(stmt.value)
        if stmt.via:
            yield stmt.via
    elif isinstance(stmt, Push | Pop):
        if isinstance(stmt, Push):
            yield stmt.name
        yield stmt.via
        if stmt.top:
            yield stmt.top
    elif isinstance(stmt, If):
        yield from names_in(stmt.test)
    elif isinstance(stmt, Loop):
        if stmt.iterable is not None:
            yield from names_in(stmt.iterable)
        if stmt.cond is not None:
            yield from names_in(stmt.cond)
        if stmt.exit_flag:
            yield stmt.exit_flag
        if stmt.counter:
            yield stmt.counter


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
    #: why calls at these places have no derivative (code srcad could not read)
    refusals: Mapping[Location, Any] = field(default_factory=dict)
    #: lines of inlined code from other files -> (the user's call that reached them, callee)
    call_sites: Mapping[Location, tuple[Location, Any]] = field(default_factory=dict)
    #: adjoints that hold Python numbers (the float version's): sharing one is harmless
    number_adjoints: frozenset[str] = frozenset()
    #: what it returns when its backward pass (a tangent function: its body) raises on
    #: Python floats (a derivative a Python float cannot hold, ``1 / x`` of ``np.log(x)``
    #: at 0.0, where numpy's floats give inf or nan): the array version's gradient (or
    #: its own, :data:`ITSELF`) for numpy floats (see :mod:`srcad.float_errors`)
    on_float_error: Expr | None = None

    def user_location(
        self, loc: Location, origin: Callable[[Location], Location | None] = lambda loc: None
    ) -> Location:
        """The user's line for ``loc``: the user's call that reached it, when ``loc`` is
        in another file's inlined code (following calls from one library into another),
        or, where ``origin`` knows one, the user's line generated code came from (second
        derivatives inline forward mode's code)."""
        seen = {loc}
        while (found := origin(loc)) is None and loc in self.call_sites:
            loc = self.call_sites[loc][0]
            if loc in seen:  # pragma: no cover - a call site is never inside its own callee
                break
            seen.add(loc)
        return loc if found is None else found

    def with_body(self, body: tuple[Stmt, ...] | list[Stmt], **changes: Any) -> Function:
        return replace(self, body=tuple(body), **changes)

    def names(self) -> set[str]:
        """Every name the function mentions: params, targets, reads and bindings."""
        found = set(self.params) | set(self.kwonly) | set(self.bindings) | set(self.free_cells)
        for stmt in walk(self.body):
            found.update(targets_of(stmt))
            found.update(reads_of(stmt))
        return found


#: The name that stands for the function itself in :attr:`Function.on_float_error`
#: (emitted as the function's name: a function renamed later stays right).
ITSELF = "\0itself"


def _rename_name(name: str | None, mapping: Mapping[str, str]) -> str | None:
    return mapping.get(name, name) if name is not None else None


def rename(body: tuple[Stmt, ...] | list[Stmt], mapping: Mapping[str, str]) -> tuple[Stmt, ...]:
    """``body`` with every variable in ``mapping`` renamed, reads and writes, nested blocks too."""
    if not mapping:
        return tuple(body)
    as_exprs = {old: Name(new) for old, new in mapping.items()}

    def sub(expr: Expr) -> Expr:
        return substitute(expr, as_exprs)

    def sub_optional(expr: Expr | None) -> Expr | None:
        return None if expr is None else sub(expr)

    out: list[Stmt] = []
    for stmt in body:
        if type(stmt) in _RENAMED_BY_READS and (  # (most statements name none of them:
            getattr(stmt, "target", None) not in mapping  # kept, not rebuilt)
            and mapping.keys().isdisjoint(reads_of(stmt))
        ):
            out.append(stmt)
            continue
        if isinstance(stmt, Assign):
            stmt = replace(
                stmt,
                target=mapping.get(stmt.target, stmt.target),
                value=sub(stmt.value),
                operands=tuple(sub(o) for o in stmt.operands),
            )
        elif isinstance(stmt, Adjoint):
            stmt = replace(
                stmt, target=mapping.get(stmt.target, stmt.target), value=sub(stmt.value)
            )
        elif isinstance(stmt, AdjointItem):
            stmt = replace(
                stmt,
                target=mapping.get(stmt.target, stmt.target),
                value=sub(stmt.value),
                index=sub(stmt.index),
            )
        elif isinstance(stmt, Effect | Return):
            stmt = replace(stmt, value=sub(stmt.value))
        elif isinstance(stmt, Enter):
            stmt = replace(
                stmt, manager=sub(stmt.manager), target=_rename_name(stmt.target, mapping)
            )
        elif isinstance(stmt, Python) and (set(stmt.reads) | set(stmt.writes)) & set(mapping):
            stmt = replace(
                stmt,
                code=pycode.rename(stmt.code, mapping),
                reads=tuple(mapping.get(n, n) for n in stmt.reads),
                writes=tuple(mapping.get(n, n) for n in stmt.writes),
                read_at=tuple(
                    (mapping.get(n, n), loc, user) for n, loc, user in stmt.read_at
                ),
            )
        elif isinstance(stmt, Push | Pop):
            stmt = replace(stmt, name=mapping.get(stmt.name, stmt.name))
        elif isinstance(stmt, Backprop):
            forward = rename((stmt.forward,), mapping)[0]
            assert isinstance(forward, Assign)  # renaming keeps each statement's kind
            stmt = Backprop(forward)
        elif isinstance(stmt, If):
            stmt = replace(
                stmt,
                test=sub(stmt.test),
                body=rename(stmt.body, mapping),
                orelse=rename(stmt.orelse, mapping),
            )
        elif isinstance(stmt, Loop):
            stmt = replace(
                stmt,
                body=rename(stmt.body, mapping),
                test=rename(stmt.test, mapping),
                index=_rename_name(stmt.index, mapping),
                iterable=sub_optional(stmt.iterable),
                cond=sub_optional(stmt.cond),
                counter=_rename_name(stmt.counter, mapping),
                exit_flag=_rename_name(stmt.exit_flag, mapping),
                carried=tuple(mapping.get(c, c) for c in stmt.carried),
            )
        out.append(stmt)
    return tuple(out)


#: statements whose every name :func:`rename` changes is their target or a read
_RENAMED_BY_READS = frozenset((Assign, Adjoint, AdjointItem, Effect, Return))


def without_empty_contexts(body: list[Stmt]) -> list[Stmt]:
    """``body`` without ``with`` blocks (Enter ... Exit) that hold nothing but comments
    and their own configuration, and bind no name."""
    out: list[Stmt] = []
    opened: list[int] = []  # positions in ``out`` of the Enters still open
    for stmt in body:
        out.append(stmt)
        if isinstance(stmt, Enter):
            opened.append(len(out) - 1)
        elif isinstance(stmt, Exit) and opened:
            start = opened.pop()
            inner = out[start + 1 : -1]
            enter = out[start]
            assert isinstance(enter, Enter)  # ``opened`` holds positions of Enters only
            if enter.target is None and all(
                isinstance(s, Comment | Backprop) or (isinstance(s, Effect) and s.setup)
                for s in inner
            ):
                del out[start:]
    return out


def defined_in(body: tuple[Stmt, ...] | list[Stmt]) -> set[str]:
    """Every name written anywhere in ``body`` (nested blocks included)."""
    found: set[str] = set()
    for stmt in walk(body):
        found.update(targets_of(stmt))
    return found


def redefined_in(body: tuple[Stmt, ...] | list[Stmt]) -> set[str]:
    """Names ``body`` gives a new value, nested blocks included; not counting in-place
    writes (``out[i] = v``, ``y *= w``), after which a name still holds the same object."""
    found: set[str] = set()
    for stmt in walk(body):
        if isinstance(stmt, Assign):
            if not (stmt.in_place and stmt.writes_own_operand):
                found.add(stmt.target)
        else:
            found.update(targets_of(stmt))
    return found


def section_index(body: tuple[Stmt, ...] | list[Stmt], section: Section = BACKWARD) -> int | None:
    """Where ``section`` (a gradient's backward pass, by default) starts in ``body``, or
    None (a tangent function has none)."""
    return next((i for i, s in enumerate(body) if s == section), None)


def loop_counters(body: tuple[Stmt, ...] | list[Stmt]) -> set[str]:
    """The counters of the loops in ``body`` (nested ones too): ints."""
    return {s.index for s in walk(body) if isinstance(s, Loop) and s.index}


def has_loops(body: tuple[Stmt, ...] | list[Stmt]) -> bool:
    """Whether ``body`` holds a loop (nested ones too): the passes about saved values and
    loops have nothing to do in straight-line code."""
    return any(s.__class__ is Loop for s in walk(body))


def settles_in_one_pass(
    body: tuple[Stmt, ...] | list[Stmt], bound: Mapping[str, int], given: Collection[str]
) -> bool:
    """Whether a fixed point over ``body``'s definitions takes one pass in program order:
    no loops, each name bound once (``bound``: how many times), and none of ``given``
    (parameters, read before a binding of theirs) bound again."""
    return (
        all(count == 1 for count in bound.values())
        and not bound.keys() & set(given)
        and not has_loops(body)
    )


def read_in(body: tuple[Stmt, ...] | list[Stmt]) -> set[str]:
    """Every name read anywhere in ``body`` (nested blocks included)."""
    found: set[str] = set()
    for stmt in walk(body):
        found.update(reads_of(stmt))
    return found
