"""Calls people write often that srcad used to refuse: ``np.select``, ``np.nanvar`` and
``np.nanstd``, ``np.gradient``, ``np.corrcoef``, ``np.linalg.multi_dot`` (and ``np.cov``'s
options, read from numpy's source).

Each rule is exercised inside a small function of the kind people write and checked
four ways by ``conftest.check_four_ways`` (reverse mode against central differences,
``optimize`` on and off, forward mode against reverse mode, the value of
``value_and_grad``), and the Hessian-vector product against central differences of
the (checked) gradient. Test points stay away from kinks and ties.
"""

from __future__ import annotations

import logging
import os
import sys

import numpy as np
import pytest

import srcad

sys.path.insert(0, os.path.dirname(__file__))
from conftest import check_four_ways  # noqa: E402

RNG = np.random.default_rng(20260530)
STEP = 1e-5


def check_hvp(f, *args, rtol=1e-6):
    """``srcad.hvp(f)`` along a random direction equals the central difference of
    ``srcad.grad(f)`` (checked against central differences of ``f`` itself) along it."""
    x = args[0]
    direction = RNG.standard_normal(np.shape(x)) if np.ndim(x) else 0.7
    gradient = srcad.grad(f)
    plus = gradient(x + STEP * direction, *args[1:])
    minus = gradient(x - STEP * direction, *args[1:])
    expected = (np.asarray(plus) - np.asarray(minus)) / (2 * STEP)
    got = srcad.hvp(f)(*args, direction)
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(got, expected, rtol=0, atol=rtol * scale * 10)


def check_all(f, *args, hvp=True):
    check_four_ways(f, *args)
    if hvp:
        check_hvp(f, *args)


# ====================================================================== np.select


def piecewise_penalty(x, slope):
    """A penalty quadratic below -1, cubic above 1, linear (``slope * x``) between."""
    y = np.select([x < -1.0, x > 1.0], [(x + 1.0) ** 2, (x - 1.0) ** 3], default=slope * x)
    return np.sum(y * y)


def select_numbers(x, d):
    """Choices of several shapes: a number (no gradient) and an array; the default an
    array that broadcasts against them."""
    return np.sum(np.select([x > 0.5, x < -0.5], [x ** 2, 3.0], d) * x)


def test_select():
    x = np.array([-2.3, -1.4, -0.6, 0.2, 0.7, 1.6, 2.4])
    check_all(piecewise_penalty, x, 0.8)
    check_all(select_numbers, x, RNG.standard_normal(7))


def select_first_wins(x):
    return np.sum(np.select([x > 0.0, x > -5.0], [2.0 * x, 3.0 * x]))


def test_select_takes_the_first_condition_that_holds():
    x = np.array([-1.0, 1.0, -7.0])
    np.testing.assert_allclose(srcad.grad(select_first_wins)(x), [3.0, 2.0, 0.0])


# ====================================================================== NaN statistics


MISSING = np.zeros((5, 4), dtype=bool)
MISSING[[0, 2, 3], [1, 3, 1]] = True


def nan_standardized(values):
    """Columns standardized ignoring the missing values (NaN), plus the pooled spread."""
    x = np.where(MISSING, np.nan, values)
    z = (x - np.nanmean(x, axis=0)) / np.nanstd(x, axis=0, ddof=1)
    return np.nansum(z ** 3) + np.nanvar(x) + np.sum(np.nanvar(x, axis=1, keepdims=True) ** 2)


def nan_extremes(values):
    x = np.where(MISSING, np.nan, values)
    return np.nanmax(x) - np.nanmin(x) + np.sum(np.nanmax(x, axis=1) ** 2) + np.sum(np.nanstd(x, 1))


def test_nanvar_nanstd_and_the_other_nan_reductions():
    values = RNG.standard_normal((5, 4))
    check_all(nan_standardized, values)
    check_all(nan_extremes, values)
    assert np.all(srcad.grad(nan_standardized)(values)[MISSING] == 0.0)


# ====================================================================== np.gradient


def smoothness(f):
    """Roughness of a sampled curve: its derivative (spacing 0.1) squared."""
    return np.sum(np.gradient(f, 0.1) ** 2)


def surface_slopes(f):
    """Both slopes of a surface (spacings 0.5 and 0.25), a second-order edge along one
    axis, and an axis of a 3-D stack."""
    gy, gx = np.gradient(f, 0.5, 0.25)
    return (np.sum(gx ** 2 + gy ** 3) + np.sum(np.gradient(f, axis=1, edge_order=2) ** 2)
            + np.sum(np.gradient(np.stack([f, f * f]), 2.0, axis=(0, 2))[1] ** 2))


COORDS = np.array([0.0, 0.1, 0.3, 0.35, 0.6, 1.0])


def uneven_samples(f):
    """Samples at uneven (constant) coordinates, both edge orders."""
    return np.sum(np.gradient(f, COORDS, edge_order=2) ** 2) + np.sum(np.gradient(f, COORDS) * f)


def spaced_by(h, f):
    """The spacing a parameter (a grid's step)."""
    return np.sum(np.gradient(f, h)[0] ** 2) + np.sum(np.gradient(f * h, 2.0 * h, h)[1] ** 3)


def test_gradient():
    check_all(smoothness, RNG.standard_normal(7))
    check_all(surface_slopes, RNG.standard_normal((4, 5)))
    check_all(uneven_samples, RNG.standard_normal(6))
    check_four_ways(spaced_by, 0.3, RNG.standard_normal((4, 5)))


def spaced_by_one(h, f):
    return np.sum(np.gradient(f, h, edge_order=2) ** 3)


def test_gradient_second_order_along_the_spacing():
    check_hvp(spaced_by_one, 0.3, RNG.standard_normal(6))


def at_coordinates(coords, f):
    return np.sum(np.gradient(f, coords) ** 2)


def test_gradient_with_respect_to_coordinates_is_refused():
    with pytest.raises(srcad.UnsupportedSyntaxError, match="coordinates given as an array"):
        srcad.grad(at_coordinates)(COORDS, RNG.standard_normal(6))


# ====================================================================== covariance


def correlation_penalty(x):
    """Decorrelating features: the squared correlations of the rows."""
    return np.sum(np.corrcoef(x) ** 2)


def cross_correlation(x, y):
    """Columns as variables (``rowvar=False``), two operands, and two vectors."""
    return (np.sum(np.corrcoef(x, y, rowvar=False) ** 3)
            + np.corrcoef(x[:, 0], y[:, 1])[0, 1] ** 2)


def one_variable(x):
    return np.corrcoef(x) * 2.0 + np.sum(x)


def covariance_options(x, w):
    """np.cov's options (srcad reads numpy's source): weights, bias, ddof, rowvar."""
    return (np.sum(np.cov(x, aweights=w) ** 2) + np.sum(np.cov(x, bias=True))
            + np.sum(np.cov(x.T, rowvar=False, ddof=2) ** 2)
            + np.sum(np.cov(x, fweights=np.array([1, 2, 1, 3, 1]))))


def test_corrcoef_and_cov():
    check_all(correlation_penalty, RNG.standard_normal((3, 6)))
    check_all(cross_correlation, RNG.standard_normal((6, 2)), RNG.standard_normal((6, 3)))
    check_all(one_variable, RNG.standard_normal(5))
    check_four_ways(covariance_options, RNG.standard_normal((3, 5)), RNG.random(5) + 0.5)
    check_hvp(covariance_options, RNG.standard_normal((3, 5)), RNG.random(5) + 0.5)


def test_corrcoef_of_one_variable_is_constant():
    np.testing.assert_array_equal(srcad.grad(one_variable)(RNG.standard_normal(4)), np.ones(4))


# ====================================================================== multi_dot


def chained(a, b, c):
    return np.sum(np.linalg.multi_dot([a, b, c]) ** 2)


def quadratic_form(v, a, b):
    """A first and last vector (a row and a column), and a chain of two."""
    return np.linalg.multi_dot([v, a, b, v]) + np.sum(np.linalg.multi_dot([a, b]) ** 2)


def test_multi_dot():
    check_all(chained, RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2)),
              RNG.standard_normal((2, 3)))
    check_all(quadratic_form, RNG.standard_normal(3), RNG.standard_normal((3, 4)),
              RNG.standard_normal((4, 3)))


# ====================================================================== list(zip(...))


def spring_chain(xs, ks):
    """Neighbouring positions and stiffnesses paired up front, then read by unpacking,
    by position and by length."""
    pairs = list(zip(xs[:-1], xs[1:], ks))
    energy = 0.0
    for a, b, k in pairs:
        energy = energy + 0.5 * k * (b - a) ** 2
    return energy + len(pairs) * pairs[0][2] * pairs[-1][1]


def paired_lists(xs, ys):
    """Of list parameters, summed by a generator expression."""
    return sum(p * q for p, q in list(zip(xs, ys))) + list(zip(xs, ys))[1][0] ** 2


def test_list_of_zip():
    check_all(spring_chain, np.array([0.0, 1.1, 2.3, 2.9]), np.array([1.0, 2.0, 3.0]))
    check_four_ways(paired_lists, [0.5, -1.2, 2.0], [1.5, 0.3, -0.7])
    assert srcad.grad(spring_chain)(np.array([0.0, 1.0]), np.array([2.0])).tolist() == [
        -2.0, 2.0 * (1.0 - 0.0) + 1 * 2.0
    ]


# ====================================================================== dict.get


def affine_with_defaults(params, x):
    """Parameters held in a dict, some of them optional."""
    w = params.get("w", 1.0)
    b = params.get("b", 0.0)
    return np.sum((w * x + b) ** 2)


def local_settings(a, fallback):
    """A dict the function makes: a key it has, one it lacks (the default is read, and
    differentiated), and no default."""
    d = {"u": a, "v": 2.0 * a}
    return d.get("u", 0.0) * d.get("w", 3.0 * fallback) + d.get("v") ** 2


class Settings:
    """An object with a ``get`` of its own."""

    def __init__(self, scale):
        self.scale = scale

    def get(self, key, default=None):
        return self.scale * 2.0


def settings_unannotated(s, x):
    return s.get("scale", 1.0) * x


def settings_annotated(s: Settings, x):
    return s.get("scale", 1.0) * x


def check_dict_parameter(f, params, *rest):
    """For a dict parameter: ``srcad.check_grad`` (central differences), and ``jvp``
    along a dict of directions against the gradient."""
    srcad.check_grad(f, params, *rest, wrt=0)
    gradient = srcad.grad(f)(params, *rest)
    direction = {key: RNG.standard_normal(np.shape(value)) for key, value in params.items()}
    zeros = tuple(np.zeros(np.shape(r)) if np.ndim(r) else 0.0 for r in rest)
    _, tangent = srcad.jvp(f)((params, *rest), (direction, *zeros))
    expected = sum(float(np.sum(gradient[key] * direction[key])) for key in params)
    assert tangent == pytest.approx(expected, rel=1e-9)


def test_dict_get():
    check_dict_parameter(affine_with_defaults, {"w": np.array([2.0, 0.5])}, np.array([1.0, -2.0]))
    check_dict_parameter(affine_with_defaults, {"w": 2.0, "b": 0.3}, 3.0)
    check_all(local_settings, 2.0, 0.7)
    check_hvp(lambda fallback, a: local_settings(a, fallback), 0.7, 2.0)
    assert srcad.grad(affine_with_defaults)({"w": 2.0}, 3.0) == {"w": 2 * 6.0 * 3.0}
    hessian_product = srcad.hvp(affine_with_defaults)({"w": 2.0, "b": 0.3}, 3.0,
                                                      {"w": 1.0, "b": -1.0})
    # f = (w x + b)^2: H = 2 [[x^2, x], [x, 1]]
    assert hessian_product == pytest.approx({"w": 2 * (9.0 - 3.0), "b": 2 * (3.0 - 1.0)})


def test_get_of_another_object():
    assert srcad.grad(settings_annotated, wrt="s")(Settings(1.5), 3.0).scale == 6.0
    with pytest.raises(srcad.UnsupportedSyntaxError, match="defines them itself"):
        srcad.grad(settings_unannotated, wrt="s")(Settings(1.5), 3.0)


# ====================================================================== list.pop


def stack_machine(x, n):
    """A work stack: pushed in a loop, popped until empty."""
    stack = []
    for k in range(n):
        stack.append(x * (k + 1.0))
    total = 0.0
    while stack:
        top = stack.pop()
        total = total * 0.5 + top ** 2
    return total


def pop_positions(x):
    """From a display (by constant position), from a copy of a parameter's array (by a
    position known when it runs), as a statement, and in branches."""
    stack = [x, x * 2.0, x * 3.0]
    a = stack.pop()
    b = stack.pop(0)
    items = list(np.array([x, x ** 2, x ** 3, 2.0 * x]))
    first = items.pop(int(x > 0))
    items.pop()
    if x > 0:
        items.pop(0)
    return a * b + stack[0] + first * sum(items)


def pop_parameter(xs):
    last = xs.pop()  # <pop-parameter>
    return last * 2.0


def test_list_pop():
    check_all(stack_machine, 1.5, 4)
    check_all(pop_positions, 1.5)
    check_all(pop_positions, -0.7)
    # d/dx of sum((x (k + 1))^2 / 2^(n - 1 - k))
    expected = sum(2.0 * 1.5 * (k + 1.0) ** 2 * 0.5 ** k for k in range(4))
    assert srcad.grad(stack_machine)(1.5, 4) == pytest.approx(expected, rel=1e-14)


def test_pop_of_a_parameter_is_refused_with_what_to_write():
    from conftest import assert_located

    with pytest.raises(srcad.UnsupportedSyntaxError) as caught:
        srcad.grad(pop_parameter)([1.0, 2.0])
    assert_located(caught.value, __file__, "pop-parameter")
    assert "`xs = list(xs)`" in str(caught.value)


# ====================================================================== logging


def logged_step(x):
    """Loggers the function gets itself, by a local name and chained; module-level
    logging too. They observe only: they run in the forward pass."""
    log = logging.getLogger(__name__)
    log.debug("x = %s", x)
    y = x ** 2
    log.info(f"y = {y:.3f}")
    logging.getLogger("srcad.test.solver").warning("step done %s", y)
    logging.debug("module-level %s", y)
    return y * x


def test_logging_calls_are_observed(caplog):
    with caplog.at_level(logging.DEBUG):
        check_all(logged_step, 1.5)
        caplog.clear()
        assert srcad.grad(logged_step)(2.0) == pytest.approx(12.0)
    assert "y = 4.000" in caplog.text and "step done 4.0" in caplog.text
