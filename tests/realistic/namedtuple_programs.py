"""Realistic programs with namedtuples made inside the differentiated function (states of
integrators and optimizers, results of helpers, a Kalman filter's (mean, cov) pair) and
alternative constructors (``Model.from_params(w, b)``, ``Gaussian.from_samples(xs)``)
of namedtuples, dataclasses and plain classes; and the refusals of what srcad does not
read (a namedtuple class's own operators, ``_make`` of a list a loop grows)."""

import collections
import dataclasses
import math
import typing

import numpy as np
from _spec import Case

# ---------------------------------------------------------------- integrators

Phase = collections.namedtuple("Phase", "q p")


def _rk4_step(s, dt, k, c):
    def rhs(u):
        return Phase(u.p, -k * u.q - c * u.p)

    def moved(u, d, h):
        return Phase(u.q + h * d.q, u.p + h * d.p)

    k1 = rhs(s)
    k2 = rhs(moved(s, k1, 0.5 * dt))
    k3 = rhs(moved(s, k2, 0.5 * dt))
    k4 = rhs(moved(s, k3, dt))
    return Phase(s.q + dt / 6.0 * (k1.q + 2.0 * k2.q + 2.0 * k3.q + k4.q),
                 s.p + dt / 6.0 * (k1.p + 2.0 * k2.p + 2.0 * k3.p + k4.p))


def damped_oscillator_rk4(q0, k, c):
    """RK4 of a damped oscillator, its state a namedtuple each stage makes."""
    s = Phase(q0, 0.0)
    for _ in range(40):
        s = _rk4_step(s, 0.05, k, c)
    return s.q ** 2 + 0.5 * s.p ** 2


class Predators(typing.NamedTuple):
    prey: float
    predators: float

    def rates(self, a, b, c, d):
        return Predators(a * self.prey - b * self.prey * self.predators,
                         c * self.prey * self.predators - d * self.predators)


def lotka_volterra(a, b):
    """Euler steps of Lotka-Volterra, a typing.NamedTuple with a method, unpacked at the end."""
    s = Predators(1.0, 0.5)
    for _ in range(60):
        r = s.rates(a, b, 0.4, 0.6)
        s = Predators(s.prey + 0.02 * r.prey, s.predators + 0.02 * r.predators)
    prey, predators = s
    return prey + 2.0 * predators


class Shot(typing.NamedTuple):
    x: float
    y: float
    vx: float
    vy: float
    drag: float = 0.1


def projectile_with_drag(speed, angle):
    """A projectile with quadratic drag, its state rebuilt by _replace."""
    s = Shot(0.0, 0.0, speed * math.cos(angle), speed * math.sin(angle))
    dt = 0.02
    for _ in range(50):
        v = math.sqrt(s.vx ** 2 + s.vy ** 2)
        s = s._replace(x=s.x + dt * s.vx, y=s.y + dt * s.vy,
                       vx=s.vx - dt * s.drag * v * s.vx,
                       vy=s.vy - dt * (9.81 + s.drag * v * s.vy))
    return s.x - 0.5 * s.y ** 2


# ---------------------------------------------------------------- optimizers

AdamState = collections.namedtuple("AdamState", "m v t")


def _adam_update(w, g, state, lr=0.1, b1=0.9, b2=0.999):
    t = state.t + 1
    m = b1 * state.m + (1 - b1) * g
    v = b2 * state.v + (1 - b2) * g * g
    m_hat = m / (1 - b1 ** t)
    v_hat = v / (1 - b2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + 1e-8), AdamState(m, v, t)


def adam_unrolled(w0, X, y):
    """Five Adam steps on a least-squares loss, the optimizer's state a namedtuple with
    an int counter; the loss after them (a meta-gradient through the steps)."""
    w = w0
    state = AdamState(np.zeros_like(w0), np.zeros_like(w0), 0)
    for _ in range(5):
        g = X.T @ (X @ w - y) / len(y)
        w, state = _adam_update(w, g, state)
    return float(np.sum((X @ w - y) ** 2))


# ---------------------------------------------------------------- results of helpers

Fit = collections.namedtuple("Fit", ["slope", "intercept", "residual"])


def _linear_fit(x, y):
    xm, ym = np.mean(x), np.mean(y)
    slope = np.sum((x - xm) * (y - ym)) / np.sum((x - xm) ** 2)
    intercept = ym - slope * xm
    return Fit(slope=slope, intercept=intercept,
               residual=np.sum((y - slope * x - intercept) ** 2))


def calibrated_loss(y, x):
    """A helper's result as a namedtuple: fields read by name and by position."""
    fit = _linear_fit(x, y)
    return fit.residual + 0.5 * fit[0] ** 2 + fit.intercept * fit[-1]


class Gaussian(typing.NamedTuple):
    mean: float
    var: float

    @classmethod
    def from_samples(cls, xs):
        m = np.mean(xs)
        return cls(m, np.mean((xs - m) ** 2))

    def logpdf(self, x):
        return -0.5 * np.log(2.0 * np.pi * self.var) - 0.5 * (x - self.mean) ** 2 / self.var


def gaussian_fit_loglik(xs, x_new):
    """A Gaussian fitted by an alternative constructor, its log density at new points."""
    g = Gaussian.from_samples(xs)
    return float(np.sum(g.logpdf(x_new)))


# ---------------------------------------------------------------- a Kalman filter

Belief = collections.namedtuple("Belief", "mean cov")


def _predict(b, F, Q):
    return Belief(F @ b.mean, F @ b.cov @ F.T + Q)


def _update(b, z, H, R):
    S = H @ b.cov @ H.T + R
    K = b.cov @ H.T @ np.linalg.inv(S)
    innovation = z - H @ b.mean
    return Belief(b.mean + K @ innovation, (np.eye(len(b.mean)) - K @ H) @ b.cov), S, innovation


def kalman_nll(q, zs):
    """A constant-velocity Kalman filter's negative log likelihood in the process noise,
    its (mean, cov) pair a namedtuple each step makes."""
    F = np.array([[1.0, 0.1], [0.0, 1.0]])
    H = np.array([[1.0, 0.0]])
    Q = q * np.array([[0.01, 0.05], [0.05, 1.0]]) * 0.1
    R = np.array([[0.25]])
    belief = Belief(np.zeros(2), np.eye(2))
    nll = 0.0
    for z in zs:
        belief = _predict(belief, F, Q)
        belief, S, innovation = _update(belief, np.array([z]), H, R)
        nll = nll + 0.5 * (np.log(np.linalg.det(S)) + innovation @ np.linalg.solve(S, innovation))
    return float(nll)


# ---------------------------------------------------------------- alternative constructors


@dataclasses.dataclass
class Affine:
    W: np.ndarray
    b: np.ndarray

    @classmethod
    def from_params(cls, params):
        return cls(params["W"], params["b"])

    @classmethod
    def identity_plus(cls, W):
        return cls.from_params({"W": np.eye(len(W)) + W, "b": np.zeros(len(W))})

    def __call__(self, x):
        return np.tanh(self.W @ x + self.b)


def two_affine_layers(W1, b1, x):
    """Layers made by classmethods (one calling another), called through __call__."""
    first = Affine.from_params({"W": W1, "b": b1})
    second = Affine.identity_plus(0.5 * W1)
    return float(np.sum(second(first(x)) ** 2))


class Spring:
    def __init__(self, k, rest):
        self.k = k
        self.rest = rest

    @classmethod
    def between(cls, a, b, k):
        return cls(k, abs(b - a))

    def energy(self, length):
        return 0.5 * self.k * (length - self.rest) ** 2


def spring_chain(xs, k):
    """A chain of springs made by an alternative constructor of a plain class."""
    springs = [Spring.between(0.0, 1.0, k), Spring.between(1.0, 2.5, 2.0 * k)]
    total = 0.0
    for spring, (a, b) in zip(springs, ((xs[0], xs[1]), (xs[1], xs[2]))):
        total = total + spring.energy(b - a)
    return total


# ---------------------------------------------------------------- refusals


class Vec(typing.NamedTuple):
    x: float
    y: float

    def __add__(self, other):
        return Vec(self.x + other.x, self.y + other.y)


def vectors_added(a, b):
    """A namedtuple class with its own `+` (a tuple's would join them): refused."""
    v = Vec(a, b)
    w = v + Vec(b, a)
    return w.x * w.y


def made_from_a_grown_list(a, b):
    """``_make`` of a list a loop grows (its items unknown when srcad compiles): refused."""
    items = []
    for k in range(2):
        items.append(a * (k + 1) + b)
    s = Phase._make(items)
    return s.q * s.p


def _regression(rng):
    X = rng.normal(size=(8, 3))
    return rng.normal(size=3), X, X @ np.array([0.5, -1.0, 2.0]) + 0.1 * rng.normal(size=8)


CASES = [
    Case("damped_oscillator_rk4", damped_oscillator_rk4,
         lambda rng: (rng.uniform(0.5, 1.5), rng.uniform(1.0, 3.0), rng.uniform(0.1, 0.5)),
         wrt=(0, 1, 2), note="RK4 stages each making a namedtuple, carried by the loop"),
    Case("lotka_volterra", lotka_volterra,
         lambda rng: (rng.uniform(0.8, 1.2), rng.uniform(0.3, 0.6)), wrt=(0, 1),
         note="typing.NamedTuple with a method returning one, unpacked at the end"),
    Case("projectile_with_drag", projectile_with_drag,
         lambda rng: (rng.uniform(8.0, 12.0), rng.uniform(0.5, 1.0)), wrt=(0, 1),
         note="_replace of several fields, a default field"),
    Case("adam_unrolled", adam_unrolled, _regression, wrt=0,
         note="an optimizer's state namedtuple with an int counter, returned by a helper"),
    Case("calibrated_loss", calibrated_loss,
         lambda rng: (rng.normal(size=7), np.linspace(0.0, 1.0, 7)), wrt=0,
         note="a helper's result namedtuple, read by field and position"),
    Case("gaussian_fit_loglik", gaussian_fit_loglik,
         lambda rng: (rng.normal(size=6), rng.normal(size=3)), wrt=(0, 1),
         note="a classmethod of a typing.NamedTuple, its method inlined"),
    Case("kalman_nll", kalman_nll,
         lambda rng: (rng.uniform(0.5, 2.0), rng.normal(size=6)), wrt=0,
         note="a Kalman filter's (mean, cov) namedtuple, returned in a tuple by a helper"),
    Case("two_affine_layers", two_affine_layers,
         lambda rng: (0.5 * rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3)),
         wrt=(0, 1), note="dataclass classmethods, one calling another through cls"),
    Case("spring_chain", spring_chain,
         lambda rng: (np.array([0.0, 1.2, 2.3]) + 0.1 * rng.normal(size=3),
                      rng.uniform(1.0, 2.0)), wrt=(0, 1),
         note="a plain class's classmethod, objects in a list display"),
    Case("vectors_added", vectors_added, lambda rng: (rng.normal(), rng.normal()),
         wrt=(0, 1), expect="LOCATED", bad="v = Vec(a, b)", msg=("__add__",),
         note="a namedtuple class's own operator"),
    Case("made_from_a_grown_list", made_from_a_grown_list,
         lambda rng: (rng.normal(), rng.normal()), wrt=(0, 1), expect="LOCATED",
         bad="Phase._make(items)", msg=("_make",), note="_make of a list a loop grows"),
]
