"""A function with a derivative rule, passed to srcad as it is (``srcad.grad(np.tanh)``,
``srcad.grad(scipy.special.logsumexp)``): srcad differentiates a one-line function that
calls it, so that its rule gives the derivative.

That is how a function without Python source (a ufunc) is differentiated, and a library
function whose code srcad cannot read (SciPy's array-API dispatch). The caller takes the
function's own parameters (those its rule knows) with the function's defaults, so that
it is called as the function is, and its listing reads like the call.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import keyword
import types
from typing import Any

from . import ir, pyexpr
from .chains import chain_names
from .load import defined
from .rules.table import Rule

_counter = itertools.count(1)
_LITERALS = (type(None), bool, int, float, str)


def rule_caller(function: Any, rules: list[Rule]) -> types.FunctionType | None:
    """``def <name>(<parameters>): return <module>.<name>(<parameters>)``, calling
    ``function``, whose ``rules`` are given; None when its parameters cannot be read."""
    rules = [r for r in rules if isinstance(r.pattern, ir.Call)]
    calls = [r.pattern for r in rules if isinstance(r.pattern, ir.Call)]  # (all: typed)
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    if not calls:
        return None
    positional = max(len(c.args) for c in calls)
    keywords = {k for c in calls for k, _ in c.kwargs}
    name = getattr(function, "__name__", "f")
    name = name if name.isidentifier() and not keyword.iskeyword(name) else "f"
    namespace: dict[str, Any] = {}
    params, args = [], []
    position = 0
    for param in signature.parameters.values():
        by_position = param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD)
        if by_position and position < positional:
            position += 1
            args.append(param.name)
        elif param.name in keywords and param.kind != param.VAR_KEYWORD:
            args.append(f"{param.name}={param.name}")
        else:
            continue  # (left to its default: the rule does not know it)
        if param.default is param.empty:
            params.append(param.name)
        elif isinstance(param.default, _LITERALS):
            params.append(f"{param.name}={param.default!r}")
        else:  # (numpy's <no value>: left to the function)
            args.pop()
    # (called as its rule spells it: np.tanh, scipy.special.logsumexp)
    spelled = calls[0].func
    names = chain_names(spelled)
    if not args or names is None or names[0] in {p.split("=")[0] for p in params}:
        return None
    namespace[names[0]] = rules[0].env[names[0]]
    source = (
        f"def {name}({', '.join(params)}):\n"
        f"    return {ast.unparse(pyexpr.to_ast(spelled))}({', '.join(args)})\n"
    )
    qualname = getattr(function, "__qualname__", name)
    filename = f"<srcad: {qualname} by its rule #{next(_counter)}>"
    return defined(source, filename, namespace, name)


__all__ = ["rule_caller"]
