"""Generate docs/derivative-table.md from srcad's rules table (``srcad.rules.TABLE``).

    python docs/tools/gen_derivative_table.py            # print the page
    python docs/tools/gen_derivative_table.py --write    # write docs/derivative-table.md
    python docs/tools/gen_derivative_table.py --check    # exit 1 if the checked-in page is stale

The page lists every built-in rule, grouped by family: its forward pattern and, for each
parameter, the adjoint template srcad pastes into generated gradients, rendered back to
source with ``srcad.emit.expression``. tests/test_docs.py fails when the checked-in page
differs from this script's output, so edit the rules, then run ``--write``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import statistics  # noqa: E402, F401  (its rules are loaded once it is imported)

import srcad  # noqa: E402  (after the path fix, so the checkout's srcad is used)

try:  # srcad loads its SciPy rules once SciPy's modules are imported: list them too
    import scipy.integrate  # noqa: E402, F401
    import scipy.linalg  # noqa: E402, F401
    import scipy.ndimage  # noqa: E402, F401
    import scipy.optimize  # noqa: E402, F401
    import scipy.spatial.distance  # noqa: E402, F401
    import scipy.special  # noqa: E402, F401
    import scipy.stats  # noqa: E402, F401
except ImportError:  # pragma: no cover - the page is generated with SciPy installed
    pass
from srcad import emit, ir  # noqa: E402
from srcad.rules import TABLE  # noqa: E402
from srcad.rules.table import ADDITEM, COPY, SETITEM, Scatter, Zeroed, pack_rule  # noqa: E402

PAGE = ROOT / "docs" / "derivative-table.md"

#: Families, in the order the page shows them: (title, description).
FAMILIES = {
    "operators": ("Python operators",
                  "Arithmetic on numbers and numpy arrays alike. With numpy broadcasting, "
                  "each operand's adjoint is summed back to its shape (`unbroadcast`)."),
    "math": ("`math` functions", "Elementwise functions of Python floats."),
    "builtins": ("Builtins", "`abs`, `max`, `min`, `float` and the counting builtins."),
    "statistics": ("The `statistics` module",
                   "Its functions compute with exact fractions, so srcad does not read "
                   "them: each is a rule whose value is the module's own "
                   "(`statistic_grad` gives each item its slope: `1 / n` for the mean, "
                   "`2 (x_i - mean) / (n - 1)` for the variance, the middle items for the "
                   "median). Calls with options (`xbar=`, `mu=`) have no rule."),
    "indexing": ("Indexing", "Reading one item of a tuple, list or array."),
    "np_elementwise": ("numpy elementwise functions",
                       "The twins of the `math` functions (on scalars and arrays), and "
                       "numpy's binary ufuncs with broadcasting."),
    "np_select": ("numpy selection", "`np.where`, `np.clip`, `np.sign`."),
    "np_linalg": ("numpy linear algebra",
                  "`matmul_left`/`matmul_right` handle 1-D and 2-D operands. `np.einsum` "
                  "takes any subscripts; `np.linalg` adjoints use solves where an inverse "
                  "would only be multiplied; `cholesky` and `eigh` read one triangle of "
                  "their argument, and their gradient lies on that triangle. Where two "
                  "eigenvalues (singular values) are equal and the function reads their "
                  "vectors, the gradient through `eigh` and `svd` is NaN: the derivative "
                  "there is a limit the adjoint of the vectors cannot see (JAX gives NaN "
                  "too); through `eigvalsh` and the values alone the gradient is defined "
                  "(its second derivative is NaN there too)."),
    "np_reductions": ("numpy reductions",
                      "`sum_grad`/`mean_grad` spread `g` back over the reduced axes; "
                      "`extremum_grad` sends it to the arg-max (shared on ties)."),
    "np_stats": ("numpy statistics, scans and sorting",
                 "Variance and standard deviation (with `ddof`, `axis`, `keepdims`), "
                 "cumulative sums and products (exact through zeros), differences, sorting "
                 "(the gradient goes back through the permutation)."),
    "np_restructure": ("numpy diagonals, padding and repeating",
                       "Each item of `g` goes back to the input item it copies; "
                       "`np.diagonal`'s view is read-only, as in numpy."),
    "np_shapes": ("numpy shapes and copies", "The adjoint is `g` in the input's shape."),
    "np_join": ("numpy joining", "The adjoint cuts `g` back into the parts."),
    "np_none": ("numpy: no gradient",
                "Constructors, shapes, arg-max and rounding are piecewise constant (or do "
                "not depend on the values at all): no gradient flows through them."),
    "scipy": ("SciPy",
              "`scipy.special`, `scipy.linalg`, the filters of `scipy.ndimage`, the "
              "root finders of `scipy.optimize` (the implicit derivative of the root "
              "in `args`: `brentq` and its kin, `newton`, `root_scalar`, `fsolve`, `root`; "
              "`minimize_scalar`'s minimizer as that of `f'(x) = 0`), the integrators of a function of `scipy.integrate` (`quad` by "
              "Leibniz's rule, `odeint` and `solve_ivp` by forward sensitivities) and the "
              "distributions of `scipy.stats` "
              "(methods of its distribution objects: `norm.logpdf(x, mu, sigma)`; a frozen "
              "one's, `norm(mu, sigma).logpdf(x)`, are these with its arguments after the "
              "method's), loaded once a program imports that module (srcad does not import "
              "SciPy itself)."),
    "random": ("Random draws",
               "A draw whose distribution a differentiated value sets is differentiated "
               "along its path: numpy's `rng.normal(loc, scale)` is `loc + scale * z` for "
               "the standard draw `z` the generator's state gives (read back from the "
               "draw), so at a fixed seed the derivative is the one central differences "
               "measure (the reparameterization gradient). A parameter that decides which "
               "numbers are drawn (`gamma`'s shape) is refused. `x` is a Generator or a "
               "RandomState (checked when the gradient runs)."),
    "srcad": ("srcad's own functions",
              "`srcad.stop_gradient` cuts the gradient; `zeros_like` makes the zero tangents "
              "of forward mode; `divide` and `digamma`, which templates call, have rules so "
              "that second derivatives go through them."),
    "other": ("Other rules", "Rules registered with `srcad.defrule` before this page was made."),
}

REDUCTIONS = {"sum", "mean", "max", "min", "amax", "amin", "prod"}
LINALG = {"matmul", "dot", "inner", "outer", "norm", "einsum", "solve", "inv", "det",
          "slogdet", "cholesky", "eigh", "eigvalsh", "qr"}
STATS = {"var", "std", "cumsum", "cumprod", "diff", "sort", "take_along_axis"}
RESTRUCTURE = {"trace", "diagonal", "diag", "triu", "tril", "pad", "tile", "repeat"}
SHAPES = {"T", "transpose", "reshape", "squeeze", "expand_dims", "ravel", "flatten",
          "atleast_1d", "atleast_2d", "array", "asarray", "copy", "astype", "swapaxes",
          "moveaxis"}
JOINS = {"concatenate", "stack", "hstack", "vstack"}
SELECT = {"where", "clip", "sign"}
BUILTINS = {"abs", "max", "min", "float", "len", "int", "round", "bool", "range", "sign", "list"}


def root_name(pattern: ir.Expr) -> str | None:
    """``np.sum(x)`` -> ``sum``, ``x.T`` -> ``T``, ``abs(x)`` -> ``abs``."""
    if isinstance(pattern, ir.Call):
        pattern = pattern.func
    if isinstance(pattern, ir.Attr):
        return pattern.attr
    if isinstance(pattern, ir.Name):
        return pattern.id
    return None


def family(rule) -> str:
    pattern, env = rule.pattern, rule.env
    if isinstance(pattern, ir.BinOp) and pattern.op == "@":
        return "np_linalg"
    if isinstance(pattern, ir.BinOp | ir.UnaryOp | ir.Compare):
        return "operators"
    if isinstance(pattern, ir.Subscript):
        return "indexing"
    if "statistic_grad" in env:
        return "statistics"
    if "numpy_draw" in env:
        return "random"
    if "math" in env:
        return "math"
    if "scipy" in env:
        return "scipy"
    name = root_name(pattern)
    called = env.get(name) if isinstance(pattern, ir.Call) else None
    if name not in BUILTINS and getattr(called, "__module__", "").startswith("srcad."):
        return "srcad"
    is_numpy = "np" in env or isinstance(pattern, ir.Attr) or (
        isinstance(pattern, ir.Call) and isinstance(pattern.func, ir.Attr)
        and isinstance(pattern.func.value, ir.Name) and pattern.func.value.id in rule.params)
    if not is_numpy:
        return "builtins" if name in BUILTINS and set(env) <= BUILTINS else "other"
    if all(a is None for a in rule.adjoints) and name not in SELECT:
        return "np_none"
    for names, key in ((LINALG, "np_linalg"), (REDUCTIONS, "np_reductions"),
                       (STATS, "np_stats"), (RESTRUCTURE, "np_restructure"),
                       (SHAPES, "np_shapes"), (JOINS, "np_join"), (SELECT, "np_select")):
        if name in names:
            return key
    return "np_elementwise" if rule.elementwise else "other"


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def adjoint_text(rule, param: str) -> str:
    adjoint = rule.adjoint_for(param)
    if adjoint is None:
        return "—"
    if isinstance(adjoint, Scatter):
        return f"`d{param}[{adjoint.index}] += g`"
    if isinstance(adjoint, Zeroed):
        return f"`d{param}[{adjoint.index}] = 0` (overwritten items get nothing)"
    return f"`{cell(emit.expression(adjoint))}`"


def flags(rule) -> str:
    names = [flag for flag in ("elementwise", "broadcasting", "linear", "creates")
             if getattr(rule, flag)]
    if rule.tangents:
        names.append("tangents")
    return ", ".join(names)


def row(rule, pattern: str | None = None) -> str:
    pattern = pattern or f"`{cell(emit.expression(rule.pattern))}`"
    if rule.name != emit.expression(rule.pattern) and not pattern.endswith(")*"):
        pattern += f" *({cell(rule.name)})*"
    parts = [f"`{p}`: {adjoint_text(rule, p)}" for p in rule.params
             if rule.adjoint_for(p) is not None]
    adjoints = "<br>".join(parts) if parts else "no gradient"
    return f"| {pattern} | {adjoints} | {flags(rule)} |"


def page() -> str:
    groups: dict[str, list] = {key: [] for key in FAMILIES}
    for rule in TABLE:
        groups[family(rule)].append(rule)
    count = sum(len(rules) for rules in groups.values())
    lines = [
        "# Derivative table",
        "",
        "<!-- generated by docs/tools/gen_derivative_table.py from srcad.rules.TABLE; "
        "do not edit by hand (tests/test_docs.py checks it is current) -->",
        "",
        f"srcad {srcad.__version__} knows {count} rules. Each pairs a forward **pattern** "
        "(Python source over named parameters) with one adjoint **template** per parameter: "
        "Python source over the parameters, `g` (the gradient arriving at the result) and "
        "`ans` (the forward result). srcad pastes the template into the generated gradient "
        "(`dx += <template>`), so the table below is literally what generated code says. "
        "A parameter without a template gets no gradient (shown as *no gradient* when "
        "none of them has one). See [custom-rules.md](custom-rules.md) to add your own.",
        "",
        "Flags: *elementwise* maps scalars to a scalar (the rule also serves forward mode); "
        "*broadcasting* sums each adjoint back to its operand's shape; *linear* means forward "
        "mode reuses the pattern on the tangent; *creates* returns a new array the function "
        "may write into; *tangents* has explicit forward-mode templates.",
        "",
        "Families: " + ", ".join(f"[{FAMILIES[k][0]}](#{anchor(FAMILIES[k][0])})"
                                 for k in FAMILIES if groups[k]) + ", "
        "[structural rules](#structural-rules).",
        "",
    ]
    for key, (title, description) in FAMILIES.items():
        rules = groups[key]
        if not rules:
            continue
        lines += [f"## {title}", "", description, "",
                  "| pattern | adjoint templates | flags |", "|---|---|---|"]
        rows = [row(rule) for rule in rules]  # (a rule of two callees, one row: the
        lines += list(dict.fromkeys(rows))  # slope for floats beside power_slope's)
        lines.append("")
    lines += [
        "## Structural rules",
        "",
        "Built into the reverse pass rather than matched by pattern: copies (the phi "
        "assignments at the end of branches and loop bodies), tuple packing, and writes "
        "into arrays the function made.",
        "",
        "| forward line | adjoint templates | flags |",
        "|---|---|---|",
        row(COPY, "`a = x` *(copy)*"),
        row(pack_rule(2), "`t = (x0, x1)` *(tuple of n)*"),
        row(SETITEM, "`x[i] = v` *(item assignment)*"),
        row(ADDITEM, "`x[i] += v` *(item update)*"),
        "",
    ]
    return "\n".join(lines)


def anchor(title: str) -> str:
    text = "".join(c for c in title.lower() if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {PAGE.relative_to(ROOT)}")
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is stale")
    args = parser.parse_args(argv)
    text = page()
    if args.write:
        PAGE.write_text(text)
        print(f"wrote {PAGE.relative_to(ROOT)}", file=sys.stderr)
    elif args.check:
        current = PAGE.read_text() if PAGE.exists() else ""
        if current != text:
            print(f"{PAGE.relative_to(ROOT)} is stale: run python "
                  "docs/tools/gen_derivative_table.py --write", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
