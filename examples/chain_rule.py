"""Chain-rule examples from a backpropagation tutorial, with the tutorial's numbers.

Simple example:   y = (x1 + x2) * x3 at (x1, x2, x3) = (4, 2, -5).
    Forward:  u = x1 + x2 = 6, y = u * x3 = -30.
    Backward: dy/dx1 = dy/dx2 = x3 = -5, dy/dx3 = u = 6.

Advanced example: the tutorial's node table
    u1 = x1 + x2,  u2 = x3 * x4,  u3 = u1 * u2,  u4 = u2 ** 2,  y = u3 * u4
at (x1, x2, x3, x4) = (-7, 2, 2, -1).
    Forward:  u1 = -5, u2 = -2, u3 = 10, u4 = 4, y = 40.
    Backward: dy/du3 = 4, dy/du4 = 10, dy/du1 = -8, dy/du2 = -20 + -40 = -60
              (u2 feeds two nodes, so its two gradients add up),
              dy/dx = (-8, -8, 60, -120).

NOTE on the tutorial's text: its formula line reads
    y = f(x1, x2, x3, x4, x5) = (x1 + x2) x3 (x4 x5)^2
with five inputs, but its node table, its input values (only x1..x4 are
given) and every number it computes are for the four-input graph above, which
is (x1 + x2) * (x3 * x4)**3 -- a different function.  ``advanced`` follows the
node table and reproduces the tutorial's numbers exactly; ``five_inputs`` is
the formula as written, checked against its closed-form gradient and central
differences instead (the tutorial gives no numbers for it).

Run it:  python examples/chain_rule.py
    or:  python -m srcad show examples/chain_rule.py:advanced
"""

import srcad

DEFAULT_POINT = {
    "simple": (4.0, 2.0, -5.0),
    "advanced": (-7.0, 2.0, 2.0, -1.0),
    "five_inputs": (-7.0, 2.0, 2.0, -1.0, 3.0),
}

# The tutorial's numbers (integers, so srcad's gradient must match them exactly).
SEED_SIMPLE = {"point": (4, 2, -5), "y": -30, "grad": (-5, -5, 6)}
SEED_ADVANCED = {"point": (-7, 2, 2, -1), "y": 40, "grad": (-8, -8, 60, -120)}


def simple(x1, x2, x3):
    """y = (x1 + x2) * x3, as the tutorial's two nodes."""
    u = x1 + x2
    y = u * x3
    return y


def advanced(x1, x2, x3, x4):
    """The tutorial's node table for its advanced example."""
    u1 = x1 + x2
    u2 = x3 * x4
    u3 = u1 * u2
    u4 = u2**2
    y = u3 * u4
    return y


def five_inputs(x1, x2, x3, x4, x5):
    """The tutorial's formula line as written: (x1 + x2) x3 (x4 x5)^2."""
    return (x1 + x2) * x3 * (x4 * x5) ** 2


def five_inputs_grad_closed_form(x1, x2, x3, x4, x5):
    """Gradient of ``five_inputs`` worked out by hand (s = x1 + x2, p = x4 x5)."""
    s = x1 + x2
    p = x4 * x5
    return (x3 * p**2, x3 * p**2, s * p**2, s * x3 * 2 * p * x5, s * x3 * 2 * p * x4)


def _fmt(values):
    return "(" + ", ".join(f"{v:g}" for v in values) + ")"


def main():
    for name, fn, seed in (("simple", simple, SEED_SIMPLE), ("advanced", advanced, SEED_ADVANCED)):
        point = DEFAULT_POINT[name]
        every = tuple(range(len(point)))  # all parameters (the default is the first)
        value, grads = srcad.value_and_grad(fn, wrt=every)(*point)
        print(f"{name}{_fmt(seed['point'])}")
        print(f"  srcad   : y = {value:g}  dy/dx = {_fmt(grads)}")
        print(f"  tutorial: y = {seed['y']:g}  dy/dx = {_fmt(seed['grad'])}")
        ok = value == seed["y"] and tuple(grads) == seed["grad"]
        print(f"  {'matches the tutorial exactly' if ok else 'DOES NOT MATCH the tutorial'}")

    point = DEFAULT_POINT["five_inputs"]
    value, grads = srcad.value_and_grad(five_inputs, wrt=(0, 1, 2, 3, 4))(*point)
    print(f"five_inputs{_fmt(point)}  (the formula as written; the tutorial has no numbers)")
    print(f"  srcad      : y = {value:g}  dy/dx = {_fmt(grads)}")
    print(
        f"  closed form: y = {five_inputs(*point):g}  "
        f"dy/dx = {_fmt(five_inputs_grad_closed_form(*point))}"
    )
    err = srcad.check_grad(five_inputs, *point)
    print(f"  check_grad: max error vs central differences = {err:.3g}")


if __name__ == "__main__":
    main()
