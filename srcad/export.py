"""Export: write a generated gradient as a standalone, importable, readable module.

``srcad.export(f, "grad_f.py")`` writes the gradient srcad generated for ``f`` — the
same source ``srcad.grad(f).backward_source`` shows — together with everything it
needs at run time, so that the file imports without srcad:

* the helper functions the generated code calls (``require_scalar``, ``unbroadcast``,
  ``sum_grad``, ...) are copied from srcad's source with ``inspect.getsource``, and so
  are the helpers *they* call (resolved name by name, recursively);
* modules become ``import`` lines (``import numpy as np``, ``import math``), functions
  of compiled libraries ``from math import exp``-style lines;
* the user's globals and closure variables the gradient reads are copied when they are
  numbers, strings or small arrays (their value at export time), and imported from the
  user's module otherwise.

Anything that cannot be written down is refused with an :class:`ExportError` naming the
value, never exported wrongly.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.util
import inspect
import os
import re
import symtable
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import numpy as np

from . import astwalk
from .errors import Location, SrcadError
from .version import __version__

#: numpy arrays up to this many items are written out as literals; bigger ones imported.
MAX_LITERAL_ITEMS = 1000

#: Modules searched for the home of a function without Python source (``exp``, ``np.tanh``).
_LIBRARY_MODULES = ("math", "cmath", "builtins", "numpy", "operator", "functools")

_PACKAGE = __name__.rsplit(".", 1)[0]  # "srcad"
_FUTURE = "from __future__ import annotations"  # helpers' annotations are never evaluated


class ExportError(SrcadError):
    """The gradient uses a value that cannot be written into a standalone module."""


# ---------------------------------------------------------------- public API


def module_source(gradient: Any, path: str | os.PathLike | None = None,
                  module: str | None = None) -> str:
    """The standalone module of ``gradient`` (made by ``srcad.grad``), written to
    ``path`` too unless it is ``None`` (see :func:`srcad.export`)."""
    built = gradient.__srcad__
    user = built.user_function
    writer = _Writer(user, module or getattr(user, "__module__", None))
    text = writer.module_source(built)
    if path is not None:
        Path(path).write_text(text)
    return text


# ---------------------------------------------------------------- the writer


class _Missing:
    def __repr__(self) -> str:  # pragma: no cover
        return "MISSING"


_MISSING = _Missing()


class _Writer:
    """Collects the definitions a generated gradient needs, in dependency order."""

    def __init__(self, user: types.FunctionType, user_module: str | None) -> None:
        self.user = user
        self.user_module = user_module
        self.imports: set[str] = set()
        self.names: dict[str, Any] = {}  # name -> the object it denotes in the export
        self.blocks: list[str] = []  # definitions, each after what it uses at import time
        self.where = Location(user.__code__.co_filename, user.__code__.co_firstlineno, 0)

    # ---- the whole module
    def module_source(self, built: Any) -> str:
        from .float_guard import ARRAY_VERSION, USER_FUNCTION

        versions = built.versions
        defined = {v.ir.name for v in versions}
        cells = dict(zip(self.user.__code__.co_freevars, self.user.__closure__ or (), strict=True))
        functions = []
        for version in versions:
            source = version.compiled.source
            bindings = version.compiled.bindings
            for name in _free_names(source):
                if name in defined:
                    continue
                if name in bindings and bindings[name] is USER_FUNCTION:
                    self.need(name, self.user, "the differentiated function", user=True)
                elif name in bindings and bindings[name] is not ARRAY_VERSION:
                    self.need(name, bindings[name], f"srcad binding {name!r}")
                elif name in version.ir.free_cells or name in cells:
                    try:
                        value = cells[name].cell_contents
                    except (KeyError, ValueError):
                        raise self.error(
                            f"the closure variable {name!r} of {self.user.__qualname__} is empty"
                        ) from None
                    self.need(name, value, f"closure variable {name!r}", user=True)
                else:
                    value = self.user.__globals__.get(name, _MISSING)
                    if value is _MISSING:
                        value = getattr(builtins, name, _MISSING)
                    if value is _MISSING:
                        raise self.error(
                            f"the generated gradient reads {name!r}, which "
                            f"{self.user.__qualname__}'s module does not define"
                        )
                    self.need(name, value, f"global {name!r}", user=True)
            functions.append(self.with_defaults(source, version.ir))
        first = versions[0].ir.name
        header = _header(self.user, built, first)
        imports = sorted(self.imports - {_FUTURE}, key=_import_order)
        parts = [header, _FUTURE + "\n\n" + "\n".join(imports)]
        if self.blocks:
            parts.append(
                "# ---- helpers the generated code calls (copied from srcad, so that "
                "this module does not need it)\n\n"
                + "\n\n\n".join(b.strip("\n") for b in self.blocks)
            )
        parts.append(
            f"# ---- the gradient srcad generated for {self.user.__qualname__}\n\n"
            + "\n\n\n".join(f.strip("\n") for f in functions)
        )
        parts.append(f"__all__ = [{first!r}]")
        return "\n\n\n".join(p.strip("\n") for p in parts) + "\n"

    def error(self, message: str) -> ExportError:
        return ExportError(
            message,
            "pass the value as a parameter, or use the gradient "
            "through srcad instead of exporting it",
            self.where,
        )

    # ---- default values of the gradient's parameters
    def with_defaults(self, source: str, fn: Any) -> str:
        user = self.user
        positional = list(fn.params)
        defaults = user.__defaults__ or ()
        kwdefaults = user.__kwdefaults__ or {}
        if not defaults and not kwdefaults:
            return source
        params = []
        first_default = len(positional) - len(defaults)
        for index, name in enumerate(positional):
            if index >= first_default:
                params.append(f"{name}={self.literal(defaults[index - first_default], name)}")
            else:
                params.append(name)
        if fn.kwonly:
            params.append("*")
            params += [
                f"{k}={self.literal(kwdefaults[k], k)}" if k in kwdefaults else k for k in fn.kwonly
            ]
        head, rest = source.split("\n", 1)
        return f"def {fn.name}({', '.join(params)}):\n{rest}"

    def literal(self, value: Any, what: str) -> str:
        text = _literal(value)
        if text is None:
            raise self.error(
                f"the default value of {what!r} ({value!r}) cannot be written as a literal"
            )
        return text

    # ---- one name
    def need(
        self,
        name: str,
        value: Any,
        what: str,
        *,
        user: bool = False,
        home: dict[str, Any] | None = None,
    ) -> None:
        """Make ``name`` denote ``value`` at the exported module's top level."""
        if name in self.names:
            if self.names[name] is value or _same_value(self.names[name], value):
                return
            raise self.error(
                f"the name {name!r} means two different things in the "
                f"generated code and its helpers ({self.names[name]!r} and "
                f"{value!r})"
            )
        if getattr(builtins, name, _MISSING) is value:
            return  # a builtin: nothing to write
        self.names[name] = value
        if isinstance(value, types.ModuleType):
            self.imports.add(_import_module(name, value))
            return
        if isinstance(value, type) and value.__module__ == f"{_PACKAGE}.errors":
            self.blocks.append(_error_stub(name, value))
            return
        if isinstance(value, Exception) and type(value).__module__ == f"{_PACKAGE}.errors":
            cls = type(value).__name__  # (a refusal a check raises when the gradient runs)
            self.need(cls, type(value), f"the class of {what}")
            self.blocks.append(f"{name} = {cls}({_portable(value)!r})")
            return
        if isinstance(value, Exception) and type(value).__module__ == "builtins":
            # (the error Python raises, which a check raises too: `ValueError` of an
            # unpacking of the wrong length)
            self.blocks.append(f"{name} = {type(value).__name__}({_portable(value)!r})")
            return
        if value is _user_line():  # (which user line generated code came from: srcad's own)
            self.blocks.append(
                f"def {name}(depth=2):\n"
                '    """Stands in for srcad.load.user_line: the line is not known here."""\n'
                "    return None\n"
            )
            return
        if isinstance(value, types.FunctionType) and _has_source(value):
            self.copy_function(name, value)
            return
        if isinstance(value, type) and _has_source(value) and not _is_library(value):
            self.copy_class(name, value)
            return
        text = _literal(value)
        if text is not None:
            if isinstance(value, np.ndarray | np.generic) or "np." in text:
                self.imports.add("import numpy as np")
                self.need_np()
            note = "  # value at export time" if user else ""
            self.blocks.append(f"{name} = {text}{note}")
            return
        if home is not None and home.get("__name__", "").startswith(_PACKAGE + "."):
            home = _defining_home(home, name, value)  # (imported from another module of
            statement = _defining_statement(home, name)  # srcad's: where it is assigned)
            if statement is not None:
                self.copy_statement(name, statement, home)
                return
        line = _library_import(name, value, skip=(self.user.__module__, self.user_module))
        if line is not None:
            self.imports.add(line)
            return
        if user and self.user_module and self.user_module != "__main__":
            self.imports.add(_from_import(self.user_module, name, name))
            return
        raise self.error(
            f"the {what} holds {type(value).__name__} {value!r:.60}, which "
            "cannot be written into a standalone module"
        )

    def need_np(self) -> None:
        self.names.setdefault("np", np)

    def resolve_in(
        self, fn: Any, names: list[str], home: dict[str, Any], cells: dict[str, Any]
    ) -> None:
        for free in names:
            if free in cells:
                self.need(free, cells[free], f"closure variable {free!r} of {fn.__qualname__}")
                continue
            value = home.get(free, _MISSING)
            if value is _MISSING:
                value = getattr(builtins, free, _MISSING)
            if value is _MISSING:
                raise self.error(
                    f"{fn.__qualname__} reads {free!r}, which its module does not define"
                )
            self.need(free, value, f"global {free!r} of {fn.__qualname__}", home=home)

    # ---- functions, classes and statements copied as source
    def copy_function(self, name: str, fn: types.FunctionType) -> None:
        if fn.__closure__:
            self.copy_closure(name, fn)
            return
        source, imported = _function_source(fn)
        names = [n for n in [*_free_names(source), *imported] if n != fn.__name__]
        self.resolve_in(fn, list(dict.fromkeys(names)), fn.__globals__, imported)
        if fn.__name__ != name:
            self.names.setdefault(fn.__name__, fn)
            self.blocks.append(source)
            self.blocks.append(f"{name} = {fn.__name__}")
        else:
            self.blocks.append(source)

    def copy_closure(self, name: str, fn: types.FunctionType) -> None:
        """A function made by a factory (``scalar_check`` makes ``require_scalar``):
        copy the factory and call it with the closure's values."""
        outer_name = fn.__qualname__.split(".<locals>.")[0]
        outer = fn.__globals__.get(outer_name)
        assert fn.__closure__ is not None  # (copy_function's test)
        cells = {
            n: c.cell_contents for n, c in zip(fn.__code__.co_freevars, fn.__closure__, strict=True)
        }
        if not isinstance(outer, types.FunctionType) or ".<locals>." not in fn.__qualname__:
            raise self.error(f"{fn.__qualname__} is a closure srcad cannot rebuild")
        signature = inspect.signature(outer)
        arguments = []
        for param in signature.parameters.values():
            if param.name in cells:
                value = cells[param.name]
                if isinstance(value, Location):
                    value = f"{_shown_path(value.filename)}:{value.lineno}:{value.col_offset}"
                text = _literal(value)
                if text is None:
                    raise self.error(
                        f"{fn.__qualname__} holds {value!r:.60}, which cannot "
                        "be written as a literal"
                    )
                arguments.append(text)
            elif param.default is inspect.Parameter.empty:
                raise self.error(f"{fn.__qualname__} is a closure srcad cannot rebuild")
            else:
                break
        self.need(outer_name, outer, f"factory of {fn.__qualname__}")
        self.blocks.append(f"{name} = {outer_name}({', '.join(arguments)})")

    def copy_class(self, name: str, cls: type) -> None:
        source = _without_annotations(textwrap.dedent(inspect.getsource(cls)))
        names = [n for n in _free_names(source) if n != cls.__name__]
        home = vars(sys.modules[cls.__module__])
        self.resolve_in(cls, names, home, {})
        self.blocks.append(
            source.rstrip("\n") + ("" if cls.__name__ == name else f"\n\n\n{name} = {cls.__name__}")
        )

    def copy_statement(self, name: str, statement: str, home: dict[str, Any]) -> None:
        names = [n for n in _free_names(statement) if n != name]
        self.resolve_in(types.SimpleNamespace(__qualname__=home["__name__"]), names, home, {})
        self.blocks.append(statement)


# ---------------------------------------------------------------- helpers


def _header(user: types.FunctionType, built: Any, first: str) -> str:
    shown = _shown_path(user.__code__.co_filename)
    wrt = ", ".join(built.wrt)
    many = len(built.wrt) > 1
    returns = f"the tuple ({', '.join('d' + w for w in built.wrt)})" if many else f"d{wrt}"
    lines = [
        f'"""Gradient of {user.__qualname__} ({shown}:{user.__code__.co_firstlineno}), '
        f"generated by srcad {__version__}.",
        "",
        f"{first}({', '.join(built.forward.params)}) returns {returns}: the derivative of "
        f"{user.__name__} with",
        f"respect to {wrt}. This module is standalone: it needs numpy, not srcad.",
        "",
        "The forward listing it was generated from::",
        "",
        *("    " + line if line else "" for line in built.forward_source.rstrip().splitlines()),
        '"""',
    ]
    return "\n".join(lines)


def _shown_path(filename: str) -> str:
    """``filename`` as the exported module names it: relative to the working directory
    when it is below it, else its base name (no absolute path of the user's machine)."""
    try:
        shown = os.path.relpath(filename)
    except ValueError:  # pragma: no cover (another drive on Windows)
        shown = filename
    return os.path.basename(filename) if shown.startswith("..") or os.path.isabs(shown) else shown


def _without_annotations(source: str) -> str:
    """A function's (or a class's) source without the annotations of its (methods')
    parameters and results: they name types of srcad's modules that the exported module
    does not define."""
    tree = ast.parse(source)
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def offset(line: int | None, col: int | None) -> int:  # (ast columns count UTF-8 bytes)
        assert line is not None and col is not None  # (parsed nodes have their positions)
        text = source[starts[line - 1]:starts[line]]
        return starts[line - 1] + len(text.encode()[:col].decode())

    cuts = []
    for node in astwalk.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        arguments = node.args
        for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                    arguments.vararg, arguments.kwarg):
            if arg is not None and arg.annotation is not None:
                name_end = offset(arg.lineno, arg.col_offset) + len(arg.arg)
                annotation = arg.annotation
                cuts.append((name_end, offset(annotation.end_lineno, annotation.end_col_offset)))
        if node.returns is not None:
            end = offset(node.returns.end_lineno, node.returns.end_col_offset)
            arrow = source.rindex("->", 0, offset(node.returns.lineno, node.returns.col_offset))
            close = source.rindex(")", 0, arrow) + 1
            cuts.append((close, end))
    for start, end in sorted(cuts, reverse=True):
        source = source[:start] + source[end:]
    return source


def _import_order(line: str) -> tuple:
    return (not line.startswith("from __future__"), line.startswith("from "), line)


def _free_names(source: str) -> list[str]:
    """Names ``source`` (one ``def``, ``class`` or statement) reads from module level,
    in order of appearance; annotations are skipped (they are never evaluated)."""
    tree = ast.parse(textwrap.dedent(source))
    for node in astwalk.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node.returns = None
            for arg in (
                *node.args.posonlyargs,
                *node.args.args,
                *node.args.kwonlyargs,
                node.args.vararg,
                node.args.kwarg,
            ):
                if arg is not None:
                    arg.annotation = None
        elif isinstance(node, ast.AnnAssign):
            node.annotation = ast.Constant(None)
    stripped = ast.unparse(tree)
    table = symtable.symtable(stripped, "<export>", "exec")
    found: list[str] = []

    def visit(scope: symtable.SymbolTable, top: bool) -> None:
        for symbol in scope.get_symbols():
            name = symbol.get_name()
            if name in found:
                continue
            if (
                top
                and symbol.is_referenced()
                and not symbol.is_assigned()
                and not symbol.is_imported()
            ):
                found.append(name)
            elif not top and symbol.is_global() and not symbol.is_declared_global():
                found.append(name)
        for child in scope.get_children():
            visit(child, False)

    visit(table, True)
    order = {n: i for i, n in enumerate(_names_in_order(stripped))}
    return sorted(found, key=lambda n: order.get(n, len(order)))


def _names_in_order(source: str) -> list[str]:
    return [n.id for n in astwalk.walk(ast.parse(source)) if isinstance(n, ast.Name)]


def _function_source(fn: types.FunctionType) -> tuple[str, dict[str, Any]]:
    """``fn``'s source, dedented, without the relative imports inside it (``from
    ..runtime import AdjointList``); the objects they import are returned by name, to
    be defined at the exported module's top level instead."""
    source = textwrap.dedent(inspect.getsource(fn))
    tree = ast.parse(source)
    drop: set[int] = set()
    imported: dict[str, Any] = {}
    module = sys.modules[fn.__module__]
    package = fn.__module__ if hasattr(module, "__path__") else fn.__module__.rpartition(".")[0]
    for node in astwalk.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            assert node.end_lineno is not None  # (parsed: it has its position)
            drop.update(range(node.lineno, node.end_lineno + 1))
            target = importlib.import_module(
                importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            )
            for alias in node.names:
                imported[alias.asname or alias.name] = getattr(target, alias.name)
    if drop:
        lines = source.splitlines(keepends=True)
        source = "".join(line for i, line in enumerate(lines, 1) if i not in drop)
    return _without_annotations(source), imported


def _has_source(obj: Any) -> bool:
    try:
        inspect.getsource(obj)
    except (OSError, TypeError):
        return False
    return True


def _is_library(obj: Any) -> bool:
    module = getattr(obj, "__module__", "") or ""
    return module.split(".")[0] in {"numpy", "builtins", "math", "typing", "collections"}


def _literal(value: Any) -> str | None:
    """Source text that evaluates to ``value`` (numbers, strings, builtin classes, tuples
    of them, small arrays), or None."""
    if value is None or isinstance(value, bool | int | float | complex | str | bytes):
        text = repr(value)
        if isinstance(value, float) and not np.isfinite(value):
            return f"float({str(value)!r})"
        return text
    if isinstance(value, type) and getattr(builtins, name := value.__name__, None) is value:
        return name  # a builtin class (float, int)
    if isinstance(value, type) and issubclass(value, np.generic) and getattr(np, name) is value:
        return f"np.{name}"  # a numpy scalar class (np.float64)
    if isinstance(value, np.generic) and isinstance(value.item(), bool | int | float | complex):
        return f"np.{type(value).__name__}({_literal(value.item())})"
    if isinstance(value, tuple | list):
        items = [_literal(v) for v in value]
        texts = [i for i in items if i is not None]
        if len(texts) != len(items):
            return None
        inner = ", ".join(texts)
        if isinstance(value, tuple):
            return f"({inner},)" if len(items) == 1 else f"({inner})"
        return f"[{inner}]"
    if (
        isinstance(value, np.ndarray)
        and value.size <= MAX_LITERAL_ITEMS
        and value.dtype.kind in "biufc"
    ):
        body = np.array2string(
            value,
            separator=", ",
            threshold=MAX_LITERAL_ITEMS + 1,
            floatmode="unique",
            max_line_width=88,
        )
        body = body.replace("nan", "np.nan").replace("inf", "np.inf")
        return f"np.array({body}, dtype=np.{value.dtype.name})"
    return None


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, types.FunctionType) and isinstance(b, types.FunctionType):
        cells_a = [c.cell_contents for c in a.__closure__ or ()]
        cells_b = [c.cell_contents for c in b.__closure__ or ()]
        return a.__code__ is b.__code__ and cells_a == cells_b
    try:
        return type(a) is type(b) and _literal(a) is not None and _literal(a) == _literal(b)
    except Exception:  # pragma: no cover
        return False


def _import_module(name: str, module: types.ModuleType) -> str:
    full = module.__name__
    if full == name:
        return f"import {full}"
    if "." in full and full.rsplit(".", 1)[1] == name:
        parent, leaf = full.rsplit(".", 1)
        return f"from {parent} import {leaf}"
    return f"import {full} as {name}"


def _from_import(module: str, attr: str, name: str) -> str:
    return f"from {module} import {attr}" + (f" as {name}" if attr != name else "")


def _library_import(name: str, value: Any, skip: tuple = ()) -> str | None:
    """``from math import exp``-style line for a function of a library (not of the
    user's own module, named in ``skip``)."""
    candidates = []
    module_name = getattr(value, "__module__", None)
    if isinstance(module_name, str):
        candidates.append(module_name)
    candidates += [m for m in _LIBRARY_MODULES if m not in candidates]
    for module_name in candidates:
        if (
            module_name.split(".")[0] == _PACKAGE
            or module_name == "__main__"
            or module_name in skip
            or module_name.startswith("srcad_cli_")
        ):
            continue
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for attr in (name, getattr(value, "__name__", None)):
            if isinstance(attr, str) and getattr(module, attr, _MISSING) is value:
                public = (
                    "numpy"
                    if module_name.startswith("numpy") and getattr(np, attr, None) is value
                    else module_name
                )
                return _from_import(public, attr, name)
    return None


def _defining_home(home: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    """The globals of the module of srcad's that assigns ``name`` (``value``): ``home``
    itself, or the one ``home`` imported it from."""
    if _defining_statement(home, name) is not None:
        return home
    for module_name, module in list(sys.modules.items()):
        if (
            module_name.startswith(_PACKAGE + ".") and module is not None
            and getattr(module, name, _MISSING) is value
            and _defining_statement(vars(module), name) is not None
        ):
            return vars(module)
    return home


def _defining_statement(home: dict[str, Any], name: str) -> str | None:
    """The top-level statement of ``home``'s module that assigns ``name`` (a constant)."""
    module = sys.modules.get(home.get("__name__", ""))
    if module is None:
        return None
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return None
    tree = ast.parse(source)
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign) and node.value is not None
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return ast.get_source_segment(source, node)
    return None


def _user_line() -> Any:
    from .load import user_line

    return user_line


def _error_stub(name: str, cls: type) -> str:
    return (
        f"class {name}(ValueError):\n"
        f'    """Stands in for srcad.{cls.__name__} (this module does not import srcad)."""\n'
        "\n"
        '    def __init__(self, message, hint="", location=None):\n'
        '        text = f"{location}: {message}" if location else message\n'
        '        super().__init__(f"{text} — {hint}" if hint else text)\n'
    )


def _portable(error: Exception) -> str:
    """An error's text with its file named by its base name (the exported module names
    no path of the machine that wrote it)."""
    text = str(error)
    filename = getattr(error, "filename", None)
    if isinstance(filename, str) and filename:
        text = text.replace(filename, os.path.basename(filename))
    return _PATH.sub(lambda found: os.path.basename(found.group(0)), text)


#: an absolute path of a Python file in an error's text (a builtin error has no filename)
_PATH = re.compile(r"(?:[A-Za-z]:)?[\\/][^\s:]*[\\/][^\s:\\/]+\.py")
