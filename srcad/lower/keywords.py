"""numpy's call forms that srcad has no rule for, written as the operations they stand
for, so that the rules of those operations differentiate them.

Calls that change an array in place (a statement of their own), as item writes:

- ``np.copyto(dst, src)``: ``dst[...] = src`` (``where=m``: ``np.where(m, src, dst)``);
- ``np.fill_diagonal(a, v)``: ``a[np.diag_indices(min(a.shape), a.ndim)] = v``;
- ``np.put(a, ind, v)``: ``a[np.unravel_index(ind, a.shape)] = v`` (negative positions
  from the end; ``mode='wrap'``: ``ind % a.size``, ``mode='clip'``: clipped to the ends);
- ``np.putmask(a, mask, v)``: ``a[...] = np.where(mask, v, a)``;
- ``np.put_along_axis(a, ind, v, axis)``: ``a[<the index numpy writes>] = v``;
- ``np.multiply.at(a, i, v)``: ``a[...] = multiplied_at(a, i, v)``, a copy multiplied;

(``v`` repeated or cut to the number of items written, ``np.resize``, as numpy does;
other forms of these calls are refused, where they stand);
- ``np.subtract.at(a, i, v)``: ``np.add.at(a, i, -v)``.

NaN-ignoring reductions (``np.nansum``, ``nanprod``, ``nanmax``, ``nanmin``, ``nanmean``)
as the reductions they stand for over ``np.where(np.isnan(x), <identity>, x)``.

Keyword options that select or combine values:

- a ufunc's ``where=m`` with ``out=o``: ``np.where(m, f(...), o)`` (the items ``m``
  leaves out keep ``o``'s values; ``f`` is given 0.5 there, so that it computes nothing
  the user's call did not);
- a reduction's ``where=m``: the items left out replaced by the reduction's identity
  (``np.sum(np.where(m, x, 0.0))``; ``np.mean`` divides by the number of items kept);
- ``np.max``/``np.min``'s ``initial=v``: ``np.maximum(np.max(x), v)`` (with ``where=``,
  the items left out are ``v``); ``np.sum``'s: ``np.sum(x) + v``, ``np.prod``'s:
  ``np.prod(x) * v`` (with ``dtype=``, ``v`` cast to it, as numpy does);
- ``dtype=float`` (numpy's float64) of ``np.arange``, ``linspace``, ``full``,
  ``full_like`` and ``eye``: ``np.asarray(np.arange(...), dtype=float)``; of ``np.cumsum``
  and ``cumprod``: ``np.cumsum(np.asarray(x, dtype=float))``;
- a ufunc's ``subok=``, ``order=`` and ``casting=``, which change neither value nor
  gradient of real arrays, are dropped (``casting=`` kept with a ``dtype=``, which it
  allows).

Only calls spelled through the numpy module (``np.divide``, ``numpy.sum``; numpy's own
code: ``_nx.multiply``) are rewritten: the rewrite spells ``np.where`` the same way.
"""

from __future__ import annotations

import ast
import copy

import numpy as np

from ..desugar import ALONG_AXIS_INDEX, MULTIPLIED_AT
from .values import NOT_STATIC, LoweringPart, Scope

#: ufunc options that change neither the value nor the gradient of real arrays
_LAYOUT_ONLY = frozenset(("subok", "order", "casting"))
#: reductions whose ``where=`` replaces the items left out by this identity
_IDENTITY: dict[object, float] = {np.sum: 0.0, np.nansum: 0.0, np.prod: 1.0, np.nanprod: 1.0}
#: NaN-ignoring reductions -> what a NaN counts as in the reduction they stand for
_NAN_IDENTITY = {
    "nansum": 0.0, "nanprod": 1.0, "nanmax": -np.inf, "nanmin": np.inf, "nanmean": 0.0,
}
#: reductions with ``initial=`` and the elementwise function that combines it
_EXTREMA: dict[object, np.ufunc] = {
    np.max: np.maximum, np.amax: np.maximum, np.min: np.minimum, np.amin: np.minimum
}
_EXTREMUM_NAMES: dict[np.ufunc, str] = {np.maximum: "maximum", np.minimum: "minimum"}
#: reductions with ``initial=`` and the operator that combines it with the reduction
_INITIAL_OPERATOR: dict[object, type[ast.operator]] = {np.sum: ast.Add, np.prod: ast.Mult}
#: array makers whose ``dtype=`` of float64 changes nothing srcad differentiates
_MAKERS = (np.arange, np.linspace, np.full, np.full_like, np.eye)
_FLOAT64 = (float, np.float64, np.double, "float", "float64", "f8", "double")
#: scans whose ``dtype=`` of float64 is their argument's: ``np.cumsum(np.asarray(x, dtype))``
_SCANS = (np.cumsum, np.cumprod)


class NumpyKeywords(LoweringPart):
    """The lowerer's part for numpy's keyword options (see the module)."""

    def numpy_keywords(self, scope: Scope, node: ast.Call, writes_out: bool = False) -> ast.expr:
        """``node``, with the keyword options of the module docstring written as
        operations; ``node`` itself when it has none. ``writes_out``: the caller writes
        the value into an ``out=`` array it names (a bare call's statement)."""
        if not isinstance(node.func, ast.Attribute):
            return node
        if node.func.attr == "piecewise" and self.denote(scope, node.func).static is np.piecewise:
            return self.piecewise(scope, node)
        if node.func.attr in _NAN_IDENTITY and node.args and self.denote(
            scope, node.func.value
        ).static is np:
            return self.without_nans(node)
        if not node.keywords:
            return node
        numpy = node.func.value  # (numpy itself, or a module of it: numpy's own `_nx`)
        module = self.denote(scope, numpy).static
        callee = getattr(module, node.func.attr, NOT_STATIC) if module is not NOT_STATIC else None
        given = {k.arg: k.value for k in node.keywords if k.arg is not None}
        spells_where = getattr(module, "where", None) is np.where
        if isinstance(callee, np.ufunc):
            dropped = _LAYOUT_ONLY if "dtype" not in given else _LAYOUT_ONLY - {"casting"}
            kept = [k for k in node.keywords if k.arg not in dropped]
            fresh = "out" in given and (writes_out or not _names_an_array(given["out"]))
            if "where" in given and fresh and spells_where:
                # (the items left out get 0.5, inside every ufunc's domain: no warning,
                # no FloatingPointError under np.errstate, and no inf in the gradient)
                mask = given["where"]
                safe: list[ast.expr] = [
                    _where(numpy, mask, a, ast.Constant(0.5), node) for a in node.args
                ]
                inner = _call(node, [k for k in kept if k.arg not in ("where", "out")], safe)
                return _where(numpy, mask, inner, given["out"], node)
            return _call(node, kept) if len(kept) < len(node.keywords) else node
        if module is not np or not node.args:
            return node
        try:
            identity, combine = _IDENTITY.get(callee), _EXTREMA.get(callee)
        except TypeError:  # (an object numpy holds that cannot be a key)
            return node
        x = node.args[0]
        rest = [k for k in node.keywords if k.arg not in ("where", "initial")]
        if identity is not None and "where" in given and "initial" not in given:
            kept_x = _where(numpy, given["where"], x, ast.Constant(identity), node)
            return _call(node, rest, [kept_x, *node.args[1:]])
        if callee is np.mean and "where" in given:
            kept_x = _where(numpy, given["where"], x, ast.Constant(0.0), node)
            shape = _np(numpy, "shape", [x], node)
            mask = _np(numpy, "broadcast_to", [given["where"], shape], node)
            total = _np(numpy, "sum", [kept_x, *node.args[1:]], node, rest)
            count = _np(numpy, "sum", [mask, *node.args[1:]], node, rest)
            return ast.copy_location(ast.BinOp(total, ast.Div(), count), node)
        if callee in _INITIAL_OPERATOR and "initial" in given:
            summed: ast.expr = x if "where" not in given else _where(
                numpy, given["where"], x, ast.Constant(_IDENTITY[callee]), node
            )
            reduced = _call(node, rest, [summed, *node.args[1:]])
            initial = given["initial"]  # (numpy casts it to the accumulator's dtype too)
            if "dtype" in given:
                dtype = [ast.keyword("dtype", given["dtype"])]
                initial = _np(numpy, "asarray", [initial], node, dtype)
            combined = ast.BinOp(reduced, _INITIAL_OPERATOR[callee](), initial)
            return ast.copy_location(combined, node)
        if "dtype" in given and self._is_float64(scope, given["dtype"]):
            # (an int dtype makes the values steps, numpy's own way: refused)
            without = [k for k in node.keywords if k.arg != "dtype"]
            cast = [ast.keyword("dtype", given["dtype"])]
            if any(callee is maker for maker in _MAKERS):
                return _np(numpy, "asarray", [_call(node, without)], node, cast)
            if any(callee is scan for scan in _SCANS):
                as_floats = _np(numpy, "asarray", [x], node, cast)
                return _call(node, without, [as_floats, *node.args[1:]])
        if combine is not None and "initial" in given:
            initial = given["initial"]
            if "where" in given:
                kept_x = _where(numpy, given["where"], x, initial, node)
                return _call(node, rest, [kept_x, *node.args[1:]])
            return _np(numpy, _EXTREMUM_NAMES[combine], [_call(node, rest), initial], node)
        return node

    def piecewise(self, scope: Scope, node: ast.Call) -> ast.expr:
        """``np.piecewise(x, [c0, c1, ...], [f0, f1, ...])`` as the selections it makes:
        ``np.where(c1, f1(x), np.where(c0, f0(x), otherwise))`` (a later condition wins,
        as numpy's; ``otherwise``: the extra last function's value, or 0). Each ``f`` is
        a function (a lambda, a function of the code) applied to all of ``x``, or a
        constant; only the items its condition picks reach the result."""
        assert isinstance(node.func, ast.Attribute)
        numpy = node.func.value
        if len(node.args) != 3 or node.keywords or not all(
            isinstance(a, ast.List | ast.Tuple) for a in node.args[1:]
        ) or any(isinstance(n, ast.Call | ast.Lambda | ast.NamedExpr) for n in ast.walk(
            node.args[0]
        )) or len(node.args[2].elts) - len(node.args[1].elts) not in (0, 1):  # type: ignore[attr-defined]
            raise self.error(
                scope, node,
                "srcad reads `np.piecewise(x, conditions, functions)` with `x` a name (or "
                "an item of one) and the conditions and functions written as lists, one "
                "function for each condition and maybe one more for the rest",
                "name `x` first, and write the lists out (`[x < 0, x >= 0]`, "
                "`[lambda t: -t, square]`), or select with np.where",
            )
        x, conditions, functions = node.args
        assert isinstance(conditions, ast.List | ast.Tuple)
        assert isinstance(functions, ast.List | ast.Tuple)
        pieces = [self._piece(scope, f, x) for f in functions.elts]
        out = pieces.pop() if len(pieces) > len(conditions.elts) else ast.Constant(0.0)
        like = _np(numpy, "zeros_like", [x], node)  # (numpy's result: x's shape and type)
        out = ast.BinOp(like, ast.Add(), out)
        for condition, piece in zip(conditions.elts, pieces):
            out = _where(numpy, condition, piece, out, node)
        return ast.fix_missing_locations(ast.copy_location(
            _np(numpy, "asarray", [out], node, [ast.keyword("dtype", ast.Attribute(
                copy.deepcopy(x), "dtype", ast.Load()))]), node,
        ))

    def _piece(self, scope: Scope, function: ast.expr, x: ast.expr) -> ast.expr:
        """One of ``np.piecewise``'s functions applied to ``x`` (a lambda's body with
        ``x`` put in), or a constant as it is."""
        if isinstance(function, ast.Lambda) and len(function.args.args) == 1 and not (
            function.args.vararg or function.args.kwarg or function.args.kwonlyargs
            or function.args.posonlyargs or function.args.defaults
        ):
            return _Substituted(function.args.args[0].arg, x).visit(copy.deepcopy(function.body))
        if isinstance(function, ast.Name | ast.Attribute) and callable(
            self.denote(scope, function).static
        ) or self.nested_function(scope, function) is not None:
            return ast.copy_location(ast.Call(function, [copy.deepcopy(x)], []), function)
        if isinstance(function, ast.Lambda):
            raise self.error(
                scope, function, "a function given to `np.piecewise` takes one argument here",
                "write it `lambda t: ...`",
            )
        return function

    def _is_float64(self, scope: Scope, dtype: ast.expr) -> bool:
        """``dtype`` is numpy's float64 (``float``, ``np.float64``, ``"float64"``...)."""
        if isinstance(dtype, ast.Constant):
            return isinstance(dtype.value, str) and dtype.value in _FLOAT64
        held = self.denote(scope, dtype).static
        return any(held is kind for kind in _FLOAT64 if not isinstance(kind, str))

    def without_nans(self, node: ast.Call) -> ast.expr:
        """``np.nansum(x, ...)`` as ``np.sum(np.where(np.isnan(x), 0.0, x), ...)`` (and the
        other NaN-ignoring reductions likewise; ``np.nanmean`` divides by the count of
        numbers): the selection's rule keeps a NaN's own derivatives out of the gradient."""
        assert isinstance(node.func, ast.Attribute)
        numpy, name = node.func.value, node.func.attr
        x, rest = node.args[0], node.args[1:]
        missing = _np(numpy, "isnan", [x], node)
        kept = _where(numpy, missing, ast.Constant(_NAN_IDENTITY[name]), copy.deepcopy(x), node)
        reduced = _np(numpy, name[3:], [kept, *rest], node, node.keywords)
        if name != "nanmean":
            return reduced
        present = ast.copy_location(ast.UnaryOp(ast.Invert(), copy.deepcopy(missing)), node)
        count = _np(numpy, "sum", [present, *rest], node, node.keywords)
        total = _np(numpy, "sum", [copy.deepcopy(kept), *rest], node, node.keywords)
        return ast.copy_location(ast.BinOp(total, ast.Div(), count), node)

    def in_place_call(self, scope: Scope, call: ast.Call) -> tuple[ast.Subscript, ast.expr] | None:
        """A call that changes an array in place (see the module), as the item write it
        is: ``(target, value)`` for ``target = value``; None for any other call."""
        func = call.func
        if not isinstance(func, ast.Attribute) or any(k.arg is None for k in call.keywords):
            return None
        numpy = func.value
        args = list(call.args)
        if (
            func.attr == "at" and self.denote(scope, numpy).static is np.multiply
            and len(args) == 3 and not call.keywords
        ):  # (each repeated position multiplied by each of its factors, as numpy does)
            array, index, value = args
            product = ast.Call(
                ast.Name(MULTIPLIED_AT, ast.Load()), [_load(array), index, value], []
            )
            return _store(array, ast.Constant(Ellipsis)), ast.copy_location(product, call)
        if self.denote(scope, numpy).static is not np:
            return None
        given = {k.arg: k.value for k in call.keywords}
        name = func.attr
        if name == "copyto" and len(args) == 2 and set(given) <= {"where", "casting"}:
            dst, src = args
            if "where" in given:
                src = _where(numpy, given["where"], src, _load(dst), call)
            return _store(dst, ast.Constant(Ellipsis)), src
        # (numpy repeats a shorter value, and uses the first items of a longer one)
        if name == "fill_diagonal" and len(args) == 2 and not given:
            array, value = args
            shape = ast.Attribute(_load(array), "shape", ast.Load())
            size: ast.expr = ast.Call(ast.Name("min", ast.Load()), [shape], [])
            rank = ast.Attribute(_load(array), "ndim", ast.Load())
            index = _np(numpy, "diag_indices", [size, rank], call)
            return _store(array, index), _np(numpy, "resize", [value, size], call)
        mode = _constant_mode(given)
        if name == "put" and len(args) == 3 and mode in ("raise", "wrap", "clip"):
            array, positions, value = args
            shape = ast.Attribute(_load(array), "shape", ast.Load())
            size = ast.Attribute(_load(array), "size", ast.Load())
            flat = _np(numpy, "ravel", [positions], call)
            wrapped: ast.expr
            if mode == "raise":  # (a negative position counts from the end, as in indexing)
                wrapped = _where(
                    numpy, ast.Compare(flat, [ast.Lt()], [ast.Constant(0)]),
                    ast.BinOp(copy.deepcopy(flat), ast.Add(), size), copy.deepcopy(flat), call,
                )
            elif mode == "wrap":  # (numpy's mode='wrap': positions modulo the size)
                wrapped = ast.BinOp(flat, ast.Mod(), size)
            else:  # (mode='clip': positions past either end write the end item)
                last = ast.BinOp(size, ast.Sub(), ast.Constant(1))
                wrapped = _np(numpy, "clip", [flat, ast.Constant(0), last], call)
            index = _np(numpy, "unravel_index", [wrapped, shape], call)
            count = _np(numpy, "size", [copy.deepcopy(positions)], call)
            return _store(array, index), _np(numpy, "resize", [value, count], call)
        if name == "putmask" and len(args) == 3 and not given:
            array, mask, value = args
            shape = ast.Attribute(_load(array), "shape", ast.Load())
            spread = _np(numpy, "resize", [value, shape], call)
            return _store(array, ast.Constant(Ellipsis)), _where(
                numpy, mask, spread, _load(array), call
            )
        if name == "put_along_axis" and len(args) + len(given) == 4 and set(given) <= {"axis"}:
            array, indices, value = args[:3]
            axis = given.get("axis", args[3] if len(args) == 4 else None)
            assert axis is not None  # (four arguments in all)
            shape = ast.Attribute(_load(array), "shape", ast.Load())
            index = ast.Call(ast.Name(ALONG_AXIS_INDEX, ast.Load()), [indices, axis, shape], [])
            return _store(array, ast.copy_location(index, call)), value
        if name in _WRITES_INTO_ARGUMENT:  # (another form: its write would be lost)
            raise self.error(
                scope, call,
                f"srcad follows the write of `np.{name}` only in the form "
                f"{_WRITES_INTO_ARGUMENT[name]}, not with these arguments",
                "write the change as an item assignment (`a[i] = v`, "
                "`a[...] = np.where(mask, v, a)`)",
            )
        return None


#: numpy functions that write into an argument, and the forms srcad reads as the write
_WRITES_INTO_ARGUMENT = {
    "copyto": "`np.copyto(dst, src, where=..., casting=...)`",
    "fill_diagonal": "`np.fill_diagonal(a, value)`",
    "put": "`np.put(a, ind, v, mode=...)` with a constant mode",
    "putmask": "`np.putmask(a, mask, v)`",
    "put_along_axis": "`np.put_along_axis(a, indices, values, axis)`",
}


def _constant_mode(given: dict[str | None, ast.expr]) -> str | None:
    """The ``mode=`` of ``np.put`` ("raise" when not given), or None for other keywords or a
    mode that is not a constant."""
    if not given:
        return "raise"
    node = given.get("mode")
    if len(given) == 1 and isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _load(node: ast.expr) -> ast.expr:
    """``node`` (a name or subscript written into) read."""
    copied = copy.copy(node)
    if hasattr(copied, "ctx"):
        copied.ctx = ast.Load()
    return copied


def _store(array: ast.expr, index: ast.expr) -> ast.Subscript:
    """``array[index]`` as a target."""
    target = ast.Subscript(_load(array), index, ast.Store())
    return ast.fix_missing_locations(ast.copy_location(target, array))


def _names_an_array(out: ast.expr) -> bool:
    """``out=`` names an array the caller has (which numpy writes into), rather than
    making a new one (``out=np.zeros_like(x)``)."""
    return isinstance(out, ast.Name | ast.Subscript | ast.Attribute | ast.Tuple)


def _call(
    node: ast.Call, keywords: list[ast.keyword], args: list[ast.expr] | None = None
) -> ast.Call:
    call = ast.Call(node.func, node.args if args is None else args, keywords)
    return ast.copy_location(call, node)


def _np(
    numpy: ast.expr,
    name: str,
    args: list[ast.expr],
    like: ast.AST,
    keywords: list[ast.keyword] | None = None,
) -> ast.Call:
    func = ast.copy_location(ast.Attribute(numpy, name, ast.Load()), like)
    return ast.copy_location(ast.Call(func, args, keywords or []), like)


def _where(
    numpy: ast.expr, mask: ast.expr, kept: ast.expr, other: ast.expr, like: ast.AST
) -> ast.Call:
    return _np(numpy, "where", [mask, kept, other], like)


class _Substituted(ast.NodeTransformer):
    """A lambda's body with its parameter ``name`` read as ``value`` (a name or an item
    of one: read again for each use)."""

    def __init__(self, name: str, value: ast.expr) -> None:
        self.name, self.value = name, value

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id == self.name and isinstance(node.ctx, ast.Load):
            return ast.copy_location(copy.deepcopy(self.value), node)
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.expr:
        return node  # (an inner lambda's own parameters: left alone)
