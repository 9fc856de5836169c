"""Random softmaxes and near misses: srcad's shift-invariance cut must never be wrong.

srcad drops the backward pass of the max subtracted before a softmax
(:func:`srcad.analyze.shift_invariant_cuts`), claiming that the readers of ``v = z - m``
do not change when ``v`` is shifted along ``m``'s axis. A wrong claim loses the term
``-(sum of dv along the axis) * dm/dz`` of the gradient, which central differences see.
Each program here is a softmax written over statements, changed in none, one or two of
these ways: the shift (max, min or mean, along an axis or every axis, kept or not, as a
method or a numpy function), the normaliser (a sum or a mean, along its own axis, kept
or not), the quotient (``e / s``, ``s / e``, ``e / (s + 1)``) and a reader of ``e`` or
``s`` that sees the shift (a log-sum-exp, a plain sum, one item). The matrices are
square, so that every combination runs (a normaliser without its axis kept divides along
another axis: one of the near misses). Every program's gradient is checked four ways
(``conftest.check_four_ways``), and the true softmaxes among them must be cut.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import check_four_ways, module_from_source
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import srcad
from srcad.analyze import shift_invariant_cuts
from srcad.frontend import read_function
from srcad.lower import lower

SHIFTS = ("max", "min", "mean")
AXES = (None, 0, 1)
QUOTIENTS = ("e / s", "s / e", "e / (s + 1.0)")
EXTRA_READERS = ("", " + np.sum(np.log(s))", " + np.sum(e)", " + e[0, 0]")
_counter = itertools.count()
_DRAWN = object()  # (an argument of softmax_forms left to the draw)


def _reduction(name: str, of: str, axis: int | None, keepdims: bool, method: bool) -> str:
    options = f"axis={axis}, keepdims={keepdims}"
    return f"{of}.{name}({options})" if method else f"np.{name}({of}, {options})"


#: one change each that makes a softmax move with its max (a near miss), or that the cut
#: leaves alone although the result is still invariant (a mean as the normaliser)
PERTURBATIONS = ("shift not kept", "another axis", "sum not kept", "mean", "quotient", "reader")


@st.composite
def softmax_forms(draw, axis=_DRAWN, changes=None):
    """(source of ``f(z, W)``, whether it is a true softmax the cut must find): a
    softmax along ``axis`` (drawn if not given), with the ``changes`` of
    :data:`PERTURBATIONS` (up to two drawn if not given)."""
    if axis is _DRAWN:
        axis = draw(st.sampled_from(AXES))
    if changes is None:
        changes = set(draw(st.lists(st.sampled_from(PERTURBATIONS), max_size=2)))
    keep = "shift not kept" not in changes or axis is None
    along = axis
    if "another axis" in changes:
        along = draw(st.sampled_from([a for a in AXES if a != axis]))
    keep_sum = "sum not kept" not in changes
    normaliser = "mean" if "mean" in changes else "sum"
    quotient = draw(st.sampled_from(QUOTIENTS[1:])) if "quotient" in changes else "e / s"
    extra = draw(st.sampled_from(EXTRA_READERS[1:])) if "reader" in changes else ""
    shift = draw(st.sampled_from(SHIFTS))
    source = (
        "import numpy as np\n\n\n"
        "def f(z, W):\n"
        f"    m = {_reduction(shift, 'z', axis, keep, draw(st.booleans()))}\n"
        "    v = z - m\n"
        "    e = np.exp(v)\n"
        f"    s = {_reduction(normaliser, 'e', along, keep_sum, draw(st.booleans()))}\n"
        f"    p = {quotient}\n"
        f"    return np.sum(p * W){extra}\n"
    )
    shift_is_constant = axis is None or keep  # (along its axis, or every axis)
    softmax = (
        shift_is_constant and normaliser == "sum" and quotient == "e / s" and not extra
        and (along is None or keep_sum) and (axis is None or along == axis)
    )
    return source, softmax


def check(folder, form) -> None:
    """``form``'s gradient four ways; a true softmax must be cut."""
    source, softmax = form
    module = module_from_source(folder, f"softmax_form_{next(_counter)}", source)
    rng = np.random.default_rng(5)
    z, W = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    check_four_ways(module.f, z, W, wrt=("z",), rtol=1e-6, atol=1e-8)
    cuts = shift_invariant_cuts(lower(read_function(module.f)))
    if softmax:  # (a true softmax: its max gets no backward pass)
        assert cuts and "extremum_grad" not in srcad.grad(module.f).backward_source, source


SETTINGS = dict(deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("change", ("", *PERTURBATIONS))
@pytest.mark.parametrize("axis", AXES)
@settings(max_examples=3, **SETTINGS)
@given(data=st.data())
def test_each_near_miss_along_each_axis(tmp_path, axis, change, data):
    """Every single change along every axis (the spellings, the shift and the quotient or
    reader a change puts in drawn): the near misses a cut could get wrong one by one."""
    check(tmp_path, data.draw(softmax_forms(axis, {change} - {""})))


@settings(max_examples=30, **SETTINGS)
@given(form=softmax_forms())
def test_random_softmaxes_and_near_misses_have_right_gradients(tmp_path, form):
    check(tmp_path, form)
