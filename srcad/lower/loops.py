"""Loops: ``for`` and ``while``, the values they carry, and their back edges."""

from __future__ import annotations

import ast
import builtins
import copy
import functools
from collections import Counter
from collections.abc import Callable
from typing import Any

from .. import astwalk, ir, pycode
from ..errors import UnsupportedSyntaxError
from ..rules.scalar import DICT_KEYS, LOOP_ITEMS
from ..rules.table import COPY
from ..runtime import require_items
from ..specialize import Substitution
from .resolve import plain_function
from .values import (
    NOT_STATIC,
    LoopContext,
    LoweringPart,
    ResultName,
    Scope,
    TupleValue,
    holds,
    list_key,
)

#: the most items of a display of made objects a loop over it is lowered item by item for
_UNROLLED_ITEMS = 16


class Loops(LoweringPart):
    """The lowerer's part for loops (see the module)."""

    def carried_names(self, scope: Scope, node: ast.For | ast.While) -> list[str]:
        """User variables the loop assigns that live across iterations or after the loop
        (a function the loop defines may read them after it: what it reads counts)."""
        loaded_inside = Counter(
            n.id
            for n in _walk_outside_functions(node)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
        )
        loaded = self.loads_of(scope.function)
        rebound = self.rebound_loads(scope.function, node)  # (`for body in bodies` later)
        loaded_outside = {
            name for name, count in loaded.items()
            if count > loaded_inside[name] + rebound[name]
        }
        assigned = []
        for n in astwalk.walk(node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id not in assigned:
                assigned.append(n.id)
            elif (grown := self.appended_list(scope, n)) is not None and grown.id not in assigned:
                assigned.append(grown.id)
            elif (  # items[i] = v (or del items[i]) on a list: a new list value
                isinstance(n, ast.Subscript)
                and isinstance(n.ctx, ast.Store | ast.Del)
                and isinstance(n.value, ast.Name)
                and self.may_be_list(scope, n.value)
                and n.value.id not in assigned
            ):
                assigned.append(n.value.id)
            elif (  # R[i][j] = v on a list of lists: new list values (rows.py)
                isinstance(n, ast.Subscript)
                and isinstance(n.ctx, ast.Store)
                and self.rows_held_once(scope, n)
            ):
                assert isinstance(n.value, ast.Subscript) and isinstance(n.value.value, ast.Name)
                if n.value.value.id not in assigned:
                    assigned.append(n.value.value.id)
            elif isinstance(n, ast.Try):  # (`except ... as e`, imports: not ast.Name)
                assigned += [v for v in pycode.names_of([n])[0] if v not in assigned]
        test = [ast.Expr(node.test)] if isinstance(node, ast.While) else []  # (each time)
        bound = (  # (a for loop's own variables: bound before each iteration)
            {n.id for n in astwalk.walk(node.target) if isinstance(n, ast.Name)}
            if isinstance(node, ast.For) else set()
        )
        exposed = _read_before_assigned([*test, *node.body], set(assigned) - bound)
        # (`if c: row = f(x)`, then `row` read: the last iteration's row on the other path)
        return [
            v for v in assigned if v in scope.env or v in loaded_outside or v in exposed
        ]

    def rebound_loads(self, function: ast.FunctionDef, node: ast.For | ast.While) -> Counter[str]:
        """The reads of names, outside ``node``, in the bodies of ``for`` loops that do not
        enclose it and whose own variables they are (``for body in bodies`` after it):
        such a read sees that loop's binding, never a value ``node`` leaves in the name."""
        inside = {id(n) for n in _walk_outside_functions(node)}
        rebound: dict[int, str] = {}  # (each read once, however many loops rebind it)
        for loop in astwalk.walk(function):
            if not isinstance(loop, ast.For) or id(loop) in inside or any(
                n is node for n in astwalk.walk(loop)
            ):
                continue
            bound = {n.id for n in astwalk.walk(loop.target) if isinstance(n, ast.Name)}
            for statement in loop.body:
                for n in _walk_outside_functions(statement):
                    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in bound:
                        rebound[id(n)] = n.id
        return Counter(rebound.values())

    def loads_of(self, function: ast.FunctionDef) -> Counter[str]:
        """How many times ``function`` reads each name (counted once per function)."""
        if function not in self._loads:
            self._loads[function] = Counter(
                n.id for n in astwalk.walk(function)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
            )
        return self._loads[function]

    def enter_loop(self, scope: Scope, node: ast.For | ast.While) -> dict[str, str]:
        """Entry copies: each carried variable gets the one name it keeps inside the loop."""
        for n in astwalk.walk(node):  # (inside, the list has the loop's own name: an alias
            grown = self.appended_list(scope, n)  # made before the loop is checked here)
            if grown is not None and grown.id in scope.env:
                assert isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                self.check_growable(scope, n, grown.id, scope.env[grown.id], f".{n.func.attr}")
            elif (  # items[i] = v: likewise (a list another name holds, or the caller's)
                isinstance(n, ast.Subscript)
                and isinstance(n.ctx, ast.Store | ast.Del)
                and isinstance(n.value, ast.Name)
                and n.value.id in scope.env
                and self.may_be_list(scope, n.value)
            ):
                self.check_growable(scope, n, n.value.id, scope.env[n.value.id], "[...] =")
        carried = {}
        for v in self.carried_names(scope, node):
            name = self.variable_name(scope, v)
            value = self.object_a_loop_rebuilds(scope, node, v, scope.env.get(v, ir.Const(None)))
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
                self.carry_named_tuple_class(scope, v, name)  # (a namedtuple parameter's)
            self.carry_object(name, value)  # (an object the function made: its class)
            scope.env[v] = ir.Name(name)
            carried[v] = name
        return carried

    def refuse_changed_each_iteration(
        self, scope: Scope, entry: dict, carried: dict[str, str], stale_before: set
    ) -> None:
        """Refuse a list a helper changed in place in this loop's body while a variable
        the loop does not assign holds it: the next iteration would read its old value
        (``step(state)`` in a loop; ``state = step(state)`` is followed). ``entry``: the
        variables as the loop starts (what a carried one holds then, other names too)."""
        iterated: set[str] = set().union(*(names for s, names in self.iterated if s is scope))
        for v, value in entry.items():
            if not isinstance(value, ir.Name | TupleValue):
                continue
            if v in carried:  # (`s = step(s)`: the list the loop starts from changes too)
                others = [
                    u for u, x in entry.items()
                    if u != v and isinstance(u, str) and holds(x, value)
                ]
                changed_here = self.stale_lists.get(carried[v])  # (by a helper)
                grown = self.changed_lists.get(carried[v])  # (`L += [v]` in the body)
                if changed_here is None and grown is not None and (
                    others or self.is_shared(value)
                ):
                    receiver, method, where, node = grown
                    who = f"`{others[0]}`" if others else "another variable or list"
                    raise self.error(
                        where, node,
                        f"`{receiver}` and {who} hold the same list as the loop starts, "
                        f"and `{method}` would change both",
                        f"copy it before the loop: `{receiver} = list({receiver})`",
                    )
                current = scope.env.get(v)  # (`s[1] = v; step(s)`: changed as it ends)
                if isinstance(current, ir.Name | TupleValue):
                    self._refuse_stale_at_the_end(v, list_key(current), stale_before)
                if changed_here is None or carried[v] in stale_before:
                    continue
                if others or v in iterated or self.is_shared(value):
                    helper, _, changed = changed_here
                    who = f"`{others[0]}`" if others else (
                        "the loop's own iteration" if v in iterated else "another list"
                    )
                    hint = (
                        f"run over the positions instead (`for i in range(len({v}))`), "
                        f"reading `{v}[i]`" if v in iterated and not others else
                        f"read the list through `{v}` only ({who} is the same list), or copy "
                        f"it where the loop starts (`{v} = list({v})`) if {who} should keep "
                        "the old values"
                    )
                    raise self.error(
                        helper,
                        changed,
                        f"`{helper.function.name}` changes the list `{v}` holds in place, "
                        f"and {who} holds it too: srcad follows the change through `{v}` only",
                        hint,
                    )
                continue
            self._refuse_stale_at_the_end(v, list_key(value), stale_before)

    def _refuse_stale_at_the_end(self, v: str, key: Any, stale_before: set) -> None:
        """Refuse the list ``v`` holds as an iteration ends (``key``), where a helper
        changed it in place in the iteration: the next one would read its old value."""
        if key in self.stale_lists and key not in stale_before:
            helper, _, changed = self.stale_lists[key]
            raise self.error(
                helper,
                changed,
                f"`{helper.function.name}` changes `{v}` in place in every iteration, "
                "a change srcad does not follow from one iteration to the next",
                f"return the list from `{helper.function.name}` and assign it in the "
                f"loop (`{v} = {helper.function.name}(...)`)",
            )

    def back_edge(
        self,
        scope: Scope,
        node: ast.For | ast.While,
        stmts: list[ir.Stmt],
        carried: dict[str, str],
    ) -> list[ir.Stmt]:
        """Make each carried name hold its new value at the end of the body."""
        self.joining = scope.source.location(node)  # (where a refused carried value points)
        renamed: dict[str, str] = {}
        copies = {
            name: scope.env.get(v, ir.Name(name))
            for v, name in carried.items()
            if scope.env.get(v, ir.Name(name)) != ir.Name(name)
        }
        for name, value in copies.items():  # (a list of lists in one iteration: in all)
            if self.holds_list(value) or isinstance(value, ir.Name) and (
                value.id in self.list_items
            ):
                (self.holds_lists if self.holds_list(value) else self.list_items).add(name)
        for name, value in list(copies.items()):
            if isinstance(value, TupleValue):  # a display the loop carries on: one value
                with self.block() as made:
                    copies[name] = self.materialize(scope, value, node)
                stmts = [*stmts, *made]
        for name, value in copies.items():
            self.check_carried(scope, node, name, value)
            self.stale_lists.pop(name, None)  # (the carried name: the new value from here)
            if self.made_of(ir.Name(name)) is None and (  # (`best = None` before the
                self.made_of(value) is not None  # loop, an object the loop picks: which
                or isinstance(value, ir.Name) and value.id in self.lost_objects  # class
            ):  # the carried value has, srcad does not know where it is read)
                self.lost_objects.add(name)
        read = ir.read_in(stmts)
        for v, name in carried.items():
            if name in self.own_lists and name in copies and not self.is_own_list(copies[name]):
                if name not in read:  # (only rebound: `vec = [1, 0]` before, an array in it)
                    self.own_lists.discard(name)
                    continue
                raise self.error(
                    scope,
                    node,
                    f"`{v}` holds a list this loop grows, and is then given another value",
                    f"give the other value another name than `{v}`",
                )
        for name in carried.values():  # (rows.append(row); row[0] = ...: one list)
            if name in self.changed_lists and self.is_shared(copies.get(name)):
                receiver, method, where, changed = self.changed_lists[name]
                raise self.error(
                    where,
                    changed,
                    f"`{receiver}` is the list an earlier iteration handed on (appended or "
                    f"assigned), and `{method}` would change that one too",
                    f"make a new list in each iteration (`{receiver} = [...]` inside the "
                    f"loop), or hand on a copy (`list({receiver})`)",
                )
            if self.is_shared(copies.get(name)):
                self.share(ir.Name(name))  # (after the loop, too)
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
        entry: dict,
    ) -> tuple[list, LoopContext]:
        """The loop's body lowered once (``entry``: the variables before the loop)."""
        before = dict(scope.env)
        context = LoopContext(carried=tuple(carried))
        self.loops.append(context)
        stale_before = set(self.stale_lists)
        held_before = self.held_functions()
        try:
            with self.block() as stmts:
                prologue()
                self.lower_statements(scope, node.body, None)
            self.refuse_changed_each_iteration(scope, entry, carried, stale_before)
            self.refuse_functions_given_again(scope, node, held_before)
            lost = [
                v for v, value in before.items()
                if v not in carried and isinstance(value, ir.Name) and scope.env.get(v) != value
            ]
            assert not lost, f"the loop changes {lost}, which it does not carry"
            stmts = self.back_edge(scope, node, stmts, carried)
        finally:
            self.loops.pop()
        scope.env = {v: before[v] for v in before}
        for v, name in carried.items():
            scope.env[v] = ir.Name(name)
        return stmts, context

    def lower_For(self, scope: Scope, node: ast.For, result_name: ResultName) -> None:
        """A loop over a count (``result_name``: unused, desugaring moves a ``return``
        out of a loop)."""
        target = node.target
        flat = node.iter
        if isinstance(flat, ast.Attribute) and flat.attr == "flat" and (
            self.object_class(scope, flat.value) is None
        ):  # (a flat iterator reads the array as it changes: not a sequence srcad follows)
            array = ast.unparse(flat.value)
            raise self.error(
                scope, node,
                f"a loop over `{array}.flat` (a flat iterator) is not supported",
                f"loop over `{array}.ravel()`, or read `{array}.flat[k]` by position",
            )
        known = self.known_callables(scope, node)
        if known is not None:  # for d in [stats.norm, stats.cauchy]: d.logpdf(x)
            for names in known:
                self.lower_statements(scope, _with_names_as(node.body, names), None)
            return
        items = self.unrolled_items(scope, node)
        if items is not None:
            self.lower_unrolled(scope, node, items)
            return
        range_args = self.range_arguments(scope, node.iter)
        if range_args is not None:
            count = ir.Call(self.builtin_ref(scope, "range"), tuple(range_args))
            element = None
        else:
            self.refuse_iterating_objects(scope, node.iter)
            self.refuse_sequences_changed_while_read(scope, node)
            length, element = self.iteration(scope, node.iter)
            count = ir.Call(self.builtin_ref(scope, "range"), (length,))
        start = len(self.body)
        entry = dict(scope.env)
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
            self.keep_classes(scope, target, value)

        self.iterated.append((scope, _iterated_names(node.iter)))
        try:
            stmts, context = self.loop_iteration(scope, node, carried, prologue, entry)
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

    def unrolled_items(self, scope: Scope, node: ast.For) -> list[Callable[[], Any]] | None:
        """What the loop's variables hold in each iteration of a loop over a short display
        of objects the function made (``for p in (a, b)``, ``ps = [P(...), P(...)]; for p
        in ps``; also in ``zip`` with other displays of as many items, and in
        ``enumerate``), lowered once per item: each ``p.v`` is then a field of one object
        known when srcad compiles, which the float version keeps as a number, and no alias
        of an item need be followed at run time. None for any other loop, for one that
        can leave early, and where an enclosing loop carries the loop's variable (it would
        hold an object after an iteration, and something else before)."""
        target = node.target
        targets = [n for n in astwalk.walk(target) if isinstance(n, ast.Name | ast.Starred)]
        if not all(isinstance(n, ast.Name) for n in targets) or not isinstance(
            target, ast.Name | ast.Tuple
        ):
            return None
        names = [n.id for n in targets if isinstance(n, ast.Name)]
        if any(name in context.carried for context in self.loops for name in names):
            return None
        if any(
            isinstance(part, ast.Break | ast.Continue | ast.Return | ast.Yield | ast.YieldFrom)
            for statement in node.body
            for part in _walk_outside_functions(statement)
        ):
            return None
        call = node.iter if isinstance(node.iter, ast.Call) else None
        callee = self.denote(scope, call.func).static if call is not None else NOT_STATIC
        if callee is builtins.range and call is not None and isinstance(target, ast.Name):
            return self.unrolled_counts(scope, node, call)
        if call is not None and (call.keywords or callee not in (builtins.zip, builtins.enumerate)):
            return None
        sequences = call.args if call is not None else [node.iter]
        if callee is builtins.enumerate and len(sequences) != 1:
            return None
        values = [self.sequence_value(scope, sequence) for sequence in sequences]
        displays = [v.items if isinstance(v, TupleValue) else None for v in values]
        if displays and all(d == () for d in displays) and not node.orelse:
            return []  # (an empty display, `ps[3:]` of three objects: no iteration)
        made = [d for d in displays if d and all(self.made_of(item) is not None for item in d)]
        lengths = {len(d) for d in made}
        if len(lengths) != 1 or not 0 < min(lengths) <= _UNROLLED_ITEMS:
            return None
        count = min(lengths)
        if any(d is not None and len(d) != count for d in displays):
            return None
        if any(  # (a list zipped with them: a name of one, checked when the gradient runs)
            display is None and not (isinstance(sequence, ast.Name) and isinstance(v, ir.Name))
            for display, sequence, v in zip(displays, sequences, values)
        ):
            return None
        columns: list[Callable[[int], Any]] = [
            display.__getitem__ if display is not None
            else self.items_one_by_one(scope, sequence, v, count)
            for display, sequence, v in zip(displays, sequences, values)
        ]

        def row(k: int) -> Callable[[], Any]:
            if callee is builtins.enumerate:
                return lambda: TupleValue((ir.Const(k), columns[0](k)))
            if call is None:
                return lambda: columns[0](k)
            return lambda: TupleValue(tuple(column(k) for column in columns))

        return [row(k) for k in range(count)]

    def known_callables(
        self, scope: Scope, node: ast.For
    ) -> list[dict[str, ast.expr]] | None:
        """What each variable of ``for d in [stats.norm, stats.cauchy]`` is in each
        iteration (``for f in (np.sin, np.cos)``, a display of functions or objects of
        modules that srcad knows when it compiles; ``for loss in LOSSES``, a global list
        or tuple of functions; ``for k, loss in enumerate(...)`` of either: ``k`` the
        count), when the loop can be written out once per item with its variables
        replaced: each ``d.logpdf(x)`` is then the call it names. None for any other
        loop."""
        target, iterated = node.target, node.iter
        count: ast.Name | None = None  # (enumerate's count, or a dict's key)
        view = None  # (ACTS.values(), ACTS.items(): a global dict's)
        pair = isinstance(target, ast.Tuple) and len(target.elts) == 2 and all(
            isinstance(e, ast.Name) for e in target.elts
        )
        if (
            isinstance(iterated, ast.Call) and not iterated.keywords and not iterated.args
            and isinstance(iterated.func, ast.Attribute)
            and (iterated.func.attr == "values" or iterated.func.attr == "items" and pair)
        ):
            view, iterated = iterated.func.attr, iterated.func.value
            pair = view == "items"  # (for a, b in ACTS.values(): each item unpacked)
        elif (
            isinstance(iterated, ast.Call) and not iterated.keywords
            and len(iterated.args) == 1 and pair
            and self.denote(scope, iterated.func).static is builtins.enumerate
        ):  # (for k, loss in enumerate(LOSSES): the count and the item)
            iterated = iterated.args[0]
        else:
            pair = False
        if pair:
            assert isinstance(target, ast.Tuple)
            first, target = target.elts
            assert isinstance(first, ast.Name)
            count = first
        if not isinstance(target, ast.Name):
            return None
        keys: list[Any]
        if isinstance(iterated, ast.List | ast.Tuple) and view is None:
            items = iterated.elts
            keys = list(range(len(items)))
        else:  # (a global list, tuple or dict of functions, `for loss in LOSSES`)
            held = self.functions_held(scope, iterated, view is not None)
            if held is None:
                return None
            keys, items = [k for k, _ in held], [item for _, item in held]
        if not 0 < len(items) <= _UNROLLED_ITEMS or node.orelse:
            return None
        names = [target.id, *([count.id] if count is not None else [])]
        for name in names:
            if _reads_elsewhere(scope.function, name, node):
                return None  # (d read elsewhere: after the loop, it holds the last item)
        for statement in node.body:
            for part in _walk_outside_functions(statement):
                if isinstance(part, ast.Break | ast.Continue | ast.Return | ast.Yield):
                    return None
                if isinstance(part, ast.Name) and part.id in names and not isinstance(
                    part.ctx, ast.Load
                ):
                    return None  # (d rebound in the body)
        keyed = all(  # (for name in ("tanh", "relu"): ACTS[name](z), keys of functions)
            isinstance(item, ast.Constant) and type(item.value) in (str, int) for item in items
        ) and self.picks_functions(scope, node.body, target.id)
        for item in items if isinstance(iterated, ast.List | ast.Tuple) and not keyed else ():
            if not isinstance(item, ast.Name | ast.Attribute) or any(
                isinstance(n, ast.Name) and n.id in scope.env for n in astwalk.walk(item)
            ):
                return None  # (a global or a module's member, not a variable's)
            static = self.denote(scope, item).static
            if static is NOT_STATIC or isinstance(static, int | float | complex | str | bool):
                return None
        if not isinstance(iterated, ast.List | ast.Tuple):  # (made again if it changes)
            lookup = self.denote(scope, iterated).lookup
            self.dependencies.append(
                (functools.partial(_same_keys, lookup, tuple(keys)), _SAME_KEYS, None)
            )
        return [
            {target.id: item, **({} if count is None else {count.id: _located_constant(k, item)})}
            for k, item in zip(keys, items, strict=True)
        ]

    def picks_functions(self, scope: Scope, body: list[ast.stmt], name: str) -> bool:
        """Whether ``body`` picks an item by ``name`` from a fixed container of functions
        (``ACTS[name](z)``): a loop over keys written out gives each a function."""
        for statement in body:
            for part in _walk_outside_functions(statement):
                if (
                    isinstance(part, ast.Subscript) and isinstance(part.slice, ast.Name)
                    and part.slice.id == name
                    and isinstance(part.value, ast.Name | ast.Attribute)
                ):
                    held = self.denote(scope, part.value).static
                    items = held.values() if isinstance(held, dict) else held
                    if type(held) in (list, tuple, dict) and held and all(
                        plain_function(item) for item in items
                    ):
                        return True
        return False

    def functions_held(
        self, scope: Scope, node: ast.expr, of_dict: bool = False
    ) -> list[tuple[Any, ast.expr]] | None:
        """``(0, LOSSES[0])``, ``(1, LOSSES[1])``, ... for ``LOSSES``, a global (or a
        closure's, or a module's attribute) list or tuple of functions, a few of them
        (``of_dict``: a dict's keys and items, ``("relu", ACTS["relu"])``, ...); None for
        anything else. The gradient is made again if the keys change (and, see
        :mod:`srcad.lower.resolve`, if an item does)."""
        if not isinstance(node, ast.Name | ast.Attribute) or any(
            isinstance(n, ast.Name) and n.id in scope.env for n in astwalk.walk(node)
        ):
            return None
        held = self.denote(scope, node).static
        kinds = (dict,) if of_dict else (list, tuple)
        if type(held) not in kinds or not 0 < len(held) <= _UNROLLED_ITEMS:
            return None
        keys = list(held) if of_dict else list(range(len(held)))
        if not all(plain_function(held[k]) for k in keys) or not all(
            type(k) in (str, int) for k in keys
        ):
            return None
        return [
            (k, ast.copy_location(
                ast.Subscript(copy.deepcopy(node), ast.Constant(k), ast.Load()), node
            ))
            for k in keys
        ]

    def unrolled_counts(
        self, scope: Scope, node: ast.For, call: ast.Call
    ) -> list[Callable[[], Any]] | None:
        """The counts of ``for i in range(...)`` (bounds known when srcad compiles, a few
        of them) whose body picks objects the function made from a display of them by
        ``i`` (``bs[i].kick(f)``, ``bs[i + 1].x``), or calls a recursive ``def`` of the
        code with it: each count a constant, so that each such item is one object known
        when srcad compiles, and each recursion ends. None for any other loop."""
        assert isinstance(node.target, ast.Name)
        name = node.target.id

        def reads_count(expr: ast.AST) -> bool:
            return any(isinstance(n, ast.Name) and n.id == name for n in astwalk.walk(expr))

        if call.keywords or not any(
            (isinstance(part, ast.Subscript) and isinstance(part.value, ast.Name)
             and self.holds_made_display(scope, part.value.id) and reads_count(part.slice))
            or (isinstance(part, ast.Call) and self.recursive_nested(scope, part.func)
                and any(reads_count(a) for a in part.args))
            for statement in node.body for part in _walk_outside_functions(statement)
        ):
            return None
        bounds = [self.static_int(scope, a) for a in call.args]
        if not bounds or any(b is None for b in bounds):
            return None
        counts = range(*bounds)  # type: ignore[arg-type]  # (ints: checked above)
        if not 0 < len(counts) <= _UNROLLED_ITEMS:
            return None
        return [_constant(k) for k in counts]

    def static_int(self, scope: Scope, node: ast.expr) -> int | None:
        """The integer ``node`` is when srcad compiles (``2``, a name holding a constant,
        ``len(bs)`` of a display, sums and differences of these), found without lowering
        anything; None otherwise."""
        if isinstance(node, ast.Constant):
            return node.value if type(node.value) is int else None
        if isinstance(node, ast.Name):
            held = scope.env.get(node.id)
            return held.value if isinstance(held, ir.Const) and type(held.value) is int else None
        if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords and (
            isinstance(node.args[0], ast.Name) and self.denote(scope, node.func).static is len
        ):
            held = scope.env.get(node.args[0].id)
            return len(held.items) if isinstance(held, TupleValue) else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult):
            left, right = self.static_int(scope, node.left), self.static_int(scope, node.right)
            if left is None or right is None:
                return None
            return left + right if isinstance(node.op, ast.Add) else (
                left - right if isinstance(node.op, ast.Sub) else left * right)
        return None

    def recursive_nested(self, scope: Scope, func: ast.expr) -> bool:
        """``func`` names a ``def`` of the code that calls itself (``fact(k)`` of a loop's
        ``k``: unrolled, each count a constant that ends the recursion)."""
        if not isinstance(func, ast.Name):
            return False
        found = self.nested_function(scope, func)
        return found is not None and any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == func.id
            for n in astwalk.walk(found[0])
        )

    def holds_made_display(self, scope: Scope, name: str) -> bool:
        """``name`` holds a display of objects the function made (``bs = [Body(...), ...]``)."""
        held = scope.env.get(name)
        return isinstance(held, TupleValue) and bool(held.items) and all(
            self.made_of(item) is not None for item in held.items
        )

    def items_one_by_one(
        self, scope: Scope, node: ast.expr, value: ir.Name, count: int
    ) -> Callable[[int], Any]:
        """Item ``k`` of the list the name ``node`` holds (``value``, lowered; zipped with
        objects the function made), read where iteration ``k`` starts, as ``zip`` reads
        it, after a check when the gradient runs that it holds ``count`` items (a shorter
        one would end Python's loop early)."""
        assert isinstance(node, ast.Name)
        error = UnsupportedSyntaxError(
            f"srcad runs this loop once for each of the {count} objects the function "
            f"made, and `{node.id}` is not a list, tuple or array of as many items (zip "
            "would stop at the shorter, and runs over a dict's keys)",
            f"zip sequences of the same length, or loop over "
            f"`range(min(len(...), len({node.id})))`",
            scope.source.location(node),
        )
        self.emit(self.run_time_check(
            require_items, (value, ir.Const(count)), error, "wrong_length",
            note=f"as many items as objects ({count})",
        ))
        return lambda k: self.element(scope, scope.env.get(node.id, value), ir.Const(k), node)

    def sequence_value(self, scope: Scope, node: ast.expr) -> Any:
        """``node`` lowered where it is a name of the function's or a display written out
        of them (a list or tuple display, or a list a name holds, or a slice of one),
        else None."""
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            return self.sequence_value(scope, node.value) and self.lower_expr(scope, node, None)
        names = node.elts if isinstance(node, ast.Tuple | ast.List) else [node]
        if not all(isinstance(name, ast.Name) and name.id in scope.env for name in names):
            return None
        return self.lower_expr(scope, node, None)

    def lower_unrolled(self, scope: Scope, node: ast.For, items: list[Callable[[], Any]]) -> None:
        """``node``'s body once for each of ``items`` (see :meth:`unrolled_items`)."""
        self.iterated.append((scope, _iterated_names(node.iter)))
        try:
            for next_item in items:
                start = len(self.body)
                item = next_item()
                self.bind(scope, node.target, item)
                self.name_elements(scope, node.target, start)
                self.keep_classes(scope, node.target, item)
                self.lower_statements(scope, node.body, None)
        finally:
            self.iterated.pop()

    def keep_classes(self, scope: Scope, target: ast.expr, value: Any) -> None:
        """The loop target's names hold the items whose class srcad knows (``for layer in
        model.layers``, ``for i, layer in enumerate(...)``): so do the names, renamed."""
        if isinstance(target, ast.Tuple) and isinstance(value, TupleValue):
            for part, item in zip(target.elts, value.items):
                self.keep_classes(scope, part, item)
            return
        known = self.value_classes.get(value.id) if isinstance(value, ir.Name) else None
        bound = scope.env.get(target.id) if isinstance(target, ast.Name) else None
        made = self.made_of(value)  # (an item of a list of objects the function made)
        if made is not None and isinstance(bound, ir.Name):
            self.made[bound.id] = made
        if known is not None and isinstance(bound, ir.Name):
            self.value_classes[bound.id] = known
            if value.id in self.value_examples:
                self.value_examples[bound.id] = self.value_examples[value.id]

    def range_arguments(self, scope: Scope, node: ast.expr) -> list[ir.Expr] | None:
        if (
            isinstance(node, ast.Call)
            and not node.keywords
            and self.denote(scope, node.func).static is builtins.range
        ):
            return [self.lower_operand(scope, a) for a in node.args]
        return None

    def iteration(self, scope: Scope, node: ast.expr):
        """How to loop over ``node``: its length and a function giving element ``k``."""
        call = node if isinstance(node, ast.Call) else None
        followed = self.iterator_iteration(scope, call) if call is not None else None
        if followed is not None:  # (itertools.pairwise(xs), ...: srcad.lower.iterators)
            return followed
        callee = self.denote(scope, call.func).static if call is not None else None
        keywords = {kw.arg for kw in call.keywords} if call is not None else set()
        if (
            call is not None
            and callee is NOT_STATIC
            and isinstance(call.func, ast.Attribute)
            and call.func.attr in ("items", "keys", "values")
            and not call.args
            and not keywords
            and not self.user_method(scope, call.func)
        ):
            return self.dict_iteration(scope, call)
        if (
            call is not None
            and callee is builtins.enumerate
            and (
                (len(call.args) == 1 and keywords <= {"start"})
                or (len(call.args) == 2 and not keywords)
            )
        ):
            length, inner = self.iteration(scope, call.args[0])
            given = call.args[1:] or [kw.value for kw in call.keywords]
            if not given:
                return length, lambda k: TupleValue((k, inner(k)))
            start = self.lower_operand(scope, given[0])  # enumerate(xs, start=1)

            def counted(k: ir.Expr) -> Any:
                return TupleValue((self.emit_value(scope, ir.BinOp("+", k, start), node), inner(k)))

            return length, counted
        if (
            call is not None
            and callee is builtins.reversed
            and len(call.args) == 1
            and not keywords
        ):
            length, inner = self.iteration(scope, call.args[0])

            def backwards(k: ir.Expr) -> Any:  # element length - 1 - k
                last = ir.BinOp("-", length, ir.Const(1))
                return inner(self.emit_value(scope, ir.BinOp("-", last, k), node))

            return length, backwards
        if call is not None and callee is builtins.zip and call.args and keywords <= {"strict"}:
            parts = [self.iteration(scope, a) for a in call.args]
            length = parts[0][0]
            for other, _ in parts[1:]:
                length = self.emit_value(
                    scope, ir.Call(self.builtin_ref(scope, "min"), (length, other)), node
                )
            return length, lambda k: TupleValue(tuple(inner(k) for _, inner in parts))
        if isinstance(node, ast.GeneratorExp) or (
            isinstance(node, ast.Call) and callee in (iter, map, filter, reversed)
        ):
            raise self.error(
                scope,
                node,
                "srcad loops over range(...), enumerate(...), zip(...), reversed(...), "
                "tuples, lists, arrays and dicts only",
                "build a list or array first, or loop over range(len(...))",
            )
        value = self.lower_expr(scope, node, None)
        self.refuse_iterating_made(scope, value, node)
        if isinstance(value, TupleValue):  # a tuple or list display: a sequence
            seq = self.materialize(scope, value, node)
        elif isinstance(value, ir.Const) or (
            isinstance(value, ir.Name) and value.id in self.not_dicts
        ):
            seq = value
        else:  # a parameter or global may be a dict, whose loop runs over its keys
            name = self.names.fresh(f"{node.id}_items") if isinstance(node, ast.Name) else None
            seq = self.emit_rule_call(scope, "loop_items", LOOP_ITEMS, value, node, name)
            if isinstance(value, ir.Name) and isinstance(seq, ir.Name) and (
                self.holds_list(value) or value.id in self.list_items
            ):  # (a row of a table of lists: its items may be lists too)
                self.holds_lists.add(seq.id)
            if isinstance(value, ir.Name) and value.id in self.made_items and isinstance(
                seq, ir.Name
            ):  # (for layer in self.layers: a field holding objects the function made)
                self.made_items[seq.id] = self.made_items[value.id]
        length = self.emit_value(scope, ir.Call(self.builtin_ref(scope, "len"), (seq,)), node)
        item_class = self.element_class(scope, node)  # (model.layers: list[Dense])
        examples = self.example_of(scope, node)  # (the list a call's object held)

        def item(k: ir.Expr) -> Any:
            value = self.element(scope, seq, k, node)
            if item_class is not None and isinstance(value, ir.Name):
                self.value_classes[value.id] = item_class
                if isinstance(examples, list | tuple) and examples:  # (of one class:
                    self.value_examples[value.id] = examples[0]  # checked when it runs)
            return value

        return length, item

    def user_method(self, scope: Scope, func: ast.Attribute) -> bool:
        """Whether ``func`` (``p.items``) is a method a class of the user's defines, on an
        object of that class (its own ``items()``, not a dict's view: round 93)."""
        owner = func.value
        cls = (
            self.constructed_class(scope, owner) if isinstance(owner, ast.Call)
            else self.object_class(scope, owner)
        )
        return cls is not None and not issubclass(cls, dict) and hasattr(cls, func.attr)

    def dict_iteration(self, scope: Scope, node: ast.Call):
        """``for k in d.keys()``, ``for v in d.values()``, ``for k, v in d.items()``: a loop
        over a list of the keys (no gradient) that reads ``d[k]`` (an item, whose adjoint
        goes into ``d``'s adjoint under the same key)."""
        func = node.func
        assert isinstance(func, ast.Attribute)  # (see iteration: `d.items()`)
        mapping = self.sequence(scope, func.value)
        view = func.attr
        keys_of = ir.Call(ir.Attr(mapping, "keys"))
        owner = func.value
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

    def lower_While(self, scope: Scope, node: ast.While, result_name: ResultName) -> None:
        """A loop with a test (``result_name``: unused, desugaring moves a ``return``
        out of a loop)."""
        start = len(self.body)
        entry = dict(scope.env)
        carried = self.enter_loop(scope, node)
        with self.block() as test_stmts:
            cond = self.lower_operand(scope, self.object_truth(scope, node.test))
        stmts, context = self.loop_iteration(scope, node, carried, lambda: None, entry)
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


def _is_enumerate(lowerer: LoweringPart, scope: Scope, node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call) and lowerer.denote(scope, node.func).static is builtins.enumerate
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


def _reads_of(node: ast.AST, name: str) -> int:
    """How many times ``node`` reads the variable ``name``: in the functions it defines
    too, unless one of them has a parameter of that name (its own variable)."""
    if isinstance(node, ast.Name):
        return int(node.id == name and isinstance(node.ctx, ast.Load))
    if isinstance(node, ast.FunctionDef | ast.Lambda) and name in {
        a.arg for a in astwalk.walk(node.args) if isinstance(a, ast.arg)
    }:
        return 0
    return sum(_reads_of(child, name) for child in ast.iter_child_nodes(node))


def _reads_elsewhere(node: ast.AST, name: str, loop: ast.For) -> int:
    """How many times ``node`` reads the variable ``name`` outside the body of ``loop``
    and of the other ``for`` loops that bind ``name`` as their variable (each of which
    reads its own items there); see :func:`_reads_of`."""
    if isinstance(node, ast.For) and (node is loop or any(
        isinstance(n, ast.Name) and n.id == name for n in astwalk.walk(node.target)
    )):
        return _reads_of(node.iter, name) + sum(_reads_of(s, name) for s in node.orelse)
    if isinstance(node, ast.Name):
        return int(node.id == name and isinstance(node.ctx, ast.Load))
    if isinstance(node, ast.FunctionDef | ast.Lambda) and name in {
        a.arg for a in astwalk.walk(node.args) if isinstance(a, ast.arg)
    }:
        return 0
    return sum(_reads_elsewhere(child, name, loop) for child in ast.iter_child_nodes(node))


def _walk_outside_functions(node: ast.AST) -> list[ast.AST]:
    """The nodes under ``node``, not those inside the functions and lambdas it defines."""
    found, todo = [], [node]
    while todo:
        current = todo.pop()
        found.append(current)
        if current is node or not isinstance(current, ast.FunctionDef | ast.Lambda):
            todo.extend(ast.iter_child_nodes(current))
    return found


def _read_before_assigned(body: list[ast.stmt], candidates: set[str]) -> set[str]:
    """Those of ``candidates`` that ``body`` may read before it assigns them, on some path
    through it (a nested loop's body counts from its start: it may run again): in a loop,
    they hold what an earlier iteration assigned."""
    found: set[str] = set()

    def reads(node: ast.AST, assigned: set[str]) -> None:
        nodes = list(astwalk.walk(node))
        own = {  # (a comprehension's and a lambda's own variables: bound where they read)
            name for n in nodes if isinstance(n, ast.comprehension | ast.Lambda)
            for name in (stores(n.target) if isinstance(n, ast.comprehension)
                         else {a.arg for a in n.args.args})
        }
        for n in nodes:
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                if n.id in candidates and n.id not in assigned and n.id not in own:
                    found.add(n.id)

    def stores(target: ast.AST) -> set[str]:
        return {n.id for n in astwalk.walk(target)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}

    def block(stmts: list[ast.stmt], assigned: set[str]) -> set[str]:
        assigned = set(assigned)
        for stmt in stmts:
            if isinstance(stmt, ast.If):
                reads(stmt.test, assigned)
                assigned = block(stmt.body, assigned) & block(stmt.orelse, assigned)
            elif isinstance(stmt, ast.For | ast.AsyncFor):
                reads(stmt.iter, assigned)
                block(stmt.body, assigned | stores(stmt.target))
                block(stmt.orelse, assigned)  # (it may run none: nothing is certain after)
            elif isinstance(stmt, ast.While):
                reads(stmt.test, assigned)
                block(stmt.body, assigned)
                block(stmt.orelse, assigned)
            elif isinstance(stmt, ast.Try):
                block(stmt.body, assigned)
                for handler in stmt.handlers:
                    block(handler.body, assigned | ({handler.name} if handler.name else set()))
                block(stmt.orelse, assigned)
                assigned = block(stmt.finalbody, assigned)
            elif isinstance(stmt, ast.With | ast.AsyncWith):
                for item in stmt.items:
                    reads(item.context_expr, assigned)
                    if item.optional_vars is not None:
                        assigned |= stores(item.optional_vars)
                assigned = block(stmt.body, assigned)
            elif isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
                if stmt.value is not None:
                    reads(stmt.value, assigned)
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    if isinstance(stmt, ast.AugAssign) and isinstance(target, ast.Name):
                        reads(ast.Name(target.id, ast.Load()), assigned)  # (x += v reads x)
                    elif not isinstance(target, ast.Name):
                        reads(target, assigned)  # (xs[i] = v reads xs)
                    assigned |= stores(target)
            else:  # (a def, a return, an expression: everything it reads, now)
                reads(stmt, assigned)
                if isinstance(stmt, ast.FunctionDef | ast.ClassDef):
                    assigned.add(stmt.name)
        return assigned

    block(body, set())
    return found


def _constant(k: int) -> Callable[[], Any]:
    return lambda: ir.Const(k)


#: what :func:`_same_keys` finds while a container keeps its keys
_SAME_KEYS = object()


def _same_keys(lookup: Callable[[], Any], keys: tuple[Any, ...]) -> Any:
    """:data:`_SAME_KEYS` while the list or tuple ``lookup`` finds has as many items as
    ``keys`` (0, 1, ...), or the dict those keys, in order."""
    container = lookup()
    if isinstance(container, dict):
        same = tuple(container) == keys
    else:
        same = isinstance(container, list | tuple) and len(container) == len(keys)
    return _SAME_KEYS if same else None


def _located_constant(value: int, at: ast.expr) -> ast.Constant:
    return ast.copy_location(ast.Constant(value), at)


class _NameAs(Substitution):
    """Every read of ``name`` replaced by a copy of ``value``, not inside nested defs
    (which read the variable when they are called)."""

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return node

    visit_Lambda = visit_FunctionDef  # type: ignore[assignment]


def _with_names_as(body: list[ast.stmt], values: dict[str, ast.expr]) -> list[ast.stmt]:
    """``body`` with each name of ``values`` read as its value (a fresh copy of the
    statements)."""
    statements = [copy.deepcopy(statement) for statement in body]
    for name, value in values.items():
        statements = [_NameAs(name, value).visit(statement) for statement in statements]
    return statements
