"""srcad.chains: the one walk from a name, or a chain of attributes of one, to the object
it denotes when srcad compiles, shared by the checks before lowering, the rule table
and the lowerer's resolver; it reads only attributes whose reading runs no code."""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest
import scipy.stats

from srcad import frontend, ir
from srcad.chains import MISSING, chain_names, follow, static_attribute, static_chain


class Watched:
    """An object whose attribute reads are seen: srcad must never run them."""

    reads = 0

    def __init__(self) -> None:
        self.field = np.tanh

    @property
    def prop(self):
        Watched.reads += 1
        return np.tanh

    def __getattr__(self, name):
        Watched.reads += 1
        return np.tanh

    def method(self, x):
        return x


class Outer:
    class Inner:
        value = 3


WATCHED = Watched()
NAMES = {"np": np, "math": math, "scipy": scipy, "watched": WATCHED, "Outer": Outer}


def lookup(name):
    return NAMES.get(name, MISSING)


def expr(text):
    return ast.parse(text, mode="eval").body


def test_missing_is_frontends():
    assert frontend.MISSING is MISSING
    assert repr(MISSING) == "MISSING"


@pytest.mark.parametrize(
    "node",
    [expr("np.linalg.norm"), ir.Attr(ir.Attr(ir.Name("np"), "linalg"), "norm")],
)
def test_chain_names_of_ast_and_ir(node):
    assert chain_names(node) == ("np", "linalg", "norm")


@pytest.mark.parametrize("text", ["f(x).y", "x[0].y", "(a + b).c", "1"])
def test_chain_names_of_anything_else(text):
    assert chain_names(expr(text)) is None
    assert static_chain(expr(text), lookup) is MISSING


def test_chain_names_of_a_name():
    assert chain_names(expr("x")) == ("x",)
    assert chain_names(ir.Name("x")) == ("x",)


def test_module_class_and_ufunc_attributes_are_read():
    assert static_chain(expr("np.linalg.norm"), lookup) is np.linalg.norm
    assert static_chain(expr("math.pi"), lookup) == math.pi
    assert static_chain(expr("Outer.Inner.value"), lookup) == 3
    assert static_chain(expr("np.add.at"), lookup) == np.add.at
    assert static_chain(("np", "ndarray"), lookup) is np.ndarray


def test_a_name_alone_is_its_lookup():
    assert static_chain(expr("np"), lookup) is np
    assert static_chain(expr("watched"), lookup) is WATCHED


def test_unbound_names_and_absent_attributes_are_missing():
    assert static_chain(expr("nowhere"), lookup) is MISSING
    assert static_chain(expr("nowhere.attr"), lookup) is MISSING
    assert static_chain(expr("np.no_such_function"), lookup) is MISSING
    assert static_chain(expr("np.no_such.deeper"), lookup) is MISSING


def test_a_python_method_of_an_object_is_bound():
    logpdf = static_chain(expr("scipy.stats.norm.logpdf"), lookup)
    assert logpdf.__self__ is scipy.stats.norm
    assert logpdf.__func__ is type(scipy.stats.norm).logpdf
    method = static_chain(expr("watched.method"), lookup)
    assert method.__self__ is WATCHED and method(2) == 2


def test_other_attributes_of_an_object_are_not_read():
    before = Watched.reads
    assert static_chain(expr("watched.prop"), lookup) is MISSING  # a property
    assert static_chain(expr("watched.anything"), lookup) is MISSING  # __getattr__
    assert Watched.reads == before


def test_a_function_an_object_holds_is_read_as_python_reads_it():
    # (cfg.act = np.tanh: reading it from the instance's dict runs no code; the
    # instance's shadows its class's method, as in Python)
    assert static_chain(expr("watched.field"), lookup) is np.tanh
    shadowed = Watched()
    shadowed.method = np.tanh
    assert static_attribute(shadowed, "method") is np.tanh
    shadowed.number = 2.0  # (a value, not a function: not read)
    assert static_attribute(shadowed, "number") is MISSING


def test_attributes_of_missing_stay_missing():
    assert static_attribute(MISSING, "__repr__") is MISSING


def test_follow_carries_what_the_asker_carries():
    def root(name):
        return (name,)

    def step(found, attr):
        return (*found, attr)

    assert follow(("a", "b", "c"), root, step) == ("a", "b", "c")


def test_every_rule_is_filed_under_what_its_pattern_calls():
    """The rule table looks a pattern's function up in the rule's own ``env`` by the same
    walk: each rule that calls something is filed under that object."""
    from srcad.rules import TABLE
    from srcad.rules.table import callee_key

    TABLE.candidates(("binop", "+"))  # (loads the rules deferred until their module is in use)
    called = 0
    for key, rules in TABLE._by_key.items():
        for rule in rules:
            if key[0] != "call":
                continue
            assert isinstance(rule.pattern, ir.Call)
            env = rule.env
            found = static_chain(rule.pattern.func, lambda n, env=env: env.get(n, MISSING))
            assert found is not MISSING and callee_key(found) == key
            called += 1
    assert called > 100


RNG = np.random.default_rng(0)


def _refused_twice(x):
    unsupported = {1, 2}  # (a set display: the check lists the calls without rules too)
    return np.sum(RNG.normal(x, 1.0)) + WATCHED.prop(x) + len(unsupported)


def test_the_check_before_lowering_reads_no_attribute_that_runs_code():
    """subset's list of calls without rules: a compiled method of a global object is
    found through its class (``RNG.normal``: ``Generator.normal``), and a property of a
    global object is never read."""
    import srcad

    before = Watched.reads
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(_refused_twice)(np.ones(3))
    assert Watched.reads == before
    assert "set displays are not supported" in str(info.value)
    assert "`RNG.normal` has no derivative rule" in str(info.value)


def test_specializing_reads_module_attributes_and_no_property():
    """An identity test against a global object's attribute is decided when the chain
    reads only modules (``np._NoValue``) and left to the program otherwise."""
    import textwrap

    from srcad.specialize import specialize

    source = textwrap.dedent(
        """
        def f(x, keepdims=np._NoValue):
            if keepdims is np._NoValue:
                return x
            if keepdims is watched.prop:
                return -x
            return 2 * x
        """
    )
    fn = ast.parse(source).body[0]
    before = Watched.reads
    node, deciding = specialize(fn, {"keepdims": np._NoValue}, lookup)
    assert ast.unparse(node).splitlines()[1:] == ["    return x"]
    assert deciding == {"keepdims"}
    node, deciding = specialize(fn, {"keepdims": None}, lookup)
    assert "watched.prop" in ast.unparse(node) and deciding == {"keepdims"}
    assert Watched.reads == before
