"""Name resolution: what a name, or attributes of one, in the code being lowered
denotes when srcad compiles.

One question, one answer. :meth:`Resolver.denote` takes a name or a chain of
attributes of one (``np.linalg.norm``, ``model.encoder``) -- as the user's AST, as IR,
or as a part of an operation as written (:class:`~srcad.pyexpr.Written`) -- and
returns a :class:`Denotation`: the object, whether it is *fixed* (generated code names
it, a rule matches it, a call of it is inlined) or an object srcad *knows* whose fields
are read when the gradient runs, and how to find it again when a cached gradient is
called. A name is looked up, first match wins:

1. an array namespace (``xp`` of ``xp = array_namespace(x)``): numpy (``xp.linalg.matmul``
   denotes numpy's twin; see :mod:`srcad.array_api`);
2. a function passed to the helper being inlined, or a local alias of one
   (``act = np.tanh``): that function (:attr:`Scope.statics`);
3. a variable of the function or of an enclosing one: the object srcad knows it holds
   (a parameter a bound method or a partial fixes, a field read of one), else nothing;
4. a closure cell, a global or a builtin of the function's source.

An item of a fixed list, tuple or dict picked by a constant (``ACTIVATIONS["tanh"]``,
``LOSSES[0]``) denotes the item when it is a function (numbers and arrays held so stay
values, read when the gradient runs); checked again when a cached gradient is called.

Then an attribute at a time (the walk of :func:`srcad.chains.follow`, which the stages
before lowering and the rule table share): an attribute of a fixed module, class or
ufunc is read (that runs no code); of another fixed object, it is a method its class
defines in Python, bound (``scipy.stats.norm.logpdf``) -- both
:func:`~srcad.chains.static_attribute`; of an object srcad knows, a field holding such
an object. Anything else denotes nothing srcad knows (:data:`NOTHING`).

:meth:`Resolver.reference` answers the other question a free name raises: how
generated code names it (the root's own global as it is, anything else bound under a
fresh name). The class of an object whose class the code only declares (an annotated
parameter) is :meth:`~srcad.lower.objects.Objects.expr_class`'s question.
"""

from __future__ import annotations

import ast
import enum
import functools
import os
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import array_api, astwalk, ir, records
from ..chains import MISSING, chain_names, follow, static_attribute
from ..frontend import DESUGARED_HELPERS, FunctionSource
from ..pyexpr import Written
from .values import NOT_STATIC, LoweringPart, Scope, assigned_names, returning


class Kind(enum.Enum):
    """What kind of thing a :class:`Denotation` is."""

    NOTHING = "nothing"  # nothing srcad knows when it compiles (a local value, unbound)
    MODULE = "module"
    CLASS = "class"
    FUNCTION = "function"  # anything callable but a class: functions, ufuncs, methods
    OBJECT = "object"  # an object of a record class (see srcad.records): the user's own
    CONSTANT = "constant"  # any other fixed object (a number, a tuple, np.r_)


@dataclass(frozen=True)
class Denotation:
    """What a name or attributes of one denote when srcad compiles (see the module)."""

    #: the object; ``NOT_STATIC`` when srcad knows none
    obj: Any = NOT_STATIC
    #: the object is fixed when srcad compiles (a global, a module's attribute, a
    #: function passed in): generated code may name it; else an object srcad knows
    #: (a record, read when the gradient runs)
    fixed: bool = False
    #: finds the object again when a cached gradient is called (checked against
    #: :attr:`obj`; for nothing known it gives ``NOT_STATIC``)
    lookup: Callable[[], Any] = returning(NOT_STATIC)

    @property
    def static(self) -> Any:
        """The fixed object, or ``NOT_STATIC``."""
        return self.obj if self.fixed else NOT_STATIC

    @property
    def known(self) -> Denotation | None:
        """This, if it is an object (a record) srcad knows: its methods and properties
        are inlined from its class; else None."""
        return self if records.is_record(self.obj) else None

    @property
    def function(self) -> Any:
        """The fixed object if it is a function (callable, not a class), else None."""
        obj = self.static
        return None if obj is NOT_STATIC or not callable(obj) or isinstance(obj, type) else obj

    @property
    def kind(self) -> Kind:
        obj = self.obj
        if obj is NOT_STATIC:
            return Kind.NOTHING
        if isinstance(obj, types.ModuleType):
            return Kind.MODULE
        if isinstance(obj, type):
            return Kind.CLASS
        if records.is_record_class(type(obj)):
            return Kind.OBJECT
        return Kind.FUNCTION if callable(obj) else Kind.CONSTANT


#: what a name that srcad knows nothing of denotes
NOTHING = Denotation()


class Resolver(LoweringPart):
    """The lowerer's part for name resolution (see the module)."""

    def denote(self, scope: Scope, node: ast.expr | ir.Expr | Written) -> Denotation:
        """What ``node`` denotes in ``scope`` when srcad compiles (see the module)."""
        if node.__class__ is ast.Name and node.id not in scope.statics:  # (most operands:
            value = variable(scope, node.id)  # a variable, denoting what srcad knows of it)
            if value is not FREE and value is not array_api.NAMESPACE:
                return self.variable_denotation(value)
        spelled = _spelled(node)
        if spelled is None:
            return NOTHING
        names = chain_names(spelled)
        if (  # (a global's chain, `math.sin`: the same all through the lowering)
            names is not None and names[0] not in scope.statics
            and variable(scope, names[0]) is FREE
        ):
            key = (id(scope.source), names)
            kept = self._free_chains.get(key)
            if kept is None or kept[0] is not scope.source:
                kept = self._free_chains[key] = (scope.source, self._denote(scope, spelled))
            return kept[1]
        return self._denote(scope, spelled)

    @functools.cached_property
    def _free_chains(
        self,
    ) -> dict[tuple[int, tuple[str, ...]], tuple[FunctionSource, Denotation]]:
        """What chains of a free name denote, by the source they are read in (kept with
        it): asked again and again of each call (``math.sin``), and fixed while srcad
        compiles."""
        return {}

    def _denote(self, scope: Scope, expr: ir.Expr) -> Denotation:
        if isinstance(expr, ir.Subscript):  # (see _spelled: an item of a chain, by a constant)
            base = self._denote(scope, expr.value)
            if not base.fixed or type(base.obj) not in _CONTAINERS:
                return NOTHING  # (an array's item, x[i]: its key is not looked into)
            key = self._denote_key(scope, expr.index)
            found = _denote_item(base, key)
            if found is NOTHING:
                self._depend_on_item(base, key)
            return found
        if isinstance(expr, ir.Attr) and chain_names(expr) is None:  # (an item's attribute)
            return _denote_attribute(self._denote(scope, expr.value), expr.attr)
        path = self.namespace_path(scope, expr)
        if path is not None:  # an array namespace stands for numpy (see srcad.array_api)
            twin = array_api.numpy_twin(path) if path else np
            return NOTHING if twin is None else Denotation(twin, True, returning(twin))
        names = chain_names(expr)
        assert names is not None  # (see _spelled)
        return follow(names, lambda name: self._denote_name(scope, name), _denote_attribute)

    def _depend_on_item(self, base: Denotation, key: Denotation) -> None:
        """Where an item of a fixed container is callable but not a function srcad reads
        (a callable object, a class), what was made of it depends on it all the same:
        the listing is made again when the item, or the key, changes (a refusal too).
        A number or an array held there is read when the gradient runs."""
        if not (base.fixed and key.fixed and type(base.obj) in _CONTAINERS
                and type(key.obj) in (str, int)):
            return
        marker = (id(base.obj), key.obj)
        item = _item_of(base.obj, key.obj)
        if marker in self._items_depended_on or not callable(item):
            return  # (a number or an array is read when the gradient runs: no need)
        self._items_depended_on.add(marker)
        self.dependencies.append(
            (functools.partial(_current_item, base.lookup, key.lookup), item, None)
        )

    @functools.cached_property
    def _items_depended_on(self) -> set[tuple[int, Any]]:
        """The items of containers (by container and key) the lowering depends on."""
        return set()

    def _denote_key(
        self, scope: Scope, index: ir.Expr, seen: frozenset[str] = frozenset()
    ) -> Denotation:
        """What the key of an item of a container denotes: a constant; a global holding
        one (``ACTS[HIDDEN]``); an item of a fixed dict, list or tuple by a constant,
        holding a string or an int (``ACTS[CONFIG["activation"]]``)."""
        if isinstance(index, ir.Const):
            return Denotation(index.value, True, returning(index.value))
        if isinstance(index, ir.Subscript) and isinstance(index.index, ir.Const):
            base = self._denote(scope, index.value)
            item = _item_of(base.obj, index.index.value) if base.fixed and type(
                base.obj
            ) in _CONTAINERS else MISSING
            if type(item) not in (str, int):
                return NOTHING
            key = returning(index.index.value)
            return Denotation(item, True, functools.partial(_current_item, base.lookup, key))
        if isinstance(index, ir.Name) and index.id in scope.local_names and (
            index.id not in scope.statics
        ):  # (key = CONFIG["activation"]; ACTS[key]: what it is bound to, once)
            bound = None if index.id in seen else _bound_once(scope.function, index.id)
            spelled = None if bound is None else _item_key(bound)
            return NOTHING if spelled is None else self._denote_key(
                scope, spelled, seen | {index.id}
            )
        return self._denote(scope, index)

    def _denote_name(self, scope: Scope, name: str) -> Denotation:
        if name in scope.statics:  # a function passed in, or a local alias of one
            static = scope.statics[name]
            return Denotation(static.obj, True, static.lookup)
        value = variable(scope, name)
        if value is not FREE:  # a variable: of this function or an enclosing one
            return self.variable_denotation(value)
        obj = scope.source.lookup(name)
        if obj is MISSING:
            return NOTHING
        return Denotation(obj, True, _free_lookup(scope.source, name))

    def is_namespace(self, scope: Scope, name: str) -> bool:
        """``name`` holds an array-API namespace: ``xp = array_namespace(x)`` (also in an
        enclosing function or passed to a helper), or a namespace module imported."""
        value = variable(scope, name)
        if value is not FREE:
            return value is array_api.NAMESPACE
        return array_api.is_namespace_module(scope.source.lookup(name))

    def namespace_path(self, scope: Scope, expr: ast.expr | ir.Expr) -> tuple[str, ...] | None:
        """``("linalg", "matmul")`` for ``xp.linalg.matmul`` (``xp`` a namespace), else None."""
        names = chain_names(expr)
        return names[1:] if names is not None and self.is_namespace(scope, names[0]) else None

    def known_objects(self) -> dict[str, Denotation]:
        """Listing names whose object srcad knows when it compiles: the parameters a bound
        method or a partial fixes (and fields of them read into a name, added as they are
        lowered: see :meth:`~srcad.lower.objects.Objects.object_access`)."""
        if not hasattr(self, "_known"):
            fixed = getattr(self.root, "fixed", {}) or {}
            self._known = {
                name: Denotation(value, False, returning(value))
                for name, value in fixed.items()
                if records.is_record(value)
            }
        return self._known

    def variable_denotation(self, value: Any) -> Denotation:
        """What a variable holding ``value`` denotes: an object srcad knows (see
        :meth:`known_objects`), or the class a listing name is bound to when srcad
        compiles (the ``cls`` of a classmethod it inlines: ``Model.from_params(w, b)``);
        else nothing."""
        if not isinstance(value, ir.Name):
            return NOTHING
        found = self.known_objects().get(value.id)
        if found is not None:
            return found
        bound = self.bindings.get(value.id, self.free_objects.get(value.id))
        return Denotation(bound, True, returning(bound)) if isinstance(bound, type) else NOTHING

    def reference(self, scope: Scope, spelled: ir.Expr) -> ir.Expr:
        """How generated code refers to a free name (global, closure, builtin) of
        ``scope``, or attributes of one, as ``spelled`` in the code."""
        path = self.namespace_path(scope, spelled)
        if path is not None:  # xp.pow: numpy's power on the namespace's name (see array_api)
            expr: ir.Expr = self.namespace_name()
            for part in array_api.numpy_path(path) or path:
                expr = ir.Attr(expr, part)
            return expr
        if isinstance(spelled, ir.Attr):
            return ir.Attr(self.reference(scope, spelled.value), spelled.attr)
        if isinstance(spelled, ir.Subscript):  # (a function a fixed container holds: bound,
            denoted = self._denote(scope, spelled)  # the gradient made again if it changes)
            self.dependencies.append((denoted.lookup, denoted.obj, None))
            return ir.Name(self.bound(_item_name(spelled, denoted.obj), denoted.obj))
        assert isinstance(spelled, ir.Name)
        name = spelled.id
        if name in scope.statics:  # a function passed in: named as the caller named it
            return scope.statics[name].reference
        value = variable(scope, name)  # (`cls` of a classmethod: the name of its class)
        if value is not FREE and self.variable_denotation(value).fixed:
            return value
        obj = scope.source.lookup(name)
        if name in DESUGARED_HELPERS:  # (srcad's own: bound under its own name)
            return ir.Name(self.bound(obj.__name__, obj))
        if scope.is_root:
            self.free_objects[name] = obj
            if name in scope.source.closure:
                self.free_cells[name] = scope.source.closure[name]
            return spelled
        module = _module_holding(scope.source.globals) if _is_number(obj) else None
        if name not in scope.source.closure and module is not None:
            # (a number: read from its module when the gradient runs, as the helper
            # reads it, under a name no local of the listing can take)
            return ir.Attr(ir.Name(self.bound(_short_name(module), module)), name)
        if (
            name not in self.root.closure
            and self.root.lookup(name) is obj  # (the root's globals hold it: same module,
            and name not in self.root_locals()  # read when the gradient runs), and no
            and not self.names.taken(name)  # name of the listing is `name` (a caller's
        ):  # parameter `sigma`, srcad's loop counter `k`), nor will be
            self.names.reserve(name)
            self.free_objects[name] = obj
            return spelled
        if name in scope.source.closure:  # (bound as it is now: a helper's closure
            # variable given another value, `nonlocal k; k = 5.0`, makes the gradient again)
            self.dependencies.append((_free_lookup(scope.source, name), obj, None))
        elif name in scope.source.globals and not isinstance(obj, types.ModuleType):
            # (bound as it is now: rebound in its module, the gradient is made again)
            lookup = functools.partial(scope.source.globals.get, name)
            self.dependencies.append((lookup, obj, None))
        return ir.Name(self.bound(name, obj))

    def root_locals(self) -> set[str]:
        """The names the root function binds (parameters, assignments, loop and
        comprehension variables): a helper's global of the same name is another value."""
        if not hasattr(self, "_root_locals"):
            node = self.root.node
            extra = (node.args.vararg, node.args.kwarg)
            self._root_locals = assigned_names(node) | {a.arg for a in extra if a is not None}
        return self._root_locals

    def bound(self, name: str, obj: Any) -> str:
        """The name generated code reads ``obj`` by: one bound already (under ``name``
        or a fresh name starting with it), or a new binding."""
        for bound_name, bound_obj in self.bindings.items():
            if bound_obj is obj and bound_name.startswith(name):
                return bound_name
        bound_name = self.names.fresh(name)
        self.bindings[bound_name] = obj
        return bound_name


def _is_number(obj: Any) -> bool:
    """A Python number a module holds (a constant, a setting): generated code reads it
    where it lives, when it runs, as ``math.pi``. (Arrays and other objects are bound as
    they are: srcad reads their shapes when it compiles.)"""
    return type(obj) in (float, int, bool, complex)


def _short_name(module: types.ModuleType) -> str:
    """The name a module goes by in generated code: its file's (``othermod``)."""
    stem = os.path.splitext(os.path.basename(getattr(module, "__file__", None) or ""))[0]
    if stem.isidentifier() and stem != "__init__":
        return stem
    return module.__name__.rpartition(".")[2]


def _module_holding(namespace: dict[str, Any]) -> types.ModuleType | None:
    """The imported module whose globals are ``namespace`` (None for code run by exec)."""
    module = sys.modules.get(namespace.get("__name__", ""))
    return module if module is not None and module.__dict__ is namespace else None


#: what :func:`variable` gives for a name no function being lowered binds
FREE = object()


def variable(scope: Scope, name: str) -> Any:
    """The value ``name`` holds as a variable of ``scope``'s function or of an enclosing
    one (a nested ``def`` reads its enclosing function's), ``NOT_STATIC`` for one that
    is not assigned yet, or :data:`FREE` when no function being lowered binds it (a
    global, a closure cell, a builtin)."""
    current: Scope | None = scope
    while current is not None:
        if name in current.env:
            return current.env[name]
        if name in current.local_names:
            return NOT_STATIC
        current = current.parent
    return FREE


def _spelled(node: ast.expr | ir.Expr | Written) -> ir.Expr | None:
    """``node`` as plain IR if it is a name or a chain of attributes of one, else None."""
    if isinstance(node, Written):
        return node.reference()
    if isinstance(node, ast.Name):
        return ir.Name(node.id)
    if isinstance(node, ast.Attribute):
        value = _spelled(node.value)
        return None if value is None else ir.Attr(value, node.attr)
    if isinstance(node, ast.Subscript):
        value, key = _spelled(node.value), _item_key(node.slice)
        return None if value is None or key is None else ir.Subscript(value, key)
    if isinstance(node, ir.Subscript):
        if _spelled(node.value) is None or _item_key(node.index) is None:
            return None
        return node
    return node if not isinstance(node, ast.AST) and chain_names(node) is not None else None


def _item_key(
    index: ast.expr | ir.Expr,
) -> ir.Const | ir.Name | ir.Attr | ir.Subscript | None:
    """An index that may pick one item of a container when srcad compiles: a constant
    (``"tanh"``, ``0``), a global's name (``ACTIVATIONS[HIDDEN]``, denoted then), or an
    item of one (``ACTIVATIONS[CONFIG["activation"]]``)."""
    if isinstance(index, ast.Constant | ir.Const):
        return ir.Const(index.value) if type(index.value) in (str, int) else None
    if (
        isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub)
        and isinstance(index.operand, ast.Constant) and type(index.operand.value) is int
    ):  # (LOSSES[-1]: Python's AST holds -1 as a negation)
        return ir.Const(-index.operand.value)
    if isinstance(index, ast.Name | ast.Attribute | ir.Name | ir.Attr):
        spelled = _spelled(index)
        return spelled if isinstance(spelled, ir.Name | ir.Attr) else None
    if isinstance(index, ast.Subscript | ir.Subscript):  # (ACTS[CONFIG["activation"]])
        spelled = _spelled(index)
        return spelled if isinstance(spelled, ir.Subscript) else None
    return None


def _bound_once(function: ast.FunctionDef, name: str) -> ast.expr | None:
    """What the local ``name`` is bound to where ``function`` binds it once only, by
    ``name = value`` (no other assignment, loop, ``del`` or nested function binds it);
    else None."""
    stores = [
        node for node in astwalk.walk(function)
        if isinstance(node, ast.Name) and node.id == name
        and isinstance(node.ctx, ast.Store | ast.Del)
    ]
    binding = next((
        node for node in astwalk.walk(function)
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and stores
        and node.targets[0] is stores[0]
    ), None)
    arguments = function.args
    parameters = {a.arg for a in (*arguments.posonlyargs, *arguments.args,
                                  *arguments.kwonlyargs, arguments.vararg, arguments.kwarg)
                  if a is not None}
    if len(stores) != 1 or binding is None or name in parameters:
        return None
    return binding.value


#: the containers whose items picked by a constant may denote functions
_CONTAINERS = (list, tuple, dict)


def _denote_item(base: Denotation, key: Denotation) -> Denotation:
    """What ``base[key]`` denotes (``key`` what the index denotes: a constant, or a
    global holding one): of a fixed list, tuple or dict, the item if it is a function
    (not a class: calling one makes an object); else nothing."""
    if not base.fixed or type(base.obj) not in _CONTAINERS:
        return NOTHING
    if not key.fixed or type(key.obj) not in (str, int):
        return NOTHING
    item = _item_of(base.obj, key.obj)
    if not plain_function(item):
        return NOTHING
    return Denotation(item, True, functools.partial(_current_item, base.lookup, key.lookup))


def plain_function(obj: Any) -> bool:
    """A function, a builtin, a bound method, a ufunc or a partial of one: not a class
    (calling one makes an object) nor an object with ``__call__`` (its class's methods
    are inlined as an object's)."""
    return isinstance(
        obj,
        types.FunctionType | types.BuiltinFunctionType | types.MethodType | np.ufunc
        | functools.partial,
    )


def _item_of(container: Any, key: Any) -> Any:
    try:
        return container[key]
    except (KeyError, IndexError, TypeError):
        return MISSING


def _current_item(lookup: Callable[[], Any], key: Callable[[], Any]) -> Any:
    """The item of the key ``key`` finds now in the container ``lookup`` finds now
    (MISSING when gone)."""
    container, at = lookup(), key()
    if type(container) not in _CONTAINERS or type(at) not in (str, int):
        return MISSING
    return _item_of(container, at)


def _item_name(spelled: ir.Subscript, item: Any) -> str:
    """A name for generated code to read a container's function by: its own, else the
    container's and the key's (``ACTIVATIONS_relu`` of a lambda)."""
    own = getattr(item, "__name__", "")
    if own.isidentifier() and own != "<lambda>":
        return own
    names = chain_names(spelled.value)
    key = str(spelled.index.value) if isinstance(spelled.index, ir.Const) else ""
    base = names[-1] if names else "item"
    name = f"{base}_{key}" if key.isidentifier() or key.isdigit() else base
    return name if name.isidentifier() else "item"


def _free_lookup(source: FunctionSource, name: str) -> Callable[[], Any]:
    """A cheap lookup of the free ``name`` of ``source`` (a gradient that inlined what it
    holds checks it on every call): its closure cell, its global, or the builtin."""
    if name in source.closure:
        cell = source.closure[name]
        return functools.partial(_cell_contents, cell)
    if name in source.globals:
        return functools.partial(source.globals.get, name)
    return functools.partial(source.lookup, name)


def _cell_contents(cell: types.CellType) -> Any:
    """What ``cell`` holds (MISSING while its variable is not assigned)."""
    try:
        return cell.cell_contents
    except ValueError:
        return MISSING


def _attribute_lookup(lookup: Callable[[], Any], attr: str) -> Callable[[], Any]:
    """``lookup``, then the attribute ``attr`` of what it finds."""
    return functools.partial(_attribute_of, lookup, attr)


def _attribute_of(lookup: Callable[[], Any], attr: str) -> Any:
    return getattr(lookup(), attr, MISSING)  # (gone: not what was read, never an error)


def _denote_attribute(base: Denotation, attr: str) -> Denotation:
    """What the attribute ``attr`` of what ``base`` denotes denotes: of a fixed object,
    what :func:`~srcad.chains.static_attribute` reads (see the module); of an object srcad
    knows, a field holding such an object; else nothing."""
    if base.fixed:
        found = static_attribute(base.obj, attr)
        if found is not MISSING:
            return Denotation(found, True, _attribute_lookup(base.lookup, attr))
    if base.known is not None and records.has_field(base.obj, attr):
        value = getattr(base.obj, attr)
        if records.is_record(value):
            current = base.lookup
            return Denotation(value, False, lambda: getattr(current(), attr, None))
    return NOTHING
