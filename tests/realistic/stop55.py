"""Realistic programs of stop 55's area: image and signal processing with SciPy's
correlations and filters (scipy.ndimage, scipy.signal), structured covariance matrices
(scipy.linalg's toeplitz, circulant, block_diag), records whose classes normalise their
fields (``__post_init__``, a namedtuple's own ``__new__``), closures made by factories,
sums and extremes of objects, and particles of a class with ``__slots__``."""

import collections
import dataclasses
import math

import numpy as np
import scipy.linalg
import scipy.signal
from _spec import Case
from scipy import ndimage

# ---------------------------------------------------------------- images


def periodic_heat_energy(u0, kappa):
    """Explicit diffusion on a periodic grid (a 5-point Laplacian by convolution), then
    the energy left after a few steps."""
    stencil = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    u = u0
    for _ in range(4):
        u = u + 0.1 * kappa * ndimage.convolve(u, stencil, mode="wrap")
    return 0.5 * np.sum(u * u)


def learned_smoother_loss(taps, noisy, clean):
    """A 1-D FIR smoother with learnable taps (mirror boundary), fitted by least squares
    to the clean signal, with a penalty keeping the taps' sum near one."""
    smoothed = ndimage.correlate1d(noisy, taps, mode="mirror")
    return np.mean((smoothed - clean) ** 2) + 0.1 * (np.sum(taps) - 1.0) ** 2


def total_variation_denoise(image, noisy, lam):
    """Denoising objective: data misfit plus a smoothed total variation of Sobel
    gradients."""
    gx = ndimage.sobel(image, axis=0, mode="nearest")
    gy = ndimage.sobel(image, axis=1, mode="nearest")
    return 0.5 * np.sum((image - noisy) ** 2) + lam * np.sum(np.sqrt(gx * gx + gy * gy + 1e-2))


# ---------------------------------------------------------------- signals


def savgol_peak_slope(amplitude, width):
    """The Savitzky-Golay derivative of a Gaussian peak, squared and summed: how sharp
    the peak looks to a smoothing differentiator."""
    t = np.linspace(-3.0, 3.0, 41)
    peak = amplitude * np.exp(-0.5 * (t / width) ** 2)
    slope = scipy.signal.savgol_filter(peak, 9, 3, deriv=1, delta=t[1] - t[0])
    return np.sum(slope**2) * (t[1] - t[0])


def detrended_power(series):
    """Power of a series after its linear trend (piecewise, with a breakpoint) is
    removed: a drift-insensitive variability measure."""
    residual = scipy.signal.detrend(series, bp=[12])
    return np.mean(residual**2)


def lowpass_output_energy(gain, signal):
    """Energy of a gained signal after a 4th-order Butterworth low-pass (second-order
    sections), forward only and forward-backward."""
    sos = scipy.signal.butter(4, 0.25, output="sos")
    once = scipy.signal.sosfilt(sos, gain * signal)
    twice = scipy.signal.sosfiltfilt(sos, gain * signal)
    return np.sum(once**2) + 0.5 * np.sum(twice**2)


# ---------------------------------------------------------------- structured covariances


def grid_gp_nll(log_ell, log_noise, y):
    """A stationary GP on a regular grid: the covariance is Toeplitz in the lags."""
    n = len(y)
    lags = np.arange(n) * 0.5
    k = np.exp(-0.5 * lags**2 / np.exp(2.0 * log_ell))
    K = scipy.linalg.toeplitz(k) + np.exp(2.0 * log_noise) * np.eye(n)
    return 0.5 * y @ np.linalg.solve(K, y) + 0.5 * np.linalg.slogdet(K)[1]


def circular_deconvolution(h, y, lam):
    """Ridge deconvolution with a circulant blur matrix: the misfit at the solution."""
    H = scipy.linalg.circulant(h)
    x = np.linalg.solve(H.T @ H + lam * np.eye(len(y)), H.T @ y)
    return np.sum((H @ x - y) ** 2) + lam * np.sum(x**2)


def two_group_loglik(s1, s2, rho):
    """Two independent groups, each with exchangeable correlation, as one block-diagonal
    covariance."""
    A = s1 * ((1.0 - rho) * np.eye(2) + rho * np.ones((2, 2)))
    B = s2 * ((1.0 - rho) * np.eye(3) + rho * np.ones((3, 3)))
    S = scipy.linalg.block_diag(A, B)
    y = np.array([0.3, -0.1, 0.8, 0.2, -0.4])
    return -0.5 * y @ np.linalg.solve(S, y) - 0.5 * np.linalg.slogdet(S)[1]


# ---------------------------------------------------------------- records that normalise


@dataclasses.dataclass
class Mixture:
    w1: float
    w2: float
    w3: float

    def __post_init__(self):  # (unnormalised weights, of either sign as given)
        self.w1, self.w2, self.w3 = abs(self.w1), abs(self.w2), abs(self.w3)


def mixture_loglik(mix: Mixture):
    """Log-likelihood of three Gaussian components, the weights normalised here."""
    xs = [-1.2, 0.1, 0.4, 2.2]
    means, sds = (-1.0, 0.0, 2.0), (0.5, 0.7, 0.6)
    norm = mix.w1 + mix.w2 + mix.w3
    total = 0.0
    for x in xs:
        dens = 0.0
        for w, m, s in zip((mix.w1, mix.w2, mix.w3), means, sds):
            dens += w / norm * math.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
        total += math.log(dens)
    return total


class Interval(collections.namedtuple("Interval", "lo hi")):
    def __new__(cls, lo, hi):  # (endpoints kept in order)
        return super().__new__(cls, min(lo, hi), max(lo, hi))


def interval_mass(interval: Interval, rate):
    """Probability an exponential(rate) time falls in the interval."""
    return math.exp(-rate * interval.lo) - math.exp(-rate * interval.hi)


# ---------------------------------------------------------------- closures, objects


def make_rbf(lengthscale):
    def rbf(x, z):
        return math.exp(-0.5 * (x - z) ** 2 / lengthscale**2)

    return rbf


def kernel_smoother(lengthscale, ys):
    """Nadaraya-Watson regression at a few points with a kernel made by a factory."""
    kernel = make_rbf(lengthscale)
    xs = [0.0, 0.4, 0.9, 1.5, 2.2]
    out = 0.0
    for q in (0.3, 1.1, 1.8):
        num = den = 0.0
        for x, y in zip(xs, ys):
            k = kernel(q, x)
            num += k * y
            den += k
        out += (num / den) ** 2
    return out


@dataclasses.dataclass
class Vec3:
    x: float
    y: float
    z: float

    def __add__(self, other):
        return Vec3(self.x + other.x, self.y + other.y, self.z + other.z)

    def __radd__(self, other):
        return self if other == 0 else self + other

    def __lt__(self, other):
        return self.z < other.z


def center_of_mass_height(m1, m2, h):
    """Moments of three point masses summed with sum(), and the highest mass's weight."""
    moments = [Vec3(m1 * 0.1, m1 * 0.2, m1 * h), Vec3(m2 * 0.5, -m2 * 0.3, m2 * 0.4),
               Vec3(0.3, 0.3, 0.2)]
    total = sum(moments)
    top = max(moments)
    return total.z / (m1 + m2 + 1.0) + 0.1 * top.x


class Particle:
    __slots__ = ("x", "v")

    def __init__(self, x, v):
        self.x = x
        self.v = v


def damped_particles(k, c):
    """Two particles on springs, integrated by semi-implicit Euler; objects of a class
    with __slots__ (made for speed)."""
    ps = [Particle(1.0, 0.0), Particle(-0.5, 0.3)]
    for _ in range(20):
        for p in ps:
            p.v += 0.05 * (-k * p.x - c * p.v)
            p.x += 0.05 * p.v
    return sum(p.x * p.x + p.v * p.v for p in ps)


CASES = [
    Case("periodic_heat_energy", periodic_heat_energy,
         lambda rng: (rng.normal(size=(6, 6)), rng.uniform(0.5, 1.5)), wrt=(0, 1),
         note="ndimage.convolve with a wrap boundary in a time loop"),
    Case("learned_smoother_loss", learned_smoother_loss,
         lambda rng: (rng.uniform(0.2, 0.4, size=5), rng.normal(size=30),
                      np.sin(np.linspace(0, 3, 30))), wrt=0,
         note="correlate1d's gradient in its weights, mirror mode"),
    Case("total_variation_denoise", total_variation_denoise,
         lambda rng: (rng.normal(size=(5, 6)), rng.normal(size=(5, 6)), 0.3), wrt=0,
         note="sobel along both axes"),
    Case("savgol_peak_slope", savgol_peak_slope,
         lambda rng: (rng.uniform(0.5, 2.0), rng.uniform(0.5, 1.2)), wrt=(0, 1),
         note="savgol_filter's derivative of a parametric peak"),
    Case("detrended_power", detrended_power,
         lambda rng: (np.cumsum(rng.normal(size=25)),), wrt=0,
         note="detrend with a breakpoint"),
    Case("lowpass_output_energy", lowpass_output_energy,
         lambda rng: (rng.uniform(0.5, 2.0), rng.normal(size=40)), wrt=(0, 1),
         note="sosfilt and sosfiltfilt"),
    Case("grid_gp_nll", grid_gp_nll,
         lambda rng: (rng.uniform(-0.3, 0.3), rng.uniform(-1.5, -0.5),
                      rng.normal(size=7)), wrt=(0, 1),
         note="a Toeplitz covariance of a stationary kernel"),
    Case("circular_deconvolution", circular_deconvolution,
         lambda rng: (np.array([0.6, 0.25, 0.0, 0.0, 0.15]) + 0.05 * rng.normal(size=5),
                      rng.normal(size=5), 0.1), wrt=(0, 1),
         note="circulant blur matrix"),
    Case("two_group_loglik", two_group_loglik,
         lambda rng: (rng.uniform(0.8, 1.5), rng.uniform(0.8, 1.5), rng.uniform(0.1, 0.5)),
         wrt=(0, 1, 2), note="block_diag of two exchangeable blocks"),
    Case("mixture_loglik", mixture_loglik,
         lambda rng: (Mixture(*rng.uniform(0.5, 1.5, size=3)),), wrt=0,
         note="a dataclass whose __post_init__ takes abs of its weights"),
    Case("interval_mass", interval_mass,
         lambda rng: (Interval(rng.uniform(0.1, 0.5), rng.uniform(0.8, 1.5)),
                      rng.uniform(0.5, 2.0)), wrt=(0, 1),
         note="a namedtuple whose own __new__ orders its endpoints"),
    Case("kernel_smoother", kernel_smoother,
         lambda rng: (rng.uniform(0.4, 0.8), list(rng.normal(size=5))), wrt=(0, 1),
         note="a kernel made by a factory, called in loops"),
    Case("center_of_mass_height", center_of_mass_height,
         lambda rng: (rng.uniform(0.5, 1.5), rng.uniform(0.5, 1.5), rng.uniform(1.0, 2.0)),
         wrt=(0, 1, 2), note="sum() and max() of objects with __radd__ and __lt__"),
    Case("damped_particles", damped_particles,
         lambda rng: (rng.uniform(1.0, 3.0), rng.uniform(0.1, 0.5)), wrt=(0, 1),
         note="objects of a class with __slots__"),
]
