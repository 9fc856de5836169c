"""Functions defined interactively: IPython/Jupyter cells (IPython keeps cell sources in
linecache) work; a function with no source anywhere (``python -c``) gets the clear error."""

import inspect
import math
import subprocess
import sys
import types

import numpy as np
import pytest
from conftest import check_four_ways

import srcad


@pytest.fixture
def shell():
    """The test IPython shell (started once per process)."""
    pytest.importorskip("IPython")
    from IPython import get_ipython
    from IPython.testing.globalipapp import start_ipython

    return start_ipython() or get_ipython()


def test_function_defined_in_an_ipython_cell(shell):
    shell.run_cell("import math, srcad")
    shell.run_cell("def cell_f(x, y):\n    return x * math.sin(y) + x * x\n")
    result = shell.run_cell("cell_g = srcad.grad(cell_f, wrt=(0, 1))(1.5, 0.5)")
    assert result.success, result.error_in_exec
    dx, dy = shell.user_ns["cell_g"]
    assert dx == pytest.approx(math.sin(0.5) + 3.0, rel=1e-14)
    assert dy == pytest.approx(1.5 * math.cos(0.5), rel=1e-14)


def test_python_dash_c_function_gets_the_clear_error():
    code = (
        "import srcad\n"
        "def f(x):\n    return x * x\n"
        "try:\n    srcad.grad(f)\n"
        "except srcad.SrcadError as e:\n    print('SrcadError:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "SrcadError:" in out.stdout, out.stderr
    assert "cannot read the source of f" in out.stdout


# ---------------------------------------------------------------- no source: one clear line

NO_SOURCE_HINT = "define it in a .py file (or a notebook cell) and import it"


def _uncaught(args, stdin=None):
    """Run ``python *args`` whose script calls srcad.grad on a function without source
    and lets the error escape: (the error's line, the traceback's srcad frames)."""
    out = subprocess.run([sys.executable, *args], input=stdin, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 1, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    frames = [line for line in lines if line.strip().startswith('File "') and "srcad" in line
              and "site-packages" not in line and "/srcad/" in line]
    return lines[-1], frames, out.stderr


SCRIPT = "import srcad\ndef f(x):\n    return x * x\nsrcad.grad(f)\n"


@pytest.mark.parametrize("where, args, stdin, why", [
    ("python -c", ["-c", SCRIPT], None,
     "it was defined by `python -c` or exec(), and Python keeps no source"),
    ("stdin", ["-"], SCRIPT,
     "it was typed at the interactive prompt (or piped in), and Python keeps no source"),
])
def test_no_source_is_one_clear_line_without_srcad_internals(where, args, stdin, why):
    last, frames, stderr = _uncaught(args, stdin)
    assert last.startswith("srcad.errors.SourceError: "), stderr
    assert f"cannot read the source of f: {why} — {NO_SOURCE_HINT}" in last, last
    assert "defrule" not in stderr
    assert len(frames) <= 1, f"srcad's internal frames are shown:\n{stderr}"  # the entry point


def test_exec_with_a_file_name_that_is_not_a_file():
    import srcad

    namespace = {}
    exec(compile("def f(x):\n    return x * x\n", "<generated model>", "exec"), namespace)
    with pytest.raises(srcad.SourceError) as info:
        srcad.grad(namespace["f"])
    assert "it was compiled from <generated model>, which is not a file" in str(info.value)
    assert "defrule" not in str(info.value) and len(str(info.value).splitlines()) == 1
    assert info.value.filename == __file__  # the line that called srcad.grad


def test_a_helper_without_source_keeps_the_defrule_hint():
    """A helper called by f may get a rule instead of being read; f itself may not."""
    import srcad

    namespace = {}
    exec(compile("def helper(x):\n    return x * x\n", "<string>", "exec"), namespace)
    helper = namespace["helper"]

    def f(x):
        return helper(x) + x

    with pytest.raises(srcad.SrcadError) as info:
        srcad.grad(f)
    assert "defrule" in str(info.value)


def test_srcad_traceback_full_keeps_the_internal_frames():
    env = dict(__import__("os").environ, SRCAD_TRACEBACK="full")
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         timeout=60, env=env)
    assert "frontend.py" in out.stderr and "SourceError" in out.stderr


# ---------------------------------------------------------------- errors in a notebook


def test_error_in_a_cell_names_the_cell_and_hides_srcads_frames(shell):
    from IPython.utils.capture import capture_output

    import srcad

    shell.run_cell("import srcad")
    shell.run_cell("import math\ndef cell_sorted(x):\n    y = x * 2.0\n    return math.ulp(y)\n",
                   store_history=True)
    cell = shell.execution_count - 1
    with capture_output() as shown:
        result = shell.run_cell("srcad.grad(cell_sorted)(1.5)", store_history=True)
    assert isinstance(result.error_in_exec, srcad.NoRuleError)
    text = shown.stdout + shown.stderr
    # IPython's own name for the cell, with the user's line and column of `math.ulp`
    assert f"Cell In[{cell}], line 4, column 11: `math.ulp` has no derivative rule" in text
    assert "srcad/" not in text and "entry(" not in text
    # the traceback still shows the user's calling line
    assert "----> 1 srcad.grad(cell_sorted)(1.5)" in text



# ---------------------------------------------------------------- a helper redefined


@pytest.mark.parametrize("make, expected_before, expected_after", [
    ("srcad.grad(u)", 12.0, 4.0),                       # d/dx x**3, then d/dx x*x at 2
    ("srcad.value_and_grad(u)", (8.0, 12.0), (4.0, 4.0)),
    ("lambda x, tangents=srcad.jvp(u): tangents((x,), (1.0,))", (8.0, 12.0), (4.0, 4.0)),
    ("srcad.grad(srcad.grad(u))", 12.0, 2.0),           # second derivatives: 6x, then 2
    ("srcad.grad(u, argnums=(0,))", (12.0,), (4.0,)),
    ("srcad.hessian(u)", 12.0, 2.0),
    ("lambda x, product=srcad.hvp(u): product(x, 1.0)", 12.0, 2.0),
    ("srcad.jacobian(u)", 12.0, 4.0),
])
def test_redefining_a_helper_changes_the_gradients_that_inlined_it(shell, make,
                                                                    expected_before,
                                                                    expected_after):
    shell.run_cell("import srcad")
    shell.run_cell("def helper(x):\n    return x ** 3\n", store_history=True)
    shell.run_cell("def u(x):\n    return helper(x)\n", store_history=True)
    shell.run_cell(f"gu = {make}", store_history=True)
    shell.run_cell("before = gu(2.0)", store_history=True)
    shell.run_cell("def helper(x):\n    return x * x\n", store_history=True)  # the cell, edited
    result = shell.run_cell("after = gu(2.0)", store_history=True)
    assert result.success, result.error_in_exec
    assert shell.user_ns["before"] == pytest.approx(expected_before, rel=1e-14)
    assert shell.user_ns["after"] == pytest.approx(expected_after, rel=1e-14)


_MODULE = '''
def helper(x):
    return x ** {power}


def u(x, scale=1.0, *, shift=0.0):
    return scale * helper(x) + shift * x
'''


def test_a_gradient_follows_a_helper_redefined_twice_keeping_its_signature(tmp_path,
                                                                             monkeypatch):
    # The per-call check is generated with the gradient's own signature (defaults and
    # keyword-only parameters passed on); after a helper changes it is generated again for
    # the new helper, and follows the next change too (a module reloaded twice).
    import importlib
    import sys

    path = tmp_path / "reloaded_helper.py"
    path.write_text(_MODULE.format(power=3))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    module = importlib.import_module("reloaded_helper")
    try:
        g = srcad.grad(module.u)
        assert g(2.0) == pytest.approx(12.0, rel=1e-14)                # 3 x**2
        assert g(2.0, 2.0, shift=1.0) == pytest.approx(25.0, rel=1e-14)
        # (each file a different size: the source and bytecode caches see the change)
        for power, expected in (("2.0", 4.0), ("4.00", 32.0)):         # 2x, then 4 x**3
            path.write_text(_MODULE.format(power=power))
            importlib.invalidate_caches()
            module = importlib.reload(module)
            assert g(2.0) == pytest.approx(expected, rel=1e-14)
            assert g(2.0, scale=0.5, shift=1.0) == pytest.approx(expected / 2 + 1, rel=1e-14)
        assert list(inspect.signature(g).parameters) == ["x", "scale", "shift"]
    finally:
        sys.modules.pop("reloaded_helper", None)


def _scaled_square(x, a=1.0):
    return a * x * x


def _scaled_square_keyword(x, *, a=1.0):
    return a * x * x


def test_a_gradient_follows_defaults_given_to_the_function_after_it_was_made():
    g = srcad.grad(_scaled_square)
    assert g(1.0) == 2.0
    saved = _scaled_square.__defaults__
    try:
        _scaled_square.__defaults__ = (3.0,)  # (a configuration step changing a default)
        assert g(1.0) == 6.0 and g(1.0, 2.0) == 4.0 and g(1.0, a=5.0) == 10.0
    finally:
        _scaled_square.__defaults__ = saved
    assert g(1.0) == 2.0
    gk = srcad.grad(_scaled_square_keyword)
    assert gk(1.0) == 2.0
    kept = _scaled_square_keyword.__kwdefaults__
    try:
        _scaled_square_keyword.__kwdefaults__ = {"a": 5.0}
        assert gk(1.0) == 10.0
        _scaled_square_keyword.__kwdefaults__["a"] = 4.0  # (the same dict, changed)
        assert gk(1.0) == 8.0
    finally:
        _scaled_square_keyword.__kwdefaults__ = kept


def _weighted_square(x, k=1.0):
    return k * x**2


def _with_weighted_square(x):
    return _weighted_square(x) + x


def test_a_gradient_follows_the_defaults_of_a_helper_it_inlined():
    g = srcad.grad(_with_weighted_square)
    assert g(1.0) == 3.0
    saved = _weighted_square.__defaults__
    try:
        _weighted_square.__defaults__ = (4.0,)
        assert g(1.0) == 9.0 and srcad.grad(_with_weighted_square)(1.0) == 9.0
    finally:
        _weighted_square.__defaults__ = saved
    assert g(1.0) == 3.0


# ------------------------------------------- a global rebound to another module or helper
_BACKEND = types.ModuleType("backend")
_BACKEND.sin = np.cos  # (a module whose sin is another function)
_BACKEND.trapezoid = None
M = np


def _through_module(x):
    return M.sin(x) * 2.0


def _by_version(x):
    return x * 2.0 if hasattr(M, "trapz") else x * 3.0


def _helper_of_module(x):
    return _through_module(x) + x


@pytest.mark.parametrize("f, before, after", [
    # (d/dx 2 sin x, then d/dx 2 cos x; numpy 2 has no trapz: 3, the backend has none: 3)
    (_through_module, 2 * math.cos(0.3), -2 * math.sin(0.3)),
    (_helper_of_module, 2 * math.cos(0.3) + 1, -2 * math.sin(0.3) + 1),
])
def test_a_gradient_follows_a_global_rebound_to_another_module(f, before, after):
    # A backend switch (`M = np`, later `M = backend`): srcad read the module's rules
    # when it compiled, so the gradient is made again for the module the name holds.
    global M
    g = srcad.value_and_grad(f)
    try:
        assert g(0.3)[1] == pytest.approx(before, rel=1e-12)
        M = _BACKEND
        value, gradient = g(0.3)
        assert value == pytest.approx(f(0.3), rel=1e-14)
        assert gradient == pytest.approx(after, rel=1e-12)
    finally:
        M = np
    assert g(0.3)[1] == pytest.approx(before, rel=1e-12)


def test_a_version_test_of_a_global_module_follows_its_rebinding():
    global M
    g = srcad.grad(_by_version)
    try:
        M = types.SimpleNamespace(trapz=None)  # (not a module: read as an object)
        assert g(1.0) == 2.0
        M = _BACKEND
        assert g(1.0) == 3.0
        _BACKEND.trapz = None
        M = np  # (numpy's own: decided when srcad compiles; numpy 2 has no trapz)
        assert g(1.0) == (2.0 if hasattr(np, "trapz") else 3.0)
    finally:
        M = np
        vars(_BACKEND).pop("trapz", None)


def _square(x):
    return x * x


def _triple(x):
    return 3.0 * x


FIRST = _square
SECOND = _square  # (two names of one helper: each is checked)


def _two_names(x):
    return FIRST(x) + SECOND(x)


def test_two_global_names_of_one_helper_are_followed_each():
    global SECOND
    g = srcad.value_and_grad(_two_names)
    assert g(2.0) == (8.0, 8.0)
    try:
        SECOND = _triple
        assert g(2.0) == (10.0, 7.0)
    finally:
        SECOND = _square
    assert g(2.0) == (8.0, 8.0)


class _Activation:
    fn = staticmethod(math.sin)


def _through_class_attribute(x):
    return _Activation.fn(x)


_SETTINGS = types.ModuleType("user_settings")  # (a module of the user's, not a library's)
_SETTINGS.act = math.sin


def _through_module_attribute(x):
    return _SETTINGS.act(x)


def _with_activation_default(x, act=math.sin):
    return act(x)


def test_a_gradient_follows_a_function_rebound_in_a_module_or_class_of_the_users():
    # The rule was chosen for the function the attribute held: `settings.act = math.exp`
    # kept sin's derivative (a fresh srcad.grad too, from the cache)
    for f, owner, name, wrap in (
        (_through_class_attribute, _Activation, "fn", staticmethod),
        (_through_module_attribute, _SETTINGS, "act", lambda g: g),
    ):
        g = srcad.grad(f)
        assert g(0.3) == pytest.approx(math.cos(0.3), rel=1e-14)
        try:
            setattr(owner, name, wrap(math.exp))
            assert g(0.3) == pytest.approx(math.exp(0.3), rel=1e-14)
            assert srcad.grad(f)(0.3) == pytest.approx(math.exp(0.3), rel=1e-14)
        finally:
            setattr(owner, name, wrap(math.sin))
        assert g(0.3) == pytest.approx(math.cos(0.3), rel=1e-14)


def test_a_gradient_follows_a_function_default_replaced():
    g = srcad.grad(_with_activation_default)
    assert g(0.3) == pytest.approx(math.cos(0.3), rel=1e-14)
    saved = _with_activation_default.__defaults__
    try:
        _with_activation_default.__defaults__ = (math.exp,)
        assert g(0.3) == pytest.approx(math.exp(0.3), rel=1e-14)
    finally:
        _with_activation_default.__defaults__ = saved
    assert g(0.3) == pytest.approx(math.cos(0.3), rel=1e-14)


class _Model:
    def __init__(self):
        self.k = 2.0

    def f(self, x):
        return self.k * x * x


_MODEL = _Model()


def _through_a_global_model(x):
    return _MODEL.f(x)


def test_a_method_given_to_a_global_object_after_the_build_is_followed():
    g = srcad.value_and_grad(_through_a_global_model)
    assert g(0.5) == (0.5, 2.0)
    _MODEL.f = types.MethodType(_cubed, _MODEL)
    try:
        assert g(0.5) == (0.125, 0.75)  # (the class's method was kept)
    finally:
        del _MODEL.f
    assert g(0.5) == (0.5, 2.0)


def _cubed(self, x):
    return x**3


class _Scaled:
    scale = 2.0  # (a class-level setting, read through the objects the function makes)

    def __init__(self, w):
        self.w = w

    def out(self, x):
        return self.scale * np.sum(self.w * x)


def _scaled_loss(w, x):
    return _Scaled(w).out(x) ** 2


def test_a_class_attribute_given_another_value_is_read_again(monkeypatch):
    # (round 72b: grad, value_and_grad and jvp kept the old 2.0, a fresh grad too)
    w, x = np.array([1.0, 2.0]), np.array([0.3, 0.6])
    g = srcad.grad(_scaled_loss)
    assert np.allclose(g(w, x), 2 * _Scaled(w).out(x) * 2.0 * x)
    monkeypatch.setattr(_Scaled, "scale", 3.0)
    assert np.allclose(g(w, x), 2 * _Scaled(w).out(x) * 3.0 * x)
    assert srcad.value_and_grad(_scaled_loss)(w, x)[0] == pytest.approx(_scaled_loss(w, x))
    assert srcad.jvp(_scaled_loss, (w, x), (np.ones(2), np.zeros(2)))[0] == pytest.approx(
        _scaled_loss(w, x))


class _Settings:
    scale = 2.0  # (read through the class: a number the float version reads as one)


def _settings_scaled_square(x):
    return x * x + _Settings.scale * x


def test_a_number_a_class_holds_keeps_the_float_version_and_is_followed(monkeypatch):
    # (round 71b: no float version, 33x the function; it is one now, and a gradient
    # that read the number is made again where the class gives it another value)
    from srcad.building import build

    assert len(build(_settings_scaled_square, (0,), "grad", True).versions) == 2
    g = srcad.grad(_settings_scaled_square)
    assert g(0.5) == 3.0
    monkeypatch.setattr(_Settings, "scale", 3.0)
    assert g(0.5) == 4.0
    monkeypatch.setattr(_Settings, "scale", np.array([1.0, 2.0]))
    with pytest.raises(srcad.SrcadError, match="grad needs a scalar result"):
        g(0.5)


class _Rates:
    r = np.array([0.5, 2.0])  # (an array a class holds, read through the class)


def _against_class_rates(x):
    return np.sum(x * _Rates.r) + np.sum(np.sin(x + _Rates.r))


def test_an_array_a_class_holds_is_summed_back_to_a_scalars_shape():
    # (round 74, from before this stop: `x * U.r` of a scalar x took U.r for a number, no
    # unbroadcast: the gradient of a float was an array)
    (dx,) = check_four_ways(_against_class_rates, 0.7)
    assert np.ndim(dx) == 0
    assert dx == pytest.approx(2.5 + np.sum(np.cos(0.7 + _Rates.r)))


class _Pricer:
    def __init__(self, rate):
        self.rate = rate

    def discount(self, t):
        return math.exp(-self.rate * t)


PRICER = _Pricer(0.05)


NORMAL = pytest.importorskip("scipy.stats").norm


def _black_scholes_call(spot, vol):
    d1 = (np.log(spot / 100.0) + (0.01 + vol**2 / 2) * 0.5) / (vol * np.sqrt(0.5))
    d2 = d1 - vol * np.sqrt(0.5)
    return float(spot * NORMAL.cdf(d1) - 100.0 * np.exp(-0.005) * NORMAL.cdf(d2))


def _discounted(x):
    return x * PRICER.discount(2.0)


def test_a_bound_method_a_gradient_reads_is_checked_by_its_function_and_object(monkeypatch):
    """``norm.cdf`` and ``PRICER.discount`` are new bound methods each time they are read:
    the check that the helpers are current compared them by identity, so each call built
    the gradient again (Black-Scholes: 8.7 ms a call, 141 times the function; round
    77b). Now the method's function and its object are compared: one build, and a new
    object is still followed."""
    import srcad.building as building

    price, discounted = srcad.grad(_black_scholes_call, wrt=(0, 1)), srcad.grad(_discounted)
    price(100.0, 0.2)
    discounted(1.5)
    builds = []
    original = building.build
    monkeypatch.setattr(building, "build", lambda *a, **k: builds.append(a) or original(*a, **k))
    for spot in (95.0, 100.0, 105.0):
        assert np.all(np.isfinite(price(spot, 0.2)))
        assert discounted(spot) == pytest.approx(math.exp(-0.1), rel=1e-15)
    assert builds == []
    monkeypatch.setattr(sys.modules[__name__], "PRICER", _Pricer(0.5))  # another object
    assert discounted(1.5) == pytest.approx(math.exp(-1.0), rel=1e-15)
