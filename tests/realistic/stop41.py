"""Realistic programs of stop 41's area: plain scalar Python, the code of issue 17.
Iterative solvers and integrators differentiated with respect to one or two floats
(forward mode), functions of a list of floats (its adjoint a plain list), filters that
keep some items, helpers that return a tuple read by index, values a loop computes on
some iterations only, and a loop's ``else:`` block."""

import math

from _spec import Case


def kepler_anomaly(eccentricity, mean_anomaly):
    """Kepler's equation E - e sin E = M by Newton's method, to a tolerance."""
    E = mean_anomaly if eccentricity < 0.8 else math.pi
    for _ in range(50):
        step = (E - eccentricity * math.sin(E) - mean_anomaly) / (1.0 - eccentricity * math.cos(E))
        E -= step
        if abs(step) < 1e-13:
            break
    return E


def _pendulum_rates(theta, omega, g_over_l, damping):
    return omega, -g_over_l * math.sin(theta) - damping * omega


def pendulum_energy(g_over_l, damping):
    """A damped pendulum by RK4; the helper's tuple read by index (k1[0], k1[1])."""
    theta, omega, dt = 1.0, 0.0, 0.02
    for _ in range(150):
        k1 = _pendulum_rates(theta, omega, g_over_l, damping)
        k2 = _pendulum_rates(theta + 0.5 * dt * k1[0], omega + 0.5 * dt * k1[1], g_over_l, damping)
        k3 = _pendulum_rates(theta + 0.5 * dt * k2[0], omega + 0.5 * dt * k2[1], g_over_l, damping)
        k4 = _pendulum_rates(theta + dt * k3[0], omega + dt * k3[1], g_over_l, damping)
        theta += dt / 6.0 * (k1[0] + 2.0 * k2[0] + 2.0 * k3[0] + k4[0])
        omega += dt / 6.0 * (k1[1] + 2.0 * k2[1] + 2.0 * k3[1] + k4[1])
    return 0.5 * omega * omega + g_over_l * (1.0 - math.cos(theta))


def ytm_price_error(rate, cash_flows):
    """A bond's price from its cash flows at a flat rate, against a quoted price."""
    price = 0.0
    for t, cash in enumerate(cash_flows, start=1):
        price += cash / (1.0 + rate) ** t
    return (price - 98.5) ** 2


def clenshaw_chebyshev(coefficients, x):
    """A Chebyshev series by Clenshaw's recurrence, over a list of coefficients."""
    b1 = b2 = 0.0
    for c in reversed(coefficients[1:]):
        b1, b2 = 2.0 * x * b1 - b2 + c, b1
    return x * b1 - b2 + coefficients[0]


def welford_variance(samples):
    """The variance of a list of floats by Welford's online update."""
    mean, m2 = 0.0, 0.0
    for k, x in enumerate(samples, start=1):
        delta = x - mean
        mean += delta / k
        m2 += delta * (x - mean)
    return m2 / (len(samples) - 1)


def hinge_loss_positive_margins(weights, features, bias):
    """A hinge loss over the examples a linear model gets wrong by margin (a filter)."""
    violations = [1.0 - (w * f + bias) for w, f in zip(weights, features) if w * f + bias < 1.0]
    return sum(v * v for v in violations) / max(len(violations), 1)


def peak_over_threshold(signal, threshold):
    """The mean excess of the samples above a threshold (kept in a loop)."""
    excess = []
    for s in signal:
        if s > threshold:
            excess.append(s - threshold)
    return sum(excess) / len(excess)


def sir_epidemic_peak(beta, gamma):
    """An SIR model by Euler steps; the infected fraction at the time of the last
    rise, recorded when it rises (a value computed on some steps only)."""
    s, i, r, dt = 0.99, 0.01, 0.0, 0.1
    for _ in range(200):
        new = beta * s * i * dt
        gone = gamma * i * dt
        if new > gone:
            last_rise = i
        s, i, r = s - new, i + new - gone, r + gone
    return last_rise + 0.1 * r


def sampled_and_held(rate, decay):
    """A sample-and-hold: a process sampled every fourth step, the held sample read on
    every step."""
    level, total = 1.0, 0.0
    for step in range(24):
        level = level * decay + rate * math.sin(0.3 * step)
        if step % 4 == 0:
            held = level
        total += held * held
    return total


def bisect_then_polish(target, k):
    """A root by bisection, then the midpoint polished by Newton; the ``else:`` of the
    bisection loop (no early exit) takes the mean of the bracket's ends."""
    lo, hi = 0.0, 4.0
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        if mid * mid * k - target > 0.0:
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-9:
            break
    else:
        mid = sum([end for end in (lo, hi)]) / 2.0
    return mid - (k * mid * mid - target) / (2.0 * k * mid)


def logistic_regression_nll(w, b, points):
    """The negative log-likelihood of a 1-D logistic regression over (x, y) pairs."""
    total = 0.0
    for x, y in points:
        z = w * x + b
        total += math.log1p(math.exp(-z)) if y > 0.5 else math.log1p(math.exp(z))
    return total / len(points)


def compound_growth_years(rate):
    """Years to double at a rate, interpolated inside the year of the crossing."""
    value = 1.0
    for year in range(200):
        grown = value * (1.0 + rate)
        if grown >= 2.0:
            return year + (2.0 - value) / (grown - value)
        value = grown
    return 200.0


def _gaussian(x, mu, sigma):
    return math.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * math.sqrt(2.0 * math.pi))


def mixture_log_likelihood(mu, sigma, data):
    """A two-component Gaussian mixture's log-likelihood (one component fixed)."""
    total = 0.0
    for x in data:
        total += math.log(0.3 * _gaussian(x, mu, sigma) + 0.7 * _gaussian(x, 0.0, 1.0))
    return total


_POINTS = [(-1.5, 0.0), (-0.4, 0.0), (0.3, 1.0), (0.9, 1.0), (1.7, 1.0), (0.1, 0.0)]

CASES = [
    Case("kepler_anomaly", kepler_anomaly,
         lambda rng: (0.3 + 0.2 * rng.random(), 1.0 + rng.random()), wrt=(0, 1)),
    Case("pendulum_energy", pendulum_energy,
         lambda rng: (9.0 + rng.random(), 0.2 + 0.1 * rng.random()), wrt=(0, 1)),
    Case("ytm_price_error", ytm_price_error,
         lambda rng: (0.03 + 0.01 * rng.random(), [4.0] * 7 + [104.0]), wrt=0),
    Case("clenshaw_chebyshev", clenshaw_chebyshev,
         lambda rng: (list(rng.normal(size=6)), 0.3 + 0.2 * rng.random()), wrt=(0, 1)),
    Case("welford_variance", welford_variance,
         lambda rng: (list(rng.normal(size=7)),), wrt=0),
    Case("hinge_loss_positive_margins", hinge_loss_positive_margins,
         lambda rng: (list(rng.normal(size=8)), list(rng.normal(size=8)), 0.1), wrt=(0, 2)),
    Case("peak_over_threshold", peak_over_threshold,
         lambda rng: (list(rng.normal(size=12)), 0.05), wrt=(0, 1)),
    Case("sir_epidemic_peak", sir_epidemic_peak,
         lambda rng: (0.5 + 0.1 * rng.random(), 0.1 + 0.02 * rng.random()), wrt=(0, 1)),
    Case("sampled_and_held", sampled_and_held,
         lambda rng: (0.5 + rng.random(), 0.8 + 0.1 * rng.random()), wrt=(0, 1)),
    Case("bisect_then_polish", bisect_then_polish,
         lambda rng: (2.0 + rng.random(), 1.0 + 0.5 * rng.random()), wrt=(0, 1)),
    Case("logistic_regression_nll", logistic_regression_nll,
         lambda rng: (0.5 + rng.random(), 0.1 * rng.normal(), _POINTS), wrt=(0, 1)),
    Case("compound_growth_years", compound_growth_years,
         lambda rng: (0.03 + 0.04 * rng.random(),), wrt=0),
    Case("mixture_log_likelihood", mixture_log_likelihood,
         lambda rng: (1.5 + rng.random(), 0.8 + 0.2 * rng.random(), list(rng.normal(size=10))),
         wrt=(0, 1)),
]
