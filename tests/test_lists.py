"""Lists a function builds: ``append``/``extend``/``+=``, comprehensions, ``+`` and ``*``
of lists, item writes, ``list(...)`` copies and the builtin ``sum``, then ``np.array``,
``np.stack``, ``np.concatenate``, indexing and loops over them (issue 14).

Every gradient is checked four ways (central differences, optimize=False, forward mode,
the value of value_and_grad): ``check_four_ways`` in conftest, rtol 1e-6.
Refusals (a list shared with another name, a parameter's list, a list grown while a loop
runs over it) must name the user's line.
"""

from __future__ import annotations

import bisect
import collections
import itertools
import math
from collections import deque
from pathlib import Path

import numpy as np
import pytest
from conftest import check_four_ways, marker_line

import srcad

THIS_FILE = Path(__file__).name
X = np.array([0.3, -0.7, 1.1])


# ---------------------------------------------------------------- lists grown in loops


def rnn_states(x):
    hs = []
    h = 0.0 * x
    for _ in range(4):
        h = np.tanh(0.8 * h + x)
        hs.append(h)
    return np.sum(np.array(hs) ** 2)


def trajectory_stack(x):
    pos, vel = x, np.zeros(3)
    path = [pos]
    for _ in range(5):
        vel = vel - 0.1 * np.sin(pos)
        pos = pos + 0.1 * vel
        path.append(pos)
    return np.sum(np.stack(path, axis=1) ** 2)


def pieces_concatenated(x):
    parts = []
    for k in range(3):
        parts.append(x[k:] * (k + 1))
    return np.sum(np.concatenate(parts) ** 2)


def summed_list(x):
    terms = []
    for k in range(1, 4):
        terms.append(np.sum(x**k) / k)
    return sum(terms)


def summed_with_start(x):
    rows = [x * 2.0, np.sin(x)]
    return np.sum(sum(rows, np.ones(3)) ** 2)


def last_state_read_back(x):
    hs = [x]
    for _ in range(3):
        hs.append(np.tanh(1.5 * hs[-1]))
    return np.sum(hs[-1] * hs[1])


def appended_in_branches(x):
    kept = []
    for k in range(3):
        if x[k] > 0:
            kept.append(x[k] ** 2)
        else:
            kept.append(-x[k])
    return sum(kept)


def append_until_break(x):
    seen = []
    total = 0.0
    for k in range(3):
        total = total + x[k] * x[k]
        if total > 1.0:
            break
        seen.append(total)
    return sum(seen) + len(seen)


def extended_lists(x):
    out = []
    for k in range(2):
        out.extend([x[k], x[k + 1] * x[k]])
    out += [x[2] ** 3]
    return np.sum(np.array(out) ** 2)


def rows_of_a_matrix(x):
    kernel = []
    for i in range(3):
        row = []
        for j in range(3):
            row.append(np.exp(-((x[i] - x[j]) ** 2)))
        kernel.append(row)
    K = np.array(kernel)
    return np.sum(K @ x)


def while_loop_history(x):
    history = [x[0]]
    value = x[0]
    while len(history) < 4:
        value = value * 0.5 + np.cos(value)
        history.append(value)
    return sum(history)


def empty_when_the_loop_does_not_run(x):
    extra = []
    for k in range(0):
        extra.append(x * k)
    return np.sum(x**2) + len(extra)


# ---------------------------------------------------------------- comprehensions


def comprehension_to_array(x):
    ys = [np.sin(x[i]) * i for i in range(3)]
    return np.sum(np.array(ys) ** 2)


def comprehension_over_items(x):
    squares = [v * v for v in x if v > -1.0]
    return sum(squares) * squares[0]


def nested_comprehension(x):
    grid = [[x[i] * x[j] for j in range(3)] for i in range(3)]
    return np.sum(np.array(grid) ** 2)


def generator_into_stack(x):
    return np.sum(np.stack([x * k for k in range(3)]) ** 2)


def comprehension_of_layers(x):
    weights = [np.linspace(-1.0, 1.0, 9).reshape(3, 3) * (k + 1) for k in range(2)]
    h = x
    for W in weights:
        h = np.tanh(W @ h)
    return np.sum(h)


# ---------------------------------------------------------------- + and * of lists, item writes


def concatenation(x):
    hs = [x[0]]
    hs = hs + [x[1] * 2.0]
    return np.sum(np.array(hs) ** 2)


def copy_then_concatenate(x):
    return np.sum(np.array(list(x) + [x[0]]) ** 2)


def float_buffer(x):
    out = [0.0] * 3
    for i in range(3):
        out[i] = x[i] ** 2
    out[0] += x[1]
    return sum(out) * out[2]


def buffer_of_dynamic_length(x):
    out = [0.0] * len(x)
    for i in range(len(x)):
        out[i] = np.sin(x[i]) * (i + 1)
    return sum(out)


def written_at_a_constant_position(x):
    pair = [x[0], x[1]]
    pair[1] = pair[1] * pair[0]
    return pair[0] + pair[1]


def copied_parameter_list(x, extra):
    extra = list(extra)
    extra.append(x[0] * x[1])
    return sum(extra) * x[2]


CASES = [
    rnn_states,
    trajectory_stack,
    pieces_concatenated,
    summed_list,
    summed_with_start,
    last_state_read_back,
    appended_in_branches,
    append_until_break,
    extended_lists,
    rows_of_a_matrix,
    while_loop_history,
    empty_when_the_loop_does_not_run,
    comprehension_to_array,
    comprehension_over_items,
    nested_comprehension,
    generator_into_stack,
    comprehension_of_layers,
    concatenation,
    copy_then_concatenate,
    float_buffer,
    buffer_of_dynamic_length,
    written_at_a_constant_position,
]


@pytest.mark.parametrize("f", CASES, ids=[f.__name__ for f in CASES])
def test_list_program(f):
    check_four_ways(f, X.copy())


def test_copied_parameter_list_leaves_the_callers_list_alone():
    extra = [1.0, 2.0]
    check_four_ways(copied_parameter_list, X.copy(), extra, wrt=0)
    srcad.grad(copied_parameter_list)(X.copy(), extra)
    assert extra == [1.0, 2.0]


def test_exact_values():
    # summed_list: d/dx sum_k sum(x^k)/k = 1 + x + x^2
    assert np.allclose(srcad.grad(summed_list)(X.copy()), 1 + X + X**2, rtol=1e-14)
    # float_buffer: f = (x0^2 + x1 + x1^2 + x2^2) * x2^2
    s = X[0] ** 2 + X[1] + X[1] ** 2 + X[2] ** 2
    expected = [2 * X[0] * X[2] ** 2, (1 + 2 * X[1]) * X[2] ** 2, 2 * X[2] ** 3 + 2 * X[2] * s]
    assert np.allclose(srcad.grad(float_buffer)(X.copy()), expected, rtol=1e-14)


def test_a_list_parameter_gets_a_list_gradient_through_np_array():
    def f(xs):
        return np.sum(np.array(xs) ** 2)

    xs = [np.array([1.0, 2.0]), np.array([3.0, -1.0])]
    grads = srcad.grad(f)(xs)
    assert isinstance(grads, list) and len(grads) == 2
    assert np.allclose(np.array(grads), 2 * np.array(xs), rtol=1e-14)


def test_generated_code_names_the_list():
    source = srcad.grad(rnn_states).backward_source
    assert "hs = appended(hs, h" in source, source


# ---------------------------------------------------------------- refusals


def appends_to_a_parameter(x, history):
    history.append(x * x)  # <param>
    return history[-1]


def appends_to_an_alias(x):
    hs = []
    ys = hs
    hs.append(x)  # <alias>
    return ys[0]


def appends_to_a_stored_list(x):
    rows = []
    row = [x]
    rows.append(row)
    row.append(x * 2.0)  # <stored>
    return rows[0][1]


def appends_to_the_iterated_list(x):
    hs = [x, x * 2.0]
    for h in hs:
        if len(hs) < 4:
            hs.append(h * 3.0)  # <iterated>
    return sum(hs)


def writes_a_list_slice(x):
    out = [0.0] * 3
    out[0:3:int(x) + 2] = [x, x]  # <slice>
    return sum(out)


def joins_a_list_it_pops(x):
    st = [x, 2.0 * x, 3.0 * x]
    ys = st + [st.pop() * x]  # <joined after pop>
    return sum(ys)


def sums_a_list_it_pops(x):
    st = [x, 2.0 * x, 3.0 * x]
    return st.pop() / sum(abs(v) for v in st)  # <summed after pop>


def adds_at_an_index_it_pops(x):
    st, acc = [x, 2.0 * x], [0.0, 0.0]
    acc[len(st) - 1] += st.pop()  # <index before pop>
    return acc[0] + 10.0 * acc[1]


def passes_a_list_it_pops(x):
    st = [x, 2.0 * x]
    return _first_and(ys=st, v=st.pop())  # <keyword before pop>


def _first_and(ys, v):
    return ys[0] + v * len(ys)


def appends_to_a_list_a_dict_holds(x):
    d = {"a": [x, 2.0 * x], "b": []}
    d["b"].append(d["a"][-1] * 2.0)  # <held list>
    return d["b"][0]


def sums_before_a_start_it_pops(x):
    st = [x, 2.0 * x, 3.0 * x]
    return sum([v * v for v in st], st.pop())  # <start pops>


def joins_a_chosen_list_it_pops(x):
    st, ys = [x, 2.0 * x, 3.0 * x], [9.0]
    zs = (st if x > 0.0 else ys) + [st.pop()]  # <chosen then pop>
    return sum(zs)


def pops_from_a_dict(x):
    d = {"a": x, "b": x * 2.0}
    a = d.pop("a")  # <dict pop>
    return a * d["b"]


@pytest.mark.parametrize(
    "f, tag, words",
    [
        (pops_from_a_dict, "dict pop", "make a new dict without the key"),
        (joins_a_chosen_list_it_pops, "chosen then pop", "in an order srcad does not follow"),
        (sums_before_a_start_it_pops, "start pops", "in an order srcad does not follow"),
        (appends_to_a_list_a_dict_holds, "held list", "changes a list that `d` holds"),
        (joins_a_list_it_pops, "joined after pop", "in an order srcad does not follow"),
        (sums_a_list_it_pops, "summed after pop", "in an order srcad does not follow"),
        (adds_at_an_index_it_pops, "index before pop", "compute the index"),
        (passes_a_list_it_pops, "keyword before pop", "in an order srcad does not follow"),
        (appends_to_a_parameter, "param", "did not make"),
        (appends_to_an_alias, "alias", "hold the same list"),
        (appends_to_a_stored_list, "stored", "hold the same list"),
        (appends_to_the_iterated_list, "iterated", "runs over it"),
        (writes_a_list_slice, "slice", "with a step srcad does not know"),
    ],
)
def test_refused_at_the_users_line(f, tag, words):
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(f, wrt=0)(0.5, [1.0]) if f is appends_to_a_parameter else srcad.grad(f)(0.5)
    error = info.value
    assert error.filename.endswith(THIS_FILE), str(error)
    assert error.lineno == marker_line(__file__, tag), str(error)
    assert words in str(error), str(error)


def display_after_an_early_return(x, y):
    # after the loop, the display exists on one path only (the other returned): it used
    # to stop lowering with an error that named no line
    for _ in range(3):
        if x > 1.0:
            return x
    parts = [y, x]
    parts += [np.cos(x)]
    return parts[-1] * parts[0]


def test_display_on_one_path_only():
    check_four_ways(display_after_an_early_return, 0.5, 0.3)
    check_four_ways(display_after_an_early_return, 1.5, 0.3)


# ---------------------------------------------------------------- the float version


def horner(coefficients, x):
    total = 0.0
    for c in coefficients:
        total = total * x + c
    return total


def first_crossing(a):
    s = 0.0
    for k in range(10):
        s = s + a * k
        if s > 5.0:
            return s  # an early return in a loop: `result = None` on the other paths
    return s * 2


def queue_cost(arrival, service, servers):
    load = arrival / service
    term, total = 1.0, 1.0
    for k in range(1, servers):
        term = term * load / k
        total += term
    return total * math.radians(2.0) + servers * arrival


def staged_buffer(x):
    out = [0.0] * 3
    for i in range(3):
        out[i] = x * i + math.sin(x)
    return sum(out) * max(out)


@pytest.mark.parametrize(
    "f, args",
    [
        (horner, ([1.0, -2.0, 0.5], 0.7)),
        (first_crossing, (0.3,)),
        (first_crossing, (2.0,)),
        (queue_cost, (4.0, 1.5, 5)),
        (staged_buffer, (0.4,)),
    ],
)
def test_scalar_code_with_lists_gets_the_float_version(f, args):
    every = tuple(range(len(args)))
    source = srcad.grad(f, wrt=every).backward_source
    assert "# this version is for Python floats" in source, source
    check_four_ways(f, *args, wrt=every if f is not queue_cost else (0, 1))


def ces_profit(params, capital, labour):
    """A production function with its parameters in a dict (as JAX code passes them)."""
    tfp, share, rho = params["tfp"], params["share"], params["rho"]
    output = tfp * (share * capital**rho + (1.0 - share) * labour**rho) ** (1.0 / rho)
    return 3.0 * output - 0.08 * capital - labour


CES_PARAMS = {"tfp": 1.5, "share": 0.35, "rho": 0.4}


def ces_of_inputs(capital, labour):
    return ces_profit(CES_PARAMS, capital, labour)


def test_a_dict_of_floats_gets_the_float_version():
    """Its items are read by string keys; the version for floats checks every value, and
    the power rule's log is math's for a float (numpy's log of a float costs ~20 times
    more: see srcad.runtime.exponent_slope)."""
    params = {"tfp": 1.5, "share": 0.35, "rho": 0.4}
    source = srcad.grad(ces_profit, wrt=(0, 1, 2)).backward_source
    assert "# this version is for Python floats" in source, source
    assert "not float_items(params)" in source and "exponent_slope(" in source, source
    dparams, dk, dl = srcad.grad(ces_profit, wrt=(0, 1, 2))(params, 70.0, 30.0)
    for key in params:  # (central differences, eps 1e-6: agree to ~1e-8)
        up, down = dict(params), dict(params)
        up[key] += 1e-6
        down[key] -= 1e-6
        numeric = (ces_profit(up, 70.0, 30.0) - ces_profit(down, 70.0, 30.0)) / 2e-6
        assert dparams[key] == pytest.approx(numeric, rel=1e-7)
    base = 0.35 * 70.0**0.4 + 0.65 * 30.0**0.4
    assert dparams["tfp"] == pytest.approx(3.0 * base ** 2.5, rel=1e-12)
    check_four_ways(ces_of_inputs, 70.0, 30.0)
    # an array value goes to the array version: the same gradient
    arrays = {key: np.float64(value) for key, value in params.items()}
    again = srcad.grad(ces_profit, wrt=(0, 1, 2))(arrays, 70.0, 30.0)
    assert again[0]["rho"] == pytest.approx(dparams["rho"], rel=1e-12)


def test_the_float_version_checks_every_item_of_a_list():
    source = srcad.grad(horner, wrt=(0, 1)).backward_source
    assert "coefficients_floats = as_floats(coefficients)" in source, source
    assert "coefficients_floats is None" in source, source
    # a 1-D float64 array, read item by item, is read as its list: the gradient is an array
    grads = srcad.grad(horner, wrt=(0, 1))(np.array([1.0, -2.0, 0.5]), 0.7)
    assert type(grads[0]) is np.ndarray and grads[0].dtype == np.float64
    assert np.allclose(grads[0], [0.49, 0.7, 1.0], rtol=1e-14)
    # float32, 2-D, or a list holding an array go to the array version: the same gradient
    grads = srcad.grad(horner, wrt=(0, 1))(np.array([1.0, -2.0, 0.5], np.float32), 0.7)
    assert grads[0].dtype == np.float32 and np.allclose(grads[0], [0.49, 0.7, 1.0])
    grads = srcad.grad(horner, wrt=(0, 1))([np.array(1.0), -2.0, 0.5], 0.7)
    assert np.allclose(grads[0], [0.49, 0.7, 1.0], rtol=1e-14)


def goertzel_power(omega, signal):
    coeff = 2.0 * math.cos(omega)
    s_prev, s_prev2 = 0.0, 0.0
    for sample in signal:
        s = sample + coeff * s_prev - s_prev2
        s_prev2, s_prev = s_prev, s
    return s_prev2**2 + s_prev**2 - coeff * s_prev * s_prev2


def centred_energy(w, x):
    """Reads ``x`` item by item and as an array: numpy's ``x - mean`` is no list's."""
    mean = np.mean(x)
    total = 0.0
    for k in range(len(x)):
        total += w * x[k] ** 2
    return total + w * np.sum((x - mean) ** 2)


def clipped_in_place(w, x):
    x[0] = 0.0  # (the caller's array is written: no list can stand for it)
    total = 0.0
    for v in x:
        total += w * v
    return total


def test_a_float_array_read_item_by_item_gets_the_float_version():
    """A 1-D float64 array the function reads only item by item (a loop, items, len,
    max...) is read as its list of Python floats: numpy's float64 scalars cost several
    times a float's arithmetic, and the array version un-broadcasts every scalar."""
    signal = np.sin(0.7 * np.arange(12.0)) + 0.1
    g = srcad.grad(goertzel_power, wrt=("omega", "signal"))
    source = g.backward_source
    assert "signal_floats = as_floats(signal)" in source, source
    domega, dsignal = check_four_ways(goertzel_power, 0.6, signal.copy())
    assert type(dsignal) is np.ndarray and dsignal.shape == (12,)
    # the float version on the array's list gives what the array version gives
    as_list = g(0.6, signal.tolist())
    assert as_list[0] == domega and np.array_equal(as_list[1], dsignal)
    # second derivatives differentiate the float version without its check
    hessian = srcad.hessian(goertzel_power, wrt="omega")(0.6, signal)
    step = 1e-5
    numeric = (g(0.6 + step, signal)[0] - g(0.6 - step, signal)[0]) / (2 * step)
    assert hessian == pytest.approx(numeric, rel=1e-6)


def test_an_array_read_as_an_array_or_written_is_not_read_as_a_list():
    x = np.array([0.5, -1.0, 2.0, 0.25])
    for f in (centred_energy, clipped_in_place):
        assert "as_floats(x)" not in srcad.grad(f, wrt=(0, 1)).backward_source
    check_four_ways(centred_energy, 0.7, x.copy())
    dw, dx = srcad.grad(clipped_in_place, wrt=(0, 1))(0.7, x.copy())
    assert dw == pytest.approx(x[1:].sum(), rel=1e-14)
    assert np.allclose(dx, [0.0, 0.7, 0.7, 0.7], rtol=1e-14)


def sigmoid(z):
    return 1.0 / (1 + math.exp(-z))


def sum_with_a_numpy_start(p, q):
    """``sum`` with a numpy start gives every item of the list the same gradient array;
    the backward loop then adds into one item (slow run of stop 24, program 2853)."""
    b = np.mean(0.5) + np.float64(0.0 * q)
    seq = [0.0] * 4
    for j in range(1, 4):
        seq[j] = 0.75 * seq[j - 1] + p
    r = sum(seq, b)
    for _ in range(3):
        q = q + sigmoid(r)
    return q


def test_items_that_share_one_gradient_array_are_not_updated_in_place():
    dp, dq = check_four_ways(sum_with_a_numpy_start, 0.3, -0.2)
    r = 0.5 + 0.3 * (1 + 1.75 + 0.75 * 1.75 + 1)
    s = 1 / (1 + math.exp(-r))
    assert dp == pytest.approx(3 * s * (1 - s) * (1 + 1.75 + 2.3125), rel=1e-12)
    assert dq == 1.0


# ---------------------------------------------------------------- lists grown in place in loops
# The version for floats appends in place and pops in the backward pass (O(1) per append,
# where a copy per iteration was O(n)). Each case reads the list while it grows.


def grown_recurrence(a, b):
    xs = [a, b]
    for i in range(2, 12):
        xs.append(0.5 * xs[i - 1] - 0.3 * xs[i - 2] + math.sin(xs[-1]))
    return sum(v * v for v in xs)


def grown_in_a_branch(a, b):
    xs = [a]
    for _ in range(8):
        if xs[-1] > 0.2:
            xs.append(xs[-1] * b)
        else:
            xs.append(xs[-1] + b * 0.5)
    return xs[-1] + xs[3] * xs[5]


def grown_in_nested_loops(a, b):
    rows = [a]
    for i in range(3):
        for j in range(3):
            rows.append(math.tanh(rows[-1] * b + 0.1 * j))
        rows.append(rows[-1] + rows[-2 - i])
    return sum(rows)


def grown_until_a_break(a, b):
    xs = [a]
    for _ in range(50):
        xs.append(xs[-1] * (1.0 + b))
        if xs[-1] > 3.0:
            break
    return xs[-1] + len(xs) * 0.01 + xs[len(xs) // 2]


def two_lists_and_a_constant(a, b):
    xs, ys = [a], []
    for _ in range(6):
        ys.append(0.5)  # (inactive)
        xs.append(xs[-1] * b + ys[-1])
        ys.append(xs[-1] ** 2)
    return ys[-1] + sum(xs) + ys[3]


@pytest.mark.parametrize(
    "f",
    [grown_recurrence, grown_in_a_branch, grown_in_nested_loops, grown_until_a_break,
     two_lists_and_a_constant],
    ids=lambda f: f.__name__,
)
def test_lists_grown_in_loops(f):
    check_four_ways(f, 0.6, 0.9)


def test_a_list_grown_in_a_loop_is_grown_in_place_in_the_version_for_floats():
    source = srcad.grad(grown_recurrence, wrt=(0, 1)).__srcad__.versions[0].compiled.source
    assert "xs.append(" in source and "xs.pop()" in source
    assert "appended" not in source and "leading_grad" not in source


def trajectory_summed(k, y0):
    path = [y0]
    y = y0
    for _ in range(20):
        y = y - 0.1 * k * y
        path.append(y)
    return sum(path) * 0.1


def test_a_grown_list_nothing_reads_in_the_backward_pass_is_not_restored():
    """The backward pass pops ``path`` only where it reads ``path`` again: here it reads
    only its adjoint's items, so the restore is dead code (a pop per iteration saved)."""
    check_four_ways(trajectory_summed, 0.8, 1.3)
    source = srcad.grad(trajectory_summed, wrt=(0, 1)).__srcad__.versions[0].compiled.source
    assert "path.append(y)" in source and " path.pop()" not in source  # (dpath.pop() is)
    assert "xs.pop()" in srcad.grad(grown_recurrence, wrt=(0, 1)).__srcad__.versions[
        0].compiled.source  # (it reads xs[i - 1] in the backward pass: restored)


def sum_of_arrays_grown_in_a_loop(x):
    ps = [x]
    for _ in range(3):
        ps.append(ps[-1] * 0.5)  # (reads the list as it grows)
    return np.sum(sum(ps))


def nested_sums_of_grown_lists(a):
    outer = [a]
    for _ in range(3):
        inner = [outer[-1]]
        for _ in range(2):
            inner.append(inner[-1] * 0.5)
        outer.append(sum(inner))
    return outer[-1] * 1.0


def item_write_into_a_list_parameter(xs):
    xs[0] = xs[1] * xs[2]
    return xs[0] + xs[1] * xs[2] ** 2


def test_the_items_of_a_sum_over_a_list_of_arrays_get_their_own_adjoints():
    """sum(ps) gave every item the same adjoint array; the loop's backward pass then
    added into one item's adjoint in place, which changed the others'."""
    check_four_ways(sum_of_arrays_grown_in_a_loop, np.array([0.3, -0.7]))
    for kind in (float, np.float64, np.array):
        check_four_ways(nested_sums_of_grown_lists, kind(0.7))


def test_an_item_write_into_a_list_of_floats_given_as_a_parameter():
    check_four_ways(item_write_into_a_list_parameter, [0.3, -0.8, 1.2])


def scaled_through_a_list(x, y):
    pair = [x, 2.0 * y]
    pair[0] *= 3.0  # (x's array, changed in place: x is 3 x now)
    for i in range(2):
        pair[i] += 0.5
    return np.sum(x * pair[1]) + np.sum(pair[0] ** 2)


def copied_list_written_in_place(xs):
    ys = list(xs)
    ys[0] *= 3.0  # <shared-item>
    return np.sum(ys[0] * xs[1])


def test_an_augmented_write_into_a_list_item_changes_the_array_it_holds():
    """``items[i] op= w`` is ``item = items[i]; item op= w; items[i] = item``, as Python runs
    it: an array item changes in place, and so does every name that holds it (srcad made a
    new array for the item, and `x` kept its old value: silently wrong). Where another list
    holds that array too, the gradient refuses at the line."""
    x, y = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    check_four_ways(scaled_through_a_list, x, y, wrt=(0, 1))
    assert srcad.value_and_grad(scaled_through_a_list)(x.copy(), y)[0] == \
        scaled_through_a_list(x.copy(), y)
    with pytest.raises(srcad.SrcadError, match="also holds what this line changes") as caught:
        srcad.grad(copied_list_written_in_place)([x, y])
    assert caught.value.lineno == marker_line(__file__, "shared-item")


def predator_prey_unpacked(a):
    state = [1.0, 0.5]
    for _ in range(3):
        prey, pred = state  # (binds the items: nothing else holds the list)
        state[0] = prey + a * prey * pred
        state[1] = pred - a * prey
    return state[0] + state[1]


def test_unpacking_a_list_then_writing_its_items():
    """``prey, pred = state`` binds the items, not the list: a later ``state[0] = v`` is
    the function's own write (it was refused as a list another name holds)."""
    check_four_ways(predator_prey_unpacked, 0.3)


def running_stats(xs, target_mean, target_var):
    stats = [0.0, 0.0, 0.0]  # count, mean, M2 (Welford)
    for x in xs:
        stats[0] += 1.0
        delta = x - stats[1]
        stats[1] += delta / stats[0]
        stats[2] += delta * (x - stats[1])
    var = stats[2] / (stats[0] - 1)
    return (stats[1] - target_mean) ** 2 + (var - target_var) ** 2


def test_numbers_updated_in_place_in_a_list_keep_the_version_for_floats():
    """``stats[1] += v`` runs as ``item = stats[1]; item += v; stats[1] = item``; for
    numbers the line that writes the item back is the next one anyway, so the gradient
    keeps its version for Python floats (the item's in-place update had lost it)."""
    xs = [0.3, -1.2, 0.8, 1.5, -0.4]
    assert "this version is for Python floats" in srcad.grad(running_stats).backward_source
    check_four_ways(running_stats, xs, 0.2, 1.1, wrt=(0, 1, 2))


def doubled_item_read_before(xs):
    a = xs[0]  # (the same array as xs[0]: it sees the write below)
    xs[0] *= 2.0
    return np.sum(a * xs[1])


def scaled_items(A, s):
    for i in range(2):
        A[i] *= s  # (an array parameter: rows changed in place)
        A[i, 0] += 1.0
    return np.sum(A ** 2)


def test_an_augmented_write_into_an_item_of_a_parameter_changes_the_item():
    """``xs[0] *= 2`` on a parameter runs as Python does too (a list of arrays: the
    array changes in place, so ``a``, read before, sees it; it kept the old values, and
    the value and the gradient were wrong). Array parameters take the same path."""
    xs = [np.array([1.0, 2.0]), np.array([0.5, -1.0])]
    value, (d0, d1) = srcad.value_and_grad(doubled_item_read_before)([x.copy() for x in xs])
    assert value == doubled_item_read_before([x.copy() for x in xs]) == -3.0
    np.testing.assert_allclose(d0, 2.0 * xs[1], rtol=1e-12)
    np.testing.assert_allclose(d1, 2.0 * xs[0], rtol=1e-12)
    check_four_ways(scaled_items, np.array([[1.0, 2.0], [0.5, -1.0], [0.2, 0.1]]), 0.7,
                    wrt=(0, 1))


def scaled_first_item(xs, w):
    xs[0] *= w  # <shared-items>
    return np.sum(xs[1] ** 2) + np.sum(xs[0])


def dict_row_scaled(M):
    A = M.copy()
    d = {"row": A[0]}
    d["row"] *= 3.0  # <dict-view>
    return np.sum(A * A)


def pairs_extended(x):
    pairs = [(x[0], x[1]), (x[1], x[2])]
    pairs[1] += (x[0],)  # (a tuple joined to the item: a new tuple)
    return pairs[1][0] * pairs[1][2]


def test_item_updates_that_srcad_cannot_follow_are_refused():
    """A list parameter whose arrays share memory (two views of one array) written in
    place, and a dict's value that is a view written in place, are refused at the line
    (both were silently wrong); a tuple item extended with ``+=`` is a new tuple (it
    crashed)."""
    base = np.array([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(srcad.SrcadError, match="share memory") as caught:
        srcad.value_and_grad(scaled_first_item, wrt=(0, 1))([base[:3], base[1:]], 2.0)
    assert caught.value.lineno == marker_line(__file__, "shared-items")
    # separate arrays, and views of one array that do not overlap, are fine
    check_four_ways(scaled_first_item, [np.ones(3), np.arange(3.0)], 2.0, wrt=1)
    halves = np.arange(1.0, 7.0)
    assert srcad.grad(scaled_first_item, wrt=1)([halves[:3], halves[3:]], 2.0) == 6.0
    with pytest.raises(srcad.SrcadError) as caught:
        srcad.grad(dict_row_scaled)(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert caught.value.lineno == marker_line(__file__, "dict-view")
    check_four_ways(pairs_extended, np.array([0.5, 2.0, -1.0]))


def grown_through_a_dict(a):
    xs = [a]
    held = {"k": xs}
    xs.append(a * a)  # <grown in a dict>
    return held["k"][-1]


def grown_in_a_loop_through_an_alias(a):
    xs = [a]
    ys = xs
    for _ in range(3):
        xs.append(xs[-1] * a)  # <grown in a loop>
    return ys[-1]


@pytest.mark.parametrize("f, tag", [(grown_through_a_dict, "grown in a dict"),
                                    (grown_in_a_loop_through_an_alias, "grown in a loop")])
def test_growing_a_list_another_holder_sees_is_refused(f, tag):
    """A dict display holds the list itself, and so does an alias made before a loop that
    grows it: the new list value would not be what the other holder sees (it was silently
    the old one)."""
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(f)(0.7)
    assert info.value.lineno == marker_line(__file__, tag)
    assert "hold the same list" in info.value.message


def weight_normalised(params, x):
    params["w"] = params["g"] * params["v"] / np.linalg.norm(params["v"])
    return np.sum(np.tanh(x @ params["w"]) ** 2)


def test_an_item_the_function_replaces_gets_zeros_of_its_shape():
    """``params["w"]`` is replaced before it is read: its gradient is zero, as an array
    of its shape (it was the number 0.0)."""
    params = {"w": np.ones(3), "g": 1.5, "v": np.array([0.3, -0.4, 1.2])}
    x = np.array([[0.2, 0.1, -0.3], [0.5, -0.2, 0.4]])
    grads = srcad.grad(weight_normalised)(dict(params), x)
    assert isinstance(grads["w"], np.ndarray) and grads["w"].shape == (3,)
    np.testing.assert_array_equal(grads["w"], 0.0)
    v, g = params["v"], params["g"]

    def loss(v, g):
        return np.sum(np.tanh(x @ (g * v / np.linalg.norm(v))) ** 2)

    dv, dg = srcad.grad(loss, wrt=(0, 1))(v, g)
    np.testing.assert_allclose(grads["v"], dv, rtol=1e-12)
    assert grads["g"] == pytest.approx(dg, rel=1e-12)


def sorted_parameters(params):
    total = 0.0
    for name, v in sorted(params.items()):
        total += (len(name) * v) ** 2
    return total


def pair_energy(w):
    s = 0.0
    for i, j in itertools.product(range(3), range(3)):
        s += w[i] * w[j] * (i + j)
    return s + sum((w[i] - w[j]) ** 2 for i, j in itertools.combinations(range(3), 2))


def test_sorted_items_and_loops_over_iterators():
    """``sorted(d.items())`` sorts tuples (its gradient's order is Python's own sort),
    and a loop over ``itertools.product`` runs over its items (both crashed)."""
    p = {"a": 0.5, "b": 1.5, "cc": -0.3}
    grads = srcad.grad(sorted_parameters)(p)
    assert grads == {k: pytest.approx(2 * len(k) ** 2 * v) for k, v in p.items()}
    (dw,) = check_four_ways(pair_energy, np.array([0.5, 1.0, -0.7]))
    w = np.array([0.5, 1.0, -0.7])
    want = [sum(w[j] * (i + j) * 2 for j in range(3)) + 2 * sum(w[i] - w[j] for j in range(3))
            for i in range(3)]
    np.testing.assert_allclose(dw, want, rtol=1e-12)


def splices_a_value_into_a_list(x, ys):
    xs = ys[:1] + [x] + ys[1:]
    return xs[1] * xs[2]


def splices_copies_of_a_list(x, ys):
    xs = list(ys[:1]) + [x * x] + list(ys[1:])
    return xs[1] * xs[2] + xs[0]


@pytest.mark.parametrize("f", [splices_a_value_into_a_list, splices_copies_of_a_list])
def test_a_sum_of_lists_whose_left_side_is_itself_a_sum_joins_them(f):
    # `ys[:1] + [x] + ys[1:]`: the outer `+` was numpy's addition of the joined list and
    # the slice; both gradients wrong (round 31)
    gx, gys = check_four_ways(f, 0.8, [1.0, 2.0, 3.0])
    xs = [1.0, 0.8 if f is splices_a_value_into_a_list else 0.64, 2.0, 3.0]
    assert gx == pytest.approx(2.0 if f is splices_a_value_into_a_list else 2 * 0.8 * 2.0)
    assert gys[1] == pytest.approx(xs[1])


def joins_slices_of_a_parameter(ys):
    xs = ys[1:] + ys[:1]  # <joins>
    return xs[0] * 5.0


def repeats_a_parameter(ys):
    return sum(ys * 2)  # <repeats>


@pytest.mark.parametrize("f, tag", [(joins_slices_of_a_parameter, "joins"),
                                    (repeats_a_parameter, "repeats")])
def test_joining_or_repeating_lists_given_as_arguments_is_refused(f, tag):
    # read as numpy's arithmetic: with lists, the gradient was wrong or crashed inside
    # srcad's unbroadcast (round 31); with arrays it is numpy's and right
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(f)([1.0, 2.0, 3.0])
    assert info.value.lineno == marker_line(__file__, tag), str(info.value)
    assert "np.asarray" in str(info.value)
    got = srcad.grad(f)(np.array([1.0, 2.0, 3.0]))
    want = np.array([5.0, 5.0, 0.0]) if f is joins_slices_of_a_parameter else np.full(3, 2.0)
    assert np.allclose(got, want)


def rotates_a_made_list(x):
    xs = [v for v in x]
    ys = xs[2:] + xs[:2]
    return ys[0] + 10.0 * ys[1] + 100.0 * ys[2] + 1000.0 * ys[3]


def rotates_a_display(x):
    xs = [x[0], x[1], x[2]]
    ys = xs[1:] + xs[:1]
    return ys[0] + 10.0 * ys[1] + 100.0 * ys[2]


def joins_copies_of_slices(ys):
    zs = list(ys[1:]) + list(ys[:1])
    return zs[0] + 10.0 * zs[1] + 100.0 * zs[2]


def sorts_and_grows_tolist(x):
    xs = x.tolist()
    xs.sort()
    xs += [x[0] * 2.0]
    return xs[0] + 2.0 * xs[2] + 3.0 * xs[-1]


@pytest.mark.parametrize("f, arg", [
    (rotates_a_made_list, np.array([0.3, -1.2, 2.0, 0.7])),
    (rotates_a_display, np.array([0.3, -1.2, 2.0])),
    (joins_copies_of_slices, [0.3, -1.2, 2.0]),
    (sorts_and_grows_tolist, np.array([1.5, 2.0, 0.3])),
])
def test_slices_and_copies_of_lists_joined_by_plus(f, arg):
    # `xs[2:] + xs[:2]` of lists the function made was numpy's addition: a wrong gradient
    # ([1, 10, 1, 10] for [100, 1000, 1, 10]) or a crash, also for the list(...) copies
    # srcad's own refusal advises; a tolist() result was taken for an array (round 28)
    check_four_ways(f, arg)


def list_into_a_dict_by_name(x):
    c = [x, 2.0 * x]
    d = {"a": 1.0}
    d["c"] = c
    return d["c"][0] * d["c"][1]


def list_display_into_a_dict(x):
    d = {"a": 1.0}
    d["c"] = [x, 2.0 * x]
    c = d["c"]
    return c[0] + (c + [1.5])[2] * x  # (a list: + joins it)


@pytest.mark.parametrize("f", [list_into_a_dict_by_name, list_display_into_a_dict])
def test_a_list_written_into_a_dict_stays_a_list(f):
    # the display was stored as an array (its + was refused as numpy's addition), and a
    # list by name failed in the gradient's unbroadcast (round 29)
    check_four_ways(f, 0.7)


def discounted_events(rate, events):
    """Cash flows sorted by time: ``sorted(events, key=lambda e: e[0])``."""
    ordered = sorted(events, key=lambda e: e[0])
    value, t_prev = 0.0, 0.0
    for t, amount in ordered:
        value += amount * math.exp(-rate * (t - t_prev))
        t_prev = t
    return value


def largest_two(w, scores):
    ranked = sorted(scores, key=abs, reverse=True)
    return w * ranked[0] + ranked[1] ** 2


def nearest_two(w, xs):
    """The key reads ``w``: the order is piecewise constant in it (no gradient)."""
    close = sorted(xs, key=lambda v: (v - w) ** 2)
    return close[0] * w + close[1]


def rounded_order(w, xs):
    """Equal keys keep their order (Python's sort is stable), reversed too."""
    r = sorted(xs, key=lambda v: round(v), reverse=True)
    return r[0] * w + 2.0 * r[1] + r[2]


def cheapest_first(w, prices):
    names = sorted(prices, key=prices.get)
    return w * prices[names[0]] + prices[names[-1]]


def test_sorted_with_a_key_routes_each_items_gradient_through_the_order():
    events = [(2.0, 1.0), (0.5, 3.0), (1.25, -2.0)]
    drate, devents = check_four_ways(discounted_events, 0.3, events)
    assert type(devents) is list and type(devents[0]) is tuple
    # the amount of the event at t=0.5 (first in time) is discounted by exp(-0.3 * 0.5)
    assert devents[1][1] == pytest.approx(math.exp(-0.15), rel=1e-14)
    dw, dscores = check_four_ways(largest_two, 0.5, [1.0, -3.0, 2.0, 0.5])
    assert dw == -3.0 and dscores == [0.0, 0.5, 4.0, 0.0]
    dw, dxs = check_four_ways(nearest_two, 0.4, [1.0, -3.0, 2.0, 0.5])
    assert dw == 0.5 and dxs == [1.0, 0.0, 0.0, 0.4]
    value, (dw, dxs) = srcad.value_and_grad(rounded_order, wrt=(0, 1))(0.5, [1.1, 0.9, 2.2])
    assert value == rounded_order(0.5, [1.1, 0.9, 2.2]) and dxs == [2.0, 1.0, 0.5]
    dw, dprices = srcad.grad(cheapest_first, wrt=(0, 1))(0.5, {"a": 2.0, "b": 1.0, "c": 3.0})
    assert dw == 1.0 and dprices == {"a": 0.0, "b": 0.5, "c": 1.0}


def joined_tuple_arguments(a, b):
    t = a + b  # <tuples-joined>
    return t[1] * t[2]


def tuple_argument_extended(a, b):
    t = a
    t += b  # <tuple-extended>
    return t[1] * t[2]


def rows_summed_from_a_tuple(rows, w):
    return w * sum(rows, ())[3]  # <sum-from-tuple>


def test_tuples_joined_by_plus_or_sum_are_refused_at_the_line():
    """``a + b`` of two tuples whose result is read as a sequence, and ``sum(rows, ())``,
    join in Python: refused (they crashed, and ``sum`` gave the gradient of every row)."""
    with pytest.raises(srcad.SrcadError) as caught:
        srcad.grad(joined_tuple_arguments, wrt=(0, 1))((1.0, 2.0), (3.0, 4.0))
    assert caught.value.lineno == marker_line(__file__, "tuples-joined")
    arrays = srcad.grad(joined_tuple_arguments, wrt=(0, 1))(np.ones(3), np.array([3.0, 4.0, 5.0]))
    assert np.array_equal(arrays[0], [0.0, 6.0, 5.0])  # (arrays are added: t = [4, 5, 6])
    with pytest.raises(srcad.SrcadError) as caught:  # (`t = a; t += b`: the same)
        srcad.grad(tuple_argument_extended, wrt=(0, 1))((1.0, 2.0), (3.0, 4.0))
    assert caught.value.lineno == marker_line(__file__, "tuple-extended")
    with pytest.raises(srcad.SrcadError) as caught:
        srcad.grad(rows_summed_from_a_tuple, wrt=(0, 1))([(1.5, 0.25), (0.5, 2.0)], 0.7)
    assert caught.value.lineno == marker_line(__file__, "sum-from-tuple")


def rows_defaulting_to_empty(w, rows=None):
    if rows is None:
        rows = []
    return w + sum(a * b for a, b in rows)


def rows_as_an_array(rows, w):
    A = np.array(rows)
    return float(np.sum(A[:, 0] * A[:, 1])) * w


def test_the_gradient_of_rows_copied_or_made_an_array_is_rows():
    """A list of tuples that the function rebinds (``rows = rows or []``: a copy) or
    makes an array: its gradient is a list of tuples (it was srcad's adjoint lists)."""
    rows = [(1.5, 0.25), (0.5, 2.0)]
    for f, args in ((rows_defaulting_to_empty, (0.5, rows)), (rows_as_an_array, (rows, 0.5))):
        g = srcad.grad(f, wrt=(0, 1))(*args)
        drows = g[1] if f is rows_defaulting_to_empty else g[0]
        assert type(drows) is list and type(drows[0]) is tuple, drows
    assert srcad.grad(rows_as_an_array)(rows, 0.5) == [(0.125, 0.75), (1.0, 0.25)]


def sort_pairs_in_place(w, pairs):
    ps = list(pairs)
    ps.sort(key=lambda p: p[1], reverse=True)
    return w * ps[0][0] + ps[-1][1]


def sorted_without_a_key(xs):
    s = sorted(xs, key=None)
    return s[0] * 3.0 + max(xs, key=None) * s[1]


def test_sort_in_place_by_a_key_and_no_key():
    """``ps.sort(key=...)`` on a list the function made (``clear`` and ``extend`` with
    the items in order); ``key=None`` is no key (it called None)."""
    dw, dpairs = check_four_ways(sort_pairs_in_place, 0.5, [(2.0, 1.0), (1.0, 3.0), (4.0, 2.0)])
    assert dw == 1.0 and dpairs == [(0.0, 1.0), (0.5, 0.0), (0.0, 0.0)]
    dxs = srcad.grad(sorted_without_a_key)([0.3, 1.1, -0.4])
    assert np.allclose(dxs, [1.1, 0.3, 3.0], rtol=1e-15)


def pair_of(x):
    return (x, x * x)


def joined_pairs(x, y):
    t = pair_of(x) + pair_of(y)  # (Python joins the two tuples)
    return t[1] * t[2]


def mixed_sum(x, y):
    return pair_of(x)[1] + x * y  # (not tuples: numbers added)


def test_tuples_helpers_return_are_joined_by_plus():
    """``pair(x) + pair(y)`` of helpers that return tuples is the 4-tuple Python makes
    (it was read as numpy's addition: a wrong gradient)."""
    dx, dy = check_four_ways(joined_pairs, 0.7, 1.3)
    assert dx == pytest.approx(2 * 0.7 * 1.3, rel=1e-14) and dy == pytest.approx(0.49, rel=1e-14)
    check_four_ways(mixed_sum, 0.7, 1.3)


def helpers_added(x, y):
    return pair_of(x)[1] * 0.5 + sum_of_squares(x, y) + sum_of_squares(y, x)


def sum_of_squares(a, b):
    return a * a + b * b


def test_numbers_two_helpers_return_are_added():
    check_four_ways(helpers_added, 0.7, 1.3)
    assert srcad.grad(helpers_added, wrt=(0, 1))(0.7, 1.3) == pytest.approx((0.7 + 2.8, 5.2))


def ranked(xs, key=None):
    return sorted(xs, key=key)


def through_a_ranking_helper(xs):
    s = ranked(xs)
    t = ranked(xs, key=abs)
    return s[0] * 3.0 + s[1] + t[0] * 0.5


def test_a_key_of_none_passed_on_by_a_helper_is_no_key():
    """``ranked(xs, key=None)`` passing ``key=key`` on: the items themselves (the
    generated code called None)."""
    dxs = srcad.grad(through_a_ranking_helper)([0.3, 1.1, -0.4])
    assert np.allclose(dxs, [1.0 + 0.5, 0.0, 3.0], rtol=1e-15)
    check_four_ways(through_a_ranking_helper, [0.3, 1.1, -0.4])


def joined_dict_items(d):
    t = d["p"] + d["q"]  # <dict-items-joined>
    return t[1] * t[2]


def joined_rows(rows):
    t = rows[0] + rows[1]  # <rows-joined>
    return t[1] * t[2]


def test_tuples_joined_where_srcad_cannot_see_them_are_refused_at_the_line():
    """Items of a dict or a list given as arguments, joined by ``+``: the gradient meets
    an adjoint of the wrong length and refuses at the line (it was silently wrong, or an
    IndexError)."""
    cases = ((joined_dict_items, ({"p": (1.0, 2.0), "q": (3.0, 4.0)},), "dict-items-joined"),
             (joined_rows, ([(1.0, 2.0), (3.0, 4.0)],), "rows-joined"))
    for f, args, tag in cases:
        with pytest.raises(srcad.SrcadError, match="list or tuple") as caught:
            srcad.grad(f)(*args)
        assert caught.value.lineno == marker_line(__file__, tag)
    # arrays are added, as numpy adds them
    d = {"p": np.array([1.0, 2.0, 5.0]), "q": np.array([3.0, 4.0, 6.0])}
    assert np.array_equal(srcad.grad(joined_dict_items)(d)["p"], [0.0, 11.0, 6.0])


def first_by_time(w, times, values):
    pairs = sorted(zip(times, values), key=lambda p: p[0])
    return w * pairs[0][1] + pairs[-1][1] * pairs[-1][0]


def test_sorted_pairs_of_a_zip_by_a_key():
    """``sorted(zip(times, values), key=...)``: the pairs, as ``list(zip(...))`` reads
    them (it was refused with advice to register a rule for zip)."""
    dw, dtimes, dvalues = check_four_ways(first_by_time, 0.5, [2.0, 0.5, 1.5], [1.0, 3.0, 2.0])
    assert dw == 3.0 and dtimes == [1.0, 0.0, 0.0] and dvalues == [2.0, 0.5, 0.0]


def layer_stack_energy(layers):
    return sum(n * n * d for n, d in layers)


def test_hvp_of_rows_has_their_structure():
    """hvp of a function of one list of tuples: a list of tuples (it was srcad's adjoint
    lists); the values are the Hessian's columns along the direction."""
    rows = [(1.5, 0.25), (0.5, 2.0)]
    product = srcad.hvp(layer_stack_energy)(rows, [(1.0, 0.0), (0.0, 1.0)])
    assert type(product) is list and type(product[0]) is tuple
    # d2/dn2 = 2 d, d2/dn dd = 2 n: along (1, 0) for row 0 and (0, 1) for row 1
    assert np.allclose(np.array(product), [[2 * 0.25, 2 * 1.5], [2 * 0.5, 0.0]], rtol=1e-14)


# ---------------------------------------------------------------- operands that change the list


def stack_machine(xs):
    """Multiply the top of a stack, then add the top two (an RPN evaluator's steps)."""
    stack = [xs[0], xs[1]]
    stack.append(stack.pop() * xs[2])
    stack.append(stack.pop() + stack.pop())
    return stack[0] * 3.0 + len(stack)


def rotated(xs):
    """The rotation idiom: the first item moved to the end."""
    q = [xs[0], xs[1], xs[2]]
    q.append(q.pop(0))
    q += [q.pop() * 0.5]
    return 100.0 * q[0] + 10.0 * q[1] + q[2]


def first_replaced(xs):
    """An item write whose value pops from the same list; its index is read after."""
    st = [xs[0], xs[1], xs[2]]
    st[int(len(st) > 2)] = st.pop(0) * 3.0
    return st[0] + 10.0 * st[1] + 100.0 * len(st)


def stack_of_arrays(x):
    st = [x, 2.0 * x]
    st.append(st.pop() * x)
    return np.sum(st[0] * st[1])


@pytest.mark.parametrize("f, want", [
    (stack_machine, [3.0, 3.0 * 0.7, 3.0 * -1.2]),  # 3 * (x0 + x1 * x2)
    (rotated, [0.5, 100.0, 10.0]),
    (first_replaced, [3.0, 0.0, 10.0]),
], ids=lambda v: getattr(v, "__name__", ""))
def test_operands_that_change_the_list_first_are_evaluated_first(f, want):
    """``st.append(st.pop() * v)``: Python pops, then appends to the list the pop left
    (srcad appended to the list as it was before the pop: a wrong value and gradient)."""
    xs = [0.3, -1.2, 0.7]
    value, grad = srcad.value_and_grad(f)(list(xs))
    assert value == f(list(xs))
    assert grad == pytest.approx(want, rel=1e-12)
    check_four_ways(f, xs)
    x = np.array([0.3, -1.2, 0.7])
    got = check_four_ways(stack_of_arrays, x)[0]
    assert got == pytest.approx(6.0 * x ** 2, rel=1e-12)  # sum(x * 2x * x)


# ---------------------------------------------------------------- global lists of constants

GAUSS_NODES = (-0.7745966692414834, 0.0, 0.7745966692414834)
GAUSS_WEIGHTS = [5.0 / 9.0, 8.0 / 9.0, 5.0 / 9.0]
BRACKETS = [(0, 0.0), (10000, 0.1), (40000, 0.25)]  # (threshold, rate): ints and floats


def gauss_integral(a, b):
    """The integral of exp(-a t^2) over [0, b] by three-point Gauss-Legendre, with the
    nodes and weights in module-level constants."""
    half = 0.5 * b
    total = 0.0
    for node, weight in zip(GAUSS_NODES, GAUSS_WEIGHTS):
        t = half * node + half
        total += weight * math.exp(-a * t * t)
    return half * total


def income_tax(income, relief):
    """Tax by brackets in a module-level list of (threshold, rate) pairs."""
    taxable = income - relief
    tax = 0.0
    for k in range(len(BRACKETS)):
        low, rate = BRACKETS[k]
        high = BRACKETS[k + 1][0] if k + 1 < len(BRACKETS) else float("inf")
        if taxable > low:
            tax += rate * (min(taxable, high) - low)
    return tax


def test_global_lists_of_numbers_get_the_float_version():
    """Module-level tuples and lists of Python numbers (quadrature nodes, tax brackets)
    are checked when the gradient runs, as list parameters are: the version for floats
    runs (the array version un-broadcast every product: about 25 times the function).
    ``float("inf")`` is a float too."""
    for f, args, want in (
        (gauss_integral, (0.8, 1.5), None),
        (income_tax, (52000.0, 3000.0), (0.25, -0.25)),
    ):
        g = srcad.grad(f, wrt=(0, 1))
        got = g(*args)
        assert "# this version is for Python floats" in g.backward_source, g.backward_source
        if want is not None:
            assert got == pytest.approx(want, rel=1e-12)
        check_four_ways(f, *args)


def test_a_global_list_that_stops_holding_numbers_goes_to_the_array_version(monkeypatch):
    g = srcad.grad(gauss_integral, wrt=(0, 1))
    before = g(0.8, 1.5)
    monkeypatch.setattr(__import__(__name__), "GAUSS_WEIGHTS", np.array(GAUSS_WEIGHTS))
    assert g(0.8, 1.5) == pytest.approx(before, rel=1e-13)  # (checked: arrays read as such)
    single = [np.float32(w) for w in GAUSS_WEIGHTS]
    monkeypatch.setattr(__import__(__name__), "GAUSS_WEIGHTS", single)
    assert g(0.8, 1.5) == pytest.approx(before, rel=1e-6)


def series_slope(coefficients, x):
    """The derivative of a power series, over the coefficients after the first."""
    total = 0.0
    for k, c in enumerate(coefficients[1:], start=1):
        total += k * c * x ** (k - 1)
    return total


def tail_sum(values, scale):
    """Items of a slice read by index; a slice with a step."""
    tail = values[1:]
    total = 0.0
    for i in range(len(tail)):
        total += scale * tail[i] * tail[i]
    return total + sum(values[::2]) * scale


def test_a_slice_of_a_list_of_floats_gets_the_float_version():
    """``coefficients[1:]`` of a list of floats is a list of floats (it sent the function
    to the array version: 18 to 44 times the function)."""
    coefficients = [1.0, 0.5, -0.3, 0.2, 0.1]
    for f, args in ((series_slope, (coefficients, 0.4)), (tail_sum, (coefficients, 1.5))):
        g = srcad.grad(f, wrt=(0, 1))
        g(*args)
        assert "# this version is for Python floats" in g.backward_source, g.backward_source
        check_four_ways(f, *args)
    want = sum(k * (k - 1) * c * 0.4 ** (k - 2) for k, c in enumerate(coefficients) if k > 1)
    assert srcad.grad(series_slope, wrt=1)(coefficients, 0.4) == pytest.approx(want, rel=1e-12)


LOOKUP_TABLE = [math.sin(0.001 * k) for k in range(5000)]


def table_lookup(x):
    """Linear interpolation in a long module-level table read at two entries."""
    k = int(x * 1000.0)
    w = x * 1000.0 - k
    return (1.0 - w) * LOOKUP_TABLE[k] + w * LOOKUP_TABLE[k + 1]


def test_a_long_global_table_is_not_checked_item_by_item_on_each_call():
    """Checking every item of a table of 5,000 numbers on each call would cost more than
    the array version's reading of two of them: such a table is not checked."""
    g = srcad.grad(table_lookup)
    assert g(1.2345) == pytest.approx(1000.0 * (LOOKUP_TABLE[1235] - LOOKUP_TABLE[1234]),
                                      rel=1e-12)
    assert "number_items(LOOKUP_TABLE)" not in g.backward_source
    assert "number_items(GAUSS_NODES)" in srcad.grad(gauss_integral).backward_source


SPLINE_KNOTS = [0.0, 0.5, 1.2, 2.0, 3.1]


def piecewise_linear(values, x):
    """Interpolation at module-level knots, the interval found by ``bisect``."""
    i = min(max(bisect.bisect_right(SPLINE_KNOTS, x) - 1, 0), len(SPLINE_KNOTS) - 2)
    w = (x - SPLINE_KNOTS[i]) / (SPLINE_KNOTS[i + 1] - SPLINE_KNOTS[i])
    return (1.0 - w) * values[i] + w * values[i + 1]


def weighted_by_position(x):
    """bisect's position used as a number (a weight): it has no derivative."""
    i = bisect.bisect_left(SPLINE_KNOTS, x)
    return x * x * i


def test_a_position_found_by_bisect_is_a_number_without_derivative():
    """It asked for a derivative rule (``srcad.defrule``) for bisect."""
    assert srcad.grad(weighted_by_position)(1.5) == pytest.approx(2 * 1.5 * 3, rel=1e-14)
    check_four_ways(weighted_by_position, 1.5)


def test_a_position_found_by_bisect_keeps_the_float_version():
    """``bisect.bisect_right`` returns an int (it sent the function to the array version)."""
    values = [1.0, 2.0, 0.5, -1.0, 0.3]
    g = srcad.grad(piecewise_linear, wrt=(0, 1))
    dvalues, dx = g(values, 1.5)
    assert "# this version is for Python floats" in g.backward_source, g.backward_source
    assert dvalues == pytest.approx([0.0, 0.0, 0.5 / 0.8, 0.3 / 0.8, 0.0], rel=1e-12)
    assert dx == pytest.approx((-1.0 - 0.5) / 0.8, rel=1e-12)
    check_four_ways(piecewise_linear, values, 1.5)


def stacks_in_a_dict(xs):
    """Two stacks in a dict, written the way srcad follows (a new list for each change);
    the loop's test reads the list the body replaces."""
    d = {"a": list(xs), "b": []}
    while d["a"]:
        v = d["a"][-1]
        d["a"] = d["a"][:-1]
        d["b"] = d["b"] + [v * 2.0]
    return d["b"][0] + 3.0 * d["b"][-1]


def test_a_while_test_whose_value_the_body_reads_stays_bound():
    """``while d["a"]:`` printed as the loop's header left its value unbound where the
    body's memory checks read it (a NameError from generated code)."""
    got = check_four_ways(stacks_in_a_dict, [1.0, 2.0, 3.0])[0]
    assert got == pytest.approx([6.0, 0.0, 2.0], rel=1e-14)


def squares_then_top(xs):
    """A list comprehension Python runs before the pop that follows it."""
    st = list(xs)
    return sum([v * v for v in st]) + st.pop()


def squares_after_start(xs):
    """A generator ``sum`` reads after its start, which pops (Python's order too)."""
    st = list(xs)
    return sum((v * v for v in st), st.pop())


def top_added_twice(xs):
    """``st[-1] += st.pop()``: Python reads st[-1] first and writes the new last item."""
    st = list(xs)
    st[-1] += st.pop()
    return st[0] + 10.0 * st[-1] + 100.0 * len(st)


@pytest.mark.parametrize("f, want", [
    (squares_then_top, [2.0, 4.0, 6.0, 9.0]),
    (squares_after_start, [2.0, 4.0, 6.0, 1.0]),
    (top_added_twice, [1.0, 0.0, 0.0, 20.0]),  # (st[-1] = 2 x4 replaces x3)
], ids=lambda v: getattr(v, "__name__", ""))
def test_list_changes_in_an_expression_in_pythons_order_are_followed(f, want):
    """What the order check lets through, Python and srcad read in the same order."""
    xs = [1.0, 2.0, 3.0, 4.0]
    value, grad = srcad.value_and_grad(f)(list(xs))
    assert value == f(list(xs))
    assert grad == pytest.approx(want, rel=1e-14)
    check_four_ways(f, xs)


def shrinking_row(xs, w):
    """A list held in a list, replaced by a shorter one in a loop."""
    held = [list(xs), 0.0]
    for _ in range(len(xs)):
        held[1] = held[1] * w + held[0][-1]
        held[0] = held[0][:-1]
    return held[1]


def test_an_item_replaced_by_one_of_another_length_gets_a_zero_of_its_own():
    """The adjoint of the item a write replaced is zero in the old item's structure (it
    had the new one's: a shorter list, which the next adjoint added into, an IndexError
    from the generated code)."""
    xs = [1.0, -0.5, 2.0, 0.3]
    got = check_four_ways(shrinking_row, xs, 0.9)
    assert got[0] == pytest.approx([1.0, 0.9, 0.9 ** 2, 0.9 ** 3], rel=1e-14)


# --- lists a loop changes, changed in place in the version for floats -----------------


def elo_ratings(ratings, k_factor, games):
    r = list(ratings)
    for i, j, score in games:
        expected = 1.0 / (1.0 + 10.0 ** ((r[j] - r[i]) / 400.0))
        r[i] += k_factor * (score - expected)
        r[j] -= k_factor * (score - expected)
    return sum(v * v for v in r) / 1e6


def running_max_weighted(xs, w):
    r = list(xs)
    total = 0.0
    for k in range(len(r)):
        r[k] = r[k] * w + 1.0  # (max below reads the list as this write left it)
        total += max(r) * r[k] * r[k - 1]
    return total


def doubled_appends(xs, w):
    path = []
    for x in xs:
        path.append(w * x)
        path.append(x * path[-1])
    return sum(path) + path[len(path) // 2] ** 2


ELO_GAMES = [(0, 1, 1.0), (1, 2, 0.5), (2, 0, 0.0), (0, 1, 0.0), (1, 2, 1.0), (2, 1, 0.5)]


@pytest.mark.parametrize(
    "f, args",
    [
        (elo_ratings, ([1500.0, 1620.0, 1410.0], 24.0, ELO_GAMES)),
        (running_max_weighted, ([0.3, -1.2, 0.8, 0.1], 1.3)),
        (doubled_appends, ([0.5, -0.4, 1.1], 0.7)),
    ],
)
def test_lists_a_loop_changes_twice_per_step_are_changed_in_place(f, args):
    """Two changes of one list per iteration (``r[i] += ...; r[j] -= ...``, two appends)
    are in place in the version for floats, and their backprops put the old items back
    (``max(r)`` reads the list as each write left it): each change copied the whole list,
    forward and backward, quadratic in its length (Elo over 50 ratings: 57 times the
    function)."""
    check_four_ways(f, *args, wrt=(0, 1))
    source = srcad.grad(f, wrt=(0, 1)).backward_source
    float_version = source.split("_arrays(")[0] + source.split("# backward pass")[1]
    assert "list_replaced" not in source and "appended(" not in source
    assert "with_item" not in source and "leading_grad" not in source
    assert "require_separate_items" not in float_version  # (no arrays: nothing to share)
    assert "fresh_copy" not in float_version.split("for ")[-1]  # (none inside the loop)


def copies_a_list_it_changes(xs):
    r = list(xs)
    total = 0.0
    for i in range(len(r)):
        r[i] = r[i] * 2.0
        q = r[:]  # (a copy: its adjoint is added into r's, not aliased to it)
        total += q[1] * q[1] + q[-1]
    return total


def window_of_a_parameter(xs, w):
    total = 0.0
    for _ in range(3):
        tail = xs[1:]
        total = total + tail[0] * w
    return total


def grown_by_an_inner_loop(xs, w):
    r = list(xs)
    for _ in range(2):
        r[-1] *= sum(r)  # (reads the list's length as the inner appends left it)
        for _ in range(2):
            r.append(w)
    return sum(r)


@pytest.mark.parametrize("f, args", [
    (copies_a_list_it_changes, ([0.5, 1.2, -0.8],)),
    (window_of_a_parameter, ([0.5, 1.2, -0.8], 0.7)),
    (grown_by_an_inner_loop, ([0.53, 1.17], 0.7)),
])
def test_slices_and_grown_lists_read_in_loops(f, args):
    """A slice of a list read in a loop (``q = r[:]``, ``xs[1:]`` of a parameter): its
    adjoint was taken for a row of the list's adjoint and added into a copy, so the
    gradient was silently zero; a list an inner loop grows in place, read whole by an
    outer one: its restored reference kept the inner loop's items (IndexError from the
    generated code). Round 54; the first two older than this stop."""
    check_four_ways(f, *args)


def _weighted_by_rank(xs):
    values = [xs[0] * 2.0, xs[1], xs[2] ** 2]
    top = max(values)
    position = values.index(top)  # (an int: no gradient)
    return top * (position + 1) + values.count(top) * values[0] + (xs[0], xs[1]).index(xs[1])


def _last_of_a_made_list(xs):
    seen = []
    for x in xs:
        seen.append(x * x)
    return seen[-1] * seen.count(seen[0]) + seen.index(seen[1])


def test_index_and_count_of_a_list_the_function_made():
    xs = [1.5, 2.0, 3.0]
    check_four_ways(_weighted_by_rank, xs)
    assert srcad.grad(_weighted_by_rank)(xs) == pytest.approx([2.0, 0.0, 3 * 2 * 3.0 * 1.0])
    check_four_ways(_last_of_a_made_list, xs)
    assert srcad.grad(_last_of_a_made_list)(xs) == pytest.approx([0.0, 0.0, 6.0])


def _merged_layers(enc, dec, x):
    params = enc | dec  # (dec's "b" replaces enc's)
    h = np.tanh(params["W1"] @ x + params["b"])
    return np.sum((params["W2"] @ h) ** 2) + np.sum(enc["b"] ** 2)


def _merged_in_place(enc, dec, x):
    params = dict(enc)
    params |= dec
    flags = (x[0] > 0) | (x[1] > 0)  # (booleans: no gradient)
    h = np.tanh(params["W1"] @ x + params["b"])
    return np.sum((params["W2"] @ h) ** 2) * (1.0 + flags)


def test_the_union_of_two_dicts_sends_each_key_its_gradient():
    rng = np.random.default_rng(3)
    enc = {"W1": rng.standard_normal((3, 2)), "b": rng.standard_normal(3)}
    dec = {"W2": rng.standard_normal((1, 3)), "b": rng.standard_normal(3)}
    x = np.array([0.5, -1.0])
    for f in (_merged_layers, _merged_in_place):
        check_four_ways(f, enc, dec, x, wrt=(0, 1))
    g_enc, g_dec = srcad.grad(_merged_layers, wrt=(0, 1))(enc, dec, x)
    np.testing.assert_allclose(g_enc["b"], 2 * enc["b"])  # (only its own term)
    assert np.any(g_enc["W1"] != 0.0) and np.any(g_dec["b"] != 0.0)


def _dict_of_a_display(theta, x):
    hp = dict([("scale", theta[0]), ("shift", theta[1])])
    return hp["scale"] * x * x + hp["shift"] * x


def _dict_of_pairs_in_a_name(theta, x):
    pairs = [("scale", math.exp(theta[0])), ("shift", theta[1])]
    hp = dict(pairs)  # <dict of pairs>
    return hp["scale"] * x


def test_dict_of_pairs_is_made_from_a_display_and_refused_from_a_list_name():
    check_four_ways(_dict_of_a_display, [0.2, -1.0], 0.7)
    assert srcad.grad(_dict_of_a_display)([0.2, -1.0], 0.7) == pytest.approx([0.49, 0.7])
    # (dict(name) is taken for a copy of a dict: of a list of pairs, refused at the line
    # when it runs; round 59: silently a list, `"k" in hp` false)
    with pytest.raises(srcad.SrcadError, match=r"dict\(\.\.\.\)` of a name .* given a list") as err:
        srcad.grad(_dict_of_pairs_in_a_name)([0.2, -1.0], 0.7)
    assert err.value.location.lineno == marker_line(__file__, "dict of pairs")


def _pull_to_shared_keys(params, anchor):
    total = 0.0
    for k in params.keys() & anchor.keys():  # (a set: looped over as listed)
        total += np.sum((params[k] - anchor[k]) ** 2)
    return total + sum(np.sum(params[k] ** 2) for k in params.keys() - anchor.keys())


def test_loops_over_set_operations_of_dict_keys():
    params = {"w": np.array([0.5, 1.5]), "b": np.array([0.2])}
    anchor = {"w": np.array([0.0, 1.0]), "extra": np.array([3.0])}
    check_four_ways(_pull_to_shared_keys, params, anchor)
    g = srcad.grad(_pull_to_shared_keys)(params, anchor)
    np.testing.assert_allclose(g["w"], 2 * (params["w"] - anchor["w"]))
    np.testing.assert_allclose(g["b"], 2 * params["b"])


def _defaults_set_once(x, y):
    d = {"a": x}
    v = d.setdefault("b", 2.0 * x)
    w = d.setdefault("a", 5.0)  # (kept: "a" is there)
    totals = {}
    for k, value in (("p", x), ("q", y), ("p", y)):
        seen = totals.setdefault(k, 0.0)
        totals[k] = seen + value * value
    return v * w + d["b"] + totals["p"] * totals["q"]


def test_the_value_of_setdefault():
    check_four_ways(_defaults_set_once, 1.5, 0.7, wrt=(0, 1))
    x, y = 1.5, 0.7
    assert srcad.grad(_defaults_set_once)(x, y) == pytest.approx(
        4 * x + 2 + 2 * x * y * y
    )


def _kept_if_positive(xs, w):
    ys = []
    for x in xs:
        if x > 0.0:
            ys.append(x * w)
    return sum(ys) + ys[-1] * w


def _filtered_squares(xs, w):
    ys = [x * x * w for x in xs if x > 0.0]
    return sum(ys) / len(ys)


@pytest.mark.parametrize("f", [_kept_if_positive, _filtered_squares])
def test_a_list_a_loop_appends_to_on_some_paths_grows_in_place(f):
    """``if c: ys.append(v)`` in a loop (a filtering comprehension too): the float version
    appends in place and its backward pass pops, as for an append on every path; it copied
    the list at every append and saved each copy (round 61: 30x the function at 500 items,
    growing with the length)."""
    from srcad.building import build

    xs = [0.5, -1.0, 2.0, 0.25, -0.75, 1.5]
    text = build(f, ("xs", "w"), "grad", True).versions[0].compiled.source
    assert "appended(" not in text and ".append(" in text, text
    check_four_ways(f, xs, 0.7)


def _deleted_through_one_name(x):
    h = [x, 2.0 * x, 3.0]
    g = h
    del h[0]  # <del-shared>
    return sum(g) * x


def test_del_of_an_item_of_a_list_two_names_hold_says_del():
    """The refusal names what the user wrote, ``del`` (round 61c: it said ``.pop``, the
    call srcad reads ``del h[0]`` as)."""
    with pytest.raises(srcad.SrcadError, match="`del` would change both") as caught:
        srcad.grad(_deleted_through_one_name)(1.5)
    assert caught.value.lineno == marker_line(__file__, "del-shared")


def largest_square_or_floor(xs, floor):
    return max((x * x for x in xs if x > 0.0), default=floor) + min(xs, default=0.0)


def nearest_by_key(xs, target):
    return max(xs, key=lambda v: -abs(v - target), default=target) * 2.0


def test_max_and_min_with_a_default():
    """``max(..., default=d)`` and ``min`` (round 65b: refused for the keyword): the
    default where there are no items, with its gradient, else the extreme item's."""
    got = check_four_ways(largest_square_or_floor, [0.5, -1.5, 1.2], 0.3)
    assert got == (pytest.approx([0.0, 1.0, 2.4]), 0.0)
    got = check_four_ways(largest_square_or_floor, [-0.5, -1.5], 0.3)  # (no item passes)
    assert got == (pytest.approx([0.0, 1.0]), 1.0)
    assert srcad.grad(largest_square_or_floor, wrt=1)([], 0.3) == 1.0
    assert check_four_ways(nearest_by_key, [0.1, 0.9, 2.0], 1.0) == (
        pytest.approx([0.0, 2.0, 0.0]), 0.0
    )
    assert srcad.grad(nearest_by_key, wrt=1)([], 1.0) == 2.0


def _peak_weighted(xs):
    i = xs.index(max(xs))
    return xs[i] * i + xs[0] * xs.count(xs[0])


def test_index_and_count_of_a_sequence_given():
    # (round 83: refused as "an object whose class srcad does not know")
    for given in ([0.5, 1.2, -0.3], (0.5, 1.2, -0.3)):
        (d,) = check_four_ways(_peak_weighted, given)
        assert list(d) == [1.0, 1.0, 0.0]


# ---------------------------------------------------------------- deques made inside


def moving_average_by_deque(x):
    window = deque(maxlen=3)
    total = 0.0
    for v in x:
        window.append(v)
        total += sum(window) / len(window)
    return total


def queue_filter(x, alpha):
    q = collections.deque(x)
    out = 0.0
    while q:
        v = q.popleft()
        out = alpha * v + (1 - alpha) * out
    return out


def newest_first(x):
    w = deque([1.0, 2.0], maxlen=4)
    acc = 0.0
    for v in x:
        w.appendleft(v * v)
        acc += w[0] * w[-1] + np.mean(w)
    return acc + max(w)


def filled_in_pairs(x):
    w = deque(maxlen=5)
    for i in range(0, len(x), 2):
        w.extend(x[i:i + 2])
    return np.sum(np.array(w) ** 2) + w.pop()


def _rotate(w):
    w.rotate(1)


def deque_given_to_a_helper(x):
    w = deque(maxlen=2)
    for v in x:
        w.append(v)
        _rotate(w)  # <deque-helper>
    return sum(w)


def newest_pair_product(x):
    w = deque(x, 2)  # (maxlen by position)
    return w[0] * w[1] / w.maxlen


def products_of_pairs_then_cleared(x):
    w = deque(maxlen=2)
    s = 0.0
    for v in x:
        w.append(v)
        if len(w) == w.maxlen:
            s += w[0] * w[1]
            w.clear()
    return s


def rotated_window(x):
    w = deque(maxlen=3)
    for v in x:
        w.append(v)
        w.rotate(1)  # <deque-rotate>
    return sum(w)


def window_bound_to_another_name(x):
    w = deque(maxlen=3)
    for v in x:
        w.append(v * v)
    w2 = w  # <deque-alias>
    return sum(w2)


def test_deques_made_inside_are_lists():
    """A window (``maxlen``), a queue read by ``popleft`` until empty, appends on the
    left, ``extend``: each is the list it behaves as (they were refused)."""
    x = np.array([0.3, 0.5, 0.7, 0.2, 0.9, 1.1])
    (d,) = check_four_ways(moving_average_by_deque, x)
    # x[k] is in the windows of steps k, k+1 and k+2 (those that exist), 1/len each
    want = [sum(1.0 / min(j + 1, 3) for j in range(k, min(k + 3, 6))) for k in range(6)]
    np.testing.assert_allclose(d, want, rtol=1e-12)
    check_four_ways(queue_filter, x, 0.3)
    check_four_ways(newest_first, x)
    check_four_ways(filled_in_pairs, x)
    (d,) = check_four_ways(newest_pair_product, x)
    np.testing.assert_allclose(d, [0, 0, 0, 0, 0.55, 0.45], rtol=1e-12)
    (d,) = check_four_ways(products_of_pairs_then_cleared, x)
    np.testing.assert_allclose(d, [0.5, 0.3, 0.2, 0.7, 1.1, 0.9], rtol=1e-12)


def test_a_deque_used_otherwise_stays_refused_at_its_line():
    with pytest.raises(srcad.SrcadError) as caught:
        srcad.grad(deque_given_to_a_helper)(np.array([0.3, 0.5, 0.7]))
    assert caught.value.lineno in (
        marker_line(__file__, "deque-helper") - 1, marker_line(__file__, "deque-helper")
    )


@pytest.mark.parametrize("f, use", [
    (rotated_window, "deque-rotate"), (window_bound_to_another_name, "deque-alias"),
])
def test_a_deque_used_otherwise_is_refused_at_that_use(f, use):
    """A deque srcad cannot read as a list is refused where it is used otherwise, saying
    so (round 91: at its ``append``, as "a list this function did not make")."""
    with pytest.raises(srcad.UnsupportedSyntaxError, match="is a deque") as caught:
        srcad.grad(f)(np.array([0.3, 0.5, 0.7]))
    assert caught.value.lineno == marker_line(__file__, use)


# ---------------------------------------------------------------- slices with steps


def written_with_steps(x):
    xs = [0.0] * 6
    xs[1::2] = x[:3] * 2.0
    xs[::2] = [np.sin(v) for v in x[1:4]]
    ys = [x[0], x[1], x[2]]
    ys[::-1] = [v * v for v in ys]
    return sum(v * (i + 1) for i, v in enumerate(xs)) + ys[0] * 3.0 + ys[2] + sum(
        v * v for v in xs[::-1][1::2]
    )


def written_with_steps_in_a_loop(x):
    xs = [x[0], x[1], x[2], x[3]]
    for _ in range(3):
        xs[::2] = [xs[1] * 0.5, xs[3] * 0.5]
        xs[1::2] = [np.tanh(xs[0]), np.tanh(xs[2])]
    return sum(xs)


def slices_deleted(x, step):
    xs = [v * 1.5 for v in x]
    del xs[::2]
    ys = list(x)
    del ys[-2:]
    ys.append(x[0] ** 3)
    zs = [x[0], x[1], x[2], x[3]]
    del zs[::step]
    return sum(v * v for v in xs) * len(xs) + sum(ys) * ys[-1] + zs[0] * zs[-1]


def test_slices_with_steps_written_and_deleted():
    x = np.array([0.3, -0.7, 1.1, 0.5, 0.2])
    check_four_ways(written_with_steps, x)
    check_four_ways(written_with_steps_in_a_loop, x)
    check_four_ways(slices_deleted, x, 3)


def as_many_values_as_positions(x):
    xs = [x[0], x[1], x[2], x[3]]
    xs[::2] = [x[0]]
    return sum(xs)


def slice_of_a_parameter_written(xs):
    xs[::2] = [1.0, 2.0]  # <param-slice>
    return sum(v * v for v in xs)


def slice_with_an_unknown_step(x, s):
    xs = [x[0], x[1], x[2], x[3]]
    xs[::s] = [x[0], x[1]]  # <step-unknown>
    return sum(xs)


def test_slice_writes_refused_or_raising_as_python():
    x = np.array([0.3, -0.7, 1.1, 0.5])
    with pytest.raises(ValueError, match="extended slice of size 2"):
        srcad.grad(as_many_values_as_positions)(x)
    with pytest.raises(srcad.SrcadError, match="copy the list first") as info:
        srcad.grad(slice_of_a_parameter_written)([0.3, 0.2, 0.1, 0.4])
    assert info.value.lineno == marker_line(__file__, "param-slice")
    check_four_ways(slice_of_a_parameter_written, x)  # (an array: written in place)
    with pytest.raises(srcad.SrcadError, match="write the step as a constant") as info:
        srcad.grad(slice_with_an_unknown_step)(x, 2)
    assert info.value.lineno == marker_line(__file__, "step-unknown")


def repeated_no_times(x, n):
    xs = [x[0], x[1]] + [x[2]] * n
    return sum(v * v for v in xs) + x[2]


def test_a_list_repeated_no_times():
    """(``[v] * 0``: the adjoint of ``[v]`` was read from an empty list, an IndexError.)"""
    check_four_ways(repeated_no_times, np.array([0.3, 0.5, 0.7]), 0)
    check_four_ways(repeated_no_times, np.array([0.3, 0.5, 0.7]), 2)


# ------------------------------------------------------------ a list changed on one path of a loop


def doubled_on_a_path(x):
    buf = list(x)
    s = 0.0
    for k in range(3):
        if k < 5:
            buf[k] = buf[k] * 2.0
        s += buf[k]  # (read in the same iteration, after the join)
    return s


def clipped_where_large(xs):
    buf = [v for v in xs]
    s = 0.0
    for k in range(len(buf)):
        if buf[k] > 0.2:
            buf[k] = 0.2 + 0.5 * (buf[k] - 0.2)
        s += buf[k] * buf[k]
    return s + buf[-1]


def forward_recurrence(xs):
    buf = list(xs)
    s = 0.0
    for k in range(len(buf)):
        if k + 1 < len(buf):
            buf[k + 1] = buf[k + 1] + 0.5 * buf[k]
        s += buf[k] ** 2
    return s


def relaxed_distances(w):
    dist = [0.0, 9.0, 9.0, 9.0]
    edges = [(0, 1), (1, 2), (0, 2), (2, 3), (1, 3)]
    total = 0.0
    for _ in range(3):
        for e, (a, b) in enumerate(edges):
            if dist[a] + w[e] < dist[b]:
                dist[b] = dist[a] + w[e]
            total += dist[b]
    return total


@pytest.mark.parametrize("f, x", [
    (doubled_on_a_path, [0.5, 1.5, -0.7, 0.4]),
    (clipped_where_large, [0.5, 0.1, -0.7, 0.4]),
    (forward_recurrence, [0.5, 1.5, -0.7, 0.4]),
    (relaxed_distances, [1.0, 2.5, 4.0, 1.5, 3.2]),
], ids=lambda v: getattr(v, "__name__", ""))
def test_a_list_changed_on_one_path_of_a_loop_and_read_after_the_join(f, x):
    """Round 91 (silently wrong since stop 31 at least): the version for floats changes
    such a list in place, and the lines after the ``if`` read the join by a name no line
    bound any more: they were dropped (a zero gradient; value_and_grad, a NameError)."""
    check_four_ways(f, x)
    check_four_ways(f, np.array(x))
