"""Derivative rules for the log-densities, densities and distribution functions of
``scipy.stats``' common distributions (methods of its distribution objects, called as
``norm.logpdf(x, mu, sigma)``). Loaded once a program has imported ``scipy.stats`` (see
:mod:`srcad.rules`). ``z = (x - loc) / scale`` throughout; the parameters' gradients hold
inside the support."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy
import scipy.special
import scipy.stats

from .numpy_arrays import ENV
from .table import defrule

STATS = {**ENV, "scipy": scipy}
_Z = "((x - loc) / scale)"
_DIGAMMA = "scipy.special.digamma"
#: phi(u) / Phi(u) (the inverse Mills ratio), in logs: finite far into the left tail
_MILLS = "np.exp(scipy.stats.norm.logpdf({u}) - scipy.stats.norm.logcdf({u}))"


def _distribution(
    pattern: str, templates: Mapping[str, str], none: tuple[str, ...] = ()
) -> None:
    """A rule for ``scipy.stats.<pattern>``: elementwise, broadcasting, its tangents the
    templates with ``t`` for ``g``; the parameters in ``none`` (counts) have no gradient,
    and are refused where they depend on the inputs."""
    adjoints: dict[str, Any] = {**templates, **{name: None for name in none}}
    defrule(f"scipy.stats.{pattern}", env=STATS, elementwise=True, broadcasting=True,
            orders=none, **adjoints)


def _location_scale(
    method: str, shapes: str, score: str, log: bool = True, **shape_templates: str
) -> None:
    """``<method>(x, <shapes>, loc=0, scale=1)`` of a location-scale family whose standard
    log-density falls at the rate ``score`` in ``z`` (``-d/dz log p(z)``): the logpdf
    (``log``) or the pdf; ``shape_templates`` give the shape parameters' adjoints."""
    factor = "g" if log else "ans * g"
    templates = {
        "x": f"-{score} / scale * {factor}",
        "loc": f"{score} / scale * {factor}",
        "scale": f"({score} * {_Z} - 1) / scale * {factor}",
        **shape_templates,
    }
    _distribution(f"{method}(x, {shapes + ', ' if shapes else ''}loc=0, scale=1)", templates)


#: Continuous distributions: name -> (shape parameters, ``-d/dz`` of the standard
#: log-density (its score), the shape parameters' derivatives of the log-density).
_CONTINUOUS: dict[str, tuple[str, str, dict[str, str]]] = {
    "norm": ("", _Z, {}),
    "cauchy": ("", f"(2 * {_Z} / (1 + {_Z} ** 2))", {}),
    "laplace": ("", f"np.sign({_Z})", {}),
    "logistic": ("", f"np.tanh(0.5 * {_Z})", {}),
    "expon": ("", "1", {}),
    "uniform": ("", f"(0 * {_Z})", {}),
    "halfnorm": ("", _Z, {}),
    "halfcauchy": ("", f"(2 * {_Z} / (1 + {_Z} ** 2))", {}),
    "rayleigh": ("", f"({_Z} - 1 / {_Z})", {}),
    "gumbel_r": ("", f"(1 - np.exp(-{_Z}))", {}),
    "gumbel_l": ("", f"(np.exp({_Z}) - 1)", {}),
    # Student's t: log p = ... - (df + 1) / 2 log(1 + z^2 / df) - log(scale)
    "t": ("df", f"((df + 1) * {_Z} / (df + {_Z} ** 2))", {
        "df": f"0.5 * ({_DIGAMMA}(0.5 * (df + 1)) - {_DIGAMMA}(0.5 * df) - 1 / df"
        f" - np.log1p({_Z} ** 2 / df) + (df + 1) * {_Z} ** 2 / (df * (df + {_Z} ** 2)))",
    }),
    # log p = (a - 1) log z - z - gammaln(a) - log(scale)
    "gamma": ("a", f"(1 - (a - 1) / {_Z})", {"a": f"(np.log({_Z}) - {_DIGAMMA}(a))"}),
    # log p = (a - 1) log z + (b - 1) log(1 - z) - betaln(a, b) - log(scale)
    "beta": ("a, b", f"((b - 1) / (1 - {_Z}) - (a - 1) / {_Z})", {
        "a": f"(np.log({_Z}) - {_DIGAMMA}(a) + {_DIGAMMA}(a + b))",
        "b": f"(np.log1p(-{_Z}) - {_DIGAMMA}(b) + {_DIGAMMA}(a + b))",
    }),
    # log p = -log(z s sqrt(2 pi)) - log(z)^2 / (2 s^2)
    "lognorm": ("s", f"((1 + np.log({_Z}) / s ** 2) / {_Z})",
                {"s": f"(np.log({_Z}) ** 2 / s ** 3 - 1 / s)"}),
    # log p = (df/2 - 1) log z - z/2 - (df/2) log 2 - gammaln(df/2)
    "chi2": ("df", f"(0.5 - (0.5 * df - 1) / {_Z})",
             {"df": f"0.5 * (np.log(0.5 * {_Z}) - {_DIGAMMA}(0.5 * df))"}),
    # log p = log c + (c - 1) log z - z^c
    # (np.power: below the support a float's ** would give a complex number)
    "weibull_min": ("c", f"(c * np.power({_Z}, c - 1) - (c - 1) / {_Z})",
                    {"c": f"(1 / c + np.log({_Z}) * (1 - np.power({_Z}, c)))"}),
    # log p = -(a + 1) log z - 1/z - gammaln(a)
    "invgamma": ("a", f"((a + 1) / {_Z} - 1 / {_Z} ** 2)",
                 {"a": f"(-np.log({_Z}) - {_DIGAMMA}(a))"}),
    # log p = log b - (b + 1) log z (z >= 1)
    "pareto": ("b", f"((b + 1) / {_Z})", {"b": f"(1 / b - np.log({_Z}))"}),
    # log p = log c - (c + 1) log(1 + z)
    "lomax": ("c", f"((c + 1) / (1 + {_Z}))", {"c": f"(1 / c - np.log1p({_Z}))"}),
    # log p = log 2 + log phi(z) + log Phi(a z)
    "skewnorm": ("a", f"({_Z} - a * {_MILLS.format(u=f'a * {_Z}')})",
                 {"a": f"({_Z} * {_MILLS.format(u=f'a * {_Z}')})"}),
}
#: The shapes' derivatives of ``-log sf(z)`` (``sf = 1 - F``), where they have a closed
#: form (the other shapes are orders of the distribution functions, refused where they
#: depend on the inputs), each with the standard support's test and a point inside it:
#: Weibull ``sf = exp(-z^c)``, Pareto ``z^-b``, Lomax ``(1 + z)^-c``, lognormal
#: ``Phi(-log z / s)``, and the skew normal's ``1 - Phi(z) + 2 T(z, a)`` by Owen's ``dT/da
#: = exp(-z^2 (1 + a^2) / 2) / (2 pi (1 + a^2))``. Outside the support the functions are
#: constant: 0 there. In logs, so that a far tail neither overflows nor gives 0/0.
_SHAPE_OF_SF: dict[str, tuple[str, str, dict[str, str]]] = {
    "weibull_min": ("{z} > 0", "1.0", {"c": "np.power({z}, c) * np.log({z})"}),
    "pareto": ("{z} >= 1", "2.0", {"b": "np.log({z})"}),
    "lomax": ("{z} >= 0", "1.0", {"c": "np.log1p({z})"}),
    "lognorm": ("{z} > 0", "1.0", {
        "s": "-np.exp(scipy.stats.norm.logpdf(np.log({z}) / s) - scipy.stats.norm.logsf("
        "np.log({z}) / s)) * np.log({z}) / s ** 2"}),
    "skewnorm": ("{z} == {z}", "0.0", {
        "a": "-np.exp(-0.5 * {z} ** 2 * (1 + a ** 2) - scipy.stats.skewnorm.logsf({z}, a)) / "
        "(np.pi * (1 + a ** 2))"}),
}


def _hazard(name: str, shape: str, z: str) -> str:
    """``d(-log sf)/dshape`` of family ``name`` at the standardized point ``z`` (an
    expression), 0 outside the support (where the template is evaluated at a point
    inside, so that it neither warns nor gives nan)."""
    inside, point, templates = _SHAPE_OF_SF[name]
    test = inside.format(z=z)
    safe = f"np.where({test}, {z}, {point})"
    return f"np.where({test}, {templates[shape].format(z=safe)}, 0.0)"


def _shape_names(shapes: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in shapes.split(",") if p.strip())


for _name, (_shapes, _score, _by_shape) in _CONTINUOUS.items():
    for _method, _log in (("logpdf", True), ("pdf", False)):
        _location_scale(f"{_name}.{_method}", _shapes, _score, log=_log, **{
            shape: f"{template} * {'g' if _log else 'ans * g'}"
            for shape, template in _by_shape.items()
        })
    _given = f"{_shapes}, loc, scale" if _shapes else "loc, scale"
    _pdf = f"np.exp(scipy.stats.{_name}.logpdf(x, {_given}))"
    _logpdf = f"scipy.stats.{_name}.logpdf(x, {_given})"
    _signature = f"(x, {_shapes + ', ' if _shapes else ''}loc=0, scale=1)"
    _by_sf = _SHAPE_OF_SF[_name][2] if _name in _SHAPE_OF_SF else {}
    _orders = tuple(p for p in _shape_names(_shapes) if p not in _by_sf)
    _logsf = f"scipy.stats.{_name}.logsf(x, {_given})"
    # the distribution functions, their logs, by the density; the shapes by d(-log sf)
    # (dF = sf d(-log sf); d log cdf = (sf / cdf) d(-log sf))
    _in_shape = {
        "cdf": f"np.exp({_logsf})", "sf": "-ans", "logcdf": f"np.exp({_logsf} - ans)",
        "logsf": "-1",
    }
    for _method, _density, _rising in [
        ("cdf", _pdf, True),
        ("sf", _pdf, False),
        ("logcdf", f"np.exp({_logpdf} - ans)", True),
        ("logsf", f"np.exp({_logpdf} - ans)", False),
    ]:
        _up, _down = ("", "-") if _rising else ("-", "")
        _distribution(f"{_name}.{_method}{_signature}", {
            "x": f"{_up}{_density} * g",
            "loc": f"{_down}{_density} * g",
            "scale": f"{_down}{_density} * {_Z} * g",
            **{shape: f"{_in_shape[_method]} * {_hazard(_name, shape, _Z)} * g"
               for shape in _by_sf},
        }, _orders)
    # the quantiles: the inverse of the distribution function (a shape moves the quantile
    # by -dF/dshape over the density there: -sf d(-log sf) / pdf)
    _at_quantile = f"np.exp(scipy.stats.{_name}.logpdf(ans, {_given}))"
    _sf_over_pdf = (f"np.exp(scipy.stats.{_name}.logsf(ans, {_given}) - "
                    f"scipy.stats.{_name}.logpdf(ans, {_given}))")
    for _method, _sign in (("ppf", ""), ("isf", "-")):
        _distribution(f"{_name}.{_method}{_signature.replace('(x,', '(q,')}", {
            "q": f"{_sign}g / {_at_quantile}",
            "loc": "g",
            "scale": "(ans - loc) / scale * g",
            **{shape: f"-{_sf_over_pdf} * {_hazard(_name, shape, '((ans - loc) / scale)')} * g"
               for shape in _by_sf},
        }, _orders)


#: Counts (``k`` and ``loc``: data, and a binomial's ``n``: orders, refused where they
#: depend on the inputs): log-probabilities, name -> (parameters after ``k``, the
#: parameters' derivatives of ``log p``, those without one).
_K = "(k - loc)"
_DISCRETE: dict[str, tuple[str, dict[str, str], tuple[str, ...]]] = {
    "poisson": ("mu", {"mu": f"(x_over_y({_K}, mu) - 1)"}, ("k", "loc")),
    "binom": ("n, p", {"p": f"(x_over_y({_K}, p) - x_over_y(n - {_K}, 1 - p))"},
              ("k", "n", "loc")),
    "bernoulli": ("p", {"p": f"(x_over_y({_K}, p) - x_over_y(1 - {_K}, 1 - p))"},
                  ("k", "loc")),
    "geom": ("p", {"p": f"(1 / p - x_over_y({_K} - 1, 1 - p))"}, ("k", "loc")),
    # log C(k + n - 1, k) + n log p + k log(1 - p), for real n too
    "nbinom": ("n, p", {
        "n": f"({_DIGAMMA}({_K} + n) - {_DIGAMMA}(n) + np.log(p))",
        "p": f"(x_over_y(n, p) - x_over_y({_K}, 1 - p))",
    }, ("k", "loc")),
}
for _name, (_params, _by_param, _data) in _DISCRETE.items():
    for _method, _factor in (("logpmf", "g"), ("pmf", "ans * g")):
        _distribution(
            f"{_name}.{_method}(k, {_params}, loc=0)",
            {param: f"{template} * {_factor}" for param, template in _by_param.items()},
            _data,
        )
#: The distribution functions in their rates: ``d/dmu P(X <= k) = -pmf(k; mu)``, and
#: ``d/dp P(X <= k) = -n pmf(k; n - 1, p)`` for the binomial, at the last count below
#: ``k`` (scipy's distribution functions take ``floor(k)``).
_LAST = "(np.floor(k - loc) + loc)"
for _method, _sign in (("cdf", "-"), ("sf", "")):
    _distribution(f"poisson.{_method}(k, mu, loc=0)",
                  {"mu": f"{_sign}scipy.stats.poisson.pmf({_LAST}, mu, loc) * g"}, ("k", "loc"))
    _distribution(f"binom.{_method}(k, n, p, loc=0)",
                  {"p": f"{_sign}n * scipy.stats.binom.pmf({_LAST}, n - 1, p, loc) * g"},
                  ("k", "n", "loc"))


# ---------------------------------------------------------------- the multivariate normal


def _mvn_parts(x: Any, mean: Any, cov: Any) -> tuple[Any, Any, Any, Any, Any]:
    """For ``multivariate_normal.logpdf(x, mean, cov)``: the points as rows ``(n, k)``,
    their deviations solved by the covariance ``P d``, the covariance's inverse, the
    gradient's weights' shape (of ``x``), and the covariance as a matrix. (scipy reads a
    1-D ``x`` as one point, or as points where ``k`` is 1; a scalar or 1-D ``cov`` as a
    diagonal.)"""
    cov = np.asarray(cov, dtype=float)
    mean_ = np.zeros(1) if mean is None else np.asarray(mean, dtype=float)
    k = cov.shape[0] if cov.ndim else max(mean_.size, 1)
    full = cov * np.eye(k) if cov.ndim == 0 else np.diag(cov) if cov.ndim == 1 else cov
    points = np.asarray(x, dtype=float)
    points = points.reshape(-1, k) if points.ndim != 1 or k > 1 else points[:, None]
    _refuse_singular(full)
    inverse = np.linalg.inv(full)
    solved = (points - mean_.reshape(-1)[-k:] if mean_.size else points) @ inverse
    return points, solved, inverse, np.shape(x), full


def _refuse_singular(cov: Any) -> None:
    """Refuse a covariance scipy takes for singular (``allow_singular=True``: it then
    computes on the covariance's support, with its pseudo-inverse; an eigenvalue below
    scipy's cutoff, ``1e6`` float epsilons of the largest, counts as 0)."""
    values = np.linalg.eigvalsh(cov)
    if values.min() <= 1e6 * np.finfo(float).eps * np.abs(values).max():
        from ..errors import UnsupportedSyntaxError
        from ..load import user_line

        raise UnsupportedSyntaxError(
            "srcad differentiates multivariate_normal with a covariance of full rank, and "
            "this one is singular (scipy computes on its support, allow_singular=True)",
            "add a small multiple of the identity to the covariance (`cov + 1e-9 * "
            "np.eye(k)`), or project the points onto the covariance's support first",
            user_line(),
        )


def _weights(g: Any, n: int) -> Any:
    return np.broadcast_to(np.asarray(g, dtype=float).reshape(-1), (n,))


def mvn_x_grad(g: Any, x: Any, mean: Any = None, cov: Any = 1) -> Any:
    """``x``'s adjoint of ``multivariate_normal.logpdf``: ``-g P (x - mean)``."""
    points, solved, _, shape, _ = _mvn_parts(x, mean, cov)
    return np.reshape(-_weights(g, len(points))[:, None] * solved, shape)


def mvn_mean_grad(g: Any, x: Any, mean: Any = None, cov: Any = 1) -> Any:
    """``mean``'s adjoint: ``g P (x - mean)`` summed over the points."""
    points, solved, _, _, _ = _mvn_parts(x, mean, cov)
    total = np.sum(_weights(g, len(points))[:, None] * solved, axis=0)
    return np.sum(total) if np.ndim(mean) == 0 else np.reshape(total, np.shape(mean))


def mvn_cov_grad(g: Any, x: Any, mean: Any = None, cov: Any = 1) -> Any:
    """``cov``'s adjoint: ``(P d d' P - P) g / 2`` summed over the points; onto the lower
    triangle of a matrix (scipy reads that one, as ``eigh`` does), the diagonal of a
    1-D one, the trace of a scalar."""
    points, solved, inverse, _, _ = _mvn_parts(x, mean, cov)
    weights = _weights(g, len(points))
    whole = 0.5 * (solved.T @ (weights[:, None] * solved) - np.sum(weights) * inverse)
    if np.ndim(cov) == 0:
        return np.trace(whole)
    if np.ndim(cov) == 1:
        return np.diagonal(whole).copy()
    return np.tril(whole + whole.T) - np.diag(np.diagonal(whole))


def mvn_tangent(t: Any, x: Any, mean: Any, cov: Any, ans: Any, part: str) -> Any:
    """The tangent of ``multivariate_normal.logpdf`` (of ``ans``'s shape) along ``t``, the
    tangent of its ``part``: "x", "mean" or "cov" (as scipy reads it: its lower triangle,
    a 1-D one's diagonal, a scalar's multiple of the identity)."""
    points, solved, inverse, _, _ = _mvn_parts(x, mean, cov)
    if part == "x":
        moved = -np.sum(solved * np.asarray(t, dtype=float).reshape(points.shape), axis=-1)
    elif part == "mean":
        t_mean = np.asarray(t, dtype=float)
        step = np.full(points.shape[1], float(t_mean)) if t_mean.ndim == 0 else t_mean
        moved = solved @ step.reshape(-1)
    else:
        t_cov = np.asarray(t, dtype=float)
        k = points.shape[1]
        step = (t_cov * np.eye(k) if t_cov.ndim == 0 else np.diag(t_cov) if t_cov.ndim == 1
                else np.tril(t_cov) + np.tril(t_cov, -1).T)
        moved = 0.5 * (np.einsum("ni,ij,nj->n", solved, step, solved)
                       - np.trace(inverse @ step))
    return np.reshape(moved, np.shape(ans))


_MVN = {**STATS, "mvn_x_grad": mvn_x_grad, "mvn_mean_grad": mvn_mean_grad,
        "mvn_cov_grad": mvn_cov_grad, "mvn_tangent": mvn_tangent}
for _method, _factor in (("logpdf", "g"), ("pdf", "ans * g")):
    defrule(
        f"scipy.stats.multivariate_normal.{_method}(x, mean=None, cov=1, "
        "allow_singular=False)",
        env=_MVN,
        allow_singular=None,
        x=f"mvn_x_grad({_factor}, x, mean, cov)",
        mean=f"mvn_mean_grad({_factor}, x, mean, cov)",
        cov=f"mvn_cov_grad({_factor}, x, mean, cov)",
        tangents={
            part: f"{'ans * ' if _method == 'pdf' else ''}"
            f"mvn_tangent(t, x, mean, cov, ans, {part!r})"
            for part in ("x", "mean", "cov")
        },
    )
