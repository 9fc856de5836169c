"""Methods that change a list, an array or a dict in place, followed as Python runs them.

On a list the function made, ``sort``, ``reverse``, ``insert``, ``remove`` and ``clear``
give the name the new list value (``sorted(items)``, ...); on an array, ``a.sort(axis)``
and ``a.fill(v)`` are ``a[...] = ...``, which reaches every view of ``a``; on a dict the
function made, ``update`` and ``setdefault`` are the item writes they are. Each gradient
is checked four ways (``check_four_ways``: central differences at rtol 1e-6, optimized
against unoptimized, forward against reverse, value against ``f``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import check_four_ways, marker_line

import srcad


def median_of_three(a, b, c):
    v = [a, b, c]
    v.sort()
    return v[1]


def top_two(w, scores):
    vals = [w * s for s in scores]
    vals.sort(reverse=True)
    return vals[0] + 0.5 * vals[1]


def best_so_far(x, ys):
    best = []
    for y in ys:
        best.append(y * x)
        best.sort(reverse=True)
        if len(best) > 2:
            best.pop()
    return best[0] + 0.5 * best[1]


def pushed_to_the_front(x):
    xs = [1.0]
    for k in range(3):
        xs.insert(0, x * (k + 1))
    return xs[0] * xs[1] + xs[-1]


def newest_first(x):
    h = []
    for k in range(4):
        h.append(math.sin(x * k))
    h.reverse()
    return h[0] * 2.0 + h[1]


def without_one(x, ys):
    xs = list(ys)
    xs.remove(ys[1])
    return xs[0] * x + xs[1]


def trimmed_mean(ys):
    s = list(ys)
    s.sort()
    s = s[1:-1]
    return sum(s) / len(s)


def restarted(x):
    xs = [x, 2.0]
    xs.clear()
    xs.append(x * x)
    return xs[0] + len(xs)


LISTS = [
    (median_of_three, (0.3, 1.2, 0.7)),
    (top_two, (0.9, [0.3, 2.0, 1.0])),
    (best_so_far, (0.7, [1.0, 3.0, 2.0, 0.5])),
    (pushed_to_the_front, (0.6,)),
    (newest_first, (0.4,)),
    (without_one, (0.5, [1.0, 2.0, 3.0])),
    (trimmed_mean, ([3.0, 1.0, 2.5, 0.2, 4.0],)),
    (restarted, (0.5,)),
]


@pytest.mark.parametrize("f, args", LISTS, ids=[f.__name__ for f, _ in LISTS])
def test_list_methods_that_change_a_list_the_function_made(f, args):
    # (round 31: each was refused as "a bare call whose value is not used")
    check_four_ways(f, *args)


def test_the_median_is_the_middle_items_gradient():
    assert srcad.grad(median_of_three, wrt=(0, 1, 2))(0.3, 1.2, 0.7) == (0.0, 0.0, 1.0)


def sorts_a_list_another_name_holds(x):
    xs = [x * 2.0, 1.0]
    ys = xs
    xs.sort()  # <alias>
    return ys[0]


def test_sorting_a_list_another_name_holds_is_refused():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(sorts_a_list_another_name_holds)(0.8)
    assert info.value.lineno == marker_line(__file__, "alias")
    assert "hold the same list" in str(info.value)


def sorted_copy_weights(a):
    b = a * 2.0
    b.sort()
    return b[0] * 3.0 + b[-1]


def sorts_a_view(a):
    b = a * 1.0
    v = b[1:]
    v.sort()  # (the sort reaches b)
    return np.sum(b * np.arange(4.0))


def sorts_columns(A):
    B = A**2
    B.sort(axis=0)
    return np.sum(B[0] * 2.0 + B[1])


def fills_a_view(a):
    b = a * 2.0
    v = b[:2]
    v.fill(a[0])
    return np.sum(b * b)


def sorts_its_parameter(a):
    a.sort()  # <param>
    return a[0] * 2.0 + a[-1]


ARRAYS = [
    (sorted_copy_weights, (np.array([3.0, 1.0, 2.0]),)),
    (sorts_a_view, (np.array([3.0, 1.0, 2.0, 0.5]),)),
    (sorts_columns, (np.array([[3.0, 1.0], [0.5, 2.0]]),)),
    (fills_a_view, (np.array([3.0, 1.0, 2.0]),)),
    (sorts_its_parameter, (np.array([3.0, 1.0, 2.0]),)),
]


@pytest.mark.parametrize("f, args", ARRAYS, ids=[f.__name__ for f, _ in ARRAYS])
def test_array_methods_that_change_the_array_and_its_views(f, args):
    check_four_ways(f, *args)


def test_a_sort_through_a_view_reaches_the_base():
    # b = [3, 1, 2, 0.5]; sorting b[1:] makes b = [3, 0.5, 1, 2]: weights 0 1 2 3
    got = srcad.grad(sorts_a_view)(np.array([3.0, 1.0, 2.0, 0.5]))
    assert np.array_equal(got, [0.0, 2.0, 3.0, 1.0])


def test_sorting_the_callers_list_in_place_is_refused():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(sorts_its_parameter)([3.0, 1.0])
    assert info.value.lineno == marker_line(__file__, "param")
    assert "caller's list" in str(info.value)


def merged(x):
    p = {"a": x, "b": 2.0}
    p.update({"b": x * 3.0, "c": 1.0})
    return p["a"] * p["b"] + p["c"]


def merged_keywords(x):
    p = {"a": x}
    p.update(b=x * x)
    return p["a"] + p["b"]


def merged_overrides(w, overrides):
    cfg = {"scale": 2.0, "shift": 0.5}
    cfg.update(overrides)
    return np.sum((w * cfg["scale"] + cfg["shift"]) ** 2)


def totals_by_key(x, keys):
    totals = {}
    for i, k in enumerate(keys):
        totals.setdefault(k, 0.0)
        totals[k] += x * (i + 1)
    return totals["a"] * totals["b"]


def swapped_by_update(a, b):
    # (round 72a: each new value read the items written before it: Python evaluates the
    # display, and the keywords, before it updates)
    d = {"x": a, "y": b}
    d.update({"x": d["y"] * 2.0, "y": d["x"] + 1.0})
    d.update(x=d["y"] * d["x"], y=d["x"] - 1.0)
    d.update({"x": d["x"] * 2.0, "x": d["x"] * 5.0})  # noqa: F601 (the last one wins)
    return d["x"] * d["y"]


DICTS = [
    (merged, (0.7,)),
    (swapped_by_update, (1.1, 0.9)),
    (merged_keywords, (0.7,)),
    (merged_overrides, (np.array([1.0, -2.0]), {"scale": 3.0})),
    (totals_by_key, (0.6, ["a", "b", "a"])),
]


@pytest.mark.parametrize("f, args", DICTS, ids=[f.__name__ for f, _ in DICTS])
def test_dict_methods_that_change_a_dict_the_function_made(f, args):
    check_four_ways(f, *args, wrt=0)


def test_setdefault_keeps_the_first_value():
    # totals: a = x*1 + x*3 = 4x, b = 2x; d/dx (8 x^2) = 16 x
    assert srcad.grad(totals_by_key, wrt=0)(0.6, ["a", "b", "a"]) == pytest.approx(16 * 0.6)


def drops_the_first(x):
    xs = [x, x * x, 3.0]
    del xs[0]
    return xs[0] * xs[1]


def drops_in_a_loop(x):
    xs = [x * k for k in range(5)]
    for _ in range(2):
        del xs[0]  # (the loop carries the list it changes)
    return xs[0] * xs[-1]


@pytest.mark.parametrize("f", [drops_the_first, drops_in_a_loop])
def test_del_of_one_item_of_a_list_the_function_made(f):
    check_four_ways(f, 0.3)


def drops_a_key(x):
    d = {"a": 2.0 * x, "b": x}
    del d["a"]  # <del-key>
    return d["b"] * x


def test_del_of_a_dict_key_is_refused_with_the_comprehension_to_write():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(drops_a_key)(0.3)
    assert info.value.lineno == marker_line(__file__, "del-key")
    assert "if k != key}" in info.value.hint


def sorts_a_row(A):
    B = A * 1.0
    B[1].sort()  # (B[1][...] = np.sort(B[1]): the row of B)
    return np.sum(B * np.arange(6.0).reshape(2, 3))


def fills_part_of_a_dict_item(x):
    d = {"w": x * 2.0}
    d["w"][1:].fill(x[0])
    return np.sum(d["w"] ** 2)


DEFAULTS = {"scale": 2.0, "shift": 0.5}


def merges_into_a_copy_of_defaults(w, overrides):
    q = dict(DEFAULTS)
    q.update(overrides)
    return np.sum((w * q["scale"] + q["shift"]) ** 2)


def merges_into_a_copy_of_a_parameter(w, params):
    q = dict(params)
    q.update(shift=0.25)
    return np.sum((w * q["scale"] + q["shift"]) ** 2) + params["shift"]


@pytest.mark.parametrize("f, args", [
    (sorts_a_row, (np.array([[3.0, 1.0, 2.0], [0.5, 2.5, -1.0]]),)),
    (fills_part_of_a_dict_item, (np.array([3.0, 1.0, 2.0]),)),
    (merges_into_a_copy_of_defaults, (np.array([1.0, -2.0]), {"scale": 3.0})),
    (merges_into_a_copy_of_a_parameter, (np.array([1.0, -2.0]), {"scale": 3.0, "shift": 1.0})),
])
def test_methods_on_items_and_on_copies_of_dicts(f, args):
    # (each was refused as a bare call: round 28)
    check_four_ways(f, *args, wrt=0)


def _counts_by_a_varying_key(x):
    d = {}
    for k, v in zip(["a", "b", "a"], x):
        d[k] = d.setdefault(k, 0.0) + v * v
    return d["a"] * d["b"]


def test_setdefault_of_a_varying_key_in_an_expression():
    """(Round 89: a dict item read by a key that varies got "annotate the parameter with
    its class", though it is no parameter; now ``d.setdefault(k, 0.0)`` in an expression
    is what Python runs, before the statement.)"""
    check_four_ways(_counts_by_a_varying_key, np.array([0.5, -1.5, 2.0]))


# ---------------------------------------------------------------- dicts filled by keys


def grouped_sums_by_setdefault(x, labels):
    d = {}
    for k, v in zip(labels, x):
        d[k] = d.setdefault(k, 0.0) + v
    return sum(val ** 2 for val in d.values())


def grouped_products_by_setdefault(x, labels):
    d = {}
    for i in range(len(labels)):
        d[labels[i]] = d.setdefault(labels[i], 1.0) * x[i]
    return sum(np.log(val ** 2) for val in d.values())


def grouped_means_by_get(x, groups):
    sums, counts = {}, {}
    for g, v in zip(groups, x):
        sums[g] = sums.get(g, 0.0) + v
        counts[g] = counts.get(g, 0) + 1
    return sum((sums[g] / counts[g]) ** 2 for g in sums)


def ranked_groups(x, labels, extra):
    for k, v in zip(labels, x):
        extra[k] = v * v + extra.setdefault(k, 0.0)
    ranked = sorted(extra.items())
    return sum(i * val for i, (k, val) in enumerate(ranked))


def kept_only_when_asked(x, labels, keep):
    d = {}
    for k, v in zip(labels, x):
        d[k] = (d.setdefault(k, 0.0) if keep else d.get(k, 1.0) * 0.5) + v
    return sum(val * val for val in d.values())


def kept_when_both_ask(x, labels, keep):
    d = {}
    for k, v in zip(labels, x):
        d[k] = (keep and d.setdefault(k, 0.0)) + v  # <setdefault-and>
    return sum(val * val for val in d.values())


def test_dicts_filled_by_keys_that_vary_in_a_loop():
    x = np.array([0.3, -0.7, 1.1, 0.5])
    check_four_ways(grouped_sums_by_setdefault, x, [0, 1, 0, 2], wrt="x")
    check_four_ways(grouped_products_by_setdefault, x, ["p", "q", "q", "p"], wrt="x")
    check_four_ways(grouped_means_by_get, x, ["u", "v", "u", "u"], wrt="x")
    check_four_ways(ranked_groups, x, ["b", "a", "b", "c"], {"a": 0.5}, wrt="x")
    check_four_ways(kept_only_when_asked, x, ["b", "a", "b", "c"], True, wrt="x")
    check_four_ways(kept_only_when_asked, x, ["b", "a", "b", "c"], False, wrt="x")
    with pytest.raises(srcad.SrcadError, match="in a statement of its own") as info:
        srcad.grad(kept_when_both_ask, wrt="x")(x, ["b", "a", "b", "c"], 1.0)
    assert info.value.lineno == marker_line(__file__, "setdefault-and")
