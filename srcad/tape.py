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


__all__ = ["prune_saves"]
