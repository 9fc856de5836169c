"""Random differentiable programs for srcad's property-based tests.

:func:`programs` is a Hypothesis strategy for :class:`Program`: a straight-line
scalar Python function, *as source text*, of 2-4 float parameters, built from the
operations srcad promises to differentiate (``+ - * / **``, unary ``-``/``+``,
``math.exp/log/sqrt/sin/cos/tanh``, ``abs``, re-assignment, augmented assignment,
tuple unpacking, fan-out, and calls to the helper functions of :data:`PRELUDE`).
:func:`module_source` turns programs into the text of a module (the prelude plus the
functions), which the tests write to a real file and import, so that srcad reads
the source with ``inspect.getsource`` exactly as it does for users.

Well-conditioned by construction
--------------------------------
Every generated value carries a :class:`Bound`: an interval enclosing the value
for *all* parameters in ``[-PARAM_BOUND, PARAM_BOUND]`` and a bound on the l1 norm
of its gradient with respect to the parameters (interval arithmetic plus a
first-order chain rule). Every operation is checked when it is built:

* values stay within ``|v| <= VALUE_CAP`` and gradients within ``DERIV_CAP``,
  so central differences with a step of ~1e-6 are accurate (see
  ``tests/test_random_programs.py`` for the error budget);
* ``log``, ``sqrt``, fractional or negative powers and division only see
  arguments bounded away from zero (``|arg| >= MIN_AWAY``); ``exp`` only
  sees arguments ``<= EXP_ARG_MAX``; ``abs`` is used only in kink-free forms
  (``abs(t) ** 2``, ``abs(t) * t``, ``abs`` of something bounded away from 0).

An operation that would break a rule raises :class:`IllConditioned`; the builder
then picks another form (``log(1 + t * t)`` instead of ``log(t)``, a squashing
``tanh`` before ``exp``, ...) or, at worst, falls back to a plain variable.

Extending the grammar
---------------------
The grammar is two lists of builders, tried by index so that Hypothesis shrinks
towards the first (simplest) entries:

* :data:`EXPRESSION_KINDS`: ``builder(draw, ctx, depth) -> Val``; build
  sub-expressions with ``ctx.expr(draw, depth - 1)``. Raise
  :class:`IllConditioned` (or return ``None``) when the form does not apply.
* :data:`STATEMENT_KINDS`: ``builder(draw, ctx) -> list[ast.stmt] | None``;
  read variables with ``ctx.variables()`` / ``ctx.bound(name)`` and record
  assignments with ``ctx.bind(name, bound)``. ``None`` means "not applicable
  here" and a plain assignment is generated instead.

Both are passed to :func:`programs` (``statement_kinds=..., expression_kinds=...``),
so a test can use a subset or add its own. Planned kinds fit this shape:

* ``if``/``else`` on data: build both branches on copies of ``ctx`` (``ctx.fork()``)
  and bind each variable to the *join* (``Bound.join``) of the two branch bounds; keep
  the condition's operands away from the branch point (e.g. ``if tanh(t) > 0.5``
  with ``t``'s interval not containing ``atanh(0.5)``, or accept a kink and only
  compare at points away from it);
* ``for`` loops with a constant trip count: iterate the body's bound update
  (the trip count is known), which is what interval arithmetic needs;
* numpy expressions: a second value domain (arrays of a fixed shape) with its
  own ``Bound`` per element; the test's checker already handles tuples of
  gradients and would take ``np.allclose`` for arrays.

New helper functions go into :data:`HELPERS` (source text plus, optionally, a
hand-derived bound; without one the helper's own body is evaluated on
:class:`Bound` values).

Arrays
------
The variables of ``ctx`` are always floats. Arrays live inside numpy statements:
an :class:`ArrayExpr` (:func:`array_expr`) is an elementwise numpy expression whose
variables are scaled by constant arrays with elements in ``[lo, 1]``, so the scalar
bound with those variables' bounds multiplied by ``[lo, 1]`` holds for every element;
it also tracks the shape. :func:`s_numpy` reduces one to a float in the same statement
(``np.mean``, ``np.sum(...) / size``); :func:`s_numpy_loop` carries arrays across the
iterations of a loop (a float that becomes an array in the first iteration, an array
whose shape grows) and reduces them after it, iterating the per-element bounds and the
shapes through the body like :func:`s_for`. Any shape-changing statement a new kind
adds must keep every element's bound (and every broadcast) sound in the same way.

Arrays written in place
-----------------------
The kinds of :data:`ARRAY_WRITE_KINDS` (one per class of :data:`PROGRAM_CLASSES`) make
arrays from the variables and write into them: by index in loops, through aliases and views,
at repeated fancy indices, with values that have no gradient, next to ``np.where`` branches
that are not finite. Each reduces its arrays to a float before it ends, so ``ctx`` still
holds floats only. They are written as source text and bounded by running that text on
numpy arrays of dtype object whose elements are :class:`Bound` s (:func:`run_array_code`,
``np`` replaced by :data:`ANP`): real numpy does the indexing, the views, the in-place
operators and the buffering of ``out[idx] += v``, so the bounds follow numpy's aliasing.
An element that may be non-finite is :class:`Poison` (``np.where`` may drop it, reading it
raises :class:`IllConditioned`); an ``if`` on data runs both branches on copies and joins.
A new form only needs its text: :func:`commit_arrays` runs it and binds the results
(``abstract=`` gives other text to run when numpy on Bounds cannot follow the real one, as
for the threshold ``np.where`` of :func:`s_where_nonfinite`).

Library routines, ``.flat``, refusals (stop 56)
-----------------------------------------------
Kinds for the classes stop 55 fixed, drawn by focused tests (not in :data:`STATEMENT_KINDS`,
so the default batches keep their programs): :func:`s_quantiles` (order statistics over a
tuple of axes; :data:`ANP` bounds them by the hull of the elements), :func:`s_flat`
(``A.flat[k]`` reads and writes), :func:`s_quad` (``scipy.integrate.quad`` of smooth
integrands, :data:`INTEGRAND_KINDS`; a file whose functions call SciPy imports it,
:data:`SCIPY_IMPORTS`), :func:`s_zero_d` (a parameter given as a 0-d array, copied and
changed in place; ``programs(first=s_zero_d)``) and :func:`record_root_programs` (records
the function is given, read by a root finder's lambda: a strategy of its own, as its
parameters are not all floats). The kinds of :data:`REFUSED_KINDS` make one statement srcad
must refuse at its line (:func:`refused_line`, the message's reason in
:data:`REFUSAL_REASONS`); ``programs(required=kind)`` puts it at a drawn place.
"""

from __future__ import annotations

import ast
import copy
import functools
import math
import re
import textwrap
import types
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

# ---------------------------------------------------------------- conditioning limits

#: Parameters are drawn from [-PARAM_BOUND, PARAM_BOUND] (the tests' points).
PARAM_BOUND = 2.0
#: Every intermediate value and the result satisfy |v| <= VALUE_CAP.
VALUE_CAP = 16.0
#: Every value's gradient (l1 norm over the parameters) is at most DERIV_CAP.
DERIV_CAP = 32.0
#: log, sqrt, division, fractional/negative powers: |argument| >= MIN_AWAY.
MIN_AWAY = 0.25
#: exp(a) only for a <= EXP_ARG_MAX (exp(2.5) ~ 12.2 < VALUE_CAP).
EXP_ARG_MAX = 2.5


class IllConditioned(ValueError):
    """An operation would leave the well-conditioned region; pick another form."""


class Bound:
    """Interval ``[lo, hi]`` enclosing a value, and ``d`` >= the l1 norm of its gradient.

    Arithmetic on bounds is sound interval arithmetic (``x * x`` with the *same*
    bound object is recognised as a square, so ``1 + t * t >= 1``) and a
    first-order chain rule for ``d``. Builtin ``abs`` and ``**`` with a constant
    exponent work; :data:`AMATH` has the ``math`` functions.
    """

    __slots__ = ("lo", "hi", "d")

    def __init__(self, lo: float, hi: float, d: float = 0.0) -> None:
        lo, hi, d = float(lo), float(hi), float(d)
        if not (math.isfinite(lo) and math.isfinite(hi) and math.isfinite(d)):
            raise IllConditioned("not finite")
        if lo > hi:  # pragma: no cover - a bug in a bound rule
            raise AssertionError(f"empty interval [{lo}, {hi}]")
        if max(-lo, hi) > VALUE_CAP:
            raise IllConditioned(f"value bound [{lo:.3g}, {hi:.3g}] exceeds {VALUE_CAP}")
        if d > DERIV_CAP:
            raise IllConditioned(f"gradient bound {d:.3g} exceeds {DERIV_CAP}")
        self.lo, self.hi, self.d = lo, hi, d

    def __repr__(self) -> str:
        return f"Bound([{self.lo:.4g}, {self.hi:.4g}], d={self.d:.4g})"

    @classmethod
    def const(cls, c: float) -> Bound:
        return cls(c, c, 0.0)

    @property
    def mag(self) -> float:
        """max |v|."""
        return max(-self.lo, self.hi)

    @property
    def away(self) -> float:
        """min |v| (0 when the interval contains 0)."""
        if self.lo > 0:
            return self.lo
        if self.hi < 0:
            return -self.hi
        return 0.0

    def join(self, other: Bound) -> Bound:
        """The smallest bound enclosing both (for future branches)."""
        return Bound(min(self.lo, other.lo), max(self.hi, other.hi), max(self.d, other.d))

    # ---- arithmetic (with Poison: Poison; with an array: element by element)
    def __add__(self, other):
        if (special := _special(other)) is not None:
            return special
        o = lift(other)
        return Bound(self.lo + o.lo, self.hi + o.hi, self.d + o.d)

    __radd__ = __add__

    def __sub__(self, other):
        if other is self:  # x - x is exactly 0 (the diagonal of p[:, None] - p[None, :])
            return Bound.const(0.0)
        if (special := _special(other)) is not None:
            return special
        o = lift(other)
        return Bound(self.lo - o.hi, self.hi - o.lo, self.d + o.d)

    def __rsub__(self, other):
        special = _special(other)
        return special if special is not None else lift(other) - self

    def __neg__(self):
        return Bound(-self.hi, -self.lo, self.d)

    def __pos__(self):
        return self

    def __mul__(self, other):
        if other is self:
            return self._power(2)
        if (special := _special(other)) is not None:
            return special
        o = lift(other)
        products = (self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi)
        return Bound(min(products), max(products), self.mag * o.d + o.mag * self.d)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if (special := _special(other)) is not None:
            return special
        o = lift(other)
        m = o.away
        if m < MIN_AWAY:
            raise IllConditioned("division by something not bounded away from zero")
        quotients = (self.lo / o.lo, self.lo / o.hi, self.hi / o.lo, self.hi / o.hi)
        return Bound(min(quotients), max(quotients), self.d / m + self.mag * o.d / (m * m))

    def __rtruediv__(self, other):
        special = _special(other)
        return special if special is not None else lift(other) / self

    def __pow__(self, p):
        if isinstance(p, Bound):
            raise IllConditioned("only constant exponents")
        return self._power(p)

    def _power(self, p: float) -> Bound:
        if float(p).is_integer() and p >= 1:
            n = int(p)
            if n % 2:  # odd: monotone
                lo, hi = self.lo**n, self.hi**n
            else:
                lo, hi = self.away**n, self.mag**n
            return Bound(lo, hi, n * self.mag ** (n - 1) * self.d)
        if self.lo < MIN_AWAY:
            raise IllConditioned(f"x ** {p} needs x >= {MIN_AWAY}")
        ends = (self.lo**p, self.hi**p)
        slope = abs(p) * max(self.lo ** (p - 1), self.hi ** (p - 1))
        return Bound(min(ends), max(ends), slope * self.d)

    def __abs__(self):
        if self.lo >= 0:
            return self
        if self.hi <= 0:
            return -self
        return Bound(0.0, self.mag, self.d)

    # ---- comparisons (of array elements, in np.where): decided by the intervals
    @staticmethod
    def _decided(always: bool, never: bool) -> bool:
        if always == never:  # neither: the intervals allow both outcomes
            raise IllConditioned("a comparison the bounds do not decide")
        return always

    def __gt__(self, other):
        o = lift(other)
        return self._decided(self.lo > o.hi, self.hi <= o.lo)

    def __lt__(self, other):
        o = lift(other)
        return self._decided(self.hi < o.lo, self.lo >= o.hi)

    def __ge__(self, other):
        o = lift(other)
        return self._decided(self.lo >= o.hi, self.hi < o.lo)

    def __le__(self, other):
        o = lift(other)
        return self._decided(self.hi <= o.lo, self.lo > o.hi)


def _special(other):
    """What an operation of a Bound with ``other`` gives when it is not a number: Poison
    for Poison (see ANP), ``NotImplemented`` for an array (numpy then takes the operation
    element by element); ``None`` otherwise."""
    if isinstance(other, Poison):
        return other
    return NotImplemented if isinstance(other, np.ndarray) else None


def lift(x) -> Bound:
    if isinstance(x, Poison):
        raise IllConditioned("a value that may be non-finite is read")
    return x if isinstance(x, Bound) else Bound.const(x)


class Poison:
    """An array element that may be non-finite or outside the well-conditioned region
    (``np.sqrt`` of an element that may be 0 or negative, see :data:`ANP`): ``np.where``
    may drop it, arithmetic on it gives it back, reading it as a :class:`Bound` (:func:`lift`,
    an operation with a Bound) raises :class:`IllConditioned`."""

    __slots__ = ()

    def _same(self, *_):
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _same
    __truediv__ = __rtruediv__ = __pow__ = __neg__ = __pos__ = _same

    def __repr__(self) -> str:
        return "POISON"


POISON = Poison()


def _monotone(f, a: Bound, slope: float) -> Bound:
    ends = (f(a.lo), f(a.hi))
    return Bound(min(ends), max(ends), slope * a.d)


def _periodic(f, a: Bound, phase: float) -> Bound:
    """Bound of sin (phase 0) or cos (phase pi/2) over ``a``: ends plus interior extrema."""
    vals = [f(a.lo), f(a.hi)]
    # extrema of sin(x + phase) at x + phase = pi/2 + k pi
    k = math.ceil((a.lo + phase - math.pi / 2) / math.pi)
    while math.pi / 2 + k * math.pi - phase <= a.hi and len(vals) < 4:
        vals.append(1.0 if k % 2 == 0 else -1.0)
        k += 1
    if a.hi - a.lo >= 2 * math.pi:
        vals += [-1.0, 1.0]
    return Bound(max(-1.0, min(vals)), min(1.0, max(vals)), a.d)


def _exp(a: Bound) -> Bound:
    if a.hi > EXP_ARG_MAX:
        raise IllConditioned(f"exp of something up to {a.hi:.3g}")
    return _monotone(math.exp, a, math.exp(a.hi))


def _log(a: Bound) -> Bound:
    if a.lo < MIN_AWAY:
        raise IllConditioned(f"log needs an argument >= {MIN_AWAY}")
    return _monotone(math.log, a, 1 / a.lo)


def _sqrt(a: Bound) -> Bound:
    if a.lo == a.hi == a.d == 0.0:  # (a value truncated to 0 that stays there: e_truncated)
        return Bound.const(0.0)
    if a.lo < MIN_AWAY:
        raise IllConditioned(f"sqrt needs an argument >= {MIN_AWAY}")
    return _monotone(math.sqrt, a, 0.5 / math.sqrt(a.lo))


def _small(a: Bound, limit: float, what: str) -> Bound:
    if a.mag > limit:
        raise IllConditioned(f"{what} needs |argument| <= {limit}")
    return a


def _log1p(a: Bound) -> Bound:
    if a.lo < MIN_AWAY - 1:
        raise IllConditioned(f"log1p needs an argument >= {MIN_AWAY - 1}")
    return _monotone(math.log1p, a, 1 / (1 + a.lo))


def _cosh(a: Bound) -> Bound:
    _small(a, EXP_ARG_MAX, "cosh")
    return Bound(math.cosh(a.away), math.cosh(a.mag), math.sinh(a.mag) * a.d)


#: ``math`` for :class:`Bound` values (used to evaluate helper bodies abstractly).
#: Beyond the core six: the rest of srcad's ``math`` table on safe domains
#: (``tan``/``asin``/``acos`` only for ``|a| <= 0.5``, ``sinh``/``cosh`` like ``exp``).
AMATH = types.SimpleNamespace(
    exp=_exp,
    log=_log,
    sqrt=_sqrt,
    sin=lambda a: _periodic(math.sin, a, 0.0),
    cos=lambda a: _periodic(math.cos, a, math.pi / 2),
    tanh=lambda a: _monotone(math.tanh, a, 1.0),
    atan=lambda a: _monotone(math.atan, a, 1.0),
    log1p=_log1p,
    expm1=lambda a: _exp(a) - 1,
    sinh=lambda a: _monotone(math.sinh, _small(a, EXP_ARG_MAX, "sinh"), math.cosh(a.mag)),
    cosh=_cosh,
    tan=lambda a: _monotone(math.tan, _small(a, 0.5, "tan"), 1 + math.tan(a.mag) ** 2),
    asin=lambda a: _monotone(math.asin, _small(a, 0.5, "asin"), 1 / math.sqrt(1 - a.mag**2)),
    acos=lambda a: _monotone(math.acos, _small(a, 0.5, "acos"), 1 / math.sqrt(1 - a.mag**2)),
    pow=lambda a, p: a**p,
    pi=math.pi,
)


def _sig(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


# ---------------------------------------------------------------- helper functions


@dataclass(frozen=True)
class Helper:
    """A module-level helper of every generated file: its source and its bound."""

    name: str
    arity: int
    source: str
    bound: Callable[..., Bound]


def _mix_bound(a: Bound, b: Bound) -> Bound:
    # s*b + (1-s)*tanh(b), s = sigmoid(a) in (0, 1): a convex combination of b and tanh(b).
    # d/da = s' (b - tanh b) with |s'| <= 1/4; d/db = s + (1 - s)(1 - tanh^2 b) <= 1.
    lo = min(b.lo, math.tanh(b.lo))
    hi = max(b.hi, math.tanh(b.hi))
    return Bound(lo, hi, 0.25 * (b.mag + 1.0) * a.d + b.d)


#: (source, hand-derived bound or None to evaluate the body on Bounds), in dependency order.
_HELPER_TABLE: list[tuple[str, Callable[..., Bound] | None]] = [
    # the sigmoid idiom (one gate in srcad's table); sigma' <= 1/4
    ("def sigmoid(z):\n    return 1.0 / (1 + math.exp(-z))\n",
     lambda z: _monotone(_sig, z, 0.25)),
    # log(1 + e^z): monotone, slope sigmoid(z) < 1
    ("def softplus(z):\n    return math.log(1 + math.exp(z))\n",
     lambda z: _monotone(lambda v: max(v, 0) + math.log1p(math.exp(-abs(v))), z, 1.0)),
    # sqrt(z^2 + 1) >= 1, slope |z| / sqrt(z^2 + 1) < 1; it reads the module's global
    # `k` (1.0), which programs also name their locals and loop counters
    ("def smooth_abs(z):\n    return math.sqrt(z * z + k)\n",
     lambda z: Bound(math.sqrt(z.away**2 + 1), math.sqrt(z.mag**2 + 1), z.d)),
    # several statements and a re-assignment; |bump| <= 1, |bump'| <= 1 + 0.65
    ("def bump(z):\n    t = z * z\n    t = 1.0 / (1 + t)\n    return t * math.cos(z)\n",
     lambda z: Bound(-1.0, 1.0, 2.0 * z.d)),
    # a helper calling a helper, two parameters
    ("def mix(a, b):\n    s = sigmoid(a)\n    return s * b + (1 - s) * math.tanh(b)\n",
     _mix_bound),
    # tuple unpacking and augmented assignment inside a helper (bound: its own body)
    ("def poly(z, w):\n    u, v = z * w, z - w\n    u += v * 0.5\n    u *= 0.5\n"
     "    return u - v * v * 0.25\n", None),
    # helpers calling helpers (bound: its own body on the other helpers' bounds)
    ("def gate(z, w):\n    return sigmoid(z) * math.tanh(w) + bump(w)\n", None),
    # *args, read for its length before the program runs: it grows in a branch, and the
    # comprehension there must see the new length (srcad.specialize); called with 2
    ("def grown(*vals, scale=0.5):\n    if len(vals) > 1:\n        vals = vals + (scale,)\n"
     "        return scale * sum([v * v for v in vals]) / len(vals)\n"
     "    return scale * sum([v * v for v in vals])\n", None),
    # a decorator whose wrapper changes the result (functools.wraps: srcad must read the
    # wrapper, not the function in its __wrapped__); 0.5 sin z + 0.25 z
    ("def halved(fn):\n    @functools.wraps(fn)\n    def wrapper(z):\n"
     "        return 0.5 * fn(z) + 0.25 * z\n\n    return wrapper\n\n\n"
     "@halved\ndef damped(z):\n    return math.sin(z)\n", None),
]


def _build_helpers() -> dict[str, Helper]:
    helpers: dict[str, Helper] = {}
    abstract: dict[str, object] = {"math": AMATH, "functools": functools}
    for source, bound in _HELPER_TABLE:
        node = ast.parse(source).body[-1]  # (the helper: after its decorator, if any)
        assert isinstance(node, ast.FunctionDef)
        if bound is None:
            namespace = dict(abstract)
            exec(compile(source, f"<helper {node.name}>", "exec"), namespace)  # noqa: S102
            bound = namespace[node.name]
        arity = len(node.args.args) or (2 if node.args.vararg else 0)  # (*args: two)
        helpers[node.name] = Helper(node.name, arity, source, bound)
        abstract[node.name] = bound
    return helpers


HELPERS: dict[str, Helper] = _build_helpers()

#: Classes of the user's, made inside the programs (:func:`s_objects`): a holder of an
#: array, a container with ``__setitem__``, a tally with ``__len__`` (its truth), and an
#: optimizer step that updates its array argument in place.
OBJECT_CLASSES = """\
class Holder:
    def __init__(self, w, scale):
        self.w = w
        self.scale = scale

    def keep(self, w):
        self.w = w


class Grid:
    def __init__(self, values):
        self.values = values

    def __getitem__(self, i):
        return self.values[i]

    def __setitem__(self, i, v):
        self.values[i] = v


class Tally:
    def __init__(self):
        self.items = []

    def __len__(self):
        return len(self.items)


class Stepper:
    def __init__(self, rate):
        self.rate = rate

    def apply(self, w, g):
        w -= self.rate * g
"""

#: Namedtuple classes made inside the programs (:func:`s_named_tuples`): one of
#: ``collections.namedtuple``, one of ``typing.NamedTuple`` with a default, a property
#: and a method that makes a new one.
TUPLE_CLASSES = """\
import collections
import typing

Pair = collections.namedtuple("Pair", "a b")


class Motion(typing.NamedTuple):
    q: float
    p: float
    m: float = 2.0

    @property
    def energy(self):
        return 0.5 * self.p * self.p / self.m + 0.5 * self.q * self.q

    def kicked(self, f):
        return self._replace(p=self.p + f)
"""

#: Helpers whose code a constant argument decides (srcad specialises a helper on the
#: constants a call passes: branches, lengths of lists it grows, arithmetic of them,
#: recursion, ``match``), called by :func:`s_constant_helper` only, so that the draws of
#: the other kinds stay as they were. Each reads its constant as Python does: a list
#: grown after its display, a comprehension's own ``n``, ``n % 2`` and ``n // 2``.
CONSTANT_HELPERS: dict[str, Helper] = {}
_CONSTANT_HELPER_TABLE = [
    "def grown_parts(z, n):\n    parts = [z]\n    for j in range(n):\n"
    "        parts.append(0.5 * z * (j + 1))\n    if len(parts) > 2:\n"
    "        return sum(parts) / len(parts)\n    return parts[-1] * 0.5\n",
    "def shadowed_n(z, n):\n"
    "    return sum([z if n == 2 else 0.5 * z for n in range(3)]) + 0.25 * n * z\n",
    "def squared_power(z, n):\n    if n == 0:\n        return 1.0\n"
    "    half = squared_power(z, n // 2)\n    if n % 2 == 0:\n        return half * half\n"
    "    return half * half * math.tanh(z)\n",
    "def matched(z, n):\n    match n:\n        case 0:\n            return math.tanh(z)\n"
    "        case 1 | 2:\n            return 0.5 * z\n        case _:\n"
    "            return math.sin(z) * 0.5\n",
]
for _source in _CONSTANT_HELPER_TABLE:
    _node = ast.parse(_source).body[-1]
    assert isinstance(_node, ast.FunctionDef)
    _namespace: dict[str, object] = {"math": AMATH, "sum": sum}
    exec(compile(_source, f"<helper {_node.name}>", "exec"), _namespace)  # noqa: S102
    CONSTANT_HELPERS[_node.name] = Helper(_node.name, 2, _source, _namespace[_node.name])

#: Helpers that make objects of numbers and update them in loops (a body stepped by its
#: method, two names for one object, two bodies coupled, a dict's state swapped by
#: ``update``, an object rebuilt each iteration, an int counter beside a float, a loop
#: over a list or tuple display of bodies, one of them twice), called
#: by :func:`s_object_helper` only (the float version keeps such objects' fields' adjoints
#: as numbers: stop 47). Each is called with a constant count of steps (0 to 3).
SCALAR_CLASSES = """\
class Body:
    def __init__(self, x, v):
        self.x = x
        self.v = v

    def step(self, dt):
        self.v = self.v - dt * self.x
        self.x = self.x + dt * self.v
"""
OBJECT_HELPERS: dict[str, Helper] = {}
_OBJECT_HELPER_TABLE = [
    "def stepped_body(z, n):\n    b = Body(z, 0.5)\n    for _ in range(n):\n"
    "        b.step(0.25)\n    return b.x + 0.5 * b.v\n",
    "def aliased_body(z, n):\n    b = Body(0.5, z)\n    c = b\n    for _ in range(n):\n"
    "        c.x += 0.25 * b.v\n        b.v -= 0.25 * math.tanh(c.x)\n"
    "    return b.x * 0.5 + c.v\n",
    "def paired_bodies(z, n):\n    a = Body(z, 0.0)\n    b = Body(0.5, 0.5 * z)\n"
    "    for _ in range(n):\n        a.v += 0.1 * (b.x - a.x)\n"
    "        b.v += 0.1 * (a.x - b.x)\n        a.x += 0.1 * a.v\n        b.x += 0.1 * b.v\n"
    "    return a.x * 0.5 + b.x * 0.25\n",
    "def swapped_state(z, n):\n    s = {'acc': 0.0, 'last': z}\n    for j in range(n):\n"
    "        s['acc'] = s['acc'] + 0.5 * s['last']\n        s['last'] = math.tanh(s['last'])\n"
    "    s.update({'acc': s['last'], 'last': s['acc']})\n"
    "    return s['acc'] + 0.5 * s['last']\n",
    "def rebuilt_body(z, n):\n    b = Body(z, 0.0)\n    for _ in range(n):\n"
    "        b = Body(0.5 * b.x + 0.25 * b.v, math.tanh(b.x))\n    return b.x + b.v\n",
    "def counted_mean(z, n):\n    s = {'n': 0, 'total': 0.0}\n    for j in range(n + 1):\n"
    "        s['total'] += z * 0.5\n        s['n'] += 1\n    return s['total'] / s['n']\n",
    "def listed_bodies(z, n):\n    bs = [Body(z, 0.0), Body(0.5, z)]\n    for _ in range(n):\n"
    "        for b in bs:\n            b.v -= 0.25 * b.x\n            b.x += 0.25 * b.v\n"
    "    return bs[0].x + 0.5 * bs[1].x\n",
    "def bodies_twice(z, n):\n    a = Body(z, 0.5)\n    c = Body(0.25, z)\n"
    "    for _ in range(n):\n        for b in (a, c, a):\n            b.step(0.25)\n"
    "            b.v = 0.5 * b.v + 0.25 * math.tanh(b.x)\n    return a.x + c.v\n",
    "def zipped_bodies(z, n):\n    bs = [Body(z, 0.25), Body(0.5, z)]\n    ws = [0.5, z]\n"
    "    for _ in range(n):\n        for b, w in zip(bs, ws):\n            b.v += 0.25 * w * b.x\n"
    "        for k, b in enumerate(bs):\n            b.x += 0.25 * b.v * (k + 1)\n"
    "    return bs[0].x + 0.5 * bs[1].v\n",
    # objects picked by a count and by a slice of their display (round 77b: unrolled)
    "def chained_bodies(z, n):\n    bs = [Body(z, 0.0), Body(0.5, 0.25), Body(0.25, z)]\n"
    "    for _ in range(n):\n        for i in range(len(bs) - 1):\n"
    "            f = 0.25 * (bs[i + 1].x - bs[i].x)\n            bs[i].v += f\n"
    "            bs[i + 1].v -= f\n        for i, a in enumerate(bs):\n"
    "            for b in bs[i + 1:]:\n                a.x += 0.125 * b.v\n"
    "    return bs[0].x + 0.5 * bs[2].v\n",
]
_classes: dict[str, object] = {}
exec(compile(SCALAR_CLASSES, "<scalar classes>", "exec"), _classes)  # noqa: S102
for _source in _OBJECT_HELPER_TABLE:
    _node = ast.parse(_source).body[-1]
    assert isinstance(_node, ast.FunctionDef)
    _namespace = {"math": AMATH, "Body": _classes["Body"]}
    exec(compile(_source, f"<helper {_node.name}>", "exec"), _namespace)  # noqa: S102
    OBJECT_HELPERS[_node.name] = Helper(_node.name, 2, _source, _namespace[_node.name])

#: A factory of closures and a helper that calls the function it is given (:func:`s_closures`).
FACTORY_SOURCE = (
    "def make_affine(c):\n    def affine(z):\n        return c * math.tanh(z) + 0.5 * z\n\n"
    "    return affine\n\n\ndef apply_twice(fn, z):\n    return fn(fn(z))\n"
)

PRELUDE = (
    '"""Generated by tests/programs.py (srcad random-program tests)."""\n\n'
    "import functools\nimport math\n\nimport numpy as np\n\n"
    "k = 1.0  # (a global a helper reads: programs name locals k too)\n\n\n"
    + FACTORY_SOURCE + "\n\n"
    + "\n\n".join(h.source for h in HELPERS.values())
    + "\n\n" + "\n\n".join(h.source for h in CONSTANT_HELPERS.values())
    + "\n\n" + OBJECT_CLASSES + "\n\n" + SCALAR_CLASSES + "\n\n" + TUPLE_CLASSES
    + "\n\n" + "\n\n".join(h.source for h in OBJECT_HELPERS.values())
)

# ---------------------------------------------------------------- expressions as (AST, Bound)


@dataclass(frozen=True, eq=False)
class Val:
    """An expression: its AST and the bound of its value."""

    node: ast.expr
    bound: Bound

    @property
    def is_leaf(self) -> bool:
        return isinstance(self.node, ast.Name | ast.Constant)

    def __str__(self) -> str:
        return ast.unparse(self.node)


_BINOPS = {
    "+": (ast.Add, lambda a, b: a + b),
    "-": (ast.Sub, lambda a, b: a - b),
    "*": (ast.Mult, lambda a, b: a * b),
    "/": (ast.Div, lambda a, b: a / b),
    "**": (ast.Pow, lambda a, b: a ** b),
}


def const(c: float) -> Val:
    return Val(ast.Constant(c), Bound.const(c))


def binop(a: Val, op: str, b: Val | float) -> Val:
    b = b if isinstance(b, Val) else const(b)
    node_op, fn = _BINOPS[op]
    bound = fn(a.bound, b.bound.lo if op == "**" else b.bound)
    return Val(ast.BinOp(a.node, node_op(), b.node), bound)


def neg(a: Val) -> Val:
    return Val(ast.UnaryOp(ast.USub(), a.node), -a.bound)


def pos(a: Val) -> Val:
    return Val(ast.UnaryOp(ast.UAdd(), a.node), +a.bound)


def mcall(fn: str, a: Val, *consts: float) -> Val:
    """``math.<fn>(a)`` (``math.pow(a, p)`` with constant ``consts``)."""
    node = ast.Call(ast.Attribute(ast.Name("math", ast.Load()), fn, ast.Load()),
                    [a.node, *(ast.Constant(c) for c in consts)], [])
    return Val(node, getattr(AMATH, fn)(a.bound, *consts))


def abs_(a: Val) -> Val:
    return Val(ast.Call(ast.Name("abs", ast.Load()), [a.node], []), abs(a.bound))


def hcall(name: str, *args: Val) -> Val:
    helper = HELPERS[name]
    node = ast.Call(ast.Name(name, ast.Load()), [a.node for a in args], [])
    return Val(node, helper.bound(*(a.bound for a in args)))


def square_ish(a: Val) -> Val:
    """``t * t`` (fan-out) for a leaf, ``a ** 2`` otherwise."""
    return binop(a, "*", a) if a.is_leaf else binop(a, "**", 2)


# ---------------------------------------------------------------- generation context


@dataclass
class Context:
    """The variables in scope (name -> Bound, in definition order) while generating."""

    params: tuple[str, ...]
    expression_kinds: Sequence[Callable]
    env: dict[str, Bound] = field(default_factory=dict)
    max_depth: int = 3
    #: Names statements may read but not assign (a ``while`` loop's counter, loop indices).
    readonly: frozenset[str] = frozenset()
    #: Names used for something other than a float (nested functions): never new variables.
    #: Shared by forks.
    taken: set[str] = field(default_factory=set)
    #: Bounds of the values the function may return early (:func:`s_early_return`).
    early_returns: list[Bound] = field(default_factory=list)

    def fork(self) -> Context:
        return Context(self.params, self.expression_kinds, dict(self.env), self.max_depth,
                       self.readonly, self.taken)

    def variables(self) -> list[str]:
        """Names in scope, most recently (re)assigned first."""
        return list(reversed(self.env))

    def writable(self) -> list[str]:
        """:meth:`variables` that statements may assign (not :attr:`readonly`)."""
        return [name for name in self.variables() if name not in self.readonly]

    def bound(self, name: str) -> Bound:
        return self.env[name]

    def var(self, name: str) -> Val:
        return Val(ast.Name(name, ast.Load()), self.env[name])

    def bind(self, name: str, bound: Bound) -> None:
        self.env.pop(name, None)  # re-insert: "most recent" order
        self.env[name] = bound

    def new_name(self, draw) -> str:
        used = set(self.env) | RESERVED | self.taken
        plain = [n for n in PLAIN_NAMES if n not in used]
        tricky = [n for n in TRICKY_NAMES if n not in used]
        if tricky and (not plain or draw(st.integers(0, 7)) == 7):
            return draw(st.sampled_from(tricky))
        if plain:
            return draw(st.sampled_from(plain))
        i = 0
        while f"v{i}" in used:
            i += 1
        return f"v{i}"

    # ---- expressions
    def leaf(self, draw) -> Val:
        if draw(st.integers(0, 5)) == 5:
            return const(draw(st.sampled_from(CONSTANTS)))
        return self.var(draw(st.sampled_from(self.variables())))

    def expr(self, draw, depth: int | None = None) -> Val:
        """A random expression over the variables in scope, at most ``depth`` deep."""
        if depth is None:
            depth = draw(st.integers(1, self.max_depth))
        if depth <= 0:
            return self.leaf(draw)
        kind = self.expression_kinds[draw(st.integers(0, len(self.expression_kinds) - 1))]
        try:
            val = kind(draw, self, depth)
        except IllConditioned:
            val = None
        return val if val is not None else self.leaf(draw)


def choose(draw, options: Sequence[Callable[[], Val]]) -> Val | None:
    """Build every option that stays well-conditioned and draw one of them."""
    built = []
    for option in options:
        try:
            built.append(option())
        except IllConditioned:
            pass
    return draw(st.sampled_from(built)) if built else None


PLAIN_NAMES = ("a", "b", "c", "s", "u", "v", "p", "q", "r", "h", "k", "m", "n", "e", "g",
               "acc", "tmp", "out")
#: Names that look like srcad's own (adjoints dX / d_X, temporaries tN, SSA versions X_N).
TRICKY_NAMES = ("t1", "t2", "dx", "da", "d_a", "a_1", "x_1", "ans", "grad", "result")
#: Never used as variables: the module's globals.
RESERVED = frozenset({
    "functools", "math", "np", "scipy", "abs", "range", "i", "halved", *HELPERS,
    *CONSTANT_HELPERS,
    *OBJECT_HELPERS, "Body",
})
PARAM_SCHEMES = (
    ("x", "y", "z", "w"),
    ("a", "b", "c", "d"),
    ("x1", "x2", "x3", "x4"),
    ("p", "q", "r", "s"),
    ("x", "dx", "t1", "x_1"),  # parameters named like srcad's adjoints/temporaries
)
CONSTANTS = (1.0, 2.0, 0.5, 3.0, 1.5, 0.25, 2, 3, 1)

# ---------------------------------------------------------------- expression kinds


def e_arith(draw, ctx: Context, depth: int) -> Val:
    """``a + b``, ``a - b``, ``a * b``."""
    op = draw(st.sampled_from(("+", "*", "-")))
    return binop(ctx.expr(draw, depth - 1), op, ctx.expr(draw, depth - 1))


def e_scale(draw, ctx: Context, depth: int) -> Val:
    """A constant factor or divisor: ``0.5 * a``, ``a / 3.0``, ``2 * a``."""
    a = ctx.expr(draw, depth - 1)
    c = draw(st.sampled_from((0.5, 2.0, 3.0, 2, 0.25, 1.5)))
    return draw(st.sampled_from((
        lambda: binop(const(c), "*", a),
        lambda: binop(a, "*", c),
        lambda: binop(a, "/", c),
    )))()


def e_unary(draw, ctx: Context, depth: int) -> Val:
    """``-a`` (mostly) or ``+a``."""
    a = ctx.expr(draw, depth - 1)
    return pos(a) if draw(st.integers(0, 3)) == 3 else neg(a)


def e_trig(draw, ctx: Context, depth: int) -> Val:
    """``math.sin/cos/tanh(a)``: bounded, and the usual way to tame a large value."""
    fn = draw(st.sampled_from(("tanh", "sin", "cos")))
    return mcall(fn, ctx.expr(draw, depth - 1))


def e_exp(draw, ctx: Context, depth: int) -> Val | None:
    a = ctx.expr(draw, depth - 1)
    return choose(draw, [
        lambda: mcall("exp", a),
        lambda: mcall("exp", mcall("tanh", a)),
        lambda: mcall("exp", mcall("sin", a)),
        lambda: mcall("exp", neg(square_ish(a))),
        lambda: mcall("exp", binop(const(0.5), "*", a)),
    ])


def e_log(draw, ctx: Context, depth: int) -> Val | None:
    a = ctx.expr(draw, depth - 1)
    return choose(draw, [
        lambda: mcall("log", binop(const(1), "+", square_ish(a))),
        lambda: mcall("log", a),
        lambda: mcall("log", binop(const(2), "+", mcall("sin", a))),
        lambda: mcall("log", mcall("exp", a)),
        lambda: mcall("log", binop(const(1), "+", mcall("exp", mcall("tanh", a)))),
    ])


def e_sqrt(draw, ctx: Context, depth: int) -> Val | None:
    a = ctx.expr(draw, depth - 1)
    return choose(draw, [
        lambda: mcall("sqrt", binop(const(1), "+", square_ish(a))),
        lambda: mcall("sqrt", a),
        lambda: mcall("sqrt", binop(const(2.0), "+", mcall("cos", a))),
        lambda: mcall("sqrt", binop(square_ish(a), "+", const(0.5))),
    ])


def e_pow(draw, ctx: Context, depth: int) -> Val | None:
    """Constant exponents; fractional and negative ones on positive bases only."""
    p = draw(st.sampled_from((2, 3, 0.5, 2.0, 1.5, -1, 3.0)))
    a = ctx.expr(draw, depth - 1)
    return choose(draw, [
        lambda: binop(a, "**", p),
        lambda: binop(binop(const(1), "+", square_ish(a)), "**", p),
        lambda: binop(binop(const(2), "+", mcall("sin", a)), "**", p),
        lambda: binop(mcall("tanh", a), "**", p),
    ])


def _away_from_zero(a: Val) -> Val:
    if a.bound.away < MIN_AWAY:
        raise IllConditioned("not bounded away from zero")
    return a


def e_abs(draw, ctx: Context, depth: int) -> Val | None:
    """``abs`` without kinks: squared, cubed, ``abs(a) * a * a``, or away from zero.

    (``abs(a) * a`` is differentiable but not C2: central differences at ``a = 0``
    are then only O(h) accurate, so it is left out.)
    """
    a = ctx.expr(draw, depth - 1)
    return choose(draw, [
        lambda: binop(abs_(a), "**", 2),
        lambda: binop(binop(abs_(a), "*", a), "*", a),
        lambda: abs_(_away_from_zero(a)),
        lambda: abs_(binop(const(2), "+", mcall("sin", a))),
        lambda: abs_(binop(const(-1.5), "-", mcall("tanh", a))),
        lambda: binop(abs_(a), "**", 3),
    ])


def e_truncated(draw, ctx: Context, depth: int) -> Val | None:
    """A value truncated to 0 before a function with an infinite slope there, on the side
    where it is truncated: ``math.sqrt(max(b, 0.0))`` with ``b < 0`` (Heston's "full
    truncation"), ``math.sqrt(-min(b, 0.0))`` with ``b > 0``. The value is 0 and does not
    change: the gradient is exactly 0, not ``0 * inf``. (Numpy programs: ``np.maximum``.)"""
    a = ctx.expr(draw, depth - 1)

    def extreme(name: str, b: Val) -> Val:
        node = ast.Call(ast.Name(name, ast.Load()), [b.node, ast.Constant(0.0)], [])
        return Val(node, Bound.const(0.0))

    below = binop(const(-1), "-", square_ish(a))  # (<= -1)
    above = binop(const(0.5), "+", binop(mcall("tanh", a), "**", 2))  # (>= 0.5)
    return choose(draw, [
        lambda: mcall("sqrt", extreme("max", below)),
        lambda: mcall("sqrt", neg(extreme("min", above))),
        lambda: binop(mcall("sqrt", extreme("max", below)), "+", a),
    ])


def safe_denominator(draw, b: Val) -> Val | None:
    """``b`` itself if bounded away from zero, else a positive form built from it."""
    return choose(draw, [
        lambda: binop(const(1), "+", square_ish(b)),
        lambda: _away_from_zero(b),
        lambda: binop(const(2), "+", mcall("sin", b)),
        lambda: binop(const(1.5), "+", mcall("tanh", b)),
        lambda: mcall("exp", mcall("tanh", b)),
        lambda: mcall("sqrt", binop(const(1), "+", square_ish(b))),
        lambda: binop(const(1), "+", hcall("sigmoid", b)),
        lambda: binop(const(-1), "-", square_ish(b)),  # negative, away from zero
    ])


def e_div(draw, ctx: Context, depth: int) -> Val | None:
    a = ctx.expr(draw, depth - 1) if draw(st.integers(0, 3)) else const(1.0)
    den = safe_denominator(draw, ctx.expr(draw, depth - 1))
    return binop(a, "/", den) if den is not None else None


def e_sigmoid_idiom(draw, ctx: Context, depth: int) -> Val:
    """The sigmoid spelled inline, and near-misses of srcad's one-gate sigmoid pattern.

    ``c1 / (c2 + exp(s * a))`` with c2 > 0: monotone in a, |d/da| <= c1 |s| / (4 c2).
    """
    a = ctx.expr(draw, depth - 1)
    c1, c2, s, spelling = draw(st.sampled_from((
        (1, 1, -1, "neg"),      # 1 / (1 + exp(-a))       the idiom
        (1.0, 1.0, -1, "neg"),  # 1.0 / (1.0 + exp(-a))   the idiom, float constants
        (1, 1, 1, "plain"),     # 1 / (1 + exp(a))        sigmoid(-a): not the idiom
        (2, 1, -1, "neg"),      # 2 / (1 + exp(-a))
        (1, 2, -1, "neg"),      # 1 / (2 + exp(-a))
        (1, 1, -2, "scaled"),   # 1 / (1 + exp(-2 * a))
    )))
    if spelling == "neg":
        inner = neg(a)
    elif spelling == "plain":
        inner = a
    else:
        inner = binop(const(s), "*", a)
    lo_hi = (c1 / (c2 + math.exp(s * a.bound.lo)), c1 / (c2 + math.exp(s * a.bound.hi)))
    bound = Bound(min(lo_hi), max(lo_hi), c1 * abs(s) / (4 * c2) * a.bound.d)
    exp_node = ast.Call(ast.Attribute(ast.Name("math", ast.Load()), "exp", ast.Load()),
                        [inner.node], [])
    node = ast.BinOp(ast.Constant(c1), ast.Div(),
                     ast.BinOp(ast.Constant(c2), ast.Add(), exp_node))
    return Val(node, bound)


def e_more_math(draw, ctx: Context, depth: int) -> Val | None:
    """The rest of the ``math`` table, each on a domain where it is well-conditioned."""
    a = ctx.expr(draw, depth - 1)
    half = binop(const(0.5), "*", mcall("tanh", a))  # in [-0.5, 0.5]
    p = draw(st.sampled_from((0.5, 2, 1.5)))
    return choose(draw, [
        lambda: mcall("atan", a),
        lambda: mcall("log1p", square_ish(a)),
        lambda: mcall("expm1", mcall("tanh", a)),
        lambda: mcall("sinh", mcall("sin", a)),
        lambda: mcall("cosh", mcall("tanh", a)),
        lambda: mcall("tan", half),
        lambda: mcall("asin", half),
        lambda: mcall("acos", half),
        lambda: mcall("pow", binop(const(1), "+", square_ish(a)), p),
        lambda: mcall("pow", a, 2),
    ])


def e_helper(draw, ctx: Context, depth: int) -> Val:
    helper = HELPERS[draw(st.sampled_from(list(HELPERS)))]
    args = [ctx.expr(draw, depth - 1) for _ in range(helper.arity)]
    return hcall(helper.name, *args)


def e_fanout(draw, ctx: Context, depth: int) -> Val:
    """One variable used several times in one expression: ``t * math.sin(t) + t``."""
    t = ctx.var(draw(st.sampled_from(ctx.variables())))
    return choose(draw, [
        lambda: binop(binop(t, "*", t), "-", t),
        lambda: binop(binop(t, "*", mcall("sin", t)), "+", t),
        lambda: binop(t, "/", binop(const(1), "+", binop(t, "*", t))),
        lambda: binop(mcall("tanh", t), "*", binop(t, "+", t)),
        lambda: binop(binop(t, "*", t), "*", t),
    ])


#: Expression builders (index 0 shrinks first: keep the simplest forms in front).
EXPRESSION_KINDS: list[Callable] = [
    e_arith, e_arith, e_scale, e_unary, e_trig, e_trig, e_exp, e_log, e_sqrt, e_pow,
    e_div, e_abs, e_sigmoid_idiom, e_helper, e_helper, e_fanout, e_more_math, e_truncated,
]

# ---------------------------------------------------------------- statement kinds


def _name(name: str, store: bool = True) -> ast.Name:
    return ast.Name(name, ast.Store() if store else ast.Load())


def s_assign(draw, ctx: Context) -> list[ast.stmt]:
    """``v = <expr>`` with a new name."""
    name = ctx.new_name(draw)
    val = ctx.expr(draw)
    ctx.bind(name, val.bound)
    return [ast.Assign([_name(name)], val.node)]


def s_reassign(draw, ctx: Context) -> list[ast.stmt] | None:
    """``x = x * <expr>`` or ``x = <expr>``: a new version of an existing name (SSA)."""
    names = ctx.writable()
    if not names:
        return None
    name = draw(st.sampled_from(names))
    if draw(st.booleans()):
        val = ctx.expr(draw)
    else:
        op = draw(st.sampled_from(("*", "+", "-")))
        try:
            val = binop(ctx.var(name), op, ctx.expr(draw, draw(st.integers(0, 2))))
        except IllConditioned:
            return None
    ctx.bind(name, val.bound)
    return [ast.Assign([_name(name)], val.node)]


def s_augassign(draw, ctx: Context) -> list[ast.stmt] | None:
    """``s += t``, ``-=``, ``*=``, ``/=`` (by a safe denominator), ``**=`` (constant)."""
    names = ctx.writable()
    if not names:
        return None
    name = draw(st.sampled_from(names))
    op = draw(st.sampled_from(("+", "*", "-", "/", "**")))
    if op == "/":
        rhs = safe_denominator(draw, ctx.expr(draw, draw(st.integers(0, 2))))
        if rhs is None:
            return None
    elif op == "**":
        rhs = const(draw(st.sampled_from((2, 3, 0.5, 2.0))))
    else:
        rhs = ctx.expr(draw, draw(st.integers(0, 2)))
    try:
        val = binop(ctx.var(name), op, rhs)
    except IllConditioned:
        return None
    ctx.bind(name, val.bound)
    return [ast.AugAssign(_name(name), _BINOPS[op][0](), rhs.node)]


def s_unpack(draw, ctx: Context) -> list[ast.stmt]:
    """``a, b = b, a * x``: simultaneous assignment of 2-3 names (new or existing)."""
    n = draw(st.integers(2, 3))
    targets: list[str] = []
    for _ in range(n):
        existing = [v for v in ctx.writable() if v not in targets]
        if existing and draw(st.booleans()):
            targets.append(draw(st.sampled_from(existing)))
        else:
            probe = ctx.fork()
            for t in targets:
                probe.env.setdefault(t, Bound.const(0.0))
            targets.append(probe.new_name(draw))
    vals = [ctx.expr(draw, draw(st.integers(0, 2))) for _ in targets]  # all read the old env
    for t, v in zip(targets, vals, strict=True):
        ctx.bind(t, v.bound)
    return [ast.Assign(
        [ast.Tuple([_name(t) for t in targets], ast.Store())],
        ast.Tuple([v.node for v in vals], ast.Load()),
    )]


#: Straight-line statement builders: what loop bodies and branches are made of.
STRAIGHT_KINDS: list[Callable] = [
    s_assign, s_assign, s_reassign, s_augassign, s_unpack,
]

# ---------------------------------------------------------------- abstract execution

#: Thresholds of generated ``if`` tests: "odd" constants that Hypothesis' favourite
#: values (0, 1, 0.5, the box's ends, ...) and simple expressions of them never hit, so
#: the test points stay away from the branch switch (the checker also nudges points
#: whose one-sided differences disagree, see test_random_programs.py).
THRESHOLDS = (0.3183, -0.4142, 0.7071, -1.1547, 0.1234, 1.6180, -0.2718)

def _lifting(fn: Callable, n_lift: int | None = None) -> Callable:
    """``fn`` on Bounds, also when a constant sub-expression evaluated to a float."""
    def wrapper(*args):
        k = len(args) if n_lift is None else n_lift
        return fn(*(lift(a) if i < k else a for i, a in enumerate(args)))
    return wrapper


_AMATH_LIFTED = types.SimpleNamespace(**{
    k: (_lifting(v, 1) if callable(v) else v) for k, v in vars(AMATH).items()})


def _bound_extreme(builtin: Callable) -> Callable:
    """``max`` or ``min`` of two values whose bounds are known (both lie in the join of
    the operands'); ``builtin`` for anything else (the largest of a list of numbers)."""
    def extreme(*args, **kwargs):
        if len(args) != 2 or kwargs or not any(isinstance(a, Bound) for a in args):
            return builtin(*args, **kwargs)
        a, b = lift(args[0]), lift(args[1])
        return Bound(min(a.lo, b.lo), max(a.hi, b.hi), max(a.d, b.d))

    return extreme


def _abstract_namespace(env: dict[str, Bound]) -> dict:
    namespace = {"math": _AMATH_LIFTED, "np": _AMATH_LIFTED, "abs": abs,
                 "max": _bound_extreme(max), "min": _bound_extreme(min),
                 **{name: _lifting(h.bound) for name, h in HELPERS.items()}}
    namespace.update(env)
    return namespace


def abstract_exec(stmts: list[ast.stmt], env: dict[str, Bound]) -> dict[str, Bound]:
    """Run straight-line ``stmts`` on :class:`Bound` values; return the new env.
    Raises :class:`IllConditioned` when a value leaves the well-conditioned region."""
    namespace = _abstract_namespace(env)
    module = ast.fix_missing_locations(ast.Module(copy.deepcopy(stmts), []))
    try:
        exec(compile(module, "<abstract>", "exec"), namespace)  # noqa: S102
    except ZeroDivisionError as exc:  # pragma: no cover - bounds exclude it
        raise IllConditioned(str(exc)) from None
    out = dict(env)
    for name in _assigned_names(stmts):
        out.pop(name, None)
        out[name] = lift(namespace[name])
    return out


def _assigned_names(stmts: list[ast.stmt]) -> list[str]:
    names: list[str] = []
    for stmt in stmts:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) \
                    and node.id not in names:
                names.append(node.id)
    return names


def _straight(draw, ctx: Context, n: int) -> list[ast.stmt]:
    stmts: list[ast.stmt] = []
    for _ in range(n):
        kind = STRAIGHT_KINDS[draw(st.integers(0, len(STRAIGHT_KINDS) - 1))]
        snapshot = dict(ctx.env)
        try:
            built = kind(draw, ctx)
        except IllConditioned:
            built = None
        if built is None:
            ctx.env = snapshot
            built = s_assign(draw, ctx)
        stmts += built
    return stmts


# ---------------------------------------------------------------- abstract interpretation
#
# The control-flow kinds (s_while and the ones after it) build their statements on forks
# of the context, then run them on Bound values from the variables' real bounds
# (:func:`abstract_run`): every path of every branch, loops iteration by iteration (the
# trip counts are constants or come from a counter), so the bounds they bind are sound
# whatever the bodies do.

#: A ``while`` loop whose counter does not end it within this many iterations is refused.
WHILE_CAP = 12

_COMPARISONS: dict[type, Callable[[float, float], bool]] = {
    ast.Gt: lambda a, b: a > b, ast.Lt: lambda a, b: a < b, ast.GtE: lambda a, b: a >= b,
    ast.LtE: lambda a, b: a <= b, ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
}


@dataclass(frozen=True, eq=False)
class _Def:
    """A function defined inside the generated function (``def h(t): ...`` or ``h = lambda
    t: ...``, as a ``def``), kept in an abstract environment. It is defined again in the
    namespace of every statement that runs, so a call reads the enclosing variables' bounds
    at the call, as Python's closures read their values (late binding)."""

    node: ast.FunctionDef


Env = dict  # name -> Bound (a float) or _Def (a nested function)


@dataclass
class Flow:
    """Where control leaves a block and the bounds of the variables there (``None``: it
    never leaves that way): at its end, at ``break``, at ``continue``; and the bound of
    the values it may ``return``."""

    normal: Env | None
    breaks: Env | None = None
    continues: Env | None = None
    returns: Bound | None = None

    def merge(self, other: Flow) -> Flow:
        """Either of the two flows (the two paths of a branch)."""
        return Flow(join_envs(self.normal, other.normal), join_envs(self.breaks, other.breaks),
                    join_envs(self.continues, other.continues),
                    _join_bounds(self.returns, other.returns))


def _join_bounds(a: Bound | None, b: Bound | None) -> Bound | None:
    if a is None:
        return b
    return a if b is None or b is a else a.join(b)


def join_envs(a: Env | None, b: Env | None) -> Env | None:
    """The environment after either ``a`` or ``b``: the names bound in both, each with the
    join of its bounds (the same object when both have it: it is then the same value)."""
    if a is None:
        return b
    if b is None:
        return a
    out: Env = {}
    for name, va in a.items():
        if name not in b:
            continue
        vb = b[name]
        if va is vb:
            out[name] = va
        elif isinstance(va, Bound) and isinstance(vb, Bound):
            out[name] = va.join(vb)
    return out


def _namespace(env: Env) -> dict:
    namespace = _abstract_namespace({k: v for k, v in env.items() if isinstance(v, Bound)})
    for value in env.values():
        if isinstance(value, _Def):
            module = ast.fix_missing_locations(ast.Module([value.node], []))
            exec(compile(module, "<abstract>", "exec"), namespace)  # noqa: S102
    return namespace


def abstract_eval(node: ast.expr, env: Env) -> Bound:
    """The bound of expression ``node`` (without ``sum`` of a comprehension) in ``env``."""
    code = compile(ast.fix_missing_locations(ast.Expression(node)), "<abstract>", "eval")
    try:
        return lift(eval(code, _namespace(env)))  # noqa: S307
    except ZeroDivisionError as exc:  # pragma: no cover - bounds exclude it
        raise IllConditioned(str(exc)) from None


def _is_summed(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "sum" and isinstance(node.args[0], ast.GeneratorExp | ast.ListComp))


class _Rename(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping

    def visit_Name(self, node):
        return ast.Name(self.mapping.get(node.id, node.id), node.ctx)


class _HoistSums(ast.NodeTransformer):
    """``sum(e for t in xs if c[, start])`` -> a name computed by a loop before the
    statement (``_sum0 = start; for _item0 in xs: if c: _sum0 = _sum0 + e``), the loop
    variable renamed in ``e`` and ``c`` only: ``xs`` is evaluated outside the comprehension."""

    def __init__(self) -> None:
        self.before: list[ast.stmt] = []
        self.temporaries: list[str] = []

    def visit_Call(self, node):
        if not _is_summed(node):
            return self.generic_visit(node)
        comp = node.args[0]
        (gen,) = comp.generators
        total, item = f"_sum{len(self.before)}", f"_item{len(self.before)}"
        self.temporaries += [total, item]
        rename = _Rename({gen.target.id: item})
        elt = rename.visit(copy.deepcopy(comp.elt))
        tests = [rename.visit(copy.deepcopy(test)) for test in gen.ifs]
        add: ast.stmt = ast.Assign([_name(total)], ast.BinOp(_name(total, False), ast.Add(), elt))
        if tests:
            test = tests[0] if len(tests) == 1 else ast.BoolOp(ast.And(), tests)
            add = ast.If(test, [add], [])
        start = node.args[1] if len(node.args) > 1 else ast.Constant(0)
        self.before += [ast.Assign([_name(total)], start),
                        ast.For(_name(item), gen.iter, [add], [])]
        return _name(total, False)


def _run_simple(stmt: ast.stmt, env: Env) -> Flow:
    if any(_is_summed(node) for node in ast.walk(stmt)):
        hoist = _HoistSums()
        rewritten = hoist.visit(copy.deepcopy(stmt))
        flow = abstract_run([*hoist.before, rewritten], env)
        assert flow.normal is not None
        return Flow({k: v for k, v in flow.normal.items() if k not in hoist.temporaries})
    namespace = _namespace(env)
    module = ast.fix_missing_locations(ast.Module([stmt], []))
    try:
        exec(compile(module, "<abstract>", "exec"), namespace)  # noqa: S102
    except ZeroDivisionError as exc:  # pragma: no cover - bounds exclude it
        raise IllConditioned(str(exc)) from None
    out = dict(env)
    for name in _assigned_names([stmt]):
        out.pop(name, None)
        out[name] = lift(namespace[name])
    return Flow(out)


def decide(test: ast.expr, env: Env) -> bool | None:
    """The value of ``test`` when ``env`` fixes it (a comparison of exactly known numbers
    without calls: a loop counter or index with a constant), else ``None`` (both ways).
    Evaluates the operands of every comparison, so they must be well-conditioned."""
    if isinstance(test, ast.BoolOp):
        values = [decide(value, env) for value in test.values]
        short = isinstance(test.op, ast.Or)  # the value that decides: True for `or`
        if short in values:
            return short
        return None if None in values else not short
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        value = decide(test.operand, env)
        return None if value is None else not value
    if not isinstance(test, ast.Compare):
        abstract_eval(test, env)
        return None
    operands = [abstract_eval(node, env) for node in (test.left, *test.comparators)]
    if any(isinstance(node, ast.Call) for node in ast.walk(test)) or any(
            b.lo != b.hi for b in operands):
        return None
    return all(_COMPARISONS[type(op)](a.lo, b.lo)
               for op, a, b in zip(test.ops, operands, operands[1:]))


def _iterations(node: ast.expr, env: Env) -> tuple[list[Bound], int]:
    """A ``for`` loop's items (the most it can run) and the fewest iterations it runs."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id == "range" and len(node.args) == 1:
        count = abstract_eval(node.args[0], env)
        assert count.d == 0, "range() of data"
        most = max(0, math.floor(count.hi))
        return [Bound.const(float(k)) for k in range(most)], max(0, math.ceil(count.lo))
    assert isinstance(node, ast.Tuple | ast.List), ast.unparse(node)
    items = [abstract_eval(elt, env) for elt in node.elts]
    return items, len(items)


def _run_loop(stmt: ast.For | ast.While, env: Env) -> Flow:
    """Iterate the body; the states where the loop may end are joined (with its breaks)."""
    ends: Env | None = None  # the states where the loop's test or items may end it
    breaks: Env | None = None
    returns: Bound | None = None
    state: Env | None = env
    if isinstance(stmt, ast.For):
        items, fewest = _iterations(stmt.iter, env)
        target = stmt.target.id
    else:
        items, fewest, target = [None] * (WHILE_CAP + 1), 0, ""
    for count, item in enumerate(items):
        if state is None:
            break
        if isinstance(stmt, ast.While):
            go = decide(stmt.test, state)
            if go is not True:
                ends = join_envs(ends, state)
            if go is False:
                state = None
                break
            if count == WHILE_CAP:
                raise IllConditioned(f"the while loop may run more than {WHILE_CAP} times")
        else:
            if count >= fewest:
                ends = join_envs(ends, state)
            state = {**{k: v for k, v in state.items() if k != target}, target: item}
        flow = abstract_run(stmt.body, state)
        breaks = join_envs(breaks, flow.breaks)
        returns = _join_bounds(returns, flow.returns)
        state = join_envs(flow.normal, flow.continues)
    after = join_envs(ends, state)
    outer = Flow(None)  # (the `else:` block's jumps are the enclosing loop's)
    if stmt.orelse and after is not None:  # (run when the loop ends without a break)
        outer = abstract_run(stmt.orelse, after)
        after = outer.normal
    after = join_envs(after, breaks)
    if after is not None and target:
        after = {k: v for k, v in after.items() if k != target}  # not read after the loop
    return Flow(after, outer.breaks, outer.continues, _join_bounds(returns, outer.returns))


def _as_def(stmt: ast.Assign) -> ast.FunctionDef:
    """``h = lambda args: e`` as ``def h(args): return e``."""
    return ast.FunctionDef(
        name=stmt.targets[0].id, args=stmt.value.args, body=[ast.Return(stmt.value.body)],
        decorator_list=[], returns=None,
        **({"type_params": []} if "type_params" in ast.FunctionDef._fields else {}))


def _run_statement(stmt: ast.stmt, env: Env) -> Flow:
    if isinstance(stmt, ast.Break):
        return Flow(None, breaks=env)
    if isinstance(stmt, ast.Continue):
        return Flow(None, continues=env)
    if isinstance(stmt, ast.Return):
        return Flow(None, returns=abstract_eval(stmt.value, env))
    if isinstance(stmt, ast.If):
        go = decide(stmt.test, env)
        body = abstract_run(stmt.body, env) if go is not False else Flow(None)
        orelse = abstract_run(stmt.orelse, env) if go is not True else Flow(None)
        return body.merge(orelse)
    if isinstance(stmt, ast.For | ast.While):
        return _run_loop(stmt, env)
    if isinstance(stmt, ast.FunctionDef) or (
            isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Lambda)):
        node = stmt if isinstance(stmt, ast.FunctionDef) else _as_def(stmt)
        out = {k: v for k, v in env.items() if k != node.name}
        out[node.name] = _Def(node)
        return Flow(out)
    return _run_simple(stmt, env)


def abstract_run(stmts: list[ast.stmt], env: Env) -> Flow:
    """Run ``stmts`` on :class:`Bound` values: both paths of every branch whose test
    ``env`` does not fix (:func:`decide`), every iteration of every loop (``for`` over
    ``range(<constant or index expression>)`` or a tuple; ``while`` until its test is
    false, at most :data:`WHILE_CAP` times). Raises :class:`IllConditioned` when a value
    leaves the well-conditioned region on any path."""
    flow = Flow(env)
    for stmt in stmts:
        if flow.normal is None:
            break
        step = _run_statement(stmt, flow.normal)
        flow = Flow(step.normal, join_envs(flow.breaks, step.breaks),
                    join_envs(flow.continues, step.continues),
                    _join_bounds(flow.returns, step.returns))
    return flow


def commit(ctx: Context, stmts: list[ast.stmt], new: Collection[str] = ()) -> None:
    """Bind in ``ctx`` the bounds after ``stmts`` (:func:`abstract_run` from ``ctx``'s
    bounds): of the variables they change, and of the ``new`` ones they define on every
    path (names first assigned inside a loop or on one path are not read later: srcad
    refuses them). Early returns go to ``ctx.early_returns``."""
    flow = abstract_run(stmts, ctx.env)
    if flow.normal is None:
        raise IllConditioned("every path returns: the rest would never run")
    assert flow.breaks is None and flow.continues is None
    for name, bound in flow.normal.items():
        if isinstance(bound, Bound) and (
                name in new or (name in ctx.env and ctx.env[name] is not bound)):
            ctx.bind(name, bound)
    if flow.returns is not None:
        ctx.early_returns.append(flow.returns)


def advance(ctx: Context, stmts: list[ast.stmt]) -> None:
    """Update the bounds of ``ctx``'s variables as after ``stmts`` (their breaks,
    continues and returns aside): generating what follows a loop or branch in a body."""
    flow = abstract_run(stmts, ctx.env)
    if flow.normal is None:
        raise IllConditioned("every path jumps")
    for name, bound in flow.normal.items():
        if name in ctx.env and isinstance(bound, Bound) and ctx.env[name] is not bound:
            ctx.bind(name, bound)


# ---------------------------------------------------------------- control flow and numpy


def s_if(draw, ctx: Context) -> list[ast.stmt] | None:
    """``if <expr> > c: ... else: ...`` on data; after it each variable has the join of
    the two branches' bounds (names assigned on one branch only are not read later)."""
    test = ctx.expr(draw, draw(st.integers(0, 2)))
    if test.bound.d == 0:
        return None  # a constant test: not "on data"
    threshold = draw(st.sampled_from(THRESHOLDS))
    op = draw(st.sampled_from((ast.Gt, ast.Lt, ast.GtE, ast.LtE)))
    branches = []
    for _ in range(2):
        fork = ctx.fork()
        body = _straight(draw, fork, draw(st.integers(1, 3)))
        branches.append((body, fork.env))
    (body, env_a), (orelse, env_b) = branches
    joined = {}
    for name in ctx.env.keys() | env_a.keys():
        if name in env_a and name in env_b:
            joined[name] = env_a[name].join(env_b[name])
    # keep "most recently assigned" order: old names first, then the branches' ones
    order = [n for n in ctx.env if n in joined] + [
        n for n in (*_assigned_names(body), *_assigned_names(orelse))
        if n in joined and n not in ctx.env]
    for name in dict.fromkeys(order):
        ctx.bind(name, joined[name])
    node = ast.If(ast.Compare(test.node, [op()], [ast.Constant(threshold)]), body, orelse)
    return [node]


def s_for(draw, ctx: Context) -> list[ast.stmt] | None:
    """``for i in range(n): <body>`` whose body overwrites variables each iteration (and
    may read ``i``); bounds by running the body ``n`` times on :class:`Bound` values."""
    if "i" in ctx.env:
        return None
    n = draw(st.integers(1, 3))
    fork = ctx.fork()
    fork.bind("i", Bound(0.0, float(n - 1), 0.0))
    reassign = []  # at least one existing variable is overwritten in the body
    target = draw(st.sampled_from([v for v in ctx.variables()]))
    rhs = choose(draw, [
        lambda: binop(binop(fork.var(target), "*", const(0.5)), "+",
                      mcall("sin", binop(fork.var(target), "*", fork.var("i")))),
        lambda: binop(fork.var(target), "+", mcall("tanh", fork.expr(draw, 1))),
        lambda: binop(mcall("tanh", fork.var(target)), "*", fork.expr(draw, 1)),
    ])
    if rhs is None:
        return None
    handoff = _index_handoff(draw, fork) if draw(st.integers(0, 3)) == 0 else []
    body = handoff + _straight(draw, fork, draw(st.integers(0, 2)))
    reassign = [ast.Assign([_name(target)], rhs.node)]
    body = body + reassign if draw(st.booleans()) else reassign + body
    # `i` given a value before the loop: the index is carried out of the loop, so it is
    # live after every statement of the body
    before = [ast.Assign([_name("i")], ast.Constant(0))] if handoff and draw(st.booleans()) else []
    env = dict(ctx.env)
    for it in range(n):
        env["i"] = Bound.const(float(it))
        env = abstract_exec(body, env)
    env.pop("i")
    # names first assigned in the body are not read after the loop: srcad refuses that
    # ("used before it is assigned": it does not use the constant trip count n >= 1)
    for name, bound in env.items():
        if name in ctx.env and ctx.env[name] is not bound:
            ctx.bind(name, bound)
    loop = ast.For(_name("i"), ast.Call(ast.Name("range", ast.Load()), [ast.Constant(n)], []),
                   body, [])
    return [*before, loop]


def _index_handoff(draw, fork: Context) -> list[ast.stmt]:
    """``w = i`` or ``w, t = (i, <expr>)``, then ``w **= 2`` (or ``+=``, ``*=``): a name
    that starts as the loop's int index and is updated in place (the memory pass must not
    write the update back into the index; slow run, program 9386)."""
    index = fork.var("i")
    other = fork.expr(draw, 1) if draw(st.booleans()) else None
    w = fork.new_name(draw)
    fork.bind(w, index.bound)
    if other is None:
        stmts: list[ast.stmt] = [ast.Assign([_name(w)], _name("i", store=False))]
    else:
        t = fork.new_name(draw)
        fork.bind(t, other.bound)
        stmts = [ast.Assign([ast.Tuple([_name(w), _name(t)], ast.Store())],
                            ast.Tuple([_name("i", store=False), other.node], ast.Load()))]
    op = draw(st.sampled_from(("**", "+", "*")))
    rhs = const(2) if op == "**" else fork.expr(draw, 1)
    fork.bind(w, binop(fork.var(w), op, rhs).bound)
    stmts.append(ast.AugAssign(_name(w), _BINOPS[op][0](), rhs.node))
    return stmts


#: Shapes of the constant arrays numpy statements broadcast against each other.
SHAPES = ((3,), (2, 3), (2, 1), (1, 3), (4, 1, 3), (1, 2, 1), (2,), (4, 2, 1))
#: Expression kinds whose forms have numpy twins (no helpers: they call ``math``).
NUMPY_EXPRESSION_KINDS: list[Callable] = [
    e_arith, e_arith, e_scale, e_unary, e_trig, e_exp, e_log, e_sqrt, e_pow, e_div, e_abs,
    e_fanout, e_truncated,
]


_NUMPY_EXTREMES = {"max": "maximum", "min": "minimum"}


class _ToNumpy(ast.NodeTransformer):
    """``math.f`` -> ``np.f``; chosen names -> ``name * <constant array>``."""

    def __init__(self, arrays: dict[str, ast.expr]) -> None:
        self.arrays = arrays

    def visit_Attribute(self, node):
        if isinstance(node.value, ast.Name) and node.value.id == "math":
            return ast.Attribute(ast.Name("np", ast.Load()), node.attr, ast.Load())
        return self.generic_visit(node)

    def visit_Call(self, node):  # (max(b, 0.0) of numbers: np.maximum of arrays)
        if isinstance(node.func, ast.Name) and node.func.id in _NUMPY_EXTREMES:
            node = ast.Call(ast.Attribute(ast.Name("np", ast.Load()),
                                          _NUMPY_EXTREMES[node.func.id], ast.Load()),
                            node.args, node.keywords)
        return self.generic_visit(node)

    def visit_Name(self, node):
        if node.id in self.arrays and isinstance(node.ctx, ast.Load):
            return ast.BinOp(ast.Name(node.id, ast.Load()), ast.Mult(),
                             copy.deepcopy(self.arrays[node.id]))
        return node


def _const_array(shape: tuple[int, ...], lo: float, hi: float) -> ast.expr:
    size = math.prod(shape)
    text = f"np.linspace({lo}, {hi}, {size}).reshape({shape!r})"
    return ast.parse(text, mode="eval").body


@dataclass(frozen=True, eq=False)
class ArrayExpr:
    """An elementwise numpy expression, with what its bound and its shape are made from.

    ``node`` is the numpy form; ``scalar`` the scalar expression it was made from (``math.*``
    calls, names not scaled); ``arrays`` maps each scaled variable to the shape of its
    constant array and the array's smallest element ``lo`` (the elements are in ``[lo, 1]``).
    Every element of the value is ``scalar`` evaluated at ``var * c`` (``c`` in ``[lo, 1]``)
    for each scaled variable and at one element of each array-valued name it reads, so the
    scalar bound with each scaled variable's bound multiplied by ``[lo, 1]`` holds for every
    element (``0 < lo <= 1``: the sign of a scaled variable is kept, only its size shrinks).
    """

    node: ast.expr
    scalar: ast.expr
    arrays: dict[str, tuple[tuple[int, ...], float]]

    @property
    def names(self) -> list[str]:
        """The names it reads (with ``math``/``np``), in order of first appearance."""
        return list(dict.fromkeys(n.id for n in ast.walk(self.scalar)
                                  if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)))

    def bound(self, env: dict[str, Bound]) -> Bound:
        """A bound of every element, given one (``env``) of every element of each name."""
        scaled = dict(env)
        for name, (_, lo) in self.arrays.items():
            scaled[name] = env[name] * Bound(lo, 1.0, 0.0)
        code = compile(ast.fix_missing_locations(ast.Expression(self.scalar)), "<abstract>",
                       "eval")
        return lift(eval(code, _abstract_namespace(scaled)))  # noqa: S307

    def shape(self, shapes: dict[str, tuple[int, ...]]) -> tuple[int, ...]:
        """Its shape when the names it reads have ``shapes`` (a name not there: a float)."""
        return np_broadcast_shape((), *(shape for shape, _ in self.arrays.values()),
                                  *(shapes.get(name, ()) for name in self.names))


def _broadcastable(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np_broadcast_shape(a, b)
    except ValueError:
        return False
    return True


def array_expr(draw, ctx: Context, env: dict[str, Bound], depth: int,
               scalable: Collection[str], *, min_arrays: int = 1,
               fits: tuple[int, ...] | None = None,
               require: str | None = None) -> ArrayExpr | None:
    """A random expression of :data:`NUMPY_EXPRESSION_KINDS` over the names of ``env`` (floats
    and arrays: ``env`` bounds their elements), ``depth`` deep, with ``min_arrays``..2 of its
    ``scalable`` names (floats) scaled by constant arrays of random shapes.

    With ``fits``, each shape is drawn among those that broadcast with ``fits`` and with the
    shapes drawn before it, so all of them (and whatever ``fits`` was made of) broadcast
    together; without it they are drawn independently and ``None`` is returned when they do
    not broadcast. ``None`` also when the expression calls a helper (helpers call ``math.*``,
    which takes no arrays), has fewer than ``min_arrays`` scalable names or does not read
    ``require``."""
    sub = Context(ctx.params, NUMPY_EXPRESSION_KINDS, dict(env), ctx.max_depth)
    val = sub.expr(draw, depth)
    if any(isinstance(n, ast.Name) and n.id in HELPERS for n in ast.walk(val.node)):
        return None  # the helpers call math.*, which takes no arrays
    read = list(dict.fromkeys(n.id for n in ast.walk(val.node) if isinstance(n, ast.Name)))
    if require is not None and require not in read:
        return None
    names = [name for name in read if name in scalable]
    if len(names) < min_arrays:
        return None
    chosen = names[: draw(st.integers(min_arrays, min(2, len(names))))]
    if fits is None:
        shapes = [draw(st.sampled_from(SHAPES)) for _ in chosen]
        try:
            np_broadcast_shape((), *shapes)
        except ValueError:
            return None
    else:
        shapes, running = [], fits
        for _ in chosen:
            shape = draw(st.sampled_from([s for s in SHAPES if _broadcastable(s, running)]))
            running = np_broadcast_shape(running, shape)
            shapes.append(shape)
    arrays = {}
    for name, shape in zip(chosen, shapes, strict=True):
        arrays[name] = (shape, draw(st.sampled_from((0.5, 0.25, 0.75))))
    node = _ToNumpy({name: _const_array(shape, lo, 1.0) for name, (shape, lo) in arrays.items()})
    return ArrayExpr(node.visit(copy.deepcopy(val.node)), val.node, arrays)


def _reduction(draw, node: ast.expr, size: int, items: bool = False) -> ast.expr:
    """``np.mean(node)`` or ``np.sum(node) / size`` (``size``: its number of elements);
    with ``items``, an item of the mean's numpy number read back instead,
    ``np.sum(np.mean(node)[None])``, ``np.mean(node)[..., None][0]`` or
    ``np.mean(node)[()]`` (round 64a: the backward pass added into an item of the
    number's adjoint, a float: TypeError)."""
    mean = ast.Call(ast.Attribute(ast.Name("np", ast.Load()), "mean", ast.Load()), [node], [])
    if items:
        text = ("np.sum(_[None])", "_[..., None][0]", "_[()]")[draw(st.integers(0, 2))]
        wrapped = ast.parse(text, mode="eval").body
        for sub in ast.walk(wrapped):  # (the placeholder `_` is the mean)
            for field, value in ast.iter_fields(sub):
                if isinstance(value, ast.Name) and value.id == "_":
                    setattr(sub, field, mean)
                elif isinstance(value, list):
                    value[:] = [mean if isinstance(v, ast.Name) and v.id == "_" else v
                                for v in value]
        return wrapped
    if draw(st.booleans()):
        return mean
    total = ast.Call(ast.Attribute(ast.Name("np", ast.Load()), "sum", ast.Load()), [node], [])
    return ast.BinOp(total, ast.Div(), ast.Constant(size))


def s_numpy(draw, ctx: Context, items: bool = False) -> list[ast.stmt] | None:
    """``v = np.mean(<elementwise numpy expression>)`` (or ``np.sum(...) / size``) where
    variables are scaled by constant arrays of random broadcastable shapes, so the
    adjoints must sum over broadcast axes. Every element is the scalar expression at
    ``var * c`` with ``c`` in ``[lo, hi]`` and ``0 < lo <= hi <= 1``: the scalar bound
    with each chosen variable's bound scaled by ``[lo, hi]`` holds for every element,
    hence for their mean (:class:`ArrayExpr`). ``items``: the mean's item read back
    (:func:`s_numpy_items`)."""
    expr = array_expr(draw, ctx, ctx.env, draw(st.integers(1, 3)), ctx.env)
    if expr is None:
        return None
    bound = expr.bound(ctx.env)
    # all names are floats: the chosen arrays alone make the shape (a constant leaf
    # does not broadcast)
    reduced = _reduction(draw, expr.node, math.prod(expr.shape({})), items)
    name = ctx.new_name(draw)
    ctx.bind(name, Bound(bound.lo, bound.hi, bound.d))
    return [ast.Assign([_name(name)], reduced)]


def s_numpy_items(draw, ctx: Context) -> list[ast.stmt] | None:
    """:func:`s_numpy` with an item of the mean's numpy number read back:
    ``v = np.mean(<expr>)[()]`` (a softmax or layer norm written for any batch shape and
    given one row reads ``z.max(axis=-1)[..., None]``)."""
    return s_numpy(draw, ctx, items=True)


#: Operand shapes of ``@`` in every rank numpy takes: vectors, matrices and stacks of
#: them, a vector on either side of a stack, stacks that broadcast.
MATMUL_SHAPES = (
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((4, 2, 3), (3,)), ((3,), (4, 3, 2)),
    ((2, 3), (3, 2)), ((4, 2, 3), (4, 3, 2)), ((2, 3), (4, 3, 2)), ((4, 1, 2, 3), (2, 3, 2)),
)


def s_numpy_matmul(draw, ctx: Context) -> list[ast.stmt] | None:
    """``v = np.mean((E * P) @ (F * Q) / 3)``: two numpy expressions brought to the shapes
    of one :data:`MATMUL_SHAPES` pair by constant arrays ``P``, ``Q`` (elements in
    ``[lo, 1]``), multiplied by ``@`` and averaged. Each element of the product over 3 is
    the mean of 3 products ``e * f``, so the bound of ``e * f`` (with ``e``, ``f`` scaled
    by ``[lo, 1]``) holds for it and for the mean of all of them."""
    left_shape, right_shape = draw(st.sampled_from(MATMUL_SHAPES))
    sides = []
    for shape, lo in ((left_shape, 0.5), (right_shape, 0.75)):
        expr = array_expr(draw, ctx, ctx.env, draw(st.integers(1, 2)), ctx.env, fits=shape)
        if expr is None or np_broadcast_shape(expr.shape({}), shape) != shape:
            return None
        scaled = ast.BinOp(expr.node, ast.Mult(), _const_array(shape, lo, 1.0))
        sides.append((scaled, expr.bound(ctx.env) * Bound(lo, 1.0, 0.0)))
    (left, left_bound), (right, right_bound) = sides
    product = ast.BinOp(ast.BinOp(left, ast.MatMult(), right), ast.Div(), ast.Constant(3))
    bound = left_bound * right_bound
    mean = ast.Call(ast.Attribute(ast.Name("np", ast.Load()), "mean", ast.Load()), [product], [])
    name = ctx.new_name(draw)
    ctx.bind(name, Bound(bound.lo, bound.hi, bound.d))
    return [ast.Assign([_name(name)], mean)]


#: How a loop body updates a carried value ``A`` with an elementwise numpy expression
#: ``E`` and a decay ``C`` (index 0 shrinks first). The last one changes ``A`` in place
#: once it is an array (numpy's ``*=``/``+=``), so it is offered only when the update never
#: grows ``A``'s shape; srcad reads ``A += E`` as ``A = A + E``, which is the same when, as
#: here, nothing else refers to the array.
LOOP_UPDATES = ("A = A * C + E", "A = E - C * A", "A = E + A * C", "A *= C\nA += E")


class _Fill(ast.NodeTransformer):
    """Fills a :data:`LOOP_UPDATES` template: ``A`` -> the name, ``C`` -> a constant,
    ``E`` -> an expression."""

    def __init__(self, name: str, decay: float, expr: ast.expr) -> None:
        self.name, self.decay, self.expr = name, decay, expr

    def visit_Name(self, node):
        if node.id == "A":
            return ast.Name(self.name, node.ctx)
        if node.id == "C":
            return ast.Constant(self.decay)
        if node.id == "E":
            return copy.deepcopy(self.expr)
        return node  # pragma: no cover - templates use only A, C and E


def _loop_update(template: str, name: str, decay: float,
                 expr: ArrayExpr) -> list[tuple[ast.stmt, ArrayExpr]]:
    """The statements of a filled :data:`LOOP_UPDATES` template, each with its right-hand
    side as an :class:`ArrayExpr` (``A op= v`` as ``A op v``) for bounds and shapes."""
    out = []
    for stmt in ast.parse(template).body:
        numpy = _Fill(name, decay, expr.node).visit(copy.deepcopy(stmt))
        scalar = _Fill(name, decay, expr.scalar).visit(copy.deepcopy(stmt))
        reads_e = any(isinstance(n, ast.Name) and n.id == "E" for n in ast.walk(stmt))
        out.append((numpy, ArrayExpr(_rhs(numpy), _rhs(scalar), expr.arrays if reads_e else {})))
    return out


def _rhs(stmt: ast.Assign | ast.AugAssign) -> ast.expr:
    """The value ``stmt`` assigns: ``A op v`` for ``A op= v``."""
    if isinstance(stmt, ast.AugAssign):
        return ast.BinOp(ast.Name(stmt.target.id, ast.Load()), stmt.op, stmt.value)
    return stmt.value


def _mix_in(draw, ctx: Context, expr: ArrayExpr, env: dict[str, Bound],
            full_env: dict[str, Bound]) -> ArrayExpr:
    """``expr + t``, ``expr * t`` or ``expr - t`` where ``t`` is a numpy expression of the
    names of ``env`` (none scaled); ``expr`` itself when ``t`` calls a helper or the result
    is ill-conditioned at the bounds of ``full_env``."""
    sub = Context(ctx.params, NUMPY_EXPRESSION_KINDS, dict(env), ctx.max_depth)
    term = sub.expr(draw, draw(st.integers(0, 2)))
    op = draw(st.sampled_from(("+", "*", "-")))
    if any(isinstance(n, ast.Name) and n.id in HELPERS for n in ast.walk(term.node)):
        return expr
    try:
        binop(Val(expr.scalar, expr.bound(full_env)), op, term)
    except IllConditioned:
        return expr
    node = ast.BinOp(expr.node, _BINOPS[op][0](), _ToNumpy({}).visit(copy.deepcopy(term.node)))
    return ArrayExpr(node, ast.BinOp(expr.scalar, _BINOPS[op][0](), term.node), expr.arrays)


def s_numpy_loop(draw, ctx: Context) -> list[ast.stmt] | None:
    """Arrays carried across the iterations of ``for i in range(n)`` (``n`` in 1..3)::

        acc = 0.0                     # 1-2 carried values, each set up before the loop
        for i in range(2):
            acc = acc * 0.5 + np.sin(x * np.linspace(0.5, 1.0, 6).reshape((2, 3))) * i
        v = np.mean(acc * y)          # each reduced after the loop

    A carried value is a new name or an existing variable, set up as a float (``0.0``, a
    scalar expression, or the variable as it is) or as an array (an elementwise numpy
    expression: :func:`array_expr`). The body updates each carried value by a
    :data:`LOOP_UPDATES` form with an elementwise expression that scales at least one
    variable by a constant array and may read ``i`` and the carried values, so a float
    becomes an array in the first iteration and a small array can grow (``(3,)``, then
    ``(2, 3)``); all shapes of one statement broadcast together. After the loop each
    carried value is read by ``np.mean``/``np.sum(...) / size`` of an elementwise expression
    of it (an existing variable is reduced in place, back to a float: ``y = np.mean(y)``).

    Bounds: :class:`ArrayExpr` bounds every element of every value and tracks its shape;
    the body's update of both is run ``n`` times (like :func:`s_for`). Carried values that
    stay arrays are not bound in ``ctx``, so later statements do not read them."""
    if "i" in ctx.env:
        return None
    n = draw(st.integers(1, 3))
    env, shapes = dict(ctx.env), dict.fromkeys(ctx.env, ())
    running: tuple[int, ...] = ()  # every constant array of the statement broadcasts with it

    def floats() -> dict[str, Bound]:
        return {name: b for name, b in env.items() if shapes[name] == ()}

    # ---- set-up
    before: list[ast.stmt] = []
    carried: list[str] = []
    for _ in range(draw(st.integers(1, 2))):
        existing = [v for v in ctx.variables() if v not in carried]
        if existing and draw(st.integers(0, 2)) == 2:
            name = draw(st.sampled_from(existing))
        else:
            probe = Context(ctx.params, ctx.expression_kinds, dict(env), ctx.max_depth)
            name = probe.new_name(draw)
        start = draw(st.integers(0, 2))
        if start == 0 and name in env:  # an existing variable as it is
            pass
        elif start == 0:
            before.append(ast.Assign([_name(name)], ast.Constant(0.0)))
            env[name], shapes[name] = Bound.const(0.0), ()
        elif start == 1:
            sub = Context(ctx.params, ctx.expression_kinds, floats(), ctx.max_depth)
            val = sub.expr(draw, draw(st.integers(0, 2)))
            before.append(ast.Assign([_name(name)], val.node))
            env[name], shapes[name] = val.bound, ()
        else:
            expr = array_expr(draw, ctx, floats(), draw(st.integers(0, 2)), floats(),
                              fits=running)
            if expr is None:
                return None
            before.append(ast.Assign([_name(name)], expr.node))
            env[name], shapes[name] = expr.bound(env), expr.shape(shapes)
            running = np_broadcast_shape(running, shapes[name])
        carried.append(name)

    # ---- the loop body: each carried value's update expression, then its form
    invariant = {name: b for name, b in ctx.env.items() if name not in carried}
    if not invariant:
        return None
    mix_env = {**{name: env[name] for name in carried}, "i": Bound(0.0, n - 1.0, 0.0)}
    order = draw(st.permutations(carried))
    exprs: list[ArrayExpr] = []
    for _ in order:
        for _attempt in range(3):
            expr = array_expr(draw, ctx, invariant, draw(st.integers(0, 2)), invariant,
                              fits=running)
            if expr is not None:
                break
        else:
            return None
        if draw(st.booleans()):
            expr = _mix_in(draw, ctx, expr, mix_env, {**invariant, **mix_env})
        running = np_broadcast_shape(running, *(s for s, _ in expr.arrays.values()))
        exprs.append(expr)
    # which updates never grow their value (may be done in place): run the shapes alone
    in_place_ok = dict.fromkeys(order, True)
    probe_shapes = {**shapes, "i": ()}
    for _ in range(n):
        for name, expr in zip(order, exprs):
            new = np_broadcast_shape(probe_shapes[name], expr.shape(probe_shapes))
            in_place_ok[name] &= probe_shapes[name] in ((), new)
            probe_shapes[name] = new
    body: list[ast.stmt] = []
    steps: list[tuple[str, ArrayExpr]] = []
    for name, expr in zip(order, exprs):
        forms = LOOP_UPDATES if in_place_ok[name] else LOOP_UPDATES[:-1]
        template = forms[draw(st.integers(0, len(forms) - 1))]
        decay = draw(st.sampled_from((0.5, 0.25, 0.75)))
        for stmt, rhs in _loop_update(template, name, decay, expr):
            body.append(stmt)
            steps.append((name, rhs))
    for it in range(n):
        env["i"], shapes["i"] = Bound.const(float(it)), ()
        for name, rhs in steps:
            env[name], shapes[name] = rhs.bound(env), rhs.shape(shapes)
    del env["i"], shapes["i"]

    # ---- after the loop: read each carried value, reduce it to a float
    after: list[ast.stmt] = []
    results: list[str] = []
    for name in draw(st.permutations(carried)):
        expr = None
        if draw(st.booleans()):  # an elementwise expression of it, maybe of the others too
            visible = [v for v in ctx.variables() if shapes[v] == ()][: draw(st.integers(0, 2))]
            read_env = {**{v: env[v] for v in reversed(visible)},
                        **{c: env[c] for c in carried if c != name}, name: env[name]}
            for _attempt in range(3):
                expr = array_expr(draw, ctx, read_env, draw(st.integers(1, 2)), visible,
                                  min_arrays=0, fits=running, require=name)
                if expr is not None:
                    break
        if expr is None:
            expr = ArrayExpr(_name(name, store=False), _name(name, store=False), {})
        bound, shape = expr.bound(env), expr.shape(shapes)
        if name in ctx.env or draw(st.booleans()):
            target = name
        else:
            target = Context(ctx.params, ctx.expression_kinds, dict(env)).new_name(draw)
        after.append(ast.Assign([_name(target)], _reduction(draw, expr.node, math.prod(shape))))
        env[target], shapes[target] = Bound(bound.lo, bound.hi, bound.d), ()
        results.append(target)
    for target in results:
        ctx.bind(target, env[target])
    loop = ast.For(_name("i"), ast.Call(ast.Name("range", ast.Load()), [ast.Constant(n)], []),
                   body, [])
    return [*before, loop, *after]


def np_broadcast_shape(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    ndim = max(len(s) for s in shapes)
    out = []
    for axis in range(ndim):
        sizes = {s[axis - ndim + len(s)] for s in shapes if axis - ndim + len(s) >= 0}
        sizes.discard(1)
        if len(sizes) > 1:
            raise ValueError("shapes do not broadcast")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


# ---------------------------------------------------------------- loops, branches, jumps
#
# The kinds below build their statements on forks of the context (bodies on the bounds
# before the loop, like s_for) and then bind the bounds :func:`commit` computes by running
# the statements on the real bounds (:func:`abstract_run`).

#: Names of the counter of a generated ``while`` loop (the first one not in use).
COUNTERS = ("k", "j", "m", "count")
#: Names of the variable of a generated comprehension (the first one not in use).
ITEM_NAMES = ("t", "tt", "item")
#: Names of nested functions (the first one not taken): none of the variable names.
FUNCTION_NAMES = ("inner", "helper", "fn", "inner_1", "helper_1", "fn_1")


def s_rotate(draw, ctx: Context, among: str | None = None) -> list[ast.stmt] | None:
    """A parallel assignment to 2-3 existing variables (``among`` one of them) that reads
    the old values of the others: ``a, b = b * 0.5, a``, ``a, b, c = b, c, a * 1.5``,
    ``c, b = 0.5, c``. In loops and branches the copies that merge their values must act
    at once (the bug in ``tests/regressions/parallel_copies.py``)."""
    names = ctx.writable()
    if len(names) < 2:
        return None
    # with `among`: a swap, `y, x = (x * c, tanh(y))` (each value from the other's)
    k = 2 if among is not None else draw(st.integers(2, min(3, len(names))))
    others = [n for n in names if n != among]
    targets = draw(st.lists(st.sampled_from(others), min_size=k - (among is not None),
                            max_size=k - (among is not None), unique=True))
    if among is not None:
        targets.insert(draw(st.integers(0, len(targets))), among)
    shift = draw(st.integers(1, k - 1))
    # `among` gets tanh of another (a value whose derivative reads the value itself)
    forms = [draw(st.integers(0, 5)) if among is None else 3 if t == among
             else draw(st.sampled_from((1, 4))) for t in targets]
    if all(form == 2 for form in forms):
        forms[0] = 0
    vals = []
    for j, form in enumerate(forms):
        old = ctx.var(targets[(j + shift) % k])  # another target's value before the statement
        if form == 0:
            val = old
        elif form == 1:
            val = binop(old, "*", const(draw(st.sampled_from((0.5, 1.5, -1.0, 0.75)))))
        elif form == 2:
            val = const(draw(st.sampled_from(CONSTANTS)))
        elif form == 3:
            val = mcall("tanh", old)
        elif form == 4:
            val = binop(old, draw(st.sampled_from(("+", "-"))), ctx.expr(draw, 1))
        else:
            val = ctx.expr(draw, draw(st.integers(0, 2)))
        vals.append(val)
    for target, val in zip(targets, vals):
        ctx.bind(target, val.bound)
    return [ast.Assign([ast.Tuple([_name(t) for t in targets], ast.Store())],
                       ast.Tuple([v.node for v in vals], ast.Load()))]


def _body(draw, ctx: Context, n: int) -> list[ast.stmt]:
    """``n`` statements of :data:`BODY_KINDS` (a plain assignment where one does not apply)."""
    stmts: list[ast.stmt] = []
    for _ in range(n):
        kind = BODY_KINDS[draw(st.integers(0, len(BODY_KINDS) - 1))]
        snapshot = dict(ctx.env)
        try:
            built = kind(draw, ctx)
        except IllConditioned:
            built = None
        if built is None:
            ctx.env = snapshot
            built = s_assign(draw, ctx)
        stmts += built
    return stmts


def _fork_with(ctx: Context, **indices: tuple[float, float]) -> Context:
    """A fork of ``ctx`` where loop indices or counters (name -> range) can be read but not
    assigned."""
    fork = ctx.fork()
    for name, (lo, hi) in indices.items():
        fork.bind(name, Bound(lo, max(lo, hi), 0.0))
    fork.readonly = fork.readonly | set(indices)
    return fork


def _index(draw, ctx: Context, names: Sequence[str]) -> Val:
    """An expression of the loop indices ``names`` (``i``, ``i - j``, ``i + j * 0.5``, ...)."""
    vals = [ctx.var(name) for name in names]
    if len(vals) == 1:
        return vals[0]
    i, j = vals[0], vals[1]
    return draw(st.sampled_from((
        lambda: binop(i, "-", j),
        lambda: binop(i, "+", binop(j, "*", const(0.5))),
        lambda: binop(binop(i, "*", j), "*", const(0.5)),
        lambda: binop(j, "-", binop(i, "*", const(0.5))),
    )))()


def _carried(draw, ctx: Context, index: Val) -> ast.stmt | None:
    """``v = <v updated>`` for an existing variable ``v``, reading ``index``: what makes a
    loop's iterations depend on each other (the forms of :func:`s_for`)."""
    names = ctx.writable()
    if not names:
        return None
    target = draw(st.sampled_from(names))
    v = ctx.var(target)
    val = choose(draw, [
        lambda: binop(binop(v, "*", const(0.5)), "+", mcall("sin", binop(v, "*", index))),
        lambda: binop(v, "+", mcall("tanh", binop(ctx.expr(draw, 1), "*", index))),
        lambda: binop(mcall("tanh", v), "*", ctx.expr(draw, 1)),
        lambda: binop(binop(v, "*", const(0.5)), "+",
                      mcall("cos", binop(ctx.expr(draw, 1), "-", index))),
    ])
    if val is None:
        return None
    ctx.bind(target, val.bound)
    return ast.Assign([_name(target)], val.node)


def _condition(draw, ctx: Context) -> ast.expr | None:
    """``<expr> > c`` (or ``<``, ``>=``, ``<=``) on data, ``c`` one of :data:`THRESHOLDS`
    (one inside the expression's range when there is one, so both paths are taken); the
    checker keeps its points away from the switch, as for :func:`s_if`."""
    for _attempt in range(3):
        test = ctx.expr(draw, draw(st.integers(0, 2)))
        if test.bound.d > 0:
            break
    else:
        return None
    inside = [c for c in THRESHOLDS if test.bound.lo < c < test.bound.hi]
    threshold = draw(st.sampled_from(inside or THRESHOLDS))
    op = draw(st.sampled_from((ast.Gt, ast.Lt, ast.GtE, ast.LtE)))
    return ast.Compare(test.node, [op()], [ast.Constant(threshold)])


def _index_condition(draw, names: Sequence[str], n: int) -> ast.expr:
    """A test on loop indices only (fixed in each iteration): ``i > 0``, ``i == j``, ..."""
    i = names[0]
    forms = [f"{i} > 0", f"{i} == 1", f"{i} < {max(1, n - 1)}", f"{i} != 1"]
    if len(names) > 1:
        j = names[1]
        forms += [f"{i} > {j}", f"{i} == {j}", f"{i} + {j} >= 2", f"{j} < 1"]
    return ast.parse(draw(st.sampled_from(forms)), mode="eval").body


def _jump(draw, ctx: Context, how: str, step: ast.stmt | None = None) -> ast.If | None:
    """``if <condition on data>: [statements] <jump>``: ``break``, ``continue`` (after the
    ``while`` counter's ``step`` when the counter steps at the end of the body) or
    ``return <expr>``. ``None`` when no data condition could be built."""
    cond = _condition(draw, ctx)
    if cond is None:
        return None
    branch = ctx.fork()
    stmts = _body(draw, branch, draw(st.integers(0, 1)))
    if how == "break":
        stmts.append(ast.Break())
    elif how == "continue":
        stmts += [*([copy.deepcopy(step)] if step is not None else []), ast.Continue()]
    else:
        stmts.append(ast.Return(branch.expr(draw).node))
    return ast.If(cond, stmts, [])


def _loop_body(draw, ctx: Context, index: Val, jumps: Sequence[str],
               step: ast.stmt | None = None) -> list[ast.stmt] | None:
    """A loop body on ``ctx`` (a fork with the indices): statements and the update of a
    carried variable (reading ``index``), then one :func:`_jump` per entry of ``jumps``,
    then more statements (at least one after a ``continue``, or it would skip nothing)."""
    update = _carried(draw, ctx, index)
    if update is None:
        return None
    pre = _body(draw, ctx, draw(st.integers(0, 1)))
    body = [update, *pre] if draw(st.booleans()) else [*pre, update]
    for how in jumps:
        node = _jump(draw, ctx, how, step)
        if node is not None:
            body.append(node)  # its path that does not jump leaves ctx as it was
    body += _body(draw, ctx, draw(st.integers(0, 1)) or int("continue" in jumps))
    return body


def _range(n: int | ast.expr) -> ast.expr:
    arg = n if isinstance(n, ast.expr) else ast.Constant(n)
    return ast.Call(ast.Name("range", ast.Load()), [arg], [])


def _while(draw, ctx: Context, jumps: Sequence[str]) -> list[ast.stmt] | None:
    """``k = 0; while k < n: ...`` with ``k = k + 1`` (or ``k += 1``) first or last in the
    body, and :func:`_loop_body` with ``jumps``; sometimes ``and <condition on data>`` in
    the test. The counter is exactly known in every iteration, so :func:`abstract_run`
    follows it; the data conditions make both paths possible."""
    counter = next((c for c in COUNTERS if c not in ctx.env), None)
    if counter is None or not ctx.writable():
        return None
    n = draw(st.integers(1, 4))
    first = draw(st.booleans())  # step first (k = 1..n in the body) or last (0..n-1)
    fork = _fork_with(ctx, **{counter: (1.0, n) if first else (0.0, n - 1.0)})
    if draw(st.booleans()):
        step: ast.stmt = ast.AugAssign(_name(counter), ast.Add(), ast.Constant(1))
    else:
        step = ast.Assign([_name(counter)],
                          ast.BinOp(_name(counter, False), ast.Add(), ast.Constant(1)))
    body = _loop_body(draw, fork, fork.var(counter), jumps, None if first else step)
    if body is None:
        return None
    body = [step, *body] if first else [*body, step]
    test: ast.expr = ast.Compare(_name(counter, False), [ast.Lt()], [ast.Constant(n)])
    if draw(st.integers(0, 3)) == 3:
        extra = _condition(draw, ctx)
        if extra is not None:
            test = ast.BoolOp(ast.And(), [test, extra])
    return [ast.Assign([_name(counter)], ast.Constant(0)), ast.While(test, body, [])]


def s_while(draw, ctx: Context) -> list[ast.stmt] | None:
    """A ``while`` loop with a counter and a constant trip bound, maybe leaving early by
    ``break`` and skipping the rest of the body by ``continue`` on data conditions::

        k = 0
        while k < 3:
            a = a * 0.5 + math.sin(a * k)
            if math.tanh(b) > 0.3183:
                b = b * 2.0
                break
            if a < -0.2718:
                k = k + 1
                continue
            b = b + a
            k = k + 1

    and, with a ``break``, sometimes an ``else:`` block (run when no ``break`` left).
    """
    jumps = draw(st.sampled_from(((), ("break",), ("continue",), ("break", "continue"),
                                  ("continue", "break"))))
    stmts = _while(draw, ctx, jumps)
    if stmts is None:
        return None
    loop = stmts[-1]
    if "break" in jumps and draw(st.integers(0, 2)) == 0:  # `else:`, run with no break
        after = ctx.fork()
        advance(after, stmts)
        assert isinstance(loop, ast.While)
        loop.orelse = _body(draw, after, 1)
    commit(ctx, stmts)
    return stmts


def s_swap(draw, ctx: Context) -> list[ast.stmt] | None:
    """Parallel assignments that read the variables they reassign (:func:`s_rotate`) where
    values merge: in a loop body, in the branches of an ``if`` in a loop, or in the
    branches of an ``if``::

        for i in range(3):
            if c > 0.3183:
                c, b = b * 0.5, c
            else:
                b, c = c, b + 1.0
    """
    if len(ctx.writable()) < 2:
        return None
    shape = draw(st.integers(0, 2))  # 0: a loop body, 1: if in a loop, 2: if
    if shape < 2 and "i" in ctx.env:
        return None
    n = draw(st.integers(1, 4))
    fork = _fork_with(ctx, i=(0.0, n - 1.0)) if shape < 2 else ctx.fork()
    if shape == 0:
        body = _body(draw, fork, draw(st.integers(0, 1)))
        updated = None
        if draw(st.integers(0, 2)) == 0:
            # `x += sin(x); y, x = (x + c, tanh(y))`: x is saved for the update, then
            # overwritten by a value whose derivative reads it (a copy saved right after
            # the statement: the backward pass restored the two out of stack order)
            updated = draw(st.sampled_from(fork.writable()))
            rhs = mcall(draw(st.sampled_from(("sin", "tanh"))), fork.var(updated))
            fork.bind(updated, binop(fork.var(updated), "+", rhs).bound)
            body.append(ast.AugAssign(_name(updated), ast.Add(), rhs.node))
        rotation = s_rotate(draw, fork, among=updated)
        if rotation is None:
            return None
        body += rotation + _body(draw, fork, draw(st.integers(0, 1)))
    else:
        cond = None
        if shape == 1 and draw(st.integers(0, 3)) == 3:
            cond = _index_condition(draw, ["i"], n)
        cond = cond or _condition(draw, fork)
        if cond is None:
            return None
        branches = []
        for k in range(2):
            branch = fork.fork()
            stmts = _body(draw, branch, draw(st.integers(0, 1)))
            rotation = s_rotate(draw, branch) if k == 0 or draw(st.booleans()) else None
            if rotation is None and k == 0:
                return None
            stmts += (rotation or []) + _body(draw, branch, draw(st.integers(0, 1)))
            branches.append(stmts)
        body = [ast.If(cond, branches[0], branches[1])]
    if shape == 2:
        stmts = body
    else:
        stmts = [ast.For(_name("i"), _range(n), body, [])]
    commit(ctx, stmts)
    return stmts


def s_nested_for(draw, ctx: Context) -> list[ast.stmt] | None:
    """A ``for`` loop in a ``for`` loop whose body reads both indices; the inner trip count
    is a constant or depends on ``i`` (``range(i)``, ``range(i + 1)``, ``range(3 - i)``),
    and the inner body may leave by ``break``, ``continue`` or ``return``::

        for i in range(3):
            for j in range(i + 1):
                a = a * 0.5 + math.sin(a * (i - j))
            b = b + a
    """
    if "i" in ctx.env or "j" in ctx.env or not ctx.writable():
        return None
    n = draw(st.integers(1, 3))
    m = draw(st.integers(1, 3))
    inner_count, most = draw(st.sampled_from((
        (str(m), m), ("i", n - 1), ("i + 1", n), (f"{n} - i", n))))
    outer = _fork_with(ctx, i=(0.0, n - 1.0))
    pre = _body(draw, outer, draw(st.integers(0, 1)))
    inner = _fork_with(outer, j=(0.0, max(0.0, most - 1.0)))
    jumps = [draw(st.sampled_from(("break", "continue", "return")))] \
        if draw(st.integers(0, 2)) == 2 else []
    inner_body = _loop_body(draw, inner, _index(draw, inner, ("i", "j")), jumps)
    if inner_body is None:
        return None
    loop = ast.For(_name("j"), _range(ast.parse(inner_count, mode="eval").body), inner_body, [])
    advance(outer, [loop])
    post = _body(draw, outer, draw(st.integers(0, 1)))
    stmts = [ast.For(_name("i"), _range(n), [*pre, loop, *post], [])]
    commit(ctx, stmts)
    return stmts


def s_loop_if(draw, ctx: Context) -> list[ast.stmt] | None:
    """An ``if`` (maybe with ``elif``) in a ``for`` loop's body, on data, on the index, or on
    both (``and``/``or``); its first branch may end with ``break`` or ``continue``::

        for i in range(3):
            a = math.tanh(a) * b
            if a > 0.3183 or i == 1:
                b = b * a
            else:
                b = b - 0.5
            c = c + b
    """
    if "i" in ctx.env or not ctx.writable():
        return None
    n = draw(st.integers(1, 4))
    fork = _fork_with(ctx, i=(0.0, n - 1.0))
    update_first = draw(st.booleans())  # the carried update before the if or after it
    pre = _body(draw, fork, draw(st.integers(0, 1)))
    if update_first:
        update = _carried(draw, fork, fork.var("i"))
        if update is None:
            return None
        pre.append(update)

    def condition() -> ast.expr:
        how = draw(st.integers(0, 3))  # 0, 1: data; 2: the index; 3: both
        data = _condition(draw, fork) if how != 2 else None
        index = _index_condition(draw, ["i"], n)
        if data is None:
            return index
        if how < 3:
            return data
        op = ast.And() if draw(st.booleans()) else ast.Or()
        return ast.BoolOp(op, [data, index] if draw(st.booleans()) else [index, data])

    branch = fork.fork()
    then = _body(draw, branch, 1)
    jump = draw(st.integers(0, 5))
    if jump == 4:
        then.append(ast.Break())
    elif jump == 5:
        then.append(ast.Continue())
    if draw(st.integers(0, 3)) == 3:  # elif
        a, b = fork.fork(), fork.fork()
        orelse: list[ast.stmt] = [ast.If(condition(), _body(draw, a, 1),
                                         _body(draw, b, draw(st.integers(0, 1))))]
    else:
        orelse = _body(draw, fork.fork(), draw(st.integers(0, 1)))
    branch_node = ast.If(condition(), then, orelse)
    advance(fork, [branch_node])
    post = _body(draw, fork, draw(st.integers(1 if jump == 5 else 0, 1)))
    if not update_first:
        update = _carried(draw, fork, fork.var("i"))
        if update is None:
            return None
        post.append(update)
    stmts = [ast.For(_name("i"), _range(n), [*pre, branch_node, *post], [])]
    commit(ctx, stmts)
    return stmts


def s_loop_memo(draw, ctx: Context) -> list[ast.stmt] | None:
    """A value a loop computes on some iterations only (the first ones) and reads on every
    one, maybe changing it in place (``m *= 0.9``): on the others it holds what an earlier
    iteration computed (srcad set it to None there, rounds 61b and 61c: the gradient was
    0.0, or 2.0 where 62.0 is right)::

        for i in range(3):
            if i == 0:
                m = math.tanh(a) * b
            m *= 0.9
            c = c * 0.5 + math.sin(c * m)
    """
    if "i" in ctx.env or not ctx.writable():
        return None
    n = draw(st.integers(2, 4))
    fork = _fork_with(ctx, i=(0.0, n - 1.0))
    memo = fork.new_name(draw)
    value = fork.expr(draw, draw(st.integers(1, 2)))
    test = ast.parse(draw(st.sampled_from(("i == 0", f"i < {n - 1}", "i < 1"))),
                     mode="eval").body
    fork.bind(memo, value.bound)
    fork.readonly = fork.readonly | {memo}
    update = _carried(draw, fork, fork.var(memo))
    if update is None:
        return None
    body: list[ast.stmt] = [ast.If(test, [ast.Assign([_name(memo)], value.node)], [])]
    if draw(st.booleans()):  # (changed in place on every iteration: `m *= 0.9` reads m)
        op = draw(st.sampled_from((ast.Mult(), ast.Add())))
        step = ast.Constant(0.9 if isinstance(op, ast.Mult) else 0.125)
        body.append(ast.AugAssign(_name(memo), op, step))
    body.append(update)
    stmts = [ast.For(_name("i"), _range(n), body, [])]
    commit(ctx, stmts)
    return stmts


def s_early_return(draw, ctx: Context) -> list[ast.stmt] | None:
    """``return`` before the end of the function, the code after it still running on the
    other paths: in an ``if`` (or its ``else``) on data, or in a ``for`` or ``while`` loop
    (srcad turns these into flags). The function's value bound joins the returned ones::

        for i in range(3):
            a = a * 0.5 + math.sin(a * i)
            if a > 0.7071:
                return a * b
            b = b - a
    """
    where = draw(st.integers(0, 3))  # 0: if, 1: else, 2: for, 3: while
    if where < 2:
        cond = _condition(draw, ctx)
        if cond is None:
            return None
        returning = ctx.fork()
        path = _body(draw, returning, draw(st.integers(0, 1)))
        path.append(ast.Return(returning.expr(draw).node))
        other = _body(draw, ctx.fork(), draw(st.integers(0, 1)) or int(where == 1))
        stmts: list[ast.stmt] = [ast.If(cond, *((path, other) if where == 0 else (other, path)))]
    elif where == 2:
        if "i" in ctx.env:
            return None
        n = draw(st.integers(1, 4))
        fork = _fork_with(ctx, i=(0.0, n - 1.0))
        body = _loop_body(draw, fork, fork.var("i"), ["return"])
        if body is None or not any(isinstance(s, ast.If) for s in body):
            return None
        stmts = [ast.For(_name("i"), _range(n), body, [])]
    else:
        stmts = _while(draw, ctx, ["return"])
        if stmts is None or not any(isinstance(s, ast.If) for s in stmts[1].body):
            return None
    commit(ctx, stmts)
    return stmts


def s_sum(draw, ctx: Context) -> list[ast.stmt] | None:
    """``v = sum(<generator expression>)`` or ``sum([<list comprehension>])`` over
    ``range(n)`` (maybe filtered by a test on the index) or over a tuple of values (maybe
    filtered on data; the item may take the name of a variable, which it shadows only
    inside the comprehension), maybe with a start value; ``v`` is new, an existing variable,
    or ``v += sum(...)``. srcad desugars these into loops::

        s = sum(a * math.sin(t) for t in range(3) if t != 1)
        b += sum([b * t for t in (a, c * 2.0) if t > 0.3183], 0.5)
    """
    item = next((name for name in ITEM_NAMES if name not in ctx.env), None)
    if item is None:
        return None
    test: ast.expr | None = None
    if draw(st.booleans()):
        n = draw(st.integers(2, 4))
        iterable = _range(n)
        item_bound = Bound(0.0, n - 1.0, 0.0)
        if draw(st.booleans()):
            test = _index_condition(draw, [item], n)
    else:
        values = [ctx.expr(draw, draw(st.integers(0, 1))) for _ in range(draw(st.integers(2, 3)))]
        iterable = ast.Tuple([v.node for v in values], ast.Load())
        item_bound = values[0].bound
        for v in values[1:]:
            item_bound = item_bound.join(v.bound)
        if ctx.writable() and draw(st.integers(0, 3)) == 3:
            item = draw(st.sampled_from(ctx.writable()))  # shadows the variable
        if draw(st.booleans()):
            test = _condition(draw, Context(ctx.params, ctx.expression_kinds,
                                            {item: item_bound}, ctx.max_depth))
    sub = Context(ctx.params, ctx.expression_kinds,
                  {**{k: b for k, b in ctx.env.items() if k != item}, item: item_bound},
                  ctx.max_depth)
    for _attempt in range(3):
        elt = sub.expr(draw, draw(st.integers(0, 2)))
        if any(isinstance(node, ast.Name) and node.id == item for node in ast.walk(elt.node)):
            break
    else:
        elt = binop(sub.var(item), "*", sub.leaf(draw))
    generator = ast.comprehension(_name(item), iterable, [test] if test is not None else [], 0)
    comp_type = ast.GeneratorExp if draw(st.booleans()) else ast.ListComp
    args: list[ast.expr] = [comp_type(elt.node, [generator])]
    if draw(st.integers(0, 3)) == 3:
        args.append(ctx.leaf(draw).node)
    total = ast.Call(ast.Name("sum", ast.Load()), args, [])
    how = draw(st.integers(0, 3))  # 0, 1: a new name; 2: an existing one; 3: +=
    writable = ctx.writable()
    if how < 2 or not writable:
        target = ctx.new_name(draw)
        stmt: ast.stmt = ast.Assign([_name(target)], total)
    else:
        target = draw(st.sampled_from(writable))
        stmt = ast.Assign([_name(target)], total) if how == 2 else \
            ast.AugAssign(_name(target), ast.Add(), total)
    commit(ctx, [stmt], new=(target,))
    return [stmt]


def s_closure(draw, ctx: Context) -> list[ast.stmt] | None:
    """A function defined in the function (``def`` or ``name = lambda``) that reads
    enclosing variables, called 2-3 times: in one expression, in a loop, or before and
    after one of the variables it reads changes (a closure reads the value at the call)::

        def inner(t):
            return t * a + math.sin(t)
        u = inner(b)
        a = a * 0.5
        u = u + inner(c)
    """
    name = next((f for f in FUNCTION_NAMES if f not in ctx.taken), None)
    if name is None or not ctx.writable():
        return None
    ctx.taken.add(name)
    enclosing = list(ctx.env)
    param = "t"
    if draw(st.integers(0, 3)) == 3:
        param = draw(st.sampled_from(enclosing))  # shadows the enclosing variable
    calls = draw(st.integers(2, 3))
    args = [ctx.expr(draw, draw(st.integers(0, 1))) for _ in range(calls)]
    param_bound = args[0].bound
    for a in args[1:]:
        param_bound = param_bound.join(a.bound)
    scope = {**{k: b for k, b in ctx.env.items() if k != param}, param: param_bound}
    sub = Context(ctx.params, ctx.expression_kinds, scope, ctx.max_depth)

    def reads(val: Val) -> set[str]:
        return {node.id for node in ast.walk(val.node) if isinstance(node, ast.Name)}

    for _attempt in range(4):
        body = sub.expr(draw, draw(st.integers(1, 2)))
        if param in reads(body) and reads(body) & (set(enclosing) - {param}):
            break
    else:
        others = [v for v in enclosing if v != param]
        if not others:
            return None
        body = binop(sub.var(param), "*", mcall("tanh", sub.var(draw(st.sampled_from(others)))))
    form = draw(st.integers(0, 2))  # 0: def, 1: def with a local variable, 2: lambda
    args_node = ast.arguments(posonlyargs=[], args=[ast.arg(param)], kwonlyargs=[],
                              kw_defaults=[], defaults=[])
    if form == 2:
        define: ast.stmt = ast.Assign([_name(name)], ast.Lambda(args_node, body.node))
    else:
        statements: list[ast.stmt] = [ast.Return(body.node)]
        if form == 1:
            local = next(v for v in ("w", "tmp", "loc", "w_1") if v not in scope)
            sub.bind(local, body.bound)
            rest = sub.expr(draw, draw(st.integers(0, 2)))
            if local not in reads(rest):
                rest = binop(sub.var(local), draw(st.sampled_from(("+", "*", "-"))), rest)
            statements = [ast.Assign([_name(local)], body.node), ast.Return(rest.node)]
        define = ast.FunctionDef(
            name=name, args=args_node, body=statements, decorator_list=[], returns=None,
            **({"type_params": []} if "type_params" in ast.FunctionDef._fields else {}))

    def call(arg: Val) -> ast.expr:
        return ast.Call(ast.Name(name, ast.Load()), [arg.node], [])

    shape = draw(st.integers(0, 2))  # 0: one expression, 1: around a change, 2: a loop
    if shape == 2 or draw(st.booleans()):
        target = draw(st.sampled_from(ctx.writable()))
    else:
        target = ctx.new_name(draw)
    ops = [draw(st.sampled_from((ast.Add, ast.Sub, ast.Mult))) for _ in args]
    new: list[str] = [target]
    if shape == 0:
        total = call(args[0])
        for op, arg in zip(ops[1:], args[1:]):
            total = ast.BinOp(total, op(), call(arg))
        stmts = [define, ast.Assign([_name(target)], total)]
    elif shape == 1:  # an enclosing variable it reads changes between two calls
        read = [v for v in ctx.writable() if v in reads(body) and v != param]
        changed = draw(st.sampled_from(read or ctx.writable()))
        value = ctx.expr(draw)
        stmts = [define, ast.Assign([_name(target)], call(args[0])),
                 ast.Assign([_name(changed)], value.node),
                 ast.Assign([_name(target)], ast.BinOp(_name(target, False), ops[1](),
                                                       call(args[1])))]
    else:
        if "i" in ctx.env:
            return None
        n = draw(st.integers(1, 3))
        fork = _fork_with(ctx, i=(0.0, n - 1.0))
        arg = choose(draw, [
            lambda: binop(fork.var(target), "*", binop(const(0.5), "*", fork.var("i"))),
            lambda: binop(args[0], "+", fork.var("i")),
            lambda: mcall("tanh", binop(fork.var(target), "+", args[0])),
        ])
        if arg is None:
            return None
        update = ast.BinOp(ast.BinOp(_name(target, False), ast.Mult(), ast.Constant(0.5)),
                           ast.Add(), call(arg))
        stmts = [define, ast.For(_name("i"), _range(n), [ast.Assign([_name(target)], update)],
                                 [])]
        new = []
    commit(ctx, stmts, new=new)
    return stmts


# ---------------------------------------------------------------- arrays written in place
#
# The kinds below build arrays inside the function (from the float variables) and write
# into them: by index in loops, through aliases and views, at repeated fancy indices, with
# values that have no gradient; they read ``np.where`` branches that are not finite, and
# reduce every array to a float before the statement ends. Their statements run on numpy
# arrays of dtype object whose elements are Bounds (:func:`run_array_code`): real numpy does
# the indexing, the views, the in-place operators and the buffering of ``out[idx] += v``,
# so the bounds follow numpy's own aliasing rules.


def _object_array(values) -> np.ndarray:
    """An array of distinct constant Bounds with the values and the shape of ``values``."""
    values = np.asarray(values, dtype=float)
    out = np.empty(values.shape, dtype=object)
    for k in np.ndindex(values.shape):
        out[k] = Bound.const(values[k])
    return out


def _elementwise(fn: Callable[[Bound], Bound]) -> Callable:
    """``fn`` on a Bound or on every element of an object array; an element where ``fn``
    is ill-conditioned becomes :data:`POISON` (``np.where`` may drop it)."""

    def element(a):
        if isinstance(a, Poison):
            return a
        try:
            return fn(lift(a))
        except IllConditioned:
            return POISON

    each = np.frompyfunc(element, 1, 1)
    return lambda a: each(a) if isinstance(a, np.ndarray) else element(a)


def _where(cond, a, b) -> np.ndarray:
    """``np.where`` on Bounds: each element of the branch its (decided) condition picks."""
    cond, a, b = np.broadcast_arrays(*(np.asarray(v, dtype=object) for v in (cond, a, b)))
    out = np.empty(cond.shape, dtype=object)
    for k in np.ndindex(cond.shape):
        out[k] = lift(a[k] if cond[k] else b[k])
    return out


def _mean(a) -> Bound:
    """The mean of elements in ``[lo_k, hi_k]`` with gradient norms ``d_k`` is in
    ``[min lo_k, max hi_k]`` with a gradient norm ``<= max d_k`` (no sum is formed)."""
    items = [lift(v) for v in np.asarray(a, dtype=object).ravel()]
    return Bound(min(b.lo for b in items), max(b.hi for b in items), max(b.d for b in items))


def _array(values) -> np.ndarray:
    """``np.array``: integers stay an index array, numbers become Bounds."""
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.array(values)
    out = np.empty(len(values), dtype=object)
    for k, v in enumerate(values):
        out[k] = v if isinstance(v, Poison) else lift(v)
    return out


def _where_threshold(v, c: float, fn: str):
    """The bound of ``np.where(v > c, F(v), 0.0)`` with ``F`` = ``np.sqrt(v - c + 0.25) - 0.5``
    (``fn == "sqrt"``) or ``np.log(v - c + 1.0)`` (``"log"``): ``F`` on the part of each
    element's interval above ``c`` (where it is finite, 0 at ``c``, slope <= 1), joined
    with 0 where the condition may be false. (``F`` is not finite below ``c - 0.25`` or
    ``c - 1``: that part is never selected.)"""

    def element(b: Bound) -> Bound:
        b = lift(b)
        if b.hi <= c:
            return Bound.const(0.0)
        above = Bound(max(b.lo, c), b.hi, b.d)
        f = _sqrt(above - c + 0.25) - 0.5 if fn == "sqrt" else _log(above - c + 1.0)
        return f if b.lo > c else f.join(Bound.const(0.0))

    if isinstance(v, np.ndarray):
        return np.frompyfunc(element, 1, 1)(v)
    return element(v)


def _items(a) -> list[Bound]:
    return [lift(v) for v in np.asarray(a, dtype=object).ravel()]


def _dot(a, b) -> Bound:
    """``np.dot`` of two 1-D lists or arrays of bounds."""
    return sum((x * y for x, y in zip(_items(a), _items(b))), Bound.const(0.0))


def _var(a) -> Bound:
    """``np.var``: the mean square distance from the mean, by interval arithmetic."""
    items = _items(a)
    mean = sum(items, Bound.const(0.0)) / len(items)
    return sum(((x - mean) * (x - mean) for x in items), Bound.const(0.0)) / len(items)


def _multiply(a, b, out=None):
    """``np.multiply``, with numpy's ``out=``: the product written into ``out``."""
    product = np.asarray(a, dtype=object) * np.asarray(b, dtype=object)
    if out is None:
        return product
    out[...] = product
    return out


#: numpy's order statistics over axes (:func:`s_quantiles`), and the position of ``q`` in
#: their arguments (``None``: they take none).
ORDER_STATISTICS = {"median": None, "nanmedian": None, "quantile": 1, "nanquantile": 1,
                    "percentile": 1, "nanpercentile": 1}


def _order_statistic(name: str) -> Callable:
    """``np.median`` (``quantile``, ``percentile``, their nan-versions) on Bounds: every
    item of the result is a convex combination of two order statistics of its lane, each
    some element (which one changes only where two cross), so it lies in the hull of the
    elements' intervals with a gradient norm at most their largest. The result's shape is
    numpy's own, for zeros of the array's shape."""

    def order_statistic(a, *q, **options):
        a = np.asarray(a, dtype=object)
        shape = getattr(np, name)(np.zeros(a.shape), *q, **options).shape
        hull = _mean(a)
        if shape == ():
            return hull
        out = np.empty(shape, dtype=object)
        for k in np.ndindex(shape):
            out[k] = hull
        return out

    return order_statistic


#: ``np`` for :func:`run_array_code`: arrays of Bounds.
ANP = types.SimpleNamespace(
    multiply=_multiply,
    zeros=lambda shape: _object_array(np.zeros(shape)),
    eye=lambda n, dtype=None: np.eye(n, dtype=dtype),  # (a mask, when dtype=bool)
    ones=lambda shape: _object_array(np.ones(shape)),
    linspace=lambda lo, hi, n: _array(
        [lift(lo) + (lift(hi) - lift(lo)) * (k / max(n - 1, 1)) for k in range(n)]
    ),
    full=lambda n, value: _array([lift(value)] * n),
    float64=lift,
    asarray=lambda a: a,
    real=lambda a: a,  # (of real numbers: the array's memory)
    array=_array,
    where=_where,
    mean=_mean,
    dot=_dot,
    var=_var,
    sum=lambda a: sum((lift(v) for v in np.asarray(a, dtype=object).ravel()), Bound.const(0.0)),
    stack=lambda parts, axis=0: np.stack([np.asarray(p, dtype=object) for p in parts], axis),
    concatenate=lambda parts: np.concatenate([np.asarray(p, dtype=object) for p in parts]),
    add=types.SimpleNamespace(at=np.add.at),
    arange=np.arange,
    **{name: _order_statistic(name) for name in ORDER_STATISTICS},
    **{name: _elementwise(getattr(AMATH, name))
       for name in ("exp", "log", "sqrt", "sin", "cos", "tanh", "log1p")},
)


def _test_value(test: ast.expr, namespace: dict) -> bool | None:
    """The value of a comparison ``a < c`` when the bounds decide it, else ``None``."""
    assert isinstance(test, ast.Compare) and len(test.ops) == 1, ast.unparse(test)
    left, right = (_eval(node, namespace) for node in (test.left, test.comparators[0]))
    try:
        return bool(_COMPARISONS[type(test.ops[0])](lift(left), right))
    except IllConditioned:
        return None


def _eval(node: ast.expr, namespace: dict):
    code = compile(ast.fix_missing_locations(ast.Expression(node)), "<abstract>", "eval")
    return eval(code, namespace)  # noqa: S307


def _copy_arrays(namespace: dict) -> dict:
    """A copy of ``namespace`` whose arrays are copies (one per array: ``w = z`` stays one
    array; a view becomes an array of its own, so no kind keeps a view across a branch)."""
    copies: dict[int, np.ndarray] = {}
    return {k: copies.setdefault(id(v), v.copy()) if isinstance(v, np.ndarray) else v
            for k, v in namespace.items()}


def _join_values(a, b):
    """A value enclosing ``a`` and ``b`` (floats, arrays of one shape), or ``None``."""
    if a is b:
        return a
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape:
        out = np.empty(a.shape, dtype=object)
        for k in np.ndindex(a.shape):
            out[k] = a[k] if a[k] is b[k] else lift(a[k]).join(lift(b[k]))
        return out
    if isinstance(a, Bound | float) and isinstance(b, Bound | float):
        return lift(a).join(lift(b))
    return None


def _exec_arrays(stmts: list[ast.stmt], namespace: dict) -> None:
    for stmt in stmts:
        if isinstance(stmt, ast.If):
            go = _test_value(stmt.test, namespace)
            if go is not None:
                _exec_arrays(stmt.body if go else stmt.orelse, namespace)
                continue
            branches = []
            for block in (stmt.body, stmt.orelse):
                branch = _copy_arrays(namespace)
                _exec_arrays(block, branch)
                branches.append(branch)
            joined = {k: _join_values(v, branches[1][k]) for k, v in branches[0].items()
                      if k in branches[1]}
            namespace.clear()
            namespace.update({k: v for k, v in joined.items() if v is not None})
            continue
        module = ast.fix_missing_locations(ast.Module([stmt], []))
        try:
            exec(compile(module, "<abstract arrays>", "exec"), namespace)  # noqa: S102
        except ZeroDivisionError as exc:  # pragma: no cover - bounds exclude it
            raise IllConditioned(str(exc)) from None


def _power_term(v, k: int):
    """The bound of ``v ** k`` for an int ``k >= 0`` (``v ** 0`` is 1, also at 0)."""
    if k == 0:
        return np.frompyfunc(lambda b: Bound.const(1.0), 1, 1)(v)
    return v**k


def run_array_code(stmts: list[ast.stmt], env: Env) -> dict:
    """Run ``stmts`` with ``np`` as :data:`ANP` on the bounds of ``env``: loops run (their
    trip counts are constants), an ``if`` on data runs both branches on copies and joins
    the values. Returns the namespace; raises :class:`IllConditioned` when a value leaves
    the well-conditioned region or a non-finite value is read."""
    namespace = {**_namespace(env), "np": ANP, "copy": copy, "_where_threshold": _where_threshold,
                 "_power_term": _power_term, "sum": _abstract_sum}
    exec(OBJECT_CLASSES, namespace)  # noqa: S102 (the classes s_objects makes objects of)
    exec(TUPLE_CLASSES, namespace)  # noqa: S102 (and s_named_tuples)
    _exec_arrays(stmts, namespace)
    return namespace


def _abstract_sum(items, start=0.0):
    """The builtin ``sum`` of a list of bounds (lists the code under test builds)."""
    total = lift(start)
    for item in items:
        total = total + item
    return total


def _as_bound(value) -> Bound:
    if isinstance(value, np.ndarray):
        assert value.shape == (), f"an array of shape {value.shape} where a float is read"
        value = value[()]
    return lift(value)


def commit_arrays(ctx: Context, stmts: list[ast.stmt], results: Collection[str] = (),
                  abstract: list[ast.stmt] | None = None) -> list[ast.stmt]:
    """Bind in ``ctx`` the bounds after ``stmts`` (:func:`run_array_code`, of ``abstract``
    when it stands for ``stmts``): of the variables they reassign and of the ``results``
    (new floats). Returns ``stmts``."""
    namespace = run_array_code(abstract if abstract is not None else stmts, ctx.env)
    reassigned = [n for n in _assigned_names(stmts) if n in ctx.env]
    bounds = {name: _as_bound(namespace[name]) for name in [*reassigned, *results]}
    for name, bound in bounds.items():
        ctx.bind(name, bound)
    return stmts


def s_library(draw, ctx: Context) -> list[ast.stmt] | None:
    """Idioms of library code: a shape built by tuple arithmetic (``(1,) * k`` and ``+``
    must stay tuples), and a helper with ``*args`` and a keyword default, called with a
    tuple spread and with more arguments::

        vec = x * np.linspace(0.5, 1.0, 3)
        col = vec.reshape(vec.shape + (1,) * 2)
        u = np.mean(col * col)

        def spread(*vals, scale=0.5):
            total = 0.0
            for v in vals:
                total = total + v * v
            return scale * total / len(vals)
        pair = (x * y, math.sin(z))
        u = spread(*pair) + spread(x, y, z, scale=0.25)

    or the helper's ``vals`` grows in a branch and a comprehension reads it there; or a
    ``try`` statement looks at an array (``len(np.asarray(vec).shape) + vec.ndim``), which
    then runs as plain Python; or a helper fills arrays in place in a loop, and returns
    one of them from an ``if`` whose other branch raises (its value flows on past the
    ``if``, into the caller)::

        def stacked(v, c):
            items = []
            for k in range(2):
                item = np.zeros(v.shape)
                item[:] = v * (k + c)
                items.append(item)
            if c < 1000000000.0:
                last = items[1]
            else:
                raise ValueError('c is too large')
            return last
        u = np.mean(stacked(vec, x * y) ** 2)
    """
    form = draw(st.integers(0, 3))  # 0: a shape, 1: *args, 2: a `try` that looks, 3: raise
    if form == 3:
        name = next((f for f in FUNCTION_NAMES if f not in ctx.taken), None)
        if name is None or not _free(ctx, ARRAY_NAMES):
            return None
        ctx.taken.add(name)
        (P,) = _array_names(draw, ctx, 1)
        target = _result(draw, ctx)
        n = draw(st.integers(2, 4))
        lines = [f"def {name}(v, c):", "    items = []", "    for k in range(2):",
                 "        item = np.zeros(v.shape)", "        item[:] = v * (k + c)",
                 "        items.append(item)", "    if c < 1000000000.0:",
                 f"        last = items[{draw(st.integers(0, 1))}]", "    else:",
                 "        raise ValueError('c is too large')", "    return last",
                 f"{P} = {_vector(draw, ctx, (n,))}"]
        called = f"{name}({P}, {_scalar(draw, ctx)})"
        lines.append(f"{target} = {_reduction_text(draw, ctx, called, (n,))}")
        return commit_arrays(ctx, _parse(lines), [target])
    if form == 2:
        free = _free(ctx, ARRAY_NAMES)
        dims = next((d for d in ("n_dims", "n_axes") if d not in ctx.taken), None)
        if not free or dims is None:
            return None
        ctx.taken.add(dims)
        (P,) = _array_names(draw, ctx, 1)
        target = _result(draw, ctx)
        n = draw(st.integers(2, 4))
        lines = [f"{P} = {_vector(draw, ctx, (n,))}", "try:",
                 f"    {dims} = len(np.asarray({P}).shape) + {P}.ndim",
                 "except AttributeError:", f"    {dims} = 2",
                 # (a count: no gradient flows through what the `try` binds)
                 f"{target} = 0.0", f"for _ in range({dims}):",
                 f"    {target} = {target} + 0.5 * {_reduction_text(draw, ctx, P, (n,))}"]
        return commit_arrays(ctx, _parse(lines), [target])
    if form == 0:
        free = _free(ctx, ARRAY_NAMES)
        if len(free) < 2:
            return None
        P, S = _array_names(draw, ctx, 2)
        target = _result(draw, ctx)
        n, k = draw(st.integers(2, 4)), draw(st.integers(1, 2))
        shape = draw(st.sampled_from((f"{P}.shape + (1,) * {k}", f"{P}.shape[:1] + (1,) * {k}",
                                      f"(1,) * 0 + {P}.shape + {(1,) * k!r}")))
        lines = [f"{P} = {_vector(draw, ctx, (n,))}", f"{S} = {P}.reshape({shape})",
                 f"{target} = {_reduction_text(draw, ctx, S, (n, *(1,) * k))}"]
        return commit_arrays(ctx, _parse(lines), [target])
    name = next((f for f in FUNCTION_NAMES if f not in ctx.taken), None)
    pair = next((p for p in ("pair", "trio", "duo") if p not in ctx.taken), None)
    if name is None or pair is None or not ctx.variables():
        return None
    ctx.taken.update((name, pair))
    target = _result(draw, ctx)
    scale = draw(st.sampled_from((0.5, 0.25, 2.0)))
    spread = ", ".join(_scalar(draw, ctx) for _ in range(draw(st.integers(1, 3))))
    more = ", ".join(_scalar(draw, ctx) for _ in range(draw(st.integers(1, 3))))
    call = f"{name}({more}, scale={draw(st.sampled_from((0.5, 1.5)))})"
    if draw(st.booleans()):
        body = ["    total = 0.0", "    for v in vals:", "        total = total + v * v",
                "    return scale * total / len(vals)"]
    else:  # `vals` grows in a branch, then a comprehension reads it (unrolled by length)
        body = ["    if len(vals) > 1:", "        vals = vals + (scale,)",
                "        return scale * sum([v * v for v in vals]) / len(vals)",
                "    return scale * sum([v * v for v in vals])"]
    lines = [f"def {name}(*vals, scale={scale}):", *body, f"{pair} = ({spread},)",
             f"{target} = {name}(*{pair}) + {call}"]
    return commit_arrays(ctx, _parse(lines), [target])


#: Names of arrays (none of them a float variable's: :data:`PLAIN_NAMES`, the parameters).
ARRAY_NAMES = ("L", "buf", "H", "M", "arr", "vec", "alias", "view", "K", "Z", "vals",
               "D", "sq", "pts", "col", "row", "seq", "grid")
#: Names of the loop variables of the array kinds (the first one not in use).
LOOP_NAMES = ("j", "t", "jj")
#: Names of the variable of ``for <name> in <2-D array>`` (the first one not in use).
ROW_NAMES = ("r", "rw", "line")


def _free(ctx: Context, names: Sequence[str]) -> list[str]:
    return [n for n in names if n not in ctx.env and n not in ctx.taken and n not in RESERVED]


def _array_names(draw, ctx: Context, k: int) -> list[str]:
    free = _free(ctx, ARRAY_NAMES)
    start = draw(st.integers(0, len(free) - k))
    return free[start:start + k]


def _scalar(draw, ctx: Context, depth: int = 1) -> str:
    """The text of a float expression of the variables, 0..``depth`` deep."""
    return ast.unparse(ctx.expr(draw, draw(st.integers(0, depth))).node)


def _const_text(shape: tuple[int, ...], lo: float, hi: float = 1.0) -> str:
    return ast.unparse(_const_array(shape, lo, hi)) if len(shape) > 1 \
        else f"np.linspace({lo}, {hi}, {shape[0]})"


def _vector(draw, ctx: Context, shape: tuple[int, ...], index: str | None = None) -> str:
    """The text of a float array of ``shape`` made from the variables: a variable (or a
    squashed expression, or ``index``) times a constant array, ``np.sin`` of one, or
    (1-D) ``np.array`` of expressions. Its bound comes from :func:`run_array_code`."""
    lo = draw(st.sampled_from((0.5, 0.25, 0.75)))
    scale = _const_text(shape, lo)
    var = draw(st.sampled_from(ctx.variables()))
    forms = [
        lambda: f"{var} * {scale}",
        lambda: f"np.tanh({_scalar(draw, ctx)}) * {scale}",
        lambda: f"np.sin({var} * {scale})",
    ]
    if len(shape) == 1 and shape[0] <= 4:
        forms.append(lambda: "np.array([" + ", ".join(
            _scalar(draw, ctx) for _ in range(shape[0])) + "])")
    if len(shape) == 1:  # a grid between differentiated ends, a filled array
        forms.append(lambda: f"np.linspace({lo} * {var}, {_scalar(draw, ctx)}, {shape[0]})")
        forms.append(lambda: f"np.full({shape[0]}, {_scalar(draw, ctx)}) * {scale}")
    if index is not None:
        forms.append(lambda: f"np.tanh({var} * {index}) * {scale}")
    return forms[draw(st.integers(0, len(forms) - 1))]()


def _reduction_text(draw, ctx: Context, array: str, shape: tuple[int, ...]) -> str:
    """A float read from ``array``: its mean, the mean of its square or of its product with
    another array, a variable times its mean."""
    forms = [
        lambda: f"np.mean({array})",
        lambda: f"np.mean({array} * {array})",
        lambda: f"np.mean({array} * {_vector(draw, ctx, shape)})",
        lambda: f"{draw(st.sampled_from(ctx.variables()))} * np.mean({array})",
    ]
    if math.prod(shape) <= 4:
        forms.append(lambda: f"np.sum({array}) / {math.prod(shape)}")
    return forms[draw(st.integers(0, len(forms) - 1))]()


def _result(draw, ctx: Context) -> str:
    """The float a statement assigns: a new name (mostly) or an existing variable."""
    writable = ctx.writable()
    if writable and draw(st.integers(0, 3)) == 3:
        return draw(st.sampled_from(writable))
    return ctx.new_name(draw)


def _parse(lines: Sequence[str]) -> list[ast.stmt]:
    return ast.parse("\n".join(lines)).body


def _first_built(draw, builders: Sequence[Callable[[], list[ast.stmt] | None]]):
    """Try ``builders`` from a drawn one on (each may raise :class:`IllConditioned`)."""
    start = draw(st.integers(0, len(builders) - 1))
    for builder in [*builders[start:], *builders[:start]]:
        try:
            built = builder()
        except IllConditioned:
            continue
        if built is not None:
            return built
    return None


def s_recurrence(draw, ctx: Context) -> list[ast.stmt] | None:
    """Arrays written by index in a loop and read at other indices or in other iterations
    (the values are recurrences across iterations)::

        L = np.zeros(4)
        L[0] = math.tanh(x)
        for j in range(1, 4):
            L[j] = 0.5 * L[j - 1] + 0.25 * L[(j + 1) % 4] + math.tanh(y * j)
        u = np.mean(L * L)

    also a read before the write (``s = s * 0.5 + buf[t - 1]; buf[t] = math.tanh(s * x)``),
    2-D arrays written by rows (``H[t] = np.tanh(W @ H[t - 1] + ...)``) or by columns, and
    positions counted by an int the loop increments in place (``A[k] = ...; k += 1``), with
    values read from a table row by row (``T[j][0] * x``: a chain of loop values)."""
    j = next((n for n in LOOP_NAMES if n not in ctx.env), None)
    if j is None:
        return None
    n = draw(st.integers(3, 5))
    decay = draw(st.sampled_from((0.5, -0.5, 0.25, 0.75)))
    target = _result(draw, ctx)

    def one_d() -> list[ast.stmt]:
        (A,) = _array_names(draw, ctx, 1)
        other = draw(st.sampled_from(("", f" + 0.25 * {A}[({j} + 1) % {n}]",
                                      f" - 0.25 * {A}[{j} - 2]", f" + 0.25 * {A}[0]")))
        drive = draw(st.sampled_from((f"math.tanh({_scalar(draw, ctx)} * {j})",
                                      f"math.sin({_scalar(draw, ctx)} + {j})",
                                      f"math.tanh({_scalar(draw, ctx)})")))
        lines = [f"{A} = np.zeros({n})", f"{A}[0] = math.tanh({_scalar(draw, ctx)})",
                 f"for {j} in range(1, {n}):",
                 f"    {A}[{j}] = {decay} * {A}[{j} - 1]{other} + {drive}",
                 f"{target} = {_reduction_text(draw, ctx, A, (n,))}"]
        return commit_arrays(ctx, _parse(lines), [target])

    def read_before_write() -> list[ast.stmt]:
        (A,) = _array_names(draw, ctx, 1)
        carried = [v for v in ctx.writable() if v != target]
        lines = [f"{A} = np.zeros({n})"]
        if carried and draw(st.booleans()):
            s = draw(st.sampled_from(carried))
        else:
            s = next(v for v in ("s_acc", "s_run", "s_sum") if v not in ctx.env)
            lines.append(f"{s} = math.tanh({_scalar(draw, ctx)})")
        step = draw(st.sampled_from((f"{s} + {A}[{j} - 1]", f"{s} * 0.5 + {A}[{j} - 1]")))
        write = draw(st.sampled_from((f"math.tanh({s} * {_scalar(draw, ctx, 0)})",
                                      f"math.sin({s}) * 0.5", f"math.tanh({s} + {j})")))
        lines += [f"for {j} in range(1, {n}):", f"    {s} = {step}", f"    {A}[{j}] = {write}",
                  f"{target} = {_reduction_text(draw, ctx, A, (n,))}"]
        return commit_arrays(ctx, _parse(lines), [target] + ([s] if s not in ctx.env else []))

    def rows() -> list[ast.stmt]:
        H, W = _array_names(draw, ctx, 2)
        m = draw(st.integers(2, 3))
        by_columns = draw(st.integers(0, 3)) == 3
        first = _vector(draw, ctx, (n,) if by_columns else (m,))
        lines = [f"{H} = np.zeros(({n}, {m}))"]
        if by_columns:  # H[:, t] from H[:, t - 1]: m columns
            lines += [f"{H}[:, 0] = {first}", f"for {j} in range(1, {m}):",
                      f"    {H}[:, {j}] = np.tanh({decay} * {H}[:, {j} - 1] + "
                      f"{_vector(draw, ctx, (n,), index=j)})"]
        else:
            previous = draw(st.sampled_from((f"{H}[{j} - 1]", f"{H}[{j} - 1][::-1]")))
            lines += [f"{W} = {_const_text((m, m), -0.5, 0.5)}",
                      f"{H}[0] = {first}", f"for {j} in range(1, {n}):",
                      f"    {H}[{j}] = np.tanh({W} @ {previous} + "
                      f"{_vector(draw, ctx, (m,), index=j)})"]
        read = draw(st.sampled_from((H, f"{H}[{n - 1}]", f"{H}[-1]")))
        shape = (n, m) if read == H else (m,)
        lines.append(f"{target} = {_reduction_text(draw, ctx, read, shape)}")
        return commit_arrays(ctx, _parse(lines), [target])

    def counter() -> list[ast.stmt]:  # positions counted by an int the loop increments
        (A,) = _array_names(draw, ctx, 1)
        k = next((v for v in ("k_at", "k_pos", "k_next") if v not in ctx.env), "k_at")
        step = draw(st.sampled_from((1, 2)))
        size = n * step
        table = f"{A}_table"  # rows read twice over (T[j][0]): a chain of loop values
        value = draw(st.sampled_from((f"math.tanh({_scalar(draw, ctx)} * ({k} + 1))",
                                      f"{_scalar(draw, ctx)} * {k}",
                                      f"{table}[{j}][0] * {_scalar(draw, ctx)}")))
        lines = [f"{A} = np.zeros({size})", f"{table} = {_const_text((n, 2), -1.0)}",
                 f"{k} = 0", f"for {j} in range({n}):",
                 f"    {A}[{k}] = {value}", f"    {k} += {step}",
                 f"{target} = {_reduction_text(draw, ctx, A, (size,))}"]
        return commit_arrays(ctx, _parse(lines), [target])

    return _first_built(draw, [one_d, read_before_write, rows, counter])


#: Names of the lists :func:`s_lists` builds (none of them a float variable's).
LIST_NAMES = ("hist", "parts", "terms", "rows", "seq_list")


def s_lists(draw, ctx: Context) -> list[ast.stmt] | None:
    """Lists the function builds and reads: grown by ``append`` in a loop (maybe only on
    some iterations; the loop may read the list as it grows), a comprehension, a float
    buffer written by index and read at the previous index, rows of arrays stacked,
    ``+``/``+=``/``extend`` of lists::

        hist = []
        for j in range(4):
            s_run = math.tanh(0.5 * s_run + x * j)
            hist.append(s_run)
        u = sum(hist) / len(hist)

    and lists changed twice per iteration with reads between (``h[j % 3] += ...;
    s_mid = max(h); h.append(s_mid * h[-2])``).
    """
    free = _free(ctx, LIST_NAMES)
    j = next((n for n in LOOP_NAMES if n not in ctx.env), None)
    if not free or j is None:
        return None
    name = draw(st.sampled_from(free))
    n = draw(st.integers(2, 4))
    decay = draw(st.sampled_from((0.5, -0.5, 0.75)))
    target = _result(draw, ctx)

    def read() -> str:  # a float read from the list of floats `name`
        return draw(st.sampled_from((f"sum({name}) / len({name})", f"{name}[-1] * {name}[0]",
                                     f"np.mean(np.array({name}) * np.array({name}))",
                                     # numpy functions of the list itself
                                     f"np.sum({name}) + np.dot({name}, {name})",
                                     f"np.mean({name}) - np.var({name})",
                                     f"sum({name}, {_scalar(draw, ctx, 0)})",
                                     # a sum of lists whose left side is a sum of lists
                                     f"np.dot({name} + [0.5], {name}[:1] + "
                                     f"[{_scalar(draw, ctx, 0)}] + {name}[1:])",
                                     # a numpy start: the items' gradients are one array
                                     f"sum({name}, np.float64({_scalar(draw, ctx, 0)}))")))

    def grown() -> list[ast.stmt]:
        state = next(v for v in ("s_run", "s_acc", "s_sum") if v not in ctx.env)
        step = draw(st.sampled_from((f"math.tanh({decay} * {state} + {_scalar(draw, ctx)} * {j})",
                                     f"math.sin({state}) * 0.5 + {_scalar(draw, ctx)}",
                                     # reads of the list while it grows
                                     f"math.tanh({decay} * {name}[-1] + {_scalar(draw, ctx)})",
                                     f"0.5 * {name}[-1] - 0.25 * {name}[len({name}) // 2] "
                                     f"+ {_scalar(draw, ctx, 0)}")))
        item = draw(st.sampled_from((state, f"{state} * {_scalar(draw, ctx, 0)}")))
        lines = [f"{state} = math.tanh({_scalar(draw, ctx)})", f"{name} = [{state}]",
                 f"for {j} in range({n}):", f"    {state} = {step}"]
        if draw(st.booleans()):
            lines.append(f"    {name}.append({item})")
        else:  # on some iterations only (the list keeps its first item)
            lines += [f"    if {j} != 1:", f"        {name}.append({item})"]
        lines.append(f"{target} = {read()}")
        return commit_arrays(ctx, _parse(lines), [target])

    def comprehension() -> list[ast.stmt]:
        if draw(st.booleans()):
            lines = [f"{name} = [math.tanh({_scalar(draw, ctx)} * ({j} + 1)) "
                     f"for {j} in range({n}) if {j} != 1]"]
        else:
            values = ", ".join(_scalar(draw, ctx) for _ in range(n))
            lines = [f"{name} = [t * t + {_scalar(draw, ctx, 0)} for t in ({values},)]"]
        lines.append(f"{target} = {read()}")
        return commit_arrays(ctx, _parse(lines), [target])

    def buffer() -> list[ast.stmt]:
        drive = f"math.sin({_scalar(draw, ctx)} * {j})"
        lines = [f"{name} = [0.0] * {n}", f"{name}[0] = math.tanh({_scalar(draw, ctx)})",
                 f"for {j} in range(1, {n}):",
                 f"    {name}[{j}] = {decay} * {name}[{j} - 1] + {drive}"]
        if draw(st.booleans()):
            lines.append(f"{name}[-1] += {_scalar(draw, ctx, 0)}")
        lines.append(f"{target} = {read()}")
        return commit_arrays(ctx, _parse(lines), [target])

    def rows() -> list[ast.stmt]:
        m = draw(st.integers(2, 3))
        row = draw(st.sampled_from((  # (maybe from the last row: a list read as it grows)
            f"np.tanh({_vector(draw, ctx, (m,))} + 0.25 * {j})",
            f"np.tanh({_vector(draw, ctx, (m,))} + 0.25 * {j}) if {j} == 0 "
            f"else {name}[-1] * 0.5 + 0.1",
        )))
        lines = [f"{name} = []", f"for {j} in range({n}):", f"    {name}.append({row})"]
        joined, shape = draw(st.sampled_from(((f"np.stack({name})", (n, m)),
                                              (f"np.stack({name}, axis=1)", (m, n)),
                                              (f"np.concatenate({name})", (n * m,)),
                                              (f"sum({name})", (m,)))))
        lines.append(f"{target} = {_reduction_text(draw, ctx, joined, shape)}")
        return commit_arrays(ctx, _parse(lines), [target])

    def joined() -> list[ast.stmt]:
        lines = [f"{name} = [{_scalar(draw, ctx)}, {_scalar(draw, ctx)}]",
                 f"{name} = {name} + [{_scalar(draw, ctx)} * 2.0]",
                 draw(st.sampled_from((f"{name} += [{_scalar(draw, ctx)}]",
                                       f"{name}.extend([{_scalar(draw, ctx)}])",
                                       # a sum whose left side is a sum of lists
                                       f"{name} = {name}[:1] + [{_scalar(draw, ctx)}] "
                                       f"+ {name}[1:]"))),
                 f"{target} = {read()}"]
        return commit_arrays(ctx, _parse(lines), [target])

    def changed_by_its_operands() -> list[ast.stmt]:
        # a change of the list whose operands change it first: Python evaluates them,
        # then changes the list they left (a stack machine's step, a rotation)
        values = ", ".join(_scalar(draw, ctx) for _ in range(3))
        change = draw(st.sampled_from((f"{name}.append({name}.pop() * {_scalar(draw, ctx)})",
                                       f"{name}.append({name}.pop(0))",
                                       f"{name}.append({name}.pop() + {name}.pop())",
                                       f"{name} += [{name}.pop() + {_scalar(draw, ctx, 0)}]",
                                       f"{name}[0] = {name}.pop() * 2.0")))
        lines = [f"{name} = [{values}]", change,
                 f"{target} = {name}[0] * 1.5 + {name}[-1] * {name}[-1] + len({name})"]
        return commit_arrays(ctx, _parse(lines), [target])

    def changed_twice_per_step() -> list[ast.stmt]:
        # two changes of one list per iteration, with reads between (the version for
        # floats changes it in place; the backward pass puts the old items back)
        values = ", ".join(_scalar(draw, ctx) for _ in range(3))
        first = draw(st.sampled_from((f"{name}[{j} % 3] += {decay} * {name}[({j} + 1) % 3]",
                                      f"{name}.append({name}[-1] * {_scalar(draw, ctx, 0)})")))
        between = draw(st.sampled_from((f"max({name})", f"sum({name}) / len({name})",
                                        f"{name}[{j} % 3] * {name}[-1]",
                                        # an item of a slice (a copy) of the list
                                        f"{name}[1:][0] * 0.5 + {name}[:][-1]")))
        second = draw(st.sampled_from((f"{name}[({j} + 2) % 3] = math.tanh(s_mid)",
                                       f"{name}[{j} % 3] -= 0.25 * s_mid",
                                       f"{name}.append(s_mid * {name}[-2])")))
        lines = [f"{name} = [{values}]", f"for {j} in range({n}):", f"    {first}",
                 f"    s_mid = {between}", f"    {second}", f"{target} = {read()}"]
        return commit_arrays(ctx, _parse(lines), [target])

    def on_one_path() -> list[ast.stmt] | None:
        return s_list_on_one_path(draw, ctx)

    return _first_built(
        draw, [grown, comprehension, buffer, rows, joined, changed_by_its_operands,
               changed_twice_per_step, on_one_path]
    )


def s_list_on_one_path(draw, ctx: Context) -> list[ast.stmt] | None:
    """A list changed on one path of a loop (an item written, an item added to, an item
    appended) and read after the join, in the same iteration (round 91: the version for
    floats changed the list in place and dropped the lines after the join, a gradient of
    zeros)::

        hist = [a, b, c]
        s_acc = 0.0
        for j in range(3):
            if j != 1:
                hist[j % 3] = 0.5 * hist[j % 3] + 0.25
            s_acc = s_acc + hist[j % 3] * 0.5
        u = s_acc + hist[0]
    """
    free = _free(ctx, LIST_NAMES)
    j = next((n for n in LOOP_NAMES if n not in ctx.env), None)
    acc = next((v for v in ("s_acc", "s_run", "s_sum") if v not in ctx.env), None)
    if not free or j is None or acc is None:
        return None
    name = draw(st.sampled_from(free))
    n = draw(st.integers(2, 4))
    decay = draw(st.sampled_from((0.5, -0.5, 0.75)))
    target = _result(draw, ctx)
    values = ", ".join(_scalar(draw, ctx) for _ in range(3))
    test = draw(st.sampled_from((f"{j} != 1", f"{j} % 2 == 0", f"{j} < {n}")))
    change = draw(st.sampled_from((
        f"{name}[{j} % 3] = {decay} * {name}[{j} % 3] + {_scalar(draw, ctx, 0)}",
        f"{name}[({j} + 1) % 3] += {decay} * {name}[{j} % 3]",
        f"{name}.append({decay} * {name}[-1] + {_scalar(draw, ctx, 0)})",
    )))
    after = draw(st.sampled_from((f"{name}[{j} % 3]", f"{name}[-1]",
                                  f"sum({name}) / len({name})")))
    lines = [f"{name} = [{values}]", f"{acc} = 0.0", f"for {j} in range({n}):",
             f"    if {test}:", f"        {change}", f"    {acc} = {acc} + {after} * 0.5",
             f"{target} = {acc} + {name}[0]"]
    return commit_arrays(ctx, _parse(lines), [target])


def s_int_powers(draw, ctx: Context) -> list[ast.stmt] | None:
    """Ints raised to int powers, multiplied and shifted in a loop, weighting a float sum:
    ``k ** p``, ``(k * a) * (k * b)`` and ``1 << (k + 40)`` past 2**63 (Python's ints are
    exact; numba's int64 wrapped; rounds 91, 92) and ``2 ** (k - c)`` to a negative
    exponent (a float in Python, 0 in numba's ints)::

        s_pow = 0.0
        for j in range(1, 26):
            s_pow = s_pow + a * (0.00384615 * ((j ** 14) % 10) - 2 ** (j - 26))
        u = s_pow + c
    """
    j = next((n for n in LOOP_NAMES if n not in ctx.env), None)
    acc = next((v for v in ("s_pow", "s_digits") if v not in ctx.env), None)
    if j is None or acc is None:
        return None
    n = draw(st.sampled_from((5, 12, 26)))  # (25 ** 14 > 2**64)
    power = draw(st.sampled_from((2, 7, 14)))
    modulus = draw(st.sampled_from((7, 10)))
    shift = draw(st.integers(0, 3))
    target = _result(draw, ctx)
    # (scale first: every value the generator bounds stays within VALUE_CAP)
    digit = f"{1 / (modulus * n):.6g} * (({j} ** {power}) % {modulus})"  # (in [0, 1 / n))
    halving = f"2 ** ({j} - {n + shift})"  # (in (0, 1))
    product = f"{1 / (modulus * n):.6g} * (({j} * 1000000007) * ({j} * 998244353) % {modulus})"
    shifted = f"{1 / (modulus * n):.6g} * ((1 << ({j} + 40)) % {modulus})"
    term = draw(st.sampled_from((
        f"{_scalar(draw, ctx, 0)} * {digit}",
        f"{_scalar(draw, ctx, 0)} * {halving}",
        f"{_scalar(draw, ctx, 0)} * ({digit} - {halving})",
        f"{_scalar(draw, ctx, 0)} * {product}",  # (past 2**63 from j = 4)
        f"{_scalar(draw, ctx, 0)} * {shifted}",  # (from j = 23)
    )))
    lines = [f"{acc} = 0.0", f"for {j} in range(1, {n}):", f"    {acc} = {acc} + {term}",
             f"{target} = {acc} + {_scalar(draw, ctx, 0)}"]
    return commit_arrays(ctx, _parse(lines), [target])


def s_int_lists(draw, ctx: Context) -> list[ast.stmt] | None:
    """A list made of int literals (``[0] * 3``, ``[1, 0, 0]``, ``list(range(3))``, as
    users start one), then floats written into it in a loop that reads the item an
    earlier iteration wrote (round 96: numba typed the list int64 and truncated every
    float written)::

        i_u = [0] * 3
        i_u[0] = 1
        for j in range(1, 3):
            i_u[j] = math.tanh(i_u[j - 1] * a) + 0.5
        u = (i_u[0] + i_u[1] + i_u[2]) * 0.25
    """
    j = next((n for n in LOOP_NAMES if n not in ctx.env), None)
    target = _result(draw, ctx)
    items = f"i_{target}"
    if j is None or items in ctx.env:
        return None
    ctx.taken.add(items)
    n = draw(st.integers(2, 4))
    made = draw(st.sampled_from((f"[0] * {n}", "[1" + ", 0" * (n - 1) + "]",
                                 f"list(range({n}))")))
    lines = [f"{items} = {made}"]
    if draw(st.booleans()):
        lines.append(f"{items}[0] = 1")
    step = draw(st.sampled_from((
        f"math.tanh({items}[{j} - 1] * {_scalar(draw, ctx, 0)}) + 0.5",
        f"{items}[{j} - 1] * 0.5 + {_scalar(draw, ctx, 0)} * {j} * 0.25",
    )))
    lines += [f"for {j} in range(1, {n}):", f"    {items}[{j}] = {step}",
              f"{target} = ({' + '.join(f'{items}[{k}]' for k in range(n))}) * 0.25"]
    return commit_arrays(ctx, _parse(lines), [target])


def s_closures(draw, ctx: Context) -> list[ast.stmt] | None:
    """A closure a factory makes (``make_affine(c)`` returns its nested ``affine``,
    ``c * tanh(z) + 0.5 z``): bound to a name and called, called at once, or given to a
    helper that calls it twice (rounds 94, 97: refused, "cannot pass it on as a
    value")::

        f_u = make_affine(a * 0.5)
        u = f_u(b) * 0.5 + apply_twice(make_affine(0.25), a) * 0.25
    """
    target = _result(draw, ctx)
    held = f"f_{target}"
    if held in ctx.env:
        return None
    ctx.taken.add(held)
    c = f"({_scalar(draw, ctx, 0)}) * 0.5"
    term = draw(st.sampled_from((
        f"{held}({_scalar(draw, ctx, 0)})",
        f"make_affine({_scalar(draw, ctx, 0)} * 0.25)({_scalar(draw, ctx, 0)})",
        f"apply_twice({held}, {_scalar(draw, ctx, 0)})",
        f"apply_twice(make_affine(0.25), {_scalar(draw, ctx, 0)})",
    )))
    lines = [f"{held} = make_affine({c})", f"{target} = {term} * 0.5"]
    abstract = _parse([*FACTORY_SOURCE.splitlines(), *lines])  # (the factory on bounds)
    return commit_arrays(ctx, _parse(lines), [target], abstract=abstract)


def s_copies(draw, ctx: Context) -> list[ast.stmt] | None:
    """``copy.copy`` of a number, an int and a list (round 94: of a float, ``x.copy()`` in
    the generated code, an AttributeError; srcad's stand-in for ``copy.copy``)::

        c_u = copy.copy(a) * 1.5 + copy.copy(2) * b
        l_u = copy.copy([a, c_u])
        l_u[0] = l_u[0] * 0.5
        u = c_u + l_u[0] + l_u[1]
    """
    target = _result(draw, ctx)
    copied, listed = f"c_{target}", f"l_{target}"
    if copied in ctx.env or listed in ctx.env:
        return None
    ctx.taken.update((copied, listed))
    scale = draw(st.sampled_from((0.5, 1.5, -0.75)))
    count = draw(st.integers(1, 3))
    lines = [
        f"{copied} = copy.copy({_scalar(draw, ctx, 0)}) * {scale}"
        f" + copy.copy({count}) * {_scalar(draw, ctx, 0)} * 0.25",
        f"{listed} = copy.copy([{_scalar(draw, ctx, 0)}, {copied}])",
        f"{listed}[0] = {listed}[0] * 0.5",
        f"{target} = ({copied} + {listed}[0] + {listed}[1]) * 0.25",
    ]
    return commit_arrays(ctx, _parse(lines), [target])


def s_generators(draw, ctx: Context) -> list[ast.stmt] | None:
    """A generator made, then the list it runs over changed (an item written, an item
    appended) or a variable its element reads bound again, then the generator read:
    Python runs it where it is read::

        parts = [x, 0.5 * y, 1.5]
        s_u = y
        g_u = (v * s_u for v in parts)
        parts.append(x * 0.5 + 1.25)
        u = sum(g_u)

    or a helper ``def h_u(items): return (v * s_u for v in items)`` makes it, read by
    the next statement (srcad inlines the helper where it is called).
    """
    free = _free(ctx, LIST_NAMES)
    if not free:
        return None
    name = draw(st.sampled_from(free))
    target = _result(draw, ctx)
    lazy, scale = f"g_{target}", f"s_{target}"
    values = ", ".join(_scalar(draw, ctx) for _ in range(3))
    made = draw(st.sampled_from((f"(v * {scale} for v in {name})",
                                 f"map(lambda v: v * {scale} + v, {name})",
                                 f"(a * b * {scale} for a, b in zip({name}, {name}[::-1]))",
                                 f"(k * v * {scale} for k, v in enumerate({name}))")))
    change = draw(st.sampled_from((f"{name}[-1] = {name}[0] * 0.75 + {_scalar(draw, ctx)}",
                                   f"{name}.append({_scalar(draw, ctx)} * 0.5 + 1.25)",
                                   f"{name} += [{_scalar(draw, ctx)}]",
                                   f"{scale} = {scale} * 0.5 + {_scalar(draw, ctx)}",
                                   f"{name}[0] += {scale} * {name}[2] + 0.5")))
    consumed = draw(st.sampled_from((f"sum({lazy})", f"max({lazy})", f"list({lazy})[-1]")))
    lines = [f"{name} = [{values}]", f"{scale} = {_scalar(draw, ctx)}",
             f"{lazy} = {made}", change, f"{target} = {consumed}"]
    if draw(st.booleans()):  # (a helper returns it, and the next statement reads it)
        helper = f"h_{target}"
        lines[2:4] = [f"def {helper}(items):", f"    return (v * {scale} for v in items)",
                      change, f"{lazy} = {helper}({name})"]
    return commit_arrays(ctx, _parse(lines), [target])


def s_walrus(draw, ctx: Context) -> list[ast.stmt] | None:
    """An assignment expression where Python's order lets srcad read it as an assignment:
    first in its statement, or in a comprehension (a clause binding one value)::

        u = (a_u := x * y) * 0.5 + a_u * z
        u = sum((d_u := v * 0.5 - x) * d_u for v in [x, y, 1.5]) / 3.0
        u = sum([d_u * x for v in [0.5, -0.25, 1.5] if (d_u := v * 2.0) > 0.0]) + 1.0
    """
    if not ctx.env:
        return None
    target = _result(draw, ctx)
    named, item = f"a_{target}", f"d_{target}"
    if named in ctx.env or item in ctx.env:
        return None
    ctx.taken.update((named, item))
    first, rest = _scalar(draw, ctx), _scalar(draw, ctx)
    items = ", ".join(_scalar(draw, ctx) for _ in range(2))
    line = draw(st.sampled_from((
        f"{target} = ({named} := {first}) * 0.5 + {named} * {rest}",
        f"{target} = sum(({item} := v * 0.5 - {first}) * {item} for v in [{items}, 1.5]) / 3.0",
        f"{target} = sum([{item} * {first} for v in [0.5, -0.25, 1.5]"
        f" if ({item} := v * 2.0) > 0.0])",
        f"{target} = sum({{k: ({item} := v * {first}) + {item}"
        f" for k, v in enumerate([{items}])}}.values())",
    )))
    return commit_arrays(ctx, _parse([line]), [target])


def s_named_tuples(draw, ctx: Context) -> list[ast.stmt] | None:
    """Namedtuples of :data:`TUPLE_CLASSES` made inside the program, read as Python reads
    them: by field, by position (also from the end), unpacked, iterated, measured,
    rebuilt by ``_replace`` or a method, carried by a loop, returned by a helper, held in
    a list, made a dict (``_asdict``)::

        m_u = Motion(x * y, z)
        for i_u in range(2):
            m_u = Motion(m_u.q + 0.25 * m_u.p, m_u.p - 0.25 * m_u.q)
        u = m_u.energy + m_u[-1] * m_u.q
    """
    target = _result(draw, ctx)
    names = [f"{prefix}_{target}" for prefix in ("m", "p", "a", "b", "i", "h", "d")]
    if any(name in ctx.env for name in names):
        return None
    ctx.taken.update(names)
    made, other = names[:2]
    first, second, third = (_scalar(draw, ctx) for _ in range(3))
    form = draw(st.integers(0, 5))
    if form == 0:  # (keywords, a default, _replace, unpacking, len)
        lines = [f"{other} = Pair(b={first}, a={second} * 0.5)",
                 f"{other} = {other}._replace(b={other}.a + {other}.b * 0.5)",
                 f"a_{target}, b_{target} = {other}",
                 f"{target} = a_{target} * b_{target} + len({other}) * {other}[-1]"]
    elif form == 1:  # (a loop carries it)
        lines = [f"{made} = Motion({first}, {second})",
                 f"for i_{target} in range({draw(st.integers(1, 3))}):",
                 f"    {made} = Motion({made}.q + 0.25 * {made}.p, {made}.p - 0.25 * {made}.q)",
                 f"{target} = {made}.energy + {made}[-1] * {made}.q"]
    elif form == 2:  # (a method making a new one, in a loop or not, then iterated)
        kicks = draw(st.sampled_from((f"{made}.kicked({third} * 0.5)",
                                      f"{made}.kicked(0.5)._replace(q={third})")))
        lines = [f"{made} = Motion({first}, {second}, 1.5)", f"{made} = {kicks}",
                 f"{target} = sum(v * 0.5 for v in {made}) + {made}.energy"]
    elif form == 3:  # (a helper returns one; its fields read from the call)
        lines = [f"def h_{target}(z):", "    return Pair(z * 0.5, z + 1.0)",
                 f"{target} = h_{target}({first}).a * h_{target}({second})[1]"]
    elif form == 4:  # (in a list, by a display and by append)
        lines = [f"{other} = [Pair({first}, {second})]",
                 f"{other}.append(Pair({other}[0].b, {third}))",
                 f"{target} = sum(q.a * q.b for q in {other}) + {other}[-1].a"]
    else:  # (a dict of its fields)
        lines = [f"d_{target} = Motion({first}, {second})._asdict()",
                 f"{target} = d_{target}['q'] * d_{target}['m'] - d_{target}['p']"]
    return commit_arrays(ctx, _parse(lines), [target])


def s_objects(draw, ctx: Context) -> list[ast.stmt] | None:
    """Objects of the prelude's classes made inside the program, used as Python uses
    them: an array (or a view of it) a :class:`Holder` field holds written in place
    through its own name,
    then read through the field; a Python list a Holder keeps (made with it, or given
    to its method ``keep``), written through the field and read through its own name;
    a :class:`Grid` written with ``g[i] = v`` or ``g[i] += v`` (its ``__setitem__``);
    a :class:`Tally`'s truth (its ``__len__``); a :class:`Stepper` whose method updates its
    array argument in place::

        Z = x * np.linspace(0.5, 1.0, 3)
        h_u = Holder(Z, y)
        Z[1:] *= np.sin(z * np.linspace(0.25, 1.0, 2))
        u = h_u.scale * np.mean(h_u.w * h_u.w)
    """
    Z = _array_names(draw, ctx, 1)[0]
    n = draw(st.integers(3, 4))
    target = _result(draw, ctx)
    form = draw(st.integers(0, 5))
    lines = [f"{Z} = ({_vector(draw, ctx, (n,))}).copy()"]
    if form == 5:  # (a Python list the Holder keeps: written through the field, read
        # through the list's own name or a second holder; round 62b)
        items = f"items_{target}"
        first, second = f"h_{target}", f"k_{target}"
        lines = [f"{items} = [{_scalar(draw, ctx)}, {_scalar(draw, ctx)}]"]
        if draw(st.booleans()):
            lines.append(f"{first} = Holder({items}, 0.5)")
        else:  # (kept by a method: `opt.attach(params)`, round 63b)
            lines += [f"{first} = Holder([0.0], 0.5)", f"{first}.keep({items})"]
        read = items
        if draw(st.booleans()):
            lines.append(f"{second} = Holder({items}, 1.5)")
            read = f"{second}.w"
        lines.append(f"{first}.w[0] = {first}.w[1] * 0.5 + {_scalar(draw, ctx)}")
        lines.append(f"{target} = {read}[0] * {first}.scale + {read}[1]")
    elif form == 4:
        lines += _shared_holders(draw, ctx, Z, n, target)
    elif form == 0:
        holder = f"h_{target}"
        view = draw(st.booleans())  # (the field holds a view of Z: Z[1:])
        lines.append(f"{holder} = Holder({Z}{'[1:]' if view else ''}, {_scalar(draw, ctx)})")
        for _ in range(draw(st.integers(1, 2))):
            usable = [op for op in ALIAS_OPS if "X[:] = X" not in op]
            lines.append(_alias_op(draw, ctx, draw(st.sampled_from(usable)), Z, n))
        read = _reduction_text(draw, ctx, f"{holder}.w", (n - 1 if view else n,))
        lines.append(f"{target} = {holder}.scale * {read}")
    elif form == 1:
        grid = f"g_{target}"
        lines.append(f"{grid} = Grid({Z})")
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        op = draw(st.sampled_from(("=", "+=", "*=")))
        lines.append(f"{grid}[{i}] {op} {grid}[{j}] * 0.5 + {_scalar(draw, ctx)}")
        lines.append(f"{target} = {_reduction_text(draw, ctx, f'{grid}.values', (n,))}")
    elif form == 2:
        tally = f"t_{target}"
        lines.append(f"{tally} = Tally()")
        if draw(st.booleans()):
            lines.append(f"{tally}.items = {tally}.items + [{_scalar(draw, ctx)}]")
        lines.append(f"{target} = np.mean({Z}) if {tally} else {_scalar(draw, ctx)}")
    else:
        stepper = f"s_{target}"
        lines += [f"{stepper} = Stepper({_scalar(draw, ctx)})",
                  f"{stepper}.apply({Z}, {_vector(draw, ctx, (n,))})",
                  f"{target} = {_reduction_text(draw, ctx, Z, (n,))}"]
    return commit_arrays(ctx, _parse(lines), [target])


def _shared_holders(draw, ctx: Context, Z: str, n: int, target: str) -> list[str]:
    """One array held twice (two :class:`Holder` objects, two keys of a dict, a dict in a
    dict, a list of it repeated, a field holding a dict, parameter groups, a workspace
    dict numpy's ``out=`` writes into), written in place through one holder (or its own
    name, or in a loop that then builds a new holder), and read through the other::

        h_u = Holder(Z, 0.5)
        k_u = Holder(Z, y)
        h_u.w[1:] *= np.sin(z * np.linspace(0.25, 1.0, 2))
        u = k_u.scale * np.mean(k_u.w * k_u.w)
    """
    first, second = f"h_{target}", f"k_{target}"
    kind = draw(st.sampled_from(
        ("objects", "keys", "nested", "repeated", "rebuilt", "field", "groups", "out")
    ))
    if kind == "objects":
        lines = [f"{first} = Holder({Z}, 0.5)", f"{second} = Holder({Z}, {_scalar(draw, ctx)})"]
        through, read = f"{first}.w", f"{second}.w"
    elif kind == "keys":
        lines = [f"{first} = {{'a': {Z}, 'b': {Z}}}"]
        through, read = f"{first}['a']", f"{first}['b']"
    elif kind == "nested":
        lines = [f"{second} = {{'w': {Z}}}", f"{first} = {{'inner': {second}, 's': 0.5}}"]
        through, read = f"{second}['w']", f"{first}['inner']['w']"
    elif kind == "field":  # (an optimizer's `self.params[k] -= ...`: the array changes)
        lines = [f"{first} = Holder({{'a': {Z}}}, 0.5)"]
        through, read = f"{first}.w['a']", Z
    elif kind == "groups":  # (param groups: `for grp in groups: grp["p"] *= s`)
        scale = draw(st.sampled_from(("0.5", "2.0", _scalar(draw, ctx))))
        return [f"{first} = [{{'p': {Z}}}, {{'p': {Z} * 2.0}}]",
                f"for g_{target} in {first}:", f"    g_{target}['p'] *= {scale}",
                f"{target} = {_reduction_text(draw, ctx, Z, (n,))}"]
    elif kind == "out":  # (numpy writes into the array a workspace dict holds)
        return [f"{first} = {{'tmp': np.zeros({n})}}", f"{second} = {first}['tmp']",
                f"np.multiply({_vector(draw, ctx, (n,))}, {Z}, out={first}['tmp'])",
                f"{target} = {_reduction_text(draw, ctx, second, (n,))}"]
    elif kind == "repeated":  # (an item of a list is written through a name of its own)
        lines = [f"{first} = [{Z}] * 2", f"{second} = {first}[0]"]
        through, read = second, f"{first}[1]"
    else:  # (a write in the first iteration changes the first holder; later ones a copy)
        lines = [f"{first} = Holder({Z}, 0.5)", f"for i_{target} in range(2):",
                 f"    {Z}[i_{target}] = {Z}[i_{target}] * {_scalar(draw, ctx)}",
                 f"    {first} = Holder({first}.w * 1.5, {first}.scale)"]
        return [*lines, f"{target} = {_reduction_text(draw, ctx, f'{first}.w', (n,))}"]
    if kind != "field" and draw(st.booleans()):  # (through the holder, or the array's name)
        through = Z
    usable = [op for op in ALIAS_OPS if "X[:] = X" not in op and "X *= X" not in op]
    for _ in range(draw(st.integers(1, 2))):
        lines.append(_alias_op(draw, ctx, draw(st.sampled_from(usable)), through, n))
    return [*lines, f"{target} = {_reduction_text(draw, ctx, read, (n,))}"]


#: In-place operators of :func:`s_alias` on a 1-D array ``X`` of ``n`` elements (``V``: an
#: array of ``n`` elements, ``V1``: of ``n - 1``, ``S``: a float, ``C``: a constant).
ALIAS_OPS = ("X *= C", "X += V", "X -= V", "X[0] = S", "X[1:] *= V1", "X[:] = X",
             "X[1:] = X[:-1]", "X[:] = X[::-1] * C",
             # an operand that shares the memory the operator changes (numpy reads it
             # as it was before the write)
             "X *= X[::-1]", "X += X[:1] * C")


def _alias_op(draw, ctx: Context, template: str, name: str, n: int) -> str:
    def fill(match: re.Match) -> str:
        token = match[0]
        if token == "X":
            return name
        if token == "C":
            return str(draw(st.sampled_from((0.5, 2.0, -1.0))))
        if token == "S":
            return _scalar(draw, ctx)
        return _vector(draw, ctx, (n - 1,) if token == "V1" else (n,))

    return re.sub(r"\b(X|C|S|V1|V)\b", fill, template)


def s_alias(draw, ctx: Context) -> list[ast.stmt] | None:
    """A second name for an array (the same array, a view, the rows of a 2-D array) and
    in-place operators on either name; then the other name is read::

        Z = x * np.linspace(0.5, 1.0, 3)
        alias = Z[:]
        alias += np.sin(y * np.linspace(0.25, 1.0, 3))
        u = np.mean(Z * Z)

    also ``alias = Z; Z *= 2.0``, views made by calls (``np.real(Z)``, ``np.asarray(Z)``,
    ``Z.view()``, ``Z.reshape(-1)``), ``for r in M: r *= 0.5``, ``Z[1:] *= w`` (no second name),
    whole-array self writes (``Z[:] = Z``, overlapping ``Z[1:] = Z[:-1]``), and a value saved
    before a write through the array: ``T = Z[1:] * w; Z[1:] = 0.0`` and the view
    ``T = Z[1:]; Z[1:] = 0.5`` (which sees the write); the writes may be a loop's body
    (``for _ in range(2): alias *= 2.0``: a view made before the loop, written in it)."""
    Z, A = _array_names(draw, ctx, 2)
    n = draw(st.integers(3, 4))
    target = _result(draw, ctx)
    made = draw(st.sampled_from(("{v}", "np.zeros({n}) + {v}", "({v}).copy()")))
    # the writes may be a loop's: then mostly through a view made before the loop
    looped = draw(st.integers(0, 2)) == 2
    # 0, 1: same array; 2, 3: a view; 4: rows; 5: none; 6: an item of a dict of numbers
    relation = draw(st.sampled_from((2, 3, 0))) if looped else draw(st.integers(0, 6))
    if relation == 4:
        shape = draw(st.sampled_from(((2, 3), (3, 2), (2, 4))))
        row = next(iter(_free(ctx, ROW_NAMES)), None)
        if row is None:
            return None
        lines = [f"{Z} = {_vector(draw, ctx, shape)}", f"for {row} in {Z}:"]
        ops = [_alias_op(draw, ctx, draw(st.sampled_from(ALIAS_OPS)), row, shape[1])
               for _ in range(draw(st.integers(1, 2)))]
        lines += [f"    {op}" for op in ops]
        lines.append(f"{target} = {_reduction_text(draw, ctx, Z, shape)}")
        return commit_arrays(ctx, _parse(lines), [target])
    lines = [f"{Z} = " + made.format(v=_vector(draw, ctx, (n,)), n=n)]
    names = {Z: n}
    if relation < 2:
        lines.append(f"{A} = {Z}")
        names[A] = n
    elif relation == 6:  # (the dict holds Z itself: A is Z, read back through the dict)
        lines += [f"{A}_holder = {{'scale': 0.5}}", f"{A}_holder['w'] = {Z}",
                  f"{A} = {A}_holder['w']"]
        names[A] = n
    elif relation < 4:
        views = [
            ("{Z}[:]", n), ("{Z}[1:]", n - 1), ("{Z}[::-1]", n), ("{Z}[::2]", (n + 1) // 2),
            # (calls that return the array's memory: a write through them is one into Z)
            ("np.real({Z})", n), ("np.asarray({Z})", n), ("{Z}.view()", n),
            ("{Z}.reshape(-1)", n),
        ]
        if n == 4:  # (views in memory order, or a column-major reshape: round 62a)
            views += [("{Z}.reshape(2, 2).T.ravel(order='K')", n),
                      ("{Z}.reshape(2, 2, order='F').ravel(order='A')", n),
                      ("{Z}.reshape(2, 2, order='F')[0]", 2)]
        view, size = draw(st.sampled_from(views))
        lines.append(f"{A} = " + view.format(Z=Z))
        names[A] = size
    if draw(st.integers(0, 2)) == 2:  # a value saved, then written through
        T = next(t for t in _free(ctx, ARRAY_NAMES) if t not in (Z, A))
        saved = draw(st.sampled_from((f"{Z}[1:] * {_vector(draw, ctx, (n - 1,))}", f"{Z}[1:]")))
        value = draw(st.sampled_from(("0.0", "0.5", _scalar(draw, ctx))))
        lines += [f"{T} = {saved}", f"{Z}[1:] = {value}"]
        names[T] = n - 1
    # the writes, or a loop of them: a name made before the loop written in every iteration
    if looped:
        lines.append("for _ in range(2):")
    for k in range(draw(st.integers(1, 2))):
        written = A if looped and k == 0 else draw(st.sampled_from(list(names)))
        size = names[written]
        usable = [op for op in ALIAS_OPS if size > 1 or "1:" not in op]
        op = _alias_op(draw, ctx, draw(st.sampled_from(usable)), written, size)
        lines.append(("    " if looped else "") + op)
    reads = list(names)
    first = draw(st.sampled_from(reads))
    total = _reduction_text(draw, ctx, first, (names[first],))
    others = [r for r in reads if r != first]
    if others and draw(st.booleans()):
        other = draw(st.sampled_from(others))
        total = f"0.5 * ({total} + {_reduction_text(draw, ctx, other, (names[other],))})"
    lines.append(f"{target} = {total}")
    return commit_arrays(ctx, _parse(lines), [target])


def s_jump_in_if(draw, ctx: Context) -> list[ast.stmt] | None:
    """A loop that leaves by ``break`` or skips by ``continue`` on data, inside a branch of an
    ``if`` on data (the other branch: statements, or another such loop)::

        if x < 0.3183:
            for i in range(3):
                a = a * 0.5 + math.sin(a * i)
                if b > -0.2718:
                    b = b * 0.5
                    break
                b = b + a
        else:
            a = a - b
    """
    if not ctx.writable():
        return None
    cond = _condition(draw, ctx)
    if cond is None:
        return None

    def with_loop(branch: Context) -> list[ast.stmt] | None:
        pre = _body(draw, branch, draw(st.integers(0, 1)))
        jumps = draw(st.sampled_from((("break",), ("continue",), ("break", "continue"),
                                      ("continue", "break"))))
        if "i" in branch.env or draw(st.integers(0, 2)) == 2:
            loop = _while(draw, branch, jumps)
        else:
            n = draw(st.integers(1, 4))
            inner = _fork_with(branch, i=(0.0, n - 1.0))
            body = _loop_body(draw, inner, inner.var("i"), jumps)
            loop = None if body is None else [ast.For(_name("i"), _range(n), body, [])]
        if loop is None or not any(isinstance(node, ast.Break | ast.Continue)
                                   for stmt in loop for node in ast.walk(stmt)):
            return None
        advance(branch, loop)
        return [*pre, *loop, *_body(draw, branch, draw(st.integers(0, 1)))]

    where = draw(st.integers(0, 2))  # 0: in the if branch, 1: in the else branch, 2: both
    branches = []
    for k in range(2):
        branch = ctx.fork()
        if where == 2 or where == k:
            stmts = with_loop(branch)
            if stmts is None:
                return None
        else:
            stmts = _body(draw, branch, draw(st.integers(k == 0, 1)))  # `if` needs a body
        branches.append(stmts)
    stmts = [ast.If(cond, branches[0], branches[1])]
    commit(ctx, stmts)
    return stmts


def s_fancy_write(draw, ctx: Context) -> list[ast.stmt] | None:
    """Writes at an index array with repeated positions: ``out[idx] += v`` adds *once* per
    repeated position (numpy buffers it: the last value wins), ``np.add.at(out, idx, v)``
    adds every time, ``out[idx] = v`` keeps the last::

        vec = np.zeros(3)
        idx = np.array([0, 0, 2])
        vals = x * np.linspace(0.5, 1.0, 3)
        vec[idx] += vals
        u = np.mean(vec * vec)
    """
    out, idx, vals = _array_names(draw, ctx, 3)
    if draw(st.integers(0, 3)) == 0:
        return _slice_beside_list(draw, ctx, out, vals)
    m, k = draw(st.integers(3, 4)), draw(st.integers(3, 4))
    index = draw(st.lists(st.integers(0, m - 1), min_size=k, max_size=k))
    if len(set(index)) == k:
        index[-1] = index[0]
    two_d = draw(st.integers(0, 3)) == 3
    shape, vshape = ((m, 2), (k, 2)) if two_d else ((m,), (k,))
    target = _result(draw, ctx)
    base = f"np.zeros({shape if two_d else m})" if draw(st.booleans()) \
        else _vector(draw, ctx, shape)
    # (the positions as an array, or as a list held by a name: numpy indexes by both alike)
    positions = f"np.array({index})" if draw(st.booleans()) else str(index)
    lines = [f"{out} = {base}", f"{idx} = {positions}",
             f"{vals} = {_vector(draw, ctx, vshape)}"]
    for _ in range(draw(st.integers(1, 2))):
        lines.append(draw(st.sampled_from((
            f"{out}[{idx}] += {vals}", f"np.add.at({out}, {idx}, {vals})",
            f"{out}[{idx}] -= {vals}", f"{out}[{idx}] = {vals}", f"{out}[{idx}] *= 0.5",
            f"np.add.at({out}, {idx}, {_scalar(draw, ctx)})",
        ))))
    lines.append(f"{target} = {_reduction_text(draw, ctx, out, shape)}")
    return commit_arrays(ctx, _parse(lines), [target])


_ROW_SLICES = {"1:": slice(1, None), ":-1": slice(None, -1), "::2": slice(None, None, 2),
               ":": slice(None), "1:3": slice(1, 3)}


def _slice_beside_list(draw, ctx: Context, out: str, vals: str) -> list[ast.stmt] | None:
    """Rows by a slice, columns by an index list (``out[1:, [0, 2]] *= 0.5``): slices
    open at either end or stepped, beside a list that may repeat a column::

        M = np.sin(x * np.array([[0.5, 0.6, 0.7], [0.8, 0.9, 1.0], [0.5, 0.7, 0.9]]))
        vals = x * np.array([[0.5, 1.0], [0.75, 0.25]])
        M[1:, [0, 2]] = vals
        u = np.sum(M ** 2)
    """
    m, n = draw(st.integers(3, 4)), 3
    rows = draw(st.sampled_from(tuple(_ROW_SLICES)))
    count = len(range(m)[_ROW_SLICES[rows]])
    columns = draw(st.sampled_from(([0, 2], [2, 0], [1], [0, 1, 2])))
    cols, width = str(columns), len(columns)
    target = _result(draw, ctx)
    lines = [f"{out} = {_vector(draw, ctx, (m, n))}"]
    for _ in range(draw(st.integers(1, 2))):
        lines.append(draw(st.sampled_from((
            f"{out}[{rows}, {cols}] *= 0.5",
            f"{out}[{rows}, {cols}] = {_vector(draw, ctx, (count, width))}",
            f"{out}[{rows}, {cols}] += {_scalar(draw, ctx)}",
            f"{out}[{rows}, {cols}] = {out}[{rows}, {cols}] * 0.75",
        ))))
    if draw(st.booleans()):  # a read through the same kind of index
        lines.append(f"{vals} = {out}[{rows}, {cols}] * 1.5")
        lines.append(f"{target} = {_reduction_text(draw, ctx, vals, (count, width))}")
    else:
        lines.append(f"{target} = {_reduction_text(draw, ctx, out, (m, n))}")
    return commit_arrays(ctx, _parse(lines), [target])


def s_where_nonfinite(draw, ctx: Context) -> list[ast.stmt] | None:
    """``np.where`` whose branch not taken is not finite at some elements: the distances of
    points (the diagonal of the squared distances is exactly 0, so ``np.sqrt`` there is 0
    and its derivative infinite), or a threshold where the other branch takes the ``sqrt``
    or ``log`` of a negative number::

        pts = np.array([0.25 * np.tanh(x), 1.0 + 0.25 * np.tanh(y), 2.0 + 0.25 * np.tanh(x * y)])
        sq = (pts[:, None] - pts[None, :]) ** 2
        D = np.where(sq > 0, np.sqrt(sq), 0.0)
        u = np.mean(D)

    (or ``D = np.exp(-np.sqrt(sq))``, no mask: the zero-safe rerun, srcad.zero_safe),

        vec = x * np.linspace(0.5, 1.0, 3)
        D = np.where(vec > 0.3183, np.sqrt(vec - 0.3183 + 0.25) - 0.5, 0.0)

    also the threshold form in a loop (the array is made before the condition in each
    iteration), and a power series of an array whose first element is exactly 0, where
    the slope of ``x ** 0`` reads ``0 * inf`` and of ``x ** 1`` reads ``0 ** 0``::

        P = np.tanh(x * y) * np.array([0.0, 1.0, 0.5])
        acc_w = 0.0
        for j in range(3):
            acc_w = acc_w + np.mean(P ** j)
        u = acc_w
 The points are 1 apart +- 0.25, so off the diagonal the squared distances
    are >= 0.25; the threshold forms are continuous with a kink where the condition switches (the
    checker keeps its points away from it, as for ``if``). numpy warns about the invalid
    values of the branch not taken: the checker silences that for these programs only."""
    P, S, D = _array_names(draw, ctx, 3)
    target = _result(draw, ctx)
    # 0: distances, 1: threshold on an array, 2: on a float, 3: on an array, in a loop,
    # 4: a power series of an array with an exact 0
    form = draw(st.integers(0, 4))
    if form == 4:
        j = next((v for v in LOOP_NAMES if v not in ctx.env), None)
        if j is None:
            return None
        acc = next(v for v in ("acc_w", "acc_v", "acc_u") if v not in ctx.env)
        n = draw(st.integers(2, 4))
        zeroed = "np.array([0.0" + ", 1.0" * (n - 1) + "])"
        terms = draw(st.integers(2, 4))
        lines = [f"{P} = {_vector(draw, ctx, (n,))} * {zeroed}", f"{acc} = 0.0",
                 f"for {j} in range({terms}):",
                 f"    {acc} = {acc} + np.mean({P} ** {j})",
                 f"{target} = {acc}"]
        abstract = [*lines[:3], f"    {acc} = {acc} + np.mean(_power_term({P}, {j}))", lines[4]]
        return commit_arrays(ctx, _parse(lines), [target], abstract=_parse(abstract))
    if form == 0:
        n = draw(st.integers(3, 4))
        points = ", ".join(f"{float(k)} + 0.25 * np.tanh({_scalar(draw, ctx)})" for k in range(n))
        taken = draw(st.sampled_from((f"np.sqrt({S})", f"1.0 / np.sqrt({S})",
                                      f"{S} * np.log({S})", f"np.log({S})")))
        # (the mask a comparison, or the diagonal itself: np.eye(n, dtype=bool); or no
        # mask: sqrt's infinite slope at the diagonal meets the slope 0 of (p_i - p_i)^2,
        # which the zero-safe rerun reads as 0, round 63a)
        where = draw(st.sampled_from((f"np.where({S} > 0, {taken}, 0.0)",
                                      f"np.where(np.eye({n}, dtype=bool), 0.0, {taken})",
                                      f"np.exp(-np.sqrt({S}))", f"np.exp(-{S} ** 0.5)")))
        lines = [f"{P} = np.array([{points}])", f"{S} = ({P}[:, None] - {P}[None, :]) ** 2",
                 f"{D} = {where}",
                 f"{target} = {_reduction_text(draw, ctx, D, (n, n))}"]
        return commit_arrays(ctx, _parse(lines), [target])
    c = draw(st.sampled_from(THRESHOLDS))
    fn = draw(st.sampled_from(("sqrt", "log")))
    n = draw(st.integers(2, 4))
    taken = (f"np.sqrt({P} - {c} + 0.25) - 0.5" if fn == "sqrt"
             else f"np.log({P} - {c} + 1.0)")
    if form == 3:  # the array is made before the condition, in each iteration
        j = next((v for v in LOOP_NAMES if v not in ctx.env), None)
        if j is None:
            return None
        acc = next(v for v in ("acc_w", "acc_v", "acc_u") if v not in ctx.env)
        # (the condition's elements flip between iterations: a stale one would show)
        scale = draw(st.sampled_from(("1.0 - ", "-1.0 + ", "0.5 - 0.5 * ")))
        lines = [f"{acc} = 0.0", f"for {j} in range({draw(st.integers(2, 3))}):",
                 f"    {P} = {_vector(draw, ctx, (n,))} * ({scale}{j})",
                 f"    {D} = np.where({P} > {c}, {taken}, 0.0)",
                 f"    {acc} = {acc} + {_reduction_text(draw, ctx, D, (n,))}",
                 f"{target} = {acc}"]
        abstract = [*lines[:3], f"    {D} = _where_threshold({P}, {c}, {fn!r})", *lines[4:]]
        return commit_arrays(ctx, _parse(lines), [target], abstract=_parse(abstract))
    value = _vector(draw, ctx, (n,)) if form == 1 else _scalar(draw, ctx, 2)
    if form == 1:
        total = _reduction_text(draw, ctx, D, (n,))
    else:
        total = draw(st.sampled_from((f"{D} * {_scalar(draw, ctx, 0)}", f"{D} + 0.0",
                                      f"np.sum({D})")))
    lines = [f"{P} = {value}", f"{D} = np.where({P} > {c}, {taken}, 0.0)", f"{target} = {total}"]
    stmts = _parse(lines)
    abstract = _parse([lines[0], f"{D} = _where_threshold({P}, {c}, {fn!r})", lines[2]])
    return commit_arrays(ctx, stmts, [target], abstract=abstract)


def s_constant_write(draw, ctx: Context) -> list[ast.stmt] | None:
    """Values without gradient written into an array that is then read with values that
    have one (the array may become differentiable by a later write)::

        K = np.linspace(0.25, 0.5, 3)
        Z = np.zeros(3)
        Z[0] = np.sum(K)
        Z[2] = x * y
        u = np.sum(x * Z) / 3
    """
    K, Z = _array_names(draw, ctx, 2)
    j = next((name for name in LOOP_NAMES if name not in ctx.env), None)
    n, k = draw(st.integers(3, 4)), draw(st.integers(2, 4))
    target = _result(draw, ctx)
    lo = draw(st.sampled_from((0.25, -0.5, 0.5)))
    lines = [f"{K} = " + draw(st.sampled_from((f"np.linspace({lo}, 0.75, {k})",
                                              f"np.ones({k}) * {lo}"))),
             f"{Z} = np.zeros({n})", f"{Z}[0] = np.sum({K})"]
    extra = [f"{Z}[1] = {K}[1] * 2.0", f"{Z}[-1] = np.mean({K})", f"{Z}[1:] = {Z}[:-1] * 0.5"]
    if j is not None:
        extra.append(f"for {j} in range({n}):\n    {Z}[{j}] = {Z}[{j}] + 0.25 * {j}")
    lines += [draw(st.sampled_from(extra)) for _ in range(draw(st.integers(0, 2)))]
    if draw(st.booleans()):  # a value with a gradient written in afterwards
        lines.append(f"{Z}[{draw(st.integers(1, n - 1))}] = {_scalar(draw, ctx)}")
    var = draw(st.sampled_from(ctx.variables()))
    lines.append(f"{target} = " + draw(st.sampled_from((
        f"np.sum({var} * {Z}) / {n}", f"np.mean({_vector(draw, ctx, (n,))} * {Z})",
        f"{var} * np.mean({Z})", f"np.mean({Z} * {Z})"))))
    return commit_arrays(ctx, _parse(lines), [target])


def s_same_arms(draw, ctx: Context) -> list[ast.stmt] | None:
    """Conditional expressions whose two arms are the same variable or expression
    (``u = y if y > 0.3183 else y``), and an ``if`` on data that writes items of an array in
    one branch and rebinds the whole array in the other::

        Z = x * np.linspace(0.5, 1.0, 3)
        if y < 0.7071:
            Z[1:] = Z[1:] * 0.5
        else:
            Z = Z / 1.4
        u = np.mean(Z * Z)
    """
    cond = _condition(draw, ctx)
    if cond is None:
        return None
    target = _result(draw, ctx)
    form = draw(st.integers(0, 2))  # 0: the same variable, 1: the same expression, 2: arrays
    if form < 2:
        arm = ctx.var(draw(st.sampled_from(ctx.variables()))) if form == 0 else ctx.expr(draw)
        value: ast.expr = ast.IfExp(cond, arm.node, copy.deepcopy(arm.node))
        bound = arm.bound
        if draw(st.integers(0, 2)) == 2:  # inside an expression
            other = ctx.expr(draw, draw(st.integers(0, 1)))
            op = draw(st.sampled_from(("+", "*", "-")))
            bound = _BINOPS[op][1](arm.bound, other.bound)
            value = ast.BinOp(value, _BINOPS[op][0](), other.node)
        ctx.bind(target, bound)
        return [ast.Assign([_name(target)], value)]
    (Z,) = _array_names(draw, ctx, 1)
    n = draw(st.integers(3, 4))
    items = draw(st.sampled_from((f"{Z}[1:] = {Z}[1:] * 0.5", f"{Z}[0] = {_scalar(draw, ctx)}",
                                  f"{Z}[1:] *= 0.5", f"{Z}[:2] = {_vector(draw, ctx, (2,))}")))
    whole = draw(st.sampled_from((f"{Z} = {Z} / 1.4", f"{Z} = {Z} * {_scalar(draw, ctx, 0)}",
                                  f"{Z} = {_vector(draw, ctx, (n,))}")))
    first, second = (items, whole) if draw(st.booleans()) else (whole, items)
    lines = [f"{Z} = {_vector(draw, ctx, (n,))}", f"if {ast.unparse(cond)}:", f"    {first}",
             "else:", f"    {second}", f"{target} = {_reduction_text(draw, ctx, Z, (n,))}"]
    return commit_arrays(ctx, _parse(lines), [target])


#: The program classes the tests count (each in at least a tenth of the default programs)
#: and the statement kinds that make them.
PROGRAM_CLASSES: dict[str, tuple[str, ...]] = {
    "index writes in loops": ("s_recurrence",),
    "aliases and views": ("s_alias",),
    "jumps in an if": ("s_jump_in_if",),
    "fancy-index writes": ("s_fancy_write",),
    "np.where not finite": ("s_where_nonfinite",),
    "writes without gradient": ("s_constant_write",),
    "same arms, item/whole": ("s_same_arms",),
    "lists built": ("s_lists",),
}


def with_retries(kind: Callable, attempts: int = 3) -> Callable:
    """``kind`` drawn again (from the same variables) when it does not apply or leaves the
    well-conditioned region, up to ``attempts`` times: the loops and arrays of these kinds
    often do, and each class should appear in a tenth of the programs."""

    @functools.wraps(kind)
    def build(draw, ctx: Context) -> list[ast.stmt] | None:
        for _ in range(attempts):
            snapshot = dict(ctx.env)
            try:
                built = kind(draw, ctx)
            except IllConditioned:
                built = None
            if built is not None:
                return built
            ctx.env = snapshot
        return None

    return build


#: The kinds of :data:`PROGRAM_CLASSES`.
ARRAY_WRITE_KINDS: tuple[Callable, ...] = tuple(with_retries(kind) for kind in (
    s_recurrence, s_fancy_write, s_constant_write, s_same_arms, s_lists, s_library,
)) + (  # (these often do not apply, or leave the well-conditioned region: an operand
    # that shares the memory an operator changes may square the values)
    with_retries(s_alias, attempts=5),
    with_retries(s_jump_in_if, attempts=6), with_retries(s_where_nonfinite, attempts=6),
)


def s_deep(draw, ctx: Context) -> list[ast.stmt] | None:
    """Code nested deeper than srcad's passes read at once (round 59: a RecursionError,
    time growing with the square of the length, and generated code Python refused as
    nested too deep). One of:

    * a sum of 200-260 terms, as a computer algebra system prints a polynomial
      (``v = 0.0008 * a + 0.0016 * b + ...``; srcad computes it in parts);
    * a chain of 100-110 ``elif`` tests on data, each below the data's bound but the last
      few, so that the value takes one of the last branches or the ``else`` (the
      generated code nests an ``if`` per ``elif`` unless srcad flattens it)::

          if a * b < -5.5: v = ...
          elif a * b < -5.49: v = ...
          ...
          else: v = ...
    """
    target = ctx.new_name(draw)
    if draw(st.booleans()):
        n = draw(st.integers(200, 260))
        terms = [  # (small coefficients: the sum stays in the well-conditioned range)
            binop(const(round((k % 5 + 1) * 0.2 / n, 6)), "*", ctx.leaf(draw)) for k in range(n)
        ]
        total = terms[0]
        for term in terms[1:]:
            total = binop(total, "+", term)
        stmt: ast.stmt = ast.Assign([_name(target)], total.node)
    else:
        test = ctx.expr(draw, draw(st.integers(1, 2)))
        if test.bound.d == 0:
            return None  # a constant test: not "on data"
        n = draw(st.integers(100, 110))
        if test.bound.lo - 0.5 - 0.01 * n < -VALUE_CAP:
            return None
        # (never true, beneath the data; then two of the usual thresholds)
        thresholds = [round(test.bound.lo - 0.5 - 0.01 * (n - k), 4) for k in range(n)] + [
            draw(st.sampled_from(THRESHOLDS)) for _ in range(2)
        ]
        branches = [[ast.Assign([_name(target)], ctx.expr(draw, 1).node)]
                    for _ in range(len(thresholds) + 1)]
        chain: list[ast.stmt] = branches[-1]
        for threshold, body in zip(reversed(thresholds), reversed(branches[:-1])):
            test_node = ast.Compare(copy.deepcopy(test.node), [ast.Lt()], [ast.Constant(threshold)])
            chain = [ast.If(test_node, body, chain)]
        stmt = chain[0]
    commit(ctx, [stmt], new=(target,))
    return [stmt]


DICT_NAMES = ("left", "right", "merged")


def s_dicts(draw, ctx: Context) -> list[ast.stmt] | None:
    """Dicts of values the function makes, merged and read (round 59: ``left | right``
    and ``|=`` passed no gradient; ``dict(...)`` of pairs stayed a list; a loop over
    ``left.keys() & right.keys()`` crashed)::

        left = {"u": a * b, "w": math.sin(c)}
        right = {"w": b + 0.5, "v": c * c}
        merged = left | right
        d = merged["u"] * merged["w"] + merged["v"]
    """
    if len(_free(ctx, DICT_NAMES)) < 3:
        return None
    target = _result(draw, ctx)
    a, b, c, e = (_scalar(draw, ctx) for _ in range(4))
    lines = [f'left = {{"u": {a}, "w": {b}}}', f'right = {{"w": {c}, "v": {e}}}']
    form = draw(st.integers(0, 3))
    if form == 0:
        lines.append("merged = left | right")
    elif form == 1:
        lines += ["merged = dict(left)", "merged |= right"]
    elif form == 2:
        lines.append(f'merged = dict([("u", {a}), ("w", {c}), ("v", {e} * 0.5)])')
    else:
        lines += ["merged = {}", "for k in left.keys() & right.keys():",
                  "    merged[k] = left[k] * right[k]", 'merged["u"] = left["u"]',
                  'merged["v"] = right["v"]']
    lines.append(f'{target} = merged["u"] * merged["w"] * 0.5 + merged["v"]')
    return commit_arrays(ctx, _parse(lines), [target])


def s_through_sum(draw, ctx: Context) -> list[ast.stmt] | None:
    """The first two parameters made functions of their sum, then a loop over them::

        x = x + y                     # (or y + x, or (x + y) * 0.5)
        y = math.tanh(x)              # (sometimes left out: y is then read alone too)
        for i in range(2):
            ...

    Forward mode along both gives two tangents that are equal everywhere, so srcad
    computes one (``_one_tangent_for_twins``); without the second line they differ."""
    if len(ctx.params) < 2 or "i" in ctx.env:
        return None
    p, q = (ctx.var(name) for name in ctx.params[:2])
    joined = draw(st.sampled_from((
        lambda: binop(p, "+", q), lambda: binop(q, "+", p),
        lambda: binop(binop(p, "+", q), "*", const(0.5)),
    )))()
    stmts: list[ast.stmt] = [ast.Assign([_name(p.node.id)], joined.node)]
    ctx.bind(p.node.id, joined.bound)
    if draw(st.integers(0, 3)):
        again = ctx.var(p.node.id)
        follower = choose(draw, [
            lambda: mcall("tanh", again), lambda: binop(again, "*", const(0.5)),
            lambda: binop(mcall("sin", again), "+", const(1.0)),
        ])
        if follower is not None:
            stmts.append(ast.Assign([_name(q.node.id)], follower.node))
            ctx.bind(q.node.id, follower.bound)
    loop = s_for(draw, ctx)
    return stmts + (loop or [])


def s_square_of_root(draw, ctx: Context) -> list[ast.stmt] | None:
    """A root kept in a name, then squared (srcad's squares of roots take their square's
    derivative over the root's argument, which holds at 0 too)::

        r = math.sqrt(u * u + v * v)     # (or math.hypot(u, v), abs(u))
        w = r * r                        # (or -r * r, 0.5 * r * r, r ** 2, pow(r, 2))
    """
    names = list(ctx.env)
    if not names:
        return None
    u, v = (ctx.var(draw(st.sampled_from(names))) for _ in range(2))
    kind = draw(st.integers(0, 2))
    if kind == 0:
        root = mcall("sqrt", binop(square_ish(u), "+", square_ish(v)))
    elif kind == 1:
        root = Val(ast.Call(ast.Attribute(ast.Name("math", ast.Load()), "hypot", ast.Load()),
                            [u.node, v.node], []),
                   AMATH.sqrt(square_ish(u).bound + square_ish(v).bound))
    else:
        root = abs_(u)
    r_name = ctx.new_name(draw)
    ctx.bind(r_name, root.bound)
    r = ctx.var(r_name)
    square = draw(st.sampled_from((
        lambda: binop(r, "*", r), lambda: binop(neg(r), "*", r),
        lambda: binop(binop(const(0.5), "*", r), "*", r), lambda: binop(r, "**", 2),
        lambda: Val(ast.Call(ast.Name("pow", ast.Load()), [r.node, ast.Constant(2)], []),
                    binop(r, "**", 2).bound),
    )))()
    target = ctx.new_name(draw)
    ctx.bind(target, square.bound)
    return [ast.Assign([_name(r_name)], root.node), ast.Assign([_name(target)], square.node)]


def s_draw(draw, ctx: Context) -> list[ast.stmt] | None:
    """A uniform draw between two values of the program, from a generator made with a
    fixed seed after draws that only advance it (srcad differentiates a draw along its
    path, and runs every draw where it stands, its value read or not)::

        rng = np.random.default_rng(7)
        rng.uniform(size=2)              # (drawn, not read: 0 to 2 of them, bare
        skip = rng.uniform(size=2)       # or assigned)
        w = rng.uniform(u, u + (v * v + 0.5))
    """
    names = list(ctx.env)
    if not names:
        return None
    low, width = (ctx.var(draw(st.sampled_from(names))) for _ in range(2))
    # (a width of at least 0.5: numpy refuses high < low, and at a width of 0 the draw
    # shows no standard draw, its derivative in the width: refused)
    high = binop(low, "+", binop(binop(width, "*", width), "+", const(0.5)))
    rng = ctx.new_name(draw)
    ctx.taken.add(rng)
    generator = ast.Call(
        ast.Attribute(ast.Attribute(ast.Name("np", ast.Load()), "random", ast.Load()),
                      "default_rng", ast.Load()),
        [ast.Constant(draw(st.integers(0, 99)))], [],
    )
    stmts: list[ast.stmt] = [ast.Assign([_name(rng)], generator)]
    for _ in range(draw(st.integers(0, 2))):  # (bare, or assigned and not read)
        skipped = ast.Call(ast.Attribute(ast.Name(rng, ast.Load()), "uniform", ast.Load()),
                           [], [ast.keyword("size", ast.Constant(2))])
        if draw(st.booleans()):
            stmts.append(ast.Expr(skipped))
        else:
            unread = ctx.new_name(draw)
            ctx.taken.add(unread)
            stmts.append(ast.Assign([_name(unread)], skipped))
    target = ctx.new_name(draw)
    ctx.bind(target, Bound(min(low.bound.lo, high.bound.lo), max(low.bound.hi, high.bound.hi),
                           low.bound.d + high.bound.d))
    value = ast.Call(ast.Attribute(ast.Name(rng, ast.Load()), "uniform", ast.Load()),
                     [low.node, high.node], [])
    return [*stmts, ast.Assign([_name(target)], value)]


TABLE_NAMES = ("table", "grid", "dp")


def s_constant_helper(draw, ctx: Context) -> list[ast.stmt] | None:
    """A helper of :data:`CONSTANT_HELPERS` called with a constant that decides its code
    (0 to 3), on an expression of the program: ``v = grown_parts(x * y, 2)``."""
    return _helper_of(draw, ctx, CONSTANT_HELPERS)


def s_object_helper(draw, ctx: Context) -> list[ast.stmt] | None:
    """A helper of :data:`OBJECT_HELPERS` (objects of numbers it makes and updates in a
    loop) called with a constant count of steps: ``v = stepped_body(x * y, 2)``."""
    return _helper_of(draw, ctx, OBJECT_HELPERS)


def _helper_of(draw, ctx: Context, helpers: dict[str, Helper]) -> list[ast.stmt]:
    helper = helpers[draw(st.sampled_from(sorted(helpers)))]
    arg = ctx.expr(draw, draw(st.integers(0, 1)))
    n = draw(st.integers(0, 3))
    target = _result(draw, ctx)
    call = ast.Call(ast.Name(helper.name, ast.Load()), [arg.node, ast.Constant(n)], [])
    bound = helper.bound(arg.bound, n)
    if not isinstance(bound, Bound):  # (a constant: squared_power(z, 0) is 1.0)
        bound = Bound(bound, bound, 0.0)
    ctx.bind(target, bound)
    return [ast.Assign([_name(target)], call)]


def s_tables(draw, ctx: Context) -> list[ast.stmt] | None:
    """A table kept as a list of lists (a DP table, a matrix as rows), each row a new list,
    filled row by row from the row before (``T[i][j] = ...``, ``+=``), maybe from the
    item before in the same row, then read by items, by a row's sum, or by a loop over
    its rows::

        table = [[0.0] * 3 for _ in range(3)]
        table[0][0] = math.tanh(x)
        for i in range(1, 3):
            for j in range(3):
                table[i][j] = 0.5 * table[i - 1][j] + math.sin(y * (j + 1))
        v = table[2][2] + sum(table[1]) / 3
    """
    free = _free(ctx, TABLE_NAMES)
    if not free or "i" in ctx.env or "j" in ctx.env or "r_t" in ctx.env:
        return None
    name = draw(st.sampled_from(free))
    n, m = draw(st.integers(2, 4)), draw(st.integers(1, 3))
    decay = draw(st.sampled_from((0.5, -0.5, 0.25)))
    target = _result(draw, ctx)
    made = draw(st.sampled_from((
        f"[[0.0] * {m} for _ in range({n})]",
        f"[[0.1 * (i + j) for j in range({m})] for i in range({n})]",
        f"[[{_scalar(draw, ctx, 0)}] * {m} for _ in range({n})]",
    )))
    drive = f"math.sin({_scalar(draw, ctx)} * (j + 1))"
    update = draw(st.sampled_from((
        f"{name}[i][j] = {decay} * {name}[i - 1][j] + {drive}",
        f"{name}[i][j] += {decay} * {name}[i - 1][j] + {drive}",
        f"{name}[i][j] = {decay} * {name}[i - 1][j] + 0.25 * {name}[i][j - 1] "
        f"* (j > 0) + {drive}",
    )))
    lines = [
        f"{name} = {made}",
        f"{name}[0][0] = math.tanh({_scalar(draw, ctx)})",
        f"for i in range(1, {n}):",
        f"    for j in range({m}):",
        f"        {update}",
    ]
    read = draw(st.sampled_from((
        f"{target} = {name}[{n - 1}][{m - 1}] + sum({name}[{n // 2}]) / {m}",
        f"{target} = max({name}[-1]) - min({name}[0])",
        f"{target} = 0.0\nfor r_t in {name}:\n    {target} = {target} + sum(r_t) / {n * m}",
    )))
    lines += read.split("\n")
    return commit_arrays(ctx, _parse(lines), [target])


# ---------------------------------------------------------------- order statistics, .flat, quad
#
# Kinds for the classes fixed in stop 55 (each test of them fails on the code before):
# quantiles over a tuple of axes, ``A.flat[k]`` reads and writes, ``scipy.integrate.quad``
# of smooth integrands. They are not in :data:`STATEMENT_KINDS` (the default run keeps its
# programs); tests/test_random_programs.py draws programs of them.

QUANTILE_SHAPES = ((2, 3, 4), (3, 2, 2), (2, 2, 3), (4, 3), (3, 1, 4))


def s_quantiles(draw, ctx: Context) -> list[ast.stmt] | None:
    """A median, quantile or percentile (or a nan-version) over a tuple of axes, with or
    without ``keepdims``, of an array whose elements cross only at scattered points (round
    87: a crash in the adjoint, ``np.moveaxis``)::

        vec = np.sin(x * np.linspace(0.5, 1.0, 24).reshape((2, 3, 4))
                     + np.arange(24).reshape((2, 3, 4)) * 0.37) + y * np.linspace(...)
        col = np.quantile(vec, [0.2, 0.7], axis=(0, -1), keepdims=True)
        u = np.mean(col * col)

    (The offsets ``0.37 k`` keep the elements apart where Hypothesis likes to put points:
    a median's slope jumps where two of its lane's elements cross.)"""
    if len(_free(ctx, ARRAY_NAMES)) < 2:
        return None
    A, M = _array_names(draw, ctx, 2)
    target = _result(draw, ctx)
    shape = draw(st.sampled_from(QUANTILE_SHAPES))
    ndim, size = len(shape), math.prod(shape)
    first, second = draw(st.lists(st.integers(0, ndim - 1), min_size=2, max_size=2,
                                  unique=True))
    axes = tuple(a - ndim if draw(st.booleans()) else a for a in (first, second))
    name = draw(st.sampled_from(sorted(ORDER_STATISTICS)))
    q = ""
    if ORDER_STATISTICS[name] is not None:
        unit = 100.0 if "percentile" in name else 1.0
        q = ", " + draw(st.sampled_from((f"{0.3 * unit}", f"{0.75 * unit}",
                                          f"[{0.2 * unit}, {0.7 * unit}]")))
    keep = draw(st.booleans())
    var = draw(st.sampled_from(ctx.variables()))
    made = (f"np.sin({var} * {_const_text(shape, draw(st.sampled_from((0.5, 0.25))))}"
            f" + np.arange({size}).reshape({shape!r}) * 0.37)")
    if draw(st.booleans()):  # (a second variable, added: the order is the sine's)
        made += f" + {_scalar(draw, ctx)} * {_const_text(shape, 0.75)}"
    options = f", axis={axes!r}" + (", keepdims=True" if keep else "")
    result_shape = getattr(np, name)(np.zeros(shape), *([0.5] if q else []),
                                     axis=axes, keepdims=keep).shape
    if q.startswith(", ["):
        result_shape = (2, *result_shape)
    read = _reduction_text(draw, ctx, M, result_shape) if result_shape else \
        f"{M} * {draw(st.sampled_from(ctx.variables()))}"  # (over every axis: a number)
    lines = [f"{A} = {made}", f"{M} = np.{name}({A}{q}{options})", f"{target} = {read}"]
    return commit_arrays(ctx, _parse(lines), [target])


def s_flat(draw, ctx: Context) -> list[ast.stmt] | None:
    """Reads and writes through ``A.flat[k]`` (C order, also of a transposed array or a
    view): an item, a slice, positions listed (one twice: the last write wins), the
    diagonal of a square array ``A.flat[::n + 1] += lam`` (stop 55: refused before)::

        arr = x * np.linspace(0.5, 1.0, 9).reshape((3, 3))
        G = arr.T @ arr / 3
        G.flat[::4] += y * y
        G.flat[1] = math.sin(z)
        u = np.mean(G * G) + G.flat[-1] * x
    """
    if len(_free(ctx, ARRAY_NAMES)) < 2:
        return None
    A, B = _array_names(draw, ctx, 2)
    target = _result(draw, ctx)
    n, m = draw(st.integers(2, 4)), draw(st.integers(2, 4))
    form = draw(st.integers(0, 3))
    if form == 0:  # the diagonal of a Gram matrix, as ridge regression writes it
        lines = [f"{B} = {_vector(draw, ctx, (n, m))}", f"{A} = {B}.T @ {B} / {n}",
                 f"{A}.flat[::{m + 1}] += {_scalar(draw, ctx)}"]
        shape = (m, m)
    else:
        lines = [f"{A} = {_vector(draw, ctx, (n, m))}"]
        shape = (n, m)
    size = math.prod(shape)
    k, j = draw(st.integers(0, size - 1)), draw(st.integers(-size, size - 1))
    writes = [
        lambda: f"{A}.flat[{k}] = {_scalar(draw, ctx)}",
        lambda: f"{A}.flat[{j}] *= {draw(st.sampled_from((0.5, -1.5, 2.0)))}",
        lambda: f"{A}.flat[[{k}, {(k + 2) % size}, {k}]] = np.array([{_scalar(draw, ctx)}, "
                f"{_scalar(draw, ctx)}, {_scalar(draw, ctx)}])",
        lambda: f"{A}.flat[{draw(st.sampled_from(('::2', '1:', ':-1', '1::3')))}] "
                f"*= {draw(st.sampled_from((0.5, -0.75)))}",
    ]
    if form == 3:  # through a view (not contiguous: .flat runs over its own C order)
        writes = [lambda: f"{B} = {A}[:, :{m - 1}]",
                  lambda: f"{B}.flat[{draw(st.integers(0, n * (m - 1) - 1))}] = "
                          f"{_scalar(draw, ctx)}",
                  lambda: f"{B}.flat[::{draw(st.integers(2, 3))}] *= {_scalar(draw, ctx, 0)}"]
        lines += [write() for write in writes]
    else:
        for _ in range(draw(st.integers(1, 2))):
            lines.append(writes[draw(st.integers(0, len(writes) - 1))]())
    read = draw(st.sampled_from((
        lambda: f"{A}.flat[{j}] * {_scalar(draw, ctx)}",
        lambda: f"np.mean({A}.flat[::2])",
        lambda: f"np.mean({A}.T.flat[[1, 1, {size - 1}]] ** 2)",
        lambda: f"{A}.flat[{k}] - {A}.flat[-1]",
    )))()
    lines.append(f"{target} = {_reduction_text(draw, ctx, A, shape)} + {read}")
    return commit_arrays(ctx, _parse(lines), [target])


#: What an integrand is made of: smooth in its variable (no abs, min or max, helpers).
INTEGRAND_KINDS: list[Callable] = [
    e_arith, e_arith, e_scale, e_unary, e_trig, e_trig, e_exp, e_log, e_sqrt, e_pow, e_div,
    e_sigmoid_idiom, e_fanout, e_more_math,
]
#: The tolerances every generated integral asks for: the central differences of the tests
#: (a step of 1e-6) see the integrator's error over the step.
QUAD_TOLERANCES = "epsabs=1e-13, epsrel=1e-13"


def _reads(e: Val, name: str) -> bool:
    return any(isinstance(node, ast.Name) and node.id == name for node in ast.walk(e.node))


def _integrand(draw, inner: Context, t: str, depth: int = 2,
               needed: Sequence[str] = ()) -> Val:
    """An expression of the integration variable ``t`` and ``inner``'s variables that reads
    ``t`` and each of ``needed`` (a term ``v * cos(t)`` added for one it does not read)."""
    e = inner.expr(draw, draw(st.integers(1, depth)))
    tv = inner.var(t)
    if not _reads(e, t):
        term = choose(draw, [lambda: tv, lambda: mcall("cos", tv),
                             lambda: mcall("exp", neg(square_ish(tv)))])
        e = binop(e, draw(st.sampled_from(("*", "+"))), term)
    for name in needed:
        if not _reads(e, name):
            term = draw(st.sampled_from((lambda: tv, lambda: mcall("cos", tv))))()
            e = binop(e, "+", binop(inner.var(name), "*", term))
    return e


def s_quad(draw, ctx: Context) -> list[ast.stmt] | None:
    """``scipy.integrate.quad`` of a smooth integrand whose derivative is in what it closes
    over, in ``args=`` or in the limits (Leibniz's rule; stop 55: refused before). The
    integrand is a lambda reading variables, a lambda of its ``args``, or a nested ``def``
    of two statements; the value is read by ``[0]`` or unpacked with the error::

        u = scipy.integrate.quad(lambda t, pa: math.exp(pa * t) * y, 0.0,
                                 1.0 + 0.25 * math.sin(x), args=(x * z,),
                                 epsabs=1e-13, epsrel=1e-13)[0]

    Bounds: the integrand's over the union of the intervals (the variable is not
    differentiated); the integral within the width times it, its gradient within the width
    times the integrand's plus the integrand's size times the limits' gradients."""
    if not ctx.env:
        return None
    t = next(name for name in ("t", "tt", "s_t", "t_q") if name not in ctx.env)
    target = _result(draw, ctx)
    err = f"err_{target}"
    if err in ctx.env:
        return None
    var = lambda: ctx.var(draw(st.sampled_from(ctx.variables())))  # noqa: E731
    lo = draw(st.sampled_from((lambda: const(0.0), lambda: const(-0.5),
                               lambda: binop(const(0.25), "*", mcall("tanh", var())))))()
    hi = draw(st.sampled_from((lambda: const(1.0), lambda: const(1.5),
                               lambda: binop(const(1.0), "+",
                                             binop(const(0.25), "*", mcall("sin", var()))))))()
    span = Bound(lo.bound.lo, hi.bound.hi, 0.0)
    form = draw(st.integers(0, 2))
    args: list[Val] = []
    if form == 0:  # a lambda reading the function's variables
        inner = Context(ctx.params, INTEGRAND_KINDS, {**ctx.env, t: span}, max_depth=2)
        e = _integrand(draw, inner, t, needed=[draw(st.sampled_from(ctx.variables()))])
        fn, defs = f"lambda {t}: {ast.unparse(e.node)}", []
    else:
        args = [ctx.expr(draw, draw(st.integers(0, 1))) for _ in range(draw(st.integers(1, 2)))]
        names = ["pa", "pb"][:len(args)]
        closed = dict(ctx.env) if draw(st.booleans()) else {}
        closed = {k: v for k, v in closed.items() if k not in names}
        inner = Context(ctx.params, INTEGRAND_KINDS,
                        {**closed, **{n: a.bound for n, a in zip(names, args)}, t: span},
                        max_depth=2)
        if form == 1:
            e = _integrand(draw, inner, t, needed=names)
            fn, defs = f"lambda {t}, {', '.join(names)}: {ast.unparse(e.node)}", []
        else:
            fn = next((f for f in FUNCTION_NAMES if f not in ctx.taken), None)
            if fn is None:
                return None
            ctx.taken.add(fn)
            first = inner.expr(draw, draw(st.integers(1, 2)))
            inner.bind("w_i", first.bound)
            e = _integrand(draw, inner, t, depth=1, needed=["w_i", *names])
            defs = [f"def {fn}({t}, {', '.join(names)}):",
                    f"    w_i = {ast.unparse(first.node)}", f"    return {ast.unparse(e.node)}"]
    width = hi.bound.hi - lo.bound.lo
    value = Bound(-width * e.bound.mag, width * e.bound.mag,
                  width * e.bound.d + e.bound.mag * (lo.bound.d + hi.bound.d))
    arg_text = ""
    if args:
        arg_text = ", args=(" + ", ".join(ast.unparse(a.node) for a in args) + ",)"
    call = (f"scipy.integrate.quad({fn}, {ast.unparse(lo.node)}, {ast.unparse(hi.node)}"
            f"{arg_text}, {QUAD_TOLERANCES})")
    if draw(st.booleans()):
        read = [f"{target} = {call}[0]"]
    else:
        ctx.taken.add(err)
        read = [f"{target}, {err} = {call}"]
    ctx.bind(target, value)
    return _parse([*defs, *read])


# ---------------------------------------------------------------- refused at the user's line
#
# Each kind below makes one statement srcad must refuse, at that statement's line (the line
# the test finds with :data:`REFUSED_AT`): it binds its result with a loose bound (the
# program is never differentiated). tests/test_random_programs.py places one among random
# statements (``programs(required=...)``).

#: A loose bound for the value of a refused statement (its program is not checked).
LOOSE = Bound(-4.0, 4.0, 4.0)


def s_flat_value(draw, ctx: Context) -> list[ast.stmt] | None:
    """``A.flat`` read as a value: a flat iterator enumerated, zipped, summed, listed, kept in
    a name or looped over. srcad refuses it at its line, with ``A.ravel()`` as the advice
    (round 89: a TypeError in the generated code)::

        arr = x * np.linspace(0.5, 1.0, 6).reshape((2, 3))
        u = sum(k * v for k, v in enumerate(arr.flat))
    """
    A = next((n for n in _free(ctx, ARRAY_NAMES)), None)
    if A is None:
        return None
    ctx.taken.add(A)
    target = _result(draw, ctx)
    n, m = draw(st.integers(2, 3)), draw(st.integers(2, 3))
    it = f"it_{target}"
    ctx.taken.add(it)
    refused = draw(st.sampled_from((
        f"{target} = sum(k * v for k, v in enumerate({A}.flat)) / {n * m * n * m}",
        f"{target} = sum(a * b for a, b in zip({A}.flat, {A}.ravel()[::-1])) / {n * m}",
        f"{target} = sum({A}.flat) / {n * m}",
        f"{target} = np.mean(list({A}.flat))",
        f"{it} = {A}.flat\n{target} = next({it}) * 0.5",
        f"{target} = 0.0\nfor v in {A}.flat:\n    {target} = {target} + v / {n * m}",
    )))
    if refused.startswith(f"{target} = 0.0"):
        refused = "\n".join(refused.split("\n")[1:])  # (the loop's line is refused)
        lines = [f"{A} = {_vector(draw, ctx, (n, m))}", f"{target} = 0.0", refused]
    else:
        lines = [f"{A} = {_vector(draw, ctx, (n, m))}", refused]
    ctx.bind(target, LOOSE)
    return _parse(lines)


def s_changes_outside(draw, ctx: Context) -> list[ast.stmt] | None:
    """A function given to a root finder or ``scipy.integrate.quad`` that changes what it
    did not make: appends to a list, writes an array or a dict of the function's, or
    an object passed in ``args=``. Its gradient ignored the change (silently wrong, round
    88); srcad refuses it at the call::

        hist = [x]
        def inner(r):
            hist.append(r)
            return r + 0.5 * math.tanh(r) - y
        u = scipy.optimize.brentq(inner, -40.0, 40.0) + hist[-1]
    """
    store = next((n for n in _free(ctx, ("hist", "buf", "cache", "log_q")) ), None)
    fn = next((f for f in FUNCTION_NAMES if f not in ctx.taken), None)
    if store is None or fn is None:
        return None
    ctx.taken.update((store, fn))
    target = _result(draw, ctx)
    a, b = _scalar(draw, ctx), _scalar(draw, ctx)
    made, change, after = draw(st.sampled_from((
        (f"{store} = [{a}]", f"{store}.append(r)", f" + {store}[-1]"),
        (f"{store} = np.zeros(3)", f"{store}[:] = {a} * r", f" + np.sum({store})"),
        (f"{store} = np.zeros(2)", f"{store}[0] = r", f" + {store}[0] * 0.5"),
        (f"{store} = {{}}", f"{store}['last'] = r", ""),
        (f"{store} = [{a}]", f"{store}[0] = {store}[0] * 0.5 + r", f" + {store}[0]"),
    )))
    routine = draw(st.sampled_from(("brentq", "brenth", "ridder", "quad")))
    body = f"r + 0.5 * math.tanh(r) - {b} / 4.0" if routine != "quad" else f"r * r * {b}"
    limits = "-40.0, 40.0" if routine != "quad" else "0.0, 1.0"
    module = "optimize" if routine != "quad" else "integrate"
    read = "" if routine != "quad" else "[0]"
    how = draw(st.integers(0, 2))
    if how == 0:  # a nested def
        lines = [made, f"def {fn}(r):", f"    {change}", f"    return {body}",
                 f"{target} = scipy.{module}.{routine}({fn}, {limits}){read}{after}"]
    elif how == 1:  # the object passed through args=
        lines = [made, f"def {fn}(r, keep):", f"    {change.replace(store, 'keep', 1)}",
                 f"    return {body}",
                 f"{target} = scipy.{module}.{routine}({fn}, {limits}, args=({store},))"
                 f"{read}{after}"]
    else:  # a lambda (an expression: a change by a call, then `or` the value)
        if not change.startswith(f"{store}.append"):
            change = f"{store}.append(r)"
            made, after = f"{store} = [{a}]", f" + {store}[-1]"
        lines = [made, f"{target} = scipy.{module}.{routine}(lambda r: {change} or {body}, "
                       f"{limits}){read}{after}"]
    ctx.bind(target, LOOSE)
    return _parse(lines)


def s_integrand_compares(draw, ctx: Context) -> list[ast.stmt] | None:
    """An integrand that compares its variable with a value that may be differentiated: a
    jump (or ``np.where``'s switch) that moves with it, a term Leibniz's rule leaves out
    (silently wrong before stop 55: ``quad(lambda x: 1.0 if x < p else 0.0, 0, 1)`` is p,
    its derivative was 0). Refused at the call::

        u = scipy.integrate.quad(lambda t: 1.0 if t < 0.5 + 0.25 * math.tanh(x) else 0.0,
                                 0.0, 1.0)[0]
    """
    fn = next((f for f in FUNCTION_NAMES if f not in ctx.taken), None)
    if fn is None or not ctx.env:
        return None
    moving = [v for v in ctx.variables() if ctx.bound(v).d > 0] or list(ctx.params)
    target = _result(draw, ctx)
    place = f"0.5 + 0.25 * math.tanh({draw(st.sampled_from(moving))})"
    other = _scalar(draw, ctx, 0)
    integrands = [
        f"lambda t: 1.0 if t < {place} else 0.0",
        f"lambda t: (2.0 if t > {place} else 1.0) * t * {other}",
        f"lambda t, c: {other} * t if t - c < 0.0 else 0.0",
    ]
    k = draw(st.integers(0, 3))
    args = f", args=({place},)" if k == 2 else ""
    if k == 3:  # a nested def, with np.where (continuous, but its switch moves)
        ctx.taken.add(fn)
        lines = [f"def {fn}(t):", f"    z_i = t - {place}", "    return np.where(z_i > 0.0, "
                 f"z_i * z_i, 0.0) * {other}",
                 f"{target} = scipy.integrate.quad({fn}, 0.0, 1.0)[0]"]
    else:
        lines = [f"{target} = scipy.integrate.quad({integrands[k]}, 0.0, 1.0{args})[0]"]
    ctx.bind(target, LOOSE)
    return _parse(lines)


def refused_line(source: str) -> int:
    """The line (1-based, of ``source``: a function's text) of the statement a refused kind
    made: a call of a library routine that takes a function, or ``.flat`` read as a value."""
    for k, line in enumerate(source.splitlines(), 1):
        if "scipy." in line or re.search(r"\.flat\b(?!\[)", line):
            return k
    raise AssertionError(f"no refused statement in\n{source}")


REFUSED_KINDS: tuple[Callable, ...] = (s_flat_value, s_changes_outside, s_integrand_compares)
#: What each refusal's message says (its reason, not another one at the same line).
REFUSAL_REASONS: dict[str, str] = {
    "s_flat_value": r"\.flat", "s_changes_outside": "did not make",
    "s_integrand_compares": "compares",
}


def s_zero_d_method(draw, ctx: Context) -> list[ast.stmt] | None:
    """:func:`s_zero_d` copying by the method, ``c_u = x.copy()``."""
    return s_zero_d(draw, ctx, method=True)


def s_zero_d(draw, ctx: Context, method: bool = False) -> list[ast.stmt] | None:
    """A parameter that is a 0-d array (the test passes ``np.array(v)``) read as one: copied,
    changed in place, read back as a float (round 87: a tangent given as a plain number
    raised AttributeError in the tangent code, ``t.copy()``)::

        c_u = x.copy()
        c_u *= 1.5
        c_u += y * 0.5
        u = float(c_u) * z
    """
    p = draw(st.sampled_from(ctx.params))
    target = _result(draw, ctx)
    copy_name = f"c_{target}"
    if copy_name in ctx.env:
        return None
    ctx.taken.add(copy_name)
    value = ctx.var(p)
    copied = f"{p}.copy()" if method else draw(st.sampled_from((f"{p}.copy()", f"np.copy({p})")))
    lines = [f"{copy_name} = {copied}"]
    for _ in range(draw(st.integers(1, 2))):  # (an update that leaves the bounds: left out)
        try:
            if draw(st.booleans()):
                c = draw(st.sampled_from((1.5, 0.5, -2.0)))
                value, line = binop(value, "*", const(c)), f"{copy_name} *= {c}"
            else:
                e = ctx.expr(draw, draw(st.integers(0, 1)))
                value, line = binop(value, "+", e), f"{copy_name} += {ast.unparse(e.node)}"
        except IllConditioned:
            continue
        lines.append(line)
    read = draw(st.sampled_from(("float", "item", "plain")))
    text = {"float": f"float({copy_name})", "item": f"{copy_name}.item()",
            "plain": f"{copy_name}[()]"}[read]
    other = ctx.var(draw(st.sampled_from(ctx.variables())))
    result = Val(ast.parse(text, mode="eval").body, value.bound)
    try:
        result = binop(result, "*", other)
    except IllConditioned:
        pass
    lines.append(f"{target} = {ast.unparse(result.node)}")
    ctx.bind(target, result.bound)
    return _parse(lines)


#: Statement builders (index 0 shrinks first). See the module docstring to add kinds.
#: ``while`` loops, nested loops, ``if`` in loops, jumps, sums and nested functions: where
#: srcad merges values at loop back edges and branch joins (the tests count each).
CONTROL_FLOW_KINDS: tuple[Callable, ...] = (
    s_while, s_swap, s_nested_for, s_loop_if, s_loop_memo, s_early_return, s_sum, s_closure,
)
STATEMENT_KINDS: list[Callable] = [
    *STRAIGHT_KINDS, s_if, s_for, s_numpy, s_numpy_loop, s_numpy_matmul, *CONTROL_FLOW_KINDS,
    *ARRAY_WRITE_KINDS,
]
#: What loop bodies and branches of the control-flow kinds are made of: the straight-line
#: kinds, parallel assignments that read the variables they reassign, sums.
BODY_KINDS: list[Callable] = [*STRAIGHT_KINDS, s_rotate, s_rotate, s_sum]
#: The most top-level statements one builder emits (:func:`s_alias`: the array, its alias,
#: a saved value and the write through, two in-place operators, the reduction).
MAX_STATEMENTS_PER_KIND = 8

# ---------------------------------------------------------------- programs


@dataclass(frozen=True, eq=False)
class Program:
    """One generated function: its AST and the bounds the generator guarantees."""

    funcdef: ast.FunctionDef
    value_bound: Bound
    #: The statement kinds it was built from (their function names), in order.
    kinds: tuple[str, ...] = ()
    #: The kind that built each top-level statement of the body (the return aside).
    owners: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.funcdef.name

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(a.arg for a in self.funcdef.args.args)

    @property
    def n_statements(self) -> int:
        return len(self.funcdef.body) - 1

    def source(self, name: str | None = None) -> str:
        fn = self.funcdef
        if name is not None and name != fn.name:
            fn = copy.copy(fn)
            fn.name = name
        return ast.unparse(ast.fix_missing_locations(ast.Module([fn], []))) + "\n"

    def __repr__(self) -> str:  # Hypothesis prints this for a falsifying example
        return f"Program(bound={self.value_bound!r}):\n{textwrap.indent(self.source(), '    ')}"

    def _repr_pretty_(self, printer, cycle) -> None:  # Hypothesis' pretty-printer hook
        printer.text(repr(self))


@st.composite
def programs(
    draw,
    name: str = "f",
    min_params: int = 2,
    max_params: int = 4,
    min_statements: int = 2,
    max_statements: int = 15,
    statement_kinds: Sequence[Callable] = STATEMENT_KINDS,
    expression_kinds: Sequence[Callable] = EXPRESSION_KINDS,
    max_depth: int = 3,
    required: Callable | None = None,
    first: Callable | None = None,
) -> Program:
    """A random well-conditioned function of ``min..max_params`` floats; its value bound
    joins the final value's with those of the early returns. ``required``: a kind built
    once, in place of a drawn statement at a drawn position (it must apply: the refused
    kinds); ``first``: a kind built before the others (the first statement)."""
    n_params = draw(st.integers(min_params, max_params))
    params = draw(st.sampled_from(PARAM_SCHEMES))[:n_params]
    ctx = Context(params, expression_kinds, max_depth=max_depth)
    for p in params:
        ctx.bind(p, Bound(-PARAM_BOUND, PARAM_BOUND, 1.0))
    body: list[ast.stmt] = []
    kinds: list[str] = []
    owners: list[str] = []
    n_statements = draw(st.integers(min_statements, max_statements))
    at = draw(st.integers(0, n_statements - 1)) if required is not None else -1
    for step in range(n_statements):
        if step == 0 and first is not None:
            kind = first
        elif step == at:
            kind = required
        else:
            kind = statement_kinds[draw(st.integers(0, len(statement_kinds) - 1))]
        snapshot, returns = dict(ctx.env), len(ctx.early_returns)
        try:
            stmts = kind(draw, ctx)
        except IllConditioned:
            stmts = None
        if stmts is None:
            if kind is required or kind is first:
                raise AssertionError(f"{kind.__name__} did not apply")
            ctx.env = snapshot
            del ctx.early_returns[returns:]
            kind = s_assign
            stmts = s_assign(draw, ctx)
        body.extend(stmts)
        kinds.append(kind.__name__)
        owners += [kind.__name__] * len(stmts)
    # return: the latest variable, combined with up to two more terms
    result = ctx.var(ctx.variables()[0])
    for _ in range(draw(st.integers(0, 2))):
        op = draw(st.sampled_from(("+", "*", "-")))
        term = ctx.expr(draw, draw(st.integers(0, 2)))
        try:
            result = binop(result, op, term)
        except IllConditioned:
            pass
    body.append(ast.Return(result.node))
    funcdef = ast.FunctionDef(
        name=name,
        args=ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in params], kwonlyargs=[],
                           kw_defaults=[], defaults=[]),
        body=body,
        decorator_list=[],
        returns=None,
        **({"type_params": []} if "type_params" in ast.FunctionDef._fields else {}),
    )
    bound = result.bound
    for returned in ctx.early_returns:
        bound = bound.join(returned)
    return Program(funcdef, bound, tuple(kinds), tuple(owners))


def module_source(progs: Sequence[Program], names: Sequence[str] | None = None,
                  header: str = "") -> str:
    """The text of a module: a header comment, the helper prelude, then the functions."""
    names = names or [p.name for p in progs]
    parts = [header + PRELUDE] if header else [PRELUDE]
    functions = [p.source(n) for p, n in zip(progs, names, strict=True)]
    if any("scipy." in text for text in functions):  # (only then: the default run's
        parts.append(SCIPY_IMPORTS)                   # files stay as they were)
    parts.append("import copy\n")  # (s_copies)
    parts += functions
    return "\n\n".join(parts)


#: Imports of the files whose functions call SciPy's routines (:func:`s_quad`, ...).
SCIPY_IMPORTS = "import scipy.integrate\nimport scipy.optimize\n"


def points(n_params: int, min_size: int = 1, max_size: int = 2):
    """Points in the box the bounds are valid for."""
    coord = st.floats(-PARAM_BOUND, PARAM_BOUND, allow_nan=False, allow_infinity=False)
    return st.lists(st.tuples(*[coord] * n_params), min_size=min_size, max_size=max_size)


# ---------------------------------------------------------------- records through root finders

#: The records the programs of :func:`record_root_programs` take (a dataclass whose
#: ``__post_init__`` takes ``abs`` of a positive field: a gradient built by running it was
#: wrong, round 97) and the helper their root finders' lambdas may call.
RECORD_PRELUDE = '''import dataclasses


@dataclasses.dataclass
class Rate:
    scale: float
    level: float

    def __post_init__(self):  # (the values' identity; a gradient's scale may be negative)
        self.scale = abs(self.scale)


def gap(rate, v):
    return rate.scale * v + 0.5 * math.tanh(v) - rate.level
'''
#: Each record's fields: scale in [0.5, 2] (the equation's slope is at least 0.5), level
#: in [-2, 2].
RECORD_SCALE, RECORD_LEVEL = (0.5, 2.0), (-2.0, 2.0)
#: A bracket that holds every root: |root| <= (|level| + VALUE_CAP / 4 + 0.5) / 0.5 = 13.
ROOT_BRACKET = 40.0


@dataclass(frozen=True)
class RecordProgram:
    """A function of records (a list, a dict of a list, a dict of records, a list of numbers)
    and floats, and the arguments to check it at."""

    source: str
    args: tuple
    form: str

    def __repr__(self) -> str:
        return f"RecordProgram({self.form}, args={self.args!r}):\n{self.source}"


@st.composite
def record_root_programs(draw, forms: Sequence[str] = ("list", "loop", "dict", "numbers"),
                         max_statements: int = 3) -> RecordProgram:
    """A random float program (:data:`STRAIGHT_KINDS`) whose value ``value_r`` then sets the
    equation a root finder solves, with a record taken out of a container the function is
    given (round 88: a TypeError in the adjoint; a list's tangent as an array, a ValueError)::

        def f(bonds, x, y):
            a = x * y
            value_r = a + math.sin(y)
            bond = bonds[1]
            root_r = scipy.optimize.brentq(
                lambda y_r: bond.scale * y_r + 0.5 * math.tanh(y_r) - bond.level
                - 0.25 * value_r, -40.0, 40.0, xtol=1e-14)
            return root_r + 0.5 * value_r

    Forms: ``list`` (``bond = bonds[k]``, read by the lambda or by ``gap(bond, y_r)``),
    ``loop`` (``for bond in book["bonds"]``, given through ``args=``), ``dict`` (``bond =
    book["second"]``), ``numbers`` (a list of numbers read by the lambda), ``indexed``
    (``bonds[k].scale`` inside the lambda). Bounds: the equation's slope in ``y_r`` is at
    least the scale, 0.5, and its other terms are within 2 + VALUE_CAP / 4."""
    program = draw(programs(statement_kinds=STRAIGHT_KINDS, min_params=1, max_params=3,
                            min_statements=1, max_statements=max_statements))
    *stmts, ret = ast.parse(program.source()).body[0].body
    form = draw(st.sampled_from(forms))
    n = draw(st.integers(1, 3))
    fields = st.tuples(st.floats(*RECORD_SCALE), st.floats(*RECORD_LEVEL))
    pairs = draw(st.lists(fields, min_size=n, max_size=n))
    k = draw(st.integers(0, n - 1))
    finder = draw(st.sampled_from(("brentq", "brenth", "ridder", "bisect", "toms748")))
    bracket = f"-{ROOT_BRACKET}, {ROOT_BRACKET}"
    shift = "0.25 * value_r"
    by_helper = draw(st.booleans())

    def equation(rec: str) -> str:
        if by_helper:
            return f"gap({rec}, y_r) - {shift}"
        return f"{rec}.scale * y_r + 0.5 * math.tanh(y_r) - {rec}.level - {shift}"

    def solve(fn: str, extra: str = "") -> str:
        return f"scipy.optimize.{finder}({fn}, {bracket}{extra}, xtol=1e-14)"

    taken_out = "lambda y_r: " + equation("bond")
    if form == "list":
        first, lines = "bonds", [f"bond = bonds[{k}]", f"root_r = {solve(taken_out)}"]
    elif form == "indexed":
        indexed = "lambda y_r: " + equation(f"bonds[{k}]")
        first, lines = "bonds", [f"root_r = {solve(indexed)}"]
    elif form == "loop":
        passed = "lambda y_r, bond: " + equation("bond")
        first, lines = "book", ["root_r = 0.0", 'for bond in book["bonds"]:',
                                f"    root_r += {solve(passed, ', args=(bond,)')} / {n}"]
    elif form == "dict":
        key = draw(st.sampled_from(("first", "second")))
        first, lines = "book", [f'bond = book["{key}"]', f"root_r = {solve(taken_out)}"]
    else:  # a list of numbers: [scale, level]
        numbers = f"lambda y_r: levels[0] * y_r + 0.5 * math.tanh(y_r) - levels[1] - {shift}"
        first, lines = "levels", [f"root_r = {solve(numbers)}"]
    more = draw(st.sampled_from(("0.5 * value_r", "0.0", "math.tanh(root_r) * value_r")))
    body = [*(ast.unparse(s) for s in stmts), f"value_r = {ast.unparse(ret.value)}", *lines,
            f"return root_r + {more}"]
    params = ", ".join((first, *program.params))
    source = f"def f({params}):\n" + textwrap.indent("\n".join(body), "    ") + "\n"
    floats = tuple(draw(st.floats(-PARAM_BOUND, PARAM_BOUND)) for _ in program.params)
    rates = [("Rate", s, lv) for s, lv in pairs]
    if form in ("list", "indexed"):
        container = ("list", rates)
    elif form == "loop":
        container = ("book", rates)
    elif form == "dict":
        container = ("dict", [rates[0], rates[-1]])
    else:
        container = ("numbers", list(pairs[0]))
    return RecordProgram(source, (container, *floats), form)


def record_module_source(program: RecordProgram) -> str:
    """The module of a :class:`RecordProgram`: the prelude, the records, SciPy, ``f``."""
    return "\n\n".join((PRELUDE, RECORD_PRELUDE, SCIPY_IMPORTS, program.source))


def record_arguments(module, program: RecordProgram) -> tuple:
    """The arguments of ``module.f`` (new records of the module's class each time)."""
    (kind, items), *floats = program.args
    rates = [module.Rate(s, lv) for _, s, lv in items] if kind != "numbers" else None
    container = {"list": lambda: rates, "book": lambda: {"bonds": rates},
                 "dict": lambda: {"first": rates[0], "second": rates[-1]},
                 "numbers": lambda: list(items)}[kind]()
    return (container, *floats)
