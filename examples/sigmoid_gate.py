"""The sigmoid-gate example: f(x, y) = (x + sigma(y)) / (sigma(x) + (x + y)**2).

This is the classic worked example of backpropagation (cs231n's "staged
computation" example, evaluated at x = 3, y = -4).  The seed text writes the
forward pass as an 8-line listing of named intermediate values and then the
backward pass by hand, one gate at a time.

This file holds three versions of the same function:

* ``f``              -- the seed's 8-line forward listing, same variable names;
* ``f_expr``         -- the same function as one nested expression, using a
                        module-level helper ``sigmoid`` that srcad reads and
                        differentiates through;
* ``f_grad_by_hand`` -- the seed's hand-written forward + backward pass, copied
                        faithfully (including its ``(1) *`` multiplications).
                        It is the reference for the tests and the benchmark.

Run it:  python examples/sigmoid_gate.py
    or:  python -m srcad show examples/sigmoid_gate.py:f
"""

from math import exp

import srcad

# The point the CLI (`python -m srcad show examples/sigmoid_gate.py:NAME`) uses.
DEFAULT_POINT = {
    "f": (3.0, -4.0),
    "f_expr": (3.0, -4.0),
    "sigmoid": (0.5,),
}


def f(x, y):
    """The seed's forward pass, line for line (the numbers are the seed's)."""
    sigy = 1.0 / (1 + exp(-y))  # (1) sigmoid in the numerator
    num = x + sigy  # (2) numerator
    sigx = 1.0 / (1 + exp(-x))  # (3) sigmoid in the denominator
    xpy = x + y  # (4)
    xpysqr = xpy**2  # (5)
    den = sigx + xpysqr  # (6) denominator
    invden = 1.0 / den  # (7)
    f = num * invden  # (8)
    return f


def sigmoid(z):
    """The logistic function 1 / (1 + e^-z)."""
    return 1.0 / (1 + exp(-z))


def f_expr(x, y):
    """The same function written as one expression."""
    return (x + sigmoid(y)) / (sigmoid(x) + (x + y) ** 2)


def f_grad_by_hand(x, y):
    """The seed's hand-written forward and backward pass; returns (df/dx, df/dy)."""
    # forward pass (stores the eight values the backward pass needs)
    sigy = 1.0 / (1 + exp(-y))  # (1)
    num = x + sigy  # (2)
    sigx = 1.0 / (1 + exp(-x))  # (3)
    xpy = x + y  # (4)
    xpysqr = xpy**2  # (5)
    den = sigx + xpysqr  # (6)
    invden = 1.0 / den  # (7)
    f = num * invden  # (8)  # noqa: F841 -- the seed computes it; the gradient does not need it

    # backward pass, gate by gate, exactly as the seed writes it
    # gradient at the top
    df = 1.0  # noqa: F841 -- the seed's df; its later lines multiply by a literal 1.0
    # backprop f = num * invden
    dnum = 1.0 * invden  # (8) gradient on numerator
    dinvden = 1.0 * num  # (8)
    # backprop invden = 1.0 / den
    dden = (-1.0 / (den**2)) * dinvden  # (7)
    # backprop den = sigx + xpysqr
    dsigx = (1) * dden  # (6)
    dxpysqr = (1) * dden  # (6)
    # backprop xpysqr = xpy**2
    dxpy = (2 * xpy) * dxpysqr  # (5)
    # backprop xpy = x + y
    dx = (1) * dxpy  # (4)
    dy = (1) * dxpy  # (4)
    # backprop sigx = 1.0 / (1 + exp(-x))
    dx += ((1 - sigx) * sigx) * dsigx  # (3)  the seed's "ATTENTION !!": += accumulates
    # backprop num = x + sigy
    dx += (1) * dnum  # (2)
    dsigy = (1) * dnum  # (2)
    # backprop sigy = 1.0 / (1 + exp(-y))
    dy += ((1 - sigy) * sigy) * dsigy  # (1)
    return dx, dy


def _row(label, value, grad):
    return f"{label:<22}" + "".join(f"{v:>24.17g}" for v in (value, *grad))


def main():
    x, y = DEFAULT_POINT["f"]

    print("=== f: the seed's 8-line listing ===")
    srcad.show(f, wrt=("x", "y"))
    print()
    print("=== f_expr: one expression through the helper sigmoid(z) ===")
    srcad.show(f_expr, wrt=("x", "y"))
    print()

    print(f"point (x, y) = ({x!r}, {y!r})")
    print(f"{'':<22}" + "".join(f"{h:>24}" for h in ("f(x, y)", "df/dx", "df/dy")))
    print(_row("by hand (seed)", f(x, y), f_grad_by_hand(x, y)))
    for name, fn in (("f", f), ("f_expr", f_expr)):
        value, grads = srcad.value_and_grad(fn, wrt=("x", "y"))(x, y)
        print(_row(f"srcad grad({name})", value, grads))
    for name, fn in (("f", f), ("f_expr", f_expr)):
        err = srcad.check_grad(fn, x, y)
        print(f"check_grad({name}): max error vs central differences = {err:.3g}")


if __name__ == "__main__":
    main()
