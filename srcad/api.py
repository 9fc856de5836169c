"""The user-facing API: ``grad``, ``value_and_grad``, ``check_grad``, ``show``."""

from __future__ import annotations

import inspect
import os
import sys
import threading
import types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .errors import Location, WrtError
from .frontend import FunctionSource, read_function
from .pipeline import Gradient, differentiate
from .rules import TABLE
from .subset import check_supported

Wrt = int | str | Sequence[int | str] | None


_cache: dict[tuple, Gradient] = {}
_cache_lock = threading.RLock()
_CACHE_LIMIT = 1024


def _call_site() -> Location:
    """The user's line that called into srcad (for errors about the function itself)."""
    frame = sys._getframe(1)
    package = os.path.dirname(__file__)
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == package:
        frame = frame.f_back
    if frame is None:  # pragma: no cover
        return Location("<unknown>", 0, 0)
    return Location(frame.f_code.co_filename, frame.f_lineno, 0)


def _parameters(source: FunctionSource) -> tuple[list[str], list[str]]:
    args = source.node.args
    return [a.arg for a in (*args.posonlyargs, *args.args)], [a.arg for a in args.kwonlyargs]


def _resolve_wrt(source: FunctionSource, wrt: Wrt) -> tuple[str, ...]:
    positional, kwonly = _parameters(source)
    where = Location(source.filename, source.node.lineno, source.node.col_offset)
    if wrt is None:
        if not positional:
            raise WrtError(
                f"{source.name} has no positional parameters to differentiate",
                "pass wrt=('name', ...) naming the parameters",
                where,
            )
        return tuple(positional)
    items = (wrt,) if isinstance(wrt, int | str) else tuple(wrt)
    if not items:
        raise WrtError("wrt is empty", "name at least one parameter", where)
    names: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise WrtError(
                f"wrt entries must be parameter names or positions, not {item!r}",
                f"use names from {positional + kwonly}",
                where,
            )
        if isinstance(item, int):
            if not -len(positional) <= item < len(positional):
                raise WrtError(
                    f"wrt={item} is out of range: {source.name} has "
                    f"{len(positional)} positional parameters",
                    f"use 0..{len(positional) - 1} or names",
                    where,
                )
            item = positional[item]
        elif item not in positional + kwonly:
            raise WrtError(
                f"{source.name} has no parameter named {item!r}",
                f"use one of {positional + kwonly}",
                where,
            )
        if item in names:
            raise WrtError(f"wrt names {item!r} twice", "name each parameter once", where)
        names.append(item)
    return tuple(names)


def _cache_key(f: Callable, wrt: Wrt, mode: str, optimize: bool) -> tuple | None:
    """What a compiled gradient depends on: the code, its module, the callables its
    closure holds (they decide what is inlined or matched as a rule) and the options.
    Numbers and arrays in globals and closures are read live, so they are not part of it."""
    built = getattr(f, "__srcad__", None)
    code = built.compiled.code if built is not None else getattr(f, "__code__", None)
    if code is None:
        return None
    closure_callables = tuple(
        id(c.cell_contents) for c in (getattr(f, "__closure__", None) or ()) if _cell_is_callable(c)
    )
    wrt_key = wrt if wrt is None or isinstance(wrt, int | str) else tuple(wrt)
    return (
        code,
        id(getattr(f, "__globals__", None)),
        closure_callables,
        wrt_key,
        mode,
        optimize,
        TABLE.version,
    )


def _cell_is_callable(cell: types.CellType) -> bool:
    try:
        value = cell.cell_contents
    except ValueError:
        return False
    return callable(value) or isinstance(value, types.ModuleType)


def build(f: Callable, wrt: Wrt, mode: str, optimize: bool) -> Gradient:
    """Run the pipeline for ``f`` (or reuse the cached result)."""
    key = _cache_key(f, wrt, mode, optimize)
    with _cache_lock:
        cached = _cache.get(key) if key is not None else None
        if (
            cached is not None
            and cached.is_current()
            and cached.user_function.__globals__ is getattr(f, "__globals__", None)
        ):
            return cached
        source = read_function(f, used_at=_call_site())
        check_supported(source)  # what cannot be read is reported before wrt is looked at
        result = differentiate(source, _resolve_wrt(source, wrt), mode, optimize)
        if key is not None:
            if len(_cache) >= _CACHE_LIMIT:
                _cache.pop(next(iter(_cache)))
            _cache[key] = result
        return result


def _callable(built: Gradient, f: Callable, doc: str) -> types.FunctionType:
    fn = built.bind(f)
    fn.forward_source = built.forward_source
    fn.backward_source = built.backward_source
    fn.__wrapped__ = f
    fn.__srcad__ = built
    fn.__doc__ = doc
    return fn


def grad(f: Callable | None = None, *, wrt: Wrt = None, optimize: bool = True) -> Any:
    """The gradient of scalar-valued ``f`` as generated Python source, compiled.

    Use as ``@grad`` or ``grad(f, wrt=(0, 2))`` / ``grad(f, wrt=("x", "z"))``. The
    result takes ``f``'s arguments and returns the gradient with respect to each
    ``wrt`` parameter (all positional ones by default): a tuple when there are
    several, the bare value when there is one. ``optimize=False`` keeps the literal,
    seed-style listing.
    """
    if f is None:
        return lambda function: grad(function, wrt=wrt, optimize=optimize)
    built = build(f, wrt, "grad", optimize)
    return _callable(
        built,
        f,
        f"Gradient of {getattr(f, '__qualname__', f)!s} "
        f"with respect to {', '.join(built.wrt)} (generated by srcad).",
    )


def value_and_grad(f: Callable | None = None, *, wrt: Wrt = None, optimize: bool = True) -> Any:
    """Like :func:`grad`, but the callable returns ``(value, gradient)``."""
    if f is None:
        return lambda function: value_and_grad(function, wrt=wrt, optimize=optimize)
    built = build(f, wrt, "value_and_grad", optimize)
    return _callable(
        built, f, f"Value and gradient of {getattr(f, '__qualname__', f)!s} (generated by srcad)."
    )


def _original(f: Callable) -> Callable:
    built = getattr(f, "__srcad__", None)
    return f.__wrapped__ if built is not None and hasattr(f, "__wrapped__") else f


def show(f: Callable, *, wrt: Wrt = None, optimize: bool = True, file: Any = None) -> None:
    """Print the forward listing and the generated backward source of ``f``."""
    g = f if hasattr(f, "backward_source") else grad(f, wrt=wrt, optimize=optimize)
    print("# forward listing", file=file)
    print(g.forward_source, file=file)
    print("# generated gradient", file=file)
    print(g.backward_source, file=file)


def numeric_grad(f: Callable, args: Sequence[Any], index: int, eps: float = 1e-6) -> Any:
    """Central-difference derivative of ``f`` with respect to positional argument ``index``
    (a number, an array, or a list, tuple or dict of those: the same structure back)."""

    def value_with(new: Any) -> float:
        call_args = list(args)
        call_args[index] = new
        return float(f(*call_args))

    return _central(args[index], value_with, eps)


def _central(value: Any, value_with: Callable[[Any], float], eps: float) -> Any:
    if isinstance(value, np.ndarray):
        out = np.zeros(value.shape, dtype=np.float64)
        flat = value.astype(np.float64).ravel()
        for i in range(flat.size):
            shifted = []
            for delta in (eps, -eps):
                bumped = flat.copy()
                bumped[i] += delta
                shifted.append(value_with(bumped.reshape(value.shape)))
            out.ravel()[i] = (shifted[0] - shifted[1]) / (2 * eps)
        return out
    if isinstance(value, list | tuple):

        def item_with(k: int) -> Callable[[Any], float]:
            def with_item(new: Any) -> float:
                items = list(value)
                items[k] = new
                return value_with(type(value)(items))

            return with_item

        return type(value)(_central(item, item_with(k), eps) for k, item in enumerate(value))
    if isinstance(value, dict):

        def entry_with(key: Any) -> Callable[[Any], float]:
            return lambda new: value_with({**value, key: new})

        return {key: _central(item, entry_with(key), eps) for key, item in value.items()}
    return (value_with(value + eps) - value_with(value - eps)) / (2 * eps)


def _flat(value: Any, like: Any) -> np.ndarray:
    """The numbers of a gradient, in the order of the argument ``like``'s structure."""
    if isinstance(like, dict):
        parts = [_flat(value[key], item) for key, item in like.items()]
    elif isinstance(like, list | tuple):
        parts = [_flat(v, item) for v, item in zip(value, like)]
    else:
        return np.asarray(value, dtype=float).ravel()
    return np.concatenate(parts) if parts else np.zeros(0)


def check_grad(
    f: Callable,
    *args: Any,
    wrt: Wrt = None,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
) -> float:
    """Compare srcad's gradient of ``f`` at ``args`` with central differences.

    Checks the ``wrt`` parameters; by default every parameter whose argument is not an
    int or a bool (those are counts and flags). Arguments may be numbers, arrays, or
    lists, tuples and dicts of them.

    Returns the largest absolute difference; raises ``AssertionError`` with a table
    (one row per parameter) when some entry differs by more than ``atol + rtol*|numeric|``.
    """
    original = _original(f)
    if wrt is None:  # the parameters given numbers, not ints or bools (counts, flags)
        wrt = tuple(
            k for k, a in enumerate(args) if not isinstance(a, int | np.integer | bool)
        )
    gradient = grad(original, wrt=wrt)
    built: Gradient = gradient.__srcad__
    srcad_values = gradient(*args)
    if len(built.wrt) == 1:
        srcad_values = (srcad_values,)
    positional = list(inspect.signature(original).parameters)
    rows, worst, failed = [], 0.0, False
    for name, ours in zip(built.wrt, srcad_values):
        argument = args[positional.index(name)]
        theirs = numeric_grad(original, args, positional.index(name), eps)
        ours_arr, theirs_arr = _flat(ours, argument), _flat(theirs, argument)
        error = float(np.max(np.abs(ours_arr - theirs_arr))) if ours_arr.size else 0.0
        bad = not np.all(np.abs(ours_arr - theirs_arr) <= atol + rtol * np.abs(theirs_arr))
        worst, failed = max(worst, error), failed or bad
        rows.append((name, ours, theirs, error, "FAIL" if bad else "ok"))
    if failed:
        lines = [
            f"gradient of {original.__qualname__} differs from central differences "
            f"(eps={eps}, rtol={rtol}, atol={atol}):",
            f"{'param':>10}  {'srcad':>22}  {'numeric':>22}  {'abs error':>10}",
        ]
        for name, ours, theirs, error, status in rows:
            lines.append(
                f"{name:>10}  {_fmt(ours):>22}  {_fmt(theirs):>22}  {error:>10.3g}  {status}"
            )
        raise AssertionError("\n".join(lines))
    return worst


def _fmt(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array{value.shape}"
    if isinstance(value, list | tuple | dict):
        return f"{type(value).__name__} of {len(value)}"
    return f"{float(value):.12g}"
