"""Lists the function builds (issue 14): hidden states collected by append, trajectories,
lists of rows, comprehensions, float buffers written by index, written the way people
write them. Adapted from the adversarial programs written against the list support."""

import math

import numpy as np
from _spec import Case


def rnn_hidden_states(W, U, b, xs):
    """Elman RNN: collect hidden states, stack them, loss on all."""
    h = np.zeros(W.shape[0])
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t] + b)
        hs.append(h)
    H = np.stack(hs)
    return np.sum(H ** 2) + np.sum(hs[-1])


def gru_like(Wz, Wh, xs):
    h = np.zeros(Wz.shape[0])
    hs = [h]
    for t in range(len(xs)):
        z = 1.0 / (1.0 + np.exp(-(Wz @ hs[t] + xs[t])))
        cand = np.tanh(Wh @ hs[t] + xs[t])
        hs.append((1 - z) * hs[t] + z * cand)
    return np.sum(np.concatenate(hs[1:]) ** 2)


def attention_over_list(q, K, V):
    """Attention over a list of key/value vectors (rows)."""
    keys = [K[i] for i in range(K.shape[0])]
    vals = [V[i] for i in range(V.shape[0])]
    scores = [q @ k / math.sqrt(len(q)) for k in keys]
    m = max(scores)
    ws = [math.exp(s - m) for s in scores]
    Z = sum(ws)
    out = sum(w / Z * v for w, v in zip(ws, vals))
    return np.sum(out ** 2)


def euler_trajectory(k, x0, v0):
    """Damped oscillator, explicit Euler; loss on the whole trajectory."""
    dt = 0.05
    x, v = x0, v0
    xs = [x]
    for _ in range(20):
        a = -k * x - 0.1 * v
        x = x + dt * v
        v = v + dt * a
        xs.append(x)
    return sum((xi - 0.2) ** 2 for xi in xs) / len(xs)


def rk4_trajectory(theta, y0):
    def rhs(y):
        return -theta * y + np.sin(y)

    dt = 0.1
    y = y0
    traj = []
    for _ in range(5):
        k1 = rhs(y)
        k2 = rhs(y + 0.5 * dt * k1)
        k3 = rhs(y + 0.5 * dt * k2)
        k4 = rhs(y + dt * k3)
        y = y + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        traj.append(y)
    T = np.array(traj)
    return np.sum(T ** 2)


def leapfrog_positions(m, q0, p0):
    q, p = q0, p0
    qs = []
    ps = []
    dt = 0.1
    for _ in range(8):
        p = p - 0.5 * dt * q
        q = q + dt * p / m
        p = p - 0.5 * dt * q
        qs.append(q)
        ps.append(p)
    energy = [0.5 * pi * pi / m + 0.5 * qi * qi for qi, pi in zip(qs, ps)]
    return sum(energy) + qs[-1] * ps[0]


def particles_pairwise(pos, charge):
    """List of particle positions (rows), pairwise Coulomb-like energy, one step."""
    n = pos.shape[0]
    ps = [pos[i] for i in range(n)]
    forces = []
    for i in range(n):
        f = np.zeros(2)
        for j in range(n):
            if i != j:
                d = ps[i] - ps[j]
                r2 = d @ d + 0.1
                f = f + charge * d / r2 ** 1.5
        forces.append(f)
    new = [p + 0.01 * f for p, f in zip(ps, forces)]
    return np.sum(np.stack(new) ** 2)


def conv1d_list(signal, kernel):
    n, m = signal.shape[0], kernel.shape[0]
    out = []
    for i in range(n - m + 1):
        s = 0.0
        for j in range(m):
            s = s + signal[i + j] * kernel[j]
        out.append(s)
    y = np.array(out)
    return np.sum(np.tanh(y))


def heat_equation_steps(u0, alpha):
    u = list(u0)
    n = len(u)
    for _ in range(4):
        new = [0.0] * n
        for i in range(1, n - 1):
            new[i] = u[i] + alpha * (u[i - 1] - 2 * u[i] + u[i + 1])
        new[0] = u[0]
        new[n - 1] = u[n - 1]
        u = new
    return sum(v ** 2 for v in u)


def running_mean_var(xs):
    means = []
    variances = []
    m, s = 0.0, 0.0
    for k, x in enumerate(xs):
        d = x - m
        m = m + d / (k + 1)
        s = s + d * (x - m)
        means.append(m)
        variances.append(s / (k + 1))
    return means[-1] + variances[-1] + 0.1 * sum(means)


def mixture_loglik(mus, sigma, xs):
    comps = [(0.3, mus[0]), (0.7, mus[1])]
    total = 0.0
    for x in xs:
        dens = [p * math.exp(-0.5 * ((x - mu) / sigma) ** 2) / sigma for p, mu in comps]
        total += math.log(sum(dens))
    return total


def kalman_history(q, r, zs):
    x, P = 0.0, 1.0
    xs, Ps = [], []
    for z in zs:
        P = P + q
        K = P / (P + r)
        x = x + K * (z - x)
        P = (1 - K) * P
        xs.append(x)
        Ps.append(P)
    return sum((xi - zi) ** 2 for xi, zi in zip(xs, zs)) + sum(Ps)


def kernel_matrix_rows(X, ell):
    n = X.shape[0]
    K = []
    for i in range(n):
        row = []
        for j in range(n):
            d = X[i] - X[j]
            row.append(math.exp(-0.5 * (d @ d) / ell ** 2))
        K.append(row)
    Km = np.array(K) + 0.1 * np.eye(n)
    return np.sum(np.linalg.solve(Km, np.ones(n)))


def resnet_blocks(W, x):
    feats = [x]
    for k in range(3):
        feats.append(feats[-1] + 0.1 * np.tanh(W @ feats[-1]))
    return np.sum(np.stack(feats)[1:] * np.stack(feats)[:-1])


def horner(coeffs, x):
    cs = list(coeffs)
    acc = 0.0
    for c in reversed(cs):
        acc = acc * x + c
    return acc


CASES = [
    Case("rnn_hidden_states", rnn_hidden_states, lambda rng: (
        np.array([[0.3, -0.2], [0.1, 0.4]]), np.array([[0.5, 0.1], [-0.3, 0.2]]),
        np.array([0.05, -0.1]), np.array([[1.0, 0.5], [0.2, -0.3], [0.4, 0.1]]))),
    Case("gru_like", gru_like, lambda rng: (
        np.array([[0.3, -0.2], [0.1, 0.4]]), np.array([[0.2, 0.1], [-0.3, 0.5]]),
        np.array([[1.0, 0.5], [0.2, -0.3], [0.4, 0.1]]))),
    Case("attention_over_list", attention_over_list, lambda rng: (
        np.array([0.3, -0.5, 0.2]), np.array([[0.1, 0.2, 0.3], [0.5, -0.1, 0.0], [-0.2, 0.4, 0.6]]),
        np.array([[1.0, 0.0], [0.3, 0.7], [-0.5, 0.2]]))),
    Case("euler_trajectory", euler_trajectory, lambda rng: (2.0, 1.0, 0.3)),
    Case("rk4_trajectory", rk4_trajectory, lambda rng: (0.7, np.array([0.5, -0.2]))),
    Case("leapfrog_positions", leapfrog_positions, lambda rng: (1.3, 0.5, 0.2)),
    Case("particles_pairwise", particles_pairwise, lambda rng: (
        np.array([[0.0, 0.1], [0.5, 0.3], [-0.2, 0.6]]), 0.7)),
    Case("conv1d_list", conv1d_list, lambda rng: (np.array([0.1, 0.5, -0.2, 0.3, 0.7, -0.4]), np.array([0.2, -0.1, 0.3]))),
    Case("heat_equation_steps", heat_equation_steps, lambda rng: ([0.0, 0.5, 1.0, 0.4, 0.0], 0.2)),
    Case("running_mean_var", running_mean_var, lambda rng: ([0.5, 1.2, -0.3, 0.8],)),
    Case("mixture_loglik", mixture_loglik, lambda rng: ([0.2, 1.5], 0.8, [0.1, 1.0, 2.0])),
    Case("kalman_history", kalman_history, lambda rng: (0.1, 0.5, [0.3, 0.6, 0.2, 0.9])),
    Case("kernel_matrix_rows", kernel_matrix_rows, lambda rng: (np.array([[0.0, 0.1], [0.5, 0.3], [-0.2, 0.6]]), 0.8)),
    Case("resnet_blocks", resnet_blocks, lambda rng: (np.array([[0.3, -0.2], [0.1, 0.4]]), np.array([1.0, -0.5]))),
    Case("horner", horner, lambda rng: ([1.0, -2.0, 0.5, 0.3], 0.7)),
]
