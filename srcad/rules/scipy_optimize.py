"""Derivative rules for ``scipy.optimize``'s root finders, loaded once a program has
imported it (see :mod:`srcad.rules.scipy_special`): the scalar ``brentq``, ``brenth``,
``ridder``, ``bisect``, ``toms748``, ``newton`` (a scalar ``x0``) and ``root_scalar``;
``fsolve`` and ``root`` of a system of equations.

The root ``r`` of ``f(r, *args) = 0`` is SciPy's own (the value is bit-identical); its
derivative is implicit: ``dr/d args[k] = -(df/d args[k]) / (df/dr)`` at the root, the
partial derivatives of ``f`` taken at run time by srcad itself (``srcad.grad`` of ``f``,
built once per function). For a system ``F(x, *args) = 0`` the same by the implicit
function theorem, ``dx/dp = -J_x^{-1} J_p``, both Jacobians by ``srcad.jacobian`` of
``F`` at the root: the adjoint of ``p`` is ``-J_p^T v`` with ``J_x^T v = g``, the
tangent ``-J_x^{-1} (J_p t)``. The bracket ``a, b`` and the starting point ``x0`` get no
gradient: the root does not depend on them.

``root``'s and ``root_scalar``'s results are read as records of SciPy's fields
(:class:`RootSolution`, :class:`RootScalarSolution`, made by :func:`root` and
:func:`root_scalar`, which srcad calls in SciPy's place: :mod:`srcad.lower.closures`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import scipy
import scipy.optimize

from .. import trees
from ..desugar import BRACKETING_ROOT_FINDERS
from ..errors import NoRuleError, UnsupportedSyntaxError
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
    differentiable,
    differentiated_items,
    dot,
    item_tangents,
    jacobian_matrix,
    number,
    scaled,
)
from .table import Templates, defrule

#: SciPy's default relative tolerance of its bracketing root finders (4 eps)
RTOL = float(4 * np.finfo(float).eps)


def root_partials(f: Any, root: Any, args: Any, aux: bool = False) -> tuple[Any, list[Any]]:
    """``df/dr`` and ``df/d args[k]`` (None for an item that is not a number) at the
    root, by srcad's gradient of ``f`` (``aux``: of an ``f`` that returns its derivative
    too, ``(f, f')``, as ``fprime=True`` has it)."""
    args = as_scipy_gives(args)
    positions = (0, *(1 + k for k, item in enumerate(args) if differentiable(item)))
    gradient = derivative_at("grad_aux" if aux else "grad", f, positions, root, *args)
    if aux:
        gradient = gradient[0]
    by_position = dict(zip(positions, gradient, strict=True))
    slope = by_position[0]
    if not (np.isfinite(slope) and slope != 0):
        raise NoRuleError(
            f"the function's slope at the root the finder returned is {float(slope)}: a "
            "double root, or no root at all (a jump the bracket holds), where the root "
            "has no derivative in the function's arguments",
            "bracket a simple root (where the function changes sign with a nonzero slope)",
            user_line(3),
        )
    return slope, [by_position.get(1 + k) for k in range(len(args))]


def _scalar_root(name: str, root: Any) -> None:
    """Refuse a root that is not one number (``newton`` with an array ``x0`` solves
    several equations at once)."""
    if np.ndim(root) != 0:
        raise UnsupportedSyntaxError(
            f"srcad differentiates scipy.optimize.{name} of one scalar equation, and this "
            f"root has shape {np.shape(root)}",
            "give a scalar starting point (x0), and solve each equation in a loop",
            user_line(3),
        )


def root_args_grad(
    g: Any, f: Any, ans: Any, args: Any, name: str = "brentq", aux: bool = False
) -> Any:
    """Adjoint of a root finder's ``args``: ``-g (df/d args[k]) / (df/dr)`` per item, at
    the root ``ans`` (zero for an item that is not a number)."""
    _scalar_root(name, ans)
    slope, partials = root_partials(f, ans, args, aux)
    factor = number(-np.divide(g, slope))
    adjoints = [0.0 if partial is None else scaled(partial, factor) for partial in partials]
    return args_adjoint(args, adjoints)


def root_args_tangent(
    t: Any, f: Any, ans: Any, args: Any, name: str = "brentq", aux: bool = False
) -> Any:
    """Tangent of a root finder's root along its ``args``' tangents ``t`` (one per item):
    ``-(sum_k df/d args[k] t[k]) / (df/dr)`` at the root ``ans``."""
    _scalar_root(name, ans)
    slope, partials = root_partials(f, ans, args, aux)
    total = 0.0
    for partial, tangent in zip(partials, item_tangents(args, t), strict=True):
        if partial is not None and tangent is not None:
            total = total + dot(partial, tangent)
    return number(-np.divide(total, slope))


# ================================================================ systems: fsolve, root

#: The largest Newton step ``J_x^{-1} F`` at a root, relative to the root's size, for
#: which it is taken for a root (a solver that stopped short of one, or found a
#: least-squares point where there is none, has a larger one): SciPy's default xtol is
#: 1.49e-8
NEWTON_STEP = 1e-5
#: The largest condition number (of the row- and column-scaled ``J_x``) times eps for
#: which ``J_x`` is taken as invertible: above it the root's derivative loses more than
#: 4 of its 16 digits, or has none (a singular Jacobian)
CONDITION = 1e-4


def _system_jacobians(
    name: str, func: Any, root: Any, args: Any, aux: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``J_x`` and ``J_p`` (``p``: the numbers of ``args``' differentiated items) of
    ``func`` at ``root``, by srcad's Jacobian of ``func``; refused where ``J_x`` is not
    square or is singular, or where ``root`` is not a root (see :data:`NEWTON_STEP`)."""
    items = as_scipy_gives(args)
    x = np.asarray(root, dtype=float)
    positions = (0, *(1 + k for k in differentiated_items(args)))
    value, jacobian = jacobian_matrix(func, positions, (x, *items), aux)
    n = x.size
    if jacobian.shape[0] != n:
        raise NoRuleError(
            f"scipy.optimize.{name} solved {jacobian.shape[0]} equations in {n} "
            "unknowns: its result is a least-squares point, not a root, which has no "
            "implicit derivative",
            "give as many equations as unknowns",
            user_line(1),
        )
    jac_x, jac_p = jacobian[:, :n], jacobian[:, n:]
    if not _invertible(jac_x):
        raise NoRuleError(
            f"the Jacobian of the equations in the unknowns is singular at the root "
            f"scipy.optimize.{name} returned (or nearly so: its condition number is "
            f"{_condition(jac_x):.3g}): a root that is not isolated, or not a root, where "
            "it has no derivative in the function's arguments",
            "check the equations are independent (none a combination of others) and "
            "that the solver converged; a root where they touch zero without crossing "
            "has no derivative",
            user_line(1),
        )
    step = np.linalg.solve(jac_x, value)
    size = max(float(np.max(np.abs(x), initial=0.0)), 1e-10)
    if not np.all(np.isfinite(value)) or float(np.max(np.abs(step), initial=0.0)) > (
        NEWTON_STEP * size
    ):
        raise NoRuleError(
            f"the result of scipy.optimize.{name} is not a root: the equations' residual "
            f"there is {float(np.max(np.abs(value))):.3g}, a Newton step of "
            f"{float(np.max(np.abs(step))):.3g} from one: the solver did not converge, "
            "and the implicit derivative holds at a root only",
            "check the solver converged (root(...).success, fsolve(..., full_output=True)"
            "'s ier == 1); start nearer the root, or scale the equations and unknowns",
            user_line(1),
        )
    return jac_x, jac_p


def _scaled(matrix: np.ndarray) -> np.ndarray | None:
    """``matrix`` with its rows, then its columns, scaled to a largest entry of 1; None
    where one is zero throughout or a number is not finite."""
    if not np.all(np.isfinite(matrix)):
        return None
    rows = np.max(np.abs(matrix), axis=1)
    if np.any(rows == 0):
        return None
    scaled_rows = matrix / rows[:, None]
    columns = np.max(np.abs(scaled_rows), axis=0)
    return None if np.any(columns == 0) else scaled_rows / columns


def _condition(matrix: np.ndarray) -> float:
    scaled_ = _scaled(matrix)
    return float("inf") if scaled_ is None else float(np.linalg.cond(scaled_))


def _invertible(matrix: np.ndarray) -> bool:
    return _condition(matrix) * float(np.finfo(float).eps) < CONDITION


def _system_adjoint(g: Any, name: str, func: Any, root: Any, args: Any, aux: bool) -> Any:
    """Adjoint of ``args`` of the root ``root`` of ``func``: ``-J_p^T v``, ``J_x^T v = g``."""
    jac_x, jac_p = _system_jacobians(name, func, root, args, aux)
    cotangent = np.broadcast_to(np.asarray(g, dtype=float), np.shape(root)).ravel()
    v = np.linalg.solve(jac_x.T, cotangent)
    return args_adjoint_of_flat(args, -(jac_p.T @ v))


def _system_tangent(t: Any, name: str, func: Any, root: Any, args: Any, aux: bool) -> Any:
    """Tangent of the root ``root`` along ``args``' tangents: ``-J_x^{-1} (J_p t)``."""
    jac_x, jac_p = _system_jacobians(name, func, root, args, aux)
    moved = -np.linalg.solve(jac_x, jac_p @ args_direction(args, t))
    return moved.reshape(np.shape(root))


_FACTORS = "a factor of the Jacobian at the root, which srcad does not differentiate"


class FsolveInfo(dict):
    """The dict of the solve that ``fsolve(..., full_output=True)`` returns, as srcad
    gives it: its counts and the residual at the root (``nfev``, ``fvec``: whose
    derivative is zero at a root); the factors of the Jacobian at the root (``fjac``,
    ``r``, ``qtf``), which srcad does not differentiate, left out: reading one is refused
    at the user's line."""

    LEFT_OUT = ("fjac", "r", "qtf")

    def __missing__(self, key: Any) -> Any:
        if key in self.LEFT_OUT:
            raise NoRuleError(
                f"srcad reads fsolve's dict of the solve for its counts and residual, and "
                f"{key!r} is not one: {_FACTORS}",
                "read info['nfev'] and info['fvec'] only (srcad.jacobian of the function "
                "at the root gives its Jacobian)",
                user_line(1),
            )
        raise KeyError(f"fsolve's dict of the solve has no key {key!r}")


def fsolve(
    func: Any, x0: Any, args: Any = (), fprime: Any = None, full_output: Any = 0,
    col_deriv: Any = 0, xtol: Any = 1.49012e-08, maxfev: Any = 0, band: Any = None,
    epsfcn: Any = None, factor: Any = 100, diag: Any = None,
) -> Any:
    """``scipy.optimize.fsolve``, called by the code srcad generates in its place: SciPy's
    root, or with ``full_output`` its ``(x, info, ier, mesg)`` with ``info`` a
    :class:`FsolveInfo`."""
    found = scipy.optimize.fsolve(
        func, x0, args=args, fprime=fprime, full_output=full_output, col_deriv=col_deriv,
        xtol=xtol, maxfev=maxfev, band=band, epsfcn=epsfcn, factor=factor, diag=diag,
    )
    if not full_output:
        return found
    x, info, ier, mesg = found
    kept = FsolveInfo({k: v for k, v in info.items() if k not in FsolveInfo.LEFT_OUT})
    return x, kept, ier, mesg


def fsolve_args_grad(g: Any, func: Any, ans: Any, args: Any, full_output: Any) -> Any:
    """Adjoint of fsolve's ``args``, in their structure (from the cotangent of its root:
    with ``full_output``, the first of its tuple's; that of ``info['fvec']``, the
    residual at the root, has the derivative zero)."""
    root_, cotangent = (ans[0], g[0]) if full_output else (ans, g)
    return _system_adjoint(cotangent, "fsolve", func, root_, args, False)


def fsolve_args_tangent(t: Any, func: Any, ans: Any, args: Any, full_output: Any) -> Any:
    """Tangent of fsolve's root along ``args``' tangents ``t`` (with ``full_output``, of
    its tuple: the root's, and zero for the rest)."""
    if not full_output:
        return _system_tangent(t, "fsolve", func, ans, args, False)
    moved = _system_tangent(t, "fsolve", func, ans[0], args, False)
    info = {key: np.zeros(np.shape(value)) if np.ndim(value) else 0.0
            for key, value in ans[1].items()}
    return AdjointList([moved, info, 0.0, 0.0])


@dataclasses.dataclass(frozen=True)
class RootSolution(SolutionRecord):
    """``scipy.optimize.root``'s result as srcad reads it: a record of SciPy's fields (a
    method that has no such field: None); read them as attributes, ``sol.x``."""

    LEFT_OUT: ClassVar[dict[str, str]] = {
        **{name: _FACTORS for name in ("fjac", "r", "qtf", "ipvt")},
        "cov_x": "the covariance of a least-squares fit, which srcad does not differentiate",
    }
    ROUTINE: ClassVar[str] = "scipy.optimize.root"

    x: Any
    fun: Any
    success: bool
    status: Any
    message: str
    nfev: Any
    njev: Any
    nit: Any
    method: Any


def root(
    fun: Any, x0: Any, args: Any = (), method: Any = "hybr", jac: Any = None, tol: Any = None,
    callback: Any = None, options: Any = None,
) -> RootSolution:
    """``scipy.optimize.root``, called by the code srcad generates in its place: SciPy's
    solution, as a :class:`RootSolution`."""
    found = scipy.optimize.root(fun, x0, args=args, method=method, jac=jac, tol=tol,
                                callback=callback, options=options)
    return RootSolution(**{f.name: found.get(f.name) for f in dataclasses.fields(RootSolution)})


def _solution_root(ans: RootSolution) -> np.ndarray:
    if not ans.success:
        raise NoRuleError(
            f"scipy.optimize.root did not converge ({ans.message}): its x is not a root, "
            "where the implicit derivative holds",
            "check sol.success; start nearer the root, or try another method=",
            user_line(1),
        )
    return np.asarray(ans.x)


def root_args_grad_of_system(g: Any, fun: Any, ans: Any, args: Any, jac: Any) -> Any:
    """Adjoint of root's ``args``, from the cotangent of its record ``ans`` (its ``x``;
    ``fun``, the residual at the root, has the derivative zero)."""
    x = _solution_root(ans)
    cotangent = g["x"] if isinstance(g, AdjointRecord) else np.zeros(np.shape(x))
    return _system_adjoint(cotangent, "root", fun, x, args, jac is True)


def root_args_tangent_of_system(t: Any, fun: Any, ans: Any, args: Any, jac: Any) -> Any:
    """Tangent of root's record ``ans`` (its ``x``) along ``args``' tangents ``t``."""
    x = _solution_root(ans)
    moved = _system_tangent(t, "root", fun, x, args, jac is True)
    return AdjointRecord(ans, {"x": moved, "fun": np.zeros(np.shape(ans.fun))})


# ================================================================ root_scalar


@dataclasses.dataclass(frozen=True)
class RootScalarSolution(SolutionRecord):
    """``scipy.optimize.root_scalar``'s result (SciPy's ``RootResults``) as srcad reads
    it: a record of its fields, ``sol.root``, ``sol.converged``."""

    ROUTINE: ClassVar[str] = "scipy.optimize.root_scalar"

    root: Any
    iterations: int
    function_calls: int
    converged: bool
    flag: str
    method: str


def root_scalar(
    f: Any, args: Any = (), method: Any = None, bracket: Any = None, fprime: Any = None,
    fprime2: Any = None, x0: Any = None, x1: Any = None, xtol: Any = None, rtol: Any = None,
    maxiter: Any = None, options: Any = None,
) -> RootScalarSolution:
    """``scipy.optimize.root_scalar``, called by the code srcad generates in its place:
    SciPy's result, as a :class:`RootScalarSolution`."""
    found = scipy.optimize.root_scalar(
        f, args=args, method=method, bracket=bracket, fprime=fprime, fprime2=fprime2,
        x0=x0, x1=x1, xtol=xtol, rtol=rtol, maxiter=maxiter, options=options,
    )
    return RootScalarSolution(
        **{f.name: getattr(found, f.name) for f in dataclasses.fields(RootScalarSolution)}
    )


def _scalar_solution(ans: RootScalarSolution, fprime: Any, fprime2: Any) -> Any:
    if fprime2 is True:
        raise UnsupportedSyntaxError(
            "srcad differentiates root_scalar of a function that returns its value, or "
            "its value and slope (fprime=True), and this one returns its second "
            "derivative too (fprime2=True)",
            "give fprime2 as a function of its own",
            user_line(1),
        )
    if not ans.converged:
        raise NoRuleError(
            f"scipy.optimize.root_scalar did not converge ({ans.flag}): its root is not "
            "one, where the implicit derivative holds",
            "check sol.converged; give a bracket, or start nearer the root",
            user_line(1),
        )
    return ans.root


def root_scalar_args_grad(g: Any, f: Any, ans: Any, args: Any, fprime: Any,
                          fprime2: Any) -> Any:
    """Adjoint of root_scalar's ``args``, from the cotangent of its record's ``root``."""
    found = _scalar_solution(ans, fprime, fprime2)
    cotangent = g["root"] if isinstance(g, AdjointRecord) else 0.0
    return root_args_grad(cotangent, f, found, args, "root_scalar", fprime is True)


def root_scalar_args_tangent(t: Any, f: Any, ans: Any, args: Any, fprime: Any,
                             fprime2: Any) -> AdjointRecord:
    """Tangent of root_scalar's record (its ``root``) along ``args``' tangents ``t``."""
    found = _scalar_solution(ans, fprime, fprime2)
    moved = root_args_tangent(t, f, found, args, "root_scalar", fprime is True)
    return AdjointRecord(ans, {"root": moved})


# ================================================================ minimize_scalar

#: The largest Newton step ``f'/f''`` at a minimum, relative to its size (or to the
#: bounds' width), for which it is taken for a stationary point (a minimum on a bound,
#: or a search that stopped short, has a larger one): a minimum is found to
#: sqrt(eps) relative at best, bounded's default xatol is 1e-5
STATIONARY = 1e-3


@dataclasses.dataclass(frozen=True)
class ScalarMinimum(SolutionRecord):
    """``scipy.optimize.minimize_scalar``'s result as srcad reads it: a record of
    SciPy's fields, ``sol.x``, ``sol.fun``, ``sol.success``."""

    x: Any
    fun: Any
    success: bool
    message: str
    nit: Any
    nfev: Any

    ROUTINE: ClassVar[str] = "scipy.optimize.minimize_scalar"


def minimize_scalar(
    fun: Any, bracket: Any = None, bounds: Any = None, args: Any = (), method: Any = None,
    tol: Any = None, options: Any = None,
) -> ScalarMinimum:
    """``scipy.optimize.minimize_scalar``, called by the code srcad generates in its
    place: SciPy's result, as a :class:`ScalarMinimum`."""
    found = scipy.optimize.minimize_scalar(fun, bracket=bracket, bounds=bounds, args=args,
                                           method=method, tol=tol, options=options)
    return ScalarMinimum(
        **{f.name: found.get(f.name) for f in dataclasses.fields(ScalarMinimum)}
    )


def _minimum_partials(
    fun: Any, ans: ScalarMinimum, args: Any, bounds: Any
) -> tuple[np.ndarray, np.ndarray]:
    """``dx/dp = -f_xp / f_xx`` and ``f_p`` at the minimum ``ans.x`` (``p``: the numbers
    of ``args``' differentiated items, as :func:`args_adjoint_of_flat` lays them out),
    by srcad's Hessian and gradient of ``fun``; refused where ``ans.x`` is not a strict
    minimum inside (see :data:`STATIONARY`)."""
    items = as_scipy_gives(args)
    x = float(ans.x)
    positions = (0, *(1 + k for k in differentiated_items(args)))
    gradient = derivative_at("grad", fun, positions, x, *items)
    hessian_row = derivative_at("hessian", fun, positions, x, *items)[0]
    slope = float(gradient[0])
    second = np.concatenate([
        np.ravel(np.asarray(leaf, dtype=float)) for block in hessian_row
        for leaf in trees.leaves(block)
    ])
    curvature, mixed = float(second[0]), second[1:]
    if not (np.isfinite(curvature) and curvature > 0):
        raise NoRuleError(
            f"the function's second derivative at the minimum minimize_scalar returned is "
            f"{curvature}: not a strict minimum (a flat one, or a maximum), where the "
            "minimizer has no derivative in the function's arguments",
            "check the function has one strict minimum in the bracket or bounds",
            user_line(1),
        )
    width = abs(float(bounds[1]) - float(bounds[0])) if bounds is not None else 0.0
    if not ans.success or abs(slope / curvature) > STATIONARY * max(abs(x), width, 1e-10):
        raise NoRuleError(
            f"the function's slope at the minimum minimize_scalar returned is {slope:.3g}, "
            f"a Newton step of {abs(slope / curvature):.3g} from a stationary point: the "
            "minimum is on a bound, or the search stopped short, where the implicit "
            "derivative of f'(x) = 0 does not hold",
            "bound the search where the minimum is inside (bounds=), or check "
            "sol.success; a minimum on a bound moves with the bound, not the arguments",
            user_line(1),
        )
    return -mixed / curvature, _flat_partials(gradient[1:])


def _flat_partials(blocks: Any) -> np.ndarray:
    """The partial derivatives in ``args``' differentiated items (a gradient's blocks
    after the unknowns') as one vector, laid out as :func:`args_adjoint_of_flat` reads."""
    values = [leaf for block in blocks for leaf in trees.leaves(block)]
    return np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in values] or
                          [np.zeros(0)])


def minimize_scalar_args_grad(g: Any, fun: Any, ans: Any, args: Any, bounds: Any) -> Any:
    """Adjoint of minimize_scalar's ``args``, from the cotangents of its record's ``x``
    (``dx/dp = -f_xp / f_xx``) and ``fun`` (its derivative ``f_p``: the slope in ``x``
    is zero at the minimum)."""
    moves, partials = _minimum_partials(fun, ans, args, bounds)
    if not isinstance(g, AdjointRecord):
        return args_adjoint_of_flat(args, 0.0 * moves)
    return args_adjoint_of_flat(args, number(g["x"]) * moves + number(g["fun"]) * partials)


def minimize_scalar_args_tangent(t: Any, fun: Any, ans: Any, args: Any,
                                 bounds: Any) -> AdjointRecord:
    """Tangent of minimize_scalar's record (its ``x`` and ``fun``) along ``args``'
    tangents ``t``."""
    moves, partials = _minimum_partials(fun, ans, args, bounds)
    direction = args_direction(args, t)
    return AdjointRecord(ans, {"x": float(moves @ direction),
                               "fun": float(partials @ direction)})


# ================================================================ minimize


@dataclasses.dataclass(frozen=True)
class Minimum(SolutionRecord):
    """``scipy.optimize.minimize``'s result as srcad reads it: a record of SciPy's
    fields, ``res.x``, ``res.fun``, ``res.jac`` (the gradient at the minimum: zero, and
    so its derivative), ``res.success`` and the counts; ``hess_inv`` is left out."""

    x: Any
    fun: Any
    jac: Any
    success: bool
    status: Any
    message: str
    nit: Any
    nfev: Any

    ROUTINE: ClassVar[str] = "scipy.optimize.minimize"
    LEFT_OUT: ClassVar[dict[str, str]] = {
        "hess_inv": "it is the method's approximation of the inverse Hessian, which has "
        "no derivative (srcad.hessian of the function at res.x gives the Hessian)",
    }


def minimize(
    fun: Any, x0: Any, args: Any = (), method: Any = None, jac: Any = None, hess: Any = None,
    hessp: Any = None, bounds: Any = None, constraints: Any = (), tol: Any = None,
    callback: Any = None, options: Any = None,
) -> Minimum:
    """``scipy.optimize.minimize``, called by the code srcad generates in its place:
    SciPy's result, as a :class:`Minimum`."""
    found = scipy.optimize.minimize(
        fun, x0, args=args, method=method, jac=jac, hess=hess, hessp=hessp, bounds=bounds,
        constraints=constraints, tol=tol, callback=callback, options=options,
    )
    return Minimum(**{f.name: found.get(f.name) for f in dataclasses.fields(Minimum)})


def _vector_minimum_partials(
    fun: Any, ans: Minimum, args: Any, jac: Any, bounds: Any, constraints: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``H_xx``, ``H_xp`` (the Hessian's rows in ``x``: ``p`` the numbers of ``args``'
    differentiated items, as :func:`args_adjoint_of_flat` lays them out) and ``f_p`` at
    the minimum ``ans.x``, by srcad's Hessian and gradient of ``fun``; refused where
    ``ans.x`` is not a strict, unconstrained minimum (see :data:`STATIONARY`)."""
    if jac is True or constraints:
        raise NoRuleError(
            "srcad differentiates scipy.optimize.minimize's minimum through the "
            "condition that the gradient is zero there"
            + (", and with constraints= it is not" if constraints else
               ", from the function alone, and with jac=True it returns the gradient too"),
            "leave jac= out or give it a function of its own" if not constraints else
            "write the constraints into the function (a penalty, or a change of variables)",
            user_line(1),
        )
    items = as_scipy_gives(args)
    x = np.asarray(ans.x, dtype=float)
    n = x.size
    positions = (0, *(1 + k for k in differentiated_items(args)))
    gradient = derivative_at("grad", fun, positions, x, *items)
    rows = derivative_at("hessian", fun, positions, x, *items)[0]
    blocks = [
        np.reshape(np.asarray(leaf, dtype=float), (n, -1))
        for block in rows for leaf in trees.leaves(block)
    ]
    second = np.hstack(blocks) if blocks else np.zeros((n, 0))
    h_xx, h_xp = second[:, :n], second[:, n:]
    slope = np.ravel(np.asarray(gradient[0], dtype=float))
    if not _invertible(h_xx) or not np.all(np.linalg.eigvalsh((h_xx + h_xx.T) / 2) > 0):
        raise NoRuleError(
            "the function's Hessian at the minimum scipy.optimize.minimize returned is not "
            "positive definite: not a strict minimum (a flat valley, or a saddle), where "
            "the minimizer has no derivative in the function's arguments",
            "check the function has a strict minimum there (srcad.hessian of it at res.x)",
            user_line(1),
        )
    step = np.linalg.solve(h_xx, slope)
    size = max(float(np.max(np.abs(x), initial=0.0)), 1.0)
    on_bound = bounds is not None and any(
        (lo is not None and abs(v - lo) <= STATIONARY * size)
        or (hi is not None and abs(v - hi) <= STATIONARY * size)
        for v, (lo, hi) in zip(x.ravel(), bounds)
    )
    if on_bound or float(np.max(np.abs(step), initial=0.0)) > STATIONARY * size:
        raise NoRuleError(
            "the minimum scipy.optimize.minimize returned is "
            + ("on a bound" if on_bound else
               f"a Newton step of {float(np.max(np.abs(step))):.3g} from a stationary point"
               ": the search stopped short")
            + ", where the implicit derivative of a zero gradient does not hold",
            "bound the search where the minimum is inside, or tighten the tolerance (tol=, "
            "options={'gtol': ...}); a minimum on a bound moves with the bound",
            user_line(1),
        )
    return h_xx, h_xp, _flat_partials(gradient[1:])


def minimize_args_grad(
    g: Any, fun: Any, ans: Any, args: Any, jac: Any, bounds: Any, constraints: Any
) -> Any:
    """Adjoint of minimize's ``args``, from the cotangents of its record's ``x``
    (``dx/dp = -H_xx^{-1} H_xp``) and ``fun`` (its derivative ``f_p``: the gradient in
    ``x`` is zero at the minimum); ``jac``'s derivative is zero there."""
    h_xx, h_xp, partials = _vector_minimum_partials(fun, ans, args, jac, bounds, constraints)
    if not isinstance(g, AdjointRecord):
        return args_adjoint_of_flat(args, np.zeros(h_xp.shape[1]))
    moves = np.ravel(np.broadcast_to(np.asarray(g["x"], dtype=float), np.shape(ans.x)))
    v = np.linalg.solve(h_xx.T, moves)
    return args_adjoint_of_flat(args, -(h_xp.T @ v) + number(g["fun"]) * partials)


def minimize_args_tangent(
    t: Any, fun: Any, ans: Any, args: Any, jac: Any, bounds: Any, constraints: Any
) -> AdjointRecord:
    """Tangent of minimize's record (its ``x``, ``fun`` and ``jac``) along ``args``'
    tangents ``t``."""
    h_xx, h_xp, partials = _vector_minimum_partials(fun, ans, args, jac, bounds, constraints)
    direction = args_direction(args, t)
    moved = -np.linalg.solve(h_xx, h_xp @ direction)
    return AdjointRecord(ans, {
        "x": moved.reshape(np.shape(ans.x)), "fun": float(partials @ direction),
        "jac": np.zeros(np.shape(ans.x)),
    })


_HELPERS = (
    root_args_grad, root_args_tangent, fsolve_args_grad, fsolve_args_tangent,
    root_args_grad_of_system, root_args_tangent_of_system, root_scalar_args_grad,
    root_scalar_args_tangent, minimize_scalar_args_grad, minimize_scalar_args_tangent,
    minimize_args_grad, minimize_args_tangent,
)
for _helper in _HELPERS:  # (a second derivative does not read them: refused at once)
    setattr(_helper, "__srcad_opaque__", True)  # noqa: B010
_OPTIMIZE = {
    **ENV,
    "scipy": scipy,
    "RTOL": RTOL,
    "fsolve": fsolve,
    "root": root,
    "root_scalar": root_scalar,
    "minimize_scalar": minimize_scalar,
    "minimize": minimize,
    **{helper.__name__: helper for helper in _HELPERS},
}

#: The bracketing root finders: the root of ``f(r, *args) = 0`` in ``[a, b]``, SciPy's
#: value; ``args`` get the implicit derivative, the bracket and the tolerances none.
#: ``full_output=True`` (a tuple) and ``disp=False`` are left out of the patterns:
#: such a call has no rule, and is refused.
for _name in BRACKETING_ROOT_FINDERS:
    _k = ", k=1" if _name == "toms748" else ""
    _none: Templates = {p: None for p in ("f", "a", "b", "xtol", "rtol", "maxiter")}
    if _k:
        _none["k"] = None
    defrule(
        f"scipy.optimize.{_name}(f, a, b, args=(){_k}, xtol=2e-12, rtol=RTOL, maxiter=100)",
        env=_OPTIMIZE,
        orders=("f",),  # (a partial of differentiated values: pass them through args=)
        **_none,
        args=f"root_args_grad(g, f, ans, args, {_name!r})",
        tangents={"args": f"root_args_tangent(t, f, ans, args, {_name!r})"},
        sequences=("args",),
    )

#: Newton's method (the secant method without ``fprime``, Halley's with ``fprime2``)
#: from a scalar ``x0``: the root it converges to, with the same implicit derivative.
_NEWTON_NONE: Templates = {
    p: None for p in ("func", "x0", "fprime", "tol", "maxiter", "fprime2", "x1", "rtol")
}
defrule(
    "scipy.optimize.newton(func, x0, fprime=None, args=(), tol=1.48e-08, maxiter=50, "
    "fprime2=None, x1=None, rtol=0.0)",
    env=_OPTIMIZE,
    orders=("func", "fprime", "fprime2"),
    **_NEWTON_NONE,
    args="root_args_grad(g, func, ans, args, 'newton')",
    tangents={"args": "root_args_tangent(t, func, ans, args, 'newton')"},
    sequences=("args",),
)

_IN_ARGS = "pass the values the function reads through args= (or let it read them)"
_HOLDING = ("a function holding differentiated values (a partial of them) passes them "
            "where srcad does not see them", _IN_ARGS)
_OWN_JACOBIAN = ("a Jacobian function holding differentiated values is not followed "
                 "(srcad takes the equations' Jacobian itself)", _IN_ARGS)

#: ``fsolve(func, x0, args)``, called through srcad's :func:`fsolve`: SciPy's root of
#: the system ``func(x, *args) = 0`` (``full_output``: its tuple, the dict a
#: :class:`FsolveInfo`); the implicit derivative in ``args``, ``x0`` none.
_FSOLVE_NONE: Templates = {
    p: None for p in ("func", "x0", "fprime", "full_output", "col_deriv", "xtol", "maxfev",
                      "band", "epsfcn", "factor", "diag")
}
defrule(
    "fsolve(func, x0, args=(), fprime=None, full_output=0, col_deriv=0, xtol=1.49012e-08, "
    "maxfev=0, band=None, epsfcn=None, factor=100, diag=None)",
    name="scipy.optimize.fsolve(...), called through srcad's fsolve",  # (messages)
    env=_OPTIMIZE,
    orders=("func", "fprime"),
    **_FSOLVE_NONE,
    args="fsolve_args_grad(g, func, ans, args, full_output)",
    tangents={"args": "fsolve_args_tangent(t, func, ans, args, full_output)"},
    sequences=("args",),
    notes={"func": _HOLDING, "fprime": _OWN_JACOBIAN},
)

#: ``root(fun, x0, args, method, jac, tol, options)``, called through srcad's
#: :func:`root`: SciPy's solution as a record; the implicit derivative of its ``x`` in
#: ``args`` (``jac=True``: ``fun`` returns its Jacobian too, which is left out).
defrule(
    "root(fun, x0, args=(), method='hybr', jac=None, tol=None, options=None)",
    name="scipy.optimize.root(...), called through srcad's root",  # (messages)
    env=_OPTIMIZE,
    orders=("fun", "jac"),
    fun=None, x0=None, method=None, jac=None, tol=None, options=None,
    args="root_args_grad_of_system(g, fun, ans, args, jac)",
    tangents={"args": "root_args_tangent_of_system(t, fun, ans, args, jac)"},
    sequences=("args",),
    notes={
        "fun": _HOLDING,
        "jac": _OWN_JACOBIAN,
        "callback": ("a callback sees each iterate, which srcad does not differentiate",
                     "leave callback= out"),
    },
)

#: ``root_scalar(f, args, method, bracket, fprime, fprime2, x0, x1, ...)``, called
#: through srcad's :func:`root_scalar`: SciPy's result as a record; the implicit
#: derivative of its ``root`` in ``args`` (``fprime=True``: ``f`` returns its slope
#: too, which is left out), the bracket and the starting points none.
_ROOT_SCALAR_NONE: Templates = {
    p: None for p in ("f", "method", "bracket", "fprime", "fprime2", "x0", "x1", "xtol",
                      "rtol", "maxiter", "options")
}
defrule(
    "root_scalar(f, args=(), method=None, bracket=None, fprime=None, fprime2=None, "
    "x0=None, x1=None, xtol=None, rtol=None, maxiter=None, options=None)",
    name="scipy.optimize.root_scalar(...), called through srcad's root_scalar",
    env=_OPTIMIZE,
    orders=("f", "fprime", "fprime2"),
    **_ROOT_SCALAR_NONE,
    args="root_scalar_args_grad(g, f, ans, args, fprime, fprime2)",
    tangents={"args": "root_scalar_args_tangent(t, f, ans, args, fprime, fprime2)"},
    sequences=("args",),
    notes={"f": _HOLDING, "fprime": _HOLDING, "fprime2": _HOLDING},
)

#: ``minimize_scalar(fun, bracket, bounds, args, method, tol, options)``, called through
#: srcad's :func:`minimize_scalar`: SciPy's minimum as a record; its ``x``'s derivative
#: in ``args`` that of ``f'(x) = 0``, ``-f_xp / f_xx`` (second derivatives by srcad's
#: Hessian of ``fun``), its ``fun``'s ``f_p`` at the minimum; the bracket and the
#: bounds none (a minimum on a bound is refused).
defrule(
    "minimize_scalar(fun, bracket=None, bounds=None, args=(), method=None, tol=None, "
    "options=None)",
    name="scipy.optimize.minimize_scalar(...), called through srcad's minimize_scalar",
    env=_OPTIMIZE,
    orders=("fun",),
    fun=None, bracket=None, bounds=None, method=None, tol=None, options=None,
    args="minimize_scalar_args_grad(g, fun, ans, args, bounds)",
    tangents={"args": "minimize_scalar_args_tangent(t, fun, ans, args, bounds)"},
    sequences=("args",),
    notes={"fun": _HOLDING},
)

#: ``minimize(fun, x0, args, method, jac, hess, hessp, bounds, constraints, tol,
#: callback, options)``, called through srcad's :func:`minimize`: SciPy's minimum as a
#: record; its ``x``'s derivative in ``args`` that of a zero gradient, ``-H_xx^{-1}
#: H_xp`` (by srcad's Hessian of ``fun``), its ``fun``'s ``f_p``; the starting point,
#: the bounds and the options none (a minimum on a bound, or with constraints, refused).
defrule(
    "minimize(fun, x0, args=(), method=None, jac=None, hess=None, hessp=None, bounds=None, "
    "constraints=(), tol=None, callback=None, options=None)",
    name="scipy.optimize.minimize(...), called through srcad's minimize",
    env=_OPTIMIZE,
    orders=("fun", "jac", "hess", "hessp"),
    fun=None, x0=None, method=None, jac=None, hess=None, hessp=None, bounds=None,
    constraints=None, tol=None, callback=None, options=None,
    args="minimize_args_grad(g, fun, ans, args, jac, bounds, constraints)",
    tangents={"args": "minimize_args_tangent(t, fun, ans, args, jac, bounds, constraints)"},
    sequences=("args",),
    notes={"fun": _HOLDING, "jac": _HOLDING, "hess": _HOLDING, "hessp": _HOLDING},
)
