"""Forward mode: a forward listing becomes a tangent (JVP) function, from the same rules.

Each active gate gets a tangent line right after it: for an elementwise gate the
adjoint template with ``g`` replaced by the operand's tangent (the local derivative is
a number, so transposing changes nothing); for a linear gate the gate itself applied to
the tangent; otherwise the rule's own tangent template. Branches and loops stay as they
are: tangents flow forward with the values, so nothing needs saving.
"""

from __future__ import annotations

from typing import Any

from . import ir
from .aliases import protect_aliases
from .analyze import Activity, fresh_calls
from .contexts import touched, touching_error
from .diagnostics import no_rule_error, order_error
from .errors import NoRuleError
from .float_guard import USER_FUNCTION
from .memory import Memory, fresh_parameters
from .names import NameAllocator, bind
from .rules.table import Scatter, Zeroed
from .runtime import (
    add_at,
    fresh_arguments,
    fresh_copy,
    shaped_like,
    snapshot,
    tangents_raising_as_the_function_does,
    zero_tangents,
    zeros_like,
)


class _Tangents:
    def __init__(
        self, fn: ir.Function, activity: Activity, memory: Memory | None = None
    ) -> None:
        self.fn = fn
        self.activity = activity
        self.memory = memory
        self.names = NameAllocator(fn.names())
        #: the generated function's own parameters (a parameter of ``fn`` may be called
        #: ``primals``: then these are ``primals_1``...)
        self.primals_param = self.names.fresh("primals")
        self.tangents_param = self.names.fresh("tangents")
        self.bindings: dict[str, Any] = dict(fn.bindings)
        self.tangents: dict[str, str] = {}
        #: an elementwise gate's tangent from its adjoint template (``g`` the tangent),
        #: not its own tangent template (numpy code for arrays, such as an exponent's)
        self.adjoint_templates = False

    def tangent(self, name: str) -> str:
        if name not in self.tangents:
            self.tangents[name] = self.names.fresh(f"{name}_dot")
        return self.tangents[name]

    def bind(self, preferred: str, obj: Any) -> str:
        """A name for ``obj`` in the generated code (see :func:`srcad.names.bind`)."""
        return bind(self.names, self.bindings, self.fn.free_objects, preferred, obj)

    def block(self, stmts: tuple[ir.Stmt, ...]) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for stmt in stmts:
            if isinstance(stmt, ir.If | ir.Loop):
                out.append(ir.with_blocks(stmt, [self.block(b) for b in ir.blocks_of(stmt)]))
            elif isinstance(stmt, ir.Python | ir.Enter) and touched(stmt, self.activity):
                out += [self.zero_tangents(stmt), stmt]
            elif isinstance(stmt, ir.Assign):
                if not (self.activity.is_active(stmt.target) and stmt.rule is not None):
                    out.append(stmt)
                    if self.activity.is_active(stmt.target):
                        out.append(self.tangent_of(stmt))
                    continue
                # the tangent line comes after the statement, so an operand the statement
                # changes (y *= w in place; x = f(x) in a loop) is read from a saved copy
                changed = self.changed_by(stmt)
                old = {name: self.names.fresh(f"{name}_old") for name in changed}
                tangent = self.tangent_of(stmt, old)
                read = ir.read_in([tangent])
                for name in changed:
                    if old[name] in read:
                        value: ir.Expr = ir.Name(name)
                        if stmt.in_place:  # (rebinding keeps the old object: no copy needed)
                            value = ir.Call(ir.Name(self.bind("snapshot", snapshot)), (value,))
                        out.append(ir.Assign(old[name], value))
                out += [*self.zero_orders(stmt), stmt, tangent]
            elif not isinstance(stmt, ir.Return):
                out.append(stmt)
        return out

    def changed_by(self, stmt: ir.Assign) -> list[str]:
        """The operands of ``stmt`` that it changes: the name ``y op= w`` updates in place,
        and each other operand that may share its memory (``w = y[:2]; w *= y[1:]``
        changes ``y[1:]`` too, as numpy reads it); the target ``x = f(x)`` rebinds."""
        operands = [n for o in stmt.operands for n in ir.names_in(o)]
        if stmt.in_place and isinstance(stmt.value, ir.BinOp):
            updated = stmt.value.left
            assert isinstance(updated, ir.Name)  # (``y op= w`` updates a name)
            if self.memory is None:
                return [updated.id]
            roots = self.memory.roots_of(updated.id)
            shared = [
                n for n in dict.fromkeys(operands)
                if n != updated.id and self.memory.roots_of(n) & roots
            ]
            return [updated.id, *shared]
        return [stmt.target] if stmt.target in operands else []

    def zero_tangents(self, stmt: ir.Python | ir.Enter) -> ir.Stmt:
        """Plain Python that reads active values (a ``try`` statement, a ``with``
        manager's call) is not differentiated: the tangents of those values must be zero
        when it runs (checked then), as they are for the parameters not differentiated."""
        names = touched(stmt, self.activity)
        error = touching_error(stmt, names[0], "has a tangent that is not zero")
        check = self.bind("require_zero_tangents", zero_tangents(error))
        tangents = tuple(ir.Name(self.tangent(n)) for n in names)
        return ir.Effect(
            ir.Call(ir.Name(check), tangents), note="plain Python: its inputs' tangents must be 0"
        )

    def zero_orders(self, stmt: ir.Assign) -> list[ir.Stmt]:
        """The rule's orders (``ir.Rule.orders``) that have tangents: each must be zero
        when the line runs (a jvp gives every float argument one), else it is refused."""
        assert stmt.rule is not None
        checks: list[ir.Stmt] = []
        for param, operand in zip(stmt.rule.params, stmt.operands):
            dot = self.operand_tangent(operand) if param in stmt.rule.orders else None
            if dot is not None:
                check = self.bind("require_zero_tangents",
                                  zero_tangents(order_error(stmt, param, self.fn)))
                checks.append(ir.Effect(ir.Call(ir.Name(check), (dot,)),
                                        note=f"{param}: an order, no derivative"))
        return checks

    def operand_tangent(self, operand: ir.Expr) -> ir.Expr | None:
        if isinstance(operand, ir.Name) and self.activity.is_active(operand.id):
            return ir.Name(self.tangent(operand.id))
        return None

    def free(self, template: ir.Expr, rule, mapping: dict[str, ir.Expr]) -> ir.Expr:
        for name in dict.fromkeys(n for n in ir.names_in(template) if n not in mapping):
            mapping[name] = ir.Name(self.bind(name, rule.env[name]))
        return ir.substitute(template, mapping)

    def applied(self, rule, operands: dict[str, ir.Expr]) -> ir.Expr:
        """``rule``'s operation on ``operands`` (by parameter); a call written from the
        rule's signature (the call's own keywords: a pattern's keywords are defaults)."""
        if rule.signature is None:
            return self.free(rule.pattern, rule, operands)
        func = self.free(rule.signature.func, rule, operands)
        return rule.signature.call(func, operands)

    def zeros(self, value: ir.Expr) -> ir.Expr:
        if isinstance(value, ir.Const) and isinstance(value.value, int | float):
            return ir.Const(0.0)
        return ir.Call(ir.Name(self.bind("zeros_like", zeros_like)), (value,))

    def tangent_of(self, stmt: ir.Assign, old: dict[str, str] | None = None) -> ir.Stmt:
        """The tangent line of ``stmt``; its operands named in ``old`` are read from
        the copies saved before ``stmt`` changed them in place."""
        rule = stmt.rule
        saved = {name: ir.Name(copy) for name, copy in (old or {}).items()}
        values = tuple(ir.substitute(o, saved) for o in stmt.operands)
        target = self.tangent(stmt.target)
        if rule is None:
            if self.activity.by_name_only(stmt):  # (`u = rng.random(n); u *= a`)
                return ir.Assign(target, self.zeros(ir.Name(stmt.target)), tag=stmt.tag)
            raise no_rule_error(stmt, self.fn)
        if stmt.in_place and rule.in_place:  # out[i] = v: out_dot[i] = v_dot
            container, index, value = stmt.operands
            value_dot = self.operand_tangent(value) or self.zeros(value)  # (of its shape)
            setting = rule.adjoint_for("x") is not None
            via = self.bind("add_at", add_at) if rule.repeats_add else None
            return ir.AdjointItem(target, index, value_dot, tag=stmt.tag, assign=setting, via=via)
        if isinstance(rule.pattern, ir.Tuple):  # a tuple of values: the tuple of tangents
            items = tuple(self.operand_tangent(o) or self.zeros(o) for o in stmt.operands)
            is_list = isinstance(stmt.value, ir.Tuple) and stmt.value.is_list
            return ir.Adjoint(target, ir.Tuple(items, is_list), tag=stmt.tag)
        if isinstance(rule.pattern, ir.Dict):  # a dict of values: the dict of tangents
            size = len(rule.pattern.keys)
            keys, items = stmt.operands[:size], stmt.operands[size:]
            dots = tuple(self.operand_tangent(o) or self.zeros(o) for o in items)
            return ir.Adjoint(target, ir.Dict(keys, dots), tag=stmt.tag)
        if rule.jointly_linear:  # (one list, grown or changed: not a sum of partial lists)
            mapping = {
                param: given if rule.adjoint_for(param) is None  # (an index: as it is)
                else self.operand_tangent(operand) or self.zeros(given)
                for param, operand, given in zip(rule.params, stmt.operands, values)
            }
            return ir.Adjoint(target, self.applied(rule, mapping), tag=stmt.tag)
        terms: list[ir.Expr] = []
        #: inactive operands, which may carry the result's shape (``a + c``, ``c`` an array)
        inactive: set[str] = set()
        for param, operand, given in zip(rule.params, stmt.operands, values):
            dot = self.operand_tangent(operand)
            template = rule.adjoint_for(param)
            if dot is None and rule.broadcasting and isinstance(given, ir.Name):
                inactive.add(given.id)
            if dot is None or template is None:
                continue
            mapping = dict(zip(rule.params, values))
            mapping["ans"] = ir.Name(stmt.target)
            explicit = (
                None if self.adjoint_templates and rule.elementwise else rule.tangent_for(param)
            )
            if explicit is not None:
                mapping["t"] = dot
                terms.append(self.free(explicit, rule, mapping))
            elif isinstance(template, Scatter):
                index = stmt.operands[rule.params.index(template.index)]
                terms.append(ir.Subscript(dot, index))
            elif rule.linear and not isinstance(template, Zeroed):
                mapping[param] = dot
                terms.append(
                    self.applied(rule, mapping)
                    if not isinstance(rule.pattern, ir.Name)
                    else self.free(ir.Name(param), rule, mapping)
                )
            elif rule.elementwise:
                assert isinstance(template, ir.Expr)  # (Zeroed: only item writes have it)
                mapping["g"] = dot
                terms.append(self.free(template, rule, mapping))
            else:
                raise NoRuleError(
                    f"`{rule.name}` has no forward-mode (tangent) rule",
                    "use srcad.grad (reverse mode) for this function, or give the rule a "
                    "tangent template: defrule(..., tangents={...})",
                    stmt.loc,
                )
        if not terms:
            return ir.Adjoint(target, self.zeros(ir.Name(stmt.target)), tag=stmt.tag)
        value = terms[0]
        for term in terms[1:]:
            value = ir.BinOp("+", value, term)
        # (a term that reads every inactive operand has the result's shape: ``c * a_dot``)
        if inactive and not any(inactive <= set(ir.names_in(term)) for term in terms):
            value = ir.Call(ir.Name(self.bind("shaped_like", shaped_like)),
                            (value, ir.Name(stmt.target)))
        return ir.Adjoint(target, value, tag=stmt.tag)


def forward_mode(fn: ir.Function, activity: Activity, memory: Memory | None = None) -> ir.Function:
    """``def f_jvp(primals, tangents)`` returning ``(value, tangent of the value)``.

    Tangents of parameters that ``fn`` writes into in place are copied first, so that
    the caller's tangents are left alone (the primals change as ``fn`` changes them)."""
    builder = _Tangents(fn, activity, memory)
    params = (*fn.params, *fn.kwonly)
    result = next(s for s in fn.body if isinstance(s, ir.Return)).value
    body: list[ir.Stmt] = [
        ir.Unpack(params, ir.Name(builder.primals_param))
        if len(params) > 1
        else ir.Assign(params[0], ir.Subscript(ir.Name(builder.primals_param), ir.Const(0))),
    ]
    dots = tuple(builder.tangent(p) for p in params)
    body.append(
        ir.Unpack(dots, ir.Name(builder.tangents_param))
        if len(dots) > 1
        else ir.Assign(dots[0], ir.Subscript(ir.Name(builder.tangents_param), ir.Const(0)))
    )
    written = memory.written_roots() if memory is not None else frozenset()
    for param, dot in zip(params, dots):
        if memory is not None and memory.roots_of(param) & written:
            copy = ir.Name(builder.bind("snapshot", snapshot))
            body.append(ir.Assign(dot, ir.Call(copy, (ir.Name(dot),))))
    if memory is not None:  # (and the primals: the caller's arrays are left alone)
        body += fresh_parameters(
            fn, memory, ir.Name(builder.bind("fresh_arguments", fresh_arguments))
        )
    tangent_lines = builder.block(tuple(fn.body))
    # a global the memory pass found may be an array written in place (its logical
    # lines, or its item writes, give it a tangent on some paths only, or none before
    # them): zero where the function starts
    bound = {*params, *(t for s in ir.walk(fn.body) if not (isinstance(s, ir.Assign)
                                                             and (s.logical or s.in_place))
                        for t in ir.targets_of(s))}
    body += [
        ir.Adjoint(dot, builder.zeros(ir.Name(name)))
        for name, dot in list(builder.tangents.items()) if name not in bound
    ]
    body += tangent_lines
    result_dot: ir.Expr = _tangent_value(builder, result)
    body.append(ir.Return(ir.Tuple((result, result_dot))))
    # a tangent written item by item must be its own array (shared memory between
    # values is re-derived explicitly by the logical lines, on tangents too)
    copy_name = builder.bind("fresh_copy", fresh_copy)
    body = protect_aliases(body, copy_name, fresh_calls(builder.bindings, fn.free_objects))
    params = (builder.primals_param, builder.tangents_param)
    on_float_error = ir.Call(  # (a tangent Python floats cannot hold: see srcad.float_errors)
        ir.Name(builder.bind(
            "tangents_raising_as_the_function_does", tangents_raising_as_the_function_does
        )),
        (ir.Name(ir.ITSELF), ir.Name(builder.bind(f"{fn.name}_function", USER_FUNCTION)),
         *(ir.Name(p) for p in params)),
    )
    return ir.Function(
        name=builder.names.fresh(fn.name + "_jvp"),
        params=params,
        on_float_error=on_float_error,
        body=tuple(body),
        bindings=builder.bindings,
        free_cells=fn.free_cells,
        free_objects=fn.free_objects,
        source_file=fn.source_file,
        source_line=fn.source_line,
        dependencies=fn.dependencies,
    )


def _tangent_value(builder: _Tangents, value: ir.Expr) -> ir.Expr:
    if isinstance(value, ir.Tuple):
        return ir.Tuple(tuple(_tangent_value(builder, v) for v in value.elts))
    return builder.operand_tangent(value) or builder.zeros(value)


class Direction(_Tangents):
    """The tangents along one parameter of a function of Python numbers: ``param``'s
    own tangent is 1.0, the other parameters' zero, so only the values that depend on
    ``param`` get a tangent line (``activity`` is of ``param`` alone). The tangent of
    ``name`` is ``name_d<param>``. ``rebound``: the function binds ``param`` again (a
    loop's ``x = f(x)``), so its tangent is a name that starts at 1.0, not the number.
    ``adjoint_templates``: see :class:`_Tangents`."""

    def __init__(
        self,
        fn: ir.Function,
        activity: Activity,
        param: str,
        names: NameAllocator,
        bindings: dict[str, Any],
        rebound: bool = False,
        adjoint_templates: bool = False,
    ) -> None:
        super().__init__(fn, activity)
        self.names, self.bindings = names, bindings
        self.param = param
        self.rebound = rebound
        self.adjoint_templates = adjoint_templates

    def tangent(self, name: str) -> str:
        if name not in self.tangents:
            self.tangents[name] = self.names.fresh(f"{name}_d{self.param}")
        return self.tangents[name]

    def operand_tangent(self, operand: ir.Expr) -> ir.Expr | None:
        if isinstance(operand, ir.Name) and operand.id == self.param and not self.rebound:
            return ir.Const(1.0)
        return super().operand_tangent(operand)

    def zeros(self, value: ir.Expr) -> ir.Expr:
        return ir.Const(0.0)  # (numbers only)

    def unshaped(self, expr: ir.Expr) -> ir.Expr:
        """``shaped_like(t, x)`` is ``t``: numbers have no shape to take."""
        if (
            isinstance(expr, ir.Call)
            and isinstance(expr.func, ir.Name)
            and self.bindings.get(expr.func.id) is shaped_like
        ):
            return expr.args[0]
        return expr
