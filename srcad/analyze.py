"""Analyze: questions about a listing, never rewrites. Which values are active (depend
on a ``wrt`` input and reach the result), which values may alias another one, which
values are numbers, and where a version for Python floats must check its inputs."""

from __future__ import annotations

import bisect
import builtins
import math
import types
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from . import ir, pycode
from .rules.scalar import FIELD, ITEM, ITERATING_READS, LOOP_ITEMS, REPLACE, SORTED
from .rules.table import COPY, SETITEM


@dataclass(frozen=True)
class Activity:
    """``varied``: depends on a wrt input; ``useful``: reaches the result; ``active``: both."""

    varied: frozenset[str]
    useful: frozenset[str]
    #: edges ``(target, operand)`` with an exactly zero derivative, and why
    cut: Mapping[tuple[str, str], str] = field(default_factory=dict)

    @property
    def active(self) -> frozenset[str]:
        return self.varied & self.useful

    def is_active(self, name: str) -> bool:
        return name in self.varied and name in self.useful

    def by_name_only(self, stmt: ir.Assign) -> bool:
        """Whether ``stmt``, a gate without a rule, reads no varied value: its target is
        varied only because its name is (``u = rng.random(n)``, then ``u *= a``), and its
        value has no derivative to compute (zero)."""
        return stmt.rule is None and self.varied.isdisjoint(ir.names_in(stmt.value))


def _differentiable_inputs(stmt: ir.Assign, cut: Mapping[tuple[str, str], str]) -> set[str]:
    """Names through which a derivative can flow into ``stmt``'s target."""
    if stmt.rule is None:  # no rule: every input counts, so that misuse is caught
        return set(ir.names_in(stmt.value))
    found: set[str] = set()
    for param, operand in zip(stmt.rule.params, stmt.operands):
        if stmt.rule.adjoint_for(param) is not None or param in stmt.rule.orders:
            found.update(ir.names_in(operand))  # (an order: so that it is refused)
    return {name for name in found if (stmt.target, name) not in cut}


def _operand(stmt: ir.Assign, param: str) -> ir.Expr:
    assert stmt.rule is not None  # (operands are in the order of a rule's parameters)
    return stmt.operands[stmt.rule.params.index(param)]


def shift_invariant_cuts(fn: ir.Function) -> dict[tuple[str, str], str]:
    """Edges ``(v, m)`` of ``v = a - m`` through which the derivative is exactly zero,
    each with a one-line reason for the generated code.

    ``m`` is a reduction of ``a`` with ``keepdims=True`` (so it is constant along its
    axis: the max in a numerically stable softmax), or a reduction over all axes (one
    number: constant along every axis), and every reader of ``v`` is left unchanged by
    a shift along that axis: a gate whose rule is ``shift_invariant`` there (the
    log-softmax idiom), or an exponential normalised along it over several statements
    (:func:`_normalised_exponential`). The shift cancels, ``m`` gets no gradient through
    ``v``, and the backward pass of the max is not generated -- as in hand-written code.
    Exact, not an approximation: ``v``'s adjoint sums to zero along the axis.
    """
    definitions = _definitions(fn)

    def single(name: str) -> ir.Assign | None:
        found = definitions.get(name, [])
        return found[0] if len(found) == 1 and found[0].rule is not None else None

    def axis_of_shift(stmt: ir.Assign) -> ir.Const | None:
        """The axis along which ``stmt`` (``v = a - m`` or ``a + m``) shifts ``a``
        (``Const(None)``: every axis, by one number)."""
        if not (isinstance(stmt.value, ir.BinOp) and stmt.value.op in "+-"):
            return None
        shifted, shift = stmt.value.left, stmt.value.right
        if not isinstance(shift, ir.Name):
            return None
        reduction = single(shift.id)
        if (
            reduction is None
            or reduction.rule is None  # (never: ``single`` finds gates with a rule)
            or not reduction.rule.reduction
            or _operand(reduction, "x") != shifted
        ):
            return None
        axis = _operand(reduction, "axis")
        if not isinstance(axis, ir.Const):
            return None
        return axis if axis.value is None or _keeps_dims(reduction) else None

    shifts: dict[str, tuple[ir.Assign, ir.Const]] = {}  # v -> (v = a - m, the axis)
    for name in definitions:
        gate = single(name)
        axis = None if gate is None else axis_of_shift(gate)
        if gate is not None and axis is not None:
            shifts[name] = (gate, axis)
    if not shifts:  # (the readers of the shifted values only: most listings have none)
        return {}
    readers: dict[str, list[ir.Stmt]] = {}
    for stmt in ir.walk(fn.body):
        for name in set(ir.reads_of(stmt)):
            readers.setdefault(name, []).append(stmt)
    cuts: dict[tuple[str, str], str] = {}
    for name, (gate, axis) in shifts.items():
        uses = readers.get(name, [])

        def along(operand: ir.Expr, axis: ir.Const = axis) -> bool:
            """Whether a shift along ``axis`` is one along ``operand``, an axis."""
            return axis.value is None or operand == axis

        results = [
            _shift_invariant_gate(use, name, along)
            or _normalised_exponential(use, name, along, single, readers)
            for use in uses
        ]
        if uses and all(results):
            assert isinstance(gate.value, ir.BinOp) and isinstance(gate.value.right, ir.Name)
            shift = gate.value.right.id
            along_axis = "every axis" if axis.value is None else f"axis {axis.value}"
            readers_named = ", ".join(dict.fromkeys(r for r in results if r))
            cuts[(name, shift)] = (
                f"no gradient to {shift}: {readers_named} does not "
                f"change when {name} is shifted along {along_axis}"
            )
    return cuts


def _keeps_dims(reduction: ir.Assign) -> bool:
    return _operand(reduction, "keepdims") == ir.Const(True)


def _shift_invariant_gate(
    use: ir.Stmt, name: str, along: Callable[[ir.Expr], bool]
) -> str | None:
    """The target of ``use`` when it is a gate of ``name`` alone whose rule leaves its
    value unchanged by a shift of ``name`` along the axis ``along`` accepts."""
    if not (
        isinstance(use, ir.Assign)
        and use.rule is not None
        and use.rule.shift_invariant is not None
        and _operand(use, "x") == ir.Name(name)
        and along(_operand(use, use.rule.shift_invariant))
        and sum(o == ir.Name(name) for o in use.operands) == 1
    ):
        return None
    return use.target


#: the rules of an exponential, and of a sum, that a softmax written over several
#: statements is made of (``e = np.exp(v)``, ``s = e.sum(axis=1, keepdims=True)``)
_EXPONENTIALS = frozenset({"np.exp(x)"})
_SUMS = ("np.sum(", "x.sum(")


def _normalised_exponential(
    use: ir.Stmt,
    name: str,
    along: Callable[[ir.Expr], bool],
    single: Callable[[str], ir.Assign | None],
    readers: Mapping[str, list[ir.Stmt]],
) -> str | None:
    """The quotients ``q = e / s`` when ``use`` is ``e = np.exp(name)`` and ``e`` is read
    only by sums ``s`` of ``e`` along an axis ``along`` accepts (kept as length 1, or over
    every axis), each read only by those quotients: a softmax, whose value does not
    change when ``name`` is shifted along that axis; None otherwise."""
    if not (
        isinstance(use, ir.Assign)
        and use.rule is not None
        and use.rule.name in _EXPONENTIALS
        and use.operands == (ir.Name(name),)
        and single(use.target) is use
    ):
        return None
    exponential = ir.Name(use.target)
    sums: set[str] = set()
    quotients: list[ir.Assign] = []
    for reader in readers.get(use.target, []):
        if not isinstance(reader, ir.Assign) or reader.rule is None:
            return None
        if reader.rule.reduction and reader.rule.name.startswith(_SUMS):
            axis = _operand(reader, "axis")
            if not (
                _operand(reader, "x") == exponential
                and single(reader.target) is reader
                and along(axis)
                and (axis == ir.Const(None) or _keeps_dims(reader))
            ):
                return None
            sums.add(reader.target)
        elif isinstance(reader.value, ir.BinOp) and reader.value.op == "/" and (
            reader.value.left == exponential and isinstance(reader.value.right, ir.Name)
        ):
            quotients.append(reader)
        else:
            return None
    if not quotients or any(
        q.value.right.id not in sums for q in quotients  # type: ignore[union-attr]
    ):
        return None
    for total in sums:  # (a sum read elsewhere, a log-sum-exp: that does change)
        if any(reader not in quotients for reader in readers.get(total, [])):
            return None
    return ", ".join(q.target for q in quotients)


def activity(fn: ir.Function, wrt: tuple[str, ...]) -> Activity:
    """Forward dependence on ``wrt`` intersected with backward reachability of the result.

    Flow-insensitive, iterated to a fixed point so that values carried around loops
    are found whatever the statement order. Derivatives that are exactly zero by shift
    invariance (:func:`shift_invariant_cuts`) do not flow.
    """
    cut = shift_invariant_cuts(fn)
    assigns = [
        (s.target, _differentiable_inputs(s, cut))
        for s in ir.walk(fn.body)
        if isinstance(s, ir.Assign)
    ]
    varied = set(wrt)
    # (for `useful`, one pass in reverse order)
    once = ir.settles_in_one_pass(fn.body, Counter(target for target, _ in assigns), wrt)
    changed = True
    while changed:
        changed = False
        for target, inputs in assigns:
            if target not in varied and inputs & varied:
                varied.add(target)
                changed = not once
    useful: set[str] = set()
    for stmt in ir.walk(fn.body):
        if isinstance(stmt, ir.Return):
            useful.update(ir.names_in(stmt.value))
    # plain Python (a `try` statement, a `with` manager): what it binds, and what it may
    # change in place, depend on every value it reads, though no derivative flows through
    # it (srcad.contexts refuses plain Python that reads an active value)
    plain = [
        (target, set(ir.reads_of(s)))
        for s in ir.walk(fn.body)
        if isinstance(s, ir.Python | ir.Enter)
        for target in (
            *ir.targets_of(s),
            *(pycode.may_change(s.code, s.reads) if isinstance(s, ir.Python) else ()),
        )
    ]
    changed = True
    while changed:
        changed = False
        for target, inputs in reversed(assigns + plain):
            if target in useful and not inputs <= useful:
                useful.update(inputs)
                changed = not once or bool(plain)
    return Activity(frozenset(varied), frozenset(useful), cut)


@dataclass(frozen=True)
class CallFacts:
    """What calls in generated code return, for :func:`is_alias`: ``fresh`` helpers
    always a new object; ``passes`` helpers may return one of the arguments at the given
    positions (``unbroadcast(g, x)`` returns ``g`` when nothing is summed); a function
    of a module in ``modules`` (numpy) returns a new array or a view of an argument."""

    fresh: frozenset[str] = frozenset()
    passes: Mapping[str, frozenset[int]] = field(default_factory=dict)
    modules: frozenset[str] = frozenset()
    #: helpers whose result is an item of their first argument that the next line takes
    #: out of it (:func:`srcad.runtime.moved_item`): it shares no object with that
    #: argument, only with whatever else held the item
    moves: frozenset[str] = frozenset()

    def moved(self, value: ir.Expr) -> bool:
        """Whether ``value`` is a call of a ``moves`` helper."""
        return (
            isinstance(value, ir.Call) and isinstance(value.func, ir.Name)
            and value.func.id in self.moves
        )


def fresh_calls(bindings: Mapping[str, Any], free_objects: Mapping[str, Any] | None = None
                ) -> CallFacts:
    """The :class:`CallFacts` of the helpers in ``bindings``, as they declare themselves
    (:func:`srcad.runtime.fresh_result`, :func:`srcad.runtime.passes_argument`)."""
    import numpy as np

    named = {**(free_objects or {}), **bindings}
    return CallFacts(
        fresh=frozenset(
            n for n, obj in named.items() if getattr(obj, "__srcad_fresh__", False) is True
        ),
        passes={
            n: obj.__srcad_passes__
            for n, obj in named.items()
            if isinstance(getattr(obj, "__srcad_passes__", None), frozenset)
        },
        modules=frozenset(n for n, obj in named.items() if obj is np),
        moves=frozenset(
            n for n, obj in named.items() if getattr(obj, "__srcad_moves__", False) is True
        ),
    )


def is_alias(value: ir.Expr, facts: CallFacts = CallFacts()) -> bool:
    """A value that may share its object (or memory) with another variable.

    Arithmetic makes a new object; a name, an item or an attribute may not; a call
    shares what its declared facts say it may return (unknown calls: anything).
    """
    if isinstance(value, ir.BinOp | ir.UnaryOp | ir.Const | ir.Compare | ir.BoolOp):
        return False
    if isinstance(value, ir.Tuple):
        return any(is_alias(e, facts) for e in value.elts)
    if isinstance(value, ir.Dict):
        return any(is_alias(e, facts) for e in value.values)
    if isinstance(value, ir.Call):
        func = value.func
        if isinstance(func, ir.Name) and func.id in facts.fresh:
            return False
        if isinstance(func, ir.Name) and func.id in facts.passes:
            return any(
                is_alias(a, facts) for k, a in enumerate(value.args) if k in facts.passes[func.id]
            )
        if (
            isinstance(func, ir.Attr)
            and isinstance(func.value, ir.Name)
            and func.value.id in facts.modules
        ):
            return any(is_alias(a, facts) for a in (*value.args, *(v for _, v in value.kwargs)))
    return True


def _definitions(fn: ir.Function) -> dict[str, list[ir.Assign]]:
    found: dict[str, list[ir.Assign]] = {}
    for stmt in ir.walk(fn.body):
        if isinstance(stmt, ir.Assign):
            found.setdefault(stmt.target, []).append(stmt)
    return found


def _numeric_globals(fn: ir.Function) -> set[str]:
    """Globals holding numbers: scalars too, checked at run time like parameters."""
    return {n for n, v in fn.free_objects.items() if type(v) in (float, int)}


#: the longest module-level table of numbers checked on each call (checking costs a look at
#: every item; a lookup table of 200,000 entries read at one or two is left unchecked)
_CHECKED_TABLE_LENGTH = 256


def _sequence_globals(fn: ir.Function) -> dict[str, int]:
    """Globals holding lists or tuples of Python numbers (depth 1: quadrature weights, tax
    brackets) or of lists or tuples of them (2: ``[(x, w), ...]``), with the depth each
    has: checked at run time, as sequence parameters are."""
    found: dict[str, int] = {}
    for name, value in fn.free_objects.items():
        if type(value) not in (list, tuple) or not 0 < len(value) <= _CHECKED_TABLE_LENGTH:
            continue  # (a long table is read as the array version reads it: unchecked)
        if all(type(v) in (float, int) for v in value):
            found[name] = 1
        elif all(
            type(row) in (list, tuple) and all(type(v) in (float, int) for v in row)
            for row in value
        ):
            found[name] = 2
    return found


def _scalar_operands(stmt: ir.Assign, scalars: set[str], fn: ir.Function) -> bool:
    """Every operand of ``stmt`` is a number constant or a name known to be a scalar (or
    ``None``: an option left out, ``np.hypot(x, y, dtype=None)``)."""
    return all(_scalar_operand(o, scalars, fn) for o in stmt.operands)


def _scalar_operand(o: ir.Expr, scalars: set[str], fn: ir.Function) -> bool:
    return (
        isinstance(o, ir.Const)
        and (isinstance(o.value, int | float) or o.value is None)
        or isinstance(o, ir.Name)
        and o.id in scalars
        or _module_number(o, fn)
    )


def _module_number(operand: ir.Expr, fn: ir.Function) -> bool:
    """A number a module or a class holds (``math.pi``, ``Util.scale``: a gradient that
    reads one of the user's is made again where it is given another value)."""
    if not (isinstance(operand, ir.Attr) and isinstance(operand.value, ir.Name)):
        return False
    name = operand.value.id
    module = fn.bindings.get(name, fn.free_objects.get(name))
    return isinstance(module, types.ModuleType | type) and type(
        getattr(module, operand.attr, None)
    ) in (float, int)


@dataclass(frozen=True)
class NumberKinds:
    """Names that are Python numbers, lists or tuples of them (``sequences``), and lists
    or tuples of those (``rows``: ``[(n, d), ...]``) whenever each parameter is of its
    kind and the numeric globals are numbers."""

    numbers: set[str]
    sequences: set[str]
    rows: set[str]
    #: parameters that are objects (namedtuples, dataclasses, plain objects) whose
    #: fields the function reads are numbers
    records: set[str] = field(default_factory=set)

    def of_depth(self, depth: int) -> set[str]:
        """The names of ``depth``: 0 numbers, 1 sequences, 2 rows, 3 records (none of
        another: a record in a dict or a list, ``d["p"].w``, is not proved a number)."""
        kinds = (self.numbers, self.sequences, self.rows, self.records)
        return kinds[depth] if depth < len(kinds) else set()


def number_kinds(fn: ir.Function, given_as: Mapping[str, int] | None = None) -> NumberKinds:
    """The :class:`NumberKinds` of ``fn``'s names (``given_as``: the depth each of these
    parameters has, 0 a number, 1 a sequence, 2 rows; the others may be any).

    Values made by elementwise gates from numbers are numbers, an item of a sequence of
    numbers is one, so are its sum, max, min and product; a list made of numbers (a
    display, ``appended``, a copy) is a sequence of them, an item of rows is one, and a
    loop's items, a copy or a slice of rows are rows. A name is of a kind when every
    one of its definitions is (a greatest fixed point, for values carried around loops).
    """
    definitions = _definitions(fn)
    indices = ir.loop_counters(fn.body)
    sequence_globals = _sequence_globals(fn)  # (of their depth, checked when it runs)
    given = set(fn.params) | set(fn.kwonly) | set(fn.free_cells) | set(sequence_globals)
    given_as = {**sequence_globals, **(given_as or {})}  # (cells: as parameters)

    def given_of(depth: int) -> set[str]:
        return {p for p in given if given_as.get(p, depth) == depth}

    scalars = set(definitions) | given_of(0) | _numeric_globals(fn) | indices
    sequences = set(definitions) | given_of(1)
    rows = set(definitions) | given_of(2)
    records = {p for p in given if given_as.get(p) == RECORD_DEPTH}

    def scalar(operand: ir.Expr) -> bool:
        if isinstance(operand, ir.Const):
            return isinstance(operand.value, int | float) or operand.value is None
        return isinstance(operand, ir.Name) and operand.id in scalars or _module_number(
            operand, fn
        )

    def bounds(operand: ir.Expr) -> bool:  # a slice of numbers' bounds: `xs[1:]`
        return isinstance(operand, ir.Slice) and all(
            b is None or scalar(b) for b in (operand.lower, operand.upper, operand.step)
        )

    def sequence(operand: ir.Expr) -> bool:  # (a display of numbers: `[1.0, 2.0][i]`)
        if isinstance(operand, ir.Tuple):
            return all(scalar(item) and held(item) for item in operand.elts)
        if isinstance(operand, ir.Const) and isinstance(operand.value, list | tuple):
            return all(type(item) in (int, float) for item in operand.value)
        return isinstance(operand, ir.Name) and operand.id in sequences

    def held(operand: ir.Expr) -> bool:  # (an item a list holds: None is not a number)
        return not (isinstance(operand, ir.Const) and operand.value is None)

    def parts(stmt: ir.Assign) -> bool:  # sequences where the rule wants them, else numbers
        rule = stmt.rule
        assert rule is not None
        return all(
            sequence(o)
            if p in rule.sequences
            else scalar(o) and (not rule.holds or held(o)) or _key(o) or bounds(o)
            for p, o in zip(rule.params, stmt.operands)
        )

    def number_definition(stmt: ir.Assign) -> bool:
        rule = stmt.rule
        value = stmt.value
        if _length(value, fn) or calls_builtin(value, fn, builtins.float) or _position(
            value, fn
        ):
            return True  # (len(xs): an int; float(...), float("inf") too: a float)
        if rule is None:  # (None: a value assigned on some paths only)
            if isinstance(value, ir.Const):
                return scalar(value)
            if isinstance(value, ir.BinOp | ir.UnaryOp):  # index arithmetic (k - 1)
                return all(n in scalars for n in ir.names_in(value))
            return _math_call(value, fn) and all(scalar(a) for a in value.args)
        if rule.elementwise or rule is COPY:
            return all(scalar(o) for o in stmt.operands)
        if rule is FIELD:  # (p.a of an object whose fields are numbers)
            record = stmt.operands[0]
            return isinstance(record, ir.Name) and record.id in records
        if rule.sequences and not rule.holds:  # an item, a sum, a max of a sequence
            return not _slice_read(stmt) and parts(stmt)
        return False

    def sequence_definition(stmt: ir.Assign) -> bool:
        rule = stmt.rule
        if calls_builtin(stmt.value, fn, builtins.range):  # (ints: `reversed(range(n))`)
            return all(scalar(a) for a in stmt.value.args)
        if rule is None:
            return False
        if rule is COPY:
            return all(isinstance(o, ir.Name) and o.id in sequences for o in stmt.operands)
        if rule.holds:
            return parts(stmt)
        if rule is SETITEM:  # (a field of an object made inside, `p["x"] = v`; an item
            table, key, item = stmt.operands  # of a list given, `xs[i] = v`)
            return (
                isinstance(table, ir.Name) and table.id in sequences
                and (_key(key) or scalar(key)) and scalar(item) and held(item)
            )
        if rule is ITEM and not _slice_read(stmt):  # (an item of rows: `n, d = layer`)
            row, index = stmt.operands
            return isinstance(row, ir.Name) and row.id in rows and scalar(index)
        return bool(rule.sequences) and _slice_read(stmt) and parts(stmt)

    def row_definition(stmt: ir.Assign) -> bool:
        rule = stmt.rule
        if rule is None or rule is SORTED or isinstance(stmt.value, ir.Dict):
            return False
        if rule is COPY:
            return all(isinstance(o, ir.Name) and o.id in rows for o in stmt.operands)
        if not (rule.holds or rule.sequences and _slice_read(stmt)):
            return False
        return all(  # (rows where the rule wants a sequence; items or options else; the
            isinstance(o, ir.Name) and o.id in rows  # position of list_replaced a number)
            if p in rule.sequences
            else scalar(o)
            if rule is REPLACE and p == "i"
            else (isinstance(o, ir.Const) or isinstance(o, ir.Name) and o.id in sequences)
            if rule.holds
            else scalar(o) or bounds(o)  # (a slice's bounds)
            for p, o in zip(rule.params, stmt.operands)
        )

    once = ir.settles_in_one_pass(  # (each name's operands decided before it)
        fn.body, {name: len(stmts) for name, stmts in definitions.items()}, given
    )
    while True:
        changed = False
        for name, stmts in definitions.items():
            if name in scalars and not all(number_definition(s) for s in stmts):
                scalars.discard(name)
                changed = True
            if name in sequences and not all(sequence_definition(s) for s in stmts):
                sequences.discard(name)
                changed = True
            if name in rows and not all(row_definition(s) for s in stmts):
                rows.discard(name)
                changed = True
        if once or not changed:
            return NumberKinds(scalars, sequences, rows, records)


def _key(operand: ir.Expr) -> bool:
    """A string constant: a dict's key (``params['rho']``, a dict of numbers)."""
    return isinstance(operand, ir.Const) and isinstance(operand.value, str)


def _length(value: ir.Expr, fn: ir.Function) -> bool:
    """``len(...)``: an int."""
    return calls_builtin(value, fn, builtins.len)


def _position(value: ir.Expr, fn: ir.Function) -> bool:
    """``bisect.bisect_right(knots, x)`` (``bisect``, ``bisect_left``, by any name): an
    int."""
    if not isinstance(value, ir.Call):
        return False
    func, callee = value.func, None
    if isinstance(func, ir.Name):
        callee = fn.free_objects.get(func.id, fn.bindings.get(func.id))
    elif isinstance(func, ir.Attr) and isinstance(func.value, ir.Name):
        module = fn.free_objects.get(func.value.id, fn.bindings.get(func.value.id))
        callee = getattr(module, func.attr, None) if module is bisect else None
    return any(callee is f for f in (bisect.bisect, bisect.bisect_left, bisect.bisect_right))


def calls_builtin(value: ir.Expr, fn: ir.Function, builtin: Any) -> TypeGuard[ir.Call]:
    """A call of the builtin ``builtin`` (``len(...)``, ``float(...)``), by its name or a
    binding of it, where no global of ``fn`` shadows it."""
    if not (isinstance(value, ir.Call) and isinstance(value.func, ir.Name)):
        return False
    name = value.func.id
    default = builtin if name == builtin.__name__ else None
    return fn.bindings.get(name, fn.free_objects.get(name, default)) is builtin


def _math_call(value: ir.Expr, fn: ir.Function) -> TypeGuard[ir.Call]:
    """A call of a ``math`` function (``math.radians(2.0)``): a Python number."""
    if not (isinstance(value, ir.Call) and isinstance(value.func, ir.Attr)):
        return False
    module = value.func.value
    return (
        isinstance(module, ir.Name)
        and fn.free_objects.get(module.id, fn.bindings.get(module.id)) is math
        and not value.kwargs
    )


def _slice_read(stmt: ir.Assign) -> bool:
    return isinstance(stmt.value, ir.Subscript) and isinstance(stmt.value.index, ir.Slice)


@dataclass(frozen=True)
class FloatGuards:
    """What the float version checks on entry: parameters (and numeric globals) that
    must be Python floats, parameters that must be lists or tuples of them, and ``rows``:
    parameters that must be lists or tuples of those (``[(n, d), ...]``).

    ``from_arrays`` are the ``sequences`` that a 1-D float64 array may stand for: the
    function reads them only item by item (items at int indices, loops, ``len``, ``sum``,
    ``max``...), which reads a list of the array's items the same way, so the float
    version runs on that list (``list(signal)``: numpy's float64 numbers, which compute
    as the array's items do, ``x / 0.0`` giving ``inf``).
    """

    numbers: tuple[str, ...]
    sequences: tuple[str, ...] = ()
    from_arrays: tuple[str, ...] = ()
    rows: tuple[str, ...] = ()
    #: objects whose fields the function reads: each must hold a Python float there
    records: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.numbers or self.sequences or self.rows or self.records)

    def depths(self) -> dict[str, int]:
        """Each checked name's depth: 0 a number, 1 a sequence of them, 2 rows."""
        return {
            **{n: 0 for n in self.numbers},
            **{p: 1 for p in self.sequences},
            **{p: 2 for p in self.rows},
            **{p: RECORD_DEPTH for p, _ in self.records},
        }


def scalar_guards(
    fn: ir.Function, activity: Activity, kinds: NumberKinds | None = None
) -> FloatGuards | None:
    """Parameters whose being Python floats (or lists and tuples of them, or of those)
    proves that no gradient needs un-broadcasting (``kinds``: :func:`number_kinds` of
    ``fn``, when the caller has it).

    Returns the parameters to check at run time, or ``None`` when that cannot be proved
    (the function builds arrays, reduces arrays, reads array globals...).
    """
    definitions = _definitions(fn)
    numbers = _numeric_globals(fn)
    kinds = kinds if kinds is not None else number_kinds(fn)
    scalars = kinds.numbers

    broadcasting = [
        s
        for s in ir.walk(fn.body)
        if isinstance(s, ir.Assign)
        and s.rule is not None
        and s.rule.broadcasting
        and activity.is_active(s.target)
        and not _field_written(s, kinds.sequences)
    ]
    # (`xs[i] = v` into a list the function was given: a sequence of numbers given a
    # number at an int position, where the checks of the parameters prove that)
    item_writes = [s for s in broadcasting if _item_write(s)]
    broadcasting = [s for s in broadcasting if not _item_write(s)]
    # the parameters these numbers come from, and as what: a number (depth 0), a
    # sequence of them (1) or rows (2)
    pending = [
        (o.id, 0) for s in broadcasting for o in s.operands if isinstance(o, ir.Name)
    ] + [
        (o.id, 1 if k == 0 else 0)
        for s in item_writes for k, o in enumerate(s.operands) if isinstance(o, ir.Name)
    ]
    if not broadcasting and not item_writes:  # (no arithmetic: `return x`, `x if x < 2.0 else 2.0`,
        # `sum(sorted(xs)[:k])`: the result is a number, and the parameters it is made
        # of are of the depth its definitions read them at; checked, for the version
        # numba compiles)
        pending = [
            (n, 0)
            for s in ir.walk(fn.body)
            if isinstance(s, ir.Return)
            for n in ir.names_in(s.value)
        ]
    seen: set[tuple[str, int]] = set()
    while pending:
        name, depth = pending.pop()
        if (name, depth) in seen:
            continue
        if depth > RECORD_DEPTH:  # (`paths = paths[:, idx]` in a loop: an array, read
            return None  # ever deeper by its own items; round 94: this ran out of memory)
        seen.add((name, depth))
        for stmt in definitions.get(name, ()):
            if _length(stmt.value, fn) or _position(stmt.value, fn):
                continue  # (len(xs), bisect(xs, x): an int, whatever xs holds)
            pending += [
                (o.id, _operand_depth(stmt, k, depth))
                for k, o in enumerate(stmt.operands)
                if isinstance(o, ir.Name)
            ]
    depths: dict[str, set[int]] = {}
    for name, depth in seen:
        depths.setdefault(name, set()).add(depth)
    # (a closure's cells are checked as parameters are: lists of floats it closes over)
    given = (
        *fn.params, *fn.kwonly, *(c for c in fn.free_cells if c not in fn.params),
        *_sequence_globals(fn),
    )
    if any(len(depths.get(p, ())) > 1 for p in given):
        return None
    records = tuple(p for p in given if depths.get(p) == {RECORD_DEPTH})
    written = tuple(p for p in given if depths.get(p) == {1}) if item_writes else ()
    if records or written:  # (the kinds again, knowing which are records, whose fields
        # are numbers, and which are the sequences of numbers written by item)
        kinds = number_kinds(fn, {
            **{p: RECORD_DEPTH for p in records}, **{p: 1 for p in written}
        })
        scalars = kinds.numbers
    if not all(_scalar_operands(s, scalars, fn) for s in broadcasting):
        return None
    if not all(
        isinstance(s.operands[0], ir.Name) and s.operands[0].id in kinds.sequences
        and all(_scalar_operand(o, scalars, fn) for o in s.operands[1:])
        for s in item_writes
    ):
        return None
    if any(p not in kinds.of_depth(d) for p in given for d in depths.get(p, ()) if d):
        return None
    as_numbers = {n for n, d in seen if d == 0}
    sequence_params = tuple(p for p in given if depths.get(p) == {1})
    return FloatGuards(
        tuple(p for p in given if p in as_numbers) + tuple(sorted(as_numbers & numbers)),
        sequence_params,
        _read_item_by_item(
            fn,
            [p for p in sequence_params if p not in fn.free_cells and p not in fn.free_objects],
            definitions,
        ),
        tuple(p for p in given if depths.get(p) == {2}),
        tuple((p, _fields_read(fn, p)) for p in records),
    )


#: the depth of an object whose fields are numbers (see :class:`NumberKinds`)
RECORD_DEPTH = 3


def _fields_read(fn: ir.Function, record: str) -> tuple[str, ...]:
    """The fields of the object ``record`` that ``fn`` reads (``p.a``: ``"a"``)."""
    return tuple(dict.fromkeys(
        s.operands[1].value for s in ir.walk(fn.body)
        if isinstance(s, ir.Assign) and s.rule is FIELD
        and s.operands[0] == ir.Name(record) and isinstance(s.operands[1], ir.Const)
    ))


def _item_write(stmt: ir.Assign) -> bool:
    """``xs[i] = v``: an item of a container written (whose kinds are checked apart)."""
    return stmt.rule is SETITEM and isinstance(stmt.operands[0], ir.Name)


def _field_written(stmt: ir.Assign, sequences: set[str]) -> bool:
    """``p["x"] = v`` into a dict of numbers (an object made inside): no broadcasting;
    ``v`` is followed from the reads of the field."""
    table = stmt.operands[0] if stmt.rule is SETITEM else None
    return isinstance(table, ir.Name) and table.id in sequences and _key(stmt.operands[1])


def _operand_depth(stmt: ir.Assign, k: int, depth: int) -> int:
    """What the ``k``-th operand of ``stmt`` must be for ``stmt`` to make a value of
    ``depth`` (0 a number, 1 a sequence of them, 2 rows): an item's or a sum's
    sequence is one deeper, a copy, a slice or a list's own sequence as deep, a list's
    items one less; anything else (an index) a number."""
    rule = stmt.rule
    if rule is COPY:
        return depth
    if (rule is SETITEM or rule is REPLACE) and depth > 0:  # (`xs[i] = v`, or as a new
        # list: the list as deep, the index a number, the item one less; `R[n][j] = v` of
        # rows at the row `n`, a parameter, made it a sequence too: no float version)
        return (depth, 0, depth - 1)[k]
    if rule is FIELD and k == 0 and depth == 0:  # (a number read from an object's field)
        return RECORD_DEPTH
    if rule is None or k >= len(rule.params):
        return 0
    if rule.params[k] in rule.sequences:
        if rule.orders and rule.params[k] == "args":  # (a routine's extra arguments, as
            return 1  # numbers, whatever it returns: quad's (value, error) pair too)
        return depth if rule.holds or _slice_read(stmt) else depth + 1
    return max(depth - 1, 0) if rule.holds else 0


def _read_item_by_item(
    fn: ir.Function, params: list[str], definitions: dict[str, list[ir.Assign]]
) -> tuple[str, ...]:
    """The ``params`` that the function reads only item by item, and that nothing
    writes: for those, the list of a 1-D array's items reads as the array does.

    Each read is an item at an int index (a loop's counter, an int constant, ``len``
    and their arithmetic: no slice, no array of indices), a loop over it, ``len`` or
    a read that only iterates (``sum``, ``max``, ``sorted``...: ``ITERATING_READS``).
    A loop's items and copies (``x_items = loop_items(x)``) are read the same way.
    (``definitions``: :func:`_definitions` of ``fn``.)
    """
    ints = int_values(fn, definitions)
    left = set(params) - set(definitions)
    views = {p: p for p in left}  # (a name for a parameter's items -> the parameter)
    for stmt in ir.walk(fn.body):  # (in order: a loop's items are made before it)
        if (
            isinstance(stmt, ir.Assign)
            and (stmt.rule is LOOP_ITEMS or stmt.rule is COPY)
            and len(definitions[stmt.target]) == 1
            and isinstance(stmt.operands[0], ir.Name)
            and stmt.operands[0].id in views
        ):
            views[stmt.target] = views[stmt.operands[0].id]
    for stmt in ir.walk(fn.body):
        read = {views[n] for n in ir.reads_of(stmt) if n in views}
        if not read & left or isinstance(stmt, ir.Assign) and (
            _length(stmt.value, fn) or stmt.target in views or _item_at_int(stmt, ints)
            or stmt.rule in ITERATING_READS and not _names_in_options(stmt, views)
        ):
            continue
        left -= read
    return tuple(p for p in params if p in left)


def _item_at_int(stmt: ir.Assign, ints: set[str]) -> bool:
    """``x[i]``, ``i`` an int constant or a name that holds an int."""
    if stmt.rule is not ITEM or stmt.in_place or stmt.logical:
        return False
    index = stmt.operands[1]
    return (
        isinstance(index, ir.Const) and type(index.value) is int
        or isinstance(index, ir.Name) and index.id in ints
    )


def _names_in_options(stmt: ir.Assign, names: Mapping[str, str]) -> bool:
    """Does a name of ``names`` stand where ``stmt``'s rule wants no sequence?"""
    rule = stmt.rule
    assert rule is not None
    return any(
        n in names
        for p, o in zip(rule.params, stmt.operands)
        if p not in rule.sequences
        for n in ir.names_in(o)
    )


_INT_ARITHMETIC = frozenset(("+", "-", "*", "//", "%"))


def int_values(
    fn: ir.Function, definitions: dict[str, list[ir.Assign]] | None = None
) -> set[str]:
    """Names that always hold an int: loop counters, ``len(...)``, int constants and int
    arithmetic of them (every definition; a greatest fixed point). ``definitions``:
    :func:`_definitions` of ``fn``, when the caller has them."""
    definitions = _definitions(fn) if definitions is None else definitions
    counters = ir.loop_counters(fn.body)
    ints = set(definitions) | counters

    def whole(expr: ir.Expr) -> bool:
        if isinstance(expr, ir.Const):
            return type(expr.value) is int
        if isinstance(expr, ir.Name):
            return expr.id in ints
        if isinstance(expr, ir.BinOp):
            return expr.op in _INT_ARITHMETIC and whole(expr.left) and whole(expr.right)
        if isinstance(expr, ir.UnaryOp):
            return expr.op == "-" and whole(expr.operand)
        return _length(expr, fn)

    changed = True
    while changed:
        changed = False
        for name, stmts in definitions.items():
            if name in ints and not all(whole(s.value) for s in stmts):
                ints.discard(name)
                changed = True
    return ints | counters


#: Python operators whose result is exactly ``float`` only when no operand is a numpy
#: array or numpy scalar (those give arrays or numpy scalars).
_ARITHMETIC = frozenset(("+", "-", "*", "/", "//", "%", "**"))


def float_witnesses(
    fn: ir.Function, params: tuple[str, ...], readable: set[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Values whose being Python floats proves that the ``params`` they are computed
    from are Python numbers, so that one check can stand for several.

    ``t1 = x1 + x2`` is a ``float`` only if neither ``x1`` nor ``x2`` is a numpy array or
    scalar. Candidates are the arithmetic values of the function's straight-line start,
    made from ``params``, number constants and other candidates; only values in
    ``readable`` (computed anyway) are used. Returns the chosen values (largest cover
    first) and the parameters they cover; nothing when that would not save a check.
    """
    definitions = _definitions(fn)
    covers: dict[str, frozenset[str]] = {}
    for stmt in fn.body:
        if not isinstance(stmt, ir.Assign) or stmt.stateful:
            break  # the straight-line start ends at the first branch or loop (or random
            # draw: the array version the check falls back to would draw again)
        value = stmt.value
        operands: tuple[ir.Expr, ...]
        if isinstance(value, ir.BinOp) and value.op in _ARITHMETIC:
            operands = (value.left, value.right)
        elif isinstance(value, ir.UnaryOp) and value.op == "-":
            operands = (value.operand,)
        else:
            continue
        covered: set[str] = set()
        for operand in operands:
            if isinstance(operand, ir.Name) and operand.id in params:
                covered.add(operand.id)
            elif isinstance(operand, ir.Name) and operand.id in covers:
                covered |= covers[operand.id]
            elif not _const_number(operand):
                break
        else:
            if covered and len(definitions.get(stmt.target, ())) == 1:
                covers[stmt.target] = frozenset(covered)
    chosen: list[str] = []
    covered = set()
    for name in sorted((n for n in covers if n in readable), key=lambda n: -len(covers[n])):
        if covers[name] - covered:
            chosen.append(name)
            covered |= covers[name]
    if len(chosen) >= len(covered):
        return (), ()
    return tuple(chosen), tuple(p for p in params if p in covered)


def _const_number(expr: ir.Expr) -> bool:
    return isinstance(expr, ir.Const) and type(expr.value) in (int, float)
