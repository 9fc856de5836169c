"""Realistic programs of stop 38's classes: loops left by a branch that computes the
result (searches, solvers, landing times), loops with ``else:``, objects of the user's
classes tested for truth, written through ``__setitem__``, updating arrays in place or
holding arrays changed through other names, ``dataclasses.replace``, list and dict
default factories, comprehensions in parts of an expression Python may skip, version
guards, and KL divergences with zeros."""

import dataclasses
import math

import numpy as np
import scipy.special
from _spec import Case


def landing_distance(speed, drag):
    """A projectile with drag stepped until it lands; the landing point is interpolated
    in the branch that leaves the loop."""
    x, y = 0.0, 0.0
    vx, vy = speed * 0.8, speed * 0.6
    dt = 0.01
    for _ in range(2000):
        x_old, y_old = x, y
        vx -= drag * vx * dt
        vy -= (9.81 + drag * vy) * dt
        x += vx * dt
        y += vy * dt
        if y < 0.0:
            share = y_old / (y_old - y)
            return x_old + share * (x - x_old)
    return x


def secant_root(a, b):
    """The root of x**3 + a x - b by the secant method, in a `while True:` left by
    convergence (a return) or by the iteration budget (a break, then a fallback)."""
    x0, x1 = 0.0, 1.0
    f0 = x0 ** 3 + a * x0 - b
    count = 0
    while True:
        f1 = x1 ** 3 + a * x1 - b
        step = f1 * (x1 - x0) / (f1 - f0)
        x0, f0 = x1, f1
        x1 = x1 - step
        count += 1
        if abs(step) < 1e-13:
            return x1 * x1
        if count > 60:
            fallback = x1
            break
    return fallback ** 2


def backtracking_step(x, slope):
    """Armijo backtracking on a quadratic with a `for ... else:` fallback when no step
    length passes."""
    def loss(z):
        return 0.5 * (z - 2.0) ** 2 + 0.1 * z ** 4

    grad = (x - 2.0) + 0.4 * x ** 3
    step = 1.0
    for _ in range(30):
        trial = x - step * grad
        if loss(trial) <= loss(x) - slope * step * grad * grad:
            break
        step *= 0.5
    else:
        trial = x - 1e-6 * grad
    return loss(trial)


def damped_newton(a):
    """Newton's method for a x = exp(-x) with a `while ... else:` (the loop's test ends
    it, or a break when the step is tiny)."""
    x = 1.0
    k = 0
    while k < 50:
        g = a * x - math.exp(-x)
        step = g / (a + math.exp(-x))
        x -= step
        k += 1
        if abs(step) < 1e-14:
            break
    else:
        x = x * 1.0
    return x * a


class RingBuffer:
    def __init__(self):
        self.items = []

    def __len__(self):
        return len(self.items)


def smoothed_loss(values, alpha):
    """An exponential filter that starts from the first value while its buffer is empty
    (`if buffer:` tests the buffer's length, as Python does)."""
    buffer = RingBuffer()
    level = 0.0
    loss = 0.0
    for v in values:
        if buffer:
            loss += (v - level) ** 2
            level = alpha * v + (1.0 - alpha) * level
        else:
            level = v * 1.0
        buffer.items = buffer.items + [level]
    return loss / len(buffer)


class Field1D:
    def __init__(self, values):
        self.values = values

    def __getitem__(self, i):
        return self.values[i]

    def __setitem__(self, i, v):
        self.values[i] = v


def relaxed_field_energy(u0, omega):
    """Gauss-Seidel sweeps written through a field object's `__setitem__`."""
    field = Field1D(u0.copy())
    n = len(u0)
    for _ in range(3):
        for i in range(1, n - 1):
            field[i] += omega * (0.5 * (field[i - 1] + field[i + 1]) - field[i])
    return np.sum(field.values ** 2)


class Momentum:
    def __init__(self, lr, beta, shape):
        self.lr, self.beta = lr, beta
        self.velocity = np.zeros(shape)

    def step(self, w, g):
        self.velocity = self.beta * self.velocity + g
        w -= self.lr * self.velocity


def fitted_loss(lr, w0, X, y):
    """Least squares fitted by a momentum optimizer whose method updates the weights in
    place; the loss after four steps, as a function of the learning rate."""
    w = w0.copy()
    opt = Momentum(lr, 0.9, w.shape)
    for _ in range(4):
        opt.step(w, X.T @ (X @ w - y) / len(y))
    return 0.5 * np.mean((X @ w - y) ** 2)


class Rod:
    def __init__(self, u, dx):
        self.u = u
        self.dx = dx

    def heat(self):
        return np.sum(self.u ** 2) * self.dx


def rod_heat(u0, kappa):
    """Explicit diffusion written into `u` in place; the rod object holds the same array."""
    u = u0.copy()
    rod = Rod(u, 0.1)
    for _ in range(4):
        u[1:-1] += kappa * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return rod.heat()


def regularized_kl(logits, p):
    """A softmax fitted to a target with zeros, by KL divergence (xlogy: 0 log 0 = 0)."""
    q = scipy.special.softmax(logits)
    return np.sum(scipy.special.xlogy(p, p / q)) + 0.01 * np.sum(logits ** 2)


def guarded_average(xs, w):
    """An average that is 0.0 for no data, and a penalty only when every weighted value
    is positive (comprehensions in parts Python may skip)."""
    n = len(xs)
    mean = sum(v * w for v in xs) / n if n else 0.0
    if xs and all(v * w > -10.0 for v in xs):
        mean += 0.1 * sum((v * w) ** 2 for v in xs)
    return mean


@dataclasses.dataclass(frozen=True)
class Oscillator:
    x: float
    v: float
    k: float


def replaced_state_energy(k, c):
    """Symplectic Euler on a frozen dataclass updated with dataclasses.replace."""
    s = Oscillator(1.0, 0.0, k)
    for _ in range(20):
        v = s.v - 0.05 * (s.k * s.x + c * s.v)
        s = dataclasses.replace(s, x=s.x + 0.05 * v, v=v)
    return 0.5 * s.v ** 2 + 0.5 * s.k * s.x ** 2


@dataclasses.dataclass
class TrainingLog:
    decay: float
    losses: list = dataclasses.field(default_factory=list)


def logged_descent(lr, x0):
    """Gradient descent on a scalar quartic, logging losses in a dataclass list field."""
    log = TrainingLog(0.5)
    x = x0
    for _ in range(5):
        x = x - lr * (4.0 * x ** 3 - 2.0 * x)
        log.losses = log.losses + [x ** 4 - x ** 2]
    return sum(log.losses) * log.decay


def compatible_area(y, dx):
    """The area under samples by the trapezoid rule, under numpy 1 or 2."""
    if hasattr(np, "trapezoid"):
        return np.trapezoid(y * y, dx=dx)
    return np.trapz(y * y, dx=dx)


CASES = [
    Case("landing_distance", landing_distance,
         lambda rng: (rng.uniform(8.0, 12.0), rng.uniform(0.05, 0.2)), wrt=(0, 1)),
    Case("secant_root", secant_root,
         lambda rng: (rng.uniform(1.0, 2.0), rng.uniform(0.5, 1.5)), wrt=(0, 1)),
    Case("backtracking_step", backtracking_step,
         lambda rng: (rng.uniform(0.2, 0.8), rng.uniform(0.1, 0.3)), wrt=(0,)),
    Case("damped_newton", damped_newton,
         lambda rng: (rng.uniform(0.5, 2.0),), wrt=(0,)),
    Case("smoothed_loss", smoothed_loss,
         lambda rng: (list(rng.normal(size=6)), rng.uniform(0.2, 0.8)), wrt=(0, 1)),
    Case("relaxed_field_energy", relaxed_field_energy,
         lambda rng: (rng.normal(size=6), rng.uniform(0.8, 1.2)), wrt=(0, 1)),
    Case("fitted_loss", fitted_loss,
         lambda rng: (rng.uniform(0.05, 0.2), rng.normal(size=3), rng.normal(size=(6, 3)),
                      rng.normal(size=6)), wrt=(0, 1)),
    Case("rod_heat", rod_heat,
         lambda rng: (np.sin(np.linspace(0.0, 3.0, 7)) + 0.1 * rng.normal(size=7),
                      rng.uniform(0.1, 0.3)), wrt=(0, 1)),
    Case("regularized_kl", regularized_kl,
         lambda rng: (rng.normal(size=4), np.array([0.0, 0.2, 0.3, 0.5])), wrt=(0,)),
    Case("guarded_average", guarded_average,
         lambda rng: (list(rng.uniform(0.5, 1.5, size=4)), rng.uniform(0.5, 1.5)),
         wrt=(0, 1)),
    Case("replaced_state_energy", replaced_state_energy,
         lambda rng: (rng.uniform(1.0, 3.0), rng.uniform(0.05, 0.3)), wrt=(0, 1)),
    Case("logged_descent", logged_descent,
         lambda rng: (rng.uniform(0.01, 0.05), rng.uniform(0.5, 0.9)), wrt=(0, 1)),
    Case("compatible_area", compatible_area,
         lambda rng: (rng.normal(size=5), rng.uniform(0.1, 0.5)), wrt=(0, 1)),
]
