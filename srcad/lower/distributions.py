"""Frozen scipy.stats distributions made in the function: ``d = norm(mu, sigma)``, then
``d.logpdf(x)``, or at once ``norm(mu, sigma).logpdf(x)``. scipy's frozen object calls
the distribution's own method with the arguments it froze after the method's own, so
srcad reads ``d.logpdf(x)`` as ``norm.logpdf(x, mu, sigma)``, whose rule it has.

The frozen distribution is a value srcad holds while it compiles (:class:`Frozen`, the
distribution's spelling and its lowered arguments), not one the generated code makes;
it may be given a name, passed to a helper and have its methods called. Anything else
done with it (returned, stored in a list, chosen by a branch) is refused at the line."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .values import LoweringPart, Operand, Scope, TupleValue


@dataclass(frozen=True, eq=False)
class Frozen:
    """``norm(mu, sigma)``: how the code names the distribution, and the arguments it
    froze, lowered where it was made (listing names do not change afterwards)."""

    family: ast.expr
    args: tuple[ast.expr, ...]
    keywords: tuple[ast.keyword, ...]


def is_distribution(obj: Any) -> bool:
    """A scipy.stats distribution (``norm``, ``gamma``, ``poisson``...), whose call
    freezes it (checked by its classes' names: srcad does not import SciPy)."""
    return any(
        cls.__name__ in ("rv_generic", "multi_rv_generic")
        and cls.__module__.startswith("scipy.stats")
        for cls in type(obj).__mro__
    )


class Distributions(LoweringPart):
    """The lowerer's part for frozen scipy.stats distributions (see the module)."""

    def frozen_distribution(self, scope: Scope, node: ast.Call) -> Frozen | None:
        """``norm(mu, sigma)``, its arguments lowered; None for any other call."""
        if not is_distribution(self.denote(scope, node.func).static):
            return None
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords
        ):
            raise self.error(
                scope, node, "srcad reads a frozen distribution's arguments one by one",
                "give them without * or ** (`norm(mu, sigma)`)",
            )
        args = tuple(_operand(self.lower_operand(scope, a), a) for a in node.args)
        keywords = tuple(
            ast.keyword(k.arg, _operand(self.lower_operand(scope, k.value), k.value))
            for k in node.keywords
        )
        return Frozen(node.func, args, keywords)

    def frozen_method(
        self, scope: Scope, node: ast.Call, target: Callable[[], str] | None
    ) -> Any:
        """``d.logpdf(x)`` of a frozen distribution ``d`` (a name holding one, or
        ``norm(mu, sigma)`` itself), lowered as ``norm.logpdf(x, mu, sigma)``; None for
        any other call."""
        func = node.func
        if not isinstance(func, ast.Attribute):
            return None
        base = func.value
        if isinstance(base, ast.Name) and isinstance(scope.env.get(base.id), Frozen):
            frozen = scope.env[base.id]
        elif _item_of_frozen(scope, base):  # (parts[0].logpdf(x), parts a display of them)
            frozen = self.lower_expr(scope, base, None)
            if not isinstance(frozen, Frozen):
                self.refuse_frozen(scope, base, Frozen(base, (), ()))
        elif isinstance(base, ast.Call):
            frozen = self.frozen_distribution(scope, base)
            if frozen is None:
                return None
        else:
            return None
        method = ast.copy_location(ast.Attribute(frozen.family, func.attr, ast.Load()), func)
        call = ast.Call(
            method, [*node.args, *frozen.args], [*frozen.keywords, *node.keywords]
        )
        return self.lower_expr(scope, ast.copy_location(call, node), target)

    def refuse_frozen(self, scope: Scope, node: ast.expr, value: Any) -> None:
        """Refuse a frozen distribution used as a value (not a method's receiver)."""
        if isinstance(value, Frozen):
            raise self.error(
                scope, node,
                "srcad reads a frozen distribution where its methods are called "
                "(`d.logpdf(x)`), not as a value passed on, returned or stored",
                "call the distribution's method with its arguments instead "
                "(`norm.logpdf(x, mu, sigma)`)",
            )


def _item_of_frozen(scope: Scope, base: ast.expr) -> bool:
    """``parts[k]`` of a name holding a display with a frozen distribution in it."""
    held = (
        scope.env.get(base.value.id)
        if isinstance(base, ast.Subscript) and isinstance(base.value, ast.Name) else None
    )
    return isinstance(held, TupleValue) and any(isinstance(i, Frozen) for i in held.items)


def _operand(value: Any, like: ast.expr) -> ast.expr:
    return ast.copy_location(Operand(value), like)
