"""Reverse: the adjoint (backward) function of a forward listing.

The forward listing is walked backwards; each active gate instantiates the adjoint
templates of its rule (``dx = y * g``), the first contribution to an adjoint being an
assignment and later ones ``+=``, exactly as in the seed's backprop listing. A branch
becomes the same branch in the backward pass; a loop becomes a loop running the
iterations in reverse. Values a loop overwrites and the backward pass reads are pushed
on a stack before they are overwritten and popped back in the backward pass. The result
is a literal, unoptimized listing; :mod:`srcad.optimize` cleans it up.
"""

from __future__ import annotations

import builtins
import numbers
from collections.abc import Callable, Collection
from dataclasses import replace
from typing import Any

import numpy as np

from . import ir
from .aliases import protect_aliases
from .analyze import (
    Activity,
    FloatGuards,
    fresh_calls,
    int_values,
    number_kinds,
)
from .diagnostics import no_rule_error, order_error
from .errors import NonScalarOutputError, SrcadError, raise_all
from .float_guard import ARRAY_VERSION, USER_FUNCTION, array_version_name, float_guard
from .list_chains import coalesced, items_replaced_in_place
from .memory import Memory, fresh_parameters
from .names import NameAllocator, bind
from .rules.numpy_grads import unbroadcast
from .rules.scalar import APPEND, FIELD
from .rules.table import COPY, SETITEM, Scatter
from .runtime import (
    add_at,
    assigned_items,
    fresh_arguments,
    fresh_copy,
    items_writable,
    list_to_pop,
    moved_item,
    part_copy,
    power_slope,
    power_slope_of_numbers,
    raising_as_the_function_does,
    require_separate_items,
    scalar_check,
    selected,
    selected_by_any,
    set_rows,
    snapshot,
    structured_like,
    with_item,
    with_numpy_floats,
    zeros_for_items,
    zeros_like,
)
from .tape import prune_saves

MODES = ("grad", "value_and_grad", "vjp")
_SUFFIX = {"grad": "_grad", "value_and_grad": "_value_and_grad", "vjp": "_vjp"}
#: Stands for ``ans`` while finding which values a backprop reads.
_ANS = "\0ans"
#: Attributes that read only an array's shape (never its values).
_SHAPE_ATTRIBUTES = frozenset(("shape", "ndim", "size", "dtype"))

#: the ``np.where`` selections that pick a value: (condition, picked side) pairs
Mask = tuple[tuple[ir.Expr, bool], ...]




class _Builder:
    def __init__(
        self,
        fn: ir.Function,
        activity: Activity,
        broadcast: bool,
        memory: Memory | None = None,
        guards: FloatGuards | None = None,
        scalars: Collection[str] | None = None,
    ) -> None:
        self.fn = fn
        self.activity = activity
        self.broadcast = broadcast
        #: in the float version: names that are Python numbers (their zero is 0.0); of
        #: the parameters, those checked to be numbers (not the lists of numbers)
        self.numbers: set[str] = set()
        #: in the float version: the names that are numbers when the parameters are
        self.scalars: set[str] = set()
        if guards is not None:  # (``scalars``: these, where the caller has them)
            self.scalars = (
                set(scalars) if scalars is not None else number_kinds(fn, guards.depths()).numbers
            )
            self.numbers = (self.scalars - set(fn.params)) | set(guards.numbers)
        self.names = NameAllocator(fn.names())
        self.bindings: dict[str, Any] = dict(fn.bindings)
        self.adjoints: dict[str, str] = {}  # forward name -> adjoint name
        self.primal: dict[str, str] = {}  # adjoint name -> forward name
        self.stack = self.names.fresh("stack")
        self.push = self.names.fresh("push")
        self.pop = self.names.fresh("pop")
        #: in the version for floats, ``xs[i] = v`` in a loop (a list the function made)
        #: replaces the item in place, and its backprop puts the old item back: O(1) per
        #: write, where a copy of the list per write was O(n) (see srcad.list_chains).
        #: id(write) -> the old item's name
        self.replaced: dict[int, str] = {}
        if not broadcast:
            body, self.replaced = items_replaced_in_place(
                coalesced(fn.body), self.names.fresh, numbers=self.numbers
            )
            self.fn = fn = fn.with_body(body)
        self.integer_names = int_values(fn)  # (loop counters, `i + 1`, `len(xs) - 1`)
        self.top_level = {s.target for s in fn.body if isinstance(s, ir.Assign)} - set(fn.params)
        self.problems: list[SrcadError] = []
        self.definitions = _definition_counts(fn.body)
        self.distinct_names = {
            s.target
            for s in ir.walk(fn.body)
            if isinstance(s, ir.Assign)
            and s.rule is not None
            and s.rule.distinct
            and self.definitions.get(s.target) == 1
        }
        self.shapes: dict[str, str] = {}
        self.memory = memory or Memory()
        #: forward values the backward pass reads after a later in-place write would
        #: change them: id(statement) -> {name: the name of its saved copy}
        self.saved: dict[int, tuple[dict[str, str], str | None]] = {}
        self.saved_after: set[int] = set()  # the statements that save a result
        #: shapes saved before a statement, for names an in-place operator may reshape
        self.saved_shapes: dict[int, dict[str, str]] = {}
        #: names whose shape an in-place operator may change (``y += w``, ``y`` a number)
        self.reshaped = {
            s.target
            for s in ir.walk(fn.body)
            if isinstance(s, ir.Assign) and s.in_place and isinstance(s.value, ir.BinOp)
        } | {
            s.value.left.id
            for s in ir.walk(fn.body)
            if isinstance(s, ir.Assign)
            and s.in_place
            and isinstance(s.value, ir.BinOp)
            and isinstance(s.value.left, ir.Name)  # (``y op= w``: always a name)
        }
        self.plan_snapshots()
        self.masks = self.selection_masks()
        #: adjoints made by zeros_for_items: items can be added into them already
        self.item_ready: set[str] = set()
        #: in the version for floats, ``xs.append(v)`` in a loop grows the list in place,
        #: and its backprop pops what it added (from the list, and from its adjoint): O(1)
        #: per append, where a copy of the list per iteration was O(n)
        self.grown: set[int] = set() if broadcast else _appends_in_loops(fn.body)
        #: names a loop binds anew (a loop saves and restores references to them)
        self.rebound_in_loops = {
            s.target
            for loop in ir.walk(fn.body) if isinstance(loop, ir.Loop)
            for s in ir.walk(loop.body)
            if isinstance(s, ir.Assign) and s.rebinds and id(s) not in self.grown
        } if self.grown else set()

    # ---------------------------------------------------------------- names
    def adjoint(self, name: str) -> str:
        if name not in self.adjoints:
            self.adjoints[name] = self.names.adjoint(name)
            self.primal[self.adjoints[name]] = name
        return self.adjoints[name]

    def bind(self, preferred: str, obj: Any) -> str:
        """A name for ``obj`` in the generated code (see :func:`srcad.names.bind`)."""
        return bind(self.names, self.bindings, self.fn.free_objects, preferred, obj)

    def call(self, preferred: str, obj: Any, *args: ir.Expr) -> ir.Expr:
        return ir.Call(ir.Name(self.bind(preferred, obj)), args)

    def zero_fill(self, adjoint: str) -> ir.Adjoint:
        """``dx = zeros_like(x)``: an adjoint that gets no contribution on some path."""
        return ir.Adjoint(adjoint, self.zero_of(self.primal[adjoint]))

    def zero_of(self, name: str, for_items: bool = False) -> ir.Expr:
        """The zero gradient of ``name``: ``0.0`` for a Python number, else
        ``zeros_like(name)`` (``for_items``: ``zeros_for_items(name)``, which items of
        it are added into, see :func:`srcad.runtime.zeros_for_items`)."""
        if name in self.numbers:
            return ir.Const(0.0)
        if for_items:
            return self.call("zeros_for_items", zeros_for_items, ir.Name(name))
        return self.call("zeros_like", zeros_like, ir.Name(name))

    # ---------------------------------------------------------------- contributions
    def contribute(self, name: str, value: ir.Expr, written: set[str], tag: int) -> ir.Adjoint:
        adjoint = self.adjoint(name)
        first = adjoint not in written
        written.add(adjoint)
        return ir.Adjoint(adjoint, value, accumulate=not first, tag=tag)

    def instantiate(self, stmt: ir.Assign, template: ir.Expr, g: ir.Expr, ans: ir.Expr) -> ir.Expr:
        rule = stmt.rule
        assert rule is not None  # (only gates with a rule have adjoint templates)
        before, after = self.saved.get(id(stmt), ({}, None))
        rename = {n: ir.Name(saved) for n, saved in before.items()}
        mapping: dict[str, ir.Expr] = {
            p: ir.substitute(o, rename) for p, o in zip(rule.params, stmt.operands)
        }
        mapping["g"] = g
        mapping["ans"] = ans if after is None else ir.Name(after)
        for free in dict.fromkeys(n for n in ir.names_in(template) if n not in mapping):
            mapping[free] = ir.Name(self.bind(free, rule.env[free]))
        return ir.substitute(template, mapping)

    # ---------------------------------------------------------------- np.where
    def selection_masks(self) -> dict[str, Mask]:
        """Values whose gradient only comes through one side of an ``np.where`` (directly
        or through elementwise gates): ``np.where(d > 0, np.sqrt(d), 0.0)``. Their local
        gradients are taken where that side is picked only, so that an infinite local
        derivative where it is not picked (``sqrt`` at 0) gives 0, not ``0 * inf``.

        Returns name -> the (condition, picked side) pairs of the ``np.where`` that pick
        it (several: its gradient is where any picks it). Only within one loop iteration."""
        if not any(
            isinstance(s, ir.Assign) and s.rule is not None and s.rule.selector is not None
            for s in ir.walk(self.fn.body)
        ):  # (masks start at a selection only: without one, none to find)
            return {}
        loops: dict[int, tuple[int, ...]] = {}
        #: the blocks around each statement (a branch of an ``if``, a loop's body), outermost
        #: first: a condition bound in a branch is not there after the join
        blocks: dict[int, tuple[tuple[int, int], ...]] = {}

        def nesting(
            body: tuple[ir.Stmt, ...], around: tuple[int, ...], inside: tuple[tuple[int, int], ...]
        ) -> None:
            for stmt in body:
                loops[id(stmt)], blocks[id(stmt)] = around, inside
                inner = (*around, id(stmt)) if isinstance(stmt, ir.Loop) else around
                for k, block in enumerate(ir.blocks_of(stmt)):
                    nesting(block, inner, (*inside, (id(stmt), k)))

        nesting(self.fn.body, (), ())
        useful = self.gradient_carriers()
        uses: dict[str, list[tuple[ir.Assign, str]]] = {}
        made: dict[str, list[ir.Assign]] = {}
        for stmt in ir.walk(self.fn.body):
            if not isinstance(stmt, ir.Assign) or stmt.rule is None or _placeholder(stmt):
                continue
            made.setdefault(stmt.target, []).append(stmt)
            if stmt.target not in useful:  # (np.isnan(z * 2) reads z, but sends nothing back)
                continue
            for param, operand in zip(stmt.rule.params, stmt.operands):
                if isinstance(operand, ir.Name) and stmt.rule.adjoint_for(param) is not None:
                    uses.setdefault(operand.id, []).append((stmt, param))
        carried = {n for s in ir.walk(self.fn.body) if isinstance(s, ir.Loop) for n in s.carried}
        order = {id(s): k for k, s in enumerate(ir.walk(self.fn.body))}
        masks: dict[str, Mask] = {}
        #: every statement that binds each name (a condition may be any value: a
        #: comparison, np.eye(n, dtype=bool), a parameter, a global)
        binders: dict[str, list[ir.Stmt]] = {}
        for stmt in ir.walk(self.fn.body):
            if _placeholder(stmt):  # (`t = None` on the path of an early return: unread)
                continue
            for target in ir.targets_of(stmt):
                binders.setdefault(target, []).append(stmt)

        def in_time(name: str, mask: Mask) -> bool:
            """In a loop the backward pass restores a condition when it reaches the
            condition's own line: a value made before that line cannot read it. And a
            condition bound in a branch the value is not made in is not bound where the
            value's backprop runs when the other branch ran (``np.where(zero, ...)`` in
            the ``if`` and ``np.where(zero_1, ...)`` in the ``else`` of one value)."""
            def there(condition: ir.Expr) -> bool:
                if not isinstance(condition, ir.Name) or condition.id not in binders:
                    return True  # (a parameter or a global: the same all along)
                bound_in = blocks[id(binders[condition.id][0])]
                return blocks[id(made[name][0])][: len(bound_in)] == bound_in and (
                    not loops[id(made[name][0])]
                    or order[id(binders[condition.id][0])] < order[id(made[name][0])]
                )

            return all(there(condition) for condition, _ in mask)

        def mask_through(stmt: ir.Assign, param: str) -> Mask | None:
            rule = stmt.rule
            assert rule is not None  # (``uses`` holds gates with a rule only)
            if rule.selector is not None:
                at = rule.params.index(rule.selector)
                condition = stmt.operands[at]
                if not isinstance(condition, ir.Name):
                    return None
                defined = binders.get(condition.id, [])
                if condition.id in self.fn.params + self.fn.kwonly and defined:
                    return None  # (a parameter given a new value)
                if defined and (len(defined) != 1 or loops[id(defined[0])] != loops[id(stmt)]):
                    return None
                return ((condition, rule.params.index(param) == at + 1),)
            return masks.get(stmt.target) if rule.elementwise else None

        changed = True
        while changed:
            changed = False
            for name, sites in uses.items():
                if name in masks or name in carried or len(made.get(name, [])) != 1:
                    continue
                where = loops[id(made[name][0])]
                found = dict.fromkeys(mask_through(stmt, param) for stmt, param in sites)
                if None in found or not all(loops[id(stmt)] == where for stmt, _ in sites):
                    continue
                # (each use sends gradient only where its side is picked: the value's own
                # gradient only where one of them is, np.nansum(r) + np.nansum(r * r))
                union = tuple(
                    dict.fromkeys(pair for mask in found if mask is not None for pair in mask)
                )
                if in_time(name, union):
                    masks[name] = union
                    changed = True
        return masks

    def gradient_carriers(self) -> set[str]:
        """Names a gradient can reach: the result, and what the statements that make such
        names send gradient to (a fixed point, for loops and joins). A value that only a
        mask is made from (``np.isnan(t)``) carries none."""
        stmts = [s for s in ir.walk(self.fn.body) if not ir.blocks_of(s)]
        carriers = {n for s in stmts if isinstance(s, ir.Return) for n in ir.reads_of(s)}
        # (last statement first: gradient flows backward, so straight-line code settles
        # in one sweep, and loops and joins in a few)
        edges = [(set(ir.targets_of(s)), _gradient_sources(s)) for s in reversed(stmts)]
        changed = True
        while changed:
            changed = False
            for targets, sources in edges:
                if not sources <= carriers and not carriers.isdisjoint(targets):
                    carriers |= sources
                    changed = True
        return carriers

    # ---------------------------------------------------------------- saved copies
    def value_reads(self, stmt: ir.Assign) -> tuple[set[str], bool]:
        """Forward names whose values (not only shapes) the backprop of ``stmt`` reads as
        operands, and whether it reads the result's value (``ans``)."""
        rule = stmt.rule
        assert rule is not None  # (called for gates with a rule only)
        found: set[str] = set()
        mapping: dict[str, ir.Expr] = dict(zip(rule.params, stmt.operands))
        mapping["ans"] = ir.Name(_ANS)
        mapping["g"] = ir.Const(0.0)  # (the incoming gradient: not a forward value)
        for param, operand in zip(rule.params, stmt.operands):
            template = rule.adjoint_for(param)
            if template is None or not (
                isinstance(operand, ir.Name) and self.activity.is_active(operand.id)
            ):
                continue
            if isinstance(template, Scatter):
                found.update(ir.names_in(mapping[template.index]))
                continue
            if not isinstance(template, ir.Expr):
                continue
            env = {n: rule.env.get(n) for n in ir.names_in(template) if n not in mapping}
            value = ir.substitute(template, {**mapping, **{n: ir.Name(n) for n in env}})
            found.update(self.value_names(value, env))
        return found - {_ANS}, _ANS in found

    def value_names(self, expr: ir.Expr, env: dict[str, Any]) -> set[str]:
        """Names ``expr`` reads for their values: not an argument a helper declares it
        reads only the shape of (``unbroadcast(g, x)``), nor ``x.shape``/``x.ndim``."""
        if isinstance(expr, ir.Name):
            return {expr.id}
        if isinstance(expr, ir.Attr) and expr.attr in _SHAPE_ATTRIBUTES:
            return set()
        if isinstance(expr, ir.Call):
            helper = expr.func.id if isinstance(expr.func, ir.Name) else None
            obj = env.get(helper, self.bindings.get(helper)) if helper else None
            skip: Collection[int] = getattr(obj, "__srcad_shape_args__", frozenset())
            found = self.value_names(expr.func, env)
            for position, arg in enumerate(expr.args):
                if position not in skip:
                    found |= self.value_names(arg, env)
            for _, arg in expr.kwargs:
                found |= self.value_names(arg, env)
            return found
        found = set()
        for child in ir.children(expr):
            found |= self.value_names(child, env)
        return found

    def plan_snapshots(self) -> None:
        """Decide which forward values to save as they are when read: those the backward
        pass reads and an in-place write may change afterwards (``t = z[1:] * w`` then
        ``z[1:] = 0.0``: the gradient of ``w`` needs the old ``z[1:]``)."""
        if not self.memory.writes:
            return
        for stmt in ir.walk(self.fn.body):
            if not (
                isinstance(stmt, ir.Assign)
                and stmt.rule is not None
                and not (stmt.in_place and stmt.rule.in_place)
                and self.activity.is_active(stmt.target)
            ):
                continue
            operands, reads_ans = self.value_reads(stmt)
            before = {
                name: self.names.fresh(f"{name}_saved")
                for name in sorted(operands)
                if self.memory.overwritten_after(stmt, name, including=stmt.in_place)
            }
            after = None
            if reads_ans and self.memory.overwritten_after(stmt, stmt.target):
                after = self.names.fresh(f"{stmt.target}_saved")
            if before or after:
                self.saved[id(stmt)] = (before, after)
            if self.broadcast and stmt.rule.broadcasting:  # shapes a later y += w may change
                shapes = {
                    o.id: self.names.fresh(f"{o.id}_shape")
                    for o in stmt.operands
                    if isinstance(o, ir.Name)
                    and self.memory.overwritten_after(
                        stmt, o.id, including=stmt.in_place, reshaping=True
                    )
                }
                if shapes:
                    self.saved_shapes[id(stmt)] = shapes

    def with_snapshots(self, body: tuple[ir.Stmt, ...]) -> tuple[ir.Stmt, ...]:
        """``body`` with ``x_saved = snapshot(x)`` where :meth:`plan_snapshots` decided:
        before the statement for its operands, after it for its result."""
        if not self.saved and not self.saved_shapes:
            return body
        copy = ir.Name(self.bind("snapshot", snapshot))
        out: list[ir.Stmt] = []
        for stmt in body:
            if isinstance(stmt, ir.If | ir.Loop):
                stmt = ir.with_blocks(stmt, [self.with_snapshots(b) for b in ir.blocks_of(stmt)])
            if not isinstance(stmt, ir.Assign):  # (only forward gates save values)
                out.append(stmt)
                continue
            before, after = self.saved.get(id(stmt), ({}, None))
            for name, saved in before.items():  # (a Python number of the float version is
                kept = ir.Name(name) if name in self.scalars else ir.Call(copy, (ir.Name(name),))
                out.append(ir.Assign(saved, kept, tag=stmt.tag))  # kept as it is)
            for name, saved in self.saved_shapes.get(id(stmt), {}).items():
                shape = ir.Attr(ir.Name(self.bind("np", np)), "shape")
                out.append(ir.Assign(saved, ir.Call(shape, (ir.Name(name),)), tag=stmt.tag))
            out.append(stmt)
            if after is not None:  # (restored after the statement's backprop, which reads it)
                saved_after = ir.Assign(after, ir.Call(copy, (ir.Name(stmt.target),)), tag=stmt.tag)
                self.saved_after.add(id(saved_after))
                out.append(saved_after)
        return tuple(out)

    def rebinds(self, stmt: ir.Assign) -> bool:
        """Whether a loop saves and restores the name ``stmt`` binds: where it always
        binds, and where ``k += 1`` may bind an inactive number anew (an active value
        changed in place is saved by the snapshots its backprop reads)."""
        return stmt.rebinds or (stmt.may_rebind and not self.activity.is_active(stmt.target))

    # ---------------------------------------------------------------- forward copy
    def forward_block(self, stmts: tuple[ir.Stmt, ...], depth: int) -> list[ir.Stmt]:
        """The forward statements, with a push before every value a loop overwrites."""
        out: list[ir.Stmt] = []
        for stmt in stmts:
            if isinstance(stmt, ir.Assign) and id(stmt) in self.grown:  # (appended in place)
                out.append(_list_method(stmt, "append", stmt.operands[1]))
                continue
            if isinstance(stmt, ir.Assign) and depth > 0 and self.rebinds(stmt):
                out.append(ir.Push(stmt.target, self.push))
            if isinstance(stmt, ir.Enter | ir.Python) and depth > 0:  # (names they bind)
                out += [ir.Push(name, self.push) for name in ir.targets_of(stmt)]
            if isinstance(stmt, ir.If):
                stmt = ir.with_blocks(
                    stmt, [self.forward_block(b, depth) for b in ir.blocks_of(stmt)]
                )
            elif isinstance(stmt, ir.Loop):
                if depth > 0:
                    out += [ir.Push(n, self.push) for n in _loop_state(stmt)]
                stmt = ir.with_blocks(
                    stmt, [self.forward_block(b, depth + 1) for b in ir.blocks_of(stmt)]
                )
            out.append(stmt)
        return out

    # ---------------------------------------------------------------- backward
    def reverse_block(
        self, stmts: tuple[ir.Stmt, ...], written: set[str], depth: int
    ) -> list[ir.Stmt]:
        """Backward statements for ``stmts``; ``written`` (adjoints holding a value) is updated."""
        out: list[ir.Stmt] = []
        deferred: list[ir.Stmt] = []  # the restore of a copy saved right after a statement
        for position in reversed(range(len(stmts))):
            stmt = stmts[position]
            if isinstance(stmt, ir.Exit):  # the body's backward pass in the same context
                out += reentered(stmts, position)
            elif isinstance(stmt, ir.Enter | ir.Python):
                if isinstance(stmt, ir.Enter):
                    out.append(ir.Exit(stmt.tag))
                if depth > 0:
                    out += [ir.Pop(name, self.pop) for name in reversed(ir.targets_of(stmt))]
            elif isinstance(stmt, ir.Assign) and id(stmt) in self.saved_after:
                deferred = self.reverse_assign(stmt, written, depth)
            elif isinstance(stmt, ir.Assign):
                out += _restores_in_stack_order(
                    self.reverse_assign(stmt, written, depth), stmt.target, deferred,
                    self.names.fresh,
                )
                deferred = []
            elif isinstance(stmt, ir.If):
                out += self.reverse_if(stmt, written, depth)
            elif isinstance(stmt, ir.Loop):
                out += self.reverse_loop(stmt, written, depth)
        return ir.without_empty_contexts(out)

    def reverse_append(self, stmt: ir.Assign, written: set[str]) -> list[ir.Stmt]:
        """The backprop of ``path.append(y)`` grown in place (see :func:`_appends_in_loops`):
        ``y`` gets the last item of ``path``'s adjoint, which is then popped; ``path`` gets
        its old value back by a pop too, where anything reads it again."""
        # (kept whatever reads the list when a loop saves and restores a reference to it:
        # the reference shows the content as the pops leave it)
        restored = stmt.target in self.rebound_in_loops
        restore: list[ir.Stmt] = [replace(_list_method(stmt, "pop"), private=not restored)]
        adjoint = self.adjoint(stmt.target)
        if not (self.activity.is_active(stmt.target) and adjoint in written):
            return restore
        appending = _list_method(stmt, "append", stmt.operands[1])
        out: list[ir.Stmt] = [ir.Backprop(appending)]  # (the forward line as it runs)
        value = stmt.operands[1]
        if isinstance(value, ir.Name) and self.activity.is_active(value.id):
            last = ir.Subscript(ir.Name(adjoint), ir.Const(-1))
            out.append(self.contribute(value.id, last, written, stmt.tag))
        out.append(ir.Effect(ir.Call(ir.Attr(ir.Name(adjoint), "pop")), tag=stmt.tag))
        return out + restore

    def reverse_replace(self, stmt: ir.Assign, written: set[str]) -> list[ir.Stmt]:
        """The backprop of ``xs[i] = v`` replaced in place (see
        :func:`srcad.list_chains.items_replaced_in_place`): ``v`` gets the item's
        adjoint, which is then zero in the old item's structure; the old item goes back
        into the list."""
        if len(stmt.operands) == 4:
            return self.reverse_row_replace(stmt, written)
        container, index, value = stmt.operands
        old = ir.Name(self.replaced[id(stmt)])
        put_back = replace(stmt, operands=(container, index, old))
        adjoint = self.adjoint(stmt.target)
        if not (self.activity.is_active(stmt.target) and adjoint in written):
            return [put_back]
        out: list[ir.Stmt] = [ir.Backprop(stmt)]
        if isinstance(value, ir.Name) and self.activity.is_active(value.id):
            item: ir.Expr = ir.Subscript(ir.Name(adjoint), index)
            if value.id not in self.numbers:  # (a row: taken out of the list's adjoint,
                # which then needs no copy for the replacement below, see moved_item)
                item = self.call("moved_item", moved_item, ir.Name(adjoint), index)
            out.append(self.contribute(value.id, item, written, stmt.tag))
        zero = self.call("zeros_like", zeros_like, old)
        out.append(ir.AdjointItem(adjoint, index, zero, tag=stmt.tag, assign=True))
        return [*out, put_back]

    def reverse_row_replace(self, stmt: ir.Assign, written: set[str]) -> list[ir.Stmt]:
        """The backprop of ``R[i][j] = v`` written into the row in place (a number, see
        :func:`srcad.list_chains.items_replaced_in_place`): ``v`` gets ``dR[i][j]``,
        which is then zero, in a new row (``dR[i] = with_item(dR[i], j, 0.0)``: the
        optimiser zeroes the item in place where ``dR`` has its own rows); the old item
        goes back into the row."""
        container, index, row_index, value = stmt.operands
        old = ir.Name(self.replaced[id(stmt)])
        put_back = replace(stmt, operands=(container, index, row_index, old))
        adjoint = self.adjoint(stmt.target)
        if not (self.activity.is_active(stmt.target) and adjoint in written):
            return [put_back]
        out: list[ir.Stmt] = [ir.Backprop(stmt)]
        row = ir.Subscript(ir.Name(adjoint), index)
        if isinstance(value, ir.Name) and self.activity.is_active(value.id):
            item = ir.Subscript(row, row_index)
            out.append(self.contribute(value.id, item, written, stmt.tag))
        zeroed = self.call("with_item", with_item, row, row_index, ir.Const(0.0))
        out.append(ir.AdjointItem(adjoint, index, zeroed, tag=stmt.tag, assign=True))
        return [*out, put_back]

    def reverse_assign(self, stmt: ir.Assign, written: set[str], depth: int) -> list[ir.Stmt]:
        if id(stmt) in self.grown:
            return self.reverse_append(stmt, written)
        if id(stmt) in self.replaced:
            return self.reverse_replace(stmt, written)
        active = self.activity.is_active(stmt.target)
        adjoint = self.adjoint(stmt.target) if active else None
        restore: list[ir.Stmt] = (
            [ir.Pop(stmt.target, self.pop)] if depth > 0 and self.rebinds(stmt) else []
        )
        if not (active and adjoint in written):
            return restore
        if stmt.rule is None:
            if self.activity.by_name_only(stmt):
                return restore  # (`u = rng.random(n); u *= a`: no derivative)
            self.problems.append(no_rule_error(stmt, self.fn))  # all of them are reported together
            return restore
        out: list[ir.Stmt] = []
        g: ir.Expr = ir.Name(adjoint)
        ans: ir.Expr = ir.Name(stmt.target)
        if stmt.in_place and stmt.rule.in_place:  # out[i] = v: the adjoint changes in place
            return [ir.Backprop(stmt), *self.reverse_item_write(stmt, g, written), *restore]
        written.discard(adjoint)  # contributions from here on are to the value before
        if any(isinstance(o, ir.Name) and o.id == stmt.target for o in stmt.operands):
            # x = f(x) (in a loop, or in place): keep the incoming gradient and the new
            # value apart, then restore the old value that the local gradients read
            held = self.names.fresh(adjoint)
            out.append(ir.Adjoint(held, g, tag=stmt.tag))
            g = ir.Name(held)
            if any(
                isinstance(t, ir.Expr) and "ans" in ir.names_in(t)
                for t in stmt.rule.adjoints
            ):
                new_value = self.names.fresh(stmt.target + "_new")
                out.append(ir.Adjoint(new_value, ans, tag=stmt.tag))
                ans = ir.Name(new_value)
            out += restore
            restore = []
        parts = self.together(stmt, g, ans, out)
        for param, operand in zip(stmt.rule.params, stmt.operands):
            template = stmt.rule.adjoint_for(param)
            if not isinstance(operand, ir.Name):
                continue
            if template is None:
                if param in stmt.rule.orders and operand.id in self.activity.varied:
                    self.problems.append(order_error(stmt, param, self.fn))
                continue
            reason = self.activity.cut.get((stmt.target, operand.id))
            if reason is not None and operand.id in self.activity.varied:
                out.append(ir.Comment(reason))
            if not self.activity.is_active(operand.id):
                continue
            if isinstance(template, Scatter):
                target = self.adjoint(operand.id)
                fresh = target not in written
                index = stmt.operands[stmt.rule.params.index(template.index)]
                if fresh:
                    zero = self.zero_of(operand.id, for_items=_indexes_a_number(index))
                    out.append(ir.Adjoint(target, zero))
                    written.add(target)
                    self.item_ready.add(target)
                elif (
                    target not in self.item_ready
                    and operand.id not in self.numbers
                    and _indexes_a_number(index)
                ):
                    # (a numpy number's adjoint is a number until an item is read of it)
                    writable = self.call("items_writable", items_writable, ir.Name(target))
                    out.append(ir.Adjoint(target, writable))
                if self.basic_index(index):
                    via = None
                    index, g = _without_new_axes(index, g)
                elif fresh and self.has_distinct_part(index):
                    via = self.bind("set_rows", set_rows)
                else:
                    via = self.bind("add_at", add_at)
                out.append(ir.AdjointItem(target, index, g, tag=stmt.tag, via=via))
            else:
                # (Zeroed: only in item-write rules, whose gates are handled above)
                assert isinstance(template, ir.Expr)
                value = (
                    self.instantiate(stmt, template, g, ans)
                    if parts is None
                    else ir.Subscript(parts, ir.Const(stmt.rule.params.index(param)))
                )
                mask = self.masks.get(stmt.target) if stmt.rule.elementwise else None
                if mask is not None and len(mask) == 1:  # np.where picks this value where
                    ((condition, picked),) = mask  # `mask` holds
                    extra = () if picked else (ir.Const(False),)
                    value = self.call("selected", selected, condition, value, *extra)
                elif mask is not None:  # (several np.where: where any of them picks it)
                    pairs = [part for c, p in mask for part in (c, ir.Const(p))]
                    value = self.call("selected_by_any", selected_by_any, value, *pairs)
                if (
                    self.broadcast
                    and stmt.rule.broadcasting
                    and any(_may_have_shape(o) for o in stmt.operands if o is not operand)
                ):
                    value = self.call(
                        "unbroadcast", unbroadcast, value, self.shape_of(operand, stmt)
                    )
                out.append(self.contribute(operand.id, value, written, stmt.tag))
        if not out:
            return restore
        return [ir.Backprop(stmt), *out, *restore]

    def together(
        self, stmt: ir.Assign, g: ir.Expr, ans: ir.Expr, out: list[ir.Stmt]
    ) -> ir.Name | None:
        """For a rule whose adjoints come from one call (``Rule.together``) and more than
        one active operand: that call, once, into a name of its own (appended to ``out``)."""
        rule = stmt.rule
        assert rule is not None
        if rule.together is None:
            return None
        active = [
            o for p, o in zip(rule.params, stmt.operands)
            if rule.adjoint_for(p) is not None
            and isinstance(o, ir.Name)
            and self.activity.is_active(o.id)
        ]
        if len(active) < 2:
            return None
        parts = self.names.fresh(self.adjoint(stmt.target) + "_parts")
        out.append(ir.Adjoint(parts, self.instantiate(stmt, rule.together, g, ans), tag=stmt.tag))
        return ir.Name(parts)

    def reverse_item_write(
        self, stmt: ir.Assign, g: ir.Expr, written: set[str], arrayed: bool = False
    ) -> list[ir.Stmt]:
        """``out[i] = v``: ``v`` gets ``g[i]``, then those items of ``g`` are cleared (the
        old items were overwritten). ``out[i] += v`` keeps them. Where a fancy index
        repeats a position, numpy keeps the last write, so only that item of ``v``
        gets the gradient (:func:`srcad.runtime.assigned_items`)."""
        container, index, value = stmt.operands
        assert stmt.rule is not None and isinstance(container, ir.Name)  # (see store_item)
        clears = stmt.rule.adjoint_for("x") is not None
        out: list[ir.Stmt] = []
        if self.broadcast and not arrayed and index in (ir.Const(Ellipsis), ir.Tuple(())):
            # a 0-d array (acc[...] = v), whose adjoint may have come as a number
            # (float(acc)): an array of its own to index and clear
            held = self.adjoint(container.id)
            array = ir.Attr(ir.Name(self.bind("np", np)), "array")
            made = ir.Adjoint(held, ir.Call(array, (g,)), tag=stmt.tag)
            return [made, *self.reverse_item_write(stmt, ir.Name(held), written, arrayed=True)]
        contribution: list[ir.Stmt] = []
        if isinstance(value, ir.Name) and self.activity.is_active(value.id):
            if self.basic_index(index) or stmt.rule.repeats_add:
                part: ir.Expr = ir.Subscript(g, index)
                if clears and self.broadcast:  # those items are cleared next: take a copy
                    # (of an array's view; an item of a list adjoint, a float too, is kept)
                    part = self.call("part_copy", part_copy, part)
            else:
                part = self.call("assigned_items", assigned_items, g, index)
            if self.broadcast:
                part = self.call("unbroadcast", unbroadcast, part, value)
            if clears and value.id == container.id:  # z[:] = z: read g before clearing it
                held = self.names.fresh(f"d{value.id}_item")
                out.append(ir.Adjoint(held, part, tag=stmt.tag))
                part = ir.Name(held)
            contribution.append(self.contribute(value.id, part, written, stmt.tag))
        if clears:
            zero = ir.AdjointItem(
                self.adjoint(container.id), index, ir.Const(0.0), tag=stmt.tag, zero=True
            )
            if out:  # (the value's part was held: clear first, then add it)
                return [*out, zero, *contribution]
            return [*contribution, zero]
        return contribution

    def reverse_if(self, stmt: ir.If, written: set[str], depth: int) -> list[ir.Stmt]:
        then_written, else_written = set(written), set(written)
        body = self.reverse_block(stmt.body, then_written, depth)
        orelse = self.reverse_block(stmt.orelse, else_written, depth)
        # an adjoint written on one path only is zero on the other; adjoints of values made
        # inside the branches are finished there (nothing before the `if` reads them)
        inside = _definition_counts([stmt])
        local = {
            self.adjoints[n]
            for n, count in inside.items()
            if n in self.adjoints
            and self.definitions.get(n) == count
            and n not in self.fn.params + self.fn.kwonly  # (`y = y_1` in memory's lines)
        }
        body += [self.zero_fill(a) for a in sorted(else_written - then_written - local)]
        orelse += [self.zero_fill(a) for a in sorted(then_written - else_written - local)]
        # what holds a value after the `if`: what either path left written (an adjoint a
        # path consumed -- `y = ...` inside a loop -- is zero-filled on that path above)
        written.clear()
        written.update((then_written | else_written) - local)
        if not body and not orelse:
            return []
        return [ir.If(stmt.test, tuple(body), tuple(orelse), stmt.tag, stmt.loc)]

    def reverse_loop(self, loop: ir.Loop, written: set[str], depth: int) -> list[ir.Stmt]:
        defined = ir.redefined_in(loop.body) | ir.redefined_in(loop.test)
        flowing = {n for n in self.contributed(loop.body) if n not in defined}
        flowing |= {n for n in loop.carried if self.activity.is_active(n)}
        out: list[ir.Stmt] = []
        for name in sorted(flowing):  # adjoints that live across iterations start at zero
            adjoint = self.adjoint(name)
            if adjoint not in written:
                out.append(self.zero_fill(adjoint))
                written.add(adjoint)
        for name in sorted(self.grown_in(loop)):  # (popped in place: a list of its own)
            adjoint = self.adjoint(name)
            if adjoint in written:
                pop_from = self.call("list_to_pop", list_to_pop, ir.Name(adjoint))
                out.append(ir.Adjoint(adjoint, pop_from))
        inner = set(written)
        body = self.reverse_block(loop.body, inner, depth + 1)
        body += [
            self.zero_fill(self.adjoint(n)) for n in sorted(flowing) if self.adjoint(n) not in inner
        ]
        written.update(inner)
        if body:
            out.append(self.backward_loop(loop, tuple(body)))
        if depth > 0:
            out += [ir.Pop(n, self.pop) for n in reversed(_loop_state(loop))]
        return out

    def grown_in(self, loop: ir.Loop) -> set[str]:
        """The lists ``loop`` grows in place (see :func:`_appends_in_loops`)."""
        return {
            s.target for s in ir.walk(loop.body) if isinstance(s, ir.Assign) and id(s) in self.grown
        }

    def shape_of(self, operand: ir.Name, stmt: ir.Assign | None = None) -> ir.Expr:
        """What ``unbroadcast`` needs of a forward value: its shape, recorded right after the
        value is made (so the value itself can be freed), or the value for parameters and
        values made (or made again) inside loops, whose shape may change; or, where an
        in-place operator may change it later, the shape saved as ``stmt`` read it."""
        saved = self.saved_shapes.get(id(stmt), {}).get(operand.id)
        if saved is not None:
            return ir.Name(saved)
        if (
            operand.id not in self.top_level
            or self.definitions.get(operand.id) != 1
            or operand.id in self.reshaped
        ):
            return operand
        if operand.id not in self.shapes:
            self.shapes[operand.id] = self.names.fresh(f"{operand.id}_shape")
        return ir.Name(self.shapes[operand.id])

    def record_shapes(self, body: list[ir.Stmt]) -> list[ir.Stmt]:
        """``t1_shape = np.shape(t1)`` after each top-level value whose shape is used."""
        out: list[ir.Stmt] = []
        shape = self.bind("np", np)
        for stmt in body:
            out.append(stmt)
            if isinstance(stmt, ir.Assign) and stmt.target in self.shapes:
                out.append(
                    ir.Assign(
                        self.shapes[stmt.target],
                        ir.Call(ir.Attr(ir.Name(shape), "shape"), (ir.Name(stmt.target),)),
                        tag=0,
                    )
                )
        return out

    def has_distinct_part(self, index: ir.Expr) -> bool:
        """A tuple index one of whose parts is a ``np.arange`` (see :func:`set_rows`)."""
        return isinstance(index, ir.Tuple) and any(
            isinstance(part, ir.Name) and part.id in self.distinct_names for part in index.elts
        )

    def basic_index(self, index: ir.Expr) -> bool:
        """An index that selects each element at most once (ints, slices, loop counters)."""
        if isinstance(index, ir.Const):
            return isinstance(index.value, int) or index.value in (None, Ellipsis)
        if isinstance(index, ir.Slice):
            return True
        if isinstance(index, ir.Tuple):
            return all(self.basic_index(e) for e in index.elts)
        return isinstance(index, ir.Name) and index.id in self.integer_names

    def backward_loop(self, loop: ir.Loop, body: tuple[ir.Stmt, ...]) -> ir.Loop:
        """The loop header that runs the forward loop's iterations in reverse order."""
        if loop.iterable is not None:
            iterations = loop.iterable
            if loop.counter is not None:
                iterations = ir.Subscript(iterations, ir.Slice(None, ir.Name(loop.counter)))
            return ir.Loop(
                body,
                index=loop.index,
                iterable=self.call("reversed", builtins.reversed, iterations),
                tag=loop.tag,
                loc=loop.loc,
            )
        index = self.names.fresh("_")
        assert loop.counter is not None  # (a while loop counts its iterations)
        return ir.Loop(
            body,
            index=index,
            iterable=self.call("range", builtins.range, ir.Name(loop.counter)),
            tag=loop.tag,
            loc=loop.loc,
        )

    def contributed(self, body: tuple[ir.Stmt, ...]) -> set[str]:
        """Names that active statements in ``body`` send gradient to."""
        found: set[str] = set()
        for stmt in ir.walk(body):
            if (
                isinstance(stmt, ir.Assign)
                and stmt.rule is not None
                and self.activity.is_active(stmt.target)
            ):
                for param, operand in zip(stmt.rule.params, stmt.operands):
                    if (
                        stmt.rule.adjoint_for(param) is not None
                        and isinstance(operand, ir.Name)
                        and self.activity.is_active(operand.id)
                    ):
                        found.add(operand.id)
        return found


def _restores_in_stack_order(
    backward: list[ir.Stmt], target: str, deferred: list[ir.Stmt], fresh: Callable[[str], str]
) -> list[ir.Stmt]:
    """``backward`` (a statement's backward lines, which may restore ``target``) and
    ``deferred`` (the restore of the copy saved right after it). The copy was pushed
    after ``target``'s own save, so it is popped first, just before ``target``'s pop.
    Lines after that pop that read the copy want its value before its pop (the result
    of this run of the statement): they read it from a name that holds it."""
    if not deferred:
        return backward
    pops = [i for i, s in enumerate(backward) if isinstance(s, ir.Pop) and s.name == target]
    if not pops:
        return backward + deferred
    first = pops[0]
    copies = {s.name for s in deferred if isinstance(s, ir.Pop)}
    read_later = sorted(copies & {n for s in backward[first + 1 :] for n in ir.reads_of(s)})
    held = {name: fresh(f"{name}_held") for name in read_later}
    hold = [ir.Assign(new, ir.Name(old)) for old, new in held.items()]
    later = list(ir.rename(backward[first:], held))
    return backward[:first] + hold + deferred + later


def reentered(stmts: tuple[ir.Stmt, ...], end: int) -> list[ir.Stmt]:
    """For the ``Exit`` at ``end``: its ``Enter`` again (the context made anew by the same
    call, without the ``as`` name) and the statements that configure it there (a
    warnings filter), which open the body's backward pass."""
    depth, start = 0, end
    for start in reversed(range(end + 1)):
        depth += isinstance(stmts[start], ir.Exit) - isinstance(stmts[start], ir.Enter)
        if depth == 0:
            break
    enter = stmts[start]
    assert isinstance(enter, ir.Enter)  # (every Exit closes an Enter before it)
    inside, setup = 0, []
    for stmt in stmts[start + 1 : end]:
        inside += isinstance(stmt, ir.Enter) - isinstance(stmt, ir.Exit)
        if inside == 0 and isinstance(stmt, ir.Effect) and stmt.setup:
            setup.append(stmt)
    return [replace(enter, target=None), *setup]


class _ForNumbers(ir.Transformer):
    """See :func:`for_numbers`."""

    def __init__(self, memory_checks: set[str]) -> None:
        self.memory_checks = memory_checks

    def visit_Effect(self, stmt: ir.Effect) -> ir.Effect | None:
        value = stmt.value
        if isinstance(value, ir.Call) and isinstance(value.func, ir.Name):
            if value.func.id in self.memory_checks:
                return None
        return stmt

    def visit_Assign(self, stmt: ir.Assign) -> ir.Assign | None:
        if stmt.logical:
            return None
        if stmt.in_place and isinstance(stmt.value, ir.BinOp):
            return replace(stmt, in_place=False)  # (an item write stays one)
        return stmt

    def visit_If(self, stmt: ir.If) -> ir.Stmt | None:
        new = self.generic_visit(stmt)
        assert isinstance(new, ir.If)
        return new if new.body or new.orelse else None




def _writes_items(fn: ir.Function) -> bool:
    """Whether ``fn`` writes an item of a list in place (``xs[i] = v``; not a field of a
    dict of numbers, ``p["x"] = v``, whose adjoint the float version keeps field by field)."""
    return any(
        isinstance(s, ir.Assign) and s.rule is SETITEM and s.in_place
        and not (isinstance(s.operands[1], ir.Const) and isinstance(s.operands[1].value, str))
        for s in ir.walk(fn.body)
    )


def _fresh_arguments(
    builder: _Builder, fn: ir.Function, memory: Memory | None, numbers: Collection[str] = ()
) -> list[ir.Stmt]:
    """Copies of the parameters ``fn`` writes into in place, made first: the gradient
    leaves the caller's arrays (and lists) as they were (as JAX's and autograd's do), and
    computes at the point they hold. (``numbers``: the float version's number parameters.)"""
    if memory is None:
        return []
    helper = ir.Name(builder.bind("fresh_arguments", fresh_arguments))
    return fresh_parameters(fn, memory, helper, numbers)


def _may_have_shape(operand: ir.Expr) -> bool:
    """Whether an operand of a broadcasting gate may give the result a shape of its own:
    a value, or a list display (``np.where([True, False], x, 0.0)``), not a number."""
    if isinstance(operand, ir.Const):
        return not isinstance(operand.value, int | float | complex | bool | str | type(None))
    return True  # (a name, a display, an array a class or module holds: `U.r`)


def _gradient_sources(stmt: ir.Stmt) -> set[str]:
    """The names the backprop of ``stmt`` sends gradient to: a gate's operands with an
    adjoint; everything a copy, an unpacking or plain Python reads."""
    if isinstance(stmt, ir.Assign) and stmt.rule is not None:
        rule = stmt.rule
        return {
            o.id for p, o in zip(rule.params, stmt.operands)
            if isinstance(o, ir.Name) and rule.adjoint_for(p) is not None
        }
    return set(ir.reads_of(stmt))


def _list_method(stmt: ir.Assign, method: str, *args: ir.Expr) -> ir.Assign:
    """``path.append(y)`` or ``path.pop()`` on the list ``stmt`` grows in place, a list
    no other name holds (see :func:`_appends_in_loops`): an in-place statement, seen by
    the passes as a new value of ``path``, and dead once nothing reads ``path``."""
    call = ir.Call(ir.Attr(ir.Name(stmt.target), method), args)
    return ir.Assign(stmt.target, call, tag=stmt.tag, loc=stmt.loc, in_place=True, private=True)


def _appends_in_loops(body: tuple[ir.Stmt, ...]) -> set[int]:
    """The ids of ``xs = appended(xs, v)`` statements inside loops (lowering emits one for
    ``xs.append(v)`` on a list the function made and no other name holds)."""
    return {
        id(s)
        for loop in ir.walk(body)
        if isinstance(loop, ir.Loop)
        for s in ir.walk(loop.body)
        if isinstance(s, ir.Assign)
        and s.rule is APPEND
        and s.operands[0] == ir.Name(s.target)
    }


#: helpers the version for Python floats calls in place of the array version's (by the
#: id of the latter), under the same names
FOR_NUMBERS = {id(power_slope): power_slope_of_numbers}


def for_numbers(fn: ir.Function) -> ir.Function:
    """``fn`` for Python numbers only, which share no memory: ``y *= w`` binds a new
    number and the logical lines of :mod:`srcad.memory` have nothing to say, nor the
    check that a list's items share no memory (it looks at every item: in a loop that
    writes one item per step, quadratic)."""
    checks = {n for n, obj in fn.bindings.items() if obj is require_separate_items}
    return fn.with_body(_ForNumbers(checks).visit_body(fn.body))


def _total_reduction(fn: ir.Function, name: str) -> bool:
    """``name`` is a whole-array sum/mean/max... (no axis), possibly negated or scaled by
    constants: one number by construction, so the result check can go."""
    definitions = [
        s
        for s in ir.walk(fn.body)
        if isinstance(s, ir.Assign) and s.target == name and not s.in_place
    ]
    if len(definitions) != 1:
        return False
    stmt = definitions[0]
    rule = stmt.rule
    if rule is None:
        return False
    operands = dict(zip(rule.params, stmt.operands))
    if rule.reduction:
        return operands.get("axis") == ir.Const(None) and operands.get("keepdims") in (
            ir.Const(False),
            ir.Const(None),
        )
    names = [o for o in stmt.operands if isinstance(o, ir.Name)]
    return (
        rule.elementwise
        and len(names) == 1
        and all(isinstance(o, ir.Const) for o in stmt.operands if o not in names)
        and _total_reduction(fn, names[0].id)
    )


def _definition_counts(body) -> dict[str, int]:
    """How many statements give each name a new value (params, loop indices and
    in-place writes not counted)."""
    counts: dict[str, int] = {}
    for stmt in ir.walk(body):
        if isinstance(stmt, ir.Assign) and not (stmt.in_place and stmt.writes_own_operand):
            counts[stmt.target] = counts.get(stmt.target, 0) + 1
    return counts


def _without_new_axes(index: ir.Expr, g: ir.Expr) -> tuple[ir.Expr, ir.Expr]:
    """A basic ``index`` with ``None`` (``x[:, None]``) as the index without it and the
    item ``0`` of ``g`` along each new axis (``dx[:] += g[:, 0]``): the write numpy and
    the other array libraries take alike (dask's item assignment takes no ``None``)."""
    parts = index.elts if isinstance(index, ir.Tuple) else (index,)
    if ir.Const(None) not in parts:
        return index, g
    kept = [p for p in parts if p != ir.Const(None)]
    picked: list[ir.Expr] = []
    for part in parts:  # (an int part has no axis in g; a slice keeps one)
        if part == ir.Const(None):
            picked.append(ir.Const(0))
        elif isinstance(part, ir.Slice):
            picked.append(ir.Slice())
        elif part == ir.Const(Ellipsis):
            picked.append(part)
    new_index = (
        ir.Tuple(tuple(kept)) if len(kept) > 1 else kept[0] if kept else ir.Const(Ellipsis)
    )
    value = ir.Subscript(g, ir.Tuple(tuple(picked)) if len(picked) != 1 else picked[0])
    return new_index, value


def _indexes_a_number(index: ir.Expr) -> bool:
    """An index a numpy number takes (``s[None]``, ``s[..., None]``, ``s[()]``): only
    ``None`` and ``...``, no int or slice (which need an axis)."""
    if isinstance(index, ir.Const):
        return index.value is None or index.value is Ellipsis
    return isinstance(index, ir.Tuple) and all(_indexes_a_number(e) for e in index.elts)


def _placeholder(stmt: ir.Stmt) -> bool:
    """``t = None``: what a value is on a path that does not compute it (an early
    return's), never read there."""
    return isinstance(stmt, ir.Assign) and stmt.value == ir.Const(None)


def _loop_state(loop: ir.Loop) -> list[str]:
    """Bookkeeping names a loop statement itself writes (saved when it is nested)."""
    return [n for n in (loop.index, loop.counter) if n]




def _result_parts(result: ir.Expr, seed: ir.Expr) -> list[tuple[str, ir.Expr]]:
    """(name, its part of ``seed``) for each name ``result`` returns: ``result`` itself,
    or the items of a tuple (nested ones too) and the same items of the seed."""
    if isinstance(result, ir.Name):
        return [(result.id, seed)]
    if isinstance(result, ir.Tuple):
        return [
            part
            for k, item in enumerate(result.elts)
            for part in _result_parts(item, ir.Subscript(seed, ir.Const(k)))
        ]
    return []


def _as_parameter(
    builder: _Builder,
    fn: ir.Function,
    activity: Activity,
    adjoint: ir.Name,
    param: str,
    unused: bool,
) -> ir.Expr:
    """The gradient returned for ``param``: its adjoint, or, when the function reads
    fields of objects (``p.w``) or does not use ``param``, ``structured_like(dp, p)``:
    the adjoint of an object becomes an object of the parameter's own class (a
    namedtuple, a dataclass...)."""
    reads_fields = any(
        isinstance(s, ir.Assign) and s.rule is FIELD and activity.is_active(s.target)
        for s in ir.walk(fn.body)
    )
    # (a list, tuple or dict parameter: its gradient of the same type, not an AdjointList:
    # one read item by item, made an array, copied or rebound: `rows = rows or []`)
    sequence = param not in builder.numbers and any(
        isinstance(s, ir.Assign)
        and s.rule is not None
        and any(
            o == ir.Name(param) and _may_give_adjoint_lists(s.rule, p)
            for p, o in zip(s.rule.params, s.operands)
        )
        for s in ir.walk(fn.body)
    )
    if not (reads_fields or unused or sequence):
        return adjoint
    return builder.call("structured_like", structured_like, adjoint, ir.Name(param))


def _may_give_adjoint_lists(rule: ir.Rule, param: str) -> bool:
    """Does ``rule`` read its operand ``param`` as a sequence, or give it an adjoint that
    may be srcad's adjoint list (a copy's, ``np.array(rows)``'s ``items_like``)?"""
    if rule is COPY or param in rule.sequences or rule.creates or rule.holds:
        return True
    adjoint = rule.adjoint_for(param)
    if adjoint is None or isinstance(adjoint, ir.Scatter | ir.Zeroed):
        return False
    return "items_like" in ir.names_in(adjoint)


def reverse(
    fn: ir.Function,
    wrt: tuple[str, ...],
    activity: Activity,
    *,
    mode: str = "grad",
    scalar_guards: FloatGuards | None = None,
    memory: Memory | None = None,
    scalars: Collection[str] | None = None,
) -> ir.Function:
    """The literal gradient function of ``fn`` with respect to the parameters ``wrt``.

    By default the gradient handles numpy arrays: adjoints of broadcasting operations
    are summed back to their operand's shape. With ``scalar_guards`` it is the fast
    version for Python floats instead: it first checks that those parameters are
    floats (or lists and tuples of floats) and otherwise calls the array version (bound as
    :data:`ARRAY_VERSION`). (``scalars``: with ``scalar_guards``, the names that are
    numbers when the checked parameters are, where the caller has found them already.)
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    given, given_memory = fn, memory  # (for the parameters written in place)
    if scalar_guards:  # Python numbers share no memory: in-place operators just rebind;
        # a list the function writes items of does (what reads it before the write sees
        # its old items: saved where the backward pass reads them)
        fn = for_numbers(fn)
        memory = memory if memory is not None and _writes_items(fn) else None
    builder = _Builder(
        fn, activity, broadcast=scalar_guards is None, memory=memory, guards=scalar_guards,
        scalars=scalars,
    )
    fn = builder.fn  # (the float version's list items replaced in place)
    name = builder.names.fresh(fn.name + _SUFFIX[mode])
    forward = builder.with_snapshots(tuple(s for s in fn.body if not isinstance(s, ir.Return)))
    result_stmt = next(s for s in fn.body if isinstance(s, ir.Return))
    result = result_stmt.value
    seed: ir.Expr = ir.Const(1.0)
    seed_params: tuple[str, ...] = ()
    if mode == "vjp":  # the gradient at the top is a parameter: any array result
        seed_name = builder.names.fresh(
            f"d{result.id}" if isinstance(result, ir.Name) else "d_result"
        )
        seed, seed_params = ir.Name(seed_name), (seed_name,)
    if isinstance(result, ir.Tuple) and mode != "vjp":
        raise NonScalarOutputError(
            f"{fn.name} returns a tuple of {len(result.elts)} values; grad needs one scalar result",
            "return a single number (sum the terms you want to differentiate), or use "
            "srcad.jacobian for a vector-valued function",
            result_stmt.loc,
        )

    if (
        isinstance(result, ir.Const)
        and mode != "vjp"
        and (isinstance(result.value, bool) or not isinstance(result.value, numbers.Number))
    ):
        raise NonScalarOutputError(
            f"{fn.name} returns {result.value!r}; grad needs one scalar result",
            "return the number to differentiate (a `return` with no value, or none at "
            "all, returns None)",
            result_stmt.loc,
        )

    fresh_params = _fresh_arguments(builder, given, given_memory, builder.numbers)
    body: list[ir.Stmt] = []
    body += [
        ir.FORWARD,
        ir.Tape(
            builder.stack, builder.push, builder.pop,
            builder.bind("reversed", builtins.reversed), builder.bind("zip", builtins.zip),
        ),
        *fresh_params,
        *builder.forward_block(forward, 0),
    ]
    # the float version's result is a number by construction: no check needed there,
    # unless a path gives it a constant that is not one (`x if x > 1.0 else None`)
    if (
        mode != "vjp"
        and isinstance(result, ir.Name)
        and (
            not (scalar_guards and result.id in builder.scalars)
            or _given_no_number(fn, result.id)
        )
        and not _total_reduction(fn, result.id)
    ):
        check = builder.bind("require_scalar", scalar_check(result_stmt.loc, fn.name))
        scalar = ir.Effect(ir.Call(ir.Name(check), (result,)), note="grad needs a scalar result")
        body.append(scalar)
    value = result
    in_loops = {
        n for s in ir.walk(forward) if isinstance(s, ir.Loop) for n in ir.defined_in(s.body)
    }
    if mode == "value_and_grad" and isinstance(result, ir.Name) and result.id in in_loops:
        value = ir.Name(builder.names.fresh("value"))  # the backward pass restores `result`
        body.append(ir.Assign(value.id, result))

    written: set[str] = set()
    backward: list[ir.Stmt] = []
    tops = [(top, part) for top, part in _result_parts(result, seed) if activity.is_active(top)]
    if tops:
        backward.append(ir.Comment("gradient at the top", header=True))
    for top, part in tops:  # (vjp of a tuple: the cotangent is a tuple like it)
        backward.append(builder.contribute(top, part, written, 0))
    backward += builder.reverse_block(forward, written, 0)
    raise_all(builder.problems)

    gradients: list[ir.Expr] = []
    for param in wrt:
        adjoint = builder.adjoint(param)
        unused = adjoint not in written
        if unused:
            backward.append(
                builder.contribute(param, builder.zero_of(param), written, 0)
            )
        gradients.append(_as_parameter(builder, fn, activity, ir.Name(adjoint), param, unused))
    grads: ir.Expr = gradients[0] if len(gradients) == 1 else ir.Tuple(tuple(gradients))
    returned = ir.Tuple((value, grads)) if mode == "value_and_grad" else grads

    if scalar_guards:  # (a float array read item by item: the version reads its list,
        lists = {  # unless a parameter is written: it may be the same array)
            p: builder.names.fresh(f"{p}_floats")
            for p in (() if fresh_params else scalar_guards.from_arrays)
        }
        body, backward = list(ir.rename(body, lists)), list(ir.rename(backward, lists))
        body = float_guard(
            builder, fn, name, scalar_guards, body, ir.read_in(backward), lists
        )
    copy_name = builder.bind("fresh_copy", fresh_copy)
    body = builder.record_shapes(body)
    number_adjoints = frozenset(
        builder.adjoints[n] for n in builder.scalars if n in builder.adjoints
    )
    calls = fresh_calls(builder.bindings, fn.free_objects)
    body += [  # (the results too: two of them may be one array, see protect_aliases)
        ir.BACKWARD,
        *protect_aliases(
            [*backward, ir.Return(returned)], copy_name, calls, immutable=number_adjoints
        ),
    ]
    # (the float version falls back to the array version; the array version, and the
    # only version, to themselves: see ir.Function.on_float_error)
    # (where the function itself raises on Python floats, as it does -- the optimiser
    # may have left out the line that raises, whose value the gradient does not need)
    fallback = builder.bind(array_version_name(name), ARRAY_VERSION) if scalar_guards else None
    again: tuple[ir.Expr, ...] = (ir.Name(fallback or ir.ITSELF),)
    if seed_params:  # (vjp: the function takes no seeds)
        handler = builder.bind("with_numpy_floats", with_numpy_floats)
    else:
        handler = builder.bind("raising_as_the_function_does", raising_as_the_function_does)
        again += (ir.Name(builder.bind(f"{fn.name}_function", USER_FUNCTION)),)
    on_float_error = ir.Call(
        ir.Name(handler),
        (*again, *(ir.Name(p) for p in fn.params + seed_params)),
        tuple((k, ir.Name(k)) for k in fn.kwonly),
    )
    bindings = builder.bindings
    if scalar_guards:  # (its slopes raise where Python's arithmetic would: see the helper)
        bindings = {n: FOR_NUMBERS.get(id(v), v) for n, v in bindings.items()}
    gradient = ir.Function(
        name=name,
        params=fn.params + seed_params,
        kwonly=fn.kwonly,
        body=tuple(body),
        bindings=bindings,
        free_cells=fn.free_cells,
        free_objects=fn.free_objects,
        source_file=fn.source_file,
        source_line=fn.source_line,
        dependencies=fn.dependencies,
        number_adjoints=number_adjoints,
        on_float_error=on_float_error,
    )
    return prune_saves(gradient)


def _given_no_number(fn: ir.Function, name: str) -> bool:
    """Whether a path assigns ``name`` a constant that is not a number (None, a string)."""
    return any(
        isinstance(s, ir.Assign)
        and s.target == name
        and isinstance(s.value, ir.Const)
        and (s.value.value is None or isinstance(s.value.value, str | bytes))
        for s in ir.walk(fn.body)
    )
