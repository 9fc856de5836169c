"""Array-API code: functions written against the Python array API standard (``xp =
array_namespace(x)``, ``x.__array_namespace__()``, ``import array_api_strict as xp``).

Two halves, one translation table between the standard's names and numpy's:

* lowering: a namespace is a static value, as a module is. ``xp.exp(a)`` resolves to
  ``np.exp`` and so gets numpy's derivative rule, spelled on one hygienic name ``xp``;
  every analysis then sees numpy code. A standard function outside the table is refused
  at the user's line (:func:`refusal`).
* :func:`port`, the last pass before emitting: the generated code calls the inputs'
  namespace instead of numpy. It binds ``xp = namespace_of(<parameters>)`` once at the
  top, renames numpy's functions to the standard's (``np.power`` -> ``xp.pow``), turns
  array methods into functions (``g.sum(axis=1)`` -> ``xp.sum(g, axis=1)``), and calls
  the array-API versions of srcad's helpers (:mod:`srcad.rules.array_api_grads`) with
  ``xp`` first. Anything it cannot translate is refused at the user's line.

Functions that never touch a namespace are left exactly as they were.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import ir, runtime
from .chains import chain_names
from .errors import UNKNOWN_LOCATION, Location, UnsupportedSyntaxError
from .rules import array_api_grads, numpy_grads

#: The value of ``xp = array_namespace(...)`` while lowering (a namespace, not data).
NAMESPACE = type("Namespace", (), {"__repr__": lambda self: "<array namespace>"})()

#: The binding that marks a listing as array-API code (removed by :func:`port`).
MARKER = "\0array namespace"

#: Standard names that are numpy's names too (and have numpy rules, or are inactive).
SAME = frozenset(
    """abs exp expm1 log log1p log2 log10 sqrt square sin cos tan sinh cosh tanh negative
    sign add subtract multiply divide maximum minimum logaddexp hypot clip where
    sum mean max min prod var std matmul reshape expand_dims squeeze stack flip roll
    asarray zeros ones empty full zeros_like ones_like empty_like full_like arange linspace
    eye argmax argmin argsort floor ceil round trunc isnan isinf isfinite logical_and
    logical_or logical_not logical_xor equal not_equal less less_equal greater greater_equal
    finfo iinfo isdtype result_type can_cast broadcast_to astype
    float32 float64 int32 int64 bool e pi inf nan newaxis""".split()
)
#: Standard names whose numpy function has another name (the same rule applies).
RENAMED = {
    "pow": "power",
    "concat": "concatenate",
    "permute_dims": "transpose",
    "acos": "arccos",
    "asin": "arcsin",
    "atan": "arctan",
    "acosh": "arccosh",
    "asinh": "arcsinh",
    "atanh": "arctanh",
    "atan2": "arctan2",
    "linalg.matmul": "matmul",
}
#: numpy's spellings in generated code -> the standard's.
TO_STANDARD = {
    **{name: name for name in SAME},
    **{numpy: standard for standard, numpy in RENAMED.items() if "." not in standard},
    "true_divide": "divide",
    "absolute": "abs",
    "amax": "max",
    "amin": "min",
    "asanyarray": "asarray",  # (the standard has no array subclasses)
}
#: numpy functions that look at any object (through its attributes, or ``iter``): they
#: answer for another library's arrays too, and stay numpy's in array-API code
OF_ANY_OBJECT = frozenset({("iterable",), ("isscalar",), ("ndim",), ("shape",), ("size",)})
#: Functions whose parameters after the first few are keyword-only in the standard
#: (numpy takes them by position): name -> (positional count, the rest's names).
KEYWORD_ONLY = {
    **{name: (1, ("axis",)) for name in (
        "flip", "mean", "max", "min", "var", "std", "expand_dims", "concat", "stack",
        "argmax", "argmin")},
    "sum": (1, ("axis", "dtype")),
    "prod": (1, ("axis", "dtype")),
    "roll": (2, ("axis",)),
}
#: Array methods in derivative templates, written as functions of the namespace.
METHODS = frozenset(("sum", "mean", "max", "min", "prod"))
#: numpy functions in generated code that become helpers: name -> (helper, takes xp)
AS_HELPERS = {
    "shape": (array_api_grads.shape, False),
    "transpose": (array_api_grads.transpose, True),  # (without axes: reversed)
}


# ---------------------------------------------------------------- lowering


def is_namespace_module(obj: Any) -> bool:
    """An array-API namespace module other than numpy (whose functions have own rules)."""
    return (
        isinstance(obj, types.ModuleType)
        and obj is not np
        and hasattr(obj, "__array_api_version__")
    )


def is_namespace_getter(obj: Any) -> bool:
    """``array_api_compat.array_namespace`` (or ``get_namespace``), also the copies that
    libraries vendor or wrap (``scipy._lib._array_api.array_namespace``), and srcad's
    own, in the code it generates (differentiated again)."""
    return obj is namespace_of or (
        isinstance(obj, types.FunctionType)
        and obj.__name__ in ("array_namespace", "get_namespace")
        and "array_api" in (obj.__module__ or "")
    )


def numpy_path(path: tuple[str, ...]) -> tuple[str, ...] | None:
    """The numpy spelling of the standard's ``xp.<path>`` (``("pow",)`` -> ``("power",)``),
    or None when srcad does not support it."""
    dotted = ".".join(path)
    if dotted in RENAMED:
        return tuple(RENAMED[dotted].split("."))
    if len(path) == 1 and path[0] in SAME:
        return path
    return None


def numpy_twin(path: tuple[str, ...]) -> Any:
    """The numpy object standing for ``xp.<path>`` in lowering (None if unsupported)."""
    found = numpy_path(path)
    obj: Any = np
    for part in found or ():
        obj = getattr(obj, part, None)
    return obj if found is not None else None


def refusal(path: tuple[str, ...], location: Location) -> UnsupportedSyntaxError:
    """The error for ``xp.<path>``, which srcad has no derivative for."""
    name = ".".join(path)
    supported = ", ".join(sorted((SAME - {"e", "pi", "inf", "nan", "newaxis"}) | set(RENAMED)))
    return UnsupportedSyntaxError(
        f"`xp.{name}` (array API) is not supported by srcad",
        f"write it with the supported functions ({supported}), or differentiate it "
        "with srcad.defgrad",
        location,
    )


# ---------------------------------------------------------------- run time


#: numpy 2 implements the array API standard in its main namespace
_NUMPY_IS_STANDARD = int(np.__version__.split(".")[0]) >= 2


def namespace_of(*values: Any) -> Any:
    """The array namespace of the arrays among ``values`` (in lists, tuples and dicts
    too), as ``array_api_compat.array_namespace`` gives it when installed."""
    arrays: list[Any] = []
    pending = list(values)
    while pending:
        value = pending.pop()
        if hasattr(value, "__array_namespace__"):
            arrays.append(value)
        elif isinstance(value, list | tuple):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
    if _NUMPY_IS_STANDARD and all(isinstance(a, np.ndarray | np.generic) for a in arrays):
        return np  # (whatever wrapper of numpy a library uses, its `is_numpy(xp)` says yes)
    try:
        from array_api_compat import array_namespace
    except ImportError:  # the arrays' own namespace
        return arrays[0].__array_namespace__() if arrays else np
    return array_namespace(*arrays) if arrays else array_namespace(np.zeros(0))


# ---------------------------------------------------------------- port


@dataclass(frozen=True)
class Marker:
    """Records that a listing is array-API code, and the name its namespace has."""

    name: str


class _Port:
    def __init__(self, fn: ir.Function, forward: ir.Function) -> None:
        self.fn = fn
        self.ns = fn.bindings[MARKER].name
        self.bindings = {n: v for n, v in fn.bindings.items() if n not in (MARKER, self.ns)}
        named = {**fn.free_objects, **fn.bindings}
        self.numpy_names = {n for n, obj in named.items() if obj is np}
        self.locations = {
            s.tag: s.loc for s in ir.walk(forward.body) if isinstance(s, ir.Assign) and s.tag
        }
        #: the user's line of the statement at hand (the def's, for srcad's own lines)
        self.where: Location = Location(fn.source_file, fn.source_line, 0)
        self.call_sites = fn.call_sites
        self.helpers: dict[str, tuple[ir.Name, bool] | None] = {}
        #: the first line whose gradient runs numpy's own code (a function, or a helper
        #: of srcad's, that has no array-API version), and what it runs: the ported code
        #: checks the namespace is numpy's there (see :func:`require_numpy_namespace`)
        self.numpy_only: tuple[Location, str] | None = None

    def bind(self, preferred: str, obj: Any) -> ir.Name:
        for name, bound in self.bindings.items():
            if bound is obj:
                return ir.Name(name)
        name, k = preferred, 0
        while name in self.bindings or name in self.fn.names():
            k += 1
            name = f"{preferred}_{k}"
        self.bindings[name] = obj
        return ir.Name(name)

    def numpy_attrs(self, expr: ir.Expr) -> tuple[str, ...] | None:
        """``("linalg", "norm")`` for ``np.linalg.norm``; None if not rooted at numpy."""
        names = chain_names(expr)
        if names is not None and names[0] in self.numpy_names and len(names) > 1:
            return names[1:]
        return None

    def standard(self, path: tuple[str, ...]) -> ir.Expr:
        """``xp.<standard name>`` for numpy's ``np.<path>``; numpy's own where the standard
        has no such function (noted: :attr:`numpy_only`)."""
        if len(path) != 1 or path[0] not in TO_STANDARD:
            self.needs_numpy(f"`np.{'.'.join(path)}`")
            found: ir.Expr = self.bind("np", np)
            for name in path:
                found = ir.Attr(found, name)
            return found
        return ir.Attr(ir.Name(self.ns), TO_STANDARD[path[0]])

    def needs_numpy(self, what: str) -> None:
        """Note that the line at hand runs ``what``, numpy's own code."""
        if self.numpy_only is None:
            where = self.where if self.where.filename == self.fn.source_file else Location(
                self.fn.source_file, self.fn.source_line, 0
            )  # (a library's line the user's call did not reach: the function's)
            self.numpy_only = (where, what)

    def helper(self, name: str) -> tuple[ir.Name, bool] | None:
        """The array-API twin of the srcad helper ``name`` is bound to, and whether it
        takes ``xp`` first; None for what is not srcad's (builtins, the user's)."""
        if name not in self.helpers:
            self.helpers[name] = self._twin(name)
        return self.helpers[name]

    def _twin(self, name: str) -> tuple[ir.Name, bool] | None:
        obj = self.bindings.get(name)
        if obj is None:  # (not a binding: the user's)
            return None
        if getattr(obj, "__qualname__", "") == "scalar_check.<locals>.require_scalar":
            self.bindings[name] = array_api_grads.require_scalar_of(obj)
            return ir.Name(name), False
        module = getattr(obj, "__module__", None)
        if module not in (numpy_grads.__name__, runtime.__name__) or isinstance(obj, type):
            return None
        if getattr(obj, "__srcad_effect__", False) or obj is runtime.formatted:
            return None  # (raises, checks, messages: no arrays made, any namespace)
        plain = array_api_grads.WITHOUT_NAMESPACE.get(getattr(obj, "__name__", ""))
        if plain is not None:  # (any library's arrays, as they are: no namespace)
            self.bindings[name] = plain
            return ir.Name(name), False
        twin = getattr(array_api_grads, getattr(obj, "__name__", ""), None)
        if twin is None or not callable(twin):
            self.needs_numpy(f"srcad's `{obj.__name__}`")
            return None  # (numpy's own: called as it is)
        self.bindings[name] = twin
        return ir.Name(name), True

    def expr(self, e: ir.Expr) -> ir.Expr:
        if isinstance(e, ir.Call):
            return self.call(e)
        if isinstance(e, ir.BinOp) and e.op == "*" and (
            isinstance(e.left, ir.Compare) or isinstance(e.right, ir.Compare)
        ):  # (c >= 0) * g: booleans do not mix with floats in the standard
            cond, value = (e.left, e.right) if isinstance(e.left, ir.Compare) else (e.right, e.left)
            where = ir.Attr(ir.Name(self.ns), "where")
            return ir.Call(where, (self.expr(cond), self.expr(value), ir.Const(0.0)))
        path = self.numpy_attrs(e)
        if path is not None:
            return self.standard(path)
        return ir.with_children(e, [self.expr(c) for c in ir.children(e)])

    def call(self, e: ir.Call) -> ir.Expr:
        args = tuple(self.expr(a) for a in e.args)
        kwargs = tuple((k, self.expr(v)) for k, v in e.kwargs)
        path = self.numpy_attrs(e.func)
        if path is not None:
            with_axes = path == ("transpose",) and len(args) > 1
            if len(path) == 1 and path[0] in AS_HELPERS and not with_axes:
                helper, takes_xp = AS_HELPERS[path[0]]
                first = (ir.Name(self.ns),) if takes_xp else ()
                return ir.Call(self.bind(path[0], helper), first + args, kwargs)
            if path in OF_ANY_OBJECT:
                return ir.Call(e.func, args, kwargs)
            return self.standard_call(path, args, kwargs)
        if isinstance(e.func, ir.Attr) and e.func.attr == "copy" and not args:
            copied = (self.expr(e.func.value),)  # x.copy(): the standard has no method
            asarray = ir.Attr(ir.Name(self.ns), "asarray")
            return ir.Call(asarray, copied, (("copy", ir.Const(True)),))
        if isinstance(e.func, ir.Name):
            found = self.helper(e.func.id)
            if found is not None:
                name, takes_xp = found
                return ir.Call(name, ((ir.Name(self.ns),) if takes_xp else ()) + args, kwargs)
        if isinstance(e.func, ir.Attr) and e.func.attr in METHODS:
            method = ir.Attr(ir.Name(self.ns), e.func.attr)
            return ir.Call(method, (self.expr(e.func.value), *args), kwargs)
        return ir.Call(self.expr(e.func), args, kwargs)

    def standard_call(
        self, path: tuple[str, ...], args: tuple[ir.Expr, ...], kwargs: tuple
    ) -> ir.Expr:
        """The call of numpy's ``np.<path>`` as the standard spells it: arguments the
        standard takes by keyword only passed by keyword, keywords given None left out,
        and ``negative`` of a number folded (``xp.negative`` takes arrays only)."""
        func = self.standard(path)
        assert isinstance(func, ir.Attr)
        if func.attr == "negative" and len(args) == 1 and isinstance(args[0], ir.Const):
            value = args[0].value
            if isinstance(value, int | float):
                return ir.Const(-value)
            if isinstance(value, tuple):
                return ir.Const(tuple(-v for v in value))
        keep, names = KEYWORD_ONLY.get(func.attr, (len(args), ()))
        extra = args[keep:]
        if len(extra) > len(names):
            return ir.Call(func, args, kwargs)  # (the standard function will say what is wrong)
        by_name = tuple(
            (name, value)
            for name, value in zip(names, extra)
            if not (isinstance(value, ir.Const) and value.value is None)
        )
        given = tuple(  # (None is the default of every standard keyword that takes it;
            (name, value)  # numpy's own keywords, such as order=None, are not standard)
            for name, value in kwargs
            if not (isinstance(value, ir.Const) and value.value is None)
        )
        return ir.Call(func, args[:keep], (*by_name, *given))

    def stmt(self, s: ir.Stmt) -> ir.Stmt:
        loc = getattr(s, "loc", None)
        if loc is None or loc == UNKNOWN_LOCATION:
            loc = self.locations.get(getattr(s, "tag", 0), UNKNOWN_LOCATION)
        if loc != UNKNOWN_LOCATION:  # (a library's line: the user's call that reached it)
            self.where = self.call_sites.get(loc, (loc,))[0]
        if isinstance(s, ir.If | ir.Loop):
            s = ir.with_blocks(s, [self.body(b) for b in ir.blocks_of(s)])
        fields = {
            name: self.expr(value)
            for name in ("value", "manager", "index", "test", "iterable", "cond")
            if isinstance(value := getattr(s, name, None), ir.Expr.__args__)
        }
        if isinstance(s, ir.AdjointItem) and s.via:
            via = self.bindings.get(s.via)
            twin = array_api_grads.WITHOUT_NAMESPACE.get(getattr(via, "__name__", ""))
            if twin is not None:
                self.bindings[s.via] = twin
        # (the fields named are expressions of ``s``: not a type the checker can follow)
        return replace(s, **fields) if fields else s  # type: ignore[arg-type]

    def body(self, body: tuple[ir.Stmt, ...]) -> tuple[ir.Stmt, ...]:
        return tuple(self.stmt(s) for s in body)


def port(fn: ir.Function, forward: ir.Function) -> ir.Function:
    """``fn`` calling its inputs' array namespace instead of numpy, if it is array-API
    code (see the module's docstring); otherwise ``fn`` itself."""
    if MARKER not in fn.bindings:
        return fn
    porting = _Port(fn, forward)
    body = porting.body(fn.body)
    params = tuple(ir.Name(p) for p in (*fn.params, *fn.kwonly))
    head: list[ir.Stmt] = [
        ir.Assign(porting.ns, ir.Call(porting.bind("namespace_of", namespace_of), params))
    ]
    if porting.numpy_only is not None:  # (numpy's arrays only, checked when it runs)
        where, what = porting.numpy_only
        error = UnsupportedSyntaxError(
            f"the gradient of this line needs {what}, which srcad runs on numpy's arrays "
            "only, and this function was given arrays of another array-API library",
            "pass numpy arrays, or write the line with the array API's functions",
            where,
        )
        check = porting.bind("require_numpy_namespace", require_numpy_namespace)
        refusal = porting.bind("numpy_only", error)
        head.append(ir.Effect(ir.Call(check, (ir.Name(porting.ns), refusal))))
    return replace(fn, body=(*head, *body), bindings=porting.bindings)


def require_numpy_namespace(namespace: Any, error: Exception) -> None:
    """Raise ``error`` where the inputs' ``namespace`` is not numpy's."""
    if namespace is not np:
        raise error
