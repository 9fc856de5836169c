"""numpy's memory semantics, exactly: arrays written in loops and read in other
iterations, in-place operators, views and aliases, repeated indices.

Every case is checked four ways (``conftest.check_four_ways``): reverse mode against
central differences, optimized against unoptimized, forward mode against reverse mode,
and the value of ``value_and_grad`` against ``f`` itself (bit for bit, with the
arguments left as ``f`` leaves them). Where an exact value is known it is checked too.
"""

from __future__ import annotations

import numpy as np
import pytest

import srcad
from conftest import check_four_ways

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
