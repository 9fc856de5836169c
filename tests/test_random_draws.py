"""Pathwise derivatives of draws whose distribution a differentiated value sets
(srcad.rules.random_draws): ``rng.normal(mu, sigma)`` is ``mu + sigma * z`` for the
standard draw ``z`` the generator's state gives, so at a fixed seed the derivative is the
one central differences measure. Each gradient is checked four ways
(conftest.check_four_ways) with a generator seeded inside the function; a generator
passed in or global is checked against the formula at the same draws."""

import random

import numpy as np
import pytest
from conftest import check_four_ways

import srcad


def vae_reparameterized(mu, log_sigma):
    rng = np.random.default_rng(0)
    z = rng.normal(mu, np.exp(log_sigma), size=(4, 2))
    return np.mean(np.sum(z ** 2, axis=1)) - np.sum(log_sigma)


def legacy_normal(mu, sigma):
    np.random.seed(1)
    return np.mean(np.tanh(np.random.normal(mu, sigma, size=6)))


def uniform_interval(low, high):
    rng = np.random.default_rng(2)
    return np.sum(rng.uniform(low, high, size=5) ** 3)


def exponential_waits(scale):
    rng = np.random.default_rng(3)
    return np.mean(np.log1p(rng.exponential(scale, size=7)))


def lognormal_prices(mean, sigma):
    rng = np.random.default_rng(4)
    return np.mean(np.maximum(rng.lognormal(mean, sigma, size=50) - 1.0, 0.0))


def location_scale_families(loc, scale):
    rng = np.random.default_rng(5)
    return (np.mean(rng.gumbel(loc, scale, size=4) ** 2) + np.mean(rng.laplace(loc, scale, 3))
            + np.mean(rng.logistic(loc, scale, 3)))


def gamma_scaled(scale):
    rng = np.random.default_rng(6)
    return np.mean(rng.gamma(2.5, scale, size=6) ** 2)


def python_random(mu, sigma):
    random.seed(7)
    return (random.gauss(mu, sigma) ** 2 + random.normalvariate(mu, sigma)
            + random.uniform(mu, mu + sigma) + random.expovariate(1.0 / sigma))


def python_random_made_here(mu, sigma):
    r = random.Random(11)  # (a library's class: made by its own code, refused before)
    total = 0.0
    for _ in range(20):
        total += r.gauss(mu, sigma) ** 2
    return total / 20


@pytest.mark.parametrize("f, args", [
    (vae_reparameterized, (np.array([0.1, -0.4]), np.array([-0.3, 0.2]))),
    (legacy_normal, (0.3, 0.8)),
    (uniform_interval, (0.2, 1.3)),
    (exponential_waits, (1.3,)),
    (lognormal_prices, (0.1, 0.4)),
    (location_scale_families, (0.1, 0.7)),
    (gamma_scaled, (0.8,)),
    (python_random, (0.3, 1.2)),
    (python_random_made_here, (0.3, 1.2)),
])
def test_a_draw_is_differentiated_along_its_path(f, args):
    check_four_ways(f, *args)


def test_a_generator_passed_in_gets_the_formula_at_the_same_draws():
    def loss(mu, sigma, rng):
        return np.sum(rng.normal(mu, sigma, size=5) ** 2)

    rng = np.random.default_rng(11)
    z = np.random.default_rng(11).standard_normal(5)
    mu, sigma = 0.4, 1.7
    d_mu, d_sigma = srcad.grad(loss, wrt=(0, 1))(mu, sigma, rng)
    draws = mu + sigma * z
    assert d_mu == pytest.approx(np.sum(2 * draws), rel=1e-12)
    assert d_sigma == pytest.approx(np.sum(2 * draws * z), rel=1e-12)


def test_a_shape_that_decides_the_draws_is_refused():
    """A gamma's shape decides how many numbers the rejection sampler draws: no path."""
    def gamma_shape(shape):
        rng = np.random.default_rng(5)
        return np.mean(rng.gamma(shape, 1.0, size=6))

    with pytest.raises(srcad.SrcadError, match="no derivative in `shape`") as caught:
        srcad.grad(gamma_shape)(2.0)
    assert "test_random_draws.py" in str(caught.value)


class Model:
    def normal(self, mu, s):
        return 3.0 * mu * s


def annotated(m: Model, mu):
    return m.normal(mu, 2.0)


def unannotated(m, mu):
    return m.normal(mu, 2.0)


def test_a_class_of_the_users_with_a_method_of_that_name_is_not_read_as_numpys():
    """(Unannotated, its class's method is refused when the gradient runs, as for any
    method numpy's arrays have, with the annotation to add.)"""
    assert srcad.grad(annotated, wrt=1)(Model(), 0.7) == 6.0
    with pytest.raises(srcad.SrcadError, match="annotate the parameter"):
        srcad.grad(unannotated, wrt=1)(Model(), 0.7)


def drawn_in_a_loop(mu, sigma):
    rng = np.random.default_rng(9)
    total = 0.0
    for _ in range(3):
        rng.normal(mu, sigma)  # (drawn, not read: the generator moves on all the same)
        total = total + rng.normal(mu, sigma) ** 2  # (invariant operands: drawn anew)
    return total


def test_a_draw_runs_where_it_is_written_and_once():
    (d_mu, d_sigma) = check_four_ways(drawn_in_a_loop, 0.3, 1.1)
    rng = np.random.default_rng(9)
    z = [rng.standard_normal(2)[1] for _ in range(3)]
    draws = [0.3 + 1.1 * v for v in z]
    assert d_mu == pytest.approx(sum(2 * x for x in draws), rel=1e-12)
    assert d_sigma == pytest.approx(sum(2 * x * v for x, v in zip(draws, z)), rel=1e-12)


def test_second_derivatives_through_a_draw():
    mu, log_sigma = np.array([0.1, -0.4]), np.array([-0.3, 0.2])

    def by_sigma(log_sigma):
        return vae_reparameterized(mu, log_sigma)

    hessian = srcad.hessian(by_sigma)(log_sigma)
    grad = srcad.grad(by_sigma)
    h = 1e-6
    columns = [(grad(log_sigma + h * e) - grad(log_sigma - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(hessian, np.array(columns).T, rtol=1e-6, atol=1e-8)


def annealed_noise(mu, sigma):
    rng = np.random.default_rng(2)
    return np.sum(rng.normal(mu, sigma * np.array([1.0, 0.0, 2.0])) ** 2)


def test_a_draw_at_scale_zero_is_refused_at_its_line():
    """(Round 84: nan for arrays, ZeroDivisionError for floats.) At scale 0 a draw is its
    location: the standard draw its derivative in the scale is cannot be read back."""
    with pytest.raises(srcad.SrcadError, match="scale is 0") as caught:
        srcad.grad(annealed_noise, wrt=1)(0.3, 0.7)
    assert caught.value.lineno == annealed_noise.__code__.co_firstlineno + 2

    def gauss_at_zero(mu, sigma):
        random.seed(1)
        return random.gauss(mu, sigma) ** 2

    with pytest.raises(srcad.SrcadError, match="scale is 0"):
        srcad.grad(gauss_at_zero, wrt=1)(0.3, 0.0)
    assert srcad.grad(gauss_at_zero, wrt=0)(0.3, 0.0) == pytest.approx(0.6)  # (its location)


def test_hessian_of_a_partial_fixing_a_generator_draws_once_per_column():
    """(Round 84: each column of hessian/jacobian of functools.partial(f, gen=rng) drew
    again.) Each column runs f at the draws of one run."""
    import functools

    def f(x, gen):
        z = gen.normal(x, 0.5 + x ** 2)
        return np.sum(np.sin(z) * z)

    x = np.array([0.3, -0.6, 0.2])
    by_argument = srcad.hessian(f)(x, np.random.default_rng(4))
    rng = np.random.default_rng(4)
    fixed = srcad.hessian(functools.partial(f, gen=rng))(x)
    np.testing.assert_allclose(fixed, by_argument, rtol=1e-12)
    after = np.random.default_rng(4)
    after.normal(size=3)  # (one run's draws)
    assert rng.bit_generator.state == after.bit_generator.state


def python_generator_passed_in(mu, sigma, r):
    return (r.gauss(mu, sigma) ** 2 + r.normalvariate(mu, sigma)
            + r.expovariate(1.0 / sigma) + r.uniform(mu, mu + sigma))


def test_a_python_random_generator_passed_in():
    """(Round 85: a random.Random's gauss was refused: "no rule", then its methods as
    an object's own.) Each call gets its own copy of the generator: the same draws."""
    check_four_ways(python_generator_passed_in, 0.3, 1.2, random.Random(5), wrt=(0, 1))


def chosen_items(x):
    rng = np.random.default_rng(0)
    return np.sum(rng.choice(x, 3))


def test_a_draw_without_a_path_from_a_generator_made_here_says_what_to_write():
    """(Round 84: refused with advice to annotate a parameter, which `rng` is not.)"""
    with pytest.raises(srcad.SrcadError, match="draws from a distribution") as caught:
        srcad.grad(chosen_items)(np.arange(5.0))
    assert "rng.permutation" in caught.value.hint
    assert caught.value.lineno == chosen_items.__code__.co_firstlineno + 2


def noise_of_the_shape(x, scale):
    np.random.seed(0)
    unused = np.random.randn(*x.shape)  # noqa: F841 -- drawn, not read: the stream moves
    noise = np.random.randn(*x.shape) * scale
    return np.sum((x + noise) ** 2)


def test_a_call_with_an_arrays_shape_spread():
    """(Round 83: `np.random.randn(*x.shape)` refused, "`*` unpacks a value whose length
    srcad does not know".) The shape's items carry no gradient: the call is made as the
    program runs, and a draw runs where it stands."""
    x = np.array([[0.3, -0.2, 0.5], [1.0, 0.1, -0.7]])
    (dx, dscale) = check_four_ways(noise_of_the_shape, x, 0.1)
    np.random.seed(0)
    np.random.randn(*x.shape)
    noise = np.random.randn(*x.shape)
    np.testing.assert_allclose(dx, 2 * (x + 0.1 * noise), rtol=1e-12)


def loss_of_a_seed(a, seed=3):
    rng = np.random.default_rng(seed)
    return a * np.sum(rng.standard_normal(4))


def test_jvp_of_a_function_whose_seed_is_a_parameter():
    """(Round 88: `jvp(f)` refused `default_rng(seed)` of a parameter, as a draw whose
    distribution is differentiated; grad and hessian took it.) A seed left out, given
    None or an int's zero tangent does not move: jvp differentiates the rest."""
    slope = srcad.grad(loss_of_a_seed)(0.8)
    for primals, tangents in (((0.8,), (1.0,)), ((0.8, 3), (1.0, None)), ((0.8, 3), (1.0, 0))):
        value, got = srcad.jvp(loss_of_a_seed)(primals, tangents)
        assert value == loss_of_a_seed(0.8) and got == pytest.approx(slope, rel=1e-14)


def loss_of_a_required_seed(a, seed):
    rng = random.Random(seed)
    return a * rng.gauss(0.0, 1.0) + a * a


def test_jvp_of_a_required_seed_given_no_tangent():
    """(Round 89: the same seed without a default, given the tangent None, refused.)"""
    value, got = srcad.jvp(loss_of_a_required_seed)((0.8, 5), (1.0, None))
    assert value == loss_of_a_required_seed(0.8, 5)
    assert got == pytest.approx(srcad.grad(loss_of_a_required_seed)(0.8, 5), rel=1e-14)


def monte_carlo_scaled_in_place(a):
    rng = np.random.default_rng(16)
    u = rng.random(50)
    u *= a
    noise = rng.standard_normal(50)
    noise[0] = a
    return a * np.mean(np.sin(u)) + np.sum(noise ** 2)


def test_draws_of_a_fixed_distribution_written_in_place():
    """A draw is an array of its own: written in place with a differentiated value it
    is not the generator's memory (round 92: refused at the draw, as if a differentiated
    value set its distribution; `u = u * a` worked)."""
    (d,) = check_four_ways(monte_carlo_scaled_in_place, 1.3)
    u = np.random.default_rng(16).random(50)
    assert d == pytest.approx(np.mean(np.sin(1.3 * u) + 1.3 * u * np.cos(1.3 * u)) + 2.6)
