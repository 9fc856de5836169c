"""Derivative rules for ``scipy.linalg``, loaded once a program has imported it (see
:mod:`srcad.rules.scipy_special`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy
import scipy.linalg

from ..stand_ins_scipy import cholesky_solve, factored_solve
from .numpy_arrays import ENV
from .numpy_grads import solve_grad_a, unbroadcast
from .numpy_linalg import DET, INV
from .table import defrule

SL = {**ENV, "scipy": scipy}

#: SciPy's norm is numpy's (with BLAS for the 2-norm of a vector): the same derivative.
defrule(
    "scipy.linalg.norm(x, ord=None, axis=None, keepdims=False, check_finite=True)",
    env=SL,
    check_finite=None,
    x="norm_grad(g, x, ans, ord, axis, keepdims)",
    tangents={"x": "norm_tangent(t, x, ans, ord, axis, keepdims)"},
)


_COPYING: dict[str, Any] = {"overwrite_a": None, "check_finite": None}
#: ``assume_a`` values under which scipy's solve reads one triangle of a symmetric matrix
_SYMMETRIC = ("sym", "symmetric", "pos", "positive definite", "her", "hermitian")


def _swapped(m: Any) -> Any:
    return np.swapaxes(m, -1, -2)


def solved_matrix(a: Any, assume_a: Any, lower: bool, transposed: bool) -> Any:
    """The matrix ``scipy.linalg.solve(a, b, lower=, assume_a=, transposed=)`` solves
    with: ``a`` itself, or the symmetric matrix of its ``lower`` (else upper) triangle, or
    the part a structure names (a triangle, the diagonal, three diagonals); transposed."""
    if assume_a in _SYMMETRIC:
        m = np.tril(a) + _swapped(np.tril(a, -1)) if lower else np.triu(a) + _swapped(np.triu(a, 1))
    elif assume_a == "upper triangular":
        m = np.triu(a)
    elif assume_a == "lower triangular":
        m = np.tril(a)
    elif assume_a == "diagonal":
        m = np.triu(np.tril(a))
    elif assume_a == "tridiagonal":
        m = np.triu(np.tril(a, 1), -1)
    else:  # (general, and banded: its band is read from a's nonzeros, so all of them)
        m = a
    return _swapped(m) if transposed else m


def solve_assumed_grad_a(
    g: Any, a: Any, b: Any, ans: Any, assume_a: Any, lower: bool, transposed: bool
) -> Any:
    """Adjoint of scipy's solve for ``a``: numpy's, for the matrix it solves with, carried
    back to the entries of ``a`` that scipy reads (a symmetric matrix's triangle gets the
    adjoints of both of its mirror entries)."""
    m = solved_matrix(a, assume_a, lower, transposed)
    adjoint = solve_grad_a(g, m, b, ans)
    adjoint = _swapped(adjoint) if transposed else adjoint
    if assume_a in _SYMMETRIC:
        if lower:
            return np.tril(adjoint) + np.tril(_swapped(adjoint), -1)
        return np.triu(adjoint) + np.triu(_swapped(adjoint), 1)
    return solved_matrix(adjoint, assume_a, lower, False)  # (the part it reads)


#: scipy.linalg's solve is numpy's for the matrix it reads (:func:`solved_matrix`); its
#: inv and det of general matrices are numpy's (options that only copy or check keep no
#: gradient).
_SOLVED = "solved_matrix(a, assume_a, lower, transposed)"
defrule(
    "scipy.linalg.solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, "
    "check_finite=True, assume_a=None, transposed=False)",
    env={**SL, "solved_matrix": solved_matrix, "solve_assumed_grad_a": solve_assumed_grad_a},
    overwrite_b=None, lower=None, assume_a=None, transposed=None, **_COPYING,
    a="solve_assumed_grad_a(g, a, b, ans, assume_a, lower, transposed)",
    b=f"solve_grad_b(g, {_SOLVED}, b)",
    tangents={
        "a": f"solve_tangent_a(solved_matrix(t, assume_a, lower, transposed), {_SOLVED}, b, ans)",
        "b": f"np.linalg.solve({_SOLVED}, t)",
    },
)
defrule("scipy.linalg.inv(a, overwrite_a=False, check_finite=True)", env=SL, **_COPYING, **INV)
defrule("scipy.linalg.det(a, overwrite_a=False, check_finite=True)", env=SL, **_COPYING, **DET)


def _triangle(m: Any, lower: bool, unit_diagonal: bool) -> Any:
    """The part of ``m`` that ``solve_triangular`` reads (without a unit diagonal)."""
    if lower:
        return np.tril(m, -1 if unit_diagonal else 0)
    return np.triu(m, 1 if unit_diagonal else 0)


def _transposed(trans: Any) -> bool:
    """``solve_triangular``'s ``trans`` asks for ``a^T x = b`` (real: ``C`` is ``T``)."""
    return trans not in (0, "N")


def flipped(trans: Any) -> int:
    """The ``trans`` of the transposed solve."""
    return 0 if _transposed(trans) else 1


def solve_triangular_grad_a(
    g: Any, a: Any, ans: Any, trans: Any, lower: bool, unit_diagonal: bool
) -> Any:
    """Adjoint of ``solve_triangular`` for ``a``: ``-op(T)^-T g x^T`` (transposed back
    for ``trans``), on the triangle read; summed over the stacked right-hand sides that
    one ``a`` solves (SciPy's batches: ``b`` of shape ``(k, n, m)``)."""
    gb = scipy.linalg.solve_triangular(
        a, g, flipped(trans), lower=lower, unit_diagonal=unit_diagonal
    )
    if np.ndim(ans) == 1:
        outer = -np.multiply.outer(gb, ans)
    else:
        outer = unbroadcast(-(gb @ np.swapaxes(ans, -1, -2)), np.shape(a))
    return _triangle(np.swapaxes(outer, -1, -2) if _transposed(trans) else outer, lower,
                     unit_diagonal)


def solve_triangular_tangent_a(
    t: Any, a: Any, ans: Any, trans: Any, lower: bool, unit_diagonal: bool
) -> Any:
    """Tangent of ``solve_triangular`` for ``a``: ``-op(T)^-1 op(dT) x``."""
    change = _triangle(t, lower, unit_diagonal)
    change = np.swapaxes(change, -1, -2) if _transposed(trans) else change
    return -scipy.linalg.solve_triangular(
        a, change @ ans, trans, lower=lower, unit_diagonal=unit_diagonal
    )


#: ``x = op(T)^-1 b`` for ``T`` the triangle of ``a`` that is read (Cholesky factors:
#: Gaussian-process code).
defrule(
    "scipy.linalg.solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, "
    "overwrite_b=False, check_finite=True)",
    env={**SL, "flipped": flipped, "solve_triangular_grad_a": solve_triangular_grad_a,
         "solve_triangular_tangent_a": solve_triangular_tangent_a},
    trans=None, lower=None, unit_diagonal=None, overwrite_b=None, check_finite=None,
    a="solve_triangular_grad_a(g, a, ans, trans, lower, unit_diagonal)",
    b="unbroadcast(scipy.linalg.solve_triangular(a, g, flipped(trans), lower=lower, "
    "unit_diagonal=unit_diagonal), b)",
    tangents={
        "a": "solve_triangular_tangent_a(t, a, ans, trans, lower, unit_diagonal)",
        "b": "scipy.linalg.solve_triangular(a, t, trans, lower=lower, "
        "unit_diagonal=unit_diagonal)",
    },
)


def _factor(c: Any, lower: bool) -> Any:
    """The Cholesky factor ``cho_solve`` reads from ``c`` (``cho_factor``'s other triangle
    holds the matrix's own entries)."""
    return np.tril(c) if lower else np.triu(c)


def cholesky_solve_grad_c(g: Any, c: Any, lower: bool, ans: Any) -> Any:
    """Adjoint of ``x = A^-1 b`` for the factor ``F`` in ``c``: ``A = F F^T`` (lower) or
    ``F^T F``, ``dA = -A^-1 g x^T``, then ``(dA + dA^T) F`` or ``F (dA + dA^T)`` on the
    triangle read."""
    gb = cholesky_solve(c, lower, g)
    outer = -np.multiply.outer(gb, ans) if np.ndim(ans) == 1 else -(gb @ ans.T)
    both = outer + outer.T
    if lower:
        return np.tril(both @ _factor(c, lower))
    return np.triu(_factor(c, lower) @ both)


def cholesky_solve_tangent_c(t: Any, c: Any, lower: bool, ans: Any) -> Any:
    """Tangent of ``x = A^-1 b`` for the factor: ``-A^-1 dA x``, ``dA`` from the factor's
    change ``dF`` (``dF F^T + F dF^T``, or ``dF^T F + F^T dF``)."""
    change, factor = _factor(t, lower), _factor(c, lower)
    if lower:
        moved = change @ factor.T + factor @ change.T
    else:
        moved = change.T @ factor + factor.T @ change
    return -cholesky_solve(c, lower, moved @ ans)


#: ``cho_solve((c, lower), b)`` (read as :func:`srcad.stand_ins_scipy.cho_solve`): SciPy's
#: own solve, so its values are SciPy's to the last bit.
defrule(
    "cholesky_solve(c, lower, b)",
    env={**SL, "cholesky_solve": cholesky_solve, "cholesky_solve_grad_c": cholesky_solve_grad_c,
         "cholesky_solve_tangent_c": cholesky_solve_tangent_c},
    lower=None,
    c="cholesky_solve_grad_c(g, c, lower, ans)",
    b="cholesky_solve(c, lower, g)",
    tangents={"c": "cholesky_solve_tangent_c(t, c, lower, ans)",
              "b": "cholesky_solve(c, lower, t)"},
)


def _row_order(piv: Any) -> Any:
    """The rows of ``A`` in the order LAPACK's pivots (``lu_factor``'s ``piv``, row ``i``
    swapped with row ``piv[i]`` in turn) put them: ``A[order] = L U``."""
    order = np.arange(len(piv))
    for i, j in enumerate(piv):
        order[[i, j]] = order[[j, i]]
    return order


def _unit_lower(lu: Any) -> Any:
    return np.tril(lu, -1) + np.eye(lu.shape[-1])


def lu_factor_grad(g: Any, a: Any, ans: Any) -> Any:
    """Adjoint of ``lu, piv = lu_factor(a)`` (``a[order] = L U``, packed in ``lu``): with
    ``X = L^-1 dA[order] U^-1``, ``dL = L tril(X, -1)`` and ``dU = triu(X) U``, so
    ``gA[order] = L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T``."""
    lu, piv = ans
    g_lu = g[0] if isinstance(g, tuple | list) else g
    lower, upper = _unit_lower(lu), np.triu(lu)
    middle = np.tril(lower.T @ np.tril(g_lu, -1), -1) + np.triu(np.triu(g_lu) @ upper.T)
    rows = scipy.linalg.solve_triangular(lower, middle, trans=1, lower=True,
                                         unit_diagonal=True)
    ordered = scipy.linalg.solve_triangular(upper, rows.T, trans=0, lower=False).T
    out = np.zeros_like(ordered)
    out[_row_order(piv)] = ordered
    return out


def lu_factor_tangent(t: Any, a: Any, ans: Any) -> tuple:
    """Tangent of ``lu, piv = lu_factor(a)``: ``X = L^-1 dA[order] U^-1``, ``dL = L
    tril(X, -1)`` below the diagonal and ``dU = triu(X) U`` on and above it; the pivots'
    tangent is 0."""
    lu, piv = ans
    lower, upper = _unit_lower(lu), np.triu(lu)
    rows = scipy.linalg.solve_triangular(lower, t[_row_order(piv)], lower=True,
                                         unit_diagonal=True)
    x = scipy.linalg.solve_triangular(upper, rows.T, trans=1, lower=False).T
    return lower @ np.tril(x, -1) + np.triu(x) @ upper, np.zeros(np.shape(piv))


def factored_solve_grad_lu(g: Any, lu: Any, piv: Any, ans: Any, trans: int) -> Any:
    """Adjoint of ``x = lu_solve((lu, piv), b, trans)`` for the packed factor: ``gA =
    -A^-T g x^T`` (transposed for ``trans``), then ``gL = gM U^T`` below the diagonal and
    ``gU = L^T gM`` on and above it, for ``gM = gA[order]``."""
    back = factored_solve(lu, piv, g, flipped(trans))
    outer = -np.multiply.outer(back, ans) if np.ndim(ans) == 1 else -(back @ ans.T)
    g_a = outer.T if _transposed(trans) else outer
    g_m = g_a[_row_order(piv)]
    lower, upper = _unit_lower(lu), np.triu(lu)
    return np.tril(g_m @ upper.T, -1) + np.triu(lower.T @ g_m)


def factored_solve_tangent_lu(t: Any, lu: Any, piv: Any, ans: Any, trans: int) -> Any:
    """Tangent of ``x = lu_solve((lu, piv), b, trans)`` for the packed factor: ``-A^-1 dA
    x`` (``A^-T dA^T x`` for ``trans``), ``dA[order] = dL U + L dU``."""
    lower, upper = _unit_lower(lu), np.triu(lu)
    moved = np.tril(t, -1) @ upper + lower @ np.triu(t)
    change = np.zeros_like(moved)
    change[_row_order(piv)] = moved
    return -factored_solve(lu, piv, (change.T if _transposed(trans) else change) @ ans, trans)


#: ``lu, piv = lu_factor(a)`` (SciPy's own, by its rule) and ``lu_solve((lu, piv), b)``
#: (read as :func:`srcad.stand_ins_scipy.lu_solve`: SciPy's own solve, by the rule of
#: ``factored_solve``): the pivots are integers, with no gradient.
defrule(
    "scipy.linalg.lu_factor(a, overwrite_a=False, check_finite=True)",
    env={**SL, "lu_factor_grad": lu_factor_grad, "lu_factor_tangent": lu_factor_tangent},
    **_COPYING,
    a="lu_factor_grad(g, a, ans)",
    tangents={"a": "lu_factor_tangent(t, a, ans)"},
)
defrule(
    "factored_solve(lu, piv, b, trans)",
    env={**SL, "factored_solve": factored_solve, "factored_solve_grad_lu": factored_solve_grad_lu,
         "factored_solve_tangent_lu": factored_solve_tangent_lu, "flipped": flipped},
    piv=None, trans=None,
    lu="factored_solve_grad_lu(g, lu, piv, ans, trans)",
    b="factored_solve(lu, piv, g, flipped(trans))",
    tangents={"lu": "factored_solve_tangent_lu(t, lu, piv, ans, trans)",
              "b": "factored_solve(lu, piv, t, trans)"},
)


def triangle_named(lower: Any) -> str:
    """numpy's name (``UPLO``) of the triangle scipy's ``lower`` picks."""
    return "L" if lower else "U"


#: scipy.linalg's Cholesky factor is the upper one by default (``lower=False``), and its
#: eigh reads the lower triangle by default: numpy's rules, told which triangle.
defrule(
    "scipy.linalg.cholesky(a, lower=False, overwrite_a=False, check_finite=True)",
    env={**SL, "triangle_named": triangle_named}, lower=None, **_COPYING,
    a="cholesky_grad(g, a, ans, not lower)",
    tangents={"a": "cholesky_tangent(t, a, ans, not lower)"},
)
defrule(
    "scipy.linalg.eigh(a, lower=True, overwrite_a=False, check_finite=True)",
    env={**SL, "triangle_named": triangle_named}, lower=None, **_COPYING,
    a="eigh_grad(g, a, ans, triangle_named(lower))",
    tangents={"a": "eigh_tangent(t, a, ans, triangle_named(lower))"},
)
defrule(
    "scipy.linalg.eigvalsh(a, lower=True, overwrite_a=False, check_finite=True)",
    env={**SL, "triangle_named": triangle_named}, lower=None, **_COPYING,
    a="eigvalsh_grad(g, a, triangle_named(lower))",
    tangents={"a": "eigvalsh_tangent(t, a, triangle_named(lower))"},
)


def _frechet(a: Any, direction: Any) -> Any:
    """The Fréchet derivative of the matrix exponential at ``a`` along ``direction``
    (stacks of matrices one at a time: SciPy's ``expm_frechet`` takes one)."""
    if np.ndim(a) == 2:
        return scipy.linalg.expm_frechet(a, direction, compute_expm=False)
    out = np.empty(np.broadcast_shapes(np.shape(a), np.shape(direction)),
                   dtype=np.result_type(a, direction))
    stacked_a = np.broadcast_to(a, out.shape)
    stacked_d = np.broadcast_to(direction, out.shape)
    for index in np.ndindex(out.shape[:-2]):
        out[index] = scipy.linalg.expm_frechet(stacked_a[index], stacked_d[index],
                                               compute_expm=False)
    return out


def expm_grad(g: Any, a: Any) -> Any:
    """Adjoint of ``expm(a)`` for ``a``: the Fréchet derivative at ``a``'s (conjugate)
    transpose along ``g`` (the exponential's derivative is self-adjoint in this sense)."""
    return _frechet(np.conj(np.swapaxes(a, -1, -2)), g)


#: the matrix exponential (linear ODEs, Lie groups, Markov chains in continuous time)
defrule(
    "scipy.linalg.expm(A)",
    env={**SL, "expm_grad": expm_grad, "frechet": _frechet},
    A="expm_grad(g, A)",
    tangents={"A": "frechet(A, t)"},
)


def real_matrix_function(name: str, a: Any, ans: Any) -> None:
    """Refuse ``sqrtm``/``logm`` of a matrix that is not real or whose result is not (a
    negative eigenvalue: SciPy returns a complex matrix), for which srcad has no rule."""
    if np.iscomplexobj(a) or np.iscomplexobj(ans):
        from ..errors import UnsupportedSyntaxError
        from ..load import user_line

        raise UnsupportedSyntaxError(
            f"srcad differentiates scipy.linalg.{name} of a real matrix whose result is real "
            f"(no eigenvalue on the closed negative real axis), and this {name} is complex",
            "keep the matrix's eigenvalues off the negative real axis (a symmetric positive "
            "definite matrix, or a product of two), or register a rule (srcad.defgrad)",
            user_line(),
        )


def _frechet_block(function: Any, a: Any, direction: Any) -> Any:
    """The Fréchet derivative of the matrix function ``function`` at ``a`` along
    ``direction``: the upper right block of ``function([[a, direction], [0, a]])`` (stacks
    of matrices too: SciPy's matrix functions take them)."""
    a, direction = np.broadcast_arrays(np.asarray(a, dtype=float), direction)
    n = np.shape(a)[-1]
    top = np.concatenate([a, direction], axis=-1)
    bottom = np.concatenate([np.zeros_like(direction), a], axis=-1)
    return function(np.concatenate([top, bottom], axis=-2))[..., :n, n:]


def sqrtm_frechet(a: Any, direction: Any) -> Any:
    """The Fréchet derivative of ``sqrtm`` at ``a`` along ``direction``."""
    return _frechet_block(scipy.linalg.sqrtm, a, direction)


def logm_frechet(a: Any, direction: Any) -> Any:
    """The Fréchet derivative of ``logm`` at ``a`` along ``direction``."""
    return _frechet_block(scipy.linalg.logm, a, direction)


def sqrtm_grad(g: Any, a: Any, ans: Any) -> Any:
    """Adjoint of ``sqrtm(a)``: the Fréchet derivative at ``a``'s transpose along ``g``
    (a primary matrix function's derivative is self-adjoint in this sense)."""
    real_matrix_function("sqrtm", a, ans)
    return sqrtm_frechet(_swapped(a), g)


def sqrtm_tangent(t: Any, a: Any, ans: Any) -> Any:
    """Tangent of ``sqrtm(a)``: its Fréchet derivative at ``a`` along ``t``."""
    real_matrix_function("sqrtm", a, ans)
    return sqrtm_frechet(a, t)


def logm_grad(g: Any, a: Any, ans: Any) -> Any:
    """Adjoint of ``logm(a)`` (as :func:`sqrtm_grad`)."""
    real_matrix_function("logm", a, ans)
    return logm_frechet(_swapped(a), g)


def logm_tangent(t: Any, a: Any, ans: Any) -> Any:
    """Tangent of ``logm(a)``: its Fréchet derivative at ``a`` along ``t``."""
    real_matrix_function("logm", a, ans)
    return logm_frechet(a, t)


#: The principal square root and logarithm of a real matrix whose result is real (SPD
#: matrices, products of them: covariance distances, Fréchet inception distance, the
#: log-Euclidean metric). Only the call without options: ``disp=`` (deprecated, a tuple
#: with disp=False) and ``blocksize=`` have no rule, and a complex result is refused.
defrule(
    "scipy.linalg.sqrtm(A)",
    env={**SL, "sqrtm_grad": sqrtm_grad, "sqrtm_tangent": sqrtm_tangent},
    A="sqrtm_grad(g, A, ans)",
    tangents={"A": "sqrtm_tangent(t, A, ans)"},
)
defrule(
    "scipy.linalg.logm(A)",
    env={**SL, "logm_grad": logm_grad, "logm_tangent": logm_tangent},
    A="logm_grad(g, A, ans)",
    tangents={"A": "logm_tangent(t, A, ans)"},
)


def _one_band_matrix(ab: Any, name: str) -> None:
    """Refuse a stack of banded matrices (srcad's banded rules take one)."""
    if np.ndim(ab) != 2:
        from ..errors import UnsupportedSyntaxError
        from ..load import user_line

        raise UnsupportedSyntaxError(
            f"srcad differentiates scipy.linalg.{name} with one banded matrix (ab of two "
            f"dimensions), not a stack of them (ab of shape {np.shape(ab)})",
            "solve each matrix of the stack in a loop, or register a rule (srcad.defgrad)",
            user_line(),
        )


def _columns(x: Any) -> Any:
    """A right-hand side or solution as a matrix: one column per right-hand side."""
    x = np.asarray(x)
    return x.reshape(x.shape[0], -1)


def _band_offsets(lower: int, upper: int, n: int) -> Any:
    """For each row ``k`` of banded storage (``A[i, j] = ab[u + i - j, j]``): the offset
    ``d = i - j`` and the columns ``j`` with ``i`` inside the matrix."""
    for k in range(lower + upper + 1):
        d = k - upper
        yield k, d, slice(max(0, -d), min(n, n - d))


def band_transposed(ab: Any, lower: int, upper: int) -> Any:
    """The banded storage of ``A^T`` (``upper`` diagonals below, ``lower`` above) from
    ``A``'s in ``ab``: ``abT[l + i - j, j] = ab[u + j - i, i]``."""
    ab = np.asarray(ab)
    n = ab.shape[-1]
    out = np.zeros_like(ab, dtype=np.result_type(ab, float))
    for k, d, columns in _band_offsets(upper, lower, n):  # (A^T's rows: d = i - j)
        j = np.arange(n)[columns]
        out[k, j] = ab[upper - d, j + d]
    return out


def band_product(ab: Any, lower: int, upper: int, x: Any) -> Any:
    """``A @ x`` for the banded ``A`` in ``ab`` (``x`` a vector or a matrix)."""
    ab, x = np.asarray(ab), np.asarray(x)
    n = ab.shape[-1]
    out = np.zeros(x.shape, dtype=np.result_type(ab, x, float))
    for k, d, columns in _band_offsets(lower, upper, n):
        j = np.arange(n)[columns]
        out[j + d] += (ab[k, j] * x[j].T).T
    return out


def band_outer(gb: Any, x: Any, lower: int, upper: int) -> Any:
    """``-(gb x^T)`` on the band, in banded storage: the adjoint of ``x = A^-1 b`` for
    ``ab`` given ``gb = A^-T g`` (summed over the right-hand sides)."""
    gb, x = _columns(gb), _columns(x)
    n = gb.shape[0]
    out = np.zeros((lower + upper + 1, n), dtype=np.result_type(gb, x, float))
    for k, d, columns in _band_offsets(lower, upper, n):
        j = np.arange(n)[columns]
        out[k, j] = -np.sum(gb[j + d] * x[j], axis=-1)
    return out


def solve_banded_grad_b(g: Any, l_and_u: Any, ab: Any) -> Any:
    """Adjoint of ``solve_banded(l_and_u, ab, b)`` for ``b``: a solve with ``A^T``."""
    _one_band_matrix(ab, "solve_banded")
    lower, upper = l_and_u
    return scipy.linalg.solve_banded((upper, lower), band_transposed(ab, lower, upper), g)


def solve_banded_grad_ab(g: Any, l_and_u: Any, ab: Any, ans: Any) -> Any:
    """Adjoint of ``solve_banded(l_and_u, ab, b)`` for ``ab``: ``-(A^-T g) x^T`` on the
    band, in banded storage (the storage's unused corners get 0)."""
    lower, upper = l_and_u
    gb = solve_banded_grad_b(g, l_and_u, ab)
    return band_outer(gb, ans, lower, upper)


def solve_banded_tangent_ab(t: Any, l_and_u: Any, ab: Any, ans: Any) -> Any:
    """Tangent of ``solve_banded(l_and_u, ab, b)`` for ``ab``: ``-A^-1 dA x``."""
    _one_band_matrix(ab, "solve_banded")
    lower, upper = l_and_u
    return -scipy.linalg.solve_banded(l_and_u, ab, band_product(t, lower, upper, ans))


def hermitian_band_as_general(ab: Any, lower: bool) -> Any:
    """The general banded storage (``p`` diagonals each side) of the symmetric matrix
    whose one triangle ``solveh_banded``'s ``ab`` holds (``p + 1`` rows)."""
    ab = np.asarray(ab)
    p, n = ab.shape[0] - 1, ab.shape[-1]
    out = np.zeros((2 * p + 1, n), dtype=np.result_type(ab, float))
    for d in range(p + 1):  # (A[j + d, j] below the diagonal, A[j, j + d] above)
        j = np.arange(n - d)
        stored = ab[d, j] if lower else ab[p - d, j + d]
        out[p + d, j] = stored
        out[p - d, j + d] = stored
    return out


def solveh_banded_grad_ab(g: Any, ab: Any, lower: bool, ans: Any) -> Any:
    """Adjoint of ``solveh_banded(ab, b, lower=)`` for ``ab``: ``-(A^-1 g) x^T`` on the
    band, each stored entry getting the adjoints of both entries it stands for."""
    _one_band_matrix(ab, "solveh_banded")
    p, n = np.shape(ab)[0] - 1, np.shape(ab)[-1]
    gb = scipy.linalg.solveh_banded(ab, g, lower=lower)
    full = band_outer(gb, ans, p, p)
    out = np.zeros(np.shape(ab), dtype=full.dtype)
    for d in range(p + 1):
        j = np.arange(n - d)
        both = full[p + d, j] + (full[p - d, j + d] if d else 0.0)
        if lower:
            out[d, j] = both
        else:
            out[p - d, j + d] = both
    return out


def solveh_banded_tangent_ab(t: Any, ab: Any, lower: bool, ans: Any) -> Any:
    """Tangent of ``solveh_banded(ab, b, lower=)`` for ``ab``: ``-A^-1 dA x`` with ``dA``
    the symmetric matrix of the stored triangle's change."""
    _one_band_matrix(ab, "solveh_banded")
    p = np.shape(ab)[0] - 1
    moved = band_product(hermitian_band_as_general(t, lower), p, p, ans)
    return -scipy.linalg.solveh_banded(ab, moved, lower=lower)


#: Banded solves (implicit time steps of diffusion equations, splines): ``A[i, j] =
#: ab[u + i - j, j]``; the adjoints stay banded (O(n x bands) beyond SciPy's solve).
_BANDED = {**SL, "solve_banded_grad_b": solve_banded_grad_b,
           "solve_banded_grad_ab": solve_banded_grad_ab,
           "solve_banded_tangent_ab": solve_banded_tangent_ab,
           "solveh_banded_grad_ab": solveh_banded_grad_ab,
           "solveh_banded_tangent_ab": solveh_banded_tangent_ab}
defrule(
    "scipy.linalg.solve_banded(l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, "
    "check_finite=True)",
    env=_BANDED, l_and_u=None, overwrite_ab=None, overwrite_b=None, check_finite=None,
    ab="solve_banded_grad_ab(g, l_and_u, ab, ans)",
    b="solve_banded_grad_b(g, l_and_u, ab)",
    tangents={"ab": "solve_banded_tangent_ab(t, l_and_u, ab, ans)",
              "b": "scipy.linalg.solve_banded(l_and_u, ab, t)"},
)
#: The symmetric (positive definite) banded solve: ``ab`` holds the upper triangle
#: (``ab[u + i - j, j] = A[i, j]``, ``i <= j``) or with ``lower=True`` the lower one.
defrule(
    "scipy.linalg.solveh_banded(ab, b, overwrite_ab=False, overwrite_b=False, lower=False, "
    "check_finite=True)",
    env=_BANDED, overwrite_ab=None, overwrite_b=None, lower=None, check_finite=None,
    ab="solveh_banded_grad_ab(g, ab, lower, ans)",
    b="scipy.linalg.solveh_banded(ab, g, lower=lower)",
    tangents={"ab": "solveh_banded_tangent_ab(t, ab, lower, ans)",
              "b": "scipy.linalg.solveh_banded(ab, t, lower=lower)"},
)
