"""Python's ints in numba's compiled gradients: exact, or refused at the user's line.

Python's ints have no limit, and an int to a negative int power is a float; numba's
ints have 64 bits, wrap past 2**63, and ``2 ** -3`` is the int 0. A gradient that
reads such a value would be silently wrong. So the listing numba compiles writes each
gate that may multiply ints (``k * m``, ``k ** n``, ``1 << k``), or add large ones (a sum
of timestamps in nanoseconds; see :func:`int_gates`), as a call of an exact operation
(``exact_int_power(k, 14, line=5)``). numba compiles it
for the types it is given (:func:`register`): of two ints it checks the result fits in
int64 (and, for a power, that the exponent is not negative) and raises
``OverflowError(ERROR, line, why)`` where not, which :func:`refusal` turns into a
:class:`~srcad.errors.CompiledBackendError` at that line; of anything else it is the
plain operator.
"""

from __future__ import annotations

import math
from typing import Any

from . import ir, numba_types
from .errors import CompiledBackendError, Location

#: the first argument of the OverflowError the exact operations raise
ERROR = "srcad: an int operation numba cannot compute as Python does"

#: the largest int numba's int64 holds, as a float (rounded down: a value near it is refused)
_INT64_BOUND = 9.2e18

#: why an operation was refused (the third argument of the OverflowError)
_PAST_INT64, _NEGATIVE_EXPONENT, _NEGATIVE_SHIFT = 0, 1, 2


def _exact_product(a: Any, b: Any, line: Any) -> Any:
    """``a * b`` (numba compiles its overload, see :func:`register`)."""
    raise NotImplementedError  # pragma: no cover - only numba calls it


def _exact_power(a: Any, b: Any, line: Any) -> Any:
    """``a ** b`` (numba compiles its overload, see :func:`register`)."""
    raise NotImplementedError  # pragma: no cover - only numba calls it


def _exact_sum(a: Any, b: Any, line: Any) -> Any:
    """``a + b`` (numba compiles its overload, see :func:`register`)."""
    raise NotImplementedError  # pragma: no cover - only numba calls it


def _exact_difference(a: Any, b: Any, line: Any) -> Any:
    """``a - b`` (numba compiles its overload, see :func:`register`)."""
    raise NotImplementedError  # pragma: no cover - only numba calls it


def _exact_shift(a: Any, b: Any, line: Any) -> Any:
    """``a << b`` (numba compiles its overload, see :func:`register`)."""
    raise NotImplementedError  # pragma: no cover - only numba calls it


#: each operator the exact operations stand for -> (the name the listing calls, the stub)
OPERATIONS: dict[str, tuple[str, Any]] = {
    "*": ("exact_int_product", _exact_product),
    "**": ("exact_int_power", _exact_power),
    "<<": ("exact_int_shift", _exact_shift),
    "+": ("exact_int_sum", _exact_sum),
    "-": ("exact_int_difference", _exact_difference),
}
#: sums and differences are checked only of values that may be large: not where one
#: side is a loop's index or a constant below this (``i + 1``, ``n - k``)
_SMALL = 2 ** 31


def register(numba: Any) -> None:
    """Teach numba the exact operations: checked for two ints, plain otherwise."""
    kinds = numba.core.types

    def checked_product(a: Any, b: Any, line: Any) -> Any:
        if abs(float(a) * float(b)) >= _INT64_BOUND:
            raise OverflowError(ERROR, line, _PAST_INT64)
        return a * b

    # (each spelled as its stub is, names too: numba compares them; ``b`` is a power's
    # exponent and a shift's count)
    def checked_power(a: Any, b: Any, line: Any) -> Any:
        if b < 0:
            raise OverflowError(ERROR, line, _NEGATIVE_EXPONENT)
        if abs(float(a)) ** b >= _INT64_BOUND:
            raise OverflowError(ERROR, line, _PAST_INT64)
        return a ** b

    def checked_shift(a: Any, b: Any, line: Any) -> Any:
        if b < 0:
            raise OverflowError(ERROR, line, _NEGATIVE_SHIFT)
        if a != 0 and (b >= 63 or abs(float(a)) * 2.0 ** b >= _INT64_BOUND):
            raise OverflowError(ERROR, line, _PAST_INT64)
        return a << b

    def checked_sum(a: Any, b: Any, line: Any) -> Any:
        if abs(float(a) + float(b)) >= _INT64_BOUND:
            raise OverflowError(ERROR, line, _PAST_INT64)
        return a + b

    def checked_difference(a: Any, b: Any, line: Any) -> Any:
        if abs(float(a) - float(b)) >= _INT64_BOUND:
            raise OverflowError(ERROR, line, _PAST_INT64)
        return a - b

    def product(a: Any, b: Any, line: Any) -> Any:
        return a * b

    def plus(a: Any, b: Any, line: Any) -> Any:
        return a + b

    def minus(a: Any, b: Any, line: Any) -> Any:
        return a - b

    def power(a: Any, b: Any, line: Any) -> Any:  # (the C library's pow, as Python's:
        return math.pow(a, float(b))  # numba's ** of an int exponent multiplies, round 100)

    def shift(a: Any, b: Any, line: Any) -> Any:
        return a << b

    def of_types(checked: Any, plain: Any) -> Any:
        def chosen(a: Any, b: Any, line: Any) -> Any:
            ints = isinstance(a, kinds.Integer) and isinstance(b, kinds.Integer)
            return checked if ints else plain

        return chosen

    numba.extending.overload(_exact_product)(of_types(checked_product, product))
    numba.extending.overload(_exact_power)(of_types(checked_power, power))
    numba.extending.overload(_exact_shift)(of_types(checked_shift, shift))
    numba.extending.overload(_exact_sum)(of_types(checked_sum, plus))
    numba.extending.overload(_exact_difference)(of_types(checked_difference, minus))


def int_gates(
    body: list[ir.Stmt] | tuple[ir.Stmt, ...], kinds: dict[str, str], wrt: tuple[str, ...]
) -> list[ir.Assign]:
    """The gates ``a * b``, ``a ** b`` (``pow(a, b)``), ``a << b``, ``a + b`` and ``a - b``
    (of values that may be large) that may be of two ints. A value
    computed from a parameter in ``wrt`` is a float; another parameter srcad takes for a
    float (:mod:`srcad.numba_types`) may be an int."""
    floats = computed_from(body, set(wrt))
    indices = _loop_indices(body)

    def maybe_int(side: ir.Expr) -> bool:
        if isinstance(side, ir.Const):
            return type(side.value) is int
        return isinstance(side, ir.Name) and side.id not in floats and (
            kinds.get(side.id) in (numba_types.INT, numba_types.FLOAT)
        )

    def small(side: ir.Expr) -> bool:
        if isinstance(side, ir.Const):
            return type(side.value) is int and abs(side.value) < _SMALL
        return isinstance(side, ir.Name) and side.id in indices

    found: list[ir.Assign] = []
    for stmt in ir.walk(body):
        if not isinstance(stmt, ir.Assign):
            continue
        sides = _sides(stmt.value)
        if sides is None or not (maybe_int(sides[1]) and maybe_int(sides[2])):
            continue
        if sides[0] in "+-" and (small(sides[1]) or small(sides[2])):
            continue  # (i + 1 cannot pass 2**63 where i could not)
        found.append(stmt)
    return found


def _loop_indices(body: list[ir.Stmt] | tuple[ir.Stmt, ...]) -> set[str]:
    """The names loops over ``range(...)`` bind (counts, below 2**63 with their bounds)."""
    return {
        loop.index for loop in ir.walk(body)
        if isinstance(loop, ir.Loop) and loop.index is not None
        and isinstance(loop.iterable, ir.Call) and loop.iterable.func == ir.Name("range")
    }


def operator_of(stmt: ir.Assign) -> str:
    """The operator of a gate of :func:`int_gates` (``pow(a, b)``'s is ``**``)."""
    sides = _sides(stmt.value)
    assert sides is not None
    return sides[0]


def _sides(value: ir.Expr) -> tuple[str, ir.Expr, ir.Expr] | None:
    """``(op, a, b)`` of ``a op b`` for an operator of :data:`OPERATIONS`, or of the
    builtin ``pow(a, b)``."""
    if isinstance(value, ir.BinOp) and value.op in OPERATIONS:
        return value.op, value.left, value.right
    if (
        isinstance(value, ir.Call) and value.func == ir.Name("pow")
        and len(value.args) == 2 and not value.kwargs
    ):
        return "**", value.args[0], value.args[1]
    return None


def exact(stmt: ir.Assign, name: str) -> ir.Assign:
    """``stmt`` (one of :func:`int_gates`) as a call of its exact operation, bound to
    ``name`` in the listing."""
    sides = _sides(stmt.value)
    assert sides is not None
    line = (("line", ir.Const(stmt.loc.lineno)),)
    return ir.Assign(
        stmt.target, ir.Call(ir.Name(name), sides[1:], line), stmt.rule,
        stmt.operands, stmt.tag, stmt.loc,
    )


def computed_from(body: list[ir.Stmt] | tuple[ir.Stmt, ...], floats: set[str]) -> set[str]:
    """``floats`` and the names arithmetic computes from them (a float with anything is
    a float) or reads an item of (a differentiated list is given as float64s), to a
    fixed point (a loop reads a name before it binds it)."""
    gates = [
        s for s in ir.walk(body)
        if isinstance(s, ir.Assign) and not s.in_place and (
            isinstance(s.value, ir.BinOp | ir.UnaryOp | ir.Name)
            or isinstance(s.value, ir.Subscript) and isinstance(s.value.value, ir.Name)
            and not isinstance(s.value.index, ir.Slice)
        )
    ]
    while True:
        grown = {
            s.target for s in gates
            if s.target not in floats and not floats.isdisjoint(ir.names_in(s.value))
        }
        if not grown:
            return floats
        floats |= grown


_SPELLED = {
    "*": "a product of ints", "**": "an int to an int power", "<<": "an int shifted left",
    "+": "a sum of ints", "-": "a difference of ints",
}


def refusal(
    error: OverflowError, gates: list[ir.Assign], fallback: Location
) -> CompiledBackendError:
    """The refusal of the exact operation that raised ``error``, at its line (one of
    ``gates``, else ``fallback``)."""
    _, line, why = error.args
    gate = next((g for g in gates if g.loc.lineno == line), None)
    where = gate.loc if gate is not None else fallback
    op = operator_of(gate) if gate is not None else "**"
    what = _SPELLED[op]
    if why == _NEGATIVE_EXPONENT:
        reason = (
            f"{what} is a float in Python for a negative exponent, as here, and an int "
            "(0) in numba's compiled code"
        )
    elif why == _NEGATIVE_SHIFT:
        reason = f"{what} by a negative count raises in Python, as here"
    else:
        reason = (
            f"{what} is exact in Python, and has 64 bits in numba's compiled code: here it "
            "passed 2**63"
        )
    return CompiledBackendError(
        f"{reason}, and the gradient would be silently wrong",
        "make one side a float (`float(k) ** 14`, `2.0 ** n`, `2.0 * k`), or use the "
        "default backend",
        where,
    )


__all__ = ["ERROR", "OPERATIONS", "exact", "int_gates", "operator_of", "refusal", "register"]
