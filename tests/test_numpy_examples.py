"""Tests for the numpy examples and the MLP benchmark.

* examples/tiny_network.py's matrix form: the source's y = 0.741 (to its 3
  decimals) and srcad's array gradients equal to the scalar network's (1e-12);
* examples/mlp_training.py: a shortened training run lowers the loss by a clear
  margin and classifies the spirals well;
* benchmarks/mlp.py: srcad's gradient (X, y as arguments and as globals) equals the
  hand-written backward pass on a small problem, and the hand-written one equals
  central differences (the benchmark's reference must itself be right).

Each file is imported by path and registered in sys.modules, so srcad can read its
source with inspect.getsource.
"""

from pathlib import Path

import numpy as np
import pytest
from conftest import load_repo_module

import srcad

ROOT = Path(__file__).resolve().parents[1]
REL = 1e-12  # srcad vs a hand-written gradient: summation order only


@pytest.fixture(scope="module")
def tn():
    return load_repo_module("examples/tiny_network.py")


@pytest.fixture(scope="module")
def mlp_ex():
    return load_repo_module("examples/mlp_training.py")


@pytest.fixture(scope="module")
def bench():
    return load_repo_module("benchmarks/mlp.py")


def _assert_arrays_close(got, expected, rel=REL, abs_=0.0):
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        g = np.asarray(g)
        assert g.shape == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=rel, atol=abs_)


# ------------------------------------------------------- tiny network, matrix form


def test_matrix_point_is_the_scalar_point(tn):
    W1, b1, W2, b2, x = tn.MATRIX_POINT
    assert W1.tolist() == [[1.76, 0.4], [0.97, 2.24]]
    assert b1.tolist() == [0.0, 0.0]
    assert W2.tolist() == [[1.86, -0.97]]
    assert b2.tolist() == [0.0]
    assert x.tolist() == [0.888, -0.49]


def test_matrix_network_seed_output(tn):
    y = tn.network_matrix(*tn.MATRIX_POINT)
    assert y == pytest.approx(0.741, abs=1e-3)  # the source's rounded hand calculation
    assert y == pytest.approx(tn.network(*tn.POINT), rel=1e-15)


def test_matrix_network_gradient_equals_scalar_gradients(tn):
    grad_m = srcad.grad(tn.network_matrix, wrt=("W1", "b1", "W2", "b2"))
    got = grad_m(*tn.MATRIX_POINT)
    scalar = srcad.grad(tn.network, wrt=(*tn.WEIGHT_NAMES, "b1", "b2", "b3"))(*tn.POINT)
    _assert_arrays_close(got, tn.matrix_from_scalar_grads(*scalar))
    # and the hand-written delta rule (dy/dw1..dw6, dy/db1..db3)
    _assert_arrays_close(got, tn.matrix_from_scalar_grads(*tn.network_grad_by_hand(*tn.POINT)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matrix_network_gradient_at_other_points(tn, seed):
    rng = np.random.default_rng(seed)
    point = tuple(float(v) for v in rng.normal(0.0, 1.0, len(tn.POINT)))
    got = srcad.grad(tn.network_matrix, wrt=("W1", "b1", "W2", "b2"))(*tn.matrix_point(*point))
    hand = tn.matrix_from_scalar_grads(*tn.network_grad_by_hand(*point))
    _assert_arrays_close(got, hand, abs_=1e-15)
    assert srcad.check_grad(tn.network_matrix, *tn.matrix_point(*point)) < 1e-5


def test_matrix_network_value_and_grad(tn):
    value, grads = srcad.value_and_grad(tn.network_matrix, wrt=("W1", "b1", "W2", "b2"))(
        *tn.MATRIX_POINT
    )
    assert float(value) == pytest.approx(tn.network(*tn.POINT), rel=1e-15)
    hand = tn.matrix_from_scalar_grads(*tn.network_grad_by_hand(*tn.POINT))
    _assert_arrays_close(grads, hand)


def test_tiny_network_main_prints_matrix_form(tn, capsys):
    tn.main()
    out = capsys.readouterr().out
    assert "y = network_matrix(W1, b1, W2, b2, x) = 0.741583" in out
    (line,) = [ln for ln in out.splitlines() if ln.startswith("max relative difference")]
    assert float(line.split("=")[-1]) <= REL


# ---------------------------------------------------------------- MLP training


def test_spirals_dataset(mlp_ex):
    X, y = mlp_ex.make_spirals(seed=0)
    assert X.shape == (2 * mlp_ex.N_PER_CLASS, 2)
    assert y.shape == (2 * mlp_ex.N_PER_CLASS,)
    assert np.bincount(y).tolist() == [mlp_ex.N_PER_CLASS] * 2
    X2, y2 = mlp_ex.make_spirals(seed=0)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)  # fixed seed: the same data


def _softmax_xent_grad_by_hand(W1, b1, W2, b2, X, y):
    n = X.shape[0]
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(n), y] -= 1.0
    d = p / n
    dz1 = d @ W2.T * (1 - h * h)
    return X.T @ dz1, dz1.sum(0), h.T @ d, d.sum(0)


def test_mlp_loss_gradient(mlp_ex):
    X, y = mlp_ex.make_spirals(n_per_class=20, seed=3)
    params = mlp_ex.init_params(n_hidden=8, seed=3)
    value, grads = srcad.value_and_grad(mlp_ex.loss, wrt=("W1", "b1", "W2", "b2"))(*params, X, y)
    assert float(value) == pytest.approx(float(mlp_ex.loss(*params, X, y)), rel=1e-14)
    _assert_arrays_close(grads, _softmax_xent_grad_by_hand(*params, X, y), rel=1e-10, abs_=1e-14)
    assert srcad.check_grad(mlp_ex.loss, *params, X, y, wrt=("W1", "b1", "W2", "b2")) < 1e-6


def test_mlp_training_short_run(mlp_ex):
    # 3000 of the example's 10000 steps (about 2 s): accuracy ~0.91 on these spirals
    losses, acc = mlp_ex.train(steps=3000, seed=0)
    assert len(losses) == 3000
    assert all(np.isfinite(losses))
    assert losses[0] == pytest.approx(np.log(2), abs=0.1)  # about chance at the start
    assert losses[-1] < 0.5 * losses[0]
    assert acc >= 0.85


# ------------------------------------------------------------------ benchmark


@pytest.fixture(scope="module")
def small_problem(bench):
    return bench.make_problem(n=16, d=5, hidden=7, classes=3, seed=4)


def test_benchmark_hand_gradient_matches_central_differences(bench, small_problem):
    hand = bench.loss_grad_by_hand(*small_problem)
    eps = 1e-6
    for k in range(4):  # W1, b1, W2, b2
        args = [a.copy() for a in small_problem]
        numeric = np.zeros_like(args[k])
        for i in np.ndindex(args[k].shape):
            old = args[k][i]
            args[k][i] = old + eps
            up = bench.loss(*args)
            args[k][i] = old - eps
            down = bench.loss(*args)
            args[k][i] = old
            numeric[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(hand[k], numeric, rtol=1e-5, atol=1e-9)


def test_benchmark_srcad_gradient_equals_hand(bench, small_problem):
    hand = bench.loss_grad_by_hand(*small_problem)
    got = srcad.grad(bench.loss, wrt=bench.WRT)(*small_problem)
    _assert_arrays_close(got, hand, rel=1e-10, abs_=1e-15)


def test_benchmark_srcad_globals_gradient_equals_hand(bench, small_problem):
    hand = bench.loss_grad_by_hand(*small_problem)
    bench.set_globals(small_problem[4], small_problem[5])
    got = srcad.grad(bench.loss_globals, wrt=bench.WRT)(*small_problem[:4])
    _assert_arrays_close(got, hand, rel=1e-10, abs_=1e-15)


def test_benchmark_candidates_agree(bench, small_problem):
    # build_candidates refuses (SystemExit) if a srcad gradient differs from the hand one
    candidates = bench.build_candidates(small_problem, with_optional=False)
    assert {"hand", "srcad (X, y args)", "srcad (X, y globals)"} <= set(candidates)


def test_benchmark_peak_memory_is_measured(bench, small_problem):
    assert bench.peak_memory(bench.loss_grad_by_hand, small_problem) > 0


def test_benchmark_smoke(bench, capsys):
    assert bench.main(["--repeats", "1", "--target-ms", "1", "--no-optional"]) == 0
    out = capsys.readouterr().out
    for name in ("hand", "srcad (X, y args)", "srcad (X, y globals)"):
        (line,) = [ln for ln in out.splitlines() if ln.startswith(name + " ")]
        us_per_call, calls, ratio, kib, mem_ratio = (float(t) for t in line[24:].split())
        assert 0 < us_per_call < 1e6 and calls >= 1 and kib > 0
    assert "ratio srcad (X, y args) / hand: time" in out
