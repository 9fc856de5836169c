"""Pickling gradients by how they were made: ``grad(loss, wrt=1)`` is pickled as
"``srcad.grad`` of ``mymodule.loss`` with ``wrt=1``", and unpickling derives it again
(from the cache, when the process already has it). So ``multiprocessing.Pool.map``,
``concurrent.futures`` and joblib can send gradients to other processes.

pickle saves a function by its module and qualified name; a gradient srcad returns
names this module and a key that spells out how to make it again, which this module's
``__getattr__`` answers. As with any function, ``f`` itself must be importable by its
module and name (defined at the top level of a module, or of the main script)."""

from __future__ import annotations

import base64
import functools
import importlib
import itertools
import json
import types
import weakref
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

_MARK = "__srcad"  # keys read <transform>_of_<name>__srcad<n>$<how, base64-encoded>
_made: weakref.WeakValueDictionary[str, Callable[..., Any]] = weakref.WeakValueDictionary()
_counter = itertools.count(1)


P = ParamSpec("P")
R = TypeVar("R")

#: the transforms by name (``"grad"`` -> ``srcad.grad``), as :func:`re_derivable` made
#: them: what an unpickled derivative is made again with (srcad's API registers them
#: when it is imported, which unpickling does first, so this module imports none of it)
_TRANSFORMS: dict[str, Callable[..., Any]] = {}


def re_derivable(transform: Callable[P, R]) -> Callable[P, R]:
    """``transform`` (``srcad.grad``, ``hessian``, ...) whose results pickle as the
    call that made them, when the function they were made of is a plain function."""

    @functools.wraps(transform)
    def made(*args: P.args, **options: P.kwargs) -> R:
        f, rest = (args[0], args[1:]) if args else (options.pop("f", None), ())
        result = transform(f, *rest, **options)  # type: ignore[arg-type]
        if rest or f is None or not callable(result):
            return result
        if isinstance(f, types.FunctionType) and isinstance(result, types.FunctionType):
            if _plain(options):
                key = _key(transform.__name__, f, options)
                result.__module__ = __name__
                result.__qualname__ = key
                _made[key] = result
            return result
        # a bound method, a partial, an object with __call__: pickled with f itself
        return Derivative(result, (transform.__name__, f, options))  # type: ignore[return-value]

    _TRANSFORMS[transform.__name__] = made
    return made


class Derivative(functools.partial):
    """The derivative of a callable that is not a plain function (a bound method, a
    ``functools.partial``, an object with ``__call__``): it calls the generated
    function, and pickles as the call that made it, with the callable pickled by
    value as pickle pickles it (a bound method as its object and the method's name)."""

    srcad_how: tuple[str, Any, dict]  # (the transform, the callable, the options)

    def __new__(cls, generated: Callable[..., Any], how: tuple[str, Any, dict]) -> Derivative:
        self = super().__new__(cls, generated)
        for name in ("forward_source", "backward_source", "tangent_source", "compiled_source",
                     "__srcad__", "__doc__", "__wrapped__", "srcad_latest"):
            if hasattr(generated, name):
                setattr(self, name, getattr(generated, name))
        self.srcad_how = how
        return self

    def __reduce__(self) -> tuple:
        transform, f, options = self.srcad_how
        return _derive, (transform, f, options)


def _derive(transform: str, f: Any, options: dict[str, Any]) -> Any:
    """``srcad.<transform>(f, **options)``: a pickled :class:`Derivative`, made again."""
    return _TRANSFORMS[transform](f, **options)


def _plain(options: dict[str, Any]) -> bool:
    """Whether JSON keeps ``options`` as they are (tuples come back as lists, which the
    transforms read the same way)."""
    try:
        json.dumps(options)
    except TypeError:
        return False
    return True


def _key(transform: str, f: types.FunctionType, options: dict[str, Any]) -> str:
    """A name for the result, unique in this process, that says how to make it again
    (pickle looks it up in this module; it holds no ``.``, which pickle would follow)."""
    spec = json.dumps([transform, f.__module__, f.__qualname__, options])
    encoded = base64.urlsafe_b64encode(spec.encode()).decode().rstrip("=")
    return f"{transform}_of_{f.__name__}{_MARK}{next(_counter)}${encoded}"


def __getattr__(key: str) -> Callable[..., Any]:
    """The function named ``key``: the one this process made, else made again."""
    if _MARK not in key or "$" not in key:
        raise AttributeError(f"module {__name__!r} has no attribute {key!r}")
    encoded = key.rpartition("$")[2]
    transform, module, qualname, options = json.loads(
        base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    )
    f = _importable(module, qualname)
    made = _made.get(key)
    if made is not None:  # pickling here: check that the other process can import f
        return made
    options = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
    return _TRANSFORMS[transform](f, **options)


def _importable(module: str, qualname: str) -> Any:
    """``module.qualname``, or an error saying why another process cannot find it."""
    try:
        found: Any = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):  # (pickle reports it as a PicklingError)
        raise AttributeError(
            f"cannot pickle the derivative of {qualname}: pickle finds a function by its "
            f"module and name, and {module}.{qualname} cannot be imported; define the "
            "function at the top level of a module, or make the derivative in the other "
            "process"
        ) from None
    return found
