"""Programs with `with` blocks, `try` statements and dicts built in the function, written
the way people write them (issue 14): numerically guarded log-likelihoods under
np.errstate, a warnings.catch_warnings block, config dicts of coefficients, settings
parsed in try/except, an optional import, a fallback factorisation of a fixed matrix.

Run with ``python ../shared/realistic/run.py --cases tests/realistic -k context_try``."""
import contextlib
import os
import warnings

import numpy as np
from _spec import Case


def gauss(rng, *shape, scale=1.0):
    return scale * rng.standard_normal(shape)


# --- Poisson regression: y * log(mu) is 0 * -inf where a rate underflows -----------------
def poisson_loglik(beta, X, y):
    eta = X @ beta
    mu = np.exp(eta)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(mu), 0.0)
    return -np.sum(term - mu)


def poisson_args(rng):
    X = gauss(rng, 12, 3, scale=0.5)
    y = rng.poisson(1.5, 12).astype(float)
    return (gauss(rng, 3, scale=0.3), X, y)


# --- logistic loss with a quiet overflow of exp for confident predictions -----------------
def logistic_nll(w, X, labels):
    z = X @ w
    with np.errstate(over="ignore"):
        p = 1.0 / (1.0 + np.exp(-z))
    eps = 1e-12
    return -np.mean(labels * np.log(p + eps) + (1 - labels) * np.log(1 - p + eps))


def logistic_args(rng):
    X = gauss(rng, 20, 4)
    labels = (rng.random(20) < 0.5).astype(float)
    return (gauss(rng, 4, scale=0.5), X, labels)


# --- KL divergence between histograms, warnings silenced the standard-library way --------
def kl_to_reference(logits, reference):
    q = np.exp(logits - np.max(logits))
    q = q / np.sum(q)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ratio = np.where(reference > 0, reference / q, 1.0)
        kl = np.sum(np.where(reference > 0, reference * np.log(ratio), 0.0))
    return kl


def kl_args(rng):
    ref = rng.random(6)
    ref[2] = 0.0
    return (gauss(rng, 6), ref / ref.sum())


# --- elastic-net regression whose coefficients live in a config dict ---------------------
def elastic_net_loss(w, X, y):
    coef = {"fit": 1.0, "l2": 0.1, "l1": 0.01}
    resid = X @ w - y
    terms = {"fit": np.mean(resid ** 2), "l2": np.sum(w ** 2), "l1": np.sum(np.sqrt(w ** 2 + 1e-8))}
    total = 0.0
    for name, c in coef.items():
        total = total + c * terms[name]
    return total


def elastic_args(rng):
    X = gauss(rng, 15, 4)
    return (gauss(rng, 4), X, X @ gauss(rng, 4) + 0.1 * gauss(rng, 15))


# --- polynomial fit whose degree comes from the environment, with a default --------------
def poly_fit_loss(coeffs, t, y):
    try:
        degree = int(os.environ.get("POLY_DEGREE", "3"))
    except ValueError:
        degree = 3
    degree = min(degree, len(coeffs) - 1)
    pred = np.zeros_like(t)
    for k in range(degree + 1):
        pred = pred + coeffs[k] * t ** k
    return np.mean((pred - y) ** 2)


def poly_args(rng):
    t = np.linspace(-1.0, 1.0, 8)  # (not 0: forward mode's t ** 0 there is nan, an old bug)
    return (gauss(rng, 4), t, np.sin(2 * t))


# --- a sigmoid from SciPy when it is installed, else written out ------------------------
def sigmoid_loss(z, target):
    try:
        from scipy.special import expit
    except ImportError:
        expit = None
    if expit is not None:
        p = expit(z)
    else:
        p = 1.0 / (1.0 + np.exp(-z))
    return np.sum((p - target) ** 2)


def sigmoid_args(rng):
    return (gauss(rng, 5), rng.random(5))


# --- an option looked up in a dict of settings, with a fallback --------------------------
def ridge_with_options(w, X, y, options):
    try:
        lam = float(options["lam"])
    except (KeyError, TypeError, ValueError):
        lam = 0.1
    resid = X @ w - y
    return 0.5 * np.sum(resid ** 2) + 0.5 * lam * np.sum(w ** 2)


def ridge_args(rng):
    X = gauss(rng, 10, 3)
    return (gauss(rng, 3), X, gauss(rng, 10), {"lam": "0.5", "solver": "direct"})


# --- whitening with the Cholesky factor of a fixed covariance, falling back to eigh ------
def whitened_sq_error(mu, data, cov):
    try:
        L = np.linalg.cholesky(cov)
        W = np.linalg.inv(L)
    except np.linalg.LinAlgError:
        vals, vecs = np.linalg.eigh(cov)
        W = (vecs / np.sqrt(np.maximum(vals, 1e-9))).T
    z = (data - mu) @ W.T
    return 0.5 * np.sum(z ** 2)


def whiten_args(rng):
    A = gauss(rng, 3, 3)
    return (gauss(rng, 3), gauss(rng, 8, 3), A @ A.T + 0.5 * np.eye(3))


# --- a mixture weight per component, kept in a dict of differentiated values ------------
def mixture_nll(log_w1, log_w2, x):
    w = {"narrow": np.exp(log_w1), "wide": np.exp(log_w2)}
    scale = {"narrow": 0.5, "wide": 2.0}
    dens = np.zeros_like(x)
    total_w = w["narrow"] + w["wide"]
    for name in w:
        s = scale[name]
        dens = dens + w[name] / total_w * np.exp(-0.5 * (x / s) ** 2) / (s * np.sqrt(2 * np.pi))
    with np.errstate(divide="ignore"):
        logd = np.log(dens)
    return -np.sum(logd)


def mixture_args(rng):
    return (gauss(rng, scale=0.3), gauss(rng, scale=0.3), gauss(rng, 10))


# --- entropy regulariser of a softmax policy: p log p with p = 0 silenced ---------------
def policy_entropy_loss(theta, features, rewards):
    logits = features @ theta
    p = np.exp(logits - np.max(logits))
    p = p / np.sum(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    entropy = -np.sum(plogp)
    return -np.sum(p * rewards) - 0.01 * entropy


def policy_args(rng):
    return (gauss(rng, 3), gauss(rng, 5, 3), gauss(rng, 5))


# --- Huber loss whose delta is parsed once from a string setting -----------------------
def huber_loss(pred, target, delta_setting="1.0"):
    try:
        delta = float(delta_setting)
    except ValueError:
        delta = 1.0
    r = np.abs(pred - target)
    quad = 0.5 * r ** 2
    lin = delta * (r - 0.5 * delta)
    return np.sum(np.where(r <= delta, quad, lin))


def huber_args(rng):
    return (gauss(rng, 7, scale=1.5), gauss(rng, 7), "0.8")


# --- a training loss that prints diagnostics with fewer digits --------------------------
def printed_mse(w, X, y):
    pred = X @ w
    loss = np.mean((pred - y) ** 2)
    with np.printoptions(precision=3, suppress=True):
        print("weights", w, "loss", loss)
    return loss


def printed_args(rng):
    X = gauss(rng, 8, 2)
    return (gauss(rng, 2), X, gauss(rng, 8))


# --- the whole log-likelihood inside errstate, returned from the block -----------------
def gamma_loglik(log_shape, log_rate, x):
    with np.errstate(over="ignore", under="ignore"):
        a = np.exp(log_shape)
        b = np.exp(log_rate)
        return -np.sum(a * np.log(b) + (a - 1) * np.log(x) - b * x) + len(x) * np.sum(np.log(np.arange(1, 4)))


def gamma_args(rng):
    return (gauss(rng, scale=0.3), gauss(rng, scale=0.3), 0.5 + rng.random(9))


# --- quiet or not: the context manager chosen by a flag ---------------------------------
def maybe_quiet_log(x, quiet=True):
    ctx = np.errstate(divide="ignore") if quiet else contextlib.nullcontext()
    with ctx:
        y = np.log(x)
    return np.sum(y ** 2)


def quiet_args(rng):
    return (0.5 + rng.random(4),)


# --- a Cholesky of a matrix that depends on the parameters, with a jitter fallback ------
def gp_nll_with_fallback(log_ls, X, y):
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = np.exp(-0.5 * sq / np.exp(2 * log_ls)) + 1e-6 * np.eye(len(X))
    try:
        L = np.linalg.cholesky(K)
    except np.linalg.LinAlgError:
        L = np.linalg.cholesky(K + 1e-3 * np.eye(len(X)))
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(L)))


def gp_args(rng):
    X = rng.uniform(-2.0, 2.0, (6, 1))
    return (gauss(rng, scale=0.2), X, np.sin(X[:, 0]))


CASES = [
    Case("poisson_loglik", poisson_loglik, poisson_args, wrt="beta",
         note="np.errstate around y * log(mu) with np.where"),
    Case("logistic_nll", logistic_nll, logistic_args, wrt="w",
         note="np.errstate(over='ignore') around exp"),
    Case("kl_to_reference", kl_to_reference, kl_args, wrt="logits",
         note="warnings.catch_warnings + simplefilter"),
    Case("elastic_net_loss", elastic_net_loss, elastic_args, wrt="w",
         note="config dict of coefficients, dict of differentiated terms"),
    Case("poly_fit_loss", poly_fit_loss, poly_args, wrt="coeffs",
         note="try/except around a setting parsed from the environment"),
    Case("sigmoid_loss", sigmoid_loss, sigmoid_args, wrt="z", expect="LOCATED", bad="p = expit(z)",
         note="optional import in try/except: the imported function is a local variable"),
    Case("ridge_with_options", ridge_with_options, ridge_args, wrt="w",
         note="try/except around a lookup in a dict of settings"),
    Case("whitened_sq_error", whitened_sq_error, whiten_args, wrt="mu",
         note="try cholesky of a fixed matrix except LinAlgError: eigh"),
    Case("mixture_nll", mixture_nll, mixture_args, wrt=("log_w1", "log_w2"),
         note="dicts of differentiated weights and fixed scales, errstate around log"),
    Case("policy_entropy_loss", policy_entropy_loss, policy_args, wrt="theta",
         note="p log p under errstate with np.where"),
    Case("huber_loss", huber_loss, huber_args, wrt="pred",
         note="a parameter parsed in try/except"),
    Case("printed_mse", printed_mse, printed_args, wrt="w",
         note="np.printoptions around a print"),
    Case("gamma_loglik", gamma_loglik, gamma_args, wrt=("log_shape", "log_rate"),
         note="return from inside np.errstate"),
    Case("maybe_quiet_log", maybe_quiet_log, quiet_args, wrt="x", expect="LOCATED", bad="with ctx:",
         note="a context manager chosen at run time: not the call in the with line"),
    Case("gp_nll_with_fallback", gp_nll_with_fallback, gp_args, wrt="log_ls", expect="LOCATED",
         bad="L = np.linalg.cholesky(K)",
         note="try around a factorisation of a differentiated matrix"),
]
