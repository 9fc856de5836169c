"""Methods that change an array or a dict in place, as the item writes they are.

``a.fill(v)`` is ``a[...] = v`` and ``a.sort(axis)`` is ``a[...] = np.sort(a, axis)``
(the write reaches every view of ``a``, as numpy's does: :mod:`srcad.memory` follows
it); ``d.update(m)`` is ``d[k] = v`` for each item of ``m`` and ``d.setdefault(k, v)``
is ``if k not in d: d[k] = v``, on a dict this function made. (Lists: see
:meth:`srcad.lower.lists.Lists.change_list`.)
"""

from __future__ import annotations

import ast
from collections.abc import Callable

import numpy as np

from .. import ir
from ..errors import UnsupportedSyntaxError
from ..runtime import require_no_list
from .values import LoweringPart, Scope


class InPlaceMethods(LoweringPart):
    """The lowerer's part for methods that change an array or a dict (see the module)."""

    def method_statements(self, scope: Scope, call: ast.Call) -> list[ast.stmt] | None:
        """The statements ``receiver.method(...)`` (a bare call) stands for, to be
        lowered in its place; None when it is not one of the methods above."""
        func = call.func
        if (
            not isinstance(func, ast.Attribute)
            or any(isinstance(a, ast.Starred) for a in call.args)
            or any(k.arg is None for k in call.keywords)
        ):
            return None
        if isinstance(func.value, ast.Subscript) and isinstance(func.value.ctx, ast.Load):
            # (A[1].sort(), d["w"].fill(0.0): the write through the item, A[1][...] = ...)
            statements = self.array_method(scope, func.value, func.attr, call)
            return None if statements is None else _located(statements, call)
        if not isinstance(func.value, ast.Name):
            return None
        receiver = func.value
        value = scope.env.get(receiver.id)
        if not isinstance(value, ir.Name):  # (a display, a global: not these)
            return None
        if self.is_own_list(value):  # (its methods: Lists.change_list)
            return None
        example = self.example_of(scope, receiver)  # (an object's: its own methods)
        if value.id in self.own_dicts or value.id in self.shallow_copies:  # (dict(p) too)
            statements = _dict_method(receiver, func.attr, call, self.names.fresh)
        elif (example is None or isinstance(example, np.ndarray)) and (
            value.id not in self.known_objects()
        ):
            statements = self.array_method(scope, receiver, func.attr, call)
            if statements and value.id in self.parameter_names:
                self.emit(self.not_a_list_check(scope, call, value))
        else:
            return None
        return None if statements is None else _located(statements, call)

    def array_method(
        self, scope: Scope, receiver: ast.Name | ast.Subscript, method: str, call: ast.Call
    ) -> list[ast.stmt] | None:
        """``a.fill(v)`` and ``a.sort(axis=-1)`` as ``a[...] = ...`` (``a`` a name or an
        item of one)."""
        whole = ast.Subscript(_loaded(receiver), ast.Constant(Ellipsis), ast.Store())
        given = {k.arg: k.value for k in call.keywords}
        if method == "fill" and len(call.args) == 1 and not given:
            return [ast.Assign([whole], call.args[0])]
        numpy = _numpy_name(scope)
        if method != "sort" or numpy is None or len(call.args) + len(given) > 2:
            return None
        if set(given) - {"axis", "kind"} or len(call.args) > 1:
            return None  # (order=: fields of a structured array, which have no gradient)
        axis = call.args[0] if call.args else given.get("axis", ast.Constant(-1))
        np_sort = ast.Attribute(ast.Name(numpy, ast.Load()), "sort", ast.Load())
        sorted_copy = ast.Call(np_sort, [_loaded(receiver)], [ast.keyword("axis", axis)])
        return [ast.Assign([whole], sorted_copy)]

    def not_a_list_check(self, scope: Scope, call: ast.Call, value: ir.Name) -> ir.Stmt:
        """The parameter a method changes in place is an array, not the caller's list."""
        assert isinstance(call.func, ast.Attribute)
        method = call.func.attr
        error = UnsupportedSyntaxError(
            f"`.{method}()` here changes the caller's list in place, which srcad does not "
            "follow (it reads the parameter as an array)",
            "work on a new list (`items = sorted(items)`), or pass an array",
            scope.source.location(call),
        )
        return self.run_time_check(
            require_no_list, (value,), error, "not_a_list", note="an array, not a list"
        )


def _loaded(receiver: ast.Name | ast.Subscript) -> ast.expr:
    """A new node reading ``receiver``, at its place (the write's target and its value
    each get one)."""
    read = ast.parse(ast.unparse(receiver), mode="eval").body
    for node in ast.walk(read):
        ast.copy_location(node, receiver)
    return read


def _located(statements: list[ast.stmt], call: ast.Call) -> list[ast.stmt]:
    """``statements`` placed at the user's call (where errors and listings point); the
    user's own nodes in them keep their places."""
    for stmt in statements:
        ast.copy_location(stmt, call)
        ast.fix_missing_locations(stmt)
    return statements


def _numpy_name(scope: Scope) -> str | None:
    """A global name of the function's module that holds numpy (``np``), if any."""
    return next(
        (name for name, obj in scope.source.globals.items() if obj is np and name.isidentifier()),
        None,
    )


def _dict_method(
    receiver: ast.Name, method: str, call: ast.Call, fresh: Callable[[str], str]
) -> list[ast.stmt] | None:
    """``d.update(...)`` and ``d.setdefault(k, v)`` as the item writes they are, after
    the keys and values are evaluated, as Python evaluates them before the update
    (``fresh``: a new name, for those and the loop of ``d.update(other)``)."""

    def item(index: ast.expr, ctx: ast.expr_context) -> ast.Subscript:
        return ast.Subscript(ast.Name(receiver.id, ast.Load()), index, ctx)

    args, keywords = call.args, call.keywords
    if method == "setdefault" and len(args) == 2 and not keywords:
        index, default = args
        missing = ast.Compare(index, [ast.NotIn()], [ast.Name(receiver.id, ast.Load())])
        return [ast.If(missing, [ast.Assign([item(index, ast.Store())], default)], [])]
    if method != "update" or len(args) > 1:
        return None
    first: list[ast.stmt] = []  # (every key and value is evaluated before the first write)

    def evaluated(value: ast.expr, name: str) -> ast.expr:
        if isinstance(value, ast.Constant):
            return value
        held = fresh(name)
        first.append(ast.Assign([ast.Name(held, ast.Store())], value))
        return ast.Name(held, ast.Load())

    writes: list[ast.stmt] = []
    if args and isinstance(args[0], ast.Dict) and None not in args[0].keys:
        pairs = [
            (evaluated(k, "key"), evaluated(v, "value"))
            for k, v in zip(args[0].keys, args[0].values, strict=True)
            if k is not None
        ]
        writes += [ast.Assign([item(k, ast.Store())], v) for k, v in pairs]
    elif args:  # for key in other: d[key] = other[key]
        other = args[0]
        if not isinstance(other, ast.Name):
            return None
        key = fresh("key")
        read = ast.Subscript(ast.Name(other.id, ast.Load()), ast.Name(key, ast.Load()), ast.Load())
        write = ast.Assign([item(ast.Name(key, ast.Load()), ast.Store())], read)
        writes.append(ast.For(ast.Name(key, ast.Store()), other, [write], []))
    for keyword in keywords:
        assert keyword.arg is not None  # (** refused above)
        value = evaluated(keyword.value, "value")
        writes.append(ast.Assign([item(ast.Constant(keyword.arg), ast.Store())], value))
    return first + writes
