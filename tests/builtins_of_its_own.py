"""A module that defines functions named like builtins, as a DSP or ML module may
(``filter``, ``reduce``, ``map``, ``divmod``): its code calls its own (see
test_python_forms.test_a_module_s_own_builtins_are_called)."""

import numpy as np

SIGNAL = np.array([0.3, 1.2, -0.4, 0.9, 2.0, 1.1])


def filter(h, x):  # noqa: A001
    """A causal FIR filter."""
    return np.convolve(x, h)[: len(x)]


def reduce(loss, reduction):
    """PyTorch-style reduction of per-sample losses."""
    if reduction == "mean":
        return np.mean(loss)
    return np.sum(loss)


def map(f, xs):  # noqa: A001
    """A map that doubles what it maps."""
    return [2.0 * f(v) for v in xs]


def divmod(a, b):  # noqa: A001
    """Not Python's: a quotient and a scaled remainder."""
    return a / b, 3.0 * a


def square(v):
    return v * v


def filtered_energy(h):
    return np.sum(filter(h, SIGNAL) ** 2)


def reduced_loss(w):
    return reduce((SIGNAL * w - 1.0) ** 2, "mean")


def mapped_sum(x):
    return sum(map(square, [x, 2 * x, 3.0]))


def divided(x):
    q, r = divmod(x, 3.0)
    return q + r
