"""Derivative rules for ``scipy.integrate``'s integrators of a function, loaded once a
program has imported it (see :mod:`srcad.rules.scipy_special`): ``quad``, ``odeint`` and
``solve_ivp``. Their values are SciPy's own; their derivatives are those of the exact
integral or solution, computed at run time from srcad's derivatives of the user's function
(built once per function, as the root finders' are: :mod:`srcad.rules.passed_functions`).

* ``quad(f, a, b, args)``: Leibniz's rule, ``d/dp int_a^b f(x, p) dx = int_a^b df/dp dx +
  f(b, p) b' - f(a, p) a'``; the integral of the gradient by ``quad`` (one number) or
  ``quad_vec`` (several), with the call's tolerances; an infinite limit has no derivative.
* ``odeint(f, y0, t, args)`` and ``solve_ivp(f, t_span, y0, args=...)``: forward
  sensitivities. The state ``y`` and its Jacobian ``S = dy/d(y0, p)`` are integrated
  together, ``S' = J_y S + J_p`` from ``S(t0) = [I 0]`` (``J`` by ``srcad.jacobian`` of
  ``f``), by the same solver with tighter tolerances (:func:`_tighter`); the gradient
  contracts the cotangent of the solution with ``S`` at the output times. The times
  (``t``, ``t_span``, ``t_eval``) get no derivative, and are refused where they depend on
  the inputs.

``solve_ivp``'s result is read as a record of SciPy's fields (:class:`IvpSolution`, made
by :func:`solve_ivp`, which srcad calls in SciPy's place: :mod:`srcad.lower.closures`).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import scipy
import scipy.integrate

from .. import trees
from ..errors import NoRuleError
from ..load import user_line
from ..runtime import AdjointList, AdjointRecord
from .numpy_arrays import ENV
from .passed_functions import (
    SolutionRecord,
    args_adjoint,
    args_adjoint_of_flat,
    args_direction,
    as_scipy_gives,
    derivative_at,
    differentiated_items,
    flat_tangent,
    item_tangents,
    jacobian_matrix,
    number,
    scaled,
    shaped_like,
)
from .table import Templates, defrule

# ================================================================ quad


def _first(g: Any) -> Any:
    """The cotangent of quad's value, from that of its ``(value, abserr)`` tuple."""
    return g[0] if isinstance(g, list | tuple) else g


def _gradient_integral(
    func: Any, a: Any, b: Any, args: Any, epsabs: Any, epsrel: Any, limit: Any, points: Any
) -> list[Any]:
    """``int_a^b df/d args[k] dx`` for each item of ``args`` (None for an item that is
    not a number), each in its item's structure."""
    items = as_scipy_gives(args)
    found: list[Any] = [None] * len(items)
    differentiated = differentiated_items(args)
    if not differentiated:
        return found
    positions = tuple(1 + k for k in differentiated)

    def integrand(x: float) -> np.ndarray:
        gradient = derivative_at("grad", func, positions, x, *items)
        return np.concatenate([trees.flat(part) for part in gradient])

    size = integrand(_inside(a, b)).size
    if size == 1:
        total = np.array([scipy.integrate.quad(
            lambda x: integrand(x)[0], a, b, epsabs=epsabs, epsrel=epsrel, limit=limit,
            points=points,
        )[0]])
    else:
        total = np.asarray(scipy.integrate.quad_vec(
            integrand, a, b, epsabs=epsabs, epsrel=epsrel, limit=max(limit, 10000),
            points=points, norm="max",
        )[0])
    start = 0
    for k in differentiated:
        size = trees.flat(items[k]).size
        found[k] = shaped_like(items[k], total[start:start + size])
        start += size
    return found


def _inside(a: Any, b: Any) -> float:
    """A point inside the interval (where the integrand's gradient is shaped)."""
    low, high = sorted((float(a), float(b)))
    if np.isfinite(low) and np.isfinite(high):
        return 0.5 * (low + high)
    if np.isfinite(low):
        return low + 1.0
    return high - 1.0 if np.isfinite(high) else 0.0


def _at_limit(func: Any, limit: Any, args: Any) -> float:
    """The integrand at a limit; 0 at an infinite one (the limit has no derivative)."""
    if not np.isfinite(limit):
        return 0.0
    return float(func(float(limit), *as_scipy_gives(args)))


def quad_args_grad(
    g: Any, func: Any, a: Any, b: Any, args: Any, epsabs: Any, epsrel: Any, limit: Any,
    points: Any,
) -> Any:
    """Adjoint of quad's ``args``: ``g int_a^b df/d args[k] dx`` per item."""
    factor = number(_first(g))
    parts = _gradient_integral(func, a, b, args, epsabs, epsrel, limit, points)
    return args_adjoint(args, [0.0 if p is None else scaled(p, factor) for p in parts])


def quad_args_tangent(
    t: Any, func: Any, a: Any, b: Any, args: Any, epsabs: Any, epsrel: Any, limit: Any,
    points: Any,
) -> AdjointList:
    """Tangent of quad's ``(value, abserr)`` along ``args``' tangents ``t``."""
    parts = _gradient_integral(func, a, b, args, epsabs, epsrel, limit, points)
    values = [p for p in parts if p is not None]
    tangents = [tk for p, tk in zip(parts, item_tangents(args, t), strict=True) if p is not None]
    total = float(trees.flat(values) @ flat_tangent(values, tangents)) if values else 0.0
    return AdjointList([total, 0.0])


def quad_limit_grad(g: Any, func: Any, limit: Any, args: Any, sign: int) -> float:
    """Adjoint of a limit of quad (``sign``: +1 the upper, -1 the lower):
    ``sign g f(limit)``."""
    return sign * number(_first(g)) * _at_limit(func, limit, args)


def quad_limit_tangent(t: Any, func: Any, limit: Any, args: Any, sign: int) -> AdjointList:
    """Tangent of quad's ``(value, abserr)`` along a limit's tangent ``t``."""
    return AdjointList([sign * _at_limit(func, limit, args) * t, 0.0])


# ================================================================ ODEs: forward sensitivities


@dataclasses.dataclass(frozen=True)
class _Ode:
    """The right-hand side ``f`` of an ODE of ``n`` states and its ``args`` (``state_first``:
    ``f(y, t, *args)``, odeint's order; else ``f(t, y, *args)``), and the system of the
    state and its Jacobian in ``(y0, p)``, ``p`` the numbers of the differentiated items."""

    f: Any
    args: tuple[Any, ...]
    n: int
    state_first: bool

    @property
    def items(self) -> list[int]:
        return differentiated_items(self.args)

    @property
    def width(self) -> int:
        """The columns of ``S``: the initial state's, then the parameters'."""
        return self.n + int(sum(trees.flat(self.args[k]).size for k in self.items))

    def call(self, t: float, y: np.ndarray) -> Any:
        return self.f(y, t, *self.args) if self.state_first else self.f(t, y, *self.args)

    def jacobian(self, t: float, y: np.ndarray) -> np.ndarray:
        """``[J_y J_p]`` at ``(t, y)``: ``n`` rows, :attr:`width` columns."""
        first = 0 if self.state_first else 1
        positions = (first, *(2 + k for k in self.items))
        given = (y, t) if self.state_first else (t, y)
        return jacobian_matrix(self.f, positions, (*given, *self.args))[1]

    def start(self, y0: Any) -> np.ndarray:
        """The augmented state at the start: ``y0`` and ``S = [I 0]``."""
        sensitivity = np.eye(self.n, self.width)
        return np.concatenate([np.ravel(np.asarray(y0, dtype=float)), sensitivity.ravel()])

    def augmented(self, t: float, z: np.ndarray) -> np.ndarray:
        """``(y, S)' = (f, J_y S + [0 J_p])``."""
        y = z[:self.n]
        jacobian = self.jacobian(t, y)
        change = jacobian[:, :self.n] @ z[self.n:].reshape(self.n, self.width)
        change[:, self.n:] += jacobian[:, self.n:]
        value = np.ravel(np.asarray(self.call(t, y), dtype=float))
        return np.concatenate([value, change.ravel()])

    def sensitivities(self, z: np.ndarray) -> np.ndarray:
        """``S`` at each output time, from the augmented states (one per row)."""
        return z[:, self.n:].reshape(len(z), self.n, self.width)


def _tighter(rtol: Any, atol: Any) -> tuple[float, float]:
    """The tolerances of the sensitivity solve: the call's, or tighter (the derivative
    is that of the exact solution, whatever tolerances the value was computed with)."""
    return min(float(rtol), 1e-8), min(float(np.min(atol)), 1e-10)


def _failed(name: str, message: Any) -> NoRuleError:
    return NoRuleError(
        f"the solve of the sensitivities of {name} (the solution's derivative, with "
        f"tighter tolerances) failed: {message}",
        "check the problem has a solution over the times asked; a stiff one needs an "
        "implicit method (method='LSODA', 'BDF' or 'Radau')",
        user_line(3),
    )


_LOCK = threading.Lock()
#: id(result) -> (the result, its sensitivities): the last few calls' (the adjoints of
#: y0 and of args, or their tangents, read the same solve)
_SOLVED: dict[int, tuple[Any, np.ndarray]] = {}


def _solved_once(ans: Any, solve: Callable[[], np.ndarray]) -> np.ndarray:
    with _LOCK:
        kept = _SOLVED.get(id(ans))
    if kept is not None and kept[0] is ans:
        return kept[1]
    found = solve()
    with _LOCK:
        while len(_SOLVED) >= 8:
            _SOLVED.pop(next(iter(_SOLVED)))
        _SOLVED[id(ans)] = (ans, found)  # (ans kept alive: its id is the key)
    return found


def _odeint_sensitivities(
    func: Any, y0: Any, t: Any, args: Any, ans: Any, rtol: Any, atol: Any, tcrit: Any,
    hmax: Any, mxstep: Any, tfirst: Any,
) -> np.ndarray:
    """``S`` at each of odeint's output times (``len(t), n, width``)."""
    ode = _Ode(func, as_scipy_gives(args), int(np.size(y0)), not tfirst)

    def solve() -> np.ndarray:
        tight_rtol, tight_atol = _tighter(1.49012e-8 if rtol is None else rtol,
                                          1.49012e-8 if atol is None else atol)
        z, info = scipy.integrate.odeint(
            ode.augmented, ode.start(y0), t, rtol=tight_rtol, atol=tight_atol, tcrit=tcrit,
            hmax=hmax, mxstep=max(int(mxstep), 5000), tfirst=True, full_output=True,
        )
        if info["message"] != "Integration successful.":
            raise _failed("scipy.integrate.odeint", info["message"])
        return ode.sensitivities(z)

    return _solved_once(ans, solve)


def _adjoints(
    g: Any, sensitivities: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """``sum_k g_k S_k``, split into ``y0``'s part and the parameters'; ``g`` one row
    per output time."""
    total = np.einsum("ki,kij->j", g, sensitivities)
    return total[:n], total[n:]


def _y0_shaped(y0: Any, values: np.ndarray) -> Any:
    return number(values[0]) if np.ndim(y0) == 0 else values.reshape(np.shape(y0))


def odeint_y0_grad(g: Any, func: Any, y0: Any, t: Any, args: Any, ans: Any,
                   *options: Any) -> Any:
    """Adjoint of odeint's ``y0``: ``sum_k g_k dy(t_k)/dy0``."""
    sensitivities = _odeint_sensitivities(func, y0, t, args, ans, *options)
    cotangent = np.broadcast_to(np.asarray(g, dtype=float), np.shape(ans))
    return _y0_shaped(y0, _adjoints(cotangent, sensitivities, np.shape(ans)[1])[0])


def odeint_args_grad(g: Any, func: Any, y0: Any, t: Any, args: Any, ans: Any,
                     *options: Any) -> Any:
    """Adjoint of odeint's ``args``: ``sum_k g_k dy(t_k)/dp``, in ``args``' structure."""
    sensitivities = _odeint_sensitivities(func, y0, t, args, ans, *options)
    cotangent = np.broadcast_to(np.asarray(g, dtype=float), np.shape(ans))
    return args_adjoint_of_flat(args, _adjoints(cotangent, sensitivities, np.shape(ans)[1])[1])


def odeint_y0_tangent(t_: Any, func: Any, y0: Any, t: Any, args: Any, ans: Any,
                      *options: Any) -> np.ndarray:
    """Tangent of odeint's solution along ``y0``'s tangent ``t_``."""
    sensitivities = _odeint_sensitivities(func, y0, t, args, ans, *options)
    n = np.shape(ans)[1]
    return sensitivities[:, :, :n] @ np.ravel(np.asarray(t_, dtype=float))


def odeint_args_tangent(t_: Any, func: Any, y0: Any, t: Any, args: Any, ans: Any,
                        *options: Any) -> np.ndarray:
    """Tangent of odeint's solution along ``args``' tangents ``t_``."""
    sensitivities = _odeint_sensitivities(func, y0, t, args, ans, *options)
    n = np.shape(ans)[1]
    return sensitivities[:, :, n:] @ args_direction(args, t_)


# ================================================================ solve_ivp


@dataclasses.dataclass(frozen=True)
class IvpSolution(SolutionRecord):
    """``solve_ivp``'s result as srcad reads it: a record of SciPy's fields (its values
    are SciPy's own; read them as attributes, ``sol.y``, ``sol.t``)."""

    ROUTINE: ClassVar[str] = "scipy.integrate.solve_ivp"

    t: Any
    y: Any
    sol: Any
    t_events: Any
    y_events: Any
    nfev: int
    njev: int
    nlu: int
    status: int
    message: str
    success: bool


def solve_ivp(
    fun: Any, t_span: Any, y0: Any, method: Any = "RK45", t_eval: Any = None,
    dense_output: Any = False, events: Any = None, vectorized: Any = False, args: Any = None,
    **options: Any,
) -> IvpSolution:
    """``scipy.integrate.solve_ivp``, called by the code srcad generates in its place:
    SciPy's solution, as an :class:`IvpSolution`."""
    found = scipy.integrate.solve_ivp(
        fun, t_span, y0, method=method, t_eval=t_eval, dense_output=dense_output,
        events=events, vectorized=vectorized, args=args, **options,
    )
    return IvpSolution(**{f.name: found.get(f.name) for f in dataclasses.fields(IvpSolution)})


def _ivp_sensitivities(
    fun: Any, t_span: Any, y0: Any, method: Any, t_eval: Any, args: Any, rtol: Any,
    atol: Any, first_step: Any, max_step: Any, ans: IvpSolution,
) -> np.ndarray:
    """``S`` at each of the solution's times (``len(ans.t), n, width``)."""
    if ans.status != 0:
        raise _failed("scipy.integrate.solve_ivp", f"the solve itself did: {ans.message}")
    ode = _Ode(fun, as_scipy_gives(args), int(np.size(y0)), False)

    def solve() -> np.ndarray:
        tight_rtol, tight_atol = _tighter(rtol, atol)
        found = scipy.integrate.solve_ivp(
            ode.augmented, t_span, ode.start(y0), method=method, t_eval=ans.t,
            rtol=tight_rtol, atol=tight_atol, first_step=first_step, max_step=max_step,
        )
        if found.status != 0:
            raise _failed("scipy.integrate.solve_ivp", found.message)
        return ode.sensitivities(found.y.T)

    return _solved_once(ans, solve)


def _solution_cotangent(g: Any, ans: IvpSolution, t_eval: Any) -> np.ndarray:
    """The cotangent of ``ans.y``, one row per time; refused where it reaches a time the
    solver chose (no t_eval), which moves with the parameters."""
    if not isinstance(g, AdjointRecord):
        return np.zeros(np.shape(ans.y)[::-1])
    y, t = np.asarray(g["y"], dtype=float), np.asarray(g["t"], dtype=float)
    if t_eval is None and (np.any(y[..., 1:-1]) or np.any(t[1:-1])):
        raise NoRuleError(
            "this reads solve_ivp's solution at the times its solver chose (no t_eval), "
            "which move with the parameters: srcad differentiates the solution at fixed "
            "times, and the first and last of these only",
            "give the times you read as t_eval= (np.linspace(t0, t1, k)), or read "
            "sol.y[:, -1] only",
            user_line(3),
        )
    return np.broadcast_to(y, np.shape(ans.y)).T


def ivp_y0_grad(g: Any, fun: Any, t_span: Any, y0: Any, method: Any, t_eval: Any, args: Any,
                rtol: Any, atol: Any, first_step: Any, max_step: Any, ans: Any) -> Any:
    """Adjoint of solve_ivp's ``y0``."""
    cotangent = _solution_cotangent(g, ans, t_eval)
    sensitivities = _ivp_sensitivities(fun, t_span, y0, method, t_eval, args, rtol, atol,
                                       first_step, max_step, ans)
    return _y0_shaped(y0, _adjoints(cotangent, sensitivities, np.size(y0))[0])


def ivp_args_grad(g: Any, fun: Any, t_span: Any, y0: Any, method: Any, t_eval: Any,
                  args: Any, rtol: Any, atol: Any, first_step: Any, max_step: Any,
                  ans: Any) -> Any:
    """Adjoint of solve_ivp's ``args``, in their structure."""
    cotangent = _solution_cotangent(g, ans, t_eval)
    sensitivities = _ivp_sensitivities(fun, t_span, y0, method, t_eval, args, rtol, atol,
                                       first_step, max_step, ans)
    return args_adjoint_of_flat(args, _adjoints(cotangent, sensitivities, np.size(y0))[1])


def _solution_tangent(ans: IvpSolution, dy: np.ndarray) -> AdjointRecord:
    """The tangent of the record ``ans`` whose ``y`` moves by ``dy`` (one row per time)."""
    return AdjointRecord(ans, {"y": dy.T, "t": np.zeros(np.shape(ans.t))})


def ivp_y0_tangent(t: Any, fun: Any, t_span: Any, y0: Any, method: Any, t_eval: Any,
                   args: Any, rtol: Any, atol: Any, first_step: Any, max_step: Any,
                   ans: Any) -> AdjointRecord:
    """Tangent of solve_ivp's solution along ``y0``'s tangent ``t``."""
    sensitivities = _ivp_sensitivities(fun, t_span, y0, method, t_eval, args, rtol, atol,
                                       first_step, max_step, ans)
    n = np.size(y0)
    return _solution_tangent(ans, sensitivities[:, :, :n] @ np.ravel(np.asarray(t, float)))


def ivp_args_tangent(t: Any, fun: Any, t_span: Any, y0: Any, method: Any, t_eval: Any,
                     args: Any, rtol: Any, atol: Any, first_step: Any, max_step: Any,
                     ans: Any) -> AdjointRecord:
    """Tangent of solve_ivp's solution along ``args``' tangents ``t``."""
    sensitivities = _ivp_sensitivities(fun, t_span, y0, method, t_eval, args, rtol, atol,
                                       first_step, max_step, ans)
    n = np.size(y0)
    return _solution_tangent(ans, sensitivities[:, :, n:] @ args_direction(args, t))


# ================================================================ the rules

_HELPERS = (
    quad_args_grad, quad_args_tangent, quad_limit_grad, quad_limit_tangent,
    odeint_y0_grad, odeint_args_grad, odeint_y0_tangent, odeint_args_tangent,
    ivp_y0_grad, ivp_args_grad, ivp_y0_tangent, ivp_args_tangent,
)
for _helper in _HELPERS:  # (a second derivative does not read them: refused at once)
    setattr(_helper, "__srcad_opaque__", True)  # noqa: B010
_INTEGRATE = {
    **ENV,
    "scipy": scipy,
    "solve_ivp": solve_ivp,
    **{helper.__name__: helper for helper in _HELPERS},
}

_IN_ARGS = "pass the values the function reads through args= (or let it read them)"

#: ``quad(f, a, b, args)``: SciPy's ``(value, abserr)``; the value's derivative in
#: ``args`` and in the limits by Leibniz's rule, the error estimate's none.
_QUAD_OPTIONS = "epsabs, epsrel, limit, points"
defrule(
    "scipy.integrate.quad(func, a, b, args=(), epsabs=1.49e-08, epsrel=1.49e-08, limit=50, "
    "points=None)",
    env=_INTEGRATE,
    orders=("func",),
    func=None, epsabs=None, epsrel=None, limit=None, points=None,
    a="quad_limit_grad(g, func, a, args, -1)",
    b="quad_limit_grad(g, func, b, args, 1)",
    args=f"quad_args_grad(g, func, a, b, args, {_QUAD_OPTIONS})",
    tangents={
        "a": "quad_limit_tangent(t, func, a, args, -1)",
        "b": "quad_limit_tangent(t, func, b, args, 1)",
        "args": f"quad_args_tangent(t, func, a, b, args, {_QUAD_OPTIONS})",
    },
    sequences=("args",),
    notes={
        "func": ("a function holding differentiated values (a partial of them) passes "
                 "them where srcad does not see them", _IN_ARGS),
        "full_output": ("its dict of the subdivision and messages is not differentiated",
                        "leave full_output out: quad(...)[1] is the error estimate"),
        **{
            k: ("a weight function is not differentiated",
                "write the weight into the integrand (lambda x: f(x) * np.cos(w * x)), "
                "and leave weight=, wvar= and wopts= out")
            for k in ("weight", "wvar", "wopts", "maxp1", "limlst")
        },
        "complex_func": ("complex integrands are not supported",
                         "integrate the real and imaginary parts apart"),
    },
)

_TIMES = (
    "the solution's derivative in its times is not computed",
    "keep the times fixed (data or constants); for an end time T that depends on the "
    "inputs, integrate over s in [0, 1] with the right-hand side times T",
)
_ODEINT_OPTIONS = "ans, rtol, atol, tcrit, hmax, mxstep, tfirst"
_ODEINT_NONE: Templates = {
    p: None for p in ("func", "times", "Dfun", "col_deriv", "rtol", "atol", "tcrit", "h0",
                      "hmax", "hmin", "mxstep", "tfirst")
}
#: ``odeint(f, y0, t, args)``: SciPy's solution; its derivative in ``y0`` and ``args``
#: by forward sensitivities.
defrule(
    "scipy.integrate.odeint(func, y0, times, args=(), Dfun=None, col_deriv=0, rtol=None, "
    "atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, mxstep=0, tfirst=False)",
    env=_INTEGRATE,
    orders=("func", "times", "Dfun"),
    **_ODEINT_NONE,
    y0=f"odeint_y0_grad(g, func, y0, times, args, {_ODEINT_OPTIONS})",
    args=f"odeint_args_grad(g, func, y0, times, args, {_ODEINT_OPTIONS})",
    tangents={  # (``t``: the tangent; odeint's own t is ``times`` here)
        "y0": f"odeint_y0_tangent(t, func, y0, times, args, {_ODEINT_OPTIONS})",
        "args": f"odeint_args_tangent(t, func, y0, times, args, {_ODEINT_OPTIONS})",
    },
    sequences=("args",),
    notes={
        "func": ("a function holding differentiated values (a partial of them) passes "
                 "them where srcad does not see them", _IN_ARGS),
        "Dfun": ("a Jacobian function holding differentiated values is not followed",
                 _IN_ARGS),
        "times": _TIMES,
        "full_output": ("its dict of the solver's steps is not differentiated",
                        "leave full_output out"),
        **{k: ("a banded Jacobian is not supported", "leave ml= and mu= out")
           for k in ("ml", "mu")},
    },
)

_IVP_OPTIONS = "t_span, y0, method, t_eval, args, rtol, atol, first_step, max_step, ans"
_IVP = ("solve_ivp(fun, t_span, y0, method='RK45', t_eval=None, args=None, rtol=0.001, "
        "atol=1e-06, first_step=None, max_step=np.inf)")
#: ``solve_ivp(f, t_span, y0, t_eval=..., args=...)``, called through srcad's
#: :func:`solve_ivp`: SciPy's solution as a record; the derivative of its ``y`` in ``y0``
#: and ``args`` by forward sensitivities, its ``t`` none.
defrule(
    _IVP,
    name="scipy.integrate.solve_ivp(...), called through srcad's solve_ivp",  # (messages)
    env=_INTEGRATE,
    orders=("fun", "t_span", "t_eval"),
    fun=None, t_span=None, method=None, t_eval=None, rtol=None, atol=None, first_step=None,
    max_step=None,
    y0=f"ivp_y0_grad(g, fun, {_IVP_OPTIONS})",
    args=f"ivp_args_grad(g, fun, {_IVP_OPTIONS})",
    tangents={
        "y0": f"ivp_y0_tangent(t, fun, {_IVP_OPTIONS})",
        "args": f"ivp_args_tangent(t, fun, {_IVP_OPTIONS})",
    },
    sequences=("args",),
    notes={
        "fun": ("a function holding differentiated values (a partial of them) passes "
                "them where srcad does not see them", _IN_ARGS),
        "t_span": _TIMES,
        "t_eval": _TIMES,
        "dense_output": ("the solution as a function of time (sol.sol) is not "
                         "differentiated", "give the times you need as t_eval="),
        "events": ("an event ends or marks the solve at a time that moves with the "
                   "parameters", "give t_eval= and find the event on the solution, or "
                   "integrate to a fixed time"),
        "vectorized": ("srcad calls the function on one state at a time",
                       "leave vectorized= out"),
        "jac": ("srcad takes the function's Jacobian itself", "leave jac= out"),
        "jac_sparsity": ("srcad takes the function's Jacobian itself",
                         "leave jac_sparsity= out"),
    },
)
