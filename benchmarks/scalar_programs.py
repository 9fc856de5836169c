"""W5: realistic scalar programs, gradient time over function time (issue 17).

Each program is plain Python on floats (lists and tuples of floats, helpers returning
tuples, ``while`` loops, early returns), the code people write for a root finder, a
filter, an integrator or a pricing formula. For each, srcad's gradient with respect to
every float parameter is timed against one call of the function, interleaved in one
process (benchmarks/bench_timing.py), and checked against central differences first.

    python benchmarks/scalar_programs.py [--quick]

Target (issue 17): gradient at most 3x the function for every program. For the programs
furthest from it, an expert's hand-written reverse-mode gradient is timed too (``hand/f``,
and srcad's gradient over it, ``g/hand``).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_timing import interleaved_min  # noqa: E402

import srcad  # noqa: E402

TARGET = 3.0


def horner(coefficients, x):
    """A polynomial by Horner's rule over a list of coefficients."""
    total = 0.0
    for c in coefficients:
        total = total * x + c
    return total


def newton_sqrt(a):
    """Newton's method for sqrt(a) in a while loop, to a tolerance."""
    x = a if a > 1.0 else 1.0
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x


def _oscillator(x, v, k, c):
    return v, -k * x - c * v


def rk4_oscillator(k, c):
    """A damped oscillator by RK4; the helper returns a tuple."""
    x, v, dt = 1.0, 0.0, 0.05
    for _ in range(100):
        k1x, k1v = _oscillator(x, v, k, c)
        k2x, k2v = _oscillator(x + 0.5 * dt * k1x, v + 0.5 * dt * k1v, k, c)
        k3x, k3v = _oscillator(x + 0.5 * dt * k2x, v + 0.5 * dt * k2v, k, c)
        k4x, k4v = _oscillator(x + dt * k3x, v + dt * k3v, k, c)
        x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        v = v + dt / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v)
    return x * x + v * v


def kalman_loglik(q, r, observations):
    """The log-likelihood of a random walk plus noise, by a scalar Kalman filter."""
    mean, var, total = 0.0, 1.0, 0.0
    for z in observations:
        var = var + q
        s = var + r
        innovation = z - mean
        total = total - 0.5 * (math.log(2.0 * math.pi * s) + innovation * innovation / s)
        gain = var / s
        mean = mean + gain * innovation
        var = (1.0 - gain) * var
    return total


def bond_price(rate, spread, coupons):
    """A bond's price: coupons discounted at a flat rate plus spread."""
    price = 0.0
    discount = 1.0 / (1.0 + rate + spread)
    factor = 1.0
    for cash in coupons:
        factor = factor * discount
        price = price + cash * factor
    return price


def euler_decay(k, y0):
    """dy/dt = -k y + sin(t), explicit Euler, with the trajectory kept in a list."""
    dt, t, y = 0.01, 0.0, y0
    path = [y]
    for _ in range(200):
        y = y + dt * (-k * y + math.sin(t))
        t = t + dt
        path.append(y)
    return sum(path) * dt


def bisection_root(a):
    """The root of x**3 + a*x - 1 by bisection, then one Newton step (so the result
    depends smoothly on a)."""
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if mid * mid * mid + a * mid - 1.0 > 0.0:
            hi = mid
        else:
            lo = mid
    x = 0.5 * (lo + hi)
    return x - (x * x * x + a * x - 1.0) / (3.0 * x * x + a)


def ema_filter(alpha, signal):
    """An exponential moving average (a recursive filter) and its squared error."""
    level = signal[0]
    error = 0.0
    for value in signal:
        error = error + (value - level) ** 2
        level = alpha * value + (1.0 - alpha) * level
    return error


def first_passage(rate):
    """Compound growth until a threshold: an early return inside a loop."""
    value = 1.0
    for year in range(100):
        value = value * (1.0 + rate)
        if value > 2.0:
            return year + (value - 2.0) / (value * rate)
    return 100.0


def logistic_map(r, x0):
    """The logistic map iterated 300 times (a long chain of products)."""
    x = x0
    for _ in range(300):
        x = r * x * (1.0 - x)
    return x


# ---------------------------------------------------------------- expert gradients
# What an expert writes by hand for the programs furthest from the target: a forward
# pass that keeps what the backward pass reads (in a list), then the backward pass. They
# say how far a reverse-mode gradient in Python can go on these, apart from srcad.


def horner_grad_by_hand(coefficients, x):
    totals = []
    total = 0.0
    for c in coefficients:
        totals.append(total)
        total = total * x + c
    dtotal, dx = 1.0, 0.0
    for total in reversed(totals):
        dx += total * dtotal
        dtotal *= x
    return dx


def bond_price_grad_by_hand(rate, spread, coupons):
    discount = 1.0 / (1.0 + rate + spread)
    factors = []
    factor = 1.0
    for _ in coupons:
        factors.append(factor)
        factor = factor * discount
    dfactor, ddiscount = 0.0, 0.0
    for cash, before in zip(reversed(coupons), reversed(factors)):
        dfactor += cash  # price += cash * factor
        ddiscount += before * dfactor  # factor = before * discount
        dfactor *= discount
    d = -discount * discount * ddiscount
    return d, d


def first_passage_grad_by_hand(rate):
    value = 1.0
    values = []
    for year in range(100):
        values.append(value)
        value = value * (1.0 + rate)
        if value > 2.0:
            dvalue = 1.0 / (value * rate) - (value - 2.0) / (value * value * rate)
            drate = -(value - 2.0) / (value * rate * rate)
            for before in reversed(values):
                drate += before * dvalue
                dvalue *= 1.0 + rate
            return drate
    return 0.0


def kalman_loglik_grad_by_hand(q, r, observations):
    mean, var = 0.0, 1.0
    saved = []
    for z in observations:
        var = var + q
        s = var + r
        innovation = z - mean
        gain = var / s
        saved.append((var, s, innovation, gain))
        mean = mean + gain * innovation
        var = (1.0 - gain) * var
    dq = dr = dmean = dvar = 0.0
    for var, s, innovation, gain in reversed(saved):
        # var_next = (1 - gain) * var, mean_next = mean + gain * innovation
        dgain = -var * dvar + innovation * dmean
        dvar_pred = (1.0 - gain) * dvar
        dinnovation = gain * dmean
        # gain = var / s
        dvar_pred += dgain / s
        ds = -dgain * gain / s
        # total -= 0.5 * (log(2 pi s) + innovation^2 / s)
        ds += -0.5 * (1.0 / s - innovation * innovation / (s * s))
        dinnovation -= innovation / s
        dmean -= dinnovation  # innovation = z - mean (mean_next = mean + ...)
        dvar_pred += ds  # s = var + r
        dr += ds
        dvar = dvar_pred  # var = var_prev + q
        dq += dvar_pred
    return dq, dr


def logistic_map_grad_by_hand(r, x0):
    xs = []
    x = x0
    for _ in range(300):
        xs.append(x)
        x = r * x * (1.0 - x)
    dx, dr = 1.0, 0.0
    for x in reversed(xs):
        dr += dx * x * (1.0 - x)
        dx *= r * (1.0 - 2.0 * x)
    return dr, dx


HAND = {
    horner: horner_grad_by_hand,
    bond_price: bond_price_grad_by_hand,
    first_passage: first_passage_grad_by_hand,
    kalman_loglik: kalman_loglik_grad_by_hand,
    logistic_map: logistic_map_grad_by_hand,
}


OBSERVATIONS = [math.sin(0.3 * k) + 0.1 * k for k in range(50)]
SIGNAL = [math.cos(0.2 * k) for k in range(100)]
COUPONS = [5.0] * 9 + [105.0]

PROGRAMS = [
    ("Horner over a list", horner, ([0.5, -1.0, 2.0, 0.25, -0.75, 1.5, 0.1, -0.2], 0.7), (1,)),
    ("Newton sqrt, while loop", newton_sqrt, (2.5,), (0,)),
    ("RK4 oscillator, tuple helper", rk4_oscillator, (4.0, 0.3), (0, 1)),
    ("Kalman filter log-likelihood", kalman_loglik, (0.1, 0.5, OBSERVATIONS), (0, 1)),
    ("bond price over coupons", bond_price, (0.03, 0.01, COUPONS), (0, 1)),
    ("Euler ODE, list of states", euler_decay, (0.8, 1.0), (0, 1)),
    ("bisection root finder", bisection_root, (0.6,), (0,)),
    ("EMA recursive filter", ema_filter, (0.3, SIGNAL), (0,)),
    ("first passage, early return", first_passage, (0.07,), (0,)),
    ("logistic map", logistic_map, (3.2, 0.3), (0, 1)),
]


def central(f, args, wrt, eps=1e-6):
    out = []
    for k in wrt:
        up, down = list(args), list(args)
        up[k], down[k] = args[k] + eps, args[k] - eps
        out.append((f(*up) - f(*down)) / (2 * eps))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (about 20 s)")
    options = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"W5: realistic scalar programs (load average {load:.2f}, {os.cpu_count()} cores)")
    print(f"{'program':32} {'f':>10} {'grad':>10} {'grad/f':>7}  {'hand/f':>6} "
          f"{'g/hand':>6}  float version  target")
    missed = 0
    for title, f, args, wrt in PROGRAMS:
        g = srcad.grad(f, wrt=wrt)
        got = g(*args)
        got = [got] if len(wrt) == 1 else list(got)
        want = central(f, args, wrt)
        for a, b in zip(got, want):
            assert math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-7), (title, got, want)
        timers = {
            "f": timeit.Timer(lambda f=f, args=args: f(*args)),
            "grad": timeit.Timer(lambda g=g, args=args: g(*args)),
        }
        hand = HAND.get(f)
        if hand is not None:
            by_hand = hand(*args)
            by_hand = [by_hand] if len(wrt) == 1 else list(by_hand)
            for a, b in zip(got, by_hand, strict=True):
                assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (title, got, by_hand)
            timers["hand"] = timeit.Timer(lambda h=hand, args=args: h(*args))
        best, _, _ = interleaved_min(
            timers, repeats=5 if options.quick else 15, target_seconds=0.02,
            budget_seconds=2.0 if options.quick else 6.0,
        )
        ratio = best["grad"] / best["f"]
        fast = "yes" if "for Python floats" in g.backward_source else "no"
        met = ratio <= TARGET
        missed += not met
        by_hand = f"{best['hand'] / best['f']:6.2f} {best['grad'] / best['hand']:6.2f}" if (
            "hand" in best) else f"{'-':>6} {'-':>6}"
        print(
            f"{title:32} {best['f'] * 1e6:8.2f}us {best['grad'] * 1e6:8.2f}us {ratio:7.2f}"
            f"  {by_hand}  {fast:13}  {'met' if met else 'NOT met'}"
        )
    print(f"{len(PROGRAMS) - missed} of {len(PROGRAMS)} within {TARGET}x")


if __name__ == "__main__":
    main()
