"""Forms of plain Python that srcad reads as other code it differentiates: membership
in a set of constants (a tuple), ``list()`` of ``reversed``/``enumerate`` (a list
comprehension), ``divmod`` and ``math.modf`` (their pairs of operations), ``match``
statements of values, and ``math.hypot`` of any number of coordinates. Each
gradient is checked four ways (``conftest.check_four_ways``)."""

import copy
import dataclasses
import math

import numpy as np
import pytest
from conftest import check_four_ways, marker_line

import srcad


def scaled_by_kind(x, kind="relu"):
    if kind in {"relu", "gelu"}:
        return x * 2.0
    return x if kind not in {"linear"} else -x


def pairs_reversed(x):
    xs = [x, 2.0 * x, 3.0]
    return sum(a * b for a, b in zip(xs, list(reversed(xs))))


def weighted_by_position(x):
    xs = [x, 2.0 * x, x * x]
    return sum(i * v for i, v in list(enumerate(xs, start=1)))


def backwards_with_positions(x):
    points = [x, 1.5, x * x]
    total = 0.0
    for i, p in reversed(list(enumerate(points))):
        total = 0.5 * total + i * p
    return total


def wrapped_phase(x):
    turns, phase = divmod(x, 0.7)
    return phase * x + turns


def fraction_and_whole(x):
    fraction, whole = math.modf(x)
    return fraction * x + whole


def by_method_names(x):
    return x.__mul__(x).__add__(x.__neg__()).__truediv__(2.0)


def radius(x, y):
    return math.hypot(x) + math.hypot(x, 1.0, y, 2.0, x)


@pytest.mark.parametrize("f, x", [
    (scaled_by_kind, 1.3),
    (pairs_reversed, 1.3),
    (weighted_by_position, 1.3),
    (backwards_with_positions, 1.3),
    (wrapped_phase, 1.3),
    (wrapped_phase, -2.3),
    (fraction_and_whole, 1.3),
    (fraction_and_whole, -2.6),
])
def test_plain_python_forms(f, x):
    check_four_ways(f, x)


def test_exact_values_of_the_forms():
    assert srcad.grad(scaled_by_kind)(1.3, "gelu") == 2.0
    assert srcad.grad(scaled_by_kind)(1.3, "linear") == -1.0
    assert srcad.grad(pairs_reversed)(1.3) == pytest.approx(2 * 3.0 + 2 * (4 * 1.3), rel=1e-14)
    assert srcad.grad(weighted_by_position)(1.3) == pytest.approx(1 + 4 + 6 * 1.3, rel=1e-14)
    # divmod(-2.3, 0.7) = (-4.0, 0.5): d/dx (phase * x + turns) = phase + x
    turns, phase = divmod(-2.3, 0.7)
    assert srcad.grad(wrapped_phase)(-2.3) == pytest.approx(phase - 2.3, rel=1e-12)
    fraction, _ = math.modf(-2.6)  # (-0.6, -2.0): the sign of x
    assert srcad.grad(fraction_and_whole)(-2.6) == pytest.approx(fraction - 2.6, rel=1e-12)
    with pytest.raises(srcad.SrcadError, match="the method `.__truediv__"):
        srcad.grad(by_method_names)(1.3)  # (in your code: a call, maybe of one side's on
    # purpose; in a library's, NumPy's polyint, the operator: test_library_code)
    x, y = 1.3, -0.4
    r = math.hypot(x, 1.0, y, 2.0, x)
    dx, dy = srcad.grad(radius, argnums=(0, 1))(x, y)
    assert dx == pytest.approx(1.0 + 2 * x / r, rel=1e-14)
    assert dy == pytest.approx(y / r, rel=1e-14)
    check_four_ways(radius, x, y, wrt=(0, 1))


def divmod_of_arrays(a):
    q, r = divmod(a, 0.7)
    return np.sum(r * a) + np.sum(q)


def test_divmod_of_an_array():
    check_four_ways(divmod_of_arrays, np.array([1.3, -2.3, 0.2]))


def activation(x, kind="relu"):
    match kind:
        case "relu":
            return max(x, 0.0)
        case "tanh" | "sigmoid":
            return math.tanh(x)
        case other:
            return x * len(other)


def scaled_by_count(x, n):
    match n:
        case 0:
            y = x
        case k if k > 2:
            y = x * k
        case None:
            y = 0.0
        case _:
            y = -x
    return y


def by_remainder(x, n):
    match n % 3:  # (the subject evaluated once, into a name of its own)
        case 0:
            return x
        case 1:
            return 2.0 * x
    return 3.0 * x


def by_pair(x, op):
    match op:
        case ("mul", v):  # <sequence-pattern>
            return x * v
    return x


@pytest.mark.parametrize("f, args, expected", [
    (activation, (1.3, "relu"), 1.0),
    (activation, (1.3, "sigmoid"), 1 - math.tanh(1.3) ** 2),
    (activation, (1.3, "swish"), 5.0),
    (scaled_by_count, (1.3, 0), 1.0),
    (scaled_by_count, (1.3, 5), 5.0),
    (scaled_by_count, (1.3, 1), -1.0),
    (by_remainder, (1.3, 4), 2.0),
    (by_remainder, (1.3, 5), 3.0),
])
def test_match_statements_that_test_values(f, args, expected):
    assert srcad.grad(f)(*args) == pytest.approx(expected, rel=1e-14)
    check_four_ways(f, *args, wrt=0)


def test_a_match_with_a_sequence_pattern_is_refused():
    from conftest import marker_line

    with pytest.raises(srcad.SrcadError, match="not with a sequence, mapping or class") as info:
        srcad.grad(by_pair)(1.3, ("mul", 2.0))
    assert info.value.lineno == marker_line(__file__, "sequence-pattern") - 1


class Triangle:
    factor = 3.0

    @classmethod
    def scaled(cls, v):
        return cls.factor * v * v


class Settings:
    def __init__(self):
        self.act = math.sin


SETTINGS = Settings()


def through_classmethod(x):
    return Triangle.scaled(x)


def through_getattr(x):
    return getattr(math, "sin")(x) + getattr(Triangle, "factor") * x  # noqa: B009 (the form under test)


def through_held_function(x):
    return SETTINGS.act(x)


def test_a_classmethod_through_its_class_a_named_attribute_and_a_held_function():
    # (each was refused: "has no derivative rule and no Python source srcad can read")
    x = 0.5
    assert srcad.grad(through_classmethod)(x) == pytest.approx(6.0 * x, rel=1e-14)
    assert srcad.grad(through_getattr)(x) == pytest.approx(math.cos(x) + 3.0, rel=1e-14)
    g = srcad.grad(through_held_function)
    assert g(x) == pytest.approx(math.cos(x), rel=1e-14)
    for f in (through_classmethod, through_getattr, through_held_function):
        check_four_ways(f, x)
    try:  # (followed: the function the object holds is given again)
        SETTINGS.act = math.exp
        assert g(x) == pytest.approx(math.exp(x), rel=1e-14)
    finally:
        SETTINGS.act = math.sin
    assert g(x) == pytest.approx(math.cos(x), rel=1e-14)


def distance_to_a_point(x):
    return math.hypot(x - 0.7, 2.0 * (x - 0.7)) + x


def test_hypot_at_the_origin_takes_a_subgradient():
    # (0 / 0 gave NaN; the 2-norm's subgradient at the origin is 0, as np.linalg.norm's)
    assert srcad.grad(distance_to_a_point)(0.7) == 1.0
    assert srcad.grad(distance_to_a_point)(1.7) == pytest.approx(math.sqrt(5) + 1, rel=1e-14)


def spread_into_lists(x, xs, rows):
    first = [1.0, *xs, x]  # (joined: [1.0] + list(xs) + [x])
    whole = np.array([x, *rows[0], *[x * x, 2.0]])
    return sum(first) * first[1] + np.sum(whole ** 2) + [*xs][0] * x


def spread_into_tuples(x):
    pair = (x, 2.0 * x)
    triple = (*pair, x * x)
    return triple[0] * triple[2] + sum((*triple, 1.0))


def spread_of_unknown_length(x, xs):
    return sum((x, *xs))  # <spread-unknown>


def test_a_value_spread_into_a_display():
    # (`*` in a display was refused: "`*` unpacking is not supported")
    check_four_ways(spread_into_lists, 0.7, [0.5, -0.25], [(0.3, 0.1), (0.2, 0.4)], wrt=(0, 1, 2))
    check_four_ways(spread_into_tuples, 0.7)
    with pytest.raises(srcad.SrcadError, match="whose length srcad does not know") as info:
        srcad.grad(spread_of_unknown_length)(0.7, [0.5])
    assert info.value.lineno == marker_line(__file__, "spread-unknown")


_FEATURES = np.array([[1.0, 2.0], [0.5, -1.0], [0.2, 0.3]])
_LABELS = np.array([1.0, 0.0, 0.5])


def _unrolled_inner_steps(params, lr):
    fitted = copy.deepcopy(params)  # (the caller's arrays stay as they are)
    for _ in range(3):
        r = _FEATURES @ fitted["w"] + fitted["b"] - _LABELS
        fitted["w"] -= lr * 2 * _FEATURES.T @ r
        fitted["b"] -= lr * 2 * np.sum(r)
    return np.sum((_FEATURES @ fitted["w"] + fitted["b"] - _LABELS) ** 2)


def _deep_copy_written_into(p):
    q = copy.deepcopy(p)
    q["w"][0] = 5.0  # (the copy's own array: p["w"] keeps its first item)
    return np.sum(p["w"] * q["w"])


def _rows_copied(xs):
    ys = copy.deepcopy(xs)
    ys[0][1] = ys[0][1] * 3.0
    return ys[0][1] * xs[0][1] + ys[1][0]


def _shallow_copy_rebound(p):
    q = copy.copy(p)
    q["w"] = q["w"] * 2.0
    return np.sum(q["w"] * p["w"])


def _tuple_copied(t):
    u = copy.copy(t)  # (round 80: AttributeError from generated code: a tuple's copy)
    return u[0] * t[1]


def test_copy_deepcopy_and_copy_copy():
    # (round 79: refused, the reason given inside copy.py)
    params = {"w": np.array([0.3, -0.2]), "b": 0.1}
    check_four_ways(_unrolled_inner_steps, params, 0.05, wrt=0)
    (d,) = check_four_ways(_deep_copy_written_into, {"w": np.array([0.3, -0.2])})
    np.testing.assert_allclose(d["w"], [5.0, -0.4], rtol=1e-12)  # (p0 * 5 + p1 ** 2)
    (rows,) = check_four_ways(_rows_copied, [[1.0, 2.0], [3.0, 4.0]])
    assert rows == [[0.0, 12.0], [1.0, 0.0]]
    check_four_ways(_shallow_copy_rebound, {"w": np.array([0.3, -0.2])})
    assert check_four_ways(_tuple_copied, (0.5, 2.0)) == ((2.0, 0.5),)


def _inner_steps_over_the_keys(p):
    q = copy.deepcopy(p)
    for k in q:  # (round 80: KeyError 0 from generated code, read as a sequence)
        q[k] -= 0.1 * q[k]
    return np.sum(np.tanh(_FEATURES[:, :2] @ q["W"]) @ q["v"])


_SHARED = np.array([1.0, 2.0])


def _copy_of_one_array_twice(a):
    q = copy.deepcopy([_SHARED * a, 1.0])
    pair = [q[0], q[0]]
    copied = copy.deepcopy(pair)  # <one-array-twice>
    copied[0] *= 2.0  # (Python: copied[1] doubles too)
    return np.sum(copied[1])


def test_deepcopy_of_a_dict_looped_over_and_of_one_array_twice():
    rng = np.random.default_rng(2)
    params = {"W": rng.normal(size=(2, 3)), "v": rng.normal(size=3)}
    (g,) = check_four_ways(_inner_steps_over_the_keys, params)
    assert set(g) == {"W", "v"}
    with pytest.raises(srcad.SrcadError, match="holding one array twice") as caught:
        srcad.grad(_copy_of_one_array_twice)(0.5)
    assert caught.value.lineno == marker_line(__file__, "one-array-twice")


SCALES = {"scale": 2.0}
CALLS = 0


def scaled_by_a_global(x):
    global SCALES  # (read only: the declaration says nothing reading does not)
    return np.sum(x ** 2) * SCALES["scale"]


def counts_its_calls(x):
    global CALLS
    CALLS += 1
    return np.sum(x ** 2)


def of_a_complex_number(x):
    z = complex(x, 0.5)
    return abs(z * z)


def spread_with_a_period(x):
    return np.sum(np.interp(x, [0.0, 1.0, 2.0], [0.0, 2.0, 1.0], period=3.0))


def test_round_87_refusals_a_user_hits():
    """(Round 87.) A `global` declaration of a name only read is what reading does:
    differentiated (one that writes stays refused); `complex(...)` is refused as complex,
    not as a function without a rule; an option without a rule is not told to use
    np.where (that advice is for `where=`)."""
    x = np.array([0.3, -1.2])
    (dx,) = check_four_ways(scaled_by_a_global, x)
    np.testing.assert_allclose(dx, 4.0 * x, rtol=1e-14)
    with pytest.raises(srcad.SrcadError, match="`global` declarations"):
        srcad.grad(counts_its_calls)(x)
    with pytest.raises(srcad.SrcadError, match="makes a complex number") as info:
        srcad.grad(of_a_complex_number)(0.3)
    assert info.value.lineno == of_a_complex_number.__code__.co_firstlineno + 1
    with pytest.raises(srcad.SrcadError, match="none for the keyword `period`") as info:
        srcad.grad(spread_with_a_period)(np.array([0.3, 1.2]))
    assert "np.where" not in info.value.hint


@dataclasses.dataclass
class _Fields:
    a: np.ndarray
    b: float


def as_a_dict(p: _Fields):
    d = dataclasses.asdict(p)
    return np.sum(d["a"] ** 2) * d["b"]


def by_a_name_given(p: _Fields, name="a"):
    return np.sum(getattr(p, name) ** 2) + getattr(p, "b")  # noqa: B009 -- (what is tested)


def test_fields_read_by_names_srcad_cannot_see_say_to_read_them_by_name():
    """(Round 87: dataclasses.asdict, vars and getattr of a variable name were told to
    register a derivative rule.) A getattr of a string constant is a field read."""
    p = _Fields(np.array([0.3, 1.2]), 2.0)
    for f in (as_a_dict, by_a_name_given):
        with pytest.raises(srcad.SrcadError) as info:
            srcad.grad(f)(p)
        assert "read the fields by name" in info.value.hint
        assert info.value.lineno == f.__code__.co_firstlineno + 1
    got = srcad.grad(lambda q: np.sum(getattr(q, "a") ** 2) * getattr(q, "b"))(p)  # noqa: B009
    np.testing.assert_allclose(got.a, 4.0 * p.a, rtol=1e-14)
    assert got.b == pytest.approx(np.sum(p.a ** 2), rel=1e-14)


def tuple_grown_beside_its_first_name(x):
    a = (x[0], x[1])
    b = a
    b += (x[2],)
    return sum(v * v for v in a) + 10 * sum(b)


def test_a_tuple_added_to_is_a_new_tuple():
    """``b += (v,)`` of a tuple binds a new tuple; ``a`` keeps the old one (round 92:
    refused as two names of one list changed by `+=`)."""
    (d,) = check_four_ways(tuple_grown_beside_its_first_name, np.array([0.5, -1.0, 2.0]))
    np.testing.assert_allclose(d, [11.0, 8.0, 10.0], rtol=1e-12)


def copies_of_immutables(x, label):
    y = copy.copy(x) * 3.0
    name = copy.copy(label)
    n = copy.copy(2)
    return (y + x) * n if name == "double" else y + x


def test_copy_of_a_number_is_the_number():
    """``copy.copy`` of a float, an int or a string is itself, as Python's (round 94: an
    AttributeError, ``x.copy()`` of a float, in the generated code)."""
    (d,) = check_four_ways(copies_of_immutables, 0.5, "double", wrt=0)
    assert d == 8.0


def test_a_module_s_own_builtins_are_called():
    """A module's own ``map``, ``divmod``, ``filter`` and ``reduce`` are its functions,
    not the builtins srcad rewrites calls of (round 94: `map(sq, xs)` of a doubling
    map gave half the gradient, `divmod` of its own gave 1 for 4.33)."""
    import builtins_of_its_own as own

    h = np.array([0.5, -0.2, 0.1])
    (d,) = check_four_ways(own.filtered_energy, h)
    y = np.convolve(own.SIGNAL, h)[: len(own.SIGNAL)]
    want = [2 * np.sum(y[k:] * own.SIGNAL[: len(own.SIGNAL) - k]) for k in range(3)]
    np.testing.assert_allclose(d, want, rtol=1e-12)
    assert check_four_ways(own.reduced_loss, 0.7)[0] == pytest.approx(
        np.mean(2 * (own.SIGNAL * 0.7 - 1.0) * own.SIGNAL))
    assert check_four_ways(own.mapped_sum, 0.5)[0] == pytest.approx(2.0 * (2 * 0.5 + 8 * 0.5))
    assert check_four_ways(own.divided, 0.5)[0] == pytest.approx(1 / 3 + 3.0)


def dict_by_position(w):
    d = dict(enumerate(w))
    return d[0] * d[2] + sum(d.values())


def dicts_of_pairs(w, names):
    d = dict((n, v * v) for n, v in zip(names, w))
    e = dict([(n, 2.0 * v) for n, v in zip(names, w)])
    return d["a"] + e["b"] * d["c"]


def test_dicts_of_enumerate_and_of_comprehensions_of_pairs():
    """``dict(enumerate(xs))`` and ``dict(<pairs>)`` of a comprehension (round 94:
    refused, as a call without a rule, and as a copy of a dict given a list)."""
    assert check_four_ways(dict_by_position, [0.5, 1.5, -2.0]) == ([-1.0, 1.0, 1.5],)
    (d,) = check_four_ways(dicts_of_pairs, [0.5, 1.5, -2.0], ["a", "b", "c"], wrt=0)
    assert d == [1.0, 8.0, -12.0]
