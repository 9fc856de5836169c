"""The user-facing API: ``grad``, ``value_and_grad``, ``vjp`` and ``show``. A
gradient of a gradient goes to :mod:`srcad.higher`; everything else is built by
:mod:`srcad.building`."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from . import trees
from .building import (
    Wrt,
    _pair,
    build,
    gradient_function,
    unbind,
    underlying_arguments,
    user_facing,
    writes_in_place,
    wrt_convention,
)
from .errors import Location
from .export import module_source
from .higher import gradient_of_gradient, read_through
from .pickling import re_derivable
from .pipeline import refuse_unreal


@user_facing
@re_derivable
def grad(
    f: Callable | None = None,
    *,
    wrt: Wrt = None,
    argnums: Wrt = None,
    has_aux: bool = False,
    optimize: bool = True,
    backend: str | None = None,
) -> Any:
    """The gradient of scalar-valued ``f`` as generated Python source, compiled.

    Use as ``@grad`` or ``grad(f, wrt=(0, 2))`` / ``grad(f, wrt=("x", "z"))``. The
    result takes ``f``'s arguments and returns the gradient with respect to each
    ``wrt`` parameter (the first parameter by default, as in JAX): a tuple when there
    are several, the bare value when there is one. ``argnums=`` is JAX's spelling (a
    tuple of one gives a tuple of one). ``has_aux=True``: ``f`` returns
    ``(value, aux)`` and the result is ``(gradient, aux)``. ``optimize=False`` keeps
    the literal, seed-style listing. ``backend="numba"`` compiles the gradient with
    numba (the default when ``f`` is a ``numba.njit`` function; see docs/numba.md).
    """
    if f is None:
        return lambda function: grad(
            function, wrt=wrt, argnums=argnums, has_aux=has_aux, optimize=optimize,
            backend=backend,
        )
    return _derivative(f, wrt, argnums, has_aux, optimize, value=False, backend=backend)


@user_facing
@re_derivable
def value_and_grad(
    f: Callable | None = None,
    *,
    wrt: Wrt = None,
    argnums: Wrt = None,
    has_aux: bool = False,
    optimize: bool = True,
    backend: str | None = None,
) -> Any:
    """Like :func:`grad`, but the callable returns ``(value, gradient)`` (with
    ``has_aux=True``, ``((value, aux), gradient)``, as in JAX)."""
    if f is None:
        return lambda function: value_and_grad(
            function, wrt=wrt, argnums=argnums, has_aux=has_aux, optimize=optimize,
            backend=backend,
        )
    return _derivative(f, wrt, argnums, has_aux, optimize, value=True, backend=backend)


def _derivative(
    f: Callable,
    wrt: Wrt,
    argnums: Wrt,
    has_aux: bool,
    optimize: bool,
    *,
    value: bool,
    backend: str | None = None,
) -> Any:
    """:func:`grad` (``value``: :func:`value_and_grad`) of ``f``: of a gradient, by
    :mod:`srcad.higher`; of anything else, the generated function."""
    wrt, as_tuple = wrt_convention(wrt, argnums)
    if read_through(f) is not None and not has_aux:
        return gradient_of_gradient(f, wrt, as_tuple, value=value)
    return gradient_function(
        f, wrt, as_tuple=as_tuple, has_aux=has_aux, optimize=optimize, value=value,
        backend=backend,
    )


@user_facing
def vjp(f: Callable, *primals: Any, has_aux: bool = False, optimize: bool = True) -> tuple:
    """JAX's ``vjp``: ``(f(*primals), vjp_fn)``, where ``vjp_fn(cotangent)`` is the
    tuple of ``cotangent @ J`` for each primal, from generated reverse-mode source.

    ``f`` returns a number, an array or a tuple of them (the cotangent is then a tuple
    like it); ``(value, aux)`` with ``has_aux=True``, and the result is then ``(value,
    vjp_fn, aux)``. Each call of ``vjp_fn`` runs the
    generated function, which computes ``f``'s forward pass again.
    """
    built = build(f, tuple(range(len(primals))), "vjp", optimize, aux=has_aux)
    refuse_unreal(primals, Location(built.forward.source_file, built.forward.source_line))
    function = unbind(f).function
    pullback = built.bind(function if not hasattr(function, "__srcad__") else None)
    args, kwargs = underlying_arguments(f, primals, {})
    copies = writes_in_place(built)
    out = f(*trees.fresh(primals, copies))
    if has_aux:
        out, extra = _pair(out, f)

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        if _shapes(cotangent) != _shapes(out):  # (as JAX: no broadcasting here)
            raise ValueError(
                f"the cotangent has shape {_shapes(cotangent)}, but {_name_of(f)} returned "
                f"shape {_shapes(out)}: vjp_fn takes a cotangent of the result's shape"
            )
        call_args, call_kwargs = trees.fresh((args, kwargs), copies)
        cotangents = trees.unshared(pullback(*call_args, cotangent, **call_kwargs), (cotangent,))
        return cotangents if len(built.wrt) > 1 else (cotangents,)

    vjp_fn.backward_source = built.source_so_far()  # type: ignore[attr-defined]
    return (out, vjp_fn, extra) if has_aux else (out, vjp_fn)


def _shapes(value: Any) -> Any:
    """The shape of a result, or of each item of a tuple of results."""
    if isinstance(value, tuple):
        return tuple(_shapes(item) for item in value)
    return np.shape(value)


def _name_of(f: Callable) -> str:
    return str(getattr(f, "__qualname__", f))


def original_function(f: Callable) -> Callable:
    built = getattr(f, "__srcad__", None)
    return f.__wrapped__ if built is not None and hasattr(f, "__wrapped__") else f


def show(
    f: Callable, *, wrt: Wrt = None, optimize: bool = True, verbose: bool = False,
    file: Any = None,
) -> None:
    """Print the forward listing and the generated gradient of ``f``: the function the
    user calls, without bookkeeping lines (``verbose=True``: every version, every line,
    as ``backward_source`` has them)."""
    g = f if hasattr(f, "backward_source") else grad(f, wrt=wrt, optimize=optimize)
    built = getattr(g, "__srcad__", None)
    print("# forward listing", file=file)
    print(g.forward_source, file=file)  # type: ignore[union-attr]  # (a gradient srcad made)
    print("# generated gradient", file=file)
    print(built.listing(verbose) if built is not None else g.backward_source, file=file)


def export(
    f: Callable,
    path: str | os.PathLike | None = None,
    *,
    wrt: Any = None,
    optimize: bool = True,
    module: str | None = None,
) -> str:
    """Write the gradient of ``f`` as a standalone Python module; return its source.

    ``f`` is a function (differentiated with ``srcad.grad(f, wrt=wrt, optimize=optimize)``)
    or a gradient ``srcad.grad`` already made. ``path`` is the file to write (``None``:
    only return the text). ``module`` is the name under which the exported file can
    import ``f``'s module when a value must be imported rather than copied (default:
    ``f.__module__``). The module defines the generated ``<name>_grad`` function (and,
    when srcad made one, its ``<name>_grad_arrays`` fallback) and needs numpy, not srcad.
    """
    gradient = f if hasattr(f, "__srcad__") else grad(f, wrt=wrt, optimize=optimize)
    return module_source(gradient, path, module)
