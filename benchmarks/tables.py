"""Dynamic programming over tables kept as lists of lists: gradient time over function
time, side by side in one process.

Workloads: dynamic time warping (DTW) at 15x12, 40x40 and 80x80 (an O(n m) table fill
of ``D[i][j] = cost + min(D[i-1][j], D[i][j-1], D[i-1][j-1])``); the forward algorithm
of a hidden Markov model whose transition table ``A[r][s]`` is a list of lists (over
emission probabilities; over observed symbols, a list of ints, with ``alpha`` rebuilt
by a comprehension or kept as a table ``alpha[t][j]``); an American put on a binomial
tree whose values are rewritten in one list per step; a binomial tree kept as a table
of rows, at 40 and 80 steps. The ratio (gradient over function) should not grow with
the size of the table. Each gradient is checked against central differences first.

Run it:  python benchmarks/tables.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_timing import interleaved_min  # noqa: E402

import srcad  # noqa: E402


def make_dtw(n, m):
    def dtw(s):
        a = [math.sin(0.3 * i) * s for i in range(n)]
        b = [math.cos(0.25 * i) for i in range(m)]
        D = [[1e300] * (m + 1) for _ in range(n + 1)]
        D[0][0] = 0.0
        for i in range(1, n + 1):
            for j in range(1, m + 1):
                D[i][j] = (a[i - 1] - b[j - 1]) ** 2 + min(
                    D[i - 1][j], D[i][j - 1], D[i - 1][j - 1]
                )
        return D[n][m]

    return dtw


def hmm_forward(A, start, emit):
    """log p(observations) of an HMM: A[r][s] (a list of lists) the transition
    probabilities, emit[t][s] the emission probabilities of the observed symbols."""
    S = len(start)
    alpha = [start[s] * emit[0][s] for s in range(S)]
    log_total = 0.0
    for t in range(1, len(emit)):
        new = []
        for s in range(S):
            acc = 0.0
            for r in range(S):
                acc += alpha[r] * A[r][s]
            new.append(acc * emit[t][s])
        total = sum(new)
        log_total += math.log(total)
        alpha = [v / total for v in new]
    return log_total + math.log(sum(alpha))


def american_put(spot, vol, rate, steps=60):
    """An American put on a recombining binomial tree, one list rewritten per step."""
    strike = 1.0
    dt = 1.0 / steps
    up = math.exp(vol * math.sqrt(dt))
    down = 1.0 / up
    p = (math.exp(rate * dt) - down) / (up - down)
    disc = math.exp(-rate * dt)
    values = [max(strike - spot * up ** j * down ** (steps - j), 0.0) for j in range(steps + 1)]
    for i in range(steps - 1, -1, -1):
        for j in range(i + 1):
            held = disc * (p * values[j + 1] + (1 - p) * values[j])
            values[j] = max(held, strike - spot * up ** j * down ** (i - j))
    return values[0]


def binomial_table(spot, vol, rate, steps):
    """A European call on a binomial tree kept as a table of rows (values[i][j])."""
    dt = 1.0 / steps
    up = math.exp(vol * math.sqrt(dt))
    down = 1.0 / up
    p = (math.exp(rate * dt) - down) / (up - down)
    disc = math.exp(-rate * dt)
    values = [[0.0] * (i + 1) for i in range(steps + 1)]
    for j in range(steps + 1):
        values[steps][j] = max(spot * up ** j * down ** (steps - j) - 1.0, 0.0)
    for i in range(steps - 1, -1, -1):
        for j in range(i + 1):
            values[i][j] = disc * (p * values[i + 1][j + 1] + (1 - p) * values[i + 1][j])
    return values[0][0]


def hmm_symbols(A, B, pi, obs):
    """An HMM's log likelihood of observed symbols (a list of ints), A and B lists of
    lists, alpha rebuilt by a comprehension each step."""
    S = len(pi)
    alpha = [pi[i] * B[i][obs[0]] for i in range(S)]
    for t in range(1, len(obs)):
        alpha = [sum(alpha[i] * A[i][j] for i in range(S)) * B[j][obs[t]] for j in range(S)]
    return math.log(sum(alpha))


def hmm_table(A, B, pi, obs):
    """The same, alpha[t][j] kept as a table of rows."""
    S, T = len(pi), len(obs)
    alpha = [[0.0] * S for _ in range(T)]
    for i in range(S):
        alpha[0][i] = pi[i] * B[i][obs[0]]
    for t in range(1, T):
        for j in range(S):
            acc = 0.0
            for i in range(S):
                acc += alpha[t - 1][i] * A[i][j]
            alpha[t][j] = acc * B[j][obs[t]]
    return math.log(sum(alpha[T - 1]))


def workloads():
    import random

    rng = random.Random(0)
    S, T, K = 8, 30, 5
    A = [[rng.random() + 0.1 for _ in range(S)] for _ in range(S)]
    A = [[v / sum(row) for v in row] for row in A]
    start = [1.0 / S] * S
    emit = [[rng.random() + 0.05 for _ in range(S)] for _ in range(T)]
    B = [[rng.random() + 0.05 for _ in range(K)] for _ in range(S)]
    obs = [rng.randrange(K) for _ in range(T)]
    return [
        ("DTW 15x12", make_dtw(15, 12), (1.3,), None),
        ("DTW 40x40", make_dtw(40, 40), (1.3,), None),
        ("DTW 80x80", make_dtw(80, 80), (1.3,), None),
        (f"HMM forward S={S} T={T}, A[r][s]", hmm_forward, (A, start, emit), ("A",)),
        (f"HMM symbols S={S} T={T} (ints)", hmm_symbols, (A, B, start, obs), ("A",)),
        ("HMM alpha[t][j] table, ints", hmm_table, (A, B, start, obs), ("A",)),
        ("American put, 60 steps (a list)", american_put, (1.03, 0.3, 0.02), None),
        ("binomial table, 40 steps (rows)", binomial_table, (1.05, 0.3, 0.02, 40),
         ("spot", "vol", "rate")),
        ("binomial table, 80 steps (rows)", binomial_table, (1.05, 0.3, 0.02, 80),
         ("spot", "vol", "rate")),
    ]


def check(f, g, args, wrt) -> None:
    """The gradient's first entry against central differences (a wrong gradient stops)."""
    names = f.__code__.co_varnames[: f.__code__.co_argcount]
    position = names.index(wrt[0]) if wrt else 0
    got = g(*args)
    got = got[0] if wrt and len(wrt) > 1 else got
    x = args[position]
    h = 1e-6
    if isinstance(x, list):  # (a table: its first item)
        row = list(x[0])
        moved = [[*x[0]], *x[1:]]
        row[0] += h
        up = f(*args[:position], [row, *x[1:]], *args[position + 1:])
        row[0] -= 2 * h
        down = f(*args[:position], [row, *x[1:]], *args[position + 1:])
        assert moved[0] == x[0]
        got = got[0][0]
    else:
        up = f(*args[:position], x + h, *args[position + 1:])
        down = f(*args[:position], x - h, *args[position + 1:])
    numeric = (up - down) / (2 * h)
    assert abs(got - numeric) <= 1e-5 * max(1.0, abs(numeric)), (f.__name__, got, numeric)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    print(f"srcad from {Path(srcad.__file__).resolve().parent}")
    print(f"load: {os.getloadavg()}")
    print(f"{'workload':40s} {'f (us)':>10s} {'grad (us)':>11s} {'ratio':>7s}")
    for name, f, args, wrt in workloads():
        g = srcad.grad(f, wrt=wrt) if wrt else srcad.grad(f)
        check(f, g, args, wrt)
        timers = {
            "f": timeit.Timer(lambda f=f, args=args: f(*args)),
            "g": timeit.Timer(lambda g=g, args=args: g(*args)),
        }
        best, _, _ = interleaved_min(
            timers, repeats=3 if options.quick else 7,
            target_seconds=0.02 if options.quick else 0.05, budget_seconds=20,
        )
        print(f"{name:40s} {best['f'] * 1e6:10.1f} {best['g'] * 1e6:11.1f} "
              f"{best['g'] / best['f']:7.1f}", flush=True)


if __name__ == "__main__":
    main()
