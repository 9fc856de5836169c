"""Name resolution at the AST/IR level (srcad/lower/resolve.py).

``Resolver.denote`` is the one answer to "what does this name, or these attributes of
one, denote when srcad compiles": a module, a function, a class, a constant, an object
srcad knows, or nothing. These tests pin down each case on a scope made by hand, and
``Resolver.reference``: how generated code names a free name.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import sys
from dataclasses import replace

import numpy as np
import pytest

from srcad import ir
from srcad.frontend import read_function
from srcad.lower import Lowerer
from srcad.lower.resolve import NOTHING, Denotation, Kind
from srcad.lower.values import NOT_STATIC, Scope, Static, assigned_names, returning
from srcad.pyexpr import written
from srcad.rules import TABLE

SCALE = 2.5


@dataclasses.dataclass
class Layer:
    w: float

    def forward(self, x):
        return self.w * x


@dataclasses.dataclass
class Model:
    layer: Layer


MODEL = Model(Layer(3.0))
LAYER = Layer(2.0)


def _make_closure():
    offset = 1.5

    def f(x, model):
        local = x * offset
        alias = np.tanh
        return alias(local) + SCALE + math.pi + model.layer.w

    return f


F = _make_closure()


def _expr(source: str) -> ast.expr:
    return ast.parse(source, mode="eval").body


@pytest.fixture
def lowerer():
    return Lowerer(read_function(F), TABLE)


@pytest.fixture
def scope(lowerer):
    fn = lowerer.root.node
    root = Scope(lowerer.root, local_names=frozenset(assigned_names(fn)), is_root=True, node=fn)
    root.env["x"] = ir.Name("x")
    root.env["model"] = ir.Name("model")
    return root


def test_a_global_is_fixed_and_looked_up_in_the_globals(lowerer, scope):
    denoted = lowerer.denote(scope, _expr("SCALE"))
    assert denoted.obj == 2.5 and denoted.fixed and denoted.kind is Kind.CONSTANT
    assert denoted.lookup() == 2.5
    global SCALE
    try:
        SCALE = 4.0  # (the lookup finds what the name holds when the gradient is called)
        assert denoted.lookup() == 4.0
    finally:
        SCALE = 2.5


def test_a_closure_cell_is_read_through_the_cell(lowerer, scope):
    denoted = lowerer.denote(scope, _expr("offset"))
    assert denoted.obj == 1.5 and denoted.fixed and denoted.lookup() == 1.5
    (cell,) = [c for n, c in lowerer.root.closure.items() if n == "offset"]
    cell.cell_contents = 7.0
    assert denoted.lookup() == 7.0


def test_a_module_attribute_is_read_and_chained(lowerer, scope):
    module = lowerer.denote(scope, _expr("np"))
    assert module.obj is np and module.kind is Kind.MODULE
    norm = lowerer.denote(scope, _expr("np.linalg.norm"))
    assert norm.obj is np.linalg.norm and norm.fixed and norm.kind is Kind.FUNCTION
    assert norm.lookup() is np.linalg.norm
    assert lowerer.denote(scope, _expr("math.pi")).obj == math.pi
    assert lowerer.denote(scope, _expr("np.no_such_name")) == NOTHING


def test_ir_and_written_forms_denote_the_same(lowerer, scope):
    spelled = ir.Attr(ir.Name("np"), "tanh")
    assert lowerer.denote(scope, spelled).obj is np.tanh
    call = written(_expr("np.tanh(x)"))
    assert lowerer.denote(scope, call.parts()[0]).obj is np.tanh
    assert lowerer.denote(scope, call) == NOTHING  # (a call denotes no object)


def test_a_class_and_a_method_of_a_fixed_object(lowerer, scope):
    cls = lowerer.denote(scope, _expr("Layer"))
    assert cls.obj is Layer and cls.kind is Kind.CLASS and cls.fixed
    layer = lowerer.denote(scope, _expr("LAYER"))
    assert layer.obj is LAYER and layer.kind is Kind.OBJECT and layer.known is layer
    method = lowerer.denote(scope, _expr("LAYER.forward"))  # (bound: binding runs no code)
    assert method.fixed and method.obj.__func__ is Layer.forward and method.obj.__self__ is LAYER
    assert method.kind is Kind.FUNCTION and method.lookup().__func__ is Layer.forward
    assert lowerer.denote(scope, _expr("LAYER.w")) == NOTHING  # (a field: not fixed)


def test_a_field_and_a_method_of_a_known_object(lowerer, scope):
    """An object srcad knows (a global's field, a parameter a bound method fixes) is read
    when the gradient runs: its fields that hold objects are known too, never fixed."""
    inner = lowerer.denote(scope, _expr("MODEL.layer"))
    assert inner.obj is MODEL.layer and not inner.fixed and inner.known is inner
    assert inner.static is NOT_STATIC and inner.lookup() is MODEL.layer
    assert lowerer.denote(scope, _expr("MODEL.layer.forward")) == NOTHING
    model = Model(Layer(2.0))
    lowerer.known_objects()["model"] = Denotation(model, False, returning(model))
    denoted = lowerer.denote(scope, _expr("model.layer"))
    assert denoted.obj is model.layer and not denoted.fixed and denoted.lookup() is model.layer


def test_a_local_alias_of_a_function_is_that_function(lowerer, scope):
    scope.statics["alias"] = Static(np.tanh, ir.Attr(ir.Name("np"), "tanh"), returning(np.tanh))
    denoted = lowerer.denote(scope, _expr("alias"))
    assert denoted.obj is np.tanh and denoted.fixed and denoted.function is np.tanh
    assert lowerer.reference(scope, ir.Name("alias")) == ir.Attr(ir.Name("np"), "tanh")


def test_local_variables_and_unknown_names_denote_nothing(lowerer, scope):
    assert lowerer.denote(scope, _expr("x")) == NOTHING  # (a parameter: a value)
    assert lowerer.denote(scope, _expr("local")) == NOTHING  # (assigned, not yet lowered)
    assert lowerer.denote(scope, _expr("no_such_name")) == NOTHING
    assert lowerer.denote(scope, _expr("x.shape")) == NOTHING
    assert lowerer.denote(scope, _expr("x[0]")) == NOTHING
    assert NOTHING.kind is Kind.NOTHING and NOTHING.lookup() is NOT_STATIC


def test_a_nested_function_sees_the_enclosing_variables(lowerer, scope):
    inner = Scope(lowerer.root, local_names=frozenset(), node=scope.node, parent=scope)
    assert lowerer.denote(inner, _expr("x")) == NOTHING  # (the outer function's variable)
    assert lowerer.denote(inner, _expr("SCALE")).obj == 2.5


def test_a_names_reference(lowerer, scope):
    assert lowerer.reference(scope, ir.Name("SCALE")) == ir.Name("SCALE")
    assert lowerer.free_objects["SCALE"] == 2.5
    assert lowerer.reference(scope, ir.Name("offset")) == ir.Name("offset")
    assert "offset" in lowerer.free_cells
    helper = replace(scope, is_root=False, source=read_function(_make_closure))
    # (another function's global number: read from its module when the gradient runs,
    # under a name no local of the listing takes; a module: by the root's own name)
    assert lowerer.reference(helper, ir.Name("SCALE")) == ir.Attr(ir.Name("test_resolve"), "SCALE")
    assert lowerer.bindings["test_resolve"] is sys.modules[__name__]
    assert lowerer.reference(helper, ir.Name("np")) == ir.Name("np")
