"""Memory: numpy's sharing of memory made explicit in the forward listing.

Lowering writes in-place operations as Python runs them: ``out[i] = v`` changes the
array ``out`` names, and ``y_1 = y; y_1 *= w`` changes the array ``y`` holds (``y_1`` is
``y`` itself then; for a Python number it is a new number). Every other name that
shares that memory sees the change too: an alias (``z = y``), a view (``row = out[i]``,
``x.T``, ``x.reshape(...)``), the array a view was taken from. This pass finds them and
records how each changed, after every in-place write, as *logical* statements
(:attr:`srcad.ir.Assign.logical`): the forward pass does not run them (memory sharing
already did), but the gradient flows through them exactly as the values did::

    row = out[i]          # (2)  a view of out
    row += x              # (3)
    # out[i] = row        # (3)  (shared memory: no code) -- out changed too
    # head = out[:1]      # (3)  (shared memory: no code) -- and so did its view head

Which names may share memory is found per run of the program where it cannot be known
before: whether ``y *= w`` changed ``y``'s array (``y_1 is y``), whether ``x[i]`` or
``x.reshape(...)`` is a view (``is_view``), or, for names whose relation is not known
statically (two names that one branch or loop iteration made the same), whether they
are the same array (``alias_of``, which refuses a partial overlap it cannot follow).

The pass also answers, for the backward pass, which values a later in-place write may
change (:meth:`Memory.overwritten_after`): those are saved as they are when read.
"""

from __future__ import annotations

import builtins
import types
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, TypeGuard

import numpy as np

from . import ir, pyexpr
from .chains import GENERATOR_METHODS
from .errors import Location
from .names import NameAllocator, bind
from .rules.scalar import APPEND, EXTEND, HELD, REMOVE, REPEAT, REPLACE
from .rules.table import COPY, SETITEM, TABLE
from .runtime import alias_of, holding_paths, is_view, with_held

# ---------------------------------------------------------------- where statements stand


@dataclass(frozen=True)
class _Place:
    """Where a statement stands: its index in program order, the path of (block,
    index) pairs from the function body down to it, and the loops around it."""

    order: int
    path: tuple[tuple[int, int], ...]
    loops: tuple[int, ...]  # ids of the enclosing Loop statements


def _places(body: tuple[ir.Stmt, ...]) -> dict[int, _Place]:
    found: dict[int, _Place] = {}
    counter = [0]

    def visit(block: tuple[ir.Stmt, ...], block_id: int, path: tuple, loops: tuple) -> None:
        for index, stmt in enumerate(block):
            here = (*path, (block_id, index))
            found[id(stmt)] = _Place(counter[0], here, loops)
            counter[0] += 1
            inner_loops = (*loops, id(stmt)) if isinstance(stmt, ir.Loop) else loops
            for k, inner in enumerate(ir.blocks_of(stmt)):
                visit(inner, id(stmt) * 2 + k, here, inner_loops)

    visit(body, 0, (), ())
    return found


def _dominates(first: _Place, second: _Place) -> bool:
    """``first`` runs before ``second`` on every path that reaches ``second``."""
    depth = len(first.path) - 1
    if len(second.path) <= depth or second.path[:depth] != first.path[:depth]:
        return False
    block, index = first.path[depth]
    other_block, other_index = second.path[depth]
    return block == other_block and other_index > index


# ---------------------------------------------------------------- liveness


def live_after(body: tuple[ir.Stmt, ...], live_out: Iterable[str] = ()) -> dict[int, frozenset]:
    """The names each statement's successors may still read (forward pass only)."""
    result: dict[int, frozenset] = {}

    def block(stmts: tuple[ir.Stmt, ...], live: frozenset) -> frozenset:
        for stmt in reversed(stmts):
            result[id(stmt)] = live
            live = step(stmt, live)
        return live

    def step(stmt: ir.Stmt, live: frozenset) -> frozenset:
        reads = frozenset(ir.reads_of(stmt))
        if isinstance(stmt, ir.Return) or (isinstance(stmt, ir.Effect) and stmt.raises):
            return reads
        if isinstance(stmt, ir.Assign) and stmt.rebinds:
            return (live - {stmt.target}) | reads
        if isinstance(stmt, ir.Python | ir.Unpack | ir.Enter):  # (what a `try` binds, too)
            return (live - set(ir.targets_of(stmt))) | reads
        if isinstance(stmt, ir.If):
            return block(stmt.body, live) | block(stmt.orelse, live) | reads
        if isinstance(stmt, ir.Loop):
            own = frozenset(n for n in (stmt.index, stmt.counter) if n)
            top = live
            while True:  # a fixed point: what the next iteration reads is live at the end
                if stmt.test:  # while: test, then body, then the test again
                    body_in = block(stmt.body, top)
                    new_top = block(stmt.test, body_in | live) | reads
                else:
                    new_top = (block(stmt.body, top | live) - own) | reads | live
                if new_top <= top:
                    return top
                top = top | new_top
        return live | reads

    block(body, frozenset(live_out))
    return result


# ---------------------------------------------------------------- who may share memory


def _is_copy(stmt: ir.Assign) -> bool:
    return stmt.rule is COPY


def _is_pack(stmt: ir.Assign) -> bool:
    """A tuple display or a list gate: the result holds its operands themselves."""
    return stmt.rule is not None and stmt.rule.holds


def _first_name(stmt: ir.Assign) -> str | None:
    first = stmt.operands[0] if stmt.operands else None
    return first.id if isinstance(first, ir.Name) else None


#: Functions whose result never shares memory with an argument (numbers, new objects).
_FRESH_RESULTS = frozenset(
    id(f) for f in (len, range, int, float, bool, str, isinstance, type, sorted, abs, round)
)


def _may_return_argument(value: ir.Expr, fn: ir.Function) -> TypeGuard[ir.Call]:
    """A call without a rule may hand back one of its arguments (``np.ascontiguousarray``
    does), unless it is a builtin known to make a new object or a number."""
    if not isinstance(value, ir.Call):
        return False
    func = value.func
    if isinstance(func, ir.Name):
        default = getattr(builtins, func.id, None)
        obj = fn.bindings.get(func.id, fn.free_objects.get(func.id, default))
        return id(obj) not in _FRESH_RESULTS
    return True


def _of_a_module(expr: ir.Expr, fn: ir.Function) -> bool:
    """Whether ``expr`` is a module or an attribute of one (``np.random``): what a
    function of it returns shares no memory with the module."""
    while isinstance(expr, ir.Attr):
        expr = expr.value
    if not isinstance(expr, ir.Name):
        return False
    obj = fn.bindings.get(expr.id, fn.free_objects.get(expr.id))
    return isinstance(obj, types.ModuleType)


def points_to(fn: ir.Function) -> dict[str, frozenset[str]]:
    """For each name, the objects (named by where they were made: a parameter, a global,
    the statement that made a new array) whose memory its value may use."""
    return _sharing(fn)[0]


def _sharing(fn: ir.Function) -> tuple[dict[str, frozenset[str]], dict[str, set[str]]]:
    """:func:`points_to`, and for each object a dict or list written item by item may
    be, the objects its items may be (``d["w"] = a``: what ``a`` points to)."""
    assigns = [s for s in ir.walk(fn.body) if isinstance(s, ir.Assign)]
    roots: dict[str, set[str]] = {}
    items: dict[str, set[str]] = {}  # what a list may hold after `xs[i] = a`
    # a loop's index is an int: no memory an in-place write could change
    indices = ir.loop_counters(fn.body)
    draws = {  # (t1 = rng.normal: a random generator's method, whose draws are new arrays)
        s.target for s in assigns
        if isinstance(s.value, ir.Attr) and s.value.attr in GENERATOR_METHODS
        and not hasattr(np.ndarray, s.value.attr)
    }

    def of(expr: ir.Expr) -> set[str]:
        found: set[str] = set()
        for name in ir.names_in(expr):
            if name not in indices:
                found |= roots.get(name, {name})
        return found

    # plain Python (a `try` statement, a `with ... as`): what it binds may be, or hold,
    # anything it reads
    plain = [
        (target, tuple(ir.reads_of(s)))
        for s in ir.walk(fn.body)
        if isinstance(s, ir.Python | ir.Enter)
        for target in ir.targets_of(s)
    ]
    changed = True
    while changed:
        changed = False
        for target, reads in plain:
            new = of(ir.Tuple(tuple(ir.Name(n) for n in reads))) | {target}
            current = roots.setdefault(target, set())
            if not new <= current:
                current |= new
                changed = True
        for stmt in assigns:
            if _is_copy(stmt) or (stmt.rule is not None and stmt.rule.view):
                new = of(stmt.operands[0]) if stmt.operands else set()
                if isinstance(stmt.value, ir.Subscript) and stmt.operands:  # an item of a list
                    new |= set().union(*(items.get(r, set()) for r in new))
                if not new and stmt.rule is not None and stmt.rule.view:
                    new = {stmt.target}  # (np.array(0.0): a view of no name is an array of its own)
            elif stmt.in_place and isinstance(stmt.value, ir.BinOp):
                new = of(stmt.value.left) | {stmt.target}
            elif stmt.in_place:  # an array copies what it is given; a list keeps the object
                held = of(stmt.operands[-1])
                for root in of(ir.Name(stmt.target)):
                    if not held <= items.setdefault(root, set()):
                        items[root] |= held
                        changed = True
                continue
            elif _is_pack(stmt):
                new = set().union(*(of(o) for o in stmt.operands))
                if not new:  # (an empty list or dict, or one of numbers: the items written
                    new = {stmt.target}  # into it are recorded under its own name)
            elif stmt.rule is None and _may_return_argument(stmt.value, fn):
                new = of(ir.Tuple(stmt.value.args)) | {stmt.target}
                func = stmt.value.func
                if isinstance(func, ir.Name) and func.id not in fn.bindings and (
                    func.id not in draws
                ):  # (k.view: a method of a value may return the value's memory; not a
                    new |= of(func)  # generator's draw: an array of its own)
                elif isinstance(func, ir.Attr) and not _of_a_module(func.value, fn):
                    new |= of(func.value)  # (p.items(), d.values(): the same)
            elif stmt.rule is not None and stmt.rule.shares:
                new = of(ir.Tuple(stmt.operands)) | {stmt.target}
            elif stmt.rule is None and isinstance(stmt.value, ir.Attr):  # obj.w: part of obj
                new = of(stmt.value.value) | {stmt.target}
            else:
                new = {stmt.target}
            current = roots.setdefault(stmt.target, set())
            if not new <= current:
                current |= new
                changed = True
    for index in indices - set(roots):  # (an update of `a = i` starts at the index itself)
        roots[index] = set()
    return {name: frozenset(found) for name, found in roots.items()}, items


def _containers(fn: ir.Function, definitions: dict[str, list[ir.Assign]]) -> frozenset[str]:
    """The names that only ever hold a dict, list or tuple the function made: a
    display (an object's fields are one), a list grown or changed by a list gate, or a
    copy of such a name (a join, a loop's carried value). ``definitions``: the
    statements that bind each name."""
    made = (APPEND, EXTEND, REPLACE, REMOVE, REPEAT, HELD)
    bound_otherwise = {t for s in ir.walk(fn.body) if not isinstance(s, ir.Assign)
                       for t in ir.targets_of(s)} | set(fn.params) | set(fn.kwonly)
    found = {
        name for name, stmts in definitions.items()
        if name not in bound_otherwise and all(
            isinstance(s.value, ir.Dict | ir.Tuple) or s.rule in made or _is_copy(s)
            for s in stmts
        )
    }
    while True:  # (a copy of a name that may hold something else)
        dropped = {
            name for name in found
            if any(_is_copy(s) and _first_name(s) not in found for s in definitions[name])
        }
        if not dropped:
            return frozenset(found)
        found -= dropped


# ---------------------------------------------------------------- the pass


@dataclass(frozen=True)
class _Link:
    """How ``name`` was made from ``base``: ``same`` (a copy; with ``identity``, an
    in-place operator's result, the same object only when ``name is base``) or a view
    made by ``stmt``."""

    name: str
    base: str
    stmt: ir.Assign
    kind: str  # "same" or "view"
    identity: bool = False


def _read_only(link: _Link) -> bool:
    """``link`` is a view made by a rule that cannot write it back (numpy's read-only
    diagonals): numpy refuses writes into such a view."""
    made = link.stmt
    return (
        link.kind == "view"
        and made.rule is not None
        and made.rule.restore is None
        and not isinstance(made.value, ir.Subscript)
    )


@dataclass
class Memory:
    """What the pass found: where in-place writes stand and which objects they touch,
    so that :meth:`overwritten_after` can answer the backward pass."""

    roots: dict[str, frozenset[str]] = field(default_factory=dict)
    writes: list[tuple[ir.Assign, _Place]] = field(default_factory=list)
    places: dict[int, _Place] = field(default_factory=dict)

    def roots_of(self, name: str) -> frozenset[str]:
        return self.roots.get(name, frozenset((name,)))

    def written_roots(self, numbers: Collection[str] = ()) -> frozenset[str]:
        """Every object some in-place write may change (``numbers``: names known to be
        Python numbers, whose `x += v` binds a new number and writes into nothing)."""
        return frozenset().union(
            *(self.roots_of(w.target) for w, _ in self.writes if w.target not in numbers)
        )

    def overwritten_after(
        self, stmt: ir.Stmt, name: str, *, including: bool = False, reshaping: bool = False
    ) -> bool:
        """Whether an in-place write may change ``name``'s memory after ``stmt`` runs
        (or, ``including``, while it runs): a later write, or any write in a loop
        around ``stmt`` (it runs again in the next iteration). With ``reshaping``, only
        writes that may change its shape count: ``y += w`` where ``y`` is a number and
        ``w`` an array makes ``y`` an array (an array's own shape never changes)."""
        place = self.places.get(id(stmt))
        mine = self.roots.get(name, frozenset((name,)))
        if place is None or not self.writes:
            return False
        for write, where in self.writes:
            if reshaping and not isinstance(write.value, ir.BinOp):
                continue
            touched = self.roots.get(write.target, frozenset((write.target,)))
            if not (mine & touched):
                continue
            if write is stmt:  # (in a loop, it writes again in the next iteration)
                if including or where.loops:
                    return True
                continue
            if where.order > place.order or set(where.loops) & set(place.loops):
                return True
        return False


class _Pass:
    def __init__(self, fn: ir.Function) -> None:
        self.fn = fn
        self.places = _places(fn.body)
        self.roots, self.items = _sharing(fn)
        self.live = live_after(fn.body)
        self.names = NameAllocator(fn.names())
        self.bindings: dict[str, Any] = dict(fn.bindings)
        self.definitions: dict[str, list[ir.Assign]] = {}
        for stmt in ir.walk(fn.body):
            if isinstance(stmt, ir.Assign) and stmt.rebinds:
                self.definitions.setdefault(stmt.target, []).append(stmt)
        self.containers = _containers(fn, self.definitions)
        self.carried_by: dict[int, set[str]] = {}  # loop id -> names changed by logical lines
        #: the statements that make or change a container (see held_keys), and the copies
        #: between names
        self.container_writes: dict[str, list[ir.Assign]] = {}
        self.bound_before = _bound_before(fn)
        self.copied_to: dict[str, list[str]] = {}
        for stmt in ir.walk(fn.body):
            if isinstance(stmt, ir.Assign) and stmt.target in self.containers:
                self.container_writes.setdefault(stmt.target, []).append(stmt)
                source = _first_name(stmt) if _is_copy(stmt) else None
                if source is not None:
                    self.copied_to.setdefault(source, []).append(stmt.target)
        #: ``d[k] = a`` into a dict or list display the function made (an object's
        #: fields): the container holds the object ``a`` names, not a copy
        self.item_stores = [
            s for s in ir.walk(fn.body)
            if isinstance(s, ir.Assign) and s.in_place and not s.logical
            and s.rule is SETITEM and len(s.operands) == 3
            and isinstance(s.operands[2], ir.Name)
        ]

    # ------------------------------------------------------------ relations
    def roots_of(self, name: str) -> frozenset[str]:
        return self.roots.get(name, frozenset((name,)))

    def reaching(self, name: str, at: ir.Assign) -> ir.Assign | None:
        """The statement that gave ``name`` the value it holds at ``at``: the one
        definition that runs before ``at`` on every path with no other one in between
        (in a loop, the one in the same iteration), or None."""
        here = self.places[id(at)]
        found = [
            made
            for made in self.definitions.get(name, [])
            if _dominates(self.places[id(made)], here)
            and not self.rebound_between(self.places[id(made)], here, {name}, keeping=True)
        ]
        if len(found) > 1:  # (a loop's in-place updates keep the object the name entered with)
            found = [m for m in found if not (_is_update(m) and self.keeps_object(m))]
        return found[0] if len(found) == 1 else None

    def link(self, name: str, at: ir.Assign) -> _Link | None:
        """How ``name``'s value at ``at`` was made from another value, if it was made by
        one copy, view or in-place operator that still holds at ``at``."""
        made = self.reaching(name, at)
        if made is None:
            return None
        if _is_copy(made):
            # (a copy updated in place since, `r_1 *= s` in a loop, may be a new number)
            kind, identity = "same", self.updated_between(made, at, name)
        elif made.in_place and isinstance(made.value, ir.BinOp):
            kind, identity = "same", True
        elif made.rule is not None and made.rule.view:
            kind, identity = "view", False
        else:
            return None
        base = _updated(made) if _is_update(made) else _first_name(made)
        if base is None:
            return None
        place, here = self.places[id(made)], self.places[id(at)]
        if self.rebound_between(place, here, set(ir.reads_of(made))):
            return None  # (the base or the index was given a new value since)
        return _Link(name, base, made, kind, identity)

    def between(self, first: _Place, second: _Place) -> Iterator[ir.Stmt]:
        """The statements that may run after ``first`` and before ``second`` (in a loop
        around ``second`` only, all of its body: the next iteration's too)."""
        loops = set(second.loops) - set(first.loops)
        for stmt in ir.walk(self.fn.body):
            place = self.places[id(stmt)]
            if first.order < place.order < second.order or set(place.loops) & loops:
                yield stmt

    def updated_between(self, made: ir.Assign, at: ir.Assign, name: str) -> bool:
        """Whether ``name`` is updated in place (``name op= w``) between ``made`` and
        ``at``: an array stays the same object, a number becomes a new one."""
        return any(
            isinstance(s, ir.Assign) and _is_update(s) and name in (s.target, _updated(s))
            for s in self.between(self.places[id(made)], self.places[id(at)])
        )

    def keeps_object(self, stmt: ir.Assign) -> bool:
        """``r_1 = r_1``, or a loop's ``r_1 = r_2`` after ``r_2 = r_1; r_2 *= s`` (and more
        updates of that kind in a row): the name holds its object still when that is an
        array (numbers: see :meth:`updated_between`)."""
        if _is_update(stmt):  # (r_1 = r_2; r_1 += w, the last of the updates)
            source = _updated(stmt)
        elif isinstance(stmt.value, ir.Name):
            source = stmt.value.id
        else:
            return False
        seen = {stmt.target}
        while source not in seen:  # (several updates: r_2 from r_1, r_3 from r_2, ...)
            seen.add(source)
            made = self.definitions.get(source, [])
            if len(made) != 1 or not _is_update(made[0]):
                return False
            source = _updated(made[0])
        return source == stmt.target

    def rebound_between(
        self, first: _Place, second: _Place, names: set[str], keeping: bool = False
    ) -> bool:
        """Whether a statement that may run after ``first`` and before ``second`` gives
        one of ``names`` a new object (in-place writes and logical lines keep it; with
        ``keeping``, so do a loop's in-place updates of the name, ``r_1 = r_2`` after
        ``r_2 = r_1; r_2 *= s``, which the caller checks at run time: a number changes)."""
        for stmt in self.between(first, second):
            if (
                isinstance(stmt, ir.Assign)
                and stmt.rebinds
                and stmt.target in names
                and not (keeping and self.keeps_object(stmt))
            ):
                return True
            if isinstance(stmt, ir.Loop) and {stmt.index, stmt.counter} & names:
                return True
        return False

    def chain(self, name: str, at: ir.Assign) -> list[_Link]:
        links: list[_Link] = []
        seen = {name}
        while True:
            link = self.link(name, at)
            if link is None or link.base in seen:
                return links
            links.append(link)
            seen.add(link.base)
            name = link.base

    # ------------------------------------------------------------ conditions
    def condition(self, link: _Link, out: list[ir.Stmt], write: ir.Assign) -> ir.Expr | None:
        """The run-time test that ``link`` shares memory (None: it always does)."""
        if link.kind == "same" and not link.identity:
            return None
        if link.kind == "same":
            test: ir.Expr = ir.Compare("is", ir.Name(link.name), ir.Name(link.base))
        else:
            check = bind(self.names, self.bindings, self.fn.free_objects, "is_view", is_view)
            test = ir.Call(ir.Name(check), (ir.Name(link.name), ir.Name(link.base)))
        flag = self.names.fresh("shared")
        out.append(ir.Assign(flag, test, tag=write.tag, loc=write.loc))
        return ir.Name(flag)

    # ------------------------------------------------------------ what a write changes
    def write_back(self, link: _Link, write: ir.Assign) -> ir.Assign:
        """``base`` changed because ``link.name`` (a view of it, or the same array) did."""
        view, base = ir.Name(link.name), ir.Name(link.base)
        if link.kind == "same":
            return ir.Assign(link.base, view, COPY, (view,), tag=write.tag, loc=write.loc,
                             logical=True)
        made = link.stmt
        if isinstance(made.value, ir.Subscript):  # base[i] = view
            index = made.operands[1]
            return ir.Assign(link.base, ir.Subscript(base, index), SETITEM, (base, index, view),
                             tag=write.tag, loc=write.loc, in_place=True, logical=True)
        # a view of all of base (x.T, x.reshape(...)): base from the view's values
        value, rule, operands = self.restore(made, view)
        return ir.Assign(link.base, value, rule, operands, tag=write.tag, loc=write.loc,
                         logical=True)

    def restore(self, made: ir.Assign, view: ir.Name) -> tuple[ir.Expr, Any, tuple]:
        """The expression (and its rule and operands) that gives ``made``'s first operand
        back from the view ``made`` made (the rule's ``restore``)."""
        rule = made.rule
        assert rule is not None and rule.restore is not None  # (a view of all of its operand)
        expr = pyexpr.parse(rule.restore)
        mapping: dict[str, ir.Expr] = dict(zip(rule.params, made.operands))
        mapping["v"] = view
        env: dict[str, Any] = {}
        for free in set(ir.names_in(expr)) - set(mapping):
            bound = bind(self.names, self.bindings, self.fn.free_objects, free, rule.env[free])
            mapping[free] = ir.Name(bound)
            env[bound] = rule.env[free]
        value = ir.substitute(expr, mapping)
        if isinstance(value, ir.Name):
            return value, COPY, (value,)
        found = TABLE.find(value, env)
        if found is None:  # pragma: no cover - every restore is written with ruled calls
            raise AssertionError(f"no rule for {rule.restore!r}")
        return value, found[0], found[1]

    def rederive(self, link: _Link, write: ir.Assign) -> ir.Assign:
        """``link.name`` shows ``base``'s new values (a view, or the same array)."""
        if link.kind == "same":
            return ir.Assign(link.name, ir.Name(link.base), COPY, (ir.Name(link.base),),
                             tag=write.tag, loc=write.loc, logical=True)
        return replace(link.stmt, tag=write.tag, loc=write.loc, logical=True)

    def after_write(self, write: ir.Assign) -> list[ir.Stmt]:
        """The logical lines after ``write``: every other live name that shares the
        memory it changed gets its new value."""
        changed = write.target
        touched = self.roots_of(_updated(write) if _is_update(write) else changed)
        live = self.live.get(id(write), frozenset()) | self.held_by_live(write)
        candidates = sorted(
            n for n in live if n != changed and self.roots_of(n) & touched
        )
        if not candidates:
            stored = self.stored_again(write, touched, {changed}, self.same_bases(write))
            return stored + self.held_elsewhere(write, touched, stored)
        renamed = _is_update(write) and not write.writes_own_operand  # y_1 = y; y_1 *= w
        start = [_Link(changed, _updated(write), write, "same", True)] if renamed else []
        chains = {u: self.chain(u, write) for u in candidates}
        needed = {n for u, links in chains.items() for n in [u, *(k.base for k in links)]}
        links = start + self.chain(start[0].base if start else changed, write)
        # a view whose rule has no `restore` is read-only (np.diagonal): an array written
        # in place is never one, so no base above it changes
        links = links[: next((k for k, link in enumerate(links) if _read_only(link)), None)]
        if _is_update(write) and links and links[0].kind == "same":
            # `acc -= t` on a name that was a copy: still the same object only if an array
            links[0] = replace(links[0], identity=True)
        up: list[_Link] = []
        for link in links:
            last = up[-1] if up else None
            if last and last.identity and last.base not in live and last.base not in needed:
                # the old name of `y_1 = y; y_1 *= w` is read no more: write the next base
                # back from y_1 directly (for a view, is_view(y_1, base) tests both)
                up.pop()
                link = replace(link, name=last.name, identity=link.kind == "same")
            up.append(link)
        up_names = [changed] + [link.base for link in up]
        meeting: dict[str, tuple[int, list[_Link]]] = {}
        for u, links in chains.items():
            below = [u] + [link.base for link in links]
            common = next((n for n in below if n in up_names), None)
            if common is not None:
                meeting[u] = (up_names.index(common), links[: below.index(common)])
        highest = max((m for m, _ in meeting.values()), default=0)
        out: list[ir.Stmt] = []
        self.emit_up(up[:highest], 0, meeting, write, out)
        written = {changed} | {s.target for s in ir.walk(out) if isinstance(s, ir.Assign)}
        updated = set(up_names) | written
        bases = self.same_bases(write)
        for u in candidates:
            if u in meeting:
                continue
            pack = self.pack_of(u, write)
            reads = set(ir.read_in([pack])) if pack is not None else set()
            if pack is not None and updated & reads and not (set(up_names) - written) & reads:
                # a tuple holding a changed array: the same objects, their new values
                out += self.made_again(pack, write, written, bases)
            else:  # (a container that holds it: see held_elsewhere)
                out += self.checked_alias(u, changed, write, holding=u in self.containers)
        out += self.stored_again(write, touched, written, bases)
        return out + self.held_elsewhere(write, touched, out)

    def held_elsewhere(
        self, write: ir.Assign, touched: frozenset[str], out: list[ir.Stmt]
    ) -> list[ir.Stmt]:
        """The containers the function made (dicts, lists, tuples, objects' fields) that
        may hold the array ``write`` changed under an item the logical lines ``out`` do
        not restore (the same array under two keys or in two objects, a dict inside
        another): where they hold it is found when the write runs, and each is told its
        item changed (``d = with_held(d, paths, a)``, a logical line)."""
        changed = write.target
        live = self.live.get(id(write), frozenset())
        extra: list[ir.Stmt] = []
        for name in sorted(live & self.containers):
            if name == changed or not self.may_hold(ir.Name(name), touched):
                continue
            if name not in self.bound_before.get(id(write), ()):
                continue  # (not bound yet on some path: made later in the loop's body)
            handled = _restored_keys(out, name)
            if handled is None:
                continue
            keys = self.held_keys(name, touched)
            if keys is not None and keys <= {k.value for k in handled if isinstance(k, ir.Const)}:
                continue
            find = bind(self.names, self.bindings, self.fn.free_objects, "holding_paths",
                        holding_paths)
            paths = self.names.fresh(f"{name}_holds")
            key_list = ir.Tuple(tuple(handled))
            extra.append(ir.Assign(
                paths, ir.Call(ir.Name(find), (ir.Name(name), ir.Name(changed), key_list)),
                tag=write.tag, loc=write.loc,
            ))
            held = bind(self.names, self.bindings, self.fn.free_objects, "with_held", with_held)
            operands = (ir.Name(name), ir.Name(paths), ir.Name(changed))
            again = ir.Assign(name, ir.Call(ir.Name(held), operands), HELD, operands,
                              tag=write.tag, loc=write.loc, logical=True)
            extra.append(ir.If(ir.Name(paths), (again,), (), tag=write.tag))
        return extra

    def may_hold(self, expr: ir.Expr, touched: frozenset[str]) -> bool:
        """Whether ``expr``'s value may be, or hold at any depth, memory of ``touched``."""
        seen: set[str] = set()
        pending = [root for n in ir.names_in(expr) for root in (n, *self.roots_of(n))]
        while pending:
            root = pending.pop()
            if root in touched:
                return True
            if root not in seen:
                seen.add(root)
                pending += self.items.get(root, ())
        return False

    def held_keys(self, name: str, touched: frozenset[str]) -> set | None:
        """The constant keys (or list positions) under which the container ``name`` may
        hold memory of ``touched``; None when that is not known where srcad compiles (a
        key computed at run time, a list grown). Stores through a copy of the name count
        (``h_1 = h`` before a loop: one object), and a list made from another by
        replacing one item (``list_replaced``) holds the other's items too."""
        keys: set = set()
        seen: set[str] = set()
        pending = [name]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            for stmt in self.container_writes.get(current, ()):
                value = stmt.value
                pairs: Iterable[tuple[ir.Expr, ir.Expr]] = ()
                copied = _first_name(stmt)
                if _is_copy(stmt):
                    if copied is not None:
                        pending.append(copied)
                elif stmt.rebinds and isinstance(value, ir.Dict):
                    pairs = zip(value.keys, value.values)
                elif stmt.rebinds and isinstance(value, ir.Tuple):
                    pairs = ((ir.Const(k), item) for k, item in enumerate(value.elts))
                elif stmt.rule is REPLACE or stmt.in_place and stmt.rule is SETITEM:
                    source, key, item = stmt.operands
                    if isinstance(source, ir.Name) and source.id != current:
                        pending.append(source.id)
                    pairs = [(key, item)]
                elif any(self.may_hold(o, touched) for o in stmt.operands):
                    return None
                for key, item in pairs:
                    if self.may_hold(item, touched):
                        if not isinstance(key, ir.Const):
                            return None
                        keys.add(key.value)
            pending += self.copied_to.get(current, ())
        return keys

    def held_by_live(self, write: ir.Assign) -> frozenset[str]:
        """Views a live container holds at ``write`` (``h['v'] = t``, ``t = A[1]``: an
        object's field holding a view), read no more by name: made again when ``write``
        changes their base, and stored again (:meth:`stored_again`)."""
        live = self.live.get(id(write), frozenset())
        here = self.places[id(write)]
        held: set[str] = set()
        for name in live & self.containers:  # (a display: parts = {"head": a[:2], ...})
            made = self.reaching(name, write)
            if made is None or not isinstance(made.value, ir.Dict | ir.Tuple):
                continue
            for operand in made.operands:
                if not isinstance(operand, ir.Name) or operand.id in live:
                    continue
                view = self.reaching(operand.id, write)
                if view is not None and view.rule is not None and view.rule.view:
                    held.add(operand.id)
        for store in self.item_stores:
            name = store.operands[2]
            assert isinstance(name, ir.Name)  # (what item_stores keeps)
            if (
                store.target in live and store.target != write.target
                and _dominates(self.places[id(store)], here)
                and (made := self.reaching(name.id, write)) is not None
                and made.rule is not None and made.rule.view  # (a view: `A[1]`, `buf[0:2]`)
            ):
                held.add(name.id)
        return frozenset(held)

    def same_bases(self, write: ir.Assign) -> list[str]:
        """The names that held the array ``write`` changed before it got its name (``y``
        of ``y_1 = y; y_1 *= w``, of ``y_1 = y`` before a loop of ``y_1 *= w``): the
        same object when it is an array."""
        name = write.target
        bases = [_updated(write)] if _is_update(write) and not write.writes_own_operand else []
        for link in self.chain(bases[-1] if bases else name, write):
            if link.kind != "same":
                break
            bases.append(link.base)
        return bases

    def made_again(
        self, made: ir.Assign, write: ir.Assign, written: set[str], bases: list[str]
    ) -> list[ir.Stmt]:
        """``made`` (a display, or an item store, that holds the array ``write``
        changed) again, as a logical line: the container holds the same array, now
        changed. Where it read one of ``bases`` that was not given the new value
        (``written``: the names that were), it reads the changed name instead, under
        the run-time test that the two are the same object (an array; a number is a new
        one, and the container keeps the old)."""
        again = replace(made, tag=write.tag, loc=write.loc, logical=True)
        mapping: dict[str, str] = {}
        for name in ir.read_in([made]):
            if name in written or name == made.target:
                continue
            holder = write.target if name in bases else self.holder_now(name, write)
            if holder is not None:  # (another array of the display, updated as well)
                mapping[name] = holder
        if not mapping:
            return [again]
        renamed = ir.rename([again], mapping)[0]
        assert isinstance(renamed, ir.Assign)  # (again is one)
        renamed = replace(renamed, target=made.target)  # (the container keeps its name)
        tests = [ir.Compare("is", ir.Name(new), ir.Name(old)) for old, new in mapping.items()]
        same = tests[0] if len(tests) == 1 else ir.BoolOp("and", tuple(tests))
        return [ir.If(same, (renamed,), (), tag=write.tag)]

    def holder_now(self, name: str, write: ir.Assign) -> str | None:
        """A live name at ``write`` that was made from ``name`` by copies and in-place
        operators (``b_1 = b`` before a loop of ``b_1 -= ...``): the same object, when an
        array, with its value now; None when there is none."""
        roots = self.roots_of(name)
        for other in sorted(self.live.get(id(write), frozenset())):
            if other == name or not self.roots_of(other) & roots:
                continue
            for link in self.chain(other, write):
                if link.kind != "same":
                    break
                if link.base == name:
                    return other
        return None

    def stored_again(
        self, write: ir.Assign, touched: frozenset[str], updated: set[str], bases: list[str]
    ) -> list[ir.Stmt]:
        """The item stores ``d[k] = a`` of an array ``write`` changed (``touched``), into a
        dict or list display the function made (an object's fields: ``self.u = u``)
        that still hold it at ``write``: stored again, as logical lines, with the array's
        new value (the container holds the same array; ``updated``: the names with new
        values; see :meth:`made_again`)."""
        holding = set(updated) | set(bases)  # (y_1 = y; y_1 *= w: see made_again)
        here = self.places[id(write)]
        live = self.live.get(id(write), frozenset())
        out: list[ir.Stmt] = []
        for store in self.item_stores:
            container, key, stored = store.operands
            assert isinstance(stored, ir.Name)  # (what item_stores keeps)
            if store is write or store.target not in live or stored.id not in holding:
                continue
            if not self.roots_of(stored.id) & touched:
                continue
            made = self.reaching(store.target, store)
            place = self.places[id(store)]
            if (
                made is None or not (isinstance(made.value, ir.Dict) or (
                    isinstance(made.value, ir.Tuple) and made.value.is_list))
                or not _dominates(place, here)
                or self.rebound_between(place, here, {store.target, stored.id})
                or any(  # (the same item written again since: it may hold another value)
                    isinstance(s, ir.Assign) and s.in_place and s.target == store.target
                    and s is not write and not _other_key(s, key)
                    for s in self.between(place, here)
                )
            ):
                continue
            out += self.made_again(store, write, updated, bases)
        return out

    def pack_of(self, name: str, at: ir.Assign) -> ir.Assign | None:
        """The tuple display that made ``name``, if it still holds at ``at``."""
        made = self.reaching(name, at)
        if made is None or not isinstance(made.value, ir.Tuple | ir.Dict):  # (list gates: checked)
            return None
        place, here = self.places[id(made)], self.places[id(at)]
        if self.rebound_between(place, here, set(ir.reads_of(made))):
            return None
        if any(  # (d["w"] = a after d = {"b": x}: the display no longer says what d holds)
            isinstance(stmt, ir.Assign) and stmt.in_place and stmt.target == name
            for stmt in self.between(place, here)
        ):
            return None
        return made

    def emit_up(self, up: list[_Link], level: int, meeting, write, out: list[ir.Stmt]) -> None:
        """Re-derive what hangs off ``up_names[level]``, then write the next base back
        (under the run-time test that it shares memory) and go on from there."""
        for _, (at, links) in sorted(meeting.items()):
            if at == level and links:
                self.emit_down(list(reversed(links)), write, out)
        if level >= len(up):
            return
        link = up[level]
        inner: list[ir.Stmt] = [self.write_back(link, write)]
        self.emit_up(up, level + 1, meeting, write, inner)
        test = self.condition(link, out, write)
        out += inner if test is None else [ir.If(test, tuple(inner), (), tag=write.tag)]

    def emit_down(self, links: list[_Link], write: ir.Assign, out: list[ir.Stmt]) -> None:
        """Re-derive ``links`` from the top (the changed base) down to a live name."""
        if not links:
            return
        link = links[0]
        inner: list[ir.Stmt] = [self.rederive(link, write)]
        self.emit_down(links[1:], write, inner)
        test = self.condition(link, out, write)
        out += inner if test is None else [ir.If(test, tuple(inner), (), tag=write.tag)]

    def checked_alias(
        self, name: str, changed: str, write: ir.Assign, holding: bool = False
    ) -> list[ir.Stmt]:
        """A name that may share the changed memory in a way not known before the run:
        when it is the same array it gets the new value; a partial overlap is refused.
        (``holding``: a container the function made, which is the changed object itself
        or holds it: :meth:`held_elsewhere` follows what it holds.)"""
        flag = self.names.fresh("shared")
        if holding:
            test: ir.Expr = ir.Compare("is", ir.Name(name), ir.Name(changed))
        else:
            check = bind(self.names, self.bindings, self.fn.free_objects, "alias_of", alias_of)
            test = ir.Call(ir.Name(check), (ir.Name(name), ir.Name(changed)))
        copy = ir.Assign(name, ir.Name(changed), COPY, (ir.Name(changed),), tag=write.tag,
                         loc=write.loc, logical=True)
        return [ir.Assign(flag, test, tag=write.tag, loc=write.loc),
                ir.If(ir.Name(flag), (copy,), (), tag=write.tag)]

    # ------------------------------------------------------------ rewriting
    def block(self, stmts: tuple[ir.Stmt, ...], loops: tuple[ir.Loop, ...]) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for stmt in stmts:
            if isinstance(stmt, ir.If):
                out.append(ir.with_blocks(stmt, [self.block(b, loops) for b in ir.blocks_of(stmt)]))
                continue
            if isinstance(stmt, ir.Loop):
                blocks = [self.block(b, (*loops, stmt)) for b in ir.blocks_of(stmt)]
                out.append(ir.with_blocks(stmt, blocks))
                continue
            out.append(stmt)
            if isinstance(stmt, ir.Assign) and stmt.in_place and not stmt.logical:
                extra = self.after_write(stmt)
                for loop in loops:  # names changed in a loop carry a value across iterations
                    self.carried_by.setdefault(id(loop), set()).update(
                        s.target for s in ir.walk(extra) if isinstance(s, ir.Assign) and s.logical
                    )
                out += extra
        return out


def _bound_before(fn: ir.Function) -> dict[int, frozenset[str]]:
    """For each in-place write, the names bound on every path that reaches it (both
    branches of an ``if`` bind what each binds; a loop's body may not run)."""
    found: dict[int, frozenset[str]] = {}

    def visit(stmts: tuple[ir.Stmt, ...], bound: set[str]) -> set[str]:
        for stmt in stmts:
            if isinstance(stmt, ir.Assign) and stmt.in_place:
                found[id(stmt)] = frozenset(bound)
            if isinstance(stmt, ir.If):
                bound |= visit(stmt.body, set(bound)) & visit(stmt.orelse, set(bound))
            elif isinstance(stmt, ir.Loop):
                visit((*stmt.test, *stmt.body), set(bound) | set(ir.targets_of(stmt)))
            elif not (isinstance(stmt, ir.Assign) and not stmt.rebinds):
                bound.update(ir.targets_of(stmt))
        return bound

    visit(fn.body, set(fn.params) | set(fn.kwonly))
    return found


def _restored_keys(out: list[ir.Stmt], name: str) -> list[ir.Expr] | None:
    """The keys of the container ``name`` whose items the logical lines ``out`` store
    again (``d['v'] = t1``, ``acc[k] = t2``); None when they make it again whole (its
    display)."""
    keys: list[ir.Expr] = []
    for stmt in ir.walk(out):
        if not (isinstance(stmt, ir.Assign) and stmt.target == name) or _is_copy(stmt):
            continue  # (a copy: `d = t1` where d is the changed object itself)
        if not (stmt.rule is SETITEM and len(stmt.operands) == 3):
            return None
        if stmt.operands[1] not in keys:
            keys.append(stmt.operands[1])
    return keys


def _other_key(stmt: ir.Assign, key: ir.Expr) -> bool:
    """``stmt`` is an item store whose constant key differs from the constant ``key``."""
    return (
        stmt.rule is SETITEM and len(stmt.operands) == 3
        and isinstance(stmt.operands[1], ir.Const) and isinstance(key, ir.Const)
        and stmt.operands[1].value != key.value
    )


def _is_update(stmt: ir.Assign) -> bool:
    """``y_1 = y; y_1 op= w``: an in-place operator on a name."""
    return stmt.in_place and isinstance(stmt.value, ir.BinOp)


def _updated(stmt: ir.Assign) -> str:
    """The name an in-place operator updates (``y`` of ``y_1 = y; y_1 op= w``)."""
    assert isinstance(stmt.value, ir.BinOp) and isinstance(stmt.value.left, ir.Name)
    return stmt.value.left.id


def make_explicit(fn: ir.Function) -> tuple[ir.Function, Memory]:
    """``fn`` with a logical line for every name an in-place write changes besides the
    written one, and what the backward pass needs to know about later writes."""
    writes = [s for s in ir.walk(fn.body) if isinstance(s, ir.Assign) and s.in_place]
    if not writes and not any(isinstance(s, ir.Python) for s in ir.walk(fn.body)):
        return fn, Memory()
    state = _Pass(fn)
    body = _carry(state.block(fn.body, ()), state.carried_by, fn.body)
    new = coalesce(fn.with_body(body, bindings=state.bindings))
    places = _places(new.body)
    memory = Memory(
        roots=points_to(new),
        writes=[
            (s, places[id(s)])
            for s in ir.walk(new.body)
            if isinstance(s, ir.Assign) and s.in_place and not s.logical
        ]
        + _plain_writes(new.body, places),
        places=places,
    )
    return new, memory


def without_idle_alias_checks(fn: ir.Function, varied: frozenset[str]) -> ir.Function:
    """``fn`` without the run-time checks that two names are one array (``alias_of``)
    where neither depends on a differentiated input (``varied``): no gradient flows
    through either, so how they share memory changes none (library code that writes
    into views of its own arrays, ``np.vander`` of constants)."""
    checks = {name for name, value in fn.bindings.items() if value is alias_of}
    if not checks:
        return fn

    def idle(stmt: ir.Stmt) -> bool:
        value = stmt.value if isinstance(stmt, ir.Assign) else None
        return (
            isinstance(value, ir.Call)
            and isinstance(value.func, ir.Name)
            and value.func.id in checks
            and all(isinstance(a, ir.Name) and a.id not in varied for a in value.args)
        )

    dropped: set[str] = set()

    def block(stmts: tuple[ir.Stmt, ...]) -> tuple[ir.Stmt, ...]:
        out: list[ir.Stmt] = []
        for stmt in stmts:
            if idle(stmt):
                assert isinstance(stmt, ir.Assign)  # (what idle tests)
                dropped.add(stmt.target)
            elif isinstance(stmt, ir.If) and isinstance(stmt.test, ir.Name) and (
                stmt.test.id in dropped
            ):
                continue  # (the copy the check guarded)
            else:
                blocks = ir.blocks_of(stmt)
                out.append(ir.with_blocks(stmt, [block(b) for b in blocks]) if blocks else stmt)
        return tuple(out)

    return fn.with_body(block(fn.body))


def fresh_parameters(
    fn: ir.Function, memory: Memory, helper: ir.Expr, numbers: Collection[str] = ()
) -> list[ir.Stmt]:
    """``names = helper((names...), (other parameters...))`` for the parameters ``fn``
    writes into in place (``helper``: :func:`srcad.runtime.fresh_arguments`), first in a
    derivative: it computes at the caller's point and leaves the caller's arrays alone.
    (``numbers``: parameters known to be Python numbers, which nothing changes in place.)"""
    written = memory.written_roots(numbers)
    params = (*fn.params, *fn.kwonly)
    names = tuple(p for p in params if memory.roots_of(p) & written and p not in numbers)
    if not names:
        return []
    others = ir.Tuple(tuple(ir.Name(p) for p in params if p not in names))
    call = ir.Call(helper, (ir.Tuple(tuple(ir.Name(p) for p in names)), others))
    # (named at the first write into one of them: the line a refusal of arguments that
    # share memory, f(X, X), points at)
    touched = frozenset().union(*(memory.roots_of(p) for p in names))
    first = next((w for w, _ in memory.writes if memory.roots_of(w.target) & touched), None)
    return [ir.Unpack(names, call, tag=first.tag if first else 0)]


def _plain_writes(body: tuple[ir.Stmt, ...], places: dict[int, _Place]) -> list:
    """Plain Python (a ``try`` statement) may change in place anything it reads: for
    :meth:`Memory.overwritten_after`, a write into each of those values where it stands
    (so that the backward pass keeps a copy of what it needs from before)."""
    return [
        (ir.Assign(name, ir.Name(name), in_place=True), places[id(stmt)])
        for stmt in ir.walk(body)
        if isinstance(stmt, ir.Python)
        for name in stmt.reads
    ]


def coalesce(fn: ir.Function) -> ir.Function:
    """``y_1 = y; y_1 *= w`` becomes ``y *= w`` where nothing reads the old ``y``
    afterwards (the usual case: no other name shares it)."""
    live = live_after(fn.body)
    binders: dict[str, list[ir.Assign]] = {}  # the statements that bind each name
    for stmt in ir.walk(fn.body):
        if isinstance(stmt, ir.Assign) and stmt.rebinds:
            binders.setdefault(stmt.target, []).append(stmt)
    indices = {s.index for s in ir.walk(fn.body) if isinstance(s, ir.Loop)}
    renames: dict[str, str] = {}
    merged: dict[str, set[str]] = {}  # a name -> the names renamed to it
    for stmt in ir.walk(fn.body):
        if (
            isinstance(stmt, ir.Assign)
            and _is_update(stmt)
            and not stmt.writes_own_operand
            and len(binders.get(stmt.target, ())) == 1  # (not a name a branch or loop merges)
        ):
            old = renames.get(_updated(stmt), _updated(stmt))
            sharing = merged.setdefault(old, {old})  # every name that becomes ``old``
            if (
                old != stmt.target
                and old not in indices  # (a loop's index is inactive at each iteration's start)
                and not sharing & live.get(id(stmt), frozenset())
                # and no name of the group gets a new value while the target is still read
                # (``y_1 /= t; y = tanh(z); z = y_1``: ``y_1`` cannot be ``y``)
                and not any(
                    stmt.target in live.get(id(other), frozenset())
                    for name in sharing
                    for other in binders.get(name, ())
                )
            ):
                renames[stmt.target] = old  # (chains: y_2 -> y_1 -> y)
                sharing.add(stmt.target)
    if not renames:
        return fn
    return fn.with_body(ir.rename(fn.body, renames))


class _Carry(ir.Transformer):
    """Adds to the ``k``-th loop's ``carried`` the names ``extra[k]`` (loops numbered in
    program order)."""

    def __init__(self, extra: dict[int, set[str]]) -> None:
        self.extra = extra
        self.count = 0

    def visit_Loop(self, stmt: ir.Loop) -> ir.Stmt:
        names = self.extra.get(self.count, set())
        self.count += 1
        stmt = self.generic_visit(stmt)
        if not names:
            return stmt
        return replace(stmt, carried=tuple(dict.fromkeys((*stmt.carried, *sorted(names)))))


def _carry(
    new_body: list[ir.Stmt], carried: dict[int, set[str]], old_body: tuple[ir.Stmt, ...]
) -> tuple[ir.Stmt, ...]:
    """Add to each loop's ``carried`` the names its logical lines change (matched with
    the old loops by position)."""
    old_loops = [s for s in ir.walk(old_body) if isinstance(s, ir.Loop)]
    extra = {k: carried.get(id(loop), set()) for k, loop in enumerate(old_loops)}
    return _Carry(extra).visit_body(new_body)


__all__ = ["Memory", "make_explicit", "live_after", "points_to", "Location"]
