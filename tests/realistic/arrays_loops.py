"""Arrays written in loops: recurrences in preallocated arrays (AR/ARMA filters, smoothing,
RNN/GRU hidden states, Kalman filters), hand-written linear algebra (Cholesky, triangular
and tridiagonal solves), dynamic programming (soft-DTW), PDE time stepping with buffer
swaps, in-place Gauss-Seidel sweeps, unrolled optimisation, and Newton iterations with
early exits."""
import math

import numpy as np
from _spec import Case


def gauss(rng, *shape, scale=1.0):
    return scale * rng.standard_normal(shape)


# --- time series: AR(2) simulated into a preallocated array, fitted to a target path -----
def ar2_path_loss(phi1, phi2, shocks, target):
    T = shocks.shape[0]
    y = np.zeros(T)
    y[0] = shocks[0]
    y[1] = phi1 * y[0] + shocks[1]
    for t in range(2, T):
        y[t] = phi1 * y[t - 1] + phi2 * y[t - 2] + shocks[t]
    return np.mean((y - target) ** 2)


def ar2_args(rng):
    T = 20
    return (rng.uniform(0.3, 0.6), rng.uniform(-0.3, 0.1), gauss(rng, T), gauss(rng, T))


# --- ARMA(1,1) conditional sum of squares, residuals kept in an array --------------------
def arma11_css(mu, phi, theta, x):
    n = x.shape[0]
    eps = np.zeros(n)
    for t in range(1, n):
        eps[t] = x[t] - mu - phi * (x[t - 1] - mu) - theta * eps[t - 1]
    return 0.5 * np.sum(eps[1:] ** 2) / (n - 1)


def arma_args(rng):
    n = 30
    e = gauss(rng, n)
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = 0.5 * x[t - 1] + e[t] + 0.3 * e[t - 1]
    return (rng.uniform(-0.2, 0.2), rng.uniform(0.3, 0.6), rng.uniform(0.1, 0.4), x + 1.0)


# --- forecasting: Holt's linear trend smoothing, level and trend stored per step ---------
def holt_sse(alpha, beta, y):
    n = y.shape[0]
    level = np.empty(n)
    trend = np.empty(n)
    level[0] = y[0]
    trend[0] = y[1] - y[0]
    sse = 0.0
    for t in range(1, n):
        forecast = level[t - 1] + trend[t - 1]
        err = y[t] - forecast
        sse += err * err
        level[t] = alpha * y[t] + (1 - alpha) * forecast
        trend[t] = beta * (level[t] - level[t - 1]) + (1 - beta) * trend[t - 1]
    return sse / (n - 1)


def holt_args(rng):
    n = 25
    y = 10.0 + 0.4 * np.arange(n) + gauss(rng, n, scale=0.8)
    return (rng.uniform(0.2, 0.8), rng.uniform(0.05, 0.4), y)


# --- a vanilla RNN: hidden states in H = np.zeros((T + 1, n)) -----------------------------
def rnn_loss(W, U, v, xs, ys):
    T = xs.shape[0]
    n = W.shape[0]
    H = np.zeros((T + 1, n))
    for t in range(T):
        H[t + 1] = np.tanh(W @ H[t] + U @ xs[t])
    preds = H[1:] @ v
    return np.mean((preds - ys) ** 2)


def rnn_args(rng):
    n, d, T = 4, 3, 7
    return (gauss(rng, n, n, scale=0.4), gauss(rng, n, d, scale=0.4), gauss(rng, n),
            gauss(rng, T, d), gauss(rng, T))


# --- a GRU cell unrolled over a sequence, states kept per step ---------------------------
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def gru_final_state_loss(Wz, Uz, Wh, Uh, xs, target):
    T = xs.shape[0]
    n = Wz.shape[0]
    H = np.zeros((T + 1, n))
    for t in range(T):
        h = H[t]
        z = sigmoid(Wz @ xs[t] + Uz @ h)
        h_tilde = np.tanh(Wh @ xs[t] + Uh @ h)
        H[t + 1] = (1.0 - z) * h + z * h_tilde
    return np.sum((H[T] - target) ** 2) + 0.1 * np.mean(H ** 2)


def gru_args(rng):
    n, d, T = 3, 2, 6
    return (gauss(rng, n, d, scale=0.5), gauss(rng, n, n, scale=0.5), gauss(rng, n, d, scale=0.5),
            gauss(rng, n, n, scale=0.5), gauss(rng, T, d), gauss(rng, n, scale=0.3))


# --- a local-level Kalman filter: filtered means and variances stored per step ----------
def kalman_negloglik(log_q, log_r, y):
    q = math.exp(log_q)
    r = math.exp(log_r)
    n = y.shape[0]
    m = np.zeros(n + 1)
    P = np.zeros(n + 1)
    m[0] = y[0]
    P[0] = 10.0
    nll = 0.0
    for t in range(n):
        m_pred = m[t]
        P_pred = P[t] + q
        S = P_pred + r
        K = P_pred / S
        innov = y[t] - m_pred
        nll += 0.5 * (math.log(2 * math.pi * S) + innov * innov / S)
        m[t + 1] = m_pred + K * innov
        P[t + 1] = (1.0 - K) * P_pred
    return nll


def kalman_args(rng):
    n = 25
    level = np.cumsum(gauss(rng, n, scale=0.3))
    return (rng.uniform(-2.5, -1.0), rng.uniform(-1.0, 0.0), level + gauss(rng, n, scale=0.6))


# --- Gaussian-process log marginal likelihood via a Cholesky written by hand ------------
def cholesky_logdet_quad(A, b):
    n = A.shape[0]
    L = np.zeros((n, n))
    for j in range(n):
        s = A[j, j] - np.dot(L[j, :j], L[j, :j])
        L[j, j] = np.sqrt(s)
        for i in range(j + 1, n):
            L[i, j] = (A[i, j] - np.dot(L[i, :j], L[j, :j])) / L[j, j]
    # forward substitution L z = b
    z = np.zeros(n)
    for i in range(n):
        z[i] = (b[i] - np.dot(L[i, :i], z[:i])) / L[i, i]
    logdet = 0.0
    for i in range(n):
        logdet += math.log(L[i, i])
    return 0.5 * np.dot(z, z) + logdet


def spd_args(rng):
    n = 5
    B = gauss(rng, n, n)
    return (B @ B.T + n * np.eye(n), gauss(rng, n))


# --- solving with a given lower-triangular factor: forward then back substitution -------
def triangular_solve_objective(L, b, c):
    n = b.shape[0]
    y = np.zeros(n)
    for i in range(n):
        acc = b[i]
        for k in range(i):
            acc -= L[i, k] * y[k]
        y[i] = acc / L[i, i]
    x = np.zeros(n)
    for i in range(n - 1, -1, -1):
        acc = y[i]
        for k in range(i + 1, n):
            acc -= L[k, i] * x[k]
        x[i] = acc / L[i, i]
    return np.dot(c, x)


def tri_args(rng):
    n = 5
    L = np.tril(gauss(rng, n, n, scale=0.3)) + np.diag(rng.uniform(1.5, 2.5, n))
    return (L, gauss(rng, n), gauss(rng, n))


# --- Thomas algorithm for a tridiagonal system (implicit heat step, cable equation) ------
def thomas_solve_energy(diag, rhs, off=-1.0):
    n = diag.shape[0]
    cp = np.zeros(n)
    dp = np.zeros(n)
    cp[0] = off / diag[0]
    dp[0] = rhs[0] / diag[0]
    for i in range(1, n):
        denom = diag[i] - off * cp[i - 1]
        cp[i] = off / denom
        dp[i] = (rhs[i] - off * dp[i - 1]) / denom
    x = np.zeros(n)
    x[n - 1] = dp[n - 1]
    for i in range(n - 2, -1, -1):
        x[i] = dp[i] - cp[i] * x[i + 1]
    return 0.5 * np.dot(x, x)


def thomas_args(rng):
    n = 8
    return (rng.uniform(2.5, 4.0, n), gauss(rng, n))


# --- soft-DTW between two series: the DP table R written cell by cell ------------------
def soft_dtw(x, y, gamma=0.5):
    n, m = x.shape[0], y.shape[0]
    big = 1e10
    R = np.full((n + 1, m + 1), big)
    R[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost = (x[i - 1] - y[j - 1]) ** 2
            a = -R[i - 1, j - 1] / gamma
            b = -R[i - 1, j] / gamma
            c = -R[i, j - 1] / gamma
            mx = max(a, b, c)
            softmin = -gamma * (mx + math.log(math.exp(a - mx) + math.exp(b - mx) + math.exp(c - mx)))
            R[i, j] = cost + softmin
    return R[n, m]


def sdtw_args(rng):
    return (np.sin(np.linspace(0, 3, 6)) + gauss(rng, 6, scale=0.1),
            np.sin(np.linspace(0.3, 3.3, 5)) + gauss(rng, 5, scale=0.1))


# --- soft-DTW again, the soft minimum written with np.logaddexp ------------------------
def soft_dtw_logaddexp(x, y, gamma=0.5):
    n, m = x.shape[0], y.shape[0]
    R = np.full((n + 1, m + 1), 1e10)
    R[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            lse = np.logaddexp(np.logaddexp(-R[i - 1, j - 1] / gamma, -R[i - 1, j] / gamma),
                               -R[i, j - 1] / gamma)
            R[i, j] = (x[i - 1] - y[j - 1]) ** 2 - gamma * lse
    return R[n, m]


# --- simple exponential smoothing done in place on a copy of the series ---------------
def ses_in_place(alpha, x, w):
    s = x.copy()
    for t in range(1, s.shape[0]):
        s[t] = alpha * s[t] + (1.0 - alpha) * s[t - 1]
    return np.dot(w, s)


def ses_args(rng):
    n = 15
    return (rng.uniform(0.2, 0.8), gauss(rng, n) + 3.0, gauss(rng, n))


# --- running (cumulative) sum in place: c[i] += c[i - 1] ------------------------------
def cumsum_in_place_loss(x, target):
    c = x.copy()
    for i in range(1, c.shape[0]):
        c[i] += c[i - 1]
    return np.sum((c - target) ** 2)


def cip_args(rng):
    return (gauss(rng, 10), gauss(rng, 10))


# --- cumulative sums by hand (cumulative hazard, then survival log-likelihood) ------------
def cumulative_hazard_loglik(log_h, events):
    n = log_h.shape[0]
    h = np.exp(log_h)
    H = np.zeros(n)
    H[0] = h[0]
    for i in range(1, n):
        H[i] = H[i - 1] + h[i]
    return np.sum(events * log_h) - np.sum(H)


def hazard_args(rng):
    n = 12
    return (gauss(rng, n, scale=0.3) - 2.0, (rng.random(n) < 0.3).astype(float))


# --- Horner's rule in a loop over coefficients, evaluated on a grid ----------------------
def horner_fit(coef, xs, ys):
    p = np.zeros_like(xs) + coef[-1]
    for k in range(coef.shape[0] - 2, -1, -1):
        p = p * xs + coef[k]
    return np.mean((p - ys) ** 2)


def horner_args(rng):
    xs = np.linspace(-1, 1, 15)
    return (gauss(rng, 5), xs, np.cos(2 * xs))


# --- explicit heat equation, two buffers swapped every step -----------------------------
def heat_explicit(kappa, u0, n_steps=30):
    u = u0.copy()
    u_new = u0.copy()
    dx = 1.0 / (u0.shape[0] - 1)
    dt = 0.2 * dx * dx
    r = kappa * dt / (dx * dx)
    for _ in range(n_steps):
        u_new[1:-1] = u[1:-1] + r * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        u, u_new = u_new, u
    return np.sum(u ** 2) * dx


def heat_args(rng):
    n = 12
    xs = np.linspace(0, 1, n)
    u0 = np.sin(np.pi * xs) + 0.3 * np.sin(3 * np.pi * xs) * rng.uniform(0.5, 1.5)
    return (rng.uniform(0.6, 1.2), u0)


# --- 1-D wave equation, leapfrog with three rotating buffers ----------------------------
def wave_leapfrog(c, u0, n_steps=25):
    n = u0.shape[0]
    dx = 1.0 / (n - 1)
    dt = 0.5 * dx
    lam2 = (c * dt / dx) ** 2
    u_prev = u0.copy()
    u = u0.copy()
    u_next = np.zeros(n)
    for _ in range(n_steps):
        u_next[1:-1] = 2 * u[1:-1] - u_prev[1:-1] + lam2 * (u[2:] - 2 * u[1:-1] + u[:-2])
        u_prev, u, u_next = u, u_next, u_prev
    return np.sum(u * u) * dx


def wave_args(rng):
    n = 14
    xs = np.linspace(0, 1, n)
    return (rng.uniform(0.5, 1.0), np.exp(-((xs - rng.uniform(0.4, 0.6)) ** 2) / 0.02) * (xs * (1 - xs) > 0))


# --- Gauss-Seidel sweeps for a 1-D Poisson problem, updated in place --------------------
def gauss_seidel_poisson(f, w, sweeps=6):
    n = f.shape[0]
    h2 = (1.0 / (n - 1)) ** 2
    u = np.zeros(n)
    for _ in range(sweeps):
        for i in range(1, n - 1):
            u[i] = 0.5 * (u[i - 1] + u[i + 1] + h2 * f[i])
    return np.dot(w, u)


def gs_args(rng):
    n = 9
    return (gauss(rng, n) + 5.0, gauss(rng, n))


# --- red-black Gauss-Seidel with stepped slices u[1:-1:2] = ... ---------------------------
def red_black_poisson(f, w, sweeps=5):
    n = f.shape[0]
    h2 = (1.0 / (n - 1)) ** 2
    u = np.zeros(n)
    for _ in range(sweeps):
        u[1:-1:2] = 0.5 * (u[0:-2:2] + u[2::2] + h2 * f[1:-1:2])
        u[2:-1:2] = 0.5 * (u[1:-2:2] + u[3::2] + h2 * f[2:-1:2])
    return np.dot(w, u)


def rb_args(rng):
    n = 11
    return (gauss(rng, n) + 5.0, gauss(rng, n))


# --- a delay line (FIR filter) with a shift register updated in place -------------------
def fir_shift_register(h, x, target):
    p = h.shape[0]
    buf = np.zeros(p)
    y = np.zeros(x.shape[0])
    for t in range(x.shape[0]):
        buf[1:] = buf[:-1]
        buf[0] = x[t]
        y[t] = np.dot(h, buf)
    return np.mean((y - target) ** 2)


def fir_args(rng):
    T = 12
    return (gauss(rng, 4, scale=0.5), gauss(rng, T), gauss(rng, T))


# --- hyperparameter gradient through unrolled gradient descent (w -= lr * grad) ----------
def unrolled_ridge_val_loss(log_lam, X, y, Xv, yv, steps=20, lr=0.1):
    lam = math.exp(log_lam)
    n, d = X.shape
    w = np.zeros(d)
    for _ in range(steps):
        g = X.T @ (X @ w - y) / n + lam * w
        w -= lr * g
    r = Xv @ w - yv
    return 0.5 * np.mean(r ** 2)


def ridge_args(rng):
    X = gauss(rng, 20, 3)
    beta = np.array([1.0, -0.5, 0.3])
    Xv = gauss(rng, 10, 3)
    return (rng.uniform(-2.0, 0.0), X, X @ beta + gauss(rng, 20, scale=0.3), Xv,
            Xv @ beta + gauss(rng, 10, scale=0.3))


# --- heavy-ball momentum with velocity updated in place ----------------------------------
def momentum_fit(w0, A, b, steps=15, lr=0.05, beta=0.8):
    w = w0.copy()
    v = np.zeros_like(w0)
    for _ in range(steps):
        g = A.T @ (A @ w - b)
        v *= beta
        v += g
        w -= lr * v
    return 0.5 * np.sum((A @ w - b) ** 2)


def momentum_args(rng):
    return (gauss(rng, 3), gauss(rng, 6, 3, scale=0.5), gauss(rng, 6))


# --- Euler integration of Lotka-Volterra with h += dt * f(h) on the state array ----------
def lotka_volterra_endpoint(alpha, beta, delta, gamma, x0, dt=0.02, n_steps=100):
    state = x0.copy()
    for _ in range(n_steps):
        prey, pred = state[0], state[1]
        rate = np.array([alpha * prey - beta * prey * pred, delta * prey * pred - gamma * pred])
        state += dt * rate
    return np.log(state[0]) + 0.5 * state[1]


def lv_args(rng):
    return (rng.uniform(0.9, 1.2), rng.uniform(0.3, 0.5), rng.uniform(0.2, 0.4),
            rng.uniform(0.8, 1.1), np.array([rng.uniform(1.5, 2.5), rng.uniform(0.8, 1.2)]))


# --- power iteration with v /= norm(v), then the Rayleigh quotient ----------------------
def top_eigenvalue(A, iters=60):
    n = A.shape[0]
    v = np.ones(n)
    for _ in range(iters):
        v = A @ v
        v /= np.linalg.norm(v)
    return v @ A @ v


def eig_args(rng):
    n = 4
    Q, _ = np.linalg.qr(gauss(rng, n, n))
    lam = np.array([5.0, 2.0, 1.0, 0.5]) * rng.uniform(0.9, 1.1)
    A = Q @ np.diag(lam) @ Q.T
    return ((A + A.T) / 2,)


# --- Kepler's equation by Newton's method, leaving the loop when converged --------------
def kepler_positions(ecc, mean_anomalies, a=1.0):
    total = 0.0
    for k in range(mean_anomalies.shape[0]):
        M = mean_anomalies[k]
        E = M
        for it in range(50):
            step = (E - ecc * math.sin(E) - M) / (1.0 - ecc * math.cos(E))
            E = E - step
            if abs(step) < 1e-13:
                break
        total += a * (math.cos(E) - ecc)
    return total


def kepler_args(rng):
    return (rng.uniform(0.1, 0.5), rng.uniform(0.3, 2.8, 6))


# --- logistic-regression IRLS-free fit: Newton with an early exit on small steps --------
def newton_logistic_mle_intercept(b, y, iters=30):
    """Intercept-only logistic MLE by Newton; returns the fitted log-likelihood."""
    n = y.shape[0]
    theta = 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + math.exp(-theta))
        grad = np.sum(y) - n * p
        hess = n * p * (1 - p)
        theta += grad / hess
        if abs(grad) < 1e-12:
            break
    p = 1.0 / (1.0 + np.exp(-(theta + b)))
    return np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))


def nl_args(rng):
    y = (rng.random(30) < 0.35).astype(float)
    y[0], y[1] = 1.0, 0.0
    return (rng.uniform(-0.5, 0.5), y)


# --- projectile with drag: trajectory stored per step, break when it hits the ground ---
def projectile_range(v0, angle, drag, dt=0.01):
    traj = np.zeros((1000, 2))
    pos = np.array([0.0, 0.0])
    vel = np.array([v0 * math.cos(angle), v0 * math.sin(angle)])
    k = 0
    for t in range(1, 1000):
        speed = np.linalg.norm(vel)
        acc = -drag * speed * vel + np.array([0.0, -9.81])
        vel = vel + dt * acc
        pos = pos + dt * vel
        traj[t] = pos
        k = t
        if pos[1] < 0.0:
            break
    x0, y0 = traj[k - 1, 0], traj[k - 1, 1]
    x1, y1 = traj[k, 0], traj[k, 1]
    return x0 + (x1 - x0) * y0 / (y0 - y1)


def proj_args(rng):
    return (rng.uniform(15.0, 25.0), rng.uniform(0.5, 0.9), rng.uniform(0.01, 0.05))


# --- fixed-point iteration storing iterates, continue on tiny updates, break on converge
def damped_fixed_point(a, x0, tol=1e-12):
    xs = np.zeros(200)
    xs[0] = x0
    n = 0
    for i in range(1, 200):
        new = 0.5 * xs[i - 1] + 0.5 * math.cos(a * xs[i - 1])
        xs[i] = new
        n = i
        if abs(new - xs[i - 1]) < tol:
            break
    return xs[n] + 0.1 * np.mean(xs[: n + 1])


def dfp_args(rng):
    return (rng.uniform(0.5, 1.5), rng.uniform(-1.0, 1.0))


CASES = [
    Case("ar2_path_loss", ar2_path_loss, ar2_args, wrt=("phi1", "phi2"),
         note="AR(2) recurrence into a preallocated array"),
    Case("arma11_css", arma11_css, arma_args, wrt=("mu", "phi", "theta"),
         note="ARMA residuals in an array, each read in the next iteration"),
    Case("holt_sse", holt_sse, holt_args, wrt=("alpha", "beta"),
         note="two arrays written per step and read at t-1"),
    Case("rnn_loss", rnn_loss, rnn_args, wrt=("W", "U", "v"),
         note="H[t+1] = tanh(W @ H[t] + U @ x[t])"),
    Case("gru_final_state_loss", gru_final_state_loss, gru_args, wrt=("Wz", "Uz", "Wh", "Uh"),
         note="GRU: h = H[t] (a view) read while H[t + 1] is written"),
    Case("kalman_negloglik", kalman_negloglik, kalman_args, wrt=("log_q", "log_r"),
         note="filter means/variances stored per step"),
    Case("cholesky_logdet_quad", cholesky_logdet_quad, spd_args, wrt=("A", "b"),
         note="hand-written Cholesky L[i, j] = ... reading earlier entries"),
    Case("triangular_solve_objective", triangular_solve_objective, tri_args, wrt=("L", "b"),
         note="forward/back substitution with acc -= ... scalar inner loops"),
    Case("thomas_solve_energy", thomas_solve_energy, thomas_args, wrt=("diag", "rhs"),
         note="Thomas algorithm: cp, dp, then x written backwards"),
    Case("soft_dtw", soft_dtw, sdtw_args, wrt=("x", "y"),
         note="DP table R[i, j] = cost + softmin(earlier cells)"),
    Case("soft_dtw_logaddexp", soft_dtw_logaddexp, sdtw_args, wrt=("x", "y"),
         note="DP table with np.logaddexp"),
    Case("ses_in_place", ses_in_place, ses_args, wrt=("alpha", "x"),
         note="s[t] = alpha * s[t] + (1 - alpha) * s[t - 1] on a copy"),
    Case("cumsum_in_place_loss", cumsum_in_place_loss, cip_args, wrt="x",
         note="c[i] += c[i - 1]"),
    Case("cumulative_hazard_loglik", cumulative_hazard_loglik, hazard_args, wrt="log_h",
         note="cumulative sum by hand"),
    Case("horner_fit", horner_fit, horner_args, wrt="coef", note="Horner over a grid"),
    Case("heat_explicit", heat_explicit, heat_args, wrt=("kappa", "u0"),
         note="u_new[1:-1] = ...; then swap buffers"),
    Case("wave_leapfrog", wave_leapfrog, wave_args, wrt=("c", "u0"),
         note="three rotating buffers"),
    Case("gauss_seidel_poisson", gauss_seidel_poisson, gs_args, wrt=("f",),
         note="u[i] overwritten in place every sweep"),
    Case("red_black_poisson", red_black_poisson, rb_args, wrt=("f",),
         note="stepped-slice writes u[1:-1:2] = ..."),
    Case("fir_shift_register", fir_shift_register, fir_args, wrt=("h", "x"),
         note="buf[1:] = buf[:-1] overlapping shift, buf read by the dot product each step"),
    Case("unrolled_ridge_val_loss", unrolled_ridge_val_loss, ridge_args, wrt="log_lam",
         note="w -= lr * g in an inner optimisation loop"),
    Case("momentum_fit", momentum_fit, momentum_args, wrt=("w0", "A"),
         note="v *= beta; v += g; w -= lr * v on arrays made in the function"),
    Case("lotka_volterra_endpoint", lotka_volterra_endpoint, lv_args,
         wrt=("alpha", "beta", "delta", "gamma", "x0"), note="state += dt * rate"),
    Case("top_eigenvalue", top_eigenvalue, eig_args, wrt="A",
         note="v /= np.linalg.norm(v) in power iteration"),
    Case("kepler_positions", kepler_positions, kepler_args, wrt=("ecc", "mean_anomalies"),
         note="Newton with break inside if, nested in a loop over an array"),
    Case("newton_logistic_mle_intercept", newton_logistic_mle_intercept, nl_args, wrt="b",
         note="Newton with early exit; theta does not depend on b"),
    Case("projectile_range", projectile_range, proj_args, wrt=("v0", "angle", "drag"),
         note="traj[t] = pos, break inside if, then traj[k - 1] read after the loop"),
    Case("damped_fixed_point", damped_fixed_point, dfp_args, wrt=("a", "x0"),
         note="xs[i] written each step, break on convergence, xs[: n + 1] after the loop"),
]
