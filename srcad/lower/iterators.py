"""Iterators of :mod:`itertools` (and ``np.ndenumerate``) over the program's sequences.

A loop over ``itertools.pairwise(xs)``, ``islice(xs, a, b, s)``, ``product(xs, ys)``,
``combinations(xs, r)``, ``combinations_with_replacement(xs, r)``, ``permutations(xs,
r)`` or ``np.ndenumerate(A)`` runs over positions: the iterator itself, run when the
program runs on the ranges of its sequences' lengths, lists the positions each
iteration reads (:func:`srcad.runtime.iterator_positions`: ints, no gradient), and each
item is read from its sequence as a loop over the sequence reads it
(:meth:`~srcad.lower.loops.Loops.iteration`, which gives ``enumerate``, ``zip`` and the
rest), so that its gradient flows back into the sequence.

``itertools.chain(a, b)``, ``chain.from_iterable(parts)`` and ``accumulate(xs, f,
initial=v)`` are lists made by a loop that appends each item (a running value for
``accumulate``), over which the loop then runs. Anywhere else than a loop
(``list(pairwise(xs))``, ``sum(accumulate(xs))``, a name bound to one), such an
iterator is the list of its items, made by such a loop. One whose sequences are all
``range(...)`` runs as Python runs it (ints only: nothing to differentiate).
"""

from __future__ import annotations

import ast
import builtins
import copy
import itertools
import operator
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .. import astwalk, ir
from ..desugar import CHANGING_METHODS, applied
from ..rules.scalar import ARRAY_INDICES, ITERATOR_POSITIONS
from .values import NOT_STATIC, LoweringPart, Scope, TupleValue

#: the iterators read by positions, and the keywords each takes
_BY_POSITIONS: dict[Any, frozenset[str]] = {
    itertools.pairwise: frozenset(),
    itertools.islice: frozenset(),
    itertools.product: frozenset({"repeat"}),
    itertools.combinations: frozenset({"r"}),
    itertools.combinations_with_replacement: frozenset({"r"}),
    itertools.permutations: frozenset({"r"}),
}
#: the operator functions ``accumulate`` may be given, as the operator each applies
_OPERATORS: dict[Any, type[ast.operator]] = {
    operator.add: ast.Add, operator.mul: ast.Mult, operator.sub: ast.Sub,
    operator.truediv: ast.Div, operator.pow: ast.Pow,
}

#: how one iteration's items are read: its position(s) in the sequences -> the items
Element = Callable[[ir.Expr], Any]


def _iterator_kind(callee: Any) -> str | None:
    """``"positions"``, ``"ndenumerate"``, ``"chain"``, ``"from_iterable"``,
    ``"accumulate"`` or ``"zip_longest"`` for the iterators this module follows; None for
    any other callee."""
    if callee is NOT_STATIC:
        return None
    if any(callee is f for f in _BY_POSITIONS):  # (by identity: a callee may not hash)
        return "positions"
    if callee is np.ndenumerate:
        return "ndenumerate"
    if callee is itertools.chain:
        return "chain"
    if callee is itertools.accumulate:
        return "accumulate"
    if callee is itertools.zip_longest:
        return "zip_longest"
    if getattr(callee, "__self__", None) is itertools.chain and (
        getattr(callee, "__name__", "") == "from_iterable"
    ):
        return "from_iterable"
    return None


def _counts(node: ast.expr) -> bool:
    """``range(...)`` written as such (a sequence of ints)."""
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        and node.func.id == "range"
    )


def _at(stmts: list[ast.stmt], like: ast.AST) -> list[ast.stmt]:
    """``stmts`` placed at ``like`` (errors in them point at the user's call)."""
    return [ast.fix_missing_locations(ast.copy_location(s, like)) for s in stmts]


def _at_expr(node: ast.expr, like: ast.AST) -> ast.expr:
    """``node`` placed at ``like``."""
    return ast.fix_missing_locations(ast.copy_location(node, like))


def _changed_in_place(node: ast.AST) -> str | None:
    """The name ``node`` changes in place (``xs[i] = v``, ``del xs[i]``, ``xs.append(v)``,
    ``x += d``), if any."""
    target: ast.expr | None = None
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del):
        target = node
    elif isinstance(node, ast.AugAssign):
        target = node.target
    elif (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and node.func.attr in CHANGING_METHODS
    ):
        target = node.func.value
    while isinstance(target, ast.Subscript | ast.Attribute):
        target = target.value
    return target.id if isinstance(target, ast.Name) else None


def _first_change(
    nodes: Iterable[ast.AST], names: set[str]
) -> tuple[ast.AST, str] | None:
    """The first of ``nodes`` that changes one of ``names`` in place, and that name."""
    for node in nodes:
        changed = _changed_in_place(node)
        if changed is not None and changed in names:
            return node, changed
    return None


def _names_read(call: ast.Call) -> set[str]:
    """The names ``call``'s arguments read."""
    return {
        n.id for part in (*call.args, *(k.value for k in call.keywords))
        for n in ast.walk(part) if isinstance(n, ast.Name)
    }


#: the nodes whose body Python runs again for each item
_COMPREHENDING = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_REPEATING = (ast.For, ast.While, *_COMPREHENDING)


def _name(name: str, store: bool = False) -> ast.Name:
    return ast.Name(name, ast.Store() if store else ast.Load())


def _append(items: str, value: ast.expr) -> ast.stmt:
    """``items.append(value)``."""
    return ast.Expr(ast.Call(ast.Attribute(_name(items), "append", ast.Load()), [value], []))


class Iterators(LoweringPart):
    """The lowerer's part for the iterators of :mod:`itertools` (see the module)."""

    def followed_iterator(self, scope: Scope, call: ast.Call) -> str | None:
        """The kind of iterator ``call`` makes (see :func:`_iterator_kind`), when this
        module follows it; None for any other call, and for one over ranges only."""
        callee = self.denote(scope, call.func).static
        kind = _iterator_kind(callee)
        if kind is None or (kind == "positions" and all(
            _counts(a) for a in (call.args if callee is itertools.product else call.args[:1])
        )):
            return None
        if any(isinstance(a, ast.Starred) for a in call.args) or any(
            k.arg is None for k in call.keywords
        ):
            raise self.error(
                scope, call,
                f"`{ast.unparse(call.func)}(...)` with `*` or `**` arguments is not supported",
                "write its arguments one by one",
            )
        return kind

    def iterator_iteration(
        self, scope: Scope, call: ast.Call
    ) -> tuple[ir.Expr, Element] | None:
        """How a loop runs over the iterator ``call`` makes: how many iterations, and
        the items iteration ``k`` reads; None when ``call`` makes none this module
        follows."""
        kind = self.followed_iterator(scope, call)
        if kind is None:
            return None
        if kind == "positions":
            return self.by_positions(scope, call)
        if kind == "ndenumerate":
            return self.array_positions(scope, call)
        if kind == "zip_longest":
            return self.padded(scope, call)
        listed = self.lower_expr(scope, call, None)  # (chain, accumulate: a list)
        length = self.emit_value(
            scope, ir.Call(self.builtin_ref(scope, "len"), (listed,)), call
        )
        return length, lambda k: self.element(scope, listed, k, call)

    def iterator_value(self, scope: Scope, call: ast.Call) -> Any | None:
        """The iterator ``call`` makes as the list of its items (made by a loop: see the
        module), where it is not what a loop runs over; None when ``call`` makes none
        this module follows."""
        kind = self.followed_iterator(scope, call)
        if kind is None:
            return None
        if kind == "chain":
            return self.chained(scope, call, call.args)
        if kind == "from_iterable":
            return self.chained(scope, call, None)
        if kind == "accumulate":
            return self.accumulated(scope, call)
        items = self.names.invented("items")
        item = self.names.invented("item")
        return self.built_list(scope, call, items, [item], [
            ast.Assign([_name(items, True)], ast.List([], ast.Load())),
            ast.For(_name(item, True), call, [_append(items, _name(item))], []),
        ])

    def refuse_sequences_changed_while_read(self, scope: Scope, loop: ast.For) -> None:
        """A loop over an iterator of this module (``for a, b in pairwise(xs)``, inside
        ``enumerate`` or ``zip`` too) whose body changes a sequence the iterator reads
        (``xs[i] = v``, ``xs.append(v)``): Python's iterator sees the change (or, for
        ``product`` and the combinatoric ones, a copy made before), where srcad lists the
        items or positions once; refused (round 91: silently wrong both ways)."""
        for call in (n for n in ast.walk(loop.iter) if isinstance(n, ast.Call)):
            if self.followed_iterator(scope, call) is None:
                continue
            body = (n for stmt in loop.body for n in ast.walk(stmt))
            found = _first_change(body, _names_read(call))
            if found is not None:
                node, changed = found
                raise self.error(
                    scope, node,
                    f"`{changed}` is changed while `{ast.unparse(call.func)}(...)` runs "
                    "over it: Python's iterator reads it as it is then (or a copy it "
                    "made first), where srcad lists its items when the loop starts",
                    f"run over a copy (`{ast.unparse(call.func)}(list({changed}))`), or "
                    "write the changes into another list",
                )

    def refuse_changed_sequences(self, scope: Scope, stmt: ast.Assign) -> None:
        """``it = itertools.pairwise(xs)`` (an iterator bound to a name): srcad makes the
        list of its items there, while Python's iterator reads ``xs`` as it is when it
        is read; refused where the function changes a name the call reads in place
        (``xs[i] = v``, ``xs.append(v)``, ``x += d`` of an array), which would see the
        change."""
        call = stmt.value
        if not isinstance(call, ast.Call) or self.followed_iterator(scope, call) is None:
            return
        self.refuse_iterator_read_again(scope, stmt)
        found = _first_change(astwalk.walk(scope.function), _names_read(call))
        if found is not None:
            _, changed = found
            raise self.error(
                scope, stmt,
                f"`{ast.unparse(call.func)}(...)` bound to a name, of `{changed}`, which "
                "the function changes in place: srcad makes the list of its items "
                "here, while Python's iterator reads them when it is read",
                "loop over it where it is made, or make the list yourself: "
                f"`{ast.unparse(stmt.targets[0])} = list({ast.unparse(call)})`",
            )

    def refuse_iterator_read_again(self, scope: Scope, stmt: ast.Assign) -> None:
        """``it = itertools.pairwise(xs)`` read more than once, or once inside a loop
        that does not make it again: Python's iterator is used up by its first reader (or
        goes on where a ``break`` left it), where srcad's list of its items starts again
        for each; refused (round 91: silently wrong)."""
        target = stmt.targets[0] if len(stmt.targets) == 1 else None
        if not isinstance(target, ast.Name):
            return
        parents = {
            child: node for node in astwalk.walk(scope.function)
            for child in ast.iter_child_nodes(node)
        }
        reads = [
            n for n in astwalk.walk(scope.function)
            if isinstance(n, ast.Name) and n.id == target.id and isinstance(n.ctx, ast.Load)
        ]

        def loops_around(node: ast.AST) -> set[int]:
            """The loops that run ``node`` again for each item (not the loop whose own
            iterable it is, nor a comprehension whose first iterable it is: Python
            evaluates those once)."""
            path = [node]
            while (up := parents.get(path[-1])) is not None:
                path.append(up)
            found = set()
            for i, at in enumerate(path[1:], start=1):
                once = (isinstance(at, ast.For) and path[i - 1] is at.iter) or (
                    isinstance(at, _COMPREHENDING) and i >= 2
                    and path[i - 1] is at.generators[0]
                    and path[i - 2] is at.generators[0].iter
                )
                if isinstance(at, _REPEATING) and not once:
                    found.add(id(at))
            return found

        again = len(reads) > 1 or any(loops_around(r) - loops_around(stmt) for r in reads)
        if again:
            assert isinstance(stmt.value, ast.Call)  # (a call of an iterator: see the caller)
            raise self.error(
                scope, reads[-1] if len(reads) > 1 else reads[0],
                f"`{target.id}`, an iterator of `{ast.unparse(stmt.value.func)}(...)`, is read "
                "again here: Python's iterator is used up by its first reader (or goes on "
                "where a loop left it), where srcad would start it again",
                f"make the list of its items (`{target.id} = list(...)`) to read them again, "
                "or make the iterator where it is read",
            )

    def built_list(
        self, scope: Scope, call: ast.Call, listed: str, others: list[str],
        stmts: list[ast.stmt],
    ) -> Any:
        """The list ``stmts`` (written at ``call``) build in the variable ``listed``,
        srcad's own as the ``others`` are: none of them is left in ``scope``."""
        self.lower_statements(scope, _at(stmts, call), None)
        for name in others:
            scope.env.pop(name, None)
        return scope.env.pop(listed)

    def by_positions(self, scope: Scope, call: ast.Call) -> tuple[ir.Expr, Element]:
        """A loop over ``pairwise``, ``islice``, ``product``, ``combinations`` (and
        ``combinations_with_replacement``, ``permutations``): the positions it reads,
        listed when the program runs, then the items at them."""
        callee = self.denote(scope, call.func).static
        spelled = ast.unparse(call.func)
        unknown = {k.arg or "**" for k in call.keywords} - _BY_POSITIONS[callee]
        if unknown:
            raise self.error(
                scope, call,
                f"`{spelled}(...)` with the keyword `{sorted(unknown)[0]}` is not supported",
                "give its arguments by position",
            )
        if callee is itertools.product:
            sequences, others = call.args, []
        else:
            sequences, others = call.args[:1], call.args[1:]
        width = self.positions_width(scope, call, callee, len(sequences))
        if not sequences or width == 0:
            raise self.error(
                scope, call,
                f"`{spelled}(...)` of no sequence, or of tuples of no items, is not supported",
                "loop over the sequences themselves",
            )
        parts = [self.iteration(scope, s) for s in sequences]
        arguments = [self.lower_operand(scope, a) for a in others]
        options = tuple((k.arg or "", self.lower_operand(scope, k.value)) for k in call.keywords)
        operands = (
            self.helper_ref(callee.__name__, callee),
            ir.Tuple(tuple(length for length, _ in parts)),
            ir.Tuple(tuple(arguments)),
            ir.Tuple(tuple(ir.Tuple((ir.Const(k), v)) for k, v in options)),
        )
        table = self.emit_gate(scope, "iterator_positions", ITERATOR_POSITIONS, operands, call)
        length = self.emit_value(
            scope, ir.Call(self.builtin_ref(scope, "len"), (table,)), call
        )

        def items(k: ir.Expr) -> Any:
            row = self.element(scope, table, k, call)
            if width is None:
                return parts[0][1](row)
            return TupleValue(tuple(
                parts[j % len(parts)][1](self.element(scope, row, ir.Const(j), call))
                for j in range(width)
            ))

        return length, items

    def positions_width(
        self, scope: Scope, call: ast.Call, callee: Any, sequences: int
    ) -> int | None:
        """How many items each iteration of ``call`` reads (None: one, not in a tuple),
        known when srcad compiles; refused where it is not (``combinations(xs, r)`` of
        an ``r`` computed when the program runs)."""
        if callee is itertools.islice:
            return None
        if callee is itertools.pairwise:
            return 2
        keywords = {k.arg: k.value for k in call.keywords}
        if callee is itertools.product:
            given = keywords.get("repeat")
            repeat = 1 if given is None else self.static_int(scope, given)
            what, node = "repeat", given
        else:
            node = call.args[1] if len(call.args) > 1 else keywords.get("r")
            repeat = None if node is None else self.static_int(scope, node)
            what = "r"
        if repeat is None or repeat < 0:
            raise self.error(
                scope, node or call,
                f"`{ast.unparse(call.func)}(...)` whose `{what}` srcad does not know when "
                "it compiles (each iteration's items are unpacked by their number)",
                f"give `{what}` as a constant int (`{what}=2`)",
            )
        return sequences * repeat

    def array_positions(self, scope: Scope, call: ast.Call) -> tuple[ir.Expr, Element]:
        """``np.ndenumerate(A)``: each index of ``A`` (listed when the program runs) and
        the item there."""
        if len(call.args) != 1 or call.keywords:
            raise self.error(
                scope, call, "`np.ndenumerate` takes one array", "write `np.ndenumerate(A)`"
            )
        array = self.sequence(scope, call.args[0])
        if self.may_be_list(scope, call.args[0]):  # (a list of lists: numpy's array of it,
            array = self.as_array(scope, array, call)  # read by the tuples of indices)
        table = self.emit_rule_call(scope, "array_indices", ARRAY_INDICES, array, call)
        length = self.emit_value(
            scope, ir.Call(self.builtin_ref(scope, "len"), (table,)), call
        )

        def items(k: ir.Expr) -> Any:
            index = self.element(scope, table, k, call)
            return TupleValue((index, self.element(scope, array, index, call)))

        return length, items

    def padded(self, scope: Scope, call: ast.Call) -> tuple[ir.Expr, Element]:
        """``itertools.zip_longest(a, b, fillvalue=v)`` as ``zip`` of the sequences each
        padded to the longest: ``fill = v``, ``longest = max(len(a), len(b))``, then
        ``a_padded = list(a) + [fill] * (longest - len(a))``, ... (lists srcad builds)."""
        if not call.args or any(k.arg != "fillvalue" for k in call.keywords):
            raise self.error(
                scope, call, "`itertools.zip_longest(...)` with these arguments is not supported",
                "write `itertools.zip_longest(a, b, ..., fillvalue=v)`",
            )
        load = ast.Load()

        def call_of(name: str, *args: ast.expr) -> ast.expr:
            return ast.Call(_name(name), list(args), [])

        given = [self.names.invented("sequence") for _ in call.args]
        padded = [self.names.invented("padded") for _ in call.args]
        fill, longest = self.names.invented("fill"), self.names.invented("longest")
        fill_value = next((k.value for k in call.keywords), ast.Constant(None))
        for name, sequence in zip(given, call.args):  # (each evaluated once, in order)
            scope.env[name] = self.lower_expr(scope, sequence, None)
        stmts: list[ast.stmt] = [
            ast.Assign([_name(fill, True)], fill_value),
            ast.Assign([_name(longest, True)], call_of(
                "max", *(call_of("len", _name(n)) for n in given), ast.Constant(0)
            )),
        ]
        for sequence, out in zip(given, padded):
            missing = ast.BinOp(_name(longest), ast.Sub(), call_of("len", _name(sequence)))
            filler = ast.BinOp(ast.List([_name(fill)], load), ast.Mult(), missing)
            stmts.append(ast.Assign(
                [_name(out, True)], ast.BinOp(call_of("list", _name(sequence)), ast.Add(), filler)
            ))
        self.lower_statements(scope, _at(stmts, call), None)
        for name in (*given, fill, longest):
            scope.env.pop(name, None)
        parts = [self.iteration(scope, _at_expr(_name(out), call)) for out in padded]
        for name in padded:
            scope.env.pop(name, None)
        return parts[0][0], lambda k: TupleValue(tuple(item(k) for _, item in parts))

    def chained(
        self, scope: Scope, call: ast.Call, sequences: list[ast.expr] | None
    ) -> Any:
        """``itertools.chain(a, b)`` (``sequences``: each argument) or
        ``chain.from_iterable(parts)`` (None) as a list: ``chained = []``, then ``for
        item in a: chained.append(item)`` for each (``for part in parts: for item in
        part: ...``)."""
        if call.keywords or (sequences is None and len(call.args) != 1):
            raise self.error(
                scope, call,
                f"`{ast.unparse(call.func)}(...)` with these arguments is not supported",
                "write `itertools.chain(a, b, ...)` or `itertools.chain.from_iterable(parts)`",
            )
        chained = self.names.invented("chained")
        item = self.names.invented("item")
        loops: list[ast.stmt] = [
            ast.For(_name(item, True), sequence, [_append(chained, _name(item))], [])
            for sequence in (sequences or [])
        ]
        part = self.names.invented("part")
        if sequences is None:
            inner = ast.For(_name(item, True), _name(part), [_append(chained, _name(item))], [])
            loops = [ast.For(_name(part, True), call.args[0], [inner], [])]
        return self.built_list(scope, call, chained, [item, part], [
            ast.Assign([_name(chained, True)], ast.List([], ast.Load())), *loops,
        ])

    def accumulated(self, scope: Scope, call: ast.Call) -> Any:
        """``itertools.accumulate(xs, f, initial=v)`` as a list: ``running = [v]`` (or
        ``[]``), then ``for k, item in enumerate(xs)``, the first item itself (without
        ``initial``) and each later one ``f(running[-1], item)``, appended."""
        keywords = {k.arg: k.value for k in call.keywords}
        function = call.args[1] if len(call.args) > 1 else keywords.get("func")
        initial = keywords.get("initial")
        if not 1 <= len(call.args) <= 2 or set(keywords) - {"func", "initial"} or (
            len(call.args) > 1 and "func" in keywords
        ):
            raise self.error(
                scope, call, "`itertools.accumulate(...)` with these arguments is not supported",
                "write `itertools.accumulate(xs)`, `accumulate(xs, f)` or "
                "`accumulate(xs, f, initial=v)`",
            )
        running, item, k, last = (
            self.names.invented(n) for n in ("running", "item", "k", "last")
        )
        step = self.accumulate_step(scope, function, _name(last), _name(item))
        later: list[ast.stmt] = [
            ast.Assign([_name(last, True)],
                       ast.Subscript(_name(running), ast.Constant(-1), ast.Load())),
            _append(running, step),
        ]
        if initial is None:
            first = ast.Compare(_name(k), [ast.Eq()], [ast.Constant(0)])
            body: list[ast.stmt] = [ast.If(first, [_append(running, _name(item))], later)]
            target: ast.expr = ast.Tuple([_name(k, True), _name(item, True)], ast.Store())
            counted: ast.expr = ast.Call(self.enumerate_name(scope, call), [call.args[0]], [])
            start: list[ast.expr] = []
        else:
            body, target, counted, start = later, _name(item, True), call.args[0], [initial]
        return self.built_list(scope, call, running, [item, k, last], [
            ast.Assign([_name(running, True)], ast.List(start, ast.Load())),
            ast.For(target, counted, body, []),
        ])

    def accumulate_step(
        self, scope: Scope, function: ast.expr | None, last: ast.Name, item: ast.Name
    ) -> ast.expr:
        """``function(last, item)`` for ``accumulate``: ``last + item`` without one, the
        operator of ``operator.mul`` and its kind, a lambda's body, or the call."""
        if function is None or (
            isinstance(function, ast.Constant) and function.value is None
        ):
            return ast.BinOp(last, ast.Add(), item)
        if isinstance(function, ast.Lambda):
            return applied(function, [last, item], set())
        static = self.denote(scope, function).static
        op = _OPERATORS.get(static) if static is not NOT_STATIC else None
        if op is not None:
            return ast.BinOp(last, op(), item)
        return ast.Call(copy.deepcopy(function), [last, item], [])

    def enumerate_name(self, scope: Scope, call: ast.Call) -> ast.expr:
        """The name ``enumerate``, where it is the builtin's (refused where the code
        names something else so)."""
        name = _name("enumerate")
        if self.denote(scope, ast.copy_location(name, call)).static is not builtins.enumerate:
            raise self.error(
                scope, call,
                "`itertools.accumulate(...)` where `enumerate` names something else",
                "keep a running value in a loop, appending it to a list",
            )
        return name
