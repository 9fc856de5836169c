"""Gradients pickle as the call that made them, so other processes can use them
(``multiprocessing.Pool.map``), and are derived again there."""

import functools
import multiprocessing
import pickle

import numpy as np
import pytest

import srcad


def helper(z):
    return np.tanh(z)


def loss(w, X, b=0.5):
    return np.sum(helper(X @ w + b) ** 2) + 0.1 * np.sum(w * w)


def loss_and_count(w, X):
    return loss(w, X), {"rows": X.shape[0]}


class Ridge:
    def __init__(self, lam):
        self.lam = lam

    def loss(self, w, X):
        return np.sum((X @ w) ** 2) + self.lam * np.sum(w * w)


X = np.linspace(-1.0, 1.0, 12).reshape(4, 3)
W = np.array([0.3, -0.2, 0.7])


def numeric_gradient(f, w, h=1e-6):
    return np.array([(f(w + h * e) - f(w - h * e)) / (2 * h) for e in np.eye(w.size)])


MADE = {
    "grad": lambda: srcad.grad(loss),
    "grad wrt two": lambda: srcad.grad(loss, wrt=("w", "b")),
    "argnums tuple": lambda: srcad.grad(loss, argnums=(0,)),
    "value_and_grad": lambda: srcad.value_and_grad(loss),
    "has_aux": lambda: srcad.grad(loss_and_count, has_aux=True),
    "hessian": lambda: srcad.hessian(loss),
    "jacobian": lambda: srcad.jacobian(loss),
    "hvp": lambda: srcad.hvp(loss),
    "bound method": lambda: srcad.grad(Ridge(0.5).loss),
    "partial": lambda: srcad.grad(functools.partial(loss, b=-0.25)),
}


def call(made):
    """What each made function returns at (W, X), as a flat list of arrays."""
    kind, fn = made
    out = fn(W, X, np.ones(3)) if kind == "hvp" else fn(W, X)
    leaves = []

    def flatten(value):
        if isinstance(value, tuple | list):
            for item in value:
                flatten(item)
        elif isinstance(value, dict):
            for item in value.values():
                flatten(item)
        else:
            leaves.append(np.asarray(value, dtype=float))

    flatten(out)
    return leaves


@pytest.mark.parametrize("kind", sorted(MADE))
def test_pickled_gradient_gives_the_same_results(kind):
    fn = MADE[kind]()
    copy = pickle.loads(pickle.dumps(fn))
    for got, want in zip(call((kind, copy)), call((kind, fn)), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-14)


def test_a_pool_of_fresh_processes_maps_a_gradient():
    gradient = srcad.grad(loss)
    method_gradient = srcad.grad(Ridge(0.5).loss)  # pickled with its object
    weights = [W * k for k in (1.0, -0.5, 2.0)]
    with multiprocessing.get_context("spawn").Pool(1) as pool:  # derived again there
        results = pool.starmap(gradient, [(w, X) for w in weights])
        method_results = pool.starmap(method_gradient, [(w, X) for w in weights])
    for w, got, got_method in zip(weights, results, method_results, strict=True):
        want = numeric_gradient(lambda v: loss(v, X), w)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
        want = numeric_gradient(lambda v: Ridge(0.5).loss(v, X), w)
        np.testing.assert_allclose(got_method, want, rtol=1e-6, atol=1e-8)
    assert pickle.loads(pickle.dumps(gradient)) is gradient  # this process has it already


def test_the_gradient_of_a_lambda_cannot_be_pickled():
    gradient = srcad.grad(lambda x: x * x)
    with pytest.raises(pickle.PicklingError):
        pickle.dumps(gradient)
