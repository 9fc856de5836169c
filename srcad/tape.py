"""The tape: values a loop overwrites are pushed in the forward pass and popped in the
backward pass; only those the backward pass reads are kept (:func:`prune_saves`)."""

from __future__ import annotations

from . import ir


class _DropSaves(ir.Transformer):
    """Drops the pushes and pops of values that are not ``needed``."""

    def __init__(self, needed: set[str]) -> None:
        self.needed = needed

    def visit_Push(self, stmt: ir.Push) -> ir.Push | None:
        return stmt if stmt.name in self.needed else None

    visit_Pop = visit_Push


def prune_saves(fn: ir.Function) -> ir.Function:
    """Keep the push/pop pairs of values the backward pass reads; drop the rest.

    A kept value that has no definition before its loop starts as ``None`` (so the
    first push has something to save); the stack itself disappears when nothing is
    pushed.
    """
    body = list(fn.body)
    split = ir.section_index(body)
    if split is None:  # no backward pass (a tangent function): nothing is saved
        return fn
    needed = ir.read_in(body[split:]) - {s.via for s in ir.walk(body) if isinstance(s, ir.Pop)}
    body = list(_DropSaves(needed).visit_body(body))
    body = _drop_unread_in_loops(body, split)
    pushed = [s.name for s in ir.walk(body) if isinstance(s, ir.Push)]
    tape = next((i for i, s in enumerate(body) if isinstance(s, ir.Tape)), None)
    if tape is None:
        return fn.with_body(body)
    if not pushed:
        return fn.with_body(body[:tape] + body[tape + 1 :])
    top_level = {s.target for s in body if isinstance(s, ir.Assign)} | set(fn.params)
    starts = []
    for name in dict.fromkeys(pushed):
        if name not in top_level:
            starts.append(ir.Assign(name, ir.Const(None)))
    return fn.with_body(body[: tape + 1] + starts + body[tape + 1 :])


class _DropInLoops(ir.Transformer):
    """Drops, in the loops of the given tags, the pushes (forward) or pops (backward) of
    the given names."""

    def __init__(self, names: dict[int, set[str]], kind: type) -> None:
        self.names, self.kind, self.inside = names, kind, set[str]()

    def visit_Loop(self, stmt: ir.Loop) -> ir.Stmt:
        outer = self.inside
        self.inside = outer | self.names.get(stmt.tag, set())
        new = self.generic_visit(stmt)
        self.inside = outer
        return new

    def visit_Push(self, stmt: ir.Push) -> ir.Push | None:
        return None if self.kind is ir.Push and stmt.name in self.inside else stmt

    def visit_Pop(self, stmt: ir.Pop) -> ir.Pop | None:
        return None if self.kind is ir.Pop and stmt.name in self.inside else stmt


def _drop_unread_in_loops(body: list[ir.Stmt], split: int) -> list[ir.Stmt]:
    """The saves of a top-level loop whose restored values nothing reads: not the
    backward loop itself, nor what runs after it (a running sum ``total = total + t``
    read after the loop in its final value only). Its pushes and pops of such a name go
    together, so the tape stays paired."""
    forward_loops = {s.tag for s in body[:split] if isinstance(s, ir.Loop)}
    unread: dict[int, set[str]] = {}
    for position in range(split, len(body)):
        loop = body[position]
        if not isinstance(loop, ir.Loop) or loop.tag not in forward_loops:
            continue
        popped = {s.name for s in ir.walk([loop]) if isinstance(s, ir.Pop)}
        read = ir.read_in([loop]) | ir.read_in(body[position + 1 :])
        if popped - read:
            unread[loop.tag] = popped - read
    if not unread:
        return body
    return [
        *_DropInLoops(unread, ir.Push).visit_body(body[:split]),
        *_DropInLoops(unread, ir.Pop).visit_body(body[split:]),
    ]


__all__ = ["prune_saves"]
