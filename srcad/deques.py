"""A ``collections.deque`` the function makes, read as the list it behaves as.

A sliding window (``window = deque(maxlen=k)`` appended to in a loop) or a queue
(``popleft``) is a list whose ends move: srcad follows lists the function makes, so
such a deque becomes one, before anything else reads the function (see
:func:`srcad.desugar.desugar`)::

    window = deque(xs, maxlen=k)    ->  window = list(xs); window_maxlen = k
    (or deque(xs, k))                   while len(window) > window_maxlen: window.pop(0)
    window.append(v)                ->  window.append(v)
                                        while len(window) > window_maxlen: window.pop(0)
    window.appendleft(v)            ->  window.insert(0, v)
                                        while len(window) > window_maxlen: window.pop()
    window.extend(vs)               ->  window.extend(vs)   (and the same trimming)
    window.popleft()                ->  window.pop(0)
    window.clear()                  ->  window.clear()
    window.maxlen                   ->  window_maxlen

(the trimming only with ``maxlen``). Only a deque bound once, to a name no nested
function reads, and read only in those ways, by ``len``/``sum``/``list``/numpy and the
like, by index, by a loop, or as a truth value, is rewritten. Any other deque stays as
it is, and is refused where it is used: :func:`as_lists` notes the first read that is
none of those (``srcad_blocked_deques`` of the function), which the refusal names.
"""

from __future__ import annotations

import ast
import copy

from . import astwalk

#: the deque methods the rewrite turns into list methods (as statements, or for a value)
_CHANGES = frozenset(("append", "appendleft", "extend"))
_TAKES = frozenset(("popleft", "pop", "clear"))
#: callables a deque may be given to: they read it as any iterable
_READERS = frozenset((
    "len", "sum", "list", "tuple", "max", "min", "sorted", "enumerate", "reversed", "zip",
    "iter", "any", "all", "map", "filter",
))
_LIBRARIES = frozenset(("np", "numpy", "math", "statistics"))


def deque_call(node: ast.AST) -> bool:
    """``deque(...)`` or ``collections.deque(...)`` with at most an iterable and
    ``maxlen`` (by position or keyword)."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    named = (isinstance(func, ast.Name) and func.id == "deque") or (
        isinstance(func, ast.Attribute) and func.attr == "deque"
        and isinstance(func.value, ast.Name) and func.value.id == "collections"
    )
    return (
        named and len(node.args) + len(node.keywords) <= 2
        and all(k.arg == "maxlen" for k in node.keywords)
        and (len(node.args) < 2 or not node.keywords)
        and not any(isinstance(a, ast.Starred) for a in node.args)
    )


def _maxlen(call: ast.Call) -> ast.expr | None:
    """The ``maxlen`` a deque call gives (None: no limit)."""
    given = call.args[1:] or [k.value for k in call.keywords if k.arg == "maxlen"]
    return None if not given or _is_none(given[0]) else given[0]


def as_lists(fn: ast.FunctionDef) -> ast.FunctionDef:
    """A copy of ``fn`` with each deque it makes (that can be) written as a list; ``fn``
    itself where there is none."""
    made, blocked = _deques(fn)
    if blocked:
        fn.srcad_blocked_deques = blocked  # type: ignore[attr-defined]
    if not made:
        return fn
    fn = copy.deepcopy(fn)
    taken = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
    limits: dict[str, str | None] = {}
    for name, call in made.items():
        limit = None
        if _maxlen(call) is not None:
            limit = f"{name}_maxlen"
            while limit in taken:
                limit += "_"
            taken.add(limit)
        limits[name] = limit
    return _AsLists(limits).visit(fn)


def blocked_deque(fn: ast.FunctionDef, name: str) -> tuple[ast.AST, str] | None:
    """Where ``fn``'s deque ``name`` is used otherwise than as a list (:func:`as_lists`
    kept it a deque), and what it is there (``"bound more than once"``, ``"used
    otherwise: ..."``); None for any other name."""
    blocking = getattr(fn, "srcad_blocked_deques", {}).get(name)
    if blocking is None:
        return None
    if deque_call(blocking):  # (bound again, or global)
        return blocking, "bound more than once"
    use = ast.unparse(blocking) if not isinstance(blocking, ast.Name) else name
    return blocking, f"used otherwise: `{use}` (line {blocking.lineno})"


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _deques(fn: ast.FunctionDef) -> tuple[dict[str, ast.Call], dict[str, ast.AST]]:
    """The names bound once to a deque call, read only in the ways the module lists;
    and the others bound to one, each with the first node that keeps it a deque (a read
    of another kind, another binding, a nested function's read)."""
    parents: dict[ast.AST, ast.AST] = {}
    for node in astwalk.nodes(fn):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    found: dict[str, ast.Call] = {}
    call_of: dict[str, ast.Assign] = {}  # (the statement binding each)
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
            call_of[node.targets[0].id] = node
    nested_reads = {
        n
        for inner in astwalk.nodes(fn)
        if inner is not fn and isinstance(inner, ast.FunctionDef | ast.Lambda)
        for n in ast.walk(inner)
        if isinstance(n, ast.Name)
    }
    made: dict[str, ast.Call] = {}
    blocked: dict[str, ast.AST] = {}
    for name, call in found.items():
        blocking = next((
            node for node in astwalk.nodes(fn)
            if isinstance(node, ast.Name) and node.id == name and (
                node in nested_reads
                or (isinstance(node.ctx, ast.Load) and not _read_as_list(node, parents))
                or (not isinstance(node.ctx, ast.Load) and parents.get(node) is not call_of[name])
            )
        ), None)
        if blocking is None and bindings.get(name) == 1:
            made[name] = call
        else:
            blocked[name] = call if blocking is None else _use(blocking, parents)
    return made, blocked


def _use(node: ast.Name, parents: dict[ast.AST, ast.AST]) -> ast.AST:
    """What reads ``node``: its method's call, the call or statement it is given to."""
    parent = parents.get(node, node)
    if isinstance(parent, ast.Attribute):
        call = parents.get(parent)
        return call if isinstance(call, ast.Call) and call.func is parent else parent
    return parent if isinstance(parent, ast.expr | ast.Assign) else node


def _read_as_list(node: ast.Name, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether this read of a deque reads it in a way a list is read too (or one the
    rewrite turns into one)."""
    parent = parents.get(node)
    if isinstance(parent, ast.Attribute):
        call = parents.get(parent)
        if parent.attr == "maxlen" and isinstance(parent.ctx, ast.Load):
            return not (isinstance(call, ast.Call) and call.func is parent)
        if not (isinstance(call, ast.Call) and call.func is parent):
            return False
        if parent.attr in _CHANGES:  # (their value is None: only as a statement)
            return isinstance(parents.get(call), ast.Expr) and len(call.args) == 1
        return parent.attr in _TAKES and not call.args and not call.keywords and (
            parent.attr != "clear" or isinstance(parents.get(call), ast.Expr)
        )
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
            maxlen = _maxlen(call)
            assert maxlen is not None
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

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        """``window.maxlen``: the name its limit is kept in (None: no limit)."""
        if (
            node.attr == "maxlen" and isinstance(node.value, ast.Name)
            and node.value.id in self.limits
        ):
            limit = self.limits[node.value.id]
            found = ast.Constant(None) if limit is None else ast.Name(limit, ast.Load())
            return ast.copy_location(found, node)
        return self.generic_visit(node)

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
