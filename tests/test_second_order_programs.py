"""Second derivatives of realistic programs: loops, branches, numpy, inlined helpers.

Each program is differentiated twice the ways users do it (``hessian``, ``hvp``,
``hessp``, ``grad`` of ``grad``, ``jacobian`` and ``jvp`` of ``grad``), and every result
is checked against central differences of srcad's first derivative (step 1e-6,
relative tolerance 1e-5 of the largest entry), and against SciPy's own Hessian where it
has one (``rosen_hess``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import marker_line

import srcad

RTOL = 1e-5
STEP = 1e-6


# ---------------------------------------------------------------- the programs


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_loop(x):
    total = 0.0
    for i in range(len(x) - 1):
        total = total + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return total


def poisson_nll(w, X, counts):
    rate = np.exp(X @ w)
    return np.sum(rate - counts * (X @ w)) + 0.5 * np.sum(w * w)


def softmax_xent(W, X, labels):
    z = X @ W
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(len(labels)), labels])


def rnn_loss(w, xs):
    h = 0.0
    total = 0.0
    for x in xs:
        h = math.tanh(w[0] * h + w[1] * x + w[2])
        total = total + (h - 0.5 * x) ** 2
    return total


def newton_root_cubed(a):
    x = a
    k = 0
    while k < 30:
        x = 0.5 * (x + a / x)
        if abs(x * x - a) < 1e-13:
            break
        k += 1
    return x * x * x


def gaussian_loglik(mu, log_sigma, data):
    sigma = math.exp(log_sigma)
    total = 0.0
    for value in data:
        z = (value - mu) / sigma
        total = total - 0.5 * z * z - log_sigma
    return total


def huber(w, X, y):
    r = X @ w - y
    small = np.abs(r) <= 1.0
    return np.sum(np.where(small, 0.5 * r * r, np.abs(r) - 0.5)) + 0.1 * np.sum(w * w)


def pendulum_chain_energy(theta):
    # gravity on each link plus springs between neighbours
    potential = -np.sum(np.cos(theta))
    return potential + 2.0 * np.sum(np.sin(np.diff(theta) / 2) ** 2)


def _pair_energy(r2):
    inv6 = 1.0 / (r2 * r2 * r2)
    return 4.0 * (inv6 * inv6 - inv6)


def lennard_jones(positions):
    energy = 0.0
    n = positions.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            d = positions[i] - positions[j]
            energy = energy + _pair_energy(np.sum(d * d))
    return energy


def damped_oscillator_end(k, c):
    x, v, dt = 1.0, 0.0, 0.01
    for _ in range(200):
        a = -k * x - c * v
        v = v + dt * a
        x = x + dt * v
    return x * x + 0.1 * v * v


def logistic_l2(w, X, y):
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z) + 0.05 * np.sum(w * w)


# ---------------------------------------------------------------- checks


def _gradient_differences(gradient, args, index, direction):
    """(gradient(args + h d) - gradient(args - h d)) / 2h along parameter ``index``."""
    plus, minus = list(args), list(args)
    plus[index] = args[index] + STEP * direction
    minus[index] = args[index] - STEP * direction
    return (np.asarray(gradient(*plus)) - np.asarray(gradient(*minus))) / (2 * STEP)


def _close(got, expected):
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    scale = max(1.0, float(np.max(np.abs(expected))))
    assert got.shape == expected.shape, (got.shape, expected.shape)
    assert float(np.max(np.abs(got - expected))) <= RTOL * scale, (got, expected)


def _numeric_hessian(f, args, index=0):
    gradient = srcad.grad(f, wrt=index)
    x = np.asarray(args[index], dtype=float)
    columns = []
    for position in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[position] = 1.0
        columns.append(_gradient_differences(gradient, args, index, e if x.shape else 1.0))
    stacked = np.array(columns)  # (x.size, *x.shape)
    return np.moveaxis(stacked.reshape(x.shape + x.shape), range(x.ndim), range(-x.ndim, 0))


def scaled_through_transpose(A):
    B = A.copy()
    Bt = B.T
    Bt[0] *= 3.0
    Bt[1] *= 2.0  # (a second write through the view: its tangent's view is re-derived)
    return np.sum(B ** 3)


def set_through_flat_view(A):
    B = A.copy()
    flat = B.reshape(-1)
    flat[3] = 0.7 * flat[0]
    flat[::4] *= flat[1]
    return np.sum(B ** 2 * A)


RNG = np.random.default_rng(7)
X_SMALL = RNG.normal(size=(8, 3))
ARRAY_PROGRAMS = [
    ("rosenbrock", rosenbrock, (np.array([1.2, 0.8, -0.5, 0.3]),)),
    ("rosenbrock_loop", rosenbrock_loop, (np.array([1.2, 0.8, -0.5, 0.3]),)),
    ("poisson_nll", poisson_nll, (np.array([0.1, -0.2, 0.3]), X_SMALL * 0.5,
                                  np.array([0.0, 1, 2, 1, 0, 3, 1, 2]))),
    ("softmax_xent", softmax_xent, (RNG.normal(size=(3, 4)), X_SMALL,
                                    np.array([0, 1, 2, 3, 0, 1, 2, 3]))),
    ("rnn_loss", rnn_loss, (np.array([0.5, -0.3, 0.1]), [0.1, 0.4, -0.2, 0.7])),
    ("huber", huber, (np.array([0.3, -0.4, 0.2]), X_SMALL,
                      np.array([0.1, 2.5, -0.3, 0.2, -2.0, 0.4, 0.0, 0.9]))),
    ("pendulum_chain_energy", pendulum_chain_energy, (np.array([0.3, -0.2, 0.5, 0.1]),)),
    ("lennard_jones", lennard_jones, (np.array([[0.0, 0.0], [1.1, 0.1], [0.2, 1.2]]),)),
    ("logistic_l2", logistic_l2, (np.array([0.2, -0.1, 0.3]), X_SMALL,
                                  (X_SMALL[:, 0] > 0).astype(float))),
    ("scaled_through_transpose", scaled_through_transpose, (np.arange(1.0, 7.0).reshape(2, 3),)),
    ("set_through_flat_view", set_through_flat_view, (np.arange(1.0, 7.0).reshape(2, 3) * 0.3,)),
]


@pytest.mark.parametrize("name, f, args", ARRAY_PROGRAMS, ids=[p[0] for p in ARRAY_PROGRAMS])
def test_hessian_hvp_and_jacobian_of_the_gradient(name, f, args):
    expected = _numeric_hessian(f, args)
    hessian = srcad.hessian(f)(*args)
    _close(hessian, expected)
    x = np.asarray(args[0], dtype=float)
    v = np.cos(np.arange(x.size)).reshape(x.shape)
    product = np.tensordot(expected, v, axes=x.ndim)
    _close(srcad.hvp(f)(*args, v), product)
    _close(srcad.hessp(f)(args[0], v, *args[1:]), product)
    _close(srcad.jacobian(srcad.grad(f))(*args), expected)
    tangents = (v,) + tuple(np.zeros_like(np.asarray(a, dtype=float)) if np.ndim(a) else 0.0
                            for a in args[1:])
    if all(not isinstance(a, list) for a in args):
        value, tangent = srcad.jvp(srcad.grad(f))(args, tangents)
        _close(value, srcad.grad(f)(*args))
        _close(tangent, product)


def test_rosenbrock_hessians_equal_scipys():
    optimize = pytest.importorskip("scipy.optimize")
    x = np.array([1.2, 0.8, -0.5, 0.3, 2.0])
    for f in (rosenbrock, rosenbrock_loop):
        np.testing.assert_allclose(srcad.hessian(f)(x), optimize.rosen_hess(x), rtol=1e-12)
        np.testing.assert_allclose(srcad.grad(f)(x), optimize.rosen_der(x), rtol=1e-12)


SCALAR_PROGRAMS = [
    ("newton_root_cubed", newton_root_cubed, (2.0,)),
    ("gaussian_loglik", gaussian_loglik, (0.3, -0.2, [0.1, 0.5, -0.4, 1.2])),
    ("damped_oscillator_end", damped_oscillator_end, (4.0, 0.3)),
]


@pytest.mark.parametrize("name, f, args", SCALAR_PROGRAMS, ids=[p[0] for p in SCALAR_PROGRAMS])
def test_grad_of_grad_every_pair(name, f, args):
    floats = [k for k, a in enumerate(args) if isinstance(a, float)]
    for i in floats:
        first = srcad.grad(f, wrt=i)
        for j in floats:
            got = srcad.grad(first, wrt=j)(*args)
            _close(got, _gradient_differences(first, args, j, 1.0))
    if len(floats) > 1:
        H = srcad.hessian(f, wrt=tuple(floats))(*args)
        for i in floats:
            for j in floats:
                _close(H[floats.index(i), floats.index(j)],
                       srcad.grad(srcad.grad(f, wrt=i), wrt=j)(*args))


def test_newton_root_cubed_exactly():
    # x -> sqrt(a): f = a ** 1.5, f'' = 0.75 / sqrt(a)
    assert srcad.grad(srcad.grad(newton_root_cubed))(2.0) == pytest.approx(
        0.75 / math.sqrt(2.0), rel=1e-10)


def spread(x):
    return np.var(x) * np.sum(x) + np.std(x) * np.sum(np.cumprod(x)) * np.linalg.norm(x)


def test_tangent_helpers_with_star_args_and_f_string_errors_are_differentiated_again():
    """The tangent helpers of np.var, np.std, np.cumprod and np.linalg.norm are read as
    library code (``*args``, ``raise ValueError(f"...")``, options decided early)."""
    x = np.array([0.5, -0.3, 1.2])
    H = srcad.hessian(spread)(x)
    gradient = srcad.grad(spread)
    columns = [(gradient(x + 1e-6 * e) - gradient(x - 1e-6 * e)) / 2e-6 for e in np.eye(3)]
    np.testing.assert_allclose(H, np.array(columns), rtol=1e-6, atol=1e-8)


def determinant(x):
    return np.linalg.det(np.outer(x, x) + np.eye(3))


def test_the_tangent_of_det_is_differentiated_again_on_the_path_it_takes():
    """det(I + x x^T) = 1 + |x|^2: the Hessian is 2 I. The tangent helper of np.linalg.det
    is read as library code, and its branch for singular matrices, which srcad cannot
    differentiate again, is refused only if it is taken."""
    H = srcad.hessian(determinant)(np.array([0.5, -0.3, 1.2]))
    np.testing.assert_allclose(H, 2.0 * np.eye(3), atol=1e-12)


def spectral_norm(x):
    return np.linalg.norm(np.outer(x, x) + np.eye(3), 2)


def polar_trace(a):
    u, s, vt = np.linalg.svd(a, full_matrices=False)  # <polar>
    return np.trace(u @ vt) + np.sum(s**3)


def test_second_derivatives_through_singular_vectors():
    """The tangent helper of np.linalg.norm(..., 2) takes singular vectors, which srcad
    differentiates since stop 43: the spectral norm of x x^T + I is |x|^2 + 1, whose
    Hessian is 2 I (it was refused before)."""
    hessian = srcad.hessian(spectral_norm)(np.array([0.5, -0.3, 1.2]))
    np.testing.assert_allclose(hessian, 2.0 * np.eye(3), atol=1e-12)


def test_a_tangent_srcad_cannot_differentiate_again_is_refused_at_the_users_line():
    # the tangent helper of np.linalg.svd with its vectors checks its arguments (code
    # srcad does not read again); the error names the numpy call and the user's line,
    # never the generated tangent function
    with pytest.raises(srcad.UnsupportedSyntaxError) as info:
        srcad.hessian(polar_trace)(np.random.default_rng(0).normal(size=(3, 2)))
    error = info.value
    assert "np.linalg.svd" in error.message
    assert "second derivative of polar_trace" in error.message
    assert error.filename == __file__, error.filename
    assert error.lineno == marker_line(__file__, "polar")


class Model:
    def __init__(self, w):
        self.w = w

    def loss(self, x):
        return np.sum(np.tanh(self.w * x) ** 2)


def test_second_derivatives_of_a_bound_method_are_refused_with_the_way_around():
    model, x = Model(np.array([0.5, -1.0])), np.array([0.3, 0.2])
    with pytest.raises(srcad.UnsupportedSyntaxError) as info:
        srcad.hessian(model.loss)(x)
    assert info.value.filename == __file__
    assert "srcad.hessian(Model.loss, wrt=...)" in info.value.hint
    # the way around it, as the hint says
    _close(srcad.hessian(Model.loss, wrt=1)(model, x), _numeric_hessian(Model.loss, (model, x), 1))


SYMMETRIC = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, 0.2], [0.1, 0.2, 1.0]])


def squared_eigenvalues(x):
    return np.sum(np.linalg.eigh(np.outer(x, x) + SYMMETRIC)[0] ** 2)


def test_hessian_through_eigh_has_no_nan():
    """sum(eigenvalues^2) = |M|_F^2 with M = A + x x^T: its Hessian is 4 (|x|^2 I + 2 x x^T)
    + 4 A. The eigenvectors' tangent divides by the gaps between eigenvalues; its diagonal
    was 1/0 overwritten by 0, and differentiated again gave 0 * inf = NaN everywhere."""
    x = np.array([0.5, -0.3, 1.2])
    expected = 4.0 * ((x @ x) * np.eye(3) + 2.0 * np.outer(x, x)) + 4.0 * SYMMETRIC
    np.testing.assert_allclose(srcad.hessian(squared_eigenvalues)(x), expected, atol=1e-9)


def _grown_list(k):
    xs = [1.0]
    for _ in range(3):
        xs.append(xs[-1] * k)
    return xs[-1]


def _grown_in_a_branch(x, items):
    out = []
    for k in range(2):
        new = items[k]
        if new.ndim != 1:
            raise ValueError("one axis only")
        out.append(new * x)
    return np.sum(out[0] * out[1])


def test_second_derivatives_of_lists_grown_in_loops():
    """The forward-mode code of a list a loop grows (``xs.append``; one branch raising
    before it) is read again as the list it grows: k^3 has second derivative 6k; numpy's
    own index lists (np.ix_, np.triu_indices, np.tensordot) are such loops too."""
    assert srcad.hessian(_grown_list)(0.7) == pytest.approx(6 * 0.7, rel=1e-12)
    items = [np.array([1.0, 2.0]), np.array([0.5, -1.0])]
    assert srcad.hessian(_grown_in_a_branch)(0.3, items) == pytest.approx(2 * (0.5 - 2.0))

    def gathered(x):
        m = np.outer(x, x) + np.eye(3)
        return np.sum(m[np.ix_([0, 2], [1, 2])] ** 2) + np.sum(m[np.triu_indices(3, 1)] ** 3)

    x = np.array([0.3, -0.7, 1.1])
    gradient = srcad.grad(gathered)
    numeric = np.array(
        [(gradient(x + 1e-6 * e) - gradient(x - 1e-6 * e)) / 2e-6 for e in np.eye(3)]
    )
    np.testing.assert_allclose(srcad.hessian(gathered)(x), numeric, rtol=1e-6, atol=1e-7)


def _power_sum(x, power=2):
    return np.sum(x**power)


def _power_sum_given(x, power):
    return np.sum(x**power)


def _with_noise(x, noise=0.0):
    return np.sum(x**2) + np.sqrt(noise) * np.sum(x)


def test_parameters_not_differentiated_are_constants_in_forward_mode():
    """x ** p of a negative x has no derivative in p (log of a negative number): a
    parameter left out of ``wrt`` (a default, or given but not differentiated) must not
    add a nan * 0 term to jvp, hvp or the Hessian; neither must sqrt(0) of one."""
    import srcad

    x = np.array([-1.5, 0.5, 2.0])
    v = np.array([1.0, 0.0, 0.0])
    np.testing.assert_allclose(srcad.jvp(_power_sum, (x,), (v,))[1], 2 * x @ v)
    np.testing.assert_allclose(srcad.hvp(_power_sum)(x, v), 2 * v)
    np.testing.assert_allclose(srcad.hessian(_power_sum)(x), 2 * np.eye(3))
    np.testing.assert_allclose(srcad.hessian(_power_sum_given, argnums=0)(x, 2), 2 * np.eye(3))
    np.testing.assert_allclose(srcad.hvp(_with_noise)(x[:2], v[:2]), 2 * v[:2])
    assert srcad.jvp(_with_noise, (x[:2],), (v[:2],))[1] == pytest.approx(2 * x[:2] @ v[:2])


def _overwrites_first(x):
    x[0] = x[1] * x[2]
    return float(np.sum(x**2))


def test_second_derivatives_of_a_function_that_writes_into_its_parameter():
    """The copies the derivatives make of such a parameter (fresh_arguments, snapshot)
    are read again by the second derivative: they have rules (it was refused)."""
    import srcad

    x = np.array([0.5, -1.2, 0.8])
    a, b = x[1], x[2]
    want = np.array([[0.0, 0.0, 0.0],
                     [0.0, 2 * b * b + 2, 4 * a * b],
                     [0.0, 4 * a * b, 2 * a * a + 2]])
    np.testing.assert_allclose(srcad.hessian(_overwrites_first)(x.copy()), want, rtol=1e-12)
    product = srcad.hvp(_overwrites_first)(x.copy(), np.ones(3))
    np.testing.assert_allclose(product, want @ np.ones(3), rtol=1e-12)
    keep = x.copy()
    srcad.hessian(_overwrites_first)(x)
    np.testing.assert_array_equal(x, keep)


def history_written_by_item(a, b):
    hist = [0.0] * 3
    hist[0] = math.tanh(-a)
    for j in range(1, 3):
        hist[j] = -0.5 * hist[j - 1] + math.sin(a ** 2 * j) * b
    hist[-1] += a * b
    return hist[-1] * hist[0]


def test_a_list_written_item_by_item_in_a_loop_has_a_hessian():
    """``hist[j] = v`` on a list is ``list_replaced(hist, j, v)``, linear in the list and
    the item at once: its tangent is ``list_replaced(hist_dot, j, v_dot)``, one list. (The
    sum of two partial lists was read again as a list growing in the loop, and refused.)"""
    H = srcad.hessian(history_written_by_item, wrt=(0, 1))(0.3, 0.7)
    g = srcad.grad(history_written_by_item, wrt=(0, 1))
    h = 1e-6
    for k in range(2):
        step = [0.0, 0.0]
        step[k] = h
        plus, minus = g(0.3 + step[0], 0.7 + step[1]), g(0.3 - step[0], 0.7 - step[1])
        column = (np.array(plus) - np.array(minus)) / (2 * h)
        np.testing.assert_allclose(H[:, k], column, rtol=1e-6, atol=1e-8)


def rows_scaled_in_a_loop(A):
    B = A.copy()
    for row in B:
        row *= 2.0  # (forward mode's loop_items(B) is read again as the loop's gate)
    return np.sum(B ** 3)


def test_rows_written_in_a_loop_have_second_derivatives():
    """``for row in B: row *= 2`` writes B through its rows: forward mode's code for it
    (``loop_items``, ``loop_items_tangent``) is read again with the rules of a loop over
    B, so the rows stay views of B (it was refused as views from another iteration)."""
    A = np.arange(1.0, 7.0).reshape(2, 3)
    _close(srcad.hessian(rows_scaled_in_a_loop)(A), _numeric_hessian(rows_scaled_in_a_loop, (A,)))


def distances_after_an_early_return(x, y):
    for i in range(3):
        x = x * 0.5 + math.sin(x * i)
        if x > 1.618:
            return y
    pts = np.array([np.tanh(x), 1.0 + y, 2.0])
    col = (pts[:, None] - pts[None, :]) ** 2
    return np.mean(np.where(col > 0, np.sqrt(col), 0.0))  # (sqrt at 0 on the diagonal)


def test_a_selection_after_an_early_return_keeps_its_mask_in_second_derivatives():
    """After a loop with an early return, forward mode's code computes the rest on the
    path that did not return and sets it to None on the other; those placeholders are
    not definitions of the np.where's condition, so its mask still keeps sqrt's infinite
    derivative at 0 out (the hvp was nan; found by the random programs)."""
    g = srcad.grad(distances_after_an_early_return, wrt=(0, 1))
    direction = (1.0, -0.5)
    h = 1e-6
    plus, minus = g(1.65 + h, 0.77 - 0.5 * h), g(1.65 - h, 0.77 + 0.5 * h)
    expected = (np.array(plus) - np.array(minus)) / (2 * h)
    got = srcad.hvp(distances_after_an_early_return, wrt=(0, 1))(1.65, 0.77, direction)
    np.testing.assert_allclose(got, expected, atol=1e-7)


def _tempered(x, c):
    return c * math.tanh(x / c)


@srcad.defgrad(_tempered)
def _tempered_rule(g, ans, x, c):
    inner = math.tanh(x / c)
    return g * (1.0 - inner * inner), g * (inner - x / c * (1.0 - inner * inner))


def tempered_loss(x, c):
    return _tempered(x * x, c) ** 2 + x * c


def test_second_derivatives_of_a_function_with_a_defgrad_rule():
    """``grad(grad(f))`` differentiates the user's rule's code again (the gradient calls
    it); forward mode (``hessian``, ``hvp``, ``jacobian``) differentiates the code of the
    function the rule is for. Both were refused (`del` cannot be differentiated; no
    tangent rule)."""
    g = srcad.grad(tempered_loss, wrt=(0, 1))
    x, c, h = 0.7, 1.3, 1e-6
    columns = [(np.array(g(x + h, c)) - np.array(g(x - h, c))) / (2 * h),
               (np.array(g(x, c + h)) - np.array(g(x, c - h))) / (2 * h)]
    expected = np.array(columns).T
    np.testing.assert_allclose(srcad.hessian(tempered_loss, wrt=(0, 1))(x, c), expected,
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(srcad.hvp(tempered_loss, wrt=(0, 1))(x, c, (1.0, -0.5)),
                               expected @ [1.0, -0.5], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(srcad.grad(srcad.grad(tempered_loss))(x, c), expected[0, 0],
                               rtol=1e-6)
    np.testing.assert_allclose(srcad.jacobian(g)(x, c), expected[:, 0], rtol=1e-6, atol=1e-8)


def best_two(thetas, x):
    losses = [(math.sin(th * x) - 0.3) ** 2 + 0.1 * th * th for th in thetas]
    ranked = sorted(losses)
    return ranked[0] + 0.5 * ranked[1]


def test_sorted_numbers_have_second_derivatives():
    """The tangent of ``sorted`` (the tangents in the items' sorted order) has a rule of
    its own, so reverse mode over forward mode's code reads it (it was refused)."""
    thetas, x, h = [0.3, -1.2, 0.8, 1.5], 0.9, 1e-6
    d = ([1.0, 0.0, -0.5, 0.2], 0.3)
    g = srcad.grad(best_two, wrt=(0, 1))
    plus = g([a + h * b for a, b in zip(thetas, d[0])], x + h * d[1])
    minus = g([a - h * b for a, b in zip(thetas, d[0])], x - h * d[1])
    got = srcad.hvp(best_two, wrt=(0, 1))(thetas, x, d)
    for a, p, m in zip(got, plus, minus):
        np.testing.assert_allclose(a, (np.asarray(p) - np.asarray(m)) / (2 * h), atol=1e-7)


def powers_of_both(x, n):
    return (x - 2.0) ** n * 0.5 + np.sum(np.power(np.array([x, 1.5]), n)) + math.pow(x, n)


def int_power_of_a_negative_base(x, y, n=3):
    return (x - 2.0) ** n * y


def test_the_exponents_tangent_is_zero_where_the_exponent_does_not_move():
    """``x ** n``'s tangent along ``n`` is ``log(x) * ans * n_dot``, and exactly 0 where
    ``n_dot`` is 0: an int power of a negative base has no log (jvp gave nan there);
    its rule, read again, gives the Hessian in the base and the exponent."""
    value, tangent = srcad.jvp(int_power_of_a_negative_base)((0.7, 1.3, 3), (1.0, 0.0, 0))
    assert tangent == pytest.approx(3 * (0.7 - 2.0) ** 2 * 1.3, rel=1e-12)
    H = srcad.hessian(int_power_of_a_negative_base, wrt=(0, 1))(0.7, 1.3)
    np.testing.assert_allclose(H, [[6 * (0.7 - 2.0) * 1.3, 3 * (0.7 - 2.0) ** 2],
                                   [3 * (0.7 - 2.0) ** 2, 0.0]], rtol=1e-12)
    g = srcad.grad(powers_of_both, wrt=(0, 1))
    x, n, h = 3.1, 2.3, 1e-6
    columns = [(np.array(g(x + h, n)) - np.array(g(x - h, n))) / (2 * h),
               (np.array(g(x, n + h)) - np.array(g(x, n - h))) / (2 * h)]
    _close(srcad.hessian(powers_of_both, wrt=(0, 1))(x, n), np.array(columns).T)


def _xlogy(a, b):
    import scipy.special as special

    return special.xlogy(a, b)


def _xlog1py_of_itself(x):
    import scipy.special as special

    return special.xlog1py(x, x)


def test_mixed_second_derivatives_of_xlogy_where_x_is_zero():
    """Round 64a: ``x / y`` guarded where ``x == 0`` (xlogy's derivative in y) had the
    derivative 0 in x there, so the Hessian of xlogy(a, b) at a = 0 lost its mixed term
    (not even symmetric), and xlog1py(x, x)'' at 0 was 1, not 2."""
    np.testing.assert_allclose(
        srcad.hessian(_xlogy, wrt=(0, 1))(0.0, 2.0), [[0.0, 0.5], [0.5, 0.0]], atol=1e-15
    )
    assert srcad.hessian(_xlog1py_of_itself)(0.0) == pytest.approx(2.0, rel=1e-14)
