"""Lists of lists whose rows only the outer list holds (DP tables, matrices as lists).

``R[i][j] = v`` changes the row ``R[i]`` in place, and every other holder of that row
sees the change: another name (``row = R[i]``), another position of ``R`` (``[[0.0] *
m] * n`` holds one row ``n`` times), another list. srcad gives lists new values instead
(``row_2 = list_replaced(row_1, j, v)``, then ``R_2 = list_replaced(R_1, i, row_2)``),
which is the same program only where no other holder exists. :func:`rows_held_once`
proves that from the function's text: every binding of ``R`` makes a new list per row,
and every other use of ``R`` reads an item of a row or consumes a row without keeping it.
"""

from __future__ import annotations

import ast

from .. import astwalk

#: calls that read a list (or a row) and keep nothing of it: their result is a number,
#: or a new list or array
_CONSUMERS = frozenset({
    "len", "sum", "min", "max", "sorted", "list", "tuple", "any", "all",
})
#: calls that make an iterator over a list: the loop running over it holds the list
_ITERATORS = frozenset({"enumerate", "zip", "reversed"})
#: modules whose functions take lists and make arrays (a copy) or numbers
_ARRAY_MODULES = frozenset({"np", "numpy", "math"})


def rows_held_once(fn: ast.FunctionDef) -> dict[str, ast.AST | None]:
    """For each local list of ``fn`` written as ``R[i][j] = v`` (or ``op=``): None if
    only ``R`` holds its rows (the write may give lists new values), else the first
    node of ``fn`` that may let another holder share a row (for the message)."""
    parameters = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)}
    parameters |= {a.arg for a in (fn.args.vararg, fn.args.kwarg) if a is not None}
    temporaries: frozenset[str] = getattr(fn, "srcad_temporaries", frozenset())
    parents: dict[ast.AST, ast.AST] = {}
    for node in astwalk.walk(fn):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    written = {root.id for node in astwalk.walk(fn) for root in _row_write_roots(node)}
    found: dict[str, ast.AST | None] = {}
    for name in written:
        found[name] = fn if name in parameters else None
    nested = {  # (a nested def or lambda may keep a row and hand it on when called)
        id(n)
        for inner in astwalk.walk(fn)
        if inner is not fn and isinstance(inner, ast.FunctionDef | ast.Lambda)
        for n in astwalk.walk(inner)
    }
    for node in astwalk.walk(fn):
        if (
            isinstance(node, ast.Name)
            and node.id in found
            and found[node.id] is None
            and (id(node) in nested or not _keeps_rows_private(node, parents, temporaries))
        ):
            found[node.id] = _statement_of(node, parents)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            for name in set(node.names) & found.keys():
                found[name] = node
    return found


def _statement_of(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST:
    """The statement ``node`` is part of."""
    while not isinstance(node, ast.stmt) and node in parents:
        node = parents[node]
    return node


def _function_of(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST:
    """The function ``node`` is part of (the root of ``parents``)."""
    while node in parents:
        node = parents[node]
    return node


def _row_write_roots(node: ast.AST) -> list[ast.Name]:
    """``R`` of each target ``R[i][j]`` a statement assigns or updates (in a tuple
    target too: ``R[0][0], R[1][1] = a, b``)."""
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        targets = [node.target]
    roots = []
    while targets:
        target = targets.pop()
        if isinstance(target, ast.Tuple | ast.List):
            targets += target.elts
        elif isinstance(target, ast.Starred):
            targets.append(target.value)
        elif (
            isinstance(target, ast.Subscript)
            and isinstance(target.value, ast.Subscript)
            and isinstance(target.value.value, ast.Name)
        ):
            roots.append(target.value.value)
    return roots


def makes_new_list(
    node: ast.expr | None, temporaries: frozenset[str], table: str | None = None
) -> bool:
    """Whether ``node`` makes a new list each time it runs: a display, ``[...] * n``,
    ``list(...)``, ``sorted(...)``, a comprehension (or srcad's list for one), ``+`` of
    such lists (or of a row of ``table``, a list: ``R[i] + [v]``)."""
    if isinstance(node, ast.List | ast.ListComp):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return isinstance(node.left, ast.List) or isinstance(node.right, ast.List)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):  # (of two lists: else
        return all(  # numpy's addition)
            makes_new_list(side, temporaries) or _row_of(side, table)
            for side in (node.left, node.right)
        )
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id in ("list", "sorted")
    return isinstance(node, ast.Name) and node.id in temporaries


def _row_of(node: ast.expr, table: str | None) -> bool:
    """Whether ``node`` is a row of ``table`` (``R[i]``), a list."""
    return (
        table is not None
        and isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == table
        and not isinstance(node.slice, ast.Slice)
    )


def _keeps_rows_private(
    node: ast.Name, parents: dict[ast.AST, ast.AST], temporaries: frozenset[str]
) -> bool:
    """Whether this use of the list's name ``R`` leaves no other holder of a row."""
    parent = parents.get(node)
    if isinstance(node.ctx, ast.Store):  # R = [] / R = [[...], [...]]: new rows
        return (
            isinstance(parent, ast.Assign)
            and parent.targets == [node]
            and isinstance(parent.value, ast.List)
            and all(makes_new_list(e, temporaries) for e in parent.value.elts)
        )
    if isinstance(parent, ast.Return):  # (the caller takes it: the function has ended)
        return True
    if isinstance(parent, ast.Assign) and parent.value is node:  # T = R: a hand-over
        return _handed_over_after_writes(parent, node.id, parents, temporaries)
    if isinstance(parent, ast.Call) and node in parent.args:  # len(R), np.array(R) (not
        # max(R), sorted(R), list(R): a row, or a new list of the same rows)
        func = parent.func
        whole = func.id == "len" if isinstance(func, ast.Name) else _consumes(parent)
        return whole or _loop_only_reads(parent, node.id, parents)
    if isinstance(parent, ast.For) and parent.iter is node:  # for row in R: ...
        return _loop_only_reads(node, node.id, parents)
    if isinstance(parent, ast.Attribute) and parent.attr == "append":
        call = parents.get(parent)
        return (
            isinstance(call, ast.Call)
            and call.func is parent
            and len(call.args) == 1
            and makes_new_list(call.args[0], temporaries)
        )
    if not isinstance(parent, ast.Subscript) or parent.value is not node:
        return False
    if isinstance(parent.slice, ast.Slice):
        return False  # (R[1:]: a new list holding the same rows)
    row_user = parents.get(parent)
    if isinstance(row_user, ast.Subscript) and row_user.value is parent:
        return True  # R[i][j], read or written
    if isinstance(parent.ctx, ast.Store):  # R[i] = [...], R[i] = R[i] + [v]: a new row
        return (
            isinstance(row_user, ast.Assign)
            and row_user.targets == [parent]
            and makes_new_list(row_user.value, temporaries, node.id)
        )
    if isinstance(row_user, ast.Return):
        return True
    joined = parents.get(row_user) if row_user is not None else None  # R[i] = R[i] + [v]
    if (
        isinstance(row_user, ast.BinOp)
        and isinstance(joined, ast.Assign)
        and joined.value is row_user
        and len(joined.targets) == 1
        and isinstance(joined.targets[0], ast.Subscript)
        and isinstance(joined.targets[0].value, ast.Name)
        and joined.targets[0].value.id == node.id
    ):
        return makes_new_list(row_user, temporaries, node.id)
    if isinstance(row_user, ast.Assign) and row_user.value is parent:  # nxt = R[i + 1]
        return _row_named_for_reading(row_user, node.id, parents)
    if isinstance(row_user, ast.For) and row_user.iter is parent:  # for v in R[i]: ...
        return _loop_only_reads(parent, node.id, parents)
    return isinstance(row_user, ast.Call) and parent in row_user.args and (
        _consumes(row_user) or _loop_only_reads(parent, node.id, parents)
    )


def _loop_only_reads(iterated: ast.expr, name: str, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether ``iterated`` (``R``, ``R[i]``, or a call of ``enumerate``, ``zip`` or
    ``reversed`` on one) is what a ``for`` loop runs over, while no line of the loop
    changes a row of ``R``, the loop's variable holding a row (of ``R`` itself) only
    reads its items, and the loop's variables are not read after it: the rows the loop
    holds do not change while it holds them, and nothing else holds them."""
    positions: list[int] | None = None  # (which items of each pair hold rows)
    whole = isinstance(iterated, ast.Name)  # (the loop runs over R's rows)
    if isinstance(iterated, ast.Call):
        func = iterated.func
        if not (isinstance(func, ast.Name) and func.id in _ITERATORS):
            return False
        rows_of = [isinstance(a, ast.Name) and a.id == name for a in iterated.args]
        whole = any(rows_of)
        if func.id == "enumerate":
            positions = [1]
        elif func.id == "zip":
            positions = [k for k, is_rows in enumerate(rows_of) if is_rows]
    loop = parents.get(iterated)
    if not isinstance(loop, ast.For) or loop.iter is not iterated:
        return False
    if _writes_rows(loop, name):
        return False
    if whole:  # (a variable holding a row only reads its items there, or consumes it)
        holders: list[ast.expr] = [loop.target]
        if positions is not None:
            elts = getattr(loop.target, "elts", None)
            if elts is None or max(positions) >= len(elts):  # (for pair in zip(R, X): a
                return False  # pair holds the row)
            holders = [elts[k] for k in positions]
        for holder in holders:
            if isinstance(holder, ast.Name) and not all(
                _reads_items_only(n, parents)
                for n in astwalk.walk(loop)
                if isinstance(n, ast.Name) and n.id == holder.id and n is not holder
            ):
                return False
    bound = _bound_by(loop)
    function = _function_of(loop, parents)
    inside = {  # (this loop, and the bodies of other loops binding the names for
        id(n)  # themselves: their iterables read what this loop left)
        for other in astwalk.walk(function)
        if isinstance(other, ast.For) and (other is loop or _bound_by(other) & bound)
        for part in ([other] if other is loop else [other.target, *other.body, *other.orelse])
        for n in astwalk.walk(part)
    }
    return not any(
        isinstance(n, ast.Name) and n.id in bound and id(n) not in inside
        for n in astwalk.walk(function)
    )


def _handed_over_after_writes(
    assign: ast.Assign, table: str, parents: dict[ast.AST, ast.AST],
    temporaries: frozenset[str],
) -> bool:
    """Whether ``T = R`` (``assign``) hands ``R``'s rows over to other names after
    ``R``'s last row write, and ``R`` gets new rows before its next one: in one block,
    ``R = [fresh rows]`` comes first, then every statement writing a row of ``R``, then
    the statement holding ``assign`` (a time step's ``new = [list(row) for row in T];
    new[i][j] = ...; T = new``). The names ``assign`` binds then share rows that no
    write changes any more."""
    if not all(isinstance(t, ast.Name) and t.id != table for t in assign.targets):
        return False
    function = _function_of(assign, parents)
    writes = [n for n in astwalk.walk(function)
              if any(root.id == table for root in _row_write_roots(n))]
    holder: ast.AST = assign
    while (owner := parents.get(holder)) is not None:
        block = next((body for field in ("body", "orelse") if isinstance(
            body := getattr(owner, field, None), list) and holder in body), None)
        if block is not None and _after_writes(block, holder, writes, table, parents,
                                               temporaries):
            return True
        holder = owner
    return False


def _after_writes(
    block: list[ast.stmt], holder: ast.AST, writes: list[ast.AST], table: str,
    parents: dict[ast.AST, ast.AST], temporaries: frozenset[str],
) -> bool:
    """Whether in ``block`` new rows of ``table`` are bound, then every one of
    ``writes`` runs, then ``holder``."""
    position = {id(stmt): k for k, stmt in enumerate(block)}

    def place(node: ast.AST | None) -> int:  # (its statement's position in the block)
        while node is not None and id(node) not in position:
            node = parents.get(node)
        return -1 if node is None else position[id(node)]

    places = [place(w) for w in writes]
    fresh = [k for k, stmt in enumerate(block) if isinstance(stmt, ast.Assign)
             and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
             and stmt.targets[0].id == table
             and _keeps_rows_private(stmt.targets[0], parents, temporaries)]
    return bool(places) and min(places) >= 0 and any(f < min(places) for f in fresh) and (
        max(places) < position[id(holder)]
    )


def _row_named_for_reading(
    assign: ast.Assign, table: str, parents: dict[ast.AST, ast.AST]
) -> bool:
    """Whether ``name = R[i]`` (``assign``) names a row only to read its items while no
    row of ``R`` changes: ``name`` is bound there alone, read only by items (or whole by
    ``len``, ``sum``...) in the statements after it in its block, and no row of ``R`` is
    written before the last of them (in the last one, only after its value is read:
    ``R[i][j] = ... name[j + 1]``)."""
    if len(assign.targets) != 1 or not isinstance(assign.targets[0], ast.Name):
        return False
    name = assign.targets[0].id
    function = _function_of(assign, parents)
    block = next(
        (body for field in ("body", "orelse", "finalbody")
         if isinstance(body := getattr(parents.get(assign), field, None), list)
         and assign in body),
        None,
    )
    if block is None:
        return False
    later = block[block.index(assign) + 1:]
    reads_by_statement = [
        [n for n in astwalk.walk(stmt) if isinstance(n, ast.Name) and n.id == name]
        for stmt in later
    ]
    everywhere = [n for n in astwalk.walk(function) if isinstance(n, ast.Name) and n.id == name]
    if len(everywhere) != 1 + sum(map(len, reads_by_statement)):  # (bound here alone, and
        return False  # read in these statements alone)
    using = [k for k, reads in enumerate(reads_by_statement) if reads]
    if not using:
        return True
    last = using[-1]
    if any(_writes_rows(stmt, table) for stmt in later[:last]):
        return False
    if not all(_reads_items_only(read, parents) for reads in reads_by_statement
               for read in reads):
        return False
    final = later[last]
    if not _writes_rows(final, table):
        return True
    if not isinstance(final, ast.Assign | ast.AugAssign):
        return False
    inside = {id(n) for n in astwalk.walk(final.value)}  # (R[i][j] = ... name[j + 1]: the
    return all(id(read) in inside for read in reads_by_statement[last])  # value, read first)


def _reads_items_only(read: ast.Name, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether ``read``, a name holding a row, reads an item of it (``row[j]``) or gives
    it to a call that keeps nothing of it (``sum(row)``): no other holder of the row."""
    user = parents.get(read)
    if isinstance(user, ast.Subscript) and user.value is read:
        return isinstance(user.ctx, ast.Load)
    return isinstance(user, ast.Call) and read in user.args and _consumes(user)


def _writes_rows(node: ast.AST, table: str) -> bool:
    """Whether ``node`` writes into a row of ``table`` anywhere (``table[i][j] = v``)."""
    return any(root.id == table for n in astwalk.walk(node) for root in _row_write_roots(n))


def _bound_by(loop: ast.For) -> set[str]:
    """The variables a ``for`` loop binds."""
    return {n.id for n in astwalk.walk(loop.target) if isinstance(n, ast.Name)}


def _consumes(call: ast.Call) -> bool:
    """Whether ``call`` reads its list arguments (rows of numbers) without keeping them: a
    builtin that makes a number or a new list, or a function of numpy or math."""
    func = call.func
    if isinstance(func, ast.Name):  # (max(a, b) of rows is one of them: only of one list)
        return func.id in _CONSUMERS and (func.id not in ("max", "min") or len(call.args) == 1)
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and (
        func.value.id in _ARRAY_MODULES
    )
