"""A faster :func:`ast.walk`: the same nodes, in the same order, as lazily.

``ast.walk`` asks ``ast.iter_child_nodes``, a generator over ``ast.iter_fields``,
another generator, for each node's children: about half its time. srcad walks each
function it reads a dozen times (checks, desugaring, lowering), so that cost counts.
"""

from __future__ import annotations

import ast
import weakref
from collections import deque
from collections.abc import Iterator


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under ``node`` (itself first), breadth first, as ``ast.walk``."""
    todo = deque([node])
    while todo:
        node = todo.popleft()
        for name in node._fields:
            child = getattr(node, name, None)
            if isinstance(child, ast.AST):
                todo.append(child)
            elif isinstance(child, list):
                todo.extend(item for item in child if isinstance(item, ast.AST))
        yield node


_NODES: weakref.WeakKeyDictionary[ast.AST, tuple[ast.AST, ...]] = weakref.WeakKeyDictionary()


def nodes(function: ast.AST) -> tuple[ast.AST, ...]:
    """Every node under ``function``, as :func:`walk` yields them, listed once per tree.

    For the user's function as parsed, which srcad never changes (desugaring and
    specialising make copies): the checks, desugaring and lowering each ask it."""
    found = _NODES.get(function)
    if found is None:
        found = _NODES[function] = tuple(walk(function))
    return found
