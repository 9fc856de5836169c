"""Forward mode and higher order: ``jvp``, ``jacobian``, ``hessian``, ``hvp``.

``jvp`` generates tangent source from the forward listing (see :mod:`srcad.forward`).
``jacobian`` assembles columns from it (or rows from generated vector-Jacobian products
when the output is smaller than the inputs); ``hessian`` is the jacobian of the
generated gradient (forward mode over reverse mode: the gradient's own source is
differentiated), and ``hvp`` one such column for a given direction.

Like ``grad``, they take ``f``'s keyword arguments, parameters that are numbers,
arrays, or dicts, lists and tuples of them, and ``wrt=`` (default: the first
parameter) or JAX's ``argnums=``.
"""

from __future__ import annotations

import inspect
import itertools
import linecache
import os
import random
import re
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import numpy as np

from . import ir, records, trees
from .building import (
    Callee,
    Wrt,
    _call_site,
    build,
    call_arguments,
    following_helpers,
    gradient_function,
    made_for_classes,
    needs_classes,
    signature_of,
    tangents_retried_where_nan,
    unbind,
    underlying_arguments,
    user_facing,
    writes_in_place,
    wrt_convention,
    wrt_names,
)
from .errors import Location, NonScalarOutputError, SrcadError, UnsupportedSyntaxError
from .frontend import mark_derivative, source_signature
from .load import defined, origin
from .pickling import re_derivable
from .pipeline import Gradient, draws, unrolled_hessian_of
from .rules import TABLE
from .runtime import AdjointList, structured_like
from .unrolled import Unsupported


class _Call:
    """One call's arguments: every parameter's value by name, in the order the
    generated tangent function takes them (positional ones, then keyword-only ones).

    ``copies``: ``f`` writes into its arguments, so each of the calls made for one
    Jacobian or Hessian gets fresh copies of them."""

    def __init__(
        self, f: Callable, args: Sequence[Any], kwargs: dict[str, Any], copies: bool = False
    ) -> None:
        self.positional, self.keywords = call_arguments(f, args, kwargs)
        names = [n for n in signature_of(f)[0].parameters if n not in self.keywords]
        values = [*self.positional, *self.keywords.values()]
        self.values = dict(zip([*names, *self.keywords], values))
        self.copies = copies

    def primals(self) -> tuple[Any, ...]:
        return trees.fresh(tuple(self.values.values()), self.copies)

    def arguments(self) -> tuple[list[Any], dict[str, Any]]:
        """``(positional, keyword-only)`` arguments for a call of ``f``."""
        return trees.fresh((self.positional, self.keywords), self.copies)

    def tangents(self, given: dict[str, Any]) -> tuple[Any, ...]:
        """``given`` tangents by name, zeros for the other parameters."""
        return tuple(
            trees.tangent_for(value, given[name]) if name in given else _zero_tangent(value)
            for name, value in self.values.items()
        )


def _zero_tangent(value: Any) -> Any:
    """The zero tangent of a parameter's value: 0.0 for a number, else zeros of its
    structure (new each time: generated code may write into it in place)."""
    if value.__class__ is float or value.__class__ is int:
        return 0.0
    return trees.map_leaves(trees.zero_tangent, value)


def _takes_positions(f: Callable, copies: bool) -> bool:
    """Whether ``f`` is a plain function whose parameters all take positions and which
    writes into none of its arguments: a call with every argument by position can pass
    its tangents to the generated product by position (:func:`_by_position`), with no
    :class:`_Call` to match names."""
    return not copies and not unbind(f).fixes and all(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        for p in source_signature(f).parameters.values()
    )


def _by_position(primals: Sequence[Any], slots: list[int], directions: Sequence[Any]) -> Any:
    """The tangents of ``primals``: ``directions`` at ``slots``, zeros elsewhere."""
    if len(slots) == len(primals) and slots == sorted(slots):  # (every one: the directions)
        return directions
    tangents = [_zero_tangent(p) for p in primals]
    for slot, direction in zip(slots, directions):
        tangents[slot] = direction
    return tangents


class _TangentFunction(Protocol):
    """A generated tangent function (see :func:`jvp`), with what it carries."""

    __srcad__: Any  # its build
    forward_source: str
    tangent_source: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


_F = TypeVar("_F", bound=Callable[..., Any])


def _carrying(fn: _F, **attributes: Any) -> _F:
    """``fn`` with ``attributes`` set on it: what the functions srcad makes carry
    (``__wrapped__``, ``__srcad__``, their sources)."""
    for name, value in attributes.items():
        setattr(fn, name, value)
    return fn


def _tangent_function(
    f: Callable, optimize: bool, names: tuple[str, ...] | None = None
) -> _TangentFunction:
    """The generated tangent function of ``f`` (see :func:`jvp`), made again when a
    helper it inlined is redefined. It takes a tangent for every parameter, but only
    those of ``names`` (default: all) are differentiated: the others are constants, as
    JAX's symbolic zeros are (``x ** p`` of a negative ``x`` then has no ``log(x)`` term
    for ``p``, which would be nan times zero)."""
    made = _made_tangent_function(f, optimize, names)
    if not hasattr(made, "__srcad__"):  # (made for the classes of its primals: each is)
        return made  # type: ignore[return-value]
    return following_helpers(made, lambda: _made_tangent_function(f, optimize, names))


def _made_tangent_function(
    f: Callable, optimize: bool, names: tuple[str, ...] | None = None
) -> Callable[..., Any]:
    if read_through(f) is not None:
        return _tangent_of_gradient(f)
    try:
        return _built_tangent_function(f, optimize, names)
    except SrcadError as error:
        code = getattr(unbind(f).function, "__code__", None)
        if code is None or not needs_classes(error, code.co_filename):
            raise
        unknown_classes = error
    return _by_primal_classes(
        f,
        unknown_classes,
        lambda examples: following_helpers(
            _built_tangent_function(f, optimize, names, examples),
            lambda: _built_tangent_function(f, optimize, names, examples),
        ),
    )


def _by_primal_classes(
    f: Callable,
    unknown_classes: SrcadError,
    make: Callable[[Mapping[str, Any]], Callable[..., Any]],
) -> Callable[..., Any]:
    """The tangent function of ``f`` built on its first call with objects of new classes
    among the primals (as :func:`srcad.building.by_argument_classes` does for gradients:
    srcad reads their methods), one per tuple of classes. ``unknown_classes``: the
    refusal of one build for all classes, which the transforms that need one raise
    (:func:`_one_tangent_function`)."""
    names = _parameter_order(f)
    defaults = {  # (def loss(x, act=np.tanh) called with x alone: the default's function)
        p.name: p.default for p in source_signature(f).parameters.values()
        if p.default is not p.empty
    }
    built: dict[tuple, Callable[..., Any]] = {}

    def tangent_by_classes(primals: Any, tangents: Any, *args: Any, **kwargs: Any) -> Any:
        made = made_for_classes(built, make, {**defaults, **dict(zip(names, primals))})
        return made(primals, tangents, *args, **kwargs)

    return _carrying(tangent_by_classes, __wrapped__=f, unknown_classes=unknown_classes)


def _one_tangent_function(f: Callable, names: tuple[str, ...] | None) -> _TangentFunction:
    """:func:`_tangent_function` of ``f``, one build for all calls (Hessians, their
    products and Jacobians read its source); the refusal of that build when ``f``'s
    objects' classes are known only from a call's arguments (annotate them)."""
    tangent_fn = _tangent_function(f, True, names)
    unknown_classes = getattr(tangent_fn, "unknown_classes", None)
    if unknown_classes is not None:
        raise unknown_classes
    return tangent_fn


def _built_tangent_function(
    f: Callable,
    optimize: bool,
    names: tuple[str, ...] | None,
    examples: Mapping[str, Any] | None = None,
) -> Callable[..., Any]:
    built = build(f, names, "jvp", optimize, examples=examples)
    callee = unbind(f)
    function = callee.function
    user_function = function if not hasattr(function, "__srcad__") else None
    fn: Callable[..., Any] = tangents_retried_where_nan(
        built.bind(user_function), built, user_function
    )
    if callee.fixes:
        fn = _with_fixed_tangents(fn, f, callee, built)
    fn = _with_defaults(_with_filled_tangents(fn), f)
    return _carrying(
        fn,
        forward_source=built.forward_source,
        tangent_source=built.compiled.source,
        __wrapped__=f,
        __srcad__=built,
    )


def _with_fixed_tangents(tangent_fn: Callable, f: Callable, callee: Callee, built: Any) -> Callable:
    """``tangent_fn`` (of every parameter of the function srcad read) taking the primals
    and tangents of ``f``'s own parameters: the arguments ``f`` fixes (``self`` of a
    bound method, a partial's) are put in, with zero tangents."""
    names = _parameter_order(f)
    under = [*built.forward.params, *built.forward.kwonly]
    positional = list(built.forward.params)
    fixed = {**dict(zip(positional, callee.args)), **callee.keywords}

    def tangent_with_fixed(primals: Any, tangents: Any) -> Any:
        given = dict(zip(names, primals))
        dots = dict(zip(names, tangents))
        return tangent_fn(
            tuple(given[n] if n in given else fixed[n] for n in under),
            tuple(
                dots[n] if n in dots else trees.map_leaves(trees.zero_tangent, fixed[n])
                for n in under
            ),
        )

    return tangent_with_fixed


def _with_filled_tangents(tangent_fn: Callable) -> Callable:
    """``tangent_fn`` taking None for a tangent that moves nothing, at the top or inside
    a list, tuple or dict, as ``jvp(f, primals, tangents)`` does (None reached the
    generated code: ``t1 * None``); a tangent whose structure is not its primal's is a
    TypeError that says so (it was an IndexError from the generated code)."""

    def tangent_or_zero(primals: Any, tangents: Any, *args: Any, **kwargs: Any) -> Any:
        if not (isinstance(primals, tuple | list) and isinstance(tangents, tuple | list)):
            raise TypeError(  # (an array given for primals was read item by item)
                "jvp(f)(primals, tangents) takes a tuple of primals, one per parameter, "
                f"and one of tangents (as JAX does), not {_kind(primals)}"
            )
        if len(tangents) != len(primals):
            raise TypeError(
                f"jvp takes one tangent per primal: {len(primals)} primals, "
                f"{len(tangents)} tangents"
            )
        tangents = tuple(
            _filled(value, t, f"the tangent of primal {k}")
            for k, (value, t) in enumerate(zip(primals, tangents))
        )
        return tangent_fn(primals, tangents, *args, **kwargs)

    return tangent_or_zero


def _kind(value: Any) -> str:
    """``a float``, ``an ndarray of shape (3,)``, ``a list of 2 items``."""
    name = type(value).__name__
    article = "an" if name[:1] in "aeiou" or name == "ndarray" else "a"
    if isinstance(value, list | tuple | dict):
        return f"{article} {name} of {len(value)} items"
    shape = np.shape(value)
    return f"{article} {name} of shape {shape}" if shape else f"{article} {name}"


def _filled(primal: Any, tangent: Any, where: str) -> Any:
    """``tangent`` with zeros of ``primal``'s structure for each None in it."""
    if tangent is None:
        return trees.tangent_for(primal, None)
    container = isinstance(primal, list | tuple | dict)
    if (container and isinstance(tangent, int | float | complex | np.generic)) or (
        # (a list's tangent may be an array of its items: as srcad always took it)
        not container
        and isinstance(primal, np.ndarray | float | int)
        and (isinstance(tangent, list | tuple | dict) or np.shape(tangent) != np.shape(primal))
    ):
        raise TypeError(
            f"{where} is {_kind(tangent)} where its primal is {_kind(primal)}: jvp takes "
            "tangents of the primals' structure (as JAX does)"
        )
    if isinstance(primal, list | tuple) and isinstance(tangent, list | tuple):
        if len(primal) != len(tangent):
            raise TypeError(
                f"{where} has {len(tangent)} items where its primal has {len(primal)}: "
                "jvp takes tangents of the primals' structure"
            )
        if not any(t is None or isinstance(t, list | tuple | dict) for t in tangent):
            return tangent
        items = [
            _filled(p, t, f"{where}, item {k}") for k, (p, t) in enumerate(zip(primal, tangent))
        ]
        return type(tangent)(*items) if hasattr(tangent, "_fields") else type(tangent)(items)
    if isinstance(primal, dict) and isinstance(tangent, dict):
        if primal.keys() != tangent.keys():
            raise TypeError(
                f"{where} has the keys {sorted(map(str, tangent))} where its primal has "
                f"{sorted(map(str, primal))}: jvp takes tangents of the primals' structure"
            )
        return {key: _filled(primal[key], tangent[key], f"{where}, key {key!r}") for key in primal}
    if isinstance(primal, np.ndarray) and not isinstance(tangent, np.ndarray):
        # (a number for a 0-d array, as JAX takes it: the tangent code calls its methods)
        return np.asarray(tangent, dtype=primal.dtype if primal.dtype.kind == "f" else float)
    if isinstance(primal, np.floating) and not isinstance(tangent, np.generic | np.ndarray):
        return type(primal)(tangent)  # (a number for a numpy float: its methods too)
    return tangent


def _with_defaults(tangent_fn: Callable, f: Callable) -> Callable:
    """``tangent_fn`` called with fewer primals than ``f`` has positional parameters:
    the rest take ``f``'s defaults, with zero tangents (as calling ``f`` would)."""
    try:
        parameters = list(source_signature(f).parameters.values())
    except (TypeError, ValueError):
        return tangent_fn
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    # (the generated function takes the keyword-only parameters after them, by position)
    keyword_only = [p for p in parameters if p.kind is p.KEYWORD_ONLY]
    if not any(p.default is not p.empty for p in (*positional, *keyword_only)):
        return tangent_fn

    def tangent_with_defaults(primals: Any, tangents: Any, *args: Any, **kwargs: Any) -> Any:
        primals, tangents = tuple(primals), tuple(tangents)
        missing = [p.default for p in (*positional, *keyword_only)[len(primals):]]
        if missing and all(value is not inspect.Parameter.empty for value in missing):
            primals += tuple(missing)
            tangents += tuple(trees.map_leaves(trees.zero_tangent, value) for value in missing)
        return tangent_fn(primals, tangents, *args, **kwargs)

    return tangent_with_defaults


@user_facing
@re_derivable
def jvp(
    f: Callable,
    primals: Sequence[Any] | None = None,
    tangents: Sequence[Any] | None = None,
    *,
    optimize: bool = True,
) -> Any:
    """Jacobian-vector products from generated tangent source, in two forms:

    * ``jvp(f)((x, y), (tx, ty))`` is ``(f(x, y), J @ (tx, ty))``; the callable has
      ``.forward_source`` (the listing) and ``.tangent_source`` (the generated tangent
      function, which it is) and takes a value for every parameter;
    * ``jvp(f, (x, y), (tx, ty))`` is the same, as in JAX; parameters left out take
      their defaults (with zero tangents).
    """
    if primals is None and tangents is None:
        try:
            return _tangent_function(f, optimize)
        except SrcadError as refused:  # (of a parameter whose calls may leave it out:
            if not _may_keep_some_still(f):  # `seed=3`; or give it no tangent)
                raise
            return _for_calls_that_move(f, optimize, refused)
    if not (isinstance(primals, tuple | list) and isinstance(tangents, tuple | list)):
        raise TypeError("jvp(f, primals, tangents) takes a tuple of primals and one of tangents")
    if len(primals) != len(tangents):
        raise TypeError("jvp(f, primals, tangents) takes as many tangents as primals")
    call = _Call(f, tuple(primals), {})
    names = list(call.values)[: len(primals)]
    # (parameters left out take their defaults: constants, not zero tangents; so does an
    # int or a bool given a zero tangent, a seed or a count: as JAX's float0 tangents)
    moving = tuple(n for n, t in zip(names, tangents) if _moves(call.values[n], t))
    given = None if len(moving) == len(call.values) else moving
    fn = _tangent_function(f, optimize, given)
    return fn(call.primals(), call.tangents(dict(zip(names, tangents))))


def _may_keep_some_still(f: Callable) -> bool:
    """Whether a call of ``f``'s tangent function may keep some parameters still: it
    has several (one given the tangent None), or one with a default (left out)."""
    try:
        parameters = list(source_signature(f).parameters.values())
    except (TypeError, ValueError):
        return False
    return len(parameters) > 1 or any(p.default is not p.empty for p in parameters)


def _for_calls_that_move(f: Callable, optimize: bool, refused: SrcadError) -> Callable:
    """``jvp(f)`` where the tangent function for every parameter was refused (a seed of
    a random generator, moving, would change the draws) and a call may keep some still: each
    call is ``jvp(f, primals,
    tangents)``, which differentiates only the parameters whose tangents move (not an
    int's zero, a None, or a default left out); refused as the whole was where all do."""

    def tangent_of_what_moves(primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
        call = _Call(f, tuple(primals), {})
        if len(primals) == len(call.values) and all(map(_moves, primals, tangents)):
            raise refused
        return jvp(f, primals, tangents, optimize=optimize)

    return tangent_of_what_moves


def _is_number(block: Any) -> bool:
    """A block of a Hessian that is one number (a list parameter's block is a list, of
    lists for two of them: ``np.ndim`` of those raised for ragged ones)."""
    return isinstance(block, int | float | np.number) or (
        isinstance(block, np.ndarray) and block.ndim == 0
    )


def _moves(primal: Any, tangent: Any) -> bool:
    """Whether jvp differentiates a parameter given ``tangent``: not for None (a constant,
    such as a random generator), nor for an int's or a bool's zero (a seed, a count: as
    JAX's float0 tangents)."""
    return tangent is not None and not (trees.is_integer(primal) and _zero(tangent))


def _zero(tangent: Any) -> bool:
    """A tangent that moves nothing: None, or zeros."""
    return tangent is None or all(
        not np.any(np.asarray(leaf, dtype=float)) for leaf in trees.leaves(tangent)
    )


def _positions(shape: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    return iter(np.ndindex(*shape)) if shape else iter([()])


def _basis(value: Any, position: tuple[int, ...]) -> Any:
    """A tangent of ``value``'s kind (a number, a numpy number, an array of its shape),
    1 at ``position`` and 0 elsewhere: code reading ``x.copy()`` or ``x[()]`` of a 0-d
    array reads its tangent so too (round 75a: a float there, an AttributeError)."""
    unit = trees.zero_tangent(value)
    if isinstance(unit, np.ndarray):
        unit[position] = 1.0
        return unit
    return unit + 1.0


def _one_hot(template: Any, leaf: int, position: tuple[int, ...]) -> Any:
    """``template``'s structure, zero but for a 1 at ``position`` of leaf ``leaf``."""
    leaves = [trees.zero_tangent(value) for value in trees.leaves(template)]
    leaves[leaf] = _basis(trees.leaves(template)[leaf], position)
    return trees.rebuild(template, leaves)


# blocks[k][name][j]: d output leaf k / d leaf j of parameter name, of shape
# output_leaf.shape + parameter_leaf.shape
Blocks = list[dict[str, list[np.ndarray]]]


def _by_columns(
    column: Callable[[dict[str, Any]], Any], call: _Call, names: tuple[str, ...]
) -> tuple[Any, Blocks]:
    """One column per number of the ``wrt`` parameters: ``column(tangents by name)``
    is a tangent of ``f``'s result. Returns (one column, for its structure; the blocks)."""
    tangent: Any = None
    columns: dict[str, list[list[list[Any]]]] = {}
    for name in names:
        template = call.values[name]
        columns[name] = []
        for j, leaf in enumerate(trees.leaves(template)):
            per_position = []
            for position in _positions(np.shape(leaf)):
                tangent = column({name: _one_hot(template, j, position)})
                per_position.append(trees.leaves(tangent))
            columns[name].append(per_position)
    blocks: Blocks = []
    for k, out in enumerate(trees.leaves(tangent)):
        blocks.append({})
        for name in names:
            blocks[k][name] = []
            for j, leaf in enumerate(trees.leaves(call.values[name])):
                shape = np.shape(leaf)
                stacked = np.array([column[k] for column in columns[name][j]], dtype=float)
                stacked = stacked.reshape(shape + np.shape(out))
                moved = np.moveaxis(stacked, range(len(shape)), range(-len(shape), 0))
                blocks[k][name].append(moved)
    return tangent, blocks


def _by_rows(
    f: Callable, call: _Call, names: tuple[str, ...], again: Callable[[], None]
) -> tuple[Any, Blocks] | None:
    """One vector-Jacobian product (a row) per output number, when ``f`` returns one
    array with fewer numbers than the ``wrt`` parameters; else None (use columns).
    ``again`` gives random generators back the state of the first run, before each."""
    inputs = sum(trees.flat(call.values[name]).size for name in names)
    again()
    try:
        positional, keywords = call.arguments()
        output = f(*positional, **keywords)
    except Exception:  # noqa: BLE001 - the column path reports errors in context
        return None
    if isinstance(output, tuple | list | dict) or np.ndim(output) == 0:
        return None
    if np.size(output) >= inputs:
        return None
    try:
        built = build(f, names, "vjp", True)
    except SrcadError:  # e.g. a result that is not one name: use columns
        return None
    function = unbind(f).function
    pullback = built.bind(function if not hasattr(function, "__srcad__") else None)
    shape = np.shape(output)
    rows: dict[str, list[list[np.ndarray]]] = {name: [] for name in names}
    for position in _positions(shape):
        positional, keywords = underlying_arguments(f, *call.arguments())
        again()
        unit = _basis(np.zeros(shape) if shape else 0.0, position)
        cotangents = pullback(*positional, unit, **keywords)
        cotangents = (cotangents,) if len(names) == 1 else cotangents
        for name, cotangent in zip(names, cotangents):
            template = call.values[name]
            rows[name].append([np.asarray(part, dtype=float) for part in trees.leaves(
                _same_order(cotangent, template))])
    blocks: Blocks = [{}]
    for name in names:
        leaves = trees.leaves(call.values[name])
        blocks[0][name] = [
            np.array([row[j] for row in rows[name]]).reshape(shape + np.shape(leaf))
            for j, leaf in enumerate(leaves)
        ]
    return output, blocks


def _same_order(value: Any, template: Any) -> Any:
    """``value`` (a gradient) with its dicts' keys in ``template``'s order."""
    if isinstance(template, dict):
        return {key: _same_order(value[key], item) for key, item in template.items()}
    if isinstance(template, list | tuple):
        items = [_same_order(v, t) for v, t in zip(value, template)]
        if hasattr(template, "_fields"):  # (a namedtuple: its fields by position)
            return type(template)(*items)
        return type(template)(items)
    return value


def _assemble(
    value: Any, blocks: Blocks, call: _Call, names: tuple[str, ...], as_tuple: bool
) -> Any:
    """The Jacobian in the structure of ``f``'s result (outermost, tuples for lists) of
    the ``wrt`` parameters (a tuple for several) of each parameter's structure."""
    per_output = []
    for by_name in blocks:
        per_param = []
        for name in names:
            parts = [float(b) if np.ndim(b) == 0 else b for b in by_name[name]]
            per_param.append(trees.rebuild(call.values[name], parts))
        single = len(per_param) == 1 and not as_tuple
        per_output.append(per_param[0] if single else tuple(per_param))
    result = trees.rebuild(value, per_output)
    return tuple(result) if isinstance(value, list) else result


@user_facing
@re_derivable
def jacobian(
    f: Callable, *, wrt: Wrt = None, argnums: Wrt = None, has_aux: bool = False
) -> Callable[..., Any]:
    """The Jacobian of ``f`` (scalars, arrays, or a tuple of them) with respect to
    ``wrt`` (default: the first parameter), built column by column with forward mode.

    For one output and one ``wrt`` parameter the result has shape
    ``output.shape + parameter.shape``; several parameters give a tuple over
    parameters, a tuple output a tuple over outputs (outermost), and a dict, list or
    tuple parameter its own structure with such a block for each of its arrays.
    The callable takes ``f``'s arguments, keyword arguments included. ``has_aux=True``:
    ``f`` returns ``(output, aux)``, and the callable ``(jacobian, aux)``, as in JAX.
    """
    if has_aux:
        return _with_aux(jacobian(_without_aux(f), wrt=wrt, argnums=argnums), f)
    wrt, as_tuple = wrt_convention(wrt, argnums)
    # (a gradient read through: the parameters of the function it is the gradient of,
    # and no rows, which would differentiate the gradient's own source)
    through = read_through(f) is not None
    names = wrt_names(f.__wrapped__ if through else f, wrt)  # type: ignore[attr-defined]
    tangent_fn = _one_tangent_function(f, None if through else names)
    copies = writes_in_place(tangent_fn.__srcad__)

    def jacobian_at(*args: Any, **kwargs: Any) -> Any:
        call = _Call(f, args, kwargs, copies)
        draws = _SameDraws(f, tangent_fn.__srcad__, [*args, *kwargs.values()])
        rows = None if through else _by_rows(f, call, names, draws.again)

        def column(given: dict[str, Any]) -> Any:
            draws.again()  # (each column runs f: each draws what the first draws)
            return tangent_fn(call.primals(), call.tangents(given))[1]

        found = rows or _by_columns(column, call, names)
        return _assemble(*found, call, names, as_tuple)

    _carrying(jacobian_at, __wrapped__=f)
    mark_derivative(jacobian_at, "the Jacobian")
    return jacobian_at


#: (id of a user's function) -> it and the function of its value without its aux
_WITHOUT_AUX: dict[int, tuple[Callable, types.FunctionType]] = {}
_without_aux_counter = itertools.count(1)


def _without_aux(f: Callable) -> types.FunctionType:
    """A function of ``f``'s parameters returning ``f(...)[0]``: ``f``'s value without the
    aux it returns too (``has_aux=True``). Its source is generated and kept in
    :mod:`linecache` (see :func:`_tangent_along`), so srcad differentiates it, inlining
    ``f``; parameters with defaults keep them."""
    kept = _WITHOUT_AUX.get(id(f))
    if kept is not None and kept[0] is f:
        return kept[1]
    parameters = list(source_signature(f).parameters.values())
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters):
        raise UnsupportedSyntaxError(
            "has_aux here needs a function whose parameters are named (no *args or "
            "**kwargs)",
            "give the parameters names, or differentiate `lambda x: f(x)[0]` and call f "
            "for its aux",
            _call_site(),
        )
    names = {p.name for p in parameters}
    callee, defaults = "inner", "defaults"
    while callee in names or defaults in names:
        callee, defaults = callee + "_", defaults + "_"
    signature, passed, keyword_only = [], [], False
    for p in parameters:
        if p.kind is p.KEYWORD_ONLY and not keyword_only:
            signature.append("*")
            keyword_only = True
        default = "" if p.default is p.empty else f"={defaults}[{p.name!r}]"
        signature.append(f"{p.name}{default}")
        passed.append(f"{p.name}={p.name}" if keyword_only else p.name)
    base = getattr(unbind(f).function, "__name__", "f")
    name = f"{base if base.isidentifier() else 'f'}_value"
    source = (
        f"def __srcad_without_aux__({callee}, {defaults}):\n"
        f"    def {name}({', '.join(signature)}):\n"
        f"        return {callee}({', '.join(passed)})[0]\n"
        f"    return {name}\n"
    )
    filename = f"<srcad: {getattr(f, '__qualname__', name)} without its aux " \
        f"#{next(_without_aux_counter)}>"
    given = {p.name: p.default for p in parameters if p.default is not p.empty}
    made = defined(source, filename, {}, "__srcad_without_aux__")(f, given)
    if len(_WITHOUT_AUX) >= _ALONG_LIMIT:
        _WITHOUT_AUX.clear()
    _WITHOUT_AUX[id(f)] = (f, made)
    return made


def _with_aux(derivative: Callable, f: Callable, direction: bool = False) -> Callable:
    """``derivative`` (of :func:`_without_aux` of ``f``) returning ``(result, aux)``, the
    aux of ``f`` at the same arguments (``direction``: the last positional one is the
    direction of a Hessian-vector product, not ``f``'s)."""

    def with_aux(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        result = derivative(*args, **kwargs)
        own = args[:-1] if direction else args
        return result, f(*own, **kwargs)[1]

    _carrying(with_aux, __wrapped__=f, source=getattr(derivative, "source", None))
    return with_aux


def _parameter_order(f: Callable) -> list[str]:
    """``f``'s parameters in the order its tangent function takes them."""
    parameters = source_signature(f).parameters.values()
    kwonly = [p.name for p in parameters if p.kind is p.KEYWORD_ONLY]
    return [p.name for p in parameters if p.name not in kwonly] + kwonly


#: (id of a tangent function's build, its parameters, id of the user's function) -> the
#: user's function and the wrapper made for it (closures of one ``def`` share the build,
#: but each wrapper holds its own closure's tangent function)
_ALONG: dict[tuple[int, tuple[str, ...], int], tuple[Any, types.FunctionType]] = {}
_ALONG_LIMIT = 256
_along_counter = itertools.count(1)


def _tangent_along(f: Callable, names: tuple[str, ...] | None = None) -> types.FunctionType:
    """A function of ``f``'s arguments and then their tangents that returns the tangent
    of ``f``'s result: its gradient with respect to the arguments is the Hessian times
    the tangents (reverse mode over the generated forward mode).

    Its source is generated and kept in :mod:`linecache` (as IPython keeps a cell's),
    so that srcad reads it like any function; one is made per tangent function, so
    that its gradient is compiled once. ``names``: the parameters differentiated (see
    :func:`_tangent_function`)."""
    tangent_fn = _one_tangent_function(f, names)
    params = _parameter_order(f)
    function = unbind(f).function
    key = (id(tangent_fn.__srcad__), tuple(params), id(function))
    kept = _ALONG.get(key)
    if kept is not None and kept[0] is function:
        return kept[1]
    used = set(params)
    dots = []
    for name in params:
        dot = f"{name}_dot"
        while dot in used:
            dot += "_"
        used.add(dot)
        dots.append(dot)
    callee = "tangent_fn"
    while callee in used:
        callee += "_"
    base = getattr(unbind(f).function, "__name__", "f")
    name = f"{base if base.isidentifier() else 'f'}_tangent"
    primals, tangents = (", ".join(names) + "," for names in (params, dots))
    # (the tangent function is a closure cell, and the wrapper has the user's globals:
    # a global the user's function reads is read when the product runs, not copied)
    source = (
        f"def __srcad_along__({callee}):\n"
        f"    def {name}({', '.join(params + dots)}):\n"
        f"        return {callee}(({primals}), ({tangents}))[1]\n"
        f"    return {name}\n"
    )
    filename = f"<srcad: tangent of {getattr(f, '__qualname__', name)} #{next(_along_counter)}>"
    namespace: dict[str, Any] = {}
    made = defined(source, filename, namespace, "__srcad_along__")(tangent_fn)
    user_globals = getattr(unbind(f).function, "__globals__", None)
    along = types.FunctionType(
        made.__code__, user_globals if isinstance(user_globals, dict) else namespace, name,
        None, made.__closure__,
    )
    along.__qualname__ = name
    if len(_ALONG) >= _ALONG_LIMIT:
        _ALONG.pop(next(iter(_ALONG)))
    _ALONG[key] = (function, along)
    return along


def _reverse_over_forward(f: Callable, along: Callable, names: tuple[str, ...]) -> Any:
    """``grad(along, wrt=names)``: reverse mode over ``f``'s generated tangent function.
    A numpy call whose tangent srcad computes with a helper it cannot differentiate (it
    is not written in the subset srcad reads) is reported at the user's line, naming
    the numpy call, not inside the generated tangent function (see
    :func:`_second_order_error`; the functions that call the result translate the errors
    it raises when it runs too: a path of library code refused when it is taken)."""
    try:
        return gradient_function(
            along, names, as_tuple=False, has_aux=False, optimize=True, value=False
        )
    except SrcadError as error:
        raise second_order_error(f, error) from None


def _user_location(problem: SrcadError, f: Callable) -> Location | None:
    """Where ``problem`` points, when that is in the file of ``f`` (the user's code), or
    the line of ``f``'s file that the generated line it points at (or one next to it) is
    annotated with (``# (3)  <- model.py:12: ...``)."""
    code = getattr(unbind(f).function, "__code__", None)
    if code is None or not problem.lineno:
        return None
    if problem.filename == code.co_filename:
        return Location(problem.filename, problem.lineno, problem.col_offset)
    for near in (0, 1, 2, -1):  # (a bookkeeping line, `stop = False`: the loop after it)
        line = linecache.getline(problem.filename, problem.lineno + near)
        annotated = _ANNOTATION.search(line)
        if annotated and annotated.group(1) == os.path.basename(code.co_filename):
            return Location(code.co_filename, int(annotated.group(2)), 0)
    return None


#: the user's file and line a generated line is annotated with
_ANNOTATION = re.compile(r"#\s*\(\d+\)\s+<-\s+([^:\s]+):(\d+):")


def _user_words(reason: str, f: Callable) -> bool:
    """``reason`` names only variables of ``f`` (not srcad's ``t4_dot``)."""
    code = getattr(unbind(f).function, "__code__", None)
    known = set(code.co_varnames) | set(code.co_names) if code is not None else set()
    return all(name in known for name in re.findall(r"`(\w+)`", reason))


def second_order_error(f: Callable, error: SrcadError) -> SrcadError:
    """``error``, raised in the tangent function srcad generated for ``f`` (differentiated
    again), as an error at the user's line that names the numpy call; other errors as
    they are (an error the second derivative's own code raised names the user's line
    already: it is only worded as the second derivative's)."""
    if error.message.startswith("the second derivative of"):
        return error
    callee = unbind(f)
    name = getattr(callee.function, "__name__", "f")
    if callee.fixes:
        return UnsupportedSyntaxError(
            "second derivatives of a bound method or a functools.partial are not "
            "supported yet",
            "differentiate the function itself, with the object (or the fixed "
            f"values) as a parameter: srcad.hessian({callee.function.__qualname__}, "
            "wrt=...)",
            _call_site(),
        )
    helpers = set(re.findall(r"rules\.\w+\.(\w+)", str(error)))  # (numpy_grads.* and such)
    calls = sorted({  # (the rules whose tangent, or adjoint for grad of grad, is there)
        rule.name.split("(")[0]
        for rule in TABLE
        for template in (*rule.tangents, *rule.adjoints)
        if isinstance(template, ir.Expr) and helpers & set(ir.names_in(template))
    })
    # (the user's line whose tangent code it is, when the error names a generated line)
    where = next(
        (found for p in reversed(error.problems) if (found := origin(p.filename, p.lineno))),
        None,
    ) or next((found for p in error.problems if (found := _user_location(p, f))), None)
    if where is not None and len(calls) > 1:  # (a helper several rules share: the line's)
        line = linecache.getline(where.filename, where.lineno)
        calls = [c for c in calls if re.search(rf"\b{re.escape(c.split('.')[-1])}\(", line)] \
            or calls
    if isinstance(error, NonScalarOutputError):  # (f's own result, as grad says it)
        return NonScalarOutputError(
            error.message.replace(f"{name}_tangent", name), error.hint, where or _call_site()
        )
    hint = (
        "take the Hessian by central differences of srcad.grad(f), or write this line "
        "another way"
    )
    if calls:
        what = f"the tangent of {', '.join(calls[:3])}"
        hint = "give that call a rule whose tangent is plain numpy (srcad.defrule, " \
            "docs/custom-rules.md), or " + hint[0].lower() + hint[1:]
    else:
        reason = error.problems[-1].message
        what = "the forward-mode code srcad made for this line" + (
            f" ({reason})" if _user_words(reason, f) else ""
        )
    return UnsupportedSyntaxError(
        f"the second derivative of {name} differentiates {what} again, which srcad "
        "cannot do yet",
        hint,
        where or _call_site(),
    )


class _HessianProduct:
    """``(call, directions by name) -> H @ directions``, one gradient (a tuple over
    ``names`` for several) of the structure of ``f``'s ``names`` parameters."""

    def __init__(self, f: Callable, names: tuple[str, ...]) -> None:
        along = _tangent_along(f, names)
        self.f = f
        self.gradient = _reverse_over_forward(f, along, names)
        self.source: str = self.gradient.backward_source

    def __call__(self, call: _Call, directions: dict[str, Any]) -> Any:
        return self.direct(call.primals(), call.tangents(directions))

    def direct(self, primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
        """The product for the parameters' values and tangents, in their order."""
        try:
            return self.gradient(*primals, *tangents)
        except SrcadError as error:
            raise second_order_error(self.f, error) from None


class _SameDraws:
    """The state of the random generators ``f`` draws from (numpy's and Python's global
    ones, and generators among its globals, its closure and its arguments), taken when a
    Hessian is asked for and given back before each of its columns: each column runs
    ``f`` once, and must draw what the first draws (the Hessian at the draws of one run,
    as ``hvp`` and ``grad`` give). Empty when ``f`` draws nothing."""

    def __init__(self, f: Callable, built: Gradient, args: Sequence[Any]) -> None:
        self.saved: list[tuple[Callable[[Any], None], Any]] = []
        if not draws(built.forward):
            return
        self.keep(np.random.get_state, np.random.set_state)
        self.keep(random.getstate, random.setstate)
        callee = unbind(f)  # (what partials fix, and a bound method's object's fields)
        fixed = [*callee.args, *callee.keywords.values()]
        if callee.method and records.is_record(callee.args[0]):
            fixed += list(records.fields(callee.args[0]).values())
        function = inspect.unwrap(callee.function)
        held = list(getattr(function, "__globals__", {}).values()) + [
            cell.cell_contents for cell in getattr(function, "__closure__", None) or ()
            if _holds_value(cell)
        ] + list(args) + fixed
        for value in held:
            if isinstance(value, np.random.Generator):
                self.keep(*_bit_state(value.bit_generator))
            elif isinstance(value, np.random.RandomState | random.Random):
                self.keep(value.getstate if isinstance(value, random.Random)
                          else value.get_state,
                          value.setstate if isinstance(value, random.Random)
                          else value.set_state)

    def keep(self, get: Callable[[], Any], put: Callable[[Any], None]) -> None:
        self.saved.append((put, get()))

    def again(self) -> None:
        """The generators as they were when the Hessian was asked for."""
        for put, state in self.saved:
            put(state)


def _bit_state(
    bits: np.random.BitGenerator,
) -> tuple[Callable[[], Any], Callable[[Any], None]]:
    def get() -> Any:
        return bits.state

    def put(state: Any) -> None:
        bits.state = state

    return get, put


def _holds_value(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018 (an empty cell raises)
    except ValueError:
        return False
    return True


@user_facing
@re_derivable
def hessian(
    f: Callable, *, wrt: Wrt = None, argnums: Wrt = None, has_aux: bool = False
) -> Callable[..., Any]:
    """The Hessian of scalar ``f`` with respect to ``wrt`` (default: the first
    parameter), one column per number of the ``wrt`` parameters, each a Hessian-vector
    product (see :func:`hvp`). One parameter gives a block of shape
    ``parameter.shape * 2`` (a dict of dicts for a dict parameter, as in JAX); several
    give a 2-D array when they are all scalars, else a tuple (by parameter) of tuples
    (by parameter) of blocks. The callable takes ``f``'s arguments, keyword arguments
    included. ``has_aux=True``: ``f`` returns ``(value, aux)``, and the callable
    ``(hessian, aux)``, as in JAX.
    """
    if has_aux:
        return _with_aux(hessian(_without_aux(f), wrt=wrt, argnums=argnums), f)
    wrt, as_tuple = wrt_convention(wrt, argnums)
    names = wrt_names(f, wrt)
    product = _HessianProduct(f, names)
    copies = writes_in_place(_one_tangent_function(f, names).__srcad__)

    order = _parameter_order(f)
    by_position = _takes_positions(f, copies)
    slots = [order.index(name) for name in names]

    built = product.gradient.__srcad__

    def general(*args: Any, **kwargs: Any) -> Any:
        draws = _SameDraws(f, built, [*args, *kwargs.values()])

        def column(call: _Call, given: dict[str, Any]) -> Any:
            draws.again()
            return product(call, given)

        if (  # several Python numbers, all passed by position: straight to the products
            by_position and len(names) > 1 and not kwargs and len(args) == len(order)
            and all(args[k].__class__ is float or args[k].__class__ is int for k in slots)
        ):
            zeros = _by_position(args, [], ())  # (shared by the columns: f writes into none)
            columns = []
            for k in slots:
                draws.again()
                columns.append(product.direct(args, [*zeros[:k], 1.0, *zeros[k + 1:]]))
            return np.array(columns, dtype=float).T
        call = _Call(f, args, kwargs, copies)
        if len(names) > 1 and all(call.values[n].__class__ in (float, int) for n in names):
            # several Python numbers: one hvp per parameter is one column (no blocks)
            columns = [column(call, {name: 1.0}) for name in names]
            return np.array(columns, dtype=float).T
        structure, blocks = _by_columns(lambda given: column(call, given), call, names)
        result = _assemble(structure, blocks, call, names, False)
        if len(names) == 1:
            return ((result,),) if as_tuple else result
        if all(_is_number(b) for row in result for b in row):
            return np.array([[float(b) for b in row] for row in result])
        return result

    # (argnums=(0,) gives ((h,),); for several parameters the array, as_tuple or not)
    simple = by_position and not (as_tuple and len(names) == 1)
    unrolled = _unrolled(f, names, general) if simple else None
    if unrolled is None:
        hessian_at = general
    else:
        arity = len(order)

        def hessian_at(*args: Any, **kwargs: Any) -> Any:
            if not kwargs and len(args) == arity:  # (it checks that they are numbers)
                return unrolled(*args)
            return general(*args, **kwargs)

    source = product.source if unrolled is None else unrolled.__srcad__.compiled.source
    _carrying(hessian_at, __wrapped__=f, source=source)
    mark_derivative(hessian_at, "the Hessian")
    return hessian_at


#: (id of a gradient's build) -> (it, the unrolled Hessian built from it, or why not)
_UNROLLED: dict[int, tuple[Gradient, Gradient | Exception]] = {}
_UNROLLED_LIMIT = 256


def _unrolled(f: Callable, names: tuple[str, ...], general: Callable[..., Any]) -> Any:
    """The Hessian of ``f`` as one generated function of ``f``'s parameters (see
    :mod:`srcad.unrolled`), which calls ``general`` for arguments that are not Python
    numbers; None when ``f``'s gradient has no float version it unrolls."""

    def make() -> Callable[..., Any]:
        gradient = build(f, names, "grad", True)
        kept = _UNROLLED.get(id(gradient))
        if kept is None or kept[0] is not gradient:
            if len(_UNROLLED) >= _UNROLLED_LIMIT:
                _UNROLLED.pop(next(iter(_UNROLLED)))
            made: Gradient | Exception
            try:
                made = unrolled_hessian_of(gradient)
            except Exception as error:  # noqa: BLE001 - a fast path: the products remain
                made = error  # (kept: not tried again)
            kept = _UNROLLED[id(gradient)] = (gradient, made)
        if isinstance(kept[1], Exception):
            raise Unsupported(str(kept[1]))
        # (it reads the cells of the gradient it was made from: that of f's own closure)
        bound = kept[1].bind(gradient.bind(unbind(f).function, plain=True), fallback=general)
        return _carrying(bound, __srcad__=kept[1], __wrapped__=f)

    try:
        return following_helpers(make(), make)
    except (SrcadError, Unsupported):  # (the Hessian-vector products report errors)
        return None


@user_facing
@re_derivable
def hvp(
    f: Callable, *, wrt: Wrt = None, argnums: Wrt = None, has_aux: bool = False
) -> Callable[..., Any]:
    """``hvp(f)(*args, v, **kwargs)``: the Hessian of ``f`` with respect to ``wrt``
    (default: the first parameter) times ``v`` (of the structure of that parameter; a
    tuple of such for several), as the gradient of the generated tangent function:
    reverse mode over forward mode, so it covers what both cover (numpy arrays, loops,
    dicts, lists and tuples). ``has_aux=True``: ``f`` returns ``(value, aux)``, and the
    callable ``(product, aux)``."""
    if has_aux:
        return _with_aux(hvp(_without_aux(f), wrt=wrt, argnums=argnums), f, direction=True)
    wrt, as_tuple = wrt_convention(wrt, argnums)
    names = wrt_names(f, wrt)
    product = _HessianProduct(f, names)
    several = len(names) > 1 or as_tuple
    order = _parameter_order(f)
    by_position = _takes_positions(
        f, writes_in_place(_one_tangent_function(f, names).__srcad__)
    )
    slots = [order.index(name) for name in names]

    def hvp_at(*args: Any, **kwargs: Any) -> Any:
        if not args:
            raise TypeError("hvp(f)(*args, v) takes the direction v after f's arguments")
        *primals, v = args
        directions = tuple(v) if several else (v,)
        if len(directions) != len(names):
            raise TypeError(f"hvp needs one direction for each of {', '.join(names)}")
        if any(leaf is None for leaf in trees.leaves(directions)):  # (None moves
            # nothing, as in jvp's tangents)
            bound = source_signature(f).bind(*primals, **kwargs)
            bound.apply_defaults()
            directions = tuple(
                _filled(bound.arguments[n], d, f"the direction for {n}")
                for n, d in zip(names, directions)
            )
        if by_position and not kwargs and len(primals) == len(order):
            result = product.direct(primals, _by_position(primals, slots, directions))
        else:
            result = product(_Call(f, primals, kwargs), dict(zip(names, directions)))
        parts = list(result) if len(names) > 1 else [result]
        if any(isinstance(part, AdjointList) for part in parts):  # (rows: of their type)
            given = source_signature(f).bind(*primals, **kwargs).arguments
            parts = [structured_like(part, given[name]) for part, name in zip(parts, names)]
            result = tuple(parts) if len(names) > 1 else parts[0]
        return (result,) if as_tuple and len(names) == 1 else result

    _carrying(hvp_at, __wrapped__=f, source=product.source)
    mark_derivative(hvp_at, "the Hessian-vector product")
    return hvp_at


# ---------------------------------------------------------------- derivatives of a gradient
#
# A gradient whose generated source cannot be read and differentiated again (it keeps a
# tape for its loops, or calls numpy gradient helpers) is differentiated through the
# function it is the gradient of: the tangent of ``grad(f, wrt)`` along ``t`` is
# ``H[wrt, :] @ t``, the gradient with respect to ``wrt`` of f's tangent function along
# ``t`` (reverse mode over the generated forward mode, as in :func:`hvp`).


def read_through(gradient: Callable) -> Gradient | None:
    """The build of ``gradient`` when it is ``srcad.grad(f)`` and its own source cannot
    be differentiated again (see :meth:`Gradient.second_order_obstacle`); else None."""
    built = getattr(gradient, "__srcad__", None)
    if (
        isinstance(built, Gradient)
        and built.mode == "grad"
        and not built.forward.kwonly
        and built.second_order_obstacle() is not None
    ):
        return built
    return None


def _tangent_of_gradient(gradient: Callable) -> Callable[..., Any]:
    """The tangent function of ``gradient`` (``srcad.grad(f, wrt)``): ``(primals,
    tangents) -> (gradient value, H[wrt, :] @ tangents)``."""
    built = read_through(gradient)
    assert built is not None
    f = gradient.__wrapped__  # type: ignore[attr-defined]
    product = _reverse_over_forward(f, _tangent_along(f), built.wrt)
    # (keyword-only parameters, the values a functools.partial fixes too, by name)
    kwonly = [
        p.name for p in source_signature(f).parameters.values() if p.kind is p.KEYWORD_ONLY
    ]
    positional = len(_parameter_order(f)) - len(kwonly)

    def tangent_of_gradient(primals: Any, tangents: Any) -> Any:
        primals, tangents = tuple(primals), tuple(tangents)
        by_name = dict(zip(kwonly, primals[positional:]))
        draws = _SameDraws(f, product.__srcad__, primals)  # (two runs of f, one draw)
        try:
            value = gradient(*primals[:positional], **by_name)
            draws.again()
            return value, product(*primals, *tangents)
        except SrcadError as error:
            raise second_order_error(f, error) from None

    tangent_of_gradient.__name__ = f"{getattr(gradient, '__name__', 'gradient')}_jvp"
    mark_derivative(tangent_of_gradient, "the tangent function")
    return _carrying(
        tangent_of_gradient,
        forward_source=built.forward_source,
        tangent_source=product.backward_source,
        __wrapped__=gradient,
        __srcad__=product.__srcad__,
    )


def gradient_of_gradient(
    gradient: Callable, wrt: Wrt, as_tuple: bool, value: bool
) -> Callable[..., Any]:
    """``grad`` (``value_and_grad`` with ``value``) of ``gradient``, a ``grad(f)`` of
    one scalar parameter that :func:`read_through` accepts: one column of the Hessian
    per number of the ``wrt`` parameters, by forward mode over its tangent function."""
    built = read_through(gradient)
    assert built is not None
    names = wrt_names(gradient.__wrapped__, wrt)  # type: ignore[attr-defined]
    tangent_fn = _one_tangent_function(gradient, None)
    copies = writes_in_place(tangent_fn.__srcad__)

    def second(*args: Any, **kwargs: Any) -> Any:
        call = _Call(gradient, args, kwargs, copies)
        draws = _SameDraws(gradient, tangent_fn.__srcad__, [*args, *kwargs.values()])
        result = gradient(*call.primals())
        if isinstance(result, tuple | list | dict) or np.ndim(result) != 0:
            raise NonScalarOutputError(
                f"{getattr(gradient, '__name__', 'the gradient')} returns the gradient "
                f"with respect to {', '.join(built.wrt)}, which is not "
                "one number here; grad needs a scalar result",
                "use srcad.hessian (or srcad.jacobian of the gradient) for a matrix of "
                "second derivatives",
                _call_site(),
            )

        def column(given: dict[str, Any]) -> Any:
            draws.again()  # (each column runs f: each draws what the first draws)
            return tangent_fn(call.primals(), call.tangents(given))[1]

        found = _by_columns(column, call, names)
        derivative = _assemble(*found, call, names, as_tuple)
        return (result, derivative) if value else derivative

    mark_derivative(second, "the derivative")
    second.__name__ = f"{getattr(gradient, '__name__', 'gradient')}_grad"
    return _carrying(second, __wrapped__=gradient, backward_source=tangent_fn.tangent_source)


@user_facing
@re_derivable
def hessp(f: Callable, *, wrt: Wrt = None, argnums: Wrt = None) -> Callable[..., Any]:
    """The Hessian-vector product in ``scipy.optimize.minimize``'s ``hessp`` convention:
    ``hessp(f)(x, p, *args)`` is the Hessian of ``f`` with respect to its first parameter
    (or ``wrt``), at ``f(x, *args)``, times ``p`` -- :func:`hvp` with the direction
    second::

        minimize(f, x0, args=(X, y), jac=srcad.grad(f), hessp=srcad.hessp(f),
                 method="trust-ncg")
    """
    product = hvp(f, wrt=wrt, argnums=argnums)

    def hessp_at(x: Any, p: Any, *args: Any, **kwargs: Any) -> Any:
        return product(x, *args, p, **kwargs)

    # (hvp sets it; the product of a bound method or a partial, made through the
    # function itself, may have none)
    _carrying(hessp_at, __wrapped__=f, source=getattr(product, "source", None))
    mark_derivative(hessp_at, "the Hessian-vector product")
    return hessp_at
