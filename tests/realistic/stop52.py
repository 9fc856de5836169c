"""Realistic programs of stop 52's area: assignment expressions in statistics code and in
loops; the ``statistics`` module's quantiles, covariance and correlation; a simulation
with a ``random.Random`` made inside; numpy 2's array-API spellings; medians over several
axes; roots of equations whose function keeps to itself; a record taken out of a list and
read by a root finder's lambda; an integral whose jump stays put; a named tuple carrying
an integrator's state; a diagonal loaded through ``.flat``."""

import collections
import dataclasses
import math
import random
import statistics

import numpy as np
import scipy.integrate
import scipy.optimize
from _spec import Case

# ---------------------------------------------------------------- assignment expressions


def weighted_sample_variance(xs, ws):
    """A reliability-weighted variance, its deviations named by `:=` in the sums."""
    total = (wsum := sum(ws)) - sum(w * w for w in ws) / wsum
    centre = sum(w * x for w, x in zip(ws, xs)) / wsum
    spread = math.fsum(w * (d := x - centre) * d for w, x in zip(ws, xs))
    return spread / total


def clipped_gains(prices, threshold):
    """Gains of a price series above a threshold, each named once where it is tested."""
    gains = [g for a, b in zip(prices, prices[1:]) if (g := b / a - 1.0) > threshold]
    return (m := max(prices)) * 0.01 + m * threshold + sum(g * g for g in gains)


# ---------------------------------------------------------------- the statistics module


def interquartile_correlation(xs, ys):
    """A robust summary: the interquartile range of xs, the covariance and correlation."""
    q1, _, q3 = statistics.quantiles(xs, n=4)
    return (q3 - q1) + statistics.covariance(xs, ys) * statistics.correlation(xs, ys)


def queue_waiting_time(arrival_rate, service_mean):
    """A single-server queue simulated with a random.Random made here (Lindley's
    recursion), service times drawn pathwise in their mean."""
    rng = random.Random(2024)
    wait, total = 0.0, 0.0
    for _ in range(40):
        service = rng.expovariate(1.0 / service_mean)
        gap = rng.expovariate(1.0) / arrival_rate
        wait = max(0.0, wait + service - gap)
        total += wait
    return total / 40


# ---------------------------------------------------------------- numpy 2, several axes


def running_balance_cost(flows, rate):
    """Balances as numpy 2's cumulative_sum with the opening balance included."""
    balances = np.cumulative_sum(flows * (1.0 + rate), include_initial=True)
    return float(np.sum(np.maximum(balances, 0.0) ** 2) * 1e-3 + np.sum(balances) * rate)


def batch_trace_penalty(Ws):
    """The traces of a batch of matrices (np.linalg.trace: the last two axes)."""
    gram = np.einsum("bij,bkj->bik", Ws, Ws)
    return float(np.sum(np.linalg.trace(gram)) + np.sum(np.linalg.cross(Ws[0], Ws[1]) ** 2))


def median_image_contrast(frames):
    """The median over frames and rows of a video block (a tuple of axes)."""
    background = np.median(frames, axis=(0, 1))
    return float(np.sum((frames[-1].mean(axis=0) - background) ** 2))


# ---------------------------------------------------------------- roots of equations


@dataclasses.dataclass
class Bond:
    coupon: float
    price: float


def portfolio_yield(bonds):
    """Yields of each bond of a portfolio (a record taken out of the list, read by the
    root finder's lambda), averaged."""
    total = 0.0
    for b in bonds:
        total += scipy.optimize.brentq(
            lambda y: b.coupon / (1 + y) + (100.0 + b.coupon) / (1 + y) ** 2 - b.price,  # noqa: B023
            -0.5, 1.0, xtol=1e-14,
        )
    return total / len(bonds)


def equilibrium_temperature(absorbed, emissivity):
    """A planet's temperature balancing absorbed and emitted flux (a root finder's
    function that keeps to itself; what it would have stored is computed after)."""
    sigma = 5.670e-8

    def balance(T):
        return emissivity * sigma * T ** 4 - absorbed

    T = scipy.optimize.brentq(balance, 10.0, 1000.0, xtol=1e-12)
    emitted = emissivity * sigma * T ** 4
    return T + 1e-3 * emitted


# ---------------------------------------------------------------- integrals and states


def tiered_tariff_cost(rate, peak):
    """A daily cost with a tariff that steps up at a fixed hour (the jump stays put, its
    place a point of the integral)."""
    load = lambda t: peak * math.exp(-((t - 18.0) / 3.0) ** 2) + 1.0  # noqa: E731
    price = lambda t: rate * (1.5 if t >= 17.0 else 1.0)  # noqa: E731
    return scipy.integrate.quad(lambda t: price(t) * load(t), 0.0, 24.0, points=(17.0,),
                                epsabs=1e-12, epsrel=1e-12)[0]


Phase = collections.namedtuple("Phase", "q p")


def symplectic_pendulum(q0, g):
    """A pendulum by symplectic Euler, its state a named tuple made each step."""
    s = Phase(q0, 0.0)
    for _ in range(50):
        p = s.p - 0.05 * g * math.sin(s.q)
        s = Phase(s.q + 0.05 * p, p)
    return 0.5 * s.p ** 2 + g * (1.0 - math.cos(s.q))


def ridge_by_flat_diagonal(X, y, lam):
    """Ridge regression: lambda added to the Gram matrix's diagonal through `.flat`."""
    A = X.T @ X
    n = A.shape[0]
    A.flat[::n + 1] += lam
    w = np.linalg.solve(A, X.T @ y)
    return float(np.sum((X @ w - y) ** 2) + lam * np.sum(w ** 2))


def _bonds(rng):
    return ([Bond(float(rng.uniform(3.0, 6.0)), float(rng.uniform(95.0, 105.0)))
             for _ in range(3)],)


CASES = [
    Case("weighted_sample_variance", weighted_sample_variance,
         lambda rng: ([float(v) for v in rng.normal(size=6)],
                      [float(v) for v in rng.uniform(0.5, 2.0, size=6)]), wrt=(0, 1),
         note="`:=` in a statement and in a generator's element"),
    Case("clipped_gains", clipped_gains,
         lambda rng: ([float(v) for v in 10.0 + np.cumsum(rng.normal(size=8))], 0.01),
         wrt=0, note="`:=` in a comprehension's condition and a statement"),
    Case("interquartile_correlation", interquartile_correlation,
         lambda rng: ([float(v) for v in rng.normal(size=9)],
                      [float(v) for v in rng.normal(size=9)]), wrt=(0, 1),
         note="statistics.quantiles, covariance and correlation read"),
    Case("queue_waiting_time", queue_waiting_time,
         lambda rng: (rng.uniform(0.8, 1.2), rng.uniform(0.5, 0.8)), wrt=(0, 1),
         note="random.Random made in the function"),
    Case("running_balance_cost", running_balance_cost,
         lambda rng: (rng.normal(size=8), 0.03), wrt=(0, 1),
         note="np.cumulative_sum(include_initial=True)"),
    Case("batch_trace_penalty", batch_trace_penalty,
         lambda rng: (rng.normal(size=(3, 3, 3)),), wrt=0,
         note="np.linalg.trace and np.linalg.cross"),
    Case("median_image_contrast", median_image_contrast,
         lambda rng: (rng.normal(size=(5, 4, 3)),), wrt=0,
         note="np.median over a tuple of axes"),
    Case("portfolio_yield", portfolio_yield, _bonds, wrt=0,
         note="a record from a list read by brentq's lambda"),
    Case("equilibrium_temperature", equilibrium_temperature,
         lambda rng: (rng.uniform(200.0, 300.0), rng.uniform(0.6, 0.9)), wrt=(0, 1),
         note="brentq of a nested def that changes nothing outside"),
    Case("tiered_tariff_cost", tiered_tariff_cost,
         lambda rng: (rng.uniform(0.1, 0.3), rng.uniform(2.0, 4.0)), wrt=(0, 1),
         note="quad's lambda calls lambdas of the function (carried as nested defs)"),
    Case("symplectic_pendulum", symplectic_pendulum,
         lambda rng: (rng.uniform(0.3, 0.8), 9.81), wrt=(0, 1),
         note="a named tuple made each step"),
    Case("ridge_by_flat_diagonal", ridge_by_flat_diagonal,
         lambda rng: (rng.normal(size=(8, 3)), rng.normal(size=8), 0.5), wrt=(0, 1, 2),
         note="A.flat[::n+1] += lam"),
]
