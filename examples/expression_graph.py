"""A compute-graph example: f(x, y) = 1 + x + exp(sin(x * y)).

The source text uses this function to contrast symbolic differentiation with
automatic differentiation.  Its hand-derived (symbolic) partial derivatives are

    df/dx = 1 + exp(sin(x y)) cos(x y) y
    df/dy =     exp(sin(x y)) cos(x y) x

and serve here as an independent cross-check of srcad's generated gradient.

Three spellings of the same function exercise three ways of naming the math:

* ``f``       -- one expression with ``math.exp`` / ``math.sin`` attributes;
* ``f_nodes`` -- the compute graph's nodes, one per line, using
                 ``from math import ...`` names;
* ``f_numpy`` -- ``np.exp`` / ``np.sin`` on scalars (numpy's scalar twins).

Run it:  python examples/expression_graph.py
    or:  python -m srcad show examples/expression_graph.py:f
"""

import math
from math import cos, exp, sin

import numpy as np

import srcad

DEFAULT_POINT = {
    "f": (1.5, -0.5),
    "f_nodes": (1.5, -0.5),
    "f_numpy": (1.5, -0.5),
}


def f(x, y):
    return 1 + x + math.exp(math.sin(x * y))


def f_nodes(x, y):
    v1 = x * y
    v2 = sin(v1)
    v3 = exp(v2)
    v4 = 1 + x
    out = v4 + v3
    return out


def f_numpy(x, y):
    return 1 + x + np.exp(np.sin(x * y))


def f_grad_symbolic(x, y):
    """The source's hand-derived partial derivatives, (df/dx, df/dy)."""
    dx = 1 + exp(sin(x * y)) * cos(x * y) * y
    dy = exp(sin(x * y)) * cos(x * y) * x
    return dx, dy


def _row(label, values):
    return f"{label:<24}" + "".join(f"{float(v):>24.17g}" for v in values)


def main():
    x, y = DEFAULT_POINT["f"]
    srcad.show(f_nodes, wrt=("x", "y"))
    print()
    print(f"point (x, y) = ({x!r}, {y!r})")
    print(f"{'':<24}" + "".join(f"{h:>24}" for h in ("df/dx", "df/dy")))
    print(_row("symbolic (by hand)", f_grad_symbolic(x, y)))
    for name, fn in (("f", f), ("f_nodes", f_nodes), ("f_numpy", f_numpy)):
        print(_row(f"srcad grad({name})", srcad.grad(fn, wrt=("x", "y"))(x, y)))
    for name, fn in (("f", f), ("f_nodes", f_nodes), ("f_numpy", f_numpy)):
        err = srcad.check_grad(fn, x, y)
        print(f"check_grad({name}): max error vs central differences = {err:.3g}")


if __name__ == "__main__":
    main()
