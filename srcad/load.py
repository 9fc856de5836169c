"""Load: compile generated source into a real function that reads the user's globals.

The generated function is compiled inside a small factory whose parameters are the
free names srcad binds (rule helpers, the user's closure variables), so that they
become closure cells: the user's own cells stay live, the function's globals are the
user's module (a global changed later is seen), and no name is added to that module.
The source is registered in :mod:`linecache`, so tracebacks and ``inspect`` show it.
"""

from __future__ import annotations

import itertools
import linecache
import sys
import types
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import PACKAGE_FOLDER, UNKNOWN_LOCATION, Location

_counter = itertools.count(1)
#: For each generated function's file name: its line numbers -> the user's lines.
_ORIGINS: dict[str, Mapping[int, Location]] = {}


@dataclass(frozen=True)
class Compiled:
    """A compiled gradient, independent of any one closure instance of the user's code."""

    code: types.CodeType
    source: str  # the generated function's own source (what the user reads)
    filename: str
    firstlineno: int
    bindings: Mapping[str, Any]

    def bind(
        self,
        user_function: types.FunctionType,
        free_cells: Mapping[str, Any],
        overrides: Mapping[str, Any] | None = None,
    ) -> types.FunctionType:
        """A callable gradient reading ``user_function``'s globals and closure cells
        (``overrides`` replaces some bindings, e.g. the array version of a gradient)."""
        cells = []
        itself = None  # (the function reads its own name: its fallback, see srcad.ir.ITSELF)
        for name in self.code.co_freevars:
            if name == self.code.co_name:
                itself = types.CellType()
                cells.append(itself)
            elif name in free_cells:
                cells.append(free_cells[name])
            elif overrides and name in overrides:
                cells.append(types.CellType(overrides[name]))
            else:
                cells.append(types.CellType(self.bindings[name]))
        generated = types.FunctionType(
            self.code,
            user_function.__globals__,
            self.code.co_name,
            user_function.__defaults__,
            tuple(cells),
        )
        generated.__kwdefaults__ = user_function.__kwdefaults__  # (the same dict: f's)
        generated.__qualname__ = self.code.co_name
        if itself is not None:
            itself.cell_contents = generated
        return generated


def compile_function(
    source: str,
    name: str,
    bindings: Mapping[str, Any],
    free_cell_names: tuple[str, ...],
    origin: str,
    annotated: str | None = None,
    origins: Mapping[int, Location] | None = None,
) -> Compiled:
    """Compile the ``def`` in ``source``; ``origin`` names the user's function in the file
    name. ``annotated`` (the same code with more comments) is what tracebacks show."""
    free = sorted(set(bindings) | set(free_cell_names))
    shown = annotated or source
    indented = "".join(
        "    " + line if line.strip() else line for line in shown.splitlines(keepends=True)
    )
    factory = f"def __srcad_factory__({', '.join(free)}):\n{indented}    return {name}\n"
    filename = f"<srcad {name} of {origin} #{next(_counter)}>"
    with warnings.catch_warnings():  # (`x is 1` from an inlined check: our code, not theirs)
        warnings.simplefilter("ignore", SyntaxWarning)
        module_code = compile(factory, filename, "exec")
    factory_code = next(c for c in module_code.co_consts if isinstance(c, types.CodeType))
    code = next(
        c for c in factory_code.co_consts if isinstance(c, types.CodeType) and c.co_name == name
    )
    lines = factory.splitlines(keepends=True)
    linecache.cache[filename] = (len(factory), None, lines, filename)
    _ORIGINS[filename] = {number + 1: loc for number, loc in (origins or {}).items()}
    return Compiled(code, source, filename, code.co_firstlineno, dict(bindings))


def defined(source: str, filename: str, namespace: dict[str, Any], name: str) -> Any:
    """Run ``source`` (srcad's own small ``def``) in ``namespace`` and return ``name``
    from it; the source is kept in :mod:`linecache` under ``filename``, so that
    ``inspect`` can read it (srcad differentiates such functions) and tracebacks show it."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own source
    return namespace[name]


def origin(filename: str, lineno: int) -> Location | None:
    """The user's line that line ``lineno`` of generated code ``filename`` comes from."""
    return _ORIGINS.get(filename, {}).get(lineno)


def user_line(depth: int = 2) -> Location:
    """The user's line that the generated code running ``depth`` frames up comes from
    (for errors raised at run time by helpers that generated code calls)."""
    frame: types.FrameType | None = sys._getframe(depth)
    while frame is not None:
        where = _ORIGINS.get(frame.f_code.co_filename)
        if where is not None:
            return where.get(frame.f_lineno, UNKNOWN_LOCATION)
        frame = frame.f_back
    return UNKNOWN_LOCATION


def failing_helper_line(error: BaseException) -> Location | None:
    """The user's line whose derivative code raised ``error``: a line of a backward pass,
    or a srcad helper that generated code called; None where ``error`` was raised by the
    user's own operations, which the forward pass runs as the function does."""
    where = None
    frames = error.__traceback__
    while frames is not None:
        filename = frames.tb_frame.f_code.co_filename
        lines = _ORIGINS.get(filename)
        if lines is not None:
            where = lines.get(frames.tb_lineno)
            if where is not None and _in_backward_pass(filename, frames.tb_lineno):
                return where
        elif where is not None and filename.startswith(PACKAGE_FOLDER):
            return where
        frames = frames.tb_next
    return None


def _in_backward_pass(filename: str, lineno: int) -> bool:
    """Whether line ``lineno`` of generated code follows its ``# backward pass`` comment
    (rather than its ``# forward pass`` one)."""
    for line in reversed(linecache.getlines(filename)[:lineno]):
        if line.strip() in ("# backward pass", "# forward pass"):
            return line.strip() == "# backward pass"
    return False
