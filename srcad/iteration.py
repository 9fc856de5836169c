"""Loops over a sequence, printed as Python writes them.

srcad lowers ``for c in xs`` to a loop over the positions, ``for k in range(n)`` with
``n = len(xs)`` and ``c = xs[k]`` first in the body, so that the backward pass can run
over the same positions last first. Where nothing but that line reads the position, the
forward loop is printed as ``for c in xs:`` (:func:`loops_as_python`): it reads as the
user's code and runs faster, as Python's own iteration does. (A loop that changes the
length of the sequence it runs over is refused when srcad reads it, so the two run
over the same items.)
"""

from __future__ import annotations

import builtins
from collections import Counter
from dataclasses import replace

from . import ir
from .analyze import calls_builtin
from .runtime import loop_items


def loops_as_python(fn: ir.Function) -> ir.Function:
    """``fn`` with each loop over the positions of a sequence that reads nothing but its
    items printed as a loop over the items (``len(xs)`` and ``loop_items(xs)`` dropped
    where nothing else reads them), and without the iteration counters nothing reads."""
    if not any(isinstance(s, ir.Loop) for s in ir.walk(fn.body)):
        return fn  # (straight-line code: nothing to print otherwise)
    defined = Counter(n for s in ir.walk(fn.body) for n in ir.targets_of(s))
    body = _Direct(fn, defined).rewrite(fn.body)
    if body is not fn.body:
        body = _without_unread_lengths(body, _reads_count(body), fn)
        body = _over_sequences(body, _reads_count(body), fn)
    body = _WithoutUnreadCounters(_reads_count(body)).visit_body(body)
    gone = _bound_in(fn.body) - _bound_in(body)
    if gone:  # (an index, a length, a list of items no longer bound: not deleted either)
        body = _WithoutDeleting(gone).visit_body(body)
    unchanged = len(body) == len(fn.body) and all(a is b for a, b in zip(body, fn.body))
    return fn if unchanged else fn.with_body(body)


def _reads_count(body: tuple[ir.Stmt, ...]) -> Counter[str]:
    return Counter(n for s in ir.walk(body) for n in ir.reads_of(s))


def _bound_in(body: tuple[ir.Stmt, ...]) -> set[str]:
    return {
        n for s in ir.walk(body)
        for n in (*ir.targets_of(s), *(s.restores if isinstance(s, ir.Loop) else ()))
    }


class _WithoutDeleting(ir.Transformer):
    def __init__(self, gone: set[str]) -> None:
        self.gone = gone

    def visit_Delete(self, stmt: ir.Delete) -> ir.Delete | None:
        names = tuple(n for n in stmt.names if n not in self.gone)
        return None if not names else stmt if len(names) == len(stmt.names) else ir.Delete(names)


class _WithoutUnreadCounters(ir.Transformer):
    """Loops without the iteration counters nothing but the loop itself reads (the
    backward pass runs over saved values instead: see :func:`srcad.tape.loop_tapes`)."""

    def __init__(self, reads: Counter[str]) -> None:
        self.reads = reads

    def visit_Loop(self, stmt: ir.Loop) -> ir.Loop:
        stmt = self.generic_visit(stmt)
        if stmt.counter is not None and self.reads[stmt.counter] == 1:
            return replace(stmt, counter=None)
        return stmt


class _Direct:
    def __init__(self, fn: ir.Function, defined: Counter[str]) -> None:
        self.fn = fn
        self.defined = defined

    def rewrite(self, body: tuple[ir.Stmt, ...]) -> tuple[ir.Stmt, ...]:
        out: list[ir.Stmt] = []
        for stmt in body:
            new = stmt
            blocks = ir.blocks_of(stmt)
            if blocks:
                inner = [self.rewrite(b) for b in blocks]
                if any(a is not b for a, b in zip(inner, blocks)):
                    new = ir.with_blocks(stmt, inner)
            if isinstance(stmt, ir.Loop):
                assert isinstance(new, ir.Loop)
                new = self.direct(stmt, new, out) or new
            out.append(new)
        return tuple(out) if any(a is not b for a, b in zip(out, body)) else body

    def direct(self, original: ir.Loop, loop: ir.Loop, before: list[ir.Stmt]) -> ir.Loop | None:
        """``loop`` (``original`` with its blocks rewritten) over its items, or None where
        it reads its position otherwise."""
        k, n = loop.index, _range_count(loop, self.fn)
        if k is None or n is None or loop.restores or self.defined[n] != 1:
            return None
        length = next(
            (s.value for s in before if isinstance(s, ir.Assign) and s.target == n), None
        )
        seq = None
        if length is not None and calls_builtin(length, self.fn, builtins.len):
            seq = length.args[0] if len(length.args) == 1 else None
        if not isinstance(seq, ir.Name) or not self.bound_once_before(seq.id, before):
            return None
        element = ir.Subscript(seq, ir.Name(k))
        position = next(
            (i for i, s in enumerate(loop.body) if not isinstance(s, ir.Push | ir.Comment)), 0
        )  # (saves of the previous values may come first)
        stmt = loop.body[position] if position < len(loop.body) else None
        if not (isinstance(stmt, ir.Assign) and stmt.value == element) or (
            stmt.in_place or stmt.logical
        ):
            return None
        item = stmt.target
        earlier, rest = loop.body[:position], (*loop.body[:position], *loop.body[position + 1 :])
        if item in ir.read_in(earlier):
            return None  # (the item is bound by this line only, and not read before it)
        if _reads(loop.test, k) or _reads(rest, k) or _reads(self.fn.body, k, skip=original):
            return None
        return replace(loop, index=None, iterable=seq, body=rest, restores=(item,))

    def bound_once_before(self, name: str, before: list[ir.Stmt]) -> bool:
        """Is ``name`` bound once, by one of the statements ``before`` the loop in its
        block, to a sequence that runs over what its positions hold: the items of a loop
        (``loop_items(xs)``, a dict's keys as a list) or a display? (Not a parameter:
        ``d[k]`` of a dict ``d`` is not what ``for c in d`` runs over.)"""
        return self.defined[name] == 1 and any(
            isinstance(s, ir.Assign) and s.target == name and (
                isinstance(s.value, ir.Tuple)
                or isinstance(s.value, ir.Call) and isinstance(s.value.func, ir.Name)
                and self.fn.bindings.get(s.value.func.id) is loop_items
            )
            for s in before
        )


def _range_count(loop: ir.Loop, fn: ir.Function) -> str | None:
    """``n`` of a loop ``for k in range(n)``, else None."""
    iterable = loop.iterable
    if (
        isinstance(iterable, ir.Call)
        and calls_builtin(iterable, fn, builtins.range)
        and len(iterable.args) == 1
        and isinstance(iterable.args[0], ir.Name)
    ):
        return iterable.args[0].id
    return None


def _reads(body: tuple[ir.Stmt, ...], name: str, skip: ir.Loop | None = None) -> bool:
    """Does ``body`` read ``name`` where no loop of its own binds it (``skip``: a loop
    not to look into)?"""
    for stmt in body:
        if stmt is skip or (isinstance(stmt, ir.Loop) and name in (stmt.index, *stmt.restores)):
            continue
        if name in ir.reads_of(stmt) or any(_reads(b, name, skip) for b in ir.blocks_of(stmt)):
            return True
    return False


def _without_unread_lengths(
    body: tuple[ir.Stmt, ...], reads: Counter[str], fn: ir.Function
) -> tuple[ir.Stmt, ...]:
    """``body`` without the ``n = len(xs)`` lines nothing reads any more."""
    out: list[ir.Stmt] = []
    for stmt in body:
        blocks = ir.blocks_of(stmt)
        if blocks:
            stmt = ir.with_blocks(stmt, [_without_unread_lengths(b, reads, fn) for b in blocks])
        if not (isinstance(stmt, ir.Assign) and not reads[stmt.target]
                and calls_builtin(stmt.value, fn, builtins.len)):
            out.append(stmt)
    return tuple(out)


def _over_sequences(
    body: tuple[ir.Stmt, ...], reads: Counter[str], fn: ir.Function
) -> tuple[ir.Stmt, ...]:
    """``body`` with each loop over ``xs_items = loop_items(xs)`` that nothing else reads
    running over ``xs`` itself, where that line stood (the same items, as Python's
    ``for`` takes them)."""
    out: list[ir.Stmt] = []
    for stmt in body:
        blocks = ir.blocks_of(stmt)
        if blocks:
            stmt = ir.with_blocks(stmt, [_over_sequences(b, reads, fn) for b in blocks])
        source = _items_made_for(stmt, out, reads, fn) if isinstance(stmt, ir.Loop) else None
        if source is None:
            out.append(stmt)
            continue
        assert isinstance(stmt, ir.Loop)
        made = out[source]
        assert isinstance(made, ir.Assign) and isinstance(made.value, ir.Call)
        del out[source]
        out.append(replace(stmt, iterable=made.value.args[0]))
    return tuple(out)


def _items_made_for(
    loop: ir.Loop, before: list[ir.Stmt], reads: Counter[str], fn: ir.Function
) -> int | None:
    """The position in ``before`` of ``xs_items = loop_items(xs)`` when ``loop`` runs
    over ``xs_items``, nothing else reads it, and nothing between reads anything (the
    loop may then take ``xs`` where that line stood), else None."""
    for position in range(len(before) - 1, -1, -1):
        stmt = before[position]
        if not (isinstance(stmt, ir.Assign) and loop.iterable == ir.Name(stmt.target)):
            if ir.reads_of(stmt) or ir.blocks_of(stmt) or not isinstance(stmt, ir.Assign):
                return None
            continue
        value = stmt.value
        between = {n for s in before[position + 1 :] for n in ir.targets_of(s)}
        made = (
            reads[stmt.target] == 1
            and not between & set(ir.reads_of(stmt))
            and isinstance(value, ir.Call)
            and isinstance(value.func, ir.Name)
            and fn.bindings.get(value.func.id) is loop_items
        )
        return position if made else None
    return None
