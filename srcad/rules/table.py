"""The derivative table: rules as data, looked up by the shape of the forward code.

A rule pairs a forward *pattern* (Python source over named parameters, such as
``"x * y"`` or ``"math.exp(x)"``) with one adjoint *template* per parameter, also
Python source, over the parameters, ``g`` (the adjoint of the result) and ``ans``
(the forward result)::

    defrule("x * y", x="y * g", y="x * g")
    defrule("math.exp(x)", x="ans * g", env={"math": math})

A template reads like the code it generates; ``None`` marks a parameter that gets no
gradient. Any other name in a pattern or template is looked up in ``env``. A pattern
of several operations (an idiom such as the sigmoid ``1 / (1 + exp(-x))``) becomes one
gate with its own, cheaper rule.
"""

from __future__ import annotations

import functools
import inspect
import sys
import threading
import types
from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast

import numpy as np

from .. import ir, pyexpr
from ..chains import MISSING, static_chain
from ..ir import Rule, Scatter, Signature, Zeroed  # (what a rule is: part of the IR)
from ..pyexpr import Written

#: Names a template may use besides the rule's parameters and its ``env``.
TEMPLATE_NAMES = ("g", "ans")

#: What a pattern is matched against: plain IR, or the user's code as it is written,
#: each part knowing where it was written (see :class:`srcad.pyexpr.Written`).
Subject = ir.Expr | Written


def _form(expr: Subject) -> ir.Expr | None:
    """The IR ``expr`` stands for (None: a part of the user's code with no IR form)."""
    return expr.form if isinstance(expr, Written) else expr


def _size(expr: ir.Expr) -> int:
    return 1 + sum(_size(child) for child in ir.children(expr))


def _free_names(expr: ir.Expr) -> list[str]:
    """Names in first-appearance order, skipping function positions' attribute parts."""
    seen: list[str] = []
    for name in _ordered_names(expr):
        if name not in seen:
            seen.append(name)
    return seen


def _ordered_names(expr: ir.Expr):
    if isinstance(expr, ir.Name):
        yield expr.id
    for child in ir.children(expr):
        yield from _ordered_names(child)


def _is_method(pattern: ir.Call, env: Mapping[str, Any]) -> bool:
    """``x.sum(...)``: a call of an attribute of a parameter (not of a module in ``env``)."""
    func = pattern.func
    return (
        isinstance(func, ir.Attr) and isinstance(func.value, ir.Name) and func.value.id not in env
    )


def index_key(written: Subject, resolve: Callable[[Subject], Any]) -> tuple | None:
    """The table key under which rules for the user's expression ``written`` are filed."""
    expr = _form(written)
    if isinstance(expr, ir.BinOp):
        return ("binop", expr.op)
    if isinstance(expr, ir.UnaryOp):
        return ("unaryop", expr.op)
    if isinstance(expr, ir.Compare):
        return ("compare", expr.op)
    if isinstance(expr, ir.Subscript):
        return ("subscript",)
    if isinstance(expr, ir.Tuple):
        return None
    if isinstance(expr, ir.Call):
        func = resolve(expr.func)
        if func is not MISSING:
            return callee_key(func)
        method = _form(expr.func)
        if isinstance(method, ir.Attr):
            return ("method", method.attr)
        return None
    if isinstance(expr, ir.Attr):
        return ("attr", expr.attr)
    return None


def callee_key(obj: Any) -> tuple:
    """The table's key for a called object: its identity; for a method of a ufunc or of
    an object, which is a new object each time it is read (``np.add.accumulate``,
    ``scipy.stats.norm.logpdf``), the owner's identity and the method's."""
    owner = getattr(obj, "__self__", None)
    if isinstance(owner, np.ufunc) and isinstance(obj, types.BuiltinMethodType):
        return ("call", id(owner), obj.__name__)
    if isinstance(obj, types.MethodType):  # (scipy.stats.norm.logpdf: new on each read too)
        return ("call", id(owner), id(obj.__func__))
    return ("call", id(obj))


def same_callee(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are the same method of the same ufunc or object (see
    :func:`callee_key`)."""
    return isinstance(a, types.BuiltinMethodType | types.MethodType) and callee_key(
        a
    ) == callee_key(b)


def _index_key(pattern: ir.Expr, env: Mapping[str, Any]) -> tuple:
    if isinstance(pattern, ir.BinOp):
        return ("binop", pattern.op)
    if isinstance(pattern, ir.UnaryOp):
        return ("unaryop", pattern.op)
    if isinstance(pattern, ir.Compare):
        return ("compare", pattern.op)
    if isinstance(pattern, ir.Subscript):
        return ("subscript",)
    if (
        isinstance(pattern, ir.Attr)
        and isinstance(pattern.value, ir.Name)
        and pattern.value.id not in env
    ):
        return ("attr", pattern.attr)
    if isinstance(pattern, ir.Call) and _is_method(pattern, env):
        assert isinstance(pattern.func, ir.Attr)  # (what _is_method tests)
        return ("method", pattern.func.attr)
    if isinstance(pattern, ir.Call):
        func = static_chain(pattern.func, lambda n: env.get(n, MISSING))
        if func is MISSING:
            raise ValueError(f"rule pattern calls an unknown function: {pattern.func!r}")
        return callee_key(func)
    raise ValueError(f"a rule pattern must be an operation or a call, not {pattern!r}")


class RuleTable:
    """All rules, indexed by the root of their pattern (operator or called object)."""

    def __init__(self) -> None:
        self._by_key: dict[tuple, list[Rule]] = {}
        self._callables: dict[tuple, Any] = {}  # keeps called objects alive while indexed
        self._lock = threading.Lock()
        #: bumped on every change, so that gradients built before a new rule are rebuilt
        self.version = 0
        #: families registered once their module is imported: module name -> loader
        self._deferred: dict[str, Callable[[], Any]] = {}

    def defer(self, module: str, loader: Callable[[], Any]) -> None:
        """Run ``loader`` (which adds rules) once ``module`` has been imported by anyone,
        so that srcad itself never imports it (SciPy's rules: only with SciPy in use)."""
        self._deferred[module] = loader
        self._load_deferred()

    def _load_deferred(self) -> None:
        if not self._deferred:
            return
        for module in [m for m in self._deferred if m in sys.modules]:
            with self._lock:
                loader = self._deferred.pop(module, None)
            if loader is not None:
                loader()

    def add(self, rule: Rule) -> Rule:
        key = _index_key(rule.pattern, rule.env)
        with self._lock:
            if key[0] == "call":
                assert isinstance(rule.pattern, ir.Call)  # (see _index_key)
                self._callables[key] = static_chain(
                    rule.pattern.func, lambda n: rule.env.get(n, MISSING)
                )
            rules = [r for r in self._by_key.get(key, []) if r.pattern != rule.pattern]
            rules.append(rule)
            rules.sort(key=lambda r: (not r.user, -r.size))  # then idioms (bigger patterns)
            self._by_key[key] = rules
            self.version += 1
        return rule

    def user_rules(self) -> list[Rule]:
        """The rules ``defrule`` and ``defgrad`` added (to take out again: :meth:`remove`)."""
        with self._lock:
            return [r for rules in self._by_key.values() for r in rules if r.user]

    def remove(self, rule: Rule) -> None:
        """Take ``rule`` out of the table (undoing an ``add``, such as a ``defgrad``)."""
        key = _index_key(rule.pattern, rule.env)
        with self._lock:
            rules = [r for r in self._by_key.get(key, []) if r is not rule]
            if rules:
                self._by_key[key] = rules
            else:
                self._by_key.pop(key, None)
                if key[0] == "call":
                    self._callables.pop(key, None)
            self.version += 1

    def candidates(self, key: tuple) -> list[Rule]:
        self._load_deferred()
        return self._by_key.get(key, [])

    def find(
        self, expr: ir.Expr, env: Mapping[str, Any]
    ) -> tuple[Rule, tuple[ir.Expr, ...]] | None:
        """The rule for ``expr`` (an operation over local names and the names of
        ``env``) and its operands in the rule's parameter order, or None."""

        def resolve(e: Subject) -> Any:
            return static_chain(e, lambda n: env.get(n, MISSING))

        key = index_key(expr, resolve)
        for rule in self.candidates(key) if key is not None else ():
            bound = match(rule.pattern, expr, rule, resolve)
            if bound is not None:  # (parts of plain IR)
                return rule, tuple(cast(ir.Expr, bound[p]) for p in rule.params)
        return None

    def has_callable(self, obj: Any) -> bool:
        self._load_deferred()
        return callee_key(obj) in self._by_key

    def __iter__(self):
        self._load_deferred()
        for rules in list(self._by_key.values()):
            yield from rules


def _read_instead(rule: Rule) -> bool:
    """A user's rule without a tangent, for a Python function whose source srcad can
    read (forward mode differentiates that source)."""
    if not rule.user or rule.tangents or not isinstance(rule.pattern, ir.Call):
        return False
    func = rule.pattern.func
    called = rule.env.get(func.id) if isinstance(func, ir.Name) else None
    return isinstance(called, types.FunctionType) and _has_source(called)


@functools.lru_cache(maxsize=256)
def _has_source(function: types.FunctionType) -> bool:
    """Can ``function``'s source be read? (Asked at every call lowering looks up: once.)"""
    try:
        inspect.getsource(function)
    except (OSError, TypeError):
        return False
    return True


class Rules(Protocol):
    """What lowering asks of a table: the rules indexed under a key, and whether a
    called object has any."""

    def candidates(self, key: tuple) -> list[Rule]: ...

    def has_callable(self, obj: Any) -> bool: ...


class ForwardModeRules:
    """The table as forward mode reads it: a rule the user gave without a tangent
    (``srcad.defgrad``) for a function srcad can read is left out, so that the function's
    code is differentiated (``jvp``, and second derivatives, which run reverse mode over
    forward mode's code). For a function it cannot read (a builtin, compiled code) the
    rule stays, and forward mode refuses it for want of a tangent."""

    def __init__(self, table: RuleTable) -> None:
        self.table = table

    def candidates(self, key: tuple) -> list[Rule]:
        return [r for r in self.table.candidates(key) if not _read_instead(r)]

    def has_callable(self, obj: Any) -> bool:
        return bool(self.candidates(callee_key(obj)))


TABLE = RuleTable()
#: the table for forward mode (see :class:`ForwardModeRules`)
FORWARD_MODE_RULES = ForwardModeRules(TABLE)

#: ``a = b``: a plain copy (the phi copies at the end of branches and loop bodies).
COPY = Rule(name="copy", pattern=ir.Name("x"), params=("x",), adjoints=(ir.Name("g"),), linear=True)

#: ``x[i] = v`` on an array the function made: ``v`` gets ``g[i]``, the old items nothing.
SETITEM = Rule(
    name="item assignment",
    pattern=ir.Name("x"),
    params=("x", "i", "v"),
    adjoints=(Zeroed("i"), None, ir.Subscript(ir.Name("g"), ir.Name("i"))),
    broadcasting=True,
    in_place=True,
)
#: ``x[i] += v``: ``v`` gets ``g[i]``, ``x`` keeps its whole adjoint.
ADDITEM = Rule(
    name="item update",
    pattern=ir.Name("x"),
    params=("x", "i", "v"),
    adjoints=(None, None, ir.Subscript(ir.Name("g"), ir.Name("i"))),
    broadcasting=True,
    in_place=True,
)

#: ``np.add.at(x, i, v)``: like ``x[i] += v``, but a repeated index adds each time, so
#: every item of ``v`` gets its item of ``g``.
ADDAT = Rule(
    name="np.add.at",
    pattern=ir.Name("x"),
    params=("x", "i", "v"),
    adjoints=(None, None, ir.Subscript(ir.Name("g"), ir.Name("i"))),
    broadcasting=True,
    in_place=True,
    repeats_add=True,
)

_PACKS: dict[int, Rule] = {}


def pack_rule(size: int) -> Rule:
    """``t = (x0, x1, ...)``: each element's adjoint is the matching item of ``g``."""
    if size not in _PACKS:
        params = tuple(f"x{k}" for k in range(size))
        _PACKS[size] = Rule(
            name=f"tuple of {size}",
            pattern=ir.Tuple(tuple(ir.Name(p) for p in params)),
            params=params,
            adjoints=tuple(ir.Subscript(ir.Name("g"), ir.Const(k)) for k in range(size)),
            linear=True,
            holds=True,
        )
    return _PACKS[size]


_DICTS: dict[int, Rule] = {}


def dict_rule(size: int) -> Rule:
    """``d = {k0: x0, k1: x1, ...}`` (distinct constant keys): each value's adjoint is
    the item of ``g`` under its key; the keys get none."""
    if size not in _DICTS:
        keys = tuple(f"k{k}" for k in range(size))
        values = tuple(f"x{k}" for k in range(size))
        _DICTS[size] = Rule(
            name=f"dict of {size}",
            pattern=ir.Dict(tuple(ir.Name(k) for k in keys), tuple(ir.Name(v) for v in values)),
            params=keys + values,
            adjoints=(None,) * size
            + tuple(ir.Subscript(ir.Name("g"), ir.Name(k)) for k in keys),
            linear=True,
            holds=True,
        )
    return _DICTS[size]


#: Adjoint templates by parameter, for ``defrule(pattern, **templates)`` (a template's
#: text, a :class:`Scatter`, or None). Typed loosely: a checker matches a ``**``
#: argument against each keyword of :func:`defrule` (``env``, ``table``, ...) as well.
Templates = dict[str, Any]


def defrule(
    pattern: str,
    *,
    env: Mapping[str, Any] | None = None,
    name: str | None = None,
    table: RuleTable = TABLE,
    broadcasting: bool = False,
    elementwise: bool = False,
    creates: bool = False,
    linear: bool = False,
    jointly_linear: bool = False,
    tangents: Mapping[str, str] | None = None,
    reduction: bool = False,
    shift_invariant: str | None = None,
    distinct: bool = False,
    view: bool = False,
    restore: str | None = None,
    selector: str | None = None,
    holds: bool = False,
    sequences: tuple[str, ...] = (),
    floats: bool = False,
    shares: bool = False,
    orders: tuple[str, ...] = (),
    draws: bool = False,
    notes: Mapping[str, tuple[str, str]] | None = None,
    **adjoints: str | Scatter | None,
) -> Rule:
    """Add a rule: ``pattern`` in Python syntax, one adjoint template per parameter.

    In a call pattern, keyword arguments are parameters with defaults:
    ``"np.sum(x, axis=None, keepdims=False)"`` matches ``np.sum(a)``, ``np.sum(a, 1)``
    and ``np.sum(a, keepdims=True, axis=0)``; ``"x.sum(axis=None)"`` matches the method.
    (That holds for a pattern that is a call of parameters, its :class:`Signature`.)
    """
    env = dict(env or {})
    pattern_expr = pyexpr.parse(pattern)
    signature = call_signature(pattern_expr, env)
    params = tuple(n for n in _free_names(pattern_expr) if n not in env)
    if signature is not None:  # (``f(x, axis=None)``: the keywords are parameters too)
        params += tuple(k for k in signature.params if k not in params)
    _check_signatures(pattern, pattern_expr, signature, params)
    unknown = set(adjoints) - set(params)
    if unknown:
        raise ValueError(f"rule {pattern!r}: templates for unknown parameters {sorted(unknown)}")
    needed = {"axis", "keepdims"} if reduction else set()
    if shift_invariant is not None:
        needed |= {"x", shift_invariant}
    if not needed <= set(params):
        raise ValueError(f"rule {pattern!r}: needs the parameters {sorted(needed - set(params))}")
    if any(o not in params or adjoints.get(o) is not None for o in orders):
        raise ValueError(f"rule {pattern!r}: orders {orders} must be parameters without adjoints")
    templates: list[ir.Expr | Scatter | None] = []
    for param in params:
        text = adjoints.get(param)
        if text is None or isinstance(text, Scatter):
            templates.append(text)
            continue
        template = pyexpr.parse(text)
        allowed = set(params) | set(TEMPLATE_NAMES) | set(env)
        stray = [n for n in ir.names_in(template) if n not in allowed]
        if stray:
            raise ValueError(f"rule {pattern!r}: template {text!r} uses undefined names {stray}")
        templates.append(template)
    rule = Rule(
        name=name or pattern,
        pattern=pattern_expr,
        params=params,
        adjoints=tuple(templates),
        env=env,
        signature=signature,
        size=_size(pattern_expr),
        broadcasting=broadcasting,
        elementwise=elementwise,
        creates=creates,
        linear=linear,
        jointly_linear=jointly_linear,
        tangents=tuple(
            pyexpr.parse(tangents[p]) if tangents and p in tangents else None for p in params
        )
        if tangents
        else (),
        reduction=reduction,
        shift_invariant=shift_invariant,
        distinct=distinct,
        view=view or restore is not None,
        restore=restore,
        selector=selector,
        holds=holds,
        sequences=sequences,
        floats=floats,
        shares=shares,
        orders=orders,
        draws=draws,
        notes=dict(notes or {}),
    )
    return table.add(rule)


def call_signature(pattern: ir.Expr, env: Mapping[str, Any]) -> Signature | None:
    """The signature of a pattern that is a call of parameters (``np.sum(x, axis=None,
    keepdims=False)``, ``x.sum(axis=None)``): its positional arguments are parameters
    without defaults, its keywords parameters with defaults. None for another pattern."""
    if not isinstance(pattern, ir.Call):
        return None
    positional = [a.id for a in pattern.args if isinstance(a, ir.Name) and a.id not in env]
    if len(positional) != len(pattern.args):
        return None
    options = [k for k, _ in pattern.kwargs]
    params = (*positional, *options)
    callee = _parameters(_callee(pattern.func, env))
    if callee is None:
        return Signature(pattern.func, params, dict(pattern.kwargs))
    by_position = _by_position(callee, positional, options)
    idle = {
        p.name: p.default
        for p in callee
        if p.name not in params and (
            p.default is None or type(p.default) in (bool, int, float, str)
        )
    }
    return Signature(
        pattern.func,
        params,
        dict(pattern.kwargs),
        by_position,
        idle,
    )


def _by_position(
    callee: list[inspect.Parameter], operands: list[str], options: list[str]
) -> tuple[str, ...]:
    """The names a call's positional arguments bind to (see :attr:`Signature.positional`):
    the rule's operands, then the callee's own names after them. Where the callee takes
    ``*args``, the rule's options in its order up to the first that the callee takes by
    keyword only (``norm.logpdf(x, *args)``: loc, scale; ``np.meshgrid(*xi, copy=True)``:
    none, an item past the rule's operands is another operand, not this rule's call)."""
    names: list[str] = []
    for parameter in callee:
        if parameter.kind is parameter.VAR_POSITIONAL:
            keyword_only = {p.name for p in callee if p.kind is p.KEYWORD_ONLY}
            kept = []
            for option in options:
                if option in keyword_only:
                    break
                kept.append(option)
            return (*operands, *names[len(operands):], *kept)
        if parameter.kind not in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            break
        names.append(parameter.name)
    return (*operands, *names[len(operands):])


def _callee(func: ir.Expr, env: Mapping[str, Any]) -> Any:
    """The function a pattern's callee denotes (``np.var``), or numpy's array method of
    that name for a method pattern (``x.var``); None when neither is found."""
    if isinstance(func, ir.Attr) and isinstance(func.value, ir.Name) and func.value.id not in env:
        return getattr(np.ndarray, func.attr, None)
    found = static_chain(func, lambda n: env.get(n, MISSING))
    return None if found is MISSING else found


def _parameters(callee: Any) -> list[inspect.Parameter] | None:
    """The parameters of ``callee`` (an array method's without ``self``); None when it
    has no signature to read (a call then binds as the rule says)."""
    try:
        parameters = list(inspect.signature(callee).parameters.values())
    except (TypeError, ValueError):
        return None
    return parameters[1:] if parameters and parameters[0].name == "self" else parameters


def _check_signatures(
    text: str, pattern: ir.Expr, signature: Signature | None, params: tuple[str, ...]
) -> None:
    """Defaults are constants (or the rule's ``env``), and only the outermost call has
    them: a call inside a pattern is matched as it is written."""
    for default in signature.defaults.values() if signature is not None else ():
        named = [n for n in ir.names_in(default) if n in params]
        if named:
            raise ValueError(f"rule {text!r}: a default names the parameter {named[0]!r}")
    for node in _calls_in(pattern):
        if node is pattern or not all(isinstance(a, ir.Name) and a.id in params for a in node.args):
            continue
        defaults = [k for k, v in node.kwargs if not (isinstance(v, ir.Name) and v.id in params)]
        if defaults:  # (``np.log(np.sum(x, axis=None))``: a default, or a value to match?)
            raise ValueError(
                f"rule {text!r}: keywords with defaults ({defaults[0]}=...) only in the "
                "outermost call; a call inside the pattern is matched as it is written"
            )


def _calls_in(expr: ir.Expr):
    if isinstance(expr, ir.Call):
        yield expr
    for child in ir.children(expr):
        yield from _calls_in(child)


def _bind_call(
    signature: Signature, written: Subject, rule: Rule, resolve, bound: dict
) -> dict | None:
    """Bind a call to ``signature``: positional, then keyword arguments, then defaults."""
    expr = _form(written)
    if not isinstance(expr, ir.Call):
        return None
    if _match(signature.func, expr.func, rule, resolve, bound) is None:
        return None
    names, defaults = signature.params, signature.defaults
    by_position = names if signature.positional is None else signature.positional
    if len(expr.args) > len(by_position):
        return None
    if rule.reduction and "keepdims" in by_position[: len(expr.args)]:
        # numpy's reductions take ``axis`` by position, then ``dtype`` and ``out``
        # (``np.sum(a, 1, float)``), never ``keepdims``: such a call is not this rule's
        return None
    given: dict[str, Subject] = {}
    for key, value in (*zip(by_position, expr.args), *expr.kwargs):
        if key in given:
            return None
        if key not in names:  # (the callee's own option: at its default, left out)
            if not _is_default(value, signature.idle.get(key, MISSING)):
                return None
            continue
        given[key] = value
    for name in names:
        argument = given.get(name, defaults.get(name))
        if argument is None:
            return None  # a required argument is missing
        if name in bound and bound[name] != argument:
            return None
        bound[name] = argument
    return bound


def _is_default(argument: Subject, default: Any) -> bool:
    """``argument`` is the constant ``default`` (None, a bool, an int, a float or a
    string: ``boundary="fill"``) as written, of its type."""
    expr = _form(argument)
    return default is not MISSING and isinstance(expr, ir.Const) and (
        expr.value is default
        or type(expr.value) is type(default) and expr.value == default
    )


def match(
    pattern: ir.Expr,
    expr: Subject,
    rule: Rule,
    resolve: Callable[[Subject], Any],
    bound: dict[str, Subject] | None = None,
) -> dict[str, Subject] | None:
    """Bind ``rule``'s parameters to sub-expressions of ``expr``, or return None.

    ``resolve`` maps a user's ``Name``/``Attr`` chain to the object it denotes (or any
    non-identical sentinel when it is not a static reference). A call of parameters,
    ``rule``'s pattern, binds the call's arguments by the rule's signature; any other
    part of a pattern matches the same part of ``expr``. A parameter binds a part of
    ``expr`` as it is (a :class:`Written` part: where it was written); a default
    argument of the rule's signature binds the default, plain IR.
    """
    bound = {} if bound is None else bound
    if pattern is rule.pattern and rule.signature is not None:
        return _bind_call(rule.signature, expr, rule, resolve, bound)
    return _match(pattern, expr, rule, resolve, bound)


def _match(
    pattern: ir.Expr,
    written: Subject,
    rule: Rule,
    resolve: Callable[[Subject], Any],
    bound: dict[str, Subject],
) -> dict[str, Subject] | None:
    """``match`` of a part of a pattern, as it is written."""
    if isinstance(pattern, ir.Name) and pattern.id in rule.params:
        if pattern.id in bound:
            return bound if bound[pattern.id] == written else None
        bound[pattern.id] = written
        return bound
    expr = _form(written)
    if (
        isinstance(pattern, ir.Attr)
        and isinstance(pattern.value, ir.Name)
        and pattern.value.id in rule.params
    ):
        if not isinstance(expr, ir.Attr) or expr.attr != pattern.attr:
            return None
        return _match(pattern.value, expr.value, rule, resolve, bound)
    if isinstance(pattern, ir.Name | ir.Attr):
        wanted = static_chain(pattern, lambda n: rule.env.get(n, MISSING))
        if wanted is MISSING:
            return None
        found = resolve(written)
        return bound if found is wanted or same_callee(found, wanted) else None
    if isinstance(pattern, ir.Const):
        if isinstance(pattern.value, bool):  # keepdims=True and such: exactly that
            return bound if isinstance(expr, ir.Const) and expr.value is pattern.value else None
        if (
            isinstance(expr, ir.Const)
            and type(expr.value) is not bool
            and isinstance(expr.value, int | float)
            and expr.value == pattern.value
        ):
            return bound
        return None
    if type(pattern) is not type(expr):
        return None
    # (below, expr is of pattern's type)
    if (
        isinstance(pattern, ir.BinOp | ir.UnaryOp | ir.Compare)
        and isinstance(expr, ir.BinOp | ir.UnaryOp | ir.Compare)
        and pattern.op != expr.op
    ):
        return None
    if isinstance(pattern, ir.Call) and isinstance(expr, ir.Call):
        # positional arguments in order, keywords by name
        keywords = dict(expr.kwargs)
        if len(pattern.args) != len(expr.args) or set(keywords) != {k for k, _ in pattern.kwargs}:
            return None
        pairs = [
            (pattern.func, expr.func),
            *zip(pattern.args, expr.args),
            *((value, keywords[key]) for key, value in pattern.kwargs),
        ]
        for p, e in pairs:
            if _match(p, e, rule, resolve, bound) is None:
                return None
        return bound
    pattern_children, expr_children = ir.children(pattern), ir.children(expr)
    if len(pattern_children) != len(expr_children):
        return None
    for p, e in zip(pattern_children, expr_children):
        if _match(p, e, rule, resolve, bound) is None:
            return None
    return bound


def is_method_rule(rule: Rule) -> bool:
    """A rule for a method (``x.copy()``: a dict has one too)."""
    func = rule.pattern.func if isinstance(rule.pattern, ir.Call) else None
    return (
        isinstance(func, ir.Attr)
        and isinstance(func.value, ir.Name)
        and func.value.id not in rule.env
    )
