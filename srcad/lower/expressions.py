"""Expressions: names, displays, boolean operators and comparison chains."""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import math
import operator
import statistics
import sys
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import ir, trees
from ..desugar import KEY_CALL
from ..errors import PACKAGE_FOLDER
from ..frontend import MISSING, in_library, installed, python_function
from ..rules.scalar import APPEND, EXTEND, LOOP_ITEMS
from ..rules.table import COPY, dict_rule
from ..runtime import appended, extended, loop_items, spread_call, spread_draw
from ..subset import NAMESPACE_READERS
from .values import (
    NOT_STATIC,
    PASSED_DEF,
    DefValue,
    LoweringPart,
    Operand,
    Scope,
    TupleValue,
    changes_its_object,
    may_change_state,
)

#: what :meth:`Expressions.call_of_code` returns for a call that is an operation
AN_OPERATION = object()

#: names the value of an operation, when given (see :meth:`Expressions.lower_expr`)
Target = Callable[[], str] | None


def _partial_applied(node: ast.Call, callee: functools.partial) -> ast.Call:
    """``act(x)`` of ``act = functools.partial(f, a, k=b)`` as ``act.func(act.args[0], x,
    k=act.keywords["k"], ...)``: the call of ``f`` itself, whose rule srcad matches."""
    def part(attr: str, key: Any) -> ast.expr:
        read = ast.Attribute(node.func, attr, ast.Load())
        return ast.Subscript(read, ast.Constant(key), ast.Load())

    given = {k.arg for k in node.keywords}
    call = ast.Call(
        ast.Attribute(node.func, "func", ast.Load()),
        [*(part("args", k) for k in range(len(callee.args))), *node.args],
        [
            *(ast.keyword(k, part("keywords", k)) for k in callee.keywords if k not in given),
            *node.keywords,
        ],
    )
    return ast.fix_missing_locations(ast.copy_location(call, node))


def _complex_type(obj: Any, strings: bool) -> bool:
    """Whether ``obj`` names a complex type (``complex``, ``np.complex128``; with
    ``strings``, ``"c16"`` too)."""
    if obj is complex:
        return True
    if not (
        (strings and isinstance(obj, str))
        or (isinstance(obj, type) and issubclass(obj, np.generic))
    ):
        return False
    try:
        return np.dtype(obj).kind == "c"
    except TypeError:
        return False


#: numpy's functions that make an np.matrix
_MATRIX_MAKERS = (np.matrix, np.asmatrix, np.bmat)


class Expressions(LoweringPart):
    """The lowerer's part for expressions (see the module)."""

    def emit_value(self, scope: Scope, value: ir.Expr, node: ast.AST) -> ir.Name:
        """A non-differentiated helper value (lengths and such) in a temporary."""
        name = self.names.temp()
        self.emit(ir.Assign(name, value, tag=self.next_tag(), loc=scope.source.location(node)))
        return ir.Name(name)

    def builtin_ref(self, scope: Scope, name: str) -> ir.Expr:
        """A reference to a builtin that the user's own names do not shadow."""
        obj = getattr(builtins, name)
        if name not in self.root_locals() and self.root.lookup(name) is obj:
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

    def lower_expr(self, scope: Scope, node: ast.expr, target: Callable[[], str] | None) -> Any:
        """Lower ``node``; return an operand (Name, Const, free reference) or TupleValue.

        ``target`` names the value when ``node`` is an operation (else a temporary). A
        kind of expression is lowered by the method named for its AST class,
        ``lower_<Node>`` (``lower_Call``); any other kind is one operation (its rule
        found by :meth:`operation`).
        """
        method = getattr(self, f"lower_{type(node).__name__}", self.operation)
        return method(scope, node, target)

    def lower_Operand(self, scope: Scope, node: Operand, target: Target) -> Any:
        return node.value

    def lower_Constant(self, scope: Scope, node: ast.Constant, target: Target) -> ir.Expr:
        if isinstance(node.value, complex) and not in_library(
            scope.source.filename, self.root.filename
        ):
            raise self.error(
                scope,
                node,
                "complex numbers are not supported: srcad's derivative rules are for "
                "real numbers, and a gradient through complex values would be wrong",
                "write the real and imaginary parts as real arrays (np.exp(1j * w) is "
                "np.cos(w) + i np.sin(w): keep cos and sin apart)",
            )
        return ir.Const(node.value)

    def lower_JoinedStr(self, scope: Scope, node: ast.JoinedStr, target: Target) -> Any:
        """An f-string as a value (``p[f"W{i}"]``): the string, which has no gradient
        (``formatted(template, *values)``, as for a printed message)."""
        return self.emit_value(scope, self.message_part(scope, node), node)

    def lower_Name(self, scope: Scope, node: ast.Name, target: Target) -> Any:
        return self.read_name(scope, node)

    def lower_Tuple(self, scope: Scope, node: ast.Tuple | ast.List, target: Target) -> Any:
        elements = self.spread(scope, node.elts)  # ((a, *pair): of a known length)
        items = tuple(self.lower_expr(scope, e, None) for e in elements)
        for element, item in zip(elements, items):
            self.refuse_def_value(scope, element, item)  # (a def of the code: only called)
        return TupleValue(items, isinstance(node, ast.List))

    lower_List = lower_Tuple

    def lower_BinOp(self, scope: Scope, node: ast.BinOp, target: Target) -> Any:
        if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) and (
            isinstance(node.left.value, str)
        ):  # ("%.3f" % x: text, not a remainder; no rule: refused where it is differentiated)
            operand = self.lower_operand(scope, node.right)
            return self.emit_value(scope, ir.BinOp("%", ir.Const(node.left.value), operand), node)
        made = self.made_binop(scope, node, target)  # v + w of objects the function made
        if made is not None:
            return made
        if isinstance(node.op, ast.Add | ast.Mult) and (
            self.may_be_list(scope, node.left) or self.may_be_list(scope, node.right)
        ):
            return self.list_arithmetic(scope, node, target)
        if isinstance(node.op, ast.Add) and all(
            self.may_be_tuple(scope, side) for side in (node.left, node.right)
        ):  # (`pair(x) + pair(y)` of helpers that return tuples: Python joins them)
            left, right = (self.lower_expr(scope, side, None) for side in (node.left, node.right))
            if all(isinstance(v, TupleValue) and not v.is_list for v in (left, right)):
                return TupleValue(left.items + right.items)
            parts = [
                Operand(self.materialize(scope, v, node) if isinstance(v, TupleValue) else v)
                for v in (left, right)
            ]
            node = ast.copy_location(ast.BinOp(parts[0], node.op, parts[1]), node)
        return self.operation(scope, node, target)

    def may_be_tuple(self, scope: Scope, node: ast.expr) -> bool:
        """A tuple display, a name of one, or a call of a helper srcad inlines (which may
        return one): ``+`` of two of them may join tuples."""
        if isinstance(node, ast.Tuple):
            return True
        if isinstance(node, ast.Name):
            return isinstance(scope.env.get(node.id), TupleValue)
        if not isinstance(node, ast.Call):
            return False
        callee = self.denote(scope, node.func).static
        return isinstance(callee, types.FunctionType) and not self.table.has_callable(callee)

    def lower_Dict(self, scope: Scope, node: ast.Dict, target: Target) -> Any:
        return self.dict_display(scope, node, target)

    def lower_IfExp(self, scope: Scope, node: ast.IfExp, target: Target) -> Any:
        decided = self.decided_test(scope, node.test)  # (isinstance(other, Vec2))
        if decided is not None:
            return self.lower_expr(scope, node.body if decided else node.orelse, target)
        test = self.lower_operand(scope, self.object_truth(scope, node.test))
        return self.conditional(scope, test, node.body, None, node.orelse, None, target, node)

    def lower_BoolOp(self, scope: Scope, node: ast.BoolOp, target: Target) -> Any:
        return self.bool_op(scope, node, target)

    def lower_Compare(self, scope: Scope, node: ast.Compare, target: Target) -> Any:
        if len(node.ops) > 1:
            return self.compare_chain(scope, node, target)
        made = self.made_compare(scope, node, target)  # a < b of objects the function made
        if made is not None:
            return made
        return self.operation(scope, node, target)

    def lower_UnaryOp(self, scope: Scope, node: ast.UnaryOp, target: Target) -> Any:
        if (
            isinstance(node.op, ast.USub | ast.UAdd)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int | float)
            and not isinstance(node.operand.value, bool)
        ):
            sign = -1 if isinstance(node.op, ast.USub) else 1
            return ir.Const(sign * node.operand.value)
        made = self.made_unary(scope, node, target)  # -v of an object the function made
        if made is not None:
            return made
        return self.operation(scope, node, target)

    def lower_Attribute(self, scope: Scope, node: ast.Attribute, target: Target) -> Any:
        namespace = self.namespace_use(scope, node)
        if namespace is not None:
            return namespace
        denoted = self.denote(scope, node)
        static = denoted.static
        if static is not NOT_STATIC:
            self.refuse_complex_global(scope, node, static)
            base = self.denote(scope, node.value).static
            if type(static) in (float, int) and base in _CONSTANT_MODULES:
                return ir.Const(static)  # math.pi: a constant (folded, never saved)
            if type(static) in (float, int) and _users_namespace(base):
                # (`Util.scale`, `settings.rate`: a number the float version reads as one;
                # given another value, the gradient is made again)
                self.dependencies.append((denoted.lookup, static, None))
            return self.reference(scope, self.raw(node))
        made = self.made_attribute(scope, node, target)  # a field of an object made here
        if made is not None:
            return made
        if node.attr == "flat" and self.object_class(scope, node.value) is None:
            array = ast.unparse(node.value)  # (`.flat[k]` is an item: not read as a value)
            raise self.error(
                scope, node,
                f"`{array}.flat` as a value (a flat iterator, `enumerate({array}.flat)`) is "
                "not supported",
                f"use `{array}.ravel()`, or read `{array}.flat[k]` by position",
            )
        read = self.object_access(scope, node, target)  # p.w: an object's field
        if read is not None:
            return read
        return self.operation(scope, node, target)

    def lower_Call(self, scope: Scope, node: ast.Call, target: Target) -> Any:
        self.refuse_overwrite(scope, node)
        self.refuse_unreal(scope, node)
        reduced = self.made_reduction(scope, node, target)  # (sum(objs), max(a, b))
        if reduced is not None:
            return reduced
        if (  # (sorted(xs, key=key) in a helper given key=None: no key)
            getattr(node, KEY_CALL, False)
            and isinstance(node.func, ast.Name)
            and scope.env.get(node.func.id) == ir.Const(None)
        ):
            return self.lower_expr(scope, node.args[0], target)
        namespace = self.namespace_use(scope, node)
        if namespace is not None:
            return namespace
        frozen = self.frozen_method(scope, node, target)  # (d.logpdf(x), d = norm(mu, s))
        if frozen is not None:
            return frozen
        distribution = self.frozen_distribution(scope, node)  # (norm(mu, s) itself)
        if distribution is not None:
            return distribution
        listed = self.iterator_value(scope, node)  # (list(itertools.pairwise(xs)): a list)
        if listed is not None:
            return listed
        shaped = self.called_with_a_shape(scope, node, target)  # (np.random.randn(*x.shape))
        if shaped is not None:
            return shaped
        if any(isinstance(a, ast.Starred) for a in node.args):
            node = ast.copy_location(
                ast.Call(
                    node.func,
                    self.spread(scope, node.args, self.positional_count(scope, node)),
                    node.keywords,
                ),
                node,
            )
        converted = self.closure_converted(scope, node)  # (brentq(lambda r: ..., a, b))
        if converted is not None:
            node = converted
        length = self.known_length(scope, node)
        if length is not None:
            return length
        self.refuse_hidden_changes(scope, node)
        popped = self.appended_list(scope, node)
        if popped is not None and isinstance(node.func, ast.Attribute) and node.func.attr == "pop":
            return self.pop_item(scope, node)  # (items.pop(i): the item, and a shorter list)
        node = self.list_query(scope, node)  # (items.index(v) of a list made here)
        in_place = self.lower_in_place(scope, node, node)  # (a.sort() in a test, xs.append(v)
        if in_place is not None:  # in a tuple, np.exp(x, out=y) in a sum: the change, where
            return self.lower_expr(scope, in_place, target)  # it stands, then its value)
        written = self.numpy_keywords(scope, node)  # (np.divide(a, b, where=m, out=o))
        if not isinstance(written, ast.Call):  # (np.nanmean, np.mean(where=): a quotient)
            return self.operation(scope, written, target)
        named = self.named_tuple_call(scope, written, target)  # State(x, v), s._replace(...)
        if named is not None:
            return named
        made = self.made_call(scope, written, target)  # Vec2(x, y), v.norm(), layer(h)
        if made is not None:
            return made
        called = self.call_of_code(scope, written, target)
        if called is not AN_OPERATION:
            return called
        read = self.object_access(scope, written, target)  # self.forward(x): a method
        if read is not None:
            return read
        self.refuse_changing_method(scope, written)
        return self.operation(scope, written, target)

    def called_with_a_shape(self, scope: Scope, node: ast.Call, target: Target) -> Any:
        """``f(..., *x.shape)``, an array's shape spread as the last arguments (a
        ``np.random.randn(*x.shape)`` of noise, ``np.ones(*x.shape)``): the call of ``f``
        on its arguments and the shape's items, which carry no gradient, made when the
        program runs (``spread_call``); it draws, and runs where it stands, when ``f``
        does. None for any other call."""
        if not node.args or not isinstance(node.args[-1], ast.Starred):
            return None
        shape = node.args[-1].value
        if not (isinstance(shape, ast.Attribute) and shape.attr == "shape") or any(
            isinstance(a, ast.Starred) for a in node.args[:-1]
        ):
            return None
        callee = self.denote(scope, node.func).static
        helper = spread_draw if may_change_state(callee) else spread_call
        call = ast.copy_location(ast.Call(
            Operand(self.helper_ref(helper.__name__, helper)),
            [node.func, *node.args[:-1], shape], node.keywords,
        ), node)
        return self.operation(scope, call, target)

    def refuse_overwrite(self, scope: Scope, node: ast.Call) -> None:
        """Refuse ``overwrite_b=True`` (``overwrite_a``, ``overwrite_ab``, numpy's
        ``overwrite_input``) in the user's code: it lets the library write into that
        argument in place, as scratch space, which srcad does not follow (the argument,
        read again, would hold other numbers in Python)."""
        if installed(scope.source.filename):
            return
        callee = self.denote(scope, node.func).static
        module = str(getattr(callee, "__module__", None) or "")
        if not module.startswith(("numpy", "scipy")):  # (a helper of the user's own may
            return  # name an option so)
        for keyword in node.keywords:
            if keyword.arg is None or not keyword.arg.startswith("overwrite_"):
                continue
            value = keyword.value
            if isinstance(value, ast.Constant) and value.value is False:
                continue
            raise self.error(
                scope, keyword,
                f"`{keyword.arg}=` lets the library use that argument as scratch space, "
                "writing into it in place, which srcad does not follow",
                f"leave `{keyword.arg}` out (the library then works on a copy of the "
                "argument)",
            )

    def refuse_unreal(self, scope: Scope, node: ast.Call) -> None:
        """Refuse making an ``np.matrix`` (round 92: a crash in its product's gradient),
        or an array of complex numbers (``x.astype(complex)``, ``dtype=np.complex128``;
        round 92: its field written, refused for another reason)."""
        if in_library(scope.source.filename, self.root.filename):
            return
        callee = self.denote(scope, node.func).static
        if any(callee is f for f in _MATRIX_MAKERS):
            raise self.error(
                scope, node,
                f"`{ast.unparse(node.func)}(...)` makes an np.matrix, whose `*` is a matrix "
                "product and whose rows stay 2-D: srcad differentiates numpy's arrays",
                "make an array (`np.array(...)`, `np.asarray(...)`) and write the matrix "
                "product as `@`",
            )
        astype = isinstance(node.func, ast.Attribute) and node.func.attr == "astype"
        dtypes = [k.value for k in node.keywords if k.arg == "dtype"] + (
            node.args[:1] if astype else []
        )  # (where a string names a type: "F" elsewhere is an order)
        for given in (*node.args, *(k.value for k in node.keywords)):
            if _complex_type(self.denote(scope, given).static, strings=given in dtypes):
                raise self.error(
                    scope, given,
                    "complex numbers are not supported: srcad's derivative rules are for "
                    "real numbers, and a gradient through complex values would be wrong",
                    "write the real and imaginary parts as real arrays",
                )

    def known_length(self, scope: Scope, node: ast.Call) -> ir.Const | None:
        """``len(items)`` of a name holding a list or tuple whose length srcad knows when
        it compiles (a display, also of objects the function made): that number."""
        func, args = node.func, node.args
        if not (isinstance(func, ast.Name) and len(args) == 1 and not node.keywords
                and isinstance(args[0], ast.Name)):
            return None
        value = scope.env.get(args[0].id)
        if not isinstance(value, TupleValue) or self.denote(scope, func).static is not len:
            return None
        return ir.Const(len(value.items))

    def list_query(self, scope: Scope, node: ast.Call) -> ast.Call:
        """``items.index(v)`` or ``items.count(v)`` of a list or tuple the function made
        (a display, or a name holding one: srcad knows its class): ``list.index(items,
        v)``, which has a rule (ints, no gradient); any other call as it is."""
        func = node.func
        if not (
            isinstance(func, ast.Attribute) and func.attr in ("index", "count")
            and not node.keywords
        ):
            return node
        value = scope.env.get(func.value.id) if isinstance(func.value, ast.Name) else None
        if isinstance(func.value, ast.List | ast.Tuple):  # ([a, b].index(v))
            kind: type = list if isinstance(func.value, ast.List) else tuple
        elif isinstance(value, TupleValue):
            kind = list if value.is_list else tuple
        elif self.is_own_list(value):
            kind = list
        else:
            return node
        spelled = ast.copy_location(ast.Name(kind.__name__, ast.Load()), func)
        if self.denote(scope, spelled).static is not kind:  # (`list` bound to another)
            return node
        unbound = ast.copy_location(ast.Attribute(spelled, func.attr, ast.Load()), func)
        return ast.copy_location(ast.Call(unbound, [func.value, *node.args], []), node)

    def lower_Subscript(self, scope: Scope, node: ast.Subscript, target: Target) -> Any:
        made = self.made_item(scope, node, target)  # a field, an item of a list of objects
        if made is not None:
            return made
        computed = self.computed_item(scope, node, target)  # np.r_[a, b], a __getitem__
        if computed is not None:
            return computed
        if isinstance(node.value, ast.Name):  # k[1] of a name holding a tuple: that item
            held = scope.env.get(node.value.id)
            index = _constant_index(node)
            if (
                isinstance(held, TupleValue) and not held.is_list and index is not None
                and -len(held.items) <= index < len(held.items)
            ):
                return self.read_name(scope, node.value).items[index]
        index = _constant_index(node) if isinstance(node.value, ast.Call) else None
        if index is not None:  # f(x)[1] of a helper returning a tuple: that item itself
            base = self.lower_expr(scope, node.value, None)
            if (
                isinstance(base, TupleValue)
                and not base.is_list
                and (-len(base.items) <= index < len(base.items))
            ):
                return base.items[index]
            node = ast.copy_location(ast.Subscript(Operand(base), node.slice, ast.Load()), node)
        return self.operation(scope, node, target)

    def refuse_hidden_changes(self, scope: Scope, node: ast.Call) -> None:
        """Refuse a call that changes an argument in place and that srcad does not read as
        the write it is (``np.place(a, m, v)``, ``operator.iadd(u, x)``, ``u.put(i, v)``,
        ``u.__setitem__(k, v)``): its value, assigned, would hide the change, which the
        gradient would then miss (round 61d)."""
        callee = self.denote(scope, node.func).static
        method = node.func.attr if isinstance(node.func, ast.Attribute) else None
        text_partition = method == "partition" and any(  # (a string's: "k=v".partition("="))
            isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args
        )
        hidden = any(callee is f for f in _HIDDEN_CHANGES) or (
            callee is NOT_STATIC and method in _HIDDEN_CHANGE_METHODS and not text_partition
            and isinstance(node.func, ast.Attribute)
            and not self.may_be_made(scope, node.func.value)  # (p[1] = v: its class's code)
        )
        if hidden:
            raise self.error(
                scope,
                node,
                f"`{ast.unparse(node.func)}` changes its argument in place, which srcad does "
                "not follow through this call",
                "write the change as an assignment or an in-place operator on the array "
                "(`u[i] = v`, `u += x`, `a = np.where(m, v, a)`, `a.sort()`)",
            )

    def refuse_changing_method(self, scope: Scope, node: ast.Call) -> None:
        """Refuse ``obj.method(...)`` of a global object of a user's class, which runs as
        Python here (srcad cannot read it), where the method writes into the object: what
        the function reads of the object afterwards would have no gradient."""
        func = node.func
        method = self.denote(scope, func).static
        if not changes_its_object(method):
            return
        owner = method.__self__
        given = (*node.args, *(k.value for k in node.keywords))
        if all(isinstance(a, ast.Constant) for a in given) and not isinstance(owner, type):
            return  # (nothing of the function's goes in: `TALLY.bump()`, a counter; a
            # class's attributes are read when srcad compiles, so a write is refused)
        held = f"`{ast.unparse(func.value)}`" if isinstance(func, ast.Attribute) else (
            f"its {type(owner).__name__} object"  # (`setter = OBJ.set_rate; setter(x)`)
        )
        raise self.error(
            scope,
            node,
            f"`{ast.unparse(func)}` writes into {held}, an object from "
            "outside the function, in code srcad cannot read here: what the function reads "
            "of it afterwards would have no gradient",
            "return the value from the method and use it, or make the object inside the "
            "function",
        )

    def call_of_code(self, scope: Scope, node: ast.Call, target: Callable[[], str] | None) -> Any:
        """A call of code srcad lowers itself (a helper inlined from its source, a nested
        ``def``, ``max``/``min``/``math.prod`` of a sequence folded), lowered; otherwise
        :data:`AN_OPERATION`: the call is an operation (or a method of an object)."""
        nested = self.nested_function(scope, node.func)
        if nested is not None:
            return self.inline_nested(scope, node, *nested, target)
        callee = self.denote(scope, node.func).static
        if _user_callable_object(callee) and not self.table.has_callable(callee):
            method = ast.copy_location(ast.Attribute(node.func, "__call__", ast.Load()), node)
            call = ast.copy_location(ast.Call(method, node.args, node.keywords), node)
            return self.lower_expr(scope, call, target)  # (POLY(x): POLY.__call__(x))
        if any(callee is f for f in _ITERATING):  # sum(p), np.array(p): p's __iter__ runs
            for argument in node.args:
                self.refuse_iterating_objects(scope, argument, f"`{ast.unparse(node.func)}` of")
        reads_names = callee.func if isinstance(callee, functools.partial) else callee
        if any(reads_names is f for f in _NAMESPACE_READERS) and not (
            reads_names is builtins.vars and node.args
        ):  # (EV = eval; EV("x * x"): the name is not the builtin's, the function is)
            raise self.error(
                scope,
                node,
                f"`{ast.unparse(node.func)}` is `{reads_names.__name__}`, which reads the "
                "function's variables by their names when it runs: srcad renames them, and "
                "no gradient passes through what it reads",
                "use the variables themselves (for a value chosen by name, a dict: "
                "`values = {'x': x}`)",
            )
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
        if isinstance(callee, functools.partial):  # (partial(np.maximum, 0.0): its call,
            return self.lower_expr(scope, _partial_applied(node, callee), target)  # written out)
        growth = _GROWTH.get(callee) if isinstance(callee, types.FunctionType) else None
        if growth is not None and len(node.args) == 2 and not node.keywords:
            # appended(items, item) in srcad's own code (forward mode's, read again):
            # the list grown, as items.append(item) is
            operands = tuple(self.lower_operand(scope, a) for a in node.args)
            name = target() if target is not None else None
            return self.list_operation(scope, node, *growth, operands, name)
        if callee is loop_items and len(node.args) == 1 and not node.keywords:
            # loop_items(x) in forward mode's code, read again: the gate a loop over x is
            # (x's items by position, written back through it)
            operand = self.lower_operand(scope, node.args[0])
            name = target() if target is not None else None
            return self.emit_rule_call(scope, "loop_items", LOOP_ITEMS, operand, node, name)
        if getattr(callee, "__module__", None) in _EXACT_ARITHMETIC and not (
            self.table.has_callable(callee)  # (statistics.mean(xs): its rule)
            or getattr(callee, "__name__", "") in _READ_STATISTICS
            or isinstance(callee, type) and issubclass(callee, tuple)  # (a named tuple)
        ):
            hint = (
                "compute it with floats or numpy: `np.std(xs, ddof=1)`, `np.mean`, "
                "`np.var`, `np.median`"
            )
            if callee is statistics.NormalDist:
                raise self.error(
                    scope,
                    node,
                    "`statistics.NormalDist` objects are not differentiated by srcad",
                    "use scipy.stats' normal distribution (`norm(mu, sigma).cdf(x)`, "
                    "`norm.logpdf(x, mu, sigma)`), or write the formula",
                )
            if getattr(callee, "__name__", "") in _FLOAT_STATISTICS:  # (floats, added by
                raise self.error(  # iterators srcad does not read)
                    scope,
                    node,
                    f"`{ast.unparse(node.func)}` is a statistics function srcad does not "
                    "differentiate",
                    hint,
                )
            raise self.error(
                scope,
                node,
                f"`{ast.unparse(node.func)}` computes with exact fractions or decimals "
                "(integer arithmetic, which has no derivative), so srcad would find a zero "
                "gradient",
                hint,
            )
        if (  # Util.tri(x) of a classmethod, MM.f(x) of a method an object holds: its
            isinstance(callee, types.MethodType)  # function, the class or object first
            and isinstance(callee.__func__, types.FunctionType)
            and isinstance(node.func, ast.Attribute)
            and self.denote(scope, node.func.value).static is callee.__self__
            and (  # (a method of its class: read where objects' methods are, see objects)
                isinstance(callee.__self__, type)
                or node.func.attr in getattr(callee.__self__, "__dict__", ())
            )
            and not self.table.has_callable(callee)
        ):
            owner = self.denote(scope, node.func).lookup
            call = ast.copy_location(
                ast.Call(node.func, [node.func.value, *node.args], node.keywords), node
            )
            return self.inline(
                scope, call, callee.__func__, target,
                lookup=functools.partial(_method_function, owner), as_written=node,
            )
        if isinstance(callee, types.FunctionType) and not self.table.has_callable(callee):
            if any(  # (attach(opt, ws): the object may keep the list)
                self.may_be_made(scope, a) for a in (*node.args, *(k.value for k in node.keywords))
            ):
                self.hand_on_lists(scope, node)
            return self.inline(scope, node, callee, target)
        implementation = (  # np.trapezoid: a Python function behind numpy's dispatcher
            callee if self.table.has_callable(callee) else python_function(callee)
        )
        if implementation is not callee and isinstance(implementation, types.FunctionType):
            found = self.denote(scope, node.func).lookup
            return self.inline(
                scope, node, implementation, target, lookup=lambda: python_function(found())
            )
        if (
            callee is builtins.getattr
            and len(node.args) == 2
            and isinstance(node.args[1], ast.Name | ast.Constant)  # (lowered to no lines)
            and not node.keywords
        ):
            name = self.lower_operand(scope, node.args[1])  # getattr(self, "w"): self.w
            if isinstance(name, ir.Const) and isinstance(name.value, str):
                field = ast.Attribute(node.args[0], name.value, ast.Load())
                return self.lower_expr(scope, ast.copy_location(field, node), target)
        if (
            callee in (builtins.max, builtins.min)
            and (len(node.args) != 2 or not all(isinstance(a, Operand) for a in node.args))
        ) or (callee is math.prod and len(node.args) == 1):  # (two lowered: the rule's)
            return self.fold(scope, node, callee, target)
        return AN_OPERATION

    def dict_display(
        self, scope: Scope, node: ast.Dict, target: Callable[[], str] | None
    ) -> ir.Expr:
        """``{"a": v, "b": w}`` with constant keys, each once: one gate, whose adjoint is
        a dict of adjoints (as for a dict parameter)."""
        seen: set[Any] = set()
        constants: list[ast.Constant] = []
        for key in node.keys:  # (`**` unpacking: refused by srcad.subset)
            if isinstance(key, ast.Tuple) and all(isinstance(e, ast.Constant) for e in key.elts):
                key = ast.copy_location(ast.Constant(ast.literal_eval(key)), key)  # ((0, 1))
            if not isinstance(key, ast.Constant):
                raise self.error(
                    scope,
                    key,
                    "the keys of a dict display must be constants",
                    'write each key as a literal ("a", 0), or build the dict item by item',
                )
            if key.value in seen:
                raise self.error(
                    scope,
                    key,
                    f"the key {key.value!r} appears twice in this dict display",
                    "keep one of them (Python keeps the last value)",
                )
            seen.add(key.value)
            constants.append(key)
        keys = tuple(ir.Const(key.value) for key in constants)
        values = tuple(self.lower_operand(scope, value) for value in node.values)
        name = target() if target is not None else self.names.temp()
        self.own_dicts.add(name)
        if any(self.is_own_list(v) for v in values):  # (a write into one is refused)
            self.holds_lists.add(name)
        self.hold_objects(name, values)  # ({"enc": Dense(W1), "dec": Dense(W2)})
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
        values, as Python evaluates them: pairwise from the left; ``max`` and ``min`` of
        more than two values by the rule for a list of them (a tie shared equally)."""
        items: list[ast.expr] = list(node.args)
        if len(items) == 1 and not node.keywords and not isinstance(items[0], ast.Starred):
            value = self.lower_expr(scope, items[0], None)
            if not isinstance(value, TupleValue) or not value.items:  # over an array: a rule
                single = ast.copy_location(ast.Call(node.func, [Operand(value)], []), node)
                return self.operation(scope, single, target)
            items = [Operand(item) for item in value.items]
        if not items or node.keywords or any(isinstance(item, ast.Starred) for item in items):
            return self.operation(scope, node, target)
        if len(items) == 1:
            return self.lower_expr(scope, items[0], target)
        if callee is builtins.max or callee is builtins.min:
            values = [self.lower_expr(scope, item, None) for item in items]
            items = [Operand(value) for value in values]
            if any(isinstance(value, TupleValue) for value in values):
                return self.selected(scope, node, items, callee is builtins.max, target)
            if len(values) > 2:  # (of a list of them: equal values share a tie equally,
                every = TupleValue(tuple(values), True)  # where pairs would halve, then halve)
                call = ast.Call(node.func, [Operand(every)], [])  # type: ignore[arg-type]
                return self.operation(scope, ast.copy_location(call, node), target)
        folded = items[0]
        for item in items[1:]:
            pair = (
                ast.BinOp(folded, ast.Mult(), item)
                if callee is math.prod
                else ast.Call(node.func, [folded, item], [])
            )
            folded = ast.copy_location(pair, node)
        return self.lower_expr(scope, folded, target)

    def selected(
        self, scope: Scope, node: ast.Call, items: list[ast.expr], largest: bool,
        target: Callable[[], str] | None,
    ) -> Any:
        """``max(a, b, ...)`` or ``min`` of tuples (compared item by item) as what Python
        does: keep the first, take each later one that compares greater (smaller), ``b if
        b > a else a``; the gradient goes to the tuple chosen, as a whole."""
        chosen = items[0]
        for position, item in enumerate(items[1:], start=1):
            beats = ast.Compare(item, [ast.Gt() if largest else ast.Lt()], [chosen])
            pick = ast.copy_location(ast.IfExp(beats, item, chosen), node)
            last = position == len(items) - 1
            chosen = Operand(self.lower_expr(scope, pick, target if last else None))
        assert isinstance(chosen, Operand)
        return chosen.value

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
        result: ir.Expr | None = None
        for op, left, right in zip(node.ops, operands, operands[1:]):
            compare = ast.copy_location(ast.Compare(Operand(left), [op], [Operand(right)]), node)
            step = self.lower_Compare(scope, compare, None)  # (objects: their __lt__, ...)
            if result is None:
                result = step
            else:
                result = self.conditional(scope, result, None, step, None, result, None, node)
        assert result is not None  # (a comparison has at least one operator)
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

    def refuse_def_value(self, scope: Scope, node: ast.expr, value: Any) -> None:
        """Refuse a ``def`` of the code used as a value other than a function to call (a
        library function given it, an array made of it, the result of ``f``)."""
        if not isinstance(value, DefValue):
            return
        spelled = "this lambda" if getattr(value.node, "srcad_lambda", False) else (
            f"`{value.node.name}`"
        )
        raise self.error(
            scope,
            node,
            f"{spelled} is a function defined in the differentiated code: srcad "
            "inlines calls of it, and cannot pass it on as a value here",
            "call it where its value is needed, or define it at module level for a "
            "function srcad reads (a library routine that calls it, such as "
            "scipy.optimize.least_squares or scipy.integrate.quad_vec, has no "
            "derivative in srcad: write its iteration in the function, e.g. Newton's "
            "method in a loop; scipy.optimize's root finders, brentq, brenth, ridder, "
            "bisect, toms748, newton, root_scalar, fsolve and root, its minimizers "
            "minimize_scalar and minimize, and scipy.integrate's quad, odeint and "
            "solve_ivp take it)",
        )

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
            if self.stale_lists:
                self.refuse_stale(scope, node, value)
            if isinstance(value, TupleValue) and id(value) in self.kept_displays:
                value = scope.env[node.id] = self.kept_displays[id(value)][1]  # (see above)
            if id(node) in self.handing_on(scope):
                if isinstance(value, TupleValue) and value.is_list:  # (one list, which
                    # the other holder holds too: a display read again would be a new one)
                    value = self.materialize(scope, value, node, self.names.fresh(node.id))
                    scope.env[node.id] = value
                self.share(value)
            return value
        if node.id in scope.local_functions:  # (a def or named lambda, not called: a
            # value returned by a factory, bound to a name, called later; see DefValue)
            return DefValue(scope.local_functions[node.id], scope)
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
        current: Scope | None = scope
        while current is not None:  # (`from scipy.stats import norm` in the function)
            if node.id in current.statics:
                return current.statics[node.id].reference
            current = current.parent
        obj = scope.source.lookup(node.id)
        if obj is MISSING:
            raise self.error(
                scope,
                node,
                f"name `{node.id}` is not defined",
                "define it at module level or pass it as a parameter",
            )
        self.refuse_complex_global(scope, node, obj)
        return self.reference(scope, ir.Name(node.id))

    def refuse_complex_global(self, scope: Scope, node: ast.expr, obj: Any) -> None:
        """Refuse a global (or a class's or module's attribute) holding complex numbers,
        as complex arguments are: srcad's derivative rules are for real numbers. (Not in
        srcad's own helpers, read again for second derivatives: their globals are
        srcad's, such as its table of generated lines, which grows with every gradient.)"""
        if scope.source.filename.startswith(PACKAGE_FOLDER):
            return
        if trees.holds_complex(obj):
            raise self.error(
                scope,
                node,
                f"`{ast.unparse(node)}` holds complex numbers: srcad's derivative rules are "
                "for real numbers, and a gradient through complex values would be wrong",
                "keep the real and imaginary parts in real numbers or arrays",
            )

    def constant(self, value: Any) -> ir.Expr:
        """A helper's default value as generated code reads it: a number as it is; an
        object under one name wherever it is read (a default array written as a scratch
        buffer is one array in every call, as a global is)."""
        if isinstance(value, int | float | complex | bool | str) or value is None:
            return ir.Const(value)
        for held in (self.free_objects, self.bindings):
            name = next((n for n, obj in held.items() if obj is value), None)
            if name is not None:
                return ir.Name(name)
        return ir.Name(self.bound("default", value))


#: modules whose functions compute floats through exact integers (``statistics.stdev``
#: sums fractions): each step has no derivative, the whole has one
#: the statistics functions that compute with floats
_FLOAT_STATISTICS = frozenset(("fmean", "geometric_mean"))
#: ``statistics`` functions whose code is float arithmetic that srcad reads
_READ_STATISTICS = frozenset(("quantiles", "covariance", "correlation", "linear_regression"))
_EXACT_ARITHMETIC = frozenset(("statistics", "fractions", "decimal"))


def _users_namespace(obj: Any) -> bool:
    """A class, or a module that is not an installed library's (a user's settings)."""
    if isinstance(obj, type):
        return not installed(getattr(sys.modules.get(obj.__module__), "__file__", None) or "")
    if isinstance(obj, types.ModuleType):
        return not installed(getattr(obj, "__file__", None) or "")
    return False


def _user_callable_object(obj: Any) -> bool:
    """An object of a user's class that defines ``__call__`` in Python (a global model,
    ``POLY = Poly(coeffs)``): its call is its ``__call__`` method's."""
    if isinstance(obj, type | types.FunctionType | types.MethodType | functools.partial):
        return False
    method = inspect.getattr_static(type(obj), "__call__", None)
    return isinstance(method, types.FunctionType) and not installed(
        method.__code__.co_filename
    )


#: callables that iterate over their arguments
_ITERATING = (builtins.sum, builtins.list, builtins.tuple, builtins.sorted, builtins.min,
              builtins.max, builtins.enumerate, builtins.zip, np.array, np.asarray, np.stack)


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


#: srcad's list gates, as forward mode's code calls them: (rule, helper name)
_GROWTH = {appended: (APPEND, "appended"), extended: (EXTEND, "extended")}


#: calls that change an argument in place with no rule that writes it (refused)
_HIDDEN_CHANGES: tuple[Any, ...] = (
    np.place, np.put_along_axis,
    *(getattr(operator, name) for name in (
        "iadd", "isub", "imul", "imatmul", "itruediv", "ifloordiv", "imod", "ipow", "iand",
        "ior", "ixor", "ilshift", "irshift", "iconcat", "setitem", "delitem",
    )),
    *(getattr(np.ndarray, name) for name in (
        "put", "partition", "sort", "fill", "resize", "setfield", "itemset", "byteswap",
    ) if hasattr(np.ndarray, name)),
)
#: methods of a value (its type known when the program runs) that change it in place
_HIDDEN_CHANGE_METHODS = frozenset((
    "__setitem__", "__delitem__", "__iadd__", "__isub__", "__imul__", "__imatmul__",
    "__itruediv__", "__ifloordiv__", "__imod__", "__ipow__", "__iand__", "__ior__",
    "__ixor__", "__ilshift__", "__irshift__", "put", "itemset", "setfield", "partition",
    "resize",
))


def _method_function(lookup: Callable[[], Any]) -> Any:
    """The function of the method ``lookup`` finds (a classmethod bound anew each read)."""
    return getattr(lookup(), "__func__", None)


#: the builtins that read variables by name (:data:`srcad.subset.NAMESPACE_READERS`)
_NAMESPACE_READERS = tuple(getattr(builtins, name) for name in NAMESPACE_READERS)
