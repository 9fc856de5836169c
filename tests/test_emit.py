"""The expression printer: its output must parse to the same tree astor prints."""

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srcad import ir
from srcad.emit import expression, expression_via_astor

leaves = st.one_of(
    st.sampled_from([ir.Name("a"), ir.Name("b"), ir.Name("g")]),
    st.sampled_from([ir.Const(2), ir.Const(-1), ir.Const(0.5), ir.Const(-2.5), ir.Const(0)]),
)


def _grow(children):
    return st.one_of(
        st.builds(ir.BinOp, st.sampled_from(["+", "-", "*", "/", "**", "@", "//", "%"]),
                  children, children),
        st.builds(ir.UnaryOp, st.sampled_from(["-", "+", "not"]), children),
        st.builds(ir.Compare, st.sampled_from(["<", ">=", "==", "is not"]), children, children),
        st.builds(lambda f, x: ir.Call(ir.Attr(ir.Name("np"), f), (x,)),
                  st.sampled_from(["exp", "sum"]), children),
        st.builds(lambda x: ir.Attr(x, "T"), children),
        st.builds(lambda x, i: ir.Subscript(x, i), children, leaves),
        st.builds(lambda x, y: ir.BoolOp("and", (x, y)), children, children),
    )


expressions = st.recursive(leaves, _grow, max_leaves=12)


def _tree(text: str) -> str:
    return ast.dump(ast.parse(text, mode="eval"))


@settings(max_examples=400, deadline=None)
@given(expressions)
def test_printer_agrees_with_astor(expr):
    assert _tree(expression(expr)) == _tree(expression_via_astor(expr))


@pytest.mark.parametrize("expr, text", [
    (ir.BinOp("**", ir.Const(-2.0), ir.Const(2)), "(-2.0) ** 2"),
    (ir.UnaryOp("-", ir.BinOp("**", ir.Name("a"), ir.Const(2))), "-a ** 2"),
    (ir.BinOp("-", ir.Name("a"), ir.BinOp("-", ir.Name("b"), ir.Name("c"))), "a - (b - c)"),
    (ir.BinOp("**", ir.Name("a"), ir.BinOp("**", ir.Name("b"), ir.Name("c"))), "a ** b ** c"),
    (ir.BinOp("**", ir.BinOp("**", ir.Name("a"), ir.Name("b")), ir.Name("c")), "(a ** b) ** c"),
    (ir.Subscript(ir.Name("a"), ir.Tuple((ir.Slice(), ir.Const(0)))), "a[:, 0]"),
    (ir.Call(ir.Name("f"), (ir.Tuple((ir.Slice(None, ir.Name("n")), ir.Name("i"))),)),
     "f((slice(None, n), i))"),
])
def test_printer_reads_like_hand_written_code(expr, text):
    assert expression(expr) == text
