"""Writes of differentiated values into arrays of integers or booleans.

numpy truncates a float written into an integer array (``out = np.zeros(3, dtype=int);
out[1] = 2.7 * x``): the value that is kept does not change with ``x`` almost anywhere, so
its derivative is zero. That is rarely what the program means, and a gradient that flows
through the write as if it kept the float would be wrong. The dtype of an array is known
only at run time but never changes, so srcad checks it once where each array written that
way is made (not at every write) and refuses at the user's line when it holds integers.
An explicit conversion (``v.astype(int)``, ``np.floor(v)``) has its own rule instead.
"""

from __future__ import annotations

from . import ir
from .analyze import Activity
from .diagnostics import at_user_call
from .errors import UnsupportedSyntaxError
from .names import NameAllocator
from .runtime import require_float_items


def check_integer_writes(fn: ir.Function, active: Activity) -> ir.Function:
    """``fn`` with a check after the making of each array that gets an active value
    written into its items: that the array holds floats (or complex numbers)."""
    written: dict[str, ir.Assign] = {}  # container -> the first item write of an active value
    for stmt in ir.walk(fn.body):
        if (
            isinstance(stmt, ir.Assign)
            and stmt.in_place
            and not stmt.logical
            and stmt.rule is not None
            and stmt.rule.in_place
            and isinstance(stmt.operands[-1], ir.Name)
            and active.is_active(stmt.operands[-1].id)
        ):
            written.setdefault(stmt.target, stmt)
    for stmt in ir.walk(fn.body):  # (made by np.zeros(n): floats, no check)
        if isinstance(stmt, ir.Assign) and stmt.target in written and not stmt.in_place:
            if stmt.rule is not None and stmt.rule.floats and not _made_elsewhere(fn, stmt):
                del written[stmt.target]
    if not written:
        return fn
    names = NameAllocator(fn.names())
    bindings = dict(fn.bindings)
    check = names.fresh("require_float_items")
    bindings[check] = require_float_items
    checks: dict[str, ir.Effect] = {}
    for container, write in written.items():
        error = at_user_call(
            UnsupportedSyntaxError(
                f"`{_user_name(container)}` holds integers (or booleans): writing a "
                "differentiated value into it truncates the value, whose derivative is then "
                "zero",
                f"make `{_user_name(container)}` an array of floats (np.zeros(n), "
                "dtype=float), or truncate explicitly (v.astype(int), np.floor(v)) if that "
                "is what you mean",
                write.loc,
            ),
            write.loc,
            fn.call_sites,
        )
        refusal = names.fresh("integer_write")
        bindings[refusal] = error
        checks[container] = ir.Effect(
            ir.Call(ir.Name(check), (ir.Name(container), ir.Name(refusal))),
            note="an array written with differentiated values holds floats",
        )
    params = [checks[p] for p in (*fn.params, *fn.kwonly) if p in checks]
    body = _AfterMaking(checks).visit_body(fn.body)
    return fn.with_body((*params, *body), bindings=bindings)


class _AfterMaking(ir.Transformer):
    """The check of each array right after each statement that makes it."""

    def __init__(self, checks: dict[str, ir.Effect]) -> None:
        self.checks = checks

    def visit_Assign(self, stmt: ir.Assign) -> ir.Stmt | list[ir.Stmt]:
        if stmt.in_place or stmt.logical or stmt.target not in self.checks:
            return stmt
        return [stmt, self.checks[stmt.target]]

    def visit_Unpack(self, stmt: ir.Stmt) -> list[ir.Stmt]:
        made = [self.checks[t] for t in ir.targets_of(stmt) if t in self.checks]
        return [stmt, *made]


def _made_elsewhere(fn: ir.Function, made: ir.Assign) -> bool:
    """Whether another statement (or a parameter) also makes ``made.target``."""
    if made.target in (*fn.params, *fn.kwonly):
        return True
    return any(
        made.target in ir.targets_of(s) and s is not made and not getattr(s, "in_place", False)
        for s in ir.walk(fn.body)
    )


def _user_name(name: str) -> str:
    """The user's name of a listing's value: ``out`` for ``out_2``."""
    base, _, suffix = name.rpartition("_")
    return base if base and suffix.isdigit() else name


__all__ = ["check_integer_writes"]
