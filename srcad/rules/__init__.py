"""The derivative table (see :mod:`srcad.rules.table`); importing this loads every family."""

from . import numpy_arrays, numpy_scalar, scalar  # noqa: F401  (registering the built-in rules)
from .table import TABLE, Rule, RuleTable, defrule, match

__all__ = ["TABLE", "Rule", "RuleTable", "defrule", "match"]
