"""What a name, or a chain of attributes of one (``np.linalg.norm``), denotes when
srcad compiles: the one walk every stage that asks shares.

A chain is looked up root first, by whatever the asker knows of names (a function's
globals, closure cells and builtins; a rule's own ``env``), then an attribute at a
time, reading only what runs no code:

* an attribute of a module, a class or a ufunc is read (``np.linalg``, ``np.add.at``);
* of another object, a method its class defines in Python, bound
  (``scipy.stats.norm.logpdf``), or a function the object holds (``cfg.act = np.tanh``)
  where its class reads attributes the plain way: reading any other attribute could run
  the user's code (a property, ``__getattr__``);
* anything else, and a name the lookup does not find, is :data:`MISSING`.

:func:`static_chain` answers with an object; :func:`follow` is the walk itself, for an
asker that carries more than the object at each step (the lowerer's resolver, see
:mod:`srcad.lower.resolve`, also says how to find it again).
"""

from __future__ import annotations

import ast
import functools
import inspect
import random
import types
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from . import ir

#: What a lookup gives for a name bound nowhere, and :func:`static_chain` for a chain
#: that denotes nothing srcad may read when it compiles.
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()

T = TypeVar("T")


def chain_names(node: object) -> tuple[str, ...] | None:
    """``("np", "linalg", "norm")`` for ``np.linalg.norm``, as the user's AST or as IR;
    None for anything but a name or a chain of attributes of one."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute | ir.Attr):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name | ir.Name):
        return None
    return (node.id, *reversed(parts))


def follow(
    names: Sequence[str], lookup: Callable[[str], T], attribute: Callable[[T, str], T]
) -> T:
    """The root name's ``lookup``, then each attribute of ``names`` read by ``attribute``."""
    found = lookup(names[0])
    for attr in names[1:]:
        found = attribute(found, attr)
    return found


def static_attribute(obj: Any, attr: str) -> Any:
    """``obj.attr`` if reading it runs no code (see the module), else :data:`MISSING`."""
    if obj is MISSING:
        return MISSING
    if isinstance(obj, types.ModuleType | type | np.ufunc):
        return getattr(obj, attr, MISSING)
    if type(obj) is functools.partial and attr in ("func", "args", "keywords"):
        return getattr(obj, attr)  # (what a partial holds: its call written out)
    method = inspect.getattr_static(type(obj), attr, None)
    held = getattr(obj, "__dict__", None)
    if isinstance(held, dict) and attr in held:
        function = held[attr]
        plain = type(obj).__getattribute__ is object.__getattribute__
        if plain and not hasattr(type(method), "__set__") and _is_function(function):
            return function  # (cfg.act = math.sin: the function it holds)
        return MISSING
    if not isinstance(method, types.FunctionType):
        return MISSING
    return types.MethodType(method, obj)


def _is_function(obj: Any) -> bool:
    """A function an object may hold for its code to call (``cfg.act = np.tanh``, or a
    method bound to it: ``m.f = types.MethodType(g, m)``)."""
    if isinstance(obj, types.MethodType):
        return isinstance(obj.__func__, types.FunctionType)
    return isinstance(obj, types.FunctionType | types.BuiltinFunctionType | np.ufunc)


def static_chain(chain: object, lookup: Callable[[str], Any]) -> Any:
    """The object the name or chain ``chain`` (AST or IR, or its names) denotes, with
    ``lookup`` giving a name's object (:data:`MISSING` for none); :data:`MISSING` if it
    denotes nothing srcad may read (see the module)."""
    names = chain if isinstance(chain, tuple) else chain_names(chain)
    if not names:
        return MISSING
    return follow(names, lookup, static_attribute)


#: the random generators, numpy's and Python's, whose methods draw (exactly these
#: classes: a subclass may draw otherwise)
RANDOM_GENERATORS = (np.random.Generator, np.random.RandomState, random.Random)
#: the methods of :data:`RANDOM_GENERATORS`
GENERATOR_METHODS = frozenset(
    name for kind in RANDOM_GENERATORS for name in dir(kind) if not name.startswith("_")
)

#: modules whose functions, and whose objects' methods, draw random numbers
_RANDOM_MODULES = ("random", "numpy.random", "secrets")


def draws_at_random(callee: Any) -> bool:
    """Whether ``callee`` is a function or method of Python's ``random``, ``secrets`` or
    ``numpy.random`` (a Generator's too), or a scipy.stats distribution's ``rvs``: a call
    of it draws random numbers."""
    owner = getattr(callee, "__self__", None)
    module = getattr(callee, "__module__", None) or getattr(type(owner), "__module__", "")
    if not isinstance(module, str):
        return False
    if getattr(callee, "__name__", None) == "rvs" and module.startswith("scipy.stats"):
        return True  # (st.norm.rvs(size=n, random_state=rng): draws from rng)
    return module in _RANDOM_MODULES or module.startswith(("numpy.random.", "random."))


__all__ = [
    "GENERATOR_METHODS", "MISSING", "RANDOM_GENERATORS", "chain_names", "draws_at_random",
    "follow", "static_attribute", "static_chain",
]
