"""The gradient of a loop over Python floats with respect to one or two of its float
parameters, by forward mode.

Reverse mode saves every value a loop overwrites on a tape and runs the loop again
backwards; in Python the saving and the second loop cost more than the derivative
itself. For a few parameters, forward mode carries each value's tangent along each
parameter through the same loop instead, and saves nothing:

    for c in coefficients:            # total = total * x + c, d/dx
        t3 = total * x
        t3_dx = x * total_dx + total
        total = t3 + c
        total_dx = t3_dx

The tangent of ``name`` along the parameter ``p`` is ``name_dp`` (:class:`Direction`);
each direction has its own activity, so a value that depends on one parameter only
gets one tangent line. One pass per parameter costs about what the tape and the
backward loop cost for one, so reverse mode stays the choice from
:data:`MOST_PARAMETERS` + 1 parameters on, and for code without loops (which saves
nothing). The function is the float version: it starts with the same check, and falls
back to the array version (reverse mode) for anything but Python numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from typing import Any

from . import ir
from .analyze import Activity, FloatGuards, activity
from .float_guard import ARRAY_VERSION, USER_FUNCTION, array_version_name, float_guard
from .forward import Direction
from .local_jacobians import operation_count, reads_by_name, with_local_jacobians
from .names import NameAllocator
from .rules.table import COPY
from .runtime import raising_as_the_function_does

#: forward mode for at most this many parameters (each one a pass through the loops)
MOST_PARAMETERS = 2

_SUFFIX = {"grad": "_grad", "value_and_grad": "_value_and_grad"}


def forward_gradient(
    fn: ir.Function,
    wrt: tuple[str, ...],
    numbers: Collection[str],
    guards: FloatGuards,
    mode: str,
) -> ir.Function | None:
    """The float version of ``fn``'s gradient (``mode``: "grad" or "value_and_grad")
    with respect to ``wrt`` by forward mode, or None where reverse mode is the better
    choice or the only one: more parameters than :data:`MOST_PARAMETERS`, no loop that
    computes a differentiated value, or a differentiated value that is not a number
    (``numbers``: the names that are, once ``guards`` passed) or has no elementwise
    rule. ``fn`` is the function's listing for Python numbers."""
    if mode not in _SUFFIX or not 1 <= len(wrt) <= MOST_PARAMETERS:
        return None
    result = next(s for s in fn.body if isinstance(s, ir.Return)).value
    if not (isinstance(result, ir.Const) or isinstance(result, ir.Name) and result.id in numbers):
        return None
    if not all(p in numbers for p in wrt):
        return None
    if not any(isinstance(s, ir.Loop) for s in ir.walk(fn.body)):
        return None  # (straight-line code saves nothing: reverse mode, one pass)
    activities = {p: activity(fn, (p,)) for p in wrt}
    if not _numbers_only(fn.body, list(activities.values()), numbers):
        return None
    if not _cheaper_than_reverse(fn.body, list(activities.values())):
        return None
    names = NameAllocator(fn.names())
    bindings: dict[str, Any] = dict(fn.bindings)
    name = names.fresh(fn.name + _SUFFIX[mode])
    bound = {t for s in ir.walk(fn.body) for t in ir.targets_of(s)}
    directions = [  # (the float version's slopes, as reverse mode's: adjoint templates)
        Direction(fn, activities[p], p, names, bindings, rebound=p in bound,
                  adjoint_templates=True)
        for p in wrt
    ]
    body: list[ir.Stmt] = [ir.FORWARD]
    for direction in directions:
        if direction.rebound:
            body.append(ir.Adjoint(direction.tangent(direction.param), ir.Const(1.0)))
    lines = _with_tangents(
        tuple(s for s in fn.body if not isinstance(s, ir.Return)), directions, names,
        reads_by_name(fn.body),
    )
    # (a global srcad cannot see bound: its tangent is zero where the function starts)
    bound |= {*fn.params, *fn.kwonly}
    starting = dict.fromkeys(v for d in directions for v in d.tangents if v not in bound)
    body += [  # (a value's tangents side by side: see _one_tangent_for_twins)
        ir.Adjoint(d.tangents[value], ir.Const(0.0))
        for value in starting for d in directions if value in d.tangents
    ]
    body += lines
    gradients = [d.operand_tangent(result) or ir.Const(0.0) for d in directions]
    grads: ir.Expr = gradients[0] if len(gradients) == 1 else ir.Tuple(tuple(gradients))
    body.append(ir.Return(ir.Tuple((result, grads)) if mode == "value_and_grad" else grads))
    if len(directions) == 2:
        body = _one_tangent_for_twins(body, *directions)

    binder = directions[0]  # (names what the check calls, in the same bindings)
    lists = {p: names.fresh(f"{p}_floats") for p in guards.from_arrays}
    body = list(ir.rename(body, lists))
    body = float_guard(binder, fn, name, guards, body, ir.read_in(body), lists)
    fallback = binder.bind(array_version_name(name), ARRAY_VERSION)
    # (its own errors: raised as it raises them)
    itself = binder.bind(f"{fn.name}_function", USER_FUNCTION)
    on_float_error = ir.Call(
        ir.Name(binder.bind("raising_as_the_function_does", raising_as_the_function_does)),
        (ir.Name(fallback), ir.Name(itself), *(ir.Name(p) for p in fn.params)),
        tuple((k, ir.Name(k)) for k in fn.kwonly),
    )
    return ir.Function(
        name=name,
        params=fn.params,
        kwonly=fn.kwonly,
        body=tuple(body),
        bindings=bindings,
        free_cells=fn.free_cells,
        free_objects=fn.free_objects,
        source_file=fn.source_file,
        source_line=fn.source_line,
        dependencies=fn.dependencies,
        on_float_error=on_float_error,
    )


def _numbers_only(
    body: tuple[ir.Stmt, ...], activities: list[Activity], numbers: Collection[str]
) -> bool:
    """Is every differentiated value of ``body`` a number made by an elementwise rule
    (or a copy), and no plain Python (``try``, ``with``) touches one?"""
    for stmt in ir.walk(body):
        if isinstance(stmt, ir.Python | ir.Enter):
            return False
        if not isinstance(stmt, ir.Assign):
            continue
        if not any(a.is_active(stmt.target) for a in activities):
            continue
        rule = stmt.rule
        if stmt.target not in numbers or stmt.in_place or stmt.logical:
            return False
        if rule is None:
            continue
        if not rule.elementwise and rule is not COPY:
            return False
    return True


def _cheaper_than_reverse(body: tuple[ir.Stmt, ...], activities: list[Activity]) -> bool:
    """Does forward mode along each of the ``activities`` (one per parameter) cost less
    than reverse mode in ``body``'s loops, and is there a loop that computes a
    differentiated value? The cost model counts, per iteration, a multiply-add for each
    differentiated operand of a differentiated line: once per direction it varies along
    in forward mode, once in reverse mode, which also saves and restores each carried
    value (two) and runs a second loop (three)."""
    forward = backward = 0
    loops = [s for s in ir.walk(body) if isinstance(s, ir.Loop)]
    for loop in loops:
        for stmt in ir.walk((*loop.test, *loop.body)):
            if not isinstance(stmt, ir.Assign):
                continue
            names = [n for o in stmt.operands for n in ir.names_in(o)]
            along = [
                sum(a.is_active(n) for n in names) for a in activities if a.is_active(stmt.target)
            ]
            forward += sum(along)
            backward += max(along, default=0)
        carried = [c for c in loop.carried if any(a.is_active(c) for a in activities)]
        backward += 2 * len(carried) + 3 if carried else 0
    return backward > 0 and forward <= backward


def _with_tangents(
    block: tuple[ir.Stmt, ...],
    directions: list[Direction],
    names: NameAllocator,
    reads: Counter[str],
    carried: frozenset[str] = frozenset(),
) -> list[ir.Stmt]:
    """``block`` with each differentiated line followed by its tangent along each
    direction that differentiates it, or each run of straight-line lines by its local
    partial derivatives where that costs fewer operations (:mod:`srcad.local_jacobians`).
    ``reads``: how often the whole function reads each name; ``carried``: the values the
    loop whose body ``block`` is carries to its next iteration."""
    out: list[ir.Stmt] = []
    run: list[ir.Stmt] = []
    for stmt in (*block, None):
        if stmt is not None and not isinstance(stmt, ir.If | ir.Loop):
            run.append(stmt)
            continue
        out += _run_with_tangents(run, directions, names, reads, carried)
        run = []
        if stmt is not None:
            inner = frozenset(stmt.carried) if isinstance(stmt, ir.Loop) else frozenset()
            blocks = [
                _with_tangents(b, directions, names, reads, inner) for b in ir.blocks_of(stmt)
            ]
            out.append(ir.with_blocks(stmt, blocks))
    return out


def _run_with_tangents(
    run: list[ir.Stmt],
    directions: list[Direction],
    names: NameAllocator,
    reads: Counter[str],
    carried: frozenset[str],
) -> list[ir.Stmt]:
    """A run of straight-line lines with tangents, in the cheaper of two forms."""
    line_by_line = _line_by_line(run, directions, names)
    inside = reads_by_name(run)
    elsewhere = {n for n, count in reads.items() if count > inside[n]} | carried
    by_partials = with_local_jacobians(run, directions, names, elsewhere)
    if by_partials is not None and operation_count(by_partials) < operation_count(
        line_by_line
    ):
        return by_partials
    return line_by_line


def _line_by_line(
    run: list[ir.Stmt], directions: list[Direction], names: NameAllocator
) -> list[ir.Stmt]:
    """``run`` with each differentiated line followed by its tangent along each direction
    that differentiates it; a line that binds one of its own operands again
    (``x = x * d``) has the operand's old value kept for its tangents."""
    out: list[ir.Stmt] = []
    for stmt in run:
        along = (
            [d for d in directions if d.activity.is_active(stmt.target)]
            if isinstance(stmt, ir.Assign)
            else []
        )
        if not along:
            if not isinstance(stmt, ir.Return):
                out.append(stmt)
            continue
        assert isinstance(stmt, ir.Assign)  # (only assignments are differentiated)
        changed = along[0].changed_by(stmt)
        old = {n: names.fresh(f"{n}_old") for n in changed}
        tangents: list[ir.Stmt] = []
        for direction in along:
            tangent = direction.tangent_of(stmt, old)
            assert isinstance(tangent, ir.Adjoint)  # (numbers: no item writes)
            tangents.append(
                ir.Adjoint(
                    tangent.target, ir.map_expr(tangent.value, direction.unshaped), tag=tangent.tag
                )
            )
        read = ir.read_in(tangents)
        out += [ir.Assign(old[n], ir.Name(n)) for n in changed if old[n] in read]
        out += [stmt, *tangents]
    return out


def _one_tangent_for_twins(
    body: list[ir.Stmt], first: Direction, second: Direction
) -> list[ir.Stmt]:
    """``body`` with the second direction's tangents read from the first's where the two
    are equal everywhere: parameters that enter only through their sum (``1 + rate +
    spread``) have one tangent, computed once.

    The proof is local: every line that binds a tangent of either direction is a pair,
    the first direction's ``a = e`` directly followed by the second's ``b = e2``, where
    ``e2`` with each of the second's tangents renamed to the first's is ``e`` and does not
    read ``a``. Then, by induction over the pairs, ``b`` equals ``a`` after each pair
    (``e2`` reads ``b``'s old value where ``e`` read ``a``'s), so every other line may read
    ``a`` for ``b``. Where any line breaks the pattern, ``body`` is returned as it is."""
    if not set(second.tangents) <= set(first.tangents):
        return body
    twin = {dot: first.tangents[value] for value, dot in second.tangents.items()}
    kept = _without_twin_lines(body, twin, set(twin.values()))
    if kept is None:
        return body
    said = f"the tangents along {second.param} are those along {first.param}: computed once"
    return [kept[0], ir.Comment(said), *ir.rename(kept[1:], twin)]


def _without_twin_lines(
    block: tuple[ir.Stmt, ...] | list[ir.Stmt], twin: dict[str, str], firsts: set[str]
) -> list[ir.Stmt] | None:
    """``block`` without the second line of each pair (see :func:`_one_tangent_for_twins`),
    or None where a line binds a tangent outside a pair."""
    out: list[ir.Stmt] = []
    skip = False
    for at, stmt in enumerate(block):
        if skip:
            skip = False
            continue
        if isinstance(stmt, ir.If | ir.Loop):
            blocks = [_without_twin_lines(b, twin, firsts) for b in ir.blocks_of(stmt)]
            if any(b is None for b in blocks):
                return None
            out.append(ir.with_blocks(stmt, blocks))  # type: ignore[arg-type]
            continue
        targets = ir.targets_of(stmt)
        if not any(t in twin or t in firsts for t in targets):
            out.append(stmt)
            continue
        after = block[at + 1] if at + 1 < len(block) else None
        if not (isinstance(stmt, ir.Adjoint) and isinstance(after, ir.Adjoint)):
            return None
        (renamed,) = ir.rename((after,), twin)
        assert isinstance(renamed, ir.Adjoint)
        if (
            twin.get(after.target) != stmt.target
            or (renamed.value, renamed.accumulate) != (stmt.value, stmt.accumulate)
            or stmt.target in ir.names_in(after.value)
        ):
            return None
        out.append(stmt)
        skip = True
    return out
