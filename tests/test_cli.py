"""The command line, run as users run it: ``python -m srcad show|check|export`` in a
subprocess, on the examples and on small files written for the error cases."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import srcad

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def run(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = dict(os.environ if env is None else env)
    environment.pop("NO_COLOR", None) if env is None else None
    return subprocess.run([sys.executable, "-m", "srcad", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=120)


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- show


def test_show_prints_both_listings_and_the_gradient_in_plain_numbers():
    result = run("show", "examples/sigmoid_gate.py:f", "--wrt", "x,y")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "# forward listing" in out and "# generated gradient" in out
    assert "def f(x, y):" in out and "def f_grad(x, y):" in out
    assert "# gradient at f(3.0, -4.0)" in out
    assert "df/dx = 2.0595697955" in out and "df/dy = 1.5922327514" in out
    assert "np.float64" not in out and "\033[" not in out  # not a TTY: no colour
    assert "matches central differences" in out


def test_show_forward_and_backward_only():
    forward = run("show", "examples/sigmoid_gate.py:f", "--forward")
    backward = run("show", "examples/sigmoid_gate.py:f", "--backward")
    assert forward.returncode == backward.returncode == 0
    assert "def f(x, y):" in forward.stdout and "f_grad" not in forward.stdout
    assert "def f_grad(x, y):" in backward.stdout and "# forward listing" not in backward.stdout
    assert "# gradient at f(" not in forward.stdout + backward.stdout


def test_show_wrt_and_at():
    result = run("show", "examples/chain_rule.py:advanced", "--wrt", "x3,x4",
                 "--at=-7,2,2,-1")
    assert result.returncode == 0, result.stderr
    assert "dadvanced/dx3 = 60.0" in result.stdout
    assert "dadvanced/dx4 = -120.0" in result.stdout
    assert "dadvanced/dx1" not in result.stdout


def test_show_arrays_prints_numpy_arrays_plainly():
    result = run("show", "examples/tiny_network.py:network_matrix")
    assert result.returncode == 0, result.stderr
    assert "dnetwork_matrix/dW1 =" in result.stdout
    assert "array(" not in result.stdout.split("# gradient at")[1]


def test_colour_on_request_and_never_with_no_color():
    coloured = run("show", "examples/sigmoid_gate.py:f", "--forward", "--color", "always")
    assert "\033[1;35mdef\033[0m" in coloured.stdout  # keyword
    assert "\033[36m1.0\033[0m" in coloured.stdout  # number
    assert "\033[2;32m# (1)\033[0m" in coloured.stdout  # comment
    env = dict(os.environ, NO_COLOR="1")
    plain = run("show", "examples/sigmoid_gate.py:f", "--forward", env=env)
    assert "\033[" not in plain.stdout


def test_colour_only_on_a_terminal():
    from srcad.__main__ import highlight, use_colour

    class Terminal:
        def isatty(self):
            return True

    class Pipe:
        def isatty(self):
            return False

    old = os.environ.pop("NO_COLOR", None)
    try:
        assert use_colour("auto", Terminal()) and not use_colour("auto", Pipe())
        os.environ["NO_COLOR"] = "1"
        assert not use_colour("auto", Terminal())
    finally:
        os.environ.pop("NO_COLOR", None)
        if old is not None:
            os.environ["NO_COLOR"] = old
    text = "def f(x):\n    return 2 * x  # twice\n"
    coloured = highlight(text)
    assert coloured != text
    assert coloured.replace("\033[1;35m", "").replace("\033[36m", "").replace(
        "\033[2;32m", "").replace("\033[0m", "") == text


@pytest.mark.parametrize("target", [
    "examples/sigmoid_gate.py:f_expr",
    "examples/chain_rule.py:five_inputs",
    "examples/expression_graph.py:f_numpy",
    "examples/tiny_network.py:network",
])
def test_show_examples(target):
    result = run("show", target)
    assert result.returncode == 0, result.stderr
    assert "matches central differences" in result.stdout


# ---------------------------------------------------------------- check


def test_check_prints_a_table():
    result = run("check", "examples/sigmoid_gate.py:f", "--at", "3.0,-4.0")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["param", "srcad", "numeric", "abs", "error", "status"]
    rows = {line.split()[0]: line.split() for line in lines[2:4]}
    assert set(rows) == {"x", "y"} and all(r[-1] == "ok" for r in rows.values())
    assert float(rows["x"][1]) == pytest.approx(2.0595697955721652, rel=1e-11)
    assert lines[-1].startswith("# ok")


def test_check_fails_with_exit_1_when_the_gradient_is_wrong(tmp_path):
    (tmp_path / "wrong.py").write_text(textwrap.dedent("""\
        import srcad

        def cube(x):
            return x * x * x

        srcad.defgrad(cube, lambda g, ans, x: 2 * x * g)  # wrong on purpose: 3 x**2

        def f(x):
            return cube(x)
    """))
    result = run("check", f"{tmp_path / 'wrong.py'}:f", "--at", "2.0")
    if result.returncode == 2 and "defgrad" in result.stderr:  # pragma: no cover
        pytest.skip("defgrad signature differs: " + result.stderr)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL" in result.stdout


# ---------------------------------------------------------------- errors


@pytest.fixture
def broken(tmp_path):
    (tmp_path / "syntax.py").write_text("def f(x:\n    return x\n")
    (tmp_path / "boom.py").write_text("raise RuntimeError('boom at import')\n")
    (tmp_path / "unsupported.py").write_text(textwrap.dedent("""\
        def f(x):
            try:
                y = x * 2
            except ValueError:
                y = x
            return y
    """))
    (tmp_path / "domain.py").write_text("import math\n\ndef f(x):\n    return math.log(x)\n")
    return tmp_path


@pytest.mark.parametrize("args, message", [
    (("show", "no/such/file.py:f"), "no such file"),
    (("show", "examples/sigmoid_gate.py:nope"), "has no function 'nope'"),
    (("show", "examples/sigmoid_gate.py"), "expected FILE:FUNC"),
    (("show", "examples/sigmoid_gate.py:DEFAULT_POINT"), "not a function"),
    (("show", "examples/sigmoid_gate.py:f", "--at", "1,2,3"), "--at gives 3 value(s)"),
    (("check", "examples/sigmoid_gate.py:f", "--at", "one,two"), "--at takes numbers"),
    (("show", "examples/sigmoid_gate.py:f", "--wrt", "z"), "no parameter named 'z'"),
    (("export", "examples/sigmoid_gate.py:nope", "-o", "x.py"), "has no function"),
])
def test_bad_input_exits_2_with_one_clear_line(args, message):
    result = run(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert result.stderr.startswith("srcad: ")
    assert len(result.stderr.strip().splitlines()) <= 2


def test_syntax_error_in_the_file(broken):
    result = run("show", f"{broken / 'syntax.py'}:f")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "syntax.py:1:" in result.stderr and "cannot import" in result.stderr


def test_exception_while_importing_the_file(broken):
    result = run("check", f"{broken / 'boom.py'}:f")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "RuntimeError: boom at import" in result.stderr


def test_unsupported_code_gives_the_located_srcad_error(broken):
    result = run("show", f"{broken / 'unsupported.py'}:f")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    first, located = result.stderr.strip().splitlines()[:2]
    assert first == f"srcad: cannot differentiate {broken / 'unsupported.py'}:f:"
    assert located.startswith(  # (a `try` statement may not read the differentiated x)
        f"{broken / 'unsupported.py'}:3:12: this `try` statement reads `x`"
    )


def test_error_at_the_point(broken):
    result = run("check", f"{broken / 'domain.py'}:f", "--at", "-1")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "math domain error" in result.stderr


def test_no_command_is_a_usage_error():
    result = run()
    assert result.returncode == 2 and "usage:" in result.stderr


# ---------------------------------------------------------------- export

#: Runs a file with srcad unimportable, prints the gradient as JSON.
NO_SRCAD = textwrap.dedent("""\
    import importlib.util, json, sys
    sys.modules["srcad"] = None  # `import srcad` now fails
    spec = importlib.util.spec_from_file_location("exported", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    point = json.loads(sys.argv[2])
    result = getattr(module, sys.argv[3])(*point)
    result = result if isinstance(result, tuple) else (result,)
    print(json.dumps([float(v) for v in result]))
""")


def assert_clean(path: Path) -> None:
    """The exported module passes ruff's pyflakes checks (no undefined names) and names
    no absolute path of this machine."""
    text = path.read_text()
    for place in {str(ROOT), str(path.parent), str(Path.home()), str(Path.cwd())}:
        assert place not in text, f"the module names {place}"
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--select", "F,E9",
         "--output-format", "concise", str(path)],
        capture_output=True, text=True, timeout=60)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def run_without_srcad(path: Path, function: str, point) -> list[float]:
    result = subprocess.run(
        [sys.executable, "-I", "-c", NO_SRCAD, str(path), json.dumps(list(point)), function],
        capture_output=True, text=True, timeout=60, cwd=path.parent)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("example, func, point", [
    ("sigmoid_gate", "f", (3.0, -4.0)),
    ("sigmoid_gate", "f_expr", (3.0, -4.0)),
    ("chain_rule", "advanced", (-7.0, 2.0, 2.0, -1.0)),
    ("expression_graph", "f", (1.5, -0.5)),
    ("expression_graph", "f_numpy", (1.5, -0.5)),
    ("tiny_network", "network",
     (0.6, -0.4, 0.7, 0.5, -0.2, 0.1, 1.0, 0.5, 0.1, -0.3, 0.2)),
])
def test_exported_module_runs_without_srcad(tmp_path, example, func, point):
    output = tmp_path / f"grad_{func}.py"
    result = run("export", f"examples/{example}.py:{func}", "-o", str(output))
    assert result.returncode == 0, result.stderr
    text = output.read_text()
    assert not re.search(r"^\s*(import|from)\s+srcad\b", text, re.MULTILINE)
    assert_clean(output)
    got = run_without_srcad(output, f"{func}_grad", point)
    module = load(EXAMPLES / f"{example}.py", f"test_cli_{example}")
    want = srcad.grad(getattr(module, func))(*point)
    want = want if isinstance(want, tuple) else (want,)
    assert got == pytest.approx([float(w) for w in want], rel=1e-14, abs=1e-15)


def test_exported_loop_and_array_gradients(tmp_path):
    source = tmp_path / "models.py"
    source.write_text(textwrap.dedent("""\
        import math
        import numpy as np

        SCALE = 1.1
        W = np.array([[1.0, -2.0], [0.5, 0.25], [3.0, 1.0]])

        def loop(x, n=20):
            for i in range(n):
                x = math.sin(x) * SCALE + 0.1 * x
            return x

        def layer(a, b):
            h = np.tanh(a @ W + b)
            return np.mean(h ** 2) + h.sum()
    """))
    for func in ("loop", "layer"):
        result = run("export", f"{source}:{func}", "--wrt", "x" if func == "loop" else "a,b",
                     "-o", str(tmp_path / f"grad_{func}.py"))
        assert result.returncode == 0, result.stderr
        assert_clean(tmp_path / f"grad_{func}.py")
    assert run_without_srcad(tmp_path / "grad_loop.py", "loop_grad", [0.3]) == pytest.approx(
        [srcad.grad(load(source, "test_cli_models").loop, wrt="x")(0.3)], rel=1e-14)
    # the array version: a fresh interpreter, numpy arrays in, compared with srcad
    check = textwrap.dedent(f"""\
        import sys
        sys.modules["srcad"] = None
        sys.path.insert(0, {str(tmp_path)!r})
        import numpy as np
        import grad_layer
        a = np.linspace(-1, 1, 6).reshape(2, 3)
        b = np.array([0.1, -0.2])
        da, db = grad_layer.layer_grad(a, b)
        np.save({str(tmp_path / 'da.npy')!r}, da)
        np.save({str(tmp_path / 'db.npy')!r}, db)
    """)
    done = subprocess.run([sys.executable, "-I", "-c", check], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    models = load(source, "test_cli_models")
    a = np.linspace(-1, 1, 6).reshape(2, 3)
    b = np.array([0.1, -0.2])
    da, db = srcad.grad(models.layer, wrt=("a", "b"))(a, b)
    np.testing.assert_allclose(np.load(tmp_path / "da.npy"), da, rtol=1e-14)
    np.testing.assert_allclose(np.load(tmp_path / "db.npy"), db, rtol=1e-14)


def test_export_api_returns_the_source_and_keeps_it_readable(tmp_path):
    from srcad import export

    module = load(EXAMPLES / "sigmoid_gate.py", "test_cli_sigmoid_gate")
    path = tmp_path / "grad_f.py"
    text = export(module.f, path)
    assert path.read_text() == text
    gradient = srcad.grad(module.f)
    # the generated functions appear verbatim
    for version in gradient.__srcad__.versions:
        assert version.compiled.source.strip() in text
    assert "def unbroadcast(" in text  # a helper copied with its docstring
    assert '"""' in text.split("def unbroadcast(")[1]
    assert "__all__ = ['f_grad']" in text


def test_an_exported_run_time_check_names_no_path_of_this_machine(tmp_path):
    # the refusal a check raises when the gradient runs was written with its absolute
    # path (a check of `ys[1:] + ys[:1]` that ys is not a list)
    from srcad import export

    source = tmp_path / "rotated.py"
    source.write_text("def f(ys):\n    return (ys[1:] + ys[:1])[0] * 2.0\n")
    module = load(source, "test_cli_rotated")
    path = tmp_path / "out" / "grad_f.py"
    path.parent.mkdir()
    text = export(module.f, path)
    assert "rotated.py:2:12: `+` of Python lists" in text
    assert_clean(path)


def test_export_refuses_what_it_cannot_write(tmp_path):
    from srcad import ExportError, export

    source = tmp_path / "opaque.py"
    source.write_text(textwrap.dedent("""\
        class Scale:
            def __mul__(self, other):
                return 2.0 * other

            __rmul__ = __mul__

        K = Scale()

        def f(x):
            return x * x
    """))
    module = load(source, "__main__test_cli_opaque")
    text = export(module.f)
    assert "def f_grad(x)" in text
    with pytest.raises(ExportError):
        from srcad.export import _Writer

        _Writer(module.f, "__main__").need("K", module.K, "global 'K'", user=True)


# ---------------------------------------------------------------- issue 18: --at, --wrt, --version

MODELS = textwrap.dedent("""\
    import numpy as np

    DEFAULT_POINT = {"bad_default": (float("nan"),)}


    def dot(w, x):
        return np.sum(np.sin(w) * x)


    def softmax_loss(W, X, labels):
        z = X @ W
        z = z - np.max(z, axis=1, keepdims=True)
        logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
        return -np.mean(logp[np.arange(labels.shape[0]), labels])


    def power(x, n=3):
        return x ** n


    def bad_default(x):
        return x * x
""")


@pytest.fixture
def models(tmp_path):
    path = tmp_path / "models.py"
    path.write_text(MODELS)
    return path


def test_version():
    result = run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"srcad {srcad.__version__}" == "srcad 0.3.0"


def test_show_defaults_to_the_first_parameter_as_grad_does():
    result = run("show", "examples/sigmoid_gate.py:f")
    assert result.returncode == 0, result.stderr
    assert "df/dx = 2.0595697955" in result.stdout and "df/dy" not in result.stdout
    assert "def f_grad(x, y):" in result.stdout


def test_check_defaults_to_every_parameter_given_floats():
    result = run("check", "examples/sigmoid_gate.py:f", "--at", "3.0,-4.0")
    rows = [line.split()[0] for line in result.stdout.splitlines()[2:-1]]
    assert rows == ["x", "y"], result.stdout


@pytest.mark.parametrize("wrt, shown, hidden", [("0", "dx3", "dx4"), ("1", "dx4", "dx3"),
                                                ("-1", "dx4", "dx3"), ("0,x4", "dx3", "dx1")])
def test_wrt_takes_positions(tmp_path, wrt, shown, hidden):
    (tmp_path / "two.py").write_text("def g(x3, x4):\n    return x3 * x3 * x4\n")
    result = run("show", f"{tmp_path / 'two.py'}:g", "--wrt", wrt, "--at", "2,5")
    assert result.returncode == 0, result.stderr
    assert f"dg/{shown} =" in result.stdout and f"dg/{hidden} =" not in result.stdout
    assert "# matches central differences" in result.stdout


def test_at_takes_python_literals_for_arrays(models):
    result = run("show", f"{models}:dot", "--at", "[0.5, 1.0, -2.0], [1.0, 2.0, 3.0]",
                 "--wrt", "w,x")
    assert result.returncode == 0, result.stderr
    w, x = np.array([0.5, 1.0, -2.0]), np.array([1.0, 2.0, 3.0])
    out = result.stdout.rsplit("# gradient at ", 1)[1]
    dw = out.split("ddot/dw =")[1].split("ddot/dx")[0]
    printed = np.array([float(v) for v in dw.strip(" \n[]").split(",")])
    np.testing.assert_allclose(printed, np.cos(w) * x, rtol=1e-7)  # numpy prints 8 digits
    assert "# matches central differences" in out
    check = run("check", f"{models}:dot", "--at", "[0.5, 1.0, -2.0],[1, 2, 3]")
    assert check.returncode == 0, check.stderr
    assert [line.split()[0] for line in check.stdout.splitlines()[2:-1]] == ["w", "x"]


def test_at_keeps_an_int_where_the_default_is_an_int(models):
    result = run("show", f"{models}:power", "--at", "2,4")
    assert result.returncode == 0, result.stderr
    assert "dpower/dx = 32.0" in result.stdout


def test_at_takes_npy_and_npz_files(models, tmp_path):
    rng = np.random.default_rng(0)
    W, X = rng.normal(size=(3, 4)), rng.normal(size=(5, 3))
    labels = np.array([0, 3, 1, 2, 0])
    np.save(tmp_path / "W.npy", W)
    np.savez(tmp_path / "named.npz", W=W, X=X, labels=labels)
    np.savez(tmp_path / "positional.npz", W, X, labels)
    for point in (str(tmp_path / "named.npz"), str(tmp_path / "positional.npz")):
        result = run("check", f"{models}:softmax_loss", "--at", point)
        assert result.returncode == 0, result.stdout + result.stderr
        rows = [line.split()[0] for line in result.stdout.splitlines()[2:-1]]
        assert rows == ["W", "X"], result.stdout  # the integer labels are not checked
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "labels.npy", labels)
    mixed = ",".join(str(tmp_path / n) for n in ("W.npy", "X.npy", "labels.npy"))
    result = run("show", f"{models}:softmax_loss", "--at", mixed)
    assert result.returncode == 0, result.stderr
    assert "dsoftmax_loss/dW =" in result.stdout and "dsoftmax_loss/dX" not in result.stdout


@pytest.mark.parametrize("at, message", [
    ("nan", "--at takes numbers"),
    ("1e999", "not finite"),
    ("[1.0, 1e999, 2.0]", "not finite"),
    ("{'a': [1.0, 2.0}", "--at takes numbers"),
])
def test_at_that_is_not_a_finite_point_is_a_usage_error(models, at, message):
    result = run("show", f"{models}:power", "--at", at)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_non_finite_arrays_and_defaults_are_usage_errors(models, tmp_path):
    np.save(tmp_path / "inf.npy", np.array([1.0, np.inf]))
    result = run("check", f"{models}:dot", "--at", f"{tmp_path / 'inf.npy'},[1.0, 2.0]")
    assert result.returncode == 2 and "gives w a value that is not finite" in result.stderr
    result = run("check", f"{models}:bad_default")
    assert result.returncode == 2
    assert "DEFAULT_POINT['bad_default'] gives x a value that is not finite" in result.stderr
    np.savez(tmp_path / "wrong.npz", q=np.ones(2))
    result = run("check", f"{models}:dot", "--at", str(tmp_path / "wrong.npz"))
    assert result.returncode == 2 and "q, which are not parameters" in result.stderr
