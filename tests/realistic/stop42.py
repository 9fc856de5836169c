"""Realistic programs of stop 42's area: kernels and embeddings over SciPy's pairwise
distances, linear ODEs by the matrix exponential, robust statistics,
variance processes truncated at zero, column-major state updated through flat views, a
model object that keeps its caller's weight list, and loops of two float parameters
(forward mode by local partial derivatives)."""

import math

import numpy as np
from _spec import Case
from scipy.linalg import expm
from scipy.spatial.distance import cdist, pdist


def gp_marginal_likelihood(log_lengthscale, log_noise, x, y):
    """A Gaussian process's negative log marginal likelihood, RBF kernel from cdist."""
    ell = np.exp(log_lengthscale)
    k = np.exp(-0.5 * cdist(x, x, "sqeuclidean") / ell**2)
    k = k + np.exp(2.0 * log_noise) * np.eye(len(y))
    chol = np.linalg.cholesky(k)
    alpha = np.linalg.solve(k, y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(chol)))


def mds_stress(embedding, targets):
    """Metric multidimensional scaling: embedded pair distances against targets."""
    return np.sum((pdist(embedding) - targets) ** 2) / np.sum(targets**2)


def soft_kmeans_cost(centres, points, temperature):
    """Soft k-means: each point's softmin-weighted distance to the centres (cityblock)."""
    d = cdist(points, centres, "cityblock")
    w = np.exp(-d / temperature)
    w = w / np.sum(w, axis=1, keepdims=True)
    return np.sum(w * d)


def compartment_exit(rates, t):
    """A three-compartment linear model x' = A x, solved by the matrix exponential."""
    a = np.array([[-rates[0], 0.0, 0.0],
                  [rates[0], -rates[1], 0.0],
                  [0.0, rates[1], -rates[2]]])
    x = expm(a * t) @ np.array([1.0, 0.0, 0.0])
    return x[2] + 0.5 * x[1]


def robust_scale(x):
    """A median-centred, MAD-scaled score, written with numpy's NaN-ignoring statistics
    (the data here has no gaps: see the closing note of stop 42 on NaN gaps)."""
    centre = np.nanmedian(x, axis=0)
    spread = np.nanmedian(np.abs(x - centre), axis=0)
    z = (x - centre) / (1.4826 * spread)
    return np.nansum(np.tanh(z) ** 2) + np.sum(np.nanpercentile(x, [25.0, 75.0], axis=0))


def heston_call(v0, kappa, theta, xi, normals):
    """A Heston call price by full-truncation Euler with fixed normals."""
    dt, s, v = 0.05, np.full(normals.shape[1], 100.0), np.full(normals.shape[1], v0)
    for step in range(normals.shape[0]):
        vp = np.maximum(v, 0.0)
        s = s * np.exp(-0.5 * vp * dt + np.sqrt(vp * dt) * normals[step, :, 0])
        v = v + kappa * (theta - vp) * dt + xi * np.sqrt(vp * dt) * normals[step, :, 1]
    return np.mean(np.maximum(s - 100.0, 0.0))


def cir_bond(r0, kappa, theta, sigma):
    """A CIR short rate, scalar Euler with truncation, and the bond's discount."""
    r, integral, dt = r0, 0.0, 0.1
    for k in range(20):
        rp = max(r, 0.0)
        integral += rp * dt
        r = r + kappa * (theta - rp) * dt + sigma * math.sqrt(rp * dt) * math.sin(1.7 * k)
    return math.exp(-integral)


def column_major_diffusion(u0, rate):
    """A 2-D field stored column-major (as Fortran code does), smoothed through its flat
    memory view."""
    u = np.asfortranarray(u0 * 1.0)
    flat = u.ravel(order="K")
    for _ in range(3):
        flat[1:] += rate * (flat[:-1] - flat[1:])
    return np.sum(u * np.arange(u.size).reshape(u.shape))


def vec_trick(m, v):
    """MATLAB's vec and unvec (column-major reshapes), a column scaled through the view."""
    grid = v.reshape(3, 2, order="F")
    grid[:, 1] *= 0.5
    return np.sum((m @ grid) ** 2) + np.sum(v.reshape(-1, order="F") * np.arange(6.0))


class _Perceptron:
    def __init__(self, weights, rate):
        self.w = weights
        self.rate = rate

    def step(self, x, target):
        score = sum(wi * xi for wi, xi in zip(self.w, x))
        for i in range(len(self.w)):
            self.w[i] += self.rate * (target - math.tanh(score)) * x[i]


def perceptron_weights(w0, w1, rate):
    """A model that keeps (and trains) its caller's weight list, read back by the caller."""
    weights = [w0, w1]
    model = _Perceptron(weights, rate)
    for x, t in (((1.0, 0.5), 1.0), ((-0.3, 1.2), -1.0), ((0.8, -0.7), 1.0)):
        model.step(x, t)
    return weights[0] ** 2 + weights[1] ** 2


def lanczos_log_gamma(z):
    """log Gamma by Lanczos' series, accumulated with += from a table."""
    g = 7
    coef = [0.99999999999980993, 676.5203681218851, -1259.1392167224028,
            771.32342877765313, -176.61502916214059, 12.507343278686905,
            -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7]
    z -= 1.0
    x = coef[0]
    for i in range(1, g + 2):
        x += coef[i] / (z + i)
    t = z + g + 0.5
    return 0.5 * math.log(2 * math.pi) + (z + 0.5) * math.log(t) - t + math.log(x)


def backward_recurrence(x, scale):
    """Miller's backward recurrence for a ratio of Bessel-like values, reversed(range)."""
    b_next, b = 0.0, 1e-30
    for k in reversed(range(1, 25)):
        b_next, b = b, 2.0 * k / x * b - b_next
    return scale * b_next / b


def predator_prey(alpha, beta):
    """Lotka-Volterra by RK2, with respect to two rates (forward mode, two directions)."""
    prey, predators, dt = 10.0, 5.0, 0.01
    for _ in range(400):
        dp = alpha * prey - beta * prey * predators
        dq = 0.02 * prey * predators - 0.5 * predators
        mid_p, mid_q = prey + 0.5 * dt * dp, predators + 0.5 * dt * dq
        prey += dt * (alpha * mid_p - beta * mid_p * mid_q)
        predators += dt * (0.02 * mid_p * mid_q - 0.5 * mid_q)
    return prey / predators


_RNG = np.random.default_rng(42)
_X = _RNG.normal(size=(6, 2))

CASES = [
    Case("gp_marginal_likelihood", gp_marginal_likelihood,
         lambda rng: (0.1 * rng.normal(), -1.0 + 0.1 * rng.normal(), _X, np.sin(_X[:, 0])),
         wrt=(0, 1, 2)),
    Case("mds_stress", mds_stress,
         lambda rng: (rng.normal(size=(5, 2)), 1.0 + rng.random(10)), wrt=0),
    Case("soft_kmeans_cost", soft_kmeans_cost,
         lambda rng: (rng.normal(size=(3, 2)), rng.normal(size=(8, 2)), 0.7), wrt=(0, 2)),
    Case("compartment_exit", compartment_exit,
         lambda rng: (0.5 + rng.random(3), 1.5), wrt=(0, 1)),
    Case("robust_scale", robust_scale, lambda rng: (rng.normal(size=(7, 3)),), wrt=0),
    Case("heston_call", heston_call,
         lambda rng: (0.04, 1.5, 0.04, 0.9, 2.0 * rng.normal(size=(6, 5, 2))), wrt=(0, 1, 2, 3)),
    Case("cir_bond", cir_bond,
         lambda rng: (0.02 + 0.01 * rng.random(), 0.3, 0.03, 0.35), wrt=(0, 1, 2, 3)),
    Case("column_major_diffusion", column_major_diffusion,
         lambda rng: (rng.normal(size=(3, 4)), 0.2 + 0.1 * rng.random()), wrt=(0, 1)),
    Case("vec_trick", vec_trick,
         lambda rng: (rng.normal(size=(2, 3)), rng.normal(size=6)), wrt=(0, 1)),
    Case("perceptron_weights", perceptron_weights,
         lambda rng: (0.3 * rng.normal(), 0.3 * rng.normal(), 0.1), wrt=(0, 1, 2)),
    Case("lanczos_log_gamma", lanczos_log_gamma, lambda rng: (2.0 + 3.0 * rng.random(),), wrt=0),
    Case("backward_recurrence", backward_recurrence,
         lambda rng: (1.0 + rng.random(), 2.0), wrt=(0, 1)),
    Case("predator_prey", predator_prey,
         lambda rng: (1.0 + 0.1 * rng.random(), 0.2 + 0.02 * rng.random()), wrt=(0, 1)),
]
