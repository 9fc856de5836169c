"""Objects that hold parameters by attribute: namedtuples, dataclass instances and
instances of plain classes ("records"). Their fields are read with ``p.w``; their
gradients (and tangents) are records of the same class, made here.

A field is *differentiable* when it holds a float, a complex number, a float array, or
a list, tuple, dict or record of those; any other field (an int, a bool, a string,
``None``, a function, an integer array) is *static*: it gets no gradient and is kept as
it is in the gradient, as JAX keeps the static fields of a pytree."""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import numbers
import types
from collections.abc import Mapping
from typing import Any

import numpy as np

from .duck import is_duck_array

#: Classes whose instances are never records, even though they have a ``__dict__``.
_NOT_RECORDS = (
    type,
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    functools.partial,
    np.ndarray,
    np.generic,
    numbers.Number,
    str,
    bytes,
    list,
    dict,
    set,
    frozenset,
)


#: each class's record kind, found once (a class itself is not cached: `type` is the class
#: of a dataclass's class and of every other)
_KINDS: dict[type, str | None] = {}


def record_kind(value: Any) -> str | None:
    """``"namedtuple"``, ``"dataclass"``, ``"object"`` (an instance of a plain class,
    with a ``__dict__``), or ``None`` for anything else."""
    cls = value.__class__
    kind = _KINDS.get(cls, _UNKNOWN)
    if kind is not _UNKNOWN:
        return kind  # type: ignore[return-value]
    kind = _record_kind(value)
    if not issubclass(cls, type):
        _KINDS[cls] = kind
    return kind


_UNKNOWN = object()


def _record_kind(value: Any) -> str | None:
    if isinstance(value, tuple):
        return "namedtuple" if hasattr(type(value), "_fields") else None
    if isinstance(value, _NOT_RECORDS) or is_duck_array(value):  # (a dask array has a __dict__)
        return None
    if dataclasses.is_dataclass(value):
        return "dataclass"
    if hasattr(value, "__dict__") and type(value).__module__ != "builtins":
        return "object"
    return None


def is_record(value: Any) -> bool:
    return record_kind(value) is not None


def is_record_class(cls: type) -> bool:
    """A namedtuple class, a dataclass, or a plain class defined in Python code."""
    if issubclass(cls, tuple):
        return hasattr(cls, "_fields")
    return dataclasses.is_dataclass(cls) or (
        cls.__module__ != "builtins" and not issubclass(cls, _NOT_RECORDS)
        and not hasattr(cls, "__array_function__")
        and isinstance(getattr(cls, "__init__", None), types.FunctionType)
    )


def field_names(value: Any) -> tuple[str, ...]:
    """The names of a record's fields, in order."""
    kind = record_kind(value)
    if kind == "namedtuple":
        return tuple(type(value)._fields)
    if kind == "dataclass":
        names = tuple(f.name for f in dataclasses.fields(value))
        extra = tuple(n for n in getattr(value, "__dict__", {}) if n not in names)
        return names + extra
    if kind == "object":
        return tuple(vars(value))
    raise TypeError(f"not a record: {type(value).__name__}")


def fields(value: Any) -> dict[str, Any]:
    """A record's fields by name."""
    return {name: getattr(value, name) for name in field_names(value)}


def has_field(value: Any, name: str) -> bool:
    kind = record_kind(value)
    if kind == "object":  # (not what a cached_property keeps: computed, not a field)
        return name in vars(value) and not isinstance(
            getattr(type(value), name, None), functools.cached_property
        )
    return kind is not None and name in field_names(value)


def is_static(value: Any, depth: int = 0, objects: bool = False) -> bool:
    """A value that gets no gradient: not a float, a float array, or a list, tuple,
    dict, namedtuple or dataclass holding one. An instance of a plain class held in a
    field counts as static unless the function reads its fields (then its gradient is a
    record too): srcad does not walk arbitrary object graphs."""
    if isinstance(value, bool | np.bool_):
        return True
    if isinstance(value, float | complex | np.inexact):
        return False
    if isinstance(value, np.ndarray) or is_duck_array(value):
        return value.dtype.kind not in "fc"
    if depth > 20:  # (a cycle, or absurd nesting: leave it alone)
        return True
    if isinstance(value, list | tuple) and record_kind(value) is None:
        return all(is_static(item, depth + 1, objects) for item in value)
    if isinstance(value, dict):
        return all(is_static(item, depth + 1, objects) for item in value.values())
    if record_kind(value) in (("namedtuple", "dataclass", "object") if objects else (
            "namedtuple", "dataclass")):
        return all(is_static(item, depth + 1, objects) for item in fields(value).values())
    return True  # ints, strings, None, functions, other objects


def replaced(like: Any, new: Mapping[str, Any]) -> Any:
    """A record of ``like``'s class with the fields in ``new`` replaced (the others as
    in ``like``): a new tuple of a namedtuple's class; for a dataclass or a plain object,
    a bare copy (:func:`bare_copy`) with the fields set. No code of the class runs: a
    gradient's fields are adjoints, which a ``__new__`` or a ``__post_init__`` would
    change (taking ``abs`` of a scale, normalising weights: rounds 97, 98)."""
    kind = record_kind(like)
    if kind == "namedtuple":  # (tuple's own __new__: not a __new__ of the class, round 98)
        fields = type(like)._fields
        return tuple.__new__(type(like), [new.get(n, v) for n, v in zip(fields, like)])
    made = bare_copy(like)
    for key, value in new.items():
        object.__setattr__(made, key, value)  # (frozen dataclasses too)
    return made


def bare_copy(like: Any) -> Any:
    """A new object of ``like``'s class holding its fields (``__dict__`` and slots),
    made without running the class's ``__init__``, ``__post_init__`` or ``__copy__``
    (``copy.copy`` where the class cannot be made so: a subclass of a builtin)."""
    kind = type(like)
    try:
        made = object.__new__(kind)
    except TypeError:
        return copy.copy(like)
    if hasattr(like, "__dict__"):
        made.__dict__.update(like.__dict__)
    for owner in kind.__mro__:
        slots = owner.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__dict__", "__weakref__") and hasattr(like, name):
                object.__setattr__(made, name, getattr(like, name))
    return made


def property_of(value: Any, name: str) -> Any:
    """The property (or other computed attribute) ``name`` of ``value``'s class, or None."""
    found = inspect.getattr_static(type(value), name, None)
    if found is None or has_field(value, name):
        return None
    if isinstance(found, property) or (
        hasattr(type(found), "__get__")
        and not isinstance(found, types.FunctionType | staticmethod | classmethod)
        and (hasattr(type(found), "__set__") or isinstance(found, functools.cached_property))
    ):
        return found
    return None


def describe(value: Any) -> str:
    kind = record_kind(value)
    name = type(value).__name__
    return {"namedtuple": f"the namedtuple {name}", "dataclass": f"the dataclass {name}",
            "object": f"the {name} object"}.get(
        kind or "", "a numpy array" if isinstance(value, np.ndarray) else f"a {name}")
