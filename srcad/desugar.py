"""Desugar: rewrite jumps into structured control flow before lowering.

- A ``return`` inside a loop becomes ``result = value; returned = True; break``, and
  the loop is followed by ``if returned: return result`` (or ``break``, when the loop
  sits inside another loop).
- Statements after an ``if`` that may ``return``, ``break`` or ``continue`` move into
  the paths of that ``if`` that do not jump, so every jump ends its path.

The result is still Python syntax (``ast``), with the user's line numbers kept.
"""

from __future__ import annotations

import ast
import copy

_JUMPS = (ast.Return, ast.Break, ast.Continue)


def _fresh(base: str, used: set[str]) -> str:
    name, counter = base, 0
    while name in used:
        counter += 1
        name = f"{base}_{counter}"
    used.add(name)
    return name


def _located(node: ast.AST, like: ast.AST) -> ast.AST:
    return ast.fix_missing_locations(ast.copy_location(node, like))


def _contains(stmts: list[ast.stmt], kinds: tuple[type, ...], into_loops: bool) -> bool:
    for stmt in stmts:
        if isinstance(stmt, kinds):
            return True
        if isinstance(stmt, ast.If):
            if _contains(stmt.body, kinds, into_loops) or _contains(stmt.orelse, kinds, into_loops):
                return True
        if into_loops and isinstance(stmt, ast.For | ast.While):
            if _contains(stmt.body, kinds, into_loops):
                return True
    return False


def _ends_with_jump(stmts: list[ast.stmt]) -> bool:
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, _JUMPS):
        return True
    return isinstance(last, ast.If) and _ends_with_jump(last.body) and _ends_with_jump(last.orelse)


def absorb(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """Move the statements after a possibly-jumping ``if`` into its non-jumping paths."""
    out: list[ast.stmt] = []
    for index, stmt in enumerate(stmts):
        if isinstance(stmt, _JUMPS):
            out.append(stmt)
            return out  # anything after a jump is never run
        if isinstance(stmt, ast.If) and _contains([stmt], _JUMPS, into_loops=False):
            rest = stmts[index + 1 :]
            stmt.body = absorb(
                stmt.body + ([] if _ends_with_jump(stmt.body) else copy.deepcopy(rest))
            )
            stmt.orelse = absorb(stmt.orelse + ([] if _ends_with_jump(stmt.orelse) else rest))
            out.append(stmt)
            return out
        if isinstance(stmt, ast.For | ast.While):
            stmt.body = absorb(stmt.body)
        out.append(stmt)
    return out


class _LoopReturns:
    """Turns ``return`` inside loops into a flag, a result variable and ``break``."""

    def __init__(self, used: set[str]) -> None:
        self.used = used
        self.flag: str | None = None
        self.result: str | None = None

    def names(self) -> tuple[str, str]:
        if self.flag is None:
            self.flag = _fresh("returned", self.used)
            self.result = _fresh("result", self.used)
        return self.flag, self.result

    def rewrite(self, stmts: list[ast.stmt], loop_depth: int) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            if isinstance(stmt, ast.Return) and loop_depth > 0:
                flag, result = self.names()
                out += [
                    _located(ast.Assign([ast.Name(result, ast.Store())], stmt.value), stmt),
                    _located(ast.Assign([ast.Name(flag, ast.Store())], ast.Constant(True)), stmt),
                    _located(ast.Break(), stmt),
                ]
                continue
            if isinstance(stmt, ast.If):
                stmt.body = self.rewrite(stmt.body, loop_depth)
                stmt.orelse = self.rewrite(stmt.orelse, loop_depth)
            elif isinstance(stmt, ast.For | ast.While):
                returns_inside = _contains(stmt.body, (ast.Return,), into_loops=True)
                stmt.body = self.rewrite(stmt.body, loop_depth + 1)
                if returns_inside:
                    flag, result = self.names()
                    out += (
                        [
                            _located(
                                ast.Assign([ast.Name(flag, ast.Store())], ast.Constant(False)), stmt
                            ),
                            _located(
                                ast.Assign([ast.Name(result, ast.Store())], ast.Constant(None)),
                                stmt,
                            ),
                        ]
                        if loop_depth == 0
                        else []
                    )
                    out.append(stmt)
                    after: ast.stmt = (
                        ast.Return(ast.Name(result, ast.Load())) if loop_depth == 0 else ast.Break()
                    )
                    out.append(
                        _located(
                            ast.If(ast.Name(flag, ast.Load()), [_located(after, stmt)], []), stmt
                        )
                    )
                    continue
            out.append(stmt)
        return out


def desugar(fn: ast.FunctionDef) -> ast.FunctionDef:
    """A copy of ``fn`` whose jumps all end their paths (see the module docstring)."""
    if not any(isinstance(node, ast.For | ast.While | ast.If) for node in ast.walk(fn)):
        return fn  # straight-line code: nothing to rewrite
    fn = copy.deepcopy(fn)
    used = {node.id for node in ast.walk(fn) if isinstance(node, ast.Name)}
    used.update(a.arg for a in ast.walk(fn) if isinstance(a, ast.arg))
    body = fn.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(getattr(body[0], "value", None), ast.Constant)
    ):
        body = body[1:]  # the docstring
    fn.body = absorb(_LoopReturns(used).rewrite(body, 0))
    return fn
