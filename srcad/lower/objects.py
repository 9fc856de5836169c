"""Objects: attributes of records and instances, and their methods (see
:mod:`srcad.records`)."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import astwalk, ir, records
from ..chains import static_chain
from ..desugar import FLAT_INDEX
from ..errors import SrcadError
from ..rules.scalar import FIELD
from ..runtime import same_member
from .resolve import Denotation, variable
from .values import LoweringPart, Operand, Scope


class Objects(LoweringPart):
    """The lowerer's part for objects (see the module)."""

    def object_access(
        self, scope: Scope, node: ast.Attribute | ast.Call, target: Callable[[], str] | None
    ) -> Any:
        """``p.w`` (a field of an object, no rule of the table matching it) and, on an
        object whose class srcad knows when it compiles (``self`` of a bound method, an
        object held by a global or a closure, a field of one), ``self.forward(x)`` and
        ``self.weights`` (a property): the method's or the property's code, inlined.
        None: not one of these (an ordinary operation)."""
        func = node.func if isinstance(node, ast.Call) else node
        if isinstance(node, ast.Call) and isinstance(func, ast.Name | ast.Subscript):
            return self.called_object(scope, node, target)  # layer(h), layers[0](h)
        if not isinstance(func, ast.Attribute):
            return None
        if isinstance(node, ast.Call) and self.expr_class(scope, func) is not None:
            return self.called_object(scope, node, target)  # model.head(h): a field
        if isinstance(node, ast.Call) and self.table.has_callable(self.denote(scope, func).static):
            return None  # (a method with a rule of its own: scipy.stats.norm.logpdf)
        if _is_bare_super(func.value):  # super().energy(x), super().area
            return self.super_call(scope, node, func, target)
        known = self.denote(scope, func.value).known
        body_at, last_return = len(self.body), self._last_return
        try:
            found = self.member_access(scope, node, func, known, target)
        except SrcadError as error:  # (code srcad cannot read: a call without a derivative,
            del self.body[body_at:]  # which is fine while no gradient flows through it)
            self._last_return = last_return
            self.refusals[scope.source.location(node)] = error
            return None
        if found is not None:
            return found
        if isinstance(node, ast.Call):
            return None
        if self.find_rule(scope, self.written(node))[0] is not None and not (
            (known is not None and records.has_field(known.obj, node.attr))
            or (isinstance(node.value, ast.Name) and node.value.id in self.object_names(scope))
            or self.known_field(scope, node)
        ):
            return None  # x.T, x.shape of an array (a field named so is read as a field when
        base = self.lower_operand(scope, node.value)  # the object is known to be one)
        name = target() if target is not None else self.names.temp()
        self.emit(
            ir.Assign(
                name,
                ir.Attr(base, node.attr),
                FIELD,
                (base, ir.Const(node.attr)),
                tag=self.next_tag(),
                loc=scope.source.location(node),
            )
        )
        if known is not None and records.has_field(known.obj, node.attr):
            field_value, current = getattr(known.obj, node.attr), known.lookup
            if records.is_record(field_value):
                self.known_objects()[name] = Denotation(
                    field_value, False, lambda: getattr(current(), node.attr, None)
                )
        return ir.Name(name)

    def computed_item(
        self, scope: Scope, node: ast.Subscript, target: Callable[[], str] | None
    ) -> Any:
        """``obj[key]`` where ``obj``'s ``[]`` computes from the key with Python code:
        ``np.r_[a, b]`` and ``np.c_[a, b]`` as the numpy calls they are
        (``np.concatenate`` of ``np.atleast_1d`` items, ``np.column_stack``), and on an
        object of a class srcad knows, its ``__getitem__`` inlined like any method (it
        is not an item read: the gradient flows through the key). None: an item read."""
        flat = self.flat_item(scope, node)
        if flat is not None:  # (an array's flat iterator: the items it reads, copied)
            return self.lower_expr(scope, flat, target)
        static = self.denote(scope, node.value).static
        if static is np.r_ or static is np.c_:
            return self.lower_expr(scope, _concatenator_call(self, scope, node, static), target)
        cls = self.object_class(scope, node.value)
        method = inspect.getattr_static(cls, "__getitem__", None) if cls is not None else None
        if not isinstance(method, types.FunctionType):
            return None
        assert cls is not None  # (it has the method)
        if _has_slice(node.slice):
            raise self.error(
                scope,
                node,
                f"this slice calls `{cls.__name__}.__getitem__`, which srcad reads only "
                "with keys that are values (a number, a name, a tuple of them)",
                "index with values, or read what the slice gives from the object's fields",
            )
        called = ast.copy_location(ast.Attribute(node.value, "__getitem__", ast.Load()), node)
        call = ast.copy_location(ast.Call(called, [node.slice], []), node)
        found = self.object_access(scope, call, target)
        if found is None:  # (its code could not be read: the error recorded at the call)
            raise self.refusals.pop(scope.source.location(call), None) or self.error(
                scope,
                node,
                f"`{cls.__name__}.__getitem__` runs code srcad cannot read here",
                "read the values from the object's fields, or give srcad a plain container",
            )
        return found

    def flat_item(self, scope: Scope, node: ast.Subscript) -> ast.Subscript | None:
        """``a.flat[k]`` of an array, as the item or items it reads or writes:
        ``a[flat_index(a, k)]`` (see :func:`srcad.runtime.flat_index`; an index array
        or a slice reads a copy, as ``.flat`` does). None for another item."""
        flat = node.value
        if not (
            isinstance(flat, ast.Attribute)
            and flat.attr == "flat"
            and self.object_class(scope, flat.value) is None
        ):
            return None
        index = ast.Call(ast.Name(FLAT_INDEX, ast.Load()), [flat.value, node.slice], [])
        item = ast.Subscript(flat.value, index, node.ctx)
        return ast.fix_missing_locations(ast.copy_location(item, node))

    def object_class(self, scope: Scope, node: ast.expr) -> type | None:
        """The class of the object ``node`` denotes, where srcad knows it when it compiles
        (an object it knows itself, or one whose class the code says); else None."""
        if isinstance(node, ast.Name):  # (an object the function made)
            made = self.made_of(variable(scope, node.id))
            if made is not None:
                return made.cls
        known = self.denote(scope, node).known
        return type(known.obj) if known is not None else self.expr_class(scope, node)

    def member_access(
        self,
        scope: Scope,
        node: ast.Attribute | ast.Call,
        func: ast.Attribute,
        known: Denotation | None,
        target: Callable[[], str] | None,
    ) -> Any:
        """``obj.method(...)`` or ``obj.prop`` inlined from the class of an object srcad
        knows (or of ``self`` in a method differentiated unbound); None if it is not one."""
        if known is None:
            cls = self.expr_class(scope, func.value)
            if cls is not None and not any(
                func.attr in vars(c).get("__slots__", ()) for c in cls.__mro__
            ):
                return self.member_of_class(scope, node, cls, target)
            return None
        obj, current = known.obj, known.lookup
        if records.has_field(obj, func.attr):  # a field: an object with __call__ is called
            value = getattr(obj, func.attr)
            method = inspect.getattr_static(type(value), "__call__", None)
            if not (
                isinstance(node, ast.Call)
                and records.is_record(value)
                and isinstance(method, types.FunctionType)
            ):
                return None
            receiver = self.lower_operand(scope, func)
            called = ast.copy_location(ast.Attribute(func, "__call__", ast.Load()), func)
            call = ast.copy_location(ast.Call(called, node.args, node.keywords), node)
            return self.inline_member(
                scope,
                call,
                method,
                target,
                lambda: getattr(current(), func.attr, None),
                "",
                receiver_value=receiver,
            )
        member = inspect.getattr_static(type(obj), func.attr, None)
        if isinstance(node, ast.Attribute):
            getter = getattr(records.property_of(obj, func.attr), "fget", None)
            if isinstance(getter, types.FunctionType):
                call = ast.copy_location(ast.Call(func, [], []), node)
                return self.inline_member(scope, call, getter, target, current, "fget")
            return None
        static = _method_function(member, staticmethod)
        if static is not None:
            return self.inline_member(scope, node, static, target, current, "", receiver=False)
        shared = _method_function(member, classmethod)
        if shared is not None:  # a classmethod: the class is its first argument
            owner = self.helper_ref(type(obj).__name__, type(obj))
            return self.inline_member(
                scope, node, shared, target, current, "", receiver_value=owner
            )
        if isinstance(member, types.FunctionType):
            return self.inline_member(scope, node, member, target, current, "")
        return None

    def super_call(
        self,
        scope: Scope,
        node: ast.Call | ast.Attribute,
        func: ast.Attribute,
        target: Callable[[], str] | None,
    ) -> Any:
        """``super().energy(x)`` (or the property ``super().area``) in a method srcad
        inlines: the member of the class after the one defining it (its ``__class__``
        cell), in the order of the class of ``self`` where srcad knows it, inlined with the
        same ``self``. Refused where it is not such a member."""
        cell = scope.source.closure.get("__class__")
        arguments = scope.function.args.posonlyargs + scope.function.args.args
        member: Any = None
        if cell is not None and arguments:
            defining = cell.cell_contents
            receiver = ast.copy_location(ast.Name(arguments[0].arg, ast.Load()), node)
            made = self.made_of(self.lower_operand(scope, receiver))
            order = (made.cls if made is not None else None
                     or self.expr_class(scope, receiver) or defining).__mro__
            after = order[order.index(defining) + 1:] if defining in order else order[1:]
            owner = next((c for c in after if func.attr in vars(c)), None)
            member = vars(owner).get(func.attr) if owner is not None else None
        called = isinstance(node, ast.Call) and isinstance(member, types.FunctionType)
        read = (
            isinstance(node, ast.Attribute)
            and isinstance(member, property)
            and isinstance(member.fget, types.FunctionType)
        )
        if not (called or read):
            raise self.error(
                scope,
                node,
                f"`super().{func.attr}` is not a method or property srcad can read here "
                "(it reads `super()` in a method, for a member written in Python)",
                f"call the class's member directly: `Base.{func.attr}(self, ...)`",
            )
        value = self.lower_operand(scope, receiver)
        if self.made_of(value) is not None:  # (`super().__init__(w)` may not return)
            self.procedures.add(member.fget if read else member)
        attribute = ast.copy_location(ast.Attribute(receiver, func.attr, ast.Load()), func)
        if read:
            call = ast.copy_location(ast.Call(attribute, [], []), node)
            return self.inline_member(
                scope, call, member.fget, target, lambda: owner, "fget", receiver_value=value
            )
        assert isinstance(node, ast.Call)
        call = ast.copy_location(ast.Call(attribute, node.args, node.keywords), node)
        return self.inline_member(
            scope, call, member, target, lambda: owner, "", receiver_value=value
        )

    def inline_member(
        self,
        scope: Scope,
        call: ast.Call,
        function: types.FunctionType,
        target: Callable[[], str] | None,
        current: Callable[[], Any],
        part: str,
        receiver: bool = True,
        receiver_value: ir.Expr | None = None,
    ) -> Any:
        """Inline a method (or a property's getter: ``part="fget"``) of an object whose
        class is known, the object passed as its first argument (unless a
        staticmethod); the cached gradient is rebuilt if the class no longer has it."""
        func = call.func
        assert isinstance(func, ast.Attribute)
        args = list(call.args)
        if receiver:
            value = receiver_value or self.lower_expr(scope, func.value, None)
            args.insert(0, ast.copy_location(Operand(value), call))
        inlined = ast.copy_location(ast.Call(func, args, call.keywords), call)

        def lookup() -> Any:
            owner = current()
            own = getattr(owner, "__dict__", None)
            if not isinstance(owner, type) and isinstance(own, dict) and func.attr in own:
                return own[func.attr]  # (MM.f = ...: the object's own, not the class's)
            owner = owner if isinstance(owner, type) else type(owner)
            member = inspect.getattr_static(owner, func.attr, None)
            member = getattr(member, part, None) if part else member
            return getattr(member, "__func__", member)

        written = call.func if part == "fget" else call  # (a property: read, not called)
        return self.inline(scope, inlined, function, target, lookup=lookup, as_written=written)

    def known_field(self, scope: Scope, node: ast.Attribute) -> bool:
        """Whether ``p.shape`` (an attribute an array has too) reads a field: of an object
        whose class srcad knows and declares it (a dataclass's or a namedtuple's field, an
        annotation), or that the call srcad learned classes from held (round 93: a
        prior's ``shape`` read as an array's, a silent zero gradient)."""
        if records.has_field(self.example_of(scope, node.value), node.attr):
            return True
        cls = self.expr_class(scope, node.value)
        return cls is not None and declares_field(cls, node.attr)

    def object_names(self, scope: Scope) -> frozenset[str]:
        """The local names of ``scope`` that hold objects, as far as the code shows: read
        with an attribute neither an array nor a rule has (``p.rate``). On them ``p.shape``
        or ``p.T`` is a field, not the array attribute of the same name."""
        found = getattr(scope, "_object_names", None)
        if found is None:
            found = frozenset(
                node.value.id
                for node in astwalk.walk(scope.function)
                if isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Load)
                and isinstance(node.value, ast.Name)
                and node.value.id in scope.local_names
                and not hasattr(np.ndarray, node.attr)
                and not self.table.candidates(("attr", node.attr))
                and not self.table.candidates(("method", node.attr))
            )
            scope._object_names = found  # type: ignore[attr-defined]
        return found

    def method_class(self, scope: Scope, node: ast.expr) -> type | None:
        """The class of a parameter of the function being differentiated: the class its
        annotation names (``def loss(model: MLP, x)``), or for the first parameter of a
        method written in a class body (``srcad.grad(Model.loss)(model, x)``) that class.
        Its methods are that class's, checked when the gradient runs (an object of a
        subclass may have others)."""
        param = self.root_parameter(scope, node)
        if param is None:
            return None
        root = self.root.node.args
        params = [*root.posonlyargs, *root.args, *root.kwonlyargs]
        annotated = self.annotated_class(param)
        if annotated is not None:
            return annotated
        example = self.root.examples.get(param.arg, None)
        if example is not None and _user_class(type(example)):
            return type(example)  # (the class of the object a call passed)
        if param is not params[0] or param in root.kwonlyargs:
            return None
        function = self.root.function
        parts = getattr(function, "__qualname__", "").split(".")
        if len(parts) < 2 or "<locals>" in parts:
            return None
        cls = static_chain(tuple(parts[:-1]), self.root.lookup)  # (the class it is defined in)
        member = vars(cls).get(parts[-1]) if isinstance(cls, type) else None
        return cls if member is function else None

    def root_parameter(self, scope: Scope, node: ast.expr) -> ast.arg | None:
        """The parameter of the function being differentiated whose value ``node`` (a
        name) still holds, if any."""
        if not isinstance(node, ast.Name):
            return None
        current: Scope | None = scope
        while current is not None and node.id not in current.env:
            current = current.parent
        if current is None:
            return None
        root = self.root.node.args
        params = [*root.posonlyargs, *root.args, *root.kwonlyargs]
        return next((a for a in params if current.env[node.id] == ir.Name(a.arg)), None)

    def called_object(
        self, scope: Scope, node: ast.Call, target: Callable[[], str] | None
    ) -> Any:
        """``layer(h)`` of an object whose class srcad knows (see :meth:`expr_class`) and
        has ``__call__``: that method, inlined; None otherwise."""
        cls = self.expr_class(scope, node.func)
        if cls is None or not isinstance(inspect.getattr_static(cls, "__call__", None),
                                         types.FunctionType):
            return None
        method = ast.copy_location(ast.Attribute(node.func, "__call__", ast.Load()), node.func)
        call = ast.copy_location(ast.Call(method, node.args, node.keywords), node)
        return self.member_of_class(scope, call, cls, target)

    def expr_class(self, scope: Scope, node: ast.expr) -> type | None:
        """The class srcad knows ``node``'s object has when it compiles: a parameter's
        (:meth:`method_class`), an item of a loop over a field annotated ``list[Layer]``
        (:meth:`lower_For` records it), or a field's annotation (``encoder: Encoder``) on
        an object of a known class. Checked when the gradient runs."""
        if isinstance(node, ast.Name):
            found = self.method_class(scope, node)
            if found is not None:
                return found
            value = scope.env.get(node.id)
            return self.value_classes.get(value.id) if isinstance(value, ir.Name) else None
        if isinstance(node, ast.Attribute):
            owner = self.expr_class(scope, node.value)
            hint = field_hints(owner).get(node.attr) if owner is not None else None
            if _user_class(hint):
                return hint
            held = type(self.example_of(scope, node))
            return held if _user_class(held) else None
        if isinstance(node, ast.Subscript):  # an item of a list whose items' class is known
            return self.element_class(scope, node.value)
        return None

    def element_class(self, scope: Scope, node: ast.expr) -> type | None:
        """The class of the items of ``node``: a field annotated ``list[Layer]``,
        ``tuple[Layer, ...]`` or ``Sequence[Layer]`` on an object of a known class, or a
        global list or tuple of objects of one class."""
        held = None
        if isinstance(node, ast.Name | ast.Attribute):
            held = self.denote(scope, node).static
        if isinstance(held, list | tuple) and held:  # (a global list of layers)
            classes = {type(item) for item in held}
            (only,) = classes if len(classes) == 1 else (None,)
            return only if _user_class(only) else None
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            return self.element_class(scope, node.value)  # (layers[:-1]: the same items)
        example = self.example_of(scope, node)  # (the list a call's object holds)
        if isinstance(example, list | tuple) and example:
            classes = {type(item) for item in example}
            (only,) = classes if len(classes) == 1 else (None,)
            if _user_class(only):
                return only
        param = self.root_parameter(scope, node)
        if param is not None and param.annotation is not None:  # springs: list[Spring]
            return _item_class(self.annotation_value(param.annotation))
        if not isinstance(node, ast.Attribute):
            return None
        owner = self.expr_class(scope, node.value)
        return _item_class(field_hints(owner).get(node.attr) if owner is not None else None)

    def annotation_value(self, note: ast.expr) -> Any:
        """What an annotation names when srcad compiles (``list[Spring]``: that alias),
        or None."""
        if isinstance(note, ast.Constant) and isinstance(note.value, str):
            try:
                note = ast.parse(note.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(note, ast.Subscript):
            origin = static_chain(note.value, self.root.lookup)
            parts = note.slice.elts if isinstance(note.slice, ast.Tuple) else [note.slice]
            args = tuple(
                Ellipsis if isinstance(a, ast.Constant) and a.value is Ellipsis
                else static_chain(a, self.root.lookup)
                for a in parts
            )
            try:
                return origin[args if len(args) > 1 else args[0]]
            except TypeError:
                return None
        return static_chain(note, self.root.lookup)

    def example_of(self, scope: Scope, node: ast.expr) -> Any:
        """What ``node`` held in the call srcad learned classes from: a parameter's object
        (see ``FunctionSource.examples``) or a field of one; None when not known."""
        if isinstance(node, ast.Name):
            current: Scope | None = scope
            while current is not None and node.id not in current.env:
                current = current.parent
            value = current.env[node.id] if current is not None else None
            if isinstance(value, ir.Name):
                found = self.root.examples.get(value.id)
                return found if found is not None else self.value_examples.get(value.id)
            return None
        if isinstance(node, ast.Attribute):
            owner = self.example_of(scope, node.value)
            return getattr(owner, node.attr, None) if records.is_record(owner) else None
        return None

    @property
    def value_examples(self) -> dict[str, Any]:
        """Listing names of objects a method is inlined on (its ``self``) -> what they
        held in the call srcad learned classes from (nested objects: ``self.net``)."""
        if not hasattr(self, "_value_examples"):
            self._value_examples: dict[str, Any] = {}
        return self._value_examples

    @property
    def value_classes(self) -> dict[str, type]:
        """Listing names of loop items whose class srcad knows (see :meth:`expr_class`)."""
        if not hasattr(self, "_value_classes"):
            self._value_classes: dict[str, type] = {}
        return self._value_classes

    def annotated_class(self, param: ast.arg) -> type | None:
        """The class ``param``'s annotation names (``model: MLP``, ``"MLP"``,
        ``nets.MLP``), if it is a class of the user's (not a builtin or numpy type)."""
        if param.annotation is None:
            return None
        cls = self.annotation_value(param.annotation)
        return cls if _user_class(cls) else None

    def member_of_class(
        self,
        scope: Scope,
        node: ast.Attribute | ast.Call,
        cls: type,
        target: Callable[[], str] | None,
    ) -> Any:
        """``self.forward(x)`` or ``self.weights`` (a property) of ``cls``, inlined after a
        check, when the gradient runs, that ``self``'s class has the same member."""
        func = node.func if isinstance(node, ast.Call) else node
        assert isinstance(func, ast.Attribute)  # (both callers call a member: `obj.name`)
        member = inspect.getattr_static(cls, func.attr, None)
        static = _method_function(member, staticmethod)
        shared = _method_function(member, classmethod)
        if isinstance(node, ast.Call) and isinstance(member, types.FunctionType):
            function, part, call = member, "", node
        elif isinstance(node, ast.Call) and (static or shared) is not None:
            function, part, call = static or shared, "", node  # type: ignore[assignment]
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(member, property)
            and isinstance(member.fget, types.FunctionType)
        ):
            function, part = member.fget, "fget"
            call = ast.copy_location(ast.Call(func, [], []), node)
        else:
            return None
        receiver = self.lower_operand(scope, func.value)
        if isinstance(receiver, ir.Name):  # (`self` in the method's body: of this class)
            self.value_classes.setdefault(receiver.id, cls)
            example = self.example_of(scope, func.value)
            if example is not None:
                self.value_examples.setdefault(receiver.id, example)
        check = self.helper_ref(
            f"check_{func.attr}", same_member(scope.source.location(node), cls, func.attr)
        )
        self.emit(ir.Effect(ir.Call(check, (receiver,)), tag=self.next_tag()))
        if shared is not None:  # a classmethod: the class is its first argument
            receiver = self.helper_ref(cls.__name__, cls)
        return self.inline_member(
            scope, call, function, target, lambda: cls, part, receiver=static is None,
            receiver_value=receiver,
        )


def _is_bare_super(node: ast.expr) -> bool:
    """``super()`` with no arguments (the form methods use)."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "super"
        and not node.args
        and not node.keywords
    )


def _method_function(member: Any, kind: type) -> types.FunctionType | None:
    """The Python function of ``member`` when it is a ``kind`` (``staticmethod`` or
    ``classmethod``) of a function; else None."""
    function = getattr(member, "__func__", None) if isinstance(member, kind) else None
    return function if isinstance(function, types.FunctionType) else None


def _has_slice(key: ast.expr) -> bool:
    parts = key.elts if isinstance(key, ast.Tuple) else [key]
    return any(isinstance(part, ast.Slice) for part in parts)


def _concatenator_call(
    lowering: Objects, scope: Scope, node: ast.Subscript, concatenator: Any
) -> ast.Call:
    """``np.r_[a, b]`` as ``np.concatenate((np.atleast_1d(a), np.atleast_1d(b)))`` and
    ``np.c_[a, b]`` as ``np.column_stack((a, b))``: numpy's results for numbers and
    arrays of one dimension or two; slices and string directives are refused."""
    parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    module = node.value.value if isinstance(node.value, ast.Attribute) else None
    if module is None or any(
        isinstance(p, ast.Slice | ast.Starred)
        or (isinstance(p, ast.Constant) and isinstance(p.value, str))
        for p in parts
    ):
        raise lowering.error(
            scope,
            node,
            "`np.r_[...]` and `np.c_[...]` are supported with numbers and arrays, spelled "
            "through numpy's module (not with slices or string directives)",
            "write np.concatenate((np.atleast_1d(a), ...)) or np.column_stack((a, b)), "
            "with np.arange or np.linspace for a range",
        )

    def numpy_call(function: str, *args: ast.expr) -> ast.Call:
        func = ast.copy_location(ast.Attribute(module, function, ast.Load()), node)
        return ast.copy_location(ast.Call(func, list(args), []), node)

    if concatenator is np.r_:
        items: list[ast.expr] = [numpy_call("atleast_1d", p) for p in parts]
        return numpy_call("concatenate", ast.copy_location(ast.Tuple(items, ast.Load()), node))
    return numpy_call("column_stack", ast.copy_location(ast.Tuple(parts, ast.Load()), node))


def _item_class(hint: Any) -> type | None:
    """``Layer`` of ``list[Layer]``, ``tuple[Layer, ...]`` or ``Sequence[Layer]`` (a
    class of the user's); else None."""
    items = typing.get_args(hint)
    if typing.get_origin(hint) is tuple and len(items) == 2 and items[1] is Ellipsis:
        items = items[:1]
    if len(set(items)) == 1 and _user_class(items[0]):
        return items[0]
    return None


def _user_class(cls: Any) -> bool:
    """A class of the user's (not a builtin, numpy or typing type)."""
    module = getattr(cls, "__module__", "") or ""
    return isinstance(cls, type) and module != "builtins" and module.split(".")[0] not in (
        "numpy", "typing", "collections"
    )


def declares_field(cls: type, name: str) -> bool:
    """Whether ``cls`` declares a field ``name``: a dataclass's, a namedtuple's, or an
    annotated one."""
    if dataclasses.is_dataclass(cls):
        return name in {f.name for f in dataclasses.fields(cls)}
    declared = getattr(cls, "_fields", None)  # (a namedtuple's)
    if isinstance(declared, tuple):
        return name in declared
    return name in field_hints(cls)


def field_hints(cls: type) -> dict[str, Any]:
    """The annotations of ``cls``'s fields (``typing.get_type_hints``), or none when
    they cannot be resolved."""
    try:
        return typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001 - a hint naming what the module does not define
        return {}
