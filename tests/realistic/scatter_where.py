"""Scatter with repeated indices (embedding bags, histograms, segment sums, "last value
wins" lookups), masked math with np.where over values where the unselected branch is
singular (pairwise distances with a zero diagonal, Poisson deviance and KL with zero
counts), products over arrays with an exact zero, and a few loops with break/continue."""
import math

import numpy as np
from _spec import Case


def gauss(rng, *shape, scale=1.0):
    return scale * rng.standard_normal(shape)


# --- embedding bag: out[idx] += v with repeated token ids (numpy adds once per id) ----
def bag_of_words_score(E, token_ids, w):
    counts = np.zeros(E.shape[0])
    counts[token_ids] += 1.0
    pooled = counts @ E
    return np.tanh(pooled @ w)


def bow_args(rng):
    return (gauss(rng, 6, 3, scale=0.5), np.array([0, 2, 2, 5, 1, 2]), gauss(rng, 3))


# --- scatter of per-token values into a vocabulary-sized vector with += --------------
def scatter_add_buffered(vals, idx, w):
    out = np.zeros(5)
    out[idx] += vals
    return np.sum(w * out ** 2)


def sab_args(rng):
    return (gauss(rng, 6), np.array([0, 3, 3, 1, 0, 4]), gauss(rng, 5))


# --- segment sums with np.add.at (adds each repeated index) ----------------------------
def segment_mean_loss(x, seg, targets):
    sums = np.zeros(targets.shape[0])
    np.add.at(sums, seg, x)
    counts = np.bincount(seg, minlength=targets.shape[0])
    return np.sum((sums / counts - targets) ** 2)


def seg_args(rng):
    return (gauss(rng, 8), np.array([0, 0, 1, 2, 2, 2, 1, 0]), gauss(rng, 3))


# --- the same segment sums written as a loop (how people avoid add.at) ----------------
def segment_sum_loop(x, seg, targets):
    sums = np.zeros(targets.shape[0])
    for i in range(x.shape[0]):
        sums[seg[i]] += x[i]
    return np.sum((sums - targets) ** 2)


# --- "last observation wins": latest price per asset via fancy-index assignment ------
def latest_price_value(prices, asset_ids, holdings):
    latest = np.zeros(holdings.shape[0])
    latest[asset_ids] = prices
    return np.dot(holdings, np.log(latest))


def latest_args(rng):
    return (rng.uniform(50, 150, 7), np.array([0, 1, 0, 2, 1, 0, 3]), rng.uniform(1, 10, 4))


# --- soft histogram: triangular kernel weights scattered into bins ------------------
def soft_histogram_entropy(x, n_bins=6):
    lo, hi = -3.0, 3.0
    width = (hi - lo) / n_bins
    hist = np.zeros(n_bins + 1)
    for i in range(x.shape[0]):
        pos = (x[i] - lo) / width
        k = int(math.floor(pos))
        frac = pos - k
        hist[k] += 1.0 - frac
        hist[k + 1] += frac
    p = hist / np.sum(hist) + 1e-3
    return -np.sum(p * np.log(p))


def hist_args(rng):
    x = rng.uniform(-2.7, 2.7, 10)
    # keep away from bin edges (kinks)
    x = np.round(x) + rng.uniform(0.2, 0.8, 10) * np.sign(rng.standard_normal(10))
    return (np.clip(x, -2.9, 2.9),)


# --- pairwise distances with a zero diagonal, sqrt masked by np.where ------------------
def stress_mds(X, D):
    diff = X[:, None, :] - X[None, :, :]
    d2 = np.sum(diff ** 2, axis=-1)
    dist = np.where(d2 > 0, np.sqrt(d2), 0.0)
    return np.sum((dist - D) ** 2)


def mds_args(rng):
    n = 5
    Y = gauss(rng, n, 2)
    D = np.sqrt(np.sum((Y[:, None, :] - Y[None, :, :]) ** 2, axis=-1))
    return (Y + gauss(rng, n, 2, scale=0.2), D)


# --- Poisson deviance with zero counts: np.where(y > 0, y * log(y / mu), 0) ----------
def poisson_deviance(beta, X, y):
    mu = np.exp(X @ beta)
    term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return 2.0 * np.sum(term - (y - mu))


def pois_args(rng):
    X = np.hstack([np.ones((12, 1)), gauss(rng, 12, 1, scale=0.5)])
    y = rng.poisson(np.exp(X @ np.array([0.2, 0.5]))).astype(float)
    y[0] = 0.0
    return (gauss(rng, 2, scale=0.2), X, y)


# --- KL(p || q) with zeros in p, q from a softmax ---------------------------------------
def kl_to_softmax(logits, p):
    q = np.exp(logits - np.max(logits))
    q = q / np.sum(q)
    return np.sum(np.where(p > 0, p * np.log(p / q), 0.0))


def kl_args(rng):
    p = np.array([0.5, 0.0, 0.3, 0.0, 0.2])
    return (gauss(rng, 5), p)


# --- np.where(x > 0, np.log(x), 0) over data with exact zeros, differentiated in a scale
def log_transform_regression(a, b, x, y):
    z = np.where(x > 0, np.log(a * x), 0.0)
    return np.mean((b * z - y) ** 2)


def ltr_args(rng):
    x = rng.uniform(0.5, 3.0, 8)
    x[2] = 0.0
    x[5] = 0.0
    return (rng.uniform(0.8, 1.5), rng.uniform(0.5, 1.5), x, gauss(rng, 8))


# --- the nodal polynomial prod(t - nodes) at a node (an exact zero factor) --------------
def nodal_polynomial_derivative(t, nodes):
    return np.prod(t - nodes)


def nodal_args(rng):
    nodes = np.sort(rng.uniform(-1, 1, 4))
    return (float(nodes[1]), nodes)


# --- loop with continue and break: first-passage portfolio value ---------------------
def drawdown_stop_value(w, returns, stop=-0.15):
    value = 1.0
    peak = 1.0
    for t in range(returns.shape[0]):
        r = np.dot(w, returns[t])
        if abs(r) < 1e-4:
            continue
        value *= 1.0 + r
        if value > peak:
            peak = value
        if value / peak - 1.0 < stop:
            break
    return math.log(value)


def dd_args(rng):
    R = gauss(rng, 30, 3, scale=0.03) + 0.002
    R[12] = np.array([-0.2, -0.25, -0.22])  # a crash that triggers the stop
    return (rng.dirichlet(np.ones(3)), R)


# --- an if around a whole loop: refine only when the coarse estimate is poor ---------
def adaptive_trapezoid(k, n_coarse=8):
    xs = np.linspace(0.0, 1.0, n_coarse + 1)
    fx = np.exp(-k * xs * xs)
    coarse = (0.5 * fx[0] + np.sum(fx[1:-1]) + 0.5 * fx[-1]) / n_coarse
    if k > 1.0:
        fine = np.zeros(4 * n_coarse + 1)
        for i in range(4 * n_coarse + 1):
            x = i / (4.0 * n_coarse)
            fine[i] = math.exp(-k * x * x)
        return (0.5 * fine[0] + np.sum(fine[1:-1]) + 0.5 * fine[-1]) / (4 * n_coarse)
    return coarse


def trap_args(rng):
    return (rng.choice([rng.uniform(0.3, 0.8), rng.uniform(1.5, 3.0)]),)


# --- unrolled sparse SGD on embeddings with duplicate ids in the batch ----------------
def sparse_embedding_sgd(E0, ids, targets, lr=0.1, steps=3):
    E = E0.copy()
    for _ in range(steps):
        rows = E[ids]
        g = rows - targets
        E[ids] -= lr * g
    return np.sum((E[ids] - targets) ** 2)


def ses_args(rng):
    return (gauss(rng, 5, 2), np.array([1, 3, 1, 4]), gauss(rng, 4, 2))


CASES = [
    Case("bag_of_words_score", bag_of_words_score, bow_args, wrt=("E", "w"),
         note="counts[token_ids] += 1.0 with repeats (numpy counts each id once)"),
    Case("scatter_add_buffered", scatter_add_buffered, sab_args, wrt=("vals", "w"),
         note="out[idx] += vals with repeated idx: only the last value of a repeat lands"),
    Case("segment_mean_loss", segment_mean_loss, seg_args, wrt="x",
         note="np.add.at(sums, seg, x): every repeat of an index adds"),
    Case("segment_sum_loop", segment_sum_loop, seg_args, wrt="x",
         note="sums[seg[i]] += x[i] in a loop"),
    Case("latest_price_value", latest_price_value, latest_args, wrt=("prices", "holdings"),
         note="latest[asset_ids] = prices with repeats: the last one wins"),
    Case("soft_histogram_entropy", soft_histogram_entropy, hist_args, wrt="x",
         note="hist[k] += ... with k from floor"),
    Case("stress_mds", stress_mds, mds_args, wrt="X",
         note="np.where(d2 > 0, np.sqrt(d2), 0) with a zero diagonal"),
    Case("poisson_deviance", poisson_deviance, pois_args, wrt="beta",
         note="np.where(y > 0, y * log(y / mu), 0) with zero counts"),
    Case("kl_to_softmax", kl_to_softmax, kl_args, wrt="logits",
         note="np.where(p > 0, p * log(p / q), 0) with zeros in p"),
    Case("log_transform_regression", log_transform_regression, ltr_args, wrt=("a", "b"),
         note="np.where(x > 0, np.log(a * x), 0) over data with zeros"),
    Case("nodal_polynomial_derivative", nodal_polynomial_derivative, nodal_args, wrt="t",
         note="np.prod with an exact zero factor"),
    Case("drawdown_stop_value", drawdown_stop_value, dd_args, wrt="w",
         note="continue and break inside if in a loop over an array"),
    Case("adaptive_trapezoid", adaptive_trapezoid, trap_args, wrt="k",
         note="if around a whole loop, early return"),
    Case("sparse_embedding_sgd", sparse_embedding_sgd, ses_args, wrt="E0",
         note="E[ids] -= lr * g with a repeated id (numpy applies only the last update)"),
]
