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
