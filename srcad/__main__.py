"""Command line: ``srcad show``, ``srcad check`` and ``srcad export`` for FILE:FUNC.

    srcad show FILE:FUNC [--wrt x,y] [--forward|--backward] [--at 3.0,-4.0]
    srcad check FILE:FUNC [--wrt x,y] [--at "[1.0, 2.0], 0.5" | --at point.npz]
    srcad export FILE:FUNC [--wrt x,y] -o grad_f.py
    srcad --version

``--wrt`` takes names or positions (``--wrt 0``); by default ``show`` and ``export``
differentiate with respect to the first parameter (as ``srcad.grad``), and ``check``
checks every parameter given floats (as ``srcad.check_grad``). ``--at`` takes Python
literals and ``.npy``/``.npz`` files; a point that is not finite is a usage error.

(``python -m srcad ...`` is the same.) Mistakes on the command line or in the file
are reported on one line (srcad's located error text for unsupported code), exit
code 2; a gradient that disagrees with central differences exits with 1.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import inspect
import io
import keyword
import os
import sys
import tokenize
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from . import __version__
from .api import grad
from .check import compare, float_parameters, numeric_grad
from .errors import SrcadError


class UsageError(Exception):
    """A mistake on the command line or in the user's file (exit code 2)."""


# ---------------------------------------------------------------- loading FILE:FUNC


def load_target(target: str) -> tuple[Any, Any]:
    """Import ``FILE:FUNC`` by path; return (module, function)."""
    if ":" not in target:
        raise UsageError(f"expected FILE:FUNC (e.g. examples/sigmoid_gate.py:f), got {target!r}")
    path_text, func_name = target.rsplit(":", 1)
    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"no such file: {path_text}")
    if not func_name.isidentifier():
        raise UsageError(f"expected FILE:FUNC with FUNC a function name, got {func_name!r}")
    module_name = f"srcad_cli_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import {path_text}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(path.parent.resolve()))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        where = f"{exc.filename or path_text}:{exc.lineno}:{(exc.offset or 1) - 1}"
        raise UsageError(f"{where}: cannot import {path_text}: {exc.msg}") from None
    except SystemExit as exc:
        raise UsageError(f"importing {path_text} called sys.exit({exc.code!r})") from None
    except Exception as exc:
        raise UsageError(f"importing {path_text} raised {_describe(exc)}") from None
    function = getattr(module, func_name, None)
    if function is None:
        names = sorted(
            n
            for n, v in vars(module).items()
            if inspect.isfunction(v) and v.__module__ == module_name and not n.startswith("_")
        )
        raise UsageError(
            f"{path_text} has no function {func_name!r}"
            + (f" (it has {', '.join(names)})" if names else "")
        )
    if not callable(function):
        raise UsageError(f"{path_text}:{func_name} is a {type(function).__name__}, not a function")
    return module, function


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _parameters(function: Any) -> list[inspect.Parameter]:
    try:
        return list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return []


def default_point(module: Any, function: Any, at: str | None) -> tuple[Any, ...]:
    """``--at``, else the module's ``DEFAULT_POINT[name]``, else 0.5 for every parameter.

    Raises :class:`UsageError` for a point with the wrong number of values or with a
    value that is not finite (no gradient is checked at NaN or infinity)."""
    parameters = _parameters(function)
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    if at:
        point = parse_point(at, positional)
        if not len(required) <= len(point) <= len(positional):
            wanted = (
                str(len(required))
                if len(required) == len(positional)
                else f"{len(required)} to {len(positional)}"
            )
            raise UsageError(
                f"--at gives {len(point)} value(s), but {function.__name__} "
                f"takes {wanted} ({', '.join(p.name for p in positional)})"
            )
        where = "--at"
    else:
        points = getattr(module, "DEFAULT_POINT", {})
        if isinstance(points, dict) and function.__name__ in points:
            point = tuple(points[function.__name__])
            where = f"DEFAULT_POINT[{function.__name__!r}]"
        else:
            point = tuple(0.5 for _ in required)
            where = "the default point"
    for parameter, value in zip(positional, point):
        if not _finite(value):
            raise UsageError(
                f"{where} gives {parameter.name} a value that is not finite "
                f"({format_value(value).replace(chr(10), '')}): gradients are checked at "
                "finite points only"
            )
    return point


def parse_point(text: str, positional: Sequence[inspect.Parameter]) -> tuple[Any, ...]:
    """The values ``--at`` gives, in order: Python literals separated by commas
    (``3.0,-4.0``, ``[1.0, 2.0],0.5``, ``{'w': [1, 2]}``) and ``.npy`` files, or one
    ``.npz`` file (arrays named after parameters, or ``arr_0``, ``arr_1``... in order).

    Numbers become floats and lists float arrays (a parameter whose default is an int
    keeps an int): integer arrays, such as labels, come from ``.npy``/``.npz`` files."""
    items = _split_top_level(text)
    if len(items) == 1 and items[0].endswith(".npz"):
        return _npz_point(items[0], positional)
    values = []
    for item, parameter in zip(items, [*positional, *[None] * len(items)]):
        if item.endswith(".npy"):
            values.append(_load_array(item))
            continue
        try:
            value = ast.literal_eval(item)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise UsageError(
                f"--at takes numbers or Python literals separated by commas (e.g. 3.0,-4.0 or "
                f"'[1.0, 2.0], 0.5'), or .npy/.npz files; cannot read {item!r}"
            ) from None
        keep_int = parameter is not None and type(parameter.default) is int
        values.append(_as_point_value(value, keep_int))
    return tuple(values)


def _split_top_level(text: str) -> list[str]:
    """``text`` split at the commas outside brackets and quotes."""
    items, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(text[start:i].strip())
            start = i + 1
    items.append(text[start:].strip())
    return [item for item in items if item]


def _as_point_value(value: Any, keep_int: bool = False) -> Any:
    """A literal from ``--at`` as srcad's functions take it: floats, float arrays."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not keep_int:
        return float(value)
    if isinstance(value, list):
        try:
            return np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise UsageError(f"--at: {value!r} is not a list of numbers") from None
    if isinstance(value, tuple):
        return tuple(_as_point_value(item) for item in value)
    if isinstance(value, dict):
        return {key: _as_point_value(item) for key, item in value.items()}
    return value


def _load_array(path: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--at: cannot read {path}: {_describe(exc)}") from None


def _npz_point(path: str, positional: Sequence[inspect.Parameter]) -> tuple[Any, ...]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError) as exc:
        raise UsageError(f"--at: cannot read {path}: {_describe(exc)}") from None
    names = [p.name for p in positional]
    by_position = {f"arr_{k}": name for k, name in enumerate(names)}
    named = {by_position.get(key, key): value for key, value in arrays.items()}
    unknown = sorted(set(named) - set(names))
    if unknown:
        raise UsageError(
            f"--at: {path} has arrays {', '.join(unknown)}, which are not parameters "
            f"(expected names among {', '.join(names)}, or arr_0, arr_1, ...)"
        )
    count = max((names.index(name) + 1 for name in named), default=0)
    missing = [name for name in names[:count] if name not in named]
    if missing:
        raise UsageError(f"--at: {path} has no array for {', '.join(missing)}")
    return tuple(named[name] for name in names[:count])


def _finite(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    if isinstance(value, np.ndarray) and not np.issubdtype(value.dtype, np.number):
        return True
    if isinstance(value, int | float | complex | np.number | np.ndarray):
        return bool(np.all(np.isfinite(value)))
    return True


def _wrt(text: str | None) -> tuple[str | int, ...] | None:
    """``--wrt x,y`` or ``--wrt 0,1`` (positions, as in ``srcad.grad(f, wrt=(0, 1))``)."""
    if not text:
        return None
    items = [w.strip() for w in text.split(",") if w.strip()]
    return tuple(int(w) if w.lstrip("-").isdigit() else w for w in items)


# ---------------------------------------------------------------- printing


#: ANSI colours for the listings (only on a terminal, and never when NO_COLOR is set).
COLOURS = {
    "keyword": "\033[1;35m",
    "comment": "\033[2;32m",
    "number": "\033[36m",
    "string": "\033[33m",
}
RESET = "\033[0m"


def use_colour(choice: str, stream: TextIO) -> bool:
    """``--color auto`` colours a terminal unless the NO_COLOR variable is set (no-color.org)."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def highlight(source: str) -> str:
    """``source`` with ANSI colours on keywords, comments, numbers and strings."""
    lines = source.splitlines(keepends=True)
    spans: list[tuple[int, int, int, str]] = []  # (row, start col, end col, colour)
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            kind = None
            if token.type == tokenize.NAME and (
                keyword.iskeyword(token.string) or token.string in ("True", "False", "None")
            ):
                kind = "keyword"
            elif token.type == tokenize.COMMENT:
                kind = "comment"
            elif token.type == tokenize.NUMBER:
                kind = "number"
            elif token.type == tokenize.STRING:
                kind = "string"
            if kind and token.start[0] == token.end[0]:
                spans.append((token.start[0], token.start[1], token.end[1], COLOURS[kind]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source
    for row, start, end, colour in sorted(spans, reverse=True):
        line = lines[row - 1]
        lines[row - 1] = line[:start] + colour + line[start:end] + RESET + line[end:]
    return "".join(lines)


def format_value(value: Any) -> str:
    """A number as Python prints a float (``2.0595...``, not ``np.float64(2.05...)``);
    arrays as numpy prints them."""
    if isinstance(value, np.ndarray):
        return np.array2string(value, separator=", ", prefix="")
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, list | tuple):
        inner = ", ".join(format_value(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    return repr(value)


def format_point(point: Sequence[Any]) -> str:
    parts = []
    for value in point:
        if isinstance(value, np.ndarray) and value.size > 6:
            parts.append(f"<array {value.shape}>")
        else:
            parts.append(format_value(value).replace("\n", ""))
    return ", ".join(parts)


def _print_listing(title: str, source: str, colour: bool) -> None:
    print(highlight(f"# {title}") if colour else f"# {title}")
    print(highlight(source) if colour else source)


# ---------------------------------------------------------------- commands


def _gradient(function: Any, wrt: str | None, point: tuple[Any, ...] | None = None) -> Any:
    """``srcad.grad(function, wrt=...)``; with a ``point`` and no ``--wrt`` (``check``),
    with respect to every parameter given floats there, as ``srcad.check_grad`` does."""
    names = _wrt(wrt)
    if names is None and point is not None:
        names = float_parameters(inspect.signature(function).bind_partial(*point))
        if not names:
            raise UsageError(
                f"every value at ({format_point(point)}) is an integer: "
                "nothing to differentiate (name the parameters with --wrt)"
            )
    return grad(function, wrt=names)


def _evaluate(function: Any, gradient: Any, point: tuple[Any, ...]) -> tuple[Any, ...]:
    try:
        values = gradient(*point)
    except SrcadError:
        raise
    except Exception as exc:
        raise UsageError(
            f"the gradient of {function.__name__} at ({format_point(point)}) "
            f"raised {_describe(exc)}"
        ) from None
    return values if len(gradient.__srcad__.wrt) > 1 else (values,)


def _show(args: argparse.Namespace) -> int:
    module, function = load_target(args.target)
    only_listings = args.forward or args.backward
    point = None if only_listings else default_point(module, function, args.at)
    gradient = _gradient(function, args.wrt)
    colour = use_colour(args.color, sys.stdout)
    if not args.backward:
        _print_listing("forward listing", gradient.forward_source, colour)
    if not args.forward:
        _print_listing("generated gradient", gradient.__srcad__.listing(args.verbose), colour)
    if point is None:
        return 0
    values = _evaluate(function, gradient, point)
    print(f"# gradient at {function.__name__}({format_point(point)})")
    for name, value in zip(gradient.__srcad__.wrt, values, strict=True):
        text = format_value(value)
        separator = "\n" if "\n" in text else " "
        print(f"d{function.__name__}/d{name} ={separator}{text}")
    rows, failed = _check_rows(function, gradient, point, values)
    worst = max((row[3] for row in rows), default=0.0)
    verdict = "matches" if not failed else "DIFFERS FROM"
    print(f"# {verdict} central differences (max abs error {worst:.2e})")
    return 1 if failed else 0


def _check_rows(
    function: Any,
    gradient: Any,
    point: tuple[Any, ...],
    values: tuple[Any, ...],
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
) -> tuple[list[tuple[str, Any, Any, float, str]], bool]:
    positional = [p.name for p in _parameters(function)]
    rows, failed = [], False
    for name, ours in zip(gradient.__srcad__.wrt, values, strict=True):
        if name not in positional[: len(point)]:
            continue  # a keyword-only parameter: not checked numerically
        try:
            theirs = numeric_grad(function, point, positional.index(name), eps)
        except Exception as exc:
            raise UsageError(
                f"{function.__name__} at ({format_point(point)}) raised {_describe(exc)}"
            ) from None
        error, bad = compare(ours, theirs, point[positional.index(name)], rtol, atol)
        failed = failed or bad
        rows.append((name, ours, theirs, error, "FAIL" if bad else "ok"))
    return rows, failed


def _cell(value: Any) -> str:
    if isinstance(value, list | tuple | dict):
        return f"{type(value).__name__} of {len(value)}"
    if isinstance(value, np.ndarray) and value.size != 1:
        return f"array{value.shape}"
    return f"{float(np.asarray(value).ravel()[0] if isinstance(value, np.ndarray) else value):.12g}"


def _check(args: argparse.Namespace) -> int:
    module, function = load_target(args.target)
    point = default_point(module, function, args.at)
    gradient = _gradient(function, args.wrt, point)
    values = _evaluate(function, gradient, point)
    rows, failed = _check_rows(function, gradient, point, values, args.eps, args.rtol, args.atol)
    print(
        f"# {function.__name__}({format_point(point)}): srcad's gradient vs central "
        f"differences (eps={args.eps}, rtol={args.rtol}, atol={args.atol})"
    )
    print(f"{'param':>10}  {'srcad':>20}  {'numeric':>20}  {'abs error':>10}  status")
    for name, ours, theirs, error, status in rows:
        print(f"{name:>10}  {_cell(ours):>20}  {_cell(theirs):>20}  {error:>10.3g}  {status}")
    print(
        "# FAIL: the gradient differs from central differences"
        if failed
        else "# ok: the gradient matches central differences"
    )
    return 1 if failed else 0


def _export(args: argparse.Namespace) -> int:
    from .api import export

    module, function = load_target(args.target)
    output = args.output or f"grad_{function.__name__}.py"
    # the exported file imports values it cannot copy from the user's module by its
    # file name (put the file next to it, or the folder on the path)
    module_name = Path(args.target.rsplit(":", 1)[0]).stem
    text = export(function, None, wrt=_wrt(args.wrt), module=module_name)
    try:
        Path(output).write_text(text)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    print(f"wrote {output}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="srcad",
        description="Source-transformation automatic differentiation: print, "
        "check or export the gradient srcad generates for a function in a file.",
    )
    parser.add_argument("--version", action="version", version=f"srcad {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    show = commands.add_parser(
        "show",
        help="print the forward listing, the generated gradient, and the gradient at a point",
    )
    check = commands.add_parser("check", help="compare the gradient with central differences")
    export = commands.add_parser(
        "export",
        help="write the generated gradient as a standalone module that does not need srcad",
    )
    defaults = {
        show: "the first parameter, as srcad.grad",
        check: "every parameter given floats, as srcad.check_grad",
        export: "the first parameter, as srcad.grad",
    }
    for sub, default in defaults.items():
        sub.add_argument("target", metavar="FILE:FUNC", help="e.g. examples/sigmoid_gate.py:f")
        sub.add_argument(
            "--wrt",
            help=f"parameters to differentiate, by name or position, e.g. x,y or 0,1 "
            f"(default: {default})",
        )
    for sub in (show, check):
        sub.add_argument(
            "--at",
            help="the point: Python literals separated by commas, e.g. 3.0,-4.0 or "
            "'[1.0, 2.0], 0.5', and .npy files, or one .npz file with an array per "
            "parameter (default: the file's DEFAULT_POINT[FUNC], else 0.5 for every "
            "parameter). Numbers are floats; integer arrays come from .npy/.npz files",
        )
    which = show.add_mutually_exclusive_group()
    which.add_argument("--forward", action="store_true", help="only the forward listing")
    which.add_argument("--backward", action="store_true", help="only the generated gradient")
    show.add_argument(
        "--verbose",
        action="store_true",
        help="every version of the gradient with every line (default: the function called "
        "first, without bookkeeping lines)",
    )
    show.add_argument(
        "--color",
        "--colour",
        choices=("auto", "always", "never"),
        default="auto",
        help="syntax colours: auto (on a terminal, unless NO_COLOR is set), always or never",
    )
    check.add_argument("--eps", type=float, default=1e-6, help="central-difference step")
    check.add_argument("--rtol", type=float, default=1e-5)
    check.add_argument("--atol", type=float, default=1e-8)
    export.add_argument("-o", "--output", help="the file to write (default: grad_FUNC.py)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"show": _show, "check": _check, "export": _export}[args.command](args)
    except SrcadError as exc:
        what = "export" if type(exc).__name__ == "ExportError" else "differentiate"
        print(f"srcad: cannot {what} {args.target}:\n{exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"srcad: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `srcad show ... | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
