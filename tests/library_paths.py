"""A library module for ``test_library_code.py``: a function that dispatches on an option
before it computes, the way SciPy's array-API code does, where the other path is code
srcad cannot differentiate (a ``try`` statement around the differentiated value)."""

import numpy as np


def scaled_energy(x, exact=True):
    if exact:
        y = np.asarray(x) * 2.0
    else:
        try:
            y = x.astype(np.float32) * 2.0
        except AttributeError:
            y = np.array(x) * 2.0
    return np.sum(y * y)
