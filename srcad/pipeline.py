"""The compiler's passes, in the order they run: from a function's parsed source to its
compiled gradient. Each pass is one call below; :func:`differentiate` reads top to bottom.

1. ``lower``: the user's function (and the helpers it calls, inlined) as an SSA listing,
   one primitive operation per line, with a derivative rule chosen for each; then
   ``defer_refusals``: branches of library code srcad cannot differentiate refuse at
   run time, when they are taken; ``check_integer_writes``: an array that differentiated
   values are written into is checked to hold floats, where it is made.
2. ``make_explicit``: numpy's in-place writes, views and aliases as explicit lines, so
   that later passes see values, not memory.
3. ``activity``: which values depend on the ``wrt`` parameters (and are differentiated);
   ``try`` statements and ``with`` managers, which run as plain Python, must touch none.
4. ``reverse`` (or ``forward_mode`` for ``jvp``): the gradient's IR; for reverse mode
   also a version specialised to Python floats (``for_numbers``, with ``scalar_guards``
   that fall back to the array version, which is made at the first call that needs it:
   :class:`LazyVersion`).
5. ``optimize`` and ``free_memory``: dead code, copies, recomputation, early ``del``.
6. ``emit`` and ``compile_function``: Python source, compiled with the user's globals.

:func:`unrolled_hessian_of` is a second pipeline, over a gradient this one made: the
Hessian of a function of a few Python floats as one function (see :mod:`srcad.unrolled`).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import threading
import types
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import array_api, emit, float_errors, ir, trees
from .analyze import Activity, activity, number_kinds, scalar_guards
from .chains import chain_names
from .contexts import refuse_active
from .deferred import defer_refusals
from .diagnostics import refuse_misread_methods
from .duck import is_duck_array
from .errors import Location, SrcadError, UnsupportedSyntaxError
from .float_guard import ARRAY_VERSION, USER_FUNCTION, array_version_name, without_float_guard
from .forward import forward_mode
from .forward_gradient import forward_gradient
from .frontend import FunctionSource, installed, parse_function
from .invariants import hoist_invariants
from .load import Compiled, compile_function, failing_helper_line
from .lower import lower
from .memory import Memory, make_explicit, without_idle_alias_checks
from .names import NameAllocator, bind
from .optimize import common_subexpressions, free_memory
from .optimize import optimize as optimize_function
from .reverse import for_numbers, reverse
from .rules import TABLE, array_api_grads, numpy_grads
from .rules.scalar import HELD
from .rules.table import FORWARD_MODE_RULES, SETITEM, Rules
from .runtime import ENTRY_CHECKS, LIST_CHECKS, divide, divide_or_zero, with_numpy_floats
from .subset import check_supported
from .truncation import check_integer_writes
from .unrolled import FALLBACK, Unsupported, unrolled_hessian
from .zero_safe import differences_agree, retried_where_nan, zero_safe

ARRAY_VERSION_HEADER = "# the same gradient for numpy arrays (and all but Python floats):\n"


def differentiate(
    source: FunctionSource,
    wrt: tuple[str, ...],
    mode: str,
    optimize: bool,
    lowered: ir.Function | None = None,
) -> Gradient:
    """Run every pass on ``source``: the derivative of kind ``mode`` ("grad",
    "value_and_grad", "vjp" or "jvp") with respect to the parameters ``wrt``.
    ``lowered``: its forward listing, when a build of another kind made it already."""
    if lowered is None:
        lowered = lower(source, rules_for(mode), checked=True)
    if optimize:
        lowered = hoist_invariants(lowered)
    # (jvp: every parameter has a tangent, unless ``wrt`` names some)
    differentiated = wrt if mode != "jvp" or wrt else lowered.params + lowered.kwonly
    deferred, active = defer_refusals(lowered, differentiated)
    lowered = check_integer_writes(deferred, active)
    forward, memory = make_explicit(lowered)
    if forward is not deferred:  # (the listing the activity is of, or its own)
        active = activity(forward, differentiated)
    refuse_misread_methods(forward, active.varied, active.useful)  # (`xp.sum(t)`, xp a module)
    first, arrays = derivatives(lowered, forward, memory, active, wrt, mode)
    versions: tuple[Version | LazyVersion, ...] = (
        compiled_version(
            first, forward, source, optimize=optimize, for_floats=arrays is not None,
            free_early=arrays is None,  # (the version for numpy arrays frees early)
        ),
    )
    if arrays is not None:  # (made when a call first needs it: scalar code never does)
        make_arrays = arrays
        versions += (LazyVersion(
            array_version_name(first.name),
            lambda: compiled_version(
                make_arrays(), forward, source, optimize=optimize, for_floats=False,
                free_early=True,
            ),
        ),)
    shown = emit.function(
        array_api.port(without_entry_checks(forward, ENTRY_CHECKS + LIST_CHECKS), forward)
    )
    return Gradient(forward, versions, shown, wrt, source.function, mode=mode)


def rules_for(mode: str) -> Rules:
    """The rule table lowering chooses rules from for a derivative of kind ``mode``
    (forward mode reads the code of a function whose user rule has no tangent)."""
    return FORWARD_MODE_RULES if mode == "jvp" else TABLE


def without_entry_checks(
    forward: ir.Function, helpers: tuple[Any, ...] = ENTRY_CHECKS
) -> ir.Function:
    """``forward`` without the checks at its top level that call ``helpers``: the checks
    of its arguments (``require_plain_container(xs, ...)``), which the version for floats
    does not need, and (for the listing) those of list operations, the gradient's
    business."""
    checks = {
        name for name, value in forward.bindings.items()
        if any(value is check for check in helpers)
    }

    def entry_check(stmt: ir.Stmt) -> bool:
        value = stmt.value if isinstance(stmt, ir.Effect) else None
        return (
            isinstance(value, ir.Call) and isinstance(value.func, ir.Name)
            and value.func.id in checks
        )

    return forward.with_body(tuple(s for s in forward.body if not entry_check(s)))


def unrolled_hessian_of(gradient: Gradient) -> Gradient:
    """The Hessian of the function ``gradient`` is the gradient of (one array; a float
    for one parameter), from the float version of ``gradient`` with no loops: its source
    lowered again (1), refusals deferred, for numbers (2), forward mode along each
    parameter after it (:func:`srcad.unrolled.unrolled_hessian`), optimised for floats,
    emitted and compiled (5, 6). Raises :class:`srcad.unrolled.Unsupported` (or the
    error lowering raises) when that version is not one it unrolls."""
    if gradient.mode != "grad" or len(gradient.versions) != 2:
        raise Unsupported("no version for Python floats")
    float_version = gradient.versions[0].ir
    if any(isinstance(s, ir.Loop | ir.Push) for s in ir.walk(float_version.body)):
        raise Unsupported("loops")
    source = parse_function(*gradient.as_source())
    check_supported(source)
    lowered, _ = defer_refusals(lower(source, checked=True), gradient.wrt)
    listing = for_numbers(without_entry_checks(lowered))  # (its parameters are numbers)
    name = f"{gradient.forward.name}_hessian"
    hessian, numbers = unrolled_hessian(listing, float_version, gradient.wrt, name)
    hessian = optimize_function(hessian, for_floats=True)
    hessian = optimize_function(common_subexpressions(hessian, numbers), for_floats=True)
    bindings = dict(hessian.bindings)
    helper = bind(NameAllocator(hessian.names()), bindings, hessian.free_objects,
                  "with_numpy_floats", with_numpy_floats)
    hessian = replace(  # (a second derivative Python floats cannot hold: srcad.float_errors)
        hessian,
        bindings=bindings,
        on_float_error=ir.Call(
            ir.Name(helper), (ir.Name(ir.ITSELF), *(ir.Name(p) for p in hessian.params))
        ),
    )
    version = compiled_version(
        hessian, listing, source, optimize=False, for_floats=True, free_early=False
    )
    shown = emit.function(listing)
    return Gradient(
        listing, (version,), shown, gradient.wrt, source.function, gradient, mode="hessian"
    )


def derivatives(
    lowered: ir.Function,
    forward: ir.Function,
    memory: Memory,
    active: Activity,
    wrt: tuple[str, ...],
    mode: str,
) -> tuple[ir.Function, Callable[[], ir.Function] | None]:
    """The derivative's IR: the function the user calls first and, when that one is
    specialised to Python floats, what makes the array version it falls back to (else
    None). ``active``: the activity in ``forward`` of ``wrt`` (for jvp without ``wrt``:
    of every parameter)."""
    if mode == "jvp":
        # (every parameter has a tangent: plain Python checks its are zero at run time)
        return forward_mode(without_idle_alias_checks(forward, active.varied), active, memory), None
    refuse_active(forward, active)  # (a `try` or `with` touching an active value)
    forward = without_idle_alias_checks(forward, active.varied)

    def for_arrays() -> ir.Function:
        return reverse(forward, wrt, active, mode=mode, memory=memory)

    # (Python numbers share no memory: no memory pass; its entry check lets only plain
    # lists and dicts of numbers in, so the checks of containers are the array version's)
    numbers = without_entry_checks(for_numbers(lowered))
    active_numbers = activity(numbers, wrt)
    # Where the memory pass found names that may share memory (a view or an alias
    # written in place), there is no version for floats: an array the function makes
    # from float arguments (np.array([x, y]), then a view of it written in place) shares
    # memory even then, and the float version drops those lines.
    # (A list item updated in place, `stats[0] += 1.0`, is written back into the list by
    # the next line anyway: its logical line says nothing the float version needs.)
    lists = {
        s.target for s in ir.walk(forward.body)
        if isinstance(s, ir.Assign) and s.rule is not None and s.rule.holds
    }
    kinds = number_kinds(numbers)
    guards = scalar_guards(numbers, active_numbers, kinds) if mode != "vjp" else None
    if guards:  # (what the checks on entry prove: the items of the lists and the fields
        # of the objects given are numbers, so `x = s[0]; x += v` binds a new number)
        kinds = number_kinds(numbers, guards.depths())
    scalars = kinds.numbers
    shares = any(  # (a number changed in place, `acc += x`, is a new number: shares nothing,
        # and no container holds it: with_held finds it nowhere, and it is written back
        # into none, `x = COEF[0]; x += v`, where it was read from)
        isinstance(s, ir.Assign) and s.logical
        and not (s.rule is SETITEM and (
            s.target in lists or s.target in kinds.sequences or _name_in(s.operands[2], scalars)
        ))
        and not (isinstance(s.value, ir.Name) and s.value.id in scalars)
        and not (s.rule is HELD and _name_in(s.operands[2], scalars))
        and s.target not in scalars  # (`x = s[0]` read again: a number, as it was)
        for s in ir.walk(forward.body)
    )
    if not guards or shares:
        return for_arrays(), None
    written = memory.written_roots(scalars)  # (reverse mode copies lists written in
    changes = any(  # place; a number's `x -= v` binds a new number)
        memory.roots_of(p) & written for p in (*forward.params, *forward.kwonly)
        if p not in scalars
    )
    floats = None if changes else forward_gradient(numbers, wrt, scalars, guards, mode)
    if floats is None:
        floats = reverse(
            numbers, wrt, active_numbers, mode=mode, scalar_guards=guards, memory=memory,
            scalars=scalars,
        )

    def array_version() -> ir.Function:
        arrays = for_arrays()
        return replace(arrays, name=array_version_name(arrays.name))

    return floats, array_version


def _name_in(expr: ir.Expr, names: Collection[str]) -> bool:
    return isinstance(expr, ir.Name) and expr.id in names


def compiled_version(
    variant: ir.Function,
    forward: ir.Function,
    source: FunctionSource,
    *,
    optimize: bool,
    for_floats: bool,
    free_early: bool,
) -> Version:
    """``variant`` optimised (``for_floats``: the version specialised to Python floats;
    ``free_early``: ``del`` each array once it is last used), emitted and compiled."""
    if optimize:
        variant = optimize_function(variant, for_floats=for_floats)
        if free_early:
            variant = free_memory(variant)
    if variant.on_float_error is not None and (
        array_api.MARKER in variant.bindings or not float_errors.may_raise(variant)
        or draws(variant)
    ):  # (no `try` it does not need; array-API code computes with its inputs' arrays; a
        # random draw would be drawn again by the run with numpy floats)
        variant = replace(variant, on_float_error=None)
    variant = array_api.port(variant, forward)  # (array-API code: the inputs' namespace)
    return emitted(variant, forward, f"{source.filename}:{source.node.lineno}")


def emitted(variant: ir.Function, forward: ir.Function, origin: str) -> Version:
    """``variant`` emitted and compiled (``origin``: the user's function, ``file:line``);
    tracebacks show each line's forward line of ``forward``."""
    text = emit.function(variant)
    where = emit.origins(text, forward)
    compiled = compile_function(
        text,
        variant.name,
        variant.bindings,
        tuple(variant.free_cells),
        origin=origin,
        annotated=emit.with_origins(text, forward, where),
        origins=where,
    )
    return Version(variant, compiled)


def real_arguments(function: Callable[..., Any], where: Location) -> Callable[..., Any]:
    """``function`` refusing complex arguments (numbers, arrays; in lists, tuples and
    dicts too), which Python would otherwise compute with: srcad's rules are for real
    numbers, and a complex literal in the code is refused too; ``np.matrix`` and
    structured arrays too (:func:`refuse_unreal`). Its results share no
    memory with each other or with the arguments (:func:`srcad.trees.unshared`)."""

    @functools.wraps(function)
    def real(*args: Any, **kwargs: Any) -> Any:
        refuse_unreal((*args, *kwargs.values()), where)
        try:
            result = function(*args, **kwargs)
        except SrcadError:
            raise
        except Exception as error:
            refusal = _other_library_refusal(error, (*args, *kwargs.values()))
            if refusal is None:
                raise
            raise refusal from error
        return trees.unshared(result, args)

    signature = getattr(function, "__signature__", None) or inspect.signature(function)
    real.__signature__ = signature  # type: ignore[attr-defined]
    real.__wrapped__ = getattr(function, "__wrapped__", function)
    # (the generated function: what grad(grad(f)) reads, as through `retried`)
    return real


def refuse_unreal(arguments: Collection[Any], where: Location) -> None:
    """Refuse arguments holding what srcad's rules do not compute with (see
    :func:`srcad.trees.unreal`): complex numbers, ``np.matrix``, structured arrays."""
    for value in arguments:
        found = trees.unreal(value)
        if found is not None:
            reason, hint = _UNREAL[found]
            raise UnsupportedSyntaxError(f"an argument holds {found}: {reason}", hint, where)


def _other_library_refusal(error: Exception, arguments: tuple[Any, ...]) -> SrcadError | None:
    """A refusal at the user's line for ``error``, raised by one of srcad's helpers on the
    arrays of another library (dask) that the arguments hold; None for any other error."""
    arrays = [
        item for value in arguments
        for item in (value if isinstance(value, list | tuple) else (value,))
        if is_duck_array(item)
    ]
    where = failing_helper_line(error) if arrays else None
    if where is None:
        return None
    library = type(arrays[0]).__module__.split(".")[0]
    return UnsupportedSyntaxError(
        f"srcad's gradient of this line does not work on {library} arrays yet "
        f"({type(error).__name__}: {str(error)[:160]})",
        "pass numpy arrays (`x.compute()` of a dask array) for this function",
        where,
    )


_UNREAL = {
    trees.COMPLEX: (
        "srcad's derivative rules are for real numbers, and a gradient through complex "
        "values would be wrong",
        "pass the real and imaginary parts as real arrays",
    ),
    trees.MATRIX: (
        "its `*` and `**` are matrix products, where srcad's rules for them are numpy "
        "arrays' elementwise ones, so the gradient would be wrong",
        "pass np.asarray(m), and write matrix products with `@`",
    ),
    trees.STRUCTURED: (
        "srcad differentiates arrays of numbers, not of records with named fields",
        "pass each field as an array of its own (`table['a']`, `table['b']`)",
    ),
}


def zero_safe_version(version: Version, forward: ir.Function) -> Version | None:
    """The version a gradient for arrays runs when its result holds nan (see
    :mod:`srcad.zero_safe`), or None where there is none: no adjoint arithmetic to make
    safe, or the gradient would draw its random numbers again. Made once per version."""
    made = version.__dict__.get("_zero_safe", _NOT_MADE)
    if made is _NOT_MADE:
        made = _made_zero_safe(version, forward)
        object.__setattr__(version, "_zero_safe", made)
    return made


_NOT_MADE = object()


def draws(listing: ir.Function) -> bool:
    """Whether ``listing`` draws random numbers (or changes other state): run again, it
    would compute with other numbers, and a generator passed in would advance again."""
    return any(isinstance(s, ir.Assign) and s.stateful for s in ir.walk(listing.body))


def _made_zero_safe(version: Version, forward: ir.Function) -> Version | None:
    variant = version.ir
    if draws(variant) or draws(forward):
        return None
    safe = zero_safe(variant)
    if all(a is b for a, b in zip(safe.body, variant.body)):
        return None
    origin = f"{forward.source_file}:{forward.source_line}"
    return emitted(replace(safe, name=f"{variant.name}_zero_safe"), forward, origin)


#: how to get the second derivatives srcad builds (from forward-mode code)
_AGAIN_HINT = (
    "differentiate it at most twice: grad of grad, hessian, hvp, jvp or jacobian of its "
    "grad are built from its forward-mode code; for an inner gradient step, write that "
    "gradient out in the function (`2 * X.T @ (X @ w - y)`)"
)


@dataclass(frozen=True)
class Version:
    """One generated gradient function: its IR and its compiled code."""

    ir: ir.Function
    compiled: Compiled

    @functools.cached_property
    def calls_numpy(self) -> bool:
        """Does it call numpy (see :func:`_calls_numpy`)? Found once: each bind asks."""
        return _calls_numpy(self.ir)


#: the recursion the passes may need: they walk expressions recursively, and Python
#: reads a sum of a few thousand terms (a polynomial pasted from a computer algebra system)
DEEP_RECURSION = 20_000


@contextlib.contextmanager
def room_for_deep_expressions() -> Iterator[None]:
    """Python's recursion limit raised to :data:`DEEP_RECURSION` while the passes run."""
    limit = sys.getrecursionlimit()
    if limit >= DEEP_RECURSION:
        yield
        return
    sys.setrecursionlimit(DEEP_RECURSION)
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


class LazyVersion:
    """A :class:`Version` made the first time it is read (by ``make``): the array version
    a float version falls back to, which scalar code never calls. Building it costs as
    much as the float version; a call with arrays, or reading the source, builds it."""

    def __init__(self, name: str, make: Callable[[], Version]) -> None:
        self.name = name
        self._make: Callable[[], Version] | None = make
        self._version: Version | None = None
        self._lock = threading.Lock()

    def made_already(self) -> Version | None:
        return self._version

    def made(self) -> Version:
        with self._lock:
            if self._version is None:
                assert self._make is not None
                with room_for_deep_expressions():
                    self._version = self._make()
                self._make = None  # (its closure: freed)
            return self._version

    @property
    def ir(self) -> ir.Function:
        return self.made().ir

    @property
    def compiled(self) -> Compiled:
        return self.made().compiled


def helper_checks(
    user_function: Any, dependencies: tuple[tuple[Any, Any, Any], ...]
) -> tuple[tuple[Any, Any, Any, Any], ...]:
    """What :func:`all_current` checks for code built from ``user_function`` that inlined
    ``dependencies`` (see :meth:`Gradient.dependencies`): each helper once, with the
    function whose code to compare (a partial's own function); and the defaults of
    ``user_function`` and of those helpers, as they are now."""
    checks: dict[tuple[Any, ...], tuple[Any, Any, Any, Any]] = {}
    functions: list[Any] = [user_function]
    for lookup, obj, code in dependencies:
        if isinstance(obj, types.MethodType):  # (`norm.cdf`: a new bound method each time
            # it is read, so its function and its object are what stay the same)
            function = obj.__func__
            for part, held, compared in (("__func__", function, code), ("__self__", obj.__self__,
                                                                         None)):
                bound = functools.partial(_bound_part, lookup, part)
                checks.setdefault((id(held), id(compared), _lookup_key(bound)),
                                  (bound, held, function if compared is not None else None,
                                   compared))
            functions.append(function)
            continue
        function = obj.func if isinstance(obj, functools.partial) else obj
        checks.setdefault((id(obj), id(code), _lookup_key(lookup)), (lookup, obj, function, code))
        functions.append(function)
    for function in functions:  # (`f.__defaults__ = ...`, of f or of a helper it inlined)
        for attribute in ("__defaults__", "__kwdefaults__"):
            held = getattr(function, attribute, None)
            if held:
                lookup = functools.partial(getattr, function, attribute)
                checks.setdefault((id(held), 0), (lookup, held, None, None))
        names = getattr(function, "__globals__", {})
        for name in _modules_renamed(function):  # (`M = math` after `M = np`)
            lookup = functools.partial(names.get, name)
            checks.setdefault((id(names), name), (lookup, names[name], None, None))
    return tuple(checks.values())


def _bound_part(lookup: Callable[[], Any], part: str) -> Any:
    """The function (``__func__``) or the object (``__self__``) of the bound method
    ``lookup`` finds now (None: it finds no bound method)."""
    return getattr(lookup(), part, None)


def _lookup_key(lookup: Any) -> Any:
    """What tells two lookups of :func:`helper_checks` apart: the namespace and the name
    they read (``A = h; B = h`` are two names to check), else the lookup itself."""
    if not isinstance(lookup, functools.partial):
        return id(lookup)
    owner = getattr(lookup.func, "__self__", None)  # (a dict's get: the dict)
    return (
        id(lookup.func) if owner is None else id(owner),
        getattr(lookup.func, "__name__", ""),
        tuple(a if isinstance(a, str) else _lookup_key(a) for a in lookup.args),
    )


#: the names modules are imported as by convention, besides their own (``np``)
_IMPORT_NAMES = {"numpy": "np", "scipy": "sp"}


def _modules_renamed(function: Any) -> list[str]:
    """The globals that the code of ``function`` (and of the defs and lambdas in it)
    reads and that hold a module under a name other than its own or its conventional
    one: ``M = np``, ``xp = numpy``. A backend switch rebinds such a name; srcad read
    the module it held when it compiled (its rules, ``hasattr(M, ...)``), so the
    gradient is made again then. (``np`` and ``math`` are taken to stay what they are.)"""
    names = getattr(function, "__globals__", None)
    code = getattr(function, "__code__", None)
    if names is None or code is None or installed(code.co_filename):
        return []  # (a library's own aliases, numpy's `NX`: they stay what they are)
    found: list[str] = []
    codes = [code]
    while codes:
        current = codes.pop()
        codes.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
        for name in current.co_names:
            module = names.get(name)
            if (
                isinstance(module, types.ModuleType)
                and name not in found
                and name != module.__name__.rpartition(".")[2]
                and name != _IMPORT_NAMES.get(module.__name__)
            ):
                found.append(name)
    return found


#: srcad's helpers that give numpy's inf (a number's slope where it is infinite) where
#: a float's arithmetic would raise (a power's raises: see reverse.FOR_NUMBERS)
_INFINITE_SLOPES = (divide, divide_or_zero)


def _calls_numpy(fn: ir.Function) -> bool:
    """Does ``fn`` call numpy (``np.sqrt(t)``, ``sqrt(t)`` of ``from numpy import sqrt``),
    or a rule's quotient that gives numpy's inf or nan where a float's would raise
    (``math.sqrt``'s slope at 0: :func:`srcad.runtime.divide`, ``divide_or_zero``)?"""
    held = {**fn.free_objects, **fn.bindings}
    if any(value in _INFINITE_SLOPES for value in fn.bindings.values()):
        return True  # (round 75b: a self-distance's sqrt(0) in a loop over floats, nan)
    for stmt in ir.walk(fn.body):
        for expr in ir.expressions_of(stmt):
            for node in ir.nodes(expr):
                names = chain_names(node.func) if isinstance(node, ir.Call) else None
                if names and _numpy_callable(held.get(names[0])):
                    return True
    return False


def _numpy_callable(value: Any) -> bool:
    """numpy, or a function or ufunc of it (what a float version may call and get numpy
    numbers)."""
    if isinstance(value, types.ModuleType):
        return value.__name__.split(".")[0] == "numpy"
    return isinstance(value, np.ufunc) or (
        callable(value) and (getattr(value, "__module__", None) or "").startswith("numpy")
    )


def all_current(checks: tuple[tuple[Any, Any, Any, Any], ...]) -> bool:
    """Whether every helper in ``checks`` (see :meth:`Gradient.currency_checks`) is
    still what its name holds, with the same code. (A gradient that inlined helpers
    checks this on every call: keep it cheap.)"""
    for lookup, obj, function, code in checks:
        if lookup() is not obj or (code is not None and function.__code__ is not code):
            return False  # (the same function object may get new code: autoreload)
    return True


@dataclass(frozen=True)
class Gradient:
    """Everything srcad built for one (function, wrt, mode, optimize): kept in the cache.

    ``versions`` holds the function the user calls first and, when that one is the
    fast version for Python floats, the array version it falls back to.
    """

    forward: ir.Function
    versions: tuple[Version | LazyVersion, ...]
    forward_source: str
    wrt: tuple[str, ...]
    user_function: types.FunctionType
    #: the gradient this one differentiates again (``grad(grad(f))``), if any
    differentiates: Gradient | None = None
    #: what was built: "grad", "value_and_grad", "vjp" or "jvp"
    mode: str = "grad"

    @property
    def compiled(self) -> Compiled:
        return self.versions[0].compiled

    @property
    def gradient(self) -> ir.Function:
        return self.versions[0].ir

    @property
    def backward_source(self) -> str:
        """The source of every version, as it runs (making the array version)."""
        sources = [v.compiled.source for v in self.versions]
        if len(sources) > 1:
            sources[1] = ARRAY_VERSION_HEADER + sources[1]
        return "\n".join(sources)

    def source_so_far(self) -> str:
        """:attr:`backward_source` without making an array version no call has needed
        yet: a closing comment names it instead, and how to print it."""
        later = self.versions[-1]
        if not isinstance(later, LazyVersion) or later.made_already() is not None:
            return self.backward_source
        return (
            self.versions[0].compiled.source
            + f"\n# ({later.name}, the same gradient for numpy arrays, is generated at its "
            "first call; srcad.show(f, verbose=True) prints it)\n"
        )

    def listing(self, verbose: bool = False) -> str:
        """The generated gradient for reading: the function the user calls, without its
        bookkeeping lines, and a line naming the version for arrays it falls back to;
        ``verbose``: every version as it runs (:attr:`backward_source`)."""
        if verbose:
            return self.backward_source
        first = emit.function(self.versions[0].ir, verbose=False)
        if len(self.versions) == 1:
            return first
        fallback = array_version_name(self.versions[0].ir.name)
        return (
            first + f"\n# (for numpy arrays it calls {fallback}, the same gradient; "
            "show(f, verbose=True) or srcad show --verbose prints it)\n"
        )

    def value_at(self, user_function: Any) -> Callable[..., Any]:
        """How to find the function's value from a call's arguments and this
        derivative's result: that of ``value_and_grad`` and ``jvp`` holds it first, a
        gradient's is a call of ``user_function`` (on copies: it may write into its
        arguments)."""
        if self.mode in ("value_and_grad", "jvp"):
            return lambda result, args, kwargs: result[0]
        return lambda result, args, kwargs: user_function(
            *trees.fresh(args), **trees.fresh(kwargs)
        )

    def checked_by(self, user_function: Any) -> Callable[..., bool]:
        """How a zero-safe result of this gradient is checked against central differences
        of ``user_function`` (:func:`srcad.zero_safe.differences_agree`)."""
        positions = {w: self.forward.params.index(w) for w in self.wrt if w in self.forward.params}
        several = len(self.wrt) > 1

        def gradients(result: Any) -> tuple:
            grads = result[1] if self.mode == "value_and_grad" else result
            return tuple(grads) if several else (grads,)

        def agrees(args: tuple, kwargs: dict, value: Any, plain: Any, safe: Any) -> bool:
            where: list[int | str] = [  # (a position given, else the name: a keyword)
                positions[w] if positions.get(w, len(args)) < len(args) else w
                for w in self.wrt
            ]
            if any(isinstance(w, str) and w not in kwargs for w in where):
                return True  # (a default: not a value the check can move)
            return differences_agree(
                user_function, where, args, kwargs, value, gradients(plain), gradients(safe)
            )

        return agrees

    def zero_safe(self) -> Gradient | None:
        """This derivative's version for arrays alone, zero-safe (:mod:`srcad.zero_safe`);
        None where that changes nothing."""
        last = self.versions[-1]
        made = last.made() if isinstance(last, LazyVersion) else last
        safe = zero_safe_version(made, self.forward)
        return None if safe is None else replace(self, versions=(safe,))

    def bind(
        self,
        user_function: types.FunctionType | None = None,
        fallback: Any = None,
        plain: bool = False,
    ) -> types.FunctionType:
        """The callable gradient reading ``user_function``'s globals and closure cells
        (``user_function`` may be another closure made by the same ``def``; a function
        with other code, such as one srcad differentiates by its rule's caller, is not).
        ``fallback``: what an unrolled Hessian calls for what it does not cover.
        ``plain``: the generated function itself, not run again zero-safe where it gives
        nan (what srcad reads to differentiate it again)."""
        if (
            user_function is None
            or getattr(user_function, "__code__", None) is not self.user_function.__code__
        ):
            user_function = self.user_function
        cells = dict(zip(user_function.__code__.co_freevars, user_function.__closure__ or ()))

        stand_ins = {ARRAY_VERSION: None, FALLBACK: fallback, USER_FUNCTION: user_function}

        def bound_version(version: Version, later: Any) -> types.FunctionType:
            overrides = {
                n: later if v is ARRAY_VERSION else stand_ins[v]
                for n, v in version.compiled.bindings.items()
                if v is ARRAY_VERSION or v is FALLBACK or v is USER_FUNCTION
            }
            free_cells = {name: cells[name] for name in version.ir.free_cells}
            return version.compiled.bind(user_function, free_cells, overrides)

        def retried(function: Any, careful: Callable[[], Any]) -> Any:
            """``function``, run again as ``careful()`` where its result holds nan, and
            refusing complex arguments (:func:`real_arguments`); as it is for ``plain``,
            for jvp code (read again: grad of grad, Hessians) and for an unrolled Hessian's
            fallback."""
            if plain or self.mode not in ("grad", "value_and_grad") or fallback is not None:
                return function
            where = Location(self.forward.source_file, self.forward.source_line)
            return real_arguments(retried_where_nan(
                function, careful, self.value_at(user_function), self.checked_by(user_function)
            ), where)

        def for_arrays(version: Version) -> Any:
            """The array version, run again zero-safe where its result holds nan."""
            function = bound_version(version, None)

            def careful() -> Any:
                safe = zero_safe_version(version, self.forward)
                return None if safe is None else bound_version(safe, None)

            return retried(function, careful)

        first, *rest = self.versions
        assert isinstance(first, Version) and len(rest) <= 1  # (at most one fallback)
        if not rest:
            return for_arrays(first)
        (lazy,) = rest
        assert isinstance(lazy, LazyVersion)  # (the array version: made when first needed)

        def for_floats(function: types.FunctionType) -> Any:
            """The float version, run again as the zero-safe array version where its
            result holds nan: numpy's functions of a float give numpy numbers, whose
            ``1 / 0`` is inf, not an error (``np.sqrt`` of a self-distance's 0)."""
            if not first.calls_numpy:
                return function  # (Python's floats raise instead: the array version runs)

            def careful() -> Any:
                if draws(self.forward):
                    return None  # (run again, it would draw other numbers)
                arrays = lazy.made()
                safe = zero_safe_version(arrays, self.forward)
                return bound_version(arrays if safe is None else safe, None)

            return retried(function, careful)

        made = lazy.made_already()
        if made is not None:
            return for_floats(bound_version(first, for_arrays(made)))
        # the array version is made and bound at its first call, which then puts it in
        # the float version's cell in place of this stand-in
        cells_of_first: list[types.CellType] = []

        def array_version(*args: Any, **kwargs: Any) -> Any:
            function = for_arrays(lazy.made())
            for cell in cells_of_first:
                cell.cell_contents = function
            return function(*args, **kwargs)

        bound = bound_version(first, array_version)
        closure = dict(zip(bound.__code__.co_freevars, bound.__closure__ or ()))
        cells_of_first += [
            closure[n] for n, v in first.compiled.bindings.items() if v is ARRAY_VERSION
        ]
        return for_floats(bound)

    def second_order_obstacle(self) -> str | None:
        """Why its generated source cannot be read and differentiated again: "loops"
        (it saves values on a tape), "arrays" (it calls numpy gradient helpers that
        have no rules), or None. Second derivatives then come from the forward-mode
        code of the function it differentiates (see :mod:`srcad.higher`)."""
        version = self.versions[0]
        if any(
            isinstance(s, ir.Push) or (self.mode != "jvp" and isinstance(s, ir.Loop))
            for s in ir.walk(version.ir.body)
        ):  # (a backward loop that saves nothing, too: it adds into items with add_at)
            return "loops"
        if self.mode != "jvp" and any(  # (a tangent helper is numpy code srcad reads)
            isinstance(v, types.FunctionType)
            and v.__module__ in (numpy_grads.__name__, array_api_grads.__name__)
            and not TABLE.has_callable(v)
            for v in version.ir.bindings.values()
        ):
            return "arrays"
        return None

    def as_source(
        self, user_function: types.FunctionType | None = None
    ) -> tuple[types.FunctionType, str, str, int]:
        """What the frontend needs to differentiate the generated gradient again: the
        version for floats without its type check, or the only version there is, bound
        to ``user_function``'s closure cells (see :meth:`bind`)."""
        version = self.versions[0]
        body = list(version.ir.body)
        if len(self.versions) > 1:  # drop the float check that calls the array version
            body = without_float_guard(version.ir)
        where = Location(self.forward.source_file, self.forward.source_line, 0)
        obstacle = self.second_order_obstacle()
        if obstacle == "loops":
            loops = [s.loc for s in ir.walk(self.forward.body) if isinstance(s, ir.Loop)]
            mine = [loc for loc in loops if loc.filename == where.filename and loc.lineno]
            where = min(mine, key=lambda loc: loc.lineno, default=where)  # the first loop
            raise UnsupportedSyntaxError(
                "third and higher derivatives of a function with loops are not supported "
                "(nor second derivatives of its value_and_grad, or with keyword-only "
                "parameters, or through a call of its srcad gradient inside another "
                "function, such as an inner gradient step)",
                _AGAIN_HINT,
                where,
            )
        if obstacle == "arrays":
            raise UnsupportedSyntaxError(
                "third and higher derivatives of a function of numpy arrays are not "
                "supported (nor second derivatives of its value_and_grad, or with "
                "keyword-only parameters, or through a call of its srcad gradient inside "
                "another function, such as an inner gradient step)",
                _AGAIN_HINT,
                where,
            )
        source = emit.function(version.ir.with_body(body, on_float_error=None))
        bound = self.bind(user_function, plain=True)
        return bound, source, self.compiled.filename, self.compiled.firstlineno

    def dependencies(self) -> tuple[tuple[Any, Any, Any], ...]:
        """The helpers it inlined, here and in the gradient it differentiates again, as
        (how to look one up now, what it was, its code): see :func:`all_current`."""
        inner = self.differentiates
        return self.forward.dependencies + (inner.dependencies() if inner is not None else ())

    def __post_init__(self) -> None:
        # (the checks hold what the helpers and defaults are now, as it is built)
        object.__setattr__(self, "_currency_checks", self._made_currency_checks())

    def currency_checks(self) -> tuple[tuple[Any, Any, Any, Any], ...]:
        """:meth:`dependencies` for :func:`all_current`: each helper once, with the
        function whose code to compare (a partial's own function); and the defaults of
        ``f`` and of those helpers, as they were when it was built."""
        checks: tuple[tuple[Any, Any, Any, Any], ...] = self.__dict__["_currency_checks"]
        return checks

    def _made_currency_checks(self) -> tuple[tuple[Any, Any, Any, Any], ...]:
        return helper_checks(self.user_function, self.dependencies())

    def is_current(self) -> bool:
        """False when a helper it inlined has since been redefined."""
        return all_current(self.currency_checks())
