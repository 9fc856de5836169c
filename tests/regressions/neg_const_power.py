"""srcad bug: a negative constant as the base of ``**`` loses its parentheses.

Found by tests/test_random_programs.py (``f`` is Hypothesis' shrunk program).
srcad lowers the constant ``(-1.0)`` to ``Const(-1.0)`` and emits ``t1 = -1.0 ** 2``
in the generated gradient, which Python reads as ``-(1.0 ** 2) = -1.0``. So
``log(1 + (-1.0) ** 2)`` becomes ``log(0)`` in the gradient's forward pass and
``grad(f)`` raises ``ValueError: math domain error`` (the function itself is fine:
f(0, 0) = log 2). The same happens after copy propagation of a local constant
(``f_copy``: ``c = -2.0; x * c ** 2`` gives the gradient -4.0 instead of 4.0, silently
wrong) and with a division (``f_div``: ``ZeroDivisionError``).

Status: fixed by 29d639b ("negative constants keep their parentheses").
"""

import math


def f(x, y):
    a = 0.5 * y
    b = a + a
    return b + math.log(1 + (-1.0) ** 2)


def f_minimal(x):
    return x * (-2) ** 2


def f_copy(x):
    c = -2.0
    return x * c ** 2


def f_div(x, t1):
    t1 /= math.sqrt(1 + (-1) ** 2)
    return t1 + x


#: function name -> points to check the gradient at (against central differences)
POINTS = {
    "f": [(0.0, 0.0), (1.0, -0.5)],
    "f_minimal": [(1.0,), (-0.5,)],
    "f_copy": [(1.0,), (-0.5,)],
    "f_div": [(0.5, -0.45), (1.0, 1.0)],
}
