"""Second-order fitting with SciPy: srcad's gradient, Hessian and Hessian-vector product.

A logistic regression with an L2 penalty, fitted by ``scipy.optimize.minimize`` five
ways from the same start:

* BFGS with ``jac=srcad.grad(loss)`` (first derivatives only);
* Newton-CG, trust-ncg and trust-krylov with ``hessp=srcad.hessp(loss)`` (a Hessian-
  vector product, reverse mode over srcad's generated forward mode: the Hessian is
  never formed);
* trust-exact with ``hess=srcad.hessian(loss)`` (the whole Hessian).

``loss(w, X, y)`` is ordinary numpy code; the data reach it through ``args=(X, y)``.
The second-order methods reach the optimum in a handful of iterations where BFGS needs
tens. The script prints the iterations, the loss and the distance to the BFGS optimum.

Run it:  python examples/newton_logistic.py        (needs SciPy)
"""

import numpy as np
from scipy.optimize import minimize

import srcad

N_SAMPLES = 500
N_FEATURES = 10
L2 = 1e-2
SEED = 1
#: minimize's tol (the gradient's size where a method stops). Much smaller and the
#: methods stop on the rounding noise of the loss (a mean of 500 terms), not on it.
TOL = 1e-7


def make_data(n_samples=N_SAMPLES, n_features=N_FEATURES, seed=SEED):
    """X (n_samples, n_features) with a column of ones for the bias, y in {0, 1}."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n_samples, n_features - 1))
    X = np.hstack([features, np.ones((n_samples, 1))])
    true_w = rng.normal(size=n_features)
    p = 1.0 / (1.0 + np.exp(-(X @ true_w)))
    y = (rng.uniform(size=n_samples) < p).astype(float)
    return X, y


def loss(w, X, y):
    """Mean logistic loss (stable form) plus L2 / 2 |w|^2."""
    z = X @ w
    data = np.mean(np.logaddexp(0.0, z) - y * z)
    return data + 0.5 * L2 * np.sum(w * w)


def fits(X, y):
    """{method: scipy's OptimizeResult}, every fit from zero with srcad's derivatives."""
    w0 = np.zeros(X.shape[1])
    jac, hessp, hess = srcad.grad(loss), srcad.hessp(loss), srcad.hessian(loss)
    results = {"BFGS": minimize(loss, w0, args=(X, y), jac=jac, method="BFGS", tol=TOL)}
    for method in ("Newton-CG", "trust-ncg", "trust-krylov"):
        results[method] = minimize(loss, w0, args=(X, y), jac=jac, hessp=hessp,
                                   method=method, tol=TOL)
    results["trust-exact"] = minimize(loss, w0, args=(X, y), jac=jac, hess=hess,
                                      method="trust-exact", tol=TOL)
    return results


def main():
    X, y = make_data()
    results = fits(X, y)
    reference = results["BFGS"].x
    print(f"{'method':14s} {'derivatives':22s} {'iterations':>10s} {'loss':>12s} "
          f"{'|w - w_BFGS|':>13s}")
    for method, result in results.items():
        given = ("jac" if method == "BFGS" else
                 "jac + hess (Hessian)" if method == "trust-exact" else "jac + hessp (H @ p)")
        print(f"{method:14s} {given:22s} {result.nit:10d} {result.fun:12.8f} "
              f"{np.max(np.abs(result.x - reference)):13.2e}")


if __name__ == "__main__":
    main()
