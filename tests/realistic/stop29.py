"""Realistic programs of the areas stop 29 opened or fixed: statistics with scipy.stats'
distributions (likelihoods, probit, quantiles), least squares by lstsq and pinv, fields
on meshgrids, decorators that change a function's value (unit conversion, scaling,
temperature), class hierarchies with super(), static and class methods, parameter
containers read by key, np.r_/np.c_ design matrices, and numpy float64 numbers in scalar
code. Each was wrong, crashed or was refused before this stop."""

import functools
import math

import numpy as np
from _spec import Case
from scipy import stats
from scipy.stats import norm

OBS = np.array([0.3, 1.7, -0.4, 2.2, 0.9, 1.1, -0.1])
COUNTS = np.array([0, 2, 5, 1, 3, 4])
EXPOSURE = np.array([0.5, 1.0, 2.0, 0.7, 1.2, 1.5])


def student_t_regression_nll(beta, log_scale):
    """Robust regression: Student-t errors with 4 degrees of freedom."""
    x = np.linspace(-1.0, 1.0, OBS.size)
    mean = beta[0] + beta[1] * x
    return -np.sum(stats.t.logpdf(OBS, 4.0, loc=mean, scale=np.exp(log_scale)))


def probit_log_likelihood(w):
    """Probit classification: log Phi for positives, log(1 - Phi) for negatives."""
    X = np.column_stack([np.ones(6), np.linspace(-1.0, 1.5, 6)])
    y = np.array([0, 0, 1, 0, 1, 1])
    z = X @ w
    return np.sum(np.where(y == 1, norm.logcdf(z), norm.logsf(z)))


def poisson_rate_model(log_rate, slope):
    """A Poisson regression on exposure (the rate times the exposure)."""
    mu = EXPOSURE * np.exp(log_rate + slope * np.arange(6) / 6.0)
    return -np.sum(stats.poisson.logpmf(COUNTS, mu))


def quantile_matching(mu, sigma):
    """Fit a normal's quartiles to given ones (ppf of the model)."""
    q = norm.ppf(np.array([0.25, 0.5, 0.75]), mu, sigma)
    return np.sum((q - np.array([0.1, 0.8, 1.5])) ** 2)


def ridge_by_lstsq(y, lam):
    """Ridge regression as an augmented least-squares problem solved by lstsq."""
    X = np.column_stack([np.ones(5), np.linspace(0.0, 2.0, 5), np.linspace(0.0, 2.0, 5) ** 2])
    A = np.vstack([X, math.sqrt(lam) * np.eye(3)])
    b = np.concatenate([y, np.zeros(3)])
    beta, residuals, rank, _ = np.linalg.lstsq(A, b, rcond=None)
    return np.sum(beta**2) + residuals[0]


def potential_on_a_grid(cx, cy):
    """A Gaussian well centred at (cx, cy), integrated over a grid."""
    xs = np.linspace(-2.0, 2.0, 9)
    X, Y = np.meshgrid(xs, xs)
    return np.sum(np.exp(-((X - cx) ** 2 + (Y - cy) ** 2))) * 0.25


def in_kelvin(fn):
    @functools.wraps(fn)
    def wrapper(celsius, *rest):
        return fn(celsius + 273.15, *rest)

    return wrapper


@in_kelvin
def arrhenius_rate(temperature, activation):
    return 1.0e3 * math.exp(-activation / temperature)


def rate_ratio(t_cold, t_hot):
    """Arrhenius rates at two temperatures in Celsius (the decorator converts)."""
    return arrhenius_rate(t_hot, 5000.0) / arrhenius_rate(t_cold, 5000.0)


class Potential:
    def __init__(self, k):
        self.k = k

    @staticmethod
    def squared(x):
        return x * x

    def energy(self, x):
        return 0.5 * self.k * np.sum(self.squared(x))


class QuarticPotential(Potential):
    def __init__(self, k, a):
        super().__init__(k)
        self.a = a

    def energy(self, x):
        return super().energy(x) + self.a * np.sum(self.squared(self.squared(x)))


def chain_energy(x, pot: QuarticPotential):
    """A spring chain with a quartic correction, through super().energy."""
    return pot.energy(x[1:] - x[:-1])


class LogParams:
    def __init__(self, **raw):
        self.raw = raw

    def __getitem__(self, name):
        return math.exp(self.raw[name])


PRIOR = LogParams(scale=0.3, rate=-0.5)


def gamma_prior_loglik(x):
    """A gamma log-density with parameters read by key from a positive-parameter store."""
    return np.sum(stats.gamma.logpdf(x, PRIOR["scale"] * 10.0, scale=PRIOR["rate"])) + x[0]


def polynomial_design_fit(coef):
    """A design matrix built with np.c_ and a padded coefficient vector with np.r_."""
    t = np.linspace(0.0, 1.0, 5)
    X = np.c_[np.ones(5), t, t**2]
    full = np.r_[coef, 0.0]
    return np.sum((X @ full[:3] - np.sin(t)) ** 2)


def horner_float64(coefficients, x):
    """Horner's rule over numpy float64 coefficients (list(np.array)): the float path."""
    total = 0.0
    for c in coefficients:
        total = total * x + c
    return total


CASES = [
    Case("student_t_regression_nll", student_t_regression_nll,
         lambda rng: (rng.normal(size=2), 0.1)),
    Case("probit_log_likelihood", probit_log_likelihood, lambda rng: (rng.normal(size=2),)),
    Case("poisson_rate_model", poisson_rate_model, lambda rng: (rng.normal(), 0.4),
         wrt=(0, 1)),
    Case("quantile_matching", quantile_matching, lambda rng: (0.5, rng.uniform(0.8, 1.5)),
         wrt=(0, 1)),
    Case("ridge_by_lstsq", ridge_by_lstsq, lambda rng: (rng.normal(size=5), 0.3),
         wrt=(0, 1)),
    Case("potential_on_a_grid", potential_on_a_grid, lambda rng: (0.3, -0.2), wrt=(0, 1)),
    Case("rate_ratio", rate_ratio, lambda rng: (rng.uniform(5.0, 20.0), 60.0), wrt=(0, 1)),
    Case("chain_energy", chain_energy,
         lambda rng: (rng.normal(size=5), QuarticPotential(1.3, 0.2)), wrt=0),
    Case("gamma_prior_loglik", gamma_prior_loglik, lambda rng: (rng.uniform(0.5, 2.0, 4),)),
    Case("polynomial_design_fit", polynomial_design_fit, lambda rng: (rng.normal(size=3),)),
    Case("horner_float64", horner_float64,
         lambda rng: (list(np.linspace(-1.0, 1.0, 6)), 0.7), wrt=1),
]
