"""Lower: a function's AST becomes a forward listing, one primitive operation per line.

Nested expressions are split into temporaries (``t1``, ``t2``, ...), a re-assigned
variable gets a new version (``x``, ``x_1``, ...), and calls to the user's own helper
functions are inlined from their source. Each operation is matched against the
derivative table; a multi-operation idiom (the sigmoid) stays one gate.

The package, by construct: :mod:`.lowerer` (the entry point and the lowerer's state),
:mod:`.statements`, :mod:`.with_try`, :mod:`.joins` (SSA joins of branches),
:mod:`.loops` (loops and their back edges), :mod:`.iterators` (the ``itertools``
iterators a loop runs over), :mod:`.lists`, :mod:`.expressions`,
:mod:`.operations` (rule selection), :mod:`.namespaces`, :mod:`.inlining` and
:mod:`.objects`; :mod:`.resolve` answers what a name denotes (one resolver for all of
them), and :mod:`.values` holds what they share. A statement is lowered by the
method named for its AST class, ``lower_<Node>`` (``lower_Assign``, ``lower_If`` in
:mod:`.joins`, ``lower_For`` in :mod:`.loops`), which :meth:`.Statements.lower_statement`
finds by name; an expression likewise (``lower_Call``, ``lower_Subscript`` in
:mod:`.expressions`), found by :meth:`.Expressions.lower_expr`.
"""

from ..errors import Location
from .lowerer import Lowerer, lower

__all__ = ["Location", "Lowerer", "lower"]
