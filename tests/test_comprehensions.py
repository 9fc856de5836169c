"""Sums over comprehensions: ``sum(e for x in xs if c)`` and ``sum([e for x in xs])``.

srcad's desugar stage turns each into a loop before its statement (``total = 0``, then
``for x in xs: if c: total = total + e``), so everything loops support works inside:
several ``for`` clauses, conditions, ``zip``/``enumerate``/``range``, arrays, nested sums,
a ``start`` value. Gradients are checked against central differences
(``assert_grad_close``: rtol 1e-6, atol 1e-8, see conftest) or, for list parameters, an
exact closed form. What stays refused is refused at decoration time, at the line.
"""

import functools
import math
import operator
import os
import sys

import numpy as np
import pytest

import srcad

sys.path.insert(0, os.path.dirname(__file__))
from conftest import assert_grad_close, check_four_ways, marker_line  # noqa: E402

THIS_FILE = os.path.basename(__file__)


def squares(x, y):
    return sum(v * v for v in (x, y, x * y))


def squares_list(x, y):
    return sum([v * v for v in (x, y, x * y)])


def dot(ws, xs):
    return sum(w * x for w, x in zip(ws, xs))


def shadowing(x, ws):
    return x * sum(x * x for x in ws) + x  # the comprehension's x is its own variable


def filtered(x, y):
    return sum(v * v for v in (x, y, x * y) if v > 0.1 if v < 5.0)


def two_clauses(x, y):
    return sum(a * b for a in (x, y) for b in (x, 2.0 * y))


def nested_sums(x, y):
    return sum(sum(a * b for b in (x, y)) for a in (x, math.sin(y)))


def with_start(x):
    return sum((x * k for k in range(3)), 10.0)


def indexed(x, n):
    return sum(math.sin(x * i) for i in range(n))


def enumerated(x, y):
    return sum(i * v for i, v in enumerate((x, y, x + y)))


def in_a_test(x):
    if sum(t for t in (x, x * x)) > 1.0:
        return x * 3.0
    return x


def in_a_loop(x, n):
    total = 0.0
    for i in range(n):
        total = total + sum(x * k + i for k in range(2))
    return total


def summed_helper(ws):
    return sum(w * w for w in ws)


def calls_helper(a, b):
    return summed_helper((a, b)) * a


def array_terms(W, xs):
    return np.sum(sum(np.tanh(W @ x) for x in xs))


@pytest.mark.parametrize(
    "f, args",
    [
        (squares, (0.7, -1.3)),
        (squares_list, (0.7, -1.3)),
        (filtered, (0.5, -0.3)),
        (filtered, (1.5, 0.8)),
        (two_clauses, (0.5, 1.5)),
        (nested_sums, (0.5, 1.5)),
        (with_start, (1.3,)),
        (enumerated, (0.4, -0.9)),
        (in_a_test, (1.2,)),
        (in_a_test, (0.3,)),
        (calls_helper, (0.3, 0.9)),
    ],
)
def test_summed_comprehension_gradients(f, args):
    assert_grad_close(f, *args)


def test_values_match_the_function():
    for f, args in [(squares, (0.7, -1.3)), (nested_sums, (0.5, 1.5)), (with_start, (1.3,))]:
        value, _ = srcad.value_and_grad(f)(*args)
        assert value == pytest.approx(f(*args), rel=1e-15)


def test_loop_bound_and_loop_inside_a_loop():
    assert_grad_close(indexed, 0.4, 5, wrt=("x",))
    assert_grad_close(in_a_loop, 0.4, 3, wrt=("x",))


def test_list_parameters_get_list_gradients():
    ws, xs = [1.0, 2.0], [0.5, -1.5]
    dws, dxs = srcad.grad(dot, wrt=("ws", "xs"))(ws, xs)
    assert list(dws) == xs and list(dxs) == ws


def test_comprehension_variable_does_not_clobber_the_parameter():
    # d/dx [x * sum(w*w for w in ws) + x] = sum(w*w) + 1, whatever the loop variable is called
    assert srcad.grad(shadowing, wrt="x")(0.7, [1.0, 2.0]) == pytest.approx(6.0, rel=1e-15)
    assert shadowing(0.7, [1.0, 2.0]) == pytest.approx(0.7 * 5.0 + 0.7)


def test_arrays():
    rng = np.random.default_rng(3)
    W, xs = rng.normal(size=(2, 3)), rng.normal(size=(4, 3))
    dW = srcad.grad(array_terms, wrt="W")(W, xs)
    eps, want = 1e-6, np.zeros_like(W)
    for k in range(W.size):
        plus, minus = W.copy(), W.copy()
        plus.flat[k] += eps
        minus.flat[k] -= eps
        want.flat[k] = (array_terms(plus, xs) - array_terms(minus, xs)) / (2 * eps)
    np.testing.assert_allclose(dW, want, rtol=1e-6, atol=1e-8)


def test_the_listing_shows_the_loop():
    source = srcad.value_and_grad(squares).backward_source
    assert "total = 0" in source and "total = total + " in source
    # (the gradient alone needs no running total: its forward loop is dead code)
    gradient = srcad.grad(squares).backward_source.split("# (squares_grad_arrays")[0]
    assert "total" not in gradient and "for k in reversed(range(t3)):" in gradient


# ---------------------------------------------------------------- refused, at the line


def list_not_summed(x):
    values = [v * 2.0 for v in (x, x)]
    return values[0] + values[1]


def test_a_list_comprehension_builds_a_list():
    assert srcad.grad(list_not_summed)(0.3) == pytest.approx(4.0, rel=1e-14)


def sum_in_while_test(x):
    while sum(t for t in (x, x)) < 10.0:  # <while-sum>
        x = x * 2.0
    return x


def shadowed_sum(x):
    sum = math.fsum
    return sum(v for v in (x, x))  # <shadowed>


@pytest.mark.parametrize(
    "f, tag, words",
    [
        (sum_in_while_test, "while-sum", "`while` condition"),
        (shadowed_sum, "shadowed", "not the builtin"),
    ],
)
def test_refused_at_the_line(f, tag, words):
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(f)
    error = info.value
    assert error.filename.endswith(THIS_FILE), str(error)
    assert error.lineno == marker_line(__file__, tag), str(error)
    assert words in str(error), str(error)


def reuses_the_name(a):
    # the first iterable is read outside the comprehension: (a, 2a) of the parameter
    return sum([a * a for a in (a, 2.0 * a)]) + a


def test_comprehension_variable_named_like_what_it_iterates():
    assert reuses_the_name(0.7) == pytest.approx(0.49 + 1.96 + 0.7)
    assert srcad.grad(reuses_the_name)(0.7) == pytest.approx(2 * 0.7 + 8 * 0.7 + 1.0, rel=1e-14)


def _mapped_energy(x, y):
    squares = list(map(lambda t: t * t, [x, y, x * y]))
    sines = sum(map(math.sin, [x, 2.0 * y]))
    pairs = sum(map(lambda a, b: a * b, [x, y], [y, 3.0]))
    return sum(squares) + sines + pairs


def _reduced_product(x, y):
    product = functools.reduce(lambda a, b: a * b, [x, x + y, 2.0 * y])
    total = functools.reduce(operator.add, [x, y, x * y], 1.0)
    return product + total


def _keyed_extremes(x, y):
    candidates = [(x, 2.0), (y * 2.0, 1.0), (x * y, 3.0)]
    best = min(candidates, key=lambda c: c[1])  # (the key is a constant: a fixed choice)
    largest = max([x, -y, 0.5 * x], key=abs)
    return best[0] * largest + round(x, 2) * 0.0


@pytest.mark.parametrize("f", [_mapped_energy, _reduced_product, _keyed_extremes])
def test_map_reduce_and_keyed_extremes(f):
    """``map`` (of a lambda, a function, several lists), ``functools.reduce`` (with and
    without a start) and ``max``/``min`` with ``key=`` become loops srcad differentiates."""
    check_four_ways(f, 0.7, -1.3)


def test_a_nested_function_passed_as_a_value_is_named_as_such():
    def applied_along(x):
        weight = lambda v, c: v * c  # noqa: E731
        return np.sum(np.apply_along_axis(weight, 0, np.array([x, 2.0]), 2.0))  # <passed-def>

    with pytest.raises(srcad.SrcadError, match="`weight` is a function defined in the"):
        srcad.grad(applied_along)(0.5)


def _dict_forms(x, params):
    names = ["a", "b"]
    made = dict(zip(names, [x, x * x]))
    copied = dict(params)
    copied["w"] = copied["w"] * x  # (the copy changes; params does not)
    scaled = {k: v * x for k, v in params.items() if k != "skip"}
    spelled = dict(u=x, v=2.0)
    return made["a"] * made["b"] + copied["w"] * params["w"] + scaled["w"] + spelled["u"]


def test_dicts_made_by_dict_and_comprehensions():
    """``dict(zip(keys, values))``, ``dict(d)`` (a copy), ``dict(a=x)`` and a dict
    comprehension with a condition."""
    check_four_ways(_dict_forms, 0.7, {"w": 1.5, "skip": 3.0}, wrt=0)
    assert srcad.check_grad(_dict_forms, 0.7, {"w": 1.5, "skip": 3.0}) < 1e-6


def _best_of_dict(x):
    scores = {"a": x, "b": 2.0 * x, "c": -x}
    key = max(scores, key=lambda k: scores[k])
    return scores[key] * x + min(scores.values(), key=abs)


def test_keyed_extremes_over_a_dict_run_over_its_keys():
    check_four_ways(_best_of_dict, 0.7)


def _generator_read_twice(x):
    squares = (t * t for t in [x, 2.0 * x])  # <generator-twice>
    return sum(squares) + sum(squares)


def test_a_generator_read_twice_is_refused_at_its_line():
    """Python's second reading finds it used up (0); srcad reads it as a list, so it
    refuses rather than give another value."""
    with pytest.raises(srcad.SrcadError, match="read more than once") as caught:
        srcad.grad(_generator_read_twice)(0.5)
    assert caught.value.lineno == marker_line(__file__, "generator-twice")


def _trimmed_mean(xs, a):
    vals = sorted([a * v for v in xs])
    inner = vals[1:-1]
    return sum(inner) / len(inner) + sorted(xs, reverse=True)[0] * a


def test_sorted_numbers_are_a_permutation():
    """``sorted(numbers)`` (and ``reverse=True``): each item's gradient is the gradient
    of the place it was sorted to (a trimmed mean, the largest value)."""
    dxs, da = check_four_ways(_trimmed_mean, [0.3, 1.2, -0.7, 2.5, 0.1], 1.3)
    assert dxs == pytest.approx([1.3 / 3, 1.3 / 3, 0.0, 1.3, 1.3 / 3], rel=1e-12)
    assert da == pytest.approx((0.1 + 0.3 + 1.2) / 3 + 2.5, rel=1e-12)

    def ranked(xs, a):
        total = 0.0
        for i, v in enumerate(sorted(xs)):
            total += (i + 1) * v * a
        return total

    assert srcad.grad(ranked)([0.3, 1.2, -0.7], 1.3) == pytest.approx([2.6, 3.9, 1.3])


def _dict_views_consumed(w):
    d = {"x": w[0] ** 2, "y": w[1] ** 3}
    return sum(d.values()) + max(d.values()) + len(list(d.keys()))


def test_dict_views_consumed_by_builtins():
    check_four_ways(_dict_views_consumed, np.array([1.0, 2.0]))


def sorted_by_a_key(pairs):
    ranked = sorted(pairs, key=lambda p: p[0])
    return ranked[0][1] * ranked[1][0]


def test_sorted_with_a_key_and_a_lambda():
    """``sorted(..., key=lambda ...)``: the lambda's body is each item's key (it was
    refused; tests/test_lists.py checks more keys)."""
    (d_first, d_second) = srcad.grad(sorted_by_a_key)([(0.3, 1.0), (0.1, 2.0)])
    assert d_first == (2.0, 0.0) and d_second == (0.0, 0.3)


# ---- a generator runs where it is read (its list, and the variables it reads, as they
# are there): each of these changes something between making the generator and reading it


def _late_bound_variable(x):
    a = 2.0
    gen = (v * a for v in [x, x * x])
    a = x  # (the generator reads `a` when it runs: this `a`)
    return sum(gen)


def _item_written_after(x):
    xs = [x, 2.0 * x]
    gen = (v * v for v in xs)
    xs[0] = 3.0 * x  # (the same list: the generator sees the new item)
    return sum(gen)


def _appended_after(x):
    xs = [x, 2.0 * x]
    squares = map(lambda v: v * v, xs)
    xs.append(5.0 * x)
    return sum(squares)


def _zipped_after(x):
    xs = [x, 2.0 * x]
    gen = (a * b for a, b in zip(xs, [1.0, 2.0]))
    xs[0] = x * x * x
    return max(gen)


def _rebound_after(x):
    xs = [x, 2.0 * x]
    gen = (v * v for v in xs)
    xs = [7.0 * x]  # (another list: the generator keeps the first)
    return sum(gen) + xs[0]


def _chained_and_in_a_loop(x):
    total = 0.0
    for i in range(3):
        xs = [x * i, x, 1.5]
        first = (v * x for v in xs)
        second = (w + i for w in first)
        xs[-1] = x * x
        total = total + sum(second)
    return total


def _array_row_written_after(x):
    a = np.array([1.0, 2.0, 3.0]) * x
    gen = (v * v for v in a)
    a[0] = x * x
    return sum(gen)


def _read_by_a_loop(x):
    d = {"a": x, "b": 2.0 * x}
    gen = (k * v for k, v in enumerate(d.values()))
    d["b"] = x * x * x
    s = 0.0
    for t in gen:
        s = s + t
    return s


def _repeated_in_place(x):
    xs = [x, 2.0 * x]
    gen = (v * v for v in xs)
    xs *= 2  # (the same list, twice as long)
    xs += [x * 0.5]
    return sum(gen)


@pytest.mark.parametrize("f", [
    _late_bound_variable, _item_written_after, _appended_after, _zipped_after,
    _rebound_after, _chained_and_in_a_loop, _array_row_written_after, _read_by_a_loop,
    _repeated_in_place,
])
def test_a_generator_runs_where_it_is_read(f):
    """Python runs a generator where it is read: srcad did where it was made, and the
    gradient missed what changed in between (silently wrong)."""
    check_four_ways(f, 1.3)


def test_a_generator_read_after_its_list_changed_has_the_exact_gradient():
    """sum(v * v for v in [3x, 2x]) = 13 x^2 and, appended, 38 x^2 (the eager reading
    gave 5 x^2 for both)."""
    assert srcad.grad(_item_written_after)(1.3) == pytest.approx(26.0 * 1.3, rel=1e-12)
    assert srcad.grad(_appended_after)(1.3) == pytest.approx(60.0 * 1.3, rel=1e-12)


def _read_by_a_function_called_twice(x):
    gen = (v * v for v in [x, 2.0 * x])

    def total():
        return sum(gen)

    return total() + total()  # (Python: the second call finds it used up)


def _bound_on_two_paths(x, c):
    xs = [x, 2.0 * x]
    if c:
        gen = (v * v for v in xs)  # <gen-two-paths>
    else:
        gen = (v for v in xs)
    xs[0] = 3.0 * x
    return sum(gen)


def _kept_in_a_tuple(x):
    xs = [x, 2.0 * x]
    gen, n = (v * v for v in xs), 2  # <gen-in-tuple>
    xs[0] = 3.0 * x
    return sum(gen) / n


@pytest.mark.parametrize("f, args, words", [
    (_read_by_a_function_called_twice, (1.3,), "read more than once"),
    (_bound_on_two_paths, (1.3, True), "bound again elsewhere"),
    (_kept_in_a_tuple, (1.3,), "kept in a tuple"),
])
def test_a_generator_srcad_cannot_run_where_it_is_read_is_refused(f, args, words):
    """Read by a function (each call reads it again), bound on two paths, kept in a
    tuple: srcad ran such generators where they were made (silently wrong)."""
    with pytest.raises(srcad.SrcadError, match=words):
        srcad.grad(f)(*args)


def test_the_refusal_points_at_the_generator():
    for f, tag in ((_bound_on_two_paths, "gen-two-paths"), (_kept_in_a_tuple, "gen-in-tuple")):
        with pytest.raises(srcad.SrcadError) as caught:
            srcad.grad(f)(1.3, True) if f is _bound_on_two_paths else srcad.grad(f)(1.3)
        assert caught.value.lineno == marker_line(__file__, tag)


def _one_name_for_two_generators(x):
    xs = [x, 2.0 * x]
    g = (v * v for v in xs)
    a = sum(g)
    g = (v + 1.0 for v in xs)  # <second-generator>
    return a + sum(g)


def test_one_name_for_two_generators_is_refused_as_bound_twice():
    """Each generator is read once: the refusal says the name is bound twice (it said
    "read more than once", which was not so)."""
    with pytest.raises(srcad.SrcadError, match="bound again elsewhere"):
        srcad.grad(_one_name_for_two_generators)(1.3)


# ---- a generator a helper returns: srcad inlines the helper and runs the generator at
# the call; Python runs it where it is read


def _weighted_terms(xs, c):
    return (v * c for v in xs)


def _helper_generator_read_later(x):
    xs = [x, 2.0 * x]
    terms = _weighted_terms(xs, x)  # <helper-generator>
    xs[1] = x * x * x  # (Python's generator sees the new item: x^2 + x^4)
    return sum(terms)


def _nested_helper_generator_read_twice(x):
    def scaled(xs):
        return (v * x for v in xs)

    terms = scaled([x, 2.0 * x])
    first = sum(terms)
    return first + sum(terms)  # (Python: used up, 0)


def _mapping_helper(xs):
    return map(math.sin, xs)


def _mapped_helper_read_after_an_append(x):
    xs = [x]
    sines = _mapping_helper(xs)
    xs.append(2.0 * x)
    return sum(sines)


@pytest.mark.parametrize("f", [
    _helper_generator_read_later, _nested_helper_generator_read_twice,
    _mapped_helper_read_after_an_append,
])
def test_a_generator_a_helper_returns_is_refused_unless_read_at_once(f):
    """srcad gave x^2 + 2x^2 for the first (Python: x^2 + x^4), 2 sums for the second
    (Python: the second is 0), one item for the third: silently wrong."""
    with pytest.raises(srcad.SrcadError, match="returns a generator") as caught:
        srcad.grad(f)(1.3)
    if f is _helper_generator_read_later:
        assert caught.value.lineno == marker_line(__file__, "helper-generator")


def _helper_generator_read_at_once(x):
    xs = [x, 2.0 * x]
    terms = _weighted_terms(xs, x)
    total = sum(terms)
    return total + sum(_weighted_terms(xs, 1.0))


def test_a_generator_a_helper_returns_read_at_once_is_differentiated():
    """Read by the next statement, or where the helper is called: d/dx (3x^2 + 3x) = 6x + 3."""
    assert srcad.grad(_helper_generator_read_at_once)(1.3) == pytest.approx(6.0 * 1.3 + 3.0)
    check_four_ways(_helper_generator_read_at_once, 1.3)


# ---- a comprehension in a part Python may skip (`a if c else b`, `and`, `or`): the
# parts that run, as if statements (they were refused)


def _mean_or_default(x, xs):
    n = len(xs)
    return x * 2.0 if n == 0 else sum(v * x for v in xs) / n  # (n == 0: no division)


def _guarded(x, xs):
    total = 0.0
    for k in range(3):
        if k > 0 and all(v * x > 0.3 for v in xs) or k == 2 and any(v > 2 for v in [x * k]):
            total += x ** k
        elif k == 1 and sum(v for v in xs) > 0:
            total -= x
    return total


def _nested_parts(x, xs):
    return (1.0 + ((max(v * x for v in xs) if xs else 0.0) or sum([x, x]))) * x


@pytest.mark.parametrize("f, args", [
    (_mean_or_default, (0.7, [])), (_mean_or_default, (0.7, [1.0, 2.0])),
    (_guarded, (0.7, [1.0, 2.0])), (_guarded, (0.2, [1.0, 2.0])),
    (_nested_parts, (0.7, [1.0, 2.0])), (_nested_parts, (0.7, [])),
])
def test_a_comprehension_in_a_part_that_may_not_run(f, args):
    check_four_ways(f, *args, wrt=0)


# ---- a generator read by a statement that first changes what it runs over (round 57b):
# srcad runs a generator at the start of the statement that reads it


def _popped_before_the_read(xs, a):
    stack = list(xs)
    terms = _weighted_terms(stack, a)
    return stack.pop() + sum(terms)  # <popped-first>


def _rescaled(u, terms):
    u *= 2.0
    return sum(terms)


def _changed_by_the_consumer(x):
    u = x * 1.0
    sines = (math.sin(v) for v in u)
    return _rescaled(u, sines)


def _rebound_by_the_loop_over_it(a):
    xs = [a, 2.0 * a]
    s = 1.0
    scaled = (v * s for v in xs)
    total = 0.0
    for t in scaled:
        total += t
        s = 3.0  # (the next item reads it)
    return total


@pytest.mark.parametrize("f, args", [
    (_popped_before_the_read, ([0.5, 1.5, -0.7], 1.3)),
    (_changed_by_the_consumer, (np.array([0.3, 0.6]),)),
    (_rebound_by_the_loop_over_it, (0.7,)),
])
def test_a_change_where_the_generator_is_read_is_refused(f, args):
    """Each was silently wrong (the generator ran before the change)."""
    with pytest.raises(srcad.SrcadError, match="changes what the generator") as caught:
        srcad.grad(f, wrt=len(args) - 1)(*args)
    if f is _popped_before_the_read:
        assert caught.value.lineno == marker_line(__file__, "popped-first")


def _total_after_a_while(y, h):
    k, s = 0, 0.0
    while k < 3:
        s = s + y * k
        k += 1
    else:
        s += sum([t * t for t in (y, y, h)])
    return s


def _total_after_a_for(y, h):
    s = 0.0
    for k in range(3):
        s = s + h * k
    else:
        s += sum([t * h for t in (y, h)])
    return s


@pytest.mark.parametrize("f", [_total_after_a_while, _total_after_a_for])
def test_a_comprehension_in_a_loops_else_block(f):
    """A loop's ``else:`` block is rewritten as the rest of the code is (a comprehension
    there was refused as 'not supported in a differentiated expression')."""
    check_four_ways(f, 0.3, 0.4)


def doubled_then_changed(xs):
    xs = [x * 2 for x in xs]  # (a new list, bound to the parameter's name)
    xs[0] = xs[0] ** 2
    xs.append(xs[1] * 3)
    return sum(xs)


def test_a_comprehension_bound_to_the_name_it_reads_can_be_changed():
    """Round 64b: ``xs = [x * 2 for x in xs]; xs[0] = ...`` was refused as "`xs` and
    `items` hold the same list": `items`, srcad's name for the comprehension's list, is
    read once, where it is made, and holds nothing afterwards."""
    value, gradient = srcad.value_and_grad(doubled_then_changed)([1.5, 2.0])
    assert value == doubled_then_changed([1.5, 2.0]) == 25.0
    assert gradient == pytest.approx([12.0, 8.0], rel=1e-14)
    check_four_ways(doubled_then_changed, [1.5, 2.0])


def _positive(v):
    return v > 0.0


def kept_by_filter(xs, c):
    kept = list(filter(lambda v: abs(v) > c, xs))
    return sum(filter(_positive, xs)) + sum(kept) * c + len(list(filter(None, [0.0, c])))


def test_filter_is_a_generator_of_the_items_kept():
    """``filter(f, xs)`` (and ``filter(None, xs)``; round 65b: refused as a loop over
    something srcad does not run over)."""
    got = check_four_ways(kept_by_filter, [0.5, -1.5, 2.0], 0.7)
    assert got == (pytest.approx([1.0, 0.7, 1.7]), 0.5)


def filter_read_twice(xs):
    kept = filter(_positive, xs)
    return sum(kept) + sum(kept)


def test_a_filter_read_twice_is_refused_as_a_generator_is():
    """Round 67: a named filter object read twice was read as a new list each time
    (Python's second read finds it exhausted)."""
    assert filter_read_twice([0.5, -1.0, 2.0]) == 2.5
    with pytest.raises(srcad.SrcadError, match="read more than once"):
        srcad.grad(filter_read_twice)([0.5, -1.0, 2.0])
