"""``match`` statements as the ``if``/``elif`` chains they are, where their patterns test
values: literals and constants (``case "relu":``, ``case Kind.A:``), ``None``/``True``/
``False``, alternatives of those (``case "a" | "b":``), the wildcard ``case _:`` and a
capture (``case other:``), each with a guard (``case n if n > 2:``)::

    match kind:                         if kind == "relu":
        case "relu":                        return max(x, 0.0)
            return max(x, 0.0)          elif kind == "tanh" or kind == "sigmoid":
        case "tanh" | "sigmoid":            return squash(x)
            return squash(x)            else:
        case other:                         other = kind
            return x                        return x

The subject is evaluated once (into a name of its own unless it is a name). A statement
with another pattern (a sequence, a mapping, a class) stays as written, and
:mod:`srcad.subset` refuses it."""

from __future__ import annotations

import ast
import copy

from . import astwalk


def match_as_if(fn: ast.FunctionDef) -> ast.FunctionDef:
    """``fn`` with each ``match`` statement that tests values written as ``if`` tests."""
    if not any(isinstance(node, ast.Match) for node in astwalk.walk(fn)):
        return fn
    used = {n.id for n in astwalk.walk(fn) if isinstance(n, ast.Name)}
    rewritten = _Matches(used).visit(fn)
    assert isinstance(rewritten, ast.FunctionDef)
    return ast.fix_missing_locations(rewritten)


class _Matches(ast.NodeTransformer):
    def __init__(self, used: set[str]) -> None:
        self.used = used

    def visit_Match(self, node: ast.Match) -> ast.AST | list[ast.stmt]:
        self.generic_visit(node)
        if not all(_testable(case.pattern) for case in node.cases):
            return node
        before: list[ast.stmt] = []
        subject = node.subject
        if not isinstance(subject, ast.Name):
            name = self.fresh("match_subject")
            before.append(ast.copy_location(
                ast.Assign([ast.Name(name, ast.Store())], subject), node))
            subject = ast.copy_location(ast.Name(name, ast.Load()), node.subject)
        chain: list[ast.stmt] = []
        for case in reversed(node.cases):
            test, captured = _test(case.pattern, subject)
            if case.guard is not None:
                guard = _Substituted(captured, subject).visit(copy.deepcopy(case.guard))
                test = guard if test is None else ast.BoolOp(ast.And(), [test, guard])
            body = [
                ast.copy_location(
                    ast.Assign([ast.Name(n, ast.Store())], ast.Name(subject.id, ast.Load())),
                    case.pattern,
                )
                for n in captured
            ] + case.body
            if test is None:  # (always taken: what follows it never runs)
                chain = body
                continue
            located = ast.copy_location(ast.If(test, body, chain), case.pattern)
            chain = [located]
        return before + (chain or [ast.copy_location(ast.Pass(), node)])

    def fresh(self, stem: str) -> str:
        name, k = stem, 1
        while name in self.used:
            name, k = f"{stem}_{k}", k + 1
        self.used.add(name)
        return name


def _testable(pattern: ast.pattern) -> bool:
    """A pattern :func:`_test` writes as a test."""
    if isinstance(pattern, ast.MatchValue | ast.MatchSingleton):
        return True
    if isinstance(pattern, ast.MatchAs):
        return pattern.pattern is None or _testable(pattern.pattern)
    if isinstance(pattern, ast.MatchOr):
        return all(_testable(p) and not _captures(p) for p in pattern.patterns)
    return False


def _captures(pattern: ast.pattern) -> bool:
    return any(isinstance(p, ast.MatchAs) and p.name is not None for p in astwalk.walk(pattern))


def _test(pattern: ast.pattern, subject: ast.Name) -> tuple[ast.expr | None, list[str]]:
    """The test a pattern makes of ``subject`` (None: always true), and the names it
    binds to the subject."""
    load = ast.Name(subject.id, ast.Load())
    if isinstance(pattern, ast.MatchValue):
        return ast.Compare(load, [ast.Eq()], [pattern.value]), []
    if isinstance(pattern, ast.MatchSingleton):
        return ast.Compare(load, [ast.Is()], [ast.Constant(pattern.value)]), []
    if isinstance(pattern, ast.MatchOr):
        tests = [_test(p, subject)[0] for p in pattern.patterns]
        if any(t is None for t in tests):
            return None, []
        return ast.BoolOp(ast.Or(), [t for t in tests if t is not None]), []
    assert isinstance(pattern, ast.MatchAs)
    inner, names = (None, []) if pattern.pattern is None else _test(pattern.pattern, subject)
    return inner, [*names, *([pattern.name] if pattern.name is not None else [])]


class _Substituted(ast.NodeTransformer):
    """A guard reading the names its pattern captured, which read the subject."""

    def __init__(self, captured: list[str], subject: ast.Name) -> None:
        self.captured = set(captured)
        self.subject = subject

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.captured and isinstance(node.ctx, ast.Load):
            return ast.copy_location(ast.Name(self.subject.id, ast.Load()), node)
        return node
