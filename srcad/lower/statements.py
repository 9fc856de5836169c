"""Statements: assignments (to names, items and in place), ``print``, ``assert``, ``raise``."""

from __future__ import annotations

import ast
import builtins
import copy
import importlib
import linecache
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import astwalk, contexts, ir
from ..desugar import NUMPY, single_name_target
from ..errors import UnsupportedSyntaxError
from ..rules.numpy_arrays import ARRAY_OF_ITEMS
from ..rules.table import ADDAT, ADDITEM, SETITEM
from ..runtime import add_at as runtime_add_at
from ..runtime import (
    as_objects,
    check_assertion,
    formatted,
    keep_aux,
    raise_exception,
    require_length,
    require_no_list,
    require_not_held,
)
from .lists import item_value
from .made_objects import ending_in_return
from .resolve import Kind
from .values import (
    NOT_STATIC,
    RAISED,
    LoweringPart,
    Operand,
    ResultName,
    Scope,
    Static,
    TupleValue,
    changes_its_object,
    draws_random_numbers,
    may_change_state,
    out_as_keyword,
    returning,
    writes_into_out,
)

#: Statements that steer control: their ``lower_<Node>`` is given the result's name as
#: well, and returns the result value (RAISED for `raise`) when the statement ends the
#: block. After a statement of any other kind the block ends only if the last statement
#: emitted always raises (srcad's own ``raise_exception(...)``, read again, or a helper
#: inlined there that raises on every path).
STEERING = (
    ast.Return, ast.Raise, ast.If, ast.With, ast.For, ast.While, ast.Try, ast.Break, ast.Continue
)


class Statements(LoweringPart):
    """The lowerer's part for statements (see the module)."""

    def lower_statements(
        self, scope: Scope, stmts: list[ast.stmt], result_name: ResultName
    ) -> Any:
        """Lower a statement list; return the result value when it ends in `return`
        (RAISED when it ends in `raise`)."""
        for stmt in stmts:
            result = self.lower_statement(scope, stmt, result_name)
            if result is not None:
                return result
        return None

    def lower_statement(self, scope: Scope, stmt: ast.stmt, result_name: ResultName) -> Any:
        """Lower one statement, by its construct's ``lower_<Node>`` method; return the
        result value when it ends the block (see :data:`STEERING`), else None."""
        method = f"lower_{type(stmt).__name__}"
        if isinstance(stmt, STEERING):
            return getattr(self, method)(scope, stmt, result_name)
        getattr(self, method, self.lower_other)(scope, stmt)
        if self.body and isinstance(self.body[-1], ir.Effect) and self.body[-1].raises:
            return RAISED  # (srcad's own raise_exception(...), read again)
        return None

    def lower_other(self, scope: Scope, stmt: ast.stmt) -> None:
        """Nothing to lower (``pass``; srcad.subset refuses the statements srcad does
        not support)."""

    def lower_Return(self, scope: Scope, stmt: ast.Return, result_name: ResultName) -> Any:
        self._last_return = stmt
        value = self.lower_expr(scope, stmt.value, result_name)
        if scope.is_root:  # (a helper may return a frozen distribution to call methods of,
            self.refuse_frozen(scope, stmt, value)  # or a def of its own, to call)
            self.refuse_def_value(scope, stmt, value)
        return value

    def lower_Raise(self, scope: Scope, stmt: ast.Raise, result_name: ResultName) -> Any:
        """``raise ValueError(f"...")``: raised by the gradient's forward pass as well."""
        exc = stmt.exc
        call = exc if isinstance(exc, ast.Call) else None
        kind = call.func if call else exc
        args = tuple(self.message_part(scope, a) for a in call.args) if call else ()
        raise_ = self.helper_ref("raise_exception", raise_exception)
        cls_ref = self.reference(scope, self.raw(kind))  # (srcad.subset: a static class)
        self.emit(ir.Effect(ir.Call(raise_, (cls_ref, *args)), tag=self.next_tag(), raises=True))
        return RAISED

    def lower_Break(self, scope: Scope, stmt: ast.Break, result_name: ResultName) -> None:
        """Sets the loop's exit flag (see :mod:`srcad.lower.loops`)."""
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

    def lower_Continue(self, scope: Scope, stmt: ast.Continue, result_name: ResultName) -> None:
        """Nothing: desugaring moved the rest of the iteration into the other branch."""

    def lower_Import(self, scope: Scope, stmt: ast.Import | ast.ImportFrom) -> None:
        """``import m`` or ``from m import f`` in the function: the names it binds denote
        those objects, as module-level imports do (imported when srcad compiles)."""
        for alias in stmt.names:
            try:
                if isinstance(stmt, ast.ImportFrom):
                    base = importlib.import_module(
                        "." * stmt.level + (stmt.module or ""),
                        scope.source.globals.get("__package__") or None,
                    )
                    obj = getattr(base, alias.name)
                    name = alias.asname or alias.name
                else:
                    module = importlib.import_module(alias.name)
                    name = alias.asname or alias.name.split(".")[0]
                    obj = module if alias.asname else importlib.import_module(name)
            except (ImportError, AttributeError) as error:
                raise self.error(
                    scope, stmt, f"this import fails when srcad compiles: {error}",
                    "move the import to module level",
                ) from None
            reference = self.helper_ref(name, obj)
            scope.statics[name] = Static(obj, reference, returning(obj))
            scope.env.pop(name, None)  # (`from math import pi as n` rebinds a parameter n)

    lower_ImportFrom = lower_Import

    def lower_Assign(self, scope: Scope, stmt: ast.Assign) -> None:
        self.refuse_changed_sequences(scope, stmt)  # (it = itertools.pairwise(xs))
        self.assign(scope, stmt.targets, stmt.value)

    def lower_AnnAssign(self, scope: Scope, stmt: ast.AnnAssign) -> None:
        if stmt.value is not None:  # (a bare annotation, `y: float`, binds nothing)
            self.assign(scope, [stmt.target], stmt.value)

    def lower_AugAssign(self, scope: Scope, stmt: ast.AugAssign) -> None:
        target = stmt.target
        if isinstance(target, ast.Attribute):  # obj.w += v of an object the function made
            self.update_field(scope, stmt)
            return
        if not isinstance(target, ast.Subscript):
            self.update_in_place(scope, stmt)
            return
        flat = self.flat_item(scope, target)
        if flat is not None:  # a.flat[k] += v: the items written, as a[i] += v
            target = flat
            stmt = ast.copy_location(ast.AugAssign(flat, stmt.op, stmt.value), stmt)
        read = ast.copy_location(ast.Subscript(target.value, target.slice, ast.Load()), target)
        if self.made_item_write(  # obj[k] += v: obj.__setitem__(k, obj[k] + v)
            scope, target, ast.copy_location(ast.BinOp(read, stmt.op, stmt.value), stmt)
        ):
            return
        root = _container_root(target)
        copied = scope.env.get(root.id) if isinstance(root, ast.Name) else None
        if isinstance(copied, ir.Name) and copied.id in self.parameter_copies:
            param = self.parameter_copies[copied.id]
            self.copies_updated.setdefault(param, scope.source.location(stmt))
        if self.may_hold_objects(scope, root) or self.may_hold_arrays(scope, root):
            self.update_item(scope, stmt)
        elif isinstance(stmt.op, ast.Add):
            self.store_item(scope, target, stmt.value, ADDITEM, stmt)
        else:  # out[i] *= v  ->  out[i] = out[i] * v
            value = ast.copy_location(ast.BinOp(read, stmt.op, stmt.value), stmt)
            self.store_item(scope, target, value, SETITEM, stmt)

    def lower_Delete(self, scope: Scope, stmt: ast.Delete) -> None:
        """``del tmp``: the name is unbound; ``del items[i]`` of a list the function made
        is ``items.pop(i)`` (srcad.subset: nothing else)."""
        for deleted in stmt.targets:
            if isinstance(deleted, ast.Name):
                scope.env.pop(deleted.id, None)
                continue
            assert isinstance(deleted, ast.Subscript) and isinstance(deleted.value, ast.Name)
            self.delete_item(scope, deleted)

    def lower_Assert(self, scope: Scope, stmt: ast.Assert) -> None:
        """A check: kept, it does not change the result. A message that is computed
        (``f"got {n}"``) is computed only when the check fails, as Python does: the
        ``assert`` is lowered as ``if not test: raise AssertionError(message)``."""
        msg = stmt.msg
        if msg is not None and not isinstance(msg, ast.Constant):
            failed = ast.UnaryOp(ast.Not(), stmt.test)
            error = ast.Call(ast.Name("AssertionError", ast.Load()), [msg], [])
            check_ = ast.If(failed, [ast.Raise(error, None)], [])
            self.lower_If(scope, ast.fix_missing_locations(ast.copy_location(check_, stmt)), None)
            return
        condition = self.lower_operand(scope, stmt.test)
        message = () if msg is None else (ir.Const(msg.value),)
        check = self.helper_ref("check_assertion", check_assertion)
        self.emit(ir.Effect(ir.Call(check, (condition, *message)), tag=self.next_tag()))

    def lower_FunctionDef(self, scope: Scope, stmt: ast.FunctionDef) -> None:
        """A nested function: inlined where it is called."""
        scope.local_functions[stmt.name] = stmt
        scope.functions_by_path.discard(stmt.name)
        # (its defaults are values of the `def` line, as Python evaluates them there)
        self.def_defaults[stmt] = self.nested_defaults(scope, stmt)

    def lower_Expr(self, scope: Scope, stmt: ast.Expr) -> None:
        """A bare call (a docstring is nothing to lower)."""
        call = stmt.value
        if not isinstance(call, ast.Call):
            return
        if self.lower_in_place(scope, call, stmt) is not None:
            return
        if self.made_bare_call(scope, call):  # obj.update(x), super().__init__(w)
            self.lower_expr(scope, call, None)
        elif (written := self.method_statements(scope, call)) is not None:
            for write in written:  # (d.setdefault(k, v): the item writes it is)
                self.lower_statement(scope, write, None)
        else:
            self.bare_call(scope, stmt, call)

    def lower_in_place(self, scope: Scope, call: ast.Call, stmt: ast.AST) -> ast.expr | None:
        """Lower ``call`` as the change it makes in place, when it makes one
        (``xs.append(v)``, ``a.sort()``, ``d.update(m)``, ``np.add.at(a, i, v)``,
        ``np.copyto(a, b)``, ``np.exp(x, out=y)``; ``xs.pop()`` as a statement), and
        return what it evaluates to: ``None``, or the ``out=`` array, which
        ``r = np.exp(x, out=y)`` binds as Python does. None (nothing lowered) for a call
        that changes nothing in place, or whose value is the point (a method of an object
        the function made; ``v = xs.pop()`` is :meth:`pop_item`'s)."""
        nothing = ast.copy_location(ast.Constant(None), call)
        callee = self.denote(scope, call.func).static
        as_written, call = call, out_as_keyword(callee, call)
        if self.is_add_at(scope, call):
            self.add_at(scope, call)
            return nothing
        method = call.func.attr if isinstance(call.func, ast.Attribute) else None
        if self.appended_list(scope, call) is not None:
            self.grow_list(scope, call)
            return nothing
        if self.made_bare_call(scope, call):  # obj.update(x): the method's own value
            return None
        if method in _CHANGES_RETURNING_NONE and (
            writes := self.method_statements(scope, call)
        ) is not None:
            for write in writes:  # (a.sort(), d.update(m): the item writes they are)
                self.lower_statement(scope, write, None)
            return nothing
        given_out = next((k.value for k in call.keywords if k.arg == "out"), None)
        if isinstance(given_out, ast.Tuple):  # np.divmod(x, d, q, r)
            raise self.error(
                scope,
                call,
                f"`{ast.unparse(as_written)}` writes into several output arrays, which srcad "
                "does not follow",
                "write each output as its own statement (`np.floor_divide(x, d, out=q)`, "
                "`np.remainder(x, d, out=r)`), or assign each output's value",
            )
        if not writes_into_out(callee):
            if given_out is not None and callee is NOT_STATIC and method is not None:
                raise self.error(  # (y.cumsum(out=z): a method of a value's, not numpy's)
                    scope,
                    call,
                    f"`.{method}(..., out=...)` writes into its output array through a "
                    "method, which srcad does not follow",
                    (f"call numpy's function (`np.{method}(x, ..., out=y)`), or assign the "
                     if hasattr(np, method) else "assign the ")
                    + f"result (`y[...] = x.{method}(...)`)",
                )
            return None
        out = _out_target(call)
        if out is not None:  # multiply(a, b, out=c): numpy writes the result into c
            without_out = copy.copy(call)
            without_out.keywords = [k for k in call.keywords if k.arg != "out"]
            self.store_item(scope, out, without_out, SETITEM, stmt)
            return _loaded(out)
        written_item = self.in_place_call(scope, call)
        if written_item is not None:  # np.copyto(a, b): a[...] = b
            self.store_item(scope, written_item[0], written_item[1], SETITEM, stmt)
            return nothing
        target = _masked_out(call)
        if target is not None:  # divide(a, b, out=c, where=m)
            value = self.numpy_keywords(scope, call, writes_out=True)
            if value is not call:  # c[...] = np.where(m, divide(a, b), c)
                self.store_item(scope, target, value, SETITEM, stmt)
                return _loaded(target)
        return None

    def own_helper(self, callee: Any) -> bool:
        """A function of the user's own file (not a gradient srcad made): srcad reads its
        code, so a bare call of it (``apply_boundary(u)``, writing into ``u``) is inlined
        and what it writes is followed as the caller's own writes are."""
        code = getattr(callee, "__code__", None)
        return (
            code is not None
            and not hasattr(callee, "__srcad__")
            and code.co_filename == self.root.filename
        )

    def bare_call(self, scope: Scope, stmt: ast.Expr, call: ast.Call) -> None:
        """A call whose value is not used: a warning, a print or a logging call, or one
        of srcad's own effects (changes in place: :meth:`lower_in_place`)."""
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            self.refuse_blocked_deque(scope, func.value.id)  # (w.rotate(1) of a deque)
        callee = self.denote(scope, call.func).static
        owner = self.denote(scope, func.value).static if isinstance(func, ast.Attribute) else None
        if any(callee is w for w in contexts.WARNING_CALLS):  # warnings.warn, filters
            setup = any(callee is w for w in contexts.WARNING_FILTERS)
            self.emit(ir.Effect(self.printed(scope, call), self.next_tag(), setup))
            return
        logs = isinstance(func, ast.Attribute) and func.attr in _LOGGING_METHODS and (
            isinstance(owner, logging.Logger | logging.LoggerAdapter)
            or self.made_logger(scope, func.value)
        )
        if _prints(callee) or logs:  # print(...) and logging: run in the forward pass
            self.emit(ir.Effect(self.printed(scope, call), tag=self.next_tag()))
            return
        if isinstance(owner, np.ufunc) and isinstance(func, ast.Attribute) and func.attr == "at":
            raise self.error(
                scope,
                stmt,
                f"`np.{owner.__name__}.at` (an unbuffered update in place) has no derivative "
                "rule: srcad differentiates `np.add.at`, `np.subtract.at` and `np.multiply.at`",
                "compute the update as a value (for a maximum per segment: a loop over the "
                "segments with `np.max`), or write it with np.add.at",
            )
        if may_change_state(callee):
            self.refuse_shuffle(scope, call)
        rule, _ = self.find_rule(scope, self.as_written(scope, call))
        if rule is not None and rule.draws:  # (rng.uniform(size=2) to advance rng: a draw
            self.operation(scope, call, None)  # its rule runs where it stands, as written)
            return
        if isinstance(func, ast.Attribute) and func.attr in _LIST_CHANGES and isinstance(
            func.value, ast.Call
        ) and isinstance(func.value.func, ast.Attribute) and func.value.func.attr == "setdefault":
            mapping = ast.unparse(func.value.func.value)
            raise self.error(  # (srcad.desugar writes it as new lists where it may)
                scope,
                stmt,
                f"`{mapping}.setdefault(...).{func.attr}(...)` changes a list that "
                f"`{mapping}` holds, which srcad follows only for a dict the function makes "
                f"(`{mapping} = {{}}`), a key without calls, a default list display, and no "
                f"name bound to what `{mapping}` holds before the last such change",
                f"read `{mapping}`'s lists after the changes, or give the item a new list: "
                f"`{mapping}[k] = {mapping}.get(k, []) + [v]`",
            )
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Subscript) and (
            func.attr in _LIST_CHANGES
        ):  # (d["b"].append(v): a list that another container holds)
            item = ast.unparse(func.value)
            raise self.error(
                scope,
                stmt,
                f"`{item}.{func.attr}(...)` changes a list that "
                f"`{ast.unparse(func.value.value)}` holds, which srcad does not follow",
                f"give the item a new list instead: `{item} = {item} + [v]` to append, "
                f"`v = {item}[-1]` then `{item} = {item}[:-1]` to pop",
            )
        runs = changes_its_object(callee)  # (`TALLY.bump()`: runs as Python, given no
        if runs:  # value of the function's)
            self.refuse_changing_method(scope, call)
        elif self.own_helper(callee):  # (what it changes in place, srcad reads: inlined)
            self.procedures.add(callee)  # (it may end without `return`: it gives None)
            self.lower_expr(scope, call, None)
            return
        nested = self.nested_function(scope, func)
        if nested is not None:  # a `def` of the code (writing into its argument or into a
            node, home = nested  # variable it closes over): inlined, as a helper of the file
            if node not in self.nested_procedures:
                self.nested_procedures[node] = ending_in_return(node)
            self.inline_nested(scope, call, self.nested_procedures[node], home, None)
            return
        if not runs and not getattr(callee, "__srcad_effect__", False) and not (
            draws_random_numbers(callee, call)
        ):
            raise self.error(
                scope,
                stmt,
                "the value of a bare call is not used, and srcad does not follow what "
                "a call changes in place (`random.shuffle(items)`, a helper that "
                "writes into its argument)",
                "assign its value (`s = f(x)`, `a = np.sort(a)`), or write the change "
                "as an assignment (`a[...] = b`)",
            )
        written = self.written(call)
        raises = callee is raise_exception  # (srcad's own `raise`, read again)
        effect = self.aux_objects(scope, call) if callee is keep_aux else None
        self.emit(ir.Effect(
            effect or self.spell_plain(scope, written), tag=self.next_tag(), raises=raises,
            loc=scope.source.location(call),
        ))

    def aux_objects(self, scope: Scope, call: ast.Call) -> ir.Expr | None:
        """``keep_aux(aux)`` (``has_aux=True``) where aux is, or holds, objects the
        function made: they are made objects of their classes again for the caller
        (inside they are dicts of their fields). None where aux holds none."""
        value = self.lower_expr(scope, call.args[0], None)
        shape = self.object_shape(value)
        if shape is None:
            return None
        aux = self.as_value(scope, value, call)
        rebuilt = ir.Call(self.helper_ref("as_objects", as_objects),
                          (aux, self.helper_ref("aux_classes", shape)))
        return ir.Call(self.helper_ref("keep_aux", keep_aux), (rebuilt,))

    def printed(self, scope: Scope, call: ast.Call) -> ir.Expr:
        """``print(...)`` or a logging call, with its arguments' values (f-strings as
        ``formatted(template, *values)``); it has no effect on the gradient."""
        called = call.func
        if isinstance(called, ast.Attribute) and self.made_logger(scope, called.value):
            func: ir.Expr = ir.Attr(self.lower_operand(scope, called.value), called.attr)
        else:
            func = self.reference(scope, self.raw(called))
        return ir.Call(
            func,
            tuple(self.message_part(scope, a) for a in call.args),
            tuple(
                (k.arg, self.message_part(scope, k.value))
                for k in call.keywords
                if k.arg is not None
            ),
        )

    def made_logger(self, scope: Scope, node: ast.expr) -> bool:
        """Is ``node`` a logger the function gets itself: ``logging.getLogger(...)``, or a
        local name bound once to it (``log = logging.getLogger(__name__)``)?"""
        if isinstance(node, ast.Call):
            return self.denote(scope, node.func).static is logging.getLogger
        if not isinstance(node, ast.Name) or node.id not in scope.local_names:
            return False
        bindings = [
            n for n in astwalk.walk(scope.function)
            if isinstance(n, ast.Name) and n.id == node.id and not isinstance(n.ctx, ast.Load)
        ]
        made = [
            a.value for a in astwalk.walk(scope.function)
            if isinstance(a, ast.Assign) and a.targets == [bindings[0]]
        ] if len(bindings) == 1 else []
        return len(made) == 1 and self.made_logger(scope, made[0])

    def message_part(self, scope: Scope, node: ast.expr) -> ir.Expr:
        """An argument of ``print``, of a logging call or of an exception raised: its
        value (an f-string as ``formatted(template, *values)``)."""
        if not isinstance(node, ast.JoinedStr):
            return self.lower_operand(scope, node)
        template, values = _format_template(node)
        helper = self.helper_ref("formatted", formatted)
        return ir.Call(helper, (ir.Const(template), *(self.message_part(scope, v) for v in values)))

    def is_add_at(self, scope: Scope, node: ast.expr) -> bool:
        """``np.add.at(x, i, v)`` or ``np.subtract.at(x, i, v)`` (the ufunc methods that
        add at repeated indices too), or srcad's own ``add_at(x, i, v)`` (forward mode's
        code, read again for second derivatives)."""
        if (
            isinstance(node, ast.Call)
            and len(node.args) == 3
            and not node.keywords
            and self.denote(scope, node.func).static is runtime_add_at
        ):
            return True
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "at"
            and (
                self.denote(scope, node.func.value).static is np.add
                or (  # (np.subtract.at: spelled np.add.at of -v, through the same module)
                    self.denote(scope, node.func.value).static is np.subtract
                    and isinstance(node.func.value, ast.Attribute)
                )
            )
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
        added = call.args[2]
        func_node = call.func
        subtract = call.func.value if isinstance(call.func, ast.Attribute) else call.func
        if self.denote(scope, subtract).static is np.subtract:  # add.at of -v
            assert isinstance(subtract, ast.Attribute)
            added = ast.copy_location(ast.UnaryOp(ast.USub(), added), added)
            ufunc = ast.copy_location(ast.Attribute(subtract.value, "add", ast.Load()), subtract)
            func_node = ast.copy_location(ast.Attribute(ufunc, "at", ast.Load()), call.func)
        value = self.lower_operand(scope, added)
        func = self.reference(scope, self.raw(func_node))
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
        self, scope: Scope, target: ast.Subscript, value_node: ast.expr, rule: Any, stmt: ast.AST
    ) -> None:
        """``out[i] = v`` (or ``+=``): written in place, as numpy does (into any array:
        one made here, an argument, a view; :mod:`srcad.memory` follows the sharing).
        ``stmt`` is the statement, or the target it writes (where the write is)."""
        root = _container_root(target)
        if isinstance(root, ast.List | ast.Tuple):
            raise self.error(
                scope,
                target,
                "this writes into a list display that no name holds: nothing can read "
                "what it writes",
                "give the list a name first (`items = [...]`), then write `items[i] = v`",
            )
        if isinstance(root, ast.Name) and not _bound_in(scope, root.id):
            raise self.error(
                scope,
                target,
                f"this changes `{root.id}`, which the function did not make (a global, or a "
                "variable of an enclosing function): srcad cannot follow changes to objects "
                "outside the function, which later calls would also see",
                f"work on a copy made inside the function (`{root.id} = {root.id}.copy()`), "
                f"or pass `{root.id}` as a parameter",
            )
        if self.rows_held_once(scope, target):
            self.set_row_item(scope, target, value_node, rule, stmt)
            return
        if root is not target.value and (
            self.may_be_list(scope, root)
            or isinstance(root, ast.Name) and self.holds_list(scope.env.get(root.id))
            or isinstance(root, ast.Attribute) and self.field_holds_list(scope, root)
        ):
            assert isinstance(root, ast.Name | ast.Attribute)  # (a display is refused above)
            sharer = self.row_sharer(scope, target)
            if isinstance(sharer, ast.stmt) and not isinstance(sharer, ast.FunctionDef):
                at = scope.source.location(sharer)
                written = _without_comment(linecache.getline(at.filename, at.lineno))
                shared = written or ast.unparse(sharer).splitlines()[0]  # (as written)
                raise self.error(
                    scope,
                    target,
                    f"`{ast.unparse(target)} = ...` writes into a row of `{ast.unparse(root)}`, "
                    f"and `{shared}` (line {scope.source.location(sharer).lineno}) may "
                    "let another name or list hold that row too, which would see the "
                    "change: srcad follows such a write only where the list alone holds "
                    "its rows",
                    "copy rows with `list(row)` (`row[:]` of an array's row is a view of "
                    "it)" if _copies_by_slice(sharer) else
                    "make each row a new list (`[[0.0] * m for _ in range(n)]`), and read "
                    f"rows by their items (`{ast.unparse(target)}`) or copy one before "
                    f"naming it (`row = list({ast.unparse(target.value)})`)",
                )
            raise self.error(
                scope,
                target,
                f"writing into an item held by `{ast.unparse(root)}` (a list of lists or of "
                "arrays, "
                "or a dict holding lists) is not supported",
                f"use a numpy array (`np.zeros((n, m))`), or replace the whole item: "
                f"`row = list({ast.unparse(target.value)}); row[...] = v; "
                f"{ast.unparse(target.value)} = row`",
            )
        item = scope.env.get(root.id) if isinstance(root, ast.Name) else None
        if root is not target.value and isinstance(item, ir.Name) and (
            item.id in self.parameter_copies  # (of a parameter: an array, checked on entry)
        ):
            assert isinstance(root, ast.Name)  # (it has a value)
            param = self.parameter_copies[item.id]
            self.copies_written_through.setdefault(param, (root.id, scope.source.location(stmt)))
        if isinstance(item, ir.Name) and item.id in self.list_items:
            assert isinstance(root, ast.Name)  # (item is its value)
            raise self.error(
                scope,
                target,
                f"`{root.id}` is an item of a list, which may be a list itself: writing into "
                "it would change the outer list too, which srcad does not follow",
                f"write into a copy (`{root.id} = list({root.id})`, or `.copy()` of an array), "
                "and put it back into the list if needed",
            )
        if self.may_be_list(scope, target.value):
            self.set_list_item(scope, target, item_value(target, value_node, rule, stmt), stmt)
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
        if isinstance(value_node, ast.List | ast.Tuple) and (  # y[idx] = [a, b]: numpy
            container.id not in self.own_dicts  # makes an array of the items (a dict
        ):  # keeps the list)
            items, value = value, ir.Name(self.names.temp())
            self.emit(
                ir.Assign(
                    value.id,
                    ir.Call(self.helper_ref("array", np.array), (items,)),
                    ARRAY_OF_ITEMS,
                    (items,),
                    tag=self.next_tag(),
                    loc=scope.source.location(value_node),
                )
            )
        index = self.lower_index(scope, target.slice)
        if isinstance(target.slice, ast.Slice) and container.id not in self.not_dicts:
            self.emit(self.run_time_check(  # (a list given: its slice may change length)
                require_no_list, (container,), UnsupportedSyntaxError(
                    f"this writes a slice of `{name}`, a Python list the function did not "
                    "make: srcad follows slice writes into arrays, and into lists the "
                    "function made",
                    f"copy the list first (`{name} = list({name})`), or pass an array",
                    scope.source.location(target),
                ), "list_slice_written", note="not a Python list",
            ))
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

    def may_hold_objects(self, scope: Scope, node: ast.expr) -> bool:
        """A list or a dict this function made, or a parameter (a list of arrays,
        perhaps): its items are objects that ``items[i] op= w`` changes in place."""
        if self.may_be_list(scope, node):
            return True
        return self.holds_objects(scope.env.get(node.id) if isinstance(node, ast.Name) else None)

    def may_hold_arrays(self, scope: Scope, node: ast.expr) -> bool:
        """A container whose items ``c[k] op= w`` may change in place, though the function
        did not make it as one: a field of an object it made (``self.params[k] -= v``), an
        item of another container (``for layer in model.values(): layer["W"] *= s``).
        Not a number or an array arithmetic or numpy made."""
        if isinstance(node, ast.Attribute):
            return self.may_be_made(scope, node)
        value = scope.env.get(node.id) if isinstance(node, ast.Name) else None
        return isinstance(value, ir.Name) and value.id not in self.not_dicts and (
            value.id not in self.bindings
        )

    def holds_objects(self, value: Any) -> bool:
        """A parameter, a dict this function made, or a shallow copy of either
        (``p.copy()``, ``dict(p)``, ``L[:]``: the same arrays in a new container)."""
        return isinstance(value, ir.Name) and (
            value.id in self.parameter_names
            or value.id in self.own_dicts
            or value.id in self.shallow_copies
        )

    def update_item(self, scope: Scope, stmt: ast.AugAssign) -> None:
        """``items[i] op= w`` on a list, a dict or a parameter, as Python runs it: ``item =
        items[i]; item op= w; items[i] = item``. An array item changes in place, so every
        other name that holds it sees the change (``items = [x, 2 * x]; items[0] *= 3``
        changes ``x``); a number gets a new value. The gate is ``update_in_place``'s, on
        the item."""
        target = stmt.target
        assert isinstance(target, ast.Subscript)
        root = _container_root(target)
        if isinstance(root, ast.Name) and not _bound_in(scope, root.id):
            return self.store_item(scope, target, stmt.value, ADDITEM, stmt)  # (refused there)
        read = ast.copy_location(ast.Subscript(target.value, target.slice, ast.Load()), target)
        # (a slice, a sequence joined to the item (`pairs[1] += (v,)`), a constant, a
        # global: only the container's item gets a new value)
        joined = isinstance(stmt.op, ast.Add) and self.may_be_list(scope, stmt.value)
        item = None if joined or isinstance(target.slice, ast.Slice) else self.lower_expr(
            scope, read, None
        )
        if (
            not isinstance(item, ir.Name)
            or item.id in self.bindings
            or item.id in self.free_objects
        ):
            old: ast.expr = read
            if joined and not isinstance(target.slice, ast.Slice):
                old = self.unshared_list(scope, stmt, read)
            value = ast.copy_location(ast.BinOp(old, stmt.op, stmt.value), stmt)
            self.store_item(scope, target, value, SETITEM, stmt)
            return
        rhs = self.lower_operand(scope, stmt.value)
        node = ast.copy_location(ast.BinOp(Operand(item), stmt.op, Operand(rhs)), stmt)
        root = target.value
        while isinstance(root, ast.Subscript | ast.Attribute):
            root = root.value
        label = f"{root.id}_item" if isinstance(root, ast.Name) else "item"
        container = scope.env.get(target.value.id) if isinstance(target.value, ast.Name) else None
        where = scope.source.location(stmt)
        if isinstance(container, ir.Name) and container.id in self.parameter_names:
            self.items_updated.setdefault(container.id, where)
        updated = self.operation(scope, node, lambda: self.names.fresh(label), in_place=True)
        self.store_item(scope, target, Operand(updated), SETITEM, stmt)

    def unshared_list(self, scope: Scope, stmt: ast.AugAssign, read: ast.expr) -> ast.expr:
        """``c[k] += [v]`` (``self.hist += [v]``): the item read once, checked when it runs
        to be a list no variable holds too (Python extends it in place, and srcad gives
        the container a new list); the read, as an operand."""
        old = self.lower_operand(scope, read)
        holders = [(n, v) for n, v in scope.env.items()
                   if isinstance(n, str) and isinstance(v, ir.Name) and v != old]
        if not holders or not isinstance(old, ir.Name):
            return Operand(old)
        error = UnsupportedSyntaxError(
            f"`{{name}}` holds the list `{ast.unparse(stmt.target)} += ...` extends: Python "
            "extends it in place, so `{name}` sees the new items, which srcad does not "
            "follow",
            f"copy the list where the variable takes it (`list(...)`), or give the item a "
            f"new list on purpose: `{ast.unparse(stmt.target)} = "
            f"{ast.unparse(stmt.target)} + [...]`",
            scope.source.location(stmt),
        )
        names = ir.Tuple(tuple(ir.Const(n) for n, _ in holders))
        values = ir.Tuple(tuple(v for _, v in holders))
        self.emit(self.run_time_check(require_not_held, (old, values, names), error, "held_list"))
        return Operand(old)

    def update_in_place(self, scope: Scope, stmt: ast.AugAssign) -> None:
        """``y op= w``: numpy changes the array ``y`` holds in place (every name that
        shares it sees the change); a Python number gets a new value. One gate does
        both, as Python does: ``y_1 = y; y_1 op= w`` (``y_1`` is ``y`` itself when ``y`` is
        an array); :mod:`srcad.memory` then tells the other names what changed."""
        # (an item is written by store_item; srcad.subset refuses an attribute)
        assert isinstance(stmt.target, ast.Name)
        name = stmt.target.id
        if self.made_update(scope, stmt):  # v += w of objects the function made
            return
        if isinstance(stmt.op, ast.Add) and self.may_be_list(scope, stmt.target):
            self.grow(scope, stmt, name, "extend", stmt.value)  # items += more
            return
        if isinstance(stmt.op, ast.Mult) and self.may_be_list(scope, stmt.target):
            self.repeat_in_place(scope, stmt, name)  # items *= 2
            return
        load = ast.copy_location(ast.Name(name, ast.Load()), stmt.target)
        old = self.lower_expr(scope, load, None)
        if (
            isinstance(old, ir.Name)
            and old.id in self.list_items
            and (
                isinstance(stmt.op, ast.Add) and self.may_be_list(scope, stmt.value)
                or isinstance(stmt.op, ast.Mult) and isinstance(stmt.value, ast.Constant)
                and type(stmt.value.value) is int
            )
        ):  # (r = R[0]; r += [v]: Python extends the row R holds)
            raise self.error(
                scope,
                stmt,
                f"`{name}` is an item of a list, which may be a list itself: "
                f"`{ast.unparse(stmt)}` would change it in place, and the outer list "
                "with it, which srcad does not follow",
                f"give the outer list a new item instead (`R[i] = R[i] + [...]`), or "
                f"copy the item first (`{name} = list({name})`)",
            )
        if (  # a constant, a tuple, a global: `name op= w` only rebinds the local name
            not isinstance(old, ir.Name) or old.id in self.bindings or old.id in self.free_objects
        ):
            value = ast.copy_location(ast.BinOp(load, stmt.op, stmt.value), stmt)
            self.assign(scope, [stmt.target], value)
            return
        rhs = self.lower_operand(scope, stmt.value)
        node = ast.copy_location(ast.BinOp(Operand(old), stmt.op, Operand(rhs)), stmt)
        scope.env[name] = self.operation(
            scope, node, lambda: self.variable_name(scope, name), in_place=True
        )

    def repeat_in_place(self, scope: Scope, stmt: ast.AugAssign, name: str) -> None:
        """``items *= n`` on a list the function made: the list changed in place (every
        name that holds it sees the repeat), as ``items.extend(items * (n - 1))``."""
        count = stmt.value
        if not (isinstance(count, ast.Constant) and type(count.value) is int and count.value > 0):
            raise self.error(
                scope,
                stmt,
                f"`{name} *= ...` repeats a list in place by a count srcad cannot read as a "
                "positive whole number where it compiles",
                f"write `{name} = {name} * n` (a new list), or repeat by a constant",
            )
        items = ast.copy_location(ast.Name(name, ast.Load()), stmt.target)
        more = ast.fix_missing_locations(
            ast.copy_location(ast.BinOp(items, ast.Mult(), ast.Constant(count.value - 1)), stmt)
        )
        self.grow(scope, stmt, name, "extend", more)

    def assign(self, scope: Scope, targets: list[ast.expr], value_node: ast.expr) -> None:
        if len(targets) == 1 and isinstance(targets[0], ast.Subscript) and (
            flat := self.flat_item(scope, targets[0])
        ) is not None:  # a.flat[k] = v: v's items repeated or cut to the items written
            self.store_item(scope, flat, _flat_values(flat, value_node), SETITEM, targets[0])
            return
        if len(targets) == 1 and isinstance(targets[0], ast.Subscript):
            if not self.made_item_write(scope, targets[0], value_node):
                self.store_item(scope, targets[0], value_node, SETITEM, targets[0])
            return
        first = targets[0]
        if len(targets) == 1 and isinstance(first, ast.Attribute):  # self.w = w
            function = self.known_function(scope, value_node)  # (self.act = np.tanh)
            value = self.lower_expr(scope, value_node, None)
            self.store_field(scope, first, value, function)
            return
        if len(targets) == 1 and isinstance(first, ast.Name) and self.names_a_function(
            scope, first.id, value_node
        ):
            return
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
            unpacked = any(isinstance(t, ast.Tuple | ast.List) for t in targets)
            if unpacked:
                self.refuse_iterating_objects(scope, value_node, "unpacking")
            value = self.lower_expr(scope, value_node, None)
            if unpacked:
                self.refuse_iterating_made(scope, value, value_node, "unpacking")
        for target in targets:
            self.bind(scope, target, value)

    def refuse_iterating_objects(
        self, scope: Scope, value_node: ast.expr, what: str = "iterating over"
    ) -> None:
        """``a, b = p`` or ``for c in p`` of an object of a class of the user's (not a
        namedtuple): Python runs its ``__iter__``, which srcad does not read; refused at
        the line."""
        if isinstance(value_node, ast.Call) and any(  # for a, b in zip(xs, p)
            self.denote(scope, value_node.func).static is f
            for f in (builtins.zip, builtins.enumerate, builtins.reversed)
        ):
            for argument in value_node.args:
                self.refuse_iterating_objects(scope, argument, what)
            return
        if isinstance(value_node, ast.Subscript) and isinstance(value_node.slice, ast.Slice):
            return  # (a slice of a list of objects is a list)
        self._refuse_iterating(scope, value_node, what, self.object_class(scope, value_node))

    def refuse_iterating_made(
        self, scope: Scope, value: Any, node: ast.expr, what: str = "iterating over"
    ) -> None:
        """As :meth:`refuse_iterating_objects`, for an object the function made, known
        once ``node`` is lowered to ``value`` (``for v in Pts(xs)``, a helper's result):
        srcad holds its fields, not what its ``__iter__`` gives."""
        made = self.made_of(value)
        self._refuse_iterating(scope, node, what, made.cls if made is not None else None)

    def _refuse_iterating(
        self, scope: Scope, node: ast.expr, what: str, cls: type | None
    ) -> None:
        if cls is None or issubclass(cls, tuple | list):
            return
        raise self.error(
            scope,
            node,
            f"{what} an object of class {cls.__name__} runs its `__iter__`, which srcad "
            "does not read",
            "read its fields by name (a, b = p.a, p.b), or pass a tuple",
        )

    def names_a_function(self, scope: Scope, name: str, value_node: ast.expr) -> bool:
        """``act = np.tanh`` (a function srcad knows when it compiles, given a local name
        the function never assigns again): calls ``act(z)`` are calls of that function,
        as for a function passed in; likewise ``xp = np`` (a module: ``xp.sum(z)`` is
        ``np.sum(z)``, not the method ``.sum`` of an object ``xp``). False for anything
        else (it is lowered as a value)."""
        denoted = self.denote(scope, value_node)
        module = denoted.kind is Kind.MODULE and denoted.fixed
        if denoted.function is None and not module:  # (first: cheap for most)
            return False
        stores = sum(
            isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id == name
            for n in astwalk.walk(scope.function)
        )
        # (bound once, before every read: in the function's body, or in a path of an
        # `if` whose reads desugaring moved into that path, next to a `def act` of the
        # other path, which lowering finds first there; or bound to functions only, each
        # time by a line of the function's body itself: each read is of the one before)
        if not (
            _bound_before_every_read(scope.function, name) if stores == 1
            else self.rebound_to_functions_only(scope, name)
        ):
            return False
        found = (
            Static(denoted.obj, self.reference(scope, self.raw(value_node)), denoted.lookup)
            if module else self.known_function(scope, value_node)
        )
        if found is None:
            return False
        scope.statics[name] = found
        scope.env[name] = found.reference  # (read as a value: passed on, `act is np.tanh`)
        return True

    def rebound_to_functions_only(self, scope: Scope, name: str) -> bool:
        """Is every binding of ``name`` a line ``name = <a function srcad knows>`` of the
        function's body itself (in no loop, branch or nested function), the first before
        every read? (Then the lines between two bindings read the first one.)"""
        body = scope.function.body
        bindings = [k for k, s in enumerate(body) if single_name_target(s) == name]
        stores = sum(
            isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id == name
            for n in astwalk.walk(scope.function)
        )
        if not bindings or len(bindings) != stores:
            return False
        if any(isinstance(n, ast.Name) and n.id == name
               for s in body[: bindings[0]] for n in astwalk.walk(s)):
            return False
        for k in bindings:
            value = body[k].value  # type: ignore[attr-defined]  # (an Assign: as found)
            denoted = self.denote(scope, value)
            if denoted.function is None and not (denoted.kind is Kind.MODULE and denoted.fixed):
                return False
        return True

    def _namer_for(self, scope: Scope, target: ast.expr) -> Callable[[], str] | None:
        if isinstance(target, ast.Name):
            return lambda: self.variable_name(scope, target.id)
        return None

    def bind(self, scope: Scope, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            scope.env[target.id] = value
            return
        if isinstance(target, ast.Subscript):  # a, xs[0] = ...: an item write
            self.store_item(scope, target, Operand(value), SETITEM, target)
            return
        if isinstance(target, ast.Attribute):  # self.w = w: of an object the function made
            self.store_field(scope, target, value)
            return
        # (srcad.subset: a name, an item, or a tuple or list of these)
        assert isinstance(target, ast.Tuple | ast.List)
        if not isinstance(value, TupleValue) and isinstance(value, ir.Name):
            where = scope.source.location(target)
            error = ValueError(
                f"{where}: the value unpacked into {len(target.elts)} names here holds "
                "another number of items"
            )
            value = self.run_time_items(scope, value, len(target.elts), target, error)
        if not isinstance(value, TupleValue) or len(value.items) != len(target.elts):
            raise self.error(
                scope,
                target,
                f"cannot unpack this value into {len(target.elts)} names",
                "unpack a tuple of the same length",
            )
        for element, item in zip(target.elts, value.items):
            self.bind(scope, element, item)

    def run_time_items(
        self, scope: Scope, value: ir.Name, count: int, node: ast.AST, error: Exception
    ) -> TupleValue:
        """The ``count`` items of a tuple or list known only at run time (unpacked into
        names, or spread into a call's parameters), taken one by one after checking that
        it has that many (``error`` where it has not, as Python would refuse it)."""
        self.emit(self.run_time_check(
            require_length, (value, ir.Const(count)), error, "wrong_length",
            note="as many items as names",
        ))
        return TupleValue(
            tuple(self.element(scope, value, ir.Const(k), node) for k in range(count))
        )

    def variable_name(self, scope: Scope, user_name: str) -> str:
        """The listing name for a new value of a user variable (SSA versioning)."""
        if scope.is_root:
            return self.names.own(user_name)
        return self.names.fresh(user_name)


def _without_comment(line: str) -> str:
    """A source line without its trailing comment (kept where cutting at ``#`` would
    not leave the code: a ``#`` in a string)."""
    code = line.split("#", 1)[0].strip()
    try:
        ast.parse(code)
    except SyntaxError:  # (a `#` in a string, or a block's header line)
        return line.strip()
    return code


def _bound_in(scope: Scope, name: str) -> bool:
    """Whether ``name`` is a variable of the code srcad lowers (of ``scope`` or of an
    enclosing function it lowers), not a global or a closure's."""
    current: Scope | None = scope
    while current is not None:
        if name in current.env or name in current.local_names:
            return True
        current = current.parent
    return False


def _out_target(call: ast.Call) -> ast.Subscript | None:
    """``c[...]`` for a call ``f(..., out=c)`` (``c[i]`` for ``out=c[i]``), the items the
    call writes; None for none, or for ``out=`` with ``where=`` (the other items are
    kept) or a tuple of outputs."""
    given = {k.arg: k.value for k in call.keywords}
    out = given.get("out")
    if out is None or "where" in given:
        return None
    if isinstance(out, ast.Subscript):  # (out=ws["tmp"]: the array the dict holds, written
        whole = ast.copy_location(ast.Constant(Ellipsis), out)  # into: ws["tmp"][...])
        return ast.copy_location(ast.Subscript(out, whole, ast.Store()), out)
    if isinstance(out, ast.Name):
        whole = ast.copy_location(ast.Constant(Ellipsis), out)
        return ast.copy_location(ast.Subscript(out, whole, ast.Store()), out)
    return None


#: methods that change their list, array or dict and return None
_CHANGES_RETURNING_NONE = frozenset(("fill", "sort", "update"))


def _loaded(target: ast.Subscript) -> ast.expr:
    """The array ``c[...]`` writes into, read: ``c`` (``c[i]`` for ``c[i]``)."""
    if isinstance(target.slice, ast.Constant) and target.slice.value is Ellipsis:
        return target.value
    return ast.copy_location(ast.Subscript(target.value, target.slice, ast.Load()), target)


def _masked_out(call: ast.Call) -> ast.Subscript | None:
    """For ``f(..., out=c, where=m)`` with ``c`` a name: the target ``c[...]``, which
    gets ``np.where(m, f(...), c)`` (see :meth:`numpy_keywords`)."""
    given = {k.arg: k.value for k in call.keywords}
    out = given.get("out")
    if "where" not in given or not isinstance(out, ast.Name):
        return None
    whole = ast.copy_location(ast.Constant(Ellipsis), out)
    return ast.copy_location(ast.Subscript(out, whole, ast.Store()), out)


_LOGGING_METHODS = frozenset(("debug", "info", "warning", "error", "critical", "exception", "log"))
#: methods that change a list (a bare call of one on an item of another container)
_LIST_CHANGES = frozenset(("append", "extend", "insert", "remove", "pop", "clear", "reverse"))


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


def _container_root(target: ast.Subscript) -> ast.expr:
    """The container an item chain starts from: ``d`` of ``d["layer"]["w"]`` (whose
    items may be objects, changed in place by ``op=``), ``out`` of ``out[i]``."""
    root = target.value
    while isinstance(root, ast.Subscript):
        root = root.value
    return root


def _bound_before_every_read(fn: ast.FunctionDef, name: str) -> bool:
    """Does an assignment to ``name`` stand in a block of ``fn`` whose later statements
    hold every read of ``name`` in ``fn`` (but those after a ``def name`` of their own)?"""
    blocks: list[list[ast.stmt]] = []
    pending: list[list[ast.stmt]] = [fn.body]
    while pending:
        block = pending.pop()
        blocks.append(block)
        for stmt in block:
            if isinstance(stmt, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
                continue
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list):
                    pending.append(inner)

    def reads(stmts: list[ast.stmt]) -> int:
        return sum(
            isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id == name
            for s in stmts for n in astwalk.walk(s)
        )

    total = reads(fn.body)
    for block in blocks:  # (the reads a `def name` of their block answers)
        defined = [k for k, s in enumerate(block) if isinstance(s, ast.FunctionDef)
                   and s.name == name]
        if defined:
            total -= reads(block[defined[0] + 1 :])
    for block in blocks:
        for position, stmt in enumerate(block):
            if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in stmt.targets
            ):
                return reads(block[position + 1 :]) == total
    return False



def _copies_by_slice(stmt: ast.AST) -> bool:
    """Whether ``stmt`` copies with a whole slice, ``row[:]``: a new list of a list, but
    a view of an array's row."""
    return any(
        isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Slice)
        and n.slice.lower is n.slice.upper is n.slice.step is None
        for n in astwalk.walk(stmt)
    )


def _flat_values(item: ast.Subscript, value: ast.expr) -> ast.expr:
    """What ``a.flat[k] = value`` writes into ``item`` (``a[flat_index(a, k)]``, see
    :meth:`~srcad.lower.objects.Objects.flat_item`): ``value``'s items repeated or cut to
    the number of items written, in their shape (``np.reshape(np.resize(value, n),
    shape)``, the shape ``np.arange(a.size)[k]`` has)."""
    assert isinstance(item.slice, ast.Call)
    array, key = item.slice.args
    numpy = ast.Name(NUMPY, ast.Load())

    def np_call(name: str, *args: ast.expr) -> ast.expr:
        return ast.Call(ast.Attribute(numpy, name, ast.Load()), list(args), [])

    size = ast.Attribute(array, "size", ast.Load())
    positions = ast.Subscript(np_call("arange", size), key, ast.Load())
    count, shape = np_call("size", positions), np_call("shape", positions)
    written = np_call("reshape", np_call("resize", value, count), shape)
    return ast.fix_missing_locations(ast.copy_location(written, value))
