"""Ordinary Python statements kept as they are in generated code (``ir.Python``): which
variables of the function they bind and read, and renaming those variables.

Scopes are followed as Python does: a lambda's parameters and a comprehension's loop
variables are the lambda's and the comprehension's own, so they are neither bound nor
renamed (the first iterable of a comprehension is read in the enclosing scope, and
``:=`` binds in the enclosing function).
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Mapping

from . import astwalk

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_Comprehension = ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp


def _comprehension_targets(node: _Comprehension) -> set[str]:
    return {
        n.id
        for generator in node.generators
        for n in astwalk.walk(generator.target)
        if isinstance(n, ast.Name)
    }


def _lambda_params(node: ast.Lambda) -> set[str]:
    args = node.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    every += [a for a in (args.vararg, args.kwarg) if a is not None]
    return {a.arg for a in every}


class _Scoped(ast.NodeTransformer):
    """A walk that knows which names inner scopes (lambdas, comprehensions) shadow;
    ``name(node, identifier, binds)`` is told of every name of the function's scope and
    returns the identifier to write in its place."""

    def __init__(self, name: Callable[[ast.AST, str, bool], str]) -> None:
        self.name = name
        self.shadowed: list[set[str]] = [set()]

    def own(self, identifier: str) -> bool:
        return identifier not in self.shadowed[-1]

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if self.own(node.id):
            node.id = self.name(node, node.id, not isinstance(node.ctx, ast.Load))
        return node

    def visit_NamedExpr(self, node: ast.NamedExpr) -> ast.NamedExpr:
        node.value = self.visit(node.value)  # the target binds in the enclosing function
        node.target.id = self.name(node.target, node.target.id, True)
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        if node.name and self.own(node.name):
            node.name = self.name(node, node.name, True)
        return self.generic_visit(node)

    def visit_alias(self, node: ast.alias) -> ast.alias:
        bound = node.asname or node.name.split(".")[0]
        new = self.name(node, bound, True)
        if new != bound:
            node.asname = new
        return node

    def visit_Import(self, node: ast.Import) -> ast.stmt | list[ast.stmt]:
        """``import a.b`` binds ``a``: renamed, it is ``a_1 = __import__("a.b")`` (what
        the statement does); ``import a.b as c`` and ``import a`` keep their form."""
        out: list[ast.stmt] = []
        for alias in node.names:
            if alias.asname is None and "." in alias.name:
                top = alias.name.split(".")[0]
                new = self.name(alias, top, True)
                if new != top:
                    load = ast.Name("__import__", ast.Load())
                    call = ast.Call(load, [ast.Constant(alias.name)], [])
                    out.append(ast.Assign([ast.Name(new, ast.Store())], call))
                    continue
            out.append(ast.Import([self.visit_alias(alias)]))
        for stmt in out:
            ast.fix_missing_locations(ast.copy_location(stmt, node))
        return out[0] if len(out) == 1 else out

    def visit_Lambda(self, node: ast.Lambda) -> ast.Lambda:
        args = node.args
        args.defaults = [self.visit(d) for d in args.defaults]
        args.kw_defaults = [d if d is None else self.visit(d) for d in args.kw_defaults]
        self.shadowed.append(self.shadowed[-1] | _lambda_params(node))
        node.body = self.visit(node.body)
        self.shadowed.pop()
        return node

    def visit_comprehension_node(self, node: _Comprehension) -> ast.AST:
        first = node.generators[0]
        first.iter = self.visit(first.iter)  # evaluated in the enclosing scope
        self.shadowed.append(self.shadowed[-1] | _comprehension_targets(node))
        for k, generator in enumerate(node.generators):
            generator.target = self.visit(generator.target)
            if k:
                generator.iter = self.visit(generator.iter)
            generator.ifs = [self.visit(c) for c in generator.ifs]
        for field in ("elt", "key", "value"):
            if hasattr(node, field):
                setattr(node, field, self.visit(getattr(node, field)))
        self.shadowed.pop()
        return node

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = (
        visit_comprehension_node
    )


def names_of(stmts: list[ast.stmt]) -> tuple[dict[str, ast.AST], dict[str, ast.AST]]:
    """The variables of the function's scope that ``stmts`` bind (assignments,
    ``except ... as``, imports, ``for`` and ``with`` targets, ``:=``) and those they read,
    each with the first node that names it (in source order)."""
    bound: dict[str, ast.AST] = {}
    read: dict[str, ast.AST] = {}

    def note(node: ast.AST, identifier: str, binds: bool) -> str:
        (bound if binds else read).setdefault(identifier, node)
        return identifier

    walker = _Scoped(note)
    for stmt in stmts:
        walker.visit(copy.deepcopy(stmt))
    return bound, read


def rename(stmts: tuple[ast.stmt, ...], mapping: Mapping[str, str]) -> tuple[ast.stmt, ...]:
    """Copies of ``stmts`` with the function's variables in ``mapping`` renamed
    wherever they are bound or read (a lambda's or comprehension's own are kept)."""
    walker = _Scoped(lambda node, identifier, binds: mapping.get(identifier, identifier))
    return tuple(walker.visit(copy.deepcopy(stmt)) for stmt in stmts)


def unparse(stmts: tuple[ast.stmt, ...]) -> str:
    return ast.unparse(ast.Module(list(stmts), type_ignores=[]))


#: Attributes that describe an array without sharing its memory (``.T`` and ``.real``
#: are views: what is done to them is done to the array).
LOOKING = frozenset("dtype shape ndim size itemsize nbytes".split())
#: Functions that look at their arguments and return no part of them (by name: ``len``,
#: ``numpy.iscomplexobj``), and the ones that may return the argument itself, looked at
#: only through a :data:`LOOKING` attribute (``np.asarray(v).dtype``).
INSPECTING = frozenset(
    """len type isinstance issubclass hasattr id repr bool shape ndim size result_type
    iscomplexobj isrealobj isscalar iterable""".split()
)
PASSING = frozenset(("asarray", "asanyarray"))


def may_change(stmts: tuple[ast.stmt, ...], names: tuple[str, ...]) -> set[str]:
    """The ``names`` whose values ``stmts`` may change in place. Code that only looks
    at a value (``v.dtype``, ``len(v)``, ``np.asarray(v).dtype``) does not; any in-place
    write in ``stmts`` (``a[i] = v``, ``a.b = v``, ``a += v``) may change every one of
    them, and so may any other use: a view (``v.T``) or the value itself bound to another
    name, or passed to another function or method."""
    nodes = [node for stmt in stmts for node in astwalk.walk(stmt)]
    if any(
        isinstance(node, ast.AugAssign)
        or (isinstance(node, ast.Subscript | ast.Attribute) and isinstance(node.ctx, ast.Store))
        for node in nodes
    ):
        return set(names)
    parents = {id(child): node for node in nodes for child in ast.iter_child_nodes(node)}

    def looked_at(node: ast.AST) -> bool:
        parent = parents.get(id(node))
        return isinstance(parent, ast.Attribute) and parent.attr in LOOKING

    changed: set[str] = set()
    for node in nodes:
        if not (isinstance(node, ast.Name) and node.id in names) or looked_at(node):
            continue
        parent = parents.get(id(node))
        if isinstance(parent, ast.Call) and node in parent.args:
            called = _called_name(parent)
            if called in INSPECTING or (called in PASSING and looked_at(parent)):
                continue
        changed.add(node.id)
    return changed


def _called_name(call: ast.Call) -> str | None:
    """``f`` of ``f(...)`` and of ``np.f(...)``."""
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
