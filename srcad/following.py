"""Gradients that follow the helpers they inlined (and the user function's defaults).

A gradient that inlined a helper (``sigmoid`` called by ``f``) holds the helper's code
as it was when the gradient was built. When the helper is redefined (a notebook cell run
again, a module reloaded, autoreload swapping ``__code__``), the gradient must be made
again, or it keeps differentiating the old code. So such a gradient checks, on every
call, that each helper is still what its name holds, with the same code.

That check is on the hot path of small scalar gradients, so it is generated: a function
with the gradient's own signature whose body is one identity test per helper and a
direct call (about 100 ns in all), instead of a generic ``*args, **kwargs`` wrapper
that loops over the checks (about 400 ns)::

    def f_grad(x, y):
        if names_0.get('sigmoid') is helper_0 and helper_0.__code__ is code_0:
            return current(x, y)
        return latest()(x, y)
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable
from typing import Any

from .pipeline import all_current

#: Names the generated check uses for itself (a parameter with one of these names gets
#: the generic wrapper instead).
_OWN_NAMES = ("current", "latest")


def following_helpers(gradient: Any, remake: Callable[[], Any]) -> Any:
    """``gradient``, made again by ``remake`` when a helper it inlined has been redefined
    since, so that it never keeps running the helper's old code. A gradient that inlined
    nothing is returned as it is."""
    checks = gradient.__srcad__.currency_checks()
    if not checks:
        return gradient
    current = gradient

    def latest() -> Any:
        nonlocal current, checks
        if not all_current(checks):
            current = remake()
            checks = current.__srcad__.currency_checks()
            following.__dict__.update(current.__dict__)
            remade = _checked_call(current, checks, latest)
            if remade is not None and following.__code__.co_freevars == ():
                following.__code__ = remade.__code__  # (the same signature: f's)
                following.__globals__.clear()
                following.__globals__.update(remade.__globals__)
        return current

    following = _checked_call(gradient, checks, latest) or _generic(gradient, latest)
    functools.update_wrapper(following, gradient)
    following.srcad_latest = latest  # type: ignore[attr-defined]
    following.__wrapped__ = gradient.__wrapped__  # type: ignore[attr-defined]
    return following


def _generic(gradient: Any, latest: Callable[[], Any]) -> Callable[..., Any]:
    """The wrapper for a gradient whose signature the generated check cannot copy."""

    def following(*args: Any, **kwargs: Any) -> Any:
        return latest()(*args, **kwargs)

    return following


def _checked_call(
    gradient: Any, checks: tuple, latest: Callable[[], Any]
) -> types.FunctionType | None:
    """A function with ``gradient``'s signature that calls it while every helper in
    ``checks`` is current, and ``latest()`` otherwise (None: not a plain function)."""
    if not isinstance(gradient, types.FunctionType):
        return None
    # (the code's own parameters: not a declared __signature__, nor f's via __wrapped__)
    bare = types.FunctionType(gradient.__code__, {}, gradient.__name__, None,
                              gradient.__closure__)
    signature = inspect.signature(bare)
    if any(p in signature.parameters for p in _OWN_NAMES) or any(
        p.startswith(("names_", "lookup_", "helper_", "code_", "owner_"))
        for p in signature.parameters
    ):
        return None
    namespace: dict[str, Any] = {"current": gradient, "latest": latest}
    tests: list[str] = []
    for k, (lookup, obj, function, code) in enumerate(checks):
        namespace[f"helper_{k}"] = obj
        if _is_dict_get(lookup):
            namespace[f"names_{k}"] = lookup.func.__self__
            tests.append(f"names_{k}.get({lookup.args[0]!r}) is helper_{k}")
        elif _is_attribute(lookup):  # (the user function's defaults)
            namespace[f"owner_{k}"] = lookup.args[0]
            tests.append(f"owner_{k}.{lookup.args[1]} is helper_{k}")
        else:
            namespace[f"lookup_{k}"] = lookup
            tests.append(f"lookup_{k}() is helper_{k}")
        if code is not None:
            namespace[f"function_{k}"] = function
            namespace[f"code_{k}"] = code
            tests.append(f"function_{k}.__code__ is code_{k}")
    params, arguments = _passed_on(signature)
    own = getattr(getattr(gradient, "__srcad__", None), "user_function", None)
    # (f's defaults may change: the arguments then pass on as they came, so that what a
    # call leaves out takes the defaults of the gradient made for them)
    as_they_came = any(_is_attribute(lookup) and lookup.args[0] is own for lookup, *_ in checks)
    if as_they_came:
        params = arguments = "*args, **kwargs"
    name = gradient.__name__
    source = (
        f"def {name}({params}):\n"
        f"    if {' and '.join(tests) or 'True'}:\n"  # (none: made again, nothing to follow)
        f"        return current({arguments})\n"
        f"    return latest()({arguments})\n"
    )
    exec(compile(source, f"<srcad helper check of {name}>", "exec"), namespace)  # noqa: S102
    checked: types.FunctionType = namespace.pop(name)
    if not as_they_came:
        checked.__defaults__ = gradient.__defaults__
        checked.__kwdefaults__ = gradient.__kwdefaults__
    return checked


def _is_attribute(lookup: Any) -> bool:
    """Whether ``lookup`` is ``functools.partial(getattr, obj, name)``."""
    return (
        isinstance(lookup, functools.partial) and lookup.func is getattr
        and len(lookup.args) == 2 and isinstance(lookup.args[1], str)
        and lookup.args[1].isidentifier() and not lookup.keywords
    )


def _is_dict_get(lookup: Any) -> bool:
    """Whether ``lookup`` is ``functools.partial(some_dict.get, name)``."""
    return (
        isinstance(lookup, functools.partial)
        and isinstance(getattr(lookup.func, "__self__", None), dict)
        and getattr(lookup.func, "__name__", "") == "get"
        and len(lookup.args) == 1
        and not lookup.keywords
    )


def _passed_on(signature: inspect.Signature) -> tuple[str, str]:
    """The parameter list of ``signature`` (no defaults: they are set apart) and the
    arguments that pass each parameter on as it came."""
    params: list[str] = []
    arguments: list[str] = []
    kinds = inspect.Parameter
    star_written = False
    for p in signature.parameters.values():
        if p.kind is kinds.KEYWORD_ONLY and not star_written:
            params.append("*")
            star_written = True
        if p.kind is kinds.VAR_POSITIONAL:
            params.append(f"*{p.name}")
            arguments.append(f"*{p.name}")
            star_written = True
        elif p.kind is kinds.VAR_KEYWORD:
            params.append(f"**{p.name}")
            arguments.append(f"**{p.name}")
        elif p.kind is kinds.KEYWORD_ONLY:
            params.append(p.name)
            arguments.append(f"{p.name}={p.name}")
        else:
            params.append(p.name)
            arguments.append(p.name)
        if p.kind is kinds.POSITIONAL_ONLY and _last_positional_only(signature, p):
            params.append("/")
    return ", ".join(params), ", ".join(arguments)


def _last_positional_only(signature: inspect.Signature, param: inspect.Parameter) -> bool:
    kinds = [p.kind for p in signature.parameters.values()]
    names = list(signature.parameters)
    after = kinds[names.index(param.name) + 1 :]
    return inspect.Parameter.POSITIONAL_ONLY not in after
