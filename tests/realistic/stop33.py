"""Realistic programs of stop 33's classes: calls that change something besides their
value (numpy's output arrays, by keyword or by position, in statements and inside
expressions; list methods in tests and tuples), random draws that run for their effect
(warm-up draws, seeds, a generator passed in), helpers that update a state list in place
and return it, dicts of parameters read with f-string keys, lists of objects whose
methods the function calls, a ``try`` that only reads a length, and rows of floats. The
last ones are refused at the line: a helper that changes a list its caller reads again,
and a list changed through another name."""

import math
from dataclasses import dataclass

import numpy as np
from _spec import Case


def heat_rod_out_arrays(kappa, u0):
    """Explicit heat equation on a rod, written with numpy's output arrays."""
    u = u0.copy()
    lap = np.zeros_like(u)
    for _ in range(20):
        np.subtract(u[:-2] + u[2:], 2.0 * u[1:-1], lap[1:-1])  # (out by position)
        np.multiply(lap, kappa, out=lap)
        u += lap
    return float(np.sum(u * u))


def softmax_into_buffer(logits, target):
    """A softmax computed into a preallocated buffer, then a cross-entropy."""
    p = np.empty_like(logits)
    np.exp(logits - np.max(logits), out=p)
    p /= np.sum(p)
    return -math.log(float(p[target]))


SEED = 11  # (the study's seed)


def mc_option_price(vol, rate):
    """A Monte-Carlo call price with a warm-up draw (antithetic variates)."""
    rng = np.random.default_rng(SEED)
    rng.standard_normal(8)  # (burn-in: advances the generator)
    z = rng.standard_normal(64)
    total = 0.0
    for sign in (1.0, -1.0):
        s = 100.0 * np.exp((rate - 0.5 * vol * vol) + vol * sign * z)
        total += np.mean(np.maximum(s - 95.0, 0.0))
    return 0.5 * total * math.exp(-rate)


def dropout_layer_loss(w, x):
    """A dense layer with a dropout mask drawn from the seeded global generator."""
    np.random.seed(3)
    mask = np.random.random(w.shape[1]) < 0.8
    h = np.tanh(x @ w) * mask / 0.8
    return float(np.sum(h**2))


def _leapfrog(state, k, dt):
    """One leapfrog step of a spring, updating the state list in place."""
    state[1] = state[1] - dt * k * state[0]
    state[0] = state[0] + dt * state[1]
    return state


def spring_leapfrog_energy(k, x0):
    state = [x0, 0.0]
    for _ in range(50):
        state = _leapfrog(state, k, 0.05)
    return 0.5 * k * state[0] ** 2 + 0.5 * state[1] ** 2


def stack_polynomial(coeffs, x):
    """A polynomial evaluated with a stack: pops inside the while test."""
    stack = list(coeffs)
    total = 0.0
    while stack.pop() > 0.0:  # (a negative coefficient marks the end)
        total = total * x + 1.0
    return total * sum(stack)


def mlp_formatted_keys(params, x):
    """A two-layer network whose weights are read with f-string keys."""
    h = x
    for i in range(2):
        h = np.tanh(h @ params[f"W{i}"] + params[f"b{i}"])
    return float(np.mean(h**2))


@dataclass
class Particle:
    mass: float
    charge: float

    def potential(self, field):
        return self.charge * field - 0.5 * self.mass * field**2


def particles_energy(field, particles: list[Particle]):
    return sum(p.potential(field) for p in particles)


def mean_over_length(x):
    try:
        n = len(x)
    except TypeError:
        n = 1
    return float(np.sum(np.sqrt(x * x + 1.0))) / n


def priority_by_sort(rate, jobs):
    """Jobs (duration, weight) served by weighted shortest job first."""
    queue = [(d / w, d, w) for d, w in jobs]
    served = 0.0
    cost = 0.0
    if queue.sort() is None:  # (sorts in the test)
        for _, d, w in queue:
            served += d
            cost += w * served * rate
    return cost


def _normalize_in_place(weights):
    total = sum(weights)
    for i in range(len(weights)):
        weights[i] /= total


def normalized_then_read(raw):
    w = [math.exp(v) for v in raw]
    _normalize_in_place(w)
    return w[0] * 2.0 + w[1]


def aliased_buffer(xs, k):
    a = list(xs)
    b = a
    for i in range(1, len(b)):
        b[i] = b[i] + k * b[i - 1]
    return sum(a)


U0 = np.sin(np.linspace(0.0, math.pi, 12))

CASES = [
    Case("heat_rod_out_arrays", heat_rod_out_arrays, lambda rng: (0.2, U0.copy())),
    Case("softmax_into_buffer", softmax_into_buffer,
         lambda rng: (rng.normal(size=5), 2), wrt=0),
    Case("mc_option_price", mc_option_price, lambda rng: (0.25, 0.03), wrt=(0, 1)),
    Case("dropout_layer_loss", dropout_layer_loss,
         lambda rng: (rng.normal(size=(3, 6)) * 0.5, rng.normal(size=(4, 3))), wrt=0),
    Case("spring_leapfrog_energy", spring_leapfrog_energy, lambda rng: (2.0, 0.7), wrt=(0, 1)),
    Case("stack_polynomial", stack_polynomial,
         lambda rng: ([0.5, -1.5, 0.25, 2.0], 0.8), wrt=(0, 1)),
    Case("mlp_formatted_keys", mlp_formatted_keys,
         lambda rng: ({"W0": rng.normal(size=(3, 4)) * 0.5, "b0": rng.normal(size=4) * 0.1,
                       "W1": rng.normal(size=(4, 2)) * 0.5, "b1": rng.normal(size=2) * 0.1},
                      rng.normal(size=(5, 3))), wrt=0),
    Case("particles_energy", particles_energy,
         lambda rng: (0.7, [Particle(1.0, 0.5), Particle(2.0, -0.3), Particle(0.5, 1.2)])),
    Case("mean_over_length", mean_over_length, lambda rng: (rng.normal(size=6),)),
    Case("priority_by_sort", priority_by_sort,
         lambda rng: (0.1, [(3.0, 1.0), (1.0, 2.0), (2.5, 0.5), (4.0, 3.0)]), wrt=(0, 1)),
    Case("normalized_then_read", normalized_then_read, lambda rng: ([0.1, -0.4, 0.3],),
         expect="LOCATED", bad="return w[0] * 2.0 + w[1]"),
    Case("aliased_buffer", aliased_buffer, lambda rng: ([1.0, 2.0, 3.0], 0.5), wrt=(0, 1),
         expect="LOCATED", bad="b[i] = b[i] + k * b[i - 1]"),
]
