"""Reverse: the adjoint (backward) function of a forward listing.

The forward listing is walked backwards; each active gate instantiates the adjoint
templates of its rule (``dx = y * g``), the first contribution to an adjoint being an
assignment and later ones ``+=``, exactly as in the seed's backprop listing. The
result is a literal, unoptimized listing; :mod:`srcad.optimize` cleans it up.
"""

from __future__ import annotations

from typing import Any

from . import ir
from .analyze import Activity, protect_aliases
from .errors import NoRuleError
from .names import NameAllocator
from .runtime import scalar_check, zeros_like

MODES = ("grad", "value_and_grad")


class _Builder:
    def __init__(self, fn: ir.Function) -> None:
        self.fn = fn
        self.names = NameAllocator(fn.names())
        self.bindings: dict[str, Any] = dict(fn.bindings)
        self.adjoints: dict[str, str] = {}  # forward name -> adjoint name
        self.written: set[str] = set()

    def adjoint(self, name: str) -> str:
        if name not in self.adjoints:
            self.adjoints[name] = self.names.adjoint(name)
        return self.adjoints[name]

    def bind(self, preferred: str, obj: Any) -> str:
        """A name for ``obj`` in the generated code (reusing the user's own if it is ``obj``)."""
        if self.fn.free_objects.get(preferred, _NOTHING) is obj:
            return preferred
        for name, bound in self.bindings.items():
            if bound is obj:
                return name
        name = self.names.fresh(preferred)
        self.bindings[name] = obj
        return name

    def contribution(self, name: str, value: ir.Expr, tag: int) -> ir.Adjoint:
        adjoint = self.adjoint(name)
        first = adjoint not in self.written
        self.written.add(adjoint)
        return ir.Adjoint(adjoint, value, accumulate=not first, tag=tag)

    def instantiate(self, stmt: ir.Assign, template: ir.Expr) -> ir.Expr:
        rule = stmt.rule
        mapping: dict[str, ir.Expr] = dict(zip(rule.params, stmt.operands))
        mapping["g"] = ir.Name(self.adjoint(stmt.target))
        mapping["ans"] = ir.Name(stmt.target)
        for free in set(ir.names_in(template)) - set(mapping):
            mapping[free] = ir.Name(self.bind(free, rule.env[free]))
        return ir.substitute(template, mapping)


_NOTHING = object()


def no_rule_error(stmt: ir.Assign) -> NoRuleError:
    value = stmt.value
    if isinstance(value, ir.Call):
        what = f"`{_spelled(value.func)}` has no derivative rule and no Python source srcad can read"
        hint = ("register one with srcad.defrule(\"f(x)\", x=\"<derivative> * g\", "
                "env={\"f\": f}), or wrap the argument in a function srcad can read")
    elif isinstance(value, ir.BinOp):
        what = f"the operator `{value.op}` has no derivative rule"
        hint = "rewrite it with + - * / ** or register a rule with srcad.defrule"
    else:
        what = "this operation has no derivative rule"
        hint = "rewrite it with supported operations or register a rule with srcad.defrule"
    return NoRuleError(what, hint, stmt.loc)


def _spelled(expr: ir.Expr) -> str:
    if isinstance(expr, ir.Name):
        return expr.id
    if isinstance(expr, ir.Attr):
        return f"{_spelled(expr.value)}.{expr.attr}"
    return "this function"


def reverse(
    fn: ir.Function, wrt: tuple[str, ...], activity: Activity, *, mode: str = "grad"
) -> ir.Function:
    """The literal gradient function of ``fn`` with respect to the parameters ``wrt``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    builder = _Builder(fn)
    forward = [s for s in fn.body if not isinstance(s, ir.Return)]
    result_stmt = next(s for s in fn.body if isinstance(s, ir.Return))
    result = result_stmt.value

    body: list[ir.Stmt] = [ir.Comment("forward pass"), *forward]
    if isinstance(result, ir.Name):
        check = builder.bind("require_scalar", scalar_check(result_stmt.loc, fn.name))
        body.append(ir.Effect(ir.Call(ir.Name(check), (result,))))

    backward: list[ir.Stmt] = []
    if isinstance(result, ir.Name) and activity.is_active(result.id):
        backward.append(ir.Comment("gradient at the top", header=True))
        backward.append(builder.contribution(result.id, ir.Const(1.0), 0))
    for stmt in reversed(forward):
        if not isinstance(stmt, ir.Assign) or not activity.is_active(stmt.target):
            continue
        if builder.adjoint(stmt.target) not in builder.written:
            continue  # nothing flows back into this gate
        if stmt.rule is None:
            raise no_rule_error(stmt)
        backward.append(ir.Backprop(stmt))
        for param, operand in zip(stmt.rule.params, stmt.operands):
            template = stmt.rule.adjoint_for(param)
            if template is None or not isinstance(operand, ir.Name):
                continue
            if not activity.is_active(operand.id):
                continue
            backward.append(builder.contribution(
                operand.id, builder.instantiate(stmt, template), stmt.tag))

    gradients: list[ir.Expr] = []
    for param in wrt:
        adjoint = builder.adjoint(param)
        if adjoint not in builder.written:
            zeros = builder.bind("zeros_like", zeros_like)
            backward.append(builder.contribution(
                param, ir.Call(ir.Name(zeros), (ir.Name(param),)), 0))
        gradients.append(ir.Name(adjoint))
    grads: ir.Expr = gradients[0] if len(gradients) == 1 else ir.Tuple(tuple(gradients))
    returned = grads if mode == "grad" else ir.Tuple((result, grads))

    body += [ir.Comment("backward pass"), *protect_aliases(backward), ir.Return(returned)]
    suffix = "_grad" if mode == "grad" else "_value_and_grad"
    return ir.Function(
        name=builder.names.fresh(fn.name + suffix),
        params=fn.params,
        kwonly=fn.kwonly,
        body=tuple(body),
        bindings=builder.bindings,
        free_cells=fn.free_cells,
        free_objects=fn.free_objects,
        source_file=fn.source_file,
        source_line=fn.source_line,
        dependencies=fn.dependencies,
    )
