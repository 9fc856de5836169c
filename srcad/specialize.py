"""Partial evaluation of an inlined helper: the branches its constant arguments decide.

Library code tests its options before it computes: ``if axis is None:``, ``if not
keepdims:``, ``if ord is None or ord == 2:``. When srcad inlines a call, the arguments
that are constants (literals, and the defaults of the parameters the call leaves out)
decide those tests before the program runs. :func:`specialize` keeps only the branches
they choose, so that srcad reads, checks and differentiates the path the call takes,
and never the code the call cannot reach (a ``raise`` with an f-string, a set
comprehension in a branch for another option).

Only what is certain is decided: a test of names that hold constants (``is``, ``==``,
``in``, ``<``, ``not``, ``and``/``or``, ``isinstance``, ``len`` of a tuple of known
length), and ``hasattr`` of numpy's or scipy's modules and classes (a version guard,
``hasattr(np, "trapezoid")``: the differentiated function is specialised for it too,
in ``if`` tests and conditional expressions). A name stops
being known where it is assigned again (anywhere in a loop that assigns it, from the
loop on). Everything else is left to run as written.
"""

from __future__ import annotations

import ast
import builtins
import copy
import operator
import types
from collections.abc import Callable, Mapping
from typing import Any

from . import astwalk
from .chains import MISSING, chain_names, static_chain
from .pyexpr import BINOPS, constant_arithmetic
from .subset import is_docstring

#: A value the test does not know until the program runs.
UNKNOWN = object()


#: the operators specialize computes on known numbers (``n % 2``, ``n // 2``, ``n - 1``)
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.Div)


def _arithmetic(op: ast.operator, left: Any, right: Any) -> Any:
    """``left op right`` of two known numbers as Python computes it (see
    :func:`~srcad.pyexpr.constant_arithmetic`); UNKNOWN for anything else."""
    result = constant_arithmetic(BINOPS[type(op)], left, right)
    return UNKNOWN if result is None else result


class Sized:
    """A tuple whose length is known (a helper's ``*args``) but not its items; or a list
    display's (``mutable``: known until something may change it, see
    :meth:`_Specializer.forget_changed_lists`)."""

    def __init__(self, length: int, mutable: bool = False) -> None:
        self.length = length
        self.mutable = mutable


class Keywords:
    """A dict display with string keys (``{'keepdims': keepdims}``, ``{}``), passed on
    as ``f(**kw)``: its items, and the variables its values read (it is forgotten when
    one of them is assigned again)."""

    def __init__(self, items: list[tuple[str, ast.expr]]) -> None:
        self.items = items
        self.reads = {n.id for _, v in items for n in astwalk.walk(v) if isinstance(n, ast.Name)}


_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
#: Values a test may compare (no user types: their ``==`` may do anything).
_SCALARS = (type(None), bool, int, float, str)
_PLAIN = (*_SCALARS, tuple, frozenset)


def specialize(
    fn: ast.FunctionDef, known: Mapping[str, Any], lookup: Callable[[str], Any]
) -> tuple[ast.FunctionDef, frozenset[str]]:
    """``fn`` with the branches that the parameters in ``known`` (name -> value, or
    :class:`Sized`) decide cut to the one taken, and the parameters that decided one;
    ``lookup`` gives a global's value (for ``isinstance(axis, tuple)``). ``fn`` itself
    is left as it is."""
    local = {a.arg for a in astwalk.walk(fn.args) if isinstance(a, ast.arg)} | {
        n.id for n in astwalk.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    specializer = _Specializer(dict(known), lookup, frozenset(local))
    body = specializer.block(fn.body)[0]
    if body == fn.body:
        return fn, frozenset()
    specialized = copy.copy(fn)
    specialized.body = body or [ast.copy_location(ast.Pass(), fn)]
    return specialized, frozenset(specializer.deciding & set(known))


class _Specializer:
    def __init__(
        self, env: dict[str, Any], lookup: Callable[[str], Any], local: frozenset[str]
    ) -> None:
        self.env = env
        self.lookup = lookup
        self.locals = local  # (the function's own variables: never globals)
        self.deciding: set[str] = set()  # names read by the tests that were decided

    # ---- statements
    def block(self, stmts: list[ast.stmt]) -> tuple[list[ast.stmt], bool]:
        """The statements kept, and whether the block always ends in a jump (``return``,
        ``raise``, ``break``, ``continue``): what follows it is never run."""
        out: list[ast.stmt] = []
        for stmt in stmts:
            self.forget_changed_lists(stmt)
            if not isinstance(stmt, ast.For | ast.While | ast.Try | ast.FunctionDef):
                stmt = _Unroller(self.env).rewritten(stmt)
                stmt = _Spreader(self.env).rewritten(stmt)
                stmt = _Choices(self.env, self.decided).rewritten(stmt)
            if isinstance(stmt, ast.If):
                test = self.decided(stmt.test)
                if test is not UNKNOWN:
                    kept, jumps = self.block(stmt.body if test else stmt.orelse)
                    out += kept
                    if jumps:
                        return out, True
                    continue
                out.append(self.branches(stmt))
                continue
            if isinstance(stmt, ast.With):  # (its body runs once, in order)
                for item in stmt.items:  # (`with open(p) as n`: n is given a value)
                    if item.optional_vars is not None:
                        self.forget(item.optional_vars)
                body, jumps = self.block(stmt.body)
                kept_with = copy.copy(stmt)
                kept_with.body = body or [ast.copy_location(ast.Pass(), stmt)]
                out.append(kept_with if body != stmt.body else stmt)
                if jumps:
                    return out, True
                continue
            if isinstance(stmt, ast.For | ast.While | ast.Try):
                self.forget(stmt)  # (what a loop assigns is unknown in it and after it)
                out.append(stmt)
                continue
            out.append(stmt)
            self.assign(stmt)
            if isinstance(stmt, ast.Return | ast.Raise | ast.Break | ast.Continue):
                return out, True
        return out, False

    def decided(self, test: ast.expr, record: bool = True) -> Any:
        """The truth of ``test`` where the constants decide it, else UNKNOWN (with
        ``record``, the names it reads then count as deciding)."""
        truth = self.truth(self.value(test))
        if truth is not UNKNOWN and record:
            self.deciding |= {n.id for n in astwalk.walk(test) if isinstance(n, ast.Name)}
        return truth

    def branches(self, stmt: ast.If) -> ast.If:
        """An ``if`` the constants do not decide, with each branch specialised."""
        before = dict(self.env)
        body, _ = self.block(stmt.body)
        after_body, self.env = self.env, dict(before)
        orelse, _ = self.block(stmt.orelse)
        self.env = {  # (known after the if: the same value on both paths)
            name: value
            for name, value in self.env.items()
            if name in after_body and after_body[name] is value
        }
        if body == stmt.body and orelse == stmt.orelse:
            return stmt
        kept = copy.copy(stmt)
        kept.body = body or [ast.copy_location(ast.Pass(), stmt)]
        kept.orelse = orelse
        return kept

    def assign(self, stmt: ast.stmt) -> None:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            value = self.value(stmt.value)
            name = stmt.targets[0].id
            self.drop(name)
            if value is not UNKNOWN:
                self.env[name] = value
            return
        self.forget(stmt)

    def forget_changed_lists(self, stmt: ast.stmt) -> None:
        """The lengths of the lists ``stmt`` may change are no longer known: a list
        display's name read other than by ``len``, an index, ``*`` or a loop over it
        (``parts.append(p)``, ``helper(parts)``, ``q = parts``), in ``stmt`` or the
        statements inside it."""
        listed = {n for n, v in self.env.items() if isinstance(v, Sized) and v.mutable}
        if not listed:
            return
        safe: set[int] = set()
        for node in astwalk.walk(stmt):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                node.func.id == "len" and len(node.args) == 1
            ):
                safe.add(id(node.args[0]))
            elif isinstance(node, ast.Starred) or (
                isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
            ):
                safe.add(id(node.value))
            elif isinstance(node, ast.For | ast.comprehension):
                safe.add(id(node.iter))
        for node in astwalk.walk(stmt):
            if (
                isinstance(node, ast.Name)
                and node.id in listed
                and isinstance(node.ctx, ast.Load)
                and id(node) not in safe
            ):
                self.drop(node.id)

    def forget(self, stmt: ast.AST) -> None:
        """What ``stmt`` may change is no longer known: names it assigns, and dict
        displays it writes into or reads methods of (``kwargs["y"] = 2.0``,
        ``kwargs.update(...)``, ``map(kwargs.pop, names)``)."""
        for node in astwalk.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.drop(node.id)
            elif isinstance(node, ast.alias):  # (`from math import pi as n`)
                self.drop(node.asname or node.name.partition(".")[0])
            changed = (
                node.value
                if isinstance(node, ast.Attribute)
                or (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del))
                else None
            )
            if isinstance(changed, ast.Name) and isinstance(self.env.get(changed.id), Keywords):
                self.drop(changed.id)  # (a dict display changed: its items are not known)

    def drop(self, name: str) -> None:
        """``name`` is assigned again: its value, and the dict displays that read it,
        are no longer known."""
        self.env.pop(name, None)
        for other in [n for n, v in self.env.items() if isinstance(v, Keywords)]:
            if name in self.env[other].reads:
                del self.env[other]

    # ---- expressions
    def value(self, node: ast.expr) -> Any:
        """What ``node`` evaluates to, when the constants decide it, else UNKNOWN."""
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.env.get(node.id, UNKNOWN)
        if (
            isinstance(node, ast.Dict)
            and all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys)
            and all(isinstance(v, ast.Name | ast.Constant) for v in node.values)
        ):
            return Keywords(
                [
                    (k.value, v)
                    for k, v in zip(node.keys, node.values)
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)  # (all are)
                ]
            )
        if isinstance(node, ast.Tuple | ast.List):
            items = [self.value(e) for e in node.elts]
            if isinstance(node, ast.Tuple) and all(i is not UNKNOWN for i in items):
                return tuple(items)
            if any(isinstance(e, ast.Starred) for e in node.elts):
                return UNKNOWN
            return Sized(len(items), mutable=isinstance(node, ast.List))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            operand = self.value(node.operand)
            truth = self.truth(operand)
            return UNKNOWN if truth is UNKNOWN else not truth
        if isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):  # (n % 2, n // 2)
            return _arithmetic(node.op, self.value(node.left), self.value(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return _arithmetic(ast.Sub(), 0, self.value(node.operand))
        if isinstance(node, ast.BoolOp):
            return self.bool_op(node)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return self.compare(node)
        if isinstance(node, ast.Call) and not node.keywords and isinstance(node.func, ast.Name):
            return self.call(node)
        return UNKNOWN

    def truth(self, value: Any) -> Any:
        if isinstance(value, Sized):
            return value.length > 0
        if value is UNKNOWN or not isinstance(value, _PLAIN):
            return UNKNOWN
        return bool(value)

    def bool_op(self, node: ast.BoolOp) -> Any:
        """``a or b``, ``a and b``: decided when a part decides it (Python's value)."""
        deciding = isinstance(node.op, ast.Or)
        for part in node.values:
            value = self.value(part)
            truth = self.truth(value)
            if truth is UNKNOWN:
                return UNKNOWN
            if truth is deciding:
                return value
        return value

    def compare(self, node: ast.Compare) -> Any:
        left, right = self.value(node.left), self.value(node.comparators[0])
        op = type(node.ops[0])
        if op in (ast.Is, ast.IsNot):  # (a global object too: keepdims is np._NoValue)
            left = self.global_object(node.left) if left is UNKNOWN else left
            right = self.global_object(node.comparators[0]) if right is UNKNOWN else right
            # `x is None`, `keepdims is np._NoValue`: decided when both are known,
            # whatever they are (identity runs no user code)
            if left is UNKNOWN or right is UNKNOWN or Keywords in (type(left), type(right)):
                return UNKNOWN
        elif not (isinstance(left, _PLAIN) and isinstance(right, _PLAIN)):
            return UNKNOWN
        return _COMPARE[op](left, right)

    def call(self, node: ast.Call) -> Any:
        assert isinstance(node.func, ast.Name)  # (``value`` reads calls of a name only)
        func = node.func.id
        if func in self.env or self.lookup(func) is not getattr(builtins, func, None):
            return UNKNOWN  # (not the builtin)
        args = [self.value(a) for a in node.args]
        if func == "len" and len(args) == 1 and isinstance(args[0], Sized):
            return args[0].length
        if func == "len" and len(args) == 1 and isinstance(args[0], tuple | str):
            return len(args[0])
        if func == "hasattr" and len(args) == 2 and isinstance(args[1], str):
            owner = self.global_object(node.args[0])  # (a version guard: hasattr(np, "trapz"))
            module = owner.__name__ if isinstance(owner, types.ModuleType) else getattr(
                owner, "__module__", None
            ) if isinstance(owner, type) else None
            if isinstance(module, str) and module.split(".")[0] in _FIXED_PACKAGES:
                return hasattr(owner, args[1])  # (a user's module or class may be given
                # the attribute later: the program decides)
        if func == "isinstance" and len(args) == 2 and isinstance(args[0], _PLAIN):
            kinds = [self.static(k) for k in _elements(node.args[1])]
            if kinds and all(isinstance(k, type) for k in kinds):
                return isinstance(args[0], tuple(kinds))
        return UNKNOWN

    def global_object(self, node: ast.expr) -> Any:
        """The object a global name (or an attribute of one) holds, for an identity test
        (``np._NoValue``); UNKNOWN for a local variable, or for nothing found."""
        names = chain_names(node)
        if names is None or names[0] in self.locals:
            return UNKNOWN
        found = self.static(node)
        return UNKNOWN if found is None else found

    def static(self, node: ast.expr) -> Any:
        """A type named by a global or a builtin (``tuple``, ``np.ndarray``), or another
        object a chain of attributes of one denotes (see :mod:`srcad.chains`); None for
        none."""
        found = static_chain(node, lambda name: MISSING if name in self.env else self.lookup(name))
        return None if found is MISSING else found


def _elements(node: ast.expr) -> list[ast.expr]:
    return list(node.elts) if isinstance(node, ast.Tuple) else [node]


class _OwnExpressions(ast.NodeTransformer):
    """A rewrite of one statement's own expressions (an ``if``'s test, not the
    statements of its branches: they run after assignments that ``env`` does not know
    yet, and :meth:`_Specializer.block` rewrites each of them in turn), by what ``env``
    knows. The statement is copied only when a node is :meth:`wanted`."""

    def __init__(self, env: Mapping[str, Any]) -> None:
        self.env = env
        self.changed = False

    def wanted(self, node: ast.AST) -> bool:
        raise NotImplementedError

    def rewritten(self, stmt: ast.stmt) -> ast.stmt:
        own = {n: v for n, v in ast.iter_fields(stmt) if isinstance(v, ast.expr)}
        if not any(self.wanted(node) for value in own.values() for node in astwalk.walk(value)):
            return stmt  # (most statements have nothing to rewrite)
        new = copy.copy(stmt)
        for name, value in own.items():
            setattr(new, name, self.visit(copy.deepcopy(value)))
        return new if self.changed else stmt


class _Choices(_OwnExpressions):
    """``a if test else b`` where the constants decide ``test`` (``np.trapezoid(y) if
    hasattr(np, "trapezoid") else np.trapz(y)``): the arm chosen."""

    def __init__(self, env: Mapping[str, Any], decided: Callable[..., Any]) -> None:
        super().__init__(env)
        self.decided = decided  # (Specializer.decided: the names of what it decides count)
        self.shadowed: list[set[str]] = []  # (names a comprehension or lambda binds)

    def wanted(self, node: ast.AST) -> bool:  # (a look only: what is decided is recorded
        # where visit_IfExp decides it, not inside a comprehension binding its names)
        return isinstance(node, ast.IfExp) and self.decided(node.test, False) is not UNKNOWN

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        reads = {n.id for n in astwalk.walk(node.test) if isinstance(n, ast.Name)}
        if any(reads & names for names in self.shadowed):  # (`for n in ...`: not env's n)
            return self.generic_visit(node)
        truth = self.decided(node.test)
        if truth is UNKNOWN:
            return self.generic_visit(node)
        self.changed = True
        return self.visit(node.body if truth else node.orelse)

    def visit_ListComp(self, node: ast.AST) -> ast.AST:
        """A comprehension or lambda: its own names shadow those ``env`` knows."""
        if isinstance(node, ast.Lambda):
            bound = {a.arg for a in astwalk.walk(node.args) if isinstance(a, ast.arg)}
        else:
            bound = {
                n.id
                for generator in getattr(node, "generators", ())
                for n in astwalk.walk(generator.target)
                if isinstance(n, ast.Name)
            }
        self.shadowed.append(bound)
        try:
            return self.generic_visit(node)
        finally:
            self.shadowed.pop()

    visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_Lambda = visit_ListComp


#: the packages whose modules and classes keep the attributes they have when srcad
#: compiles: numpy's and scipy's (a version's API, which version guards test)
_FIXED_PACKAGES = frozenset({"numpy", "scipy"})


class _Unroller(_OwnExpressions):
    """``[e for a in args]`` over a tuple of known length (a helper's ``*args``) as the
    display ``[e(args[0]), e(args[1]), ...]``: its length is then known too."""

    def wanted(self, node: ast.AST) -> bool:
        return (
            isinstance(node, ast.ListComp | ast.GeneratorExp)
            and isinstance(node.generators[0].iter, ast.Name)
            and isinstance(self.env.get(node.generators[0].iter.id), Sized)
        )

    def visit_ListComp(self, node: ast.ListComp | ast.GeneratorExp) -> ast.AST:
        self.generic_visit(node)
        if len(node.generators) != 1:
            return node
        loop = node.generators[0]
        sized = self.env.get(loop.iter.id) if isinstance(loop.iter, ast.Name) else None
        if (
            not isinstance(sized, Sized)
            or not isinstance(loop.iter, ast.Name)  # (never: ``sized`` is a name's value)
            or loop.ifs
            or loop.is_async
            or not isinstance(loop.target, ast.Name)
            or any(
                isinstance(n, ast.Name) and n.id == loop.target.id and isinstance(n.ctx, ast.Store)
                for n in astwalk.walk(node.elt)
            )
        ):
            return node
        self.changed = True
        items = [
            Substitution(loop.target.id, _item(loop.iter, k)).visit(copy.deepcopy(node.elt))
            for k in range(sized.length)
        ]
        return ast.fix_missing_locations(ast.copy_location(ast.List(items, ast.Load()), node))

    visit_GeneratorExp = visit_ListComp


class _Spreader(_OwnExpressions):
    """``f(a, **kw)`` with ``kw`` a known dict display (:class:`Keywords`) as
    ``f(a, key=value, ...)``."""

    def wanted(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and any(self.known(k) for k in node.keywords)

    def known(self, keyword: ast.keyword) -> Keywords | None:
        value = keyword.value
        if keyword.arg is None and isinstance(value, ast.Name):
            found = self.env.get(value.id)
            return found if isinstance(found, Keywords) else None
        return None

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        keywords: list[ast.keyword] = []
        for keyword in node.keywords:
            found = self.known(keyword)
            if found is None:
                keywords.append(keyword)
                continue
            self.changed = True
            keywords += [
                ast.copy_location(ast.keyword(key, copy.deepcopy(value)), keyword)
                for key, value in found.items
            ]
        node.keywords = keywords
        return node


class Substitution(ast.NodeTransformer):
    """Every read of ``name`` replaced by a copy of ``value``."""

    def __init__(self, name: str, value: ast.expr) -> None:
        self.name, self.value = name, value

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id == self.name and isinstance(node.ctx, ast.Load):
            return ast.copy_location(copy.deepcopy(self.value), node)
        return node


def _item(sequence: ast.Name, k: int) -> ast.expr:
    load = ast.Name(sequence.id, ast.Load())
    return ast.Subscript(ast.copy_location(load, sequence), ast.Constant(k), ast.Load())


def for_defaults(
    fn: ast.FunctionDef, function: Any, lookup: Callable[[str], Any]
) -> ast.FunctionDef | None:
    """``fn`` (the code of ``function``) specialised for the defaults of its options: a
    library function passed to srcad as it is (``srcad.grad(np.linalg.norm)``). Each
    default that decides a branch is checked first, by an ``assert`` that says what to
    do for another value. None when no default decides anything."""
    positional = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
    given = getattr(function, "__defaults__", None) or ()
    defaults = dict(zip(reversed(positional), reversed(given)))
    defaults.update(getattr(function, "__kwdefaults__", None) or {})
    known = {name: value for name, value in defaults.items() if isinstance(value, _SCALARS)}
    specialized, deciding = specialize(fn, known, lookup)
    if not deciding:
        return None
    name = getattr(function, "__qualname__", fn.name)
    guards = []
    order = {param: k for k, param in enumerate(positional)}
    for param in sorted(deciding, key=lambda p: (order.get(p, len(order)), p)):
        default = known[param]
        same = ast.Is() if default is None or isinstance(default, bool) else ast.Eq()
        message = (
            f"srcad differentiates {name} for {param}={default!r}, its default, on which its "
            f"code decides before it runs; for another value differentiate a function that "
            f"passes it, e.g. srcad.grad(lambda x: {name}(x, {param}=...))"
        )
        test = ast.Compare(ast.Name(param, ast.Load()), [same], [ast.Constant(default)])
        guard = ast.Assert(test, ast.Constant(message))
        guards.append(ast.fix_missing_locations(ast.copy_location(guard, fn.body[0])))
    docstring = 1 if fn.body and is_docstring(fn.body[0]) else 0
    specialized.body = [*specialized.body[:docstring], *guards, *specialized.body[docstring:]]
    return specialized
