"""Bad input is refused with a SrcadError that points at the user's code.

Each offending construct carries a trailing ``# <tag>`` comment; the expected
line number is found by searching this file for it (``conftest.marker_line``),
so editing the file never silently breaks the line arithmetic.
"""

import collections
import contextlib
import dataclasses
import itertools
import math
import operator
import os
import random
import sys
import types
from math import ulp

import numpy as np
import pytest

import srcad

sys.path.insert(0, os.path.dirname(__file__))
import library_like  # noqa: E402
from conftest import check_four_ways, marker_line  # noqa: E402

THIS_FILE = os.path.basename(__file__)


def expect_location(e, tag):
    """Common assertions on a SrcadError that must point at ``# <tag>``."""
    assert isinstance(e, srcad.SrcadError), f"{type(e).__name__}: {e}"
    assert isinstance(e.filename, str)
    assert e.filename.endswith(THIS_FILE), f"filename {e.filename!r} is not the user's file"
    assert e.lineno == marker_line(__file__, tag), f"lineno {e.lineno} for {tag!r}: {e}"
    assert isinstance(e.col_offset, int) and e.col_offset >= 0
    assert str(e).startswith(f"{e.filename}:{e.lineno}:"), str(e)


# ---------------------------------------------------------------- unsupported statements

_CTX = contextlib.nullcontext()
_NS = types.SimpleNamespace(a=0.0)
_G = 0.0


def has_try(x):  # a `try` statement runs as plain Python: refused where it reads x
    try:
        y = x * 2.0  # <try>
    except ValueError:
        y = x
    return y


def has_with(x):  # the manager must be made by a call in the `with` line
    with _CTX:  # <with>
        y = x * 2.0
    return y


def has_yield(x):
    y = x * 2.0
    z = yield y  # <yield>
    return z * x


def has_global(x):
    global _G  # <global>
    _G = x
    return x * x


def has_attr_write(x):
    y = x * 2.0
    _NS.a = y  # <attr>
    return y * x


def has_del(x):
    items = {"a": x * 2.0, "b": x}  # (del of one item of a list is supported)
    del items["a"]  # <del>
    return items["b"] * x


STATEMENT_CASES = [
    (has_try, "try"),
    (has_with, "with"),
    (has_yield, "yield"),
    (has_global, "global"),
    (has_attr_write, "attr"),
    (has_del, "del"),
]


@pytest.mark.parametrize("make", [srcad.grad, srcad.value_and_grad], ids=["grad", "vg"])
@pytest.mark.parametrize("f, tag", [pytest.param(f, t, id=t) for f, t in STATEMENT_CASES])
def test_unsupported_statement_refused_at_decoration(make, f, tag):
    with pytest.raises(srcad.SrcadError) as info:
        make(f)
    expect_location(info.value, tag)


# ---------------------------------------------------------------- unknown callees


def calls_ulp(x):
    y = x * 2.0
    return math.ulp(y)  # <ulp>


def calls_fmod(x):
    y = x * x
    return y + math.ulp(x)  # <fmod>


def calls_bare_remainder(x):
    return ulp(x) * x  # <remainder>


_exec_ns = {}
exec("def exec_helper(z):\n    return z * z\n", _exec_ns)
exec_helper = _exec_ns["exec_helper"]


def calls_exec_helper(x):
    y = x + 1.0
    return exec_helper(y) * x  # <exec-helper>


def helper_with_fmod(z):
    w = z + 1.0
    return math.ulp(w) * z  # <helper-fmod>


def calls_bad_helper(x):
    return helper_with_fmod(x * x) + x


CALLEE_CASES = [
    (calls_ulp, "ulp", "ulp"),
    (calls_fmod, "fmod", "ulp"),
    (calls_bare_remainder, "remainder", "ulp"),
    (calls_exec_helper, "exec-helper", "exec_helper"),
    (calls_bad_helper, "helper-fmod", "ulp"),
]


@pytest.mark.parametrize("make", [srcad.grad, srcad.value_and_grad], ids=["grad", "vg"])
@pytest.mark.parametrize("f, tag, name", [pytest.param(*c, id=c[1]) for c in CALLEE_CASES])
def test_unknown_callee_refused_at_decoration(make, f, tag, name):
    # never a silent zero gradient: the decoration itself must fail
    with pytest.raises(srcad.SrcadError) as info:
        make(f)
    e = info.value
    expect_location(e, tag)
    msg = str(e)
    assert name in msg, f"message does not name {name!r}: {msg}"
    assert "rule" in msg.lower(), f"message does not say how to add a rule: {msg}"


# ---------------------------------------------------------------- not a Python function


square_lambda = lambda x: x * x  # noqa: E731


def test_lambda_is_read_from_its_line():
    # A lambda is differentiated from its source line (issue 14); one made by exec()
    # has no source: the error points at the srcad.grad call.
    assert srcad.grad(lambda x: x * x)(3.0) == 6.0
    assert srcad.grad(square_lambda)(-2.0) == -4.0
    exec_lambda = eval("lambda x: x * x")
    with pytest.raises(srcad.SourceError) as info:
        srcad.grad(exec_lambda)  # <lambda-no-source>
    expect_location(info.value, "lambda-no-source")
    assert "lambda" in info.value.message


def test_builtin_function_without_a_rule():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(math.ulp)  # <builtin>
    expect_location(info.value, "builtin")


def test_numpy_ufunc_without_a_rule():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(np.spacing)  # <ufunc>
    expect_location(info.value, "ufunc")


def test_builtins_and_ufuncs_with_a_rule_are_differentiated_by_it():
    assert srcad.grad(math.sin)(0.4) == pytest.approx(math.cos(0.4), rel=1e-15)
    assert srcad.grad(np.sin)(0.4) == pytest.approx(math.cos(0.4), rel=1e-15)
    assert srcad.grad(math.atan2, wrt=(0, 1))(0.3, 0.4) == pytest.approx((0.4 / 0.25, -0.3 / 0.25))


_exec_ns2 = {}
exec("def no_source(x):\n    return x * x\n", _exec_ns2)
no_source = _exec_ns2["no_source"]


def test_function_without_source():
    # exec'd functions have co_filename "<string>": the error must still point
    # at the user's file, i.e. at the srcad.grad call.
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(no_source)  # <exec>
    expect_location(info.value, "exec")


def test_value_and_grad_of_builtin():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.value_and_grad(math.ulp)  # <vg-builtin>
    expect_location(info.value, "vg-builtin")


# ---------------------------------------------------------------- non-scalar results


def returns_array(x):
    y = np.exp(x) * 2.0
    return y + 1.0  # <ret-array>


def returns_tuple(x, y):
    a = x * y
    return a, x  # <ret-tuple>


def test_array_result_is_error_at_call_time():
    g = srcad.grad(returns_array)  # decorating is fine: x may be a float
    assert g(0.5) == pytest.approx(2.0 * math.exp(0.5), rel=1e-12)
    with pytest.raises(srcad.SrcadError) as info:
        g(np.array([0.5, 1.5]))
    expect_location(info.value, "ret-array")


def test_array_result_value_and_grad():
    vg = srcad.value_and_grad(returns_array)
    with pytest.raises(srcad.SrcadError) as info:
        vg(np.array([0.5, 1.5]))
    expect_location(info.value, "ret-array")


def test_tuple_result_is_error():
    # The spec says "at call time"; refusing `return a, x` already at decoration
    # time is also accepted, as long as it points at the return line.
    with pytest.raises(srcad.SrcadError) as info:
        g = srcad.grad(returns_tuple)
        g(1.0, 2.0)
    expect_location(info.value, "ret-tuple")


# ---------------------------------------------------------------- wrt


def two_params(x, y):
    return x * y


@pytest.mark.parametrize("make", [srcad.grad, srcad.value_and_grad], ids=["grad", "vg"])
def test_wrt_unknown_name(make):
    with pytest.raises(srcad.SrcadError) as info:
        make(two_params, wrt=("x", "zeta"))
    e = info.value
    assert "zeta" in str(e)
    assert str(e).startswith(f"{e.filename}:{e.lineno}:")


@pytest.mark.parametrize("make", [srcad.grad, srcad.value_and_grad], ids=["grad", "vg"])
def test_wrt_index_out_of_range(make):
    with pytest.raises(srcad.SrcadError):
        make(two_params, wrt=(0, 5))


# ---------------------------------------------------------------- message format


@pytest.mark.parametrize(
    "f, tag",
    [pytest.param(has_try, "try", id="try"), pytest.param(calls_ulp, "ulp", id="ulp")],
)
def test_message_format(f, tag):
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(f)
    e = info.value
    msg = str(e)
    # file:line:col: what is wrong — what to write instead
    prefix = f"{e.filename}:{e.lineno}:{e.col_offset}: "
    assert msg.startswith(prefix), msg
    assert " — " in msg[len(prefix) :], f"no 'what is wrong — what to write instead': {msg}"
    line = open(__file__).read().splitlines()[e.lineno - 1]
    assert e.col_offset <= len(line)


def test_srcad_error_hierarchy():
    assert issubclass(srcad.SrcadError, Exception)
    assert srcad.SrcadError.__subclasses__(), "SrcadError should have subclasses"


# ---------------------------------------------------------------- another file's code


def banded_energy(params):
    n = 3
    C = np.zeros((n, n))
    k = 0
    for i in range(n):
        for j in range(i, n):
            C[i, j] = params[k]
            k += 1
    far = library_like.band_indices(n, 1)  # inactive: srcad calls it as it is
    C[far] = 0.0
    return np.sum(C @ C.T)


def calls_damp_below(x):
    y = x * 2.0
    return np.sum(library_like.damp_below(y, 0.0))  # <damp>


def test_inactive_call_into_unreadable_code_runs_as_written():
    params = np.array([0.3, -1.2, 0.7, 2.0, -0.4, 1.1])
    check_four_ways(banded_energy, params)


def test_active_call_into_unreadable_code_is_refused_at_the_users_line_first():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(calls_damp_below)
    e = info.value
    expect_location(e, "damp")
    assert "damp_below" in e.message and "library_like.py" in e.message
    assert "defrule" in e.hint
    inner = e.problems[1]  # then the line of the other file that srcad cannot read
    assert inner.filename == library_like.__file__ and ":=" in inner.message


def calls_ulp_ratio(x):
    return library_like.ulp_ratio(x * x)  # <ulp-ratio>


def test_missing_rule_in_another_files_code_is_reported_at_the_users_line_first():
    with pytest.raises(srcad.NoRuleError) as info:
        srcad.grad(calls_ulp_ratio)
    e = info.value
    expect_location(e, "ulp-ratio")
    assert "ulp_ratio, called here" in e.message and "math.ulp" in e.message
    inner = e.problems[1]
    assert inner.filename == library_like.__file__ and "math.ulp" in inner.message


def _registering(*example_args):  # a registry decorator whose arguments are numpy calls
    def decorate(f):
        return f

    return decorate


@_registering(np.random.default_rng(0).standard_normal(3))
def _decorated_with_an_unsupported_line(w):
    loss = np.sum(w**2)
    loss + 1.0  # noqa: B018 # <decorated>
    return loss


def test_a_decorators_arguments_are_not_part_of_what_is_checked():
    """The decorator's arguments run where the function is defined: a call in them with
    no rule is not reported (it was, first, at the decorator's line)."""
    with pytest.raises(srcad.SrcadError) as caught:
        srcad.grad(_decorated_with_an_unsupported_line)(np.ones(3))
    assert caught.value.lineno == marker_line(__file__, "decorated")
    assert "standard_normal" not in str(caught.value)


def _reduce_of_a_ufunc(x):
    return np.hypot.reduce(x)  # <ufunc-method>


def _mean_where(x):
    return np.var(x, where=x > 0)  # <mean-where>


def test_a_call_without_a_rule_is_named_as_written():
    """Not by the listing's temporary that holds ``np.hypot.reduce`` (``t1``)."""
    with pytest.raises(srcad.SrcadError, match="`np.hypot.reduce` has no derivative rule"):
        srcad.grad(_reduce_of_a_ufunc)(np.array([0.3, 1.2, -0.4]))


def test_a_keyword_no_rule_takes_is_named():
    with pytest.raises(srcad.SrcadError, match="none for the keyword `where`") as caught:
        srcad.grad(_mean_where)(np.array([0.3, 1.2, -0.4]))
    assert caught.value.lineno == marker_line(__file__, "mean-where")


_ACTIVATIONS = {"tanh": np.tanh, "sin": np.sin}


def _activation_by_name(x, kind="tanh"):
    act = _ACTIVATIONS[kind]
    return np.sum(act(x))  # <dispatch>


def test_a_function_chosen_at_run_time_is_named_with_the_line_that_chose_it():
    with pytest.raises(srcad.SrcadError, match="chosen when the program runs") as caught:
        srcad.grad(_activation_by_name)(np.array([0.3, 0.5]))
    assert caught.value.lineno == marker_line(__file__, "dispatch")
    assert "act = _ACTIVATIONS[kind]" in str(caught.value)


def _activation_by_test(x, kind):
    act = np.tanh if kind == "tanh" else np.sin
    return np.sum(act(x))  # <dispatch by a test>


def test_a_module_function_chosen_by_an_if_expression_is_named_so():
    """``act = np.tanh if ... else np.sin``: it said `act` had "no derivative rule and no
    Python source" (round 53), as if ``np.tanh`` were an object's method."""
    with pytest.raises(srcad.SrcadError, match="chosen when the program runs") as caught:
        srcad.grad(_activation_by_test)(np.array([0.3, 0.5]), "sin")
    assert caught.value.lineno == marker_line(__file__, "dispatch by a test")


def _filter_response(h):
    w = np.linspace(0.1, 3.0, 5)
    response = h[0] + h[1] * np.exp(-1j * w)  # <complex>
    return np.sum(np.abs(response) ** 2)


def test_complex_numbers_are_refused_at_their_line():
    """srcad's rules are for real numbers: a gradient through complex values came out
    complex, or silently wrong (its imaginary part dropped)."""
    with pytest.raises(srcad.SrcadError, match="complex numbers are not supported") as caught:
        srcad.grad(_filter_response)(np.array([0.3, 0.7]))
    assert caught.value.lineno == marker_line(__file__, "complex")


def _nested_procedure(x):
    def scale_(arr, s):
        arr *= s

    a = x.copy()
    scale_(a[1:], 3.0)
    return np.sum(a * x)


def _nested_procedure_value(x):
    def scale_(arr, s):  # <procedure-def>
        arr *= s

    return scale_(x.copy(), 3.0)


def test_a_nested_helper_that_changes_its_argument_is_inlined_as_a_module_helper_is():
    """A nested ``def`` without ``return`` (it writes into its argument) is inlined where
    it is called bare, as a helper of the file is, and what it writes is followed (it
    was refused at the bare call; round 77a); its value used is refused at the ``def``."""
    x = np.array([0.5, -1.0, 2.0])
    got = check_four_ways(_nested_procedure, x)
    assert np.allclose(got[0], [2 * x[0], 6 * x[1], 6 * x[2]], rtol=1e-12)
    with pytest.raises(srcad.UnsupportedSyntaxError, match="does not return") as caught:
        srcad.grad(_nested_procedure_value)
    assert caught.value.lineno == marker_line(__file__, "procedure-def")


def _calls_a_name_numpy_lacks(a):
    x = np.linspace(0.0, 2.0, 11)
    return np.trapz(np.exp(-a * x**2), x)  # <missing-attribute>


def test_a_function_numpy_does_not_have_is_reported_as_missing_not_as_without_a_rule():
    """``np.trapz`` (removed in numpy 2.4): Python raises AttributeError; srcad said it
    had no derivative rule. The hint names the close match."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delattr(np, "trapz", raising=False)
        with pytest.raises(srcad.NoRuleError, match="has no attribute 'trapz'") as caught:
            srcad.grad(_calls_a_name_numpy_lacks)(0.7)
    assert caught.value.lineno == marker_line(__file__, "missing-attribute")
    assert "np.trapezoid" in caught.value.hint and "AttributeError" in caught.value.message


def _products_by_starmap(points):
    return sum(itertools.starmap(operator.mul, zip(points, points[1:])))  # <starmap>


def _defaultdict_totals(items):
    totals = collections.defaultdict(float)  # <defaultdict>
    for key, value in items:
        totals[key] += value
    return sum(t * t for t in totals.values())


@pytest.mark.parametrize("f, tag, instead", [
    (_products_by_starmap, "starmap", "write a comprehension"),
])
def test_a_container_maker_gets_what_to_write_instead(f, tag, instead):
    """``itertools``/``collections`` makers were told to register a derivative rule."""
    with pytest.raises(srcad.NoRuleError, match="makes a container or an iterator") as caught:
        srcad.grad(f)([0.0, 1.5, 0.5])
    assert caught.value.lineno == marker_line(__file__, tag)
    assert instead in caught.value.hint and "defrule" not in caught.value.hint


def test_a_defaultdict_of_totals_is_differentiated():
    """A container made from no differentiated value and then written (a defaultdict of
    totals) gets no gradient itself, as a dict display does (it was refused as a maker
    without a rule)."""
    items = [("a", 1.0), ("b", 2.0), ("a", 0.5)]
    assert srcad.grad(_defaultdict_totals)(items) == [(0.0, 3.0), (0.0, 4.0), (0.0, 3.0)]
    (d, _) = check_four_ways(_grouped_squares, [0.5, 1.5, 1.2, 0.3], [0, 1, 0, 1])
    assert d == pytest.approx([3.0, 3.0, 7.2, 0.6])  # (forward mode: a KeyError, round 93)


def _grouped_squares(xs, groups):
    d = collections.defaultdict(float)
    for v, g in zip(xs, groups):
        d[g] += v * v
    return sum(d.values()) + d[0] * 2


def _qr_r_only(a):
    r = np.linalg.qr(a, mode="r")  # <qr-mode>
    return np.sum(r * r)


def _einsum_sublists(a, b):
    return np.sum(np.einsum(a, [0, 1], b, [1, 2], [0, 2]))  # <einsum-sublist>


def _logsumexp_signed(x, b):
    from scipy.special import logsumexp

    value, sign = logsumexp(x, b=b, return_sign=True)  # <return-sign>
    return value


@pytest.mark.parametrize("f, tag, args", [
    (_qr_r_only, "qr-mode", (np.arange(15.0).reshape(5, 3) ** 0.5,)),
    (_einsum_sublists, "einsum-sublist", (np.ones((2, 3)), np.ones((3, 2)))),
    (_logsumexp_signed, "return-sign", (np.array([0.1, 0.5]), np.array([1.0, -2.0]))),
])
def test_an_option_found_only_when_the_gradient_runs_is_refused_at_the_users_line(f, tag, args):
    """These raised a plain ValueError or TypeError from srcad's rules, with no user line
    (adversarial round 44)."""
    with pytest.raises(srcad.UnsupportedSyntaxError) as caught:
        srcad.grad(f)(*args)
    assert caught.value.lineno == marker_line(__file__, tag)
    assert caught.value.hint


# --- a module srcad cannot see, read as an array's method ----------------------------


class _Backend:
    def __init__(self):
        self.xp = np


_FUNCTIONS = types.SimpleNamespace(tanh=np.tanh, sum=np.sum)


def module_passed_in(x, xp):
    return xp.sum(xp.tanh(x))  # <module passed in>


def module_held_in_a_field(x, cfg):
    return cfg.xp.mean(x * x)  # <module in a field>


def functions_in_a_namespace(x):
    return _FUNCTIONS.sum(np.tanh(x))  # <namespace of functions>


@pytest.mark.parametrize("f, extra, tag", [
    (module_passed_in, (np,), "module passed in"),
    (module_held_in_a_field, (_Backend(),), "module in a field"),
    (functions_in_a_namespace, (), "namespace of functions"),
])
def test_a_module_srcad_cannot_see_is_refused_not_read_as_an_arrays_method(f, extra, tag):
    """``xp.sum(t)`` of a module ``xp`` passed in (or held in an object) read as the array
    method ``.sum`` of ``xp`` with ``t`` as its axis: the gradient was silently zero
    (round 53). Now refused at the call, with what to write: a global or a field when
    srcad compiles, a parameter when the gradient runs (``def f(x, xp=np)`` too)."""
    with pytest.raises(srcad.SrcadError, match="as the array method") as caught:
        srcad.grad(f)(np.array([0.5, -1.0]), *extra)
    expect_location(caught.value, tag)
    assert "call the function by its module's name" in caught.value.hint


def module_chosen_by_a_test(x, flag):
    xp = np if flag else math
    return xp.sum(x * x)  # <module chosen by a test>


def module_in_a_dict(x, mods):
    xp = mods["np"]
    return xp.sum(x * x)  # <module in a dict>


def module_assigned_twice(x):
    xp = np
    y = xp.sum(x * x)
    xp = math
    return y + xp.exp(1.0)


@pytest.mark.parametrize("f, extra, tag", [
    (module_chosen_by_a_test, (True,), "module chosen by a test"),
    (module_in_a_dict, ({"np": np},), "module in a dict"),
])
def test_a_module_reached_another_way_is_refused_too(f, extra, tag):
    """Round 54: a module chosen by an if-expression, held in a dict, or given a name
    twice still read as an array's method (a gradient silently zero)."""
    with pytest.raises(srcad.SrcadError, match="array method") as caught:
        srcad.grad(f)(np.array([0.5, -1.0]), *extra)
    expect_location(caught.value, tag)


def test_a_name_given_one_module_then_another_reads_each_in_turn():
    """``xp = np`` ... ``xp = math`` by lines of the function's body (refused in round 54
    with the other ways of reaching a module; stop 37 reads each binding in turn)."""
    (dx,) = check_four_ways(module_assigned_twice, np.array([0.5, -1.0]))
    assert np.array_equal(dx, [1.0, -2.0])


def _beta_variate(a, b):
    random.seed(0)
    return random.betavariate(a, b) ** 2


_RNG = np.random.default_rng(0)


def _rng_beta(a, b):
    return np.sum(_RNG.beta(a, b, size=3) ** 2)


@pytest.mark.parametrize("f, spelled", [(_beta_variate, "random.betavariate"),
                                        (_rng_beta, "_RNG.beta")])
def test_a_draw_of_a_differentiated_distribution_says_to_reparameterize(f, spelled):
    """Round 65b: `random.gauss(mu, sigma)` was refused as having no Python source (it
    has a pathwise derivative now: test_random_draws); a draw with no path in its
    parameters (a beta's, by rejection) is refused with the reparameterization to use."""
    with pytest.raises(srcad.NoRuleError) as caught:
        srcad.grad(f)(0.3, 1.2)
    message = str(caught.value)
    assert f"`{spelled}(...)` draws from a distribution set by a value" in message
    assert "mu + sigma * random.gauss(0.0, 1.0)" in message
    assert caught.value.lineno == f.__code__.co_firstlineno + (2 if f is _beta_variate else 1)


def reads_by_eval(x):
    return eval("x * x")  # <eval>


def reads_locals(x):
    return locals()["x"] * x  # <locals>


def reads_vars(x):
    return vars()["x"] ** 3  # <vars>


@pytest.mark.parametrize("f, marker", [
    (reads_by_eval, "eval"), (reads_locals, "locals"), (reads_vars, "vars")])
def test_reading_variables_by_name_is_refused(f, marker):
    # eval("x * x") gave 0, vars()["x"] ** 3 gave 0, locals()["x"] * x half the gradient
    # (and locals()["y"] of a renamed local raised KeyError in generated code)
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(f)(1.5)
    assert info.value.lineno == marker_line(__file__, marker)
    assert f"`{marker}()` reads the function's variables by their names" in info.value.message


def returns_none(x):
    y = x * x  # noqa: F841
    return None  # <none>


def returns_text(x):
    return "done"  # <text>


@pytest.mark.parametrize("f, marker, shown", [
    (returns_none, "none", "None"), (returns_text, "text", "'done'")])
def test_a_result_that_is_no_number_is_refused(f, marker, shown):
    # (grad gave 0.0; JAX and autograd raise)
    for make in (srcad.grad, srcad.value_and_grad):
        with pytest.raises(srcad.SrcadError) as info:
            make(f)(1.5)
        assert info.value.lineno == marker_line(__file__, marker)
        assert f"{f.__name__} returns {shown}; grad needs one scalar result" in (
            info.value.message)


EVALUATE = eval


def reads_by_an_alias_of_eval(x):
    return EVALUATE("x * x")  # <eval-alias>


def test_an_alias_of_eval_is_refused():
    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(reads_by_an_alias_of_eval)(1.5)
    assert info.value.lineno == marker_line(__file__, "eval-alias")
    assert "`EVALUATE` is `eval`, which reads the function's variables" in info.value.message


def none_below_ten(x):
    return x if x > 10 else None  # <none-branch>


def test_a_result_that_is_none_on_the_path_taken_is_refused():
    # (the float version returned (None, 0.0))
    with pytest.raises(srcad.SrcadError, match="grad needs a scalar result, but"):
        srcad.value_and_grad(none_below_ten)(0.7)
    assert srcad.grad(none_below_ten)(11.0) == 1.0


def none_from_a_list(x):
    pair = [x * x, None]
    return pair[1]  # <none-item>


def none_from_a_tuple(x):
    return (x, None)[1]


@pytest.mark.parametrize("f", [none_from_a_list, none_from_a_tuple])
def test_a_result_that_is_a_none_item_of_a_list_is_refused(f):
    # (the float version took the items of [x * x, None] for numbers: grad gave 0.0)
    for make in (srcad.grad, srcad.value_and_grad):
        with pytest.raises(srcad.SrcadError, match="grad needs a scalar result, but"):
            make(f)(0.7)


def reciprocal_of_a_shift(x):
    return (x - 2.0) ** -1


def rate_of_a_shift(x):
    return 1.0 / (x - 2.0)


@pytest.mark.parametrize("f", [reciprocal_of_a_shift, rate_of_a_shift])
def test_a_derivative_raises_where_the_function_raises(f):
    # (round 71a: the optimiser drops `(x - 2.0) ** -1`, whose value grad does not need;
    # the backward pass's ZeroDivisionError then fell back to numpy's floats: -inf. jvp
    # fell back likewise. Now the fallback runs the function first, which raises.)
    with pytest.raises(ZeroDivisionError):
        f(2.0)
    for make in (srcad.grad, srcad.value_and_grad, lambda g: srcad.grad(g, optimize=False)):
        with pytest.raises(ZeroDivisionError):
            make(f)(2.0)
    with pytest.raises(ZeroDivisionError):
        srcad.jvp(f, (2.0,), (1.0,))
    assert srcad.grad(f)(3.0) == -1.0
    assert srcad.jvp(f, (3.0,), (2.0,)) == (1.0, -2.0)


def squared_norm_of_a_signal(x):
    return np.linalg.norm(x) ** 2 + np.sum(x * x).real


def test_complex_arguments_are_refused_when_the_gradient_is_called():
    # (round 72a: complex arrays were computed with: |x|^2 written three ways gave three
    # gradients, and jvp of a real-valued function gave a complex number)
    signal = np.array([1.0 + 2.0j, -0.5 + 0.3j])
    for call in (lambda: srcad.grad(squared_norm_of_a_signal)(signal),
                 lambda: srcad.jvp(squared_norm_of_a_signal, (signal,), (signal,)),
                 lambda: srcad.grad(squared_norm_of_a_signal)([1.0, 2.0j])):
        with pytest.raises(srcad.SrcadError, match="an argument holds complex numbers"):
            call()
    real = np.array([1.0, -0.5])
    assert np.allclose(srcad.grad(squared_norm_of_a_signal)(real), 4.0 * real)


PHASE = 1.0 + 2.0j
RESPONSE = np.array([1.0j, 2.0])


class Phasor:
    turn = 2.0j

    def __init__(self, gain, phase):
        self.gain = gain
        self.phase = phase


ANTENNA = Phasor(1.5, 2.0j)


def scaled_by_the_phase(x):
    return (x * PHASE).real


def magnitude_of_the_response(x):
    return np.sum(np.abs(x * RESPONSE))


def turned_by_the_class(x):
    return (x * Phasor.turn).real


def received_by_the_antenna(x):
    return (ANTENNA.gain * ANTENNA.phase).real * x


def received(p, x):
    return (p.gain * p.phase).real * x


def test_complex_numbers_in_globals_and_objects_are_refused():
    # (round 74: a complex global, a class's complex attribute, a complex field of a
    # global object or of an object passed in gave complex gradients or dropped the
    # imaginary part: d/dx Re(x (1 + 2j)) came back as 1 + 2j)
    for f in (scaled_by_the_phase, magnitude_of_the_response, turned_by_the_class,
              received_by_the_antenna):
        with pytest.raises(srcad.SrcadError, match="holds complex numbers") as caught:
            srcad.grad(f)(3.0)
        assert caught.value.location.filename == __file__
    with pytest.raises(srcad.SrcadError, match="an argument holds complex numbers"):
        srcad.grad(received)(Phasor(1.0, 2.0j), 3.0)
    with pytest.raises(srcad.SrcadError, match="an argument holds complex numbers"):
        srcad.vjp(squared_norm_of_a_signal, np.array([1.0j, 2.0]))
    assert srcad.grad(received, wrt=(0, 1))(Phasor(1.0, 2.0), 3.0)[1] == 2.0


def _records_through_a_closure(x):
    out = []

    def record(v):
        out.append(v * x)  # <closure-append>

    record(1.0)
    record(2.0)
    return sum(out)


def test_a_nested_function_appending_to_its_enclosing_list_is_refused_as_such():
    """The refusal said the list was not made by the function and to "start from `[]`",
    which the code already does (round 78a): it now names the enclosing function's list
    and says to append in the enclosing function."""
    with pytest.raises(srcad.SrcadError, match="a list of an enclosing function") as caught:
        srcad.grad(_records_through_a_closure)(0.5)
    assert caught.value.lineno == marker_line(__file__, "closure-append")
    assert "out.append(record(v))" in caught.value.hint


_ACTS_BY_NAME = {"tanh": np.tanh, "square": lambda z: z * z}


def _activation_by_a_variable(W, x, kind):
    return np.sum(_ACTS_BY_NAME[kind](W @ x))  # <picked-by-variable>


def test_a_function_picked_from_a_dict_by_a_variable_is_refused_in_the_users_words():
    with pytest.raises(srcad.SrcadError) as caught:
        srcad.grad(_activation_by_a_variable)(np.ones((2, 2)), np.ones(2), "tanh")
    message = str(caught.value)
    assert caught.value.lineno == marker_line(__file__, "picked-by-variable")
    assert "`_ACTS_BY_NAME[kind]` holds a function chosen when the program runs" in message
    assert "t1" not in message and "global setting" in message


@dataclasses.dataclass
class _CallableLayer:
    W: np.ndarray

    def __call__(self, x):
        return np.tanh(x @ self.W)


def _through_unannotated_layers(layers):
    x = np.array([[1.0, -1.0], [0.5, 2.0]])
    for layer in layers:
        x = layer(x)  # <layer-called>
    return np.sum(x ** 2)


def test_a_hessian_through_unannotated_callable_layers_says_to_annotate_them():
    # (round 81: the message named srcad's `layers_items[k]` and advised a constant key)
    layers = [_CallableLayer(np.eye(2) * 0.5), _CallableLayer(np.eye(2) * 0.3)]
    assert srcad.grad(_through_unannotated_layers)(layers)[0].W.shape == (2, 2)
    with pytest.raises(srcad.SrcadError) as caught:
        srcad.hessian(_through_unannotated_layers)(layers)
    message = str(caught.value)
    assert caught.value.lineno == marker_line(__file__, "layer-called")
    assert "`layers[k]`" in message and "layers: list[Layer]" in message
    assert "_items" not in message


def product_of_matrices(A, B):
    C = A * B  # (a matrix product for np.matrix, an elementwise one for arrays)
    return float(np.sum(np.asarray(C) ** 2))


def test_numpy_matrices_are_refused_when_the_gradient_is_called():
    """np.matrix's `*` is a matrix product, where srcad's rule is the elementwise one:
    the gradient came out silently wrong, or of the wrong shape (round 90)."""
    A, B = np.matrix([[1.0, 2.0], [3.0, 4.0]]), np.matrix([[0.5, -1.0], [2.0, 0.0]])
    for call in (lambda: srcad.grad(product_of_matrices)(A, B),
                 lambda: srcad.jvp(product_of_matrices, (A, B), (A, B)),
                 lambda: srcad.grad(product_of_matrices)(np.asarray(A), [B])):
        with pytest.raises(srcad.SrcadError, match=r"an argument holds an np\.matrix.*`@`"):
            call()
    An, Bn = np.asarray(A), np.asarray(B)
    np.testing.assert_allclose(srcad.grad(product_of_matrices)(An, Bn), 2 * An * Bn * Bn)


def fields_of_a_record_array(x):
    s = np.zeros(2, dtype=[("a", float), ("b", float)])
    s["a"] = x[:2]
    s["b"] = x[2:]
    return float(np.sum(s["a"] * s["b"]))  # <record fields>


def test_structured_arrays_are_refused_at_the_users_line():
    """A structured array's fields (round 90: an IndexError in the generated code; as
    an argument, refused when the gradient is called)."""
    with pytest.raises(srcad.SrcadError, match="field of a structured array") as caught:
        srcad.grad(fields_of_a_record_array)(np.array([0.5, -1.0, 2.0, 3.0]))
    assert caught.value.lineno == marker_line(__file__, "record fields")
    table = np.zeros(2, dtype=[("a", float), ("b", float)])
    with pytest.raises(srcad.SrcadError, match="an argument holds a structured array"):
        srcad.grad(scaled_beside_a_table, argnums=1)(table, np.ones(2))


def quadratic_form_of_a_matrix(x):
    M = np.matrix([[1.0, 2.0], [3.0, 4.0]])  # <np.matrix>
    return float((x @ M @ x.T).sum())


def test_an_np_matrix_made_inside_is_refused_at_its_line():
    """Round 92: a ValueError in the matrix product's gradient."""
    with pytest.raises(srcad.UnsupportedSyntaxError, match="np.matrix") as caught:
        srcad.grad(quadratic_form_of_a_matrix)(np.array([0.5, 1.0]))
    assert caught.value.lineno == marker_line(__file__, "np.matrix")


def real_part_doubled(x):
    z = x.astype(complex)  # <complex astype>
    z.real *= 2.0
    return np.sum(np.abs(z) ** 2)


def test_an_array_made_complex_is_refused_at_its_line():
    """Round 92: refused at `z.real *= 2`, as an attribute of an object from outside."""
    with pytest.raises(srcad.UnsupportedSyntaxError, match="complex numbers") as caught:
        srcad.grad(real_part_doubled)(np.array([1.0, -2.0, 0.5]))
    assert caught.value.lineno == marker_line(__file__, "complex astype")
    first_column = srcad.grad(lambda x: np.sum(x.reshape(2, 2, order="F")[0] ** 2))
    np.testing.assert_allclose(  # (order="F" is an order, not complex64: x[0], x[2])
        first_column(np.arange(4.0)), [0.0, 0.0, 4.0, 0.0]
    )


def scaled_beside_a_table(table, x):
    return np.sum(x * 2.0)


def rounded_by_percent(x):
    s = "%.3f" % x  # noqa: UP031  # <percent>
    return x * x + float(s)


def rounded_by_f_string(x):
    s = f"{x:.3f}"  # <f-string>
    return x * x + float(s)


def rounded_by_format(x):
    s = "{:.3f}".format(x)  # noqa: UP032  # <format>
    return x * x + float(s)


def rounded_by_builtins(x):
    s = format(x, ".3f")  # <builtins>
    return x * x + float(s)


def read_back_from_str(x):
    return x * float(str(x))  # <str>


def reported_as_text(x):
    print("x = %.3f" % x, "{:.2f}".format(x), f"{x:.1f}")  # noqa: UP031, UP032
    print("x = " + str(x), repr(x), format(x, ".2f"))
    return x * x


@pytest.mark.parametrize("f, tag", [
    (rounded_by_percent, "percent"), (rounded_by_f_string, "f-string"),
    (rounded_by_format, "format"), (rounded_by_builtins, "builtins"),
    (read_back_from_str, "str"),
])
def test_a_value_made_text_and_read_back_is_refused_at_its_line(f, tag):
    """Formatting a differentiated value as text (round 90: `"%.3f" % x` was read as a
    float remainder, its gradient code computed `'%.3f' // x`, a TypeError)."""
    with pytest.raises(srcad.NoRuleError, match="turns a value srcad differentiates into "
                       "text") as caught:
        srcad.grad(f)(1.5)
    assert caught.value.lineno == marker_line(__file__, tag)


def test_text_made_only_to_be_printed_is_fine(capsys):
    assert srcad.grad(reported_as_text)(1.5) == 3.0
    assert "x = 1.500" in capsys.readouterr().out
