"""The documentation runs: every ```python block of docs/*.md and README.md, and the
generated derivative table is current.

Each page's python blocks are run in order, in one fresh namespace per page: they are
written to a temporary .py file — at their own line numbers, everything else blank, so a
traceback's line number is the page's — and the file is imported in a fresh interpreter
(so inspect.getsource finds the functions the page passes to srcad, and rules a page
registers do not leak into other tests). Blocks marked ```text are outputs and
```bash are shell commands: they are not run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
#: The pages with code to run (comparison.md and derivative-table.md have none).
CODE_PAGES = [p for p in PAGES if "```python" in p.read_text()]
FENCE = re.compile(r"^```([\w-]*)[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, code) of each ```python block."""
    blocks = []
    for match in FENCE.finditer(text):
        if match.group(1) == "python":
            first = text.count("\n", 0, match.start(2)) + 1
            blocks.append((first, match.group(2)))
    return blocks


def page_module(text: str) -> str:
    """The page's python blocks at their own line numbers, everything else blank."""
    lines = [""] * (text.count("\n") + 1)
    for first, code in python_blocks(text):
        for offset, line in enumerate(code.splitlines()):
            lines[first - 1 + offset] = line
    return "\n".join(lines) + "\n"


def test_fence_parser_finds_blocks():
    text = "x\n```python\na = 1\n```\n\n```text\nout\n```\n```python\nb = a\n```\n"
    assert python_blocks(text) == [(3, "a = 1\n"), (10, "b = a\n")]
    assert page_module(text).splitlines()[2] == "a = 1"
    assert page_module(text).splitlines()[9] == "b = a"


@pytest.mark.parametrize("page", CODE_PAGES, ids=lambda p: p.name)
def test_page_code_runs(page, tmp_path):
    text = page.read_text()
    name = "doc_" + re.sub(r"\W", "_", page.stem.lower())
    (tmp_path / f"{name}.py").write_text(page_module(text))
    script = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import {name}"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, (
        f"the python blocks of {page.relative_to(ROOT)} failed (line numbers are the "
        f"page's):\n{result.stderr[-4000:]}")


def test_the_new_pages_have_code():
    names = {p.name for p in CODE_PAGES}
    assert {"index.md", "how-it-works.md", "control-flow.md", "supported-python.md",
            "README.md"} <= names


def test_every_page_has_a_title_and_links_resolve():
    for page in PAGES:
        text = page.read_text()
        assert text.startswith("# "), f"{page.name} should start with a '# ' title"
        outside_code = FENCE.sub("", text)
        for target in re.findall(r"\]\(([\w./-]+\.md)(?:#[\w-]+)?\)", outside_code):
            assert (page.parent / target).is_file(), f"{page.name} links to missing {target}"


def test_derivative_table_is_current():
    script = ROOT / "docs" / "tools" / "gen_derivative_table.py"
    result = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    page = ROOT / "docs" / "derivative-table.md"
    assert page.read_text() == result.stdout, (
        "docs/derivative-table.md is stale: "
        "run `python docs/tools/gen_derivative_table.py --write`")


def test_derivative_table_lists_every_rule():
    import srcad  # noqa: F401  (loads the table)
    from srcad import emit
    from srcad.rules import TABLE

    script = ROOT / "docs" / "tools" / "gen_derivative_table.py"
    result = subprocess.run([sys.executable, str(script)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    sum_pattern = "np.sum(x, axis=None, dtype=None, keepdims=False)"
    for pattern in ("x * y", "math.exp(x)", sum_pattern, "x @ y"):
        assert f"`{pattern}`" in result.stdout
    # (the table in this process may hold rules other tests registered: compare with
    # the built-in rules only, in a fresh interpreter)
    # (the page lists SciPy's rules too, which srcad loads once SciPy's modules are imported)
    count = subprocess.run([sys.executable, "-c", "import srcad; from srcad.rules import TABLE; "
                            "import statistics, scipy.integrate, scipy.linalg, "
                            "scipy.ndimage, "
                            "scipy.optimize, scipy.spatial.distance, scipy.special, "
                            "scipy.stats; "
                            "print(len(list(TABLE)))"],
                           cwd=ROOT, capture_output=True, text=True)
    assert f"knows {int(count.stdout)} rules" in result.stdout
    assert emit.expression(next(iter(TABLE)).pattern) in result.stdout


def test_printed_outputs_in_docs_are_current():
    """Each ```text block after a ```python block shows what that block prints today
    (refresh with `python docs/tools/refresh_doc_outputs.py docs/*.md`)."""
    pages = sorted(str(p) for p in (ROOT / "docs").glob("*.md"))
    run = subprocess.run([sys.executable, str(ROOT / "docs" / "tools" / "refresh_doc_outputs.py"),
                          "--check", *pages], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
