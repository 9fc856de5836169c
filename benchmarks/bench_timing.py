"""The timing method every benchmark here shares: interleaved repeats, min per call."""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import random
import time
import timeit
from collections.abc import Hashable, Mapping


def pin_allocator(threshold_bytes: int = 4 << 20) -> bool:
    """Fix glibc's mmap threshold (it moves with what the process freed before), so that
    arrays of a few hundred KB come from the heap in every candidate's run: otherwise one
    process pays page faults for them and the next does not, and a ratio of numpy code
    swings by 2x with the state of the process (W3: the hand-written MLP gradient took
    325 or 790 us). True where the C library takes the setting (glibc)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, threshold_bytes)) and bool(
            libc.mallopt(m_trim_threshold, 2 * threshold_bytes)
        )
    except (OSError, AttributeError):
        return False


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
