"""The timing method every benchmark here shares: interleaved repeats, min per call."""

from __future__ import annotations

import math
import random
import time
import timeit
from collections.abc import Hashable, Mapping


def interleaved_min(
    timers: Mapping[Hashable, timeit.Timer],
    repeats: int,
    target_seconds: float,
    budget_seconds: float = math.inf,
    seed: int = 0,
    floor_seconds: float = 0.005,
) -> tuple[dict, dict, int]:
    """Min over repeats of each timer's per-call time (seconds).

    Calls per measurement are calibrated to about ``target_seconds`` (best of three
    timings of at least ``floor_seconds``) and re-aimed from the best time so far, since a
    calibration made in a busy moment of a shared machine would leave too few calls.
    Every repeat times every candidate once, in a shuffled order, so that drift in the
    machine's speed hits all of them alike. Stops early (after at least 3 repeats) once
    ``budget_seconds`` have gone by. Returns (best, calls per measurement, repeats done).
    """
    numbers = {}
    for key, timer in timers.items():
        n, elapsed = 1, timer.timeit(1)
        while elapsed < floor_seconds:
            n *= 2
            elapsed = timer.timeit(n)
        per_call = min(elapsed, timer.timeit(n), timer.timeit(n)) / n
        numbers[key] = max(3, int(target_seconds / max(per_call, 1e-9)))
    best = dict.fromkeys(timers, math.inf)
    rng = random.Random(seed)
    order = list(timers)
    deadline = time.perf_counter() + budget_seconds
    done = 0
    while done < repeats and (done < 3 or time.perf_counter() < deadline):
        rng.shuffle(order)
        for key in order:
            n = numbers[key]
            best[key] = min(best[key], timers[key].timeit(n) / n)
            numbers[key] = max(3, int(target_seconds / max(best[key], 1e-9)))
        done += 1
    return best, numbers, done
