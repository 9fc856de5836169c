"""numpy's memory semantics, exactly: arrays written in loops and read in other
iterations, in-place operators, views and aliases, repeated indices.

Every case is checked four ways (``conftest.check_four_ways``): reverse mode against
central differences, optimized against unoptimized, forward mode against reverse mode,
and the value of ``value_and_grad`` against ``f`` itself (bit for bit, with the
arguments left as ``f`` leaves them). Where an exact value is known it is checked too.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from conftest import check_four_ways, marker_line

import srcad

# ---------------------------------------------------------------- arrays written in loops


def recurrence(a):
    L = np.zeros(3)
    t = 0.0
    for j in range(1, 3):
        L[j] = a[j] - L[j - 1]
        t = t + L[j]
    return t


def read_before_write(a):
    buf = np.zeros(3)
    s = 0.0
    for t in range(1, 3):
        s = s + buf[t - 1]
        buf[t] = a
    return s


def ar2_filter(x, phi1, phi2):
    y = np.zeros(len(x))
    for t in range(2, len(x)):
        y[t] = x[t] + phi1 * y[t - 1] + phi2 * y[t - 2]
    return np.sum(y * y)


def rnn_states(W, U, xs):
    H = np.zeros((xs.shape[0] + 1, W.shape[0]))
    for t in range(xs.shape[0]):
        H[t + 1] = np.tanh(W @ H[t] + U @ xs[t])
    return np.sum(H[-1] ** 2) + 0.1 * np.sum(H)


def cholesky_by_hand(A):
    n = A.shape[0]
    L = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            s = 0.0
            for k in range(j):
                s = s + L[i, k] * L[j, k]
            if i == j:
                L[i, j] = np.sqrt(A[i, i] - s)
            else:
                L[i, j] = (A[i, j] - s) / L[j, j]
    return np.sum(L * L * np.arange(1.0, n * n + 1.0).reshape(n, n))


def test_array_written_in_a_loop_and_read_in_the_next_iteration():
    got = check_four_ways(recurrence, np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(got[0], [0.0, 0.0, 1.0], rtol=1e-12)


def test_array_read_before_the_write_in_the_loop_body():
    got = check_four_ways(read_before_write, 0.7)
    assert got[0] == pytest.approx(1.0, rel=1e-12)


def test_ar2_filter_in_a_preallocated_array():
    rng = np.random.default_rng(1)
    check_four_ways(ar2_filter, rng.standard_normal(8), 0.5, -0.3)


def test_rnn_states_in_a_preallocated_matrix():
    rng = np.random.default_rng(2)
    W = 0.5 * rng.standard_normal((3, 3))
    U = 0.5 * rng.standard_normal((3, 2))
    check_four_ways(rnn_states, W, U, rng.standard_normal((4, 2)), wrt=("W", "U", "xs"))


def test_cholesky_written_entry_by_entry():
    rng = np.random.default_rng(3)
    B = rng.standard_normal((3, 3))
    A = B @ B.T + 3.0 * np.eye(3)
    check_four_ways(cholesky_by_hand, A, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- aliases and views


def alias_then_update(x):
    y = x * 2.0
    z = y
    y *= 3.0
    return np.sum(z)


def view_then_update(x):
    out = np.zeros(2)
    row = out[:]
    row += x
    return np.sum(out)


def parameter_alias_update(x):
    v = x
    v *= 2.0
    return np.sum(x * x)


def saved_view_written_later(x, w):
    z = x.copy()
    t = z[1:] * w
    z[1:] = 0.0
    return np.sum(t) + np.sum(z)


def slice_update_by_parameter(x, w):
    z = x.copy()
    z[1:] *= w
    return np.sum(z * z)


def whole_self_write(x):
    z = x.copy()
    z[:] = z
    return np.sum(np.sin(z))


def unused_alias_in_branch(x):
    z = x.copy()
    if np.sum(x) > 0:
        w = z  # noqa: F841 - never read: it must not disturb z's gradient
    z[1:] += x[:2] * 2.0
    return np.sum(z * z)


def rows_scaled_in_place(x):
    v = x.reshape(2, 2).copy()
    for r in v:
        r *= 0.5
    return np.sum(v * x.reshape(2, 2))


def view_taken_before_fill(x):
    out = np.zeros(2)
    head = out[:1]
    out[:] = x
    return np.sum(head)


def transpose_written(x):
    m = np.zeros((2, 3))
    m.T[1] = x
    return np.sum(m * np.arange(6.0).reshape(2, 3))


def helper_updates_argument(s, k):
    s *= k
    return 0.0


def caller_of_updating_helper(k, x):
    s = x.copy()
    z = helper_updates_argument(s, k)
    return np.sum(s) + z


def ping_pong_buffers(x, c):
    u = x.copy()
    v = np.zeros(len(x))
    for _ in range(3):
        v[1:-1] = u[1:-1] + c * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        v[0] = u[0]
        v[-1] = u[-1]
        u, v = v, u
    return np.sum(u * u)


def either_buffer_written(r, u0):
    a = u0.copy()
    b = u0.copy()
    for t in range(3):
        if t % 2 == 0:
            dst = b
        else:
            dst = a
        dst[0] = r * u0[1] + dst[1]
    return np.sum(a) + 2.0 * np.sum(b)


@pytest.mark.parametrize(
    "f, args, exact",
    [
        (alias_then_update, (np.array([1.0, 2.0]),), [6.0, 6.0]),
        (view_then_update, (np.array([1.0, 2.0]),), [1.0, 1.0]),
        (parameter_alias_update, (np.array([1.0, 2.0]),), [8.0, 16.0]),
        (whole_self_write, (np.array([1.0, 2.0]),), np.cos([1.0, 2.0])),
        (rows_scaled_in_place, (np.array([1.0, 2.0, 3.0, 4.0]),), [1.0, 2.0, 3.0, 4.0]),
        (view_taken_before_fill, (np.array([1.0, 2.0]),), [1.0, 0.0]),
        (unused_alias_in_branch, (np.array([1.0, 2.0, 3.0]),), None),
        (transpose_written, (np.array([0.5, -1.0]),), [1.0, 4.0]),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_in_place_operators_reach_every_name_sharing_the_memory(f, args, exact):
    got = check_four_ways(f, *args)
    if exact is not None:
        np.testing.assert_allclose(got[0], exact, rtol=1e-12)


def test_a_saved_view_written_through_afterwards():
    x = np.array([1.0, 2.0, 3.0])
    got = check_four_ways(saved_view_written_later, x, 0.7, wrt="w")
    assert got[0] == pytest.approx(5.0, rel=1e-12)
    check_four_ways(slice_update_by_parameter, np.array([0.1, 0.2, 0.3]), 0.7)


def test_helper_writing_into_its_argument():
    check_four_ways(caller_of_updating_helper, 1.5, np.array([1.0, 2.0, 3.0]), wrt="k")


def _projected_energy(x, buf=np.zeros(3)):  # noqa: B008  (a scratch array, on purpose)
    buf[:] = np.sin(x)  # a default array as a scratch buffer (a speed idiom)
    return np.sum(buf * x)


SCRATCH = np.zeros(3)


def _projected_energy_into(x, out):
    out[:] = np.sin(x)
    return np.sum(out * x)


def energy_through_a_default_buffer(x):
    return _projected_energy(x) + _projected_energy(2.0 * x)


def _doubled(x, out=np.zeros(3)):  # noqa: B008  (a scratch array, on purpose)
    out[0] = 2 * x[0]
    out[1:] = x[1:]
    return out * 2.0  # (a value computed from the buffer: the buffer itself dies here)


def energy_through_a_value_of_a_default_buffer(x):
    return np.sum(_doubled(x) * np.sin(x))


def energy_through_a_global_buffer(x):
    first = _projected_energy_into(x, SCRATCH)
    return first + _projected_energy_into(2.0 * x, SCRATCH)


def test_a_value_of_a_default_buffer_frees_no_global():
    """The buffer's last read in the forward pass was followed by ``del default``, which
    made the bound array a local of the gradient: UnboundLocalError from generated code
    (round 78a). What the function is given is never freed."""
    x = np.array([0.5, -1.0, 2.0])
    got = check_four_ways(energy_through_a_value_of_a_default_buffer, x)
    exact = np.array([4.0, 2.0, 2.0]) * np.sin(x) + np.array([4.0, 2.0, 2.0]) * x * np.cos(x)
    assert np.allclose(got[0], exact, rtol=1e-12)


@pytest.mark.parametrize("f", [energy_through_a_default_buffer, energy_through_a_global_buffer])
def test_a_helpers_default_or_global_buffer_written_in_each_call(f):
    """A helper's default array written as a scratch buffer is one array in every call:
    srcad bound it under a new name per call, so the first call's backward pass read the
    second call's values (a finite wrong gradient), and jvp raised NameError from
    generated code (its tangent, and a global's written through a helper, was never
    made); round 77a."""
    x = np.array([0.3, -0.5, 1.2])
    exact = (np.sin(x) + x * np.cos(x) + 2 * np.sin(2 * x) + 4 * x * np.cos(2 * x))
    got = check_four_ways(f, x)
    assert np.allclose(got[0], exact, rtol=1e-12)


def heat_steps_with_a_nested_boundary(k):
    u = np.array([0.0, 1.0, 0.0, 2.0, 0.5])

    def apply_boundary(v):  # (no return: it writes into its argument)
        v[0] = v[1]
        v[-1] = v[-2]

    for _ in range(3):
        u[1:-1] = u[1:-1] + k * (u[2:] - 2 * u[1:-1] + u[:-2])
        apply_boundary(u)
    return np.sum(u ** 2)


def kicks_by_a_nested_closure(x):
    u = np.zeros(3)

    def kick(scale):
        u[1] += scale * x
        if scale > 1.0:
            return
        u[0] -= x * x

    kick(1.0)
    kick(2.0)
    return np.sum(u ** 2) + u[0]


@pytest.mark.parametrize("f, arg", [(heat_steps_with_a_nested_boundary, 0.3),
                                    (kicks_by_a_nested_closure, 0.7)])
def test_a_bare_call_of_a_nested_def_that_writes_in_place(f, arg):
    """A ``def`` inside the function, called bare, writing into its argument or into an
    array it closes over (a boundary condition, a kick) is inlined as a helper of the
    file is: it was refused ("the value of a bare call is not used"), round 77a."""
    check_four_ways(f, arg)


def test_ping_pong_buffers_swapped_each_step():
    check_four_ways(ping_pong_buffers, np.array([0.0, 1.0, 0.5, 2.0, 0.0]), 0.2)


def test_either_of_two_arrays_written_through_one_name():
    check_four_ways(either_buffer_written, 0.7, np.array([1.0, 2.0, 3.0]))


# ---------------------------------------------------------------- repeated indices


def repeated_add(v):
    out = np.zeros(3)
    out[np.array([0, 0, 2])] += v
    return np.sum(out * np.array([1.0, 2.0, 3.0]))


def repeated_set(v):
    out = np.ones(3)
    out[np.array([2, 0, 2])] = v
    return np.sum(out * out)


def add_at_each_time(v):
    out = np.zeros(3)
    idx = np.array([0, 0, 2])
    np.add.at(out, idx, v)
    return np.sum(out * np.array([1.0, 2.0, 3.0]))


def test_repeated_index_add_keeps_the_last_write():
    # numpy: out[[0, 0, 2]] += v adds v[1] to out[0] once (the last write wins)
    got = check_four_ways(repeated_add, np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(got[0], [0.0, 1.0, 3.0], rtol=1e-12)


def test_add_at_adds_at_every_repeat():
    got = check_four_ways(add_at_each_time, np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(got[0], [1.0, 1.0, 3.0], rtol=1e-12)


def segment_means(x, seg, targets):
    sums = np.zeros(targets.shape[0])
    np.add.at(sums, seg, x)
    counts = np.bincount(seg, minlength=targets.shape[0])
    return np.sum((sums / counts - targets) ** 2)


def test_add_at_segment_means():
    check_four_ways(segment_means, np.array([0.5, -1.0, 2.0, 0.3, 1.1]),
                    np.array([0, 2, 0, 1, 2]), np.array([0.1, 0.2, 0.3]), wrt="x")


def test_repeated_index_set_keeps_the_last_write():
    got = check_four_ways(repeated_set, np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(got[0], [0.0, 4.0, 6.0], rtol=1e-12)


# ------------------------------------------------------------- no NaN where the derivative exists


def pairwise_distance_sum(x):
    d2 = (x[:, None] - x[None, :]) ** 2
    return np.sum(np.where(d2 > 0, np.sqrt(d2), 0.0))


def poisson_deviance(mu, y):
    return np.sum(np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu))


def exp_of_sqrt_selected(x):
    return np.sum(np.where(x < 0.5, np.exp(np.sqrt(1.0 - x)), 0.0))


def test_where_gives_exactly_zero_where_its_other_side_is_picked():
    got = check_four_ways(pairwise_distance_sum, np.array([1.0, 2.0, 4.0]))
    np.testing.assert_allclose(got[0], [-4.0, 0.0, 4.0], rtol=1e-12)
    check_four_ways(poisson_deviance, np.array([1.5, 2.0, 0.7]), np.array([0.0, 2.0, 1.0]),
                    wrt="mu")
    check_four_ways(exp_of_sqrt_selected, np.array([1.0, 0.2, -0.3]))


# ---------------------------------------------------------------- generated code that raised


K = np.array([1.0, 2.0])


def inactive_value_written(x):
    z = np.zeros(3)
    z[0] = np.sum(K)
    return np.sum(x * z)


def equal_arms(y):
    z = y if y > 0 else y
    return z * z


def items_written_or_whole_rebound(x):
    z = x * 1.0
    s = np.sum(x)
    if s < 1:
        z[1:] = z[1:] * 0.5
    else:
        z = z / 1.4
    return np.sum(z * z)


def test_generated_code_that_raised():
    got = check_four_ways(inactive_value_written, np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(got[0], [3.0, 0.0, 0.0], rtol=1e-12)
    assert check_four_ways(equal_arms, 1.5)[0] == pytest.approx(3.0, rel=1e-12)
    check_four_ways(items_written_or_whole_rebound, np.array([0.1, 0.2, 0.3]))
    check_four_ways(items_written_or_whole_rebound, np.array([1.0, 2.0, 3.0]))


# ---------------------------------------------------------------- refusals that were needless


def write_into_arithmetic_result(x):
    v = np.tanh(x)
    v[0] = 1.0
    return np.sum(v * x)


def write_after_whole_update(x):
    z = np.ones(3)
    z *= 2.0
    z[0] = x[0]
    return np.sum(z * x)


def shape_only_rule_before_write(x):
    z = x * 1.0
    z[0] = np.sum(z)
    return np.sum(z * z)


def test_writes_that_were_refused():
    check_four_ways(write_into_arithmetic_result, np.array([0.3, -0.5, 1.0]))
    check_four_ways(write_after_whole_update, np.array([0.3, -0.5, 1.0]))
    check_four_ways(shape_only_rule_before_write, np.array([0.3, -0.5, 1.0]))


# ------------------------------------------- one array held by two containers, changed


class _Holder:
    def __init__(self, v):
        self.v = v


class _Tied:
    def __init__(self, v):
        self.v = v
        self.w = v  # (the same array in two fields)


def held_by_two_objects(x):
    A = x * 1.0
    a = _Holder(A)
    b = _Holder(A)
    a.v[1] = a.v[1] ** 2  # b.v is the same array: it changes too
    return np.sum(b.v)


def held_by_two_fields(x):
    t = _Tied(x * 1.0)
    t.v[1] = t.v[1] ** 2
    return np.sum(t.w)


def held_under_two_keys(x):
    A = x * 1.0
    d = {"v": A, "w": A}
    d["v"][1] = d["v"][1] ** 2
    return np.sum(d["w"])


def held_in_a_nested_dict(x):
    inner = {"v": x * 1.0}
    d = {"in": inner}
    inner["v"][1] = inner["v"][1] ** 2
    return np.sum(d["in"]["v"])


def tied_weights_updated_in_place(x):
    w = x * 1.0
    params = {"enc": w, "dec": w}
    for _ in range(2):
        params["enc"] -= 0.1 * params["dec"] ** 2
    return np.sum(params["dec"] ** 2)


def object_rebuilt_after_a_write_in_the_loop(x):
    A = x * 1.0
    h = _Holder(A)
    for k in range(3):
        A[k] = A[k] * (k + 2.0)  # changes h.v in the first iteration only
        h = _Holder(h.v * 1.0)
    return np.sum(h.v**2)


def one_array_in_every_item_of_a_list(x):
    z = x * 1.0
    acc = [z] * 3
    acc[0] *= x
    acc[1] += 1.0
    return np.sum(acc[2] * x) + np.sum(z)


def fresh_array_per_item_of_a_comprehension(x):
    acc = [x * 1.0 for _ in range(3)]  # (three arrays: the loop's product is not hoisted)
    acc[1] *= x
    return np.sum(acc[1]) + np.sum(acc[0])


@pytest.mark.parametrize(
    "f, exact",
    [
        (held_by_two_objects, lambda x: [1.0, 2 * x[1], 1.0]),
        (held_by_two_fields, lambda x: [1.0, 2 * x[1], 1.0]),
        (held_under_two_keys, lambda x: [1.0, 2 * x[1], 1.0]),
        (held_in_a_nested_dict, lambda x: [1.0, 2 * x[1], 1.0]),
        (tied_weights_updated_in_place, None),
        (object_rebuilt_after_a_write_in_the_loop, None),
        (one_array_in_every_item_of_a_list, None),
        (fresh_array_per_item_of_a_comprehension, lambda x: 2 * x + 1.0),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_an_array_two_containers_hold_changes_in_both(f, exact):
    """An object's field, a dict's item or a list's item that is the array another name
    writes into sees the write (srcad finds where containers hold it when the write runs;
    these gradients were silently wrong: the other holder kept the old value)."""
    x = np.array([0.5, 3.0, 2.0])
    got = check_four_ways(f, x)
    if exact is not None:
        np.testing.assert_allclose(got[0], exact(x), rtol=1e-12)


class _Sgd:
    def __init__(self, params, lr):
        self.params = params
        self.lr = lr

    def step(self, grads):
        for k in self.params:
            self.params[k] -= self.lr * grads[k]  # the model's arrays change in place


def sgd_steps_through_an_optimizer_field(lr, w0):
    w = w0.copy()
    model = {"w": w}
    opt = _Sgd(model, lr)
    for _ in range(3):
        opt.step({"w": 2.0 * (model["w"] - 1.0)})
    return np.sum(w**2)


def test_an_update_of_an_item_of_a_field_changes_the_array_in_place():
    """``self.params[k] -= v`` runs ``params[k].__isub__(v)``: the array the model (and
    ``w``) holds changes. The value of ``value_and_grad`` was another before, and d/dlr
    was 0.0: the item got a new array."""
    w0 = np.array([0.3, -0.2, 1.0])
    d_lr, _ = check_four_ways(sgd_steps_through_an_optimizer_field, 0.1, w0, wrt=(0, 1))
    w = 1.0 + (w0 - 1.0) * 0.8**3  # (each step: w - 1 scaled by 1 - 2 lr)
    assert d_lr == pytest.approx(np.sum(2 * w * (w0 - 1.0) * 3 * 0.8**2 * -2.0), rel=1e-9)


def field_holding_a_view_of_the_written_array(x):
    A = x * 1.0
    h = {"head": A[:2], "all": A}
    h["all"][1] = 5.0 * x[1]  # <field-view-write>
    return np.sum(h["head"])


def view_in_a_display_written_through_its_base(x):
    a = x * 1.0
    parts = {"head": a[:2], "all": a}
    a[1] = 5.0 * x[1]  # (parts["head"] sees it)
    return np.sum(parts["head"])


def test_a_display_holding_a_view_sees_a_write_into_its_base():
    """The view a dict display holds is taken again after the write (it was the view
    of the old values: d/dx1 was 1.0)."""
    x = np.array([1.0, 2.0, 3.0])
    got = check_four_ways(view_in_a_display_written_through_its_base, x)
    np.testing.assert_allclose(got[0], [1.0, 5.0, 0.0], rtol=1e-12)


def test_a_field_holding_part_of_the_written_array_is_refused_at_the_write():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(field_holding_a_view_of_the_written_array)(np.array([0.5, 3.0, 2.0]))
    assert info.value.lineno == marker_line(__file__, "field-view-write")
    assert "holds part of the array this line changes" in str(info.value)


class _Log:
    def __init__(self):
        self.hist = []


def log_extended_through_a_field_with_an_alias(x):
    log = _Log()
    seen = log.hist
    for v in x:
        log.hist += [v * v]  # <list-field-extend>
    return sum(seen)


def test_a_list_extended_through_a_field_that_a_variable_holds_is_refused():
    """``log.hist += [v]`` extends the list in place, so ``seen`` sees the items; srcad
    gives the field a new list. Refused where it happens (the value was 0.0)."""
    with pytest.raises(srcad.SrcadError, match="`seen` holds the list") as caught:
        srcad.grad(log_extended_through_a_field_with_an_alias)(np.array([0.5, 1.5]))
    assert caught.value.lineno == marker_line(__file__, "list-field-extend")


def history_display_extended_through_a_dict(x):
    history = []
    state = {"history": history}
    for k in range(3):
        state["history"] += [x * k]  # <display-dict-extend>
    return sum(history)


def row_display_extended_through_a_list(x):
    row = [0.5]
    rows = [row]
    rows[0] += [x]  # <display-row-extend>
    return sum(row) * x


@pytest.mark.parametrize("f, tag, name", [
    (history_display_extended_through_a_dict, "display-dict-extend", "history"),
    (row_display_extended_through_a_list, "display-row-extend", "row"),
])
def test_a_list_display_extended_through_a_container_that_holds_it_is_refused(f, tag, name):
    """A list display bound to a name and put into a dict or list is one list: the
    container's ``+= [v]`` extends what the name holds. srcad read the name as a new
    empty display again (the value was 0.0, or 1.0 where 5.0 is right); it is refused
    where it happens now, as for a name that holds a list read from the container."""
    with pytest.raises(srcad.SrcadError, match=f"`{name}` holds the list") as caught:
        srcad.grad(f)(2.0)
    assert caught.value.lineno == marker_line(__file__, tag)


# ---------------------------------------------------------------- control flow


def loop_with_break_inside_branch(x):
    if x < 0.95:
        for i in range(2):
            if i > 0:
                break
            x = x * 2.0
    return x * x


def test_break_in_a_loop_inside_a_branch():
    assert check_four_ways(loop_with_break_inside_branch, 0.25)[0] == pytest.approx(2.0)


def update_in_one_branch(x, w):
    c = np.tanh(x)
    if w > 0.7:
        x -= np.cos(w)
    else:
        v = w  # noqa: F841
    return np.sum(c * w)


def update_in_one_branch_early_return(x, w):
    if w > 5.0:
        return np.sum(x * x)
    c = np.tanh(x)
    if w > 0.7:
        x -= np.cos(w)
    return np.sum(c * w)


def test_in_place_update_in_one_branch_of_a_merged_name():
    """``x -= ...`` in one branch: the merged name at the join is not the updated one."""
    for f in (update_in_one_branch, update_in_one_branch_early_return):
        for w in (0.3, 1.2):
            check_four_ways(f, 0.4, w)
            check_four_ways(f, np.array([0.4, -0.3]), w)


def number_becomes_array(z):
    acc = z
    for _ in range(2):
        acc *= 0.25
        acc += z * np.linspace(0.25, 1.0, 3) / (2 + np.sin(acc))
    return np.sum(acc) / 3


def test_in_place_operator_that_turns_a_number_into_an_array():
    """``acc += array`` with ``acc`` a float binds an array: the shape ``acc`` had is
    saved for the backward pass (an array's own shape never changes in place)."""
    check_four_ways(number_becomes_array, 0.83)


def squared_in_a_loop(a, n):
    for _ in range(n):
        a = a * a
    return a


def test_forward_mode_of_a_value_that_a_loop_replaces_by_a_function_of_itself():
    """The tangent of ``a = a * a`` reads the old ``a`` (the tangent line comes after)."""
    got = check_four_ways(squared_in_a_loop, 0.7, 2)
    assert got[0] == pytest.approx(4 * 0.7**3, rel=1e-12)


def number_becomes_array_read_after_the_loop(y):
    b = np.sum(y * np.ones(3)) / 3
    b += b
    for i in range(1):
        b *= 0.5
        b += y * np.linspace(0.5, 1.0, 3) + (i + i)
    return np.sum(-(b + y)) / 3


def test_shape_read_after_the_loop_that_changed_it():
    got = check_four_ways(number_becomes_array_read_after_the_loop, 0.3)
    assert got[0] == pytest.approx(-(3.0 + 2.25 + 3.0) / 3, rel=1e-12)


def update_parameter_in_branch_while_an_alias_keeps_it(y, w, z):
    a = y
    if z < 0.5:
        y -= w
    return np.sum(a * a * 3.0 + y * y)


def test_branch_update_of_a_parameter_another_name_still_holds():
    """The parameter's adjoint must survive the branch that (for arrays) rebinds it."""
    for z in (0.2, 0.9):
        check_four_ways(update_parameter_in_branch_while_an_alias_keeps_it, 0.7, 0.3, z)
        check_four_ways(update_parameter_in_branch_while_an_alias_keeps_it,
                        np.array([0.7, -0.2]), 0.3, z, wrt=("y", "w"))


def inactive_array_beside_float_code(x):
    grid = np.zeros(5)
    for j in range(1, 5):
        grid[j] = -0.5 * grid[j - 1] + 0.25 * grid[(j + 1) % 5] + 1.0
    y = 0.3
    y -= x
    return y * np.sum(grid)


def test_item_writes_stay_in_place_in_the_version_for_floats():
    check_four_ways(inactive_array_beside_float_code, 0.3)


def rows_written_loop_variable_reused(M):
    A = M.copy()
    for r in A:
        r[:] = r * 2.0
    s = np.sum(A)
    r = s * 0.5  # (r also after the loop: the loop carries it)
    return r * s


def test_view_written_through_a_loop_variable_the_loop_carries():
    check_four_ways(rows_written_loop_variable_reused, np.arange(6.0).reshape(2, 3) / 5)


def packed_upper_triangle(params):
    """An int counter ``k += 1`` in a loop, read as an index by the backward pass."""
    C = np.zeros((3, 3))
    k = 0
    for i in range(3):
        for j in range(i, 3):
            C[i, j] = params[k] * (k + 1)
            k += 1
    return np.sum(C @ C)


def test_counter_incremented_in_place_is_restored_in_the_backward_loop():
    params = np.array([0.5, -1.0, 2.0, 0.25, 1.5, -0.75])
    check_four_ways(packed_upper_triangle, params)


def updated_twice_through_a_copy(y):
    """``s += s`` then ``v = s; v += v``: with ``s`` a number, ``v`` gets a new value and
    ``s`` keeps its own (the two updates are not one name's)."""
    s = np.mean(y * np.ones(3))
    s += s
    u, v = (s, s)
    v += v
    return v + s + u


def test_update_of_a_copy_after_an_update_keeps_the_original():
    assert srcad.grad(updated_twice_through_a_copy)(1.0) == pytest.approx(8.0, rel=1e-15)
    check_four_ways(updated_twice_through_a_copy, 0.7)


def divided_in_place_in_a_loop(t):
    """``p /= 1 + p * p`` in a loop: the derivative of each division reads its result,
    which the next iteration's division overwrites (``p`` a numpy number, then an array)."""
    p = np.sum(np.ones(2) * t) / 8
    q = np.ones(2) * t / 8
    for _ in range(3):
        p /= 1 + p * p
        q /= 1 + q * q
    return p + np.sum(q)


def test_in_place_division_in_a_loop_keeps_each_iterations_result():
    check_four_ways(divided_in_place_in_a_loop, 0.3)


def shifted_by_a_constant_array(a):
    """The tangent of ``c + a`` (``c`` a constant array) has the shape of the result."""
    n = 0.0
    for _ in range(2):
        n = n * 0.5 + (np.linspace(0.5, 1.0, 2) + 0.5 * a)
    return np.sum(n) / 2


def test_tangent_of_a_sum_with_a_constant_array_is_broadcast():
    (got,) = check_four_ways(shifted_by_a_constant_array, 0.4)
    assert got == pytest.approx(0.5 * 1.5, rel=1e-15)  # n = 1.5 * (c + a / 2), mean


def update_then_swap(x, y, z):
    """``y /= c`` then ``y, z = (np.tanh(z), y)``: the updated array moves to ``z`` while
    ``y`` gets a new value, so the update cannot be given ``y``'s name."""
    y = y * np.ones(2)
    for _ in range(2):
        y /= 1 + x * x
        y, z = (np.tanh(z), y)
    return np.sum(z * x)


def test_updated_value_read_after_its_old_name_is_rebound():
    check_four_ways(update_then_swap, 0.7, -1.2, -1.0)


def loop_index_divided_in_place(x, dx):
    """``i /= c`` on a loop's index: the index is a fresh int in each iteration, and
    becomes active only after the division."""
    for i in range(2):
        i /= 1.5 + math.tanh(dx)
        x = x + math.tanh(math.exp(math.tanh(i)))
    return x


def test_loop_index_updated_in_place():
    check_four_ways(loop_index_divided_in_place, 0.3, -0.4)


def index_copied_then_updated(x):
    # `y = i; y -= ...`: y starts as the loop's int index, which no write can change (the
    # memory pass used to write y back into i, and forward mode read a tangent of i)
    for i in range(2):
        y = x
        for _ in range(i):
            y = i
        y -= y * y
        x = y * 0.5 + i
    return x


def test_a_loop_index_copied_then_updated_in_place_stays_the_index():
    check_four_ways(index_copied_then_updated, 0.3)


def where_of_log_in_a_loop(x):
    # z is made before the condition z > 0: its gradient must not read the condition of
    # the iteration before (the backward loop restores it at its own line)
    s = 0.0
    for i in range(3):
        z = x * (i - 1.0)
        t = np.where(z > 0, np.log(np.where(z > 0, z, 1.0)), 0.0)
        s = s + np.sum(t * x)
    return s


def test_where_in_a_loop_masks_with_the_condition_of_the_same_iteration():
    x = np.array([0.5, -0.3, 1.2])
    with np.errstate(divide="ignore"):
        check_four_ways(where_of_log_in_a_loop, x)
    # exactly: d/dx sum(x log x over x > 0) + sum(x log(-x) over x < 0) = log|x| + 1
    expected = np.log(np.abs(x)) + 1
    assert np.allclose(srcad.grad(where_of_log_in_a_loop)(x), expected, rtol=1e-12)


def _swapped_with_tanh(x, y):
    """The slow run's program 7260, reduced: in a loop, `x = tanh(y)` is saved before it
    is overwritten and copied right after (its derivative reads the copy), and x meets
    numpy arrays later. The copy was pushed after x's own save but popped after it
    too, so the backward pass read the wrong saved values (a silently wrong dy)."""
    for _ in range(3):
        x += math.log(2 + math.sin(x))
        y, x = (x + math.sqrt(0.5), math.tanh(y))
    acc = 0.0
    for j in range(2):
        vec = np.sqrt(x * np.linspace(0.75, 1.0, 2) * (0.5 - 0.5 * j) + 0.1266) - 0.5
        acc = acc + np.mean(vec * vec)
    b = 1.0 / (1.0 + math.exp(-(acc + x)))
    return b + 2.0 - (acc + b)


@pytest.mark.parametrize("point", [(0.1, 0.2), (0.0, 0.0), (-0.4, 0.7)])
def test_copy_saved_right_after_a_statement_is_restored_in_stack_order(point):
    dx, dy = srcad.grad(_swapped_with_tanh, wrt=(0, 1))(*point)
    _, tangent = srcad.jvp(_swapped_with_tanh)(point, (0.0, 1.0))
    h = 1e-6
    cd = (_swapped_with_tanh(point[0], point[1] + h)
          - _swapped_with_tanh(point[0], point[1] - h)) / (2 * h)
    assert dy == pytest.approx(tangent, rel=1e-10, abs=1e-12)
    assert dy == pytest.approx(cd, rel=1e-6, abs=1e-8)


def index_handed_over_by_a_tuple(x, y):
    """The slow run's program 9386, reduced: a tuple assignment hands the int loop index
    to `a`, which is then updated in place, and the index is carried out of the loop (`i`
    has a value before it). The memory pass wrote the update back into the index, and
    forward mode read a tangent the index never has (UnboundLocalError: i_1_dot)."""
    a = x * 2.0
    i = 0
    for i in range(4):
        h, a, t2 = (x / 2, i, math.log(1 + i * i))
        if y < 1.618:
            a **= 2
        x = x + 0.1 * a * h
    return t2 * x + i


@pytest.mark.parametrize("y", [0.0, 2.0])
def test_an_index_handed_over_by_a_tuple_and_updated_in_place_stays_the_index(y):
    check_four_ways(index_handed_over_by_a_tuple, 0.3, y)


def test_a_copy_read_after_the_statements_pop_is_held_before_the_copys_pop():
    # The backward lines of `x_1 = f(x)` with a copy `x_1_after` saved right after it: the
    # copy was pushed last, so it is popped first; a line after x_1's pop that reads the
    # copy wants this run's value, so it reads it from a name that holds it.
    from srcad import ir
    from srcad.reverse import _restores_in_stack_order

    backward = [ir.Pop("x_1"), ir.Assign("t", ir.Name("x_1_after"))]
    deferred = [ir.Pop("x_1_after")]
    out = _restores_in_stack_order(backward, "x_1", deferred, lambda name: name + "_0")
    assert out == [
        ir.Assign("x_1_after_held_0", ir.Name("x_1_after")),
        ir.Pop("x_1_after"),
        ir.Pop("x_1"),
        ir.Assign("t", ir.Name("x_1_after_held_0")),
    ]
    # with no such read, the copy's pop goes just before the statement's own
    plain = [ir.Assign("t", ir.Name("x_1_after")), ir.Pop("x_1")]
    assert _restores_in_stack_order(plain, "x_1", deferred, str) == [
        plain[0], deferred[0], plain[1]]


def view_of_an_array_made_from_floats(p, r):
    """The slow run's program 327 (stop 23), reduced: with Python floats for p and r, the
    version for floats assumed that nothing shares memory, and dropped the write through
    the view into `sq` (a silently wrong dp = 0). An array made inside the function from
    floats shares memory with its views all the same."""
    sq = np.array([r, r * 2, r, r])
    pts = sq[1:]
    pts += np.sin(p * np.linspace(0.25, 1.0, 3))
    pts *= 0.5
    return np.mean(sq)


@pytest.mark.parametrize("point", [(0.0, 0.0), (0.3, -0.2)])
def test_a_view_of_an_array_made_from_floats_is_written_through(point):
    check_four_ways(view_of_an_array_made_from_floats, *point)
    # exactly: d/dp mean(sq) = 0.5 * mean of cos(p c) c over the three written places / 4
    c = np.linspace(0.25, 1.0, 3)
    expected = 0.5 * np.sum(np.cos(point[0] * c) * c) / 4
    assert srcad.grad(view_of_an_array_made_from_floats)(*point) == pytest.approx(expected)


def update_handed_to_the_name_it_reads(x, dx):
    """The slow run's program 1117 (stop 23), reduced: `v -= x` then `x, v = (v, c)` in a
    nested loop. The loop join named the update after the carried `x` it reads, and the
    in-place form `x_1 = v; x_1 -= x_1` subtracted the new value from itself (a wrong
    value and gradient in the array version; the float version hid it for floats)."""
    v = 1.0
    for i in range(2):
        for j in range(i + 1):
            v -= x
            x, v = (v, j * 1.0 + dx)
    buf = np.sin(x * np.linspace(0.25, 1.0, 6).reshape((2, 3)))
    for r in buf:
        r -= dx * np.linspace(0.5, 1.0, 3)
    return x + np.mean(buf)


@pytest.mark.parametrize("point", [(0.0, 0.0), (0.3, -0.2), (np.float64(0.4), 0.1)])
def test_an_update_handed_to_the_name_it_reads_reads_the_old_value(point):
    check_four_ways(update_handed_to_the_name_it_reads, *point)


def stacked_rows(x, n):
    rows = []
    for k in range(2):
        row = np.empty_like(x)
        row[:] = x * (k + 1.0)
        rows.append(row)
    if n > 0:
        last = rows[1]
    else:
        raise ValueError("n must be positive")
    return last


def sum_of_squared_rows(x, n):
    return np.sum(stacked_rows(x, n) ** 2)


def test_a_name_set_after_the_loop_in_a_branch_whose_other_side_raises():
    """Found in ``np.gradient`` (stop 25): the memory pass checked, after each write in
    the loop, whether ``last`` shares the written array, before ``last`` existed (an
    UnboundLocalError in generated code). The raising branch counted as a way past the
    ``if`` that leaves ``last`` unset, so ``last`` looked live inside the loop."""
    x = np.array([0.5, -1.0, 0.25])
    (gradient,) = check_four_ways(sum_of_squared_rows, x, 1)
    np.testing.assert_allclose(gradient, 8.0 * x, rtol=1e-12)


# ---------------------------------------------------------------- views written in loops


def row_scaled_in_a_loop(M, s):
    A = M.copy()
    r = A[0]
    for _ in range(3):
        r *= s  # (r is A's row in every iteration: A changes too)
    return np.sum(A ** 2) + np.sum(r)


def symplectic_euler(z0, k):
    z = z0.copy()
    q = z[:2]
    p = z[2:]
    for _ in range(10):
        p -= 0.1 * k * q
        q += 0.1 * p
    return np.sum(z ** 2) + np.sum(q * p)


def gram_schmidt_rows(V):
    Q = V.copy()
    for k in range(Q.shape[0]):
        q = Q[k]
        for j in range(k):
            q -= (Q[j] @ q) * Q[j]
        q /= np.sqrt(q @ q)
    return np.sum(Q * np.arange(1.0, 10.0).reshape(3, 3))


def tail_updated_twice_in_a_loop(x, y):
    Z = x * np.linspace(0.5, 1.0, 3)
    A = Z[1:]
    for _ in range(2):
        A *= 2.0
        A += np.sin(y * np.linspace(0.25, 1.0, 2))
    return np.mean(Z * Z)


def view_updated_twice_while_its_base_is_written(x, a):
    y = x.copy()
    v = y[1:3]
    for _ in range(2):
        v *= a
        v *= a
        y[0] += 1.0  # (v is still y's view here: the updates kept the object)
    return np.sum(y ** 2)


def index_moved_in_the_loop(A0, s):
    A = A0.copy()
    k = 0
    r = A[k]  # (row 0 for good: k moving on does not move the view)
    for _ in range(2):
        k += 1
        r *= s
    return np.sum(A ** 2) + k


def number_scaled_in_a_loop(x, s):
    A = x.copy()
    r = A[0]  # (a number: r *= s gives a new one, A is left alone)
    for _ in range(3):
        r *= s
    return np.sum(A ** 2) + r


def test_a_view_taken_before_a_loop_and_written_in_it():
    """A view made before a loop and written in place in it is the same view in every
    iteration (``r_1 *= s`` keeps the object): its base changes with it, as numpy's does.
    These were refused ("a view made in another branch or loop iteration")."""
    M = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])
    check_four_ways(row_scaled_in_a_loop, M, 0.8, wrt=(0, 1))
    check_four_ways(symplectic_euler, np.array([1.0, 0.5, -0.3, 0.2]), 1.3, wrt=(0, 1))
    V = np.array([[1.0, 0.2, -0.3], [0.1, 1.2, 0.4], [-0.2, 0.3, 0.9]])
    check_four_ways(gram_schmidt_rows, V)
    check_four_ways(number_scaled_in_a_loop, np.array([0.5, -1.0]), 0.8, wrt=(0, 1))
    check_four_ways(tail_updated_twice_in_a_loop, 0.3, 0.5, wrt=(0, 1))
    check_four_ways(view_updated_twice_while_its_base_is_written,
                    np.array([0.3, -0.5, 0.8, 1.1]), 0.7, wrt=(0, 1))
    check_four_ways(index_moved_in_the_loop, np.array([[1.0, 2.0], [0.5, -1.0]]), 0.7,
                    wrt=(0, 1))
    # second derivatives too: the hvp against differences of the gradient
    z, v, h = np.array([1.0, 0.5, -0.3, 0.2]), np.cos(np.arange(4.0)), 1e-6
    g = srcad.grad(symplectic_euler)
    expected = (g(z + h * v, 1.3) - g(z - h * v, 1.3)) / (2 * h)
    np.testing.assert_allclose(srcad.hvp(symplectic_euler)(z, 1.3, v), expected, atol=1e-7)


def _hsplit_then_scaled(x):
    y = x.copy()
    halves = np.hsplit(y.reshape(2, 2), 2)  # (numpy's own hsplit: an if in its code)
    halves[1] *= 5.0  # <hsplit-write>
    return np.sum(y**2)


def test_a_part_of_hsplit_changed_in_place_is_refused():
    """np.hsplit's parts are views of its argument; a write into one through the list
    changes it. The list came out of a branch of numpy's code, where srcad forgot it held
    views (a silently wrong gradient); it is refused at the line."""
    with pytest.raises(srcad.SrcadError) as caught:
        srcad.grad(_hsplit_then_scaled)(np.arange(1.0, 5.0))
    assert caught.value.lineno == marker_line(__file__, "hsplit-write")


def _written_through_a_slice_of_a_copy(x):
    a = x.copy()
    a[1:][0] = 7.0 * a[0]  # <through-a-copy>
    return np.sum(a**2)


def _chained_writes_into_a_copy(X):
    A = X.copy()
    A[0][1] = 7.0 * A[1, 1]  # a row's view: A changes
    A[::2][[0, 1]] = 0.5 * A[1]  # a view, then a fancy index into it: A changes
    A[A[:, 1] > 0][0] = 3.0  # a mask's copy: A does not change
    A[[0, 2]][:] = 0.0  # a fancy index's copy: A does not change
    return np.sum(A * X)


def test_a_copy_of_an_array_parameter_written_through_a_view_of_it():
    """``a = x.copy(); a[1:][0] = v`` writes ``a`` through a view (a mask's or fancy
    index's copy does not); it was refused as a write into a list a copy shares. A list
    or dict parameter is refused when the gradient runs, at the write."""
    check_four_ways(_written_through_a_slice_of_a_copy, np.array([0.5, 1.0, -0.3]))
    check_four_ways(_chained_writes_into_a_copy, np.arange(6.0).reshape(3, 2) - 2.5)
    with pytest.raises(srcad.UnsupportedSyntaxError, match="a slice of a list") as caught:
        srcad.grad(_written_through_a_slice_of_a_copy)([0.5, 1.0, -0.3])
    assert caught.value.lineno == marker_line(__file__, "through-a-copy")


def _numbers_then_an_array_written_through_an_item(x):
    d = {"a": 1.0}
    d["w"] = np.zeros(3)
    d["w"][1] = x[0] * 2.0
    return np.sum(d["w"] ** 2) * d["a"]


def _numbers_then_an_array_written_through_a_name(x):
    d = {"scale": 0.5}
    d["w"] = np.zeros(3)
    w = d["w"]
    w[1] = x[0] * 2.0
    w += x
    return np.sum(d["w"] ** 2) * d["scale"]


@pytest.mark.parametrize("f", [_numbers_then_an_array_written_through_an_item,
                               _numbers_then_an_array_written_through_a_name])
def test_an_array_put_into_a_dict_of_numbers_then_changed_in_place(f):
    # a dict display of numbers only had no memory of its own, so the array written into
    # it later was not known to be its item: the change through d["w"] (or a name for
    # it) was lost, and the gradient was 0 (round 28); jvp crashed (its tangent was 0.0)
    check_four_ways(f, np.array([0.3, 1.2, -0.4]))


# ---- an array a container holds (a dict display, a dataclass, an object's field) updated
# through its own name with `w -= ...` (round 57b: the gradient ignored the update)

_X = np.array([[1.0, 0.5], [0.2, -1.0], [0.3, 0.8], [0.9, 0.1]])
_Y = np.array([1.0, -0.5, 0.2, 0.7])


def _residual_loss(p):
    r = _X @ p["w"] + p["b"] - _Y
    return r @ r


def _trained_by_a_params_dict(lr, w0):
    w, b = w0.copy(), np.zeros(1)
    params = {"w": w, "b": b}
    for _ in range(3):
        r = _X @ w + b - _Y
        w -= lr * 2.0 * _X.T @ r
        b -= lr * 2.0 * np.sum(r)
    return _residual_loss(params)


class _Linear:
    def __init__(self, w):
        self.w = w

    def loss(self):
        r = _X @ self.w - _Y
        return r @ r


def _trained_through_an_object(lr, w0):
    w = w0.copy()
    model = _Linear(w)
    for _ in range(3):
        w -= lr * 2.0 * _X.T @ (_X @ w - _Y)
    return model.loss()


def _scaled_in_place_once(x):
    w = x * 1.0
    held = {"w": w}
    w *= x  # (held["w"] is w: x * x)
    return np.sum(held["w"])


@pytest.mark.parametrize("f, args", [
    (_trained_by_a_params_dict, (0.05, np.array([0.1, -0.2]))),
    (_trained_through_an_object, (0.05, np.array([0.1, -0.2]))),
    (_scaled_in_place_once, (np.array([0.5, 1.5]),)),
])
def test_an_array_a_container_holds_updated_through_its_name(f, args):
    check_four_ways(f, *args)


class _RowHolder:
    def __init__(self, v):
        self.v = v


def _field_holds_a_row(M):
    A = M * 1.0
    h = _RowHolder(A[1])  # (a view of row 1)
    A[1, :] = A[1, :] ** 2  # (written through the base)
    return np.sum(h.v)


class _Slab:
    def __init__(self, flat, lo, hi):
        self.w = flat[lo:hi]


def _layers_of_one_buffer(theta):
    buf = theta.copy()
    first, second = _Slab(buf, 0, 2), _Slab(buf, 2, 4)
    buf *= 0.5
    buf[1] += buf[2]
    return np.sum(first.w ** 2) + np.sum(second.w * first.w)


@pytest.mark.parametrize("f, args", [
    (_field_holds_a_row, (np.arange(9.0).reshape(3, 3) / 7.0,)),
    (_layers_of_one_buffer, (np.array([0.5, 1.5, -0.3, 0.8]),)),
])
def test_a_field_holding_a_view_sees_writes_through_the_base(f, args):
    """Round 57b: the gradient ignored the writes (the view is made again, and stored)."""
    check_four_ways(f, *args)


# ---------------------------------------------------------------- views in memory order
# Round 62a: views whose items follow a memory layout other than C order. A write
# through `ravel(order='K')` of a column-major or transposed array landed in C order (a
# permuted gradient: srcad's saved copy of the array was C-ordered); the tangent of a
# read-only K-order ravel followed the tangent's layout, not the array's (jvp and the
# Hessian wrong); a write through `reshape(..., order='F')` crashed (no rule to write it
# back).

WEIGHTS_12 = np.arange(12.0).reshape(3, 4)


def column_major_state(a):
    f = np.asfortranarray(a * 1.0)
    flat = f.ravel(order="K")  # (a view: f's items in memory, column by column)
    flat[0] = 5.0 * flat[1]  # (f[0, 0] = 5 f[1, 0])
    flat[1:] += 0.5 * flat[:-1] ** 2
    return np.sum(f * WEIGHTS_12)


def transposed_in_memory_order(x, y):
    z = x * np.linspace(0.5, 1.0, 4)
    a = z.reshape(2, 2).T.ravel(order="K")  # (z's own order: a view of z)
    a[1:] *= np.sin(y * np.linspace(0.25, 1.0, 3))
    return np.mean(z * z) + np.sum(a * np.arange(4.0))


def matlab_style_reshape(x, y):
    z = x * np.linspace(0.5, 1.0, 4)
    m = z.reshape(2, 2, order="F")  # (a view of z, column by column)
    m[0] *= y
    return np.mean(z * z * np.arange(4.0)) + np.sum(np.ravel(m, order="A") * np.arange(4.0))


def read_in_memory_order(a):
    f = np.array(a, order="F")
    return np.sum(np.ravel(f, order="K") ** 2 * np.arange(12.0)) + np.sum(
        f.flatten(order="A") * np.arange(12.0))


@pytest.mark.parametrize("f, args", [
    (column_major_state, (np.random.default_rng(0).standard_normal((3, 4)),)),
    (transposed_in_memory_order, (0.7, 1.3)),
    (matlab_style_reshape, (0.7, 1.3)),
    (read_in_memory_order, (np.random.default_rng(1).standard_normal((3, 4)),)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_views_in_memory_order_four_ways(f, args):
    check_four_ways(f, *args)


def test_a_write_through_a_memory_order_view_lands_where_it_reads():
    a = np.random.default_rng(0).standard_normal((3, 4))
    got = srcad.grad(column_major_state)(a)
    assert got[0, 0] == 0.0  # (overwritten: f[0, 0] is 5 f[1, 0], whose gradient has it)
    plain = srcad.grad(column_major_state, optimize=False)(a)
    np.testing.assert_allclose(got, plain, rtol=1e-13)


_TARGET = np.arange(6.0).reshape(2, 3)


def _background_plus_foreground(A, B):
    return np.sum((A + B - _TARGET) ** 2)


def _three_biases(a, b, c, x):
    h = x + a + b
    return np.sum(np.tanh(h + c))


def test_the_gradients_returned_are_distinct_arrays():
    # (round 79: `A + B` gave dA and dB as one array, so weight decay on A alone, written
    # in place, changed B's gradient too: [-3.327, -0.0072, -5.384] for [-3.095, 0.0147,
    # -5.260])
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    expected = 2 * (A + B - _TARGET)
    makers = (
        lambda: srcad.grad(_background_plus_foreground, wrt=(0, 1))(A, B),
        lambda: srcad.grad(_background_plus_foreground, wrt=(0, 1), optimize=False)(A, B),
        lambda: srcad.value_and_grad(_background_plus_foreground, wrt=(0, 1))(A, B)[1],
        lambda: srcad.vjp(_background_plus_foreground, A, B)[1](1.0),
    )
    for make in makers:
        gA, gB = make()
        gA += 0.1 * A  # (weight decay on A only, in place)
        np.testing.assert_allclose(gB, expected, rtol=1e-12)
        np.testing.assert_allclose(gA, expected + 0.1 * A, rtol=1e-12)
    x = rng.normal(size=3)
    grads = srcad.grad(_three_biases, wrt=(0, 1, 2))(np.zeros(3), np.ones(3), x, x)
    assert len({id(g) for g in grads}) == 3
    for g in grads:
        np.testing.assert_allclose(g, 1 - np.tanh(2 * x + 1.0) ** 2, rtol=1e-12)


@dataclasses.dataclass
class _LowRankPlusSparse:
    low_rank: np.ndarray
    sparse: np.ndarray


def _fields_through_their_sum(p):
    return np.sum((p.low_rank + p.sparse - _TARGET) ** 2)


def _accumulated_in_a_buffer(A, B):
    s = A.copy()
    s += B
    return np.sum((s - _TARGET) ** 2)


def _added_into_out(A, B):
    s = np.empty_like(A)
    np.add(A, B, out=s)
    return np.sum((s - _TARGET) ** 2)


def _passed_through(a, b):
    return a + b


def test_gradients_share_no_memory_with_each_other_or_the_arguments():
    # (round 80: fields of a dataclass gradient, and the gradients of a buffer added into
    # in place, came back as one array; vjp handed back the caller's cotangent itself)
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    expected = 2 * (A + B - _TARGET)
    g = srcad.grad(_fields_through_their_sum)(_LowRankPlusSparse(A, B))
    g.low_rank += 0.1 * A  # (weight decay on one field only)
    np.testing.assert_allclose(g.sparse, expected, rtol=1e-12)
    for f in (_accumulated_in_a_buffer, _added_into_out):
        gA, gB = srcad.grad(f, wrt=(0, 1))(A, B)
        gA *= 0.5
        np.testing.assert_allclose(gB, expected, rtol=1e-12)
        check_four_ways(f, A, B)
    cotangent = np.ones(3)
    _, pullback = srcad.vjp(_passed_through, np.zeros(3), np.zeros(3))
    da, db = pullback(cotangent)
    assert not np.shares_memory(da, cotangent) and not np.shares_memory(da, db)
    da += 1.0
    np.testing.assert_array_equal(cotangent, np.ones(3))
    np.testing.assert_array_equal(db, np.ones(3))
