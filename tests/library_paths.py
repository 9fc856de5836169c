"""A library module for ``test_library_code.py``: a function that dispatches on an option
before it computes, the way SciPy's array-API code does, where the other path is code
srcad cannot differentiate (a call without a derivative rule)."""

import library_like
import numpy as np


def scaled_energy(x, exact=True):
    if exact:
        y = np.asarray(x) * 2.0
    else:
        y = np.spacing(x) + x * 2.0  # (no derivative rule for spacing)
    return np.sum(y * y)


def halved_total(x):
    try:
        total = (x * 0.5).sum()
    except TypeError:  # (a list: list * float)
        total = sum(x) * 0.5
    return total


_SCALES: dict[int, float] = {}


def cached_scale(n):
    """A value cached per key the way numpy's ``iinfo`` caches its limits: the first call
    for a key runs the ``except KeyError`` clause, later calls the ``try`` body."""
    try:
        scale = _SCALES[n]
    except KeyError:
        scale = 1.0 / (1.0 + n)
        _SCALES[n] = scale
    return scale


def scaled_sum(x):
    return np.sum(x * x) * cached_scale(x.shape[0])


def layered_energy(x):
    """Library code that calls a third file's function srcad cannot differentiate."""
    return library_like.cube_roots(x)


class Scaler:
    """An object a library module makes: srcad reads its methods' code."""

    def __init__(self, scale):
        self.scale = scale

    def apply(self, x):
        return self.scale * np.sin(x)


HALF_SINE = Scaler(0.5)
