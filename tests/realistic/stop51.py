"""Realistic programs of stop 51's area: a grid of lists stepped in time (rows handed over
after their last write); a config's activation picked through a local key; state objects
a time loop rebuilds with ``dataclasses.replace`` or copies; Monte Carlo and variational
objectives whose draws a differentiated value sets (pathwise); summaries with the
``statistics`` module; image smoothing with ``scipy.ndimage``; a Fréchet distance of
covariances through ``sqrtm``; an implicit heat step with ``solve_banded``; a von Mises
likelihood (``np.i0``); a convolution written with its boundary options spelled out; roots
of equations by ``scipy.optimize`` (a friction factor, a gas's volume)."""

import copy
import dataclasses
import math
import random
import statistics

import numpy as np
import scipy.linalg
import scipy.ndimage
import scipy.optimize
import scipy.signal
from _spec import Case

# ---------------------------------------------------------------- lists, configs


def heat_plate_on_lists(T, alpha):
    """Explicit heat steps on a plate kept as a list of rows."""
    n, m = len(T), len(T[0])
    for _ in range(4):
        new = [list(row) for row in T]
        for i in range(1, n - 1):
            for j in range(1, m - 1):
                lap = T[i - 1][j] + T[i + 1][j] + T[i][j - 1] + T[i][j + 1] - 4.0 * T[i][j]
                new[i][j] = T[i][j] + alpha * lap
        T = new
    return sum(v * v for row in T for v in row)


ACTIVATIONS = {"tanh": np.tanh, "softplus": lambda z: np.logaddexp(0.0, z)}
CONFIG = {"hidden": "softplus", "width": 3}


def configured_layer(W, x):
    kind = CONFIG["hidden"]
    act = ACTIVATIONS[kind]
    return float(np.sum(act(W @ x) ** 2))


# ---------------------------------------------------------------- state objects


@dataclasses.dataclass
class Body:
    q: np.ndarray
    p: np.ndarray


def leapfrog_energy(body: Body, k, dt):
    """Leapfrog steps of a spring, each a new state (dataclasses.replace)."""
    for _ in range(20):
        half = body.p - 0.5 * dt * k * body.q
        body = dataclasses.replace(body, q=body.q + dt * half)
        body = dataclasses.replace(body, p=half - 0.5 * dt * k * body.q)
    return float(np.sum(body.p ** 2) + k * np.sum(body.q ** 2))


def damped_step_on_a_copy(body, gamma):
    """One damped Euler step on a copy of the state, its fields set."""
    nxt = copy.copy(body)
    nxt.p = body.p * (1.0 - gamma) - 0.1 * body.q
    nxt.q = body.q + 0.1 * nxt.p
    return float(np.sum(nxt.q ** 2) + np.sum(nxt.p * body.p))


# ---------------------------------------------------------------- draws


def elbo_reparameterized(mu, log_sigma, data):
    """A Monte Carlo ELBO of a Gaussian posterior over a mean, by reparameterized draws."""
    rng = np.random.default_rng(0)
    sigma = np.exp(log_sigma)
    theta = rng.normal(mu, sigma, size=64)
    loglik = -0.5 * np.sum((data[None, :] - theta[:, None]) ** 2, axis=1)
    prior = -0.5 * theta ** 2
    return float(np.mean(loglik + prior) + log_sigma)


def barrier_option_delta_vega(S0, vol):
    """A down-and-out call by Monte Carlo on a grid (smoothed barrier)."""
    rng = np.random.default_rng(3)
    n_paths, n_steps, dt = 200, 12, 1.0 / 12
    S = np.full(n_paths, S0)
    alive = np.ones(n_paths)
    for _ in range(n_steps):
        S = S * np.exp(-0.5 * vol ** 2 * dt + vol * math.sqrt(dt) * rng.normal(0.0, 1.0, n_paths))
        alive = alive / (1.0 + np.exp(-(S - 0.8) * 40.0))
    return float(np.mean(alive * np.logaddexp(0.0, 10.0 * (S - 1.0)) / 10.0))


def jittered_service_time(rate, spread):
    """Python's random module: an exponential wait plus a uniform jitter."""
    random.seed(11)
    total = 0.0
    for _ in range(5):
        total += random.expovariate(rate) + random.uniform(-spread, spread)
    return total


# ---------------------------------------------------------------- statistics, libraries


def robust_zscore_loss(xs):
    """Standardized residuals by the statistics module, a Huber-like penalty."""
    centre, scale = statistics.median(xs), statistics.pstdev(xs)
    return sum(math.sqrt(1.0 + ((x - centre) / scale) ** 2) for x in xs)


def denoised_image_loss(image, noisy):
    """A smoothed image against noisy data, with a roughness penalty."""
    smooth = scipy.ndimage.gaussian_filter(image, sigma=1.2, mode="nearest")
    fit = np.sum((smooth - noisy) ** 2)
    rough = np.sum(np.diff(image, axis=0) ** 2) + np.sum(np.diff(image, axis=1) ** 2)
    return float(fit + 0.1 * rough)


def frechet_distance(mu1, A1, mu2, A2):
    """The Fréchet distance of two Gaussians (the FID's formula)."""
    S1, S2 = A1 @ A1.T + np.eye(3), A2 @ A2.T + np.eye(3)
    cross = scipy.linalg.sqrtm(S1 @ S2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(S1 + S2 - 2.0 * cross))


def implicit_heat_rod(u0, kappa):
    """Backward-Euler heat steps on a rod: a tridiagonal solve per step."""
    n = len(u0)
    r = kappa * 0.1 / 0.05 ** 2
    ab = np.zeros((3, n))
    ab[0, 1:] = -r
    ab[1, :] = 1.0 + 2.0 * r
    ab[2, :-1] = -r
    u = u0
    for _ in range(5):
        u = scipy.linalg.solve_banded((1, 1), ab, u)
    return float(np.sum(u ** 2))


def von_mises_loglik(mu, kappa, angles):
    return float(np.sum(kappa * np.cos(angles - mu)) - len(angles) * np.log(2 * np.pi * np.i0(kappa)))


def edge_energy(image, kernel):
    out = scipy.signal.convolve2d(image, kernel, mode="same", boundary="fill", fillvalue=0)
    return float(np.sum(np.tanh(out) ** 2))


def colebrook_pressure_drop(log_roughness, reynolds, velocity):
    """The Darcy friction factor from the Colebrook equation (a root), then a pressure drop."""
    roughness = 10.0 ** log_roughness

    def residual(f):
        return 1.0 / math.sqrt(f) + 2.0 * math.log10(
            roughness / 3.7 + 2.51 / (reynolds * math.sqrt(f)))
    f = scipy.optimize.brentq(residual, 1e-4, 0.2, xtol=1e-15)
    return f * 100.0 * velocity ** 2 / 2.0


def van_der_waals_volume(T, a, b):
    """A van der Waals gas's molar volume at 1 atm, by Newton's method from the ideal gas's."""
    R, P = 0.082057, 1.0
    return scipy.optimize.newton(lambda V: (P + a / V ** 2) * (V - b) - R * T, R * T / P,
                                 tol=1e-14, maxiter=100)


def _body(rng):
    return (Body(rng.normal(size=3), rng.normal(size=3)),)


CASES = [
    Case("heat_plate_on_lists", heat_plate_on_lists,
         lambda rng: ([[float(v) for v in row] for row in rng.normal(size=(4, 5))], 0.1),
         wrt=(0, 1), note="new rows each step, handed over after the last write"),
    Case("configured_layer", configured_layer,
         lambda rng: (rng.normal(size=(3, 4)), rng.normal(size=4)), wrt=0,
         note="an activation picked through a local key bound to a config's item"),
    Case("leapfrog_energy", leapfrog_energy,
         lambda rng: (*_body(rng), rng.uniform(1.0, 2.0), 0.05), wrt=(0, 1),
         note="a parameter object rebuilt by dataclasses.replace in a loop"),
    Case("damped_step_on_a_copy", damped_step_on_a_copy,
         lambda rng: (*_body(rng), rng.uniform(0.1, 0.3)), wrt=(0, 1),
         note="copy.copy of a parameter object, its fields set"),
    Case("elbo_reparameterized", elbo_reparameterized,
         lambda rng: (rng.normal(), rng.uniform(-1.0, 0.0), rng.normal(size=5)), wrt=(0, 1),
         note="rng.normal(mu, sigma): pathwise"),
    Case("barrier_option_delta_vega", barrier_option_delta_vega,
         lambda rng: (rng.uniform(0.9, 1.1), rng.uniform(0.15, 0.3)), wrt=(0, 1),
         note="Monte Carlo paths, draws of a fixed distribution"),
    Case("jittered_service_time", jittered_service_time,
         lambda rng: (rng.uniform(1.0, 2.0), rng.uniform(0.1, 0.5)), wrt=(0, 1),
         note="random.expovariate and random.uniform of differentiated parameters"),
    Case("robust_zscore_loss", robust_zscore_loss,
         lambda rng: ([float(v) for v in rng.normal(size=7)],), wrt=0,
         note="statistics.median and pstdev"),
    Case("denoised_image_loss", denoised_image_loss,
         lambda rng: (rng.normal(size=(6, 5)), rng.normal(size=(6, 5))), wrt=0,
         note="scipy.ndimage.gaussian_filter"),
    Case("frechet_distance", frechet_distance,
         lambda rng: (rng.normal(size=3), rng.normal(size=(3, 3)), rng.normal(size=3),
                      rng.normal(size=(3, 3))), wrt=(0, 1, 3),
         note="scipy.linalg.sqrtm of a product of covariances"),
    Case("implicit_heat_rod", implicit_heat_rod,
         lambda rng: (rng.normal(size=8), rng.uniform(0.01, 0.05)), wrt=(0, 1),
         note="scipy.linalg.solve_banded in a time loop"),
    Case("von_mises_loglik", von_mises_loglik,
         lambda rng: (rng.normal(), rng.uniform(0.5, 3.0), rng.uniform(-3.0, 3.0, size=9)),
         wrt=(0, 1), note="np.i0 of the concentration"),
    Case("colebrook_pressure_drop", colebrook_pressure_drop,
         lambda rng: (rng.uniform(-5.0, -3.0), rng.uniform(1e4, 1e6), rng.uniform(1.0, 3.0)),
         wrt=(0, 2), note="scipy.optimize.brentq of a nested def closing over parameters"),
    Case("van_der_waals_volume", van_der_waals_volume,
         lambda rng: (rng.uniform(250.0, 350.0), rng.uniform(1.0, 5.0), rng.uniform(0.02, 0.05)),
         wrt=(0, 1, 2), note="scipy.optimize.newton of a lambda"),
    Case("edge_energy", edge_energy,
         lambda rng: (rng.normal(size=(5, 6)), rng.normal(size=(3, 3))), wrt=(0, 1),
         note="convolve2d with its default boundary written out"),
]
