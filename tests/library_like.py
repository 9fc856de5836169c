"""Functions in a file of their own, written the way library code is (``~`` on masks,
``in`` tests): srcad reads them as another file's code (tests/test_errors.py)."""

import math

import numpy as np


def band_indices(n, width):
    """Row and column indices of the entries of an n-by-n matrix outside a band."""
    rows, cols = np.indices((n, n))
    outside = ~(np.abs(rows - cols) <= width)
    return np.nonzero(outside)


def damp_negative(x):
    """``x`` with its negative entries halved (a mask built with ``~``)."""
    keep = ~(x < 0.0)
    return np.where(keep, x, 0.5 * x)


def damp_below(x, floor):
    """``x`` with the entries below ``floor`` halved (a ``:=`` after an ``and``, which srcad
    does not read: it runs only if ``x.size``)."""
    if x.size and (low := x < floor).any():
        return np.where(low, 0.5 * x, x)
    return x


def ulp_ratio(z):
    """The spacing of floats at z + 1 over that at z, with ``math.ulp``, which has no
    derivative rule."""
    return math.ulp(z + 1.0) / math.ulp(z)


def cube_roots(x):
    return np.nextafter(x, 2.0) * 1.5  # (no derivative rule for nextafter)
