"""Derivative rules for ``scipy.special``. srcad does not import SciPy itself: this module
is loaded (by :meth:`srcad.rules.table.RuleTable.defer`) once a program has imported
``scipy.special``, so the rules are there whenever a function can call it."""

from __future__ import annotations

import scipy
import scipy.special

from .numpy_arrays import ENV
from .table import defrule

SP = {**ENV, "scipy": scipy}

#: Elementwise functions of one argument: ``scipy.special.<name>(x)``.
UNARY = {
    "expit": "ans * (1 - ans) * g",
    "logit": "g / (x * (1 - x))",
    "erf": "2 / np.sqrt(np.pi) * np.exp(-x * x) * g",
    "erfc": "-2 / np.sqrt(np.pi) * np.exp(-x * x) * g",
    "gammaln": "scipy.special.digamma(x) * g",
    "digamma": "scipy.special.polygamma(1, x) * g",
    "log_expit": "(1 - np.exp(ans)) * g",
    "entr": "-(np.log(x) + 1) * g",  # -x log(x)
    # the normal distribution's CDF and its log (the density over the CDF, in logs)
    "ndtr": "np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi) * g",
    "log_ndtr": "np.exp(-0.5 * x * x - 0.5 * np.log(2 * np.pi) - ans) * g",
    "ndtri": "np.sqrt(2 * np.pi) * np.exp(0.5 * ans * ans) * g",
    "gamma": "ans * scipy.special.digamma(x) * g",
    # the inverses of erf and erfc: 1 / erf'(ans)
    "erfinv": "0.5 * np.sqrt(np.pi) * np.exp(ans * ans) * g",
    "erfcinv": "-0.5 * np.sqrt(np.pi) * np.exp(ans * ans) * g",
}
for _name, _template in UNARY.items():
    defrule(f"scipy.special.{_name}(x)", env=SP, elementwise=True, x=_template)

#: log B(a, b) = gammaln(a) + gammaln(b) - gammaln(a + b)
defrule(
    "scipy.special.betaln(a, b)",
    env=SP,
    elementwise=True,
    broadcasting=True,
    a="(scipy.special.digamma(a) - scipy.special.digamma(a + b)) * g",
    b="(scipy.special.digamma(b) - scipy.special.digamma(a + b)) * g",
)

#: ``x log(y)`` and ``x log(1 + y)``, exactly 0 where ``x`` is 0 (also their ``y``-derivative).
#: The ``x``-derivative is ``xlogy(g, y)``: 0 where ``g`` is (a tangent or a cotangent that
#: moves nothing), not ``log(0) * 0``, nan, where ``x`` is 0 and ``y`` too (KL terms).
defrule(
    "scipy.special.xlogy(x, y)",
    env=SP,
    elementwise=True,
    broadcasting=True,
    x="scipy.special.xlogy(g, y)",
    y="x_over_y(x, y) * g",
)
defrule(
    "scipy.special.xlog1py(x, y)",
    env=SP,
    elementwise=True,
    broadcasting=True,
    x="scipy.special.xlog1py(g, y)",
    y="x_over_y(x, 1 + y) * g",
)

#: Relative entropy ``x log(x / y)`` and the KL divergence term ``x log(x / y) - x + y``.
defrule(
    "scipy.special.rel_entr(x, y)",
    env=SP,
    elementwise=True,
    broadcasting=True,
    x="scipy.special.xlogy(g, x / y) + g",
    y="-x_over_y(x, y) * g",
)
defrule(
    "scipy.special.kl_div(x, y)",
    env=SP,
    elementwise=True,
    broadcasting=True,
    x="scipy.special.xlogy(g, x / y)",
    y="(1 - x_over_y(x, y)) * g",
)

#: ``log(sum(b exp(x)))``: a softmax (times the weights ``b``) for ``x``; for ``b``, the
#: shares ``exp(x - ans)``.
_LSE = "x, ans, axis, b, keepdims"
defrule(
    "scipy.special.logsumexp(x, axis=None, b=None, keepdims=False, return_sign=False)",
    env=SP,
    reduction=True,
    x=f"logsumexp_grad(g, {_LSE}, return_sign)",
    b=f"logsumexp_weight_grad(g, {_LSE}, return_sign)",
    tangents={"x": f"logsumexp_tangent(t, {_LSE})", "b": f"logsumexp_tangent(t, {_LSE}, True)"},
)
#: Softmax and log-softmax: shifting ``x`` along ``axis`` changes nothing.
defrule(
    "scipy.special.softmax(x, axis=None)",
    env=SP,
    shift_invariant="axis",
    x="ans * (g - np.sum(g * ans, axis=axis, keepdims=True))",
    tangents={"x": "ans * (t - np.sum(ans * t, axis=axis, keepdims=True))"},
)
defrule(
    "scipy.special.log_softmax(x, axis=None)",
    env=SP,
    shift_invariant="axis",
    x="g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True)",
    tangents={"x": "t - np.sum(np.exp(ans) * t, axis=axis, keepdims=True)"},
)

#: The n-th derivative of the digamma function: its derivative is the next one (n is an
#: order, an integer: no gradient).
defrule(
    "scipy.special.polygamma(n, x)",
    env=SP,
    elementwise=True,
    broadcasting=True,
    n=None,
    x="scipy.special.polygamma(n + 1, x) * g",
)

#: Box-Cox: ``(x ** lmbda - 1) / lmbda``, ``log(x)`` at ``lmbda`` 0; ``boxcox1p`` of
#: ``1 + x``. Its ``lmbda``-derivative ``(x ** lmbda log(x) - ans) / lmbda`` cancels near
#: ``lmbda`` 0: there (``|lmbda log(x)| < 0.01``) its series, ``L^2/2 + lmbda L^3/3 +
#: lmbda^2 L^4/8 + lmbda^3 L^5/30`` (``L = log(x)``), which differentiates again too.
_SERIES = "(L * L / 2 + lmbda * L ** 3 / 3 + lmbda ** 2 * L ** 4 / 8 + lmbda ** 3 * L ** 5 / 30)"
for _name, _base in (("boxcox", "x"), ("boxcox1p", "(1 + x)")):
    _log = f"np.log({_base})"
    _near = f"np.abs(lmbda * {_log}) < 0.01"
    _closed = f"({_base} ** lmbda * {_log} - ans) / np.where({_near}, 1.0, lmbda)"
    defrule(
        f"scipy.special.{_name}(x, lmbda)",
        env=SP,
        elementwise=True,
        broadcasting=True,
        x=f"{_base} ** (lmbda - 1) * g",
        lmbda=f"np.where({_near}, {_SERIES.replace('L', _log)}, {_closed}) * g",
    )

#: Huber's loss of a residual ``r``: ``r ** 2 / 2`` within ``delta``, linear beyond (its
#: slope the residual clipped to ``delta``); the pseudo-Huber loss, smooth throughout.
defrule(
    "scipy.special.huber(delta, r)",
    env=SP,
    elementwise=True,
    broadcasting=True,
    r="np.clip(r, -delta, delta) * g",
    delta="np.where(np.abs(r) <= delta, 0.0, np.abs(r) - delta) * g",
)
defrule(
    "scipy.special.pseudo_huber(delta, r)",
    env=SP,
    elementwise=True,
    broadcasting=True,
    r="r / np.sqrt(1 + (r / delta) ** 2) * g",
    delta="(2 * ans / delta - r * r / (delta * np.sqrt(1 + (r / delta) ** 2))) * g",
)
