"""Realistic programs of stop 35's classes: stack machines and queues whose list changes
read the same list first (``st.append(st.pop() * v)``, a rotation ``q.append(q.pop(0))``),
tables of constants at module level (quadrature nodes and weights, tax brackets, a
tariff, spline knots), slices of lists of coefficients (Clenshaw's recurrence), and loops
over items printed as Python writes them."""

import math

from _spec import Case

# ---------------------------------------------------------------- module-level tables

GAUSS_LEGENDRE_5 = (
    (-0.9061798459386640, 0.2369268850561891),
    (-0.5384693101056831, 0.4786286704993665),
    (0.0, 0.5688888888888889),
    (0.5384693101056831, 0.4786286704993665),
    (0.9061798459386640, 0.2369268850561891),
)
TAX_BRACKETS = [(0.0, 0.0), (11000.0, 0.12), (44725.0, 0.22), (95375.0, 0.24)]
TARIFF_BLOCKS = [100, 300, 600]  # kWh at which the next price starts (ints)
TARIFF_PRICES = (0.12, 0.15, 0.21, 0.28)
KNOTS = [0.0, 0.5, 1.2, 2.0, 3.1]


def survival_probability(hazard, shape, horizon):
    """exp(-integral of a Weibull-like hazard over [0, horizon]) by five-point
    Gauss-Legendre quadrature, the nodes and weights in a module-level table."""
    half = 0.5 * horizon
    integral = 0.0
    for node, weight in GAUSS_LEGENDRE_5:
        t = half * node + half
        integral += weight * hazard * shape * t ** (shape - 1.0)
    return math.exp(-half * integral)


def income_tax_owed(income, deduction, credit_rate):
    """Marginal tax by brackets (a module-level list of (threshold, rate) pairs)."""
    taxable = max(income - deduction, 0.0)
    tax = 0.0
    for k in range(len(TAX_BRACKETS)):
        low, rate = TAX_BRACKETS[k]
        high = TAX_BRACKETS[k + 1][0] if k + 1 < len(TAX_BRACKETS) else math.inf
        if taxable > low:
            tax += rate * (min(taxable, high) - low)
    return tax * (1.0 - credit_rate)


def electricity_bill(usage, surcharge):
    """A block tariff: the price rises at module-level thresholds (ints)."""
    bill, start = 0.0, 0
    for limit, price in zip(TARIFF_BLOCKS, TARIFF_PRICES):
        block = min(max(usage - start, 0.0), limit - start)
        bill += block * price
        start = limit
    bill += max(usage - start, 0.0) * TARIFF_PRICES[-1]
    return bill * (1.0 + surcharge)


def hat_basis_fit(values, x):
    """A piecewise-linear interpolant through values at module-level knots."""
    for k in range(len(KNOTS) - 1):
        if KNOTS[k] <= x < KNOTS[k + 1]:
            w = (x - KNOTS[k]) / (KNOTS[k + 1] - KNOTS[k])
            return (1.0 - w) * values[k] + w * values[k + 1]
    return values[-1]


# ---------------------------------------------------------------- slices of coefficients


def chebyshev_series(coefficients, x):
    """A Chebyshev series by Clenshaw's recurrence over ``coefficients[1:]``."""
    b1, b2 = 0.0, 0.0
    for c in reversed(coefficients[1:]):
        b1, b2 = 2.0 * x * b1 - b2 + c, b1
    return x * b1 - b2 + coefficients[0]


def moving_average_error(signal, alpha):
    """A smoothing of signal[1:] started from signal[0], and its squared error."""
    level, error = signal[0], 0.0
    for value in signal[1:]:
        error += (value - level) ** 2
        level = alpha * value + (1.0 - alpha) * level
    return error


# ---------------------------------------------------------------- stacks and queues


def rpn_polynomial(a, b, c, x):
    """a x^2 + b x + c by a stack machine's steps (push, multiply the top, add the top
    two): each step pops its operands inside the push of its result."""
    stack = [a]
    stack.append(stack.pop() * x)
    stack.append(b)
    stack.append(stack.pop() + stack.pop())
    stack.append(stack.pop() * x)
    stack.append(c)
    stack.append(stack.pop() + stack.pop())
    return sum(stack)  # (the one value left)


def round_robin_service(rates, work):
    """Jobs served in turn from a queue: each turn the front job is served and goes to
    the back (the rotation idiom), its remaining work decaying at its rate."""
    queue = [(rate, work) for rate in rates]
    total = 0.0
    for _ in range(2 * len(rates)):
        rate, remaining = queue.pop(0)
        total += remaining * rate
        queue.append((rate, remaining * math.exp(-rate)))
    return total + sum(remaining for _, remaining in queue)


def sliding_window_peak(x, decay):
    """A window kept by rotating a list: the oldest value leaves, a new one joins."""
    window = [x, x * decay, x * decay * decay]
    for step in range(5):
        window.append(window.pop(0) * decay + 0.1 * step)
    return max(window) + sum(window) / len(window)


CASES = [
    Case("survival_probability", survival_probability,
         lambda rng: (rng.uniform(0.2, 0.8), rng.uniform(1.2, 2.5), rng.uniform(1.0, 3.0)),
         wrt=(0, 1, 2)),
    Case("income_tax_owed", income_tax_owed,
         lambda rng: (rng.uniform(30000.0, 120000.0), rng.uniform(5000.0, 15000.0),
                      rng.uniform(0.0, 0.1)), wrt=(0, 1, 2)),
    Case("electricity_bill", electricity_bill,
         lambda rng: (rng.uniform(150.0, 800.0), rng.uniform(0.0, 0.2)), wrt=(0, 1)),
    Case("hat_basis_fit", hat_basis_fit,
         lambda rng: (list(rng.normal(size=5)), rng.uniform(0.1, 2.9)), wrt=(0, 1)),
    Case("chebyshev_series", chebyshev_series,
         lambda rng: (list(rng.normal(size=7)), rng.uniform(-0.9, 0.9)), wrt=(0, 1)),
    Case("moving_average_error", moving_average_error,
         lambda rng: (list(rng.normal(size=12)), rng.uniform(0.1, 0.9)), wrt=(0, 1)),
    Case("rpn_polynomial", rpn_polynomial,
         lambda rng: tuple(rng.normal(size=4)), wrt=(0, 1, 2, 3)),
    Case("round_robin_service", round_robin_service,
         lambda rng: (list(rng.uniform(0.1, 0.9, size=3)), rng.uniform(1.0, 2.0)), wrt=(0, 1)),
    Case("sliding_window_peak", sliding_window_peak,
         lambda rng: (rng.uniform(0.5, 1.5), rng.uniform(0.5, 0.9)), wrt=(0, 1)),
]
