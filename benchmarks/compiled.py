"""Compiled gradients (issue 17, part 2): ``srcad.grad(f, backend="numba")``.

Two workloads, each timed interleaved in one process (benchmarks/bench_timing.py):

* W4, the 1000-step loop of benchmarks/loop.py: srcad's numba-compiled gradient against
  the hand-written Python gradient (target <= 0.15; JAX's jit measured here when
  installed), against the njit-compiled forward function (target <= 3) and against
  the gradient an expert writes for numba (a preallocated tape; the floor);
* a damped oscillator integrated by RK4 over 2000 steps: the gradient with respect to
  the stiffness and the damping against the njit forward (target <= 4).

numba's compile time for each gradient (its first call) is reported too. Needs numba
(``pip install 'srcad[numba]'``).

    python benchmarks/compiled.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numba  # noqa: E402
import numpy as np  # noqa: E402
from bench_timing import interleaved_min  # noqa: E402
from loop import X0, N, loop, loop_grad_by_hand  # noqa: E402

import srcad  # noqa: E402


@numba.njit  # (srcad reads the Python function behind it)
def _oscillator(x, v, k, c):
    return v, -k * x - c * v


def rk4_energy(k, c):
    """A damped oscillator by RK4 over 2000 steps; its energy at the end."""
    x, v, dt = 1.0, 0.0, 0.01
    for _ in range(2000):
        k1x, k1v = _oscillator(x, v, k, c)
        k2x, k2v = _oscillator(x + 0.5 * dt * k1x, v + 0.5 * dt * k1v, k, c)
        k3x, k3v = _oscillator(x + 0.5 * dt * k2x, v + 0.5 * dt * k2v, k, c)
        k4x, k4v = _oscillator(x + dt * k3x, v + dt * k3v, k, c)
        x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        v = v + dt / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v)
    return 0.5 * v * v + 0.5 * k * x * x


@numba.njit
def loop_grad_by_hand_njit(x, n):
    """The W4 gradient as an expert writes it for numba: a preallocated tape."""
    xs = np.empty(n)
    for i in range(n):
        xs[i] = x
        x = math.sin(x) * 1.1 + 0.1 * x
    g = 1.0
    for i in range(n - 1, -1, -1):
        g = g * (math.cos(xs[i]) * 1.1 + 0.1)
    return g


def _first_call_seconds(g, *args):
    start = time.perf_counter()
    g(*args)
    return time.perf_counter() - start


def _timed(candidates, args, quick):
    timers = {
        name: timeit.Timer("g(*a)", globals={"g": g, "a": args}) for name, g in candidates.items()
    }
    best, _, _ = interleaved_min(timers, 3 if quick else 7, 0.05 if quick else 0.2)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    quick = parser.parse_args().quick

    load = os.getloadavg()[0]
    print(f"compiled gradients, numba {numba.__version__} (load average {load:.2f}, 2 cores)")

    compiled_loop = srcad.grad(loop, wrt=("x",), backend="numba")
    compile_loop = _first_call_seconds(compiled_loop, X0, N)
    njit_loop = numba.njit(loop)
    njit_loop(X0, N)
    want = loop_grad_by_hand(X0, N)
    assert math.isclose(compiled_loop(X0, N), want, rel_tol=1e-12), "W4: wrong gradient"
    assert math.isclose(loop_grad_by_hand_njit(X0, N), want, rel_tol=1e-12)
    loop_candidates = {
        "hand": loop_grad_by_hand,
        "srcad numba": compiled_loop,
        "njit f": njit_loop,
        "hand njit": loop_grad_by_hand_njit,
    }
    try:
        import jax

        def loop_jax(x, n):
            return jax.lax.fori_loop(0, n, lambda i, v: jax.numpy.sin(v) * 1.1 + 0.1 * v, x)

        g_jax = jax.jit(jax.grad(loop_jax), static_argnums=1)
        loop_candidates["jax jit"] = lambda x, n: float(g_jax(x, n))
        loop_candidates["jax jit"](X0, N)
    except ImportError:
        pass
    best = _timed(loop_candidates, (X0, N), quick)

    compiled_rk4 = srcad.grad(rk4_energy, wrt=(0, 1), backend="numba")
    compile_rk4 = _first_call_seconds(compiled_rk4, 4.0, 0.3)
    python_rk4 = srcad.grad(rk4_energy, wrt=(0, 1))
    njit_rk4 = numba.njit(rk4_energy)
    njit_rk4(4.0, 0.3)
    for got, ref in zip(compiled_rk4(4.0, 0.3), python_rk4(4.0, 0.3)):
        assert math.isclose(got, ref, rel_tol=1e-10), "RK4: compiled and Python gradients differ"
    rk4 = _timed(
        {"srcad numba": compiled_rk4, "srcad python": python_rk4, "njit f": njit_rk4},
        (4.0, 0.3),
        quick,
    )

    rows = [
        ("W4 compiled grad / hand-written Python grad", best["srcad numba"] / best["hand"], 0.15),
        ("W4 hand-written njit grad / hand-written Python grad", best["hand njit"] / best["hand"],
         None),
        ("W4 compiled grad / hand-written njit grad", best["srcad numba"] / best["hand njit"],
         None),
        ("W4 compiled grad / njit forward", best["srcad numba"] / best["njit f"], 3.0),
        ("RK4 2000 steps: compiled grad / njit forward", rk4["srcad numba"] / rk4["njit f"], 4.0),
    ]
    if "jax jit" in best:
        jax_ratio = best["jax jit"] / best["hand"]
        rows.insert(1, ("W4 JAX jit grad / hand-written Python grad", jax_ratio, None))
    print(f"{'ratio':54} {'value':>7}  target")
    for title, ratio, target in rows:
        met = "met" if target is not None and ratio <= target else "NOT met"
        verdict = "" if target is None else f"{met} (<= {target})"
        print(f"{title:54} {ratio:7.3f}  {verdict}")
    print(
        f"times: W4 hand {best['hand'] * 1e6:.1f}us, compiled {best['srcad numba'] * 1e6:.1f}us, "
        f"njit f {best['njit f'] * 1e6:.1f}us, hand njit {best['hand njit'] * 1e6:.1f}us; "
        f"RK4 compiled {rk4['srcad numba'] * 1e6:.1f}us, "
        f"Python {rk4['srcad python'] * 1e6:.1f}us, njit f {rk4['njit f'] * 1e6:.1f}us"
    )
    print(f"numba compile time (first call): W4 {compile_loop:.2f}s, RK4 {compile_rk4:.2f}s")


if __name__ == "__main__":
    main()
