"""Derivative rules for ``scipy.signal``, loaded once a program has imported it (see
:mod:`srcad.rules.scipy_special`). ``lfilter`` itself is read as a stand-in
(:mod:`srcad.stand_ins`)."""

from __future__ import annotations

import scipy
import scipy.signal

from .numpy_arrays import ENV
from .table import defrule

#: The steady state of a filter's delays for a unit step (``zi = lfilter_zi(b, a) *
#: x[0]``): run as SciPy computes it; its coefficients are refused where they depend on
#: the inputs (srcad has no derivative in them).
defrule("scipy.signal.lfilter_zi(b, a)", env={**ENV, "scipy": scipy}, b=None, a=None,
        orders=("b", "a"))
