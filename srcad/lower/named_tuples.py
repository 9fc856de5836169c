"""Namedtuples the differentiated function makes: ``State(x, v)``, ``s._replace(x=...)``,
``State._make(items)``, of a ``collections.namedtuple`` or a ``typing.NamedTuple`` class.

Such a tuple is a tuple display that knows its class (``TupleValue.cls``): ``s.x`` is its
item, and it reads by position, unpacks, measures and iterates as any tuple display does
(:mod:`srcad.lower.lists`); a method or property of its class is inlined on it. Where it
must be one value (a loop carries it, a list or a library function is given it, the
function returns it) it is made an object of its class (:func:`srcad.runtime.named_tuple`),
whose fields the gradient then reads as it reads a namedtuple parameter's. A class whose
own code changes what a tuple does (``__add__``, ``__getitem__``, ``__new__``...) is
refused: srcad would read its objects as plain tuples."""

from __future__ import annotations

import ast
import collections
import dataclasses
import functools
import inspect
import types
from collections.abc import Callable
from typing import Any, TypeGuard

from .. import ir
from ..rules.scalar import NAMED_TUPLE
from ..runtime import named_tuple, same_class
from .resolve import variable
from .values import LoweringPart, Operand, Scope, TupleValue

Target = Callable[[], str] | None


def is_named_tuple_class(cls: Any) -> TypeGuard[type]:
    """A namedtuple class (``collections.namedtuple``, ``typing.NamedTuple``, or a
    subclass of one)."""
    return (
        isinstance(cls, type) and issubclass(cls, tuple)
        and isinstance(getattr(cls, "_fields", None), tuple)
        and callable(getattr(cls, "_make", None))
    )


class NamedTuples(LoweringPart):
    """The lowerer's part for namedtuples the function makes (see the module)."""

    def named_tuple_call(self, scope: Scope, node: ast.Call, target: Target) -> Any:
        """``State(...)``, ``State._make(items)``, and ``s._replace(...)`` of a name that
        holds a namedtuple object whose class srcad knows; None for any other call."""
        func = node.func
        cls = self.denote(scope, func).static
        if is_named_tuple_class(cls) and not self.table.has_callable(cls):
            return self.make_named_tuple(scope, node, cls)
        if not isinstance(func, ast.Attribute):
            return None
        owner = self.denote(scope, func.value).static
        if func.attr == "_make" and is_named_tuple_class(owner) and _generated(owner, "_make"):
            return self.named_tuple_of_items(scope, node, owner)
        if func.attr in ("_replace", "_make", "_asdict") and isinstance(func.value, ast.Name):
            held = variable(scope, func.value.id)  # (a parameter, a loop's namedtuple)
            cls = self.object_class(scope, func.value) if isinstance(held, ir.Name) else None
            if is_named_tuple_class(cls) and _generated(cls, func.attr):
                return self.named_tuple_method(scope, node, self.fields_of(scope, func, cls),
                                               target)
        return None

    def makes_named_tuple(self, scope: Scope, node: ast.Call) -> bool:
        """Whether ``node`` is ``State(...)`` or ``State._make(...)`` (before it is lowered)."""
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "_make":
            func = func.value
        return is_named_tuple_class(self.denote(scope, func).static)

    def make_named_tuple(self, scope: Scope, node: ast.Call, cls: type) -> TupleValue:
        """``State(a, v=b)``: its fields from the arguments and the class's defaults."""
        self.refuse_class(scope, node, cls)
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords
        ):
            raise self.error(
                scope, node, f"making a {cls.__name__} with `**` arguments (or `*` of a "
                "value whose length srcad does not know) is not supported",
                "pass the fields one by one",
            )
        args = [self.lower_expr(scope, a, None) for a in node.args]
        keywords = {
            k.arg: self.lower_expr(scope, k.value, None) for k in node.keywords if k.arg
        }
        try:
            given = inspect.signature(cls).bind(*args, **keywords).arguments
        except TypeError as error:
            raise self.error(
                scope, node, f"`{cls.__name__}(...)`: {error}", "fix the call"
            ) from None
        defaults = cls._field_defaults  # type: ignore[attr-defined]
        items = tuple(
            given[name] if name in given else self.constant(defaults[name])
            for name in cls._fields  # type: ignore[attr-defined]
        )
        return TupleValue(items, cls=cls)

    def named_tuple_of_items(self, scope: Scope, node: ast.Call, cls: type) -> TupleValue:
        """``State._make(items)`` of a tuple or list display of as many items as fields."""
        fields = cls._fields  # type: ignore[attr-defined]
        value = self.lower_expr(scope, node.args[0], None) if len(node.args) == 1 and not (
            node.keywords) else None
        if not isinstance(value, TupleValue) or len(value.items) != len(fields):
            raise self.error(
                scope, node, f"`{cls.__name__}._make(...)` is supported on a tuple or list "
                f"display of {len(fields)} items (srcad needs its items when it compiles)",
                f"make it with its fields: `{cls.__name__}({', '.join(fields)})`",
            )
        self.refuse_class(scope, node, cls)
        return TupleValue(value.items, cls=cls)

    def refuse_class(self, scope: Scope, node: ast.AST, cls: type) -> None:
        """Refuse a class whose own code changes what its tuples do (see the module)."""
        refusal = _refusal(cls)
        if refusal is not None:
            raise self.error(
                scope, node,
                f"`{cls.__name__}` objects made inside the differentiated function are not "
                f"supported: its class defines `{refusal}`, which srcad does not read for "
                "a namedtuple (it reads the objects as tuples)",
                f"make the {cls.__name__} outside and pass it in as a parameter, or make "
                f"{cls.__name__} a dataclass (srcad reads a dataclass's methods and "
                "operators)",
            )

    def fields_of(self, scope: Scope, func: ast.Attribute, cls: type) -> TupleValue:
        """The fields of the namedtuple object a name holds (``s.x``, ``s.v``, read when the
        gradient runs), as a display of its class, after a check that it is of ``cls``."""
        self.refuse_class(scope, func, cls)
        receiver = self.lower_operand(scope, func.value)
        check = self.helper_ref(
            f"check_{cls.__name__}", same_class(scope.source.location(func), cls)
        )
        self.emit(ir.Effect(ir.Call(check, (receiver,)), tag=self.next_tag()))
        reads = [
            ast.copy_location(ast.Attribute(func.value, name, ast.Load()), func)
            for name in cls._fields  # type: ignore[attr-defined]
        ]
        return TupleValue(tuple(self.lower_expr(scope, r, None) for r in reads), cls=cls)

    # ---- reads of a namedtuple display

    def named_tuple_field(
        self, scope: Scope, node: ast.Attribute, value: TupleValue, target: Target
    ) -> Any:
        """``s.x`` of a namedtuple display: its item; a property's code, inlined; a class
        attribute (``s._fields``), as the class holds it."""
        cls, attr = value.cls, node.attr
        assert cls is not None  # (a namedtuple display)
        fields = cls._fields  # type: ignore[attr-defined]
        if attr in fields:
            return value.items[fields.index(attr)]
        member = inspect.getattr_static(cls, attr, _MISSING)
        if isinstance(member, property) and isinstance(member.fget, types.FunctionType):
            call = ast.copy_location(ast.Call(node, [], []), node)
            return self.inline_member(
                scope, call, member.fget, target, lambda: cls, "fget", receiver_value=value
            )
        if member is _MISSING:
            raise self.error(
                scope, node, f"{cls.__name__} has no field or attribute `{attr}` (Python "
                "raises AttributeError)", f"read one of its fields: {', '.join(fields)}",
            )
        if callable(member) or isinstance(member, staticmethod | classmethod | property):
            raise self.error(
                scope, node, f"`{ast.unparse(node)}` is a method (or another computed "
                "attribute) taken as a value: srcad inlines calls of the methods of "
                "namedtuples the function makes, and the code of their properties",
                f"call it (`{ast.unparse(node)}(...)`) where its value is needed",
            )
        # (a class attribute, `_fields`: the same for every object; given another value,
        # the gradient is made again)
        self.dependencies.append((functools.partial(_class_attribute, cls, attr), member, None))
        return self.constant(member)

    def named_tuple_method(
        self, scope: Scope, node: ast.Call, value: TupleValue, target: Target
    ) -> Any:
        """``s._replace(x=...)``, ``s._asdict()``, or a method of the class of a namedtuple
        display, inlined on it; a tuple's own method (``s.index(v)``) on the tuple."""
        func = node.func
        assert isinstance(func, ast.Attribute) and value.cls is not None
        cls, attr = value.cls, func.attr
        if attr == "_replace" and _generated(cls, attr):
            return self.replaced_named_tuple(scope, node, value)
        if attr == "_make" and _generated(cls, attr):
            return self.named_tuple_of_items(scope, node, cls)
        if attr == "_asdict" and _generated(cls, attr) and not node.args and not node.keywords:
            keys: list[ast.expr | None] = [
                ast.Constant(name) for name in cls._fields  # type: ignore[attr-defined]
            ]
            display = ast.Dict(keys, [Operand(self.as_value(scope, v, node)) for v in value.items])
            return self.dict_display(scope, ast.copy_location(display, node), target)
        member = inspect.getattr_static(cls, attr, None)
        function = getattr(member, "__func__", member)
        if isinstance(function, types.FunctionType):
            receiver: Any = value
            if isinstance(member, classmethod):
                receiver = self.helper_ref(cls.__name__, cls)
            return self.inline_member(
                scope, node, function, target, lambda: cls, "",
                receiver=not isinstance(member, staticmethod), receiver_value=receiver,
            )
        held = Operand(self.materialize(scope, value, node))
        method = ast.copy_location(ast.Attribute(held, attr, ast.Load()), func)
        call = ast.copy_location(ast.Call(method, node.args, node.keywords), node)
        return self.lower_expr(scope, call, target)

    def replaced_named_tuple(self, scope: Scope, node: ast.Call, value: TupleValue) -> TupleValue:
        """``s._replace(x=a)``: the same class, those fields replaced."""
        cls = value.cls
        assert cls is not None
        fields = cls._fields  # type: ignore[attr-defined]
        if node.args or any(k.arg is None for k in node.keywords):
            raise self.error(
                scope, node, f"`{cls.__name__}._replace` takes its fields by keyword",
                "name each field: `s._replace(x=...)`",
            )
        unknown = [k.arg for k in node.keywords if k.arg not in fields]
        if unknown:
            raise self.error(
                scope, node, f"{cls.__name__} has no field {', '.join(map(repr, unknown))} "
                "(Python raises ValueError)", f"replace one of its fields: {', '.join(fields)}",
            )
        changes = {k.arg: self.lower_expr(scope, k.value, None) for k in node.keywords}
        return TupleValue(
            tuple(changes.get(name, item) for name, item in zip(fields, value.items)), cls=cls
        )

    # ---- one value

    def materialize_named_tuple(
        self, scope: Scope, value: TupleValue, node: ast.AST, name: str | None = None
    ) -> ir.Name:
        """A namedtuple display as one value: an object of its class, made from the tuple
        of its items (``named_tuple(State, t)``), named ``name`` (or a temporary)."""
        cls = value.cls
        assert cls is not None
        self.refuse_made_operands(scope, node, value.items)  # (dicts inside: see made_objects)
        items = self.materialize(scope, dataclasses.replace(value, cls=None), node)
        name = name or self.names.temp()
        made = self.helper_ref(cls.__name__, cls)
        self.emit(ir.Assign(
            name,
            ir.Call(self.helper_ref("named_tuple", named_tuple), (made, items)),
            NAMED_TUPLE,
            (made, items),
            tag=self.next_tag(),
            loc=scope.source.location(node),
        ))
        self.own_lists.add(name)
        if items.id in self.holds_lists:
            self.holds_lists.add(name)
        self.value_classes[name] = cls  # (its methods: of this class, checked when it runs)
        return ir.Name(name)

    def carry_named_tuple_class(self, scope: Scope, variable: str, name: str) -> None:
        """A loop carries ``variable`` as ``name``; where it holds a namedtuple object of a
        class srcad knows as the loop begins (a parameter's), ``name`` is of that class
        (checked where ``_replace`` or a method reads it: see :meth:`fields_of`)."""
        cls = self.object_class(scope, ast.Name(variable, ast.Load()))
        if is_named_tuple_class(cls):
            self.value_classes[name] = cls

    def as_result(self, scope: Scope, value: Any, node: ast.AST) -> Any:
        """The function's result, each namedtuple display in it made an object of its
        class (the result is a tuple display of them, or one)."""
        if not isinstance(value, TupleValue):
            return value
        if value.cls is not None:
            return self.materialize(scope, value, node)
        return dataclasses.replace(
            value, items=tuple(self.as_result(scope, v, node) for v in value.items)
        )


def holds_named_tuple(value: Any) -> bool:
    """A namedtuple display, or a tuple or list display holding one."""
    return isinstance(value, TupleValue) and (
        value.cls is not None or any(holds_named_tuple(v) for v in value.items)
    )


_MISSING = object()

#: what every namedtuple class defines itself (``collections.namedtuple``'s own)
_GENERATED = frozenset(vars(collections.namedtuple("_Plain", "a")))

#: special methods of a namedtuple class that leave what its tuples do as it is (text,
#: comparisons, hashing, typing's own)
_HARMLESS = frozenset((
    "__repr__", "__str__", "__format__", "__hash__", "__eq__", "__ne__", "__lt__", "__le__",
    "__gt__", "__ge__", "__class_getitem__", "__init_subclass__", "__annotate__",
    "__annotate_func__", "__weakref__", "__dict__",
))


def _refusal(cls: type) -> str | None:
    """The special method of ``cls`` (or of a base between it and ``tuple``) that
    changes what its tuples do (``__add__``, ``__getitem__``, ``__new__``...), which srcad
    would not read; None if there is none. (Data such as ``__slots__`` does not count.)"""
    for base in cls.__mro__:
        if base is tuple or base is object or base.__module__ == "typing":
            continue
        own = vars(base)
        # (a class collections.namedtuple made: its own `__new__`, `__getnewargs__`...,
        # which typing.NamedTuple does not let a class body replace)
        generated = _GENERATED if "_fields" in own else frozenset()
        for name, member in own.items():
            if name.startswith("__") and name.endswith("__") and (
                name not in _HARMLESS and name not in generated
            ) and (callable(member) or hasattr(member, "__get__")):
                return name
    return None


def _generated(cls: type, name: str) -> bool:
    """Whether ``cls``'s ``name`` (``_replace``, ``_make``, ``_asdict``) is the one
    collections.namedtuple made, not a subclass's own (inlined as its other methods)."""
    owner = next((c for c in cls.__mro__ if name in vars(c)), None)
    return owner is not None and "_fields" in vars(owner)


def _class_attribute(cls: type, attr: str) -> Any:
    """What the class ``cls`` holds as ``attr`` now."""
    return inspect.getattr_static(cls, attr, _MISSING)
