"""Emit: IR functions become Python source, in the seed listing's style:
one statement per line, each tagged with the forward line ``# (n)`` it comes from,
and a ``# backprop <forward line>`` header over each gate's adjoint lines."""

from __future__ import annotations

import linecache
import os
import re
from typing import TypeGuard

from . import float_errors, ir, pycode
from .errors import Location
from .iteration import loops_as_python
from .load import origin
from .tape import loop_tapes

INDENT = "    "
#: Tags are aligned at this column when the code is shorter; longer lines get two spaces.
TAG_COLUMN = 40


#: Python's operator precedence, loosest first (``not`` 4, comparisons 5, ``+`` 10, ...).
_PRECEDENCE = {
    "or": 2,
    "and": 3,
    "not": 4,
    "|": 6,
    "^": 7,
    "&": 8,
    "<<": 9,
    ">>": 9,
    "+": 10,
    "-": 10,
    "*": 11,
    "/": 11,
    "//": 11,
    "%": 11,
    "@": 11,
    "**": 13,
}
_ATOM, _UNARY, _COMPARE = 15, 12, 5


def _precedence(expr: ir.Expr) -> int:
    if isinstance(expr, ir.BinOp):
        return _PRECEDENCE[expr.op]
    if isinstance(expr, ir.UnaryOp):
        return _PRECEDENCE["not"] if expr.op == "not" else _UNARY
    if isinstance(expr, ir.Compare):
        return _COMPARE
    if isinstance(expr, ir.BoolOp):
        return _PRECEDENCE[expr.op]
    if (
        isinstance(expr, ir.Const)
        and isinstance(expr.value, int | float)
        and not isinstance(expr.value, bool)
        and str(expr.value).startswith("-")
    ):
        return _UNARY  # printed with its minus sign
    return _ATOM


def _wrap(expr: ir.Expr, at_least: int) -> str:
    text = expression(expr)
    return f"({text})" if _precedence(expr) < at_least else text


def _constant(value: object) -> str:
    """A constant as Python source (``float('nan')`` for a NaN, in a list or tuple too)."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return f"float({str(float(value))!r})"
    if type(value) in (list, tuple):
        items = ", ".join(_constant(item) for item in value)  # type: ignore[attr-defined]
        if type(value) is tuple:
            return f"({items},)" if len(value) == 1 else f"({items})"
        return f"[{items}]"
    return repr(value)


def expression(expr: ir.Expr) -> str:
    """Python source of one expression, parenthesised only where precedence needs it.

    (A direct printer: it is many times faster than building an ``ast`` and printing
    it with astor; tests check that both give the same tree.)
    """
    if isinstance(expr, ir.Name):
        return expr.id
    if isinstance(expr, ir.Const):
        return _constant(expr.value)
    if isinstance(expr, ir.BinOp):
        level = _PRECEDENCE[expr.op]
        if expr.op == "**":  # right-associative; `a ** -b` needs no parentheses
            return f"{_wrap(expr.left, level + 1)} ** {_wrap(expr.right, _UNARY)}"
        return f"{_wrap(expr.left, level)} {expr.op} {_wrap(expr.right, level + 1)}"
    if isinstance(expr, ir.UnaryOp):
        if expr.op == "not":
            return f"not {_wrap(expr.operand, _PRECEDENCE['not'])}"
        return f"{expr.op}{_wrap(expr.operand, _UNARY)}"
    if isinstance(expr, ir.Compare):
        return f"{_wrap(expr.left, _COMPARE + 1)} {expr.op} {_wrap(expr.right, _COMPARE + 1)}"
    if isinstance(expr, ir.BoolOp):
        level = _PRECEDENCE[expr.op]
        return f" {expr.op} ".join(_wrap(v, level + 1) for v in expr.values)
    if isinstance(expr, ir.Attr):
        base = expr.value
        text = _wrap(base, _ATOM)
        if isinstance(base, ir.Const) and isinstance(base.value, int):
            text = f"({text})"
        return f"{text}.{expr.attr}"
    if isinstance(expr, ir.Call):
        args = [expression(a) for a in expr.args]
        args += [f"{k}={expression(v)}" for k, v in expr.kwargs]
        return f"{_wrap(expr.func, _ATOM)}({', '.join(args)})"
    if isinstance(expr, ir.Subscript):
        return f"{_wrap(expr.value, _ATOM)}[{_index(expr.index)}]"
    if isinstance(expr, ir.Tuple):
        inner = ", ".join(expression(e) for e in expr.elts)
        if expr.is_list:
            return f"[{inner}]"
        return f"({inner},)" if len(expr.elts) == 1 else f"({inner})"
    if isinstance(expr, ir.Dict):
        pairs = (f"{expression(k)}: {expression(v)}" for k, v in zip(expr.keys, expr.values))
        return "{" + ", ".join(pairs) + "}"
    if isinstance(expr, ir.Slice):  # outside brackets a slice is a call
        none = ir.Const(None)
        lower, upper, step = (
            p if p is not None else none for p in (expr.lower, expr.upper, expr.step)
        )
        if step != none:
            parts = [lower, upper, step]
        elif lower == none and upper == none:
            parts = [none]
        else:
            parts = [lower, upper]  # (slice(1, None) is `1:`: slice(1) would be `:1`)
        return f"slice({', '.join(expression(p) for p in parts)})"
    raise TypeError(f"not an IR expression: {expr!r}")


def statement(stmt: ir.Stmt) -> str:
    """Python source of one simple statement (no tag)."""
    if (
        isinstance(stmt, ir.Assign) and stmt.in_place and isinstance(stmt.value, ir.Subscript)
        and len(stmt.operands) == 4
    ):  # R[i][j] = v, into a row of a table (srcad.list_chains.ROW_SETITEM)
        _, index, row_index, value = stmt.operands
        return f"{stmt.target}[{_index(index)}][{_index(row_index)}] = {expression(value)}"
    if isinstance(stmt, ir.Assign) and stmt.in_place and isinstance(stmt.value, ir.Subscript):
        container, index, value = stmt.operands
        assert stmt.rule is not None  # (an item write: its rule says whether it adds)
        operator = "+=" if stmt.rule.adjoint_for("x") is None else "="
        return f"{stmt.target}[{_index(index)}] {operator} {expression(value)}"
    if isinstance(stmt, ir.Assign) and stmt.in_place and isinstance(stmt.value, ir.Call):
        return expression(stmt.value)  # np.add.at(out, i, v)
    if isinstance(stmt, ir.Assign) and stmt.in_place and isinstance(stmt.value, ir.BinOp):
        return f"{stmt.target} {stmt.value.op}= {expression(stmt.value.right)}"
    if isinstance(stmt, ir.Assign):
        return f"{stmt.target} = {expression(stmt.value)}"
    if isinstance(stmt, ir.Adjoint):
        value = stmt.value
        if stmt.accumulate and (negation := ir.negated(value)) is not None:
            return f"{stmt.target} -= {expression(negation)}"  # (not += -dt1, nor += -a * b)
        return f"{stmt.target} {'+=' if stmt.accumulate else '='} {expression(value)}"
    if isinstance(stmt, ir.AdjointItem):
        index = stmt.index
        if stmt.zero:
            return f"{stmt.target}[{_index(index)}] = 0.0"
        if stmt.assign:
            return f"{stmt.target}[{_index(index)}] = {expression(stmt.value)}"
        if stmt.via:
            return f"{stmt.via}({stmt.target}, {expression(index)}, {expression(stmt.value)})"
        return f"{stmt.target}[{_index(index)}] += {expression(stmt.value)}"
    if isinstance(stmt, ir.Effect):
        return expression(stmt.value)
    if isinstance(stmt, ir.Delete):
        return f"del {', '.join(stmt.names)}"
    if isinstance(stmt, ir.Unpack):  # (one target: `a, = value`)
        targets = ", ".join(stmt.targets) + ("," if len(stmt.targets) == 1 else "")
        return f"{targets} = {expression(stmt.value)}"
    if isinstance(stmt, ir.Tape):
        return (
            f"{stmt.stack} = []\n{stmt.push} = {stmt.stack}.append\n"
            f"{stmt.pop} = {stmt.stack}.pop"
        )
    if isinstance(stmt, ir.Push):
        if stmt.top:
            return f"{stmt.via}[{stmt.top}] = {stmt.name}\n{stmt.top} += 1"
        return f"{stmt.via}({stmt.name})"
    if isinstance(stmt, ir.Pop):
        if stmt.top:
            return f"{stmt.top} -= 1\n{stmt.name} = {stmt.via}[{stmt.top}]"
        return f"{stmt.name} = {stmt.via}()"
    if isinstance(stmt, ir.Return):
        value = stmt.value
        if isinstance(value, ir.Tuple) and value.elts:
            return "return " + ", ".join(expression(e) for e in value.elts)
        return f"return {expression(value)}"
    raise TypeError(f"not a simple statement: {stmt!r}")


def _index(index: ir.Expr) -> str:
    """An index as written inside brackets: ``i, :`` rather than ``(i, slice(...))``."""
    if isinstance(index, ir.Tuple) and not index.is_list:  # (a list index is a list)
        if len(index.elts) == 1:
            return _index(index.elts[0]) + ","
        return ", ".join(_index(e) for e in index.elts) or "()"
    if index == ir.Const(Ellipsis):
        return "..."
    if isinstance(index, ir.Slice):
        parts = [expression(p) if p is not None else "" for p in (index.lower, index.upper)]
        text = ":".join(parts)
        return text + (f":{expression(index.step)}" if index.step is not None else "")
    return expression(index)


def _tagged(code: str, tag: int, depth: int) -> str:
    if not tag:
        return code
    width = TAG_COLUMN - len(INDENT) * (depth + 1)
    return f"{code.ljust(width)}  # ({tag})"


def _block(body: tuple[ir.Stmt, ...] | list[ir.Stmt], depth: int) -> list[str]:
    """Source lines of ``body`` at nesting ``depth`` (indentation relative to the def)."""
    pad = INDENT * depth
    lines: list[str] = []
    resume = 0
    for position, stmt in enumerate(body):
        if position < resume:  # (inside a `with` block printed already)
            continue
        if isinstance(stmt, ir.Enter):
            end = _matching_exit(body, position)
            lines += _with(stmt, body[position + 1 : end], depth)
            resume = end + 1
        elif isinstance(stmt, ir.Python):
            code = pycode.unparse(stmt.code).splitlines()
            lines.append(pad + _tagged(code[0], stmt.tag, depth))
            lines += [pad + line for line in code[1:]]
        elif isinstance(stmt, ir.Comment):
            lines.append(f"{pad}# {stmt.text}")
        elif isinstance(stmt, ir.Backprop):
            lines.append(f"{pad}# backprop {statement(stmt.forward)}")
        elif isinstance(stmt, ir.Effect) and stmt.note:  # srcad's own check
            lines.append(f"{pad}{statement(stmt)}  # {stmt.note}")
        elif isinstance(stmt, ir.Push):
            first, *rest = statement(stmt).splitlines()
            lines.append(f"{pad}{first}  # save before the loop overwrites it")
            lines += [pad + line for line in rest]
        elif (isinstance(stmt, ir.Assign) and stmt.logical) or (
            isinstance(stmt, ir.If) and _only_logical(stmt)
        ):  # what memory sharing did: shown, not run
            lines += [f"{pad}# {line}" for line in _logical(stmt)]
        elif isinstance(stmt, ir.If):
            lines += _if(stmt, depth)
        elif isinstance(stmt, ir.Loop):
            lines += _loop(stmt, depth)
        elif isinstance(stmt, ir.Return | ir.Delete):
            lines.append(pad + statement(stmt))
        elif isinstance(stmt, ir.Unpack):
            lines.append(pad + _tagged(statement(stmt), stmt.tag, depth))
        elif isinstance(stmt, ir.Tape | ir.Pop):
            lines += [pad + line for line in statement(stmt).splitlines()]
        elif _renames_in_place(stmt):  # y_1 = y; y_1 *= w (y_1 is y itself for an array)
            assert isinstance(stmt.value, ir.BinOp) and isinstance(stmt.value.left, ir.Name)
            lines.append(f"{pad}{stmt.target} = {stmt.value.left.id}")
            lines.append(pad + _tagged(statement(stmt), stmt.tag, depth))
        else:
            lines.append(pad + _tagged(statement(stmt), stmt.tag, depth))
    return lines


def _matching_exit(body: tuple[ir.Stmt, ...] | list[ir.Stmt], start: int) -> int:
    """The position of the :class:`~srcad.ir.Exit` that closes the ``Enter`` at ``start``."""
    depth = 0
    for position in range(start, len(body)):
        if isinstance(body[position], ir.Enter):
            depth += 1
        elif isinstance(body[position], ir.Exit):
            depth -= 1
            if depth == 0:
                return position
    raise TypeError(f"not a simple statement: {body[start]!r}")  # (an Enter without Exit)


def _with(stmt: ir.Enter, body: tuple[ir.Stmt, ...] | list[ir.Stmt], depth: int) -> list[str]:
    pad = INDENT * depth
    target = f" as {stmt.target}" if stmt.target else ""
    lines = [pad + _tagged(f"with {expression(stmt.manager)}{target}:", stmt.tag, depth)]
    lines += _block(body, depth + 1)
    if not _has_code(body):
        lines.append(pad + INDENT + "pass")
    return lines


def _if(stmt: ir.If, depth: int, computed_test: str | None = None) -> list[str]:
    """``stmt`` as source; ``computed_test``: its test, written with the values it reads
    computed in it (see :func:`_tested_first`)."""
    pad = INDENT * depth
    body, orelse = stmt.body, stmt.orelse
    test = computed_test or expression(stmt.test)
    if not _has_code(body) and computed_test is None and depth < _DEEP_ELSE:
        # (`if not c: X` reads better than `if c: pass else: X`, unless X is to be flat)
        test, body, orelse = expression(ir.UnaryOp("not", stmt.test)), orelse, ()
    lines = [pad + _tagged(f"if {test}:", stmt.tag, depth)]
    lines += _block(body, depth + 1)
    if not _has_code(body):
        lines.append(pad + INDENT + "pass")
    if orelse and _has_code(orelse):
        if len(orelse) == 1 and isinstance(orelse[0], ir.If):
            nested = _if(orelse[0], depth)
            lines.append(pad + "el" + nested[0].lstrip())
            lines += nested[1:]
        elif depth >= _DEEP_ELSE and (tested := _tested_first(orelse)) is not None:
            computed, inner = tested  # (an elif chain a hundred long: Python nests no deeper)
            nested = _if(inner, depth, computed)
            lines.append(pad + "el" + nested[0].lstrip())
            lines += nested[1:]
        else:
            lines.append(pad + "else:")
            lines += _block(orelse, depth + 1)
    return lines


#: how deep an ``else`` nests before the values its ``if`` tests are computed in the test
#: (``elif (t2 := T < 210.0):``), as Python refuses code nested a hundred levels deep
_DEEP_ELSE = 40


def _tested_first(orelse: tuple[ir.Stmt, ...]) -> tuple[str, ir.If] | None:
    """An ``else`` that computes values, then tests them (``t2 = T < 210.0``, ``if t2:``):
    the test with those values computed in it, as assignment expressions (``(t2 := T <
    210.0)``), and the ``if``; None for any other ``else``."""
    *computing, last = [s for s in orelse if not isinstance(s, ir.Comment)]
    assigns = [s for s in computing if isinstance(s, ir.Assign) and not (s.in_place or s.logical)]
    if not isinstance(last, ir.If) or not computing or len(assigns) < len(computing):
        return None
    walruses = [f"({s.target} := {expression(s.value)})" for s in assigns]
    if len(walruses) == 1 and last.test == ir.Name(assigns[0].target):
        return walruses[0], last
    return f"({', '.join([*walruses, expression(last.test)])})[-1]", last


def _loop(stmt: ir.Loop, depth: int) -> list[str]:
    pad, inner = INDENT * depth, INDENT * (depth + 1)
    lines: list[str] = []
    if stmt.counter is not None:
        lines.append(f"{pad}{stmt.counter} = 0")
    prologue: list[str] = []
    if stmt.iterable is not None:
        targets = ", ".join(n for n in (stmt.index, *stmt.restores) if n is not None)
        header = f"for {targets} in {expression(stmt.iterable)}:"
    else:
        assert stmt.cond is not None  # (a while loop has its condition)
        if not stmt.test:
            header = f"while {expression(stmt.cond)}:"
        elif (
            len(stmt.test) == 1
            and isinstance(stmt.test[0], ir.Assign)
            and stmt.cond == ir.Name(stmt.test[0].target)
            and stmt.test[0].target not in ir.read_in(stmt.body)  # (else it stays bound)
        ):
            header = f"while {expression(stmt.test[0].value)}:"
        else:
            header = "while True:"
            prologue = _block(stmt.test, depth + 1)
            prologue.append(f"{inner}if not {expression(stmt.cond)}:")
            prologue.append(f"{inner}{INDENT}break")
    lines.append(pad + _tagged(header, stmt.tag, depth))
    lines += prologue
    if stmt.counter is not None:
        lines.append(f"{inner}{stmt.counter} += 1")
    body = _block(stmt.body, depth + 1)
    if stmt.exit_flag is not None:
        body += [f"{inner}if {stmt.exit_flag}:", f"{inner}{INDENT}break"]
    lines += body
    if not _has_code(stmt.body) and stmt.exit_flag is None and stmt.counter is None:
        lines.append(inner + "pass")
    return lines


def _renames_in_place(stmt: ir.Stmt) -> TypeGuard[ir.Assign]:
    """An in-place operator whose result has a name of its own (``y_1 *= w`` after
    ``y_1 = y``), because the old name is still needed when ``y`` is a number."""
    return (
        isinstance(stmt, ir.Assign)
        and stmt.in_place
        and isinstance(stmt.value, ir.BinOp)
        and stmt.value.left != ir.Name(stmt.target)
    )


def _logical(stmt: ir.Stmt) -> list[str]:
    """A logical line (or a branch of them) as the text of a comment."""
    if isinstance(stmt, ir.Assign):
        return [f"{statement(stmt)}  (shared memory)"]
    assert isinstance(stmt, ir.If)
    lines = [f"if {expression(stmt.test)}:"]
    for inner in stmt.body:
        if not isinstance(inner, ir.Comment):
            lines += [INDENT + line for line in _logical(inner)]
    return lines


def _only_logical(stmt: ir.If) -> bool:
    """A branch that only records what memory sharing did (nothing to run)."""
    return any(isinstance(s, ir.Assign) and s.logical for s in ir.walk(stmt.body)) and all(
        isinstance(s, ir.Comment)
        or (isinstance(s, ir.Assign) and s.logical)
        or (isinstance(s, ir.If) and _only_logical(s))
        for block in (stmt.body, stmt.orelse)
        for s in block
    )


def _has_code(body: tuple[ir.Stmt, ...] | list[ir.Stmt]) -> bool:
    """Whether ``body`` prints a statement that runs (not only comments)."""
    return any(
        not isinstance(s, ir.Comment | ir.Backprop)
        and not (isinstance(s, ir.Assign) and s.logical)
        and not (isinstance(s, ir.If) and _only_logical(s))
        for s in body
    )


def signature(fn: ir.Function) -> str:
    params = list(fn.params)
    if fn.kwonly:
        params += ["*", *fn.kwonly]
    return f"def {fn.name}({', '.join(params)}):"


def function(fn: ir.Function, *, verbose: bool = True) -> str:
    """The full source of ``fn`` as a ``def`` statement; without ``verbose``, the lines
    of bookkeeping left out (shapes recorded for the backward pass, ``del``, srcad's own
    checks), for reading (:func:`srcad.show`)."""
    fn = loops_as_python(loop_tapes(fn))
    body = fn.body if verbose else _WithoutBookkeeping().visit_body(fn.body)
    if fn.on_float_error is None or not verbose:
        lines = _block(body, 0)
    else:  # (the fallback to numpy floats: srcad's bookkeeping, left out for reading)
        start = float_errors.guarded_from(fn)
        fallback = ir.substitute(fn.on_float_error, {ir.ITSELF: ir.Name(fn.name)})
        lines = [
            *_block(body[:start], 0),
            "try:",
            *_block(body[start:], 1),
            f"except {FLOAT_ERRORS}:  # numpy's floats give inf or nan",
            f"{INDENT}return {expression(fallback)}",
        ]
    lines = [INDENT + line for line in lines] or [INDENT + "pass"]
    return "\n".join([signature(fn), *lines]) + "\n"


#: What the float version's backward pass raises where numpy's floats give inf or nan
#: (``ZeroDivisionError``, ``OverflowError``; ``ValueError``: math's domain errors).
FLOAT_ERRORS = "(ArithmeticError, ValueError)"


class _WithoutBookkeeping(ir.Transformer):
    """Drops what a reader of the gradient need not see: ``del``, ``x_shape =
    np.shape(x)`` (untagged: srcad's own), checks srcad added (an ``Effect`` with a note)."""

    def visit_Delete(self, stmt: ir.Delete) -> None:
        return None

    def visit_Effect(self, stmt: ir.Effect) -> ir.Effect | None:
        return None if stmt.note else stmt

    def visit_Assign(self, stmt: ir.Assign) -> ir.Assign | None:
        value = stmt.value
        recorded_shape = (
            not stmt.tag
            and isinstance(value, ir.Call)
            and isinstance(value.func, ir.Attr)
            and value.func.attr == "shape"
            and len(value.args) == 1
        )
        return None if recorded_shape else stmt


_TAG = re.compile(r"  # \((\d+)\)$")


def origins(source: str, forward: ir.Function) -> dict[int, Location]:
    """For each tagged line of ``source`` (1-based), the user's line it comes from (for
    inlined library code, the user's call that reached it)."""
    where = {
        s.tag: forward.user_location(s.loc, lambda loc: origin(loc.filename, loc.lineno))
        for s in ir.walk(forward.body)
        if isinstance(s, ir.Assign | ir.If | ir.Loop | ir.Enter | ir.Python | ir.Effect)
        and s.tag
        and s.loc.lineno
    }
    found: dict[int, Location] = {}
    for number, line in enumerate(source.splitlines(), start=1):
        match = _TAG.search(line)
        if match and int(match.group(1)) in where:
            found[number] = where[int(match.group(1))]
    return found


def with_origins(
    source: str, forward: ir.Function, where: dict[int, Location] | None = None
) -> str:
    """``source`` with each tagged line followed by the user's line it comes from
    (``where``: :func:`origins`, if the caller has them already).

    This is the text registered for tracebacks and debuggers (``.backward_source`` stays
    clean): a failing generated line shows, next to it, the line of the user's code.
    """
    where = origins(source, forward) if where is None else where
    lines = []
    for number, line in enumerate(source.splitlines(), start=1):
        loc = where.get(number)
        if loc is not None:
            text = linecache.getline(loc.filename, loc.lineno).strip()
            line += f"  <- {os.path.basename(loc.filename)}:{loc.lineno}: {text}"
        lines.append(line)
    return "\n".join(lines) + "\n"
