"""Inlining: the user's helpers (module functions, nested ``def``s, functions passed as
arguments) lowered from their source at each call."""

from __future__ import annotations

import ast
import functools
import inspect
import types
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from .. import astwalk, ir
from ..desugar import desugar
from ..diagnostics import at_call_site
from ..errors import Location, NoRuleError, SrcadError, raise_all
from ..frontend import FunctionSource, in_library, read_function
from ..specialize import Keywords, Sized, specialize
from ..stand_ins import read_instead
from ..subset import check_supported, returns_problems
from .made_objects import ending_in_return
from .values import (
    PASSED_DEF,
    RAISED,
    DefValue,
    LoweringPart,
    Operand,
    Scope,
    Static,
    TupleValue,
    assigned_names,
    returning,
)


class Inlining(LoweringPart):
    """The lowerer's part for inlining (see the module)."""

    def nested_function(self, scope: Scope, func: ast.expr):
        """The ``def`` a call refers to when it names a function nested in the code."""
        if not isinstance(func, ast.Name):
            return None
        current: Scope | None = scope
        while current is not None:
            if func.id in current.passed_defs:
                return current.passed_defs[func.id]
            if func.id in current.functions_by_path:
                raise self.error(
                    scope,
                    func,
                    f"`{func.id}` is defined differently on the paths of an `if`: srcad "
                    "inlines the function a call names when it compiles, and cannot tell "
                    "which definition runs",
                    f"give each definition a name of its own, and choose the call with the "
                    f"same test (`y = {func.id}_a(x) if ... else {func.id}_b(x)`)",
                )
            if func.id in current.local_functions:
                return current.local_functions[func.id], current
            if func.id in current.env:  # (a factory's function bound to a name)
                value = current.env[func.id]
                return (value.node, value.home) if isinstance(value, DefValue) else None
            current = current.parent
        return None

    def inline_nested(
        self,
        scope: Scope,
        call: ast.Call,
        node: ast.FunctionDef,
        home: Scope,
        target: Callable[[], str] | None,
    ) -> Any:
        """Inline a call to a ``def`` written inside the differentiated function."""
        self.check_recursion(scope, call, node, node.name)
        raise_all(returns_problems(home.source, node))  # (a procedure: see srcad.subset)
        values = self.bind_arguments(scope, call, node, None, None)
        # (the branches its constant arguments decide, cut: a recursion that counts down
        # a constant ends when srcad unrolls it, as a helper of the file does)
        node = specialize(node, self.known_arguments(values), home.source.lookup)[0]
        inner = Scope(
            home.source,
            env=dict(values.items()),  # (a copy whose keys may be any Variable)
            arguments=dict(values),
            local_names=frozenset(assigned_names(node)),
            node=desugar(node, shadowed=home.source.shadowed_builtins),
            parent=home,
            statics={
                **self.passed_modules(values, node), **self.passed_functions(scope, call, node)
            },
            passed_defs=self.passed_defs(scope, call, node),
        )
        where = (  # (a closure a helper made, from its file; a def of the function itself)
            f"line {node.lineno}" if home.source is self.root
            else f"{_short(home.source.filename)}:{node.lineno}"
        )
        self.emit(ir.Comment(f"inlined {node.name}() from {where}", header=True))
        return self.lower_inlined(inner, node, target)

    def known_arguments(self, values: dict[str, Any]) -> dict[str, Any]:
        """The arguments whose values srcad knows when it compiles (constants, the length
        of a tuple; an object bound for a default, such as np._NoValue, for `is` tests):
        the branches they decide are cut to the one taken (:func:`specialize`)."""
        return {
            name: value.value
            if isinstance(value, ir.Const)
            else Sized(len(value.items))
            if isinstance(value, TupleValue)
            else self.bindings[value.id]
            for name, value in values.items()
            if isinstance(value, ir.Const | TupleValue)
            or (isinstance(value, ir.Name) and value.id in self.bindings)
        }

    def passed_defs(
        self, scope: Scope, call: ast.Call, fn: ast.FunctionDef
    ) -> dict[str, tuple[ast.FunctionDef, Scope]]:
        """The parameters of ``fn`` that ``call`` binds to a ``def`` of the code (or a
        named lambda) and that ``fn`` never reassigns: calls of them are inlined."""
        found = {}
        for param, arg in _kept_arguments(call, fn):
            nested = self.nested_function(scope, arg)
            if nested is not None:
                found[param] = nested
        return found

    def passed_functions(
        self, scope: Scope, call: ast.Call, fn: ast.FunctionDef
    ) -> dict[str, Static]:
        """The parameters of ``fn`` that ``call`` binds to a function srcad knows when it
        compiles (a module's function, a numpy function) and that ``fn`` never reassigns:
        calls of them inside ``fn`` are calls of that function (inlined, or by its rule)."""
        statics: dict[str, Static] = {}
        for param, arg in _kept_arguments(call, fn):
            found = self.known_function(scope, arg)
            if found is not None:
                statics[param] = found
        return statics

    def passed_modules(self, values: dict[str, Any], fn: ast.FunctionDef) -> dict[str, Static]:
        """The parameters of ``fn`` bound to a module or a function (passed, or a default:
        ``def helper(x, xp=np)``, ``def mlp(x, W, act=np.tanh)``) that ``fn`` never
        reassigns: ``xp.sum(t)`` in ``fn`` is that module's function, not the method
        ``.sum`` of an object; ``act(z)`` is a call of that function (round 99: a default
        function was called as an unknown object)."""
        stored = _stored_names(fn)
        found: dict[str, Static] = {}
        for param, value in values.items():
            if not isinstance(param, str) or param in stored or not isinstance(value, ir.Name):
                continue
            obj = self.bindings.get(value.id, self.free_objects.get(value.id))
            if isinstance(obj, _STATICS):
                found[param] = Static(obj, value, returning(obj))
        return found

    def known_function(self, scope: Scope, node: ast.expr) -> Static | None:
        """The function ``node`` (a name or attributes of one) denotes when srcad compiles
        (a module's function, a numpy function, one passed in): how generated code names
        it and how to look it up again; None for anything else (classes too)."""
        denoted = self.denote(scope, node)
        if denoted.function is None:
            return None
        return Static(denoted.obj, self.reference(scope, self.raw(node)), denoted.lookup)

    def bind_arguments(
        self,
        scope: Scope,
        call: ast.Call,
        fn: ast.FunctionDef,
        callee: types.FunctionType | None,
        partial: functools.partial | None,
    ) -> dict[str, Any]:
        """The callee's parameters bound to the call's (lowered) arguments and defaults."""
        positional = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
        kwonly = [a.arg for a in fn.args.kwonlyargs]
        values: dict[str, Any] = {}
        if partial is not None:
            for param, arg in zip(positional, partial.args):
                values[param] = self.constant(arg)
            positional = positional[len(partial.args) :]
            for key, arg in partial.keywords.items():
                values[key] = self.constant(arg)
        arguments = self.spread(scope, call.args, self.positional_count(scope, call))
        if len(arguments) > len(positional) and fn.args.vararg is None:
            raise self.error(
                scope,
                call,
                f"{fn.name}() takes {len(positional)} positional "
                f"arguments but {len(arguments)} were given",
                "fix the call",
            )
        for param, arg in zip(positional, arguments):
            values[param] = self.argument(scope, arg)
        if fn.args.vararg is not None:  # *args: a tuple of the rest
            rest = arguments[len(positional) :]
            values[fn.args.vararg.arg] = TupleValue(
                tuple(self.lower_expr(scope, arg, None) for arg in rest)
            )
        extra: dict[str | None, ast.expr] = {}  # (None: a `**` spread, srcad.subset refuses)
        for keyword in call.keywords:
            if keyword.arg not in (*positional, *kwonly) and fn.args.kwarg is not None:
                extra[keyword.arg] = keyword.value  # **kwargs: a dict of the rest
                continue
            if keyword.arg not in (*positional, *kwonly) or (
                keyword.arg in values and partial is None
            ):
                raise self.error(
                    scope,
                    keyword,
                    f"{fn.name}() got an unexpected or repeated argument `{keyword.arg}`",
                    "fix the call",
                )
            values[keyword.arg] = self.argument(scope, keyword.value)
        if fn.args.kwarg is not None:
            display = ast.copy_location(
                ast.Dict([ast.Constant(k) for k in extra], list(extra.values())), call
            )
            values[fn.args.kwarg.arg] = self.dict_display(scope, display, None)
        if callee is not None:
            defaults = dict(
                zip(
                    reversed([a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]),
                    reversed(callee.__defaults__ or ()),
                )
            )
            defaults.update(callee.__kwdefaults__ or {})
            default_values = {k: self.constant(v) for k, v in defaults.items()}
        elif fn in self.def_defaults:  # (a `def` of the code: where it ran)
            default_values = self.def_defaults[fn]
        else:
            default_values = self.nested_defaults(scope, fn)
        for param in (*[a.arg for a in (*fn.args.posonlyargs, *fn.args.args)], *kwonly):
            if param not in values:
                if param not in default_values:
                    raise self.error(
                        scope, call, f"{fn.name}() is missing the argument `{param}`", "pass it"
                    )
                values[param] = default_values[param]
        return values

    def argument(self, scope: Scope, node: ast.expr) -> Any:
        """The value a call passes: lowered, or for a ``def`` of the code (which has no
        value in the listing) the marker that only calls of it may read."""
        if self.nested_function(scope, node) is not None:
            return PASSED_DEF
        return self.lower_expr(scope, node, None)

    def spread(
        self, scope: Scope, arguments: list[ast.expr], fills: int | None = None
    ) -> list[ast.expr]:
        """A call's positional arguments with ``*items`` spread out, when ``items`` is a
        tuple or list of known length (a helper's ``*args``, a tuple display), or, for
        one of them, known only at run time, when the call must pass ``fills``
        positional arguments in all (a helper's parameters: ``f(*params)``)."""
        if not any(isinstance(arg, ast.Starred) for arg in arguments):
            return arguments
        spread: list[ast.expr] = []
        unknown: tuple[int, ast.Starred, ir.Name] | None = None
        for arg in arguments:
            if not isinstance(arg, ast.Starred):
                spread.append(Operand(self.lower_expr(scope, arg, None)))
                continue
            value = self.lower_expr(scope, arg.value, None)
            if fills is not None and unknown is None and isinstance(value, ir.Name):
                unknown = (len(spread), arg, value)
                continue
            if not isinstance(value, TupleValue):
                raise self.error(
                    scope,
                    arg,
                    "`*` unpacks a value whose length srcad does not know when it compiles",
                    "pass the items one by one, or unpack a tuple or list display",
                )
            spread += [Operand(item) for item in value.items]
        if unknown is not None:
            assert fills is not None  # (only then is a length taken from the call)
            at, arg, value = unknown
            count = max(fills - len(spread), 0)
            error = TypeError(
                f"{scope.source.location(arg)}: `*{ast.unparse(arg.value)}` does not hold "
                f"the {count} arguments the call's other arguments leave to it"
            )
            items = self.run_time_items(scope, value, count, arg, error).items
            spread[at:at] = [Operand(item) for item in items]
        return spread

    def positional_count(self, scope: Scope, call: ast.Call) -> int | None:
        """How many positional arguments ``call`` passes in all, where its callee says:
        a function's (of the user's code, a library's, a ``def`` of the code) positional
        parameters that no keyword of the call names, when it has no defaults and no
        ``*args``; None for any other callee."""
        nested = self.nested_function(scope, call.func)
        if nested is not None:
            args = nested[0].args
            if args.vararg is not None or args.defaults:
                return None
            names = [a.arg for a in (*args.posonlyargs, *args.args)]
        else:
            callee = self.denote(scope, call.func).static
            if not isinstance(callee, types.FunctionType) or callee.__defaults__ or (
                callee.__code__.co_flags & inspect.CO_VARARGS
            ):
                return None
            names = list(callee.__code__.co_varnames[: callee.__code__.co_argcount])
        given = {k.arg for k in call.keywords}
        return len([n for n in names if n not in given])

    def nested_defaults(self, scope: Scope, fn: ast.FunctionDef) -> dict[str, Any]:
        args = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
        defaults = dict(zip(reversed(args), reversed(fn.args.defaults)))
        defaults.update({a.arg: d for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults) if d})
        return {k: self.lower_expr(scope, v, None) for k, v in defaults.items()}

    def inline(
        self,
        scope: Scope,
        call: ast.Call,
        callee: types.FunctionType,
        target: Callable[[], str] | None,
        partial: functools.partial | None = None,
        lookup: Callable[[], Any] | None = None,
        as_written: ast.expr | None = None,
    ) -> Any:
        """Inline ``callee``'s code at ``call``; where another file's code cannot be read,
        the call stays a call (``as_written``: the call as the user wrote it, when
        ``call`` is a method's, with the object passed first)."""
        where = scope.source.location(call)
        if getattr(callee, "__srcad_opaque__", False):  # (srcad's own, never read: a call)
            code = callee.__code__
            self.refusals[where] = at_call_site(NoRuleError(
                f"`{callee.__name__}` is srcad's own helper, which srcad does not read",
                "", Location(code.co_filename, code.co_firstlineno, 0),
            ), callee, where)
            return self.operation(scope, as_written or call, target)
        self.check_recursion(scope, call, callee, callee.__qualname__)
        read = read_instead(callee)  # (the code of a stand-in: the same values)
        source = read_function(read, used_at=where)
        generated = getattr(callee, "__srcad__", None)  # a gradient srcad made
        if generated is not None:  # current while the helpers it inlined are
            self.dependencies.extend(generated.dependencies())
        else:
            self.dependencies.append(
                (
                    lookup or self.denote(scope, call.func).lookup,
                    partial or callee,
                    callee.__code__,
                )
            )
        if source.filename == self.root.filename:
            if callee in self.inlining:
                return self.lower_source(scope, call, source, callee, target, partial)
            return self.ended_or_called(scope, call, source, callee, target, partial,
                                        as_written)
        # Another file's function (often a library's): when srcad cannot read its code, the
        # call stays a call, with no derivative. That is enough when its arguments are
        # inactive (np.triu_indices(n)); otherwise the gradient reports why, at this line.
        start, saved_return = len(self.body), self._last_return
        try:
            result = self.lower_source(scope, call, source, read, target, partial)
        except SrcadError as error:
            del self.body[start:]
            self._last_return = saved_return
            self.refusals[where] = at_call_site(error, callee, where)
            return self.operation(scope, as_written or call, target)
        for stmt in ir.walk(self.body[start:]):  # (the outermost call, the user's, wins)
            loc = getattr(stmt, "loc", None)
            if loc is None:
                continue
            if loc.filename != source.filename and loc in self.call_sites:
                loc = self.call_sites[loc][0]  # (a third file's code: where this one called it)
            if loc.filename == source.filename:
                self.call_sites[loc] = (where, callee)
        return result

    def ended_or_called(
        self,
        scope: Scope,
        call: ast.Call,
        source: FunctionSource,
        callee: types.FunctionType,
        target: Callable[[], str] | None,
        partial: functools.partial | None,
        as_written: ast.expr | None,
    ) -> Any:
        """A function of the user's file inlined; where its recursion does not end when
        srcad unrolls it (``binom(n, k)`` of a loop's ``k``), the call stays a plain call,
        with no derivative: that is enough when its arguments carry none (integers), and
        otherwise the gradient refuses it at this line, for that reason."""
        start, saved_return, calls = len(self.body), self._last_return, self.recursive_calls
        try:
            return self.lower_source(scope, call, source, callee, target, partial)
        except SrcadError as error:
            if getattr(error, "endless", None) is not callee:
                raise
            del self.body[start:]
            self._last_return, self.recursive_calls = saved_return, calls
            self.refusals[scope.source.location(call)] = error
            return self.operation(scope, as_written or call, target)

    def lower_source(
        self,
        scope: Scope,
        call: ast.Call,
        source: FunctionSource,
        callee: types.FunctionType,
        target: Callable[[], str] | None,
        partial: functools.partial | None,
    ) -> Any:
        """Inline the function ``source``: its body, with the call's arguments bound."""
        if callee in self.procedures:  # (a method of an object the function made)
            source = replace(source, node=ending_in_return(source.node))
        fn = source.node
        # (the defaults of the function whose code is read: a decorator's wrapper has its own)
        values = self.bind_arguments(scope, call, fn, source.function, partial)
        known = self.known_arguments(values)
        if fn.args.kwarg is not None and partial is None:  # fn(**kwargs) passes them on
            known[fn.args.kwarg.arg] = _passed_keywords(call, fn)
        local_names = frozenset(assigned_names(fn))
        source = replace(source, node=specialize(fn, known, source.lookup)[0])  # options decided
        check_supported(source, inlined=True)
        fn = source.node
        where = (  # (a function srcad generated has no file of its own to name)
            "srcad's generated code"
            if source.filename.startswith("<srcad")
            else f"{_short(source.filename)}:{fn.lineno}"
        )
        self.body.append(ir.Comment(f"inlined {fn.name}() from {where}", header=True))
        inner = Scope(
            source,
            env=dict(values.items()),  # (a copy whose keys may be any Variable)
            local_names=local_names,
            node=desugar(fn, library=in_library(source.filename, self.root.filename),
                         shadowed=source.shadowed_builtins),
            arguments=dict(values),
            statics={**self.passed_modules(values, fn), **self.passed_functions(scope, call, fn)},
            passed_defs=self.passed_defs(scope, call, fn),
        )
        return self.lower_inlined(inner, callee, target)

    def check_recursion(self, scope: Scope, call: ast.Call, key: Any, name: str) -> None:
        """A recursive call is inlined as any call is: its arguments that end the
        recursion (``n - 1``, ``xs[1:]``) are known when srcad compiles, and each level
        decides its branches. Refused once it goes deeper, or inlines more calls, than
        such recursion does (``n`` a value the gradient computes never ends it)."""
        depth = self.inlining.count(key)
        if depth == 0:
            return
        self.recursive_calls += 1
        if depth < _RECURSION_DEPTH and self.recursive_calls <= _RECURSIVE_CALLS:
            return
        went = (
            f"it went {depth} levels deep without ending"
            if depth >= _RECURSION_DEPTH
            else f"it made more than {_RECURSIVE_CALLS} recursive calls"
        )
        error = self.error(
            scope,
            call,
            f"recursive call to {name}: srcad unrolls recursion when the arguments that "
            f"end it are known when it compiles (constants), and here {went}",
            "rewrite the recursion as a loop, or give the arguments that end it as "
            "constants (`power(x, 8)`, not `power(x, n)` of a parameter `n`)",
        )
        error.endless = key  # (the outermost call of ``key`` may run it as a plain call)
        raise error

    def lower_inlined(self, inner: Scope, key: Any, target: Callable[[], str] | None) -> Any:
        """The body of an inlined function (``key`` marks it as being inlined, against
        recursion); its result is named by the caller's ``target``. A body that raises on
        every path gives a placeholder the caller may use: it is never reached."""
        self.inlining.append(key)
        try:
            saved_return = getattr(self, "_last_return", None)
            result, _ = self.lower_body(inner, self._lazy(target or self.names.temp))
            self._last_return = saved_return
        finally:
            self.inlining.pop()
        return ir.Const(0.0) if result is RAISED else result


#: how deep srcad unrolls recursion, and how many recursive calls in all (``fib(12)``)
_RECURSION_DEPTH = 32
_RECURSIVE_CALLS = 256


def _passed_keywords(call: ast.Call, fn: ast.FunctionDef) -> Keywords:
    """The ``**kwargs`` of ``fn`` for ``call``, as a known dict display: the call's
    keyword arguments that no parameter takes, each read back as ``kwargs["key"]`` (so
    that ``g(*args, **kwargs)`` in ``fn``, a decorator's wrapper, passes them on)."""
    assert fn.args.kwarg is not None
    kwargs = fn.args.kwarg.arg
    named = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)}
    return Keywords([
        (k.arg, ast.Subscript(ast.Name(kwargs, ast.Load()), ast.Constant(k.arg), ast.Load()))
        for k in call.keywords
        if k.arg is not None and k.arg not in named
    ])


#: what a parameter's value may be for srcad to know it when it compiles: a module, or
#: a function (calls of the parameter are calls of it)
_STATICS = (
    types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
    types.MethodDescriptorType, np.ufunc, functools.partial,
    type(np.linalg.norm),  # (numpy's dispatchers: np.linalg.norm)
)


def _kept_arguments(call: ast.Call, fn: ast.FunctionDef) -> list[tuple[str, ast.expr]]:
    """The parameters of ``fn`` that ``call`` passes an argument to (by position or by
    keyword, before any ``*`` spread) and that ``fn`` never assigns again."""
    positional = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
    before_spread = []
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            break
        before_spread.append(arg)
    given = [*zip(positional, before_spread), *((k.arg, k.value) for k in call.keywords)]
    stored = _stored_names(fn)
    return [(param, arg) for param, arg in given if param is not None and param not in stored]


def _stored_names(fn: ast.FunctionDef) -> set[str]:
    """The names ``fn`` assigns anywhere (its parameters among them, when reassigned)."""
    return {
        n.id for n in astwalk.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }


def _short(filename: str) -> str:
    return filename.rsplit("/", 1)[-1]
