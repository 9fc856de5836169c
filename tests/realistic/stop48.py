"""Realistic programs of stop 48's area: objects the function makes, kept in a list and
stepped through the loop's variable; lists given as parameters and written item by item
(a tridiagonal solve, discounted returns, a smoothing pass); losses written in the
stable form (max and abs pieces whose kinks cancel) at their usual starting point;
matrix functions through eigh and svd; a pseudo-inverse of a symmetric matrix; roots
at 0 beside exact zeros; and refusals a user should get at the line (a singular
covariance, complex numbers held by a global)."""

import math

import numpy as np
from _spec import Case
from scipy import stats

# ---------------------------------------------------------------- objects in a list


class Body:
    def __init__(self, x, v, m):
        self.x, self.v, self.m = x, v, m

    def kick(self, force, dt):
        self.v += force / self.m * dt


def chain_of_springs(k, damping):
    """Three masses on springs to their neighbours, stepped by semi-implicit Euler; the
    energy left after 30 steps."""
    bodies = [Body(0.0, 0.5, 1.0), Body(1.2, 0.0, 2.0), Body(2.1, -0.3, 1.5)]
    dt = 0.05
    for _ in range(30):
        forces = [0.0, 0.0, 0.0]
        for i in range(2):
            stretch = bodies[i + 1].x - bodies[i].x - 1.0
            forces[i] += k * stretch
            forces[i + 1] -= k * stretch
        for body, force in zip(bodies, forces):
            body.kick(force - damping * body.v, dt)
        for body in bodies:
            body.x += body.v * dt
    return sum(0.5 * body.m * body.v * body.v for body in bodies)


class Population:
    def __init__(self, size, growth):
        self.size, self.growth = size, growth


def competing_populations(a, b):
    """Two competing populations and a predator, each a small object, stepped together
    by looping over a tuple of them."""
    rabbits, hares = Population(1.0, a), Population(0.8, b)
    predator = Population(0.3, 0.0)
    for _ in range(25):
        for prey in (rabbits, hares):
            eaten = 0.05 * prey.size * predator.size
            prey.size += 0.1 * (prey.growth * prey.size * (1.0 - prey.size / 3.0) - eaten)
            predator.size += 0.01 * eaten
        predator.size *= 0.99
    return math.log(rabbits.size) + math.log(hares.size) + predator.size


# ---------------------------------------------------------------- lists written in place


def thomas_solve_energy(diag, rhs):
    """A tridiagonal system (off-diagonals -1) solved by the Thomas algorithm, which
    overwrites its lists as it sweeps; the energy of the solution."""
    n = len(diag)
    c = [-1.0] * n
    c[0] = c[0] / diag[0]
    rhs[0] = rhs[0] / diag[0]
    for i in range(1, n):
        denom = diag[i] + c[i - 1]
        c[i] = c[i] / denom
        rhs[i] = (rhs[i] + rhs[i - 1]) / denom
    for i in range(n - 2, -1, -1):
        rhs[i] = rhs[i] - c[i] * rhs[i + 1]
    return sum(u * u for u in rhs)


def discounted_returns_loss(rewards, gamma):
    """Rewards turned into discounted returns in place, back to front, then their
    squared distance from a baseline."""
    for t in range(len(rewards) - 2, -1, -1):
        rewards[t] += gamma * rewards[t + 1]
    baseline = sum(rewards) / len(rewards)
    return sum((r - baseline) ** 2 for r in rewards)


def smoothed_roughness(signal, weight):
    """Two forward passes of exponential smoothing written into the signal itself; the
    roughness that remains."""
    for _ in range(2):
        for i in range(1, len(signal)):
            signal[i] = weight * signal[i - 1] + (1.0 - weight) * signal[i]
    return sum((signal[i] - signal[i - 1]) ** 2 for i in range(1, len(signal)))


# ---------------------------------------------------------------- stable losses at 0

FEATURES = np.array([[1.0, 0.5, -0.2], [0.2, -0.3, 0.8], [1.0, 1.0, 0.1], [-0.4, 0.6, 0.3]])
LABELS = np.array([1.0, 0.0, 1.0, 0.0])


def stable_logistic_loss(w):
    """The logistic loss as PyTorch's BCE-with-logits computes it; a Newton step starts
    at zero weights, where every logit ties the max at 0."""
    z = FEATURES @ w
    return np.mean(np.maximum(z, 0.0) - z * LABELS + np.log1p(np.exp(-np.abs(z))))


def softplus_regression(a, b, xs, ys):
    """A positive rate through the stable softplus, Poisson negative log-likelihood."""
    nll = 0.0
    for x, y in zip(xs, ys):
        z = a * x + b
        rate = max(z, 0.0) + math.log1p(math.exp(-abs(z)))
        nll += rate - y * math.log(rate)
    return nll


# ---------------------------------------------------------------- matrices


def spd_matrix(rng, n=3):
    m = rng.normal(size=(n, n))
    return m @ m.T + n * np.eye(n)


def log_matrix_trace(a):
    """tr(log(A) W) of a symmetric positive definite matrix, through its eigenvectors."""
    w, v = np.linalg.eigh(a)
    return np.sum((v * np.log(w)) @ v.T * np.arange(1.0, 10.0).reshape(3, 3))


def procrustes_fit(m):
    """The rotation closest to m (its polar factor) fitted to a target rotation."""
    u, _, vt = np.linalg.svd(m)
    rotation = u @ vt
    target = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    return np.sum((rotation - target) ** 2) + 0.1 * np.sum(m * m)


def hermitian_pinv_solve(s, b):
    """A symmetric (possibly ill-conditioned) system solved by its pseudo-inverse."""
    x = np.linalg.pinv(s, hermitian=True) @ b
    return np.sum(x * x)


def gaussian_fit_nll(mu, points):
    """The sample covariance of the points, a Gaussian's negative log-likelihood."""
    cov = np.cov(points.T) + 0.1 * np.eye(points.shape[1])
    return -np.sum(stats.multivariate_normal.logpdf(points, mu, cov))


# ---------------------------------------------------------------- roots at 0


def cluster_energy(x):
    """Pairwise distances of a cluster, self-distances on the diagonal kept and masked."""
    d = x[:, None, :] - x[None, :, :]
    r = np.sqrt(np.sum(d * d, axis=-1))
    near = np.exp(-r)
    return np.sum(np.where(np.eye(len(x)) > 0, 0.0, near * r))


def power_law_fit(scale, doses, responses):
    """Responses proportional to dose^1.5, written as dose * sqrt(dose), with a zero dose."""
    predicted = scale * doses * np.sqrt(doses)
    return np.sum((predicted - responses) ** 2)


# ---------------------------------------------------------------- refusals at the line


def singular_gaussian(x, points):
    cov = np.cov(points.T)
    return stats.multivariate_normal.logpdf(x, points.mean(0), cov, allow_singular=True)


PHASE = np.exp(0.3j)


def rotated_signal(x):
    return np.sum((x * PHASE).real ** 2)


CASES = [
    Case("chain_of_springs", chain_of_springs,
         lambda rng: (rng.uniform(1.0, 3.0), rng.uniform(0.05, 0.3)), wrt=(0, 1),
         note="objects made inside, in a list, stepped through the loop's variable"),
    Case("competing_populations", competing_populations,
         lambda rng: (rng.uniform(0.5, 1.5), rng.uniform(0.5, 1.5)), wrt=(0, 1),
         note="a loop over a tuple of objects the function made"),
    Case("thomas_solve_energy", thomas_solve_energy,
         lambda rng: (list(rng.uniform(2.5, 4.0, size=5)), list(rng.normal(size=5))),
         wrt=(0, 1), note="list parameters written item by item (Thomas algorithm)"),
    Case("discounted_returns_loss", discounted_returns_loss,
         lambda rng: (list(rng.normal(size=6)), rng.uniform(0.8, 0.99)), wrt=(0, 1),
         note="a list parameter written in place back to front"),
    Case("smoothed_roughness", smoothed_roughness,
         lambda rng: (list(rng.normal(size=7)), rng.uniform(0.2, 0.8)), wrt=(0, 1),
         note="a list parameter overwritten twice, read before and after"),
    Case("stable_logistic_loss", stable_logistic_loss, lambda rng: (np.zeros(3),), wrt=0,
         kind="hessian",
         ref=lambda w: FEATURES.T @ (1 / (1 + np.exp(-FEATURES @ w)) - LABELS) / 4,
         note="the Hessian of the stable logistic loss at zero weights (every logit a tie)"),
    Case("softplus_regression", softplus_regression,
         lambda rng: (0.0, 0.0, [0.5, 1.0, -0.7, 2.0], [1.0, 0.0, 2.0, 1.0]), wrt=(0, 1),
         points=1, note="the stable softplus at z = 0 exactly"),
    Case("log_matrix_trace", log_matrix_trace, lambda rng: (spd_matrix(rng),), wrt=0,
         note="a matrix function through eigh"),
    Case("procrustes_fit", procrustes_fit, lambda rng: (rng.normal(size=(3, 3)),), wrt=0,
         note="a polar factor through svd"),
    Case("hermitian_pinv_solve", hermitian_pinv_solve,
         lambda rng: (spd_matrix(rng) + np.tril(rng.normal(size=(3, 3)), -1),
                      rng.normal(size=3)), wrt=(0, 1),
         note="pinv(hermitian=True) reads the lower triangle"),
    Case("gaussian_fit_nll", gaussian_fit_nll,
         lambda rng: (rng.normal(size=2), rng.normal(size=(8, 2))), wrt=(0, 1),
         note="multivariate_normal of a sample covariance"),
    Case("cluster_energy", cluster_energy, lambda rng: (rng.normal(size=(4, 2)),), wrt=0,
         note="sqrt at the self-distances' exact zeros, masked"),
    Case("power_law_fit", power_law_fit,
         lambda rng: (rng.uniform(0.5, 2.0), np.array([0.0, 0.5, 1.0, 2.0]),
                      rng.uniform(0.0, 3.0, size=4)), wrt=0,
         note="x * sqrt(x) at a dose of 0"),
    Case("singular_gaussian", singular_gaussian,
         lambda rng: (np.array([0.5, 0.5, 1.5]),
                      np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0]])), wrt=0,
         expect="LOCATED", bad="allow_singular", msg=("singular",),
         note="a singular covariance is refused at the line"),
    Case("rotated_signal", rotated_signal, lambda rng: (rng.normal(size=3),), wrt=0,
         expect="LOCATED", bad="PHASE", msg=("complex",),
         note="a complex global is refused at the line"),
]
