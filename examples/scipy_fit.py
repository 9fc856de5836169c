"""Fitting a logistic regression with SciPy, using srcad's gradient as ``jac``.

The data: N_SAMPLES points with N_FEATURES features, drawn with numpy from a fixed seed;
labels y in {-1, +1} from a known weight vector TRUE_W plus logistic noise. The model
is a linear score ``z = X @ w[:-1] + w[-1]``; the loss is the mean logistic loss plus a
small L2 penalty on the weights (not the bias):

    loss(w) = mean(log(1 + exp(-y * z))) + L2 / 2 * |w[:-1]|^2

``scipy.optimize.minimize`` passes ONE array argument (all parameters in one vector),
so ``loss`` takes that vector and reads the data from module globals (srcad reads
globals live, at each call). (``loss(w, X, y)`` with ``minimize(loss, w0, args=(X, y),
jac=srcad.grad(loss))`` works as well: srcad differentiates with respect to the first
parameter unless told otherwise.) Two fits, both BFGS from zero:

* ``jac=srcad.grad(loss)``: the generated gradient;
* no ``jac``: SciPy's default, forward differences (N_FEATURES + 2 loss calls per
  gradient).

Both reach the same optimum; with srcad's gradient the loss is evaluated far fewer times.

Run it:  python examples/scipy_fit.py        (needs SciPy: pip install -e ".[examples]")
"""

import numpy as np

import srcad

N_SAMPLES = 400
N_FEATURES = 8
L2 = 1e-2  # the L2 penalty on the weights (keeps the optimum unique and finite)
SEED = 0


def make_data(n_samples=N_SAMPLES, n_features=N_FEATURES, seed=SEED):
    """X (n_samples, n_features), y (n_samples,) in {-1, +1}, and the weights used."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    true_w = rng.normal(size=n_features)
    true_b = 0.5
    p = 1.0 / (1.0 + np.exp(-(X @ true_w + true_b)))
    y = np.where(rng.uniform(size=n_samples) < p, 1.0, -1.0)
    return X, y, np.append(true_w, true_b)


X, Y, TRUE_W = make_data()


def loss(w):
    """Mean logistic loss of the linear model (weights w[:-1], bias w[-1]) plus L2."""
    z = X @ w[:-1] + w[-1]
    margins = -Y * z
    data_term = np.mean(np.logaddexp(0.0, margins))
    weights = w[:-1]
    return data_term + 0.5 * L2 * np.sum(weights * weights)


loss_grad = srcad.grad(loss)


def fit(use_srcad=True):
    """BFGS from zero; returns SciPy's OptimizeResult."""
    from scipy.optimize import minimize

    x0 = np.zeros(N_FEATURES + 1)
    jac = loss_grad if use_srcad else None
    return minimize(loss, x0, jac=jac, method="BFGS", options={"gtol": 1e-8})


def main():
    print("the gradient srcad generated for loss (scipy calls it as jac):")
    print(loss_grad.backward_source)
    error = srcad.check_grad(loss, np.linspace(-1, 1, N_FEATURES + 1))
    print(f"check_grad(loss): max error vs central differences = {error:.2g}\n")

    with_srcad = fit(use_srcad=True)
    finite_diff = fit(use_srcad=False)
    print(f"{'':<26}{'loss':>14}{'nfev':>8}{'njev':>8}{'nit':>6}  success")
    for label, result in (("jac=srcad.grad(loss)", with_srcad),
                          ("finite differences", finite_diff)):
        print(f"{label:<26}{result.fun:>14.10f}{result.nfev:>8}{result.njev:>8}"
              f"{result.nit:>6}  {result.success}")
    gap = np.max(np.abs(with_srcad.x - finite_diff.x))
    print(f"\nfunction evaluations: {with_srcad.nfev} with srcad's gradient, "
          f"{finite_diff.nfev} with finite differences "
          f"({finite_diff.nfev / with_srcad.nfev:.1f}x as many)")
    print(f"same optimum: max |w_srcad - w_fd| = {gap:.1e}, "
          f"loss difference {abs(with_srcad.fun - finite_diff.fun):.1e}")
    print("fitted w:", np.array2string(with_srcad.x, precision=3))
    print("true w:  ", np.array2string(TRUE_W, precision=3))
    accuracy = np.mean(np.sign(X @ with_srcad.x[:-1] + with_srcad.x[-1]) == Y)
    print(f"training accuracy: {accuracy:.3f}")


if __name__ == "__main__":
    main()
