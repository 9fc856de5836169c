"""The tape: values a loop overwrites are pushed in the forward pass and popped in the
backward pass; only those the backward pass reads are kept (:func:`prune_saves`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from . import ir
from .names import NameAllocator


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
    if not ir.has_loops(body):  # (only a loop saves values: the tape goes)
        return fn.with_body([s for s in body if not isinstance(s, ir.Tape)])
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


def loop_tapes(fn: ir.Function) -> ir.Function:
    """Values a top-level loop saves once per iteration, each on a list of its own, as
    a hand-written gradient keeps them: the forward loop appends to ``tape_x``, the
    backward loop runs over it last first, ``for x in reversed(tape_x)``. That costs
    less than the shared stack's ``push``/``pop`` calls; what a branch or an inner loop
    saves stays on the stack. (For the listing: :func:`srcad.emit.function` prints a
    gradient through it.)"""
    body = list(fn.body)
    shared = next((s for s in body if isinstance(s, ir.Tape)), None)
    split = ir.section_index(body) if shared is not None else None
    loops = [(i, s) for i, s in enumerate(body) if isinstance(s, ir.Loop)]
    if split is None or not any(i < split for i, _ in loops):  # (no loop saves anything)
        return fn
    assert shared is not None
    tags = Counter((i > split, s.tag) for i, s in loops)
    backward = {s.tag: i for i, s in loops if i > split and tags[True, s.tag] == 1}
    pushes = Counter(s.name for s in ir.walk(body) if isinstance(s, ir.Push))
    pops = Counter(s.name for s in ir.walk(body) if isinstance(s, ir.Pop))
    names = NameAllocator(
        ir.defined_in(body) | ir.read_in(body) | {*fn.params, *fn.kwonly, *fn.bindings}
        | set(fn.free_cells)
    )
    made: dict[int, list[ir.Stmt]] = {}  # position -> what replaces the statement there
    for position, forward in loops:
        back_at = backward.get(forward.tag)
        if position > split or back_at is None or tags[False, forward.tag] != 1:
            continue
        back = body[back_at]
        assert isinstance(back, ir.Loop)
        if back.iterable is None or back.counter or back.exit_flag:
            continue
        saved = [
            s.name for s in forward.body
            if isinstance(s, ir.Push) and s == ir.Push(s.name, shared.push)
            and pushes[s.name] == pops[s.name] == 1
            and ir.Pop(s.name, shared.pop) in back.body
        ]
        if not saved:
            continue
        tapes = {name: names.fresh(f"tape_{name}") for name in saved}
        new_forward = [
            ir.Push(s.name, f"{tapes[s.name]}.append") if isinstance(s, ir.Push)
            and s.name in tapes else s
            for s in forward.body
        ]
        new_back: list[ir.Stmt] = []
        restores: list[str] = []
        runs: list[ir.Expr] = []
        for s in back.body:
            if isinstance(s, ir.Pop) and s.name in tapes:
                runs.append(ir.Call(ir.Name(shared.reversed), (ir.Name(tapes[s.name]),)))
                before = ir.read_in(new_back) | ir.defined_in(new_back)
                if s.name in before:  # (read or written first: restored where it stood)
                    item = names.fresh(f"saved_{s.name}")
                    new_back.append(ir.Assign(s.name, ir.Name(item)))
                    restores.append(item)
                else:
                    restores.append(s.name)
            else:
                new_back.append(s)
        index = back.index if back.index in ir.read_in(new_back) else None
        if index is not None:
            runs.insert(0, back.iterable)
        iterable = runs[0] if len(runs) == 1 else ir.Call(ir.Name(shared.zip), tuple(runs))
        made[position] = [
            *(ir.Assign(tape, ir.Tuple((), is_list=True)) for tape in tapes.values()),
            replace(forward, body=tuple(new_forward)),
        ]
        made[back_at] = [replace(
            back, body=tuple(new_back), index=index, iterable=iterable, restores=tuple(restores)
        )]
    if not made:
        return fn
    out = [new for position, s in enumerate(body) for new in made.get(position, [s])]
    if not any(
        isinstance(s, ir.Push | ir.Pop) and s.via in (shared.push, shared.pop)
        for s in ir.walk(out)
    ):
        out.remove(shared)
    return fn.with_body(out)


__all__ = ["loop_tapes", "prune_saves"]
