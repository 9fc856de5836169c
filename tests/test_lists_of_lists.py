"""Writes into the rows of a list of lists (``R[i][j] = v``): DP tables and matrices
kept as lists, where only the outer list holds its rows (srcad.lower.rows). Each
gradient is checked four ways (conftest.check_four_ways); writes that another holder
of the row would see are refused at the user's line."""

import math

import numpy as np
import pytest
from conftest import check_four_ways

import srcad


def soft_dtw(x, y, gamma):
    n, m = len(x), len(y)
    R = [[1e10] * (m + 1) for _ in range(n + 1)]
    R[0][0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost = (x[i - 1] - y[j - 1]) ** 2
            a, b, c = R[i - 1][j - 1], R[i - 1][j], R[i][j - 1]
            low = min(a, b, c)
            s = math.exp(-(a - low) / gamma) + math.exp(-(b - low) / gamma)
            s += math.exp(-(c - low) / gamma)
            R[i][j] = cost + low - gamma * math.log(s)
    return R[n][m]


def gauss_solve_sum(M, b):
    """Gaussian elimination on the rows of a list of lists, then back substitution."""
    n = len(b)
    A = [list(M[i]) + [b[i]] for i in range(n)]
    for k in range(n):
        for i in range(k + 1, n):
            factor = A[i][k] / A[k][k]
            for j in range(k, n + 1):
                A[i][j] -= factor * A[k][j]
    x = [0.0] * n
    for i in range(n - 1, -1, -1):
        s = A[i][n]
        for j in range(i + 1, n):
            s -= A[i][j] * x[j]
        x[i] = s / A[i][i]
    return sum(v * v for v in x)


def binomial_tree_call(spot, vol, rate, steps=6):
    """A European call on a recombining tree kept as rows of a list."""
    dt = 1.0 / steps
    up = math.exp(vol * math.sqrt(dt))
    down = 1.0 / up
    p = (math.exp(rate * dt) - down) / (up - down)
    values = [[0.0] * (i + 1) for i in range(steps + 1)]
    for j in range(steps + 1):
        values[steps][j] = max(spot * up ** j * down ** (steps - j) - 1.0, 0.0)
    for i in range(steps - 1, -1, -1):
        for j in range(i + 1):
            values[i][j] = math.exp(-rate * dt) * (
                p * values[i + 1][j + 1] + (1 - p) * values[i + 1][j]
            )
    return values[0][0]


def forward_algorithm(log_start, log_trans, log_emit):
    """An HMM's log likelihood, alpha[t][s] as a table of rows."""
    T, S = log_emit.shape
    alpha = [[0.0] * S for _ in range(T)]
    for s in range(S):
        alpha[0][s] = log_start[s] + log_emit[0, s]
    for t in range(1, T):
        for s in range(S):
            terms = [alpha[t - 1][r] + log_trans[r, s] for r in range(S)]
            top = max(terms)
            alpha[t][s] = top + math.log(sum(math.exp(v - top) for v in terms))
            alpha[t][s] += log_emit[t, s]
    top = max(alpha[T - 1])
    return top + math.log(sum(math.exp(v - top) for v in alpha[T - 1]))


def pairwise_table(x):
    """A table filled row by row, then read by a loop over its rows."""
    n = len(x)
    D = [[0.0 for _ in range(n)] for _ in range(n)]
    for i in range(n):
        for j in range(n):
            D[i][j] = (x[i] - x[j]) ** 2 + 0.1 * x[i]
    total = 0.0
    for row in D:
        total += sum(row) ** 0.5
    return total


def test_soft_dtw():
    x = np.array([0.1, 0.5, 0.9])
    y = np.array([0.2, 0.4, 1.0, 0.3])
    check_four_ways(soft_dtw, x, y, 0.5, wrt=("x", "y"))


def test_gaussian_elimination_on_rows():
    M = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    b = np.array([1.0, -2.0, 0.5])
    got = check_four_ways(gauss_solve_sum, M, b)
    x = np.linalg.solve(M, b)  # d/db |x|^2 = 2 M^-T x
    np.testing.assert_allclose(got[1], 2 * np.linalg.solve(M.T, x), rtol=1e-10)


def test_binomial_tree():
    check_four_ways(binomial_tree_call, 1.05, 0.3, 0.02, wrt=("spot", "vol", "rate"))


def test_forward_algorithm_table():
    rng = np.random.default_rng(3)
    log_start = np.log(np.array([0.6, 0.4]))
    log_trans = np.log(np.array([[0.7, 0.3], [0.2, 0.8]]))
    log_emit = rng.normal(size=(4, 2))
    check_four_ways(forward_algorithm, log_start, log_trans, log_emit)


def test_table_read_by_a_loop_over_its_rows():
    check_four_ways(pairwise_table, np.array([0.3, -1.2, 2.0]))


def test_second_derivatives_through_a_table():
    x = np.array([0.1, 0.5, 0.9])
    y = np.array([0.2, 0.4, 1.0, 0.3])
    hessian = srcad.hessian(lambda x: soft_dtw(x, y, 0.5))(x)
    grad = srcad.grad(soft_dtw)
    h = 1e-5
    columns = [(grad(x + h * e, y, 0.5) - grad(x - h * e, y, 0.5)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(hessian, np.array(columns).T, rtol=1e-5, atol=1e-7)


def one_row_held_twice(x):
    R = [[0.0] * 2] * 2  # (one row, twice: Python's R[0][0] = x changes both)
    R[0][0] = x
    return R[1][0]


def row_named_then_written(x):
    R = [[0.0, 0.0], [0.0, 0.0]]
    row = R[0]
    R[0][1] = x
    return row[1] * 2.0


def row_handed_to_a_helper(x):
    R = [[0.0, 0.0] for _ in range(2)]
    keep = [R[1]]
    R[1][0] = x
    return keep[0][0]


@pytest.mark.parametrize(
    "f, where",
    [
        (one_row_held_twice, "R = [[0.0] * 2] * 2"),
        (row_named_then_written, "row = R[0]"),
        (row_handed_to_a_helper, "keep = [R[1]]"),
    ],
)
def test_a_row_another_holder_shares_is_refused(f, where):
    assert f(3.0) in (3.0, 6.0)  # (Python's answer: the write reached the other holder)
    with pytest.raises(srcad.SrcadError) as caught:
        srcad.grad(f)(3.0)
    message = str(caught.value)
    assert "test_lists_of_lists.py" in message
    assert where in message, message


def largest_row_kept(x):
    R = [[0.0, 1.0] for _ in range(2)]
    top = max(R)  # (a row of R itself, not a copy: the first of equal rows, R[0])
    R[0][0] = x
    return top[0]


def test_a_row_a_builtin_returns_is_a_holder():
    assert largest_row_kept(3.0) == 3.0
    with pytest.raises(srcad.SrcadError, match="top = max"):
        srcad.grad(largest_row_kept)(3.0)


def trinomial_like(p, x):
    levels = [[0.0] * (2 * i + 1) for i in range(4)]
    for j in range(7):
        levels[3][j] = math.sin(x * (j + 1))
    for i in range(2, -1, -1):
        for j in range(2 * i + 1):
            nxt = levels[i + 1]  # (a row named to read it, while other rows are written)
            levels[i][j] = p * nxt[j] + (1 - 2 * p) * nxt[j + 1] + p * levels[i + 1][j + 2]
    return levels[0][0]


def named_row_read_after_a_write(x):
    R = [[0.0, 0.0] for _ in range(2)]
    row = R[0]
    R[1][0] = x
    R[0][1] = x * 2.0  # (the named row changes before it is read)
    return row[1]


def test_a_row_named_to_read_its_items():
    """``nxt = levels[i + 1]`` read only by items, before any row changes (round 66's
    trinomial tree was refused); a named row read after a write into a row is still
    refused (Python's name sees the change)."""
    check_four_ways(trinomial_like, 0.3, 0.7)
    assert named_row_read_after_a_write(3.0) == 6.0
    with pytest.raises(srcad.SrcadError, match="row = R"):
        srcad.grad(named_row_read_after_a_write)(3.0)


def rows_kept_by_a_comprehension(x):
    R = [[x, 1.0], [0.5, 2.0]]
    kept = [r for r in R]
    R[0][0] = 3.0 * x
    return kept[0][0]


def rows_kept_by_zip(x):
    R = [[x, 1.0], [0.5, 2.0]]
    z = list(zip(R, [1, 2]))
    R[0][0] = 3.0 * x
    return z[0][0][0]


def rows_kept_by_a_dict(x):
    R = [[x, 1.0], [0.5, 2.0]]
    d = dict(zip(["a", "b"], R))
    R[0][0] = 3.0 * x
    return d["a"][0]


def row_kept_by_min_with_a_key(x):
    R = [[x, 1.0], [0.5, 2.0]]
    low = min(R, key=sum)
    R[0][0] = 3.0 * x
    return low[0]


def rows_appended_by_a_loop(x):
    R = [[x, 1.0], [0.5, 2.0]]
    keep = []
    for r in R:
        keep.append(r)
    R[0][0] = 3.0 * x
    return keep[0][0]


def row_extended_through_its_name(x):
    R = [[x, 1.0], [0.5, 2.0]]
    r = R[0]
    r += [5.0]
    return R[0][2] * x


@pytest.mark.parametrize("f", [
    rows_kept_by_a_comprehension, rows_kept_by_zip, rows_kept_by_a_dict,
    row_kept_by_min_with_a_key, rows_appended_by_a_loop, row_extended_through_its_name,
])
def test_rows_another_holder_takes_through_a_loop_are_refused(f):
    """Round 66: rows taken by a loop's variable (a comprehension's, zip's, dict(zip(...)),
    min's key loop, an append) and then written were silently stale (0.7 where Python
    gives 2.1); a row extended through its name crashed in generated code."""
    assert f(0.7) in (pytest.approx(2.1), pytest.approx(3.5))
    with pytest.raises(srcad.SrcadError) as caught:
        srcad.grad(f)(0.7)
    assert "test_lists_of_lists.py" in str(caught.value)


def row_grown_by_a_new_list(x):
    R = [[x, 1.0] for _ in range(2)]
    R[0] = R[0] + [x * x]
    R[0][1] = 3.0 * x
    return R[0][2] * R[0][1] + sum(R[1])


def test_a_row_replaced_by_itself_and_more():
    """``R[i] = R[i] + [v]`` (what srcad's own refusal of ``.append`` suggests) keeps the
    table's rows its own."""
    assert check_four_ways(row_grown_by_a_new_list, 0.7)[0] == pytest.approx(9 * 0.49 + 1)


def swapped_corners(x):
    R = [[0.0, 0.0] for _ in range(2)]
    R[0][0], R[1][1] = x * x, 3.0 * x
    R[0][1], R[1][0] = R[1][1], R[0][0] + 1.0
    return R[0][1] * R[1][0] + sum(R[0])


def test_tuple_targets_write_into_rows():
    """``R[0][0], R[1][1] = a, b`` (round 66: refused)."""
    assert check_four_ways(swapped_corners, 0.7)[0] == pytest.approx(9 * 0.49 + 1.4 + 6.0)


def row_chosen_by_max_of_two(x):
    R = [[x, 1.0], [0.5, 2.0]]
    m = max(R[0], R[1])
    R[0][0] = 3.0 * x
    return m[0]


def rows_zipped_twice(x):
    R = [[x, 1.0], [0.5, 2.0]]
    kept = []
    for _a, b in zip(R, R):
        kept.append(b)
    R[0][0] = 3.0 * x
    return kept[0][0]


def row_returned_by_a_nested_def(x):
    R = [[x, 1.0], [0.5, 2.0]]

    def first():
        return R[0]

    r = first()
    R[0][0] = 3.0 * x
    return r[0]


def one_row_twice_in_a_comprehension(x):
    T = [[[x, 1.0]] * 2 for _ in range(2)]
    R = T[0]
    R[0][0] = 3.0 * x
    return R[1][0]


def item_of_a_row_written(x):
    R = [[[x, 1.0]], [[2.0, 1.0]]]
    s = R[0][0]
    s[0] = 3.0 * x
    return R[0][0][0]


def item_of_a_row_run_over(x):
    R = [[[x, 1.0]], [[2.0, 1.0]]]
    for s in R[0]:
        s[0] = 3.0 * x
    return R[0][0][0]


def item_of_a_row_extended(x):
    R = [[[x, 1.0]], [[2.0, 1.0]]]
    s = R[0][0]
    s += [3.0 * x]
    return R[0][0][2]


def row_variable_read_by_another_loop(x):
    R = [[x, 1.0], [0.5, 2.0]]
    for row in R:  # noqa: B007 (read by the next loop)
        pass
    for row in [row]:  # noqa: B020 (the case itself)
        K = row
    R[1][0] = 3.0 * x + R[1][0]
    return K[0] * 2.0


def row_of_a_comprehension_replaced(x):
    T = [[[x, 1.0], [x, 1.0]] for _ in range(2)]
    R = T[0]
    R[0] = [3.0 * x, 1.0]
    return T[0][0][0]


@pytest.mark.parametrize("f", [
    row_chosen_by_max_of_two, rows_zipped_twice, row_returned_by_a_nested_def,
    one_row_twice_in_a_comprehension, item_of_a_row_written, item_of_a_row_run_over,
    item_of_a_row_extended, row_variable_read_by_another_loop, row_of_a_comprehension_replaced,
])
def test_rows_held_elsewhere_round_67(f):
    """Round 67 (against the fixes of round 66): a row another holder takes by max of
    two rows, the second of zip(R, R), a nested def's return, one row repeated inside a
    comprehension, items two levels down, a loop reading another loop's variable; each
    silently stale (or a crash in generated code) before, refused now."""
    assert f(0.7) in (pytest.approx(2.1), pytest.approx(5.2), pytest.approx(1.4))
    with pytest.raises(srcad.SrcadError) as caught:
        srcad.grad(f)(0.7)
    assert "test_lists_of_lists.py" in str(caught.value)


# ---------------------------------------------------------------- a time step's hand-over


def heat_steps_on_rows(T, alpha):
    """An explicit heat-equation step on a grid of lists: new rows each step, written,
    then handed over (``T = new``) after the last write."""
    n = len(T)
    for _ in range(3):
        new = [list(row) for row in T]
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                new[i][j] = T[i][j] + alpha * (
                    T[i - 1][j] + T[i + 1][j] + T[i][j - 1] + T[i][j + 1] - 4.0 * T[i][j]
                )
        T = new
    return sum(sum(v * v for v in row) for row in T)


def wave_steps_on_rows(u, c):
    """Two time levels handed on each step (``prev, cur = cur, new`` written as two
    hand-overs after the writes)."""
    prev = [list(row) for row in u]
    cur = [list(row) for row in u]
    for _ in range(4):
        new = [list(row) for row in cur]
        for i in range(1, len(u) - 1):
            new[i][1] = 2.0 * cur[i][1] - prev[i][1] + c * (cur[i - 1][1] - 2.0 * cur[i][1]
                                                             + cur[i + 1][1])
        prev = cur
        cur = new
    return sum(row[1] ** 2 for row in cur)


def handed_over_in_a_branch(x):
    T = [[0.0]]
    for k in range(2):
        new = [[x * k]]
        new[0][0] = new[0][0] + x
        if k == 0:
            T = new
    return T[0][0] * x


@pytest.mark.parametrize("f, args", [
    (heat_steps_on_rows, ([[math.sin(i + 2.0 * j) for j in range(5)] for i in range(5)], 0.1)),
    (wave_steps_on_rows, ([[math.cos(i * 0.7 + j) for j in range(3)] for i in range(5)], 0.2)),
    (handed_over_in_a_branch, (0.7,)),
])
def test_rows_handed_over_after_the_last_write(f, args):
    check_four_ways(f, *args)


def handed_over_then_written(x):
    new = [[0.0, 0.0] for _ in range(2)]
    new[0][0] = x
    T = new
    new[1][1] = 2.0 * x  # (T sees this: the same rows)
    return T[1][1]


def handed_over_before_new_rows(x):
    new = [[x, 0.0] for _ in range(2)]
    T = [[0.0, 0.0]]
    for _ in range(2):
        new[0][0] = new[0][0] * 2.0  # (new keeps its rows from one step to the next)
        T = new
    return T[0][0] + new[0][0]


def handed_over_in_a_branch_then_written(x):
    T = [[0.0]]
    new = [[x]]
    for k in range(2):
        new[0][0] = new[0][0] + x  # (after k == 0, T sees this)
        if k == 0:
            T = new
    return T[0][0]


@pytest.mark.parametrize("f, where", [
    (handed_over_then_written, "T = new"),
    (handed_over_before_new_rows, "T = new"),
    (handed_over_in_a_branch_then_written, "T = new"),
])
def test_rows_handed_over_while_still_written_are_refused(f, where):
    assert f(3.0) in (6.0, 9.0, 24.0)
    with pytest.raises(srcad.SrcadError) as caught:
        srcad.grad(f)(3.0)
    assert where in str(caught.value)


def test_a_row_copied_by_a_slice_is_refused_with_list_advice():
    """``row[:]`` copies a list's row but is a view of an array's: refused, with
    ``list(row)`` as the advice."""
    def smooth(T, a):
        new = [row[:] for row in T]
        new[1][1] = a * new[1][1]
        return new[1][1] + T[1][1]

    with pytest.raises(srcad.SrcadError, match=r"list\(row\)"):
        srcad.grad(smooth, wrt=1)(np.ones((3, 3)), 0.5)


# ------------------------------------------------ dynamic programming: O(1) per table item


def dtw(x, y):
    """Dynamic time warping: each item of the table is written once, three read."""
    n, m = len(x), len(y)
    D = [[1e300] * (m + 1) for _ in range(n + 1)]
    D[0][0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            D[i][j] = (x[i - 1] - y[j - 1]) ** 2 + min(D[i - 1][j], D[i][j - 1], D[i - 1][j - 1])
    return D[n][m]


def dtw_grad_by_hand(x, y):
    """The gradient of :func:`dtw` along its optimal path (no ties at the test point)."""
    n, m = len(x), len(y)
    D = [[1e300] * (m + 1) for _ in range(n + 1)]
    D[0][0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            D[i][j] = (x[i - 1] - y[j - 1]) ** 2 + min(D[i - 1][j], D[i][j - 1], D[i - 1][j - 1])
    gx, gy = np.zeros(n), np.zeros(m)
    i, j = n, m
    while (i, j) != (0, 0):
        d = 2.0 * (x[i - 1] - y[j - 1])
        gx[i - 1] += d
        gy[j - 1] -= d
        i, j = min([(i - 1, j), (i, j - 1), (i - 1, j - 1)], key=lambda p: D[p[0]][p[1]])
    return gx, gy


def test_dtw_against_its_path():
    x = np.array([0.1, 0.9, 0.35, -0.4, 1.3])
    y = np.array([0.2, 0.45, 1.1, 0.05])
    got = check_four_ways(dtw, x, y)
    hand = dtw_grad_by_hand(x, y)
    np.testing.assert_allclose(got[0], hand[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got[1], hand[1], rtol=1e-12, atol=1e-14)


def test_dtw_gradient_adds_into_the_rows_of_the_tables_adjoint():
    """The gradient of DTW does O(1) work per item of the table: the forward pass writes
    ``D[i][j] = v`` into the row in place (no copy of the row per write), its backprop
    zeroes that item of the row of the table's adjoint in place (no copy of the table's
    adjoint, ``fresh_copy``, nor of the row), and each item read of a row adds into that
    row of the table's adjoint (no zero row per read)."""
    source = srcad.grad(dtw).backward_source
    float_version = source.split("def dtw_grad_arrays")[0]
    assert "fresh_copy" not in float_version
    forward_loop = float_version.split("for j in range")[1].split("# backward pass")[0]
    assert "list_replaced" not in forward_loop, forward_loop
    assert "[i][j] = " in float_version and "_row[j] = 0.0" in float_version
    assert float_version.count("is that row of dD") == 3, float_version


def edit_distance_soft(x, y, gamma):
    """A soft edit distance: a soft minimum (log-sum-exp) of insert, delete, match."""
    n, m = len(x), len(y)
    R = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        R[i][0] = R[i - 1][0] + 1.0
    for j in range(1, m + 1):
        R[0][j] = R[0][j - 1] + 1.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            options = [R[i - 1][j] + 1.0, R[i][j - 1] + 1.0,
                       R[i - 1][j - 1] + (x[i - 1] - y[j - 1]) ** 2]
            low = min(options)
            R[i][j] = low - gamma * math.log(sum(math.exp(-(o - low) / gamma) for o in options))
    return R[n][m]


def test_soft_edit_distance():
    x = np.array([0.3, 1.2, -0.5, 0.8])
    y = np.array([0.1, 1.0, 0.4])
    check_four_ways(edit_distance_soft, x, y, 0.7, wrt=("x", "y", "gamma"))


def viterbi_lists(log_start, log_trans, log_emit):
    """The best path's score of an HMM, tables as lists of lists (``log_trans`` given as
    one, ``delta`` made): max over predecessors."""
    T, S = len(log_emit), len(log_start)
    delta = [[0.0] * S for _ in range(T)]
    for s in range(S):
        delta[0][s] = log_start[s] + log_emit[0][s]
    for t in range(1, T):
        for s in range(S):
            best = delta[t - 1][0] + log_trans[0][s]
            for r in range(1, S):
                best = max(best, delta[t - 1][r] + log_trans[r][s])
            delta[t][s] = best + log_emit[t][s]
    return max(delta[T - 1])


def forward_lists(start, trans, emit):
    """The forward algorithm in probability space, ``alpha`` and ``trans`` lists of
    lists, each step normalised."""
    T, S = len(emit), len(start)
    alpha = [[0.0] * S for _ in range(T)]
    for s in range(S):
        alpha[0][s] = start[s] * emit[0][s]
    log_like = 0.0
    for t in range(1, T):
        for s in range(S):
            acc = 0.0
            for r in range(S):
                acc += alpha[t - 1][r] * trans[r][s]
            alpha[t][s] = acc * emit[t][s]
        total = sum(alpha[t])
        for s in range(S):
            alpha[t][s] = alpha[t][s] / total
        log_like += math.log(total)
    return log_like + math.log(sum(alpha[0]))


def _hmm_lists(seed):
    rng = np.random.default_rng(seed)
    S, T = 3, 5
    trans = rng.uniform(0.1, 1.0, (S, S))
    trans /= trans.sum(axis=1, keepdims=True)
    start = rng.uniform(0.1, 1.0, S)
    start /= start.sum()
    emit = rng.uniform(0.05, 1.0, (T, S))
    return start.tolist(), trans.tolist(), emit.tolist()


def test_viterbi_on_lists():
    start, trans, emit = _hmm_lists(4)
    logs = (np.log(start).tolist(), np.log(trans).tolist(), np.log(emit).tolist())
    got = check_four_ways(viterbi_lists, *logs)
    assert got[0] is not None


def test_forward_algorithm_on_lists():
    start, trans, emit = _hmm_lists(5)
    got = check_four_ways(forward_lists, start, trans, emit)
    # (the gradient in trans by numpy's forward algorithm, as a check of the value too)
    A, B, pi = np.array(trans), np.array(emit), np.array(start)

    def loglik(A):
        a = pi * B[0]
        total = 0.0
        for t in range(1, len(B)):
            a = (a @ A) * B[t]
            total += np.log(a.sum())
            a = a / a.sum()
        return total + np.log(1.0)  # (alpha[0] is not normalised in forward_lists)

    offset = math.log(sum(pi * B[0]))
    assert forward_lists(start, trans, emit) == pytest.approx(loglik(A) + offset, rel=1e-12)
    h = 1e-6
    numeric = np.zeros_like(A)
    for r in range(3):
        for s in range(3):
            E = np.zeros_like(A)
            E[r, s] = h
            numeric[r, s] = (loglik(A + E) - loglik(A - E)) / (2 * h)
    np.testing.assert_allclose(np.array(got[1]), numeric, rtol=1e-6, atol=1e-8)


def pascal_weights(p, n):
    """Pascal's triangle with weights p and 1 - p (binomial probabilities), row by row;
    the sum of k * P(k) of the last row is its mean, n p."""
    P = [[0.0] * (i + 1) for i in range(n + 1)]
    P[0][0] = 1.0
    for i in range(1, n + 1):
        for k in range(i + 1):
            left = P[i - 1][k - 1] * p if k >= 1 else 0.0
            right = P[i - 1][k] * (1.0 - p) if k <= i - 1 else 0.0
            P[i][k] = left + right
    return sum(k * P[n][k] for k in range(n + 1)) + P[n][n]


def test_pascal_triangle():
    got = check_four_ways(pascal_weights, 0.3, 7)
    assert got[0] == pytest.approx(7.0 + 7 * 0.3 ** 6, rel=1e-12)  # d(np + p^n)/dp


def american_put_tree(spot, vol, steps):
    """An American put on a binomial tree, rows of a table (values[i][j]) and early
    exercise, max of holding and exercising."""
    dt = 1.0 / steps
    up = math.exp(vol * math.sqrt(dt))
    down = 1.0 / up
    p = (1.0 - down) / (up - down)
    values = [[0.0] * (i + 1) for i in range(steps + 1)]
    for j in range(steps + 1):
        values[steps][j] = max(1.0 - spot * up ** j * down ** (steps - j), 0.0)
    for i in range(steps - 1, -1, -1):
        for j in range(i + 1):
            held = p * values[i + 1][j + 1] + (1 - p) * values[i + 1][j]
            values[i][j] = max(held, 1.0 - spot * up ** j * down ** (i - j))
    return values[0][0]


def test_american_put_tree():
    check_four_ways(american_put_tree, 0.97, 0.25, 6)


def rows_replaced_whole_in_a_loop(x):
    """Rows written whole in a loop, ``T[i] = [...]`` (a new row each time), and items
    of them read and written after."""
    T = [[0.0, 0.0, 0.0] for _ in range(4)]
    for i in range(4):
        T[i] = [x * (i + 1), x * x, 1.0]
        for j in range(3):
            T[i][j] = T[i][j] * 2.0 + (T[i - 1][j] if i else 0.0)
    return sum(T[3]) + T[2][0] * T[1][1]


def test_rows_replaced_whole_in_a_loop():
    check_four_ways(rows_replaced_whole_in_a_loop, 0.7)


def rows_summed_by_numpy(x):
    """The table's adjoint comes back from numpy as an array (np.sum of a list of
    lists): the row a write moves out of it is a copy, not a view."""
    T = [[0.0, 0.0] for _ in range(3)]
    for i in range(3):
        T[i] = [x * (i + 1.0), x ** 2]
        T[i][1] = T[i][1] + T[i][0] * (i + 1)
    return float(np.sum(T)) + T[1][1] * x


def test_rows_moved_out_of_an_adjoint():
    """A row's adjoint moved out of a list's adjoint is that row; out of an array's, a
    copy (a view would see the zeros written next)."""
    from srcad.runtime import AdjointList, moved_item

    rows = AdjointList([AdjointList([1.0, 2.0]), AdjointList([3.0, 4.0])])
    row = rows[1]
    assert moved_item(rows, 1) is row
    array = np.array([[1.0, 2.0], [3.0, 4.0]])
    moved = moved_item(array, 1)
    array[1] = 0.0
    assert moved.tolist() == [3.0, 4.0]
    assert "moved_item" in srcad.grad(rows_summed_by_numpy).backward_source
    # (f = 20 x + 7 x^2 + x^3)
    assert check_four_ways(rows_summed_by_numpy, 0.6)[0] == pytest.approx(
        20.0 + 14.0 * 0.6 + 3.0 * 0.6 ** 2, rel=1e-12)


def row_named_then_written_through(x):
    T = [[0.0, 0.0] for _ in range(3)]
    for i in range(3):
        row = T[i]
        row[0] = x * i  # (Python: T[i][0] changes too)
        row[1] = x
    return T[2][0] + T[1][1]


def row_shared_by_two_positions(x):
    T = [[0.0, 0.0] for _ in range(3)]
    T[0][0] = x
    for i in range(1, 3):
        T[i] = T[i - 1]  # (one row at every position: Python's writes reach all of them)
        T[i][0] = T[i][0] * 2.0
    return T[0][0] + T[1][0]


@pytest.mark.parametrize("f, where, value", [
    (row_named_then_written_through, "`row` is an item of a list", 2.1),
    (row_shared_by_two_positions, "T[i] = T[i - 1]", 2.8 + 2.8),
])
def test_rows_shared_in_a_dp_loop_are_right_or_refused(f, where, value):
    """Python's semantics: a row another name or position holds sees the writes; srcad
    refuses them at the line (it gives lists new values, which would miss them)."""
    assert f(0.7) == pytest.approx(value)
    try:
        got = srcad.grad(f)(0.7)
    except srcad.SrcadError as caught:
        assert where in str(caught), str(caught)
    else:
        h = 1e-6
        assert got == pytest.approx((f(0.7 + h) - f(0.7 - h)) / (2 * h), rel=1e-6)


def hmm_forward_symbols(A, B, pi, obs):
    """An HMM's likelihood over observed symbols, a list of ints indexing its tables."""
    S = len(pi)
    alpha = [pi[i] * B[i][obs[0]] for i in range(S)]
    for t in range(1, len(obs)):
        alpha = [sum(alpha[i] * A[i][j] for i in range(S)) * B[j][obs[t]] for j in range(S)]
    return math.log(sum(alpha))


def test_a_list_of_int_symbols_takes_the_version_for_floats():
    """A list of Python ints (observed symbols) passes the float version's check, as an
    int number parameter does (it went to the array version, 5x slower)."""
    from srcad.runtime import as_floats

    obs = [0, 2, 1, 1, 0]
    assert as_floats(obs) is obs and as_floats((1, 2.5)) is not None
    assert as_floats([True, 1.0]) is None  # (a bool is not a number here)
    start, trans, _ = _hmm_lists(6)
    emit = np.random.default_rng(7).uniform(0.1, 1.0, (3, 3)).tolist()
    got = check_four_ways(hmm_forward_symbols, trans, emit, start, obs, wrt=("A", "B", "pi"))
    A, B, pi = np.array(trans), np.array(emit), np.array(start)

    def numpy_loglik(A, B, pi):
        a = pi * B[:, obs[0]]
        for o in obs[1:]:
            a = (a @ A) * B[:, o]
        return math.log(a.sum())

    h = 1e-6
    for r in range(3):
        for s in range(3):
            E = np.zeros((3, 3))
            E[r, s] = h
            numeric = (numpy_loglik(A + E, B, pi) - numpy_loglik(A - E, B, pi)) / (2 * h)
            assert got[0][r][s] == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def row_read_whole_then_rewritten(x):
    """Rows read whole (``max`` of a row, whose gradient reads the row's values again)
    before later loops write into them in place: the backward pass sees each row as it
    was when it was read."""
    T = [[0.0] * 3 for _ in range(3)]
    for i in range(3):
        for j in range(3):
            T[i][j] = x * (i + j)
    r = T[1]
    m = max(r)
    s = sum(r)
    for k in range(3):
        for j in range(3):
            T[k][j] = 5.0 * T[k][j] - m
    return m * s + T[0][1] * T[2][2]


def row_max_in_the_loop_writing_it(x):
    T = [[x] * 3 for _ in range(3)]
    for i in range(3):
        m = max(T[i])
        for j in range(3):
            T[i][j] = m * 0.5 + x * j
        T[i][-1] = T[i][0] * T[i][1]  # (a negative index, a constant one)
    return sum(T[2]) + max(T[1])


def written_by_constants_and_read(x):
    T = [[x, 2.0 * x] for _ in range(4)]
    for i in range(4):
        for j in range(2):
            T[i][j] = 1.0 if (i + j) % 2 else T[i][j] * T[i - 1][j]
    return T[3][0] + T[3][1] * x


def written_on_one_branch(x):
    T = [[x * (i + 1), 1.0, -x] for i in range(3)]
    for i in range(1, 3):
        for j in range(3):
            if T[i - 1][j] > 0.5 * x:  # (the branch's write is undone only where it ran)
                T[i][j] = T[i - 1][j] * T[i][j] + x
            else:
                T[i][j] -= 0.3 * T[i - 1][j]
    return sum(T[2]) * T[1][0]


def written_by_a_while_loop(x):
    T = [[0.0] * 3 for _ in range(2)]
    k = 0
    while k < 6:
        T[k % 2][k // 2] = math.sin(x * (k + 1)) + T[(k + 1) % 2][k // 2]
        k += 1
    return T[0][2] * T[1][2] + max(T[1])


@pytest.mark.parametrize("f", [
    row_read_whole_then_rewritten, row_max_in_the_loop_writing_it,
    written_by_constants_and_read, written_on_one_branch, written_by_a_while_loop,
])
def test_rows_written_in_place_restored_for_the_backward_pass(f):
    check_four_ways(f, 0.7)
    h = 1e-6  # (and the same as before in-place row writes: central differences)
    assert srcad.grad(f)(0.7) == pytest.approx((f(0.7 + h) - f(0.7 - h)) / (2 * h), rel=1e-6)


def test_a_row_at_a_parameter_takes_the_version_for_floats():
    """``values[steps][j] = v``, the row at an int parameter (or a closure's int): that
    index was taken for a sequence where a table's row is replaced, so no version for
    floats was made (the array version copies the table per write: 75x its function)."""
    assert "for Python floats" in srcad.grad(binomial_tree_call).backward_source
    check_four_ways(binomial_tree_call, 1.05, 0.3, 0.02, 7, wrt=("spot", "vol", "rate"))

    def closing_over(steps):
        def price(spot):
            values = [[0.0] * (i + 1) for i in range(steps + 1)]
            for j in range(steps + 1):
                values[steps][j] = spot * 0.5 ** j
            for i in range(steps - 1, -1, -1):
                for j in range(i + 1):
                    values[i][j] = 0.5 * (values[i + 1][j] + values[i + 1][j + 1] ** 2)
            return values[0][0]

        return price

    price = closing_over(4)
    assert "for Python floats" in srcad.grad(price).backward_source
    check_four_ways(price, 0.9)


def test_the_gradient_of_min_of_items_at_and_off_ties():
    """``min(a, b, c)`` (DTW's): all to the item Python picked, shared at a tie; the item
    found as ``_tied_with`` finds it (itself, or equal to it: nan is itself)."""
    from srcad.runtime import extreme_items_grad

    assert extreme_items_grad(2.0, [3.0, 1.0, 4.0], 1.0) == [0.0, 2.0, 0.0]
    assert extreme_items_grad(2.0, (1.0, 3.0, 1.0), 1.0) == [1.0, 0.0, 1.0]
    nan = float("nan")
    assert extreme_items_grad(2.0, [nan, 3.0], nan) == [2.0, 0.0]
    assert extreme_items_grad(2.0, [1, 3.0], 1) == [2.0, 0.0]
    f = lambda a, b, c: min(a, b, c) * 2.0  # noqa: E731
    assert srcad.grad(f, wrt=("a", "b", "c"))(1.0, 1.0, 3.0) == (1.0, 1.0, 0.0)
