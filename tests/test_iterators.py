"""Iterators of ``itertools`` and numpy's index iterators over the program's lists and
arrays (``pairwise``, ``islice``, ``chain``, ``chain.from_iterable``, ``accumulate``,
``product``, ``combinations``, ``permutations``, ``zip_longest``, ``np.ndenumerate``,
``np.ndindex``), in
loops, comprehensions and as values (``list(...)``, ``sum(...)``); and the refusals of
the variants srcad does not follow. Each gradient is checked four ways
(``conftest.check_four_ways``)."""

import itertools
import operator
from itertools import accumulate, chain, pairwise, product

import numpy as np
import pytest
from conftest import check_four_ways, marker_line

import srcad

X = np.array([0.3, -0.7, 1.1, 0.5, 0.9])
A = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]])


# ---------------------------------------------------------------- pairwise, islice


def path_length(x):
    points = [v * v for v in x]
    return sum((b - a) ** 2 for a, b in itertools.pairwise(points))


def pairs_of_an_array(x):
    s = 0.0
    for a, b in pairwise(x):
        s = s + np.sin(a) * b
    return s


def pairs_counted_and_zipped(x, w):
    s = 0.0
    for k, (a, b) in enumerate(pairwise(x)):
        s += (k + 1) * a * b
    return s + sum(wi * (b - a) ** 2 for (a, b), wi in zip(pairwise(x), w))


def pairs_listed(x):
    ps = list(itertools.pairwise(x[::-1]))
    return sum(a / (1.0 + b * b) for a, b in ps)


def pairs_until_a_drop(x):
    s = 0.0
    for a, b in pairwise(x):
        if b < a:
            break
        s += a * b
    return s


def middle_items(x):
    return sum(v * v for v in itertools.islice(x, 1, 4))


def every_other_item(x):
    s = 0.0
    for v in itertools.islice(x, 0, None, 2):
        s += np.sin(v)
    return s + sum(itertools.islice([v * 3 for v in x], 2))


def weighted_by_position(x):
    s = 0.0
    for i, v in itertools.islice(enumerate(x), 1, 4):
        s += i * v * v
    return s + sum(k * a * b for k, (a, b) in itertools.islice(enumerate(pairwise(x)), 2))


def test_pairwise():
    check_four_ways(path_length, X)
    check_four_ways(pairs_of_an_array, X)
    check_four_ways(pairs_counted_and_zipped, X, X[:4] + 2.0)
    check_four_ways(pairs_listed, X)
    check_four_ways(pairs_until_a_drop, np.array([0.3, 0.5, 0.2, 0.9]))


def test_islice():
    check_four_ways(middle_items, X)
    check_four_ways(every_other_item, X)
    check_four_ways(weighted_by_position, list(X))


def test_a_position_read_from_an_iterator_gets_no_gradient():
    """``islice(enumerate(x), ...)`` gives the position itself; multiplied by an item, it
    carried a derivative to srcad's table of positions, which has none (refused, naming
    srcad's helper ``iterator_positions``)."""
    want = [0.0, 2 * X[1] + X[2], 4 * X[2] + X[1], 6 * X[3], 0.0]  # (pair 1 only: k = 0, 1)
    np.testing.assert_allclose(srcad.grad(weighted_by_position)(list(X)), want, rtol=1e-12)


# ---------------------------------------------------------------- chain, accumulate


def joined(x):
    a = [x[0], x[1]]
    return sum(v ** 3 for v in itertools.chain(a, [x[2] * 2.0], x[3:]))


def joined_counted(x):
    s = 0.0
    for i, v in enumerate(chain(x[:2], [x[3]])):
        s += i * v * v
    return s


def flattened(A):
    rows = [[A[0, 0], A[0, 1]], [A[1, 2]]]
    return sum(v ** 3 for v in chain.from_iterable(rows)) + sum(
        v * v for v in itertools.chain.from_iterable(A)
    )


def running_totals(x):
    return sum(c ** 2 for c in itertools.accumulate(x))


def running_products(x):
    return sum(itertools.accumulate(x, operator.mul)) + sum(
        accumulate(x, operator.mul, initial=2.0)
    )


def smoothed(x):
    smooth = lambda a, b: 0.8 * a + 0.2 * b  # noqa: E731
    return sum(v * v for v in accumulate(x, smooth)) + sum(
        accumulate(x, lambda a, b: 0.5 * a + b)
    )


def running_max(x):
    return sum(itertools.accumulate(x, max)) + sum(accumulate(x, np.maximum))


def _blend(a, b):
    return 0.9 * a + 0.1 * b


def blended_and_listed(x):
    c = list(itertools.accumulate([x[0], x[1] ** 2, x[2]], _blend))
    return c[-1] * c[0] + c[1]


def test_chain():
    check_four_ways(joined, X)
    check_four_ways(joined_counted, X)
    check_four_ways(flattened, A)


def test_accumulate():
    check_four_ways(running_totals, X)
    check_four_ways(running_products, X)
    check_four_ways(smoothed, X)
    check_four_ways(running_max, X)
    check_four_ways(blended_and_listed, X)


# ---------------------------------------------------------------- product, combinations


def grid_weighted(A):
    s = 0.0
    for i, j in itertools.product(range(A.shape[0]), range(A.shape[1])):
        s += A[i, j] ** 2 * (i + 1)
    return s


def outer_pairs(x):
    xs = [x[0], x[1]]
    ys = [x[2], x[3], x[0]]
    return sum(a * b for a, b in product(xs, ys)) + sum(
        a * b * c for a, b, c in product(x[:2], repeat=3)
    )


def pairwise_distances(x):
    n = len(x)
    return sum((x[i] - x[j]) ** 2 for i, j in itertools.combinations(range(n), 2))


def pairs_of_items(x):
    return sum(a * b for a, b in itertools.combinations(x, 2)) + sum(
        a * a * b for a, b in itertools.permutations(x[:3], 2)
    ) + sum(a * b for a, b in itertools.combinations_with_replacement(x[:3], r=2))


def test_product_and_combinations():
    check_four_ways(grid_weighted, A)
    check_four_ways(outer_pairs, X)
    check_four_ways(pairwise_distances, X)
    check_four_ways(pairs_of_items, X)


# ---------------------------------------------------------------- numpy's index iterators


def weighted_by_index(A):
    s = 0.0
    for (i, j), v in np.ndenumerate(A):
        s += v * v * (i + 2 * j)
    return s


def read_by_index(A):
    s = 0.0
    for idx, v in np.ndenumerate(A):
        s += v * A[idx]
    for i, j in np.ndindex(A.shape):
        s += np.sin(A[i, j])
    return s


def test_ndenumerate_and_ndindex():
    check_four_ways(weighted_by_index, A)
    check_four_ways(read_by_index, A)


# ---------------------------------------------------------------- zip_longest


def padded_products(x):
    a = [x[0], x[1], x[2]]
    s = sum(u * v for u, v in itertools.zip_longest(a, [x[3]], fillvalue=1.0))
    pairs = list(itertools.zip_longest(x, x[:2] * 2.0, [x[4]], fillvalue=x[0]))
    return s + sum(p * q * r for p, q, r in pairs)


def test_zip_longest():
    check_four_ways(padded_products, X)


# ---------------------------------------------------------------- refused


def combinations_of_a_count(x, r):
    return sum(sum(c) for c in itertools.combinations(x, r))  # <r-unknown>


def starmapped(x):
    return sum(itertools.starmap(operator.mul, zip(x, x[1:])))  # <starmap>


def pairs_bound_to_a_name(x):
    pairs = itertools.pairwise(x)
    windows = itertools.islice(x, 1, None)
    return sum(a * b for a, b in pairs) + sum(v * v for v in windows)


def pairs_of_a_list_changed_later(x):
    xs = list(x)
    pairs = itertools.pairwise(xs)  # <changed-later>
    xs[0] = 5.0
    return sum(a * b for a, b in pairs)


def test_an_iterator_bound_to_a_name():
    check_four_ways(pairs_bound_to_a_name, X)
    with pytest.raises(srcad.SrcadError, match="which the function changes in place") as info:
        srcad.grad(pairs_of_a_list_changed_later)(X)
    assert info.value.lineno == marker_line(__file__, "changed-later")


def test_refused_variants_name_the_line():
    with pytest.raises(srcad.SrcadError, match="give `r` as a constant int") as info:
        srcad.grad(combinations_of_a_count)(X, 2)
    assert info.value.lineno == marker_line(__file__, "r-unknown")
    with pytest.raises(srcad.SrcadError, match="write a comprehension") as info:
        srcad.grad(starmapped)(X)
    assert info.value.lineno == marker_line(__file__, "starmap")


def pairs_read_twice(x):
    it = itertools.pairwise(x)
    first = sum(a * b for a, b in it)
    return first + sum(a + b for a, b in it)  # <read twice>


def pairs_resumed_after_a_break(x):
    it = itertools.pairwise(x)
    head = 0.0
    for a, b in it:
        head += a * b
        if head > 0.1:
            break
    return head + sum(a - b for a, b in it)  # <resumed>


def pairs_in_an_outer_loop(x):
    it = itertools.pairwise(x)
    total = 0.0
    for _ in range(2):
        for a, b in it:  # <outer loop>
            total += a * b
    return total


def pairs_of_a_list_written_meanwhile(x):
    ys = list(x)
    total = 0.0
    for i, (a, b) in enumerate(itertools.pairwise(ys)):
        ys[i + 1] = 0.5 * (a + b)  # <written meanwhile>
        total += a * b
    return total


def chain_of_a_list_grown_meanwhile(x):
    ys = list(x)
    total = 0.0
    for v in itertools.chain(ys, [1.0]):
        if len(ys) < 6:
            ys.append(v * v)  # <grown meanwhile>
        total += v
    return total


def product_of_a_list_written_meanwhile(x):
    ys = list(x)
    total = 0.0
    for a, b in itertools.product(ys, ys):
        ys[0] = a * b  # <product written>
        total += a - b
    return total


@pytest.mark.parametrize("f, tag", [
    (pairs_read_twice, "read twice"), (pairs_resumed_after_a_break, "resumed"),
    (pairs_in_an_outer_loop, "outer loop"),
    (pairs_of_a_list_written_meanwhile, "written meanwhile"),
    (chain_of_a_list_grown_meanwhile, "grown meanwhile"),
    (product_of_a_list_written_meanwhile, "product written"),
])
def test_an_iterator_used_up_or_over_a_changing_list_is_refused_at_its_line(f, tag):
    """Round 91 (silently wrong): srcad lists an iterator's items once, where Python's is
    used up by its first reader, goes on after a ``break``, and sees the changes of the
    list it runs over (or, for ``product``, a copy made first)."""
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(f)(X)
    assert info.value.lineno == marker_line(__file__, tag), info.value


def paired_with_a_constant(x):
    return sum(a * b for a, b in zip(x, itertools.repeat(2.5)))  # <endless repeat>


def paired_with_a_count(x):
    return sum(a * k for a, k in zip(x, itertools.count(1)))  # <endless count>


def paired_with_a_few(x):
    return sum(a * b for a, b in zip(x, itertools.repeat(2.5, 2)))


@pytest.mark.parametrize("f, tag", [
    (paired_with_a_constant, "endless repeat"), (paired_with_a_count, "endless count"),
])
def test_an_endless_iterator_is_refused_where_it_is_read(f, tag):
    """Round 91: ``zip(x, repeat(c))`` ran out of memory (srcad lists what zip runs
    over); refused at the line, where ``repeat(c, n)`` works."""
    with pytest.raises(srcad.SrcadError, match="goes on without end") as info:
        srcad.grad(f)(list(X))
    assert info.value.lineno == marker_line(__file__, tag)
    check_four_ways(paired_with_a_few, list(X))


def weighted_by_row(A):
    total = 0.0
    for idx, v in np.ndenumerate(A.tolist()):  # (a list of lists: numpy's array of it)
        total += v * (idx[0] + 1)
    return total


def test_ndenumerate_of_a_list_of_lists():
    """Round 91: its items were read from the list by tuples of indices (TypeError)."""
    (d,) = check_four_ways(weighted_by_row, np.array([[0.5, 1.5], [-0.7, 0.9]]))
    np.testing.assert_allclose(d, [[1.0, 1.0], [2.0, 2.0]])
