"""Operators of objects the function makes (see :mod:`srcad.lower.made_objects`):
``v + w`` runs ``Vec2.__add__``, ``2.0 * v`` ``Vec2.__rmul__``, ``-v`` ``__neg__``,
``p @ x`` ``__matmul__``, ``v += w`` ``__iadd__`` (else ``v = v + w``), ``abs(v)``
``__abs__``: inlined as Python dispatches them."""

from __future__ import annotations

import ast
import builtins
import inspect
import types
from collections.abc import Callable
from typing import Any

from .. import ir
from ..errors import UnsupportedSyntaxError
from ..runtime import require_no_array
from .resolve import variable
from .values import LoweringPart, Operand, Scope, TupleValue

Target = Callable[[], str] | None

#: the name of each binary operator's methods (``__add__``, ``__radd__``, ``__iadd__``)
_BINARY = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv",
    ast.MatMult: "matmul", ast.Pow: "pow", ast.FloorDiv: "floordiv", ast.Mod: "mod",
}
_UNARY = {ast.USub: "__neg__", ast.UAdd: "__pos__", ast.Invert: "__invert__"}
#: each comparison's method, and its reflection (``a < b``: ``b.__gt__(a)`` next)
_COMPARISONS = {
    ast.Lt: ("__lt__", "__gt__"), ast.Gt: ("__gt__", "__lt__"), ast.LtE: ("__le__", "__ge__"),
    ast.GtE: ("__ge__", "__le__"), ast.Eq: ("__eq__", "__eq__"), ast.NotEq: ("__ne__", "__ne__"),
}
#: builtins that call a method of their argument
_BUILTIN_METHODS = {builtins.abs: "__abs__", builtins.len: "__len__", builtins.float: "__float__"}


class MadeOperators(LoweringPart):
    """The lowerer's part for operators of objects the function makes (see the module)."""

    def made_reduction(self, scope: Scope, node: ast.Call, target: Target) -> Any:
        """``sum``, ``max`` and ``min`` of objects the function made, as Python runs them
        through the class's operator methods (round 97: refused): ``sum(objs, start)`` is
        ``start + objs[0] + objs[1] ...`` (``0 + v`` runs ``__radd__``); ``max(a, b, c)``
        keeps the first of the largest (``item > best``: ``__gt__``, or ``__lt__``
        reflected), ``min`` of the smallest. None for any other call."""
        reduction = self.reduction_of(scope, node)
        if reduction is None:
            return None
        callee, items, start = reduction
        if callee is not builtins.sum:  # (each item lowered once: compared, then chosen)
            lowered: list[ast.expr] = [Operand(self.lower_operand(scope, i)) for i in items]
            return self.selected(scope, node, lowered, callee is builtins.max, target)
        total: ast.expr = start if start is not None else ast.Constant(0)
        for item in items:
            total = ast.copy_location(ast.BinOp(total, ast.Add(), item), node)
        return self.lower_expr(scope, total, target)

    def reduction_of(
        self, scope: Scope, node: ast.Call
    ) -> tuple[Any, list[ast.expr], ast.expr | None] | None:
        """For ``sum``, ``max`` or ``min`` of items of which one may be an object the
        function made: the builtin, the items (several arguments, or a list or tuple
        whose items srcad knows) and ``sum``'s start (None if not given); None for any
        other call (``max(objs, key=...)`` is a loop already: :mod:`srcad.desugar`)."""
        if not isinstance(node.func, ast.Name) or node.func.id not in ("sum", "max", "min"):
            return None
        callee = self.denote(scope, node.func).static
        if not any(callee is f for f in (builtins.sum, builtins.max, builtins.min)):
            return None
        keywords = {k.arg: k.value for k in node.keywords}
        if any(isinstance(a, ast.Starred) for a in node.args) or set(keywords) - (
            {"start"} if callee is builtins.sum else set()
        ):
            return None
        start = None
        if callee is builtins.sum:
            if not 1 <= len(node.args) <= 2:
                return None
            items = self.known_items(scope, node.args[0])
            start = node.args[1] if len(node.args) == 2 else keywords.get("start")
        else:
            items = list(node.args) if len(node.args) > 1 else (
                self.known_items(scope, node.args[0]) if node.args else None
            )
        if not items or not any(self.may_be_made(scope, item) for item in items):
            return None
        return callee, items, start

    def known_items(self, scope: Scope, node: ast.expr) -> list[ast.expr] | None:
        """The items of a list or tuple display, or of a name holding one whose items
        srcad knows (lowered already); None for anything else."""
        if isinstance(node, ast.List | ast.Tuple):
            starred = any(isinstance(e, ast.Starred) for e in node.elts)
            return None if starred else list(node.elts)
        value = variable(scope, node.id) if isinstance(node, ast.Name) else None
        if isinstance(value, TupleValue) and all(isinstance(v, ir.Expr) for v in value.items):
            return [Operand(v) for v in value.items]
        return None

    def made_binop(self, scope: Scope, node: ast.BinOp, target: Target) -> Any:
        """``a op b`` where an operand may be an object the function made; None if none
        may be."""
        if not (self.may_be_made(scope, node.left) or self.may_be_made(scope, node.right)):
            return None
        left = self.lower_operand(scope, node.left)
        right = self.lower_operand(scope, node.right)
        self.refuse_lost(scope, node.left, left)
        self.refuse_lost(scope, node.right, right)
        if self.made_of(left) is None and self.made_of(right) is None:
            plain = ast.copy_location(ast.BinOp(Operand(left), node.op, Operand(right)), node)
            if isinstance(node.op, ast.Add | ast.Mult) and (
                self.may_be_list(scope, node.left) or self.may_be_list(scope, node.right)
                or self.is_own_list(left) or self.is_own_list(right)
            ):  # (obj.losses + [v], m.l1.parameters() + ...: lists, joined)
                return self.list_arithmetic(scope, plain, target)
            return self.lower_expr(scope, plain, target)
        return self.dispatch(scope, node, left, right, target)

    def dispatch(
        self, scope: Scope, node: ast.BinOp, left: ir.Expr, right: ir.Expr, target: Target
    ) -> Any:
        """Python's order: ``left.__op__(right)``, then ``right.__rop__(left)`` (first
        when ``right``'s class is a subclass of ``left``'s that overrides ``__rop__``;
        round 100: one that inherits it ran first); NotImplemented passes on."""
        name = _BINARY.get(type(node.op))
        made_left, made_right = self.made_of(left), self.made_of(right)
        tries: list[tuple[Any, str, ir.Expr, ir.Expr]] = []
        if name is not None and made_left is not None:
            tries.append((made_left.cls, f"__{name}__", left, right))
        if name is not None and made_right is not None and (
            made_left is None or made_right.cls is not made_left.cls
        ):
            reflected = (made_right.cls, f"__r{name}__", right, left)
            first = made_left is not None and issubclass(made_right.cls, made_left.cls) and (
                inspect.getattr_static(made_right.cls, f"__r{name}__", None)
                is not inspect.getattr_static(made_left.cls, f"__r{name}__", None)
            )
            tries.insert(0, reflected) if first else tries.append(reflected)
        for cls, method, receiver, other in tries:
            if not isinstance(inspect.getattr_static(cls, method, None), types.FunctionType):
                continue
            if receiver is right and self.made_of(left) is None:
                self.refuse_array_operand(scope, node, cls, left)
            result = self.call_member(
                scope, node, cls, method, receiver, [Operand(other)], [], target
            )
            if not self.is_not_implemented(result):
                return result
        classes = " and ".join(
            sorted({m.cls.__name__ for m in (made_left, made_right) if m is not None})
        )
        methods = f"`__{name}__` of the left operand, `__r{name}__` of the right" if name else (
            "an operator method"
        )
        raise self.error(
            scope,
            node,
            f"`{ast.unparse(node)}`: srcad found no operator method to call for these "
            f"operands ({methods}, as Python tries them) in {classes}, or in the class of "
            "an operand it does not know when it compiles",
            "define the method in the class, or annotate a parameter with its class "
            "(`z: MyClass`) so that srcad calls its methods",
        )

    def made_membership(self, scope: Scope, node: ast.Compare, target: Target) -> Any:
        """``v in r`` (``not in``) of an object ``r`` the function made whose class
        defines ``__contains__``: that method's code (its value as a truth value)."""
        left = self.lower_operand(scope, node.left)
        right = self.lower_operand(scope, node.comparators[0])
        self.refuse_lost(scope, node.comparators[0], right)
        made = self.made_of(right)
        if made is None or not isinstance(
            inspect.getattr_static(made.cls, "__contains__", None), types.FunctionType
        ):
            plain = ast.copy_location(
                ast.Compare(Operand(left), node.ops, [Operand(right)]), node
            )
            return self.operation(scope, plain, target)
        found = self.call_member(
            scope, node, made.cls, "__contains__", right, [Operand(left)], [], None
        )
        truth: ast.expr = ast.Call(ast.Name("bool", ast.Load()), [Operand(found)], [])
        if isinstance(node.ops[0], ast.NotIn):
            truth = ast.UnaryOp(ast.Not(), truth)
        return self.lower_expr(scope, ast.copy_location(truth, node), target)

    def made_compare(self, scope: Scope, node: ast.Compare, target: Target) -> Any:
        """``a < b`` (one comparison) where an operand may be an object the function made:
        ``a.__lt__(b)``, then the reflection ``b.__gt__(a)`` as Python tries them; None
        when neither may be one."""
        right_node = node.comparators[0]
        if isinstance(node.ops[0], ast.In | ast.NotIn) and self.may_be_made(scope, right_node):
            return self.made_membership(scope, node, target)
        methods = _COMPARISONS.get(type(node.ops[0]))
        if methods is None or not (
            self.may_be_made(scope, node.left) or self.may_be_made(scope, right_node)
        ):
            return None
        left = self.lower_operand(scope, node.left)
        right = self.lower_operand(scope, right_node)
        self.refuse_lost(scope, node.left, left)
        self.refuse_lost(scope, right_node, right)
        made_left, made_right = self.made_of(left), self.made_of(right)
        if made_left is None and made_right is None:
            plain = ast.copy_location(
                ast.Compare(Operand(left), node.ops, [Operand(right)]), node
            )
            return self.operation(scope, plain, target)
        tries = [(made.cls, method, receiver, other)
                 for made, method, receiver, other in (
                     (made_left, methods[0], left, right), (made_right, methods[1], right, left))
                 if made is not None]
        for cls, method, receiver, other in tries:
            if not isinstance(inspect.getattr_static(cls, method, None), types.FunctionType):
                continue
            result = self.call_member(
                scope, node, cls, method, receiver, [Operand(other)], [], target
            )
            if not self.is_not_implemented(result):
                return result
        raise self.error(
            scope,
            node,
            f"`{ast.unparse(node)}` compares objects the function made whose class defines "
            f"no `{methods[0]}` for them (Python compares them by identity, or raises "
            "TypeError)",
            f"define `{methods[0]}` in the class, or compare the objects' fields",
        )

    def refuse_array_operand(self, scope: Scope, node: ast.AST, cls: type, value: ir.Expr) -> None:
        """``x * obj`` with ``x`` a numpy array runs numpy's operator, which makes an array
        of objects, not ``obj.__rmul__(x)``: refused when the gradient runs (unless the
        class sets ``__array_ufunc__ = None``, which makes numpy hand over)."""
        if not isinstance(value, ir.Name) or getattr(cls, "__array_ufunc__", 0) is None:
            return
        error = UnsupportedSyntaxError(
            f"the left operand here is a numpy array, whose operator makes an array of "
            f"{cls.__name__} objects (numpy does not call `{cls.__name__}`'s reflected "
            "method with the whole array)",
            f"put the {cls.__name__} first, or set `__array_ufunc__ = None` in its class",
            scope.source.location(node),
        )
        self.emit(self.run_time_check(
            require_no_array, (value,), error, "not_an_array", note="a number, not an array"
        ))

    def is_not_implemented(self, value: Any) -> bool:
        return isinstance(value, ir.Name) and (
            value.id == "NotImplemented" or self.bindings.get(value.id) is NotImplemented
        )

    def made_unary(self, scope: Scope, node: ast.UnaryOp, target: Target) -> Any:
        """``-v`` (``+v``, ``~v``) of an object the function made: its method; None when
        the operand may be no such object."""
        method = _UNARY.get(type(node.op))
        if method is None or not self.may_be_made(scope, node.operand):
            return None
        value = self.lower_operand(scope, node.operand)
        self.refuse_lost(scope, node.operand, value)
        made = self.made_of(value)
        if made is None:
            plain = ast.copy_location(ast.UnaryOp(node.op, Operand(value)), node)
            return self.lower_expr(scope, plain, target)
        return self.call_method_named(scope, node, made.cls, method, value, [], target)

    def made_builtin(self, scope: Scope, node: ast.Call, target: Target) -> Any:
        """``abs(v)``, ``len(v)``, ``float(v)`` of an object the function made: its
        ``__abs__``, ``__len__``, ``__float__``; ``bool(v)`` its truth (see
        :meth:`~srcad.lower.made_objects.MadeObjects.object_truth`); None otherwise."""
        callee = self.denote(scope, node.func).static
        if callee is bool and len(node.args) == 1 and not node.keywords:
            truth = self.object_truth(scope, node.args[0])  # (__bool__, else __len__)
            return None if truth is node.args[0] else self.lower_expr(scope, truth, target)
        method = next((m for f, m in _BUILTIN_METHODS.items() if callee is f), None)
        if method is None or len(node.args) != 1 or node.keywords:
            return None
        if not self.may_be_made(scope, node.args[0]):
            return None
        value = self.lower_operand(scope, node.args[0])
        self.refuse_lost(scope, node.args[0], value)
        made = self.made_of(value)
        if made is None:
            plain = ast.copy_location(ast.Call(node.func, [Operand(value)], []), node)
            return self.operation(scope, plain, target)
        return self.call_method_named(scope, node, made.cls, method, value, [], target)

    def call_method_named(
        self,
        scope: Scope,
        node: ast.AST,
        cls: type,
        method: str,
        receiver: ir.Expr,
        args: list[ast.expr],
        target: Target,
    ) -> Any:
        """The special method ``method`` of ``cls`` on ``receiver``; refused if the class
        has none written in Python."""
        if not isinstance(inspect.getattr_static(cls, method, None), types.FunctionType):
            raise self.error(
                scope,
                node,
                f"{cls.__name__} defines no `{method}` (Python raises TypeError here)",
                f"define `{method}` in {cls.__name__}",
            )
        return self.call_member(scope, node, cls, method, receiver, args, [], target)

    def made_update(self, scope: Scope, stmt: ast.AugAssign) -> bool:
        """``v op= w`` where ``v`` or ``w`` may be an object the function made:
        ``v.__iop__(w)`` when ``v``'s class has it, else ``v = v op w``; False when
        neither may be one."""
        assert isinstance(stmt.target, ast.Name)
        name = stmt.target.id
        load = ast.copy_location(ast.Name(name, ast.Load()), stmt.target)
        if not (self.may_be_made(scope, load) or self.may_be_made(scope, stmt.value)):
            return False
        made = self.made_of(self.lower_expr(scope, load, None))
        if made is None and isinstance(stmt.value, Operand):
            return False  # (lowered already, and no object: `ps += [P(b)]` joins lists)
        if made is None:  # (w -= self.lr * g: an array or a number, changed as such)
            rhs = self.lower_operand(scope, stmt.value)
            if self.made_of(rhs) is None:
                self.update_in_place(scope, ast.copy_location(
                    ast.AugAssign(stmt.target, stmt.op, Operand(rhs)), stmt))
                return True
            stmt = ast.copy_location(ast.AugAssign(stmt.target, stmt.op, Operand(rhs)), stmt)
        op = _BINARY.get(type(stmt.op))
        method = f"__i{op}__" if op is not None else ""
        if made is not None and isinstance(
            inspect.getattr_static(made.cls, method, None), types.FunctionType
        ):
            result = self.call_member(
                scope, stmt, made.cls, method, scope.env[name], [stmt.value], []
            )
            if not self.is_not_implemented(result):
                scope.env[name] = result
                return True
        value = ast.copy_location(ast.BinOp(load, stmt.op, stmt.value), stmt)
        self.assign(scope, [stmt.target], value)
        return True

