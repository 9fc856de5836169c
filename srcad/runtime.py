"""Small helpers that generated gradient code calls at run time."""

from __future__ import annotations

import contextlib
import copy
import functools
import itertools
import math
import numbers
import operator
import threading
import types
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, MappingView
from typing import Any, TypeVar

import numpy as np

from . import trees
from .chains import RANDOM_GENERATORS
from .duck import has_unknown_shape, is_duck_array
from .errors import Location, NonScalarOutputError, SrcadError, UnsupportedSyntaxError
from .records import (
    describe,
    field_names,
    fields,
    has_field,
    is_record,
    is_static,
    property_of,
    record_kind,
    replaced,
)

_FLOAT64 = np.dtype(np.float64)
_FLOAT64_SCALAR = np.float64  # (a subclass of float: the version for floats takes it)
_F = TypeVar("_F", bound=Callable[..., Any])
_SCALAR_CLASSES = frozenset((float, int, np.float64, np.float32, np.float16, np.int64, np.int32))


def _declare(helper: _F, attribute: str, value: Any) -> _F:
    """``helper`` with a declaration that srcad's passes read (``__srcad_effect__``:
    a check, fine to call in differentiated code; ``__srcad_shape_args__``...)."""
    setattr(helper, attribute, value)
    return helper


def scalar_check(location: Location, function_name: str) -> Callable[[Any], None]:
    """A check that the differentiated function's result is one scalar."""

    def require_scalar(value: Any) -> None:
        if value.__class__ in _SCALAR_CLASSES:  # the fast path, taken on every call
            return
        if isinstance(value, numbers.Number) and not isinstance(value, bool):
            return
        if (isinstance(value, np.ndarray) or is_duck_array(value)) and value.shape == ():
            return  # (a 0-d array; a dask array's sum is one, lazily)
        kind = (
            f"an array of shape {value.shape}"
            if isinstance(value, np.ndarray) or is_duck_array(value)
            else f"a {type(value).__name__}"
        )
        raise NonScalarOutputError(
            f"grad needs a scalar result, but {function_name} returned {kind}",
            "return a single number (for example the sum or mean of the array); "
            "for vector outputs compute one gradient per component",
            location,
        )

    # a check: differentiating code that calls it is fine
    return _declare(require_scalar, "__srcad_effect__", True)


def zero_tangents(error: Exception) -> Callable[..., None]:
    """A check that the tangents of the values plain Python reads (a ``try`` statement,
    see :mod:`srcad.contexts`) are zero: else it raises ``error``."""

    def require_zero_tangents(*tangents: Any) -> None:
        if any(_nonzero(t) for t in tangents):
            raise error

    return _declare(require_zero_tangents, "__srcad_effect__", True)


def _nonzero(tangent: Any) -> bool:
    if isinstance(tangent, dict):
        return any(_nonzero(t) for t in tangent.values())
    if isinstance(tangent, list | tuple):
        return any(_nonzero(t) for t in tangent)
    if isinstance(tangent, numbers.Number | np.ndarray | np.generic):
        return bool(np.any(tangent))  # type: ignore[arg-type]  # (numpy's stubs: no Number)
    return False  # (a string or None: nothing to differentiate)


def check_assertion(condition: Any, message: str | None = None) -> None:
    """The user's ``assert condition, message``, kept in the gradient's forward pass."""
    if not condition:
        raise AssertionError(message) if message is not None else AssertionError


_declare(check_assertion, "__srcad_effect__", True)


def formatted(template: str, *values: Any) -> str:
    """An f-string of the user's, as ``template.format(*values)``."""
    return template.format(*values)


def raise_exception(kind: type, *args: Any) -> None:
    """The user's ``raise kind(*args)``, kept in the gradient's forward pass."""
    raise kind(*args)


_declare(raise_exception, "__srcad_effect__", True)


def log_of_number(x: float) -> Any:
    """``np.log`` of a Python float at ``math.log``'s speed (the derivative of ``x ** y``
    in the version for floats); numpy's own for 0, negatives and nan: the same values and
    warnings."""
    return math.log(x) if x > 0.0 else np.log(x)


def require_float_items(value: Any, error: SrcadError) -> None:
    """Refuse an array of integers or booleans that differentiated values are written
    into (they would be truncated): see :mod:`srcad.truncation`."""
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return
    kind = getattr(dtype, "kind", None)
    if kind is None:  # (another array library's dtype: by its name)
        try:
            kind = np.dtype(str(getattr(dtype, "name", dtype))).kind
        except TypeError:
            return
    if kind in "biu":
        raise error


_declare(require_float_items, "__srcad_effect__", True)


def require_separate_items(value: Any, error: SrcadError) -> None:
    """Refuse a list (or tuple) parameter whose arrays share memory (two views of one
    array, one array twice) when the function changes its items in place: srcad follows
    each item as an array of its own."""
    if value.__class__ is dict:
        value = list(value.values())
    if (value.__class__ is list or value.__class__ is tuple) and _items_share_memory(value):
        raise error


_declare(require_separate_items, "__srcad_effect__", True)


def require_number_items(value: Any, error: SrcadError) -> None:
    """Refuse a list, tuple or dict parameter holding arrays, whose copy (``M = L[:]``,
    ``L.copy()``) the function changes item by item in place: the copy holds the same
    arrays, and srcad follows the change in the copy only."""
    if isinstance(value, list | tuple | dict):
        items = value.values() if isinstance(value, dict) else value
        if not all(isinstance(item, int | float | complex | np.generic) for item in items):
            raise error


_declare(require_number_items, "__srcad_effect__", True)

_PLAIN_CONTAINERS = (list, tuple, dict)


def require_plain_container(value: Any, error: SrcadError) -> None:
    """Refuse a parameter read by item (``p[k]``, ``for v in p``) whose class reads items
    with code of its own (``__getitem__`` or ``__iter__``): a subclass of list, tuple or
    dict that overrides them, or an object of a class of the user's (not annotated, so
    srcad did not read that code): srcad reads its items as a container's."""
    cls = value.__class__
    if cls is np.ndarray or cls in _PLAIN_CONTAINERS:
        return
    if isinstance(value, _PLAIN_CONTAINERS):
        base = next(b for b in _PLAIN_CONTAINERS if isinstance(value, b))
        if any(  # (overridden in Python; OrderedDict's own, in C, reads items as dict's)
            getattr(cls, m) is not getattr(base, m)
            and isinstance(getattr(cls, m), types.FunctionType)
            for m in ("__getitem__", "__iter__")
        ):
            raise error
    elif is_record(value) and isinstance(getattr(cls, "__getitem__", None), types.FunctionType):
        raise error


_declare(require_plain_container, "__srcad_effect__", True)


def require_no_field(value: Any, names: tuple[str, ...], items: bool, error: SrcadError) -> None:
    """Raise ``error`` where ``value`` (each of its items, with ``items``) is an object
    with a field of one of ``names``: srcad read ``value.shape`` (``.T``, ...) as the
    array attribute of that name, not knowing the object's class."""
    cls = value.__class__
    if cls is np.ndarray or cls is float or cls is int:
        return
    held = value if items and (cls is list or cls is tuple) else (value,)
    for item in held:
        if is_record(item) and any(has_field(item, n) for n in names):
            raise error


_declare(require_no_field, "__srcad_effect__", True)


def require_no_own_method(
    value: Any, methods: tuple[str, ...], name: str, error: SrcadError
) -> None:
    """Refuse a parameter ``name`` whose class defines one of ``methods`` in Python code
    of its own (an object of the user's class, not annotated, so srcad did not read that
    code: it took numpy's or a container's method for ``value.method(...)``); or a module,
    or an object holding functions under those names (``xp.sum(t)``: read as the method
    ``.sum`` of ``xp``, with ``t`` as its axis)."""
    cls = value.__class__
    if cls is np.ndarray or cls is float or cls is int or cls in _PLAIN_CONTAINERS:
        return
    if cls in RANDOM_GENERATORS:  # (its draws are what the rules of draws describe)
        return
    if hasattr(cls, "__array__") or hasattr(cls, "__array_namespace__"):
        return  # (another library's arrays, dask's: their methods are numpy's)
    if any(isinstance(getattr(cls, m, None), types.FunctionType) for m in methods):
        raise error
    fields = getattr(value, "__dict__", None)
    held = [m for m in methods if isinstance(fields, dict) and m in fields]
    if held:
        method = held[0]
        raise UnsupportedSyntaxError(
            f"`{name}` is {describe(value)} holding `{method}`: srcad reads "
            f"`{name}.{method}(...)` as the array method `.{method}`, and cannot see which "
            "function it calls",
            f"call the function by its module's name (`np.{method}(...)`); srcad follows "
            f"a module assigned once in the function (`{name} = np`), not one passed in",
            error.location,
        )


_declare(require_no_own_method, "__srcad_effect__", True)


def require_no_list(value: Any, error: SrcadError) -> None:
    """Refuse a Python list or tuple given directly to an elementwise numpy function (its
    derivative's arithmetic would run on the list)."""
    if isinstance(value, list | tuple):
        raise error


_declare(require_no_list, "__srcad_effect__", True)


def require_no_array(value: Any, error: SrcadError) -> None:
    """Refuse a numpy array as the left operand of an operator whose right operand is
    an object the function made (numpy's operator would make an array of objects)."""
    if isinstance(value, np.ndarray):
        raise error


_declare(require_no_array, "__srcad_effect__", True)


def require_no_container(value: Any, error: SrcadError) -> None:
    """Refuse a list, tuple or dict parameter whose copy the function writes into through
    an item (``a = x.copy(); a[1:][0] = v``): srcad writes through array views, while an
    item of a list copy is an object the parameter holds too, and its slice a new list."""
    if isinstance(value, _PLAIN_CONTAINERS):
        raise error


_declare(require_no_container, "__srcad_effect__", True)


def require_numeric_operands(left: Any, right: Any, op: str, error: SrcadError) -> None:
    """Refuse ``left + right`` of two Python lists or tuples (Python joins them) and
    ``left * right`` of one and an int (Python repeats it), which srcad read as numpy's
    arithmetic on parameters it could not see were lists."""
    sequences = (isinstance(left, list | tuple), isinstance(right, list | tuple))
    if op == "+" and all(sequences):
        raise error
    if op == "*" and (
        (sequences[0] and isinstance(right, int | np.integer))
        or (sequences[1] and isinstance(left, int | np.integer))
    ):
        raise error


_declare(require_numeric_operands, "__srcad_effect__", True)



def _items_share_memory(items: list | tuple) -> bool:
    """Do two arrays among ``items`` share memory? Only arrays with one base can: those
    are compared (a list of many separate arrays costs one pass)."""
    by_base: dict[int, list[np.ndarray]] = {}
    for item in items:
        if isinstance(item, np.ndarray):
            base = item.base if item.base is not None else item
            by_base.setdefault(id(base), []).append(item)
    return any(
        np.may_share_memory(a, b)
        for group in by_base.values()
        if len(group) > 1
        for k, a in enumerate(group)
        for b in group[k + 1:]
    )


def run_time_check(helper: _F) -> _F:
    """Declare that ``helper`` is a check (it raises, or returns None): a bare call of it
    may stand in code srcad reads again (a tangent helper, for second derivatives)."""
    return _declare(helper, "__srcad_effect__", True)


_KEPT = threading.local()  # (per thread: the slots of the has_aux calls running)


def as_objects(value: Any, shape: Any) -> Any:
    """``value`` with the objects the function made (dicts of their fields inside the
    gradient's code) made objects of their classes again: ``shape`` is ``(cls, {field:
    shape})`` for an object, a tuple of shapes for a tuple, None for anything else."""
    if shape is None:
        return value
    if isinstance(shape, tuple) and shape and isinstance(shape[0], type):
        cls, fields = shape
        obj = cls.__new__(cls)
        for name, item in value.items():  # (object.__setattr__: a frozen dataclass too)
            object.__setattr__(obj, name, as_objects(item, fields.get(name)))
        return obj
    return tuple(as_objects(item, inner) for item, inner in zip(value, shape))


def keep_aux(aux: Any) -> None:
    """``has_aux``: the ``aux`` of ``f``'s ``return value, aux``, as the gradient's forward
    pass computes it, handed to the caller that opened a slot (:func:`kept_aux`)."""
    slots = getattr(_KEPT, "slots", None)
    if slots:  # (a copy of its lists and dicts: the backward pass pops what loops appended)
        slots[-1].append(_containers_copied(aux))


def _containers_copied(value: Any) -> Any:
    """``value`` with its lists, dicts and tuples copied (not the numbers and arrays
    they hold)."""
    cls = value.__class__
    if cls is list:
        return [_containers_copied(item) for item in value]
    if cls is dict:
        return {key: _containers_copied(item) for key, item in value.items()}
    if cls is tuple:
        return tuple(_containers_copied(item) for item in value)
    return value


_declare(keep_aux, "__srcad_effect__", True)


def check_aux_pair(out: Any, name: str, where: Callable[[], Location]) -> None:
    """has_aux: the function ``name`` must return a pair ``(value, aux)``; else an error
    at ``where()``."""
    if not (isinstance(out, tuple | list) and len(out) == 2):
        kind = f"a {type(out).__name__}" + (
            f" of {len(out)}" if isinstance(out, tuple | list) else ""
        )
        raise NonScalarOutputError(
            f"with has_aux=True, {name} must return a pair (value, aux), but it returned "
            f"{kind}",
            "return value, aux",
            where(),
        )


@run_time_check
def require_aux_pair(out: Any, name: str, filename: str, lineno: int, col: int) -> None:
    """:func:`check_aux_pair` where the function returns a value that is not a display
    (``return result`` at ``filename:lineno``), when the gradient runs."""
    check_aux_pair(out, name, lambda: Location(filename, lineno, col))


@contextlib.contextmanager
def kept_aux() -> Iterator[list[Any]]:
    """A slot that the aux of the gradient called inside the ``with`` block fills (see
    :func:`keep_aux`): f's own aux, from the one forward pass that made the gradient."""
    slots = _KEPT.__dict__.setdefault("slots", [])
    slot: list[Any] = []
    slots.append(slot)
    try:
        yield slot
    finally:
        slots.pop()


def refuse(error: SrcadError) -> None:
    """A path srcad cannot differentiate (library code for other inputs), taken at run
    time: see :mod:`srcad.deferred`."""
    raise error


_declare(refuse, "__srcad_effect__", True)


#: set on a helper that raises on Python floats where their own arithmetic would (the
#: version for floats then needs its ``try``: see :mod:`srcad.float_errors`)
RAISES_AS_PYTHON = "__srcad_raises_as_python__"


def fresh_result(helper: _F) -> _F:
    """Declare that ``helper`` always returns a new object (never one of its
    arguments): generated code may update its result in place."""
    return _declare(helper, "__srcad_fresh__", True)


def passes_argument(*positions: int) -> Callable[[Callable], Callable]:
    """Declare that a helper returns a new object or one of the arguments at
    ``positions`` (or a view of it), never anything else."""

    def mark(helper: Callable) -> Callable:
        return _declare(helper, "__srcad_passes__", frozenset(positions))

    return mark


def identity_when_none(result: int, flag: int) -> Callable[[Callable], Callable]:
    """Declare that a helper returns its argument at ``result`` unchanged when the one at
    ``flag`` is None: the optimiser drops such a call (``cast_gradient(g, None)``)."""

    def mark(helper: Callable) -> Callable:
        _declare(helper, "__srcad_identity_when_none__", (result, flag))
        return passes_argument(result)(helper)

    return mark


@fresh_result
def zeros_like(value: Any) -> Any:
    """The gradient of a parameter the result does not depend on."""
    cls = value.__class__
    if cls is float or cls is int or cls is _FLOAT64_SCALAR:  # (first: this runs per item)
        return 0.0
    if cls is np.ndarray:  # (np.zeros_like is 4x slower than np.zeros)
        dtype = value.dtype
        return np.zeros(value.shape, dtype if dtype.kind in "fc" else _FLOAT64)
    if cls is list or cls is tuple:
        for item in value:  # (a list of floats, the common case: one multiplication)
            if item.__class__ is not float:
                return AdjointList([_zero_row(item) for item in value])
        return AdjointList([0.0] * len(value))
    if cls is dict:
        for item in value.values():
            if item.__class__ is not float:
                return _zeros_of_dict(value, ())
        return AdjointDict.fromkeys(value, 0.0)
    if isinstance(value, np.ndarray | np.generic) or is_duck_array(value):
        return np.zeros_like(value, dtype=gradient_dtype(value))
    if isinstance(value, list | tuple):  # (a namedtuple too: fields add into it by position)
        return AdjointList(zeros_like(item) for item in value)
    if isinstance(value, dict):
        kind = AdjointDefaultDict if isinstance(value, defaultdict) else AdjointDict
        return kind((key, zeros_like(item)) for key, item in value.items())
    return 0.0  # (an object too: field adjoints add into zero, see AdjointRecord)


@fresh_result
def float_zeros(value: Any) -> Any:
    """The float version's adjoint of a list of floats it checked (see
    :mod:`srcad.float_lists`): a plain list of zeros, written item by item (a dict of
    floats: :func:`zeros_like`'s)."""
    cls = value.__class__
    if cls is list or cls is tuple:
        return [0.0] * len(value)
    return zeros_like(value)


@fresh_result
def float_adjoint_zeros(value: Any) -> Any:
    """:func:`float_zeros` as an :class:`AdjointList`, for an adjoint added as a whole."""
    cls = value.__class__
    if cls is list or cls is tuple:
        return AdjointList([0.0] * len(value))
    return zeros_like(value)


def as_given(adjoint: Any, like: Any) -> Any:
    """The gradient of the float version's list parameter ``like`` from its adjoint, a
    list the gradient made (see :mod:`srcad.float_lists`): a list for a list, a tuple for
    a tuple, an array for a float array; else :func:`structured_like`."""
    cls = like.__class__
    made = adjoint.__class__
    if made is list or made is AdjointList:
        if cls is list:
            return adjoint if made is list else list(adjoint)
        if cls is tuple:
            return tuple(adjoint)
        if cls is np.ndarray:
            return np.array(adjoint, like.dtype)
    return structured_like(adjoint, like)


def _zeros_of_dict(value: dict, within: tuple[int, ...]) -> AdjointDict:
    """:func:`zeros_like` of a dict (an object the function made: its fields), refusing
    dicts that hold themselves (objects that refer to each other)."""
    within = (*within, id(value))
    items = []
    for key, item in value.items():
        if item.__class__ is dict:
            if id(item) in within:
                from .load import user_line

                raise UnsupportedSyntaxError(
                    "objects (or dicts) the function made refer to each other (`a.other = "
                    "b; b.other = a`): their gradient would hold itself, which srcad does "
                    "not build",
                    "keep one direction of the reference (or an index into a list of them)",
                    user_line(2),
                )
            items.append((key, _zeros_of_dict(item, within)))
        else:
            items.append((key, zeros_like(item)))
    return AdjointDict(items)


def _zero_row(item: Any) -> Any:
    """:func:`zeros_like` of an item of a list: a row of numbers (the float version's
    rows, ``[(n, d), ...]``) without a call per number."""
    cls = item.__class__
    if (cls is tuple or cls is list) and _only_numbers(item):
        return AdjointList([0.0] * len(item))
    return zeros_like(item)


def _only_numbers(items: Iterable[Any]) -> bool:
    """Are ``items`` all Python floats and ints (numpy's float64 numbers too)?"""
    for item in items:
        kind = item.__class__
        if kind is not float and kind is not int and kind is not _FLOAT64_SCALAR:
            return False
    return True


def shaped_like(tangent: Any, value: Any) -> Any:
    """``tangent`` with the shape of ``value``: the tangent of ``a + c`` (``c`` an
    inactive array) is ``a``'s tangent spread over the broadcast shape."""
    shape = np.shape(value)
    if np.shape(tangent) == shape:
        return tangent
    if is_duck_array(value):  # (its library's own array, not a dense numpy copy)
        return np.zeros_like(value) + tangent  # (an int array's zeros + a float: floats)
    return np.array(np.broadcast_to(tangent, shape))


def joined_lists() -> UnsupportedSyntaxError:
    """The error for ``xs + ys`` or ``xs * n`` of lists srcad did not see being made: the
    gradient finds out (a list's adjoint meets arithmetic), where lowering could not."""
    from .load import user_line

    return UnsupportedSyntaxError(
        "a Python list or tuple (a parameter's, say) meets arithmetic here: joined or "
        "repeated by `+` or `*`, or made an array by a numpy function, which srcad's "
        "derivative of this line does not follow for a list it did not see being made",
        "pass an array (`np.asarray(xs)`) where numpy reads one, or make the list in "
        "the function first (`xs = list(xs)`) where it is joined or repeated",
        user_line(3),
    )


class AdjointList(list):
    """The adjoint of a tuple or list: adds elementwise (``+`` on lists would concatenate).
    Nothing multiplies a list's adjoint (``2 * xs`` on lists repeats them): that raises."""

    def __mul__(self, other: Any) -> AdjointList:
        raise joined_lists()

    __rmul__ = __mul__

    def __add__(self, other: Any) -> AdjointList:
        if getattr(other, "adds_by_field", False):  # (an AdjointRecord adds a list itself)
            return NotImplemented
        return AdjointList(a + b for a, b in zip(self, self._items(other)))

    __radd__ = __add__

    def __iadd__(self, other: Any) -> AdjointList:
        if other.__class__ is AdjointList and len(other) == len(self):  # (rows: the common
            self[:] = map(operator.add, self, other)  # case, without a call per item)
            return self
        if getattr(other, "adds_by_field", False):
            return NotImplemented
        for index, value in enumerate(self._items(other)):
            self[index] = self[index] + value  # (not in place: items may share one array)
        return self

    def _items(self, other: Any) -> Any:
        """``other`` item by item: a list's items, an array's rows (the adjoint of a list
        may come back as the array ``np.array(items)`` made), or one value for all."""
        if isinstance(other, list | tuple):
            return other
        if isinstance(other, np.ndarray) and other.ndim > 0 and len(other) == len(self):
            return other
        return [other] * len(self)


class AdjointDict(dict):
    """The adjoint of a dict parameter: one adjoint per key, adding key by key."""

    def __add__(self, other: Any) -> AdjointDict:
        if not isinstance(other, dict):  # (0.0: the item a write into its holder replaced)
            return AdjointDict((key, value + other) for key, value in self.items())
        out = AdjointDict(self)  # (a key only one of them has: zero in the other, as a
        for key, value in other.items():  # key the dict gained after a read of it)
            out[key] = out[key] + value if key in out else value
        return out

    __radd__ = __add__


def shallow_object_copy(value: Any) -> Any:
    """``copy.copy`` of an object srcad reads as a record (its fields, shared), as Python
    copies it: not a ``copy`` method its class may define (round 94)."""
    return copy.copy(value)


class AdjointDefaultDict(AdjointDict):
    """The adjoint (or tangent) of a ``defaultdict``: a key it does not hold yet is 0.0,
    as the dict's own item read gives a new default item (of numbers)."""

    def __missing__(self, key: Any) -> float:
        return 0.0


def _namedtuple_fields(record: Any) -> tuple[str, ...]:
    """The field names of ``record``, a namedtuple of any class."""
    return type(record)._fields


class AdjointRecord:
    """The adjoint of a record (a namedtuple, a dataclass instance, a plain object: see
    :mod:`srcad.records`) while the backward pass runs: the adjoints of the fields read
    so far, by name; the others are zero. :func:`structured_like` turns it into a
    record of the parameter's own class at the end."""

    __slots__ = ("like", "fields")
    __array_ufunc__ = None  # (numpy scalars defer to __radd__)
    adds_by_field = True

    def copied(self) -> AdjointRecord:
        return AdjointRecord(self.like, dict(self.fields))

    def __init__(self, like: Any, fields: dict[str, Any] | None = None) -> None:
        self.like = like
        self.fields = {} if fields is None else fields

    def _name(self, index: Any) -> str:
        if isinstance(index, str):
            return index
        if isinstance(index, int | np.integer) and isinstance(self.like, tuple):
            return _namedtuple_fields(self.like)[index]  # a namedtuple read by position
        raise TypeError(f"{type(self.like).__name__} has no item {index!r}")

    def __getitem__(self, index: Any) -> Any:
        name = self._name(index)
        if name in self.fields:
            value = self.fields[name]
            return value.copy() if isinstance(value, np.ndarray) else value
        return zeros_like(getattr(self.like, name))

    def __setitem__(self, index: Any, value: Any) -> None:
        self.fields[self._name(index)] = value

    def __len__(self) -> int:
        return len(self.like) if isinstance(self.like, tuple) else len(self.fields)

    def __add__(self, other: Any) -> Any:
        if isinstance(other, AdjointRecord):
            merged = dict(self.fields)
            for name, value in other.fields.items():
                merged[name] = merged[name] + value if name in merged else value
            return AdjointRecord(self.like, merged)
        if isinstance(other, list | tuple) and isinstance(self.like, tuple):  # by position
            return self + AdjointRecord(self.like, dict(zip(_namedtuple_fields(self.like), other)))
        if isinstance(other, int | float) and other == 0:
            return self
        if type(other) is type(self.like):  # a gradient already in the parameter's class
            given = {n: v for n, v in fields(other).items() if not is_static(v)}
            return self + AdjointRecord(self.like, given)
        return NotImplemented

    __radd__ = __add__

    def __repr__(self) -> str:
        return f"AdjointRecord({type(self.like).__name__}, {self.fields!r})"


def deep_copied(value: Any) -> Any:
    """``copy.deepcopy(value)`` of numbers, arrays and containers of them (a copy of the
    parameters an unrolled inner loop updates), refused where two of its arrays share
    memory: Python's copy keeps such sharing, which srcad, following each item as an
    array of its own, would not."""
    copied = copy.deepcopy(value)
    items = trees.arrays_in(copied)
    if len(items) > 1 and _items_share_memory(items):
        raise UnsupportedSyntaxError(
            "`copy.deepcopy(...)` of a container holding one array twice (or two views of "
            "one): the copy keeps the sharing, and srcad follows each item as an array of "
            "its own",
            "copy each item on its own (`{k: v.copy() for k, v in p.items()}`, "
            "`[a.copy() for a in items]`)",
            _user_line(),
        )
    return copied


def _user_line() -> Location:
    from .load import user_line

    return user_line(2)


def _gives_gradient(x: Any, name: str) -> bool:
    """Whether ``x.name`` (read by the user's function) passes a gradient back to ``x``:
    a field does; an attribute of the class (a constant shared by all instances) does
    not. Refuses what srcad cannot send a gradient through (a property, an attribute
    of something that is not a record)."""
    if has_field(x, name):
        return True
    if is_record(x):
        if property_of(x, name) is not None:
            raise UnsupportedSyntaxError(
                f"`.{name}` is a property of {describe(x)}, computed from its fields: "
                "srcad cannot send its gradient back to them",
                f"annotate the parameter that holds it with its class (`: {type(x).__name__}`), "
                "where srcad reads the property's code, or read the fields it is computed "
                "from in the function instead",
                _user_line(),
            )
        if hasattr(type(x), name):
            return False
        raise UnsupportedSyntaxError(
            f"{describe(x)} has no field `{name}`", "read a field it has", _user_line()
        )
    raise UnsupportedSyntaxError(
        f"srcad cannot differentiate the attribute `.{name}` of {describe(x)}: "
        "only fields of namedtuples, dataclasses and plain objects are differentiated",
        f'pass the value as a parameter, or register a rule with srcad.defrule("x.{name}", ...)',
        _user_line(),
    )


#: (class, name) of the namedtuple and dataclass fields seen (the fast path of field_grad)
_CLASS_FIELDS: set[tuple[type, str]] = set()


#: (class, name) of plain objects' classes that define nothing of that name a field of
#: theirs would shadow or be computed by (a cached_property): then ``x.name`` is a field
#: where ``x.__dict__`` holds it
_PLAIN_FIELDS: set[tuple[type, str]] = set()


def _is_field(x: Any, name: str) -> bool:
    """Whether ``x.name`` is a field of the record ``x`` (fast for the ones seen before)."""
    key = (x.__class__, name)
    if key in _CLASS_FIELDS:
        return True
    if key in _PLAIN_FIELDS:
        return name in x.__dict__
    kind = record_kind(x)
    if kind in ("namedtuple", "dataclass") and name in field_names(x):
        _CLASS_FIELDS.add(key)
        return True
    if kind == "object" and has_field(x, name):
        if not isinstance(getattr(x.__class__, name, None), functools.cached_property):
            _PLAIN_FIELDS.add(key)
        return True
    return False


def field_grad(g: Any, x: Any, name: str) -> Any:
    """Adjoint of ``x.name``, a field of the record ``x``: ``g`` in that field, zero in
    the others."""
    if _is_field(x, name):  # (a list of plain objects whose fields were read: records)
        if _carries_records(g) or not is_static(getattr(x, name)):
            return AdjointRecord(x, {name: g})
        return AdjointRecord(x)
    if _gives_gradient(x, name) and (
        _carries_records(g) or not is_static(getattr(x, name))
    ):
        return AdjointRecord(x, {name: g})
    return AdjointRecord(x)  # (a number read from an int field, a class attribute)


# (reads which fields x has, not their values)
_declare(field_grad, "__srcad_shape_args__", frozenset((1,)))


def field_tangent(t: Any, x: Any, name: str) -> Any:
    """Tangent of ``x.name``: that field of ``x``'s tangent ``t`` (a record of ``x``'s
    class, or zero)."""
    value = getattr(x, name)
    if not (_is_field(x, name) or _gives_gradient(x, name)) or is_static(
        value, objects=True
    ):
        return zeros_like(value)
    if isinstance(t, AdjointRecord):
        return t[name]
    if isinstance(t, int | float) and t == 0:
        return zeros_like(value)
    if isinstance(x, tuple) and isinstance(t, list | tuple) and not hasattr(t, name):
        return t[_namedtuple_fields(x).index(name)]  # a namedtuple's tangent, by position
    if is_record(t) and hasattr(t, name):
        return getattr(t, name)
    raise UnsupportedSyntaxError(
        f"the tangent given for {describe(x)} is a {type(t).__name__}",
        f"give a tangent of the same class ({type(x).__name__}), as for the primal",
        _user_line(),
    )


def same_member(location: Location, cls: type, name: str) -> Callable[[Any], None]:
    """A check that ``obj.name`` is the member of ``cls`` that srcad inlined (the method
    ``cls.name``, or its property): an object of a subclass may override it."""
    import inspect

    expected = inspect.getattr_static(cls, name, None)

    def check(obj: Any) -> None:
        if obj.__class__ is cls:  # the fast path, taken on every call
            return
        mine = inspect.getattr_static(type(obj), name, None)
        if mine is not expected or name in getattr(obj, "__dict__", ()):
            raise UnsupportedSyntaxError(
                f"srcad compiled `self.{name}` as {cls.__qualname__}.{name}, but this "
                f"{type(obj).__qualname__} object has another `{name}`",
                "differentiate the bound method of this object (srcad.grad(obj.loss, "
                'wrt="self")), where srcad reads its own class',
                location,
            )

    # a check: differentiating code that calls it is fine
    return _declare(check, "__srcad_effect__", True)


def same_class(location: Location, cls: type) -> Callable[[Any], None]:
    """A check that a value is an object of ``cls`` itself: srcad read its fields as
    those of a ``cls`` to make a new one (``s._replace(x=...)`` of a namedtuple)."""

    def check(obj: Any) -> None:
        if obj.__class__ is not cls:
            raise UnsupportedSyntaxError(
                f"srcad compiled this line for a {cls.__qualname__} object, but this value "
                f"is a {type(obj).__qualname__}",
                f"give it a {cls.__qualname__} (or make the new object with its class: "
                f"`{cls.__qualname__}(...)`)",
                location,
            )

    return _declare(check, "__srcad_effect__", True)


def structured_like(adjoint: Any, like: Any) -> Any:
    """The gradient of the parameter ``like`` from its adjoint: each record adjoint in
    it becomes a record of its parameter's class (namedtuple, dataclass or plain
    object), with zeros in the fields the result does not depend on and the static
    fields (ints, strings, ...) as they are; an array's zero adjoint (an item the
    function replaced) is an array of zeros. Anything else is returned as it is."""
    kind = like.__class__
    if kind is float or kind is int or kind is _FLOAT64_SCALAR:  # (first: the float
        return adjoint  # version's numbers, one call per item of a list of them)
    if (kind is list or kind is tuple) and float_items(like) and isinstance(adjoint, list):
        return list(adjoint) if kind is list else tuple(adjoint)
    if kind is np.ndarray and isinstance(adjoint, list):  # (a float array the float
        return np.array(adjoint, like.dtype)  # version read as a list: see as_floats)
    if (kind is list or kind is tuple) and adjoint.__class__ is AdjointList:  # (rows)
        parts = [_structured_row(a, b) for a, b in zip(adjoint, like)]
        return parts if kind is list else tuple(parts)
    if kind is dict and adjoint.__class__ is AdjointDict and float_items(like):
        return {key: value for key, value in adjoint.items() if key in like}
    if isinstance(adjoint, AdjointRecord):
        return _record_gradient(adjoint, like)
    if is_record(like):  # (an unused object's adjoint is 0.0; a namedtuple's may be a list)
        merged = AdjointRecord(like).__add__(adjoint)
        return adjoint if merged is NotImplemented else _record_gradient(merged, like)
    # (a dict, list or tuple: of the parameter's own type, not srcad's adjoint containers)
    if isinstance(adjoint, dict) and isinstance(like, dict):
        # (only the parameter's own keys: one the function added to a copy is no input)
        items = {k: structured_like(v, like[k]) for k, v in adjoint.items() if k in like}
        if type(like) is dict:
            return items
        same = copy.copy(like)  # (a dict subclass: OrderedDict, a defaultdict's factory)
        same.clear()
        same.update(items)
        return same
    if isinstance(adjoint, list | tuple) and isinstance(like, list | tuple):
        parts = [structured_like(a, b) for a, b in zip(adjoint, like)]
        return tuple(parts) if isinstance(like, tuple) else parts
    if adjoint.__class__ is float and adjoint == 0.0 and isinstance(like, np.ndarray):
        return zeros_like(like)  # (an item the function replaced: zeros of its shape)
    return adjoint


_declare(structured_like, "__srcad_opaque__", True)  # (recursive over containers)

def _structured_row(adjoint: Any, like: Any) -> Any:
    """:func:`structured_like` of a row of numbers (a tuple or list of floats and ints
    whose adjoint is a list of numbers) without a call per number."""
    kind = like.__class__
    if (
        (kind is tuple or kind is list)
        and adjoint.__class__ is AdjointList
        and _only_numbers(like)
        and all(value.__class__ is float for value in adjoint)
    ):
        return list(adjoint) if kind is list else tuple(adjoint)
    return structured_like(adjoint, like)


def _record_gradient(adjoint: AdjointRecord, like: Any) -> Any:
    new = {}
    for name, value in fields(like).items():
        if name in adjoint.fields:
            new[name] = _field_gradient(adjoint.fields[name], value)
        elif not is_static(value):
            new[name] = _field_gradient(zeros_like(value), value)
    return replaced(like, new)


def _carries_records(g: Any) -> bool:
    """Whether the adjoint ``g`` holds the adjoint of an object's fields anywhere."""
    if isinstance(g, AdjointRecord):
        return True
    if isinstance(g, list | tuple):
        return any(_carries_records(item) for item in g)
    if isinstance(g, dict):
        return any(_carries_records(item) for item in g.values())
    return False


def _field_gradient(g: Any, value: Any) -> Any:
    """The gradient of one field's ``value`` (in the field's own structure)."""
    if is_static(value) and not _carries_records(g):  # (plain objects whose fields were
        return value  # read, in a list: their gradients are objects too)
    if isinstance(g, AdjointRecord):
        return _record_gradient(g, value)
    if is_record(value):  # (zero, or a namedtuple's list)
        return _record_gradient(AdjointRecord(value) + g, value)
    if isinstance(value, list | tuple):
        return type(value)(_field_gradient(a, b) for a, b in zip(g, value))
    if isinstance(value, dict):
        return {key: _field_gradient(g[key], item) for key, item in value.items()}
    return g


def listed_grad(g: Any, x: Any) -> Any:
    """Adjoint of ``list(x)``: ``g`` itself, or for an array ``x`` given a list adjoint,
    an array of its items (each a number, a row, or a zero)."""
    if x.__class__ is not np.ndarray or not isinstance(g, list):
        return g
    out = np.zeros(x.shape, np.result_type(x.dtype, float))
    for k, item in enumerate(g):
        out[k] = item
    return out


#: iterators of itertools that never end (``repeat`` does without a count)
_ENDLESS = (itertools.count, itertools.cycle)


def _endless_repeat(value: Any) -> bool:
    """Whether ``itertools.repeat(...)`` was given no count (it then has no length)."""
    try:
        value.__length_hint__()
    except TypeError:
        return True
    return False


def loop_items(value: Any) -> Any:
    """What ``for item in value`` runs over, by position: a dict's keys (a list; a dict
    view's items likewise), an iterator's items (a list), else the sequence or array."""
    cls = value.__class__
    if cls is list or cls is tuple:  # (the common case first: isinstance of an ABC is slow)
        return value
    if not hasattr(value, "__getitem__"):  # (itertools.product(...), an iterator: listed)
        if cls in _ENDLESS or (cls is itertools.repeat and _endless_repeat(value)):
            from .load import user_line

            raise UnsupportedSyntaxError(  # (round 91: listing it ran out of memory)
                f"`{cls.__name__}(...)` goes on without end, and srcad lists the items of "
                "what a loop, or zip, runs over",
                "give zip the numbers it pairs as a list (`[c] * len(xs)`, "
                "`range(1, len(xs) + 1)`), or repeat with a count (`repeat(c, n)`)",
                user_line(2),
            )
        return list(value)
    if isinstance(value, dict | MappingView):
        return list(value)  # type: ignore[arg-type]  # (dict views are iterable)
    return value


def loop_items_grad(g: Any, value: Any) -> Any:
    """Adjoint of :func:`loop_items`: a dict's keys get no gradient, a sequence gets ``g``."""
    return zeros_like(value) if isinstance(value, dict) else g


def loop_items_tangent(t: Any, value: Any) -> Any:
    """Tangent of :func:`loop_items`: zero for a dict's keys, else the sequence's tangent."""
    return [0.0] * len(value) if isinstance(value, dict) else t


@run_time_check
def require_mapping(source: Any) -> None:
    """Refuse ``dict(source)`` of a name that holds no dict (a list of key-value pairs):
    srcad copies it as the dict it takes it for."""
    if not isinstance(source, Mapping):
        raise UnsupportedSyntaxError(
            f"`dict(...)` of a name is differentiated as a copy of a dict, but it is given "
            f"{describe(source)}",
            "make a dict of key-value pairs with a comprehension: `{k: v for k, v in pairs}`",
            _user_line(),
        )


@run_time_check
def require_dict(mapping: Any) -> None:
    """Refuse ``mapping.get(key, default)`` differentiated on something that is not a dict
    (an object with a ``get`` method of its own, whose code srcad did not read)."""
    if not isinstance(mapping, dict):
        raise UnsupportedSyntaxError(
            f"`.get(...)` is differentiated as a dict's, but it is called on {describe(mapping)}",
            "annotate the parameter with its class (`def loss(model: Model, x)`), so that "
            "srcad reads its `get` method, or pass a dict",
            _user_line(),
        )


def union_grad(g: Any, x: Any, y: Any, left: bool) -> Any:
    """Adjoint of ``x | y`` for ``x`` (``left``) or ``y``: of two dicts, ``g`` under the
    keys whose value came from that one (``y``'s where both have a key); of anything
    else (integers, booleans), zero."""
    if not (isinstance(x, dict) and isinstance(y, dict)):
        return zeros_like(x if left else y)
    if left:
        return AdjointDict((k, zeros_like(v) if k in y else g[k]) for k, v in x.items())
    return AdjointDict((k, g[k]) for k in y)


def union_tangent(t: Any, x: Any, y: Any, left: bool) -> Any:
    """Tangent of ``x | y`` along ``x`` (``left``) or ``y``: of two dicts, ``t``'s items
    that the union keeps, zero under the other's keys; of anything else, zero."""
    if not (isinstance(x, dict) and isinstance(y, dict)):
        return 0
    if left:
        return AdjointDict((k, zeros_like(v) if k in y else t[k]) for k, v in (x | y).items())
    return AdjointDict((k, t[k] if k in y else zeros_like(v)) for k, v in (x | y).items())


def dict_get_grad(g: Any, mapping: Any, key: Any) -> Any:
    """Adjoint of ``mapping.get(key, default)`` for the dict: ``g`` under ``key`` when the
    dict has it (then the default was not read), zero under the other keys."""
    require_dict(mapping)
    out = zeros_like(mapping)
    if key in mapping:
        out[key] = g
    return out


def dict_get_tangent(t: Any, mapping: Any, key: Any, ans: Any) -> Any:
    """Tangent of ``mapping.get(key, default)`` along the dict's tangent ``t``: its item
    under ``key``, zero when the dict has no such key."""
    require_dict(mapping)
    return t[key] if key in mapping else zeros_like(ans)


def dict_default_grad(g: Any, mapping: Any, key: Any, default: Any) -> Any:
    """Adjoint (or tangent, with ``g`` the default's tangent) of ``mapping.get(key,
    default)`` for the default: ``g`` when the dict has no ``key``, else zero."""
    return zeros_like(default) if key in mapping else g


@fresh_result
def appended(items: Any, item: Any) -> list:
    """``items.append(item)`` as a new value: a new list, ``items`` followed by ``item``
    (the old list is left as it was, so the backward pass can still read it)."""
    return [*items, item]


@fresh_result
def extended(items: Any, more: Any) -> list | tuple:
    """``items.extend(more)`` (and ``items += more``, ``items + more``) as a new list, or
    a new tuple when ``items`` is one (``shape[:i] + (n,)``)."""
    return (*items, *more) if isinstance(items, tuple) else [*items, *more]


def require_lists(items: Any, more: Any, error: SrcadError) -> None:
    """Refuse ``items + more`` where one side is a numpy value: numpy's elementwise
    addition (``[1.0, 2.0] + x``), which srcad read as joining two lists."""
    if isinstance(items, np.ndarray | np.generic) or isinstance(more, np.ndarray | np.generic):
        raise error


def require_not_held(item: Any, others: tuple, names: tuple, error: SrcadError) -> None:
    """Refuse ``c[k] += more`` on a list that a variable (``names``, holding ``others``)
    holds too: Python extends that list in place, so the variable sees the new items;
    srcad makes the container's item a new list."""
    if not isinstance(item, list):
        return
    for name, other in zip(names, others):
        if other is item:
            raise type(error)(error.message.format(name=name), error.hint, error.location)


def require_count(count: Any, error: SrcadError) -> None:
    """Refuse ``items * count`` where ``count`` is not an int: numpy's elementwise
    product (``weights * np.exp(-r * t)``), which srcad read as repeating a list."""
    if not isinstance(count, int | np.integer):
        raise error


def require_items(value: Any, count: int, error: Exception) -> None:
    """Refuse a value that is not a list, tuple or array of ``count`` items (where srcad
    reads its items by position, as iterating over it would give them)."""
    if value.__class__ not in (list, tuple, np.ndarray) or len(value) != count:
        raise error


def require_length(value: Any, count: int, error: Exception) -> None:
    """Refuse unpacking ``value`` into ``count`` names when it holds another number of
    items (Python's ValueError; srcad takes the items by position)."""
    try:
        size = len(value)
    except TypeError:  # (no length: taking the items by position tells)
        return
    if size != count:
        raise error


_declare(require_lists, "__srcad_effect__", True)
_declare(require_count, "__srcad_effect__", True)
_declare(require_length, "__srcad_effect__", True)

#: checks of the arguments at the start of a gradient, which the version for floats
#: never needs: not shown in the listing
ENTRY_CHECKS = (
    require_separate_items,
    require_number_items,
    require_plain_container,
    require_no_list,
    require_numeric_operands,
)
#: checks that ``+``/``*`` of a list is the list operation (a numpy operand may reach it
#: in the version for floats too: a constant array): not shown in the listing either
LIST_CHECKS = (require_lists, require_count, require_length)


def named_tuple(cls: type, items: Any) -> Any:
    """``cls(*items)``: a namedtuple the function made, from the tuple of its items
    (:mod:`srcad.lower.named_tuples`); a zero tangent or adjoint stays zero."""
    if isinstance(items, list | tuple):
        return cls._make(items)  # type: ignore[attr-defined]
    return items


@fresh_result
def repeated(items: Any, count: Any) -> list | tuple:
    """``items * count`` (or ``count * items``) for a list or a tuple: a new one."""
    return (tuple(items) if isinstance(items, tuple) else list(items)) * count


def repeated_grad(g: Any, items: Any) -> AdjointList:
    """Adjoint of :func:`repeated`: each item gets the sum over its copies (a zero when
    repeated no times)."""
    size = len(items)
    if len(g) < size:  # (`[v] * 0`: no copy)
        return AdjointList([zeros_like(item) for item in items])
    total = AdjointList(g[:size])
    for start in range(size, len(g), size):
        total += g[start : start + size]
    return total


@fresh_result
def slice_bounds(start: Any, stop: Any, length: int) -> tuple[int, int]:
    """The positions ``items[start:stop] = values`` replaces, on a list of ``length``
    items: from the first up to (not including) the second; where ``stop`` is before
    ``start``, none (the values go in at ``start``), as Python does."""
    low, high, _ = slice(start, stop).indices(length)
    return low, max(low, high)


def stepped_positions(
    start: Any, stop: Any, step: Any, length: int, count: int | None = None
) -> list[int]:
    """The positions ``items[start:stop:step]`` reads on a list of ``length`` items;
    ``count`` values written there must be as many (Python's ValueError otherwise)."""
    positions = list(range(*slice(start, stop, step).indices(length)))
    if count is not None and count != len(positions):
        raise ValueError(
            f"attempt to assign sequence of size {count} to extended slice of size "
            f"{len(positions)}"
        )
    return positions


def kept_positions(start: Any, stop: Any, step: Any, length: int) -> list[int]:
    """The positions of a list of ``length`` items that ``del items[start:stop:step]``
    keeps, in order."""
    deleted = set(range(*slice(start, stop, step).indices(length)))
    return [k for k in range(length) if k not in deleted]


def list_replaced(items: Any, index: Any, item: Any) -> list:
    """``items[index] = item`` on a list, as a new value: a copy with that item replaced."""
    out = list(items)
    out[index] = item
    return out


@fresh_result
def list_removed(items: Any, index: Any) -> list:
    """``items.pop(index)`` on a list, as a new value: a copy without that item."""
    out = list(items)
    out.pop(index)
    return out


def removed_grad(g: Any, items: Any, index: Any) -> AdjointList:
    """Adjoint of :func:`list_removed`: ``g`` with a zero put back where the item was."""
    out = AdjointList(g)
    out.insert(index % len(items), zeros_like(items[index]))
    return out


@fresh_result
def with_item(items: Any, index: Any, item: Any) -> AdjointList:
    """An adjoint or tangent of a list with one item replaced (``item`` or zeros)."""
    out = AdjointList(items)
    out[index] = item
    return out


def _tied_with(items: Any, ans: Any) -> list[int]:
    """The positions of the items equal to ``ans`` (the one Python picked, at least)."""
    return [index for index, item in enumerate(items) if item is ans or item == ans]


def extreme_items_grad(g: Any, items: Any, ans: Any) -> Any:
    """Adjoint of the builtin ``max(items)``/``min(items)``: ``g`` goes to the item the
    result is, shared equally between equal ones (as at a tie of ``max(a, b)``, and of
    ``np.max``)."""
    cls = items.__class__
    if (cls is list or cls is tuple) and items.count(ans) == 1:  # (no tie, the common
        out = zeros_like(items)  # case: found by C's loops, with _tied_with's test: the
        index = items.index(ans)  # item is the result, or equals it)
        out[index] = out[index] + g
        return out
    out = zeros_like(items)
    tied = _tied_with(items, ans)
    for index in tied:
        out[index] = out[index] + g / len(tied)
    return out


def extreme_items_tangent(t: Any, items: Any, ans: Any) -> Any:
    """Tangent of ``max(items)``/``min(items)``: the mean of the tied items' tangents."""
    tied = _tied_with(items, ans)
    if not tied:
        return 0.0
    return sum(t[index] for index in tied) / len(tied)


def prod_items_grad(g: Any, items: Any) -> Any:
    """Adjoint of ``math.prod(items)``: each item gets ``g`` times the other items."""
    values = list(items)
    out = AdjointList()
    for index in range(len(values)):
        others = 1.0
        for other_index, other in enumerate(values):
            if other_index != index:
                others = others * other
        out.append(others * g)
    return out


def prod_items_tangent(t: Any, items: Any) -> Any:
    """Tangent of ``math.prod(items)``: each item's tangent times the other items."""
    total = 0.0
    for weight, dot in zip(prod_items_grad(1.0, items), t):
        total = total + weight * dot
    return total


def leading_grad(g: Any, items: Any) -> Any:
    """Adjoint of the list that :func:`appended`/:func:`extended` grew: the first
    ``len(items)`` items of ``g`` (a list of adjoints, or the rows of an array)."""
    return AdjointList(g[: len(items)])


def trailing_grad(g: Any, items: Any) -> Any:
    """Adjoint of what :func:`extended` added: ``g``'s items after the first ``len(items)``."""
    return AdjointList(g[len(items) :])


def numbers_only(*values: Any) -> bool:
    """Are all ``values`` Python numbers (floats, ints, or numpy float64 numbers, a float
    subclass)? (The float version's check of parameters whose float witness is not a
    Python float: see :func:`srcad.analyze.float_witnesses`.)"""
    for value in values:
        cls = value.__class__
        if cls is not float and cls is not int and cls is not _FLOAT64_SCALAR:
            return False
    return True


def float_fields(value: Any, names: tuple[str, ...]) -> bool:
    """Is ``value`` an object (a namedtuple, a dataclass instance, a plain object) that
    holds a Python float (or an int: a count) in each field of ``names``? (The float
    version's entry check for a parameter whose fields the function reads.)"""
    if record_kind(value) is None:
        return False
    for name in names:
        item = getattr(value, name, None).__class__
        if item is not float and item is not _FLOAT64_SCALAR and item is not int:
            return False
        if not _is_field(value, name):  # (a property, a class's attribute: see field_grad)
            return False
    return True


def record_like(like: Any, names: tuple[str, ...], values: tuple[Any, ...]) -> Any:
    """The gradient of the object parameter ``like`` whose fields ``names`` have the
    adjoints ``values`` (numbers, see :mod:`srcad.float_records`): an object of its class
    (a namedtuple of floats directly; else as :func:`structured_like` makes it)."""
    cls = like.__class__
    given = dict(zip(names, values))
    if any(getattr(like, name).__class__ is int for name in names):
        return structured_like(AdjointRecord(like, given), like)  # (a count: as it is)
    if isinstance(like, tuple):  # (without the class's own __new__: round 98)
        if len(names) == len(like) and all(name in given for name in cls._fields):
            return tuple.__new__(cls, [given[name] for name in cls._fields])
    elif (
        getattr(like, "__dict__", None) is not None and like.__dict__.keys() == given.keys()
    ):  # (every field read: a bare object with the gradients, as records.replaced makes
        # it; written out here, on every call of the version for floats: 1.4 us, where
        # replaced's general copy takes 2.5)
        made = object.__new__(cls)
        made.__dict__.update(given)
        return made
    return structured_like(AdjointRecord(like, given), like)


def float_items(value: Any) -> bool:
    """Is ``value`` a list or tuple of Python floats (or numpy float64 numbers, a float
    subclass: ``list(np.linspace(...))``), or a dict of them? (The float version's entry
    check for a parameter it reads item by item.)"""
    cls = value.__class__
    if cls is dict:
        value = value.values()
    elif cls is not list and cls is not tuple:
        return False
    for item in value:  # (a loop: all() over a generator costs more on short lists)
        if item.__class__ is not float and item.__class__ is not _FLOAT64_SCALAR:
            return False
    return True


def number_items(value: Any) -> bool:
    """Is ``value`` a list or tuple of Python numbers (floats, ints, numpy float64
    numbers)? (The float version's entry check for a global list of constants.)"""
    cls = value.__class__
    return (cls is list or cls is tuple) and _only_numbers(value)


def float_rows(value: Any) -> bool:
    """Is ``value`` a list or tuple of lists, tuples or dicts of Python floats and ints
    (``[(n, d), ...]``, ``[(i, j, weight), ...]``)? (The float version's entry check for
    a parameter it reads row by row.)"""
    cls = value.__class__
    if cls is not list and cls is not tuple:
        return False
    for row in value:
        kind = row.__class__
        if kind is dict:
            row = row.values()
        elif kind is not list and kind is not tuple:
            return False
        if not _only_numbers(row):
            return False
    return True


def sorted_order(keys: Any, reverse: bool = False) -> list[int]:
    """The positions of ``keys`` in the order ``sorted(items, key=..., reverse=reverse)``
    puts their items (stable, as Python's sort): what ``sorted(xs, key=f)`` becomes (see
    :mod:`srcad.desugar`). The order is piecewise constant: it has no derivative."""
    return sorted(range(len(keys)), key=keys.__getitem__, reverse=reverse)


def as_floats(value: Any) -> Any:
    """``value`` if it is a list, tuple or dict of Python floats (a list or tuple may hold
    Python ints too, as a number parameter may be one: an HMM's observed symbols, indices
    into its tables); a 1-D float64 array's items (numpy's float64 numbers, as iterating
    the array gives them) as a list; else ``None``. (The float version's entry check for
    a parameter it reads only item by item, where an array reads as the list of its
    items does.)"""
    cls = value.__class__
    if cls is list or cls is tuple:  # (the common case first, without another call)
        for item in value:
            kind = item.__class__
            if kind is not float and kind is not int and kind is not _FLOAT64_SCALAR:
                return None
        return value
    if cls is np.ndarray:
        return list(value) if value.ndim == 1 and value.dtype == _FLOAT64 else None
    return value if float_items(value) else None


def with_numpy_floats(array_version: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``array_version(*args, **kwargs)`` with each Python float among the arguments (in
    lists, tuples and dicts too) as a numpy float: the float version's answer when its
    backward pass raises (a derivative too large for a Python float, ``1 / x`` at 0.0),
    where numpy's floats give inf or nan (and a RuntimeWarning), as the user's
    ``np.log(x)`` does. With no Python float among them, the error is re-raised (a
    version that falls back to itself: it came from something else)."""
    found: list[bool] = []
    args, kwargs = _numpy_floats(args, found), _numpy_floats(kwargs, found)
    if not found:
        raise  # noqa: PLE0704  # (the error the calling version is handling)
    return array_version(*args, **kwargs)


def raising_as_the_function_does(
    array_version: Callable[..., Any], function: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """:func:`with_numpy_floats` for a gradient whose ``try`` holds the function's own
    lines too (forward mode: each value's line, then its derivative's): ``function``
    runs first on the same arguments, so that an error of its own (``1.0 / (x - 2)`` at
    2.0) is raised as the function raises it, not turned into numpy's inf."""
    function(*args, **kwargs)
    return with_numpy_floats(array_version, *args, **kwargs)


def tangents_raising_as_the_function_does(
    array_version: Callable[..., Any], function: Callable[..., Any], primals: tuple, tangents: tuple
) -> Any:
    """:func:`raising_as_the_function_does` for a tangent function, which takes the
    function's arguments as one tuple, ``primals``, and their ``tangents``."""
    function(*primals)
    return with_numpy_floats(array_version, primals, tangents)


def _numpy_floats(value: Any, found: list[bool]) -> Any:
    cls = value.__class__
    if cls is float:
        found.append(True)
        return np.float64(value)
    if cls is _FLOAT64_SCALAR:  # (numpy's already: the float version takes it too)
        found.append(True)
        return value
    if cls is list or cls is tuple:
        return cls(_numpy_floats(item, found) for item in value)
    if cls is dict:
        return {key: _numpy_floats(item, found) for key, item in value.items()}
    if is_record(value):  # (a copy whose fields are numpy's floats, made without the
        # class's __new__, __init__ or __post_init__: they ran on the value already)
        held = fields(value)
        converted = {name: _numpy_floats(field, found) for name, field in held.items()}
        if any(converted[name] is not held[name] for name in held):
            value = replaced(value, converted)
    return value


def add_at(target: Any, index: Any, value: Any) -> None:
    """``target[index] += value``, where repeated integer indices each add (numpy's add.at)."""
    cls = target.__class__
    if cls is AdjointDict or cls is AdjointList:  # (the float version's case: first)
        target[index] = target[index] + value
    elif isinstance(target, np.ndarray):
        if index.__class__ is int:  # (one position: nothing repeats, and numpy's add.at
            target[index] += value  # is 10x slower than +=: loops over items come here)
        elif isinstance(index, str):
            from .load import user_line

            raise UnsupportedSyntaxError(  # (its adjoint, a float array, has no fields)
                f"`[{index!r}]` reads a field of a structured array: srcad differentiates "
                "arrays of numbers, not of records with named fields",
                "keep each field in an array of its own",
                user_line(2),
            )
        else:
            np.add.at(target, index, value)
    elif is_duck_array(target):
        _add_at_lazily(target, index, value)
    else:  # a list's or dict's item: a new value (items may share one array, as
        # sum_items_grad gives each item the same gradient)
        target[index] = target[index] + value


def _add_at_lazily(target: Any, index: Any, value: Any) -> None:
    """:func:`add_at` into an array of another library (dask), whose item assignment
    keeps only the last of repeated positions, as numpy's does, and takes integer arrays
    along one axis only: the leading axes the index spans are merged into one, and its
    items written in rounds, the first time each position appears, then the second, ...
    (``E[tokens]`` with a repeated token: each of its rows adds)."""
    from .load import user_line

    if has_unknown_shape(value):
        raise UnsupportedSyntaxError(
            "srcad cannot send the gradient of this selection back to its array lazily: "
            "its size is unknown until computed (`x[mask]` of a dask array)",
            "select with np.where instead (`np.sum(np.where(mask, x * x, 0.0))`)",
            user_line(3),
        )
    _refuse_lazy_index(index, target)
    positions = _flat_positions(target, index)
    parts = index if isinstance(index, tuple) else (index,)
    if positions is None or (
        len(parts) == 1 and not _occurrences(positions.ravel()).any()
    ):  # (slices, numbers, masks: no position repeats, and the library takes the index)
        target[index] = target[index] + value
        return
    # (the positions are of the leading axes integer arrays span, or, mixed with
    # slices or numbers, of every item: see _flat_positions)
    spanned = len(parts) if all(isinstance(p, np.ndarray | list) for p in parts) else (
        target.ndim
    )
    rest = target.shape[spanned:]
    merged = target.reshape((math.prod(target.shape[:spanned]), *rest))
    flat = positions.ravel()
    values = np.broadcast_to(value, positions.shape + rest).reshape((flat.size, *rest))
    rounds = _occurrences(flat)
    for k in range(int(rounds.max(initial=0)) + 1):
        chosen = np.flatnonzero(rounds == k)  # (numbers, not a mask: sizes stay known)
        rows = flat[chosen]
        merged[rows] = merged[rows] + values[chosen]
    target[...] = merged.reshape(target.shape)


def _refuse_lazy_index(index: Any, array: Any) -> None:
    """Refuse an index holding another library's array (dask's): which positions it
    repeats, which its gradient must add (or keep the last of), is known only when it is
    computed (round 91: repeats counted once, silently)."""
    parts = index if isinstance(index, tuple) else (index,)
    lazy = [p for p in parts if is_duck_array(p) and getattr(p, "dtype", None) is not None
            and p.dtype.kind in "iu"]
    if lazy:
        from .load import user_line

        raise UnsupportedSyntaxError(
            f"an index that is an array of {type(lazy[0]).__module__.split('.')[0]} selects "
            f"items of {type(array).__module__.split('.')[0]}'s array here: srcad must see "
            "which positions it repeats, which is known only when it is computed",
            "index with a numpy array (`ids.compute()`, or np.asarray of the ids)",
            user_line(3),
        )


def _occurrences(flat: np.ndarray) -> np.ndarray:
    """For each item of ``flat``, how many items before it hold the same value."""
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    first_of_run = np.maximum.accumulate(np.where(starts, np.arange(flat.size), 0))
    counts = np.empty(flat.size, dtype=np.intp)
    counts[order] = np.arange(flat.size) - first_of_run
    return counts


def along_axis_index(indices: Any, axis: int | None, shape: tuple) -> tuple:
    """The fancy index of an array of ``shape`` that ``np.take_along_axis`` and
    ``np.put_along_axis`` read or write with ``indices`` along ``axis`` (its other axes
    running over ``shape``'s); ``axis=None``: positions of the flattened array."""
    if axis is None:
        return np.unravel_index(indices, shape)
    ndim = len(shape)
    axis %= ndim
    parts = []
    for d in range(ndim):
        if d == axis:
            parts.append(indices)
        else:
            place = [1] * ndim
            place[d] = shape[d]
            parts.append(np.arange(shape[d]).reshape(place))
    return tuple(parts)


@fresh_result
def along_lanes(x: Any, axis: int) -> Any:
    """The lanes of the 1-D or 2-D array ``x`` along ``axis`` that ``np.apply_along_axis(f,
    axis, x)`` gives ``f``, one per row (a copy; of a 1-D array, one lane)."""
    if np.ndim(x) not in (1, 2):
        raise UnsupportedSyntaxError(
            f"srcad reads `np.apply_along_axis` of a 1-D or 2-D array, not of {np.ndim(x)} axes",
            "write the loop over the lanes (`np.array([f(row) for row in x])`)",
            _user_line(),
        )
    return np.array(np.swapaxes(np.atleast_2d(x), axis if np.ndim(x) == 2 else -1, -1))


def along_axis_result(values: Any, ndim: int, axis: int) -> Any:
    """``np.apply_along_axis``'s result from the values of its function on each lane
    (:func:`along_lanes`), stacked: ``f``'s own axes where numpy puts them, at ``axis``."""
    if ndim == 1:
        return values[0]
    return np.moveaxis(values, 0, -1) if axis in (0, -2) else values


def flat_index(array: Any, key: Any) -> tuple:
    """The index of the items ``array.flat[key]`` reads or writes (positions in C order:
    ``np.unravel_index(np.arange(array.size)[key], array.shape)``)."""
    if not isinstance(array, np.ndarray):
        raise UnsupportedSyntaxError(
            f"`.flat[...]` of {type(array).__name__}: srcad reads `.flat` as a numpy "
            "array's flat iterator",
            "give the field another name, or annotate the parameter with its class",
            _user_line(),
        )
    return np.unravel_index(np.arange(array.size)[key], array.shape)


@fresh_result
def multiplied_at(target: Any, index: Any, value: Any) -> Any:
    """A copy of ``target`` after ``np.multiply.at(target, index, value)`` (each repeated
    position multiplied by each of its factors): the value ``np.multiply.at`` writes."""
    out = np.array(target, copy=True)
    np.multiply.at(out, index, value)
    return out


def set_rows(target: Any, index: tuple, value: Any) -> None:
    """``target[index] += value`` into a new zero array, for an index with a ``np.arange``
    part (``dlogp[np.arange(n), labels]``): a plain assignment, 2-3x faster than
    ``np.add.at``, when no position can repeat -- every index array at most 1-D and the
    1-D ones of one length (then the ``arange`` part makes every position different)."""
    if target.__class__ is not np.ndarray:
        add_at(target, index, value)
        return
    length = None
    for part in index:
        if part.__class__ is np.ndarray and part.ndim == 1 and length in (None, part.shape[0]):
            length = part.shape[0]
        elif not isinstance(part, int | np.integer):  # 2-D, another length, a list...
            add_at(target, index, value)
            return
    target[index] = value


@fresh_result
def fresh_copy(value: Any) -> Any:
    """A copy of an adjoint about to be updated in place while another name shares it.
    A numpy number (``s_dot + t_dot`` of 0-d arrays) becomes a 0-d array: an item write
    follows (else as :func:`part_copy`)."""
    return np.array(value) if isinstance(value, np.generic) else part_copy(value)


def moves_item(helper: _F) -> _F:
    """Declare that a helper returns an item of its first argument that the next line
    takes out of it (see :func:`moved_item`): the result shares no object with it."""
    return _declare(helper, "__srcad_moves__", True)


@moves_item
def moved_item(adjoint: Any, index: Any) -> Any:
    """``adjoint[index]``, the adjoint of an item a forward write put into a list (``xs[i]
    = row``), taken out just before that item of ``adjoint`` is replaced by zeros: a
    list's item as it is (the replacement leaves it alone, the list holds it no more);
    an array's row copied (it is a view, which the replacement would write into). The
    copy of the whole adjoint before the replacement is then not needed (see
    :mod:`srcad.aliases`: this call shares no object with ``adjoint``)."""
    item = adjoint[index]
    if adjoint.__class__ is AdjointList or adjoint.__class__ is list:
        return item
    return part_copy(item)


def copied_only(copy: Any, value: Any) -> Any:
    """``value``, the derivative of a call that copies its input (``np.nan_to_num``); a
    call told ``copy=False`` writes into its input, which srcad does not follow."""
    if copy is False:
        from .load import user_line

        raise UnsupportedSyntaxError(
            "`copy=False` makes this call write into its input in place, which srcad's "
            "derivative of it does not follow",
            "leave copy= out (a new array; assign it back if needed: `a = np.nan_to_num(a)`)",
            user_line(2),
        )
    return value


@fresh_result
def part_copy(value: Any) -> Any:
    """A copy of the part of an adjoint that is cleared next (``dx[i]``, a view perhaps,
    of ``dx[i] = 0.0``): an array is copied; a number, numpy's too, is kept as it is
    (it cannot change)."""
    if isinstance(value, np.ndarray) or is_duck_array(value):  # (dask: a new Array object)
        return value.copy()
    if isinstance(value, list):
        return AdjointList(value)
    copied = getattr(value, "copied", None)  # (an AdjointRecord)
    return copied() if copied is not None else value


def list_to_pop(adjoint: Any) -> Any:
    """The adjoint of a list a loop grew, as a list of its own that the backward loop
    pops item by item. An array (the gradient ``np.sum(items)`` gives its list) becomes
    the list of its items: numbers for a list of numbers, rows for a list of lists."""
    if isinstance(adjoint, np.ndarray) and adjoint.ndim > 0:
        return AdjointList(adjoint.tolist() if adjoint.ndim == 1 else list(adjoint))
    return fresh_copy(adjoint)


def zeros_for_items(value: Any) -> Any:
    """The zero gradient of ``value`` that items of it are read from (``s[None]``,
    ``s[..., None]``): as :func:`zeros_like`, but a 0-d array for a numpy number, whose
    items the adjoint of the read adds into."""
    if value.__class__ is np.ndarray or not isinstance(value, np.generic):
        return zeros_like(value)
    return np.zeros((), gradient_dtype(value))


def items_writable(adjoint: Any) -> Any:
    """``adjoint`` as something an item of it can be added into: a number (the adjoint
    of a numpy number, ``s[None]`` read after ``s * 2``) as a new 0-d array."""
    if adjoint.__class__ is np.ndarray or not isinstance(adjoint, float | np.generic):
        return adjoint
    return np.array(adjoint, dtype=gradient_dtype(adjoint))


def gradient_dtype(*values: Any) -> Any:
    """The dtype of a gradient: the inputs' floating type (float32 stays float32), else float64."""
    try:
        dtype = np.result_type(*values)
    except (TypeError, ValueError):  # a list or tuple of numbers (np.mean([a, b, c]))
        dtype = np.result_type(*(np.asarray(v) for v in values))
    return dtype if dtype.kind in "fc" else _FLOAT64  # (np.issubdtype is 10x slower)


def divide_or_zero(numerator: Any, denominator: Any) -> Any:
    """``numerator / denominator``, exactly 0 where the numerator is 0 (a tangent that
    does not move, or the power ``0 ** y`` over its base 0: nothing to divide, where
    the quotient reads ``0 / 0``)."""
    if numerator.__class__ is float or numerator.__class__ is int:
        return 0.0 if numerator == 0 else divide(numerator, denominator)
    if is_duck_array(numerator) or is_duck_array(denominator):  # (dask: lazy, no .any())
        return np.where(numerator == 0, 0.0, numerator / denominator)
    with np.errstate(divide="ignore", invalid="ignore"):
        quotient = np.divide(numerator, denominator)
    return _number_or_array(_zeroed(quotient, np.asarray(numerator) == 0))


def times_or_zero(a: Any, b: Any) -> Any:
    """``a * b``, exactly 0 where either factor is exactly 0 (``0 * inf``, ``0 * nan``: a
    slope or an adjoint of 0 moves nothing; see :mod:`srcad.zero_safe`). Anything but
    numbers and numpy arrays is multiplied as it is."""
    if a.__class__ is float and b.__class__ is float:
        return 0.0 if a == 0 or b == 0 else a * b
    if not (_numeric(a) and _numeric(b)):
        return a * b
    with np.errstate(invalid="ignore", over="ignore"):
        product = np.multiply(a, b)
    zero = (np.asarray(a) == 0) | (np.asarray(b) == 0)
    if not np.count_nonzero(zero):  # (4x faster than .any() on small arrays)
        return product
    result = np.where(zero, 0.0, product)
    return result[()] if result.ndim == 0 else result


def _numeric(value: Any) -> bool:
    return isinstance(value, float | int | np.number) or (
        isinstance(value, np.ndarray) and value.dtype.kind in "iufc"
    )


def _zeroed(value: Any, zero: Any) -> Any:
    """``value`` with exactly 0 where the mask ``zero`` holds (the special points of the
    slopes below, where a formula reads ``0 * inf``, ``0 / 0`` or ``exp(nan)``)."""
    return np.where(zero, 0.0, value) if np.count_nonzero(zero) else value


def _number_or_array(value: Any) -> Any:
    """A 0-d result as a Python float (the slope of a number), else the array."""
    return float(value) if np.ndim(value) == 0 else value


def divide(numerator: Any, denominator: Any) -> Any:
    """``numerator / denominator``, giving inf or nan at a zero denominator as numpy does
    (Python floats would raise where the forward code did not), without numpy's warning
    (a rule's slope where it is infinite; the zero-safe version reads a quotient of 0 as
    0 and checks it: see :mod:`srcad.zero_safe`)."""
    if numerator.__class__ is float and denominator.__class__ is float and denominator:
        return numerator / denominator
    with np.errstate(divide="ignore", invalid="ignore"):
        try:
            return numerator / denominator
        except ZeroDivisionError:
            return np.float64(numerator) / np.float64(denominator)


# ---------------------------------------------------------------- memory (srcad.memory)


def is_view(value: Any, base: Any) -> bool:
    """Whether ``value`` uses ``base``'s memory (a view of it, or ``base`` itself): then
    writing into one changes the other. ``x[i]`` of a 1-D array is a number, not a view;
    ``x.reshape(...)`` is a view unless numpy had to copy."""
    if value is base:
        return True
    if isinstance(value, list | dict) and isinstance(base, list | dict):
        items = base.values() if isinstance(base, dict) else base
        return any(item is value for item in items)  # (a nested dict or list: an item)
    if not isinstance(value, np.ndarray):
        return False
    if isinstance(base, np.ndarray):
        return np.may_share_memory(value, base)
    items = base.values() if isinstance(base, dict) else base
    if isinstance(base, list | dict) and any(item is value for item in items):
        return True  # (the list's or dict's item is written back like an array's)
    if isinstance(base, list | tuple | dict) and any(_overlaps(item, value) for item in items):
        raise _untraceable("a tuple also holds the array written in place")
    return False


def _holds_overlapping(
    container: Any, value: Any, seen: frozenset[int] = frozenset(), by_memory: bool = True
) -> bool:
    """Does ``container`` (a list, tuple or dict, at any depth: a dict of dicts, the
    fields of the objects it holds) hold ``value`` or an array sharing its memory (or,
    ``by_memory`` False, ``value`` itself only)? (``seen``: the containers above it, so
    that objects that refer to each other end.)"""
    seen = seen | {id(container)}
    items = container.values() if isinstance(container, dict) else container
    for item in items:
        inner = item if isinstance(item, list | tuple | dict) else _fields_of(item)
        if inner is None:
            if _overlaps(item, value) if by_memory else item is value:
                return True
        elif item is value or (
            id(inner) not in seen and id(item) not in seen
            and _holds_overlapping(inner, value, seen | {id(item)}, by_memory)
        ):
            return True
    return False


def _fields_of(value: Any) -> dict | None:
    """The fields of an object of a class of the user's (a dataclass, a plain object:
    :func:`srcad.records.record_kind`), by name; None for anything else."""
    if isinstance(value, type) or record_kind(value) not in ("dataclass", "object"):
        return None
    return fields(value)


def holding_paths(container: Any, changed: Any, handled: tuple) -> tuple:
    """Where ``container`` (a dict, list or tuple the function made, an object's fields:
    nested ones too) holds the array ``changed``, which was just written in place: the
    paths of keys to each such item, skipping the top-level keys in ``handled`` (which
    the forward listing restores itself). An item that shares part of its memory (a
    view of it) is refused: srcad cannot follow it."""
    paths: list[tuple] = []
    overlapping = False
    pending: list[tuple[Any, tuple]] = [(container, ())]
    while pending:
        value, path = pending.pop()
        if isinstance(value, dict):
            items: Any = value.items()
        elif isinstance(value, list | tuple):
            items = enumerate(value)
        else:
            continue
        for key, item in items:
            if not path and key in handled:
                continue
            if item is changed:
                paths.append((*path, key))
            elif isinstance(item, dict | list | tuple):
                pending.append((item, (*path, key)))
            elif isinstance(changed, np.ndarray) and _overlaps(item, changed):
                overlapping = True  # (a list changed holds its arrays, whole: not a view)
    if overlapping:
        raise _untraceable(
            "an object's field, or an item of a dict or list, holds part of the array this "
            "line changes (a view of it)",
            "store the array itself, or a copy (`self.head = buf[:2].copy()`), or take the "
            "view again after the write",
        )
    return tuple(paths)


def _replaced(value: Any, path: tuple, item: Any) -> Any:
    """``value`` (a container, or the adjoint or tangent of one) with the item at
    ``path`` replaced by ``item``: new containers along the path, the others shared. A
    zero adjoint (a number: no gradient reached the container) stays as it is."""
    key, rest = path[0], path[1:]
    if isinstance(value, tuple) and not isinstance(value, AdjointList):
        old = value[key]
        return tuple(
            (_replaced(old, rest, item) if rest else item) if k == key else v
            for k, v in enumerate(value)
        )
    if not isinstance(value, dict | list):
        return value
    out = value.__class__(value)
    if rest and isinstance(out, dict) and key not in out:
        return out  # (an adjoint without that key: zero below it)
    out[key] = _replaced(out[key], rest, item) if rest else item
    return out


def with_held(container: Any, paths: tuple, item: Any) -> Any:
    """``container`` holding ``item`` at each of ``paths`` (see :func:`holding_paths`):
    the logical line after an in-place write that tells a container its item changed,
    and that line's tangent."""
    for path in paths:
        container = _replaced(container, path, item)
    return container


def held_sum(g: Any, paths: tuple, item: Any) -> Any:
    """Adjoint of :func:`with_held` for the item: the sum of ``g``'s items at ``paths``
    (zeros shaped like ``item`` where ``g`` has none)."""
    total: Any = None
    for path in paths:
        part = g
        for key in path:  # (a zero adjoint, a number, or a dict without the key: none)
            if not isinstance(part, dict | list | tuple) or (
                isinstance(part, dict) and key not in part
            ):
                part = None
                break
            part = part[key]
        if part is not None:
            total = part if total is None else total + part
    return zeros_like(item) if total is None else total


def _overlaps(item: Any, value: Any) -> bool:
    """Is ``item`` ``value``, or an array sharing memory with the array ``value`` is (or
    with one a list, tuple or dict ``value`` holds)?"""
    if item is value:
        return True
    if not isinstance(item, np.ndarray):
        return False
    if isinstance(value, list | tuple | dict):
        return any(_overlaps(item, v) for v in (value.values() if isinstance(value, dict)
                                                else value))
    return isinstance(value, np.ndarray) and np.may_share_memory(item, value)


def _untraceable(
    what: str,
    hint: str = "write into a copy (`.copy()`), or take the value again after the write",
) -> UnsupportedSyntaxError:
    from .load import user_line

    return UnsupportedSyntaxError(
        f"{what}: srcad cannot follow how the others share its memory", hint, user_line(3)
    )


def alias_of(value: Any, changed: Any) -> bool:
    """Whether ``value`` is the array ``changed`` (which was just written in place), for
    names whose relation is only known at run time (the same array given two names by a
    branch or a loop). A partial overlap (one is a view of the other, taken where srcad
    cannot see how) is refused."""
    if value is changed:
        return True
    for one, other in ((value, changed), (changed, value)):
        if isinstance(one, np.flatiter) and _overlaps(one.base, other):
            raise _untraceable(
                "`.flat` writes into its array in a way srcad does not follow (a flat "
                "iterator, not a view)",
                "write through a view instead (`x.reshape(-1)[k] = v`), or index the "
                "array itself (`x[np.unravel_index(k, x.shape)] = v`)",
            )
    fields = _fields_of(value)
    if fields and _holds_overlapping(  # (an object passed in: p.w[0] = v; a dict changed, an
        fields, changed, by_memory=isinstance(changed, np.ndarray)  # object made here whose
    ):  # field is set, changes no array its fields hold)
        raise _untraceable(
            "a field of an object passed in holds the array this line changes",
            "write into a copy (`w = p.w.copy()`) and use it, or pass the array itself as "
            "a parameter",
        )
    if isinstance(value, list | tuple | dict):
        if _holds_overlapping(value, changed):
            raise _untraceable(
                "another dict, list or tuple also holds what this line changes (an "
                "item `d.get(k)` gave, or one a shallow copy such as dict(p), p.copy(), "
                "L[:] or {k: v for k, v in p.items()} shares)",
                "give the item a new array (`q[k] = q[k] * w` instead of `q[k] *= w`), or "
                "copy the arrays too (`{k: v.copy() for k, v in p.items()}`)",
            )
        return False
    if (
        isinstance(value, np.ndarray)
        and isinstance(changed, np.ndarray)
        and np.may_share_memory(value, changed)
    ):
        raise _untraceable(
            "the array written in place overlaps another variable (a view made in "
            "another branch or loop iteration, a part np.split returned, or a view a "
            "call may return, such as np.einsum('ii->i', a))"
        )
    return False


@passes_argument(0)
def fresh_arguments(written: tuple, others: tuple = ()) -> tuple:
    """Copies of the arguments a function writes into (a tuple, copied together, so
    that two arguments that are one array stay one): the derivative computes at the
    caller's point and leaves the caller's arrays as they were. A written argument
    that shares memory with another argument (``f(X, X)``, ``f(a, a[1:])``, an array
    a dict argument also holds) is refused: srcad differentiates parameters as
    separate arrays, and the write changes both."""
    for value in written:  # (a list whose arrays share memory: kept, and then refused)
        if isinstance(value, list | tuple) and _items_share_memory(value):
            return written
    changed = {id(c) for value in written for c in _containers_in(value)}
    if changed and any(id(c) in changed for value in others for c in _containers_in(value)):
        raise _untraceable(
            "the function writes into an argument in place, and this call passes that "
            "list (or dict) as another argument too",
            "pass a copy as the other argument (`f(xs, list(xs))`), or make the function "
            "write into a copy of its own (`xs = list(xs)`)",
        )
    arrays = [list(_arrays_in(value)) for value in (*written, *others)]
    for k in range(len(written)):
        for mine in arrays[k]:
            for j, theirs in enumerate(arrays):
                if j != k and any(np.may_share_memory(mine, a) for a in theirs):
                    raise _untraceable(
                        "the function writes into an argument in place, and this call "
                        "passes that array (or part of it) as another argument too",
                        "pass a copy as the other argument (`f(X, X.copy())`), or make the "
                        "function write into a copy of its own (`a = a * s`)",
                    )
    return copy.deepcopy(written)


def _containers_in(value: Any) -> Iterator[Any]:
    """The lists and dicts ``value`` is or holds (what a write in place may change)."""
    if isinstance(value, list | dict):
        yield value
    if isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, list | tuple | dict):
                yield from _containers_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            if isinstance(item, list | tuple | dict):
                yield from _containers_in(item)


def _arrays_in(value: Any) -> Iterator[np.ndarray]:
    """The arrays ``value`` is or holds (in lists, tuples and dicts, at any depth)."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _arrays_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arrays_in(item)


def snapshot(value: Any) -> Any:
    """``value`` as it is now, for the backward pass, when a later in-place write would
    change it: arrays are copied, numbers are kept as they are."""
    if isinstance(value, np.ndarray):  # (in its memory layout: ravel(order='K') reads it)
        return value.copy(order="K")
    if is_duck_array(value):  # (dask's x[i] = v changes x)
        return value.copy()
    if isinstance(value, list | tuple):
        items = (snapshot(item) for item in value)
        if hasattr(type(value), "_fields"):  # (a namedtuple: its fields by position)
            return type(value)(*items)
        return type(value)(items)
    if isinstance(value, dict):
        return type(value)((key, snapshot(item)) for key, item in value.items())
    return value


def shape_only(*positions: int) -> Callable[[Callable], Callable]:
    """Declare that a helper reads only the shape (and dtype) of the arguments at
    ``positions``: a later in-place write to them needs no saved copy."""

    def mark(helper: Callable) -> Callable:
        return _declare(helper, "__srcad_shape_args__", frozenset(positions))

    return mark


_declare(zeros_like, "__srcad_shape_args__", frozenset((0,)))


@fresh_result
def assigned_items(g: Any, index: Any) -> Any:
    """The part of ``g`` (the gradient of ``x`` after ``x[index] = v``) that ``v`` gets:
    ``g[index]``, except that where ``index`` repeats a position numpy kept only the
    last write, so the earlier items of ``v`` get zero."""
    part = g[index]
    if isinstance(part, np.ndarray) and part.base is not None:  # a view: cleared next
        part = part.copy()
    if is_duck_array(g):
        _refuse_lazy_index(index, g)
    if not (isinstance(g, np.ndarray) or is_duck_array(g)) or (
        isinstance(index, np.ndarray) and index.dtype == np.bool_
    ) or has_unknown_shape(g):
        return part
    positions = _flat_positions(g, index)
    if positions is None:
        return part
    flat = positions.ravel()
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    repeated = np.zeros(flat.size, dtype=bool)
    repeated[order[:-1]] = ordered[:-1] == ordered[1:]  # a later write to the same place
    if not repeated.any():
        return part
    keep = (~repeated).reshape(positions.shape)
    return part * keep.reshape(keep.shape + (1,) * (part.ndim - keep.ndim))


def _flat_positions(g: np.ndarray, index: Any) -> np.ndarray | None:
    """For each item an integer-array index selects (along the leading axes it spans),
    its flat position; None for indices that cannot repeat (slices, scalars)."""
    parts = index if isinstance(index, tuple) else (index,)
    arrays = [np.asarray(p) for p in parts if isinstance(p, np.ndarray | list)]
    if not arrays or any(a.dtype == np.bool_ for a in arrays):
        return None
    if len(arrays) == len(parts):  # x[i], x[i, j]: integer arrays on the leading axes
        shape = g.shape[: len(parts)]
        broadcast = np.broadcast_arrays(*[np.asarray(p) % n for p, n in zip(parts, shape)])
        return np.ravel_multi_index(tuple(broadcast), shape)
    # mixed with slices: number every element and let numpy select
    return np.arange(g.size).reshape(g.shape)[index]


@passes_argument(1)
def selected_by_any(value: Any, *pairs: Any) -> Any:
    """``value`` where any of several ``np.where`` picked it (``pairs``: condition, side,
    condition, side, ...), exactly 0.0 elsewhere (see :func:`selected`)."""
    keep = None
    for condition, picked in zip(pairs[::2], pairs[1::2]):
        if np.shape(value) != np.shape(condition):
            return value
        side = np.asarray(condition, dtype=bool) if picked else ~np.asarray(condition, dtype=bool)
        keep = side if keep is None else keep | side
    return value if keep is None else np.where(keep, value, 0.0)


def power_slope(x: Any, y: Any, order: int = 1) -> Any:
    """The ``order``-th derivative of ``x ** y`` along ``x``: ``y (y - 1) ... (y - order +
    1) * x ** (y - order)``. Exactly 0 where that coefficient is 0 (an int ``y`` below
    ``order``: ``x ** y`` is a polynomial of lower degree, also at 0, where the formula
    reads ``0 * inf``); inf at 0 for other exponents below ``order``, as numpy gives
    (Python floats would raise)."""
    if y.__class__ is float or y.__class__ is int:  # (an exponent that is a number: first)
        coefficient = y if order == 1 else power_coefficient(y, order)  # (a call less:
        # the float version's case, a loop's count as the exponent)
        if coefficient == 0:
            return 0.0 if np.ndim(x) == 0 else np.zeros(np.shape(x))
        try:
            return coefficient * x ** (y - order)
        except ZeroDivisionError:  # (0.0 ** -0.5: inf, with numpy's warning)
            return coefficient * np.float64(x) ** (y - order)
    coefficient = power_coefficient(y * 1.0, order)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = coefficient * np.power(x * 1.0, y - order)  # (* 1.0: no int ** -1 error)
    return _number_or_array(_zeroed(slope, np.asarray(coefficient) == 0))


def power_slope_of_numbers(x: Any, y: Any, order: int = 1) -> Any:
    """:func:`power_slope` in the version for Python floats, where an infinite slope
    (``0.0 ** -0.5``, only of a power below ``order``) raises ZeroDivisionError as
    Python's power does: that version then runs the array version, which gives inf, or,
    where the gradient holds nan (``abs(x) ** 0.5 * x`` at 0, ``inf * 0``), its zero-safe
    version."""
    if (y.__class__ is float or y.__class__ is int) and (
        x.__class__ is float or x.__class__ is int or x.__class__ is _FLOAT64_SCALAR
    ):  # (a numpy float, which that version takes too, as Python's float it is)
        coefficient = y if order == 1 else power_coefficient(y, order)
        if coefficient == 0:
            return 0.0
        try:
            return coefficient * float(x) ** (y - order)
        except OverflowError:  # (too large for a float, not infinite: numpy's inf)
            return coefficient * np.float64(x) ** (y - order)
    return power_slope(x, y, order)


_declare(power_slope_of_numbers, RAISES_AS_PYTHON, True)


def power_coefficient(y: Any, order: int) -> Any:
    """``y (y - 1) ... (y - order + 1)``: the coefficient of the ``order``-th derivative
    of ``x ** y`` along ``x``."""
    coefficient = y
    for j in range(1, order):
        coefficient = coefficient * (y - j)
    return coefficient


def power_coefficient_slope(y: Any, order: int) -> Any:
    """The derivative of :func:`power_coefficient` along ``y`` (by the product rule)."""
    total: Any = 0.0
    for skipped in range(order):
        term: Any = 1.0
        for j in range(order):
            if j != skipped:
                term = term * (y - j)
        total = total + term
    return total


def power_slope_exponent(x: Any, y: Any, order: int = 1) -> Any:
    """The derivative of :func:`power_slope` along ``y``: the coefficient's derivative
    times ``x ** (y - order)``, plus the slope times ``log(x)`` (0 where ``x`` is 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        power = np.power(x * 1.0, y - order)
    value = power_coefficient_slope(y, order) * power + exponent_slope(
        x, power_slope(x, y, order)
    )
    return _number_or_array(value)


def exponent_slope(x: Any, ans: Any) -> Any:
    """``log(x) * ans``, the derivative of ``ans = x ** y`` along ``y``; exactly 0 where
    ``x`` is 0 (``0 ** y`` is 0 for every ``y > 0``: it does not change with ``y``, where
    the formula reads ``-inf * 0``); nan for a negative base, as numpy's log gives."""
    if x.__class__ is float or x.__class__ is int:
        if x > 0:
            return math.log(x) * ans
        if x == 0:
            return 0.0 * ans
    with np.errstate(divide="ignore"):
        value = np.log(x) * ans
    return _number_or_array(_zeroed(value, np.asarray(x) == 0))


def chosen(mask: Any, g: Any) -> Any:
    """``g`` where ``mask`` holds and exactly 0 elsewhere: the adjoint of a selection
    (``np.maximum``, ``max``, ``np.clip``). Not ``mask * g``: where the other value was
    chosen, an infinite ``g`` (``np.sqrt(np.maximum(v, 0.0))`` at ``v <= 0``) would give
    ``0 * inf``, nan, for a value that does not change with the operand at all."""
    if mask.__class__ is not bool and mask.__class__ is not np.bool_:
        return np.where(mask, g, 0.0)
    if mask:
        return g
    if g.__class__ is float:  # (the common case of Python floats first: np.ndim is slow)
        return 0.0
    return 0.0 if np.ndim(g) == 0 else np.zeros(np.shape(g))


def log_share(x: Any, ans: Any) -> Any:
    """``exp(x - ans)``: the derivative of ``ans = logaddexp(x, y)`` along ``x``, the share
    of ``x`` in the sum; exactly 0 where ``ans`` is -inf (both operands are: nothing to
    share, where the formula reads ``exp(nan)``)."""
    return _share(np.exp, x, ans)


def log2_share(x: Any, ans: Any) -> Any:
    """``exp2(x - ans)``, :func:`log_share` for ``logaddexp2``."""
    return _share(np.exp2, x, ans)


def _share(grow: Any, x: Any, ans: Any) -> Any:
    with np.errstate(invalid="ignore"):
        share = grow(x - ans)
    return _zeroed(share, np.asarray(ans) == -np.inf)


def exponent_tangent(x: Any, ans: Any, t: Any) -> Any:
    """The tangent of ``x ** y`` along ``y``'s tangent ``t``: ``log(x) * ans * t``
    (:func:`exponent_slope`), and exactly 0 where ``t`` is 0 (an exponent that does not
    move: ``(x - 2) ** n`` with an int ``n`` and a negative base has no log, and no
    tangent from ``n`` either)."""
    zero = np.asarray(t) == 0
    if zero.all():
        return 0.0 * ans
    with np.errstate(invalid="ignore"):
        value = exponent_slope(x, ans) * t
    return _number_or_array(_zeroed(value, zero))


def selected(condition: Any, value: Any, picked: bool = True) -> Any:
    """``value`` where ``np.where(condition, ...)`` picked this side, exactly 0.0
    elsewhere: a gradient there is zero even where ``value`` is nan or inf (the local
    derivative of the side not picked, such as ``sqrt`` at 0)."""
    if np.shape(value) != np.shape(condition):  # (summed over since: no longer per item)
        return value
    # (numpy's where picks by truth: a condition of numbers too)
    return np.where(condition, value, 0.0) if picked else np.where(condition, 0.0, value)


def spread_call(function: Callable[..., Any], *arguments: Any, **options: Any) -> Any:
    """``function(*arguments[:-1], *arguments[-1], **options)``: a call the user wrote
    with an array's shape spread as its last arguments (``np.ones(*x.shape)``)."""
    *given, shape = arguments
    return function(*given, *shape, **options)


def spread_draw(function: Callable[..., Any], *arguments: Any, **options: Any) -> Any:
    """:func:`spread_call` of a function that draws random numbers
    (``np.random.randn(*x.shape)``): srcad runs it where it stands, once."""
    return spread_call(function, *arguments, **options)


_declare(spread_draw, "__srcad_draws__", True)


def iterator_positions(
    function: Callable[..., Any], lengths: tuple[int, ...], arguments: tuple[Any, ...],
    options: tuple[tuple[str, Any], ...] = (),
) -> list[Any]:
    """The items ``function`` (``itertools.pairwise``, ``islice``, ``product``...) gives
    when each of the sequences it runs over is replaced by the range of its positions
    (of the ``lengths``; then the other ``arguments`` and the keyword ``options``), listed:
    ``pairwise`` of three items, ``[(0, 1), (1, 2)]``. A loop over ``function(xs, ...)``
    reads the items of ``xs`` at these positions (see :mod:`srcad.lower.iterators`)."""
    ranges = [range(n) for n in lengths]
    return list(function(*ranges, *arguments, **dict(options)))


def array_indices(array: Any) -> list[tuple[int, ...]]:
    """Each index of ``array`` in the order ``np.ndenumerate`` reads them, listed."""
    return list(np.ndindex(np.shape(array)))
