"""A helper module for tests/test_float_version.py: a model whose helper reads a global
of its own module (inlined, the global becomes the listing's)."""
import math

BIOAVAILABILITY = 0.85


def oral_concentration(t, ka, ke, volume, dose=250.0):
    coef = BIOAVAILABILITY * dose * ka / (volume * (ka - ke))
    return coef * (math.exp(-ke * t) - math.exp(-ka * t))


def log_residuals(log_ka, log_ke, log_v, times, concs):
    ka, ke, volume = math.exp(log_ka), math.exp(log_ke), math.exp(log_v)
    sse = 0.0
    for t, c in zip(times, concs):
        resid = math.log(oral_concentration(t, ka, ke, volume)) - math.log(c)
        sse += resid * resid
    return sse


# a helper's global named as a parameter, a loop variable or a counter of the caller
sigma = 0.5
k = 2.0


def likelihood_term(r):
    return -0.5 * r * r / (sigma * sigma)  # (the global sigma)


def gauss_loglik(x, mu, sigma):  # (a parameter named as the helper's global)
    total = 0.0
    for v in x:
        total += likelihood_term((v - mu) / sigma)
    return total


def scaled(t):
    return k * t  # (the global k)


def weighted_by_counter(x):
    s = 0.0
    for k in range(3):  # (a loop variable named as the helper's global)
        s += scaled(x) * k
    return s


def over_items(x, xs):
    s = 0.0
    for v in xs:  # (srcad's loop counter is named k too)
        s += scaled(x) * v
    return s


# globals of other kinds a helper reads: rebound by the caller's module between calls
MODE = "lin"
GAINS = {"gain": 1.0}
WEIGHTS = [1.0, 2.0]


def configured(y):
    linear = y if MODE == "lin" else y * y
    return GAINS["gain"] * y + sum(w * y for w in WEIGHTS) + linear
