"""Realistic programs of stop 50's area: functions a configuration holds in a global dict,
list or tuple (activations, losses, penalties); gradients of parameters that enter
through their sum (background plus foreground, residual blocks, tied biases), which must
come back as arrays of their own; squares of norms, hypotenuses and square roots kept in
a variable (ridge penalties, springs, kernels), whose Hessians at the origin are exact;
``copy.deepcopy`` of parameters an unrolled inner loop updates; a gradient of a dict
parameter differentiated again; and a refusal a user should get at the line (a function
picked from a dict by a variable)."""

import copy
import math

import numpy as np
from _spec import Case

import srcad

# ---------------------------------------------------------------- functions in containers

ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "softplus": lambda z: np.logaddexp(0.0, z),
    "gelu": lambda z: 0.5 * z * (1.0 + np.tanh(0.7978845608 * (z + 0.044715 * z**3))),
}
HIDDEN, OUTPUT = "gelu", "softplus"  # (the configuration)


def configured_mlp(W1, W2, X):
    """A two-layer network whose activations a configuration names."""
    h = ACTIVATIONS[HIDDEN](X @ W1)
    out = ACTIVATIONS["softplus"](h @ W2)
    return np.mean(out ** 2)


LOSSES = [lambda r: r * r, lambda r: np.sqrt(1.0 + r * r) - 1.0]
LOSS_WEIGHTS = (1.0, 0.5)


def robust_regression(beta, X, y):
    """A weighted sum of a squared and a pseudo-Huber loss, one term per loss."""
    r = X @ beta - y
    total = 0.0
    for k, loss in enumerate(LOSSES):
        total = total + LOSS_WEIGHTS[k] * np.mean(loss(r))
    return total


PENALTIES = (lambda w: np.sum(w * w), lambda w: np.sum(np.logaddexp(-w, w)))


def penalised_logistic(w, X, y):
    """Logistic loss plus every penalty of a tuple of them."""
    logits = X @ w
    nll = np.mean(np.logaddexp(0.0, logits) - y * logits)
    return nll + 0.01 * sum(p(w) for p in PENALTIES)


# ---------------------------------------------------------------- parameters through a sum

IMAGE = np.arange(12.0).reshape(3, 4) / 10.0


def background_plus_foreground(A, B):
    """An image as a smooth background plus a sparse foreground (a robust PCA's data
    term, with a smooth L1 on the foreground)."""
    residual = A + B - IMAGE
    return np.sum(residual**2) + 0.1 * np.sum(np.sqrt(B * B + 1e-3))


def residual_block(b1, b2, W, x):
    """``h + tanh(h @ W + b2)`` of ``h = x + b1``: the biases meet through sums."""
    h = x + b1
    out = h + np.tanh(h @ W + b2) + b1
    return np.sum(out**2)


# ---------------------------------------------------------------- squares of roots


RIDGE_X = np.array([[1.0, 0.5], [0.2, -1.0], [0.7, 0.3], [-0.4, 0.9], [0.1, 0.1]])
RIDGE_Y = np.array([0.3, -0.2, 0.8, 0.1, 0.5])
RIDGE_LAMBDA = 0.3


def ridge_newton_objective(w):
    """Least squares plus a ridge penalty written through the norm, as a paper writes
    it: its Hessian at w = 0 (where Newton's method starts) holds 2 lam I."""
    n = np.linalg.norm(w)
    return np.sum((RIDGE_X @ w - RIDGE_Y) ** 2) + RIDGE_LAMBDA * n * n


def _ridge_gradient(w):
    return 2 * RIDGE_X.T @ (RIDGE_X @ w - RIDGE_Y) + 2 * RIDGE_LAMBDA * w


def spring_chain_energy(x1, y1, x2, y2, k):
    """Zero-rest-length springs from the origin to a point and on to another."""
    d1 = math.hypot(x1, y1)
    d2 = math.hypot(x2 - x1, y2 - y1)
    return 0.5 * k * d1**2 + 0.5 * k * d2 * d2


def rbf_kernel_sum(a, b, log_ell):
    """An RBF kernel of two points by their distance, and a kernel of each to the
    origin; the points may coincide."""
    ell = math.exp(log_ell)
    r = np.linalg.norm(a - b)
    ra = np.sqrt(np.sum(a * a))
    return math.exp(-((r / ell) ** 2)) + math.exp(-(ra**2)) + 0.1 * r


# ---------------------------------------------------------------- copies updated in place

FEATURES = np.array([[1.0, 2.0], [0.5, -1.0], [0.2, 0.3], [-0.4, 0.8]])
TARGETS = np.array([1.0, 0.0, 0.5, -0.2])


def maml_outer_loss(params, inner_lr):
    """Two inner gradient steps on a deep copy of the parameters, then the loss."""
    fitted = copy.deepcopy(params)
    for _ in range(2):
        r = FEATURES @ fitted["w"] + fitted["b"] - TARGETS
        fitted["w"] -= inner_lr * 2 * FEATURES.T @ r / len(r)
        fitted["b"] -= inner_lr * 2 * np.mean(r)
    r = FEATURES @ fitted["w"] + fitted["b"] - TARGETS
    return np.mean(r**2) + 0.01 * np.sum(params["w"] ** 2)


def smoothed_table(values):
    """A table of rows smoothed on a deep copy; the original rows read again."""
    table = copy.deepcopy(values)
    for i in range(1, len(table) - 1):
        table[i][0] = 0.5 * table[i][0] + 0.25 * (values[i - 1][0] + values[i + 1][0])
    return sum(row[0] * orig[1] for row, orig in zip(table, values))


# ---------------------------------------------------------------- second order


def _dict_loss(p):
    return p["w"] ** 2 * p["s"] + math.sin(p["s"])


_DICT_GRADIENT = srcad.grad(_dict_loss)


def gradient_norm_penalty(w, s):
    """A gradient penalty: the squared norm of a dict parameter's gradient, itself
    differentiated (an input-gradient regulariser on two numbers)."""
    g = _DICT_GRADIENT({"w": w, "s": s})
    return g["w"] ** 2 + g["s"] ** 2


# ---------------------------------------------------------------- refused


def layer_by_name(W, x, kind):
    """The activation picked by a variable: chosen when the program runs."""
    return np.sum(ACTIVATIONS[kind](W @ x))


def _mlp_args(rng):
    return rng.normal(size=(3, 4)) * 0.5, rng.normal(size=(4, 2)) * 0.5, rng.normal(size=(5, 3))


def _regression_args(rng):
    X = rng.normal(size=(6, 2))
    return rng.normal(size=2), X, X @ np.array([0.5, -1.0]) + 0.1 * rng.normal(size=6)


CASES = [
    Case("configured_mlp", configured_mlp, _mlp_args, wrt=(0, 1),
         note="activations a global dict holds, picked by a constant"),
    Case("robust_regression", robust_regression, _regression_args, wrt=0,
         note="a loop over a global list of loss functions"),
    Case("penalised_logistic", penalised_logistic,
         lambda rng: (rng.normal(size=2), rng.normal(size=(6, 2)),
                      (rng.random(6) < 0.5).astype(float)), wrt=0,
         note="a generator over a global tuple of penalties"),
    Case("background_plus_foreground", background_plus_foreground,
         lambda rng: (rng.normal(size=(3, 4)), rng.normal(size=(3, 4))), wrt=(0, 1),
         note="two parameters through their sum: distinct gradient arrays"),
    Case("residual_block", residual_block,
         lambda rng: (rng.normal(size=3), rng.normal(size=3), rng.normal(size=(3, 3)) * 0.5,
                      rng.normal(size=3)), wrt=(0, 1, 2),
         note="biases meeting through sums"),
    Case("ridge_newton_objective", ridge_newton_objective,
         lambda rng: (np.zeros(2),), wrt=0, kind="hessian", ref=_ridge_gradient,
         note="lam * n * n of n = norm(w), its Hessian at w = 0"),
    Case("spring_chain_energy", spring_chain_energy,
         lambda rng: (0.0, 0.0, rng.normal(), rng.normal(), rng.uniform(1.0, 2.0)),
         wrt=(0, 1, 2, 3), note="hypotenuses squared, a point at the origin"),
    Case("rbf_kernel_sum", rbf_kernel_sum,
         lambda rng: (rng.normal(size=2), rng.normal(size=2), rng.uniform(-0.5, 0.5)),
         wrt=(0, 1, 2), note="a norm squared over a length scale, a root squared"),
    Case("maml_outer_loss", maml_outer_loss,
         lambda rng: ({"w": rng.normal(size=2), "b": rng.normal()}, 0.1), wrt=0,
         note="copy.deepcopy of parameters, updated in place by an inner loop"),
    Case("smoothed_table", smoothed_table,
         lambda rng: ([[float(rng.normal()), float(rng.normal())] for _ in range(4)],), wrt=0,
         note="copy.deepcopy of a list of rows, written item by item"),
    Case("gradient_norm_penalty", gradient_norm_penalty,
         lambda rng: (rng.normal(), rng.uniform(0.5, 1.5)), wrt=(0, 1),
         note="a dict parameter's gradient, differentiated again"),
    Case("layer_by_name", layer_by_name,
         lambda rng: (rng.normal(size=(2, 3)), rng.normal(size=3), "tanh"), wrt=0,
         expect="LOCATED", bad="ACTIVATIONS[kind]", msg=("chosen when the program runs",),
         note="a function picked from a dict by a variable"),
]
