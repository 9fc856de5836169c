"""Calling conventions shared with JAX, autograd and Tangent (issue 18).

* the default ``wrt`` is the first parameter; ``argnums=`` is accepted with JAX's
  meaning (an int gives the bare value, a tuple a tuple);
* ``has_aux=True`` (``f`` returns ``(value, aux)``), ``srcad.vjp(f, *primals)`` and
  ``srcad.jvp(f, primals, tangents)``;
* ``jacobian``, ``hessian`` and ``hvp`` take keyword arguments and dict, list and tuple
  parameters, and a bad ``wrt`` is a ``SrcadError``.

Tolerances: derivatives with a closed form are compared with it to 1e-12 relative (a
few roundings of O(1) terms); the others with central differences of step
``h = 1e-6 * max(1, |x|)``, whose error (truncation ``h**2 |f'''| / 6`` plus rounding
``~1e-16 |f| / h``) is below 1e-8 for these O(1) functions, hence rtol 1e-6 and
atol 1e-8 — far below the O(1) error of a wrong derivative.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

import srcad

EXACT = 1e-12
CD_RTOL, CD_ATOL = 1e-6, 1e-8
ROOT = Path(__file__).resolve().parents[1]


def central(f, args, index, eps=1e-6, kwargs=None):
    """Central differences of scalar ``f`` with respect to ``args[index]`` (a float or
    an array), independent of srcad."""
    kwargs = kwargs or {}
    value = args[index]

    def at(new):
        call = list(args)
        call[index] = new
        return float(f(*call, **kwargs))

    if np.ndim(value) == 0:
        h = eps * max(1.0, abs(value))
        return (at(value + h) - at(value - h)) / ((value + h) - (value - h))
    out = np.zeros(np.shape(value))
    for k in np.ndindex(*np.shape(value)):
        h = eps * max(1.0, abs(value[k]))
        plus, minus = value.astype(float), value.astype(float)
        plus[k] += h
        minus[k] -= h
        out[k] = (at(plus) - at(minus)) / (plus[k] - minus[k])
    return out


# ---------------------------------------------------------------- default wrt, argnums


def f3(x, y, z):
    return x * y + math.sin(z) * x


def f3_grad(x, y, z):
    return (y + math.sin(z), x, math.cos(z) * x)


def power(x, n=3):
    return x**n


def mlp_loss(W1, b1, W2, b2, X, labels):
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(labels.shape[0]), labels])


def mlp_point(seed=0):
    rng = np.random.default_rng(seed)
    return (
        0.5 * rng.normal(size=(4, 5)),
        0.1 * rng.normal(size=5),
        0.5 * rng.normal(size=(5, 3)),
        0.1 * rng.normal(size=3),
        rng.normal(size=(6, 4)),
        np.array([0, 2, 1, 1, 0, 2]),
    )


def test_default_wrt_is_the_first_parameter():
    got = srcad.grad(f3)(1.5, -2.0, 0.7)
    assert isinstance(got, float)
    assert got == pytest.approx(f3_grad(1.5, -2.0, 0.7)[0], rel=EXACT)
    value, got = srcad.value_and_grad(f3)(1.5, -2.0, 0.7)
    assert value == f3(1.5, -2.0, 0.7) and got == pytest.approx(1.5 * 0 - 2.0 + math.sin(0.7))


def test_default_wrt_leaves_a_count_alone():
    """``f(x, n=3)``: the gradient is d/dx, not a tuple with d/dn."""
    assert srcad.grad(power)(2.0) == 12.0
    assert srcad.grad(power)(2.0, 4) == 32.0


def test_default_wrt_of_an_mlp_is_its_first_weight_matrix():
    """Not six gradients (with respect to data and integer labels): one, for W1."""
    args = mlp_point()
    got = srcad.grad(mlp_loss)(*args)
    assert isinstance(got, np.ndarray) and got.shape == args[0].shape
    np.testing.assert_allclose(got, central(mlp_loss, args, 0), rtol=CD_RTOL, atol=CD_ATOL)


def test_scipy_minimize_with_args_and_jac():
    """``minimize(f, x0, args=(X, y), jac=srcad.grad(f))``: SciPy passes the data after
    the parameters, and the gradient must be with respect to the parameters only."""
    optimize = pytest.importorskip("scipy.optimize")

    def least_squares(w, X, y):
        r = X @ w - y
        return 0.5 * np.sum(r * r) + 0.05 * np.sum(w * w)

    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    result = optimize.minimize(
        least_squares, np.zeros(3), args=(X, y), jac=srcad.grad(least_squares), method="BFGS"
    )
    assert result.success
    exact = np.linalg.solve(X.T @ X + 0.1 * np.eye(3), X.T @ y)  # the normal equations
    np.testing.assert_allclose(result.x, exact, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "argnums, want",
    [
        (0, 0),
        (2, 2),
        (-1, 2),
        ((0,), (0,)),
        ((2, 0), (2, 0)),
        ([0, 1, 2], (0, 1, 2)),
    ],
)
def test_argnums_has_jax_meaning(argnums, want):
    exact = f3_grad(1.5, -2.0, 0.7)
    got = srcad.grad(f3, argnums=argnums)(1.5, -2.0, 0.7)
    if isinstance(want, int):
        assert not isinstance(got, tuple)
        assert got == pytest.approx(exact[want], rel=EXACT)
    else:
        assert isinstance(got, tuple) and len(got) == len(want)
        assert got == pytest.approx(tuple(exact[i] for i in want), rel=EXACT)
    value, grads = srcad.value_and_grad(f3, argnums=argnums)(1.5, -2.0, 0.7)
    assert value == f3(1.5, -2.0, 0.7)
    assert type(grads) is type(got) and grads == pytest.approx(got, rel=EXACT)


def test_wrt_of_one_name_stays_bare_unlike_argnums_of_one():
    assert isinstance(srcad.grad(f3, wrt=(1,))(1.5, -2.0, 0.7), float)
    assert isinstance(srcad.grad(f3, argnums=(1,))(1.5, -2.0, 0.7), tuple)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"wrt": 0, "argnums": 0}, "both wrt= and argnums= are given"),
        ({"argnums": 3}, "out of range"),
        ({"argnums": (0, 0)}, "twice"),
        ({"argnums": 1.5}, "parameter names or positions"),
        ({"argnums": ()}, "wrt is empty"),
    ],
)
def test_bad_argnums_is_a_wrt_error(kwargs, message):
    for make in (srcad.grad, srcad.value_and_grad):
        with pytest.raises(srcad.WrtError) as info:
            make(f3, **kwargs)
        assert message in str(info.value)
        assert info.value.filename in (__file__, f3.__code__.co_filename)


def test_version_is_bumped_in_both_places():
    pyproject = (ROOT / "pyproject.toml").read_text()  # (no tomllib before Python 3.11)
    version = re.search(r'^version = "(.*)"$', pyproject, flags=re.M).group(1)
    assert srcad.__version__ == version == "0.3.0"


# ---------------------------------------------------------------- has_aux


def loss_with_stats(w, x):
    pred = np.tanh(x * w)
    err = pred - 0.5
    value = np.sum(err * err)
    return value, {"pred": pred, "worst": np.max(np.abs(err)), "label": "mse"}


def scalar_with_aux(x, y):
    z = x * x * y
    return z + math.sin(y), (z, "note")


def test_grad_has_aux_returns_the_gradient_and_any_aux():
    w, x = np.array([0.3, -0.8, 1.1]), np.array([1.0, 2.0, -0.5])
    g, aux = srcad.grad(loss_with_stats, has_aux=True)(w, x)
    pred = np.tanh(x * w)
    np.testing.assert_allclose(g, 2 * (pred - 0.5) * (1 - pred * pred) * x, rtol=EXACT)
    assert set(aux) == {"pred", "worst", "label"} and aux["label"] == "mse"
    np.testing.assert_array_equal(aux["pred"], pred)
    assert aux["worst"] == np.max(np.abs(pred - 0.5))


def test_value_and_grad_has_aux_returns_the_pair_and_the_gradient():
    (value, aux), (dx, dy) = srcad.value_and_grad(scalar_with_aux, wrt=(0, 1), has_aux=True)(
        1.5, 0.3
    )
    assert value == 1.5 * 1.5 * 0.3 + math.sin(0.3) and aux == (1.5 * 1.5 * 0.3, "note")
    assert (dx, dy) == pytest.approx((2 * 1.5 * 0.3, 1.5 * 1.5 + math.cos(0.3)), rel=EXACT)
    (value, aux), (dy,) = srcad.value_and_grad(scalar_with_aux, argnums=(1,), has_aux=True)(
        1.5, 0.3
    )
    assert dy == pytest.approx(1.5 * 1.5 + math.cos(0.3), rel=EXACT)


def test_has_aux_as_a_decorator():
    @srcad.grad(has_aux=True)
    def f(x):
        return x**3, {"x": x}

    assert f(2.0) == (12.0, {"x": 2.0})


def three_values(x):
    return x * x, x, 2.0 * x


def returns_a_number(x):
    pair = x * x
    return pair


def test_has_aux_refuses_a_return_that_is_not_a_pair():
    with pytest.raises(srcad.UnsupportedSyntaxError) as info:
        srcad.grad(three_values, has_aux=True)
    assert "must return a pair (value, aux), not 3 values" in str(info.value)
    assert info.value.lineno == three_values.__code__.co_firstlineno + 1
    gradient = srcad.grad(returns_a_number, has_aux=True)
    with pytest.raises(srcad.NonScalarOutputError) as info:
        gradient(2.0)
    assert "must return a pair (value, aux), but it returned a float" in str(info.value)


def test_has_aux_gradient_is_cached_apart_from_the_plain_one():
    with_aux = srcad.grad(scalar_with_aux, wrt=(0, 1), has_aux=True)
    with pytest.raises(srcad.NonScalarOutputError):  # a pair without has_aux: as before
        srcad.grad(scalar_with_aux, wrt=(0, 1))
    assert with_aux(1.5, 0.3)[1] == (1.5 * 1.5 * 0.3, "note")


def residuals_with_aux(w, x, *, scale=2.0):
    r = np.tanh(w * x) * scale
    return r, {"worst": float(np.max(np.abs(r)))}


def test_jacobian_hessian_and_hvp_take_has_aux_as_in_jax():
    """``has_aux=True`` on jacobian, hessian and hvp (round 65b: a TypeError from inside
    srcad): ``(derivative, aux)``, the aux of ``f`` at the same arguments."""
    w, x = np.array([0.3, -0.8]), np.array([1.0, 2.0])
    J, aux = srcad.jacobian(residuals_with_aux, has_aux=True)(w, x, scale=3.0)
    np.testing.assert_allclose(J, np.diag(3.0 * (1 - np.tanh(w * x) ** 2) * x), rtol=EXACT)
    assert aux == {"worst": float(np.max(np.abs(3.0 * np.tanh(w * x))))}
    H, aux = srcad.hessian(scalar_with_aux, wrt=(0, 1), has_aux=True)(1.5, 0.3)
    np.testing.assert_allclose(H, [[0.6, 3.0], [3.0, -math.sin(0.3)]], rtol=EXACT)
    assert aux == (1.5 * 1.5 * 0.3, "note")
    Hv, aux = srcad.hvp(scalar_with_aux, has_aux=True)(1.5, 0.3, 2.0)
    assert Hv == pytest.approx(2 * 0.3 * 2.0, rel=EXACT) and aux[1] == "note"


# ---------------------------------------------------------------- vjp and jvp


def two_layer(w, x):
    return np.tanh(w @ x)


def test_vjp_matches_the_jacobian_transposed():
    rng = np.random.default_rng(5)
    w, x = rng.normal(size=(2, 3)), rng.normal(size=3)
    out, vjp_fn = srcad.vjp(two_layer, w, x)
    np.testing.assert_array_equal(out, two_layer(w, x))
    ct = np.array([0.7, -1.3])
    dw, dx = vjp_fn(ct)
    s = 1 - np.tanh(w @ x) ** 2  # d tanh
    np.testing.assert_allclose(dw, np.outer(ct * s, x), rtol=EXACT)
    np.testing.assert_allclose(dx, w.T @ (ct * s), rtol=EXACT)
    # a second cotangent reuses the same function
    (dx_only,) = srcad.vjp(sum_sin, x)[1](2.0)
    np.testing.assert_allclose(dx_only, 2.0 * np.cos(x), rtol=EXACT)


def sum_sin(x):
    return np.sum(np.sin(x))


def test_vjp_of_one_primal_is_a_tuple_of_one_and_keeps_defaults():
    out, vjp_fn = srcad.vjp(power, 2.0)
    assert out == 8.0 and vjp_fn(1.0) == (12.0,)
    out, vjp_fn, aux = srcad.vjp(scalar_with_aux, 1.5, 0.3, has_aux=True)
    assert aux == (1.5 * 1.5 * 0.3, "note")
    assert vjp_fn(2.0) == pytest.approx(
        (2 * 2 * 1.5 * 0.3, 2 * (1.5 * 1.5 + math.cos(0.3))), rel=EXACT
    )


def encoder(x, scale):
    mean = np.tanh(x[:2] * scale)
    logvar = np.cumsum(x) * 0.5
    return mean, (logvar, scale * x[0], mean)  # (mean twice: its cotangents add)


def test_vjp_of_a_tuple_result_takes_a_tuple_cotangent():
    """As JAX's vjp: the cotangent has the structure of the result; ``vjp_fn`` returns
    ``sum_k cotangent_k @ J_k`` for each primal."""
    x, scale = np.array([0.3, -0.2, 0.5]), 2.0
    out, vjp_fn = srcad.vjp(encoder, x, scale)
    assert out[1][1] == encoder(x, scale)[1][1]
    ct = (np.array([1.0, -0.5]), (np.array([1.0, 0.0, 2.0]), 3.0, np.array([0.25, 2.0])))
    dx, dscale = vjp_fn(ct)

    def contracted(x, scale):  # <cotangent . result>, whose gradient vjp_fn gives
        mean, (logvar, first, again) = encoder(x, scale)
        return (np.sum(ct[0] * mean) + np.sum(ct[1][0] * logvar) + ct[1][1] * first
                + np.sum(ct[1][2] * again))

    want_x, want_scale = srcad.grad(contracted, wrt=(0, 1))(x, scale)
    np.testing.assert_allclose(dx, want_x, rtol=EXACT)
    assert dscale == pytest.approx(want_scale, rel=EXACT)
    with pytest.raises(ValueError, match="cotangent of the result's shape"):
        vjp_fn((np.ones(2), np.ones(3)))


def test_jvp_in_jax_form_equals_the_curried_form():
    primals, tangents = (1.5, -2.0, 0.7), (0.3, 1.0, -2.0)
    value, tangent = srcad.jvp(f3, primals, tangents)
    assert (value, tangent) == srcad.jvp(f3)(primals, tangents)
    assert value == f3(*primals)
    exact = sum(g * t for g, t in zip(f3_grad(*primals), tangents))
    assert tangent == pytest.approx(exact, rel=EXACT)


def test_jvp_in_jax_form_fills_in_defaults():
    assert srcad.jvp(power, (2.0,), (1.0,)) == (8.0, 12.0)
    with pytest.raises(TypeError, match="as many tangents as primals"):
        srcad.jvp(power, (2.0,), (1.0, 0.0))
    with pytest.raises(TypeError, match="a tuple of primals"):
        srcad.jvp(power, 2.0, 1.0)  # JAX's form takes tuples, as JAX does


# ---------------------------------------------------------------- jacobian, hessian, hvp


def scaled(x, y, *, k=2.0):
    return np.sin(x) * y * k


def with_params(params, x, *, scale=1.0):
    return scale * np.tanh(params["w"] * x + params["b"])


def summed_params(params, x, *, scale=1.0):
    return np.sum(with_params(params, x, scale=scale) ** 2) + params["b"] ** 3


def pair_param(ab, x):
    a, b = ab
    return a * a * b * x + math.sin(b)


def list_param(ws, x):
    return np.sum(ws[0] * x) * np.sum(ws[1] * x)


def test_jacobian_takes_keyword_arguments_and_keyword_only_wrt():
    x, y = np.array([0.3, 1.2]), np.array([2.0, -1.0])
    jx = srcad.jacobian(scaled)(x, y, k=3.0)
    np.testing.assert_allclose(jx, np.diag(np.cos(x) * y * 3.0), rtol=EXACT)
    jk = srcad.jacobian(scaled, wrt="k")(x, y, k=3.0)
    np.testing.assert_allclose(jk, np.sin(x) * y, rtol=EXACT)
    jx, jy = srcad.jacobian(scaled, argnums=(0, 1))(x, y=y)  # y by keyword: still k=2
    np.testing.assert_allclose(jy, np.diag(np.sin(x) * 2.0), rtol=EXACT)


def test_jacobian_of_a_dict_parameter_is_a_dict_of_blocks():
    params = {"w": np.array([0.5, -1.0, 0.2]), "b": 0.3}
    x = np.array([1.0, 2.0, -1.5])
    jac = srcad.jacobian(with_params)(params, x, scale=2.0)
    assert list(jac) == ["w", "b"]
    assert jac["w"].shape == (3, 3) and jac["b"].shape == (3,)
    s = 2.0 * (1 - np.tanh(params["w"] * x + params["b"]) ** 2)
    np.testing.assert_allclose(jac["w"], np.diag(s * x), rtol=EXACT)
    np.testing.assert_allclose(jac["b"], s, rtol=EXACT)


def test_jacobian_of_list_and_tuple_parameters_keeps_their_structure():
    ws, x = [np.array([1.0, 2.0]), np.array([-0.5, 0.3])], np.array([0.4, 1.1])
    jac = srcad.jacobian(list_param)(ws, x)
    assert isinstance(jac, list) and len(jac) == 2
    np.testing.assert_allclose(jac[0], x * np.sum(ws[1] * x), rtol=EXACT)
    np.testing.assert_allclose(jac[1], x * np.sum(ws[0] * x), rtol=EXACT)
    ja, jb = srcad.jacobian(pair_param)((0.5, 2.0), 1.5)
    assert ja == pytest.approx(2 * 0.5 * 2.0 * 1.5, rel=EXACT)
    assert jb == pytest.approx(0.5 * 0.5 * 1.5 + math.cos(2.0), rel=EXACT)


def test_hessian_of_a_dict_parameter_with_keywords():
    params = {"w": np.array([0.5, -1.0]), "b": 0.3}
    x = np.array([1.0, 2.0])
    hess = srcad.hessian(summed_params)(params, x, scale=1.5)
    assert set(hess) == {"w", "b"} and set(hess["w"]) == {"w", "b"}
    assert hess["w"]["w"].shape == (2, 2) and hess["w"]["b"].shape == (2,)
    gradient = srcad.grad(summed_params)  # columns of the Hessian by central differences
    for key in ("w", "b"):
        for other in ("w", "b"):

            def part(value, key=key, other=other):
                moved = {**params, other: value}
                return gradient(moved, x, scale=1.5)[key]

            want = np.array(
                [central(lambda v, i=i: np.ravel(part(v))[i], (params[other],), 0)
                 for i in range(np.size(params[key]))]
            ).reshape(np.shape(params[key]) + np.shape(params[other]))
            np.testing.assert_allclose(hess[key][other], want, rtol=1e-5, atol=1e-7)


def test_hessian_and_hvp_of_a_tuple_parameter():
    (haa, hab), (hba, hbb) = srcad.hessian(pair_param)((0.5, 2.0), 1.5)
    a, b, x = 0.5, 2.0, 1.5
    exact = ((2 * b * x, 2 * a * x), (2 * a * x, -math.sin(b)))
    assert (haa, hab, hba, hbb) == pytest.approx((*exact[0], *exact[1]), rel=EXACT)
    hv = srcad.hvp(pair_param)((a, b), x, (1.0, -2.0))
    assert hv == pytest.approx((exact[0][0] - 2 * exact[0][1], exact[1][0] - 2 * exact[1][1]))


def test_hvp_with_dict_direction_and_keywords():
    params = {"w": np.array([0.5, -1.0]), "b": 0.3}
    x, v = np.array([1.0, 2.0]), {"w": np.array([1.0, -0.5]), "b": 2.0}
    got = srcad.hvp(summed_params)(params, x, v, scale=1.5)
    hess = srcad.hessian(summed_params)(params, x, scale=1.5)
    for key in ("w", "b"):
        want = hess[key]["w"] @ v["w"] + hess[key]["b"] * v["b"]
        np.testing.assert_allclose(got[key], want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("make", [srcad.jacobian, srcad.hessian, srcad.hvp])
@pytest.mark.parametrize(
    "wrt, message",
    [(5, "out of range"), ("q", "no parameter named 'q'"), ((0, 0), "twice"), (1.5, "not 1.5")],
)
def test_bad_wrt_of_jacobian_hessian_hvp_is_a_wrt_error(make, wrt, message):
    with pytest.raises(srcad.WrtError) as info:
        make(f3, wrt=wrt)
    assert message in str(info.value)
    assert not isinstance(info.value, ValueError | IndexError)


@pytest.mark.parametrize("make", [srcad.jacobian, srcad.hessian, srcad.hvp])
def test_argnums_of_jacobian_hessian_hvp(make):
    args = (1.5, -2.0, 0.7)
    extra = ((1.0,),) if make is srcad.hvp else ()
    one = make(f3, argnums=(1,))(*args, *extra)
    assert isinstance(one, tuple) and len(one) == 1
    bare = make(f3, argnums=1)(*args, *(e[0] for e in extra))
    assert not isinstance(bare, tuple)
    assert np.ravel(one[0])[0] == pytest.approx(float(np.ravel(bare)[0]), rel=EXACT)


# ---------------------------------------------------------------- writing into the arguments


def doubles_in_place(x):
    x *= 2.0
    return np.sum(x * x * x)  # 8 sum(x**3): gradient 24 x**2, Hessian diag(48 x)


def doubles_and_squares(x):
    x *= 2.0
    return x * x  # Jacobian diag(8 x)


def doubles_with_aux(x):
    x *= 2.0
    return np.sum(x * x), np.sum(x)


def test_derivatives_that_call_f_many_times_give_it_fresh_arguments():
    """Every call srcad makes (a column, a row, a cotangent, the aux call) sees the
    user's values, not the ones a previous call wrote; before 0.2 the Jacobian of such
    a function was wrong."""
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(srcad.jacobian(doubles_and_squares)(x.copy()), np.diag(8 * x))
    np.testing.assert_allclose(srcad.hessian(doubles_in_place)(x.copy()), np.diag(48 * x))
    out, vjp_fn = srcad.vjp(doubles_in_place, x.copy())
    assert out == 8 * np.sum(x**3)
    for _ in range(2):
        np.testing.assert_allclose(vjp_fn(1.0)[0], 24 * x * x)
    g, aux = srcad.grad(doubles_with_aux, has_aux=True)(x.copy())
    np.testing.assert_allclose(g, 8 * x)
    assert aux == 2 * np.sum(x)
