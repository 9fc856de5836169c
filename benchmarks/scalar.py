"""Scalar benchmark: srcad's generated gradient vs the hand-written backward pass.

The function is the sigmoid-gate example (examples/sigmoid_gate.py),
f(x, y) = (x + sigma(y)) / (sigma(x) + (x + y)**2) at (3, -4).  Candidates:

* ``hand``            -- ``f_grad_by_hand``: the seed's hand-written forward + backward;
* ``srcad grad(f)``   -- ``srcad.grad(f)`` on the seed's 8-line listing;
* ``srcad grad(f_expr)`` -- ``srcad.grad(f_expr)`` on the one-expression version
                         that calls the helper ``sigmoid``;
* ``autograd`` / ``jax`` -- only if importable (never required).

Every candidate is called the same way, ``g(x, y)`` inside timeit's loop, so
the loop and call overhead is common to all of them; the ``call overhead`` row
(a function that returns at once) shows how big it is.  Each repeat times every
candidate once, in a shuffled order (interleaving, so drift in machine speed
hits all of them alike); the reported time is the minimum over repeats of the
per-call time.  The ratio is srcad's per-call time over the hand-written one's;
the target is <= 1.15.

Run it:  python benchmarks/scalar.py            (about 6 s; 8 s with autograd)
         python benchmarks/scalar.py --check    (exit 1 if a ratio misses the target)
"""

import argparse
import importlib.util
import math
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_timing import interleaved_min  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.15
POINT = (3.0, -4.0)


def load_example(name):
    """Import examples/<name>.py as a registered module (so inspect.getsource works)."""
    modname = f"srcad_examples_{name}"
    if modname in sys.modules:
        return sys.modules[modname]
    spec = importlib.util.spec_from_file_location(modname, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    spec.loader.exec_module(module)
    return module


def _noop(x, y):
    return None


def _optional_candidates():
    """autograd / jax versions of f, if those packages can be imported."""
    out = {}
    try:
        import autograd
        import autograd.numpy as anp

        def f_ag(xy):
            x, y = xy
            sigy = 1.0 / (1 + anp.exp(-y))
            sigx = 1.0 / (1 + anp.exp(-x))
            return (x + sigy) / (sigx + (x + y) ** 2)

        g_ag = autograd.grad(f_ag)
        out["autograd"] = lambda x, y: g_ag((x, y))
    except Exception:  # noqa: BLE001 -- optional, any failure just leaves it out
        pass
    try:
        import jax
        import jax.numpy as jnp

        def f_jax(x, y):
            sigy = 1.0 / (1 + jnp.exp(-y))
            sigx = 1.0 / (1 + jnp.exp(-x))
            return (x + sigy) / (sigx + (x + y) ** 2)

        g_jax = jax.jit(jax.grad(f_jax, argnums=(0, 1)))
        out["jax (jit)"] = lambda x, y: tuple(float(v) for v in g_jax(x, y))
    except Exception:  # noqa: BLE001
        pass
    return out


def _close(a, b):
    return all(
        math.isclose(float(u), float(v), rel_tol=1e-9, abs_tol=1e-12)
        for u, v in zip(a, b, strict=True)
    )


def build_candidates(with_optional=True):
    import srcad

    sg = load_example("sigmoid_gate")
    candidates = {
        "hand (f_grad_by_hand)": sg.f_grad_by_hand,
        "srcad grad(f)": srcad.grad(sg.f, wrt=("x", "y")),
        "srcad grad(f_expr)": srcad.grad(sg.f_expr, wrt=("x", "y")),
    }
    if with_optional:
        candidates.update(_optional_candidates())
    # Never time a wrong answer: every candidate must agree with the hand-written gradient.
    reference = sg.f_grad_by_hand(*POINT)
    for name, g in list(candidates.items()):
        got = tuple(g(*POINT))
        if not _close(got, reference):
            if name.startswith("srcad") or name.startswith("hand"):
                raise SystemExit(f"{name} gives {got}, the hand-written gradient is {reference}")
            print(f"note: {name} gives {got}, expected {reference}; left out")
            del candidates[name]
    candidates["call overhead (no-op)"] = _noop
    return candidates


def measure(candidates, repeats, target_seconds, seed=0):
    """Min over `repeats` of the per-call time (seconds) of each candidate, interleaved."""
    x, y = POINT
    timers = {
        name: timeit.Timer("g(x, y)", globals={"g": g, "x": x, "y": y})
        for name, g in candidates.items()
    }
    best, numbers, _ = interleaved_min(timers, repeats, target_seconds, seed=seed)
    return best, numbers

def report(best, numbers, repeats):
    hand = best["hand (f_grad_by_hand)"]
    lines = [
        f"f(x, y) = (x + sigma(y)) / (sigma(x) + (x + y)**2) at {POINT}; "
        f"min over {repeats} interleaved repeats",
        f"{'candidate':<26}{'ns/call':>10}{'calls/rep':>11}{'vs hand':>9}",
    ]
    for name, t in best.items():
        ratio = f"{t / hand:.3f}" if not name.startswith("call overhead") else "-"
        lines.append(f"{name:<26}{t * 1e9:>10.1f}{numbers[name]:>11d}{ratio:>9}")
    ratios = {name: t / hand for name, t in best.items() if name.startswith("srcad")}
    for name, r in ratios.items():
        verdict = "met" if r <= TARGET_RATIO else "NOT met"
        lines.append(f"ratio {name} / hand = {r:.3f}  (target <= {TARGET_RATIO}: {verdict})")
    return "\n".join(lines), ratios


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=100, help="interleaved repeats (100)")
    parser.add_argument(
        "--target-ms", type=float, default=15.0, help="time per measurement in ms (15)"
    )
    parser.add_argument("--no-optional", action="store_true", help="skip autograd / jax")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a srcad ratio is above the target"
    )
    args = parser.parse_args(argv)

    candidates = build_candidates(with_optional=not args.no_optional)
    best, numbers = measure(candidates, args.repeats, args.target_ms / 1e3)
    text, ratios = report(best, numbers, args.repeats)
    print(text)
    if args.check and any(r > TARGET_RATIO for r in ratios.values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
