"""Lowering part for a function of the code given to a library routine that takes a
function (a root finder, an integrator): closure conversion.

``scipy.optimize.brentq(lambda r: price(r, sigma) - target, 0.0, 1.0)`` gives SciPy a
function that reads the differentiated function's variables (``sigma``, ``target``).
srcad inlines a call of such a function, and has no value for it to pass on; instead
it makes a function of srcad's own, written in the lambda's (or the nested ``def``'s)
words, whose parameters are the lambda's own followed by the variables it reads, and
passes their current values through ``args=`` after the user's own::

    scipy.optimize.brentq(function, 0.0, 1.0, args=(sigma, target))

The routine's rule (:mod:`srcad.rules.scipy_optimize`, :mod:`srcad.rules.scipy_integrate`)
then differentiates it like any module-level function: its partial derivatives in
``args`` reach ``sigma`` and ``target`` too. Names the lambda reads that are globals stay
globals (the made function reads the user's module). The made function's source keeps the
user's line numbers (in a file of its own, kept in :mod:`linecache`), so that an error in
it is reported at the user's line (see :func:`srcad.rules.passed_functions.in_users_file`).

A routine whose result srcad reads another way (``solve_ivp``'s, a record of SciPy's
fields) is called through a function of srcad's own (:attr:`Routine.called_instead`).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import itertools
import sys
import types
from typing import Any

from .. import astwalk, ir
from ..desugar import BRACKETING_ROOT_FINDERS, CHANGING_METHODS, INTEGRATORS, TAKE_A_FUNCTION
from ..errors import SrcadError
from ..frontend import installed, read_function
from ..load import defined
from .resolve import FREE, variable
from .values import USER_SPELLING, LoweringPart, Scope, Static, returning


@dataclasses.dataclass(frozen=True)
class Routine:
    """A library routine that takes a function of the code: where its function
    arguments stand (a keyword's position, or None: by keyword only), how many
    parameters of their own they take before ``args`` (``f(x, *args)``: 1; an ODE's
    right-hand side ``f(y, t, *args)``: 2), and where ``args`` stands."""

    module: str
    name: str
    functions: tuple[tuple[str, int | None], ...]
    own_parameters: int
    args_position: int
    #: ``"module:name"`` of srcad's function called in its place (the same arguments)
    called_instead: str | None = None

    @property
    def spelled(self) -> str:
        return f"{self.module}.{self.name}"


def _routines() -> dict[str, Routine]:
    found = {
        name: Routine("scipy.optimize", name, (("f", 0),), 1, 3)
        for name in BRACKETING_ROOT_FINDERS
    }
    found["newton"] = Routine(
        "scipy.optimize", "newton", (("func", 0), ("fprime", 2), ("fprime2", None)), 1, 3
    )
    found["root_scalar"] = Routine(
        "scipy.optimize", "root_scalar", (("f", 0), ("fprime", 4), ("fprime2", 5)), 1, 1,
        called_instead="srcad.rules.scipy_optimize:root_scalar",
    )
    found["fsolve"] = Routine(
        "scipy.optimize", "fsolve", (("func", 0), ("fprime", 3)), 1, 2,
        called_instead="srcad.rules.scipy_optimize:fsolve",
    )
    found["root"] = Routine(
        "scipy.optimize", "root", (("fun", 0), ("jac", 4)), 1, 2,
        called_instead="srcad.rules.scipy_optimize:root",
    )
    found["minimize_scalar"] = Routine(
        "scipy.optimize", "minimize_scalar", (("fun", 0),), 1, 3,
        called_instead="srcad.rules.scipy_optimize:minimize_scalar",
    )
    found["minimize"] = Routine(
        "scipy.optimize", "minimize",
        (("fun", 0), ("jac", 4), ("hess", 5), ("hessp", 6), ("callback", 10)), 1, 2,
        called_instead="srcad.rules.scipy_optimize:minimize",
    )
    found["quad"] = Routine("scipy.integrate", "quad", (("func", 0),), 1, 3)
    found["odeint"] = Routine("scipy.integrate", "odeint", (("func", 0), ("Dfun", 4)), 2, 3)
    found["solve_ivp"] = Routine(
        "scipy.integrate", "solve_ivp", (("fun", 0), ("events", 6), ("jac", None)), 2, 8,
        called_instead="srcad.rules.scipy_integrate:solve_ivp",
    )
    assert set(found) == TAKE_A_FUNCTION and set(INTEGRATORS) <= set(found)
    return found


#: The routines that take a function of the code, by name (see :class:`Routine`).
ROUTINES = _routines()

_counter = itertools.count(1)

#: The attribute of a made function that names the user's file (see the module).
USER_FILE = "__srcad_user_file__"
#: Set on a made function that was a lambda of the user's code (for names and messages).
USER_LAMBDA = "__srcad_user_lambda__"


def routine_called(callee: Any) -> Routine | None:
    """The routine of :data:`ROUTINES` that ``callee`` is, or None."""
    for routine in ROUTINES.values():
        module = sys.modules.get(routine.module)
        if module is not None and getattr(module, routine.name, None) is callee:
            return routine
    return None


class ClosureConversion(LoweringPart):
    """The lowerer's part for lambdas and nested ``def``s given to a library routine."""

    def closure_converted(self, scope: Scope, node: ast.Call) -> ast.Call | None:
        """``node`` with each function of the code it is given made a function of srcad's
        own (see the module), and the variables they read appended to ``args``, and the
        routine called through srcad's function where it has one; None when ``node`` is
        not such a call, or needs no change."""
        routine = routine_called(self.denote(scope, node.func).static)
        if routine is None:
            return None
        given = self._function_arguments(node, routine)
        local = {
            key: found
            for key, argument in given.items()
            if (found := self._local_function(scope, argument)) is not None
        }
        closures = {key: self._closure(scope, fn, routine) for key, (fn, _) in local.items()}
        for key, argument in given.items():
            parts: list[tuple[ast.FunctionDef, list[str] | None]] = []
            if key in local:
                parts += closures[key]
            elif (module_function := self._module_function(scope, argument)) is not None:
                parts.append((module_function, None))
            for part, reads in parts:
                self._refuse_changes(scope, argument, part, routine)
                if routine.name in INTEGRATORS:
                    self._refuse_moving_jumps(
                        scope, argument, part, routine, reads, given=part is parts[0][0]
                    )
        if not local:
            return self._called_instead(scope, node, routine)
        for key, argument in given.items():
            if key not in local and not (  # (None; True: `jac=True`, the function's own)
                isinstance(argument, ast.Constant)
                and (argument.value is None or isinstance(argument.value, bool))
            ):
                raise self.error(
                    scope,
                    argument,
                    f"{routine.spelled} is given a function of the differentiated code "
                    f"and `{ast.unparse(argument)}`, which is not one: srcad passes the "
                    "variables the first reads through args=, which this one would be "
                    "given too",
                    "give both as lambdas or nested defs of the function, or both as "
                    "module-level functions",
                )
        free: list[str] = []
        for functions in closures.values():
            for _, reads in functions:
                free += [read for read in reads if read not in free]
        args = self._args_argument(scope, node, routine)
        defaults = self._defaults_needed(scope, local, args, routine)
        made = {
            key: self._made_function(scope, fn, free, tuple(sorted(
                (helper for helper, _ in closures[key][1:]), key=lambda h: h.lineno
            )))
            for key, (fn, _) in local.items()
        }
        rewritten = self._rewritten(scope, node, given, made, args, free, defaults, routine)
        return self._called_instead(scope, rewritten, routine) or rewritten

    def _module_function(self, scope: Scope, argument: ast.expr) -> ast.FunctionDef | None:
        """The ``def`` of the user's module-level function ``argument`` names, if any."""
        function = self.denote(scope, argument).static
        code = getattr(function, "__code__", None)
        if code is None or installed(code.co_filename):
            return None
        try:
            return read_function(function).node
        except SrcadError:
            return None

    def _refuse_changes(
        self, scope: Scope, argument: ast.expr, fn: ast.FunctionDef, routine: Routine
    ) -> None:
        """Refuse a function given to ``routine`` that changes an object it did not make:
        a workspace written, a cache or history filled while the routine calls it.
        srcad's listing does not see those changes (the routine makes them), nor does the
        derivative."""
        change = _change_outside(fn)
        if change is None:
            return
        spelled = _spelled(fn)
        raise self.error(
            scope,
            argument,
            f"{spelled}, given to {routine.spelled}, changes `{ast.unparse(change)}`, "
            f"an object it did not make (line {change.lineno}): srcad follows neither "
            "the change the routine's calls make nor its derivative",
            "keep the function free of changes, and compute what it stored from the "
            "result after the call (`buf = w * r` from the root `r`)",
        )

    def _refuse_moving_jumps(
        self, scope: Scope, argument: ast.expr, fn: ast.FunctionDef, routine: Routine,
        reads: list[str] | None, given: bool = True,
    ) -> None:
        """Refuse an integrand (a right-hand side) that compares its own variable with a
        value that may be differentiated (``x < p``): where the function jumps there, the
        jump moves with the value, a term that Leibniz's rule (forward sensitivities)
        leaves out. ``reads``: the variables of the code a lambda or nested def reads,
        which may be differentiated too (None for a module's function: its parameters
        only); ``given``: ``fn`` is the function given (else a helper it calls, whose
        first parameter is taken for the routine's variable)."""
        params = [a.arg for a in fn.args.args]
        first = routine.own_parameters if given else 1  # (a helper it calls: its first)
        own = set(params[:first])
        others = set(params[first:]) | set(reads or ())
        jump = _moving_jump(fn, own, others)
        if jump is None:
            return
        spelled = _spelled(fn) + ("" if given else ", called by the function")
        raise self.error(
            scope,
            argument,
            f"{spelled}, given to {routine.spelled}, compares `{ast.unparse(jump)}` (line "
            f"{jump.lineno}), whose place moves with a value srcad may differentiate: a "
            "jump there moves too, a term the derivative of the integral leaves out",
            "make that place a limit of integration (`quad(f, a, p) + quad(g, p, b)`), "
            "or write the function without the comparison (np.maximum, abs)",
        )

    def _called_instead(self, scope: Scope, node: ast.Call, routine: Routine) -> ast.Call | None:
        """``node`` calling srcad's function in the routine's place, if it has one."""
        if routine.called_instead is None:
            return None
        module, name = routine.called_instead.split(":")
        function = getattr(importlib.import_module(module), name)
        callee = self._bound(scope, name, function)
        setattr(callee, USER_SPELLING, ast.unparse(node.func))  # (for messages)
        call = ast.Call(ast.copy_location(callee, node.func), node.args, node.keywords)
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def _bound(self, scope: Scope, base: str, function: Any) -> ast.Name:
        """A fresh name the generated code reads ``function`` by."""
        name = self.names.fresh(base)
        while self._local_function(scope, ast.Name(name)) is not None:
            name = self.names.fresh(base)
        self.bindings[name] = function
        scope.statics[name] = Static(function, ir.Name(name), returning(function))
        return ast.Name(name, ast.Load())

    def _defaults_needed(
        self, scope: Scope, local: dict[str, tuple[ast.FunctionDef, Scope]],
        args: ast.expr | None, routine: Routine,
    ) -> list[ast.expr]:
        """The default values of the parameters of the lambda given (``lambda x, k=k:``)
        that ``args`` does not give: passed through ``args=`` before the variables it
        reads (a lambda made at the call: its defaults have the values they have here)."""
        given = len(args.elts) if isinstance(args, ast.Tuple | ast.List) else 0
        needed: list[ast.expr] = []
        for fn, _ in local.values():
            positional, defaults = fn.args.args, fn.args.defaults
            first_default = len(positional) - len(defaults)
            wanted = [defaults[k - first_default]
                      for k in range(routine.own_parameters + given, len(positional))
                      if k >= first_default]
            if wanted and len(local) > 1:
                raise self.error(
                    scope, fn,
                    f"{routine.spelled} is given two functions of the differentiated "
                    "code, one with default values: srcad passes the same args= to both",
                    "pass those values with args= instead of defaults",
                )
            needed += wanted
        return needed

    def _function_arguments(self, node: ast.Call, routine: Routine) -> dict[str, ast.expr]:
        """The function arguments of the routine's call, by parameter name."""
        found: dict[str, ast.expr] = {}
        for key, position in routine.functions:
            if position is not None and position < len(node.args):
                found[key] = node.args[position]
        keys = {key for key, _ in routine.functions}
        for keyword in node.keywords:
            if keyword.arg is not None and keyword.arg in keys:
                found[keyword.arg] = keyword.value
        return found

    def _local_function(
        self, scope: Scope, argument: ast.expr
    ) -> tuple[ast.FunctionDef, Scope] | None:
        """The ``def`` (or named lambda) of the code ``argument`` names, and its scope."""
        if not isinstance(argument, ast.Name):
            return None
        current: Scope | None = scope
        while current is not None:
            if argument.id in current.env or argument.id in current.statics:
                return None
            if argument.id in current.local_functions:
                return current.local_functions[argument.id], current
            current = current.parent
        return None

    def _closure(
        self, scope: Scope, fn: ast.FunctionDef, routine: Routine
    ) -> list[tuple[ast.FunctionDef, list[str]]]:
        """``fn``, then the functions of the code it calls (``dens`` of ``lambda x: x *
        dens(x)``), which the made function carries as nested defs, and the functions
        they call: each with the variables of the differentiated code it reads."""
        calls: list[ast.FunctionDef] = []
        found = [(fn, self._free_locals(scope, fn, routine, calls=calls))]
        while calls:
            helper = calls.pop(0)
            if any(helper is f for f, _ in found[1:]):
                continue
            found.append(
                (helper, self._free_locals(scope, helper, routine, given=False, calls=calls))
            )
        return found

    def _free_locals(
        self, scope: Scope, fn: ast.FunctionDef, routine: Routine, given: bool = True,
        calls: list[ast.FunctionDef] | None = None,
    ) -> list[str]:
        """The variables of the differentiated code that ``fn`` reads, in order; an error
        for what srcad cannot pass on. ``given``: ``fn`` is the function given to the
        routine (not a helper it calls, whose parameters are its own affair); ``calls``:
        where the functions of the code it reads go (else: refused)."""
        spelled = _spelled(fn)
        args = fn.args
        defaults_here = bool(args.defaults) and getattr(fn, "srcad_lambda", False)
        if given and (args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs or (
            args.defaults and not defaults_here  # (a lambda given here: its defaults are
        )):  # the values they have at this call)
            raise self.error(
                scope,
                fn,
                f"{spelled}, given to {routine.spelled}, takes parameters other than "
                "plain positional ones (*args, keyword-only, defaults): srcad passes the "
                "variables it reads after them",
                "give it plain positional parameters, and pass other values with args=",
            )
        if fn.decorator_list:
            raise self.error(
                scope, fn, f"{spelled}, given to {routine.spelled}, is decorated",
                "define it without a decorator",
            )
        stored = {a.arg for a in astwalk.walk(fn) if isinstance(a, ast.arg)}
        loaded: list[ast.Name] = []
        for part in astwalk.walk(fn):
            # (nonlocal, global and := are refused before lowering: srcad.subset)
            if isinstance(part, ast.Name):
                if isinstance(part.ctx, ast.Load):
                    loaded.append(part)
                else:
                    stored.add(part.id)
            elif isinstance(part, ast.FunctionDef | ast.Lambda) and part is not fn:
                raise self.error(
                    scope,
                    part,
                    f"{spelled}, given to {routine.spelled}, defines a function "
                    "of its own",
                    "define that function at module level",
                )
        free: list[str] = []
        for read in loaded:
            if read.id in stored or read.id in free:
                continue
            local_def = self._local_function(scope, read)
            if local_def is not None and calls is not None and read.id != fn.name:
                calls.append(local_def[0])
                continue
            if local_def is not None or read.id == fn.name:
                raise self.error(
                    scope,
                    read,
                    f"{spelled}, given to {routine.spelled}, reads `{read.id}`, a "
                    "function defined in the differentiated code, which srcad cannot pass "
                    "on as a value",
                    f"define `{read.id}` at module level",
                )
            if self._in_statics(scope, read.id):
                raise self.error(
                    scope,
                    read,
                    f"{spelled}, given to {routine.spelled}, reads `{read.id}`, "
                    "imported or bound to a function inside the differentiated code, "
                    "which srcad cannot pass on as a value",
                    f"import or define `{read.id}` at module level",
                )
            value = variable(scope, read.id)
            if self.made_of(value) is not None:
                raise self.error(
                    scope,
                    read,
                    f"{spelled}, given to {routine.spelled}, reads `{read.id}`, an "
                    "object the differentiated code made, which srcad keeps as its fields "
                    "and cannot pass on as the object",
                    f"read the fields it needs into variables before the call (`a = "
                    f"{read.id}.a`), or make `{read.id}` outside and pass it in",
                )
            if value is not FREE or read.id in scope.source.closure:
                free.append(read.id)
        return free

    def _in_statics(self, scope: Scope, name: str) -> bool:
        current: Scope | None = scope
        while current is not None:
            if name in current.statics and name not in current.env:
                return True
            current = current.parent
        return False

    def _args_argument(
        self, scope: Scope, node: ast.Call, routine: Routine
    ) -> ast.expr | None:
        """The call's ``args=`` (by keyword or position), a tuple display; None if absent."""
        if len(node.args) > routine.args_position:
            args: ast.expr | None = node.args[routine.args_position]
        else:
            args = next((k.value for k in node.keywords if k.arg == "args"), None)
        if args is not None and not isinstance(args, ast.Tuple | ast.List):
            raise self.error(
                scope,
                args,
                f"{routine.spelled} is given a function of the differentiated code, "
                "and args= that is not written as a tuple: srcad appends the variables the "
                "function reads to it",
                "write args= as a tuple display, `args=(a, b)`",
            )
        return args

    def _made_function(
        self, scope: Scope, fn: ast.FunctionDef, free: list[str],
        carried: tuple[ast.FunctionDef, ...] = (),
    ) -> types.FunctionType:
        """``fn`` as a function of its own parameters followed by ``free``, reading the
        user's module for its other names (see the module), with the functions of the
        code it calls (``carried``) defined in it first, each at its own lines. Made
        once per ``def``."""
        made_by = self.__dict__.setdefault("_closure_conversions", {})
        key = (id(fn), tuple(free), tuple(id(c) for c in carried))
        if key in made_by:
            return made_by[key][1]
        params = [a.arg for a in fn.args.args] + free
        header = f"def {fn.name}({', '.join(params)}):"
        lines: list[str] = []
        start = max(min([fn.lineno, *(c.lineno for c in carried)]) - 1, 1)

        def put(line: int, text: str) -> None:
            while len(lines) < line - 1:
                lines.append("")
            lines.append(text)

        put(start, header)
        for helper in carried:
            at = max(helper.lineno, len(lines) + 1)
            for k, part in enumerate(ast.unparse(helper).splitlines()):
                put(at + k, "    " + part)
        for stmt in fn.body:
            text = ast.unparse(stmt)
            at = max(getattr(stmt, "lineno", 0), len(lines) + 1)
            for k, part in enumerate(text.splitlines()):
                put(at + k, "    " + part)
        source = "\n".join(lines) + "\n"
        filename = (
            f"<srcad: {fn.name} of {scope.source.name}, {scope.source.filename} "
            f"#{next(_counter)}>"
        )
        namespace: dict[str, Any] = {}
        made = defined(source, filename, namespace, fn.name)
        function = types.FunctionType(made.__code__, scope.source.globals, fn.name)
        function.__qualname__ = fn.name
        setattr(function, USER_FILE, scope.source.filename)
        setattr(function, USER_LAMBDA, getattr(fn, "srcad_lambda", False))
        made_by[key] = ((fn, *carried), function)  # (kept alive: their ids are the key)
        return function

    def _rewritten(
        self,
        scope: Scope,
        node: ast.Call,
        given: dict[str, ast.expr],
        made: dict[str, types.FunctionType],
        args: ast.expr | None,
        free: list[str],
        defaults: list[ast.expr],
        routine: Routine,
    ) -> ast.Call:
        """The call with the made functions in place of the code's, and the ``defaults``
        they need and ``free`` appended to ``args``."""
        replaced: dict[int, ast.expr] = {}
        for key, function in made.items():
            base = "closed_lambda" if getattr(function, USER_LAMBDA, False) else (
                f"closed_{function.__name__}"
            )
            replaced[id(given[key])] = ast.copy_location(
                self._bound(scope, base, function), given[key]
            )
        extra = [*defaults, *(ast.copy_location(ast.Name(n, ast.Load()), node) for n in free)]
        new_args = ast.copy_location(
            ast.Tuple([*(args.elts if args is not None else []), *extra], ast.Load()),  # type: ignore[attr-defined]
            args if args is not None else node,
        )
        positional = [replaced.get(id(a), a) for a in node.args]
        keywords = [
            ast.keyword(k.arg, replaced.get(id(k.value), k.value)) for k in node.keywords
        ]
        if len(positional) > routine.args_position:
            positional[routine.args_position] = new_args
        elif args is not None:
            keywords = [
                ast.keyword("args", new_args) if k.arg == "args" else k for k in keywords
            ]
        elif extra:
            keywords.append(ast.keyword("args", new_args))
        call = ast.Call(node.func, positional, keywords)
        return ast.fix_missing_locations(ast.copy_location(call, node))


def _spelled(fn: ast.FunctionDef) -> str:
    """How a message names a function given to a routine: ``this lambda``, or ``f``."""
    return "this lambda" if getattr(fn, "srcad_lambda", False) else f"`{fn.name}`"


def _change_outside(fn: ast.FunctionDef) -> ast.expr | None:
    """What ``fn`` changes in place of an object it did not make (an item or attribute
    of a parameter or a variable it reads, or of a name that may hold one: ``b = buf``),
    or a changing method's receiver (``hist.append(v)``); None if nothing."""
    made = {
        target.id
        for node in astwalk.walk(fn) if isinstance(node, ast.Assign)
        and not isinstance(node.value, ast.Name | ast.Subscript | ast.Attribute)
        for target in node.targets if isinstance(target, ast.Name)
    }
    for node in astwalk.walk(fn):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            for target in targets:
                if isinstance(target, ast.Subscript | ast.Attribute) and _base(target) not in made:
                    return target
        elif (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in CHANGING_METHODS and _base(node.func.value) not in made
        ):
            return node.func.value
    return None


def _base(expr: ast.expr) -> str | None:
    """The name an item or attribute chain starts from (``buf`` of ``buf[0].x``)."""
    while isinstance(expr, ast.Subscript | ast.Attribute):
        expr = expr.value
    return expr.id if isinstance(expr, ast.Name) else None


#: calls whose value jumps where their argument crosses an integer or zero
_STEPS = frozenset(("floor", "ceil", "round", "trunc", "rint", "sign", "heaviside", "int"))


def _moving_jump(fn: ast.FunctionDef, own: set[str], others: set[str]) -> ast.expr | None:
    """A comparison (or a step: ``np.floor``, ``int``) in ``fn`` whose operands depend
    both on ``own`` (the integration variable) and on ``others`` (values that may be
    differentiated), through ``fn``'s assignments; None if there is none."""
    on_own, on_others = set(own), set(others)
    for _ in range(2):  # (twice: a loop's assignment read above it)
        for node in astwalk.walk(fn):
            if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign) and node.value:
                read = {n.id for n in astwalk.walk(node.value) if isinstance(n, ast.Name)}
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                bound = {n.id for t in targets for n in astwalk.walk(t) if isinstance(n, ast.Name)}
                if read & on_own:
                    on_own |= bound
                if read & on_others:
                    on_others |= bound
    for node in astwalk.walk(fn):
        step = isinstance(node, ast.Call) and (
            getattr(node.func, "attr", None) in _STEPS or getattr(node.func, "id", None) in _STEPS
        )
        if isinstance(node, ast.Compare) or step:
            read = {n.id for n in astwalk.walk(node) if isinstance(n, ast.Name)}
            if read & on_own and read & on_others:
                return node  # type: ignore[return-value]
    return None
