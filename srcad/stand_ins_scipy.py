"""Stand-ins for SciPy functions that call SciPy (see :mod:`srcad.stand_ins`): imported
only once a program calls the function they stand in for, so SciPy is loaded then."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg
import scipy.ndimage
import scipy.special

from .rules.linear_maps import per_axis


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


# ---------------------------------------------------------------- scipy.stats, descriptive
# (each the formula SciPy's documentation gives, in numpy: srcad reads it instead;
# ``nan_policy`` other than "propagate" is refused where it is read)


def zscore(a: Any, axis: Any = 0, ddof: Any = 0, nan_policy: Any = "propagate") -> Any:
    """``scipy.stats.zscore``: ``(a - mean) / std``."""
    if nan_policy != "propagate":
        raise ValueError("srcad reads this statistic with nan_policy='propagate' only")
    a = np.asarray(a)
    return (a - np.mean(a, axis=axis, keepdims=True)) / np.std(
        a, axis=axis, ddof=ddof, keepdims=True
    )


def gmean(a: Any, axis: Any = 0, dtype: Any = None, weights: Any = None, *,
          nan_policy: Any = "propagate", keepdims: Any = False) -> Any:
    """``scipy.stats.gmean``: ``exp`` of the (weighted) mean of ``log a``."""
    if nan_policy != "propagate":
        raise ValueError("srcad reads this statistic with nan_policy='propagate' only")
    logs = np.log(np.asarray(a))
    if weights is None:
        return np.exp(np.mean(logs, axis=axis, keepdims=keepdims))
    w = np.asarray(weights)
    return np.exp(np.sum(w * logs, axis=axis, keepdims=keepdims)
                  / np.sum(w, axis=axis, keepdims=keepdims))


def hmean(a: Any, axis: Any = 0, dtype: Any = None, *, weights: Any = None,
          nan_policy: Any = "propagate", keepdims: Any = False) -> Any:
    """``scipy.stats.hmean``: the (weighted) count over the sum of ``1 / a``."""
    if nan_policy != "propagate":
        raise ValueError("srcad reads this statistic with nan_policy='propagate' only")
    a = np.asarray(a)
    w = np.ones_like(a) if weights is None else np.asarray(weights)
    return np.sum(w, axis=axis, keepdims=keepdims) / np.sum(w / a, axis=axis, keepdims=keepdims)


def sem(a: Any, axis: Any = 0, ddof: Any = 1, nan_policy: Any = "propagate", *,
        keepdims: Any = False) -> Any:
    """``scipy.stats.sem``: the standard deviation over the root of the count."""
    if nan_policy != "propagate":
        raise ValueError("srcad reads this statistic with nan_policy='propagate' only")
    a = np.asarray(a)
    n = a.size if axis is None else a.shape[axis]
    return np.std(a, axis=axis, ddof=ddof, keepdims=keepdims) / np.sqrt(n)


def variation(a: Any, axis: Any = 0, nan_policy: Any = "propagate", ddof: Any = 0, *,
              keepdims: Any = False) -> Any:
    """``scipy.stats.variation``: the standard deviation over the mean."""
    if nan_policy != "propagate":
        raise ValueError("srcad reads this statistic with nan_policy='propagate' only")
    a = np.asarray(a)
    return np.std(a, axis=axis, ddof=ddof, keepdims=keepdims) / np.mean(
        a, axis=axis, keepdims=keepdims
    )


def _central_moments(a: Any, axis: Any, keepdims: Any) -> tuple[Any, Any, Any, Any]:
    """The count along ``axis``, and the 2nd, 3rd and 4th central moments."""
    a = np.asarray(a)
    n = a.size if axis is None else a.shape[axis]
    d = a - np.mean(a, axis=axis, keepdims=True)
    d2 = d * d
    return (n, np.mean(d2, axis=axis, keepdims=keepdims),
            np.mean(d2 * d, axis=axis, keepdims=keepdims),
            np.mean(d2 * d2, axis=axis, keepdims=keepdims))


def skew(a: Any, axis: Any = 0, bias: Any = True, nan_policy: Any = "propagate", *,
         keepdims: Any = False) -> Any:
    """``scipy.stats.skew``: ``m3 / m2 ** 1.5`` (unbiased: times ``sqrt(n (n - 1)) / (n -
    2)``)."""
    if nan_policy != "propagate":
        raise ValueError("srcad reads this statistic with nan_policy='propagate' only")
    n, m2, m3, _ = _central_moments(a, axis, keepdims)
    g1 = m3 / m2 ** 1.5
    return g1 if bias else g1 * np.sqrt(n * (n - 1.0)) / (n - 2.0)


def kurtosis(a: Any, axis: Any = 0, fisher: Any = True, bias: Any = True,
             nan_policy: Any = "propagate", *, keepdims: Any = False) -> Any:
    """``scipy.stats.kurtosis``: ``m4 / m2 ** 2`` (Fisher's: less 3; unbiased: SciPy's
    correction)."""
    if nan_policy != "propagate":
        raise ValueError("srcad reads this statistic with nan_policy='propagate' only")
    n, m2, _, m4 = _central_moments(a, axis, keepdims)
    if bias:  # (in SciPy's order of operations: the same value, bit for bit)
        pearson = m4 / m2**2.0
    else:
        pearson = 1.0 / (n - 2) / (n - 3) * ((n**2 - 1.0) * m4 / m2**2.0 - 3 * (n - 1) ** 2.0)
        pearson = pearson + 3.0
    return pearson - 3 if fisher else pearson


def entropy(pk: Any, qk: Any = None, base: Any = None, axis: Any = 0, *,
            nan_policy: Any = "propagate", keepdims: Any = False) -> Any:
    """``scipy.stats.entropy``: of ``pk`` normalised, ``-sum(pk log pk)``; with ``qk``
    (normalised too) the relative entropy ``sum(pk log(pk / qk))``; over ``log(base)``."""
    if nan_policy != "propagate":
        raise ValueError("srcad reads this statistic with nan_policy='propagate' only")
    pk = np.asarray(pk)
    pk = pk / np.sum(pk, axis=axis, keepdims=True)
    if qk is None:
        terms = scipy.special.entr(pk)
    else:
        qk = np.asarray(qk)
        terms = scipy.special.rel_entr(pk, qk / np.sum(qk, axis=axis, keepdims=True))
    total = np.sum(terms, axis=axis, keepdims=keepdims)
    return total if base is None else total / np.log(base)


# ---------------------------------------------------------------- scipy.linalg, structured
# (SciPy makes these by striding over one array of the values, which srcad cannot follow;
# here each is an index into the same values: a gather, whose adjoint adds back)


def toeplitz(c: Any, r: Any = None) -> Any:
    """``scipy.linalg.toeplitz``: ``c`` down the first column, ``r`` along the first row
    (``r[0]`` left out; ``r`` is ``c`` if not given), constant along each diagonal;
    leading axes of ``c`` and ``r`` are batches."""
    c = np.atleast_1d(c)
    r = c if r is None else np.atleast_1d(r)
    if c.ndim > 1 or r.ndim > 1:
        batch = np.broadcast_shapes(c.shape[:-1], r.shape[:-1])
        c = np.broadcast_to(c, batch + c.shape[-1:])
        r = np.broadcast_to(r, batch + r.shape[-1:])
    values = np.concatenate((c[..., ::-1], r[..., 1:]), axis=-1)
    n = c.shape[-1]
    # (laid out in C order, as SciPy's copy: a sum of it adds in the same order)
    return np.ascontiguousarray(values[..., n - 1 - np.arange(n)[:, None] + np.arange(r.shape[-1])])


def circulant(c: Any) -> Any:
    """``scipy.linalg.circulant``: ``c`` as the first column, each next column ``c``
    rolled down by one; leading axes of ``c`` are batches."""
    c = np.atleast_1d(c)
    n = c.shape[-1]
    return np.ascontiguousarray(c[..., (np.arange(n)[:, None] - np.arange(n)) % n])


def hankel(c: Any, r: Any = None) -> Any:
    """``scipy.linalg.hankel``: ``c`` as the first column, ``r`` as the last row (``r[0]``
    left out; zeros if not given), constant along each anti-diagonal."""
    c = np.ravel(c)
    r = np.zeros_like(c) if r is None else np.ravel(r)
    values = np.concatenate((c, r[1:]))
    return values[np.arange(c.shape[0])[:, None] + np.arange(r.shape[0])]


def block_diag(*arrs: Any) -> Any:
    """``scipy.linalg.block_diag``: the arrays (a number is 1 x 1, a vector one row) down
    the diagonal of a matrix of zeros; leading axes are batches, broadcast."""
    blocks = [np.atleast_2d(a) for a in arrs] if arrs else [np.zeros((1, 0))]
    batch = np.broadcast_shapes(*(b.shape[:-2] for b in blocks))
    rows = sum(b.shape[-2] for b in blocks)
    columns = sum(b.shape[-1] for b in blocks)
    out = np.zeros(batch + (rows, columns), dtype=np.result_type(*blocks))
    row = column = 0
    for block in blocks:
        out[..., row:row + block.shape[-2], column:column + block.shape[-1]] = block
        row += block.shape[-2]
        column += block.shape[-1]
    return out


# ---------------------------------------------------------------- scipy.ndimage, edge filters
# (each the sequence of 1-D correlations SciPy's source runs, on the same arrays: the
# same values; srcad differentiates correlate1d by its rule)


def _edge(input: Any, axis: Any, output: Any, mode: Any, cval: Any, smoothing: Any) -> Any:
    """A derivative along ``axis`` (``[-1, 0, 1]``), smoothed along the other axes."""
    x = np.asarray(input)
    along = axis % x.ndim
    modes = per_axis(mode, x.ndim)
    out = scipy.ndimage.correlate1d(x, [-1.0, 0.0, 1.0], along, output, modes[along], cval, 0)
    for k in range(x.ndim):
        if k != along:
            out = scipy.ndimage.correlate1d(out, smoothing, k, output, modes[k], cval, 0)
    return out


def prewitt(input: Any, axis: Any = -1, output: Any = None, mode: Any = "reflect",
            cval: Any = 0.0) -> Any:
    """``scipy.ndimage.prewitt``: the derivative along ``axis``, averaged across."""
    return _edge(input, axis, output, mode, cval, [1.0, 1.0, 1.0])


def sobel(input: Any, axis: Any = -1, output: Any = None, mode: Any = "reflect",
          cval: Any = 0.0) -> Any:
    """``scipy.ndimage.sobel``: the derivative along ``axis``, smoothed across."""
    return _edge(input, axis, output, mode, cval, [1.0, 2.0, 1.0])


def laplace(input: Any, output: Any = None, mode: Any = "reflect", cval: Any = 0.0, *,
            axes: Any = None) -> Any:
    """``scipy.ndimage.laplace``: the sum of the second differences along ``axes``."""
    x = np.asarray(input)
    along = list(range(x.ndim)) if axes is None else [a % x.ndim for a in np.atleast_1d(axes)]
    if not along:
        return np.array(x, dtype=output)
    modes = per_axis(mode, len(along))
    out = scipy.ndimage.correlate1d(x, [1.0, -2.0, 1.0], along[0], output, modes[0], cval, 0)
    for k in range(1, len(along)):
        out = out + scipy.ndimage.correlate1d(
            x, [1.0, -2.0, 1.0], along[k], out.dtype, modes[k], cval, 0
        )
    return out
