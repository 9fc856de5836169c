"""Programs written after the memory model landed (not used while building it): N-body
leapfrog, EMA through row views, soft histograms with np.add.at, triangular solves and
Gram-Schmidt in place, a Kalman filter, RK2, batch norm, buffered scatter, Jacobi sweeps with
buffer swaps, discounted returns, writes through a transposed view, rolling windows."""
import numpy as np
from _spec import Case


def gauss(rng, *shape, scale=1.0):
    return scale * rng.standard_normal(shape)


def leapfrog_orbit(k, x0, v0):
    T, dt = 30, 0.05
    pos = np.zeros((T + 1, 2))
    vel = np.zeros((T + 1, 2))
    pos[0] = x0
    vel[0] = v0
    for t in range(T):
        p = pos[t]
        r = np.sqrt(np.sum(p * p))
        acc = -k * p / r ** 3
        vel[t + 1] = vel[t] + dt * acc
        pos[t + 1] = p + dt * vel[t + 1]
    return np.sum(pos[-1] ** 2) + 0.1 * np.sum(vel[-1] ** 2)


def ema_rows(X, alpha):
    out = np.zeros_like(X)
    out[0] = X[0]
    for i in range(1, X.shape[0]):
        row = out[i]
        row[:] = alpha * X[i] + (1.0 - alpha) * out[i - 1]
    return np.sum(out ** 2)


def soft_histogram(x, centers):
    counts = np.zeros(len(centers))
    nearest = np.argmin(np.abs(x[:, None] - centers[None, :]), axis=1)
    np.add.at(counts, nearest, np.exp(-x ** 2))
    return np.sum(counts * np.log1p(counts))


def forward_substitution(L, b):
    n = b.shape[0]
    x = b.copy()
    for i in range(n):
        x[i] -= L[i, :i] @ x[:i]
        x[i] /= L[i, i]
    return np.sum(x ** 2)


def gram_schmidt_energy(A):
    Q = A.copy()
    n = Q.shape[1]
    for j in range(n):
        for k in range(j):
            Q[:, j] -= (Q[:, k] @ A[:, j]) * Q[:, k]
        Q[:, j] /= np.sqrt(Q[:, j] @ Q[:, j])
    return np.sum(Q * A)


def kalman_loglik(q, r, ys):
    x, P = 0.0, 1.0
    means = np.zeros(len(ys))
    ll = 0.0
    for t in range(len(ys)):
        P += q
        S = P + r
        K = P / S
        means[t] = x
        x += K * (ys[t] - x)
        P *= 1.0 - K
        ll -= 0.5 * (np.log(2 * np.pi * S) + (ys[t] - means[t]) ** 2 / S)
    return ll


def rk2_decay(lam, y0):
    y = y0.copy()
    dt = 0.1
    for _ in range(20):
        k1 = -lam * y
        k1 *= dt
        mid = y + 0.5 * k1
        k2 = -lam * mid
        y += dt * k2
    return np.sum(y)


def batchnorm_loss(X, gamma, beta):
    Z = X.copy()
    mu = Z.mean(axis=0)
    Z -= mu
    var = (Z ** 2).mean(axis=0)
    Z /= np.sqrt(var + 1e-5)
    Z *= gamma
    Z += beta
    return np.sum(np.tanh(Z) ** 2)


def buffered_scatter(vals, w):
    out = np.zeros(4)
    idx = np.array([0, 2, 2, 3, 0])
    out[idx] += vals * w
    return np.sum(out ** 2)


def jacobi_swap(f, u0):
    u = u0.copy()
    u_new = np.zeros_like(u)
    for _ in range(15):
        u_new[1:-1] = 0.5 * (u[:-2] + u[2:]) + 0.1 * f[1:-1]
        u_new[0] = u[0]
        u_new[-1] = u[-1]
        u, u_new = u_new, u
    return np.sum(u ** 2)


def discounted_returns(r, gamma):
    T = r.shape[0]
    G = np.zeros(T + 1)
    for t in range(T - 1, -1, -1):
        G[t] = r[t] + gamma * G[t + 1]
    return np.sum(G[:-1] * r)


def transpose_view_bump(A, v):
    B = A.copy()
    B.T[0] += v
    return np.sum(B @ B)


def rolling_filter(x, k):
    s = 0.0
    for i in range(x.shape[0] - 2):
        w = x[i:i + 3]
        s += np.tanh(w @ k)
    return s


def diag_shift_in_place(A, s):
    M = A @ A.T
    d = M[np.arange(3), np.arange(3)]
    M[np.arange(3), np.arange(3)] += s
    return np.sum(np.log(np.abs(d))) + np.sum(M)


CASES = [
    Case("leapfrog_orbit", leapfrog_orbit, lambda r: (1.0 + 0.1 * r.random(), np.array([1.0, 0.1]), np.array([0.0, 1.0]) + 0.05 * gauss(r, 2)), wrt=("k", "x0", "v0")),
    Case("ema_rows", ema_rows, lambda r: (gauss(r, 6, 3), 0.3 + 0.4 * r.random()), wrt=("X", "alpha")),
    Case("soft_histogram", soft_histogram, lambda r: (gauss(r, 9), np.array([-1.0, 0.0, 1.0])), wrt="x"),
    Case("forward_substitution", forward_substitution, lambda r: (np.tril(gauss(r, 4, 4)) + 3 * np.eye(4), gauss(r, 4)), wrt=("L", "b")),
    Case("gram_schmidt_energy", gram_schmidt_energy, lambda r: (gauss(r, 4, 3) + np.eye(4, 3) * 2,), wrt="A"),
    Case("kalman_loglik", kalman_loglik, lambda r: (0.2 + r.random(), 0.5 + r.random(), gauss(r, 10)), wrt=("q", "r")),
    Case("rk2_decay", rk2_decay, lambda r: (0.5 + r.random(), gauss(r, 3)), wrt=("lam", "y0")),
    Case("batchnorm_loss", batchnorm_loss, lambda r: (gauss(r, 5, 3), 1 + 0.1 * gauss(r, 3), 0.1 * gauss(r, 3)), wrt=("X", "gamma", "beta")),
    Case("buffered_scatter", buffered_scatter, lambda r: (gauss(r, 5), 0.5 + r.random()), wrt=("vals", "w")),
    Case("jacobi_swap", jacobi_swap, lambda r: (gauss(r, 7), gauss(r, 7)), wrt=("f", "u0")),
    Case("discounted_returns", discounted_returns, lambda r: (gauss(r, 8), 0.5 + 0.4 * r.random()), wrt=("r", "gamma")),
    Case("transpose_view_bump", transpose_view_bump, lambda r: (gauss(r, 3, 3), gauss(r, 3)), wrt=("A", "v")),
    Case("rolling_filter", rolling_filter, lambda r: (gauss(r, 8), gauss(r, 3)), wrt=("x", "k")),
    Case("diag_shift_in_place", diag_shift_in_place, lambda r: (gauss(r, 3, 3) + 2 * np.eye(3), r.random()), wrt=("A", "s")),
]
