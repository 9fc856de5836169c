"""Realistic programs of stop 53's area: softmaxes written over several statements
(attention, mixture weights, a policy, Boltzmann weights, portfolio weights), energies
and penalties through ``np.diff``, matrix diagonals read and written, and small-array
code whose gradient is called every step (a GLM, a tanh RNN, a stencil); sliding windows
kept in a deque; a list relaxed on some paths of a loop (round 91's silently wrong class)."""

import collections

import numpy as np
from _spec import Case

# ---------------------------------------------------------------- softmax over statements


def attention_readout(Wq, Wk, X, V):
    """Single-head attention over 6 tokens: the scores' row max taken out before exp."""
    q = X @ Wq
    k = X @ Wk
    scores = q @ k.T / np.sqrt(q.shape[1])
    scores = scores - scores.max(axis=1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=1, keepdims=True)
    out = weights @ V
    return np.sum(out * out)


def mixture_weights_loglik(logits, means, x):
    """A 1-D Gaussian mixture's log-likelihood, its weights a softmax of free logits."""
    shifted = logits - np.max(logits)
    e = np.exp(shifted)
    pi = e / np.sum(e)
    dens = np.exp(-0.5 * (x[:, None] - means[None, :]) ** 2) / np.sqrt(2.0 * np.pi)
    return np.sum(np.log(dens @ pi))


def policy_objective(theta, features, rewards):
    """REINFORCE-style expected reward of a softmax policy over 5 actions, per state."""
    prefs = features @ theta
    prefs = prefs - prefs.max(axis=1, keepdims=True)
    expo = np.exp(prefs)
    probs = expo / expo.sum(axis=1, keepdims=True)
    entropy = -np.sum(probs * np.log(probs))
    return np.sum(probs * rewards) + 0.01 * entropy


def boltzmann_average_energy(levels, beta):
    """The mean energy of a system over its levels, weights exp(-beta E) normalised."""
    a = -beta * levels
    a = a - a.max()
    w = np.exp(a)
    p = w / w.sum()
    return p @ levels


def log_partition_and_weights(z):
    """A log-sum-exp reads the same sum the weights divide by: the max keeps its gradient."""
    m = z.max()
    e = np.exp(z - m)
    total = e.sum()
    weights = e / total
    return m + np.log(total) + weights @ np.arange(z.size)


# ---------------------------------------------------------------- differences and diagonals


def elastic_rod_energy(positions, stiffness):
    """Stretching and bending energy of a discretised rod: first and second differences."""
    stretch = np.diff(positions) - 0.1
    bend = np.diff(positions, n=2)
    return 0.5 * stiffness * np.sum(stretch ** 2) + 0.05 * np.sum(bend ** 2)


def smoothness_penalty_grid(field):
    """A total-squared-variation penalty of a 2-D field along both axes."""
    return np.sum(np.diff(field, axis=0) ** 2) + np.sum(np.diff(field, axis=1) ** 2)


def pairwise_coulomb(charges, pos):
    """Coulomb energy of 8 softened charges; the self-terms taken off through np.diag."""
    d = pos[:, None, :] - pos[None, :, :]
    r = np.sqrt(np.sum(d * d, axis=-1) + 0.05)
    pair = np.outer(charges, charges) / r
    return 0.5 * (np.sum(pair) - np.sum(np.diag(pair)))


def precision_log_det(L_entries):
    """A Gaussian precision's log-determinant from a Cholesky-like factor: the diagonal
    written with np.diag of exp, the rest of the lower triangle as given."""
    n = 4
    L = np.tril(L_entries.reshape(n, n), -1) + np.diag(np.exp(np.diagonal(
        L_entries.reshape(n, n))))
    P = L @ L.T
    return np.linalg.slogdet(P)[1] + 0.1 * np.trace(P)


# ---------------------------------------------------------------- small arrays, every step


def poisson_regression(beta, X, counts):
    """A Poisson GLM's negative log-likelihood with a log link, and a ridge term."""
    eta = X @ beta
    return np.sum(np.exp(eta) - counts * eta) + 0.5 * 0.1 * beta @ beta


def rnn_last_state(Wh, Wx, xs):
    """A tanh RNN over 12 steps, hidden size 5: the last state's squared norm."""
    h = np.zeros(Wh.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return h @ h


def diffusion_stencil(u0, kappa):
    """Explicit heat-equation steps on 20 points, the Laplacian written into a buffer."""
    u = u0.copy()
    for _ in range(25):
        lap = np.zeros_like(u)
        lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
        u = u + kappa * lap
    return np.sum(u * u)


def rolling_sharpe(returns, risk_free):
    """A rolling Sharpe-like score over a window of 4 returns kept in a deque."""
    window = collections.deque(maxlen=4)
    score = 0.0
    for r in returns:
        window.append(r - risk_free)
        mean = sum(window) / len(window)
        spread = sum((v - mean) ** 2 for v in window) / len(window)
        score += mean / (spread + 0.1) ** 0.5
    return score


def queued_smoothing(values, alpha):
    """Exponential smoothing of a queue of readings taken from the left until empty."""
    queue = collections.deque(values)
    level = queue.popleft()
    while queue:
        level = alpha * queue.popleft() + (1.0 - alpha) * level
    return level


def shortest_path_lengths(weights):
    """Bellman-Ford over a small graph held in a list: each distance relaxed only where a
    shorter path is found, and read in the same sweep."""
    dist = [0.0, 50.0, 50.0, 50.0, 50.0]
    edges = [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (3, 4), (2, 4)]
    total = 0.0
    for _ in range(4):
        for e, (a, b) in enumerate(edges):
            if dist[a] + weights[e] < dist[b]:
                dist[b] = dist[a] + weights[e]
            total += 0.1 * dist[b]  # (the relaxed distance, read after the join)
    return total + sum(dist)


def _attention(rng):
    return (rng.normal(size=(4, 3)) * 0.5, rng.normal(size=(4, 3)) * 0.5,
            rng.normal(size=(6, 4)), rng.normal(size=(6, 2)))


CASES = [
    Case("attention_readout", attention_readout, _attention, wrt=(0, 1),
         note="row max out of the scores, exp and normalisation as three statements"),
    Case("mixture_weights_loglik", mixture_weights_loglik,
         lambda rng: (rng.normal(size=3), np.array([-1.0, 0.0, 1.5]), rng.normal(size=20)),
         wrt=(0, 1), note="a softmax of free logits by np.max and np.sum"),
    Case("policy_objective", policy_objective,
         lambda rng: (rng.normal(size=(3, 5)) * 0.3, rng.normal(size=(7, 3)),
                      rng.normal(size=(7, 5))), wrt=0,
         note="the probabilities read twice (reward and entropy)"),
    Case("boltzmann_average_energy", boltzmann_average_energy,
         lambda rng: (np.sort(rng.uniform(0.0, 3.0, size=6)), 1.3), wrt=(0, 1),
         note="a max over every axis taken out before the weights"),
    Case("log_partition_and_weights", log_partition_and_weights,
         lambda rng: (rng.normal(size=5),), wrt=0,
         note="the sum read by a log too: the max's gradient must flow"),
    Case("elastic_rod_energy", elastic_rod_energy,
         lambda rng: (np.cumsum(0.1 + 0.02 * rng.normal(size=12)), 2.5), wrt=(0, 1),
         note="np.diff of n=1 and n=2"),
    Case("smoothness_penalty_grid", smoothness_penalty_grid,
         lambda rng: (rng.normal(size=(5, 4)),), wrt=0, note="np.diff along both axes"),
    Case("pairwise_coulomb", pairwise_coulomb,
         lambda rng: (rng.normal(size=8), rng.normal(size=(8, 3))), wrt=(0, 1),
         note="np.diag of a matrix read"),
    Case("precision_log_det", precision_log_det,
         lambda rng: (rng.normal(size=16) * 0.3,), wrt=0,
         note="np.diagonal read, np.diag of a vector written, trace"),
    Case("poisson_regression", poisson_regression,
         lambda rng: (rng.normal(size=4) * 0.1, rng.normal(scale=0.3, size=(30, 4)),
                      rng.poisson(2.0, size=30).astype(float)), wrt=0,
         note="a GLM's gradient on small arrays"),
    Case("rnn_last_state", rnn_last_state,
         lambda rng: (rng.normal(size=(5, 5)) * 0.3, rng.normal(size=(5, 2)) * 0.3,
                      rng.normal(size=(12, 2))), wrt=(0, 1),
         note="matrix-vector products in a loop"),
    Case("rolling_sharpe", rolling_sharpe,
         lambda rng: (list(rng.normal(0.01, 0.05, size=9)), 0.002), wrt=(0, 1),
         note="a deque(maxlen=4) window read by sum and len"),
    Case("queued_smoothing", queued_smoothing,
         lambda rng: (list(rng.normal(size=7)), 0.3), wrt=(0, 1),
         note="a deque read by popleft until it is empty"),
    Case("shortest_path_lengths", shortest_path_lengths,
         lambda rng: (list(rng.uniform(1.0, 4.0, size=7)),), wrt=0,
         note="a list written on one path of a loop and read after the join"),
    Case("diffusion_stencil", diffusion_stencil,
         lambda rng: (np.sin(np.linspace(0.0, np.pi, 20)), 0.2), wrt=(0, 1),
         note="a buffer made and written each step, read by the next"),
]
