"""Namedtuples made inside the differentiated function (srcad/lower/named_tuples.py), and
classmethods that make objects (``Model.from_params(w, b)``): each checked four ways,
exact values where known, a few to second order, and the refusals at their lines."""

import collections
import dataclasses
import math
import typing

import numpy as np
import pytest
from conftest import check_four_ways, marker_line

import srcad

State = collections.namedtuple("State", "x v")


class Point(typing.NamedTuple):
    x: float
    y: float
    w: float = 1.0

    @property
    def norm2(self):
        return self.x * self.x + self.y * self.y

    def scaled(self, s):
        return Point(s * self.x, s * self.y, self.w)

    @classmethod
    def polar(cls, r, theta):
        return cls(r * math.cos(theta), r * math.sin(theta))


# ---- the harmonic oscillator of the brief: a state a loop carries, made by a helper

def step(s, dt, k):
    return State(s.x + dt * s.v, s.v - dt * k * s.x)


def energy(x0, k):
    s = State(x0, 0.0)
    for _ in range(100):
        s = step(s, 0.01, k)
    return 0.5 * s.v ** 2 + 0.5 * k * s.x ** 2


def test_harmonic_oscillator_exact():
    # explicit Euler multiplies (x, v) by M = [[1, dt], [-dt k, 1]] each step, and the
    # energy by 1 + dt^2 k: E = 0.5 k x0^2 (1 + dt^2 k)^100
    x0, k, dt = 1.3, 2.0, 0.01
    growth = (1 + dt * dt * k) ** 100
    value, (gx, gk) = srcad.value_and_grad(energy, wrt=(0, 1))(x0, k)
    np.testing.assert_allclose(value, 0.5 * k * x0 ** 2 * growth, rtol=1e-12)
    np.testing.assert_allclose(gx, k * x0 * growth, rtol=1e-12)
    d_growth = 100 * (1 + dt * dt * k) ** 99 * dt * dt
    np.testing.assert_allclose(gk, 0.5 * x0 ** 2 * (growth + k * d_growth), rtol=1e-10)


# ---- a projectile: keyword construction, _replace, unpacking, a typing.NamedTuple

class Body(typing.NamedTuple):
    x: float
    y: float
    vx: float
    vy: float
    g: float = 9.81


def projectile(v0, angle):
    b = Body(x=0.0, y=0.0, vx=v0 * math.cos(angle), vy=v0 * math.sin(angle))
    dt = 0.01
    for _ in range(50):
        b = b._replace(x=b.x + dt * b.vx, y=b.y + dt * b.vy, vy=b.vy - dt * b.g)
    x, y, vx, vy, g = b
    return x + 2.0 * y


def test_projectile_exact():
    v0, angle, dt, n = 12.0, 0.7, 0.01, 50
    # x = n dt v0 cos, y = n dt v0 sin - g dt^2 n (n - 1) / 2
    expected = n * dt * v0 * math.cos(angle) + 2.0 * (
        n * dt * v0 * math.sin(angle) - 9.81 * dt * dt * n * (n - 1) / 2
    )
    value, (gv, ga) = srcad.value_and_grad(projectile, wrt=(0, 1))(v0, angle)
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    np.testing.assert_allclose(gv, n * dt * (math.cos(angle) + 2.0 * math.sin(angle)),
                               rtol=1e-12)
    np.testing.assert_allclose(
        ga, n * dt * v0 * (-math.sin(angle) + 2.0 * math.cos(angle)), rtol=1e-12
    )


# ---- reads: by position, negative positions, len, iteration, _asdict, _fields

def reads_by_position(a, b):
    s = State(a, b)
    first, last = s[0], s[-1]
    return first * last + len(s) * s[1] + s[:1][0]


def iterates(a, b):
    total = 0.0
    for item in Point(a, b, 3.0):
        total = total + item * item
    return total


def as_dict(a, b):
    d = State(a, b)._asdict()
    return d["x"] * d["v"] + len(State._fields)


def defaults_and_properties(a, b):
    p = Point(a, b)
    q = p.scaled(2.0)
    return q.norm2 + p.w * a + Point.polar(a, b).y


def made_from_items(a, b):
    s = State._make((a, b * b))
    return s.v - s.x


def a_state_in_a_list(a, b):
    states = [State(a, b)]
    for _ in range(3):
        last = states[-1]
        states.append(State(last.x + last.v, last.v * b))
    return sum(s.x for s in states) + states[2].v


def returned_by_a_helper(a, b):
    def split(z):
        return State(z * z, 2.0 * z)

    return split(a).x + split(b)[1]


def chosen_on_a_path(a, b):
    if a > 0.0:
        s = State(a, b)
    else:
        s = State(b, a)
    return s.x * 3.0 + s.v


def nested(a, b):
    pair = State(Point(a, b), State(b, a))
    return pair.x.y * pair.v.x + pair[1][1]


def library_call(a, b):
    s = State(a, b)
    return float(np.sum(np.array(s) ** 2))


def a_parameter_replaced(s):
    for _ in range(3):
        s = s._replace(x=s.x * s.v)
    return s.x


class Doubling(collections.namedtuple("Doubling", "a b")):
    __slots__ = ()

    def _replace(self, **changes):  # (a subclass's own: read as its other methods)
        return Doubling(2.0 * self.a, self.b)


def overridden_replace(a, b):
    q = Doubling(a, b)._replace(a=5.0)
    return q.a * q.b


def compared(a, b):
    s, t = State(a, b), State(a, b)
    return a * b if s == t and isinstance(s, State) and isinstance(s, tuple) else 0.0


@pytest.mark.parametrize(
    "f, args",
    [
        (energy, (1.3, 2.0)),
        (projectile, (12.0, 0.7)),
        (reads_by_position, (1.2, -0.7)),
        (iterates, (1.2, -0.7)),
        (as_dict, (1.2, -0.7)),
        (defaults_and_properties, (1.2, -0.7)),
        (made_from_items, (1.2, -0.7)),
        (a_state_in_a_list, (1.2, 0.7)),
        (returned_by_a_helper, (1.2, -0.7)),
        (chosen_on_a_path, (1.2, -0.7)),
        (chosen_on_a_path, (-1.2, -0.7)),
        (nested, (1.2, -0.7)),
        (library_call, (1.2, -0.7)),
        (compared, (1.2, -0.7)),
        (overridden_replace, (1.2, -0.7)),
    ],
)
def test_named_tuples_made_inside(f, args):
    check_four_ways(f, *args)


def test_a_parameter_replaced_in_a_loop():
    got = srcad.grad(a_parameter_replaced)(State(1.0, 2.0))
    assert got == State(8.0, 12.0)  # x v^3: (v^3, 3 x v^2)


# ---- leaving the function: its result, an aux, a jacobian's output

def returns_a_state(a, b):
    return State(a * b, a + b)


def with_aux(a, b):
    s = State(a * b, a - b)
    return s.x + s.v, s


def test_returned_as_the_value_of_vjp_and_jvp():
    value, vjp = srcad.vjp(returns_a_state, 2.0, 3.0)
    assert type(value) is State and value == State(6.0, 5.0)
    assert vjp(State(1.0, 0.0)) == (3.0, 2.0)
    assert vjp(State(0.0, 1.0)) == (1.0, 1.0)
    value, tangent = srcad.jvp(returns_a_state, (2.0, 3.0), (1.0, 0.0))
    assert type(value) is State and tuple(tangent) == (3.0, 1.0)


def test_an_aux_is_a_state():
    (value, aux), grads = srcad.value_and_grad(with_aux, wrt=(0, 1), has_aux=True)(2.0, 3.0)
    assert value == 6.0 - 1.0 and type(aux) is State and aux == State(6.0, -1.0)
    assert grads == (3.0 + 1.0, 2.0 - 1.0)


def test_second_order():
    def flat(z):
        return energy(z[0], z[1]) + projectile(z[0], z[1])

    point, v = np.array([1.3, 0.6]), np.array([0.3, -0.8])
    hv = srcad.hvp(flat)(point, v)
    g = srcad.grad(flat)
    eps = 1e-5
    expected = (g(point + eps * v) - g(point - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv, expected, rtol=1e-6, atol=1e-8)


# ---- alternative constructors of dataclasses and plain classes made inside

@dataclasses.dataclass
class Model:
    w: float
    b: float

    @classmethod
    def from_params(cls, w, b):
        return cls(w, b)

    @classmethod
    def zero_bias(cls, w):
        return cls.from_params(w, 0.0)

    def __call__(self, x):
        return self.w * x + self.b


class Spring:
    def __init__(self, k, rest):
        self.k = k
        self.rest = rest

    @classmethod
    def stiff(cls, k):
        return cls(10.0 * k, 1.0)

    @staticmethod
    def soft(k):
        return Spring(0.1 * k, 1.0)

    def energy(self, x):
        return 0.5 * self.k * (x - self.rest) ** 2


def alternative_constructors(w, b):
    m = Model.from_params(w, b)
    z = Model.zero_bias(b)
    return m(2.0) + z(w) + Spring.stiff(w).energy(b) + Spring.soft(b).energy(w)


def test_alternative_constructors():
    check_four_ways(alternative_constructors, 1.2, -0.7)


# ---- refusals, at the user's line

class Vec(typing.NamedTuple):
    x: float
    y: float

    def __add__(self, other):
        return Vec(self.x + other.x, self.y + other.y)


def adds_vectors(a):
    v = Vec(a, a)  # <operator>
    return (v + v).x


def no_such_field(a):
    s = State(a, a)._replace(z=a)  # <replace>
    return s.x


def too_many(a):
    return State(a, a, a).x  # <arguments>


def made_from_a_list(a):
    items = []
    for k in range(2):
        items.append(a * k)
    return State._make(items).x  # <make>


def sets_a_field(a):
    s = State(a, a)
    s.x = 2.0 * a  # <setattr>
    return s.x


def sets_an_item(a):
    s = State(a, a)
    s[0] = 2.0 * a  # <setitem>
    return s.x


@pytest.mark.parametrize(
    "f, tag, words",
    [
        (sets_a_field, "setattr", "cannot be assigned"),
        (sets_an_item, "setitem", "no item assignment"),
        (adds_vectors, "operator", "its class defines `__add__`"),
        (no_such_field, "replace", "no field 'z'"),
        (too_many, "arguments", "State(...)"),
        (made_from_a_list, "make", "display of 2 items"),
    ],
)
def test_refused_at_the_line(f, tag, words):
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(f)(0.5)
    assert info.value.lineno == marker_line(__file__, tag), info.value
    assert words in info.value.message
