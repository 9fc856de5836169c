"""Realistic numpy programs of the sizes people differentiate every step: gradient time
over function time, and the cost of one call of a gradient beyond its generated code.

W5 (benchmarks/scalar_programs.py) holds the scalar programs. These are their numpy
counterparts: a regression, a GLM, a layer, a stencil, a particle system, a kernel
method, arrays of 5 to 2000 items. At these sizes a gradient's fixed cost per call (the
checks srcad runs around the generated code: complex arguments, a nan result, results
sharing memory) is a visible part of its time, so it is printed too: ``wrap`` is the
time of the user's gradient minus that of the generated function it calls.

For each program the gradient is checked against central differences first, then the
function, the gradient and the bare generated function are timed interleaved in one
process (benchmarks/bench_timing.py).

    python benchmarks/array_programs.py [--quick]

Target (the cheap-gradient principle, as W5's): gradient at most 3x the function.
"""

from __future__ import annotations

import argparse
import os
import sys
import timeit
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_timing import interleaved_min, pin_allocator  # noqa: E402

import srcad  # noqa: E402

TARGET = 3.0


def logistic_nll(w, X, y):
    """Logistic regression's negative log-likelihood with an L2 penalty."""
    z = X @ w
    return np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * 1e-2 * np.dot(w, w)


def poisson_glm(beta, X, counts):
    """A Poisson GLM with a log link: the deviance's variable part."""
    eta = X @ beta
    return np.sum(np.exp(eta) - counts * eta)


def softmax_layer(W, b, X, labels):
    """A linear layer and a softmax cross-entropy over a small batch."""
    z = X @ W + b
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -np.mean(logp[np.arange(X.shape[0]), labels])


def layer_norm_mlp(W1, W2, X):
    """Layer normalisation, a tanh layer and a squared readout."""
    mu = X.mean(axis=1, keepdims=True)
    var = X.var(axis=1, keepdims=True)
    h = np.tanh(((X - mu) / np.sqrt(var + 1e-5)) @ W1)
    out = h @ W2
    return np.mean(out * out)


def heat_stencil(u0, kappa):
    """Explicit finite differences for the heat equation, 60 steps on 40 points."""
    u = u0.copy()
    for _ in range(60):
        lap = np.zeros_like(u)
        lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
        u = u + kappa * lap
    return np.sum(u * u)


def spring_chain(k, positions):
    """Potential energy of a chain of springs of rest length 1."""
    stretch = np.diff(positions) - 1.0
    return 0.5 * np.sum(k * stretch * stretch)


def nbody_energy(pos, masses):
    """Gravitational potential energy of 12 bodies (softened pairwise distances)."""
    diff = pos[:, None, :] - pos[None, :, :]
    dist = np.sqrt(np.sum(diff * diff, axis=-1) + 0.01)
    pair = masses[:, None] * masses[None, :] / dist
    return -0.5 * (np.sum(pair) - np.sum(np.diag(pair)))


def rbf_ridge(log_scale, X, y):
    """Kernel ridge regression's data fit under an RBF kernel of a learned length scale."""
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = np.exp(-0.5 * sq / np.exp(2.0 * log_scale)) + 0.1 * np.eye(X.shape[0])
    alpha = np.linalg.solve(K, y)
    return y @ alpha


def portfolio_risk(logits, cov, returns):
    """Softmax portfolio weights: variance minus expected return."""
    w = np.exp(logits - logits.max())
    w = w / w.sum()
    return w @ cov @ w - 0.5 * (w @ returns)


def rnn_sequence(Wh, Wx, xs):
    """A tanh RNN over 20 steps with hidden size 8, its last state's squared norm."""
    h = np.zeros(Wh.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return h @ h


def _problems():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(200, 5))
    y01 = (rng.random(200) < 0.5).astype(float)
    Xp = rng.normal(scale=0.3, size=(300, 4))
    counts = rng.poisson(2.0, size=300).astype(float)
    Xs = rng.normal(size=(32, 10))
    labels = rng.integers(0, 4, size=32)
    Xk = rng.normal(size=(25, 2))
    cov_root = rng.normal(size=(6, 6))
    return [
        ("logistic regression (200x5)", logistic_nll,
         (rng.normal(size=5) * 0.1, X, y01), (0,)),
        ("Poisson GLM (300x4)", poisson_glm, (rng.normal(size=4) * 0.1, Xp, counts), (0,)),
        ("softmax layer (32x10 -> 4)", softmax_layer,
         (rng.normal(size=(10, 4)) * 0.3, np.zeros(4), Xs, labels), (0, 1)),
        ("layer norm + tanh MLP (32x10)", layer_norm_mlp,
         (rng.normal(size=(10, 16)) * 0.3, rng.normal(size=(16, 1)) * 0.3, Xs), (0, 1)),
        ("heat stencil (40 pts, 60 steps)", heat_stencil,
         (np.sin(np.linspace(0, np.pi, 40)), 0.2), (0, 1)),
        ("spring chain (2000 springs)", spring_chain,
         (1.0 + rng.random(2000), np.cumsum(1.0 + 0.1 * rng.normal(size=2001))), (0, 1)),
        ("n-body energy (12 bodies)", nbody_energy,
         (rng.normal(size=(12, 3)), 1.0 + rng.random(12)), (0, 1)),
        ("RBF kernel ridge (25 points)", rbf_ridge, (0.1, Xk, rng.normal(size=25)), (0,)),
        ("softmax portfolio (6 assets)", portfolio_risk,
         (rng.normal(size=6), cov_root @ cov_root.T / 6, rng.normal(size=6) * 0.1), (0,)),
        ("tanh RNN (20 steps, hidden 8)", rnn_sequence,
         (rng.normal(size=(8, 8)) * 0.3, rng.normal(size=(8, 3)) * 0.3,
          rng.normal(size=(20, 3))), (0, 1)),
    ]


def central(f, args, k, eps=1e-6):
    """Central differences of ``f`` in ``args[k]`` (a number or an array)."""
    x = np.asarray(args[k], dtype=float)
    out = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        at_up, at_down = list(args), list(args)
        at_up[k], at_down[k] = (up, down) if np.ndim(args[k]) else (float(up), float(down))
        out[i] = (f(*at_up) - f(*at_down)) / (2 * eps)
    return out


def generated_function(g):
    """The generated gradient inside the user's callable (past srcad's checks)."""
    seen, todo = set(), [g]
    while todo:
        fn = todo.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        if getattr(fn, "__code__", None) is not None and fn.__code__.co_filename.startswith(
            "<srcad"
        ):
            return fn
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                held = cell.cell_contents
            except ValueError:
                continue
            if callable(held) and hasattr(held, "__code__"):
                todo.append(held)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (about 20 s)")
    options = parser.parse_args()
    pinned = pin_allocator()
    load = os.getloadavg()[0]
    print(f"Realistic array programs (load average {load:.2f}, {os.cpu_count()} cores, "
          f"allocator {'pinned' if pinned else 'as it is'})")
    print(f"{'program':34} {'f':>9} {'grad':>9} {'grad/f':>7} {'wrap':>7}  target")
    missed = 0
    problems = _problems()
    for title, f, args, wrt in problems:
        g = srcad.grad(f, wrt=wrt)
        got = g(*args)
        got = [got] if len(wrt) == 1 else list(got)
        for k, value in zip(wrt, got, strict=True):
            want = central(f, args, k)
            assert np.allclose(value, want, rtol=1e-5, atol=1e-6), (title, k, value, want)
        timers = {
            "f": timeit.Timer(lambda f=f, args=args: f(*args)),
            "grad": timeit.Timer(lambda g=g, args=args: g(*args)),
        }
        bare = generated_function(g)
        if bare is not None:
            timers["bare"] = timeit.Timer(lambda b=bare, args=args: b(*args))
        best, _, _ = interleaved_min(
            timers, repeats=5 if options.quick else 15, target_seconds=0.02,
            budget_seconds=2.0 if options.quick else 6.0,
        )
        ratio = best["grad"] / best["f"]
        met = ratio <= TARGET
        missed += not met
        wrap = f"{(best['grad'] - best['bare']) * 1e6:5.1f}us" if "bare" in best else "  -  "
        print(f"{title:34} {best['f'] * 1e6:7.1f}us {best['grad'] * 1e6:7.1f}us {ratio:7.2f} "
              f"{wrap}  {'met' if met else 'NOT met'}")
    print(f"{len(problems) - missed} of {len(problems)} within {TARGET}x")


if __name__ == "__main__":
    main()
