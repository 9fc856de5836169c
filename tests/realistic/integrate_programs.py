"""Realistic programs through ``scipy.integrate``'s integrators of a function: a
pharmacokinetic fit and Lotka–Volterra's and a damped oscillator's by ``odeint``; an SIR
epidemic, a projectile with drag, Michaelis–Menten kinetics and a chain of reactions by
``solve_ivp``; a normalising constant, an expected value and a cumulative hazard by
``quad``; two forms srcad refuses at the line (a weighted ``quad``, ``solve_ivp``'s
events). Tight tolerances throughout, so that central differences are a fair reference."""

import math

import numpy as np
import scipy.integrate
from _spec import Case

ODE_RTOL, ODE_ATOL = 1e-10, 1e-12

# ---------------------------------------------------------------- odeint


def _gut_and_plasma(y, t, ka, ke):
    gut, plasma = y
    return [-ka * gut, ka * gut - ke * plasma]


def pk_oral_dose_fit(log_ka, log_ke, log_volume, observed):
    """An oral dose absorbed from the gut into plasma (first order in and out): the
    squared misfit of the log concentrations, parameters on the log scale."""
    ka, ke, volume = math.exp(log_ka), math.exp(log_ke), math.exp(log_volume)
    times = np.array([0.0, 0.5, 1.0, 2.0, 4.0, 8.0])
    amounts = scipy.integrate.odeint(_gut_and_plasma, [100.0, 0.0], times, args=(ka, ke),
                                     rtol=ODE_RTOL, atol=ODE_ATOL)
    concentration = amounts[1:, 1] / volume
    return float(np.sum((np.log(concentration) - np.log(observed)) ** 2))


def lotka_volterra_loss(a, b, c, d, counts):
    """Prey and predators against yearly counts, from the first count."""
    def rates(y, t):
        prey, predators = y
        return np.array([a * prey - b * prey * predators, c * prey * predators - d * predators])

    years = np.arange(len(counts), dtype=float)
    path = scipy.integrate.odeint(rates, counts[0], years, rtol=ODE_RTOL, atol=ODE_ATOL)
    return np.sum((path - counts) ** 2) / len(counts)


def damped_oscillator_energy(x0, v0, stiffness, damping, mass):
    """A mass on a damped spring: the energy left after 5 seconds (tolerances tight
    enough for central differences of LSODA, whose steps jump with the parameters)."""
    states = scipy.integrate.odeint(
        lambda s, t: [s[1], -(stiffness * s[0] + damping * s[1]) / mass],
        [x0, v0], np.linspace(0.0, 5.0, 11), rtol=1e-12, atol=1e-14,
    )
    x, v = states[-1]
    return 0.5 * mass * v * v + 0.5 * stiffness * x * x


# ---------------------------------------------------------------- solve_ivp


def _sir(t, y, beta, gamma):
    s, i, r = y
    infections = beta * s * i
    return [-infections, infections - gamma * i, gamma * i]


def sir_epidemic_fit(beta, gamma, weekly_cases):
    """An SIR model's infected fraction against weekly surveillance (least squares)."""
    weeks = np.arange(len(weekly_cases), dtype=float) * 7.0
    sol = scipy.integrate.solve_ivp(_sir, (0.0, weeks[-1]), [0.99, 0.01, 0.0], t_eval=weeks,
                                    args=(beta, gamma), method="DOP853", rtol=ODE_RTOL,
                                    atol=ODE_ATOL)
    infected = sol.y[1]
    return float(np.sum((infected - weekly_cases) ** 2))


def projectile_range_with_drag(speed, angle, drag):
    """A ball with quadratic air drag: where it is after 1.2 s (horizontal distance plus
    height), as an aim would score it."""
    def motion(t, state):
        x, y, vx, vy = state
        v = math.sqrt(vx * vx + vy * vy)
        return [vx, vy, -drag * v * vx, -9.81 - drag * v * vy]

    start = [0.0, 0.0, speed * math.cos(angle), speed * math.sin(angle)]
    sol = scipy.integrate.solve_ivp(motion, (0.0, 1.2), start, method="DOP853",
                                    rtol=ODE_RTOL, atol=ODE_ATOL)
    x, y = sol.y[0, -1], sol.y[1, -1]
    return x + 0.5 * y


def michaelis_menten_fit(vmax, km, substrate0, samples):
    """Substrate used up by an enzyme, dS/dt = -Vmax S / (Km + S), against samples."""
    times = np.linspace(0.0, 10.0, len(samples))
    sol = scipy.integrate.solve_ivp(lambda t, s: -vmax * s / (km + s), (0.0, 10.0),
                                    [substrate0], t_eval=times, rtol=ODE_RTOL, atol=ODE_ATOL)
    return float(np.mean((sol.y[0] - samples) ** 2))


def reaction_chain_yield(rates, a0):
    """A -> B -> C with first-order rates: the mean amount of B over the sampling times
    (an intermediate's yield)."""
    def chain(t, y, k):
        return np.array([-k[0] * y[0], k[0] * y[0] - k[1] * y[1], k[1] * y[1]])

    times = np.linspace(0.0, 6.0, 13)
    sol = scipy.integrate.solve_ivp(chain, (0.0, 6.0), np.array([a0, 0.0, 0.0]),
                                    method="DOP853", t_eval=times, args=(rates,),
                                    rtol=ODE_RTOL, atol=ODE_ATOL)
    return float(np.mean(sol.y[1]))


# ---------------------------------------------------------------- quad


def log_normalising_constant(a, b):
    """log Z of the double-well density exp(-x^4/4 + a x^2/2 - b x) on the real line."""
    z, _ = scipy.integrate.quad(lambda x: np.exp(-0.25 * x ** 4 + 0.5 * a * x * x - b * x),
                                -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12)
    return math.log(z)


def _lognormal_density(x, mu, sigma):
    return np.exp(-(np.log(x) - mu) ** 2 / (2 * sigma * sigma)) / (x * sigma * math.sqrt(2 * math.pi))


def expected_capped_payoff(mu, sigma, cap):
    """E[min(X, cap)] for a lognormal X: the integral of x f(x) below the cap, and cap
    times the tail above it (the cap is a limit of both)."""
    below, _ = scipy.integrate.quad(lambda x: x * _lognormal_density(x, mu, sigma), 0.0, cap,
                                    epsabs=1e-13, epsrel=1e-12)
    tail, _ = scipy.integrate.quad(_lognormal_density, cap, np.inf, args=(mu, sigma),
                                   epsabs=1e-13, epsrel=1e-12)
    return below + cap * tail


def survival_probability(shape, scale, beta, covariate, horizon):
    """A proportional-hazards Weibull: S(T) = exp(-int_0^T h(t) dt), the horizon T a
    parameter too."""
    def hazard(t):
        return (shape / scale) * (t / scale) ** (shape - 1.0) * math.exp(beta * covariate)

    cumulative, _ = scipy.integrate.quad(hazard, 0.0, horizon, epsabs=1e-13, epsrel=1e-12)
    return math.exp(-cumulative)


# ---------------------------------------------------------------- refused at the line


def damped_wave_energy(freq, decay):
    """A weighted quad (weight='cos'): refused, with the weight to write into the
    integrand instead."""
    value, _ = scipy.integrate.quad(lambda x: math.exp(-decay * x), 0.0, 10.0, weight="cos",
                                    wvar=freq)
    return value * value


def time_to_half(k):
    """solve_ivp with an event (the time the amount halves): refused, the event's time
    moves with the parameters."""
    sol = scipy.integrate.solve_ivp(lambda t, y: -k * y, (0.0, 10.0), [1.0],
                                    events=lambda t, y: y[0] - 0.5)
    return sol.y[0, -1]


CASES = [
    Case("pk_oral_dose_fit", pk_oral_dose_fit,
         lambda rng: (math.log(rng.uniform(0.8, 1.5)), math.log(rng.uniform(0.1, 0.3)),
                      math.log(rng.uniform(8.0, 12.0)),
                      np.array([6.0, 8.0, 7.5, 5.0, 2.5])), wrt=(0, 1, 2),
         note="odeint of a module-level function, args=(ka, ke)"),
    Case("lotka_volterra_loss", lotka_volterra_loss,
         lambda rng: (rng.uniform(0.9, 1.1), rng.uniform(0.4, 0.6), rng.uniform(0.25, 0.35),
                      rng.uniform(0.15, 0.25),
                      np.array([[1.0, 0.5], [1.6, 0.6], [1.9, 1.1], [1.2, 1.6]])),
         wrt=(0, 1, 2, 3), note="odeint of a nested def closing over the rates"),
    Case("damped_oscillator_energy", damped_oscillator_energy,
         lambda rng: (rng.uniform(0.5, 1.5), rng.uniform(-0.5, 0.5), rng.uniform(1.0, 3.0),
                      rng.uniform(0.1, 0.4), rng.uniform(0.5, 2.0)), wrt=(0, 1, 2, 3, 4),
         note="odeint of a lambda returning a list"),
    Case("sir_epidemic_fit", sir_epidemic_fit,
         lambda rng: (rng.uniform(0.25, 0.35), rng.uniform(0.08, 0.12),
                      np.array([0.01, 0.05, 0.15, 0.2, 0.12, 0.05])), wrt=(0, 1),
         note="solve_ivp DOP853 with t_eval, args=(beta, gamma)"),
    Case("projectile_range_with_drag", projectile_range_with_drag,
         lambda rng: (rng.uniform(15.0, 25.0), rng.uniform(0.5, 0.9), rng.uniform(0.01, 0.05)),
         wrt=(0, 1, 2), note="solve_ivp DOP853, the final state (no t_eval)"),
    Case("michaelis_menten_fit", michaelis_menten_fit,
         lambda rng: (rng.uniform(0.8, 1.2), rng.uniform(1.5, 2.5), rng.uniform(4.0, 6.0),
                      np.array([5.0, 3.6, 2.4, 1.4, 0.7, 0.3])), wrt=(0, 1, 2),
         note="solve_ivp of a lambda, a differentiated start [s0]"),
    Case("reaction_chain_yield", reaction_chain_yield,
         lambda rng: (np.array([rng.uniform(0.8, 1.2), rng.uniform(0.3, 0.5)]),
                      rng.uniform(0.8, 1.2)), wrt=(0, 1),
         note="solve_ivp DOP853, an array of rates through args"),
    Case("log_normalising_constant", log_normalising_constant,
         lambda rng: (rng.uniform(0.5, 1.5), rng.uniform(-0.3, 0.3)), wrt=(0, 1),
         note="quad over the whole real line of a lambda"),
    Case("expected_capped_payoff", expected_capped_payoff,
         lambda rng: (rng.uniform(-0.2, 0.2), rng.uniform(0.3, 0.6), rng.uniform(1.2, 2.0)),
         wrt=(0, 1, 2), note="two quads sharing a limit (Leibniz), one to infinity"),
    Case("survival_probability", survival_probability,
         lambda rng: (rng.uniform(1.2, 2.0), rng.uniform(3.0, 5.0), rng.uniform(-0.5, 0.5),
                      rng.uniform(0.0, 1.0), rng.uniform(2.0, 4.0)), wrt=(0, 1, 2, 4),
         note="quad of a nested def up to a differentiated horizon"),
    Case("damped_wave_energy", damped_wave_energy,
         lambda rng: (rng.uniform(1.0, 3.0), rng.uniform(0.2, 0.5)), wrt=(0, 1),
         expect="LOCATED", bad="weight=", msg=("weight",),
         note="quad's weight= is refused, with the weight to write into the integrand"),
    Case("time_to_half", time_to_half, lambda rng: (rng.uniform(0.2, 0.5),), wrt=0,
         expect="LOCATED", bad="solve_ivp", msg=("events",),
         note="solve_ivp's events are refused"),
]
