"""Derivative rules for numpy arrays: broadcasting arithmetic, linear algebra,
reductions, shape changes, selection and joining. Non-differentiable numpy calls
(array constructors, shapes, arg-max) are listed with no gradient."""

from __future__ import annotations

import builtins
import math

import numpy as np

from ..runtime import (
    along_axis_result,
    along_lanes,
    chosen,
    copied_only,
    flat_index,
    log2_share,
    log_share,
    multiplied_at,
    shallow_object_copy,
)
from . import numpy_grads
from .scalar import POWER, POWER_ENV, POWER_TANGENTS
from .table import RuleTable, Templates, defrule

NP = {"np": np}
SHARES = {"log_share": log_share, "log2_share": log2_share, "chosen": chosen}
HELPERS = {name: getattr(numpy_grads, name) for name in numpy_grads.__all__}
ENV = {"np": np, **HELPERS}

# ---------------------------------------------------------------- elementwise, broadcasting
BINARY: dict[str, Templates] = {
    "add": {"x": "g", "y": "g"},
    "subtract": {"x": "g", "y": "-g"},
    "multiply": {"x": "y * g", "y": "x * g"},
    "divide": {"x": "g / y", "y": "-ans / y * g"},
    "true_divide": {"x": "g / y", "y": "-ans / y * g"},
    "power": POWER,
    "float_power": {"x": "power_slope(x * 1.0, y) * g", "y": POWER["y"]},  # (in floats)
    # at a tie each argument gets half (see srcad.rules.scalar's max)
    "maximum": {"x": "chosen(x > y, g) + chosen(x == y, 0.5 * g)",
                "y": "chosen(x < y, g) + chosen(x == y, 0.5 * g)"},
    "minimum": {"x": "chosen(x < y, g) + chosen(x == y, 0.5 * g)",
                "y": "chosen(x > y, g) + chosen(x == y, 0.5 * g)"},
    # (each operand's share of the sum: 0 where both are -inf, see log_share)
    "logaddexp": {"x": "log_share(x, ans) * g", "y": "log_share(y, ans) * g"},
    # (divided by the hypotenuse twice: the squares overflow or underflow, see math.atan2)
    "arctan2": {"x": "y / np.hypot(x, y) / np.hypot(x, y) * g",
                "y": "-x / np.hypot(x, y) / np.hypot(x, y) * g"},
    "hypot": {"x": "x / ans * g", "y": "y / ans * g"},
    # NaN-ignoring extremes: where one is NaN the other is taken
    "fmax": {"x": "chosen((x > y) | np.isnan(y), g) + chosen(x == y, 0.5 * g)",
             "y": "chosen((x < y) | np.isnan(x), g) + chosen(x == y, 0.5 * g)"},
    "fmin": {"x": "chosen((x < y) | np.isnan(y), g) + chosen(x == y, 0.5 * g)",
             "y": "chosen((x > y) | np.isnan(x), g) + chosen(x == y, 0.5 * g)"},
    "logaddexp2": {"x": "log2_share(x, ans) * g", "y": "log2_share(y, ans) * g"},
    # remainders: x - floor(x / y) * y (mod), x - trunc(x / y) * y (fmod), piecewise
    "mod": {"x": "g", "y": "-np.floor(x / y) * g"},
    "remainder": {"x": "g", "y": "-np.floor(x / y) * g"},
    "fmod": {"x": "g", "y": "-np.trunc(x / y) * g"},
    "copysign": {"x": "np.sign(x) * np.sign(ans) * g", "y": None},
    "heaviside": {"x": None, "y": "(x == 0) * g"},
}
for _name, _templates in BINARY.items():  # (dtype=: the result's type, as np.average asks)
    _power = _name in ("power", "float_power")  # (the exponent's tangent: POWER_TANGENTS)
    _env = {**NP, **POWER_ENV} if _power else {**NP, **SHARES}
    defrule(f"np.{_name}(x, y, dtype=None)", env=_env,
            broadcasting=True, elementwise=True, dtype=None,
            tangents=POWER_TANGENTS if _power else None, **_templates)
#: The square of a hypotenuse is one gate, the sum of the squares: its derivative holds
#: at the origin too (the hypotenuse's own divides by 0 there).
for _module, _times in (("np", "np.multiply"), ("math", "")):  # (np: lists too)
    defrule(f"{_module}.hypot(x, y) ** 2", env={"np": np, "math": math},
            broadcasting=_module == "np", elementwise=True, name=f"squared hypot ({_module})",
            x=f"2.0 * {_times}(x, g)" if _times else "2.0 * x * g",
            y=f"2.0 * {_times}(y, g)" if _times else "2.0 * y * g",
            tangents={"x": f"2.0 * {_times}(x, t)" if _times else "2.0 * x * t",
                      "y": f"2.0 * {_times}(y, t)" if _times else "2.0 * y * t"})
#: A root raised to its power is the value itself, smooth at 0 too (the root's own
#: derivative there is infinite: 0 * inf); numpy's square root of a negative is nan.
defrule("np.sqrt(x) ** 2", env=NP, elementwise=True, name="squared square root (np)",
        x="np.where(x < 0, np.nan, g)", tangents={"x": "np.where(x < 0, np.nan, t)"})
defrule("math.sqrt(x) ** 2", env={"math": math}, elementwise=True,
        name="squared square root (math)", x="g", tangents={"x": "t"})
defrule("np.cbrt(x) ** 3", env=NP, elementwise=True, name="cubed cube root (np)", x="g",
        tangents={"x": "t"})
if hasattr(math, "cbrt"):  # (Python 3.11)
    defrule("math.cbrt(x) ** 3", env={"math": math}, elementwise=True,
            name="cubed cube root (math)", x="g", tangents={"x": "t"})
#: The stable softplus's tail, ``softplus(x) - max(x, 0)``, is one gate: its slope
#: ``sigmoid(x) - step(x)`` (the step half at 0, as ``max``'s tie is) has the derivative
#: ``sigmoid'`` everywhere, so the softplus and the logistic loss written stably, ``max(z,
#: 0) + log1p(exp(-abs(z)))``, have the right second derivative at 0 too (round 75a: 0,
#: where ``sigmoid'(0) = 1/4``; a Newton step from zero weights failed).
for _module, _abs in (("np", "np.abs"), ("math", "abs")):
    _slope = f"0.5 * ({_module}.tanh(0.5 * x) - sign(x))"
    for _log in (f"{_module}.log1p({_module}.exp(-{_abs}(x)))",
                 f"{_module}.log(1 + {_module}.exp(-{_abs}(x)))"):
        defrule(_log, env={**NP, "math": math, "abs": builtins.abs, "sign": numpy_grads.sign},
                elementwise=True,  # (abs: the builtin, not a parameter of the pattern)
                name=f"softplus tail ({_log})", x=f"{_slope} * g",
                tangents={"x": f"{_slope} * t"})
#: the shares of logaddexp's operands, read again for second derivatives
#: (``total``: the sum, as ``ans`` in a template is the rule's own result: the share)
defrule("log_share(x, total)", env=SHARES, x="ans * g", total="-ans * g", broadcasting=True,
        elementwise=True)
defrule("log2_share(x, total)", env=SHARES, x="0.6931471805599453 * ans * g",
        total="-0.6931471805599453 * ans * g", broadcasting=True, elementwise=True)
#: The complex conjugate (the value itself for real arrays): its adjoint is conj(g).
for _pattern in ("np.conj(x)", "np.conjugate(x)", "x.conj()", "x.conjugate()"):
    defrule(_pattern, env=NP, x="np.conj(g)", linear=True, elementwise=True)

defrule(
    "np.where(c, x, y)",
    env=NP,
    broadcasting=True,
    c=None,
    x="np.where(c, g, 0.0)",
    y="np.where(c, 0.0, g)",
    tangents={"x": "np.where(c, t, 0.0)", "y": "np.where(c, 0.0, t)"},
    selector="c",
)
#: Item by item the first choice whose condition holds (``default`` where none does):
#: each choice gets ``g`` where it is taken.
defrule(
    "np.select(condlist, choicelist, default=0)",
    env=ENV,
    condlist=None,
    choicelist="select_grad(g, condlist, choicelist)",
    default="select_default_grad(g, condlist, default)",
    tangents={
        "choicelist": "select_tangent(condlist, t, None, ans)",
        "default": "select_tangent(condlist, None, t, ans)",
    },
    sequences=("condlist", "choicelist"),
)
#: Clipped items pass their gradient to the bound they are clipped to.
for _pattern, _low, _high in (
    ("np.clip(x, a_min, a_max)", "a_min", "a_max"),
    ("x.clip(a_min=None, a_max=None)", "a_min", "a_max"),
    # (numpy 2's names, as keywords: np.clip(x, min=0.0), x.clip(max=1.0))
    ("np.clip(x, min=None, max=None)", "min", "max"),
    ("x.clip(min=None, max=None)", "min", "max"),
):
    _bounds = f"{_low}, {_high}"
    _clipped: Templates = {
        _low: f"clip_bound_grad(g, x, {_bounds}, True)",
        _high: f"clip_bound_grad(g, x, {_bounds}, False)",
    }
    defrule(
        _pattern,
        env=ENV,
        broadcasting=True,
        x=f"clip_grad(g, x, {_bounds})",
        **_clipped,
        tangents={
            "x": f"clip_grad(t, x, {_bounds})",
            _low: f"clip_bound_tangent(t, x, {_bounds}, True)",
            _high: f"clip_bound_tangent(t, x, {_bounds}, False)",
        },
    )
defrule("np.sign(x)", env=NP, x=None)

#: The log-softmax idiom ``x - log(sum(exp(x)))`` is one gate: its adjoint is
#: ``g - softmax(x) * sum(g)``, where ``softmax(x) = exp(ans)`` (no chain through log and sum).
defrule(
    "x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))",
    env=NP,
    axis=None,
    name="log-softmax (np)",
    shift_invariant="axis",
    x="g - np.exp(ans) * g.sum(axis=axis, keepdims=True)",
    tangents={"x": "t - np.sum(np.exp(ans) * t, axis=axis, keepdims=True)"},
)
#: The softmax idiom ``exp(x) / sum(exp(x))``: adjoint ``ans * (g - sum(g * ans))``.
defrule(
    "np.exp(x) / np.sum(np.exp(x), axis=axis, keepdims=True)",
    env=NP,
    axis=None,
    name="softmax (np)",
    shift_invariant="axis",
    x="ans * (g - (g * ans).sum(axis=axis, keepdims=True))",
    tangents={"x": "ans * (t - np.sum(ans * t, axis=axis, keepdims=True))"},
)

# ---------------------------------------------------------------- linear algebra
MATMUL: Templates = {"x": "matmul_left(g, x, y)", "y": "matmul_right(g, x, y)"}
defrule("x @ y", env=ENV, linear=True, **MATMUL)
defrule("np.matmul(x, y)", env=ENV, linear=True, **MATMUL)
#: (np.dot: numpy's own rule for more than two axes, and numbers)
DOT: Templates = {"x": "dot_left(g, x, y)", "y": "dot_right(g, x, y)"}
defrule("np.dot(x, y)", env=ENV, linear=True, **DOT)
defrule("x.dot(y)", env=ENV, linear=True, **DOT)
defrule("np.inner(x, y)", env=ENV, linear=True, x="inner_left(g, x, y)", y="inner_right(g, x, y)")
#: (vectors of 2 or 3 components along the last axis; np.cross's axis options: no rule)
defrule("np.cross(x, y)", env=ENV, linear=True, x="cross_grad(g, x, y, True)",
        y="cross_grad(g, x, y, False)")
#: the powers of a vector, one column per power (polynomial fits)
defrule("np.vander(x, N=None, increasing=False)", env=ENV, N=None, increasing=None,
        x="np.sum(g * vander_slopes(x, N, increasing), axis=1)",
        tangents={"x": "vander_slopes(x, N, increasing) * t[:, None]"})
#: items picked by position along an axis (or of the flattened array)
defrule("np.take(x, indices, axis=None, mode='raise')", env=ENV, indices=None, axis=None,
        mode=None, x="take_grad(g, x, indices, axis, mode)", linear=True)
defrule("x.take(indices, axis=None, mode='raise')", env=ENV, indices=None, axis=None,
        mode=None, x="take_grad(g, x, indices, axis, mode)", linear=True)
#: items put in before positions: each operand gets the gradient where its items went
defrule("np.insert(arr, obj, values, axis=None)", env=ENV, obj=None, axis=None,
        jointly_linear=True, arr="insert_grad(g, arr, obj, values, axis, False)",
        values="insert_grad(g, arr, obj, values, axis, True)")
#: sums of segments starting at the indices: each item gets the gradients of its sums
defrule("np.add.reduceat(x, indices, axis=0)", env=ENV, indices=None, axis=None, linear=True,
        x="reduceat_grad(g, x, indices, axis)")
#: ``np.multiply.at(x, i, v)``, written ``x[...] = multiplied_at(x, i, v)`` (see
#: srcad.lower.keywords): a repeated position is multiplied by each of its factors
defrule("multiplied_at(x, index, v)", env={**ENV, "multiplied_at": multiplied_at},
        index=None, creates=True, x="multiply_at_grad_x(g, x, index, v)",
        v="multiply_at_grad_v(g, x, index, v)",
        tangents={"x": "multiplied_at(t, index, v)", "v": "multiply_at_tangent_v(t, x, index, v)"})
#: the index of the items ``x.flat[key]`` stands for (``x[flat_index(x, key)]``)
defrule("flat_index(x, key)", env={"flat_index": flat_index}, x=None, key=None)
#: the lanes ``np.apply_along_axis`` is read as running its function on (srcad.desugar)
defrule("along_lanes(x, axis)", env={**ENV, "along_lanes": along_lanes}, axis=None,
        x="along_lanes_grad(g, x, axis)", linear=True, creates=True)
defrule("along_axis_result(values, ndim, axis)",
        env={**ENV, "along_axis_result": along_axis_result}, ndim=None, axis=None,
        values="along_axis_values_grad(g, values, ndim, axis)", linear=True)
#: (np.outer flattens its operands)
defrule("np.outer(x, y)", env=NP, linear=True, x="np.reshape(g @ np.ravel(y), np.shape(x))",
        y="np.reshape(np.ravel(x) @ g, np.shape(y))")
#: ufuncs' outer products keep the operands' shapes: x's axes, then y's
defrule("np.multiply.outer(x, y)", env=NP, linear=True,
        x="np.tensordot(g, y, axes=np.ndim(y))", y="np.tensordot(x, g, axes=np.ndim(x))")
defrule("np.add.outer(x, y)", env=ENV, jointly_linear=True,
        x="sum_leading(g, np.ndim(x), False)", y="sum_leading(g, np.ndim(x), True)")
defrule("np.subtract.outer(x, y)", env=ENV, jointly_linear=True,
        x="sum_leading(g, np.ndim(x), False)", y="-sum_leading(g, np.ndim(x), True)")

# ---------------------------------------------------------------- reductions
# (``dtype``: the accumulator's type; the gradient of a floating sum is the same, of an
# integer or boolean one 0: each item is truncated first)
for _name, _helper in (("sum", "sum_grad"), ("mean", "mean_grad")):
    _template = f"{_helper}(cast_gradient(g, dtype), x, axis, keepdims)"
    _cast_tangent = f"np.{_name}(cast_gradient(t, dtype), axis=axis, keepdims=keepdims)"
    defrule(
        f"np.{_name}(x, axis=None, dtype=None, keepdims=False)",
        env=ENV,
        axis=None,
        dtype=None,
        keepdims=None,
        x=_template,
        tangents={"x": _cast_tangent},
        linear=True,
        reduction=True,
    )
    defrule(
        f"x.{_name}(axis=None, dtype=None, keepdims=False)",
        env=ENV,
        axis=None,
        dtype=None,
        keepdims=None,
        x=_template,
        tangents={"x": _cast_tangent},
        linear=True,
        reduction=True,
    )
#: NaNs count as 0: no gradient reaches them
defrule(
    "np.nansum(x, axis=None, dtype=None, keepdims=False)",
    env=ENV,
    axis=None,
    dtype=None,
    keepdims=None,
    x="np.where(np.isnan(x), 0.0, sum_grad(cast_gradient(g, dtype), x, axis, keepdims))",
    tangents={"x": "np.nansum(np.where(np.isnan(x), 0.0, cast_gradient(t, dtype)), axis=axis, "
              "keepdims=keepdims)"},
    reduction=True,
)
for _name in ("max", "min", "amax", "amin"):
    _template = "extremum_grad(g, x, ans, axis, keepdims)"
    _tangent = {
        "x": "np.sum(extremum_grad(np.ones_like(ans), x, ans, axis, keepdims) * t, "
        "axis=axis, keepdims=keepdims)"
    }
    defrule(
        f"np.{_name}(x, axis=None, keepdims=False)",
        env=ENV,
        axis=None,
        keepdims=None,
        x=_template,
        tangents=_tangent,
        reduction=True,
    )
    if not _name.startswith("a"):
        defrule(
            f"x.{_name}(axis=None, keepdims=False)",
            env=ENV,
            axis=None,
            keepdims=None,
            x=_template,
            tangents=_tangent,
            reduction=True,
        )
#: a ufunc's reduce (along axis 0 by default): the reduction it stands for
_EXTREMUM_TANGENT = _tangent
for _ufunc, _template, _tangents in (
    ("add", "sum_grad(g, x, axis, keepdims)", {}),
    ("multiply", "prod_grad(g, x, ans, axis, keepdims)", _PROD_TANGENT := {
        "x": "np.sum(prod_grad(np.ones_like(ans), x, ans, axis, keepdims) * t, "
        "axis=axis, keepdims=keepdims)"
    }),
    ("maximum", "extremum_grad(g, x, ans, axis, keepdims)", _EXTREMUM_TANGENT),
    ("minimum", "extremum_grad(g, x, ans, axis, keepdims)", _EXTREMUM_TANGENT),
    ("logaddexp", "logsumexp_grad(g, x, ans, axis, None, keepdims)",
     {"x": "logsumexp_tangent(t, x, ans, axis, None, keepdims)"}),
):
    defrule(f"np.{_ufunc}.reduce(x, axis=0, keepdims=False)", env=ENV, axis=None,
            keepdims=None, x=_template, tangents=_tangents, reduction=True,
            linear=_ufunc == "add")
#: the range, max - min: the gradient of each (ties share it, as for max and min)
_PTP = ("extremum_grad({g}, x, np.max(x, axis=axis, keepdims=keepdims), axis, keepdims) - "
        "extremum_grad({g}, x, np.min(x, axis=axis, keepdims=keepdims), axis, keepdims)")
defrule(
    "np.ptp(x, axis=None, keepdims=False)",
    env=ENV,
    axis=None,
    keepdims=None,
    x=_PTP.format(g="g"),
    tangents={"x": f"np.sum(({_PTP.format(g='np.ones_like(ans)')}) * t, axis=axis, "
                   "keepdims=keepdims)"},
    reduction=True,
)
#: quantiles by linear interpolation (numpy's default): the two items each one picks
#: (the ``nan`` forms: among each lane's numbers, NaNs left out)
_QUANTILE_OPTIONS = "axis=None, out=None, overwrite_input=False, method='linear', keepdims=False"
for _nan in ("", "nan"):
    for _name, _q in (("quantile", "q"), ("percentile", "np.divide(q, 100)")):
        _args = f"x, {_q}, axis, keepdims, method" + (", skip_nan=True" if _nan else "")
        _per_q = " / 100" if _name == "percentile" else ""
        defrule(
            f"np.{_nan}{_name}(x, q, {_QUANTILE_OPTIONS})",
            env=ENV,
            axis=None, out=None, overwrite_input=None, method=None, keepdims=None,
            x=f"quantile_grad(g, {_args})",
            q=f"quantile_q_grad(g, {_args}){_per_q}",
            tangents={
                "x": f"quantile_tangent(t, {_args})",
                "q": f"quantile_q_tangent(t, {_args}){_per_q}",
            },
        )
    _nan_median = ", skip_nan=True" if _nan else ""
    defrule(
        f"np.{_nan}median(x, axis=None, out=None, overwrite_input=False, keepdims=False)",
        env=ENV,
        axis=None, out=None, overwrite_input=None, keepdims=None,
        x=f"quantile_grad(g, x, 0.5, axis, keepdims{_nan_median})",
        tangents={"x": f"quantile_tangent(t, x, 0.5, axis, keepdims{_nan_median})"},
    )
defrule(
    "np.prod(x, axis=None, keepdims=False)",
    env=ENV,
    axis=None,
    keepdims=None,
    x="prod_grad(g, x, ans, axis, keepdims)",
    tangents=_PROD_TANGENT,
    reduction=True,
)
defrule(
    "x.prod(axis=None, keepdims=False)",
    env=ENV,
    axis=None,
    keepdims=None,
    x="prod_grad(g, x, ans, axis, keepdims)",
    tangents=_PROD_TANGENT,
    reduction=True,
)

# ---------------------------------------------------------------- shapes
defrule("x.T", env=NP, x="np.transpose(g)", linear=True, restore="np.transpose(v)")
#: The matrix transpose of a stack of matrices (numpy 2 and the array API standard).
defrule("x.mT", env=NP, x="g.mT", linear=True, restore="v.mT")
defrule(
    "np.transpose(x, axes=None)",
    env=ENV,
    axes=None,
    x="transpose_grad(g, axes)",
    linear=True,
    restore="np.transpose(v, inverse_axes(axes))",
)
defrule("x.transpose()", env=NP, x="np.transpose(g)", linear=True, restore="np.transpose(v)")
#: Rolling and flipping permute the entries: the gradient is permuted back.
defrule("np.roll(x, shift, axis=None)", env=NP, shift=None, axis=None,
        x="np.roll(g, np.negative(shift), axis)", linear=True)
defrule("np.flip(x, axis=None)", env=NP, axis=None, x="np.flip(g, axis)", linear=True,
        restore="np.flip(v, axis)")
defrule("np.fliplr(x)", env=NP, x="np.fliplr(g)", linear=True, restore="np.fliplr(v)")
defrule("np.flipud(x)", env=NP, x="np.flipud(g)", linear=True, restore="np.flipud(v)")
RESHAPES = [
    "np.reshape(x, shape)",
    "x.reshape(shape)",
    *(f"x.reshape({', '.join(f'n{k}' for k in range(rank))})" for rank in range(2, 7)),
    "np.squeeze(x, axis=None)",
    "x.squeeze(axis=None)",
    "np.expand_dims(x, axis)",
    "np.ravel(x)",
    "x.ravel()",
    "np.atleast_1d(x)",
    "np.atleast_2d(x)",
]
for _pattern in RESHAPES:  # parameters without a template (shape, axis) get no gradient
    defrule(
        _pattern, env=ENV, x="reshape_like(g, x)", linear=True, restore="np.reshape(v, np.shape(x))"
    )
defrule("x.flatten()", env=ENV, x="reshape_like(g, x)", linear=True)  # (always a copy)
# (with an order: the items back where that order read them from; "K" and "A" follow
# x's memory layout, which its tangent need not have: read in x's order)
for _pattern in ("np.ravel(x, order='C')", "x.ravel(order='C')"):
    defrule(_pattern, env=ENV, order=None, x="unravel_like(g, x, order)", linear=True,
            restore="unravel_like(v, x, order)", tangents={"x": "ravel_like(t, x, order)"})
# (a reshape in an order, C or Fortran's: the items back where it read them from)
for _pattern in (
    "np.reshape(x, shape, order)", "x.reshape(shape, order)",  # (given: else the above)
    *(f"x.reshape({', '.join(f'n{k}' for k in range(rank))}, order)" for rank in range(2, 7)),
):
    defrule(_pattern, env=ENV, order=None, x="reshape_back(g, x, order)", linear=True,
            restore="reshape_back(v, x, order)",
            tangents={"x": "reshape_tangent(t, x, ans, order)"})
defrule("x.flatten(order)", env=ENV, order=None, x="unravel_like(g, x, order)", linear=True,
        tangents={"x": "ravel_like(t, x, order)"})
defrule("unravel_like(v, x, order)", env=ENV, x=None, order=None, v="ravel_like(g, x, order)",
        linear=True)
#: (a write through an ordered reshape, written back: second derivatives read it again)
defrule("reshape_back(v, x, order)", env=ENV, x=None, order=None,
        v="reshape_tangent(g, x, v, order)", linear=True)
#: a read-only view that repeats ``x`` along the new axes: the gradient sums them back
defrule("np.broadcast_to(x, shape, subok=False)", env=ENV, shape=None, subok=None,
        x="unbroadcast(g, np.shape(x))", linear=True, view=True)
#: piecewise-linear interpolation; ``left``/``right``: the values outside ``xp``'s range
#: (``fp``'s ends by default; ``period=``: no rule)
defrule(
    "np.interp(x, xp, fp, left=None, right=None)",
    env=ENV,
    x="interp_grad_x(g, x, xp, fp)",
    xp="interp_grad_xp(g, x, xp, fp)",
    fp="interp_grad_fp(g, x, xp, fp, left, right)",
    left="interp_grad_end(g, x, xp, True)",
    right="interp_grad_end(g, x, xp, False)",
    tangents={
        "x": "interp_tangent(t, None, None, x, xp, fp)",
        "xp": "interp_tangent(None, t, None, x, xp, fp)",
        "fp": "interp_tangent(None, None, t, x, xp, fp, left, right)",
        "left": "interp_end_tangent(t, x, xp, True)",
        "right": "interp_end_tangent(t, x, xp, False)",
    },
)
#: ``x``'s items repeated (or cut) to a shape, in order
defrule("np.resize(x, shape)", env=ENV, shape=None, x="resize_grad(g, x)", linear=True,
        tangents={"x": "np.resize(t, shape)"})
#: 1-D convolution and correlation, in each mode (numpy's: ``full``, ``same``, ``valid``)
defrule("np.convolve(a, v, mode='full')", env=ENV, mode=None,
        a="convolve_grad(g, a, v)", v="convolve_grad(g, v, a)",
        tangents={"a": "np.convolve(t, v, mode)", "v": "np.convolve(a, t, mode)"})
defrule("np.correlate(a, v, mode='valid')", env=ENV, mode=None,
        a="convolve_grad(g, a, v, True)", v="correlate_kernel_grad(g, a, v)",
        tangents={"a": "np.correlate(t, v, mode)", "v": "np.correlate(a, t, mode)"})
#: ``np.vdot(a, b)``: the sum of the products of the flattened arrays (real ones)
defrule(
    "np.vdot(x, y)",
    env=ENV,
    x="np.reshape(np.ravel(y) * g, np.shape(x))",
    y="np.reshape(np.ravel(x) * g, np.shape(y))",
    tangents={"x": "np.vdot(t, y)", "y": "np.vdot(x, t)"},
)
#: the real part of a real array: the array itself (complex numbers are refused)
#: (the array's own memory: a write into it is a write into the array)
defrule("np.real(x)", env=ENV, x="g", linear=True, restore="v")
defrule("x.real", env=NP, x="g", linear=True, restore="v")
#: (also what an item write of a list display makes: ``y[idx] = [a, b]``)
ARRAY_OF_ITEMS = defrule("np.array(x)", env=ENV, x="items_like(g, x)", creates=True, linear=True)
# ``asarray``, and ``array`` given options: the array itself when it is one already (of
# that type), so a view for the memory pass, which asks at run time (``ndmin`` may add
# leading axes of length 1)
for _name in ("asarray", "asanyarray", "ascontiguousarray", "asfortranarray"):
    defrule(f"np.{_name}(x)", env=ENV, x="items_like(g, x)", linear=True, restore="v")
    defrule(f"np.{_name}(x, dtype=None, order=None)", env=ENV, dtype=None, order=None,
            x="items_like(cast_gradient(g, dtype), x)", linear=True, restore="v",
            tangents={"x": "cast_gradient(np.asarray(t), dtype)"})
# (``subok``: subclasses pass through; srcad's arrays are ndarrays either way)
defrule("np.array(x, dtype=None, copy=True, order=None, subok=False, ndmin=0)", env=ENV,
        dtype=None, copy=None, order=None, subok=None, ndmin=None,
        x="items_like(np.reshape(cast_gradient(g, dtype), np.shape(x)), x)",
        tangents={"x": "np.array(cast_gradient(np.asarray(t), dtype), ndmin=ndmin)"},
        linear=True, restore="np.reshape(v, np.shape(x))")
#: (of a list: a new list, which the function may grow)
COPY_METHOD = defrule("x.copy()", x="g", creates=True, linear=True)
#: ``x.copy()`` (also ``dict(x)``) of a dict or list: a new container that holds the
#: objects ``x`` holds, so that an array item changed in place through the copy changes
#: the original's item too. Chosen by lowering (not matched: the pattern is the same).
SHALLOW_COPY = defrule("x.copy()", x="g", holds=True, linear=True, table=RuleTable(),
                       name="x.copy() of a container")
#: ``copy.copy(obj)`` of an object (srcad's stand-in calls it): its fields, shared
defrule("shallow_object_copy(x)", env={"shallow_object_copy": shallow_object_copy}, x="g",
        holds=True, linear=True, name="copy.copy of an object")
defrule("np.copy(x)", env=NP, x="g", creates=True, linear=True)
#: (in a memory order: the same items, so the same gradient)
defrule("x.copy(order)", order=None, x="g", creates=True, linear=True)
defrule("np.copy(x, order='K', subok=False)", env=NP, order=None, subok=None, x="g",
        creates=True, linear=True)
#: (to an integer or boolean type: no gradient, as for ``int(x)``)
defrule("x.astype(dtype, copy=True)", env=ENV, dtype=None, copy=None,
        x="cast_gradient(g, dtype)", linear=True, tangents={"x": "cast_gradient(t, dtype)"},
        restore="v")  # (copy=False of the same dtype: x itself)
#: the same memory under another array object
defrule("x.view()", x="g", linear=True, restore="v")
#: numpy's float scalars made from a value: the value itself (``np.float64(x)``)
for _name in ("float64", "float32"):
    defrule(f"np.{_name}(x)", env=NP, x="g", elementwise=True)
#: the one item of an array of size 1 (a 0-d array's value), as a Python number
defrule("x.item()", env=NP, x="np.full(np.shape(x), g)", tangents={"x": "np.asarray(t).item()"})
#: an array's items as (nested) Python lists: the gradient is the array of the lists'
#: gradients
TOLIST = defrule("x.tolist()", env=NP, x="np.reshape(np.asarray(g, dtype=np.float64), np.shape(x))",
        linear=True, creates=True, tangents={"x": "np.asarray(t).tolist()"})
#: numpy's integers made from a value truncate it: piecewise constant
for _name in ("int8", "int16", "int32", "int64", "intp", "uint8", "uint16", "uint32", "uint64",
              "bool_"):
    defrule(f"np.{_name}(x)", env=NP, x=None)
#: NaN to 0 and infinities to the largest floats: the identity where ``x`` is finite
#: (the values put in for them, ``nan=``, ``posinf=``, ``neginf=``, get the gradient of
#: the places they fill; ``copy=False`` writes into ``x``, which srcad refuses)
_NAN_TO_NUM = {
    "x": "np.isfinite(x)", "nan": "np.isnan(x)", "posinf": "np.isposinf(x)",
    "neginf": "np.isneginf(x)",
}
_NAN_TO_NUM_ADJOINTS: Templates = {
    p: f"copied_only(copy, np.where({m}, g, 0.0))" if p == "x"
    else f"copied_only(copy, unbroadcast(np.where({m}, g, 0.0), {p}))"
    for p, m in _NAN_TO_NUM.items()
}
defrule("np.nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None)",
        env={**ENV, "copied_only": copied_only}, copy=None, elementwise=True,
        tangents={p: f"copied_only(copy, np.where({m}, t, 0.0))" for p, m in _NAN_TO_NUM.items()},
        **_NAN_TO_NUM_ADJOINTS)
#: floor division: piecewise constant in both (as ``x // y``)
defrule("np.floor_divide(x, y)", env=NP, x=None, y=None, elementwise=True, broadcasting=True)

# ---------------------------------------------------------------- joining
defrule(
    "np.concatenate(parts, axis=0)",
    env=ENV,
    axis=None,
    parts="split_like(g, parts, axis)",
    linear=True,
    sequences=("parts",),
)
defrule("np.stack(parts, axis=0)", env=ENV, axis=None, parts="unstack(g, parts, axis)",
        linear=True, sequences=("parts",))
#: ``X, Y = np.meshgrid(x, y)``: each output repeats one input (linear in all at once)
for _count in range(1, 7):
    _inputs = ", ".join(f"x{k}" for k in range(_count))
    _meshgrid: Templates = {
        f"x{k}": f"meshgrid_grad(g, {k}, indexing, sparse, {_inputs})" for k in range(_count)
    }
    defrule(
        f"np.meshgrid({_inputs}, copy=True, sparse=False, indexing='xy')",
        env=ENV,
        copy=None,
        sparse=None,
        indexing=None,
        jointly_linear=True,
        **_meshgrid,
    )
defrule("np.hstack(parts)", env=ENV, parts="hsplit_like(g, parts)", linear=True,
        sequences=("parts",))
#: a read-only view of every window: the windows' gradients summed back
defrule(
    "np.lib.stride_tricks.sliding_window_view(x, window_shape, axis=None)",
    env=ENV,
    window_shape=None,
    axis=None,
    x="sliding_window_grad(g, x, window_shape, axis)",
    tangents={"x": "np.lib.stride_tricks.sliding_window_view(t, window_shape, axis=axis)"},
    view=True,
)
#: blocks joined into one array (one row of blocks, or rows of them)
defrule("np.block(arrays)", env=ENV, arrays="block_grad(g, arrays)", linear=True,
        sequences=("arrays",))
#: the parts back together (numpy's split reads the sections by trying ``len`` first)
for _name in ("split", "array_split"):
    defrule(f"np.{_name}(x, sections, axis=0)", env=ENV, sections=None, axis=None,
            x="joined_parts(g, ans, axis)",
            linear=True, tangents={"x": f"np.{_name}(t, sections, axis)"},
            shares=True)  # (the parts are views of x: a write into one is refused)
defrule("np.vstack(parts)", env=ENV, parts="vsplit_like(g, parts)", linear=True,
        sequences=("parts",))

# ---------------------------------------------------------------- no gradient
for _name in ("zeros", "ones", "empty", "zeros_like", "ones_like", "empty_like"):
    defrule(f"np.{_name}(x)", env=NP, x=None, creates=True, floats=not _name.endswith("like"))
    defrule(f"np.{_name}(x, dtype)", env=NP, x=None, dtype=None, creates=True)
for _name in ("eye", "identity"):
    defrule(f"np.{_name}(x)", env=NP, x=None, creates=True, floats=True)
for _name in (
    "shape",
    "size",
    "ndim",
    "argmax",
    "argmin",
    "argsort",
    "floor",
    "ceil",
    "round",
    "rint",
    "trunc",
    "fix",
    "isnan",
    "isinf",
    "isfinite",
):
    defrule(f"np.{_name}(x)", env=NP, x=None)
for _name in ("round", "around"):  # (to a number of decimals: piecewise constant too)
    defrule(f"np.{_name}(x, decimals=0)", env=NP, x=None, decimals=None)
defrule("x.round(decimals=0)", x=None, decimals=None)
for _name in ("all", "any"):  # (truth values)
    defrule(f"np.{_name}(x, axis=None, keepdims=False)", env=NP, x=None, axis=None,
            keepdims=None)
    defrule(f"x.{_name}(axis=None, keepdims=False)", x=None, axis=None, keepdims=None)
defrule("x.nonzero()", x=None)
for _name in ("argmax", "argmin", "argsort"):
    defrule(f"np.{_name}(x, axis)", env=NP, x=None, axis=None)
    defrule(f"x.{_name}(axis=None)", x=None, axis=None)
for _pattern in (
    "np.searchsorted(a, v, side='left')",
    "np.digitize(x, bins, right=False)",
    "np.count_nonzero(x, axis=None)",
    "np.nonzero(x)",
    "np.flatnonzero(x)",
    "np.argwhere(x)",
    "np.isclose(x, y)",
    "np.logical_and(x, y)",
    "np.logical_or(x, y)",
    "np.logical_not(x)",
):  # counts, positions and truth values: no gradient
    defrule(_pattern, env=NP)
#: Counting with weights is linear in the weights: each weight gets its bin's gradient.
defrule(
    "np.bincount(x, weights=None, minlength=0)",
    env=NP,
    x=None,
    minlength=None,
    weights="g[x]",
    linear=True,
)
#: Filled with a value, a grid between two ends, a range from a start by a step: linear
#: in those values (``np.linspace(0.0, length, n)`` of a differentiated length).
defrule("np.full(shape, value)", env=ENV, shape=None, value="unbroadcast(g, value)",
        linear=True, creates=True)
defrule("np.full_like(x, value)", env=ENV, x=None, value="unbroadcast(g, value)",
        linear=True, creates=True)
defrule("np.arange(x)", env=NP, x=None, distinct=True)
defrule("np.arange(x, y)", env=NP, x="np.sum(g)", y=None, distinct=True,
        tangents={"x": "np.ones(np.shape(ans)) * t"})
defrule("np.arange(x, y, z)", env=NP, x="np.sum(g)", y=None,
        z="np.sum(g * np.arange(np.size(g)))", distinct=True,
        tangents={"x": "np.ones(np.shape(ans)) * t", "z": "np.arange(np.size(ans)) * t"})
defrule("np.linspace(x, y, num=50, endpoint=True, axis=0)", env=ENV, num=None,
        endpoint=None, axis=None,
        x="linspace_grad(g, x, num, True, endpoint, axis)",
        y="linspace_grad(g, y, num, False, endpoint, axis)",
        tangents={"x": "np.linspace(t, 0.0 * y, num, endpoint=endpoint, axis=axis)",
                  "y": "np.linspace(0.0 * x, t, num, endpoint=endpoint, axis=axis)"})
for _attr in ("shape", "ndim", "size", "dtype"):
    defrule(f"x.{_attr}", x=None)
