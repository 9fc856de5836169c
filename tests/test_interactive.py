"""Functions defined interactively: IPython/Jupyter cells (IPython keeps cell sources in
linecache) work; a function with no source anywhere (``python -c``) gets the clear error."""

import math
import subprocess
import sys

import pytest


def test_function_defined_in_an_ipython_cell():
    pytest.importorskip("IPython")
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
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
