"""Errors about statements of a listing: why an active operation has no derivative."""

from __future__ import annotations

import builtins
import difflib
import linecache
import os
import sys
import types
from collections.abc import Mapping, Set
from typing import Any

import numpy as np

from . import ir, records
from .chains import GENERATOR_METHODS, chain_names, draws_at_random
from .errors import Location, NoRuleError, SrcadError, UnsupportedSyntaxError, raise_all
from .frontend import installed
from .rules.table import is_method_rule
from .runtime import formatted, loop_items


def no_rule_error(stmt: ir.Assign, fn: ir.Function | None = None) -> SrcadError:
    """Why the active statement ``stmt`` of ``fn`` cannot be differentiated: the reason
    srcad could not read the function it calls, or the missing rule."""
    called = _called_attribute(stmt.value, fn) if fn is not None else None
    if fn is not None and stmt.loc in fn.refusals and not draws_at_random(called):
        error = fn.refusals[stmt.loc]
    else:
        error = _missing_rule(stmt, fn)
    return at_user_call(error, stmt.loc, fn.call_sites) if fn is not None else error


def order_error(stmt: ir.Assign, param: str, fn: ir.Function) -> SrcadError:
    """``stmt`` passes a value that depends on the inputs as ``param``, an order or a
    count of its rule (``ir.Rule.orders``), which has no derivative in srcad."""
    rule = stmt.rule
    called = rule.name.split("(")[0] if rule is not None and rule.signature else stmt.target
    if rule is not None and param in rule.notes:  # (the rule's own words)
        reason, hint = rule.notes[param]
        error = NoRuleError(
            f"`{called}` has no derivative in `{param}`, which here depends on the inputs: "
            f"{reason}",
            hint,
            stmt.loc,
        )
        return at_user_call(error, stmt.loc, fn.call_sites)
    error = NoRuleError(
        f"`{called}` has no derivative in `{param}` (an "
        f"order, a count, a shape or a function it calls: srcad differentiates the other "
        "arguments only), and "
        f"here `{param}` depends on the inputs",
        f"keep `{param}` a constant or data (in srcad.jvp, give its argument the tangent "
        "None), or register a rule with srcad.defrule",
        stmt.loc,
    )
    return at_user_call(error, stmt.loc, fn.call_sites)


def at_user_call(
    error: SrcadError, loc: Location, call_sites: Mapping[Location, tuple[Location, Any]]
) -> SrcadError:
    """``error``, about the statement at ``loc``, reported at the user's call first when
    ``loc`` is in another file's inlined code (``call_sites``: see ``ir.Function``)."""
    seen = {loc}
    while loc in call_sites:  # (a library's call into a third file: up to the user's call)
        loc, callee = call_sites[loc]
        error = at_call_site(error, callee, loc)
        if loc in seen:  # pragma: no cover - a call site is never inside its own callee
            break
        seen.add(loc)
    return error


def at_call_site(error: SrcadError, callee: Any, where: Location) -> SrcadError:
    """``error``, raised in the source of ``callee`` (another file, often a library's),
    reported at the user's call first, with the callee's offending lines after it."""
    first = error.problems[0]
    # (a call inside a call of another file: the reason is the innermost one)
    reason, inner = getattr(
        error, "reason", (first.message, f"{os.path.basename(first.filename)}:{first.lineno}")
    )
    folders = {os.path.dirname(p.filename) for p in error.problems}
    if hasattr(callee, "__srcad__") and _PACKAGE in folders and _RULES not in folders:
        # (a gradient srcad made, stopped in srcad's own helpers; not in a rule's helper,
        # which the second derivative's refusal names by its rule)
        return _derivative_not_again(error, callee, where)
    name = public_name(callee)
    if _is_srcad_api(callee):  # (srcad.grad(f)(x) inside)
        inside = NoRuleError(
            f"`{name}`, called inside a function srcad differentiates, is not followed: "
            "srcad differentiates the gradient it makes from outside",
            "take higher derivatives from outside (srcad.grad(srcad.grad(f)), "
            "srcad.hessian(f), srcad.jvp of srcad.grad: docs/higher-order.md); for an "
            "inner gradient step, write that gradient out in the function",
            where,
            others=error.problems[:0],
        )
        inside.reason = (f"a call of {name}", name)
        return inside
    if name.startswith(_COMPLEX_MODULES):  # (no rule could help: no complex numbers)
        complex_valued = type(error)(
            f"complex values are not supported: {name}, called here, computes with "
            "complex numbers, and srcad differentiates real ones only",
            "write the transform with real arithmetic (cosine and sine sums: `C @ x` and "
            "`S @ x`, with `C = np.cos(2 * np.pi * np.outer(k, t) / n)` and `S` of np.sin), "
            "or register a derivative rule for it with srcad.defrule (docs/custom-rules.md)",
            where,
        )
        complex_valued.reason = (reason, inner)
        return complex_valued
    code = getattr(callee, "__code__", None)
    library = code is None or installed(code.co_filename)
    why = (  # (a library's internals say little to its user: the lines after this say
        "its code is a library's, written in Python srcad does not read" if library
        else f"srcad cannot read its code: {reason}, at {inner}"  # where, for who asks)
    )
    located = type(error)(
        f"{name}, called here, cannot be differentiated: srcad has no derivative rule for "
        f"it, and {why}",
        _INSTEAD.get(name, "compute this value with functions srcad knows "
                     "(docs/derivative-table.md)")
        + f", or register a derivative rule for {name} with srcad.defrule "
        "(docs/custom-rules.md)",
        where,
        others=error.problems,
    )
    located.reason = (reason, inner)
    return located


_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_RULES = os.path.join(_PACKAGE, "rules")


def _is_srcad_api(callee: Any) -> bool:
    """Whether ``callee`` is one of srcad's public functions (``srcad.grad``)."""
    import srcad

    return any(callee is getattr(srcad, name, None) for name in srcad.__all__)


def _derivative_not_again(error: SrcadError, derivative: Any, where: Location) -> SrcadError:
    """A derivative srcad made, called inside a function differentiated again, whose
    generated code srcad cannot read (the helpers that rebuild dicts, lists and objects
    of gradients): said of the user's function, not of srcad's internals."""
    of = getattr(getattr(derivative, "__wrapped__", None), "__name__", "the function")
    located = NoRuleError(
        f"the derivative srcad made of `{of}`, called here, cannot be differentiated again "
        "inside this function (its parameters or results are dicts, lists or objects, "
        "which its code rebuilds in ways srcad does not read)",
        f"differentiate `{of}` with float or array parameters, or take the second "
        "derivative of one function with srcad.hessian or srcad.jvp of srcad.grad "
        "(docs/higher-order.md)",
        where,
        others=error.problems[:0],
    )
    located.reason = ("a derivative srcad made", f"{of}")
    return located


#: Modules whose functions compute with complex numbers (Fourier transforms), by the
#: start of their public names.
_COMPLEX_MODULES = ("numpy.fft.", "scipy.fft.", "scipy.fftpack.")

#: What to call instead of a library function srcad cannot differentiate (by public name).
_INSTEAD = {
    "numpy.partition": "sort instead (`np.sort(x)[:k]`: the same smallest values, in order)",
    "numpy.linalg.eigvals": "for a symmetric matrix, take np.linalg.eigvalsh(a)",
    **dict.fromkeys(
        ("dataclasses.asdict", "dataclasses.astuple", "dataclasses.fields"),
        "read the fields by name (`p.a`, `p.b`), and build the dict or tuple from them",
    ),
}


def public_name(callee: Any) -> str:
    """``module.name`` of a function, by the outermost module that exports it
    (``scipy.linalg.cho_solve``, not ``scipy.linalg._decomp_cholesky.cho_solve``)."""
    name = getattr(callee, "__qualname__", repr(callee))
    module = str(getattr(callee, "__module__", "?"))
    parts = module.split(".")
    for k in range(1, len(parts)):
        exported = getattr(sys.modules.get(".".join(parts[:k])), name, None)
        if exported is callee or getattr(exported, "__wrapped__", None) is callee:
            return f"{'.'.join(parts[:k])}.{name}"
    return f"{module}.{name}"


def _missing_rule(stmt: ir.Assign, fn: ir.Function | None) -> SrcadError:
    """The error for ``stmt``, an operation without a derivative rule."""
    value = stmt.value
    method = _method_called(value, fn) if fn is not None else None
    called = _called_object(value, fn) if fn is not None else None
    made_here = _made_here(value, fn) if fn is not None and method is not None else None
    missing = _missing_attribute(value, fn) if fn is not None else None
    if missing is not None:  # np.trapz in numpy 2.4: Python raises AttributeError
        spelled, module, attr = missing
        close = difflib.get_close_matches(attr, [n for n in dir(module) if n[:1] != "_"], n=1)
        version = getattr(module, "__version__", None)
        what = (
            f"`{spelled}` does not exist: module '{module.__name__}' has no attribute "
            f"'{attr}'{f' in version {version}' if version else ''} (running the function "
            "raises AttributeError)"
        )
        prefix = spelled.rsplit(".", 1)[0]
        hint = (
            f"call `{prefix}.{close[0]}`, if that is what you meant"
            if close
            else f"check the name against the documentation of {module.__name__} {version or ''}"
        )
    elif _formats_text(value, called, fn):
        what = (
            "this line turns a value srcad differentiates into text (`%`, an f-string, "
            "`.format`, `str`, `repr`, `format`), which has no derivative (a number read "
            "back from it is rounded: a step function)"
        )
        hint = (
            "differentiate the number itself (`round(x, 3)` or `np.round(x, 3)` for a "
            "rounded value), and format it outside the function"
        )
    elif made_here is not None:  # s = Spring(3.0); s.energy(x)
        what = (
            f"`.{method}(...)` is called on a {made_here.__name__} object made inside the "
            "differentiated function, which srcad leaves to its class's own code: "
            f"{_not_made_because(made_here)}"
        )
        hint = (
            f"make the {made_here.__name__} outside and pass it in as a parameter "
            "(annotated or not: srcad reads the class of the object it is given)"
        )
    elif fn is not None and method in GENERATOR_METHODS and not hasattr(
        np.ndarray, method
    ) and _receiver(value, fn) not in (*fn.params, *fn.kwonly):  # (a parameter: its class)
        what = (  # (rng.choice(x), rng.beta(a, b) of a generator made here: a draw)
            f"`.{method}(...)` draws from a distribution set by a value srcad "
            "differentiates (a random generator's method without a path from its "
            "parameters to its draws: its draws are made by rejection or by choosing)"
        )
        hint = (
            "draw from a fixed distribution and move and scale it yourself (`mu + sigma * "
            "rng.standard_normal(n)`), or index with positions drawn apart "
            "(`x[rng.permutation(len(x))]`, `x[rng.integers(0, len(x), k)]`)"
        )
    elif method == "setdefault":  # (a dict's, where desugaring left it: it may not run)
        what = (
            "`.setdefault(...)` is followed in a statement's expressions that always run, "
            "and in the arm of `a if c else b` that runs, not inside `a and b`, a lambda "
            "or a comprehension's element"
        )
        hint = "call it in a statement of its own first (`v = d.setdefault(k, 0.0)`)"
    elif method is not None and not hasattr(np.ndarray, method):  # a method of an object
        what = (
            f"`.{method}(...)` is called on an object whose class srcad does not know when "
            "it compiles (a method, or a function held in a field), so it cannot read the "
            "code it runs"
        )
        hint = (
            "annotate the parameter with its class (`def loss(model: Model, x)`; a field "
            "of items: `layers: list[Dense]`), differentiate the bound method "
            "(srcad.grad(model.loss, wrt=\"self\")), or call a method through its class "
            "(Model.method(obj, ...))"
        )
        receiver = _receiver(value, fn) if fn is not None else None
        if receiver is not None and receiver not in (*fn.params, *fn.kwonly):  # type: ignore[union-attr]
            hint = (  # (a value of the function's: no annotation to add)
                "srcad knows the class of a parameter annotated with it and of an object "
                "the function makes, not of a value picked when the program runs (an item "
                "read with a key or position that varies): pick it where srcad can see "
                "which one it is (a constant key, a loop over the container), or call a "
                "method through its class (Model.method(obj, ...))"
            )
    elif method is not None:  # a method of a value: the value may be a temporary, not named
        what = f"the method `.{method}(...)` has no derivative rule for these arguments"
        hint = (
            "call the numpy function instead (np.f(x, ...)), or register a rule for the "
            'method with srcad.defrule("x.method(...)", x="<derivative> * g")'
        )
    elif isinstance(value, ir.Call) and _bound_by_plain_python(value.func, fn):
        what = (
            f"`{_spelled(value.func)}` is bound by a `try` statement, so srcad cannot tell "
            "which function it calls"
        )
        hint = (
            "import the function at module level (a try/except there is fine), or call it "
            "by its module's name (scipy.special.expit)"
        )
    elif isinstance(called, type) and records.is_record_class(called):
        what = (
            f"making a {called.__name__} object inside the differentiated function "
            f"cannot be differentiated: {_not_made_because(called)}"
        )
        hint = (
            "keep the values in local variables, or make the object outside and pass "
            "it in as a parameter"
        )
    elif isinstance(value, ir.Call) and (maker := _called_made_here(value.func, fn)):
        what = (
            f"`{_spelled(value.func, fn)}` is a {maker.__name__} object made inside the "
            "differentiated function, and calling it runs its `__call__`, which srcad "
            f"leaves to the class's own code: {_not_made_because(maker)}"
        )
        hint = (
            f"make the object outside and pass it in as a parameter annotated with its "
            f"class (`layer: {maker.__name__}`), or call a helper function instead"
        )
    elif isinstance(value, ir.Call) and _vectorized(value.func, fn):
        what = (
            "`np.vectorize(f, ...)` is called here in a form srcad does not read: it reads "
            "`np.vectorize(f)(x, ...)` (also `vf = np.vectorize(f)`, then `vf(x, ...)`) "
            "of a function or a lambda of as many parameters, with no keyword but "
            "`otypes=[float]`"
        )
        hint = (
            "write it in that form, or the comprehension it stands for: "
            "`np.array([f(v) for v in np.ravel(x)]).reshape(np.shape(x))`"
        )
    elif isinstance(value, ir.Call) and (made := _chosen_at_run_time(value.func, fn)):
        spelled = _spelled(value.func, fn)
        what = (
            f"`{spelled}` holds a function chosen when the program runs "
            f"({made}): srcad differentiates the calls it can name when it compiles"
        )
        container = spelled.split("[")[0]
        if "[" in spelled and fn is not None and container in (*fn.params, *fn.kwonly):
            hint = (  # (for layer in layers: layer(x), the items of a parameter)
                f"annotate the parameter with the class of its items (`{container}: "
                "list[Layer]`), whose `__call__` srcad then reads, or call a method "
                "through the class"
            )
        elif "[" in spelled:  # (an item of a container, by a key computed when it runs)
            hint = (
                "pick it by a constant or a global setting (`ACTS[\"tanh\"]`, "
                "`ACTS[HIDDEN]`), or pass the function itself as an argument "
                "(`layer(W, x, np.tanh)`: srcad reads the call of it)"
            )
        else:
            hint = (
                'call each function by its name (if kind == "tanh": h = np.tanh(z)), or '
                "pass the function to a helper srcad inlines (apply(np.tanh, z))"
            )
    elif (
        isinstance(value, ir.Call)
        and fn is not None
        and isinstance(value.func, ir.Name)
        and value.func.id in fn.params + fn.kwonly
    ):  # model(x) of a parameter: an object with __call__, or a function passed in
        what = (
            f"`{value.func.id}` is a parameter called as a function: srcad does not know "
            "the class whose `__call__` it runs (or the function) when it compiles"
        )
        hint = (
            f"fix the function when you make the derivative (`functools.partial(f, "
            f"{value.func.id}=np.tanh)`), or annotate an object with its class "
            f"(`{value.func.id}: Model`)"
        )
    elif isinstance(value, ir.Call) and (instead := _container_instead(value, fn)):
        what = (
            f"`{_spelled(value.func, fn)}(...)` makes a container or an iterator that srcad "
            "does not follow here"
        )
        hint = (
            f"{instead}; docs/supported-python.md lists the containers and iterators srcad "
            "follows"
        )
    elif isinstance(value, ir.Call) and draws_at_random(_called_attribute(value, fn)):
        what = (
            f"`{_spelled(value.func, fn)}(...)` draws from a distribution set by a value "
            "srcad differentiates: srcad differentiates what the program does with a draw, "
            "not the draw itself"
        )
        hint = (
            "draw from the fixed distribution and move and scale it yourself (the "
            "reparameterization): `mu + sigma * random.gauss(0.0, 1.0)`, "
            "`loc + scale * rng.standard_normal(n)`, `low + (high - low) * rng.random()`"
        )
    elif isinstance(value, ir.Call) and (called is getattr or called is vars):
        what = (
            f"`{_spelled(value.func, fn)}(...)` reads an object's fields by names srcad "
            "does not know when it compiles"
        )
        hint = (
            "read the fields by name (`p.a`, `p.b`), or give getattr the name as a string "
            "constant"
        )
    elif isinstance(value, ir.Call) and (
        called is complex or getattr(called, "__module__", None) == "cmath"
    ):
        what = (
            f"`{_spelled(value.func, fn)}(...)` makes a complex number: complex numbers are "
            "not supported (srcad's derivative rules are for real numbers)"
        )
        hint = (
            "write the real and imaginary parts as real values (exp(i w) is cos(w) + i "
            "sin(w): keep cos and sin apart; |a + ib| is hypot(a, b))"
        )
    elif isinstance(value, ir.Call):
        what = (
            f"`{_spelled(value.func, fn)}` has no derivative rule and no Python source srcad "
            "can read"
        )
        hint = (
            'register one with srcad.defrule("f(x)", x="<derivative> * g", '
            'env={"f": f}), or wrap the argument in a function srcad can read'
        )
    elif isinstance(value, ir.BinOp):
        what = f"the operator `{value.op}` has no derivative rule"
        hint = "rewrite it with + - * / ** or register a rule with srcad.defrule"
    else:
        what = f"{_described(value)} has no derivative rule"
        hint = "rewrite it with supported operations or register a rule with srcad.defrule"
    return NoRuleError(what, hint, stmt.loc)


def _bound_by_plain_python(func: ir.Expr, fn: ir.Function | None) -> bool:
    """``func`` is a name that a ``try`` statement (run as plain Python) binds."""
    return (
        fn is not None
        and isinstance(func, ir.Name)
        and any(isinstance(s, ir.Python) and func.id in s.writes for s in ir.walk(fn.body))
    )


def _made_here(value: ir.Expr, fn: ir.Function) -> type | None:
    """The class of the object whose method ``value`` calls, when ``fn`` made that object
    itself by calling the class (``s = Spring(3.0)``); else None."""
    func = value.func if isinstance(value, ir.Call) else None

    def definition(name: str) -> ir.Expr | None:
        found = [s.value for s in ir.walk(fn.body) if isinstance(s, ir.Assign)
                 and s.target == name]
        return found[0] if len(found) == 1 else None

    if isinstance(func, ir.Name):  # t1 = s.energy; t1(x)
        func = definition(func.id)
    if not (isinstance(func, ir.Attr) and isinstance(func.value, ir.Name)):
        return None
    making = definition(func.value.id)
    called = _called_object(making, fn) if making is not None else None
    return called if isinstance(called, type) and records.is_record_class(called) else None


def _not_made_because(cls: type) -> str:
    """Why srcad leaves the objects of the record class ``cls`` that the function makes to
    the class's own code (it makes those of the user's classes itself: see
    :func:`srcad.lower.made_objects.makes_objects`)."""
    root = cls.__module__.split(".")[0]
    if issubclass(cls, BaseException):
        return "it is an exception class"
    if root in ("numpy", "scipy", "srcad", "pandas") or root in sys.stdlib_module_names:
        return f"it is a class of `{root}`, whose code srcad does not read"
    return (
        "its class has no `__init__` written in Python (srcad reads the `__init__`, or "
        "the fields, of the classes whose objects it makes itself)"
    )


def _called_made_here(func: ir.Expr, fn: ir.Function | None) -> type | None:
    """The class of the object ``func`` names, when ``fn`` made it by calling the class
    (``layer = Layer(3); layer(x)``); else None."""
    if fn is None or not isinstance(func, ir.Name):
        return None
    found = [s.value for s in ir.walk(fn.body) if isinstance(s, ir.Assign) and s.target == func.id]
    called = _called_object(found[0], fn) if len(found) == 1 else None
    return called if isinstance(called, type) and records.is_record_class(called) else None


def _formats_text(value: ir.Expr, called: Any, fn: ir.Function | None) -> bool:
    """An f-string (``formatted(template, ...)``), ``"..." % x``, ``"...".format(x)``
    (a call of the name the method was read into), ``str(x)``, ``repr(x)`` or
    ``format(x, spec)``."""
    if called is formatted or any(called is f for f in (str, repr, format, ascii)):
        return True
    if isinstance(value, ir.BinOp) and value.op == "%":
        return isinstance(value.left, ir.Const) and isinstance(value.left.value, str)
    if not (isinstance(value, ir.Call) and isinstance(value.func, ir.Name) and fn):
        return False
    method = [
        s.value for s in ir.walk(fn.body)
        if isinstance(s, ir.Assign) and s.target == value.func.id
    ]
    return len(method) == 1 and isinstance(method[0], ir.Attr) and (
        method[0].attr == "format" and isinstance(method[0].value, ir.Const)
        and isinstance(method[0].value.value, str)
    )


def _called_object(value: ir.Expr, fn: ir.Function) -> Any:
    """The object a call calls, when it is a global or a closure variable."""
    if isinstance(value, ir.Call) and isinstance(value.func, ir.Name):
        name = value.func.id
        return fn.free_objects.get(name, fn.bindings.get(name))
    return None


def _called_attribute(value: ir.Expr, fn: ir.Function | None) -> Any:
    """The object a call calls, when it is a global or a closure variable, or an
    attribute of one (``random.gauss``, ``rng.normal``: read, which runs no code of a
    module; an object's method is bound)."""
    if fn is None or not isinstance(value, ir.Call):
        return None
    names = tuple(_spelled(value.func, fn).split("."))  # (t1 = rng.normal: rng.normal)
    if not all(n.isidentifier() for n in names) or names[0] not in {
        **fn.free_objects, **fn.bindings
    }:
        return None
    found = fn.free_objects.get(names[0], fn.bindings.get(names[0]))
    for name in names[1:]:
        if not isinstance(found, types.ModuleType | np.random.Generator | np.random.RandomState):
            return None
        found = getattr(found, name, None)
    return found


#: What to write instead of a container or iterator maker srcad does not follow.
_CONTAINERS_INSTEAD: dict[tuple[str, str], str] = {
    ("builtins", "zip"): "loop over `zip(...)` where it stands: `for a, b in zip(xs, ys)`",
    ("builtins", "enumerate"): "loop over `enumerate(xs)` where it stands (`for i, x in "
    "enumerate(xs)`); last first: `for i in reversed(range(len(xs)))`, reading `xs[i]`",
    ("builtins", "map"): "write a comprehension: `[f(x) for x in xs]`",
    ("builtins", "filter"): "write a comprehension: `[x for x in xs if keep(x)]`",
    ("builtins", "tuple"): "build a list (`[...]`, a comprehension) or a tuple display `(a, b)`",
    ("builtins", "iter"): "loop over the list itself",
    ("builtins", "reversed"): "slice it (`xs[::-1]`), or loop over `reversed(xs)` where it stands",
    ("builtins", "set"): "keep the values in a list (or a dict's keys)",
    ("builtins", "frozenset"): "keep the values in a list (or a dict's keys)",
    ("itertools", "pairwise"): "write `zip(xs, xs[1:])`",
    ("itertools", "accumulate"): "keep a running total in a loop, appending to a list",
    ("itertools", "chain"): "join lists with `+` (`xs + ys`)",
    ("itertools", "product"): "write nested loops, or a comprehension with two `for`s",
    ("itertools", "combinations"): "write nested loops over positions (`for j in range(i)`)",
    ("itertools", "islice"): "slice the list: `xs[a:b]`",
    ("itertools", "starmap"): "write a comprehension: `[f(a, b) for a, b in pairs]`",
    ("itertools", "zip_longest"): "pad the shorter list first (`ys + [fill] * (len(xs) - "
    "len(ys))`), then zip them",
    ("collections", "defaultdict"): "use a dict and `d[k] = d.get(k, 0.0) + v`",
    ("collections", "deque"): "use a list and slicing (`window = window[-3:]`)",
    ("collections", "Counter"): "use a dict and `d[k] = d.get(k, 0) + 1`",
    ("collections", "OrderedDict"): "use a dict (dicts keep their order)",
}


def _container_instead(value: ir.Call, fn: ir.Function | None) -> str | None:
    """What to write instead, when ``value`` calls a maker of containers or iterators
    (``zip`` held in a name, ``itertools.pairwise``, ``collections.deque``...)."""
    if fn is None:
        return None
    first, *rest = _spelled(value.func, fn).split(".")
    obj = fn.free_objects.get(first, fn.bindings.get(first, getattr(builtins, first, None)))
    for attr in rest:
        obj = getattr(obj, attr, None)
    key = (getattr(obj, "__module__", None) or "", getattr(obj, "__name__", ""))
    return _CONTAINERS_INSTEAD.get(key)


def _described(value: ir.Expr) -> str:
    """What the user wrote, by kind (an operation's operands are temporaries by now)."""
    if isinstance(value, ir.UnaryOp):
        return f"the operator `{value.op}`"
    if isinstance(value, ir.Attr):
        return f"the attribute `.{value.attr}`"
    if isinstance(value, ir.Subscript):
        return "this indexing (`x[...]`)"
    if isinstance(value, ir.Compare):
        return "this comparison"
    return "the expression on this line"


def _vectorized(func: ir.Expr, fn: ir.Function | None) -> bool:
    """Whether the function ``func`` names was made by ``np.vectorize(...)`` in the
    listing (``t1 = np.vectorize(f, signature=...)``, then ``t1(x)``)."""
    if fn is None or not isinstance(func, ir.Name):
        return False
    return any(
        isinstance(s, ir.Assign) and s.target == func.id
        and _called_attribute(s.value, fn) is np.vectorize
        for s in ir.walk(fn.body)
    )


def _chosen_at_run_time(func: ir.Expr, fn: ir.Function | None) -> str | None:
    """How the function a call calls was chosen, when it is a value of the listing made
    by the program (``act = ACTS[kind]``, ``act = np.tanh if flag else np.sin``): the
    line that made it; None for a function srcad names when it compiles."""
    if fn is None or not isinstance(func, ir.Name):
        return None
    made = [s for s in ir.walk(fn.body) if isinstance(s, ir.Assign) and s.target == func.id]
    if not made or any(_method_of_an_object(s.value, fn) for s in made):
        return None  # (a bound method: its own messages)
    where = made[0].loc
    text = linecache.getline(where.filename, where.lineno).strip() if where.lineno else ""
    return f"line {where.lineno}: {text}" if text else "by the program"


def _method_of_an_object(value: ir.Expr, fn: ir.Function) -> bool:
    """``obj.method`` read as a value, not a module's function (``np.tanh``)."""
    names = chain_names(value) if isinstance(value, ir.Attr) else None
    if names is None:
        return isinstance(value, ir.Attr)  # (an attribute of a computed value)
    return not isinstance(fn.free_objects.get(names[0]), types.ModuleType)


def _spelled(expr: ir.Expr, fn: ir.Function | None = None) -> str:
    """``expr`` as the user wrote it: a temporary of the listing that holds an attribute
    (``t1 = np.logaddexp.reduce``) is spelled by what it holds."""
    if isinstance(expr, ir.Name):
        made = [
            s.value
            for s in ir.walk(fn.body if fn is not None else ())
            if isinstance(s, ir.Assign) and s.target == expr.id and s.tag
        ]
        if len(made) == 1 and isinstance(made[0], ir.Attr | ir.Name | ir.Subscript) and (
            made[0] != expr
        ):
            return _spelled(made[0], fn)
        if len(made) == 1 and fn is not None and _loop_items(made[0], fn):
            assert isinstance(made[0], ir.Call)  # (layers_items = loop_items(layers))
            return _spelled(made[0].args[0], fn)
        return expr.id
    if isinstance(expr, ir.Attr):
        return f"{_spelled(expr.value, fn)}.{expr.attr}"
    if isinstance(expr, ir.Subscript):  # (ACTS[kind], an item picked when the program runs)
        index = expr.index
        key = repr(index.value) if isinstance(index, ir.Const) else _spelled(index, fn)
        return f"{_spelled(expr.value, fn)}[{key}]"
    return "this function"


def _loop_items(value: ir.Expr, fn: ir.Function) -> bool:
    """``loop_items(xs)``: the items a loop over ``xs`` reads (srcad's own line)."""
    return (
        isinstance(value, ir.Call) and isinstance(value.func, ir.Name) and len(value.args) == 1
        and fn.bindings.get(value.func.id) is loop_items
    )


def _missing_attribute(value: ir.Expr, fn: ir.Function) -> tuple[str, Any, str] | None:
    """``(spelled, module, name)`` when ``value`` calls an attribute of a module that the
    module does not have (``np.trapz`` after numpy 2.4 removed it); else None."""
    if not isinstance(value, ir.Call):
        return None
    spelled = _spelled(value.func, fn)
    first, *middle, last = spelled.split(".") if "." in spelled else ("", "")
    owner = fn.free_objects.get(first)
    for name in middle:
        owner = getattr(owner, name, None)
    if not isinstance(owner, types.ModuleType) or hasattr(owner, last):
        return None
    return spelled, owner, last


def _called_method(value: ir.Expr, fn: ir.Function) -> tuple[str, str] | None:
    """The name and the method where ``value`` calls a method of a name (``x.diagonal()``,
    directly or through the bound method's temporary: ``t2 = M.diagonal; t3 = t2()``)."""
    if not isinstance(value, ir.Call):
        return None
    func = value.func
    if isinstance(func, ir.Name):
        bound = [s.value for s in ir.walk(fn.body) if isinstance(s, ir.Assign)
                 and s.target == func.id]
        func = bound[0] if len(bound) == 1 else func
    if isinstance(func, ir.Attr) and isinstance(func.value, ir.Name):
        return func.value.id, func.attr
    return None


def _receiver(value: ir.Expr, fn: ir.Function) -> str | None:
    """The name whose method ``value`` calls (``rng`` of ``rng.choice(x)``), or None."""
    called = _called_method(value, fn)
    return None if called is None else called[0]


def _method_called(value: ir.Expr, fn: ir.Function) -> str | None:
    """The method's name when ``value`` calls a method of one of ``fn``'s values
    (``x.diagonal()``, directly or through the bound method's temporary)."""
    called = _called_method(value, fn)
    if called is None:
        return None
    receiver, method = called  # (of a value of the function's: not of a module)
    targets = {s.target for s in ir.walk(fn.body) if isinstance(s, ir.Assign)}
    return method if receiver in targets | set(fn.params) | set(fn.kwonly) else None


def refuse_misread_methods(fn: ir.Function, varied: Set[str], useful: Set[str]) -> None:
    """Raise where an array method's rule reads a call ``r.m(..., v, ...)`` whose receiver
    ``r`` (a global, or an object's field) does not depend on the differentiated inputs
    while ``v`` does and stands where the method takes no derivative (an axis, a shape, a
    dtype): then ``r`` is not an array (``xp.sum(t)`` of a module ``xp`` srcad cannot see,
    read as ``t``'s ``axis``), and the gradient through ``v`` would be silently zero.
    (``varied`` and ``useful``: of the activity of ``fn``.)"""
    problems: list[SrcadError] = []
    methods = [
        s for s in ir.walk(fn.body)
        if isinstance(s, ir.Assign) and s.rule is not None and is_method_rule(s.rule)
        and s.target in useful
    ]
    seen_from_outside = _held_outside(fn) if methods else set()  # (most listings: none)
    for stmt in methods:
        rule = stmt.rule
        assert rule is not None  # (see methods)
        receiver, *arguments = stmt.operands
        # (a parameter is checked when the gradient runs: require_no_own_method)
        if not (isinstance(receiver, ir.Name) and receiver.id in seen_from_outside):
            continue
        if set(ir.names_in(receiver)) & varied:
            continue
        lost = next((
            p for p, o in zip(rule.params[1:], arguments)
            if rule.adjoint_for(p) is None and set(ir.names_in(o)) & varied
        ), None)
        if lost is None:
            continue
        assert isinstance(stmt.value, ir.Call)  # (see is_method_rule)
        called = _spelled(stmt.value.func, fn)
        owner, _, method = called.rpartition(".")
        module = fn.free_objects.get(owner, fn.bindings.get(owner))
        if isinstance(module, types.ModuleType):  # (xp = np assigned twice, or by a test)
            error = UnsupportedSyntaxError(
                f"this `.{method}(...)` is called on the module `{module.__name__}` through "
                "a name assigned more than once, or chosen when the program runs: srcad "
                f"reads it as the array method `.{method}`, and its derivative would be lost",
                f"assign the module to the name once, at the top of the function (`xp = "
                f"{owner}`), or call `{owner}.{method}(...)`",
                stmt.loc,
            )
            problems.append(at_user_call(error, stmt.loc, fn.call_sites))
            continue
        error = UnsupportedSyntaxError(
            f"`{called}(...)` is read as the array method `.{method}` of `{owner}`, which "
            "does not depend on the differentiated inputs, given a value that does where "
            f"the method takes no derivative (its `{lost}`): that derivative would be lost. "
            f"If `{owner}` is a module or holds its functions, srcad cannot see which "
            "function it calls",
            f"call the function by its module's name (`np.{method}(...)`); srcad follows a "
            f"module assigned once in the function (`xp = np`), not one passed in or held "
            "in an object",
            stmt.loc,
        )
        problems.append(at_user_call(error, stmt.loc, fn.call_sites))
    raise_all(problems)


def _held_outside(fn: ir.Function) -> set[str]:
    """Names for objects the function did not compute: globals, fields (``t1 = cfg.xp``),
    items of parameters (``mods[0]``), and copies of those (``xp = np if flag else math``
    joins two globals). (A parameter itself is checked when the gradient runs.)"""
    found = set(fn.free_objects) | set(fn.bindings)
    params = set(fn.params) | set(fn.kwonly)
    assigns = [s for s in ir.walk(fn.body) if isinstance(s, ir.Assign) and not s.in_place]
    changed = True
    while changed:
        changed = False
        for stmt in assigns:
            value = stmt.value
            base = value.value if isinstance(value, ir.Attr | ir.Subscript) else value
            if stmt.target not in found and isinstance(base, ir.Name) and (
                base.id in found or (base.id in params and base is not value)
            ):
                found.add(stmt.target)
                changed = True
    return found
