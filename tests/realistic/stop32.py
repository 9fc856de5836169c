"""Realistic programs of stop 32's classes: scalar loops over 1-D float arrays (read as
the list of their items), rows of floats (lists of tuples, of [x, y] lists, of records
with int indices), helpers reading module constants named like the caller's variables,
numpy's functions of floats in loops, items sorted by a key (``sorted(key=)``,
``list.sort(key=)``), and ``while True`` loops left by ``return``. The last few are
refused at the line: tuples joined by ``+`` and ``sum`` with a tuple start."""

import math

import numpy as np
from _spec import Case

dt = 0.05  # a helper's step, the caller names its own parameter dt
k = 2.0  # a helper's stiffness; loops count with k too
sigma = 0.5  # a helper's noise scale, the caller's parameter is sigma too


def biquad_energy(b0, a1, signal):
    """The output energy of a biquad filter run over a signal array."""
    x1 = x2 = y1 = y2 = 0.0
    energy = 0.0
    for x in signal:
        y = b0 * x + 0.5 * b0 * x1 + 0.25 * b0 * x2 - a1 * y1 - 0.2 * y2
        x2, x1 = x1, x
        y2, y1 = y1, y
        energy += y * y
    return energy


def ar1_negative_loglik(phi, log_s, series):
    """The conditional negative log-likelihood of an AR(1) model over an array."""
    s = math.exp(log_s)
    total = 0.0
    for t in range(1, len(series)):
        r = (series[t] - phi * series[t - 1]) / s
        total += 0.5 * r * r + log_s
    return total


def polygon_area(scale, vertices):
    """The shoelace area of a polygon given as a list of (x, y) tuples, scaled."""
    area = 0.0
    n = len(vertices)
    for i in range(n):
        x0, y0 = vertices[i]
        x1, y1 = vertices[(i + 1) % n]
        area += x0 * y1 - x1 * y0
    return 0.5 * abs(area) * scale * scale


def interpolated_cost(t, knots):
    """A piecewise-linear tariff read off a list of (hour, price) knots."""
    for (t0, p0), (t1, p1) in zip(knots, knots[1:]):
        if t0 <= t <= t1:
            return p0 + (p1 - p0) * (t - t0) / (t1 - t0)
    return knots[-1][1]


def dosing_concentration(ke, schedule):
    """The concentration at 12 h after doses given as [(time, dose), ...]."""
    c = 0.0
    for time, dose in schedule:
        if time <= 12.0:
            c += dose * math.exp(-ke * (12.0 - time))
    return c


def mixture_loglik(x, components):
    """The log-density of a Gaussian mixture given as [(weight, mean, sd), ...]."""
    density = 0.0
    for w, mu, sd in components:
        z = (x - mu) / sd
        density += w * math.exp(-0.5 * z * z) / (sd * math.sqrt(2.0 * math.pi))
    return math.log(density)


def graph_smoothness(values, edges):
    """A weighted graph Laplacian energy over edges (i, j, weight)."""
    total = 0.0
    for i, j, w in edges:
        total += w * (values[i] - values[j]) ** 2
    return total


def _spring_force(x):
    return -k * x  # (the module's k)


def _euler_step(x, v):
    return x + dt * v, v + dt * _spring_force(x)  # (the module's dt)


def oscillator_energy(x0, dt):
    """Integrated with the module's step; the caller's dt only scales the result."""
    x, v = x0, 0.0
    for k in range(20):  # (the caller's k counts)
        x, v = _euler_step(x, v)
    return dt * (0.5 * v * v + 0.5 * k * x * x)


def _gauss_term(r):
    return -0.5 * r * r / (sigma * sigma)  # (the module's sigma)


def gaussian_score(mu, sigma, data):
    total = 0.0
    for v in data:
        total += _gauss_term((v - mu) / sigma)
    return total


def orbit_range(v0, mu):
    """A planar orbit stepped with numpy's hypot and arctan2 of floats."""
    x, y, vx, vy = 1.0, 0.0, 0.0, v0
    for _ in range(60):
        r = np.hypot(x, y)
        vx -= 0.02 * mu * x / r**3
        vy -= 0.02 * mu * y / r**3
        x += 0.02 * vx
        y += 0.02 * vy
    return np.arctan2(y, x) + np.hypot(x, y)


def arrivals_waiting_time(rate, arrivals):
    """Customers served in the order they arrive (sorted by time), one server."""
    ordered = sorted(arrivals, key=lambda a: a[0])
    free_at, waited = 0.0, 0.0
    for time, work in ordered:
        start = max(free_at, time)
        waited += start - time
        free_at = start + work / rate
    return waited


def top_two_weighted(w, scores):
    """The two scores largest in magnitude, weighted (a ranking by a key)."""
    ranked = sorted(scores, key=abs, reverse=True)
    return w * ranked[0] + (1.0 - w) * ranked[1]


def cheapest_route_cost(scale, legs):
    """Legs sorted in place by distance; the three shortest are taken."""
    options = list(legs)
    options.sort(key=lambda leg: leg[0])
    return sum(scale * d + toll for d, toll in options[:3])


def implied_rate(price, flows):
    """The rate that discounts the cash flows to the price, by Newton's method."""
    r = 0.05
    while True:
        value, slope = 0.0, 0.0
        for t, c in flows:
            value += c * math.exp(-r * t)
            slope -= t * c * math.exp(-r * t)
        step = (value - price) / slope
        r -= step
        if abs(step) < 1e-13:
            return r


def joined_coordinates(a, b):
    """Two tuples joined by + (Python joins them): refused at the line."""
    point = a + b
    return point[0] * point[3]


def flattened_rows(rows):
    """sum with a tuple start joins the rows: refused at the line."""
    flat = sum(rows, ())
    return flat[1] * flat[2]


SIGNAL = np.sin(0.4 * np.arange(24.0)) + 0.1 * np.cos(1.3 * np.arange(24.0))

CASES = [
    Case("biquad_energy", biquad_energy, lambda rng: (0.6, 0.3, SIGNAL.copy())),
    Case("ar1_negative_loglik", ar1_negative_loglik,
         lambda rng: (0.5, -0.2, np.cumsum(rng.normal(size=20)) * 0.3)),
    Case("polygon_area", polygon_area,
         lambda rng: (1.5, [(0.0, 0.0), (2.0, 0.1), (2.2, 1.4), (0.3, 1.9)])),
    Case("interpolated_cost", interpolated_cost,
         lambda rng: (7.3, [(0.0, 0.2), (6.0, 0.25), (9.0, 0.4), (18.0, 0.3), (24.0, 0.2)])),
    Case("dosing_concentration", dosing_concentration,
         lambda rng: (0.12, [(0.0, 100.0), (6.0, 50.0), (10.0, 50.0), (14.0, 25.0)])),
    Case("mixture_loglik", mixture_loglik,
         lambda rng: (0.4, [(0.3, -1.0, 0.5), (0.5, 0.5, 0.8), (0.2, 2.0, 0.3)])),
    Case("graph_smoothness", graph_smoothness,
         lambda rng: ([0.0, 1.1, 2.3, 2.9], [(0, 1, 1.0), (1, 2, 0.5), (2, 3, 2.0), (0, 3, 0.1)]),
         wrt=0),
    Case("oscillator_energy", oscillator_energy, lambda rng: (1.2, 0.3)),
    Case("gaussian_score", gaussian_score,
         lambda rng: (0.2, 1.5, np.array([0.1, -0.4, 0.9, 1.3])), wrt=(0, 1)),
    Case("orbit_range", orbit_range, lambda rng: (1.1, 1.0)),
    Case("arrivals_waiting_time", arrivals_waiting_time,
         lambda rng: (1.3, [(0.4, 1.0), (0.2, 0.7), (1.1, 0.5), (0.9, 0.8)])),
    Case("top_two_weighted", top_two_weighted, lambda rng: (0.3, [0.5, -2.0, 1.2, 0.1])),
    Case("cheapest_route_cost", cheapest_route_cost,
         lambda rng: (0.8, [(5.0, 1.0), (2.0, 3.5), (7.5, 0.0), (3.0, 2.0)])),
    Case("implied_rate", implied_rate,
         lambda rng: (95.0, [(1.0, 5.0), (2.0, 5.0), (3.0, 105.0)])),
    Case("joined_coordinates", joined_coordinates, lambda rng: ((1.0, 2.0), (3.0, 4.0)),
         expect="LOCATED", bad="a + b"),
    Case("flattened_rows", flattened_rows, lambda rng: ([(1.0, 2.0), (3.0, 4.0)],),
         expect="LOCATED", bad="sum(rows, ())"),
]
