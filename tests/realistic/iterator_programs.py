"""Realistic programs of the iterators task: ``itertools`` iterators over lists and arrays
(chains of springs by ``pairwise``, pair potentials by ``combinations``, discounted
returns and hazards by ``accumulate``, windows by ``islice``, regularizers over
``chain``), ``np.ndenumerate``/``np.ndindex`` over images and grids, list slices with a
step (a Haar step, interleaving) and ``del`` of slices, dicts filled by labels that vary
(``d.get``/``d.setdefault``), ``np.vectorize`` of two arguments or bound to a name, and
``zip_longest``; ``combinations(x, r)`` of an ``r`` known only when it runs is refused."""

import itertools
import operator
from itertools import accumulate, chain, islice, pairwise

import numpy as np
from _spec import Case

# ---------------------------------------------------------------- physics


def spring_chain_energy(px, py, k):
    """A chain of springs of rest length 1 between consecutive points (x, y)."""
    energy = 0.0
    for (x0, y0), (x1, y1) in pairwise(zip(px, py)):
        length = np.sqrt((x1 - x0) ** 2 + (y1 - y0) ** 2)
        energy += 0.5 * k * (length - 1.0) ** 2
    return energy


def pair_potential(pos, eps):
    """A soft Lennard-Jones-like energy over every pair of particles (rows of ``pos``)."""
    total = 0.0
    for p, q in itertools.combinations(pos, 2):
        r2 = np.sum((p - q) ** 2) + 0.5
        total += eps * (1.0 / r2 ** 6 - 2.0 / r2 ** 3)
    return total


def image_radial_prior(img):
    """Each pixel weighted by its squared distance from the image's centre."""
    ci, cj = (img.shape[0] - 1) / 2.0, (img.shape[1] - 1) / 2.0
    s = 0.0
    for (i, j), v in np.ndenumerate(img):
        s += ((i - ci) ** 2 + (j - cj) ** 2) * v ** 2
    return s


def grid_smoothness(U):
    """Squared differences between neighbours on a grid, over ``itertools.product``."""
    n, m = U.shape
    s = 0.0
    for i, j in itertools.product(range(n - 1), range(m)):
        s += (U[i + 1, j] - U[i, j]) ** 2
    for i, j in np.ndindex(n, m - 1):
        s += (U[i, j + 1] - U[i, j]) ** 2
    return s


# ---------------------------------------------------------------- statistics


def cumulative_hazard_survival(rates, dt, t_obs):
    """Survival from a piecewise-constant hazard: the cumulative hazard by accumulate."""
    H = list(accumulate(r * dt for r in rates))
    survival = [np.exp(-h) for h in H]
    return -np.log(survival[t_obs]) + sum(survival)


def grouped_means_by_label(x, labels):
    """Per-group means of observations with string labels, then their spread."""
    sums, counts = {}, {}
    for lab, v in zip(labels, x):
        sums[lab] = sums.get(lab, 0.0) + v
        counts[lab] = counts.setdefault(lab, 0) + 1
    means = [sums[lab] / counts[lab] for lab in sums]
    grand = sum(means) / len(means)
    return sum((m - grand) ** 2 for m in means)


def trimmed_mean(x):
    """The mean without the smallest and the largest value (a sorted list, sliced off)."""
    xs = sorted(x)
    del xs[:1]
    del xs[-1:]
    return sum(xs) / len(xs)


def product_of_running_odds(p):
    """Running products of odds by ``accumulate(..., operator.mul)``."""
    odds = [q / (1.0 - q) for q in p]
    return sum(np.log(v) for v in accumulate(odds, operator.mul))


# ---------------------------------------------------------------- ML


def discounted_return_loss(rewards, gamma, values):
    """Discounted returns computed backwards with accumulate of a lambda, then a value loss."""
    returns = list(accumulate(reversed(rewards), lambda acc, r: r + gamma * acc))[::-1]
    return sum((g - v) ** 2 for g, v in zip(returns, values))


def ema_features(x, alpha):
    """An exponential moving average of a sequence, read in windows by islice."""
    smooth = list(accumulate(x, lambda a, b: (1.0 - alpha) * a + alpha * b))
    head = sum(v * v for v in islice(smooth, 0, 3))
    tail = sum(islice(smooth, 3, None, 2))
    return head - tail


def regularized_layers(W1, W2, b, lam):
    """An L2 penalty over every parameter of two layers, chained."""
    return lam * sum(w * w for w in chain(W1.ravel(), W2.ravel(), b))


def soft_threshold_units(z, t):
    """A soft threshold of two arguments, applied elementwise by np.vectorize."""
    def shrink(v, th):
        if v > th:
            return v - th
        if v < -th:
            return v + th
        return 0.0

    act = np.vectorize(shrink)
    return np.sum(act(z, t) ** 2) + np.sum(act(z * 0.5, 0.1))


def haar_step_loss(x):
    """One Haar wavelet step on a list: averages and details of even and odd items,
    written back interleaved by slices with a step."""
    xs = list(x)
    evens, odds = xs[::2], xs[1::2]
    avg = [(a + b) / np.sqrt(2.0) for a, b in zip(evens, odds)]
    det = [(a - b) / np.sqrt(2.0) for a, b in zip(evens, odds)]
    out = [0.0] * len(xs)
    out[::2] = avg
    out[1::2] = [d * d for d in det]
    return sum(v * (k + 1) for k, v in enumerate(out))


# ---------------------------------------------------------------- text-ish


def bigram_score(emb, tokens):
    """A bigram model: consecutive token embeddings' inner products, softplus'ed."""
    score = 0.0
    for a, b in pairwise(tokens):
        score += np.log1p(np.exp(emb[a] @ emb[b]))
    return score


def word_weight_softmax(weights, words):
    """Weights summed per word (a dict filled by words that repeat), then a softmax."""
    totals = {}
    for w, v in zip(words, weights):
        totals[w] = totals.setdefault(w, 0.0) + v
    vals = list(totals.values())
    m = max(vals)
    z = sum(np.exp(v - m) for v in vals)
    return -np.log(np.exp(totals["the"] - m) / z)


def padded_pairs(x, y):
    """Pairs of two lists of different lengths, padded by zip_longest."""
    return sum(a * b for a, b in itertools.zip_longest(x, y, fillvalue=1.0))


def interaction_terms(x, order):
    """Products of every ``order`` features: the tuples' length known only when the
    program runs, which srcad refuses (it unpacks each by its number)."""
    return sum(np.prod(c) for c in itertools.combinations(x, order))


CASES = [
    Case("spring_chain_energy", spring_chain_energy,
         lambda rng: (rng.normal(size=5), rng.normal(size=5), rng.uniform(0.5, 2.0)),
         wrt=(0, 1, 2), note="pairwise over zip of coordinates"),
    Case("pair_potential", pair_potential,
         lambda rng: (rng.normal(size=(4, 2)), rng.uniform(0.5, 1.5)), wrt=(0, 1),
         note="itertools.combinations of an array's rows"),
    Case("image_radial_prior", image_radial_prior,
         lambda rng: (rng.normal(size=(3, 4)),), wrt=0, note="np.ndenumerate of an image"),
    Case("grid_smoothness", grid_smoothness,
         lambda rng: (rng.normal(size=(3, 4)),), wrt=0,
         note="itertools.product of ranges and np.ndindex"),
    Case("cumulative_hazard_survival", cumulative_hazard_survival,
         lambda rng: (list(rng.uniform(0.1, 1.0, size=5)), 0.3, 2), wrt=(0, 1),
         note="itertools.accumulate of a generator"),
    Case("grouped_means_by_label", grouped_means_by_label,
         lambda rng: (rng.normal(size=7), ["a", "b", "a", "c", "b", "a", "c"]), wrt=0,
         note="d.get and d.setdefault of labels that vary in a loop"),
    Case("trimmed_mean", trimmed_mean,
         lambda rng: (rng.normal(size=6),), wrt=0, note="del of slices of a sorted list"),
    Case("product_of_running_odds", product_of_running_odds,
         lambda rng: (rng.uniform(0.2, 0.8, size=5),), wrt=0,
         note="itertools.accumulate with operator.mul"),
    Case("discounted_return_loss", discounted_return_loss,
         lambda rng: (rng.normal(size=5), rng.uniform(0.8, 0.99), rng.normal(size=5)),
         wrt=(0, 1, 2), note="accumulate of reversed rewards with a lambda, then [::-1]"),
    Case("ema_features", ema_features,
         lambda rng: (rng.normal(size=7), rng.uniform(0.2, 0.8)), wrt=(0, 1),
         note="accumulate with a lambda reading a parameter; islice windows"),
    Case("regularized_layers", regularized_layers,
         lambda rng: (rng.normal(size=(2, 3)), rng.normal(size=(3, 2)), rng.normal(size=2),
                      rng.uniform(0.1, 1.0)), wrt=(0, 1, 2, 3),
         note="itertools.chain of raveled arrays and a vector"),
    Case("soft_threshold_units", soft_threshold_units,
         lambda rng: (rng.normal(size=(2, 3)), rng.uniform(0.1, 0.5, size=3)), wrt=(0, 1),
         note="np.vectorize of two arguments, bound to a name first"),
    Case("haar_step_loss", haar_step_loss,
         lambda rng: (rng.normal(size=6),), wrt=0,
         note="xs[::2], xs[1::2] read and written on lists"),
    Case("bigram_score", bigram_score,
         lambda rng: (rng.normal(size=(5, 3)) * 0.5, [0, 3, 1, 3, 4, 2]), wrt=0,
         note="pairwise of token ids, reading embedding rows"),
    Case("word_weight_softmax", word_weight_softmax,
         lambda rng: (rng.normal(size=6), ["the", "cat", "the", "mat", "cat", "the"]),
         wrt=0, note="d[w] = d.setdefault(w, 0.0) + v over repeated words"),
    Case("padded_pairs", padded_pairs,
         lambda rng: (list(rng.normal(size=3)), list(rng.normal(size=2))), wrt=(0, 1),
         note="itertools.zip_longest with a fill value"),
    Case("interaction_terms", interaction_terms,
         lambda rng: (rng.normal(size=4), 2), wrt=0, expect="LOCATED", bad="combinations",
         msg=("does not know when it compiles",), note="combinations(x, r) of an r given when the program runs"),
]
