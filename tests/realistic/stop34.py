"""Realistic programs of stop 34's classes: loops whose saved values the backward pass
runs over last first (values read again before they are restored, several carried
values, early exits, running sums the gradient does not need), powers at base 0 (power
series, polynomial features, a learnable exponent over data with zeros), log-space sums
that start from -inf (an HMM's forward pass), parameters packed with ``np.hstack``,
choices of a whole tuple by ``max``/``min`` and ``max(a, b, key=f)``, and ``sum`` with
``start=``."""

import math

import numpy as np
from _spec import Case


def taylor_exp_at(x, n_terms):
    """exp(x) by its Taylor series, term by term (the first term is x ** 0)."""
    total = 0.0
    for k in range(n_terms):
        total += x**k / math.factorial(k)
    return total


def polynomial_regression_loss(coef, x, y):
    """Least squares of a cubic in features x ** k (the data starts at x = 0)."""
    features = np.stack([x**k for k in range(4)], axis=1)
    resid = features @ coef - y
    return float(np.mean(resid**2))


def generalized_mean(p, values):
    """The power mean of p over data with a zero in it: (mean(v ** p)) ** (1 / p)."""
    return float(np.mean(values**p) ** (1.0 / p))


def hmm_log_likelihood(log_trans, log_emit, observations):
    """An HMM's forward pass in log space; a zero transition probability is -inf."""
    n_states = log_trans.shape[0]
    alpha = log_emit[:, observations[0]] - math.log(n_states)
    for obs in observations[1:]:
        new = np.full(n_states, -np.inf)
        for j in range(n_states):
            acc = -np.inf
            for i in range(n_states):
                acc = np.logaddexp(acc, alpha[i] + log_trans[i, j])
            new[j] = acc + log_emit[j, obs]
        alpha = new
    return float(np.logaddexp.reduce(alpha))


def packed_logistic_loss(w, b, X, y):
    """A logistic regression whose parameters are packed as theta = hstack([w, b])."""
    theta = np.hstack([w, b])
    Xb = np.hstack([X, np.ones((X.shape[0], 1))])
    z = Xb @ theta
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def best_bid_revenue(p1, q1, p2, q2, p3, q3):
    """The best (price, quantity) bid by price, then by quantity: its revenue."""
    price, quantity = max((p1, q1), (p2, q2), (p3, q3))
    return price * quantity


def robust_step(a, b, c):
    """A step that takes whichever candidate is smallest in magnitude."""
    return min(a - b, 0.5 * c, b * c, key=abs) ** 2


def newton_cube_root(a):
    """Newton's method for a ** (1/3), to a tolerance; x is read before it is restored."""
    x = a if a > 1.0 else 1.0
    while abs(x * x * x - a) > 1e-12 * a:
        x = x - (x * x * x - a) / (3.0 * x * x)
    return x


def amortized_interest(rate, principal, n_months):
    """Total interest paid on a loan: the balance and the payment are carried."""
    payment = principal * rate / (1.0 - (1.0 + rate) ** -n_months)
    balance, interest_paid = principal, 0.0
    for _ in range(n_months):
        interest = balance * rate
        interest_paid += interest
        balance = balance + interest - payment
    return interest_paid


def fibonacci_weights(a, b, n):
    """A Fibonacci-like recurrence by tuple swap; only the last value is returned."""
    x, y = a, b
    for _ in range(n):
        x, y = y, x + 0.5 * y
    return y


def first_crossing_time(drift, level):
    """When an accumulating value first crosses a level (an early return in the loop)."""
    value, t = 0.0, 0.0
    for step in range(200):
        value = value + drift * (1.0 + 0.1 * math.sin(step))
        if value > level:
            return step + (level - (value - drift * (1.0 + 0.1 * math.sin(step)))) / drift
        t += 1.0
    return t


def weighted_total(weights, values, offset):
    """A weighted sum with its start value given by keyword."""
    return sum((w * v for w, v in zip(weights, values)), start=offset)


def gru_sequence_loss(Wz, Wh, xs):
    """A minimal GRU-style cell over a sequence; the state is carried, a gate read back."""
    h = np.zeros(Wz.shape[0])
    for x in xs:
        z = 1.0 / (1.0 + np.exp(-(Wz @ np.concatenate([h, x]))))
        candidate = np.tanh(Wh @ np.concatenate([h, x]))
        h = (1.0 - z) * h + z * candidate
    return float(np.sum(h**2))


def _hmm_args(rng):
    trans = np.array([[0.9, 0.1, 0.0], [0.0, 0.7, 0.3], [0.2, 0.0, 0.8]])
    emit = rng.uniform(0.1, 1.0, (3, 4))
    emit /= emit.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        return np.log(trans), np.log(emit), [0, 2, 1, 3, 3, 0]


CASES = [
    Case("taylor_exp_at", taylor_exp_at, lambda rng: (rng.uniform(-1.0, 1.0), 12), wrt=0),
    Case("taylor_exp_at_zero", taylor_exp_at, lambda rng: (0.0, 12), wrt=0),
    Case("polynomial_regression_loss", polynomial_regression_loss,
         lambda rng: (rng.normal(size=4), np.linspace(0.0, 1.0, 9), rng.normal(size=9)), wrt=0),
    Case("generalized_mean", generalized_mean,
         lambda rng: (rng.uniform(1.5, 3.0), np.array([0.0, 0.5, 1.2, 2.0])), wrt=0),
    Case("hmm_log_likelihood", hmm_log_likelihood, _hmm_args, wrt=1),
    Case("packed_logistic_loss", packed_logistic_loss,
         lambda rng: (rng.normal(size=3), 0.2, rng.normal(size=(8, 3)),
                      (rng.uniform(size=8) < 0.5).astype(float)), wrt=(0, 1)),
    Case("best_bid_revenue", best_bid_revenue,
         lambda rng: tuple(rng.uniform(1.0, 2.0, 6)), wrt=(0, 1, 2, 3, 4, 5)),
    Case("robust_step", robust_step, lambda rng: tuple(rng.uniform(0.2, 1.5, 3)), wrt=(0, 1, 2)),
    Case("newton_cube_root", newton_cube_root, lambda rng: (rng.uniform(2.0, 30.0),), wrt=0),
    Case("amortized_interest", amortized_interest,
         lambda rng: (rng.uniform(0.002, 0.01), rng.uniform(1e4, 2e4), 36), wrt=(0, 1)),
    Case("fibonacci_weights", fibonacci_weights,
         lambda rng: (rng.uniform(0.5, 1.5), rng.uniform(0.5, 1.5), 12), wrt=(0, 1)),
    Case("first_crossing_time", first_crossing_time,
         lambda rng: (rng.uniform(0.3, 0.5), 7.3), wrt=0),
    Case("weighted_total", weighted_total,
         lambda rng: ([0.2, 0.5, 0.3], [1.0, -2.0, 4.0], rng.uniform()), wrt=(0, 2)),
    Case("gru_sequence_loss", gru_sequence_loss,
         lambda rng: (rng.normal(size=(3, 5)) * 0.5, rng.normal(size=(3, 5)) * 0.5,
                      rng.normal(size=(4, 2))), wrt=(0, 1)),
]
