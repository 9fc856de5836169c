"""Loop benchmark: srcad's gradient of a 1000-step loop vs a hand-written reverse loop.

The function overwrites one variable n = 1000 times,

    for i in range(n):
        x = math.sin(x) * 1.1 + 0.1 * x

and is differentiated with respect to x (``n`` is an int parameter, outside ``wrt``).
Candidates:

* ``hand``            -- ``loop_grad_by_hand``: forward loop that stores the values
                         (``xs.append(x)``) and a reverse loop over ``reversed(xs)``
                         multiplying the local derivatives, written plainly;
* ``hand (tuned)``    -- the same with ``sin``/``cos``/``append`` bound to locals
                         (for reference only; the ratio is taken against ``hand``);
* ``srcad grad(loop)`` -- ``srcad.grad(loop, wrt=("x",))``;
* ``autograd`` / ``jax`` -- only if importable (never required).

Method as in benchmarks/scalar.py: every candidate is called the same way,
``g(x, n)`` inside timeit's loop (the ``call overhead`` row shows that cost); each
repeat times every candidate once, in a shuffled order (interleaving, so drift in
machine speed hits all of them alike); the reported time is the minimum over repeats
of the per-call time.  The ratio is srcad's per-call time over ``hand``'s; the target
is <= 1.5.

Run it:  python benchmarks/loop.py            (about 5-10 s; more with autograd)
         python benchmarks/loop.py --check    (exit 1 if the ratio misses the target)
"""

import argparse
import math
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_timing import interleaved_min  # noqa: E402

TARGET_RATIO = 1.5
X0 = 0.5
N = 1000


def loop(x, n):
    for i in range(n):  # noqa: B007 -- the loop index is part of the benchmarked source
        x = math.sin(x) * 1.1 + 0.1 * x
    return x


def loop_grad_by_hand(x, n):
    """d loop(x, n) / dx: store the forward values, then multiply back in reverse."""
    xs = []
    for _ in range(n):
        xs.append(x)
        x = math.sin(x) * 1.1 + 0.1 * x
    g = 1.0
    for x in reversed(xs):  # noqa: B020 -- reusing the name is the natural hand-written form
        g = g * (math.cos(x) * 1.1 + 0.1)
    return g


def loop_grad_by_hand_tuned(x, n, sin=math.sin, cos=math.cos):
    xs = []
    append = xs.append
    for _ in range(n):
        append(x)
        x = sin(x) * 1.1 + 0.1 * x
    g = 1.0
    for x in reversed(xs):  # noqa: B020
        g *= cos(x) * 1.1 + 0.1
    return g


def _noop(x, n):
    return None


def _optional_candidates():
    """autograd / jax versions of the gradient, if those packages can be imported."""
    out = {}
    try:
        import autograd
        import autograd.numpy as anp

        def loop_ag(x, n):
            for _ in range(n):
                x = anp.sin(x) * 1.1 + 0.1 * x
            return x

        g_ag = autograd.grad(loop_ag)
        out["autograd"] = lambda x, n: g_ag(x, n)
    except Exception:  # noqa: BLE001 -- optional, any failure just leaves it out
        pass
    try:
        import jax
        import jax.numpy as jnp

        def loop_jax(x, n):
            return jax.lax.fori_loop(0, n, lambda i, v: jnp.sin(v) * 1.1 + 0.1 * v, x)

        g_jax = jax.jit(jax.grad(loop_jax), static_argnums=1)
        out["jax (jit, fori_loop)"] = lambda x, n: float(g_jax(x, n))
    except Exception:  # noqa: BLE001
        pass
    return out


def build_candidates(n=N, with_optional=True):
    import srcad

    candidates = {
        "hand": loop_grad_by_hand,
        "hand (tuned)": loop_grad_by_hand_tuned,
        "srcad grad(loop)": srcad.grad(loop, wrt=("x",)),
    }
    if with_optional:
        candidates.update(_optional_candidates())
    # Never time a wrong answer: every candidate must agree with the hand-written gradient.
    reference = loop_grad_by_hand(X0, n)
    for name, g in list(candidates.items()):
        got = float(g(X0, n))
        if not math.isclose(got, reference, rel_tol=1e-9, abs_tol=0.0):
            if name.startswith(("srcad", "hand")):
                raise SystemExit(
                    f"{name} gives {got!r}, the hand-written gradient is {reference!r}"
                )
            print(f"note: {name} gives {got!r}, expected {reference!r}; left out")
            del candidates[name]
    candidates["call overhead (no-op)"] = _noop
    return candidates


def measure(candidates, n_loop, repeats, target_seconds, seed=0):
    """Min over `repeats` of the per-call time (seconds) of each candidate, interleaved."""
    timers = {
        name: timeit.Timer("g(x, n)", globals={"g": g, "x": X0, "n": n_loop})
        for name, g in candidates.items()
    }
    best, numbers, _ = interleaved_min(timers, repeats, target_seconds, seed=seed)
    return best, numbers

def report(best, numbers, repeats, n_loop):
    hand = best["hand"]
    lines = [
        f"d/dx of `for i in range(n): x = sin(x) * 1.1 + 0.1 * x` at x = {X0}, n = {n_loop}; "
        f"min over {repeats} interleaved repeats",
        f"{'candidate':<26}{'us/call':>10}{'calls/rep':>11}{'vs hand':>9}",
    ]
    for name, t in best.items():
        ratio = f"{t / hand:.3f}" if not name.startswith("call overhead") else "-"
        lines.append(f"{name:<26}{t * 1e6:>10.1f}{numbers[name]:>11d}{ratio:>9}")
    ratio = best["srcad grad(loop)"] / hand
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    lines.append(f"ratio srcad / hand = {ratio:.3f}  (target <= {TARGET_RATIO}: {verdict})")
    return "\n".join(lines), ratio


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=N, help=f"loop length ({N})")
    parser.add_argument("--repeats", type=int, default=40, help="interleaved repeats (40)")
    parser.add_argument(
        "--target-ms", type=float, default=20.0, help="time per measurement in ms (20)"
    )
    parser.add_argument("--no-optional", action="store_true", help="skip autograd / jax")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the srcad ratio is above the target"
    )
    args = parser.parse_args(argv)
    candidates = build_candidates(args.n, with_optional=not args.no_optional)
    best, numbers = measure(candidates, args.n, args.repeats, args.target_ms / 1e3)
    text, ratio = report(best, numbers, args.repeats, args.n)
    print(text)
    if args.check and ratio > TARGET_RATIO:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
