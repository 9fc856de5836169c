"""``with`` blocks and ``try`` statements: what srcad accepts of them, and the check that
they touch no differentiated value.

- ``with <manager>(...) [as name]:`` for context managers that change neither values
  nor control flow (they only decide what happens to warnings, floating-point errors or
  printing): the body is differentiated as usual. The forward pass runs it inside the
  context, and the backward pass runs the body's derivative inside a context made
  again by the same call (the derivative of ``log`` at 0 divides by zero too). Its
  arguments and ``as`` name must not depend on the differentiated inputs.
- ``try`` statements run as ordinary Python in the forward pass, once (partial
  evaluation): no part of them may read a value that depends on the differentiated
  inputs when what they compute reaches the result. The names they bind are constants
  to the gradient.

Both are checked twice: the syntax before lowering (:func:`with_refusals`,
:func:`try_refusals`), the values once activity is known (:func:`refuse_active`).
"""

from __future__ import annotations

import ast
import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import astwalk, ir, pycode
from .errors import Location, SrcadError, UnsupportedSyntaxError, raise_all

#: Context managers a ``with`` block may use: each changes only what happens to
#: warnings, floating-point errors or printing, and lets every exception through.
SAFE_MANAGERS: dict[Any, str] = {
    np.errstate: "np.errstate",
    np.printoptions: "np.printoptions",
    warnings.catch_warnings: "warnings.catch_warnings",
    contextlib.nullcontext: "contextlib.nullcontext",
}

#: Functions of :mod:`warnings` a differentiated function may call as a statement;
#: the filters also configure the ``with`` block they stand in (see ``ir.Effect.setup``).
WARNING_FILTERS = frozenset(
    (warnings.simplefilter, warnings.filterwarnings, warnings.resetwarnings)
)
WARNING_CALLS = WARNING_FILTERS | {warnings.warn, warnings.warn_explicit}

UNSAFE_MANAGER_HINT = (
    "enter this context around the call to the gradient instead (`with ctx: df(x)`)"
)

# ---------------------------------------------------------------- syntax (srcad.subset)


def _statements(body: list[ast.stmt], loops: int) -> Iterator[tuple[ast.stmt, int]]:
    """Every statement of ``body`` with the number of loops around it inside ``body``
    (not inside nested functions or classes)."""
    for stmt in body:
        yield stmt, loops
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        inner = loops + 1 if isinstance(stmt, ast.For | ast.While | ast.AsyncFor) else loops
        for field in ("body", "orelse", "finalbody"):
            block = getattr(stmt, field, None)
            if isinstance(block, list):
                yield from _statements(block, inner if field == "body" else loops)
        for handler in getattr(stmt, "handlers", ()):
            yield from _statements(handler.body, loops)
        for case in getattr(stmt, "cases", ()):
            yield from _statements(case.body, loops)


def with_refusals(
    stmt: ast.With, in_loop: bool, always_returns, resolve, at
) -> list[SrcadError]:
    """What srcad cannot run of the ``with`` statement ``stmt`` (``in_loop``: it stands
    inside a loop of the function): a manager that is not a call of a known-safe one
    (``resolve`` gives the object a call's function denotes, or None), an ``as`` target
    that is not a name, and jumps that leave the block other than a ``return`` ending
    every path through it. ``at`` gives a node's location."""
    problems: list[SrcadError] = []
    for item in stmt.items:
        call = item.context_expr
        if isinstance(call, ast.Call) and not is_safe(resolve(call.func)):
            problems.append(UnsupportedSyntaxError(
                f"`with` is supported only for context managers that change neither values "
                f"nor control flow ({', '.join(SAFE_MANAGERS.values())})",
                UNSAFE_MANAGER_HINT,
                at(call),
            ))
        if not isinstance(call, ast.Call):
            problems.append(UnsupportedSyntaxError(
                "a `with` statement is supported only with the call that makes its context "
                "manager",
                "write the call in the `with` line: with np.errstate(divide='ignore'):",
                at(call),
            ))
        if item.optional_vars is not None and not isinstance(item.optional_vars, ast.Name):
            problems.append(UnsupportedSyntaxError(
                "`with ... as` is supported with one name only",
                "write `as name` and unpack `name` inside the block",
                at(item.optional_vars),
            ))
    returns = []
    for inner, loops in _statements(stmt.body, 0):
        if isinstance(inner, ast.Break | ast.Continue) and loops == 0:
            word = "break" if isinstance(inner, ast.Break) else "continue"
            problems.append(UnsupportedSyntaxError(
                f"`{word}` out of a `with` block is not supported",
                "set a flag inside the block and test it after the block",
                at(inner),
            ))
        elif isinstance(inner, ast.Return):
            returns.append(inner)
    if returns and in_loop:
        problems += [
            UnsupportedSyntaxError(
                "`return` out of a `with` block inside a loop is not supported",
                "assign the result to a variable and return it after the loop",
                at(r),
            )
            for r in returns
        ]
    elif returns and not always_returns(stmt.body):
        problems.append(UnsupportedSyntaxError(
            "a `return` inside a `with` block must end every path through the block",
            "assign the result to a variable and return it after the `with` block",
            at(returns[0]),
        ))
    return problems


def is_safe(manager: Any) -> bool:
    """``manager`` (what a ``with`` line calls) is one of :data:`SAFE_MANAGERS`."""
    return any(manager is known for known in SAFE_MANAGERS)


def try_refusals(stmt: ast.Try, at) -> list[SrcadError]:
    """What srcad cannot run of the ``try`` statement ``stmt`` as ordinary Python in the
    gradient's forward pass: jumps out of it, generators, declarations and definitions
    (``at`` gives a node's location)."""
    problems: list[SrcadError] = []
    parts = [stmt.body, *(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody]
    for part in parts:
        for inner, loops in _statements(part, 0):
            # (a jump out of the statement: reported at the `try` it leaves)
            if isinstance(inner, ast.Return):
                problems.append(UnsupportedSyntaxError(
                    "`return` inside this `try` statement is not supported",
                    "assign the value to a variable inside the `try` statement and return it "
                    "after the statement",
                    at(stmt),
                ))
            elif isinstance(inner, ast.Break | ast.Continue) and loops == 0:
                word = "break" if isinstance(inner, ast.Break) else "continue"
                problems.append(UnsupportedSyntaxError(
                    f"`{word}` out of this `try` statement is not supported",
                    "set a flag inside the `try` statement and test it after the statement",
                    at(stmt),
                ))
            elif isinstance(inner, ast.Global | ast.Nonlocal):
                problems.append(UnsupportedSyntaxError(
                    "`global` and `nonlocal` inside a `try` statement are not supported",
                    "pass the value in as a parameter and return the new value",
                    at(inner),
                ))
            elif isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                problems.append(UnsupportedSyntaxError(
                    "a function or class defined inside a `try` statement is not supported",
                    "define it at module level",
                    at(inner),
                ))
            elif isinstance(inner, ast.Delete) and any(
                isinstance(t, ast.Name) for t in inner.targets
            ):
                problems.append(UnsupportedSyntaxError(
                    "`del` of a variable inside a `try` statement is not supported",
                    "remove the `del` statement",
                    at(inner),
                ))
    for node in astwalk.walk(stmt):
        if isinstance(node, ast.Yield | ast.YieldFrom | ast.Await):
            problems.append(UnsupportedSyntaxError(
                "generators cannot be differentiated", "return a value instead of yielding",
                at(node),
            ))
    return problems


# ---------------------------------------------------------------- values (srcad.pipeline)


def touched(stmt: ir.Stmt, active) -> list[str]:
    """The active values (``active``: an :class:`srcad.analyze.Activity`) that the plain
    Python of ``stmt`` reads: a ``try`` statement's code, a ``with`` manager's call."""
    if isinstance(stmt, ir.Python) and stmt.probe:  # (it changes nothing the gradient reads)
        return []
    if isinstance(stmt, ir.Python):
        names = [n for n in stmt.reads if active.is_active(n)]
        if names and not pycode.may_change(stmt.code, tuple(names)):
            return []  # it only looks at them (len(v), v.shape, v.dtype): what it binds has
        return names  # no derivative, and it changes none of them
    if isinstance(stmt, ir.Enter):  # (a known-safe manager changes none of its arguments:
        # only what `as` binds matters)
        if stmt.target is None or stmt.target not in active.useful:
            return []
        return [n for n in dict.fromkeys(ir.names_in(stmt.manager)) if active.is_active(n)]
    return []


def touching_error(stmt: ir.Python | ir.Enter, name: str, what: str) -> SrcadError:
    """The error for ``stmt`` reading the active value ``name``: it ``what`` (depends on
    the differentiated inputs, has a tangent that is not zero)."""
    if isinstance(stmt, ir.Enter):
        return UnsupportedSyntaxError(
            f"the context manager's arguments read `{_user_name(name)}`, which {what}",
            "make the context manager from values that do not depend on the differentiated "
            "inputs",
            stmt.loc,
        )
    loc, user = next(
        ((loc, user) for n, loc, user in stmt.read_at if n == name), (stmt.loc, _user_name(name))
    )
    return UnsupportedSyntaxError(
        f"this `try` statement reads `{user}`, which {what}: srcad runs a `try` statement "
        "as ordinary Python and does not differentiate it",
        "compute the value outside the `try` statement (test for the error with `if` "
        "beforehand), or catch the error around the call to the gradient",
        loc,
    )


def refuse_active(fn: ir.Function, active) -> None:
    """Raise where a ``try`` statement or a ``with`` manager of ``fn`` reads an active
    value (``active``: an :class:`srcad.analyze.Activity`): its code runs as ordinary
    Python, which srcad does not differentiate. (Forward mode checks at run time that
    such values have a zero tangent instead: ``srcad.forward``.)"""
    problems = [
        touching_error(stmt, names[0], "depends on the differentiated inputs")
        for stmt in ir.walk(fn.body)
        if isinstance(stmt, ir.Python | ir.Enter)  # (what ``touched`` reads)
        and (names := touched(stmt, active))
    ]
    raise_all(problems)


def _user_name(name: str) -> str:
    """The user's variable behind a listing name (``n_2`` -> ``n``)."""
    base, _, suffix = name.rpartition("_")
    return base if base and suffix.isdigit() else name


__all__ = ["SAFE_MANAGERS", "refuse_active", "with_refusals", "try_refusals", "Location"]
