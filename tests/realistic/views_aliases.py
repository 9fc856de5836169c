"""Views and aliases: row views updated in place, `for r in M: r *= s`, slices of an output
filled through a view, two names for one array, in-place whole-array updates, transposed
views, writes into a parameter, and values saved for the backward pass that are later
overwritten."""
import math

import numpy as np
from _spec import Case


def gauss(rng, *shape, scale=1.0):
    return scale * rng.standard_normal(shape)


# --- row-wise softmax normalised in place: for row in P: row /= row.sum() ---------------
def softmax_rows_nll(S, labels):
    P = np.exp(S - np.max(S, axis=1, keepdims=True))
    P = P.copy()
    for row in P:
        row /= row.sum()
    n = S.shape[0]
    return -np.mean(np.log(P[np.arange(n), labels]))


def softmax_args(rng):
    return (gauss(rng, 5, 4), rng.integers(0, 4, 5))


# --- per-asset scaling of a returns matrix, row view updated with += ---------------------
def demeaned_portfolio_variance(R, w):
    X = R.copy()
    for i in range(X.shape[0]):
        row = X[i]
        row -= np.mean(R, axis=0)
    port = X @ w
    return np.mean(port ** 2)


def dpv_args(rng):
    return (gauss(rng, 8, 3, scale=0.02) + 0.001, rng.dirichlet(np.ones(3)))


# --- feature vector built by filling slices through views -------------------------------
def padded_features_score(x, v):
    k = x.shape[0]
    feats = np.zeros(2 * k + 1)
    head = feats[:k]
    head[:] = np.tanh(x)
    tail = feats[k:2 * k]
    tail[:] = x ** 2
    feats[-1] = 1.0
    return np.dot(v, feats)


def padded_args(rng):
    return (gauss(rng, 4), gauss(rng, 9))


# --- accumulator alias: acc = out; acc += ...; the caller reads out ---------------------
def kernel_density_loglik(bw, centers, xs):
    dens = np.zeros(xs.shape[0])
    acc = dens
    for c in centers:
        acc += np.exp(-0.5 * ((xs - c) / bw) ** 2)
    dens_scaled = dens / (centers.shape[0] * bw * math.sqrt(2 * math.pi))
    return np.sum(np.log(dens_scaled))


def kde_args(rng):
    return (rng.uniform(0.4, 0.8), gauss(rng, 6), gauss(rng, 10, scale=0.8))


# --- velocity Verlet with in-place updates of pos and vel -------------------------------
def verlet_harmonic_energy(k, pos0, vel0, dt=0.05, n_steps=40):
    pos = pos0.copy()
    vel = vel0.copy()
    acc = -k * pos
    for _ in range(n_steps):
        pos += dt * vel + 0.5 * dt * dt * acc
        new_acc = -k * pos
        vel += 0.5 * dt * (acc + new_acc)
        acc = new_acc
    return 0.5 * np.sum(vel ** 2) + 0.5 * k * np.sum(pos ** 2) + np.sum(pos)


def verlet_args(rng):
    return (rng.uniform(0.8, 1.5), gauss(rng, 3), gauss(rng, 3))


# --- a "previous state" name that aliases the state (pos_old = pos; pos += ...) ---------
def position_update_displacement(v, x0, dt=0.1, n_steps=5):
    pos = x0.copy()
    total = 0.0
    for _ in range(n_steps):
        pos_old = pos
        pos += dt * np.tanh(v * pos)
        total += np.sum((pos - pos_old) ** 2)
    return total + np.sum(pos)


def pud_args(rng):
    return (rng.uniform(0.5, 1.5), gauss(rng, 4))


# --- MLP with a bias unit: h = np.tanh(W @ x); h[0] = 1.0 --------------------------------
def mlp_bias_unit(W, v, x, y):
    h = np.tanh(W @ x)
    h[0] = 1.0
    return 0.5 * (np.dot(v, h) - y) ** 2


def mlp_args(rng):
    return (gauss(rng, 4, 3, scale=0.5), gauss(rng, 4), gauss(rng, 3), rng.normal())


# --- winsorising in place after using the raw values ------------------------------------
def lognormal_loglik_then_winsorise(mu, x, cap=3.0):
    y = x.copy()
    loglik = -np.sum((np.log(y) - mu) ** 2) - np.sum(np.log(y))
    y[y > cap] = cap
    return loglik + np.mean(y)


def winsor_args(rng):
    x = np.exp(gauss(rng, 8, scale=0.6))
    x[0] = 4.0 + rng.uniform()  # above the cap
    x[1] = 0.5 + rng.uniform()
    return (rng.normal(scale=0.3), x)


# --- in-place scaling of a saved product: the backward pass needs the old value ---------
def attention_scores_scaled(Q, K, v):
    scores = Q @ K.T
    s2 = np.sum(scores ** 2)
    scores *= 1.0 / math.sqrt(Q.shape[1])
    attn = np.exp(scores - np.max(scores, axis=1, keepdims=True))
    attn /= np.sum(attn, axis=1, keepdims=True)
    return np.sum(attn @ v) + 1e-3 * s2


def attn_args(rng):
    return (gauss(rng, 3, 4), gauss(rng, 5, 4), gauss(rng, 5))


# --- a copy that is read for the loss, then overwritten with item writes ----------------
def dropout_like_mask_loss(w, x, drop_idx):
    h = x * w
    h = h.copy()
    penalty = np.sum(h ** 2)
    for j in drop_idx:
        h[j] = 0.0
    return np.sum(np.sin(h)) + 0.01 * penalty


def drop_args(rng):
    return (gauss(rng, 6), gauss(rng, 6), np.array([1, 4]))


# --- symmetrising through the transposed view C.T[...] = ... ---------------------------
def covariance_from_upper(params):
    n = 3
    C = np.zeros((n, n))
    k = 0
    for i in range(n):
        for j in range(i, n):
            C[i, j] = params[k]
            k += 1
    iu = np.triu_indices(n, 1)
    C.T[iu] = C[iu]
    return np.sum(C @ C)


def cov_args(rng):
    return (gauss(rng, 6),)


# --- boundary conditions written into the caller's array --------------------------------
def clamp_boundary_energy(u):
    u[0] = 0.0
    u[-1] = 0.0
    du = u[1:] - u[:-1]
    return 0.5 * np.sum(du ** 2)


def clamp_args(rng):
    return (gauss(rng, 7),)


# --- whole-array in-place normalisation of an input: x -= x.mean(); x /= x.std() ---------
def standardise_in_place_score(x, w):
    x -= x.mean()
    x /= np.sqrt(np.mean(x ** 2))
    return np.dot(w, np.tanh(x))


def std_args(rng):
    return (gauss(rng, 6) + 2.0, gauss(rng, 6))


# --- a local name for one column of a design matrix, updated in place ------------------
def centred_column_regression(X, y, beta):
    Z = X.copy()
    col = Z[:, 1]
    col -= col.mean()
    r = Z @ beta - y
    return np.mean(r ** 2)


def ccr_args(rng):
    X = np.hstack([np.ones((10, 1)), gauss(rng, 10, 2) + 1.0])
    return (X, gauss(rng, 10), gauss(rng, 3))


# --- a matrix scaled row by row through an iterator: for r in M: r *= s ----------------
def row_scaled_frobenius(M, s):
    A = M.copy()
    for r in A:
        r *= s
    return np.sum(A ** 2) + np.sum(A)


def rsf_args(rng):
    return (gauss(rng, 3, 4), gauss(rng, 4))


# --- heat equation where the user writes u = u_new (no copy): the buffers become one ---
def heat_shared_buffer(kappa, u0, n_steps=20):
    u = u0.copy()
    u_new = np.zeros_like(u0)
    r = 0.2 * kappa
    for _ in range(n_steps):
        u_new[1:-1] = u[1:-1] + r * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        u = u_new
    return np.sum(u ** 2)


def hsb_args(rng):
    xs = np.linspace(0, 1, 10)
    return (rng.uniform(0.6, 1.2), np.sin(np.pi * xs) * rng.uniform(0.5, 1.5))


# --- Adam with chained initialisation m = v = np.zeros_like(w) --------------------------
def adam_fit_loss(w0, X, y, steps=10, lr=0.05, b1=0.9, b2=0.999, eps=1e-8):
    w = w0.copy()
    m = v = np.zeros_like(w0)
    for t in range(1, steps + 1):
        g = X.T @ (X @ w - y) / X.shape[0]
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return 0.5 * np.mean((X @ w - y) ** 2)


def adam_args(rng):
    X = gauss(rng, 12, 3)
    return (gauss(rng, 3), X, X @ np.array([1.0, -2.0, 0.5]) + gauss(rng, 12, scale=0.1))


# --- a result buffer with a short second name that the loop writes through -----------
def stage_costs(rates, T=6):
    costs = np.zeros(T)
    c = costs
    level = 1.0
    for t in range(T):
        level = level * math.exp(-rates[t])
        c[t] = level * (1.0 + rates[t] ** 2)
    return np.sum(costs)


def stage_args(rng):
    return (rng.uniform(0.05, 0.4, 6),)


# --- a helper that applies boundary conditions in place and returns the array --------
def apply_dirichlet(u, left, right):
    u[0] = left
    u[-1] = right
    return u


def relaxed_profile_energy(left, right, f, sweeps=4):
    n = f.shape[0]
    u = np.zeros(n)
    u = apply_dirichlet(u, left, right)
    for _ in range(sweeps):
        u[1:-1] = 0.5 * (u[:-2] + u[2:]) + 0.1 * f[1:-1]
    return np.sum(u ** 2)


def rpe_args(rng):
    return (rng.uniform(0.5, 1.5), rng.uniform(-1.5, -0.5), gauss(rng, 8))


# --- an integrator step helper that updates the state array passed to it ------------
def euler_decay_step(state, k, dt):
    state += dt * (-k * state)
    return np.sum(state)


def decay_total(k, x0, dt=0.1, n_steps=5):
    state = x0.copy()
    running = 0.0
    for _ in range(n_steps):
        running += euler_decay_step(state, k, dt)
    return running + np.sum(state ** 2)


def decay_args(rng):
    return (rng.uniform(0.5, 2.0), rng.uniform(0.5, 2.0, 3))


# --- a matrix filled through a reshaped view of a flat buffer --------------------------
def grid_laplacian_energy(vals, n=3):
    flat = np.zeros(n * n)
    G = flat.reshape(n, n)
    for i in range(n):
        for j in range(n):
            G[i, j] = vals[i] * vals[j] + (i == j)
    return np.sum(flat ** 2)


def grid_args(rng):
    return (gauss(rng, 3),)


# --- reversed view written element by element (backward recursion for a discount sum) --
def discounted_returns_loss(rewards, gamma_, baseline):
    T = rewards.shape[0]
    G = np.zeros(T)
    G_rev = G[::-1]
    running = 0.0
    for k in range(T):
        running = rewards[T - 1 - k] + gamma_ * running
        G_rev[k] = running
    return np.mean((G - baseline) ** 2)


def drl_args(rng):
    return (gauss(rng, 8), rng.uniform(0.8, 0.95), gauss(rng, 8))


# --- AR(1) fit on a lagged view, then outliers zeroed in the series in place ---------
def ar1_nll_then_clean(phi, x):
    z = x.copy()
    prev = z[:-1]
    nll = 0.5 * np.sum((z[1:] - phi * prev) ** 2)
    z[np.abs(z) > 4.0] = 0.0
    return nll + z.mean() ** 2


def ar1c_args(rng):
    n = 12
    e = gauss(rng, n, scale=0.5)
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = 0.6 * x[t - 1] + e[t]
    x[5] = 6.0 + rng.uniform()  # an outlier
    return (rng.uniform(0.3, 0.8), x)


# --- VAE encoder head: named views of the output taken before it is filled ----------
def vae_encoder_kl(W, b, h):
    k = W.shape[0] // 2
    out = np.zeros(2 * k)
    mu = out[:k]
    logvar = out[k:]
    out[:] = W @ h + b
    return 0.5 * np.sum(np.exp(logvar) + mu ** 2 - 1.0 - logvar)


def vae_args(rng):
    return (gauss(rng, 6, 4, scale=0.3), gauss(rng, 6, scale=0.1), gauss(rng, 4))


# --- ping-pong buffers chosen by parity with a conditional expression ----------------
def diffusion_ping_pong(r, u0, n_steps=7):
    a = u0.copy()
    b = u0.copy()
    for t in range(n_steps):
        src, dst = (a, b) if t % 2 == 0 else (b, a)
        dst[1:-1] = src[1:-1] + r * (src[2:] - 2.0 * src[1:-1] + src[:-2])
    final = b if n_steps % 2 == 1 else a
    return np.sum(final ** 2)


def pp_args(rng):
    return (rng.uniform(0.1, 0.4), gauss(rng, 8) + 1.0)


# --- the same ping-pong with the buffers chosen in an if statement -------------------
def diffusion_ping_pong_if(r, u0, n_steps=7):
    a = u0.copy()
    b = u0.copy()
    for t in range(n_steps):
        if t % 2 == 0:
            src = a
            dst = b
        else:
            src = b
            dst = a
        dst[1:-1] = src[1:-1] + r * (src[2:] - 2.0 * src[1:-1] + src[:-2])
    return np.sum(b ** 2)


CASES = [
    Case("softmax_rows_nll", softmax_rows_nll, softmax_args, wrt="S",
         note="for row in P: row /= row.sum() (row is a view of P)"),
    Case("demeaned_portfolio_variance", demeaned_portfolio_variance, dpv_args, wrt=("R", "w"),
         note="row = X[i]; row -= ... (view of an array made in the function)"),
    Case("padded_features_score", padded_features_score, padded_args, wrt=("x", "v"),
         note="head = feats[:k]; head[:] = ..."),
    Case("kernel_density_loglik", kernel_density_loglik, kde_args, wrt=("bw", "centers"),
         note="acc = dens; acc += ... then dens is read"),
    Case("verlet_harmonic_energy", verlet_harmonic_energy, verlet_args, wrt=("k", "pos0", "vel0"),
         note="pos += ..., vel += ... on copies"),
    Case("position_update_displacement", position_update_displacement, pud_args, wrt=("v", "x0"),
         note="pos_old = pos (alias); pos += ...; so pos - pos_old is zero in numpy"),
    Case("mlp_bias_unit", mlp_bias_unit, mlp_args, wrt=("W", "v"),
         note="z = np.tanh(...); z[0] = 1.0 (array made by an elementwise op)"),
    Case("lognormal_loglik_then_winsorise", lognormal_loglik_then_winsorise, winsor_args,
         wrt=("mu", "x"), note="y used by log(), then y[y > cap] = cap in place"),
    Case("attention_scores_scaled", attention_scores_scaled, attn_args, wrt=("Q", "K", "v"),
         note="scores **2 saved, then scores *= c; attn /= sum"),
    Case("dropout_like_mask_loss", dropout_like_mask_loss, drop_args, wrt=("w", "x"),
         note="h**2 needs h, then h[j] = 0.0 in a loop"),
    Case("covariance_from_upper", covariance_from_upper, cov_args, wrt="params",
         note="C.T[iu] = ...: a write through the transposed view reaches C"),
    Case("clamp_boundary_energy", clamp_boundary_energy, clamp_args, wrt="u",
         note="writes into the caller's array (numpy changes it, as f does)"),
    Case("standardise_in_place_score", standardise_in_place_score, std_args, wrt=("x", "w"),
         note="x -= x.mean(); x /= ... on an input (numpy changes the caller's array)"),
    Case("centred_column_regression", centred_column_regression, ccr_args, wrt=("X", "beta"),
         note="col = Z[:, 1]; col -= col.mean()"),
    Case("row_scaled_frobenius", row_scaled_frobenius, rsf_args, wrt=("M", "s"),
         note="for r in A: r *= s"),
    Case("heat_shared_buffer", heat_shared_buffer, hsb_args, wrt=("kappa", "u0"),
         note="u = u_new (no copy), then u_new[1:-1] = ... writes into u too"),
    Case("adam_fit_loss", adam_fit_loss, adam_args, wrt="w0",
         note="m = v = np.zeros_like(w0) chained assignment"),
    Case("stage_costs", stage_costs, stage_args, wrt="rates",
         note="c = costs; c[t] = ... then costs is returned"),
    Case("relaxed_profile_energy", relaxed_profile_energy, rpe_args, wrt=("left", "right", "f"),
         note="helper writes into the array passed to it and returns it"),
    Case("decay_total", decay_total, decay_args, wrt=("k", "x0"),
         note="helper does state += ... on its argument (the caller's array)"),
    Case("grid_laplacian_energy", grid_laplacian_energy, grid_args, wrt="vals",
         note="G = flat.reshape(n, n); G[i, j] = ... then flat is read"),
    Case("discounted_returns_loss", discounted_returns_loss, drl_args,
         wrt=("rewards", "gamma_", "baseline"),
         note="G_rev = G[::-1]; G_rev[k] = ... then G is read"),
    Case("ar1_nll_then_clean", ar1_nll_then_clean, ar1c_args, wrt=("phi", "x"),
         note="prev = z[:-1] is needed by the backward pass; z[mask] = 0.0 then writes through it"),
    Case("vae_encoder_kl", vae_encoder_kl, vae_args, wrt=("W", "b"),
         note="mu = out[:k]; logvar = out[k:] taken before out[:] = W @ h + b"),
    Case("diffusion_ping_pong", diffusion_ping_pong, pp_args, wrt=("r", "u0"),
         note="src, dst = (a, b) if t % 2 == 0 else (b, a); dst[1:-1] = ..."),
    Case("diffusion_ping_pong_if", diffusion_ping_pong_if, pp_args, wrt=("r", "u0"),
         note="if t % 2 == 0: src = a; dst = b else: ...; dst[1:-1] = ..."),
]
