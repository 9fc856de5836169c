"""Paths of library code that srcad cannot differentiate, refused when they are taken.

Library code dispatches on what it is given before it computes: SciPy's
``if is_numpy(xp): ... else: <the path for other array libraries>``. The test is not
known until the program runs, so both branches are lowered, and the other library's
branch often holds code srcad cannot differentiate (a ``try`` around the value, a call
without a rule). Refusing the whole function for a branch a numpy program never takes
would refuse most of SciPy.

So a branch of another file's ``if`` that holds such a statement becomes a run-time
refusal: the gradient raises the :class:`SrcadError` that would have been raised here
(at the user's call, then the library's line) if, and only if, the program takes that
branch. A silently wrong gradient stays impossible: the branch never runs in the
gradient. Code in the user's own files is still refused before the program runs.
"""

from __future__ import annotations

from collections.abc import Iterator

from . import ir
from .analyze import Activity, activity
from .contexts import touched, touching_error
from .diagnostics import at_user_call, no_rule_error
from .errors import SrcadError
from .frontend import in_library
from .names import NameAllocator
from .runtime import refuse


def defer_refusals(fn: ir.Function, wrt: tuple[str, ...]) -> tuple[ir.Function, Activity]:
    """``fn`` with each branch of another file's ``if`` that holds a statement srcad
    cannot differentiate (given the activity of ``wrt``) replaced by a refusal, and the
    activity of ``wrt`` in it (the next passes need it too)."""
    while True:
        active = activity(fn, wrt)
        found = _refused_branches(fn, active)
        if not found:
            return fn, active
        bindings = dict(fn.bindings)
        names = NameAllocator(fn.names())
        helper = next((n for n, obj in bindings.items() if obj is refuse), None)
        if helper is None:
            helper = names.fresh("cannot_differentiate")
            bindings[helper] = refuse
        replacements: dict[tuple[int, int], ir.Stmt] = {}
        for key, error in found.items():
            name = names.fresh("refusal")
            bindings[name] = error
            call = ir.Call(ir.Name(helper), (ir.Name(name),))
            replacements[key] = ir.Effect(
                call, note="a path srcad cannot differentiate", raises=True
            )
        fn = fn.with_body(_ReplaceBranches(replacements).visit_body(fn.body), bindings=bindings)


def _refused_branches(fn: ir.Function, active: Activity) -> dict[tuple[int, int], SrcadError]:
    """(id of an ``if`` of another file, its branch: 0 or 1) -> the error of the first
    statement in that branch that srcad would refuse, for the innermost such ``if``. An
    ``if`` with no way through (its other branch refused too, or raising) is refused as a
    whole: in the branch of an outer ``if``, or before the program runs when there is none."""
    refused = [
        (stmt, branches, error)
        for stmt, branches in _with_branches(fn.body, ())
        if (error := _refusal(stmt, active, fn)) is not None
    ]
    found: dict[tuple[int, int], SrcadError] = {}
    whole: set[int] = set()  # ids of the ifs refused as a whole
    while refused:
        stmt, branches, error = refused.pop(0)
        library = [
            k for k, (node, _) in enumerate(branches)
            if in_library(node.loc.filename, fn.source_file)
            and not node.loc.filename.startswith("<")
        ]
        if not library:
            continue  # (refused before the program runs)
        node, k = branches[library[-1]]
        found.setdefault((id(node), k), error)
        if id(node) not in whole and (
            (id(node), 1 - k) in found or _raises((node.body, node.orelse)[1 - k])
        ):
            whole.add(id(node))
            refused.append((node, branches[: library[-1]], found[(id(node), k)]))
    return {key: error for key, error in found.items() if key[0] not in whole}


def _raises(block: tuple[ir.Stmt, ...]) -> bool:
    """Whether ``block`` always raises (the user's ``raise``, a refused path)."""
    return any(isinstance(s, ir.Effect) and s.raises for s in block)


def _refusal(stmt: ir.Stmt, active: Activity, fn: ir.Function) -> SrcadError | None:
    """The error srcad would raise for ``stmt`` (see :mod:`srcad.reverse`,
    :func:`srcad.contexts.refuse_active`), or None."""
    if isinstance(stmt, ir.Assign) and stmt.rule is None and active.is_active(stmt.target):
        return None if active.by_name_only(stmt) else no_rule_error(stmt, fn)
    names = touched(stmt, active)
    if not names or not isinstance(stmt, ir.Python | ir.Enter):  # (what ``touched`` reads)
        return None
    error = touching_error(stmt, names[0], "depends on the differentiated inputs")
    return at_user_call(error, stmt.loc, fn.call_sites)


def _with_branches(
    body: tuple[ir.Stmt, ...], branches: tuple[tuple[ir.If, int], ...]
) -> Iterator[tuple[ir.Stmt, tuple[tuple[ir.If, int], ...]]]:
    """Every statement of ``body``, with the ``if`` branches it is in (outermost first)."""
    for stmt in body:
        yield stmt, branches
        if isinstance(stmt, ir.If):
            yield from _with_branches(stmt.body, (*branches, (stmt, 0)))
            yield from _with_branches(stmt.orelse, (*branches, (stmt, 1)))
        else:
            for block in ir.blocks_of(stmt):
                yield from _with_branches(block, branches)


class _ReplaceBranches(ir.Transformer):
    """Branches of ``if`` statements replaced: (id of the ``if``, 0 for its body or 1
    for its ``else``) -> the statement that takes the branch's place."""

    def __init__(self, replacements: dict[tuple[int, int], ir.Stmt]) -> None:
        self.replacements = replacements

    def visit_If(self, stmt: ir.If) -> ir.Stmt:
        new = self.generic_visit(stmt)
        blocks = [
            (self.replacements[(id(stmt), k)],) if (id(stmt), k) in self.replacements else block
            for k, block in enumerate(ir.blocks_of(new))
        ]
        return ir.with_blocks(new, blocks)


__all__ = ["defer_refusals"]
