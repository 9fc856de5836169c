"""How srcad is installed and what it needs at run time."""

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import srcad

ROOT = Path(srcad.__file__).resolve().parent.parent


def test_editable_install_is_a_path_type_checkers_follow():
    """mypy and pyright read ``.pth`` files that hold a directory, not ones that run an
    import hook (setuptools' editable mode): the README's ``pip install -e .`` must give
    the former, so that ``import srcad`` resolves in the user's type checker."""
    dist = importlib.metadata.distribution("srcad")
    direct = json.loads(dist.read_text("direct_url.json") or "{}")
    if not direct.get("dir_info", {}).get("editable"):
        # a regular install: the package sits in site-packages, where checkers look
        assert any(str(f).startswith("srcad/") for f in dist.files or ())
        return
    pth_files = [f for f in dist.files or () if str(f).endswith(".pth")]
    assert pth_files, "an editable install without a .pth file"
    lines = [
        line.strip()
        for f in pth_files
        for line in Path(dist.locate_file(f)).read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines and not any(line.startswith("import ") for line in lines), lines
    assert [Path(line).resolve() for line in lines] == [ROOT]


def test_astor_is_not_needed_at_run_time(tmp_path):
    requires = importlib.metadata.requires("srcad") or []
    runtime = [r for r in requires if "extra ==" not in r]
    assert not any(r.startswith("astor") for r in runtime), runtime
    code = (
        "import sys, numpy as np, srcad\n"
        "def f(x):\n    return np.sum(np.tanh(x) ** 2)\n"
        "srcad.grad(f)(np.ones(3)); srcad.hessian(f)(np.ones(3))\n"
        "print('astor' in sys.modules)\n"
    )
    script = tmp_path / "probe.py"  # (srcad reads f's source from a file)
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
