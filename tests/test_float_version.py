"""How far the version for Python floats reaches: scalar code gets it whatever numbers
its helpers and numpy's functions give, and its gradient is the array version's.

Each gradient is checked the four ways (``check_four_ways`` in conftest, rtol 1e-6), and
the version chosen is read from ``backward_source``.
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import check_four_ways
from helpers_float_version import log_residuals

import srcad

FLOAT_VERSION = "# this version is for Python floats"


def test_a_global_a_helper_reads_is_checked_like_a_parameter():
    """The helper's module global (``BIOAVAILABILITY``) is a number: checked at entry, the
    function gets the float version (it had none: the global was not known as one)."""
    times = [0.5, 1.0, 2.0, 4.0, 8.0, 12.0]
    concs = [3.1, 4.9, 5.6, 4.8, 2.9, 1.7]
    source = srcad.grad(log_residuals, wrt=(0, 1, 2)).backward_source
    assert FLOAT_VERSION in source, source
    assert "BIOAVAILABILITY.__class__ is not float" in source, source
    check_four_ways(log_residuals, 0.3, -1.9, 3.5, times, concs, wrt=(0, 1, 2))


def orbit(v, mu, t_final):
    dt = t_final / 50
    x, y, vx, vy = 1.0, 0.0, 0.0, v
    for _ in range(50):
        r = np.hypot(x, y)
        vx -= dt * mu * x / r**3
        vy -= dt * mu * y / r**3
        x += dt * vx
        y += dt * vy
    return np.arctan2(y, x) + 0.5 * np.hypot(x, y) + np.logaddexp(x, y)


def test_numpy_functions_of_floats_keep_the_float_version():
    """``np.hypot(x, y)`` carries the option ``dtype=None``: an option left out is no
    array, so the function is scalar code (its gradient cost 8.8 times the function)."""
    assert FLOAT_VERSION in srcad.grad(orbit, wrt=(0, 1, 2)).backward_source
    floats = check_four_ways(orbit, 1.1, 1.0, 3.0)
    arrays = srcad.grad(orbit, wrt=(0, 1, 2))(np.array(1.1), np.array(1.0), np.array(3.0))
    assert np.allclose(floats, arrays, rtol=1e-12)
