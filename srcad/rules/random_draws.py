"""Pathwise derivatives of random draws whose distribution a differentiated value sets.

numpy draws ``rng.normal(loc, scale)`` as ``loc + scale * z`` from a standard draw ``z``
(``uniform``: ``low + (high - low) * u``; ``exponential``: ``scale * e``; ``lognormal``:
``exp(mean + sigma * z)``; Python's ``random.gauss``, likewise), so with the generator's
state fixed, a draw is a smooth function of those parameters: its derivative is the one
central differences at a fixed seed measure (the reparameterization gradient of
variational inference and of Monte Carlo sensitivities). The standard draw is read back
from the result (``z = (ans - loc) / scale``), so nothing more is drawn. A parameter
that changes how many numbers are drawn or which (``gamma``'s shape, ``choice``) has no
such derivative: its adjoint is None, and differentiating through it is refused.

A method rule (``x.normal(...)``) also matches an object of the user's with a method of
that name: its adjoint checks that ``x`` is numpy's Generator or RandomState first.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from ..chains import RANDOM_GENERATORS
from ..errors import NoRuleError
from .numpy_arrays import ENV
from .table import Templates, defrule


def numpy_draw(x: Any, ans: Any) -> Any:
    """``ans``, after checking that ``x`` (whose method drew it) is a numpy or Python
    random generator, whose draws srcad's rule describes."""
    if not isinstance(x, RANDOM_GENERATORS):
        from ..load import user_line

        raise NoRuleError(
            f"this draw's object is a `{type(x).__name__}`, not numpy's Generator or "
            "RandomState: srcad's derivative of the method is the one of numpy's draws (a "
            "location and a scale applied to a standard draw)",
            "register a rule for your class's method with srcad.defrule",
            user_line(),
        )
    return ans


def standard_of(draw: Any, loc: Any, scale: Any) -> Any:
    """The standard draw ``z`` of ``draw = loc + scale * z`` (refused where the scale is
    0: the draw is ``loc`` there, and shows nothing of ``z``)."""
    if np.any(np.asarray(scale) == 0):
        from ..load import user_line

        raise NoRuleError(
            "this draw's scale is 0 here: its derivative in the scale is the standard "
            "draw, which the draw (its location) does not show",
            "draw the standard value and scale it yourself (`mu + sigma * "
            "rng.standard_normal(n)`, `low + (high - low) * rng.random(n)`), which srcad "
            "differentiates as arithmetic",
            user_line(),
        )
    return (draw - loc) / scale


def spread(t: Any, ans: Any) -> Any:
    """``t`` broadcast to the draws' shape (a location's tangent moves every draw)."""
    return t + np.zeros_like(ans) if np.ndim(ans) else t


#: Each family's slope of a draw in each parameter (over ``ans``, the draw, and the
#: parameters; None: no path, see the module): the adjoint is ``g`` times it, summed to
#: the parameter's shape, and the tangent ``t`` times it.
_SLOPES: dict[str, tuple[str, dict[str, str | None]]] = {
    "normal": ("loc=0.0, scale=1.0", {"loc": "1.0", "scale": "standard_of(ans, loc, scale)"}),
    "uniform": ("low=0.0, high=1.0", {"low": "1.0 - standard_of(ans, low, high - low)",
                                      "high": "standard_of(ans, low, high - low)"}),
    "exponential": ("scale=1.0", {"scale": "standard_of(ans, 0.0, scale)"}),
    "lognormal": ("mean=0.0, sigma=1.0", {"mean": "ans",
                                          "sigma": "ans * standard_of(np.log(ans), mean, sigma)"}),
    "gamma": ("shape, scale=1.0", {"shape": None, "scale": "standard_of(ans, 0.0, scale)"}),
}
for _family in ("laplace", "logistic", "gumbel"):  # (loc + scale * a standard draw, too)
    _SLOPES[_family] = _SLOPES["normal"]
_RANDOM_ENV = {**ENV, "numpy_draw": numpy_draw, "standard_of": standard_of,
               "spread": spread, "np": np, "random": random}


def _draw_rule(pattern: str, slopes: dict[str, str | None], draw: str, numbers: bool) -> None:
    """The rule of ``pattern`` from its ``slopes`` (``ans`` read as ``draw``; ``numbers``:
    it draws one number, and its parameters are numbers)."""
    adjoints: Templates = {}
    tangents: dict[str, str] = {}
    for param, slope in slopes.items():
        if slope is None:
            adjoints[param] = None
            continue
        slope = slope.replace("ans", draw)
        moved = "g" if slope == "1.0" else f"g * ({slope})"
        adjoints[param] = moved if numbers else f"unbroadcast({moved}, {param})"
        tangents[param] = f"t * ({slope})" if slope != "1.0" else (
            "t" if numbers else f"spread(t, {draw})"
        )
    orders = tuple(p for p, slope in slopes.items() if slope is None)
    options: Templates = {} if numbers else {"size": None}
    defrule(pattern, env=_RANDOM_ENV, tangents=tangents, orders=orders, draws=True,
            **options, **adjoints)


for _name, (_params, _slopes) in _SLOPES.items():
    # a Generator's (or RandomState's) method, and numpy's legacy function of the name
    _draw_rule(f"x.{_name}({_params}, size=None)", {"x": None, **_slopes},
               "numpy_draw(x, ans)", numbers=False)
    _draw_rule(f"np.random.{_name}({_params}, size=None)", _slopes, "ans", numbers=False)

# Python's random module (its functions are bound methods of one Random object): numbers.
_PYTHON_SLOPES: tuple[tuple[str, str, dict[str, str | None]], ...] = (
    ("gauss", "mu=0.0, sigma=1.0", {"mu": "1.0", "sigma": "standard_of(ans, mu, sigma)"}),
    ("normalvariate", "mu=0.0, sigma=1.0",
     {"mu": "1.0", "sigma": "standard_of(ans, mu, sigma)"}),
    ("uniform", "a, b", {"a": "1.0 - standard_of(ans, a, b - a)",
                         "b": "standard_of(ans, a, b - a)"}),
    ("expovariate", "lambd=1.0", {"lambd": "-ans / lambd"}),
)
for _name, _params, _python_slopes in _PYTHON_SLOPES:
    _draw_rule(f"random.{_name}({_params})", _python_slopes, "ans", numbers=True)
    if _name != "uniform":  # (a random.Random's own: its uniform(a, b) is numpy's rule's)
        _draw_rule(f"x.{_name}({_params})", {"x": None, **_python_slopes},
                   "numpy_draw(x, ans)", numbers=True)
