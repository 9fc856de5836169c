"""Physics written with the breadth rules: normal modes of a spring chain, an implicit
heat-equation solver, a bead-spring polymer, a projectile's range with erf drag noise.

Run with ``python ../shared/realistic/run.py --cases tests/realistic``."""

import math

import numpy as np
from _spec import Case


def gauss(rng, *shape, scale=1.0):
    return scale * rng.standard_normal(shape)


# --- normal modes of a fixed-fixed spring-mass chain: match measured frequencies --------
def mode_mismatch(log_k, masses, measured):
    k = np.exp(log_k)                                # n + 1 springs for n masses
    main = k[:-1] + k[1:]
    K = np.diag(main) - np.diag(k[1:-1], 1) - np.diag(k[1:-1], -1)
    scale = 1.0 / np.sqrt(masses)
    A = K * np.outer(scale, scale)                   # M^-1/2 K M^-1/2
    omega2 = np.linalg.eigvalsh(A)
    w, modes = np.linalg.eigh(A)
    participation = np.sum(modes ** 4, axis=0)       # sign-invariant
    misfit = np.sum((np.sqrt(omega2) - measured) ** 2)
    return misfit + 0.01 * np.sum(participation * w) / np.trace(A)


def modes_args(rng):
    masses = rng.uniform(0.8, 1.2, 4)
    return (rng.uniform(-0.3, 0.3, 5), masses, np.sort(rng.uniform(0.5, 2.0, 4)))


# --- heat equation, backward Euler with a tridiagonal system, fitted to a final profile ---
def heat_inverse_problem(log_kappa, u0, target, steps=4, dt=0.1):
    n = u0.shape[0]
    dx = 1.0 / (n + 1)
    r = math.exp(log_kappa) * dt / dx**2
    A = (1 + 2 * r) * np.eye(n) - r * np.eye(n, k=1) - r * np.eye(n, k=-1)
    u = u0
    for _ in range(steps):
        u = np.linalg.solve(A, u)
    grad_u = np.diff(u, prepend=0.0, append=0.0) / dx   # fixed zero boundaries
    return np.sum((u - target) ** 2) + 1e-4 * np.linalg.norm(grad_u) ** 2


def heat_args(rng):
    x = np.linspace(0.1, 0.9, 6)
    return (rng.uniform(-5.0, -4.0), np.sin(np.pi * x) + gauss(rng, 6, scale=0.05),
            0.5 * np.sin(np.pi * x))


# --- bead-spring polymer: bonds, bending angles and an end-to-end restraint --------------
def polymer_energy(positions, k_bond=50.0, k_bend=2.0, rest=1.0):
    bonds = np.diff(positions, axis=0)
    lengths = np.linalg.norm(bonds, axis=1, keepdims=True)
    stretch = 0.5 * k_bond * np.sum((lengths - rest) ** 2)
    unit = bonds / lengths
    cosines = np.einsum("ij,ij->i", unit[:-1], unit[1:])
    bend = k_bend * np.sum(1.0 - cosines)
    end_to_end = np.linalg.norm(positions[-1] - positions[0], ord=2)
    path = np.cumsum(lengths[:, 0])
    return stretch + bend + 0.1 * (end_to_end - 0.8 * path[-1]) ** 2


def polymer_args(rng):
    steps = np.column_stack([np.ones(5), gauss(rng, 5, scale=0.3), gauss(rng, 5, scale=0.3)])
    return (np.vstack([np.zeros(3), np.cumsum(steps, axis=0)]),)


# --- projectile range with a Gaussian launch-angle error: expected hit probability -------
def hit_probability(v0, angle, sigma, targets):
    g = 9.81
    total = 0.0
    for x_t, half_width in targets:
        reach = v0 * v0 * math.sin(2.0 * angle) / g
        spread = math.hypot(sigma * 2.0 * v0 * v0 * math.cos(2.0 * angle) / g, 0.5)
        z_hi = (x_t + half_width - reach) / (spread * math.sqrt(2.0))
        z_lo = (x_t - half_width - reach) / (spread * math.sqrt(2.0))
        total += 0.5 * (math.erf(z_hi) - math.erf(z_lo))
    heading = math.atan2(math.sin(angle), math.cos(angle))
    return total - 0.01 * (heading - 0.6) ** 2


def hit_args(rng):
    return (rng.uniform(18.0, 22.0), rng.uniform(0.5, 0.7), rng.uniform(0.02, 0.05),
            [(rng.uniform(30.0, 45.0), rng.uniform(1.0, 3.0)) for _ in range(3)])


CASES = [
    Case("spring_chain_normal_modes", mode_mismatch, modes_args, wrt="log_k",
         note="np.diag with offsets, eigvalsh, eigh (sign-invariant use), trace"),
    Case("heat_equation_implicit_solve", heat_inverse_problem, heat_args,
         wrt=("log_kappa", "u0"), note="np.eye(k=), solve in a loop, np.diff prepend/append, norm"),
    Case("bead_spring_polymer", polymer_energy, polymer_args, wrt="positions",
         note="np.diff axis, norm axis/keepdims and ord, einsum row dots, cumsum"),
    Case("projectile_hit_probability_erf", hit_probability, hit_args,
         wrt=("v0", "angle", "sigma"), note="math.erf, math.hypot, math.atan2 on floats"),
]
