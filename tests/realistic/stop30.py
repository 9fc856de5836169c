"""Realistic programs of the classes the adversarial round of stop 30 found: numpy
reductions of lists a loop or a comprehension builds (they crashed), in-place products of
overlapping views (forward mode and Hessians were wrong), numpy functions of lists the
function makes, dicts copied, built from zip or nested and then updated item by item
(gradients were wrong), and the shallow copies srcad cannot follow, which are refused at
the line that changes them."""

import numpy as np
from _spec import Case


def polynomial_energy(x):
    """An energy written as a sum over its terms, each built by a comprehension."""
    coefficients = (0.5, -1.0, 0.25, 0.1)
    return np.sum([c * x**k for k, c in enumerate(coefficients)])


def mean_of_step_losses(theta):
    """Losses of a simple fixed-point iteration, collected with append and averaged."""
    losses = []
    state = 1.0
    for step in range(6):
        state = 0.5 * state + theta * np.sin(state + 0.1 * step)
        losses.append((state - 0.3) ** 2)
    return np.mean(losses) + 0.1 * np.std(losses)


def neighbour_products(x):
    """A running product of neighbours, written in place through a view of the buffer."""
    y = x.copy()
    head = y[:-1]
    head *= y[1:]  # numpy reads y[1:] as it was: y[i] = x[i] * x[i + 1]
    return np.sum(y**2)


def symmetrised_outer(x):
    """A rank-one matrix multiplied in place by its own transpose (a view of it)."""
    A = np.outer(x, np.arange(1.0, x.size + 1.0))
    A *= A.T
    return np.sum(np.tanh(A))


def length_of_made_vector(a):
    """The squared length of a vector given as a list the function makes."""
    v = [a, 2.0 * a, np.sin(a)]
    return np.dot(v, v) + np.sum(np.clip(v, -0.5, 0.5))


def annealed_config(rate, decay):
    """A config dict of numbers, copied and changed: the copy's numbers are its own."""
    p = {"rate": rate, "decay": decay}
    q = dict(p)
    q["rate"] *= 0.5
    q["decay"] -= 0.1 * q["rate"]
    return q["rate"] * p["rate"] + q["decay"] ** 2


def decayed_nested_weights(w, b):
    """A model held in nested dicts; a weight decays in place through the nesting."""
    model = {"layer": {"w": w * 1.0, "b": b}}
    model["layer"]["w"] *= 0.9
    out = np.tanh(model["layer"]["w"] @ np.array([0.5, -1.0]) + model["layer"]["b"])
    return out**2 + np.sum(w**2)


def scaled_from_zip(w, b):
    """Parameters named by zipping names with arrays, then one scaled in place."""
    named = dict(zip(["w", "b"], [w * 1.0, b * 1.0]))
    named["w"] *= 2.0
    return np.sum(named["w"] ** 2) + np.sum(w * named["b"])


def sgd_step_on_a_copy(params):
    """params.copy() copies the dict, not its arrays: the update changes params too."""
    new = params.copy()
    new["w"] -= 0.1 * new["w"]
    return np.sum(params["w"] ** 2) + np.sum(new["w"])


def split_then_scaled(x):
    """np.split returns views: scaling a part in place scales x's copy y."""
    y = x.copy()
    parts = np.split(y, 2)
    parts[1] *= 5.0
    return np.sum(y**2)


def accumulators_from_one_buffer(x):
    """Accumulators made by a comprehension of one array: the same array three times,
    so the first update changes all of them (each item of the list sees it)."""
    zero = np.zeros(3)
    acc = [zero for _ in range(3)]
    acc[1] += x
    return np.sum(acc[0] * x)


def bond_price_list_cashflows(y):
    """Cash flows as a Python list times discount factors (an array): numpy's
    elementwise product, which srcad reads as repeating a list (refused)."""
    cashflows = [5.0, 5.0, 105.0]
    t = np.array([1.0, 2.0, 3.0])
    return np.sum(cashflows * np.exp(-y * t))


def padded_buffer(x, n):
    """A buffer of n zeros (a list times an int), filled and summed."""
    buf = [0.0] * n
    for i in range(n):
        buf[i] = np.tanh(x * (i + 1))
    return sum(buf) / n


def history_of_one_state(x):
    """The same list appended in every iteration and then changed in place: the history
    holds one list three times (refused where it is changed)."""
    state = [0.0, 0.0]
    history = []
    for step in range(3):
        state[0] = x * step
        history.append(state)
    return history[0][0] + history[1][0]


def grouped_sums_by_get(x):
    """The counting idiom: sums by group with d.get(key, 0.0), a dict that gains keys."""
    totals = {}
    for i in range(x.size):
        group = i % 2
        totals[group] = totals.get(group, 0.0) + x[i] ** 2
    return totals[0] * totals[1]


def layer_config_by_name(x):
    """A layer's dict held by a name and by the model's dict; a weight set through the
    name is what the model reads (it crashed in the optimised gradient)."""
    layer = {"w": x * 1.0, "b": 0.5}
    model = {"hidden": layer}
    layer["w"] = np.tanh(x) * 4.0
    return np.sum(model["hidden"]["w"] ** 2) + model["hidden"]["b"]


def slice_of_parameter_layers(layers):
    """A slice of a parameter's list of dicts holds the caller's dicts: writing a weight
    through it is refused at the line."""
    first_two = layers[:2]
    first_two[0]["w"] = first_two[0]["w"] * 2.0
    return np.sum(layers[0]["w"] ** 2)


def weighted_by_a_made_list(x):
    """A list the function makes (of differentiated values) times an array: numpy's
    product, which srcad reads as repetition; refused even in the version for floats,
    where a constant array can meet the list."""
    w = [x, 2.0 * x]
    return np.sum(w * np.array([1.0, 3.0]))


def offsets_added_in_place(x):
    """`offsets += x` of a list and an array is numpy's addition (lists have no `+=` of
    their own that numpy does not take first), not extend: refused."""
    offsets = [1.0, 2.0]
    offsets += x
    return np.sum(np.asarray(offsets) ** 2)


def residual_against_a_list(x):
    """An array minus a list display, and divided by one: numpy's arithmetic (it crashed
    in forward mode, where the list's tangent was a list)."""
    c = np.array([1.0, 2.0])
    return np.sum((c - [x, 2 * x]) ** 2) + np.sum(c / [x, 1.0])


CASES = [
    Case("polynomial_energy", polynomial_energy, lambda rng: (0.7,)),
    Case("mean_of_step_losses", mean_of_step_losses, lambda rng: (0.4,)),
    Case("neighbour_products", neighbour_products, lambda rng: (rng.normal(size=5),)),
    Case("symmetrised_outer", symmetrised_outer, lambda rng: (rng.normal(size=3) * 0.5,)),
    Case("length_of_made_vector", length_of_made_vector, lambda rng: (0.3,)),
    Case("annealed_config", annealed_config, lambda rng: (0.8, 0.3), wrt=(0, 1)),
    Case("decayed_nested_weights", decayed_nested_weights,
         lambda rng: (rng.normal(size=2), 0.2), wrt=(0, 1)),
    Case("scaled_from_zip", scaled_from_zip,
         lambda rng: (rng.normal(size=3), rng.normal(size=3)), wrt=(0, 1)),
    Case("sgd_step_on_a_copy", sgd_step_on_a_copy,
         lambda rng: ({"w": rng.normal(size=3)},), expect="LOCATED", bad='new["w"] -='),
    Case("split_then_scaled", split_then_scaled, lambda rng: (rng.normal(size=4),),
         expect="LOCATED", bad="parts[1] *="),
    Case("accumulators_from_one_buffer", accumulators_from_one_buffer,
         lambda rng: (rng.normal(size=3),)),
    Case("bond_price_list_cashflows", bond_price_list_cashflows, lambda rng: (0.03,),
         expect="LOCATED", bad="cashflows * np.exp"),
    Case("padded_buffer", padded_buffer, lambda rng: (0.4, 4), wrt=0),
    Case("history_of_one_state", history_of_one_state, lambda rng: (0.7,),
         expect="LOCATED", bad="state[0] ="),
    Case("grouped_sums_by_get", grouped_sums_by_get, lambda rng: (rng.normal(size=5),)),
    Case("layer_config_by_name", layer_config_by_name, lambda rng: (rng.normal(size=3),)),
    Case("slice_of_parameter_layers", slice_of_parameter_layers,
         lambda rng: ([{"w": rng.normal(size=2)}, {"w": rng.normal(size=2)}],),
         expect="LOCATED", bad='first_two[0]["w"] ='),
    Case("weighted_by_a_made_list", weighted_by_a_made_list, lambda rng: (0.7,),
         expect="LOCATED", bad="w * np.array"),
    Case("offsets_added_in_place", offsets_added_in_place,
         lambda rng: (rng.normal(size=2),), expect="LOCATED", bad="offsets += x"),
    Case("residual_against_a_list", residual_against_a_list, lambda rng: (0.7,)),
]
