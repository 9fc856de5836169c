"""Realistic programs through ``scipy.optimize``'s solvers of equations: a gas-phase
chemical equilibrium, a diode circuit's operating point, a Cournot-Nash equilibrium, an
exchange economy's clearing prices, a gene network's steady state, a chain of nonlinear
springs, a pipe network's flows and a fin's temperatures by ``fsolve`` or ``root``; an
implied volatility, a growth model's steady state, a bond's yield and a real gas's
volume by ``root_scalar``; a monopoly's profit, a robust location's profile
likelihood and a newsvendor's profit by ``minimize_scalar``; forms srcad refuses at the
line (``root``'s ``callback``, a root of dependent equations, a minimum on a bound). Tight
tolerances throughout (``xtol=1e-12``), so that central differences are a fair
reference: the derivative is the exact root's."""

import math

import numpy as np
import scipy.optimize
from _spec import Case

XTOL = 1e-12

# ---------------------------------------------------------------- fsolve


def _extents(z, feed):
    """The extents of the two reactions from unbounded unknowns: the first a fraction of
    the A fed, the second a fraction of the C the first made (every amount positive)."""
    e1 = feed[0] / (1.0 + math.exp(-z[0]))
    e2 = (feed[2] + e1) / (1.0 + math.exp(-z[1]))
    return e1, e2


def _extents_residual(z, log_k1, log_k2, feed, pressure):
    """Two gas reactions, A + B = C and C + B = D, at equilibrium: log K = the log of the
    ratio of partial pressures, for the extents (see :func:`_extents`) from the feed."""
    e1, e2 = _extents(z, feed)
    a = feed[0] - e1
    b = feed[1] - e1 - e2
    c = feed[2] + e1 - e2
    d = feed[3] + e2
    total = a + b + c + d
    return [
        math.log(c) - math.log(a) - math.log(b) + math.log(total / pressure) - log_k1,
        math.log(d) - math.log(c) - math.log(b) + math.log(total / pressure) - log_k2,
    ]


def chemical_equilibrium_yield(log_k1, log_k2, pressure, feed):
    """The mole fraction of D at equilibrium, from the equilibrium constants and the
    pressure (feed fixed)."""
    z = scipy.optimize.fsolve(_extents_residual, [0.0, 0.0],
                              args=(log_k1, log_k2, feed, pressure), xtol=XTOL)
    e1, e2 = _extents(z, feed)
    return (feed[3] + e2) / (np.sum(feed) - e1 - e2)


def diode_circuit_power(source, r1, r2, log_saturation):
    """A source through R1 into a node, a diode from it through R2 to ground: Kirchhoff's
    currents at the two nodes (the diode's Shockley law), the power in R2."""
    thermal = 0.02585
    saturation = math.exp(log_saturation)

    def currents(v):
        diode = saturation * (math.exp((v[0] - v[1]) / thermal) - 1.0)
        return np.array([(source - v[0]) / r1 - diode, diode - v[1] / r2])

    v = scipy.optimize.fsolve(currents, np.array([0.7, 0.1]), xtol=XTOL)
    return v[1] ** 2 / r2


def cournot_profit(intercept, slope, cost1, cost2, curvature):
    """Two firms choose quantities; each one's first-order condition (the price falling
    hyperbolically with total output, quadratic costs) at the Nash equilibrium; the
    first firm's profit there."""
    def first_order(q):
        total = q[0] + q[1]
        price = intercept / (1.0 + slope * total)
        price_slope = -intercept * slope / (1.0 + slope * total) ** 2
        return [price + price_slope * q[0] - cost1 - curvature * q[0],
                price + price_slope * q[1] - cost2 - curvature * q[1]]

    q = scipy.optimize.fsolve(first_order, [1.0, 1.0], xtol=XTOL)
    price = intercept / (1.0 + slope * (q[0] + q[1]))
    return price * q[0] - cost1 * q[0] - 0.5 * curvature * q[0] ** 2


def _toggle_rates(log_y, alpha, n, decay):
    """A genetic toggle switch: two repressors, each produced at rate alpha / (1 + other^n)
    and decaying; the rates relative to the amounts, of the amounts' logs (positive
    amounts for any unknowns the solver tries)."""
    u, v = np.exp(log_y)
    return [alpha[0] / (1.0 + v ** n) / u - decay, alpha[1] / (1.0 + u ** n) / v - decay]


def toggle_switch_steady_state(alpha, decay):
    """The ODE y' = f(y) at rest (f(y) = 0 by fsolve from a start in the high-u basin):
    the log ratio of the two repressors there."""
    log_y = scipy.optimize.fsolve(_toggle_rates, [1.0, -1.0], args=(alpha, 2.5, decay),
                                  xtol=XTOL)
    return log_y[0] - log_y[1]


def spring_chain_energy(stiffness, hardening, loads):
    """Four masses in a chain between two walls, springs that harden cubically, loads on
    the masses: the stored energy at equilibrium (the forces balance)."""
    def balance(x):
        stretch = np.diff(np.concatenate([[0.0], x, [0.0]]))
        tension = stiffness * stretch + hardening * stretch ** 3
        return tension[1:] - tension[:-1] + loads

    x = scipy.optimize.fsolve(balance, np.zeros(4), xtol=XTOL)
    stretch = np.diff(np.concatenate([[0.0], x, [0.0]]))
    return np.sum(0.5 * stiffness * stretch ** 2 + 0.25 * hardening * stretch ** 4)


def fin_tip_temperature(conductance, emissivity, base_temperature):
    """A fin in five nodes: conduction between neighbours, convection and radiation to
    the air at 300 K from each node: the tip's temperature."""
    ambient, sigma, n = 300.0, 5.670374419e-8, 5

    def heat_balance(t):
        left = np.concatenate([[base_temperature], t[:-1]])
        right = np.concatenate([t[1:], [t[-1]]])
        conduction = conductance * (left - 2.0 * t + right)
        losses = 0.5 * (t - ambient) + emissivity * sigma * 0.01 * (t ** 4 - ambient ** 4)
        return conduction - losses

    t = scipy.optimize.fsolve(heat_balance, np.full(n, base_temperature), xtol=XTOL)
    return t[-1]


def equilibrium_with_diagnostics(log_k1, log_k2, feed):
    """fsolve with full_output=True, its flag checked and the count of calls logged: the
    total extent."""
    z, info, ier, message = scipy.optimize.fsolve(
        _extents_residual, [0.0, 0.0], args=(log_k1, log_k2, feed, 1.0), full_output=True,
        xtol=XTOL)
    if ier != 1:
        raise RuntimeError(f"no equilibrium after {info['nfev']} calls: {message}")
    return float(np.sum(_extents(z, feed)))


# ---------------------------------------------------------------- root


def clearing_prices_welfare(shares, endowments):
    """An exchange economy of three Cobb-Douglas consumers and three goods (the third the
    numeraire): the prices where the excess demand of the first two goods is zero, by
    root (hybr); the first consumer's utility there."""
    def excess_demand(p12):
        prices = np.array([p12[0], p12[1], 1.0])
        wealth = endowments @ prices
        demand = shares * wealth[:, None] / prices[None, :]
        return (np.sum(demand, axis=0) - np.sum(endowments, axis=0))[:2]

    sol = scipy.optimize.root(excess_demand, [1.0, 1.0], tol=XTOL)
    if not sol.success:
        raise RuntimeError(sol.message)
    prices = np.array([sol.x[0], sol.x[1], 1.0])
    wealth = endowments[0] @ prices
    return np.sum(shares[0] * np.log(shares[0] * wealth / prices))


def pipe_network_loss(resistances, total_flow):
    """Three pipes in parallel sharing a flow (Darcy's head loss k Q |Q|^0.85): the flows
    that give each pipe the same head, by root with the Jacobian given (jac=True), and
    the pumping power (the head times the total flow)."""
    def head_balance(q):
        head = resistances * q * np.abs(q) ** 0.85
        slope = 1.85 * resistances * np.abs(q) ** 0.85
        residual = np.array([head[0] - head[1], head[1] - head[2], np.sum(q) - total_flow])
        jacobian = np.array([[slope[0], -slope[1], 0.0], [0.0, slope[1], -slope[2]],
                             [1.0, 1.0, 1.0]])
        return residual, jacobian

    sol = scipy.optimize.root(head_balance, np.full(3, total_flow / 3.0), jac=True, tol=XTOL)
    q = sol.x
    return resistances[0] * q[0] * abs(q[0]) ** 0.85 * total_flow


def kinetics_steady_state_lm(k_on, k_off, k_cat, enzyme):
    """A substrate fed at a constant rate, bound by an enzyme, turned over: the steady
    state of the three concentrations by root's Levenberg-Marquardt (method='lm'); the
    product's rate of formation."""
    feed = 1.0

    def rates(y):
        s, c, p = y
        free = enzyme - c
        return [feed - k_on * s * free + k_off * c - 0.1 * s,
                k_on * s * free - (k_off + k_cat) * c,
                k_cat * c - 0.5 * p]

    sol = scipy.optimize.root(rates, [1.0, 0.5 * enzyme, 1.0], method="lm",
                              options={"xtol": 1e-14, "ftol": 1e-14})
    return k_cat * sol.x[1]


# ---------------------------------------------------------------- root_scalar


def _norm_cdf(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _black_scholes_call(sigma, spot, strike, expiry, rate):
    root_t = math.sqrt(expiry)
    d1 = (math.log(spot / strike) + (rate + 0.5 * sigma * sigma) * expiry) / (sigma * root_t)
    return spot * _norm_cdf(d1) - strike * math.exp(-rate * expiry) * _norm_cdf(d1 - sigma * root_t)


def implied_volatility_smile(prices, strikes, spot, expiry, rate):
    """The implied volatility of each quoted call (root_scalar, brentq on a bracket), and
    the smile's curvature: the second difference of the volatilities."""
    vols = []
    for price, strike in zip(prices, strikes):
        sol = scipy.optimize.root_scalar(
            lambda s, k=strike, c=price: _black_scholes_call(s, spot, k, expiry, rate) - c,
            bracket=(1e-3, 3.0), method="brentq", xtol=1e-14,
        )
        vols.append(sol.root)
    return vols[0] - 2.0 * vols[1] + vols[2]


def growth_steady_state_consumption(alpha, beta, delta, tfp):
    """A neoclassical growth model's steady state: capital where the return on capital
    equals impatience plus depreciation, alpha A k^(alpha - 1) = 1/beta - 1 + delta (by
    root_scalar on a bracket); consumption there."""
    sol = scipy.optimize.root_scalar(
        lambda k: alpha * tfp * k ** (alpha - 1.0) - (1.0 / beta - 1.0 + delta),
        bracket=(1e-3, 1e3), xtol=1e-14, rtol=1e-14,
    )
    k = sol.root
    return tfp * k ** alpha - delta * k


def bond_yield_duration(price, coupon, years):
    """A bond's yield by Newton's method (root_scalar, fprime given), and its modified
    duration at that yield."""
    def price_gap(y):
        total = 0.0
        for t in range(1, years + 1):
            total += coupon / (1.0 + y) ** t
        return total + 100.0 / (1.0 + y) ** years - price

    def slope(y):
        total = 0.0
        for t in range(1, years + 1):
            total -= t * coupon / (1.0 + y) ** (t + 1)
        return total - years * 100.0 / (1.0 + y) ** (years + 1)

    sol = scipy.optimize.root_scalar(price_gap, x0=0.05, fprime=slope, method="newton",
                                     xtol=1e-15)
    return -slope(sol.root) / price


def van_der_waals_volume(pressure_bar, temperature, a, b_cm3):
    """A real gas's molar volume from van der Waals' equation at a pressure (bar) and
    temperature (K) (the gas branch, by root_scalar's secant method from the ideal gas's
    volume), and its compressibility factor."""
    gas = 8.314
    pressure, b = pressure_bar * 1e5, b_cm3 * 1e-6

    def equation(v):
        return (pressure + a / (v * v)) * (v - b) - gas * temperature

    ideal = gas * temperature / pressure
    sol = scipy.optimize.root_scalar(equation, x0=ideal, x1=1.01 * ideal, method="secant",
                                     xtol=1e-15)
    return pressure * sol.root / (gas * temperature)


# ---------------------------------------------------------------- minimize_scalar


def monopoly_profit(reach, sensitivity, unit_cost):
    """A monopolist sets the price against exponential demand reach e^(-sensitivity p):
    the best profit (minimize_scalar of the loss, bounded), whose slopes are the profit's
    partials at the best price (the envelope theorem)."""
    def loss(price):
        demand = reach * math.exp(-sensitivity * price)
        return -(price - unit_cost) * demand

    sol = scipy.optimize.minimize_scalar(loss, bounds=(0.0, 50.0), method="bounded",
                                         options={"xatol": 1e-12})
    return -sol.fun


def _student_loss(location, data, scale):
    z = (data - location) / scale
    return np.sum(np.log(1.0 + z * z / 3.0)) * 2.0 + len(data) * math.log(scale)


def robust_location_profile(data, scale):
    """A Student-t (3 degrees of freedom) location fitted to data at a given scale: the
    profile negative log-likelihood (minimize_scalar, Brent from a bracket)."""
    sol = scipy.optimize.minimize_scalar(_student_loss, bracket=(np.min(data), np.max(data)),
                                         args=(data, scale), tol=1e-12)
    if not sol.success:
        raise RuntimeError(sol.message)
    return sol.fun


def newsvendor_profit(price, cost, demand_mean, demand_spread):
    """A newsvendor's order against logistic demand (expected profit in closed form): the
    expected profit of the best order and the order's cost. (The order itself, sol.x, is
    found to 1e-8 relative at best, too coarse for central differences to check it.)"""
    def expected_loss(q):
        z = (q - demand_mean) / demand_spread
        sold = q - demand_spread * math.log(1.0 + math.exp(z))
        return -(price * sold - cost * q)

    sol = scipy.optimize.minimize_scalar(expected_loss, bounds=(0.0, 5.0 * demand_mean),
                                         method="bounded", options={"xatol": 1e-12})
    return -sol.fun


# ---------------------------------------------------------------- refused at the line


def prices_with_a_callback(shares, endowments):
    """root with a callback (it sees each iterate): refused."""
    def excess(p):
        prices = np.array([p[0], 1.0])
        wealth = endowments @ prices
        return [np.sum(shares[:, 0] * wealth / prices[0]) - np.sum(endowments[:, 0])]

    sol = scipy.optimize.root(excess, [1.0], method="broyden1", callback=print)
    return sol.x[0]


def dependent_equations(a):
    """Two equations of which one is the other doubled: a line of roots, where the
    Jacobian is singular and the root has no derivative (refused when the gradient
    runs)."""
    x = scipy.optimize.fsolve(lambda x: [x[0] + x[1] - a, 2.0 * x[0] + 2.0 * x[1] - 2.0 * a],
                              [1.0, 1.0])
    return x[0] * x[1]


def cheapest_dose(potency, toxicity):
    """A dose minimizing a loss whose minimum falls on the dose limit: refused when the
    gradient runs (the minimum moves with the bound, not the parameters)."""
    sol = scipy.optimize.minimize_scalar(lambda d: toxicity * d - potency * math.log(1.0 + d),
                                         bounds=(0.0, 1.0), method="bounded")
    return sol.x


CASES = [
    Case("chemical_equilibrium_yield", chemical_equilibrium_yield,
         lambda rng: (rng.uniform(1.0, 2.0), rng.uniform(0.0, 1.0), rng.uniform(0.5, 2.0),
                      np.array([1.0, 2.0, 0.0, 0.0])), wrt=(0, 1, 2),
         note="fsolve of a module-level function returning a list, args with an array"),
    Case("diode_circuit_power", diode_circuit_power,
         lambda rng: (rng.uniform(4.0, 6.0), rng.uniform(900.0, 1100.0),
                      rng.uniform(400.0, 600.0), math.log(rng.uniform(0.8e-12, 1.2e-12))),
         wrt=(0, 1, 2, 3), note="fsolve of a nested def closing over the parameters"),
    Case("cournot_profit", cournot_profit,
         lambda rng: (rng.uniform(9.0, 11.0), rng.uniform(0.2, 0.4), rng.uniform(1.0, 2.0),
                      rng.uniform(1.0, 2.0), rng.uniform(0.2, 0.5)), wrt=(0, 1, 2, 3, 4),
         note="a Nash equilibrium's first-order conditions by fsolve"),
    Case("toggle_switch_steady_state", toggle_switch_steady_state,
         lambda rng: (np.array([rng.uniform(3.5, 4.5), rng.uniform(3.5, 4.5)]),
                      rng.uniform(0.9, 1.1)), wrt=(0, 1),
         note="an ODE's steady state by fsolve of its right-hand side, an array in args"),
    Case("spring_chain_energy", spring_chain_energy,
         lambda rng: (rng.uniform(1.0, 3.0, 5), rng.uniform(0.1, 0.5),
                      rng.uniform(-1.0, 1.0, 4)), wrt=(0, 1, 2),
         note="a nonlinear spring network's equilibrium, arrays read by the nested def"),
    Case("fin_tip_temperature", fin_tip_temperature,
         lambda rng: (rng.uniform(1.5, 2.5), rng.uniform(0.6, 0.9), rng.uniform(380.0, 420.0)),
         wrt=(0, 1, 2), note="five nodes of a fin with radiation (T^4), by fsolve"),
    Case("clearing_prices_welfare", clearing_prices_welfare,
         lambda rng: (rng.dirichlet(np.ones(3), size=3), rng.uniform(0.5, 2.0, (3, 3))),
         wrt=(0, 1), note="market clearing prices by root (hybr), sol.success read"),
    Case("pipe_network_loss", pipe_network_loss,
         lambda rng: (rng.uniform(1.0, 3.0, 3), rng.uniform(1.0, 2.0)), wrt=(0, 1),
         note="root with jac=True: the function returns its Jacobian too"),
    Case("kinetics_steady_state_lm", kinetics_steady_state_lm,
         lambda rng: (rng.uniform(1.0, 2.0), rng.uniform(0.2, 0.5), rng.uniform(0.5, 1.0),
                      rng.uniform(1.0, 2.0)), wrt=(0, 1, 2, 3),
         note="root's Levenberg-Marquardt method with options="),
    Case("implied_volatility_smile", implied_volatility_smile,
         lambda rng: (np.array([rng.uniform(14.0, 15.0), rng.uniform(7.5, 8.5),
                                rng.uniform(3.0, 3.5)]),
                      np.array([90.0, 100.0, 110.0]), 100.0, 1.0, rng.uniform(0.01, 0.03)),
         wrt=(0, 1, 4), note="root_scalar in a loop over quotes, a lambda with defaults"),
    Case("growth_steady_state_consumption", growth_steady_state_consumption,
         lambda rng: (rng.uniform(0.3, 0.4), rng.uniform(0.95, 0.98), rng.uniform(0.05, 0.1),
                      rng.uniform(0.9, 1.1)), wrt=(0, 1, 2, 3),
         note="an economy's steady state by root_scalar (brentq by default) on a bracket"),
    Case("bond_yield_duration", bond_yield_duration,
         lambda rng: (rng.uniform(92.0, 98.0), rng.uniform(3.0, 5.0), 10), wrt=(0, 1),
         note="root_scalar's newton with fprime, nested defs with loops"),
    Case("van_der_waals_volume", van_der_waals_volume,
         lambda rng: (rng.uniform(9.0, 11.0), rng.uniform(290.0, 310.0),
                      rng.uniform(0.3, 0.4), rng.uniform(30.0, 50.0)), wrt=(0, 1, 2, 3),
         note="root_scalar's secant method from a start that moves with the inputs"),
    Case("monopoly_profit", monopoly_profit,
         lambda rng: (rng.uniform(80.0, 120.0), rng.uniform(0.1, 0.3), rng.uniform(1.0, 3.0)),
         wrt=(0, 1, 2), note="minimize_scalar bounded, the least value (envelope theorem)"),
    Case("robust_location_profile", robust_location_profile,
         lambda rng: (rng.standard_t(3, 8), rng.uniform(0.8, 1.5)), wrt=(0, 1),
         note="minimize_scalar Brent, args=(data, scale), the profile likelihood"),
    Case("newsvendor_profit", newsvendor_profit,
         lambda rng: (rng.uniform(8.0, 12.0), rng.uniform(3.0, 6.0), rng.uniform(80.0, 120.0),
                      rng.uniform(8.0, 15.0)), wrt=(0, 1, 2, 3),
         note="minimize_scalar bounded of a nested def, the best expected profit"),
    Case("equilibrium_with_diagnostics", equilibrium_with_diagnostics,
         lambda rng: (rng.uniform(1.0, 2.0), rng.uniform(0.0, 1.0),
                      np.array([1.0, 2.0, 0.0, 0.0])), wrt=(0, 1),
         note="fsolve with full_output=True, ier checked"),
    Case("prices_with_a_callback", prices_with_a_callback,
         lambda rng: (rng.dirichlet(np.ones(2), size=2), rng.uniform(0.5, 2.0, (2, 2))),
         wrt=(0, 1), expect="LOCATED", bad="callback=", msg=("callback",),
         note="root's callback= is refused"),
    Case("cheapest_dose", cheapest_dose,
         lambda rng: (rng.uniform(0.5, 1.0), rng.uniform(0.1, 0.3)), wrt=(0, 1),
         expect="LOCATED", bad="minimize_scalar", msg=("bound",),
         note="a minimum on a bound of minimize_scalar is refused when the gradient runs"),
    Case("dependent_equations", dependent_equations, lambda rng: (rng.uniform(1.0, 2.0),),
         wrt=0, expect="LOCATED", bad="fsolve", msg=("singular",),
         note="a singular Jacobian at the root is refused when the gradient runs"),
]
