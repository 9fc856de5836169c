"""Realistic programs of stop 45's area: tables kept as lists of lists (sequence alignment,
Viterbi, option trees, Gauss-Seidel sweeps, LU factors), functions given as arguments
(an integrator's right-hand side, a layer's activation), scalar recurrences written into
arrays (EWMA and GARCH volatility), SciPy's cumulative integrals, and robust losses made
with sorted, filter and max(..., default=)."""

import math

import numpy as np
from _spec import Case
from scipy.integrate import cumulative_trapezoid


def soft_edit_distance(a, b, gamma):
    """An edit distance with soft minima (differentiable alignment), row by row."""
    n, m = len(a), len(b)
    D = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        D[i][0] = D[i - 1][0] + 1.0
    for j in range(1, m + 1):
        D[0][j] = D[0][j - 1] + 1.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            options = (D[i - 1][j] + 1.0, D[i][j - 1] + 1.0,
                       D[i - 1][j - 1] + (a[i - 1] - b[j - 1]) ** 2)
            low = min(options)
            D[i][j] = low - gamma * math.log(sum(math.exp(-(o - low) / gamma) for o in options))
    return D[n][m]


def viterbi_score(log_start, log_trans, log_emit):
    """The best path's log score, kept per step and state in a table of rows."""
    steps, states = len(log_emit), len(log_start)
    best = [[0.0] * states for _ in range(steps)]
    for s in range(states):
        best[0][s] = log_start[s] + log_emit[0][s]
    for t in range(1, steps):
        for s in range(states):
            best[t][s] = max(best[t - 1][r] + log_trans[r][s] for r in range(states))
            best[t][s] += log_emit[t][s]
    return max(best[-1])


def trinomial_put(spot, vol, rate, steps=5):
    """A European put on a trinomial tree, its levels as rows of growing length."""
    dt = 0.5 / steps
    up = math.exp(vol * math.sqrt(2.0 * dt))
    a = math.exp(rate * dt / 2.0)
    b = math.exp(vol * math.sqrt(dt / 2.0))
    pu = ((a - 1.0 / b) / (b - 1.0 / b)) ** 2
    pd = ((b - a) / (b - 1.0 / b)) ** 2
    pm = 1.0 - pu - pd
    levels = [[0.0] * (2 * i + 1) for i in range(steps + 1)]
    for j in range(2 * steps + 1):
        levels[steps][j] = max(1.0 - spot * up ** (j - steps), 0.0)
    for i in range(steps - 1, -1, -1):
        for j in range(2 * i + 1):
            nxt = levels[i + 1]
            levels[i][j] = math.exp(-rate * dt) * (
                pd * levels[i + 1][j] + pm * levels[i + 1][j + 1] + pu * nxt[j + 2]
            )
    return levels[0][0]


def gauss_seidel_plate(edge, source):
    """Heat on a small plate: Gauss-Seidel sweeps over a grid of rows, edges held."""
    n = 5
    T = [[0.0] * n for _ in range(n)]
    for k in range(n):
        T[0][k] = edge[0]
        T[n - 1][k] = edge[1]
    for _ in range(6):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                T[i][j] = 0.25 * (T[i - 1][j] + T[i + 1][j] + T[i][j - 1] + T[i][j + 1]
                                  + source * (i * j) / 10.0)
    return sum(sum(row) for row in T) / (n * n)


def lu_log_det(M):
    """log|det M| by a Doolittle factorization kept as lists of rows."""
    n = len(M)
    U = [list(M[i]) for i in range(n)]
    total = 0.0
    for k in range(n):
        for i in range(k + 1, n):
            factor = U[i][k] / U[k][k]
            for j in range(k, n):
                U[i][j] -= factor * U[k][j]
        total += math.log(abs(U[k][k]))
    return total


def decay_rhs(y, k):
    return -k * y + 0.1 * math.sin(y)


def rk4_final(rhs, y0, k, steps=20):
    """RK4 of dy/dt = rhs(y, k), the right-hand side given as an argument."""
    h, y = 0.05, y0
    for _ in range(steps):
        k1 = rhs(y, k)
        k2 = rhs(y + 0.5 * h * k1, k)
        k3 = rhs(y + 0.5 * h * k2, k)
        k4 = rhs(y + h * k3, k)
        y = y + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


def layer_loss(W, x, target, act=np.tanh):
    """A dense layer with its activation as a parameter (its default, here)."""
    return 0.5 * np.sum((act(W @ x) - target) ** 2)


def ewma_variance_nll(lam, r):
    """The negative log-likelihood of returns under an EWMA variance, written step by step."""
    s2 = np.empty(r.shape[0])
    s2[0] = np.var(r)
    for t in range(1, r.shape[0]):
        s2[t] = lam * s2[t - 1] + (1 - lam) * r[t - 1] ** 2
    return 0.5 * np.sum(np.log(s2) + r ** 2 / s2)


def garch_nll(omega, alpha, beta, r):
    """GARCH(1,1): the conditional variance written into an array in a loop."""
    h = np.empty_like(r)
    h[0] = np.mean(r ** 2)
    for t in range(1, len(r)):
        h[t] = omega + alpha * r[t - 1] ** 2 + beta * h[t - 1]
    return 0.5 * np.sum(np.log(h) + r ** 2 / h)


def work_along_path(force, t):
    """The work of a force along a path, its running integral by SciPy."""
    speed = np.cos(t) + 0.5
    work = cumulative_trapezoid(force * speed, t, initial=0.0)
    return np.sum(np.tanh(work))


def trimmed_loss(residuals, k):
    """A robust loss: the k largest squared residuals dropped, small ones floored."""
    squares = [r * r for r in residuals]
    kept = sorted(squares)[: len(squares) - k]
    small = list(filter(lambda s: s < 0.25, kept))
    return sum(kept) / len(kept) + max(small, default=0.0)


CASES = [
    Case("soft_edit_distance", soft_edit_distance,
         lambda rng: (list(rng.normal(size=3)), list(rng.normal(size=4)), 0.5), wrt=(0, 1)),
    Case("viterbi_score", viterbi_score,
         lambda rng: (list(np.log([0.6, 0.4])), [list(r) for r in np.log([[0.7, 0.3], [0.2, 0.8]])],
                      [list(r) for r in rng.normal(size=(4, 2))]), wrt=(0, 2)),
    Case("trinomial_put", trinomial_put,
         lambda rng: (0.95 + 0.1 * rng.random(), 0.2 + 0.1 * rng.random(), 0.03), wrt=(0, 1, 2),
         note="a row named (`nxt = levels[i + 1]`) to read its items while others are written"),
    Case("gauss_seidel_plate", gauss_seidel_plate,
         lambda rng: (list(1.0 + rng.random(2)), 1.0 + rng.random()), wrt=(0, 1)),
    Case("lu_log_det", lu_log_det,
         lambda rng: (rng.normal(size=(3, 3)) + 3.0 * np.eye(3),), wrt=0),
    Case("rk4_rhs_argument", rk4_final, lambda rng: (decay_rhs, 1.0 + rng.random(), 0.5),
         wrt=(1, 2)),
    Case("layer_activation_default", layer_loss,
         lambda rng: (0.5 * rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=2)),
         wrt=(0, 1)),
    Case("ewma_variance_nll", ewma_variance_nll,
         lambda rng: (0.9, 0.02 * rng.normal(size=30)), wrt=(0, 1)),
    Case("garch_nll", garch_nll,
         lambda rng: (0.2, 0.1, 0.85, rng.normal(size=25)), wrt=(0, 1, 2, 3)),
    Case("work_along_path", work_along_path,
         lambda rng: (rng.normal(size=6), np.linspace(0.0, 2.0, 6)), wrt=0),
    Case("trimmed_loss", trimmed_loss,
         lambda rng: (list(rng.normal(size=6)), 2), wrt=0),
]
