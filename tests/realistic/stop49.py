"""Realistic programs of stop 49's area: likelihoods of directional, survival and count
data through scipy.special and scipy.stats (Bessel functions, incomplete gamma
functions, the families beyond the normal); a Gaussian process through SciPy's Cholesky
pair; filters through scipy.signal.lfilter; Simpson's rule; helpers that write into a
default scratch array or, nested, into their argument; recursion on integers; objects
that compare themselves; and refusals a user should get at the line (an order or a
shape that depends on the inputs)."""

import functools
import math

import numpy as np
import scipy.linalg
import scipy.signal
from _spec import Case
from scipy import integrate, special, stats

# ---------------------------------------------------------------- scipy.special

ANGLES = np.array([0.3, 0.9, 5.9, 0.1, 1.4, 6.1, 0.6, 2.2])


def von_mises_mixture_nll(mu1, mu2, log_kappa):
    """Two von Mises components of one concentration, mixed half and half; log I0 by the
    scaled i0e, as directional statistics code writes it."""
    kappa = math.exp(log_kappa)
    log_norm = np.log(2 * np.pi * special.i0e(kappa)) + kappa
    first = kappa * np.cos(ANGLES - mu1) - log_norm
    second = kappa * np.cos(ANGLES - mu2) - log_norm
    return -np.sum(special.logsumexp(np.stack([first, second]), axis=0) - np.log(2.0))


def rician_nll(log_nu, log_sigma, amplitudes):
    """The Rice distribution of magnitudes of a complex Gaussian signal (MRI noise)."""
    nu, s2 = np.exp(log_nu), np.exp(2 * log_sigma)
    z = amplitudes * nu / s2
    log_p = (np.log(amplitudes / s2) - (amplitudes**2 + nu**2) / (2 * s2)
             + np.log(special.i0e(z)) + z)
    return -np.sum(log_p)


def claim_probability(rate, exposure):
    """P(at least 3 claims) of a Poisson count, by the regularized lower incomplete gamma
    function of its mean; and the expected cost of an exponential excess."""
    mean = rate * exposure
    at_least_three = special.gammainc(3.0, mean)
    excess = special.exp1(1.0 + mean) * special.expm1(0.5 * rate)
    return at_least_three + 0.1 * excess


# ---------------------------------------------------------------- scipy.stats


def weibull_censored_nll(log_shape, log_scale, times, failed):
    """Weibull lifetimes with right censoring: the density of failures, the survival
    function of units still running."""
    shape, scale = np.exp(log_shape), np.exp(log_scale)
    log_f = stats.weibull_min.logpdf(times, shape, scale=scale)
    log_s = stats.weibull_min.logsf(times, shape, scale=scale)
    return -np.sum(np.where(failed, log_f, log_s))


def skew_normal_regression(beta, log_omega, alpha, x, y):
    """Linear regression with skew-normal errors (all of location, scale and skew)."""
    mu = beta[0] + beta[1] * x
    return -np.sum(stats.skewnorm.logpdf(y, alpha, loc=mu, scale=np.exp(log_omega)))


def quantile_match(mu, log_sigma):
    """Fit a lognormal's location and scale so its quartiles match targets (its shape
    fixed): the quantile function in loc and scale."""
    q = np.array([0.25, 0.5, 0.75])
    target = np.array([1.1, 1.9, 3.2])
    quantiles = stats.lognorm.ppf(q, 0.6, loc=mu, scale=np.exp(log_sigma))
    return np.sum((quantiles - target) ** 2)


def negative_binomial_regression(beta, log_size, x, counts):
    """Counts with overdispersion: a negative binomial of mean exp(x @ beta)."""
    mean = np.exp(x @ beta)
    size = np.exp(log_size)
    p = size / (size + mean)
    return -np.sum(stats.nbinom.logpmf(counts, size, p))


# ---------------------------------------------------------------- scipy.linalg, signal, integrate


def gp_nll(log_ell, log_sf, log_noise, x, y):
    """A Gaussian process's negative log marginal likelihood with SciPy's Cholesky pair
    (the upper factor, cho_factor's default)."""
    d2 = (x[:, None] - x[None, :]) ** 2
    k = np.exp(2 * log_sf) * np.exp(-0.5 * d2 / np.exp(2 * log_ell))
    k = k + np.exp(2 * log_noise) * np.eye(len(x))
    factor = scipy.linalg.cho_factor(k)
    alpha = scipy.linalg.cho_solve(factor, y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(factor[0]))) + 0.5 * len(x) * math.log(
        2 * math.pi)


def advantage_loss(values, rewards, gamma):
    """Generalized advantage estimation: temporal differences discounted backwards by
    an IIR filter (the reinforcement-learning idiom)."""
    deltas = rewards + gamma * values[1:] - values[:-1]
    advantages = scipy.signal.lfilter([1.0], [1.0, -gamma * 0.95], deltas[::-1])[::-1]
    return np.mean(advantages**2)


def smoothing_forecast_error(alpha, series):
    """Simple exponential smoothing as a first-order filter; the one-step-ahead squared
    error of its forecasts."""
    level = scipy.signal.lfilter([alpha], [1.0, alpha - 1.0], series)
    return np.sum((series[1:] - level[:-1]) ** 2)


def oscillator_energy(omega, damping):
    """The energy a damped oscillation carries over [0, 4], by Simpson's rule on an even
    number of samples (SciPy's correction on the last interval)."""
    t = np.linspace(0.0, 4.0, 20)
    x = np.exp(-damping * t) * np.cos(omega * t)
    v = np.gradient(x, t)
    return integrate.simpson(0.5 * v**2 + 0.5 * omega**2 * x**2, x=t)


# ---------------------------------------------------------------- Python forms


def _heat_rate(u, kappa, lap=np.zeros(6)):  # noqa: B008  (a scratch array, on purpose)
    lap[1:-1] = u[2:] - 2 * u[1:-1] + u[:-2]  # (a default array as scratch space)
    return kappa * lap - 0.1 * u


def heun_heat(kappa):
    """Heun's method on the heat equation with decay, the stencil written into a helper's
    default scratch array at each of its calls."""
    u = np.array([0.0, 1.0, 0.5, 2.0, 0.2, 0.0])
    dt = 0.1
    k1 = _heat_rate(u, kappa)
    k2 = _heat_rate(u + dt * k1, kappa)
    u = u + 0.5 * dt * (k1 + k2)
    return np.sum(u**2)


def reflecting_walls(speed):
    """Particles bouncing between walls: a nested procedure reflects them in place."""
    x = np.array([0.1, 0.5, 0.9])
    v = np.array([1.0, -0.5, 0.25]) * speed

    def bounce(pos, vel):
        low = pos < 0.0
        pos[low] = -pos[low]
        vel[low] = -vel[low]
        high = pos > 1.0
        pos[high] = 2.0 - pos[high]
        vel[high] = -vel[high]

    for _ in range(6):
        x = x + 0.15 * v
        bounce(x, v)
    return np.sum(x * np.arange(1.0, 4.0)) + 0.1 * np.sum(v)


@functools.cache
def _choose(n, k):
    if k == 0 or k == n:
        return 1
    return _choose(n - 1, k - 1) + _choose(n - 1, k)


def bezier_length(p1, p2):
    """A cubic Bezier curve's polygon length, its Bernstein weights from a cached
    recursive binomial coefficient of the loop's k."""
    points = [0.0, p1, p2, 1.0]
    heights = []
    for j in range(9):
        t = j / 8
        heights.append(sum(_choose(3, k) * t**k * (1 - t) ** (3 - k) * points[k]
                           for k in range(4)))
    return sum(math.hypot(1 / 8, heights[j + 1] - heights[j]) for j in range(8))


class Offer:
    def __init__(self, price, quality):
        self.price, self.quality = price, quality

    def __lt__(self, other):
        return self.price / self.quality < other.price / other.quality


def procurement_cost(markup):
    """Pick the better of two offers by the class's own ordering, then buy a mix."""
    a = Offer(10.0 * markup, 2.0)
    b = Offer(12.0, 2.0 + markup)
    offers = [a, b]
    best_share = 0.8 if a < b else 0.2
    return best_share * a.price + (1 - best_share) * b.price + len(offers) * markup


def bessel_order_fit(nu, x):
    """A Bessel function's order fitted to data: srcad has no derivative in the order."""
    return np.sum((special.jv(nu, x) - 0.3) ** 2)


def beta_cdf_shape(a, x):
    """A beta distribution function in its shape: srcad has no derivative there."""
    return np.sum(stats.beta.cdf(x, a, 2.0))


def _series(rng):
    return np.cumsum(rng.normal(size=12)) * 0.3 + 5.0


CASES = [
    Case("von_mises_mixture_nll", von_mises_mixture_nll,
         lambda rng: (rng.uniform(0.0, 1.0), rng.uniform(5.0, 6.0), rng.uniform(0.0, 1.5)),
         wrt=(0, 1, 2), note="log I0 through i0e, a mixture by logsumexp"),
    Case("rician_nll", rician_nll,
         lambda rng: (rng.uniform(0.0, 0.5), rng.uniform(-0.5, 0.0),
                      rng.uniform(0.5, 3.0, size=6)), wrt=(0, 1), note="the Rice density"),
    Case("claim_probability", claim_probability,
         lambda rng: (rng.uniform(0.5, 2.0), rng.uniform(0.5, 2.0)), wrt=(0, 1),
         note="gammainc in x, exp1, expm1"),
    Case("weibull_censored_nll", weibull_censored_nll,
         lambda rng: (rng.uniform(-0.3, 0.5), rng.uniform(0.0, 1.0),
                      rng.uniform(0.2, 4.0, size=8), rng.random(8) < 0.6), wrt=(0, 1),
         note="weibull_min logpdf and logsf in shape and scale"),
    Case("skew_normal_regression", skew_normal_regression,
         lambda rng: (rng.normal(size=2), rng.uniform(-0.5, 0.5), rng.uniform(-2.0, 2.0),
                      np.linspace(0.0, 1.0, 7), rng.normal(size=7)), wrt=(0, 1, 2),
         note="skewnorm logpdf in every parameter"),
    Case("quantile_match", quantile_match,
         lambda rng: (rng.uniform(-0.5, 0.5), rng.uniform(0.0, 1.0)), wrt=(0, 1),
         note="lognorm ppf in loc and scale"),
    Case("negative_binomial_regression", negative_binomial_regression,
         lambda rng: (rng.normal(scale=0.3, size=2), rng.uniform(0.0, 1.5),
                      rng.normal(size=(9, 2)), rng.integers(0, 7, size=9)), wrt=(0, 1),
         note="nbinom logpmf in size and probability"),
    Case("gp_nll", gp_nll,
         lambda rng: (rng.uniform(-0.5, 0.5), rng.uniform(-0.3, 0.3), rng.uniform(-2.0, -1.0),
                      np.sort(rng.uniform(0.0, 3.0, size=6)), rng.normal(size=6)),
         wrt=(0, 1, 2), note="cho_factor and cho_solve"),
    Case("advantage_loss", advantage_loss,
         lambda rng: (rng.normal(size=7), rng.normal(size=6), rng.uniform(0.9, 0.99)),
         wrt=(0, 1, 2), note="lfilter run backwards (GAE)"),
    Case("smoothing_forecast_error", smoothing_forecast_error,
         lambda rng: (rng.uniform(0.2, 0.8), _series(rng)), wrt=(0, 1),
         note="lfilter as exponential smoothing"),
    Case("oscillator_energy", oscillator_energy,
         lambda rng: (rng.uniform(1.0, 3.0), rng.uniform(0.1, 0.5)), wrt=(0, 1),
         note="Simpson's rule on an even number of samples"),
    Case("heun_heat", heun_heat, lambda rng: (rng.uniform(0.1, 0.4),), wrt=0,
         note="a helper's default array written as scratch space in each call"),
    Case("reflecting_walls", reflecting_walls, lambda rng: (rng.uniform(0.5, 1.5),), wrt=0,
         note="a nested procedure writing into its arguments"),
    Case("bezier_length", bezier_length,
         lambda rng: (rng.uniform(0.0, 1.0), rng.uniform(0.0, 1.0)), wrt=(0, 1),
         note="an lru_cached recursion on a loop's integers"),
    Case("procurement_cost", procurement_cost, lambda rng: (rng.uniform(0.8, 1.4),), wrt=0,
         note="objects made inside compared by their __lt__, len of their list"),
    Case("bessel_order_fit", bessel_order_fit,
         lambda rng: (rng.uniform(0.5, 2.0), rng.uniform(0.5, 3.0, size=4)), wrt=(0, 1),
         expect="LOCATED", bad="special.jv(nu, x)", msg=("order", "no derivative"),
         note="a Bessel function's order that depends on the inputs"),
    Case("beta_cdf_shape", beta_cdf_shape,
         lambda rng: (rng.uniform(1.0, 3.0), rng.uniform(0.1, 0.9, size=3)), wrt=(0, 1),
         expect="LOCATED", bad="stats.beta.cdf", msg=("shape", "no derivative"),
         note="a beta distribution function in its shape"),
]
