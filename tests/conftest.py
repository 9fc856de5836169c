"""Shared helpers for the srcad test suite.

The helpers are plain functions so test modules can import them directly
(``from conftest import assert_grad_close``); pytest puts this directory on
``sys.path`` (rootdir-less ``tests/`` without ``__init__.py``, default
"prepend" import mode).  They are also exposed as fixtures of the same name.

Tolerances
----------
``numeric_grad`` uses central differences with a step ``h = eps * max(1, |x|)``
(eps = 1e-6 by default).  Its error has two parts:

* truncation: ``h**2 / 6 * |f'''(x)|``  ~ 1e-12 * |f'''|  (for eps = 1e-6),
* roundoff:   ``u * |f(x)| / h``         ~ 1e-16 * |f| / 1e-6 = 1e-10 * |f|
  (u ~ 1.1e-16 is the double-precision unit roundoff).

For the functions and points used in these tests |f| and |f'''| are at most a
few hundred, so the absolute error of the reference is below ~1e-8 and in
practice ~1e-10.  ``assert_grad_close`` therefore defaults to rtol = 1e-6 and
atol = 1e-8: roughly two orders of magnitude above the reference's own error,
yet far below any error a wrong derivative rule would produce (a wrong rule is
off by O(1) relative error, e.g. a missing factor or a sign).
"""

from __future__ import annotations

import inspect
import math
from pathlib import Path

import numpy as np
import pytest

import srcad
import srcad.records  # noqa: F401  (objects holding parameters, in check_four_ways)
import srcad.trees  # noqa: F401

DEFAULT_EPS = 1e-6
DEFAULT_RTOL = 1e-6
DEFAULT_ATOL = 1e-8


def numeric_grad(f, args, wrt_indices, eps=DEFAULT_EPS):
    """Central-difference gradient of the scalar function ``f`` at ``args``.

    Returns a tuple with one float per index in ``wrt_indices``.  The step is
    relative to the magnitude of the argument (``eps * max(1, |x|)``) and the
    divisor is the step actually representable in floating point, which removes
    the representation error of ``x + h``.
    """
    args = list(args)
    out = []
    for i in wrt_indices:
        x = float(args[i])
        h = eps * max(1.0, abs(x))
        xp, xm = x + h, x - h
        plus = list(args)
        minus = list(args)
        plus[i] = xp
        minus[i] = xm
        out.append((float(f(*plus)) - float(f(*minus))) / (xp - xm))
    return tuple(out)


def central_differences(f, x, eps=DEFAULT_EPS):
    """d f / d x of the scalar ``f`` at the numpy array ``x`` by central differences,
    entry by entry, with steps relative to each entry."""
    out = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps * max(1.0, abs(x[i]))
        down[i] -= eps * max(1.0, abs(x[i]))
        out[i] = (float(f(up)) - float(f(down))) / (up[i] - down[i])
    return out


def positional_params(f):
    """Names of the positional parameters of ``f`` (srcad's default ``wrt`` before 0.2;
    now the first one)."""
    return [
        p.name
        for p in inspect.signature(f).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]


def wrt_to_indices(f, wrt):
    names = positional_params(f)
    if wrt is None:
        return list(range(len(names)))
    return [names.index(w) if isinstance(w, str) else int(w) for w in wrt]


def as_tuple(grads, n):
    """Normalise srcad's result (bare value when n == 1, tuple otherwise)."""
    if n == 1 and not isinstance(grads, (tuple, list)):
        return (grads,)
    return tuple(grads)


def assert_grad_close(f, *args, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL, wrt=None, eps=DEFAULT_EPS):
    """Compare ``srcad.grad(f, wrt=wrt)(*args)`` with central differences; ``wrt=None``
    checks every positional parameter (not srcad's default, the first one).

    Returns srcad's gradient as a tuple (one entry per wrt parameter).
    """
    if wrt is None:
        wrt = tuple(positional_params(f))
    g = srcad.grad(f, wrt=wrt)
    idx = wrt_to_indices(f, wrt)
    got = as_tuple(g(*args), len(idx))
    want = numeric_grad(f, args, idx, eps=eps)
    assert len(got) == len(want), f"srcad returned {len(got)} gradients, expected {len(want)}"
    names = positional_params(f)
    for i, gi, wi in zip(idx, got, want, strict=True):
        gi = float(gi)
        assert math.isfinite(gi), f"d/d{names[i]} is not finite: {gi!r}"
        assert abs(gi - wi) <= atol + rtol * abs(wi), (
            f"{f.__name__}{tuple(args)}: d/d{names[i]}: srcad {gi!r} vs central difference "
            f"{wi!r} (abs err {abs(gi - wi):.3e})"
        )
    return got


def assert_located(error, path, tag):
    """``error`` is a SrcadError located at the line of ``path`` marked ``# <tag>``."""
    assert isinstance(error, srcad.SrcadError), f"{type(error).__name__}: {error}"
    assert Path(error.filename).resolve() == Path(path).resolve(), error.filename
    assert error.lineno == marker_line(path, tag), f"line {error.lineno} for {tag!r}: {error}"
    assert str(error).startswith(f"{error.filename}:{error.lineno}:"), str(error)


def marker_line(path, tag):
    """1-based number of the unique line of ``path`` that ends with ``# <tag>``.

    Tests mark the offending construct with a trailing comment such as
    ``try:  # <try>`` and look it up with ``marker_line(__file__, "try")``; the
    lookup call itself never contains the ``# <tag>`` text, so it cannot match.
    """
    suffix = f"# <{tag}>"
    lines = Path(path).read_text().splitlines()
    hits = [i + 1 for i, line in enumerate(lines) if line.rstrip().endswith(suffix)]
    assert len(hits) == 1, f"marker {suffix!r} found {len(hits)} times in {path}"
    return hits[0]


@pytest.fixture(name="numeric_grad")
def _numeric_grad_fixture():
    return numeric_grad


@pytest.fixture(name="assert_grad_close")
def _assert_grad_close_fixture():
    return assert_grad_close


@pytest.fixture(name="reverse_mode_for_floats")
def _reverse_mode_for_floats(monkeypatch):
    """srcad's float version in reverse mode for every function (by default a loop of one
    or two float parameters is differentiated in forward mode: srcad.forward_gradient),
    for the tests of what reverse mode saves; built gradients are forgotten before and
    after, so that no other test sees one made here."""
    import srcad.building
    import srcad.forward_gradient

    srcad.building._cache.clear()
    monkeypatch.setattr(srcad.forward_gradient, "MOST_PARAMETERS", 0)
    yield
    srcad.building._cache.clear()


@pytest.fixture(name="forward_mode_for_floats")
def _forward_mode_for_floats(monkeypatch):
    """srcad's float version in forward mode for every loop of up to four float
    parameters, whatever the cost model says (what the forward mode's local partials,
    srcad.local_jacobians, compute where they are chosen); built gradients are forgotten
    before and after."""
    import srcad.building
    import srcad.forward_gradient

    srcad.building._cache.clear()
    monkeypatch.setattr(srcad.forward_gradient, "MOST_PARAMETERS", 4)
    monkeypatch.setattr(srcad.forward_gradient, "_cheaper_than_reverse", lambda *_: True)
    yield
    srcad.building._cache.clear()


REPO = Path(__file__).resolve().parents[1]


def module_from_source(folder: Path, name: str, source: str):
    """``source`` written to ``folder/<name>.py`` and imported as module ``name`` (in
    ``sys.modules``: srcad reads its functions' source as a user's)."""
    import importlib.util
    import sys

    path = folder / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_repo_module(relpath: str):
    """Import a file of the repository (an example, a benchmark) by path, registered in
    ``sys.modules`` so that ``inspect.getsource`` works on its functions as for users."""
    import importlib.util
    import sys

    path = Path(relpath)
    modname = f"srcad_{path.parent.name}_{path.stem}"
    if modname in sys.modules:
        return sys.modules[modname]
    spec = importlib.util.spec_from_file_location(modname, REPO / relpath)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[modname]
        raise
    return module


# ---------------------------------------------------------------- four-way check


def _fresh(value):
    """A deep copy of an argument (arrays, lists, tuples, dicts of them), so that a
    function that writes into its arguments sees the same inputs on every call."""
    import copy

    return copy.deepcopy(value)


def _holds_parameters(value):
    """An object, a dict, or a list or tuple of objects: compared and perturbed leaf by
    leaf (a list of floats or of rows is read as an array)."""
    return (
        srcad.records.is_record(value)
        or isinstance(value, dict)
        or isinstance(value, list | tuple) and any(srcad.records.is_record(v) for v in value)
    )


def _central_of(f, args, index, eps):
    """Central differences of scalar ``f`` with respect to ``args[index]`` (a float or
    an array), every call on fresh copies of all arguments."""
    import numpy as np

    def value_at(new):
        call = [_fresh(a) for a in args]
        call[index] = _fresh(new)
        return float(f(*call))

    value = args[index]
    if _holds_parameters(value):  # (an object, a dict or a list of objects: leaf by leaf)
        from srcad import trees

        parts = trees.leaves(value)

        def with_leaf(k):
            def changed(*call):
                call = list(call)
                new = list(trees.leaves(call[index]))
                new[k] = call[len(args)]
                call[index] = trees.rebuild(call[index], new)
                return f(*call[: len(args)])

            return changed

        return trees.rebuild(value, [
            _central_of(with_leaf(k), [*args, part], len(args), eps)
            for k, part in enumerate(parts)
        ])
    if isinstance(value, list | tuple):  # a list of floats (or of rows): as an array
        kind = type(value)
        rows = [type(row) if isinstance(row, list | tuple) else None for row in value]

        def with_list(*call):
            call = list(call)
            call[index] = kind(
                float(v) if row is None else row(float(item) for item in v)
                for v, row in zip(call[index], rows)
            )
            return f(*call)

        return _central_of(with_list, [*args[:index], np.array(value, dtype=float),
                                       *args[index + 1:]], index, eps)
    if isinstance(value, np.ndarray):
        base = value.astype(np.float64)
        out = np.zeros(base.shape)
        for k in np.ndindex(base.shape):
            h = eps * max(1.0, abs(base[k]))
            plus, minus = base.copy(), base.copy()
            plus[k] += h
            minus[k] -= h
            out[k] = (value_at(plus) - value_at(minus)) / (plus[k] - minus[k])
        return out
    x = float(value)
    h = eps * max(1.0, abs(x))
    return (value_at(x + h) - value_at(x - h)) / ((x + h) - (x - h))


def check_four_ways(f, *args, wrt=None, rtol=1e-6, atol=1e-8, eps=1e-6, forward=True, seed=0):
    """Check srcad on ``f`` at ``args`` the four ways every gradient is checked:

    1. reverse mode against central differences (``rtol``/``atol``, see the module
       docstring for the reference's own error);
    2. ``optimize=True`` against ``optimize=False`` (to 1e-12 relative);
    3. forward mode against reverse mode: ``jvp`` along a random direction equals the
       gradient's inner product with it (to 1e-9 relative; skipped with ``forward=False``);
    4. ``value_and_grad``'s value equals ``f(*args)`` exactly, and the gradient leaves
       the arguments as they were (a function that writes into its arguments writes
       into copies: a derivative is a function of the point); the arrays it returns
       share no memory.

    Returns srcad's gradient as a tuple (one entry per ``wrt`` parameter).
    """
    import numpy as np

    names = positional_params(f)
    if wrt is None:
        wrt = tuple(
            n for n, a in zip(names, args) if not isinstance(a, int | bool | np.integer)
        )
    wrt = (wrt,) if isinstance(wrt, int | str) else tuple(wrt)
    indices = [names.index(w) if isinstance(w, str) else w for w in wrt]

    def as_tuple_of(result):
        return (result,) if len(indices) == 1 else tuple(result)

    value = f(*[_fresh(a) for a in args])
    before = [_fresh(a) for a in args]
    call = [_fresh(a) for a in args]
    got_value, got = srcad.value_and_grad(f, wrt=wrt)(*call)
    assert got_value == value or (got_value != got_value and value != value), (
        f"value_and_grad's value {got_value!r} differs from f's {value!r}"
    )
    for a, b in zip(call, before):
        pairs = [(a, b)]
        if _holds_parameters(a):  # (compare what it holds)
            pairs = list(zip(srcad.trees.leaves(a), srcad.trees.leaves(b)))
        for a, b in pairs:
            np.testing.assert_array_equal(
                np.asarray(a, dtype=object), np.asarray(b, dtype=object),
                err_msg="the gradient changed an argument (it computes at the caller's "
                "point and leaves the arguments as they were, as JAX's does)",
            )
    got = as_tuple_of(got)
    plain = as_tuple_of(srcad.grad(f, wrt=wrt, optimize=False)(*[_fresh(a) for a in args]))
    fast = as_tuple_of(srcad.grad(f, wrt=wrt)(*[_fresh(a) for a in args]))
    for results in (got, plain, fast):  # (each its own memory: a caller may change one
        arrays = [a for r in results for a in srcad.trees.leaves(r)  # in place)
                  if isinstance(a, np.ndarray)]
        for k, a in enumerate(arrays):
            assert not any(np.shares_memory(a, b) for b in arrays[k + 1:]), (
                "two gradients returned share memory"
            )
    for name, i, mine, lit, opt in zip(wrt, indices, got, plain, fast):
        want = _central_of(f, args, i, eps)
        if _holds_parameters(args[i]):  # (its class, then its numbers)
            assert type(mine) is type(args[i]), f"d/d{name} is a {type(mine).__name__}"
            mine, lit, opt, want = (srcad.trees.flat(v) for v in (mine, lit, opt, want))
        mine = np.asarray(mine, dtype=float)
        assert np.all(np.isfinite(mine)), f"d/d{name} is not finite: {mine}"
        np.testing.assert_allclose(mine, want, rtol=rtol, atol=atol,
                                   err_msg=f"d/d{name} vs central differences")
        np.testing.assert_allclose(np.asarray(lit, dtype=float), mine, rtol=1e-12, atol=1e-12,
                                   err_msg=f"d/d{name}: optimize=False vs value_and_grad")
        np.testing.assert_allclose(np.asarray(opt, dtype=float), mine, rtol=1e-12, atol=1e-12,
                                   err_msg=f"d/d{name}: grad vs value_and_grad")
    if forward:
        rng = np.random.default_rng(seed)
        tangents = []
        for k, a in enumerate(args):
            if srcad.records.is_record(a) or (k in indices and _holds_parameters(a)):  # (a
                # tangent of the object's own class, a dict of the same keys, ...)
                tangents.append(srcad.trees.map_leaves(
                    lambda leaf, k=k: (rng.standard_normal(np.shape(leaf)) if np.ndim(leaf)
                                       else float(rng.standard_normal())) if k in indices
                    else srcad.trees.zero_tangent(leaf), a))
            elif k in indices and isinstance(a, list | tuple) and any(
                isinstance(row, list | tuple) for row in a
            ):  # (rows: a tangent of the same structure)
                tangents.append(srcad.trees.map_leaves(
                    lambda leaf: float(rng.standard_normal()), a))
            elif k in indices:
                tangents.append(rng.standard_normal(np.shape(a)) if np.ndim(a) else
                                float(rng.standard_normal()))
            elif isinstance(a, dict | list | tuple):  # (zeros of the same structure)
                tangents.append(srcad.trees.map_leaves(srcad.trees.zero_tangent, a))
            else:
                tangents.append(np.zeros(np.shape(a)) if np.ndim(a) else 0.0)
        jvp_value, tangent = srcad.jvp(f)(tuple(_fresh(a) for a in args), tuple(tangents))
        assert jvp_value == value or (jvp_value != jvp_value and value != value), (
            f"jvp's value {jvp_value!r} differs from f's {value!r}"
        )
        expected = sum(float(np.sum(srcad.trees.flat(g) * srcad.trees.flat(tangents[i])))
                       for g, i in zip(got, indices))
        assert abs(float(tangent) - expected) <= 1e-9 * (1.0 + abs(expected)), (
            f"forward mode {float(tangent)!r} vs reverse mode {expected!r}"
        )
    return got


def pytest_collection_modifyitems(session, config, items):
    """Run the tests that start the global IPython shell last: once it runs, srcad works
    in notebook mode for the rest of the process, and the random programs after it took
    four times as long (about 90 s instead of 20 s a batch)."""
    uses_ipython = [item for item in items if "shell" in getattr(item, "fixturenames", ())]
    items[:] = [item for item in items if item not in uses_ipython] + uses_ipython
