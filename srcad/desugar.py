"""Desugar: rewrite jumps into structured control flow before lowering.

- ``sum(e for x in xs if c)`` (a generator expression or list comprehension summed by
  the builtin ``sum``) becomes a loop before its statement: ``total = 0``, then
  ``for x in xs: if c: total = total + e``; the loop variables are renamed when the
  function uses the same names elsewhere (in Python they are local to the comprehension).
  Any other list comprehension (or generator expression) becomes ``items = []`` and the
  same loop with ``items.append(e)``.
- ``name = lambda args: e`` becomes ``def name(args): return e`` (inlined like any
  nested function).
- ``map(f, xs, ys)`` becomes the generator ``(f(x, y) for x, y in zip(xs, ys))`` (a
  lambda's body in place of the call), and ``functools.reduce(f, xs, start)`` a loop
  ``acc = start`` (or ``xs[0]``), ``for x in xs (xs[1:]): acc = f(acc, x)``;
  ``max(xs, key=f)`` (``min``) a loop that keeps the first item of the largest key;
  ``sorted(xs, key=f, reverse=r)`` the items of ``list(xs)`` in the order of their keys
  (``[items[i] for i in SORTED_ORDER(keys, r)]``: a permutation, as stable as Python's,
  through which the items' gradients flow back), and ``items.sort(key=f)`` that list put
  back into ``items`` (``items.clear()``, ``items.extend(...)``).
- ``list(zip(xs, ys))`` becomes the comprehension ``[(x, y) for x, y in zip(xs, ys)]``.
- ``dict(a=x, b=y)`` becomes the display ``{"a": x, "b": y}``, ``dict(d)`` the copy
  ``d.copy()``, and ``dict(zip(keys, values))`` (a dict comprehension) a loop that sets
  each item.
- A ``return`` inside a loop becomes ``result = value; returned = True; break``, and
  the loop is followed by ``if returned: return result`` (or ``break``, when the loop
  sits inside another loop).
- A statement that changes a list whose operands change it first (``st.append(st.pop()
  * v)``, ``q.append(q.pop(0))``, ``st[0] = st.pop()``) has those operands evaluated
  before it, as Python does: ``value = st.pop() * v``, then ``st.append(value)``.
- ``v = d.setdefault(k, default)`` becomes ``default`` computed, ``if k not in d: d[k] =
  ...``, then ``v = d[k]``; inside an expression (``d[k] = d.setdefault(k, 0.0) + v``) the
  same, before the statement, and the expression reads ``d[k]`` (a name holding it).
- Statements after an ``if`` that may ``return``, ``break`` or ``continue`` move into
  the paths of that ``if`` that do not jump, so every jump ends its path.
- Arithmetic nested more than :data:`_NESTED_PART` levels deep (a polynomial of hundreds
  of terms pasted from a computer algebra system) is computed in parts first, each into
  a name (``partial = ...``), in the order Python evaluates them: the passes that read
  an operation's operands then read a bounded depth, not the whole sum at every ``+``.

The result is still Python syntax (``ast``), with the user's line numbers kept. A
rewriter takes each statement to the method named for its AST class (``rewrite_If``,
``rewrite_For``, ...), as :class:`ast.NodeTransformer` takes expressions to ``visit_<Node>``.
"""

from __future__ import annotations

import ast
import builtins
import contextvars
import copy
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeGuard, TypeVar, cast

from . import astwalk
from .deques import as_lists, deque_call

_JUMPS = (ast.Return, ast.Break, ast.Continue, ast.Raise)


def _fresh(base: str, used: set[str]) -> str:
    name, counter = base, 0
    while name in used:
        counter += 1
        name = f"{base}_{counter}"
    used.add(name)
    return name


_Node = TypeVar("_Node", bound=ast.AST)


def _located(node: _Node, like: ast.AST) -> _Node:
    return ast.fix_missing_locations(ast.copy_location(node, like))


def _contains(stmts: list[ast.stmt], kinds: tuple[type, ...], into_loops: bool) -> bool:
    for stmt in stmts:
        if isinstance(stmt, kinds):
            return True
        if isinstance(stmt, ast.If):
            if _contains(stmt.body, kinds, into_loops) or _contains(stmt.orelse, kinds, into_loops):
                return True
        if isinstance(stmt, ast.With) and _contains(stmt.body, kinds, into_loops):
            return True
        if into_loops and isinstance(stmt, ast.For | ast.While):
            if _contains(stmt.body, kinds, into_loops):
                return True
    return False


def _ends_with_jump(stmts: list[ast.stmt]) -> bool:
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, _JUMPS):
        return True
    if isinstance(last, ast.With):  # (a `return` in it ends every path: srcad.subset)
        return _ends_with_jump(last.body)
    return isinstance(last, ast.If) and _ends_with_jump(last.body) and _ends_with_jump(last.orelse)


def absorb(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """Move the statements after a possibly-jumping ``if`` into its non-jumping paths;
    and after an ``if`` that defines a function (``def act`` in each branch, an
    activation chosen by a setting), the statements up to the last that reads one of
    the functions it defines: each path then calls its own definition, which srcad
    inlines where it compiles the call. (Not past another such ``if``: the copies would
    double at each. A call srcad cannot tell the definition of is refused when lowered.)"""
    out: list[ast.stmt] = []
    index = 0
    while index < len(stmts):
        stmt = stmts[index]
        if isinstance(stmt, _JUMPS):
            out.append(stmt)
            return out  # anything after a jump is never run
        if isinstance(stmt, ast.If) and _contains([stmt], _JUMPS, into_loops=False):
            rest = stmts[index + 1 :]
            stmt.body = absorb(
                stmt.body + ([] if _ends_with_jump(stmt.body) else copy.deepcopy(rest))
            )
            stmt.orelse = absorb(stmt.orelse + ([] if _ends_with_jump(stmt.orelse) else rest))
            out.append(stmt)
            return out
        reading = _readers_of_definitions(stmt, stmts[index + 1 :])
        if reading and isinstance(stmt, ast.If):
            stmt.body = absorb(stmt.body + copy.deepcopy(reading))
            stmt.orelse = absorb(stmt.orelse + reading)
            out.append(stmt)
            index += 1 + len(reading)
            continue
        if isinstance(stmt, ast.With):
            stmt.body = absorb(stmt.body)
            if _ends_with_jump(stmt.body):
                out.append(stmt)
                return out  # (srcad.subset refuses code after it)
        elif isinstance(stmt, ast.For | ast.While):
            stmt.body = absorb(stmt.body)
        elif isinstance(stmt, ast.If):  # no jump of its own, but loops inside may have some
            stmt.body, stmt.orelse = absorb(stmt.body), absorb(stmt.orelse)
        out.append(stmt)
        index += 1
    return out


#: how many ``if`` statements defining functions the lines moved into the paths of
#: another may hold: at most 2**4 copies of the last lines (a layer reading the
#: activation an ``if`` before it chose); more are refused where a call cannot tell
_DEFINING_IFS_MOVED = 3


def _defines_functions(stmt: ast.stmt) -> set[str]:
    """The functions an ``if`` defines in its branches (``def``, named lambdas made defs)."""
    if not isinstance(stmt, ast.If):
        return set()
    found: set[str] = set()
    pending: list[ast.stmt] = [*stmt.body, *stmt.orelse]
    while pending:
        inner = pending.pop()
        if isinstance(inner, ast.FunctionDef):
            found.add(inner.name)
        elif isinstance(inner, ast.If):
            pending += [*inner.body, *inner.orelse]
        elif isinstance(inner, ast.With):
            pending += inner.body
    return found


def _readers_of_definitions(stmt: ast.stmt, rest: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of ``rest`` up to the last that reads a function ``stmt`` (an
    ``if``) defines (all of ``rest`` when one of those may jump); none when there is no
    such function, or when more than ``_DEFINING_IFS_MOVED`` of them are ``if``
    statements that define functions (each moved one doubles what follows it)."""
    defined = _defines_functions(stmt)
    if not defined:
        return []
    last, grown = -1, True
    while grown:  # (a `def` or an `if` moved with them defines functions read later: too)
        last = max((
            k for k, later in enumerate(rest)
            if any(isinstance(n, ast.Name) and n.id in defined for n in astwalk.walk(later))
        ), default=-1)
        more = set().union(*(
            {later.name} if isinstance(later, ast.FunctionDef) else _defines_functions(later)
            for later in rest[: last + 1]
        ))
        grown = not more <= defined
        defined |= more
    reading = rest[: last + 1]
    if _contains(reading, _JUMPS, into_loops=False):
        reading = rest  # (a path that jumps skips the rest: the rest goes into the paths)
    defining = sum(1 for later in reading if _defines_functions(later))
    return reading if defining <= _DEFINING_IFS_MOVED else []


def _rewrite_blocks(stmt: ast.stmt, rewrite: Callable[[list[ast.stmt]], list[ast.stmt]]) -> None:
    """Each statement list nested directly in ``stmt`` (its body, ``else``, ``finally``
    and handlers) replaced by ``rewrite`` of it."""
    for field in ("body", "orelse", "finalbody"):
        block = getattr(stmt, field, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            setattr(stmt, field, rewrite(block))
    for handler in getattr(stmt, "handlers", ()):
        handler.body = rewrite(handler.body)


def _loop_else_as_flag(stmts: list[ast.stmt], used: set[str]) -> list[ast.stmt]:
    """A loop's ``else:`` (``for ...: ... break ... else: E``) as a flag its own
    ``break`` statements set, tested after it: ``broke = False``, the loop (each
    ``break`` as ``broke = True; break``), then ``if not broke: E``. A loop without a
    ``break`` of its own runs ``E`` after it, always."""
    out: list[ast.stmt] = []
    for stmt in stmts:
        if not isinstance(stmt, ast.FunctionDef):
            _rewrite_blocks(stmt, lambda block: _loop_else_as_flag(block, used))
        if not isinstance(stmt, ast.For | ast.While) or not stmt.orelse:
            out.append(stmt)
            continue
        orelse, stmt.orelse = stmt.orelse, []
        if not _own_breaks(stmt.body):
            out += [stmt, *orelse]
            continue
        flag = _fresh("broke", used)
        stmt.body = _BreaksSetting(flag).rewrite(stmt.body)
        unset = _located(ast.Assign([ast.Name(flag, ast.Store())], ast.Constant(False)), stmt)
        test = _located(ast.UnaryOp(ast.Not(), ast.Name(flag, ast.Load())), orelse[0])
        out += [unset, stmt, _located(ast.If(test, orelse, []), orelse[0])]
    return out


class _BreaksSetting:
    """A loop's body with each of its own ``break`` statements setting ``flag`` first."""

    def __init__(self, flag: str) -> None:
        self.flag = flag

    def rewrite(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            if isinstance(stmt, ast.Break):
                out += [_located(ast.Assign([ast.Name(self.flag, ast.Store())],
                                            ast.Constant(True)), stmt), stmt]
                continue
            if not isinstance(stmt, ast.For | ast.While | ast.FunctionDef):
                # (a nested loop's breaks are its own; its `else:` is after it by now)
                _rewrite_blocks(stmt, self.rewrite)
            out.append(stmt)
        return out


class _ExitsAfterLoops:
    """A branch that leaves a loop (``if c: A; return x``, or ``...; break``) runs after
    the loop: in the loop it sets a flag and breaks, and after the loop ``if flag: A;
    return x``. Python's state is the same there: nothing runs between the ``break`` and
    the statement after the loop. The gradient then keeps no branch of the loop's body
    (nor its test, on every pass) for a branch that runs once (a search's exit, a
    converged iteration's result)."""

    def __init__(self, used: set[str]) -> None:
        self.used = used

    def rewrite(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        """``stmts`` with each loop's exits after it (inner loops first)."""
        out: list[ast.stmt] = []
        for stmt in stmts:
            if isinstance(stmt, ast.If):
                stmt.body, stmt.orelse = self.rewrite(stmt.body), self.rewrite(stmt.orelse)
            elif isinstance(stmt, ast.With):
                stmt.body = self.rewrite(stmt.body)
            elif isinstance(stmt, ast.For | ast.While):
                stmt.body = self.rewrite(stmt.body)
                out += self.hoisted(stmt)
                continue
            out.append(stmt)
        return out

    def hoisted(self, loop: ast.For | ast.While) -> list[ast.stmt]:
        """``loop`` and, after it, what its exits ran."""
        exits: list[list[ast.stmt]] = []
        if not loop.orelse:
            _find_exits(loop.body, exits, _item_names(loop))
        if not exits:
            return [loop]
        # (`while True:` left by these breaks alone: after it, one of them ran)
        leaves = {id(block[-1]) for block in exits}
        only_exits = (
            isinstance(loop, ast.While) and isinstance(loop.test, ast.Constant)
            and bool(loop.test.value) and all(id(b) in leaves for b in _own_breaks(loop.body))
        )
        branches: list[tuple[str | None, list[ast.stmt], ast.stmt]] = []
        for index, block in enumerate(exits):
            leave = block[-1]
            kept = block[:-1] if isinstance(leave, ast.Break) else list(block)
            flag = None if only_exits and index == len(exits) - 1 else _fresh(
                "exited", self.used)
            block[:] = [_located(ast.Break(), leave)]
            if flag is not None:
                block.insert(0, _located(
                    ast.Assign([ast.Name(flag, ast.Store())], ast.Constant(True)), leave))
            branches.append((flag, kept, leave))
        after: list[ast.stmt] = []
        for flag, kept, leave in reversed(branches):  # (one ran: an if/elif chain)
            after = kept if flag is None else [
                _located(ast.If(ast.Name(flag, ast.Load()), kept, after), leave)
            ]
        before = [
            _located(ast.Assign([ast.Name(flag, ast.Store())], ast.Constant(False)), loop)
            for flag, _, _ in branches if flag is not None
        ]
        return [*before, loop, *after]


def _item_names(loop: ast.For | ast.While) -> frozenset[str]:
    """The names a ``for`` loop binds to its items, unless they are ``range``'s numbers."""
    if not isinstance(loop, ast.For) or (
        isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Name)
        and _builtin(loop.iter.func, "range")
    ):
        return frozenset()
    return frozenset(n.id for n in astwalk.walk(loop.target) if isinstance(n, ast.Name))


def _own_breaks(stmts: list[ast.stmt]) -> list[ast.Break]:
    """The ``break`` statements of the loop whose body is ``stmts``."""
    found: list[ast.Break] = []
    pending: list[ast.AST] = list(stmts)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Break):
            found.append(node)
        elif not isinstance(node, ast.For | ast.While | ast.FunctionDef | ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))
    return found


def _find_exits(
    stmts: list[ast.stmt], exits: list[list[ast.stmt]], items: frozenset[str]
) -> None:
    """The blocks among ``stmts``'s ``if`` branches (at any depth, not in a nested loop,
    ``with``, ``try`` or function) that leave the loop and may run after it (see
    :func:`_movable_exit`; ``items``: the names the loop binds to its items)."""
    for stmt in stmts:
        if not isinstance(stmt, ast.If):
            continue
        for block in (stmt.body, stmt.orelse):
            if _movable_exit(block, items):
                exits.append(block)
            else:
                _find_exits(block, exits, items)


def _movable_exit(block: list[ast.stmt], items: frozenset[str]) -> bool:
    """``block`` ends in ``return`` or ``break``, holds no other jump of the loop, and
    computes values only: it changes nothing in place (``row *= 2``, ``v[0] = s``,
    ``p.w = s``, ``xs.append(v)``: what an array, an object or a list a loop variable
    holds is srcad's to follow in the loop) and reads none of ``items`` (the loop's item,
    a row, an object: a ``range`` index is a number)."""
    if not block or not isinstance(block[-1], ast.Return | ast.Break):
        return False
    if isinstance(block[-1], ast.Break) and len(block) == 1:
        return False  # (a bare `break`: nothing to move)
    pending: list[ast.AST] = list(block)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Break | ast.Continue) and node is not block[-1]:
            return False
        if isinstance(node, ast.Yield | ast.YieldFrom | ast.Try | ast.With | ast.AugAssign
                      | ast.Delete):
            return False
        if isinstance(node, ast.Subscript | ast.Attribute) and not isinstance(node.ctx, ast.Load):
            return False
        if isinstance(node, ast.Name) and node.id in items:
            return False
        if isinstance(node, ast.Call) and (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in (*CHANGING_METHODS, "at")
            or any(k.arg == "out" for k in node.keywords)
        ):
            return False
        if not isinstance(node, ast.For | ast.While | ast.FunctionDef | ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))
    return True


class _LoopReturns:
    """Turns ``return`` inside loops into a flag, a result variable and ``break``."""

    def __init__(self, used: set[str]) -> None:
        self.used = used
        self.flag: str | None = None
        self.result: str | None = None

    def names(self) -> tuple[str, str]:
        if self.flag is None:
            self.flag = _fresh("returned", self.used)
            self.result = _fresh("result", self.used)
        assert self.result is not None  # (made with the flag)
        return self.flag, self.result

    def rewrite(self, stmts: list[ast.stmt], loop_depth: int) -> list[ast.stmt]:
        """``stmts`` rewritten, each by its construct's ``rewrite_<Node>`` method."""
        out: list[ast.stmt] = []
        for stmt in stmts:
            rewrite = getattr(self, f"rewrite_{type(stmt).__name__}", self.rewrite_other)
            out += rewrite(stmt, loop_depth)
        return out

    def rewrite_other(self, stmt: ast.stmt, loop_depth: int) -> list[ast.stmt]:
        return [stmt]

    def rewrite_Return(self, stmt: ast.Return, loop_depth: int) -> list[ast.stmt]:
        """In a loop: ``result = value; returned = True; break``."""
        if loop_depth == 0:
            return [stmt]
        flag, result = self.names()
        assert stmt.value is not None  # (srcad.subset refuses a bare `return`)
        return [
            _located(ast.Assign([ast.Name(result, ast.Store())], stmt.value), stmt),
            _located(ast.Assign([ast.Name(flag, ast.Store())], ast.Constant(True)), stmt),
            _located(ast.Break(), stmt),
        ]

    def rewrite_If(self, stmt: ast.If, loop_depth: int) -> list[ast.stmt]:
        stmt.body = self.rewrite(stmt.body, loop_depth)
        stmt.orelse = self.rewrite(stmt.orelse, loop_depth)
        return [stmt]

    def rewrite_With(self, stmt: ast.With, loop_depth: int) -> list[ast.stmt]:
        stmt.body = self.rewrite(stmt.body, loop_depth)
        return [stmt]

    def rewrite_For(self, stmt: ast.For | ast.While, loop_depth: int) -> list[ast.stmt]:
        """A loop that returns: the flag and the result set before it (outermost loop),
        and ``if returned: return result`` after it (``break`` in an outer loop)."""
        returns_inside = _contains(stmt.body, (ast.Return,), into_loops=True)
        left_by_returns_only = endless(stmt)  # (before the returns become breaks)
        stmt.body = self.rewrite(stmt.body, loop_depth + 1)
        if not returns_inside:
            return [stmt]
        flag, result = self.names()
        before = (
            [
                _located(ast.Assign([ast.Name(flag, ast.Store())], ast.Constant(False)), stmt),
                _located(ast.Assign([ast.Name(result, ast.Store())], ast.Constant(None)), stmt),
            ]
            if loop_depth == 0
            else []
        )
        after: ast.stmt = (
            ast.Return(ast.Name(result, ast.Load())) if loop_depth == 0 else ast.Break()
        )
        if left_by_returns_only:  # (`while True:` ends by a return: after it, one ran)
            return [*before, stmt, _located(after, stmt)]
        check = _located(ast.If(ast.Name(flag, ast.Load()), [_located(after, stmt)], []), stmt)
        return [*before, stmt, check]

    rewrite_While = rewrite_For


#: methods that change their list, dict or array (``a.pop()``, ``q.append(v)``)
CHANGING_METHODS = frozenset(
    "append extend insert remove pop popitem clear sort reverse update setdefault fill".split()
)


class _ChangingTests(ast.NodeTransformer):
    """``while a.pop() > 0.5: body`` as ``while True: if not a.pop() > 0.5: break``
    then ``body``: a test that changes a list (or a dict, an array) makes that change on
    the iteration that leaves the loop too, which the loop's own test line would not
    carry out of it."""

    def visit_While(self, node: ast.While) -> ast.While:
        self.generic_visit(node)
        if node.orelse or not any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and n.func.attr in CHANGING_METHODS
            for n in astwalk.walk(node.test)
        ):
            return node
        leave = _located(ast.If(_located(ast.UnaryOp(ast.Not(), node.test), node.test),
                                [_located(ast.Break(), node)], []), node.test)
        return _located(ast.While(ast.Constant(True), [leave, *node.body], []), node)


_SEQUENCES = (ast.GeneratorExp, ast.ListComp)  # (comprehensions that make lists)
_COMPREHENSIONS = (*_SEQUENCES, ast.DictComp)


def mapped_call(node: ast.AST) -> bool:
    """``map(f, xs, ...)``: a generator of ``f``'s values (see :func:`desugar`)."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and _builtin(node.func, "map")
        and len(node.args) >= 2
        and not node.keywords
        and not any(isinstance(a, ast.Starred) for a in node.args)
    )


def filtered_call(node: ast.AST) -> bool:
    """``filter(f, xs)`` (``filter(None, xs)``): a generator of the items ``f`` keeps."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and _builtin(node.func, "filter")
        and len(node.args) == 2
        and not node.keywords
        and not any(isinstance(a, ast.Starred) for a in node.args)
    )


def reduce_call(node: ast.AST) -> bool:
    """``functools.reduce(f, xs)`` or ``reduce(f, xs, start)`` (see :func:`desugar`)."""
    if not isinstance(node, ast.Call) or node.keywords or not 2 <= len(node.args) <= 3:
        return False
    func = node.func
    return (isinstance(func, ast.Name) and _builtin(func, "reduce")) or (
        isinstance(func, ast.Attribute)
        and func.attr == "reduce"
        and isinstance(func.value, ast.Name)
        and func.value.id == "functools"
    )


def dict_call(node: ast.AST) -> bool:
    """``dict(a=x)``, ``dict(d)``, ``dict(zip(keys, values))``, ``dict(enumerate(xs))``
    or ``dict(<a comprehension of pairs>)`` (see :func:`desugar`)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and _builtin(node.func, "dict")):
        return False
    if any(k.arg is None for k in node.keywords):
        return False
    if not node.args:
        return True
    if len(node.args) != 1 or node.keywords:
        return False
    (arg,) = node.args
    return isinstance(arg, ast.Name | ast.Attribute | ast.Subscript | ast.List | ast.Tuple) or (
        isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and _builtin(arg.func, "zip")
        and len(arg.args) == 2 and not arg.keywords
    ) or (  # (dict(enumerate(xs)): positions as keys)
        isinstance(arg, ast.Call) and _builtin(arg.func, "enumerate")
        and len(arg.args) == 1 and not arg.keywords
    ) or (  # (dict((k, f(v)) for k, v in ...): a comprehension of pairs)
        isinstance(arg, ast.GeneratorExp | ast.ListComp)
        and isinstance(arg.elt, ast.Tuple) and len(arg.elt.elts) == 2
    )


#: The name desugared code calls for the order ``sorted(xs, key=f)`` puts the items in
#: (:func:`srcad.runtime.sorted_order`: :mod:`srcad.frontend` resolves it to that).
SORTED_ORDER = "_srcad_sorted_order"
#: ... and the check that ``dict(name)``, taken for a copy, is given a dict
#: (:func:`srcad.runtime.require_mapping`)
REQUIRE_MAPPING = "_srcad_require_mapping"
#: ... and what numpy's in-place calls are written with (:mod:`srcad.lower.keywords`):
#: ``np.multiply.at``'s new value (:func:`srcad.runtime.multiplied_at`) and the index
#: ``np.put_along_axis`` writes (:func:`srcad.runtime.along_axis_index`)
MULTIPLIED_AT, ALONG_AXIS_INDEX = "_srcad_multiplied_at", "_srcad_along_axis_index"
#: ... and ``a.flat[k]``: the index of the items it stands for
#: (:func:`srcad.runtime.flat_index`), and numpy, for the operations a write to it is
FLAT_INDEX, NUMPY = "_srcad_flat_index", "_srcad_numpy"
#: ... and the positions ``items[a:b] = values`` replaces (:func:`srcad.runtime.slice_bounds`)
SLICE_BOUNDS = "_srcad_slice_bounds"
#: ... and the positions a slice with a step writes (:func:`srcad.runtime.stepped_positions`),
#: and those ``del items[a:b:s]`` keeps (:func:`srcad.runtime.kept_positions`)
STEPPED_POSITIONS, KEPT_POSITIONS = "_srcad_stepped_positions", "_srcad_kept_positions"
#: ... and the lanes ``np.apply_along_axis`` runs its function on
#: (:func:`srcad.runtime.along_lanes`)
ALONG_LANES, ALONG_AXIS_RESULT = "_srcad_along_lanes", "_srcad_along_axis_result"


def endless(stmt: ast.stmt) -> bool:
    """``while True:`` (any true constant) with no ``break`` of its own."""
    if not (
        isinstance(stmt, ast.While)
        and isinstance(stmt.test, ast.Constant)
        and bool(stmt.test.value)
    ):
        return False
    pending: list[ast.AST] = list(stmt.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Break):
            return False
        if not isinstance(node, ast.For | ast.While | ast.FunctionDef | ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))  # (a nested loop's break is its own)
    return True


def _no_key(node: ast.Call) -> bool:
    """``sorted(xs, key=None)`` (``max``, ``min``): the items compared themselves."""
    return (
        isinstance(node.func, ast.Name)
        and _builtin(node.func, "sorted", "max", "min")
        and any(
            k.arg == "key" and isinstance(k.value, ast.Constant) and k.value.value is None
            for k in node.keywords
        )
    )


def keyed_sort(node: ast.AST) -> TypeGuard[ast.Call]:
    """``sorted(xs, key=f)`` (and ``reverse=r``): see :func:`desugar`."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and _builtin(node.func, "sorted")
        and len(node.args) == 1
        and not isinstance(node.args[0], ast.Starred)
        and "key" in [k.arg for k in node.keywords]
        and {k.arg for k in node.keywords} <= {"key", "reverse"}
    )


def keyed_sort_in_place(node: ast.AST) -> TypeGuard[ast.Call]:
    """``items.sort(key=f)`` (and ``reverse=r``) on a name: see :func:`desugar`."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "sort"
        and isinstance(node.func.value, ast.Name)
        and not node.args
        and "key" in [k.arg for k in node.keywords]
        and {k.arg for k in node.keywords} <= {"key", "reverse"}
    )


def extreme_or_default(node: ast.AST) -> bool:
    """``max(xs, default=d)`` or ``min(xs, default=d)`` (a ``key=`` too, maybe)."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and _builtin(node.func, "max", "min")
        and len(node.args) == 1
        and not isinstance(node.args[0], ast.Starred)
        and "default" in {k.arg for k in node.keywords}
        and {k.arg for k in node.keywords} <= {"key", "default"}
    )


def keyed_extreme(node: ast.AST) -> bool:
    """``max(xs, key=f)`` or ``min(xs, key=f)``, or of several arguments: ``max(a, b,
    key=f)`` (see :func:`desugar`)."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and _builtin(node.func, "max", "min")
        and len(node.args) >= 1
        and not any(isinstance(a, ast.Starred) for a in node.args)
        and [k.arg for k in node.keywords] == ["key"]
    )


#: Marks the call of a key function desugared code makes (``key(item)``): when the key
#: is ``None`` (a helper's ``key=None`` passed on), lowering reads it as the item itself.
KEY_CALL = "srcad_key_call"


def _key_of(key: ast.expr, item: str, used: set[str]) -> ast.expr:
    """``key(item)`` for ``sorted``/``max``/``min`` with ``key=key``."""
    call = applied(key, [ast.Name(item, ast.Load())], used)
    setattr(call, KEY_CALL, True)
    return call


def applied(function: ast.expr, args: list[ast.expr], used: set[str]) -> ast.expr:
    """``function(*args)``: a lambda's body with its parameters replaced by ``args``
    (names, so nothing is computed twice), or the call."""
    if isinstance(function, ast.Lambda) and len(function.args.args) == len(args) and not (
        function.args.vararg or function.args.kwarg or function.args.kwonlyargs
        or function.args.posonlyargs
    ):
        mapping = {a.arg: arg.id for a, arg in zip(function.args.args, args)
                   if isinstance(arg, ast.Name)}
        if len(mapping) == len(args):
            return _Renamer(mapping).visit(copy.deepcopy(function.body))
    return ast.Call(copy.deepcopy(function), args, [])


#: builtins that consume an iterable whole
_CONSUMERS = frozenset(("sum", "max", "min", "list", "tuple", "sorted"))
_VIEWS = frozenset(("values", "keys", "items"))


def dict_view_consumed(node: ast.AST) -> bool:
    """``sum(d.values())`` (``max``, ``min``, ``list``, ``tuple``, ``sorted``; ``keys``,
    ``items``): read as ``sum(v for v in d.values())``, the loop srcad differentiates."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and _builtin(node.func, *_CONSUMERS)
        and len(node.args) >= 1
        and isinstance(node.args[0], ast.Call)
        and isinstance(node.args[0].func, ast.Attribute)
        and node.args[0].func.attr in _VIEWS
        and not node.args[0].args
        and not node.args[0].keywords
    )


#: the iterators ``list(...)`` may run out into a list display (see :func:`listed_zip`)
_LISTED_ITERATORS = ("zip", "enumerate", "reversed")


def listed_zip(node: ast.AST) -> bool:
    """``list(zip(xs, ys, ...))``, ``list(enumerate(xs))``, ``list(reversed(xs))``: read
    as ``[(x, y, ...) for x, y, ... in zip(xs, ys, ...)]`` and so on, the loop srcad
    differentiates."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and _builtin(node.func, "list")
        and len(node.args) == 1
        and not node.keywords
        and isinstance(node.args[0], ast.Call)
        and isinstance(node.args[0].func, ast.Name)
        and _builtin(node.args[0].func, *_LISTED_ITERATORS)
    ):
        return False
    inner = node.args[0]
    assert isinstance(inner.func, ast.Name)
    plain = bool(inner.args) and not any(isinstance(a, ast.Starred) for a in inner.args)
    if _builtin(inner.func, "zip"):
        return plain and not inner.keywords
    return plain and len(inner.args) == 1 and (
        not inner.keywords or (_builtin(inner.func, "enumerate")
                               and [k.arg for k in inner.keywords] == ["start"])
    )


def transposing_zip(node: ast.AST) -> TypeGuard[ast.Call]:
    """``zip(*rows)``, the transpose of a list of lists or of a 2-D array, ``rows`` a
    name (or a field or item of one: read again, as nothing changes it meanwhile)."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and _builtin(node.func, "zip")
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Starred)
        and not node.keywords
    ):
        return False
    rows: ast.expr = node.args[0].value
    while isinstance(rows, ast.Attribute | ast.Subscript):
        if isinstance(rows, ast.Subscript) and not isinstance(rows.slice, ast.Constant):
            return False
        rows = rows.value
    return isinstance(rows, ast.Name)


def _transposed(node: ast.Call, used: set[str]) -> ast.expr:
    """A :func:`transposing_zip` as the columns it gives, each a list (zip's are tuples,
    which srcad makes only as displays): ``[[row[j] for row in rows] for j in
    range(min([len(row) for row in rows]) if len(rows) else 0)]`` (as zip, the shortest
    row's length)."""
    load = ast.Load()
    rows = node.args[0]
    assert isinstance(rows, ast.Starred)
    row, j = _fresh("row", used), _fresh("column", used)

    def over_rows(element: ast.expr) -> ast.ListComp:
        loop = ast.comprehension(ast.Name(row, ast.Store()), copy.deepcopy(rows.value), [], 0)
        return ast.ListComp(element, [loop])

    def call(name: str, *args: ast.expr) -> ast.Call:
        return ast.Call(ast.Name(name, load), list(args), [])

    shortest = ast.IfExp(
        call("len", copy.deepcopy(rows.value)),
        call("min", over_rows(call("len", ast.Name(row, load)))),
        ast.Constant(0),
    )
    column = over_rows(ast.Subscript(ast.Name(row, load), ast.Name(j, load), load))
    loop = ast.comprehension(ast.Name(j, ast.Store()), call("range", shortest), [], 0)
    return _located(ast.ListComp(column, [loop]), node)


#: the names a module's code usually gives numpy (``np.vectorize(f)(x)`` is read as
#: numpy's only through one of them: desugaring reads no bindings)
_NUMPY_NAMES = ("np", "numpy")


def _numpy_call(node: ast.AST, name: str, count: int) -> TypeGuard[ast.Call]:
    """``np.<name>(...)`` with ``count`` positional arguments and no keywords."""
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and node.func.attr == name and isinstance(node.func.value, ast.Name)
        and node.func.value.id in _NUMPY_NAMES and len(node.args) == count
        and not node.keywords and not any(isinstance(a, ast.Starred) for a in node.args)
    )


def _item_function(node: ast.expr, count: int = 1) -> bool:
    """A function an item-by-item rewrite may apply: a name (or an attribute of one:
    ``np.sum``), or a lambda of ``count`` parameters without defaults."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) or isinstance(node, ast.Lambda) and (
        len(node.args.args) == count and not node.args.defaults and not node.args.vararg
        and not node.args.kwarg and not node.args.kwonlyargs and not node.args.posonlyargs
    )


def _read_again(node: ast.expr) -> bool:
    return all(isinstance(n, _READ_AGAIN) for n in astwalk.walk(node))


#: how ``np.vectorize(f, otypes=...)`` may name the float results srcad makes anyway
_FLOAT_OTYPES = frozenset({"[float]", "(float,)", "'d'", "['d']", "[np.float64]", "'f8'"})


def vectorize_maker(node: ast.AST) -> TypeGuard[ast.Call]:
    """``np.vectorize(f)`` (``otypes=[float]`` too), ``f`` a name or a lambda."""
    if not isinstance(node, ast.Call) or any(
        k.arg != "otypes" or ast.unparse(k.value) not in _FLOAT_OTYPES for k in node.keywords
    ):
        return False
    bare = ast.Call(node.func, node.args, [])
    function = node.args[0] if node.args else None
    if isinstance(function, ast.Lambda) and isinstance(function.body, ast.Tuple | ast.List):
        return False  # (several outputs, a tuple of arrays: round 91, not read item by item)
    return _numpy_call(bare, "vectorize", 1) and isinstance(
        function, ast.Name | ast.Attribute | ast.Lambda
    )


def vectorized_call(node: ast.AST) -> TypeGuard[ast.Call]:
    """``np.vectorize(f)(x, ...)``: ``f`` a name or a lambda of as many parameters,
    each argument read again without calls."""
    return (
        isinstance(node, ast.Call) and vectorize_maker(node.func)
        and _item_function(node.func.args[0], len(node.args)) and bool(node.args)
        and not node.keywords and all(
            not isinstance(a, ast.Starred) and _read_again(a) for a in node.args
        )
    )


def _vectorize_names(fn: ast.FunctionDef) -> dict[str, ast.Call]:
    """The names bound once to ``np.vectorize(f)`` (:func:`vectorize_maker`) that the
    function reads only by calling them (``vf = np.vectorize(f)``, then ``vf(x)``), with
    ``f`` bound nowhere in the function: each name's ``np.vectorize(f)``."""
    makers: dict[str, ast.Call] = {}
    stores: dict[str, int] = {}
    called: set[int] = set()
    for node in astwalk.walk(fn):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            called.add(id(node.func))
        if isinstance(node, ast.Assign) and vectorize_maker(node.value) and (
            (name := single_name_target(node)) is not None
        ):
            makers[name] = node.value
    loads = [n for n in astwalk.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    return {
        name: maker for name, maker in makers.items()
        if stores.get(name) == 1 and all(id(n) in called for n in loads if n.id == name)
        and not (isinstance(maker.args[0], ast.Name) and stores.get(maker.args[0].id))
    }


class _VectorizedByName(ast.NodeTransformer):
    """``vf = np.vectorize(f)`` and its calls ``vf(x)`` (:func:`_vectorize_names`) as
    ``np.vectorize(f)(x)`` where each call stands (the binding left out)."""

    def __init__(self, makers: dict[str, ast.Call]) -> None:
        self.makers = makers

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        if single_name_target(node) in self.makers and vectorize_maker(node.value):
            return _located(ast.Pass(), node)
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        node = self.generic_visit(node)  # type: ignore[assignment]
        if isinstance(node.func, ast.Name) and node.func.id in self.makers:
            maker = copy.deepcopy(self.makers[node.func.id])
            node.func = ast.copy_location(maker, node.func)
            for part in ast.walk(maker):
                ast.copy_location(part, node.func)
        return node


def along_axis_call(node: ast.AST) -> TypeGuard[ast.Call]:
    """``np.apply_along_axis(f, axis, x)``: ``f`` a name or a lambda, ``axis`` a constant
    0, 1, -1 or -2 (of a 1-D or 2-D ``x``, checked when it runs)."""
    return (
        _numpy_call(node, "apply_along_axis", 3) and _item_function(node.args[0])
        and _constant_int(node.args[1]) in (0, 1, -1, -2)
    )


def _constant_int(node: ast.expr) -> int | None:
    """The int ``node`` writes (``1``, ``-1``), or None."""
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        sign, node = -1, node.operand
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return sign * node.value
    return None


def _each(
    node: ast.Call, numpy: ast.expr, function: ast.expr, items: list[ast.expr], used: set[str]
) -> ast.expr:
    """``np.array([function(item) for item in items])`` (of several: ``[function(a, b)
    for a, b in zip(as, bs)]``)."""
    names = [_fresh("item", used) for _ in items]
    target: ast.expr = ast.Name(names[0], ast.Store())
    iterable = items[0]
    if len(items) > 1:
        target = ast.Tuple([ast.Name(n, ast.Store()) for n in names], ast.Store())
        iterable = ast.Call(ast.Name("zip", ast.Load()), items, [])
    loop = ast.comprehension(target, iterable, [], 0)
    each = ast.ListComp(applied(function, [ast.Name(n, ast.Load()) for n in names], used), [loop])
    return ast.Call(ast.Attribute(copy.deepcopy(numpy), "array", ast.Load()), [each], [])


def _item_by_item(node: ast.Call, used: set[str]) -> ast.expr:
    """A :func:`vectorized_call` or :func:`along_axis_call` as the comprehension it
    runs: ``np.reshape(np.array([f(v) for v in np.ravel(x)]), np.shape(x))`` (of
    several arguments, each ``np.broadcast_to`` their common shape first, the items
    zipped); for a 1-D or 2-D ``x``, ``np.array([f(lane) for lane in along_lanes(x,
    axis)])``, its axes put where numpy's are (``along_axis_result``)."""
    load = ast.Load()
    if vectorized_call(node):
        vectorize = cast(ast.Call, node.func)
        numpy = cast(ast.Attribute, vectorize.func).value

        def np_call(name: str, *args: ast.expr) -> ast.Call:
            return ast.Call(ast.Attribute(copy.deepcopy(numpy), name, load), list(args), [])

        shape = np_call("shape", copy.deepcopy(node.args[0]))
        if len(node.args) > 1:
            shape = np_call("broadcast_shapes", *(
                np_call("shape", copy.deepcopy(x)) for x in node.args
            ))
        items: list[ast.expr] = [
            np_call("ravel", copy.deepcopy(x) if len(node.args) == 1 else np_call(
                "broadcast_to", copy.deepcopy(x), copy.deepcopy(shape)
            ))
            for x in node.args
        ]
        values = _each(node, numpy, vectorize.args[0], items, used)
        return _located(np_call("reshape", values, shape), node)
    function, axis, x = node.args
    numpy = cast(ast.Attribute, node.func).value
    lanes = ast.Call(ast.Name(ALONG_LANES, load), [x, axis], [])
    values = _each(node, numpy, function, [lanes], used)
    ndim = ast.Call(ast.Attribute(copy.deepcopy(numpy), "ndim", load), [copy.deepcopy(x)], [])
    result = ast.Call(ast.Name(ALONG_AXIS_RESULT, load), [values, ndim, copy.deepcopy(axis)], [])
    return _located(result, node)


class _Functional(ast.NodeTransformer):
    """``map(...)`` as a generator expression, and a dict view a builtin consumes as a
    loop over it (see :func:`desugar`)."""

    def __init__(self, used: set[str]) -> None:
        self.used = used

    def visit_Call(self, node: ast.Call) -> ast.AST:
        node = self.generic_visit(node)  # type: ignore[assignment]
        if transposing_zip(node):
            return _transposed(node, self.used)
        if vectorized_call(node) or along_axis_call(node):
            return _item_by_item(node, self.used)
        if dict_view_consumed(node):
            item = _fresh("item", self.used)
            loop = ast.comprehension(ast.Name(item, ast.Store()), node.args[0], [], 0)
            generator = _located(ast.GeneratorExp(ast.Name(item, ast.Load()), [loop]), node)
            return _located(ast.Call(node.func, [generator, *node.args[1:]], node.keywords),
                            node)
        if listed_zip(node):
            inner = node.args[0]
            assert isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name)
            count = {"zip": len(inner.args), "enumerate": 2}.get(inner.func.id, 0)
            names = [_fresh("item", self.used) for _ in range(max(count, 1))]
            stored: list[ast.expr] = [ast.Name(n, ast.Store()) for n in names]
            loaded: list[ast.expr] = [ast.Name(n, ast.Load()) for n in names]
            loop = ast.comprehension(  # (reversed: one item at a time)
                stored[0] if count == 0 else ast.Tuple(stored, ast.Store()), inner, [], 0
            )
            each = loaded[0] if count == 0 else ast.Tuple(loaded, ast.Load())
            return _located(ast.ListComp(each, [loop]), node)
        if filtered_call(node):
            function, iterable = node.args
            item = _fresh("item", self.used)
            kept: ast.expr = ast.Name(item, ast.Load())
            if not (isinstance(function, ast.Constant) and function.value is None):
                kept = applied(function, [ast.Name(item, ast.Load())], self.used)
            loop = ast.comprehension(ast.Name(item, ast.Store()), iterable, [kept], 0)
            return _located(ast.GeneratorExp(ast.Name(item, ast.Load()), [loop]), node)
        if not mapped_call(node):
            return node
        function, *iterables = node.args
        items = [_fresh("item", self.used) for _ in iterables]
        target: ast.expr = ast.Name(items[0], ast.Store())
        iterable = iterables[0]
        if len(iterables) > 1:
            target = ast.Tuple([ast.Name(n, ast.Store()) for n in items], ast.Store())
            iterable = ast.Call(ast.Name("zip", ast.Load()), list(iterables), [])
        element = applied(function, [ast.Name(n, ast.Load()) for n in items], self.used)
        generator = ast.GeneratorExp(element, [ast.comprehension(target, iterable, [], 0)])
        if isinstance(function, ast.Name):  # (map takes the function where it is made)
            generator.srcad_mapped = function.id  # type: ignore[attr-defined]
        return _located(generator, node)


class _GeneratorsWhereRead(ast.NodeTransformer):
    """A generator bound to a name and read once (``terms = (w * x for x in xs)``, then
    ``sum(terms)``) runs where it is read, as Python runs it: its element reads the
    variables as they are there, and the items of the list it runs over as they are
    there (a list written in between). Only what Python evaluates where the generator
    is made stays there: its first iterable, bound to a name of its own when the name it
    is read through may be bound again before the reading (``terms_iterable = xs``). A
    generator read twice, or in a loop it was not made in, is refused
    (:mod:`srcad.subset`)."""

    def __init__(self, fn: ast.FunctionDef, used: set[str]) -> None:
        self.used = used
        self.stores: dict[str, int] = {
            a.arg: 0 for a in astwalk.walk(fn.args) if isinstance(a, ast.arg)
        }
        self.stored_in_loops: set[str] = set()
        loads: dict[str, list[ast.Name]] = {}
        for node in astwalk.walk(fn):
            if isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Load):
                    loads.setdefault(node.id, []).append(node)
                else:
                    self.stores[node.id] = self.stores.get(node.id, 0) + 1
            elif isinstance(node, ast.For | ast.While):
                self.stored_in_loops |= _bound_names(node)
        self.made: dict[int, list[ast.stmt]] = {}  # id(assignment): what stays there
        self.read: dict[int, ast.GeneratorExp] = {}  # id(reading): the generator
        for block in _own_blocks(fn.body):
            for index, stmt in enumerate(block):
                target = single_name_target(stmt)
                reads = loads.get(target or "", [])
                if (
                    target is None or not isinstance(stmt, ast.Assign)
                    or not isinstance(stmt.value, ast.GeneratorExp)
                    or self.stores[target] != 1 or len(reads) != 1
                ):
                    continue
                between = _statements_up_to(block[index + 1:], reads[0])
                kept: list[ast.stmt] = []
                first = stmt.value.generators[0]
                first.iter = self.captured(first.iter, f"{target}_iterable", kept, stmt, between)
                mapped = getattr(stmt.value, "srcad_mapped", None)
                if mapped is not None and self.rebound_before_read(mapped, between):
                    function = self.captured(ast.Name(mapped, ast.Load()),
                                             f"{target}_function", kept, stmt, between)
                    stmt.value.elt = _Renamer({mapped: function.id}).visit(  # type: ignore[attr-defined]
                        stmt.value.elt)
                self.made[id(stmt)] = kept or [_located(ast.Pass(), stmt)]
                self.read[id(reads[0])] = stmt.value

    def rebound_before_read(self, name: str, between: list[ast.stmt] | None) -> bool:
        """May ``name`` be bound again between where the generator is made and where it
        is read (``between``: the statements up to the reading, in the same block;
        None: read in another block, a loop's next pass perhaps)?"""
        if between is None:
            return self.stores.get(name, 0) > 1 or name in self.stored_in_loops
        return any(name in _bound_names(stmt, in_place=False) for stmt in between)

    def captured(
        self, node: ast.expr, name: str, kept: list[ast.stmt], at: ast.stmt,
        between: list[ast.stmt] | None,
    ) -> ast.expr:
        """``node`` as the generator reads it where it runs: a name bound to its value
        where it is made (``kept``), unless it reads the same there (a constant, a name
        not bound again before the reading; the arguments of ``zip(...)``,
        ``range(...)``, ``enumerate(...)`` and the dict of ``d.items()`` each so;
        ``between``: as :meth:`rebound_before_read` takes it)."""
        if isinstance(node, ast.Constant) or (
            isinstance(node, ast.Name) and not self.rebound_before_read(node.id, between)
        ):
            return node
        if (
            isinstance(node, ast.Call) and not node.keywords
            and not any(isinstance(a, ast.Starred) for a in node.args)
        ):
            func = node.func
            if (
                isinstance(func, ast.Name) and _builtin(func, *_LAZY_BUILTINS)
                and func.id not in self.stores
            ):
                node.args = [
                    self.captured(a, f"{name}_{i}" if len(node.args) > 1 else name, kept, at,
                                  between)
                    for i, a in enumerate(node.args)
                ]
                return node
            if isinstance(func, ast.Attribute) and func.attr in _DICT_VIEWS and not node.args:
                func.value = self.captured(func.value, name, kept, at, between)
                return node
        alias = _fresh(name, self.used)
        kept.append(_located(ast.Assign([ast.Name(alias, ast.Store())], node), at))
        return _located(ast.Name(alias, ast.Load()), node)

    def visit_Assign(self, node: ast.Assign) -> ast.AST | list[ast.stmt]:
        return self.made.get(id(node)) or self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        generator = self.read.get(id(node))
        return node if generator is None else self.generic_visit(generator)


#: Builtins that run over their arguments lazily, as a generator does (``reversed``
#: takes its list's length where it is made: it is made there).
_LAZY_BUILTINS = frozenset({"zip", "enumerate", "range"})
_DICT_VIEWS = frozenset({"items", "keys", "values"})


def _bound_names(node: ast.AST, in_place: bool = True) -> set[str]:
    """The names ``node`` binds (or deletes); without ``in_place``, not those of ``xs +=
    ...`` (a list or an array, what a generator runs over, changes in place)."""
    changed = set() if in_place else {
        id(n.target) for n in astwalk.walk(node) if isinstance(n, ast.AugAssign)
    }
    return {
        n.id for n in astwalk.walk(node)
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load) and id(n) not in changed
    }


def _own_blocks(stmts: list[ast.stmt]) -> Iterator[list[ast.stmt]]:
    """A function's body and its blocks at any depth, not inside the functions it
    defines."""
    yield stmts
    for stmt in stmts:
        if isinstance(stmt, ast.FunctionDef):
            continue
        blocks = [getattr(stmt, field, []) for field in ("body", "orelse", "finalbody")]
        for block in blocks + [handler.body for handler in getattr(stmt, "handlers", [])]:
            if block:
                yield from _own_blocks(block)


def _statements_up_to(stmts: list[ast.stmt], node: ast.AST) -> list[ast.stmt] | None:
    """``stmts`` up to the one that holds ``node``, or None when none does."""
    for index, stmt in enumerate(stmts):
        if any(n is node for n in astwalk.walk(stmt)):
            return stmts[: index + 1]
    return None


def skippable_comprehensions(expr: ast.expr) -> list[ast.IfExp | ast.BoolOp]:
    """The ``a if c else b``, ``a and b`` and ``a or b`` in ``expr`` (not inside a
    comprehension or a lambda, outermost first) with a comprehension in a part Python may
    skip: srcad's desugaring computes each as ``if`` statements."""
    found: list[ast.IfExp | ast.BoolOp] = []
    pending: list[ast.AST] = [expr]
    while pending:
        node = pending.pop(0)
        if isinstance(node, (*_COMPREHENSIONS, ast.Lambda)):
            continue
        parts = (
            [node.body, node.orelse] if isinstance(node, ast.IfExp)
            else node.values[1:] if isinstance(node, ast.BoolOp) else []
        )
        if any(isinstance(n, _COMPREHENSIONS) for part in parts for n in astwalk.walk(part)):
            assert isinstance(node, ast.IfExp | ast.BoolOp)
            found.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


def _as_statements(node: ast.IfExp | ast.BoolOp, name: str, at: ast.stmt) -> list[ast.stmt]:
    """``name = node`` as ``if`` statements (only the parts Python runs are computed):
    ``if c: name = a else: name = b``; ``name = a`` then ``if name: name = b`` (``and``;
    ``if not name:`` for ``or``)."""
    def bind(value: ast.expr) -> ast.stmt:
        return _located(ast.Assign([ast.Name(name, ast.Store())], value), at)

    if isinstance(node, ast.IfExp):
        return [_located(ast.If(node.test, [bind(node.body)], [bind(node.orelse)]), at)]
    out = [bind(node.values[0])]
    for value in node.values[1:]:
        test: ast.expr = ast.Name(name, ast.Load())
        if isinstance(node.op, ast.Or):
            test = ast.UnaryOp(ast.Not(), test)
        out.append(_located(ast.If(test, [bind(value)], []), at))
    return out


class _Replaced(ast.NodeTransformer):
    """An expression with one of its nodes (by identity) replaced."""

    def __init__(self, old: ast.AST, new: ast.expr) -> None:
        self.old, self.new = old, new

    def visit(self, node: ast.AST) -> ast.AST:
        if node is self.old:
            return ast.copy_location(self.new, node)
        return super().visit(node)


def summed_comprehension(node: ast.AST) -> bool:
    """``sum(<generator expression or list comprehension>[, start])``."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and _builtin(node.func, "sum")
        and 1 <= len(node.args) <= 2
        and not node.keywords
        and isinstance(node.args[0], _SEQUENCES)
    )


def _names_outside(fn: ast.AST, skip: ast.AST) -> set[str]:
    found: set[str] = set()
    stack = [fn]
    while stack:
        node = stack.pop()
        if node is skip:
            continue
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        stack.extend(ast.iter_child_nodes(node))
    return found


class _Renamer(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id in self.mapping:
            return ast.copy_location(ast.Name(self.mapping[node.id], node.ctx), node)
        return node


class _Comprehensions(ast.NodeTransformer):
    """Hoists comprehensions (summed ones as sums) out of one statement's expressions
    into loops."""

    def __init__(self, fn: ast.FunctionDef, used: set[str]) -> None:
        self.fn = fn
        self.used = used
        self.hoisted: list[ast.stmt] = []
        #: the lists made for comprehensions that are not assigned to a name directly
        self.temporaries: set[str] = set()
        #: builtins the function rebinds, whose calls are its own
        self.shadowed = _assigned(fn) & {"max", "min", "dict"}

    def rewrite(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        """``stmts``, each statement rewritten by its construct's ``rewrite_<Node>``
        method (its comprehensions hoisted before it as loops)."""
        out: list[ast.stmt] = []
        for stmt in stmts:
            out += getattr(self, f"rewrite_{type(stmt).__name__}", self.rewrite_other)(stmt)
        return out

    def rewrite_Expr(self, stmt: ast.Expr) -> list[ast.stmt]:
        """``items.sort(key=f, reverse=r)``: the items in the order of their keys (as
        ``sorted`` with a key), put back into the list: ``items.clear()`` and
        ``items.extend(...)``, which srcad follows on a list the function made."""
        call = stmt.value
        if not keyed_sort_in_place(call):
            return self.rewrite_other(stmt)
        assert isinstance(call.func, ast.Attribute)
        receiver = call.func.value
        in_order = _fresh("in_order", self.used)
        ordered = ast.Call(ast.Name("sorted", ast.Load()), [copy.deepcopy(receiver)],
                           call.keywords)
        def method(name: str, *args: ast.expr) -> ast.Expr:
            made = ast.Call(
                ast.Attribute(copy.deepcopy(receiver), name, ast.Load()), list(args), []
            )
            made.srcad_written_as = "sort"  # type: ignore[attr-defined]  # (for messages)
            return ast.Expr(made)

        replacement = [
            ast.Assign([ast.Name(in_order, ast.Store())], ordered),
            method("clear"),
            method("extend", ast.Name(in_order, ast.Load())),
        ]
        return self.rewrite([_located(s, stmt) for s in replacement])

    def rewrite_other(self, stmt: ast.stmt) -> list[ast.stmt]:
        """Loops for the comprehensions in each of the statement's expressions, then
        the statement."""
        fields = [field for field, value in ast.iter_fields(stmt) if isinstance(value, ast.expr)]
        return self.with_hoisted(stmt, fields)

    def with_hoisted(self, stmt: ast.stmt, fields: list[str]) -> list[ast.stmt]:
        """The loops hoisted out of the expressions ``fields`` of ``stmt``, then ``stmt``.
        A part of ``a if c else b``, ``a and b``, ``a or b`` that holds a comprehension
        and may not run is first an ``if`` statement (:func:`skippable_comprehensions`):
        the part that runs binds a name the expression reads."""
        for field in fields:
            found = skippable_comprehensions(getattr(stmt, field))
            if found:
                name = _fresh("either", self.used)
                setattr(stmt, field, _Replaced(found[0], ast.Name(name, ast.Load())).visit(
                    getattr(stmt, field)))
                return self.rewrite([*_as_statements(found[0], name, stmt), stmt])
        out: list[ast.stmt] = []
        for field in fields:
            setattr(stmt, field, self.hoist(getattr(stmt, field), out))
        return [*out, stmt]

    def rewrite_Assign(self, stmt: ast.Assign) -> list[ast.stmt]:
        starred = _starred_unpacking(stmt)
        if starred is not None:
            return self.rewrite(self.starred_unpacking(stmt, *starred))
        target = single_name_target(stmt)
        value = stmt.value
        if target is not None and isinstance(value, ast.IfExp) and _has_comprehension(
            value
        ):  # name = [...] if c else [...]: an if statement (only one arm runs)
            arms: list[ast.stmt] = [
                _located(ast.Assign([ast.Name(target, ast.Store())], arm), stmt)
                for arm in (value.body, value.orelse)
            ]
            return self.rewrite([_located(ast.If(value.test, arms[:1], arms[1:]), stmt)])
        if (
            target is not None
            and isinstance(value, _SEQUENCES)
            and target not in {n.id for n in astwalk.walk(value) if isinstance(n, ast.Name)}
        ):  # name = [e for x in xs]: the loop appends to `name` itself
            saved, self.hoisted = self.hoisted, []
            self.list_loop(value, target)
            loops, self.hoisted = self.hoisted, saved
            return loops
        return self.rewrite_other(stmt)

    def starred_unpacking(
        self, stmt: ast.Assign, names: list[ast.expr], star: int
    ) -> list[ast.stmt]:
        """``a, *rest, b = value`` as ``unpacked = value; a = unpacked[0]; rest =
        list(unpacked[1:-1]); b = unpacked[-1]`` (Python's starred name is a list)."""
        whole = _fresh("unpacked", self.used)
        load = lambda: ast.Name(whole, ast.Load())  # noqa: E731
        needed = len(names) - 1
        out: list[ast.stmt] = [
            ast.Assign([ast.Name(whole, ast.Store())], stmt.value),
            ast.If(  # (Python's ValueError: too few values to unpack)
                ast.Compare(ast.Call(ast.Name("len", ast.Load()), [load()], []),
                            [ast.Lt()], [ast.Constant(needed)]),
                [ast.Raise(ast.Call(ast.Name("ValueError", ast.Load()), [ast.Constant(
                    f"not enough values to unpack (expected at least {needed})")], []))],
                [],
            ),
        ]
        after = len(names) - star - 1
        for position, target in enumerate(names):
            if position < star:
                value: ast.expr = ast.Subscript(load(), ast.Constant(position), ast.Load())
            elif position > star:
                value = ast.Subscript(load(), ast.Constant(position - len(names)), ast.Load())
            else:
                target = target.value if isinstance(target, ast.Starred) else target
                rest = ast.Slice(ast.Constant(star) if star else None,
                                 ast.Constant(-after) if after else None)
                value = ast.Call(ast.Name("list", ast.Load()),
                                 [ast.Subscript(load(), rest, ast.Load())], [])
            out.append(ast.Assign([target], value))
        return [_located(s, stmt) for s in out]

    def rewrite_If(self, stmt: ast.If) -> list[ast.stmt]:
        stmt.body, stmt.orelse = self.rewrite(stmt.body), self.rewrite(stmt.orelse)
        return self.with_hoisted(stmt, ["test"])

    def rewrite_For(self, stmt: ast.For) -> list[ast.stmt]:
        stmt.body, stmt.orelse = self.rewrite(stmt.body), self.rewrite(stmt.orelse)
        return self.with_hoisted(stmt, ["iter"])

    def rewrite_While(self, stmt: ast.While | ast.With) -> list[ast.stmt]:
        """Its body (and a loop's ``else:``) rewritten (a comprehension in a `while`
        test: refused by srcad.subset)."""
        stmt.body = self.rewrite(stmt.body)
        if isinstance(stmt, ast.While):
            stmt.orelse = self.rewrite(stmt.orelse)
        return [stmt]

    rewrite_With = rewrite_While

    def rewrite_FunctionDef(self, stmt: ast.FunctionDef | ast.Try) -> list[ast.stmt]:
        """Kept: a nested def is rewritten when it is inlined, and a `try` statement runs
        as plain Python (srcad.contexts)."""
        return [stmt]

    rewrite_Try = rewrite_FunctionDef

    def hoist(self, expr: ast.expr, out: list[ast.stmt]) -> ast.expr:
        saved, self.hoisted = self.hoisted, []
        expr = self.visit(expr)
        out += self.hoisted
        self.hoisted = saved
        return expr

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if _no_key(node):  # sorted(xs, key=None), max(xs, key=None): no key at all
            node.keywords = [k for k in node.keywords if k.arg != "key"]
        if reduce_call(node):
            return self.reduced(node)
        if extreme_or_default(node) and ast.unparse(node.func) not in self.shadowed:
            return self.extreme_or_default(node)
        if keyed_extreme(node) and ast.unparse(node.func) not in self.shadowed:
            if len(node.args) > 1:  # max(a, b, key=f): as max([a, b], key=f), the same choice
                node.args = [_located(ast.List(node.args, ast.Load()), node)]
            return self.extreme(node)
        if keyed_sort(node) and "sorted" not in self.shadowed:
            return self.sorted_by_key(node)
        if dict_call(node) and "dict" not in self.shadowed:
            return self.made_dict(node)
        if not summed_comprehension(node):
            return self.generic_visit(node)
        total = _fresh("total", self.used)
        start = node.args[1] if len(node.args) == 2 else ast.Constant(0)
        summed = node.args[0]
        assert isinstance(summed, ast.GeneratorExp | ast.ListComp)  # (summed_comprehension)
        return self.as_loop(summed, node, total, start, lambda elt: ast.Assign(
            [ast.Name(total, ast.Store())],
            ast.BinOp(ast.Name(total, ast.Load()), ast.Add(), elt),
        ))

    def reduced(self, node: ast.Call) -> ast.expr:
        """``reduce(f, xs, start)``: ``acc = start`` (or ``xs[0]``) and a loop over ``xs``
        (or ``xs[1:]``) that sets ``acc = f(acc, x)``, hoisted; the expression is ``acc``."""
        self.generic_visit(node)
        function, items = node.args[0], node.args[1]
        acc, item = _fresh("acc", self.used), _fresh("item", self.used)
        if len(node.args) == 3:
            start, rest = node.args[2], items
        else:
            start = ast.Subscript(copy.deepcopy(items), ast.Constant(0), ast.Load())
            rest = ast.Subscript(
                copy.deepcopy(items), ast.Slice(ast.Constant(1), None, None), ast.Load()
            )
        step = applied(function, [ast.Name(acc, ast.Load()), ast.Name(item, ast.Load())],
                        self.used)
        loop = ast.For(
            ast.Name(item, ast.Store()), rest, [ast.Assign([ast.Name(acc, ast.Store())], step)],
            [],
        )
        self.hoisted += [
            _located(ast.Assign([ast.Name(acc, ast.Store())], start), node),
            *self.rewrite([_located(loop, node)]),
        ]
        return _located(ast.Name(acc, ast.Load()), node)

    def made_dict(self, node: ast.Call) -> ast.expr:
        """``dict(...)`` as a display, a copy (of a name, checked to hold a dict when it
        runs), or a loop that sets the items of ``zip`` or of a display of pairs."""
        given = node.args[0] if node.args else None
        self.generic_visit(node)  # (a comprehension's list, made first: the pairs)
        if not node.args:
            keys: list[ast.expr | None] = [ast.Constant(k.arg) for k in node.keywords]
            return _located(ast.Dict(keys, [k.value for k in node.keywords]), node)
        (source,) = node.args
        if isinstance(given, ast.Name | ast.Attribute | ast.Subscript):  # (a dict, or not)
            check = ast.Call(ast.Name(REQUIRE_MAPPING, ast.Load()), [copy.deepcopy(source)], [])
            self.hoisted.append(_located(ast.Expr(check), node))
            copied = ast.Call(ast.Attribute(source, "copy", ast.Load()), [], [])
            copied.srcad_dict_copy = True  # type: ignore[attr-defined]  # (of a dict: shallow)
            return _located(copied, node)
        made, key, value = (_fresh(n, self.used) for n in ("items", "key", "value"))
        item = ast.Subscript(ast.Name(made, ast.Load()), ast.Name(key, ast.Load()), ast.Store())
        loop = ast.For(
            ast.Tuple([ast.Name(key, ast.Store()), ast.Name(value, ast.Store())], ast.Store()),
            source,
            [ast.Assign([item], ast.Name(value, ast.Load()))],
            [],
        )
        self.hoisted += [
            _located(ast.Assign([ast.Name(made, ast.Store())], ast.Dict([], [])), node),
            _located(loop, node),
        ]
        return _located(ast.Name(made, ast.Load()), node)

    def extreme_or_default(self, node: ast.Call) -> ast.expr:
        """``max(xs, default=d)``: ``items = list(xs)`` (a comprehension's items: its
        list), hoisted; the expression is ``max(items) if len(items) else d`` (with the
        ``key=`` given)."""
        (given,) = node.args
        items = _fresh("items", self.used)
        self.temporaries.add(items)
        made: ast.expr = (
            ast.ListComp(given.elt, given.generators)
            if isinstance(given, ast.GeneratorExp)
            else ast.Call(ast.Name("list", ast.Load()), [given], [])
        )
        self.hoisted += self.rewrite([_located(ast.Assign([ast.Name(items, ast.Store())], made),
                                               node)])
        options = {k.arg: k.value for k in node.keywords}
        extreme = ast.Call(
            ast.Name(node.func.id, ast.Load()),  # type: ignore[attr-defined]
            [ast.Name(items, ast.Load())],
            [ast.keyword("key", options["key"])] if "key" in options else [],
        )
        count = ast.Call(ast.Name("len", ast.Load()), [ast.Name(items, ast.Load())], [])
        chosen = ast.IfExp(count, extreme, options["default"])
        return self.visit(ast.fix_missing_locations(_located(chosen, node)))

    def extreme(self, node: ast.Call) -> ast.expr:
        """``max(xs, key=f)``: the first item whose key is largest (``min``: smallest), by
        a loop over ``xs`` (a list, tuple, array or dict: its keys) hoisted before the
        statement; the expression is that item."""
        self.generic_visit(node)
        key = node.keywords[0].value
        best, best_key, first = (_fresh(n, self.used) for n in ("best", "best_key", "first"))
        item, item_key = _fresh("item", self.used), _fresh("item_key", self.used)
        better = ast.Gt() if node.func.id == "max" else ast.Lt()  # type: ignore[attr-defined]

        def keep(*more: ast.stmt) -> list[ast.stmt]:
            return [
                ast.Assign([ast.Name(best, ast.Store())], ast.Name(item, ast.Load())),
                ast.Assign([ast.Name(best_key, ast.Store())], ast.Name(item_key, ast.Load())),
                *more,
            ]

        larger = ast.Compare(ast.Name(item_key, ast.Load()), [better],
                             [ast.Name(best_key, ast.Load())])
        body = [
            ast.Assign([ast.Name(item_key, ast.Store())],
                       _key_of(key, item, self.used)),
            ast.If(
                ast.Name(first, ast.Load()),
                keep(ast.Assign([ast.Name(first, ast.Store())], ast.Constant(False))),
                [ast.If(larger, keep(), [])],
            ),
        ]
        self.hoisted += [
            _located(ast.Assign([ast.Name(first, ast.Store())], ast.Constant(True)), node),
            *(  # (None until the first item: read only after it)
                _located(ast.Assign([ast.Name(n, ast.Store())], ast.Constant(None)), node)
                for n in (best, best_key)
            ),
            *self.rewrite([_located(ast.For(ast.Name(item, ast.Store()), node.args[0], body, []),
                                    node)]),
        ]
        return _located(ast.Name(best, ast.Load()), node)

    def sorted_by_key(self, node: ast.Call) -> ast.expr:
        """``sorted(xs, key=f, reverse=r)``: ``items = list(xs)``, their keys, the order
        the keys put them in (:data:`SORTED_ORDER`), then the items in that order, all
        hoisted before the statement; the expression is the sorted list."""
        self.generic_visit(node)
        options = {k.arg: k.value for k in node.keywords}
        items, keys, item, index = (
            _fresh(n, self.used) for n in ("items", "keys", "item", "index")
        )
        order = _fresh("order", self.used)
        source = node.args[0]
        listed: ast.expr = ast.Call(ast.Name("list", ast.Load()), [source], [])
        if (  # (zip(a, b): the pairs, as list(zip(a, b)) is read: a comprehension)
            isinstance(source, ast.Call)
            and isinstance(source.func, ast.Name)
            and _builtin(source.func, "zip")
            and "zip" not in self.shadowed
            and source.args
            and not source.keywords
            and not any(isinstance(a, ast.Starred) for a in source.args)
        ):
            parts = [_fresh("part", self.used) for _ in source.args]
            listed = ast.ListComp(
                ast.Tuple([ast.Name(p, ast.Load()) for p in parts], ast.Load()),
                [ast.comprehension(
                    ast.Tuple([ast.Name(p, ast.Store()) for p in parts], ast.Store()),
                    source, [], 0,
                )],
            )
        each_key = ast.ListComp(
            _key_of(options["key"], item, self.used),
            [ast.comprehension(ast.Name(item, ast.Store()), ast.Name(items, ast.Load()), [], 0)],
        )
        ordered = ast.Call(
            ast.Name(SORTED_ORDER, ast.Load()),
            [ast.Name(keys, ast.Load()), options.get("reverse", ast.Constant(False))],
            [],
        )
        in_order = ast.ListComp(
            ast.Subscript(ast.Name(items, ast.Load()), ast.Name(index, ast.Load()), ast.Load()),
            [ast.comprehension(ast.Name(index, ast.Store()), ast.Name(order, ast.Load()), [], 0)],
        )
        hoisted = [
            ast.Assign([ast.Name(items, ast.Store())], listed),
            ast.Assign([ast.Name(keys, ast.Store())], each_key),
            ast.Assign([ast.Name(order, ast.Store())], ordered),
        ]
        self.hoisted += self.rewrite([_located(stmt, node) for stmt in hoisted])
        return self.visit(_located(in_order, node))

    def visit_ListComp(self, node: ast.ListComp | ast.GeneratorExp) -> ast.AST:
        """``[e for x in xs if c]``: a list built by a loop (a generator expression that
        is not summed is consumed whole by what it is passed to: a list as well)."""
        items = _fresh("items", self.used)
        self.temporaries.add(items)
        return self.list_loop(node, items)

    def list_loop(self, node: ast.ListComp | ast.GeneratorExp, items: str) -> ast.expr:
        return self.as_loop(node, node, items, ast.List([], ast.Load()), lambda elt: ast.Expr(
            ast.Call(
                ast.Attribute(ast.Name(items, ast.Load()), "append", ast.Load()), [elt], []
            )
        ))

    visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> ast.AST:
        """``{k: v for x in xs if c}``: a dict whose items a loop sets."""
        made = _fresh("items", self.used)
        pairs = ast.GeneratorExp(ast.Tuple([node.key, node.value], ast.Load()), node.generators)

        def set_item(elt: ast.expr) -> ast.stmt:
            assert isinstance(elt, ast.Tuple)
            key, value = elt.elts
            return ast.Assign(
                [ast.Subscript(ast.Name(made, ast.Load()), key, ast.Store())], value
            )

        return self.as_loop(_located(pairs, node), node, made, ast.Dict([], []), set_item)

    def as_loop(
        self,
        comprehension: ast.ListComp | ast.GeneratorExp,
        node: ast.expr,
        result: str,
        start: ast.expr,
        step: Callable[[ast.expr], ast.stmt],
    ) -> ast.expr:
        """Hoist ``result = start`` and the loops of ``comprehension`` (``step`` of its
        element innermost) before the statement; the expression becomes ``result``."""
        outside = _names_outside(self.fn, comprehension)
        targets = {
            n.id
            for g in comprehension.generators
            for n in astwalk.walk(g.target)
            if isinstance(n, ast.Name)
        }
        mapping = {name: _fresh(name, self.used) for name in sorted(targets & outside)}
        first_iterable = comprehension.generators[0].iter  # (read in the enclosing scope)
        comprehension = _Renamer(mapping).visit(copy.deepcopy(comprehension))
        comprehension.generators[0].iter = first_iterable
        body: list[ast.stmt] = [step(comprehension.elt)]
        for generator in reversed(comprehension.generators):
            if generator.ifs:
                test = (
                    generator.ifs[0]
                    if len(generator.ifs) == 1
                    else ast.BoolOp(ast.And(), generator.ifs)
                )
                body = [ast.If(test, body, [])]
            body = [ast.For(generator.target, generator.iter, body, [])]
        loop = _located(body[0], node)
        loops = self.rewrite([loop])  # comprehensions inside the element
        self.hoisted += [_located(ast.Assign([ast.Name(result, ast.Store())], start), node), *loops]
        return _located(ast.Name(result, ast.Load()), node)


def _starred_unpacking(stmt: ast.Assign) -> tuple[list[ast.expr], int] | None:
    """``a, *rest = value``: the targets and the position of the starred one."""
    if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Tuple | ast.List):
        return None
    names = stmt.targets[0].elts
    stars = [k for k, t in enumerate(names) if isinstance(t, ast.Starred)]
    return (list(names), stars[0]) if len(stars) == 1 else None


def single_name_target(stmt: ast.stmt) -> str | None:
    """``name`` of ``name = value`` (one target), else None."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        return target.id if isinstance(target, ast.Name) else None
    return None


def _has_comprehension(node: ast.AST) -> bool:
    return any(isinstance(n, _COMPREHENSIONS) for n in astwalk.walk(node))


def named_lambda(stmt: ast.stmt) -> TypeGuard[ast.Assign]:
    """``name = lambda args: expression``."""
    return (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
        and isinstance(stmt.value, ast.Lambda)
    )


def _names_in(fn: ast.FunctionDef) -> set[str]:
    """Every name ``fn`` reads or binds, and its parameters' (a new name takes none)."""
    used = {node.id for node in astwalk.walk(fn) if isinstance(node, ast.Name)}
    used.update(a.arg for a in astwalk.walk(fn) if isinstance(a, ast.arg))
    return used


def argument_lambdas(call: ast.Call) -> list[ast.Lambda]:
    """The lambdas ``call`` is given as arguments (``newton(lambda x: x * x - a, 1.0)``),
    but not those a call of its own reads in place (``map``, ``reduce``, ``filter``, a
    ``key=``: see :mod:`srcad.desugar`'s other rewrites)."""
    if mapped_call(call) or reduce_call(call) or filtered_call(call) or keyed_extreme(
        call
    ) or extreme_or_default(call) or keyed_sort(call) or keyed_sort_in_place(call):
        return []
    values = [*call.args, *(k.value for k in call.keywords)]
    func = call.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    with_defaults = called in TAKE_A_FUNCTION  # (`lambda x, k=k:` in a loop: its defaults
    return [  # are what they are at the call, where srcad passes them; elsewhere, where
        v for v in values  # the lambda is made, which a def before the line is not)
        if isinstance(v, ast.Lambda) and not any(v.args.kw_defaults)
        and (with_defaults or not v.args.defaults)
    ]


#: scipy.optimize's scalar root finders that bracket a root, all its scalar root
#: finders, and its solvers of a system of equations, by name (their rules:
#: :mod:`srcad.rules.scipy_optimize`)
BRACKETING_ROOT_FINDERS = ("brentq", "brenth", "ridder", "bisect", "toms748")
ROOT_FINDERS = frozenset((*BRACKETING_ROOT_FINDERS, "newton", "root_scalar"))
SYSTEM_SOLVERS = ("fsolve", "root")
#: and its minimizers (of a function of one variable, and of several)
MINIMIZERS = ("minimize_scalar", "minimize")
#: scipy.integrate's integrators of a function, by name (their rules:
#: :mod:`srcad.rules.scipy_integrate`)
INTEGRATORS = ("quad", "odeint", "solve_ivp")
#: The library routines that take a function of the code (a lambda or nested ``def``,
#: closure-converted by :mod:`srcad.lower.closures`, which checks the call is one of
#: them), by name: a lambda given to one may have defaults
TAKE_A_FUNCTION = frozenset((*ROOT_FINDERS, *SYSTEM_SOLVERS, *MINIMIZERS, *INTEGRATORS))


def _calls_outside_scopes(stmt: ast.stmt) -> list[ast.Call]:
    """The calls in ``stmt`` that are not inside a comprehension or a lambda (whose
    names a line before the statement could not read)."""
    found: list[ast.Call] = []
    todo: list[ast.AST] = [stmt]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Lambda, *_COMPREHENSIONS)):
            continue
        if isinstance(node, ast.Call):
            found.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return found


def _replace_argument(call: ast.Call, old: ast.expr, new: ast.expr) -> None:
    call.args = [new if a is old else a for a in call.args]
    for keyword in call.keywords:
        if keyword.value is old:
            keyword.value = new


def _lambdas_as_defs(stmts: list[ast.stmt], used: set[str]) -> list[ast.stmt]:
    """Each ``name = lambda ...`` as a nested def; and each lambda given as an argument
    (outside comprehensions and other lambdas) named so on a line of its own before its
    statement, as a function passed to a helper is: making a lambda without defaults has
    no effect, and it reads its free names when it is called, wherever it is made."""
    out: list[ast.stmt] = []
    for stmt in stmts:
        if isinstance(stmt, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Return | ast.Expr):
            for call in _calls_outside_scopes(stmt):
                for argument in argument_lambdas(call):
                    named = _fresh("function", used)
                    made = _lambda_def(named, argument, argument)
                    made.srcad_lambda = True  # type: ignore[attr-defined]  # (for messages)
                    out.append(made)
                    name = _located(ast.Name(named, ast.Load()), argument)
                    _replace_argument(call, argument, name)
        if named_lambda(stmt):
            target, function = stmt.targets[0], stmt.value
            assert isinstance(target, ast.Name) and isinstance(function, ast.Lambda)  # (as tested)
            stmt = _lambda_def(target.id, function, stmt)
        for field in ("body", "orelse"):
            if isinstance(stmt, ast.If | ast.For | ast.While | ast.With) and hasattr(stmt, field):
                setattr(stmt, field, _lambdas_as_defs(getattr(stmt, field), used))
        out.append(stmt)
    return out


def _lambda_def(name: str, function: ast.Lambda, like: ast.AST) -> ast.FunctionDef:
    """``def name(<function's parameters>): return <function's body>``."""
    return _located(
        ast.FunctionDef(
            name=name,
            args=function.args,
            body=[_located(ast.Return(function.body), function.body)],
            decorator_list=[],
            returns=None,
            type_comment=None,
        ),
        like,
    )


def _assigned(fn: ast.FunctionDef) -> set[str]:
    """Names the function binds (assignments, loop targets, nested defs, parameters)."""
    names = {a.arg for a in astwalk.walk(fn.args) if isinstance(a, ast.arg)}
    for node in astwalk.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef) and node is not fn:
            names.add(node.name)
    return names


def changed_by(node: ast.AST) -> str | None:
    """``name`` of a call ``name.method(...)`` of a method that changes ``name`` in place
    (:data:`CHANGING_METHODS`: ``st.pop()``, ``q.append(v)``), else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.attr in CHANGING_METHODS
    ):
        return node.func.value.id
    return None


def _changes_list(node: ast.AST, name: str) -> bool:
    """Does ``node`` call a method that changes the list ``name`` (``name.pop()``)?"""
    return any(changed_by(n) == name for n in astwalk.walk(node))


def _changed_list(stmt: ast.stmt) -> tuple[str, list[ast.expr]] | None:
    """The list a statement changes in place and the operands Python evaluates before
    it changes it: ``xs.append(v)`` (``extend``, ``insert``, ``remove``): its arguments;
    ``xs += vs``: ``vs``; ``xs[i] = v``: ``v`` (then ``xs`` and ``i``)."""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and (
        not stmt.value.keywords
    ):
        name = changed_by(stmt.value)
        if name is not None:
            return name, stmt.value.args
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, [stmt.value]
    if (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Subscript)
        and isinstance(stmt.targets[0].value, ast.Name)
    ):
        return stmt.targets[0].value.id, [stmt.value]
    return None


class _OrderedListChanges:
    """A statement that changes a list whose operands change the same list first
    (``st.append(st.pop() * v)``, ``q.append(q.pop(0))``, ``st[0] = st.pop()``): Python
    evaluates the operands, then changes the list they left. The operands become
    statements of their own before it, in Python's order (``value = st.pop() * v``,
    ``st.append(value)``), which srcad reads as it reads them written so."""

    def __init__(self, used: set[str]) -> None:
        self.used = used

    def rewrite(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            _rewrite_blocks(stmt, self.rewrite)
            changed = _changed_list(stmt)
            if changed is not None and any(_changes_list(o, changed[0]) for o in changed[1]):
                out += self.hoisted(stmt, changed[1])
            out.append(stmt)
        return out

    def hoisted(self, stmt: ast.stmt, operands: list[ast.expr]) -> list[ast.stmt]:
        """``value = <operand>`` for each operand, which ``stmt`` then reads by name."""
        before: list[ast.stmt] = []
        for operand in operands:
            name = _fresh("value", self.used)
            before.append(_located(ast.Assign([ast.Name(name, ast.Store())], operand), stmt))
            replacement = _located(ast.Name(name, ast.Load()), operand)
            if isinstance(stmt, ast.Expr):
                assert isinstance(stmt.value, ast.Call)
                stmt.value.args = [replacement if a is operand else a for a in stmt.value.args]
            else:
                assert isinstance(stmt, ast.AugAssign | ast.Assign)
                stmt.value = replacement
        return before


#: the parts of an expression that may be evaluated again to the same value (no calls)
_READ_AGAIN = (
    ast.Name, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Subscript, ast.Attribute, ast.Tuple,
    ast.Slice, ast.operator, ast.unaryop, ast.expr_context,
)


def _grouped_append(stmt: ast.stmt) -> TypeGuard[ast.Expr]:
    """``d.setdefault(k, [...]).append(v)`` (or ``.extend(vs)``): ``d`` a name, ``k``
    read again without calls (``labels[i]``, ``i % 2``), the default a list display of
    names and constants."""
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if not (
        isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
        and call.func.attr in ("append", "extend") and len(call.args) == 1
        and not call.keywords
    ):
        return False
    inner = call.func.value
    return (
        isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute)
        and inner.func.attr == "setdefault" and isinstance(inner.func.value, ast.Name)
        and len(inner.args) == 2 and not inner.keywords
        and all(isinstance(n, _READ_AGAIN) for n in astwalk.walk(inner.args[0]))
        and isinstance(inner.args[1], ast.List)
        and all(isinstance(e, ast.Name | ast.Constant) for e in inner.args[1].elts)
    )


def _grouped_parts(stmt: ast.Expr) -> tuple[str, ast.expr, ast.expr, str, ast.expr]:
    """The dict's name, the key, the default, the method and its argument of a
    :func:`_grouped_append`."""
    call = cast(ast.Call, stmt.value)
    method = cast(ast.Attribute, call.func)
    inner = cast(ast.Call, method.value)
    mapping = cast(ast.Name, cast(ast.Attribute, inner.func).value).id
    return mapping, inner.args[0], inner.args[1], method.attr, call.args[0]


def _mark_groups(fn: ast.FunctionDef) -> None:
    """Mark the :func:`_grouped_append` statements that may be written as new lists
    (:func:`_group_appended`): of a dict the function makes (``d = {}``), where no name
    is bound to anything read from ``d`` until the last of them has run (the top-level
    statement holding it ends), so that no other name holds a list one of them changes."""
    groups: dict[str, list[ast.Expr]] = {}
    for node in astwalk.walk(fn):
        if isinstance(node, ast.stmt) and _grouped_append(node):
            groups.setdefault(_grouped_parts(node)[0], []).append(node)
    params = {a.arg for a in astwalk.walk(fn.args) if isinstance(a, ast.arg)}
    for name, appends in groups.items():
        made = [
            n for n in astwalk.walk(fn) if isinstance(n, ast.Assign)
            and [t.id for t in n.targets if isinstance(t, ast.Name)] == [name]
        ]
        if name in params or not made or not all(
            isinstance(n.value, ast.Dict) and not n.value.keys for n in made
        ):
            continue
        last = max(
            getattr(top, "end_lineno", 0) or 0 for top in fn.body
            if any(a in set(astwalk.walk(top)) for a in appends)
        )
        if not any(_binds_from(n, name) and _line(n) <= last for n in astwalk.walk(fn)):
            for stmt in appends:
                stmt.srcad_groups = True  # type: ignore[attr-defined]


def _line(node: ast.AST) -> int:
    """The line of a statement or expression, or of a comprehension's iterable."""
    return node.iter.lineno if isinstance(node, ast.comprehension) else getattr(node, "lineno", 0)


def _binds_from(node: ast.AST, name: str) -> bool:
    """``node`` binds a name (or an item) to a value that reads ``name`` (``v = d[k]``,
    ``for k, v in d.items()``, ``x := d.get(k)``), other than making it."""
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.NamedExpr):
        value = node.value
    elif isinstance(node, ast.For | ast.comprehension):
        value = node.iter
    else:
        return False
    if value is None or isinstance(value, ast.Dict) and not value.keys:
        return False
    return any(isinstance(n, ast.Name) and n.id == name for n in astwalk.walk(value))


def _group_appended(stmt: ast.Expr) -> list[ast.stmt]:
    """A :func:`_grouped_append` as new lists: ``if k not in d: d[k] = [...]``, then
    ``d[k] = d[k] + [v]`` (``+ list(vs)`` for ``extend``)."""
    mapping, key, default, method, added_value = _grouped_parts(stmt)
    load = ast.Load()

    def item(ctx: ast.expr_context) -> ast.Subscript:
        return ast.Subscript(ast.Name(mapping, load), copy.deepcopy(key), ctx)

    missing = ast.Compare(copy.deepcopy(key), [ast.NotIn()], [ast.Name(mapping, load)])
    added: ast.expr = (
        ast.List([added_value], load) if method == "append"
        else ast.Call(ast.Name("list", load), [added_value], [])
    )
    return [
        _located(ast.If(missing, [ast.Assign([item(ast.Store())], default)], []), stmt),
        _located(ast.Assign([item(ast.Store())], ast.BinOp(item(load), ast.Add(), added)), stmt),
    ]


def _setdefault_values(stmts: list[ast.stmt], used: set[str]) -> list[ast.stmt]:
    """Each ``d.setdefault(k, default)`` (``d`` a name; in nested blocks too) that a
    statement's expressions always run, as Python runs it (:class:`_SetdefaultsRead`):
    ``default`` first, then ``if k not in d: d[k] = default``, then ``d[k]`` read
    (``v = d.setdefault(k, default)``: into ``v`` itself). A statement that is the call
    alone is left to :mod:`srcad.lower.methods`."""
    out: list[ast.stmt] = []
    for stmt in stmts:
        _rewrite_blocks(stmt, lambda block: _setdefault_values(block, used))
        if _grouped_append(stmt) and getattr(stmt, "srcad_groups", False):
            out += _group_appended(stmt)
            continue
        if not isinstance(stmt, _SIMPLE_STATEMENTS) or (
            isinstance(stmt, ast.Expr) and _setdefault_call(stmt.value)
        ):
            out.append(stmt)
            continue
        hoisted = _SetdefaultsRead(used)
        for field, value in ast.iter_fields(stmt):
            if isinstance(value, ast.expr):
                setattr(stmt, field, hoisted.visit(value))
        last = hoisted.before[-1] if hoisted.before else None
        if (  # v = d.setdefault(k, default): v = d[k] (v then names d's item itself)
            single_name_target(stmt) is not None and isinstance(stmt, ast.Assign)
            and isinstance(last, ast.Assign) and isinstance(stmt.value, ast.Name)
            and ast.unparse(last.targets[0]) == stmt.value.id
        ):
            last.targets = stmt.targets
            out += [_located(s, stmt) for s in hoisted.before]
            continue
        out += [*(_located(s, stmt) for s in hoisted.before), stmt]
    return out


#: statements whose expressions all run, in order, each time the statement runs
_SIMPLE_STATEMENTS = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return)


def _setdefault_call(node: ast.AST | None) -> bool:
    """``d.setdefault(k, default)`` of a name ``d``, two arguments, no keywords."""
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and node.func.attr == "setdefault" and isinstance(node.func.value, ast.Name)
        and len(node.args) == 2 and not node.keywords
        and not any(isinstance(a, ast.Starred) for a in node.args)
    )


class _SetdefaultsRead(ast.NodeTransformer):
    """Each ``d.setdefault(k, default)`` in an expression that always runs (not in a
    part of ``a and b``, a lambda or a comprehension; in an arm of ``a if c else b``,
    where that arm runs) as what Python does, in the order it does it: ``key = k``,
    ``default = ...``, ``if key not in d: d[key] = default``, then the expression reads
    ``value = d[key]`` (:attr:`before`)."""

    def __init__(self, used: set[str]) -> None:
        self.used = used
        self.before: list[ast.stmt] = []

    def visit_Call(self, node: ast.Call) -> ast.AST:
        func = node.func
        if isinstance(func, ast.Attribute) and _setdefault_call(func.value):
            # (d.setdefault(k, []).append(v): a list of the dict's, changed where it is)
            assert isinstance(func.value, ast.Call)
            func.value.args = [self.visit(a) for a in func.value.args]
            node.args = [self.visit(a) for a in node.args]
            return node
        node = self.generic_visit(node)  # type: ignore[assignment]  # (arguments first)
        if not _setdefault_call(node):
            return node
        assert isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
        mapping, (key, default) = node.func.value.id, node.args
        if not isinstance(key, ast.Name | ast.Constant):
            held = _fresh("key", self.used)
            self.before.append(ast.Assign([ast.Name(held, ast.Store())], key))
            key = ast.Name(held, ast.Load())
        kept, value = _fresh("default", self.used), _fresh("value", self.used)
        item = ast.Subscript(ast.Name(mapping, ast.Load()), copy.deepcopy(key), ast.Store())
        missing = ast.Compare(copy.deepcopy(key), [ast.NotIn()], [ast.Name(mapping, ast.Load())])
        read = ast.Subscript(ast.Name(mapping, ast.Load()), copy.deepcopy(key), ast.Load())
        self.before += [
            ast.Assign([ast.Name(kept, ast.Store())], default),
            ast.If(missing, [ast.Assign([item], ast.Name(kept, ast.Load()))], []),
            ast.Assign([ast.Name(value, ast.Store())], read),
        ]
        return _located(ast.Name(value, ast.Load()), node)

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        """``a if c else b`` with a ``setdefault`` in ``a`` or ``b``: ``if c: either = a
        else: either = b`` first (each arm's calls in it), the expression ``either``."""
        node.test = self.visit(node.test)  # (it always runs)
        if not any(_setdefault_call(n) for arm in (node.body, node.orelse) for n in ast.walk(arm)):
            return node
        either = _fresh("either", self.used)
        arms: list[list[ast.stmt]] = []
        for arm in (node.body, node.orelse):
            inner = _SetdefaultsRead(self.used)
            value = inner.visit(arm)
            arms.append([*inner.before, ast.Assign([ast.Name(either, ast.Store())], value)])
        self.before.append(ast.If(node.test, arms[0], arms[1]))
        return _located(ast.Name(either, ast.Load()), node)

    def skipped(self, node: ast.AST) -> ast.AST:
        """A part that may not run, or runs elsewhere: left as it is."""
        return node

    visit_BoolOp = visit_Lambda = skipped
    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = skipped


#: how deep arithmetic nests before its inner parts are computed into names first
_NESTED_PART = 32


def _in_parts(stmts: list[ast.stmt], used: set[str]) -> list[ast.stmt]:
    """``stmts`` with arithmetic nested deeper than :data:`_NESTED_PART` in the value of an
    assignment, ``return`` or expression statement computed in parts before it."""
    out: list[ast.stmt] = []
    for stmt in stmts:
        _rewrite_blocks(stmt, lambda block: _in_parts(block, used))
        value = _arithmetic_value(stmt)
        if value is not None:
            parts: list[ast.stmt] = []
            stmt.value, _ = _cut(value, parts, used, whole=True)  # type: ignore[attr-defined]
            out += parts
        out.append(stmt)
    return out


def _arithmetic_value(stmt: ast.AST) -> ast.BinOp | ast.UnaryOp | None:
    """The value of an assignment, ``return`` or expression statement, if arithmetic."""
    if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.Return | ast.Expr) and isinstance(
        stmt.value, ast.BinOp | ast.UnaryOp
    ):
        return stmt.value
    return None


def _cut(
    node: ast.expr, parts: list[ast.stmt], used: set[str], whole: bool = False
) -> tuple[ast.expr, int]:
    """``node`` with each arithmetic part :data:`_NESTED_PART` levels high computed into a
    name (its statement added to ``parts``, in the order Python evaluates the parts), and
    the height left. A part right of an operand is cut only when that operand has no
    effects (names, constants and arithmetic of them), so that nothing moves across one.
    ``whole``: ``node`` is a statement's whole value, which stays where it is."""
    if isinstance(node, ast.UnaryOp):
        node.operand, height = _cut(node.operand, parts, used)
    elif isinstance(node, ast.BinOp):
        node.left, left = _cut(node.left, parts, used)
        if _without_effects(node.left):  # (the left operand is cut to a bounded height)
            node.right, right = _cut(node.right, parts, used)
        else:
            right = _height(node.right)
        height = max(left, right)
    else:
        return node, 0
    if whole or height + 1 < _NESTED_PART:
        return node, height + 1
    name = _fresh("partial", used)
    parts.append(_located(ast.Assign([_located(ast.Name(name, ast.Store()), node)], node), node))
    return _located(ast.Name(name, ast.Load()), node), 0


def _height(node: ast.expr) -> int:
    """How deep the arithmetic of ``node`` nests (0: not arithmetic), without recursion."""
    height, todo = 0, [(node, 1)]
    while todo:
        part, level = todo.pop()
        if isinstance(part, ast.BinOp):
            todo += [(part.left, level + 1), (part.right, level + 1)]
            height = max(height, level)
        elif isinstance(part, ast.UnaryOp):
            todo.append((part.operand, level + 1))
            height = max(height, level)
    return height


def _without_effects(node: ast.expr) -> bool:
    """Names, constants, and arithmetic of them: what computes nothing else first."""
    return all(
        isinstance(part, ast.Name | ast.Constant | ast.BinOp | ast.UnaryOp | ast.operator
                   | ast.unaryop | ast.expr_context)
        for part in astwalk.walk(node)
    )


#: the operator each dunder method stands for: ``p.__truediv__(q)`` is ``p / q``
_BINARY_DUNDERS: dict[str, type[ast.operator]] = {
    "__add__": ast.Add, "__sub__": ast.Sub, "__mul__": ast.Mult, "__truediv__": ast.Div,
    "__floordiv__": ast.FloorDiv, "__mod__": ast.Mod, "__pow__": ast.Pow,
    "__matmul__": ast.MatMult,
}
_UNARY_DUNDERS: dict[str, type[ast.unaryop]] = {"__neg__": ast.USub, "__pos__": ast.UAdd}


def _operator_call(node: ast.AST) -> bool:
    """``divmod(a, b)`` and ``math.modf(x)`` of arithmetic of names, constants and
    attributes (each part read twice: nothing runs in between): a pair of operations
    (``(a // b, a % b)``; ``(math.fmod(x, 1.0), float(math.trunc(x)))``)."""
    if not (isinstance(node, ast.Call) and not node.keywords) or not all(
        _read_twice_the_same(arg) for arg in node.args
    ):
        return False
    func = node.func
    if isinstance(func, ast.Name) and _builtin(func, "divmod"):
        return len(node.args) == 2
    return (
        isinstance(func, ast.Attribute) and func.attr == "modf"
        and isinstance(func.value, ast.Name) and func.value.id == "math"
        and len(node.args) == 1
    )


def _named_attribute(node: ast.AST) -> bool:
    """``getattr(obj, "name")``: the attribute ``obj.name``, spelled with a string."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and _builtin(node.func, "getattr")
        and len(node.args) == 2
        and not node.keywords
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
        and node.args[1].value.isidentifier()
    )


def _read_twice_the_same(node: ast.expr) -> bool:
    """Arithmetic of names, constants and chains of attributes (``omega * t``,
    ``2.0 * math.pi``): computes nothing else, so reading it twice reads one value."""
    return all(
        isinstance(part, ast.Name | ast.Constant | ast.BinOp | ast.UnaryOp | ast.Attribute
                   | ast.operator | ast.unaryop | ast.expr_context)
        for part in astwalk.walk(node)
    )


def _dunder_call(node: ast.AST) -> bool:
    """``p.__truediv__(q)``, ``p.__neg__()``: an operator called by its method's name
    (library code does, as NumPy's ``polyint``)."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and not node.keywords
        and not any(isinstance(arg, ast.Starred) for arg in node.args)
    ):
        return False
    attr = node.func.attr
    return (attr in _BINARY_DUNDERS and len(node.args) == 1) or (
        attr in _UNARY_DUNDERS and not node.args
    )


def constant_set(op: ast.cmpop, comparator: ast.expr) -> bool:
    """``k in {"a", "b"}``: a membership test in a set display of constants, which a
    tuple of them answers the same (:class:`_PlainForms` writes it so)."""
    return (
        isinstance(op, ast.In | ast.NotIn)
        and isinstance(comparator, ast.Set)
        and all(isinstance(e, ast.Constant) for e in comparator.elts)
    )


class _PlainForms(ast.NodeTransformer):
    """Calls and tests written as the plainer code they are: in a library's code each
    :func:`_dunder_call` as its operator (the two differ only where the method returns
    NotImplemented, or the other operand's class overrides the reflected one), each
    :func:`_operator_call` as its operations, each :func:`_named_attribute` as the
    attribute, each :func:`constant_set` as a tuple, and each :func:`_spread_display`
    as the lists it joins."""

    def __init__(self, library: bool) -> None:
        self.library = library

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        node.comparators = [
            _located(ast.Tuple(c.elts, ast.Load()), c)
            if constant_set(op, c) and isinstance(c, ast.Set) else c
            for op, c in zip(node.ops, node.comparators, strict=True)
        ]
        return node

    def visit_List(self, node: ast.List) -> ast.AST:
        self.generic_visit(node)
        if not _spread_display(node):
            return node
        return _located(_joined_display(node), node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if _operator_call(node):
            return _located(_as_operations(node), node)
        if _named_attribute(node):
            name = node.args[1]
            assert isinstance(name, ast.Constant) and isinstance(name.value, str)
            return _located(ast.Attribute(node.args[0], name.value, ast.Load()), node)
        if not (self.library and _dunder_call(node)):
            return node
        assert isinstance(node.func, ast.Attribute)
        attr, operand = node.func.attr, node.func.value
        if attr in _UNARY_DUNDERS:
            return _located(ast.UnaryOp(_UNARY_DUNDERS[attr](), operand), node)
        return _located(ast.BinOp(operand, _BINARY_DUNDERS[attr](), node.args[0]), node)


def _spread_display(node: ast.List) -> bool:
    """``[a, *xs, b]``: a list display (not a target) that spreads a value. (A tuple
    display spreads a value of known length: the lowerer's ``spread``.)"""
    return isinstance(node.ctx, ast.Load) and any(isinstance(e, ast.Starred) for e in node.elts)


def _joined_display(node: ast.List) -> ast.expr:
    """A :func:`_spread_display` as the lists it joins: ``[a] + list(xs) + [b]``."""
    load = ast.Load()
    parts: list[ast.expr] = []
    items: list[ast.expr] = []
    for element in node.elts:
        if not isinstance(element, ast.Starred):
            items.append(element)
            continue
        if items:
            parts.append(ast.List(items, load))
            items = []
        parts.append(ast.Call(ast.Name("list", load), [element.value], []))
    if items:
        parts.append(ast.List(items, load))
    joined = parts[0]
    for part in parts[1:]:
        joined = ast.BinOp(joined, ast.Add(), part)
    return joined


def _as_operations(node: ast.Call) -> ast.Tuple:
    """The pair of operations an :func:`_operator_call` stands for."""
    load = ast.Load()
    if isinstance(node.func, ast.Name):  # divmod(a, b)
        a, b = node.args
        return ast.Tuple(
            [ast.BinOp(a, ast.FloorDiv(), b),
             ast.BinOp(copy.deepcopy(a), ast.Mod(), copy.deepcopy(b))],
            load,
        )
    (x,) = node.args
    math_name = node.func.value if isinstance(node.func, ast.Attribute) else node.func
    fraction = ast.Call(ast.Attribute(math_name, "fmod", load), [x, ast.Constant(1.0)], [])
    whole = ast.Call(
        ast.Attribute(copy.copy(math_name), "trunc", load), [copy.deepcopy(x)], []
    )
    return ast.Tuple([fraction, ast.Call(ast.Name("float", load), [whole], [])], load)


#: the builtins (and ``reduce``) the module of the function being desugared defines for
#: itself (``def filter(h, x)`` of a DSP module): calls of them are the module's own
_SHADOWED: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "shadowed", default=frozenset()
)


def _builtin(func: ast.expr, *names: str) -> bool:
    """Whether ``func`` is one of the builtins ``names`` (``reduce``: functools'), by
    name, and the module does not define that name itself (round 94: a module's own
    ``map`` or ``divmod`` was rewritten as the builtin's, silently wrong)."""
    return isinstance(func, ast.Name) and func.id in names and func.id not in _SHADOWED.get()


#: the names of builtins srcad rewrites calls of (and functools.reduce), which a module
#: may define for itself (see :func:`shadowed_builtins`)
REWRITTEN_BUILTINS = frozenset((
    "range", "map", "filter", "reduce", "dict", "zip", "sorted", "max", "min", "sum",
    "list", "tuple", "enumerate", "reversed", "divmod", "getattr", "iter", "next", "any",
    "all", "len", "abs", "round", "pow", "isinstance", "float", "int",
))


def shadowed_builtins(names: Mapping[str, Any]) -> frozenset[str]:
    """Of :data:`REWRITTEN_BUILTINS`, those ``names`` (a module's globals, a function's
    closure: name -> object) bind to another object than the builtin (``reduce``:
    ``functools.reduce``)."""
    import functools

    def own(name: str) -> Any:
        return functools.reduce if name == "reduce" else getattr(builtins, name, None)

    return frozenset(
        name for name in REWRITTEN_BUILTINS if name in names and names[name] is not own(name)
    )


def desugar(
    fn: ast.FunctionDef, library: bool = False, shadowed: frozenset[str] = frozenset()
) -> ast.FunctionDef:
    """A copy of ``fn`` whose jumps all end their paths (see the module docstring).
    ``library``: ``fn`` is a library's code, whose operators called by their method's
    name (NumPy's ``p.__truediv__(q)``) are written as operators; in a user's code they
    may name one side's method on purpose (``a.__add__(b)`` where ``b`` would answer
    ``a + b``), and are read as calls. ``shadowed``: builtins the module defines for
    itself (:func:`shadowed_builtins`), whose calls are not rewritten as the builtin's."""
    token = _SHADOWED.set(shadowed)
    try:
        return _desugar(fn, library)
    finally:
        _SHADOWED.reset(token)


def _desugar(fn: ast.FunctionDef, library: bool) -> ast.FunctionDef:
    comprehensions = lambdas = control_flow = functional = list_changes = plain = False
    deques = vectorized = False
    arithmetic = 0
    values: list[ast.BinOp | ast.UnaryOp] = []  # (of statements: they may nest deep)
    for node in astwalk.nodes(fn):  # (one walk: this runs on every function srcad reads)
        if isinstance(node, ast.BinOp):
            arithmetic += 1
        elif isinstance(node, ast.stmt) and (value := _arithmetic_value(node)) is not None:
            values.append(value)
        if isinstance(node, _COMPREHENSIONS):
            comprehensions = True
        elif isinstance(node, ast.Call):
            lambdas = lambdas or bool(argument_lambdas(node))
            if (
                mapped_call(node) or reduce_call(node) or dict_view_consumed(node)
                or listed_zip(node) or filtered_call(node) or transposing_zip(node)
                or vectorized_call(node) or along_axis_call(node)
            ):
                comprehensions = functional = True
            elif (
                keyed_extreme(node) or keyed_sort(node) or keyed_sort_in_place(node)
                or dict_call(node) or extreme_or_default(node)
            ):
                comprehensions = True
            if isinstance(node.func, ast.Attribute) and node.func.attr in CHANGING_METHODS:
                list_changes = True
            deques = deques or deque_call(node)
            plain = (
                plain or (library and _dunder_call(node)) or _operator_call(node)
                or _named_attribute(node)
            )
        elif isinstance(node, ast.Compare):
            plain = plain or any(map(constant_set, node.ops, node.comparators))
        elif isinstance(node, ast.List):
            plain = plain or _spread_display(node)
        elif isinstance(node, ast.Assign):
            lambdas = lambdas or named_lambda(node)
            if vectorize_maker(node.value):  # (vf = np.vectorize(f), then vf(x))
                comprehensions = functional = vectorized = True
            comprehensions = comprehensions or _starred_unpacking(node) is not None
        elif isinstance(node, ast.For | ast.While | ast.If | ast.With):
            control_flow = True
    deep = arithmetic >= _NESTED_PART and any(  # (it may nest that deep: does it?)
        _height(value) >= _NESTED_PART for value in values
    )
    if deques:  # (lists from here on: see srcad.deques)
        fn = as_lists(fn)
        control_flow = list_changes = True
    if not (comprehensions or lambdas or control_flow or list_changes or deep or plain):
        return fn  # straight-line code: nothing to rewrite
    fn = copy.deepcopy(fn)
    if plain:
        fn = _PlainForms(library).visit(fn)
    if lambdas:
        fn.body = _lambdas_as_defs(fn.body, _names_in(fn))
    if control_flow:
        fn = _ChangingTests().visit(fn)
    used = _names_in(fn)
    if list_changes:
        _mark_groups(fn)
        fn.body = _OrderedListChanges(used).rewrite(_setdefault_values(fn.body, used))
    if vectorized:
        fn = _VectorizedByName(_vectorize_names(fn)).visit(fn)
    shadowed = _assigned(fn) & {"map", "zip", *_CONSUMERS}  # (a local `map`: the user's)
    if functional and not shadowed:
        fn.body = [_Functional(used).visit(stmt) for stmt in fn.body]
    if comprehensions:
        fn = _GeneratorsWhereRead(fn, used).visit(fn)
        rewriter = _Comprehensions(fn, used)
        fn.body = rewriter.rewrite(fn.body)
        fn.srcad_temporaries = frozenset(rewriter.temporaries)  # type: ignore[attr-defined]
    body = fn.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(getattr(body[0], "value", None), ast.Constant)
    ):
        body = body[1:]  # the docstring
    if control_flow:
        body = _ExitsAfterLoops(used).rewrite(_loop_else_as_flag(body, used))
    if deep:
        body = _in_parts(body, used)
    fn.body = absorb(_LoopReturns(used).rewrite(body, 0))
    return fn
