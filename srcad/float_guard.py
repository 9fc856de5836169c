"""The float version's entry check: the test that sends anything but Python floats
(and lists, tuples and dicts of them) to the array version, which a gradient made for
floats falls back to. Reverse mode (:mod:`srcad.reverse`) and the forward-mode gradient
of a few parameters (:mod:`srcad.forward`) make the same check."""

from __future__ import annotations

import builtins
from typing import Any, Protocol

import numpy as np

from . import ir
from .analyze import FloatGuards, float_witnesses
from .runtime import (
    as_floats,
    float_fields,
    float_items,
    float_rows,
    fresh_arguments,
    number_items,
    numbers_only,
)


class Binder(Protocol):
    """What makes a gradient: it names the objects the generated code calls."""

    def bind(self, preferred: str, obj: Any) -> str: ...


#: Stands for the array version of a gradient in the scalar version's bindings until
#: both are compiled (see :func:`reverse`'s ``scalar_guards``).
ARRAY_VERSION = type("ArrayVersion", (), {"__repr__": lambda self: "<array version>"})()


#: Stands for the differentiated function itself in a gradient's bindings until it is
#: bound (see :meth:`srcad.pipeline.Gradient.bind`): a forward-mode gradient runs it
#: when its ``try`` catches an error, so that the function's own error is raised.
USER_FUNCTION = type("UserFunction", (), {"__repr__": lambda self: "<the function>"})()


def array_version_name(name: str) -> str:
    """The name of the array version of the gradient called ``name``."""
    return name + "_arrays"


FLOAT_VERSION_NOTE = "this version is for Python floats"
FLOAT_ARRAYS_NOTE = "a 1-D float array's items are read as a list's"


def read_as_lists_in(fn: ir.Function) -> set[str]:
    """The parameters the float version ``fn`` reads through :func:`as_floats`: a 1-D
    float array may stand for a list of floats there."""
    return set(_float_lists(fn).values())


def _float_lists(fn: ir.Function) -> dict[str, str]:
    """``{p_floats: p}`` for each ``p_floats = as_floats(p)`` of the float version ``fn``."""
    found: dict[str, str] = {}
    for stmt in fn.body:
        if isinstance(stmt, ir.Assign) and _calls(fn, stmt.value, as_floats):
            assert isinstance(stmt.value, ir.Call)
            (param,) = stmt.value.args
            assert isinstance(param, ir.Name)
            found[stmt.target] = param.id
    return found


def _calls(fn: ir.Function, value: ir.Expr, helper: Any) -> bool:
    """Is ``value`` a call of the object ``fn`` binds ``helper`` as?"""
    return (
        isinstance(value, ir.Call)
        and isinstance(value.func, ir.Name)
        and fn.bindings.get(value.func.id) is helper
    )


def helper_arguments(
    fn: ir.Function, value: ir.Expr, helper: Any
) -> tuple[ir.Expr, ...] | None:
    """The arguments of ``value`` when it calls ``helper`` (bound in ``fn``) by position
    only; else None."""
    if isinstance(value, ir.Call) and _calls(fn, value, helper) and not value.kwargs:
        return value.args
    return None


def without_float_guard(fn: ir.Function) -> list[ir.Stmt]:
    """The float version's body without its type check and the comments about it (what
    is differentiated again for second derivatives)."""
    out: list[ir.Stmt] = []
    lists = _float_lists(fn)  # (a parameter's floats: the parameter itself again)
    for stmt in fn.body:
        if isinstance(stmt, ir.Assign) and stmt.target in lists:
            continue
        if isinstance(stmt, ir.Unpack) and _calls(fn, stmt.value, fresh_arguments):
            continue  # (copies of the lists it writes into: what differentiates it again copies)
        if (
            isinstance(stmt, ir.If)
            and len(stmt.body) == 1
            and isinstance(stmt.body[0], ir.Return)
            and _calls(fn, stmt.body[0].value, ARRAY_VERSION)
        ):
            if out and isinstance(out[-1], ir.Comment) and not out[-1].header:
                out.pop()  # the comment saying what the check proves
            continue
        if isinstance(stmt, ir.Comment) and stmt.text.startswith(FLOAT_VERSION_NOTE):
            continue
        out.append(stmt)
    return list(ir.rename(out, lists))


_FLOAT_OR_INT = (float, int, np.float64)  # (numpy's float64 is a float subclass)


def float_guard(
    builder: Binder,
    fn: ir.Function,
    name: str,
    guards: FloatGuards,
    body: list[ir.Stmt],
    readable: set[str],
    lists: dict[str, str],
) -> list[ir.Stmt]:
    """``body`` with the check that sends anything but Python floats to the array version.

    Parameters are checked directly, or through a value computed from them that the
    gradient reads anyway (:func:`float_witnesses`: ``t1 = x1 + x2`` is a float only
    if ``x1`` and ``x2`` are numbers), then the check stands after that value.
    Numeric globals keep their own type. A sequence parameter in ``lists`` is read
    through the name ``body`` gives it there: its floats (a float array's as a list).
    """
    array_version = builder.bind(array_version_name(name), ARRAY_VERSION)
    guarded = guards.numbers
    params = tuple(p for p in guarded if p not in fn.free_objects)
    witnesses, covered = float_witnesses(fn, params, readable)
    at = 1 + max(  # (the check stands after the last witness)
        (i for i, s in enumerate(body) if isinstance(s, ir.Assign) and s.target in witnesses),
        default=-1,
    )
    if ir.read_in(body[:at]) & set(lists.values()):  # (a list read before the check)
        witnesses, covered = (), ()
    float_name = builder.bind("float", builtins.float)

    def check(value: str, kind: str = float_name) -> ir.Expr:
        return ir.Compare("is not", ir.Attr(ir.Name(value), "__class__"), ir.Name(kind))

    numbers = builder.bind("float_or_int", _FLOAT_OR_INT)

    def not_a_number(p: str) -> ir.Expr:  # (an int, such as a count of servers, is one)
        return ir.Compare("not in", ir.Attr(ir.Name(p), "__class__"), ir.Name(numbers))

    checks = [not_a_number(p) for p in params if p not in covered]
    if witnesses:  # (numpy's float64 parameters make float64 witnesses: checked one by one)
        all_numbers = ir.Call(
            ir.Name(builder.bind("all_numbers", numbers_only)), tuple(ir.Name(p) for p in covered)
        )
        checks.insert(
            0,
            ir.BoolOp(
                "and", (any_of([check(w) for w in witnesses]), ir.UnaryOp("not", all_numbers))
            ),
        )
    checks += [
        check(g, builder.bind(type(fn.free_objects[g]).__name__, type(fn.free_objects[g])))
        for g in guarded
        if g in fn.free_objects
    ]
    conversions: list[ir.Stmt] = []
    for p in guards.sequences:
        if p in lists:
            as_list = ir.Call(ir.Name(builder.bind("as_floats", as_floats)), (ir.Name(p),))
            conversions.append(ir.Assign(lists[p], as_list))
            checks.append(ir.Compare("is", ir.Name(lists[p]), ir.Const(None)))
        else:  # (a global list of numbers: ints too, it gets no gradient)
            check_items = number_items if p in fn.free_objects else float_items
            items = builder.bind(check_items.__name__, check_items)
            checks.append(ir.UnaryOp("not", ir.Call(ir.Name(items), (ir.Name(p),))))
    for p, fields in guards.records:
        check_fields = builder.bind("float_fields", float_fields)
        names = ir.Tuple(tuple(ir.Const(f) for f in fields))
        checks.append(ir.UnaryOp("not", ir.Call(ir.Name(check_fields), (ir.Name(p), names))))
    for p in guards.rows:
        rows = builder.bind("float_rows", float_rows)
        checks.append(ir.UnaryOp("not", ir.Call(ir.Name(rows), (ir.Name(p),))))
    call = ir.Call(
        ir.Name(array_version),
        tuple(ir.Name(p) for p in fn.params),
        tuple((k, ir.Name(k)) for k in fn.kwonly),
    )
    guard = ir.If(any_of(checks), (ir.Return(call),))
    header = ir.Comment(FLOAT_VERSION_NOTE, header=False)
    if conversions:
        header = ir.Comment(f"{FLOAT_VERSION_NOTE} ({FLOAT_ARRAYS_NOTE})", header=False)
    if not witnesses:
        return [header, *conversions, guard, *body]
    why = ir.Comment(
        f"{' and '.join(witnesses)} {'is a float' if len(witnesses) == 1 else 'are floats'} "
        f"only if {', '.join(covered)} are Python numbers",
        header=False,
    )
    return [header, *conversions, *body[:at], why, guard, *body[at:]]


def any_of(tests: list[ir.Expr]) -> ir.Expr:
    return tests[0] if len(tests) == 1 else ir.BoolOp("or", tuple(tests))
