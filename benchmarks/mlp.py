"""MLP benchmark: srcad's numpy gradient vs the hand-written backward pass.

A 2-layer perceptron with a tanh hidden layer and a softmax cross-entropy loss,

    h = tanh(X @ W1 + b1)                         X (256, 64), W1 (64, 128), b1 (128,)
    z = h @ W2 + b2                               W2 (128, 10), b2 (10,)
    loss = mean over rows of -log softmax(z)[y]   y (256,) integer labels

differentiated with respect to W1, b1, W2 and b2.  Candidates:

* ``hand``               -- ``loss_grad_by_hand``: the forward pass, then the backward
                            pass an expert writes: ``dlogits = (softmax - onehot) / n``
                            (the one-hot subtracted in place), ``dW2 = h.T @ dlogits``,
                            ``db2 = dlogits.sum(0)``, ``dh = dlogits @ W2.T``,
                            ``dz1 = dh * (1 - h*h)``, ``dW1 = X.T @ dz1``, ``db1 = dz1.sum(0)``;
* ``srcad (X, y args)``  -- ``srcad.grad(loss, wrt=("W1", "b1", "W2", "b2"))``, the data
                            passed as arguments;
* ``srcad (X, y globals)`` -- the same loss reading X and y from module globals;
* ``autograd`` / ``jax`` -- only if importable (never required).

Before timing, every candidate's gradient is checked against the hand-written one
(1e-10 relative).  Method as in benchmarks/scalar.py: every candidate is called the
same way, ``g(W1, b1, W2, b2, X, y)`` inside timeit's loop (the globals version takes
and ignores X and y, so the call cost is the same); each repeat times every candidate
once, in a shuffled order (interleaving, so drift in machine speed hits all of them
alike); the reported time is the minimum over repeats of the per-call time.  The ratio
is srcad's per-call time over ``hand``'s; the target is <= 1.00 (issue 17).

Memory: the peak of tracemalloc's traced memory during one gradient call (numpy
reports its array buffers to tracemalloc), beyond what was allocated before the call
and including the returned gradients.  The target is srcad <= 1.3 x hand.

The BLAS library is used as the environment configures it (thread count, core type):
nothing here changes it.

Run it:  python benchmarks/mlp.py            (about 15-20 s with autograd; the repeats
                                             stop after --budget seconds, 40 by default)
         python benchmarks/mlp.py --check    (exit 1 if a srcad ratio misses a target)
"""

import argparse
import math
import sys
import timeit
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_timing import interleaved_min, pin_allocator  # noqa: E402

TARGET_TIME_RATIO = 1.00
TARGET_MEMORY_RATIO = 1.3
SHAPES = {"n": 256, "d": 64, "hidden": 128, "classes": 10}
RTOL = 1e-10
WRT = ("W1", "b1", "W2", "b2")


def make_problem(n=256, d=64, hidden=128, classes=10, seed=0):
    """(W1, b1, W2, b2, X, y): random weights at the usual scale, random data and labels."""
    rng = np.random.default_rng(seed)
    W1 = rng.normal(0.0, 1.0 / math.sqrt(d), (d, hidden))
    b1 = rng.normal(0.0, 0.1, hidden)
    W2 = rng.normal(0.0, 1.0 / math.sqrt(hidden), (hidden, classes))
    b2 = rng.normal(0.0, 0.1, classes)
    X = rng.normal(0.0, 1.0, (n, d))
    y = rng.integers(0, classes, n)
    return W1, b1, W2, b2, X, y


def loss(W1, b1, W2, b2, X, y):
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    n = X.shape[0]
    return -np.mean(logp[np.arange(n), y])


# The data for loss_globals; set_globals() fills them in.
X_DATA = None
Y_DATA = None


def loss_globals(W1, b1, W2, b2):
    h = np.tanh(X_DATA @ W1 + b1)
    z = h @ W2 + b2
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    n = X_DATA.shape[0]
    return -np.mean(logp[np.arange(n), Y_DATA])


def set_globals(X, y):
    global X_DATA, Y_DATA
    X_DATA, Y_DATA = X, y


def loss_grad_by_hand(W1, b1, W2, b2, X, y):
    """(dW1, db1, dW2, db2) of ``loss``: forward, then the textbook backward pass."""
    n = X.shape[0]
    # forward
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)  # softmax
    # backward: dlogits = (softmax - onehot) / n
    p[np.arange(n), y] -= 1.0
    dlogits = p
    dlogits /= n
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    dh = dlogits @ W2.T
    dz1 = dh * (1 - h * h)
    dW1 = X.T @ dz1
    db1 = dz1.sum(0)
    return dW1, db1, dW2, db2


def _noop(W1, b1, W2, b2, X, y):
    return None


def _optional_candidates():
    """autograd / jax versions of the gradient, if those packages can be imported."""
    out = {}
    try:
        import autograd
        import autograd.numpy as anp

        def loss_ag(params, X, y):
            W1, b1, W2, b2 = params
            h = anp.tanh(anp.dot(X, W1) + b1)
            z = anp.dot(h, W2) + b2
            z = z - anp.max(z, axis=1, keepdims=True)
            logp = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
            n = X.shape[0]
            return -anp.mean(logp[anp.arange(n), y])

        g_ag = autograd.grad(loss_ag)
        out["autograd"] = lambda W1, b1, W2, b2, X, y: g_ag((W1, b1, W2, b2), X, y)
    except Exception:  # noqa: BLE001 -- optional, any failure just leaves it out
        pass
    try:
        import jax
        import jax.numpy as jnp

        def loss_jax(W1, b1, W2, b2, X, y):
            h = jnp.tanh(X @ W1 + b1)
            z = h @ W2 + b2
            logp = jax.nn.log_softmax(z, axis=1)
            return -jnp.mean(logp[jnp.arange(X.shape[0]), y])

        g_jax = jax.jit(jax.grad(loss_jax, argnums=(0, 1, 2, 3)))

        def jax_grad(W1, b1, W2, b2, X, y):
            return tuple(np.asarray(g) for g in g_jax(W1, b1, W2, b2, X, y))

        out["jax (jit)"] = jax_grad
    except Exception:  # noqa: BLE001
        pass
    return out


def _max_rel_error(got, reference):
    """max over the four gradients of max|got - ref| / max|ref|."""
    errors = []
    for g, r in zip(got, reference, strict=True):
        g = np.asarray(g, dtype=np.float64)
        if g.shape != r.shape:
            return math.inf
        errors.append(float(np.max(np.abs(g - r)) / max(float(np.max(np.abs(r))), 1e-300)))
    return max(errors)


def build_candidates(problem, with_optional=True):
    """name -> callable(W1, b1, W2, b2, X, y) returning (dW1, db1, dW2, db2), all checked."""
    import srcad

    set_globals(problem[4], problem[5])
    g_args = srcad.grad(loss, wrt=WRT)
    g_globals = srcad.grad(loss_globals, wrt=WRT)
    candidates = {
        "hand": loss_grad_by_hand,
        "srcad (X, y args)": g_args,
        "srcad (X, y globals)": lambda W1, b1, W2, b2, X, y: g_globals(W1, b1, W2, b2),
    }
    if with_optional:
        candidates.update(_optional_candidates())
    # Never time a wrong answer: every candidate must agree with the hand-written gradient.
    reference = loss_grad_by_hand(*problem)
    for name, g in list(candidates.items()):
        err = _max_rel_error(tuple(g(*problem)), reference)
        if not err <= RTOL:
            if name.startswith(("srcad", "hand")):
                raise SystemExit(
                    f"{name}: gradient differs from the hand-written one "
                    f"(max relative error {err:.3g} > {RTOL})"
                )
            print(
                f"note: {name} differs from the hand-written gradient "
                f"(max relative error {err:.3g}); left out"
            )
            del candidates[name]
    candidates["call overhead (no-op)"] = _noop
    return candidates


def measure(candidates, problem, repeats, target_seconds, budget_seconds=math.inf, seed=0):
    """Min over `repeats` of the per-call time (seconds) of each candidate, interleaved.

    Stops early (after at least 3 repeats) once `budget_seconds` have gone by: on a
    busy shared machine a call can take several times longer than when calibrated.
    Returns (best, calls per measurement, repeats done).
    """
    names = ("W1", "b1", "W2", "b2", "X", "y")
    timers = {
        name: timeit.Timer(
            "g(W1, b1, W2, b2, X, y)", globals={"g": g, **dict(zip(names, problem, strict=True))}
        )
        for name, g in candidates.items()
    }
    return interleaved_min(timers, repeats, target_seconds, budget_seconds, seed)


def peak_memory(g, problem):
    """Peak traced bytes allocated during one call of g (after a warm-up call)."""
    g(*problem)  # warm-up: caches, lazily imported modules
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        result = g(*problem)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak - before


def report(best, numbers, memory, repeats):
    hand = best["hand"]
    s = SHAPES
    lines = [
        f"2-layer tanh MLP, softmax cross-entropy: X ({s['n']}, {s['d']}), "
        f"W1 ({s['d']}, {s['hidden']}), W2 ({s['hidden']}, {s['classes']}); "
        f"gradient w.r.t. W1, b1, W2, b2; min over {repeats} interleaved repeats",
        f"{'candidate':<24}{'us/call':>10}{'calls/rep':>11}{'vs hand':>9}"
        f"{'peak KiB':>11}{'vs hand':>9}",
    ]
    for name, t in best.items():
        overhead = name.startswith("call overhead")
        ratio = "-" if overhead else f"{t / hand:.3f}"
        mem = f"{memory[name] / 1024:.1f}" if name in memory else "-"
        mem_ratio = f"{memory[name] / memory['hand']:.3f}" if name in memory else "-"
        lines.append(
            f"{name:<24}{t * 1e6:>10.1f}{numbers[name]:>11d}{ratio:>9}{mem:>11}{mem_ratio:>9}"
        )
    ratios = {}
    for name in best:
        if name.startswith("srcad"):
            r_time, r_mem = best[name] / hand, memory[name] / memory["hand"]
            ratios[name] = (r_time, r_mem)
            v_time = "met" if r_time <= TARGET_TIME_RATIO else "NOT met"
            v_mem = "met" if r_mem <= TARGET_MEMORY_RATIO else "NOT met"
            lines.append(
                f"ratio {name} / hand: time {r_time:.3f} (target <= {TARGET_TIME_RATIO}: "
                f"{v_time}), peak memory {r_mem:.3f} (target <= {TARGET_MEMORY_RATIO}: {v_mem})"
            )
    return "\n".join(lines), ratios


def main(argv=None):
    pin_allocator()  # (see bench_timing.pin_allocator)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=60, help="interleaved repeats (60)")
    parser.add_argument(
        "--target-ms", type=float, default=50.0, help="time per measurement in ms (50)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=40.0,
        help="stop the repeats (after at least 3) once this many seconds have gone by (40)",
    )
    parser.add_argument("--no-optional", action="store_true", help="skip autograd / jax")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a srcad ratio is above its target"
    )
    args = parser.parse_args(argv)

    problem = make_problem(**SHAPES)
    candidates = build_candidates(problem, with_optional=not args.no_optional)
    memory = {
        name: peak_memory(g, problem)
        for name, g in candidates.items()
        if not name.startswith("call overhead")
    }
    best, numbers, done = measure(
        candidates, problem, args.repeats, args.target_ms / 1e3, args.budget
    )
    text, ratios = report(best, numbers, memory, done)
    print(text)
    if args.check and any(
        t > TARGET_TIME_RATIO or m > TARGET_MEMORY_RATIO for t, m in ratios.values()
    ):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
