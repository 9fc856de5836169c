"""Derivatives through scipy.integrate's integrators of a function: quad, odeint, solve_ivp.

srcad's rules (srcad/rules/scipy_integrate.py) keep SciPy's value and differentiate the
exact integral (Leibniz's rule for quad) or the exact solution (forward sensitivities
for the ODE solvers, integrated with tighter tolerances than the call's).

Tolerances: every call here asks for tight tolerances (quad: epsabs=epsrel=1e-13; the
ODE solvers: rtol=1e-11, atol=1e-13 or so), so that the central differences of
``check_four_ways`` (a step of 1e-6 relative) see the integrator's error over the step:
about 1e-11 / 1e-6 = 1e-5 at the very worst, far less in practice, as the error moves
smoothly with the parameters. The checks against central differences are to 1e-6
relative (1e-8 absolute); those against closed forms to 1e-7 relative (the sensitivity
solve's own tolerances are 1e-8 at the loosest).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pytest

scipy_integrate = pytest.importorskip("scipy.integrate")

from conftest import check_four_ways  # noqa: E402

import srcad  # noqa: E402

CLOSED_FORM = 1e-7


# ================================================================ quad


def _exp_px(x, p):
    return math.exp(p * x)


def integral_of_exp(p):
    return scipy_integrate.quad(_exp_px, 0.0, 1.0, args=(p,), epsabs=1e-13, epsrel=1e-13)[0]


def test_quad_of_a_module_function_in_its_args():
    """d/dp int_0^1 e^{px} dx = (e^p (p - 1) + 1) / p^2."""
    p = 0.7
    (d_p,) = check_four_ways(integral_of_exp, p)
    assert d_p == pytest.approx((math.exp(p) * (p - 1) + 1) / p**2, rel=CLOSED_FORM)


def gaussian_mass_squared(s, b):
    value, _error = scipy_integrate.quad(lambda x: np.exp(-x * x / (2 * s * s)), -1.0, b,
                                         epsabs=1e-13, epsrel=1e-13)
    return value * value


def test_quad_of_a_lambda_in_its_closure_and_its_upper_limit():
    """Leibniz: the upper limit's derivative is the integrand there, times 2 I here."""
    s, b = 0.8, 1.5
    d_s, d_b = check_four_ways(gaussian_mass_squared, s, b)
    mass = math.sqrt(gaussian_mass_squared(s, b))
    assert d_b == pytest.approx(2 * mass * math.exp(-b * b / (2 * s * s)), rel=CLOSED_FORM)


def tail_mass(a, rate):
    return scipy_integrate.quad(lambda x: rate * np.exp(-rate * x), a, np.inf, epsabs=1e-13,
                                epsrel=1e-13)[0]


def test_quad_to_infinity_in_the_lower_limit_and_a_rate():
    """int_a^inf r e^{-r x} dx = e^{-r a}: d/da = -r e^{-ra}, d/dr = -a e^{-ra}; the
    infinite limit has none."""
    a, rate = 0.4, 1.7
    d_a, d_rate = check_four_ways(tail_mass, a, rate)
    assert d_a == pytest.approx(-rate * math.exp(-rate * a), rel=CLOSED_FORM)
    assert d_rate == pytest.approx(-a * math.exp(-rate * a), rel=CLOSED_FORM)


def mean_of_a_mixture(weights):
    def density(x):
        w = weights / np.sum(weights)
        return x * (w[0] * np.exp(-x) + w[1] * 2.0 * np.exp(-2.0 * x)
                    + w[2] * 3.0 * np.exp(-3.0 * x))

    return scipy_integrate.quad(density, 0.0, np.inf, epsabs=1e-13, epsrel=1e-13)[0]


def test_quad_of_a_nested_def_reading_an_array():
    """Several numbers (an array): their integrals at once (quad_vec). The mean of the
    exponential mixture is sum_k w_k / k with w normalised."""
    weights = np.array([1.0, 2.0, 3.0])
    (d_w,) = check_four_ways(mean_of_a_mixture, weights)
    total = weights.sum()
    means = np.array([1.0, 0.5, 1.0 / 3.0])
    np.testing.assert_allclose(d_w, means / total - (weights @ means) / total**2,
                               rtol=CLOSED_FORM, atol=1e-12)


@dataclasses.dataclass
class _Gamma:
    shape: float
    scale: float


def _unnormalised_gamma(x, g):
    return x ** (g.shape - 1.0) * np.exp(-x / g.scale)


def log_normaliser(g: _Gamma):
    return math.log(scipy_integrate.quad(_unnormalised_gamma, 0.0, np.inf, args=(g,),
                                         epsabs=1e-13, epsrel=1e-13)[0])


def test_quad_of_an_object_in_args():
    """log of int x^{k-1} e^{-x/theta} = log Gamma(k) + k log theta: d/dk = digamma(k) +
    log theta, d/dtheta = k / theta; the gradient is a _Gamma."""
    from scipy.special import digamma

    g = _Gamma(2.5, 1.5)
    (d_g,) = check_four_ways(log_normaliser, g)
    assert d_g.shape == pytest.approx(digamma(2.5) + math.log(1.5), rel=1e-6)
    assert d_g.scale == pytest.approx(2.5 / 1.5, rel=1e-6)


def hinge_area(c):
    return scipy_integrate.quad(lambda x: c * abs(x - 0.3), 0.0, 1.0, points=[0.3],
                                epsabs=1e-13, epsrel=1e-13)[0]


def test_quad_with_points_and_a_keyword_function():
    (d_c,) = check_four_ways(hinge_area, 2.0)
    assert d_c == pytest.approx(0.5 * (0.3**2 + 0.7**2), rel=CLOSED_FORM)


# ================================================================ odeint


def _decay(y, t, k):
    return -k * y


def decayed(y0, k):
    ys = scipy_integrate.odeint(_decay, y0, np.linspace(0.0, 2.0, 5), args=(k,), rtol=1e-11,
                                atol=1e-13)
    return ys[-1, 0]


def test_odeint_exponential_decay():
    """y0 e^{-kT}: d/dy0 = e^{-kT}, d/dk = -T y0 e^{-kT} (a scalar y0: one state)."""
    y0, k = 1.5, 0.3
    d_y0, d_k = check_four_ways(decayed, y0, k)
    assert d_y0 == pytest.approx(math.exp(-2 * k), rel=CLOSED_FORM)
    assert d_k == pytest.approx(-2 * y0 * math.exp(-2 * k), rel=CLOSED_FORM)


def oscillator_positions(x0, v0, w):
    times = np.linspace(0.0, 3.0, 4)
    states = scipy_integrate.odeint(lambda s, t: [s[1], -w * w * s[0]], [x0, v0], times,
                                    rtol=1e-11, atol=1e-13)
    return np.sum(states[:, 0] ** 2)


def test_odeint_harmonic_oscillator_closed_form():
    """x(t) = x0 cos wt + v0/w sin wt, summed squared at four times; a lambda returning
    a list, reading w."""
    x0, v0, w = 1.0, 0.5, 1.3
    grads = check_four_ways(oscillator_positions, x0, v0, w, eps=1e-4)  # (LSODA's error
    # jumps where a step changes: 1e-6 relative over a step of 1e-6; truncation: 1e-8)
    t = np.linspace(0.0, 3.0, 4)
    x = x0 * np.cos(w * t) + v0 / w * np.sin(w * t)
    dx_dw = -x0 * t * np.sin(w * t) - v0 / w**2 * np.sin(w * t) + v0 / w * t * np.cos(w * t)
    want = (np.sum(2 * x * np.cos(w * t)), np.sum(2 * x * np.sin(w * t) / w),
            np.sum(2 * x * dx_dw))
    np.testing.assert_allclose(grads, want, rtol=CLOSED_FORM)


def _lotka_volterra(y, t, p):
    prey, predators = y
    return np.array([p[0] * prey - p[1] * prey * predators,
                     p[2] * prey * predators - p[3] * predators])


def lotka_volterra_misfit(y0, p):
    observed = np.array([[1.0, 0.5], [1.6, 0.6], [1.9, 1.1], [1.2, 1.6]])
    ys = scipy_integrate.odeint(_lotka_volterra, y0, np.array([0.0, 1.0, 2.0, 3.0]),
                                args=(p,), rtol=1e-11, atol=1e-13)
    return np.sum((ys - observed) ** 2)


def test_odeint_lotka_volterra_in_the_start_and_an_array_of_rates():
    check_four_ways(lotka_volterra_misfit, np.array([1.0, 0.5]),
                    np.array([1.0, 0.5, 0.3, 0.2]))


def logistic_tfirst(r, capacity):
    ys = scipy_integrate.odeint(lambda t, y: r * y * (1.0 - y / capacity), 0.1,
                                [0.0, 1.0, 4.0], tfirst=True, rtol=1e-11, atol=1e-13)
    return ys[1, 0] + ys[2, 0]


def test_odeint_with_tfirst_against_the_logistic_curve():
    r, capacity = 0.9, 2.0
    d_r, d_c = check_four_ways(logistic_tfirst, r, capacity)

    def curve(t, r, c):
        return c / (1.0 + (c / 0.1 - 1.0) * math.exp(-r * t))

    h = 1e-6
    want = sum((curve(t, r + h, capacity) - curve(t, r - h, capacity)) / (2 * h) for t in (1, 4))
    assert d_r == pytest.approx(want, rel=1e-6)


# ================================================================ solve_ivp


def decayed_ivp(y0, k):
    times = np.linspace(0.0, 2.0, 5)
    sol = scipy_integrate.solve_ivp(lambda t, y: -k * y, (0.0, 2.0), [y0], t_eval=times,
                                    rtol=1e-11, atol=1e-13)
    return np.sum(sol.y[0] * np.exp(-sol.t))


def test_solve_ivp_decay_with_t_eval():
    """sum_j y0 e^{-k t_j} e^{-t_j}: sol.t is t_eval, constant."""
    y0, k = 1.5, 0.3
    d_y0, d_k = check_four_ways(decayed_ivp, y0, k)
    t = np.linspace(0.0, 2.0, 5)
    assert d_y0 == pytest.approx(np.sum(np.exp(-(k + 1) * t)), rel=CLOSED_FORM)
    assert d_k == pytest.approx(np.sum(-t * y0 * np.exp(-(k + 1) * t)), rel=CLOSED_FORM)


def _oscillator(t, s, w, damping):
    return np.array([s[1], -w * w * s[0] - damping * s[1]])


def final_energy(state0, w, damping):
    sol = scipy_integrate.solve_ivp(_oscillator, (0.0, 2.0), state0, method="DOP853",
                                    args=(w, damping), rtol=1e-11, atol=1e-13)
    x, v = sol.y[:, -1]
    return 0.5 * v * v + 0.5 * w * w * x * x


def test_solve_ivp_final_state_without_t_eval():
    """The last column is the end of t_span, a fixed time: differentiated."""
    check_four_ways(final_energy, np.array([1.0, 0.0]), 1.3, 0.2)


def undamped_position(x0, w):
    sol = scipy_integrate.solve_ivp(_oscillator, [0.0, 1.5], [x0, 0.0], args=(w, 0.0),
                                    method="LSODA", t_eval=[1.5], rtol=1e-11, atol=1e-13)
    return sol.y[0, 0]


def test_solve_ivp_lsoda_closed_form():
    x0, w = 0.8, 1.3
    d_x0, d_w = check_four_ways(undamped_position, x0, w)
    assert d_x0 == pytest.approx(math.cos(1.5 * w), rel=CLOSED_FORM)
    assert d_w == pytest.approx(-x0 * 1.5 * math.sin(1.5 * w), rel=CLOSED_FORM)


# ================================================================ refusals


def _refused(f, args, match, line):
    with pytest.raises(srcad.SrcadError, match=match) as info:
        srcad.grad(f, wrt=tuple(range(len(args))))(*args)
    assert info.value.filename == __file__
    assert info.value.lineno == f.__code__.co_firstlineno + line
    return info.value


def _full_output(p):
    return scipy_integrate.quad(_exp_px, 0.0, 1.0, args=(p,), full_output=1)[0]


def _weighted(p):
    return scipy_integrate.quad(_exp_px, 0.0, 1.0, args=(p,), weight="cos", wvar=2.0)[0]


def _moving_times(end, k):
    return scipy_integrate.odeint(_decay, 1.0, np.linspace(0.0, end, 3), args=(k,))[-1, 0]


def _moving_span(end, k):
    return scipy_integrate.solve_ivp(lambda t, y: -k * y, (0.0, end), [1.0]).y[0, -1]


def _dense(k):
    return scipy_integrate.solve_ivp(lambda t, y: -k * y, (0.0, 2.0), [1.0],
                                     dense_output=True).y[0, -1]


def _events(k):
    return scipy_integrate.solve_ivp(lambda t, y: -k * y, (0.0, 2.0), [1.0],
                                     events=lambda t, y: y[0] - 0.5).y[0, -1]


def _jac(k):
    return scipy_integrate.solve_ivp(lambda t, y: -k * y, (0.0, 2.0), [1.0], method="BDF",
                                     jac=lambda t, y: -k * np.eye(1)).y[0, -1]


def _partial(k):
    return scipy_integrate.quad(functools.partial(_exp_px, p=k), 0.0, 1.0)[0]


@pytest.mark.parametrize("f, args, match, line", [
    (_full_output, (0.5,), "keyword `full_output`.*leave full_output out", 1),
    (_weighted, (0.5,), "keyword `weight`.*write the weight into the integrand", 1),
    (_moving_times, (2.0, 0.3), "no derivative in `times`.*integrate over s in", 1),
    (_moving_span, (2.0, 0.3), "no derivative in `t_span`", 1),
    # (the call quoted as the user wrote it, not as the name srcad calls instead)
    (_dense, (0.3,), r"`scipy_integrate\.solve_ivp\(\.\.\.\)` has no derivative with the "
     "keyword `dense_output`.*t_eval=", 1),
    (_events, (0.3,), r"`scipy_integrate\.solve_ivp\(\.\.\.\)` has no derivative with the "
     "keyword `events`", 1),
    (_jac, (0.3,), "keyword `jac`.*leave jac= out", 1),
    (_partial, (0.3,), "no derivative in `func`.*args=", 1),
])
def test_unsupported_forms_are_refused_at_the_line(f, args, match, line):
    _refused(f, args, match, line)


def _interior_times(k):
    sol = scipy_integrate.solve_ivp(lambda t, y: -k * y, (0.0, 2.0), [1.0])
    return np.sum(sol.y)


def test_reading_the_solvers_own_times_is_refused():
    """Without t_eval, the solver's times move with the parameters: only the first and
    last columns are differentiated (the sum reads them all)."""
    error = _refused(_interior_times, (0.3,), "times its solver chose", 1)
    assert "t_eval=" in error.hint


def _not_differentiable_inside(k):
    return scipy_integrate.quad(
        lambda x: np.partition(np.array([x - k, 2.0, 3.0]), 0)[0], 0.0, 1.0)[0]


def test_an_error_inside_the_integrand_points_at_the_users_line():
    _refused(_not_differentiable_inside, (0.3,), "numpy.partition", 2)


@pytest.mark.parametrize("f, args, name", [
    (integral_of_exp, (0.7,), "quad"),
    (decayed, (1.5, 0.3), "odeint"),
    (decayed_ivp, (1.5, 0.3), "solve_ivp"),
])
def test_second_derivative_is_refused_at_the_line(f, args, name):
    with pytest.raises(srcad.SrcadError, match=f"second derivative.*{name}") as info:
        srcad.hessian(f)(*args)
    assert info.value.lineno > f.__code__.co_firstlineno


def constant_integral(p):
    value, _info = scipy_integrate.quad(_exp_px, 0.0, 1.0, args=(2.0,), full_output=1)[:2]
    return p * value


def test_a_form_without_a_rule_is_fine_where_nothing_is_differentiated():
    """full_output=1 of an integral that does not depend on the inputs: SciPy's value."""
    assert srcad.grad(constant_integral)(0.5) == pytest.approx((math.exp(2.0) - 1) / 2)


def _mass_below(p):
    return scipy_integrate.quad(lambda x: 1.0 if x < p else 0.0, 0.0, 1.0)[0]  # (= p)


def _clipped_excess(p):
    def excess(x):
        z = x - p
        return np.where(z > 0.0, z * z, 0.0)  # (continuous, but a comparison that moves)

    return scipy_integrate.quad(excess, 0.0, 2.0)[0]


def _thermostat(y, t, k, setpoint):
    heating = 1.0 if y[0] < setpoint else 0.0
    return [heating - k * y[0]]


def _switched_cooling(k, setpoint):
    ys = scipy_integrate.odeint(_thermostat, [0.5], [0.0, 1.0, 2.0], args=(k, setpoint))
    return float(ys[-1, 0])


def _fixed_step_and_a_ramp(p):
    return scipy_integrate.quad(
        lambda x: (2.0 if x < 0.5 else 1.0) * p * x + np.maximum(np.sin(p * x), 0.0), 0.0, 1.0,
        points=(0.5,),
    )[0]


def test_a_jump_that_moves_with_a_differentiated_value_is_refused():
    """(Found by the integrators' own realistic programs: `quad(lambda x: 1.0 if x < p
    else 0.0, 0, 1)` is p, but Leibniz's rule over df/dp gave 0, silently.) A comparison
    of the integrand's (a right-hand side's) variable with a value that may be
    differentiated is refused at the call; a jump at a fixed place and np.maximum are
    fine."""
    for f, args in ((_mass_below, (0.3,)), (_clipped_excess, (0.7,)),
                    (_switched_cooling, (0.8, 1.2))):
        with pytest.raises(srcad.SrcadError, match="moves with a value") as info:
            srcad.grad(f)(*args)
        assert info.value.filename == __file__
    (d,) = check_four_ways(_fixed_step_and_a_ramp, 0.3)
    # d/dp [int 2 p x on (0, .5) + int p x on (.5, 1) + int sin(p x)] (sin(p x) > 0 there)
    want = 0.25 + 0.375 + (math.cos(0.3) - 1.0) / 0.3 ** 2 + math.sin(0.3) / 0.3
    assert d == pytest.approx(want, rel=1e-8)


def _second_moment(mu, s):
    def density(x):
        return math.exp(-0.5 * ((x - mu) / s) ** 2) / (s * math.sqrt(2.0 * math.pi))

    return scipy_integrate.quad(lambda x: x * x * density(x), -20.0, 20.0,
                                epsabs=1e-13, epsrel=1e-13)[0]


def _under_a_moving_step(mu, c):
    step = lambda x: 1.0 if x < c else 0.0  # noqa: E731
    return scipy_integrate.quad(lambda x: step(x) * mu, 0.0, 1.0)[0]


def test_an_integrand_calling_functions_of_the_code():
    """(Round 89's most common refusal: `quad(lambda x: x * dens(x), ...)` with `dens` a
    nested def.) The made function carries the functions it calls as nested defs, and
    the variables they read through args=; a moving jump in one is refused as in the
    integrand. E[x^2] under N(mu, s) is mu^2 + s^2."""
    (dmu, ds) = check_four_ways(_second_moment, 0.3, 1.2)
    assert (dmu, ds) == (pytest.approx(0.6, rel=1e-8), pytest.approx(2.4, rel=1e-8))
    with pytest.raises(srcad.SrcadError, match="called by the function.*moves") as info:
        srcad.grad(_under_a_moving_step, wrt=(0, 1))(1.0, 0.4)
    assert info.value.filename == __file__
