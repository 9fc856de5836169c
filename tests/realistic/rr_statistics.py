"""Statistical models written with the breadth rules: Gaussian processes, factor
analysis, Cox regression, count models with lgamma / gammaln / xlogy, Kalman filtering.

Run with ``python ../shared/realistic/run.py --cases tests/realistic``."""

import math

import numpy as np
import scipy.special as sp
from _spec import Case


def gauss(rng, *shape, scale=1.0):
    return scale * rng.standard_normal(shape)


# --- Gaussian-process regression: negative log marginal likelihood ----------------------
def gp_negative_log_marginal(log_ls, log_amp, log_noise, X, y):
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = np.exp(2.0 * log_amp) * np.exp(-0.5 * sq / np.exp(2.0 * log_ls))
    K = K + np.exp(2.0 * log_noise) * np.eye(X.shape[0])
    L = np.linalg.cholesky(K)
    z = np.linalg.solve(L, y)
    alpha = np.linalg.solve(L.T, z)
    n = X.shape[0]
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(L))) + 0.5 * n * math.log(2 * math.pi)


def gp_args(rng):
    X = rng.uniform(-2.0, 2.0, (7, 2))
    y = np.sin(X[:, 0]) + 0.3 * X[:, 1] + gauss(rng, 7, scale=0.1)
    return (rng.uniform(-0.3, 0.3), rng.uniform(-0.2, 0.2), rng.uniform(-1.5, -1.0), X, y)


# --- factor analysis: Gaussian log-likelihood with a low-rank-plus-diagonal covariance ---
def factor_analysis_nll(W, log_psi, mu, data):
    cov = W @ W.T + np.diag(np.exp(log_psi))
    sign, logdet = np.linalg.slogdet(cov)
    centered = data - mu
    maha = np.einsum("ni,ni->n", centered, np.linalg.solve(cov, centered.T).T)
    n, d = data.shape
    return 0.5 * (np.sum(maha) + n * logdet + n * d * np.log(2 * np.pi)) / n


def fa_args(rng):
    W = gauss(rng, 4, 2, scale=0.7)
    data = gauss(rng, 12, 2) @ W.T + gauss(rng, 12, 4, scale=0.5)
    return (W + gauss(rng, 4, 2, scale=0.1), gauss(rng, 4, scale=0.2), gauss(rng, 4, scale=0.1),
            data)


# --- Cox proportional hazards: partial likelihood with risk sets by a reversed cumsum -----
def cox_partial_nll(beta, X, times, events):
    order = np.argsort(times)
    eta = X[order] @ beta
    risk = np.cumsum(np.exp(eta)[::-1])[::-1]  # sum over everyone still at risk
    return -np.sum(events[order] * (eta - np.log(risk))) / np.sum(events)


def cox_args(rng):
    X = gauss(rng, 10, 3)
    times = rng.exponential(1.0, 10)
    events = (rng.random(10) < 0.7).astype(float)
    events[0] = 1.0
    return (gauss(rng, 3, scale=0.5), X, times, events)


# --- count regression: negative binomial with lgamma, Poisson with gammaln and xlogy -----
def negative_binomial_nll(log_mu, log_r, counts):
    r = math.exp(log_r)
    total = 0.0
    for lm, k in zip(log_mu, counts):
        mu = math.exp(lm)
        total -= (math.lgamma(k + r) - math.lgamma(r) - math.lgamma(k + 1.0)
                  + r * math.log(r / (r + mu)) + k * math.log(mu / (r + mu)))
    return total


def poisson_glm_nll(beta, X, counts, exposure):
    rate = exposure * np.exp(X @ beta)
    return np.sum(rate - sp.xlogy(counts, rate) + sp.gammaln(counts + 1.0))


def nb_args(rng):
    return (list(rng.uniform(0.0, 2.0, 6)), rng.uniform(-0.5, 1.0),
            [float(k) for k in rng.poisson(3.0, 6)])


def poisson_args(rng):
    X = np.hstack([np.ones((15, 1)), gauss(rng, 15, 2, scale=0.5)])
    counts = rng.poisson(2.0, 15).astype(float)
    return (gauss(rng, 3, scale=0.3), X, counts, rng.uniform(0.5, 2.0, 15))


# --- Kalman filter log-likelihood of a local-linear-trend model -------------------------
def kalman_loglik(log_q, log_r, obs):
    F = np.array([[1.0, 1.0], [0.0, 1.0]])
    H = np.array([[1.0, 0.0]])
    Q = np.diag(np.exp(log_q))
    R = np.exp(log_r) * np.eye(1)
    m = np.zeros(2)
    P = 10.0 * np.eye(2)
    ll = 0.0
    for y in obs:
        m = F @ m
        P = F @ P @ F.T + Q
        S = H @ P @ H.T + R
        v = y - H @ m
        sign, logdet = np.linalg.slogdet(S)
        ll = ll - 0.5 * (logdet + v @ np.linalg.solve(S, v) + math.log(2 * math.pi))
        K = P @ H.T @ np.linalg.inv(S)
        m = m + K @ v
        P = P - K @ S @ K.T
    return ll


def kalman_args(rng):
    level = np.cumsum(0.3 + gauss(rng, 8, scale=0.2))
    return (gauss(rng, 2, scale=0.3) - 1.0, rng.uniform(-1.0, 0.0),
            (level + gauss(rng, 8, scale=0.3))[:, None])


CASES = [
    Case("gp_cholesky_marginal_likelihood", gp_negative_log_marginal, gp_args,
         wrt=("log_ls", "log_amp", "log_noise"),
         note="np.linalg.cholesky, two solves with the factor, log of np.diag"),
    Case("factor_analysis_slogdet", factor_analysis_nll, fa_args, wrt=("W", "log_psi", "mu"),
         note="slogdet of W W^T + diag, solve, einsum row dots"),
    Case("cox_partial_likelihood", cox_partial_nll, cox_args, wrt="beta",
         note="argsort, reversed np.cumsum for risk sets"),
    Case("negative_binomial_lgamma", negative_binomial_nll, nb_args, wrt=("log_mu", "log_r"),
         note="math.lgamma over lists of floats"),
    Case("poisson_glm_gammaln_xlogy", poisson_glm_nll, poisson_args, wrt="beta",
         note="scipy.special.xlogy and gammaln"),
    Case("kalman_filter_loglik", kalman_loglik, kalman_args, wrt=("log_q", "log_r"),
         note="slogdet, solve and inv of the innovation covariance in a loop"),
]
