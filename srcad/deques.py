"""A ``collections.deque`` the function makes, read as the list it behaves as.

A sliding window (``window = deque(maxlen=k)`` appended to in a loop) or a queue
(``popleft``) is a list whose ends move: srcad follows lists the function makes, so
such a deque becomes one, before anything else reads the function (see
:func:`srcad.desugar.desugar`)::

    window = deque(xs, maxlen=k)    ->  window = list(xs); window_maxlen = k
                                        while len(window) > window_maxlen: window.pop(0)
    window.append(v)                ->  window.append(v)
                                        while len(window) > window_maxlen: window.pop(0)
    window.appendleft(v)            ->  window.insert(0, v)
                                        while len(window) > window_maxlen: window.pop()
    window.extend(vs)               ->  window.extend(vs)   (and the same trimming)
    window.popleft()                ->  window.pop(0)

(the trimming only with ``maxlen``). Only a deque bound once, to a name no nested
function reads, and read only in those ways, by ``len``/``sum``/``list``/numpy and the
like, by index, by a loop, or as a truth value, is rewritten; any other deque stays as it is, and is
refused where it is used.
"""

from __future__ import annotations

import ast
import copy

from . import astwalk

#: the deque methods the rewrite turns into list methods (as statements, or for a value)
_CHANGES = frozenset(("append", "appendleft", "extend"))
_TAKES = frozenset(("popleft", "pop"))
#: callables a deque may be given to: they read it as any iterable
_READERS = frozenset((
    "len", "sum", "list", "tuple", "max", "min", "sorted", "enumerate", "reversed", "zip",
    "iter", "any", "all", "map", "filter",
))
_LIBRARIES = frozenset(("np", "numpy", "math", "statistics"))


def deque_call(node: ast.AST) -> bool:
    """``deque(...)`` or ``collections.deque(...)`` with at most an iterable and
    ``maxlen=``."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    named = (isinstance(func, ast.Name) and func.id == "deque") or (
        isinstance(func, ast.Attribute) and func.attr == "deque"
        and isinstance(func.value, ast.Name) and func.value.id == "collections"
    )
    return (
        named and len(node.args) <= 1 and all(k.arg == "maxlen" for k in node.keywords)
        and not any(isinstance(a, ast.Starred) for a in node.args)
    )


def as_lists(fn: ast.FunctionDef) -> ast.FunctionDef:
    """A copy of ``fn`` with each deque it makes (that can be) written as a list; ``fn``
    itself where there is none."""
    made = _deques(fn)
    if not made:
        return fn
    fn = copy.deepcopy(fn)
    taken = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
    limits: dict[str, str | None] = {}
    for name, call in made.items():
        has_limit = any(k.arg == "maxlen" and not _is_none(k.value) for k in call.keywords)
        limit = None
        if has_limit:
            limit = f"{name}_maxlen"
            while limit in taken:
                limit += "_"
            taken.add(limit)
        limits[name] = limit
    return _AsLists(limits).visit(fn)


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _deques(fn: ast.FunctionDef) -> dict[str, ast.Call]:
    """The names bound once to a deque call, read only in the ways the module lists."""
    parents: dict[ast.AST, ast.AST] = {}
    for node in astwalk.nodes(fn):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    found: dict[str, ast.Call] = {}
    bindings: dict[str, int] = {}
    for node in astwalk.nodes(fn):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bindings[node.id] = bindings.get(node.id, 0) + 1
        elif isinstance(node, ast.Global | ast.Nonlocal):
            for name in node.names:
                bindings[name] = bindings.get(name, 0) + 2
        if (
            isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name) and deque_call(node.value)
        ):
            assert isinstance(node.value, ast.Call)
            found[node.targets[0].id] = node.value
    nested = {
        n.id
        for inner in astwalk.nodes(fn)
        if inner is not fn and isinstance(inner, ast.FunctionDef | ast.Lambda)
        for n in ast.walk(inner)
        if isinstance(n, ast.Name)
    }
    return {
        name: call for name, call in found.items()
        if bindings.get(name) == 1 and name not in nested and all(
            _read_as_list(node, parents)
            for node in astwalk.nodes(fn)
            if isinstance(node, ast.Name) and node.id == name
            and isinstance(node.ctx, ast.Load)
        )
    }


def _read_as_list(node: ast.Name, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether this read of a deque reads it in a way a list is read too (or one the
    rewrite turns into one)."""
    parent = parents.get(node)
    if isinstance(parent, ast.Attribute):
        call = parents.get(parent)
        if not (isinstance(call, ast.Call) and call.func is parent):
            return False
        if parent.attr in _CHANGES:  # (their value is None: only as a statement)
            return isinstance(parents.get(call), ast.Expr) and len(call.args) == 1
        return parent.attr in _TAKES and not call.args and not call.keywords
    if isinstance(parent, ast.Subscript):
        return parent.value is node
    if isinstance(parent, ast.While | ast.If | ast.IfExp) or (
        isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not)
    ):
        return parent.test is node if not isinstance(parent, ast.UnaryOp) else True
    if isinstance(parent, ast.For | ast.comprehension):
        return parent.iter is node
    if isinstance(parent, ast.Call) and node in parent.args:
        func = parent.func
        return (isinstance(func, ast.Name) and func.id in _READERS) or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            and func.value.id in _LIBRARIES
        )
    return False


class _AsLists(ast.NodeTransformer):
    """Rewrites the deques of ``limits`` (name -> the name of its ``maxlen``, or None)."""

    def __init__(self, limits: dict[str, str | None]) -> None:
        self.limits = limits

    def visit_Assign(self, node: ast.Assign) -> ast.AST | list[ast.stmt]:
        target = node.targets[0] if len(node.targets) == 1 else None
        if not (isinstance(target, ast.Name) and target.id in self.limits
                and deque_call(node.value)):
            return self.generic_visit(node)
        call = node.value
        assert isinstance(call, ast.Call)
        made = ast.List([], ast.Load()) if not call.args else ast.Call(
            ast.Name("list", ast.Load()), [self.visit(call.args[0])], []
        )
        out: list[ast.stmt] = [ast.Assign([target], made)]
        limit = self.limits[target.id]
        if limit is not None:
            (maxlen,) = [k.value for k in call.keywords if k.arg == "maxlen"]
            out.append(ast.Assign([ast.Name(limit, ast.Store())], self.visit(maxlen)))
            out.append(self._trim(target.id, limit, ast.Constant(0)))
        return [ast.fix_missing_locations(ast.copy_location(s, node)) for s in out]

    def visit_Expr(self, node: ast.Expr) -> ast.AST | list[ast.stmt]:
        call = node.value
        if not (
            isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name) and call.func.value.id in self.limits
            and call.func.attr in _CHANGES
        ):
            return self.generic_visit(node)
        name, method = call.func.value.id, call.func.attr
        (value,) = [self.visit(a) for a in call.args]
        receiver = ast.Name(name, ast.Load())
        if method == "appendleft":
            change = ast.Call(ast.Attribute(receiver, "insert", ast.Load()),
                              [ast.Constant(0), value], [])
        else:
            change = ast.Call(ast.Attribute(receiver, method, ast.Load()), [value], [])
        out: list[ast.stmt] = [ast.Expr(change)]
        limit = self.limits[name]
        if limit is not None:  # (appending on the left drops from the right)
            out.append(self._trim(name, limit, None if method == "appendleft" else
                                  ast.Constant(0)))
        return [ast.fix_missing_locations(ast.copy_location(s, node)) for s in out]

    def visit_Call(self, node: ast.Call) -> ast.AST:
        func = node.func
        if (
            isinstance(func, ast.Attribute) and func.attr == "popleft"
            and isinstance(func.value, ast.Name) and func.value.id in self.limits
        ):
            pop = ast.Attribute(func.value, "pop", ast.Load())
            return ast.copy_location(ast.Call(ast.copy_location(pop, func),
                                              [ast.Constant(0)], []), node)
        return self.generic_visit(node)

    @staticmethod
    def _trim(name: str, limit: str, end: ast.expr | None) -> ast.While:
        """``while len(name) > limit: name.pop(end)`` (``end`` None: the last item)."""
        length = ast.Call(ast.Name("len", ast.Load()), [ast.Name(name, ast.Load())], [])
        pop = ast.Call(ast.Attribute(ast.Name(name, ast.Load()), "pop", ast.Load()),
                       [] if end is None else [end], [])
        return ast.While(
            ast.Compare(length, [ast.Gt()], [ast.Name(limit, ast.Load())]),
            [ast.Expr(pop)], [],
        )
