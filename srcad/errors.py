"""Errors srcad raises: each one points at the user's code and says what to do instead."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in the user's source: file, 1-based line, 0-based column."""

    filename: str
    lineno: int
    col_offset: int = 0

    def __str__(self) -> str:
        return f"{self.filename}:{self.lineno}:{self.col_offset}"


UNKNOWN_LOCATION = Location("<unknown>", 0, 0)


class SrcadError(Exception):
    """Base class of srcad's errors.

    ``str(e)`` reads ``file:line:col: what is wrong — what to write instead``; when a
    function has several problems, each further one follows on its own line.
    """

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

    def __reduce__(self):  # keep errors picklable (multiprocessing, pytest-xdist)
        return (_rebuild, (type(self), self.message, self.hint, self.location, self.others))


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
