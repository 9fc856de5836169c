"""Derivative rules for the log-densities, densities and distribution functions of
``scipy.stats``' common distributions (methods of its distribution objects, called as
``norm.logpdf(x, mu, sigma)``). Loaded once a program has imported ``scipy.stats`` (see
:mod:`srcad.rules`). ``z = (x - loc) / scale`` throughout; the parameters' gradients hold
inside the support."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import scipy
import scipy.special
import scipy.stats

from .numpy_arrays import ENV
from .table import defrule

STATS = {**ENV, "scipy": scipy}
_Z = "((x - loc) / scale)"
_DIGAMMA = "scipy.special.digamma"


def _distribution(
    pattern: str, templates: Mapping[str, str], none: tuple[str, ...] = ()
) -> None:
    """A rule for ``scipy.stats.<pattern>``: elementwise, broadcasting, its tangents the
    templates with ``t`` for ``g``; the parameters in ``none`` get no gradient."""
    adjoints: dict[str, Any] = {**templates, **{name: None for name in none}}
    defrule(f"scipy.stats.{pattern}", env=STATS, elementwise=True, broadcasting=True, **adjoints)


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


#: -d/dz of the standard log-density
_SCORES = {
    "norm": _Z,
    "cauchy": f"(2 * {_Z} / (1 + {_Z} ** 2))",
    "laplace": f"np.sign({_Z})",
    "logistic": f"np.tanh(0.5 * {_Z})",
}
for _name, _score in _SCORES.items():
    _location_scale(f"{_name}.logpdf", "", _score)
    _location_scale(f"{_name}.pdf", "", _score, log=False)

#: the normal distribution's CDF, survival function, their logs, and its quantiles
_PDF = "scipy.stats.norm.pdf(x, loc, scale)"
_LOGPDF = "scipy.stats.norm.logpdf(x, loc, scale)"
for _method, _density, _rising in [
    ("cdf", _PDF, True),
    ("sf", _PDF, False),
    ("logcdf", f"np.exp({_LOGPDF} - ans)", True),
    ("logsf", f"np.exp({_LOGPDF} - ans)", False),
]:
    _up, _down = ("", "-") if _rising else ("-", "")
    _distribution(f"norm.{_method}(x, loc=0, scale=1)", {
        "x": f"{_up}{_density} * g",
        "loc": f"{_down}{_density} * g",
        "scale": f"{_down}{_density} * {_Z} * g",
    })
_distribution("norm.ppf(q, loc=0, scale=1)", {
    "q": "g / scipy.stats.norm.pdf(ans, loc, scale)",
    "loc": "g",
    "scale": "(ans - loc) / scale * g",
})

#: Student's t: log p = ... - (df + 1) / 2 log(1 + z^2 / df) - log(scale)
_location_scale(
    "t.logpdf",
    "df",
    f"((df + 1) * {_Z} / (df + {_Z} ** 2))",
    df=f"0.5 * ({_DIGAMMA}(0.5 * (df + 1)) - {_DIGAMMA}(0.5 * df) - 1 / df"
    f" - np.log1p({_Z} ** 2 / df) + (df + 1) * {_Z} ** 2 / (df * (df + {_Z} ** 2))) * g",
)

#: the gamma distribution (shape a): log p = (a - 1) log z - z - gammaln(a) - log(scale)
_location_scale(
    "gamma.logpdf", "a", f"(1 - (a - 1) / {_Z})", a=f"(np.log({_Z}) - {_DIGAMMA}(a)) * g"
)
_location_scale("expon.logpdf", "", "1")

#: the beta distribution: log p = (a - 1) log z + (b - 1) log(1 - z) - betaln(a, b) - log(scale)
_location_scale(
    "beta.logpdf",
    "a, b",
    f"((b - 1) / (1 - {_Z}) - (a - 1) / {_Z})",
    a=f"(np.log({_Z}) - {_DIGAMMA}(a) + {_DIGAMMA}(a + b)) * g",
    b=f"(np.log1p(-{_Z}) - {_DIGAMMA}(b) + {_DIGAMMA}(a + b)) * g",
)

#: counts (k, n: data, no gradient): Poisson and binomial log-probabilities
_distribution(
    "poisson.logpmf(k, mu, loc=0)", {"mu": "(x_over_y(k - loc, mu) - 1) * g"}, ("k", "loc")
)
_distribution(
    "binom.logpmf(k, n, p, loc=0)",
    {"p": "(x_over_y(k - loc, p) - x_over_y(n - (k - loc), 1 - p)) * g"},
    ("k", "n", "loc"),
)
