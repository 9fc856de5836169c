"""Stand-ins for SciPy functions that call SciPy (see :mod:`srcad.stand_ins`): imported
only once a program calls the function they stand in for, so SciPy is loaded then."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg


def cho_factor(
    a: Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True
) -> tuple[Any, bool]:
    """``scipy.linalg.cho_factor``: the Cholesky factor of ``a`` from its ``lower`` or
    upper triangle, in that triangle; the other holds ``a``'s own entries there, as
    LAPACK leaves them; in Fortran order, as SciPy returns it (its solves round by it)."""
    a = np.asarray(a)
    factor = scipy.linalg.cholesky(a, lower=lower)
    return np.asfortranarray(factor + (np.triu(a, 1) if lower else np.tril(a, -1))), lower


def cho_solve(
    c_and_lower: Any, b: Any, overwrite_b: bool = False, check_finite: bool = True
) -> Any:
    """``scipy.linalg.cho_solve``: ``A x = b`` for the ``A`` whose Cholesky factor is in
    ``c_and_lower`` (:func:`cholesky_solve`, which has a rule, on the tuple's parts)."""
    c, lower = c_and_lower
    return cholesky_solve(c, lower, b)


def cholesky_solve(c: Any, lower: bool, b: Any) -> Any:
    """SciPy's ``cho_solve((c, lower), b)``, its factor and flag given apart."""
    return scipy.linalg.cho_solve((c, lower), b)


def lu_solve(
    lu_and_piv: Any, b: Any, trans: int = 0, overwrite_b: bool = False,
    check_finite: bool = True,
) -> Any:
    """``scipy.linalg.lu_solve``: ``A x = b`` (``trans``: ``A^T x = b``) for the ``A``
    whose factors ``lu_factor`` packed (:func:`factored_solve`, which has a rule, on the
    tuple's parts)."""
    lu, piv = lu_and_piv
    return factored_solve(lu, piv, b, trans)


def factored_solve(lu: Any, piv: Any, b: Any, trans: int) -> Any:
    """SciPy's ``lu_solve((lu, piv), b, trans)``, its factor and pivots given apart."""
    return scipy.linalg.lu_solve((lu, piv), b, trans=trans)
