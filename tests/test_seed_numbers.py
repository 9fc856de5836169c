"""The worked examples from the seed texts in /work/shared/seeds, with their
numbers: srcad must reproduce them."""

import math
import os
import sys
from math import exp, sin

import pytest

import srcad

sys.path.insert(0, os.path.dirname(__file__))
from conftest import as_tuple, assert_grad_close, numeric_grad  # noqa: E402

# ---------------------------------------------------------------- seed 003 (simple)


def seed003_simple(x1, x2, x3):
    return (x1 + x2) * x3


def test_seed003_simple_exact():
    # x1 = 4, x2 = 2, x3 = -5: u = 6, y = -30; dy/dx = (-5, -5, 6)
    g = srcad.grad(seed003_simple, wrt=("x1", "x2", "x3"))(4.0, 2.0, -5.0)
    assert tuple(g) == (-5.0, -5.0, 6.0)
    value, _ = srcad.value_and_grad(seed003_simple, wrt=("x1", "x2", "x3"))(4.0, 2.0, -5.0)
    assert value == -30.0


# ---------------------------------------------------------------- seed 003 (advanced)


def seed003_nodes(x1, x2, x3, x4):
    u1 = x1 + x2
    u2 = x3 * x4
    u3 = u1 * u2
    u4 = u2**2
    y = u3 * u4
    return y


def test_seed003_advanced_node_listing_exact():
    # x1 = -7, x2 = 2, x3 = 2, x4 = -1: u1 = -5, u2 = -2, u3 = 10, u4 = 4, y = 40
    # dy/du3 = 4, dy/du4 = 10, dy/du1 = -8, dy/du2 = -20 + -40 = -60
    value, grads = srcad.value_and_grad(seed003_nodes, wrt=(0, 1, 2, 3))(-7.0, 2.0, 2.0, -1.0)
    assert value == 40.0
    assert tuple(grads) == (-8.0, -8.0, 60.0, -120.0)
    got = srcad.grad(seed003_nodes, wrt=(0, 1, 2, 3))(-7.0, 2.0, 2.0, -1.0)
    assert tuple(got) == (-8.0, -8.0, 60.0, -120.0)


def seed003_formula(x1, x2, x3, x4, x5):
    return (x1 + x2) * x3 * (x4 * x5) ** 2


def seed003_formula_grad(x1, x2, x3, x4, x5):
    p = x4 * x5
    s = x1 + x2
    return (
        x3 * p**2,
        x3 * p**2,
        s * p**2,
        s * x3 * 2 * p * x5,
        s * x3 * 2 * p * x4,
    )


@pytest.mark.parametrize(
    "args",
    [
        (-7.0, 2.0, 2.0, -1.0, 1.0),
        (1.5, -0.25, 3.0, 0.5, -2.0),
        (0.3, 0.7, -1.1, 2.2, 0.9),
        (4.0, 2.0, -5.0, -3.0, 0.5),
    ],
)
def test_seed003_five_input_formula(args):
    got = srcad.grad(seed003_formula, wrt=("x1", "x2", "x3", "x4", "x5"))(*args)
    assert isinstance(got, tuple) and len(got) == 5
    assert got == pytest.approx(seed003_formula_grad(*args), rel=1e-12, abs=1e-12)
    assert_grad_close(seed003_formula, *args)


def test_seed003_five_input_formula_integer_point_exact():
    # x1=-7, x2=2, x3=2, x4=-1, x5=1 mirrors the node listing (u2 = x4*x5 = -1)
    got = srcad.grad(seed003_formula, wrt=(0, 1, 2, 3, 4))(-7.0, 2.0, 2.0, -1.0, 1.0)
    assert tuple(got) == seed003_formula_grad(-7.0, 2.0, 2.0, -1.0, 1.0)


# ---------------------------------------------------------------- seed 001


def seed001(x, y):
    return 1 + x + exp(sin(x * y))


def seed001_math(x, y):
    return 1 + x + math.exp(math.sin(x * y))


def seed001_symbolic(x, y):
    common = math.exp(math.sin(x * y)) * math.cos(x * y)
    return (1 + common * y, common * x)


@pytest.mark.parametrize("f", [seed001, seed001_math], ids=["bare", "math"])
@pytest.mark.parametrize("args", [(0.5, 1.2), (-1.3, 2.0), (2.0, -0.7), (0.0, 3.0)])
def test_seed001_symbolic(f, args):
    got = srcad.grad(f, wrt=(0, 1))(*args)
    assert got == pytest.approx(seed001_symbolic(*args), rel=1e-12, abs=1e-14)


# ---------------------------------------------------------------- seed 000


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def seed000(x, y):
    return (x + sigmoid(y)) / (sigmoid(x) + (x + y) ** 2)


def seed000_staged(x, y):
    # the seed's forward pass, verbatim in structure
    sigy = 1.0 / (1 + exp(-y))  # (1)
    num = x + sigy  # numerator    (2)
    sigx = 1.0 / (1 + exp(-x))  # (3)
    xpy = x + y  # (4)
    xpysqr = xpy**2  # (5)
    den = sigx + xpysqr  # denominator    (6)
    invden = 1.0 / den  # (7)
    f = num * invden  # (8)
    return f


def seed000_hand_backward(x, y):
    """The seed's hand-written backward pass (000_d9e01ef0c2b01489.txt)."""
    # forward pass
    sigy = 1.0 / (1 + math.exp(-y))  # (1)
    num = x + sigy  # (2)
    sigx = 1.0 / (1 + math.exp(-x))  # (3)
    xpy = x + y  # (4)
    xpysqr = xpy**2  # (5)
    den = sigx + xpysqr  # (6)
    invden = 1.0 / den  # (7)
    # backward pass
    dnum = 1.0 * invden  # (8)
    dinvden = 1.0 * num  # (8)
    dden = (-1.0 / (den**2)) * dinvden  # (7)
    dsigx = (1) * dden  # (6)
    dxpysqr = (1) * dden  # (6)
    dxpy = (2 * xpy) * dxpysqr  # (5)
    dx = (1) * dxpy  # (4)
    dy = (1) * dxpy  # (4)
    dx += ((1 - sigx) * sigx) * dsigx  # (3)
    dx += (1) * dnum  # (2)
    dsigy = (1) * dnum  # (2)
    dy += ((1 - sigy) * sigy) * dsigy  # (1)
    return dx, dy


SEED000_POINTS = [(3.0, -4.0), (0.5, 1.5), (-1.2, 0.3), (2.0, 2.0), (-0.4, -0.9)]


@pytest.mark.parametrize("f", [seed000, seed000_staged], ids=["helper", "staged"])
@pytest.mark.parametrize("args", SEED000_POINTS)
def test_seed000_vs_hand_backward_pass(f, args):
    got = srcad.grad(f, wrt=(0, 1))(*args)
    assert got == pytest.approx(seed000_hand_backward(*args), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("f", [seed000, seed000_staged], ids=["helper", "staged"])
@pytest.mark.parametrize("args", SEED000_POINTS)
def test_seed000_vs_central_differences(f, args):
    assert_grad_close(f, *args)


def test_seed000_value():
    value, _ = srcad.value_and_grad(seed000)(3.0, -4.0)
    assert value == pytest.approx(seed000(3.0, -4.0), rel=1e-14)
    assert value == pytest.approx(seed000_staged(3.0, -4.0), rel=1e-14)


# ---------------------------------------------------------------- seed 004


def net(x1, x2, w1, w2, w3, w4, w5, w6, b1, b2, b3):
    a1 = x1 * w1 + x2 * w2 + b1
    a2 = x1 * w3 + x2 * w4 + b2
    h1 = sigmoid(a1)
    h2 = sigmoid(a2)
    a3 = h1 * w5 + h2 * w6 + b3
    y = sigmoid(a3)
    return y


NET_ARGS = (0.888, -0.49, 1.76, 0.4, 0.97, 2.24, 1.86, -0.97, 0.0, 0.0, 0.0)
WEIGHTS = ("w1", "w2", "w3", "w4", "w5", "w6")


def net_hand_backward(x1, x2, w1, w2, w3, w4, w5, w6, b1, b2, b3):
    h1 = sigmoid(x1 * w1 + x2 * w2 + b1)
    h2 = sigmoid(x1 * w3 + x2 * w4 + b2)
    y = sigmoid(h1 * w5 + h2 * w6 + b3)
    da3 = y * (1 - y)
    da1 = da3 * w5 * h1 * (1 - h1)
    da2 = da3 * w6 * h2 * (1 - h2)
    return (da1 * x1, da1 * x2, da2 * x1, da2 * x2, da3 * h1, da3 * h2)


def test_seed004_forward_value():
    value, grads = srcad.value_and_grad(net, wrt=WEIGHTS)(*NET_ARGS)
    # the seed: a1 = 1.367, h1 = 0.797, a2 = -0.236, h2 = 0.441, a3 = 1.055, y = 0.741
    assert abs(value - 0.741) < 1e-3
    assert value == pytest.approx(net(*NET_ARGS), rel=1e-14)
    assert len(grads) == 6


def test_seed004_weight_gradients_vs_central_differences():
    got = as_tuple(srcad.grad(net, wrt=WEIGHTS)(*NET_ARGS), 6)
    want = numeric_grad(net, NET_ARGS, [2, 3, 4, 5, 6, 7])
    assert got == pytest.approx(want, rel=1e-6, abs=1e-8)
    assert_grad_close(net, *NET_ARGS, wrt=WEIGHTS)


def test_seed004_weight_gradients_vs_hand_backward():
    got = srcad.grad(net, wrt=WEIGHTS)(*NET_ARGS)
    assert got == pytest.approx(net_hand_backward(*NET_ARGS), rel=1e-12)


def test_seed004_wrt_by_index_matches_by_name():
    by_name = srcad.grad(net, wrt=WEIGHTS)(*NET_ARGS)
    by_index = srcad.grad(net, wrt=(2, 3, 4, 5, 6, 7))(*NET_ARGS)
    assert by_name == by_index


def test_seed004_all_parameters():
    # default wrt: all 11 inputs, including inputs and biases
    assert_grad_close(net, *NET_ARGS)
