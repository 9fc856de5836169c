"""The supported subset of Python, checked before lowering so that every problem in a
function is reported at once, each at its own line, with what to write instead."""

from __future__ import annotations

import ast
import builtins
import functools
import types
from collections.abc import Iterator, Sequence

from . import astwalk
from .chains import MISSING, chain_names, static_attribute, static_chain
from .contexts import try_refusals, with_refusals
from .desugar import (
    CHANGING_METHODS,
    argument_lambdas,
    changed_by,
    constant_set,
    endless,
    extreme_or_default,
    filtered_call,
    keyed_extreme,
    keyed_sort,
    keyed_sort_in_place,
    mapped_call,
    named_lambda,
    reduce_call,
    single_name_target,
    skippable_comprehensions,
    summed_comprehension,
)
from .errors import NoRuleError, SrcadError, UnsupportedSyntaxError, raise_all
from .frontend import FunctionSource, read_function

#: Statements srcad refuses, with the hint the error gives.
REFUSED_STATEMENTS: dict[type, tuple[str, str]] = {
    ast.AsyncWith: ("`async with` cannot be differentiated", "differentiate a plain function"),
    ast.AsyncFor: ("`async for` cannot be differentiated", "differentiate a plain function"),
    ast.Global: (
        "`global` declarations cannot be differentiated",
        "pass the value in as a parameter and return the new value",
    ),
    ast.Match: (
        "`match` statements are supported when their patterns test values (`case \"relu\":`, "
        "`case 0 | 1:`, `case _:`), not with a sequence, mapping or class pattern",
        "write the cases as `if`/`elif` tests on the value (`if op[0] == \"mul\":`)",
    ),
    ast.Nonlocal: (
        "`nonlocal` declarations cannot be differentiated",
        "pass the value in as a parameter and return the new value",
    ),
    ast.Delete: (
        "`del` of an attribute, or of an item of something other than a name, cannot be "
        "differentiated",
        "delete local names (`del tmp`) or one item of a list the function made (`del items[i]`)",
    ),
    ast.AsyncFunctionDef: (
        "async functions cannot be differentiated",
        "differentiate a plain function",
    ),
    ast.ClassDef: (
        "class definitions cannot be differentiated",
        "define the class at module level",
    ),
}

#: Expressions srcad refuses, with the hint the error gives.
#: builtins that read variables by name as the program runs (``eval("x * x")``); the
#: lowerer refuses them under another name too (``EV = eval``)
NAMESPACE_READERS = ("eval", "exec", "locals", "vars", "globals")

REFUSED_EXPRESSIONS: dict[type, tuple[str, str]] = {
    ast.Lambda: (
        "a lambda is supported assigned to a name (`square = lambda t: t * t`) or given "
        "to a call without defaults (`newton(lambda x: x * x - a, 1.0)`), outside "
        "comprehensions and other lambdas",
        "assign it to a name first, or define the function with `def`",
    ),
    ast.Yield: ("generators cannot be differentiated", "return a value instead of yielding"),
    ast.YieldFrom: ("generators cannot be differentiated", "return a value instead of yielding"),
    ast.Await: ("`await` cannot be differentiated", "differentiate a plain function"),
    ast.SetComp: ("set comprehensions cannot be differentiated", "write the terms out"),
    ast.NamedExpr: (
        "`:=` is not supported here (srcad reads one that Python evaluates before anything "
        "in its statement that could see the difference, or in a comprehension)",
        "use a separate assignment",
    ),
    ast.Set: ("set displays are not supported", "pass values as separate parameters"),
}

class _Checker(ast.NodeVisitor):
    def __init__(self, source: FunctionSource, inlined: bool = False, nested: bool = False) -> None:
        self.source = source
        self.inlined = inlined  # a helper inlined into the call (``*args`` is bound there)
        self.nested = nested  # a ``def`` inside the function (checked again where called)
        self.procedure = False  # a nested ``def`` that returns no value (called bare)
        self.problems: list[SrcadError] = []
        #: ids of expressions that are the whole value of `name = ...`
        self.whole_values: set[int] = set()
        self.loop_depth = 0  # loops around the statement being checked
        #: comprehensions and lambdas around the expression being checked (a lambda given
        #: as an argument there is not named before the statement: refused)
        self.scopes_within = 0
        #: ids of the conditional expressions srcad.desugar computes as if statements
        self.skippable: set[int] = set()


    @functools.cached_property
    def nodes(self) -> list[ast.AST]:
        """Every node of the function checked (read once: the questions below ask them)."""
        return list(astwalk.nodes(self.source.node))

    @functools.cached_property
    def changes_lists(self) -> bool:
        """Does the function call a method that changes a list (a dict, an array)?"""
        return any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and n.func.attr in CHANGING_METHODS
            for n in self.nodes
        )

    @functools.cached_property
    def has_comprehensions(self) -> bool:
        """Does the function hold a comprehension (or a generator expression)?"""
        comprehension = ast.GeneratorExp | ast.ListComp | ast.DictComp
        return any(isinstance(n, comprehension) for n in self.nodes)

    @functools.cached_property
    def builtin_sum(self) -> bool:
        """``sum`` is the builtin (not a local variable or a global of that name)."""
        return "sum" not in _stored_names(self.source.node) and (
            self.source.lookup("sum") is builtins.sum
        )

    def static(self, node: ast.expr) -> object:
        """The object a global name, or a chain of attributes of one, denotes (see
        :mod:`srcad.chains`), or None."""
        stored = _stored_names(self.source.node)
        found = static_chain(
            node, lambda name: MISSING if name in stored else self.source.lookup(name)
        )
        return None if found is MISSING else found

    def read_again(self, stmt: ast.Assign, name: str) -> bool:
        """Whether ``name``, bound by ``stmt``, is read more than once: twice, or once
        inside a loop that ``stmt`` is not in (each pass reads it again) or inside a
        function (each call reads it again)."""
        reads = [
            node for node in astwalk.walk(self.source.node)
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)
        ]
        if len(reads) != 1:
            return len(reads) > 1
        for loop in astwalk.walk(self.source.node):
            passes: list[ast.AST]
            if isinstance(loop, ast.FunctionDef | ast.Lambda) and loop is not self.source.node:
                passes = [loop]
            elif isinstance(loop, ast.For):
                passes = [*loop.body, *loop.orelse]
            elif isinstance(loop, ast.While):
                passes = [loop]
            else:
                continue
            if any(  # (a `for`'s iterable is read once)
                n is reads[0] for part in passes for n in astwalk.walk(part)
            ):
                if not any(n is stmt for n in astwalk.walk(loop)):
                    return True
        return False

    def refuse(self, node: ast.AST, message: str, hint: str) -> None:
        self.problems.append(UnsupportedSyntaxError(message, hint, self.source.location(node)))

    # ---- the function itself
    def check_function(self, fn: ast.FunctionDef) -> None:
        args = fn.args
        wrapped = getattr(self.source.function, "__wrapped__", None)
        hint = (  # (a decorator's wrapper: a helper called with its arguments is read)
            f"differentiate a function that calls it: `srcad.grad(lambda x: "
            f"{getattr(wrapped, '__name__', 'f')}(x))`"
            if wrapped is not None
            else "list the parameters one by one"
        )
        if args.vararg is not None and not self.inlined:
            self.refuse(args.vararg, "`*args` parameters are not supported", hint)
        if args.kwarg is not None and not self.inlined:
            self.refuse(args.kwarg, "`**kwargs` parameters are not supported", hint)
        body = fn.body
        if body and is_docstring(body[0]):
            body = body[1:]
        self.procedure = self.nested and _returns_nothing(fn)
        self.check_block(body)
        is_generator = any(isinstance(n, ast.Yield | ast.YieldFrom) for n in astwalk.nodes(fn))
        if not is_generator and not (self.nested and _returns_nothing(fn)):
            self.problems += returns_problems(self.source, fn)

    def check_block(self, body: list[ast.stmt]) -> None:
        for index, stmt in enumerate(body):
            self.check_generator_kept(stmt, body[index + 1:index + 2])
            if (
                isinstance(stmt, ast.Return | ast.Break | ast.Continue | ast.Raise)
                or (isinstance(stmt, ast.With) and _always_returns(stmt.body))
            ) and index != len(body) - 1:
                self.refuse(
                    body[index + 1],
                    "this code is never run",
                    "remove the statements after `return`, `break` or `continue`",
                )
            self.check_statement(stmt)

    def check_generator_kept(self, stmt: ast.stmt, following: list[ast.stmt]) -> None:
        """``name = helper(...)`` where ``helper`` returns a generator: srcad runs it at
        the call (inlined), Python where it is read. The two agree when the name is
        bound once and read once, by the next statement (``following``), a simple one;
        else refused (a list written in between, a second reading: silently wrong)."""
        name = single_name_target(stmt)
        if name is None or not isinstance(stmt, ast.Assign):
            return
        helper = self.generator_function(stmt.value)
        if helper is None:
            return
        reads = [n for n in astwalk.walk(self.source.node)
                 if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]
        read_by_next = (
            len(reads) == 1 and _stored_names_count(self.source.node, name) == 1
            and following and isinstance(following[0], _SIMPLE_STATEMENTS)
            and any(n is reads[0] for n in astwalk.walk(following[0]))
        )
        if read_by_next:
            given = {n.id for n in astwalk.walk(stmt.value) if isinstance(n, ast.Name)}
            changing = self.changed_where_read(following[0], given | {name})
            if changing is None:
                return
            self.refuse_changed_where_read(changing, name)
            return
        self.refuse(
            stmt,
            f"`{helper}` returns a generator, which Python runs where `{name}` is read; "
            "srcad runs it here, at the call, which gives the same only when the next "
            "statement reads it, once",
            f"call `{helper}(...)` where its items are read (`sum({helper}(...))`), or "
            "make it return a list (`return [...]`)",
        )

    def changed_where_read(self, where: ast.stmt, names: set[str]) -> ast.AST | None:
        """What in the statement ``where`` (which reads a generator) may change, before
        the generator runs, a list or array the generator reads (``names``: what it
        reads, and its own name): ``stack.pop()``, ``xs[0] = v``, ``xs += ...``, or a
        call of the user's function given one of them (it may change it: ``u *= 2``).
        srcad runs a generator at the start of the statement that reads it; None when
        nothing there changes what it reads."""
        for node in astwalk.walk(where):
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr in (*CHANGING_METHODS, "at"):
                    if _root_name(func.value) in names:
                        return node
                elif isinstance(func, ast.Name) and any(
                    isinstance(a, ast.Name) and a.id in names
                    for a in (*node.args, *(k.value for k in node.keywords))
                ) and isinstance(self.called_function(func.id), types.FunctionType):
                    return node
            elif isinstance(node, ast.AugAssign | ast.Assign | ast.AnnAssign | ast.For):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                # (a loop's body runs between the generator's items: any binding counts)
                if any(_root_name(t) in names for t in targets if node is not where and (
                    isinstance(where, ast.For | ast.While)) or isinstance(
                        t, ast.Subscript | ast.Attribute) or isinstance(node, ast.AugAssign)):
                    return node
        return None

    def refuse_changed_where_read(self, node: ast.AST, name: str) -> None:
        self.refuse(
            node,
            f"this changes what the generator `{name}` runs over in the statement that "
            "reads it: Python runs the generator where it is read, after the change, and "
            "srcad at the start of the statement",
            f"make the change in a statement of its own, before or after the one that "
            f"reads `{name}`",
        )

    def called_function(self, name: str) -> object:
        """The function a call of ``name`` calls: a ``def`` of this function's, or a
        global's value (a lambda bound to a name counts as a function)."""
        for node in astwalk.walk(self.source.node):
            if isinstance(node, ast.FunctionDef) and node.name == name and (
                node is not self.source.node
            ):
                return (lambda: None)
            if isinstance(node, ast.stmt) and named_lambda(node) and (
                single_name_target(node) == name
            ):
                return (lambda: None)
        if name in _stored_names(self.source.node):
            return None
        return self.source.lookup(name)

    def generator_function(self, value: ast.expr) -> str | None:
        """The name of the function ``value`` calls, when that function (a ``def`` or
        named lambda of this function, or a global Python function) returns a
        generator; else None."""
        if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Name):
            return None
        name = value.func.id
        for node in astwalk.walk(self.source.node):
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return name if _returns_generator(node) else None
            if (isinstance(node, ast.stmt) and named_lambda(node)
                    and single_name_target(node) == name):
                return name if _returns_generator(node.value) else None
        if name in _stored_names(self.source.node):
            return None
        function = self.source.lookup(name)
        if not isinstance(function, types.FunctionType) or not _may_return_generator(
            function.__code__
        ):
            return None
        try:
            node = read_function(function).node
        except SrcadError:
            return None
        return name if _returns_generator(node) else None

    def check_statement(self, stmt: ast.stmt) -> None:
        """Check one statement, by its construct's ``check_<Node>`` method."""
        # (`a if c else b`, `and`, `or` with comprehensions: if statements, srcad.desugar)
        self.skippable = {
            id(node)
            for field, value in ast.iter_fields(stmt)
            if isinstance(value, ast.expr) and not isinstance(stmt, ast.While | ast.With)
            for node in skippable_comprehensions(value)
        } if self.has_comprehensions else set()
        self.check_read_then_changed(stmt)
        check = getattr(self, f"check_{type(stmt).__name__}", self.check_other)
        check(stmt)

    def check_read_then_changed(self, stmt: ast.stmt) -> None:
        """A list (a dict, an array) that a statement reads and changes in an order
        srcad would not follow (see :func:`_read_then_changed_in`: ``st + [st.pop()]``,
        a comprehension over ``st`` beside ``st.pop()``, ``acc[len(st) - 1] +=
        st.pop()``); refused. (A change the statement itself makes, ``st.append(st.pop()
        * v)``, is ordered when srcad desugars it.)"""
        if not self.changes_lists:
            return
        found = _read_then_changed_in(stmt)
        if found is None:
            return
        name, method = found
        first = (
            "compute the index on a line of its own first (`i = ...`), then write "
            "`...[i] += ...`" if isinstance(stmt, ast.AugAssign) and any(
                n is name for n in astwalk.walk(stmt.target)
            ) else f"make the change on a line of its own first (`v = {name.id}.{method}"
            f"(...)`), then use `{name.id}`"
        )
        self.refuse(
            name,
            f"`{name.id}` is read, and changed by `{name.id}.{method}(...)`, in one "
            "statement, in an order srcad does not follow",
            first,
        )

    def check_other(self, stmt: ast.stmt) -> None:
        """A statement srcad does not support: refused, with the hint of
        :data:`REFUSED_STATEMENTS` when it has one."""
        if type(stmt) in REFUSED_STATEMENTS:
            self.refuse(stmt, *REFUSED_STATEMENTS[type(stmt)])
            return
        self.refuse(
            stmt,
            f"`{type(stmt).__name__}` statements are not supported",
            "rewrite it with assignments and `return`",
        )

    def check_Delete(self, stmt: ast.Delete) -> None:
        """``del tmp`` unbinds a name and computes nothing; ``del items[i]`` of a name's
        item is lowering's to judge (a list the function made); any other ``del`` is
        refused."""
        for target in stmt.targets:
            if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                self.visit(target.slice)
            elif not isinstance(target, ast.Name):
                self.check_other(stmt)
                return

    def check_If(self, stmt: ast.If) -> None:
        self.visit(stmt.test)
        self.check_block(stmt.body)
        self.check_block(stmt.orelse)

    def check_For(self, stmt: ast.For) -> None:
        self.check_loop_target(stmt.target)
        self.visit(stmt.iter)
        self.check_loop_body(stmt.body)
        self.check_block(stmt.orelse)  # (run once, after the loop: srcad.desugar)

    def check_While(self, stmt: ast.While) -> None:
        for node in astwalk.walk(stmt.test):
            if isinstance(node, ast.ListComp | ast.GeneratorExp):
                self.refuse(
                    node,
                    "a comprehension in a `while` condition is not supported",
                    "compute it into a variable before the loop and again at the end "
                    "of the loop body",
                )
        self.visit(stmt.test)
        self.check_loop_body(stmt.body, stmt.test)
        self.check_block(stmt.orelse)  # (run once, after the loop: srcad.desugar)

    def refuse_function_redefined(self, body: list[ast.stmt], test: ast.expr | None) -> None:
        """A function the loop defines (``def g``, ``g = lambda ...``) that a line of the
        loop reads before that definition in the same pass: from the second pass on,
        it reads the definition of the pass before, which srcad does not follow (it
        inlines the function a call names where it compiles the call). A call of
        another function that reads it counts (``energy(q)`` reading ``pot``); a
        function defined only once is the same on every pass."""
        redefined = {
            name for name in _functions_defined(body)
            if self.function_reads[name][0] > 1
        }
        if not redefined:
            return
        reads = {name: found for name, (_, found) in self.function_reads.items()}
        found = _read_before_defined([ast.Expr(test)] if test else [], redefined, set(), reads)
        found = found or _read_before_defined(body, redefined, set(), reads)
        if found is not None:
            read, name = found
            through = "" if read.id == name else f" (which `{read.id}` calls)"
            self.refuse(
                read,
                f"`{name}`{through} is defined again further down in this loop, so from "
                "the loop's second pass on this line runs that definition: srcad inlines "
                "the function a name holds where it compiles the call, and would run the "
                "same one on every pass",
                f"give the function the loop defines a name of its own, and choose the "
                f"call with a test (`{name}_next(x) if i > 0 else {name}(x)`)",
            )

    @functools.cached_property
    def function_reads(self) -> dict[str, tuple[int, set[str]]]:
        """For each function the code defines (``def``, named lambda): how many times it
        is defined, and the names its bodies read, with those the functions they read
        read in turn."""
        bodies: dict[str, list[ast.AST]] = {}
        for node in astwalk.walk(self.source.node):
            if isinstance(node, ast.stmt) and node is not self.source.node:
                name = _function_name(node)
                if name is not None:
                    body = node.value if isinstance(node, ast.Assign) else node
                    bodies.setdefault(name, []).append(body)
        reads = {
            name: {n.id for b in found for n in astwalk.walk(b)
                   if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            for name, found in bodies.items()
        }
        changed = True
        while changed:  # (the names read through the functions read, to a fixed point)
            changed = False
            for found in reads.values():
                more = set().union(*(reads[n] for n in found if n in reads)) - found
                if more:
                    found |= more
                    changed = True
        return {name: (len(bodies[name]), reads[name]) for name in bodies}

    def check_loop_body(self, body: list[ast.stmt], test: ast.expr | None = None) -> None:
        """A loop's body (a ``with`` statement in a loop is checked as such; ``test``: a
        ``while`` loop's, read before the body on each pass)."""
        self.refuse_function_redefined(body, test)
        self.loop_depth += 1
        self.check_block(body)
        self.loop_depth -= 1

    def check_With(self, stmt: ast.With) -> None:
        for item in stmt.items:
            self.visit(item.context_expr)
        self.problems += with_refusals(
            stmt, self.loop_depth > 0, _always_returns, self.static, self.source.location
        )
        self.check_block(stmt.body)

    def check_Try(self, stmt: ast.Try) -> None:
        """A ``try`` statement runs as ordinary Python (see :mod:`srcad.contexts`)."""
        self.problems += try_refusals(stmt, self.source.location)

    def check_Pass(self, stmt: ast.Pass | ast.Break | ast.Continue) -> None:
        """Nothing to check."""

    check_Break = check_Continue = check_Pass

    def check_Import(self, stmt: ast.Import | ast.ImportFrom) -> None:
        """Nothing to check: its names denote the objects it imports (see lower.statements)."""

    check_ImportFrom = check_Import

    def check_Assign(self, stmt: ast.Assign) -> None:
        if named_lambda(stmt):
            self.check_named_lambda(stmt)
            return
        for target in stmt.targets:
            self.check_target(target)
        single = stmt.targets[0] if len(stmt.targets) == 1 else None
        if isinstance(single, ast.Name):
            self.whole_values.add(id(stmt.value))  # name = [..] if c else [..]: an if
        if isinstance(single, ast.Name) and _is_generator(stmt.value):
            self.check_stored_generator(stmt, single.id)
        elif all(isinstance(t, ast.Tuple | ast.List) for t in stmt.targets):
            self.refuse_held_generators(stmt.value, whole=False)  # (unpacked: read here)
        else:
            self.refuse_held_generators(stmt.value)
        self.visit(stmt.value)

    def check_stored_generator(self, stmt: ast.Assign, name: str) -> None:
        """``name = (generator)``: srcad runs it where it is read (:mod:`srcad.desugar`),
        which takes one binding and one reading of the name (a name bound twice is
        named first: each of its generators may be read once)."""
        if _stored_names_count(self.source.node, name) > 1:
            self.refuse(
                stmt,
                f"`{name}` holds a generator here and is bound again elsewhere: srcad "
                "runs a generator where it is read only when its name is bound once",
                "give each generator a name of its own, or make it a list (`[...]`)",
            )
        elif not self.read_again(stmt, name):
            changing = self.changed_where_read(*self.where_read(stmt, name))
            if changing is not None:
                self.refuse_changed_where_read(changing, name)
        else:
            self.refuse(
                stmt,
                f"`{name}` holds a generator that is read more than once (or by a "
                "function, which may run more than once): its first reading uses it up, "
                "and srcad reads it as a list",
                f"make it a list (`{name} = [...]` or `list(...)`) to read it again, or "
                "read it once",
            )

    def where_read(self, stmt: ast.Assign, name: str) -> tuple[ast.stmt, set[str]]:
        """The innermost statement that reads the generator ``name`` (bound once by
        ``stmt``, read once), and what the generator reads (and its name)."""
        read = next(n for n in astwalk.walk(self.source.node)
                    if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load))
        holder: ast.stmt = stmt
        for node in astwalk.walk(self.source.node):
            if isinstance(node, ast.stmt) and node is not self.source.node and any(
                n is read for n in astwalk.walk(node)
            ):
                holder = node  # (the walk meets outer statements before inner ones)
        bound = {n.id for n in astwalk.walk(stmt.value) if isinstance(n, ast.Name)
                 and not isinstance(n.ctx, ast.Load)}
        reads = {n.id for n in astwalk.walk(stmt.value) if isinstance(n, ast.Name)}
        return holder, (reads - bound) | {name}

    def refuse_held_generators(self, value: ast.expr, whole: bool = True) -> None:
        """A generator an assignment stores other than as ``name = (generator)``: in a
        tuple, a display, one arm of ``... if c else ...``, in an attribute or an item,
        with an annotation (``whole``: ``value`` itself too). Python runs it where it is
        read; srcad ran it here (a list changed in between, a variable it reads bound
        again: silently wrong)."""
        todo = [value]
        while todo:
            node = todo.pop()
            if _is_generator(node) and (whole or node is not value):
                self.refuse(
                    node,
                    "a generator kept in a tuple, a list, a dict or one arm of `... if "
                    "... else ...` (or with an annotation) is not supported: srcad runs a "
                    "generator where it is read only when a name holds it alone",
                    "bind it alone (`terms = (...)`), or make it a list (`[...]`)",
                )
            elif isinstance(node, ast.Tuple | ast.List | ast.Set | ast.IfExp | ast.Starred):
                todo += [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]
            elif isinstance(node, ast.Dict):
                todo += [v for v in node.values if v is not None]

    def check_named_lambda(self, stmt: ast.Assign) -> None:
        """``name = lambda args: e`` becomes a nested def (:mod:`srcad.desugar`): its body
        and defaults are checked."""
        function = stmt.value
        assert isinstance(function, ast.Lambda)  # (what named_lambda tests)
        self.check_lambda(function)

    def check_lambda(self, function: ast.Lambda) -> None:
        """A lambda srcad makes a nested def of: its body and defaults checked."""
        self.scopes_within += 1  # (a lambda inside it reads its parameters: refused)
        try:
            self.visit(function.body)
        finally:
            self.scopes_within -= 1
        for default in (*function.args.defaults, *function.args.kw_defaults):
            if default is not None:
                self.visit(default)

    def check_AugAssign(self, stmt: ast.AugAssign) -> None:  # (every operator has a rule)
        self.check_target(stmt.target)
        self.visit(stmt.value)

    def check_AnnAssign(self, stmt: ast.AnnAssign) -> None:
        if stmt.value is None:
            return  # (`y: float` binds nothing)
        self.check_target(stmt.target)
        self.refuse_held_generators(stmt.value)
        self.visit(stmt.value)

    def check_Return(self, stmt: ast.Return) -> None:
        if stmt.value is not None:
            self.visit(stmt.value)
        elif not self.procedure:  # (a procedure's returns None)
            self.refuse(stmt, "`return` without a value", "return the function's value")

    def check_Assert(self, stmt: ast.Assert) -> None:
        """``assert x > 0, f"x is {x}"``: a message as an exception's argument."""
        self.visit(stmt.test)
        if stmt.msg is not None:
            self.check_message(stmt.msg)

    def check_message(self, arg: ast.expr) -> None:
        """An argument of print, logging, an exception or an ``assert``: an f-string's
        values are checked as expressions (its text is not code)."""
        for part in arg.values if isinstance(arg, ast.JoinedStr) else (arg,):
            self.visit(part.value if isinstance(part, ast.FormattedValue) else part)

    def check_Expr(self, stmt: ast.Expr) -> None:
        """A bare call (srcad's run-time checks, print and logging: see lower), whose
        arguments may be f-strings; any other bare expression is refused."""
        if isinstance(stmt.value, ast.Yield | ast.YieldFrom | ast.Await):
            self.visit(stmt.value)  # reported as what it is (a generator, ...)
        elif keyed_sort_in_place(stmt.value):
            self.visit(stmt.value)  # (items.sort(key=lambda ...): desugared, as sorted's)
        elif isinstance(stmt.value, ast.Call):
            call = stmt.value
            self.visit(call.func)
            for arg in (*call.args, *(k.value for k in call.keywords)):
                self.check_message(arg)
        elif not is_docstring(stmt) and not isinstance(stmt.value, ast.Constant):
            # (a constant, `...` or a string in a body, does nothing: nothing to refuse)
            self.refuse(
                stmt,
                "a bare expression statement has no effect on the result",
                "assign its value to a variable, or remove it",
            )

    def check_FunctionDef(self, stmt: ast.FunctionDef) -> None:
        """A nested function, checked as a helper inlined where it is called."""
        if stmt.decorator_list:
            self.refuse(
                stmt,
                "decorators on a nested function are not supported",
                "define the decorated function at module level",
            )
        inner = _Checker(self.source, inlined=True, nested=True)
        inner.check_function(stmt)
        self.problems += inner.problems

    def check_Raise(self, stmt: ast.Raise) -> None:
        """``raise ValueError(f"...")``: an exception class named by a global or a module
        attribute, made with positional arguments (f-strings among them)."""
        exc = stmt.exc
        call = exc if isinstance(exc, ast.Call) else None
        kind = self.static(call.func if call is not None else exc) if exc is not None else None
        if (
            stmt.cause is not None
            or not (isinstance(kind, type) and issubclass(kind, BaseException))
            or (call is not None and call.keywords)
        ):
            self.refuse(
                stmt,
                "only `raise` of an exception class with positional arguments is supported",
                'write e.g. raise ValueError(f"x must be positive, not {x}")',
            )
            return
        for arg in call.args if call is not None else ():
            self.check_message(arg)

    def check_loop_target(self, target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            return
        if isinstance(target, ast.Tuple | ast.List) and all(
            isinstance(e, ast.Name) or isinstance(e, ast.Tuple | ast.List) for e in target.elts
        ):
            for element in target.elts:
                self.check_loop_target(element)
            return
        self.refuse(
            target, "unsupported loop variable", "loop over plain names, e.g. `for i, v in ...`"
        )

    def check_target(self, target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            return
        if isinstance(target, ast.Tuple | ast.List):
            stars = [e for e in target.elts if isinstance(e, ast.Starred)]
            for element in target.elts:
                if isinstance(element, ast.Starred) and len(stars) == 1:
                    self.check_target(element.value)  # (a, *rest = value: a list)
                else:
                    self.check_target(element)
            return
        if isinstance(target, ast.Attribute) and not self.sets_own_field(target):
            self.refuse(
                target,
                "assigning to an attribute changes an object outside the "
                "function, which srcad cannot differentiate",
                "assign to a local variable and return it",
            )
            return
        if isinstance(target, ast.Attribute):  # (lowering refuses it on other objects)
            return
        if isinstance(target, ast.Subscript):  # out[i] = v, m.T[i] = v, out[i][j] = v
            self.visit(target.value)
            self.visit(target.slice)
            return
        self.refuse(target, "unsupported assignment target", "assign to a plain variable name")

    def sets_own_field(self, target: ast.Attribute) -> bool:
        """``name.attr = v`` where ``name`` may hold an object the function made (a local
        variable, or a parameter of a method srcad inlines; ``name[i].attr = v`` of a local
        list of them): see
        :mod:`srcad.lower.made_objects`. A parameter of the differentiated function is
        an object from outside."""
        base = target.value
        while isinstance(base, ast.Subscript):  # (bs[i].v = v: an item of a local list)
            base = base.value
        if base is not target.value:
            return isinstance(base, ast.Name) and base.id in _stored_names(self.source.node)
        if not isinstance(target.value, ast.Name):
            return False
        args = self.source.node.args
        params = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
        name = target.value.id
        if name in params:
            return self.inlined or self.nested
        return name in _stored_names(self.source.node)  # (not a global)

    # ---- expressions
    def visit_IfExp(self, node: ast.IfExp) -> None:
        if id(node) not in self.whole_values and id(node) not in self.skippable:
            self.refuse_conditional_comprehensions(node, (node.body, node.orelse))
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        if id(node) not in self.skippable:
            self.refuse_conditional_comprehensions(node, node.values[1:])
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        self.refuse_skipped_changes(node.comparators[1:])  # (a < b < xs.pop())
        self.visit(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            if not constant_set(op, comparator):  # (`k in {"a", "b"}`: read as a tuple)
                self.visit(comparator)

    def refuse_skipped_changes(self, parts: Sequence[ast.expr]) -> None:
        """A call that changes a list, dict or array in place (``xs.pop()``, ``out=``) in
        a part of an expression Python may not evaluate: srcad would make the change
        either way."""
        for part in parts:
            changing = next((
                n for n in astwalk.walk(part)
                if isinstance(n, ast.Call) and (
                    isinstance(n.func, ast.Attribute) and n.func.attr in CHANGING_METHODS
                    or any(k.arg == "out" for k in n.keywords)
                )
            ), None)
            if changing is not None:
                self.refuse(
                    changing,
                    "a call that changes a list, dict or array in place, in a part of the "
                    "expression Python may skip (in a chained comparison, in the items "
                    "`any`/`all` may stop before)",
                    "make the change in a statement of its own, under an `if` if it is "
                    "conditional",
                )
                return

    def refuse_conditional_comprehensions(
        self, node: ast.expr, parts: Sequence[ast.expr]
    ) -> None:
        """A comprehension runs as a loop before its statement (:mod:`srcad.desugar`):
        where Python might not run it at all, that would change the program."""
        for part in parts:
            if any(isinstance(n, ast.ListComp | ast.GeneratorExp) for n in astwalk.walk(part)):
                self.refuse(
                    part,
                    "a comprehension in a part of `a if c else b`, `and` or `or` that may "
                    "not run is not supported",
                    "assign it in an `if` statement, or write `name = [...] if c else [...]`",
                )
                return

    def visit_Call(self, node: ast.Call) -> None:
        if (
            isinstance(node.func, ast.Name)
            and node.func.id in NAMESPACE_READERS
            and not (node.func.id == "vars" and node.args)  # (vars(obj): its fields)
            and node.func.id not in _stored_names(self.source.node)
            and self.source.lookup(node.func.id) is getattr(builtins, node.func.id)
        ):
            self.refuse(
                node,
                f"`{node.func.id}()` reads the function's variables by their names when it "
                "runs: srcad renames them, and no gradient passes through what it reads",
                "use the variables themselves (for a value chosen by name, a dict: "
                "`values = {'x': x}`)",
            )
        if isinstance(node.func, ast.Name) and node.func.id in ("any", "all") and any(
            isinstance(a, ast.GeneratorExp) for a in node.args
        ):  # (they stop at the first item that decides: the others are not computed)
            self.refuse_skipped_changes([a for a in node.args if isinstance(a, ast.GeneratorExp)])
        if summed_comprehension(node) and not self.builtin_sum:
            self.refuse(
                node,
                "`sum` here is not the builtin, and srcad turns sum(<comprehension>) into a "
                "loop that adds",
                "call your function on a list: write the comprehension into a variable first",
            )
        start = node.args[1] if len(node.args) == 2 else next(
            (k.value for k in node.keywords if k.arg == "start"), None
        )
        if (
            isinstance(node.func, ast.Name)
            and node.func.id == "sum"
            and self.builtin_sum
            and isinstance(start, ast.Tuple | ast.List)
        ):
            self.refuse(
                node,
                "`sum` with a tuple or list to start from joins the items (Python "
                "concatenates them), and srcad adds numbers",
                "join them with a comprehension: `[v for row in rows for v in row]`",
            )
        for arg in node.args:  # f(*items): spread when ``items`` has a known length
            if isinstance(arg, ast.Starred):
                self.visit(arg.value)
        node_without_spreads = ast.Call(
            node.func, [a for a in node.args if not isinstance(a, ast.Starred)], node.keywords
        )
        self.generic_visit(ast.copy_location(node_without_spreads, node))

    def visit_List(self, node: ast.List | ast.Tuple) -> None:
        """``[a, *xs]`` joins lists (:mod:`srcad.desugar`): the spread values are checked
        as expressions; a target's ``*rest`` is checked with its assignment."""
        if not isinstance(node.ctx, ast.Load):
            self.generic_visit(node)
            return
        for element in node.elts:
            self.visit(element.value if isinstance(element, ast.Starred) else element)

    visit_Tuple = visit_List

    def visit_ListComp(self, node: ast.ListComp | ast.GeneratorExp) -> None:
        """Comprehensions become loops (:mod:`srcad.desugar`): their parts are checked
        as a loop's."""
        self.scopes_within += 1
        try:
            self._check_comprehension(node)
        finally:
            self.scopes_within -= 1

    def _check_comprehension(self, node: ast.ListComp | ast.GeneratorExp) -> None:
        for generator in node.generators:
            if generator.is_async:
                self.refuse(generator, "`async for` cannot be differentiated", "use `for`")
            self.check_loop_target(generator.target)
            self.visit(generator.iter)
            for condition in generator.ifs:
                self.visit(condition)
        self.visit(node.elt)

    visit_GeneratorExp = visit_ListComp

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        """An f-string (a key, ``p[f"W{i}"]``, or a message): its values are checked as
        expressions; its text is not code."""
        self.check_message(node)

    def generic_visit(self, node: ast.AST) -> None:
        if type(node) in REFUSED_EXPRESSIONS:
            self.refuse(node, *REFUSED_EXPRESSIONS[type(node)])
            return
        if isinstance(node, ast.Dict) and None in node.keys:
            self.refuse(
                node,
                "`**` unpacking in a dict display is not supported",
                "write the items out, or copy the dict and assign the new items",
            )
        if isinstance(node, ast.Call):
            if any(kw.arg is None for kw in node.keywords):
                self.refuse(
                    node,
                    "`**` unpacking in calls is not supported",
                    "pass keyword arguments one by one",
                )
            if (mapped_call(node) or reduce_call(node) or filtered_call(node)) and isinstance(
                node.args[0], ast.Lambda
            ):
                self.visit(node.args[0].body)  # (its body takes the call's place: desugar)
                for arg in node.args[1:]:
                    self.visit(arg)
                return
            if _piecewise_functions(node):  # (np.piecewise: each lambda's body is applied
                for arg in node.args:  # to x, srcad.lower.keywords)
                    elements = arg.elts if isinstance(arg, ast.List | ast.Tuple) else [arg]
                    for element in elements:
                        self.visit(element.body if isinstance(element, ast.Lambda) else element)
                self.visit(node.func)
                return
            if (keyed_extreme(node) or extreme_or_default(node)) and any(
                isinstance(k.value, ast.Lambda) for k in node.keywords
            ):  # (max(xs, key=lambda x: ...), default=d too)
                for keyword in node.keywords:
                    value = keyword.value
                    self.visit(value.body if isinstance(value, ast.Lambda) else value)
                for arg in node.args:
                    self.visit(arg)
                return
            lambdas = argument_lambdas(node) if not self.scopes_within else []
            if lambdas:  # (named on a line before the statement: srcad.desugar)
                for argument in (*node.args, *(k.value for k in node.keywords)):
                    if isinstance(argument, ast.Lambda) and any(argument is f for f in lambdas):
                        self.check_lambda(argument)
                    else:
                        self.visit(argument)
                self.visit(node.func)
                return
            if keyed_sort(node) or keyed_sort_in_place(node):  # (desugared: a lambda's
                # body is applied to each item)
                for keyword in node.keywords:
                    value = keyword.value
                    self.visit(value.body if isinstance(value, ast.Lambda) else value)
                self.visit(node.args[0] if node.args else node.func)
                return
        super().generic_visit(node)


def _piecewise_functions(node: ast.Call) -> bool:
    """``np.piecewise(x, conditions, [f0, lambda t: ..., ...])``: its lambdas (of one
    parameter, no defaults) are read in place."""
    return (
        isinstance(node.func, ast.Attribute) and node.func.attr == "piecewise"
        and len(node.args) == 3 and not node.keywords
        and isinstance(node.args[2], ast.List | ast.Tuple)
        and all(
            len(f.args.args) == 1 and not f.args.defaults
            for f in node.args[2].elts if isinstance(f, ast.Lambda)
        )
    )


def _is_generator(node: ast.expr) -> bool:
    """A generator expression, or ``map(...)`` (see :mod:`srcad.desugar`)."""
    return isinstance(node, ast.GeneratorExp) or mapped_call(node) or filtered_call(node)


_SIMPLE_STATEMENTS = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Expr)


def _root_name(node: ast.expr) -> str | None:
    """``xs`` of ``xs``, ``xs[0]``, ``xs.items[1]``."""
    while isinstance(node, ast.Subscript | ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _returns_generator(fn: ast.AST) -> bool:
    """Does a ``def`` (a lambda) return a generator (``return (... for ...)``, ``map``)?"""
    if isinstance(fn, ast.Lambda):
        return _is_generator(fn.body)
    return any(
        isinstance(n, ast.Return) and n.value is not None and _is_generator(n.value)
        for n in astwalk.walk(fn)
    )


def _may_return_generator(code: types.CodeType) -> bool:
    """A cheap test before reading a function's source: it makes a generator
    expression or calls ``map``."""
    return "map" in code.co_names or any(
        isinstance(c, types.CodeType) and c.co_name == "<genexpr>" for c in code.co_consts
    )


def _stored_names_count(fn: ast.AST, name: str) -> int:
    return sum(1 for n in astwalk.walk(fn)
               if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store))


def _stored_names(fn: ast.AST) -> set[str]:
    return {
        n.id for n in astwalk.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }


def _functions_defined(stmts: list[ast.stmt]) -> set[str]:
    """The names ``def`` statements and named lambdas among ``stmts`` bind, at any depth
    of blocks (not inside the functions they define)."""
    names: set[str] = set()
    todo = list(stmts)
    while todo:
        stmt = todo.pop()
        name = _function_name(stmt)
        if name is not None:
            names.add(name)
        else:
            todo += [s for block in _blocks(stmt) for s in block]
    return names


def _function_name(stmt: ast.stmt) -> str | None:
    """The name a ``def`` statement or a named lambda binds, else None."""
    if isinstance(stmt, ast.FunctionDef):
        return stmt.name
    if named_lambda(stmt) and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id
    return None


def _read_before_defined(
    stmts: list[ast.stmt], functions: set[str], defined: set[str],
    reads: dict[str, set[str]],
) -> tuple[ast.Name, str] | None:
    """The first reading of one of ``functions`` among ``stmts`` (run in order) that no
    definition before it on the same path binds (``defined``: those bound so far), with
    the function it reads: itself, or one a function it names reads (``reads``)."""
    for stmt in stmts:
        if isinstance(stmt, ast.FunctionDef):
            heads: list[ast.AST] = [*stmt.args.defaults, *stmt.args.kw_defaults]  # type: ignore[list-item]
        elif named_lambda(stmt):
            heads = []
        elif isinstance(stmt, ast.If | ast.For | ast.While | ast.With | ast.Try):
            heads = [getattr(stmt, field) for field in ("test", "iter") if hasattr(stmt, field)]
            heads += getattr(stmt, "items", [])
        else:
            heads = [stmt]
        for head in heads:
            for read in _names_read_now(head):
                pending = ({read.id} | reads.get(read.id, set())) & functions - defined
                if pending:
                    return read, read.id if read.id in pending else min(pending)
        name = _function_name(stmt)
        if name is not None:
            defined.add(name)
        elif isinstance(stmt, ast.If | ast.With):
            paths = [set(defined), set(defined)]
            found = _read_before_defined(stmt.body, functions, paths[0], reads) or (
                _read_before_defined(stmt.orelse, functions, paths[1], reads)
                if isinstance(stmt, ast.If) else None
            )
            if found is not None:
                return found
            defined |= paths[0] & paths[1] if isinstance(stmt, ast.If) else paths[0]
        else:  # (a loop may not run; a handler may run after part of its `try`)
            for block in _blocks(stmt):
                found = _read_before_defined(block, functions, set(defined), reads)
                if found is not None:
                    return found
    return None


def _blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    """The blocks of statements a compound statement holds (``try``'s handlers too)."""
    blocks = [getattr(stmt, field, []) for field in ("body", "orelse", "finalbody")]
    return blocks + [handler.body for handler in getattr(stmt, "handlers", [])]


def _names_read_now(node: ast.AST) -> Iterator[ast.Name]:
    """The names ``node`` reads when it runs (not those the bodies of the functions and
    lambdas in it read when called)."""
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        yield node
    elif isinstance(node, ast.Lambda):
        yield from (n for d in [*node.args.defaults, *node.args.kw_defaults] if d
                    for n in _names_read_now(d))
    elif not isinstance(node, ast.FunctionDef):
        for child in ast.iter_child_nodes(node):
            yield from _names_read_now(child)


def returns_problems(source: FunctionSource, fn: ast.FunctionDef) -> list[SrcadError]:
    """The refusal of ``fn`` when a path through it ends without ``return``."""
    body = fn.body[1:] if fn.body and is_docstring(fn.body[0]) else fn.body
    if _always_returns(body):
        return []
    return [UnsupportedSyntaxError(
        f"{fn.name} does not return a value on every path",
        "end the function (and every branch that stops early) with `return <expression>`",
        source.location(fn),
    )]


def _returns_nothing(fn: ast.FunctionDef) -> bool:
    """``fn`` (a nested ``def``) has no ``return`` of a value: a procedure, refused
    where it is called (a bare call, or one whose value is used)."""
    return not any(isinstance(n, ast.Return) and n.value is not None for n in astwalk.walk(fn))


def _always_returns(body: list[ast.stmt]) -> bool:
    """Every path through ``body`` ends in ``return`` (loops may not be entered)."""
    for stmt in body:  # (code after a return is reported on its own)
        if isinstance(stmt, ast.Return | ast.Raise):
            return True
        if isinstance(stmt, ast.If) and _always_returns(stmt.body) and _always_returns(stmt.orelse):
            return True
        if isinstance(stmt, ast.With) and _always_returns(stmt.body):
            return True
        if endless(stmt):  # (`while True:` left only by `return`)
            return True
    return False


def is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _calls_without_rules(source: FunctionSource) -> list[SrcadError]:
    """Calls of compiled functions that have no derivative rule (each is an error if its
    result needs a gradient; only reported together with other problems)."""
    from .rules import TABLE  # (the table is data; importing it here avoids a cycle)

    found: list[SrcadError] = []
    # (the body only: decorators, defaults and annotations run once, where the function
    # is defined, and are not differentiated)
    body = ast.Module(body=list(source.node.body), type_ignores=[])
    undifferentiated = {id(n) for test in _truth_tests(body) for n in astwalk.walk(test)}
    for node in astwalk.walk(body):
        if not isinstance(node, ast.Call) or id(node) in undifferentiated:
            continue
        names = chain_names(node.func)
        if names is None:
            continue
        obj = static_chain(names, source.lookup)
        if obj is MISSING and len(names) > 1:  # a compiled method of an object: its class's
            owner = static_chain(names[:-1], source.lookup)  # (rng.normal: Generator.normal)
            obj = MISSING if owner is MISSING else static_attribute(type(owner), names[-1])
        numeric = str(getattr(obj, "__module__", None) or type(obj).__module__).split(".")[0] in (
            "math",
            "cmath",
            "numpy",
            "scipy",
        )
        if (
            numeric
            and callable(obj)
            and not isinstance(obj, type | types.FunctionType)
            and not TABLE.has_callable(obj)
        ):
            name = ".".join(names)
            found.append(
                NoRuleError(
                    f"`{name}` has no derivative rule and no Python source srcad can read",
                    "register one with srcad.defrule or srcad.defgrad",
                    source.location(node),
                )
            )
    return found


def _truth_tests(body: ast.AST) -> Iterator[ast.expr]:
    """The tests of ``if``, ``while``, ``assert`` (and its message) and conditional
    expressions in ``body``: values whose derivative nothing needs (``np.all(...)``)."""
    for node in astwalk.walk(body):
        if isinstance(node, ast.If | ast.While | ast.IfExp):
            yield node.test
        elif isinstance(node, ast.Assert):
            yield node.test
            if node.msg is not None:
                yield node.msg


def _expressions_of(stmt: ast.stmt) -> list[ast.expr]:
    """The expressions a statement evaluates itself (not its blocks' statements); for a
    statement that changes a list with a method, its arguments (desugaring orders the
    change after them)."""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and changed_by(
        stmt.value
    ):
        return [*stmt.value.args, *(k.value for k in stmt.value.keywords)]
    if isinstance(stmt, ast.Expr | ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Return):
        return [stmt.value] if stmt.value is not None else []
    if isinstance(stmt, ast.If | ast.While):
        return [stmt.test]
    if isinstance(stmt, ast.For):
        return [stmt.iter]
    return []


def _changed_names(node: ast.AST) -> dict[str, str]:
    """The names a changing method call under ``node`` changes (``st.pop()``), with
    the method."""
    return {
        name: n.func.attr  # type: ignore[attr-defined]  # (changed_by: a method's call)
        for n in astwalk.walk(node)
        if (name := changed_by(n)) is not None
    }


def _read_then_changed_in(stmt: ast.stmt) -> tuple[ast.Name, str] | None:
    """A name that ``stmt`` reads and that a changing method call in it changes, where
    the order Python evaluates them in is not the order srcad would (see
    :func:`_read_then_changed`); with the method."""
    for expr in _expressions_of(stmt):
        found = _read_then_changed(expr)
        if found is not None:
            return found
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Subscript):
        # (`acc[len(st) - 1] += st.pop()`: Python reads the target's index first; the
        # list itself, `st[-1] += st.pop()`, is written after the pop in both)
        changes = _changed_names(stmt.value)
        for n in astwalk.walk(stmt.target.slice):
            if isinstance(n, ast.Name) and n.id in changes:
                return n, changes[n.id]
    return None


def _read_then_changed(expr: ast.expr) -> tuple[ast.Name, str] | None:
    """A name ``expr`` reads whole and that a changing method call (``name.pop()``)
    evaluated after it, but before the operation that uses it, changes; with the
    method. (A name whose attribute or item is read, or whose truth is tested, is used
    at once: ``xs.pop() if xs else 0.0``.) A comprehension over a name that the
    expression changes elsewhere counts too: srcad runs it before the statement."""
    changes = _changed_names(expr)
    if not changes:
        return None
    order, branches = _evaluation_order(expr)
    for parent in astwalk.walk(expr):
        if isinstance(parent, _COMPREHENSION_NODES):
            found = _changed_before(expr, parent, order, branches)
            if found is not None:
                return found
            continue
        if isinstance(parent, ast.BoolOp | ast.Attribute | ast.keyword):
            continue
        children = list(ast.iter_child_nodes(parent))
        if isinstance(parent, ast.Call):  # (a keyword's value is an argument too)
            children = [parent.func, *parent.args, *(k.value for k in parent.keywords)]
        if isinstance(parent, ast.IfExp):  # (a truth test; one branch runs, whole)
            children = []
        for k, child in enumerate(children):
            if isinstance(parent, ast.Subscript) and child is not parent.value:
                continue
            for whole in _whole_names(child):  # (`st`, or `st if c else ys`: one of them)
                if whole.id in changes and any(
                    _changes(n, whole.id) for part in children[k + 1 :]
                    for n in astwalk.walk(part)
                ):
                    return whole, changes[whole.id]
    return None


def _whole_names(node: ast.AST) -> list[ast.Name]:
    """The names whose object ``node`` is: itself, or an if-expression's branches."""
    if isinstance(node, ast.Name):
        return [node]
    if isinstance(node, ast.IfExp):
        return [*_whole_names(node.body), *_whole_names(node.orelse)]
    return []


_COMPREHENSION_NODES = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def _evaluation_order(
    expr: ast.expr,
) -> tuple[dict[int, int], dict[int, tuple[tuple[int, int], ...]]]:
    """When each node of ``expr`` is done, in Python's order (by id: a rank), and the
    branches of if-expressions it stands in (``(id(ifexp), 0 or 1)``, outermost first)."""
    order: dict[int, int] = {}
    branches: dict[int, tuple[tuple[int, int], ...]] = {}

    def visit(node: ast.AST, path: tuple[tuple[int, int], ...]) -> None:
        if isinstance(node, ast.IfExp):  # (the test first, then one of the branches)
            visit(node.test, path)
            visit(node.body, (*path, (id(node), 0)))
            visit(node.orelse, (*path, (id(node), 1)))
        else:
            for child in ast.iter_child_nodes(node):
                visit(child, path)
        order[id(node)] = len(order)
        branches[id(node)] = path

    visit(expr, ())
    return order, branches


def _changed_before(
    expr: ast.expr,
    comprehension: ast.expr,
    order: dict[int, int],
    branches: dict[int, tuple[tuple[int, int], ...]],
) -> tuple[ast.Name, str] | None:
    """A name ``comprehension`` reads that a changing call of ``expr`` outside it changes
    on one side of the moment Python reads the items and on the other of the moment
    srcad does, on a path where both run; with the method.

    Python reads a list comprehension's items where it stands, a generator's when the
    call it is given to runs; srcad runs a comprehension before its statement, and the
    one ``sum(<comprehension>, start)`` adds up after ``start``."""
    inside = list(astwalk.walk(comprehension))
    taken = {id(n) for n in inside}
    parent = next(
        (n for n in astwalk.walk(expr) if any(c is comprehension for c in ast.iter_child_nodes(n))),
        None,
    )
    python = min(order[id(n)] for n in inside)
    if isinstance(comprehension, ast.GeneratorExp) and isinstance(parent, ast.Call):
        python = order[id(parent)]  # (lazy: read while the call runs)
    srcad = -1
    if isinstance(parent, ast.Call) and summed_comprehension(parent) and len(parent.args) == 2:
        srcad = order[id(parent.args[1])]  # (added up after `start`)
    read = {n.id: n for n in inside if isinstance(n, ast.Name)}
    for n in astwalk.walk(expr):
        if id(n) in taken or not isinstance(n, ast.Call):
            continue
        if (order[id(n)] < python) == (order[id(n)] <= srcad):
            continue  # (both read the items on the same side of this call)
        for name, at in read.items():
            if _changes(n, name) and not _exclusive(branches[id(n)], branches[id(comprehension)]):
                return at, n.func.attr  # type: ignore[attr-defined]  # (_changes: a method)
    return None


def _exclusive(a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]) -> bool:
    """Are these two paths in different branches of one if-expression?"""
    sides = dict(a)
    return any(node in sides and sides[node] != side for node, side in b)


def _changes(node: ast.AST, name: str) -> bool:
    return changed_by(node) == name


def check_supported(source: FunctionSource, *, inlined: bool = False) -> None:
    """Raise one :class:`UnsupportedSyntaxError` listing every unsupported construct
    (and, alongside them, calls that have no derivative rule); ``inlined``: ``source`` is
    a helper inlined at a call, which binds its ``*args`` and ``**kwargs``."""
    checker = _Checker(source, inlined)
    checker.check_function(source.node)
    if checker.problems:
        checker.problems += _calls_without_rules(source)
    raise_all(checker.problems)
