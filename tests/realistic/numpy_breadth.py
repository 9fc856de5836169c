"""Realistic programs of the numpy-breadth task: message passing with scatter sums
(``np.add.reduceat``, ``np.multiply.at``), segment pooling, a ridge regression through
``A.flat[::n+1]``, inserted boundary values, ``np.put_along_axis`` of top-k scores,
``zip(*M)`` transposes, parameters spread with ``*``, list slices written, groups made
with ``dict.setdefault``, piecewise losses and taxes, ``np.vectorize`` and
``np.apply_along_axis`` of the user's functions; and a spectral loss (``np.fft``),
refused in plain words."""

import numpy as np
from _spec import Case

# ---------------------------------------------------------------- scatters, segments


def gnn_scatter_sum(h, W, edge_src):
    """One message-passing step: messages sorted by destination, summed per node with
    ``np.add.reduceat`` (three destination nodes: edges 0-2, 3-4, 5)."""
    starts = np.array([0, 3, 5])
    messages = np.tanh(h[edge_src] @ W)
    agg = np.add.reduceat(messages, starts, axis=0)
    return float(np.sum(agg ** 2))


def segment_mean_pooling(x, w):
    """Mean of each variable-length segment of a flat sequence, then a linear readout."""
    starts = np.array([0, 2, 5, 6])
    lengths = np.diff(np.append(starts, x.shape[0]))
    pooled = np.add.reduceat(x, starts, axis=0) / lengths[:, None]
    return float(np.sum((pooled @ w) ** 2))


def multiplicative_gates(x, gates):
    """Each gate scales the feature it is wired to; feature 1 has two gates in series."""
    y = x.copy()
    np.multiply.at(y, [0, 1, 1, 3], gates)
    return float(np.sum(np.log1p(y * y)))


def ridge_with_flat_diagonal(X, y, lam):
    """Ridge regression: the regularizer added on the Gram matrix's diagonal in place."""
    n = X.shape[1]
    G = X.T @ X
    G.flat[::n + 1] += lam
    w = np.linalg.solve(G, X.T @ y)
    return float(np.sum((X @ w - y) ** 2) + lam * np.sum(w ** 2))


def boundary_padded_diffusion(u, left, right):
    """Fixed boundary values inserted at both ends, then explicit diffusion steps."""
    v = np.insert(u, [0, u.size], [left, right])
    for _ in range(3):
        v = np.insert(v[1:-1] + 0.2 * (v[2:] - 2.0 * v[1:-1] + v[:-2]), [0, v.size - 2],
                      [left, right])
    return float(np.sum(v ** 2))


def top2_masked_scores(S):
    """Keep each row's two largest scores (written back by np.put_along_axis), softmax."""
    order = np.argsort(-S, axis=1)[:, :2]
    top = np.take_along_axis(S, order, axis=1)
    masked = np.full_like(S, -30.0)
    np.put_along_axis(masked, order, top, axis=1)
    p = np.exp(masked) / np.sum(np.exp(masked), axis=1, keepdims=True)
    return float(np.sum(p * np.arange(S.shape[1])))


# ---------------------------------------------------------------- Python forms


def matrix_transpose_with_zip(M):
    """Column means of a list-of-lists table by zip(*M), then the squared deviations."""
    T = [list(col) for col in zip(*M)]
    means = [sum(col) / len(col) for col in T]
    return sum((M[i][j] - means[j]) ** 2 * (j + 1) for i in range(len(M)) for j in range(len(T)))


def spring_energy(k, rest, x):
    return 0.5 * k * (x - rest) ** 2


def energy_of_spread_parameters(params, xs):
    """Parameters kept as a tuple and spread into the energy function."""
    return sum(spring_energy(*params, x) for x in xs)


def smoothed_keyframes(a, b):
    """A list of keyframe values whose middle part is replaced by a slice assignment."""
    frames = [0.0, 1.0, 2.0, 3.0, 4.0]
    frames[1:4] = [a, 0.5 * (a + b), b]
    return sum((frames[i + 1] - frames[i]) ** 2 for i in range(len(frames) - 1))


def grouped_variance(x, labels):
    """Values grouped by label with dict.setdefault(...).append, then within-group spread."""
    groups = {}
    for value, label in zip(x, labels):
        groups.setdefault(label, []).append(value)
    total = 0.0
    for members in groups.values():
        mean = sum(members) / len(members)
        total += sum((m - mean) ** 2 for m in members)
    return total


# ---------------------------------------------------------------- piecewise, vectorize


def progressive_tax(incomes, rate):
    """Tax owed by bracket with np.piecewise (a later bracket wins where they overlap)."""
    tax = np.piecewise(incomes, [incomes < 10.0, incomes >= 10.0, incomes >= 50.0],
                       [0.0, lambda t: rate * (t - 10.0),
                        lambda t: rate * 40.0 + 2.0 * rate * (t - 50.0)])
    return float(np.sum(tax))


def _smooth_l1(r):
    return 0.5 * r * r


def smooth_l1_loss(pred, target):
    """The smooth L1 (Huber) loss written with np.piecewise and a module-level function."""
    r = pred - target
    loss = np.piecewise(r, [np.abs(r) < 1.0, np.abs(r) >= 1.0],
                        [_smooth_l1, lambda t: np.abs(t) - 0.5])
    return float(np.mean(loss))


def _logistic(z):
    return 1.0 / (1.0 + np.exp(-z))


def vectorized_activation(W, x):
    """A scalar activation applied elementwise with np.vectorize."""
    return float(np.sum(np.vectorize(_logistic)(W @ x)))


def _row_softmax_entropy(row):
    p = np.exp(row - np.max(row))
    p = p / np.sum(p)
    return -np.sum(p * np.log(p))


def attention_entropy(Q, K):
    """Entropy of each query's attention row, by np.apply_along_axis over the rows."""
    scores = Q @ K.T
    return float(np.mean(np.apply_along_axis(_row_softmax_entropy, 1, scores)))


# ---------------------------------------------------------------- refused


def spectral_flatness(x):
    """A spectral loss: the power spectrum by np.fft.rfft (complex values)."""
    power = np.abs(np.fft.rfft(x)) ** 2
    return float(np.mean(np.log(power + 1e-3)))


CASES = [
    Case("gnn_scatter_sum", gnn_scatter_sum,
         lambda rng: (rng.normal(size=(4, 3)), rng.normal(size=(3, 3)),
                      np.array([1, 2, 3, 0, 3, 1])), wrt=(0, 1),
         note="np.add.reduceat of messages sorted by destination"),
    Case("segment_mean_pooling", segment_mean_pooling,
         lambda rng: (rng.normal(size=(8, 3)), rng.normal(size=3)), wrt=(0, 1),
         note="segment means by np.add.reduceat and np.diff of the starts"),
    Case("multiplicative_gates", multiplicative_gates,
         lambda rng: (rng.normal(size=5), rng.uniform(0.5, 1.5, size=4)), wrt=(0, 1),
         note="np.multiply.at with a repeated position"),
    Case("ridge_with_flat_diagonal", ridge_with_flat_diagonal,
         lambda rng: (rng.normal(size=(8, 3)), rng.normal(size=8), rng.uniform(0.1, 1.0)),
         wrt=(0, 2), note="G.flat[::n + 1] += lam"),
    Case("boundary_padded_diffusion", boundary_padded_diffusion,
         lambda rng: (rng.normal(size=6), rng.normal(), rng.normal()), wrt=(0, 1, 2),
         note="np.insert of boundary values at both ends, in a loop"),
    Case("top2_masked_scores", top2_masked_scores,
         lambda rng: (rng.normal(size=(3, 5)),), wrt=0,
         note="np.take_along_axis and np.put_along_axis of the top two of each row"),
    Case("matrix_transpose_with_zip", matrix_transpose_with_zip,
         lambda rng: ([[float(v) for v in row] for row in rng.normal(size=(3, 4))],), wrt=0,
         note="zip(*M) of a list of lists"),
    Case("energy_of_spread_parameters", energy_of_spread_parameters,
         lambda rng: ((rng.uniform(1.0, 2.0), rng.normal()), rng.normal(size=4)), wrt=(0, 1),
         note="f(*params) of a tuple parameter"),
    Case("smoothed_keyframes", smoothed_keyframes,
         lambda rng: (rng.normal(), rng.normal()), wrt=(0, 1),
         note="frames[1:4] = [...] on a list of floats"),
    Case("grouped_variance", grouped_variance,
         lambda rng: (rng.normal(size=7), ["a", "b", "a", "c", "b", "a", "c"]), wrt=0,
         note="dict.setdefault(label, []).append(value)"),
    Case("progressive_tax", progressive_tax,
         lambda rng: (rng.uniform(1.0, 90.0, size=6), rng.uniform(0.1, 0.3)), wrt=(0, 1),
         note="np.piecewise with constants and lambdas"),
    Case("smooth_l1_loss", smooth_l1_loss,
         lambda rng: (rng.normal(size=6) * 2.0, rng.normal(size=6)), wrt=(0, 1),
         note="np.piecewise with a module-level function"),
    Case("vectorized_activation", vectorized_activation,
         lambda rng: (rng.normal(size=(3, 4)), rng.normal(size=4)), wrt=(0, 1),
         note="np.vectorize of a module-level function"),
    Case("attention_entropy", attention_entropy,
         lambda rng: (rng.normal(size=(3, 4)), rng.normal(size=(5, 4))), wrt=(0, 1),
         note="np.apply_along_axis over the rows of a score matrix"),
    Case("spectral_flatness", spectral_flatness,
         lambda rng: (rng.normal(size=8),), wrt=0, expect="LOCATED", bad="np.fft.rfft",
         msg=("complex",), note="np.fft: complex values are not supported"),
]
