"""Derivative rules for ``np.linalg`` and ``np.einsum``. Adjoints use solves where an
inverse would only be multiplied; routines that read one triangle of a symmetric matrix
(``cholesky``, ``eigh``) fold their gradient onto that triangle, as numpy reads it."""

from __future__ import annotations

from typing import Any

import numpy as np

from .numpy_arrays import ENV
from .table import Templates, defrule

#: Vector norms (``ord`` None/2, 1, inf, -inf, 0, p) and matrix norms (None/'fro', 'nuc',
#: 2, -2, 1, -1, inf, -inf), along ``axis`` or over all of ``x``. At 0 the 2-norm's
#: gradient is 0 (a subgradient).
defrule(
    "np.linalg.norm(x, ord=None, axis=None, keepdims=False)",
    env=ENV,
    x="norm_grad(g, x, ans, ord, axis, keepdims)",
    tangents={"x": "norm_tangent(t, x, ans, ord, axis, keepdims)"},
)

#: The square of a 2-norm (of a Frobenius norm: no ``ord``) is one gate, the sum of the
#: squares: its derivative ``2 x`` holds at 0 too, where the norm's own is a subgradient
#: (its second derivative there was 0: a ridge penalty's Hessian at zero weights).
#: numpy's value is the norm's, squared, as written.
for _axis, _spread in (("", "g"), (", axis=axis", "sum_grad(g, x, axis, False)")):
    _axis_option: Templates = {"axis": None} if _axis else {}  # (no gradient)
    defrule(
        f"np.linalg.norm(x{_axis}) ** 2",
        env=ENV,
        **_axis_option,
        name=f"squared norm{' along axis' if _axis else ''} (np)",
        x=f"np.multiply(2.0 * {_spread}, x)",
        tangents={"x": f"2.0 * np.sum(np.multiply(x, t){_axis})"},
    )

#: ``np.vecdot``: the dot product of vectors along ``axis`` (their leading axes broadcast);
#: each operand's adjoint the other times ``g``, put back along ``axis``.
if hasattr(np, "vecdot"):  # (numpy 2)
    defrule(
        "np.vecdot(x, y, axis=-1)",
        env=ENV,
        linear=True,
        axis=None,
        x="unbroadcast(np.expand_dims(g, axis) * y, x)",
        y="unbroadcast(np.expand_dims(g, axis) * x, y)",
    )

#: ``np.einsum`` with 1 to 8 operands: linear in each, any subscripts (implicit output,
#: ``...``, repeated labels); the adjoint of an operand is the einsum of ``g`` with the others.
for _count in range(1, 9):
    _operands = ", ".join(f"a{k}" for k in range(_count))
    _einsum: Templates = {f"a{k}": f"einsum_grad(g, s, {k}, {_operands})" for k in range(_count)}
    defrule(
        f"np.einsum(s, {_operands}, optimize=False)",
        env=ENV,
        linear=True,
        shares=_count == 1,  # ("ii->i", "ij->ji": a view of the operand)
        s="einsum_subscripts_grad(s)",
        **_einsum,
    )

#: a chain of matrix products (a first or last vector as a row or a column)
defrule(
    "np.linalg.multi_dot(arrays)",
    env=ENV,
    arrays="multi_dot_grad(g, arrays)",
    tangents={"arrays": "multi_dot_tangent(t, arrays)"},
    sequences=("arrays",),
)

#: The derivatives of solve, inv and det (scipy.linalg's, of the same matrices, share them).
SOLVE: dict[str, Any] = dict(
    a="solve_grad_a(g, a, b, ans)",
    b="solve_grad_b(g, a, b)",
    tangents={"a": "solve_tangent_a(t, a, b, ans)", "b": "np.linalg.solve(a, t)"},
)
INV: dict[str, Any] = dict(a="inv_grad(g, ans)", tangents={"a": "-(ans @ t @ ans)"})
#: Exact at singular matrices too (the cofactors, from the singular value decomposition).
DET: dict[str, Any] = dict(a="det_grad(g, a, ans)", tangents={"a": "det_tangent(t, a, ans)"})
defrule("np.linalg.solve(a, b)", env=ENV, **SOLVE)
defrule("np.linalg.inv(a)", env=ENV, **INV)
defrule("np.linalg.det(a)", env=ENV, **DET)
#: ``sign, logdet = np.linalg.slogdet(a)``: the sign gets no gradient.
defrule(
    "np.linalg.slogdet(a)",
    env=ENV,
    a="slogdet_grad(g, a)",
    tangents={"a": "slogdet_tangent(t, a, ans)"},
)
defrule(
    "np.linalg.cholesky(a, upper=False)",
    env=ENV,
    a="cholesky_grad(g, a, ans, upper)",
    tangents={"a": "cholesky_tangent(t, a, ans, upper)"},
)
#: ``w, v = np.linalg.eigh(a)``: the eigenvectors' gradient needs distinct eigenvalues.
defrule(
    "np.linalg.eigh(a, UPLO='L')",
    env=ENV,
    a="eigh_grad(g, a, ans, UPLO)",
    tangents={"a": "eigh_tangent(t, a, ans, UPLO)"},
)
defrule(
    "np.linalg.eigvalsh(a, UPLO='L')",
    env=ENV,
    a="eigvalsh_grad(g, a, UPLO)",
    tangents={"a": "eigvalsh_tangent(t, a, UPLO)"},
)
#: ``q, r = np.linalg.qr(a)``: mode 'reduced', at least as many rows as columns.
defrule(
    "np.linalg.qr(a, mode='reduced')",
    env=ENV,
    a="qr_grad(g, a, ans, mode)",
    tangents={"a": "qr_tangent(t, a, ans, mode)"},
)
#: a product of n copies (of the inverse for a negative n)
defrule(
    "np.linalg.matrix_power(a, n)",
    env=ENV,
    n=None,
    a="matrix_power_grad(g, a, n)",
    tangents={"a": "matrix_power_tangent(t, a, n)"},
)
#: ``u, s, vt = np.linalg.svd(a)`` (a matrix that is not square: full_matrices=False),
#: and the singular values alone (``compute_uv=False``): distinct, nonzero values
defrule(
    "np.linalg.svd(a, full_matrices=True, compute_uv=True)",
    env=ENV,
    full_matrices=None,
    compute_uv=None,
    a="svd_grad(g, a, ans, full_matrices, compute_uv)",
    tangents={"a": "svd_tangent(t, a, ans, full_matrices, compute_uv)"},
)
if hasattr(np.linalg, "svdvals"):  # numpy >= 2
    defrule(
        "np.linalg.svdvals(a)",
        env=ENV,
        a="singular_values_grad(g, a)",
        tangents={"a": "singular_values_tangent(t, a)"},
    )

#: the pseudo-inverse and least squares (their gradients hold where the rank does not
#: change); ``x, residuals, rank, s = np.linalg.lstsq(a, b)``: the rank has none
defrule(
    "np.linalg.pinv(a, rcond=None, hermitian=False)",
    env=ENV,
    rcond=None,
    hermitian=None,
    a="pinv_grad(g, a, ans, hermitian)",
    tangents={"a": "pinv_tangent(t, a, ans, hermitian)"},
)
defrule(
    "np.linalg.lstsq(a, b, rcond=None)",
    env=ENV,
    rcond=None,
    a="lstsq_grad_a(g, a, b, ans, rcond)",
    b="lstsq_grad_b(g, a, b, ans, rcond)",
    tangents={
        "a": "lstsq_tangent_a(t, a, b, ans, rcond)", "b": "lstsq_tangent_b(t, a, b, ans, rcond)"
    },
)
