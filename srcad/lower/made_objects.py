"""Objects the differentiated function makes itself: ``Quad(A).energy(x)``,
``layer = Dense(W, b); layer(h)``, ``Vec2(x, y) + w``, ``[Dense(W1, b1), Dense(W2, b2)]``.

Such an object, of a plain class or a dataclass, is a dict the function made, keyed by
its field names: each field is a value of the listing, so the gradient flows through
it to the parameters, and a change through one name is seen through every other (as
for any dict the function made). Its class is known when srcad compiles: a
:class:`MadeObject` per listing name. ``__init__`` (or a dataclass's fields and
``__post_init__``) runs inlined on the new dict; ``obj.w`` reads an item, ``obj.w = v``
writes one; methods, properties, ``__call__`` and the operators (``__add__``,
``__rmul__``, ...: :mod:`srcad.lower.made_operators`) are inlined from the class. A
name that holds such an object on some paths only, or objects of different classes,
is refused where it is used; so is an object that leaves the code srcad reads (given
to a library function, returned by the differentiated function)."""

from __future__ import annotations

import abc
import ast
import copy
import dataclasses
import functools
import inspect
import sys
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import astwalk, ir, records, stand_ins
from ..errors import SrcadError
from ..rules.table import SETITEM
from .closures import routine_called
from .named_tuples import holds_named_tuple
from .resolve import FREE, variable
from .values import DefValue, LoweringPart, Operand, Scope, Static, TupleValue

Target = Callable[[], str] | None


#: methods that change the list, dict, set or array they are called on
_CHANGING_METHODS = frozenset((
    "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update",
    "setdefault", "popitem", "add", "discard", "fill", "resize", "put", "itemset",
    "partition", "setfield", "setflags", "byteswap",
))


@dataclass(eq=False)
class MadeObject:
    """What srcad knows, when it compiles, of an object the function made: its class,
    the fields set so far, and what fields hold that srcad must know to call it (an
    object it made, a list of them, a function)."""

    cls: type
    frozen: bool = False
    fields: set[str] = field(default_factory=set)
    held: dict[str, Any] = field(default_factory=dict)  # MadeObject | Items | Static
    #: the knowledge a join or a loop merged this one into (or from): a write through
    #: one of them may change the others' objects, whose held values are then unknown
    related: list[MadeObject] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class Items:
    """A field holding a list or tuple of objects of one class the function made."""

    item: MadeObject


class MadeObjects(LoweringPart):
    """The lowerer's part for objects the function makes (see the module)."""

    # ---- what srcad knows of a value

    def made_of(self, value: Any) -> MadeObject | None:
        """The object ``value`` (a lowered operand) holds, if the function made it."""
        return self.made.get(value.id) if isinstance(value, ir.Name) else None

    def field_holds_list(self, scope: Scope, node: ast.Attribute) -> bool:
        """Whether the field ``node`` of an object the function made holds a list it
        made, or one that may hold lists (``self.M = [[0.0] * n] * n``): a write into
        an item of an item would change what other holders see, which srcad does not
        follow. (By the field's name: any object's field of that name set so.)"""
        return node.attr in self.list_fields and self.may_be_made(scope, node.value)

    def may_be_made(self, scope: Scope, node: ast.expr) -> bool:
        """Whether ``node`` may give an object the function made, as far as the code
        shows before it is lowered (a name holding one, making one, a member of one)."""
        if isinstance(node, ast.Name):
            value = variable(scope, node.id)
            if isinstance(value, TupleValue):  # (a list display of objects, a namedtuple)
                return holds_named_tuple(value) or any(
                    self.made_of(item) is not None for item in value.items
                )
            return value is not FREE and isinstance(value, ir.Name) and (
                value.id in self.made or value.id in self.lost_objects
                or value.id in self.made_items
            )
        if isinstance(node, ast.Attribute | ast.Subscript):
            return self.may_be_made(scope, node.value)
        if isinstance(node, ast.Call):
            if self.constructed_class(scope, node) is not None or self.makes_named_tuple(
                scope, node
            ):
                return True
            if self.denote(scope, node.func).static is dataclasses.replace and node.args:
                return self.may_be_made(scope, node.args[0])
            if self.reduction_of(scope, node) is not None:  # (sum(objs), max(a, b))
                return True
            return self.may_be_made(scope, node.func)
        if isinstance(node, ast.BinOp):
            return self.may_be_made(scope, node.left) or self.may_be_made(scope, node.right)
        if isinstance(node, ast.UnaryOp):
            return self.may_be_made(scope, node.operand)
        if isinstance(node, Operand):  # (lowered already: its value tells)
            value = node.value
            return isinstance(value, ir.Name) and (
                value.id in self.made or value.id in self.lost_objects
                or value.id in self.made_items
            )
        return False

    def receiver(self, scope: Scope, node: ast.expr) -> tuple[Any, MadeObject | None] | None:
        """``node`` lowered and what it holds, when it may be an object the function made
        (see :meth:`may_be_made`); None, unlowered, otherwise. A name that holds such an
        object on some paths only is refused here. A call of a helper srcad inlines may
        return one it made (``make(a, b).x``, ``B.__add__(b, s).x``)."""
        if not (self.may_be_made(scope, node) or self.inlined_call(scope, node)):
            return None
        value = self.lower_expr(scope, node, None)
        self.refuse_lost(scope, node, value)
        return value, self.made_of(value)

    def inlined_call(self, scope: Scope, node: ast.expr) -> bool:
        """A call of a function of the user's that srcad inlines (no rule of its own), or
        of a method through ``super()``."""
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) and (
            isinstance(func.value.func, ast.Name) and func.value.func.id == "super"
        ):
            return True
        callee = self.denote(scope, func).static
        if isinstance(callee, types.MethodType) and isinstance(callee.__self__, type):
            callee = callee.__func__  # (a classmethod: `Spring.stiff(k).energy(x)`)
        return (  # (solve_ivp: called through srcad's function, which has the rule)
            isinstance(callee, types.FunctionType) and not self.table.has_callable(callee)
            and routine_called(callee) is None
        )

    def refuse_lost(self, scope: Scope, node: ast.AST, value: Any) -> None:
        if isinstance(value, ir.Name) and value.id in self.lost_objects:
            raise self.error(
                scope,
                node,
                f"`{ast.unparse(node)}` holds an object the function made on some paths "
                "only, or objects of different classes (or it is an item of a tuple or dict "
                "that holds objects beside other values): srcad needs to know its class "
                "when it compiles",
                "make an object of the same class on every path (or give the other value "
                "another name); loop over the objects themselves (`for obj in (a, b)`)",
            )

    # ---- making an object

    def constructed_class(self, scope: Scope, node: ast.Call) -> type | None:
        """The class ``node`` makes an object of, when srcad makes it itself: a plain
        class or a dataclass of the user's (``Vec2(x, y)``), or the class of an object
        the function made (``type(self)(...)``, ``self.__class__(...)``)."""
        func = node.func
        if isinstance(func, ast.Call) and self.denote(scope, func.func).static is type:
            made = self.made_of(variable(scope, func.args[0].id)) if (
                len(func.args) == 1 and isinstance(func.args[0], ast.Name)
            ) else None
            return made.cls if made is not None else None
        if isinstance(func, ast.Attribute) and func.attr == "__class__" and isinstance(
            func.value, ast.Name
        ):
            made = self.made_of(variable(scope, func.value.id))
            return made.cls if made is not None else None
        if not isinstance(func, ast.Name | ast.Attribute):
            return None
        cls = self.denote(scope, func).static
        return cls if makes_objects(cls) and not self.table.has_callable(cls) else None

    def replaced_dataclass(self, scope: Scope, node: ast.Call) -> tuple[type, ast.Call] | None:
        """``dataclasses.replace(obj, x=...)`` of a dataclass object the function made (a
        name holds it), or of a parameter whose class srcad knows, as the call of its
        class that it is: ``State(x=..., v=obj.v)`` (each field ``init`` takes, from the
        changes or from ``obj``); None otherwise."""
        if not (
            self.denote(scope, node.func).static is dataclasses.replace
            and len(node.args) == 1 and isinstance(node.args[0], ast.Name)
            and all(k.arg is not None for k in node.keywords)
        ):
            return None
        found = self.receiver(scope, node.args[0])
        if found is not None and found[1] is not None:
            cls: type | None = found[1].cls
        else:  # (a parameter whose class srcad knows: annotated, or of the object given)
            cls = self.known_dataclass(scope, node.args[0])
            given = scope.env.get(node.args[0].id)
            if cls is None and isinstance(given, ir.Name) and given.id in self.parameter_names:
                raise self.class_request(
                    scope, node, f"`dataclasses.replace({node.args[0].id}, ...)` makes an "
                    "object", node.args[0].id,
                )
        if cls is None or not dataclasses.is_dataclass(cls):
            return None
        changes = {k.arg: k.value for k in node.keywords}
        kept = _field_reads(node.args[0].id, cls, node)
        keywords = [
            ast.keyword(spec.name, changes.pop(spec.name, kept[spec.name]))
            for spec in dataclasses.fields(cls) if spec.init
        ]
        if changes:
            raise self.error(
                scope, node, f"dataclasses.replace: {cls.__name__} has no field "
                f"{', '.join(map(repr, changes))} that its __init__ takes", "fix the call",
            )
        call = ast.Call(node.func, [], keywords)
        return cls, ast.fix_missing_locations(ast.copy_location(call, node))

    def class_request(
        self, scope: Scope, node: ast.AST, what: str, parameter: str, why: str = ""
    ) -> SrcadError:
        """The error saying ``what`` (a call of the user's) needs the class of the object
        ``parameter`` holds: the build is then made again with the call's objects
        (:func:`srcad.building.needs_classes`), or the user annotates it."""
        return self.error(
            scope, node, f"{what} whose class srcad does not know when it compiles{why}",
            f"annotate the parameter with its class (`{parameter}: State`)",
        )

    def known_dataclass(self, scope: Scope, node: ast.Name) -> type | None:
        """The dataclass of the object a parameter ``node`` holds, where srcad knows it
        (annotated, or of the object a call gave); else None."""
        cls = self.expr_class(scope, node)
        if cls is None:
            example = self.example_of(scope, node)
            cls = type(example) if dataclasses.is_dataclass(example) else None
        return cls if isinstance(cls, type) and dataclasses.is_dataclass(cls) else None

    def copied_dataclass(self, scope: Scope, node: ast.Call, target: Target) -> ir.Name | None:
        """``copy.copy(p)`` or ``copy.deepcopy(p)`` of a dataclass object given to the
        function (its class known, see :meth:`known_dataclass`): an object the function
        makes, holding ``p``'s fields (deep: copies of them), whose fields the function
        may then set; None for any other call."""
        callee = self.denote(scope, node.func).static
        deep = callee in (copy.deepcopy, stand_ins.deepcopy)
        if not (
            (deep or callee in (copy.copy, stand_ins.shallow_copy))
            and len(node.args) == 1 and not node.keywords
            and isinstance(node.args[0], ast.Name)
        ):
            return None
        made = self.made_of(scope.env.get(node.args[0].id))
        if made is not None and not dataclasses.is_dataclass(made.cls):
            if deep or not _copied_field_by_field(made.cls):
                return None
            copied: dict[str, ast.expr] = {  # (a plain class's object: Python copies its
                name: ast.copy_location(  # fields, whatever `copy` method the class has)
                    ast.Attribute(ast.Name(node.args[0].id, ast.Load()), name, ast.Load()),
                    node,
                ) for name in sorted(made.fields)
            }
            return self.object_of_fields(scope, node, made.cls, copied, target)
        if made is not None:  # (an object the function made: a copy of its fields)
            cls: type | None = made.cls
        else:
            cls = self.known_dataclass(scope, node.args[0])
        given = scope.env.get(node.args[0].id)
        if cls is None and isinstance(given, ir.Name) and given.id in self.parameter_names and (
            _used_as_object(scope.function, node)
        ):
            raise self.class_request(
                scope, node, f"`{ast.unparse(node)}` copies an object", node.args[0].id,
                ", and the function reads or sets its fields",
            )
        if cls is None:
            return None
        fields = _field_reads(node.args[0].id, cls, node)
        if deep:  # (copies of them)
            fields = {k: ast.copy_location(ast.Call(node.func, [read], []), node)
                      for k, read in fields.items()}
        return self.object_of_fields(scope, node, cls, fields, target)

    def object_a_loop_rebuilds(
        self, scope: Scope, loop: ast.For | ast.While, name: str, value: Any
    ) -> Any:
        """``value``, what ``name`` holds as ``loop`` begins; where that is a dataclass
        object given to the function and the loop binds ``name`` to new objects (``s =
        dataclasses.replace(s, v=...)``, ``s = State(...)``), the same fields in an
        object the function made, so that the variable holds one on every iteration.
        (Only where nothing sets a field of ``name``: the caller's object would change.)"""
        rebuilt = any(
            isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
            and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)
            for n in astwalk.walk(loop)
        )
        if not rebuilt or self.made_of(value) is not None or not isinstance(value, ir.Name):
            return value
        fields_set = any(
            isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store | ast.Del)
            and isinstance(n.value, ast.Name) and n.value.id == name
            for n in astwalk.walk(scope.function)
        )
        cls = None if fields_set else self.known_dataclass(
            scope, ast.copy_location(ast.Name(name, ast.Load()), loop)
        )
        replaced = next((  # (s = dataclasses.replace(s, ...) of an object given: its class)
            n for n in astwalk.walk(loop)
            if isinstance(n, ast.Call) and self.denote(scope, n.func).static is dataclasses.replace
            and n.args and isinstance(n.args[0], ast.Name) and n.args[0].id == name
        ), None)
        if cls is None and not fields_set and replaced is not None and (
            value.id in self.parameter_names
        ):
            raise self.class_request(
                scope, replaced, f"`dataclasses.replace({name}, ...)` makes an object", name
            )
        if cls is None:
            return value
        return self.object_of_fields(scope, loop, cls, _field_reads(name, cls, loop), None)

    def make_object(
        self, scope: Scope, node: ast.Call, cls: type, target: Target
    ) -> ir.Name:
        """``Quad(A)``: a new dict (the object), ``__init__`` inlined on it."""
        refusal = _refusal(cls)
        if refusal is not None:
            raise self.error(
                scope,
                node,
                f"`{cls.__name__}` objects made inside the differentiated function are not "
                f"supported: {refusal}",
                f"make the {cls.__name__} outside and pass it in as a parameter",
            )
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords
        ):
            raise self.error(
                scope,
                node,
                f"making a {cls.__name__} with `*` or `**` arguments is not supported",
                "pass the arguments one by one",
            )
        self.hand_on_lists(scope, node)
        if dataclasses.is_dataclass(cls):
            return self.make_dataclass(scope, node, cls, target)
        name = (target or self.names.temp)()
        self.dict_display(scope, ast.copy_location(ast.Dict([], []), node), lambda: name)
        self.made[name] = MadeObject(cls)
        init = inspect.getattr_static(cls, "__init__")
        if init is object.__init__:
            if node.args or node.keywords:
                raise self.error(
                    scope, node, f"`{cls.__name__}()` takes no arguments", "pass none"
                )
            return ir.Name(name)
        self.call_member(scope, node, cls, "__init__", ir.Name(name), node.args, node.keywords)
        return ir.Name(name)

    def hand_on_lists(self, scope: Scope, node: ast.Call) -> None:
        """A list a variable holds, passed to a constructor or a method of an object the
        function made (or with one, to a helper): the object may keep it (``self.w = w``),
        so the variable and the field hold one list. A display is made
        once, here, and the variable holds that list (read again, a display would be a
        new list: a write through the field would be lost, round 62b), as do the
        caller's variables when a helper was given the display (:meth:`read_name`);
        growing it through either holder is refused, as for ``b.w = ws``."""
        for argument in (*node.args, *(k.value for k in node.keywords)):
            if not isinstance(argument, ast.Name) or argument.id not in scope.env:
                continue
            value = scope.env[argument.id]
            if isinstance(value, TupleValue) and value.is_list:
                display = value
                value = self.materialize(scope, value, argument, self.names.fresh(argument.id))
                scope.env[argument.id] = value
                if scope.arguments.get(argument.id) is display:  # (a caller's display)
                    self.kept_displays[id(display)] = (display, value)
            self.share(value)

    def make_dataclass(self, scope: Scope, node: ast.Call, cls: type, target: Target) -> ir.Name:
        """A dataclass: its fields from the call's arguments and the defaults, then its
        ``__post_init__`` inlined."""
        try:
            bound = inspect.signature(cls).bind(
                *node.args, **{k.arg: k.value for k in node.keywords if k.arg is not None}
            )
        except TypeError as error:
            raise self.error(
                scope, node, f"`{cls.__name__}(...)`: {error}", "fix the call"
            ) from None
        passed = set(bound.arguments)
        bound.apply_defaults()
        values: dict[str, Any] = {}
        specs = dataclasses.fields(cls)
        # (InitVar pseudo-fields: parameters of __init__ that are no field, given on to
        # __post_init__ in their order)
        init_vars = [n for n in bound.arguments if n not in {spec.name for spec in specs}]
        for spec in specs:
            if not spec.init and spec.default is dataclasses.MISSING and (
                spec.default_factory is dataclasses.MISSING
            ):
                continue  # (field(init=False) with no default: __post_init__ sets it)
            given = bound.arguments.get(spec.name, spec.default) if spec.init else spec.default
            factory = spec.default_factory
            if factory is not dataclasses.MISSING and not (spec.init and spec.name in passed):
                # (a fresh list or dict for each object; another factory's value is not
                # known where srcad compiles)
                given = {list: ast.List([], ast.Load()), dict: ast.Dict([], [])}.get(
                    factory, dataclasses.MISSING)  # type: ignore[call-overload]
                if isinstance(given, ast.expr):
                    given = ast.copy_location(given, node)
            if given is dataclasses.MISSING or isinstance(given, dataclasses.InitVar):
                raise self.error(
                    scope,
                    node,
                    f"the field `{spec.name}` of {cls.__name__} has a default_factory other "
                    "than list or dict (or no value srcad can give it here)",
                    "pass the field's value in the call",
                )
            values[spec.name] = given
        name = self.object_of_fields(scope, node, cls, values, target)
        if isinstance(inspect.getattr_static(cls, "__post_init__", None), types.FunctionType):
            given_on = [bound.arguments[n] for n in init_vars]
            arguments = [
                v if isinstance(v, ast.expr) else Operand(self.constant(v)) for v in given_on
            ]
            self.call_member(scope, node, cls, "__post_init__", name, arguments, [])
        return name

    def object_of_fields(
        self, scope: Scope, node: ast.AST, cls: type, values: dict[str, Any], target: Target
    ) -> ir.Name:
        """An object of the dataclass ``cls`` the function makes, its fields ``values``
        (code, or constants), without running ``__post_init__``."""
        keys: list[ast.expr | None] = [ast.Constant(name) for name in values]
        items = [
            v if isinstance(v, ast.expr) else Operand(self.constant(v)) for v in values.values()
        ]
        lowered = [self.lower_expr(scope, item, None) for item in items]
        display = ast.copy_location(
            ast.Dict(keys, [Operand(self.as_value(scope, v, node)) for v in lowered]), node
        )
        name = (target or self.names.temp)()
        self.dict_display(scope, display, lambda: name)
        params = getattr(cls, "__dataclass_params__", None)
        made = MadeObject(cls, frozen=bool(params is not None and params.frozen))
        self.made[name] = made
        for key, value in zip(values, lowered):
            self.note_write(made, key, value)
        return ir.Name(name)

    def as_value(self, scope: Scope, value: Any, node: ast.AST) -> Any:
        """A display of values as one value (a list or tuple held by a field)."""
        return self.materialize(scope, value, node) if isinstance(value, TupleValue) else value

    # ---- fields

    def made_attribute(self, scope: Scope, node: ast.Attribute, target: Target) -> Any:
        """``obj.w`` of an object the function made: its field, a property's code, or a
        class attribute; None when ``node.value`` is not such an object."""
        found = self.receiver(scope, node.value)
        if found is None:
            return None
        value, made = found
        if isinstance(value, TupleValue) and value.cls is not None:  # (s.x of State(...))
            return self.named_tuple_field(scope, node, value, target)
        if made is None:  # (not an object after all: an attribute of a value)
            read = ast.copy_location(ast.Attribute(Operand(value), node.attr, ast.Load()), node)
            return self.operation(scope, read, target)
        return self.read_member(scope, node, value, made, target)

    def read_member(
        self, scope: Scope, node: ast.Attribute, value: ir.Expr, made: MadeObject, target: Target
    ) -> Any:
        """``obj.attr`` of an object the function made, as Python looks it up."""
        cls, attr = made.cls, node.attr
        member = inspect.getattr_static(cls, attr, _MISSING)
        if isinstance(member, property):
            if not isinstance(member.fget, types.FunctionType):
                raise self.error(scope, node, f"`{cls.__name__}.{attr}` has no getter srcad "
                                 "can read", "read a field instead")
            return self.call_member(scope, node, cls, attr, value, [], [], target, "fget")
        if _descriptor(member) and attr not in made.fields and not attr.startswith("__"):
            raise self.error(
                scope,
                node,
                f"`{cls.__name__}.{attr}` is a {type(member).__name__}, a descriptor whose "
                "code srcad does not read (it reads a @property's)",
                "make it a @property, or read the fields it is computed from",
            )
        if attr in made.fields:
            if member is not _MISSING and not _dataclass_field(cls, attr) and not _slot(cls, attr):
                raise self.shadowing_error(scope, node, cls, attr)
            item = ast.copy_location(
                ast.Subscript(Operand(value), field_key(attr), ast.Load()), node
            )
            read = self.operation(scope, item, target)
            self.note_read(read, made.held.get(attr))
            return read
        if attr.startswith("__") and attr.endswith("__") or hasattr(member, "__set__"):
            raise self.error(  # (u.__dict__, a slot: Python's machinery, not a field)
                scope,
                node,
                f"`{ast.unparse(node)}` reads Python's own machinery of this {cls.__name__} "
                "object, which srcad keeps as a dict of its fields inside the function",
                "read the fields themselves",
            )
        if member is _MISSING:
            raise self.error(
                scope,
                node,
                f"this {cls.__name__} object has no field `{attr}` here (its `__init__` and "
                "the code before this line do not set it)",
                f"set `self.{attr}` in `{cls.__name__}.__init__`",
            )
        if callable(member) or isinstance(member, staticmethod | classmethod):
            raise self.error(
                scope,
                node,
                f"`{ast.unparse(node)}` is a method taken as a value: srcad inlines calls of "
                "the methods of objects the function makes",
                f"call it (`{ast.unparse(node)}(...)`) where its value is needed",
            )
        # a class attribute (the same for every object), as it is now: given another
        # value (`Layer.scale = 3.0`), the gradient is made again
        self.dependencies.append((functools.partial(_class_attribute, cls, attr), member, None))
        return self.constant(member)

    def note_read(self, value: Any, held: Any) -> None:
        """What a field read gives: an object, or a list of objects, srcad knows."""
        if not isinstance(value, ir.Name):
            return
        if isinstance(held, MadeObject):
            self.made[value.id] = held
        elif isinstance(held, Items):
            self.made_items[value.id] = held.item

    def note_write(self, made: MadeObject, attr: str, value: Any) -> None:
        """``obj.attr = value``: the field is set, and holds what ``value`` is; the
        objects a join related to this one may have changed too (what their ``attr``
        holds is no longer known)."""
        made.fields.add(attr)
        if self.is_own_list(value) or self.holds_list(value):
            self.list_fields.add(attr)
        held = value if isinstance(value, Static) else self.held_by(value)
        if held is None:
            made.held.pop(attr, None)
        else:
            made.held[attr] = held
        for other in made.related:
            if other is not made:
                other.held.pop(attr, None)

    def held_by(self, value: Any) -> Any:
        """What srcad must remember of a value stored in a field (None: nothing)."""
        if isinstance(value, TupleValue):
            merged = merge([self.made_of(item) for item in value.items])
            return Items(merged) if isinstance(merged, MadeObject) else None
        if isinstance(value, ir.Name) and value.id in self.made_items:
            return Items(self.made_items[value.id])
        bound = self.bindings.get(value.id) if isinstance(value, ir.Name) else None
        if callable(bound) and not isinstance(bound, type):  # (a default: act=np.tanh)
            return Static(bound, value, lambda: bound)
        return self.made_of(value)

    def store_field(
        self, scope: Scope, target: ast.Attribute, value: Any, function: Static | None = None
    ) -> None:
        """``obj.attr = value``: an item written into an object the function made;
        refused for any other object (a change srcad cannot follow). ``function``: the
        function ``value`` is, when srcad knows it (called as ``obj.attr(...)``)."""
        found = self.receiver(scope, target.value)
        made = found[1] if found is not None else None
        if found is not None and isinstance(found[0], TupleValue) and found[0].cls is not None:
            raise self.error(
                scope, target, f"a {found[0].cls.__name__} is a namedtuple, whose fields "
                "cannot be assigned (Python raises AttributeError)",
                f"make a new one: `s = s._replace({target.attr}=...)`",
            )
        if made is None:
            raise self.error(
                scope,
                target,
                "assigning to an attribute changes an object outside the function, which "
                "srcad cannot differentiate",
                "assign to a local variable and return it (objects the function makes "
                "itself may have their fields set)",
            )
        if made.frozen:
            raise self.error(
                scope,
                target,
                f"{made.cls.__name__} is a frozen dataclass: assigning to its field raises "
                "FrozenInstanceError",
                "make a new object with dataclasses.replace, or a new one of the class",
            )
        if hasattr(inspect.getattr_static(made.cls, target.attr, None), "__set__") and not _slot(
            made.cls, target.attr
        ):  # (a slot of __slots__ is a field, as the object's dict of fields holds it)
            raise self.error(  # (a property's setter, a descriptor: code of the class)
                scope,
                target,
                f"`{made.cls.__name__}.{target.attr}` is a property (or another descriptor): "
                "assigning to it runs its setter, which srcad does not read here",
                "set the fields the setter sets (`obj._value = ...`), or call a method "
                "that sets them",
            )
        self.refuse_shadowing(scope, target, made)
        assert found is not None  # (it holds an object)
        item = ast.copy_location(
            ast.Subscript(Operand(found[0]), field_key(target.attr), ast.Store()), target
        )
        self.store_item(scope, item, Operand(value), SETITEM, target)
        self.note_write(made, target.attr, function or value)

    def refuse_shadowing(self, scope: Scope, target: ast.Attribute, made: MadeObject) -> None:
        """Refuse a field named as an attribute of its class (``self.lr = ...`` over
        ``lr = 0.1``): which of the two a read gets depends on the path (in a loop, on the
        iteration), and srcad reads each read once."""
        cls, attr = made.cls, target.attr
        member = inspect.getattr_static(cls, attr, _MISSING)
        if member is not _MISSING and not (
            _dataclass_field(cls, attr) or _slot(cls, attr)
            or attr.startswith("__") and attr.endswith("__")
        ):
            raise self.shadowing_error(scope, target, cls, attr)

    def shadowing_error(
        self, scope: Scope, node: ast.Attribute, cls: type, attr: str
    ) -> SrcadError:
        """The refusal of a field named as an attribute of its class (where it is read
        after it is set, or where it is set)."""
        return self.error(
            scope,
            node,
            f"`{attr}` is both a field of this {cls.__name__} object and an attribute "
            f"of its class: which one Python reads depends on the path that set it",
            "give the field and the class attribute different names",
        )

    def update_field(self, scope: Scope, stmt: ast.AugAssign) -> None:
        """``obj.attr op= w`` of an object the function made, as Python runs it (an array
        field changes in place: every name holding it sees the change)."""
        target = stmt.target
        assert isinstance(target, ast.Attribute)
        found = self.receiver(scope, target.value)
        made = found[1] if found is not None else None
        if made is not None and not isinstance(target.value, ast.Name):
            # (bs[i].v += f, the item one object known when srcad compiles: through a name
            # of srcad's own that holds it, as `b = bs[i]; b.v += f` would)
            assert found is not None  # (made: found)
            root = target.value
            while isinstance(root, ast.Subscript | ast.Attribute):
                root = root.value
            holder = f"{root.id if isinstance(root, ast.Name) else 'object'}_item"
            while holder in scope.env or holder in scope.local_names:
                holder += "_"
            scope.env[holder] = found[0]
            held = ast.copy_location(ast.Name(holder, ast.Load()), target.value)
            target = ast.copy_location(ast.Attribute(held, target.attr, ast.Store()), target)
            stmt = ast.copy_location(ast.AugAssign(target, stmt.op, stmt.value), stmt)
        if made is None or not isinstance(target.value, ast.Name):
            self.store_field(scope, target, None)  # (refused there)
            raise self.error(scope, target, f"`{ast.unparse(target)} op= ...` is supported on "
                             "a name holding the object", "read the field into a name first")
        if made.frozen:
            self.store_field(scope, target, None)  # (refused there)
        self.refuse_shadowing(scope, target, made)
        item = ast.copy_location(
            ast.Subscript(target.value, field_key(target.attr), ast.Store()), target
        )
        self.update_item(scope, ast.copy_location(ast.AugAssign(item, stmt.op, stmt.value), stmt))
        made.fields.add(target.attr)
        made.held.pop(target.attr, None)

    def made_item(self, scope: Scope, node: ast.Subscript, target: Target) -> Any:
        """``obj[key]`` of an object the function made (its ``__getitem__``, or a field
        srcad reads as an item), and ``layers[i]`` of a list of such objects (the object
        itself); None when ``node.value`` may be neither."""
        if not self.may_be_made(scope, node.value):
            return None
        base = self.lower_expr(scope, node.value, None)
        self.refuse_lost(scope, node.value, base)
        made = self.made_of(base)
        if made is not None and not getattr(node.slice, "srcad_field", False):
            if not isinstance(
                inspect.getattr_static(made.cls, "__getitem__", None), types.FunctionType
            ):
                raise self.error(
                    scope, node, f"{made.cls.__name__} objects have no `__getitem__` "
                    "(Python raises TypeError)", "read the object's fields by name",
                )
            if isinstance(node.slice, ast.Slice):
                raise self.error(
                    scope, node, f"this slice calls `{made.cls.__name__}.__getitem__`, which "
                    "srcad reads only with keys that are values", "index with values",
                )
            return self.call_member(
                scope, node, made.cls, "__getitem__", base, [node.slice], [], target
            )
        key: ast.expr = node.slice
        if isinstance(base, TupleValue):  # (a display: an item or a slice known when srcad
            key = self.lowered_key(scope, node.slice)  # compiles is the object, or a
            known = _known_key(key)  # display of them)
            if type(known) is int and -len(base.items) <= known < len(base.items):
                return base.items[known]  # (the object itself)
            if isinstance(known, slice):
                return TupleValue(tuple(base.items[known]), base.is_list)
        base = self.as_value(scope, base, node)
        read = self.operation(
            scope, ast.copy_location(ast.Subscript(Operand(base), key, ast.Load()), node),
            target,
        )
        items = self.made_items.get(base.id) if isinstance(base, ir.Name) else None
        if items is not None and isinstance(read, ir.Name):
            if isinstance(node.slice, ast.Slice):
                self.made_items[read.id] = items
            else:
                self.made[read.id] = items
        elif isinstance(base, ir.Name) and base.id in self.lost_objects and isinstance(
            read, ir.Name
        ):
            self.lost_objects.add(read.id)  # (an item of a dict of objects and numbers)
        return read

    def lowered_key(self, scope: Scope, key: ast.expr) -> ast.expr:
        """An index or a slice, its values lowered (each once): ``Operand``s."""
        if isinstance(key, ast.Slice):
            parts = [None if p is None else Operand(self.lower_expr(scope, p, None))
                     for p in (key.lower, key.upper, key.step)]
            return ast.copy_location(ast.Slice(*parts), key)
        return ast.copy_location(Operand(self.lower_expr(scope, key, None)), key)

    # ---- methods

    def made_call(self, scope: Scope, node: ast.Call, target: Target) -> Any:
        """A call srcad lowers for objects the function makes: making one
        (``Vec2(x, y)``), a method of one (``v.norm()``), calling one (``layer(h)``),
        ``isinstance`` of one; None for any other call."""
        cls = self.constructed_class(scope, node)
        if cls is not None:
            return self.make_object(scope, node, cls, target)
        replaced = self.replaced_dataclass(scope, node)
        if replaced is not None:
            cls, made_again = replaced
            return self.make_object(scope, made_again, cls, target)
        copied = self.copied_dataclass(scope, node, target)
        if copied is not None:
            return copied
        decided = self.decided_isinstance(scope, node)
        if decided is not None:
            return ir.Const(decided)
        special = self.made_builtin(scope, node, target)  # abs(v)
        if special is not None:
            return special
        func = node.func
        if isinstance(func, ast.Attribute):
            found = self.receiver(scope, func.value)
            if found is None:
                return None
            value, made = found
            if isinstance(value, TupleValue) and value.cls is not None:  # (s._replace(...))
                return self.named_tuple_method(scope, node, value, target)
            if made is None:
                call = ast.Call(
                    ast.copy_location(ast.Attribute(Operand(value), func.attr, ast.Load()), func),
                    node.args, node.keywords,
                )
                return self.lower_expr(scope, ast.copy_location(call, node), target)
            return self.call_method(scope, node, value, made, target)
        found = self.receiver(scope, func)
        if found is None:
            return None
        value, made = found
        if isinstance(value, DefValue):  # (make_loss(0.5)(w): the function a helper made)
            return self.inline_nested(scope, node, value.node, value.home, target)
        if made is None:
            call = ast.copy_location(ast.Call(Operand(value), node.args, node.keywords), node)
            return self.operation(scope, call, target)
        if not isinstance(inspect.getattr_static(made.cls, "__call__", None), types.FunctionType):
            raise self.error(
                scope, node, f"{made.cls.__name__} objects are not callable (no `__call__`)",
                f"call a method of the {made.cls.__name__}",
            )
        return self.call_member(
            scope, node, made.cls, "__call__", value, node.args, node.keywords, target
        )

    def made_item_write(self, scope: Scope, target: ast.Subscript, value: ast.expr) -> bool:
        """``obj[key] = value`` of an object the function made (a name holds it): its
        class's ``__setitem__`` called, as Python does (at run time the object is a dict:
        the item would be a key of its own). False for any other target."""
        if not isinstance(target.value, ast.Name) or not self.may_be_made(scope, target.value):
            return False
        found = self.receiver(scope, target.value)
        if found is None or found[1] is None:
            return False
        if inspect.getattr_static(found[1].cls, "__setitem__", None) is None:
            raise self.error(
                scope, target, f"{found[1].cls.__name__} defines no `__setitem__`: Python "
                "raises TypeError here", "assign one of its fields (`obj.values[i] = v`)",
            )
        call = ast.Call(ast.Attribute(ast.Name(target.value.id, ast.Load()), "__setitem__",
                                      ast.Load()), [target.slice, value], [])
        self.lower_expr(scope, ast.fix_missing_locations(ast.copy_location(call, target)), None)
        return True

    def made_bare_call(self, scope: Scope, call: ast.Call) -> bool:
        """Whether a bare call is a method of an object the function made (which may
        change it: ``obj.reset()``), or ``super().method(...)`` in one."""
        func = call.func
        if not isinstance(func, ast.Attribute):
            return False
        if self.may_be_made(scope, func.value):
            if isinstance(func.value, ast.Attribute | ast.Subscript):  # (a field's value)
                found = self.receiver(scope, func.value)
                if found is not None and found[1] is not None:
                    return True  # (a method of an object a field holds)
                if func.attr not in _CHANGING_METHODS:  # (h.v.sum(), h.d.get(k): a value)
                    return False
                field = ast.unparse(func.value)
                raise self.error(  # (obj.items.append(x), obj.u.fill(0.0))
                    scope,
                    call,
                    f"`{ast.unparse(func)}(...)` changes the value a field of an object the "
                    "function made holds, which srcad does not follow",
                    f"compute the new value and assign the field (`{field} = {field} + [v]` "
                    f"for a list, `{field} = np.sort({field})` for an array)",
                )
            return True
        args = scope.function.args.posonlyargs + scope.function.args.args
        return (
            isinstance(func.value, ast.Call)
            and isinstance(func.value.func, ast.Name)
            and func.value.func.id == "super"
            and bool(args)
            and self.made_of(variable(scope, args[0].arg)) is not None
        )

    def call_method(
        self, scope: Scope, node: ast.Call, value: ir.Expr, made: MadeObject, target: Target
    ) -> Any:
        """``obj.name(...)`` of an object the function made: a method of its class, or a
        field holding an object or a function srcad knows."""
        func = node.func
        assert isinstance(func, ast.Attribute)
        attr, cls = func.attr, made.cls
        if attr in made.fields:  # a field: an object (its __call__) or a function
            held = made.held.get(attr)
            if isinstance(held, Static):
                alias = self.names.fresh(attr)
                scope.statics[alias] = held
                try:
                    call = ast.Call(ast.Name(alias, ast.Load()), node.args, node.keywords)
                    return self.lower_expr(scope, ast.copy_location(call, node), target)
                finally:
                    del scope.statics[alias]
            field_read = self.read_member(scope, func, value, made, None)
            inner = self.made_of(field_read)
            if inner is None:
                raise self.error(
                    scope,
                    node,
                    f"`{ast.unparse(func)}` is a field whose value srcad does not know when "
                    "it compiles (not a function or an object the code gives it)",
                    "call the function by name, or keep it in a field set from a function "
                    "or an object the code names",
                )
            call = ast.copy_location(ast.Call(Operand(field_read), node.args, node.keywords), node)
            return self.call_member(
                scope, call, inner.cls, "__call__", field_read, node.args, node.keywords, target
            )
        member = inspect.getattr_static(cls, attr, None)
        if isinstance(member, staticmethod | classmethod) and isinstance(
            member.__func__, types.FunctionType
        ):
            return self.call_member(scope, node, cls, attr, value, node.args, node.keywords, target)
        if not isinstance(member, types.FunctionType):
            raise self.error(
                scope,
                node,
                f"`{cls.__name__}.{attr}` is not a method written in Python that srcad can "
                "read",
                f"define `{attr}` as a method of {cls.__name__}",
            )
        self.hand_on_lists(scope, node)  # (a method may keep a list: `self.params = ps`)
        return self.call_member(scope, node, cls, attr, value, node.args, node.keywords, target)

    def call_member(
        self,
        scope: Scope,
        node: ast.AST,
        cls: type,
        attr: str,
        receiver: ir.Expr,
        args: list[ast.expr],
        keywords: list[ast.keyword],
        target: Target = None,
        part: str = "",
    ) -> Any:
        """The member ``attr`` of ``cls`` (a method, a static- or classmethod, a
        property's getter: ``part="fget"``) inlined on ``receiver``."""
        member = inspect.getattr_static(cls, attr)
        function = getattr(member, part) if part else getattr(member, "__func__", member)
        spelled = ast.copy_location(ast.Name(f"{cls.__name__}", ast.Load()), node)
        func = ast.copy_location(ast.Attribute(spelled, attr, ast.Load()), node)
        call = ast.copy_location(ast.Call(func, list(args), list(keywords)), node)
        if isinstance(member, classmethod):
            receiver = self.helper_ref(cls.__name__, cls)
        self.procedures.add(function)  # (`__init__`, a setter: they may not return)
        return self.inline_member(
            scope, call, function, target, lambda: cls, part,
            receiver=not isinstance(member, staticmethod), receiver_value=receiver,
        )

    # ---- tests decided when srcad compiles

    def decided_isinstance(self, scope: Scope, node: ast.expr) -> bool | None:
        """``isinstance(obj, C)`` of an object the function made: decided by its class
        (at run time the object is a dict); None for any other test."""
        if not (
            isinstance(node, ast.Call)
            and len(node.args) == 2
            and not node.keywords
            and self.denote(scope, node.func).static is isinstance
            and self.may_be_made(scope, node.args[0])
        ):
            return None
        value = self.lower_expr(scope, node.args[0], None)
        self.refuse_lost(scope, node.args[0], value)
        made = self.made_of(value)
        classes = self.denote(scope, node.args[1]).static
        if made is None or not (
            isinstance(classes, type)
            or isinstance(classes, tuple) and all(isinstance(c, type) for c in classes)
        ):
            if made is None:
                return None
            raise self.error(
                scope, node, "`isinstance` of an object the function made needs the classes "
                "named when srcad compiles", "name the class (or a tuple of classes)",
            )
        return issubclass(made.cls, classes)

    def object_truth(self, scope: Scope, node: ast.expr) -> ast.expr:
        """``node``, a test, with each object the function made that it tests (``if
        history:``, ``not flag``, ``a and b``) as Python tests it: its class's
        ``__bool__()``, else ``__len__() != 0``, else true. (At run time the object is a
        dict, whose truth is not the object's.)"""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            operand = self.object_truth(scope, node.operand)
            return node if operand is node.operand else ast.copy_location(
                ast.UnaryOp(ast.Not(), operand), node)
        if isinstance(node, ast.BoolOp):
            values = [self.object_truth(scope, v) for v in node.values]
            return node if all(a is b for a, b in zip(values, node.values)) else (
                ast.copy_location(ast.BoolOp(node.op, values), node))
        if not isinstance(node, ast.Name) or not self.may_be_made(scope, node):
            return node
        value = self.lower_expr(scope, node, None)
        self.refuse_lost(scope, node, value)
        made = self.made_of(value)
        if made is None:
            return node
        for method in ("__bool__", "__len__"):
            if inspect.getattr_static(made.cls, method, None) is None:
                continue
            call: ast.expr = ast.Call(
                ast.Attribute(ast.Name(node.id, ast.Load()), method, ast.Load()), [], [])
            if method == "__len__":
                call = ast.Compare(call, [ast.NotEq()], [ast.Constant(0)])
            return ast.fix_missing_locations(ast.copy_location(call, node))
        return ast.copy_location(ast.Constant(True), node)

    def decided_test(self, scope: Scope, node: ast.expr) -> bool | None:
        """The truth of an ``if`` test that objects the function made decide when srcad
        compiles (``isinstance(other, Vec2)``, ``not ...``, ``and``/``or`` of such
        tests, ``obj is None``); None when the program decides it."""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.decided_test(scope, node.operand)
            return None if inner is None else not inner
        if isinstance(node, ast.BoolOp):
            parts = [self.decided_test(scope, v) for v in node.values]
            if any(p is None for p in parts):
                return None
            return all(parts) if isinstance(node.op, ast.And) else any(parts)
        if (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.ops[0], ast.Is | ast.IsNot)
            and isinstance(node.comparators[0], ast.Constant)
            and node.comparators[0].value is None
            and isinstance(node.left, ast.Name | ast.Attribute)
        ):
            if isinstance(node.left, ast.Name):
                value = variable(scope, node.left.id)
            else:  # (a field of an object the function made: `t.left is not None`)
                found = self.receiver(scope, node.left) if self.may_be_made(
                    scope, node.left.value
                ) else None
                value = None if found is None else found[0]
            if value == ir.Const(None):
                return isinstance(node.ops[0], ast.Is)
            if self.made_of(value) is None:
                return None
            return isinstance(node.ops[0], ast.IsNot)
        if isinstance(node, ast.Call):
            return self.decided_isinstance(scope, node)
        return None

    # ---- joins and loops

    def join_objects(self, merged: str, values: list[Any]) -> None:
        """``merged`` holds one of ``values`` (the branches of a join): an object of the
        class they all have, or, when only some hold objects, none srcad knows."""
        found = [self.made_of(v) for v in values]
        lost = any(isinstance(v, ir.Name) and v.id in self.lost_objects for v in values)
        if all(f is not None for f in found) and not lost:
            joined = merge(found)
            if isinstance(joined, MadeObject):
                self.made[merged] = joined
                return
        if lost or any(f is not None for f in found):
            self.lost_objects.add(merged)
        items = [self.made_items.get(v.id) if isinstance(v, ir.Name) else None for v in values]
        if all(i is not None for i in items):
            joined_items = merge(items)
            if isinstance(joined_items, MadeObject):
                self.made_items[merged] = joined_items

    def object_shape(self, value: Any) -> Any:
        """What :func:`srcad.runtime.as_objects` needs to make ``value``'s objects again:
        ``(cls, {field: shape})`` for an object the function made, a tuple of shapes for
        a tuple display holding one; None for a value that holds none."""
        if isinstance(value, TupleValue):
            shapes = tuple(self.object_shape(item) for item in value.items)
            return shapes if any(s is not None for s in shapes) else None
        made = self.made_of(value)
        return None if made is None else _shape_of(made)

    def hold_objects(self, name: str, values: tuple[Any, ...]) -> None:
        """The dict display ``name`` holds ``values``: objects of one class the function
        made (its items are then such objects), or some objects (then srcad does not know
        which item is one: an item's fields or methods are refused, not misread)."""
        found = [self.made_of(v) for v in values]
        if not any(f is not None for f in found) and not any(
            isinstance(v, ir.Name) and (v.id in self.lost_objects or v.id in self.made_items)
            for v in values
        ):
            return
        joined = merge(found)
        if isinstance(joined, MadeObject):
            self.made_items[name] = joined
        else:
            self.lost_objects.add(name)

    def carry_object(self, name: str, value: Any) -> None:
        """A loop carries ``name``, first ``value``: an object the function made, whose
        class each iteration must keep (see :meth:`check_carried`)."""
        made = self.made_of(value)
        if made is not None:
            self.made[name] = merge([made, made], fresh=True)  # (its own knowledge)
        elif isinstance(value, ir.Name) and value.id in self.lost_objects:
            self.lost_objects.add(name)

    def held_functions(self) -> dict[tuple[str, str], int]:
        """The function each field of each object the function made holds now (by the
        listing name holding the object, and the field), by id."""
        return {
            (name, attr): id(held.obj)
            for name, made in self.made.items()
            for attr, held in made.held.items()
            if isinstance(held, Static)
        }

    def refuse_functions_given_again(
        self, scope: Scope, node: ast.AST, before: dict[tuple[str, str], int]
    ) -> None:
        """A loop whose body gives a field of an object the function made another
        function (``c.act = math.cos`` after ``c.act(x)``): srcad read the body's calls
        for the function the field held when the loop began; refused."""
        after = self.held_functions()
        if any(after.get(key) != held for key, held in before.items()):
            raise self.error(
                scope,
                node,
                "this loop gives a field of an object the function made another function: "
                "srcad calls the function a field holds as it is when the loop begins",
                "choose the function with an `if` on the iteration (`act = math.sin if i == 0 "
                "else math.cos`), or set the field before the loop",
            )

    def check_carried(self, scope: Scope, node: ast.AST, name: str, value: Any) -> None:
        """The value a loop's iteration gives the carried ``name`` holds an object of the
        class the loop body was read with (else refused: srcad read the body for it)."""
        before, after = self.made.get(name), self.made_of(value)
        if before is None and after is None:
            return
        if before is None or after is None or after.cls is not before.cls or any(
            _signature(after.held.get(k)) != _signature(h) for k, h in before.held.items()
        ):
            raise self.error(
                scope,
                node,
                "a variable this loop carries holds an object the function made before an "
                "iteration, and another value (or an object of another class) after it",
                "keep an object of the same class in the variable on every iteration",
            )

    # ---- values leaving the code srcad reads

    def refuse_grown_objects(self, scope: Scope, node: ast.AST, receiver: str, value: Any) -> None:
        """A list a loop grows (or a comprehension builds) given an object the function
        made: srcad does not follow the classes of its items; refused."""
        items = value.items if isinstance(value, TupleValue) else (value,)
        if any(self.made_of(v) is not None or isinstance(v, ir.Name) and (
            v.id in self.made_items or v.id in self.lost_objects) for v in items
        ):
            raise self.error(
                scope,
                node,
                f"`{receiver}` is a list a loop grows (or a comprehension builds) with objects "
                "the function made: srcad knows the classes of the objects in a list display",
                "write the list as a display (`[Vec2(a, b), Vec2(c, d)]`), or keep the "
                "objects' fields in lists or arrays",
            )

    def refuse_made_operands(self, scope: Scope, node: ast.AST, operands: tuple[Any, ...]) -> None:
        """An operation of a rule (a library function, an operator), or a call of code
        srcad does not read (``type(u)``, ``hasattr(u, "x")``, ``vars(u)``), given an
        object the function made, or a list of them (a dict at run time): refused."""
        for operand in operands:
            if isinstance(operand, TupleValue):  # (sum([V(a), V(b)]): the objects in it)
                self.refuse_made_operands(scope, node, operand.items)
                continue
            made = self.made_of(operand)
            lost = isinstance(operand, ir.Name) and (
                operand.id in self.lost_objects or operand.id in self.made_items
            )
            if made is None and not lost:
                continue
            what = f"a {made.cls.__name__}" if made is not None else "an"
            raise self.error(
                scope,
                node,
                f"{what} object the function made is given to an operation srcad reads "
                "no Python code for (a library function, or an operator its class does not "
                "define): it would see a dict",
                "give the operation the object's fields, or define the operator "
                "(`__add__`, `__mul__`, ...) in the class; a helper's result: assign it to "
                "a name first",
            )

    def refuse_made_result(self, scope: Scope, node: ast.AST, value: Any) -> None:
        """The differentiated function returns an object it made: refused."""
        values = value.items if isinstance(value, TupleValue) else (value,)
        for item in values:
            if self.made_of(item) is not None or (
                isinstance(item, ir.Name) and (item.id in self.made_items or item.id in
                                                self.lost_objects)
            ):
                raise self.error(
                    scope,
                    node,
                    "the differentiated function returns an object it made (srcad makes it a "
                    "dict of its fields inside the function)",
                    "return numbers or arrays: the object's fields, or what its methods "
                    "compute",
                )


def _known_key(key: ast.expr) -> int | slice | None:
    """The index (an int) or the slice a lowered key is when srcad compiles; None if a
    part of it is known only when the gradient runs."""
    def part(p: ast.expr | None) -> Any:
        if p is None:
            return None
        value = p.value if isinstance(p, Operand) else None
        return value.value if isinstance(value, ir.Const) and type(value.value) is int else ...

    if isinstance(key, ast.Slice):
        parts = [part(p) for p in (key.lower, key.upper, key.step)]
        return None if ... in parts else slice(*parts)
    known = part(key)
    return None if known is ... else known


def ending_in_return(fn: ast.FunctionDef) -> ast.FunctionDef:
    """``fn`` as Python runs it: a bare ``return`` and the end of its body return None."""
    fn = copy.deepcopy(fn)
    for node in ast.walk(fn):
        if isinstance(node, ast.Return) and node.value is None:
            node.value = ast.copy_location(ast.Constant(None), node)
    end = fn.body[-1]
    fn.body.append(ast.copy_location(ast.Return(ast.Constant(None)), end))
    ast.fix_missing_locations(fn)
    return fn


def field_key(attr: str) -> ast.Constant:
    """The key of the item that holds field ``attr`` (marked: not a ``__getitem__``)."""
    key = ast.Constant(attr)
    key.srcad_field = True  # type: ignore[attr-defined]
    return key


def _shape_of(made: MadeObject) -> tuple:
    return (made.cls, {
        name: _shape_of(held) for name, held in made.held.items() if isinstance(held, MadeObject)
    })


def merge(found: list[Any], fresh: bool = False) -> Any:
    """What srcad knows of a value that is one of several (a join): objects of one
    class give their common knowledge (``fresh``: new even for one object); else None."""
    if not found or any(f is None for f in found):
        return None
    first = found[0]
    if isinstance(first, Items):
        inner = merge([f.item if isinstance(f, Items) else None for f in found])
        return Items(inner) if inner is not None else None
    if isinstance(first, Static):
        same = all(isinstance(f, Static) and f.obj is first.obj for f in found)
        return first if same else None
    if not all(isinstance(f, MadeObject) and f.cls is first.cls for f in found):
        return None
    if not fresh and all(f is first for f in found):
        return first
    joined = MadeObject(first.cls, frozen=first.frozen)
    joined.fields = set.intersection(*(f.fields for f in found))
    for key in first.held:
        common = merge([f.held.get(key) for f in found])
        if common is not None:
            joined.held[key] = common
    group = [joined]
    for f in found:
        group += [m for m in (f, *f.related) if all(m is not g for g in group)]
    for member in group:
        member.related = group
    return joined


def _signature(held: Any) -> Any:
    """The classes a held value stands for (two of the same signature read the same)."""
    if isinstance(held, MadeObject):
        return held.cls
    if isinstance(held, Items):
        return ("items", held.item.cls)
    if isinstance(held, Static):
        return id(held.obj)
    return None


_MISSING = object()


def _slot(cls: type, attr: str) -> bool:
    """Whether ``attr`` is one of the ``__slots__`` of ``cls`` (a field of its objects)."""
    return isinstance(inspect.getattr_static(cls, attr, None), types.MemberDescriptorType)


def _dataclass_field(cls: type, attr: str) -> bool:
    """``attr`` is a field of the dataclass ``cls`` (its default is a class attribute)."""
    return dataclasses.is_dataclass(cls) and attr in {f.name for f in dataclasses.fields(cls)}

#: base classes an object srcad makes may have besides its user classes
_PLAIN_BASES = (object, abc.ABC, typing.Generic)


def makes_objects(cls: Any) -> bool:
    """Whether srcad makes objects of ``cls`` itself when the function calls it: a class
    of the user's with a ``__dict__`` (or with no ``__init__`` at all), not a tuple, an
    exception or a builtin's subclass."""
    if not isinstance(cls, type) or cls.__module__ in ("builtins", "abc", "typing"):
        return False
    root = cls.__module__.split(".")[0]
    if root in ("numpy", "scipy", "srcad", "pandas") or root in sys.stdlib_module_names:
        return False  # (a library's class: `random.Random(0)` is made by its own code)
    fieldless = (  # (Softmax(), a class of Python code without __init__; `class Rec:
        # pass`, whose fields the function sets: not a C type)
        inspect.getattr_static(cls, "__init__", None) is object.__init__
        and any("__dict__" in vars(base) for base in cls.__mro__[:-1])  # (not a C type)
    )
    return (records.is_record_class(cls) or fieldless) and not issubclass(
        cls, tuple | BaseException
    )


def _refusal(cls: type) -> str | None:
    """Why srcad does not make objects of ``cls`` itself (None: it does)."""
    for base in cls.__mro__:
        if base in _PLAIN_BASES or base.__module__ == "typing":
            continue
        if base.__module__ == "builtins":
            return f"it is a subclass of {base.__name__}"
        frozen = dataclasses.is_dataclass(base) and base.__dataclass_params__.frozen  # type: ignore[attr-defined]
        for special in ("__new__", "__getattr__", "__getattribute__", "__setattr__",
                        "__delattr__", "__set_name__"):
            if special in vars(base) and not (frozen and special in ("__setattr__", "__delattr__")):
                return f"its class defines `{special}`"
    if type(cls) not in (type, abc.ABCMeta):
        return f"its metaclass is {type(cls).__name__}"
    if not dataclasses.is_dataclass(cls) and not isinstance(
        inspect.getattr_static(cls, "__init__"), types.FunctionType
    ) and inspect.getattr_static(cls, "__init__") is not object.__init__:
        return "its `__init__` is not a Python function srcad can read"
    return None


def _descriptor(member: Any) -> bool:
    """A class attribute that computes what an instance reads (``functools.cached_property``,
    a user's ``__get__``), other than a function, a property, a static or class method."""
    return hasattr(type(member), "__get__") and not isinstance(
        member, types.FunctionType | property | staticmethod | classmethod
    )


def _class_attribute(cls: type, attr: str) -> Any:
    """What the class ``cls`` holds as ``attr`` now (its bases' too)."""
    return inspect.getattr_static(cls, attr, _MISSING)


def _copied_field_by_field(cls: type) -> bool:
    """Whether ``copy.copy`` of an object of ``cls`` copies its ``__dict__`` (no
    ``__copy__``, ``__reduce__`` or ``__slots__`` of its own)."""
    return not any(
        name in vars(klass) for klass in cls.__mro__[:-1]
        for name in ("__copy__", "__reduce__", "__reduce_ex__", "__slots__", "__getstate__")
    )


def _field_reads(name: str, cls: type, at: ast.AST) -> dict[str, ast.expr]:
    """``name.f`` for each field ``f`` of the dataclass ``cls``, by field (located at
    ``at``)."""
    return {
        spec.name: ast.copy_location(
            ast.Attribute(ast.Name(name, ast.Load()), spec.name, ast.Load()), at
        )
        for spec in dataclasses.fields(cls)
    }


def _used_as_object(function: ast.FunctionDef, call: ast.Call) -> bool:
    """Whether ``function`` assigns ``call`` to a name (``nxt = copy.copy(p)``) whose
    attributes it then reads or sets (``nxt.v = ...``, ``nxt.v[0] = ...``, ``nxt.v``)."""
    names = {
        t.id for n in astwalk.walk(function)
        if isinstance(n, ast.Assign) and n.value is call
        for t in n.targets if isinstance(t, ast.Name)
    }
    return any(
        isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in names
        for n in astwalk.walk(function)
    )
