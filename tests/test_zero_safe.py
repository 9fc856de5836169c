"""A gradient for arrays whose result holds nan runs again with zero-safe adjoint
arithmetic (``0 * inf = 0``, ``0 * nan = 0``, ``0 / 0 = 0``: srcad.zero_safe).

Each case here gave a nan gradient before (rounds 62a and 63a, and stop 42's NaN gaps),
where the function does not depend on the entry that made it: the self-distances of a
pairwise distance matrix (sqrt's infinite slope at 0 times the slope 2 (x_i - x_i) = 0),
data with NaN gaps read by NaN-ignoring reductions (a gap's adjoint 0 times nan), and a
soft alignment whose band leaves cells at -inf (a share of 0 times -inf / gamma).
Gradients are checked against central differences (relative 1e-6) and four ways.
"""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np
import pytest
from conftest import check_four_ways

import srcad
import srcad.pipeline


def rbf_of_sqrt(x):
    d = np.sqrt(np.sum((x[:, None, :] - x[None, :, :]) ** 2, axis=-1))
    return np.sum(np.exp(-d))


def rbf_of_power(x):
    d = np.sum((x[:, None, :] - x[None, :, :]) ** 2, axis=-1) ** 0.5
    return np.sum(np.exp(-d))


def rbf_of_hypot(x):
    d = np.hypot(x[:, None, 0] - x[None, :, 0], x[:, None, 1] - x[None, :, 1])
    return np.sum(np.exp(-d))


def rbf_of_norm(x):  # (the reference: np.linalg.norm's subgradient at 0 is 0)
    d = np.linalg.norm(x[:, None, :] - x[None, :, :], axis=-1)
    return np.sum(np.exp(-d))


@pytest.mark.parametrize("f", [rbf_of_sqrt, rbf_of_power, rbf_of_hypot],
                         ids=lambda f: f.__name__)
def test_self_distances_move_nothing(f):
    x = np.random.default_rng(3).normal(size=(4, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        (got,) = check_four_ways(f, x)
    np.testing.assert_allclose(got, srcad.grad(rbf_of_norm)(x), rtol=1e-12)


def robust_scores(x):
    centre = np.nanmedian(x, axis=0)
    spread = np.nanmedian(np.abs(x - centre), axis=0)
    z = (x - centre) / (1.4826 * spread)
    return np.nansum(np.tanh(z) ** 2)


def standardized_squares(x, centre, scale):
    return np.nansum(((x - centre) / scale) ** 2)


def _with_gaps():
    x = np.random.default_rng(5).normal(size=(7, 3))
    x[2, 1] = x[5, 0] = np.nan
    return x


def _central(f, args, index, eps=1e-6):
    """Central differences along each entry of ``args[index]`` that is not nan."""
    point = args[index]
    out = np.zeros_like(point)
    for k in zip(*np.nonzero(~np.isnan(point))):
        up, down = point.copy(), point.copy()
        up[k] += eps
        down[k] -= eps
        out[k] = (f(*args[:index], up, *args[index + 1:])
                  - f(*args[:index], down, *args[index + 1:])) / (2 * eps)
    return out


def test_nan_gaps_in_the_data_move_nothing():
    """Stop 42's open item: a MAD score of data with NaN gaps had a nan gradient."""
    x = _with_gaps()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = srcad.grad(robust_scores)(x)
    np.testing.assert_allclose(got, _central(robust_scores, (x,), 0), rtol=1e-6, atol=1e-8)
    assert got[2, 1] == got[5, 0] == 0.0


def test_nan_gaps_and_the_parameters_of_a_standardization():
    x, centre, scale = _with_gaps(), np.array([0.1, 0.2, 0.3]), np.array([1.0, 2.0, 1.5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        d_centre, d_scale = srcad.grad(standardized_squares, wrt=(1, 2))(x, centre, scale)
    args = (x, centre, scale)
    np.testing.assert_allclose(d_centre, _central(standardized_squares, args, 1), rtol=1e-6)
    np.testing.assert_allclose(d_scale, _central(standardized_squares, args, 2), rtol=1e-6)


def banded_soft_alignment(x, y, gamma):
    """Soft-DTW in a band: the cells outside it stay -inf."""
    from scipy.special import logsumexp

    n, m = x.size, y.size
    r = np.full((n + 1, m + 1), -np.inf)
    r[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(max(1, i - 1), min(m, i + 1) + 1):
            prev = np.array([r[i - 1, j - 1], r[i - 1, j], r[i, j - 1]])
            r[i, j] = -(x[i - 1] - y[j - 1]) ** 2 + gamma * logsumexp(prev / gamma)
    return -r[n, m]


def test_a_band_of_unreachable_cells_moves_nothing_in_either_mode():
    """The derivative along gamma read -inf / gamma^2 * 0 (reverse) and 0 * -inf / gamma
    (forward, inside logsumexp's tangent): nan both ways; now right both ways."""
    rng = np.random.default_rng(8)
    with np.errstate(invalid="ignore"):
        check_four_ways(banded_soft_alignment, rng.normal(size=5), rng.normal(size=5), 0.6)


def root_sum(x):
    return np.sum(np.sqrt(x))


def test_an_infinite_derivative_stays_infinite():
    """sqrt(x) at x = 0 meets no zero: its derivative is inf in both versions."""
    with np.errstate(divide="ignore"):
        got = srcad.grad(root_sum)(np.array([0.0, 4.0]))
    assert got[0] == np.inf and got[1] == 0.25


def test_the_zero_safe_version_is_made_only_for_a_result_holding_nan(monkeypatch):
    made = []
    plain = srcad.pipeline.zero_safe_version

    def counted(*args):
        made.append(args)
        return plain(*args)

    monkeypatch.setattr(srcad.pipeline, "zero_safe_version", counted)
    x = np.random.default_rng(3).normal(size=(4, 2))

    def smooth(x):
        return np.sum(np.exp(-np.sum((x[:, None, :] - x[None, :, :]) ** 2, axis=-1)))

    srcad.grad(smooth)(x)
    assert not made
    with np.errstate(divide="ignore", invalid="ignore"):
        srcad.grad(rbf_of_sqrt)(x)
    assert len(made) == 1


def polar_round_trip(p):
    r = np.sqrt(p[:, 0] ** 2 + p[:, 1] ** 2)
    angle = np.arctan2(p[:, 1], p[:, 0]) + 0.3
    q = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)
    return np.sum(q[:, 0] + 2.0 * q[:, 1])


def test_a_zero_that_is_only_a_point_value_gives_nan_not_a_wrong_number():
    """Round 64a: at the origin of a polar round trip (a rotation, whose gradient is
    R^T [1, 2] everywhere), sqrt's infinite slope meets the slope 2x = 0 of x^2; but
    x^2 moves around 0, so 0 * inf is not 0 there, and the zero-safe rerun gave a
    silently wrong 0. Central differences along the places that were nan now reject
    it: those places stay nan (as JAX and PyTorch give), the others are right."""
    c, s = np.cos(0.3), np.sin(0.3)
    p = np.array([[0.0, 0.0], [1.0, 2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = srcad.grad(polar_round_trip)(p)
    assert np.all(np.isnan(got[0]))
    np.testing.assert_allclose(got[1], [c + 2 * s, -s + 2 * c], rtol=1e-12)


def pair_sum(x):
    total = 0.0
    for i in range(3):
        for j in range(3):
            total += np.sqrt((x[i] - x[j]) ** 2)  # (i == j: a self-distance, 0)
    return total


def test_the_float_version_runs_the_zero_safe_version_too():
    """Round 64a: a 1-D float64 array read item by item takes the version for Python
    floats, where ``np.sqrt`` of a float gives a numpy number whose ``1 / 0`` is inf,
    not an error: the self-distances gave nan, float32 (the array version) the right
    [-4, 0, 4]. The float version now runs the zero-safe version where it gives nan."""
    x = np.array([0.0, 1.0, 3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for candidate in (x, x.astype(np.float32), [0.0, 1.0, 3.0]):
            np.testing.assert_allclose(srcad.grad(pair_sum)(candidate), [-4.0, 0.0, 4.0])
        value, gradient = srcad.value_and_grad(pair_sum)(x)
    assert value == pair_sum(x) == 12.0
    np.testing.assert_allclose(gradient, [-4.0, 0.0, 4.0])


def test_the_test_for_nan_sums_first_and_looks_closer_only_when_the_sum_is_nan():
    from srcad.zero_safe import holds_nan

    plain = np.ones((4, 3))
    gap = plain.copy()
    gap[2, 1] = np.nan
    both_infinities = np.array([1.0, np.inf, -np.inf])  # (sums to nan, holds none)
    overflowing = np.full(4, 1e308)  # (sums to inf, then to nothing worse)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (the sums warn nothing, under np.seterr too)
        with np.errstate(all="raise"):
            assert not holds_nan((plain, plain[0]))
            assert holds_nan((plain, gap))
            assert not holds_nan((both_infinities, overflowing))
            assert holds_nan((np.arange(3), np.array([1.0 + 1j, complex(np.nan, 0.0)])))
            assert not holds_nan({"w": overflowing, "n": 3})
            assert holds_nan([plain, {"b": gap}])


def _travelled(p):
    speed = np.hypot(p["vx"], p["vy"])  # (at rest: 0, and its slope 0 / 0)
    heading = np.arctan2(p["vy"], p["vx"])
    x = y = 0.0
    for _ in range(p["steps"]):
        x = x + 0.1 * speed * np.cos(heading)
        y = y + 0.1 * speed * np.sin(heading)
    return x + 2.0 * y


def _guarded(v):
    assert v[0] >= 0.0, "forward speed must be non-negative"
    speed, heading = np.hypot(v[0], v[1]), np.arctan2(v[1], v[0])
    return speed * np.cos(heading) + 2.0 * speed * np.sin(heading)


def test_the_check_of_a_zero_safe_gradient_moves_floats_only_and_takes_one_side():
    # (round 72b: a dict holding an int skipped the check, and (0, 0) stood silently; a
    # function raising on one side made the check fail: AssertionError from srcad, or
    # (0, 0) again. The true derivative along the polar round trip is (1, 2), which 0 * inf
    # = 0 misses: the plain nan is the answer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grad = srcad.grad(_travelled)({"vx": 0.0, "vy": 0.0, "steps": 10})
        assert np.isnan(grad["vx"]) and np.isnan(grad["vy"])
        assert np.all(np.isnan(srcad.grad(_guarded)(np.zeros(2))))
        moving = srcad.grad(_travelled)({"vx": 1e-9, "vy": 0.0, "steps": 10})
        assert moving["vx"] == pytest.approx(1.0) and moving["vy"] == pytest.approx(2.0)


class _Vehicle:
    def __init__(self, vx, vy):
        self.vx, self.vy = vx, vy


def _labelled(p):
    speed = np.hypot(p["vx"], p["vy"])
    return speed * np.cos(np.arctan2(p["vy"], p["vx"])) * (2.0 if p["mode"] == "double" else 1.0)


def _forward_speed(v: _Vehicle):
    speed = math.hypot(v.vx, v.vy)
    return speed * math.cos(math.atan2(v.vy, v.vx))


def test_the_zero_safe_check_with_a_string_leaf_and_an_object_of_floats():
    # (round 73: np.abs of the string in the check's step size; a plain object's float
    # fields were not made numpy's floats for the fallback: ZeroDivisionError)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grad = srcad.grad(_labelled)({"vx": 0.0, "vy": 0.0, "mode": "double"})
        assert np.isnan(grad["vx"])
        assert srcad.grad(_labelled)({"vx": 1e-9, "vy": 0.0, "mode": "double"})["vx"] == (
            pytest.approx(2.0))
        moved = srcad.grad(_forward_speed)(_Vehicle(0.0, 0.0))
        assert np.isnan(moved.vx) and np.isnan(moved.vy)


def _polar_round_trip(v):
    r = np.hypot(v[0], v[1])
    th = np.arctan2(v[1], v[0])
    return r * np.cos(th) + 3.0 * r * np.sin(th)  # (v0 + 3 v1: 0 * inf at the origin)


def test_a_zero_safe_tangent_is_checked_as_a_zero_safe_gradient_is():
    # (round 73: jvp took 0 / 0 = 0 unchecked: a finite tangent of 0 at the origin, where
    # the truth is t0 + 3 t1 and grad gives nan; a self-distance's zero stays)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, moved = srcad.jvp(_polar_round_trip, (np.zeros(2),), (np.array([0.5, -1.0]),))
        assert np.isnan(moved)
        _, near = srcad.jvp(_polar_round_trip, (np.array([1e-9, 0.0]),), (np.array([0.5, -1.0]),))
        assert near == pytest.approx(-2.5)


def root_weighted(v, w):
    return w * math.sqrt(v) + v


def root_times_itself(x):
    return np.sum(x * np.sqrt(x))


def spread_of_floats(xs):
    total = 0.0
    for a in xs:
        for b in xs:  # (self-pairs too: sqrt(0)'s slope times 2 (a - a) = 0)
            total += math.sqrt((a - b) ** 2)
    return total


def test_the_zero_safe_check_is_one_sided_at_a_boundary_and_serves_floats():
    """``x sqrt(x)`` at 0: grad was 0 and jvp nan (round 75a: the check's differences
    straddled sqrt's domain; a one-sided difference errs by sqrt(h)); a loop over pairs of
    floats with their self-distances had a nan gradient (round 75b: the float version,
    whose numpy quotient gives nan where a float's would raise, was not run again)."""
    x, t = np.array([0.0, 0.5]), np.array([1.0, 0.0])
    assert srcad.grad(root_times_itself)(x)[0] == 0.0
    assert srcad.jvp(root_times_itself, (x,), (t,))[1] == 0.0
    assert srcad.grad(root_weighted, wrt=(0, 1))(0.0, 0.0) == (1.0, 0.0)  # (w = 0: flat)
    xs = [1.0, 3.0, 2.0]
    assert [float(g) for g in srcad.grad(spread_of_floats)(xs)] == [-4.0, 4.0, 0.0]


_OBSERVED = np.array([0.3, -0.2])


def _energy_score(mu, rng):
    samples = mu + 0.5 * rng.standard_normal((4, 2))
    to_observed = np.sqrt(np.sum((samples - _OBSERVED) ** 2, axis=1))
    pairs = np.sqrt(np.sum((samples[:, None, :] - samples[None, :, :]) ** 2, axis=-1))
    return np.mean(to_observed) - 0.5 * np.mean(pairs)


def test_a_function_drawing_random_numbers_is_not_run_again_where_its_gradient_is_nan():
    # (round 79: the zero-safe run drew the samples again from the caller's generator,
    # and the check by differences more: a Monte Carlo loop calling value_and_grad got
    # another random stream than the same loop calling f; the gradient stayed nan)
    mu = np.array([0.1, 0.4])
    with np.errstate(invalid="ignore", divide="ignore"):
        for derivative in (srcad.value_and_grad(_energy_score), srcad.grad(_energy_score)):
            rng, same = np.random.default_rng(0), np.random.default_rng(0)
            derivative(mu, rng)
            value = _energy_score(mu, same)
            assert rng.standard_normal() == same.standard_normal()  # (as many draws as f)
        value_and_gradient = srcad.value_and_grad(_energy_score)(mu, np.random.default_rng(0))
        assert value_and_gradient[0] == value
        assert np.all(np.isnan(value_and_gradient[1]))  # (the plain result: documented)


_GENERATOR = np.random.default_rng(5)


def _energy_score_of_a_global_generator(mu):
    return _energy_score(mu, _GENERATOR)


def _energy_score_by_scipy(mu, rng):
    from scipy import stats

    samples = mu + 0.5 * stats.norm.rvs(size=(4, 2), random_state=rng)
    pairs = np.sqrt(np.sum((samples[:, None, :] - samples[None, :, :]) ** 2, axis=-1))
    return np.mean(np.sqrt(np.sum((samples - _OBSERVED) ** 2, axis=1))) - 0.5 * np.mean(pairs)


def test_a_global_generator_or_scipys_rvs_advances_as_the_function_does(monkeypatch):
    # (round 80: grad, hessian and hvp ran the function again to read its value, and
    # scipy's rvs(random_state=rng) was not known to draw)
    mu = np.array([0.3, -0.5])
    module = sys.modules[__name__]
    with np.errstate(invalid="ignore", divide="ignore"):
        monkeypatch.setattr(module, "_GENERATOR", np.random.default_rng(5))
        _energy_score_of_a_global_generator(mu)
        after_f = _GENERATOR.standard_normal()
        for make in (srcad.grad, srcad.value_and_grad, srcad.hessian):
            monkeypatch.setattr(module, "_GENERATOR", np.random.default_rng(5))
            make(_energy_score_of_a_global_generator)(mu)
            assert _GENERATOR.standard_normal() == after_f
        rng = np.random.default_rng(7)
        _energy_score_by_scipy(mu, rng)
        after_f = rng.standard_normal()
        for make in (srcad.grad, srcad.value_and_grad):
            rng = np.random.default_rng(7)
            make(_energy_score_by_scipy)(mu, rng)
            assert rng.standard_normal() == after_f


def _root_times_itself(x):
    return abs(x) ** 0.5 * x  # (x |x|^(1/2): slope 0 at 0, where the power's is inf)


def _roots_times_items(x):
    return np.sum(np.abs(x) ** 0.5 * x)


def test_a_zero_beside_an_infinite_slope_is_checked_by_extrapolated_differences():
    """Round 90: ``abs(x) ** 0.5 * x`` at 0 gave nan, for floats (their version was not
    run again: ``power_slope`` gives inf where a float's power would raise) and for
    arrays (central differences err by sqrt(h) there, which no tolerance passes; from
    h / 10 and h / 100 they extrapolate to the zero-safe 0)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for x in (0.0, np.float64(0.0), np.array(0.0)):
            assert float(srcad.grad(_root_times_itself)(x)) == 0.0
        np.testing.assert_array_equal(
            srcad.grad(_roots_times_items)(np.array([0.0, 1.0, 0.0])), [0.0, 1.5, 0.0]
        )
        # (still nan where the zero is a point value: see the test of the polar round trip)
        assert math.isnan(srcad.grad(_rotated_at_rest)(np.array([0.0, 0.0]))[0])


def _rotated_at_rest(v):
    speed, heading = np.hypot(v[0], v[1]), np.arctan2(v[1], v[0])
    return speed * np.cos(heading) + 2.0 * speed * np.sin(heading)
