"""Partial evaluation of inlined helpers (srcad/specialize.py), at the level of the AST:
which branches constant arguments decide, and which they must leave alone."""

import ast
import builtins
import textwrap

import numpy as np

import srcad
from srcad.specialize import Keywords, Sized, for_defaults, specialize


def specialized(source: str, **known) -> tuple[str, frozenset[str]]:
    fn = ast.parse(textwrap.dedent(source)).body[0]
    node, deciding = specialize(fn, known, lambda name: getattr(builtins, name, None))
    return ast.unparse(node), deciding


def test_a_test_of_constants_keeps_the_branch_taken_and_what_follows_is_dropped():
    text, deciding = specialized(
        """
        def f(x, axis=None, ord=None):
            if axis is None:
                if ord is None or ord == 2:
                    return sqrt(x.dot(x))
                raise ValueError(f"bad {ord}")
            return {a for a in axis}
        """,
        axis=None,
        ord=None,
    )
    assert text == "def f(x, axis=None, ord=None):\n    return sqrt(x.dot(x))"
    assert deciding == {"axis", "ord"}


def test_unknown_values_leave_the_branch_as_it_is():
    source = """
        def f(x, keepdims=False):
            if x.ndim == 0 or keepdims:
                x = x.reshape(1)
            return x
        """
    text, deciding = specialized(source, keepdims=False)
    assert "if x.ndim == 0 or keepdims:" in text and not deciding
    text, deciding = specialized(source, keepdims=True)  # (x.ndim == 0 runs first)
    assert "if x.ndim == 0 or keepdims:" in text and not deciding
    text, deciding = specialized(source.replace("x.ndim == 0 or keepdims", "keepdims or x.ndim"),
                                 keepdims=True)  # `or` decided before x.ndim is read
    assert "if" not in text and "x = x.reshape(1)" in text and "keepdims" in deciding


def test_an_assignment_ends_what_is_known_of_a_name():
    text, _ = specialized(
        """
        def f(x, axis=None):
            if axis is None:
                axis = 0
            if axis == 0:
                y = x
            else:
                y = -x
            axis = g(x)
            if axis == 0:
                y = y + 1
            return y
        """,
        axis=None,
    )
    assert text.count("if axis == 0:") == 1 and "y = -x" not in text


def test_a_name_a_loop_assigns_is_unknown_in_the_loop_and_after_it():
    text, deciding = specialized(
        """
        def f(x, n=None):
            for i in range(3):
                n = i
            if n is None:
                return x
            return -x
        """,
        n=None,
    )
    assert "if n is None:" in text and not deciding


def test_isinstance_and_the_length_of_star_args():
    text, _ = specialized(
        """
        def f(*args, axis=None):
            if isinstance(axis, tuple):
                return 0
            if len(args) == 1:
                return args[0]
            return [g(a) for a in args]
        """,
        args=Sized(2),
        axis=None,
    )
    assert text.endswith("return [g(args[0]), g(args[1])]"), text


def test_for_defaults_checks_each_default_it_decided_on_first():
    def library(x, ord=None, scale=2.0):
        return x

    fn = ast.parse(
        textwrap.dedent(
            '''
            def library(x, ord=None, scale=2.0):
                """Doc."""
                if ord is None and scale == 2.0:
                    return x
                raise ValueError(f"{ord}")
            '''
        )
    ).body[0]
    node = for_defaults(fn, library, lambda name: getattr(builtins, name, None))
    lines = ast.unparse(node).splitlines()
    assert lines[2].startswith("    assert ord is None, 'srcad differentiates")
    assert lines[3].startswith("    assert scale == 2.0, ")
    assert lines[4:] == ["    return x"]
    undecided = ast.parse("def library(x, ord=None):\n    return x").body[0]
    assert for_defaults(undecided, library, lambda name: None) is None


def test_a_branch_is_unrolled_with_what_is_known_inside_it():
    """The comprehension in the branch runs after ``args`` grew: it is not unrolled with
    the length ``args`` had at the ``if`` (that gave 2 items where there are 3)."""
    text, _ = specialized(
        """
        def f(*args, c=1.0):
            if g(c):
                args = args + (c,)
                return [h(a) for a in args]
            return [h(a) for a in args]
        """,
        args=Sized(2),
        c=1.0,
    )
    assert text.count("return [h(a) for a in args]") == 2, text  # (after the if: unknown)
    text, _ = specialized(
        """
        def f(*args, c=1.0):
            if g(c):
                return [h(a) for a in args]
            return 0.0
        """,
        args=Sized(2),
        c=1.0,
    )
    assert "return [h(args[0]), h(args[1])]" in text, text  # (in the branch: still known)


class _Marker:
    """A sentinel default, as numpy's ``np._NoValue``."""


NO_VALUE = _Marker()


def test_a_sentinel_default_decides_identity_tests_and_a_known_dict_is_spread():
    fn = ast.parse(textwrap.dedent(
        """
        def average(a, axis=None, keepdims=NO_VALUE):
            if keepdims is NO_VALUE:
                kw = {}
            else:
                kw = {'keepdims': keepdims}
            return a.mean(axis, **kw) + a.sum(**{'axis': axis})
        """
    )).body[0]
    lookup = {"NO_VALUE": NO_VALUE}.get
    node, deciding = specialize(fn, {"keepdims": NO_VALUE}, lookup)
    # (the dict display passed directly is left to srcad.subset: only names are spread)
    assert ast.unparse(node).endswith("return a.mean(axis) + a.sum(**{'axis': axis})")
    assert deciding == {"keepdims"}
    node, _ = specialize(fn, {"keepdims": True}, lookup)
    assert "return a.mean(axis, keepdims=keepdims)" in ast.unparse(node)


def test_a_known_dict_is_forgotten_when_a_value_it_reads_is_assigned_again():
    text, _ = specialized(
        """
        def f(a, k):
            kw = {'keepdims': k}
            k = not k
            return a.sum(**kw)
        """
    )
    assert "a.sum(**kw)" in text  # (spreading it would pass the new k)


def test_an_empty_sized_value_or_a_known_dict_is_not_taken_for_true():
    """``if args:`` with no ``*args`` takes the ``else`` branch; ``if kwds:`` after
    ``map(kwds.pop, ...)`` (namedtuple._replace) is not decided (both were taken as
    true: the raise of _replace was all that was kept)."""
    text, _ = specialized(
        """
        def f(x, *args):
            if args:
                return args[0]
            return x
        """,
        args=Sized(0),
    )
    assert text == "def f(x, *args):\n    return x"
    text, _ = specialized(
        """
        def _replace(self, **kwds):
            result = self._make(map(kwds.pop, fields, self))
            if kwds:
                raise ValueError(kwds)
            return result
        """,
        kwds=Keywords([("x", ast.Constant(1.0))]),
    )
    assert "if kwds:" in text and text.endswith("return result")


# ---- a version guard in the differentiated function: `hasattr` of a module decides it
# where srcad compiles (round 57: the branch Python never runs was read, and refused for
# a name that numpy 2 removed)


def _trapezoid_of_squares(y):
    if hasattr(np, "trapezoid"):
        return np.trapezoid(y ** 2)
    return np.trapz(y ** 2)  # (numpy 1: removed in numpy 2)


def _sums_unless_missing(y):
    total = np.sum(y)
    if not hasattr(np, "no_such_function_in_numpy"):
        total = total * 2.0
    else:
        total = np.no_such_function_in_numpy(y)
    return total


def test_a_version_guard_reads_only_the_branch_python_runs():
    y = np.array([0.5, 1.0, -0.3])
    assert np.allclose(srcad.grad(_trapezoid_of_squares)(y), [0.5, 2.0, -0.3], rtol=1e-14)
    assert np.allclose(srcad.grad(_sums_unless_missing)(y), 2.0, rtol=1e-14)
