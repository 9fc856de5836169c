"""Library code as its authors wrote it (issue 15): the idioms it is made of (masks built
with ``~ & |``, ``in`` tests on dtypes, ``*args``/``**kwargs`` wrappers, ``asarray``,
numpy's dispatchers, decorators), and library functions passed to srcad or called from
the user's code, each checked four ways (see ``conftest.check_four_ways``) and against the
library's own derivative where it has one."""

import functools
import logging
import math
import time

import library_paths
import numpy as np
import pytest
from conftest import assert_located, check_four_ways, marker_line
from numpy.polynomial import chebyshev, hermite, hermite_e, laguerre, legendre, polynomial

import srcad

try:
    from scipy.spatial import distance
except ImportError:  # pragma: no cover - scipy is a test dependency
    distance = None

COEFFICIENTS = np.array([0.7, -1.3, 0.4, 2.1, -0.6])
X = np.array([0.3, -1.2, 0.7, 2.0, -0.4])
Y = np.array([1.1, 0.2, -0.5, 0.9, 1.7])


# ---------------------------------------------------------------- operators on masks and flags


def masked_energy(x, c):
    keep = ~(x > 1.5) & (x > -1.0) | (x == 2.0)
    if c.dtype.char in "fd" and "q" not in "abc":
        return np.sum(np.where(keep, x * x * c, 0.0))
    return np.sum(x)


def test_bitwise_masks_and_membership_tests_pass_no_gradient():
    x = np.array([0.3, -1.2, 0.7, 1.9, -0.4])
    (dx, dc) = check_four_ways(masked_energy, x, Y)
    keep = ~(x > 1.5) & (x > -1.0) | (x == 2.0)
    np.testing.assert_allclose(dx, np.where(keep, 2.0 * x * Y, 0.0), rtol=1e-12)
    np.testing.assert_allclose(dc, np.where(keep, x * x, 0.0), rtol=1e-12)


def updated_masks(x):
    m = x > 0.5
    n = m  # the same array: `&=` changes it too
    m &= x < 2.0
    m |= x > 4.5
    y = x.copy()
    y %= 2.0
    z = x * 3.0
    z //= 1.0
    k = 7
    k >>= 1
    k ^= 1
    return np.sum(np.where(n, y * x, 0.0)) + np.sum(z * x) * k


def test_every_augmented_operator_updates_in_place_as_numpy_does():
    x = np.array([0.25, 1.5, 3.25, 4.9])
    (dx,) = check_four_ways(updated_masks, x)
    y, n = x % 2.0, (x > 0.5) & (x < 2.0) | (x > 4.5)
    expected = np.where(n, y + x, 0.0) + np.floor(3.0 * x) * 2
    np.testing.assert_allclose(dx, expected, rtol=1e-12)


# ---------------------------------------------------------------- *args and **kwargs helpers


def sum_of_squares(*values, scale=1.0):
    total = 0.0
    for v in values:
        total = total + v * v
    return scale * total / len(values)


def scaled(a, **options):
    return a * options["scale"]


def calls_variadic_helpers(x, y):
    pair = (x, 2.0 * y)
    return sum_of_squares(x, y, 3.0, scale=0.5) + sum_of_squares(*pair) + scaled(x, scale=3.0)


def test_helpers_with_star_args_and_keyword_args_are_inlined():
    (dx, dy) = check_four_ways(calls_variadic_helpers, 0.7, -1.1)
    assert dx == pytest.approx(0.5 * 2 * 0.7 / 3 + 2 * 0.7 / 2 + 3.0, rel=1e-12)
    assert dy == pytest.approx(0.5 * 2 * -1.1 / 3 + 8 * -1.1 / 2, rel=1e-12)


def spreads_an_array(x):
    return max(*x)  # <spread>


def test_spreading_a_value_of_unknown_length_is_refused_at_the_users_line():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(spreads_an_array)(X)
    assert_located(info.value, __file__, "spread")
    assert "does not know" in info.value.message and "tuple" in info.value.hint


def with_other_defaults(function):
    """A decorator whose wrapper's defaults differ from the function's (as SciPy's do)."""

    @functools.wraps(function)
    def wrapper(x, power=None):
        return function(x) if power is None else function(x, power)

    return wrapper


@with_other_defaults
def powered(x, power=3.0):
    return np.sum(x**power)


def calls_decorated(x):
    return powered(x)


def test_a_decorated_helper_is_read_with_its_own_defaults():
    (dx,) = check_four_ways(calls_decorated, X)
    np.testing.assert_allclose(dx, 3.0 * X**2, rtol=1e-12)


# ---------------------------------------------------------------- decorators
# A decorator's wrapper is part of the function: srcad reads it (it used to read the
# function in its __wrapped__ instead, and so silently dropped `2.0 * fn(x)`). A wrapper
# that only forwards its *args and **kwargs and returns the result is read through.


def doubled(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return 2.0 * fn(x)

    return wrapper


LOG = logging.getLogger(__name__)


def timed(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        elapsed = time.perf_counter() - start
        LOG.debug("%s took %.3g s", fn.__name__, elapsed)
        return result

    return wrapper


def in_celsius(fn):
    @functools.wraps(fn)
    def wrapper(temperature, *rest):
        return fn(temperature + 273.15, *rest)

    return wrapper


@doubled
def energy(x):
    return np.sum(x**2)


@timed
def weighted(x, weight=2.0):
    return np.sum(np.sin(x)) * weight


@in_celsius
def arrhenius(temperature, a):
    return a * math.exp(-1000.0 / temperature)


def decorated_helpers(x):
    return energy(x) + weighted(x, weight=3.0) + arrhenius(x[0], 2.0)


def test_a_decorators_wrapper_is_part_of_the_function():
    (dx,) = check_four_ways(energy, X)
    np.testing.assert_allclose(dx, 4.0 * X, rtol=1e-12)
    assert srcad.value_and_grad(energy)(X)[0] == pytest.approx(2.0 * np.sum(X**2), rel=1e-14)
    (dx,) = check_four_ways(decorated_helpers, X)
    t = X[0] + 273.15
    want = 4.0 * X + 3.0 * np.cos(X)
    want[0] += 2.0 * math.exp(-1000.0 / t) * 1000.0 / t**2
    np.testing.assert_allclose(dx, want, rtol=1e-10)


def scaled_by_two(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):  # (more than passing them on: srcad calls it)
        return 2.0 * fn(*args, **kwargs)

    return wrapper


@scaled_by_two
def decorated(x, calls=1.0):  # (the name srcad's caller of a wrapper gave its callee)
    return np.sum(x**2) * calls


@scaled_by_two
def named_like_the_callee(x, decorated=3.0):
    return np.sum(x**2) * decorated


def test_a_function_or_parameter_named_decorated_under_a_wrapper():
    """(Round 87: srcad's caller of the wrapper named it `decorated`, which the user's
    name shadowed: refused as a recursion, at a line of srcad's.)"""
    for f, scale in ((decorated, 4.0), (named_like_the_callee, 12.0)):
        (dx,) = check_four_ways(f, X)
        np.testing.assert_allclose(dx, scale * X, rtol=1e-12)


def test_a_0d_arrays_tangent_may_be_a_number():
    """(Round 87: a float tangent for a 0-d array raised AttributeError in the tangent
    code, `t.copy()`; JAX takes it.)"""

    def doubled_in_place(a):
        b = a.copy()
        b *= 2.0
        return float(b) ** 2

    value, slope = srcad.jvp(doubled_in_place, (np.array(0.7),), (1.0,))
    assert value == pytest.approx(1.96) and slope == pytest.approx(5.6, rel=1e-14)


def test_a_wrapper_that_only_forwards_is_read_through():
    (dx,) = check_four_ways(weighted, X)
    np.testing.assert_allclose(dx, 2.0 * np.cos(X), rtol=1e-12)


def scaled_by(factor):
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return factor * fn(*args, **kwargs)

        return wrapper

    return decorate


@scaled_by(3.0)
def spring_energy(x, k=2.0, *, rest=0.0):
    return 0.5 * k * np.sum((x - rest) ** 2)


def springs(x):
    return spring_energy(x, k=1.5) + spring_energy(x, rest=0.5)


def doubled_rate(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        kwargs["rate"] = 2.0  # (changes what is passed on)
        return fn(*args, **kwargs)

    return wrapper


@doubled_rate
def decay(x, rate=1.0):
    return np.sum(np.exp(-rate * x))


def uses_decay(x):
    return decay(x)


def test_a_wrapper_that_changes_its_kwargs_before_passing_them_on_is_refused():
    """``kwargs["rate"] = 2.0`` then ``fn(*args, **kwargs)``: the keywords passed on are
    not the call's (it silently used the default rate)."""
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(uses_decay)(X)
    assert "`**` unpacking" in info.value.message


def test_a_wrapper_passing_on_args_and_kwargs_is_read_when_called():
    """``factor * fn(*args, **kwargs)``: called as a helper, the wrapper's ``*args`` and
    ``**kwargs`` are the call's, and ``fn(**kwargs)`` passes the keywords on. The
    decorated function itself is differentiated through a caller with the wrapped
    function's signature, which calls the wrapper."""
    (dx,) = check_four_ways(springs, X)
    np.testing.assert_allclose(dx, 3.0 * (1.5 * X + 2.0 * (X - 0.5)), rtol=1e-12)
    # the decorated function itself: a caller with the wrapped signature is read
    (dx, dk) = check_four_ways(spring_energy, X, 1.5, wrt=(0, 1))
    np.testing.assert_allclose(dx, 4.5 * X, rtol=1e-12)
    assert dk == pytest.approx(1.5 * np.sum(X**2), rel=1e-12)
    value, dx = srcad.value_and_grad(spring_energy)(X, rest=0.5)
    assert value == spring_energy(X, rest=0.5)
    np.testing.assert_allclose(dx, 6.0 * (X - 0.5), rtol=1e-12)


def test_a_wrapper_that_changes_star_arguments_is_read_for_the_decorated_function():
    (dt, da) = check_four_ways(arrhenius, 25.0, 2.0)
    t = 25.0 + 273.15
    assert dt == pytest.approx(2.0 * math.exp(-1000.0 / t) * 1000.0 / t**2, rel=1e-12)
    assert da == pytest.approx(math.exp(-1000.0 / t), rel=1e-12)


MODE = {"train": True}


def eval_mode(fn):
    @functools.wraps(fn)
    def wrapper(x):
        MODE["train"] = False  # <eval mode>
        out = fn(x)
        MODE["train"] = True
        return out

    return wrapper


@eval_mode
def dropout_free(x):
    return np.sum(x**3) if not MODE["train"] else 0.5 * np.sum(x**2)


def memoized(fn):
    cache = {}

    @functools.wraps(fn)
    def wrapper(x):
        if x not in cache:
            cache[x] = fn(x)  # <memo write>
        return cache[x]

    return wrapper


@memoized
def expensive(x):
    return x**3


def with_own_default(fn):
    @functools.wraps(fn)
    def wrapper(e, temperature=2.0):
        return fn(e, temperature)

    return wrapper


@with_own_default
def boltzmann(e, temperature=1.0):
    return math.exp(-e / temperature)


class Schedule:
    def __init__(self):
        self.temperature = 1.0

    def step(self):
        self.temperature *= 0.5
        return self.temperature


SCHEDULE = Schedule()


def annealed(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        LOG.debug("temperature %.3f", SCHEDULE.step())  # (a call in the log line: it runs)
        return fn(*args, **kwargs)

    return wrapper


@annealed
def soft_energy(x):
    return np.sum(x**2) / SCHEDULE.temperature


def test_a_log_line_that_calls_something_is_not_only_observing():
    SCHEDULE.temperature = 1.0
    value, dx = srcad.value_and_grad(soft_energy)(X)
    assert SCHEDULE.temperature == 0.5  # (the wrapper's line ran, once)
    assert value == pytest.approx(np.sum(X**2) / 0.5, rel=1e-14)
    np.testing.assert_allclose(dx, 4.0 * X, rtol=1e-14)


def with_temperature(fn):
    @functools.wraps(fn)
    def wrapper(logits, temperature=2.0):
        return fn(logits / temperature)

    return wrapper


@with_temperature
def log_sum_exp(z):
    return np.log(np.sum(np.exp(z)))


def test_forward_mode_of_a_wrapper_takes_the_wrappers_parameters():
    """The wrapper's signature, not the wrapped function's (which ``inspect`` reports):
    jvp's primals are the wrapper's, with its default."""
    z, v = np.array([0.1, 1.2, -0.3]), np.array([1.0, -0.5, 0.25])
    value, tangent = srcad.jvp(log_sum_exp)((z,), (v,))
    p = np.exp(z / 2.0) / np.sum(np.exp(z / 2.0))
    assert value == pytest.approx(log_sum_exp(z), rel=1e-14)
    assert tangent == pytest.approx(p @ v / 2.0, rel=1e-12)
    np.testing.assert_allclose(srcad.hvp(log_sum_exp)(z, v),
                               (p * v - p * (p @ v)) / 4.0, rtol=1e-10, atol=1e-14)


def test_a_wrapper_that_does_more_than_forward_is_read_or_refused():
    """A wrapper is read through only when it forwards and observes (a timer, a log
    line): one that sets state the function reads, or caches, is read itself, and srcad
    refuses its writes outside the function; one with defaults of its own is read."""
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(dropout_free)(X)
    assert_located(info.value, __file__, "eval mode")
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(expensive)(0.7)
    assert_located(info.value, __file__, "memo write")
    value, de = srcad.value_and_grad(boltzmann)(0.6)
    assert value == boltzmann(0.6)
    assert de == pytest.approx(-0.5 * math.exp(-0.3), rel=1e-14)  # (the wrapper's default)


# ---------------------------------------------------------------- numpy's Python functions

SERIES = [
    (polynomial.polyval, polynomial.polyder),
    (chebyshev.chebval, chebyshev.chebder),
    (legendre.legval, legendre.legder),
    (hermite.hermval, hermite.hermder),
    (hermite_e.hermeval, hermite_e.hermeder),
    (laguerre.lagval, laguerre.lagder),
]


@pytest.mark.parametrize("value, derivative", SERIES, ids=[v.__name__ for v, _ in SERIES])
def test_numpy_polynomial_series_passed_as_they_are(value, derivative):
    dx, dc = check_four_ways(value, 0.37, COEFFICIENTS)
    assert dx == pytest.approx(value(0.37, derivative(COEFFICIENTS)), rel=1e-10)
    basis = [value(0.37, np.eye(len(COEFFICIENTS))[k]) for k in range(len(COEFFICIENTS))]
    np.testing.assert_allclose(dc, basis, rtol=1e-10, atol=1e-14)


def test_polyval_of_an_array_of_points():
    (dx,) = check_four_ways(lambda_free_polyval_sum, X)
    np.testing.assert_allclose(
        dx, polynomial.polyval(X, polynomial.polyder(COEFFICIENTS)), rtol=1e-10
    )


def lambda_free_polyval_sum(x):
    return np.sum(polynomial.polyval(x, COEFFICIENTS))


def test_numpy_dispatched_python_functions_are_read_through_the_dispatcher():
    (dp, dx) = check_four_ways(np.polyval, COEFFICIENTS, 0.37)
    assert dx == pytest.approx(np.polyval(np.polyder(COEFFICIENTS), 0.37), rel=1e-10)
    np.testing.assert_allclose(dp, 0.37 ** np.arange(4, -1, -1), rtol=1e-12)


def test_polyvalfromroots():
    check_four_ways(polynomial.polyvalfromroots, 0.37, COEFFICIENTS)


# ---------------------------------------------------------------- scipy


DISTANCES = ["sqeuclidean", "euclidean", "minkowski", "cityblock", "chebyshev", "braycurtis",
             "cosine", "correlation", "canberra", "jensenshannon"]


@pytest.mark.parametrize("name", DISTANCES)
def test_scipy_spatial_distances(name):
    if distance is None:
        pytest.skip("needs scipy")
    check_four_ways(getattr(distance, name), np.abs(X) + 0.1, np.abs(Y) + 0.2)


def slope_at_half(p):
    return np.polyval(np.polyder(p), 0.5)


def curvature_and_area(p):
    return np.polyval(np.polyder(p, 2), 0.3) + np.polyval(np.polyint(p), 0.7)


@pytest.mark.parametrize("f", [slope_at_half, curvature_and_area])
def test_polyder_and_polyint_recurse_on_their_order(f):
    """np.polyder and np.polyint call themselves for an order known when srcad compiles
    (unrolled), and polyint divides by ``p.__truediv__(...)`` (read as ``p / ...``)."""
    p = np.array([1.0, -2.0, 0.5, 0.3])
    # (polyint's listing takes srcad about 3 s to build: one build, not four, for it)
    dp = check_four_ways(f, p)[0] if f is slope_at_half else srcad.grad(f)(p)
    exact = [0.75, 1.0, 1.0, 0.0] if f is slope_at_half else [
        6 * 0.3 + 0.7**4 / 4, 2 + 0.7**3 / 3, 0.7**2 / 2, 0.7]
    np.testing.assert_allclose(dp, exact, rtol=1e-12)


def nonzero_energy(p):
    return np.sum(np.trim_zeros(p) ** 2)


def test_trim_zeros_reads_its_set_of_constants():
    """np.trim_zeros tests `trim not in {"fb", "f", "b"}`: a tuple of constants."""
    p = np.array([0.0, 1.0, -2.0, 0.5, 0.0])
    (dp,) = check_four_ways(nonzero_energy, p)
    np.testing.assert_allclose(dp, 2 * p, rtol=1e-14)


def unwrapped_energy(p):
    return np.sum(np.unwrap(p) ** 2)  # <unwrap>


def test_a_refusal_inside_library_code_names_the_users_line_first():
    """np.unwrap writes its result with a bare call: the error starts at the user's call
    and then names the library's line."""
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(unwrapped_energy)(np.array([0.0, 1.0, -2.0, 0.5, 0.0]))
    error = info.value
    assert_located(error, __file__, "unwrap")
    assert error.message.startswith("numpy.unwrap, called here")
    assert "register a derivative rule for numpy.unwrap" in error.hint
    inner = error.problems[-1]
    assert inner.filename.endswith("_function_base_impl.py") and "bare call" in inner.message


def grown_args(*args, last=0.5):
    if len(args) > 1:
        args = args + (last,)  # (args now has one more item)
        return sum([a * a for a in args])
    return 0.0


def calls_grown_args(x, y):
    return grown_args(x, y, last=x * y)


def test_star_args_reassigned_in_a_branch_are_not_unrolled_with_their_old_length():
    dx, dy = check_four_ways(calls_grown_args, 0.5, 1.5)
    assert dx == pytest.approx(2 * 0.5 + 2 * 0.75 * 1.5, rel=1e-12)
    assert dy == pytest.approx(2 * 1.5 + 2 * 0.75 * 0.5, rel=1e-12)


# ---------------------------------------------------------------- library functions passed as is


def test_rosen_passed_as_it_is_matches_scipys_own_derivatives():
    """SciPy's rosen goes through its array-API layer (``xp_promote``, ``_asarray`` with
    a branch for other array libraries): differentiated from its source."""
    optimize = pytest.importorskip("scipy.optimize")
    x = np.array([1.3, 0.7, 0.8, 1.9, 1.2])
    (gradient,) = check_four_ways(optimize.rosen, x)
    np.testing.assert_allclose(gradient, optimize.rosen_der(x), rtol=1e-12)
    np.testing.assert_allclose(srcad.hessian(optimize.rosen)(x), optimize.rosen_hess(x), rtol=1e-12)
    np.testing.assert_allclose(
        srcad.hvp(optimize.rosen)(x, Y), optimize.rosen_hess_prod(x, Y), rtol=1e-12
    )
    np.testing.assert_allclose(
        srcad.jacobian(srcad.grad(optimize.rosen))(x), optimize.rosen_hess(x), rtol=1e-12
    )


def test_logsumexp_passed_as_it_is_is_differentiated_by_its_rule():
    """SciPy's logsumexp is written with array-API helpers srcad cannot read (``xpx.at``);
    passed as it is, srcad differentiates a call of it, by its rule."""
    special = pytest.importorskip("scipy.special")
    (gradient,) = check_four_ways(special.logsumexp, X)
    softmax = np.exp(X - special.logsumexp(X))
    np.testing.assert_allclose(gradient, softmax, rtol=1e-12)
    np.testing.assert_allclose(
        srcad.hessian(special.logsumexp)(X), np.diag(softmax) - np.outer(softmax, softmax),
        rtol=1e-10, atol=1e-14,
    )
    weights = np.abs(Y) + 0.1
    by_weights = srcad.grad(special.logsumexp, wrt="b")(X, b=weights)
    np.testing.assert_allclose(by_weights, np.exp(X) / np.sum(weights * np.exp(X)), rtol=1e-12)
    assert "def logsumexp(a, axis" in srcad.grad(special.logsumexp).forward_source


@pytest.mark.parametrize("name", ["tanh", "arctan", "log1p"])
def test_numpy_ufuncs_passed_as_they_are(name):
    ufunc = getattr(np, name)
    slope = srcad.grad(ufunc)(0.3)
    assert slope == pytest.approx((ufunc(0.3 + 1e-6) - ufunc(0.3 - 1e-6)) / 2e-6, rel=1e-8)
    np.testing.assert_allclose(
        srcad.jacobian(ufunc)(np.abs(X)), np.diag(srcad.grad(lambda x: np.sum(ufunc(x)))(np.abs(X)))
    )


def energy_of_either_path(x, exact):
    return library_paths.scaled_energy(x, exact)  # <either>


def test_a_library_path_srcad_cannot_differentiate_is_refused_when_it_is_taken():
    """Both branches of the library's ``if exact:`` are lowered (the test is known only
    when the program runs); the other one calls np.spacing, which has no derivative rule.
    The gradient is right on the path srcad can differentiate, and raises, naming the
    user's line and then the library's, when the program takes the other."""
    (gradient,) = check_four_ways(energy_of_either_path, X, True)
    np.testing.assert_allclose(gradient, 8.0 * X, rtol=1e-12)
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(energy_of_either_path)(X, False)
    assert_located(info.value, __file__, "either")
    assert info.value.problems[-1].filename.endswith("library_paths.py")
    assert "`np.spacing` has no derivative rule" in str(info.value)
    assert "cannot_differentiate(refusal)" in srcad.grad(energy_of_either_path).forward_source


def trapezoid_area(y, x):
    return np.trapezoid(y * y, x)


def test_trapezoid_is_differentiated_along_its_try_body():
    """np.trapezoid computes its result in a ``try`` statement (its handler retries with
    np.asarray): srcad differentiates the body, after a probe that runs the statement as
    written, passed as it is and called with sample points."""
    y = np.array([0.3, 1.2, 0.5, 2.0])
    x = np.array([0.0, 0.4, 1.1, 1.5])
    (dy,) = check_four_ways(np.trapezoid, y)
    np.testing.assert_allclose(dy, [0.5, 1.0, 1.0, 0.5], rtol=1e-12)
    dy, dx = check_four_ways(trapezoid_area, y, x)
    widths = np.diff(x)
    # d/dy_i of sum_i w_i (y_i^2 + y_{i+1}^2) / 2
    expected_dy = y * (np.r_[widths, 0.0] + np.r_[0.0, widths])
    np.testing.assert_allclose(dy, expected_dy, rtol=1e-12)


def halved(x):
    return library_paths.halved_total(x)  # <halved>


def test_an_except_clause_that_runs_is_refused_when_it_runs():
    """A library ``try`` statement differentiated along its body: for an array the body
    runs, and its gradient is right; for a list the ``except TypeError`` clause runs,
    which srcad does not differentiate: the gradient says so, at the user's line."""
    (gradient,) = check_four_ways(halved, X)
    np.testing.assert_allclose(gradient, np.full(5, 0.5))
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(halved)([1.0, 2.0])
    assert "`except TypeError` clause" in str(info.value)
    assert_located(info.value, __file__, "halved")


def cached_energy(x):
    return library_paths.scaled_sum(x)


def test_an_except_clause_that_fills_a_cache_is_not_refused():
    """The first call for a key runs the clause (a cache miss, as numpy's ``iinfo`` on
    the first ``np.triu_indices`` of a process): a second probe finds the key, and the
    body, which computes the same value, is differentiated."""
    library_paths._SCALES.clear()
    x = np.linspace(0.5, 1.5, 4)
    gradient = srcad.grad(cached_energy)(x)
    np.testing.assert_allclose(gradient, 2.0 * x / 5.0, rtol=1e-14)
    library_paths._SCALES.clear()
    check_four_ways(cached_energy, x)


def covariance_trace(data):
    return np.trace(np.cov(data))


def weighted_mean(x, w):
    return np.average(x, weights=w)


def column_means(x):
    return np.sum(np.average(x.reshape(2, 3), axis=0) ** 2)


def test_cov_and_average_pass_their_options_on_with_keyword_dicts():
    """np.average builds ``keepdims_kw = {}`` when ``keepdims is np._NoValue`` and passes
    ``**keepdims_kw`` on; srcad decides the test on the default and spreads the known
    dict (srcad.specialize). np.cov calls np.average, then ``X.T.conj()``."""
    data = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]])
    (gradient,) = check_four_ways(covariance_trace, data)
    centered = data - data.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(gradient, 2.0 * centered / (data.shape[1] - 1), rtol=1e-12)
    w = np.array([1.0, 2.0, 3.0])
    dx, dw = check_four_ways(weighted_mean, data[0], w)
    np.testing.assert_allclose(dx, w / w.sum(), rtol=1e-12)
    np.testing.assert_allclose(dw, (data[0] - np.average(data[0], weights=w)) / w.sum(), rtol=1e-12)
    check_four_ways(column_means, data.ravel())


# ---------------------------------------------------------------- library code writing its arrays

TIMES = np.linspace(0.0, 1.0, 6)


def quadratic_fit(y):
    A = np.vander(TIMES, 3)  # (numpy writes into views of its own array, from constants)
    coef = np.linalg.solve(A.T @ A, A.T @ y)
    return np.sum(coef**2) + coef[0]


def fitted_curvature(y):
    return np.polyfit(TIMES, y, 2)[0] ** 2


@pytest.mark.parametrize("f", [quadratic_fit, fitted_curvature])
def test_library_code_writing_views_of_constant_arrays(f):
    """``np.vander`` of constants writes into views of its own array; srcad checks such
    sharing when the program runs only where a differentiated value flows through it
    (it refused the call: "the array written in place overlaps another variable")."""
    (dy,) = check_four_ways(f, np.sin(3.0 * TIMES))
    if f is quadratic_fit:
        A = np.vander(TIMES, 3)
        coef = np.linalg.solve(A.T @ A, A.T @ np.sin(3.0 * TIMES))
        np.testing.assert_allclose(dy, A @ np.linalg.solve(A.T @ A, 2 * coef + [1, 0, 0]),
                                   rtol=1e-10)


def sample_spread(xs):
    import fractions

    return float(fractions.Fraction(xs[1]) * 3) + xs[0]  # <exact fraction>


def test_code_computing_with_fractions_is_refused():
    """``fractions`` (and the statistics functions without a rule of their own: their
    values come from exact fractions of the floats) compute with integer arithmetic,
    which has no derivative: reading it gave a zero gradient. (``statistics.stdev`` and
    the others have rules now: test_rules_breadth.)"""
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(sample_spread)([0.5, 1.5, -0.25, 2.0])
    assert info.value.lineno == marker_line(__file__, "exact fraction")
    assert "np.std(xs, ddof=1)" in info.value.hint


def _energy_by_trapezoid(y, x):
    from scipy.integrate import trapezoid

    return trapezoid(y**2, x)


def _work_by_cumulative_trapezoid(v, t):
    from scipy.integrate import cumulative_trapezoid, trapezoid

    path = cumulative_trapezoid(v, t, initial=0.0)
    return np.sum(np.sin(path)) + trapezoid(v * path, dx=0.5)


def _rows_integrated(Y, x):
    from scipy.integrate import cumulative_trapezoid, trapezoid

    return np.sum(trapezoid(Y**2, x, axis=1) + cumulative_trapezoid(Y, x, axis=1)[:, -1])


@pytest.mark.parametrize(
    "f, args",
    [
        (_energy_by_trapezoid, (np.sin(3 * np.linspace(0, 1, 6)), np.linspace(0, 1, 6))),
        (_work_by_cumulative_trapezoid,
         (np.cos(np.linspace(0, 2, 7)), np.linspace(0, 2, 7) ** 1.5)),
        (_rows_integrated, (np.random.default_rng(1).normal(size=(3, 6)), np.linspace(0, 1, 6))),
    ],
)
def test_scipy_integration_rules_read_in_numpy(f, args):
    """SciPy's trapezoid and cumulative_trapezoid, written against the array API, are
    read as numpy's trapezoid and srcad's stand-in (round 65a: refused, located nowhere)."""
    check_four_ways(f, *args)


def _simpson_terms(y, x):
    from scipy.integrate import simpson

    return (simpson(y**2, x=x) + simpson(np.sin(y), dx=0.3) + simpson(y[:-1] * x[:-1], x=x[:-1])
            + simpson(y[:2], x=x[:2]) + np.sum(simpson(np.outer(y, x), x=x, axis=0)))


def _gp_negative_log_likelihood(log_ell, log_noise, X, y):
    """A Gaussian process's negative log marginal likelihood, the way GP code writes it:
    a Cholesky factor from ``cho_factor``, ``alpha`` from ``cho_solve``."""
    from scipy.linalg import cho_factor, cho_solve

    d = X[:, None] - X[None, :]
    K = np.exp(-0.5 * d**2 / np.exp(2 * log_ell)) + np.exp(2 * log_noise) * np.eye(len(X))
    factor, lower = cho_factor(K, lower=True)
    alpha = cho_solve((factor, lower), y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(factor))) + 0.5 * len(X) * np.log(2 * np.pi)


def _cholesky_solves(a, B):
    from scipy.linalg import cho_factor, cho_solve

    upper = cho_factor(a)
    return np.sum(cho_solve(upper, B) ** 2) + np.sum(upper[0]) + np.sum(cho_solve(upper, B[:, 0]))


def test_simpson_and_the_cholesky_solver_pair_are_read_as_numpy():
    """``scipy.integrate.simpson`` (odd and even numbers of points, spacings or points,
    along an axis) and ``scipy.linalg.cho_factor``/``cho_solve`` were refused: SciPy's
    code goes through helpers srcad cannot read (round 77). srcad reads stand-ins with
    the same values, to rounding; the factor's other triangle holds ``a``'s entries, as
    LAPACK leaves them."""
    from scipy.integrate import simpson
    from scipy.linalg import cho_factor, cho_solve

    from srcad.stand_ins import simpson as simpson_stand_in
    from srcad.stand_ins_scipy import cho_factor as cho_factor_stand_in
    from srcad.stand_ins_scipy import cho_solve as cho_solve_stand_in

    rng = np.random.default_rng(77)
    for n in (2, 3, 6, 7):
        y, x = rng.normal(size=(4, n)), np.sort(rng.uniform(0, 2, n))
        for kwargs in ({"x": x}, {"dx": 0.25}, {}):
            assert np.allclose(simpson_stand_in(y, **kwargs), simpson(y, **kwargs), rtol=1e-14)
        assert np.allclose(simpson_stand_in(y.T, x=x, axis=0), simpson(y.T, x=x, axis=0),
                           rtol=1e-14)
    b = rng.normal(size=(4, 4))
    a, B = b @ b.T + 4 * np.eye(4), rng.normal(size=(4, 2))
    for lower in (False, True):
        mine, theirs = cho_factor_stand_in(a, lower=lower), cho_factor(a, lower=lower)
        assert mine[1] == theirs[1] and np.allclose(mine[0], theirs[0], rtol=1e-14)
        assert np.allclose(cho_solve_stand_in(mine, B), cho_solve(theirs, B), rtol=1e-13)
    x = np.linspace(0, 1.5, 8)
    check_four_ways(_simpson_terms, np.cos(3 * x), x)
    check_four_ways(_gp_negative_log_likelihood, -0.3, -1.0, np.linspace(0, 2, 6),
                    np.sin(np.linspace(0, 2, 6)), wrt=("log_ell", "log_noise"))
    check_four_ways(_cholesky_solves, a, B)
    # second order (the rule's helpers differentiate again): the Hessian in the GP's two
    # hyperparameters against central differences of the gradient (step 1e-5)
    X, y = np.linspace(0, 2, 6), np.sin(np.linspace(0, 2, 6))
    hessian = np.asarray(srcad.hessian(_gp_negative_log_likelihood, wrt=(0, 1))(-0.3, -1.0, X, y),
                         dtype=float).reshape(2, 2)
    grad = srcad.grad(_gp_negative_log_likelihood, wrt=(0, 1))
    step = np.eye(2) * 1e-5
    by_differences = np.array([
        (np.array(grad(*(np.array([-0.3, -1.0]) + step[i]), X, y))
         - np.array(grad(*(np.array([-0.3, -1.0]) - step[i]), X, y))) / 2e-5 for i in range(2)])
    assert np.allclose(hessian, by_differences, rtol=1e-6, atol=1e-8)


def _discounted_return_loss(rewards, gamma):
    """The reinforcement-learning idiom: discounted returns by an IIR filter run backwards."""
    from scipy.signal import lfilter

    returns = lfilter([1.0], [1.0, -gamma], rewards[::-1])[::-1]
    return np.sum(returns**2) / len(returns)


def _filters(x, b0, a1, w):
    from scipy.signal import lfilter

    smoothed = lfilter([b0, 0.3, 0.1], [1.0, a1, 0.2], x, axis=0)
    fir, final = lfilter(w, [2.0], x[:, 0], zi=np.array([0.1, 0.2]))
    iir, delays = lfilter([b0], [1.0, a1], x[:, 1], zi=np.array([0.3]))
    return np.sum(np.tanh(smoothed)) + np.sum(fir * fir) + np.sum(final) + iir @ iir + delays[0]


def _steady_state_filter(x):
    """The idiom for starting a filter in its steady state (lfilter_zi of constants was
    read as array-API code, and lfilter was then refused inside srcad: round 78a)."""
    from scipy.signal import lfilter, lfilter_zi

    b, a = np.array([0.2, 0.2]), np.array([1.0, -0.6])
    y, _ = lfilter(b, a, x, zi=lfilter_zi(b, a) * x[0])
    return np.sum(y**2)


def test_scipy_signal_lfilter_is_read_as_its_difference_equations():
    """``scipy.signal.lfilter`` (C code) is read as a stand-in that runs its direct form II
    transposed equations step by step (and, without feedback, its convolution): SciPy's
    values to the bit, checked against SciPy here, and gradients in the signal and the
    coefficients four ways (it was refused; round 77a)."""
    from scipy.signal import lfilter

    from srcad.stand_ins import lfilter as stand_in

    rng = np.random.default_rng(5)
    for b_size, a_size in ((1, 1), (3, 1), (1, 2), (3, 3), (2, 4)):
        b, a = rng.normal(size=b_size), rng.normal(size=a_size)
        a[0] = 1.5
        x = rng.normal(size=(3, 7))
        for axis in (-1, 0):  # (the same values, laid out alike: sums add in one order)
            mine, scipys = stand_in(b, a, x, axis=axis), lfilter(b, a, x, axis=axis)
            assert np.array_equal(mine, scipys) and mine.strides == scipys.strides
        delays = max(b_size, a_size) - 1
        if delays:
            zi = rng.normal(size=(3, delays))
            mine, scipys = stand_in(b, a, x, zi=zi), lfilter(b, a, x, zi=zi)
            assert all(np.array_equal(m, s) for m, s in zip(mine, scipys, strict=True))
    check_four_ways(_discounted_return_loss, rng.normal(size=10), 0.9)
    check_four_ways(_steady_state_filter, rng.normal(size=6))
    check_four_ways(_filters, rng.normal(size=(8, 2)), 0.7, -0.4, np.array([0.5, 0.3, 0.2]))


def _implicit_heat_steps(k, u0):
    """Backward Euler for the heat equation: the matrix factored once by lu_factor, each
    step a lu_solve (the implicit integrator's idiom)."""
    from scipy.linalg import lu_factor, lu_solve

    n = len(u0)
    a = np.eye(n) * (1 + 2 * k) - k * np.eye(n, k=1) - k * np.eye(n, k=-1)
    factors = lu_factor(a)
    u = u0
    for _ in range(4):
        u = lu_solve(factors, u)
    return np.sum(u**2)


def _lu_terms(a, b):
    from scipy.linalg import lu_factor, lu_solve

    lu, piv = lu_factor(a)
    x = lu_solve((lu, piv), b)
    y = lu_solve((lu, piv), np.outer(b, b), trans=1)
    return x @ x + np.sum(y) + np.sum(np.log(np.abs(np.diag(lu))))


def test_scipy_lu_factor_and_lu_solve():
    """``lu_factor`` (its rule: the packed factor's adjoint and tangent through ``L`` and
    ``U``, pivoting included) and ``lu_solve`` (read as a stand-in calling SciPy's solve,
    by a rule) were refused (round 77a). A pivoting matrix (small first entry) and
    ``trans=1`` are checked four ways."""
    rng = np.random.default_rng(2)
    a = rng.normal(size=(4, 4)) + 3.0 * np.eye(4)
    a[0, 0] = 0.1  # (the first pivot is another row)
    check_four_ways(_lu_terms, a, rng.normal(size=4))
    check_four_ways(_implicit_heat_steps, 0.3, rng.normal(size=5))


def _ar1_negative_log_likelihood(phi, scale, y):
    """An AR(1) series' Gaussian likelihood with its covariance a Toeplitz matrix of the
    autocovariances, as time-series code writes it."""
    from scipy.linalg import toeplitz

    n = len(y)
    K = toeplitz(scale * phi ** np.arange(n) / (1.0 - phi * phi))
    return 0.5 * y @ np.linalg.solve(K, y) + 0.5 * np.linalg.slogdet(K)[1]


def _structured_matrices(c, r, A):
    from scipy.linalg import block_diag, circulant, hankel, toeplitz

    M = block_diag(A, r[:2], 0.5, [[1.0]])
    return (np.sum(circulant(c) @ r[:4]) + np.sum(hankel(c, r) ** 2) + np.sum(toeplitz(c, r) * r)
            + np.sum(toeplitz(c) ** 2) + np.sum(M @ M.T) + np.trace(hankel(r)))


def test_scipys_structured_matrices_are_gathers_of_their_values():
    """``scipy.linalg.toeplitz``, ``circulant``, ``hankel`` and ``block_diag`` were refused
    (SciPy strides over one array of the values). srcad reads stand-ins that index the
    same values: bit for bit SciPy's matrices (and dtypes), with gradients four ways,
    and the AR(1) likelihood's Hessian against central differences of its gradient."""
    import scipy.linalg

    from srcad import stand_ins_scipy

    rng = np.random.default_rng(78)
    c, r, A = rng.normal(size=4), rng.normal(size=5), rng.normal(size=(2, 3))
    cases = {
        "toeplitz": [(c,), (c, r), (2.0,), (np.arange(3), np.arange(4)),
                     (rng.normal(size=(2, 3)), rng.normal(size=(2, 4)))],
        "circulant": [(c,), (rng.normal(size=(2, 3)),)],
        "hankel": [(c,), (c, r), (np.arange(3),)],
        "block_diag": [(A, r[:2], 0.5, [[1.0]]), (), (np.eye(2, dtype=int), np.zeros((2, 0))),
                       (rng.normal(size=(3, 2, 2)), rng.normal(size=(1, 3)))],
    }
    for name, calls in cases.items():
        for args in calls:
            theirs = getattr(scipy.linalg, name)(*args)
            mine = getattr(stand_ins_scipy, name)(*args)
            assert np.array_equal(mine, theirs) and mine.dtype == theirs.dtype, (name, args)
            assert mine.strides == theirs.strides, (name, args)  # (sums add alike)
    check_four_ways(_structured_matrices, c, r, A)
    y = np.array([0.3, -0.2, 0.5, 0.1, -0.4])
    check_four_ways(_ar1_negative_log_likelihood, 0.6, 1.3, y, wrt=(0, 1))
    hessian = np.asarray(srcad.hessian(_ar1_negative_log_likelihood, wrt=(0, 1))(0.6, 1.3, y),
                         dtype=float).reshape(2, 2)
    grad = srcad.grad(_ar1_negative_log_likelihood, wrt=(0, 1))
    step = 1e-5
    by_differences = np.array([
        (np.array(grad(0.6 + step * e[0], 1.3 + step * e[1], y))
         - np.array(grad(0.6 - step * e[0], 1.3 - step * e[1], y))) / (2 * step)
        for e in np.eye(2)
    ])
    np.testing.assert_allclose(hessian, by_differences, rtol=1e-6, atol=1e-7)


def _layer(x, W, act=np.tanh, out=None):
    h = act(x @ W)
    return h if out is None else out(h)


def _two_layers(W1, W2, x):
    return np.sum(_layer(_layer(x, W1), W2, act=np.sin, out=np.exp))


def test_a_helpers_default_function_is_called_as_that_function():
    """``def layer(x, W, act=np.tanh)`` called without ``act`` (round 99: refused as a
    call of an unknown object named `default`, with advice to define a rule): the
    default is a function srcad knows when it compiles, as a function passed is. Four
    ways."""
    rng = np.random.default_rng(99)
    W1, W2 = rng.normal(size=(3, 4)) * 0.5, rng.normal(size=(4, 2)) * 0.5
    x = rng.normal(size=(5, 3))
    check_four_ways(_two_layers, W1, W2, x, wrt=(0, 1))


def _norm_of(v, measure=np.linalg.norm):
    return measure(v)


def _penalised(w):
    return _norm_of(w) ** 2 + _norm_of(w, np.sum)


def test_a_default_that_is_one_of_numpys_dispatched_functions():
    """``measure=np.linalg.norm`` (numpy's dispatcher, not a plain function): round 100,
    refused as an unknown object named `default`."""
    check_four_ways(_penalised, np.array([0.7, -0.3, 1.2]))
