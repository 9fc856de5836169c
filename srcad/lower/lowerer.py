"""The lowerer: its state, the entry point, and the parts it is made of."""

from __future__ import annotations

import ast
import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from .. import astwalk, ir
from ..desugar import desugar
from ..diagnostics import at_user_call
from ..errors import Location, SrcadError, UnsupportedSyntaxError
from ..frontend import FunctionSource
from ..names import NameAllocator
from ..rules import TABLE
from ..rules.scalar import FIELD, ITEM, LOOP_ITEMS
from ..rules.table import COPY, Rules
from ..runtime import (
    require_no_container,
    require_no_field,
    require_no_list,
    require_no_own_method,
    require_number_items,
    require_numeric_operands,
    require_plain_container,
    require_separate_items,
)
from ..squares import squares_of_roots
from ..subset import check_supported
from .closures import ClosureConversion
from .distributions import Distributions
from .expressions import Expressions
from .inlining import Inlining
from .iterators import Iterators
from .joins import Joins
from .keywords import NumpyKeywords
from .lists import Lists
from .loops import Loops
from .made_objects import MadeObject, MadeObjects
from .made_operators import MadeOperators
from .methods import InPlaceMethods
from .named_tuples import NamedTuples
from .namespaces import Namespaces
from .objects import Objects
from .operations import Operations, is_method_rule
from .resolve import Resolver
from .statements import Statements
from .values import (
    RAISED,
    DefValue,
    LoopContext,
    Scope,
    Static,
    TupleValue,
    assigned_names,
    fixed_function,
    returning,
)
from .with_try import WithTry


class Lowerer(
    Statements,
    WithTry,
    Joins,
    Loops,
    Iterators,
    Lists,
    InPlaceMethods,
    Expressions,
    Operations,
    NumpyKeywords,
    Namespaces,
    Distributions,
    Inlining,
    MadeOperators,
    MadeObjects,
    NamedTuples,
    Objects,
    ClosureConversion,
    Resolver,
):
    """Lowers one function (the root) and the helpers it inlines; see the package
    docstring. Each part (a base class) lowers one kind of construct."""

    def __init__(self, root: FunctionSource, table: Rules) -> None:
        self.root = root
        self.table = table
        self.names = NameAllocator(_all_names(root.node))
        self.body: list[ir.Stmt] = []
        self.bindings: dict[str, Any] = {}
        self.free_cells: dict[str, Any] = {}
        self.free_objects: dict[str, Any] = {}
        #: calls into code srcad could not read, and why (reported if they are active)
        self.refusals: dict[Location, SrcadError] = {}
        #: bindings of errors the gradient raises when the program takes a path srcad
        #: does not differentiate (named at the user's call once lowering is done)
        self.run_time_refusals: list[str] = []
        #: lines of other files' inlined code -> the user's call that reached them
        self.call_sites: dict[Location, tuple[Location, Any]] = {}
        self.inlining: list[Any] = [root.function]
        self.recursive_calls = 0  # (see Inlining.check_recursion)
        self._tag = 0
        self.loops: list[LoopContext] = []
        #: values made by arithmetic or numpy calls (never a dict a loop would run over)
        self.not_dicts: set[str] = set()
        #: lists this function made (``.append`` may grow them), and those of them that
        #: another list holds (growing one would change the other: refused)
        self.own_lists: set[str] = set()
        self.shared_lists: set[str] = set()
        #: lists a helper changed in place (by listing name or display id): the helper's
        #: scope, its name for the list, and the line (see Lists.refuse_stale)
        self.stale_lists: dict[Any, tuple[Any, str, ast.AST]] = {}
        #: displays several holders share, by id (each kept here: an id is not reused)
        self.shared_displays: dict[int, TupleValue] = {}
        #: list displays a helper made into one list, to hand it to an object it made
        #: (by the display's id: the caller's names for the display now hold that list)
        self.kept_displays: dict[int, tuple[TupleValue, ir.Name]] = {}
        #: lists changed in place (by IR name): the first change, for a loop's check
        self.changed_lists: dict[str, tuple[str, str, Any, ast.AST]] = {}
        self._shared_owners: set[Any] = set()  # variables whose display is split at a join
        self._list_owners: set[Any] = set()  # ... and whose display is a list
        self._tuple_classes: dict[Any, type | None] = {}  # ... and its namedtuple class
        #: lists that may hold lists, and the values read out of them (lists, maybe: a
        #: write into one would change the outer list too, which srcad does not follow)
        self.holds_lists: set[str] = set()
        #: fields of objects the function made that were set to lists it made
        self.list_fields: set[str] = set()
        self.list_items: set[str] = set()
        #: (the maps by an AST node below are keyed by the node itself, which hashes by
        #: identity: the map keeps it, so no other node gets its id meanwhile)
        #: per function node: the reads that hand a list on (``ys = hs``, ``[hs, 1]``)
        self._handing_on: dict[ast.FunctionDef, frozenset[int]] = {}
        #: per function node: its lists of lists written ``R[i][j] = v`` (see rows.py)
        self._rows_held_once: dict[ast.FunctionDef, dict[str, ast.AST | None]] = {}
        #: per function node: how often it reads each name
        self._loads: dict[ast.FunctionDef, Counter[str]] = {}
        #: (scope, user name) of the sequences enclosing ``for`` loops run over
        self.iterated: list[tuple[Scope, set[str]]] = []
        #: Inlined callees as (how to look the name up again, object, code), so that a
        #: cached gradient can tell when a helper was redefined.
        self.dependencies: list[tuple[Callable[[], Any], Any, Any]] = []
        #: the default values of each nested ``def``, taken where the ``def`` runs
        self.def_defaults: dict[ast.FunctionDef, dict[str, Any]] = {}
        #: the listing names of the differentiated function's parameters
        self.parameter_names: set[str] = set()
        #: names of dicts the function made with a display (their values are objects)
        self.own_dicts: set[str] = set()
        #: shallow copies of containers that may hold arrays (``q = p.copy()``)
        self.shallow_copies: set[str] = set()
        #: per function node: parameters its code indexes with strings
        self._keyed: dict[ast.FunctionDef, set[str]] = {}
        #: parameters whose items ``items[i] op= w`` changes in place: where, first
        self.items_updated: dict[str, Location] = {}
        #: copies and slices of parameters (``M = L[:]``) -> the parameter
        self.parameter_copies: dict[str, str] = {}
        #: parameters a copy of which ``copy[i] op= w`` changes item by item: where, first
        self.copies_updated: dict[str, Location] = {}
        #: parameter -> (the copy's name, where it is written into through an item of it)
        self.copies_written_through: dict[str, tuple[str, Location]] = {}
        #: objects the function made (see srcad.lower.made_objects), by listing name;
        #: lists of them (what srcad knows of their items); names that hold one on some
        #: paths only, or objects of different classes
        self.made: dict[str, MadeObject] = {}
        self.made_items: dict[str, MadeObject] = {}
        self.lost_objects: set[str] = set()
        #: methods inlined on such objects, which may end without `return` (None)
        self.procedures: set[Any] = set()
        #: ``def``s of the code called bare, as Python runs them (ending in ``return None``)
        self.nested_procedures: dict[ast.FunctionDef, ast.FunctionDef] = {}

    def separate_items_checks(self) -> list[ir.Stmt]:
        """At the start: each parameter whose items are changed in place holds arrays
        that share no memory (srcad follows each item as an array of its own); each one
        whose copy is written into through an item is not a list, tuple or dict."""
        checks: list[ir.Stmt] = [
            self.separate_items_check(param, where, f"pass separate arrays (`[a.copy() for "
                                      f"a in {param}]`)")
            for param, where in self.items_updated.items()
        ]
        for param, where in self.copies_updated.items():
            error = UnsupportedSyntaxError(
                f"this line changes an item of a copy of `{param}` in place, and the copy "
                f"holds the arrays `{param}` holds (`{param}[:]` and `{param}.copy()` of a "
                "list or dict copy the container, not its arrays): srcad follows the "
                "change in the copy only",
                "give the item a new array (`M[i] = M[i] * w` instead of `M[i] *= w`), or "
                f"copy the arrays too (`[a.copy() for a in {param}]`)",
                where,
            )
            checks.append(
                self.run_time_check(require_number_items, (ir.Name(param),), error, "holds_arrays")
            )
        for param, (copy, where) in self.copies_written_through.items():
            error = UnsupportedSyntaxError(
                f"this line writes through an item of `{copy}`, a copy of `{param}`, which "
                f"is a list, tuple or dict: an item of the copy is an object `{param}` holds "
                "too, and a slice of a list is a new list, while srcad writes through the "
                "views of an array",
                f"for numbers, make the copy an array (`{copy} = np.array({param})`); else "
                "copy the inner containers too (`[list(row) for row in items]`, "
                "`{k: dict(v) for k, v in params.items()}`) and write into them",
                where,
            )
            checks.append(
                self.run_time_check(require_no_container, (ir.Name(param),), error, "an_array")
            )
        return checks

    def run_time_check(
        self,
        helper: Callable[..., None],
        operands: tuple[ir.Expr, ...],
        error: Exception,
        label: str,
        note: str = "",
    ) -> ir.Effect:
        """``helper(*operands, error)``: a check when the gradient runs, which raises
        ``error`` (a SrcadError at the user's call that reached this code), bound under
        a fresh name made from ``label``."""
        refusal = self.names.fresh(label)
        if isinstance(error, SrcadError):
            error = at_user_call(error, error.location, self.call_sites)
        self.bindings[refusal] = error
        check = self.helper_ref(helper.__name__, helper)
        return ir.Effect(ir.Call(check, (*operands, ir.Name(refusal))), note=note)

    def separate_items_check(
        self, name: str, where: Location, hint: str, shown: str | None = None
    ) -> ir.Effect:
        """``require_separate_items(name, ...)``: the arrays the list or dict ``name``
        holds share no memory, checked before an item of it is changed in place
        (``shown``: the user's name for it)."""
        error = UnsupportedSyntaxError(
            f"the items of `{shown or name}` share memory (two views of one array, or one "
            "array twice), and this line changes one of them in place",
            hint,
            where,
        )
        return self.run_time_check(require_separate_items, (ir.Name(name),), error, "shared_items")

    def plain_container_checks(self, scope: Scope) -> list[ir.Stmt]:
        """At the start: each parameter the function reads by item or loops over is not of
        a container subclass that reads its items with code of its own."""
        checks: list[ir.Stmt] = []
        seen: set[str] = set()
        for stmt in ir.walk(self.body):
            if not (isinstance(stmt, ir.Assign) and stmt.rule in (ITEM, LOOP_ITEMS)):
                continue
            container = stmt.operands[0]
            if not isinstance(container, ir.Name) or container.id not in self.parameter_names:
                continue
            if container.id in seen:
                continue
            seen.add(container.id)
            error = UnsupportedSyntaxError(
                f"`{container.id}` is of a class that reads its items with code of its own "
                "(`__getitem__` or `__iter__`): srcad reads them as a container's items",
                f"annotate the parameter with its class (`{container.id}: MyClass`: srcad then "
                "reads its `__getitem__`), or pass a plain container (`dict(...)`, `list(...)`)",
                stmt.loc,
            )
            checks.append(self.run_time_check(
                require_plain_container, (container,), error, "not_plain",
                note="the items are the container's own",
            ))
        return checks

    def own_method_checks(self) -> list[ir.Stmt]:
        """At the start: each parameter that methods' rules read as their receiver
        (``p.sum()``, ``p.get(k)``) is not an object whose class defines those methods in
        Python code srcad did not read (the rules are numpy's or a container's)."""
        methods: dict[str, dict[str, Location]] = {}  # parameter -> method -> first line
        for stmt in ir.walk(self.body):
            rule = stmt.rule if isinstance(stmt, ir.Assign) else None
            if rule is None or not is_method_rule(rule):
                continue
            assert isinstance(stmt, ir.Assign) and isinstance(rule.pattern, ir.Call)
            method = rule.pattern.func
            assert isinstance(method, ir.Attr) and isinstance(method.value, ir.Name)
            if method.value.id not in rule.params:
                continue
            receiver = stmt.operands[rule.params.index(method.value.id)]
            if isinstance(receiver, ir.Name) and receiver.id in self.parameter_names:
                methods.setdefault(receiver.id, {}).setdefault(method.attr, stmt.loc)
        checks: list[ir.Stmt] = []
        for param, found in methods.items():
            names = tuple(found)
            spelled = ", ".join(f"`{m}`" for m in names)
            error = UnsupportedSyntaxError(
                f"`{param}`'s methods {spelled} are differentiated as numpy's or a "
                f"container's, but `{param}` is an object whose class defines them itself",
                f"annotate the parameter with its class (`{param}: MyClass`), so that srcad "
                "reads its methods",
                next(iter(found.values())),
            )
            checks.append(self.run_time_check(
                require_no_own_method, (ir.Name(param), ir.Const(names), ir.Const(param)),
                error,
                "own_method", note=f"not an object with {spelled} of its own",
            ))
        return checks

    def field_attribute_checks(self) -> list[ir.Stmt]:
        """At the start: each parameter read with an attribute an array has (``p.shape``,
        ``g.T`` of each item ``g`` of it) is not an object with a field of that name (or a
        list of such): srcad read it as the array's attribute, not knowing the object's
        class (round 93: a prior's ``shape``, a gas's ``T``; a silently wrong gradient)."""
        definitions = {s.target: s for s in ir.walk(self.body) if isinstance(s, ir.Assign)}

        def root(expr: ir.Expr) -> tuple[str, bool] | None:
            """The parameter ``expr`` is, or is an item of (with whether an item)."""
            if not isinstance(expr, ir.Name):
                return None
            if expr.id in self.parameter_names:
                return expr.id, False
            item = definitions.get(expr.id)
            if item is None or item.rule is not ITEM:
                return None
            container = item.operands[0]
            held = definitions.get(container.id) if isinstance(container, ir.Name) else None
            if held is not None and held.rule is LOOP_ITEMS:  # (xs_items = loop_items(xs))
                container = held.operands[0]
            found = root(container)
            return (found[0], True) if found is not None and not found[1] else None

        reads: dict[tuple[str, bool], dict[str, ir.Assign]] = {}
        read_as: dict[tuple[str, bool], set[str]] = {}  # (the names those reads are of)
        as_values: set[str] = set()  # (names an operation reads otherwise: arrays then)
        for stmt in ir.walk(self.body):
            if not isinstance(stmt, ir.Assign):
                continue
            rule, pattern = stmt.rule, stmt.rule.pattern if stmt.rule is not None else None
            owner = pattern.value if isinstance(pattern, ir.Attr) else None
            if rule is None or not isinstance(pattern, ir.Attr) or not (
                isinstance(owner, ir.Name) and owner.id in rule.params
            ):
                if rule not in (ITEM, LOOP_ITEMS, FIELD):
                    as_values.update(ir.names_in(stmt.value))
                continue
            operand = stmt.operands[rule.params.index(owner.id)]
            found = root(operand)
            if found is not None and isinstance(operand, ir.Name):
                reads.setdefault(found, {}).setdefault(pattern.attr, stmt)
                read_as.setdefault(found, set()).add(operand.id)
        checks: list[ir.Stmt] = []
        for (param, items), attributes in reads.items():
            if not as_values.isdisjoint(read_as[(param, items)]):
                continue  # (`X @ W1` beside `X.shape`: an array, never an object)
            first = next(iter(attributes.values()))
            spelled = ", ".join(f"`.{a}`" for a in attributes)
            error = UnsupportedSyntaxError(
                f"`{param}`{' holds objects that have' if items else ' has'} a field named "
                f"like an array's attribute ({spelled}), which srcad read as the array's, "
                "not knowing the objects' class",
                f"annotate the parameter with its class (`{param}: MyClass`"
                f"{', or list[MyClass]' if items else ''}), so that srcad reads its fields",
                first.loc,
            )
            checks.append(self.run_time_check(
                require_no_field, (ir.Name(param), ir.Const(tuple(attributes)), ir.Const(items)),
                error, "field_named_so", note=f"no field named {spelled}",
            ))
        return checks

    def array_operand_checks(self) -> list[ir.Stmt]:
        """At the start: each parameter given directly to an elementwise numpy function
        (``np.square(xs)``) is not a Python list or tuple: numpy makes an array of it, but
        the derivative's arithmetic would run on the list (``2 * xs`` repeats it)."""
        checks: list[ir.Stmt] = []
        seen: set[str] = set()
        for stmt in ir.walk(self.body):
            rule = stmt.rule if isinstance(stmt, ir.Assign) else None
            if rule is None or not rule.elementwise or not isinstance(rule.pattern, ir.Call):
                continue
            assert isinstance(stmt, ir.Assign)  # (it has a rule)
            for param, operand in zip(rule.params, stmt.operands):
                if (
                    not isinstance(operand, ir.Name)
                    or operand.id not in self.parameter_names
                    or operand.id in seen
                    or param in rule.sequences
                ):
                    continue
                seen.add(operand.id)
                error = UnsupportedSyntaxError(
                    f"`{operand.id}` is a Python list or tuple given to `{rule.name}`: srcad "
                    "differentiates numpy's functions of arrays and numbers",
                    f"pass an array (`np.asarray({operand.id})`), or write "
                    f"`np.asarray({operand.id})` in the call",
                    stmt.loc,
                )
                checks.append(self.run_time_check(
                    require_no_list, (operand,), error, "not_an_array", note="not a Python list"
                ))
        return checks

    def sequence_arithmetic_checks(self) -> list[ir.Stmt]:
        """At the start: ``+`` of two parameters, or of slices of them (``ys[:1] +
        ys[1:]``), and ``*`` of one and an int constant are numpy's arithmetic, as
        lowering read them, not Python's joining or repeating of lists: each pair is
        checked once, for parameters the function also reads as sequences (indexes,
        loops over, measures with ``len``), or whose sum it reads so (``(a + b)[2]``)."""
        sliced: dict[str, str] = {}  # a slice's name -> the parameter it is a slice of
        checks: list[ir.Stmt] = []
        seen: set[tuple[str, str, str]] = set()
        read = self.read_as_sequences()
        sequences = read & self.parameter_names

        copied: dict[str, str] = {}  # a copy's name -> the parameter it copies

        def root(operand: ir.Expr, result_read: bool = False) -> ir.Expr | None:
            if isinstance(operand, ir.Name):  # (a parameter read as a sequence, or any
                if operand.id in sequences or (  # when the sum itself is: `t = a + b; t[1]`)
                    result_read and operand.id in self.parameter_names
                ):
                    return operand
                if result_read and operand.id in copied:
                    return ir.Name(copied[operand.id])
                return ir.Name(sliced[operand.id]) if operand.id in sliced else None
            return None

        for stmt in ir.walk(self.body):
            if not isinstance(stmt, ir.Assign) or stmt.rule is None:
                continue
            value = stmt.value
            if stmt.rule is COPY and (whole := root(value, True)) is not None:
                assert isinstance(whole, ir.Name)  # (`t = a`: a's, when the sum is read
                copied[stmt.target] = whole.id  # as a sequence: `t += b; t[1]`)
            if stmt.in_place and not isinstance(value, ir.BinOp):
                continue
            if (
                stmt.rule is ITEM
                and isinstance(value, ir.Subscript)
                and isinstance(value.index, ir.Slice)
                and (whole := root(value.value)) is not None
            ):
                assert isinstance(whole, ir.Name)  # (a parameter)
                sliced[stmt.target] = whole.id
            if not isinstance(value, ir.BinOp) or value.op not in ("+", "*"):
                continue
            result_read = stmt.target in read
            left, right = root(value.left, result_read), root(value.right, result_read)
            if value.op == "*":  # (a list times a constant count: `ys * 2`)
                left = left or _int_constant(value.left)
                right = right or _int_constant(value.right)
                if not (isinstance(left, ir.Const) or isinstance(right, ir.Const)):
                    continue
            if left is None or right is None:
                continue
            key = (value.op, _check_key(left), _check_key(right))
            if key in seen:
                continue
            seen.add(key)
            error = UnsupportedSyntaxError(
                f"`{value.op}` of Python lists or tuples (given as arguments) joins or "
                "repeats them, and srcad read this line as numpy's arithmetic",
                "pass arrays (`np.asarray(ys)`), or make the lists in the function "
                "(`list(ys[:1]) + list(ys[1:])`)",
                stmt.loc,
            )
            checks.append(self.run_time_check(
                require_numeric_operands, (left, right, ir.Const(value.op)), error,
                "not_a_list", note="numbers or arrays, not lists",
            ))
        return checks

    def parameters_read_as_sequences(self) -> set[str]:
        """The parameters an item read, a loop or ``len`` reads as sequences."""
        return self.read_as_sequences() & self.parameter_names

    def read_as_sequences(self) -> set[str]:
        """The names an item read, a loop or ``len`` reads as sequences."""
        found: set[str] = set()
        for stmt in ir.walk(self.body):
            if not isinstance(stmt, ir.Assign) or stmt.rule is None:
                continue
            measured = isinstance(stmt.value, ir.Call) and stmt.value.func == ir.Name("len")
            for param, operand in zip(stmt.rule.params, stmt.operands):
                if (param in stmt.rule.sequences or measured) and isinstance(operand, ir.Name):
                    found.add(operand.id)
        return found

    def lower_root(self) -> ir.Function:
        fn = self.root.node
        params = tuple(a.arg for a in (*fn.args.posonlyargs, *fn.args.args))
        kwonly = tuple(a.arg for a in fn.args.kwonlyargs)
        scope = Scope(
            self.root, local_names=frozenset(assigned_names(fn)), is_root=True,
            node=desugar(fn, shadowed=self.root.shadowed_builtins),
        )
        for param in (*params, *kwonly):
            scope.env[param] = ir.Name(self.names.own(param))
            self.parameter_names.add(scope.env[param].id)
        # (partial(loss, act=np.tanh), or loss(x, np.tanh) when srcad builds the gradient
        # for the function a call passes: calls of `act` are calls of np.tanh)
        for param, value in {**self.root.examples, **self.root.fixed}.items():
            if fixed_function(value):
                reference = self.helper_ref(param, value)
                scope.statics[param] = Static(value, reference, returning(value))
        result, return_node = self.lower_body(scope, self._lazy(lambda: self.names.fresh(fn.name)))
        loc = (
            self.root.location(return_node)
            if return_node is not None
            else Location(self.root.filename, 0, 0)  # (a body that ends in `raise`)
        )
        if result is RAISED:  # (every path raises: the return is never reached)
            result = ir.Const(0.0)
        elif return_node is not None:
            self.refuse_made_result(scope, return_node, result)
            result = self.as_result(scope, result, return_node)
        self.body[:0] = (
            self.separate_items_checks()
            + self.plain_container_checks(scope)
            + self.own_method_checks()
            + self.field_attribute_checks()
            + self.array_operand_checks()
            + self.sequence_arithmetic_checks()
        )
        self.body.append(ir.Return(_as_expr(result), loc))
        for name in self.run_time_refusals:  # (at the user's call that reached the library)
            error = self.bindings[name]
            self.bindings[name] = at_user_call(error, error.location, self.call_sites)
        return ir.Function(
            name=fn.name,
            params=params,
            kwonly=kwonly,
            body=tuple(self.body),
            bindings=dict(self.bindings),
            free_cells=dict(self.free_cells),
            free_objects=dict(self.free_objects),
            source_file=self.root.filename,
            source_line=fn.lineno,
            dependencies=tuple(self.dependencies),
            refusals=dict(self.refusals),
            call_sites=dict(self.call_sites),
        )

    @staticmethod
    def _lazy(make: Callable[[], str]) -> Callable[[], str]:
        """A name allocated on first use and the same on every later use."""
        made: list[str] = []

        def name() -> str:
            if not made:
                made.append(make())
            return made[0]

        return name

    def lower_body(
        self, scope: Scope, result_name: Callable[[], str]
    ) -> tuple[Any, ast.Return | None]:
        """Lower a function body; return its result value and its (last) `return` statement
        (None for a body that ends in `raise`)."""
        self._last_return = None
        result = self.lower_statements(scope, scope.function.body, result_name)
        if result is None:  # pragma: no cover - check_supported guarantees a return
            raise self.error(
                scope, scope.function, "the function does not return a value", "return one"
            )
        return result, self._last_return

    def as_name(self, scope: Scope, value: Any, node: ast.AST) -> str:
        """A name holding ``value`` (a constant or a tuple display gets one first)."""
        if isinstance(value, ir.Name):
            return value.id
        if isinstance(value, TupleValue):
            return self.materialize(scope, value, node).id
        return self.emit_value(scope, value, node).id

    def emit(self, stmt: ir.Stmt) -> None:
        if stmt.__class__ is ir.Assign or stmt.__class__ is ir.Effect:
            value = stmt.value
            if any(part.__class__ is DefValue for part in (value, *ir.children(value))):
                raise UnsupportedSyntaxError(  # (a def of the code is only called: DefValue)
                    "a function defined in the differentiated code is stored or passed "
                    "on here as a value: srcad inlines calls of it, and cannot keep it",
                    "call it where its value is needed, or define it at module level",
                    stmt.loc,
                )
        self.body.append(stmt)

    @contextlib.contextmanager
    def block(self) -> Iterator[list[ir.Stmt]]:
        """Collect the statements lowered inside the ``with`` into a new list."""
        outer, self.body = self.body, []
        try:
            yield self.body
        finally:
            self.body = outer

    def next_tag(self) -> int:
        self._tag += 1
        return self._tag

    def error(self, scope: Scope, node: ast.AST, message: str, hint: str) -> SrcadError:
        return UnsupportedSyntaxError(message, hint, scope.source.location(node))


def _all_names(fn: ast.FunctionDef) -> set[str]:
    names: set[str] = set()
    for node in astwalk.nodes(fn):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _as_expr(value: Any) -> ir.Expr:
    """A result value as an expression (a tuple of results as a tuple display)."""
    if isinstance(value, TupleValue):
        return ir.Tuple(tuple(_as_expr(v) for v in value.items), value.is_list)
    return value


def lower(
    source: FunctionSource, table: Rules = TABLE, *, checked: bool = False
) -> ir.Function:
    """The forward listing of ``source`` (checked against the supported subset first,
    unless the caller already did: ``checked=True``)."""
    if not checked:
        check_supported(source)
    return squares_of_roots(Lowerer(source, table).lower_root())


def _check_key(expr: ir.Expr) -> str:
    """A key for an operand of a check (a name, or a constant's repr)."""
    return expr.id if isinstance(expr, ir.Name) else repr(expr)


def _int_constant(expr: ir.Expr) -> ir.Const | None:
    """``expr`` if it is an int constant (the count of ``items * 3``)."""
    return expr if isinstance(expr, ir.Const) and type(expr.value) is int else None
