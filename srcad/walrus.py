"""Assignment expressions (``:=``) as the assignments they are, where Python's order
allows it; srcad's checks refuse the ones left.

- In a statement, an assignment expression that Python evaluates before anything that
  could see the difference (only names and constants before it, and none of them its
  target; no call finished before it) becomes an assignment just before the statement:
  ``if (n := len(xs)) > 3:`` is ``n = len(xs)``, then ``if n > 3:``; ``total =
  (s := sum(xs)) + s * s`` is ``s = sum(xs)``, then ``total = s + s * s``.
- In a comprehension, whose loop runs the expression once per item, it becomes a clause
  binding one value, ``for d in [xi - m]``, where the expression stood:
  ``fsum((d := xi - m) * d for xi in x)`` is ``fsum(d * d for xi in x for d in [xi - m])``,
  and ``[y for x in xs if (y := f(x)) > 0]`` is ``[y for x in xs for y in [f(x)] if y > 0]``.
  Python also binds the name in the function; so only where the function reads it
  nowhere else.
"""

from __future__ import annotations

import ast
import copy

from . import astwalk

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def assignments_first(fn: ast.FunctionDef) -> ast.FunctionDef:
    """``fn`` with its assignment expressions written as assignments where Python's
    order allows (see the module docstring); ``fn`` itself is not changed."""
    if not any(isinstance(n, ast.NamedExpr) for n in astwalk.walk(fn)):
        return fn
    fn = copy.deepcopy(fn)
    rewritten = _Statements(fn).visit(fn)
    assert isinstance(rewritten, ast.FunctionDef)
    return rewritten


class _Hoisting:
    """One expression's assignment expressions, read in Python's order of evaluation
    until something would tell them apart: each one found first becomes an assignment
    (:attr:`assigned`), and its name stands where it was."""

    def __init__(self) -> None:
        self.assigned: list[tuple[ast.NamedExpr, ast.expr]] = []
        self.open = True  # (every part evaluated so far is a name or a constant)
        self.read: set[str] = set()  # (the names read so far)
        self.items_read = False  # (an item or an attribute read so far: a call may change it)

    def expr(self, node: ast.expr) -> ast.expr:
        if not self.open:
            return node
        if isinstance(node, ast.NamedExpr):
            read_before, items_before = set(self.read), self.items_read
            value = self.expr(node.value)  # (its own `:=` first; it may read the name)
            target = node.target.id
            calls = any(isinstance(n, ast.Call) for n in astwalk.walk(value))
            if (
                any(isinstance(n, ast.NamedExpr) for n in astwalk.walk(value))
                or target in read_before or (calls and items_before)
            ):
                self.open = False
                node.value = value
                return node
            self.assigned.append((node, value))
            self.read.add(target)
            return ast.copy_location(ast.Name(target, ast.Load()), node)
        if isinstance(node, ast.Name):
            self.read.add(node.id)
        elif isinstance(node, ast.BinOp):
            node.left = self.expr(node.left)
            node.right = self.expr(node.right)
        elif isinstance(node, ast.UnaryOp):
            node.operand = self.expr(node.operand)
        elif isinstance(node, ast.Compare):  # (`a < b < c` evaluates c only if a < b)
            node.left = self.expr(node.left)
            node.comparators[0] = self.expr(node.comparators[0])
            self.open = len(node.comparators) == 1 and self.open
        elif isinstance(node, ast.BoolOp):  # (the others only if the first decides not)
            node.values[0] = self.expr(node.values[0])
            self.open = False
        elif isinstance(node, ast.IfExp):
            node.test = self.expr(node.test)
            self.open = False
        elif isinstance(node, ast.Attribute):
            node.value = self.expr(node.value)
            self.items_read = True
        elif isinstance(node, ast.Subscript):
            node.value = self.expr(node.value)
            node.slice = self.expr(node.slice)
            self.items_read = True
        elif isinstance(node, ast.Slice):
            for field in ("lower", "upper", "step"):
                part = getattr(node, field)
                if part is not None:
                    setattr(node, field, self.expr(part))
        elif isinstance(node, ast.Tuple | ast.List):
            node.elts = [self.expr(e) for e in node.elts]
        elif isinstance(node, ast.Starred):
            node.value = self.expr(node.value)
        elif isinstance(node, ast.Call):
            base = node.func
            while isinstance(base, ast.Attribute):  # (`np.sum`: a function looked up)
                base = base.value
            if isinstance(base, ast.Name):
                self.read.add(base.id)
            else:
                node.func = self.expr(node.func)
            node.args = [self.expr(a) for a in node.args]
            for keyword in node.keywords:
                keyword.value = self.expr(keyword.value)
            self.open = False  # (the call ran: what follows could see its effects)
        elif not isinstance(node, ast.Constant):
            self.open = False  # (a lambda, a comprehension, a display of keys: stop)
        return node

    def statements(self) -> list[ast.stmt]:
        """The assignments found, in order, located at their expressions."""
        return [
            ast.copy_location(ast.Assign([ast.Name(named.target.id, ast.Store())], value), named)
            for named, value in self.assigned
        ]


class _Statements(ast.NodeTransformer):
    """Each statement's first assignment expressions as assignments before it, and each
    comprehension's as clauses (see the module docstring)."""

    def __init__(self, fn: ast.FunctionDef) -> None:
        self.fn = fn
        self.private = _private_names(fn)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        if node is not self.fn:  # (a nested def: its own names)
            return assignments_first(node)
        self.generic_visit(node)
        return node

    def _before(
        self, node: ast.stmt, *fields: str, read_first: ast.expr | None = None
    ) -> ast.AST | list[ast.stmt]:
        self.generic_visit(node)
        hoisting = _Hoisting()
        if read_first is not None:
            hoisting.expr(_as_load(read_first))
        for field in fields:
            value = getattr(node, field, None)
            if value is not None:
                setattr(node, field, hoisting.expr(value))
        found = hoisting.statements()
        return [*found, node] if found else node

    def visit_Assign(self, node: ast.Assign) -> ast.AST | list[ast.stmt]:
        return self._before(node, "value")

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST | list[ast.stmt]:
        return self._before(node, "value")

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST | list[ast.stmt]:
        return self._before(node, "value", read_first=node.target)  # (`x[i] += (y := v)`)

    def visit_Return(self, node: ast.Return) -> ast.AST | list[ast.stmt]:
        return self._before(node, "value")

    def visit_Expr(self, node: ast.Expr) -> ast.AST | list[ast.stmt]:
        return self._before(node, "value")

    def visit_If(self, node: ast.If) -> ast.AST | list[ast.stmt]:
        done = self._before(node, "test")
        test = node.test  # (srcad's own form: `elif ((t1 := a), (t2 := b), t2)[-1]:`)
        if (
            isinstance(test, ast.Subscript) and isinstance(test.value, ast.Tuple)
            and isinstance(test.slice, ast.UnaryOp) and isinstance(test.slice.op, ast.USub)
            and isinstance(test.slice.operand, ast.Constant) and test.slice.operand.value == 1
            and all(isinstance(e, ast.Name) for e in test.value.elts[:-1])
        ):
            node.test = test.value.elts[-1]
        return done

    def visit_For(self, node: ast.For) -> ast.AST | list[ast.stmt]:
        return self._before(node, "iter")  # (evaluated once, before the loop)

    def _comprehension(self, node: ast.expr) -> ast.expr:
        self.generic_visit(node)
        if any(  # (Python binds it in the function too: left as it is, and refused)
            isinstance(n, ast.NamedExpr) and n.target.id not in self.private
            for n in astwalk.walk(node)
        ):
            return node
        generators: list[ast.comprehension] = []
        for generator in node.generators:  # type: ignore[attr-defined]
            kept: list[ast.expr] = []
            current = generator
            generators.append(current)
            for condition in generator.ifs:
                hoisting = _Hoisting()
                condition = hoisting.expr(condition)
                clauses = _clauses(hoisting)
                if clauses:
                    current.ifs = kept
                    generators.extend(clauses)
                    current = clauses[-1]
                    kept = []
                kept.append(condition)
            current.ifs = kept
        fields = ("key", "value") if isinstance(node, ast.DictComp) else ("elt",)
        hoisting = _Hoisting()
        for field in fields:
            setattr(node, field, hoisting.expr(getattr(node, field)))
        node.generators = generators + _clauses(hoisting)  # type: ignore[attr-defined]
        return node

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension


def _clauses(hoisting: _Hoisting) -> list[ast.comprehension]:
    """The comprehension clauses binding what ``hoisting`` found (``for d in [v]``)."""
    return [
        ast.comprehension(
            ast.copy_location(ast.Name(named.target.id, ast.Store()), named),
            ast.copy_location(ast.List([value], ast.Load()), named),
            [],
            0,
        )
        for named, value in hoisting.assigned
    ]


def _private_names(fn: ast.FunctionDef) -> set[str]:
    """The names that ``fn`` binds or reads only inside comprehensions that bind them with
    ``:=`` (``fsum((d := x - m) * d for x in xs)``): each comprehension's own, in effect."""
    inside: dict[int, set[str]] = {}  # (the ids of the names in such comprehensions)
    for node in astwalk.walk(fn):
        if isinstance(node, _COMPREHENSIONS):
            bound = {n.target.id for n in astwalk.walk(node) if isinstance(n, ast.NamedExpr)}
            for n in astwalk.walk(node):
                if isinstance(n, ast.Name) and n.id in bound:
                    inside.setdefault(id(n), set()).add(n.id)
    private = {name for names in inside.values() for name in names}
    own: set[int] = set()  # (a comprehension's own loop variables: `for g in gains`, its names)
    for node in astwalk.walk(fn):
        if isinstance(node, _COMPREHENSIONS):
            bound = {
                n.id for generator in node.generators
                for n in astwalk.walk(generator.target) if isinstance(n, ast.Name)
            }
            own |= {id(n) for n in astwalk.walk(node) if isinstance(n, ast.Name) and n.id in bound}
    for node in astwalk.walk(fn):
        if isinstance(node, ast.Name) and id(node) not in inside and id(node) not in own:
            private.discard(node.id)
        elif isinstance(node, ast.arg):
            private.discard(node.arg)
    return private


def _as_load(target: ast.expr) -> ast.expr:
    """A copy of an assignment's target as the expression that reads it."""
    read = copy.deepcopy(target)
    for n in astwalk.walk(read):
        if hasattr(n, "ctx"):
            n.ctx = ast.Load()
    return read
