"""Array-API code (issue 18): gradients of functions written against the Python array
API standard run on the inputs' namespace. Checked on array_api_strict arrays against
central differences and against srcad's gradient of the same function on numpy arrays."""

from __future__ import annotations

import array_api_strict as xps
import numpy as np
import pytest
from array_api_compat import array_namespace
from conftest import central_differences, marker_line

import srcad

# ---------------------------------------------------------------- the functions


def logistic(w, X, y):
    xp = array_namespace(w, X, y)
    z = xp.matmul(X, w)
    return xp.sum(xp.log(1.0 + xp.exp(-y * z))) + 0.5 * xp.sum(w * w)


def mlp_layer(W, b, X):
    xp = array_namespace(W, b, X)
    h = xp.tanh(X @ W + b)
    return xp.mean(h**2)


def softmax_xent(W, X, onehot):
    xp = W.__array_namespace__()
    logits = X @ W
    shifted = logits - xp.max(logits, axis=1, keepdims=True)
    logp = shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))
    return -xp.mean(xp.sum(onehot * logp, axis=1))


def ridge(w, X, y):
    xp = array_namespace(w, X, y)
    r = X @ w - y
    return xp.sum(xp.square(r)) / 2.0 + 0.1 * xp.sum(w * w)


def logsumexp(x):
    xp = array_namespace(x)
    m = xp.max(x)
    return m + xp.log(xp.sum(xp.exp(x - m)))


def layer_norm(x, gamma):
    xp = array_namespace(x, gamma)
    mu = xp.mean(x, axis=-1, keepdims=True)
    var = xp.mean((x - mu) ** 2, axis=-1, keepdims=True)
    y = (x - mu) / xp.sqrt(var + 1e-5) * gamma
    return xp.sum(xp.reshape(y, (-1,)) * xp.arange(1, 13, dtype=xp.float64))


def accumulate(w, X):
    xp = array_namespace(w, X)
    total = xp.zeros_like(w)
    for k in range(3):
        total = total + xp.maximum(X[k, :] * w, 0.0)
    return xp.sum(total * total)


def branch(x, flag):
    xp = array_namespace(x)
    if flag > 0:
        out = xp.sum(xp.abs(x) ** 3)
    else:
        out = xp.sum(xp.where(x > 0, x, 0.1 * x))
    return out


def shapes(a):
    xp = array_namespace(a)
    b = xp.permute_dims(xp.reshape(a, (2, 3)), (1, 0))
    c = xp.expand_dims(b, axis=0)
    d = xp.concat([c, c * 2.0], axis=0)
    return xp.sum(xp.pow(d, 2.0)) + xp.prod(xp.astype(a[1:3], xp.float64)) + xp.min(b)


RNG = np.random.default_rng(7)
def permuted(x):
    """flip and roll (keyword-only in the standard), and in-place item writes."""
    xp = array_namespace(x)
    out = xp.zeros_like(x)
    out[0] = x[0] ** 2
    out[1] = out[0] * 0.5 + x[1]
    weights = xp.arange(1.0, 5.0)
    return xp.sum(xp.flip(x, axis=0) * weights) + xp.sum(xp.roll(x, 1) * weights) + xp.sum(out)


def attention(Q, K, V):
    """Scaled dot-product attention over a batch, with ``.mT`` (batch transpose)."""
    xp = array_namespace(Q, K, V)
    scores = Q @ K.mT / 2.0
    scores = scores - xp.max(scores, axis=-1, keepdims=True)
    weights = xp.exp(scores) / xp.sum(xp.exp(scores), axis=-1, keepdims=True)
    return xp.sum((weights @ V) ** 2)


def kernel_energy(X):
    """Pairwise differences by new axes (``X[:, None, :] - X[None, :, :]``): the adjoint
    is written back without the ``None`` (round 90: array_api_strict refuses it)."""
    xp = array_namespace(X)
    D = xp.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    return xp.sum(xp.exp(-D)) + xp.sum(X[..., None] * X[:, None, :])


CASES = [
    (logistic, (RNG.normal(size=3), RNG.normal(size=(6, 3)), np.sign(RNG.normal(size=6))), (0,)),
    (mlp_layer, (RNG.normal(size=(3, 4)), RNG.normal(size=4), RNG.normal(size=(5, 3))), (0, 1)),
    (softmax_xent, (RNG.normal(size=(3, 4)), RNG.normal(size=(4, 3)), np.eye(4)[::-1]), (0,)),
    (ridge, (RNG.normal(size=3), RNG.normal(size=(6, 3)), RNG.normal(size=6)), (0,)),
    (logsumexp, (RNG.normal(size=5),), (0,)),
    (layer_norm, (RNG.normal(size=(3, 4)), RNG.normal(size=4)), (0, 1)),
    (accumulate, (RNG.normal(size=4), RNG.normal(size=(3, 4))), (0,)),
    (branch, (RNG.normal(size=5), 1.0), (0,)),
    (branch, (RNG.normal(size=5), -1.0), (0,)),
    (shapes, (RNG.normal(size=6),), (0,)),
    (permuted, (RNG.normal(size=4),), (0,)),
    (attention, tuple(RNG.normal(size=(2, 3, 4)) for _ in range(3)), (0, 1, 2)),
    (kernel_energy, (RNG.normal(size=(4, 2)),), (0,)),
]



def _strict(value):
    return xps.asarray(value) if isinstance(value, np.ndarray) else value


@pytest.mark.parametrize(("f", "args", "wrt"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_gradient_on_strict_arrays(f, args, wrt):
    strict = tuple(_strict(a) for a in args)
    grads = srcad.grad(f, argnums=wrt)(*strict)
    expected_np = srcad.grad(f, argnums=wrt)(*args)  # the same function on numpy arrays
    for k, g, g_np in zip(wrt, grads, expected_np):
        assert array_namespace(g) is array_namespace(strict[k])  # not numpy's
        assert type(g_np) is np.ndarray
        cd = central_differences(lambda v, k=k: float(f(*args[:k], v, *args[k + 1 :])), args[k])
        np.testing.assert_allclose(np.asarray(g_np), cd, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(np.asarray(xps.asarray(g)._array), cd, rtol=1e-5, atol=1e-7)


def test_value_and_grad_and_several_wrt():
    W, b, X = (_strict(a) for a in CASES[1][1])
    (value, (dW, db)) = srcad.value_and_grad(mlp_layer, wrt=("W", "b"))(W, b, X)
    assert float(value) == pytest.approx(float(mlp_layer(W, b, X)))
    assert dW.shape == W.shape and db.shape == b.shape
    assert array_namespace(dW) is xps and array_namespace(db) is xps


def test_generated_code_calls_the_namespace():
    g = srcad.grad(logistic)
    source = g.backward_source
    assert "xp = namespace_of(w, X, y)" in source
    assert "np." not in source
    assert "sum_grad(xp, " in source


def test_module_used_directly():
    from array_api_module import direct

    x = xps.asarray(np.linspace(-1.0, 1.0, 5))
    g = srcad.grad(direct)(x)
    expected = 2 * np.cos(np.linspace(-1.0, 1.0, 5)) * np.sin(np.linspace(-1.0, 1.0, 5))
    assert array_namespace(g) is xps
    np.testing.assert_allclose(np.asarray(g._array), expected + 1.0, rtol=1e-12)


def unsupported(x):
    xp = array_namespace(x)
    return xp.sum(xp.cumulative_logsumexp(x))


def test_unsupported_function_is_refused_at_the_users_line():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(unsupported)
    error = info.value
    assert error.filename == __file__
    assert error.lineno == unsupported.__code__.co_firstlineno + 2
    assert "xp.cumulative_logsumexp" in str(error)


def test_numpy_functions_are_unchanged():
    def plain(x):
        return np.sum(np.exp(x))

    assert "namespace_of" not in srcad.grad(plain).backward_source


def _local_module_alias(x, w):
    xp = np
    h = xp.tanh(x * w)
    return xp.sum(h * h) + xp.mean(h) * xp.max(x) - xp.linalg.norm(h)


def test_a_module_given_a_local_name_is_read_as_that_module():
    """``xp = np; xp.sum(t)`` is numpy's sum: srcad read ``xp`` as an object with a method
    ``.sum`` and ``t`` as its axis, and the gradient through ``t`` was silently zero
    (round 53)."""
    x, w = np.array([0.3, -1.2, 0.8]), 0.7
    dx, dw = srcad.grad(_local_module_alias, wrt=(0, 1))(x, w)
    np.testing.assert_allclose(
        dx, central_differences(lambda v: _local_module_alias(v, w), x), rtol=1e-6
    )
    along_w = central_differences(lambda v: _local_module_alias(x, v[0]), np.array([w]))
    np.testing.assert_allclose(dw, along_w[0], rtol=1e-6)
    assert "np.sum(" in srcad.grad(_local_module_alias).forward_source


def _sum_of_sines(x, xp=np):
    return xp.sum(xp.sin(x))


def _through_helpers(x):
    return _sum_of_sines(x) * 2.0 + _sum_of_sines(x * x, np)


def test_a_module_a_helper_takes_as_an_argument_or_a_default_is_that_module():
    """``def helper(x, xp=np)`` called from the differentiated function, with its default
    or with ``np`` passed: ``xp.sum`` is numpy's (it was read as the method ``.sum`` of an
    object: a gradient silently zero, then refused)."""
    x = np.array([0.3, -1.2, 0.8])
    expected = 2.0 * np.cos(x) + np.cos(x * x) * 2.0 * x
    np.testing.assert_allclose(srcad.grad(_through_helpers)(x), expected, rtol=1e-13)


def _smoothed_energy(x):
    xp = array_namespace(x)  # (array-API code: the listing is ported)
    scale = xp.sum(x * x)
    smooth = np.convolve(x, np.array([0.25, 0.5, 0.25]), mode="valid")  # <numpy's own>
    return np.sum(smooth ** 2) * scale


def test_numpy_code_beside_array_api_code_runs_on_numpy_arrays():
    """A function that calls array-API code (a SciPy helper of constants, round 94) and
    numpy's own functions (np.convolve, which the standard lacks): on numpy arrays the
    gradient is numpy's (it was refused at compile time, pointing into SciPy's files);
    given another library's arrays it is refused when it runs, at the line."""
    x = np.array([0.3, 1.2, -0.4, 0.9, 2.0])
    got = srcad.grad(_smoothed_energy)(x)
    np.testing.assert_allclose(got, central_differences(_smoothed_energy, x), rtol=1e-6)
    with pytest.raises(srcad.UnsupportedSyntaxError, match="numpy's arrays only") as caught:
        srcad.grad(_smoothed_energy)(xps.asarray(x))
    assert caught.value.lineno == marker_line(__file__, "numpy's own")
