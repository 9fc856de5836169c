"""Realistic programs of stop 31's classes: methods that change a list, an array or a
dict in place (sort, insert, remove, reverse, update, setdefault, fill, del of an item),
lists spliced from slices, and gradients through counts (``len``), which must be floats.
Each was refused, wrong or an int before; the last few are refused at the line."""

import math

import numpy as np
from _spec import Case


def trimmed_mean_loss(w, samples):
    """A robust loss: the mean of the scaled samples without the extremes (sort)."""
    values = [w * s + 0.1 * w * w for s in samples]
    values.sort()
    kept = values[1:-1]
    return sum(kept) / len(kept)


def top_k_margin(scale, scores):
    """The margin between the best two scaled scores, kept sorted as they arrive."""
    best = []
    for s in scores:
        best.append(math.tanh(scale * s))
        best.sort(reverse=True)
        if len(best) > 2:
            best.pop()
    return best[0] - best[1]


def median_of_estimates(theta):
    """The median of three estimators of a location, each a smooth function of theta."""
    estimates = [theta * 1.1, math.sin(theta) + 0.5, theta * theta]
    estimates.sort()
    return estimates[1] ** 2


def backward_recursion(rate, cashflows):
    """A discounted value computed from the last cashflow back (list reversed)."""
    flows = list(cashflows)
    flows.reverse()
    value = 0.0
    for cash in flows:
        value = cash + value / (1.0 + rate)
    return value


def priority_insertion(x):
    """A small priority list kept ordered by inserting at the right position."""
    queue = [0.0]
    for k in range(1, 4):
        item = math.sin(x * k)
        position = 0
        while position < len(queue) and queue[position] < item:
            position += 1
        queue.insert(position, item)
    return queue[0] + 2.0 * queue[-1]


def outlier_removed_mean(x, data):
    """The mean after removing the largest residual's sample (list.remove)."""
    residuals = [(d - x) ** 2 for d in data]
    residuals.remove(max(residuals))
    return sum(residuals) / len(residuals)


def sorted_quantile_loss(w, X, y):
    """A pinball-style loss on the sorted residuals of a linear model (ndarray.sort)."""
    r = y - X @ w
    r.sort()
    weights = np.linspace(0.1, 0.9, r.size)
    return np.sum(weights * r * r)


def masked_fill_energy(u):
    """A field whose boundary cells are filled with its first value (fill of a view)."""
    field = np.tanh(u) * 1.0
    boundary = field[:2]
    boundary.fill(u[0] * 0.5)
    return np.sum(field ** 2) + np.sum(np.diff(field) ** 2)


def merged_hyperparameters(log_scale, overrides):
    """A kernel's hyperparameters: defaults updated by the caller's overrides."""
    params = {"scale": math.exp(log_scale), "length": 1.0, "noise": 0.1}
    params.update(overrides)
    params.update(jitter=1e-6)
    d = 0.7
    k = params["scale"] * math.exp(-0.5 * d * d / params["length"] ** 2)
    return k / (k + params["noise"] + params["jitter"])


def grouped_means(x, groups):
    """Per-group sums built with setdefault, then the spread of the group totals."""
    totals = {}
    counts = {}
    for i, g in enumerate(groups):
        totals.setdefault(g, 0.0)
        counts[g] = counts.get(g, 0) + 1
        totals[g] += x[i]
    means = [totals[g] / counts[g] for g in totals]
    return sum((m - 1.0) ** 2 for m in means)


def sliding_window_history(x):
    """A fixed-length history: the oldest item deleted as each new one arrives."""
    window = [0.0, 0.0, 0.0]
    total = 0.0
    for k in range(5):
        del window[0]
        window.append(math.tanh(x * (k + 1)))
        total += window[0] * window[-1]
    return total


def spliced_control_points(knot, points):
    """A control polygon with one point spliced in (list slices joined), then its
    length squared."""
    pts = list(points)
    pts = pts[:1] + [knot] + pts[1:]
    return sum((b - a) ** 2 for a, b in zip(pts[:-1], pts[1:]))


def mean_per_item(scale, items):
    """A per-item average whose gradient is a count over a length: must be a float."""
    return scale * len(items) / (1.0 + len(items)) + sum(items)


def rotated_parameter(ys):
    """A rotation of a list parameter written with +: joins the lists, which srcad reads
    as numpy's addition: refused at the line (pass an array)."""
    shifted = ys[1:] + ys[:1]
    return shifted[0] * 3.0 + shifted[-1]


def sorted_callers_list(values):
    """Sorts the caller's list in place: refused at the line (work on a new list)."""
    values.sort()
    return values[0] * 2.0 + values[-1]


def dropped_key(x):
    """Deletes a key of a dict: refused at the line, with the comprehension to write."""
    d = {"a": 2.0 * x, "b": x * x}
    del d["a"]
    return d["b"] * x


CASES = [
    Case("trimmed_mean_loss", trimmed_mean_loss,
         lambda rng: (0.8, [0.3, 2.0, -1.0, 0.7, 1.5]), wrt=0),
    Case("top_k_margin", top_k_margin, lambda rng: (0.9, [0.3, 2.0, 1.1, -0.5]), wrt=0),
    Case("median_of_estimates", median_of_estimates, lambda rng: (0.6,)),
    Case("backward_recursion", backward_recursion,
         lambda rng: (0.05, [5.0, 5.0, 5.0, 105.0]), wrt=(0, 1)),
    Case("priority_insertion", priority_insertion, lambda rng: (0.45,)),
    Case("outlier_removed_mean", outlier_removed_mean,
         lambda rng: (0.3, [1.0, -0.5, 4.0, 0.2]), wrt=0),
    Case("sorted_quantile_loss", sorted_quantile_loss,
         lambda rng: (rng.normal(size=3), rng.normal(size=(8, 3)), rng.normal(size=8)), wrt=0),
    Case("masked_fill_energy", masked_fill_energy, lambda rng: (rng.normal(size=6),)),
    Case("merged_hyperparameters", merged_hyperparameters,
         lambda rng: (0.2, {"length": 1.5}), wrt=0),
    Case("grouped_means", grouped_means,
         lambda rng: (rng.normal(size=5), ["a", "b", "a", "c", "b"]), wrt=0),
    Case("sliding_window_history", sliding_window_history, lambda rng: (0.4,)),
    Case("spliced_control_points", spliced_control_points,
         lambda rng: (0.5, [0.0, 1.2, 0.4, 2.0]), wrt=(0, 1)),
    Case("mean_per_item", mean_per_item, lambda rng: (1.5, [1.0, 2.0, 4.0]), wrt=(0, 1)),
    Case("rotated_parameter", rotated_parameter, lambda rng: ([1.0, 2.0, 3.0],),
         expect="LOCATED", bad="ys[1:] + ys[:1]"),
    Case("sorted_callers_list", sorted_callers_list, lambda rng: ([3.0, 1.0, 2.0],),
         expect="LOCATED", bad="values.sort()"),
    Case("dropped_key", dropped_key, lambda rng: (0.3,), expect="LOCATED", bad='del d["a"]'),
]
