"""Derivative rules for ``scipy.signal``, loaded once a program has imported it (see
:mod:`srcad.rules.scipy_special`): ``lfilter_zi``, convolution and correlation in any
number of dimensions, and filters linear in the signal (second-order sections,
Savitzky-Golay smoothing, detrending). ``lfilter`` itself is read as a stand-in
(:mod:`srcad.stand_ins`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy
import scipy.signal

from .linear_maps import transposed_along
from .numpy_arrays import ENV
from .table import Templates, defrule

#: The steady state of a filter's delays for a unit step (``zi = lfilter_zi(b, a) *
#: x[0]``): run as SciPy computes it; its coefficients are refused where they depend on
#: the inputs (srcad has no derivative in them).
defrule("scipy.signal.lfilter_zi(b, a)", env={**ENV, "scipy": scipy}, b=None, a=None,
        orders=("b", "a"))


def signal_convolve_grad(
    g: Any, x: Any, other: Any, mode: str, later: bool = False
) -> Any:
    """Adjoint of ``scipy.signal.convolve(x, other, mode)`` (of ``fftconvolve``, and of
    either operand: convolution is symmetric) for ``x``, in any number of dimensions:
    ``g`` put in its place in the full convolution's shape (SciPy centres ``same`` and
    ``valid`` in it; ``later``: a half item later where the centre is between two,
    as ``correlate2d``'s ``same``), correlated with ``other``."""
    x, other, g = np.asarray(x), np.asarray(other), np.asarray(g)
    full_shape = tuple(n + m - 1 for n, m in zip(x.shape, other.shape, strict=True))
    full = np.zeros(full_shape, dtype=np.result_type(g, float))
    if mode == "full":
        full[...] = g
    else:  # (same, valid: centred, as SciPy's _centered cuts them)
        start = [(f - s + later) // 2 for f, s in zip(full_shape, g.shape, strict=True)]
        full[tuple(slice(b, b + s) for b, s in zip(start, g.shape, strict=True))] = g
    return scipy.signal.correlate(full, other, mode="valid")


def signal_correlate_grad(
    g: Any, x: Any, other: Any, mode: str, of_first: bool, later: bool = False
) -> Any:
    """Adjoint of ``scipy.signal.correlate(x, other, mode)`` (``of_first``: for ``x``;
    else for ``other``; ``later``: ``correlate2d``'s centring, see
    :func:`signal_convolve_grad`): the convolution of ``x`` with ``other`` reversed, as
    SciPy computes it."""
    x, other = np.asarray(x), np.asarray(other)
    flipped = other[(slice(None, None, -1),) * other.ndim]
    if of_first:
        return signal_convolve_grad(g, x, flipped, mode, later)
    adjoint = signal_convolve_grad(g, flipped, x, mode, later)
    return adjoint[(slice(None, None, -1),) * adjoint.ndim]


_SIGNAL = {**ENV, "scipy": scipy, "signal_convolve_grad": signal_convolve_grad,
           "signal_correlate_grad": signal_correlate_grad}
#: Convolution and correlation in any number of dimensions (any method: SciPy's values as
#: it computes them; the derivative is the same linear map), ``fftconvolve`` and
#: ``oaconvolve``; and the two-dimensional ones with zeros beyond the edges (their
#: default: ``boundary=`` and ``fillvalue=`` other than it are refused, having no rule).
#: ``correlate2d`` centres ``same`` half an item later than ``correlate`` does.
for _name, _options in (("convolve", ", method='auto'"), ("fftconvolve", ""),
                        ("oaconvolve", ""), ("convolve2d", "")):
    _no_gradient: Templates = {"mode": None, **({"method": None} if _options else {})}
    defrule(
        f"scipy.signal.{_name}(in1, in2, mode='full'{_options})",
        env=_SIGNAL, **_no_gradient,
        in1="signal_convolve_grad(g, in1, in2, mode)",
        in2="signal_convolve_grad(g, in2, in1, mode)",
        tangents={"in1": f"scipy.signal.{_name}(t, in2, mode)",
                  "in2": f"scipy.signal.{_name}(in1, t, mode)"},
    )
for _name, _options, _later in (("correlate", ", method='auto'", False),
                                ("correlate2d", "", True)):
    _no_gradient = {"mode": None, **({"method": None} if _options else {})}
    defrule(
        f"scipy.signal.{_name}(in1, in2, mode='full'{_options})",
        env=_SIGNAL, **_no_gradient,
        in1=f"signal_correlate_grad(g, in1, in2, mode, True, {_later})",
        in2=f"signal_correlate_grad(g, in1, in2, mode, False, {_later})",
        tangents={"in1": f"scipy.signal.{_name}(t, in2, mode)",
                  "in2": f"scipy.signal.{_name}(in1, t, mode)"},
    )


# ---------------------------------------------------------------- filters linear in the signal
# (each runs as SciPy computes it; its adjoint is the transposed linear map along the
# axis: for a detrend, the map itself (an orthogonal projection); for a causal filter
# from rest, the filter run backwards in time; otherwise the map's matrix, from the
# filter of the identity's columns, a block of them at a time)

def sosfilt_grad(g: Any, sos: Any, axis: Any) -> Any:
    """Adjoint of ``sosfilt(sos, x, axis)`` for ``x``: the same cascade run backwards in
    time (a causal filter from rest is a lower-triangular Toeplitz matrix, whose
    transpose is the reversal of the filter of the reversed signal)."""
    reversed_g = np.flip(np.asarray(g), axis)
    return np.flip(scipy.signal.sosfilt(sos, reversed_g, axis=axis), axis)


def savgol_filter_grad(
    g: Any, window_length: Any, polyorder: Any, deriv: Any, delta: Any, axis: Any, mode: Any
) -> Any:
    """Adjoint of ``savgol_filter`` for ``x`` (``cval`` only moves it: affine)."""
    return transposed_along(g, lambda columns: scipy.signal.savgol_filter(
        columns, window_length, polyorder, deriv, delta, axis=0, mode=mode, cval=0.0,
    ), axis)


def sosfiltfilt_grad(g: Any, sos: Any, axis: Any, padtype: Any, padlen: Any) -> Any:
    """Adjoint of ``sosfiltfilt`` for ``x`` (its padding and initial delays are linear in
    the signal too)."""
    return transposed_along(g, lambda columns: scipy.signal.sosfiltfilt(
        sos, columns, axis=0, padtype=padtype, padlen=padlen,
    ), axis)


_FILTERS = {**_SIGNAL, "sosfilt_grad": sosfilt_grad, "savgol_filter_grad": savgol_filter_grad,
            "sosfiltfilt_grad": sosfiltfilt_grad}
#: Second-order sections from rest (``zi=`` has no rule); the sections are refused where
#: they depend on the inputs (srcad has no derivative in them).
defrule("scipy.signal.sosfilt(sos, x, axis=-1)", env=_FILTERS, sos=None, axis=None,
        orders=("sos",), x="sosfilt_grad(g, sos, axis)",
        tangents={"x": "scipy.signal.sosfilt(sos, t, axis)"})
defrule("scipy.signal.sosfiltfilt(sos, x, axis=-1, padtype='odd', padlen=None)",
        env=_FILTERS, sos=None, axis=None, padtype=None, padlen=None, orders=("sos",),
        x="sosfiltfilt_grad(g, sos, axis, padtype, padlen)",
        tangents={"x": "scipy.signal.sosfiltfilt(sos, t, axis, padtype, padlen)"})
#: Savitzky-Golay smoothing (and derivatives, ``deriv=``) in every mode.
defrule(
    "scipy.signal.savgol_filter(x, window_length, polyorder, deriv=0, delta=1.0, axis=-1, "
    "mode='interp', cval=0.0)",
    env=_FILTERS, window_length=None, polyorder=None, deriv=None, delta=None, axis=None,
    mode=None, cval=None, orders=("delta", "cval"),
    x="savgol_filter_grad(g, window_length, polyorder, deriv, delta, axis, mode)",
    tangents={"x": "scipy.signal.savgol_filter(t, window_length, polyorder, deriv, delta, "
              "axis, mode, 0.0)"},
)
#: The residual of a least-squares line (or of the mean) along an axis, piecewise between
#: breakpoints: an orthogonal projection, its own adjoint.
defrule(
    "scipy.signal.detrend(data, axis=-1, type='linear', bp=0, overwrite_data=False)",
    env=_FILTERS, axis=None, type=None, bp=None, overwrite_data=None,
    data="scipy.signal.detrend(g, axis, type, bp)",
    tangents={"data": "scipy.signal.detrend(t, axis, type, bp)"},
)
