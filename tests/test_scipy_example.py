"""examples/scipy_fit.py: srcad's gradient as scipy.optimize.minimize's ``jac``.

Skipped without SciPy (it is an optional extra: ``pip install -e ".[examples]"``).
Checked: srcad's gradient agrees with central differences; BFGS with it needs fewer
loss evaluations than with SciPy's finite differences (at least 3x fewer: with
N_FEATURES + 1 = 9 parameters, a forward-difference gradient costs 10 loss calls);
both runs converge and reach the same optimum — weights within 1e-5 (both stop at
gtol=1e-8 on a strongly convex loss, whose minimiser is unique) and losses within 1e-9.
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("scipy.optimize")

import srcad  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WEIGHT_TOL = 1e-5
LOSS_TOL = 1e-9


@pytest.fixture(scope="module")
def example():
    name = "srcad_examples_scipy_fit"
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / "scipy_fit.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_gradient_matches_central_differences(example):
    w = np.linspace(-1.0, 1.0, example.N_FEATURES + 1)
    assert srcad.check_grad(example.loss, w) < 1e-7
    assert example.loss_grad(w).shape == w.shape


def test_fewer_evaluations_and_the_same_optimum(example):
    with_srcad = example.fit(use_srcad=True)
    finite_diff = example.fit(use_srcad=False)
    assert with_srcad.success and finite_diff.success
    assert with_srcad.nfev * 3 <= finite_diff.nfev, (with_srcad.nfev, finite_diff.nfev)
    np.testing.assert_allclose(with_srcad.x, finite_diff.x, rtol=0, atol=WEIGHT_TOL)
    assert abs(with_srcad.fun - finite_diff.fun) <= LOSS_TOL
    # the optimum is a stationary point of the loss srcad differentiates
    assert np.max(np.abs(example.loss_grad(with_srcad.x))) < 1e-6


def test_main_prints_both_counts(example, capsys):
    example.main()
    out = capsys.readouterr().out
    assert "jac=srcad.grad(loss)" in out and "finite differences" in out
    assert "same optimum" in out
