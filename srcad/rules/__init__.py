"""The derivative table (see :mod:`srcad.rules.table`); importing this loads every family."""

from . import (  # noqa: F401  (registering the built-in rules)
    numpy_arrays,
    numpy_linalg,
    numpy_scalar,
    numpy_standard,
    numpy_stats,
    random_draws,
    scalar,
)
from .table import TABLE, Rule, RuleTable, defrule, match


def _load_statistics_rules() -> None:
    from . import python_statistics  # noqa: F401  (registers the rules)


def _load_scipy_special_rules() -> None:
    from . import scipy_special  # noqa: F401  (registers the rules)


def _load_scipy_linalg_rules() -> None:
    from . import scipy_linalg  # noqa: F401  (registers the rules)


def _load_scipy_spatial_rules() -> None:
    from . import scipy_spatial  # noqa: F401  (registers the rules)


def _load_scipy_stats_rules() -> None:
    from . import scipy_stats  # noqa: F401  (registers the rules)


def _load_scipy_signal_rules() -> None:
    from . import scipy_signal  # noqa: F401  (registers the rules)


def _load_scipy_optimize_rules() -> None:
    from . import scipy_optimize  # noqa: F401  (registers the rules)


def _load_scipy_integrate_rules() -> None:
    from . import scipy_integrate  # noqa: F401  (registers the rules)


def _load_scipy_ndimage_rules() -> None:
    from . import scipy_ndimage  # noqa: F401  (registers the rules)


TABLE.defer("statistics", _load_statistics_rules)
TABLE.defer("scipy.special", _load_scipy_special_rules)
TABLE.defer("scipy.linalg", _load_scipy_linalg_rules)
TABLE.defer("scipy.spatial.distance", _load_scipy_spatial_rules)
TABLE.defer("scipy.stats", _load_scipy_stats_rules)
TABLE.defer("scipy.signal", _load_scipy_signal_rules)
TABLE.defer("scipy.ndimage", _load_scipy_ndimage_rules)
TABLE.defer("scipy.optimize", _load_scipy_optimize_rules)
TABLE.defer("scipy.integrate", _load_scipy_integrate_rules)

__all__ = ["TABLE", "Rule", "RuleTable", "defrule", "match"]
