"""Gradients of functions of dask arrays (srcad/duck.py).

A gradient called with chunked dask arrays must:

* return dask arrays (a float parameter's gradient a 0-d one), built without
  computing anything: the tests run srcad under a dask scheduler that raises;
* equal srcad's numpy gradient at the same point (REL = 1e-12: dask sums chunk by
  chunk, so the order of the terms differs) and central differences (CD_TOL, for
  eps = 1e-6 steps of O(1) inputs: error ~1e-9);
* allocate memory in proportion to a chunk, not to the array (tracemalloc).

dask is in the ``test`` extra, so CI runs these (importorskip only for local runs).
"""

import inspect
import tracemalloc

import numpy as np
import pytest
from conftest import central_differences, marker_line

import srcad
from srcad.duck import is_duck_array

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

pytestmark = [
    pytest.mark.filterwarnings("error::DeprecationWarning"),
    # (srcad calling a numpy function that dask lacks, which dask computes with numpy)
    pytest.mark.filterwarnings("error:.*is not implemented by Dask:FutureWarning"),
]

REL = 1e-12
CD_TOL = 1e-6


def _no_compute(*args, **kwargs):
    raise AssertionError("srcad computed a dask array while building the gradient")


def lazily():
    """A context in which computing any dask array fails."""
    return dask.config.set(scheduler=_no_compute)



FUNCTIONS = {
    "sum": lambda x: np.sum(x * x) * 0.5,
    "mean": lambda x: np.mean(np.log(1 + np.exp(-x))),
    "sum_axis": lambda x: np.sum(np.sum(x * x, axis=0) ** 2),
    "mean_keepdims": lambda x: np.sum(x / np.mean(x, axis=1, keepdims=True) * x),
    "broadcast": lambda x: np.sum((x - np.mean(x, axis=0)) ** 2),
    "max": lambda x: np.max(x) * np.sum(x),
    "max_axis": lambda x: np.sum(np.max(x, axis=0) ** 2),
    "where": lambda x: np.sum(np.where(x > 1, x * x, np.sqrt(x))),
    "clip": lambda x: np.sum(np.clip(x, 0.8, 1.2) * x),
    "matmul": lambda x: np.sum((x.T @ x) ** 2),
    "dot": lambda x: np.dot(x[:, 0], x[:, 1]),
    "norm": lambda x: np.linalg.norm(x),
    "var": lambda x: np.var(x),
    "methods": lambda x: (x * x).mean() + x.sum(axis=0).max(),
    "index": lambda x: np.sum(x[1:3] ** 2) + x[0, 0] * x[1, 1],
    "concatenate": lambda x: np.sum(np.concatenate([x, x * x], axis=1) ** 2),
    "stack": lambda x: np.sum(np.stack([x, np.exp(x)]) ** 2),
    "einsum": lambda x: np.einsum("ij,ij->", x, x * x),
    "softmax": lambda x: np.sum(np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True) * x),
    # (round 90: an adjoint written back through None, which dask's item assignment refuses)
    "new_axes": lambda x: np.sum(np.exp(-np.sum((x[:, None, :] - x[None, :, :]) ** 2, -1))),
    "transpose_axes": lambda x: np.sum(np.transpose(x, (1, 0))[0] * np.arange(6.0)),
    "ravel": lambda x: np.sum(x.ravel() ** 2 * np.arange(24.0)),
}


@pytest.fixture(scope="module")
def point():
    return np.random.default_rng(0).uniform(0.5, 1.5, size=(6, 4))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_dask_gradient_is_lazy_and_equals_numpy_and_central_differences(name, point):
    f = FUNCTIONS[name]
    x = da.from_array(point, chunks=(3, 2))
    with lazily():
        g = srcad.grad(f)(x)
        value, g2 = srcad.value_and_grad(f)(x)
    assert isinstance(g, da.Array) and isinstance(g2, da.Array)
    assert isinstance(value, da.Array) and value.shape == ()
    assert g.shape == point.shape and g.chunks == x.chunks
    expected = srcad.grad(f)(point)
    np.testing.assert_allclose(g.compute(), expected, rtol=REL, atol=1e-15)
    np.testing.assert_allclose(g2.compute(), expected, rtol=REL, atol=1e-15)
    np.testing.assert_allclose(g.compute(), central_differences(f, point), rtol=CD_TOL, atol=CD_TOL)
    assert float(value.compute()) == pytest.approx(float(f(point)), rel=REL)


def linear_loss(w, b, X, y):
    r = X @ w + b - y
    return np.mean(r * r)


def test_several_gradients_all_lazy_a_float_bias_too():
    rng = np.random.default_rng(1)
    Xn, yn, wn = rng.normal(size=(40, 3)), rng.normal(size=40), rng.normal(size=3)
    X, y = da.from_array(Xn, chunks=(10, 3)), da.from_array(yn, chunks=10)
    w = da.from_array(wn, chunks=3)
    with lazily():
        (value, (dw, db)) = srcad.value_and_grad(linear_loss, wrt=("w", "b"))(w, 0.5, X, y)
        dw_only = srcad.grad(linear_loss)(wn, 0.5, X, y)  # a numpy w: still lazy
    assert isinstance(dw, da.Array) and isinstance(db, da.Array) and db.shape == ()
    assert isinstance(dw_only, da.Array) and isinstance(value, da.Array)
    ew, eb = srcad.grad(linear_loss, wrt=("w", "b"))(wn, 0.5, Xn, yn)
    np.testing.assert_allclose(dw.compute(), ew, rtol=REL)
    np.testing.assert_allclose(dw_only.compute(), ew, rtol=REL)
    assert float(db.compute()) == pytest.approx(eb, rel=REL)
    r = Xn @ wn + 0.5 - yn  # closed form: d/db mean(r^2) = 2 mean(r)
    assert float(db.compute()) == pytest.approx(2 * np.mean(r), rel=1e-12)


def test_unused_dask_parameter_gets_lazy_zeros():
    x = da.ones((4, 2), chunks=2)
    with lazily():
        dx, dy = srcad.grad(lambda x, y: np.sum(x * 3.0), wrt=(0, 1))(x, x)
    assert isinstance(dy, da.Array) and dy.chunks == x.chunks
    assert np.all(dx.compute() == 3.0) and np.all(dy.compute() == 0.0)


def test_zero_dim_dask_result_is_a_scalar_and_other_shapes_are_refused():
    x = da.from_array(np.arange(1.0, 7.0), chunks=3)
    g = srcad.grad(lambda x: x @ x)(x)  # np.dot of dask arrays: a 0-d dask array
    np.testing.assert_allclose(g.compute(), 2 * np.arange(1.0, 7.0), rtol=REL)
    with pytest.raises(srcad.NonScalarOutputError, match=r"an array of shape \(6,\)"):
        srcad.grad(lambda x: x * x + 0.0)(x)


def test_forward_mode_broadcast_tangent_stays_lazy():
    c = np.ones((3, 4))
    x, t = da.ones((3, 1), chunks=2), da.ones((3, 1), chunks=2)
    with lazily():
        value, tangent = srcad.jvp(lambda x: np.sum((x + c) ** 2), (x,), (t,))
    assert isinstance(tangent, da.Array)
    assert float(tangent.compute()) == pytest.approx(4 * 3 * 2 * 2.0, rel=REL)


def test_memory_is_proportional_to_a_chunk():
    """Building the gradient of a 16 MB lazy input allocates no chunk's data (0.8 MB a
    chunk); computing its sum stays within a few chunks (about as many as the
    hand-written gradient in dask). Before srcad/duck.py, np.full made the whole
    16 MB gradient at once."""
    n, chunk = 2_000_000, 100_000
    x = da.random.default_rng(2).random(n, chunks=chunk)

    def loss(x):
        return np.mean(np.log(1 + np.exp(-x)) * x)

    x.sum().compute(scheduler="synchronous")  # (dask's first compute allocates more)
    tracemalloc.start()
    try:
        with lazily():
            g = srcad.grad(loss)(x)
        built = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        total = float(g.sum().compute(scheduler="synchronous"))
        computed = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # (building makes Python objects per chunk, ~0.5 MB in all here; no chunk's data)
    assert built < 2.5 * chunk * 8, built
    assert computed < 10 * chunk * 8, computed  # (the whole array is 20 chunks; ~7.5 here)
    xs = x.compute()
    s = np.exp(-xs)
    expected = np.sum((np.log1p(s) - xs * s / (1 + s)) / n)  # d/dx log(1+e^-x) x, by hand
    assert total == pytest.approx(expected, rel=1e-10)


def test_is_duck_array():
    assert is_duck_array(da.ones(2))
    assert not any(map(is_duck_array, (np.ones(2), np.float64(1.0), 1.0, [1.0])))
    assert not is_duck_array(np.ma.masked_array([1.0]))  # a numpy subclass


def write_after_use(x):
    y = x * x
    z = y * y  # (its backprop reads y before the write below)
    y[0] = 0.0
    return np.sum(z) + np.sum(y)


def write_into_slice(x):
    y = x[:2]  # a view for numpy (the write changes x), a new array for dask
    y[0] = 0.0
    return np.sum(x * x) + np.sum(y)


def test_in_place_writes_follow_each_librarys_semantics():
    xn = np.arange(1.0, 5.0)
    x = da.from_array(xn.copy(), chunks=2)
    with lazily():  # dask's x[i] = v changes the Array object: srcad snapshots it
        g = srcad.grad(write_after_use)(x)
    np.testing.assert_allclose(g.compute(), [4.0, 36.0, 114.0, 264.0], rtol=REL)
    np.testing.assert_allclose(g.compute(), srcad.grad(write_after_use)(xn.copy()), rtol=REL)
    # numpy: x[0] is 0 after the write (gradient 0 there); dask: x keeps x[0] (2 x[0])
    np.testing.assert_allclose(srcad.grad(write_into_slice)(xn.copy()), [0, 5, 6, 8])
    x = da.from_array(xn.copy(), chunks=2)
    np.testing.assert_allclose(srcad.grad(write_into_slice)(x).compute(), [2, 5, 6, 8])


def masked_sum(x):
    return np.sum(x[x > 1.0] ** 2)


def test_a_mask_selection_of_unknown_size_is_refused_at_the_users_line():
    x = da.from_array(np.arange(0.0, 4.0), chunks=2)
    with pytest.raises(srcad.UnsupportedSyntaxError, match="size is unknown") as info:
        srcad.grad(masked_sum)(x)
    line = inspect.getsourcelines(masked_sum)[1] + 1  # the return line
    assert f"test_dask.py:{line}:" in str(info.value) and "np.where" in str(info.value)


def test_check_grad_refuses_dask_arrays_clearly():
    x = da.ones(3, chunks=2)
    with pytest.raises(srcad.SrcadError, match="check_grad needs numpy arrays, but `x` is a dask"):
        srcad.check_grad(masked_sum, x)


def embedding_loss(E):
    tokens = np.array([1, 1, 3, 0, 1])  # token 1 three times: its row gets three adjoints
    return np.sum(E[tokens] ** 2)


def column_lookup(M):
    rows = np.array([0, 2, 0, 1])  # row 0 twice, with a column number
    return np.sum(M[rows, 1] ** 3) + np.sum(M[rows, :1] * M[rows, 2:])


def repeated_write(x, v):
    y = x * 1.0
    y[[1, 3, 1]] = v  # position 1 written twice: numpy and dask keep the last value
    return np.sum(y ** 2)


@pytest.mark.parametrize("f, shapes", [
    (embedding_loss, [(4, 2)]), (column_lookup, [(3, 3)]), (repeated_write, [(5,), (3,)]),
])
def test_repeated_positions_add_or_keep_the_last_as_with_numpy(f, shapes):
    """Repeated integer indices (an embedding lookup, pairs, a fancy write): dask's item
    assignment keeps only the last of repeated positions, so the gradient adds them in
    rounds (round 90: each repeated row counted once, and the overwritten value of a
    write given gradient, silently)."""
    rng = np.random.default_rng(3)
    points = [rng.uniform(0.5, 1.5, size=s) for s in shapes]
    lazy = [da.from_array(p, chunks=2) for p in points]
    wrt = tuple(range(len(points)))
    with lazily():
        got = srcad.grad(f, argnums=wrt)(*lazy)
    want = srcad.grad(f, argnums=wrt)(*points)
    for g, w, k in zip(got, want, wrt):
        assert isinstance(g, da.Array)
        np.testing.assert_allclose(g.compute(), w, rtol=REL)
        cd = central_differences(lambda v, k=k: f(*points[:k], v, *points[k + 1:]), points[k])
        np.testing.assert_allclose(g.compute(), cd, rtol=CD_TOL, atol=CD_TOL)


def taken(x):
    return np.sum(np.take(x, [0, 2, 2]) ** 2)  # <take>


def repeated(x):
    return np.sum(np.repeat(x, 2) ** 2)  # <repeat>


@pytest.mark.parametrize("f, tag", [(taken, "take"), (repeated, "repeat")])
def test_an_adjoint_that_needs_numpy_is_refused_at_the_users_line(f, tag):
    """A helper of srcad's that works on numpy arrays only, given dask's (round 90: a
    TypeError or AttributeError from inside srcad): refused at the line it is for."""
    x = da.from_array(np.arange(1.0, 5.0), chunks=2)
    with pytest.raises(srcad.SrcadError, match="does not work on dask arrays") as caught:
        srcad.grad(f)(x)
    assert caught.value.lineno == marker_line(__file__, tag)
    np.testing.assert_allclose(srcad.grad(f)(np.arange(1.0, 5.0)),
                               central_differences(f, np.arange(1.0, 5.0)), rtol=CD_TOL)


def looked_up_by_lazy_ids(E, ids):
    return np.sum(E[ids] ** 2)  # <lazy ids>


def test_an_index_of_dask_ids_is_refused_at_the_users_line():
    """Round 91: with the ids a dask array too, their repeats were counted once (the
    positions they repeat are known only when computed)."""
    E = da.from_array(np.arange(8.0).reshape(4, 2), chunks=2)
    ids = da.from_array(np.array([1, 3, 1]), chunks=2)
    with pytest.raises(srcad.SrcadError, match="must see which positions it repeats") as info:
        srcad.grad(looked_up_by_lazy_ids)(E, ids)
    assert info.value.lineno == marker_line(__file__, "lazy ids")
