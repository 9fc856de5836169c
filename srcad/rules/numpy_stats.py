"""Derivative rules for numpy's statistics, scans, sorting, diagonals, padding and axis
moves. A numpy function and its array method (``np.var(x)``, ``x.var()``) share one entry."""

from __future__ import annotations

from typing import Any

from .numpy_arrays import ENV
from .table import Templates, defrule


def function_and_method(name: str, signature: str, *, methods: bool = True, **spec: Any) -> None:
    """The rule for ``np.<name>(x, <signature>)`` and, with ``methods``, the same rule for
    ``x.<name>(<signature>)`` (numpy's array methods take the same arguments)."""
    tail = f", {signature}" if signature else ""
    defrule(f"np.{name}(x{tail})", env=ENV, **spec)
    if methods:
        defrule(f"x.{name}({signature})", env=ENV, **spec)


# ---------------------------------------------------------------- statistics and scans
_VAR = "axis=None, ddof=0, keepdims=False"
function_and_method(
    "var",
    _VAR,
    reduction=True,
    x="var_grad(g, x, axis, ddof, keepdims)",
    tangents={"x": "var_tangent(t, x, axis, ddof, keepdims)"},
)
#: ``std = sqrt(var)``: the variance's adjoint with ``g / (2 std)``.
function_and_method(
    "std",
    _VAR,
    reduction=True,
    x="var_grad(g / (2 * ans), x, axis, ddof, keepdims)",
    tangents={"x": "var_tangent(t, x, axis, ddof, keepdims) / (2 * ans)"},
)
#: The square of a standard deviation is one gate, the variance: its derivative holds
#: where every item is the same too (the deviation's own divides by 0 there).
for _axis, _over in (("", "None"), (", axis=axis", "axis")):
    _axis_option: Templates = {"axis": None} if _axis else {}  # (no gradient)
    defrule(
        f"np.std(x{_axis}) ** 2",
        env=ENV,
        **_axis_option,
        name=f"squared std{' along axis' if _axis else ''} (np)",
        x=f"var_grad(g, x, {_over}, 0, False)",
        tangents={"x": f"var_tangent(t, x, {_over}, 0, False)"},
    )
#: the same over the items that are not NaN (which get no gradient)
_NANVAR = "axis=None, dtype=None, out=None, ddof=0, keepdims=False"
for _name, _over in (("nanvar", ""), ("nanstd", " / (2 * ans)")):
    defrule(
        f"np.{_name}(x, {_NANVAR})",
        env=ENV,
        reduction=True,
        x=f"nanvar_grad(g{_over}, x, axis, ddof, keepdims)",
        tangents={"x": f"nanvar_tangent(t, x, axis, ddof, keepdims){_over}"},
    )
#: Pearson's correlation of the rows (``rowvar=False``: the columns) of ``x`` and ``y``
defrule(
    "np.corrcoef(x, y=None, rowvar=True)",
    env=ENV,
    rowvar=None,
    x="corrcoef_grad(g, x, y, rowvar, 0)",
    y="corrcoef_grad(g, x, y, rowvar, 1)",
    tangents={
        "x": "corrcoef_tangent(t, None, x, y, rowvar)",
        "y": "corrcoef_tangent(None, t, x, y, rowvar)",
    },
)
#: Differences of samples along each axis (or ``axis``), with no spacing, one spacing
#: for every axis, or one for each: linear in ``f``; a spacing ``h`` that is one number
#: divides the results it spaces (coordinates, an array, get no gradient: refused)
for _count in range(6):
    _spacings = [f"h{k}" for k in range(_count)]
    _given = "".join(f"{h}, " for h in _spacings)
    _tuple = f"({_given})" if _spacings else "()"
    _spacing_templates: Templates = {
        h: f"gradient_spacing_grad(g, f, {_tuple}, axis, edge_order, ans, {k})"
        for k, h in enumerate(_spacings)
    }
    defrule(
        f"np.gradient(f, {_given}axis=None, edge_order=1)",
        env=ENV,
        linear=True,
        axis=None,
        edge_order=None,
        f=f"gradient_grad(g, f, {_tuple}, axis, edge_order)",
        tangents={
            "f": f"np.gradient(t, {_given}axis=axis, edge_order=edge_order)",
            **{
                h: f"gradient_spacing_tangent(t, f, {_tuple}, axis, edge_order, ans, {k})"
                for k, h in enumerate(_spacings)
            },
        },
        **_spacing_templates,
    )
function_and_method("cumsum", "axis=None", linear=True, x="cumsum_grad(g, x, axis)")
#: (the ufunc's method: a running sum along axis 0 by default)
defrule("np.add.accumulate(x, axis=0)", env=ENV, linear=True, x="cumsum_grad(g, x, axis)")
#: a running maximum (minimum): each item's gradient goes to where its extreme came from
for _ufunc in ("maximum", "minimum", "fmax", "fmin"):
    defrule(
        f"np.{_ufunc}.accumulate(x, axis=0)",
        env=ENV,
        x="running_extreme_grad(g, x, ans, axis)",
        tangents={"x": "running_extreme_tangent(t, x, ans, axis)"},
    )
function_and_method(
    "cumprod",
    "axis=None",
    x="cumprod_grad(g, x, ans, axis)",
    tangents={"x": "cumprod_tangent(t, x, ans, axis)"},
)
#: ``prepend``/``append`` take part in the differences: they get their share of ``g``.
defrule(
    "np.diff(x, n=1, axis=-1, prepend=None, append=None)",
    env=ENV,
    x="diff_grad(g, x, n, axis, prepend, append)",
    prepend="diff_edge_grad(g, x, n, axis, prepend, append, 0)",
    append="diff_edge_grad(g, x, n, axis, prepend, append, 2)",
    tangents={
        p: f"diff_tangent(t, x, n, axis, prepend, append, {k})"
        for k, p in enumerate(("prepend", "x", "append"))
    },
)
#: The gradient goes back through the sorting permutation (ties: numpy's stable order).
defrule(  # (``kind``: any sorting algorithm sorts to the same values)
    "np.sort(x, axis=-1, kind=None)",
    env=ENV,
    kind=None,
    x="sort_grad(g, x, axis)",
    tangents={"x": "sort_tangent(t, x, axis)"},
)
defrule(
    "np.take_along_axis(x, indices, axis=-1)",
    env=ENV,
    linear=True,
    x="take_along_axis_grad(g, x, indices, axis)",
)

# ---------------------------------------------------------------- diagonals and triangles
_DIAGONAL = "offset=0, axis1=0, axis2=1"
function_and_method("trace", _DIAGONAL, linear=True, x="trace_grad(g, x, offset, axis1, axis2)")
#: A read-only view of ``x`` (numpy refuses writes into it); writes into ``x`` show in it.
function_and_method(
    "diagonal", _DIAGONAL, linear=True, view=True, x="diagonal_grad(g, x, offset, axis1, axis2)"
)
#: A new matrix from a vector; the (read-only) diagonal view of a matrix.
defrule("np.diag(x, k=0)", env=ENV, linear=True, view=True, x="diag_grad(g, x, k)")
for _name in ("triu", "tril"):  # (a vector is broadcast to a square first)
    defrule(f"np.{_name}(x, k=0)", env=ENV, linear=True, x=f"unbroadcast(np.{_name}(g, k), x)")

# ---------------------------------------------------------------- padding and repeating
defrule(
    "np.pad(x, pad_width, mode='constant', constant_values=0)",
    env=ENV,
    x="pad_grad(g, x, pad_width, mode)",
    constant_values="pad_constant_grad(g, x, pad_width, constant_values)",
    tangents={
        "x": "pad_tangent(t, pad_width, mode)",
        "constant_values": "pad_constant_tangent(t, x, pad_width)",
    },
)
defrule("np.tile(x, reps)", env=ENV, linear=True, x="tile_grad(g, x, reps)")
function_and_method(
    "repeat", "repeats, axis=None", linear=True, x="repeat_grad(g, x, repeats, axis)"
)

# ---------------------------------------------------------------- axes (views of all of x)
function_and_method(
    "swapaxes",
    "axis1, axis2",
    linear=True,
    x="np.swapaxes(g, axis1, axis2)",
    restore="np.swapaxes(v, axis1, axis2)",
)
defrule(
    "np.moveaxis(x, source, destination)",
    env=ENV,
    linear=True,
    x="np.moveaxis(g, destination, source)",
    restore="np.moveaxis(v, destination, source)",
)
#: ``x.transpose(axes)`` and ``x.transpose(1, 0, 2)``: the axes as one tuple or one by one.
defrule(
    "x.transpose(axes)",
    env=ENV,
    linear=True,
    x="transpose_grad(g, axes)",
    restore="np.transpose(v, inverse_axes(axes))",
)
for _count in (2, 3, 4):
    _axes = ", ".join(f"a{k}" for k in range(_count))
    defrule(
        f"x.transpose({_axes})",
        env=ENV,
        linear=True,
        x=f"transpose_grad(g, ({_axes},))",
        restore=f"np.transpose(v, inverse_axes(({_axes},)))",
    )
