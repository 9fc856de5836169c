"""docs/errors.md and srcad's errors stay in sync.

Every ``### <error name>`` section of docs/errors.md holds

* a ```` ```python ```` example: a complete module defining ``f``; the offending line
  ends with ``# <-- error`` (several markers: several problems, in order);
* ``Error: <class>`` and ``Message: `` <text> ``\u200b`` lines (one ``Message`` per marker),
  optionally ``Hint: `` <text> ``\u200b`` and ``Run: `` <expression> ``\u200b`` (default
  ``srcad.grad(f)``);
* a second ```` ```python ```` block, the fix, which srcad must differentiate
  (with ``srcad.grad(f)``, or the ``Fix run: `` <expression> ``\u200b`` line).

Each example is written to a temp file and imported, so srcad reads it with
``inspect.getsource`` as it reads users' code. A second group of tests checks that every
refusal in ``srcad.subset`` is documented, and a third covers constructs the issue
"Reliability" lists beyond the examples (variants, several problems of different kinds).
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import srcad
import srcad.errors
import srcad.trees
from srcad.subset import REFUSED_EXPRESSIONS, REFUSED_STATEMENTS

DOC = Path(__file__).resolve().parent.parent / "docs" / "errors.md"
MARKER = "# <-- error"

_counter = itertools.count()


# ---------------------------------------------------------------- parsing the page


@dataclass
class Entry:
    title: str
    example: str
    fix: str | None
    error: str
    messages: list[str]
    hint: str | None = None
    run: str = "srcad.grad(f)"
    markers: list[int] = field(default_factory=list)
    fix_run: str | None = None


def _span(line: str, key: str) -> str | None:
    m = re.match(rf"^{key}: `` (.*) ``\s*$", line)
    return m.group(1) if m else None


def parse_doc(text: str) -> list[Entry]:
    entries = []
    sections = re.split(r"^### ", text, flags=re.M)[1:]
    for section in sections:
        title, _, body = section.partition("\n")
        body = re.split(r"^##? ", body, flags=re.M)[0]  # stop at the next h1/h2
        blocks = re.findall(r"^```python\n(.*?)^```", body, flags=re.M | re.S)
        assert blocks, f"section {title!r} has no ```python example"
        lines = body.splitlines()
        error = [ln.removeprefix("Error: ").strip() for ln in lines if ln.startswith("Error: ")]
        assert len(error) == 1, f"section {title!r}: one `Error:` line expected"
        messages = [m for ln in lines if (m := _span(ln, "Message")) is not None]
        assert messages, f"section {title!r} has no `Message: `` ... ``` line"
        hints = [h for ln in lines if (h := _span(ln, "Hint")) is not None]
        runs = [r for ln in lines if (r := _span(ln, "Run")) is not None]
        fix_runs = [r for ln in lines if (r := _span(ln, "Fix run")) is not None]
        example = blocks[0]
        markers = [i + 1 for i, ln in enumerate(example.splitlines())
                   if ln.rstrip().endswith(MARKER)]
        entries.append(Entry(
            title=title.strip(), example=example, fix=blocks[1] if len(blocks) > 1 else None,
            error=error[0], messages=messages, hint=hints[0] if hints else None,
            run=runs[0] if runs else "srcad.grad(f)", markers=markers,
            fix_run=fix_runs[0] if fix_runs else None,
        ))
    return entries


DOC_TEXT = DOC.read_text()
ENTRIES = parse_doc(DOC_TEXT)


def load_module(source: str, tmp_path: Path):
    """Write ``source`` to a fresh file and import it (as srcad's users do)."""
    name = f"srcad_catalogue_{next(_counter)}"
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module, path


@pytest.fixture
def load(tmp_path):
    """Loads an example; afterwards forgets its modules and the rules it registered (a
    ``defgrad(math.cbrt, ...)`` would otherwise stand for math.cbrt in later tests)."""
    from srcad.rules import TABLE

    loaded = []
    before = {id(rule) for rule in TABLE.user_rules()}

    def _load(source):
        module, path = load_module(source, tmp_path)
        loaded.append(module.__name__)
        return module, path

    yield _load
    for name in loaded:
        sys.modules.pop(name, None)
    for rule in TABLE.user_rules():
        if id(rule) not in before:
            TABLE.remove(rule)


def run(entry_run: str, module):
    if entry_run == "srcad.grad(f)":  # called from here: errors without a source of
        return srcad.grad(module.f)  # their own point at this line
    namespace = dict(vars(module))
    namespace.update(srcad=srcad, np=np)
    # compiled as this file's code, so that an error located at the call names this file
    return eval(compile(entry_run, __file__, "eval"), namespace)  # noqa: S307 - our docs page


# ---------------------------------------------------------------- the page's examples


def test_page_parses():
    titles = [e.title for e in ENTRIES]
    assert len(titles) >= 40, titles
    assert len(set(titles)) == len(titles), "duplicate section titles"


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.title for e in ENTRIES])
def test_documented_example_raises_documented_error(entry, load):
    module, path = load(entry.example)
    with pytest.raises(srcad.SrcadError) as info:
        run(entry.run, module)
    e = info.value
    expected_class = getattr(srcad.errors, entry.error)
    assert isinstance(e, expected_class), f"{type(e).__name__} is not {entry.error}: {e}"
    problems = e.problems
    if entry.markers:  # lines of other files (a library's) follow the user's call that led there
        problems = tuple(p for p in e.problems if Path(p.filename).resolve() == path.resolve())
        assert len(problems) == len(e.problems) or "called here" in problems[0].message, str(e)
    assert len(problems) == len(entry.messages), (
        f"{len(problems)} problems reported, the page documents {len(entry.messages)}:\n{e}")
    text = str(e)
    assert len(text.splitlines()) == len(e.problems), f"not one line per problem:\n{text}"
    for problem, message in zip(problems, entry.messages, strict=True):
        assert message in problem.one_line(), f"{message!r} not in {problem.one_line()!r}"
        assert isinstance(problem, srcad.SrcadError)
        assert isinstance(problem.col_offset, int) and problem.col_offset >= 0
    if entry.hint is not None:
        assert " — " in problems[0].one_line(), f"no hint: {problems[0].one_line()}"
        assert entry.hint in problems[0].hint, f"{entry.hint!r} not in hint {problems[0].hint!r}"
    if entry.markers:
        assert Path(e.filename).resolve() == path.resolve(), (
            f"error names {e.filename!r}, not the user's file {path}")
        assert [p.lineno for p in problems] == entry.markers, (
            f"lines {[p.lineno for p in problems]}, marked {entry.markers}:\n{e}")
        for p in problems:
            line = entry.example.splitlines()[p.lineno - 1]
            assert p.col_offset <= len(line), f"column {p.col_offset} beyond {line!r}"
            assert p.one_line().startswith(f"{p.filename}:{p.lineno}:{p.col_offset}: ")
    else:  # no source of its own: srcad points at the srcad.grad call (this file)
        assert e.filename == __file__ and e.lineno > 0, f"{e.filename}:{e.lineno}"


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.fix],
                         ids=[e.title for e in ENTRIES if e.fix])
def test_documented_fix_is_differentiable(entry, load):
    module, _ = load(entry.fix)
    if entry.fix_run is not None:
        result = run(entry.fix_run, module)
        leaves = srcad.trees.leaves(result)
        assert leaves and all(
            np.all(np.isfinite(np.asarray(v, dtype=float))) for v in leaves
            if not callable(v) and v is not None and not isinstance(v, str)
        ), result
        return
    g = srcad.grad(module.f)
    n = sum(1 for p in __import__("inspect").signature(module.f).parameters.values()
            if p.kind is p.POSITIONAL_OR_KEYWORD)
    try:  # a fix of a numpy example may index its argument: then it takes an array
        grads = g(*(0.7,) * n)
    except (TypeError, IndexError, AttributeError):
        grads = g(*(np.array([0.5, 1.5]),) * n)
    flat = grads if isinstance(grads, tuple) else (grads,)
    assert all(np.all(np.isfinite(np.asarray(v, dtype=float))) for v in flat), grads


# ---------------------------------------------------------------- the tables are documented


TABLE_ROWS = sorted(
    {(kind, node.__name__, msg, hint)
     for kind, table in (("statement", REFUSED_STATEMENTS), ("expression", REFUSED_EXPRESSIONS))
     for node, (msg, hint) in table.items()}
)


@pytest.mark.parametrize("kind, node, message, hint", TABLE_ROWS,
                         ids=[f"{k}-{n}" for k, n, _, _ in TABLE_ROWS])
def test_every_refusal_is_documented(kind, node, message, hint):
    assert message in DOC_TEXT, (
        f"srcad.subset refuses {kind} ast.{node} with {message!r}, but docs/errors.md does "
        "not document it: add a `### ...` entry with an example and the fix")
    assert hint in DOC_TEXT, f"the hint {hint!r} (ast.{node}) is not in docs/errors.md"


def test_every_documented_message_is_raised_by_an_example():
    """The other direction for the table: a refusal's message documented only in prose
    must at least exist in srcad (catches a renamed message left behind on the page)."""
    table_messages = {m for m, _ in (*REFUSED_STATEMENTS.values(), *REFUSED_EXPRESSIONS.values())}
    prose = re.findall(r"`` (.*?) ``", DOC_TEXT)
    for text in prose:
        if "cannot be differentiated" in text and text.startswith("`async"):
            assert text in table_messages, f"{text!r} is not a message srcad raises"


# ---------------------------------------------------------------- constructs of the issue


def _problems(source: str, load, *, make=srcad.grad):
    module, path = load(textwrap.dedent(source))
    with pytest.raises(srcad.SrcadError) as info:
        make(module.f)
    e = info.value
    for p in e.problems:
        assert Path(p.filename).resolve() == path.resolve(), f"{p.filename} is not {path}"
        assert p.lineno > 0 and p.col_offset >= 0
        assert " — " in p.one_line(), f"no hint: {p.one_line()}"
    return e, source


def _marked(source: str) -> list[int]:
    return [i + 1 for i, ln in enumerate(textwrap.dedent(source).splitlines())
            if ln.rstrip().endswith(MARKER)]


CONSTRUCTS = {
    # name: (module source, text the message must contain)
    "yield-statement": ("""\
        def f(x):
            yield x * 2.0  # <-- error
            return x
        """, "generators cannot be differentiated"),
    "yield-from-statement": ("""\
        def f(x):
            yield from (x, x)  # <-- error
            return x
        """, "generators cannot be differentiated"),
    "only-varargs": ("""\
        def f(*args):  # <-- error
            return args[0] * 2.0
        """, "`*args` parameters are not supported"),
    "for-over-generator-function": ("""\
        def gen(x):
            yield x
            yield 2.0 * x


        def f(x):
            s = 0.0
            for v in gen(x):  # <-- error
                s = s + v
            return s
        """, "generator"),
    "code-after-final-return": ("""\
        def f(x):
            return x * x
            x = x + 1.0  # <-- error
        """, "this code is never run"),
    "for-over-iter": ("""\
        def f(x):
            s = 0.0
            for v in iter((x, x)):  # <-- error
                s = s + v
            return s
        """, "srcad loops over range"),
    "lambda-called-inline": ("""\
        def f(x):
            return (lambda z: z * z)(x)  # <-- error
        """, "a lambda is supported assigned to a name"),
    "unknown-callee-in-helper": ("""\
        import math


        def helper(z):
            return math.ulp(z)  # <-- error


        def f(x):
            return helper(x) * x
        """, "math.ulp"),
}


@pytest.mark.parametrize("name", list(CONSTRUCTS))
def test_construct_refused_at_decoration(name, load):
    source, needle = CONSTRUCTS[name]
    for make in (srcad.grad, srcad.value_and_grad):
        e, _ = _problems(source, load, make=make)
        assert needle in str(e), f"{needle!r} not in:\n{e}"
        assert [p.lineno for p in e.problems] == _marked(source), str(e)


MULTI = {
    # several problems: every one reported, in source order, one line each
    "statements-and-expressions": """\
        import types

        NS = types.SimpleNamespace(a=0.0)


        def f(x, *rest):  # <-- error
            with open("x"):  # <-- error
                y = x
            NS.a = x  # <-- error
            z = x + (x := 2.0)  # <-- error
            d = {k for k in range(2)}  # <-- error
            x  # <-- error
            return x * x
        """,
    "syntax-and-unknown-callee": """\
        import math


        def f(x):
            with open("log.txt"):  # <-- error
                y = x
            return math.ulp(y)  # <-- error
        """,
    "two-unknown-callees": """\
        import math


        def f(x):
            a = math.ulp(x)  # <-- error
            b = math.nextafter(x, 2.0)  # <-- error
            return a + b
        """,
    "nested-function-problems": """\
        def f(x):
            def inner(z):
                del z.w  # <-- error
                return 1.0

            global G  # <-- error
            G = x
            return inner(x) * x
        """,
}


@pytest.mark.parametrize("name", list(MULTI))
def test_several_problems_in_one_error(name, load):
    source = MULTI[name]
    e, _ = _problems(source, load)
    lines = str(e).splitlines()
    assert len(lines) == len(e.problems), str(e)
    assert [p.lineno for p in e.problems] == _marked(source), (
        f"reported lines {[p.lineno for p in e.problems]}, expected {_marked(source)}:\n{e}")
    for p, line in zip(e.problems, lines, strict=True):
        assert isinstance(p, srcad.SrcadError)
        assert line == p.one_line()
    assert all(not p.others for p in e.problems[1:])


# ---------------------------------------------------------------- every error is listed

SRCAD = Path(srcad.__file__).resolve().parent
ERROR_CLASSES = {"SrcadError", "SourceError", "UnsupportedSyntaxError", "NoRuleError",
                 "CompiledBackendError",
                 "NonScalarOutputError", "WrtError", "ExportError"}
BUILTIN_CLASSES = {"ValueError", "TypeError", "IndexError", "KeyError", "RuntimeError",
                   "AssertionError", "NotImplementedError", "AttributeError", "OSError"}
#: methods that build an error from their argument: (file, method) -> (class, argument);
#: the lowerer's package (srcad/lower/) counts as one file
ERROR_HELPERS = {("lower/", "error"): ("UnsupportedSyntaxError", 2),
                 ("subset.py", "refuse"): ("UnsupportedSyntaxError", 1),
                 ("export.py", "error"): ("ExportError", 0)}
#: functions that pass on a message built elsewhere (checked where it is built)
FORWARDERS = {("lower/", "error"), ("subset.py", "refuse"), ("export.py", "error"),
              ("errors.py", "raise_all"), ("errors.py", "_rebuild"),
              ("subset.py", "check_other"), ("subset.py", "generic_visit"),  # the tables
              ("check.py", "check_grad"),  # its table of differences
              ("higher.py", "second_order_error"),  # grad's own message, passed on
              ("numba_backend.py", "_check_assertion")}  # the user's own assert
PLACEHOLDER = "…"


def _templates(expr: ast.expr, function: ast.FunctionDef | None) -> list[str] | None:
    """The texts a message expression can have, ``…`` for each value put into it;
    None when it is not built from literals here."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr.value]
    if isinstance(expr, ast.JoinedStr):
        texts = [""]
        for part in expr.values:
            piece = part.value if isinstance(part, ast.Constant) else PLACEHOLDER
            texts = [t + piece for t in texts]
        return texts
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        left, right = _templates(expr.left, function), _templates(expr.right, function)
        return None if left is None or right is None else [a + b for a in left for b in right]
    if isinstance(expr, ast.IfExp):
        body, orelse = _templates(expr.body, function), _templates(expr.orelse, function)
        return None if body is None or orelse is None else body + orelse
    if isinstance(expr, ast.Name) and function is not None:  # what = f"..." earlier
        found: list[str] = []
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == expr.id for t in node.targets
            ):
                more = _templates(node.value, function)
                if more is None:
                    return None
                found += more
        return found or None
    return None


def raised_in_source() -> tuple[set[tuple[str, str]], list[str]]:
    """Every (class, message) srcad's code raises, and the places that build a message
    from something other than literals outside :data:`FORWARDERS`."""
    found, unreadable = set(), []
    for path in sorted(SRCAD.rglob("*.py")):
        tree = ast.parse(path.read_text())
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

        def enclosing(node, parents=parents):
            while node in parents:
                node = parents[node]
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    return node
            return None

        # (the lowerer's parts, one module each, share its ``self.error``)
        place = "lower/" if path.parent.name == "lower" else path.name
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = getattr(func, "id", None) or getattr(func, "attr", None)
            if name in ERROR_CLASSES:
                kind, index = name, 0
            elif (place, name) in ERROR_HELPERS and isinstance(func, ast.Attribute):
                kind, index = ERROR_HELPERS[(place, name)]
            elif name in BUILTIN_CLASSES and isinstance(parents.get(node), ast.Raise):
                kind, index = name, 0
            else:
                continue
            function = enclosing(node)
            where = (place, function.name if function else "<module>")
            message = node.args[index] if len(node.args) > index else None
            texts = None
            if message is not None and not isinstance(message, ast.Starred):
                texts = _templates(message, function)
            if texts is None:
                if where not in FORWARDERS:
                    unreadable.append(f"{path.relative_to(SRCAD.parent)}:{node.lineno}")
                continue
            found.update((kind, text) for text in texts)
    for table in (REFUSED_STATEMENTS, REFUSED_EXPRESSIONS):
        found.update(("UnsupportedSyntaxError", message) for message, _ in table.values())
    return found, unreadable


def listed_in_doc() -> set[tuple[str, str]]:
    """The rows of the tables under "Every error srcad can raise"."""
    section = DOC_TEXT.split("## Every error srcad can raise", 1)[1]
    rows = re.findall(r"^\| `(\w+)` \| `` (.*?) `` \|", section, flags=re.M)
    return set(rows)


def test_every_error_srcad_raises_is_listed():
    found, unreadable = raised_in_source()
    assert not unreadable, (
        "these raise an error whose message is not written out where it is raised; make it "
        "a literal (or an f-string) there, or list the helper in FORWARDERS: "
        + ", ".join(unreadable))
    missing = sorted(found - listed_in_doc())
    assert not missing, (
        "docs/errors.md does not list these errors; add these rows to the tables under "
        "'Every error srcad can raise':\n"
        + "\n".join(f"| `{kind}` | `` {text} `` |" for kind, text in missing))


def test_every_listed_error_is_still_raised():
    found, _ = raised_in_source()
    stale = sorted(listed_in_doc() - found)
    assert not stale, "docs/errors.md lists errors srcad no longer raises:\n" + "\n".join(
        f"| `{kind}` | `` {text} `` |" for kind, text in stale)


def test_the_scan_finds_what_it_should():
    """The scan itself: a few errors known to exist, of each way they are built."""
    found, _ = raised_in_source()
    for expected in [
        ("WrtError", "… has no parameter named …"),  # a constructor, an f-string
        ("UnsupportedSyntaxError", "only one branch returns"),  # lower's self.error
        ("UnsupportedSyntaxError", "`async with` cannot be differentiated"),  # a table
        ("NoRuleError", "the operator `…` has no derivative rule"),  # what = ... earlier
        ("ExportError", "… is a closure srcad cannot rebuild"),  # export's self.error
        ("SourceError", "cannot read the source of …: …"),
        ("ValueError", "rule pattern calls an unknown function: …"),  # a builtin exception
    ]:
        assert expected in found, expected
