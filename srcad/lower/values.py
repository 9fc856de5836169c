"""What lowering works with: the scope of a function being lowered, values of several
items, markers, and the base of the lowerer's parts."""

from __future__ import annotations

import ast
import functools
import inspect
import types
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import astwalk, ir, records
from ..chains import GENERATOR_METHODS, draws_at_random
from ..errors import Location
from ..frontend import FunctionSource


@dataclass(frozen=True)
class TupleValue:
    """Several values at once: a tuple display or a helper's tuple result."""

    items: tuple[Any, ...]
    is_list: bool = False  # a list display (a list at run time), else a tuple
    #: the namedtuple class of a tuple the function made (``State(x, v)``: see
    #: :mod:`srcad.lower.named_tuples`); a new tuple made from it (a slice, ``+``) is plain
    cls: type | None = None


#: A key of a scope's environment: a user variable's name, or, while the branches of an
#: ``if`` are joined (:mod:`srcad.lower.joins`), a pseudo-variable (an item of a tuple,
#: the function's result).
Variable = Hashable

#: What the value of a `return` in the statements being lowered is named (a name made
#: on first use), or None (a temporary).
ResultName = Callable[[], str] | None

NOT_STATIC = object()  # what a local name "resolves" to when matching patterns


@dataclass
class Scope:
    """One function being lowered: the root, or an inlined helper."""

    source: FunctionSource
    env: dict[Variable, Any] = field(default_factory=dict)  # user name -> current value
    local_names: frozenset[str] = frozenset()
    is_root: bool = False
    node: ast.FunctionDef | None = None  # the desugared function
    parent: Scope | None = None  # the enclosing function of a nested `def`
    local_functions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    #: local functions the paths of an ``if`` define differently (or one path only)
    functions_by_path: set[str] = field(default_factory=set)
    #: the values the parameters were bound to (a list passed in is the caller's)
    arguments: dict[str, Any] = field(default_factory=dict)
    #: parameters bound to a function known when srcad compiles (``rk4(f, y, h)`` called
    #: with a module's function ``f``), which the helper never reassigns
    statics: dict[str, Static] = field(default_factory=dict)
    #: parameters bound to a ``def`` (or named lambda) of the code: the def and its scope
    passed_defs: dict[str, tuple[ast.FunctionDef, Scope]] = field(default_factory=dict)

    @property
    def function(self) -> ast.FunctionDef:
        """:attr:`node`, which every scope the lowerer makes has."""
        assert self.node is not None, "a scope the lowerer made has its function"
        return self.node


@dataclass(frozen=True, eq=False)
class DefValue:
    """A ``def`` (or named lambda) of the code held as a value: returned by a factory
    (``make_loss(reg)`` returning its nested ``loss``) or bound to a name. Its calls are
    inlined in ``home``, the scope it was defined in (its closure, as Python's); any other
    use of it as a value is refused (:meth:`LoweringPart.refuse_def_value`)."""

    node: ast.FunctionDef
    home: Scope


@dataclass(frozen=True)
class Static:
    """A function passed to a helper: the object, how generated code names it (as the
    caller did), and how to look it up again."""

    obj: Any
    reference: ir.Expr
    lookup: Callable[[], Any]


@dataclass
class LoopContext:
    """The loop being lowered: ``break`` sets its exit flag; ``carried``: the variables
    it carries from one iteration to the next."""

    exit_flag: str | None = None
    carried: tuple[str, ...] = ()


PASSED_DEF = object()  # the value of a parameter bound to a `def` of the code (see argument)


RAISED = object()  # what lowering a path that ends in `raise` returns instead of a result


def assigned_names(fn: ast.FunctionDef) -> set[str]:
    names = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)}
    for node in astwalk.nodes(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


class Operand(ast.expr):
    """An already-lowered value standing in an AST (used to build comparisons)."""

    _fields = ()

    def __init__(self, value: ir.Expr) -> None:
        super().__init__()
        self.value = value


def writes_into_out(callee: Any) -> bool:
    """Whether ``callee`` follows numpy's convention for ``out=``: its result is written
    into that array (a ufunc, a ufunc's method such as ``multiply.accumulate``, a numpy
    function)."""
    if isinstance(callee, np.ufunc) or isinstance(getattr(callee, "__self__", None), np.ufunc):
        return True
    module = getattr(callee, "__module__", None) or ""
    return module == "numpy" or module.startswith("numpy.")


def returning(obj: Any) -> Callable[[], Any]:
    """A lookup that always gives ``obj`` (an object fixed when srcad compiles)."""
    return lambda: obj


#: the methods that change a list in place besides ``append``, ``extend`` and ``pop``
def out_as_keyword(callee: Any, call: ast.Call) -> ast.Call:
    """``call`` with its output arrays as numpy names them, ``out=``: a ufunc's given by
    position (``np.exp(x, y)``; ``np.divmod(x, d, q, r)`` as ``out=(q, r)``), a numpy
    function's by position (``np.sum(M, 0, None, s)``, ``np.dot(a, b, c)``), and the
    one-item tuple ``out=(y,)`` as ``out=y``. Any other call as it is."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(
        k.arg is None for k in call.keywords
    ) or not writes_into_out(callee):
        return call
    args, keywords = list(call.args), list(call.keywords)
    if not any(k.arg == "out" for k in keywords):
        if isinstance(callee, np.ufunc):
            outs = args[callee.nin:] if len(args) > callee.nin else []
            args = args[:callee.nin]
        else:
            outs = _positional_out(callee, args)
            args = [a for a in args if all(a is not o for o in outs)]
        if outs:
            value = outs[0] if len(outs) == 1 else ast.Tuple(outs, ast.Load())
            keywords.append(ast.keyword("out", value))
    keywords = [
        ast.keyword("out", k.value.elts[0])
        if k.arg == "out" and isinstance(k.value, ast.Tuple) and len(k.value.elts) == 1
        else k
        for k in keywords
    ]
    if args == call.args and keywords == call.keywords:
        return call
    return ast.copy_location(ast.Call(call.func, args, keywords), call)


def _positional_out(callee: Any, args: list[ast.expr]) -> list[ast.expr]:
    """The argument among ``args`` that binds the parameter ``out`` of the numpy
    function ``callee`` (``np.sum(M, 0, None, s)``: ``s``), if any."""
    try:
        parameters = list(inspect.signature(callee).parameters.values())
    except (TypeError, ValueError):  # (a builtin without a signature)
        return []
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    for at, parameter in enumerate(parameters):
        if parameter.kind not in positional:  # (np.einsum(*operands, out=...): keyword)
            return []
        if parameter.name == "out":
            return [args[at]] if at < len(args) else []
    return []


def holds(value: Any, listed: Any) -> bool:
    """Does ``value`` hold the list ``listed`` (be it, or have it among its items)? A
    listing name is the same list wherever it stands; a display, only that display."""
    if value is listed or (isinstance(listed, ir.Name) and value == listed):
        return True
    return isinstance(value, TupleValue) and any(holds(v, listed) for v in value.items)


def list_key(value: Any) -> Any:
    """What identifies a list value: its listing name, or the display itself."""
    return value.id if isinstance(value, ir.Name) else id(value)


def fixed_function(value: Any) -> bool:
    """Whether ``value``, an argument a bound method or a ``functools.partial`` fixes, is a
    function srcad reads calls of when it compiles (``act=np.tanh``): a function, a
    builtin or numpy's ufunc; not a class, not an object with fields."""
    return isinstance(
        value, types.FunctionType | types.BuiltinFunctionType | np.ufunc | functools.partial
    )


def may_change_state(callee: Any) -> bool:
    """Whether a call of ``callee`` (with no derivative rule) may change state its value
    does not show, so that it must run even when its value is not read: a random draw
    (``rng.normal(size=3)``, ``np.random.seed(1)``), or a call of a value srcad knows
    nothing of until the program runs."""
    return callee is NOT_STATIC or draws_at_random(callee) or getattr(
        callee, "__srcad_draws__", False
    ) is True


def changes_its_object(callee: Any) -> bool:
    """Whether ``callee`` is a method of an object of a user's class that writes into the
    object (``TALLY.bump()``, ``S.tick()``): a call of it runs, its value read or not."""
    owner = getattr(callee, "__self__", None)
    return owner is not None and _users_object(owner) and writes_its_object(callee)


def _users_object(owner: Any) -> bool:
    """An object of a user's class, or a user's class itself (a classmethod's ``cls``)."""
    if isinstance(owner, type):
        return records.is_record_class(owner) and not issubclass(owner, tuple)
    return records.is_record(owner)


def writes_its_object(method: Any, seen: frozenset[int] = frozenset()) -> bool:
    """Whether a bound method of a user's object may write into the object: its code
    assigns to an attribute or item of ``self`` or of a name holding ``self`` or one of
    its fields (``s = self; s.w = v``, ``buf = self.buf; buf[0] = v``), calls a method of
    one (``self.log.append(x)``), gives one to another call (``setattr(self, "w", v)``,
    ``vars(self)``, ``helper(self)``), or calls a method of ``self`` that may
    (``self._set(v)``). A library's method, or one without source, does not count (its
    own state: ``random.gauss``)."""
    from ..errors import SrcadError
    from ..frontend import installed, read_function

    function = getattr(method, "__func__", None)
    owner = getattr(method, "__self__", None)
    if not isinstance(function, types.FunctionType) or installed(function.__code__.co_filename):
        return False
    if id(function) in seen:
        return False
    try:
        tree = read_function(function).node
    except SrcadError:  # (no source to read)
        return False
    if not tree.args.args:
        return False
    holders = {tree.args.args[0].arg}  # (`self`, and names bound to it or its fields,
    while True:  # in any binding: `a, b = self, x`, `for f in self.items`, `with`...)
        bound = {
            name
            for target, value in _bindings(tree) if _mentions(value, holders)
            for name in _bound_names(target)
        }
        if bound <= holders:
            break
        holders |= bound
    for node in astwalk.walk(tree):
        targets = (
            node.targets if isinstance(node, ast.Assign)
            else [node.target] if isinstance(node, ast.AugAssign | ast.AnnAssign)
            else node.targets if isinstance(node, ast.Delete) else []
        )
        if any(
            isinstance(t, ast.Subscript | ast.Attribute) and _reads_holder(t, holders)
            for t in targets
        ):
            return True
        if not isinstance(node, ast.Call):
            continue
        if any(_reads_holder(a, holders) for a in (*node.args, *(k.value for k in node.keywords))):
            return True  # (self given away: setattr, vars, a helper)
        func = node.func
        if isinstance(func, ast.Attribute) and _reads_holder(func.value, holders):
            if not (isinstance(func.value, ast.Name) and func.value.id == tree.args.args[0].arg):
                return True  # (a method of a field: `self.log.append(x)`)
            called = getattr(owner, func.attr, None)  # (`self._set(v)`: its own code)
            if not callable(called) or writes_its_object(called, seen | {id(function)}):
                return True
    return False


def _bindings(tree: ast.AST) -> Iterator[tuple[ast.AST, ast.AST]]:
    """(target, value) of each binding in ``tree``: assignments, loops, comprehensions,
    ``with ... as``, ``:=``."""
    for node in astwalk.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                yield target, node.value
        elif isinstance(node, ast.AnnAssign | ast.NamedExpr) and node.value is not None:
            yield node.target, node.value
        elif isinstance(node, ast.For | ast.comprehension):
            yield node.target, node.iter
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            yield node.optional_vars, node.context_expr


def _bound_names(target: ast.AST) -> Iterator[str]:
    """The names a binding's target binds (not those an item or attribute target reads)."""
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for item in target.elts:
            yield from _bound_names(item)
    elif isinstance(target, ast.Starred):
        yield from _bound_names(target.value)


def _mentions(node: ast.AST, holders: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in holders for n in astwalk.walk(node))


def _reads_holder(node: ast.expr, holders: set[str]) -> bool:
    """``node`` is a name of ``holders`` or an attribute or item of one, however deep."""
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Starred):
        node = node.value
    return isinstance(node, ast.Name) and node.id in holders


def shuffles(call: ast.Call) -> bool:
    """Whether ``call`` is ``random.shuffle(xs)`` or a generator's ``rng.shuffle(x)``
    (given a callee that :func:`may_change_state`): it changes its argument in place."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name == "shuffle"


def draws_random_numbers(callee: Any, call: ast.Call) -> bool:
    """Whether a bare ``call`` only draws random numbers or seeds a generator
    (``np.random.seed(1)``, ``rng.normal(size=3)`` for its effect on later draws)."""
    if not may_change_state(callee) or shuffles(call):
        return False
    if callee is not NOT_STATIC:
        return True
    func = call.func  # (a method of a generator the function made: its name)
    return isinstance(func, ast.Attribute) and func.attr in _GENERATOR_METHODS


_GENERATOR_METHODS = GENERATOR_METHODS - {"shuffle", "permuted"}



LIST_CHANGES = ("insert", "remove", "reverse", "sort", "clear")


def grown_list(node: ast.AST) -> ast.Name | None:
    """``name`` of ``name.append(...)``, ``name.extend(...)``, ``name.pop(...)`` or
    another of the list methods that change it (:data:`LIST_CHANGES`), as written: see
    :meth:`~srcad.lower.lists.Lists.appended_list` for ``np.append`` and for arrays;
    else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("append", "extend", "pop", *LIST_CHANGES)
        and isinstance(node.func.value, ast.Name)
    ):
        return node.func.value
    return None


#: The attribute of a node srcad wrote in place of the user's (a callee it calls instead)
#: that holds the user's own code of it, which messages quote.
USER_SPELLING = "srcad_user_spelling"


class LoweringPart:
    """One part of :class:`~srcad.lower.lowerer.Lowerer`, which combines the parts: a
    part's methods call the others' through ``self``, and read the state that
    ``Lowerer.__init__`` sets up."""

    #: the ``return`` statement of the function body being lowered that was lowered last
    _last_return: ast.Return | None
    #: lists a helper changed in place (see ``Lists.refuse_stale``), set per path
    stale_lists: dict[Any, Any]
    #: recursive calls inlined so far (see ``Inlining.check_recursion``)
    recursive_calls: int
    #: the ``if`` whose branches are being joined (see ``Joins.phi``)
    joining: Location | None = None

    if TYPE_CHECKING:  # (the checker sees the combined class's attributes as Any)

        def __getattr__(self, name: str) -> Any: ...
