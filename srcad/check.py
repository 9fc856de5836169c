"""Checking srcad's gradients against finite differences: ``check_grad`` and
``numeric_grad``.

Every step is relative to the value it changes (``eps * max(1, |x|)``), so a check at
``x = 1e10`` is as accurate as one at ``x = 1``. ``check_grad`` compares entry by entry
(two calls of ``f`` per number), or, with ``directions=k``, ``k`` random directional
derivatives against the products of srcad's gradient (reverse mode) and of its
tangent function (forward mode) with the same directions: two calls of ``f`` each,
whatever the size of the arrays.
"""

from __future__ import annotations

import functools
import inspect
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from . import records, trees
from .api import grad, original_function
from .building import Wrt, _call_site, call_arguments, unbind, user_facing, writes_in_place
from .duck import is_duck_array
from .errors import SrcadError
from .frontend import source_signature
from .higher import jvp

#: ``check_grad`` shows its progress on stderr from this many calls of ``f`` on.
PROGRESS_FROM = 2000


class _Progress:
    """A one-line counter of the calls of ``f`` on stderr (when there are many)."""

    def __init__(self, total: int, label: str, show: bool | None, stream: TextIO | None) -> None:
        self.total, self.label, self.done = total, label, 0
        self.stream = stream or sys.stderr
        self.show = total >= PROGRESS_FROM if show is None else show
        self.shown_at = 0.0

    def step(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.show and (now - self.shown_at > 0.25 or self.done == self.total):
            self.shown_at = now
            end = "\n" if self.done == self.total else ""
            print(f"\r{self.label}: {self.done}/{self.total} calls", end=end, file=self.stream)
            self.stream.flush()


@dataclass
class _Point:
    """``f``'s arguments, by parameter name, and a way to call ``f`` with some changed
    (on fresh copies of them all when ``f`` writes into its arguments: ``copies``)."""

    f: Callable[..., Any]
    bound: inspect.BoundArguments
    copies: bool = False

    def value_with(self, name: str, new: Any) -> float:
        return self.value_with_all({name: new})

    def value_with_all(self, changes: dict[str, Any]) -> float:
        arguments = trees.fresh({**self.bound.arguments, **changes}, self.copies)
        call = inspect.BoundArguments(self.bound.signature, arguments)
        return float(self.f(*call.args, **call.kwargs))


def _step(x: Any, eps: float) -> Any:
    """The step for ``x``: ``eps`` relative to its size, at least ``eps``."""
    return eps * np.maximum(1.0, np.abs(x))


def _central(value: Any, value_with: Callable[[Any], float], eps: float, tick: Callable) -> Any:
    """Central differences of ``value_with`` at ``value`` (a number, an array, or a
    list, tuple or dict of those): the same structure back."""
    if isinstance(value, np.ndarray):
        out = np.zeros(value.shape, dtype=np.float64)
        flat = value.astype(np.float64).ravel()
        for i in range(flat.size):
            h = _step(flat[i], eps)
            values = []
            for shifted in (flat[i] + h, flat[i] - h):
                bumped = flat.copy()
                bumped[i] = shifted
                values.append(value_with(bumped.reshape(value.shape)))
                tick()
            out.ravel()[i] = (values[0] - values[1]) / ((flat[i] + h) - (flat[i] - h))
        return out
    if records.is_record(value):  # a namedtuple, dataclass or object: field by field

        def field_with(key: str) -> Callable[[Any], float]:
            return lambda new: value_with(records.replaced(value, {key: new}))

        return records.replaced(
            value,
            {
                key: _central(item, field_with(key), eps, tick)
                for key, item in trees.differentiable(value).items()
            },
        )
    if isinstance(value, list | tuple):

        def item_with(k: int) -> Callable[[Any], float]:
            def with_item(new: Any) -> float:
                items = list(value)
                items[k] = new
                return value_with(type(value)(items))

            return with_item

        return type(value)(
            _central(item, item_with(k), eps, tick) for k, item in enumerate(value)
        )
    if isinstance(value, dict):

        def entry_with(key: Any) -> Callable[[Any], float]:
            return lambda new: value_with({**value, key: new})

        return {key: _central(item, entry_with(key), eps, tick) for key, item in value.items()}
    h = float(_step(value, eps))
    plus, minus = value + h, value - h
    try:
        up, down = value_with(plus), value_with(minus)
    except (TypeError, IndexError):
        if type(value) is int:  # (an int in a list of rows is an index: `x[i]`)
            return 0.0
        raise
    tick()
    tick()
    return (up - down) / (plus - minus)


def numeric_grad(
    f: Callable,
    args: Sequence[Any],
    index: int | str,
    eps: float = 1e-6,
    kwargs: dict[str, Any] | None = None,
) -> Any:
    """Central-difference derivative of ``f`` at ``args`` (and ``kwargs``) with respect
    to positional argument ``index``, or the keyword argument it names (a number, an
    array, or a list, tuple or dict of those: the same structure back). The step is
    ``eps * max(1, |x|)`` for each number ``x``; each call of ``f`` gets fresh copies of
    the arguments."""
    bound = source_signature(f).bind(*args, **(kwargs or {}))
    name = index if isinstance(index, str) else list(bound.arguments)[index]
    point = _Point(f, bound, copies=True)  # (f may write into its arguments)
    return _central(bound.arguments[name], lambda new: point.value_with(name, new), eps, _no_op)


def _no_op() -> None:
    pass


def float_parameters(bound: inspect.BoundArguments) -> tuple[str, ...]:
    """The parameters given floats: not ints, bools or integer arrays (counts, flags,
    indices, labels), nor anything else that is not a number."""
    return tuple(
        name
        for name, value in bound.arguments.items()
        if trees.leaves(value)
        and not all(trees.is_integer(leaf) for leaf in trees.leaves(value))
        and all(_is_number(leaf) for leaf in trees.leaves(value))
    )


def _refuse_lazy_arrays(bound: inspect.BoundArguments) -> None:
    """A clear error for dask arrays (central differences move one entry at a time)."""
    for name, value in bound.arguments.items():
        for leaf in filter(is_duck_array, trees.leaves(value)):
            kind = f"{type(leaf).__module__.split('.')[0]} {type(leaf).__name__}"
            raise SrcadError(
                f"check_grad needs numpy arrays, but `{name}` is a {kind}: central "
                "differences call the function twice per entry",
                "check on small numpy inputs (`x.compute()`); the gradient of the dask "
                "arrays equals the numpy one",
                _call_site(),  # (the user's line)
            )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | complex | np.number | np.ndarray)


@user_facing
def check_grad(
    f: Callable,
    *args: Any,
    wrt: Wrt = None,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    directions: int | None = None,
    seed: int = 0,
    progress: bool | None = None,
    **kwargs: Any,
) -> float:
    """Compare srcad's gradient of ``f`` at ``args`` and ``kwargs`` with central
    differences (step ``eps * max(1, |x|)``).

    Checks the ``wrt`` parameters (names or positions; keyword-only ones by name); by
    default every parameter given a float or a float array, not ints, bools or integer
    arrays (counts, flags, labels). Arguments may be numbers, arrays, or lists, tuples
    and dicts of them. ``check_grad``'s own options (``wrt``, ``eps``, ``rtol``,
    ``atol``, ``directions``, ``seed``, ``progress``) are not passed on to ``f``.

    ``directions=k`` checks ``k`` random directions (seeded by ``seed``) instead of
    every entry: for large arrays. Progress is shown on stderr when the check makes
    many calls of ``f`` (``progress=True``/``False`` to force it).

    Returns the largest absolute difference; raises ``AssertionError`` with a table
    (one row per parameter or direction) when a value differs by more than
    ``atol + rtol * |numeric|``.
    """
    original = original_function(f)
    bound = source_signature(original).bind(*args, **kwargs)
    _refuse_lazy_arrays(bound)
    asked = wrt
    if asked is None:  # (not what a partial fixes, even given again: grad's default too)
        fixed = unbind(original).keywords
        asked = tuple(n for n in float_parameters(bound) if n not in fixed)
    gradient = grad(original, wrt=asked)
    if hasattr(gradient, "built_for"):  # (built for the classes of the arguments)
        gradient = gradient.built_for(*args, **kwargs)
    names = gradient.__srcad__.wrt
    missing = [name for name in names if name not in bound.arguments]
    if missing:
        raise TypeError(f"check_grad needs a value for {', '.join(missing)}: pass it to f")
    copies = writes_in_place(gradient.__srcad__)
    values = gradient(*trees.fresh(args, copies), **trees.fresh(kwargs, copies))
    ours = dict(zip(names, values if len(names) > 1 else (values,)))
    point = _Point(original, bound, copies)
    if directions is None:
        rows = _by_entry(point, ours, eps, rtol, atol, progress)
        header = f"{'param':>10}  {'srcad':>22}  {'numeric':>22}  {'abs error':>10}"
    else:
        rows = _by_direction(point, ours, directions, seed, eps, rtol, atol, progress)
        header = f"{'direction':>10}  {'srcad (vjp, jvp)':>22}  {'numeric':>22}  {'abs error':>10}"
    worst = max((row.error for row in rows), default=0.0)
    if any(row.failed for row in rows):
        lines = [
            f"gradient of {_label(original)} differs from central differences "
            f"(eps={eps}, rtol={rtol}, atol={atol}):",
            header,
            *(row.line() for row in rows),
        ]
        raise AssertionError("\n".join(lines))
    return worst


@dataclass
class _Row:
    label: str
    ours: str
    theirs: str
    error: float
    failed: bool

    def line(self) -> str:
        status = "FAIL" if self.failed else "ok"
        return (
            f"{self.label:>10}  {self.ours:>22}  {self.theirs:>22}  {self.error:>10.3g}  {status}"
        )


def _compare(ours: np.ndarray, theirs: np.ndarray, rtol: float, atol: float) -> tuple[float, bool]:
    """(largest absolute difference, whether some entry is out of tolerance)."""
    if not ours.size:
        return 0.0, False
    difference = np.abs(ours - theirs)
    bad = not np.all(difference <= atol + rtol * np.abs(theirs))  # NaN counts as bad
    return float(np.max(difference)), bad


def _by_entry(
    point: _Point, ours: dict[str, Any], eps: float, rtol: float, atol: float, show: bool | None
) -> list[_Row]:
    """One row per parameter: every entry of srcad's gradient against central differences."""
    sizes = sum(trees.flat(point.bound.arguments[name]).size for name in ours)
    progress = _Progress(2 * sizes, f"check_grad({_label(point.f)})", show, None)
    rows = []
    for name, gradient in ours.items():
        argument = point.bound.arguments[name]
        theirs = _central(argument, functools.partial(point.value_with, name), eps, progress.step)
        error, bad = compare(gradient, theirs, argument, rtol, atol)
        rows.append(_Row(name, _fmt(gradient), _fmt(theirs), error, bad))
    return rows


def compare(ours: Any, theirs: Any, like: Any, rtol: float, atol: float) -> tuple[float, bool]:
    """(largest absolute difference, whether some entry is out of tolerance) of a
    gradient and its numeric twin, both of the structure of the argument ``like``."""
    return _compare(_flat_like(ours, like), _flat_like(theirs, like), rtol, atol)


def _flat_like(value: Any, like: Any) -> np.ndarray:
    """The numbers of a gradient, in the order of the argument ``like``'s structure
    (a dict gradient may list its keys in another order)."""
    if records.is_record(like):
        parts = [
            _flat_like(getattr(value, key), item)
            for key, item in trees.differentiable(like).items()
        ]
    elif isinstance(like, dict):
        parts = [_flat_like(value[key], item) for key, item in like.items()]
    elif isinstance(like, list | tuple):
        parts = [_flat_like(v, item) for v, item in zip(value, like)]
    else:
        return np.asarray(value, dtype=float).ravel()
    return np.concatenate(parts) if parts else np.zeros(0)


def _by_direction(
    point: _Point,
    ours: dict[str, Any],
    directions: int,
    seed: int,
    eps: float,
    rtol: float,
    atol: float,
    show: bool | None,
) -> list[_Row]:
    """One row per random direction ``u`` (normal entries, scaled by ``max(1, |x|)``):
    ``(f(x + eps u) - f(x - eps u)) / 2 eps`` against ``gradient . u`` and against the
    forward-mode tangent along ``u``."""
    rng = np.random.default_rng(seed)
    tangent_along = _tangent_function(point, ours)
    progress = _Progress(2 * directions, f"check_grad({_label(point.f)})", show, None)
    rows = []
    for k in range(directions):
        u = {
            name: trees.map_leaves(
                lambda x: rng.standard_normal(np.shape(x)) * np.maximum(1.0, np.abs(x)),
                point.bound.arguments[name],
            )
            for name in ours
        }
        values = []
        for sign in (1.0, -1.0):
            moved = {
                name: trees.map_leaves(
                    lambda x, d, sign=sign: x + sign * eps * d, point.bound.arguments[name], d
                )
                for name, d in u.items()
            }
            values.append(point.value_with_all(moved))
            progress.step()
        numeric = (values[0] - values[1]) / (2 * eps)
        reverse = sum(
            float(np.dot(_flat_like(ours[name], point.bound.arguments[name]), trees.flat(d)))
            for name, d in u.items()
        )
        products = [reverse] + ([tangent_along(u)] if tangent_along else [])
        checked = [_compare(np.array([p]), np.array([numeric]), rtol, atol) for p in products]
        error = max(e for e, _ in checked)
        text = ", ".join(f"{p:.9g}" for p in products)
        rows.append(_Row(f"#{k}", text, f"{numeric:.12g}", error, any(b for _, b in checked)))
    return rows


def _tangent_function(point: _Point, ours: dict[str, Any]) -> Callable[[dict], float] | None:
    """``u -> the tangent of f along u`` by srcad's forward mode, or None when forward
    mode cannot differentiate ``f`` (then only the reverse-mode product is checked)."""

    try:
        tangent_fn = jvp(point.f)
    except SrcadError:
        return None
    positional, keywords = call_arguments(point.f, point.bound.args, point.bound.kwargs)
    order = [p for p in source_signature(point.f).parameters if p not in keywords]
    primals = (*positional, *keywords.values())
    names = [*order, *keywords]

    def along(u: dict[str, Any]) -> float:
        tangents = tuple(
            u[name] if name in u else trees.map_leaves(trees.zero_tangent, value)
            for name, value in zip(names, primals)
        )
        return float(tangent_fn(trees.fresh(primals, point.copies), tangents)[1])

    return along


def _label(f: Any) -> str:
    """``f``'s name for messages (a partial or a callable object has no ``__qualname__``)."""
    inner = getattr(f, "func", None) if not hasattr(f, "__qualname__") else f
    return getattr(inner, "__qualname__", None) or type(f).__name__


def _fmt(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array{value.shape}"
    if records.is_record(value):
        return f"{type(value).__name__} of {len(trees.differentiable(value))}"
    if isinstance(value, list | tuple | dict):
        return f"{type(value).__name__} of {len(value)}"
    return f"{float(value):.12g}"
