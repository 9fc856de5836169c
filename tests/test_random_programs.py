"""Property-based tests: srcad on random well-conditioned programs (tests/programs.py).

Every generated program is written to a real ``.py`` file and imported, so srcad
reads it with ``inspect.getsource`` as it reads users' code. For each program:

1. srcad's gradient agrees with central differences at random points;
2. ``grad(f, optimize=False)`` and ``grad(f)`` agree to 1e-12 (relative);
3. forward mode (``srcad.jvp``, one direction per parameter) agrees with the reverse-mode
   gradient to 1e-10 (relative); forward mode may refuse only with a ``NoRuleError`` saying
   that a rule has no tangent (counted and printed);
4. the value ``srcad.value_and_grad(f)`` returns is ``f``'s own value, bit for bit (``==``);
5. the generated ``backward_source`` is deterministic: the same for a second call
   and for an independent rebuild from a second copy of the file;
6. for one program in :data:`SECOND_ORDER_EVERY` (chosen by its source), ``srcad.hvp``
   agrees with central differences of srcad's gradient along one direction.

A ``srcad.SrcadError`` while building the gradient (a clean refusal) skips the program
while :data:`ALLOW_REFUSALS` is true; refusals are counted per program class
(``programs.PROGRAM_CLASSES``, by the statement at the error's line) and printed with one
message each. Anything else (a wrong gradient, an exception in generated code, forward and
reverse mode disagreeing, a different value) fails.

Programs with ``np.where`` whose branch not taken is not finite (``s_where_nonfinite``) are
evaluated, differentiated and checked under ``np.errstate(invalid="ignore",
divide="ignore")``: numpy warns about that branch's NaNs, which are expected.

Tolerances for (1)
------------------
``conftest.numeric_grad`` uses central differences with ``h = 1e-6 * max(1, |x|)``,
so ``h <= 2e-6`` on the box ``[-2, 2]``. Its error is

* truncation ``h**2 / 6 * |f'''|``: the generator keeps every value within
  ``VALUE_CAP = 16`` and every gradient's l1 norm within ``DERIV_CAP = 32``
  (programs.py). The third derivative of a composition whose first derivatives are
  bounded by ``D`` grows like ``D**3`` at worst (``sin(D x)``), so
  ``4e-12 / 6 * 32**3 ~ 2e-8``; typical programs are far below;
* roundoff ``~ k * u * |f| / h`` with ``u = 1.1e-16``, ``|f| <= 16`` and
  ``k ~ 10`` ulps of error accumulated over a program: ``~ 1e-8``.

So the reference is good to ~3e-8 absolute in the worst case; ``atol = 1e-7`` with
``rtol = 1e-5`` (for large gradients) leaves a margin of >= 3x while a wrong
derivative rule (a lost factor, a sign, a missing fan-out contribution) is off by
O(1) relative error. Each batch prints the largest ``error / tolerance`` ratio it
saw (``pytest -s``).

Tolerance for (2)
-----------------
The optimizer substitutes copies and folds multiplications by one; it may also
reorder a few floating-point operations, which changes a result by a few ulps of
the largest intermediate term (<= VALUE_CAP * DERIV_CAP). Hence relative 1e-12 with
an absolute floor of 1e-12 (the terms are O(1), so a few ulps are ~1e-15).

Tolerance for (6)
-----------------
Differences of the gradient with ``h = 1e-5`` (times the point's scale): truncation
``h**2 / 6`` times the fourth derivative, and roundoff ``~ k * u * |g| / h`` with
``|g| <= 32``, stay far below 1e-5 for these programs. The exception is ``abs(a) * a * a``
and ``abs(a) ** 3`` (``e_abs``) where ``a`` is exactly 0 (a drawn point of zeros): twice
but not three times differentiable there, their differences are only O(h) accurate,
``h / 2`` times the jump of the third derivative (at most 6 per such term) times
``|d| ** 2`` (1.7e-5 seen, extra batches of stop 42). Relative 1e-4 with an absolute floor
of 1e-4 leaves a margin over both, while a lost term (or ``0 * nan`` where a selection
should give 0) is off by O(1).

Tolerance for (3)
-----------------
Forward mode computes the same chain rule in the opposite order (tangents forward, adjoints
backward), so every term is summed in a different order: a few ulps of the largest
intermediate term, up to ``VALUE_CAP * DERIV_CAP = 512``, i.e. ~1e-13 absolute at worst.
Relative 1e-10 with an absolute floor of 1e-11 leaves a margin of >= 100x; a missing or
extra term is off by O(1).
"""

from __future__ import annotations

import ast
import copy
import difflib
import importlib.util
import inspect
import json
import math
import os
import re
import subprocess
import sys
import textwrap
import time
import zlib
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

import srcad

sys.path.insert(0, os.path.dirname(__file__))
from conftest import as_tuple, check_four_ways, numeric_grad  # noqa: E402
from programs import (  # noqa: E402
    CONTROL_FLOW_KINDS,
    MAX_STATEMENTS_PER_KIND,
    PARAM_BOUND,
    PROGRAM_CLASSES,
    REFUSAL_REASONS,
    REFUSED_KINDS,
    STRAIGHT_KINDS,
    Program,
    module_source,
    points,
    programs,
    record_arguments,
    record_module_source,
    record_root_programs,
    refused_line,
    s_alias,
    s_closures,
    s_constant_helper,
    s_copies,
    s_deep,
    s_dicts,
    s_draw,
    s_flat,
    s_generators,
    s_int_lists,
    s_int_powers,
    s_list_on_one_path,
    s_named_tuples,
    s_numpy,
    s_numpy_items,
    s_object_helper,
    s_objects,
    s_quad,
    s_quantiles,
    s_square_of_root,
    s_tables,
    s_through_sum,
    s_walrus,
    s_where_nonfinite,
    s_zero_d,
    s_zero_d_method,
)

RTOL, ATOL = 1e-5, 1e-7  # gradient vs central differences (see the module docstring)
SAME_RTOL, SAME_ATOL = 1e-12, 1e-12  # optimize=False vs optimize=True
FORWARD_RTOL, FORWARD_ATOL = 1e-10, 1e-11  # forward mode vs reverse mode
#: A srcad.SrcadError while building a gradient skips the program (counted per class and
#: printed). False: refusals fail the test like wrong gradients do.
ALLOW_REFUSALS = False
#: What forward mode may refuse with (a NoRuleError saying so): a rule without a tangent.
MISSING_TANGENT = "has no forward-mode (tangent) rule"
SECOND_RTOL, SECOND_ATOL = 1e-4, 1e-4  # hvp vs differences of the gradient
#: One program in this many (by a checksum of its source) has its hvp checked too (6).
SECOND_ORDER_EVERY = 4
#: One program with loops in this many (by another checksum) has its gradient with respect
#: to its first parameter alone checked against the full gradient's first entry (7): for
#: Python floats that is forward mode (srcad.forward_gradient), the others reverse mode.
#: As many, of those with three parameters or more, have it along the first two checked.
ONE_PARAMETER_EVERY = 3
BOUND_SLACK = 1e-9  # the generator's interval bounds are exact up to roundoff

#: Default (CI) run: this many programs, fixed seed. The slow run: SLOW_EXAMPLES. Each program
#: is checked four ways (about 0.8 s each on the 2-core machine), so 128 keep the default
#: suite under its 5-minute budget (about 4 minutes in all).
CI_EXAMPLES = 128
#: ... in this many batches (pytest shows a dot for each), batch k drawn with the seed
#: BATCH_SEED + k.
BATCHES = 8
BATCH_SEED = 20_261_130
SLOW_EXAMPLES = 10_000

REGRESSIONS = Path(__file__).parent / "regressions"


# ---------------------------------------------------------------- loading files


class ProgramFiles:
    """Writes module sources to files under one directory and imports them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0
        self.modules: list[str] = []

    def load(self, source: str, subdir: str = "main", stem: str | None = None):
        self.count += 1
        name = f"srcad_random_{self.count}"
        folder = self.directory / subdir
        folder.mkdir(exist_ok=True)
        path = folder / f"{stem or name}.py"
        path.write_text(source)
        return import_file(path, name, self.modules)

    def unload(self) -> None:
        for name in self.modules:
            sys.modules.pop(name, None)
        self.modules.clear()


def import_file(path: Path, module_name: str, registry: list[str] | None = None):
    """Import ``path`` as ``module_name`` (registered in sys.modules, as an import would)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    if registry is not None:
        registry.append(module_name)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def program_files(tmp_path_factory):
    files = ProgramFiles(tmp_path_factory.mktemp("random_programs"))
    old = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # no __pycache__ for thousands of one-off files
    yield files
    sys.dont_write_bytecode = old
    files.unload()


# ---------------------------------------------------------------- the checks


def close(a: float, b: float, rtol: float, atol: float) -> bool:
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def check_gradient(f, pt, n, *, rtol=RTOL, atol=ATOL, g=None):
    """srcad's gradient of ``f`` at ``pt`` vs central differences; returns both."""
    g = g or srcad.grad(f, wrt=tuple(range(n)))
    got = tuple(float(v) for v in as_tuple(g(*pt), n))
    want = numeric_grad(f, pt, range(n))
    assert len(got) == n
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        assert math.isfinite(a), f"d/d{i}: srcad gave {a!r}"
        assert abs(a - b) <= atol + rtol * abs(b), (
            f"gradient component {i} at {pt}: srcad {a!r} vs central difference {b!r} "
            f"(abs err {abs(a - b):.3e}); all: srcad {got} vs {want}"
        )
    return got, want


def has_branches(program: Program) -> bool:
    """Whether the program may switch formulas where data crosses a threshold: an ``if``
    (also around ``break``, ``continue`` and early ``return``), a ``while`` test, a
    comprehension's ``if`` filter, ``np.where``."""
    return any(isinstance(node, ast.If | ast.While)
               or (isinstance(node, ast.comprehension) and node.ifs)
               or (isinstance(node, ast.Call) and ast.unparse(node.func) == "np.where")
               for node in ast.walk(program.funcdef))


def classes_of(program: Program) -> list[str]:
    """The :data:`PROGRAM_CLASSES` the program belongs to."""
    return [name for name, kinds in PROGRAM_CLASSES.items() if set(kinds) & set(program.kinds)]


def expected_warnings(program: Program):
    """``np.errstate`` silencing invalid values and divisions by zero for programs whose
    ``np.where`` computes a branch that is not finite (and is not taken) there; a context
    that changes nothing for the others."""
    if "s_where_nonfinite" in program.kinds:
        return np.errstate(invalid="ignore", divide="ignore")
    return nullcontext()


def class_at_line(program: Program, f, lineno: int) -> str:
    """The class of the statement of ``f`` (``program``) at line ``lineno`` of its file, or
    ``"other"`` (another statement kind, or a line outside ``f``)."""
    body = ast.parse(program.source()).body[0].body
    line = lineno - f.__code__.co_firstlineno + 1
    for stmt, owner in zip(body, program.owners):
        if stmt.lineno <= line <= stmt.end_lineno:
            return next((name for name, kinds in PROGRAM_CLASSES.items() if owner in kinds),
                        "other")
    return "other"


def count_refusal(stats: dict | None, key: str, program: Program, f,
                  error: srcad.SrcadError) -> None:
    """Count a refusal in ``stats[key]`` under the class of the line it names; keep the
    first message and program of each class in ``stats[key + " examples"]``."""
    if stats is None:
        return
    where = class_at_line(program, f, error.lineno) \
        if error.filename == f.__code__.co_filename else "other"
    counts = stats.setdefault(key, {})
    counts[where] = counts.get(where, 0) + 1
    stats.setdefault(key + " examples", {}).setdefault(
        where, (f"{type(error).__name__}: {error.one_line()}", program.source()))


def check_forward(tangent, pt, n: int, got) -> None:
    """(3) forward mode, one direction per parameter, against the reverse gradient."""
    for k in range(n):
        direction = tuple(1.0 if i == k else 0.0 for i in range(n))
        _, dot = tangent(tuple(pt), direction)
        assert close(float(dot), got[k], FORWARD_RTOL, FORWARD_ATOL), (
            f"gradient component {k} at {pt}: forward mode {float(dot)!r} vs reverse mode "
            f"{got[k]!r}")


def check_value(value_and_grad, f, pt) -> None:
    """(4) the value value_and_grad returns is f's own, bit for bit."""
    value, _ = value_and_grad(*pt)
    want = f(*pt)
    assert value == want, f"value at {pt}: value_and_grad {value!r} vs f {want!r}"


def check_second_order(hvp, g, pt, n: int) -> None:
    """(6) ``hvp`` along one direction against central differences of the gradient."""
    direction = tuple((1.0, -0.5, 0.75)[k % 3] for k in range(n))
    h = 1e-5 * max(1.0, *(abs(x) for x in pt))
    shifted = [tuple(x + sign * h * d for x, d in zip(pt, direction)) for sign in (1, -1)]
    plus, minus = (as_tuple(g(*at), n) for at in shifted)
    product = as_tuple(hvp(*pt, direction), n)
    for k in range(n):
        want = (float(plus[k]) - float(minus[k])) / (2 * h)
        got = float(product[k])
        assert close(got, want, SECOND_RTOL, SECOND_ATOL), (
            f"hvp component {k} at {pt} along {direction}: srcad {got!r} vs differences "
            f"of the gradient {want!r}")


class _ScaledReturns(ast.NodeTransformer):
    """Every ``return v`` of the function itself (not of a nested one) as
    ``return closure_scale * (v)``."""

    def __init__(self, root: ast.FunctionDef) -> None:
        self.root = root

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return self.generic_visit(node) if node is self.root else node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        return node

    def visit_Return(self, node: ast.Return) -> ast.AST:
        scale = ast.Name("closure_scale", ast.Load())
        return ast.Return(ast.BinOp(scale, ast.Mult(), node.value or ast.Constant(None)))


def check_closures_second_order(files: ProgramFiles, program: Program, hvp, pt, n: int) -> None:
    """(6b) The program as a closure of a factory, ``make(closure_scale)`` returning ``f``
    with every result scaled: the Hessian-vector products of two closures of the one
    ``def``, the second built after the first, are each that closure's own (round 64b:
    they were the first-built closure's)."""
    funcdef = copy.deepcopy(program.funcdef)
    funcdef = _ScaledReturns(funcdef).visit(funcdef)
    inner = ast.unparse(ast.fix_missing_locations(funcdef))
    factory = (
        "def make(closure_scale):\n" + textwrap.indent(inner, "    ") + "\n    return f\n"
    )
    module = files.load(module_source([]) + "\n\n" + factory, subdir="closures")
    double, single = module.make(2.0), module.make(1.0)
    direction = tuple((1.0, -0.5, 0.75)[k % 3] for k in range(n))
    want = as_tuple(hvp(*pt, direction), n)
    every = tuple(range(n))
    for closure, scale in ((double, 2.0), (single, 1.0)):
        got = as_tuple(srcad.hvp(closure, wrt=every)(*pt, direction), n)
        for k in range(n):
            assert close(float(got[k]), scale * float(want[k]), SAME_RTOL, SAME_ATOL), (
                f"hvp component {k} of the closure scaled by {scale} at {pt}: "
                f"{float(got[k])!r} vs {scale} * {float(want[k])!r}")


def has_numpy_loop(program: Program) -> bool:
    """A loop whose body computes with numpy: arrays carried across iterations
    (``s_numpy_loop`` in programs.py)."""
    return any(isinstance(loop, ast.For) and any(
        isinstance(node, ast.Name) and node.id == "np" for node in ast.walk(loop))
        for loop in ast.walk(program.funcdef))


def away_from_switch(f, pt, n: int):
    """A point near ``pt`` where central differences with steps 1e-6 and 1e-5 agree, i.e.
    no ``if`` on data switches within ~1e-5 of it (generated tests use "odd" thresholds,
    so this almost never moves a point). Steps of 1e-3 in every coordinate, inside the box."""
    for attempt in range(20):
        small = numeric_grad(f, pt, range(n))
        large = numeric_grad(f, pt, range(n), eps=1e-5)
        if all(abs(a - b) <= 10 * (ATOL + RTOL * abs(b)) for a, b in zip(small, large)):
            return pt
        sign = 1.0 if attempt % 2 == 0 else -1.0
        pt = tuple(min(PARAM_BOUND, max(-PARAM_BOUND, c + sign * 1e-3 * (attempt + 1)))
                   for c in pt)
    raise AssertionError(f"no smooth point near {pt}")  # pragma: no cover


def check_program(
    files: ProgramFiles, program: Program, pts, stats: dict | None = None,
    second_order: bool = True,
):
    """All five properties for one program (see the module docstring)."""
    with expected_warnings(program):
        _check_program(files, program, pts, stats, second_order)


def _check_program(
    files: ProgramFiles, program: Program, pts, stats: dict | None, second_order: bool,
) -> None:
    source = module_source([program])
    module = files.load(source)
    f = module.f
    n = len(program.params)
    if stats is not None:
        kinds = {type(node).__name__ for node in ast.walk(program.funcdef)}
        stats["loops"] = stats.get("loops", 0) + ("For" in kinds)
        stats["numpy"] = stats.get("numpy", 0) + ("np" in source.split("def f(", 1)[1])
        stats["numpy_loops"] = stats.get("numpy_loops", 0) + has_numpy_loop(program)
        for kind in {*program.kinds, *classes_of(program)}:
            stats[kind] = stats.get(kind, 0) + 1
    try:
        every = tuple(range(n))  # all parameters (srcad's default is the first one)
        g = srcad.grad(f, wrt=every)
        g_plain = srcad.grad(f, wrt=every, optimize=False)
        value_and_grad = srcad.value_and_grad(f, wrt=every)
    except srcad.SrcadError as error:
        if not ALLOW_REFUSALS:
            raise
        count_refusal(stats, "refused", program, f, error)
        return
    try:
        tangent = srcad.jvp(f)
    except srcad.NoRuleError as error:
        if MISSING_TANGENT not in error.message:
            raise
        count_refusal(stats, "no tangent", program, f, error)
        tangent = None
    second = None
    if second_order and zlib.crc32(source.encode()) % SECOND_ORDER_EVERY == 0:
        try:
            second = srcad.hvp(f, wrt=every)
        except srcad.SrcadError as error:
            if not ALLOW_REFUSALS:
                raise
            count_refusal(stats, "no second order", program, f, error)
        if stats is not None:
            stats["second order"] = stats.get("second order", 0) + 1
    one = None
    looped = any(isinstance(node, ast.For | ast.While) for node in ast.walk(program.funcdef))
    if looped and zlib.crc32(source.encode()[::-1]) % ONE_PARAMETER_EVERY == 0:
        one = srcad.grad(f, wrt=0)
        if stats is not None:
            stats["one parameter"] = stats.get("one parameter", 0) + 1
    two = None  # (two of three or more: forward mode along two where it is cheaper)
    if looped and n >= 3 and zlib.crc32(source.encode()) % ONE_PARAMETER_EVERY == 0:
        two = srcad.grad(f, wrt=(0, 1))
        if stats is not None:
            stats["two parameters"] = stats.get("two parameters", 0) + 1
    if has_branches(program):
        pts = [away_from_switch(f, pt, n) for pt in pts]
        if stats is not None:
            stats["branching"] = stats.get("branching", 0) + 1
    for pt in pts:
        # the generator's promise (a bug here is in programs.py, not in srcad)
        value = f(*pt)
        bound = program.value_bound
        assert bound.lo - BOUND_SLACK <= value <= bound.hi + BOUND_SLACK, (
            f"generator bound violated: f{pt} = {value} not in {bound}")
        # (1) srcad vs central differences
        got, want = check_gradient(f, pt, n, g=g)
        if stats is not None:
            ratios = [abs(a - b) / (ATOL + RTOL * abs(b))
                      for a, b in zip(got, want, strict=True)]
            ratio = max(ratios, default=0.0)
            stats["max_ratio"] = max(stats.get("max_ratio", 0.0), ratio)
        # (2) optimize=False agrees with the optimized gradient
        plain = tuple(float(v) for v in as_tuple(g_plain(*pt), n))
        for i, (a, b) in enumerate(zip(got, plain, strict=True)):
            assert close(a, b, SAME_RTOL, SAME_ATOL), (
                f"gradient component {i} at {pt}: optimize=True {a!r} vs optimize=False {b!r}")
        # (3) forward mode agrees with reverse mode
        if tangent is not None:
            check_forward(tangent, pt, n, got)
        # (4) value_and_grad's value is f's
        check_value(value_and_grad, f, pt)
        # (6) second derivatives, for some of the programs
        if second is not None:
            check_second_order(second, g, pt, n)
            check_closures_second_order(files, program, second, pt, n)
        # (7) the first parameter alone (forward mode), for some of the programs
        if one is not None:
            alone = float(one(*pt))
            assert close(alone, got[0], SAME_RTOL * 1e3, SAME_ATOL * 1e3), (
                f"gradient along the first parameter alone {alone!r} vs {got[0]!r} at {pt}")
        if two is not None:
            pair = tuple(float(v) for v in two(*pt))
            for i in range(2):
                assert close(pair[i], got[i], SAME_RTOL * 1e3, SAME_ATOL * 1e3), (
                    f"gradient along the first two parameters {pair!r} vs {got[:2]!r} at {pt}")
    # (5) determinism: a second call, and a rebuild from a second copy of the file. The
    # copy has the same file name (the listing names helper files) and one more line
    # before `def f`, so f's code object differs and srcad cannot reuse its cache. (The
    # listing names the line of a nested function it inlines: one more in the copy.)
    assert srcad.grad(f, wrt=every).backward_source == g.backward_source
    shifted = source.replace("\ndef f(", "\n# copy\ndef f(", 1)
    twin = files.load(shifted, subdir="twin", stem=Path(module.__file__).stem).f
    assert twin.__code__.co_firstlineno == f.__code__.co_firstlineno + 1
    listing, listing_plain = g.backward_source, g_plain.backward_source
    assert line_back(srcad.grad(twin, wrt=every).backward_source) == listing, (
        "backward source changed")
    assert line_back(
        srcad.grad(twin, wrt=every, optimize=False).backward_source
    ) == listing_plain


def line_back(listing: str) -> str:
    """``listing`` with the lines it names for inlined nested functions one less."""
    return INLINED_FROM_LINE.sub(lambda m: f"{m[1]}{int(m[2]) - 1}", listing)


#: How a listing names the line of a nested function it inlines (``from <file>:<line>``
#: for a function of another file, whose lines do not move in the copy).
INLINED_FROM_LINE = re.compile(r"(# inlined \w+\(\) from line )(\d+)")


@st.composite
def cases(draw, **program_options):
    program = draw(programs(**program_options))
    return program, draw(points(len(program.params)))


COMMON = dict(
    deadline=None,
    database=None,
    derandomize=True,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---------------------------------------------------------------- the tests


def batch_settings(max_examples: int, batch: int | None) -> Callable:
    """Hypothesis settings for ``max_examples`` programs: the fixed (derandomized) run,
    or the ``batch``-th of the default run's batches (each its own fixed seed)."""
    if batch is None:
        return settings(max_examples=max_examples, **COMMON)
    chosen = settings(max_examples=max_examples, **{**COMMON, "derandomize": False})
    return lambda test: chosen(seed(BATCH_SEED + batch)(test))


def run_batch(files: ProgramFiles, max_examples: int, batch: int | None = None) -> dict:
    """Check ``max_examples`` random programs (fixed seed); return counts and timings."""
    stats: dict = {"programs": 0, "max_ratio": 0.0}

    @batch_settings(max_examples, batch)
    @given(case=cases())
    def check(case):
        program, pts = case
        # 2-15 statement kinds drawn; s_numpy_loop emits several statements (set-up, loop,
        # reductions), at most MAX_STATEMENTS_PER_KIND
        assert 2 <= program.n_statements <= 15 * MAX_STATEMENTS_PER_KIND
        assert 2 <= len(program.params) <= 4
        stats["programs"] += 1
        check_program(files, program, pts, stats)

    start = time.perf_counter()
    check()
    stats["seconds"] = time.perf_counter() - start
    print(f"\n{stats['programs']} random programs in {stats['seconds']:.1f} s "
          f"({stats.get('branching', 0)} with branches on data (if, while, filters), "
          f"{stats.get('loops', 0)} with for loops, {stats.get('numpy', 0)} with numpy "
          f"broadcasting, "
          f"{stats.get('numpy_loops', 0)} with arrays carried across loop iterations); largest "
          f"|srcad - central difference| / tolerance: {stats['max_ratio']:.3g}")
    print("programs with each control-flow kind: " + ", ".join(
        f"{kind.__name__} {stats.get(kind.__name__, 0)}" for kind in CONTROL_FLOW_KINDS))
    print_classes(stats)
    return stats


def print_classes(stats: dict) -> None:
    """Programs in each class, and the refusals at its statements (with one message each)."""
    refused, no_tangent = stats.get("refused", {}), stats.get("no tangent", {})
    print("programs in each class (refused by srcad / no forward-mode rule): " + ", ".join(
        f"{name} {stats.get(name, 0)} ({refused.get(name, 0)} / {no_tangent.get(name, 0)})"
        for name in PROGRAM_CLASSES))
    print(f"second order checked for {stats.get('second order', 0)} programs")
    for key in ("refused", "no tangent", "no second order"):
        for name, count in stats.get(key, {}).items():
            message, _ = stats[key + " examples"][name]
            print(f"  {key} at a statement of {name!r} ({count}x), e.g. {message}")


@pytest.mark.parametrize("batch", range(BATCHES))
def test_random_programs(program_files, batch):
    """The default run: CI_EXAMPLES programs in BATCHES batches (a dot of progress each),
    each with its own fixed seed."""
    stats = run_batch(program_files, CI_EXAMPLES // BATCHES, batch)
    assert stats["programs"] >= CI_EXAMPLES // BATCHES


def test_each_program_class_is_in_a_tenth_of_the_default_programs():
    """The programs of the default run's batches (drawn again, not checked), counted by
    :data:`PROGRAM_CLASSES`: each class in at least a tenth of them."""
    counts = dict.fromkeys(PROGRAM_CLASSES, 0)
    total = 0
    for batch in range(BATCHES):
        @batch_settings(CI_EXAMPLES // BATCHES, batch)
        @given(case=cases())
        def count(case):
            nonlocal total
            total += 1
            for name in classes_of(case[0]):
                counts[name] += 1

        count()
    assert total >= CI_EXAMPLES
    for name, n in counts.items():
        assert n >= total / 10, (name, n, total)


@settings(max_examples=30, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_alias], max_statements=4))
def test_programs_of_aliases_and_views(program_files, case):
    """Many programs of the ``aliases and views`` class: the same array under two names,
    views, views written in a loop (a view made before the loop, written in every
    iteration), each checked as the default run checks them."""
    program, pts = case
    check_program(program_files, program, pts)


@settings(max_examples=30, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_generators], max_statements=4))
def test_programs_of_generators_read_later(program_files, case):
    """Many programs with a generator made, then its list (or a variable it reads)
    changed, then the generator read (round 56: srcad ran it where it was made)."""
    program, pts = case
    check_program(program_files, program, pts)


@settings(max_examples=40, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_objects], max_statements=4))
def test_programs_of_objects_made_inside(program_files, case):
    """Many programs with objects of the user's classes made inside: an array a field
    holds written through its own name, ``g[i] = v`` through ``__setitem__``, an object's
    truth by ``__len__``, a method updating its array argument in place (round 57: each
    silently wrong); one array held by two objects, two dict keys, a dict in a dict or a
    repeated list, written through one and read through the other (stop 40: silently
    wrong, the other holder kept the old value)."""
    program, pts = case
    check_program(program_files, program, pts)


@settings(max_examples=15, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_named_tuples], max_statements=3))
def test_programs_of_named_tuples_made_inside(program_files, case):
    """Many programs making namedtuples (``collections.namedtuple``, ``typing.NamedTuple``)
    and reading them by field, position, unpacking and iteration, rebuilt by ``_replace``
    or a method, carried by loops, returned by helpers, held in lists (refused before
    this stop: "making a Pair object ... cannot be differentiated")."""
    program, pts = case
    check_program(program_files, program, pts)


@settings(max_examples=20, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_where_nonfinite], max_statements=3))
def test_programs_of_slopes_not_finite(program_files, case):
    """Many programs whose code meets an infinite slope where nothing moves: np.where's
    side not taken, a power series at an exact 0, and distances with no mask (round
    63a: ``np.exp(-np.sqrt(sq))`` had a nan gradient, sqrt's slope at the diagonal
    times the slope 0 of ``(p_i - p_i) ** 2``; the zero-safe rerun reads it as 0)."""
    program, pts = case
    check_program(program_files, program, pts)


@settings(max_examples=30, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_dicts], max_statements=4))
def test_programs_of_dicts_merged(program_files, case):
    """Many programs with dicts made, merged by ``|`` and ``|=``, made from pairs, and
    looped over by a set of their keys (round 59: silently zero, wrong, or a crash)."""
    program, pts = case
    check_program(program_files, program, pts)


@settings(max_examples=30, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_through_sum], min_params=2, max_params=3,
                  max_statements=3))
def test_programs_of_parameters_through_their_sum(program_files, case):
    """Loops over two parameters made functions of their sum (``x = x + y``), where the
    forward-mode gradient computes one tangent for both; and the near miss, where one of
    them is read alone as well, and must keep its own."""
    program, pts = case
    check_program(program_files, program, pts)


@settings(max_examples=15, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_square_of_root], max_statements=3))
def test_programs_of_squares_of_roots(program_files, case):
    """Roots kept in a name, then squared (``r = math.hypot(u, v); w = -r * r``): srcad
    gives the square its own derivative, over the root's argument; checked four ways,
    and against differences of the gradient where the program's hvp is."""
    program, pts = case
    check_program(program_files, program, pts)


@settings(max_examples=5, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_draw], max_statements=3))
def test_programs_of_random_draws(program_files, case):
    """Uniform draws between values of the program (``w = rng.uniform(u, v)``) from a
    generator with a fixed seed, after draws whose value is not read: each draw runs
    once, where it stands, and its derivative is along its path (stop 51: a draw that
    matched a rule was dropped when its value was not read)."""
    program, pts = case
    check_program(program_files, program, pts)


@settings(max_examples=8, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_walrus], max_statements=3))
def test_programs_of_assignment_expressions(program_files, case):
    """Assignment expressions first in their statement and in comprehensions (refused
    before this stop but in an `if` test): read as assignments, and as clauses binding
    one value (``for d in [v]``)."""
    program, pts = case
    check_program(program_files, program, pts)


@settings(max_examples=20, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_numpy_items], max_statements=3))
def test_programs_of_items_of_numpy_numbers(program_files, case):
    """Programs reading an item of a reduction's numpy number back (``s[()]``,
    ``s[None]``, ``s[..., None]``; round 64a: a TypeError in the backward pass)."""
    program, pts = case
    check_program(program_files, program, pts)


@settings(max_examples=20, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_tables], max_statements=3))
def test_programs_of_tables_of_rows(program_files, case):
    """Tables kept as lists of lists, filled row by row (``T[i][j] = ...``) and read by
    items, rows and loops over rows (refused before stop 45). First derivatives: the
    second derivative of ``T[i][j] += v`` in a loop is refused, as that of ``xs[i] += v``
    is (test_lists_of_lists checks second derivatives of tables written by ``=``)."""
    program, pts = case
    check_program(program_files, program, pts, second_order=False)


@settings(max_examples=20, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_constant_helper], max_statements=3))
def test_programs_of_helpers_decided_by_a_constant(program_files, case):
    """Helpers called with a constant that decides their code: a list grown after its
    display before ``len`` decides (stop 46: decided on the display's length), a
    comprehension binding the constant's name, recursion on ``n // 2`` and ``n % 2``,
    ``match``."""
    program, pts = case
    check_program(program_files, program, pts)


@settings(max_examples=22, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_object_helper], max_statements=3))
def test_programs_of_objects_made_and_stepped_in_loops(program_files, case):
    """Helpers that make objects of numbers and update them in loops (a method stepping
    a body, two names for one object, coupled bodies, a dict's state swapped by
    ``update``, an object rebuilt each iteration, a loop over a display of bodies): the
    float version keeps their fields' adjoints as numbers (stop 47; a loop over a display
    of them from stop 48, lowered item by item); ``update`` evaluated its values one write
    at a time."""
    program, pts = case
    check_program(program_files, program, pts)


@settings(max_examples=2, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_deep], max_statements=2))
def test_programs_of_deep_code(program_files, case):
    """Programs with a sum of 200-260 terms or an elif chain of 100-110 tests (round 59: a
    RecursionError in srcad, and generated code nested too deep for Python). First
    derivatives only: srcad's second derivative of such a chain takes minutes (left open)."""
    program, pts = case
    check_program(program_files, program, pts, second_order=False)


@settings(max_examples=8, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_list_on_one_path], max_statements=2))
def test_programs_of_lists_changed_on_one_path_of_a_loop(program_files, case):
    """A list changed on one path of a loop and read after the join in the same
    iteration (round 91, silently wrong since stop 31: a gradient of zeros from the
    version for floats)."""
    program, pts = case
    check_program(program_files, program, pts)


@settings(max_examples=8, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_quantiles], max_statements=2))
def test_programs_of_quantiles_over_several_axes(program_files, case):
    """Medians, quantiles and percentiles (and their nan-versions) over a tuple of axes, with
    and without keepdims, a level or two (round 87: np.moveaxis crashed in the adjoint).
    First derivatives: srcad refuses an order statistic's second derivative."""
    program, pts = case
    check_program(program_files, program, pts, second_order=False)


@settings(max_examples=8, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_flat], max_statements=2))
def test_programs_of_flat_items(program_files, case):
    """Reads and writes through ``A.flat[k]``: items, slices, listed positions (one twice),
    the diagonal of a Gram matrix (``G.flat[::n + 1] += lam``), a view's own C order
    (refused before stop 55)."""
    program, pts = case
    check_program(program_files, program, pts)


@settings(max_examples=6, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_quad], max_statements=2))
def test_programs_of_integrals(program_files, case):
    """``scipy.integrate.quad`` of smooth integrands (lambdas of closed-over values or of
    ``args=``, nested defs) with the derivative in what they read and in the limits
    (Leibniz's rule; refused before stop 55). First derivatives: srcad refuses quad's
    second derivative. (This generator found that the version for floats of ``quad(...,
    args=(w,))[0]`` always fell back to the array version, taking ``args`` for a list of
    lists, so the listing changed at the first call: (5).)"""
    program, pts = case
    check_program(program_files, program, pts, second_order=False)


def check_record_program(files: ProgramFiles, program) -> None:
    """``check_four_ways`` of a :func:`programs.record_root_programs` function, at its
    arguments (records differentiated field by field), to the tolerances of (1)."""
    module = files.load(record_module_source(program), subdir="records")
    check_four_ways(module.f, *record_arguments(module, program), rtol=RTOL, atol=ATOL)


@settings(max_examples=10, **COMMON)
@seed(BATCH_SEED)
@given(program=record_root_programs())
def test_programs_of_records_through_root_finders(program_files, program):
    """Records taken out of a list or a dict the function is given (``bond = bonds[k]``,
    ``for bond in book["bonds"]`` through ``args=``, ``book["second"]``), or a list of
    numbers, read by the lambda a root finder solves, directly or through a helper (round
    88: a TypeError in the adjoint; a list's tangent, a ValueError)."""
    check_record_program(program_files, program)


@settings(max_examples=3, **{**COMMON, "phases": [Phase.explicit, Phase.generate]})
@seed(BATCH_SEED)
@given(program=record_root_programs(forms=("indexed",), max_statements=1))
def test_programs_of_records_indexed_inside_root_finders(program_files, program):
    """As above, with the record read by index inside the lambda (found by this
    generator: a list of records taken for a list of numbers in the adjoint, TypeError)."""
    check_record_program(program_files, program)


@pytest.mark.parametrize("kind", REFUSED_KINDS, ids=lambda kind: kind.__name__)
@settings(max_examples=10, **COMMON)
@seed(BATCH_SEED)
@given(data=st.data())
def test_programs_refused_at_the_line(program_files, kind, data):
    """One statement srcad must refuse among random valid ones, at a drawn place: ``A.flat``
    read as a value (round 89: a TypeError in the generated code), a function given to a
    root finder or quad that changes what it did not make (round 88: silently wrong), an
    integrand comparing its variable with a value that moves (silently wrong). The
    refusal is a ``srcad.SrcadError`` at that statement's line of the generated file."""
    program = data.draw(programs(statement_kinds=STRAIGHT_KINDS, required=kind,
                                 max_statements=5), label="program")
    pt = data.draw(points(len(program.params), max_size=1), label="point")[0]
    module = program_files.load(module_source([program]), subdir="refused")
    f = module.f
    line = f.__code__.co_firstlineno + refused_line(program.source()) - 1
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(f, wrt=tuple(range(len(program.params))))(*pt)
    assert (info.value.filename, info.value.lineno) == (f.__code__.co_filename, line), (
        f"refused at {info.value.filename}:{info.value.lineno}, not at line {line}: "
        f"{info.value.one_line()}")
    assert re.search(REFUSAL_REASONS[kind.__name__], info.value.message), (
        f"refused for another reason: {info.value.one_line()}")


@pytest.mark.parametrize("made", [
    np.array, np.float64,  # (np.float64 found by this generator: AttributeError)
], ids=["0-d array", "np.float64"])
@settings(max_examples=8, **{**COMMON, "phases": [Phase.explicit, Phase.generate]})
@seed(BATCH_SEED)
@given(data=st.data())
def test_programs_of_0d_array_parameters(program_files, made, data):
    """Parameters given as 0-d arrays (``np.array(v)``; numpy scalars, ``np.float64(v)``),
    copied and changed in place by the program, with ``jvp`` tangents given as plain numbers
    (round 87: AttributeError in the tangent code, ``t.copy()``): the value and the
    directional derivative along each parameter agree with central differences of the
    function of floats, and ``grad``'s. (The numpy scalars' case copies by the method,
    ``x.copy()``, where its bug was.)"""
    first = s_zero_d if made is np.array else s_zero_d_method
    program, pts = data.draw(cases(statement_kinds=[*STRAIGHT_KINDS, s_numpy], first=first,
                                   max_statements=3), label="case")
    module = program_files.load(module_source([program]), subdir="zero_d")
    f = module.f
    n = len(program.params)
    every = tuple(range(n))
    g = srcad.grad(f, wrt=every)
    tangent = srcad.jvp(f)

    def of_floats(*xs):
        return float(f(*(made(x) for x in xs)))

    for pt in pts:
        arrays = tuple(made(x) for x in pt)
        want = numeric_grad(of_floats, pt, range(n))
        got = tuple(float(v) for v in as_tuple(g(*arrays), n))
        for k in range(n):
            direction = tuple(1.0 if i == k else 0.0 for i in range(n))  # (plain numbers)
            value, dot = tangent(arrays, direction)
            assert float(value) == of_floats(*pt)
            assert close(float(dot), got[k], FORWARD_RTOL, FORWARD_ATOL), (k, dot, got)
            assert abs(got[k] - want[k]) <= ATOL + RTOL * abs(want[k]), (k, got, want)


@pytest.mark.slow
def test_random_programs_slow(program_files):
    """SLOW_EXAMPLES programs (about 2 hours on 2 cores): ``pytest -m slow``."""
    stats = run_batch(program_files, SLOW_EXAMPLES)
    assert stats["programs"] >= SLOW_EXAMPLES


# ---------------------------------------------------------------- determinism across processes

_DUMP_SOURCES = """
import importlib.util, json, sys
import srcad
spec = importlib.util.spec_from_file_location("batch", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["batch"] = module
spec.loader.exec_module(module)
out = {}
for name in sys.argv[2:]:
    f = getattr(module, name)
    every = tuple(range(f.__code__.co_argcount))
    try:
        out[name] = [srcad.grad(f, wrt=every).backward_source,
                     srcad.grad(f, wrt=every, optimize=False).backward_source]
    except srcad.SrcadError as error:  # a refusal: its message must not depend on the seed
        out[name] = [f"refused: {error}"] * 2
print(json.dumps(out))
"""


@settings(max_examples=2, **{**COMMON, "phases": [Phase.explicit, Phase.generate]})
@given(batch=st.lists(programs(), min_size=8, max_size=8))
def test_backward_source_independent_of_hash_seed(program_files, batch):
    """The generated source does not depend on the order of sets/dicts of str (hash
    randomization): build 8 programs in two fresh interpreters with different
    PYTHONHASHSEEDs and compare. (Fresh processes on both sides: comparing with this
    process would also flag srcad files edited while the suite runs. Independence
    from what this process built before is checked by the twin rebuild above.)
    Not shrunk: each example costs two interpreters; the message names the program."""
    names = [f"f{i}" for i in range(len(batch))]
    module = program_files.load(module_source(batch, names), subdir="hashseed")
    results = []
    for hash_seed in ("1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        proc = subprocess.run([sys.executable, "-c", _DUMP_SOURCES, module.__file__, *names],
                              capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        results.append(json.loads(proc.stdout))
    for name, program in zip(names, batch, strict=True):
        for k, label in enumerate(("optimize=True", "optimize=False")):
            one, two = results[0][name][k], results[1][name][k]
            assert one == two, (
                f"{label}: the backward source depends on PYTHONHASHSEED (1 vs 4242) for\n"
                f"{program.source(name)}\n" + "\n".join(difflib.unified_diff(
                    one.splitlines(), two.splitlines(), "seed 1", "seed 4242", lineterm="")))


# ---------------------------------------------------------------- kept failing programs

REGRESSION_FILES = sorted(REGRESSIONS.glob("*.py"))


@pytest.mark.parametrize("path", REGRESSION_FILES, ids=lambda p: p.stem)
def test_regression(path):
    """Every file in tests/regressions/: a module with ``POINTS = {function name: [points]}``;
    each function's gradient must match central differences (optimized and not)."""
    name = f"srcad_regression_{path.stem}"
    module = import_file(path, name)
    try:
        assert module.POINTS, f"{path.name} lists no functions to check"
        for fname, pts in module.POINTS.items():
            f = getattr(module, fname)
            n = len(inspect.signature(f).parameters)
            for optimize in (True, False):
                g = srcad.grad(f, wrt=tuple(range(n)), optimize=optimize)
                for pt in pts:
                    check_gradient(f, pt, n, g=g)
    finally:
        sys.modules.pop(name, None)


@settings(max_examples=8, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_int_powers], max_statements=2))
def test_programs_of_int_powers(program_files, case):
    """Ints to int powers weighting a float sum (``k ** 14 % 10``, ``2 ** (k - 3)``):
    exact ints and float results of negative exponents, as Python computes them."""
    program, pts = case
    check_program(program_files, program, pts)


#: the scalar kinds the numba backend compiles (its version for Python floats)
NUMBA_KINDS = [*STRAIGHT_KINDS, s_int_powers, s_list_on_one_path, *CONTROL_FLOW_KINDS]


@settings(max_examples=10, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=NUMBA_KINDS, first=s_int_powers, required=s_int_lists,
                  max_statements=4))
def test_scalar_programs_compiled_by_numba(program_files, case):
    """``backend="numba"`` gives the default backend's gradient, or refuses at a line of
    the program (round 91: an int power past 2**63 gave a silently wrong gradient; numba
    computes ``2 ** -3`` as the int 0; round 96: a list of int literals written with
    floats in a loop, ``s_int_lists``, was typed int64 and truncated them)."""
    pytest.importorskip("numba")
    program, pts = case
    module = program_files.load(module_source([program]))
    every = tuple(range(len(program.params)))
    want = as_tuple(srcad.grad(module.f, wrt=every)(*pts[0]), len(every))
    try:
        got = as_tuple(srcad.grad(module.f, wrt=every, backend="numba")(*pts[0]), len(every))
    except srcad.CompiledBackendError as refused:
        assert refused.filename == inspect.getsourcefile(module.f), str(refused)
        return
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@settings(max_examples=10, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_copies], max_statements=3))
def test_programs_of_copies(program_files, case):
    """``copy.copy`` of a float, an int and a list (round 94: an AttributeError in the
    generated code, ``x.copy()`` of a float)."""
    program, pts = case
    check_program(program_files, program, pts)


@settings(max_examples=10, **COMMON)
@seed(BATCH_SEED)
@given(case=cases(statement_kinds=[s_closures, *STRAIGHT_KINDS], required=s_closures,
                  max_statements=3))
def test_programs_with_closures(program_files, case):
    """Closures a factory returns, bound to names, called at once and given to a helper
    (rounds 94, 97: refused, "cannot pass it on as a value"), beside straight-line
    code."""
    program, pts = case
    check_program(program_files, program, pts)
