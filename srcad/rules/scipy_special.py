"""Derivative rules for ``scipy.special``. srcad does not import SciPy itself: this module
is loaded (by :meth:`srcad.rules.table.RuleTable.defer`) once a program has imported
``scipy.special``, so the rules are there whenever a function can call it."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy
import scipy.special

from ..runtime import divide_or_zero
from .numpy_arrays import ENV
from .table import defrule


def at_pole(x: Any) -> Any:
    """Where ``x`` is a pole of the gamma function: 0, -1, -2, ..."""
    return (np.asarray(x) <= 0) & (np.floor(x) == x)


#: below this |m|, the elliptic integrals' slopes by their series (to m^3: relative
#: error ~m^4), above it by their closed forms (cancellation: ~1e-16 / m)
_NEAR_ZERO = 1e-3


def ellipk_slope(m: Any) -> Any:
    """``K'(m) = (E - (1 - m) K) / (2 m (1 - m))``; near 0 its series ``pi/2 (1/4 + 9/32 m +
    75/256 m^2 + 1225/4096 m^3)``."""
    near = np.abs(m) < _NEAR_ZERO
    safe = np.where(near, 0.5, m)
    closed = (scipy.special.ellipe(safe) - (1 - safe) * scipy.special.ellipk(safe)) / (
        2 * safe * (1 - safe))
    series = np.pi / 2 * (0.25 + 9 / 32 * m + 75 / 256 * m**2 + 1225 / 4096 * m**3)
    return np.where(near, series, closed)


def ellipe_slope(m: Any) -> Any:
    """``E'(m) = (E - K) / (2 m)``; near 0 its series ``-pi/2 (1/4 + 3/32 m + 15/256 m^2 +
    175/4096 m^3)``."""
    near = np.abs(m) < _NEAR_ZERO
    safe = np.where(near, 0.5, m)
    closed = (scipy.special.ellipe(safe) - scipy.special.ellipk(safe)) / (2 * safe)
    series = -np.pi / 2 * (0.25 + 3 / 32 * m + 15 / 256 * m**2 + 175 / 4096 * m**3)
    return np.where(near, series, closed)


SP = {**ENV, "scipy": scipy, "divide_or_zero": divide_or_zero, "at_pole": at_pole,
      "ellipk_slope": ellipk_slope, "ellipe_slope": ellipe_slope}

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
#: Exponentials, logarithms and integrals of them: ``expi' = e^x / x``, ``E1' = -e^-x / x``;
#: the scaled complementary error function ``erfcx = e^(x^2) erfc(x)`` and Dawson's
#: integral ``F' = 1 - 2 x F``; ``1/Gamma`` and ``log Gamma`` (real arguments).
UNARY.update({
    "expm1": "(ans + 1) * g",
    "log1p": "g / (1 + x)",
    "exp2": "np.log(2.0) * ans * g",
    "exp10": "np.log(10.0) * ans * g",
    "cbrt": "divide_or_zero(g, 3 * ans * ans)",
    "psi": "scipy.special.polygamma(1, x) * g",
    "loggamma": "scipy.special.digamma(x) * g",
    # (at the poles 0, -1, -2, ... of Gamma, where 1/Gamma is 0: (-1)^n n!)
    "rgamma": "np.where(at_pole(x), np.cos(np.pi * x) * scipy.special.gamma(1 - x), "
    "-ans * scipy.special.digamma(x)) * g",
    "expi": "np.exp(x) / x * g",
    "exp1": "-np.exp(-x) / x * g",
    "erfcx": "(2 * x * ans - 2 / np.sqrt(np.pi)) * g",
    "dawsn": "(1 - 2 * x * ans) * g",
})
#: Bessel functions of integer order, by the recurrences ``Z_0' = -Z_1`` (``I_0' = I_1``)
#: and ``Z_1' = (Z_0 -+ Z_2) / 2``; the exponentially scaled ``i0e = e^-|x| I_0``, ``k0e
#: = e^x K_0`` and their order-1 kin add the scale's derivative.
UNARY.update({
    "j0": "-scipy.special.j1(x) * g",
    "j1": "0.5 * (scipy.special.j0(x) - scipy.special.jv(2, x)) * g",
    "y0": "-scipy.special.y1(x) * g",
    "y1": "0.5 * (scipy.special.y0(x) - scipy.special.yv(2, x)) * g",
    "i0": "scipy.special.i1(x) * g",
    "i1": "0.5 * (scipy.special.i0(x) + scipy.special.iv(2, x)) * g",
    "k0": "-scipy.special.k1(x) * g",
    "k1": "-0.5 * (scipy.special.k0(x) + scipy.special.kv(2, x)) * g",
    "i0e": "(scipy.special.i1e(x) - np.sign(x) * ans) * g",
    "i1e": "(0.5 * (scipy.special.i0e(x) + scipy.special.ive(2, x)) - np.sign(x) * ans) * g",
    "k0e": "(ans - scipy.special.k1e(x)) * g",
    "k1e": "(ans - 0.5 * (scipy.special.k0e(x) + scipy.special.kve(2, x))) * g",
    # complete elliptic integrals of the parameter m (x here): their series near 0, where
    # the closed forms are 0/0
    "ellipk": "ellipk_slope(x) * g",
    "ellipe": "ellipe_slope(x) * g",
})
#: Wright's omega (``w + log w = x``): ``w / (1 + w)``; the dilogarithm ``spence`` (SciPy's
#: ``int_1^x log t / (1 - t) dt``): ``log(x) / (1 - x)``, -1 at 1; ``cos(x) - 1``.
UNARY.update({
    "wrightomega": "ans / (1 + ans) * g",
    "spence": "np.where(x == 1, -1.0, np.log(x) / np.where(x == 1, 1.0, 1 - x)) * g",
    "cosm1": "-np.sin(x) * g",
})
if hasattr(scipy.special, "softplus"):  # (SciPy 1.15 on)
    UNARY["softplus"] = "scipy.special.expit(x) * g"
for _name, _template in UNARY.items():
    defrule(f"scipy.special.{_name}(x)", env=SP, elementwise=True, x=_template)

#: Bessel functions of real order ``v`` (an order: no gradient), by ``Z_v' = (Z_(v-1) -+
#: Z_(v+1)) / 2``; the scaled ``ive = e^-|x| I_v`` and ``kve = e^x K_v`` add the scale's.
BESSEL = {
    "jv": "0.5 * (scipy.special.jv(v - 1, x) - scipy.special.jv(v + 1, x)) * g",
    "yv": "0.5 * (scipy.special.yv(v - 1, x) - scipy.special.yv(v + 1, x)) * g",
    "iv": "0.5 * (scipy.special.iv(v - 1, x) + scipy.special.iv(v + 1, x)) * g",
    "kv": "-0.5 * (scipy.special.kv(v - 1, x) + scipy.special.kv(v + 1, x)) * g",
    "ive": "(0.5 * (scipy.special.ive(v - 1, x) + scipy.special.ive(v + 1, x))"
    " - np.sign(x) * ans) * g",
    "kve": "(ans - 0.5 * (scipy.special.kve(v - 1, x) + scipy.special.kve(v + 1, x))) * g",
    "jn": "0.5 * (scipy.special.jv(v - 1, x) - scipy.special.jv(v + 1, x)) * g",
    "yn": "0.5 * (scipy.special.yv(v - 1, x) - scipy.special.yv(v + 1, x)) * g",
    "kn": "-0.5 * (scipy.special.kv(v - 1, x) + scipy.special.kv(v + 1, x)) * g",
}
for _name, _template in BESSEL.items():
    defrule(f"scipy.special.{_name}(v, x)", env=SP, elementwise=True, broadcasting=True,
            v=None, orders=("v",), x=_template)

#: The beta function ``B(a, b) = Gamma(a) Gamma(b) / Gamma(a + b)``, and the binomial
#: coefficient of real arguments, ``Gamma(n + 1) / (Gamma(k + 1) Gamma(n - k + 1))``.
defrule(
    "scipy.special.beta(a, b)",
    env=SP,
    elementwise=True,
    broadcasting=True,
    a="ans * (scipy.special.digamma(a) - scipy.special.digamma(a + b)) * g",
    b="ans * (scipy.special.digamma(b) - scipy.special.digamma(a + b)) * g",
)
#: Where ``n - k + 1`` is a pole of Gamma the coefficient is 0, and its slope comes from
#: ``1/Gamma``'s there (``(-1)^j j!``) times ``Gamma(n + 1) / Gamma(k + 1)``.
_AT_ZERO = ("scipy.special.gamma(n + 1) / scipy.special.gamma(k + 1) * np.cos(np.pi * (n - k + 1))"
            " * scipy.special.gamma(k - n)")
defrule(
    "scipy.special.binom(n, k)",
    env=SP,
    elementwise=True,
    broadcasting=True,
    n=f"np.where(at_pole(n - k + 1), {_AT_ZERO}, ans * (scipy.special.digamma(n + 1)"
    " - scipy.special.digamma(n - k + 1))) * g",
    k=f"np.where(at_pole(n - k + 1), -{_AT_ZERO}, ans * (scipy.special.digamma(n - k + 1)"
    " - scipy.special.digamma(k + 1))) * g",
)
#: The cube of a cube root is its argument: one gate, with the slope 1 at 0 too.
defrule("scipy.special.cbrt(x) ** 3", env=SP, elementwise=True, name="cubed cube root (scipy)",
        x="g", tangents={"x": "t"})
#: The regularized incomplete gamma functions in ``x`` (the shape ``a`` has no closed
#: form: an order here, refused where it depends on the inputs): ``P' = x^(a-1) e^-x /
#: Gamma(a)``, ``Q' = -P'``.
_GAMMA_DENSITY = "np.exp((a - 1) * np.log(x) - x - scipy.special.gammaln(a))"
for _name, _sign in (("gammainc", ""), ("gammaincc", "-")):
    defrule(f"scipy.special.{_name}(a, x)", env=SP, elementwise=True, broadcasting=True,
            a=None, orders=("a",), x=f"{_sign}{_GAMMA_DENSITY} * g")
#: The regularized incomplete beta function in ``x`` (``a`` and ``b``: as above).
defrule(
    "scipy.special.betainc(a, b, x)",
    env=SP,
    elementwise=True,
    broadcasting=True,
    a=None,
    b=None,
    orders=("a", "b"),
    x="np.exp((a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - scipy.special.betaln(a, b)) * g",
)

#: The Hurwitz zeta function ``zeta(x, q) = sum_k (k + q)^-x`` in ``q``: ``-x zeta(x + 1,
#: q)``; in ``x`` it has no closed form (an order here: refused where it depends on the
#: inputs), so Riemann's zeta (``q`` left out) has no gradient either.
defrule("scipy.special.zeta(x, q=None)", env=SP, elementwise=True, broadcasting=True,
        x=None, orders=("x",), q="-x * scipy.special.zeta(x + 1, q) * g")

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
    orders=("n",),
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

#: The exponential integral ``E_n(x)`` (``n``: an order): ``E_n' = -E_(n-1)``, ``E_0 =
#: e^-x / x``.
defrule("scipy.special.expn(n, x)", env=SP, elementwise=True, broadcasting=True, n=None,
        orders=("n",), x="-scipy.special.expn(n - 1, x) * g")

#: Pochhammer's ``(z)_m = Gamma(z + m) / Gamma(z)``.
defrule(
    "scipy.special.poch(z, m)",
    env=SP,
    elementwise=True,
    broadcasting=True,
    z="ans * (scipy.special.digamma(z + m) - scipy.special.digamma(z)) * g",
    m="ans * scipy.special.digamma(z + m) * g",
)

#: Owen's T function ``T(h, a) = 1/(2 pi) int_0^a exp(-h^2 (1 + x^2) / 2) / (1 + x^2) dx``
#: (the bivariate normal's and the skew-normal's CDF): ``dT/dh = -phi(h) erf(a h / sqrt 2)
#: / 2``, ``dT/da = exp(-h^2 (1 + a^2) / 2) / (2 pi (1 + a^2))``.
defrule(
    "scipy.special.owens_t(h, a)",
    env=SP,
    elementwise=True,
    broadcasting=True,
    h="-np.exp(-0.5 * h * h) / np.sqrt(8 * np.pi) * scipy.special.erf(a * h / np.sqrt(2.0)) * g",
    a="np.exp(-0.5 * h * h * (1 + a * a)) / (2 * np.pi * (1 + a * a)) * g",
)

#: The inverse Box-Cox transform ``x = (1 + lmbda y) ** (1 / lmbda)`` (``exp(y)`` at
#: ``lmbda`` 0): ``dx/dy = x / (1 + lmbda y)``; ``dx/dlmbda = x (y / (lmbda (1 + lmbda
#: y)) - log(1 + lmbda y) / lmbda^2)``, which cancels near ``lmbda`` 0: there (``|lmbda
#: y| < 1e-3``) its series, ``x (-y^2/2 + 2 lmbda y^3/3 - 3 lmbda^2 y^4/4)``.
_INV_NEAR = "np.abs(lmbda * y) < 1e-3"
_INV_SAFE = f"np.where({_INV_NEAR}, 1.0, lmbda)"
defrule(
    "scipy.special.inv_boxcox(y, lmbda)",
    env=SP,
    elementwise=True,
    broadcasting=True,
    y="ans / (1 + lmbda * y) * g",
    lmbda=f"ans * np.where({_INV_NEAR}, -y * y / 2 + 2 * lmbda * y ** 3 / 3"
    f" - 3 * lmbda ** 2 * y ** 4 / 4, y / ({_INV_SAFE} * (1 + lmbda * y))"
    f" - np.log1p(lmbda * y) / {_INV_SAFE} ** 2) * g",
)

#: Student's t CDF in ``t`` (its density; ``df``, an order: no closed form) and the gamma
#: CDF ``gdtr(a, b, x) = P(b, a x)`` of rate ``a`` in ``a`` and ``x`` (``b``, the shape: an
#: order).
defrule(
    "scipy.special.stdtr(df, t)",
    env=SP,
    elementwise=True,
    broadcasting=True,
    df=None,
    orders=("df",),
    t="np.exp(scipy.special.gammaln((df + 1) / 2) - scipy.special.gammaln(df / 2)"
    " - 0.5 * np.log(df * np.pi) - (df + 1) / 2 * np.log1p(t * t / df)) * g",
)
_RATED = "np.exp((b - 1) * np.log(a * x) - a * x - scipy.special.gammaln(b))"
defrule(
    "scipy.special.gdtr(a, b, x)",
    env=SP,
    elementwise=True,
    broadcasting=True,
    b=None,
    orders=("b",),
    a=f"x * {_RATED} * g",
    x=f"a * {_RATED} * g",
)

#: Hypergeometric functions in their argument (the parameters: orders): ``1F1' = a/b
#: 1F1(a+1, b+1, x)``, ``2F1' = ab/c 2F1(a+1, b+1, c+1, z)``.
defrule("scipy.special.hyp1f1(a, b, x)", env=SP, elementwise=True, broadcasting=True,
        a=None, b=None, orders=("a", "b"),
        x="a / b * scipy.special.hyp1f1(a + 1, b + 1, x) * g")
defrule("scipy.special.hyp2f1(a, b, c, z)", env=SP, elementwise=True, broadcasting=True,
        a=None, b=None, c=None, orders=("a", "b", "c"),
        z="a * b / c * scipy.special.hyp2f1(a + 1, b + 1, c + 1, z) * g")

#: Incomplete elliptic integrals of the first and second kind, ``F(phi, m)`` and ``E(phi,
#: m)``: in ``phi`` ``1 / D`` and ``D`` (``D = sqrt(1 - m sin^2 phi)``); in ``m``, ``E / (2m
#: (1 - m)) - F / (2m) - sin 2phi / (4 (1 - m) D)`` and ``(E - F) / (2m)``, with their
#: limits at ``m`` 0, ``phi/4 - sin 2phi / 8`` and its negative.
_D = "np.sqrt(1 - m * np.sin(phi) ** 2)"
_M = "np.where(m == 0, 1.0, m)"
_AT_0 = "(phi / 4 - np.sin(2 * phi) / 8)"
defrule(
    "scipy.special.ellipkinc(phi, m)",
    env=SP,
    elementwise=True,
    broadcasting=True,
    phi=f"g / {_D}",
    m=f"np.where(m == 0, {_AT_0}, scipy.special.ellipeinc(phi, m) / (2 * {_M} * (1 - m))"
    f" - ans / (2 * {_M}) - np.sin(2 * phi) / (4 * (1 - m) * {_D})) * g",
)
defrule(
    "scipy.special.ellipeinc(phi, m)",
    env=SP,
    elementwise=True,
    broadcasting=True,
    phi=f"{_D} * g",
    m=f"np.where(m == 0, -{_AT_0}, (ans - scipy.special.ellipkinc(phi, m)) / (2 * {_M})) * g",
)
