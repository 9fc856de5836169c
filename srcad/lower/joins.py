"""SSA joins: ``if`` statements and expressions, and the phis that merge their branches."""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import ir
from ..errors import UnsupportedSyntaxError
from ..rules.table import COPY
from .distributions import Frozen
from .values import (
    RAISED,
    DefValue,
    LoweringPart,
    ResultName,
    Scope,
    TupleValue,
    Variable,
    list_key,
)


class Joins(LoweringPart):
    """The lowerer's part for SSA joins (see the module)."""

    def phi(
        self, stmts: list[ir.Stmt], value: Any, merged: str, renamed: dict[str, str]
    ) -> list[ir.Stmt]:
        """Make ``merged`` hold ``value`` at the end of ``stmts``.

        When ``value`` is a name the block itself defines (at its top level), that
        definition is renamed to ``merged`` (no copy); otherwise a copy is appended.
        """
        value = (
            ir.substitute(value, {o: ir.Name(n) for o, n in renamed.items()})
            if isinstance(value, ir.Name)
            else value
        )
        if isinstance(value, TupleValue):
            raise UnsupportedSyntaxError(
                "a tuple value that differs between branches or iterations is not supported",
                "unpack it into separate variables first",
                self.joining or ir.UNKNOWN_LOCATION,
            )
        if isinstance(value, DefValue):
            raise UnsupportedSyntaxError(
                f"`{value.node.name}`, a function of the code held as a value, differs "
                "between branches or iterations: srcad inlines the call of the function it "
                "names when it compiles",
                "call each function on its own path (`y = f_a(x) if ... else f_b(x)`)",
                self.joining or ir.UNKNOWN_LOCATION,
            )
        if isinstance(value, Frozen):
            raise UnsupportedSyntaxError(
                "a frozen distribution that differs between branches or iterations is not "
                "supported: srcad reads which one a call uses when it compiles",
                "call the distribution's method with the arguments each path chooses "
                "(`norm.logpdf(x, mu, sigma)`, mu and sigma set on each path)",
                self.joining or ir.UNKNOWN_LOCATION,
            )
        if isinstance(value, ir.Name) and value.id not in renamed.values():
            position = _defining_position(stmts, value.id)
            if (
                position is not None
                and merged not in ir.read_in(stmts[position + 1 :])
                # an `if` that defines the value may also read the old `merged` after that,
                # and so may an in-place update (`x_1 = v; x_1 -= x_1` would read the new
                # x_1): a plain assignment reads its operands before it binds
                and (
                    (isinstance(made := stmts[position], ir.Assign) and not made.in_place)
                    or merged not in ir.read_in(stmts[position : position + 1])
                )
            ):
                renamed[value.id] = merged
                return [s for s in ir.rename(stmts, {value.id: merged}) if not _is_self_copy(s)]
        stmts.append(ir.Assign(merged, value, COPY, (value,), tag=self.next_tag()))
        return stmts

    def merge_branches(
        self,
        scope: Scope,
        before: dict[Variable, Any],
        branches: list[tuple[list[ir.Stmt], dict[Variable, Any]]],
        merged_name: Callable[[Variable], str],
    ) -> list[list[ir.Stmt]]:
        """Give every variable whose value differs between ``branches`` one merged name.

        A tuple held by a variable (``a, b`` returned by a helper) merges item by item.
        """
        for _, env in branches:  # assigned on some paths only: None on the others
            for _, other in branches:
                for v in other:
                    if (
                        v not in env
                        and v not in before
                        and not isinstance(v, _Item)
                        and v is not _RESULT
                    ):
                        env[v] = ir.Const(None)
        stale = {  # (a list a helper changed in place on one path: old after the join)
            v: self.stale_lists[list_key(value)]
            for _, env in branches for v, value in env.items()
            if isinstance(value, ir.Name | TupleValue) and list_key(value) in self.stale_lists
        }
        branches = self.split_tuples(scope, branches, merged_name)
        names = [v for v in branches[0][1] if all(v in env for _, env in branches)]
        differing = [
            v
            for v in names
            if any(env[v] != branches[0][1][v] for _, env in branches[1:])
            or (v in before and branches[0][1][v] != before[v])
        ]
        out = []
        merged = {v: merged_name(v) for v in differing}
        for stmts, env in branches:
            renamed: dict[str, str] = {}
            stmts, copies = self.parallel(stmts, {merged[v]: env[v] for v in differing})
            for name, value in copies.items():
                stmts = self.phi(stmts, value, name, renamed)
            out.append(stmts)
        for v in differing:
            values = [env[v] for _, env in branches]
            self.join_objects(merged[v], values)  # (objects the function made)
            if all(self.is_own_list(value) for value in values):
                self.own_lists.add(merged[v])
            if any(  # (`b = a` on one path: b may be the list `a` holds, or another's)
                self.is_shared(env[v]) or any(
                    u != v and env[u] == env[v] and self.is_own_list(env[v])
                    for u in env
                )
                for _, env in branches
            ):
                self.share(ir.Name(merged[v]))
            if any(isinstance(x, ir.Name) and x.id in self.shallow_copies for x in values):
                self.shallow_copies.add(merged[v])  # (np.split's views on one path, say)
        scope.env = {v: before[v] for v in before}
        for v in names:
            scope.env[v] = ir.Name(merged[v]) if v in merged else branches[0][1][v]
        self.join_tuples(scope)
        for v, entry in stale.items():
            value = scope.env.get(v)
            if isinstance(value, ir.Name | TupleValue):
                self.stale_lists.setdefault(list_key(value), entry)
        return out

    def split_tuples(self, scope: Scope, branches, merged_name):
        """Spread tuple values of the same length into one pseudo-variable per item."""
        keys = [v for v in branches[0][1] if all(v in env for _, env in branches)]
        out = [(stmts, dict(env)) for stmts, env in branches]
        for v in keys:
            values = [env[v] for _, env in out]
            if not any(isinstance(x, TupleValue) for x in values):
                continue
            if all(x is values[0] for x in values):  # the same display on every path
                continue
            sizes = {len(x.items) for x in values if isinstance(x, TupleValue)}
            classes = {x.cls for x in values if isinstance(x, TupleValue)}
            if len(sizes) == 1 and len(classes) == 1 and all(
                isinstance(x, TupleValue) for x in values
            ):  # (of one namedtuple class, or plain tuples: items of that class)
                self._tuple_classes[v] = classes.pop()
                if any(id(x) in self.shared_displays for x in values):
                    self._shared_owners.add(v)
                if all(x.is_list for x in values):
                    self._list_owners.add(v)
                for _, env in out:
                    items = env.pop(v).items
                    for k, item in enumerate(items):
                        env[_Item(v, k, len(items))] = item
                continue
            for stmts, env in out:  # tuples of different shapes: one value per branch
                if isinstance(env[v], TupleValue):
                    with self.block() as extra:
                        env[v] = self.materialize(scope, env[v], scope.node)
                    stmts += extra
        return out

    def join_tuples(self, scope: Scope) -> None:
        """Put item pseudo-variables back together as tuples."""
        items = [k for k in scope.env if isinstance(k, _Item)]
        for key in sorted(items, key=lambda k: -_depth(k)):
            if key not in scope.env:
                continue
            parts = [_Item(key.owner, k, key.size) for k in range(key.size)]
            if all(p in scope.env for p in parts):
                joined = TupleValue(
                    tuple(scope.env.pop(p) for p in parts), key.owner in self._list_owners,
                    self._tuple_classes.get(key.owner),
                )
                scope.env[key.owner] = joined
                if key.owner in self._shared_owners:  # (a display held elsewhere on a path)
                    self.shared_displays[id(joined)] = joined

    def lower_If(self, scope: Scope, node: ast.If, result_name: ResultName) -> Any:
        decided = self.decided_test(scope, node.test)  # (isinstance(other, Vec2))
        if decided is not None:
            return self.lower_statements(scope, node.body if decided else node.orelse,
                                         result_name)
        test = self.lower_operand(scope, self.object_truth(scope, node.test))
        before = dict(scope.env)
        branches, results = [], []
        for stmts, env, result in self.lowered_paths(scope, [
            functools.partial(self.lower_statements, scope, block, None)
            for block in (node.body, node.orelse)
        ]):
            if result is not None and result is not RAISED:
                env[_RESULT] = result
            results.append(result)
            branches.append((stmts, env))
        raising = [r is RAISED for r in results]
        if all(raising):
            self.emit_branches(scope, test, [branches[0][0], branches[1][0]], node)
            scope.env = before
            return RAISED
        if any(raising):  # that path ends here: the values of the other one go on
            kept = raising.index(False)
            stmts, env = branches[kept]
            scope.env = env
            result = scope.env.pop(_RESULT, None)
            blocks = [branches[0][0], branches[1][0]]
            self.emit_branches(scope, test, blocks, node)
            return result
        if (results[0] is None) != (results[1] is None):  # pragma: no cover - desugar prevents it
            raise self.error(scope, node, "only one branch returns", "return in both branches")
        result_slot = result_name or self._lazy(self.names.temp)
        self.joining = scope.source.location(node)  # (where a refused join points)
        merged = self.merge_branches(scope, before, branches, self.merged_name(scope, result_slot))
        result = scope.env.pop(_RESULT, None)
        self.emit_branches(scope, test, merged, node)
        return result

    def lowered_paths(
        self, scope: Scope, lowerings: list[Callable[[], Any]]
    ) -> list[tuple[list[ir.Stmt], dict[Variable, Any], Any]]:
        """Each of ``lowerings`` on a path of its own, from the variables as they are now:
        its statements, its variables and its value. A list a path changes in place is
        old on that path only, and, after the join, wherever either path changed it."""
        before = dict(scope.env)
        stale_before = dict(self.stale_lists)
        stale_after: dict[Any, Any] = {}
        functions_before = dict(scope.local_functions)
        functions: list[dict[str, ast.FunctionDef]] = []  # (of the paths that go on)
        paths = []
        for lower in lowerings:
            scope.env = dict(before)
            self.stale_lists = dict(stale_before)
            scope.local_functions = dict(functions_before)
            with self.block() as stmts:
                value = lower()
            stale_after.update(self.stale_lists)
            paths.append((stmts, dict(scope.env), value))
            if value is not RAISED:
                functions.append(scope.local_functions)
        self.stale_lists = stale_after
        scope.local_functions = functions_before
        for name in {name for defined in functions for name in defined}:
            chosen = {id(defined.get(name)) for defined in functions}
            scope.local_functions[name] = next(d[name] for d in functions if name in d)
            if len(chosen) > 1:  # (the call runs the def of the path taken)
                scope.functions_by_path.add(name)
        return paths

    def merged_name(
        self, scope: Scope, result_slot: Callable[[], str]
    ) -> Callable[[Variable], str]:
        """The name a variable merged at a join gets: ``result_slot()`` for the result, a
        temporary for an item of a tuple, else the variable's own next name."""
        return lambda v: (
            result_slot() if v is _RESULT
            else self.names.temp() if isinstance(v, _Item) else self.variable_name(scope, v)
        )

    def emit_branches(
        self, scope: Scope, test: ir.Expr, merged: list[list[ir.Stmt]], node: ast.AST
    ) -> None:
        """The ``if`` whose two (merged) branches were just lowered."""
        if not merged[0] and not merged[1]:
            return
        self.emit(
            ir.If(
                test,
                tuple(merged[0]),
                tuple(merged[1]),
                tag=self.next_tag(),
                loc=scope.source.location(node),
            )
        )

    def conditional(
        self,
        scope: Scope,
        test: ir.Expr,
        then_node: ast.expr | None,
        then_value: Any,
        else_node: ast.expr | None,
        else_value: Any,
        target: Callable[[], str] | None,
        node: ast.AST,
    ) -> ir.Expr:
        """``target = <then> if test else <else>``, each side lowered in its own branch
        (a side that changes a list, ``xs.pop()``, changes it on its own path only)."""
        before = dict(scope.env)

        def side(node: ast.expr | None, value: Any) -> Callable[[], Any]:
            return (lambda: value) if node is None else (lambda: self.lower_operand(scope, node))

        branches = [
            (stmts, {**env, _RESULT: value})
            for stmts, env, value in self.lowered_paths(
                scope, [side(then_node, then_value), side(else_node, else_value)]
            )
        ]
        name = self._lazy(target or self.names.temp)
        self.joining = scope.source.location(node)
        merged = self.merge_branches(scope, before, branches, self.merged_name(scope, name))
        result = scope.env.pop(_RESULT)  # (the same value on both sides: no merged name)
        self.emit_branches(scope, test, merged, node)
        return result


_RESULT = object()  # the pseudo-variable that carries a function's result through phis


@dataclass(frozen=True)
class _Item:
    """Item ``index`` of the tuple held by ``owner``, merged on its own at a join."""

    owner: Any
    index: int
    size: int


def _depth(key: Any) -> int:
    return 1 + _depth(key.owner) if isinstance(key, _Item) else 0


def _is_self_copy(stmt: ir.Stmt) -> bool:
    return isinstance(stmt, ir.Assign) and stmt.value == ir.Name(stmt.target)


def _defining_position(stmts: list[ir.Stmt], name: str) -> int | None:
    """Index of the top-level statement of ``stmts`` that defines ``name``, if one does."""
    for position, stmt in enumerate(stmts):
        if isinstance(stmt, ir.Assign) and stmt.target == name:
            return None if stmt.in_place and stmt.writes_own_operand else position
        if (
            isinstance(stmt, ir.If)
            and name in ir.redefined_in(stmt.body)
            and name in ir.redefined_in(stmt.orelse)
        ):
            return position
    return None

