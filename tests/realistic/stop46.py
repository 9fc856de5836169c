"""Realistic programs of stop 46's area: recursion on constants (orthogonal polynomials,
exponentiation by squaring, a recursive Simpson rule), ``match`` on a setting, numpy's
options given by position (a weighted variance, a Gaussian kernel on a grid), a
generalized backend name (``xp = numpy``), a classmethod constructor's scale, a function
an object holds, ``divmod`` for a phase, and NumPy's ``polyder`` (a library's
recursion)."""

import math

import numpy as np
from _spec import Case


def hermite(x, n):
    """Physicists' Hermite polynomial by its recurrence, H_n = 2x H_{n-1} - 2(n-1) H_{n-2}."""
    if n == 0:
        return 1.0
    if n == 1:
        return 2.0 * x
    return 2.0 * x * hermite(x, n - 1) - 2.0 * (n - 1) * hermite(x, n - 2)


def hermite_series(x, c0, c1, c2):
    """A short Hermite expansion, as a quantum oscillator's wave function uses."""
    return (c0 * hermite(x, 0) + c1 * hermite(x, 3) + c2 * hermite(x, 5)) * math.exp(-x * x / 2)


def matrix_power(m, n):
    """Exponentiation by squaring of a 2x2 transfer matrix (lists of rows)."""
    if n == 1:
        return m
    half = matrix_power(m, n // 2)
    sq = [[half[0][0] * half[0][0] + half[0][1] * half[1][0],
           half[0][0] * half[0][1] + half[0][1] * half[1][1]],
          [half[1][0] * half[0][0] + half[1][1] * half[1][0],
           half[1][0] * half[0][1] + half[1][1] * half[1][1]]]
    if n % 2 == 0:
        return sq
    return [[sq[0][0] * m[0][0] + sq[0][1] * m[1][0], sq[0][0] * m[0][1] + sq[0][1] * m[1][1]],
            [sq[1][0] * m[0][0] + sq[1][1] * m[1][0], sq[1][0] * m[0][1] + sq[1][1] * m[1][1]]]


def chain_transmission(k, phase):
    """A wave through 11 identical cells: the transfer matrix to the 11th power."""
    cell = [[math.cos(phase), math.sin(phase) / k], [-k * math.sin(phase), math.cos(phase)]]
    total = matrix_power(cell, 11)
    return total[0][0] ** 2 + 0.5 * total[0][1] ** 2


def adaptive_simpson(f_a, f_m, f_b, a, b, depth):
    """Simpson's rule split in halves to a fixed depth (recursion on the depth)."""
    m = 0.5 * (a + b)
    whole = (b - a) / 6.0 * (f_a + 4.0 * f_m + f_b)
    if depth == 0:
        return whole
    lm, rm = 0.5 * (a + m), 0.5 * (m + b)
    f_lm, f_rm = math.exp(-lm * lm), math.exp(-rm * rm)
    return (adaptive_simpson(f_a, f_lm, f_m, a, m, depth - 1)
            + adaptive_simpson(f_m, f_rm, f_b, m, b, depth - 1))


def gaussian_mass(a, b):
    """The integral of exp(-t^2) from a to b by a depth-3 recursive Simpson rule."""
    m = 0.5 * (a + b)
    return adaptive_simpson(math.exp(-a * a), math.exp(-m * m), math.exp(-b * b), a, b, 3)


def activation_loss(w, x, kind="gelu"):
    """A layer whose activation is chosen by a `match` on a setting."""
    z = w * x
    match kind:
        case "relu":
            y = max(z, 0.0)
        case "gelu" | "gelu_tanh":
            y = 0.5 * z * (1.0 + math.tanh(0.7978845608 * (z + 0.044715 * z**3)))
        case "softplus":
            y = math.log1p(math.exp(z))
        case _:
            y = z
    return (y - 1.0) ** 2


def weighted_spread(x, w):
    """A weighted variance about the weighted mean, numpy's options given by position."""
    mean = np.average(x, 0, w)
    centered = x - mean
    return np.sum(np.sum(w[:, None] * centered**2, 0, None) / np.sum(w)) + np.sum(
        np.var(x, 0, None, None, 1))


def kernel_density_grid(centers, bandwidth):
    """A Gaussian kernel density on a grid built with meshgrid of three axes."""
    g = np.linspace(-1.0, 1.0, 4)
    gx, gy, gz = np.meshgrid(g, g, g, indexing="ij")
    total = 0.0
    for c in centers:
        r2 = (gx - c[0]) ** 2 + (gy - c[1]) ** 2 + (gz - c[2]) ** 2
        total = total + np.exp(-0.5 * r2 / bandwidth**2)
    return np.sum(np.log(total + 1e-3))


xp = np  # (an array namespace under a name of its own)


def namespace_logistic(w, X, y):
    """A logistic loss written against `xp`, as array-API code is."""
    z = X @ w
    return xp.sum(xp.logaddexp(0.0, z) - y * z) / y.shape[0]


class Units:
    scale = 0.01

    @classmethod
    def to_meters(cls, v):
        return cls.scale * v


def projectile_range(v0, angle):
    """A projectile's range in meters, the speed given in centimeters per second."""
    v = Units.to_meters(v0)
    return v * v * math.sin(2.0 * angle) / 9.81


class Stage:
    def __init__(self):
        self.act = math.tanh


STAGE = Stage()


def staged_response(x, gain):
    """A response through the activation a configuration object holds."""
    return sum(STAGE.act(gain * xi) ** 2 for xi in x)


def wrapped_oscillation(omega, t):
    """A sawtooth phase by divmod, then a smooth readout of it."""
    turns, phase = divmod(omega * t, 2.0 * math.pi)
    return math.sin(phase) + 0.1 * turns + phase**2 / 10.0


def area_under_polynomial(p):
    """The area under a polynomial on [0, 1] (its coefficients over their powers) and its
    slope at 0.5 by numpy's polyder (polyint is right too, but takes srcad 3 s to build:
    tests/test_library_code.py)."""
    n = len(p)
    return np.sum(p / np.arange(n, 0, -1)) + np.polyval(np.polyder(p), 0.5) ** 2



CASES = [
    Case("hermite_series", hermite_series,
         lambda rng: (0.3 + 0.2 * rng.random(), 1.0, 0.5, 0.25), wrt=(0, 1, 2, 3),
         note="recursion with two calls a level, on a constant order"),
    Case("chain_transmission", chain_transmission,
         lambda rng: (1.0 + rng.random(), 0.3 + 0.2 * rng.random()), wrt=(0, 1),
         note="exponentiation by squaring on lists of rows, n // 2"),
    Case("gaussian_mass", gaussian_mass,
         lambda rng: (-0.5 + 0.2 * rng.random(), 0.8 + 0.2 * rng.random()), wrt=(0, 1)),
    Case("activation_loss", activation_loss,
         lambda rng: (0.5 + rng.random(), 0.3 + rng.random()), wrt=(0, 1)),
    Case("weighted_spread", weighted_spread,
         lambda rng: (rng.normal(size=(5, 2)), 0.5 + rng.random(size=5)), wrt=(0, 1)),
    Case("kernel_density_grid", kernel_density_grid,
         lambda rng: (list(0.5 * rng.normal(size=(2, 3))), 0.6), wrt=1),
    Case("namespace_logistic", namespace_logistic,
         lambda rng: (rng.normal(size=3), rng.normal(size=(6, 3)),
                      (rng.random(6) > 0.5).astype(float)), wrt=0),
    Case("projectile_range", projectile_range,
         lambda rng: (1500.0 + 100 * rng.random(), 0.6 + 0.1 * rng.random()), wrt=(0, 1)),
    Case("staged_response", staged_response,
         lambda rng: (list(rng.normal(size=4)), 0.8), wrt=(0, 1)),
    Case("wrapped_oscillation", wrapped_oscillation,
         lambda rng: (2.0 + 0.5 * rng.random(), 3.3), wrt=(0, 1)),
    Case("area_under_polynomial", area_under_polynomial,
         lambda rng: (rng.normal(size=4),), wrt=0),
]
