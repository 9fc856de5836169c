"""Lower: a function's AST becomes a forward listing, one primitive operation per line.

Nested expressions are split into temporaries (``t1``, ``t2``, ...), a re-assigned
variable gets a new version (``x``, ``x_1``, ...), and calls to the user's own helper
functions are inlined from their source. Each operation is matched against the
derivative table; a multi-operation idiom (the sigmoid) stays one gate.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import functools
import inspect
import logging
import math
import operator
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from . import array_api, contexts, ir, pycode, pyexpr, records
from .desugar import desugar
from .diagnostics import at_call_site, at_user_call
from .errors import Location, SrcadError, UnsupportedSyntaxError
from .frontend import MISSING, FunctionSource, in_library, python_function, read_function
from .names import NameAllocator
from .rules import TABLE, RuleTable
from .rules.numpy_arrays import COPY_METHOD
from .rules.scalar import (
    APPEND,
    DICT_KEYS,
    EXTEND,
    FIELD,
    LIST_COPY,
    LOOP_ITEMS,
    REPEAT,
    REPLACE,
)
from .rules.table import _MISSING as _MISSING_RULE
from .rules.table import (
    ADDAT,
    ADDITEM,
    COPY,
    SETITEM,
    Rule,
    Scatter,
    dict_rule,
    index_key,
    match,
    pack_rule,
)
from .runtime import check_assertion, formatted, raise_exception, refuse, same_member
from .specialize import Sized, specialize
from .subset import check_supported


@dataclass(frozen=True)
class TupleValue:
    """Several values at once: a tuple display or a helper's tuple result."""

    items: tuple[Any, ...]
    is_list: bool = False  # a list display (a list at run time), else a tuple


_NOT_STATIC = object()  # what a local name "resolves" to when matching patterns


@dataclass
class Scope:
    """One function being lowered: the root, or an inlined helper."""

    source: FunctionSource
    env: dict[str, Any] = field(default_factory=dict)  # user name -> current value
    local_names: frozenset[str] = frozenset()
    is_root: bool = False
    node: ast.FunctionDef | None = None  # the desugared function
    parent: Scope | None = None  # the enclosing function of a nested `def`
    local_functions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    #: the values the parameters were bound to (a list passed in is the caller's)
    arguments: dict[str, Any] = field(default_factory=dict)
    #: parameters bound to a function known when srcad compiles (``rk4(f, y, h)`` called
    #: with a module's function ``f``), which the helper never reassigns
    statics: dict[str, Static] = field(default_factory=dict)
    #: parameters bound to a ``def`` (or named lambda) of the code: the def and its scope
    passed_defs: dict[str, tuple[ast.FunctionDef, Scope]] = field(default_factory=dict)


@dataclass(frozen=True)
class Static:
    """A function passed to a helper: the object, how generated code names it (as the
    caller did), and how to look it up again (None: it cannot be)."""

    obj: Any
    reference: ir.Expr
    lookup: Callable[[], Any] | None


@dataclass
class LoopContext:
    """The loop being lowered: ``break`` sets its exit flag."""

    exit_flag: str | None = None


_RESULT = object()  # the pseudo-variable that carries a function's result through phis
PASSED_DEF = object()  # the value of a parameter bound to a `def` of the code (see argument)
RAISED = object()  # what lowering a path that ends in `raise` returns instead of a result


@dataclass(frozen=True)
class _Item:
    """Item ``index`` of the tuple held by ``owner``, merged on its own at a join."""

    owner: Any
    index: int
    size: int


def _depth(key: Any) -> int:
    return 1 + _depth(key.owner) if isinstance(key, _Item) else 0


def _assigned_names(fn: ast.FunctionDef) -> set[str]:
    names = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _all_names(fn: ast.FunctionDef) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
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
        #: calls into code srcad could not read, and why (reported if they are active)
        self.refusals: dict[Location, SrcadError] = {}
        #: bindings of errors the gradient raises when the program takes a path srcad
        #: does not differentiate (named at the user's call once lowering is done)
        self.run_time_refusals: list[str] = []
        #: lines of other files' inlined code -> the user's call that reached them
        self.call_sites: dict[Location, tuple[Location, Any]] = {}
        self.inlining: list[Any] = [root.function]
        self._raw_nodes: dict[int, tuple[ir.Expr, ast.AST]] = {}
        self._tag = 0
        self.loops: list[LoopContext] = []
        #: values made by arithmetic or numpy calls (never a dict a loop would run over)
        self.not_dicts: set[str] = set()
        #: lists this function made (``.append`` may grow them), and those of them that
        #: another list holds (growing one would change the other: refused)
        self.own_lists: set[str] = set()
        self.shared_lists: set[str] = set()
        self.shared_displays: set[int] = set()  # (ids of TupleValues)
        self._shared_owners: set[Any] = set()  # variables whose display is split at a join
        self._list_owners: set[Any] = set()  # ... and whose display is a list
        #: lists that may hold lists, and the values read out of them (lists, maybe: a
        #: write into one would change the outer list too, which srcad does not follow)
        self.holds_lists: set[str] = set()
        self.list_items: set[str] = set()
        #: per function node: the reads that hand a list on (``ys = hs``, ``[hs, 1]``)
        self._handing_on: dict[int, frozenset[int]] = {}
        #: (scope, user name) of the sequences enclosing ``for`` loops run over
        self.iterated: list[tuple[Scope, set[str]]] = []
        #: Inlined callees as (how to look the name up again, object, code), so that a
        #: cached gradient can tell when a helper was redefined.
        self.dependencies: list[tuple[Callable[[], Any], Any, Any]] = []

    # ------------------------------------------------------------ entry point
    def lower_root(self) -> ir.Function:
        fn = self.root.node
        params = tuple(a.arg for a in (*fn.args.posonlyargs, *fn.args.args))
        kwonly = tuple(a.arg for a in fn.args.kwonlyargs)
        scope = Scope(
            self.root, local_names=frozenset(_assigned_names(fn)), is_root=True, node=desugar(fn)
        )
        for param in (*params, *kwonly):
            scope.env[param] = ir.Name(self.names.own(param))
        result, return_node = self.lower_body(scope, self._lazy(lambda: self.names.fresh(fn.name)))
        self.body.append(ir.Return(_as_expr(result), self.root.location(return_node)))
        for name in self.run_time_refusals:  # (at the user's call that reached the library)
            error = self.bindings[name]
            self.bindings[name] = at_user_call(error, error.location, self.call_sites)
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
            refusals=dict(self.refusals),
            call_sites=dict(self.call_sites),
        )

    @staticmethod
    def _lazy(make: Callable[[], str]) -> Callable[[], str]:
        """A name allocated on first use and the same on every later use."""
        made: list[str] = []

        def name() -> str:
            if not made:
                made.append(make())
            return made[0]

        return name

    def lower_body(self, scope: Scope, result_name: Callable[[], str]) -> tuple[Any, ast.Return]:
        """Lower a function body; return its result value and its (last) `return` statement."""
        self._last_return: ast.Return | None = None
        result = self.lower_statements(scope, scope.node.body, result_name)
        if result is None:  # pragma: no cover - check_supported guarantees a return
            raise self.error(
                scope, scope.node, "the function does not return a value", "return one"
            )
        return result, self._last_return

    def lower_statements(
        self, scope: Scope, stmts: list[ast.stmt], result_name: Callable[[], str] | None
    ) -> Any:
        """Lower a statement list; return the result value when it ends in `return`."""
        for stmt in stmts:
            if isinstance(stmt, ast.Return):
                self._last_return = stmt
                return self.lower_expr(scope, stmt.value, result_name)
            if isinstance(stmt, ast.If):
                result = self.lower_if(scope, stmt, result_name)
                if result is not None:
                    return result
            elif isinstance(stmt, ast.For):
                self.lower_for(scope, stmt)
            elif isinstance(stmt, ast.While):
                self.lower_while(scope, stmt)
            elif isinstance(stmt, ast.With):
                result = self.lower_with(scope, stmt, result_name)
                if result is not None:
                    return result
            elif isinstance(stmt, ast.Try):
                self.lower_try(scope, stmt)
            elif isinstance(stmt, ast.Break):
                context = self.loops[-1]
                if context.exit_flag is None:
                    context.exit_flag = self.names.fresh("stop")
                self.emit(
                    ir.Assign(
                        context.exit_flag,
                        ir.Const(True),
                        tag=self.next_tag(),
                        loc=scope.source.location(stmt),
                    )
                )
            elif isinstance(stmt, ast.Continue):
                pass  # desugaring moved the rest of the iteration into the other branch
            elif isinstance(stmt, ast.Raise):
                self.lower_raise(scope, stmt)
                return RAISED
            else:
                self.lower_statement(scope, stmt)
        return None

    def lower_raise(self, scope: Scope, stmt: ast.Raise) -> None:
        """``raise ValueError(f"...")``: raised by the gradient's forward pass as well."""
        exc = stmt.exc
        call = exc if isinstance(exc, ast.Call) else None
        kind = call.func if call else exc
        args = tuple(self.message_part(scope, a) for a in call.args) if call else ()
        raise_ = self.helper_ref("raise_exception", raise_exception)
        cls_ref = self.free_reference(scope, self.raw(kind))  # (srcad.subset: a static class)
        self.emit(ir.Effect(ir.Call(raise_, (cls_ref, *args)), tag=self.next_tag(), raises=True))

    # ------------------------------------------------------------ with, try (srcad.contexts)
    def lower_with(
        self, scope: Scope, stmt: ast.With, result_name: Callable[[], str] | None
    ) -> Any:
        """``with manager(...) as name:``: the body lowered between an Enter and an Exit;
        returns the body's result when it ends in ``return`` (every path does then)."""
        for item in stmt.items:
            call = item.context_expr  # (a call: srcad.subset)
            if not contexts.is_safe(self.static_object(scope, call.func)):  # (a local name)
                known = ", ".join(contexts.SAFE_MANAGERS.values())
                raise self.error(
                    scope,
                    call,
                    "`with` is supported only for context managers that change neither "
                    f"values nor control flow ({known})",
                    contexts.UNSAFE_MANAGER_HINT,
                )
            args = tuple(self.lower_operand(scope, a) for a in call.args)
            kwargs = tuple((k.arg, self.lower_operand(scope, k.value)) for k in call.keywords)
            manager = ir.Call(self.free_reference(scope, self.raw(call.func)), args, kwargs)
            target = item.optional_vars
            name = self.variable_name(scope, target.id) if target is not None else None
            self.emit(ir.Enter(manager, name, self.next_tag(), scope.source.location(call)))
            if target is not None:
                scope.env[target.id] = ir.Name(name)
        result = self.lower_statements(scope, stmt.body, result_name)
        for _ in stmt.items:
            self.emit(ir.Exit())
        return result

    def lower_try(self, scope: Scope, stmt: ast.Try) -> None:
        """A ``try`` statement, run as written by the forward pass (partial evaluation).

        In another file's code (a library's), a ``try`` statement that computes (its
        body is plain code srcad reads: ``ret = (d * (y[1:] + y[:-1]) / 2.0).sum()``) is
        differentiated along its body instead, the path taken for the inputs it was
        written for; a probe runs the statement as written first, and the gradient
        refuses, when the program runs, if one of its ``except`` clauses is taken."""
        if in_library(scope.source.filename, self.root.filename) and _differentiable_try(stmt):
            start, env, last = len(self.body), dict(scope.env), self._last_return
            try:
                self.lower_try_body(scope, stmt)
                return
            except SrcadError:  # (then it runs as written, as in the user's code)
                del self.body[start:]
                scope.env, self._last_return = env, last
        self.emit(self.plain_try(scope, stmt, bind=True))

    def lower_try_body(self, scope: Scope, stmt: ast.Try) -> None:
        """The probe (see :meth:`lower_try`), the refusal when a handler runs, then the
        ``try`` body and its ``else`` clause, lowered as code."""
        handled = self.names.fresh("handled")
        probe = self.plain_try(scope, stmt, bind=False, flag=handled)
        self.emit(probe)
        kinds = ", ".join(ast.unparse(h.type) if h.type else "..." for h in stmt.handlers)
        error = UnsupportedSyntaxError(
            f"the `except {kinds}` clause of this `try` statement runs for these inputs: "
            "srcad differentiates the `try` body only",
            "pass inputs of the types the code is written for (numpy arrays, floats), "
            "or register a derivative rule for the function with srcad.defrule",
            probe.loc,
        )
        refuse_ = self.helper_ref("cannot_differentiate", refuse)
        refusal = self.helper_ref("refusal", error)
        self.run_time_refusals.append(refusal.id)
        refused = ir.Effect(
            ir.Call(refuse_, (refusal,)),
            note="an `except` clause srcad does not differentiate",
            raises=True,
        )
        self.emit(ir.If(ir.Name(handled), (refused,), (), tag=self.next_tag(), loc=probe.loc))
        self.lower_statements(scope, [*stmt.body, *stmt.orelse], None)

    def plain_try(
        self, scope: Scope, stmt: ast.Try, *, bind: bool, flag: str | None = None
    ) -> ir.Python:
        """``stmt`` as plain Python: its variables get the listing's names; a variable it
        binds that already has a value gets the new name first (``n_1 = n``), as it keeps
        its value when the statement does not bind it again. Without ``bind`` (a probe),
        what it binds gets names of its own, which nothing reads after it, and ``flag``
        tells whether an ``except`` clause ran."""
        bound, read = pycode.names_of([stmt])
        if bind:
            scope.local_names = scope.local_names | frozenset(bound)
        mapping: dict[str, str] = {}
        prologue: list[ast.stmt] = []
        reads: list[str] = []
        read_at: list[tuple[str, Location, str]] = []
        writes: dict[str, str] = {}
        for user, node in {**read, **bound}.items():
            if user in bound:
                new = (
                    self.variable_name(scope, user) if bind else self.names.fresh(f"{user}_probe")
                )
                if user in scope.env:
                    old = self.as_name(scope, scope.env[user], node)
                    copy = ast.Assign([ast.Name(new, ast.Store())], ast.Name(old, ast.Load()))
                    prologue.append(ast.copy_location(copy, stmt))
                    reads.append(old)
                    read_at.append((old, scope.source.location(read.get(user, node)), user))
                mapping[user] = writes[user] = new
                continue
            old = self.as_name(scope, self.read_name(scope, node), node)
            mapping[user] = old  # (globals too: later passes must not reuse their names)
            reads.append(old)
            read_at.append((old, scope.source.location(node), user))
        (renamed,) = pycode.rename((stmt,), mapping)
        if flag is not None:  # flag = False; try: ... except E: flag = True; ...
            renamed.handlers = [
                ast.fix_missing_locations(ast.copy_location(_flagging(h, flag), h))
                for h in renamed.handlers
            ]
            start = ast.Assign([ast.Name(flag, ast.Store())], ast.Constant(False))
            prologue.append(ast.copy_location(start, stmt))
            writes[flag] = flag
        prologue = [ast.fix_missing_locations(p) for p in prologue]
        python = ir.Python(
            (*prologue, renamed),
            tuple(dict.fromkeys(reads)),
            tuple(writes.values()),
            tag=self.next_tag(),
            loc=scope.source.location(stmt),
            read_at=tuple(read_at),
            probe=not bind,
        )
        if bind:
            for user, new in writes.items():
                scope.env[user] = ir.Name(new)
        return python

    def as_name(self, scope: Scope, value: Any, node: ast.AST) -> str:
        """A name holding ``value`` (a constant or a tuple display gets one first)."""
        if isinstance(value, ir.Name):
            return value.id
        if isinstance(value, TupleValue):
            return self.materialize(scope, value, node).id
        return self.emit_value(scope, value, node).id

    # ------------------------------------------------------------ blocks and phis
    def emit(self, stmt: ir.Stmt) -> None:
        self.body.append(stmt)

    @contextlib.contextmanager
    def block(self) -> Iterator[list[ir.Stmt]]:
        """Collect the statements lowered inside the ``with`` into a new list."""
        outer, self.body = self.body, []
        try:
            yield self.body
        finally:
            self.body = outer

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
                ir.UNKNOWN_LOCATION,
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
                    (isinstance(stmts[position], ir.Assign) and not stmts[position].in_place)
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
        before: dict[str, Any],
        branches: list[tuple[list[ir.Stmt], dict[str, Any]]],
        merged_name: Callable[[Any], str],
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
            if all(self.is_own_list(env[v]) for _, env in branches):
                self.own_lists.add(merged[v])
        scope.env = {v: before[v] for v in before}
        for v in names:
            scope.env[v] = ir.Name(merged[v]) if v in merged else branches[0][1][v]
        self.join_tuples(scope)
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
            if len(sizes) == 1 and all(isinstance(x, TupleValue) for x in values):
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
                    tuple(scope.env.pop(p) for p in parts), key.owner in self._list_owners
                )
                scope.env[key.owner] = joined
                if key.owner in self._shared_owners:  # (a display held elsewhere on a path)
                    self.shared_displays.add(id(joined))

    # ------------------------------------------------------------ if
    def lower_if(self, scope: Scope, node: ast.If, result_name: Callable[[], str] | None) -> Any:
        test = self.lower_operand(scope, node.test)
        before = dict(scope.env)
        branches, results = [], []
        for block_nodes in (node.body, node.orelse):
            scope.env = dict(before)
            with self.block() as stmts:
                results.append(self.lower_statements(scope, block_nodes, None))
            env = dict(scope.env)
            if results[-1] is not None and results[-1] is not RAISED:
                env[_RESULT] = results[-1]
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
        merged = self.merge_branches(
            scope,
            before,
            branches,
            lambda v: (
                result_slot()
                if v is _RESULT
                else (self.names.temp() if isinstance(v, _Item) else self.variable_name(scope, v))
            ),
        )
        result = scope.env.pop(_RESULT, None)
        self.emit_branches(scope, test, merged, node)
        return result

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
        """``target = <then> if test else <else>``, each side lowered in its own branch."""
        branches = []
        for side_node, side_value in ((then_node, then_value), (else_node, else_value)):
            with self.block() as stmts:
                value = side_value if side_node is None else self.lower_operand(scope, side_node)
            branches.append((stmts, {_RESULT: value}))
        name = self._lazy(target or self.names.temp)
        merged = self.merge_branches(scope, dict(scope.env), branches, lambda _: name())
        result = scope.env.pop(_RESULT)  # (the same value on both sides: no merged name)
        self.emit_branches(scope, test, merged, node)
        return result

    # ------------------------------------------------------------ loops
    def carried_names(self, scope: Scope, node: ast.For | ast.While) -> list[str]:
        """User variables the loop assigns that live across iterations or after the loop."""
        inside = {id(n) for n in ast.walk(node)}
        loaded_outside = {
            n.id
            for n in ast.walk(scope.node)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in inside
        }
        assigned = []
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id not in assigned:
                assigned.append(n.id)
            elif _grows_list(n) and n.func.value.id not in assigned:  # items.append(v)
                assigned.append(n.func.value.id)
            elif (  # items[i] = v on a list: a new list value
                isinstance(n, ast.Subscript)
                and isinstance(n.ctx, ast.Store)
                and isinstance(n.value, ast.Name)
                and self.may_be_list(scope, n.value)
                and n.value.id not in assigned
            ):
                assigned.append(n.value.id)
            elif isinstance(n, ast.Try):  # (`except ... as e`, imports: not ast.Name)
                assigned += [v for v in pycode.names_of([n])[0] if v not in assigned]
        return [v for v in assigned if v in scope.env or v in loaded_outside]

    def enter_loop(self, scope: Scope, node: ast.For | ast.While) -> dict[str, str]:
        """Entry copies: each carried variable gets the one name it keeps inside the loop."""
        carried = {}
        for v in self.carried_names(scope, node):
            name = self.variable_name(scope, v)
            value = scope.env.get(v, ir.Const(None))
            if self.is_own_list(value):
                self.own_lists.add(name)
            if isinstance(value, TupleValue):  # (made under the name the loop carries)
                self.materialize(scope, value, node, name)
            else:
                self.emit(
                    ir.Assign(
                        name,
                        value,
                        COPY,
                        (value,),
                        tag=self.next_tag(),
                        loc=scope.source.location(node),
                    )
                )
            scope.env[v] = ir.Name(name)
            carried[v] = name
        return carried

    def back_edge(
        self,
        scope: Scope,
        node: ast.For | ast.While,
        stmts: list[ir.Stmt],
        carried: dict[str, str],
    ) -> list[ir.Stmt]:
        """Make each carried name hold its new value at the end of the body."""
        renamed: dict[str, str] = {}
        copies = {
            name: scope.env.get(v, ir.Name(name))
            for v, name in carried.items()
            if scope.env.get(v, ir.Name(name)) != ir.Name(name)
        }
        for name, value in list(copies.items()):
            if isinstance(value, TupleValue):  # a display the loop carries on: one value
                with self.block() as made:
                    copies[name] = self.materialize(scope, value, node)
                stmts = [*stmts, *made]
        for v, name in carried.items():
            if name in self.own_lists and name in copies and not self.is_own_list(copies[name]):
                raise self.error(
                    scope,
                    node,
                    f"`{v}` holds a list this loop grows, and is then given another value",
                    f"give the other value another name than `{v}`",
                )
        stmts, copies = self.parallel(stmts, copies)
        for name, value in copies.items():
            stmts = self.phi(stmts, value, name, renamed)
        return stmts

    def parallel(
        self, stmts: list[ir.Stmt], copies: dict[str, Any]
    ) -> tuple[list[ir.Stmt], dict[str, Any]]:
        """Make the copies ``merged = value`` safe to run one after the other.

        They happen at once at a join (``c, b = 0.5, c`` in a loop: ``b`` gets the old
        ``c``). A value that is itself the name of another copy's target is saved in a
        temporary first, before any target is written.
        """
        targets = set(copies)
        out = dict(copies)
        for merged, value in copies.items():
            if isinstance(value, ir.Name) and value.id in targets and value.id != merged:
                saved = self.names.fresh(value.id)
                stmts = [*stmts, ir.Assign(saved, value, COPY, (value,), tag=self.next_tag())]
                out[merged] = ir.Name(saved)
        return stmts, out

    def loop_iteration(
        self,
        scope: Scope,
        node: ast.For | ast.While,
        carried: dict[str, str],
        prologue: Callable[[], None],
    ) -> tuple[list, LoopContext]:
        before = dict(scope.env)
        context = LoopContext()
        self.loops.append(context)
        try:
            with self.block() as stmts:
                prologue()
                self.lower_statements(scope, node.body, None)
            stmts = self.back_edge(scope, node, stmts, carried)
        finally:
            self.loops.pop()
        scope.env = {v: before[v] for v in before}
        for v, name in carried.items():
            scope.env[v] = ir.Name(name)
        return stmts, context

    def lower_for(self, scope: Scope, node: ast.For) -> None:
        target = node.target
        range_args = self.range_arguments(scope, node.iter)
        if range_args is not None:
            count = ir.Call(self.builtin_ref(scope, "range"), tuple(range_args))
            element = None
        else:
            length, element = self.iteration(scope, node.iter)
            count = ir.Call(self.builtin_ref(scope, "range"), (length,))
        start = len(self.body)
        carried = self.enter_loop(scope, node)
        if element is None and isinstance(target, ast.Name):
            index = self.variable_name(scope, target.id)
        elif (
            _is_enumerate(self, scope, node.iter)
            and isinstance(target, ast.Tuple)
            and isinstance(target.elts[0], ast.Name)
        ):
            index = self.variable_name(scope, target.elts[0].id)
        else:
            index = self.names.fresh("k")

        def prologue() -> None:
            start = len(self.body)
            value = ir.Name(index) if element is None else element(ir.Name(index))
            self.bind(scope, target, value)
            self.name_elements(scope, target, start)

        self.iterated.append((scope, _iterated_names(node.iter)))
        try:
            stmts, context = self.loop_iteration(scope, node, carried, prologue)
        finally:
            self.iterated.pop()
        counter = None
        if context.exit_flag is not None:
            self.body.insert(start, ir.Assign(context.exit_flag, ir.Const(False), tag=0))
            counter = self.names.fresh("n_iter")
        self.emit(
            ir.Loop(
                tuple(stmts),
                index=index,
                iterable=count,
                counter=counter,
                exit_flag=context.exit_flag,
                carried=tuple(carried.values()),
                tag=self.next_tag(),
                loc=scope.source.location(node),
            )
        )

    def range_arguments(self, scope: Scope, node: ast.expr) -> list[ir.Expr] | None:
        if (
            isinstance(node, ast.Call)
            and not node.keywords
            and self.static_object(scope, node.func) is builtins.range
        ):
            return [self.lower_operand(scope, a) for a in node.args]
        return None

    def iteration(self, scope: Scope, node: ast.expr):
        """How to loop over ``node``: its length and a function giving element ``k``."""
        callee = self.static_object(scope, node.func) if isinstance(node, ast.Call) else None
        keywords = {kw.arg for kw in node.keywords} if isinstance(node, ast.Call) else set()
        if (
            callee is _NOT_STATIC
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("items", "keys", "values")
            and not node.args
            and not keywords
        ):
            return self.dict_iteration(scope, node)
        if callee is builtins.enumerate and len(node.args) == 1 and not keywords:
            length, inner = self.iteration(scope, node.args[0])
            return length, lambda k: TupleValue((k, inner(k)))
        if callee is builtins.reversed and len(node.args) == 1 and not keywords:
            length, inner = self.iteration(scope, node.args[0])

            def backwards(k: ir.Expr) -> Any:  # element length - 1 - k
                last = ir.BinOp("-", length, ir.Const(1))
                return inner(self.emit_value(scope, ir.BinOp("-", last, k), node))

            return length, backwards
        if callee is builtins.zip and node.args and keywords <= {"strict"}:
            parts = [self.iteration(scope, a) for a in node.args]
            length = parts[0][0]
            for other, _ in parts[1:]:
                length = self.emit_value(
                    scope, ir.Call(self.builtin_ref(scope, "min"), (length, other)), node
                )
            return length, lambda k: TupleValue(tuple(inner(k) for _, inner in parts))
        if isinstance(node, ast.GeneratorExp) or (
            isinstance(node, ast.Call) and callee in (iter, map, filter, reversed, sorted)
        ):
            raise self.error(
                scope,
                node,
                "srcad loops over range(...), enumerate(...), zip(...), reversed(...), "
                "tuples, lists, arrays and dicts only",
                "build a list or array first, or loop over range(len(...))",
            )
        value = self.lower_expr(scope, node, None)
        if isinstance(value, TupleValue):  # a tuple or list display: a sequence
            seq = self.materialize(scope, value, node)
        elif isinstance(value, ir.Const) or (
            isinstance(value, ir.Name) and value.id in self.not_dicts
        ):
            seq = value
        else:  # a parameter or global may be a dict, whose loop runs over its keys
            name = self.names.fresh(f"{node.id}_items") if isinstance(node, ast.Name) else None
            seq = self.emit_rule_call(scope, "loop_items", LOOP_ITEMS, value, node, name)
        length = self.emit_value(scope, ir.Call(self.builtin_ref(scope, "len"), (seq,)), node)
        return length, lambda k: self.element(scope, seq, k, node)

    def dict_iteration(self, scope: Scope, node: ast.Call):
        """``for k in d.keys()``, ``for v in d.values()``, ``for k, v in d.items()``: a loop
        over a list of the keys (no gradient) that reads ``d[k]`` (an item, whose adjoint
        goes into ``d``'s adjoint under the same key)."""
        mapping = self.sequence(scope, node.func.value)
        view = node.func.attr
        keys_of = ir.Call(ir.Attr(mapping, "keys"))
        owner = node.func.value
        keys = self.names.fresh(f"{owner.id}_keys") if isinstance(owner, ast.Name) else None
        keys = keys or self.names.temp()
        self.emit(
            ir.Assign(
                keys,
                ir.Call(self.builtin_ref(scope, "list"), (keys_of,)),
                DICT_KEYS,
                (mapping,),
                tag=self.next_tag(),
                loc=scope.source.location(node),
            )
        )
        length = self.emit_value(
            scope, ir.Call(self.builtin_ref(scope, "len"), (ir.Name(keys),)), node
        )

        def element(k: ir.Expr) -> Any:
            key = self.element(scope, ir.Name(keys), k, node)
            if view == "keys":
                return key
            value = self.element(scope, mapping, key, node)
            return value if view == "values" else TupleValue((key, value))

        return length, element

    def emit_rule_call(
        self,
        scope: Scope,
        helper: str,
        rule: Rule,
        operand: ir.Expr,
        node: ast.AST,
        name: str | None = None,
    ) -> ir.Expr:
        """``t = helper(operand)``, one gate of ``rule`` (a runtime helper of srcad's own)."""
        name = name or self.names.temp()
        self.emit(
            ir.Assign(
                name,
                ir.Call(self.helper_ref(helper, rule.env[helper]), (operand,)),
                rule,
                (operand,),
                tag=self.next_tag(),
                loc=scope.source.location(node),
            )
        )
        return ir.Name(name)

    def lower_while(self, scope: Scope, node: ast.While) -> None:
        start = len(self.body)
        carried = self.enter_loop(scope, node)
        with self.block() as test_stmts:
            cond = self.lower_operand(scope, node.test)
        stmts, context = self.loop_iteration(scope, node, carried, lambda: None)
        if context.exit_flag is not None:
            self.body.insert(start, ir.Assign(context.exit_flag, ir.Const(False), tag=0))
        self.emit(
            ir.Loop(
                tuple(stmts),
                test=tuple(test_stmts),
                cond=cond,
                counter=self.names.fresh("n_iter"),
                exit_flag=context.exit_flag,
                carried=tuple(carried.values()),
                tag=self.next_tag(),
                loc=scope.source.location(node),
            )
        )

    def sequence(self, scope: Scope, node: ast.expr) -> ir.Expr:
        value = self.lower_expr(scope, node, None)
        if isinstance(value, TupleValue):
            value = self.materialize(scope, value, node)
        return value

    def materialize(
        self, scope: Scope, value: TupleValue, node: ast.AST, name: str | None = None
    ) -> ir.Expr:
        """A tuple of values as one value: ``t = (a, b, c)`` (named ``name``, or a temporary)."""
        items = tuple(
            self.materialize(scope, v, node) if isinstance(v, TupleValue) else v
            for v in value.items
        )
        for item in items:  # (the new tuple holds them)
            self.share(item)
        name = name or self.names.temp()
        self.own_lists.add(name)
        if any(self.is_own_list(item) or self.holds_list(item) for item in items):
            self.holds_lists.add(name)
        self.emit(
            ir.Assign(
                name,
                ir.Tuple(items, value.is_list),
                pack_rule(len(items)),
                items,
                tag=self.next_tag(),
                loc=scope.source.location(node),
            )
        )
        return ir.Name(name)

    def name_elements(self, scope: Scope, target: ast.expr, start: int) -> None:
        """Name the items a ``for`` loop reads (``t2 = xs[k]``) after the loop variables
        they are bound to (``x = xs[k]``)."""
        made = {
            s.target: k
            for k, s in enumerate(self.body)
            if k >= start and isinstance(s, ir.Assign)
        }
        for node in ast.walk(target):
            if not isinstance(node, ast.Name):
                continue
            value = scope.env.get(node.id)
            if isinstance(value, ir.Name) and value.id in made:
                name = self.variable_name(scope, node.id)
                position = made.pop(value.id)
                self.body[position] = replace(self.body[position], target=name)
                # a later item may read this one (``v = d[k]`` of ``for k, v in d.items()``)
                later = self.body[position + 1 :]
                self.body[position + 1 :] = ir.rename(later, {value.id: name})
                scope.env[node.id] = ir.Name(name)

    def element(self, scope: Scope, seq: ir.Expr, index: ir.Expr, node: ast.AST) -> ir.Expr:
        rule = next(r for r in self.table.candidates(("subscript",)) if r.params == ("x", "i"))
        name = self.names.temp()
        if self.holds_list(seq):
            self.list_items.add(name)
        self.emit(
            ir.Assign(
                name,
                ir.Subscript(seq, index),
                rule,
                (seq, index),
                tag=self.next_tag(),
                loc=scope.source.location(node),
            )
        )
        return ir.Name(name)

    def emit_value(self, scope: Scope, value: ir.Expr, node: ast.AST) -> ir.Expr:
        """A non-differentiated helper value (lengths and such) in a temporary."""
        name = self.names.temp()
        self.emit(ir.Assign(name, value, tag=self.next_tag(), loc=scope.source.location(node)))
        return ir.Name(name)

    def builtin_ref(self, scope: Scope, name: str) -> ir.Expr:
        """A reference to a builtin that the user's own names do not shadow."""
        obj = getattr(builtins, name)
        if name not in _assigned_names(self.root.node) and self.root.lookup(name) is obj:
            return ir.Name(name)
        return self.helper_ref(name, obj)

    def helper_ref(self, preferred: str, obj: Any) -> ir.Name:
        """A hygienic name the generated code reads ``obj`` by (bound once)."""
        for bound_name, bound_obj in self.bindings.items():
            if bound_obj is obj:
                return ir.Name(bound_name)
        bound_name = self.names.fresh(preferred)
        self.bindings[bound_name] = obj
        return ir.Name(bound_name)

    # ------------------------------------------------------------ statements
    def lower_statement(self, scope: Scope, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Assign):
            self.assign(scope, stmt.targets, stmt.value)
        elif isinstance(stmt, ast.AnnAssign):
            self.assign(scope, [stmt.target], stmt.value)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Subscript):
            if isinstance(stmt.op, ast.Add):
                self.store_item(scope, stmt.target, stmt.value, ADDITEM, stmt)
            else:  # out[i] *= v  ->  out[i] = out[i] * v
                read = ast.copy_location(
                    ast.Subscript(stmt.target.value, stmt.target.slice, ast.Load()), stmt.target
                )
                value = ast.copy_location(ast.BinOp(read, stmt.op, stmt.value), stmt)
                self.store_item(scope, stmt.target, value, SETITEM, stmt)
        elif isinstance(stmt, ast.AugAssign):
            self.update_in_place(scope, stmt)
        elif isinstance(stmt, ast.Assert):  # a check: kept, it does not change the result
            condition = self.lower_operand(scope, stmt.test)
            message = () if stmt.msg is None else (ir.Const(stmt.msg.value),)
            check = self.helper_ref("check_assertion", check_assertion)
            self.emit(ir.Effect(ir.Call(check, (condition, *message)), tag=self.next_tag()))
        elif isinstance(stmt, ast.Expr) and self.is_add_at(scope, stmt.value):
            self.add_at(scope, stmt.value)
        elif isinstance(stmt, ast.Expr) and _grows_list(stmt.value):
            self.grow_list(scope, stmt.value)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            callee = self.static_object(scope, stmt.value.func)
            func = stmt.value.func
            owner = (
                self.static_object(scope, func.value) if isinstance(func, ast.Attribute) else None
            )
            if any(callee is w for w in contexts.WARNING_CALLS):  # warnings.warn, filters
                setup = any(callee is w for w in contexts.WARNING_FILTERS)
                self.emit(ir.Effect(self.printed(scope, stmt.value), self.next_tag(), setup))
                return
            if _prints(callee) or (  # print(...) and logging: run in the forward pass
                isinstance(owner, logging.Logger | logging.LoggerAdapter)
                and isinstance(func, ast.Attribute)
                and func.attr in _LOGGING_METHODS
            ):
                self.emit(ir.Effect(self.printed(scope, stmt.value), tag=self.next_tag()))
                return
            out = _out_target(stmt.value) if _writes_into_out(callee) else None
            if out is not None:  # multiply(a, b, out=c): numpy writes the result into c
                call = copy.copy(stmt.value)
                call.keywords = [k for k in call.keywords if k.arg != "out"]
                self.store_item(scope, out, call, SETITEM, stmt)
                return
            if not getattr(callee, "__srcad_effect__", False):
                raise self.error(
                    scope,
                    stmt,
                    "a bare call has no effect on the result (srcad "
                    "differentiates functions without side effects)",
                    "assign its value to a variable, or remove the call",
                )
            raw = self.raw(stmt.value)
            self.emit(ir.Effect(self.spell_plain(scope, raw), tag=self.next_tag()))
        elif isinstance(stmt, ast.FunctionDef):
            scope.local_functions[stmt.name] = stmt
        # docstrings and `pass` lower to nothing

    def grow_list(self, scope: Scope, call: ast.Call) -> None:
        """``items.append(v)`` / ``items.extend(vs)`` as a statement."""
        receiver, method = call.func.value.id, call.func.attr
        if len(call.args) != 1 or call.keywords:
            raise self.error(
                scope,
                call,
                f"`.{method}` takes one argument",
                f"write `{receiver}.{method}(value)`",
            )
        self.grow(scope, call, receiver, method, call.args[0])

    def grow(
        self, scope: Scope, node: ast.AST, receiver: str, method: str, value_node: ast.expr
    ) -> None:
        """``receiver.append(v)``, ``.extend(vs)`` (also ``receiver += vs``) on a list this
        function made: the name gets a new list value (a display grows as a display; a
        list a loop grows is one value, ``items_2 = appended(items_1, v)``)."""
        old = scope.env.get(receiver)
        self.check_growable(scope, node, receiver, old, f".{method}")
        value = self.lower_expr(scope, value_node, None)
        if isinstance(old, TupleValue) and method == "append":
            scope.env[receiver] = TupleValue((*old.items, value), old.is_list)
        elif isinstance(old, TupleValue) and isinstance(value, TupleValue):
            scope.env[receiver] = TupleValue((*old.items, *value.items), old.is_list)
        else:
            rule, helper = (APPEND, "appended") if method == "append" else (EXTEND, "extended")
            name = self.variable_name(scope, receiver)
            scope.env[receiver] = self.list_operation(scope, node, rule, helper, (old, value), name)

    def handing_on(self, scope: Scope) -> frozenset[int]:
        """The ``Name`` reads of ``scope``'s function after which another variable or
        list may hold the same list (:func:`_handed_on_reads`)."""
        key = id(scope.node)
        if key not in self._handing_on:
            self._handing_on[key] = _handed_on_reads(scope.node)
        return self._handing_on[key]

    def share(self, value: Any) -> None:
        """Note that the lists ``value`` is or holds are held elsewhere too: growing them
        would change what the other holder sees (refused)."""
        if isinstance(value, TupleValue):
            self.shared_displays.add(id(value))
            for item in value.items:
                self.share(item)
        elif isinstance(value, ir.Name) and value.id in self.own_lists:
            self.shared_lists.add(value.id)

    def is_own_list(self, value: Any) -> bool:
        """Is ``value`` a list (or tuple display) this function made?"""
        return isinstance(value, TupleValue) or (
            isinstance(value, ir.Name) and value.id in self.own_lists
        )

    def list_operation(
        self,
        scope: Scope,
        node: ast.AST,
        rule: Rule,
        helper: str,
        operands: tuple[Any, ...],
        name: str | None = None,
    ) -> ir.Name:
        """``name = helper(*operands)``: one of the list gates (a new list, this function's)."""
        operands = tuple(
            self.materialize(scope, v, node) if isinstance(v, TupleValue) else v for v in operands
        )
        name = name or self.names.temp()
        self.emit(
            ir.Assign(
                name,
                ir.Call(self.helper_ref(helper, rule.env[helper]), operands),
                rule,
                operands,
                tag=self.next_tag(),
                loc=scope.source.location(node),
            )
        )
        self.own_lists.add(name)
        self.not_dicts.add(name)
        lists_in = operands[-1:] if rule is APPEND or rule is REPLACE else ()
        if any(self.holds_list(o) for o in operands) or any(self.is_own_list(o) for o in lists_in):
            self.holds_lists.add(name)
        return ir.Name(name)

    def holds_list(self, value: Any) -> bool:
        """May the list ``value`` hold lists?"""
        return isinstance(value, ir.Name) and value.id in self.holds_lists

    def list_arithmetic(
        self, scope: Scope, node: ast.BinOp, target: Callable[[], str] | None
    ) -> Any:
        """``a + b`` and ``a * n`` where a list (or tuple) is involved: the sequence
        operations, not arithmetic (a display stays a display where its size is known)."""
        left = self.lower_expr(scope, node.left, None)
        right = self.lower_expr(scope, node.right, None)
        name = target() if target is not None else None
        if isinstance(node.op, ast.Add):
            if isinstance(left, TupleValue) and isinstance(right, TupleValue):
                return TupleValue((*left.items, *right.items), left.is_list)
            return self.list_operation(scope, node, EXTEND, "extended", (left, right), name)
        items, count = (left, right) if self.is_own_list(left) else (right, left)
        if (
            isinstance(items, TupleValue)
            and isinstance(count, ir.Const)
            and isinstance(count.value, int)
        ):
            return TupleValue(items.items * count.value, items.is_list)
        return self.list_operation(scope, node, REPEAT, "repeated", (items, count), name)

    def may_be_list(self, scope: Scope, node: ast.expr) -> bool:
        """Is ``node`` a list or tuple display, or a variable holding a list this function
        made? (Then ``+`` and ``*`` are the sequence operations.)"""
        if isinstance(node, ast.List | ast.Tuple):
            return True
        return isinstance(node, ast.Name) and self.is_own_list(scope.env.get(node.id))

    def set_list_item(
        self, scope: Scope, target: ast.Subscript, value_node: ast.expr, stmt: ast.stmt
    ) -> None:
        """``items[i] = v`` on a list this function made: a new list value for the name
        (a display with a constant position stays a display)."""
        receiver = target.value.id
        old = scope.env.get(receiver)
        self.check_growable(scope, stmt, receiver, old, "[...] =")
        if isinstance(target.slice, ast.Slice):
            raise self.error(
                scope,
                target,
                f"writing a slice of the list `{receiver}` is not supported",
                "write the items one by one, or make an array with np.array(...)",
            )
        value = self.lower_expr(scope, value_node, None)
        index = self.lower_operand(scope, target.slice)
        if (
            isinstance(old, TupleValue)
            and isinstance(index, ir.Const)
            and isinstance(index.value, int)
            and -len(old.items) <= index.value < len(old.items)
        ):
            items = list(old.items)
            items[index.value] = value
            scope.env[receiver] = TupleValue(tuple(items), old.is_list)
            return
        name = self.variable_name(scope, receiver)
        scope.env[receiver] = self.list_operation(
            scope, stmt, REPLACE, "list_replaced", (old, index, value), name
        )

    def check_growable(
        self, scope: Scope, node: ast.AST, receiver: str, old: Any, method: str
    ) -> None:
        """Refuse changing the list ``receiver`` holds where a new list value would not be
        the same program: a list from outside (a parameter, a global), or one another
        name, list or loop also holds."""
        if (
            old is None
            or _holds(scope.arguments.get(receiver), old)  # (still the parameter's value)
            or not self.is_own_list(old)
        ):
            raise self.error(
                scope,
                node,
                f"`{receiver}{method}` changes a list this function did not make "
                "(the caller's list, or one srcad cannot follow)",
                f"make a new list first: `{receiver} = list({receiver})`, or start from `[]`",
            )
        holders = [
            name
            for outer in _scope_chain(scope)
            for name, value in outer.env.items()
            if isinstance(name, str) and name != receiver and _holds(value, old)
        ]
        shared = (isinstance(old, ir.Name) and old.id in self.shared_lists) or (
            id(old) in self.shared_displays
        )
        if holders or shared:
            other = f"`{holders[0]}`" if holders else "another variable or list"
            raise self.error(
                scope,
                node,
                f"`{receiver}` and {other} hold the same list, and `{method}` would change both",
                f"copy it before you grow it: `{receiver} = list({receiver})`",
            )
        if any(s is scope and receiver in names for s, names in self.iterated):
            raise self.error(
                scope,
                node,
                f"`{receiver}` grows inside a loop that runs over it",
                "collect the new items in another list and add them after the loop",
            )

    def printed(self, scope: Scope, call: ast.Call) -> ir.Expr:
        """``print(...)`` or a logging call, with its arguments' values (f-strings as
        ``formatted(template, *values)``); it has no effect on the gradient."""
        func = self.free_reference(scope, self.raw(call.func))
        return ir.Call(
            func,
            tuple(self.message_part(scope, a) for a in call.args),
            tuple(
                (k.arg, self.message_part(scope, k.value))
                for k in call.keywords
                if k.arg is not None
            ),
        )

    def message_part(self, scope: Scope, node: ast.expr) -> ir.Expr:
        """An argument of ``print``, of a logging call or of an exception raised: its
        value (an f-string as ``formatted(template, *values)``)."""
        if not isinstance(node, ast.JoinedStr):
            return self.lower_operand(scope, node)
        template, values = _format_template(node)
        helper = self.helper_ref("formatted", formatted)
        return ir.Call(
            helper, (ir.Const(template), *(self.message_part(scope, v) for v in values))
        )

    def is_add_at(self, scope: Scope, node: ast.expr) -> bool:
        """``np.add.at(x, i, v)`` (the ufunc method that adds at repeated indices too)."""
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "at"
            and self.static_object(scope, node.func.value) is np.add
            and len(node.args) == 3
            and not node.keywords
        )

    def add_at(self, scope: Scope, call: ast.Call) -> None:
        """``np.add.at(out, idx, v)``: an in-place write into ``out``."""
        container = self.lower_operand(scope, call.args[0])
        if not isinstance(container, ir.Name):
            raise self.error(
                scope, call.args[0], "np.add.at needs an array to add into", "pass an array"
            )
        index = self.lower_index(scope, call.args[1])
        value = self.lower_operand(scope, call.args[2])
        func = self.free_reference(scope, self.raw(call.func))
        self.emit(
            ir.Assign(
                container.id,
                ir.Call(func, (container, index, value)),
                ADDAT,
                (container, index, value),
                tag=self.next_tag(),
                loc=scope.source.location(call),
                in_place=True,
            )
        )

    def store_item(
        self, scope: Scope, target: ast.Subscript, value_node: ast.expr, rule: Any, stmt: ast.stmt
    ) -> None:
        """``out[i] = v`` (or ``+=``): written in place, as numpy does (into any array:
        one made here, an argument, a view; :mod:`srcad.memory` follows the sharing)."""
        root = target.value
        while isinstance(root, ast.Subscript):
            root = root.value
        if root is not target.value and self.may_be_list(scope, root):
            raise self.error(
                scope,
                target,
                f"writing into an item of the list `{root.id}` (a list of lists, or of "
                "arrays) is not supported",
                f"use a numpy array (`np.zeros((n, m))`), or replace the whole item: "
                f"`row = list({ast.unparse(target.value)}); row[...] = v; "
                f"{ast.unparse(target.value)} = row`",
            )
        item = scope.env.get(root.id) if isinstance(root, ast.Name) else None
        if isinstance(item, ir.Name) and item.id in self.list_items:
            raise self.error(
                scope,
                target,
                f"`{root.id}` is an item of a list, which may be a list itself: writing into "
                "it would change the outer list too, which srcad does not follow",
                f"write into a copy (`{root.id} = list({root.id})`, or `.copy()` of an array), "
                "and put it back into the list if needed",
            )
        if self.may_be_list(scope, target.value):
            if rule is ADDITEM:
                read = ast.copy_location(
                    ast.Subscript(target.value, target.slice, ast.Load()), target
                )
                value_node = ast.copy_location(ast.BinOp(read, ast.Add(), value_node), stmt)
            self.set_list_item(scope, target, value_node, stmt)
            return
        name = ast.unparse(target.value)
        container = self.lower_operand(scope, target.value)  # (out[i][j] = v: a view first)
        if not isinstance(container, ir.Name):
            raise self.error(
                scope,
                target,
                f"`{name}` holds a value that cannot be written into item by item",
                f"make an array first, e.g. `{name} = np.array({name})`",
            )
        value = self.lower_operand(scope, value_node)
        index = self.lower_index(scope, target.slice)
        self.emit(
            ir.Assign(
                container.id,
                ir.Subscript(container, index),
                rule,
                (container, index, value),
                tag=self.next_tag(),
                loc=scope.source.location(stmt),
                in_place=True,
            )
        )

    def update_in_place(self, scope: Scope, stmt: ast.AugAssign) -> None:
        """``y op= w``: numpy changes the array ``y`` holds in place (every name that
        shares it sees the change); a Python number gets a new value. One gate does
        both, as Python does: ``y_1 = y; y_1 op= w`` (``y_1`` is ``y`` itself when ``y`` is
        an array); :mod:`srcad.memory` then tells the other names what changed."""
        name = stmt.target.id
        if isinstance(stmt.op, ast.Add) and self.may_be_list(scope, stmt.target):
            self.grow(scope, stmt, name, "extend", stmt.value)  # items += more
            return
        load = ast.copy_location(ast.Name(name, ast.Load()), stmt.target)
        old = self.lower_expr(scope, load, None)
        if (  # a constant, a tuple, a global: `name op= w` only rebinds the local name
            not isinstance(old, ir.Name)
            or old.id in self.bindings
            or old.id in self.free_objects
        ):
            value = ast.copy_location(ast.BinOp(load, stmt.op, stmt.value), stmt)
            self.assign(scope, [stmt.target], value)
            return
        rhs = self.lower_operand(scope, stmt.value)
        node = ast.copy_location(ast.BinOp(_Operand(old), stmt.op, _Operand(rhs)), stmt)
        scope.env[name] = self.operation(
            scope, node, lambda: self.variable_name(scope, name), in_place=True
        )

    def assign(self, scope: Scope, targets: list[ast.expr], value_node: ast.expr) -> None:
        if len(targets) == 1 and isinstance(targets[0], ast.Subscript):
            self.store_item(scope, targets[0], value_node, SETITEM, targets[0])
            return
        first = targets[0]
        if isinstance(first, ast.Name):
            value = self.lower_expr(scope, value_node, lambda: self.variable_name(scope, first.id))
        elif isinstance(first, ast.Tuple | ast.List) and isinstance(
            value_node, ast.Tuple | ast.List
        ):
            if len(first.elts) != len(value_node.elts):
                raise self.error(
                    scope,
                    value_node,
                    "cannot unpack: the number of values does not match the number of targets",
                    "match the counts",
                )
            value = TupleValue(
                tuple(
                    self.lower_expr(scope, element, self._namer_for(scope, target))
                    for target, element in zip(first.elts, value_node.elts)
                )
            )
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
        if isinstance(target, ast.Subscript):  # a, xs[0] = ...: an item write
            self.store_item(scope, target, _Operand(value), SETITEM, target)
            return
        if not isinstance(value, TupleValue) and isinstance(value, ir.Name):
            # a tuple known only at run time: take its items one by one
            value = TupleValue(
                tuple(
                    self.element(scope, value, ir.Const(k), target) for k in range(len(target.elts))
                )
            )
        if not isinstance(value, TupleValue) or len(value.items) != len(target.elts):
            raise self.error(
                scope,
                target,
                f"cannot unpack this value into {len(target.elts)} names",
                "unpack a tuple of the same length",
            )
        for element, item in zip(target.elts, value.items):
            self.bind(scope, element, item)

    def variable_name(self, scope: Scope, user_name: str) -> str:
        """The listing name for a new value of a user variable (SSA versioning)."""
        if scope.is_root:
            return self.names.own(user_name)
        return self.names.fresh(user_name)

    # ------------------------------------------------------------ expressions
    def lower_expr(self, scope: Scope, node: ast.expr, target: Callable[[], str] | None) -> Any:
        """Lower ``node``; return an operand (Name, Const, free reference) or TupleValue.

        ``target`` names the value when ``node`` is an operation (else a temporary).
        """
        if isinstance(node, _Operand):
            return node.value
        if isinstance(node, ast.Constant):
            return ir.Const(node.value)
        if isinstance(node, ast.Name):
            return self.read_name(scope, node)
        if isinstance(node, ast.Tuple | ast.List):
            return TupleValue(
                tuple(self.lower_expr(scope, e, None) for e in node.elts),
                isinstance(node, ast.List),
            )
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Add | ast.Mult)
            and (self.may_be_list(scope, node.left) or self.may_be_list(scope, node.right))
        ):
            return self.list_arithmetic(scope, node, target)
        if isinstance(node, ast.Dict):
            return self.dict_display(scope, node, target)
        if isinstance(node, ast.IfExp):
            test = self.lower_operand(scope, node.test)
            return self.conditional(scope, test, node.body, None, node.orelse, None, target, node)
        if isinstance(node, ast.BoolOp):
            return self.bool_op(scope, node, target)
        if isinstance(node, ast.Compare) and len(node.ops) > 1:
            return self.compare_chain(scope, node, target)
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub | ast.UAdd)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int | float)
            and not isinstance(node.operand.value, bool)
        ):
            sign = -1 if isinstance(node.op, ast.USub) else 1
            return ir.Const(sign * node.operand.value)
        namespace = self.namespace_use(scope, node)
        if namespace is not None:
            return namespace
        static = self.static_object(scope, node) if isinstance(node, ast.Attribute) else _NOT_STATIC
        if static is not _NOT_STATIC:
            if type(static) in (float, int) and self.static_object(scope, node.value) in (
                _CONSTANT_MODULES
            ):
                return ir.Const(static)  # math.pi: a constant (folded, never saved)
            return self.free_reference(scope, self.raw(node))
        if isinstance(node, ast.Call) and any(isinstance(a, ast.Starred) for a in node.args):
            node = ast.copy_location(
                ast.Call(node.func, self.spread(scope, node.args), node.keywords), node
            )
        if isinstance(node, ast.Call):
            nested = self.nested_function(scope, node.func)
            if nested is not None:
                return self.inline_nested(scope, node, *nested, target)
            callee = self.static_object(scope, node.func)
            if inspect.isgeneratorfunction(callee):
                raise self.error(
                    scope,
                    node,
                    f"`{callee.__name__}` is a generator: srcad cannot differentiate through yield",
                    "build a list or an array and loop over it, or loop over range(...)",
                )
            if (
                isinstance(callee, functools.partial)
                and isinstance(callee.func, types.FunctionType)
                and not self.table.has_callable(callee.func)
            ):
                return self.inline(scope, node, callee.func, target, partial=callee)
            if isinstance(callee, types.FunctionType) and not self.table.has_callable(callee):
                return self.inline(scope, node, callee, target)
            implementation = (  # np.trapezoid: a Python function behind numpy's dispatcher
                callee if self.table.has_callable(callee) else python_function(callee)
            )
            if implementation is not callee and isinstance(implementation, types.FunctionType):
                found = _free_lookup(scope, node.func) or (
                    lambda: self.static_object(scope, node.func)
                )
                return self.inline(
                    scope, node, implementation, target, lookup=lambda: python_function(found())
                )
            if (callee in (builtins.max, builtins.min) and len(node.args) != 2) or (
                callee is math.prod and len(node.args) == 1
            ):
                return self.fold(scope, node, callee, target)
        if isinstance(node, ast.Attribute | ast.Call):  # p.w, self.forward(x): objects
            read = self.object_access(scope, node, target)
            if read is not None:
                return read
        if (  # f(x)[1] of a helper returning a tuple: that item itself
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Call)
            and (index := _constant_index(node)) is not None
        ):
            base = self.lower_expr(scope, node.value, None)
            if isinstance(base, TupleValue) and not base.is_list and (
                -len(base.items) <= index < len(base.items)
            ):
                return base.items[index]
            node = ast.copy_location(ast.Subscript(_Operand(base), node.slice, ast.Load()), node)
        return self.operation(scope, node, target)

    def dict_display(
        self, scope: Scope, node: ast.Dict, target: Callable[[], str] | None
    ) -> ir.Expr:
        """``{"a": v, "b": w}`` with constant keys, each once: one gate, whose adjoint is
        a dict of adjoints (as for a dict parameter)."""
        seen: set[Any] = set()
        for key in node.keys:  # (`**` unpacking: refused by srcad.subset)
            if not isinstance(key, ast.Constant):
                raise self.error(
                    scope,
                    key,
                    "the keys of a dict display must be constants",
                    "write each key as a literal (\"a\", 0), or build the dict item by item",
                )
            if key.value in seen:
                raise self.error(
                    scope,
                    key,
                    f"the key {key.value!r} appears twice in this dict display",
                    "keep one of them (Python keeps the last value)",
                )
            seen.add(key.value)
        keys = tuple(ir.Const(key.value) for key in node.keys)
        values = tuple(self.lower_operand(scope, value) for value in node.values)
        name = target() if target is not None else self.names.temp()
        self.emit(
            ir.Assign(
                name,
                ir.Dict(keys, values),
                dict_rule(len(keys)),
                (*keys, *values),
                tag=self.next_tag(),
                loc=scope.source.location(node),
            )
        )
        return ir.Name(name)

    def fold(
        self, scope: Scope, node: ast.Call, callee: Any, target: Callable[[], str] | None
    ) -> Any:
        """``max(a, b, c)``, ``max(items)`` and ``math.prod(items)`` over a list or tuple of
        values, as Python evaluates them: pairwise from the left (for ``max`` and ``min``
        the first of equal values wins)."""
        items: list[ast.expr] = list(node.args)
        if len(items) == 1 and not node.keywords and not isinstance(items[0], ast.Starred):
            value = self.lower_expr(scope, items[0], None)
            if not isinstance(value, TupleValue) or not value.items:  # over an array: a rule
                single = ast.copy_location(ast.Call(node.func, [_Operand(value)], []), node)
                return self.operation(scope, single, target)
            items = [_Operand(item) for item in value.items]
        if not items or node.keywords or any(isinstance(item, ast.Starred) for item in items):
            return self.operation(scope, node, target)
        if len(items) == 1:
            return self.lower_expr(scope, items[0], target)
        folded = items[0]
        for item in items[1:]:
            pair = (
                ast.BinOp(folded, ast.Mult(), item)
                if callee is math.prod
                else ast.Call(node.func, [folded, item], [])
            )
            folded = ast.copy_location(pair, node)
        return self.lower_expr(scope, folded, target)

    def bool_op(self, scope: Scope, node: ast.BoolOp, target: Callable[[], str] | None) -> ir.Expr:
        """``a and b``/``a or b`` with Python's short-circuit: the second side is only
        evaluated in the branch that needs it."""
        value = self.lower_operand(scope, node.values[0])
        for index, right in enumerate(node.values[1:], start=1):
            last = index == len(node.values) - 1
            name_for = target if last else None
            if isinstance(node.op, ast.And):
                value = self.conditional(scope, value, right, None, None, value, name_for, node)
            else:
                value = self.conditional(scope, value, None, value, right, None, name_for, node)
        return value

    def compare_chain(
        self, scope: Scope, node: ast.Compare, target: Callable[[], str] | None
    ) -> ir.Expr:
        """``a < b < c`` as ``a < b and b < c`` (each operand evaluated once)."""
        operands = [self.lower_operand(scope, node.left)]
        operands += [self.lower_operand(scope, c) for c in node.comparators]
        result = None
        for op, left, right in zip(node.ops, operands, operands[1:]):
            compare = ast.copy_location(ast.Compare(_Operand(left), [op], [_Operand(right)]), node)
            step = self.operation(scope, compare, None)
            if result is None:
                result = step
            else:
                result = self.conditional(scope, result, None, step, None, result, None, node)
        if target is not None:
            name = target()
            self.emit(
                ir.Assign(
                    name,
                    result,
                    COPY,
                    (result,),
                    tag=self.next_tag(),
                    loc=scope.source.location(node),
                )
            )
            return ir.Name(name)
        return result

    def read_name(self, scope: Scope, node: ast.Name) -> Any:
        if node.id in scope.env:
            value = scope.env[node.id]
            if value is PASSED_DEF:
                raise self.error(
                    scope,
                    node,
                    f"`{node.id}` holds a function of the differentiated code: srcad "
                    "inlines calls of it, and it has no other use",
                    "call it, or pass it on to another function that calls it",
                )
            if id(node) in self.handing_on(scope):
                self.share(value)
            return value
        if node.id in scope.local_names:
            raise self.error(
                scope,
                node,
                f"`{node.id}` is used before it is assigned",
                "assign it before this line",
            )
        outer = scope.parent
        while outer is not None:  # a nested def reads its enclosing function's variables
            if node.id in outer.env:
                return outer.env[node.id]
            outer = outer.parent
        obj = scope.source.lookup(node.id)
        if obj is MISSING:
            raise self.error(
                scope,
                node,
                f"name `{node.id}` is not defined",
                "define it at module level or pass it as a parameter",
            )
        return self.free_reference(scope, ir.Name(node.id))

    def static_object(self, scope: Scope, node: ast.expr) -> Any:
        """The object a global Name/Attribute chain denotes, or ``_NOT_STATIC``."""
        chain: list[str] = []
        while isinstance(node, ast.Attribute):
            chain.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return _NOT_STATIC
        expr: ir.Expr = ir.Name(node.id)
        for attr in reversed(chain):
            expr = ir.Attr(expr, attr)
        return self.resolve_raw(scope, expr)

    def free_reference(self, scope: Scope, spelled: ir.Expr) -> ir.Expr:
        """How generated code refers to a free name (global, closure, builtin) of ``scope``."""
        path = self.namespace_path(scope, spelled)
        if path is not None:  # xp.pow: numpy's power on the namespace's name (see array_api)
            expr: ir.Expr = self.namespace_name()
            for part in array_api.numpy_path(path) or path:
                expr = ir.Attr(expr, part)
            return expr
        if isinstance(spelled, ir.Attr):
            return ir.Attr(self.free_reference(scope, spelled.value), spelled.attr)
        assert isinstance(spelled, ir.Name)
        name = spelled.id
        if name in scope.statics:  # a function passed in: named as the caller named it
            return scope.statics[name].reference
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
        if isinstance(node, _Operand | _Opaque):
            expr = ir.Name("\0operand")  # a placeholder that matches only rule parameters
            self._raw_nodes[id(expr)] = (expr, node.node if isinstance(node, _Opaque) else node)
            return expr
        expr = pyexpr.from_ast(node, leaf=lambda n: None if n is node else self._raw_child(n))
        self._raw_nodes[id(expr)] = (expr, node)
        return expr

    def _raw_child(self, node: ast.expr) -> ir.Expr:
        """A sub-expression for matching; one with no IR form (``a if c else b``, ``a and
        b``) becomes a placeholder that only a rule parameter can match."""
        if isinstance(node, ast.Compare) and len(node.ops) > 1:
            return self.raw(_Opaque(node))
        try:
            return self.raw(node)
        except pyexpr.NotAnExpression:
            return self.raw(_Opaque(node))

    def operation(
        self,
        scope: Scope,
        node: ast.expr,
        target: Callable[[], str] | None,
        in_place: bool = False,
    ) -> ir.Expr:
        """Lower one operation (and, first, its operands) to an Assign; return its name."""
        try:
            raw = self.raw(node)
        except pyexpr.NotAnExpression as exc:
            raise self.error(
                scope,
                exc.node,
                f"`{_excerpt(exc.node)}` is not supported in a differentiated expression",
                "rewrite it with arithmetic and calls",
            ) from None
        if (  # np.multiply(a, b, out=...): a 0-d array for a number, the same value
            isinstance(raw, ir.Call)
            and _OUT_ELLIPSIS in raw.kwargs
            and _writes_into_out(self.resolve_raw(scope, raw.func))
        ):
            raw = replace(raw, kwargs=tuple(k for k in raw.kwargs if k != _OUT_ELLIPSIS))
        rule, bound = self.find_rule(scope, raw)
        if rule is not None:
            index_params = {a.index for a in rule.adjoints if isinstance(a, Scatter)}
            operands: dict[str, ir.Expr] = {}
            replacements: dict[int, ir.Expr] = {}
            for param, sub in bound.items():
                if id(sub) not in self._raw_nodes:  # a default argument of the rule
                    operands[param] = sub
                    continue
                lower_one = self.lower_index if param in index_params else self.lower_operand
                operands[param] = lower_one(scope, self._raw_nodes[id(sub)][1])
                replacements[id(sub)] = operands[param]
            value = self.spell(scope, raw, replacements)
            operand_list = tuple(operands[p] for p in rule.params)
        else:
            value = self.spell_plain(scope, raw)
            operand_list = ()
        name = target() if target is not None else self.names.temp()
        self.body.append(
            ir.Assign(
                target=name,
                value=value,
                rule=rule,
                operands=operand_list,
                tag=self.next_tag(),
                loc=scope.source.location(node),
                in_place=in_place,
            )
        )
        if rule is not None and not rule.view and not _is_method(rule):
            self.not_dicts.add(name)  # arithmetic, numpy functions: a number or an array
        first = operand_list[0] if operand_list else None
        if rule is LIST_COPY or (  # a copy or a slice of a list: a new list
            self.is_own_list(first)
            and (rule is COPY_METHOD or _is_slice_read(value))
        ):
            self.own_lists.add(name)
            if self.holds_list(first):
                self.holds_lists.add(name)
        elif isinstance(value, ir.Subscript) and self.holds_list(first):
            self.list_items.add(name)
        return ir.Name(name)

    def lower_index(self, scope: Scope, node: ast.expr) -> ir.Expr:
        """An index expression: slices and tuples of indices stay one expression."""
        if isinstance(node, ast.Slice):
            part = lambda n: None if n is None else self.lower_operand(scope, n)  # noqa: E731
            return ir.Slice(part(node.lower), part(node.upper), part(node.step))
        if isinstance(node, ast.Tuple):
            return ir.Tuple(tuple(self.lower_index(scope, e) for e in node.elts))
        return self.lower_operand(scope, node)  # a list of positions stays a list

    def lower_operand(self, scope: Scope, node: ast.expr) -> ir.Expr:
        value = self.lower_expr(scope, node, None)
        if value is array_api.NAMESPACE:  # passed to a call srcad does not read
            return self.namespace_name()
        if isinstance(value, TupleValue):  # a shape, an axis tuple, a list of arrays...
            if all(isinstance(v, ir.Const) for v in value.items):
                items = tuple(value.items)
                return (
                    ir.Const([v.value for v in items])
                    if isinstance(node, ast.List)
                    else ir.Tuple(items)
                )
            return self.materialize(scope, value, node)
        return value

    def find_rule(self, scope: Scope, raw: ir.Expr):
        resolve = lambda e: self.resolve_raw(scope, e)  # noqa: E731
        key = index_key(raw, lambda e: _MISSING_RULE if resolve(e) is _NOT_STATIC else resolve(e))
        if key is None:
            return None, {}
        for rule in self.table.candidates(key):
            bound = match(rule.pattern, raw, rule, resolve)
            if bound is not None:
                return rule, bound
        return None, {}

    def resolve_raw(self, scope: Scope, expr: ir.Expr) -> Any:
        """The object a Name/Attr chain of globals denotes (attributes of modules and
        classes only: reading others could run code), or ``_NOT_STATIC``."""
        path = self.namespace_path(scope, expr)
        if path is not None:  # an array namespace stands for numpy (see srcad.array_api)
            obj = array_api.numpy_twin(path) if path else np
            return _NOT_STATIC if obj is None else obj
        if isinstance(expr, ir.Name):
            if expr.id in scope.statics:  # a function passed in
                return scope.statics[expr.id].obj
            if expr.id in scope.local_names:
                return _NOT_STATIC
            obj = scope.source.lookup(expr.id)
            return _NOT_STATIC if obj is MISSING else obj
        if isinstance(expr, ir.Attr):
            base = self.resolve_raw(scope, expr.value)
            if base is _NOT_STATIC or not isinstance(base, types.ModuleType | type):
                return _NOT_STATIC
            return getattr(base, expr.attr, _NOT_STATIC)
        return _NOT_STATIC

    # ------------------------------------------------------------ array namespaces
    def is_namespace(self, scope: Scope, name: str) -> bool:
        """``name`` holds an array-API namespace: ``xp = array_namespace(x)`` (also in an
        enclosing function or passed to a helper), or a namespace module imported."""
        current: Scope | None = scope
        while current is not None:
            if name in current.env:
                return current.env[name] is array_api.NAMESPACE
            if name in current.local_names:
                return False
            current = current.parent
        return array_api.is_namespace_module(scope.source.lookup(name))

    def namespace_path(self, scope: Scope, expr: ir.Expr) -> tuple[str, ...] | None:
        """``("linalg", "matmul")`` for ``xp.linalg.matmul`` (``xp`` a namespace), else None."""
        path: list[str] = []
        while isinstance(expr, ir.Attr):
            path.append(expr.attr)
            expr = expr.value
        if isinstance(expr, ir.Name) and self.is_namespace(scope, expr.id):
            return tuple(reversed(path))
        return None

    def namespace_name(self) -> ir.Name:
        """The one name generated code calls the namespace by (numpy while lowering)."""
        marker = self.bindings.get(array_api.MARKER)
        if marker is None:
            marker = array_api.Marker(self.names.own("xp"))
            self.bindings[array_api.MARKER] = marker
            self.bindings[marker.name] = np
        return ir.Name(marker.name)

    def namespace_use(self, scope: Scope, node: ast.expr) -> Any:
        """:data:`array_api.NAMESPACE` for ``array_namespace(...)`` and
        ``x.__array_namespace__()``; refuses ``xp.<name>`` that srcad does not support."""
        if isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute) and func.attr == "__array_namespace__"
            ) or array_api.is_namespace_getter(self.static_object(scope, func)):
                self.namespace_name()
                return array_api.NAMESPACE
            node = func
        path: list[str] = []
        while isinstance(node, ast.Attribute):
            path.append(node.attr)
            node = node.value
        if path and isinstance(node, ast.Name) and self.is_namespace(scope, node.id):
            if array_api.numpy_twin(tuple(reversed(path))) is None:
                raise array_api.refusal(tuple(reversed(path)), scope.source.location(node))
        return None

    def spell(self, scope: Scope, raw: ir.Expr, replacements: dict[int, ir.Expr]) -> ir.Expr:
        """The forward expression in the user's own spelling, operands put in."""
        if id(raw) in replacements:
            return replacements[id(raw)]
        if isinstance(raw, ir.Name | ir.Attr) and self.resolve_raw(scope, raw) is not _NOT_STATIC:
            return self.free_reference(scope, raw)
        if isinstance(raw, ir.Name):  # pragma: no cover - every local is a rule operand
            return self.lower_operand(scope, self._raw_nodes[id(raw)][1])
        return ir.with_children(raw, [self.spell(scope, c, replacements) for c in ir.children(raw)])

    def spell_plain(self, scope: Scope, raw: ir.Expr) -> ir.Expr:
        """The forward expression for an operation without a rule (not differentiable)."""
        if isinstance(raw, ir.Call):
            func = (
                self.free_reference(scope, raw.func)
                if self.resolve_raw(scope, raw.func) is not _NOT_STATIC
                else self.lower_operand(scope, self._raw_nodes[id(raw.func)][1])
            )
            rest = [
                self.lower_operand(scope, self._raw_nodes[id(c)][1]) for c in ir.children(raw)[1:]
            ]
            return ir.with_children(raw, [func, *rest])
        return ir.with_children(
            raw, [self.lower_operand(scope, self._raw_nodes[id(c)][1]) for c in ir.children(raw)]
        )

    def next_tag(self) -> int:
        self._tag += 1
        return self._tag

    # ------------------------------------------------------------ inlining helpers
    def nested_function(self, scope: Scope, func: ast.expr):
        """The ``def`` a call refers to when it names a function nested in the code."""
        if not isinstance(func, ast.Name):
            return None
        current = scope
        while current is not None:
            if func.id in current.passed_defs:
                return current.passed_defs[func.id]
            if func.id in current.local_functions:
                return current.local_functions[func.id], current
            if func.id in current.env:
                return None
            current = current.parent
        return None

    def inline_nested(
        self,
        scope: Scope,
        call: ast.Call,
        node: ast.FunctionDef,
        home: Scope,
        target: Callable[[], str] | None,
    ) -> Any:
        """Inline a call to a ``def`` written inside the differentiated function."""
        if node in self.inlining:
            raise self.error(
                scope,
                call,
                f"recursive call to {node.name} cannot be differentiated",
                "rewrite the recursion as a loop",
            )
        values = self.bind_arguments(scope, call, node, None, None)
        inner = Scope(
            home.source,
            env=values,
            arguments=dict(values),
            local_names=frozenset(_assigned_names(node)),
            node=desugar(node),
            parent=home,
            statics=self.passed_functions(scope, call, node),
            passed_defs=self.passed_defs(scope, call, node),
        )
        self.emit(ir.Comment(f"inlined {node.name}() from line {node.lineno}", header=True))
        return self.lower_inlined(inner, node, target)

    def passed_defs(
        self, scope: Scope, call: ast.Call, fn: ast.FunctionDef
    ) -> dict[str, tuple[ast.FunctionDef, Scope]]:
        """The parameters of ``fn`` that ``call`` binds to a ``def`` of the code (or a
        named lambda) and that ``fn`` never reassigns: calls of them are inlined."""
        found = {}
        for param, arg in _kept_arguments(call, fn):
            nested = self.nested_function(scope, arg)
            if nested is not None:
                found[param] = nested
        return found

    def passed_functions(
        self, scope: Scope, call: ast.Call, fn: ast.FunctionDef
    ) -> dict[str, Static]:
        """The parameters of ``fn`` that ``call`` binds to a function srcad knows when it
        compiles (a module's function, a numpy function) and that ``fn`` never reassigns:
        calls of them inside ``fn`` are calls of that function (inlined, or by its rule)."""
        statics: dict[str, Static] = {}
        for param, arg in _kept_arguments(call, fn):
            if not isinstance(arg, ast.Name | ast.Attribute):
                continue
            obj = self.static_object(scope, arg)
            if obj is _NOT_STATIC or not callable(obj) or isinstance(obj, type):
                continue
            passed = scope.statics.get(arg.id) if isinstance(arg, ast.Name) else None
            statics[param] = Static(
                obj,
                self.free_reference(scope, self.raw(arg)),
                passed.lookup if passed is not None else _free_lookup(scope, arg),
            )
        return statics

    def bind_arguments(
        self,
        scope: Scope,
        call: ast.Call,
        fn: ast.FunctionDef,
        callee: types.FunctionType | None,
        partial: functools.partial | None,
    ) -> dict[str, Any]:
        """The callee's parameters bound to the call's (lowered) arguments and defaults."""
        positional = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
        kwonly = [a.arg for a in fn.args.kwonlyargs]
        values: dict[str, Any] = {}
        if partial is not None:
            for param, arg in zip(positional, partial.args):
                values[param] = self.constant(arg)
            positional = positional[len(partial.args) :]
            for key, arg in partial.keywords.items():
                values[key] = self.constant(arg)
        arguments = self.spread(scope, call.args)
        if len(arguments) > len(positional) and fn.args.vararg is None:
            raise self.error(
                scope,
                call,
                f"{fn.name}() takes {len(positional)} positional "
                f"arguments but {len(arguments)} were given",
                "fix the call",
            )
        for param, arg in zip(positional, arguments):
            values[param] = self.argument(scope, arg)
        if fn.args.vararg is not None:  # *args: a tuple of the rest
            rest = arguments[len(positional) :]
            values[fn.args.vararg.arg] = TupleValue(
                tuple(self.lower_expr(scope, arg, None) for arg in rest)
            )
        extra: dict[str, ast.expr] = {}
        for keyword in call.keywords:
            if keyword.arg not in (*positional, *kwonly) and fn.args.kwarg is not None:
                extra[keyword.arg] = keyword.value  # **kwargs: a dict of the rest
                continue
            if keyword.arg not in (*positional, *kwonly) or (
                keyword.arg in values and partial is None
            ):
                raise self.error(
                    scope,
                    keyword,
                    f"{fn.name}() got an unexpected or repeated argument `{keyword.arg}`",
                    "fix the call",
                )
            values[keyword.arg] = self.argument(scope, keyword.value)
        if fn.args.kwarg is not None:
            display = ast.copy_location(
                ast.Dict([ast.Constant(k) for k in extra], list(extra.values())), call
            )
            values[fn.args.kwarg.arg] = self.dict_display(scope, display, None)
        if callee is not None:
            defaults = dict(
                zip(
                    reversed([a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]),
                    reversed(callee.__defaults__ or ()),
                )
            )
            defaults.update(callee.__kwdefaults__ or {})
            default_values = {k: self.constant(v) for k, v in defaults.items()}
        else:
            default_values = self.nested_defaults(scope, fn)
        for param in (*[a.arg for a in (*fn.args.posonlyargs, *fn.args.args)], *kwonly):
            if param not in values:
                if param not in default_values:
                    raise self.error(
                        scope, call, f"{fn.name}() is missing the argument `{param}`", "pass it"
                    )
                values[param] = default_values[param]
        return values

    def argument(self, scope: Scope, node: ast.expr) -> Any:
        """The value a call passes: lowered, or for a ``def`` of the code (which has no
        value in the listing) the marker that only calls of it may read."""
        if self.nested_function(scope, node) is not None:
            return PASSED_DEF
        return self.lower_expr(scope, node, None)

    def spread(self, scope: Scope, arguments: list[ast.expr]) -> list[ast.expr]:
        """A call's positional arguments with ``*items`` spread out, when ``items`` is a
        tuple or list of known length (a helper's ``*args``, a tuple display)."""
        if not any(isinstance(arg, ast.Starred) for arg in arguments):
            return arguments
        spread: list[ast.expr] = []
        for arg in arguments:
            if not isinstance(arg, ast.Starred):
                spread.append(_Operand(self.lower_expr(scope, arg, None)))
                continue
            value = self.lower_expr(scope, arg.value, None)
            if not isinstance(value, TupleValue):
                raise self.error(
                    scope,
                    arg,
                    "`*` unpacks a value whose length srcad does not know when it compiles",
                    "pass the items one by one, or unpack a tuple or list display",
                )
            spread += [_Operand(item) for item in value.items]
        return spread

    def nested_defaults(self, scope: Scope, fn: ast.FunctionDef) -> dict[str, Any]:
        args = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
        defaults = dict(zip(reversed(args), reversed(fn.args.defaults)))
        defaults.update({a.arg: d for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults) if d})
        return {k: self.lower_expr(scope, v, None) for k, v in defaults.items()}

    def inline(
        self,
        scope: Scope,
        call: ast.Call,
        callee: types.FunctionType,
        target: Callable[[], str] | None,
        partial: functools.partial | None = None,
        lookup: Callable[[], Any] | None = None,
    ) -> Any:
        where = scope.source.location(call)
        if callee in self.inlining:
            raise UnsupportedSyntaxError(
                f"recursive call to {callee.__qualname__} cannot be differentiated",
                "rewrite the recursion as a loop",
                where,
            )
        source = read_function(callee, used_at=where)
        generated = getattr(callee, "__srcad__", None)  # a gradient srcad made
        if generated is not None:  # current while the helpers it inlined are
            self.dependencies.extend(generated.dependencies())
        else:
            self.dependencies.append((
                lookup
                or _free_lookup(scope, call.func)
                or (lambda: self.static_object(scope, call.func)),
                partial or callee,
                callee.__code__,
            ))
        if source.filename == self.root.filename:
            return self.lower_source(scope, call, source, callee, target, partial)
        # Another file's function (often a library's): when srcad cannot read its code, the
        # call stays a call, with no derivative. That is enough when its arguments are
        # inactive (np.triu_indices(n)); otherwise the gradient reports why, at this line.
        start, saved_return = len(self.body), self._last_return
        try:
            result = self.lower_source(scope, call, source, callee, target, partial)
        except SrcadError as error:
            del self.body[start:]
            self._last_return = saved_return
            self.refusals[where] = at_call_site(error, callee, where)
            return self.operation(scope, call, target)
        for stmt in ir.walk(self.body[start:]):  # (the outermost call, the user's, wins)
            loc = getattr(stmt, "loc", None)
            if loc is not None and loc.filename == source.filename:
                self.call_sites[loc] = (where, callee)
        return result

    def lower_source(
        self,
        scope: Scope,
        call: ast.Call,
        source: FunctionSource,
        callee: types.FunctionType,
        target: Callable[[], str] | None,
        partial: functools.partial | None,
    ) -> Any:
        """Inline the function ``source``: its body, with the call's arguments bound."""
        fn = source.node
        # (the defaults of the function whose code is read: a decorator's wrapper has its own)
        values = self.bind_arguments(scope, call, fn, source.function, partial)
        known = {  # (an object bound for a default, such as np._NoValue: for `is` tests)
            name: value.value if isinstance(value, ir.Const)
            else Sized(len(value.items)) if isinstance(value, TupleValue)
            else self.bindings[value.id]
            for name, value in values.items()
            if isinstance(value, ir.Const | TupleValue)
            or (isinstance(value, ir.Name) and value.id in self.bindings)
        }
        local_names = frozenset(_assigned_names(fn))
        source = replace(source, node=specialize(fn, known, source.lookup)[0])  # options decided
        check_supported(source, inlined=True)
        fn = source.node
        where = (  # (a function srcad generated has no file of its own to name)
            "srcad's generated code" if source.filename.startswith("<srcad")
            else f"{_short(source.filename)}:{fn.lineno}"
        )
        self.body.append(ir.Comment(f"inlined {fn.name}() from {where}", header=True))
        inner = Scope(
            source,
            env=values,
            local_names=local_names,
            node=desugar(fn),
            arguments=dict(values),
            statics=self.passed_functions(scope, call, fn),
            passed_defs=self.passed_defs(scope, call, fn),
        )
        return self.lower_inlined(inner, callee, target)

    def lower_inlined(self, inner: Scope, key: Any, target: Callable[[], str] | None) -> Any:
        """The body of an inlined function (``key`` marks it as being inlined, against
        recursion); its result is named by the caller's ``target``."""
        self.inlining.append(key)
        try:
            saved_return = getattr(self, "_last_return", None)
            result, _ = self.lower_body(inner, self._lazy(target or self.names.temp))
            self._last_return = saved_return
        finally:
            self.inlining.pop()
        return result

    def constant(self, value: Any) -> ir.Expr:
        if isinstance(value, int | float | complex | bool | str) or value is None:
            return ir.Const(value)
        name = self.names.fresh("default")
        self.bindings[name] = value
        return ir.Name(name)

    # ------------------------------------------------------------ objects (records)
    def object_access(
        self, scope: Scope, node: ast.Attribute | ast.Call, target: Callable[[], str] | None
    ) -> Any:
        """``p.w`` (a field of an object, no rule of the table matching it) and, on an
        object whose class srcad knows when it compiles (``self`` of a bound method, an
        object held by a global or a closure, a field of one), ``self.forward(x)`` and
        ``self.weights`` (a property): the method's or the property's code, inlined.
        None: not one of these (an ordinary operation)."""
        func = node.func if isinstance(node, ast.Call) else node
        if not isinstance(func, ast.Attribute):
            return None
        known = self.known_object(scope, func.value)
        body_at, last_return = len(self.body), self._last_return
        try:
            found = self.member_access(scope, node, func, known, target)
        except SrcadError as error:  # (code srcad cannot read: a call without a derivative,
            del self.body[body_at:]  # which is fine while no gradient flows through it)
            self._last_return = last_return
            self.refusals[scope.source.location(node)] = error
            return None
        if found is not None:
            return found
        if isinstance(node, ast.Call):
            return None
        if self.find_rule(scope, self.raw(node))[0] is not None and not (
            (known is not None and records.has_field(known[0], node.attr))
            or (isinstance(node.value, ast.Name) and node.value.id in self.object_names(scope))
        ):
            return None  # x.T, x.shape of an array (a field named so is read as a field when
        base = self.lower_operand(scope, node.value)  # the object is known to be one)
        name = target() if target is not None else self.names.temp()
        self.emit(
            ir.Assign(
                name,
                ir.Attr(base, node.attr),
                FIELD,
                (base, ir.Const(node.attr)),
                tag=self.next_tag(),
                loc=scope.source.location(node),
            )
        )
        if known is not None and records.has_field(known[0], node.attr):
            field_value, current = getattr(known[0], node.attr), known[1]
            if records.is_record(field_value):
                self.known_objects()[name] = (
                    field_value,
                    lambda: getattr(current(), node.attr, None),
                )
        return ir.Name(name)

    def member_access(
        self,
        scope: Scope,
        node: ast.Attribute | ast.Call,
        func: ast.Attribute,
        known: tuple[Any, Callable[[], Any]] | None,
        target: Callable[[], str] | None,
    ) -> Any:
        """``obj.method(...)`` or ``obj.prop`` inlined from the class of an object srcad
        knows (or of ``self`` in a method differentiated unbound); None if it is not one."""
        if known is None:
            cls = self.method_class(scope, func.value)
            if cls is not None and not any(
                func.attr in vars(c).get("__slots__", ()) for c in cls.__mro__
            ):
                return self.member_of_class(scope, node, cls, target)
            return None
        obj, current = known
        if records.has_field(obj, func.attr):  # a field: an object with __call__ is called
            value = getattr(obj, func.attr)
            method = inspect.getattr_static(type(value), "__call__", None)
            if not (
                isinstance(node, ast.Call)
                and records.is_record(value)
                and isinstance(method, types.FunctionType)
            ):
                return None
            receiver = self.lower_operand(scope, func)
            called = ast.copy_location(ast.Attribute(func, "__call__", ast.Load()), func)
            call = ast.copy_location(ast.Call(called, node.args, node.keywords), node)
            return self.inline_member(
                scope, call, method, target, lambda: getattr(current(), func.attr, None), "",
                receiver_value=receiver,
            )
        member = inspect.getattr_static(type(obj), func.attr, None)
        if isinstance(node, ast.Attribute):
            getter = getattr(records.property_of(obj, func.attr), "fget", None)
            if isinstance(getter, types.FunctionType):
                call = ast.copy_location(ast.Call(func, [], []), node)
                return self.inline_member(scope, call, getter, target, current, "fget")
            return None
        if isinstance(member, staticmethod) and isinstance(member.__func__, types.FunctionType):
            return self.inline_member(
                scope, node, member.__func__, target, current, "", receiver=False
            )
        if isinstance(member, types.FunctionType):
            return self.inline_member(scope, node, member, target, current, "")
        return None

    def inline_member(
        self,
        scope: Scope,
        call: ast.Call,
        function: types.FunctionType,
        target: Callable[[], str] | None,
        current: Callable[[], Any],
        part: str,
        receiver: bool = True,
        receiver_value: ir.Expr | None = None,
    ) -> Any:
        """Inline a method (or a property's getter: ``part="fget"``) of an object whose
        class is known, the object passed as its first argument (unless a
        staticmethod); the cached gradient is rebuilt if the class no longer has it."""
        func = call.func
        assert isinstance(func, ast.Attribute)
        args = list(call.args)
        if receiver:
            value = receiver_value or self.lower_expr(scope, func.value, None)
            args.insert(0, ast.copy_location(_Operand(value), call))
        inlined = ast.copy_location(ast.Call(func, args, call.keywords), call)

        def lookup() -> Any:
            owner = current()
            owner = owner if isinstance(owner, type) else type(owner)
            member = inspect.getattr_static(owner, func.attr, None)
            member = getattr(member, part, None) if part else member
            return getattr(member, "__func__", member)

        return self.inline(scope, inlined, function, target, lookup=lookup)

    def object_names(self, scope: Scope) -> frozenset[str]:
        """The local names of ``scope`` that hold objects, as far as the code shows: read
        with an attribute neither an array nor a rule has (``p.rate``). On them ``p.shape``
        or ``p.T`` is a field, not the array attribute of the same name."""
        found = getattr(scope, "_object_names", None)
        if found is None:
            found = frozenset(
                node.value.id
                for node in ast.walk(scope.node)
                if isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Load)
                and isinstance(node.value, ast.Name)
                and node.value.id in scope.local_names
                and not hasattr(np.ndarray, node.attr)
                and not self.table.candidates(("attr", node.attr))
                and not self.table.candidates(("method", node.attr))
            )
            scope._object_names = found  # type: ignore[attr-defined]
        return found

    def method_class(self, scope: Scope, node: ast.expr) -> type | None:
        """The class of ``self`` when ``node`` is the first parameter of the function
        being differentiated and that function is a method written in a class body
        (``srcad.grad(Model.loss)(model, x)``): its methods are that class's, checked
        when the gradient runs (an object of a subclass may have others)."""
        if not isinstance(node, ast.Name):
            return None
        current: Scope | None = scope
        while current is not None and node.id not in current.env:
            current = current.parent
        if current is None:
            return None
        root = self.root.node.args
        first = [a.arg for a in (*root.posonlyargs, *root.args)][:1]
        if not first or current.env[node.id] != ir.Name(first[0]):
            return None
        function = self.root.function
        parts = getattr(function, "__qualname__", "").split(".")
        if len(parts) < 2 or "<locals>" in parts:
            return None
        cls: Any = self.root.lookup(parts[0])
        for part in parts[1:-1]:
            cls = getattr(cls, part, None)
        member = vars(cls).get(parts[-1]) if isinstance(cls, type) else None
        return cls if member is function else None

    def member_of_class(
        self,
        scope: Scope,
        node: ast.Attribute | ast.Call,
        cls: type,
        target: Callable[[], str] | None,
    ) -> Any:
        """``self.forward(x)`` or ``self.weights`` (a property) of ``cls``, inlined after a
        check, when the gradient runs, that ``self``'s class has the same member."""
        func = node.func if isinstance(node, ast.Call) else node
        member = inspect.getattr_static(cls, func.attr, None)
        if isinstance(node, ast.Call) and isinstance(member, types.FunctionType):
            function, part, call = member, "", node
        elif isinstance(node, ast.Attribute) and isinstance(
            getattr(member, "fget", None), types.FunctionType
        ) and isinstance(member, property):
            function, part = member.fget, "fget"
            call = ast.copy_location(ast.Call(func, [], []), node)
        else:
            return None
        receiver = self.lower_operand(scope, func.value)
        check = self.helper_ref(
            f"check_{func.attr}", same_member(scope.source.location(node), cls, func.attr)
        )
        self.emit(ir.Effect(ir.Call(check, (receiver,)), tag=self.next_tag()))
        return self.inline_member(
            scope, call, function, target, lambda: cls, part, receiver_value=receiver
        )

    def known_objects(self) -> dict[str, tuple[Any, Callable[[], Any]]]:
        """Listing names whose object srcad knows when it compiles -> (the object, how to
        find the object again): the parameters a bound method or a partial fixes."""
        if not hasattr(self, "_known"):
            fixed = getattr(self.root, "fixed", {}) or {}
            self._known = {
                name: (value, lambda value=value: value)
                for name, value in fixed.items()
                if records.is_record(value)
            }
        return self._known

    def known_object(self, scope: Scope, node: ast.expr) -> tuple[Any, Callable[[], Any]] | None:
        """The object (a record) ``node`` denotes when srcad knows it at compile time,
        with a function finding it again (for the cache); else None."""
        if isinstance(node, ast.Name):
            current: Scope | None = scope
            while current is not None:
                if node.id in current.env:
                    value = current.env[node.id]
                    if isinstance(value, ir.Name):
                        return self.known_objects().get(value.id)
                    return None
                if node.id in current.local_names:
                    return None
                current = current.parent
            obj = scope.source.lookup(node.id)
            if obj is MISSING or not records.is_record(obj):
                return None
            return obj, lambda: scope.source.lookup(node.id)
        if isinstance(node, ast.Attribute):
            base = self.known_object(scope, node.value)
            if base is None or not records.has_field(base[0], node.attr):
                return None
            value = getattr(base[0], node.attr)
            if not records.is_record(value):
                return None
            return value, lambda: getattr(base[1](), node.attr, None)
        return None

    # ------------------------------------------------------------ errors
    def error(self, scope: Scope, node: ast.AST, message: str, hint: str) -> SrcadError:
        return UnsupportedSyntaxError(message, hint, scope.source.location(node))


class _Operand(ast.expr):
    """An already-lowered value standing in an AST (used to build comparisons)."""

    _fields = ()

    def __init__(self, value: ir.Expr) -> None:
        super().__init__()
        self.value = value


class _Opaque(ast.expr):
    """Wraps a sub-expression that is lowered on its own, as an operand."""

    _fields = ()

    def __init__(self, node: ast.expr) -> None:
        super().__init__()
        self.node = node


def _differentiable_try(stmt: ast.Try) -> bool:
    """A ``try`` statement whose body srcad may lower as code (see
    :meth:`Lowerer.lower_try`): handlers, no ``finally``, and no ``return``, ``break``,
    ``continue``, ``yield`` or in-place write (the probe runs the body once more) in its
    body or ``else`` clause."""
    jumps = ast.Return | ast.Break | ast.Continue | ast.Yield | ast.YieldFrom | ast.Await
    nodes = [n for s in (*stmt.body, *stmt.orelse) for n in ast.walk(s)]
    return (
        bool(stmt.handlers)
        and not stmt.finalbody
        and not any(
            isinstance(n, jumps | ast.AugAssign)
            or (isinstance(n, ast.Subscript | ast.Attribute) and isinstance(n.ctx, ast.Store))
            for n in nodes
        )
    )


def _flagging(handler: ast.ExceptHandler, flag: str) -> ast.ExceptHandler:
    """``handler`` that first sets ``flag = True``."""
    mark = ast.Assign([ast.Name(flag, ast.Store())], ast.Constant(True))
    return ast.ExceptHandler(handler.type, handler.name, [mark, *handler.body])


def _constant_index(node: ast.Subscript) -> int | None:
    """The integer ``k`` of ``value[k]`` (``value[-1]`` too), read as a value, or None."""
    index = node.slice
    sign = 1
    if isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub):
        index, sign = index.operand, -1
    if (
        isinstance(node.ctx, ast.Load)
        and isinstance(index, ast.Constant)
        and type(index.value) is int
    ):
        return sign * index.value
    return None


#: Modules whose numbers (math.pi, np.e) never change: read as constants.
_CONSTANT_MODULES = (math, np)

_OUT_ELLIPSIS = ("out", ir.Const(Ellipsis))


def _writes_into_out(callee: Any) -> bool:
    """Whether ``callee`` follows numpy's convention for ``out=``: its result is written
    into that array (a ufunc, a ufunc's method such as ``multiply.accumulate``, a numpy
    function)."""
    if isinstance(callee, np.ufunc) or isinstance(getattr(callee, "__self__", None), np.ufunc):
        return True
    module = getattr(callee, "__module__", None) or ""
    return module == "numpy" or module.startswith("numpy.")


def _out_target(call: ast.Call) -> ast.Subscript | None:
    """``c[...]`` for a call ``f(..., out=c)`` (``c[i]`` for ``out=c[i]``), the items the
    call writes; None for none, or for ``out=`` with ``where=`` (the other items are
    kept) or a tuple of outputs."""
    given = {k.arg: k.value for k in call.keywords}
    out = given.get("out")
    if out is None or "where" in given:
        return None
    if isinstance(out, ast.Subscript):
        return ast.copy_location(ast.Subscript(out.value, out.slice, ast.Store()), out)
    if isinstance(out, ast.Name):
        whole = ast.copy_location(ast.Constant(Ellipsis), out)
        return ast.copy_location(ast.Subscript(out, whole, ast.Store()), out)
    return None


def _as_expr(value: Any) -> ir.Expr:
    """A result value as an expression (a tuple of results as a tuple display)."""
    if isinstance(value, TupleValue):
        return ir.Tuple(tuple(_as_expr(v) for v in value.items))
    return value


def _is_enumerate(lowerer: Lowerer, scope: Scope, node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call) and lowerer.static_object(scope, node.func) is builtins.enumerate
    )


def _is_method(rule: Rule) -> bool:
    """A rule for a method (``x.copy()``: a dict has one too)."""
    func = rule.pattern.func if isinstance(rule.pattern, ir.Call) else None
    return (
        isinstance(func, ir.Attr)
        and isinstance(func.value, ir.Name)
        and func.value.id not in rule.env
    )


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


_LOGGING_METHODS = frozenset(
    ("debug", "info", "warning", "error", "critical", "exception", "log")
)


def _kept_arguments(call: ast.Call, fn: ast.FunctionDef) -> list[tuple[str, ast.expr]]:
    """The parameters of ``fn`` that ``call`` passes an argument to (by position or by
    keyword, before any ``*`` spread) and that ``fn`` never assigns again."""
    positional = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
    before_spread = []
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            break
        before_spread.append(arg)
    given = [*zip(positional, before_spread), *((k.arg, k.value) for k in call.keywords)]
    stored = {
        n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    return [(param, arg) for param, arg in given if param is not None and param not in stored]


def _free_lookup(scope: Scope, func: ast.expr) -> Callable[[], Any] | None:
    """A cheap way to look the callee ``func`` up again (a gradient that inlined it
    checks it on every call): a global or closure name, or attributes of one. None for
    anything else, or for a name that ``scope`` binds itself."""
    chain: list[str] = []
    while isinstance(func, ast.Attribute):
        chain.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name) and func.id in scope.statics and not chain:
        return scope.statics[func.id].lookup  # a function passed in: the caller's lookup
    if not isinstance(func, ast.Name) or func.id in scope.local_names or scope.parent:
        return None
    name, source = func.id, scope.source
    head: Callable[[], Any]
    if name in source.closure:
        cell = source.closure[name]
        head = lambda: cell.cell_contents  # noqa: E731
    elif name in source.globals:
        head = functools.partial(source.globals.get, name)
    else:
        return None
    if not chain:
        return head
    attributes = operator.attrgetter(".".join(reversed(chain)))
    return lambda: attributes(head())


def _grows_list(node: ast.AST) -> bool:
    """``name.append(...)`` or ``name.extend(...)``."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("append", "extend")
        and isinstance(node.func.value, ast.Name)
    )


def _iterated_names(node: ast.expr) -> set[str]:
    """The variables a ``for`` loop runs over (``for x in xs``, also inside enumerate,
    zip and reversed)."""
    if isinstance(node, ast.Name):
        return {node.id}
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("enumerate", "zip", "reversed")
    ):
        return {name for arg in node.args for name in _iterated_names(arg)}
    return set()


def _excerpt(node: ast.AST, limit: int = 40) -> str:
    """The user's code of ``node``, shortened for a message."""
    text = ast.unparse(node)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_slice_read(value: ir.Expr) -> bool:
    return isinstance(value, ir.Subscript) and isinstance(value.index, ir.Slice)


def _scope_chain(scope: Scope) -> Iterator[Scope]:
    while scope is not None:
        yield scope
        scope = scope.parent


def _holds(value: Any, listed: Any) -> bool:
    """Does ``value`` hold the list ``listed`` (be it, or have it among its items)?"""
    if value is listed or (isinstance(listed, ir.Name) and value == listed):
        return True
    return isinstance(value, TupleValue) and any(_holds(v, listed) for v in value.items)


def _handed_on_reads(fn: ast.FunctionDef) -> frozenset[int]:
    """The ids of the ``Name`` reads in ``fn`` whose value another variable or list may
    then hold too: the value of an assignment (``ys = hs``, also through ``a if c else
    b`` and ``a or b``), an item of a display (``[hs, 1]``, ``for ys in [hs]``), the
    argument of ``.append``/``.insert`` (``.extend`` copies the items: a display's items
    are handed on as items of a display). srcad's own temporaries (a
    comprehension's list, :mod:`srcad.desugar`) are read once, so they hand nothing on."""
    temporaries = getattr(fn, "srcad_temporaries", frozenset())
    found: set[int] = set()

    def held(node: ast.expr) -> None:
        if isinstance(node, ast.Name) and node.id not in temporaries:
            found.add(id(node))
        elif isinstance(node, ast.IfExp):
            held(node.body)
            held(node.orelse)
        elif isinstance(node, ast.BoolOp):
            for value in node.values:
                held(value)
        elif isinstance(node, ast.NamedExpr):
            held(node.value)

    for node in ast.walk(fn):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            held(node.value)
        elif isinstance(node, ast.List | ast.Tuple) and isinstance(node.ctx, ast.Load):
            for element in node.elts:
                held(element)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("append", "insert")
        ):
            for arg in node.args[-1:]:
                held(arg)
    return frozenset(found)


def _prints(callee: Any) -> bool:
    """``print``, or a function of :mod:`logging` (``logging.info(...)``)."""
    return callee is builtins.print or (
        getattr(callee, "__module__", None) == "logging"
        and getattr(callee, "__name__", "") in _LOGGING_METHODS
    )


def _format_template(node: ast.JoinedStr) -> tuple[str, list[ast.expr]]:
    """``f"a {x:.3f} {y!r}"`` as ``("a {:.3f} {!r}", [x, y])``."""
    template, values = "", []
    for part in node.values:
        if isinstance(part, ast.Constant):
            template += str(part.value).replace("{", "{{").replace("}", "}}")
            continue
        assert isinstance(part, ast.FormattedValue)
        values.append(part.value)
        conversion = f"!{chr(part.conversion)}" if part.conversion != -1 else ""
        spec = ""
        if isinstance(part.format_spec, ast.JoinedStr):  # f"{x:{width}.3f}": str.format
            inner, nested = _format_template(part.format_spec)  # takes nested fields too,
            spec = ":" + inner  # numbered after the value they format
            values += nested
        template += "{" + conversion + spec + "}"
    return template, values


def _short(filename: str) -> str:
    return filename.rsplit("/", 1)[-1]


def lower(
    source: FunctionSource, table: RuleTable = TABLE, *, checked: bool = False
) -> ir.Function:
    """The forward listing of ``source`` (checked against the supported subset first,
    unless the caller already did: ``checked=True``)."""
    if not checked:
        check_supported(source)
    return Lowerer(source, table).lower_root()


__all__ = ["lower", "Location"]
