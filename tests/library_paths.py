"""A library module for ``test_library_code.py``: a function that dispatches on an option
before it computes, the way SciPy's array-API code does, where the other path is code
srcad cannot differentiate (a call without a derivative rule)."""

import library_like
import numpy as np


def scaled_energy(x, exact=True):
    if exact:
        y = np.asarray(x) * 2.0
    else:
        y = np.cbrt(x ** 3) * 2.0  # (no derivative rule for cbrt)
    return np.sum(y * y)


def halved_total(x):
    try:
        total = (x * 0.5).sum()
    except TypeError:  # (a list: list * float)
        total = sum(x) * 0.5
    return total


def layered_energy(x):
    """Library code that calls a third file's function srcad cannot differentiate."""
    return library_like.cube_roots(x)
