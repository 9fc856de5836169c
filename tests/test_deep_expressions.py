"""Code nested hundreds of levels deep: expressions as a computer algebra system prints them
(a polynomial of 200 terms, a Horner form): srcad's passes walk expressions
recursively, and read an operation's operands as written, so these crashed with
RecursionError, or took time growing with the square of their length (round 59). They
are computed in parts (``srcad.desugar._in_parts``). Long elif chains likewise crashed in
generated code (``srcad.emit._tested_first``). Each gradient is checked four ways
and against the exact derivative of the polynomial."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
from conftest import check_four_ways, module_from_source

import srcad


def _module(tmp_path: Path, name: str, source: str):
    return module_from_source(tmp_path, name, source)


def _coefficient(i: int) -> float:
    return (i % 7 + 1) * 1e-3


def test_a_sum_of_hundreds_of_terms(tmp_path):
    terms = " + ".join(f"{_coefficient(i)} * x ** {i % 11}" for i in range(600))
    module = _module(tmp_path, "pasted_polynomial", f"def energy(x):\n    return {terms}\n")
    start = time.perf_counter()
    gradient = srcad.grad(module.energy)(0.5)
    assert time.perf_counter() - start < 20.0  # (quadratic before: about 13 s)
    exact = sum(_coefficient(i) * (i % 11) * 0.5 ** (i % 11 - 1) for i in range(600) if i % 11)
    assert gradient == pytest.approx(exact, rel=1e-12)
    check_four_ways(module.energy, 0.5)


def test_a_horner_form_nested_to_the_right(tmp_path):
    nested = "0.5"
    for i in range(150):
        nested = f"{_coefficient(i)} + x * ({nested})"
    module = _module(tmp_path, "horner_form", f"def energy(x):\n    return {nested}\n")
    check_four_ways(module.energy, 0.7)


def test_parts_keep_the_order_of_effects(tmp_path):
    # (a call left of a deep sum runs first: the sum is not computed in parts before it)
    terms = " + ".join(f"x * {i}.0" for i in range(80))
    source = f"import math\n\n\ndef energy(x):\n    return math.sin(x) * x * ({terms})\n"
    module = _module(tmp_path, "ordered_parts", source)
    assert "partial" not in srcad.grad(module.energy).forward_source
    check_four_ways(module.energy, 0.3)
    exact = (math.cos(0.3) * 0.3 + math.sin(0.3)) * 0.3 * 3160.0 + math.sin(0.3) * 0.3 * 3160.0
    assert srcad.grad(module.energy)(0.3) == pytest.approx(exact, rel=1e-12)


def test_an_elif_chain_of_a_hundred_and_twenty_branches(tmp_path):
    # (a tabulated coefficient: the generated code nested an if per elif, and Python
    # refuses code nested a hundred levels deep; the tests here compute a value first)
    lines = ["def heat_capacity(T, scale):", "    if T * scale < 200.0:", "        c = 1.0"]
    for k in range(1, 120):
        lines += [f"    elif T * scale < {200.0 + 10 * k}:", f"        c = {1.0 + 0.01 * k} * T"]
    lines += ["    else:", "        c = 3.0 * T * T", "    return c * scale"]
    module = _module(tmp_path, "tabulated", "\n".join(lines) + "\n")
    for T in (150.0, 555.0, 1500.0):
        check_four_ways(module.heat_capacity, T, 1.0, wrt=(0, 1))
    assert srcad.grad(module.heat_capacity)(555.0, 1.0) == pytest.approx(1.0 + 0.01 * 36)
