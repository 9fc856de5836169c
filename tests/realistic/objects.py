"""Parameters held in objects, and callables that are not plain functions (issue 14):
a small MLP class, dataclasses of physical parameters, namedtuples of hyperparameters,
data bound with functools.partial, lambda wrappers as passed to scipy.optimize, a
callable object, static fields (ints, strings, functions) next to the parameters.

Run with ``python ../shared/realistic/run.py --cases tests/realistic -k objects``."""

import collections
import dataclasses
import functools
import math

import numpy as np
from _spec import Case


def gauss(rng, *shape, scale=1.0):
    return scale * rng.standard_normal(shape)


# --- a small MLP class: weights in self.W1/self.b1/..., a loss method calling forward -----
class MLP:
    def __init__(self, rng, n_in=3, n_hidden=5):
        self.W1 = gauss(rng, n_in, n_hidden, scale=0.5)
        self.b1 = gauss(rng, n_hidden, scale=0.1)
        self.W2 = gauss(rng, n_hidden, scale=0.5)
        self.b2 = 0.1
        self.weight_decay = 1e-3
        self.name = "mlp"

    def forward(self, X):
        hidden = np.tanh(X @ self.W1 + self.b1)
        return hidden @ self.W2 + self.b2

    def loss(self, X, y):
        residual = self.forward(X) - y
        penalty = np.sum(self.W1 ** 2) + np.sum(self.W2 ** 2)
        return np.mean(residual ** 2) + self.weight_decay * penalty


def mlp_args(rng):
    return (MLP(rng), gauss(rng, 8, 3), gauss(rng, 8))


#: a trained model whose input gradient (saliency) is wanted: a bound method
SALIENCY_MODEL = MLP(np.random.default_rng(42))


def saliency_args(rng):
    return (gauss(rng, 4, 3), gauss(rng, 4))


# --- a damped, driven oscillator integrated with semi-implicit Euler; params in a dataclass -
@dataclasses.dataclass
class Oscillator:
    stiffness: float
    damping: float
    mass: float
    drive: np.ndarray  # forcing amplitude per step
    steps: int = 12
    dt: float = 0.05
    integrator: str = "symplectic-euler"


def trajectory_misfit(params, x0, v0, observed):
    x, v = x0, v0
    misfit = 0.0
    for k in range(params.steps):
        force = -params.stiffness * x - params.damping * v + params.drive[k]
        v = v + params.dt * force / params.mass
        x = x + params.dt * v
        misfit = misfit + (x - observed[k]) ** 2
    return misfit / params.steps


def oscillator_args(rng):
    params = Oscillator(rng.uniform(2.0, 4.0), rng.uniform(0.1, 0.4), rng.uniform(0.8, 1.2),
                        gauss(rng, 12, scale=0.3))
    return (params, rng.uniform(0.5, 1.0), rng.uniform(-0.2, 0.2),
            np.cos(np.linspace(0.1, 1.2, 12)))


# --- Gaussian-process hyperparameters in a namedtuple: negative log marginal likelihood ----
GPHyper = collections.namedtuple("GPHyper", "log_length log_signal log_noise")


def gp_negative_log_likelihood(hyper, X, y):
    ell = np.exp(hyper.log_length)
    sf2 = np.exp(2 * hyper.log_signal)
    sn2 = np.exp(2 * hyper.log_noise)
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = sf2 * np.exp(-0.5 * sq / ell ** 2) + sn2 * np.eye(X.shape[0])
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(K, y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(L))) + 0.5 * len(y) * math.log(2 * math.pi)


def gp_args(rng):
    X = rng.uniform(-2, 2, (7, 2))
    return (GPHyper(rng.uniform(-0.3, 0.3), rng.uniform(-0.2, 0.2), rng.uniform(-1.5, -1.0)),
            X, np.sin(X[:, 0]) + 0.1 * gauss(rng, 7))


# --- ridge regression with the data bound by functools.partial (as for scipy.optimize) ------
def ridge_loss(w, X, y, lam):
    residual = X @ w - y
    return 0.5 * residual @ residual / X.shape[0] + 0.5 * lam * w @ w


_DATA = np.random.default_rng(7)
RIDGE_X = gauss(_DATA, 20, 4)
RIDGE_Y = RIDGE_X @ np.array([1.0, -0.5, 0.0, 2.0]) + 0.1 * gauss(_DATA, 20)
RIDGE = functools.partial(ridge_loss, X=RIDGE_X, y=RIDGE_Y, lam=0.1)


# --- logistic regression behind a lambda (the way people pass it to scipy.optimize) --------
def logistic_nll(w, b, X, labels):
    z = X @ w + b
    return np.sum(np.logaddexp(0.0, z) - labels * z) / len(labels)


LOGIT_X = gauss(_DATA, 15, 3)
LOGIT_LABELS = (LOGIT_X[:, 0] - LOGIT_X[:, 2] > 0).astype(float)
LOGISTIC = lambda w: logistic_nll(w, 0.2, LOGIT_X, LOGIT_LABELS) + 1e-2 * np.sum(w ** 2)  # noqa: E731


# --- a one-compartment pharmacokinetic model, parameters and dosing in dataclasses ---------
@dataclasses.dataclass(frozen=True)
class PKParams:
    log_ka: float  # absorption rate
    log_ke: float  # elimination rate
    log_volume: float


@dataclasses.dataclass
class Dosing:
    dose: float
    times: np.ndarray
    route: str = "oral"


def pk_sum_of_squares(params, dosing, observed):
    ka, ke, V = np.exp(params.log_ka), np.exp(params.log_ke), np.exp(params.log_volume)
    t = dosing.times
    conc = dosing.dose * ka / (V * (ka - ke)) * (np.exp(-ke * t) - np.exp(-ka * t))
    return np.sum((np.log(conc) - np.log(observed)) ** 2)


def pk_args(rng):
    params = PKParams(rng.uniform(0.2, 0.5), rng.uniform(-1.8, -1.4), rng.uniform(2.2, 2.6))
    times = np.array([0.5, 1.0, 2.0, 4.0, 8.0, 12.0])
    return (params, Dosing(100.0, times), rng.uniform(1.0, 8.0, 6))


# --- a scalar Kalman filter log-likelihood, state-space parameters in a namedtuple ---------
StateSpace = collections.namedtuple("StateSpace", "transition log_q log_r")


def kalman_log_likelihood(model, observations):
    q, r = math.exp(model.log_q), math.exp(model.log_r)
    mean, var = 0.0, 1.0
    total = 0.0
    for z in observations:
        mean = model.transition * mean
        var = model.transition ** 2 * var + q
        s = var + r
        gain = var / s
        total = total - 0.5 * (math.log(2 * math.pi * s) + (z - mean) ** 2 / s)
        mean = mean + gain * (z - mean)
        var = (1 - gain) * var
    return -total


def kalman_args(rng):
    return (StateSpace(rng.uniform(0.6, 0.9), rng.uniform(-2.0, -1.0), rng.uniform(-1.5, -0.5)),
            [float(v) for v in np.cumsum(gauss(rng, 8, scale=0.3))])


# --- mean-variance portfolio: covariance and returns bound positionally by partial --------
def mean_variance(cov, mu, risk_aversion, logits):
    weights = np.exp(logits) / np.sum(np.exp(logits))
    return 0.5 * risk_aversion * weights @ cov @ weights - mu @ weights


_A = gauss(_DATA, 4, 4, scale=0.3)
PORTFOLIO = functools.partial(mean_variance, _A @ _A.T + 0.05 * np.eye(4),
                              np.array([0.05, 0.08, 0.03, 0.1]))


def portfolio_args(rng):
    return (rng.uniform(1.0, 4.0), gauss(rng, 4, scale=0.5))


# --- Lennard-Jones cluster: a system object whose energy method calls another method -------
class Cluster:
    def __init__(self, positions, epsilon=1.0, sigma=1.0):
        self.positions = positions
        self.epsilon = epsilon
        self.sigma = sigma
        self.n_atoms = positions.shape[0]

    def pair_energy(self, r2):
        s6 = (self.sigma ** 2 / r2) ** 3
        return 4 * self.epsilon * (s6 * s6 - s6)

    def energy(self):
        total = 0.0
        for i in range(self.n_atoms):
            for j in range(i + 1, self.n_atoms):
                d = self.positions[i] - self.positions[j]
                total = total + self.pair_energy(d @ d)
        return total


def cluster_args(rng):
    grid = np.array([[0.0, 0.0, 0.0], [1.1, 0.0, 0.0], [0.0, 1.1, 0.0], [0.0, 0.0, 1.1]])
    return (Cluster(grid + gauss(rng, 4, 3, scale=0.03), rng.uniform(0.9, 1.1)),)


# --- a deep net as a list of namedtuple layers in a dataclass, with static settings -------
Layer = collections.namedtuple("Layer", "W b")


@dataclasses.dataclass
class Network:
    layers: list
    activation: str = "tanh"
    n_classes: int = 3
    initializer: object = np.random.default_rng  # (a function: kept as it is)


def network_cross_entropy(net, X, labels):
    h = X
    for layer in net.layers[:-1]:
        z = h @ layer.W + layer.b
        h = np.tanh(z) if net.activation == "tanh" else np.log1p(np.exp(z))
    logits = h @ net.layers[-1].W + net.layers[-1].b
    logits = logits - np.max(logits, axis=1, keepdims=True)
    logp = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(len(labels)), labels])


def network_args(rng):
    sizes = [4, 6, 5, 3]
    layers = [Layer(gauss(rng, a, b, scale=0.5), gauss(rng, b, scale=0.1))
              for a, b in zip(sizes[:-1], sizes[1:])]
    return (Network(layers), gauss(rng, 10, 4), rng.integers(0, 3, 10))


# --- a callable object: a polynomial feature model with an int degree (a static field) -----
class PolynomialModel:
    def __init__(self, degree, coef):
        self.degree = degree
        self.coef = coef
        self.kind = "polynomial"

    def __call__(self, x, y):
        features = x[:, None] ** np.arange(self.degree + 1)
        return np.mean((features @ self.coef - y) ** 2)


POLYNOMIAL = PolynomialModel(3, np.array([0.1, -0.4, 0.2, 0.05]))


def polynomial_args(rng):
    x = rng.uniform(-1.5, 1.5, 9)
    return (x, np.sin(x))


CASES = [
    Case("mlp_class_weights", MLP.loss, mlp_args, wrt="self",
         note="plain class: self.W1/self.b1/..., loss calls self.forward, gradient an MLP"),
    Case("mlp_bound_method_saliency", SALIENCY_MODEL.loss, saliency_args, wrt="X",
         note="bound method: self fixed, the gradient with respect to the inputs"),
    Case("oscillator_dataclass_integrator", trajectory_misfit, oscillator_args, wrt="params",
         note="dataclass of physical parameters (int steps, str kind static), Euler loop"),
    Case("gp_namedtuple_hyperparameters", gp_negative_log_likelihood, gp_args, wrt="hyper",
         note="namedtuple of log-hyperparameters, cholesky and solve"),
    Case("ridge_partial_bound_data", RIDGE, lambda rng: (gauss(rng, 4),), wrt="w",
         note="functools.partial binding X, y and lam by keyword"),
    Case("logistic_lambda_wrapper", LOGISTIC, lambda rng: (gauss(rng, 3),), wrt="w",
         note="a lambda closing over data, as passed to scipy.optimize.minimize"),
    Case("pk_frozen_dataclass", pk_sum_of_squares, pk_args, wrt="params",
         note="frozen dataclass of log-parameters, a second dataclass of dosing data"),
    Case("kalman_namedtuple_state_space", kalman_log_likelihood, kalman_args, wrt="model",
         note="namedtuple read in a loop over observations, math functions"),
    Case("portfolio_partial_positional", PORTFOLIO, portfolio_args,
         wrt=("risk_aversion", "logits"), note="partial binding the first two arguments"),
    Case("lennard_jones_cluster_method", Cluster.energy, cluster_args, wrt="self",
         note="energy method calling self.pair_energy in a double loop"),
    Case("network_of_namedtuple_layers", network_cross_entropy, network_args, wrt="net",
         note="list of namedtuple layers in a dataclass, a str and a function in fields"),
    Case("polynomial_callable_object", POLYNOMIAL, polynomial_args, wrt="x",
         note="an object with __call__, an int degree field giving the powers"),
]
