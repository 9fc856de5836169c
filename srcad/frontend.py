"""Frontend: read a Python function's source and parse it, or say why it cannot be read
(and, for ``has_aux=True``, read ``return value, aux`` as ``return value``)."""

from __future__ import annotations

import ast
import builtins
import copy
import inspect
import sysconfig
import textwrap
import types
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from . import astwalk
from .chains import MISSING  # (what lookup gives for a name bound nowhere)
from .desugar import (
    ALONG_AXIS_INDEX,
    ALONG_AXIS_RESULT,
    ALONG_LANES,
    FLAT_INDEX,
    KEPT_POSITIONS,
    MULTIPLIED_AT,
    NUMPY,
    REQUIRE_MAPPING,
    SLICE_BOUNDS,
    SORTED_ORDER,
    STEPPED_POSITIONS,
)
from .errors import Location, SourceError, UnsupportedSyntaxError
from .matching import match_as_if
from .runtime import (
    along_axis_index,
    along_axis_result,
    along_lanes,
    flat_index,
    keep_aux,
    kept_positions,
    multiplied_at,
    require_aux_pair,
    require_mapping,
    slice_bounds,
    sorted_order,
    stepped_positions,
)
from .walrus import assignments_first
from .wrappers import only_forwards, takes_star_arguments


@dataclass
class FunctionSource:
    """A parsed function with its environment (globals, closure cells, builtins)."""

    function: types.FunctionType
    node: ast.FunctionDef
    filename: str
    globals: dict[str, Any]
    closure: dict[str, types.CellType] = field(default_factory=dict)
    #: parameters whose values are fixed when srcad compiles (``self`` of a bound
    #: method, the arguments a ``functools.partial`` binds): srcad may read their class
    fixed: dict[str, Any] = field(default_factory=dict)
    #: objects a call passed for parameters whose class the code does not say: srcad
    #: reads the classes of these (and of what their fields hold), not their values
    examples: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.node.name

    def location(self, node: ast.AST) -> Location:
        return Location(self.filename, getattr(node, "lineno", 0), getattr(node, "col_offset", 0))

    @property
    def shadowed_builtins(self) -> frozenset[str]:
        """The builtins srcad rewrites calls of that this function's module or closure
        binds to something of its own (``def filter(h, x)`` of a DSP module)."""
        from .desugar import REWRITTEN_BUILTINS, shadowed_builtins

        free = {name: self.lookup(name) for name in REWRITTEN_BUILTINS if (
            name in self.globals or name in self.closure
        )}
        return shadowed_builtins(free)

    def lookup(self, name: str) -> Any:
        """The object a free name denotes now: closure cell, global or builtin (or the
        helper a name desugared code calls denotes: :data:`DESUGARED_HELPERS`)."""
        if name in DESUGARED_HELPERS:
            return DESUGARED_HELPERS[name]
        if name in self.closure:
            try:
                return self.closure[name].cell_contents
            except ValueError:  # empty cell
                return MISSING
        if name in self.globals:
            return self.globals[name]
        builtin_names = self.globals.get("__builtins__", builtins)
        if isinstance(builtin_names, dict):
            return builtin_names.get(name, MISSING)
        return getattr(builtin_names, name, MISSING)


#: what the has_aux rewrite calls with ``aux`` (:func:`srcad.runtime.keep_aux`), and to
#: check a pair it did not see being made (:func:`srcad.runtime.require_aux_pair`)
KEEP_AUX, REQUIRE_AUX_PAIR = "_srcad_keep_aux", "_srcad_require_aux_pair"
#: The helpers code :mod:`srcad.desugar` writes calls, by the names it calls them.
DESUGARED_HELPERS: dict[str, Any] = {
    SORTED_ORDER: sorted_order, KEEP_AUX: keep_aux, REQUIRE_AUX_PAIR: require_aux_pair,
    REQUIRE_MAPPING: require_mapping, MULTIPLIED_AT: multiplied_at,
    ALONG_AXIS_INDEX: along_axis_index, FLAT_INDEX: flat_index, NUMPY: np,
    SLICE_BOUNDS: slice_bounds, ALONG_LANES: along_lanes,
    ALONG_AXIS_RESULT: along_axis_result, STEPPED_POSITIONS: stepped_positions,
    KEPT_POSITIONS: kept_positions,
}


def _describe(obj: Any) -> str:
    return getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or repr(obj)


#: Set on the callables srcad builds around generated code (a Hessian, a Jacobian, an
#: hvp, a gradient in JAX's conventions): its value says what the callable is. Their
#: ``__wrapped__`` is the function they were made from, so unwrapping them, as for a
#: user's decorator, would silently differentiate that function instead.
DERIVATIVE_MARK = "__srcad_derivative__"


#: What to do instead of differentiating a derivative so marked, when not the usual.
_DERIVATIVE_HINT = "__srcad_derivative_hint__"
_AGAIN_HINT = (
    "differentiate the function itself: srcad.grad(srcad.grad(f)), srcad.hessian(f), "
    "srcad.hvp(f), srcad.jvp or srcad.jacobian of srcad.grad(f) (at most second "
    "derivatives of a function with loops or numpy arrays)"
)


def mark_derivative(fn: Any, what: str, hint: str | None = None) -> None:
    """Mark ``fn`` (see :data:`DERIVATIVE_MARK`); ``what``: "a Hessian", ...; ``hint``:
    what to do instead of differentiating it again, if not the usual."""
    setattr(fn, DERIVATIVE_MARK, what)
    if hint is not None:
        setattr(fn, _DERIVATIVE_HINT, hint)


def is_numba_function(fn: Any) -> bool:
    """Whether ``fn`` is a numba dispatcher (made by ``@numba.njit`` or ``@numba.jit``)."""
    return type(fn).__module__.startswith("numba.") and hasattr(fn, "py_func")


def source_signature(fn: Any) -> inspect.Signature:
    """The signature of the function srcad reads for ``fn``: a decorator's wrapper's own
    (``inspect.signature`` reports the wrapped function's), unless it only forwards or
    takes ``*args`` (then srcad reads a caller with the wrapped function's signature:
    :func:`srcad.wrappers.wrapper_caller`)."""
    own = _runs_its_own_code(fn) and not takes_star_arguments(fn)
    return inspect.signature(fn, follow_wrapped=not own)


def _runs_its_own_code(fn: Any) -> bool:
    """Whether a call of ``fn`` runs code of its own that srcad reads, rather than only
    the function in its ``__wrapped__``: a decorator's wrapper written in Python (it may
    change the arguments or the result: ``return 2.0 * fn(x)``) unless it only forwards
    its arguments and returns the result (:func:`srcad.wrappers.only_forwards`), an
    object whose class defines ``__call__`` in Python, and the functions srcad made."""
    if hasattr(fn, "__srcad__") or hasattr(fn, DERIVATIVE_MARK):
        return True
    if isinstance(fn, types.FunctionType):
        return not only_forwards(fn)
    # (an object of a class-based decorator: its __call__ runs; lru_cache's is not Python)
    return isinstance(inspect.getattr_static(type(fn), "__call__", None), types.FunctionType)


def python_function(fn: Any) -> Any:
    """The Python function whose source a call of ``fn`` runs: through wrappers that are
    not Python functions (``functools.lru_cache``, ``numba.njit``) and numpy's dispatchers
    (``np.trapezoid`` runs a Python function; ``np.exp`` does not). A decorator's wrapper
    written in Python (``functools.wraps``) is read itself, with the call of the function
    it wraps: what it does to the arguments and the result is part of the function."""
    while callable(fn):
        if is_numba_function(fn):  # (@numba.njit: the Python function it compiles)
            fn = fn.py_func
        fn = inspect.unwrap(fn, stop=_runs_its_own_code)
        implementation = getattr(fn, "_implementation", None)  # numpy's array-function
        if not isinstance(implementation, types.FunctionType) or hasattr(fn, "__srcad__"):
            break
        fn = implementation
    return fn


def _made_from(generated: Any) -> types.FunctionType | None:
    """The user's function a derivative srcad made is of (a closure among several made by
    one ``def``: the derivative reads its cells), or None where that is not one."""
    from .building import unbind  # (building reads sources with this module)

    made_from = getattr(generated, "__wrapped__", None)
    function = None if made_from is None else unbind(made_from).function
    return function if isinstance(function, types.FunctionType) else None


def read_function(
    fn: Any, *, used_at: Location | None = None, top_level: bool = False
) -> FunctionSource:
    """Parse ``fn``'s source. Raises :class:`SourceError` when there is none to read.

    ``top_level``: ``fn`` is the function being differentiated, not a helper it calls
    (a helper without source may get a derivative rule instead; ``fn`` may not)."""
    if hasattr(fn, "srcad_latest"):  # a gradient that follows its helpers
        fn = fn.srcad_latest()
    generated = getattr(fn, "__srcad__", None)
    if generated is not None:  # a gradient srcad made: its source is kept with it
        fn, source, filename, firstlineno = generated.as_source(_made_from(fn))
    else:
        fn = python_function(fn)
        if hasattr(fn, DERIVATIVE_MARK):
            raise UnsupportedSyntaxError(
                f"{getattr(fn, DERIVATIVE_MARK)} of "
                f"{getattr(getattr(fn, '__wrapped__', None), '__name__', 'a function')}, made "
                "by srcad, cannot be differentiated again",
                getattr(fn, _DERIVATIVE_HINT, _AGAIN_HINT),
                used_at,
            )
        if not isinstance(fn, types.FunctionType):
            raise SourceError(
                f"cannot differentiate {_describe(fn)}: it is not a Python function with source",
                "pass a function written with `def`, or register a rule for this one with "
                "srcad.defrule",
                used_at,
            )
        if fn.__name__ == "<lambda>":
            return read_lambda(fn, used_at=used_at, top_level=top_level)
        filename = fn.__code__.co_filename
        try:
            lines, start = inspect.findsource(fn.__code__)  # (not __wrapped__'s)
            found = _by_indentation(fn, lines, start, filename)
            if found is not None:
                return found
            lines, firstlineno = inspect.getsourcelines(fn.__code__)
        except (OSError, TypeError):
            raise SourceError(
                f"cannot read the source of {fn.__qualname__}: {_why_no_source(filename)}",
                "define it in a .py file (or a notebook cell) and import it"
                + ("" if top_level else ", or give it a derivative rule with srcad.defrule"),
                used_at or Location(filename, fn.__code__.co_firstlineno, 0),
            ) from None
        source = "".join(lines)
    return parse_function(fn, source, filename, firstlineno)


def read_lambda(
    fn: types.FunctionType, *, used_at: Location | None = None, top_level: bool = False
) -> FunctionSource:
    """A lambda as the function ``def <name>(<its parameters>): return <its body>``.

    Python keeps only the line a lambda starts on, so the lambda is found among those
    of its file that start on that line and take the same parameters; when there are
    several, by the columns of its code (Python 3.11+). ``<name>`` is the variable it
    is assigned to, else ``lambda_<line>``."""
    code = fn.__code__
    filename, line = code.co_filename, code.co_firstlineno
    where = Location(filename, line, 0)
    try:
        lines, _ = inspect.findsource(fn)
        module = ast.parse("".join(lines))
    except (OSError, TypeError, SyntaxError):
        raise SourceError(
            f"cannot read the source of the lambda on line {line}: {_why_no_source(filename)}",
            "define it in a .py file (or a notebook cell) and import it"
            + ("" if top_level else ", or give it a derivative rule with srcad.defrule"),
            used_at or where,
        ) from None
    count = code.co_argcount + code.co_kwonlyargcount
    params = list(code.co_varnames[:count])
    found = [
        node
        for node in astwalk.walk(module)
        if isinstance(node, ast.Lambda)
        and node.lineno == line
        and [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]
        == params
    ]
    if len(found) > 1:  # several on the line: the one whose body holds the code's columns
        spans = [
            (start, col, end, end_col)
            for start, end, col, end_col in code.co_positions()
            if start is not None and col is not None and end is not None and end_col is not None
            and (start, col) != (end, end_col)
        ]
        found = [node for node in found if spans and all(_inside(node.body, s) for s in spans)]
    if len(found) != 1:
        signature = ", ".join(params)
        raise SourceError(
            f"cannot tell which lambda with the parameters ({signature}) on line {line} "
            "this is"
            if found
            else f"cannot find the lambda ({signature}) of line {line} in {_short(filename)} "
            "(has the file changed since it was defined?)",
            "write it as a `def` function",
            where,
        )
    node = copy.deepcopy(found[0])
    name = next(
        (
            parent.targets[0].id
            for parent in astwalk.walk(module)
            if isinstance(parent, ast.Assign)
            and parent.value is found[0]
            and len(parent.targets) == 1
            and isinstance(parent.targets[0], ast.Name)
        ),
        f"lambda_{line}",
    )
    body = ast.copy_location(ast.Return(value=node.body), node.body)
    definition = ast.FunctionDef(
        name=name, args=node.args, body=[body], decorator_list=[], returns=None
    )
    ast.copy_location(definition, node)
    ast.fix_missing_locations(definition)
    closure = dict(zip(code.co_freevars, fn.__closure__ or ()))
    return FunctionSource(fn, definition, filename, fn.__globals__, closure)


def _inside(node: ast.expr, span: tuple[int, int, int, int]) -> bool:
    start, col, end, end_col = span
    return (node.lineno, node.col_offset) <= (start, col) and (end, end_col) <= (
        node.end_lineno,
        node.end_col_offset,
    )


#: Where installed packages and the standard library live.
_INSTALLED = tuple(
    sorted({sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")})
)


def in_library(filename: str, user_file: str) -> bool:
    """Whether code of ``filename`` is library code for a user whose function lives in
    ``user_file``: another file, or an installed package (a library function passed to
    srcad as it is)."""
    return filename != user_file or installed(filename)


def installed(filename: str) -> bool:
    """Whether ``filename`` belongs to the standard library or an installed package."""
    return filename.startswith(_INSTALLED)


def _short(filename: str) -> str:
    return filename.rsplit("/", 1)[-1]


def _why_no_source(filename: str) -> str:
    """Why Python kept no source for a function compiled from ``filename``."""
    if filename == "<stdin>":
        return "it was typed at the interactive prompt (or piped in), and Python keeps no source"
    if filename == "<string>":
        return "it was defined by `python -c` or exec(), and Python keeps no source"
    if filename.startswith("<"):
        return f"it was compiled from {filename}, which is not a file"
    return f"{filename} cannot be read, or has changed since the function was defined"


def _by_indentation(
    fn: types.FunctionType, lines: list[str], start: int, filename: str
) -> FunctionSource | None:
    """The ``def`` at line ``start`` (0-based) of ``lines``, parsed, if it ends where its
    indentation says: before the first line of code (not a comment) indented no deeper
    than the ``def``, its decorators and the ``def`` line aside. None when those lines are
    not one ``def`` (a string or brackets running past that line): then inspect's
    tokenizer, 20 times slower, finds where it ends."""
    indent = _indent_of(lines[start])
    end = start
    while end < len(lines) and lines[end].lstrip().startswith("@"):
        end += 1
    end += 1  # (the ``def`` line)
    while end < len(lines):
        text = lines[end].strip()
        if text and not text.startswith("#") and _indent_of(lines[end]) <= indent:
            break
        end += 1
    source = "".join(lines[start:end])
    try:
        module = _parsed(source, start + 1)
    except SyntaxError:
        return None
    if len(module.body) != 1 or not isinstance(module.body[0], ast.FunctionDef):
        return None
    return _located(fn, _as_read(module.body[0], source, filename), indent, filename)


def _parsed(source: str, firstlineno: int) -> ast.Module:
    """``source`` (a function's, from line ``firstlineno`` of its file) dedented and
    parsed, with the line numbers of the file (blank lines stand for those before it)."""
    return ast.parse("\n" * (firstlineno - 1) + textwrap.dedent(source))


def _located(
    fn: types.FunctionType, node: ast.FunctionDef, indent: int, filename: str
) -> FunctionSource:
    """The parsed ``def`` of ``fn``, its columns those of its file (its source was
    dedented by ``indent``)."""
    if indent:
        for sub in astwalk.walk(node):
            if hasattr(sub, "col_offset"):
                sub.col_offset += indent
    closure = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
    return FunctionSource(fn, node, filename, fn.__globals__, closure)


def parse_function(
    fn: types.FunctionType, source: str, filename: str, firstlineno: int
) -> FunctionSource:
    """Parse one function's source text, with locations of the file it came from."""
    try:
        module = _parsed(source, firstlineno)
    except SyntaxError as exc:
        raise SourceError(
            f"cannot parse the source of {fn.__qualname__}: {exc.msg}",
            "srcad reads the function's source; make sure it is complete",
            Location(filename, exc.lineno or firstlineno, 0),
        ) from None
    node = module.body[0] if module.body else None
    if not isinstance(node, ast.FunctionDef):
        raise SourceError(
            f"the source of {fn.__qualname__} is not a `def` statement",
            "write the function with `def`",
            Location(filename, firstlineno, 0),
        )
    return _located(fn, _as_read(node, source, filename), _indent_of(source), filename)


def _as_read(node: ast.FunctionDef, source: str, filename: str) -> ast.FunctionDef:
    """``node`` as srcad reads it: its ``match`` statements that test values as ``if``
    tests (:mod:`srcad.matching`), its assignment expressions as assignments where
    Python's order allows (:mod:`srcad.walrus`), and in a library's code, its ``try``
    statements that only translate errors as their bodies (:class:`_ErrorTranslations`)."""
    if "match" in source:
        node = match_as_if(node)
    if ":=" in source:
        node = assignments_first(node)
    if "try" in source and installed(filename):
        node = _ErrorTranslations().visit(copy.deepcopy(node))
    if "global" in source:
        node = _without_reading_globals(node)
    return node


def _without_reading_globals(node: ast.FunctionDef) -> ast.FunctionDef:
    """``node`` without its ``global`` declarations of names it never binds (``global
    CONFIG`` before reading ``CONFIG``: what reading it does anyway)."""
    bound = {
        n.id for n in astwalk.walk(node)
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)
    }
    if not any(isinstance(n, ast.Global) and not set(n.names) & bound for n in astwalk.walk(node)):
        return node

    class _Dropped(ast.NodeTransformer):
        def visit_Global(self, stmt: ast.Global) -> ast.AST:
            return ast.copy_location(ast.Pass(), stmt) if not set(stmt.names) & bound else stmt

    dropped = _Dropped().visit(copy.deepcopy(node))
    assert isinstance(dropped, ast.FunctionDef)
    return dropped


class _ErrorTranslations(ast.NodeTransformer):
    """``try: <body> except E: raise Other(...)`` (every handler only raises; no ``else``
    or ``finally``) as its body: the value is the body's, and where the body fails the
    call fails too (with the body's own error). A library's way to word its errors
    (``statistics.correlation``: ``try: return sxy / sqrt(sxx * syy)``)."""

    def visit_Try(self, node: ast.Try) -> ast.AST | list[ast.stmt]:
        self.generic_visit(node)
        if node.orelse or node.finalbody or not all(
            len(h.body) == 1 and isinstance(h.body[0], ast.Raise) for h in node.handlers
        ):
            return node
        return node.body


def _indent_of(source: str) -> int:
    for line in source.splitlines():
        if line.strip():
            return len(line) - len(line.lstrip())
    return 0


#: the names the has_aux rewrite binds the pair's parts to (:class:`_AuxReturns`)
_VALUE, _PAIR = "_srcad_value", "_srcad_pair"


class _AuxReturns(ast.NodeTransformer):
    """``return value, aux`` becomes ``_srcad_value = value``, ``_srcad_keep_aux(aux)``
    and ``return _srcad_value`` in the function itself (not in the functions it
    defines): the gradient's forward pass hands aux to its caller (:func:`keep_aux`),
    and differentiates ``value``; any other ``return pair`` likewise, through
    ``_srcad_pair = pair``."""

    def __init__(self, source: FunctionSource) -> None:
        self.source = source

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return self.generic_visit(node) if node is self.source.node else node

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        return node

    def visit_Return(self, node: ast.Return) -> ast.AST | list[ast.stmt]:
        value = node.value
        if isinstance(value, ast.Tuple) and not any(isinstance(e, ast.Starred) for e in value.elts):
            if len(value.elts) != 2:
                raise UnsupportedSyntaxError(
                    f"with has_aux=True, {self.source.name} must return a pair "
                    f"(value, aux), not {len(value.elts)} values",
                    "return value, aux (aux may be a tuple or a dict of several values)",
                    self.source.location(node),
                )
            return self.kept(node, value.elts[0], value.elts[1])
        if value is not None:
            pair = ast.Name(_PAIR, ast.Load())
            bound = ast.Assign([ast.Name(_PAIR, ast.Store())], value)
            where = self.source.location(node)
            facts: list[ast.expr] = [
                ast.Constant(self.source.name), ast.Constant(where.filename),
                ast.Constant(where.lineno), ast.Constant(where.col_offset),
            ]
            check = ast.Expr(ast.Call(ast.Name(REQUIRE_AUX_PAIR, ast.Load()), [pair, *facts], []))
            return [self.located(bound, node), self.located(check, node), *self.kept(
                node, ast.Subscript(pair, ast.Constant(0), ast.Load()),
                ast.Subscript(pair, ast.Constant(1), ast.Load()),
            )]
        return node

    def kept(self, node: ast.Return, value: ast.expr, aux: ast.expr) -> list[ast.stmt]:
        """``_srcad_value = value``, ``_srcad_keep_aux(aux)``, ``return _srcad_value``
        (in the order Python evaluates ``value, aux``)."""
        keep = ast.Call(ast.Name(KEEP_AUX, ast.Load()), [aux], [])
        return [
            self.located(ast.Assign([ast.Name(_VALUE, ast.Store())], value), node),
            self.located(ast.Expr(keep), node),
            self.located(ast.Return(ast.Name(_VALUE, ast.Load())), node),
        ]

    @staticmethod
    def located(stmt: ast.stmt, node: ast.Return) -> ast.stmt:
        return ast.fix_missing_locations(ast.copy_location(stmt, node))


def without_aux(source: FunctionSource) -> FunctionSource:
    """``source`` returning only the value of its ``(value, aux)`` results, which srcad
    differentiates, and handing aux to the caller as it goes (see :class:`_AuxReturns`)."""
    node = copy.deepcopy(source.node)
    rewritten = replace(source, node=node)
    _AuxReturns(rewritten).visit(node)
    return rewritten
