"""srcad: source-transformation automatic differentiation for Python.

``@srcad.grad`` reads a numeric function's source, lowers it to a forward listing (one
primitive operation per line), writes its adjoint as readable Python source in the
style of a hand-written backprop listing, and compiles it.
"""

from . import rules  # noqa: F401  (loads the derivative table)
from .api import export, grad, show, value_and_grad, vjp
from .check import check_grad, numeric_grad
from .custom import defgrad, stop_gradient
from .errors import (
    CompiledBackendError,
    NonScalarOutputError,
    NoRuleError,
    SourceError,
    SrcadError,
    UnsupportedSyntaxError,
    WrtError,
)
from .export import ExportError
from .higher import hessian, hessp, hvp, jacobian, jvp
from .rules.table import defrule
from .version import __version__ as __version__

__all__ = [
    "grad",
    "value_and_grad",
    "check_grad",
    "show",
    "numeric_grad",
    "defrule",
    "defgrad",
    "stop_gradient",
    "jvp",
    "vjp",
    "jacobian",
    "hessian",
    "hvp",
    "hessp",
    "export",
    "ExportError",
    "SrcadError",
    "SourceError",
    "UnsupportedSyntaxError",
    "NoRuleError",
    "NonScalarOutputError",
    "WrtError",
    "CompiledBackendError",
]
