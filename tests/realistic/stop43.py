"""Realistic programs of stop 43's area: log-space recursions with unreachable states
(HMMs with forbidden transitions, CTC, banded alignment), structural zeros under
logarithms in forward mode, objects that keep their caller's lists through methods
(optimizers attached to weight lists, models with parameter registries), and singular
vectors (Procrustes, PCA)."""

import numpy as np
from _spec import Case
from scipy.special import logsumexp


def left_to_right_hmm(log_stay, means, x):
    """Negative log-likelihood of a left-to-right Gaussian HMM (a gesture or phone
    model): the states to the right are unreachable at first."""
    k = means.size
    stay = 1.0 / (1.0 + np.exp(-log_stay))
    a = np.zeros((k, k))
    for i in range(k - 1):
        a[i, i] = stay[i]
        a[i, i + 1] = 1.0 - stay[i]
    a[k - 1, k - 1] = 1.0
    with np.errstate(divide="ignore"):
        log_a = np.log(a)
    log_b = -0.5 * (x[:, None] - means[None, :]) ** 2 - 0.9189385332046727
    alpha = np.full(k, -np.inf)
    alpha[0] = log_b[0, 0]
    for t in range(1, x.size):
        alpha = logsumexp(alpha[:, None] + log_a, axis=0) + log_b[t]
    return -logsumexp(alpha)


def ctc_loss(logits, labels):
    """Connectionist temporal classification: the forward variables over the label
    sequence with blanks, in log space; a state not yet reachable is -inf."""
    t_steps, _ = logits.shape
    log_p = logits - logsumexp(logits, axis=1, keepdims=True)
    ext = [0]
    for c in labels:
        ext += [c, 0]
    s = len(ext)
    alpha = np.full(s, -np.inf)
    alpha[0] = log_p[0, ext[0]]
    alpha[1] = log_p[0, ext[1]]
    for t in range(1, t_steps):
        new = np.full(s, -np.inf)
        for j in range(s):
            terms = [alpha[j]]
            if j >= 1:
                terms.append(alpha[j - 1])
            if j >= 2 and ext[j] != 0 and ext[j] != ext[j - 2]:
                terms.append(alpha[j - 2])
            new[j] = logsumexp(np.array(terms)) + log_p[t, ext[j]]
        alpha = new
    return -np.logaddexp(alpha[s - 1], alpha[s - 2])


def banded_soft_alignment(x, y, gamma):
    """Soft-DTW restricted to a band: cells outside it are -inf (never reachable)."""
    n, m = x.size, y.size
    r = np.full((n + 1, m + 1), -np.inf)
    r[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(max(1, i - 1), min(m, i + 1) + 1):
            cost = (x[i - 1] - y[j - 1]) ** 2
            prev = np.array([r[i - 1, j - 1], r[i - 1, j], r[i, j - 1]])
            r[i, j] = -cost + gamma * logsumexp(prev / gamma)
    return -r[n, m]


def viterbi_free_energy(log_emit, log_trans):
    """A log-partition of a chain CRF whose transition matrix forbids some moves
    (np.logaddexp.reduce over each column)."""
    alpha = log_emit[0]
    for t in range(1, log_emit.shape[0]):
        alpha = np.logaddexp.reduce(alpha[:, None] + log_trans, axis=0) + log_emit[t]
    return np.logaddexp.reduce(alpha)


def sparse_table_entropy(weights):
    """The entropy of a probability table with structural zeros, from np.log of the
    table itself (its zeros masked after the log)."""
    table = np.zeros((3, 3))
    table[0, 0], table[0, 2] = weights[0], weights[1]
    table[1, 1], table[2, 0], table[2, 2] = weights[2], weights[3], weights[4]
    p = table / np.sum(table)
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
    return -np.sum(np.where(p > 0, p * log_p, 0.0))


def geometric_mean_of_masked(x, mask):
    """A geometric mean of the kept entries, through exp(mean(log)) of a copy whose
    dropped entries are set to 1 (log 1 = 0) before the log."""
    kept = np.where(mask, x, 1.0)
    return np.exp(np.sum(np.log(kept)) / np.sum(mask))


class Optimizer:
    """A plain SGD-with-momentum optimizer, attached to a weight list after it is made."""

    def __init__(self, rate, momentum):
        self.rate = rate
        self.momentum = momentum
        self.params = None
        self.velocity = None

    def attach(self, params):
        self.params = params
        self.velocity = [0.0] * len(params)

    def step(self, grads):
        for i in range(len(grads)):
            self.velocity[i] = self.momentum * self.velocity[i] - self.rate * grads[i]
            self.params[i] = self.params[i] + self.velocity[i]


def momentum_fit(w0, b0, rate):
    """A least-squares line fitted by a few momentum steps that update the caller's list;
    the loss after training, as a function of the start and the rate."""
    xs, ys = [0.0, 1.0, 2.0, 3.0], [1.0, 2.9, 5.2, 7.1]
    wb = [w0, b0]
    opt = Optimizer(rate, 0.5)
    opt.attach(wb)
    for _ in range(4):
        gw, gb = 0.0, 0.0
        for x, y in zip(xs, ys):
            r = wb[0] * x + wb[1] - y
            gw += 2.0 * r * x / len(xs)
            gb += 2.0 * r / len(xs)
        opt.step([gw, gb])
    return sum((wb[0] * x + wb[1] - y) ** 2 for x, y in zip(xs, ys))


class Registry:
    """A model's parameter registry: lists registered by name, read back by the model."""

    def __init__(self):
        self.groups = {}

    def register(self, name, values):
        self.groups[name] = values

    def decay(self, factor):
        for name in self.groups:
            group = self.groups[name]
            for i in range(len(group)):
                group[i] = group[i] * factor


def decayed_polynomial(a, b, c):
    """Coefficients registered, decayed through the registry, then evaluated by the
    caller's own lists."""
    low, high = [a, b], [c]
    reg = Registry()
    reg.register("low", low)
    reg.register("high", high)
    reg.decay(0.9)
    t = 1.3
    return low[0] + low[1] * t + high[0] * t * t


class Layer:
    def __init__(self, weights):
        self.weights = weights

    def rescale(self, s):
        for i in range(len(self.weights)):
            self.weights[i] *= s


def layer_kept_list(w1, w2, s):
    """A layer keeps its caller's weight list; the layer rescales it, the caller reads it."""
    ws = [w1, w2]
    layer = Layer([0.0, 0.0])
    layer.weights = ws
    layer.rescale(s)
    return ws[0] * ws[1] + ws[0] ** 2


class Polyline:
    """Points of a path, iterated as Python iterates them (its ``__iter__``)."""

    def __init__(self, xs, ys):
        self.xs = xs
        self.ys = ys

    def __iter__(self):
        return iter(zip(self.xs, self.ys))


def path_length(a, b):
    """A path's length by a loop over a polyline made in the loop's header: srcad does
    not read ``__iter__``, and says so at the loop (it ran over the fields before)."""
    total, prev = 0.0, None
    for x, y in Polyline([0.0, a, 2.0], [0.0, b, 0.5]):
        if prev is not None:
            total += ((x - prev[0]) ** 2 + (y - prev[1]) ** 2) ** 0.5
        prev = (x, y)
    return total


class Vec3:
    def __init__(self, x, y, z):
        self.x, self.y, self.z = x, y, z

    def __iter__(self):
        yield self.x
        yield self.y
        yield self.z


def _field_at(r):
    return Vec3(r, 2.0 * r, r * r)


def field_energy(r):
    """A field's energy from a helper's vector, unpacked (its ``__iter__``): refused at
    the unpacking (it raised from generated code before)."""
    ex, ey, ez = _field_at(r)
    return 0.5 * (ex * ex + ey * ey + ez * ez)


def procrustes_misfit(points, target):
    """Orthogonal Procrustes: the rotation that best maps the points onto the target (the
    polar factor u v^T of their cross-covariance), and the misfit left."""
    u, _, vt = np.linalg.svd(points.T @ target, full_matrices=False)
    rotation = u @ vt
    return np.sum((points @ rotation - target) ** 2)


def pca_reconstruction_error(x):
    """The error of a rank-1 PCA reconstruction of centred data, through its scores."""
    centred = x - np.mean(x, axis=0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    approx = np.outer(u[:, 0] * s[0], vt[0])
    return np.sum((centred - approx) ** 2) + 0.1 * np.sum(u[:, 0] ** 4)


def _band_inputs(rng):
    return rng.normal(size=5), rng.normal(size=5), 0.5 + 0.1 * rng.random()


_FORBID = np.array([[0.0, -0.7, -np.inf], [-np.inf, -0.2, -1.3], [-0.4, -np.inf, -0.1]])

CASES = [
    Case("left_to_right_hmm", left_to_right_hmm,
         lambda rng: (rng.normal(size=2), np.array([-1.0, 0.0, 1.5]) + 0.1 * rng.normal(size=3),
                      rng.normal(size=7)), wrt=(0, 1)),
    Case("ctc_loss", ctc_loss, lambda rng: (rng.normal(size=(6, 3)), [1, 2, 2]), wrt=0),
    Case("banded_soft_alignment", banded_soft_alignment, _band_inputs, wrt=(0, 1, 2)),
    Case("viterbi_free_energy", viterbi_free_energy,
         lambda rng: (rng.normal(size=(5, 3)), _FORBID + 0.1 * rng.normal(size=(3, 3))),
         wrt=0),
    Case("sparse_table_entropy", sparse_table_entropy,
         lambda rng: (0.5 + rng.random(5),), wrt=0),
    Case("geometric_mean_of_masked", geometric_mean_of_masked,
         lambda rng: (0.5 + rng.random(6), np.array([1, 0, 1, 1, 0, 1], dtype=bool)), wrt=0),
    Case("momentum_fit", momentum_fit,
         lambda rng: (0.5 + 0.1 * rng.normal(), 0.5 + 0.1 * rng.normal(), 0.05), wrt=(0, 1, 2)),
    Case("decayed_polynomial", decayed_polynomial,
         lambda rng: tuple(rng.normal(size=3)), wrt=(0, 1, 2), expect="LOCATED",
         bad="reg.decay(0.9)", msg=("list",),
         note="a list read out of a dict field, changed in place: refused at the call"),
    Case("layer_kept_list", layer_kept_list,
         lambda rng: (rng.normal(), rng.normal(), 1.0 + 0.1 * rng.random()), wrt=(0, 1, 2)),
    Case("procrustes_misfit", procrustes_misfit,
         lambda rng: (rng.normal(size=(6, 3)), rng.normal(size=(6, 3))), wrt=(0, 1)),
    Case("pca_reconstruction_error", pca_reconstruction_error,
         lambda rng: (rng.normal(size=(7, 3)),), wrt=0),
    Case("path_length", path_length, lambda rng: (1.0 + rng.random(), rng.normal()),
         wrt=(0, 1), expect="LOCATED", bad="for x, y in Polyline(", msg=("__iter__",)),
    Case("field_energy", field_energy, lambda rng: (rng.normal(),), wrt=0,
         expect="LOCATED", bad="ex, ey, ez = _field_at(r)", msg=("__iter__",)),
]
