"""Errors srcad raises: each one points at the user's code and says what to do instead."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from types import TracebackType


@dataclass(frozen=True)
class Location:
    """A place in the user's source: file, 1-based line, 0-based column."""

    filename: str
    lineno: int
    col_offset: int = 0

    def __str__(self) -> str:
        cell = notebook_cell(self.filename)
        if cell is not None:
            return f"{cell}, line {self.lineno}, column {self.col_offset}"
        return f"{self.filename}:{self.lineno}:{self.col_offset}"


def notebook_cell(filename: str) -> str | None:
    """IPython's name of the cell compiled as ``filename`` ("Cell In[8]"), the way its
    tracebacks name it, or None outside IPython or for a real file."""
    if "IPython" not in sys.modules:
        return None
    shell = sys.modules["IPython"].get_ipython()
    name_cell = getattr(getattr(shell, "compile", None), "format_code_name", None)
    named = name_cell(filename) if name_cell is not None else None
    return " ".join(named) if named else None


UNKNOWN_LOCATION = Location("<unknown>", 0, 0)


class SrcadError(Exception):
    """Base class of srcad's errors.

    ``str(e)`` reads ``file:line:col: what is wrong — what to write instead``; when a
    function has several problems, each further one follows on its own line.
    """

    #: on an error reported at the user's call into another file (see
    #: :func:`srcad.diagnostics.at_call_site`): the innermost reason, and where it is
    reason: tuple[str, str]

    def __init__(
        self,
        message: str,
        hint: str = "",
        location: Location | None = None,
        *,
        others: tuple[SrcadError, ...] = (),
    ) -> None:
        self.message = message
        self.hint = hint
        self.location = location or UNKNOWN_LOCATION
        self.others = tuple(others)
        super().__init__(self._render())

    @property
    def filename(self) -> str:
        return self.location.filename

    @property
    def lineno(self) -> int:
        return self.location.lineno

    @property
    def col_offset(self) -> int:
        return self.location.col_offset

    @property
    def problems(self) -> tuple[SrcadError, ...]:
        """This error and the others reported with it, in source order."""
        return (self, *self.others)

    def one_line(self) -> str:
        text = f"{self.location}: {self.message}"
        return f"{text} — {self.hint}" if self.hint else text

    def _render(self) -> str:
        return "\n".join(problem.one_line() for problem in self.problems)

    def _render_traceback_(self) -> list[str]:
        """IPython's traceback of this error without srcad's own frames (IPython calls
        this hook; ``SRCAD_TRACEBACK=full`` keeps them)."""
        shell = sys.modules["IPython"].get_ipython()
        traceback = self.__traceback__
        if os.environ.get("SRCAD_TRACEBACK") != "full":
            traceback = without_srcad_frames(traceback)
        return shell.InteractiveTB.structured_traceback(type(self), self, traceback)

    def __reduce__(self):  # keep errors picklable (multiprocessing, pytest-xdist)
        return (_rebuild, (type(self), self.message, self.hint, self.location, self.others))


#: srcad's own folder, with a separator at its end: the files of its modules start so
PACKAGE_FOLDER = os.path.dirname(os.path.abspath(__file__)) + os.sep


def without_srcad_frames(traceback: TracebackType | None) -> TracebackType | None:
    """``traceback`` with the frames of srcad's own modules left out."""
    kept = []
    while traceback is not None:
        if not traceback.tb_frame.f_code.co_filename.startswith(PACKAGE_FOLDER):
            kept.append(traceback)
        traceback = traceback.tb_next
    rebuilt = None
    for entry in reversed(kept):
        rebuilt = TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return rebuilt


def _rebuild(cls, message, hint, location, others):
    return cls(message, hint, location, others=others)


class SourceError(SrcadError):
    """The function's source cannot be read (lambda, builtin, no file)."""


class UnsupportedSyntaxError(SrcadError):
    """The function uses Python that srcad does not differentiate (yet)."""


class NoRuleError(SrcadError):
    """A call to a function that has neither a derivative rule nor readable source."""


class NonScalarOutputError(SrcadError):
    """``grad`` of a function whose result is not a scalar."""


class WrtError(SrcadError):
    """``wrt`` names a parameter the function does not have."""


def raise_all(problems: list[SrcadError]) -> None:
    """Raise the first problem, carrying the others, if there are any."""
    if problems:
        ordered = sorted(problems, key=lambda p: (p.lineno, p.col_offset))
        first = ordered[0]
        rest = [problem for later in ordered[1:] for problem in later.problems]
        raise type(first)(
            first.message, first.hint, first.location, others=(*first.others, *rest)
        )


class CompiledBackendError(SrcadError):
    """``backend="numba"``: numba is missing, or cannot compile the gradient of a line."""
