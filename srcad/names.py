"""Hygienic names: generated names never collide with the user's names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any


class NameAllocator:
    """Hands out names that are unique within one generated function.

    ``used`` starts as every name the user's code mentions. A user's own variable may
    keep its name (:meth:`own`); everything srcad invents (SSA versions, temporaries,
    adjoints, helpers) gets a name nobody uses yet (:meth:`fresh`).
    """

    def __init__(self, used: Iterable[str] = ()) -> None:
        self._used = set(used)
        self._owned: set[str] = set()
        self._temp_counter = 0

    def own(self, name: str) -> str:
        """``name`` itself the first time a user variable asks for it, else a new version."""
        if name not in self._owned:
            self._owned.add(name)
            self._used.add(name)
            return name
        return self.fresh(name)

    def fresh(self, base: str) -> str:
        """``base`` if nobody uses it, else ``base_1``, ``base_2``, ..."""
        candidate, counter = base, 0
        while candidate in self._used:
            counter += 1
            candidate = f"{base}_{counter}"
        self._used.add(candidate)
        self._owned.add(candidate)
        return candidate

    def invented(self, base: str) -> str:
        """A variable srcad writes into the code it lowers (the list a loop builds):
        ``base`` or a version of it nobody uses, whose first value :meth:`own` names so."""
        candidate, counter = base, 0
        while candidate in self._used:
            counter += 1
            candidate = f"{base}_{counter}"
        self._used.add(candidate)
        return candidate

    def taken(self, name: str) -> bool:
        """Has the generated function named something ``name`` already?"""
        return name in self._owned

    def reserve(self, name: str) -> None:
        """Keep ``name`` for what it names in the user's code (a global generated code
        reads by that name): no generated name will be ``name`` from now on."""
        self._used.add(name)

    def temp(self) -> str:
        """A short temporary name: ``t1``, ``t2``, ..."""
        while True:
            self._temp_counter += 1
            candidate = f"t{self._temp_counter}"
            if candidate not in self._used:
                self._used.add(candidate)
                self._owned.add(candidate)
                return candidate

    def adjoint(self, name: str) -> str:
        """The adjoint's name for ``name``: ``dname``, else ``d_name``, else a version."""
        for candidate in (f"d{name}", f"d_{name}"):
            if candidate not in self._used:
                self._used.add(candidate)
                self._owned.add(candidate)
                return candidate
        return self.fresh(f"d_{name}")


_NOTHING = object()


def bind(
    names: NameAllocator,
    bindings: MutableMapping[str, Any],
    free_objects: Mapping[str, Any],
    preferred: str,
    obj: Any,
) -> str:
    """The name generated code uses for ``obj``: the user's own name when it already
    denotes ``obj``, a name bound before, or a new hygienic one added to ``bindings``."""
    if free_objects.get(preferred, _NOTHING) is obj:
        return preferred
    for name, bound in bindings.items():
        if bound is obj:
            return name
    name = names.fresh(preferred)
    bindings[name] = obj
    return name
