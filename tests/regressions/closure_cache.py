"""srcad bug: gradients are cached by code object, so closures share one gradient.

Not from the random programs: found while designing their determinism check.
``srcad.building.build`` keys its cache on ``f.__code__`` (plus wrt/mode/optimize), and
code objects compare *by value*. Every closure made by one factory has the same code
object, so ``grad(make(3.0))`` after ``grad(make(2.0))`` returns the first closure's
gradient, bound to the first closure's cells: 4.0 instead of 6.0 at x = 1, silently.
The same happens for two modules holding the same function text at the same line
with different globals (e.g. a module-level constant or a helper of the same name
with a different body): the second module's function gets the first one's gradient.

Status: fixed by 29d639b ("cache keyed by module and closure callables").
"""


def make(k):
    def f(x):
        return k * x * x

    return f


f_k2 = make(2.0)
f_k3 = make(3.0)  # checked after f_k2: gets f_k2's gradient (2 * 2.0 * x)

#: function name -> points (checked in this order, in one test)
POINTS = {
    "f_k2": [(1.0,), (-0.5,)],
    "f_k3": [(1.0,), (-0.5,)],
}
