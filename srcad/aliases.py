"""Adjoints that may share their object with another name are updated in place only
after a copy: ``dx = dxpy`` then ``dx += c`` would change ``dxpy`` too. A rewrite that
both modes' code needs (reverse mode's optimiser, forward mode's tangent lines)."""

from __future__ import annotations

from collections.abc import Callable, Set

from . import ir
from .analyze import CallFacts, is_alias

_NO_FACTS = CallFacts()


def _aliases_within(
    stmts: tuple[ir.Stmt, ...] | list[ir.Stmt], fresh_calls: CallFacts, immutable: Set[str]
) -> set[str]:
    found: set[str] = set()
    for stmt in ir.walk(stmts):
        if (
            isinstance(stmt, ir.Adjoint)
            and not stmt.accumulate
            and stmt.target not in immutable
            and is_alias(stmt.value, fresh_calls)
        ):
            found.add(stmt.target)
            found |= _shared_with(stmt.value, fresh_calls)
    return found


def _shared_with(value: ir.Expr, facts: CallFacts) -> set[str]:
    """The names whose objects an aliasing ``value`` may share: all it reads
    (``np.transpose(dt)`` is a view of ``dt``; a name that is never written is harmless);
    none for an item moved out of a list's adjoint (``moved_item(dxs, i)``, before the
    line replacing ``dxs[i]``: the list no longer holds it, an array's row is a copy)."""
    if facts.moved(value):
        return set()
    return set(ir.names_in(value))


def _fresh(name: str, copy_name: str, tag: int) -> ir.Adjoint:
    """``name = fresh_copy(name)``."""
    return ir.Adjoint(name, ir.Call(ir.Name(copy_name), (ir.Name(name),)), tag=tag)


def _copied_once_before(
    loop: ir.Loop, aliased: set[str], bound: set[str], fresh_calls: CallFacts,
    immutable: Set[str],
) -> set[str]:
    """The adjoints that may share their object when ``loop`` starts, that it updates item
    by item, and that nothing in it makes share again: one copy before the loop does
    (a copy in each iteration made a loop writing one item per step quadratic). Only
    adjoints this block bound before the loop (a name an ``if`` binds may be unbound)."""
    updated = {s.target for s in ir.walk([loop]) if isinstance(s, ir.AdjointItem)}
    return (updated & aliased & bound) - _aliases_within([loop], fresh_calls, immutable)


def _sharing(
    body: list[ir.Stmt], fresh_calls: CallFacts, immutable: Set[str]
) -> Callable[[str], str]:
    """For each name, one name standing for every name whose object it may share in
    ``body`` (by the aliasing lines anywhere in it: a union of them, conservatively)."""
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        while name in parent:
            name = parent[name]
        return name

    for stmt in ir.walk(body):
        if (
            isinstance(stmt, ir.Adjoint) and not stmt.accumulate
            and stmt.target not in immutable and is_alias(stmt.value, fresh_calls)
        ):
            for name in _passed_names(stmt.value, fresh_calls):
                root, other = find(name), find(stmt.target)
                if root != other:
                    parent[root] = other
    return find


def _passed_names(value: ir.Expr, facts: CallFacts) -> set[str]:
    """The names whose object ``value`` may be (see :func:`srcad.analyze.is_alias`): a
    name itself, what a call may pass on by its declared facts (an unknown call: all it
    reads); none for arithmetic and calls that make a new object."""
    if isinstance(value, ir.Name):
        return {value.id}
    if isinstance(value, ir.Call) and isinstance(value.func, ir.Name):
        if value.func.id in facts.fresh:
            return set()
        if value.func.id in facts.passes:
            positions = facts.passes[value.func.id]
            return {
                name for k, a in enumerate(value.args) if k in positions
                for name in _passed_names(a, facts)
            }
    if not is_alias(value, facts):
        return set()
    return set(ir.names_in(value))


def _distinct_results(
    stmt: ir.Return, immutable: Set[str], copy_name: str, group_of: Callable[[str], str]
) -> ir.Return:
    """``stmt`` returning a copy of each result that may share its object with one
    returned before it (``dA = unbroadcast(dt1, A)`` and ``dB = unbroadcast(dt1, B)``
    are one array; ``group_of``: see :func:`_sharing`): the caller may change one
    gradient in place (weight decay on ``A`` only), which must not change another."""
    seen: set[str] = set()  # (the groups of the results before)

    def copied(expr: ir.Expr) -> ir.Expr:  # (in order: the first result stays itself)
        if isinstance(expr, ir.Tuple):  # (the results, one per parameter; value_and_grad's
            elts = tuple(copied(e) for e in expr.elts)  # value and gradients)
            same = all(a is b for a, b in zip(elts, expr.elts))
            return expr if same else ir.Tuple(elts, expr.is_list)
        if not isinstance(expr, ir.Name) or expr.id in immutable:
            return expr  # (a structure the result is rebuilt into, a copy already...)
        group = group_of(expr.id)
        if group in seen:  # (the same name again, or one that may share its object)
            return ir.Call(ir.Name(copy_name), (expr,))
        seen.add(group)
        return expr

    value = copied(stmt.value)
    return stmt if value is stmt.value else ir.Return(value, stmt.loc)


def protect_aliases(
    body: list[ir.Stmt],
    copy_name: str,
    fresh_calls: CallFacts = _NO_FACTS,
    aliased: set[str] | None = None,
    *,
    immutable: Set[str] = frozenset(),
    results: bool = True,
) -> list[ir.Stmt]:
    """Rewrite in-place updates of adjoints that may share their object with another name.

    ``+=`` and ``d[i] += g`` update a numpy array (or list) in place; after ``dx = dxpy``
    that would change ``dxpy`` too. ``d += c`` becomes ``d = d + c``; an item update is
    preceded by a copy (``copy_name`` is bound to :func:`srcad.runtime.fresh_copy`).
    Inside branches and loops every alias made anywhere in the block
    counts (conservatively) from the block's start. ``immutable``: adjoints that hold
    Python numbers, whose sharing is harmless (``dv = dxs[i]`` shares nothing to change).
    ``results``: a ``return`` gives a copy of each result that may share its object
    with one before it (see :func:`_distinct_results`).
    """
    aliased = set() if aliased is None else aliased
    bound: set[str] = set()  # (adjoints this block binds before the statement at hand)
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.Adjoint):
            bound.add(stmt.target)
            if stmt.accumulate and stmt.target in aliased:
                stmt = ir.Adjoint(
                    stmt.target,
                    ir.BinOp("+", ir.Name(stmt.target), stmt.value),
                    accumulate=False,
                    tag=stmt.tag,
                )
            if not stmt.accumulate:
                if stmt.target not in immutable and is_alias(stmt.value, fresh_calls):
                    aliased.add(stmt.target)
                    aliased |= _shared_with(stmt.value, fresh_calls)
                else:
                    aliased.discard(stmt.target)
        elif isinstance(stmt, ir.AdjointItem) and stmt.target in aliased:
            out.append(_fresh(stmt.target, copy_name, stmt.tag))
            aliased.discard(stmt.target)
        elif isinstance(stmt, ir.Return) and results:
            stmt = _distinct_results(
                stmt, immutable, copy_name, _sharing(body, fresh_calls, immutable)
            )
        elif isinstance(stmt, ir.If | ir.Loop):
            if isinstance(stmt, ir.Loop):
                hoisted = _copied_once_before(stmt, aliased, bound, fresh_calls, immutable)
                for name in sorted(hoisted):
                    out.append(_fresh(name, copy_name, stmt.tag))
                    aliased.discard(name)
            aliased |= _aliases_within([stmt], fresh_calls, immutable)
            blocks = [
                tuple(protect_aliases(
                    list(b), copy_name, fresh_calls, set(aliased), immutable=immutable,
                    results=results,
                ))
                for b in ir.blocks_of(stmt)
            ]
            stmt = ir.with_blocks(stmt, blocks)
        out.append(stmt)
    return out


__all__ = ["protect_aliases"]
