"""``srcad.check_grad`` (issue 18): a relative step, integer arrays left out of the
default ``wrt``, keyword(-only) parameters, and random directions for large arrays.

Each test that checks a pass also checks that a wrong gradient fails under the same
settings: a ``defgrad`` rule off by a factor ``1 + 1e-3`` (far above the tolerances,
``rtol = 1e-5``, and far below any rounding error of central differences with a
relative step, ~1e-9 relative for these smooth functions).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import srcad

WRONG = 1.001  # the factor of the wrong rules


def cube(x):
    return x * x * x


def cube_wrong(x):
    return x * x * x


@srcad.defgrad(cube_wrong)
def _cube_wrong_rule(g, ans, x):
    return WRONG * 3.0 * x * x * g


def uses_cube(x, y):
    return cube(x) * y


def uses_cube_wrong(x, y):
    return cube_wrong(x) * y


# ---------------------------------------------------------------- relative step


@pytest.mark.parametrize("x", [1e10, -3e7, 1.0, 0.5])
def test_relative_step_at_any_scale(x):
    """At x = 1e10 an absolute step of 1e-6 is below one ulp (x + h == x): the
    numeric derivative would be 0 and the check would fail falsely."""
    assert srcad.check_grad(uses_cube, x, 2.0) >= 0.0
    with pytest.raises(AssertionError, match="FAIL"):
        srcad.check_grad(uses_cube_wrong, x, 2.0)


def test_numeric_grad_uses_a_relative_step():
    got = srcad.numeric_grad(uses_cube, (1e10, 2.0), 0)
    assert got == pytest.approx(3 * 1e20 * 2.0, rel=1e-8)
    arrays = srcad.numeric_grad(sum_squares, (np.array([1e8, 3e8, -2e9]),), 0)
    np.testing.assert_allclose(arrays, 2 * np.array([1e8, 3e8, -2e9]), rtol=1e-8)


def sum_squares(x):
    return np.sum(x * x)


# ---------------------------------------------------------------- integer arrays


def softmax_loss(W, X, labels):
    z = X @ W
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(labels.shape[0]), labels])


def softmax_loss_wrong(W, X, labels):
    z = X @ W
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(cube_wrong(logp[np.arange(labels.shape[0]), labels] + 2.0))


def _softmax_point(seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(3, 4)), rng.normal(size=(5, 3)), np.array([0, 3, 1, 2, 0])


def test_integer_labels_are_left_out_of_the_default_wrt():
    """Before 0.2 the labels were perturbed by central differences: an IndexError."""
    W, X, labels = _softmax_point()
    assert srcad.check_grad(softmax_loss, W, X, labels) < 1e-7  # checks W and X
    with pytest.raises(AssertionError) as info:
        srcad.check_grad(softmax_loss_wrong, W, X, labels)
    table = str(info.value)
    assert " W " in table and " X " in table and "labels" not in table


def test_integer_scalars_and_bools_are_left_out_too():
    def scaled_power(x, n, flag):
        return x**n * (2.0 if flag else 1.0)

    assert srcad.check_grad(scaled_power, 1.3, 3, True) < 1e-7


# ---------------------------------------------------------------- keyword arguments


def with_scale(x, *, scale=1.0, shift=0.0):
    return cube(x * scale) + shift * x


def with_scale_wrong(x, *, scale=1.0, shift=0.0):
    return cube_wrong(x * scale) + shift * x


def test_keyword_only_wrt():
    assert srcad.check_grad(with_scale, 0.7, scale=2.0, wrt="scale") < 1e-6
    assert srcad.check_grad(with_scale, 0.7, scale=2.0, shift=1.5, wrt=("x", "shift")) < 1e-6
    with pytest.raises(AssertionError, match="scale"):
        srcad.check_grad(with_scale_wrong, 0.7, scale=2.0, wrt="scale")


def test_keyword_arguments_are_checked_by_default():
    assert srcad.check_grad(with_scale, 0.7, scale=2.0) < 1e-6
    with pytest.raises(AssertionError) as info:
        srcad.check_grad(with_scale_wrong, 0.7, scale=2.0)
    assert "scale" in str(info.value) and "x" in str(info.value)


def test_a_wrt_without_a_value_is_a_type_error():
    with pytest.raises(TypeError, match="needs a value for shift"):
        srcad.check_grad(with_scale, 0.7, wrt="shift")


# ---------------------------------------------------------------- random directions


def big_sum(x, w):
    return np.sum(np.sin(x) * w) + np.sum(cube(x))


def big_sum_wrong(x, w):
    return np.sum(np.sin(x) * w) + np.sum(cube_wrong(x))


def test_random_directions_on_a_large_array(capsys):
    """200,000 entries: two calls of f per direction instead of 400,000 per parameter."""
    rng = np.random.default_rng(7)
    x, w = rng.normal(size=200_000), rng.normal(size=200_000)
    assert srcad.check_grad(big_sum, x, w, directions=3, seed=1) < 1e-3
    with pytest.raises(AssertionError, match="FAIL"):
        srcad.check_grad(big_sum_wrong, x, w, directions=3, seed=1)
    srcad.check_grad(big_sum, x, w, directions=2, progress=True)
    assert "check_grad(big_sum): 4/4 calls" in capsys.readouterr().err


def test_random_directions_compare_forward_and_reverse_mode():
    rng = np.random.default_rng(8)
    x, w = rng.normal(size=50), rng.normal(size=50)
    srcad.check_grad(big_sum, x, w, directions=2)
    with pytest.raises(AssertionError) as info:
        srcad.check_grad(big_sum_wrong, x, w, directions=2)
    row = str(info.value).splitlines()[2]
    # the rule is reverse-mode only (defgrad): forward mode cannot build, so one product
    assert row.split()[0] == "#0" and "FAIL" in row


def cube_tangent_wrong(x):
    return x * x * x


srcad.defrule(
    "cube_tangent_wrong(x)",
    env={"cube_tangent_wrong": cube_tangent_wrong},
    x="3.0 * x * x * g",  # the reverse-mode rule is right...
    tangents={"x": f"{WRONG} * 3.0 * x * x * t"},  # ...the forward-mode one is not
)


def uses_tangent_wrong(x, w):
    return np.sum(cube_tangent_wrong(x) * w)


def test_random_directions_check_the_forward_mode_product_too():
    rng = np.random.default_rng(9)
    x, w = rng.normal(size=40), rng.normal(size=40)
    assert srcad.check_grad(uses_tangent_wrong, x, w) < 1e-7  # entries: reverse mode only
    with pytest.raises(AssertionError) as info:
        srcad.check_grad(uses_tangent_wrong, x, w, directions=2)
    products = str(info.value).splitlines()[2].split("  ")
    assert any("," in cell for cell in products), info.value  # (vjp, jvp) both shown


def test_progress_is_shown_only_for_many_calls(capsys):
    srcad.check_grad(sum_squares, np.linspace(-1, 1, 10))
    assert capsys.readouterr().err == ""
    srcad.check_grad(sum_squares, np.linspace(-1, 1, 1500))  # 3000 calls of f
    err = capsys.readouterr().err
    assert "check_grad(sum_squares): 3000/3000 calls" in err and err.endswith("\n")


def test_structured_arguments_in_both_modes():
    def model(params, x):
        return np.sum(np.tanh(params["w"] * x) + params["b"][0] * params["b"][1] ** 2)

    params = {"w": np.array([0.3, -0.2, 0.8]), "b": [0.5, -1.5]}
    x = np.array([1.0, 2.0, -0.5])
    assert srcad.check_grad(model, params, x) < 1e-7
    assert srcad.check_grad(model, params, x, directions=4) < 1e-7


def test_a_function_that_writes_into_its_arguments():
    """Each call of f (and the gradient's) gets fresh copies: before 0.2 the gradient's
    call doubled x and the central differences were taken there, a false failure."""

    def doubles(x, w):
        x *= 2.0
        return np.sum(x * x * w)

    x, w = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    assert srcad.check_grad(doubles, x, w) < 1e-6
    assert srcad.check_grad(doubles, x, w, directions=3) < 1e-6
    np.testing.assert_array_equal(x, [1.0, 2.0])  # the caller's arrays are left alone
    got = srcad.numeric_grad(doubles, (x, w), 0)
    np.testing.assert_allclose(got, 8 * x * w, rtol=1e-7)


def spring_over_edges(x, edges, k):
    e = 0.0
    for i, j, rest in edges:
        e += k * (x[i] - x[j] - rest) ** 2
    return e


def test_ints_in_rows_that_index_are_not_perturbed():
    """``edges = [(i, j, rest), ...]``: an int the function indexes with has no finite
    difference (it was perturbed into a float index: TypeError); ints used as numbers do."""
    x = [0.0, 1.1, 2.3, 2.9]
    edges = [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 0.5), (0, 3, 3.0)]
    assert srcad.check_grad(spring_over_edges, x, edges, 2.0, wrt=("x", "edges", "k")) < 1e-6
    numeric = srcad.numeric_grad(spring_over_edges, (x, edges, 2.0), 1)
    assert numeric[0][:2] == (0.0, 0.0)
    assert numeric[0][2] == pytest.approx(8.4, rel=1e-7)


def _ridge(w, X, y, lam):
    r = X @ w - y
    return r @ r + lam * w @ w


def test_a_keyword_a_partial_fixes_given_again_is_not_checked_by_default():
    """check_grad(p, w, lam=1.0) of a partial fixing lam: its default wrt took lam, which
    grad refuses for a partial ('pass lam as an argument' -- it was passed)."""
    X, y = np.array([[1.0, 0.5], [0.2, -1.0], [0.3, 0.3]]), np.array([1.0, 0.0, 2.0])
    p = functools.partial(_ridge, X=X, y=y, lam=1e-3)
    assert srcad.check_grad(p, np.array([0.4, -0.3]), lam=1.0) < 1e-6
