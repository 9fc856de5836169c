"""Realistic programs (tests/realistic/*.py, in the case format of the shared kit's runner):
recurrences in preallocated arrays, in-place updates, views and aliases, scatter writes and
masked math, written the way people write them. Each case is checked four ways
(:func:`conftest.check_four_ways`) at one random point.

The same modules run under the kit's runner too:
``python ../shared/realistic/run.py --cases tests/realistic``."""

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import check_four_ways

CASES_DIR = Path(__file__).parent / "realistic"
MODULES = (
    "arrays_loops", "scatter_where", "views_aliases", "memory_later",  # issue 12
    "rr_learning", "rr_physics", "rr_statistics",  # rules of issue 14
    "context_try",  # with blocks, try statements, dicts (issue 14)
    "objects",  # parameters held in objects, methods, partials, lambdas (issue 14)
    "lists",  # lists built by append, comprehensions, buffers (issue 14)
    "stop26",  # the classes the adversarial rounds of stop 26 found
    "stop29",  # scipy.stats, lstsq, meshgrid, decorators, super(), keys, float64 (stop 29)
    "stop30",  # lists to numpy, overlapping in-place views, copied dicts (stop 30)
    "stop31",  # in-place list, array and dict methods, spliced lists, counts (stop 31)
    "objects_inside",  # objects of the user's classes made inside the function
    "stop32",  # arrays read item by item, rows, helpers' globals, sorted(key=) (stop 32)
    "stop33",  # out= arrays, random draws, helpers updating state lists, f-string keys (stop 33)
    "stop34",  # saved values in loops, powers at 0, logaddexp from -inf, tuple choices (stop 34)
    "stop35",  # list changes reading the list, module-level tables, slices (stop 35)
    "stop36",  # lists changed in place in loops, xp = np, functions chosen by a setting
    "stop37",  # generators read later, functions defined in loops, numpy of floats
    "stop38",  # loop exits and else, objects (truth, setitem, replace), KL zeros, guards
    "stop39",  # deep code, dict unions and pairs, harmless keywords, scipy factorizations
    "stop40",  # one array held by two objects, dict keys, nested dicts, repeated lists
    "stop41",  # scalar solvers and integrators, list parameters, filters, tuples by index
    "stop42",  # distances, expm, NaN quantiles, truncation, memory-order views, kept lists
    "stop43",  # log-space recursions from -inf, logs of structural zeros, lists kept by methods
    "stop44",  # closures of one factory twice, items of numpy numbers, cdist and xlogy Hessians
    "stop45",  # tables of rows, function arguments, recurrences into arrays, scipy integrals
    "stop46",  # recursion on constants, match, positional options, held functions
    "stop47",  # objects made inside, rows item by item, frozen distributions, norms at 0
    "stop48",  # objects in lists, list parameters written, stable losses at 0, eigh, refusals
    "stop49",  # special and stats families, cho_solve, lfilter, simpson, scratch buffers
    "stop50",  # functions in global containers, gradients through sums, squares of roots
    "stop51",  # rows handed over, local keys, states rebuilt or copied, draws, statistics, SciPy
    "stop52",  # `:=`, statistics read, random.Random inside, numpy 2, roots of records, .flat
    "stop53",  # softmaxes over statements, np.diff, diagonals, small arrays every step
    "stop54",  # fields named like arrays', classes' own items/pop/__contains__, partials
    "stop55",  # ndimage/signal filters, structured matrices, normalising records, closures
    "integrate_programs",  # quad, odeint, solve_ivp: kinetics, epidemics, hazards, densities
    "optimize_programs",  # fsolve, root, root_scalar: equilibria, steady states, volatilities
    "numpy_breadth",  # scatters and segments, .flat, zip(*M), *params, slices, piecewise, fft
    "namedtuple_programs",  # namedtuples made inside, alternative constructors
    "iterator_programs",  # itertools iterators, ndenumerate, stepped slices, grouping dicts
)


def _cases():
    sys.path.insert(0, str(CASES_DIR))
    try:
        for module in MODULES:
            for case in importlib.import_module(module).CASES:
                yield pytest.param(case, id=f"{module}.{case.name}")
    finally:
        sys.path.remove(str(CASES_DIR))


CASES = list(_cases())


@pytest.mark.parametrize("case", [c for c in CASES if c.values[0].expect == "RIGHT"])
def test_realistic_case(case):
    assert case.expect == "RIGHT" and case.kind in ("grad", "hessian"), "every case is supported"
    args = case.args(np.random.default_rng(7))
    wrt = case.wrt if case.wrt is not None else None
    check_four_ways(case.fn, *args, wrt=wrt, rtol=1e-5, atol=1e-7)
    if case.kind == "hessian":  # (of a vector parameter: against differences of `ref`)
        import srcad

        x = np.asarray(args[wrt], dtype=float)
        hessian = srcad.hessian(case.fn, wrt=wrt)(*args)
        h = 1e-5
        columns = [(case.ref(x + h * e) - case.ref(x - h * e)) / (2 * h) for e in np.eye(x.size)]
        np.testing.assert_allclose(hessian, np.array(columns).T, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("case", [c for c in CASES if c.values[0].expect == "LOCATED"])
def test_realistic_refusal_names_the_line(case):
    """A case the docs say is refused: a SrcadError at the line holding ``case.bad``."""
    import inspect

    import srcad

    wrt = case.wrt if case.wrt is not None else None
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(case.fn, wrt=wrt)(*case.args(np.random.default_rng(7)))
    e = info.value
    lines, first = inspect.getsourcelines(case.fn)
    assert e.filename == inspect.getsourcefile(case.fn), str(e)
    assert case.bad in lines[e.lineno - first], f"line {e.lineno} lacks {case.bad!r}: {e}"
