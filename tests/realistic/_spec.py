"""(A copy of /work/shared/realistic/cases/_spec.py: the runner imports it from the
cases folder.)

The spec every real-world case module uses.

Each module next to this one defines ``CASES``, a list of :class:`Case`. A case names a
function a user would differentiate, how to draw its arguments, what to differentiate
with respect to, and what the documentation leads a user to expect:

* ``expect="RIGHT"``: the docs say this is supported, so the gradient must be right;
* ``expect="LOCATED"``: the docs say this is refused, so srcad must raise SrcadError at
  the offending line.

``bad`` is a piece of text that must appear on the line a refusal points at (the
offending construct), so that a refusal pointing elsewhere counts as UNLOCATED.
``kind`` is ``"grad"`` (default), ``"hessian"`` (srcad.hessian, compared with central
differences of ``ref``, the analytic gradient) or ``"value_and_grad"``.
``ref`` (optional) is an analytic gradient from a library, checked in addition to the
central differences. ``msg`` (optional) lists words of which one must appear in a
refusal's message for it to count as clear; ``call_site_ok`` accepts a refusal located at
the ``srcad.grad(...)`` call (for errors about the callable itself). ``setup`` (optional)
runs once before the case (e.g. registers a rule, as the docs tell users to). ``note``
explains what the case is about.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Case:
    name: str
    fn: Callable
    args: Callable[[Any], tuple]  # rng -> positional arguments
    wrt: Any = None
    expect: str = "RIGHT"
    bad: str | None = None
    kind: str = "grad"
    ref: Callable | None = None
    setup: Callable | None = None
    note: str = ""
    points: int = 3
    kwargs: dict = field(default_factory=dict)
    # a case may declare that its function is a bound method or other callable whose
    # source lives elsewhere; the runner then accepts refusals located in these files
    extra_files: tuple = ()
    # for LOCATED: words of which at least one must appear in the message (a clear
    # message names the construct), and whether the srcad.grad call line is the right
    # place (errors about the callable itself: lambda, method, partial, builtin)
    msg: tuple = ()
    call_site_ok: bool = False
    # for kind="hessian": the library's Hessian, checked in addition
    ref_hess: Callable | None = None
