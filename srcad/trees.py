"""Arguments and results that are nested dicts, lists and tuples of numbers and arrays,
and objects holding them in fields (namedtuples, dataclasses, plain objects: see
:mod:`srcad.records`) ("trees", as JAX calls them): their leaves in a fixed order, and
the same structure rebuilt from new leaves (an object's static fields, such as ints and
strings, are not leaves and are kept). Used where srcad's API walks values (``check_grad``,
``jacobian``, ``hvp``); the generated code itself needs none of this."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import records


def leaves(tree: Any) -> list[Any]:
    """The numbers and arrays of ``tree``, depth first (dicts in insertion order)."""
    if isinstance(tree, dict):
        return [leaf for value in tree.values() for leaf in leaves(value)]
    if records.is_record(tree):
        return [leaf for value in differentiable(tree).values() for leaf in leaves(value)]
    if isinstance(tree, list | tuple):
        return [leaf for value in tree for leaf in leaves(value)]
    return [tree]


#: what :func:`unreal` finds: values srcad's rules do not compute with
COMPLEX = "complex numbers"
MATRIX = "an np.matrix"
STRUCTURED = "a structured array"


def holds_complex(value: Any, depth: int = 6) -> bool:
    """Whether ``value`` is or holds complex numbers (see :func:`unreal`)."""
    return unreal(value, depth) == COMPLEX


def unreal(value: Any, depth: int = 6) -> str | None:
    """What ``value`` holds that srcad's derivative rules, which are for real numbers
    and numpy's arrays of them, would compute wrong with: complex numbers, an
    ``np.matrix`` (whose ``*`` and ``**`` are matrix products), a structured array (of
    named fields); None where it holds none. Looks in numbers and arrays, in lists,
    tuples, dicts and the fields of objects (``depth`` levels down: objects may refer to
    each other)."""
    kind = value.__class__
    if kind is float or kind is int or kind is bool or depth == 0:
        return None
    if kind is np.ndarray or isinstance(value, np.ndarray):
        if isinstance(value, np.matrix):
            return MATRIX
        dtype_kind = value.dtype.kind
        return COMPLEX if dtype_kind == "c" else STRUCTURED if dtype_kind == "V" else None
    if kind is complex or isinstance(value, np.complexfloating):
        return COMPLEX
    if isinstance(value, list | tuple):
        for item in value:  # (a loop, not any(...): this runs on every call's arguments)
            if item.__class__ is not float and (found := unreal(item, depth - 1)):
                return found
        return None
    items: Any = ()
    if kind is dict:  # (a copy of its values: a cache read as a global may grow meanwhile)
        items = list(value.values())
    elif records.record_kind(value) is not None:
        items = records.fields(value).values()
    for item in items:
        if found := unreal(item, depth - 1):
            return found
    return None


def unshared(result: Any, given: tuple[Any, ...] = ()) -> Any:
    """``result`` (a derivative's: numbers, arrays, containers and objects of them) with
    a copy of each array that shares memory with an array before it, or with an array
    of ``given`` (the arguments: a cotangent passed through): a caller may change one
    gradient in place (weight decay on one parameter), which must change nothing
    else. Python floats and arrays of their own are returned as they are."""
    if result.__class__ is np.ndarray:  # (one gradient)
        memory = _memory_of(result)
        shared = any(_memory_of(a) == memory for a in _arrays_given(given))
        return result.copy() if shared else result
    if number_leaves(result) is not None:
        return result  # (the version for floats: numbers share nothing)
    seen = {_memory_of(a) for a in _arrays_given(given)}
    copied = False  # (in the common case below)

    def own(leaf: Any) -> Any:
        nonlocal copied
        if not isinstance(leaf, np.ndarray):
            return leaf
        memory = _memory_of(leaf)
        if memory in seen:
            copied = True
            return leaf.copy()
        seen.add(memory)
        return leaf

    if result.__class__ is tuple and all(
        isinstance(item, np.ndarray | float) for item in result
    ):  # (the common case: a gradient per parameter)
        out = tuple(own(item) for item in result)
        return out if copied else result
    memories = [_memory_of(a) for a in arrays_in(result)]
    if len(set(memories)) == len(memories) and seen.isdisjoint(memories):
        return result  # (nothing shared: the structure as it is, not rebuilt)
    return map_leaves(own, result)


def number_leaves(value: Any) -> list[Any] | None:
    """The Python numbers of ``value`` when it is one, or lists and tuples of them (a
    few levels down), found without walking it as a tree (this runs on every call of a
    gradient); None where it holds anything else (an array, a dict, an object)."""
    found: list[Any] = []
    return found if _add_numbers(value, found, 0) else None


def _add_numbers(value: Any, found: list[Any], depth: int) -> bool:
    kind = value.__class__
    if kind is float or kind is int or kind is bool:
        found.append(value)
        return True
    if (kind is tuple or kind is list) and depth < 4:
        for item in value:  # (a loop, not all(...): the common case is a few floats)
            if item.__class__ is float:
                found.append(item)
            elif not _add_numbers(item, found, depth + 1):
                return False
        return True
    return False


def arrays_in(tree: Any) -> list[np.ndarray]:
    """The numpy arrays among the leaves of ``tree``."""
    return [leaf for leaf in leaves(tree) if isinstance(leaf, np.ndarray)]


def _memory_of(array: np.ndarray) -> int:
    """The id of the array that owns ``array``'s memory (a view's base, all the way)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return id(array)


def _arrays_given(given: tuple[Any, ...]) -> list[np.ndarray]:
    """The arrays among ``given`` and the items of its lists, tuples and dicts, one level
    down (the arguments a result may hand back: a cotangent, a parameter)."""
    found = []
    for value in given:
        if isinstance(value, np.ndarray):
            found.append(value)
        elif isinstance(value, list | tuple | dict):
            items = value.values() if isinstance(value, dict) else value
            found += [item for item in items if isinstance(item, np.ndarray)]
    return found


def rebuild(template: Any, new_leaves: list[Any]) -> Any:
    """``template``'s structure with ``new_leaves`` in the places of its leaves."""
    remaining: Iterator[Any] = iter(new_leaves)

    def build(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: build(value) for key, value in node.items()}
        if records.is_record(node):
            return records.replaced(
                node, {key: build(value) for key, value in differentiable(node).items()}
            )
        if isinstance(node, list | tuple):
            items = [build(value) for value in node]
            return items if isinstance(node, list) else tuple(items)
        return next(remaining)

    return build(template)


def differentiable(record: Any) -> dict[str, Any]:
    """A record's fields that hold numbers (its other fields are kept as they are)."""
    return {
        name: value
        for name, value in records.fields(record).items()
        if not records.is_static(value, objects=True)
    }


def map_leaves(fn: Callable[..., Any], tree: Any, *others: Any) -> Any:
    """``fn`` applied leaf by leaf to ``tree`` and trees of the same structure."""
    columns = [leaves(other) for other in others]
    return rebuild(tree, [fn(leaf, *rest) for leaf, *rest in zip(leaves(tree), *columns)])


def tangent_for(value: Any, tangent: Any) -> Any:
    """``tangent`` as a tangent of ``value``: zero where ``value`` holds no number (a
    string or None has no tangent, whatever was passed for it; a tangent of None stands
    for zeros throughout)."""
    if tangent is None:
        return map_leaves(zero_tangent, value)
    given = leaves(value)
    if not any(_holds_no_number(leaf) for leaf in given) or len(leaves(tangent)) != len(given):
        return tangent
    return map_leaves(
        lambda leaf, t: zero_tangent(leaf) if _holds_no_number(leaf) else t, value, tangent
    )


def _holds_no_number(leaf: Any) -> bool:
    return leaf is None or isinstance(leaf, str | bytes)


def is_integer(value: Any) -> bool:
    """An int, a bool or an integer array: a count, a flag, an index or a label."""
    if isinstance(value, bool | int | np.integer | np.bool_):
        return True
    return isinstance(value, np.ndarray) and (
        np.issubdtype(value.dtype, np.integer) or value.dtype == np.bool_
    )


def zero_tangent(value: Any) -> Any:
    """A zero tangent or cotangent for ``value`` (a float of numpy's kind for numpy's
    numbers and arrays, a Python float for the rest)."""
    if isinstance(value, np.ndarray):
        return np.zeros(value.shape, dtype=np.result_type(value, np.float64))
    if isinstance(value, np.number):
        return np.result_type(value, np.float64).type(0.0)
    return 0.0


def fresh(tree: Any, needed: bool = True) -> Any:
    """A deep copy of ``tree`` when ``needed`` (a function that writes into its
    arguments gets fresh ones on each of the calls srcad makes), else ``tree``."""
    return copy.deepcopy(tree) if needed else tree


def flat(tree: Any) -> np.ndarray:
    """All numbers of ``tree`` as one float vector."""
    parts = [np.asarray(leaf, dtype=float).ravel() for leaf in leaves(tree)]
    return np.concatenate(parts) if parts else np.zeros(0)
