"""A 2-2-1 sigmoid network, with the source text's inputs, weights and biases.

    a1 = x1*w1 + x2*w2 + b1     h1 = sigma(a1)
    a2 = x1*w3 + x2*w4 + b2     h2 = sigma(a2)
    a3 = h1*w5 + h2*w6 + b3     y  = sigma(a3)

at x1 = 0.888, x2 = -0.49, w1..w6 = 1.76, 0.4, 0.97, 2.24, 1.86, -0.97 and
b1 = b2 = b3 = 0.  The source's forward pass, to three decimals:

    a1 = 1.367, h1 = 0.797, a2 = -0.236, h2 = 0.441, a3 = 1.055, y = 0.741

Those are rounded hand calculations: its a3 = 1.055 comes from the rounded
h1 and h2 (exactly, a3 = 1.05421...), and its y = 0.741 is the truncated
0.74158....  So compare with them to within 1e-3, not exactly.

The source stops before the backward pass; ``network_grad_by_hand`` writes it
out (the usual delta rule) as a reference for srcad's gradient.

The source also asks for the matrix form ("Todo: do matrix form"): each layer is
z = W a + b, a = sigma(z), so ``network_matrix(W1, b1, W2, b2, x)`` computes the
same y with

    W1 = [[w1, w2],     b1 = [b1, b2],     W2 = [[w5, w6]],     b2 = [b3],
          [w3, w4]]                                             x = [x1, x2]

(W2 is (1, 2) and b2 is (1,): the output layer has one unit, so y is the one
element of a length-1 vector).  srcad differentiates it with numpy's ``@`` and
broadcasting, and its dy/dW1 ... dy/db2 are the scalar version's gradients
rearranged into those shapes (``matrix_from_scalar_grads``) -- equal to 1e-12.

Run it:  python examples/tiny_network.py
    or:  python -m srcad show examples/tiny_network.py:network
    or:  python -m srcad show examples/tiny_network.py:network_matrix --wrt W1,b1,W2,b2
"""

from math import exp

import numpy as np

import srcad

X1, X2 = 0.888, -0.49
WEIGHTS = (1.76, 0.4, 0.97, 2.24, 1.86, -0.97)  # w1 .. w6
BIASES = (0.0, 0.0, 0.0)  # b1, b2, b3

# network(w1, w2, w3, w4, w5, w6, x1, x2, b1, b2, b3) at the source's values
POINT = (*WEIGHTS, X1, X2, *BIASES)


def matrix_point(w1, w2, w3, w4, w5, w6, x1, x2, b1, b2, b3):
    """The scalar network's arguments as network_matrix's (W1, b1, W2, b2, x)."""
    return (
        np.array([[w1, w2], [w3, w4]]),  # W1 (2, 2): row i holds hidden unit i's weights
        np.array([b1, b2]),  # b1 (2,)
        np.array([[w5, w6]]),  # W2 (1, 2)
        np.array([b3]),  # b2 (1,)
        np.array([x1, x2]),  # x (2,)
    )


# network_matrix(W1, b1, W2, b2, x) at the source's values
MATRIX_POINT = matrix_point(*POINT)
MATRIX_NAMES = ("W1", "b1", "W2", "b2")

DEFAULT_POINT = {
    "network": POINT,
    "sigmoid": (1.05,),
    "network_matrix": MATRIX_POINT,
    "sigmoid_array": (np.array([1.05, -0.236]),),
}

# The source's forward-pass numbers (3 decimals; see the module docstring).
SEED_FORWARD = {"a1": 1.367, "h1": 0.797, "a2": -0.236, "h2": 0.441, "a3": 1.055, "y": 0.741}
SEED_TOLERANCE = 1e-3

WEIGHT_NAMES = ("w1", "w2", "w3", "w4", "w5", "w6")


def sigmoid(z):
    return 1.0 / (1.0 + exp(-z))


def network(w1, w2, w3, w4, w5, w6, x1, x2, b1, b2, b3):
    a1 = x1 * w1 + x2 * w2 + b1
    h1 = sigmoid(a1)
    a2 = x1 * w3 + x2 * w4 + b2
    h2 = sigmoid(a2)
    a3 = h1 * w5 + h2 * w6 + b3
    y = sigmoid(a3)
    return y


def sigmoid_array(z):
    return 1.0 / (1.0 + np.exp(-z))


def network_matrix(W1, b1, W2, b2, x):
    h = sigmoid_array(W1 @ x + b1)  # hidden layer: (h1, h2)
    y = sigmoid_array(W2 @ h + b2)  # output layer: (y,)
    return y[0]


def matrix_from_scalar_grads(dw1, dw2, dw3, dw4, dw5, dw6, db1, db2, db3):
    """The scalar gradients (dy/dw1..dw6, dy/db1..db3) as (dW1, db1, dW2, db2) arrays."""
    return (
        np.array([[dw1, dw2], [dw3, dw4]]),
        np.array([db1, db2]),
        np.array([[dw5, dw6]]),
        np.array([db3]),
    )


def network_trace(w1, w2, w3, w4, w5, w6, x1, x2, b1, b2, b3):
    """The forward pass in plain Python, returning every intermediate value."""
    a1 = x1 * w1 + x2 * w2 + b1
    h1 = sigmoid(a1)
    a2 = x1 * w3 + x2 * w4 + b2
    h2 = sigmoid(a2)
    a3 = h1 * w5 + h2 * w6 + b3
    y = sigmoid(a3)
    return {"a1": a1, "h1": h1, "a2": a2, "h2": h2, "a3": a3, "y": y}


def network_grad_by_hand(w1, w2, w3, w4, w5, w6, x1, x2, b1, b2, b3):
    """Hand-written backward pass: (dy/dw1, ..., dy/dw6, dy/db1, dy/db2, dy/db3)."""
    t = network_trace(w1, w2, w3, w4, w5, w6, x1, x2, b1, b2, b3)
    h1, h2, y = t["h1"], t["h2"], t["y"]
    da3 = y * (1 - y)  # sigma'(a3) = y (1 - y)
    dw5 = da3 * h1
    dw6 = da3 * h2
    dh1 = da3 * w5
    dh2 = da3 * w6
    da1 = dh1 * h1 * (1 - h1)
    da2 = dh2 * h2 * (1 - h2)
    dw1 = da1 * x1
    dw2 = da1 * x2
    dw3 = da2 * x1
    dw4 = da2 * x2
    return dw1, dw2, dw3, dw4, dw5, dw6, da1, da2, da3


def main():
    grad_w = srcad.grad(network, wrt=(0, 1, 2, 3, 4, 5))
    y = network(*POINT)
    print(f"y = network(...) = {y:.6f}   (the source: y = {SEED_FORWARD['y']})")
    trace = network_trace(*POINT)
    print("forward pass:  " + "  ".join(f"{k} = {v:.4f}" for k, v in trace.items()))
    print("the source:    " + "  ".join(f"{k} = {v}" for k, v in SEED_FORWARD.items()))
    print()
    hand = network_grad_by_hand(*POINT)[:6]
    print(f"{'':<6}{'srcad':>24}{'by hand':>24}")
    for name, g, h in zip(WEIGHT_NAMES, grad_w(*POINT), hand, strict=True):
        print(f"dy/d{name:<2}{g:>24.17g}{h:>24.17g}")
    err = srcad.check_grad(network, *POINT, wrt=(0, 1, 2, 3, 4, 5))
    print(f"check_grad(network, wrt=w1..w6): max error vs central differences = {err:.3g}")
    main_matrix()


def main_matrix():
    """The matrix form: same y, and srcad's array gradients equal the scalar ones."""
    print()
    print("matrix form: h = sigma(W1 @ x + b1), y = sigma(W2 @ h + b2)")
    y = network_matrix(*MATRIX_POINT)
    print(f"y = network_matrix(W1, b1, W2, b2, x) = {y:.6f}")
    grad_m = srcad.grad(network_matrix, wrt=MATRIX_NAMES)
    got = grad_m(*MATRIX_POINT)
    # the scalar network's srcad gradient w.r.t. w1..w6, b1..b3, in the matrix shapes
    grad_s = srcad.grad(network, wrt=(*WEIGHT_NAMES, "b1", "b2", "b3"))
    expected = matrix_from_scalar_grads(*grad_s(*POINT))
    worst = 0.0
    for name, g, e in zip(MATRIX_NAMES, got, expected, strict=True):
        assert g.shape == e.shape, (name, g.shape, e.shape)
        worst = max(worst, float(np.max(np.abs(g - e) / np.maximum(np.abs(e), 1e-300))))
        text = np.array2string(g, precision=12, separator=", ", max_line_width=200)
        print(f"  dy/d{name} = {text.replace(chr(10), '')}")
    print(f"max relative difference from the scalar network's gradients = {worst:.3g}")
    err = srcad.check_grad(network_matrix, *MATRIX_POINT, wrt=MATRIX_NAMES)
    print(
        f"check_grad(network_matrix, wrt=W1,b1,W2,b2): max error vs central differences = {err:.3g}"
    )


if __name__ == "__main__":
    main()
