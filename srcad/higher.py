"""Forward mode and higher order: ``jvp``, ``jacobian``, ``hessian``, ``hvp``.

``jvp`` generates tangent source from the forward listing (see :mod:`srcad.forward`).
``jacobian`` assembles columns from it; ``hessian`` is the jacobian of the generated
gradient (forward mode over reverse mode: the gradient's own source is differentiated),
and ``hvp`` one such column for a given direction.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .api import Wrt, build, grad


def jvp(f: Callable, *, optimize: bool = True) -> Any:
    """``jvp(f)((x, y), (tx, ty))`` is ``(f(x, y), J @ (tx, ty))``, from generated source.

    The callable has ``.forward_source`` (the listing) and ``.tangent_source`` (the
    generated tangent function, which it is).
    """
    built = build(f, None, "jvp", optimize)
    fn = _with_defaults(built.bind(f if not hasattr(f, "__srcad__") else None), f)
    fn.forward_source = built.forward_source
    fn.tangent_source = built.compiled.source
    fn.__wrapped__ = f
    fn.__srcad__ = built
    return fn


def _with_defaults(tangent_fn: Callable, f: Callable) -> Callable:
    """``tangent_fn`` called with fewer primals than ``f`` has positional parameters:
    the rest take ``f``'s defaults, with zero tangents (as calling ``f`` would)."""
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        return tangent_fn
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not any(p.default is not p.empty for p in positional):
        return tangent_fn

    def tangent_with_defaults(primals: Any, tangents: Any, *args: Any, **kwargs: Any) -> Any:
        primals, tangents = tuple(primals), tuple(tangents)
        missing = [p.default for p in positional[len(primals):]]
        if missing and all(value is not inspect.Parameter.empty for value in missing):
            primals += tuple(missing)
            tangents += tuple(_zero_tangent(value) for value in missing)
        return tangent_fn(primals, tangents, *args, **kwargs)

    return tangent_with_defaults


def _zero_tangent(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return np.zeros(value.shape, dtype=np.result_type(value, np.float64))
    return 0.0


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, tuple | list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _rebuild(template: Any, leaves: list[Any]) -> Any:
    if isinstance(template, tuple | list):
        return tuple(_rebuild(item, leaves) for item in template)
    return leaves.pop(0)


def jacobian(f: Callable, *, wrt: Wrt = None) -> Callable[..., Any]:
    """The Jacobian of ``f`` (scalars, arrays, or a tuple of them) with respect to ``wrt``.

    Built column by column with forward mode. For one output and one ``wrt`` parameter
    the result has shape ``output.shape + parameter.shape``; several parameters give a
    tuple over parameters, a tuple output a tuple over outputs (outermost).
    """
    tangent_fn = jvp(f)
    names = list(inspect.signature(f).parameters)

    def jacobian_at(*args: Any) -> Any:
        wrt_names = _wrt_names(names, wrt)
        rows = _rows_by_reverse_mode(f, args, names, wrt_names)
        if rows is not None:
            return rows
        zeros = [_zero_tangent(a) for a in args]
        columns: dict[str, list[Any]] = {}
        value = None
        for name in wrt_names:
            index = names.index(name)
            shape = np.shape(args[index])
            columns[name] = []
            for position in np.ndindex(*shape) if shape else [()]:
                tangents = list(zeros)
                basis = np.zeros(shape) if shape else 1.0
                if shape:
                    basis[position] = 1.0
                tangents[index] = basis
                value, tangent = tangent_fn(tuple(args), tuple(tangents))
                columns[name].append(tangent)
        outputs = _leaves(value)
        result = []
        for k, out in enumerate(outputs):
            per_param = []
            for name in wrt_names:
                shape = np.shape(args[names.index(name)])
                stacked = np.array([_leaves(col)[k] for col in columns[name]], dtype=float)
                block = (
                    np.moveaxis(
                        stacked.reshape(shape + np.shape(out)),
                        range(len(shape)),
                        range(-len(shape), 0),
                    )
                    if shape
                    else stacked.reshape(np.shape(out))
                )
                per_param.append(float(block) if np.ndim(block) == 0 else block)
            result.append(per_param[0] if len(per_param) == 1 else tuple(per_param))
        return _rebuild(value, result)

    jacobian_at.__wrapped__ = f
    return jacobian_at


def _rows_by_reverse_mode(f: Callable, args: tuple, names: list[str], wrt_names: list[str]) -> Any:
    """The Jacobian a row at a time (one vector-Jacobian product per output element),
    when the output is one array smaller than the inputs; else None (use columns)."""
    inputs = sum(int(np.size(args[names.index(n)])) for n in wrt_names)
    try:
        output = f(*args)
    except Exception:  # noqa: BLE001 - the column path reports errors in context
        return None
    if isinstance(output, tuple | list) or np.size(output) >= inputs or np.ndim(output) == 0:
        return None
    try:
        built = build(f, tuple(wrt_names), "vjp", True)
    except Exception:  # noqa: BLE001 - e.g. a result that is not one name: use columns
        return None
    vjp_fn = built.bind(f if not hasattr(f, "__srcad__") else None)
    shape = np.shape(output)
    blocks: list[list[Any]] = [[] for _ in wrt_names]
    for position in np.ndindex(*shape):
        seed = np.zeros(shape)
        seed[position] = 1.0
        row = vjp_fn(*args, seed)
        row = (row,) if len(wrt_names) == 1 else row
        for block, part in zip(blocks, row):
            block.append(np.asarray(part, dtype=float))
    result = [np.array(block).reshape(shape + np.shape(block[0])) for block in blocks]
    return result[0] if len(result) == 1 else tuple(result)


def _wrt_names(names: list[str], wrt: Wrt) -> list[str]:
    if wrt is None:
        return names
    items = (wrt,) if isinstance(wrt, int | str) else tuple(wrt)
    return [names[i] if isinstance(i, int) else i for i in items]


def hessian(f: Callable, *, wrt: Wrt = None) -> Callable[..., Any]:
    """The Hessian of scalar ``f``: a 2-D array when the ``wrt`` parameters are scalars,
    else a tuple (by parameter) of tuples (by parameter) of arrays."""
    gradient = grad(f, wrt=wrt)
    wrt_names = gradient.__srcad__.wrt
    second = jacobian(gradient, wrt=wrt_names)

    def hessian_at(*args: Any) -> Any:
        blocks = second(*args)
        if len(wrt_names) == 1:
            return blocks
        if all(np.ndim(b) == 0 for row in blocks for b in row):
            return np.array([[float(b) for b in row] for row in blocks])
        return blocks

    hessian_at.__wrapped__ = f
    return hessian_at


def hvp(f: Callable, *, wrt: Wrt = None) -> Callable[..., Any]:
    """``hvp(f)(*args, v)``: the Hessian of ``f`` times ``v`` (one vector per ``wrt``
    parameter, a tuple for several), by forward mode over the generated gradient."""
    gradient = grad(f, wrt=wrt)
    wrt_names = gradient.__srcad__.wrt
    tangent_fn = jvp(gradient)
    names = list(inspect.signature(f).parameters)

    def hvp_at(*args: Any) -> Any:
        *primals, v = args
        directions = (v,) if len(wrt_names) == 1 else tuple(v)
        tangents = [_zero_tangent(a) for a in primals]
        for name, direction in zip(wrt_names, directions):
            tangents[names.index(name)] = direction
        _, product = tangent_fn(tuple(primals), tuple(tangents))
        return product

    hvp_at.__wrapped__ = f
    return hvp_at
