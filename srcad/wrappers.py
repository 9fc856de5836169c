"""Decorators' wrappers: whether srcad reads a wrapper, or the function it wraps.

A decorator's wrapper is part of the function: ``return 2.0 * fn(x)`` changes its value,
``MODE["train"] = False`` around the call changes what ``fn`` computes. srcad reads the
wrapper itself, except when it provably only forwards: it passes its own arguments to
the function it wraps, unchanged, returns that call's result, unchanged, and does nothing
else than observe (a timer, a print or a log line). Then srcad reads the wrapped function
instead (it could not read the wrapper's ``*args`` and ``**kwargs``).
"""

from __future__ import annotations

import ast
import functools
import inspect
import itertools
import textwrap
import types
from typing import Any

from . import astwalk
from .load import defined

#: what an observing line may call: the clock, printing, logging, warnings
_CLOCKS = frozenset(("perf_counter", "perf_counter_ns", "time", "time_ns", "monotonic",
                     "process_time"))
_REPORTS = frozenset(("print", "debug", "info", "warning", "error", "critical", "exception",
                      "log", "warn"))


def only_forwards(wrapper: types.FunctionType) -> bool:
    """Whether ``wrapper`` (with a ``__wrapped__``) only forwards its arguments to the
    function it wraps and returns the result (see the module)."""
    wrapped = getattr(wrapper, "__wrapped__", None)
    if wrapped is None or wrapper.__defaults__ or wrapper.__kwdefaults__:
        return False  # (defaults of its own: calls without them differ from the function's)
    node = _function_node(wrapper.__code__)
    if node is None:
        return False
    cells = dict(zip(wrapper.__code__.co_freevars, wrapper.__closure__ or ()))

    def calls_wrapped(value: ast.expr | None) -> bool:
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
            return False
        cell = cells.get(value.func.id)
        found = cell.cell_contents if cell is not None else wrapper.__globals__.get(value.func.id)
        return found is wrapped and _passes_own_arguments(value, node.args)

    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # (a docstring)
    if not body or not isinstance(body[-1], ast.Return):
        return False
    own = {a.arg for a in astwalk.walk(node.args) if isinstance(a, ast.arg)}
    if calls_wrapped(body[-1].value):
        rest = body[:-1]
    else:
        calls = [k for k, s in enumerate(body[:-1])
                 if isinstance(s, ast.Assign) and calls_wrapped(s.value)]
        if len(calls) != 1:
            return False
        call = body[calls[0]]
        assert isinstance(call, ast.Assign)
        result = call.targets[0] if len(call.targets) == 1 else None
        returned = body[-1].value
        if not (isinstance(result, ast.Name) and isinstance(returned, ast.Name)
                and returned.id == result.id):
            return False
        own.add(result.id)
        rest = body[: calls[0]] + body[calls[0] + 1 : -1]
    return all(_observes(stmt, own) for stmt in rest)


def _passes_own_arguments(call: ast.Call, arguments: ast.arguments) -> bool:
    """``fn(a, b, *args, c=c, **kwargs)``: each parameter of the wrapper, in order."""
    positional = [("", a.arg) for a in arguments.posonlyargs + arguments.args]
    if arguments.vararg is not None:
        positional.append(("*", arguments.vararg.arg))
    keywords: list[tuple[str | None, tuple[str, str] | None]] = [
        (a.arg, ("", a.arg)) for a in arguments.kwonlyargs
    ]
    if arguments.kwarg is not None:
        keywords.append((None, ("", arguments.kwarg.arg)))
    return [_named(a) for a in call.args] == positional and [
        (k.arg, _named(k.value)) for k in call.keywords
    ] == keywords


def _named(expr: ast.expr) -> tuple[str, str] | None:
    """``("", "x")`` for ``x``, ``("*", "args")`` for ``*args``, else None."""
    if isinstance(expr, ast.Starred):
        return ("*", expr.value.id) if isinstance(expr.value, ast.Name) else None
    return ("", expr.id) if isinstance(expr, ast.Name) else None


def _observes(stmt: ast.stmt, own: set[str]) -> bool:
    """A line that only observes: ``t0 = time.perf_counter()`` (arithmetic of clock
    readings, bound to a name), or a call of ``print``, a logger or ``warnings.warn``,
    which may read the arguments and the result."""
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        func = stmt.value.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        arguments = [*stmt.value.args, *(k.value for k in stmt.value.keywords)]
        return name in _REPORTS and not any(  # (what it prints calls nothing: no effects)
            isinstance(n, ast.Call | ast.NamedExpr) for a in arguments for n in astwalk.walk(a)
        )
    if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets):
        return all(
            not (isinstance(n, ast.Name) and n.id in own)
            and not isinstance(n, ast.Subscript | ast.Lambda | ast.NamedExpr)
            and (not isinstance(n, ast.Call) or getattr(n.func, "attr", None) in _CLOCKS)
            for n in astwalk.walk(stmt.value)
        )
    return False


@functools.lru_cache(maxsize=256)
def _function_node(code: types.CodeType) -> ast.FunctionDef | None:
    """The ``def`` of ``code`` (None: no source, or not a ``def``)."""
    try:
        lines, _ = inspect.getsourcelines(code)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return None
    node = tree.body[0] if tree.body else None
    return node if isinstance(node, ast.FunctionDef) else None


def takes_star_arguments(fn: Any) -> bool:
    """Whether ``fn``'s own code takes ``*args`` or ``**kwargs`` (a decorator's wrapper)."""
    code = getattr(fn, "__code__", None)
    return code is not None and bool(code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS))


_counter = itertools.count(1)


def wrapper_caller(wrapper: Any) -> types.FunctionType | None:
    """For a decorator's wrapper that takes ``*args``/``**kwargs`` (and does more than
    forward them), a function with the signature of the function it wraps that calls it:
    ``def energy(x, k=2.0): return decorated(x, k=k)``. srcad differentiates that one,
    reading the wrapper as a helper called with these arguments. None: not such a
    wrapper, or the wrapped function takes ``*args`` itself."""
    if not (isinstance(wrapper, types.FunctionType) and takes_star_arguments(wrapper)):
        return None
    wrapped = getattr(wrapper, "__wrapped__", None)
    if wrapped is None or only_forwards(wrapper):
        return None
    try:
        signature = inspect.signature(wrapped)
    except (TypeError, ValueError):
        return None
    params, args, defaults, kwdefaults = [], [], [], {}
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            return None
        if param.kind is param.KEYWORD_ONLY:
            if "*" not in params:
                params.append("*")
            args.append(f"{param.name}={param.name}")
            if param.default is not param.empty:
                kwdefaults[param.name] = param.default
        else:
            args.append(param.name)
            if param.default is not param.empty:
                defaults.append(param.default)
        params.append(param.name)
    name = getattr(wrapped, "__name__", "f")
    name = name if name.isidentifier() else "f"
    callee = "decorated"
    while callee == name or callee in params:  # (the user's names: theirs)
        callee = "_" + callee
    source = f"def {name}({', '.join(params)}):\n    return {callee}({', '.join(args)})\n"
    filename = f"<srcad: {getattr(wrapper, '__qualname__', name)} as decorated #{next(_counter)}>"
    caller: types.FunctionType = defined(source, filename, {callee: wrapper}, name)
    caller.__defaults__ = tuple(defaults) or None
    caller.__kwdefaults__ = kwdefaults or None
    return caller


__all__ = ["only_forwards", "takes_star_arguments", "wrapper_caller"]
