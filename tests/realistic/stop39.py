"""Realistic programs of stop 39's classes (round 59): a polynomial potential of 220
terms as a computer algebra system prints it, a drag table of 48 ``elif`` branches,
parameter dicts merged with ``|``, dicts made from pairs, loops over shared keys,
numpy keywords that change no derivative (``initial=``, ``dtype=float``, ``kind=``),
scipy.linalg's factorizations, reshapes in Fortran's order, ``:=`` in an ``if`` test,
and positions found with ``list.index``."""

import math

import numpy as np
import scipy.linalg
from _spec import Case


def surface_energy(x, y):
    """A fitted potential-energy surface, pasted from sympy's expand() (220 terms)."""
    return ((-0.58029751)*x**0*y**0 + (-0.02292042)*x**1*y**0 + (-0.00609879)*x**2*y**0 +
        (-0.0002088)*x**3*y**0 + 1.254e-05*x**4*y**0 + 2.92e-06*x**5*y**0 +
        (-4.9e-07)*x**6*y**0 + (-0.02878151)*x**0*y**1 + (-0.00643404)*x**1*y**1 +
        0.00062938*x**2*y**1 + (-4.12e-05)*x**3*y**1 + 7.66e-06*x**4*y**1 +
        (-8.5e-07)*x**5*y**1 + (-1e-07)*x**6*y**1 + (-0.00152297)*x**0*y**2 +
        (-0.00015565)*x**1*y**2 + 5.046e-05*x**2*y**2 + 7.35e-06*x**3*y**2 +
        3e-08*x**4*y**2 + (-4e-08)*x**5*y**2 + 0.0*x**6*y**2 + (-7.965e-05)*x**0*y**3 +
        (-4.85e-05)*x**1*y**3 + (-3.59e-06)*x**2*y**3 + (-1e-06)*x**3*y**3 +
        4e-08*x**4*y**3 + (-1e-08)*x**5*y**3 + -0.0*x**6*y**3 + 2.394e-05*x**0*y**4 +
        2.4e-06*x**1*y**4 + 2.4e-07*x**2*y**4 + 3e-08*x**3*y**4 + 1e-08*x**4*y**4 +
        0.0*x**5*y**4 + 0.0*x**6*y**4 + (-0.22508175)*x**0*y**0 + (-0.02978932)*x**1*y**0 +
        (-0.00728278)*x**2*y**0 + (-0.00013663)*x**3*y**0 + (-6.55e-05)*x**4*y**0 +
        8.68e-06*x**5*y**0 + 5.1e-07*x**6*y**0 + (-0.05289675)*x**0*y**1 +
        0.00383415*x**1*y**1 + 0.00039674*x**2*y**1 + (-8.017e-05)*x**3*y**1 +
        6.18e-06*x**4*y**1 + 4.7e-07*x**5*y**1 + (-1e-08)*x**6*y**1 + 0.00887764*x**0*y**2 +
        (-0.00082369)*x**1*y**2 + (-9.323e-05)*x**2*y**2 + 4.47e-06*x**3*y**2 +
        3.3e-07*x**4*y**2 + (-1e-07)*x**5*y**2 + 0.0*x**6*y**2 + 0.00018106*x**0*y**3 +
        (-2.429e-05)*x**1*y**3 + (-7.47e-06)*x**2*y**3 + 6.4e-07*x**3*y**3 +
        8e-08*x**4*y**3 + 0.0*x**5*y**3 + -0.0*x**6*y**3 + 8.34e-06*x**0*y**4 +
        2.93e-06*x**1*y**4 + 3e-08*x**2*y**4 + 6e-08*x**3*y**4 + (-1e-08)*x**4*y**4 +
        0.0*x**5*y**4 + 0.0*x**6*y**4 + (-0.73789204)*x**0*y**0 + (-0.08212485)*x**1*y**0 +
        0.0055612*x**2*y**0 + (-0.00033809)*x**3*y**0 + 7.998e-05*x**4*y**0 +
        8.63e-06*x**5*y**0 + (-4.4e-07)*x**6*y**0 + 0.04804429*x**0*y**1 +
        (-0.00564611)*x**1*y**1 + 2.18e-06*x**2*y**1 + (-6.212e-05)*x**3*y**1 +
        5.97e-06*x**4*y**1 + (-7.2e-07)*x**5*y**1 + 8e-08*x**6*y**1 +
        (-0.00276467)*x**0*y**2 + (-0.00042869)*x**1*y**2 + (-9.207e-05)*x**2*y**2 +
        (-5.78e-06)*x**3*y**2 + (-8.7e-07)*x**4*y**2 + (-6e-08)*x**5*y**2 +
        1e-08*x**6*y**2 + 0.00031073*x**0*y**3 + (-7.683e-05)*x**1*y**3 +
        (-7.87e-06)*x**2*y**3 + (-8e-08)*x**3*y**3 + 8e-08*x**4*y**3 + -0.0*x**5*y**3 +
        -0.0*x**6*y**3 + 3.313e-05*x**0*y**4 + (-7.49e-06)*x**1*y**4 +
        (-6.3e-07)*x**2*y**4 + 1e-08*x**3*y**4 + 1e-08*x**4*y**4 + -0.0*x**5*y**4 +
        -0.0*x**6*y**4 + 0.07326681*x**0*y**0 + 0.06024199*x**1*y**0 +
        (-0.00585494)*x**2*y**0 + (-0.00070084)*x**3*y**0 + (-2.7e-07)*x**4*y**0 +
        (-3.18e-06)*x**5*y**0 + (-7.1e-07)*x**6*y**0 + (-0.0575821)*x**0*y**1 +
        0.00727866*x**1*y**1 + (-0.00059582)*x**2*y**1 + (-3.211e-05)*x**3*y**1 +
        8.91e-06*x**4*y**1 + (-2.5e-07)*x**5*y**1 + 9e-08*x**6*y**1 + 0.00674524*x**0*y**2 +
        (-4.194e-05)*x**1*y**2 + (-7.69e-06)*x**2*y**2 + (-9.64e-06)*x**3*y**2 +
        (-2.2e-07)*x**4*y**2 + 0.0*x**5*y**2 + 1e-08*x**6*y**2 + (-0.00084676)*x**0*y**3 +
        6.488e-05*x**1*y**3 + 9.16e-06*x**2*y**3 + 7.7e-07*x**3*y**3 + 0.0*x**4*y**3 +
        0.0*x**5*y**3 + -0.0*x**6*y**3 + (-9.42e-05)*x**0*y**4 + (-1.74e-06)*x**1*y**4 +
        4.9e-07*x**2*y**4 + (-8e-08)*x**3*y**4 + -0.0*x**4*y**4 + -0.0*x**5*y**4 +
        -0.0*x**6*y**4 + 0.68220634*x**0*y**0 + (-0.09197558)*x**1*y**0 +
        0.00251413*x**2*y**0 + (-0.00045831)*x**3*y**0 + (-4.378e-05)*x**4*y**0 +
        8.77e-06*x**5*y**0 + (-1.1e-07)*x**6*y**0 + 0.01280518*x**0*y**1 +
        0.00788131*x**1*y**1 + 0.00031324*x**2*y**1 + (-7.395e-05)*x**3*y**1 +
        (-3.58e-06)*x**4*y**1 + 6.5e-07*x**5*y**1 + (-4e-08)*x**6*y**1 +
        (-0.00787801)*x**0*y**2 + (-0.00039918)*x**1*y**2 + (-4.368e-05)*x**2*y**2 +
        (-3.6e-07)*x**3*y**2 + (-7e-07)*x**4*y**2 + 7e-08*x**5*y**2 + 1e-08*x**6*y**2 +
        (-0.00059558)*x**0*y**3 + 6.36e-06*x**1*y**3 + (-5.4e-06)*x**2*y**3 +
        2.8e-07*x**3*y**3 + (-5e-08)*x**4*y**3 + (-1e-08)*x**5*y**3 + -0.0*x**6*y**3 +
        (-9.624e-05)*x**0*y**4 + (-4.15e-06)*x**1*y**4 + 4.4e-07*x**2*y**4 +
        -0.0*x**3*y**4 + -0.0*x**4*y**4 + -0.0*x**5*y**4 + 0.0*x**6*y**4 +
        0.86789228*x**0*y**0 + (-0.07250114)*x**1*y**0 + (-0.00286)*x**2*y**0 +
        (-0.0001092)*x**3*y**0 + (-3.118e-05)*x**4*y**0 + (-8.48e-06)*x**5*y**0 +
        4.9e-07*x**6*y**0 + 0.01406142*x**0*y**1 + (-0.00967105)*x**1*y**1 +
        (-0.00097933)*x**2*y**1 + 3.635e-05*x**3*y**1 + (-1.32e-06)*x**4*y**1 +
        (-2.6e-07)*x**5*y**1 + 7e-08*x**6*y**1 + (-0.00944534)*x**0*y**2 +
        0.00094787*x**1*y**2 + 8.019e-05*x**2*y**2 + (-2.2e-07)*x**3*y**2 +
        (-1.5e-07)*x**4*y**2 + (-7e-08)*x**5*y**2 + 0.0*x**6*y**2 + 0.00011568*x**0*y**3 +
        (-2.973e-05)*x**1*y**3 + 3.36e-06*x**2*y**3 + (-8.2e-07)*x**3*y**3 +
        (-3e-08)*x**4*y**3 + 1e-08*x**5*y**3 + -0.0*x**6*y**3 + 9.833e-05*x**0*y**4 +
        (-2.92e-06)*x**1*y**4 + 5.2e-07*x**2*y**4 + 7e-08*x**3*y**4 + (-1e-08)*x**4*y**4 +
        0.0*x**5*y**4 + -0.0*x**6*y**4 + (-0.45636245)*x**0*y**0 + (-0.00548127)*x**1*y**0 +
        (-0.00062908)*x**2*y**0 + 0.00091236*x**3*y**0 + (-7.111e-05)*x**4*y**0 +
        2.25e-06*x**5*y**0 + (-8.3e-07)*x**6*y**0 + (-0.08382915)*x**0*y**1 +
        (-0.00612826)*x**1*y**1 + 0.00028746*x**2*y**1)


def settling_velocity(diameter, viscosity):
    """A sphere's drag coefficient from a table of 48 ranges of the Reynolds number,
    then the terminal velocity it gives (one fixed-point step)."""
    reynolds = 1000.0 * 0.5 * diameter / viscosity
    log_re = math.log10(reynolds)
    if log_re < 1.0:
        cd = 24.000000 * (1.0 + 0.01 * log_re) + 0.4000
    elif log_re < 1.1:
        cd = 12.000000 * (1.0 + 0.01 * log_re) + 0.4020
    elif log_re < 1.2:
        cd = 8.000000 * (1.0 + 0.01 * log_re) + 0.4040
    elif log_re < 1.3:
        cd = 6.000000 * (1.0 + 0.01 * log_re) + 0.4060
    elif log_re < 1.4:
        cd = 4.800000 * (1.0 + 0.01 * log_re) + 0.4080
    elif log_re < 1.5:
        cd = 4.000000 * (1.0 + 0.01 * log_re) + 0.4100
    elif log_re < 1.6:
        cd = 3.428571 * (1.0 + 0.01 * log_re) + 0.4120
    elif log_re < 1.7:
        cd = 3.000000 * (1.0 + 0.01 * log_re) + 0.4140
    elif log_re < 1.8:
        cd = 2.666667 * (1.0 + 0.01 * log_re) + 0.4160
    elif log_re < 1.9:
        cd = 2.400000 * (1.0 + 0.01 * log_re) + 0.4180
    elif log_re < 2.0:
        cd = 2.181818 * (1.0 + 0.01 * log_re) + 0.4200
    elif log_re < 2.1:
        cd = 2.000000 * (1.0 + 0.01 * log_re) + 0.4220
    elif log_re < 2.2:
        cd = 1.846154 * (1.0 + 0.01 * log_re) + 0.4240
    elif log_re < 2.3:
        cd = 1.714286 * (1.0 + 0.01 * log_re) + 0.4260
    elif log_re < 2.4:
        cd = 1.600000 * (1.0 + 0.01 * log_re) + 0.4280
    elif log_re < 2.5:
        cd = 1.500000 * (1.0 + 0.01 * log_re) + 0.4300
    elif log_re < 2.6:
        cd = 1.411765 * (1.0 + 0.01 * log_re) + 0.4320
    elif log_re < 2.7:
        cd = 1.333333 * (1.0 + 0.01 * log_re) + 0.4340
    elif log_re < 2.8:
        cd = 1.263158 * (1.0 + 0.01 * log_re) + 0.4360
    elif log_re < 2.9:
        cd = 1.200000 * (1.0 + 0.01 * log_re) + 0.4380
    elif log_re < 3.0:
        cd = 1.142857 * (1.0 + 0.01 * log_re) + 0.4400
    elif log_re < 3.1:
        cd = 1.090909 * (1.0 + 0.01 * log_re) + 0.4420
    elif log_re < 3.2:
        cd = 1.043478 * (1.0 + 0.01 * log_re) + 0.4440
    elif log_re < 3.3:
        cd = 1.000000 * (1.0 + 0.01 * log_re) + 0.4460
    elif log_re < 3.4:
        cd = 0.960000 * (1.0 + 0.01 * log_re) + 0.4480
    elif log_re < 3.5:
        cd = 0.923077 * (1.0 + 0.01 * log_re) + 0.4500
    elif log_re < 3.6:
        cd = 0.888889 * (1.0 + 0.01 * log_re) + 0.4520
    elif log_re < 3.7:
        cd = 0.857143 * (1.0 + 0.01 * log_re) + 0.4540
    elif log_re < 3.8:
        cd = 0.827586 * (1.0 + 0.01 * log_re) + 0.4560
    elif log_re < 3.9:
        cd = 0.800000 * (1.0 + 0.01 * log_re) + 0.4580
    elif log_re < 4.0:
        cd = 0.774194 * (1.0 + 0.01 * log_re) + 0.4600
    elif log_re < 4.1:
        cd = 0.750000 * (1.0 + 0.01 * log_re) + 0.4620
    elif log_re < 4.2:
        cd = 0.727273 * (1.0 + 0.01 * log_re) + 0.4640
    elif log_re < 4.3:
        cd = 0.705882 * (1.0 + 0.01 * log_re) + 0.4660
    elif log_re < 4.4:
        cd = 0.685714 * (1.0 + 0.01 * log_re) + 0.4680
    elif log_re < 4.5:
        cd = 0.666667 * (1.0 + 0.01 * log_re) + 0.4700
    elif log_re < 4.6:
        cd = 0.648649 * (1.0 + 0.01 * log_re) + 0.4720
    elif log_re < 4.7:
        cd = 0.631579 * (1.0 + 0.01 * log_re) + 0.4740
    elif log_re < 4.8:
        cd = 0.615385 * (1.0 + 0.01 * log_re) + 0.4760
    elif log_re < 4.9:
        cd = 0.600000 * (1.0 + 0.01 * log_re) + 0.4780
    elif log_re < 5.0:
        cd = 0.585366 * (1.0 + 0.01 * log_re) + 0.4800
    elif log_re < 5.1:
        cd = 0.571429 * (1.0 + 0.01 * log_re) + 0.4820
    elif log_re < 5.2:
        cd = 0.558140 * (1.0 + 0.01 * log_re) + 0.4840
    elif log_re < 5.3:
        cd = 0.545455 * (1.0 + 0.01 * log_re) + 0.4860
    elif log_re < 5.4:
        cd = 0.533333 * (1.0 + 0.01 * log_re) + 0.4880
    elif log_re < 5.5:
        cd = 0.521739 * (1.0 + 0.01 * log_re) + 0.4900
    elif log_re < 5.6:
        cd = 0.510638 * (1.0 + 0.01 * log_re) + 0.4920
    elif log_re < 5.7:
        cd = 0.500000 * (1.0 + 0.01 * log_re) + 0.4940
    else:
        cd = 0.44 + 0.001 * log_re
    return math.sqrt(4.0 * 9.81 * diameter * 1.5 / (3.0 * cd))


def autoencoder_loss(enc, dec, X):
    """Encoder and decoder parameters kept apart, merged for the forward pass."""
    params = enc | dec
    h = np.tanh(X @ params["W_in"] + params["b"])
    out = h @ params["W_out"]
    return np.mean((out - X) ** 2) + 1e-3 * sum(np.sum(w * w) for w in params.values())


def finetune_loss(base, delta, x):
    """A model fine-tuned by overriding some of its parameters (d |= delta)."""
    params = dict(base)
    params |= delta
    return np.sum(np.tanh(params["W"] @ x) * params["v"])


def kernel_marginal(log_params, y):
    """A Gaussian process marginal likelihood whose hyperparameters come from pairs,
    factorized with scipy.linalg.cholesky (the lower factor)."""
    hp = dict([("scale", math.exp(log_params[0])), ("length", math.exp(log_params[1]))])
    t = np.linspace(0.0, 1.0, len(y))
    K = hp["scale"] * np.exp(-0.5 * (t[:, None] - t[None, :]) ** 2 / hp["length"] ** 2)
    L = scipy.linalg.cholesky(K + 0.1 * np.eye(len(y)), lower=True)
    alpha = scipy.linalg.solve_triangular(L, y, lower=True)
    return 0.5 * alpha @ alpha + np.sum(np.log(np.diag(L)))


def anchored_penalty(params, anchor):
    """An L2 pull towards pretrained values, for the parameters both dicts have."""
    total = 0.0
    for k in params.keys() & anchor.keys():
        total += np.sum((params[k] - anchor[k]) ** 2)
    return total + 0.1 * sum(np.sum(params[k] ** 2) for k in params.keys() - anchor.keys())


def soft_edit_cost(x, gamma):
    """A soft dynamic-programming alignment cost whose first row is np.arange(dtype=float)."""
    target = np.array([0.2, 0.5, 0.9])
    prev = np.arange(len(target) + 1, dtype=float)
    for i in range(len(x)):
        row = np.full(len(target) + 1, float(i + 1))
        for j in range(len(target)):
            costs = np.array([prev[j] + (x[i] - target[j]) ** 2, prev[j + 1] + 1.0,
                              row[j] + 1.0])
            row[j + 1] = -gamma * np.log(np.sum(np.exp(-costs / gamma)))
        prev = row
    return prev[-1]


def ranked_features(x):
    """Cumulative features in float64, a sorted (stable) profile, and a sum with an
    initial value."""
    profile = np.sort(x * x, kind="stable")
    running = np.cumsum(x, dtype=np.float64)
    return np.sum(running ** 2, initial=1.0) + profile @ np.arange(len(x), dtype=float) + np.prod(
        np.cos(x), initial=2.0)


def principal_energy(A):
    """The energy in the top principal direction, from scipy.linalg.eigh."""
    C = A.T @ A / len(A)
    w, v = scipy.linalg.eigh(C)
    return w[-1] + np.sum(v[:, -1] ** 4)


def matlab_ported_fit(theta, X, y):
    """A fit ported from MATLAB: the parameter vector read column by column."""
    W = theta.reshape(3, 2, order="F")
    flat = W.flatten("F")
    return np.sum((X @ W - y) ** 2) + 0.01 * flat @ flat


def mean_or_prior(obs, prior):
    """The posterior mean of observations, or the prior when there are none: `:=` in the
    test."""
    if (n := len(obs)) > 0:
        return (sum(obs) + prior) / (n + 1)
    return prior


def top_position_weighted(scores):
    """A score weighted by the position of the best one, found with list.index."""
    values = [s * s for s in scores]
    best = max(values)
    position = values.index(best)
    return best * (position + 1) + values.count(best) * values[0]


_X6 = np.linspace(-1.0, 1.0, 12).reshape(6, 2)

CASES = [
    Case("surface_energy", surface_energy,
         lambda rng: (rng.uniform(-0.8, 0.8), rng.uniform(-0.8, 0.8)), wrt=(0, 1)),
    Case("settling_velocity", settling_velocity,
         lambda rng: (rng.uniform(0.001, 0.01), rng.uniform(0.5, 1.5)), wrt=(0, 1)),
    Case("autoencoder_loss", autoencoder_loss,
         lambda rng: ({"W_in": rng.normal(size=(2, 3)), "b": rng.normal(size=3)},
                      {"W_out": rng.normal(size=(3, 2))}, _X6), wrt=(0, 1)),
    Case("finetune_loss", finetune_loss,
         lambda rng: ({"W": rng.normal(size=(3, 2)), "v": rng.normal(size=3)},
                      {"v": rng.normal(size=3)}, np.array([0.5, -1.0])), wrt=(0, 1)),
    Case("kernel_marginal", kernel_marginal,
         lambda rng: ([rng.uniform(-0.5, 0.5), rng.uniform(-1.0, 0.0)], rng.normal(size=5)),
         wrt=(0,)),
    Case("anchored_penalty", anchored_penalty,
         lambda rng: ({"w": rng.normal(size=2), "b": rng.normal(size=1)},
                      {"w": rng.normal(size=2), "extra": rng.normal(size=1)}), wrt=(0,)),
    Case("soft_edit_cost", soft_edit_cost,
         lambda rng: (rng.uniform(0.0, 1.0, size=4), rng.uniform(0.3, 0.7)), wrt=(0, 1)),
    Case("ranked_features", ranked_features,
         lambda rng: (rng.normal(size=5),), wrt=(0,)),
    Case("principal_energy", principal_energy,
         lambda rng: (rng.normal(size=(8, 3)),), wrt=(0,)),
    Case("matlab_ported_fit", matlab_ported_fit,
         lambda rng: (rng.normal(size=6), rng.normal(size=(5, 3)),
                      rng.normal(size=(5, 2))), wrt=(0,)),
    Case("mean_or_prior", mean_or_prior,
         lambda rng: (list(rng.normal(size=4)), rng.uniform(-1.0, 1.0)), wrt=(0, 1)),
    Case("top_position_weighted", top_position_weighted,
         lambda rng: (list(rng.uniform(0.5, 2.0, size=4)),), wrt=(0,)),
]
