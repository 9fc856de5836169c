"""``with`` and ``try`` statements (see :mod:`srcad.contexts`)."""

from __future__ import annotations

import ast
from typing import Any

from .. import astwalk, contexts, ir, pycode
from ..errors import Location, SrcadError, UnsupportedSyntaxError
from ..frontend import in_library
from ..runtime import refuse
from .values import LoweringPart, ResultName, Scope


class WithTry(LoweringPart):
    """The lowerer's part for ``with`` and ``try`` statements (see the module)."""

    def lower_With(self, scope: Scope, stmt: ast.With, result_name: ResultName) -> Any:
        """``with manager(...) as name:``: the body lowered between an Enter and an Exit;
        returns the body's result when it ends in ``return`` (every path does then)."""
        for item in stmt.items:
            call, target = item.context_expr, item.optional_vars
            # (srcad.contexts.with_refusals: a call, bound to a name if to anything)
            assert isinstance(call, ast.Call)
            assert target is None or isinstance(target, ast.Name)
            if not contexts.is_safe(self.denote(scope, call.func).static):  # (a local name)
                known = ", ".join(contexts.SAFE_MANAGERS.values())
                raise self.error(
                    scope,
                    call,
                    "`with` is supported only for context managers that change neither "
                    f"values nor control flow ({known})",
                    contexts.UNSAFE_MANAGER_HINT,
                )
            args = tuple(self.lower_operand(scope, a) for a in call.args)
            kwargs = tuple(  # (srcad.subset refuses a `**` spread, which has no arg)
                (k.arg, self.lower_operand(scope, k.value))
                for k in call.keywords
                if k.arg is not None
            )
            manager = ir.Call(self.reference(scope, self.raw(call.func)), args, kwargs)
            name = self.variable_name(scope, target.id) if target is not None else None
            self.emit(ir.Enter(manager, name, self.next_tag(), scope.source.location(call)))
            if target is not None and name is not None:
                scope.env[target.id] = ir.Name(name)
        result = self.lower_statements(scope, stmt.body, result_name)
        for _ in stmt.items:
            self.emit(ir.Exit())
        return result

    def lower_Try(self, scope: Scope, stmt: ast.Try, result_name: ResultName) -> None:
        """A ``try`` statement, run as written by the forward pass (partial evaluation;
        ``result_name``: unused, srcad.subset refuses a `return` in it).

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
        """The probe (see :meth:`lower_Try`), the refusal when a handler runs (twice), then
        the ``try`` body and its ``else`` clause, lowered as code."""
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
        # A clause that ran once may have filled a cache the body reads (numpy's
        # ``iinfo._min_vals[key]``, missing on the first call of a process): the body
        # is differentiated when a second probe runs it through.
        again = self.names.fresh("handled")
        second = self.plain_try(scope, stmt, bind=False, flag=again)
        retry = ir.If(ir.Name(again), (refused,), (), tag=self.next_tag(), loc=probe.loc)
        self.emit(
            ir.If(ir.Name(handled), (second, retry), (), tag=self.next_tag(), loc=probe.loc)
        )
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
                new = self.variable_name(scope, user) if bind else self.names.fresh(f"{user}_probe")
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
        assert isinstance(renamed, ast.Try)  # (renaming keeps the statement's kind)
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


def _differentiable_try(stmt: ast.Try) -> bool:
    """A ``try`` statement whose body srcad may lower as code (see
    :meth:`Lowerer.lower_Try`): handlers, no ``finally``, and no ``return``, ``break``,
    ``continue``, ``yield`` or in-place write (the probe runs the body once more) in its
    body or ``else`` clause."""
    jumps = ast.Return | ast.Break | ast.Continue | ast.Yield | ast.YieldFrom | ast.Await
    nodes = [n for s in (*stmt.body, *stmt.orelse) for n in astwalk.walk(s)]
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
