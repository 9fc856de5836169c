"""Realistic programs of stop 37's classes: generators kept in a variable and read after
the list they run over (or a variable they read) changed; nested functions defined in
loops; numpy functions of Python floats at the points where a derivative is numpy's
inf (these cases check away from those points: the exact values at them are in
tests/test_special_points.py)."""

import math

import numpy as np
from _spec import Case


def weighted_moving_score(prices, decay):
    """Weights made lazily, then the newest price appended before they are summed (the
    generator sees the appended price, as Python runs it where it is read)."""
    window = list(prices[:-1])
    weights = (decay ** (len(window) - k) * p for k, p in enumerate(window))
    window.append(prices[-1])
    norm = sum(decay ** k for k in range(len(window)))
    return sum(weights) / norm


def penalized_log_likelihood(counts, rate, penalty):
    """Poisson log-likelihood terms made lazily; the penalty strength is read when they
    are summed (late binding): it is changed after the generator is made."""
    strength = 0.0
    terms = (c * math.log(rate) - rate - strength * rate * rate for c in counts)
    strength = penalty
    return -sum(terms) / len(counts)


def energy_of_chain(positions, stiffness):
    """Spring energies of a chain whose last bead is moved after the generator is made."""
    beads = list(positions)
    ends = beads[1:] + [beads[-1] + 1.0]
    springs = (0.5 * stiffness * (b - a - 1.0) ** 2 for a, b in zip(beads, ends))
    beads[-1] = beads[-1] + 0.1 * stiffness
    return sum(springs)


def boosted_ensemble(x, rates):
    """A lambda per stage defined in the loop before its call; each stage reads the
    previous prediction."""
    prediction = 0.0
    for k, rate in enumerate(rates):
        residual_fit = lambda t, r=rate, k=k: r * math.tanh(t - 0.1 * k)  # noqa: E731
        prediction = prediction + residual_fit(x - prediction)
    return prediction


def leapfrog_energy(q0, p0, dt):
    """Leapfrog steps with a force helper defined once before the loop and a kinetic
    helper defined in each pass before its use."""
    def force(q):
        return -q - 0.1 * q ** 3

    q, p = q0, p0
    total = 0.0
    for _ in range(5):
        p = p + 0.5 * dt * force(q)
        q = q + dt * p
        p = p + 0.5 * dt * force(q)

        def kinetic(v):
            return 0.5 * v * v

        total = total + kinetic(p) + 0.5 * q * q + 0.025 * q ** 4
    return total / 5.0


def cross_entropy_of_floats(p_true, logit):
    """Binary cross-entropy of Python floats through numpy functions (log of a
    probability that reaches 0 only at the extremes)."""
    p = 1.0 / (1.0 + np.exp(-logit))
    return -(p_true * np.log(p) + (1.0 - p_true) * np.log(1.0 - p))


def geometric_growth(values):
    """Average log growth of a positive series, np.log and np.sqrt of Python floats."""
    total = 0.0
    for a, b in zip(values, values[1:]):
        total = total + np.log(b / a) + 0.1 * np.sqrt(a * b)
    return total / (len(values) - 1)


def relativistic_speed(momentum, mass):
    """Speed from momentum with numpy functions of Python floats (arctanh of the speed
    fraction: rapidity)."""
    energy = np.sqrt(momentum ** 2 + mass ** 2)
    beta = momentum / energy
    return np.arctanh(beta) + 0.5 * beta ** 2


def repeated_schedule(rate, decay):
    """A learning-rate schedule repeated in place (``*=``) and read by a generator made
    before the repeat."""
    schedule = [rate, rate * decay, rate * decay ** 2]
    scaled = (s * (k + 1) for k, s in enumerate(schedule))
    schedule *= 2
    return sum(scaled) + sum(schedule)


def dict_view_average(weights, scale):
    """A generator over a dict's values, read after one value is changed."""
    table = {"a": weights[0], "b": weights[1], "c": weights[2]}
    shifted = (scale * v for v in table.values())
    table["b"] = table["b"] * scale
    return max(shifted) + sum(table.values())


CASES = [
    Case("weighted_moving_score", weighted_moving_score,
         lambda rng: (list(100.0 + rng.normal(size=6)), rng.uniform(0.6, 0.9)), wrt=(0, 1)),
    Case("penalized_log_likelihood", penalized_log_likelihood,
         lambda rng: ([float(c) for c in rng.integers(0, 6, size=8)], rng.uniform(1.0, 3.0),
                      rng.uniform(0.1, 0.3)), wrt=(1, 2)),
    Case("energy_of_chain", energy_of_chain,
         lambda rng: (list(np.cumsum(rng.uniform(0.8, 1.2, size=5))), rng.uniform(1.0, 2.0)),
         wrt=(0, 1)),
    Case("boosted_ensemble", boosted_ensemble,
         lambda rng: (rng.uniform(-1.0, 1.0), list(rng.uniform(0.1, 0.5, size=4))),
         wrt=(0, 1)),
    Case("leapfrog_energy", leapfrog_energy,
         lambda rng: (rng.uniform(0.5, 1.0), rng.uniform(-0.5, 0.5), rng.uniform(0.05, 0.1)),
         wrt=(0, 1, 2)),
    Case("cross_entropy_of_floats", cross_entropy_of_floats,
         lambda rng: (rng.uniform(0.1, 0.9), rng.uniform(-2.0, 2.0)), wrt=(0, 1)),
    Case("geometric_growth", geometric_growth,
         lambda rng: (list(rng.uniform(1.0, 2.0, size=5)),), wrt=(0,)),
    Case("relativistic_speed", relativistic_speed,
         lambda rng: (rng.uniform(0.5, 2.0), rng.uniform(0.5, 1.5)), wrt=(0, 1)),
    Case("repeated_schedule", repeated_schedule,
         lambda rng: (rng.uniform(0.01, 0.1), rng.uniform(0.5, 0.9)), wrt=(0, 1)),
    Case("dict_view_average", dict_view_average,
         lambda rng: (list(rng.normal(size=3)), rng.uniform(0.5, 2.0)), wrt=(0, 1)),
]
