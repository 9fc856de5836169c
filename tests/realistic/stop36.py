"""Realistic programs of stop 36's classes: lists a loop changes item by item or grows
twice per step (Elo ratings, a Gauss-Seidel sweep, a dynamic-programming row, a particle
list, running statistics), changed in place in the version for floats; a module given a
local name (``xp = np``); nested functions chosen by a setting (an activation, a
smoothing kernel)."""

import math

import numpy as np
from _spec import Case


def elo_season(ratings, k_factor, games):
    """Sequential Elo updates over a season (two item writes per game), then the spread."""
    r = list(ratings)
    for i, j, score in games:
        expected = 1.0 / (1.0 + 10.0 ** ((r[j] - r[i]) / 400.0))
        r[i] += k_factor * (score - expected)
        r[j] -= k_factor * (score - expected)
    mean = sum(r) / len(r)
    return sum((v - mean) ** 2 for v in r) / len(r)


def gauss_seidel_sweeps(diagonal, coupling, rhs):
    """Three Gauss-Seidel sweeps for a tridiagonal system, the solution a list updated in
    place item by item (each update reads its neighbours' newest values)."""
    n = len(rhs)
    u = [0.0] * n
    for _ in range(3):
        for k in range(n):
            left = u[k - 1] if k > 0 else 0.0
            right = u[k + 1] if k + 1 < n else 0.0
            u[k] = (rhs[k] - coupling * (left + right)) / diagonal
    return sum(v * v for v in u)


def soft_edit_distance(costs, gap, smooth):
    """A dynamic-programming row over a sequence, updated in place with a soft minimum
    (log-sum-exp), as in soft-DTW."""
    n = len(costs)
    row = [gap * k for k in range(n + 1)]
    for step in range(3):
        previous_diagonal = row[0]
        row[0] = gap * (step + 1)
        for k in range(1, n + 1):
            candidates = (previous_diagonal + costs[k - 1], row[k] + gap, row[k - 1] + gap)
            low = min(candidates)
            soft = low - smooth * math.log(sum(math.exp(-(c - low) / smooth) for c in candidates))
            previous_diagonal = row[k]
            row[k] = soft
    return row[-1]


def particle_trajectory(velocity, drag, dt):
    """Positions and speeds appended twice per step (x, then v), read back at the end."""
    history = []
    x, v = 0.0, velocity
    for _ in range(6):
        v = v - drag * v * abs(v) * dt - 9.81 * dt
        x = x + v * dt
        history.append(x)
        history.append(v)
    return history[-2] + 0.1 * max(history[1::2])


def running_variance(samples, decay):
    """Exponentially weighted mean and variance kept in a two-item list of state."""
    state = [samples[0], 0.0]
    for s in samples[1:]:
        delta = s - state[0]
        state[0] += (1.0 - decay) * delta
        state[1] = decay * (state[1] + (1.0 - decay) * delta * delta)
    return state[1]


def layer_norm_score(x, gain, bias):
    """A layer norm in the array-API style, the module given a local name."""
    xp = np
    mu = xp.mean(x)
    centred = x - mu
    sigma = xp.sqrt(xp.mean(centred * centred) + 1e-5)
    y = gain * centred / sigma + bias
    return xp.sum(xp.tanh(y) ** 2)


def activated_response(x, w, kind):
    """A unit whose activation is chosen by a setting, each a nested function."""
    if kind == "softplus":
        def act(t):
            return math.log1p(math.exp(t))
    elif kind == "swish":
        def act(t):
            return t / (1.0 + math.exp(-t))
    else:
        act = lambda t: math.tanh(t)  # noqa: E731
    return act(w * x) + 0.5 * act(x - w)


def kernel_smoother(points, bandwidth, kind):
    """Nadaraya-Watson weights from a kernel chosen by name."""
    if kind == "gauss":
        kernel = lambda u: math.exp(-0.5 * u * u)  # noqa: E731
    else:
        kernel = lambda u: max(1.0 - u * u, 0.0)  # noqa: E731
    total, weight = 0.0, 0.0
    for p, value in points:
        k = kernel((p - 0.4) / bandwidth)
        total += k * value
        weight += k
    return total / weight


def _season(rng, n, games):
    out = []
    for _ in range(games):
        i, j = rng.choice(n, size=2, replace=False)
        out.append((int(i), int(j), float(rng.choice([0.0, 0.5, 1.0]))))
    return out


CASES = [
    Case("elo_season", elo_season,
         lambda rng: (list(1500.0 + 100.0 * rng.normal(size=8)), rng.uniform(16.0, 32.0),
                      _season(rng, 8, 30)), wrt=(0, 1)),
    Case("gauss_seidel_sweeps", gauss_seidel_sweeps,
         lambda rng: (rng.uniform(3.0, 4.0), rng.uniform(-0.9, 0.9),
                      list(rng.normal(size=6))), wrt=(0, 1, 2)),
    Case("soft_edit_distance", soft_edit_distance,
         lambda rng: (list(rng.uniform(0.0, 1.0, size=5)), rng.uniform(0.5, 1.0),
                      rng.uniform(0.3, 0.8)), wrt=(0, 1, 2)),
    Case("particle_trajectory", particle_trajectory,
         lambda rng: (rng.uniform(5.0, 10.0), rng.uniform(0.01, 0.05), rng.uniform(0.05, 0.1)),
         wrt=(0, 1, 2)),
    Case("running_variance", running_variance,
         lambda rng: (list(rng.normal(size=10)), rng.uniform(0.6, 0.9)), wrt=(0, 1)),
    Case("layer_norm_score", layer_norm_score,
         lambda rng: (rng.normal(size=6), rng.uniform(0.5, 1.5), rng.uniform(-0.5, 0.5)),
         wrt=(0, 1, 2)),
    Case("activated_response_swish", activated_response,
         lambda rng: (rng.uniform(-1.0, 1.0), rng.uniform(0.5, 1.5), "swish"), wrt=(0, 1)),
    Case("activated_response_tanh", activated_response,
         lambda rng: (rng.uniform(-1.0, 1.0), rng.uniform(0.5, 1.5), "tanh"), wrt=(0, 1)),
    Case("kernel_smoother", kernel_smoother,
         lambda rng: ([(float(p), float(v)) for p, v in zip(rng.uniform(0.0, 1.0, 6),
                                                           rng.normal(size=6))],
                      rng.uniform(0.3, 0.6), "gauss"), wrt=(1,)),
]
