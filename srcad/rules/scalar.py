"""Derivative rules for Python's arithmetic operators, ``math`` and the builtins.

Every template is written as *local gradient times incoming gradient* (``... * g``),
the order of the seed's backprop listing.
"""

from __future__ import annotations

import bisect
import builtins
import logging
import math
import operator
from typing import TypedDict

import numpy as np

from ..runtime import (
    appended,
    array_indices,
    chosen,
    deep_copied,
    dict_default_grad,
    dict_get_grad,
    dict_get_tangent,
    divide,
    divide_or_zero,
    exponent_slope,
    exponent_tangent,
    extended,
    extreme_items_grad,
    extreme_items_tangent,
    field_grad,
    field_tangent,
    fresh_arguments,
    fresh_copy,
    held_sum,
    iterator_positions,
    leading_grad,
    list_removed,
    list_replaced,
    listed_grad,
    loop_items,
    loop_items_grad,
    loop_items_tangent,
    named_tuple,
    part_copy,
    power_slope,
    power_slope_exponent,
    power_slope_of_numbers,
    prod_items_grad,
    prod_items_tangent,
    removed_grad,
    repeated,
    repeated_grad,
    snapshot,
    sorted_order,
    structured_like,
    trailing_grad,
    union_grad,
    union_tangent,
    with_held,
    with_item,
    zeros_like,
)
from .numpy_grads import (
    bessel_i1,
    digamma,
    dist_grad,
    dist_tangent,
    fsum_grad,
    sign,
    sorted_grad,
    sorted_tangent,
    sum_items_grad,
    trigamma,
    unbroadcast,
)
from .table import Rule, RuleTable, Scatter, Templates, defrule


class _Options(TypedDict):
    """Options of :func:`defrule` that several rules share (``**OPERATOR``)."""

    broadcasting: bool
    elementwise: bool


# ---------------------------------------------------------------- operators
#: Operators work on numbers and on numpy arrays alike: their adjoints are summed back
#: to each operand's shape when numpy broadcasting widened it.
OPERATOR: _Options = {"broadcasting": True, "elementwise": True}
#: each operator, the :mod:`operator` function that applies it (``functools.reduce(
#: operator.mul, xs)``), and its templates
ARITHMETIC: dict[str, tuple[str, Templates]] = {
    "+": ("add", {"x": "g", "y": "g"}),
    "-": ("sub", {"x": "g", "y": "-g"}),
    "*": ("mul", {"x": "y * g", "y": "x * g"}),
    "/": ("truediv", {"x": "g / y", "y": "-ans / y * g"}),
}
for _op, (_function, _templates) in ARITHMETIC.items():
    defrule(f"x {_op} y", **_templates, **OPERATOR)
    defrule(f"operator.{_function}(x, y)", env={"operator": operator}, **_templates, **OPERATOR)
for _op, _function, _template in (("-", "neg", "-g"), ("+", "pos", "g")):
    defrule(f"{_op}x", x=_template, elementwise=True)
    defrule(f"operator.{_function}(x)", env={"operator": operator}, x=_template,
            elementwise=True)

#: ``x ** y`` and its function forms share one pair of templates.
#: (``power_slope`` is ``y * x ** (y - 1)``, 0 where ``y`` is 0; ``exponent_slope`` is
#: ``log(x) * ans``, 0 where ``x`` is 0: the optimiser writes the first out for a
#: constant ``y``, see srcad.optimize)
POWER: Templates = {"x": "power_slope(x, y) * g", "y": "exponent_slope(x, ans) * g"}
#: their tangents: the exponent's is exactly 0 where its tangent is (see exponent_tangent)
POWER_TANGENTS = {"x": "power_slope(x, y) * t", "y": "exponent_tangent(x, ans, t)"}
POWER_ENV = {
    "exponent_tangent": exponent_tangent, "power_slope": power_slope,
    "exponent_slope": exponent_slope, "power_slope_exponent": power_slope_exponent,
}
defrule("x ** y", env={"np": np, **POWER_ENV}, tangents=POWER_TANGENTS,
        **{p: t.format(m="np") for p, t in POWER.items()}, **OPERATOR)
#: the slopes, read again for second derivatives (the version for floats calls its own
#: power_slope_of_numbers under the same name)
for _slope in (power_slope, power_slope_of_numbers):
    defrule(
        "power_slope(x, y, order=1)",
        env={**POWER_ENV, "power_slope": _slope},
        x="power_slope(x, y, order + 1) * g",
        y="power_slope_exponent(x, y, order) * g",
        order=None,
        **OPERATOR,
    )
defrule(  # (``p``: the power, as ``ans`` in a template is the rule's own result)
    "exponent_slope(x, p)",
    env={**POWER_ENV, "divide_or_zero": divide_or_zero},
    x="divide_or_zero(p, x) * g",  # (0 ** y over 0: 0, the limit for y > 1)
    p="exponent_slope(x, g)",
    **OPERATOR,
)
#: the exponent's tangent, read again for second derivatives: linear in ``t``; ``x`` and
#: ``p`` (the power ``x ** y``) get nothing where ``t`` is 0
defrule(
    "exponent_tangent(x, p, t)",
    env={"exponent_tangent": exponent_tangent, "divide_or_zero": divide_or_zero},
    x="divide_or_zero(p * t, x) * g",  # (a tangent of 0, or 0 ** y over 0: 0)
    p="exponent_tangent(x, 1.0, t) * g",
    t="exponent_tangent(x, p, g)",
    **OPERATOR,
)

# ---------------------------------------------------------------- elementwise functions
#: Derivative templates shared by every module family (``{m}`` names the module).
UNARY = {
    "exp": "ans * g",
    "expm1": "(ans + 1) * g",
    "log": "g / x",
    "log1p": "g / (1 + x)",
    "log2": "g / (x * {m}.log(2))",
    "log10": "g / (x * {m}.log(10))",
    # (inf at 0, not a ZeroDivisionError; 0 for a gradient or tangent of 0: a value
    # truncated to 0 before the square root does not move it)
    "sqrt": "divide_or_zero(g, 2 * ans)",
    "sin": "{m}.cos(x) * g",
    "cos": "-{m}.sin(x) * g",
    "tan": "(1 + ans * ans) * g",
    "sinh": "{m}.cosh(x) * g",
    "cosh": "{m}.sinh(x) * g",
    # (the textbook ``(1 - ans * ans) * g``: measured in W3 with malloc's threshold
    # pinned, 5 % faster than ``-(ans * ans - 1) * g``, which numpy computes in one
    # temporary array by eliding the others, each elision a check of its own)
    "tanh": "(1 - ans * ans) * g",
    "asin": "divide_or_zero(g, {m}.sqrt(1 - x * x))",
    "acos": "-divide_or_zero(g, {m}.sqrt(1 - x * x))",
    "atan": "g / (1 + x * x)",
    "asinh": "g / {m}.sqrt(x * x + 1)",
    "acosh": "g / {m}.sqrt(x * x - 1)",
    "atanh": "g / (1 - x * x)",
}

#: Tangents of the logarithms of numpy's families (not math's, whose log of 0 raises):
#: exactly 0 for a tangent of 0 at 0 (an entry of a transition matrix or a probability
#: table that is 0 and stays 0: its log is -inf, a constant), where ``t / x`` reads 0 / 0
#: (round 63a). The gradient keeps ``g / x``: an adjoint of 0 at 0 is read nowhere.
LOG_TANGENTS = {
    "log": "divide_or_zero(t, x)",
    "log1p": "divide_or_zero(t, 1 + x)",
    "log2": "divide_or_zero(t, x * {m}.log(2))",
    "log10": "divide_or_zero(t, x * {m}.log(10))",
}

#: The sigmoid idiom ``1 / (1 + exp(-x))`` is one gate, as in the seed listing.
SIGMOID = "(1 - ans) * ans * g"


def define_family(module_name: str, module: object, spelled: dict[str, str]) -> None:
    """Rules for ``module``'s elementwise functions; ``spelled`` renames (asin→arcsin)."""
    env = {module_name: module, "divide": divide, "divide_or_zero": divide_or_zero}
    for name, template in UNARY.items():
        attr = spelled.get(name, name)
        if hasattr(module, attr):
            tangent = LOG_TANGENTS.get(name) if module_name != "math" else None
            defrule(
                f"{module_name}.{attr}(x)",
                env=env,
                x=template.format(m=module_name),
                tangents={"x": tangent.format(m=module_name)} if tangent else None,
                elementwise=True,
            )
    defrule(
        f"1 / (1 + {module_name}.exp(-x))",
        env=env,
        name=f"sigmoid ({module_name})",
        x=SIGMOID,
        elementwise=True,
    )


define_family("math", math, {})
MATH = {"math": math, "divide": divide, "digamma": digamma}
#: ``erf' = 2 exp(-x^2) / sqrt(pi)``; ``lgamma' = digamma`` (srcad's own, for floats and arrays).
for _name, _template in {
    "erf": "2 / math.sqrt(math.pi) * math.exp(-x * x) * g",
    "erfc": "-2 / math.sqrt(math.pi) * math.exp(-x * x) * g",
    "lgamma": "digamma(x) * g",
}.items():
    defrule(f"math.{_name}(x)", env=MATH, x=_template, elementwise=True)
#: ``gamma' = gamma * digamma``; ``cbrt' = 1 / (3 cbrt^2)`` (inf at 0); ``exp2' = ln 2 * exp2``
#: (cbrt and exp2: Python 3.11 on)
defrule("math.gamma(x)", env=MATH, x="ans * digamma(x) * g", elementwise=True)
if hasattr(math, "cbrt"):
    defrule("math.cbrt(x)", env={**MATH, "divide_or_zero": divide_or_zero},
            x="divide_or_zero(g, 3 * ans * ans)", elementwise=True)
if hasattr(math, "exp2"):
    defrule("math.exp2(x)", env=MATH, x="0.6931471805599453 * ans * g", elementwise=True)
#: ``ldexp(x, i) = x * 2 ** i``: linear in ``x``; the int ``i`` has no gradient
defrule("math.ldexp(x, i)", env=MATH, x="math.ldexp(g, i)", i=None, elementwise=True)
#: So that ``lgamma``'s second derivative exists (``hessian``): digamma' = trigamma.
defrule("digamma(x)", env={"digamma": digamma, "trigamma": trigamma}, x="trigamma(x) * g",
        elementwise=True)
#: numpy's Bessel function ``I_0' = I_1`` (SciPy's, see :func:`bessel_i1`), and ``I_1' =
#: I_0 - I_1 / x`` (1/2 at 0), so that second derivatives go through it.
_BESSEL = {"np": np, "bessel_i1": bessel_i1, "divide_or_zero": divide_or_zero}
defrule("np.i0(x)", env=_BESSEL, x="bessel_i1(x) * g", elementwise=True)
defrule("bessel_i1(x)", env=_BESSEL,
        x="(np.i0(x) - np.where(x == 0, 0.5, divide_or_zero(bessel_i1(x), x))) * g",
        elementwise=True)
#: angle conversions, |x|, the sign of another number, log to a base
defrule("math.radians(x)", env=MATH, x="math.pi / 180 * g", elementwise=True)
defrule("math.degrees(x)", env=MATH, x="180 / math.pi * g", elementwise=True)
defrule("math.fabs(x)", env={"math": math, "sign": sign}, x="sign(x) * g", elementwise=True)
defrule("math.copysign(x, y)", env={"math": math, "sign": sign},
        x="sign(x) * sign(ans) * g", y=None, elementwise=True)
#: remainders: x - trunc(x / y) * y (fmod), x - round(x / y) * y (IEEE remainder)
defrule("math.fmod(x, y)", env=MATH, x="g", y="-math.trunc(x / y) * g", elementwise=True)
defrule("math.remainder(x, y)", env={**MATH, "round": round}, x="g", y="-round(x / y) * g",
        elementwise=True)
defrule("math.log(x, base)", env=MATH, x="g / (x * math.log(base))",
        base="-ans / (base * math.log(base)) * g", elementwise=True)
#: ``atan2(y, x)``, written over the parameters ``x`` (first) and ``y`` as ``np.arctan2``:
#: ``y / (x^2 + y^2)`` divided by the hypotenuse twice, which neither overflows nor
#: underflows where the squares would (round 97: inf at 1e-170, 0 at 1e170).
defrule(
    "math.atan2(x, y)",
    env=MATH,
    elementwise=True,
    x="divide(divide(y, math.hypot(x, y)), math.hypot(x, y)) * g",
    y="divide(divide(-x, math.hypot(x, y)), math.hypot(x, y)) * g",
)
for _params in (
    ("x",), ("x", "y"), ("x", "y", "z"), *(tuple(f"x{k}" for k in range(n)) for n in range(4, 9))
):
    # (at the origin 0: a subgradient, as the 2-norm's; divide would give 0 / 0)
    _hypot: Templates = {p: f"divide_or_zero({p}, ans) * g" for p in _params}
    defrule(f"math.hypot({', '.join(_params)})", env={**MATH, "divide_or_zero": divide_or_zero},
            elementwise=True, **_hypot)
    if len(_params) != 2:  # (two: with np.hypot's, in srcad.rules.numpy_arrays)
        # its square, the sum of the squares, is one gate: smooth at the origin too
        _squares: Templates = {p: f"2.0 * {p} * g" for p in _params}
        defrule(f"math.hypot({', '.join(_params)}) ** 2", env=MATH, elementwise=True,
                name="squared hypot (math)", **_squares)
#: ``math.dist(p, q)`` of two points given as sequences of coordinates
DIST = defrule(
    "math.dist(p, q)",
    env={"math": math, "dist_grad": dist_grad, "dist_tangent": dist_tangent},
    p="dist_grad(g, p, q, ans)",
    q="dist_grad(g, q, p, ans)",
    tangents={"p": "dist_tangent(t, p, q, ans)", "q": "dist_tangent(t, q, p, ans)"},
    sequences=("p", "q"),
)
#: ``math.fsum(xs)`` of a list, tuple or array: every item gets ``g``.
FSUM = defrule(
    "math.fsum(x)",
    env={"math": math, "fsum_grad": fsum_grad},
    linear=True,
    x="fsum_grad(g, x)",
    sequences=("x",),
)
defrule(
    "math.pow(x, y)",
    env={"math": math, **POWER_ENV},
    elementwise=True,
    tangents=POWER_TANGENTS,
    **{p: t.format(m="math") for p, t in POWER.items()},
)

#: srcad's own division (inf or nan at a zero denominator, as numpy), which templates use:
#: its rule makes their second derivatives (``hessian`` of ``math.sqrt``) possible.
defrule(
    "divide(x, y)",
    env={"divide": divide},
    elementwise=True,
    x="divide(g, y)",
    y="-divide(ans, y) * g",
)

#: (and its zero-safe twin, 0 where the numerator is: a gradient or tangent of 0 moves
#: nothing; ``math.sqrt``'s template)
defrule(
    "divide_or_zero(x, y)",
    env={"divide_or_zero": divide_or_zero},
    elementwise=True,
    x="divide_or_zero(g, y)",
    y="-divide_or_zero(ans, y) * g",
)
#: a selection's adjoint (``max``, ``np.maximum``, ``np.clip``): linear in what it selects
defrule("chosen(mask, x)", env={"chosen": chosen}, elementwise=True, mask=None,
        x="chosen(mask, g)")

# ---------------------------------------------------------------- no gradient
# Comparisons, counts and rounding are piecewise constant: their derivative is zero
# wherever it exists, so no gradient flows through them (at a kink either side is taken).
for _op in ("<", "<=", ">", ">=", "==", "!="):
    defrule(f"x {_op} y", x=None, y=None, elementwise=True)
defrule("not x", x=None, elementwise=True)
# Bitwise operators (masks: ``~ok``, ``a & b``) and membership tests act on integers,
# booleans and strings: nothing to differentiate.
for _op in ("&", "^", "<<", ">>"):
    defrule(f"x {_op} y", x=None, y=None, elementwise=True)
#: ``|`` of two dicts (``params = enc | dec``) is their union, which holds their items:
#: each key's gradient goes to the dict its value came from (the right one where both
#: have it); of integers and booleans, nothing
defrule("x | y", env={"union_grad": union_grad, "union_tangent": union_tangent}, holds=True,
        x="union_grad(g, x, y, True)", y="union_grad(g, x, y, False)",
        tangents={"x": "union_tangent(t, x, y, True)", "y": "union_tangent(t, x, y, False)"})
#: (the union's tangent, linear in the tangent: its adjoint is the union's; second
#: derivatives of code that merges dicts read it again)
defrule("union_tangent(t, x, y, left)", env={"union_tangent": union_tangent,
                                             "union_grad": union_grad},
        x=None, y=None, left=None, t="union_grad(g, x, y, left)", linear=True)
defrule("~x", x=None, elementwise=True)
for _op in ("in", "not in"):
    defrule(f"x {_op} y", x=None, y=None)
#: (numbers of numbers: the version for floats keeps them)
defrule("x // y", x=None, y=None, elementwise=True, broadcasting=True)
defrule("x % y", x="g", y="-(x // y) * g", tangents={"x": "t", "y": "-(x // y) * t"},
        elementwise=True, broadcasting=True)
defrule("len(x)", env={"len": len}, x=None)
#: a position and a count in a list or tuple: ints (``items.index(v)`` of a list the
#: function made is lowered as ``list.index(items, v)``)
for _kind in (list, tuple):
    defrule(f"{_kind.__name__}.index(x, value)", env={_kind.__name__: _kind}, x=None,
            value=None)
    defrule(f"{_kind.__name__}.count(x, value)", env={_kind.__name__: _kind}, x=None,
            value=None)
#: a sequence given to the function: ``xs.index(v)``, ``xs.count(v)`` (ints; a class of
#: the user's with such methods of its own is refused when the gradient runs)
defrule("x.index(value)", x=None, value=None)
defrule("x.count(value)", x=None, value=None)
#: a logger (``log = logging.getLogger(__name__)``), whose calls only observe
defrule("logging.getLogger(name=None)", env={"logging": logging}, name=None)
for _name in ("int", "round", "bool"):
    defrule(f"{_name}(x)", env={_name: getattr(builtins, _name)}, x=None, elementwise=True)
defrule("round(x, digits)", env={"round": round}, x=None, digits=None, elementwise=True)
defrule("range(x)", env={"range": range}, x=None)
defrule("range(x, y)", env={"range": range}, x=None, y=None)
defrule("range(x, y, z)", env={"range": range}, x=None, y=None, z=None)
for _name in ("floor", "ceil", "trunc"):  # (numbers of numbers: the version for floats)
    defrule(f"math.{_name}(x)", env={"math": math}, x=None, elementwise=True)
for _name in ("bisect", "bisect_left", "bisect_right"):  # (a position: piecewise constant)
    defrule(f"bisect.{_name}(a, x)", env={"bisect": bisect}, a=None, x=None)

# ---------------------------------------------------------------- containers
#: Reading one element: its adjoint is added into that element of the container's adjoint.
ITEM = defrule("x[i]", x=Scatter("i"), i=None, view=True, sequences=("x",))
#: ``for k in x``: the items a loop over ``x`` reads by position (a dict's keys, which get
#: no gradient; a sequence's elements, whose adjoints flow back to it). Lowering emits it
#: itself, so it lives outside the table that user code is matched against.
LOOP_ITEMS = defrule(
    "loop_items(x)",
    table=RuleTable(),
    env={
        "loop_items": loop_items,
        "loop_items_grad": loop_items_grad,
        "loop_items_tangent": loop_items_tangent,
    },
    name="items of a loop",
    holds=True,
    sequences=("x",),
    x="loop_items_grad(g, x)",
    tangents={"x": "loop_items_tangent(t, x)"},
    restore="v",  # (a sequence itself: its items are x's, written back through it)
)
#: ``for index, v in np.ndenumerate(a)``: the indices of ``a``, listed (ints: no gradient;
#: see srcad.lower.iterators). Lowering emits it itself, as it does loop_items.
ARRAY_INDICES = defrule(
    "array_indices(x)",
    table=RuleTable(),
    env={"array_indices": array_indices},
    name="indices of an array",
    x=None,
)
#: ``for p, q in itertools.pairwise(xs)`` (``islice``, ``product``...): the positions each
#: iteration reads (ints: no gradient; see srcad.lower.iterators), emitted as ARRAY_INDICES
ITERATOR_POSITIONS = defrule(
    "iterator_positions(function, lengths, arguments, options)",
    table=RuleTable(),
    env={"iterator_positions": iterator_positions},
    name="positions an iterator reads",
    function=None,
    lengths=None,
    arguments=None,
    options=None,
)
#: its tangent (forward mode's code, read again for second derivatives): the sequence's
#: tangent itself (a dict's keys: zeros), linear in it
defrule(
    "loop_items_tangent(t, x)",
    env={"loop_items_grad": loop_items_grad, "loop_items_tangent": loop_items_tangent},
    t="loop_items_grad(g, x)",
    x=None,
    tangents={"t": "loop_items_tangent(t, x)"},
    holds=True,
    sequences=("t",),
    restore="v",
)
#: ``items.append(item)`` and ``items.extend(more)`` on a list the function builds: a new
#: list each time (lowering emits them, rebinding the list's name).
GROWN = {
    "appended": appended,
    "extended": extended,
    "leading_grad": leading_grad,
    "zeros_like": zeros_like,
}
APPEND = defrule(
    "appended(x, v)",
    table=RuleTable(),
    env=GROWN,
    name="append to a list",
    holds=True,
    sequences=("x",),
    x="leading_grad(g, x)",
    v="g[-1]",
    jointly_linear=True,
)
EXTEND = defrule(
    "extended(x, v)",
    table=RuleTable(),
    env={**GROWN, "trailing_grad": trailing_grad},
    name="extend a list",
    holds=True,
    sequences=("x", "v"),
    x="leading_grad(g, x)",
    v="trailing_grad(g, x)",
    jointly_linear=True,
)
#: a zero (forward mode's code, read again for second derivatives): constant
defrule("zeros_like(x)", env=GROWN, x=None)
#: the copies a derivative makes of the arguments its function writes into (see
#: srcad.memory.fresh_parameters), and of values saved before a write: read again for
#: second derivatives, copies
defrule("fresh_arguments(written, others)", env={"fresh_arguments": fresh_arguments},
        written="g", others=None, linear=True, creates=True)
defrule("snapshot(x)", env={"snapshot": snapshot}, x="g", linear=True, creates=True)
#: the copy forward mode's code makes of a tangent another name shares before writing
#: into it (see srcad.aliases): read again for second derivatives, a copy
defrule("fresh_copy(x)", env={"fresh_copy": fresh_copy}, x="g", linear=True, creates=True)
defrule("part_copy(x)", env={"part_copy": part_copy}, x="g", linear=True, creates=True)
#: ``copy.deepcopy`` of numbers, arrays and containers of them (its stand-in calls this):
#: new objects all through (a copy of a dict of arrays an unrolled inner loop updates)
DEEP_COPY = defrule("deep_copied(x)", env={"deep_copied": deep_copied}, x="g", creates=True,
                    linear=True, name="copy.deepcopy")
#: a gradient's result in its parameter's structure (read again for second derivatives:
#: of an array or a number it is the adjoint itself; a dict's or an object's gradient is
#: not differentiated again, see srcad.diagnostics)
defrule("structured_like(adjoint, like)", env={"structured_like": structured_like},
        adjoint="g", like=None, linear=True, tangents={"adjoint": "structured_like(t, like)"})
#: ``items * n`` of a list: a list ``n`` times as long.
REPEAT = defrule(
    "repeated(x, n)",
    table=RuleTable(),
    env={"repeated": repeated, "repeated_grad": repeated_grad},
    name="repeat a list",
    holds=True,
    sequences=("x",),
    x="repeated_grad(g, x)",
    n=None,
    tangents={"x": "repeated(t, n)"},
)
#: ``items[i] = v`` on a list the function made: a new list (as lowering emits it).
REPLACE = defrule(
    "list_replaced(x, i, v)",
    table=RuleTable(),
    env={"list_replaced": list_replaced, "with_item": with_item, "zeros_like": zeros_like},
    name="replace a list item",
    holds=True,
    sequences=("x",),
    x="with_item(g, i, zeros_like(x[i]))",  # (the old item: v may be shaped otherwise)
    i=None,
    v="g[i]",
    jointly_linear=True,
)
#: ``items.pop(i)`` on a list the function made: a new list without that item (lowering
#: emits it after reading the item, ``items[i]``).
REMOVE = defrule(
    "list_removed(x, i)",
    table=RuleTable(),
    env={"list_removed": list_removed, "removed_grad": removed_grad},
    name="remove a list item",
    holds=True,
    sequences=("x",),
    x="removed_grad(g, x, i)",
    i=None,
    jointly_linear=True,
)
#: ``C = with_held(C, paths, v)``: the logical line srcad.memory writes after an
#: in-place write into the array ``v`` that the container ``C`` (a dict, list or tuple
#: the function made, an object's fields) also holds, at ``paths`` found when it ran
HELD_ENV = {"with_held": with_held, "held_sum": held_sum, "zeros_like": zeros_like}
HELD = defrule(
    "with_held(x, paths, v)",
    env=HELD_ENV,
    name="a container holding a changed array",
    holds=True,
    x="with_held(g, paths, zeros_like(v))",
    paths=None,
    v="held_sum(g, paths, v)",
    jointly_linear=True,
)
#: its adjoint for the array (backward code, read again for second derivatives)
defrule("held_sum(x, paths, v)", env=HELD_ENV, x="with_held(zeros_like(x), paths, g)",
        paths=None, v=None, linear=True)
#: Reading a field of an object (``p.w`` of a namedtuple, a dataclass instance or a plain
#: object): its adjoint goes into that field of the object's adjoint, its tangent is that
#: field of the object's tangent. Lowering emits it (spelled ``p.w``) for an attribute
#: read that no rule of the table matches, so it lives outside that table too.
FIELD = defrule(
    "getattr(x, field)",
    table=RuleTable(),
    env={"getattr": getattr, "field_grad": field_grad, "field_tangent": field_tangent},
    name="field of an object",
    x="field_grad(g, x, field)",
    field=None,
    tangents={"x": "field_tangent(t, x, field)"},
    view=True,  # (the field's array is the object's: writing into it changes the object)
)
#: The tangent of a field (what forward mode generates for ``p.w``) is linear in the
#: object's tangent ``v``: so that srcad.hessian can differentiate the tangent code.
defrule(
    "field_tangent(v, x, field)",
    env={"field_tangent": field_tangent, "field_grad": field_grad},
    v="field_grad(g, x, field)",
    x=None,
    field=None,
    tangents={"v": "field_tangent(t, x, field)"},
)
#: ``d.get(key, default)``: the item under ``key`` (its adjoint goes there) when the dict
#: has it, else the default (which then gets the adjoint). On an object of a class srcad
#: knows, its own ``get`` method is read instead; on another object the gradient refuses.
DICT_GET = {
    "dict_get_grad": dict_get_grad,
    "dict_get_tangent": dict_get_tangent,
    "dict_default_grad": dict_default_grad,
}
defrule(
    "x.get(key, default=None)",
    env=DICT_GET,
    key=None,
    x="dict_get_grad(g, x, key)",
    default="dict_default_grad(g, x, key, default)",
    tangents={
        "x": "dict_get_tangent(t, x, key, ans)",
        "default": "dict_default_grad(t, x, key, default)",
    },
    shares=True,  # (the item itself, or the default: a write into it changes that)
)
#: A dict's keys, in order (``for k, v in d.items()``): no gradient.
DICT_KEYS = defrule("list(x.keys())", env={"list": builtins.list}, name="keys of a dict", x=None)

# ---------------------------------------------------------------- builtins
#: abs'(0) is taken as 0, the middle of the subgradient [-1, 1].
defrule("abs(x)", env={"abs": builtins.abs, "sign": sign}, x="sign(x) * g", elementwise=True)
#: ``|x| ** 2`` is ``x ** 2``: one gate, whose slope ``2 x`` is smooth at 0 (through abs,
#: ``2 |x| sign(x)`` has the slope 0 there: a second derivative of 0, not 2)
defrule("abs(x) ** 2", env={"abs": builtins.abs}, name="square of abs",
        x="2 * x * g", elementwise=True)
defrule("sign(x)", env={"sign": sign}, x=None, elementwise=True)
defrule("float(x)", env={"float": builtins.float}, x="g", elementwise=True)
#: The builtin ``sum`` of a list, a tuple or an array's rows.
#: ``sorted(numbers)``: a permutation, decided by the values (piecewise constant)
SORTED = defrule(
    "sorted(x, reverse=False)",
    env={"sorted": sorted, "sorted_grad": sorted_grad, "sorted_tangent": sorted_tangent},
    reverse=None,
    x="sorted_grad(g, x, reverse)",
    tangents={"x": "sorted_tangent(t, x, reverse)"},
    holds=True,
    sequences=("x",),
)
#: its tangent (forward mode's code, read again for second derivatives): the tangents
#: in the items' sorted order, linear in them
defrule(
    "sorted_tangent(t, x, reverse=False)",
    env={"sorted_grad": sorted_grad, "sorted_tangent": sorted_tangent},
    t="sorted_grad(g, x, reverse)",
    x=None,
    reverse=None,
    tangents={"t": "sorted_tangent(t, x, reverse)"},
    holds=True,
    sequences=("t",),
)
SUM = {"sum": builtins.sum, "sum_items_grad": sum_items_grad}
#: the order ``sorted(xs, key=f)`` puts its items in (see srcad.desugar): piecewise constant
#: (a list of ints made from x's items: the version for floats reads it as a sequence)
defrule(
    "sorted_order(x, reverse=False)",
    env={"sorted_order": sorted_order},
    x=None,
    reverse=None,
    holds=True,
    sequences=("x",),
)
SUMS: tuple[Rule, ...] = (defrule(
    "sum(x)", env=SUM, x="sum_items_grad(g, x)", tangents={"x": "sum(t)"}, sequences=("x",)
),)
SUMS += (defrule(  # (`start`: Python's name for it, which a keyword may use)
    "sum(x, start)",
    env={**SUM, "unbroadcast": unbroadcast},
    x="sum_items_grad(g, x)",
    start="unbroadcast(g, start)",  # (it may broadcast; the items are summed apart)
    tangents={"x": "sum(t)", "start": "t"},
    sequences=("x",),
),)
#: ``max(items)``, ``min(items)`` and ``math.prod(items)`` of a list the function builds or
#: an array (over displays lowering folds them pairwise instead).
EXTREMES = {
    "extreme_items_grad": extreme_items_grad,
    "extreme_items_tangent": extreme_items_tangent,
}
EXTREMES_OF_ITEMS = tuple(
    defrule(
        f"{_name}(x)",
        env={_name: getattr(builtins, _name), **EXTREMES},
        x="extreme_items_grad(g, x, ans)",
        tangents={"x": "extreme_items_tangent(t, x, ans)"},
        sequences=("x",),
    )
    for _name in ("max", "min")
)
PROD = defrule(
    "math.prod(x)",
    env={
        "math": math,
        "prod_items_grad": prod_items_grad,
        "prod_items_tangent": prod_items_tangent,
    },
    x="prod_items_grad(g, x)",
    tangents={"x": "prod_items_tangent(t, x)"},
    sequences=("x",),
)
#: A copy of a list (a new list the function may then grow); of an array, the list of its
#: items (or rows), whose adjoint goes back as an array.
LIST_COPY = defrule(
    "list(x)", env={"list": builtins.list, "listed_grad": listed_grad}, x="listed_grad(g, x)",
    tangents={"x": "t"}, holds=True, sequences=("x",)
)
#: A namedtuple the function made (``State(x, v)``), from the tuple of its items: the
#: items' adjoint is the record's (an adjoint of a namedtuple reads by position too).
NAMED_TUPLE = defrule(
    "named_tuple(cls, x)",
    env={"named_tuple": named_tuple},
    name="make a namedtuple",
    cls=None,
    x="g",
    tangents={"x": "named_tuple(cls, t)"},
    holds=True,
    sequences=("x",),
)
#: Reads of a sequence that only iterate over it, so that a 1-D array and the list of its
#: items give the same (the float version may read such an array as that list).
ITERATING_READS: tuple[Rule, ...] = (
    DIST, FSUM, *SUMS, *EXTREMES_OF_ITEMS, PROD, LIST_COPY, SORTED
)
defrule(
    "pow(x, y)",
    env={"pow": builtins.pow, "math": math, **POWER_ENV},
    elementwise=True,
    tangents=POWER_TANGENTS,
    **{p: t.format(m="math") for p, t in POWER.items()},
)
#: At a tie each argument gets half of the gradient, the middle of the subgradient as
#: ``abs'(0) = 0`` is (JAX's convention): pieces whose kinks cancel then sum to the
#: derivative of the smooth whole (``max(a, b) + min(a, b)``, the stable softplus
#: ``max(z, 0) + log1p(exp(-abs(z)))`` at 0; round 75a: the first argument took it all).
defrule("max(x, y)", env={"max": builtins.max, "chosen": chosen},
        x="chosen(x > y, g) + chosen(x == y, 0.5 * g)",
        y="chosen(x < y, g) + chosen(x == y, 0.5 * g)", elementwise=True)
defrule("min(x, y)", env={"min": builtins.min, "chosen": chosen},
        x="chosen(x < y, g) + chosen(x == y, 0.5 * g)",
        y="chosen(x > y, g) + chosen(x == y, 0.5 * g)", elementwise=True)
