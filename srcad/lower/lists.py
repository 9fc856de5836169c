"""Lists and tuples: displays, items, unpacking, and lists that grow (``append``)."""

from __future__ import annotations

import ast
import types
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, TypeGuard

from .. import astwalk, ir
from ..deques import blocked_deque
from ..desugar import KEPT_POSITIONS, SLICE_BOUNDS, STEPPED_POSITIONS
from ..errors import UnsupportedSyntaxError
from ..rules.scalar import APPEND, EXTEND, REMOVE, REPEAT, REPLACE
from ..rules.table import ADDITEM, Rule, pack_rule
from ..runtime import require_count, require_lists
from .rows import rows_held_once
from .values import (
    LIST_CHANGES,
    LoweringPart,
    Scope,
    TupleValue,
    grown_list,
    holds,
    list_key,
)


class Lists(LoweringPart):
    """The lowerer's part for lists and tuples (see the module)."""

    def sequence(self, scope: Scope, node: ast.expr) -> ir.Expr:
        value = self.lower_expr(scope, node, None)
        if isinstance(value, TupleValue):
            value = self.materialize(scope, value, node)
        return value

    def as_values(self, scope: Scope, node: ast.AST, values: Any) -> tuple[Any, ...]:
        """``values``, each display made one value (:meth:`materialize`); a frozen
        distribution among them refused (held as a value: see srcad.lower.distributions)."""
        for value in values:
            self.refuse_frozen(scope, node, value)
        return tuple(
            self.materialize(scope, v, node) if isinstance(v, TupleValue) else v for v in values
        )

    def materialize(
        self, scope: Scope, value: TupleValue, node: ast.AST, name: str | None = None
    ) -> ir.Name:
        """A tuple of values as one value: ``t = (a, b, c)`` (named ``name``, or a temporary);
        a namedtuple's, an object of its class."""
        if value.cls is not None:
            return self.materialize_named_tuple(scope, value, node, name)
        items = self.as_values(scope, node, value.items)
        for item in items:  # (the new tuple holds them)
            self.share(item)
        name = name or self.names.temp()
        self.own_lists.add(name)
        if any(self.is_own_list(item) or self.holds_list(item) for item in items):
            self.holds_lists.add(name)
        self.hold_objects(name, items)  # (objects of one class: their items are such)
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
            s.target: k for k, s in enumerate(self.body) if k >= start and isinstance(s, ir.Assign)
        }
        for node in astwalk.walk(target):
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
                if value.id in self.list_items:  # (an item of a list of lists: still one)
                    self.list_items.add(name)
                if value.id in self.lost_objects:  # (and an item that may be an object)
                    self.lost_objects.add(name)

    def element(self, scope: Scope, seq: ir.Expr, index: ir.Expr, node: ast.AST) -> ir.Expr:
        rule = next(r for r in self.table.candidates(("subscript",)) if r.params == ("x", "i"))
        name = self.names.temp()
        if self.holds_list(seq) or isinstance(seq, ir.Name) and seq.id in self.list_items:
            self.list_items.add(name)  # (an item of an item of a list of lists, too)
        if isinstance(seq, ir.Name) and seq.id in self.made_items:
            self.made[name] = self.made_items[seq.id]
        elif isinstance(seq, ir.Name) and seq.id in self.lost_objects:
            self.lost_objects.add(name)  # (("a", a), ...: which item is an object, unknown)
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

    def grow_list(self, scope: Scope, call: ast.Call) -> None:
        """``items.append(v)`` / ``items.extend(vs)`` (``items.pop(i)``) as a statement (a
        call :meth:`appended_list` accepts)."""
        func = call.func
        assert isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
        receiver, method = func.value.id, func.attr
        if method == "pop":
            self.pop_item(scope, call)
            return
        if method in LIST_CHANGES:
            self.change_list(scope, call, receiver, method)
            return
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
        written = f".{method}" if not isinstance(node, ast.AugAssign) else (
            "+=" if isinstance(node.op, ast.Add) else "*="
        )
        if (
            isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add)
            and isinstance(old, TupleValue) and not old.is_list
            and isinstance(value_node, ast.Tuple)
        ):  # (a tuple: `b += (v,)` makes a new tuple, which another name of the old one
            value = self.lower_expr(scope, value_node, None)  # does not see)
            assert isinstance(value, TupleValue)
            scope.env[receiver] = TupleValue((*old.items, *value.items))
            return
        self.check_growable(scope, node, receiver, old, written)
        value = self.lower_expr(scope, value_node, None)
        self.refuse_def_value(scope, value_node, value)  # (a def of the code: only called)
        if isinstance(old, TupleValue) and method == "append":
            scope.env[receiver] = TupleValue((*old.items, value), old.is_list)
        elif isinstance(old, TupleValue) and isinstance(value, TupleValue):
            scope.env[receiver] = TupleValue((*old.items, *value.items), old.is_list)
        else:
            self.refuse_grown_objects(scope, node, receiver, value)
            if isinstance(node, ast.AugAssign) and not self.is_own_list(value):
                # (`items += x` of an array x is numpy's addition: lists have no `+=` of
                # their own that numpy would not take first)
                old, value = self.as_values(scope, node, (old, value))
                joined = ast.copy_location(ast.BinOp(node.target, ast.Add(), node.value), node)
                self.emit(self.list_operands_check(scope, joined, old, value))
            rule, helper = (APPEND, "appended") if method == "append" else (EXTEND, "extended")
            name = self.variable_name(scope, receiver)
            scope.env[receiver] = self.list_operation(scope, node, rule, helper, (old, value), name)

    def change_list(self, scope: Scope, call: ast.Call, receiver: str, method: str) -> None:
        """``items.sort()``, ``.reverse()``, ``.insert(i, v)``, ``.remove(v)`` and
        ``.clear()`` on a list this function made: the name gets the new list value the
        method leaves (``sorted(items)``, ``items[::-1]``, ``items[:i] + [v] + items[i:]``,
        the list without the first item equal to ``v``, ``[]``)."""
        old = scope.env.get(receiver)
        written = getattr(call, "srcad_written_as", method)  # (sort(key=): desugared)
        self.check_growable(scope, call, receiver, old, f".{written}")
        if method == "remove":  # items.pop(items.index(v))
            position = _method_call(receiver, "index", call.args, [], call)
            self.pop_item(scope, _method_call(receiver, "pop", [position], [], call))
            return
        replacement = _changed_list(receiver, method, call)
        if replacement is None:
            raise self.error(
                scope,
                call,
                f"`{receiver}.{method}` is given arguments srcad does not follow here",
                f"write it as Python documents it (`{receiver}.{_SIGNATURES[method]}`)",
            )
        value = self.lower_expr(scope, replacement, None)
        if isinstance(value, ir.Name):  # (a new list, this function's)
            self.own_lists.add(value.id)
            self.not_dicts.add(value.id)
        scope.env[receiver] = value

    def delete_item(self, scope: Scope, deleted: ast.Subscript) -> None:
        """``del items[i]`` of one item of a list this function made: ``items.pop(i)``;
        ``del items[a:b:s]``: the list of the items it keeps; refused for anything else
        (with the new list or dict to write instead)."""
        assert isinstance(deleted.value, ast.Name)  # (srcad.subset: an item of a name)
        receiver = deleted.value.id
        value = scope.env.get(receiver)
        if isinstance(deleted.slice, ast.Slice) and self.is_own_list(value):
            # (del items[a:b:s]: a new list of the items kept)
            kept, position = self.names.invented("kept"), self.names.invented("k")
            self.lower_statements(
                scope, _kept_items(receiver, deleted.slice, kept, position), None
            )
            scope.env[receiver] = scope.env.pop(kept)
            scope.env.pop(position, None)
            return
        if isinstance(deleted.slice, ast.Slice) or not self.is_own_list(value):
            kept = (
                f"{{k: v for k, v in {receiver}.items() if k != key}}"
                if isinstance(value, ir.Name) and value.id in self.own_dicts
                else f"{receiver}[:i] + {receiver}[i + 1:]"
            )
            raise self.error(
                scope,
                deleted,
                f"`del` of an item of `{receiver}` is supported for items and slices of "
                "a list this function made",
                f"make a new one without it: `{receiver} = {kept}`",
            )
        popped = _method_call(receiver, "pop", [deleted.slice], [], deleted)
        popped.srcad_written_as = "del"  # type: ignore[attr-defined]  # (for messages)
        self.pop_item(scope, popped)

    def known_step(self, scope: Scope, where: ast.expr) -> int | None:
        """The step of the slice ``where`` (1 without one) where srcad knows it when it
        compiles (a constant, a name holding one); None otherwise, and for an index."""
        if not isinstance(where, ast.Slice):
            return None
        step = where.step
        if step is None:
            return 1
        sign = 1
        if isinstance(step, ast.UnaryOp) and isinstance(step.op, ast.USub):
            sign, step = -1, step.operand
        known = self.static_int(scope, step)
        return None if known is None else sign * known

    def pop_item(self, scope: Scope, call: ast.Call) -> Any:
        """``items.pop()`` / ``items.pop(i)`` on a list this function made: the item (read
        first), and a new list value without it for the name (a display with a constant
        position stays a display)."""
        func = call.func
        assert isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
        receiver = func.value.id
        old = scope.env.get(receiver)
        if len(call.args) > 1 or call.keywords or any(
            isinstance(a, ast.Starred) for a in call.args
        ):
            raise self.error(
                scope, call, f"`{receiver}.pop` takes one position here, or none",
                f"write `{receiver}.pop()` or `{receiver}.pop(i)`",
            )
        if isinstance(old, ir.Name) and old.id in self.own_dicts:
            raise self.error(
                scope,
                call,
                f"`{receiver}.pop(...)` of a dict: srcad follows a dict's item writes, not "
                "the removal of a key",
                f"read the item and make a new dict without the key: `v = {receiver}[key]`, "
                f"`{receiver} = {{k: w for k, w in {receiver}.items() if k != key}}`",
            )
        if old is None or holds(scope.arguments.get(receiver), old) or not self.is_own_list(
            old
        ):
            raise self.error(
                scope,
                call,
                f"`{receiver}.pop(...)` changes `{receiver}`, which is not a list this "
                "function made (the caller's list or dict, which srcad does not change, or "
                "one it cannot follow)",
                f"pop from a copy: `{receiver} = list({receiver})` first (of a dict: read "
                f"`{receiver}[key]` and make a new dict without the key)",
            )
        written = getattr(call, "srcad_written_as", None)  # (`del items[i]`: desugared)
        self.check_growable(scope, call, receiver, old, "del" if written == "del" else ".pop")
        index = self.lower_operand(scope, call.args[0]) if call.args else ir.Const(-1)
        if isinstance(old, TupleValue) and _known_position(index, old):
            items = list(old.items)
            value = items.pop(index.value)
            scope.env[receiver] = TupleValue(tuple(items), old.is_list)
            return value
        seq = self.materialize(scope, old, call) if isinstance(old, TupleValue) else old
        value = self.element(scope, seq, index, call)
        name = self.variable_name(scope, receiver)
        scope.env[receiver] = self.list_operation(
            scope, call, REMOVE, "list_removed", (seq, index), name
        )
        return value

    def handing_on(self, scope: Scope) -> frozenset[int]:
        """The ``Name`` reads of ``scope``'s function after which another variable or
        list may hold the same list (:func:`_handed_on_reads`)."""
        function = scope.function
        if function not in self._handing_on:
            self._handing_on[function] = _handed_on_reads(function)
        return self._handing_on[function]

    def refuse_stale(
        self, scope: Scope, node: ast.AST, value: Any, name: str | None = None
    ) -> None:
        """Refuse reading (or changing) ``node``, a name for a list a helper has changed
        in place since (``smooth(a)`` writing ``a[i]``): the name still holds the list's
        old value. ``name``: the variable, where ``node`` is the change (``a.append(v)``)."""
        if not isinstance(value, ir.Name | TupleValue):
            return
        stale = self.stale_lists.get(list_key(value))
        if stale is None:
            return
        name = name if name is not None else node.id  # type: ignore[attr-defined]
        helper, receiver, changed = stale
        if helper is scope and name == receiver:  # (the helper's own name: current)
            return
        line = helper.source.location(changed).lineno
        raise self.error(
            scope,
            node,
            f"`{name}` is the list that `{helper.function.name}` changed in place "
            f"(line {line}), a change srcad does not follow back into this function",
            f"return the list from `{helper.function.name}` and assign it here "
            f"(`{name} = {helper.function.name}(...)`)",
        )

    def is_shared(self, value: Any) -> bool:
        """Is the list ``value`` held by another variable or list too (:meth:`share`)?"""
        if isinstance(value, TupleValue):
            return id(value) in self.shared_displays
        return isinstance(value, ir.Name) and value.id in self.shared_lists

    def share(self, value: Any) -> None:
        """Note that the lists ``value`` is or holds are held elsewhere too: growing them
        would change what the other holder sees (refused)."""
        if isinstance(value, TupleValue):
            self.shared_displays[id(value)] = value
            for item in value.items:
                self.share(item)
        elif isinstance(value, ir.Name) and value.id in self.own_lists:
            self.shared_lists.add(value.id)

    def refuse_blocked_deque(self, scope: Scope, name: str) -> None:
        """Refuse a deque the function makes but uses otherwise than as a list, at that
        use (:func:`srcad.deques.blocked_deque`), where a list method on it fails."""
        blocked = blocked_deque(scope.function, name)
        if blocked is not None:
            use, spelled = blocked
            raise self.error(
                scope,
                use,
                f"`{name}` is a deque, which srcad reads as the list it behaves as when it "
                "is bound once and then only appended to (`append`, `appendleft`, "
                "`extend`), popped (`popleft`, `pop`), cleared, and read as a list is "
                f"(`len`, `sum`, an index, a loop, numpy); here it is {spelled}",
                "write that step with a list (`w = w[-1:] + w[:-1]` rotates, `w2 = list(w)` "
                f"copies), or make `{name}` a list and trim it yourself (`{name} = "
                f"{name}[-k:]`)",
            )

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
        operands = self.as_values(scope, node, operands)
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

    def appended_list(self, scope: Scope, node: ast.AST) -> ast.Name | None:
        """``items`` of ``items.append(v)``, ``items.extend(vs)`` or another call that
        changes a list (``items.sort()`` of a list this function made, not of an array):
        not of ``np.append(a, v)``, which is a call of a module's function. None for any
        other node."""
        receiver = grown_list(node)
        if receiver is None or isinstance(self.denote(scope, receiver).static, types.ModuleType):
            return None
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        if self.user_method(scope, node.func):  # (a class's own `append`, `pop`: its code)
            return None
        if node.func.attr in LIST_CHANGES and not self.is_own_list(scope.env.get(receiver.id)):
            return None  # (`a.sort()` of an array, say)
        return receiver

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
            if not (self.is_own_list(left) and self.is_own_list(right)):
                left, right = self.as_values(scope, node, (left, right))
                self.emit(self.list_operands_check(scope, node, left, right))
            return self.list_operation(scope, node, EXTEND, "extended", (left, right), name)
        items, count = (left, right) if self.is_own_list(left) else (right, left)
        if (
            isinstance(items, TupleValue)
            and isinstance(count, ir.Const)
            and isinstance(count.value, int)
        ):
            return TupleValue(items.items * count.value, items.is_list)
        if not (isinstance(count, ir.Const) and isinstance(count.value, int)):
            self.emit(self.list_operands_check(scope, node, count))
        return self.list_operation(scope, node, REPEAT, "repeated", (items, count), name)

    def list_operands_check(self, scope: Scope, node: ast.BinOp, *operands: Any) -> ir.Stmt:
        """A check that ``+`` or ``*`` of a list is the list operation where lowering
        cannot tell: neither side of ``a + b`` is a numpy value, the count of ``a * n`` is
        an int (else it is numpy's elementwise arithmetic, which srcad does not read)."""
        joining = isinstance(node.op, ast.Add)
        where = scope.source.location(node)
        error = UnsupportedSyntaxError(
            f"`{'+' if joining else '*'}` of a Python list and a numpy value is numpy's "
            f"elementwise {'addition' if joining else 'product'}, and srcad reads it as "
            f"{'joining two lists' if joining else 'repeating the list'}",
            "make the list an array first "
            f"(`np.array(weights) {'+' if joining else '*'} x`)",
            where,
        )
        return self.run_time_check(
            require_lists if joining else require_count, operands, error, "not_numpy",
            note="a list operation, not numpy's arithmetic",
        )

    def may_be_list(self, scope: Scope, node: ast.expr) -> bool:
        """Is ``node`` a list or tuple display, a variable holding a list this function
        made, a slice or ``+``/``*`` of one, or a call that makes a list (``list(...)``,
        ``sorted(...)``, ``a.tolist()``)? (Then ``+`` and ``*`` are the sequence
        operations.)"""
        if isinstance(node, ast.List | ast.Tuple):
            return True
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mult):
            return self.may_be_list(scope, node.left) or self.may_be_list(scope, node.right)
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            return self.may_be_list(scope, node.value)  # (a slice of a list is a list)
        if isinstance(node, ast.Call):  # list(...), sorted(...), a.tolist()
            if isinstance(node.func, ast.Attribute) and node.func.attr == "tolist":
                return True
            return any(self.denote(scope, node.func).static is f for f in (list, sorted))
        return isinstance(node, ast.Name) and self.is_own_list(scope.env.get(node.id))

    def set_list_item(
        self, scope: Scope, target: ast.Subscript, value_node: ast.expr, stmt: ast.AST
    ) -> None:
        """``items[i] = v`` on a list this function made: a new list value for the name
        (a display with a constant position stays a display). ``stmt``: where the write is."""
        assert isinstance(target.value, ast.Name)  # (store_item refuses a display)
        receiver = target.value.id
        old = scope.env.get(receiver)
        if isinstance(old, TupleValue) and not old.is_list:
            raise self.error(
                scope, target, f"`{receiver}` holds a tuple, which has no item assignment "
                "(Python raises TypeError)", f"make a new tuple (`{receiver} = "
                f"{receiver}._replace(x=...)` for a namedtuple), or make `{receiver}` a list",
            )
        self.check_growable(scope, stmt, receiver, old, "[...] =")
        step = self.known_step(scope, target.slice)
        if step == 1:  # items[a:b] = values: items[:low] + list(values) + items[high:]
            assert isinstance(target.slice, ast.Slice)
            self.assign(scope, [ast.Name(receiver, ast.Store())], _slice_replaced(
                receiver, target.slice, value_node
            ))
            return
        if isinstance(target.slice, ast.Slice) and step is not None:
            # items[a:b:s] = values: as many values as positions, each written there
            names = [self.names.invented(n) for n in ("values", "positions", "k")]
            self.lower_statements(
                scope, _stepped_writes(receiver, target.slice, value_node, *names), None
            )
            for name in names:
                scope.env.pop(name, None)
            return
        if isinstance(target.slice, ast.Slice):
            raise self.error(
                scope,
                target,
                f"writing a slice of the list `{receiver}` with a step srcad does not know "
                "when it compiles is not supported",
                "write the step as a constant (`xs[::2] = ...`), or the items one by one",
            )
        value = self.lower_expr(scope, value_node, None)
        index = self.lower_operand(scope, target.slice)
        if isinstance(old, TupleValue) and _known_position(index, old):
            items = list(old.items)
            items[index.value] = value
            scope.env[receiver] = TupleValue(tuple(items), old.is_list)
            return
        name = self.variable_name(scope, receiver)
        scope.env[receiver] = self.list_operation(
            scope, stmt, REPLACE, "list_replaced", (old, index, value), name
        )

    def rows_held_once(self, scope: Scope, target: ast.Subscript) -> bool:
        """Whether ``target`` is ``R[i][j]`` of a list of lists this function made, whose
        rows no other name or list holds (:func:`srcad.lower.rows.rows_held_once`)."""
        return self.row_sharer(scope, target) is None

    def row_sharer(self, scope: Scope, target: ast.Subscript) -> ast.AST | None:
        """For ``target`` ``R[i][j]`` of a list of lists this function made: the first
        statement that may let another holder share a row of ``R``, or None if none
        does. The function itself for any other target."""
        row = target.value
        function = scope.function
        if not (
            isinstance(row, ast.Subscript)
            and isinstance(row.value, ast.Name)
            and not isinstance(row.slice, ast.Slice)
            and not isinstance(target.slice, ast.Slice)
            and self.is_own_list(scope.env.get(row.value.id))
        ):
            return function
        if function not in self._rows_held_once:
            self._rows_held_once[function] = rows_held_once(function)
        return self._rows_held_once[function].get(row.value.id, function)

    def set_row_item(
        self, scope: Scope, target: ast.Subscript, value_node: ast.expr, rule: Rule,
        stmt: ast.AST,
    ) -> None:
        """``R[i][j] = v`` (``+=`` for ``rule`` ADDITEM) where only ``R`` holds its rows
        (:meth:`rows_held_once`): the row gets a new list value, and ``R`` one holding it
        (``row_2 = list_replaced(row_1, j, v)``, ``R_2 = list_replaced(R_1, i, row_2)``)."""
        row_node = target.value
        assert isinstance(row_node, ast.Subscript) and isinstance(row_node.value, ast.Name)
        receiver = row_node.value.id
        value = self.lower_operand(scope, item_value(target, value_node, rule, stmt))
        old = scope.env.get(receiver)
        self.check_growable(scope, stmt, receiver, old, "[...][...] =")
        outer = self.sequence(scope, row_node.value)
        position = self.lower_operand(scope, row_node.slice)
        row = self.element(scope, outer, position, row_node)
        index = self.lower_operand(scope, target.slice)
        new_row = self.list_operation(scope, stmt, REPLACE, "list_replaced", (row, index, value))
        name = self.variable_name(scope, receiver)
        scope.env[receiver] = self.list_operation(
            scope, stmt, REPLACE, "list_replaced", (outer, position, new_row), name
        )

    def check_growable(
        self, scope: Scope, node: ast.AST, receiver: str, old: Any, method: str
    ) -> None:
        """Refuse changing the list ``receiver`` holds where a new list value would not be
        the same program: a list from outside (a parameter, a global), or one another
        name, list or loop also holds."""
        self.refuse_stale(scope, node, old, receiver)  # (changed by a helper, then here)
        passed_in = holds(scope.arguments.get(receiver), old)  # (the parameter's value)
        if passed_in and not scope.is_root and self.is_own_list(old):
            # a helper changing a list its caller made: the caller's names for the list
            # hold its old value from now on, which reading refuses (see read_name)
            self.stale_lists.setdefault(list_key(old), (scope, receiver, node))
        elif old is None and any(
            receiver in outer.env for outer in _scope_chain(scope) if outer is not scope
        ):
            raise self.error(
                scope,
                node,
                f"`{receiver}{method}` changes `{receiver}`, a list of an enclosing function, "
                "from a function defined inside it: srcad does not follow that change",
                f"return the value from the nested function and change `{receiver}` in the "
                f"enclosing one (`{receiver}.append(record(v))`)",
            )
        elif old is None or passed_in or not self.is_own_list(old):
            self.refuse_blocked_deque(scope, receiver)
            raise self.error(
                scope,
                node,
                f"`{f'del {receiver}[...]' if method == 'del' else receiver + method}` "
                "changes a list this function did not make "
                "(the caller's list, or one srcad cannot follow)",
                f"make a new list first: `{receiver} = list({receiver})`, or start from `[]`",
            )
        holders = [  # (srcad's own temporaries, a comprehension's list, are read once:
            name  # where they were made, so they do not hold the list afterwards)
            for outer in _scope_chain(scope)
            for name, value in outer.env.items()
            if isinstance(name, str)
            and name != receiver
            and name not in getattr(outer.function, "srcad_temporaries", ())
            and holds(value, old)
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
                f"copy it before you change it: `{receiver} = list({receiver})`",
            )
        if isinstance(old, ir.Name):  # (a loop that shares it later refuses: back_edge)
            self.changed_lists.setdefault(old.id, (receiver, method, scope, node))
        if any(s is scope and receiver in names for s, names in self.iterated):
            if method == "[...] =":
                raise self.error(
                    scope,
                    node,
                    f"`{receiver}[...] =` changes an item of `{receiver}` inside a loop that "
                    "runs over it (the loop would read the items as they were)",
                    f"run over the positions (`for i in range(len({receiver}))`, reading "
                    f"`{receiver}[i]`), or over a copy (`for v in list({receiver})`)",
                )
            raise self.error(
                scope,
                node,
                f"`{receiver}` grows inside a loop that runs over it",
                "collect the new items in another list and add them after the loop",
            )


def item_value(
    target: ast.Subscript, value_node: ast.expr, rule: Rule, stmt: ast.AST
) -> ast.expr:
    """The new value of the list item ``target`` given ``value_node``: itself, or for
    ``rule`` ADDITEM (``items[i] += v``) the item read plus it (a list gets a new value;
    nothing is added in place)."""
    if rule is not ADDITEM:
        return value_node
    read = ast.copy_location(ast.Subscript(target.value, target.slice, ast.Load()), target)
    return ast.copy_location(ast.BinOp(read, ast.Add(), value_node), stmt)


def _scope_chain(scope: Scope | None) -> Iterator[Scope]:
    while scope is not None:
        yield scope
        scope = scope.parent


def _handed_on_reads(fn: ast.FunctionDef) -> frozenset[int]:
    """The ids of the ``Name`` reads in ``fn`` whose value another variable or list may
    then hold too: the value of an assignment (``ys = hs``, also through ``a if c else
    b`` and ``a or b``; not an unpacking ``a, b = hs``, which binds the items), an item
    of a display (``[hs, 1]``, ``for ys in [hs]``, ``{"k": hs}``), the argument of
    ``.append``/``.insert`` (``.extend`` copies the items: a display's items are
    handed on as items of a display). srcad's own temporaries (a comprehension's
    list, :mod:`srcad.desugar`) are read once, so they hand nothing on."""
    temporaries: frozenset[str] = getattr(fn, "srcad_temporaries", frozenset())
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

    for node in astwalk.nodes(fn):
        unpacking = isinstance(node, ast.Assign) and all(
            isinstance(t, ast.Tuple | ast.List) for t in node.targets
        )  # (`a, b = items` binds the items, not the list)
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            if not unpacking:
                held(node.value)
        elif isinstance(node, ast.List | ast.Tuple) and isinstance(node.ctx, ast.Load):
            for element in node.elts:
                held(element)
        elif isinstance(node, ast.Dict):  # ({"k": hs}: the dict holds the list)
            for element in node.values:
                held(element)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("append", "insert")
        ):
            for arg in node.args[-1:]:
                held(arg)
    return frozenset(found)


def _known_position(index: ir.Expr, items: TupleValue) -> TypeGuard[ir.Const]:
    """Whether ``index`` is an int constant that names one of ``items``."""
    return (
        isinstance(index, ir.Const)
        and isinstance(index.value, int)
        and -len(items.items) <= index.value < len(items.items)
    )


#: how each list method that :meth:`Lists.change_list` follows is called
_SIGNATURES = {
    "insert": "insert(i, value)",
    "remove": "remove(value)",
    "reverse": "reverse()",
    "sort": "sort(reverse=False)",
    "clear": "clear()",
}


def _method_call(
    receiver: str, method: str, args: list[ast.expr], keywords: list[ast.keyword], at: ast.AST
) -> ast.Call:
    """``receiver.method(*args, **keywords)``, located at ``at``."""
    func = ast.Attribute(ast.Name(receiver, ast.Load()), method, ast.Load())
    return ast.fix_missing_locations(ast.copy_location(ast.Call(func, args, keywords), at))


def _changed_list(receiver: str, method: str, call: ast.Call) -> ast.expr | None:
    """The new value of the list ``receiver`` after ``receiver.method(...)`` (``sort``,
    ``reverse``, ``insert``, ``clear``), as an expression; None for arguments the
    method does not take."""
    args, keywords = call.args, call.keywords
    if any(isinstance(a, ast.Starred) for a in args) or any(k.arg is None for k in keywords):
        return None
    items = ast.Name(receiver, ast.Load())
    value: ast.expr
    if method == "sort" and not args and {k.arg for k in keywords} <= {"reverse", "key"}:
        value = ast.Call(ast.Name("sorted", ast.Load()), [items], keywords)
    elif method == "reverse" and not args and not keywords:
        value = ast.Subscript(items, ast.Slice(None, None, ast.Constant(-1)), ast.Load())
    elif method == "clear" and not args and not keywords:
        value = ast.List([], ast.Load())
    elif method == "insert" and len(args) == 2 and not keywords:
        position, item = args
        before = ast.Subscript(items, ast.Slice(None, position, None), ast.Load())
        after = ast.Subscript(
            ast.Name(receiver, ast.Load()), ast.Slice(position, None, None), ast.Load()
        )
        joined = ast.BinOp(before, ast.Add(), ast.List([item], ast.Load()))
        value = ast.BinOp(joined, ast.Add(), after)
    else:
        return None
    return ast.fix_missing_locations(ast.copy_location(value, call))


def _slice_arguments(items: str, where: ast.Slice) -> list[ast.expr]:
    """``start, stop, step, len(items)`` of ``items[start:stop:step]`` (None where left out)."""
    load = ast.Load()
    length = ast.Call(ast.Name("len", load), [ast.Name(items, load)], [])
    given = (where.lower, where.upper, where.step)
    return [*(ast.Constant(None) if part is None else part for part in given), length]


def _stepped_writes(
    items: str, where: ast.Slice, value: ast.expr, values: str, positions: str, k: str
) -> list[ast.stmt]:
    """``items[a:b:s] = value`` as ``values = value``, ``positions =
    stepped_positions(a, b, s, len(items), len(values))`` (Python's ValueError where
    they are not as many), then ``for k in range(len(positions)): items[positions[k]] =
    values[k]``."""
    load, store = ast.Load(), ast.Store()

    def call(name: str, *args: ast.expr) -> ast.Call:
        return ast.Call(ast.Name(name, load), list(args), [])

    count = call("len", ast.Name(values, load))
    written = ast.Subscript(
        ast.Name(items, load), ast.Subscript(ast.Name(positions, load), ast.Name(k, load), load),
        store,
    )
    stmts: list[ast.stmt] = [
        ast.Assign([ast.Name(values, store)], value),
        ast.Assign([ast.Name(positions, store)],
                   call(STEPPED_POSITIONS, *_slice_arguments(items, where), count)),
        ast.For(ast.Name(k, store), call("range", call("len", ast.Name(positions, load))), [
            ast.Assign([written], ast.Subscript(ast.Name(values, load), ast.Name(k, load), load))
        ], []),
    ]
    return [ast.fix_missing_locations(ast.copy_location(s, where)) for s in stmts]


def _kept_items(items: str, where: ast.Slice, kept: str, k: str) -> list[ast.stmt]:
    """``del items[a:b:s]`` as ``kept = []``, then ``for k in kept_positions(a, b, s,
    len(items)): kept.append(items[k])`` (the new list, for ``items``)."""
    load, store = ast.Load(), ast.Store()
    positions = ast.Call(ast.Name(KEPT_POSITIONS, load), _slice_arguments(items, where), [])
    item = ast.Subscript(ast.Name(items, load), ast.Name(k, load), load)
    stmts: list[ast.stmt] = [
        ast.Assign([ast.Name(kept, store)], ast.List([], load)),
        ast.For(ast.Name(k, store), positions, [
            ast.Expr(_method_call(kept, "append", [item], [], where))
        ], []),
    ]
    return [ast.fix_missing_locations(ast.copy_location(s, where)) for s in stmts]


def _slice_replaced(items: str, where: ast.Slice, value: ast.expr) -> ast.expr:
    """``items[a:b] = value`` (no step) as the new list: ``items[:low] + list(value) +
    items[high:]``, where ``low, high = slice_bounds(a, b, len(items))`` (a list display
    joined as it is)."""
    load = ast.Load()
    none = ast.Constant(None)
    length = ast.Call(ast.Name("len", load), [ast.Name(items, load)], [])
    bounds = ast.Call(
        ast.Name(SLICE_BOUNDS, load), [where.lower or none, where.upper or none, length], []
    )
    low, high = (ast.Subscript(bounds, ast.Constant(k), load) for k in (0, 1))
    if not isinstance(value, ast.List):
        value = ast.Call(ast.Name("list", load), [value], [])
    head = ast.Subscript(ast.Name(items, load), ast.Slice(None, low, None), load)
    tail = ast.Subscript(ast.Name(items, load), ast.Slice(high, None, None), load)
    joined = ast.BinOp(ast.BinOp(head, ast.Add(), value), ast.Add(), tail)
    return ast.fix_missing_locations(ast.copy_location(joined, where))
