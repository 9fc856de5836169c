"""Command line: ``python -m srcad show FILE:FUNC`` and ``python -m srcad check FILE:FUNC``."""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .api import check_grad, grad
from .errors import SrcadError


class UsageError(Exception):
    """A mistake on the command line (exit code 2)."""


def load_target(target: str) -> tuple[Any, Any]:
    """Import ``FILE:FUNC`` by path; return (module, function)."""
    if ":" not in target:
        raise UsageError(f"expected FILE:FUNC, got {target!r}")
    path_text, func_name = target.rsplit(":", 1)
    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"no such file: {path_text}")
    module_name = f"srcad_cli_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(path.parent.resolve()))
    spec.loader.exec_module(module)
    function = getattr(module, func_name, None)
    if function is None:
        raise UsageError(f"{path_text} has no function {func_name!r}")
    return module, function


def default_point(module: Any, function: Any, at: str | None) -> tuple[Any, ...]:
    """``--at``, else the module's ``DEFAULT_POINT[name]``, else 0.5 for every parameter."""
    if at:
        try:
            return tuple(float(v) for v in at.split(","))
        except ValueError:
            raise UsageError(f"--at takes numbers separated by commas, got {at!r}") from None
    points = getattr(module, "DEFAULT_POINT", {})
    if isinstance(points, dict) and function.__name__ in points:
        return tuple(points[function.__name__])
    params = [p for p in inspect.signature(function).parameters.values()
              if p.default is inspect.Parameter.empty]
    return tuple(0.5 for _ in params)


def _wrt(text: str | None):
    return tuple(text.split(",")) if text else None


def _show(args: argparse.Namespace) -> None:
    module, function = load_target(args.target)
    gradient = grad(function, wrt=_wrt(args.wrt))
    if not args.backward:
        print("# forward listing")
        print(gradient.forward_source)
    if not args.forward:
        print("# generated gradient")
        print(gradient.backward_source)
    if not (args.forward or args.backward):
        _report(function, gradient, default_point(module, function, args.at), args.wrt)


def _check(args: argparse.Namespace) -> None:
    module, function = load_target(args.target)
    gradient = grad(function, wrt=_wrt(args.wrt))
    _report(function, gradient, default_point(module, function, args.at), args.wrt)


def _report(function: Any, gradient: Any, point: tuple[Any, ...], wrt: str | None) -> None:
    values = gradient(*point)
    names = gradient.__srcad__.wrt
    values = values if len(names) > 1 else (values,)
    print(f"# gradient at {function.__name__}{point}")
    for name, value in zip(names, values):
        print(f"d{function.__name__}/d{name} = {value!r}")
    error = check_grad(function, *point, wrt=_wrt(wrt))
    print(f"# matches central differences (max abs error {error:.2e})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="srcad", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("show", help="print the forward listing, the generated "
                               "gradient, and the gradient at a point")
    check = commands.add_parser("check", help="compare the gradient with central differences")
    for sub in (show, check):
        sub.add_argument("target", help="FILE:FUNC")
        sub.add_argument("--wrt", help="parameters to differentiate, e.g. x,y")
        sub.add_argument("--at", help="the point, e.g. 3.0,-4.0")
    show.add_argument("--forward", action="store_true", help="only the forward listing")
    show.add_argument("--backward", action="store_true", help="only the generated gradient")
    args = parser.parse_args(argv)
    try:
        {"show": _show, "check": _check}[args.command](args)
    except (UsageError, SrcadError) as exc:
        print(f"srcad: {exc}", file=sys.stderr)
        return 2
    except AssertionError as exc:
        print(f"srcad: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
