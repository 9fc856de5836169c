"""Rules the user brings: ``defgrad`` for a function of their own, ``stop_gradient``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from . import ir
from .rules.table import TABLE, Rule, call_signature, defrule
from .runtime import zeros_like


def defgrad(func: Callable, rule: Callable[..., Any] | None = None) -> Any:
    """Register ``rule(g, ans, *args)`` as the reverse rule of ``func``.

    ``rule`` returns the gradient contribution for each positional argument of ``func``
    (a bare value for one argument, a tuple for several). srcad then treats ``func`` as
    a primitive everywhere (it is no longer read and inlined). Usable as a decorator:
    ``@srcad.defgrad(func)`` above ``def rule(g, ans, x): ...``.
    """
    if rule is None:
        return lambda r: defgrad(func, r)
    try:
        params = [
            p
            for p in inspect.signature(func).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        raise TypeError(f"cannot read the signature of {func!r}; wrap it in a def") from None
    names = [f"x{k}" for k in range(len(params))]
    # (the generated code calls them by the user's names: `softclip_grad(g, ans, x, c)`)
    taken = {*names, "g", "ans"}
    func_name = _own_name(func, "func", taken)
    rule_name = _own_name(rule, "rule", taken | {func_name})
    call = ir.Call(ir.Name(func_name), tuple(ir.Name(n) for n in names))
    helper = ir.Call(
        ir.Name(rule_name), (ir.Name("g"), ir.Name("ans"), *(ir.Name(n) for n in names))
    )
    templates = tuple(
        helper if len(names) == 1 else ir.Subscript(helper, ir.Const(k)) for k in range(len(names))
    )
    name = getattr(func, "__qualname__", repr(func))
    env = {func_name: func, rule_name: rule}
    TABLE.add(
        Rule(
            name=f"{name} (user rule)",
            pattern=call,
            params=tuple(names),
            adjoints=templates,
            env=env,
            signature=call_signature(call, env),
            size=1,
            user=True,
            together=helper if len(names) > 1 else None,
        )
    )
    return rule


def _own_name(obj: Any, fallback: str, taken: set[str]) -> str:
    """``obj``'s ``__name__`` when it can name it in generated code, else ``fallback``."""
    name = getattr(obj, "__name__", "")
    return name if name.isidentifier() and name not in taken else fallback


def stop_gradient(x: Any) -> Any:
    """``x`` itself; no gradient flows through it."""
    return x


defrule("stop_gradient(x)", env={"stop_gradient": stop_gradient}, x=None, elementwise=True)
defrule("zeros_like(x)", env={"zeros_like": zeros_like}, x=None, creates=True)
