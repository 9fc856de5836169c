# ruff: noqa: B007, F841 -- the programs are kept as the fuzzer wrote them
"""srcad bugs: the copies that merge values at the end of a loop body or of a branch
ran one after the other although they happen at once.

Found by the slow run of tests/test_random_programs.py (``f`` is the falsifying program;
Hypothesis could not shrink it far). Two faults in srcad/lower (then one file, lower.py):

* ``c, b = (0.5, c)`` at the end of a loop body: the back-edge copies became
  ``c_1 = 0.5`` then ``b = c_1`` (the new ``c``), and copy renaming folded that into
  ``b = 0.5``; the gradient through ``b`` was silently 0 (``swap_with_constant``).
* a value defined inside an ``if`` whose other statements read the variable's old value
  (``c, b = b * 0.5, c`` in one branch, inside a loop) was renamed to the merged name,
  so the old value was overwritten before it was read (``swap_in_branches``).

Status: fixed by making the merge copies parallel (``Lowerer.parallel``: a value that is
another copy's target is saved in a temporary first) and not renaming a definition
inside an ``if`` that also reads the merged name.
"""

import math

import numpy as np


def sigmoid(z):
    return 1.0 / (1 + math.exp(-z))


def softplus(z):
    return math.log(1 + math.exp(z))


def smooth_abs(z):
    return math.sqrt(z * z + 1.0)


def bump(z):
    t = z * z
    t = 1.0 / (1 + t)
    return t * math.cos(z)


def mix(a, b):
    s = sigmoid(a)
    return s * b + (1 - s) * math.tanh(b)


def poly(z, w):
    u, v = z * w, z - w
    u += v * 0.5
    u *= 0.5
    return u - v * v * 0.25


def gate(z, w):
    return sigmoid(z) * math.tanh(w) + bump(w)


def swap_with_constant(y):
    c = 2.0 * y
    for i in range(1):
        c, b = (0.5, c)
    return math.sin(b) + c


def swap_in_branches(y, z):
    c = 2.0 * y
    b = z
    for i in range(3):
        if c > 0.2:
            c, b = b * 0.5, c
        else:
            b, c = c, b + 1.0
    return b * c + b


def rotate(x, y, z):
    for i in range(4):
        x, y, z = y, z, x * 1.5
    return x * 2.0 + y * 3.0 + z * 5.0


def f(x, y, z):
    z /= 1 + math.atan(math.tanh(z)) ** 2
    if z > 0.3183:
        a = sigmoid(-z)
        a, b, c = (a, math.atan(a), a + a + sigmoid(a))
        c = c * math.exp(-(b * b))
    else:
        z /= 1.5 + math.tanh(y + 3.0)
    c = 2.0 * (y / (-1 - x * x))
    u = math.tanh(c)
    s = math.log(1 + math.exp(math.tanh(y))) / (1 + math.sinh(math.sin(3.0)) ** 2)
    p = math.tanh(smooth_abs(s)) / (1 + sigmoid(abs(math.atan(s)) ** 3))
    for i in range(3):
        n = c * 0.25
        s = s * 0.5 + math.sin(s * i)
    b = 1.0 / (1.0 + math.exp(-z))
    for i in range(3):
        g = abs(-1.5 - math.tanh(c))
        e = smooth_abs(sigmoid(b))
        u = u + math.tanh(1 / (2 + math.exp(-p)))
    for i in range(1):
        s = s * 0.5 + math.sin(s * i)
        s, c, b = (3.0, math.cos(z), c)
        c, i = (math.exp(math.cos(p)), math.log(1 + y * y))
    e = math.sin(b)
    a, v, g = (
        bump(y) / (-1 - math.sqrt(0.5 * 0.5 + 0.5) ** 2),
        u / (1 + p * p),
        math.log(math.exp(1.0)) / (c * p),
    )
    h = np.sum(np.tanh(g * np.linspace(0.25, 1.0, 2).reshape((2, 1))) ** 3) / 2
    for i in range(1):
        h = h + math.tanh(math.tanh(1.0))
    n = abs(p) * p * p - (0.25 + e)
    return n


#: function name -> points to check the gradient at (against central differences)
POINTS = {
    "swap_with_constant": [(0.3,), (-0.7,)],
    "swap_in_branches": [(0.3, 0.7), (0.05, 0.9)],
    "rotate": [(0.3, 0.7, 1.1)],
    "f": [(0.0, 0.0, 0.0), (0.5, -0.4, 1.0)],
}
