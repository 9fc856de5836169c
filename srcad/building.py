"""From a user's callable to its derivative: which function srcad reads and what the
callable fixes (:class:`Callee`), which parameters ``wrt`` names, :func:`build` (the
pipeline of :mod:`srcad.pipeline`, with its cache), and the generated function as the
user calls it (:func:`gradient_function`). :mod:`srcad.api` and :mod:`srcad.higher`
build on this module."""

from __future__ import annotations

import ast
import contextlib
import functools
import gc
import inspect
import os
import sys
import threading
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ParamSpec, Protocol, TypeVar

from . import astwalk, ir, numba_backend, records, trees
from .errors import Location, SourceError, SrcadError, WrtError
from .following import following_helpers
from .frontend import (
    DERIVATIVE_MARK,
    FunctionSource,
    is_numba_function,
    mark_derivative,
    python_function,
    read_function,
    source_signature,
    without_aux,
)
from .lower import lower
from .lower.values import fixed_function
from .pipeline import (
    Gradient,
    all_current,
    differentiate,
    helper_checks,
    real_arguments,
    room_for_deep_expressions,
    rules_for,
)
from .rule_caller import rule_caller
from .rules import TABLE
from .rules.table import callee_key
from .runtime import check_aux_pair, kept_aux
from .specialize import for_defaults, specialize
from .subset import check_supported
from .wrappers import wrapper_caller
from .zero_safe import retried_where_nan, tangents_agree

Wrt = int | str | Sequence[int | str] | None


@dataclass(frozen=True)
class Callee:
    """What srcad differentiates for a callable: the function whose source it reads,
    and the arguments the callable fixes in front of the caller's (``self`` of a bound
    method, the arguments of a ``functools.partial``)."""

    function: Any
    args: tuple[Any, ...] = ()
    keywords: Mapping[str, Any] = field(default_factory=dict)
    method: bool = False  # a bound method (or a callable object): args is (self,)

    @property
    def fixes(self) -> bool:
        return bool(self.args or self.keywords)


def unbind(f: Any) -> Callee:
    """The function ``f`` calls and the arguments it fixes: a bound method
    ``model.loss`` is ``Model.loss`` with ``self`` fixed, ``functools.partial(g, X=X)``
    is ``g`` with ``X`` fixed, an object with a ``__call__`` method is that method
    with the object fixed; anything else is itself."""
    if hasattr(f, "srcad_latest"):  # a gradient that follows its helpers' redefinitions
        return unbind(f.srcad_latest())
    if isinstance(f, types.MethodType):  # (a classmethod: the class fixed)
        inner = unbind(f.__func__)
        if not inner.fixes:
            return Callee(inner.function, (f.__self__,), method=True)
        return Callee(inner.function, (f.__self__, *inner.args), inner.keywords)
    if isinstance(f, functools.partial):
        inner = unbind(f.func)
        return Callee(
            inner.function, (*inner.args, *f.args), {**inner.keywords, **f.keywords}
        )
    if (
        not isinstance(f, types.FunctionType | type | functools.partial)
        and not hasattr(f, "__srcad__")
        and isinstance(inspect.getattr_static(type(f), "__call__", None), types.FunctionType)
    ):
        return Callee(type(f).__call__, (f,), method=True)
    return Callee(python_function(f))


def fixed_values(source: FunctionSource, callee: Callee) -> dict[str, Any]:
    """The parameters of ``source`` that ``callee`` fixes, with their values."""
    positional, _ = _parameters(source)
    return {**dict(zip(positional, callee.args)), **callee.keywords}


def with_fixed(fn: Any, callee: Callee, f: Any) -> Any:
    """The generated function ``fn`` (which takes every parameter of the function srcad
    read) taking the arguments the user's callable ``f`` takes: bound to ``self`` as a
    method, or as a ``functools.partial`` of the arguments ``f`` fixes."""
    if not callee.fixes:
        return fn
    if callee.method:
        return types.MethodType(fn, callee.args[0])  # (its attributes are fn's)
    statics = {k: v for k, v in callee.keywords.items() if fixed_function(v)}
    if statics:  # (srcad read calls of these as calls of the functions the partial fixes)
        fn = _keeping_fixed_functions(fn, statics)
    bound = functools.partial(fn, *callee.args, **callee.keywords)
    for name in (
        "forward_source", "backward_source", "tangent_source", "compiled_source", "__srcad__",
        "__doc__",
    ):
        if hasattr(fn, name):
            setattr(bound, name, getattr(fn, name))
    bound.__wrapped__ = f  # type: ignore[attr-defined]  # (a partial's own attribute)
    return bound


def _keeping_fixed_functions(fn: Any, statics: dict[str, Any]) -> Any:
    """``fn`` refusing a call that gives another function for a keyword the partial fixes
    to one (``partial(loss, act=np.cos)(x, act=np.sin)``): srcad read the calls of that
    parameter as calls of the fixed function."""

    @functools.wraps(fn)
    def keeping(*args: Any, **kwargs: Any) -> Any:
        for name, fixed in statics.items():
            if name in kwargs and kwargs[name] is not fixed:
                raise WrtError(
                    f"`{name}` is fixed to {getattr(fixed, '__name__', fixed)!r} by the "
                    "functools.partial srcad differentiated, which read the calls of "
                    f"`{name}` as calls of it; this call gives another function",
                    f"differentiate a partial of that function "
                    f"(`functools.partial(f, {name}=...)`)",
                    _call_site(),
                )
        return fn(*args, **kwargs)

    return keeping


def underlying_arguments(
    f: Callable, args: Sequence[Any], kwargs: dict[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """:func:`call_arguments` for the function srcad read of ``f`` (a bound method's
    function, a partial's): the arguments ``f`` fixes included, in that function's order."""
    callee = unbind(f)
    return call_arguments(
        callee.function, (*callee.args, *args), {**callee.keywords, **kwargs}
    )


_cache: dict[tuple, Gradient] = {}
_cache_lock = threading.RLock()
_CACHE_LIMIT = 1024


def _call_site() -> Location:
    """The user's line that called into srcad (for errors about the function itself)."""
    frame: types.FrameType | None = sys._getframe(1)
    package = os.path.dirname(__file__)
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == package:
        frame = frame.f_back
    if frame is None:  # pragma: no cover
        return Location("<unknown>", 0, 0)
    return Location(frame.f_code.co_filename, frame.f_lineno, 0)


def _parameters(source: FunctionSource) -> tuple[list[str], list[str]]:
    args = source.node.args
    return [a.arg for a in (*args.posonlyargs, *args.args)], [a.arg for a in args.kwonlyargs]


def _resolve_wrt(source: FunctionSource, wrt: Wrt, callee: Callee | None = None) -> tuple[str, ...]:
    """The names of the parameters ``wrt`` denotes; ``None`` is the first positional one
    (of those the callable leaves free: not ``self`` of a bound method, nor what a
    ``functools.partial`` fixes)."""
    positional, _ = _parameters(source)
    where = Location(source.filename, source.node.lineno, source.node.col_offset)
    fixed = fixed_values(source, callee) if callee is not None else {}
    free = positional[len(callee.args) :] if callee is not None else positional
    if fixed:  # after a parameter a partial fixes by keyword, only keywords can be given
        free = free[: next((k for k, n in enumerate(free) if n in fixed), len(free))]
    if wrt is None:
        if not free:
            raise WrtError(
                f"{source.name} has no positional parameters to differentiate"
                + (" that the callable leaves free" if fixed else ""),
                "pass wrt=('name', ...) naming the parameters",
                where,
            )
        return (free[0],)
    items = tuple(wrt) if isinstance(wrt, list | tuple) else (wrt,)
    if not items:
        raise WrtError("wrt is empty", "name at least one parameter", where)
    names: list[str] = []
    for item in items:
        if fixed and isinstance(item, int) and not isinstance(item, bool):
            if not -len(free) <= item < len(free):
                raise WrtError(
                    f"wrt={item} is out of range: the callable leaves {len(free)} "
                    f"positional parameters of {source.name} free",
                    f"use 0..{len(free) - 1} or names",
                    where,
                )
            item = free[item]
        name = _parameter_named(source, item, where)
        if name in fixed and not (callee is not None and callee.method and name in positional[:1]):
            raise WrtError(
                f"{name!r} is fixed by functools.partial: srcad differentiates only the "
                "parameters the partial leaves free",
                f"pass {name} as an argument instead of binding it in the partial, or "
                "differentiate another parameter",
                _call_site(),
            )
        if name in names:
            raise WrtError(f"wrt names {name!r} twice", "name each parameter once", where)
        names.append(name)
    return tuple(names)


def _parameter_named(source: FunctionSource, item: Any, where: Location) -> str:
    """The parameter one ``wrt`` entry (a name or a position) denotes."""
    positional, kwonly = _parameters(source)
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
        return positional[item]
    if item not in positional + kwonly:
        raise WrtError(
            f"{source.name} has no parameter named {item!r}",
            f"use one of {positional + kwonly}",
            where,
        )
    return item


def wrt_convention(wrt: Wrt, argnums: Wrt) -> tuple[Wrt, bool]:
    """``(wrt, always a tuple)`` from srcad's ``wrt=`` or JAX's ``argnums=``: with
    ``argnums`` a tuple (even of one) gives a tuple, an int the bare value."""
    if argnums is None:
        return wrt, False
    if wrt is not None:
        raise WrtError(
            "both wrt= and argnums= are given",
            "pass one of them (argnums= is JAX's name for wrt=)",
            _call_site(),
        )
    if isinstance(argnums, list):
        argnums = tuple(argnums)
    return argnums, isinstance(argnums, tuple)


def wrt_names(f: Callable, wrt: Wrt = None, argnums: Wrt = None) -> tuple[str, ...]:
    """The names of ``f``'s parameters that ``wrt`` (or ``argnums``) denotes.

    Raises :class:`WrtError` for a parameter ``f`` does not have."""
    wrt, _ = wrt_convention(wrt, argnums)
    callee = unbind(f)
    try:
        source = read_function(callee.function, used_at=_call_site(), top_level=True)
    except SourceError:  # (np.tanh: differentiated by its rule, called with its parameters)
        caller = _rule_caller(callee.function)
        if caller is None:
            raise
        source = read_function(caller, used_at=_call_site(), top_level=True)
    return _resolve_wrt(source, wrt, callee)


def _cache_key(code_key: tuple | None, wrt: Wrt, mode: str, optimize: bool) -> tuple | None:
    """What a compiled gradient depends on: what its forward listing depends on
    (``code_key``, :func:`_code_key`) and the options."""
    wrt_key = tuple(wrt) if isinstance(wrt, list | tuple) else wrt
    if code_key is None or not isinstance(wrt_key, int | str | tuple | None):
        return None  # (not a wrt at all: _resolve_wrt says so)
    return (*code_key, wrt_key, mode, optimize)


def _code_key(callee: Callee, aux: bool) -> tuple | None:
    """What the forward listing of a callable depends on: the code, its module, the
    callables its closure holds (they decide what is inlined or matched as a rule), the
    arguments the callable fixes (which parameters they are; objects among them by
    identity, as srcad reads their methods) and ``has_aux``. Numbers and arrays in
    globals and closures are read live, so they are not part of it."""
    f = callee.function
    built = getattr(f, "__srcad__", None)
    code = built.compiled.code if built is not None else getattr(f, "__code__", None)
    if code is None:
        return None
    closure_callables = tuple(
        id(c.cell_contents) for c in (getattr(f, "__closure__", None) or ()) if _cell_is_callable(c)
    )
    return (
        code,
        id(getattr(f, "__globals__", None)),
        closure_callables,
        aux,
        TABLE.version,
        len(callee.args),
        tuple(callee.keywords),
        tuple(
            id(v) for v in (*callee.args, *callee.keywords.values())
            if records.is_record(v) or fixed_function(v)
        ),
    )


def _cell_is_callable(cell: types.CellType) -> bool:
    try:
        value = cell.cell_contents
    except ValueError:
        return False
    return callable(value) or isinstance(value, types.ModuleType)


def build(
    f: Callable,
    wrt: Wrt,
    mode: str,
    optimize: bool,
    aux: bool = False,
    examples: Mapping[str, Any] | None = None,
) -> Gradient:
    """Run the pipeline for ``f`` (or reuse the cached result).

    ``aux``: ``f`` returns ``(value, aux)`` (JAX's ``has_aux``); only ``value`` is
    differentiated. In ``"jvp"`` mode every parameter gets a tangent and ``wrt`` is unused.
    ``examples``: objects a call passes for some parameters, whose classes srcad reads
    (see :func:`by_argument_classes`).
    """
    callee = unbind(f)
    code_key = _code_key(callee, aux)
    if code_key is not None and examples:
        code_key = (*code_key, tuple(sorted((n, example_key(v)) for n, v in examples.items())))
    key = _cache_key(code_key, wrt, mode, optimize)
    with _cache_lock:
        cached = _cache.get(key) if key is not None else None
        if (
            cached is not None
            and cached.is_current()
            and cached.user_function.__globals__ is getattr(callee.function, "__globals__", None)
        ):
            return cached
        try:
            with _without_cycle_collection(), room_for_deep_expressions():
                result = _from_source(callee, wrt, mode, optimize, aux, examples, code_key)
        except WrtError:
            raise
        except SrcadError as error:  # (np.tanh, or library code srcad cannot read: its rule)
            if hasattr(callee.function, "__srcad__") and error.filename.startswith("<srcad"):
                # (a gradient differentiated again, stopped in its generated code)
                from .higher import second_order_error

                raise second_order_error(callee.function.__wrapped__, error) from None
            caller = _rule_caller(callee.function)
            if caller is None:
                raise
            with _without_cycle_collection(), room_for_deep_expressions():
                result = _from_source(replace(callee, function=caller), wrt, mode, optimize, aux)
        inner = getattr(callee.function, "__srcad__", None)
        if inner is not None:  # differentiating a gradient again
            result = replace(result, differentiates=inner)
        if key is not None:
            if len(_cache) >= _CACHE_LIMIT:
                _cache.pop(next(iter(_cache)))
            _cache[key] = result
        return result


@contextlib.contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Python's collector of reference cycles paused while the pipeline runs: the passes
    make many small objects and few cycles, and a full collection walks every object
    alive, so on a long function the pauses grew with its size squared (a 4000-line
    function: 7.8 s with them, 4.8 s without). Reference counting still frees what the
    passes drop."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _from_source(
    callee: Callee,
    wrt: Wrt,
    mode: str,
    optimize: bool,
    aux: bool,
    examples: Mapping[str, Any] | None = None,
    code_key: tuple | None = None,
) -> Gradient:
    """The pipeline on the source of ``callee``'s function (for a decorator's wrapper
    taking ``*args``, of a caller with the wrapped function's signature). ``code_key``:
    what its forward listing depends on (see :func:`_code_key`), to reuse the listing a
    build of another kind made."""
    function = callee.function
    if not (callee.fixes or hasattr(function, "__srcad__") or hasattr(function, DERIVATIVE_MARK)):
        function = wrapper_caller(function) or function
    source = read_function(function, used_at=_call_site(), top_level=True)
    if callee.fixes:
        source = replace(source, fixed=fixed_values(source, callee))
    if examples:
        source = replace(source, examples=dict(examples))
    if aux:
        source = without_aux(source)
    return differentiated(source, lambda source: _functions_refused(source, (
        () if mode == "jvp" and wrt is None else _resolve_wrt(source, wrt, callee)
    )), mode, optimize, code_key)


def _functions_refused(source: FunctionSource, wrt: tuple[str, ...]) -> tuple[str, ...]:
    """``wrt``, refused where it names a parameter a call gave a function (the gradient
    is built for that function: it has no gradient of its own)."""
    for name in wrt:
        if fixed_function(source.examples.get(name)):
            raise WrtError(
                f"`{name}` is given a function ({getattr(source.examples[name], '__name__', '?')}"
                "), which has no gradient: srcad differentiates numbers, arrays and "
                "containers of them",
                f"leave `{name}` out of wrt= (argnums=)",
                Location(source.filename, source.node.lineno, source.node.col_offset),
            )
    return wrt


#: function with a derivative rule (by id) -> (it, the function srcad reads for it)
_rule_callers: dict[int, tuple[Any, Any]] = {}


def _rule_caller(function: Any) -> Any:
    """A function that calls ``function`` for its derivative rule (see
    :mod:`srcad.rule_caller`), or None when it has none."""
    if not TABLE.has_callable(function):
        return None
    kept = _rule_callers.get(id(function))
    if kept is None or kept[0] is not function:
        kept = (function, rule_caller(function, TABLE.candidates(callee_key(function))))
        _rule_callers[id(function)] = kept
    return kept[1]


def differentiated(
    source: FunctionSource,
    wrt_of: Callable[[FunctionSource], tuple[str, ...]],
    mode: str,
    optimize: bool,
    code_key: tuple | None = None,
) -> Gradient:
    """The pipeline on ``source`` (checked first: what cannot be read is reported before
    ``wrt_of`` looks up the parameters). Where srcad cannot differentiate it as a whole (a
    library function passed as it is: ``srcad.grad(np.linalg.norm)``), the code that the
    defaults of its options take, if srcad can (see :func:`specialize.for_defaults`).
    ``code_key``: see :func:`_from_source`."""
    if any(  # (a version guard: `if hasattr(np, "trapezoid"):`, decided here)
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "hasattr"
        for n in astwalk.nodes(source.node)
    ):
        source = replace(source, node=specialize(source.node, {}, source.lookup)[0])
    try:
        lowered = _checked_and_lowered(source, mode, code_key)
        return differentiate(source, wrt_of(source), mode, optimize, lowered)
    except SrcadError:
        node = for_defaults(source.node, source.function, source.lookup)
        if node is None:
            raise
    source = replace(source, node=node)
    check_supported(source)
    return differentiate(source, wrt_of(source), mode, optimize)


#: forward listings by what they depend on (:func:`_code_key`, the kind of rule table)
#: and the function read: the gradient, value_and_grad and jvp of one function lower it
#: once. Each with the function and its :func:`pipeline.helper_checks`.
_lowered: dict[tuple, tuple[Any, tuple, ir.Function]] = {}


def _current(key: tuple | None, source: FunctionSource) -> ir.Function | None:
    """The listing kept under ``key`` for ``source``'s function, if its helpers are
    still the ones it read."""
    kept = _lowered.get(key) if key is not None else None
    if kept is not None and kept[0] is source.function and all_current(kept[1]):
        return kept[2]
    return None


def _checked_and_lowered(
    source: FunctionSource, mode: str, code_key: tuple | None
) -> ir.Function:
    """``source`` checked against the supported subset and lowered (with the rule table
    for ``mode``), or the listing made for the same key before, while the helpers it
    inlined are still the ones it read."""
    rules = rules_for(mode)
    read = None if code_key is None else (*code_key, id(source.function))
    key = None if read is None else (*read, id(rules))
    kept = _current(key, source)
    if kept is not None:
        return kept
    if read is not None and rules is not TABLE:  # (forward mode: reverse mode's listing,
        # where it uses no rule of the user's, which forward mode may read the code of)
        listing = _current((*read, id(TABLE)), source)
        if listing is not None and not any(
            isinstance(s, ir.Assign) and s.rule is not None and s.rule.user
            for s in ir.walk(listing.body)
        ):
            return listing
    check_supported(source)
    lowered = lower(source, rules, checked=True)
    if key is not None:
        if len(_lowered) >= _CACHE_LIMIT:
            _lowered.pop(next(iter(_lowered)))
        checks = helper_checks(source.function, lowered.dependencies)
        _lowered[key] = (source.function, checks, lowered)
    return lowered


def writes_in_place(built: Gradient) -> bool:
    """Whether ``f`` writes into an array in place (``x *= 2``, ``out[i] = v``; a ``try``
    statement runs plain Python, which may): then
    each call srcad makes of ``f`` or of its derivatives at the user's arguments gets
    fresh copies of them, so that one call does not change the next one's inputs."""
    return any(
        (isinstance(s, ir.Assign) and s.in_place) or isinstance(s, ir.Python)  # (a `try`)
        for s in ir.walk(built.forward.body)
    )


# ---------------------------------------------------------------- has_aux


def _pair(out: Any, f: Callable) -> tuple[Any, Any]:
    """``f``'s result ``(value, aux)`` (has_aux=True), or an error at the user's call."""
    check_aux_pair(out, str(getattr(f, "__qualname__", f)), _call_site)
    return out[0], out[1]


# ---------------------------------------------------------------- what users call


P = ParamSpec("P")
R = TypeVar("R")


def user_facing(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` raising srcad's errors without the traceback of srcad's internals (the
    error names the user's line already); ``SRCAD_TRACEBACK=full`` keeps them."""

    @functools.wraps(fn)
    def entry(*args: P.args, **kwargs: P.kwargs) -> R:
        __tracebackhide__ = True  # noqa: F841 (IPython and pytest hide this frame)
        try:
            return fn(*args, **kwargs)
        except SrcadError as error:
            if os.environ.get("SRCAD_TRACEBACK") == "full":
                raise
            raise error.with_traceback(None) from None

    return entry


def _callable(built: Gradient, f: Callable, doc: str, backend: str = "python") -> Any:
    """The generated function, taking the arguments ``f`` takes (see :func:`with_fixed`)."""
    callee = unbind(f)
    if backend == "numba":
        fn = numba_backend.compiled(built, callee.function)
    else:
        fn = built.bind(callee.function)
    fn.forward_source = built.forward_source
    fn.backward_source = built.source_so_far()
    fn.__wrapped__ = f
    fn.__srcad__ = built
    fn.__doc__ = doc
    return with_fixed(fn, callee, f)


def tangents_retried_where_nan(fn: Any, built: Gradient, user_function: Any) -> Any:
    """``fn``, forward mode's function, run again zero-safe where its result holds nan
    (see :mod:`srcad.zero_safe`; a gradient's array version does this itself), refusing
    complex arguments (:func:`srcad.pipeline.real_arguments`)."""

    def careful() -> Any:
        safe = built.zero_safe()
        return None if safe is None else safe.bind(user_function)

    where = Location(built.forward.source_file, built.forward.source_line)
    agrees = (  # (the zero-safe tangent checked by differences, as a gradient's is)
        functools.partial(tangents_agree, user_function) if user_function is not None else None
    )
    retried = retried_where_nan(fn, careful, built.value_at(user_function), agrees)
    return real_arguments(retried, where)


def chosen_backend(f: Callable, backend: str | None) -> str:
    """``backend`` checked; by default "numba" for a numba dispatcher, else "python"."""
    if backend is None:
        return "numba" if is_numba_function(f) else "python"
    if backend not in numba_backend.BACKENDS:
        raise ValueError(
            f"backend={backend!r}: srcad compiles gradients with backend='python' or "
            "backend='numba'"
        )
    return backend


class _Generated(Protocol):
    """A generated gradient as :func:`_callable` makes it: it carries its build."""

    __srcad__: Gradient

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


def _adapted(
    gradient: _Generated, f: Callable, *, aux: bool, as_tuple: bool, value: bool,
    aux_from_f: bool = False,
) -> Callable[..., Any]:
    """``gradient`` with JAX's result conventions: with ``aux``, ``(gradient, aux)``
    (``((value, aux), gradient)`` for ``value``), aux from the gradient's own forward
    pass (``aux_from_f``: from a call of ``f``, with the value); with ``as_tuple`` the
    gradient of one parameter is a tuple of one.

    Not differentiable again (it has no ``__srcad__``, nor ``__wrapped__``, on purpose)."""
    built: Gradient = gradient.__srcad__
    one = as_tuple and len(built.wrt) == 1
    copies = aux_from_f and writes_in_place(built)

    def tupled(grads: Any) -> Any:
        return (grads,) if one else grads

    def adapted(*args: Any, **kwargs: Any) -> Any:
        if aux and aux_from_f:  # (the gradient changes the arguments as f would, once)
            out = f(*trees.fresh(args, copies), **trees.fresh(kwargs, copies))
            _, extra = _pair(out, f)
            grads = tupled(gradient(*args, **kwargs))
            return (tuple(out), grads) if value else (grads, extra)
        if aux:  # (f's draws, prints and changes happen once, and aux is of that run)
            with kept_aux() as kept:
                result = gradient(*args, **kwargs)
            extra = kept[-1]  # (the run the result is of: the float version's fallback
            # to numpy floats runs the function's forward pass again)
            return ((result[0], extra), tupled(result[1])) if value else (tupled(result), extra)
        result = gradient(*args, **kwargs)
        return (result[0], tupled(result[1])) if value else tupled(result)

    mark_derivative(adapted, "the gradient (with has_aux or argnums)")
    adapted.__name__ = adapted.__qualname__ = getattr(
        gradient, "__name__", built.compiled.code.co_name
    )
    adapted.__doc__ = gradient.__doc__
    adapted.__signature__ = inspect.signature(gradient)  # type: ignore[attr-defined]
    adapted.forward_source = built.forward_source  # type: ignore[attr-defined]
    adapted.backward_source = built.source_so_far()  # type: ignore[attr-defined]
    return adapted


def _name(f: Callable) -> str:
    built = getattr(f, "__srcad__", None)  # (a gradient's qualified name is for pickle)
    return built.compiled.code.co_name if built is not None else str(getattr(f, "__qualname__", f))


def signature_of(f: Callable) -> tuple[inspect.Signature, int]:
    """``f``'s signature, and its number of parameters when they are all positional
    (else -1), looked up once per callable (derivatives check every call's arguments)."""
    try:
        return _signatures(f)
    except TypeError:  # (an unhashable callable)
        return _signature_and_arity(f)


def _signature_and_arity(f: Callable) -> tuple[inspect.Signature, int]:
    signature = source_signature(f)
    kinds = [p.kind for p in signature.parameters.values()]
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return signature, len(kinds) if all(kind in positional for kind in kinds) else -1


_signatures = functools.lru_cache(maxsize=512)(_signature_and_arity)


def call_arguments(
    f: Callable, args: Sequence[Any], kwargs: dict[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """``f``'s arguments in full (defaults filled in): every positional parameter's
    value in order, and the keyword-only ones by name. Raises ``TypeError`` as a call
    of ``f`` with these arguments would."""
    signature, arity = signature_of(f)
    if not kwargs and len(args) == arity:  # (the common call: every parameter, in order)
        return list(args), {}
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    positional, keywords = [], {}
    for name, parameter in bound.signature.parameters.items():
        if parameter.kind is parameter.KEYWORD_ONLY:
            keywords[name] = bound.arguments[name]
        elif parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            positional.append(bound.arguments[name])
    return positional, keywords


def gradient_function(
    f: Callable,
    wrt: Wrt,
    *,
    as_tuple: bool,
    has_aux: bool,
    optimize: bool,
    value: bool,
    backend: str | None = None,
) -> Any:
    """The generated gradient of ``f`` (``value``: value and gradient) as the user calls
    it: taking ``f``'s arguments, following redefinitions of ``f``'s helpers, with JAX's
    result conventions for ``has_aux`` and ``as_tuple`` (see :func:`_adapted`).
    ``backend``: "python", or "numba" to compile it with numba (the default for a
    function decorated with ``numba.njit``)."""
    backend = chosen_backend(f, backend)
    # (with has_aux the generated code hands f's aux over, but numba's does not: then
    # aux, and the value, come from a call of f)
    aux_from_f = has_aux and backend == "numba"
    if value:
        mode, doc = "grad" if aux_from_f else "value_and_grad", "Value and gradient of {f}"
    else:
        mode, doc = "grad", "Gradient of {f} with respect to {wrt}"

    def make(examples: Mapping[str, Any] | None = None) -> Any:
        built = build(f, wrt, mode, optimize, aux=has_aux, examples=examples)
        text = doc.format(f=_name(f), wrt=", ".join(built.wrt))
        return _callable(built, f, f"{text} (generated by srcad).", backend)

    def adapted(gradient: Any) -> Any:
        if has_aux or as_tuple:
            return _adapted(gradient, f, aux=has_aux, as_tuple=as_tuple, value=value,
                            aux_from_f=aux_from_f)
        return gradient

    try:
        gradient = following_helpers(make(), make)
    except SrcadError as error:
        code = getattr(unbind(f).function, "__code__", None)
        if code is None or not needs_classes(error, code.co_filename):
            raise
        return by_argument_classes(f, lambda examples: adapted(make(examples)))
    return adapted(gradient)


def needs_classes(error: SrcadError, filename: str) -> bool:
    """Whether ``error`` says that srcad needs to know the class of an object the
    function (in ``filename``) calls methods of, which a call's arguments show."""
    return any(
        problem.filename == filename  # (the user's own line, not a library's inside,
        and problem.message.startswith("`")  # nor a library call of the user's)
        and (
            "whose class srcad does not know" in problem.message
            or "holds a function chosen when the program runs" in problem.message
            or "is a parameter called as a function" in problem.message
        )
        for problem in error.problems
    )


def class_signature(value: Any, depth: int = 0) -> Any:
    """The classes of ``value`` and of the objects its fields and lists hold (what a
    gradient built from an example object depends on: the methods srcad read)."""
    if depth > 6:
        return None
    if records.is_record(value):
        held = tuple(
            (name, class_signature(item, depth + 1))
            for name, item in records.fields(value).items()
            if records.is_record(item) or isinstance(item, list | tuple | dict)
        )
        return (id(type(value)), held)
    if isinstance(value, list | tuple):
        return tuple(class_signature(item, depth + 1) for item in value[:64])
    if isinstance(value, dict):
        return tuple((k, class_signature(v, depth + 1)) for k, v in list(value.items())[:64])
    return id(type(value))


def example_key(value: Any) -> Any:
    """What a gradient built for an example argument depends on: a function itself (srcad
    reads its calls, and may inline its code; held, so that no other takes its id) and
    what its code reads as it is now (:func:`_function_state`), an object's classes
    (:func:`class_signature`)."""
    if fixed_function(value):
        return ("function", value, _function_state(value))
    return class_signature(value)


class _Same:
    """An object in a key, equal to itself only (and held by the key)."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.obj is self.obj

    def __hash__(self) -> int:
        return id(self.obj)


def _function_state(value: Any, depth: int = 0) -> Any:
    """A function's code, defaults, closure cells and the globals its code reads as they
    are now (numbers by value, other objects by identity): a closure of one ``def`` with
    another captured value (an annealed temperature), changed defaults, code or helpers
    make another gradient."""
    function = value.func if isinstance(value, functools.partial) else value
    if not isinstance(function, types.FunctionType):
        return None
    if depth > 8:  # (deeper than srcad follows: never the same, built again each call)
        return _Same(object())
    cells = []
    for cell in function.__closure__ or ():
        try:
            cells.append(cell.cell_contents)
        except ValueError:  # (an empty cell)
            cells.append(None)
    read = [  # (the globals its code reads: a helper it calls, rebound)
        (name, function.__globals__[name])
        for name in function.__code__.co_names
        if name in function.__globals__
    ]
    parts = (*(function.__defaults__ or ()), *(function.__kwdefaults__ or {}).items(), *cells,
             *read)
    if isinstance(value, functools.partial):
        parts += (*value.args, *value.keywords.items())

    def of(item: Any) -> Any:
        if item is None or type(item) in (int, float, complex, bool, str, bytes):
            return item
        if isinstance(item, tuple):
            return tuple(of(i) for i in item)
        if isinstance(item, types.FunctionType | functools.partial):
            return (_Same(item), _function_state(item, depth + 1))
        return _Same(item)

    return (function.__code__, of(parts))


def made_for_classes(
    built: dict[tuple, Any], make: Callable[[Mapping[str, Any]], Any], arguments: Mapping[str, Any]
) -> Any:
    """What ``make`` builds for the classes of the objects among ``arguments`` (by
    parameter name), and for the functions among them, made once per tuple of classes
    and functions and kept in ``built``."""
    examples = {
        n: v for n, v in arguments.items()
        if records.is_record(v) or _of_records(v) or fixed_function(v)
    }
    key = tuple((n, example_key(v)) for n, v in examples.items())
    made = built.get(key)
    if made is None:
        made = built[key] = make(examples)
    return made


def _of_records(value: Any) -> bool:
    """A list or tuple of objects (records) of one class: ``springs`` of
    ``for s in springs: s.energy(d)``, whose items' methods srcad reads."""
    return (
        isinstance(value, list | tuple) and bool(value)
        and len({type(item) for item in value}) == 1 and records.is_record(value[0])
    )


def by_argument_classes(f: Callable, make: Callable[[Mapping[str, Any]], Any]) -> Any:
    """The gradient of ``f`` built on its first call with objects of new classes: srcad
    reads the methods of the objects the call passes (as if their parameters were
    annotated with their classes), and keeps one gradient per tuple of classes."""
    callee = unbind(f)
    function = callee.function
    signature = inspect.signature(function)
    read = (function.__defaults__, function.__kwdefaults__)  # (what `signature` holds)
    built: dict[tuple, Any] = {}

    def made_and_shown(examples: Mapping[str, Any]) -> Any:
        made = make(examples)  # (its listing is the one srcad.show and backward_source show)
        for name in ("forward_source", "backward_source"):
            setattr(gradient, name, getattr(made, name, getattr(gradient, name)))
        return made

    positional = tuple(  # (every parameter given by position: no binding to do)
        p.name for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    )
    plain = len(positional) == len(signature.parameters) and not (
        callee.args or callee.keywords
    )

    def built_for(*args: Any, **kwargs: Any) -> Any:
        """The gradient built for the classes of these arguments."""
        nonlocal signature, read
        if plain and not kwargs and len(args) == len(positional):
            return made_for_classes(built, made_and_shown, dict(zip(positional, args)))
        if function.__defaults__ is not read[0] or function.__kwdefaults__ is not read[1]:
            signature = inspect.signature(function)  # (`f.__defaults__ = ...`: another
            read = (function.__defaults__, function.__kwdefaults__)  # default function)
        bound = signature.bind_partial(*callee.args, *args, **callee.keywords, **kwargs)
        bound.apply_defaults()  # (def loss(x, act=np.tanh): the default is the function)
        return made_for_classes(built, made_and_shown, bound.arguments)

    def gradient(*args: Any, **kwargs: Any) -> Any:
        return built_for(*args, **kwargs)(*args, **kwargs)

    functools.update_wrapper(gradient, f)
    gradient.built_for = built_for  # type: ignore[attr-defined]
    not_yet = "# (generated at the first call, for the classes of the objects it is given)"
    gradient.forward_source = gradient.backward_source = not_yet  # type: ignore[attr-defined]
    mark_derivative(
        gradient,
        "the gradient (built for the classes of its arguments)",
        "annotate the parameters that hold objects with their classes (`def f(x, opt: "
        "Optimizer)`): srcad then reads their methods when it compiles, and "
        "srcad.grad(srcad.grad(f)), srcad.hessian(f), srcad.hvp(f) and srcad.jvp(f) "
        "differentiate f",
    )
    return gradient
