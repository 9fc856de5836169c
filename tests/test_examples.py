"""Tests for the examples in examples/ and the benchmark in benchmarks/.

Each example is imported by path and registered in sys.modules, so srcad can
read its source with inspect.getsource.  The checks are:

* the source texts' ("seed") numbers: exactly (==) where they are integers
  (the chain-rule tutorial), to a stated tolerance where they are rounded;
* srcad's gradient against the hand-written or closed-form one, to
  REL = 1e-12 (srcad may sum the same terms in another order: a few ulps;
  any real differentiation error is many orders of magnitude larger);
* srcad's gradient against central differences (srcad.check_grad);
* each example's main(), whose printed numbers are parsed back and checked.
"""

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import load_repo_module

import srcad

ROOT = Path(__file__).resolve().parents[1]
REL = 1e-12  # srcad vs a hand-written gradient: summation order only
ABS = 1e-14


@pytest.fixture(scope="module")
def sg():
    return load_repo_module("examples/sigmoid_gate.py")


@pytest.fixture(scope="module")
def cr():
    return load_repo_module("examples/chain_rule.py")


@pytest.fixture(scope="module")
def eg():
    return load_repo_module("examples/expression_graph.py")


@pytest.fixture(scope="module")
def tn():
    return load_repo_module("examples/tiny_network.py")


def _as_tuple(g):
    return tuple(float(v) for v in g)


def _rows(output, label):
    """Numbers printed after `label` at the start of a line of main()'s output."""
    rows = [line[len(label) :].split() for line in output.splitlines() if line.startswith(label)]
    assert rows, f"no line starting with {label!r} in:\n{output}"
    return [[float(t) for t in row] for row in rows]


# ---------------------------------------------------------------- sigmoid gate

SIGMOID_POINTS = [(3.0, -4.0), (0.5, 0.25), (-1.0, 2.0), (-2.5, -0.75), (10.0, -10.0)]


def _sig(z):
    return 1.0 / (1.0 + math.exp(-z))


def _sigmoid_gate_quotient_rule(x, y):
    """Independent closed form: f = N / D with N = x + s(y), D = s(x) + (x + y)^2."""
    n = x + _sig(y)
    d = _sig(x) + (x + y) ** 2
    dn_dx, dn_dy = 1.0, _sig(y) * (1 - _sig(y))
    dd_dx, dd_dy = _sig(x) * (1 - _sig(x)) + 2 * (x + y), 2 * (x + y)
    return (dn_dx * d - n * dd_dx) / d**2, (dn_dy * d - n * dd_dy) / d**2


def test_sigmoid_gate_listing_and_expression_compute_the_same_function(sg):
    for x, y in SIGMOID_POINTS:
        expected = (x + _sig(y)) / (_sig(x) + (x + y) ** 2)
        assert sg.f(x, y) == pytest.approx(expected, rel=REL)
        assert sg.f_expr(x, y) == pytest.approx(expected, rel=REL)


def test_sigmoid_gate_seed_value_at_classic_point(sg):
    # (3 + s(-4)) / (s(3) + 1) = 3.01798620996 / 1.95257412682 = 1.54564...
    assert sg.f(3.0, -4.0) == pytest.approx(1.5456448841066441, rel=1e-12)


@pytest.mark.parametrize("point", SIGMOID_POINTS)
def test_hand_written_backward_matches_quotient_rule(sg, point):
    # The benchmark's reference must itself be right.
    assert sg.f_grad_by_hand(*point) == pytest.approx(
        _sigmoid_gate_quotient_rule(*point), rel=1e-10
    )


@pytest.mark.parametrize("name", ["f", "f_expr"])
@pytest.mark.parametrize("point", SIGMOID_POINTS)
def test_srcad_gradient_matches_hand_written(sg, name, point):
    g = srcad.grad(getattr(sg, name), wrt=("x", "y"))
    got = _as_tuple(g(*point))
    assert got == pytest.approx(sg.f_grad_by_hand(*point), rel=REL, abs=ABS)


@pytest.mark.parametrize("name", ["f", "f_expr"])
def test_srcad_gradient_matches_central_differences(sg, name):
    fn = getattr(sg, name)
    for point in SIGMOID_POINTS:
        err = srcad.check_grad(fn, *point)
        assert 0.0 <= err < 1e-5


@pytest.mark.parametrize("name", ["f", "f_expr"])
def test_value_and_grad_sigmoid_gate(sg, name):
    fn = getattr(sg, name)
    value, grads = srcad.value_and_grad(fn, wrt=("x", "y"))(3.0, -4.0)
    assert value == pytest.approx(fn(3.0, -4.0), rel=REL)
    assert _as_tuple(grads) == pytest.approx(sg.f_grad_by_hand(3.0, -4.0), rel=REL, abs=ABS)


def test_sigmoid_gate_single_wrt_returns_bare_value(sg):
    dx_hand, dy_hand = sg.f_grad_by_hand(3.0, -4.0)
    dy = srcad.grad(sg.f, wrt=("y",))(3.0, -4.0)
    assert float(dy) == pytest.approx(dy_hand, rel=REL)
    dx = srcad.grad(sg.f, wrt=(0,))(3.0, -4.0)
    assert float(dx) == pytest.approx(dx_hand, rel=REL)


def test_sigmoid_gate_listings_are_readable(sg):
    g = srcad.grad(sg.f)
    # the seed's eight names survive into the forward listing
    for name in ("sigy", "num", "sigx", "xpy", "xpysqr", "den", "invden"):
        assert name in g.forward_source, name
    # the backward source is real Python
    compile(g.backward_source, "<backward_source>", "exec")
    assert "def " in g.backward_source
    assert g.__wrapped__ is sg.f


def test_sigmoid_gate_main_prints_matching_gradients(sg, capsys):
    sg.main()
    out = capsys.readouterr().out
    assert "sigy" in out and "invden" in out  # the listings were shown
    (hand,) = _rows(out, "by hand (seed)")
    assert hand[1:] == pytest.approx(sg.f_grad_by_hand(3.0, -4.0), rel=1e-15)
    for label in ("srcad grad(f) ", "srcad grad(f_expr)"):
        (row,) = _rows(out, label)
        assert row[0] == pytest.approx(sg.f(3.0, -4.0), rel=REL)
        assert row[1:] == pytest.approx(hand[1:], rel=REL, abs=ABS)
    errors = _rows(out, "check_grad(f): max error vs central differences =")
    assert errors[0][0] < 1e-5


# ----------------------------------------------------------------- chain rule


def test_chain_rule_simple_seed_numbers_exact(cr):
    seed = cr.SEED_SIMPLE
    assert seed == {"point": (4, 2, -5), "y": -30, "grad": (-5, -5, 6)}
    value, grads = srcad.value_and_grad(cr.simple, wrt=(0, 1, 2))(4.0, 2.0, -5.0)
    assert value == -30
    assert tuple(grads) == (-5, -5, 6)


def test_chain_rule_simple_integer_inputs(cr):
    # The tutorial's inputs are plain ints; the gradient must still be exact.
    assert tuple(srcad.grad(cr.simple, wrt=(0, 1, 2))(4, 2, -5)) == (-5, -5, 6)


def test_chain_rule_advanced_seed_numbers_exact(cr):
    seed = cr.SEED_ADVANCED
    assert seed == {"point": (-7, 2, 2, -1), "y": 40, "grad": (-8, -8, 60, -120)}
    value, grads = srcad.value_and_grad(cr.advanced, wrt=(0, 1, 2, 3))(-7.0, 2.0, 2.0, -1.0)
    assert value == 40
    assert tuple(grads) == (-8, -8, 60, -120)
    assert tuple(srcad.grad(cr.advanced, wrt=(0, 1, 2, 3))(-7, 2, 2, -1)) == (-8, -8, 60, -120)


def test_chain_rule_advanced_partial_wrt(cr):
    g = srcad.grad(cr.advanced, wrt=("x3", "x4"))
    assert tuple(g(-7.0, 2.0, 2.0, -1.0)) == (60, -120)
    assert srcad.grad(cr.advanced, wrt=(1,))(-7.0, 2.0, 2.0, -1.0) == -8


def test_chain_rule_node_table_is_not_the_five_input_formula(cr):
    # The comment in chain_rule.py: the node table computes (x1 + x2) (x3 x4)^3.
    for p in [(-7.0, 2.0, 2.0, -1.0), (1.5, -0.25, 0.75, 2.0)]:
        x1, x2, x3, x4 = p
        assert cr.advanced(*p) == pytest.approx((x1 + x2) * (x3 * x4) ** 3, rel=REL)
    assert cr.five_inputs(-7.0, 2.0, 2.0, -1.0, 1.0) != cr.advanced(-7.0, 2.0, 2.0, -1.0)


@pytest.mark.parametrize(
    "point", [(-7.0, 2.0, 2.0, -1.0, 3.0), (0.5, 1.25, -0.75, 2.0, -1.5), (1.0, 1.0, 1.0, 1.0, 1.0)]
)
def test_chain_rule_five_inputs_formula(cr, point):
    got = _as_tuple(srcad.grad(cr.five_inputs, wrt=(0, 1, 2, 3, 4))(*point))
    assert got == pytest.approx(cr.five_inputs_grad_closed_form(*point), rel=REL, abs=ABS)
    assert srcad.check_grad(cr.five_inputs, *point) < 1e-5


def test_chain_rule_five_inputs_closed_form_at_default_point(cr):
    # s = -5, p = -3: y = -90, grad = (18, 18, -45, 180, -60)
    point = cr.DEFAULT_POINT["five_inputs"]
    assert cr.five_inputs(*point) == -90
    assert cr.five_inputs_grad_closed_form(*point) == (18, 18, -45, 180, -60)


def test_chain_rule_main_prints_seed_numbers(cr, capsys):
    cr.main()
    out = capsys.readouterr().out
    assert "  srcad   : y = -30  dy/dx = (-5, -5, 6)" in out
    assert "  srcad   : y = 40  dy/dx = (-8, -8, 60, -120)" in out
    assert "DOES NOT MATCH" not in out
    assert out.count("matches the tutorial exactly") == 2
    assert "  srcad      : y = -90  dy/dx = (18, 18, -45, 180, -60)" in out


# ----------------------------------------------------------- expression graph

GRAPH_POINTS = [(1.5, -0.5), (0.3, 2.0), (-1.2, -0.7), (2.0, 3.0)]


@pytest.mark.parametrize("name", ["f", "f_nodes", "f_numpy"])
@pytest.mark.parametrize("point", GRAPH_POINTS)
def test_expression_graph_matches_symbolic_derivative(eg, name, point):
    fn = getattr(eg, name)
    assert float(fn(*point)) == pytest.approx(eg.f(*point), rel=REL)
    got = _as_tuple(srcad.grad(fn, wrt=("x", "y"))(*point))
    assert got == pytest.approx(eg.f_grad_symbolic(*point), rel=REL, abs=ABS)


@pytest.mark.parametrize("name", ["f", "f_nodes", "f_numpy"])
def test_expression_graph_central_differences(eg, name):
    for point in GRAPH_POINTS:
        assert srcad.check_grad(getattr(eg, name), *point) < 1e-5


def test_expression_graph_symbolic_is_right(eg):
    # independent check of the hand derivation, by central differences
    h = 1e-6
    for x, y in GRAPH_POINTS:
        num_dx = (eg.f(x + h, y) - eg.f(x - h, y)) / (2 * h)
        num_dy = (eg.f(x, y + h) - eg.f(x, y - h)) / (2 * h)
        assert eg.f_grad_symbolic(x, y) == pytest.approx((num_dx, num_dy), rel=1e-7, abs=1e-8)


def test_expression_graph_main(eg, capsys):
    eg.main()
    out = capsys.readouterr().out
    (sym,) = _rows(out, "symbolic (by hand)")
    assert sym == pytest.approx(eg.f_grad_symbolic(1.5, -0.5), rel=1e-15)
    for label in ("srcad grad(f) ", "srcad grad(f_nodes)", "srcad grad(f_numpy)"):
        (row,) = _rows(out, label)
        assert row == pytest.approx(sym, rel=REL, abs=ABS)
    errors = [line for line in out.splitlines() if line.startswith("check_grad(")]
    assert len(errors) == 3
    assert all(float(line.rsplit("=", 1)[1]) < 1e-5 for line in errors)


# --------------------------------------------------------------- tiny network


def test_tiny_network_seed_forward_numbers(tn):
    assert tn.POINT == (1.76, 0.4, 0.97, 2.24, 1.86, -0.97, 0.888, -0.49, 0.0, 0.0, 0.0)
    trace = tn.network_trace(*tn.POINT)
    for key, seed_value in tn.SEED_FORWARD.items():
        # the source rounds its hand calculation to 3 decimals (see tiny_network.py)
        assert trace[key] == pytest.approx(seed_value, abs=tn.SEED_TOLERANCE), key
    assert tn.network(*tn.POINT) == pytest.approx(0.741, abs=1e-3)
    assert tn.network(*tn.POINT) == trace["y"]


def test_tiny_network_weight_gradient(tn):
    g = srcad.grad(tn.network, wrt=(0, 1, 2, 3, 4, 5))
    got = _as_tuple(g(*tn.POINT))
    assert len(got) == 6
    assert got == pytest.approx(tn.network_grad_by_hand(*tn.POINT)[:6], rel=REL, abs=ABS)
    assert srcad.check_grad(tn.network, *tn.POINT, wrt=(0, 1, 2, 3, 4, 5)) < 1e-5


def test_tiny_network_wrt_names_and_biases(tn):
    hand = tn.network_grad_by_hand(*tn.POINT)
    by_name = _as_tuple(srcad.grad(tn.network, wrt=tn.WEIGHT_NAMES)(*tn.POINT))
    assert by_name == pytest.approx(hand[:6], rel=REL, abs=ABS)
    biases = _as_tuple(srcad.grad(tn.network, wrt=("b1", "b2", "b3"))(*tn.POINT))
    assert biases == pytest.approx(hand[6:], rel=REL, abs=ABS)


def test_tiny_network_gradient_at_other_point(tn):
    point = (-0.3, 0.8, 1.1, -0.4, 0.25, 1.5, -1.2, 0.6, 0.1, -0.2, 0.3)
    got = _as_tuple(srcad.grad(tn.network, wrt=tuple(range(11)))(*point))
    assert len(got) == 11
    hand = tn.network_grad_by_hand(*point)
    assert got[:6] == pytest.approx(hand[:6], rel=REL, abs=ABS)
    assert got[8:] == pytest.approx(hand[6:], rel=REL, abs=ABS)
    assert srcad.check_grad(tn.network, *point) < 1e-5


def test_tiny_network_main(tn, capsys):
    tn.main()
    out = capsys.readouterr().out
    assert "y = network(...) = 0.741583" in out
    hand = tn.network_grad_by_hand(*tn.POINT)[:6]
    for name, h in zip(tn.WEIGHT_NAMES, hand, strict=True):
        (row,) = _rows(out, f"dy/d{name}")
        srcad_value, hand_value = row
        assert hand_value == pytest.approx(h, rel=1e-15)
        assert srcad_value == pytest.approx(h, rel=REL, abs=ABS)
    (err,) = _rows(out, "check_grad(network, wrt=w1..w6): max error vs central differences =")
    assert err[0] < 1e-5


# ------------------------------------------------------------------ benchmark


def test_benchmark_smoke(capsys):
    bench = load_repo_module("benchmarks/scalar.py")
    assert bench.main(["--repeats", "2", "--target-ms", "1", "--no-optional"]) == 0
    out = capsys.readouterr().out
    for name in ("hand (f_grad_by_hand)", "srcad grad(f) ", "srcad grad(f_expr)"):
        (row,) = _rows(out, name)
        ns_per_call, calls = row[0], row[1]
        assert 0 < ns_per_call < 1e6 and calls >= 1
    assert "ratio srcad grad(f) / hand =" in out


# ---------------------------------------------------------- dask (larger than memory)


@pytest.fixture(scope="module")
def dl():
    pytest.importorskip("dask.array")  # (in the test extra: CI runs these)
    return load_repo_module("examples/dask_logistic.py")


def _logistic_grad_by_hand(w, b, X, y):
    """d/dw, d/db of mean(logaddexp(0, z) - y z), z = X w + b: the residual sigmoid(z) - y."""
    residual = 1.0 / (1.0 + np.exp(-(X @ w + b))) - y
    return X.T @ residual / len(y), float(np.mean(residual))


def test_dask_logistic_gradient_is_lazy_and_matches_closed_form(dl):
    import dask.array as da

    X, y = dl.make_data(rows=400, features=3, chunk_rows=100, seed=5)
    w, b = np.array([0.3, -0.2, 0.1]), 0.25
    value, (dw, db) = srcad.value_and_grad(dl.loss, wrt=("w", "b"))(w, b, X, y)
    assert all(isinstance(v, da.Array) for v in (value, dw, db))
    Xn, yn = X.compute(), y.compute()
    hand_w, hand_b = _logistic_grad_by_hand(w, b, Xn, yn)
    np.testing.assert_allclose(dw.compute(), hand_w, rtol=REL, atol=ABS)
    assert float(db.compute()) == pytest.approx(hand_b, rel=REL, abs=ABS)
    assert float(value.compute()) == pytest.approx(float(dl.loss(w, b, Xn, yn)), rel=REL)
    assert srcad.check_grad(dl.loss, w, b, Xn, yn, wrt=("w", "b")) < 1e-6


def _losses(output):
    """The losses of main()'s lines ``step   3  loss 0.483324``."""
    return [float(line.split()[-1]) for line in output.splitlines() if line.startswith("step")]


@pytest.mark.filterwarnings("error::DeprecationWarning")
def test_dask_logistic_main_trains_and_runs_on_a_cluster(dl, capsys):
    pytest.importorskip("distributed")
    argv = ["--rows", "20000", "--chunk-rows", "5000", "--steps", "6"]
    dl.main(argv)
    out = capsys.readouterr().out
    assert "20000 rows x 10 features" in out and "4 chunks" in out
    losses = _losses(out)
    assert len(losses) == 6 and losses[0] == pytest.approx(np.log(2), rel=1e-6)  # w = b = 0
    assert all(a > b for a, b in zip(losses, losses[1:]))  # gradient descent, small steps
    assert losses[-1] < 0.8 * losses[0]
    dl.main([*argv, "--cluster"])
    out = capsys.readouterr().out
    assert "dask.distributed local cluster" in out
    assert _losses(out) == pytest.approx(losses, rel=1e-9)  # the same data and steps
