"""Realistic programs of stop 44's area: closures made by one factory and differentiated
twice (regularized losses, models with a setting), numpy numbers read back as items
(softmax, layer norm and attention written for any batch shape, given one row), loops
over self-distances of float64 arrays, second derivatives through scipy's distances and
xlogy, parameters that enter through their sum (a rate and a spread), and comprehensions
bound to the name they read."""

import math

import numpy as np
from _spec import Case
from scipy.spatial.distance import cdist
from scipy.special import xlogy


def make_ridge_loss(lam):
    """A ridge regression loss with its regularization fixed by a factory."""
    data_x = np.array([[1.0, 0.5], [0.3, -1.2], [2.0, 0.1], [-0.7, 0.8]])
    data_y = np.array([1.0, -0.5, 2.1, 0.2])

    def loss(w):
        r = data_x @ w - data_y
        return 0.5 * np.sum(r * r) + 0.5 * lam * np.sum(w * w) + 0.1 * np.sum(w ** 4)

    def loss_grad(w):
        return data_x.T @ (data_x @ w - data_y) + lam * w + 0.4 * w ** 3

    return loss, loss_grad


ridge_light, ridge_light_grad = make_ridge_loss(0.1)
ridge_heavy, ridge_heavy_grad = make_ridge_loss(10.0)


def softmax_readout(z, weights):
    """A softmax over the last axis written for any batch shape, given one row."""
    e = np.exp(z - z.max(axis=-1)[..., None])
    p = e / e.sum(axis=-1)[..., None]
    return np.sum(p * weights)


def layer_norm_score(x, gain, bias):
    """Layer normalization over the last axis (mean and variance read back as items)."""
    mu = x.mean(axis=-1)[..., None]
    var = ((x - mu) ** 2).mean(axis=-1)[..., None]
    y = gain * (x - mu) / np.sqrt(var + 1e-5) + bias
    return np.sum(np.tanh(y))


def single_query_attention(q, k, v):
    """Scaled dot-product attention of one query over a few keys."""
    scores = k @ q / math.sqrt(q.size)
    scores = scores - np.max(scores)[()]
    w = np.exp(scores)
    w = w / np.sum(w)[None]
    return np.sum((w @ v) ** 2)


def spring_chain_energy(x, k):
    """Springs between every pair of beads of a 1-D chain, by loops over the distance
    matrix (its diagonal, a bead with itself, is a distance of exactly 0)."""
    n = x.size
    energy = 0.0
    for i in range(n):
        for j in range(n):
            d = np.sqrt((x[i] - x[j]) ** 2)
            energy += 0.5 * k * (d - abs(i - j)) ** 2
    return energy


def minkowski_spread(points, anchors):
    """The sum of Minkowski (p = 3) distances from points to anchors."""
    return np.sum(cdist(points, anchors, "minkowski", p=3))


_ANCHORS = np.array([[1.0, -1.0], [3.0, 2.0], [-2.0, 0.5]])


def minkowski_spread_of_points(flat):
    return minkowski_spread(flat.reshape(2, 2), _ANCHORS)


def minkowski_spread_grad(flat):
    diff = flat.reshape(2, 2)[:, None, :] - _ANCHORS[None, :, :]
    dist = np.sum(np.abs(diff) ** 3, axis=-1) ** (1.0 / 3.0)
    return np.sum(np.abs(diff) ** 2 * np.sign(diff) / dist[:, :, None] ** 2, axis=1).ravel()


def sparse_cross_entropy(p_shift, q_logit):
    """-sum p log q for a distribution p with exact zeros, q a softmax of logits."""
    p = np.array([0.0, 0.25, 0.75]) + p_shift * np.array([0.0, 1.0, -1.0])
    q = np.exp(q_logit - np.max(q_logit))
    q = q / np.sum(q)
    return -np.sum(xlogy(p, q))


def bond_with_spread(rate, spread, coupons):
    """A bond discounted at a flat rate plus a credit spread (forward mode along both:
    their tangents are one)."""
    price, factor = 0.0, 1.0
    discount = 1.0 / (1.0 + rate + spread)
    for cash in coupons:
        factor = factor * discount
        price = price + cash * factor
    return price


def fx_forward_points(domestic, basis, spot):
    """Forward FX rates over ten yearly tenors with a cross-currency basis added to the
    domestic rate."""
    total = 0.0
    growth = 1.0
    for year in range(10):
        growth = growth * math.exp(domestic + basis)
        total = total + spot * growth / (1.0 + 0.01 * year)
    return total


def standardized_then_clipped(xs):
    """Standardize a list of readings, then clip the first (a sensor's warm-up)."""
    m = sum(xs) / len(xs)
    s = math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs))
    xs = [(x - m) / s for x in xs]
    xs[0] = max(min(xs[0], 1.0), -1.0)
    return sum(x ** 3 for x in xs)


def polar_rotation_energy(p):
    """Points taken to polar coordinates, rotated and brought back (away from the
    origin, where the polar form has no derivative)."""
    r = np.sqrt(p[:, 0] ** 2 + p[:, 1] ** 2)
    angle = np.arctan2(p[:, 1], p[:, 0]) + 0.3
    q = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)
    return np.sum(q[:, 0] ** 2 + 2.0 * q[:, 1])


CASES = [
    Case("ridge_light_hessian", ridge_light, lambda rng: (rng.normal(size=2),), wrt=0,
         kind="hessian", ref=ridge_light_grad),
    Case("ridge_heavy_hessian", ridge_heavy, lambda rng: (rng.normal(size=2),), wrt=0,
         kind="hessian", ref=ridge_heavy_grad,
         note="the second closure of one factory: its Hessian was the first one's"),
    Case("softmax_readout", softmax_readout,
         lambda rng: (rng.normal(size=4), rng.normal(size=4)), wrt=0),
    Case("layer_norm_score", layer_norm_score,
         lambda rng: (rng.normal(size=5), 1.0 + 0.1 * rng.normal(size=5),
                      0.1 * rng.normal(size=5)), wrt=(0, 1, 2)),
    Case("single_query_attention", single_query_attention,
         lambda rng: (rng.normal(size=4), rng.normal(size=(3, 4)), rng.normal(size=(3, 2))),
         wrt=(0, 1, 2)),
    Case("spring_chain_energy", spring_chain_energy,
         lambda rng: (np.cumsum(1.0 + 0.1 * rng.random(4)), 1.0 + rng.random()), wrt=(0, 1)),
    Case("minkowski_spread_hessian", minkowski_spread_of_points,
         lambda rng: (rng.normal(size=4),), wrt=0, kind="hessian",
         ref=minkowski_spread_grad),
    Case("sparse_cross_entropy", sparse_cross_entropy,
         lambda rng: (0.1 * rng.random(), rng.normal(size=3)), wrt=(0, 1)),
    Case("bond_with_spread", bond_with_spread,
         lambda rng: (0.03 + 0.01 * rng.random(), 0.01 * rng.random(), [0.05] * 9 + [1.05]),
         wrt=(0, 1)),
    Case("fx_forward_points", fx_forward_points,
         lambda rng: (0.02 * rng.random(), 0.005 * rng.normal(), 1.1 + 0.1 * rng.random()),
         wrt=(0, 1, 2)),
    Case("standardized_then_clipped", standardized_then_clipped,
         lambda rng: (list(rng.normal(size=5) * 0.3),), wrt=0),
    Case("polar_rotation_energy", polar_rotation_energy,
         lambda rng: (rng.normal(size=(3, 2)),), wrt=0),
]
