"""How far the version for Python floats reaches: scalar code gets it whatever numbers
its helpers and numpy's functions give, and its gradient is the array version's.

Each gradient is checked the four ways (``check_four_ways`` in conftest, rtol 1e-6), and
the version chosen is read from ``backward_source``.
"""
from __future__ import annotations

import collections
import dataclasses
import importlib.util
import inspect
import math

import helpers_float_version
import numpy as np
import pytest
from conftest import check_four_ways, marker_line
from helpers_float_version import gauss_loglik, log_residuals, over_items, weighted_by_counter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import srcad

FLOAT_VERSION = "# this version is for Python floats"


def test_a_global_a_helper_reads_is_read_from_its_module_when_the_gradient_runs():
    """The helper's module global (``BIOAVAILABILITY``) is a number of that module: the
    function gets the float version (it had none), and the gradient reads the global
    where it lives, as the helper does (a new value is seen, not the one srcad saw)."""
    times = [0.5, 1.0, 2.0, 4.0, 8.0, 12.0]
    concs = [3.1, 4.9, 5.6, 4.8, 2.9, 1.7]
    source = srcad.grad(log_residuals, wrt=(0, 1, 2)).backward_source
    assert FLOAT_VERSION in source, source
    assert "helpers_float_version.BIOAVAILABILITY" in source, source
    check_four_ways(log_residuals, 0.3, -1.9, 3.5, times, concs, wrt=(0, 1, 2))
    g = srcad.value_and_grad(log_residuals, wrt=(0, 1, 2))
    before = g(0.3, -1.9, 3.5, times, concs)
    helpers_float_version.BIOAVAILABILITY = 0.5
    try:
        after = g(0.3, -1.9, 3.5, times, concs)
        assert after[0] == log_residuals(0.3, -1.9, 3.5, times, concs) != before[0]
    finally:
        helpers_float_version.BIOAVAILABILITY = 0.85


def test_a_helpers_global_is_not_a_local_of_the_same_name():
    """``sigma`` the caller's parameter, ``k`` its loop variable or srcad's loop counter:
    the helper's global of that name is another value (it was read as the local)."""
    x = np.array([0.5, 2.0])
    value, dmu = srcad.value_and_grad(gauss_loglik, wrt="mu")(x, 1.0, 2.0)
    assert value == gauss_loglik(x, 1.0, 2.0) == -0.625
    assert dmu == pytest.approx(0.5, rel=1e-14)
    assert srcad.value_and_grad(weighted_by_counter)(1.5) == (9.0, 6.0)
    assert srcad.value_and_grad(over_items)(1.5, [1.0, 2.0]) == (9.0, 6.0)


def orbit(v, mu, t_final):
    dt = t_final / 50
    x, y, vx, vy = 1.0, 0.0, 0.0, v
    for _ in range(50):
        r = np.hypot(x, y)
        vx -= dt * mu * x / r**3
        vy -= dt * mu * y / r**3
        x += dt * vx
        y += dt * vy
    return np.arctan2(y, x) + 0.5 * np.hypot(x, y) + np.logaddexp(x, y)


def test_numpy_functions_of_floats_keep_the_float_version():
    """``np.hypot(x, y)`` carries the option ``dtype=None``: an option left out is no
    array, so the function is scalar code (its gradient cost 8.8 times the function)."""
    assert FLOAT_VERSION in srcad.grad(orbit, wrt=(0, 1, 2)).backward_source
    floats = check_four_ways(orbit, 1.1, 1.0, 3.0)
    arrays = srcad.grad(orbit, wrt=(0, 1, 2))(np.array(1.1), np.array(1.0), np.array(3.0))
    assert np.allclose(floats, arrays, rtol=1e-12)


# --- a 1-D float array read item by item: read as the list of its items --------------
def gps_speed_penalty(vmax, ts, pos):
    """numpy's float64 items divide by zero as the array's do (``inf``, not an error)."""
    penalty = 0.0
    for k in range(1, len(ts)):
        speed = abs(pos[k] - pos[k - 1]) / (ts[k] - ts[k - 1])
        penalty += min(speed, vmax)
    return penalty


def slices_and_items(w, x):
    """``x[1:]`` is an array (a view), ``x[idx]`` an array of items: no list's."""
    s = 0.0
    for v in x:
        s += w * v
    if np.any(x[1:] == x[:-1]) or np.max(x[1:] + x[:-1]) > 5.0:
        s = 0.5 * s
    return s + max(x[[0, 2]])


def smooth_into(a, x, out):
    """Writes into the caller's ``out``: the gradient writes into a copy."""
    prev = 0.0
    for i in range(len(x)):
        prev = a * x[i] + (1 - a) * prev
        out[i] = prev
    s = 0.0
    for v in x:
        s += v * a
    return s


def copy_then_sum(a, x, buf):
    """``buf`` may be ``x`` itself: the write would show through ``x``'s items."""
    buf[0] = a  # <write-into-buf>
    s = 0.0
    for v in x:
        s += v * a
    return s


def test_an_arrays_items_are_numpys_numbers():
    ts = np.array([0.0, 1.0, 1.0, 2.0])  # (a duplicated time stamp: a speed of inf)
    pos = np.array([0.0, 2.0, 3.0, 4.5])
    g = srcad.value_and_grad(gps_speed_penalty, wrt=(0, 1, 2))
    assert "ts_floats = as_floats(ts)" in srcad.grad(gps_speed_penalty).backward_source
    with np.errstate(divide="ignore"):
        value, (dvmax, dts, dpos) = g(3.0, ts, pos)
        assert value == gps_speed_penalty(3.0, ts, pos) == 2.0 + 3.0 + 1.5
    # (through the infinite speed: 0 * inf, nan, as in the array version and JAX)
    assert dvmax == 1.0 and type(dts) is np.ndarray
    assert np.array_equal(dpos, [-1.0, np.nan, np.nan, 1.0], equal_nan=True)
    assert np.array_equal(dts, [2.0, np.nan, np.nan, -1.5], equal_nan=True)


def test_slices_and_arrays_of_indices_keep_the_array():
    x = np.array([1.0, 2.0, 2.5, 3.0])
    assert "as_floats(x)" not in srcad.grad(slices_and_items, wrt=(0, 1)).backward_source
    dw, dx = check_four_ways(slices_and_items, 0.5, x.copy(), wrt=(0, 1))
    assert dw == pytest.approx(4.25, rel=1e-14)
    assert np.allclose(dx, [0.25, 0.25, 1.25, 0.25], rtol=1e-14)


def test_parameters_written_in_place_are_copies_in_the_float_version():
    x = np.array([1.0, 2.0, 3.0])
    source = srcad.grad(smooth_into).backward_source
    assert FLOAT_VERSION in source and "out, = fresh_arguments((out,), (a, x))" in source, source
    check_four_ways(smooth_into, 0.4, x.copy(), np.zeros(3), wrt=0)  # (which checks
    check_four_ways(smooth_into, 0.4, list(x), np.zeros(3), wrt=0)  # the arguments)


def test_an_array_passed_twice_and_written_through_one_name_is_refused_at_the_write():
    """srcad differentiates ``x`` and ``buf`` as separate arrays: the gradient of
    ``f(a, b, b)`` was silently the one of separate arrays (d/da 3.5 where 4.0 is
    right), and the caller's array changed. Separate arrays are differentiated."""
    b = np.array([3.0, 1.0, 2.0])
    source = srcad.grad(copy_then_sum).backward_source
    assert "as_floats(x)" not in source, source
    same = b.copy()
    with pytest.raises(srcad.SrcadError, match="passes that array") as caught:
        srcad.value_and_grad(copy_then_sum)(0.5, same, same)
    assert caught.value.lineno == marker_line(__file__, "write-into-buf")
    assert np.array_equal(same, b)  # (the caller's array is left as it was)
    check_four_ways(copy_then_sum, 0.5, b.copy(), b.copy(), wrt=(0, 1))


# --- random programs of this class: arrays read item by item, beside array code --------
#: Statements over ``x`` (a 1-D float array parameter) and ``buf`` (another parameter,
#: sometimes the same array): reads item by item, which a list of the items reads the
#: same, and the reads and writes where an array is no list (slices, arrays of indices,
#: numpy's methods and comparisons, division by zero, writes).
ITEM_BY_ITEM = (
    "for v in x:\n    s += w * v",
    "for k in range(len(x)):\n    s += x[k] * w * k",
    "for k in range(1, len(x)):\n    s += w * (x[k] - x[k - 1]) ** 2",
    "s += w * max(x) + min(x) * w * w",
    "s += w * sum(x)",
    "s += w * x[-1] * x[0]",
    "s = s + w * sorted(x)[1]",
    "for k, v in enumerate(x):\n    s += w * k * v",
    "n = len(x)\nfor k in range(n // 2):\n    s += w * x[n - 1 - k] * x[k]",
    "s += w * sorted(x, key=lambda v: (v - 1.0) ** 2)[0]",
)
AS_AN_ARRAY = (
    "s += w * np.sum(x[1:] * x[:-1])",
    "if np.any(x[1:] == x[:-1]):\n    s = 0.5 * s",
    "if np.max(x[1:] + x[:-1]) > 5.0:\n    s = 0.5 * s",
    "s += w * max(x[[0, 2]])",
    "s += w * x.mean()",
    "for a, b in zip(x, x[1:]):\n    s += w * a * b",
    "s += w * float(np.dot(x, x))",
    "buf[0] = w",
    "buf *= 2.0",
)


def _loaded(folder, stem: str, source: str):
    """``source`` written to a new file in ``folder`` and imported (srcad reads it)."""
    path = folder / f"{stem}_{len(list(folder.iterdir()))}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _item_program(lines: list[str]) -> str:
    body = "\n".join("    " + line for text in lines for line in text.split("\n"))
    return f"import numpy as np\n\n\ndef f(w, x, buf):\n    s = 0.0\n{body}\n    return s\n"


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(st.sampled_from(ITEM_BY_ITEM + AS_AN_ARRAY), min_size=1, max_size=4),
    aliased=st.booleans(),
)
def test_random_programs_reading_arrays_item_by_item(tmp_path, lines, aliased):
    """The gradient the four ways, and f's value, when ``x`` and ``buf`` are arrays
    (sometimes one array): whichever version runs, it computes what numpy does."""
    f = _loaded(tmp_path, "items", _item_program(lines)).f
    x = np.array([0.5, 1.25, 2.0, 1.5])
    if aliased:  # (two parameters that are one array: f's value, or refused when f
        same, again = x.copy(), x.copy()  # writes into one of them; see fresh_arguments)
        if any(line in ("buf[0] = w", "buf *= 2.0") for line in lines):
            with pytest.raises(srcad.SrcadError, match="passes that array"):
                srcad.value_and_grad(f)(0.7, same, same)
            return
        value, _ = srcad.value_and_grad(f)(0.7, same, same)
        assert value == f(0.7, again, again)
    else:
        check_four_ways(f, 0.7, x.copy(), x.copy(), wrt=(0, 1))


#: Statements writing items of ``x`` (a list or an array parameter) in place, beside reads
#: of it (stop 48: a list parameter written item by item got no float version, 20-60x the
#: function).
ITEM_WRITES = (
    "for k in range(1, len(x)):\n    x[k] = x[k] + w * x[k - 1]",
    "x[0] = x[0] * x[3] + w",
    "for k in range(len(x)):\n    x[k] = math.tanh(w * x[k])",
    "for k in range(len(x) - 1):\n    x[k] = 0.5 * (x[k] + x[k + 1] * x[k + 1])",
    "x[-1] = w * x[1]",
    "x[1] += w * x[2]",
    "for k in range(len(x)):\n    x[k] *= w",
    "old = x[2]\nx[2] = old * w\ns += old * x[2]",  # (no float version: `old` may be a view)
    "s += sum(v * v for v in x)",
    "s += x[0] * x[1] - x[2] * w",
    "for k, v in enumerate(x):\n    s += w * k * v",
)


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.sampled_from(ITEM_WRITES), min_size=1, max_size=4))
def test_random_programs_writing_a_list_parameter_item_by_item(tmp_path, lines):
    """The gradient the four ways for a list of floats and for an array; for the list,
    the float version runs (the caller's list is left as it was: the function writes
    into a copy)."""
    body = "\n".join("    " + line for text in lines for line in text.split("\n"))
    source = (
        f"import math\n\n\ndef f(w, x):\n    s = 0.0\n{body}\n"
        "    return s + x[0] * w + sum(x)\n"
    )
    f = _loaded(tmp_path, "writes", source).f
    items = [0.5, 1.25, -0.75, 1.5]
    if any(write in lines for write in ITEM_WRITES[:7]) and ITEM_WRITES[7] not in lines:
        assert FLOAT_VERSION in srcad.grad(f, wrt=(0, 1)).backward_source
    check_four_ways(f, 0.7, list(items), wrt=(0, 1))
    check_four_ways(f, 0.7, np.array(items), wrt=(0, 1))


# --- rows: lists or tuples of sequences of numbers, read item by item ------------------
def lateral_shift(theta0, layers, n0=1.0):
    """A ray through flat layers (Snell's law): ``layers`` is a list of (n, thickness)."""
    invariant = n0 * math.sin(theta0)
    shift = 0.0
    for n, thickness in layers:
        theta = math.asin(invariant / n)
        shift += thickness * math.tan(theta)
    return shift


def line_fit_loss(slope, intercept, points):
    """``points[i][0]``: a list of [x, y] lists read by index."""
    loss = 0.0
    for i in range(len(points)):
        resid = slope * points[i][0] + intercept - points[i][1]
        loss += resid * resid
    return loss / len(points)


def weighted_records(scale, records):
    """A list of dicts of floats, read by key."""
    total = 0.0
    for record in records:
        total += record["w"] * math.exp(-scale * record["t"])
    return total


def test_rows_of_floats_get_the_float_version():
    layers = [(1.33, 0.5), (1.52, 1.25), (1.7, 0.75)]
    points = [[0.0, 1.1], [1.0, 2.9], [2.0, 5.2], [3.0, 6.8]]
    records = [{"w": 1.0, "t": 0.5}, {"w": 2.5, "t": 1.5}]
    for f, args, rows in ((lateral_shift, (0.4, layers), "layers"),
                          (line_fit_loss, (1.8, 1.2, points), "points"),
                          (weighted_records, (0.3, records), "records")):
        source = srcad.grad(f, wrt=tuple(range(len(args)))).backward_source
        assert f"not float_rows({rows})" in source, source
    # a row's adjoint is that row of the list's adjoint, added into in place
    source = srcad.grad(lateral_shift, wrt=(0, 1)).backward_source
    assert "dt3 = dlayers_items[k]" in source and "zeros_like(t3)" not in source
    dtheta, dlayers = check_four_ways(lateral_shift, 0.4, layers)
    assert type(dlayers) is list and type(dlayers[0]) is tuple
    n, d = layers[0]
    assert dlayers[0][1] == pytest.approx(math.tan(math.asin(math.sin(0.4) / n)), rel=1e-14)
    check_four_ways(line_fit_loss, 1.8, 1.2, points)
    dscale, drecords = srcad.grad(weighted_records, wrt=(0, 1))(0.3, records)
    assert drecords[1] == pytest.approx(
        {"w": math.exp(-0.45), "t": -0.3 * 2.5 * math.exp(-0.45)}, rel=1e-14
    )
    # rows holding an array (or an array of rows) go to the array version: the same
    arrays = [np.array(layer) for layer in layers]
    again = srcad.grad(lateral_shift, wrt=(0, 1))(0.4, arrays)
    assert again[0] == pytest.approx(dtheta, rel=1e-13)
    assert np.allclose(np.array(again[1]), np.array(dlayers), rtol=1e-13)


#: Statements over ``rows``, a list of (a, b) tuples of floats: item by item, slices,
#: copies, comprehensions and reductions of rows.
ROW_READS = (
    "for a, b in rows:\n    s += w * a * b",
    "for k in range(len(rows)):\n    s += rows[k][0] * w",
    "s += w * rows[-1][1] * rows[0][0]",
    "for r in rows:\n    s += w * max(r)",
    "for r in rows:\n    s += w * sum(r)",
    "s += w * sum(r[0] for r in rows)",
    "for r in rows[1:]:\n    s += w * r[1]",
    "firsts = [r[0] * w for r in rows]\ns += sum(firsts)",
    "s += w * len(rows)",
    "pairs = list(rows)\ns += w * pairs[0][1]",
    "for k, (a, b) in enumerate(rows):\n    s += w * k * a - b",
    "s = s * w if rows[0][0] > 1.0 else s + w",
    "for a, b in sorted(rows, key=lambda r: r[1], reverse=True):\n    s = s * 0.5 + w * a - b",
    "for k in range(len(rows)):\n    a, b = rows[k]\n    c, d = rows[k]\n"
    "    s += w * a * d - b * c",
    "pairs = [(r[1], r[0] * w) for r in rows]\npairs[0] = (w, w)\nfor a, b in pairs:\n"
    "    s += a * b",
)


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.sampled_from(ROW_READS), min_size=1, max_size=4))
def test_random_programs_reading_rows(tmp_path, lines):
    body = "\n".join("    " + line for text in lines for line in text.split("\n"))
    module = _loaded(tmp_path, "rows", f"def f(w, rows):\n    s = 0.0\n{body}\n    return s\n")
    rows = [(1.5, 0.25), (0.5, 2.0), (1.25, -0.75)]
    check_four_ways(module.f, 0.7, rows, wrt=(0, 1))


def spring_energy(x, edges, k):
    """Rows of (int, int, float): the ints index ``x``."""
    e = 0.0
    for i, j, rest in edges:
        d = x[i] - x[j]
        e += k * (d - rest) ** 2
    return e


def test_rows_may_hold_ints():
    x = [0.0, 1.1, 2.3, 2.9]
    edges = [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 0.5), (0, 3, 3.0)]
    assert "not float_rows(edges)" in srcad.grad(spring_energy, wrt=(0, 2)).backward_source
    dx, dk = check_four_ways(spring_energy, x, edges, 2.0, wrt=(0, 2))
    assert dk == pytest.approx(2.1**2 + 2.2**2 + 1.1**2 + 5.9**2, rel=1e-12)
    assert type(dk) is float


# ---------------------------------------------------------------- the array version, made later


def damped_sum(x, y):
    total = 0.0
    for k in range(4):
        total = total + x * math.exp(-y * k)
    return total


def test_the_array_version_is_made_at_the_first_call_that_needs_it():
    g = srcad.grad(damped_sum, wrt=(0, 1))
    built = g.__srcad__
    arrays = built.versions[1]
    assert arrays.made_already() is None  # (scalar code never needs it)
    assert "the same gradient for numpy arrays, is generated at its first call" in (
        g.backward_source
    )
    want = (sum(math.exp(-0.5 * k) for k in range(4)),
            sum(-k * 1.5 * math.exp(-0.5 * k) for k in range(4)))
    np.testing.assert_allclose(g(1.5, 0.5), want, rtol=1e-13)
    assert arrays.made_already() is None
    got = g(np.array(1.5), 0.5)  # (a 0-d array: the array version)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    made = arrays.made_already()
    assert made is not None
    # the float version now calls the array version itself, not the stand-in that made it
    closure = dict(zip(g.__code__.co_freevars, g.__closure__ or ()))
    # (inside the wrapper that runs it again zero-safe where its result holds nan)
    assert inspect.unwrap(closure[arrays.name].cell_contents).__code__ is made.compiled.code
    np.testing.assert_allclose(g(np.array(1.5), np.array(0.5)), want, rtol=1e-13)
    assert "def damped_sum_grad_arrays" in built.backward_source
    check_four_ways(damped_sum, np.array(1.5), 0.5, wrt=(0, 1))
    check_four_ways(damped_sum, 1.5, 0.5, wrt=(0, 1))


def _product_of_two(p):
    return p[0] * p[1]


def _sum_of_squares(xs):
    total = 0.0
    for x in xs:
        total += x * x
    return total


def _log_sum_exp(xs):
    m = max(xs)
    return m + math.log(sum(math.exp(x - m) for x in xs))


@pytest.mark.parametrize("given", [list, tuple, np.array])
def test_a_list_parameters_gradient_has_its_type_without_generic_helpers(given):
    """The float version's list parameter, checked once where it starts, gets its adjoint
    as a plain list written item by item and its gradient as the parameter's type
    (srcad.float_lists): no zeros_like or structured_like, which check every item again."""
    from srcad.building import build

    for f, point, want in [
        (_product_of_two, [0.3, 1.2], [1.2, 0.3]),
        (_sum_of_squares, [0.5, -1.0, 2.0], [1.0, -2.0, 4.0]),
    ]:
        gradient = srcad.grad(f)(given(point))
        assert type(gradient) is (np.ndarray if given is np.array else given)
        assert np.allclose(np.asarray(gradient), want, rtol=1e-15, atol=0.0)
        source = build(f, ("p" if f is _product_of_two else "xs",), "grad", True).versions[0]
        text = source.compiled.source
        assert "zeros_like(" not in text and "structured_like(" not in text, text
    check_four_ways(_sum_of_squares, [0.5, -1.0, 2.0])


def test_a_list_adjoint_added_as_a_whole_stays_an_adjoint_list():
    """``max(xs)``'s adjoint is added to the loop's as a whole (item by item, which a
    plain list's ``+`` would not do): it stays srcad's AdjointList, made without a scan."""
    xs = [0.3, -1.2, 2.5, 0.7]
    gradient = srcad.grad(_log_sum_exp)(xs)
    weights = [math.exp(x) for x in xs]
    want = [w / sum(weights) for w in weights]
    assert type(gradient) is list
    assert np.allclose(gradient, want, rtol=1e-13, atol=0.0)
    check_four_ways(_log_sum_exp, xs)


_Params = collections.namedtuple("_Params", "rate scale label steps")


@dataclasses.dataclass
class _Shape:
    width: float
    height: float
    margin: float = 0.5


class _Plain:
    def __init__(self, gain, bias):
        self.gain, self.bias = gain, bias


def _relaxation(p, x):
    for _ in range(p.steps):
        x = x * p.rate + math.tanh(p.scale * x)
    return x


def _area_and_sine(s):
    return s.width * s.height + math.sin(s.width)


def _neuron(q, x):
    return math.tanh(q.gain * x + q.bias) * q.gain


@pytest.mark.parametrize("f, args", [
    (_relaxation, (_Params(0.8, 1.3, "decay", 12), 0.7)),
    (_area_and_sine, (_Shape(0.3, 1.2),)),
    (_neuron, (_Plain(0.9, -0.2), 0.4)),
])
def test_an_object_parameters_fields_are_numbers_in_the_float_version(f, args):
    """An object parameter (namedtuple, dataclass, plain object) whose fields the function
    reads: the float version checks those fields (float_fields) and keeps a number per
    field's adjoint, the gradient an object of its class at the end (record_like);
    round 61: no float version, 40-225x the function."""
    from srcad.building import build

    built = build(f, (0,), "grad", True)
    assert len(built.versions) == 2
    text = built.versions[0].compiled.source
    assert "float_fields(" in text and "field_grad(" not in text, text
    gradient = check_four_ways(f, *args, wrt=0)[0]
    assert type(gradient) is type(args[0])
    if isinstance(args[0], _Params):
        assert gradient.label == "decay" and gradient.steps == 12  # (static fields as given)
    if isinstance(args[0], _Shape):
        assert gradient.margin == 0.0 and gradient.height == pytest.approx(0.3)


class _Body:
    def __init__(self, x, v):
        self.x = x
        self.v = v

    def step(self, dt, k):
        self.v = self.v - dt * k * self.x
        self.x = self.x + dt * self.v


def _oscillator(k):
    body = _Body(1.0, 0.0)
    for _ in range(50):
        body.step(0.02, k)
    return body.x


def _coupled(k, c):
    a, b = _Body(1.0, 0.0), _Body(-0.5, 0.25)
    for _ in range(20):
        a.v += 0.05 * (c * (b.x - a.x) - k * a.x)
        b.v += 0.05 * c * (a.x - b.x)
        a.x += 0.05 * a.v
        b.x += 0.05 * b.v
    return a.x * b.x + a.v


def _running_stats(x):
    stats = {"n": 0, "mean": 0.0, "m2": 0.0}
    for i in range(6):
        value = math.sin(x * (i + 1))
        stats["n"] += 1
        delta = value - stats["mean"]
        stats["mean"] += delta / stats["n"]
        stats["m2"] += delta * (value - stats["mean"])
    return stats["m2"] / (stats["n"] - 1)


def _listed_bodies(k):
    bodies = [_Body(1.0, 0.0), _Body(-1.0, 0.5), _Body(0.3, -0.2)]
    for _ in range(20):
        for body in bodies:
            body.v -= 0.01 * k * body.x
            body.x += 0.01 * body.v
    return sum(body.x * body.x for body in bodies)


def _kicked_twice(k):
    a, b = _Body(k, 0.0), _Body(2.0 * k, 1.0)
    for body in (a, b, a):  # (one body twice)
        body.step(0.1, k)
        body.x += body.v
    return a.x * b.x + body.x  # (the loop's variable after it)


@pytest.mark.parametrize("f, args", [
    (_oscillator, (2.0,)), (_coupled, (1.5, 0.7)), (_running_stats, (0.4,)),
    (_listed_bodies, (2.0,)), (_kicked_twice, (0.7,)),
])
def test_objects_made_inside_keep_the_float_version_their_fields_adjoints_numbers(f, args):
    """An object of the user's class (or a dict of numbers) made inside and updated in a
    loop: the float version, each field's adjoint a number (``dbody_x += dt3``), no
    generic helper (round 68b: no float version, 30-270x the function). A loop over a
    list or tuple display of them is lowered once per object (stop 48: 300x the function
    in the memory pass's alias checks; ``_kicked_twice`` was refused)."""
    from srcad.building import build

    built = build(f, tuple(range(len(args))), "grad", True)
    assert len(built.versions) == 2
    text = built.versions[0].compiled.source
    for helper in ("add_at(", "assigned_items(", "zeros_like(", "unbroadcast("):
        assert helper not in text, text
    check_four_ways(f, *args)


def _weighted_bodies(k, weights):
    bodies = [_Body(k, 0.0), _Body(2.0 * k, 1.0)]
    for body, w in zip(bodies, weights):
        body.x *= w
    return bodies[0].x + bodies[1].x


def test_a_loop_over_objects_zipped_with_a_dict_or_a_shorter_list_is_refused():
    """Round 76a: zip(objects, d) of a dict read d[0], d[1] (18.0 for 0.3, or KeyError
    from generated code); zip stops at the shorter sequence, which srcad, lowering the
    loop once per object, does not follow: both refused when the gradient runs."""
    for weights in ({0: 1.0, 1: 2.0}, {"a": 1.0, "b": 2.0}, [1.0]):
        with pytest.raises(srcad.SrcadError, match="not a list, tuple or array"):
            srcad.grad(_weighted_bodies, wrt=(0, 1))(0.3, weights)
    check_four_ways(_weighted_bodies, 0.3, [1.0, 2.0])


def _matvec_energy(M, v):
    total = 0.0
    for i in range(len(M)):
        y = 0.0
        for j in range(len(v)):
            y += M[i][j] * v[j]
        total += y * y
    return total


def test_an_item_of_a_row_at_a_loop_counter_is_added_into_the_rows_adjoint():
    """``M[i][j]`` in loops over ``range``: the row's adjoint is that row of ``dM``, added
    into at ``j`` (round 71b: a zero row made and added per item read, O(n^3) for an
    O(n^2) function: 26x the function at n = 5, 113x at n = 60)."""
    from srcad.building import build

    M = [[0.1 * math.sin(i + j) for j in range(4)] for i in range(3)]
    v = [0.3, -0.2, 0.5, 0.1]
    built = build(_matvec_energy, (0, 1), "grad", True)
    text = built.versions[0].compiled.source
    assert "= dM[i]" in text and text.count("zeros_like(") == 1, text  # (dM's own, once)
    check_four_ways(_matvec_energy, M, v)


def _path_length(xs, ys):
    total = 0.0
    for i in range(len(xs) - 1):
        j = (i + 1) % len(xs)
        total += math.hypot(xs[j] - xs[i], ys[i + 1] - ys[i])
    return total


def test_an_item_at_int_arithmetic_of_a_counter_is_added_to_in_place():
    """``xs[i + 1]``, ``ys[(i + 1) % n]``: one item (int arithmetic of a loop counter and
    ``len``), its adjoint added with ``dxs[t3] += v``, not a call of ``add_at`` per item
    (round 71b)."""
    from srcad.building import build

    xs, ys = [0.0, 1.0, 1.5, 3.0], [0.5, -0.25, 0.75, 1.0]
    text = build(_path_length, (0, 1), "grad", True).versions[0].compiled.source
    assert "add_at(" not in text, text
    check_four_ways(_path_length, xs, ys)


# --- numbers read from a parameter's items or fields, changed by `+=` ------------------
@dataclasses.dataclass
class _State:
    x: float
    v: float


_Pair = collections.namedtuple("_Pair", "x v")


def _stepped_from_a_list(s, k):
    x = s[0]
    v = s[1]
    for _ in range(20):
        v -= 0.03 * k * x
        x += 0.1 * v
        x *= 1.01
    s[0] += x  # (a write into the list itself, after)
    return x * s[0] + v


def _stepped_from_a_dict(s, k):
    x = s["x"]
    v = s["v"]
    for _ in range(10):
        v -= k * math.sin(x)
        x += 0.1 * v
    return x + s["x"] * v


def _stepped_from_fields(s, k):
    x = s.x
    v = s.v
    for _ in range(10):
        v -= k * x
        x += 0.1 * v
    return x * s.v + v


def _written_through_an_alias(s, k):
    t = s
    x = t[0]
    x += k
    t[0] = x * 2
    return s[0] * x + t[1]


@pytest.mark.parametrize("f, args", [
    (_stepped_from_a_list, ([1.0, 0.5], 2.0)),
    (_stepped_from_a_dict, ({"x": 1.0, "v": 0.2}, 0.7)),
    (_stepped_from_fields, (_State(1.0, 0.3), 0.4)),
    (_stepped_from_fields, (_Pair(1.0, 0.3), 0.4)),
    (_written_through_an_alias, ([1.5, 2.0], 0.3)),
], ids=["list", "dict", "dataclass", "namedtuple", "alias"])
def test_a_number_read_from_a_parameter_and_changed_by_augmented_assignment(f, args):
    """Round 75b: `x = s[0]; x += v` lost the float version (80-200x the function, and
    `x = x + v` 2x): the memory pass's write-back of x into s, which a float does not
    need, counted as sharing memory. (The namedtuple's jvp crashed in srcad's snapshot.)"""
    assert FLOAT_VERSION in srcad.grad(f, wrt=(0, 1)).backward_source
    check_four_ways(f, *args)


def _relaxed(state, previous):
    a = previous[0]
    state[0] = state[0] * 3.0  # (previous[0] changes too where they are one list)
    return a * previous[0] + state[1]


def test_a_list_written_in_place_and_passed_as_another_argument_is_refused():
    """Round 76a: one list passed as two arguments and written through one: srcad copied
    the written one apart, and value_and_grad's value was 3.0 where f gives 5.0. Refused
    when the gradient is called, as one array passed twice is."""
    shared = [1.0, 2.0]
    with pytest.raises(srcad.SrcadError, match="passes that list"):
        srcad.value_and_grad(_relaxed, wrt=(0, 1))(shared, shared)
    assert shared == [1.0, 2.0]
    check_four_ways(_relaxed, [1.0, 2.0], [1.0, 2.0])


def resampled_paths(a):
    """A particle filter's ancestry: the paths array re-indexed by itself each step."""
    rng = np.random.default_rng(8)
    n, steps = 6, 4
    noise = rng.standard_normal((steps, n))
    x = np.zeros(n)
    paths = np.zeros((steps, n))
    for t in range(steps):
        x = a * x + 0.4 * noise[t]
        paths[t] = x
        order = np.argsort(x)
        x = x[order]
        paths = paths[:, order]
    return np.sum(paths[:, 0] * np.arange(1.0, steps + 1))


def test_an_array_reindexed_by_itself_in_a_loop():
    """`paths = paths[:, order]` in a loop: the search for the float version's checks
    read it ever deeper (round 94: it ran out of memory while building the gradient)."""
    check_four_ways(resampled_paths, 0.8)
