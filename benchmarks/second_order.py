"""Second derivatives: their cost as ratios, measured side by side in one process.

Rows (issue 16's targets in brackets):

* H4 -- ``srcad.hessian(f)`` of a 4-parameter scalar function (Python floats) over one
        call of ``f`` [<= 10];
* V1 -- ``srcad.hvp(f)`` of the same function over one call of ``srcad.grad(f)`` [<= 4];
* V3 -- ``srcad.hvp`` of the numpy MLP loss of benchmarks/mlp.py (W3), with respect to
        its four weight arrays, over one call of its gradient [<= 4];
* V4 -- ``srcad.hvp`` of the 1000-step loop of benchmarks/loop.py (W4) over its
        gradient [<= 4].

Before timing, each hvp is checked against central differences of srcad's gradient
(relative 1e-5). Timing as in benchmarks/run.py (bench_timing.interleaved_min: every
candidate once per repeat in a shuffled order, min per call over repeats).

Run it:  python benchmarks/second_order.py [--check]   (about 20-40 s; --check: exit 1
         when a target is missed)
"""

from __future__ import annotations

import math
import os
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import loop as w4  # noqa: E402
import mlp as w3  # noqa: E402
from bench_timing import interleaved_min  # noqa: E402

import srcad  # noqa: E402

TARGETS = {"H4": 10.0, "V1": 4.0, "V3": 4.0, "V4": 4.0}


def four(a, b, c, d):
    """A scalar function of four floats: a smooth mix of products and transcendentals."""
    u = a * b + math.sin(c) * d
    v = math.exp(-0.5 * a * a) + math.tanh(b * c)
    return u * v + math.log(1.0 + d * d) * a


def _check(name, product, gradient, args, direction, wrt):
    """``product`` (H @ direction) against central differences of ``gradient``."""
    h = 1e-6
    shifted = [list(args), list(args)]
    for k, name_index in enumerate(wrt):
        for sign, which in ((1, 0), (-1, 1)):
            shifted[which][name_index] = args[name_index] + sign * h * direction[k]
    plus, minus = gradient(*shifted[0]), gradient(*shifted[1])
    plus, minus = (plus,) if len(wrt) == 1 else plus, (minus,) if len(wrt) == 1 else minus
    got = product if len(wrt) > 1 else (product,)
    for p, m, g in zip(plus, minus, got, strict=True):
        numeric = (np.asarray(p) - np.asarray(m)) / (2 * h)
        scale = max(1.0, float(np.max(np.abs(numeric))))
        error = float(np.max(np.abs(np.asarray(g) - numeric))) / scale
        if error > 1e-5:
            raise SystemExit(f"{name}: hvp differs from differences of the gradient ({error:.1e})")


def main() -> int:
    scalar_args = (0.3, -0.7, 1.1, 0.4)
    scalar_v = (1.0, -0.5, 0.25, 2.0)
    hessian4 = srcad.hessian(four, wrt=(0, 1, 2, 3))
    grad4 = srcad.grad(four, wrt=(0, 1, 2, 3))
    hvp4 = srcad.hvp(four, wrt=(0, 1, 2, 3))
    _check("V1", hvp4(*scalar_args, scalar_v), grad4, scalar_args, scalar_v, (0, 1, 2, 3))
    H = hessian4(*scalar_args)
    assert np.allclose(H @ np.array(scalar_v), hvp4(*scalar_args, scalar_v), rtol=1e-12)

    problem = w3.make_problem()
    wrt3 = w3.WRT
    grad3 = srcad.grad(w3.loss, wrt=wrt3)
    hvp3 = srcad.hvp(w3.loss, wrt=wrt3)
    rng = np.random.default_rng(1)
    v3 = tuple(rng.normal(size=np.shape(p)) for p in problem[:4])
    _check("V3", hvp3(*problem, v3), grad3, problem, v3, (0, 1, 2, 3))

    grad4_loop = srcad.grad(w4.loop)
    hvp4_loop = srcad.hvp(w4.loop)
    _check("V4", hvp4_loop(w4.X0, w4.N, 1.0), grad4_loop, (w4.X0, w4.N), (1.0,), (0,))

    candidates = {
        ("H4", "f"): lambda: four(*scalar_args),
        ("H4", "srcad"): lambda: hessian4(*scalar_args),
        ("V1", "grad"): lambda: grad4(*scalar_args),
        ("V1", "srcad"): lambda: hvp4(*scalar_args, scalar_v),
        ("V3", "grad"): lambda: grad3(*problem),
        ("V3", "srcad"): lambda: hvp3(*problem, v3),
        ("V4", "grad"): lambda: grad4_loop(w4.X0, w4.N),
        ("V4", "srcad"): lambda: hvp4_loop(w4.X0, w4.N, 1.0),
    }
    timers = {key: timeit.Timer(call) for key, call in candidates.items()}
    best, _, repeats = interleaved_min(timers, repeats=7, target_seconds=0.05,
                                       budget_seconds=40)
    print(f"second derivatives, min per call over {repeats} interleaved repeats "
          f"(load {os.getloadavg()[0]:.2f})")
    print(f"{'row':4s} {'second derivative':>18s} {'reference':>12s} {'ratio':>7s} {'target':>7s}")
    failed = False
    for row, reference in (("H4", "f"), ("V1", "grad"), ("V3", "grad"), ("V4", "grad")):
        ratio = best[(row, "srcad")] / best[(row, reference)]
        met = ratio <= TARGETS[row]
        failed |= not met
        mine, theirs = best[(row, "srcad")] * 1e6, best[(row, reference)] * 1e6
        print(f"{row:4s} {mine:15.1f} us {theirs:9.1f} us {ratio:7.2f} "
              f"{'<=' if met else '> '}{TARGETS[row]:5.1f}  ({reference})")
    return 1 if failed and "--check" in sys.argv else 0


if __name__ == "__main__":
    sys.exit(main())
