"""The gradient a gradient for arrays falls back to when its result holds nan: the same
code, with every product and quotient of its adjoint arithmetic reading an exact zero as
exact (``0 * inf = 0``, ``0 * nan = 0``, ``0 / 0 = 0``).

Reverse mode multiplies a local slope by an adjoint. Where one of them is exactly 0
because nothing moves (an entry a NaN-ignoring reduction skips, a share of 0 from an
unreachable state, the slope ``2 (x_i - x_i)`` of a self-distance) and the other is
infinite or nan (the slope of a square root at 0, a NaN in the data), the product is
nan, and summing spreads it over the whole gradient, although the function does not
depend on that entry. Forward mode has the same convention already (a tangent of 0
moves nothing: :func:`srcad.runtime.divide_or_zero`).

Checking every product costs a ``np.where`` each, so the gradient runs the plain code
first; only a result holding nan runs this version (made then, once). A genuinely
infinite derivative (``sqrt(x)`` at ``x = 0``) stays infinite: it meets no zero.
"""

from __future__ import annotations

import cmath
import functools
import inspect
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from . import ir, runtime, trees
from .names import NameAllocator, bind
from .runtime import divide_or_zero, times_or_zero


def zero_safe(fn: ir.Function) -> ir.Function:
    """``fn`` with ``a * b`` as ``times_or_zero(a, b)`` and ``a / b`` as
    ``divide_or_zero(a, b)`` in the values of its adjoint statements."""
    bindings = dict(fn.bindings)
    names = NameAllocator(fn.names())
    times = bind(names, bindings, fn.free_objects, "times_or_zero", times_or_zero)
    divide = bind(names, bindings, fn.free_objects, "divide_or_zero", divide_or_zero)
    helper = {"*": times, "/": divide}
    dividing = {name for name, value in bindings.items() if value is runtime.divide}

    def rewrite(expr: ir.Expr) -> ir.Expr:
        if isinstance(expr, ir.BinOp) and expr.op in helper:
            return ir.Call(ir.Name(helper[expr.op]), (expr.left, expr.right))
        if (  # (a rule's `divide(g, 2 * ans)`: a quotient too)
            isinstance(expr, ir.Call) and isinstance(expr.func, ir.Name)
            and expr.func.id in dividing and len(expr.args) == 2
        ):
            return ir.Call(ir.Name(divide), expr.args)
        return expr

    class Adjoints(ir.Transformer):
        def visit_Adjoint(self, stmt: ir.Adjoint | ir.AdjointItem) -> ir.Stmt:
            value = ir.map_expr(stmt.value, rewrite)
            return stmt if value is stmt.value else replace(stmt, value=value)

        visit_AdjointItem = visit_Adjoint

    body = tuple(Adjoints().visit_body(fn.body))
    return fn.with_body(body, bindings=bindings)


def holds_nan(result: Any) -> bool:
    """Whether a gradient's result (numbers, numpy arrays, containers and records of
    them) holds a nan anywhere. (Run on every call of a gradient: a Python float, and
    a list or tuple of them, are tested without numpy; an array, and a tuple of them,
    without walking a tree.)"""
    kind = result.__class__
    if kind is np.ndarray:
        return result.dtype.kind in "fc" and not _no_nan_items(result)
    if kind is tuple and all(v.__class__ is np.ndarray for v in result):
        return not all(_no_nan_items(v) for v in result if v.dtype.kind in "fc")
    numbers = trees.number_leaves(result)
    if numbers is not None:
        return any(v != v for v in numbers)
    return not _every_float(result, _not_nan, _no_nan_items)


def holds_only_finite(value: Any) -> bool:
    """Whether every number and numpy array of floats in ``value`` is finite."""
    return _every_float(value, cmath.isfinite, _finite_items)


def _not_nan(value: Any) -> Any:
    return value == value  # (of a complex number too: either part nan)


def _no_nan_items(array: np.ndarray) -> bool:
    """Whether no item of ``array`` is nan: first the sum of the squares of its items,
    which is nan when an item is (``x * x`` is never nan for a number, nor the sum of
    such squares); ``np.vdot`` computes it in one pass, without a temporary, and raises no
    floating-point warnings (an overflow is just inf). Only a nan there (also of a
    complex inf) looks at each item."""
    if array.dtype.char in _BLAS_KINDS:
        total = np.vdot(array, array)
        if total == total:
            return True
    return bool(np.all(array == array))


#: the dtypes ``np.vdot`` computes with BLAS (float32, float64, complex64, complex128)
_BLAS_KINDS = "fdFD"


def _finite_items(array: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(array)))


def _every_float(
    value: Any, number_passes: Callable[[Any], Any], array_passes: Callable[[Any], bool]
) -> bool:
    """Whether every float (or complex) number and array item in ``value`` passes
    (``number_passes`` of a number, ``array_passes`` of an array as a whole)."""
    for leaf in trees.leaves(value):
        if isinstance(leaf, float | complex | np.floating | np.complexfloating):
            if not number_passes(leaf):
                return False
        elif isinstance(leaf, np.ndarray) and leaf.dtype.kind in "fc":
            if not array_passes(leaf):
                return False
    return True


def retried_where_nan(
    gradient: Callable[..., Any],
    careful: Callable[[], Callable[..., Any] | None],
    value_of: Callable[..., Any],
    agrees: Callable[..., bool] | None = None,
) -> Callable[..., Any]:
    """``gradient``, run again by the function ``careful()`` gives (made at the first
    need, once; None: there is none, and nothing runs again) when its result holds nan
    and the function's value there, ``value_of`` the same arguments and the result, is
    finite (where it is not, the derivative is
    not a number either: ``log(x * x)`` at 0). ``agrees(args, kwargs, value, plain,
    safe)``:
    whether the zero-safe result may stand (see :func:`differences_agree`); where it may
    not, the plain result, nan, is the answer."""
    made: list[Callable[..., Any] | None] = []

    @functools.wraps(gradient)
    def retried(*args: Any, **kwargs: Any) -> Any:
        result = gradient(*args, **kwargs)
        if not holds_nan(result):
            return result
        if not made:
            made.append(careful())
        if made[0] is None:  # (first: the value may be the function's, run again)
            return result
        value = value_of(result, args, kwargs)
        if not holds_only_finite(value):
            return result
        safe = made[0](*args, **kwargs)
        return safe if agrees is None or agrees(args, kwargs, value, result, safe) else result

    # (the generated function's parameters: srcad reads them to pass its arguments on)
    retried.__signature__ = inspect.signature(gradient, follow_wrapped=False)  # type: ignore[attr-defined]
    return retried


#: the relative step of the central differences that check a zero-safe gradient
_STEP = 1e-6


def differences_agree(
    f: Callable[..., Any],
    at: list[int | str],
    args: tuple,
    kwargs: dict[str, Any],
    value: Any,
    plain: tuple,
    safe: tuple,
) -> bool:
    """Whether the zero-safe gradient ``safe`` (one entry per differentiated parameter,
    found at ``at``: a position in ``args`` or a name in ``kwargs``) agrees with central
    differences of ``f`` along one direction through the places where the ``plain``
    gradient is nan. ``value``: ``f``'s value at ``args`` (with ``has_aux``, first of a
    pair).

    ``0 * inf = 0`` is right where the zero is structural (``x_i - x_i`` of a
    self-distance: nothing moves, whatever the direction) and wrong where it is a point
    value whose neighbourhood moves (``sqrt(x^2 + y^2)`` at the origin of a polar round
    trip, whose derivative is a rotation's, not 0). The two look alike at the point;
    two evaluations of ``f`` tell them apart (one, on the side where ``f`` is defined,
    at a boundary of its domain; with none, the plain nan stands). Ints and other
    leaves that are not floats are not moved."""
    rng = np.random.default_rng(0)
    values = [args[w] if isinstance(w, int) else kwargs.get(w) for w in at]
    direction, along = [], 0.0
    for given, p, s in zip(values, plain, safe, strict=True):
        leaves, p_leaves, s_leaves = trees.leaves(given), trees.leaves(p), trees.leaves(s)
        if not len(leaves) == len(p_leaves) == len(s_leaves):
            return True
        steps: list[Any] = []
        for x, g_plain, g_safe in zip(leaves, p_leaves, s_leaves):
            if not isinstance(x, float | np.floating | np.ndarray) or (
                isinstance(x, np.ndarray) and x.dtype.kind != "f"
            ):
                steps.append(None)  # (an int, a string: not moved)
                continue
            if np.shape(x) != np.shape(g_plain):
                return True
            step = np.where(np.isnan(g_plain), rng.normal(size=np.shape(x)), 0.0)
            along += float(np.sum(np.asarray(g_safe) * step))
            steps.append(step)
        direction.append(steps)
    sizes = [  # (of the leaves it moves)
        float(np.max(np.abs(x), initial=0.0))
        for steps, v in zip(direction, values) for x, step in zip(trees.leaves(v), steps)
        if step is not None
    ]
    scale = max([1.0, *sizes])
    h = _STEP * scale

    def moved(sign: float) -> float:
        new_args, new_kwargs = list(trees.fresh(args)), dict(trees.fresh(kwargs))
        for w, given, steps in zip(at, values, direction):
            shifted = trees.rebuild(given, [
                x if step is None else x + sign * h * (float(step) if np.ndim(step) == 0 else step)
                for x, step in zip(trees.leaves(given), steps)
            ])
            if isinstance(w, int):
                new_args[w] = shifted
            else:
                new_kwargs[w] = shifted
        return _scalar(f(*new_args, **new_kwargs))

    here = _scalar(value)
    differences = _differences(moved, here, h)
    if differences is None:
        return False  # (no difference to check by: nan, the plain answer)
    size = float(np.sqrt(sum(
        np.sum(np.square(t)) for steps in direction for t in steps if t is not None
    )))

    def agrees(slope: Any) -> bool:
        tolerance = 1e-4 * (abs(slope) + abs(along)) + 1e-7 * (1 + abs(here)) * (1 + size)
        return bool(abs(slope - along) <= tolerance)

    if agrees(differences):
        return True
    # (beside a root's infinite slope, x * sqrt(|x|) at 0, central differences err by
    # O(sqrt(h)) too: extrapolated to h = 0 from h / 10 and h / 100, they reach the zero-
    # safe slope; a slope that is wrong, a rotation's, stays where it is at every h)
    finer = [_or_none(moved, side * shrink) for shrink in (0.1, 0.01) for side in (1.0, -1.0)]
    if any(value is None for value in finer):
        return False
    tenth, hundredth = ((finer[k] - finer[k + 1]) / (2 * h * shrink)
                        for k, shrink in ((0, 0.1), (2, 0.01)))
    return agrees(_aitken(differences, tenth, hundredth))


def tangents_agree(
    f: Callable[..., Any], args: tuple, kwargs: dict[str, Any], value: Any, plain: Any,
    safe: Any,
) -> bool:
    """:func:`differences_agree` for a tangent function (``args``: the primals and the
    tangents, as tuples; ``safe``: its zero-safe ``(value, tangent)``): the tangent
    against central differences of ``f`` along the tangents themselves (one side at a
    boundary of ``f``'s domain; with neither, the plain nan stands)."""
    if len(args) != 2 or kwargs:
        return True
    primals, tangents = args
    if len(primals) != len(tangents):
        return True
    moves: list[list[Any]] = []
    for p, t in zip(primals, tangents, strict=True):
        p_leaves = trees.leaves(p)
        t_leaves = trees.leaves(t) if t is not None else [None] * len(p_leaves)
        if len(p_leaves) != len(t_leaves):
            return True
        moves.append([
            step if isinstance(x, float | np.floating | np.ndarray)
            and np.asarray(x).dtype.kind == "f" and step is not None and np.any(step)
            else None
            for x, step in zip(p_leaves, t_leaves, strict=True)
        ])
    sizes = [
        float(np.max(np.abs(x), initial=0.0))
        for p, steps in zip(primals, moves) for x, step in zip(trees.leaves(p), steps)
        if step is not None
    ]
    if not sizes:
        return True
    h = _STEP * max([1.0, *sizes])

    def moved(sign: float) -> Any:
        shifted = [
            trees.rebuild(p, [
                x if step is None else x + sign * h * np.asarray(step, dtype=float)
                for x, step in zip(trees.leaves(p), steps)
            ])
            for p, steps in zip(trees.fresh(primals), moves)
        ]
        return np.asarray(f(*shifted), dtype=float)

    here = np.asarray(value, dtype=float)
    differences = _differences(moved, here, h)
    if differences is None:
        return False
    along = np.asarray(safe[1], dtype=float)
    if np.shape(along) != np.shape(differences):
        return True
    scale = 1e-7 * (1 + float(np.max(np.abs(here), initial=0.0))) * (1 + max(sizes))
    tolerance = 1e-4 * (np.abs(differences) + np.abs(along)) + scale
    return bool(np.all(np.abs(differences - along) <= tolerance))


def _differences(moved: Callable[[float], Any], here: Any, h: float) -> Any:
    """The derivative along a direction by differences of ``moved`` (the function's value
    a step ``h`` of the direction either way, ``here`` the value at the point): central,
    or one-sided at a boundary of the function's domain (the side where it is defined);
    None where neither side has a value."""
    plus, minus = _or_none(moved, 1.0), _or_none(moved, -1.0)
    if plus is not None and minus is not None:
        return (plus - minus) / (2 * h)
    if plus is not None:
        return _one_sided(moved, here, h, 1.0, plus)
    if minus is not None:
        return _one_sided(moved, here, h, -1.0, minus)
    return None


def _one_sided(moved: Callable[[float], Any], here: Any, h: float, side: float, first: Any) -> Any:
    """The slope from one side (``first``: the value a step ``h`` that way), from steps
    ``h``, ``h / 10`` and ``h / 100`` extrapolated to 0 by Aitken's process: a one-sided
    difference errs by O(h), and by O(sqrt(h)) beside a root's infinite slope at the
    boundary (``x * sqrt(x)`` at 0: ``sqrt(h)``, which no tolerance would pass)."""
    quotients = [side * (first - here) / h]
    for shrink in (0.1, 0.01):
        value = _or_none(moved, side * shrink)
        if value is None:
            return quotients[0]
        quotients.append(side * (value - here) / (h * shrink))
    return _aitken(*quotients)


def _aitken(d1: Any, d2: Any, d3: Any) -> Any:
    """The limit of the slopes ``d1, d2, d3`` from steps shrinking tenfold, by Aitken's
    process (exact for an error shrinking geometrically: O(h), O(sqrt(h))); ``d3`` where
    they do not bend."""
    d1, d2, d3 = (np.asarray(d, dtype=float) for d in (d1, d2, d3))
    step, last = d2 - d1, d3 - d2
    bend = last - step
    with np.errstate(divide="ignore", invalid="ignore"):
        limit = d3 - last * last / bend
    return np.where((bend != 0) & np.isfinite(limit), limit, d3)


def _or_none(moved: Callable[[float], Any], sign: float) -> Any:
    """``moved(sign)``, or None where ``f`` raises there (outside its domain: a check
    of its own, ``assert v >= 0``) or gives no finite numbers."""
    try:
        with np.errstate(all="ignore"):  # (a point the user did not ask about)
            result = moved(sign)
    except Exception:  # noqa: BLE001 (whatever the function raises: no value there)
        return None
    return result if np.all(np.isfinite(result)) else None


def _scalar(value: Any) -> float:
    """A function's value as a float (the value of a ``(value, aux)`` pair)."""
    return float(np.asarray(value[0] if isinstance(value, tuple) else value))
