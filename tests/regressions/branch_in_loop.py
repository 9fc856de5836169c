# ruff: noqa: B007 -- the programs are kept as the fuzzer wrote them
"""srcad bug: inside a loop, an ``if`` whose branches both reassign a carried variable
left that variable's adjoint marked as holding a value, so the line before the ``if``
added to the stale adjoint (``dy_1 = dy_1 + 0.5 * dy_2``) instead of starting it
afresh (``dy_1 = 0.5 * dy_2``): silently wrong gradients (3.0 instead of 1.0 for ``f``).

Found by tests/test_random_programs.py once its grammar had augmented assignments in
branches inside loops (``f`` is Hypothesis' shrunk program).

Status: fixed in srcad/reverse.py (``reverse_if``): after the ``if``, the adjoints that
hold a value are exactly those either path left holding one (a path that consumed one
zero-fills it), not those plus everything that held a value before.
"""

import math


def f(x, y):
    for i in range(1):
        a = 0.5 * -i + math.tanh(-i)
        y = y * 0.5 + math.sin(y * i)
        if y > 0.3183:
            y += y
    a = y + y
    return a


def both_branches(y):
    for i in range(3):
        y = y * 0.5
        if y > 0.3:
            y += y
        else:
            y = y * 3.0
    return y + y


def one_branch(y, z):
    for i in range(2):
        y = y * z
        if y > 0.3:
            y = math.sin(y)
    return y * z


#: function name -> points to check the gradient at (against central differences)
POINTS = {
    "f": [(0.0, 0.0), (0.5, 0.9)],
    "both_branches": [(0.0,), (0.7,), (2.5,)],
    "one_branch": [(0.2, 0.9), (0.8, 1.3)],
}
