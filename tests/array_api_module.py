"""A function using an array-API library directly as a module (tests/test_array_api.py)."""

import array_api_strict as xp


def direct(x):
    return xp.sum(xp.sin(x) ** 2) + xp.sum(x)
