"""``backend="numba"``: the generated gradient compiled by numba's ``njit``.

The listing is the version for Python floats (see :mod:`srcad.reverse`), rewritten in
three ways numba's nopython mode needs, and nothing else:

- no type check up front (numba compiles one specialisation per argument type);
- one tape per saved name (``tape_x = []``, ``tape_x.append(x)``, ``x = tape_x.pop()``):
  a numba list holds one type, and a name keeps its type in compiled code;
- a backward loop ``reversed(range(...)[:n])`` as a ``range`` that counts down.

Code numba cannot compile (a library call it does not know, a list of mixed types)
raises :class:`~srcad.errors.CompiledBackendError` at the user's line numba stopped at.
numba is an optional dependency (``pip install srcad[numba]``).
"""

from __future__ import annotations

import builtins
import inspect
import re
import types
from dataclasses import replace
from typing import Any

import numpy as np

from . import emit, ir
from .errors import CompiledBackendError, Location
from .load import compile_function, origin

BACKENDS = ("python", "numba")

_COUNT_DOWN_NOTE = "numba: the backward loop counts down"


def numba_module() -> Any:
    """numba, or a :class:`CompiledBackendError` that says how to install it."""
    try:
        import numba
    except ImportError:  # pragma: no cover - depends on the environment
        raise CompiledBackendError(
            "backend='numba' needs numba, which is not installed",
            "pip install 'srcad[numba]' (or pip install numba)",
            None,
        ) from None
    return numba


def for_numba(fn: ir.Function, guard_free_body: list[ir.Stmt]) -> ir.Function:
    """``fn`` (a version for Python floats, whose body without its type check is
    ``guard_free_body``) as nopython-mode numba compiles it."""
    saved = sorted({s.name for s in ir.walk(guard_free_body) if isinstance(s, ir.Push | ir.Pop)})
    tapes = {name: f"tape_{name}" for name in saved}
    body = _NumbaTapes(tapes, fn.bindings).visit_body(guard_free_body)
    # (numba takes no keyword-only parameters: they come last, by position)
    return replace(fn.with_body(body), params=fn.params + fn.kwonly, kwonly=())


class _NumbaTapes(ir.Transformer):
    def __init__(self, tapes: dict[str, str], bindings: Any) -> None:
        self.tapes = tapes
        self.bindings = bindings

    def visit_Tape(self, stmt: ir.Tape) -> list[ir.Stmt]:
        return [ir.Assign(tape, ir.Tuple((), is_list=True)) for tape in self.tapes.values()]

    def visit_Push(self, stmt: ir.Push) -> ir.Stmt:
        return ir.Push(stmt.name, via=f"{self.tapes[stmt.name]}.append")

    def visit_Pop(self, stmt: ir.Pop) -> ir.Stmt:
        return ir.Pop(stmt.name, via=f"{self.tapes[stmt.name]}.pop")

    def visit_Loop(self, stmt: ir.Loop) -> ir.Stmt:
        loop = self.generic_visit(stmt)
        assert isinstance(loop, ir.Loop)
        counted = self.counted_down(loop.iterable)
        return loop if counted is None else replace(loop, iterable=counted)

    def builtin(self, expr: ir.Expr | None, obj: Any) -> bool:
        """Whether ``expr`` names the builtin ``obj`` (bound by srcad, or by its name)."""
        if not isinstance(expr, ir.Name):
            return False
        if expr.id in self.bindings:
            return bool(self.bindings[expr.id] is obj)
        return bool(expr.id == obj.__name__)

    def counted_down(self, iterable: ir.Expr | None) -> ir.Expr | None:
        """``reversed(range(a, b, s)[:n])`` (``[:n]`` optional) as
        ``range(last, a - s, -s)``: numba has no ``reversed`` of a range."""
        if not (
            isinstance(iterable, ir.Call)
            and self.builtin(iterable.func, builtins.reversed)
            and len(iterable.args) == 1
        ):
            return None
        inner, count = iterable.args[0], None
        if isinstance(inner, ir.Subscript):
            index = inner.index
            if not isinstance(index, ir.Slice) or index.lower is not None or index.step:
                return None
            inner, count = inner.value, index.upper
        if not (isinstance(inner, ir.Call) and self.builtin(inner.func, builtins.range)):
            return None
        args = list(inner.args)
        one = ir.Const(1)
        start: ir.Expr
        stop: ir.Expr
        step: ir.Expr
        if len(args) == 1:
            start, stop, step = ir.Const(0), args[0], one
        else:
            start, stop, step = args[0], args[1], args[2] if len(args) > 2 else one
        if step == one and count is None:  # range(a, b): from b - 1 down to a
            return _range(_minus(stop, one), _minus(start, one), ir.Const(-1))
        length: ir.Expr = ir.Call(ir.Name("len"), (inner,))
        if count is not None:
            length = ir.Call(ir.Name("min"), (length, count))
        last = ir.BinOp("+", start, ir.BinOp("*", _minus(length, one), step))
        return _range(last, _minus(start, step), ir.UnaryOp("-", step))


def _range(*args: ir.Expr) -> ir.Expr:
    return ir.Call(ir.Name("range"), args)


def _minus(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    """``a - b``, folded when both are int constants."""
    if isinstance(a, ir.Const) and isinstance(b, ir.Const):
        if type(a.value) is int and type(b.value) is int:
            return ir.Const(a.value - b.value)
    return ir.BinOp("-", a, b)


# What the version for floats calls, as numba compiles it: the same meaning on lists of
# numbers (a list argument arrives as a float64 array, see :func:`_arguments`).


def _same(value: Any) -> Any:
    return value


def _copied(items: Any) -> Any:
    return [item for item in items]


def _each_gets(g: Any, items: Any) -> Any:
    return [g for _ in range(len(items))]


def _gradient_of_items(g: Any, items: Any) -> Any:
    return g


def _zeros(items: Any) -> Any:
    return np.zeros(len(items))


def _divide(numerator: Any, denominator: Any) -> Any:
    return numerator / denominator  # (inf or nan at 0: numba's numpy error model)


def _sign(x: Any) -> Any:
    return (x > 0) - (x < 0)


def _log(x: Any) -> Any:
    return np.log(x)


def _each_gets_array(g: Any, items: Any) -> Any:
    return np.full(len(items), g)


def _twins() -> dict[Any, Any]:
    """The runtime helpers of the version for floats -> what numba compiles instead."""
    from . import runtime
    from .rules import numpy_grads

    return {
        runtime.divide: _divide,
        numpy_grads.sign: _sign,
        runtime.log_of_number: _log,
        numpy_grads.fsum_grad: _each_gets_array,
        runtime.loop_items: _same,
        runtime.loop_items_grad: _gradient_of_items,
        runtime.structured_like: _gradient_of_items,  # (lists are remade by _as_given)
        runtime.zeros_like: _zeros,  # (of a list argument: numbers are 0.0 in the listing)
        runtime.fresh_copy: _copied,
        numpy_grads.sum_items_grad: _each_gets,
    }


def compiled(built: Any, user_function: types.FunctionType) -> Any:
    """The numba-compiled gradient of ``built`` (a :class:`~srcad.pipeline.Gradient`),
    reading ``user_function``'s globals; a plain function that calls the dispatcher and
    turns numba's compile errors into :class:`CompiledBackendError` at the user's line."""
    key = (id(built), user_function)
    kept = _COMPILED.get(key)
    if kept is None or kept[0] is not built:
        kept = _COMPILED[key] = (built, _compiled(built, user_function))
    return kept[1]


def _compiled_twin(numba: Any, twin: Any) -> Any:
    """``twin`` compiled as the gradient is (``x / 0.0`` is inf or nan, not an error)."""
    return numba.njit(twin, error_model="numpy")

#: (id of a Gradient, the user's code) -> (the Gradient, its compiled gradient)
_COMPILED: dict[tuple[int, Any], tuple[Any, Any]] = {}


def _compiled(built: Any, user_function: types.FunctionType) -> Any:
    numba = numba_module()
    from .reverse import without_float_guard

    where = Location(built.forward.source_file, built.forward.source_line, 0)
    if len(built.versions) < 2:
        raise CompiledBackendError(
            "backend='numba' compiles srcad's version of a gradient for Python numbers "
            "(floats, ints, lists of them, loops, branches, math), and this function has "
            "none: it works on arrays, dicts or objects",
            "use the default backend (backend='python') for this function",
            where,
        )
    floats = built.versions[0].ir
    numba_ir = for_numba(floats, without_float_guard(floats))
    text = emit.function(numba_ir)
    where_lines = emit.origins(text, built.forward)
    twins = _twins()
    bindings = {
        name: _compiled_twin(numba, twins[value])
        if isinstance(value, types.FunctionType) and value in twins else value
        for name, value in numba_ir.bindings.items()
    }
    made = compile_function(
        text,
        numba_ir.name,
        bindings,
        tuple(numba_ir.free_cells),
        origin=f"{built.forward.source_file}:{built.forward.source_line} (numba)",
        origins=where_lines,
    )
    if getattr(user_function, "__code__", None) is not built.user_function.__code__:
        user_function = built.user_function
    cells = dict(zip(user_function.__code__.co_freevars, user_function.__closure__ or ()))
    python = made.bind(user_function, {n: cells[n] for n in numba_ir.free_cells})
    dispatcher = numba.njit(python, error_model="numpy")  # (x / 0.0: inf, as srcad's divide)
    kinds = numba.core.errors
    errors = (kinds.TypingError, kinds.UnsupportedError, kinds.LoweringError)

    positions = [numba_ir.params.index(name) for name in built.wrt]

    signature = inspect.signature(user_function)

    names = numba_ir.params

    def gradient(*args: Any, **kwargs: Any) -> Any:
        if kwargs or len(args) != len(names):  # (numba takes every argument by position)
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            args = tuple(bound.arguments[name] for name in names)
        given = None
        for a in args:
            if a.__class__ not in _NUMBERS:
                given, args = args, _arguments(args, names, where)
                break
        try:
            result = dispatcher(*args)
        except errors as error:
            raise _located(error, made.filename, where) from None
        return _as_given(result, built.mode, [given[k] for k in positions]) if given else result

    gradient.compiled_source = text  # type: ignore[attr-defined]
    gradient.dispatcher = dispatcher  # type: ignore[attr-defined]
    return gradient


def _as_given(result: Any, mode: str, wrt_args: list[Any]) -> Any:
    """The gradient of a list (tuple) argument as a list (tuple) of floats, as the
    default backend gives it: the compiled code sees and returns float64 arrays."""
    value, grads = result if mode == "value_and_grad" else (None, result)
    many = len(wrt_args) > 1
    parts = list(grads) if many else [grads]
    parts = [
        type(a)(p.tolist()) if isinstance(a, list | tuple) and isinstance(p, np.ndarray) else p
        for a, p in zip(wrt_args, parts)
    ]
    grads = tuple(parts) if many else parts[0]
    return (value, grads) if mode == "value_and_grad" else grads


_NUMBERS = (float, int, bool)


def _arguments(args: tuple[Any, ...], params: tuple[str, ...], where: Location) -> tuple[Any, ...]:
    """numpy's scalars as Python numbers, lists and tuples of numbers as float64 arrays
    (numba's lists of Python objects are deprecated); anything else is refused: the
    compiled listing is the version for numbers, whose gradients would not sum over
    an array's broadcasting."""
    out = []
    for name, a in zip(params, args):
        if isinstance(a, np.generic) and a.dtype.kind in "biuf":
            out.append(a.item())
        elif isinstance(a, list | tuple) and all(
            isinstance(item, _NUMBERS + (np.generic,)) for item in a
        ):
            out.append(np.asarray(a, dtype=np.float64))
        elif a.__class__ in _NUMBERS:
            out.append(a)
        else:
            raise CompiledBackendError(
                f"backend='numba' compiles the gradient for Python numbers (and lists of "
                f"them), and {name} is a {type(a).__module__}.{type(a).__qualname__}",
                "use the default backend (backend='python') for arrays and other values",
                where,
            )
    return tuple(out)


_GENERATED_LINE = re.compile(r'File "(<srcad [^"]*>)", line (\d+)')


def _located(error: Exception, filename: str, fallback: Location) -> CompiledBackendError:
    """numba's compile error as the user's line it stopped at, with numba's first line."""
    message = str(error)
    where = fallback
    for name, line in _GENERATED_LINE.findall(message):
        found = origin(name, int(line))
        if found is not None:
            where = found
            break
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    first = lines[1] if len(lines) > 1 and lines[0].startswith("Failed in") else (
        lines[0] if lines else type(error).__name__)
    return CompiledBackendError(
        f"numba cannot compile the gradient of this line: {first}",
        "use the default backend (backend='python'), or write this line with the "
        "numbers and numpy functions numba supports",
        where,
    )
