"""The SSA joins of lowering, at the IR level (srcad/lower/joins.py, srcad/lower/loops.py).

Where an ``if`` or a loop's back edge merges values, each path ends by giving the merged
name its value: by renaming the path's own definition when that is safe, else by a copy.
Two silently wrong gradients came from here (a definition renamed although the path read
the merged name after it; an in-place update named after the value it reads), and one
from copies at a back edge run one after the other (``c, b = 0.5, c``). These tests pin
each rule down on hand-made listings, and check the lowered code runs as Python would.
"""

from __future__ import annotations

import pytest

from srcad import ir
from srcad.errors import SrcadError
from srcad.frontend import read_function
from srcad.lower import Lowerer
from srcad.lower.values import Scope, TupleValue
from srcad.rules import TABLE
from srcad.rules.table import COPY

N, C, B = ir.Name, ir.Const, ir.BinOp


def _placeholder(x):
    return x


@pytest.fixture
def lowerer():
    return Lowerer(read_function(_placeholder), TABLE)


def _assign(target, value, *, in_place=False):
    return ir.Assign(target, value, None, (), tag=1, in_place=in_place)


def test_a_paths_own_definition_is_renamed_to_the_merged_name(lowerer):
    stmts = [_assign("t1", B("*", N("x"), C(2.0)))]
    renamed: dict[str, str] = {}
    out = lowerer.phi(stmts, N("t1"), "x_2", renamed)
    assert [s.target for s in out] == ["x_2"] and renamed == {"t1": "x_2"}
    assert not any(s.rule is COPY for s in out)


def test_a_definition_followed_by_a_read_of_the_merged_name_is_copied(lowerer):
    """``x_2`` still holds its value from before the ``if`` on this path after ``t1``
    is made: renaming ``t1`` to ``x_2`` would change what the later line reads."""
    stmts = [_assign("t1", B("*", N("x"), C(2.0))), _assign("t2", B("+", N("x_2"), C(1.0)))]
    out = lowerer.phi(list(stmts), N("t1"), "x_2", {})
    assert out[:2] == stmts
    assert out[2].target == "x_2" and out[2].value == N("t1") and out[2].rule is COPY


def test_an_in_place_update_that_reads_the_merged_name_is_copied(lowerer):
    """``x_1 = v; x_1 -= x_1`` would subtract the new value from itself."""
    update = _assign("v", B("-", N("v"), N("x_1")), in_place=True)
    out = lowerer.phi([update], N("v"), "x_1", {})
    assert out[0] == update and out[1].target == "x_1" and out[1].value == N("v")


def test_a_constant_or_an_outer_value_is_copied(lowerer):
    for value in (C(0.5), N("outer")):
        out = lowerer.phi([], value, "m", {})
        assert len(out) == 1 and out[0].target == "m" and out[0].value == value
        assert out[0].rule is COPY


def test_a_tuple_that_differs_between_paths_is_refused(lowerer):
    with pytest.raises(SrcadError, match="tuple value that differs"):
        lowerer.phi([], TupleValue((N("a"), N("b"))), "m", {})


def test_copies_at_a_back_edge_happen_at_once(lowerer):
    """``c, b = 0.5, c`` in a loop: ``b`` gets the old ``c``, saved before ``c`` is
    written; a value that is no other copy's target is copied directly."""
    for name in ("a", "b", "c", "z"):  # (names the function uses)
        lowerer.names.own(name)
    stmts, copies = lowerer.parallel([], {"c": C(0.5), "b": N("c"), "a": N("z")})
    assert copies["c"] == C(0.5) and copies["a"] == N("z")
    (saved,) = stmts
    assert saved.value == N("c") and copies["b"] == N(saved.target) != N("c")


def test_branches_merge_each_variable_that_differs(lowerer):
    scope = Scope(read_function(_placeholder), is_root=True)
    before = {"x": N("x"), "y": N("y")}
    then = ([_assign("t1", B("*", N("x"), C(2.0)))], {"x": N("t1"), "y": N("y")})
    other = ([], {"x": N("x"), "y": N("y")})
    blocks = lowerer.merge_branches(scope, before, [then, other], lambda v: f"{v}_m")
    assert [s.target for s in blocks[0]] == ["x_m"]  # (t1 renamed)
    assert [(s.target, s.value) for s in blocks[1]] == [("x_m", N("x"))]  # (a copy)
    assert scope.env["x"] == N("x_m") and scope.env["y"] == N("y")  # (y is the same)
