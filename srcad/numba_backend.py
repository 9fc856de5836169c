"""``backend="numba"``: the generated gradient compiled by numba's ``njit``.

The listing is the version for Python floats (see :mod:`srcad.reverse`), rewritten in
three ways numba's nopython mode needs, and nothing else:

- no type check up front (numba compiles one specialisation per argument type);
- one tape per saved name (``tape_x = []``, ``tape_x.append(x)``, ``x = tape_x.pop()``):
  a numba list holds one type, and a name keeps its type in compiled code;
- a backward loop ``reversed(range(...)[:n])`` as a ``range`` that counts down.

Code numba cannot compile (a library call it does not know, a list of mixed types)
raises :class:`~srcad.errors.CompiledBackendError` at the user's line numba stopped at.
numba is an optional dependency (``pip install srcad[numba]``).
"""

from __future__ import annotations

import builtins
import functools
import inspect
import math
import re
import types
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import numpy as np

from . import emit, ir, numba_ints, numba_types
from .errors import CompiledBackendError, Location, NonScalarOutputError
from .load import compile_function, origin
from .names import NameAllocator
from .runtime import LIST_CHECKS, as_floats, keep_aux, loop_items, require_float_items

BACKENDS = ("python", "numba")

_K = TypeVar("_K", ir.Loop, ir.Push)

_COUNT_DOWN_NOTE = "numba: the backward loop counts down"


def numba_module() -> Any:
    """numba, or a :class:`CompiledBackendError` that says how to install it."""
    try:
        import numba
    except ImportError:  # pragma: no cover - depends on the environment
        raise CompiledBackendError(
            "backend='numba' needs numba, which is not installed",
            "pip install 'srcad[numba]' (or pip install numba)",
            None,
        ) from None
    return numba


def for_numba(
    fn: ir.Function, guard_free_body: list[ir.Stmt], preallocate: bool = True,
    wrt: tuple[str, ...] = (),
) -> ir.Function:
    """``fn`` (a version for Python floats, whose body without its type check is
    ``guard_free_body``) as nopython-mode numba compiles it. With ``preallocate``, a
    value saved once per iteration of a loop whose trip count is known before it runs
    goes to an array made for that many items (see :func:`_preallocated`): of int64 for
    an int, of bools for a bool, of float64 otherwise. A saved name starts as a zero of
    its type where srcad can tell it (:mod:`srcad.numba_types`). A product, power, shift
    or sum that may be of two ints (not of the parameters ``wrt``, floats) calls its exact
    operation (:mod:`srcad.numba_ints`), which computes Python's value or raises."""
    saved = sorted({s.name for s in ir.walk(guard_free_body) if isinstance(s, ir.Push | ir.Pop)})
    names = NameAllocator(fn.names())  # (a user's `top_s` next to `s` keeps its name)
    tapes = {name: names.fresh(f"tape_{name}") for name in saved}
    kinds = numba_types.kinds(fn, guard_free_body)
    counted = _preallocated(guard_free_body, kinds) if preallocate else {}
    tops = {name: names.fresh(f"top_{name}") for name in counted}
    numpy = _numpy_name(fn.bindings)
    rewriter = _NumbaTapes(tapes, tops, counted, numpy, fn.bindings, kinds)
    rewriter.sentinels = _compared_with_none(guard_free_body)
    rewriter.number_result = names.fresh("number_result")
    float_list = names.fresh("float_list")
    guard_free_body = _float_literal_lists(guard_free_body, kinds, fn.bindings, float_list)
    guard_free_body = _copied_slices(guard_free_body, set(fn.params + fn.kwonly))
    math_name = names.fresh("math")
    floats = numba_ints.computed_from(guard_free_body, set(wrt))
    guard_free_body = _libm_powers(guard_free_body, kinds, floats, math_name)
    gates = numba_ints.int_gates(guard_free_body, kinds, wrt)
    for stmt in gates:
        shown, stub = numba_ints.OPERATIONS[numba_ints.operator_of(stmt)]
        if stub not in rewriter.exact_names:
            rewriter.exact_names[stub] = names.fresh(shown)
        rewriter.exact_gates[id(stmt)] = rewriter.exact_names[stub]
    body = rewriter.visit_body(guard_free_body)
    bindings = dict(fn.bindings)
    if float_list in ir.read_in(body):
        bindings[float_list] = _float_list
    if math_name in ir.read_in(body):
        bindings[math_name] = math
    if counted:
        bindings[numpy] = np
    bindings.update({name: stub for stub, name in rewriter.exact_names.items()})
    if rewriter.result_checks:
        bindings[rewriter.number_result] = _number_result
    # (numba takes no keyword-only parameters: they come last, by position; a division
    # by zero is numba's own business: it has no array version to fall back to)
    return replace(
        fn.with_body(body), params=fn.params + fn.kwonly, kwonly=(), bindings=bindings,
        on_float_error=None,
    )


def _float_literal_lists(
    body: list[ir.Stmt], kinds: dict[str, str], bindings: Any, float_list: str
) -> list[ir.Stmt]:
    """``body`` with each list it makes of ints (``[0, 0]``, ``[0] * n``, ``list(range(n))``,
    a folded constant) made of floats where a value that may be a float is written into
    that list, or into one linked to it (a copy, a slice, a list with an item replaced,
    the list repeated; items appended to one are made floats): Python's list then holds
    both, numba's one type, int64, which truncated every float written (rounds 96, 100:
    ``S = [0] * 5; S[0] = 1`` then ``S[t + 1] = S[t] * (1 - h)`` in a loop). The values
    are the same numbers (``list(xs)`` calls ``float_list``, the name of
    :func:`_float_list`). The backward pass's put-back of an item read from the same
    list writes nothing new: a list of ints only (``order[i] = 2 - i``) stays ints."""
    from . import runtime

    derived = {runtime.repeated, runtime.list_replaced, runtime.loop_items, list}
    linked: dict[str, set[str]] = {}
    written: set[str] = set()

    def link(a: str, b: str) -> None:
        linked.setdefault(a, set()).add(b)
        linked.setdefault(b, set()).add(a)

    items_of = {  # (a name an item of a list was read into: `R_old = R[i]`, saved)
        s.target: s.value.value.id for s in ir.walk(body)
        if isinstance(s, ir.Assign) and not s.in_place and isinstance(s.value, ir.Subscript)
        and isinstance(s.value.value, ir.Name) and not isinstance(s.value.index, ir.Slice)
    }
    for stmt in ir.walk(body):
        if not isinstance(stmt, ir.Assign):
            continue
        value = stmt.value
        if isinstance(value, ir.Name) and not stmt.in_place:
            link(stmt.target, value.id)
        elif (  # (a slice of a list: `b = a[:]`, `a[1:]`, a copy of its items)
            isinstance(value, ir.Subscript) and isinstance(value.value, ir.Name)
            and isinstance(value.index, ir.Slice) and not stmt.in_place
        ):
            link(stmt.target, value.value.id)
        elif isinstance(value, ir.Call) and isinstance(value.func, ir.Name) and value.args:
            callee = bindings.get(value.func.id, getattr(builtins, value.func.id, None))
            if any(callee is d for d in derived) and isinstance(value.args[0], ir.Name):
                link(stmt.target, value.args[0].id)
                if callee is runtime.list_replaced and not _int_valued(value.args[-1], kinds):
                    written.add(stmt.target)
        if stmt.in_place and len(stmt.operands) == 3 and not _int_valued(stmt.operands[2], kinds):
            item = stmt.operands[2]  # (the backward pass's put-back of an item read from
            if not (isinstance(item, ir.Name) and items_of.get(item.id) == stmt.target):
                written.add(stmt.target)  # the same list writes nothing new into it)
    floats, pending = set(), list(written)
    while pending:  # (every list made from, or into, one written with floats)
        name = pending.pop()
        if name not in floats:
            floats.add(name)
            pending += linked.get(name, ())

    class Floated(ir.Transformer):
        def visit_Assign(self, stmt: ir.Assign) -> ir.Stmt:
            if stmt.target not in floats:
                return stmt
            value = stmt.value
            if stmt.in_place:  # (`b.append(v)` of a list that holds floats too: a float)
                if not (
                    isinstance(value, ir.Call) and isinstance(value.func, ir.Attr)
                    and value.func.attr == "append" and len(value.args) == 1
                    and value.func.value == ir.Name(stmt.target)
                ):
                    return stmt
                as_float = ir.Call(ir.Name("float"), value.args)
                return replace(stmt, value=ir.Call(value.func, (as_float,)))
            if isinstance(value, ir.Call) and value.func == ir.Name("list") and value.args:
                return replace(stmt, value=ir.Call(ir.Name(float_list), value.args))
            floated = _with_float_items(value)
            return stmt if floated is value else replace(stmt, value=floated)

    return list(Floated().visit_body(body)) if floats else body


def _float_list(items: Any) -> Any:
    return [float(item) for item in items]


def _copied_slices(body: list[ir.Stmt], params: set[str]) -> list[ir.Stmt]:
    """``body`` with each slice of a list parameter (``ys = xs[:]``) a copy: numba is
    given the list as an array, whose slice is a view, so a write into ``ys`` would
    change ``xs`` (round 97: a silently wrong gradient); Python's slice of a list is a
    new list."""

    class Copied(ir.Transformer):
        def visit_Assign(self, stmt: ir.Assign) -> ir.Stmt:
            value = stmt.value
            if (
                not stmt.in_place and isinstance(value, ir.Subscript)
                and isinstance(value.value, ir.Name) and value.value.id in params
                and isinstance(value.index, ir.Slice)
            ):
                return replace(stmt, value=ir.Call(ir.Attr(value, "copy"), ()))
            return stmt

    return list(Copied().visit_body(body))


def _libm_powers(
    body: list[ir.Stmt], kinds: dict[str, str], floats: set[str], math_name: str
) -> list[ir.Stmt]:
    """``body`` with each forward power that Python computes in floats (of a base
    computed from the differentiated parameters, ``floats``, or to a negative int) as
    ``math.pow(x, -2.0)``: Python computes it with the C library's ``pow``,
    numba's ``**`` of an int exponent by repeated multiplication, which rounds
    differently (round 100: ``value_and_grad``'s value differed from ``f``'s in the last
    bits). A power that may be of two ints is exact (:mod:`srcad.numba_ints`)."""

    class Powers(ir.Transformer):
        def visit_Assign(self, stmt: ir.Assign) -> ir.Stmt:
            value = stmt.value
            if (
                isinstance(value, ir.BinOp) and value.op == "**" and not stmt.in_place
                and not _int_valued(value.left, kinds)
                and (_negative_int(value.right) or isinstance(value.left, ir.Name)
                     and value.left.id in floats)
            ):  # (of a negative int exponent Python's value is a float whatever the base)
                exponent = (  # (a float: numba's pow of an int exponent multiplies)
                    ir.Const(float(value.right.value)) if isinstance(value.right, ir.Const)
                    else ir.Call(ir.Name("float"), (value.right,))
                )
                power = ir.Call(ir.Attr(ir.Name(math_name), "pow"), (value.left, exponent))
                return replace(stmt, value=power)
            return stmt

    return list(Powers().visit_body(body))


def _negative_int(expr: ir.Expr) -> bool:
    return isinstance(expr, ir.Const) and type(expr.value) is int and expr.value < 0


def _int_valued(expr: ir.Expr, kinds: dict[str, str]) -> bool:
    """Whether ``expr`` is an int or a bool wherever it is computed."""
    if isinstance(expr, ir.Const):
        return type(expr.value) in (int, bool)
    return isinstance(expr, ir.Name) and kinds.get(expr.id) in (numba_types.INT, numba_types.BOOL)


def _with_float_items(value: ir.Expr) -> ir.Expr:
    """A list display of int literals (``[0, 1]``, also repeated: ``[0] * n``, sliced:
    ``[0, 0, 0][1:]``, or folded to a constant list) with float literals; any other value
    as it is."""
    if isinstance(value, ir.BinOp) and value.op == "*":
        left, right = _with_float_items(value.left), _with_float_items(value.right)
        if left is value.left and right is value.right:
            return value
        return replace(value, left=left, right=right)
    if isinstance(value, ir.Subscript) and isinstance(value.index, ir.Slice):
        items = _with_float_items(value.value)
        return value if items is value.value else replace(value, value=items)
    if isinstance(value, ir.Const) and isinstance(value.value, list) and any(
        type(v) is int for v in value.value
    ):
        return ir.Const([float(v) if type(v) is int else v for v in value.value])
    if not (isinstance(value, ir.Tuple) and value.is_list):
        return value
    if not any(isinstance(e, ir.Const) and type(e.value) is int for e in value.elts):
        return value
    return replace(value, elts=tuple(
        ir.Const(float(e.value)) if isinstance(e, ir.Const) and type(e.value) is int else e
        for e in value.elts
    ))


def _preallocated(body: list[ir.Stmt], kinds: dict[str, str]) -> dict[str, ir.Loop]:
    """Saved names whose tape can be an array of known length: name -> the loop that
    saves it. A name qualifies when it is saved at one place and restored at one, and
    that place is in a ``for`` loop over ``range(...)`` or over a named sequence, run
    at most once (no loop around it), outside any loop nested in it: it is saved at
    most once per iteration, so the loop's length bounds the tape. A list (``kinds``
    says which names are) is not a number an array holds."""
    pushes = Counter(s.name for s in ir.walk(body) if isinstance(s, ir.Push))
    pops = Counter(s.name for s in ir.walk(body) if isinstance(s, ir.Pop))
    counted: dict[str, ir.Loop] = {}
    for loop in _outer_loops(body):
        if not _known_length(loop.iterable):
            continue
        for push in _outside_inner_loops(loop.body):
            if pushes[push.name] == 1 and pops[push.name] == 1:
                if kinds.get(push.name) != numba_types.FLOATS:
                    counted[push.name] = loop
    return counted


def _outer_loops(body: tuple[ir.Stmt, ...] | list[ir.Stmt]) -> Iterator[ir.Loop]:
    return _outside_loops(body, ir.Loop)


def _outside_inner_loops(body: tuple[ir.Stmt, ...]) -> Iterator[ir.Push]:
    return _outside_loops(body, ir.Push)


def _outside_loops(body: tuple[ir.Stmt, ...] | list[ir.Stmt], kind: type[_K]) -> Iterator[_K]:
    """The statements of ``kind`` in ``body`` and its branches, not inside a loop of it
    (a loop itself is one of them)."""
    for stmt in body:
        if isinstance(stmt, kind):
            yield stmt
        elif isinstance(stmt, ir.If):
            yield from _outside_loops(stmt.body, kind)
            yield from _outside_loops(stmt.orelse, kind)


def _known_length(iterable: ir.Expr | None) -> bool:
    """Whether ``len(iterable)`` is known before the loop and costs nothing to ask."""
    if isinstance(iterable, ir.Name):
        return True
    return (
        isinstance(iterable, ir.Call)
        and isinstance(iterable.func, ir.Name)
        and iterable.func.id == "range"
        and all(isinstance(a, ir.Name | ir.Const) for a in iterable.args)
    )


def _compared_with_none(body: list[ir.Stmt] | tuple[ir.Stmt, ...]) -> set[str]:
    """The names ``body`` compares with None (``prev is not None``), and every name a
    copy links to one of them (``prev_1 = prev``): their ``None`` is a value the code
    reads, not a placeholder."""
    linked: dict[str, set[str]] = {}
    compared: set[str] = set()

    for stmt in ir.walk(body):
        if isinstance(stmt, ir.Assign) and isinstance(stmt.value, ir.Name):
            linked.setdefault(stmt.target, set()).add(stmt.value.id)
            linked.setdefault(stmt.value.id, set()).add(stmt.target)
        for expr in (node for e in ir.expressions_of(stmt) for node in ir.nodes(e)):
            if isinstance(expr, ir.Compare) and expr.op in ("is", "is not"):
                for side, other in ((expr.left, expr.right), (expr.right, expr.left)):
                    if isinstance(side, ir.Name) and other == ir.Const(None):
                        compared.add(side.id)
    found: set[str] = set()
    pending = list(compared)
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending += linked.get(name, ())
    return found


def _numpy_name(bindings: Any) -> str:
    """The name numpy goes by in the compiled listing: ``np`` unless that means
    something else there."""
    return "np" if bindings.get("np", np) is np else "numpy_for_tapes"


class _NumbaTapes(ir.Transformer):
    def __init__(
        self,
        tapes: dict[str, str],
        tops: dict[str, str],
        counted: dict[str, ir.Loop],
        numpy: str,
        bindings: Any,
        kinds: dict[str, str],
    ) -> None:
        self.tapes = tapes
        self.tops = tops
        self.counted = counted
        self.numpy = numpy
        self.bindings = bindings
        self.kinds = kinds
        self.sentinels: set[str] = set()
        #: the exact int operations the listing calls (:mod:`srcad.numba_ints`): each
        #: stub -> its name, and the id of each gate that calls one -> that name
        self.exact_names: dict[Any, str] = {}
        self.exact_gates: dict[int, str] = {}
        #: the name the check that the result is a number calls, and whether it does
        self.number_result = "number_result"
        self.result_checks = False

    def top(self, name: str) -> str | None:
        return self.tops.get(name)

    def visit_Tape(self, stmt: ir.Tape) -> list[ir.Stmt]:
        made: list[ir.Stmt] = []
        for name, tape in self.tapes.items():
            top = self.top(name)
            if top is None:
                made.append(ir.Assign(tape, ir.Tuple((), is_list=True)))
            else:  # (made again, long enough, just before its loop)
                made += [
                    ir.Assign(tape, self.empty(ir.Const(0), name)),
                    ir.Assign(top, ir.Const(0)),
                ]
        return made

    def empty(self, length: ir.Expr, name: str) -> ir.Expr:
        """An array for ``length`` saved values of ``name``: of its type (float64 where
        srcad cannot tell: numba's refusal of that listing makes one of lists)."""
        dtype = _DTYPES.get(self.kinds.get(name, ""))
        numpy = ir.Name(self.numpy)
        args = (length,) if dtype is None else (length, ir.Attr(numpy, dtype))
        return ir.Call(ir.Attr(numpy, "empty"), args)

    def visit_Effect(self, stmt: ir.Effect) -> ir.Stmt | None:
        """A check that a list operation has no numpy operand, or that a list written
        with floats holds no ints: numba types the lists (a list argument written is a
        float64 array, and so is a list of int literals written with floats), and
        compiles no Python error objects. The check that the result is a number: one
        numba compiles (:func:`_number_result`)."""
        value = stmt.value
        if not (isinstance(value, ir.Call) and isinstance(value.func, ir.Name)):
            return stmt
        helper = self.bindings.get(value.func.id)
        if any(helper is check for check in (*LIST_CHECKS, keep_aux, require_float_items)):
            return None  # (has_aux: the caller takes aux from a call of f)
        if getattr(helper, "__qualname__", "") == _RESULT_CHECK:
            self.result_checks = True
            return replace(stmt, value=ir.Call(ir.Name(self.number_result), value.args))
        return stmt

    def visit_Assign(self, stmt: ir.Assign) -> ir.Stmt:
        """``t2 = None`` (a name the loop saves before it first binds it, or a value on
        a path that does not compute it) as a zero of the name's type: numba gives a
        name one type, and ``None`` with an int is an optional int, which indexes
        nothing. The value is never read (saved and restored). A name of a type srcad
        cannot tell stays ``None``, or is ``np.nan`` for a float64 tape.

        A gate that may multiply ints calls its exact operation instead
        (:mod:`srcad.numba_ints`)."""
        if id(stmt) in self.exact_gates:
            return numba_ints.exact(stmt, self.exact_gates[id(stmt)])
        if stmt.value != ir.Const(None) or stmt.target in self.sentinels:
            return stmt  # (the function's own `best = None`, tested `is None`: kept)
        zero = numba_types.ZERO.get(self.kinds.get(stmt.target, ""))
        if zero is not None:
            return replace(stmt, value=zero)
        if stmt.target in self.counted:
            return replace(stmt, value=ir.Attr(ir.Name(self.numpy), "nan"))
        return stmt

    def visit_Push(self, stmt: ir.Push) -> ir.Stmt:
        tape, top = self.tapes[stmt.name], self.top(stmt.name)
        return ir.Push(stmt.name, via=tape if top else f"{tape}.append", top=top)

    def visit_Pop(self, stmt: ir.Pop) -> ir.Stmt:
        tape, top = self.tapes[stmt.name], self.top(stmt.name)
        return ir.Pop(stmt.name, via=tape if top else f"{tape}.pop", top=top)

    def visit_Loop(self, stmt: ir.Loop) -> ir.Stmt | list[ir.Stmt]:
        loop = self.generic_visit(stmt)
        assert isinstance(loop, ir.Loop)
        counted = self.counted_down(loop.iterable)
        if counted is not None:
            loop = replace(loop, iterable=counted)
        made = [
            ir.Assign(
                self.tapes[name],
                self.empty(ir.Call(ir.Name("len"), (stmt.iterable,)), name),  # type: ignore[arg-type]
            )
            for name, saving in self.counted.items()
            if saving is stmt
        ]
        return [*made, loop] if made else loop

    def builtin(self, expr: ir.Expr | None, obj: Any) -> bool:
        """Whether ``expr`` names the builtin ``obj`` (bound by srcad, or by its name)."""
        if not isinstance(expr, ir.Name):
            return False
        if expr.id in self.bindings:
            return bool(self.bindings[expr.id] is obj)
        return bool(expr.id == obj.__name__)

    def counted_down(self, iterable: ir.Expr | None) -> ir.Expr | None:
        """``reversed(range(a, b, s)[:n])`` (``[:n]`` optional) as
        ``range(last, a - s, -s)``: numba has no ``reversed`` of a range."""
        if not (
            isinstance(iterable, ir.Call)
            and self.builtin(iterable.func, builtins.reversed)
            and len(iterable.args) == 1
        ):
            return None
        inner, count = iterable.args[0], None
        if isinstance(inner, ir.Subscript):
            index = inner.index
            if not isinstance(index, ir.Slice) or index.lower is not None or index.step:
                return None
            inner, count = inner.value, index.upper
        if not (isinstance(inner, ir.Call) and self.builtin(inner.func, builtins.range)):
            return None
        args = list(inner.args)
        one = ir.Const(1)
        start: ir.Expr
        stop: ir.Expr
        step: ir.Expr
        if len(args) == 1:
            start, stop, step = ir.Const(0), args[0], one
        else:
            start, stop, step = args[0], args[1], args[2] if len(args) > 2 else one
        if step == one and count is None:  # range(a, b): from b - 1 down to a
            return _range(_minus(stop, one), _minus(start, one), ir.Const(-1))
        length: ir.Expr = ir.Call(ir.Name("len"), (inner,))
        if count is not None:
            length = ir.Call(ir.Name("min"), (length, count))
        last = ir.BinOp("+", start, ir.BinOp("*", _minus(length, one), step))
        return _range(last, _minus(start, step), ir.UnaryOp("-", step))


#: the numpy dtype of a tape of each kind of saved value (float64: numpy's default)
_DTYPES = {numba_types.INT: "int64", numba_types.BOOL: "bool_"}


def _range(*args: ir.Expr) -> ir.Expr:
    return ir.Call(ir.Name("range"), args)


def _minus(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    """``a - b``, folded when both are int constants."""
    if isinstance(a, ir.Const) and isinstance(b, ir.Const):
        if type(a.value) is int and type(b.value) is int:
            return ir.Const(a.value - b.value)
    return ir.BinOp("-", a, b)


# What the version for floats calls, as numba compiles it: the same meaning on numbers
# and lists of numbers (a list argument arrives as a float64 array, see :func:`_arguments`).
# The adjoint of a list is a float64 array throughout (``+=`` adds item by item, as an
# AdjointList does; numba's lists would join), except the one a backward loop pops items
# off (:func:`_copied`, for ``list_to_pop``). Where the helper takes a number or a list,
# the twin calls a function overloaded on numba's type (:func:`_register_overloads`).


def _zero_of(value: Any) -> Any:
    """0.0 for a number, zeros for each item of a list (numba compiles its overload)."""
    raise NotImplementedError  # pragma: no cover - only numba calls it


def _copy_of(value: Any) -> Any:
    """A number itself, a copy of a list or array (numba compiles its overload)."""
    raise NotImplementedError  # pragma: no cover - only numba calls it


def _chosen_of(mask: Any, g: Any) -> Any:
    """``g`` where ``mask`` holds, 0 elsewhere (runtime.chosen; numba compiles its
    overload)."""
    raise NotImplementedError  # pragma: no cover - only numba calls it


def _quotient_or_zero(numerator: Any, denominator: Any) -> Any:
    """``numerator / denominator``, 0 where the numerator is (runtime.divide_or_zero;
    numba compiles its overload)."""
    raise NotImplementedError  # pragma: no cover - only numba calls it


#: the qualified name of the check that the differentiated function's result is a number
_RESULT_CHECK = "scalar_check.<locals>.require_scalar"


def _number_result(value: Any) -> None:
    """A check that the function's result is a number (runtime.scalar_check's; numba
    compiles its overload: none for a list or an array, which numba then refuses)."""
    raise NotImplementedError  # pragma: no cover - only numba calls it


def _chosen(mask: Any, g: Any) -> Any:
    return _chosen_of(mask, g)


def _divide_or_zero(numerator: Any, denominator: Any) -> Any:
    return _quotient_or_zero(numerator, denominator)


def _register_overloads(numba: Any) -> None:
    """Teach numba :func:`_zero_of`, :func:`_copy_of`, :func:`_chosen_of`,
    :func:`_quotient_or_zero` and srcad.numba_ints's exact operations (once)."""
    if _OVERLOADED:
        return
    kinds = numba.core.types
    scalar = (kinds.Number, kinds.Boolean)

    # (each implementation is spelled as the stub, annotations too: numba compares them)
    def zero(value: Any) -> Any:
        return 0.0

    def zeros(value: Any) -> Any:
        return np.zeros(len(value))

    def itself(value: Any) -> Any:
        return value

    def copy(value: Any) -> Any:
        return value.copy()

    def zero_of(value: Any) -> Any:  # (a saved number starts as None: Optional)
        inner = value.type if isinstance(value, kinds.Optional) else value
        return zero if isinstance(inner, scalar) else zeros

    def copy_of(value: Any) -> Any:
        return itself if isinstance(value, scalar) else copy

    def chosen_number(mask: Any, g: Any) -> Any:
        return g if mask else 0.0

    def chosen_items(mask: Any, g: Any) -> Any:
        return np.where(mask, g, 0.0)

    def chosen(mask: Any, g: Any) -> Any:
        both = isinstance(mask, scalar) and isinstance(g, scalar)
        return chosen_number if both else chosen_items

    def quotient_of_numbers(numerator: Any, denominator: Any) -> Any:
        return 0.0 if numerator == 0 else numerator / denominator

    def quotient_of_items(numerator: Any, denominator: Any) -> Any:
        return np.where(numerator == 0, 0.0, numerator / denominator)

    def divide_or_zero(numerator: Any, denominator: Any) -> Any:
        both = isinstance(numerator, scalar) and isinstance(denominator, scalar)
        return quotient_of_numbers if both else quotient_of_items

    def no_check(value: Any) -> None:
        return None

    def not_none(value: Any) -> None:
        if value is None:
            raise ValueError("grad needs a scalar result, but the function returned None")

    def number_result(value: Any) -> Any:  # (`best = None` ... `return best`: Optional)
        if isinstance(value, scalar):
            return no_check
        if isinstance(value, kinds.Optional) and isinstance(value.type, scalar):
            return not_none
        return None  # (a list, an array, a tuple: numba finds no version, at the line)

    numba_ints.register(numba)
    numba.extending.overload(_number_result)(number_result)
    numba.extending.overload(_zero_of)(zero_of)
    numba.extending.overload(_copy_of)(copy_of)
    numba.extending.overload(_chosen_of)(chosen)
    numba.extending.overload(_quotient_or_zero)(divide_or_zero)
    _OVERLOADED.append(True)


_OVERLOADED: list[bool] = []


def _same(value: Any) -> Any:
    return value


def _zeros(value: Any) -> Any:
    return _zero_of(value)


def _fresh(value: Any) -> Any:
    return _copy_of(value)


def _copied(items: Any) -> Any:
    return [item for item in items]


def _gradient_of_items(g: Any, items: Any) -> Any:
    return g


def _divide(numerator: Any, denominator: Any) -> Any:
    return numerator / denominator  # (inf or nan at 0: numba's numpy error model)


def _sign(x: Any) -> Any:
    return (x > 0) - (x < 0)


def _log(x: Any) -> Any:
    return np.log(x)


def _power_slope(x: Any, y: Any, order: int = 1) -> Any:
    coefficient = y
    for j in range(1, order):
        coefficient *= y - j
    return 0.0 if coefficient == 0 else coefficient * x ** (y - order)


def _exponent_slope(x: Any, ans: Any) -> Any:
    return 0.0 * ans if x == 0 else np.log(x) * ans


def _each_gets(g: Any, items: Any) -> Any:
    return np.full(len(items), g)


def _add_at(target: Any, index: Any, value: Any) -> None:
    target[index] += value  # (the float version's lists: arrays here; one index adds once)


def _repeated(items: Any, count: Any) -> Any:
    out = [items[0]] * 0  # (a list of the items' type; `items * count` of an array multiplies)
    for _ in range(count):
        for item in items:
            out.append(item)
    return out


def _list_replaced(items: Any, index: Any, item: Any) -> Any:
    out = [x for x in items]
    out[index] = item
    return out


def _with_item(items: Any, index: Any, item: Any) -> Any:
    out = items.copy()  # (an adjoint: an array stays one)
    out[index] = item
    return out


def _repeated_grad(g: Any, items: Any) -> Any:
    size = len(items)
    out = np.zeros(size)
    for start in range(0, len(g), size):
        for k in range(size):
            out[k] += g[start + k]
    return out


def _list_removed(items: Any, index: Any) -> Any:
    out = [x for x in items]
    out.pop(index)
    return out


def _removed_grad(g: Any, items: Any, index: Any) -> Any:
    out = np.zeros(len(items))
    gone, at = index % len(items), 0
    for k in range(len(items)):
        if k != gone:
            out[k] = g[at]
            at += 1
    return out


def _extreme_items_grad(g: Any, items: Any, ans: Any) -> Any:
    out = np.zeros(len(items))
    tied = 0
    for k in range(len(items)):
        tied += items[k] == ans
    for k in range(len(items)):
        if items[k] == ans:  # (shared equally between equal ones, as the default's)
            out[k] += g / tied
    return out


def _prod_items_grad(g: Any, items: Any) -> Any:
    out = np.zeros(len(items))
    for k in range(len(items)):
        others = 1.0
        for j in range(len(items)):
            if j != k:
                others *= items[j]
        out[k] = others * g
    return out


def _sorted_grad(g: Any, items: Any, reverse: Any = False) -> Any:
    values = np.array([item for item in items])
    # (a stable sort both ways, as Python's: mergesort of the values or of their negatives)
    order = np.argsort(-values if reverse else values, kind="mergesort")
    out = np.zeros(len(values))
    for place in range(len(order)):
        out[order[place]] = g[place]
    return out


def _leading_grad(g: Any, items: Any) -> Any:
    return _copy_of(g[: len(items)])


def _trailing_grad(g: Any, items: Any) -> Any:
    return _copy_of(g[len(items) :])


def _check_assertion(condition: Any, message: Any = None) -> None:
    if not condition:
        raise AssertionError(message)


def _twins() -> dict[Any, Any]:
    """The runtime helpers of the version for floats -> what numba compiles instead."""
    from . import runtime
    from .rules import numpy_grads

    return {
        runtime.divide: _divide,
        runtime.divide_or_zero: _divide_or_zero,
        runtime.chosen: _chosen,
        runtime.add_at: _add_at,
        runtime.repeated: _repeated,
        runtime.repeated_grad: _repeated_grad,
        runtime.list_replaced: _list_replaced,
        runtime.with_item: _with_item,  # (an adjoint of a list: an array)
        runtime.list_removed: _list_removed,
        runtime.removed_grad: _removed_grad,
        runtime.extreme_items_grad: _extreme_items_grad,
        runtime.prod_items_grad: _prod_items_grad,
        runtime.leading_grad: _leading_grad,
        runtime.trailing_grad: _trailing_grad,
        numpy_grads.sorted_grad: _sorted_grad,
        numpy_grads.sign: _sign,
        runtime.log_of_number: _log,
        runtime.power_slope: _power_slope,
        runtime.power_slope_of_numbers: _power_slope,
        runtime.exponent_slope: _exponent_slope,
        numpy_grads.fsum_grad: _each_gets,
        numpy_grads.sum_items_grad: _each_gets,
        runtime.loop_items: _same,
        runtime.loop_items_grad: _gradient_of_items,
        runtime.structured_like: _gradient_of_items,  # (lists are remade by _as_given)
        runtime.zeros_like: _zeros,  # (0.0 for a number, zeros for a list)
        runtime.zeros_for_items: _zeros,
        runtime.float_zeros: _zeros,
        runtime.float_adjoint_zeros: _zeros,
        runtime.as_given: _gradient_of_items,
        runtime.fresh_copy: _fresh,
        runtime.part_copy: _fresh,
        runtime.list_to_pop: _copied,
        runtime.listed_grad: _gradient_of_items,  # (list(xs)'s adjoint: xs's, an array)
        runtime.check_assertion: _check_assertion,
        _float_list: _float_list,
    }


def compiled(built: Any, user_function: types.FunctionType) -> Any:
    """The numba-compiled gradient of ``built`` (a :class:`~srcad.pipeline.Gradient`),
    reading ``user_function``'s globals; a plain function that calls the dispatcher and
    turns numba's compile errors into :class:`CompiledBackendError` at the user's line."""
    key = (id(built), user_function)
    kept = _COMPILED.get(key)
    if kept is None or kept[0] is not built:
        kept = _COMPILED[key] = (built, _compiled(built, user_function))
    return kept[1]


def _compiled_twin(numba: Any, twin: Any) -> Any:
    """``twin`` compiled as the gradient is (``x / 0.0`` is inf or nan, not an error)."""
    return numba.njit(twin, error_model="numpy")

#: (id of a Gradient, the user's code) -> (the Gradient, its compiled gradient)
_COMPILED: dict[tuple[int, Any], tuple[Any, Any]] = {}


def _compiled(built: Any, user_function: types.FunctionType) -> Any:
    numba = numba_module()
    from .float_guard import read_as_lists_in, without_float_guard
    from .runtime import float_fields

    where = Location(built.forward.source_file, built.forward.source_line, 0)
    reads_objects = len(built.versions) == 2 and any(
        value is float_fields for value in built.versions[0].ir.bindings.values()
    )  # (a version for floats whose parameters include objects: numba compiles none)
    if len(built.versions) < 2 or reads_objects:
        raise CompiledBackendError(
            "backend='numba' compiles srcad's version of a gradient for Python numbers "
            "(floats, ints, lists of them, loops, branches, math), and srcad made none "
            "for this function: it works on arrays, dicts or objects, or reads a list in "
            "a way that version does not cover",
            "use the default backend (backend='python') for this function",
            where,
        )
    floats = built.versions[0].ir
    guard_free = without_float_guard(floats)
    if getattr(user_function, "__code__", None) is not built.user_function.__code__:
        user_function = built.user_function
    cells = dict(zip(user_function.__code__.co_freevars, user_function.__closure__ or ()))
    twins = _twins()
    _register_overloads(numba)

    def listing(preallocate: bool) -> _Listing:
        numba_ir = for_numba(floats, guard_free, preallocate, built.wrt)
        text = emit.function(numba_ir)
        bindings = {
            name: _compiled_twin(numba, twins[value])
            if isinstance(value, types.FunctionType) and value in twins else value
            for name, value in numba_ir.bindings.items()
        }
        made = compile_function(
            text,
            numba_ir.name,
            bindings,
            tuple(numba_ir.free_cells),
            origin=f"{built.forward.source_file}:{built.forward.source_line} (numba)",
            origins=emit.origins(text, built.forward),
        )
        used = {n: cells[n] for n in numba_ir.free_cells}
        python = made.bind(user_function, used)
        # (error_model="numpy": x / 0.0 is inf, as srcad's divide)
        dispatcher = numba.njit(python, error_model="numpy")
        watched: tuple[Callable[[], Any], ...] = (
            *(functools.partial(_held, cell) for cell in used.values()),
            *_globals_read(numba_ir, user_function.__globals__, used),
        )
        return _Listing(text, made.filename, dispatcher, preallocate, watched,
                        _contents(read() for read in watched))

    kinds = numba.core.errors
    errors = kinds.NumbaError  # (typing, lowering, bytecode analysis: what compiling raises)
    names = floats.params + floats.kwonly
    positions = [names.index(name) for name in built.wrt]
    signature = inspect.signature(user_function)
    defaults = [signature.parameters[n].default for n in names]
    filled = {  # (arguments given by position, the rest left at their defaults: no bind)
        k: tuple(defaults[k:])
        for k in range(len(names))
        if all(d is not inspect.Parameter.empty for d in defaults[k:])
        and all(signature.parameters[n].kind is not inspect.Parameter.KEYWORD_ONLY
                for n in names[:k])
    }
    kinds_of_names = numba_types.kinds(floats, guard_free)
    growing = _growing_int(guard_free, kinds_of_names)
    if growing is not None:
        raise CompiledBackendError(
            "an int that a loop multiplies (a factorial, a product kept exact) may pass "
            "2**63 in numba's compiled code, whose ints have 64 bits (Python's have no "
            "limit), and the gradient would be silently wrong",
            "keep it a float (`fact = 1.0`), or use the default backend",
            growing.loc,
        )
    preallocates = bool(_preallocated(guard_free, kinds_of_names))
    int_gates = numba_ints.int_gates(guard_free, kinds_of_names, built.wrt)
    read_as_lists = read_as_lists_in(floats)
    int_lists = _read_only(guard_free, names, floats.bindings) - set(built.wrt)
    running = [listing(preallocate=preallocates)]

    def gradient(*args: Any, **kwargs: Any) -> Any:
        if not kwargs and len(args) in filled:
            args = (*args, *filled[len(args)])
        elif kwargs or len(args) != len(names):  # (numba takes every argument by position)
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            args = tuple(bound.arguments[name] for name in names)
        given = None
        for a in args:
            if a.__class__ not in _NUMBERS:
                given, args = args, _arguments(args, names, where, read_as_lists, int_lists)
                break
        for k in positions:  # (an int given for a differentiated number: a float, as
            if args[k].__class__ is int:  # Python's arithmetic of it is, to 2**53)
                args = (*args[:k], float(args[k]), *args[k + 1:])
        if running[0].watched and _rebound(running[0]):  # (numba compiled their values in)
            run(listing(preallocate=running[0].preallocates))
        try:
            result = running[0].dispatcher(*args)
        except OverflowError as error:
            if error.args[:1] != (numba_ints.ERROR,):
                raise
            raise numba_ints.refusal(error, int_gates, where) from None
        except ValueError as error:
            if not str(error).startswith("grad needs a scalar result"):  # (not_none's)
                raise
            raise NonScalarOutputError(  # (round 100: a bare ValueError)
                f"grad needs a scalar result, but {user_function.__name__} returned None "
                "here",
                "return a number on every path (a `best = None` start that no item "
                "replaced: give it a number, or check the input first)",
                where,
            ) from None
        except Exception as error:
            if not (isinstance(error, errors) or _while_compiling(error)):
                raise  # (the compiled code's own exception, as Python's would be)
            if not running[0].preallocates:
                raise _located(error, where, floats.bindings) from None
            # a saved value that is not a float (an int index, a tuple): lists hold it
            run(listing(preallocate=False))
            return gradient(*(given or args))
        return _as_given(result, built.mode, [given[k] for k in positions]) if given else result

    def run(compiled: _Listing) -> None:
        """Call ``compiled`` from now on (and show its listing)."""
        running[:] = [compiled]
        gradient.compiled_source = compiled.text  # type: ignore[attr-defined]
        gradient.dispatcher = compiled.dispatcher  # type: ignore[attr-defined]

    run(running[0])
    # (the user's parameters: grad(grad(f)) reads them to pass its arguments on; round
    # 97: with (*args, **kwargs) it passed none)
    gradient.__signature__ = signature  # type: ignore[attr-defined]
    return gradient


@dataclass(frozen=True)
class _Listing:
    """One compiled listing of a gradient: its text, file name, and numba dispatcher."""

    text: str
    filename: str
    dispatcher: Any
    preallocates: bool  # (whether some tape is an array made for its loop)
    #: what reads the closure cells, module globals and attributes of global modules the
    #: listing reads: numba compiles their values in as constants, so a name bound again
    #: needs a new listing
    watched: tuple[Callable[[], Any], ...] = ()
    #: what they held when it was made
    contents: tuple[tuple[Any, Any], ...] = ()


_UNBOUND = object()  # (a cell not bound yet)


def _held(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:
        return _UNBOUND


def _contents(values: Any) -> tuple[tuple[Any, Any], ...]:
    """``values`` (kept, to compare by identity: a new binding is a new object), each
    with a copy of its items where it is an array (numba compiles those in too: a write
    into one changes them)."""
    return tuple(
        (value, value.copy() if isinstance(value, np.ndarray) else None) for value in values
    )


def _rebound(listing: _Listing) -> bool:
    """Whether a closure cell, a module global or a global module's attribute that
    ``listing`` reads holds another object than when it was made, or an array whose
    items changed since (rounds 91 and 97: a stale gradient)."""
    return any(
        value is not then or (items is not None and not np.array_equal(value, items))
        for value, (then, items) in zip((read() for read in listing.watched), listing.contents)
    )


def _globals_read(
    listing: ir.Function, namespace: dict[str, Any], cells: Collection[str]
) -> list[Callable[[], Any]]:
    """What reads each module global ``listing`` reads (not its own names, bindings or
    closure ``cells``), and each attribute it reads of a module (``config.K``; a helper's
    own global, read through its module: round 100)."""
    body = listing.body
    names = sorted(
        n for n in ir.read_in(body) - ir.defined_in(body)
        if n in namespace and n not in listing.bindings and n not in cells
        and n not in listing.params
    )
    modules = {  # (the user's global modules, and those srcad bound: a helper's module,
        n: obj for n, obj in (*((n, namespace[n]) for n in names),  # whose globals an
                              *listing.bindings.items())           # inlined helper reads)
        if isinstance(obj, types.ModuleType)
    }
    attributes = sorted({
        (node.value.id, node.attr)
        for stmt in ir.walk(body) for expr in ir.expressions_of(stmt) for node in ir.nodes(expr)
        if isinstance(node, ir.Attr) and isinstance(node.value, ir.Name)
        and node.value.id in modules
    })
    return [
        *(functools.partial(namespace.get, n, _UNBOUND) for n in names),
        *(functools.partial(_attribute, modules[m], a) for m, a in attributes),
    ]


def _attribute(module: types.ModuleType, name: str) -> Any:
    return getattr(module, name, _UNBOUND)


def _growing_int(body: list[ir.Stmt], kinds: dict[str, str]) -> ir.Assign | None:
    """A multiplication (or power, or left shift) of ints that a loop carries back into
    the next iteration through copies, sums and products only (``fact *= k``, not ``k =
    (3 * k + i) % 4``): a product that may outgrow numba's int64."""
    for loop in ir.walk(body):
        if not isinstance(loop, ir.Loop) or not loop.carried:
            continue
        assigns = [s for s in ir.walk(loop.body) if isinstance(s, ir.Assign)]
        readers: dict[str, list[ir.Assign]] = {}
        for stmt in assigns:
            for name in set(ir.names_in(stmt.value)):
                readers.setdefault(name, []).append(stmt)
        for stmt in assigns:
            if (
                kinds.get(stmt.target) == numba_types.INT
                and isinstance(stmt.value, ir.BinOp) and stmt.value.op in _GROWING
                and any(
                    isinstance(side, ir.Name) and side.id in loop.carried
                    for side in (stmt.value.left, stmt.value.right)
                )
                and _reaches(stmt.target, set(loop.carried), readers)
            ):
                return stmt
    return None


#: int operations that keep a product growing (copies too); any other (``%``, ``//``,
#: ``min``) may bound it
_GROWING = frozenset(("*", "**", "<<"))
_KEEPING = frozenset(("*", "**", "<<", "+", "-"))


def _reaches(name: str, carried: set[str], readers: dict[str, list[ir.Assign]]) -> bool:
    """Whether ``name`` flows into a carried name through copies and :data:`_KEEPING`."""
    todo, seen = [name], set()
    while todo:
        current = todo.pop()
        if current in carried:
            return True
        if current in seen:
            continue
        seen.add(current)
        for reader in readers.get(current, []):
            value = reader.value
            if isinstance(value, ir.Name) or (
                isinstance(value, ir.BinOp) and value.op in _KEEPING
            ):
                todo.append(reader.target)
    return False


def _read_only(
    body: list[ir.Stmt], params: list[str] | tuple[str, ...], bindings: Any
) -> set[str]:
    """The ``params`` the listing ``body`` reads only by item, by ``len`` and by loops
    over them (through copies of the name, and ``loop_items``): given as int64 arrays,
    their ints stay ints, and no write of a float into one is truncated."""
    uses: dict[str, list[ir.Expr | ir.Stmt]] = {}
    for stmt in ir.walk(body):
        if isinstance(stmt, ir.Loop) and isinstance(stmt.iterable, ir.Name):
            uses.setdefault(stmt.iterable.id, []).append(stmt)
            continue
        copied = _copied_name(stmt, bindings)
        if copied is not None:
            uses.setdefault(copied, []).append(stmt)
            continue
        for expr in ir.expressions_of(stmt):
            for node in ir.nodes(expr):
                for child in ir.children(node):
                    if isinstance(child, ir.Name):
                        uses.setdefault(child.id, []).append(node)

    def read_only(name: str, seen: set[str]) -> bool:
        if name in seen:
            return True
        seen.add(name)
        for use in uses.get(name, []):
            if isinstance(use, ir.Loop):
                continue
            if isinstance(use, ir.Assign):  # (a copy of the name: read only too)
                if use.in_place or not read_only(use.target, seen):
                    return False
            elif (
                isinstance(use, ir.Subscript) and use.value == ir.Name(name)
                and not isinstance(use.index, ir.Slice)  # (xs[:] is a copy, written maybe)
            ):
                continue
            elif isinstance(use, ir.Call) and use.func == ir.Name("len"):
                continue
            else:
                return False
        return True

    written = {
        s.target for s in ir.walk(body) if isinstance(s, ir.Assign) and (s.in_place or s.logical)
    }
    return {p for p in params if p not in written and read_only(p, set())}


#: helpers whose value holds the same items as their argument (twins: the argument itself)
_SAME_ITEMS = (loop_items,)


def _copied_name(stmt: ir.Stmt, bindings: Any) -> str | None:
    """The name ``stmt`` binds another name to (``a = b``, ``a = loop_items(b)``)."""
    if not isinstance(stmt, ir.Assign) or stmt.in_place:
        return None
    value = stmt.value
    if isinstance(value, ir.Name):
        return value.id
    if (
        isinstance(value, ir.Call) and isinstance(value.func, ir.Name)
        and any(bindings.get(value.func.id) is f for f in _SAME_ITEMS) and len(value.args) == 1
        and isinstance(value.args[0], ir.Name) and not value.kwargs
    ):
        return value.args[0].id
    return None


def _while_compiling(error: BaseException) -> bool:
    """Whether ``error`` came out of numba's compiler (its type inference or lowering,
    which fail with a bare AttributeError on some code) rather than the compiled code."""
    frame = error.__traceback__
    while frame is not None:
        name = frame.tb_frame.f_code.co_filename.replace("\\", "/")
        if "/numba/core/typing/" in name or "/numba/core/typeinfer" in name or (
            "/numba/core/lowering" in name
        ):
            return True
        frame = frame.tb_next
    return False


def _as_given(result: Any, mode: str, wrt_args: list[Any]) -> Any:
    """The gradient of a list (tuple) argument as a list (tuple) of floats, as the
    default backend gives it: the compiled code sees and returns float64 arrays."""
    value, grads = result if mode == "value_and_grad" else (None, result)
    many = len(wrt_args) > 1
    parts = list(grads) if many else [grads]
    parts = [
        type(a)(p.tolist()) if isinstance(a, list | tuple) and isinstance(p, np.ndarray) else p
        for a, p in zip(wrt_args, parts)
    ]
    grads = tuple(parts) if many else parts[0]
    return (value, grads) if mode == "value_and_grad" else grads


_NUMBERS = (float, int, bool)


def _arguments(
    args: tuple[Any, ...], params: tuple[str, ...], where: Location, read_as_lists: set[str],
    int_lists: Collection[str] = (),
) -> tuple[Any, ...]:
    """numpy's scalars as Python numbers, lists and tuples of numbers as float64 arrays
    (numba's lists of Python objects are deprecated), or of ints as int64 arrays for the
    parameters ``int_lists`` (read only, not differentiated: numba's arithmetic of their
    items is Python's), 1-D float64 arrays as they are for the parameters the float
    version reads as lists (``read_as_lists``); anything else is refused: the compiled
    listing is the version for numbers, whose gradients would not sum over an array's
    broadcasting. So is an int a float64 array does not hold exactly."""
    out = []
    for name, a in zip(params, args):
        if isinstance(a, np.generic) and a.dtype.kind in "biuf":
            out.append(a.item())
        elif isinstance(a, list | tuple) and all(
            isinstance(item, _NUMBERS + (np.generic,)) for item in a
        ):
            ints = [item for item in a if isinstance(item, int) and not isinstance(item, bool)]
            if name in int_lists and ints and len(ints) == len(a):
                if max(map(abs, ints)) < 2 ** 63:
                    out.append(np.asarray(a, dtype=np.int64))
                    continue
            elif not ints or max(map(abs, ints)) <= 2 ** 53:
                out.append(np.asarray(a, dtype=np.float64))
                continue
            raise CompiledBackendError(
                f"{name} holds an int that numba's compiled code cannot hold exactly "
                "(past 2**53 in a list it reads as floats, or past 2**63)",
                "use the default backend (backend='python'), whose ints are Python's",
                where,
            )
        elif name in read_as_lists and a.__class__ is np.ndarray and as_floats(a) is not None:
            out.append(a)  # (what a list of floats becomes: read item by item the same)
        elif a.__class__ in _NUMBERS:
            out.append(a)
        else:
            what = f"a {type(a).__module__}.{type(a).__qualname__}"
            if isinstance(a, list | tuple):
                what += " holding other things than numbers (lists, tuples, arrays...)"
            raise CompiledBackendError(
                f"backend='numba' compiles the gradient for Python numbers (and lists of "
                f"them), and {name} is {what}",
                "use the default backend (backend='python') for arrays and other values",
                where,
            )
    return tuple(out)


_GENERATED_LINE = re.compile(r'File "(<srcad [^"]*>)", line (\d+)')
_UNTYPED = re.compile(r"Untyped global name '(\w+)'")


def _located(error: Exception, fallback: Location, bindings: Any) -> CompiledBackendError:
    """numba's compile error as the user's line it stopped at, with the first line of
    numba's that says why (or that a helper of srcad's has no twin numba compiles)."""
    message = str(error)
    where = fallback
    for name, line in _GENERATED_LINE.findall(message):
        found = origin(name, int(line))
        if found is not None:
            where = found
            break
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    why = [ln for ln in lines if not ln.startswith("Failed in")]  # (one per nested pipeline)
    first = why[0] if why else lines[0] if lines else type(error).__name__
    signature = next((ln for ln in why[1:4] if ln.startswith(">>>")), None)
    if first.endswith("signature:") and signature is not None:  # (the types it had)
        first += " " + signature.removeprefix(">>>").strip()
    untyped = _UNTYPED.search(message)
    helper = bindings.get(untyped.group(1)) if untyped else None
    if getattr(helper, "__module__", "").startswith("srcad."):
        first = f"srcad's helper {untyped.group(1)} has no version numba compiles"  # type: ignore[union-attr]
    return CompiledBackendError(
        f"numba cannot compile the gradient of this line: {first}",
        "use the default backend (backend='python'), or write this line with the "
        "numbers and numpy functions numba supports",
        where,
    )
