"""Array namespaces: ``xp = array_namespace(x)`` (see :mod:`srcad.array_api`)."""

from __future__ import annotations

import ast
from typing import Any

import numpy as np

from .. import array_api, ir
from .values import LoweringPart, Scope


class Namespaces(LoweringPart):
    """The lowerer's part for array namespaces (see the module)."""

    def namespace_name(self) -> ir.Name:
        """The one name generated code calls the namespace by (numpy while lowering)."""
        marker = self.bindings.get(array_api.MARKER)
        if marker is None:
            marker = array_api.Marker(self.names.own("xp"))
            self.bindings[array_api.MARKER] = marker
            self.bindings[marker.name] = np
        return ir.Name(marker.name)

    def namespace_use(self, scope: Scope, node: ast.expr) -> Any:
        """:data:`array_api.NAMESPACE` for ``array_namespace(...)`` and
        ``x.__array_namespace__()``; refuses ``xp.<name>`` that srcad does not support."""
        if isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute) and func.attr == "__array_namespace__"
            ) or array_api.is_namespace_getter(self.denote(scope, func).static):
                self.namespace_name()
                return array_api.NAMESPACE
            node = func
        path = self.namespace_path(scope, node)
        if path and array_api.numpy_twin(path) is None:  # (xp.<a name srcad cannot run>)
            raise array_api.refusal(path, scope.source.location(node))
        return None
