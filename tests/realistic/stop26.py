"""Realistic programs of the classes the adversarial rounds of stop 26 found wrong or
crashing (each fixed then): interpolation on a uniform grid (a cell index by truncation),
boundary conditions written through a slice beside an index list, 0-d accumulators,
mask lists held by a name, a copy written through a view in forward mode, methods that
return the same memory, Euler trajectories kept in lists, a parameter that is not
differentiated in x ** p, range statistics and cross products, medians and quantiles."""

import math

import numpy as np
from _spec import Case

GRID = np.array([0.0, 1.0, 0.5, 2.0, 1.5, 0.7, 1.1])


def grid_interpolation_loss(x, target):
    """Linear interpolation on a uniform grid of step 0.5: the cell by astype(int)."""
    u = x / 0.5
    cell = u.astype(int)
    t = u - cell
    values = (1.0 - t) * GRID[cell] + t * GRID[cell + 1]
    return np.sum((values - target) ** 2)


def heat_with_insulated_ends(u0, kappa):
    """Explicit heat steps; the end columns copy their neighbours (zero flux)."""
    u = np.tile(u0, (5, 1))
    for t in range(1, 5):
        u[t, 1:-1] = u[t - 1, 1:-1] + kappa * (u[t - 1, :-2] - 2 * u[t - 1, 1:-1] + u[t - 1, 2:])
        u[1:, [0, -1]] = u[1:, [1, -2]]
    return np.sum(u[-1] ** 2) + 0.1 * np.sum(u[:, 0])


def running_total_0d(x):
    """A 0-d accumulator array, and an alias of it read at the end."""
    total = np.zeros(())
    seen = total
    for k in range(x.shape[0]):
        total += x[k] ** 2 * (k + 1)
    return float(seen) + total.item()


def masked_update(x, a):
    """A boolean mask kept in a list, used to read and to write."""
    u = x.copy()
    keep = [True, False, True, False, True]
    u[keep] = a * u[keep] ** 2
    picks = [0, 2]
    return np.sum(u**2 * np.arange(1.0, 6.0)) + np.sum(u[picks])


def scaled_copy_then_view_write(x):
    """A scaled copy whose tail is damped through a view."""
    y = x * 1.0
    tail = y[2:]
    tail *= 0.5
    return np.sum(np.sin(y) * x)


def kernel_with_view_jitter(x, noise):
    """A kernel matrix; jitter added through a view of it (k.view())."""
    k = np.exp(-((x[:, None] - x[None, :]) ** 2))
    shown = k.view()
    shown[0, 0] += noise
    return np.linalg.slogdet(k)[1]


def decay_trajectory(k, y0):
    """Explicit Euler with the states kept in a list read as it grows."""
    dt, t, y = 0.05, 0.0, y0
    path = [y]
    for _ in range(40):
        y = path[-1] + dt * (-k * path[-1] + math.sin(t))
        t = t + dt
        path.append(y)
    return sum(path) * dt + path[len(path) // 2]


def lp_error(w, X, y, power=3):
    """An L^p error whose power is a default parameter (not differentiated)."""
    return np.sum(np.abs(X @ w - y) ** power) / X.shape[0]


def spread_and_torque(r, f):
    """The spread of positions and the total torque of forces."""
    return np.ptp(r, axis=0).sum() + np.sum(np.cross(r, f) ** 2)


def robust_scale(x):
    """Median and interquartile range of a sample."""
    q1, q3 = np.percentile(x, [25.0, 75.0])
    return np.median(x) + (q3 - q1) / 1.349


def _point(n):
    return lambda rng: (rng.uniform(0.3, 2.6, n),)


CASES = [
    Case("grid_interpolation_loss", grid_interpolation_loss,
         lambda rng: (rng.uniform(0.2, 2.7, 5) + 0.013, rng.normal(size=5)), wrt="x",
         note="the cell index by truncation has no derivative (astype(int))"),
    Case("heat_with_insulated_ends", heat_with_insulated_ends,
         lambda rng: (rng.normal(size=6), 0.2), wrt=("u0", "kappa"),
         note="u[1:, [0, -1]] = ...: an open slice beside an index list"),
    Case("running_total_0d", running_total_0d, lambda rng: (rng.normal(size=4),),
         note="a 0-d array accumulated in place, read through an alias"),
    Case("masked_update", masked_update, lambda rng: (rng.uniform(0.5, 1.5, 5), 0.7),
         wrt=("x", "a"), note="a mask list and an index list held by names"),
    Case("scaled_copy_then_view_write", scaled_copy_then_view_write,
         lambda rng: (rng.normal(size=5),), note="forward mode: a copy written through a view"),
    Case("kernel_with_view_jitter", kernel_with_view_jitter,
         lambda rng: (np.linspace(0.0, 1.0, 4) + rng.uniform(0, 0.05, 4), 0.3),
         wrt=("x", "noise"), note="k.view() shares k's memory"),
    Case("decay_trajectory", decay_trajectory, lambda rng: (rng.uniform(0.5, 1.5), 1.2),
         wrt=("k", "y0"), note="a list grown in a loop and read while it grows"),
    Case("lp_error", lp_error,
         lambda rng: (rng.normal(size=3), rng.normal(size=(6, 3)), rng.normal(size=6)),
         wrt="w", note="x ** p with p a default parameter (its Hessian: test_second_order)"),
    Case("spread_and_torque", spread_and_torque,
         lambda rng: (rng.normal(size=(4, 3)), rng.normal(size=(4, 3))), wrt=("r", "f")),
    Case("robust_scale", robust_scale, lambda rng: (rng.permutation(np.linspace(0, 3, 9))
                                                    + rng.uniform(0, 0.01, 9),),
         note="np.median and np.percentile (linear interpolation)"),
]
