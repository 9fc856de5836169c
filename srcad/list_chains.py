"""The lists a loop changes, changed in place in the version for floats.

Lowering gives each change of a list the function made a new value (``r_2 =
list_replaced(r_1, i, v)``, ``r_1 = appended(r_2, v)``): a copy of the list per change,
quadratic in a loop. A list no other name holds may instead be changed in place where its
old value is read nowhere after the change. :func:`coalesced` gives the values of such a
chain one name (``r_1 = list_replaced(r_1, i, v)``); :func:`items_replaced_in_place` writes
each of those item replacements in place, saving the old item for the backward pass to
put back (appends are grown in place by :mod:`srcad.reverse` itself).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from . import ir
from .rules.scalar import APPEND, REPLACE
from .rules.table import SETITEM

_CHAINED = (APPEND, REPLACE)


def coalesced(body: tuple[ir.Stmt, ...]) -> tuple[ir.Stmt, ...]:
    """``body`` with ``t = op(x, ...)`` (a list change inside a loop) and the reads of
    ``t`` after it renamed to ``x``, where ``t`` is bound there only and read only in
    that loop's body between it and the next line of the body binding ``x`` (which it
    may read), and ``x`` is read nowhere in between: the two names never hold their
    values at once, so one name serves for both."""
    counts: dict[str, int] = {}
    readers: dict[str, int] = {}
    for stmt in ir.walk(body):
        for target in ir.targets_of(stmt):
            counts[target] = counts.get(target, 0) + 1
        for name in set(ir.reads_of(stmt)):
            readers[name] = readers.get(name, 0) + 1
    once = {name for name, count in counts.items() if count == 1}
    return _coalesced(body, False, once, readers)


def _coalesced(
    body: tuple[ir.Stmt, ...], in_loop: bool, once: set[str], readers: dict[str, int]
) -> tuple[ir.Stmt, ...]:
    stmts = [
        ir.with_blocks(s, [
            _coalesced(b, in_loop or isinstance(s, ir.Loop), once, readers)
            for b in ir.blocks_of(s)
        ]) if ir.blocks_of(s) else s
        for s in body
    ]
    if not in_loop:
        return tuple(stmts)
    stmts = _joined_in_place(stmts, readers)
    for position, stmt in enumerate(stmts):
        old = _changed_list(stmt)
        if old is None or not isinstance(stmt, ir.Assign) or stmt.target not in once:
            continue
        new = stmt.target
        rebound = _next_binding(stmts, position + 1, old)
        if rebound is None:
            continue
        between = stmts[position + 1 : rebound + 1]
        read_between = sum(new in ir.reads_of(s) for s in ir.walk(between))
        if read_between == readers.get(new, 0) and old not in ir.read_in(between):
            stmts[position : rebound + 1] = ir.rename(stmts[position : rebound + 1], {new: old})
    return tuple(stmts)


def _joined_in_place(stmts: list[ir.Stmt], readers: dict[str, int]) -> list[ir.Stmt]:
    """``if c: ...; t = appended(x, v) else: t = x``, then ``x = t`` (a list a loop
    changes on some paths: ``if c: ys.append(v)``) as ``if c: ...; x = appended(x, v)``:
    the list changed in place on the path that changes it, where ``x`` is read nowhere
    after the change (the join's copies, gone; the lines between read ``x`` for ``t``)."""
    for position, stmt in enumerate(stmts):
        if not isinstance(stmt, ir.If):
            continue
        for joined in sorted(ir.defined_in([stmt])):
            found = [_last_binding(block, joined) for block in (stmt.body, stmt.orelse)]
            branches = [b for b in found if b is not None]
            if len(branches) != 2:
                continue
            olds = {_changed_list(b) or _copied(b) for b in branches}
            if len(olds) != 1 or None in olds or not any(_changed_list(b) for b in branches):
                continue
            (old,) = olds
            assert old is not None
            copy = _next_binding(stmts, position + 1, old)
            if copy is None or _copied(stmts[copy]) != joined:
                continue
            between = stmts[position + 1 : copy]
            reads = sum(joined in ir.reads_of(s) for s in ir.walk([stmt, *between]))
            if (
                reads + 1 != readers.get(joined, 0)
                or old in ir.read_in(between)
                or any(old in ir.read_in(_after(block, b)) for block, b in
                       zip((stmt.body, stmt.orelse), branches))
            ):
                continue
            # (the lines between read the join by its old name too: round 91, they read
            # a name no line bound any more, and the float version dropped them)
            renamed, *rest = ir.rename([stmt, *between], {joined: old})
            stmts[position : copy + 1] = [_without_self_copies(renamed), *rest]
            return _joined_in_place(stmts, readers)
    return stmts


def _last_binding(block: tuple[ir.Stmt, ...], name: str) -> ir.Stmt | None:
    """The top-level statement of ``block`` that binds ``name``, if it is the only one
    there and no nested block binds it."""
    found = [s for s in block if name in ir.targets_of(s)]
    if len(found) != 1 or any(name in ir.defined_in([s]) for s in block if ir.blocks_of(s)):
        return None
    return found[0]


def _after(block: tuple[ir.Stmt, ...], stmt: ir.Stmt) -> list[ir.Stmt]:
    return list(block[[id(s) for s in block].index(id(stmt)) + 1 :])


def _copied(stmt: ir.Stmt) -> str | None:
    """``x`` of the copy ``t = x``; else None."""
    if isinstance(stmt, ir.Assign) and isinstance(stmt.value, ir.Name) and not stmt.in_place:
        return stmt.value.id
    return None


def _without_self_copies(stmt: ir.Stmt) -> ir.Stmt:
    """``stmt`` without the lines ``x = x`` in its blocks."""
    blocks = [
        tuple(
            _without_self_copies(s) for s in block
            if not (isinstance(s, ir.Assign) and _copied(s) == s.target)
        )
        for block in ir.blocks_of(stmt)
    ]
    return ir.with_blocks(stmt, blocks) if blocks else stmt


#: ``R[i][j] = v`` changing the row ``R[i]`` of a table in place (see
#: :func:`items_replaced_in_place`): operands ``(R, i, j, v)``; its backprop is written by
#: :mod:`srcad.reverse` (``dv = dR[i][j]``, then that item of ``dR`` is zero)
ROW_SETITEM = ir.Rule(
    name="row item assignment",
    pattern=ir.Name("x"),
    params=("x", "i", "j", "v"),
    adjoints=(
        ir.Zeroed("j"), None, None,
        ir.Subscript(ir.Subscript(ir.Name("g"), ir.Name("i")), ir.Name("j")),
    ),
    in_place=True,
)


def items_replaced_in_place(
    body: tuple[ir.Stmt, ...], fresh: Callable[[str], str], in_loop: bool = False,
    numbers: Collection[str] = frozenset(),
) -> tuple[tuple[ir.Stmt, ...], dict[int, str]]:
    """``body`` with each ``xs = list_replaced(xs, i, v)`` inside a loop written as
    ``xs_old = xs[i]`` and an in-place ``xs[i] = v``; and for each such write (by id) the
    name of the old item (``fresh`` makes it). The backward pass sees every earlier state
    of the list again where its backprops put the old items back, in reverse order.

    A number written into a row of a table, ``R[i][j] = v`` (``r = R[i]; r_1 =
    list_replaced(r, j, v); R = list_replaced(R, i, r_1)``, the names ``r`` and ``r_1``
    read there only; ``numbers``: the names holding numbers), is written into the row
    in place too (``R_old = R[i][j]; R[i][j] = v``, rule :data:`ROW_SETITEM`), where a
    copy of the row per write was O(row length): lowering lets the source write
    ``R[i][j]`` only where ``R`` alone holds its rows (srcad.lower.rows)."""
    reads: dict[str, int] = {}
    for stmt in ir.walk(body):
        for name in set(ir.reads_of(stmt)):
            reads[name] = reads.get(name, 0) + 1
    for target in (t for s in ir.walk(body) for t in ir.targets_of(s)):
        reads[target] = reads.get(target, 0) + 1  # (a name bound twice: not a row's)
    return _replaced_in_place(body, fresh, in_loop, numbers, reads)


def _replaced_in_place(
    body: tuple[ir.Stmt, ...], fresh: Callable[[str], str], in_loop: bool,
    numbers: Collection[str], reads: dict[str, int],
) -> tuple[tuple[ir.Stmt, ...], dict[int, str]]:
    out: list[ir.Stmt] = []
    replaced: dict[int, str] = {}
    for stmt in body:
        row = _row_write(stmt, out, numbers, reads) if in_loop else None
        if row is not None:
            assert isinstance(stmt, ir.Assign)
            _, index, _ = stmt.operands
            row_index, value = row
            old = fresh(f"{stmt.target}_old")
            item = ir.Subscript(ir.Subscript(ir.Name(stmt.target), index), row_index)
            write = ir.Assign(
                stmt.target, item, ROW_SETITEM,
                (ir.Name(stmt.target), index, row_index, value),
                tag=stmt.tag, loc=stmt.loc, in_place=True,
            )
            replaced[id(write)] = old
            out[-2:] = [ir.Assign(old, item, tag=stmt.tag, loc=stmt.loc), write]
            continue
        if (
            in_loop
            and isinstance(stmt, ir.Assign)
            and stmt.rule is REPLACE
            and stmt.operands[0] == ir.Name(stmt.target)
        ):
            _, index, value = stmt.operands
            old = fresh(f"{stmt.target}_old")
            item = ir.Subscript(ir.Name(stmt.target), index)
            write = ir.Assign(
                stmt.target, item, SETITEM, (ir.Name(stmt.target), index, value),
                tag=stmt.tag, loc=stmt.loc, in_place=True,
            )
            replaced[id(write)] = old
            out += [ir.Assign(old, item, tag=stmt.tag, loc=stmt.loc), write]
            continue
        blocks = []
        for block in ir.blocks_of(stmt):
            rewritten, inner = _replaced_in_place(
                block, fresh, in_loop or isinstance(stmt, ir.Loop), numbers, reads
            )
            blocks.append(rewritten)
            replaced.update(inner)
        out.append(ir.with_blocks(stmt, blocks) if blocks else stmt)
    return tuple(out), replaced


def _row_write(
    stmt: ir.Stmt, before: list[ir.Stmt], numbers: Collection[str], reads: dict[str, int]
) -> tuple[ir.Expr, ir.Expr] | None:
    """``(j, v)`` where ``stmt`` and the two lines ``before`` it are ``R[i][j] = v`` of one
    source line: ``r = R[i]; r_1 = list_replaced(r, j, v); R = list_replaced(R, i, r_1)``,
    ``v`` a number, ``r`` and ``r_1`` each bound and read there only; else None."""
    if not (
        isinstance(stmt, ir.Assign) and stmt.rule is REPLACE and not stmt.in_place
        and stmt.operands[0] == ir.Name(stmt.target) and len(before) >= 2
    ):
        return None
    take, change = before[-2:]
    _, index, new_row = stmt.operands
    if not (
        isinstance(change, ir.Assign) and change.rule is REPLACE and not change.in_place
        and new_row == ir.Name(change.target)
        and isinstance(take, ir.Assign) and not take.in_place
        and change.operands[0] == ir.Name(take.target)
        and take.value == ir.Subscript(ir.Name(stmt.target), index)
        and take.loc == change.loc == stmt.loc
        and reads.get(take.target) == 2 and reads.get(change.target) == 2
    ):
        return None
    _, row_index, value = change.operands
    number = isinstance(value, ir.Name) and value.id in numbers or (
        isinstance(value, ir.Const) and type(value.value) in (float, int)
    )
    if isinstance(index, ir.Slice) or isinstance(row_index, ir.Slice):
        return None  # (`R[1:][j] = v` writes into a copy of rows, as Python does)
    if not number or {stmt.target, take.target} & set(ir.names_in(row_index)) or (
        stmt.target in ir.names_in(value) or take.target in ir.names_in(value)
    ):
        return None
    return row_index, value


def _changed_list(stmt: ir.Stmt) -> str | None:
    """``x`` of ``t = appended(x, v)`` or ``t = list_replaced(x, i, v)``; else None."""
    if isinstance(stmt, ir.Assign) and stmt.rule in _CHAINED and not stmt.in_place:
        first = stmt.operands[0]
        if isinstance(first, ir.Name) and first.id != stmt.target:
            return first.id
    return None


def _next_binding(stmts: list[ir.Stmt], start: int, name: str) -> int | None:
    """The position of the next statement of ``stmts`` (from ``start``) that binds
    ``name`` itself (not inside a block); None when a block binds it first, or none does."""
    for position in range(start, len(stmts)):
        stmt = stmts[position]
        if ir.blocks_of(stmt):
            if name in ir.defined_in([stmt]):
                return None
        elif name in ir.targets_of(stmt):
            return position
    return None
