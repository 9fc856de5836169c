"""Realistic programs of stop 47's area: objects the function makes and updates in loops
(particles, a filter's state, an optimizer's velocity), matrices as lists of rows read
item by item, frozen scipy.stats distributions, squares of norms at zero (a ridge
Newton step), scipy.special's robust losses and transforms, positions computed from a
loop's counter, a value spread into a display, and a global model object called."""

import math

import numpy as np
from _spec import Case
from scipy import special, stats

# ---------------------------------------------------------------- objects made inside


class Particle:
    def __init__(self, x, y, vx, vy):
        self.x, self.y, self.vx, self.vy = x, y, vx, vy

    def kick(self, ax, ay, dt):
        self.vx += ax * dt
        self.vy += ay * dt

    def drift(self, dt):
        self.x += self.vx * dt
        self.y += self.vy * dt


def orbit_energy_drift(gm, vy0):
    """A body around a central mass by leapfrog, 40 steps: how far its energy drifts."""
    p = Particle(1.0, 0.0, 0.0, vy0)
    dt = 0.05
    for _ in range(40):
        r3 = (p.x * p.x + p.y * p.y) ** 1.5
        p.kick(-gm * p.x / r3, -gm * p.y / r3, 0.5 * dt)
        p.drift(dt)
        r3 = (p.x * p.x + p.y * p.y) ** 1.5
        p.kick(-gm * p.x / r3, -gm * p.y / r3, 0.5 * dt)
    energy = 0.5 * (p.vx * p.vx + p.vy * p.vy) - gm / math.hypot(p.x, p.y)
    return energy + 0.5 * vy0 * vy0 - gm


def kalman_nll(q, r, observations):
    """A local-level Kalman filter whose state lives in a dict; the negative
    log-likelihood of the observations."""
    state = {"mean": 0.0, "var": 1.0}
    nll = 0.0
    for z in observations:
        state["var"] += q
        s = state["var"] + r
        innovation = z - state["mean"]
        nll += 0.5 * (math.log(2 * math.pi * s) + innovation * innovation / s)
        gain = state["var"] / s
        state["mean"] += gain * innovation
        state["var"] *= 1.0 - gain
    return nll


class Momentum:
    def __init__(self, rate, beta):
        self.rate, self.beta, self.velocity = rate, beta, 0.0

    def step(self, w, grad):
        self.velocity = self.beta * self.velocity + grad
        return w - self.rate * self.velocity


def tuned_descent(log_rate, beta):
    """Heavy-ball descent on a 1-D quartic for 25 steps: the final loss, as a function of
    the (log) learning rate and the momentum (hyperparameter gradients)."""
    opt = Momentum(0.01 * math.exp(log_rate), beta)
    w = 2.0
    for _ in range(25):
        w = opt.step(w, 4.0 * w ** 3 - 2.0 * w + 0.5)
    return w ** 4 - w ** 2 + 0.5 * w


# ---------------------------------------------------------------- lists of rows


def quadratic_form(a, x):
    """x^T A x + b^T x with A a list of rows, summed item by item."""
    total = 0.0
    for i in range(len(a)):
        row = 0.0
        for j in range(len(x)):
            row += a[i][j] * x[j]
        total += x[i] * row
    return total + 0.5 * sum(x)


def jacobi_solve(a, b):
    """Eight Jacobi sweeps on a diagonally dominant system given as lists of rows: the
    squared residual of the iterate."""
    n = len(b)
    x = [0.0] * n
    for _ in range(8):
        new = [0.0] * n
        for i in range(n):
            off = 0.0
            for j in range(n):
                if j != i:
                    off += a[i][j] * x[j]
            new[i] = (b[i] - off) / a[i][i]
        x = new
    return sum((b[i] - sum(a[i][j] * x[j] for j in range(n))) ** 2 for i in range(n)) + x[0]


def polyline_length(xs, ys):
    """The length of a closed polygon's outline: the next vertex by (i + 1) % n."""
    n = len(xs)
    total = 0.0
    for i in range(n):
        j = (i + 1) % n
        total += math.sqrt((xs[j] - xs[i]) ** 2 + (ys[j] - ys[i]) ** 2)
    return total


# ---------------------------------------------------------------- statistics

DATA = np.array([1.2, 0.4, 2.9, 1.7, 0.8, 2.2, 1.5])


def frozen_normal_nll(mu, log_sigma):
    d = stats.norm(mu, math.exp(log_sigma))
    return -np.sum(d.logpdf(DATA)) - d.logcdf(3.5)


def two_component_mixture(mu1, mu2, logit_w):
    """A two-normal mixture's log-likelihood, each component a frozen distribution."""
    w = special.expit(logit_w)
    a, b = stats.norm(mu1, 0.6), stats.norm(loc=mu2, scale=0.9)
    joint = np.stack([np.log(w) + a.logpdf(DATA), np.log1p(-w) + b.logpdf(DATA)])
    return -np.sum(special.logsumexp(joint, axis=0))


X_DESIGN = np.array([[1.0, 0.5, -0.2], [1.0, -1.0, 0.4], [1.0, 1.5, 0.3], [1.0, 0.1, -1.1]])
Y_TARGET = np.array([0.7, -0.4, 2.1, 0.2])


def ridge_objective(w):
    """A ridge regression objective; its Hessian at zero weights is a Newton step's."""
    return np.sum((X_DESIGN @ w - Y_TARGET) ** 2) + 0.3 * np.linalg.norm(w) ** 2


def ridge_gradient(w):
    return 2 * X_DESIGN.T @ (X_DESIGN @ w - Y_TARGET) + 0.6 * w


def huber_regression(w, delta):
    residual = X_DESIGN @ w - Y_TARGET
    return np.sum(special.huber(delta, residual)) + 0.1 * np.sum(special.pseudo_huber(1.0, w))


def box_cox_loglik(lam, shift):
    """The profile log-likelihood of a Box-Cox transformation of shifted data."""
    y = special.boxcox(DATA + shift, lam)
    n = len(DATA)
    return -0.5 * n * np.log(np.var(y)) + (lam - 1.0) * np.sum(np.log(DATA + shift))


def design_with_intercept(x, beta):
    """Features built by spreading the inputs into a list: [1, x..., x0 * x1]."""
    features = np.array([1.0, *x, x[0] * x[1]])
    return float(features @ beta) ** 2


class Cubic:
    def __init__(self, coefficients):
        self.coefficients = coefficients

    def __call__(self, t):
        out = 0.0
        for c in reversed(self.coefficients):
            out = out * t + c
        return out


RESPONSE = Cubic([0.2, -1.0, 0.5, 0.25])


def response_energy(t, gain):
    """A global model object called as a function."""
    return gain * RESPONSE(t) ** 2 + RESPONSE(0.5 * t)


CASES = [
    Case("orbit_energy_drift", orbit_energy_drift,
         lambda rng: (1.0 + 0.1 * rng.random(), 0.9 + 0.1 * rng.random()), wrt=(0, 1),
         note="a particle object made inside, its methods updating its fields"),
    Case("kalman_nll", kalman_nll,
         lambda rng: (0.1 + 0.1 * rng.random(), 0.5 + 0.1 * rng.random(),
                      list(np.cumsum(rng.normal(size=8)))), wrt=(0, 1),
         note="a filter's state in a dict updated by key in a loop"),
    Case("tuned_descent", tuned_descent,
         lambda rng: (0.2 * rng.random(), 0.5 + 0.1 * rng.random()), wrt=(0, 1),
         note="an optimizer object's velocity field, hyperparameter gradients"),
    Case("quadratic_form", quadratic_form,
         lambda rng: ([list(r) for r in rng.normal(size=(4, 4))], list(rng.normal(size=4))),
         wrt=(0, 1), note="rows of a list read item by item at loop counters"),
    Case("jacobi_solve", jacobi_solve,
         lambda rng: ([[4.0 + rng.random(), 0.5, -0.3], [0.2, 5.0 + rng.random(), 0.4],
                       [-0.1, 0.6, 3.0 + rng.random()]], list(rng.normal(size=3))),
         wrt=(0, 1), note="a solver's sweeps over lists of rows"),
    Case("polyline_length", polyline_length,
         lambda rng: (list(np.cos(np.linspace(0, 6, 7)) + 0.1 * rng.random(7)),
                      list(np.sin(np.linspace(0, 6, 7)))), wrt=(0, 1),
         note="the next vertex at (i + 1) % n"),
    Case("frozen_normal_nll", frozen_normal_nll,
         lambda rng: (1.0 + 0.5 * rng.random(), -0.3 + 0.2 * rng.random()), wrt=(0, 1),
         note="a frozen scipy.stats distribution"),
    Case("two_component_mixture", two_component_mixture,
         lambda rng: (0.6 + 0.2 * rng.random(), 2.0 + 0.3 * rng.random(), 0.1 * rng.random()),
         wrt=(0, 1, 2), note="two frozen distributions and logsumexp"),
    Case("ridge_objective", ridge_objective, lambda rng: (np.zeros(3),), wrt=0,
         kind="hessian", ref=ridge_gradient, points=1,
         note="the Hessian of a squared norm at zero weights: a Newton step's"),
    Case("huber_regression", huber_regression,
         lambda rng: (rng.normal(size=3), 0.5 + 0.2 * rng.random()), wrt=(0, 1),
         note="scipy.special's Huber and pseudo-Huber losses"),
    Case("box_cox_loglik", box_cox_loglik,
         lambda rng: (0.3 + 0.4 * rng.random(), 0.5 + 0.2 * rng.random()), wrt=(0, 1),
         note="scipy.special.boxcox in a profile likelihood"),
    Case("design_with_intercept", design_with_intercept,
         lambda rng: (rng.normal(size=2), rng.normal(size=4)), wrt=(0, 1),
         note="a value spread into a list display"),
    Case("response_energy", response_energy,
         lambda rng: (0.3 + 0.4 * rng.random(), 1.0 + rng.random()), wrt=(0, 1),
         note="a global object with __call__"),
]
