"""Operations: each operation matched against the derivative table (rule selection)."""

from __future__ import annotations

import ast
import sys
import types
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeGuard

import numpy as np

from .. import array_api, astwalk, ir, pyexpr
from ..chains import MISSING, chain_names
from ..errors import NoRuleError
from ..frontend import installed
from ..pyexpr import Written
from ..rules.numpy_arrays import ARRAY_OF_ITEMS, COPY_METHOD, SHALLOW_COPY, TOLIST
from ..rules.scalar import DEEP_COPY, LIST_COPY, SORTED
from ..rules.table import Rule, Scatter, callee_key, index_key, is_method_rule, match
from .values import (
    NOT_STATIC,
    USER_SPELLING,
    LoweringPart,
    Scope,
    TupleValue,
    changes_its_object,
    may_change_state,
    shuffles,
    writes_into_out,
)

#: operators that give a set of two dict views (``a.keys() & b.keys()``)
_SET_OPERATORS = frozenset(("&", "|", "^", "-"))


class Operations(LoweringPart):
    """The lowerer's part for operations (see the module)."""

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
        return self.emit_gate(scope, helper, rule, (operand,), node, name)

    def emit_gate(
        self, scope: Scope, helper: str, rule: Rule, operands: tuple[ir.Expr, ...],
        node: ast.AST, name: str | None = None,
    ) -> ir.Expr:
        """``t = helper(*operands)``, one gate of ``rule`` (a runtime helper of srcad's
        own, whose parameters take the ``operands`` in order)."""
        name = name or self.names.temp()
        call = ir.Call(self.helper_ref(helper, rule.env[helper]), operands)
        self.emit(ir.Assign(
            name, call, rule, operands, tag=self.next_tag(), loc=scope.source.location(node)
        ))
        return ir.Name(name)

    def raw(self, node: ast.expr) -> ir.Expr:
        """The IR of a reference written in the code (``np.linalg.norm``), as written."""
        return pyexpr.from_ast(node)

    def written(self, node: ast.expr) -> Written:
        """``node`` as rule selection reads it (see :class:`srcad.pyexpr.Written`)."""
        return pyexpr.written(node)

    def operation(
        self,
        scope: Scope,
        node: ast.expr,
        target: Callable[[], str] | None,
        in_place: bool = False,
    ) -> ir.Expr:
        """Lower one operation (and, first, its operands) to an Assign; return its name.

        The rule is selected on the operation as written (:meth:`find_rule`), before
        anything is lowered: a rule's pattern may span several operations (an idiom
        such as softmax's), and only the parts its parameters bind are operands. Those
        are lowered (:meth:`lower_operands`) in the order the rule binds them, each
        from the code it was written as, and the operation is spelled again in the
        user's words with the lowered operands in their places (:meth:`spell`).
        """
        written = self.as_written(scope, node)
        rule, bound = self.find_rule(scope, written)
        stateful = rule is not None and rule.draws  # (rng.normal(mu, sigma): it runs)
        if isinstance(node, ast.Call) and _without_copy(node):
            if self.denote(scope, node.func).static in _COPYING_UNLESS_TOLD:
                raise self.error(
                    scope,
                    node,
                    f"`{_excerpt(node.func)}(..., copy=False)` writes into its input in "
                    "place, which srcad's derivative of it does not follow",
                    "leave copy= out (a new array; assign it back if needed: "
                    "`a = np.nan_to_num(a)`)",
                )
        if rule is not None:
            self.follow_global_callee(scope, node)
            operands, placed = self.lower_operands(scope, rule, bound, node)
            value = self.spell(scope, written, placed)
            operand_list = tuple(operands[p] for p in rule.params)
            if rule is COPY_METHOD and (
                getattr(node, "srcad_dict_copy", False)  # (dict(p), as desugar wrote it)
                or self.is_container(scope, operand_list[0])
            ):
                rule = SHALLOW_COPY  # (dict(p), p.copy(): the same arrays, a new dict)
        else:
            value = self.spell_plain(scope, written)
            operand_list = ()
            callee = self.denote(scope, node.func).static if isinstance(node, ast.Call) else None
            stateful = isinstance(node, ast.Call) and may_change_state(callee)
            if stateful and isinstance(node, ast.Call):
                self.refuse_shuffle(scope, node)
            stateful = stateful or changes_its_object(callee)  # (`k = TALLY.bump()`)
            self.unmatched_arguments(scope, written, node)
            read = tuple(ir.Name(n) for n in dict.fromkeys(ir.names_in(value)))
            self.refuse_made_operands(scope, node, read)  # (type(u), hasattr(u, "x"))
        if isinstance(node, ast.BinOp | ast.UnaryOp | ast.Call) or (
            isinstance(node, ast.Compare) and not isinstance(node.ops[0], ast.Is | ast.IsNot)
        ):  # (an object the function made, given to a library function: a dict)
            self.refuse_made_operands(scope, node, operand_list)
        if target is None and (constant := _constant_arithmetic(value)) is not None:
            return constant  # (`2.0 * math.pi` in an expression: computed once, here)
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
                stateful=stateful,
            )
        )
        if rule is not None and not rule.view and not is_method_rule(rule) and not (
            isinstance(value, ir.BinOp) and value.op in _SET_OPERATORS
        ) and rule is not DEEP_COPY:  # (a & b of dict views is a set: its loop lists it
            # first; a deep copy of a dict is a dict)
            self.not_dicts.add(name)  # arithmetic, numpy functions: a number or an array
        first = operand_list[0] if operand_list else None
        if rule in (LIST_COPY, SORTED, TOLIST) or (  # a copy, a slice of a list: a new list
            self.is_own_list(first) and (rule is COPY_METHOD or _is_slice_read(value))
        ):
            self.own_lists.add(name)
            if self.holds_list(first):
                self.holds_lists.add(name)
        elif isinstance(value, ir.Subscript) and (
            self.holds_list(first) or isinstance(first, ir.Name) and first.id in self.list_items
        ):  # (an item of an item of a list of lists may be a list too)
            self.list_items.add(name)
        if (
            rule is SHALLOW_COPY
            or _is_slice_read(value) and self.holds_objects(first)
            or rule is not None and rule.shares  # (np.split: a list of views)
        ):
            self.shallow_copies.add(name)  # (its items are objects others hold too)
            if self.holds_list(first):
                self.holds_lists.add(name)
        if (rule in (COPY_METHOD, SHALLOW_COPY) or _is_slice_read(value)) and isinstance(
            first, ir.Name
        ):  # (a copy of a parameter, or of such a copy: which parameter)
            origin = self.parameter_copies.get(first.id, first.id)
            if origin in self.parameter_names:
                self.parameter_copies[name] = origin
        return ir.Name(name)

    def refuse_shuffle(self, scope: Scope, call: ast.Call) -> None:
        """Refuse ``random.shuffle(xs)`` or ``rng.shuffle(x)`` (of a callee that
        :func:`may_change_state`): the order it gives its argument in place is a change
        srcad does not follow."""
        if shuffles(call):
            raise self.error(
                scope,
                call,
                f"`{_excerpt(call.func)}(...)` shuffles its argument in place, which srcad "
                "does not follow",
                "draw a permutation and index with it: `x = x[rng.permutation(len(x))]` "
                "(`items = [items[i] for i in ...]` for a list)",
            )

    def is_container(self, scope: Scope, value: ir.Expr) -> bool:
        """Whether ``value`` is a dict or list: one this function made, a shallow copy of
        one, or a parameter the code indexes with a string (``params["w"]``, directly or
        through a copy; a parameter of unknown type is an array as often)."""
        if not isinstance(value, ir.Name):
            return False
        name = value.id
        if name in self.own_dicts or name in self.shallow_copies or self.is_own_list(value):
            return True
        return name in self.parameter_names and name in self.keyed_parameters(scope)

    def keyed_parameters(self, scope: Scope) -> set[str]:
        """The parameters of ``scope``'s function (by their IR names) that its code
        indexes with a string constant, directly or through a copy (``q = p.copy()``)."""
        fn = scope.function
        found = self._keyed.get(fn)
        if found is None:
            keyed = {
                n.value.id for n in astwalk.walk(fn)
                if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name)
                and isinstance(n.slice, ast.Constant) and isinstance(n.slice.value, str)
            }
            for n in astwalk.walk(fn):  # (q = p.copy(): p is indexed as q is)
                if (
                    isinstance(n, ast.Assign) and len(n.targets) == 1
                    and isinstance(n.targets[0], ast.Name) and n.targets[0].id in keyed
                    and isinstance(n.value, ast.Call) and not n.value.args
                    and isinstance(n.value.func, ast.Attribute) and n.value.func.attr == "copy"
                    and isinstance(n.value.func.value, ast.Name)
                ):
                    keyed.add(n.value.func.value.id)
            found = self._keyed[fn] = {
                v.id for k, v in scope.env.items()
                if k in keyed and isinstance(v, ir.Name) and v.id in self.parameter_names
            }
        return found

    def as_written(self, scope: Scope, node: ast.expr) -> Written:
        """The operation ``node`` as rule selection reads it, without numpy's ``out=...``
        (``np.multiply(a, b, out=...)``: a 0-d array for a number, the same value); an
        error at a part that no operation can be (``f(*args)``, a lambda)."""
        try:
            written = self.written(node)
        except pyexpr.NotAnExpression as exc:
            raise self.error(
                scope,
                exc.node,
                f"`{_excerpt(exc.node)}` is not supported in a differentiated expression",
                "rewrite it with arithmetic and calls",
            ) from None
        form = written.form
        if (
            isinstance(form, ir.Call)
            and _OUT_ELLIPSIS in form.kwargs
            and writes_into_out(self.denote(scope, written.parts()[0]).static)
        ):
            form = replace(form, kwargs=tuple(k for k in form.kwargs if k != _OUT_ELLIPSIS))
            written = replace(written, form=form)
        return written

    def lower_operands(
        self, scope: Scope, rule: Rule, bound: dict[str, ir.Expr | Written], node: ast.expr
    ) -> tuple[dict[str, ir.Expr], dict[tuple[int, ...], ir.Expr]]:
        """Lower the parts ``rule``'s parameters bind, in the order it binds them (a
        default argument of the rule stays as it is): the operands by parameter, and the
        lowered parts by where they stand in the operation."""
        index_params = {a.index for a in rule.adjoints if isinstance(a, Scatter)}
        operands: dict[str, ir.Expr] = {}
        placed: dict[tuple[int, ...], ir.Expr] = {}
        for param, part in bound.items():
            if not isinstance(part, Written):  # a default argument of the rule
                operands[param] = part
                continue
            lower_one = self.lower_index if param in index_params else self.lower_operand
            operand = lower_one(scope, part.node)
            if _numpy_reads_lists(rule) and param not in rule.sequences and (
                rule.broadcasting or rule.elementwise or differentiable(rule, param)
            ) and (_listed(operand) or self.is_own_list(operand)):
                # (np.exp([a, 2 * a]), np.dot(v, v) of a list v: numpy's array, not a
                # list, for the derivative; not for an operator: `shape + (1,)` joins
                # tuples)
                operand = self.as_array(scope, operand, node)
            operands[param] = placed[part.at] = operand
        return operands, placed

    def unmatched_arguments(self, scope: Scope, written: Written, node: ast.expr) -> None:
        """A call of a function that has rules, none of which takes these arguments
        (``np.mean(x, where=m)``): why, reported if its value is differentiated."""
        raw = written.form
        if not isinstance(raw, ir.Call):
            return
        callee = self.denote(scope, written.parts()[0]).static
        if callee is NOT_STATIC or not self.table.has_callable(callee):
            return
        rules = self.table.candidates(callee_key(callee))
        known = {p for rule in rules for p in rule.params}
        unknown = [k for k, _ in raw.kwargs if k not in known]
        most = max(len(rule.pattern.args) + len(rule.pattern.kwargs) for rule in rules
                   if isinstance(rule.pattern, ir.Call))
        what = (
            f"the keyword `{unknown[0]}`" if unknown
            else f"{len(raw.args)} positional arguments" if len(raw.args) > most
            else "these arguments"
        )
        spelled = f"{_excerpt(node.func)}(...)" if isinstance(node, ast.Call) else "this call"
        where = scope.source.location(node)
        noted = [rule.notes[k] for k in unknown[:1] for rule in rules if k in rule.notes]
        if noted:  # (the rule's own words for a keyword it leaves out)
            reason, hint = noted[0]
            self.refusals[where] = NoRuleError(
                f"`{spelled}` has no derivative with {what}: {reason}", hint, where
            )
            return
        effect = (  # (a mask has a way around it; other options, their own)
            "compute its effect with other operations: `np.where` for `where=`"
            if unknown and unknown[0] == "where" else "compute its effect with other operations"
        )
        self.refusals[where] = NoRuleError(
            f"`{spelled}` has derivative rules, but none for {what}",
            f"leave that argument out ({effect}), or register a rule for this form with "
            "srcad.defrule",
            where,
        )

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
        self.refuse_frozen(scope, node, value)  # (a frozen distribution passed as a value)
        self.refuse_def_value(scope, node, value)  # (a def of the code: only called)
        if value is array_api.NAMESPACE:  # passed to a call srcad does not read
            return self.namespace_name()
        if isinstance(value, TupleValue):  # a shape, an axis tuple, a list of arrays...
            if all(isinstance(v, ir.Const) for v in value.items):
                items = tuple(value.items)
                # (a list, also one held by a name: numpy indexes by a list and by a
                # tuple differently)
                return ir.Const([v.value for v in items]) if value.is_list else ir.Tuple(items)
            return self.materialize(scope, value, node)
        return value

    def numpy_ref(self) -> ir.Name:
        """How generated code names numpy: as the user's code does (``np``), else bound."""
        for name in ("np", "numpy"):
            if name not in self.root_locals() and self.root.lookup(name) is np:
                return ir.Name(name)
        return self.helper_ref("np", np)

    def as_array(self, scope: Scope, items: ir.Expr, node: ast.expr) -> ir.Name:
        """A list given to an elementwise numpy function (``np.power(x, [0, 1, 2])``,
        ``np.exp([a, 2 * a])``), made the array numpy makes of it, so that the
        derivative's arithmetic reads an array and its shape (``2 * t`` of a list would
        repeat it), and the gradient goes back to the list's items."""
        name = self.names.temp()
        self.emit(ir.Assign(
            name,
            ir.Call(ir.Attr(self.numpy_ref(), "array"), (items,)),
            ARRAY_OF_ITEMS,
            (items,),
            tag=self.next_tag(),
            loc=scope.source.location(node),
        ))
        return ir.Name(name)

    def follow_global_callee(self, scope: Scope, node: ast.expr) -> None:
        """A call through a module's global or a closure variable (``ACT = np.tanh``,
        then ``ACT(z)``), or through an attribute of a module or class of the user's
        (``physics.act(z)``, ``Act.fn(z)``), used the rule of the function the name held:
        the gradient is made again if the name is rebound (``ACT = np.sin``,
        ``physics.act = math.exp``, or ``nonlocal act`` set again), as for a helper
        redefined. (An attribute of a library's module, ``np.tanh``, is taken to stay.)"""
        if not isinstance(node, ast.Call):
            return
        names = chain_names(node.func)
        if names is None:
            return
        name = names[0]
        if name in scope.local_names or (
            name not in scope.source.globals and name not in scope.source.closure
        ):
            return
        if len(names) > 1 and _library_module(scope.source.lookup(name)):
            return
        denoted = self.denote(scope, node.func)
        if denoted.fixed and callable(denoted.obj):
            self.dependencies.append((denoted.lookup, denoted.obj, None))

    def find_rule(
        self, scope: Scope, written: Written
    ) -> tuple[Rule | None, dict[str, ir.Expr | Written]]:
        """The first rule whose pattern matches the operation as written, and what its
        parameters bind (parts of ``written``; defaults of the rule, plain IR)."""
        resolve = lambda e: self.denote(scope, e).static  # noqa: E731
        key = index_key(
            written, lambda e: MISSING if resolve(e) is NOT_STATIC else resolve(e)
        )
        if key is None:
            return None, {}
        for rule in self.table.candidates(key):
            bound = match(rule.pattern, written, rule, resolve)
            if bound is not None:
                return rule, bound
        return None, {}

    def spell(
        self, scope: Scope, written: Written, placed: dict[tuple[int, ...], ir.Expr]
    ) -> ir.Expr:
        """The forward expression in the user's own spelling, the lowered operands
        ``placed`` where their parts stand."""
        if written.at in placed:
            return placed[written.at]
        static = self.static_reference(scope, written)
        if static is not None:
            return static
        if written.form is None or isinstance(written.form, ir.Name):
            # (no operand: the second place of a parameter a rule names twice, such
            # as softmax's x, bound where it is first written)
            return self.lower_operand(scope, written.node)
        return ir.with_children(
            written.form, [self.spell(scope, part, placed) for part in written.parts()]
        )

    def spell_plain(self, scope: Scope, written: Written) -> ir.Expr:
        """The forward expression for an operation without a rule (not differentiable):
        a static callee named as it is, every other part lowered as an operand."""
        assert written.form is not None  # (an operation: see pyexpr.written)
        calls = isinstance(written.form, ir.Call)
        spelled = []
        for i, part in enumerate(written.parts()):
            static = self.static_reference(scope, part) if calls and i == 0 else None
            spelled.append(static if static is not None else self.lower_operand(scope, part.node))
        return ir.with_children(written.form, spelled)

    def static_reference(self, scope: Scope, part: Written) -> ir.Expr | None:
        """How generated code names ``part`` if it is a global (``np.sin``), else None."""
        reference = part.reference()
        if reference is None or not self.denote(scope, reference).fixed:
            return None
        return self.reference(scope, reference)


_OUT_ELLIPSIS = ("out", ir.Const(Ellipsis))




def _excerpt(node: ast.AST, limit: int = 40) -> str:
    """The user's code of ``node``, shortened for a message."""
    text = getattr(node, USER_SPELLING, None) or ast.unparse(node)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def differentiable(rule: Rule, param: str) -> bool:
    """A parameter of ``rule`` that gets a gradient (``np.dot``'s operands), of a rule that
    does not make an array of it itself (``np.array(x)``)."""
    return not rule.creates and rule.adjoint_for(param) is not None


def _listed(operand: ir.Expr) -> TypeGuard[ir.Const]:
    """A list or tuple of numbers written in the code (``[0, 1, 2]``)."""
    return isinstance(operand, ir.Const) and isinstance(operand.value, list | tuple)


def _numpy_reads_lists(rule: Rule) -> bool:
    """Whether a list operand of ``rule`` is numpy's array: for a function call, and for
    an operator lists do not have (``arr - [a, b]``; ``+`` and ``*`` join and repeat,
    ``%`` formats)."""
    pattern = rule.pattern
    return isinstance(pattern, ir.Call) or (
        isinstance(pattern, ir.BinOp) and pattern.op in ("-", "/", "//", "**", "@")
    )


def _is_slice_read(value: ir.Expr) -> bool:
    return isinstance(value, ir.Subscript) and isinstance(value.index, ir.Slice)


def _constant_arithmetic(value: ir.Expr) -> ir.Const | None:
    """The number ``value`` is when it is arithmetic of two number constants (``2.0 *
    3.141592653589793``, as ``2 * math.pi`` reads), as Python computes it (see
    :func:`~srcad.pyexpr.constant_arithmetic`); None for anything else."""
    if not (
        isinstance(value, ir.BinOp)
        and isinstance(value.left, ir.Const)
        and isinstance(value.right, ir.Const)
    ):
        return None
    result = pyexpr.constant_arithmetic(value.op, value.left.value, value.right.value)
    return None if result is None else ir.Const(result)


#: numpy functions that write into their input when told ``copy=False``
_COPYING_UNLESS_TOLD = (np.nan_to_num,)


def _without_copy(call: ast.Call) -> bool:
    """Whether ``call`` passes ``copy=False`` (as a keyword, or second by position)."""
    given = [k.value for k in call.keywords if k.arg == "copy"] + call.args[1:2]
    return any(isinstance(v, ast.Constant) and v.value is False for v in given)


def _library_module(obj: Any) -> bool:
    """A module of Python's standard library (built in too) or of an installed package
    (numpy, scipy), or srcad's own: its functions are taken to stay what they are while a
    program runs."""
    if not isinstance(obj, types.ModuleType):
        return False
    top = obj.__name__.partition(".")[0]
    return top in sys.stdlib_module_names or top == "srcad" or installed(
        getattr(obj, "__file__", None) or ""
    )
