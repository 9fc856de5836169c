"""Realistic programs of stop 54's area: objects whose fields are named like an array's
attributes (a prior's ``shape``, a gas's ``T``), classes with their own ``items()``,
``pop`` or ``__contains__``, partials of numpy functions as activations, Monte Carlo
draws scaled in place, defaultdict group sums, tuples grown with ``+=``, windows read
by ``islice(enumerate(...))`` and deques given ``maxlen`` by position."""

import collections
import dataclasses
import functools
import itertools
import math

import numpy as np
from _spec import Case

# ---------------------------------------------------------------- fields named like arrays'


@dataclasses.dataclass
class GammaPrior:
    shape: float
    rate: float


def gamma_log_posterior(prior: GammaPrior, counts):
    """Log posterior of a Poisson rate's Gamma prior hyperparameters (up to a constant)."""
    a, b = prior.shape, prior.rate
    n, total = len(counts), sum(counts)
    return (math.lgamma(a + total) - math.lgamma(a) + a * math.log(b)
            - (a + total) * math.log(b + n))


GasState = collections.namedtuple("GasState", "T P n")


def mixture_internal_energy(gases: list[GasState]):
    """Internal energy of ideal gases (3/2 n R T) plus a pressure-volume term."""
    R = 8.314
    return sum(1.5 * g.n * R * g.T + 0.01 * g.P * g.n * R * g.T / g.P for g in gases)


# ---------------------------------------------------------------- classes of their own


class Portfolio:
    def __init__(self, weights, prices):
        self.weights = weights
        self.prices = prices

    def items(self):
        return [(k, w * p) for k, (w, p) in enumerate(zip(self.weights, self.prices))]


def portfolio_log_value(weights, prices):
    """Log of the total value, reading the holdings through the class's own items()."""
    p = Portfolio(weights, prices)
    total = 0.0
    for _, value in p.items():
        total += value
    return math.log(total)


class Band:
    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def __contains__(self, v):
        return self.lo <= v <= self.hi


def banded_penalty(xs, width):
    """A penalty for values outside a tolerance band: quadratic outside, none inside."""
    band = Band(-width, width)
    return sum(0.0 if x in band else (abs(x) - width) ** 2 for x in xs)


class UndoStack:
    def __init__(self):
        self.states = []

    def push(self, s):
        self.states = self.states + [s]

    def pop(self):
        top = self.states[-1]
        self.states = self.states[:-1]
        return top


def backtracking_line_search(x0, g0):
    """Halves a step until the quadratic model decreases, undoing rejected steps."""
    stack = UndoStack()
    x, step = x0, 1.0
    for _ in range(4):
        stack.push(x)
        x = x - step * g0
        if (x - 0.3) ** 2 > (x0 - 0.3) ** 2:
            x = stack.pop()
            step *= 0.5
    return (x - 0.3) ** 2


# ---------------------------------------------------------------- partials, draws, dicts


RELU = functools.partial(np.maximum, 0.0)
CLIP_GRAD = functools.partial(np.clip, a_min=-1.0, a_max=1.0)


def two_layer_net(W1, W2, X, y):
    """A ReLU network whose activation is a module-level partial of np.maximum."""
    h = RELU(X @ W1)
    out = CLIP_GRAD(h @ W2)
    return np.mean((out[:, 0] - y) ** 2)


def mc_expected_payoff(sigma, strike):
    """Monte Carlo of a call payoff: standard draws scaled in place by the volatility."""
    rng = np.random.default_rng(7)
    z = rng.standard_normal(400)
    z *= sigma
    z += -0.5 * sigma * sigma
    prices = 100.0 * np.exp(z)
    return np.mean(np.maximum(prices - strike, 0.0))


def grouped_means_loss(values, labels, targets):
    """Squared error of per-group means against targets, grouped by a defaultdict."""
    sums = collections.defaultdict(float)
    counts = collections.defaultdict(int)
    for v, g in zip(values, labels):
        sums[g] += v
        counts[g] += 1
    return sum((sums[g] / counts[g] - targets[g]) ** 2 for g in sums)


def polynomial_features_loss(x, coef):
    """Features built as a growing tuple (``feats += (...)``), read next to the first."""
    base = (1.0, x)
    feats = base
    feats += (x * x, x ** 3)
    pred = sum(c * f for c, f in zip(coef, feats))
    return (pred - 2.0) ** 2 + 0.1 * sum(b * b for b in base)


# ---------------------------------------------------------------- windows and iterators


def warmup_weighted_error(preds, target):
    """Errors after a warm-up of 2 steps, each weighted by its position."""
    total = 0.0
    for i, p in itertools.islice(enumerate(preds), 2, None):
        total += i * (p - target) ** 2
    return total / len(preds)


def latest_pair_momentum(prices):
    """Momentum of the two latest prices, the window given maxlen by position."""
    window = collections.deque(prices, 2)
    return (window[-1] - window[0]) / window.maxlen


def paired_returns_cleared(prices):
    """Products of returns over non-overlapping pairs, the window cleared after each."""
    window = collections.deque(maxlen=2)
    score = 0.0
    for p in prices:
        window.append(p)
        if len(window) == window.maxlen:
            score += math.log(window[1] / window[0]) ** 2
            window.clear()
    return score


CASES = [
    Case("gamma_log_posterior", gamma_log_posterior,
         lambda rng: (GammaPrior(rng.uniform(1.5, 3.0), rng.uniform(0.5, 2.0)),
                      [3.0, 5.0, 2.0, 4.0]), wrt=0,
         note="a dataclass field named `shape`, read as the field"),
    Case("mixture_internal_energy", mixture_internal_energy,
         lambda rng: ([GasState(rng.uniform(250, 350), rng.uniform(1, 2), rng.uniform(0.5, 2))
                       for _ in range(3)],), wrt=0,
         note="namedtuples with a field `T`, a list annotated with their class"),
    Case("portfolio_log_value", portfolio_log_value,
         lambda rng: (list(rng.uniform(0.1, 1.0, size=4)), list(rng.uniform(10, 20, size=4))),
         wrt=(0, 1), note="a class's own items() in a loop"),
    Case("banded_penalty", banded_penalty,
         lambda rng: (list(rng.normal(scale=1.5, size=6)), 0.8), wrt=(0, 1),
         note="membership by the class's __contains__"),
    Case("backtracking_line_search", backtracking_line_search,
         lambda rng: (rng.uniform(1.0, 2.0), rng.uniform(2.0, 4.0)), wrt=(0, 1),
         note="a class's own pop, undoing rejected steps"),
    Case("two_layer_net", two_layer_net,
         lambda rng: (rng.normal(size=(3, 5)) * 0.5, rng.normal(size=(5, 1)) * 0.5,
                      rng.normal(size=(8, 3)), rng.normal(size=8)), wrt=(0, 1),
         note="module-level partials of np.maximum and np.clip"),
    Case("mc_expected_payoff", mc_expected_payoff,
         lambda rng: (rng.uniform(0.15, 0.35), rng.uniform(95.0, 105.0)), wrt=(0, 1),
         note="draws of a fixed distribution scaled in place"),
    Case("grouped_means_loss", grouped_means_loss,
         lambda rng: (list(rng.normal(size=8)), [0, 1, 2, 0, 1, 2, 0, 1],
                      {0: 0.1, 1: -0.2, 2: 0.3}), wrt=0,
         note="defaultdict sums and counts"),
    Case("polynomial_features_loss", polynomial_features_loss,
         lambda rng: (rng.uniform(0.5, 1.5), list(rng.normal(size=4))), wrt=(0, 1),
         note="a tuple grown by += beside its first name"),
    Case("warmup_weighted_error", warmup_weighted_error,
         lambda rng: (list(rng.normal(size=7)), 0.2), wrt=(0, 1),
         note="islice of enumerate: the position multiplies an item"),
    Case("latest_pair_momentum", latest_pair_momentum,
         lambda rng: (list(rng.uniform(90, 110, size=6)),), wrt=0,
         note="deque(prices, 2) and window.maxlen"),
    Case("paired_returns_cleared", paired_returns_cleared,
         lambda rng: (list(rng.uniform(90, 110, size=8)),), wrt=0,
         note="a deque window cleared after each pair"),
]
