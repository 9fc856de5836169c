"""Lower: a function's AST becomes a forward listing, one primitive operation per line.

Nested expressions are split into temporaries (``t1``, ``t2``, ...), a re-assigned
variable gets a new version (``x``, ``x_1``, ...), and calls to the user's own helper
functions are inlined from their source. Each operation is matched against the
derivative table; a multi-operation idiom (the sigmoid) stays one gate.
"""

from __future__ import annotations

import ast
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import ir, pyexpr
from .errors import Location, NonScalarOutputError, SrcadError, UnsupportedSyntaxError
from .frontend import MISSING, FunctionSource, read_function
from .names import NameAllocator
from .rules import TABLE, RuleTable
from .rules.table import _index_key, match
from .subset import check_supported


@dataclass(frozen=True)
class TupleValue:
    """Several values at once: a tuple display or a helper's tuple result."""

    items: tuple[Any, ...]


_NOT_STATIC = object()  # what a local name "resolves" to when matching patterns


@dataclass
class Scope:
    """One function being lowered: the root, or an inlined helper."""

    source: FunctionSource
    env: dict[str, Any] = field(default_factory=dict)  # user name -> current value
    local_names: frozenset[str] = frozenset()
    is_root: bool = False


def _assigned_names(fn: ast.FunctionDef) -> set[str]:
    names = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _all_names(fn: ast.FunctionDef) -> set[str]:
    names = {node.id for node in ast.walk(fn) if isinstance(node, ast.Name)}
    names.update(a.arg for a in ast.walk(fn) if isinstance(a, ast.arg))
    return names


class Lowerer:
    def __init__(self, root: FunctionSource, table: RuleTable) -> None:
        self.root = root
        self.table = table
        self.names = NameAllocator(_all_names(root.node))
        self.body: list[ir.Stmt] = []
        self.bindings: dict[str, Any] = {}
        self.free_cells: dict[str, Any] = {}
        self.free_objects: dict[str, Any] = {}
        self.inlining: list[Any] = [root.function]
        self._raw_nodes: dict[int, tuple[ir.Expr, ast.AST]] = {}
        self._tag = 0
        #: Inlined callees as (how to look the name up again, object, code), so that a
        #: cached gradient can tell when a helper was redefined.
        self.dependencies: list[tuple[Callable[[], Any], Any, Any]] = []

    # ------------------------------------------------------------ entry point
    def lower_root(self) -> ir.Function:
        fn = self.root.node
        params = tuple(a.arg for a in (*fn.args.posonlyargs, *fn.args.args))
        kwonly = tuple(a.arg for a in fn.args.kwonlyargs)
        scope = Scope(self.root, local_names=frozenset(_assigned_names(fn)), is_root=True)
        for param in (*params, *kwonly):
            scope.env[param] = ir.Name(self.names.own(param))
        result, return_node = self.lower_body(scope, lambda: self.names.fresh(fn.name))
        if isinstance(result, TupleValue):
            raise NonScalarOutputError(
                f"{fn.name} returns a tuple of {len(result.items)} values; grad needs one "
                "scalar result",
                "return a single number (sum the terms you want to differentiate), or "
                "differentiate each component separately",
                self.root.location(return_node),
            )
        self.body.append(ir.Return(result, self.root.location(return_node)))
        return ir.Function(
            name=fn.name,
            params=params,
            kwonly=kwonly,
            body=tuple(self.body),
            bindings=dict(self.bindings),
            free_cells=dict(self.free_cells),
            free_objects=dict(self.free_objects),
            source_file=self.root.filename,
            source_line=fn.lineno,
            dependencies=tuple(self.dependencies),
        )

    def lower_body(self, scope: Scope, result_name: Callable[[], str]) -> tuple[Any, ast.Return]:
        """Lower a function body; return its result value and its `return` statement."""
        for stmt in scope.source.node.body:
            if isinstance(stmt, ast.Return):
                return self.lower_expr(scope, stmt.value, result_name), stmt
            self.lower_statement(scope, stmt)
        raise AssertionError("check_supported guarantees a final return")  # pragma: no cover

    # ------------------------------------------------------------ statements
    def lower_statement(self, scope: Scope, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Assign):
            self.assign(scope, stmt.targets, stmt.value)
        elif isinstance(stmt, ast.AnnAssign):
            self.assign(scope, [stmt.target], stmt.value)
        elif isinstance(stmt, ast.AugAssign):
            load = ast.copy_location(ast.Name(stmt.target.id, ast.Load()), stmt.target)
            value = ast.copy_location(ast.BinOp(load, stmt.op, stmt.value), stmt)
            self.assign(scope, [stmt.target], value)
        # docstrings and `pass` lower to nothing

    def assign(self, scope: Scope, targets: list[ast.expr], value_node: ast.expr) -> None:
        first = targets[0]
        if isinstance(first, ast.Name):
            value = self.lower_expr(scope, value_node, lambda: self.variable_name(scope, first.id))
        elif isinstance(first, ast.Tuple | ast.List) and isinstance(value_node, ast.Tuple | ast.List):
            if len(first.elts) != len(value_node.elts):
                raise self.error(scope, value_node, "cannot unpack: the number of values does "
                                 "not match the number of targets", "match the counts")
            value = TupleValue(tuple(
                self.lower_expr(scope, element, self._namer_for(scope, target))
                for target, element in zip(first.elts, value_node.elts)
            ))
        else:
            value = self.lower_expr(scope, value_node, None)
        for target in targets:
            self.bind(scope, target, value)

    def _namer_for(self, scope: Scope, target: ast.expr) -> Callable[[], str] | None:
        if isinstance(target, ast.Name):
            return lambda: self.variable_name(scope, target.id)
        return None

    def bind(self, scope: Scope, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            scope.env[target.id] = value
            return
        if not isinstance(value, TupleValue) or len(value.items) != len(target.elts):
            raise self.error(scope, target, "cannot unpack this value into "
                             f"{len(target.elts)} names", "unpack a tuple of the same length")
        for element, item in zip(target.elts, value.items):
            self.bind(scope, element, item)

    def variable_name(self, scope: Scope, user_name: str) -> str:
        """The listing name for a new value of a user variable (SSA versioning)."""
        if scope.is_root:
            return self.names.own(user_name)
        return self.names.fresh(user_name)

    # ------------------------------------------------------------ expressions
    def lower_expr(
        self, scope: Scope, node: ast.expr, target: Callable[[], str] | None
    ) -> Any:
        """Lower ``node``; return an operand (Name, Const, free reference) or TupleValue.

        ``target`` names the value when ``node`` is an operation (else a temporary).
        """
        if isinstance(node, ast.Constant):
            return ir.Const(node.value)
        if isinstance(node, ast.Name):
            return self.read_name(scope, node)
        if isinstance(node, ast.Tuple):
            return TupleValue(tuple(self.lower_expr(scope, e, None) for e in node.elts))
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub | ast.UAdd)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int | float)
            and not isinstance(node.operand.value, bool)
        ):
            sign = -1 if isinstance(node.op, ast.USub) else 1
            return ir.Const(sign * node.operand.value)
        if isinstance(node, ast.Attribute) and self.static_object(scope, node) is not _NOT_STATIC:
            return self.free_reference(scope, self.raw(node))
        if isinstance(node, ast.Call):
            callee = self.static_object(scope, node.func)
            if (
                isinstance(callee, types.FunctionType)
                and not self.table.has_callable(callee)
            ):
                return self.inline(scope, node, callee, target)
        return self.operation(scope, node, target)

    def read_name(self, scope: Scope, node: ast.Name) -> Any:
        if node.id in scope.env:
            return scope.env[node.id]
        if node.id in scope.local_names:
            raise self.error(scope, node, f"`{node.id}` is used before it is assigned",
                             "assign it before this line")
        obj = scope.source.lookup(node.id)
        if obj is MISSING:
            raise self.error(scope, node, f"name `{node.id}` is not defined",
                             "define it at module level or pass it as a parameter")
        return self.free_reference(scope, ir.Name(node.id))

    def static_object(self, scope: Scope, node: ast.expr) -> Any:
        """The object a global Name/Attribute chain denotes, or ``_NOT_STATIC``."""
        if isinstance(node, ast.Name):
            if node.id in scope.local_names:
                return _NOT_STATIC
            obj = scope.source.lookup(node.id)
            return _NOT_STATIC if obj is MISSING else obj
        if isinstance(node, ast.Attribute):
            base = self.static_object(scope, node.value)
            if base is _NOT_STATIC or not isinstance(base, types.ModuleType | type):
                return _NOT_STATIC
            return getattr(base, node.attr, _NOT_STATIC)
        return _NOT_STATIC

    def free_reference(self, scope: Scope, spelled: ir.Expr) -> ir.Expr:
        """How generated code refers to a free name (global, closure, builtin) of ``scope``."""
        if isinstance(spelled, ir.Attr):
            return ir.Attr(self.free_reference(scope, spelled.value), spelled.attr)
        assert isinstance(spelled, ir.Name)
        name = spelled.id
        obj = scope.source.lookup(name)
        if scope.is_root:
            self.free_objects[name] = obj
            if name in scope.source.closure:
                self.free_cells[name] = scope.source.closure[name]
            return spelled
        if name not in self.root.closure and self.root.lookup(name) is obj:
            return spelled  # the root's globals already hold it (same module)
        for bound_name, bound_obj in self.bindings.items():
            if bound_obj is obj and bound_name.startswith(name):
                return ir.Name(bound_name)
        bound_name = self.names.fresh(name)
        self.bindings[bound_name] = obj
        return ir.Name(bound_name)

    # ------------------------------------------------------------ operations
    def raw(self, node: ast.expr) -> ir.Expr:
        """The IR form of an unlowered subtree, remembering each node's AST."""
        expr = pyexpr.from_ast(node, leaf=lambda n: None if n is node else self.raw(n))
        self._raw_nodes[id(expr)] = (expr, node)
        return expr

    def operation(self, scope: Scope, node: ast.expr, target: Callable[[], str] | None) -> ir.Expr:
        """Lower one operation (and, first, its operands) to an Assign; return its name."""
        try:
            raw = self.raw(node)
        except pyexpr.NotAnExpression as exc:
            raise self.error(scope, exc.node, f"`{type(exc.node).__name__}` expressions are "
                             "not supported", "rewrite it with arithmetic and calls") from None
        rule, bound = self.find_rule(scope, raw)
        if rule is not None:
            operands = {p: self.lower_operand(scope, self._raw_nodes[id(e)][1])
                        for p, e in bound.items()}
            value = self.spell(scope, rule.pattern, raw, rule.params, operands)
            operand_list = tuple(operands[p] for p in rule.params)
        else:
            value = self.spell_plain(scope, raw)
            operand_list = ()
        name = target() if target is not None else self.names.temp()
        self.body.append(ir.Assign(
            target=name, value=value, rule=rule, operands=operand_list,
            tag=self.next_tag(), loc=scope.source.location(node),
        ))
        return ir.Name(name)

    def lower_operand(self, scope: Scope, node: ast.expr) -> ir.Expr:
        value = self.lower_expr(scope, node, None)
        if isinstance(value, TupleValue):
            raise self.error(scope, node, "a tuple cannot be used as a number here",
                             "unpack it first: `a, b = ...`")
        return value

    def find_rule(self, scope: Scope, raw: ir.Expr):
        try:
            key = _index_key(raw, {}) if not isinstance(raw, ir.Call) else None
        except ValueError:
            key = None
        if isinstance(raw, ir.Call):
            func = self.resolve_raw(scope, raw.func)
            key = ("call", id(func)) if func is not _NOT_STATIC else None
        if key is None:
            return None, {}
        for rule in self.table.candidates(key):
            bound = match(rule.pattern, raw, rule, lambda e: self.resolve_raw(scope, e))
            if bound is not None:
                return rule, bound
        return None, {}

    def resolve_raw(self, scope: Scope, expr: ir.Expr) -> Any:
        if isinstance(expr, ir.Name):
            if expr.id in scope.local_names:
                return _NOT_STATIC
            obj = scope.source.lookup(expr.id)
            return _NOT_STATIC if obj is MISSING else obj
        if isinstance(expr, ir.Attr):
            base = self.resolve_raw(scope, expr.value)
            return _NOT_STATIC if base is _NOT_STATIC else getattr(base, expr.attr, _NOT_STATIC)
        return _NOT_STATIC

    def spell(self, scope, pattern, raw, params, operands) -> ir.Expr:
        """The forward expression for a matched rule, in the user's own spelling."""
        if isinstance(pattern, ir.Name) and pattern.id in params:
            return operands[pattern.id]
        if isinstance(pattern, ir.Name | ir.Attr):
            return self.free_reference(scope, raw)
        if isinstance(pattern, ir.Const):
            return raw
        return ir.with_children(raw, [
            self.spell(scope, p, r, params, operands)
            for p, r in zip(ir.children(pattern), ir.children(raw))
        ])

    def spell_plain(self, scope: Scope, raw: ir.Expr) -> ir.Expr:
        """The forward expression for an operation without a rule (not differentiable)."""
        if isinstance(raw, ir.Call):
            func = (self.free_reference(scope, raw.func)
                    if self.resolve_raw(scope, raw.func) is not _NOT_STATIC
                    else self.lower_operand(scope, self._raw_nodes[id(raw.func)][1]))
            rest = [self.lower_operand(scope, self._raw_nodes[id(c)][1])
                    for c in ir.children(raw)[1:]]
            return ir.with_children(raw, [func, *rest])
        return ir.with_children(raw, [
            self.lower_operand(scope, self._raw_nodes[id(c)][1]) for c in ir.children(raw)
        ])

    def next_tag(self) -> int:
        self._tag += 1
        return self._tag

    # ------------------------------------------------------------ inlining helpers
    def inline(self, scope: Scope, call: ast.Call, callee: types.FunctionType,
               target: Callable[[], str] | None) -> Any:
        where = scope.source.location(call)
        if callee in self.inlining:
            raise UnsupportedSyntaxError(
                f"recursive call to {callee.__qualname__} cannot be differentiated",
                "rewrite the recursion as a loop", where)
        source = read_function(callee, used_at=where)
        self.dependencies.append(
            (lambda: self.static_object(scope, call.func), callee, callee.__code__)
        )
        check_supported(source)
        fn = source.node
        positional = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
        kwonly = [a.arg for a in fn.args.kwonlyargs]
        values: dict[str, Any] = {}
        if len(call.args) > len(positional):
            raise self.error(scope, call, f"{fn.name}() takes {len(positional)} positional "
                             f"arguments but {len(call.args)} were given", "fix the call")
        for param, arg in zip(positional, call.args):
            values[param] = self.lower_expr(scope, arg, None)
        for keyword in call.keywords:
            if keyword.arg not in (*positional, *kwonly) or keyword.arg in values:
                raise self.error(scope, keyword, f"{fn.name}() got an unexpected or repeated "
                                 f"argument `{keyword.arg}`", "fix the call")
            values[keyword.arg] = self.lower_expr(scope, keyword.value, None)
        defaults = dict(zip(reversed(positional), reversed(callee.__defaults__ or ())))
        defaults.update(callee.__kwdefaults__ or {})
        for param in (*positional, *kwonly):
            if param not in values:
                if param not in defaults:
                    raise self.error(scope, call, f"{fn.name}() is missing the argument "
                                     f"`{param}`", "pass it")
                values[param] = self.constant(defaults[param])
        self.body.append(ir.Comment(f"inlined {fn.name}() from "
                                    f"{_short(source.filename)}:{fn.lineno}", header=True))
        inner = Scope(source, env=values, local_names=frozenset(_assigned_names(fn)))
        self.inlining.append(callee)
        try:
            result, _ = self.lower_body(inner, target or self.names.temp)
        finally:
            self.inlining.pop()
        return result

    def constant(self, value: Any) -> ir.Expr:
        if isinstance(value, int | float | complex | bool | str) or value is None:
            return ir.Const(value)
        name = self.names.fresh("default")
        self.bindings[name] = value
        return ir.Name(name)

    # ------------------------------------------------------------ errors
    def error(self, scope: Scope, node: ast.AST, message: str, hint: str) -> SrcadError:
        return UnsupportedSyntaxError(message, hint, scope.source.location(node))


def _short(filename: str) -> str:
    return filename.rsplit("/", 1)[-1]


def lower(source: FunctionSource, table: RuleTable = TABLE) -> ir.Function:
    """The forward listing of ``source`` (checked against the supported subset first)."""
    check_supported(source)
    return Lowerer(source, table).lower_root()


__all__ = ["lower", "Location"]
