"""Derivative rules for ``scipy.ndimage``, loaded once a program has imported it (see
:mod:`srcad.rules.scipy_special`): the Gaussian and uniform (box) filters, in one
dimension and in several; correlation and convolution with weights, in the input and in
the weights.

Each is a sequence of one-dimensional filters along axes, linear in ``input`` (affine
for ``mode='constant'`` with a ``cval`` other than 0). The matrix of one such filter
along an axis of length ``n`` is the filter applied to the ``n x n`` identity (with
``cval=0``), whatever its ``mode`` (the edges fold into the matrix); the adjoint applies
the transposed matrices along the same axes in reverse order (each built a block of
columns at a time: :mod:`srcad.rules.linear_maps`). A tangent is the filter
itself, run on the tangent with ``cval=0``.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy
import scipy.ndimage

from ..errors import UnsupportedSyntaxError
from .linear_maps import per_axis, transposed_along
from .numpy_arrays import ENV
from .numpy_grads import pad_grad
from .table import Templates, defrule

#: One 1-D filter of a sequence: its axis and the options of its call (``cval`` aside).
Step = tuple[int, dict[str, Any]]


def _axes(axes: Any, ndim: int) -> list[int]:
    """The axes a multidimensional filter runs along, in order (SciPy's ``_check_axes``)."""
    if axes is None:
        return list(range(ndim))
    listed = [operator.index(a) for a in (np.ravel(axes) if np.isscalar(axes) else axes)]
    return [a % ndim if a < 0 else a for a in listed]


def _filters_adjoint(
    g: Any, x: Any, steps: list[Step], filter1d: Callable[..., Any]
) -> Any:
    """The adjoint of the 1-D filters ``steps`` run one after another on ``x``: each
    one's matrix (the filter of the identity, with zeros beyond the edges of none but
    what its mode brings), transposed, along its axis, last filter first."""
    out = np.asarray(g, dtype=np.result_type(g, float))
    for axis, options in reversed(steps):
        out = transposed_along(out, functools.partial(filter1d, axis=0, cval=0.0, **options), axis)
    return out.reshape(np.shape(x))


def _gaussian_steps(
    ndim: int, sigma: Any, order: Any, mode: Any, truncate: Any, radius: Any, axes: Any
) -> list[Step]:
    """The 1-D Gaussian filters ``gaussian_filter`` runs, as its source does (an axis
    whose sigma is 1e-15 or less is left as it is)."""
    axes = _axes(axes, ndim)
    count = len(axes)
    sigmas, orders = per_axis(sigma, count), per_axis(order, count)
    modes, radii = per_axis(mode, count), per_axis(radius, count)
    return [
        (axes[k], {"sigma": sigmas[k], "order": orders[k], "mode": modes[k],
                   "truncate": truncate, "radius": radii[k]})
        for k in range(count)
        if sigmas[k] > 1e-15
    ]


def _axis(axis: Any, ndim: int) -> int:
    return int(np.lib.array_utils.normalize_axis_index(operator.index(axis), ndim))


def gaussian_filter1d_grad(
    g: Any, input: Any, sigma: Any, axis: Any, order: Any, mode: Any, truncate: Any,
    radius: Any,
) -> Any:
    """Adjoint of ``gaussian_filter1d`` for ``input``: the transposed filter along ``axis``."""
    step = {"sigma": sigma, "order": order, "mode": mode, "truncate": truncate,
            "radius": radius}
    steps = [(_axis(axis, np.ndim(input)), step)]
    return _filters_adjoint(g, input, steps, scipy.ndimage.gaussian_filter1d)


def gaussian_filter_grad(
    g: Any, input: Any, sigma: Any, order: Any, mode: Any, truncate: Any, radius: Any,
    axes: Any,
) -> Any:
    """Adjoint of ``gaussian_filter`` for ``input``: the transposed 1-D filters, last
    axis filtered first."""
    steps = _gaussian_steps(np.ndim(input), sigma, order, mode, truncate, radius, axes)
    return _filters_adjoint(g, input, steps, scipy.ndimage.gaussian_filter1d)


def uniform_filter1d_grad(
    g: Any, input: Any, size: Any, axis: Any, mode: Any, origin: Any
) -> Any:
    """Adjoint of ``uniform_filter1d`` for ``input``: the transposed filter along ``axis``."""
    steps = [(_axis(axis, np.ndim(input)), {"size": size, "mode": mode, "origin": origin})]
    return _filters_adjoint(g, input, steps, scipy.ndimage.uniform_filter1d)


def uniform_filter_grad(
    g: Any, input: Any, size: Any, mode: Any, origin: Any, axes: Any
) -> Any:
    """Adjoint of ``uniform_filter`` for ``input`` (an axis whose size is 1 is left as it
    is, as SciPy's source does)."""
    axes = _axes(axes, np.ndim(input))
    count = len(axes)
    sizes, origins = per_axis(size, count), per_axis(origin, count)
    modes = per_axis(mode, count)
    steps = [(axes[k], {"size": int(sizes[k]), "mode": modes[k], "origin": origins[k]})
             for k in range(count) if sizes[k] > 1]
    return _filters_adjoint(g, input, steps, scipy.ndimage.uniform_filter1d)


# ---------------------------------------------------------------- correlation, convolution
# ``correlate(x, w)`` is the input extended beyond its edges as its mode says (numpy's
# ``np.pad`` in the matching mode), then each item the sum of the weights times its
# window: linear in the input and in the weights. Its adjoint for the input spreads
# ``w * g`` over the windows and folds the extension back (``pad_grad``); for the
# weights it is the sum of ``g`` times each window.

#: ndimage's boundary modes -> np.pad's names for the same extension
_PAD_MODES: dict[str, Any] = {
    "reflect": "symmetric", "grid-mirror": "symmetric", "mirror": "reflect",
    "nearest": "edge", "wrap": "wrap", "grid-wrap": "wrap",
    "constant": "constant", "grid-constant": "constant",
}


def _truncates(input: Any, output: Any) -> bool:
    """Whether the filter's result is of ints (SciPy's is of ``output``'s dtype, else of
    the input's): truncated, with no gradient (round 98: an int image). ``output=`` an
    array writes the result into it in place, which srcad does not follow: refused."""
    if isinstance(output, np.ndarray):
        from ..load import user_line

        raise UnsupportedSyntaxError(
            "`output=` makes scipy.ndimage write the result into that array in place, "
            "which srcad does not follow",
            "leave output= out (or give a dtype) and use the array the filter returns",
            user_line(3),
        )
    dtype = np.asarray(input).dtype if output is None else np.dtype(output)
    return dtype.kind in "biu"


def _correlation(
    x: Any, weights: Any, origin: Any, axis: Any, convolution: bool
) -> tuple[Any, list[int]]:
    """The weights of an n-D correlation equal to the filter (a kernel with ``x``'s
    number of axes; ``axis``: a 1-D filter along it), and its origin along each axis
    (a convolution: the weights reversed, SciPy's origins for even lengths)."""
    ndim = np.ndim(x)
    kernel = np.asarray(weights, dtype=float)
    if axis is not None:
        along = _axis(axis, ndim)
        kernel = kernel.reshape([-1 if k == along else 1 for k in range(ndim)])
        origins = [int(origin) if k == along else 0 for k in range(ndim)]
    else:
        origins = [int(o) for o in per_axis(origin, ndim)]
    if convolution:
        kernel = np.flip(kernel)
        origins = [-o - 1 if n % 2 == 0 else -o for o, n in zip(origins, kernel.shape)]
    return kernel, origins


def _extension(shape: Any, origins: list[int]) -> list[tuple[int, int]]:
    """The items a filter of weights of ``shape`` reads beyond each edge."""
    return [(n // 2 + o, n - 1 - n // 2 - o) for n, o in zip(shape, origins)]


def correlate_input_grad(
    g: Any, input: Any, weights: Any, mode: Any, origin: Any, output: Any, axis: Any = None,
    convolution: bool = False,
) -> Any:
    """Adjoint of ``correlate``/``convolve`` (``axis``: their 1-D forms) for ``input``."""
    if _truncates(input, output):
        return np.zeros(np.shape(input))
    kernel, origins = _correlation(input, weights, origin, axis, convolution)
    g = np.asarray(g)
    shape = np.shape(input)
    pad_width = _extension(kernel.shape, origins)
    spread = np.zeros([n + a + b for n, (a, b) in zip(shape, pad_width)],
                      dtype=np.result_type(g, float))
    for offset in np.ndindex(kernel.shape):
        spread[tuple(slice(o, o + n) for o, n in zip(offset, shape))] += kernel[offset] * g
    return pad_grad(spread, np.empty(shape), pad_width, _PAD_MODES[mode])


def correlate_weights_grad(
    g: Any, input: Any, weights: Any, mode: Any, cval: Any, origin: Any, output: Any,
    axis: Any = None, convolution: bool = False,
) -> Any:
    """Adjoint of ``correlate``/``convolve`` (``axis``: their 1-D forms) for ``weights``:
    ``g`` times each window of the extended input."""
    if _truncates(input, output):
        return np.zeros(np.shape(weights))
    kernel, origins = _correlation(input, weights, origin, axis, convolution)
    x = np.asarray(input, dtype=float)
    pad_width = _extension(kernel.shape, origins)
    padding = _PAD_MODES[mode]
    extended = (np.pad(x, pad_width, constant_values=cval) if padding == "constant"
                else np.pad(x, pad_width, mode=padding))
    windows = np.lib.stride_tricks.sliding_window_view(extended, kernel.shape)
    summed = np.tensordot(np.asarray(g), windows, axes=x.ndim)
    if convolution:
        summed = np.flip(summed)
    return summed.reshape(np.shape(weights))


def correlation_tangent(
    t: Any, input: Any, weights: Any, mode: Any, cval: Any, origin: Any, output: Any,
    axis: Any, convolution: bool, of_input: bool,
) -> Any:
    """Tangent of ``correlate``/``convolve`` (``axis``: their 1-D forms) for ``input``
    (``of_input``) or ``weights``: the filter of the tangent (in floats; ``cval`` only
    moves the value: 0 for the input's), or zeros where the result is of ints."""
    if _truncates(input, output):
        return np.zeros(np.shape(input))
    name = ("convolve" if convolution else "correlate") + ("" if axis is None else "1d")
    options = {"mode": mode, "cval": 0.0 if of_input else cval, "origin": origin}
    if axis is not None:
        options["axis"] = axis
    x = np.asarray(t if of_input else input, dtype=float)
    return getattr(scipy.ndimage, name)(x, weights if of_input else t, **options)


_NDIMAGE = {**ENV, "scipy": scipy, "correlate_input_grad": correlate_input_grad,
            "correlation_tangent": correlation_tangent,
            "correlate_weights_grad": correlate_weights_grad,
            "gaussian_filter1d_grad": gaussian_filter1d_grad,
            "gaussian_filter_grad": gaussian_filter_grad,
            "uniform_filter1d_grad": uniform_filter1d_grad,
            "uniform_filter_grad": uniform_filter_grad}

#: Gaussian smoothing (and its derivative filters, ``order=``) in any mode; ``sigma``,
#: ``truncate`` and ``cval`` are refused where they depend on the inputs (srcad has no
#: derivative in them). ``output=`` other than None has no rule (it writes in place).
defrule(
    "scipy.ndimage.gaussian_filter1d(input, sigma, axis=-1, order=0, mode='reflect', "
    "cval=0.0, truncate=4.0, radius=None)",
    env=_NDIMAGE, sigma=None, axis=None, order=None, mode=None, cval=None, truncate=None,
    radius=None, orders=("sigma", "cval", "truncate"),
    input="gaussian_filter1d_grad(g, input, sigma, axis, order, mode, truncate, radius)",
    tangents={"input": "scipy.ndimage.gaussian_filter1d(t, sigma, axis, order, None, mode, "
              "0.0, truncate, radius=radius)"},
)
defrule(
    "scipy.ndimage.gaussian_filter(input, sigma, order=0, mode='reflect', cval=0.0, "
    "truncate=4.0, radius=None, axes=None)",
    env=_NDIMAGE, sigma=None, order=None, mode=None, cval=None, truncate=None, radius=None,
    axes=None, orders=("sigma", "cval", "truncate"),
    input="gaussian_filter_grad(g, input, sigma, order, mode, truncate, radius, axes)",
    tangents={"input": "scipy.ndimage.gaussian_filter(t, sigma, order, None, mode, 0.0, "
              "truncate, radius=radius, axes=axes)"},
)
#: The moving average (box filter) of ``size`` items, in any mode.
defrule(
    "scipy.ndimage.uniform_filter1d(input, size, axis=-1, mode='reflect', cval=0.0, origin=0)",
    env=_NDIMAGE, size=None, axis=None, mode=None, cval=None, origin=None,
    orders=("size", "cval"),
    input="uniform_filter1d_grad(g, input, size, axis, mode, origin)",
    tangents={"input": "scipy.ndimage.uniform_filter1d(t, size, axis, None, mode, 0.0, "
              "origin)"},
)
defrule(
    "scipy.ndimage.uniform_filter(input, size=3, mode='reflect', cval=0.0, origin=0, "
    "axes=None)",
    env=_NDIMAGE, size=None, mode=None, cval=None, origin=None, axes=None,
    orders=("size", "cval"),
    input="uniform_filter_grad(g, input, size, mode, origin, axes)",
    tangents={"input": "scipy.ndimage.uniform_filter(t, size, None, mode, 0.0, origin, "
              "axes=axes)"},
)
#: Correlation and convolution with weights, in one dimension and in several, in every
#: mode; in the input and in the weights (``cval`` and ``origin`` are refused where they
#: depend on the inputs; ``axes=`` has no rule).
for _name, _convolution in (("correlate", False), ("convolve", True)):
    _flag = f"convolution={_convolution}"
    # (the 1-D form along `axis`; the n-D form, whose weights have the input's axes)
    for _suffix, _axis_param, _axis_arg in (("1d", "axis=-1, ", "axis"), ("", "", "None")):
        _options: Templates = {"axis": None} if _suffix else {}
        defrule(
            f"scipy.ndimage.{_name}{_suffix}(input, weights, {_axis_param}output=None, "
            "mode='reflect', cval=0.0, origin=0)",
            env=_NDIMAGE, **_options, output=None, mode=None, cval=None, origin=None,
            orders=("cval", "origin"),
            input=f"correlate_input_grad(g, input, weights, mode, origin, output, {_axis_arg}, "
                  f"{_flag})",
            weights=f"correlate_weights_grad(g, input, weights, mode, cval, origin, output, "
                    f"{_axis_arg}, {_flag})",
            tangents={
                p: f"correlation_tangent(t, input, weights, mode, cval, origin, output, "
                   f"{_axis_arg}, {_flag}, of_input={p == 'input'})"
                for p in ("input", "weights")
            },
        )
