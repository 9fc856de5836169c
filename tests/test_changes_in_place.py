"""Calls that change something besides their value: followed wherever they stand, or
refused at the user's line.

Three classes a user's program met, each silently wrong before:

* an in-place call whose value is assigned (``r = y.sort()``, ``_ = np.exp(x, out=y)``,
  ``r = xs.append(v)``): it was differentiated as a pure call, and its change was lost;
* a random draw whose value is not read (``rng.normal(size=3)`` to advance a generator,
  ``_ = np.random.seed(1)``): the optimiser dropped it, so later draws changed;
* a list written item by item inside a loop through another name (``b = a``), or by a
  helper into its caller's list: the change was not seen through the other name.

Every gradient is checked the four ways (:func:`conftest.check_four_ways`).
"""

from __future__ import annotations

import importlib.util
import math
import operator
import random
from pathlib import Path

import numpy as np
import pytest
from conftest import check_four_ways, marker_line
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import srcad

THIS_FILE = Path(__file__).name
X = np.array([0.5, -1.0, 2.0])


# ---------------------------------------------------------------- in-place calls, assigned


def exp_into_assigned(x):
    y = np.zeros_like(x)
    _ = np.exp(x, out=y)
    return np.sum(y)


def sort_assigned(x):
    y = x.copy()
    r = y.sort()
    return np.sum(y * np.arange(3.0)) if r is None else 0.0


def multiply_into_itself(x):
    y = x * 1.0
    r = np.multiply(y, 2.0, out=y)  # (r is y, doubled)
    return np.sum(r * x)


def positional_out(x):
    y = np.zeros_like(x)
    np.exp(x, y)  # (numpy's out by position)
    z = np.add(x, 1.0, y)
    return np.sum(z * y)


def clip_into(x):
    y = np.empty_like(x)
    r = np.clip(x, -0.5, 1.0, out=y)
    return np.sum(r * x)


def fill_assigned(x):
    y = x * 2.0
    r = y.fill(3.0)
    return np.sum(y * x) if r is None else 0.0


def list_methods_assigned(xs, k):
    a = list(xs)
    r1 = a.append(k)
    r2 = a.extend([k, 2.0 * k])
    r3 = a.insert(0, k * k)
    r4 = a.reverse()
    r5 = a.sort()
    assert r1 is r2 is r3 is r4 is r5 is None
    return sum(v * (i + 1) for i, v in enumerate(a))


def dict_update_assigned(x, k):
    d = {"a": x}
    r = d.update({"a": k * x, "b": k})
    return d["a"] * d["b"] if r is None else 0.0


@pytest.mark.parametrize(
    "f, args",
    [
        (exp_into_assigned, (X,)),
        (sort_assigned, (X,)),
        (multiply_into_itself, (X,)),
        (positional_out, (X,)),
        (clip_into, (X,)),
        (fill_assigned, (X,)),
        (list_methods_assigned, ([0.3, 0.1, 0.7], 0.4)),
        (dict_update_assigned, (0.3, 1.5)),
    ],
)
def test_an_in_place_call_whose_value_is_assigned_still_changes_its_target(f, args):
    grads = check_four_ways(f, *args, wrt=tuple(range(len(args))))
    if f is exp_into_assigned:  # (exactly: d/dx sum(exp(x)))
        np.testing.assert_allclose(grads[0], np.exp(X), rtol=1e-14)
    if f is multiply_into_itself:  # sum(2x * x)
        np.testing.assert_allclose(grads[0], 4.0 * X, rtol=1e-14)


def out_inside_an_expression(x):
    y = np.zeros_like(x)
    s = np.sum(np.exp(x, out=y))
    return s + np.sum(y)


def positional_out_of_numpy_functions(x, W):
    s = np.zeros(3)
    np.sum(W * x, 0, None, s)  # (np.sum(a, axis, dtype, out))
    c = np.zeros(3)
    np.dot(W, x, c)
    y = np.zeros(3)
    np.clip(x, -0.5, 1.0, y)
    return np.sum(s * c) + np.sum(y * x)


def changes_inside_expressions(xs, w):
    a = [v * w for v in xs]
    b = []
    if a.sort() is None:  # (the sort happens in the test)
        pair = (b.append(a[0]), b.append(a[2] * w))
        appended = [b.append(v * v) for v in a]
    while a.pop() > 0.0:  # (the last pop too: the one that ends the loop)
        pass
    return sum(a) * 3.0 + sum(b) + len(pair) + len(appended)


def test_a_change_inside_an_expression_happens_where_it_stands():
    check_four_ways(out_inside_an_expression, X)
    W = np.arange(9.0).reshape(3, 3) / 7.0
    check_four_ways(positional_out_of_numpy_functions, X, W, wrt=(0, 1))
    check_four_ways(changes_inside_expressions, [0.5, -1.0, 2.0, 0.25], 0.7, wrt=(0, 1))


def cumsum_method_into(x):
    y = np.zeros_like(x)
    r = (x * x).cumsum(out=y)  # <method-out>
    return np.sum(r * y)


def divmod_into(x):
    q, r = np.zeros_like(x), np.zeros_like(x)
    np.divmod(x * 3.0, 1.0, q, r)  # <two-outs>
    return np.sum(r * r)


@pytest.mark.parametrize(
    "f, tag, words",
    [(cumsum_method_into, "method-out", "through a method"),
     (divmod_into, "two-outs", "several output arrays")],
)
def test_writes_into_out_srcad_does_not_follow_are_refused_at_the_line(f, tag, words):
    with pytest.raises(srcad.SrcadError, match=words) as caught:
        srcad.grad(f)(X)
    assert caught.value.filename.endswith(THIS_FILE)
    assert caught.value.lineno == marker_line(__file__, tag)


# ---------------------------------------------------------------- random draws


def warm_up_draw(mu):
    rng = np.random.default_rng(0)
    rng.normal(size=3)  # (only advances the generator)
    warm = rng.normal(size=3)  # noqa: F841 -- likewise, assigned and not read
    eps = rng.normal(size=3)
    return np.sum((mu + eps) ** 2)


def seeded(mu):
    np.random.seed(1)
    _ = np.random.seed(2)
    eps = np.random.randn(3)
    return np.sum((mu + eps) ** 2)


def draws_in_a_loop(mu):
    rng = np.random.default_rng(3)
    total = 0.0
    for _ in range(4):
        skip = rng.uniform()  # noqa: F841 -- drawn, not read
        eps = rng.normal(size=3)
        total = total + np.sum((mu * eps) ** 2)
    return total


def python_random(x, r):
    r.random()
    return x * r.gauss(0.0, 1.0)


@pytest.mark.parametrize("f", [warm_up_draw, seeded, draws_in_a_loop])
def test_a_random_draw_runs_even_when_its_value_is_not_read(f):
    mu = np.array([0.1, 0.2, 0.3])
    grads = check_four_ways(f, mu)
    if f is warm_up_draw:  # (exactly: the third draw of the generator)
        rng = np.random.default_rng(0)
        rng.normal(size=3)
        rng.normal(size=3)
        np.testing.assert_allclose(grads[0], 2.0 * (mu + rng.normal(size=3)), rtol=1e-14)


def test_a_random_module_generator_passed_in_draws_as_the_function_does():
    g = srcad.value_and_grad(python_random)
    value, grad = g(0.7, random.Random(5))
    r = random.Random(5)
    r.random()
    expected = r.gauss(0.0, 1.0)
    assert value == 0.7 * expected and grad == expected


def shuffles_in_place(x):
    rng = np.random.default_rng(0)
    y = x.copy()
    rng.shuffle(y)  # <shuffle>
    return np.sum(y * np.arange(3.0))


def shuffles_a_list_assigned(xs):
    ys = list(xs)
    r = random.shuffle(ys)  # noqa: F841  # <shuffle-list>
    return ys[0] * 2.0 + ys[1]


@pytest.mark.parametrize(
    "f, arg, tag",
    [(shuffles_in_place, X, "shuffle"),
     (shuffles_a_list_assigned, [0.1, 0.2, 0.3], "shuffle-list")],
)
def test_a_shuffle_in_place_is_refused_at_its_line(f, arg, tag):
    with pytest.raises(srcad.SrcadError, match="shuffles its argument in place") as caught:
        srcad.grad(f)(arg)
    assert caught.value.lineno == marker_line(__file__, tag)
    assert "rng.permutation" in str(caught.value)


# ---------------------------------------------------------------- lists written in loops


def alias_written_in_a_loop(xs, k):
    a = list(xs)
    b = a
    for i in range(1, 3):
        b[i] = a[i - 1] * k  # <alias-loop>
    return sum(a)


def _smooth_in_place(a, k):
    for i in range(1, len(a)):
        a[i] = a[i] + k * a[i - 1]
    return 0.0


def helper_writes_in_a_loop(xs, k):
    a = list(xs)
    z = _smooth_in_place(a, k)
    return sum(a) + z  # <helper-loop>


def _normalized(v):
    s = sum(v)
    for i in range(len(v)):
        v[i] = v[i] / s
    return v


def _scaled_first(v, k):
    v[0] = v[0] * k
    return v[0] + v[1]


def helpers_write_lists_no_one_reads_again(xs, k):
    """A helper changes its argument in place, and the caller rebinds the name, or
    passes a list no other name holds: nothing reads the old value."""
    a = [x * k for x in xs]
    a = _normalized(a)
    b = _scaled_first(list(xs), k)
    return a[0] * 3.0 + a[1] + b * _scaled_first([k, 2.0 * k], k)


def writes_the_list_it_runs_over(xs, k):
    a = list(xs)
    for i, v in enumerate(a):
        if i + 1 < len(a):
            a[i + 1] += k * v  # <runs-over>
    return sum(a)


@pytest.mark.parametrize(
    "f, tag, words",
    [
        (alias_written_in_a_loop, "alias-loop", "hold the same list"),
        (helper_writes_in_a_loop, "helper-loop", "is the list that `_smooth_in_place` changed"),
        (writes_the_list_it_runs_over, "runs-over", "inside a loop that runs over it"),
    ],
)
def test_a_list_written_in_a_loop_through_another_name_is_refused_at_the_line(f, tag, words):
    with pytest.raises(srcad.SrcadError, match=words) as caught:
        srcad.grad(f, wrt=(0, 1))([1.0, 2.0, 3.0, 4.0], 0.5)
    assert caught.value.filename.endswith(THIS_FILE)
    assert caught.value.lineno == marker_line(__file__, tag)


def test_a_helper_may_change_a_list_its_caller_does_not_read_again():
    check_four_ways(helpers_write_lists_no_one_reads_again, [1.0, 2.0, 3.0, 4.0], 0.5,
                    wrt=(0, 1))


def conditional_alias_written_in_a_loop(xs, k):
    a = list(xs)
    c = list(xs)
    b = a if k > 0 else c
    for i in range(1, 4):
        b[i] = b[i - 1] * k + b[i]  # <conditional-alias>
    return sum(a) + 2 * sum(c)


def alias_on_one_branch(xs, k):
    a = list(xs)
    b = [0.0] * 4
    if k > 0:
        b = a
    b.append(k)  # <one-branch-alias>
    return sum(a) + sum(b)


@pytest.mark.parametrize(
    "f, tag",
    [(conditional_alias_written_in_a_loop, "conditional-alias"),
     (alias_on_one_branch, "one-branch-alias")],
)
def test_a_list_that_may_be_another_names_is_not_changed_through_either(f, tag):
    with pytest.raises(srcad.SrcadError, match="hold the same list") as caught:
        srcad.grad(f, wrt=(0, 1))([1.0, 2.0, 3.0, 4.0], 0.5)
    assert caught.value.lineno == marker_line(__file__, tag)


def own_list_written_in_a_loop(xs, k):
    a = list(xs)
    for i in range(1, len(a)):
        a[i] = a[i] + k * a[i - 1]
    return sum(a)


def test_a_list_of_its_own_written_in_a_loop_is_followed():
    grads = check_four_ways(own_list_written_in_a_loop, [1.0, 2.0, 3.0, 4.0], 0.5, wrt=(0, 1))
    np.testing.assert_allclose(grads[0], [1.875, 1.75, 1.5, 1.0], rtol=1e-12)
    assert grads[1] == pytest.approx(9.75, rel=1e-12)


# ---------------------------------------------------------------- random programs of the class

#: Lines of a program of ``w`` (a float), ``x`` (an array of 4) and ``xs`` (a list of 3)
#: that add into ``s``: calls that change something besides their value (assigned, bare,
#: given their output by position), random draws read or not, lists written in loops,
#: between plain arithmetic.
CHANGES = (
    "y = np.zeros_like(x)\n_ = np.exp(w * x, out=y)\ns += np.sum(y)",
    "y = x * w\nr = y.sort()\ns += np.sum(y * np.arange(4.0))",
    "y = x * 1.0\nr = np.multiply(y, w, out=y)\ns += np.sum(r * x)",
    "y = np.zeros_like(x)\nnp.tanh(x * w, y)\ns += np.sum(y * x)",
    "y = np.empty_like(x)\nr = np.clip(x * w, -0.5, 1.0, out=y)\ns += np.sum(r * y)",
    "a = list(xs)\nr = a.append(w)\nr = a.insert(0, w * w)\nr = a.reverse()\n"
    "s += sum(v * (i + 1) for i, v in enumerate(a))",
    "d = {'p': w}\nr = d.update({'p': w * s, 'q': 0.5})\ns += d['p'] * d['q']",
    "rng = np.random.default_rng(7)\nrng.normal(size=2)\nwarm = rng.uniform()\n"
    "s += w * float(np.sum(rng.normal(size=4) * x))",
    "np.random.seed(3)\ns += w * float(np.random.randn())",
    "a = list(xs)\nfor i in range(1, len(a)):\n    a[i] = a[i] + w * a[i - 1]\ns += sum(a)",
    "for k in range(3):\n    s = s * 0.5 + w * x[k]",
    "s = s * w + xs[1]",
    # a helper's default array, and a global one, written as scratch buffers (round 77a)
    "s += 0.25 * _squares_into(w * x) + 0.125 * _squares_into(np.tanh(x + s))",
    "s += np.sum(_doubled_from(x * w) * x)",
    "y = _written_into(np.sin(w * x), SCRATCH)\ns += np.sum(y * x)\n"
    "z = _written_into(np.tanh(x * s), SCRATCH)\ns += np.sum(z * y)",
)

#: The helpers the lines call: a default array and a global written in each call.
HELPERS = """
def _squares_into(v, buf=np.zeros(4)):
    buf[:] = v
    return np.sum(buf * buf)


def _doubled_from(v, buf=np.zeros(4)):
    buf[:] = v
    return buf * 2.0


SCRATCH = np.zeros(4)


def _written_into(v, out):
    out[:] = v
    return out
"""


def _program(lines: list[str]) -> str:
    body = "\n".join("    " + line for text in lines for line in text.split("\n"))
    return (f"import numpy as np\n{HELPERS}\n\ndef f(w, x, xs):\n    s = 0.0\n{body}\n"
            "    return s\n")


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.sampled_from(CHANGES), min_size=1, max_size=4))
def test_random_programs_of_calls_that_change_things(tmp_path, lines):
    """The gradient the four ways, and f's value: every change a line makes happens."""
    path = tmp_path / f"changes_{len(list(tmp_path.iterdir()))}.py"
    path.write_text(_program(lines))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x = np.array([0.5, -1.25, 2.0, 1.5])
    check_four_ways(module.f, 0.7, x, [0.3, -0.4, 0.9], wrt=(0, 1, 2))


def _leapfrog_step(state, dt):
    state[1] = state[1] - dt * state[0]  # <step-writes>
    state[0] = state[0] + dt * state[1]
    return state


def integrated_by_rebinding(x0, k):
    state = [x0, 0.0]
    for _ in range(3):
        state = _leapfrog_step(state, k)
    return state[0] ** 2 + state[1]


def one_path_changes_the_state(x0, k):
    state = [x0, 0.0]
    if k > 0:
        state = _leapfrog_step(state, k)
    else:
        e = sum(state)  # (this path's state: the old list, unchanged on it)
        state = [e, e]
    return state[0] + state[1]


def state_changed_each_iteration(x0, k):
    state = [x0, 0.0]
    e = 0.0
    for _ in range(3):
        e += sum(state)
        z = _leapfrog_step(state, k)
    return e + z[0]


def test_a_helper_changing_a_list_in_a_loop_is_followed_when_the_loop_rebinds_it():
    check_four_ways(integrated_by_rebinding, 0.7, 0.3, wrt=(0, 1))
    check_four_ways(one_path_changes_the_state, 0.7, 0.3, wrt=(0, 1))
    check_four_ways(one_path_changes_the_state, 0.7, -0.3, wrt=(0, 1))
    with pytest.raises(srcad.SrcadError, match="in every iteration") as caught:
        srcad.grad(state_changed_each_iteration, wrt=(0, 1))(0.7, 0.3)
    assert caught.value.lineno == marker_line(__file__, "step-writes")


def _kick(state, dt):
    state[0] += dt * state[1]  # <kick-writes>


def kicked_after_a_write_of_its_own(w):
    state = [1.0, 2.0]
    for _ in range(2):
        state[1] *= 0.5  # (the loop carries `state`: it writes it itself)
        _kick(state, w)
    return state[0]


def kicked_on_one_path(w):
    state = [1.0, 2.0]
    if w > 0:
        _kick(state, w)
    else:
        state[1] *= 1.1
    return state[0]  # <kicked-read>


def kicked_on_one_path_of_a_loop(w):
    state = [1.0, 2.0]
    for i in range(3):
        if i % 2 == 0:
            _kick(state, w)
        else:
            state[1] *= 1.1
    return state[0]


def test_a_helper_s_change_to_a_list_is_refused_where_it_is_not_followed():
    # (round 71b: where the loop or the other path also wrote the list, the helper's
    # change was dropped: value 1.0 and gradient 0.0, silently)
    for f in (kicked_after_a_write_of_its_own, kicked_on_one_path_of_a_loop):
        with pytest.raises(srcad.SrcadError, match="in every iteration") as caught:
            srcad.value_and_grad(f)(0.5)
        assert caught.value.lineno == marker_line(__file__, "kick-writes")
    with pytest.raises(srcad.SrcadError, match="that `_kick` changed in place") as caught:
        srcad.jvp(kicked_on_one_path, (0.5,), (1.0,))
    assert caught.value.lineno == marker_line(__file__, "kicked-read")


def _doubled(xs):
    for i in range(len(xs)):
        xs[i] = xs[i] * 2.0  # <doubled-writes>


def doubled_then_grown(a, b):
    xs = [a, b]
    _doubled(xs)
    xs.append(a)  # <grown-after>
    return sum(xs)


def doubled_then_written(a, b):
    xs = [a, b]
    _doubled(xs)
    xs[1] = b * 3.0  # <written-after>
    return xs[0] + xs[1]


def test_a_list_a_helper_changed_is_refused_where_it_is_changed_next():
    # (round 72a: the refusal fired where the list was read, not where it was changed:
    # `.append`, `+=`, `.pop()`, an item write dropped the helper's change, silently)
    for f, marker in ((doubled_then_grown, "grown-after"), (doubled_then_written, "written-after")):
        with pytest.raises(srcad.SrcadError, match="that `_doubled` changed in place") as caught:
            srcad.value_and_grad(f, wrt=(0, 1))(1.1, 0.3)
        assert caught.value.lineno == marker_line(__file__, marker)


# ---------------------------------------------------------------- has_aux: one run of f


def noisy_loss_with_aux(theta, rng):
    eps = rng.normal(size=3)
    print("drawn", len(eps))
    return np.sum(theta * eps), {"eps": eps}


def noisy_pair_with_aux(theta, rng):
    eps = rng.normal(size=3)
    pair = (np.sum(theta * eps), eps)
    return pair


@pytest.mark.parametrize("f", [noisy_loss_with_aux, noisy_pair_with_aux])
def test_has_aux_takes_aux_from_the_gradients_own_run_of_f(f, capsys):
    """aux, the value and the gradient come from one run of f: its draws (and prints)
    happen once, and the generator ends where f leaves it."""
    theta = np.array([0.1, -0.4, 0.5])
    grad, aux = srcad.grad(f, has_aux=True)(theta, np.random.default_rng(0))
    eps = aux["eps"] if isinstance(aux, dict) else aux
    np.testing.assert_array_equal(grad, eps)  # d/dtheta sum(theta * eps) = eps
    rng, reference = np.random.default_rng(0), np.random.default_rng(0)
    (value, aux), grad = srcad.value_and_grad(f, has_aux=True)(theta, rng)
    want_value, want_aux = f(theta, reference)
    assert value == want_value
    np.testing.assert_array_equal(aux["eps"] if isinstance(aux, dict) else aux,
                                  want_aux["eps"] if isinstance(want_aux, dict) else want_aux)
    assert rng.random() == reference.random()
    if f is noisy_loss_with_aux:
        assert capsys.readouterr().out.count("drawn 3") == 3  # (once per run: 2 + f)


def draws_then_sums(x, y, z, r):
    u = r.random()  # (drawn before the float version checks x * y * z)
    s = x * y * z
    return s * s + u


def test_a_draw_before_the_float_versions_check_is_not_drawn_again():
    rng, reference = random.Random(3), random.Random(3)
    srcad.grad(draws_then_sums, wrt=(0, 1, 2))(np.array(0.5), 0.25, 2.0, rng)
    draws_then_sums(np.array(0.5), 0.25, 2.0, reference)
    assert rng.random() == reference.random()


def _kicked(state, dt):
    state[1] = state[1] - dt * math.sin(state[0])  # <kicked>
    state[0] = state[0] + dt * state[1]
    return state


def start_kept_under_another_name(a, b):
    s = [a, b]
    first = s  # (the same list: it changes with s)
    for _ in range(3):
        s = _kicked(s, 0.3)
    return s[0] + first[0]


def start_held_by_a_list(a, b):
    s = [a, b]
    box = [s]
    for _ in range(3):
        s = _kicked(s, 0.3)
    return s[0] + box[0][0]


@pytest.mark.parametrize("f", [start_kept_under_another_name, start_held_by_a_list])
def test_a_list_a_helper_changes_in_a_loop_may_not_be_held_by_another_name(f):
    with pytest.raises(srcad.SrcadError, match="holds it too") as caught:
        srcad.grad(f, wrt=(0, 1))(0.5, 0.9)
    assert caught.value.lineno == marker_line(__file__, "kicked")


def pops_after_and(a, b, c):
    xs = [a, b, a + b]
    y = c > 0 and xs.pop()  # (pops only when c > 0)
    ok = a > 0.0 or xs.append(a * a) is None  # (appends only when a <= 0)
    return y + sum(xs) + ok


def pops_in_a_conditional_expression(a, b):
    xs = [a, b, a + b]
    y = a if a > 0 else xs.pop()  # (pops only when a <= 0)
    last = xs.pop() if xs else 0.0
    return y + sum(xs) + last


def test_a_change_in_place_python_may_skip_happens_on_its_own_path_only():
    for c in (1.0, -1.0):
        check_four_ways(pops_after_and, 0.5, 0.2, c, wrt=(0, 1))
        check_four_ways(pops_after_and, -0.5, 0.2, c, wrt=(0, 1))
    for a in (0.5, -0.5):
        check_four_ways(pops_in_a_conditional_expression, a, 0.2, wrt=(0, 1))


def appends_in_any(a, b):
    xs = [a, b]
    found = any(xs.append(y * a) or y < 0 for y in (3.0, -1.0, 2.0))  # <in-any>
    return sum(xs) + found


def pops_in_a_chained_comparison(a, b):
    xs = [a, b, 2.0]
    ok = 1.0 < a < xs.pop()  # <chained>
    return sum(xs) + ok


@pytest.mark.parametrize(
    "f, tag",
    [(appends_in_any, "in-any"), (pops_in_a_chained_comparison, "chained")],
)
def test_a_change_in_place_python_may_skip_is_refused_at_its_line(f, tag):
    with pytest.raises(srcad.SrcadError, match="Python may skip") as caught:
        srcad.grad(f, wrt=(0, 1))(*(0.5, 0.2, 1.0)[: f.__code__.co_argcount])
    assert caught.value.lineno == marker_line(__file__, tag)


def trajectory_as_aux(x0):
    traj = []
    x = x0
    for _ in range(3):
        x = math.sin(x)
        traj.append(x)
    return x * x, traj


@pytest.mark.parametrize("optimize", [True, False])
def test_an_aux_list_the_loop_appended_to_comes_back_whole(optimize):
    grad, traj = srcad.grad(trajectory_as_aux, has_aux=True, optimize=optimize)(0.5)
    assert traj == trajectory_as_aux(0.5)[1]
    x = traj[-1]
    want = 2 * x * math.cos(traj[1]) * math.cos(traj[0]) * math.cos(0.5)
    assert grad == pytest.approx(want, rel=1e-14)


def _kicked_item(state, dt):
    state[1] = state[1] - dt * math.sin(state[0])  # <item-write>
    return state


def steps_each_row(a, b):
    states = [[a, b], [b, a]]
    new = [_kicked_item(s, 0.1) for s in states]  # (each row of states changes too)
    return states[0][0] * 3.0 + new[1][1]


def test_a_helper_writing_into_the_rows_a_loop_runs_over_is_refused_at_the_write():
    """The loop's item is a row of ``states``: a write into it changes ``states`` too.
    (The loop variable took the item's name, and lost that it is an item: srcad then
    failed when the gradient ran, with a message about list arithmetic.)"""
    with pytest.raises(srcad.SrcadError, match="is an item of a list") as caught:
        srcad.grad(steps_each_row, wrt=(0, 1))(0.5, 0.2)
    assert caught.value.lineno == marker_line(__file__, "item-write")


def _placed(x):
    w = x * 1.0
    r = np.place(w, w < 0.0, 2.0 * x[0])  # <hidden-place>
    return np.sum(w * w) if r is None else 0.0


def _put_by_method(x):
    u = x * 2.0
    r = u.put([0, 2], x[1:3])  # <hidden-put>
    return np.sum(u) if r is None else 0.0


def _partitioned(x):
    u = x.copy()
    r = u.partition(2)  # <hidden-partition>
    return np.sum(u * np.arange(1.0, 5.0)) if r is None else 0.0


def _operator_iadd(x):
    u = x.copy()
    v = operator.iadd(u, x)  # <hidden-iadd>
    return np.sum(u * v)


def _dunder_setitem(x):
    u = x.copy()
    r = u.__setitem__(1, 3.0 * x[0])  # <hidden-setitem>
    return np.sum(u * u) if r is None else 0.0


def _unbound_sort(x):
    u = x * 1.5
    s = np.ndarray.sort(u)  # <hidden-sort>
    return np.sum(u * np.arange(1.0, 5.0)) if s is None else 0.0


@pytest.mark.parametrize("f, tag", [
    (_placed, "hidden-place"), (_put_by_method, "hidden-put"),
    (_partitioned, "hidden-partition"), (_operator_iadd, "hidden-iadd"),
    (_dunder_setitem, "hidden-setitem"), (_unbound_sort, "hidden-sort"),
])
def test_a_call_that_changes_its_argument_out_of_sight_is_refused(f, tag):
    """A call that writes into an argument, with no rule that writes it, is refused where
    it stands, also when its value is assigned (round 61d: `r = np.place(w, m, v)` lost the
    write: a wrong value, a zero gradient)."""
    with pytest.raises(srcad.SrcadError, match="changes its argument in place") as caught:
        srcad.grad(f)(np.array([0.3, -1.2, 2.5, 0.1]))
    assert caught.value.lineno == marker_line(__file__, tag)


# ---------------------------------------------------------------- np.put's modes
# Round 62a: ``r = np.put(a, idx, x, mode='wrap')`` lost its write (a zero gradient);
# only mode='raise' was read as the write. Now 'wrap' and 'clip' are; a mode srcad
# cannot see is refused where it stands.


def put_wrapped(x):
    a = np.zeros(4)
    r = np.put(a, [1, 5, 6], x, mode="wrap")  # (5 -> 1, 6 -> 2: x[1] overwrites x[0])
    return np.sum(a**2 * np.arange(1, 5)) + (r is None)


def put_clipped(x):
    a = np.ones(4)
    np.put(a, [-3, 1, 9], x * 2.0, mode="clip")  # (-3 -> 0, 9 -> 3)
    return np.sum(a**2 * np.arange(1, 5))


def put_with_a_mode_passed_in(x, mode):
    a = np.zeros(4)
    np.put(a, [1, 2], x, mode=mode)
    return np.sum(a)


def test_put_wrap_and_clip_follow_the_write():
    x = np.array([0.3, -0.7, 1.1])
    got = check_four_ways(put_wrapped, x)[0]
    np.testing.assert_allclose(got, [0.0, 2 * 2 * -0.7, 2 * 3 * 1.1], rtol=1e-15)
    got = check_four_ways(put_clipped, x)[0]
    np.testing.assert_allclose(got, [2 * 1 * 2 * 0.6, 2 * 2 * 2 * -1.4, 2 * 4 * 2 * 2.2],
                               rtol=1e-15)


def test_put_with_a_mode_srcad_cannot_see_is_refused_at_the_line():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(put_with_a_mode_passed_in)(np.array([0.3, 0.5]), "wrap")
    assert "np.put" in str(info.value) and "test_changes_in_place.py" in str(info.value)


def _apply_boundary(u):
    u[0] = 0.0
    u[-1] = u[-2]


def _scale_in_place(v, c):
    v *= c


def heat_rod(u0, k):
    u = u0.copy()
    for _ in range(3):
        u[1:-1] = u[1:-1] + k * (u[2:] - 2 * u[1:-1] + u[:-2])
        _apply_boundary(u)  # (a bare call: it writes into u)
    return np.sum(u ** 2)


def scaled_tail(a):
    u = a * 1.0
    _scale_in_place(u[1:], 2.0)  # (through a view)
    return np.sum(u ** 2)


@pytest.mark.parametrize("f, args", [
    (heat_rod, (np.array([1.0, 2.0, 3.0, 4.0]), 0.1)),
    (scaled_tail, (np.array([1.0, 2.0, 3.0]),)),
])
def test_a_bare_call_of_a_helper_that_writes_into_its_argument(f, args):
    """Rounds 63b and 64a: ``apply_boundary(u)``, a helper of the user's file that writes
    into its array argument and returns nothing, was refused ("the value of a bare call is
    not used"), though ``u = apply_boundary(u)`` with a return worked. srcad reads the
    helper's code, so the bare call is inlined and its writes followed."""
    check_four_ways(f, *args, wrt=0)
