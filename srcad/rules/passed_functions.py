"""Helpers of the rules of library routines that take a function of the user's
(``scipy.optimize``'s root finders, ``scipy.integrate``'s integrators): the items of
``args=`` that get a derivative, srcad's derivatives of the function made at run time
(once per function), errors in them reported at the user's lines, and adjoints in the
structure of ``args``."""

from __future__ import annotations

import dataclasses
import numbers
import threading
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from .. import records, trees
from ..errors import Location, NoRuleError, SrcadError, UnsupportedSyntaxError
from ..load import user_line
from ..lower.closures import USER_FILE
from ..runtime import AdjointList, AdjointRecord

_LOCK = threading.Lock()
#: (kind, function, positions) -> srcad's derivative of the function in those positions
_MADE: dict[tuple[str, Any, tuple[int, ...]], Any] = {}
_MADE_LIMIT = 256


def differentiable(item: Any) -> bool:
    """An item of ``args`` whose partial derivative is taken: a number (not a bool), an
    array of numbers, or a container or object holding them (a list of arrays, a dict of
    parameters, a dataclass's fields: srcad's gradient of ``f`` gives them their own)."""
    found = trees.leaves(item)
    return bool(found) and any(_number_leaf(leaf) for leaf in found)


def _number_leaf(leaf: Any) -> bool:
    if isinstance(leaf, bool | np.bool_):
        return False
    if isinstance(leaf, numbers.Number):
        return not isinstance(leaf, complex | np.complexfloating)
    return isinstance(leaf, np.ndarray) and leaf.dtype.kind in "fiu"


def as_scipy_gives(args: Any) -> tuple[Any, ...]:
    """``args`` as SciPy passes them to ``f``: a tuple as it is, None as none, anything
    else (a number, a list) as the one argument (``args=a`` is ``args=(a,)``)."""
    if args is None:
        return ()
    return args if isinstance(args, tuple) else (args,)


def differentiated_items(args: Any) -> list[int]:
    """The positions in ``as_scipy_gives(args)`` of the items that get a derivative."""
    return [k for k, item in enumerate(as_scipy_gives(args)) if differentiable(item)]


def derivative_function(kind: str, f: Any, positions: tuple[int, ...]) -> Any:
    """``srcad.grad`` (``kind`` "grad"), ``srcad.jacobian`` ("jacobian") or
    ``srcad.hessian`` ("hessian") of ``f`` in ``positions`` (always a tuple), made once;
    a kind ending in "_aux" (``"jacobian_aux"``) of an ``f`` that returns ``(value,
    aux)`` (a function that returns its derivative too: ``jac=True``), the derivative
    of the value and the aux as ``(derivative, aux)``."""
    key = (kind, f, positions)
    with _LOCK:
        made = _MADE.get(key)
    if made is None:
        import srcad

        base = kind.removesuffix("_aux")
        maker: Callable[..., Any] = {
            "grad": srcad.grad, "jacobian": srcad.jacobian, "hessian": srcad.hessian,
        }[base]
        made = maker(f, argnums=positions, has_aux=kind != base)
        with _LOCK:
            if len(_MADE) >= _MADE_LIMIT:
                _MADE.pop(next(iter(_MADE)))
            _MADE[key] = made
    return made


def derivative_at(kind: str, f: Any, positions: tuple[int, ...], *arguments: Any) -> Any:
    """:func:`derivative_function` called on ``arguments``; an error in ``f`` at the
    user's line (see :func:`in_users_file`)."""
    try:
        return derivative_function(kind, f, positions)(*arguments)
    except SrcadError as error:
        raise in_users_file(error, f) from None


def in_users_file(error: SrcadError, f: Any) -> SrcadError:
    """``error``, raised in a function srcad made of a lambda or nested ``def`` (see
    :mod:`srcad.lower.closures`), at the same lines of the user's file, which the made
    function's keep; any other error as it is."""
    user_file = getattr(f, USER_FILE, None)
    made_file = getattr(getattr(f, "__code__", None), "co_filename", None)
    if user_file is None or not any(p.filename == made_file for p in error.problems):
        return error

    def moved(problem: SrcadError) -> SrcadError:
        where = problem.location
        if where.filename == made_file:
            where = Location(user_file, where.lineno, where.col_offset)
        return type(problem)(problem.message, problem.hint, where)

    first, *others = [moved(p) for p in error.problems]
    return type(first)(first.message, first.hint, first.location, others=tuple(others))


def jacobian_matrix(
    f: Any, positions: tuple[int, ...], arguments: tuple[Any, ...], aux: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``f(*arguments)`` as one vector, and its Jacobian in the arguments at
    ``positions`` as a matrix: one row per number of the value (a vector, a number, or
    a list or tuple of them, item by item), one column per number of those arguments
    (laid out as :func:`srcad.trees.flat` lays them out), by ``srcad.jacobian`` of ``f``
    (``aux``: ``f`` returns ``(value, aux)``, whose aux is left out)."""
    kind = "jacobian_aux" if aux else "jacobian"
    blocks = derivative_at(kind, f, positions, *arguments)
    out = f(*arguments)
    if aux:
        blocks, out = blocks[0], out[0]
    rows = blocks if isinstance(out, list | tuple) else (blocks,)
    outputs = out if isinstance(out, list | tuple) else (out,)
    matrix = np.vstack([
        np.hstack([
            np.reshape(np.asarray(leaf, dtype=float), (int(np.size(o)), -1))
            for block in row for leaf in trees.leaves(block)
        ])
        for row, o in zip(rows, outputs, strict=True)
    ])
    value = np.concatenate([np.ravel(np.asarray(o, dtype=float)) for o in outputs])
    return value, matrix


def scaled(partial: Any, factor: Any) -> Any:
    """``factor * partial`` leaf by leaf (a list or tuple of numbers: item by item; a
    dict or an object: one of the same structure)."""
    if isinstance(partial, list | tuple) and all(_is_number(p) for p in partial):
        return AdjointList(factor * p for p in partial)
    return trees.map_leaves(lambda leaf: factor * leaf, partial)


def _is_number(value: Any) -> bool:
    """A number, or a 0-d array (not an object, whose ``np.ndim`` is 0 too)."""
    return isinstance(value, numbers.Number) or (isinstance(value, np.ndarray) and value.ndim == 0)


def shaped_like(item: Any, numbers_: np.ndarray) -> Any:
    """The flat vector ``numbers_`` (as :func:`srcad.trees.flat` makes of ``item``) in
    ``item``'s structure: a number, an array of its shape, a list or tuple of numbers
    item by item (an adjoint that adds so), a dict or an object of the same structure."""
    parts: list[Any] = []
    start = 0
    for leaf in trees.leaves(item):
        size = int(np.size(leaf))
        part = numbers_[start:start + size]
        start += size
        parts.append(float(part[0]) if np.ndim(leaf) == 0 else part.reshape(np.shape(leaf)))
    if isinstance(item, list | tuple) and all(_is_number(p) for p in item):
        return AdjointList(parts)
    return trees.rebuild(item, parts)


def args_adjoint(args: Any, adjoints: list[Any]) -> Any:
    """The adjoint of ``args=`` from one adjoint per item (``args=a`` bare: ``a``'s), each
    an adjoint the generated code adds to others (:func:`as_added`)."""
    items = as_scipy_gives(args)
    added = [as_added(item, adjoint) for item, adjoint in zip(items, adjoints, strict=True)]
    return AdjointList(added) if isinstance(args, tuple) else added[0]


def as_added(value: Any, adjoint: Any) -> Any:
    """``adjoint``, of ``value``'s structure as srcad.grad gives it (an object of
    ``value``'s class for an object), as the generated code adds adjoints: an object's
    fields in an :class:`AdjointRecord` (a record item of a list read by ``bonds[0]``
    adds to the list's zero, which an object of the user's class does not)."""
    kind = records.record_kind(value)
    if kind in ("dataclass", "object"):
        return AdjointRecord(value, {
            name: as_added(getattr(value, name), getattr(adjoint, name))
            for name in records.field_names(value) if hasattr(adjoint, name)
        })
    if isinstance(value, dict) and isinstance(adjoint, dict):
        return {key: as_added(value[key], adjoint[key]) for key in value if key in adjoint}
    if isinstance(value, list | tuple) and isinstance(adjoint, list | tuple) and (
        len(value) == len(adjoint)
    ):  # (a list of records: each an adjoint that adds)
        return AdjointList(as_added(v, a) for v, a in zip(value, adjoint, strict=True))
    return adjoint


def item_tangents(args: Any, t: Any) -> tuple[Any, ...]:
    """The tangents of ``args=``'s items (``args=a`` bare: ``(t,)``)."""
    return as_scipy_gives(t) if isinstance(args, tuple) else (t,)


def dot(partial: Any, tangent: Any) -> Any:
    """The inner product of a partial derivative and a tangent of the same structure (a
    list's tangent may be an array of its items, as jvp takes it)."""
    if isinstance(tangent, np.ndarray) and isinstance(partial, list | tuple):
        return np.dot(trees.flat(partial), np.ravel(tangent))
    return sum(
        p * t if np.ndim(p) == 0 else np.sum(np.multiply(p, t))
        for p, t in zip(trees.leaves(partial), trees.leaves(tangent), strict=True)
        if t is not None
    )


def flat_tangent(values: list[Any], tangents: list[Any]) -> np.ndarray:
    """The ``tangents`` of ``values`` (None: zero) as one vector, laid out as
    :func:`srcad.trees.flat` lays out the values."""
    return np.concatenate([
        np.zeros(trees.flat(v).size) if t is None else trees.flat(t)
        for v, t in zip(values, tangents, strict=True)
    ] or [np.zeros(0)])


def args_adjoint_of_flat(args: Any, numbers_: np.ndarray) -> Any:
    """The adjoint of ``args=`` from one vector of the differentiated items' numbers (laid
    out as :func:`srcad.trees.flat` lays out the items, in their order), each item's in
    its structure (zero for an item that is not differentiated)."""
    items = as_scipy_gives(args)
    adjoints: list[Any] = [0.0] * len(items)
    start = 0
    for k in differentiated_items(args):
        size = trees.flat(items[k]).size
        adjoints[k] = shaped_like(items[k], numbers_[start:start + size])
        start += size
    return args_adjoint(args, adjoints)


def args_direction(args: Any, t: Any) -> np.ndarray:
    """``args``' tangents ``t`` as one vector of the differentiated items' numbers (laid
    out as :func:`args_adjoint_of_flat` reads them)."""
    items = as_scipy_gives(args)
    tangents = item_tangents(args, t)
    chosen = differentiated_items(args)
    return flat_tangent([items[k] for k in chosen], [tangents[k] for k in chosen])


def number(value: Any) -> Any:
    """A scalar as a Python float (numpy's division gives a 0-d array or numpy float)."""
    return float(value) if np.ndim(value) == 0 and type(value) is not float else value


class SolutionRecord:
    """The base of a routine's result that srcad reads as a record of SciPy's fields (a
    frozen dataclass: ``solve_ivp``'s, ``root``'s), made by srcad's function called in
    the routine's place (:attr:`srcad.lower.closures.Routine.called_instead`). Its
    fields read as attributes (``sol.x``); an item read by key (``sol["x"]``, as
    SciPy's ``OptimizeResult`` is a dict too) and a field of SciPy's that it leaves out
    (:attr:`LEFT_OUT`, with why) are refused at the user's line where they are read."""

    #: SciPy's fields the record leaves out, and why (a sentence's end)
    LEFT_OUT: ClassVar[dict[str, str]] = {}
    #: how messages name the routine
    ROUTINE: ClassVar[str] = "the routine"

    def __getitem__(self, key: Any) -> Any:
        raise UnsupportedSyntaxError(
            f"srcad reads {type(self).ROUTINE}'s result as a record of its fields, by "
            f"attribute: its gradient does not reach an item read by key ({key!r})",
            f"read it as an attribute (`sol.{key}`)" if isinstance(key, str) and key.isidentifier()
            else "read its fields as attributes (`sol.x`)",
            user_line(1),
        )

    def __getattr__(self, name: str) -> Any:
        why = type(self).LEFT_OUT.get(name)
        if why is None:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}")
        raise NoRuleError(
            f"srcad reads the fields of {type(self).ROUTINE}'s result that it "
            f"differentiates or that are flags and counts, and `{name}` is not one: {why}",
            "read the solution's own fields (" + ", ".join(
                f.name for f in dataclasses.fields(self)  # type: ignore[arg-type]
            ) + ")",
            user_line(1),
        )
