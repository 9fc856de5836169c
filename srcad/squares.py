"""Squares of roots and norms kept in a variable: their derivative from the root's argument.

A square root, a hypotenuse, a 2-norm or an absolute value has no second derivative at
the origin (the root's own slope there is a subgradient, or 0 / 0), but its square is
smooth there: ``|x|**2`` has the Hessian ``2 I`` at ``x = 0``. The derivative table
holds the squares written as one expression (``np.linalg.norm(x) ** 2``, ``math.hypot(x,
y) ** 2``, ``np.sqrt(s) ** 2``, ``abs(x) ** 2``) as one gate each, whose derivative is
written over the root's argument (``2 x``). This pass gives the same derivative to the
square of a root the code keeps in a variable first::

    r = np.linalg.norm(x)        # a root: its gate as it is
    t = r ** 2                   # (or r * r, np.square(r)): the rule of
                                 # `np.linalg.norm(x) ** 2`, over the operand x
    pen = lam * r * r            # (lam * r) * r: lam * |x|**2, over lam and x
    k = (r / ell) ** 2           # |x|**2 / ell**2, over ell and x

Only the derivative changes: each line computes its value as the user wrote it (from
``r``), so the function's value is the same to the bit; ``r``'s other uses keep the
root's own derivative. The gate's operands are the root's (``x``), which must still hold
what they held when the root was computed: a root is forgotten at a line that binds one
of its operands again, and at anything that may change a value in place (an item
write, a call without a rule, plain Python), conservatively. A root made before a loop
or a branch is seen inside it only when nothing there rebinds or changes its operands.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import ir, pyexpr
from .chains import MISSING, static_chain
from .rules import TABLE
from .rules.table import Rule, index_key

# ---------------------------------------------------------------- the roots and their squares
_ENV: dict[str, Any] = {"np": np, "math": math, "abs": abs, "pow": pow}

#: Each root's pattern (as the table holds it), and its square's, one gate over the same
#: parameters (the norm's square: also along an axis; see :func:`_norm_square`).
_SQUARES = (
    ("np.sqrt(x)", "np.sqrt(x) ** 2"),
    ("math.sqrt(x)", "math.sqrt(x) ** 2"),
    ("abs(x)", "abs(x) ** 2"),
    ("math.fabs(x)", "abs(x) ** 2"),
    ("np.abs(x)", "np.abs(x) ** 2"),
    ("np.absolute(x)", "np.abs(x) ** 2"),
    ("np.fabs(x)", "np.abs(x) ** 2"),
    ("np.hypot(x, y, dtype=None)", "np.hypot(x, y) ** 2"),
    *(
        (f"math.hypot({p})", f"math.hypot({p}) ** 2")
        for p in ("x", "x, y", "x, y, z", *(
            ", ".join(f"x{k}" for k in range(n)) for n in range(4, 9)
        ))
    ),
)
_NORM = "np.linalg.norm(x, ord=None, axis=None, keepdims=False)"
_STD = "axis=None, ddof=0, keepdims=False"


def _table_rule(text: str) -> Rule | None:
    """The built-in rule of the table whose pattern is ``text`` (None: none is)."""
    pattern = pyexpr.parse(text)
    key = index_key(pattern, lambda e: static_chain(e, lambda n: _ENV.get(n, MISSING)))
    found = [] if key is None else [
        r for r in TABLE.candidates(key) if r.pattern == pattern and not r.user
    ]
    return found[0] if found else None


@dataclass(frozen=True)
class _Catalogue:
    """The squares of the roots, by the root's rule: what maps a root's operands (by
    parameter) to its square's rule and operands, or None (``ord=1``: not a 2-norm)."""

    squares: dict[int, Callable[[dict[str, ir.Expr]], tuple[Rule, tuple[ir.Expr, ...]] | None]]
    #: the rule of ``np.square(x)``: a square too
    square: Rule | None
    #: the rules of ``np.power(x, y)``, ``pow(x, y)``, ``math.pow(x, y)``: squares where
    #: ``y`` is 2
    powers: frozenset[int]
    #: squares whose result is one number for any operand (a norm over all of ``x``)
    totals: frozenset[int]


@functools.lru_cache(maxsize=4)
def _catalogue(version: int) -> _Catalogue:
    """The catalogue for the table at ``version`` (a user's rule may take a root's place)."""
    del version  # (the cache's key only)
    squares: dict[int, Any] = {}
    for root_text, square_text in _SQUARES:
        root, square = _table_rule(root_text), _table_rule(square_text)
        if root is not None and square is not None:
            squares[id(root)] = functools.partial(_by_parameter, square)
    norm = _table_rule(_NORM)
    total = _table_rule("np.linalg.norm(x) ** 2")
    along = _table_rule("np.linalg.norm(x, axis=axis) ** 2")
    if norm is not None and total is not None and along is not None:
        squares[id(norm)] = functools.partial(_norm_square, total, along)
    std_total = _table_rule("np.std(x) ** 2")  # (a standard deviation's square: the
    std_along = _table_rule("np.std(x, axis=axis) ** 2")  # variance, at a constant too)
    if std_total is not None and std_along is not None:
        for std in (
            _table_rule(f"np.std(x, {_STD})"), _table_rule(f"x.std({_STD})"),
            _table_rule("np.std(x, axis=None, correction=0, keepdims=False)"),  # (numpy 2)
        ):
            if std is not None:
                squares[id(std)] = functools.partial(_std_square, std_total, std_along)
    powers = (_table_rule(p) for p in ("np.power(x, y, dtype=None)", "pow(x, y)", "math.pow(x, y)"))
    return _Catalogue(
        squares,
        _table_rule("np.square(x)"),
        frozenset(id(p) for p in powers if p is not None),
        frozenset(id(t) for t in (total, std_total) if t is not None),
    )


def _by_parameter(
    square: Rule, operands: dict[str, ir.Expr]
) -> tuple[Rule, tuple[ir.Expr, ...]] | None:
    """``square`` over the root's operands of the same names (a ``dtype=`` left at None)."""
    if any(p not in square.params and v != ir.Const(None) for p, v in operands.items()):
        return None
    return square, tuple(operands[p] for p in square.params)


def _norm_square(
    total: Rule, along: Rule, operands: dict[str, ir.Expr]
) -> tuple[Rule, tuple[ir.Expr, ...]] | None:
    """The square of a 2-norm (Frobenius: ``ord`` left out), over all of ``x`` or along
    an axis, without ``keepdims``."""
    if operands["ord"] != ir.Const(None) or operands["keepdims"] != ir.Const(False):
        return None
    if operands["axis"] == ir.Const(None):
        return total, (operands["x"],)
    return along, (operands["x"], operands["axis"])


def _std_square(
    total: Rule, along: Rule, operands: dict[str, ir.Expr]
) -> tuple[Rule, tuple[ir.Expr, ...]] | None:
    """The square of a standard deviation (``ddof``, or the standard's ``correction``, 0;
    no ``keepdims``), over all of ``x`` or along an axis: the variance."""
    ddof = operands.get("ddof", operands.get("correction"))
    if ddof != ir.Const(0) or operands["keepdims"] != ir.Const(False):
        return None
    if operands["axis"] == ir.Const(None):
        return total, (operands["x"],)
    return along, (operands["x"], operands["axis"])


# ---------------------------------------------------------------- what the listing holds
@dataclass(frozen=True)
class _Root:
    """A value ``name`` that is a root of its gate's operands, and its square's gate."""

    name: str
    gate: ir.Assign
    square: Rule
    operands: tuple[ir.Expr, ...]
    #: the square is one number (a scale of it must be summed over: ``c * r * r``, ``c``
    #: an array); otherwise it is elementwise
    total: bool

    @property
    def reads(self) -> set[str]:
        """The names whose new value would make this record wrong."""
        return {self.name, *(n for o in self.gate.operands for n in ir.names_in(o))}

    def same(self, other: _Root) -> bool:
        """The same root: the same name, or the same gate on the same operands
        (``np.sqrt(s) * np.sqrt(s)`` computes it twice)."""
        return self.name == other.name or (
            self.gate.rule is other.gate.rule
            and self.gate.value == other.gate.value
            and self.gate.operands == other.gate.operands
        )


@dataclass(frozen=True)
class _Scaled:
    """A value ``name = factor * root`` (``root * factor``) or ``root / factor``."""

    name: str
    factor: ir.Expr
    root: _Root
    divided: bool

    @property
    def reads(self) -> set[str]:
        return {self.name, *ir.names_in(self.factor), *self.root.reads}


_Known = dict[str, "_Root | _Scaled"]


def squares_of_roots(fn: ir.Function) -> ir.Function:
    """``fn`` with each square of a root (see the module) given its square's rule."""
    catalogue = _catalogue(TABLE.version)
    if not catalogue.squares:
        return fn
    counts: dict[str, int] = {}
    for stmt in ir.walk(fn.body):
        for target in ir.targets_of(stmt):
            counts[target] = counts.get(target, 0) + 1
    rewriter = _Rewriter(catalogue, counts)
    body = rewriter.block(fn.body, {})
    return fn.with_body(body) if rewriter.changed else fn


class _Rewriter:
    def __init__(self, catalogue: _Catalogue, counts: dict[str, int]) -> None:
        self.catalogue = catalogue
        self.counts = counts
        self.changed = False

    def block(self, body: Iterable[ir.Stmt], known: _Known) -> tuple[ir.Stmt, ...]:
        """``body`` rewritten; ``known``: the roots and scaled roots valid on entry
        (changed as the block goes)."""
        out: list[ir.Stmt] = []
        for stmt in body:
            if isinstance(stmt, ir.If | ir.Loop):
                inside = list(ir.walk([stmt]))
                if isinstance(stmt, ir.Loop):  # (the next round: after anything inside)
                    _forget(known, inside)
                new = ir.with_blocks(
                    stmt, [self.block(b, dict(known)) for b in ir.blocks_of(stmt)]
                )
                _forget(known, inside)
                out.append(stmt if all(
                    a is b for a, b in zip(ir.blocks_of(new), ir.blocks_of(stmt))
                ) else new)
                continue
            if isinstance(stmt, ir.Assign):
                new_stmt = self.squared(stmt, known)
                if new_stmt is not stmt:
                    self.changed = True
                _forget(known, [stmt])
                self.learn(stmt, known)
                out.append(new_stmt)
                continue
            _forget(known, [stmt])
            out.append(stmt)
        return tuple(out)

    def learn(self, stmt: ir.Assign, known: _Known) -> None:
        """Record ``stmt`` if it makes a root or a scaled root (bound once)."""
        if self.counts.get(stmt.target) != 1 or _changes(stmt) or stmt.rule is None:
            return
        square = self.catalogue.squares.get(id(stmt.rule))
        if square is not None:
            found = square(dict(zip(stmt.rule.params, stmt.operands)))
            if found is not None:
                rule, operands = found
                total = id(rule) in self.catalogue.totals
                known[stmt.target] = _Root(stmt.target, stmt, rule, operands, total)
                return
        value = stmt.value
        if isinstance(value, ir.UnaryOp) and value.op == "-" and (
            root := _root_of(value.operand, known)
        ) is not None:  # (-r, as Python reads -r * r: (-r) * r)
            known[stmt.target] = _Scaled(stmt.target, ir.Const(-1.0), root, False)
        if isinstance(value, ir.BinOp) and value.op in ("*", "/"):
            left, right = _root_of(value.left, known), _root_of(value.right, known)
            if value.op == "/" and left is not None and right is None:
                known[stmt.target] = _Scaled(stmt.target, value.right, left, True)
            elif value.op == "*" and (left is None) != (right is None):
                root = left or right
                assert root is not None  # (one of the two)
                factor = value.right if left is not None else value.left
                known[stmt.target] = _Scaled(stmt.target, factor, root, False)

    def squared(self, stmt: ir.Assign, known: _Known) -> ir.Assign:
        """``stmt`` with its square's rule if it squares a root (else itself)."""
        if stmt.rule is None or _changes(stmt):
            return stmt
        value = stmt.value
        pair: tuple[ir.Expr, ir.Expr] | None = None
        if isinstance(value, ir.BinOp) and value.op == "**" and _is_two(value.right):
            pair = (value.left, value.left)
        elif isinstance(value, ir.BinOp) and value.op == "*":
            pair = (value.left, value.right)
        elif stmt.rule is self.catalogue.square and self.catalogue.square is not None:
            pair = (stmt.operands[0], stmt.operands[0])
        elif id(stmt.rule) in self.catalogue.powers and _is_two(stmt.operands[1]) and all(
            o == ir.Const(None) for o in stmt.operands[2:]
        ):  # (np.power(r, 2), pow(r, 2))
            pair = (stmt.operands[0], stmt.operands[0])
        if pair is None:
            return stmt
        first, second = (
            known.get(e.id) if isinstance(e, ir.Name) else None for e in pair
        )
        if isinstance(first, _Root) and isinstance(second, _Root) and first.same(second):
            return replace(stmt, rule=first.square, operands=first.operands)
        if isinstance(first, _Root) and isinstance(second, _Scaled):
            first, second = second, first  # (r * (c * r))
        if (
            isinstance(first, _Scaled) and isinstance(second, _Root)
            and first.root.same(second)
        ):  # (c * r) * r, (r / c) * r
            return self.scaled(stmt, first, "over once" if first.divided else "times")
        if isinstance(first, _Scaled) and isinstance(second, _Scaled) and (
            first.name == second.name
        ):  # (c * r) ** 2, (r / c) ** 2
            return self.scaled(stmt, first, "over" if first.divided else "times twice")
        return stmt

    def scaled(self, stmt: ir.Assign, scaled: _Scaled, how: str) -> ir.Assign:
        root = scaled.root
        constant = isinstance(scaled.factor, ir.Const) and type(scaled.factor.value) in (
            int, float
        )
        if not (root.square.elementwise or root.total or constant):
            return stmt  # (a norm along an axis, scaled by an array: not one shape)
        rule = _scaled_square(root.square, how, root.total)
        if rule is None:
            return stmt
        return replace(
            stmt, rule=rule, operands=(scaled.factor, ir.Name(root.name), *root.operands)
        )


def _root_of(expr: ir.Expr, known: _Known) -> _Root | None:
    found = known.get(expr.id) if isinstance(expr, ir.Name) else None
    return found if isinstance(found, _Root) else None


def _is_two(expr: ir.Expr) -> bool:
    return (
        isinstance(expr, ir.Const) and type(expr.value) in (int, float) and expr.value == 2
    )


def _changes(stmt: ir.Stmt) -> bool:
    """Whether ``stmt`` may change a value in place (conservatively: a call without a
    rule may; srcad's own checks, comments and ``with`` lines do not)."""
    if isinstance(stmt, ir.Assign):
        return (
            stmt.in_place or stmt.logical or stmt.stateful or stmt.private
            or stmt.rule is None and isinstance(stmt.value, ir.Call)
        )
    if isinstance(stmt, ir.Effect):
        return not stmt.note and not stmt.raises
    return not isinstance(stmt, ir.Comment | ir.Enter | ir.Exit | ir.Return | ir.Unpack)


def _forget(known: _Known, stmts: list[ir.Stmt]) -> None:
    """Forget what ``stmts`` may make wrong: all, if one may change a value in place;
    else what reads a name one of them binds."""
    if any(_changes(s) for s in stmts if not isinstance(s, ir.If | ir.Loop)):
        known.clear()
        return
    bound = {t for s in stmts for t in ir.targets_of(s)}
    for s in stmts:
        if isinstance(s, ir.Loop):
            bound.update(s.carried)
    for name in [n for n, entry in known.items() if entry.reads & bound]:
        del known[name]


# ---------------------------------------------------------------- scaled squares
_G, _T = ir.Name("g"), ir.Name("t")
_FACTOR, _ROOT = ir.Name("factor"), ir.Name("root")


def _times(*factors: ir.Expr) -> ir.Expr:
    product = factors[0]
    for factor in factors[1:]:
        product = ir.BinOp("*", product, factor)
    return product


@functools.lru_cache(maxsize=64)
def _scaled_square(square: Rule, how: str, total: bool) -> Rule | None:
    """The rule of ``c * r * r`` (how: "times"), ``r / c * r`` ("over once"),
    ``(c * r) ** 2`` ("times twice") or ``(r / c) ** 2`` ("over"), ``r`` a root whose
    square has the rule ``square``: over the parameters ``factor`` (``c``), ``root``
    (``r``, read only) and ``square``'s. The square's templates are used with its
    adjoint (its tangent) scaled; the scaled adjoint summed where the square is one
    number (``total``) and ``c`` may be an array."""
    templates = (*square.adjoints, *square.tangents)
    if any(isinstance(t, ir.Expr) and "ans" in ir.names_in(t) for t in templates) or not (
        square.elementwise or square.tangents
    ):
        return None
    # d(result)/d(square), and the factor's template (over g; ans: the result)
    scale: ir.Expr
    factor: ir.Expr
    if how == "times":
        scale = _FACTOR
        factor = _times(_ROOT, _ROOT, _G)
    elif how == "over once":
        scale = ir.BinOp("/", ir.Const(1.0), _FACTOR)
        factor = _times(ir.UnaryOp("-", ir.BinOp("/", ir.Name("ans"), _FACTOR)), _G)
    elif how == "times twice":
        scale = _times(_FACTOR, _FACTOR)
        factor = _times(ir.Const(2.0), _FACTOR, _ROOT, _ROOT, _G)
    else:
        scale = ir.BinOp("/", ir.Const(1.0), _times(_FACTOR, _FACTOR))
        factor = _times(ir.Const(-2.0), ir.BinOp("/", ir.Name("ans"), _FACTOR), _G)
    spread = _times(scale, _G)
    if total:
        spread = ir.Call(ir.Attr(ir.Name("np"), "sum"), (spread,))
    adjoints: list[Any] = [factor, None]
    tangents: list[ir.Expr | None] = [ir.substitute(factor, {"g": _T}), None]
    for param in square.params:
        template = square.adjoint_for(param)
        adjoints.append(
            ir.substitute(template, {"g": spread}) if isinstance(template, ir.Expr) else None
        )
        tangent = square.tangent_for(param)
        tangents.append(None if tangent is None else _times(scale, tangent))
    pattern = {  # (the parameters' names: as the code reads, c * r * r)
        "times": "factor * root * root", "over once": "root / factor * root",
        "times twice": "(factor * root) ** 2", "over": "(root / factor) ** 2",
    }[how]
    return Rule(
        name=f"{square.name}, scaled: {pattern}",
        pattern=pyexpr.parse(pattern),
        params=("factor", "root", *square.params),
        adjoints=tuple(adjoints),
        env={**square.env, "np": np},
        broadcasting=not total,  # (a total's adjoints have their operands' shapes)
        elementwise=square.elementwise,
        tangents=tuple(tangents) if square.tangents else (),
    )
